//! Wake-ups from interrupt context: the SysTick handler signals a task
//! through Notify, Event and StaticChannel, 10,000 times each, and the task
//! counts them. The protocol makes the count exact:
//!
//! * Notify and Event: the handler sends the next signal only once the task
//!   has acknowledged the previous one, so no two signals can merge into
//!   one stored permit (Notify) or one set flag (Event). A lost wake-up
//!   leaves the task asleep and stops the acknowledgements.
//! * StaticChannel: the handler `try_send`s the next sequence number on
//!   every tick and counts only the sends that succeeded; the task checks
//!   that it receives every number once, in order.
//!
//! A watchdog in the handler turns a lost wake-up into a failure instead of
//! a hang: if the task makes no progress for `STALL_TICKS` ticks while a
//! signal is outstanding, the handler panics.
//!
//! SysTick is used because all three emulated chips have it. (QEMU's
//! micro:bit model provides one; the nRF51 chip itself does not implement
//! the optional SysTick, so on that hardware a TIMER interrupt would play
//! this part.)

use core::pin::pin;

use anysync::{
    channel::{StaticChannel, TrySendError},
    sync::{Event, Notify},
};
use cortex_m::peripheral::{syst::SystClkSource, SYST};
use cortex_m_rt::exception;
use cortex_m_semihosting::hprintln;
use portable_atomic::{AtomicU32, AtomicU8, Ordering};

use crate::harness::{poll_once, run, until};

/// Signals per scenario.
const SIGNALS: u32 = 10_000;

/// Ticks without progress after which the handler declares a lost wake-up.
const STALL_TICKS: u32 = 20_000;

/// SysTick reload value: a tick every this many CPU cycles.
const TICK_CYCLES: u32 = 2_000;

/// Which scenario the handler is serving.
#[derive(Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
enum Mode {
    Idle = 0,
    Notify = 1,
    Event = 2,
    Channel = 3,
}

static MODE: AtomicU8 = AtomicU8::new(Mode::Idle as u8);
/// Signals the handler has sent (or values it has queued) in this scenario.
static SENT: AtomicU32 = AtomicU32::new(0);
/// Signals the task has acknowledged (or values it has received).
static ACKED: AtomicU32 = AtomicU32::new(0);
/// `try_send`s the handler found the channel full for.
static FULL: AtomicU32 = AtomicU32::new(0);
/// Ticks since `ACKED` last moved.
static STALLED: AtomicU32 = AtomicU32::new(0);
/// `ACKED` as the watchdog saw it last.
static LAST_ACKED: AtomicU32 = AtomicU32::new(0);

static NOTIFY: Notify = Notify::new();
static EVENT: Event = Event::new();
static CHANNEL: StaticChannel<u32, 4> = StaticChannel::new();

/// Runs every scenario of this family, with SysTick ticking throughout.
pub(crate) async fn run_all(mut syst: SYST) {
    syst.set_clock_source(SystClkSource::Core);
    syst.set_reload(TICK_CYCLES);
    syst.clear_current();
    syst.enable_interrupt();
    syst.enable_counter();
    run("interrupt_notify_10000_signals_none_lost", from_interrupt_notify()).await;
    run("interrupt_event_10000_signals_none_lost", from_interrupt_event()).await;
    run("interrupt_static_channel_10000_values_in_order", from_interrupt_channel()).await;
    syst.disable_interrupt();
    syst.disable_counter();
}

/// Starts a scenario: counters to zero, then the handler may send.
fn start(mode: Mode) {
    SENT.store(0, Ordering::SeqCst);
    ACKED.store(0, Ordering::SeqCst);
    FULL.store(0, Ordering::SeqCst);
    STALLED.store(0, Ordering::SeqCst);
    LAST_ACKED.store(0, Ordering::SeqCst);
    MODE.store(mode as u8, Ordering::SeqCst);
}

/// Ends a scenario: the handler stops sending.
fn stop() {
    MODE.store(Mode::Idle as u8, Ordering::SeqCst);
}

/// The task waits on Notify; each tick sends one `notify_one` once the
/// previous one was acknowledged.
async fn from_interrupt_notify() {
    start(Mode::Notify);
    for i in 1..=SIGNALS {
        NOTIFY.notified().await;
        assert_eq!(SENT.load(Ordering::SeqCst), i, "woken without a signal");
        ACKED.store(i, Ordering::SeqCst);
    }
    stop();
    assert_eq!(SENT.load(Ordering::SeqCst), SIGNALS);
    // Exactly one permit per signal: nothing is left stored.
    assert!(poll_once(pin!(NOTIFY.notified())).await.is_pending());
    assert_eq!(NOTIFY.waiters(), 0);
}

/// The task waits on Event and clears it before acknowledging; each tick
/// sets it once the previous set was acknowledged.
async fn from_interrupt_event() {
    start(Mode::Event);
    for i in 1..=SIGNALS {
        EVENT.wait().await;
        assert_eq!(SENT.load(Ordering::SeqCst), i, "woken without a signal");
        EVENT.clear();
        ACKED.store(i, Ordering::SeqCst);
    }
    stop();
    assert_eq!(SENT.load(Ordering::SeqCst), SIGNALS);
    assert!(!EVENT.is_set());
    assert_eq!(EVENT.waiters(), 0);
}

/// Each tick `try_send`s the next number; the task receives all of them in
/// order.
async fn from_interrupt_channel() {
    start(Mode::Channel);
    for expected in 0..SIGNALS {
        if expected % 1000 == 500 {
            // Fall behind now and then, so that the handler finds the
            // channel full and the refused sends are seen not to count.
            let full_before = FULL.load(Ordering::SeqCst);
            until(|| FULL.load(Ordering::SeqCst) > full_before).await;
            assert!(CHANNEL.is_full());
        }
        assert_eq!(CHANNEL.recv().await, Ok(expected));
        ACKED.store(expected + 1, Ordering::SeqCst);
    }
    stop();
    assert_eq!(SENT.load(Ordering::SeqCst), SIGNALS);
    assert!(CHANNEL.is_empty());
    let full = FULL.load(Ordering::SeqCst);
    assert!(full >= 10, "the handler found the channel full only {} times", full);
    hprintln!("      (the handler found the channel full {} times)", full);
}

#[exception]
fn SysTick() {
    let mode = MODE.load(Ordering::SeqCst);
    if mode == Mode::Idle as u8 {
        return;
    }
    let sent = SENT.load(Ordering::SeqCst);
    let acked = ACKED.load(Ordering::SeqCst);
    watchdog(sent, acked);
    if sent == SIGNALS {
        return;
    }
    if mode == Mode::Channel as u8 {
        match CHANNEL.try_send(sent) {
            Ok(()) => SENT.store(sent + 1, Ordering::SeqCst),
            Err(TrySendError::Full(_)) => {
                FULL.fetch_add(1, Ordering::SeqCst);
            }
            Err(TrySendError::Closed(_)) => panic!("the channel closed"),
        }
    } else if acked == sent {
        SENT.store(sent + 1, Ordering::SeqCst);
        if mode == Mode::Notify as u8 {
            NOTIFY.notify_one();
        } else {
            EVENT.set();
        }
    }
}

/// Panics (from the handler) when a signal is outstanding and the task has
/// not moved for `STALL_TICKS` ticks.
fn watchdog(sent: u32, acked: u32) {
    if acked != LAST_ACKED.load(Ordering::SeqCst) || acked == sent {
        LAST_ACKED.store(acked, Ordering::SeqCst);
        STALLED.store(0, Ordering::SeqCst);
        return;
    }
    let stalled = STALLED.fetch_add(1, Ordering::SeqCst) + 1;
    assert!(stalled < STALL_TICKS, "lost wake-up: {} signals sent, {} acknowledged", sent, acked);
}

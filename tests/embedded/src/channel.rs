//! StaticChannel: every value delivered exactly once and in each sender's
//! order, `try_*` never waits, cancelled sends and receives lose nothing,
//! and `close` hands refused values back while the rest drain.

use core::pin::pin;

use anysync::channel::{RecvError, SendError, StaticChannel, TryRecvError, TrySendError};
use anysync::sync::Semaphore;
use embassy_executor::Spawner;
use portable_atomic::{AtomicU32, AtomicUsize, Ordering};

use crate::harness::{poll_once, run};

/// Runs every scenario of this family.
pub(crate) async fn run_all(spawner: Spawner) {
    run("static_channel_delivers_every_value_once", delivers_every_value_once(spawner)).await;
    run("static_channel_try_variants_never_wait", try_variants_never_wait()).await;
    run("static_channel_recv_is_cancel_safe", recv_is_cancel_safe()).await;
    run("static_channel_send_is_cancel_safe", send_is_cancel_safe()).await;
    run("static_channel_woken_receiver_cancelled_passes_the_value_on", woken_receiver_cancelled()).await;
    run("static_channel_close_returns_refused_values_and_drains", close_drains()).await;
    run("static_channel_blocked_senders_are_served_in_order", blocked_senders_in_order()).await;
}

/// Values each producer sends.
const PER_PRODUCER: u32 = 200;

/// Shared by the producers and consumers of the delivery scenario.
struct Delivery {
    ch: StaticChannel<u32, 4>,
    /// One bit per value: set when it arrives.
    seen: [AtomicU32; 13],
    /// Producers and consumers that have finished.
    done: Semaphore,
}

#[embassy_executor::task(pool_size = 2)]
async fn produce(d: &'static Delivery, producer: u32) {
    for i in 0..PER_PRODUCER {
        d.ch.send(producer * PER_PRODUCER + i).await.unwrap();
    }
    d.done.add_permits(1);
}

#[embassy_executor::task(pool_size = 2)]
async fn consume(d: &'static Delivery) {
    let mut last = [None::<u32>; 2];
    while let Ok(v) = d.ch.recv().await {
        let (producer, i) = (v / PER_PRODUCER, v % PER_PRODUCER);
        let previous = &mut last[producer as usize];
        assert!(previous.is_none_or(|p| p < i), "a sender's values out of order");
        *previous = Some(i);
        let bit = 1 << (v % 32);
        let before = d.seen[(v / 32) as usize].fetch_or(bit, Ordering::SeqCst);
        assert_eq!(before & bit, 0, "value {} arrived twice", v);
    }
    d.done.add_permits(1);
}

/// Two producer and two consumer tasks on a channel of four: each of the
/// 400 values arrives exactly once, each producer's in order, and the
/// consumers end once the channel is closed and drained.
async fn delivers_every_value_once(spawner: Spawner) {
    static D: Delivery =
        Delivery { ch: StaticChannel::new(), seen: [const { AtomicU32::new(0) }; 13], done: Semaphore::new(0) };
    spawner.must_spawn(consume(&D));
    spawner.must_spawn(consume(&D));
    spawner.must_spawn(produce(&D, 0));
    spawner.must_spawn(produce(&D, 1));
    D.done.acquire_many(2).await.unwrap().forget(); // the producers
    D.ch.close();
    D.done.acquire_many(2).await.unwrap().forget(); // the consumers
    let arrived: u32 = D.seen.iter().map(|w| w.load(Ordering::SeqCst).count_ones()).sum();
    assert_eq!(arrived, 2 * PER_PRODUCER);
}

/// On a full channel `try_send` fails at once with the value; on an empty
/// one `try_recv` fails at once; values come out in order.
async fn try_variants_never_wait() {
    static CH: StaticChannel<u8, 3> = StaticChannel::new();
    assert_eq!(CH.capacity(), 3);
    assert_eq!(CH.try_recv(), Err(TryRecvError::Empty));
    for v in 1..=3 {
        CH.try_send(v).unwrap();
    }
    assert!(CH.is_full());
    assert_eq!(CH.try_send(4), Err(TrySendError::Full(4)));
    assert_eq!(CH.len(), 3);
    for v in 1..=3 {
        assert_eq!(CH.try_recv(), Ok(v));
    }
    assert!(CH.is_empty());
}

/// A pending `recv` is dropped after two sends; the next `recv` returns the
/// first value.
async fn recv_is_cancel_safe() {
    static CH: StaticChannel<u8, 2> = StaticChannel::new();
    {
        let mut r = pin!(CH.recv());
        assert!(poll_once(r.as_mut()).await.is_pending());
        CH.send(1).await.unwrap();
        CH.send(2).await.unwrap();
    }
    assert_eq!(CH.recv().await, Ok(1));
    assert_eq!(CH.recv().await, Ok(2));
}

/// How many [`Counted`] values have been dropped.
static DROPS: AtomicUsize = AtomicUsize::new(0);

/// A value that counts its drops.
#[derive(Debug)]
struct Counted;

impl Drop for Counted {
    fn drop(&mut self) {
        DROPS.fetch_add(1, Ordering::SeqCst);
    }
}

/// A sender woken for a freed slot is dropped: its value is not sent (and
/// is dropped once), and the slot is not lost.
async fn send_is_cancel_safe() {
    static CH: StaticChannel<Counted, 1> = StaticChannel::new();
    CH.send(Counted).await.unwrap();
    {
        let mut s = pin!(CH.send(Counted));
        assert!(poll_once(s.as_mut()).await.is_pending());
        drop(CH.recv().await.unwrap());
    }
    assert_eq!(DROPS.load(Ordering::SeqCst), 2, "the received value and the unsent one");
    CH.send(Counted).await.unwrap();
    assert_eq!(CH.len(), 1);
    drop(CH.recv().await.unwrap());
    assert!(matches!(CH.try_recv(), Err(TryRecvError::Empty)));
    assert_eq!(DROPS.load(Ordering::SeqCst), 3);
}

/// A receiver woken for a value is dropped; the next receiver gets the
/// value.
async fn woken_receiver_cancelled() {
    static CH: StaticChannel<char, 2> = StaticChannel::new();
    let mut r2 = pin!(CH.recv());
    {
        let r1 = pin!(CH.recv());
        assert!(poll_once(r1).await.is_pending());
        assert!(poll_once(r2.as_mut()).await.is_pending());
        CH.try_send('x').unwrap(); // wakes `r1`
    } // `r1` is dropped before it ran: the value passes to `r2`
    assert_eq!(r2.await, Ok('x'));
}

/// After `close`, sends hand their value back and receivers drain what was
/// sent before, then see the close.
async fn close_drains() {
    static CH: StaticChannel<u8, 2> = StaticChannel::new();
    CH.send(1).await.unwrap();
    assert!(CH.close(), "the first close");
    assert!(!CH.close(), "already closed");
    assert!(CH.is_closed());
    assert_eq!(CH.send(5).await, Err(SendError(5)));
    assert_eq!(CH.try_send(6), Err(TrySendError::Closed(6)));
    assert_eq!(CH.recv().await, Ok(1));
    assert_eq!(CH.recv().await, Err(RecvError));
    assert_eq!(CH.try_recv(), Err(TryRecvError::Closed));
}

/// Senders waiting on a full channel get their slots in the order they
/// queued, so their values arrive in that order, and a newcomer's
/// `try_send` does not pass them.
async fn blocked_senders_in_order() {
    static CH: StaticChannel<u8, 1> = StaticChannel::new();
    CH.try_send(0).unwrap();
    let mut senders = [pin!(CH.send(1)), pin!(CH.send(2)), pin!(CH.send(3))];
    for s in &mut senders {
        assert!(poll_once(s.as_mut()).await.is_pending(), "the channel is full");
    }
    let mut got = [0u8; 4];
    for (i, slot) in got.iter_mut().enumerate() {
        *slot = CH.recv().await.unwrap();
        if let Some(s) = senders.get_mut(i) {
            assert_eq!(CH.try_send(9), Err(TrySendError::Full(9)), "no barging past a queued sender");
            s.as_mut().await.unwrap();
        }
    }
    assert_eq!(got, [0, 1, 2, 3]);
    assert!(CH.is_empty());
}

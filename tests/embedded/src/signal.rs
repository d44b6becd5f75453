//! Event and Notify: one `set` releases every waiter, `clear` does not
//! strand queued ones, `notify_one` wakes in FIFO order and stores at most
//! one permit, `notify_all` stores nothing, and a cancelled notified waiter
//! passes its wake-up on.

use core::pin::pin;

use anysync::sync::{Event, Notify, Semaphore};
use embassy_executor::Spawner;
use embassy_futures::join::{join, join_array};
use portable_atomic::{AtomicUsize, Ordering};

use crate::harness::{poll_once, run, until, Log};

/// Runs every scenario of this family.
pub(crate) async fn run_all(spawner: Spawner) {
    run("event_set_releases_every_waiting_task", event_set_releases_every_waiting_task(spawner)).await;
    run("event_set_then_clear_still_releases_queued_waiters", event_set_then_clear()).await;
    run("event_wait_after_set_is_ready_and_cancel_loses_nothing", event_wait_after_set()).await;
    run("notify_ping_pong_loses_no_wakeup", notify_ping_pong(spawner)).await;
    run("notify_one_wakes_waiters_in_fifo_order", notify_one_fifo()).await;
    run("notify_all_wakes_every_waiting_task", notify_all_wakes_every_waiting_task()).await;
    run("notify_one_stores_a_single_permit", notify_one_stores_a_single_permit()).await;
    run("notify_cancelled_waiter_passes_wakeup_on", notify_cancelled_waiter()).await;
    run("notify_last_wakes_the_newest_waiter", notify_last_wakes_the_newest()).await;
    run("notify_dropped_waiter_with_no_one_behind_stores_the_permit", notify_dropped_alone()).await;
    run("notify_one_after_notify_all_is_not_swallowed", notify_one_after_notify_all()).await;
    run("notify_notified_counts_for_notify_all_from_creation", notified_counts_from_creation()).await;
    run("notify_enable_registers_before_the_first_poll", notify_enable_registers()).await;
    run("event_wait_counts_from_its_creation", event_wait_counts_from_creation()).await;
}

/// Shared by the tasks of the event scenario.
struct Gate {
    event: Event,
    ready: Semaphore,
    released: AtomicUsize,
    done: Semaphore,
}

#[embassy_executor::task(pool_size = 8)]
async fn wait_at_gate(g: &'static Gate) {
    let wait = g.event.wait(); // counts from here
    g.ready.add_permits(1);
    wait.await;
    g.released.fetch_add(1, Ordering::SeqCst);
    g.done.add_permits(1);
}

/// One `set()` releases every task waiting on the event.
async fn event_set_releases_every_waiting_task(spawner: Spawner) {
    static G: Gate =
        Gate { event: Event::new(), ready: Semaphore::new(0), released: AtomicUsize::new(0), done: Semaphore::new(0) };
    for _ in 0..8 {
        spawner.must_spawn(wait_at_gate(&G));
    }
    G.ready.acquire_many(8).await.unwrap().forget();
    until(|| G.event.waiters() == 8).await;
    assert_eq!(G.released.load(Ordering::SeqCst), 0);
    G.event.set();
    G.done.acquire_many(8).await.unwrap().forget();
    assert_eq!(G.released.load(Ordering::SeqCst), 8);
    assert_eq!(G.event.waiters(), 0);
}

/// Waiters queued before `set` complete even if `clear` follows at once.
async fn event_set_then_clear() {
    static EV: Event = Event::new();
    let waiters = join_array([EV.wait(), EV.wait(), EV.wait(), EV.wait()]);
    let setter = async {
        until(|| EV.waiters() == 4).await;
        EV.set();
        EV.clear();
    };
    join(waiters, setter).await;
    assert!(!EV.is_set());
    assert_eq!(EV.waiters(), 0);
}

/// A wait that starts after `set` is ready at once; a waiter dropped while
/// queued leaves the queue and costs the others nothing.
async fn event_wait_after_set() {
    static EV: Event = Event::new();
    let mut kept = pin!(EV.wait());
    {
        let dropped = pin!(EV.wait());
        assert!(poll_once(dropped).await.is_pending());
        assert!(poll_once(kept.as_mut()).await.is_pending());
        assert_eq!(EV.waiters(), 2);
    } // `dropped` leaves the queue here
    assert_eq!(EV.waiters(), 1);
    EV.set();
    kept.await;
    assert!(EV.is_set());
    assert!(poll_once(pin!(EV.wait())).await.is_ready());
}

#[embassy_executor::task]
async fn pong(ping: &'static Notify, pong: &'static Notify, done: &'static Semaphore) {
    for _ in 0..1000 {
        ping.notified().await;
        pong.notify_one();
    }
    done.add_permits(1);
}

/// Two tasks ping-pong 1000 times through two `Notify`s; nothing is lost.
async fn notify_ping_pong(spawner: Spawner) {
    static PING: Notify = Notify::new();
    static PONG: Notify = Notify::new();
    static DONE: Semaphore = Semaphore::new(0);
    spawner.must_spawn(pong(&PING, &PONG, &DONE));
    for _ in 0..1000 {
        PING.notify_one();
        PONG.notified().await;
    }
    DONE.acquire().await.unwrap().forget();
}

/// `notify_one` wakes the waiter that has waited longest.
async fn notify_one_fifo() {
    static N: Notify = Notify::new();
    static ORDER: Log = Log::new();
    let waiter = |id: u8| async move {
        N.notified().await;
        ORDER.push(id);
    };
    let notifier = async {
        for woken in 0..3 {
            until(|| N.waiters() == 3 - woken).await;
            N.notify_one();
            until(|| ORDER.len() == woken + 1).await;
        }
    };
    join(join_array([waiter(0), waiter(1), waiter(2)]), notifier).await;
    assert_eq!(ORDER.get().as_slice(), [0, 1, 2]);
}

/// `notify_all` wakes every waiting task and stores nothing.
async fn notify_all_wakes_every_waiting_task() {
    static N: Notify = Notify::new();
    let waiters = join_array([N.notified(), N.notified(), N.notified(), N.notified()]);
    let notifier = async {
        until(|| N.waiters() == 4).await;
        N.notify_all();
    };
    join(waiters, notifier).await;
    let later = pin!(N.notified());
    assert!(poll_once(later).await.is_pending(), "notify_all stores no permit");
}

/// `notify_one` with nobody waiting stores exactly one permit.
async fn notify_one_stores_a_single_permit() {
    static N: Notify = Notify::new();
    N.notify_one();
    N.notify_one();
    N.notified().await;
    let second = pin!(N.notified());
    assert!(poll_once(second).await.is_pending());
}

/// A waiter chosen by `notify_one` and dropped before it ran passes the
/// wake-up to the next waiter.
async fn notify_cancelled_waiter() {
    static N: Notify = Notify::new();
    let mut second = pin!(N.notified());
    {
        let first = pin!(N.notified());
        assert!(poll_once(first).await.is_pending());
        assert!(poll_once(second.as_mut()).await.is_pending());
        N.notify_one(); // to `first`
    } // `first` is dropped before it ran: the wake-up passes to `second`
    second.await;
    assert_eq!(N.waiters(), 0);
    let third = pin!(N.notified());
    assert!(poll_once(third).await.is_pending(), "the wake-up was used once");
}

/// `notify_last` wakes the waiter that queued most recently; the others
/// keep their places.
async fn notify_last_wakes_the_newest() {
    static N: Notify = Notify::new();
    let mut w = [pin!(N.notified()), pin!(N.notified()), pin!(N.notified())];
    for f in &mut w {
        assert!(poll_once(f.as_mut()).await.is_pending());
    }
    N.notify_one();
    N.notify_last();
    let [first, mut middle, last] = w;
    first.await;
    last.await;
    assert!(poll_once(middle.as_mut()).await.is_pending(), "neither notify was for it");
    assert_eq!(N.waiters(), 1);
    N.notify_one();
    middle.await;
}

/// A waiter chosen by `notify_one` and dropped with nobody behind it puts
/// the permit back: the next `notified` completes at once.
async fn notify_dropped_alone() {
    static N: Notify = Notify::new();
    {
        let first = pin!(N.notified());
        assert!(poll_once(first).await.is_pending());
        N.notify_one();
    } // dropped before it ran, with no one queued behind it
    assert!(poll_once(pin!(N.notified())).await.is_ready());
}

/// A waiter woken by `notify_all` and then dropped does not eat a
/// `notify_one` that came after.
async fn notify_one_after_notify_all() {
    static N: Notify = Notify::new();
    {
        let first = pin!(N.notified());
        assert!(poll_once(first).await.is_pending());
        N.notify_all();
        N.notify_one();
    } // woken by notify_all, dropped before it ran
    assert!(poll_once(pin!(N.notified())).await.is_ready());
}

/// A `notified` future created before a `notify_all` completes, even if it
/// is first polled after it.
async fn notified_counts_from_creation() {
    static N: Notify = Notify::new();
    let f = N.notified();
    N.notify_all();
    assert!(poll_once(pin!(f)).await.is_ready());
}

/// `enable` queues the future before its first poll, so a `notify_one`
/// that follows goes to it and is not stored for someone else.
async fn notify_enable_registers() {
    static N: Notify = Notify::new();
    let mut f = pin!(N.notified());
    assert!(!f.as_mut().enable(), "nothing stored yet");
    N.notify_one(); // goes to `f`
    assert!(poll_once(pin!(N.notified())).await.is_pending(), "not stored");
    f.await;
}

/// A wait created before `set` completes even if `clear` follows before its
/// first poll.
async fn event_wait_counts_from_creation() {
    static EV: Event = Event::new();
    let w = EV.wait();
    EV.set();
    EV.clear();
    assert!(poll_once(pin!(w)).await.is_ready());
    assert!(poll_once(pin!(EV.wait())).await.is_pending(), "cleared for later waits");
}

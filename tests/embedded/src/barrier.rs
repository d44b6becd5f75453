//! Barrier: exactly one leader per generation, a cancelled arrival is
//! withdrawn before the trip and changes nothing after it, and `abort`
//! breaks waits until `reset`.

use core::pin::pin;

use anysync::sync::{Barrier, BrokenBarrier, Semaphore};
use embassy_executor::Spawner;
use embassy_futures::join::{join, join_array};
use portable_atomic::{AtomicUsize, Ordering};

use crate::harness::{poll_once, run, until};

/// Runs every scenario of this family.
pub(crate) async fn run_all(spawner: Spawner) {
    run("barrier_generations_each_have_one_leader", barrier_generations(spawner)).await;
    run("barrier_cancel_while_filling_withdraws_the_arrival", barrier_cancel_while_filling()).await;
    run("barrier_cancel_after_the_trip_changes_nothing", barrier_cancel_after_trip()).await;
    run("barrier_abort_and_reset", barrier_abort_and_reset()).await;
    run("barrier_of_zero_parties_is_one", barrier_of_zero_parties()).await;
    run("barrier_reset_with_waiters_breaks_them_and_starts_empty", barrier_reset_with_waiters()).await;
}

/// Shared by the tasks of the generations scenario.
struct Generations {
    barrier: Barrier,
    leaders: AtomicUsize,
    done: Semaphore,
}

#[embassy_executor::task(pool_size = 8)]
async fn ten_generations(g: &'static Generations) {
    for _ in 0..10 {
        if g.barrier.wait().await.unwrap().is_leader() {
            g.leaders.fetch_add(1, Ordering::SeqCst);
        }
    }
    g.done.add_permits(1);
}

/// Ten generations of eight tasks, exactly one leader each.
async fn barrier_generations(spawner: Spawner) {
    static G: Generations =
        Generations { barrier: Barrier::new(8), leaders: AtomicUsize::new(0), done: Semaphore::new(0) };
    for _ in 0..8 {
        spawner.must_spawn(ten_generations(&G));
    }
    G.done.acquire_many(8).await.unwrap().forget();
    assert_eq!(G.leaders.load(Ordering::SeqCst), 10);
    assert_eq!(G.barrier.waiters(), 0);
}

/// A waiter cancelled while the barrier fills withdraws its arrival; the
/// barrier still needs all its parties.
async fn barrier_cancel_while_filling() {
    static B: Barrier = Barrier::new(3);
    let mut first = pin!(B.wait());
    assert!(poll_once(first.as_mut()).await.is_pending());
    {
        let quitter = pin!(B.wait());
        assert!(poll_once(quitter).await.is_pending());
        assert_eq!(B.waiters(), 2);
    } // the quitter is dropped here
    assert_eq!(B.waiters(), 1);
    let mut second = pin!(B.wait());
    assert!(poll_once(second.as_mut()).await.is_pending(), "two of three");
    let third = B.wait().await.unwrap().is_leader();
    let leaders = [first.await.unwrap().is_leader(), second.await.unwrap().is_leader(), third];
    assert_eq!(leaders.iter().filter(|l| **l).count(), 1);
    assert_eq!(B.waiters(), 0);
}

/// Once the barrier trips, dropping one of its waiters before it ran
/// neither un-trips it nor blocks the others.
async fn barrier_cancel_after_trip() {
    static B: Barrier = Barrier::new(3);
    {
        let mine = pin!(B.wait());
        assert!(poll_once(mine).await.is_pending());
        let (a, b) = join(B.wait(), B.wait()).await; // tripped, with `mine` among the three
        assert!(a.is_ok() && b.is_ok());
    } // `mine` is dropped here: woken, never polled again
    assert_eq!(B.waiters(), 0);
    // The next generation starts empty and needs three again.
    let results = join_array([B.wait(), B.wait(), B.wait()]).await;
    assert_eq!(results.iter().filter(|r| r.unwrap().is_leader()).count(), 1);
}

/// `abort` breaks current and later waits until `reset`; the barrier then
/// works again.
async fn barrier_abort_and_reset() {
    static B: Barrier = Barrier::new(3);
    let waiters = join_array([B.wait(), B.wait()]);
    let aborter = async {
        until(|| B.waiters() == 2).await;
        B.abort();
    };
    let (results, ()) = join(waiters, aborter).await;
    assert_eq!(results, [Err(BrokenBarrier), Err(BrokenBarrier)]);
    assert_eq!(B.wait().await, Err(BrokenBarrier));
    assert!(B.is_broken());
    B.reset();
    let again = join_array([B.wait(), B.wait(), B.wait()]).await;
    assert!(again.iter().all(Result::is_ok));
    assert!(!B.is_broken());
}

/// `Barrier::new(0)` behaves as a barrier of one: every wait leads.
async fn barrier_of_zero_parties() {
    static B: Barrier = Barrier::new(0);
    assert_eq!(B.parties(), 1);
    assert!(B.wait().await.unwrap().is_leader());
}

/// `reset` with a task waiting breaks that wait and leaves the barrier
/// empty and whole: it again needs all its parties.
async fn barrier_reset_with_waiters() {
    static B: Barrier = Barrier::new(2);
    let mut w1 = pin!(B.wait());
    assert!(poll_once(w1.as_mut()).await.is_pending());
    B.reset();
    assert_eq!(w1.await, Err(BrokenBarrier));
    assert!(!B.is_broken());
    assert_eq!(B.waiters(), 0);
    let mut a = pin!(B.wait());
    assert!(poll_once(a.as_mut()).await.is_pending(), "one arrival is not enough");
    assert!(B.wait().await.unwrap().is_leader());
    assert!(a.await.is_ok());
}

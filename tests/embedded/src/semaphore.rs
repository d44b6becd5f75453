//! Semaphore and BoundedSemaphore: the limit is exact, the head of the
//! queue is served first even when it asks for more, a cancelled waiter
//! passes its permits on, `close` fails everyone, and counts balance.

use core::pin::pin;

use anysync::sync::{
    AcquireError, BoundedSemaphore, BoundedTryAcquireError, Event, ExceedsCapacity, ReleaseError, Semaphore,
    TryAcquireError,
};
use embassy_executor::Spawner;
use embassy_futures::yield_now;
use portable_atomic::{AtomicUsize, Ordering};

use crate::harness::{poll_once, run, until, Log};

/// Runs every scenario of this family.
pub(crate) async fn run_all(spawner: Spawner) {
    run("semaphore_peak_concurrency_is_exactly_the_limit", semaphore_peak_concurrency(spawner)).await;
    run("semaphore_weighted_head_is_not_starved", semaphore_weighted_head()).await;
    run("semaphore_cancelled_waiter_passes_wakeup_on", semaphore_cancelled_waiter()).await;
    run("semaphore_close_fails_current_and_later_acquires", semaphore_close()).await;
    run("semaphore_try_acquire_never_waits_and_counts_exactly", semaphore_try_and_counts()).await;
    run("semaphore_partial_assignment_blocks_the_line", semaphore_partial_assignment()).await;
    run("semaphore_cancelled_head_returns_its_partial_permits", semaphore_cancelled_head_returns_partial()).await;
    run("semaphore_several_releases_wake_several_waiters", semaphore_several_releases()).await;
    run("semaphore_fifo_across_re_acquire", semaphore_fifo_across_re_acquire(spawner)).await;
    run("bounded_semaphore_limits_concurrency", bounded_semaphore_limits(spawner)).await;
    run("bounded_semaphore_cancelled_waiter_passes_wakeup_on", bounded_cancelled_waiter()).await;
    run("bounded_semaphore_bad_inputs", bounded_semaphore_bad_inputs()).await;
    run("bounded_semaphore_over_release_releases_nothing", bounded_over_release()).await;
    run("bounded_semaphore_capacity_zero_refuses_every_acquire", bounded_capacity_zero()).await;
}

/// Shared by the tasks of the peak-concurrency scenario.
struct Peak {
    sem: Semaphore,
    inside: AtomicUsize,
    peak: AtomicUsize,
    full: Event,
    done: Semaphore,
}

#[embassy_executor::task(pool_size = 10)]
async fn hold_a_permit(p: &'static Peak) {
    let permit = p.sem.acquire().await.unwrap();
    let now = p.inside.fetch_add(1, Ordering::SeqCst) + 1;
    assert!(now <= 3, "more than three tasks inside Semaphore(3)");
    p.peak.fetch_max(now, Ordering::SeqCst);
    if now == 3 {
        p.full.set();
    }
    p.full.wait().await; // hold until the section has been full once
    yield_now().await;
    p.inside.fetch_sub(1, Ordering::SeqCst);
    drop(permit);
    p.done.add_permits(1);
}

/// Ten tasks under `Semaphore(3)`: never more than three inside, and
/// exactly three at the peak.
async fn semaphore_peak_concurrency(spawner: Spawner) {
    static P: Peak = Peak {
        sem: Semaphore::new(3),
        inside: AtomicUsize::new(0),
        peak: AtomicUsize::new(0),
        full: Event::new(),
        done: Semaphore::new(0),
    };
    for _ in 0..10 {
        spawner.must_spawn(hold_a_permit(&P));
    }
    P.done.acquire_many(10).await.unwrap().forget();
    assert_eq!(P.peak.load(Ordering::SeqCst), 3);
    assert_eq!(P.sem.available_permits(), 3);
    assert_eq!(P.sem.waiters(), 0);
}

/// A big request at the head is served before the small ones queued behind
/// it, even though they could be served earlier.
async fn semaphore_weighted_head() {
    static SEM: Semaphore = Semaphore::new(4);
    static ORDER: Log = Log::new();
    let held = SEM.try_acquire_many(4).unwrap();
    let mut big = pin!(SEM.acquire_many(4));
    assert!(poll_once(big.as_mut()).await.is_pending());
    let mut small = [pin!(SEM.acquire()), pin!(SEM.acquire()), pin!(SEM.acquire())];
    for s in &mut small {
        assert!(poll_once(s.as_mut()).await.is_pending());
    }
    assert_eq!(SEM.waiters(), 4);
    drop(held);
    let big_permit = big.await.unwrap();
    ORDER.push(b'B');
    for s in &mut small {
        assert!(poll_once(s.as_mut()).await.is_pending(), "the big one holds all four");
    }
    drop(big_permit);
    for s in small {
        s.await.unwrap().forget();
        ORDER.push(b's');
    }
    assert_eq!(ORDER.get().as_slice(), b"Bsss");
    SEM.add_permits(3);
    assert_eq!(SEM.available_permits(), 4);
}

/// A waiter woken with a permit and dropped before it ran passes the permit
/// to the next waiter.
async fn semaphore_cancelled_waiter() {
    static SEM: Semaphore = Semaphore::new(0);
    let mut second = pin!(SEM.acquire());
    {
        let first = pin!(SEM.acquire());
        assert!(poll_once(first).await.is_pending());
        assert!(poll_once(second.as_mut()).await.is_pending());
        SEM.add_permits(1); // to `first`
        assert_eq!(SEM.available_permits(), 0);
    } // `first` is dropped before it ran: the permit passes to `second`
    second.await.unwrap().forget();
    assert_eq!(SEM.available_permits(), 0);
    assert_eq!(SEM.waiters(), 0);
}

/// `close` fails every queued acquire and every later one; permits held
/// across the close are counted back in.
async fn semaphore_close() {
    static SEM: Semaphore = Semaphore::new(1);
    let held = SEM.try_acquire().unwrap();
    let mut waiters = [pin!(SEM.acquire()), pin!(SEM.acquire()), pin!(SEM.acquire())];
    for w in &mut waiters {
        assert!(poll_once(w.as_mut()).await.is_pending());
    }
    SEM.close();
    for w in waiters {
        assert_eq!(w.await.unwrap_err(), AcquireError::Closed);
    }
    assert_eq!(SEM.acquire().await.unwrap_err(), AcquireError::Closed);
    assert_eq!(SEM.try_acquire().unwrap_err(), TryAcquireError::Closed);
    assert!(SEM.is_closed());
    drop(held);
    assert_eq!(SEM.available_permits(), 1);
}

/// `try_acquire` fails at once without queueing; split, merge and forget
/// keep the count exact.
async fn semaphore_try_and_counts() {
    static SEM: Semaphore = Semaphore::new(5);
    let mut p = SEM.try_acquire_many(5).unwrap();
    assert_eq!(SEM.try_acquire().unwrap_err(), TryAcquireError::NoPermits);
    assert_eq!(SEM.waiters(), 0);
    let two = p.split(2).unwrap();
    assert_eq!((p.num_permits(), two.num_permits()), (3, 2));
    assert!(p.split(4).is_none());
    drop(two);
    assert_eq!(SEM.available_permits(), 2);
    let one = SEM.try_acquire().unwrap();
    p.merge(one);
    assert_eq!(p.num_permits(), 4);
    p.forget();
    assert_eq!(SEM.available_permits(), 1);
    SEM.add_permits(4);
    assert_eq!(SEM.available_permits(), 5);
}

/// Shared by the tasks of the bounded-semaphore scenario.
struct Bounded {
    sem: BoundedSemaphore,
    inside: AtomicUsize,
    peak: AtomicUsize,
    done: Semaphore,
}

#[embassy_executor::task(pool_size = 10)]
async fn acquire_and_release(b: &'static Bounded) {
    b.sem.acquire().await.unwrap();
    let now = b.inside.fetch_add(1, Ordering::SeqCst) + 1;
    b.peak.fetch_max(now, Ordering::SeqCst);
    yield_now().await;
    b.inside.fetch_sub(1, Ordering::SeqCst);
    b.sem.release().unwrap();
    b.done.add_permits(1);
}

/// Tasks under a BoundedSemaphore never exceed its capacity; every release
/// balances an acquire, and one release too many is refused.
async fn bounded_semaphore_limits(spawner: Spawner) {
    static B: Bounded = Bounded {
        sem: BoundedSemaphore::new(3),
        inside: AtomicUsize::new(0),
        peak: AtomicUsize::new(0),
        done: Semaphore::new(0),
    };
    for _ in 0..10 {
        spawner.must_spawn(acquire_and_release(&B));
    }
    B.done.acquire_many(10).await.unwrap().forget();
    let peak = B.peak.load(Ordering::SeqCst);
    assert!((1..=3).contains(&peak), "peak {} outside 1..=3", peak);
    let s = B.sem.statistics();
    assert_eq!((s.available, s.acquired, s.waiters), (3, 0, 0));
    assert!(B.sem.release().is_err(), "one release too many");
}

/// A woken bounded-semaphore waiter dropped before it ran passes the permit
/// on.
async fn bounded_cancelled_waiter() {
    static SEM: BoundedSemaphore = BoundedSemaphore::new(1);
    SEM.try_acquire().unwrap();
    let mut second = pin!(SEM.acquire());
    {
        let first = pin!(SEM.acquire());
        assert!(poll_once(first).await.is_pending());
        assert!(poll_once(second.as_mut()).await.is_pending());
        SEM.release().unwrap(); // to `first`
    } // `first` is dropped before it ran: the permit passes to `second`
    second.await.unwrap();
    assert_eq!((SEM.acquired(), SEM.available_permits(), SEM.waiters()), (1, 0, 0));
    SEM.release().unwrap();
}

/// Bad inputs give the documented typed errors.
async fn bounded_semaphore_bad_inputs() {
    static SEM: BoundedSemaphore = BoundedSemaphore::new(2);
    assert_eq!(SEM.acquire_many(3).await, Err(ExceedsCapacity { requested: 3, capacity: 2 }));
    assert_eq!(
        SEM.try_acquire_many(3),
        Err(BoundedTryAcquireError::from(ExceedsCapacity { requested: 3, capacity: 2 }))
    );
    SEM.try_acquire_many(2).unwrap();
    assert_eq!(SEM.try_acquire(), Err(BoundedTryAcquireError::NoPermits));
    assert!(SEM.release_many(3).is_err());
    SEM.release_many(2).unwrap();
    assert_eq!(SEM.capacity(), 2);
}

/// Releasing more than is acquired is refused whole: nothing is released.
async fn bounded_over_release() {
    static SEM: BoundedSemaphore = BoundedSemaphore::new(4);
    SEM.try_acquire_many(3).unwrap();
    assert_eq!(SEM.release_many(4), Err(ReleaseError { requested: 4, acquired: 3 }));
    assert_eq!((SEM.acquired(), SEM.available_permits()), (3, 1));
    assert_eq!(SEM.release_many(0), Ok(()));
    SEM.release_many(3).unwrap();
    assert_eq!((SEM.acquired(), SEM.available_permits()), (0, 4));
}

/// A capacity of zero refuses every acquire at once, without queueing;
/// acquiring zero permits succeeds.
async fn bounded_capacity_zero() {
    static SEM: BoundedSemaphore = BoundedSemaphore::new(0);
    assert!(SEM.acquire().await.is_err());
    assert!(matches!(SEM.try_acquire(), Err(BoundedTryAcquireError::ExceedsCapacity(_))));
    assert_eq!(SEM.acquire_many(0).await, Ok(()));
    assert!(SEM.release().is_err());
    assert_eq!(SEM.waiters(), 0);
}

/// Permits released while a big request heads the queue go to it, even in
/// part, and a smaller request behind it is not woken until the head is
/// served.
async fn semaphore_partial_assignment() {
    static SEM: Semaphore = Semaphore::new(5);
    let one = SEM.try_acquire().unwrap();
    let mut a = pin!(SEM.acquire_many(5));
    assert!(poll_once(a.as_mut()).await.is_pending());
    assert_eq!(SEM.available_permits(), 0, "the head holds the four that were free");
    let mut b = pin!(SEM.acquire_many(3));
    assert!(poll_once(b.as_mut()).await.is_pending());
    drop(one); // completes A
    let mut a_permit = a.await.unwrap();
    assert!(poll_once(b.as_mut()).await.is_pending(), "nothing left for B");
    drop(a_permit.split(1).unwrap()); // one back: B holds 1 of 3
    assert!(poll_once(b.as_mut()).await.is_pending());
    drop(a_permit.split(1).unwrap()); // B holds 2 of 3
    assert!(poll_once(b.as_mut()).await.is_pending());
    drop(a_permit); // three back: B completes, two left over
    assert_eq!(b.await.unwrap().num_permits(), 3);
    assert_eq!(SEM.available_permits(), 5);
}

/// A head request dropped while it holds part of its permits gives them
/// back, and the request queued behind it is served from them.
async fn semaphore_cancelled_head_returns_partial() {
    static SEM: Semaphore = Semaphore::new(10);
    let held = SEM.try_acquire_many(4).unwrap();
    let mut b = pin!(SEM.acquire_many(2));
    {
        let big = pin!(SEM.acquire_many(8));
        assert!(poll_once(big).await.is_pending());
        assert_eq!(SEM.available_permits(), 0, "the six free ones are assigned to the head");
        assert!(poll_once(b.as_mut()).await.is_pending());
    } // the head is dropped with six permits assigned
    let b_permit = b.await.unwrap();
    assert_eq!(SEM.available_permits(), 4, "six returned, two of them to B");
    drop(b_permit);
    drop(held);
    assert_eq!(SEM.available_permits(), 10);
}

/// Two permits released one after the other wake two waiters.
async fn semaphore_several_releases() {
    static SEM: Semaphore = Semaphore::new(2);
    let p1 = SEM.try_acquire().unwrap();
    let p2 = SEM.try_acquire().unwrap();
    let mut w1 = pin!(SEM.acquire());
    let mut w2 = pin!(SEM.acquire());
    assert!(poll_once(w1.as_mut()).await.is_pending());
    assert!(poll_once(w2.as_mut()).await.is_pending());
    drop(p1);
    drop(p2);
    drop(w1.await.unwrap());
    drop(w2.await.unwrap());
    assert_eq!(SEM.available_permits(), 2);
}

/// Shared by the tasks of the re-acquire scenario.
struct Rounds {
    sem: Semaphore,
    order: Log,
    done: Semaphore,
}

#[embassy_executor::task(pool_size = 3)]
async fn acquire_twice(r: &'static Rounds, id: u8) {
    for _ in 0..2 {
        let permit = r.sem.acquire().await.unwrap();
        r.order.push(id);
        yield_now().await;
        drop(permit);
    }
    r.done.add_permits(1);
}

/// On `Semaphore(1)` three tasks that each acquire and release twice take
/// turns in the order they first queued: 1, 2, 3, 1, 2, 3.
async fn semaphore_fifo_across_re_acquire(spawner: Spawner) {
    static R: Rounds = Rounds { sem: Semaphore::new(1), order: Log::new(), done: Semaphore::new(0) };
    let gate = R.sem.try_acquire().unwrap();
    for id in 1..=3u8 {
        spawner.must_spawn(acquire_twice(&R, id));
        until(|| R.sem.waiters() == usize::from(id)).await;
    }
    drop(gate);
    R.done.acquire_many(3).await.unwrap().forget();
    assert_eq!(R.order.get().as_slice(), [1, 2, 3, 1, 2, 3]);
}

//! RateLimiter, KeyedRateLimiter and Limits on every executor: arrival
//! order, refusals, cancellation and the concurrency bound; then the exact
//! grant instants on `VirtualTime` alone.
#![forbid(unsafe_code)]

extern crate alloc;

use alloc::{boxed::Box, sync::Arc};
use core::{future::Future, num::NonZeroU32, pin::Pin, time::Duration};
use std::sync::{
    atomic::{AtomicU64, AtomicUsize, Ordering},
    Mutex as StdMutex,
};

use anysync::{
    rt::{virtual_time::VirtualTime, Instant, JoinHandle, Runtime, Timer},
    time::{InsufficientCapacity, KeyedRateLimiter, Limits, Quota, RateLimiter, TryAcquireError},
};
use anysync_tests::{race_yields, scenarios, until};

fn nz(n: u32) -> NonZeroU32 {
    NonZeroU32::new(n).expect("non-zero")
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// A quota so slow that a waiter never gets its cell during a test.
fn glacial() -> Quota {
    Quota::per(nz(1), Duration::from_secs(3600)).unwrap()
}

/// A clock that moves only when the test moves it; its sleeps yield until
/// it has. On a real executor this leaves every grant instant to the test,
/// so the order of grants can be read without racing the clock: a task
/// that is preempted between its grant and its record cannot be overtaken,
/// because the next grant is not due until the test sees that record.
#[derive(Clone, Debug, Default)]
struct SteppedClock(Arc<AtomicU64>);

impl SteppedClock {
    fn set(&self, since_origin: Duration) {
        let nanos = u64::try_from(since_origin.as_nanos()).expect("a short test");
        self.0.store(nanos, Ordering::SeqCst);
    }
}

impl Timer for SteppedClock {
    type Sleep = Pin<Box<dyn Future<Output = ()> + Send>>;

    fn sleep(&self, duration: Duration) -> Self::Sleep {
        self.sleep_until(self.now().saturating_add(duration))
    }

    /// Overridden so that the deadline is the one asked for: the default
    /// reads the clock a second time, and a step taken between the two
    /// reads would push the deadline past the step, where this clock,
    /// unlike a real one, might never go.
    fn sleep_until(&self, deadline: Instant) -> Self::Sleep {
        let clock = self.clone();
        Box::pin(until(move || clock.now() >= deadline))
    }

    fn now(&self) -> Instant {
        Instant::from_origin(Duration::from_nanos(self.0.load(Ordering::SeqCst)))
    }
}

/// Tasks waiting for cells are served in the order they started waiting,
/// whatever they ask for.
async fn rate_limiter_serves_waiters_in_arrival_order<R: Runtime>(rt: R) {
    let clock = SteppedClock::default();
    let quota = Quota::per(nz(1), ms(2)).unwrap().allow_burst(nz(3));
    let limiter = Arc::new(RateLimiter::new(clock.clone(), quota));
    limiter.try_acquire_n(3).unwrap();
    let order = Arc::new(StdMutex::new(Vec::new()));
    let mut tasks = Vec::new();
    for (i, n) in [3, 1, 2, 1, 3, 1].into_iter().enumerate() {
        let (limiter2, order2) = (limiter.clone(), order.clone());
        tasks.push(rt.spawn(async move {
            limiter2.acquire_n(n).await.unwrap();
            order2.lock().unwrap().push(i);
        }));
        // Task i has arrived once it is waiting (nobody is served while
        // the clock stands still at 0).
        until(|| limiter.waiters() > i).await;
    }
    // The instants at which each waiter's cells are due, in arrival order
    // (2 ms a cell, a burst of 3 already spent at 0): only one waiter is
    // due at each, so each step serves exactly the head of the queue.
    for (k, due) in [6, 8, 12, 14, 20, 22].into_iter().enumerate() {
        clock.set(ms(due));
        until(|| order.lock().unwrap().len() > k).await;
    }
    for t in tasks {
        t.await.unwrap();
    }
    assert_eq!(*order.lock().unwrap(), [0, 1, 2, 3, 4, 5]);
    assert_eq!(limiter.waiters(), 0);
}

/// `try_acquire` never jumps the queue: while anyone waits it fails without
/// an instant; once the waiter is gone, the schedule is what it was.
async fn rate_limiter_try_acquire_fails_while_anyone_waits<R: Runtime>(rt: R) {
    let limiter = Arc::new(RateLimiter::new(rt.clone(), glacial()));
    limiter.try_acquire().unwrap();
    let before = limiter.try_acquire();
    assert!(matches!(
        before,
        Err(TryAcquireError::RateLimited { ready_at: Some(_) })
    ));
    let waiter = rt.spawn({
        let limiter = limiter.clone();
        async move { limiter.acquire().await.unwrap() }
    });
    until(|| limiter.waiters() == 1).await;
    assert_eq!(
        limiter.try_acquire(),
        Err(TryAcquireError::RateLimited { ready_at: None })
    );
    waiter.abort();
    assert!(waiter.await.unwrap_err().is_cancelled());
    assert_eq!(limiter.waiters(), 0);
    assert_eq!(limiter.try_acquire(), before);
}

/// More cells than the burst are refused at once, on the async path too,
/// and the refusal takes nothing.
async fn rate_limiter_refuses_more_than_the_burst_at_once<R: Runtime>(rt: R) {
    let limiter = RateLimiter::new(rt, Quota::per_second(nz(4)));
    assert_eq!(
        limiter.acquire_n(5).await,
        Err(InsufficientCapacity {
            requested: 5,
            burst: 4
        })
    );
    limiter.acquire_n(4).await.unwrap();
}

/// Waiters dropped while they wait, at the head (sleeping) or queued behind
/// another, take no cell and leave the queue: the next cell is due exactly
/// when it was before.
async fn rate_limiter_cancelled_waiter_takes_nothing<R: Runtime>(rt: R) {
    let limiter = Arc::new(RateLimiter::new(rt.clone(), glacial()));
    limiter.try_acquire().unwrap();
    let due = limiter.try_acquire();
    assert_eq!(race_yields(limiter.acquire(), 3).await, None);
    assert_eq!(limiter.waiters(), 0);
    assert_eq!(limiter.try_acquire(), due);
    let head = rt.spawn({
        let limiter = limiter.clone();
        async move { limiter.acquire().await.unwrap() }
    });
    until(|| limiter.waiters() == 1).await;
    assert_eq!(race_yields(limiter.acquire(), 3).await, None);
    assert_eq!(limiter.waiters(), 1);
    head.abort();
    assert!(head.await.unwrap_err().is_cancelled());
    assert_eq!(limiter.waiters(), 0);
    assert_eq!(limiter.try_acquire(), due);
}

/// Each key has its own budget and queue: a key with waiters does not hold
/// back another key.
async fn keyed_limiter_keys_do_not_wait_for_each_other<R: Runtime>(rt: R) {
    let limiter = Arc::new(KeyedRateLimiter::new(rt.clone(), glacial()));
    limiter.try_acquire(&"busy").unwrap();
    let waiter = rt.spawn({
        let limiter = limiter.clone();
        async move { limiter.acquire(&"busy").await.unwrap() }
    });
    anysync_tests::yield_now().await;
    assert!(limiter.try_acquire(&"busy").is_err());
    limiter.acquire(&"idle").await.unwrap();
    assert!(limiter.try_acquire(&"idle").is_err());
    assert_eq!(limiter.len(), 2);
    waiter.abort();
    assert!(waiter.await.unwrap_err().is_cancelled());
}

/// Ten calls through `Limits(3 at once, one a millisecond)`: never more
/// than three inside, everyone served, entries in arrival order, and every
/// permit back at the end. The rate's clock moves one slot at a time, only
/// once the previous entry is recorded, so the recorded order is the order
/// of entry on every executor (see [`SteppedClock`]).
async fn limits_never_exceed_the_concurrency_and_serve_everyone<R: Runtime>(rt: R) {
    let clock = SteppedClock::default();
    let limits = Arc::new(Limits::new(
        clock.clone(),
        3,
        Quota::per(nz(1), ms(1)).unwrap(),
    ));
    let inside = Arc::new(AtomicUsize::new(0));
    let peak = Arc::new(AtomicUsize::new(0));
    let order = Arc::new(StdMutex::new(Vec::new()));
    let mut tasks = Vec::new();
    for i in 0..10 {
        let (limits2, inside, peak, order2) =
            (limits.clone(), inside.clone(), peak.clone(), order.clone());
        tasks.push(rt.spawn(async move {
            let permit = limits2.acquire().await.unwrap();
            let now = inside.fetch_add(1, Ordering::SeqCst) + 1;
            peak.fetch_max(now, Ordering::SeqCst);
            order2.lock().unwrap().push(i);
            // Stay inside a while (on the stepped clock a real sleep would
            // stall the virtual runtime, which never goes idle).
            for _ in 0..8 {
                anysync_tests::yield_now().await;
            }
            inside.fetch_sub(1, Ordering::SeqCst);
            drop(permit);
        }));
        // Task i has arrived once it has entered or is waiting (for the
        // rate, or with the rate lock held, for a permit).
        until(|| order.lock().unwrap().len() + limits.rate_limiter().waiters() > i).await;
    }
    // Task 0 entered at 0 ms; each further slot is due one millisecond
    // after the one before.
    for k in 1..10 {
        until(|| order.lock().unwrap().len() == k).await;
        clock.set(ms(k as u64));
    }
    for t in tasks {
        t.await.unwrap();
    }
    assert!(peak.load(Ordering::SeqCst) <= 3);
    assert_eq!(*order.lock().unwrap(), (0..10).collect::<Vec<_>>());
    assert_eq!(limits.semaphore().available_permits(), 3);
}

scenarios!(
    rate_limiter_serves_waiters_in_arrival_order,
    rate_limiter_try_acquire_fails_while_anyone_waits,
    rate_limiter_refuses_more_than_the_burst_at_once,
    rate_limiter_cancelled_waiter_takes_nothing,
    keyed_limiter_keys_do_not_wait_for_each_other,
    limits_never_exceed_the_concurrency_and_serve_everyone,
);

// ---- exact instants, on the virtual clock only --------------------------------

fn at(ms_since_origin: u64) -> Instant {
    Instant::from_origin(ms(ms_since_origin))
}

/// A burst of `b` goes at once; after it, one cell every replenish interval.
#[test]
fn virtual_time_burst_then_one_cell_per_interval() {
    let vt = VirtualTime::new();
    let times = vt.block_on(|rt| async move {
        let limiter = RateLimiter::new(rt.clone(), Quota::per_second(nz(5)).allow_burst(nz(3)));
        let mut times = Vec::new();
        for _ in 0..6 {
            limiter.acquire().await.unwrap();
            times.push(rt.now());
        }
        times
    });
    assert_eq!(times, [at(0), at(0), at(0), at(200), at(400), at(600)]);
}

/// The guides' exercise: 10 calls at 2 per second with at most 3 at once,
/// each working 2 s. Start times are exact, at most 3 run at once, and no
/// task held a permit while it waited for the rate.
#[test]
fn virtual_time_ten_calls_at_two_per_second_with_three_at_once() {
    let vt = VirtualTime::new();
    let (starts, peak_idle) = vt.block_on(|rt| async move {
        let limits = Arc::new(Limits::new(rt.clone(), 3, Quota::per_second(nz(2))));
        let starts = Arc::new(StdMutex::new(Vec::new()));
        let mut tasks = Vec::new();
        for i in 0..10 {
            let (limits, starts, rt2) = (limits.clone(), starts.clone(), rt.clone());
            tasks.push(rt.spawn(async move {
                let permit = limits.acquire().await.unwrap();
                starts.lock().unwrap().push((i, rt2.now()));
                rt2.sleep(ms(2000)).await;
                drop(permit);
            }));
        }
        // Sample the permits every 100 ms, between the instants at which
        // calls start and end: a permit that is out is always held by a
        // running call (3 - available == running).
        let mut worst = 0usize;
        rt.sleep(ms(50)).await;
        for _ in 0..70 {
            rt.sleep(ms(100)).await;
            let held = 3 - limits.semaphore().available_permits();
            let now = rt.now();
            let running = starts
                .lock()
                .unwrap()
                .iter()
                .filter(|&&(_, s)| s <= now && now < s + ms(2000))
                .count();
            worst = worst.max(held.saturating_sub(running));
        }
        for t in tasks {
            t.await.unwrap();
        }
        let starts = starts.lock().unwrap().clone();
        (starts, worst)
    });
    let expected = [0, 0, 500, 2000, 2000, 2500, 4000, 4000, 4500, 6000];
    assert_eq!(
        starts,
        expected
            .iter()
            .enumerate()
            .map(|(i, &t)| (i, at(t)))
            .collect::<Vec<_>>()
    );
    assert_eq!(
        peak_idle, 0,
        "a permit was held by a task waiting for the rate"
    );
    // At most 3 at once, at every start.
    for &(_, s) in &starts {
        let running = starts
            .iter()
            .filter(|&&(_, t)| t <= s && s < t + ms(2000))
            .count();
        assert!(running <= 3);
    }
}

/// Two keys of a keyed limiter keep separate schedules on the same clock.
#[test]
fn virtual_time_keyed_limiter_schedules_each_key_separately() {
    let vt = VirtualTime::new();
    let log = vt.block_on(|rt| async move {
        let limiter = Arc::new(KeyedRateLimiter::new(rt.clone(), Quota::per_second(nz(1))));
        let log = Arc::new(StdMutex::new(Vec::new()));
        let mut tasks = Vec::new();
        for key in ["a", "b", "a", "a", "b"] {
            let (limiter, log, rt2) = (limiter.clone(), log.clone(), rt.clone());
            tasks.push(rt.spawn(async move {
                limiter.acquire(&key).await.unwrap();
                log.lock().unwrap().push((key, rt2.now()));
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        let log = log.lock().unwrap().clone();
        log
    });
    assert_eq!(
        log,
        [
            ("a", at(0)),
            ("b", at(0)),
            ("a", at(1000)),
            ("b", at(1000)),
            ("a", at(2000)),
        ]
    );
}

use alloc::{boxed::Box, string::ToString, sync::Arc, vec::Vec};
use core::{num::NonZeroU32, pin::pin, time::Duration};
use std::sync::Mutex as StdMutex;

use futures_util::future::{select, Either};
use proptest::prelude::*;

mod loom;

use super::*;
use crate::{
    rt::virtual_time::VirtualTime,
    time::{KeyedRateLimiter, Limits, QuotaError},
    util::{
        hostile::{panics, Hostile},
        test::TestTask,
    },
};

fn nz(n: u32) -> NonZeroU32 {
    NonZeroU32::new(n).unwrap()
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn at_ms(n: u64) -> Instant {
    Instant::from_origin(ms(n))
}

/// A clock set by hand, which may even be set backwards. Its sleeps end
/// once it reaches their deadline, and register no waker: for the
/// non-waiting methods and for hand-polled tests.
#[derive(Clone, Debug, Default)]
struct ManualTimer(Arc<StdMutex<u64>>);

impl ManualTimer {
    fn set(&self, nanos: u64) {
        *self.0.lock().unwrap() = nanos;
    }

    fn set_ms(&self, ms: u64) {
        self.set(ms * 1_000_000);
    }

    fn nanos(&self) -> u64 {
        *self.0.lock().unwrap()
    }
}

struct ManualSleep {
    timer: ManualTimer,
    deadline: u64,
}

impl Future for ManualSleep {
    type Output = ();

    fn poll(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<()> {
        if self.timer.nanos() >= self.deadline {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }
}

impl Timer for ManualTimer {
    type Sleep = ManualSleep;

    fn sleep(&self, d: Duration) -> ManualSleep {
        ManualSleep {
            timer: self.clone(),
            deadline: self.nanos().saturating_add(saturating_nanos(d)),
        }
    }

    fn now(&self) -> Instant {
        instant_at(self.nanos())
    }
}

#[test]
fn quota_constructors_and_bad_input() {
    let q = Quota::per_second(nz(4));
    assert_eq!(q.replenish_interval(), ms(250));
    assert_eq!(q.burst(), nz(4));
    assert_eq!(q.burst_period(), Duration::from_secs(1));
    assert_eq!(
        Quota::per_minute(nz(60)).replenish_interval(),
        Duration::from_secs(1)
    );
    assert_eq!(
        Quota::per_hour(nz(1)).replenish_interval(),
        Duration::from_secs(3600)
    );
    assert_eq!(Quota::with_period(ms(10)).unwrap().burst(), nz(1));
    assert_eq!(
        Quota::with_period(Duration::ZERO),
        Err(QuotaError::ZeroPeriod)
    );
    assert_eq!(
        Quota::per(nz(3), Duration::ZERO),
        Err(QuotaError::ZeroPeriod)
    );
    assert_eq!(
        Quota::per(nz(10), ms(100)).unwrap().replenish_interval(),
        ms(10)
    );
    for bad in [f64::NAN, f64::INFINITY, -1.0, 0.0, -0.0, f64::NEG_INFINITY] {
        assert_eq!(
            Quota::per_second_f64(bad),
            Err(QuotaError::InvalidRate),
            "{bad}"
        );
    }
    assert_eq!(
        Quota::per_second_f64(0.5).unwrap().replenish_interval(),
        Duration::from_secs(2)
    );
    // Faster than one per nanosecond rounds to the fastest interval, never zero.
    assert_eq!(
        Quota::per_second(nz(u32::MAX)).replenish_interval(),
        Duration::from_nanos(1)
    );
    assert_eq!(
        Quota::per_second_f64(1e12).unwrap().replenish_interval(),
        Duration::from_nanos(1)
    );
    // Huge periods saturate instead of overflowing.
    let slow = Quota::with_period(Duration::MAX)
        .unwrap()
        .allow_burst(nz(u32::MAX));
    assert_eq!(slow.burst_period(), Duration::from_nanos(u64::MAX));
}

#[test]
fn burst_is_immediate_and_the_next_cell_waits_one_interval() {
    let timer = ManualTimer::default();
    let limiter = RateLimiter::new(timer.clone(), Quota::per_second(nz(2)).allow_burst(nz(3)));
    for _ in 0..3 {
        limiter.try_acquire().unwrap();
    }
    assert_eq!(
        limiter.try_acquire(),
        Err(TryAcquireError::RateLimited {
            ready_at: Some(at_ms(500))
        })
    );
    timer.set(499_999_999);
    assert!(limiter.try_acquire().is_err());
    timer.set(500_000_000);
    limiter.try_acquire().unwrap();
    // A long idle spell refills at most the burst.
    timer.set(3_600_000_000_000);
    for _ in 0..3 {
        limiter.try_acquire().unwrap();
    }
    assert!(limiter.try_acquire().is_err());
}

#[test]
fn more_than_the_burst_is_refused_at_once() {
    let limiter = RateLimiter::new(ManualTimer::default(), Quota::per_second(nz(5)));
    let e = InsufficientCapacity {
        requested: 6,
        burst: 5,
    };
    assert_eq!(
        limiter.try_acquire_n(6),
        Err(TryAcquireError::InsufficientCapacity(e))
    );
    assert_eq!(futures_executor::block_on(limiter.acquire_n(6)), Err(e));
    assert_eq!(
        futures_executor::block_on(limiter.acquire_n(u32::MAX))
            .unwrap_err()
            .requested,
        u32::MAX
    );
    // Nothing was taken by the refusals.
    limiter.try_acquire_n(5).unwrap();
    assert_eq!(
        e.to_string(),
        "requested 6 cells at once, more than the burst of 5"
    );
}

#[test]
fn zero_cells_are_granted_at_once_even_when_exhausted() {
    let limiter = RateLimiter::new(ManualTimer::default(), Quota::per_second(nz(1)));
    limiter.try_acquire().unwrap();
    limiter.try_acquire_n(0).unwrap();
    futures_executor::block_on(limiter.acquire_n(0)).unwrap();
}

#[test]
fn a_clock_going_backwards_neither_panics_nor_over_grants() {
    let timer = ManualTimer::default();
    timer.set(10_000_000_000);
    let limiter = RateLimiter::new(timer.clone(), Quota::per_second(nz(1)));
    limiter.try_acquire().unwrap();
    assert!(limiter.try_acquire().is_err());
    // Back to before the limiter existed, then to zero.
    timer.set(5_000_000_000);
    assert!(limiter.try_acquire().is_err());
    timer.set(0);
    assert!(limiter.try_acquire().is_err());
    // Forward again: the cell is due one interval after the last grant.
    timer.set(10_999_999_999);
    assert!(limiter.try_acquire().is_err());
    timer.set(11_000_000_000);
    limiter.try_acquire().unwrap();
}

#[test]
fn waits_are_exact_on_the_virtual_clock() {
    VirtualTime::new().block_on(|rt| async move {
        let limiter = RateLimiter::new(rt.clone(), Quota::per_second(nz(4)).allow_burst(nz(2)));
        let mut times = Vec::new();
        for _ in 0..5 {
            limiter.acquire().await.unwrap();
            times.push(rt.now());
        }
        assert_eq!(
            times,
            [at_ms(0), at_ms(0), at_ms(250), at_ms(500), at_ms(750)]
        );
        // Two at once need two intervals after an exhausted state.
        limiter.acquire_n(2).await.unwrap();
        assert_eq!(rt.now(), at_ms(1250));
    });
}

#[test]
fn a_large_waiter_is_not_overtaken_by_later_small_ones() {
    VirtualTime::new().block_on(|rt| async move {
        let limiter = Arc::new(RateLimiter::new(
            rt.clone(),
            Quota::per_second(nz(10)).allow_burst(nz(5)),
        ));
        limiter.try_acquire_n(5).unwrap();
        let order = Arc::new(StdMutex::new(Vec::new()));
        let mut handles = Vec::new();
        for (name, n) in [("big", 5), ("small1", 1), ("small2", 1)] {
            let (limiter, order, rt2) = (limiter.clone(), order.clone(), rt.clone());
            handles.push(rt.spawn(async move {
                limiter.acquire_n(n).await.unwrap();
                order.lock().unwrap().push((name, rt2.now()));
            }));
            // Let each task queue before the next is spawned.
            crate::task::yield_now().await;
        }
        assert_eq!(limiter.waiters(), 3);
        assert!(
            limiter.try_acquire().is_err(),
            "try_acquire jumped the queue"
        );
        for h in handles {
            h.await.unwrap();
        }
        assert_eq!(
            *order.lock().unwrap(),
            [
                ("big", at_ms(500)),
                ("small1", at_ms(600)),
                ("small2", at_ms(700))
            ]
        );
        assert_eq!(limiter.waiters(), 0);
    });
}

#[test]
fn a_cancelled_waiter_consumes_nothing_and_passes_its_turn_on() {
    VirtualTime::new().block_on(|rt| async move {
        let limiter = Arc::new(RateLimiter::new(rt.clone(), Quota::per_second(nz(1))));
        limiter.try_acquire().unwrap();
        // A waiter for the next cell gives up half way.
        {
            let acquire = pin!(limiter.acquire());
            let timeout = pin!(rt.sleep(ms(400)));
            assert!(matches!(select(acquire, timeout).await, Either::Right(_)));
        }
        assert_eq!(limiter.waiters(), 0);
        // The cell it waited for is still there, due at 1 s as before.
        limiter.acquire().await.unwrap();
        assert_eq!(rt.now(), at_ms(1000));
        // A waiter cancelled while queued behind another also takes nothing.
        let head = rt.spawn({
            let limiter = limiter.clone();
            async move { limiter.acquire().await.unwrap() }
        });
        crate::task::yield_now().await;
        {
            let second = pin!(limiter.acquire());
            let timeout = pin!(rt.sleep(ms(1)));
            assert!(matches!(select(second, timeout).await, Either::Right(_)));
        }
        head.await.unwrap();
        assert_eq!(rt.now(), at_ms(2000));
        limiter.acquire().await.unwrap();
        assert_eq!(rt.now(), at_ms(3000));
    });
}

/// Keys taking turns, each idle again by the time the next is used: the
/// default limiter forgets keys that are about to come back; one built
/// `with_capacity` for them keeps every one.
#[test]
fn keyed_with_capacity_keeps_idle_keys_up_to_it() {
    let timer = ManualTimer::default();
    let default = KeyedRateLimiter::new(timer.clone(), Quota::per_second(nz(1)));
    let sized = KeyedRateLimiter::with_capacity(timer.clone(), Quota::per_second(nz(1)), 100);
    let mut now = 0;
    for _round in 0..3 {
        for key in 0..100u32 {
            // A second later: every key used before is full again.
            now += 1_000_000_000;
            timer.set(now);
            default.try_acquire(&key).unwrap();
            sized.try_acquire(&key).unwrap();
            // Each key still has its own budget of one.
            assert!(sized.try_acquire(&key).is_err());
        }
        assert_eq!(sized.len(), 100);
        assert!(default.len() <= 2 * 16, "{} keys", default.len());
    }
    // Past its capacity, the sized limiter sweeps as the default one does,
    // so the map stays bounded by recent use.
    for key in 1000..1400u32 {
        now += 1_000_000_000;
        timer.set(now);
        sized.try_acquire(&key).unwrap();
        assert!(sized.len() <= 101, "{} keys", sized.len());
    }
    // An explicit trim still forgets every idle key.
    timer.set(now + 1_000_000_000);
    sized.retain_recent();
    assert_eq!(sized.len(), 0);
}

#[test]
fn keyed_limits_are_separate_and_idle_keys_are_forgotten() {
    let timer = ManualTimer::default();
    let limiter = KeyedRateLimiter::new(timer.clone(), Quota::per_second(nz(1)));
    for key in 0..1000u32 {
        limiter.try_acquire(&key).unwrap();
        assert!(limiter.try_acquire(&key).is_err());
        // Nothing is idle yet, so nothing may be forgotten.
        assert_eq!(limiter.len(), key as usize + 1);
    }
    timer.set(1_000_000_000);
    limiter.try_acquire(&5000).unwrap();
    // Every old key is full again: trimming keeps only the busy one.
    limiter.retain_recent();
    assert_eq!(limiter.len(), 1);
    // A forgotten key behaves like a fresh one: exactly one cell again.
    limiter.try_acquire(&7).unwrap();
    assert!(limiter.try_acquire(&7).is_err());
    assert_eq!(limiter.len(), 2);
    // Many keys over time: memory stays bounded by recent use.
    for round in 0..50u64 {
        timer.set(2_000_000_000 + round * 1_000_000_000);
        for key in 0..20u32 {
            limiter
                .try_acquire(&(10_000 + round as u32 * 100 + key))
                .unwrap();
        }
        assert!(limiter.len() <= 2 * 20 + 16, "{} keys kept", limiter.len());
    }
}

#[test]
fn keyed_waits_are_fifo_per_key_and_independent_across_keys() {
    VirtualTime::new().block_on(|rt| async move {
        let limiter = Arc::new(KeyedRateLimiter::new(rt.clone(), Quota::per_second(nz(2))));
        let log = Arc::new(StdMutex::new(Vec::new()));
        let mut handles = Vec::new();
        for (i, key) in ["a", "a", "a", "b", "a", "b"].into_iter().enumerate() {
            let (limiter, log, rt2) = (limiter.clone(), log.clone(), rt.clone());
            handles.push(rt.spawn(async move {
                limiter.acquire(&key).await.unwrap();
                log.lock().unwrap().push((i, key, rt2.now()));
            }));
            crate::task::yield_now().await;
        }
        for h in handles {
            h.await.unwrap();
        }
        let mut log = log.lock().unwrap().clone();
        log.sort_by_key(|&(i, _, _)| i);
        assert_eq!(
            log,
            [
                (0, "a", at_ms(0)),
                (1, "a", at_ms(0)),
                (2, "a", at_ms(500)),
                (3, "b", at_ms(0)),
                (4, "a", at_ms(1000)),
                (5, "b", at_ms(0)),
            ]
        );
        assert_eq!(
            futures_executor::block_on(limiter.acquire_n(&"c", 3)),
            Err(InsufficientCapacity {
                requested: 3,
                burst: 2
            })
        );
    });
}

#[test]
fn limits_never_hold_a_permit_while_waiting_for_the_rate() {
    VirtualTime::new().block_on(|rt| async move {
        let limits = Arc::new(Limits::new(rt.clone(), 3, Quota::per_second(nz(1))));
        let first = limits.acquire().await.unwrap();
        assert_eq!(limits.semaphore().available_permits(), 2);
        // Three more callers: the rate allows the next at 1 s, 2 s, 3 s.
        let mut handles = Vec::new();
        for _ in 0..3 {
            let (limits, rt2) = (limits.clone(), rt.clone());
            handles.push(rt.spawn(async move {
                let permit = limits.acquire().await.unwrap();
                let entered = rt2.now();
                rt2.sleep(ms(100)).await;
                drop(permit);
                entered
            }));
        }
        rt.sleep(ms(500)).await;
        // Everyone is waiting for the rate; nobody holds an idle permit.
        assert_eq!(limits.semaphore().available_permits(), 2);
        assert!(limits.try_acquire().is_err());
        let mut entered = Vec::new();
        for h in handles {
            entered.push(h.await.unwrap());
        }
        assert_eq!(entered, [at_ms(1000), at_ms(2000), at_ms(3000)]);
        drop(first);
        assert_eq!(limits.semaphore().available_permits(), 3);
    });
}

#[test]
fn limits_wait_for_a_permit_with_the_rate_slot_reserved() {
    VirtualTime::new().block_on(|rt| async move {
        let limits = Arc::new(Limits::new(rt.clone(), 1, Quota::per_second(nz(10))));
        let held = limits.acquire().await.unwrap();
        let waiter = rt.spawn({
            let (limits, rt2) = (limits.clone(), rt.clone());
            async move {
                let _p = limits.acquire().await.unwrap();
                rt2.now()
            }
        });
        rt.sleep(ms(2000)).await;
        drop(held);
        // The rate slot was due long ago; it is taken when the permit comes.
        assert_eq!(waiter.await.unwrap(), at_ms(2000));
        limits.semaphore().close();
        assert_eq!(
            limits.acquire().await.unwrap_err(),
            crate::sync::AcquireError::Closed
        );
        // The closed semaphore's refusal took no rate slot.
        assert!(limits.rate_limiter().try_acquire().is_ok());
    });
}

#[test]
fn limits_take_the_slot_at_no_earlier_reading_than_they_saw_it_due() {
    let timer = ManualTimer::default();
    let limits = Limits::new(timer.clone(), 1, Quota::per_second(nz(1)));
    let held = limits.semaphore().try_acquire().unwrap();
    timer.set_ms(5000);
    // The slot is due at 5 s: the acquire waits for the permit, holding
    // the rate queue.
    let mut entering = TestTask::new(limits.acquire());
    entering.pending();
    // The clock goes back before the permit comes.
    timer.set_ms(2000);
    drop(held);
    assert!(entering.is_woken());
    let permit = entering.ready().unwrap();
    // Taken as at 5 s, not 2 s: back at 5 s there is no second cell.
    timer.set_ms(5000);
    assert_eq!(
        limits.rate_limiter().try_acquire(),
        Err(TryAcquireError::RateLimited {
            ready_at: Some(at_ms(6000))
        })
    );
    drop(permit);
}

/// Threads that take from one limiter (plain, keyed and through `Limits`)
/// with the clock standing still get exactly the burst between them: no
/// two takers share a cell, whether they take with a compare-and-swap (the
/// plain limiter and `Limits`) or under the key map's lock.
#[test]
fn concurrent_takers_get_exactly_the_burst() {
    const THREADS: usize = 4;
    let tries = if cfg!(miri) { 20 } else { 5_000 };
    let burst = if cfg!(miri) { 30 } else { 6_000 };
    let timer = ManualTimer::default();
    timer.set_ms(1);
    let quota = Quota::per_hour(nz(1)).allow_burst(nz(burst));
    let plain = RateLimiter::new(timer.clone(), quota);
    let keyed = KeyedRateLimiter::new(timer.clone(), quota);
    let limits = Limits::new(timer.clone(), THREADS, quota);
    let granted = std::thread::scope(|scope| {
        let takers: Vec<_> = (0..THREADS)
            .map(|_| {
                scope.spawn(|| {
                    let mut got = [0u32; 3];
                    for _ in 0..tries {
                        got[0] += u32::from(plain.try_acquire().is_ok());
                        got[1] += u32::from(keyed.try_acquire(&"k").is_ok());
                        got[2] += u32::from(limits.try_acquire().is_ok());
                    }
                    got
                })
            })
            .collect();
        takers.into_iter().fold([0u32; 3], |mut sum, taker| {
            let got = taker.join().unwrap();
            for (s, g) in sum.iter_mut().zip(got) {
                *s += g;
            }
            sum
        })
    });
    assert!(
        THREADS as u32 * tries > burst,
        "the threads ask for more than the burst"
    );
    assert_eq!(granted, [burst; 3]);
    assert_eq!(limits.semaphore().available_permits(), THREADS);
}

/// One step of a random schedule: move the clock (possibly backwards) by
/// `step` ms, then ask for `n` cells without waiting.
#[cfg(not(miri))]
#[derive(Clone, Debug)]
struct Step {
    step: i64,
    n: u32,
}

#[cfg(not(miri))]
fn steps() -> impl Strategy<Value = Vec<Step>> {
    proptest::collection::vec(
        (-300i64..1000, 0u32..6).prop_map(|(step, n)| Step { step, n }),
        1..80,
    )
}

/// A token bucket in nanoseconds of credit, the textbook equivalent of GCRA.
/// `credit` is the credit at `seen`, the latest reading; a reading behind it
/// (a clock gone backwards) has that much less.
struct Model {
    interval: u64,
    burst: u32,
    credit: u64,
    seen: u64,
}

impl Model {
    fn try_take(&mut self, now: u64, n: u32) -> Result<(), TryAcquireError> {
        if n > self.burst {
            return Err(TryAcquireError::InsufficientCapacity(
                InsufficientCapacity {
                    requested: n,
                    burst: self.burst,
                },
            ));
        }
        if n == 0 {
            // Zero cells are granted without reading the clock.
            return Ok(());
        }
        if now > self.seen {
            let cap = self.interval * u64::from(self.burst);
            self.credit = (self.credit + (now - self.seen)).min(cap);
            self.seen = now;
        }
        let behind = self.seen - now;
        let cost = self.interval * u64::from(n);
        if self.credit >= cost + behind {
            self.credit -= cost;
            Ok(())
        } else {
            // Due when the credit at `seen` covers the cost.
            Err(TryAcquireError::RateLimited {
                ready_at: Some(instant_at(self.seen + cost - self.credit)),
            })
        }
    }
}

// Property tests: logic, not memory safety, and far too slow under miri.
#[cfg(not(miri))]
proptest!(
    /// Under random requests and random clock steps (backwards included),
    /// the limiter grants exactly what the token-bucket model grants, and
    /// says the same `ready_at`.
    #[test]
    fn limiter_matches_the_token_bucket_model(
        rate in 1u32..20,
        burst in 1u32..5,
        steps in steps(),
    ) {
        let timer = ManualTimer::default();
        let quota = Quota::per_second(nz(rate)).allow_burst(nz(burst));
        let limiter = RateLimiter::new(timer.clone(), quota);
        let mut model = Model {
            interval: quota.replenish_interval().as_nanos() as u64,
            burst,
            credit: quota.burst_period().as_nanos() as u64,
            seen: 0,
        };
        let mut now: i64 = 0;
        let mut granted: Vec<(u64, u32)> = Vec::new();
        let mut max_seen = 0u64;
        for Step { step, n } in steps {
            now = (now + step * 1_000_000).max(0);
            timer.set(now as u64);
            if n > 0 && n <= burst {
                // Zero-cell and impossible requests do not read the clock.
                max_seen = max_seen.max(now as u64);
            }
            let got = limiter.try_acquire_n(n);
            prop_assert_eq!(got, model.try_take(now as u64, n));
            if got.is_ok() && n > 0 {
                granted.push((max_seen, n));
            }
        }
        // And the defining bound: in any window of the (monotone) clock, no
        // more than burst + elapsed / interval cells.
        let interval = u64::from(1_000_000_000 / rate);
        for i in 0..granted.len() {
            let mut total = 0u64;
            for &(t, n) in &granted[i..] {
                total += u64::from(n);
                prop_assert!(total <= u64::from(burst) + (t - granted[i].0) / interval);
            }
        }
    }

    /// The GCRA state alone: `check` never changes it, `take` changes it
    /// exactly when `check` says yes, and the `ready_at` they give is the
    /// first instant that succeeds.
    #[test]
    fn gcra_ready_at_is_the_first_instant_that_succeeds(
        tat in 0u64..10_000,
        now in 0u64..10_000,
        n in 1u32..4,
    ) {
        let quota = Quota::per(nz(1), Duration::from_nanos(100)).unwrap().allow_burst(nz(3));
        let state = Tat::new(tat);
        let checked = state.check(&quota, now, n);
        prop_assert_eq!(state.load(), tat);
        prop_assert_eq!(state.take(&quota, now, n), checked);
        match checked {
            Ok(()) => {
                // Past the instant granted at, by exactly the cells' cost.
                prop_assert_eq!(state.load(), tat.max(now) + 100 * u64::from(n));
            }
            Err(at) => {
                prop_assert_eq!(state.load(), tat);
                prop_assert!(at > now);
                prop_assert!(gcra(tat, &quota, at - 1, n).is_err());
                prop_assert!(gcra(tat, &quota, at, n).is_ok());
            }
        }
    }
);

/// Three acquires made by `make`, queued in this order: the head (polled
/// first, so it holds the limiter's queue), one polled with a `Hostile`
/// waker, and one more.
fn queue_behind_a_hostile<F: Future>(
    make: impl Fn() -> F,
) -> (Hostile, TestTask<F>, TestTask<F>, TestTask<F>) {
    let hostile = Hostile::new();
    let mut head = TestTask::new(make());
    head.pending();
    let mut bad = TestTask::new(make());
    assert!(bad.poll_with(&hostile.waker()).is_pending());
    let mut next = TestTask::new(make());
    next.pending();
    (hostile, head, bad, next)
}

/// With the hostile waker's wakes panicking, runs `hand_off` (which must
/// hand the queue to the hostile waiter) and checks that its wake ran and
/// its panic came out.
fn hand_off_into_a_panicking_wake(hostile: &Hostile, hand_off: impl FnOnce()) {
    hostile.panic_on_wake(true);
    assert!(panics(hand_off), "the wake's panic propagates");
    assert_eq!(hostile.wakes(), 1);
    assert_eq!(hostile.under_lock(), 0);
    hostile.panic_on_wake(false);
}

/// The two waiters left after a panicking hand-off are served in order,
/// one cell a second from `first_ms`.
fn served_in_order<F: Future<Output = Result<(), E>>, E: fmt::Debug + PartialEq>(
    timer: &ManualTimer,
    first_ms: u64,
    mut bad: TestTask<F>,
    mut next: TestTask<F>,
) {
    bad.pending();
    timer.set_ms(first_ms);
    assert_eq!(bad.ready(), Ok(()));
    assert!(next.is_woken(), "the queue was handed on");
    next.pending();
    timer.set_ms(first_ms + 1000);
    assert_eq!(next.ready(), Ok(()));
}

#[test]
fn a_grant_whose_hand_off_wake_panics_strands_no_one_and_takes_one_cell() {
    let timer = ManualTimer::default();
    let limiter = RateLimiter::new(timer.clone(), Quota::per_second(nz(1)));
    limiter.try_acquire().unwrap();
    // The head holds the queue, sleeping until 1 s; two more queue behind.
    let (hostile, mut head, bad, next) = queue_behind_a_hostile(|| limiter.acquire());
    assert_eq!(limiter.waiters(), 3);
    // The head's grant drops its guard, handing the queue to `bad`.
    timer.set_ms(1000);
    hand_off_into_a_panicking_wake(&hostile, || {
        let _ = head.poll();
    });
    assert_eq!(limiter.waiters(), 2, "the head left; the others still wait");
    assert!(limiter.try_acquire().is_err(), "nobody is overtaken");
    assert_eq!(next.wakes(), 0);
    // `bad`'s cell is due at 2 s.
    served_in_order(&timer, 2000, bad, next);
    assert_eq!(limiter.waiters(), 0);
    // One cell a second throughout: the panicking grant took exactly one.
    assert_eq!(
        limiter.try_acquire(),
        Err(TryAcquireError::RateLimited {
            ready_at: Some(at_ms(4000))
        })
    );
    timer.set_ms(4000);
    limiter.try_acquire().unwrap();
}

#[test]
fn a_cancelled_head_whose_hand_off_wake_panics_takes_nothing_and_strands_no_one() {
    let timer = ManualTimer::default();
    let limiter = RateLimiter::new(timer.clone(), Quota::per_second(nz(1)));
    limiter.try_acquire().unwrap();
    let (hostile, mut head, bad, next) = queue_behind_a_hostile(|| limiter.acquire());
    hand_off_into_a_panicking_wake(&hostile, || head.cancel());
    assert_eq!(limiter.waiters(), 2);
    // The cell the head waited for is still there, due at 1 s.
    served_in_order(&timer, 1000, bad, next);
    assert_eq!(limiter.waiters(), 0);
    assert_eq!(
        limiter.try_acquire(),
        Err(TryAcquireError::RateLimited {
            ready_at: Some(at_ms(3000))
        })
    );
}

#[test]
fn limits_lose_no_permit_when_the_permit_wake_panics() {
    let timer = ManualTimer::default();
    let limits = Limits::new(
        timer.clone(),
        1,
        Quota::per_second(nz(10)).allow_burst(nz(1)),
    );
    let held = limits.try_acquire().unwrap();
    timer.set_ms(100);
    let hostile = Hostile::new();
    // The head has its rate slot due and waits for the permit.
    let mut head = TestTask::new(limits.acquire());
    assert!(head.poll_with(&hostile.waker()).is_pending());
    let mut next = TestTask::new(limits.acquire());
    next.pending();
    hostile.panic_on_wake(true);
    assert!(panics(|| drop(held)), "the wake's panic propagates");
    assert_eq!(hostile.wakes(), 1);
    assert_eq!(
        limits.semaphore().available_permits(),
        0,
        "the permit went to the head"
    );
    hostile.panic_on_wake(false);
    let permit = head.ready().expect("the head gets the permit");
    assert!(next.is_woken(), "the rate lock was handed on");
    next.pending(); // its slot is due at 200 ms
    drop(permit);
    assert_eq!(limits.semaphore().available_permits(), 1);
    timer.set_ms(200);
    let permit = next.ready().unwrap();
    assert_eq!(limits.semaphore().available_permits(), 0);
    drop(permit);
    assert_eq!(limits.semaphore().available_permits(), 1);
    assert_eq!(limits.rate_limiter().waiters(), 0);
    // One slot per 100 ms: none taken twice, none lost.
    assert_eq!(
        limits.try_acquire().unwrap_err(),
        TryAcquireError::RateLimited {
            ready_at: Some(at_ms(300))
        }
    );
    timer.set_ms(300);
    drop(limits.try_acquire().unwrap());
}

#[test]
fn limits_give_the_permit_back_when_the_rate_hand_off_wake_panics() {
    // The head's entry drops its rate guard (waking the next in line)
    // while it holds the new permit: the panic must not leak that permit.
    let timer = ManualTimer::default();
    let limits = Limits::new(
        timer.clone(),
        2,
        Quota::per_second(nz(10)).allow_burst(nz(1)),
    );
    let hostile = Hostile::new();
    let mut head = TestTask::new(limits.acquire());
    let mut bad = TestTask::new(limits.acquire());
    let first = limits.try_acquire().unwrap();
    timer.set_ms(50);
    head.pending(); // holds the rate lock, sleeping until 100 ms
    assert!(bad.poll_with(&hostile.waker()).is_pending());
    hostile.panic_on_wake(true);
    timer.set_ms(100);
    assert!(panics(|| drop(head.poll())), "the wake's panic propagates");
    assert_eq!(hostile.wakes(), 1);
    assert_eq!(
        limits.semaphore().available_permits(),
        1,
        "the head's permit was given back, only `first` is out"
    );
    hostile.panic_on_wake(false);
    drop(first);
    bad.pending(); // the head's slot (100 ms) was taken: next at 200 ms
    timer.set_ms(200);
    let permit = bad.ready().unwrap();
    assert_eq!(limits.semaphore().available_permits(), 1);
    drop(permit);
    assert_eq!(limits.semaphore().available_permits(), 2);
    assert_eq!(limits.rate_limiter().waiters(), 0);
}

#[test]
fn a_keyed_grant_whose_hand_off_wake_panics_strands_no_one() {
    let timer = ManualTimer::default();
    let limiter = KeyedRateLimiter::new(timer.clone(), Quota::per_second(nz(1)));
    limiter.try_acquire(&1u32).unwrap();
    // The head holds key 1, sleeping until 1 s.
    let (hostile, mut head, bad, next) = queue_behind_a_hostile(|| limiter.acquire(&1));
    timer.set_ms(1000);
    hand_off_into_a_panicking_wake(&hostile, || {
        let _ = head.poll();
    });
    // Other keys are untouched.
    limiter.try_acquire(&2).unwrap();
    assert!(limiter.try_acquire(&1).is_err(), "nobody is overtaken");
    // The head's cell (1 s) was taken: next at 2 s.
    served_in_order(&timer, 2000, bad, next);
    assert_eq!(
        limiter.try_acquire(&1),
        Err(TryAcquireError::RateLimited {
            ready_at: Some(at_ms(4000))
        })
    );
    // Idle again later: the key can be forgotten (no reference leaked).
    timer.set_ms(10_000);
    limiter.retain_recent();
    assert_eq!(limiter.len(), 0);
}
/// A key whose `Hash` or `Clone` panics, or whose `Eq` stops finding it,
/// when told to.
#[derive(Debug)]
struct FlakyKey {
    id: u32,
    mode: Arc<core::sync::atomic::AtomicU8>,
}

const HASH_PANICS: u8 = 1;
const CLONE_PANICS: u8 = 2;
const LOST: u8 = 3;

impl FlakyKey {
    fn mode(&self) -> u8 {
        self.mode.load(core::sync::atomic::Ordering::SeqCst)
    }
}

impl core::hash::Hash for FlakyKey {
    fn hash<H: core::hash::Hasher>(&self, state: &mut H) {
        assert!(self.mode() != HASH_PANICS, "hostile key: hash panics");
        self.id.hash(state);
    }
}

impl PartialEq for FlakyKey {
    fn eq(&self, other: &Self) -> bool {
        self.mode() != LOST && self.id == other.id
    }
}

impl Eq for FlakyKey {}

impl Clone for FlakyKey {
    fn clone(&self) -> Self {
        assert!(self.mode() != CLONE_PANICS, "hostile key: clone panics");
        FlakyKey {
            id: self.id,
            mode: Arc::clone(&self.mode),
        }
    }
}

#[test]
fn keyed_keys_whose_hash_clone_or_eq_misbehave_leave_the_limiter_whole() {
    let timer = ManualTimer::default();
    let limiter = KeyedRateLimiter::new(timer.clone(), Quota::per_second(nz(1)));
    let mode = Arc::new(core::sync::atomic::AtomicU8::new(0));
    let set = |m: u8| mode.store(m, core::sync::atomic::Ordering::SeqCst);
    let key = |id| FlakyKey {
        id,
        mode: Arc::clone(&mode),
    };
    limiter.try_acquire(&key(1)).unwrap();
    // A new key whose clone panics, a known key whose hash panics: the
    // panic comes out, and nothing changed.
    set(CLONE_PANICS);
    assert!(panics(|| {
        let _ = limiter.try_acquire(&key(2));
    }));
    assert!(panics(|| drop(limiter.acquire(&key(2)))));
    set(HASH_PANICS);
    assert!(panics(|| {
        let _ = limiter.try_acquire(&key(1));
    }));
    set(0);
    assert_eq!(limiter.len(), 1);
    assert!(
        limiter.try_acquire(&key(1)).is_err(),
        "key 1's cell was taken"
    );
    limiter.try_acquire(&key(2)).unwrap();
    // A key that is not found again while it waits: its future panics
    // naming the cause, takes nothing, and other keys go on.
    let mut waiter = TestTask::new(limiter.acquire(&key(2)));
    waiter.pending();
    timer.set_ms(1000);
    set(LOST);
    let payload = std::panic::catch_unwind(core::panic::AssertUnwindSafe(|| waiter.poll()))
        .expect_err("the lost key's acquire panics");
    let message = payload.downcast_ref::<&str>().copied().unwrap_or_default();
    assert!(message.contains("`Hash` and `Eq`"), "{message}");
    set(0);
    drop(waiter);
    limiter.try_acquire(&key(1)).unwrap();
    limiter.try_acquire(&key(2)).unwrap();
    assert_eq!(limiter.len(), 2);
}

type Hook = Box<dyn FnOnce() + Send>;

/// A hand-set clock that runs a hook once, inside a reading: to act
/// between a caller's clock read and what it does next.
#[derive(Clone, Default)]
struct HookTimer {
    clock: ManualTimer,
    hook: Arc<StdMutex<Option<Hook>>>,
}

impl Timer for HookTimer {
    type Sleep = ManualSleep;

    fn sleep(&self, d: Duration) -> ManualSleep {
        self.clock.sleep(d)
    }

    fn now(&self) -> Instant {
        let hook = self.hook.lock().unwrap().take();
        if let Some(hook) = hook {
            hook();
        }
        self.clock.now()
    }
}

/// Runs `try_take` on a thread and, while that thread is inside its clock
/// reading, queues a waiter from `queue` (its cells due at 1 s) and moves
/// the clock to 1 s. Returns the try's answer and the waiter.
fn try_while_a_waiter_queues<'a, F: Future + Send + 'a, R: Send>(
    timer: &HookTimer,
    try_take: impl FnOnce() -> R + Send,
    queue: impl FnOnce() -> F,
) -> (R, TestTask<F>) {
    let inside = Arc::new(std::sync::Barrier::new(2));
    let resume = Arc::new(std::sync::Barrier::new(2));
    let (i, r) = (Arc::clone(&inside), Arc::clone(&resume));
    *timer.hook.lock().unwrap() = Some(Box::new(move || {
        i.wait();
        r.wait();
    }));
    std::thread::scope(|scope| {
        let taker = scope.spawn(try_take);
        inside.wait();
        let mut waiter = TestTask::new(queue());
        waiter.pending();
        timer.clock.set_ms(1000);
        resume.wait();
        (taker.join().unwrap(), waiter)
    })
}

#[test]
fn a_try_acquire_never_takes_the_cell_of_a_waiter_that_queued_after_its_check() {
    let timer = HookTimer::default();
    let quota = Quota::per_second(nz(1));
    let limiter = RateLimiter::new(timer.clone(), quota);
    let limits = Limits::new(timer.clone(), 1, quota);
    limiter.try_acquire().unwrap();
    drop(limits.try_acquire().unwrap());
    // Both are empty until 1 s. Between a try's clock reading and the rest
    // of it, a waiter queues (sleeping until 1 s, holding the queue) and
    // the clock reaches 1 s: the try must not take the waiter's cell.
    let queued = Err(TryAcquireError::RateLimited { ready_at: None });
    let (got, mut waiter) =
        try_while_a_waiter_queues(&timer, || limiter.try_acquire(), || limiter.acquire());
    assert_eq!(got, queued);
    assert_eq!(waiter.ready(), Ok(()), "the waiter's cell was still there");
    // The same through `Limits`, whose rate limiter is its own.
    timer.clock.set_ms(0);
    let (got, mut waiter) = try_while_a_waiter_queues(
        &timer,
        || limits.try_acquire().map(drop),
        || limits.rate_limiter().acquire(),
    );
    assert_eq!(got, queued);
    assert_eq!(waiter.ready(), Ok(()), "the waiter's cell was still there");
}

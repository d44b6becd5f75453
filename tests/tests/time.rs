//! Time and resilience on every executor: intervals, deadlines, retries,
//! the circuit breaker, debounce and throttle.
//!
//! Scenarios assert orderings and counts; exact instants are asserted at
//! the bottom, on `VirtualTime` alone.
#![forbid(unsafe_code)]

use core::{future::pending, time::Duration};

use anysync::{
    rt::{virtual_time::VirtualTime, Instant, Runtime},
    time::{interval, timeout, timeout_at, Elapsed, MissedTickBehavior},
};
use futures_util::StreamExt;

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn at(n: u64) -> Instant {
    Instant::from_origin(ms(n))
}

/// An interval's ticks are never early and their scheduled instants are one
/// period apart.
async fn interval_ticks_are_never_early_and_one_period_apart<R: Runtime>(rt: R) {
    let mut ticks = interval(rt.clone(), ms(5));
    let first = ticks.tick().await;
    let mut last = first;
    for _ in 0..4 {
        let tick = ticks.tick().await;
        assert_eq!(tick - last, ms(5));
        assert!(
            rt.now() >= tick,
            "tick at {tick:?} completed at {:?}",
            rt.now()
        );
        last = tick;
    }
}

/// An interval is a stream of the same ticks.
async fn interval_is_a_stream_of_ticks<R: Runtime>(rt: R) {
    let mut ticks = interval(rt.clone(), ms(2));
    ticks.set_missed_tick_behavior(MissedTickBehavior::Skip);
    let seen: Vec<Instant> = ticks.take(3).collect().await;
    assert_eq!(seen.len(), 3);
    assert!(seen.windows(2).all(|w| w[1] > w[0]));
}

/// `timeout_at` gives up once its deadline passes, dropping the inner
/// future; a ready future wins even with a deadline in the past.
async fn timeout_at_gives_up_at_its_deadline<R: Runtime>(rt: R) {
    let deadline = rt.now() + ms(5);
    assert_eq!(
        timeout_at(&rt, deadline, pending::<()>()).await,
        Err(Elapsed)
    );
    assert!(rt.now() >= deadline);
    assert_eq!(timeout_at(&rt, Instant::ORIGIN, async { 3 }).await, Ok(3));
    // A deadline too far away to represent never panics.
    let far = Instant::from_origin(Duration::MAX);
    assert_eq!(timeout_at(&rt, far, async { 4 }).await, Ok(4));
    assert!(timeout(&rt, ms(1), timeout_at(&rt, far, pending::<()>()))
        .await
        .is_err());
}

anysync_tests::scenarios!(
    interval_ticks_are_never_early_and_one_period_apart,
    interval_is_a_stream_of_ticks,
    timeout_at_gives_up_at_its_deadline,
);

// Exact times: on the virtual clock only.

#[test]
fn virtual_time_interval_ticks_exactly_on_schedule() {
    let vt = VirtualTime::new();
    let seen = vt.block_on(|rt| async move {
        let mut ticks = interval(rt.clone(), ms(100));
        let mut seen = Vec::new();
        for _ in 0..4 {
            ticks.tick().await;
            seen.push(rt.now());
        }
        seen
    });
    assert_eq!(seen, [at(0), at(100), at(200), at(300)]);
}

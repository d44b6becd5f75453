//! Time and resilience on every executor: intervals, deadlines, retries,
//! the circuit breaker, debounce and throttle.
//!
//! Scenarios assert orderings and counts; exact instants are asserted at
//! the bottom, on `VirtualTime` alone.
#![forbid(unsafe_code)]

extern crate alloc;

use alloc::sync::Arc;
use core::{
    future::pending,
    num::NonZeroU32,
    sync::atomic::{AtomicU32, Ordering},
    time::Duration,
};
use std::sync::Mutex;

use anysync::{
    rt::{virtual_time::VirtualTime, Instant, Runtime},
    sync::Event,
    time::{
        interval, retry, timeout, timeout_at, Backoff, Elapsed, Jitter, MissedTickBehavior,
        RetryError, RetryExt,
    },
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

fn attempts(n: u32) -> NonZeroU32 {
    NonZeroU32::new(n).unwrap()
}

/// An operation that counts its calls and fails until call `succeed_on`.
fn flaky(
    calls: &Arc<AtomicU32>,
    succeed_on: u32,
) -> impl FnMut() -> core::future::Ready<Result<u32, String>> {
    let calls = calls.clone();
    move || {
        let n = calls.fetch_add(1, Ordering::SeqCst) + 1;
        core::future::ready(if n >= succeed_on {
            Ok(n)
        } else {
            Err(format!("failure {n}"))
        })
    }
}

/// A retry that always fails makes exactly the allowed number of attempts
/// and returns the last error.
async fn retry_makes_exactly_n_attempts_and_returns_the_last_error<R: Runtime>(rt: R) {
    let calls = Arc::new(AtomicU32::new(0));
    let out = retry(
        rt.clone(),
        Backoff::constant(ms(1)),
        flaky(&calls, u32::MAX),
    )
    .attempts(attempts(4))
    .await;
    assert_eq!(
        out,
        Err(RetryError::Exhausted {
            error: "failure 4".into(),
            attempts: 4
        })
    );
    assert_eq!(calls.load(Ordering::SeqCst), 4);
    // One attempt in all means no retry at all.
    let calls = Arc::new(AtomicU32::new(0));
    let out = retry(rt, Backoff::constant(ms(1)), flaky(&calls, u32::MAX))
        .attempts(attempts(1))
        .await;
    assert_eq!(out.unwrap_err().attempts(), 1);
    assert_eq!(calls.load(Ordering::SeqCst), 1);
}

/// An error the predicate refuses stops the retry at once.
async fn retry_stops_at_once_on_a_non_retryable_error<R: Runtime>(rt: R) {
    let calls = Arc::new(AtomicU32::new(0));
    let out = flaky(&calls, u32::MAX)
        .retry(rt, Backoff::constant(ms(1)))
        .attempts(attempts(10))
        .retry_if(|e: &String| e != "failure 2")
        .await;
    assert_eq!(
        out,
        Err(RetryError::NotRetryable {
            error: "failure 2".into(),
            attempts: 2
        })
    );
    assert_eq!(calls.load(Ordering::SeqCst), 2);
}

/// Dropping a retry during its backoff stops further attempts.
async fn retry_dropped_during_backoff_makes_no_more_attempts<R: Runtime>(rt: R) {
    let calls = Arc::new(AtomicU32::new(0));
    let run = retry(
        rt.clone(),
        Backoff::constant(ms(50)),
        flaky(&calls, u32::MAX),
    )
    .attempts(attempts(10));
    assert!(timeout(&rt, ms(5), run).await.is_err());
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    rt.sleep(ms(120)).await;
    assert_eq!(
        calls.load(Ordering::SeqCst),
        1,
        "an attempt ran after the drop"
    );
}

/// A retry given a cancellation future stops when it completes, with the
/// last error, and starts no further attempt.
async fn retry_cancel_on_stops_during_backoff<R: Runtime>(rt: R) {
    let cancel = Arc::new(Event::new());
    let calls = Arc::new(AtomicU32::new(0));
    let seen = calls.clone();
    let trigger = cancel.clone();
    let out = retry(
        rt.clone(),
        Backoff::constant(Duration::from_secs(3600)),
        flaky(&calls, u32::MAX),
    )
    .attempts(attempts(10))
    .on_retry(move |attempt, _, _| {
        assert_eq!(seen.load(Ordering::SeqCst), attempt);
        trigger.set();
    })
    .cancel_on(cancel.wait())
    .await;
    assert_eq!(
        out,
        Err(RetryError::Cancelled {
            error: Some("failure 1".into()),
            attempts: 1
        })
    );
    assert_eq!(calls.load(Ordering::SeqCst), 1);
}

anysync_tests::scenarios!(
    interval_ticks_are_never_early_and_one_period_apart,
    interval_is_a_stream_of_ticks,
    timeout_at_gives_up_at_its_deadline,
    retry_makes_exactly_n_attempts_and_returns_the_last_error,
    retry_stops_at_once_on_a_non_retryable_error,
    retry_dropped_during_backoff_makes_no_more_attempts,
    retry_cancel_on_stops_during_backoff,
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

#[test]
fn virtual_time_retry_third_attempt_at_300_ms_after_100_and_200_ms_of_backoff() {
    let vt = VirtualTime::new();
    let (out, starts, hooks) = vt.block_on(|rt| async move {
        let starts = Arc::new(Mutex::new(Vec::new()));
        let hooks = Arc::new(Mutex::new(Vec::new()));
        let (clock, log) = (rt.clone(), starts.clone());
        let hook_log = hooks.clone();
        let mut calls = 0;
        let backoff = Backoff::exponential(ms(100), 2.0, Duration::from_secs(10)).unwrap();
        let out = retry(rt.clone(), backoff, move || {
            calls += 1;
            log.lock().unwrap().push(clock.now());
            let n = calls;
            async move {
                if n < 3 {
                    Err(n)
                } else {
                    Ok(n)
                }
            }
        })
        .attempts(attempts(3))
        .on_retry(move |attempt, error: &u32, delay| {
            hook_log.lock().unwrap().push((attempt, *error, delay));
        })
        .await;
        let starts = starts.lock().unwrap().clone();
        let hooks = hooks.lock().unwrap().clone();
        (out, starts, hooks)
    });
    assert_eq!(out, Ok(3));
    assert_eq!(starts, [at(0), at(100), at(300)]);
    assert_eq!(hooks, [(1, 1, ms(100)), (2, 2, ms(200))]);
    assert_eq!(vt.now(), at(300));
}

#[test]
fn virtual_time_retry_budget_stops_before_a_delay_that_would_overrun_it() {
    let vt = VirtualTime::new();
    let out = vt.block_on(|rt| async move {
        let calls = Arc::new(AtomicU32::new(0));
        retry(rt, Backoff::constant(ms(100)), flaky(&calls, u32::MAX))
            .budget(ms(250))
            .await
    });
    // Attempts at 0, 100 and 200 ms; a fourth would start at 300 > 250 ms.
    assert_eq!(
        out,
        Err(RetryError::BudgetExhausted {
            error: "failure 3".into(),
            attempts: 3
        })
    );
    assert_eq!(vt.now(), at(200));
}

#[test]
fn virtual_time_retry_with_seeded_jitter_is_repeatable() {
    let run = || {
        let vt = VirtualTime::new();
        vt.block_on(|rt| async move {
            let calls = Arc::new(AtomicU32::new(0));
            let backoff = Backoff::exponential(ms(100), 2.0, ms(1000))
                .unwrap()
                .with_jitter(Jitter::FULL)
                .with_seed(9);
            let _ = retry(rt, backoff, flaky(&calls, u32::MAX))
                .attempts(attempts(5))
                .await;
        });
        vt.now()
    };
    let first = run();
    assert_eq!(first, run());
    assert!(first <= at(100 + 200 + 400 + 800));
}

#[test]
fn retry_error_types_are_errors_and_thread_safe() {
    fn error<E: core::error::Error + Send + Sync + 'static>() {}
    error::<RetryError<std::io::Error>>();
    error::<anysync::time::BackoffError>();
    error::<Elapsed>();
    let e: RetryError<std::io::Error> = RetryError::Exhausted {
        error: std::io::Error::other("boom"),
        attempts: 2,
    };
    assert_eq!(e.to_string(), "gave up after 2 attempts: boom");
    assert!(core::error::Error::source(&e).is_some());
}

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
        debounce_stream, interval, retry, throttle_stream, timeout, timeout_at, ActionError,
        Backoff, BreakerConfigError, CallError, CircuitBreaker, CircuitState, DebounceConfig,
        DebounceConfigError, Elapsed, Jitter, MissedTickBehavior, RetryError, RetryExt,
        ThrottleConfig,
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

fn breaker<R: Runtime>(
    rt: &R,
    failures: u32,
    cooldown: Duration,
    probes: u32,
    close_after: u32,
) -> CircuitBreaker<R> {
    CircuitBreaker::builder()
        .consecutive_failures(failures)
        .cooldown(cooldown)
        .half_open_probes(probes)
        .close_after(close_after)
        .build(rt.clone())
        .unwrap()
}

const LONG: Duration = Duration::from_secs(3600);

async fn fail(b: &CircuitBreaker<impl Runtime>) {
    let out = b.call(|| async { Err::<(), _>("down") }).await;
    assert_eq!(out, Err(CallError::Inner("down")));
}

/// After n consecutive failures the breaker opens, and an open breaker
/// rejects without calling the operation.
async fn breaker_opens_after_n_failures_and_rejects_without_calling<R: Runtime>(rt: R) {
    let b = breaker(&rt, 3, LONG, 1, 1);
    fail(&b).await;
    fail(&b).await;
    // A success resets the consecutive count.
    assert_eq!(b.call(|| async { Ok::<_, &str>(1) }).await, Ok(1));
    fail(&b).await;
    fail(&b).await;
    assert_eq!(b.state(), CircuitState::Closed);
    fail(&b).await;
    assert_eq!(b.state(), CircuitState::Open);
    let calls = AtomicU32::new(0);
    let out = b
        .call(|| async {
            calls.fetch_add(1, Ordering::SeqCst);
            Ok::<_, &str>(())
        })
        .await;
    match out {
        Err(CallError::Rejected(r)) => assert_eq!(r.state(), CircuitState::Open),
        other => panic!("expected a rejection, got {other:?}"),
    }
    assert_eq!(calls.load(Ordering::SeqCst), 0);
    let stats = b.statistics();
    assert_eq!(
        (
            stats.failures,
            stats.successes,
            stats.rejected,
            stats.opened
        ),
        (5, 1, 1, 1)
    );
}

/// Half-open admits exactly k concurrent probes and rejects the rest; m
/// successful probes close it.
async fn breaker_half_open_admits_exactly_k_probes_and_m_successes_close_it<R: Runtime>(rt: R) {
    let b = breaker(&rt, 1, Duration::ZERO, 2, 3);
    fail(&b).await;
    let p1 = b.try_acquire().unwrap();
    let p2 = b.try_acquire().unwrap();
    assert!(p1.is_probe() && p2.is_probe());
    assert_eq!(b.state(), CircuitState::HalfOpen);
    assert_eq!(b.try_acquire().unwrap_err().state(), CircuitState::HalfOpen);
    assert_eq!(b.statistics().probes_in_flight, 2);
    p1.success();
    let p3 = b.try_acquire().unwrap(); // the freed slot
    assert!(b.try_acquire().is_err());
    p2.success();
    assert_eq!(b.state(), CircuitState::HalfOpen);
    p3.success();
    assert_eq!(b.state(), CircuitState::Closed);
    assert!(!b.try_acquire().unwrap().is_probe());
}

/// A failed probe reopens the breaker for another cool-down.
async fn breaker_probe_failure_reopens_it<R: Runtime>(rt: R) {
    let b = breaker(&rt, 1, Duration::ZERO, 1, 1);
    fail(&b).await;
    let probe = b.try_acquire().unwrap();
    assert!(probe.is_probe());
    probe.failure();
    assert_eq!(b.statistics().opened, 2);
    // Cool-down 0: the next call is a probe again.
    assert_eq!(b.call(|| async { Ok::<_, &str>(7) }).await, Ok(7));
    assert_eq!(b.state(), CircuitState::Closed);
}

/// A dropped probe frees its slot without counting; a panicking probe frees
/// its slot and counts as a failure.
async fn breaker_dropped_or_panicking_probe_frees_its_slot<R: Runtime>(rt: R) {
    let b = Arc::new(breaker(&rt, 1, Duration::ZERO, 1, 1));
    fail(&b).await;
    // Cancelled while running: the slot comes back, nothing is counted.
    let stuck = b.call(pending::<Result<(), &str>>);
    assert!(timeout(&rt, ms(1), stuck).await.is_err());
    let stats = b.statistics();
    assert_eq!((stats.abandoned, stats.probes_in_flight), (1, 0));
    assert_eq!(b.state(), CircuitState::HalfOpen);
    // Panicking while running: a failure, and the breaker reopens.
    let task_breaker = b.clone();
    let joined = rt
        .spawn(async move {
            let out: Result<(), CallError<&str>> = task_breaker
                .call(|| async { panic!("probe panicked on purpose") })
                .await;
            drop(out);
        })
        .await;
    assert!(joined.unwrap_err().is_panic());
    let stats = b.statistics();
    assert_eq!(
        (stats.failures, stats.opened, stats.probes_in_flight),
        (2, 2, 0)
    );
    assert_eq!(b.call(|| async { Ok::<_, &str>(1) }).await, Ok(1));
}

/// Errors the predicate does not count leave the breaker closed.
async fn breaker_failure_predicate_decides_what_counts<R: Runtime>(rt: R) {
    let b = breaker(&rt, 2, LONG, 1, 1);
    for _ in 0..5 {
        let out = b
            .call(|| async { Err::<(), _>("bad request") })
            .failure_if(|e: &&str| *e != "bad request")
            .await;
        assert_eq!(out, Err(CallError::Inner("bad request")));
    }
    assert_eq!(b.state(), CircuitState::Closed);
    fail(&b).await;
    fail(&b).await;
    assert_eq!(b.state(), CircuitState::Open);
}

/// A failure rate over the last calls opens the breaker once enough calls
/// were seen.
async fn breaker_failure_rate_over_a_window_opens_it<R: Runtime>(rt: R) {
    let b = CircuitBreaker::builder()
        .failure_rate(0.5, 4, 4)
        .cooldown(LONG)
        .build(rt.clone())
        .unwrap();
    fail(&b).await;
    fail(&b).await;
    fail(&b).await; // 3 of 3, but fewer than min_calls
    assert_eq!(b.state(), CircuitState::Closed);
    assert!(b.call(|| async { Ok::<_, &str>(()) }).await.is_ok()); // 3 of 4
    assert_eq!(b.state(), CircuitState::Open);
}

/// State changes reach a watch receiver, which sees the latest state.
async fn breaker_state_changes_reach_a_watch_receiver<R: Runtime>(rt: R) {
    let b = breaker(&rt, 1, Duration::ZERO, 1, 1);
    let mut rx = b.subscribe();
    assert_eq!(*rx.borrow(), CircuitState::Closed);
    fail(&b).await;
    rx.changed().await.unwrap();
    assert_eq!(*rx.borrow_and_update(), CircuitState::Open);
    // The probe passes through half-open and closes it again.
    assert_eq!(b.call(|| async { Ok::<_, &str>(()) }).await, Ok(()));
    rx.changed().await.unwrap();
    assert_eq!(*rx.borrow_and_update(), CircuitState::Closed);
    let stats = b.statistics();
    assert_eq!((stats.opened, stats.half_opened, stats.closed), (1, 1, 1));
}

/// A trigger while the action runs does not cancel it: the next run
/// follows it, and runs never overlap.
async fn debounce_trigger_never_cancels_a_running_action<R: Runtime>(rt: R) {
    let gate = Arc::new(Event::new());
    let (events_tx, events) = anysync::channel::unbounded();
    let running = Arc::new(AtomicU32::new(0));
    let action = {
        let (gate, running) = (gate.clone(), running.clone());
        move || {
            let (gate, running, events) = (gate.clone(), running.clone(), events_tx.clone());
            async move {
                let overlapping = running.fetch_add(1, Ordering::SeqCst) > 0;
                events.try_send(("started", overlapping)).unwrap();
                gate.wait().await;
                running.fetch_sub(1, Ordering::SeqCst);
                events.try_send(("finished", overlapping)).unwrap();
                Ok::<_, ()>(())
            }
        }
    };
    let handle = DebounceConfig::new(ms(2))
        .spawn(&rt, action, |_| {})
        .unwrap();
    handle.trigger();
    assert_eq!(events.recv().await.unwrap(), ("started", false));
    handle.trigger(); // while the first run waits at the gate
    handle.trigger();
    assert!(handle.is_running());
    gate.set();
    let rest = [
        events.recv().await.unwrap(),
        events.recv().await.unwrap(),
        events.recv().await.unwrap(),
    ];
    // The first run finished (it was not cancelled); one more run followed
    // for the two triggers, after it.
    assert_eq!(
        rest,
        [("finished", false), ("started", false), ("finished", false)]
    );
    assert!(events.try_recv().is_err());
    assert_eq!(handle.statistics().triggers, 3);
}

/// A failing or panicking action is reported, and the debouncer keeps
/// working.
async fn debounce_failing_action_is_reported_and_it_keeps_working<R: Runtime>(rt: R) {
    let calls = Arc::new(AtomicU32::new(0));
    let (done_tx, done) = anysync::channel::unbounded();
    let action = {
        let calls = calls.clone();
        move || {
            let n = calls.fetch_add(1, Ordering::SeqCst) + 1;
            let done = done_tx.clone();
            async move {
                match n {
                    1 => Err("first run fails"),
                    2 => panic!("second run panics on purpose"),
                    _ => {
                        done.try_send(()).unwrap();
                        Ok(())
                    }
                }
            }
        }
    };
    let (errors_tx, errors) = anysync::channel::unbounded();
    let handle = DebounceConfig::new(ms(1))
        .spawn(&rt, action, move |e| errors_tx.try_send(e).unwrap())
        .unwrap();
    handle.trigger();
    assert_eq!(
        errors.recv().await.unwrap(),
        ActionError::Failed("first run fails")
    );
    handle.trigger();
    assert_eq!(errors.recv().await.unwrap(), ActionError::Panicked);
    handle.trigger();
    done.recv().await.unwrap();
    assert_eq!(calls.load(Ordering::SeqCst), 3);
    let stats = handle.statistics();
    assert_eq!((stats.triggers, stats.failures), (3, 2));
}

anysync_tests::scenarios!(
    debounce_trigger_never_cancels_a_running_action,
    debounce_failing_action_is_reported_and_it_keeps_working,
);

anysync_tests::scenarios!(
    breaker_opens_after_n_failures_and_rejects_without_calling,
    breaker_half_open_admits_exactly_k_probes_and_m_successes_close_it,
    breaker_probe_failure_reopens_it,
    breaker_dropped_or_panicking_probe_frees_its_slot,
    breaker_failure_predicate_decides_what_counts,
    breaker_failure_rate_over_a_window_opens_it,
    breaker_state_changes_reach_a_watch_receiver,
);

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

/// A finished `Retry` panics if polled again, with its own message, also
/// when its cancellation future is ready by then (it is not asked to end
/// a second time).
#[test]
fn retry_polled_after_completion_panics() {
    let message = |run: &mut dyn FnMut()| {
        let payload = std::panic::catch_unwind(core::panic::AssertUnwindSafe(run))
            .expect_err("a second poll panics");
        payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_default()
    };
    let backoff = || Backoff::constant(ms(1));
    let mut done = Box::pin(retry(VirtualTime::new(), backoff(), || async {
        Ok::<_, ()>(1)
    }));
    assert_eq!(futures_executor::block_on(&mut done), Ok(1));
    assert!(futures_util::future::FusedFuture::is_terminated(&done));
    let msg = message(&mut || drop(futures_executor::block_on(&mut done)));
    assert!(msg.contains("polled after completion"), "{msg}");

    let always = || core::future::poll_fn(|_| core::task::Poll::Ready(()));
    let mut cancelled = Box::pin(
        retry(VirtualTime::new(), backoff(), || async {
            Err::<u32, _>(())
        })
        .cancel_on(always()),
    );
    assert_eq!(
        futures_executor::block_on(&mut cancelled),
        Err(RetryError::Cancelled {
            error: None,
            attempts: 0
        })
    );
    let msg = message(&mut || drop(futures_executor::block_on(&mut cancelled)));
    assert!(msg.contains("polled after completion"), "{msg}");
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

#[test]
fn virtual_time_breaker_cool_down_boundary_is_inclusive() {
    let vt = VirtualTime::new();
    vt.block_on(|rt| async move {
        let b = breaker(&rt, 1, ms(100), 1, 1);
        fail(&b).await; // opens at 0 ms
        rt.sleep(ms(99)).await;
        let r = b.try_acquire().unwrap_err();
        assert_eq!((r.state(), r.retry_after()), (CircuitState::Open, ms(1)));
        rt.sleep(ms(1)).await;
        assert!(
            b.try_acquire().unwrap().is_probe(),
            "admitted at exactly 100 ms"
        );
    });
}

#[test]
fn breaker_bad_settings_are_construction_errors() {
    let vt = VirtualTime::new();
    let build = |b: anysync::time::CircuitBreakerBuilder| b.build(vt.clone()).map(|_| ());
    let base = CircuitBreaker::builder;
    assert_eq!(
        build(base().consecutive_failures(0)),
        Err(BreakerConfigError::ZeroThreshold)
    );
    assert_eq!(
        build(base().half_open_probes(0)),
        Err(BreakerConfigError::ZeroProbes)
    );
    assert_eq!(
        build(base().close_after(0)),
        Err(BreakerConfigError::ZeroSuccesses)
    );
    for rate in [0.0, -0.5, 1.5, f64::NAN] {
        assert!(matches!(
            build(base().failure_rate(rate, 10, 5)),
            Err(BreakerConfigError::InvalidRate { .. })
        ));
    }
    for (window, min_calls) in [(0, 0), (10, 0), (10, 11)] {
        assert!(matches!(
            build(base().failure_rate(0.5, window, min_calls)),
            Err(BreakerConfigError::InvalidWindow { .. })
        ));
    }
    // A zero cool-down is allowed.
    assert!(build(base().cooldown(Duration::ZERO)).is_ok());
    fn error<E: core::error::Error + Send + Sync + 'static>() {}
    error::<BreakerConfigError>();
    error::<anysync::time::Rejected>();
    error::<CallError<std::io::Error>>();
}

/// Runs `schedule` (trigger times in ms) against a trigger handle made by
/// `make` on the virtual clock, and returns when the action ran.
fn trigger_times<F>(schedule: &[u64], wait_after: u64, make: F) -> Vec<Instant>
where
    F: FnOnce(
            &VirtualTime,
            Box<dyn FnMut() -> core::future::Ready<Result<(), ()>> + Send>,
        ) -> anysync::time::TriggerHandle
        + Send
        + 'static,
{
    let schedule = schedule.to_vec();
    VirtualTime::new().block_on(move |rt| async move {
        let runs = Arc::new(Mutex::new(Vec::new()));
        let (log, clock) = (runs.clone(), rt.clone());
        let handle = make(
            &rt,
            Box::new(move || {
                log.lock().unwrap().push(clock.now());
                core::future::ready(Ok(()))
            }),
        );
        for at_ms in schedule {
            rt.sleep_until(at(at_ms)).await;
            handle.trigger();
        }
        rt.sleep(ms(wait_after)).await;
        let out = runs.lock().unwrap().clone();
        out
    })
}

#[test]
fn virtual_time_debounce_burst_of_ten_runs_once_after_the_quiet_delay() {
    let burst: Vec<u64> = (0..10).map(|i| i * 5).collect(); // 0..=45 ms
    let runs = trigger_times(&burst, 500, |rt, action| {
        DebounceConfig::new(ms(100))
            .spawn(rt, action, |_| {})
            .unwrap()
    });
    assert_eq!(runs, [at(145)]);
}

#[test]
fn virtual_time_debounce_leading_edge_and_max_wait() {
    // Leading: at once, then once more after the burst.
    let runs = trigger_times(&[0, 30, 60], 500, |rt, action| {
        DebounceConfig::new(ms(100))
            .leading(true)
            .spawn(rt, action, |_| {})
            .unwrap()
    });
    assert_eq!(runs, [at(0), at(160)]);
    // A lone trigger with a leading edge runs once.
    let runs = trigger_times(&[0], 500, |rt, action| {
        DebounceConfig::new(ms(100))
            .leading(true)
            .spawn(rt, action, |_| {})
            .unwrap()
    });
    assert_eq!(runs, [at(0)]);
    // A burst that never goes quiet still runs every max_wait.
    let steady: Vec<u64> = (0..50).map(|i| i * 10).collect(); // 0..=490 ms
    let runs = trigger_times(&steady, 500, |rt, action| {
        DebounceConfig::new(ms(50))
            .max_wait(ms(200))
            .spawn(rt, action, |_| {})
            .unwrap()
    });
    // The trigger at 200 ms comes just after that run began: a new burst.
    assert_eq!(runs, [at(200), at(400), at(540)]);
}

#[test]
fn virtual_time_throttle_leading_and_trailing_edges() {
    let burst: Vec<u64> = (0..10).map(|i| i * 5).collect(); // 0..=45 ms
    let both = trigger_times(&burst, 500, |rt, action| {
        ThrottleConfig::new(ms(100))
            .spawn(rt, action, |_| {})
            .unwrap()
    });
    assert_eq!(both, [at(0), at(100)]);
    let leading = trigger_times(&burst, 500, |rt, action| {
        ThrottleConfig::new(ms(100))
            .trailing(false)
            .spawn(rt, action, |_| {})
            .unwrap()
    });
    assert_eq!(leading, [at(0)]);
    let trailing = trigger_times(&burst, 500, |rt, action| {
        ThrottleConfig::new(ms(100))
            .leading(false)
            .spawn(rt, action, |_| {})
            .unwrap()
    });
    assert_eq!(trailing, [at(100)]);
    // Steady triggers: one run per period.
    let steady: Vec<u64> = (0..30).map(|i| i * 10).collect(); // 0..=290 ms
    let runs = trigger_times(&steady, 500, |rt, action| {
        ThrottleConfig::new(ms(100))
            .spawn(rt, action, |_| {})
            .unwrap()
    });
    assert_eq!(runs, [at(0), at(100), at(200), at(300)]);
}

#[test]
fn virtual_time_stream_adapters_debounce_and_throttle() {
    let vt = VirtualTime::new();
    let (debounced, throttled) = vt.block_on(|rt| async move {
        // Items at 0, 10, 20 ms, then 200 and 210 ms.
        let source = |rt: VirtualTime| {
            futures_util::stream::unfold(0u64, move |i| {
                let rt = rt.clone();
                async move {
                    let times = [0, 10, 20, 200, 210];
                    let t = *times.get(i as usize)?;
                    rt.sleep_until(at(t)).await;
                    Some(((i, rt.now()), i + 1))
                }
            })
        };
        let start = rt.now();
        let clock = rt.clone();
        let debounced: Vec<(u64, Instant)> =
            debounce_stream(source(rt.clone()), rt.clone(), ms(50))
                .map(|(i, _)| (i, clock.now()))
                .collect()
                .await;
        assert_eq!(start, at(0));
        let vt2 = VirtualTime::new();
        let throttled = vt2.block_on_future(async {
            let clock = vt2.clone();
            throttle_stream(source(vt2.clone()), vt2.clone(), ms(100), true)
                .map(|(i, _)| (i, clock.now()))
                .collect::<Vec<_>>()
                .await
        });
        (debounced, throttled)
    });
    // The last of each burst, 50 ms after it (the stream's end flushes the second).
    assert_eq!(debounced, [(2, at(70)), (4, at(210))]);
    // The first item at once, the newest of the rest when the window ends.
    assert_eq!(
        throttled,
        [(0, at(0)), (2, at(100)), (3, at(200)), (4, at(300))]
    );
}

#[test]
fn debounce_and_throttle_bad_settings_are_errors() {
    let vt = VirtualTime::new();
    let action = || core::future::ready(Ok::<_, ()>(()));
    let err = DebounceConfig::new(ms(100))
        .max_wait(ms(50))
        .spawn(&vt, action, |_| {});
    assert_eq!(
        err.unwrap_err(),
        DebounceConfigError::MaxWaitBelowDelay {
            delay: ms(100),
            max_wait: ms(50)
        }
    );
    let err = ThrottleConfig::new(Duration::ZERO).spawn(&vt, action, |_| {});
    assert_eq!(err.unwrap_err(), DebounceConfigError::ZeroPeriod);
    let err = ThrottleConfig::new(ms(1))
        .leading(false)
        .trailing(false)
        .spawn(&vt, action, |_| {});
    assert_eq!(err.unwrap_err(), DebounceConfigError::NoEdge);
    fn error<E: core::error::Error + Send + Sync + 'static>() {}
    error::<DebounceConfigError>();
    error::<ActionError<std::io::Error>>();
    assert_eq!(
        ActionError::<std::io::Error>::Panicked.to_string(),
        "the action panicked"
    );
}

#[test]
#[should_panic(expected = "`period` must be non-zero")]
fn throttle_stream_zero_period_panics() {
    let _ = throttle_stream(
        futures_util::stream::empty::<()>(),
        VirtualTime::new(),
        Duration::ZERO,
        true,
    );
}

/// The handles are shareable between tasks and threads, and the futures
/// can be spawned when what they wrap can.
#[test]
fn time_types_are_send_and_sync() {
    use core::future::Ready;

    use anysync::time::{
        futures::{Call, Retry, Tick, Timeout},
        BreakerPermit, DebounceStream, Interval, ThrottleStream, TriggerHandle,
    };

    fn send_sync<T: Send + Sync>() {}
    fn send<T: Send>() {}
    type Op = fn() -> Ready<Result<(), ()>>;
    type Stream = futures_util::stream::Iter<std::vec::IntoIter<u8>>;

    send_sync::<CircuitBreaker<VirtualTime>>();
    send_sync::<BreakerPermit<'static, VirtualTime>>();
    send_sync::<TriggerHandle>();
    send_sync::<Backoff>();
    send::<Interval<VirtualTime>>();
    send::<Tick<'static, VirtualTime>>();
    send::<Timeout<anysync::rt::virtual_time::Sleep, Ready<()>>>();
    send::<Retry<VirtualTime, Op, Ready<Result<(), ()>>, ()>>();
    send::<Call<'static, VirtualTime, Op, Ready<Result<(), ()>>, ()>>();
    send::<DebounceStream<Stream, VirtualTime>>();
    send::<ThrottleStream<Stream, VirtualTime>>();
}

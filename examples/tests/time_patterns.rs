//! The time and resilience patterns' examples on the virtual clock, where
//! their schedules are exact: the same bodies the programs run on tokio,
//! smol and async-std.
#![forbid(unsafe_code)]

use std::time::Duration;

use anysync::{
    rt::virtual_time::VirtualTime,
    time::{CircuitState, Quota},
};
use anysync_examples::patterns::{circuit_breaker, debounce, pool, rate_limit, retry, timeouts};

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

#[test]
fn retry_succeeds_on_the_third_attempt_at_300_ms_after_100_and_200_ms_of_backoff() {
    let r = VirtualTime::new().block_on(|rt| retry::run(rt, 2, ms(100), false));
    assert_eq!(r.result, Ok(3));
    assert_eq!(r.attempt_starts, [ms(0), ms(100), ms(300)]);
    assert_eq!(r.delays, [ms(100), ms(200)]);
}

#[test]
fn retry_gives_up_after_three_attempts_with_the_last_error() {
    let r = VirtualTime::new().block_on(|rt| retry::run(rt, 3, ms(100), false));
    assert!(r.result.unwrap_err().contains("attempt 3"));
    assert_eq!(r.attempt_starts, [ms(0), ms(100), ms(300)]);
}

#[test]
fn rate_limit_ten_calls_at_two_per_second_with_three_at_once_start_on_schedule() {
    let quota = Quota::per_second(rate_limit::nz(2));
    let r = VirtualTime::new()
        .block_on(|rt| rate_limit::run(rt, 10, 3, quota, Duration::from_secs(2), false));
    // A burst of 2, one more at 500 ms; then each call waits for a permit
    // (2 s of work), never holding one while it waits for the rate.
    assert_eq!(
        r.starts_ms,
        [0, 0, 500, 2000, 2000, 2500, 4000, 4000, 4500, 6000]
    );
    assert_eq!(r.peak, 3);
}

#[test]
fn circuit_breaker_opens_rejects_without_calling_and_one_probe_closes_it() {
    let r = VirtualTime::new().block_on(|rt| circuit_breaker::run(rt, 3, ms(20), false));
    assert_eq!(r.after_failures, CircuitState::Open);
    assert_eq!(r.rejected, 3);
    // Three failures and the one probe: the rejected calls never ran.
    assert_eq!(r.operation_calls, 4);
    assert_eq!(r.after_probe, CircuitState::Closed);
}

#[test]
fn debounce_runs_once_per_burst_and_survives_a_failing_run() {
    let r = VirtualTime::new().block_on(|rt| debounce::run(rt, 10, ms(5), ms(20), false));
    assert_eq!((r.triggers, r.runs, r.failures), (30, 3, 1));
}

#[test]
fn pool_shares_five_connections_among_twenty_tasks_and_replaces_the_broken_one() {
    let r = VirtualTime::new().block_on(|rt| pool::run(rt, 20, 5, ms(100), false));
    assert_eq!(r.finished, 20);
    assert_eq!(r.peak_in_use, 5);
    assert_eq!(r.opened, 6);
    assert_eq!(r.timed_out_get, "timed out");
    assert!(r.closed_get_failed);
}

#[test]
fn timeouts_cut_the_slow_jobs_and_a_timed_out_acquire_loses_no_permit() {
    let r = VirtualTime::new().block_on(|rt| timeouts::run(rt, 5, ms(10), ms(25), false));
    assert_eq!(r.finished, [0, 1, 2]);
    assert_eq!(r.timed_out, [3, 4]);
    assert_eq!(r.permits_after_timeout, 1);
}

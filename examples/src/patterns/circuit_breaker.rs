//! A circuit breaker (closed, open, half-open).

use std::{
    sync::atomic::{AtomicBool, AtomicU32, Ordering},
    time::Duration,
};

use anysync::{
    rt::Runtime,
    time::{CallError, CircuitBreaker, CircuitState},
};

/// What a run of [`run`] observed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// The state after the failures.
    pub after_failures: CircuitState,
    /// Calls rejected at once while open (the operation was not called).
    pub rejected: u32,
    /// Times the operation was actually called.
    pub operation_calls: u32,
    /// The state after the cool-down and one good probe.
    pub after_probe: CircuitState,
}

/// Opens a breaker with `threshold` failures, shows that calls then fail
/// fast, waits out `cooldown`, and lets one probe close it again.
pub async fn run<R: Runtime>(rt: R, threshold: u32, cooldown: Duration, verbose: bool) -> Report {
    let breaker = CircuitBreaker::builder()
        .consecutive_failures(threshold)
        .cooldown(cooldown)
        .half_open_probes(1)
        .build(rt.clone())
        .expect("valid settings");
    let mut changes = breaker.subscribe();
    let healthy = AtomicBool::new(false);
    let calls = AtomicU32::new(0);
    // The remote operation: counts real calls, fails until healthy.
    let operation = || async {
        calls.fetch_add(1, Ordering::SeqCst);
        if healthy.load(Ordering::SeqCst) {
            Ok("pong")
        } else {
            Err("service down")
        }
    };
    for i in 1..=threshold {
        let out = breaker.call(operation).await;
        if verbose {
            println!("call {i}: {out:?}");
        }
    }
    let after_failures = breaker.state();
    if verbose && changes.has_changed().unwrap_or(false) {
        println!("breaker is now {:?}", *changes.borrow_and_update());
    }
    let mut rejected = 0;
    for i in 1..=3 {
        match breaker.call(operation).await {
            Err(CallError::Rejected(r)) => {
                rejected += 1;
                if verbose {
                    println!("call {i} while open: rejected at once ({r})");
                }
            }
            other => println!("unexpected: {other:?}"),
        }
    }
    rt.sleep(cooldown).await;
    healthy.store(true, Ordering::SeqCst);
    let probe = breaker.call(operation).await;
    let after_probe = breaker.state();
    if verbose {
        println!(
            "after the {} ms cool-down, one probe got {probe:?}",
            cooldown.as_millis()
        );
        println!("breaker is now {:?}", *changes.borrow_and_update());
        println!("{:?}", breaker.statistics());
    }
    let operation_calls = calls.load(Ordering::SeqCst);
    Report {
        after_failures,
        rejected,
        operation_calls,
        after_probe,
    }
}

/// The tour's line for this pattern.
pub async fn tour_line<R: Runtime>(rt: R) -> String {
    let r = run(rt, 3, Duration::from_millis(20), false).await;
    format!(
        "circuit breaker: {:?} after 3 failures, {} calls rejected without running, {:?} after one probe ({} real calls)",
        r.after_failures, r.rejected, r.after_probe, r.operation_calls
    )
}

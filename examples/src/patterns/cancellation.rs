//! Cancellation with cleanup, and `shield` (asyncio
//! `task.cancel()`, `CancelledError`, `shield()`).

use core::time::Duration;
use std::sync::{
    atomic::{AtomicBool, Ordering},
    Arc,
};

use anysync::{
    rt::Runtime,
    task::{shield, CancelToken},
    time::timeout,
};

/// What a run of [`run`] observed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// Work units the worker finished before it was cancelled.
    pub units_done: u32,
    /// The worker ran its cleanup after being cancelled.
    pub cleaned_up: bool,
    /// The caller of the critical section gave up (timed out).
    pub caller_gave_up: bool,
    /// The shielded critical section still ran to the end.
    pub critical_committed: bool,
}

/// A worker processes a unit every `unit` until its token is cancelled
/// (after `unit * 3.5`), then cleans up asynchronously. Then a critical
/// section that needs `unit * 3` runs under `shield` while its caller
/// gives up after `unit`: the section completes anyway.
pub async fn run<R: Runtime>(rt: R, unit: Duration, verbose: bool) -> Report {
    let token = CancelToken::new();
    let (timer, worker_token) = (rt.clone(), token.child());
    let worker = rt.spawn(async move {
        let mut done = 0;
        while worker_token
            .run_until_cancelled(timer.sleep(unit))
            .await
            .is_some()
        {
            done += 1;
            if verbose {
                println!("worker: unit {done} done");
            }
        }
        if verbose {
            println!(
                "worker: cancelled ({}), flushing state",
                worker_token.reason().unwrap()
            );
        }
        timer.sleep(unit / 2).await; // asynchronous cleanup
        if verbose {
            println!("worker: cleanup finished");
        }
        (done, true)
    });
    rt.sleep(unit * 7 / 2).await;
    if verbose {
        println!("main: cancelling the worker");
    }
    token.cancel();
    let (units_done, cleaned_up) = worker.await.expect("the worker does not panic");

    let committed = Arc::new(AtomicBool::new(false));
    let (timer, c) = (rt.clone(), committed.clone());
    let mut critical = shield(&rt, async move {
        timer.sleep(unit * 3).await;
        c.store(true, Ordering::SeqCst);
    });
    let caller_gave_up = timeout(&rt, unit, &mut critical).await.is_err();
    if verbose {
        println!("caller: gave up waiting for the critical section: {caller_gave_up}");
    }
    critical.await.expect("the critical section does not panic");
    let critical_committed = committed.load(Ordering::SeqCst);
    if verbose {
        println!("critical section committed anyway: {critical_committed}");
    }
    Report {
        units_done,
        cleaned_up,
        caller_gave_up,
        critical_committed,
    }
}

/// The tour's line for this pattern.
pub async fn tour_line<R: Runtime>(rt: R) -> String {
    let r = run(rt, Duration::from_millis(10), false).await;
    format!(
        "cancellation: worker did {} units, then cleaned up on cancel: {}; shielded section committed although its caller gave up: {}",
        r.units_done,
        r.cleaned_up,
        r.caller_gave_up && r.critical_committed
    )
}

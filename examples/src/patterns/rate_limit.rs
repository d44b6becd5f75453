//! Rate limiting combined with a concurrency limit (asyncio's
//! `SimpleRateLimiter(calls_per_second)` plus a `Semaphore`).
//!
//! The guides take the semaphore permit and then wait for the rate, so the
//! permits sit idle while their holders wait. [`Limits`] waits for the rate
//! first and takes a permit only when a call can start.

use std::{
    num::NonZeroU32,
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc, Mutex,
    },
    time::Duration,
};

use anysync::{
    rt::Runtime,
    time::{Limits, Quota},
};

/// What a run of [`run`] observed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// When each call started, in milliseconds since the run began, by call
    /// number.
    pub starts_ms: Vec<u128>,
    /// The most calls that were running at once.
    pub peak: usize,
}

/// Runs `calls` calls of `work` each through `Limits(concurrency, quota)`,
/// printing each start if `verbose`.
pub async fn run<R: Runtime>(
    rt: R,
    calls: usize,
    concurrency: usize,
    quota: Quota,
    work: Duration,
    verbose: bool,
) -> Report {
    let limits = Arc::new(Limits::new(rt.clone(), concurrency, quota));
    let running = Arc::new(AtomicUsize::new(0));
    let peak = Arc::new(AtomicUsize::new(0));
    let starts = Arc::new(Mutex::new(vec![0; calls]));
    let begin = rt.now();
    let mut handles = Vec::new();
    for id in 0..calls {
        let (limits, running, peak, starts, timer) = (
            limits.clone(),
            running.clone(),
            peak.clone(),
            starts.clone(),
            rt.clone(),
        );
        handles.push(rt.spawn(async move {
            let permit = limits.acquire().await.expect("never closed");
            let at = (timer.now() - begin).as_millis();
            let now = running.fetch_add(1, Ordering::SeqCst) + 1;
            peak.fetch_max(now, Ordering::SeqCst);
            starts.lock().unwrap()[id] = at;
            if verbose {
                println!("call {id:>2} starts at {at:>5} ms ({now} running)");
            }
            timer.sleep(work).await;
            running.fetch_sub(1, Ordering::SeqCst);
            drop(permit);
        }));
    }
    for handle in handles {
        handle.await.expect("call failed");
    }
    let starts_ms = starts.lock().unwrap().clone();
    Report {
        starts_ms,
        peak: peak.load(Ordering::SeqCst),
    }
}

/// `n` as a `NonZeroU32`.
///
/// # Panics
/// If `n` is zero.
pub fn nz(n: u32) -> NonZeroU32 {
    NonZeroU32::new(n).expect("rate must be non-zero")
}

/// The tour's line for this pattern.
pub async fn tour_line<R: Runtime>(rt: R) -> String {
    // 40 per second (one every 25 ms, burst 2), at most 3 at once.
    let quota = Quota::per_second(nz(40));
    let quota = quota.allow_burst(nz(2));
    let report = run(rt, 10, 3, quota, Duration::from_millis(60), false).await;
    let span = report.starts_ms.iter().max().copied().unwrap_or(0);
    format!(
        "rate limit: 10 calls at 40/s (burst 2) with at most 3 at once, peak {}, starts spread over {span} ms",
        report.peak
    )
}

//! Retry with exponential backoff (asyncio's `async_retry`
//! decorator), with attempts counted in total so the schedule is plain.

use std::{
    num::NonZeroU32,
    sync::{
        atomic::{AtomicU32, Ordering},
        Arc,
    },
    time::Duration,
};

use anysync::{
    rt::Runtime,
    time::{retry, Backoff},
};

/// What a run of [`run`] observed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// The operation's result.
    pub result: Result<u32, String>,
    /// When each attempt started, from the first.
    pub attempt_starts: Vec<Duration>,
    /// The delays the retry slept between attempts.
    pub delays: Vec<Duration>,
}

/// Runs an operation that fails `failures` times and then succeeds, with 3
/// attempts in all and a backoff of `base`, `2 * base`, ...
pub async fn run<R: Runtime>(rt: R, failures: u32, base: Duration, verbose: bool) -> Report {
    let start = rt.now();
    let calls = Arc::new(AtomicU32::new(0));
    let starts = Arc::new(std::sync::Mutex::new(Vec::new()));
    let delays = Arc::new(std::sync::Mutex::new(Vec::new()));
    let (clock, log) = (rt.clone(), starts.clone());
    let operation = move || {
        let attempt = calls.fetch_add(1, Ordering::SeqCst) + 1;
        let at = clock.now() - start;
        log.lock().unwrap().push(at);
        if verbose {
            println!("attempt {attempt} at {:>4} ms", at.as_millis());
        }
        async move {
            if attempt <= failures {
                Err(format!("attempt {attempt} failed"))
            } else {
                Ok(attempt)
            }
        }
    };
    let backoff = Backoff::exponential(base, 2.0, base * 10).expect("valid backoff");
    let hook_delays = delays.clone();
    let result = retry(rt, backoff, operation)
        .attempts(NonZeroU32::new(3).unwrap())
        .on_retry(move |attempt, error: &String, delay| {
            if verbose {
                println!(
                    "  {error}; attempt {} after {} ms",
                    attempt + 1,
                    delay.as_millis()
                );
            }
            hook_delays.lock().unwrap().push(delay);
        })
        .await
        .map_err(|e| e.to_string());
    let attempt_starts = starts.lock().unwrap().clone();
    let delays = delays.lock().unwrap().clone();
    Report {
        result,
        attempt_starts,
        delays,
    }
}

/// The tour's line for this pattern.
pub async fn tour_line<R: Runtime>(rt: R) -> String {
    let report = run(rt, 2, Duration::from_millis(10), false).await;
    let delays: Vec<u128> = report.delays.iter().map(|d| d.as_millis()).collect();
    format!(
        "retry with backoff: failed twice, {:?} on attempt {} after {delays:?} ms of backoff",
        report.result,
        report.attempt_starts.len()
    )
}

//! `as_completed` and `gather(return_exceptions=True)`, on
//! futures-util: `FuturesUnordered` and `join_all`.

use core::{future::Future, pin::Pin, time::Duration};

use anysync::rt::Runtime;
use futures_util::{future::join_all, stream::FuturesUnordered, StreamExt};

/// What a run of [`run`] observed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// Job numbers in the order they completed (`as_completed`).
    pub completion_order: Vec<u32>,
    /// Results in input order (`gather`): `Ok(value)` or the error, kept.
    pub gathered: Vec<Result<u32, String>>,
}

type Job = Pin<Box<dyn Future<Output = Result<u32, String>> + Send>>;

fn jobs<R: Runtime>(rt: &R, unit: Duration) -> Vec<Job> {
    // Job n takes `unit * (5 - n)`; job 3 fails.
    (1..=4u32)
        .map(|n| {
            let timer = rt.clone();
            Box::pin(async move {
                timer.sleep(unit * (5 - n)).await;
                if n == 3 {
                    Err(format!("job {n} failed"))
                } else {
                    Ok(n * 10)
                }
            }) as Job
        })
        .collect()
}

/// Runs four jobs twice: as they complete (a `FuturesUnordered` stream),
/// and gathered in input order with errors kept as values (`join_all`).
pub async fn run<R: Runtime>(rt: R, unit: Duration, verbose: bool) -> Report {
    let mut completion_order = Vec::new();
    let mut as_completed: FuturesUnordered<_> = jobs(&rt, unit)
        .into_iter()
        .zip(1u32..)
        .map(|(job, n)| async move { (n, job.await) })
        .collect();
    while let Some((n, result)) = as_completed.next().await {
        if verbose {
            println!("as completed: job {n} -> {result:?}");
        }
        completion_order.push(n);
    }
    let gathered = join_all(jobs(&rt, unit)).await;
    if verbose {
        println!("gathered in input order: {gathered:?}");
    }
    Report {
        completion_order,
        gathered,
    }
}

/// The tour's line for this pattern.
pub async fn tour_line<R: Runtime>(rt: R) -> String {
    let r = run(rt, Duration::from_millis(10), false).await;
    let errors = r.gathered.iter().filter(|g| g.is_err()).count();
    format!(
        "gather: completion order {:?}, input order {:?} with {errors} error collected, not raised",
        r.completion_order,
        r.gathered
            .iter()
            .map(|g| g.as_ref().map_or_else(|e| e.clone(), |v| v.to_string()))
            .collect::<Vec<_>>()
    )
}

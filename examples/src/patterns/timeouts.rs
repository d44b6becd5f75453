//! Timeouts (asyncio `wait_for` / `timeout`), including the
//! case the guides skip: a timed-out acquire loses no permit.

use std::time::Duration;

use anysync::{
    rt::Runtime,
    sync::Semaphore,
    time::{timeout, timeout_at},
};

/// What a run of [`run`] observed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// Jobs of the batch that finished in time.
    pub finished: Vec<usize>,
    /// Jobs that timed out.
    pub timed_out: Vec<usize>,
    /// Permits available after a timed-out acquire (must be the original 1).
    pub permits_after_timeout: usize,
}

/// Runs `jobs` jobs, job `i` taking `i * step`, each under its own
/// `limit`; then times out an acquire on a busy semaphore.
pub async fn run<R: Runtime>(
    rt: R,
    jobs: usize,
    step: Duration,
    limit: Duration,
    verbose: bool,
) -> Report {
    let mut handles = Vec::new();
    for job in 0..jobs {
        let timer = rt.clone();
        handles.push(rt.spawn(async move {
            let work = timer.sleep(step * job as u32);
            (job, timeout(&timer, limit, work).await.is_ok())
        }));
    }
    let (mut finished, mut timed_out) = (Vec::new(), Vec::new());
    for handle in handles {
        let (job, ok) = handle.await.expect("job failed");
        if verbose {
            let verdict = if ok { "done" } else { "timed out" };
            println!(
                "job {job} ({} ms of work): {verdict}",
                (step * job as u32).as_millis()
            );
        }
        if ok {
            finished.push(job)
        } else {
            timed_out.push(job)
        }
    }
    // A timed-out acquire gives up its place and takes no permit with it.
    let sem = Semaphore::new(1);
    let held = sem.acquire().await.expect("open");
    let deadline = rt.now() + limit;
    let attempt = timeout_at(&rt, deadline, sem.acquire()).await;
    drop(held);
    let permits_after_timeout = sem.available_permits();
    if verbose {
        println!(
            "acquire on a busy semaphore: {}; permits afterwards: {permits_after_timeout}",
            if attempt.is_err() {
                "timed out"
            } else {
                "acquired"
            }
        );
    }
    Report {
        finished,
        timed_out,
        permits_after_timeout,
    }
}

/// The tour's line for this pattern.
pub async fn tour_line<R: Runtime>(rt: R) -> String {
    let r = run(
        rt,
        5,
        Duration::from_millis(10),
        Duration::from_millis(25),
        false,
    )
    .await;
    format!(
        "timeouts: jobs {:?} finished, {:?} timed out; a timed-out acquire left {} permit",
        r.finished, r.timed_out, r.permits_after_timeout
    )
}

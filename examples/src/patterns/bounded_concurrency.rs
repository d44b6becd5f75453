//! A concurrency limit (asyncio `Semaphore(n)`).

use std::{
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc,
    },
    time::Duration,
};

use anysync::{rt::Runtime, sync::Semaphore};

/// What a run of [`run`] observed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Report {
    /// The most tasks that were inside the limited section at once.
    pub peak: usize,
    /// How many tasks finished.
    pub finished: usize,
}

/// Spawns `tasks` tasks that each hold one of `limit` permits for `work`,
/// printing start and finish times if `verbose`.
pub async fn run<R: Runtime>(
    rt: R,
    tasks: usize,
    limit: usize,
    work: Duration,
    verbose: bool,
) -> Report {
    let sem = Arc::new(Semaphore::new(limit));
    let active = Arc::new(AtomicUsize::new(0));
    let peak = Arc::new(AtomicUsize::new(0));
    let start = rt.now();
    let mut handles = Vec::new();
    for id in 0..tasks {
        let (sem, active, peak, timer) = (sem.clone(), active.clone(), peak.clone(), rt.clone());
        handles.push(rt.spawn(async move {
            let _permit = sem.acquire_owned().await.expect("never closed");
            let now = active.fetch_add(1, Ordering::SeqCst) + 1;
            peak.fetch_max(now, Ordering::SeqCst);
            if verbose {
                println!(
                    "task {id:>2} starts  at {:>5} ms ({now} running)",
                    (timer.now() - start).as_millis()
                );
            }
            timer.sleep(work).await;
            active.fetch_sub(1, Ordering::SeqCst);
            if verbose {
                println!(
                    "task {id:>2} finishes at {:>5} ms",
                    (timer.now() - start).as_millis()
                );
            }
        }));
    }
    let mut finished = 0;
    for handle in handles {
        handle.await.expect("task failed");
        finished += 1;
    }
    Report {
        peak: peak.load(Ordering::SeqCst),
        finished,
    }
}

/// The tour's line for this pattern.
pub async fn tour_line<R: Runtime>(rt: R) -> String {
    let report = run(rt, 10, 3, Duration::from_millis(20), false).await;
    format!(
        "concurrency limit: {} tasks under Semaphore(3), peak concurrency {}",
        report.finished, report.peak
    )
}

//! A work queue with completion tracking (asyncio
//! `task_done()`/`join()`, then `Queue.shutdown`).

extern crate alloc;

use alloc::sync::Arc;
use core::{
    sync::atomic::{AtomicUsize, Ordering},
    time::Duration,
};

use anysync::{queue::Queue, rt::Runtime};

/// What [`run`] observed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// Jobs each worker did.
    pub per_worker: Vec<usize>,
    /// Jobs marked done when `join()` returned.
    pub done_at_join: usize,
}

/// `workers` workers drain `jobs` jobs (job `i` takes `unit * (i % 3 + 1)`);
/// `join()` returns exactly when the last one is marked done; then the
/// queue is shut down and the workers stop.
pub async fn run<R: Runtime>(
    rt: R,
    workers: usize,
    jobs: u32,
    unit: Duration,
    verbose: bool,
) -> Report {
    let q = Arc::new(Queue::unbounded());
    for job in 0..jobs {
        q.put(job).await.expect("not shut down");
    }
    let done = Arc::new(AtomicUsize::new(0));
    let start = rt.now();
    let handles: Vec<_> = (0..workers)
        .map(|id| {
            let (q, done, rt2) = (q.clone(), done.clone(), rt.clone());
            rt.spawn(async move {
                let mut mine = 0;
                while let Ok(job) = q.get().await {
                    rt2.sleep(unit * (job % 3 + 1)).await;
                    mine += 1;
                    let total = done.fetch_add(1, Ordering::SeqCst) + 1;
                    if verbose {
                        println!(
                            "{:>5} ms  worker {id} finished job {job:>2} ({total} done)",
                            (rt2.now() - start).as_millis()
                        );
                    }
                    q.task_done().expect("one task_done per job got");
                }
                mine
            })
        })
        .collect();
    q.join().await;
    let done_at_join = done.load(Ordering::SeqCst);
    if verbose {
        println!(
            "{:>5} ms  join() returned: {done_at_join} jobs done, {} unfinished",
            (rt.now() - start).as_millis(),
            q.unfinished_tasks()
        );
    }
    q.shutdown();
    let mut per_worker = Vec::new();
    for h in handles {
        per_worker.push(h.await.expect("worker panicked"));
    }
    Report {
        per_worker,
        done_at_join,
    }
}

/// The tour's line for this pattern.
pub async fn tour_line<R: Runtime>(rt: R) -> String {
    let report = run(rt, 3, 20, Duration::from_millis(2), false).await;
    format!(
        "work queue: 3 workers drained 20 jobs ({:?}); join() returned with {} of 20 marked done, then shutdown() stopped the workers",
        report.per_worker, report.done_at_join
    )
}

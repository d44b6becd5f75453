//! One signal, many waiters (asyncio `Event`).

use std::sync::{
    atomic::{AtomicUsize, Ordering},
    Arc,
};

use anysync::{
    rt::Runtime,
    sync::{Event, Semaphore},
};

/// What a run of [`run`] observed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Report {
    /// Workers that had started waiting before `set()`.
    pub waiting_before_set: usize,
    /// Workers that got past the event before `set()` (must be 0).
    pub released_early: usize,
    /// Workers released by the one `set()`.
    pub released: usize,
}

/// Starts `workers` workers that wait on one [`Event`]; once all are
/// waiting, "finishes setup" and calls `set()` once.
pub async fn run<R: Runtime>(rt: R, workers: usize, verbose: bool) -> Report {
    let go = Arc::new(Event::new());
    let ready = Arc::new(Semaphore::new(0));
    let released = Arc::new(AtomicUsize::new(0));
    let mut handles = Vec::new();
    for id in 0..workers {
        let (go, ready, released) = (go.clone(), ready.clone(), released.clone());
        handles.push(rt.spawn(async move {
            // A `Wait` counts from its creation, so once it exists the worker
            // cannot miss the `set()`, even before its first poll.
            let wait = go.wait();
            ready.add_permits(1);
            wait.await;
            released.fetch_add(1, Ordering::SeqCst);
            if verbose {
                println!("worker {id} released");
            }
        }));
    }
    // Setup: wait until every worker is waiting (synchronised on a
    // semaphore, never on a sleep).
    ready
        .acquire_many(workers)
        .await
        .expect("never closed")
        .forget();
    let released_early = released.load(Ordering::SeqCst);
    if verbose {
        println!("setup done; {workers} workers waiting; set()");
    }
    go.set();
    for handle in handles {
        handle.await.expect("worker failed");
    }
    Report {
        waiting_before_set: workers,
        released_early,
        released: released.load(Ordering::SeqCst),
    }
}

/// The tour's line for this pattern.
pub async fn tour_line<R: Runtime>(rt: R) -> String {
    let report = run(rt, 5, false).await;
    format!(
        "one signal, many waiters: {} workers waited on an Event, {} released early, {} released by one set()",
        report.waiting_before_set, report.released_early, report.released
    )
}

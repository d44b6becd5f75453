//! A reader/writer mix on a `RwLock`: many readers share, writers get in
//! fairly, an upgradable read turns into a write.

use core::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use anysync::{
    rt::Runtime,
    sync::{Barrier, RwLock, RwLockUpgradableReadGuard},
    task::yield_now,
};

/// What a run of [`run`] observed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Report {
    /// Reads done.
    pub reads: usize,
    /// Writes done (plain and upgraded).
    pub writes: usize,
    /// The most readers inside at once (all of them, met at a barrier).
    pub peak_readers: usize,
    /// Reads that saw a half-written pair (must be 0).
    pub torn: usize,
}

/// First `readers` tasks take a read each and meet at a [`Barrier`] while
/// holding it, which only works if reads are shared. Then the same readers
/// read a pair that `writers` tasks (half of them through an upgradable
/// read) keep equal, `rounds` times each.
pub async fn run<R: Runtime>(rt: R, readers: usize, writers: usize, rounds: usize) -> Report {
    let lock = Arc::new(RwLock::new((0usize, 0usize)));
    let inside = Arc::new(AtomicUsize::new(0));
    let peak = Arc::new(AtomicUsize::new(0));
    let torn = Arc::new(AtomicUsize::new(0));
    // The readers and this task: writers start only once every reader is in,
    // or a writer queued between them would keep the last reader out.
    let meet = Arc::new(Barrier::new(readers + 1));
    let mut handles = Vec::new();
    for _ in 0..readers {
        let (lock, inside, peak, torn, meet) = (
            lock.clone(),
            inside.clone(),
            peak.clone(),
            torn.clone(),
            meet.clone(),
        );
        handles.push(rt.spawn(async move {
            {
                let _shared = lock.read().await;
                let now = inside.fetch_add(1, Ordering::SeqCst) + 1;
                peak.fetch_max(now, Ordering::SeqCst);
                meet.wait().await.expect("never aborted"); // all readers inside at once
                inside.fetch_sub(1, Ordering::SeqCst);
            }
            for _ in 0..rounds {
                let pair = lock.read().await;
                yield_now().await; // hold the read across an await
                if pair.0 != pair.1 {
                    torn.fetch_add(1, Ordering::SeqCst);
                }
            }
        }));
    }
    meet.wait().await.expect("never aborted");
    for w in 0..writers {
        let lock = lock.clone();
        handles.push(rt.spawn(async move {
            for _ in 0..rounds {
                let mut pair = if w % 2 == 0 {
                    lock.write().await
                } else {
                    // Read first, then decide to write, without letting
                    // another writer in between.
                    let up = lock.upgradable_read().await;
                    RwLockUpgradableReadGuard::upgrade(up).await
                };
                pair.0 += 1;
                yield_now().await; // half-written across an await
                pair.1 += 1;
            }
        }));
    }
    for handle in handles {
        handle.await.expect("task failed");
    }
    let writes = lock.read().await.0;
    Report {
        reads: readers * rounds,
        writes,
        peak_readers: peak.load(Ordering::SeqCst),
        torn: torn.load(Ordering::SeqCst),
    }
}

/// The tour's line for this pattern.
pub async fn tour_line<R: Runtime>(rt: R) -> String {
    let report = run(rt, 6, 2, 20).await;
    format!(
        "readers and writers: {} readers inside a RwLock at once (met at a Barrier), then {} reads mixed with {} writes (half upgraded), {} torn reads",
        report.peak_readers, report.reads, report.writes, report.torn
    )
}

//! Rendezvous (asyncio `Barrier(n)`, `abort`, `reset`).

use core::time::Duration;
use std::sync::Arc;

use anysync::{
    rt::Runtime,
    sync::{Barrier, BrokenBarrier},
};

/// What a run of [`run`] observed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// Milliseconds after the start at which each worker finished its work.
    pub worked_until_ms: Vec<u128>,
    /// Milliseconds after the start at which each worker passed the barrier
    /// (all the same as the slowest worker's finish).
    pub passed_at_ms: Vec<u128>,
    /// Leaders of the one generation (must be 1).
    pub leaders: usize,
    /// Workers of the abort run that got `BrokenBarrier`.
    pub broken: usize,
    /// `true` if the barrier worked again after `reset()`.
    pub works_after_reset: bool,
}

/// Workers A, B and C work for `work * 1`, `* 2`, `* 3`, then wait at a
/// `Barrier(3)`; all continue together. Then an abort run: two workers wait
/// at a fresh barrier and the third fails and calls `abort()`, so the
/// waiting two get `BrokenBarrier`; after `reset()` the barrier works again.
pub async fn run<R: Runtime>(rt: R, work: Duration, verbose: bool) -> Report {
    let barrier = Arc::new(Barrier::new(3));
    let start = rt.now();
    let mut handles = Vec::new();
    for (i, name) in ["A", "B", "C"].into_iter().enumerate() {
        let (barrier, timer) = (barrier.clone(), rt.clone());
        handles.push(rt.spawn(async move {
            timer.sleep(work * (i as u32 + 1)).await;
            let worked = (timer.now() - start).as_millis();
            if verbose {
                println!("worker {name} done working at {worked:>4} ms, waiting");
            }
            let result = barrier.wait().await.expect("not aborted");
            let passed = (timer.now() - start).as_millis();
            if verbose {
                let leader = if result.is_leader() { " (leader)" } else { "" };
                println!("worker {name} passed the barrier at {passed:>4} ms{leader}");
            }
            (worked, passed, result.is_leader())
        }));
    }
    let (mut worked_until_ms, mut passed_at_ms, mut leaders) = (Vec::new(), Vec::new(), 0);
    for handle in handles {
        let (worked, passed, leader) = handle.await.expect("worker failed");
        worked_until_ms.push(worked);
        passed_at_ms.push(passed);
        leaders += usize::from(leader);
    }

    // The abort run.
    let barrier = Arc::new(Barrier::new(3));
    let mut waiting = Vec::new();
    for name in ["A", "B"] {
        let barrier = barrier.clone();
        waiting.push(rt.spawn(async move {
            let r = barrier.wait().await;
            if verbose {
                println!("worker {name}: {r:?}");
            }
            r
        }));
    }
    while barrier.waiters() < 2 {
        anysync::task::yield_now().await;
    }
    if verbose {
        println!("worker C fails and aborts the barrier");
    }
    barrier.abort();
    let mut broken = 0;
    for handle in waiting {
        if handle.await.expect("worker failed") == Err(BrokenBarrier) {
            broken += 1;
        }
    }
    let still_broken = barrier.wait().await == Err(BrokenBarrier);
    if verbose {
        println!("a later wait while broken: BrokenBarrier = {still_broken}; reset()");
    }
    barrier.reset();
    let again: Vec<_> = (0..2)
        .map(|_| {
            let barrier = barrier.clone();
            rt.spawn(async move { barrier.wait().await })
        })
        .collect();
    let mine = barrier.wait().await;
    let mut works_after_reset = still_broken && mine.is_ok();
    for handle in again {
        works_after_reset &= handle.await.expect("worker failed").is_ok();
    }
    Report {
        worked_until_ms,
        passed_at_ms,
        leaders,
        broken,
        works_after_reset,
    }
}

/// The tour's line for this pattern.
pub async fn tour_line<R: Runtime>(rt: R) -> String {
    let report = run(rt, Duration::from_millis(5), false).await;
    let together = report
        .passed_at_ms
        .iter()
        .all(|t| *t >= *report.worked_until_ms.iter().max().unwrap_or(&0));
    format!(
        "rendezvous: 3 workers met at a Barrier, all passed after the slowest finished: {together}, {} leader; abort gave {} BrokenBarrier, works after reset: {}",
        report.leaders, report.broken, report.works_after_reset
    )
}

//! Batch processing in chunks (asyncio chunked
//! `gather`), and bounded stream processing (a `Semaphore` around each item
//! of an async iterator), both with futures-util combinators.

extern crate alloc;

use alloc::sync::Arc;
use core::{
    sync::atomic::{AtomicUsize, Ordering},
    time::Duration,
};

use anysync::rt::Runtime;
use futures_util::{future::join_all, stream, StreamExt};

/// Tracks how many items are being processed at once.
#[derive(Debug, Default)]
struct Gauge {
    now: AtomicUsize,
    peak: AtomicUsize,
}

impl Gauge {
    fn enter(&self) {
        let now = self.now.fetch_add(1, Ordering::SeqCst) + 1;
        self.peak.fetch_max(now, Ordering::SeqCst);
    }

    fn leave(&self) {
        self.now.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Processes one item: takes `work`, returns its square.
async fn process<R: Runtime>(rt: &R, gauge: &Gauge, item: u64, work: Duration) -> u64 {
    gauge.enter();
    rt.sleep(work).await;
    gauge.leave();
    item * item
}

/// What a run observed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// Sum of the results (to check every item was processed once).
    pub sum: u64,
    /// The most items in progress at once.
    pub peak: usize,
    /// How many chunks ([`chunked`]) or items ([`streamed`]) there were.
    pub batches: usize,
}

/// Batch processing: `items` items in chunks of `chunk`, each chunk processed
/// concurrently (`join_all`), with `pause` between chunks.
pub async fn chunked<R: Runtime>(
    rt: R,
    items: u64,
    chunk: usize,
    work: Duration,
    pause: Duration,
    verbose: bool,
) -> Report {
    let gauge = Gauge::default();
    let mut sum = 0;
    let mut batches = 0;
    let start = rt.now();
    let mut chunks = stream::iter(0..items).chunks(chunk);
    while let Some(batch) = chunks.next().await {
        let results = join_all(batch.iter().map(|&i| process(&rt, &gauge, i, work))).await;
        sum += results.iter().sum::<u64>();
        batches += 1;
        if verbose {
            println!(
                "{:>5} ms  chunk {batches:>2}: items {:?}..={:?} done",
                (rt.now() - start).as_millis(),
                batch.first().unwrap(),
                batch.last().unwrap()
            );
        }
        rt.sleep(pause).await;
    }
    Report {
        sum,
        peak: gauge.peak.load(Ordering::SeqCst),
        batches,
    }
}

/// Bounded stream processing: the same items as a stream, at most `limit` in progress at
/// once (`buffer_unordered`; results arrive in completion order).
pub async fn streamed<R: Runtime>(
    rt: R,
    items: u64,
    limit: usize,
    work: Duration,
    verbose: bool,
) -> Report {
    let gauge = Arc::new(Gauge::default());
    let start = rt.now();
    let results: Vec<u64> = stream::iter(0..items)
        .map(|i| {
            let (rt, gauge) = (rt.clone(), gauge.clone());
            async move { process(&rt, &gauge, i, work).await }
        })
        .buffer_unordered(limit)
        .collect()
        .await;
    if verbose {
        println!(
            "{:>5} ms  streamed {} items, at most {} at once",
            (rt.now() - start).as_millis(),
            results.len(),
            gauge.peak.load(Ordering::SeqCst)
        );
    }
    Report {
        sum: results.iter().sum(),
        peak: gauge.peak.load(Ordering::SeqCst),
        batches: results.len(),
    }
}

/// The tour's line for this pattern.
pub async fn tour_line<R: Runtime>(rt: R) -> String {
    let a = chunked(
        rt.clone(),
        100,
        10,
        Duration::from_millis(2),
        Duration::from_millis(1),
        false,
    )
    .await;
    let b = streamed(rt, 100, 10, Duration::from_millis(2), false).await;
    let expected: u64 = (0..100u64).map(|i| i * i).sum();
    format!(
        "batch: 100 items in {} chunks of 10 (peak {}), and streamed with buffer_unordered(10) (peak {}); {}",
        a.batches,
        a.peak,
        b.peak,
        if a.sum == expected && b.sum == expected { "every item processed once" } else { "ITEMS LOST" }
    )
}

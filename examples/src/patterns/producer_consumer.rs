//! Producer/consumer with backpressure (asyncio
//! `Queue(maxsize)`), shut down without sentinels; and a slow consumer
//! pacing a fast producer through a channel receiver used as a `Stream`.

extern crate alloc;

use alloc::sync::Arc;
use core::time::Duration;
use std::sync::Mutex;

use anysync::{
    channel,
    queue::{Queue, TryPutError},
    rt::Runtime,
};
use futures_util::StreamExt;

/// What [`run`] observed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// `(item, consumer)` in the order the items were got.
    pub deliveries: Vec<(u32, usize)>,
    /// How many `put`s had to wait because the queue was full.
    pub held_back: usize,
    /// The most items that were in the queue at once.
    pub max_len: usize,
}

/// One producer puts `items` items into a `Queue::bounded(capacity)`,
/// `gap` apart; two consumers take `work` per item. Prints who got what
/// (and when the producer is held back) if `verbose`. Then shuts the queue
/// down: the consumers stop when it is drained, no sentinel needed.
pub async fn run<R: Runtime>(
    rt: R,
    capacity: usize,
    items: u32,
    gap: Duration,
    work: Duration,
    verbose: bool,
) -> Report {
    let q = Arc::new(Queue::bounded(capacity));
    let deliveries = Arc::new(Mutex::new(Vec::new()));
    let start = rt.now();
    let ms = move |rt: &R| (rt.now() - start).as_millis();
    let consumers: Vec<_> = (0..2)
        .map(|id| {
            let (q, deliveries, rt2) = (q.clone(), deliveries.clone(), rt.clone());
            rt.spawn(async move {
                // Ends when the queue is shut down and drained.
                while let Ok(item) = q.get().await {
                    if verbose {
                        println!("{:>5} ms  consumer {id} got item {item:>2}", ms(&rt2));
                    }
                    deliveries.lock().unwrap().push((item, id));
                    rt2.sleep(work).await;
                    q.task_done().expect("one task_done per item got");
                }
            })
        })
        .collect();
    let mut held_back = 0;
    let mut max_len = 0;
    for item in 0..items {
        // Try first, just to report when the producer is held back; a plain
        // `q.put(item).await` does the same waiting.
        if let Err(TryPutError::Full(item)) = q.try_put(item) {
            held_back += 1;
            let before = rt.now();
            if verbose {
                println!(
                    "{:>5} ms  producer held back: queue full ({capacity} items)",
                    ms(&rt)
                );
            }
            q.put(item).await.expect("not shut down yet");
            if verbose {
                println!(
                    "{:>5} ms  producer released after {} ms",
                    ms(&rt),
                    (rt.now() - before).as_millis()
                );
            }
        }
        max_len = max_len.max(q.len());
        if verbose {
            println!("{:>5} ms  producer put item {item:>2}", ms(&rt));
        }
        if gap > Duration::ZERO {
            rt.sleep(gap).await;
        }
    }
    q.join().await; // every item processed
    q.shutdown(); // consumers drain and stop: no sentinels
    for c in consumers {
        c.await.expect("consumer panicked");
    }
    let deliveries = core::mem::take(&mut *deliveries.lock().unwrap());
    Report {
        deliveries,
        held_back,
        max_len,
    }
}

/// Backpressure through a stream: a producer sends `items` values as fast as it can into a
/// `channel::bounded(capacity)`; the consumer reads the receiver as a
/// `Stream`, taking `work` per value. Returns, for each value sent, how
/// many values were in flight (sent, not yet finished) right after: at most
/// the channel's capacity plus the one the consumer is working on.
pub async fn stream_paced<R: Runtime>(
    rt: R,
    capacity: usize,
    items: u32,
    work: Duration,
    verbose: bool,
) -> Vec<usize> {
    let (tx, rx) = channel::bounded(capacity);
    let consumed = Arc::new(Mutex::new(0usize));
    let consumed2 = consumed.clone();
    let rt2 = rt.clone();
    let consumer = rt.spawn(async move {
        rx.for_each(|v: u32| {
            let (rt, consumed) = (rt2.clone(), consumed2.clone());
            async move {
                rt.sleep(work).await;
                *consumed.lock().unwrap() += 1;
                if verbose {
                    println!("  consumer finished value {v}");
                }
            }
        })
        .await;
    });
    let mut ahead = Vec::new();
    for v in 0..items {
        tx.send(v).await.expect("the consumer is alive");
        let done = *consumed.lock().unwrap();
        if verbose {
            println!("  producer sent value {v} (consumer has finished {done})");
        }
        ahead.push(v as usize + 1 - done);
    }
    drop(tx); // the stream ends once it is drained
    consumer.await.expect("consumer panicked");
    ahead
}

/// The tour's line for this pattern.
pub async fn tour_line<R: Runtime>(rt: R) -> String {
    let report = run(
        rt.clone(),
        3,
        12,
        Duration::ZERO,
        Duration::from_millis(5),
        false,
    )
    .await;
    let by = |id| report.deliveries.iter().filter(|d| d.1 == id).count();
    let ahead = stream_paced(rt, 2, 10, Duration::from_millis(2), false).await;
    format!(
        "producer/consumer: {} items via Queue::bounded(3) to 2 consumers ({} + {}), producer held back {} times, max queue length {}; a slow stream consumer kept at most {} values in flight over channel::bounded(2)",
        report.deliveries.len(),
        by(0),
        by(1),
        report.held_back,
        report.max_len,
        ahead.iter().max().copied().unwrap_or(0),
    )
}

//! Wait/notify on a condition (asyncio `Condition`,
//! `wait_for(predicate)`).

use core::time::Duration;
use std::sync::Arc;

use anysync::{
    rt::Runtime,
    sync::{Condvar, Mutex},
};

/// The shared state: a list of items and a "no more items" flag, guarded by
/// one mutex, with a condition variable for "it changed".
#[derive(Default)]
struct Shared {
    items: Vec<u32>,
    done: bool,
}

/// What a run of [`run`] observed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// Items the producer appended.
    pub produced: usize,
    /// Items each consumer took, by consumer.
    pub consumed: Vec<usize>,
    /// Times a consumer returned from its wait to an empty list while more
    /// items were still coming (must be 0: `wait_while` re-checks).
    pub empty_wakeups: usize,
}

/// `consumers` tasks wait for the list to be non-empty and take one item
/// each time; one producer appends `items` items, `gap` apart, notifying
/// one consumer per item, then sets `done` and notifies them all.
pub async fn run<R: Runtime>(
    rt: R,
    consumers: usize,
    items: u32,
    gap: Duration,
    verbose: bool,
) -> Report {
    let state = Arc::new((Mutex::new(Shared::default()), Condvar::new()));
    let mut handles = Vec::new();
    for id in 0..consumers {
        let state = state.clone();
        handles.push(rt.spawn(async move {
            let (lock, cond) = &*state;
            let (mut taken, mut empty) = (0, 0);
            loop {
                // asyncio: `await cond.wait_for(lambda: items or done)`.
                let mut shared = cond
                    .wait_while(lock.lock().await, |s| s.items.is_empty() && !s.done)
                    .await;
                match shared.items.pop() {
                    Some(item) => {
                        taken += 1;
                        if verbose {
                            println!("consumer {id} got item {item}");
                        }
                    }
                    None if shared.done => return (taken, empty),
                    None => empty += 1,
                }
            }
        }));
    }
    let (lock, cond) = &*state;
    for item in 0..items {
        rt.sleep(gap).await;
        lock.lock().await.items.push(item);
        if verbose {
            println!("producer appended item {item}");
        }
        cond.notify_one();
    }
    lock.lock().await.done = true;
    cond.notify_all();
    let mut consumed = Vec::new();
    let mut empty_wakeups = 0;
    for handle in handles {
        let (taken, empty) = handle.await.expect("consumer failed");
        consumed.push(taken);
        empty_wakeups += empty;
    }
    Report {
        produced: items as usize,
        consumed,
        empty_wakeups,
    }
}

/// The tour's line for this pattern.
pub async fn tour_line<R: Runtime>(rt: R) -> String {
    let report = run(rt, 3, 9, Duration::from_millis(2), false).await;
    format!(
        "wait/notify on a condition: 3 consumers waited on a Condvar for a non-empty list; {} items appended, {} consumed ({:?} each), {} empty wake-ups",
        report.produced,
        report.consumed.iter().sum::<usize>(),
        report.consumed,
        report.empty_wakeups
    )
}

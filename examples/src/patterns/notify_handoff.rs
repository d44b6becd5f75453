//! A producer/consumer hand-off with [`Notify`]: the producer fills a slot
//! and notifies; the consumer waits for the notification, never polling.

use std::sync::{Arc, Mutex as StdMutex};

use anysync::{rt::Runtime, sync::Notify};

/// Hands `items` values from a producer task to a consumer task through a
/// one-item slot guarded by two [`Notify`]s; returns what the consumer got.
pub async fn run<R: Runtime>(rt: R, items: usize) -> Vec<usize> {
    let slot = Arc::new(StdMutex::new(None::<usize>));
    let filled = Arc::new(Notify::new());
    let emptied = Arc::new(Notify::new());
    let producer = {
        let (slot, filled, emptied) = (slot.clone(), filled.clone(), emptied.clone());
        rt.spawn(async move {
            for i in 0..items {
                loop {
                    // Register before checking, so an `emptied` between the
                    // check and the wait is not lost (it is stored anyway).
                    let wait = emptied.notified();
                    if slot.lock().unwrap().is_none() {
                        break;
                    }
                    wait.await;
                }
                *slot.lock().unwrap() = Some(i);
                filled.notify_one();
            }
        })
    };
    let mut got = Vec::with_capacity(items);
    while got.len() < items {
        let wait = filled.notified();
        let taken = slot.lock().unwrap().take();
        match taken {
            Some(v) => {
                got.push(v);
                emptied.notify_one();
            }
            None => wait.await,
        }
    }
    producer.await.expect("producer failed");
    got
}

/// The tour's line for this pattern.
pub async fn tour_line<R: Runtime>(rt: R) -> String {
    let got = run(rt, 100).await;
    let in_order = got.iter().enumerate().all(|(i, v)| i == *v);
    format!(
        "producer/consumer hand-off: {} items passed through a Notify-guarded slot, in order: {in_order}",
        got.len()
    )
}

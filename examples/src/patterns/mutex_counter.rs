//! Mutual exclusion across awaits (asyncio `Lock`).

use std::sync::Arc;

use anysync::{rt::Runtime, sync::Mutex};

/// `tasks` tasks each do `rounds` read-await-write increments of a shared
/// counter under a [`Mutex`]; returns the final count.
pub async fn with_lock<R: Runtime>(rt: R, tasks: usize, rounds: usize) -> usize {
    let count = Arc::new(Mutex::new(0usize));
    let mut handles = Vec::new();
    for _ in 0..tasks {
        let count = count.clone();
        handles.push(rt.spawn(async move {
            for _ in 0..rounds {
                let mut guard = count.lock().await;
                let read = *guard;
                crate::yield_now().await; // an await inside the section
                *guard = read + 1;
            }
        }));
    }
    for handle in handles {
        handle.await.expect("task failed");
    }
    let total = *count.lock().await;
    total
}

/// The same increments with no lock across the await: a short blocking
/// lock for each read and each write, so tasks interleave between them and
/// updates are lost.
pub async fn without_lock<R: Runtime>(rt: R, tasks: usize, rounds: usize) -> usize {
    let count = Arc::new(std::sync::Mutex::new(0usize));
    let mut handles = Vec::new();
    for _ in 0..tasks {
        let count = count.clone();
        handles.push(rt.spawn(async move {
            for _ in 0..rounds {
                let read = *count.lock().unwrap();
                crate::yield_now().await;
                *count.lock().unwrap() = read + 1;
            }
        }));
    }
    for handle in handles {
        handle.await.expect("task failed");
    }
    let total = *count.lock().unwrap();
    total
}

/// The tour's line for this pattern.
pub async fn tour_line<R: Runtime>(rt: R) -> String {
    let locked = with_lock(rt.clone(), 100, 10).await;
    let unlocked = without_lock(rt, 100, 10).await;
    format!("mutual exclusion: 100 tasks x 10 read-await-write increments = {locked} with Mutex, {unlocked} without (lost updates)")
}

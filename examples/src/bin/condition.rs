//! Wait/notify on a condition: consumers wait on a `Condvar` for a
//! non-empty list; a producer appends items and notifies (asyncio
//! `Condition.wait_for`).
#![forbid(unsafe_code)]

use anysync::rt::Runtime;
use core::time::Duration;

use anysync_examples::patterns::condition;

async fn body<R: Runtime>(rt: R) {
    let report = condition::run(rt, 3, 10, Duration::from_millis(50), true).await;
    println!(
        "{} items appended, {} consumed ({:?} per consumer), {} empty wake-ups",
        report.produced,
        report.consumed.iter().sum::<usize>(),
        report.consumed,
        report.empty_wakeups
    );
}

anysync_examples::main!(body);

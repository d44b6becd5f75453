//! A concurrency limit: 10 tasks under `Semaphore(3)`, each working 200 ms;
//! prints start and finish times and the peak concurrency (3).
#![forbid(unsafe_code)]

use anysync::rt::Runtime;
use std::time::Duration;

use anysync_examples::patterns::bounded_concurrency;

async fn body<R: Runtime>(rt: R) {
    let report = bounded_concurrency::run(rt, 10, 3, Duration::from_millis(200), true).await;
    println!(
        "{} tasks finished; peak concurrency {}",
        report.finished, report.peak
    );
}

anysync_examples::main!(body);

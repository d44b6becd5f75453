//! A work queue with completion tracking: 3 workers drain 20 jobs; `join()`
//! returns exactly when the last job is marked done; then `shutdown()`
//! stops the workers.
#![forbid(unsafe_code)]

use anysync::rt::Runtime;
use core::time::Duration;

use anysync_examples::patterns::work_queue;

async fn body<R: Runtime>(rt: R) {
    let report = work_queue::run(rt, 3, 20, Duration::from_millis(30), true).await;
    println!(
        "jobs per worker: {:?}; join() saw {} of 20 done",
        report.per_worker, report.done_at_join
    );
}

anysync_examples::main!(body);

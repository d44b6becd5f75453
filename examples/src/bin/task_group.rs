//! Five children, one fails after 2 s; the siblings are
//! cancelled (printing their cleanup, one of which fails too) and the
//! group returns every error.
#![forbid(unsafe_code)]

use anysync::rt::Runtime;
use std::time::Duration;

use anysync_examples::patterns::task_group;

async fn body<R: Runtime>(rt: R) {
    let report = task_group::run(rt, Duration::from_secs(1), true).await;
    println!(
        "{} siblings cleaned up; {} errors returned",
        report.cleanups.len(),
        report.errors.len()
    );
}

anysync_examples::main!(body);

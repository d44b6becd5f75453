//! Results in completion order and in input order; errors are
//! collected, not raised.
#![forbid(unsafe_code)]

use anysync::rt::Runtime;
use std::time::Duration;

use anysync_examples::patterns::gather;

async fn body<R: Runtime>(rt: R) {
    let report = gather::run(rt, Duration::from_millis(100), true).await;
    println!(
        "completion order {:?}; gathered {:?}",
        report.completion_order, report.gathered
    );
}

anysync_examples::main!(body);

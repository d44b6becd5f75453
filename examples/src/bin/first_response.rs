//! The fastest of three sources wins; the rest are cancelled.
#![forbid(unsafe_code)]

use anysync::rt::Runtime;
use std::time::Duration;

use anysync_examples::patterns::first_response;

async fn body<R: Runtime>(rt: R) {
    let report = first_response::run(rt, Duration::from_millis(200), true).await;
    println!(
        "winner: {}; cancelled: {:?}",
        report.winner, report.cancelled
    );
}

anysync_examples::main!(body);

//! An operation fails twice then succeeds; prints each attempt
//! and the 100 ms and 200 ms delays before attempts 2 and 3. Then one that
//! fails three times exhausts its 3 attempts.
#![forbid(unsafe_code)]

use anysync::rt::Runtime;
use std::time::Duration;

use anysync_examples::patterns::retry;

async fn body<R: Runtime>(rt: R) {
    let report = retry::run(rt.clone(), 2, Duration::from_millis(100), true).await;
    println!(
        "result: {:?} after {} attempts",
        report.result,
        report.attempt_starts.len()
    );
    let report = retry::run(rt, 3, Duration::from_millis(100), true).await;
    println!("result: {:?}", report.result);
}

anysync_examples::main!(body);

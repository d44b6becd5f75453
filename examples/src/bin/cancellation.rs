//! A worker cleans up when its token is cancelled; a shielded
//! critical section completes although its caller gave up.
#![forbid(unsafe_code)]

use anysync::rt::Runtime;
use std::time::Duration;

use anysync_examples::patterns::cancellation;

async fn body<R: Runtime>(rt: R) {
    let report = cancellation::run(rt, Duration::from_millis(200), true).await;
    println!("{report:?}");
}

anysync_examples::main!(body);

//! A blocking call runs off the executor (`to_thread`) while
//! an async ticker keeps ticking.
#![forbid(unsafe_code)]

use anysync::rt::Runtime;
use std::time::Duration;

use anysync_examples::patterns::blocking;

async fn body<R: Runtime>(rt: R) {
    let report = blocking::run(rt, Duration::from_millis(500), true).await;
    println!(
        "result {}; {} ticks meanwhile",
        report.result, report.ticks_meanwhile
    );
}

anysync_examples::main!(body);

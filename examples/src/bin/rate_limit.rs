//! At most 3 concurrent and 2 calls per second over 10 calls,
//! each working 2 s; prints the start times. No call holds a permit while
//! it waits for the rate.
#![forbid(unsafe_code)]

use anysync::rt::Runtime;
use std::time::Duration;

use anysync::time::Quota;
use anysync_examples::patterns::rate_limit;

async fn body<R: Runtime>(rt: R) {
    let quota = Quota::per_second(rate_limit::nz(2));
    let report = rate_limit::run(rt, 10, 3, quota, Duration::from_secs(2), true).await;
    let mut starts = report.starts_ms.clone();
    starts.sort_unstable();
    println!(
        "start times (ms): {starts:?}; peak concurrency {}",
        report.peak
    );
}

anysync_examples::main!(body);

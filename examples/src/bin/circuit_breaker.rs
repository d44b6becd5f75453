//! Three failures open the breaker, calls then fail fast
//! without running, and after the cool-down one probe closes it again.
#![forbid(unsafe_code)]

use anysync::rt::Runtime;
use std::time::Duration;

use anysync_examples::patterns::circuit_breaker;

async fn body<R: Runtime>(rt: R) {
    let r = circuit_breaker::run(rt, 3, Duration::from_millis(500), true).await;
    println!(
        "{:?} after failures, {} rejected fast, {:?} after the probe; the operation ran {} times",
        r.after_failures, r.rejected, r.after_probe, r.operation_calls
    );
}

anysync_examples::main!(body);

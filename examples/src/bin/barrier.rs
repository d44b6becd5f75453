//! Rendezvous: workers A, B and C each work, then wait at a `Barrier`; all
//! continue together. Then an `abort()` shows the broken state, and
//! `reset()` mends it.
#![forbid(unsafe_code)]

use anysync::rt::Runtime;
use core::time::Duration;

use anysync_examples::patterns::barrier;

async fn body<R: Runtime>(rt: R) {
    let report = barrier::run(rt, Duration::from_millis(100), true).await;
    println!(
        "worked until {:?} ms, passed at {:?} ms; {} leader; abort broke {} waiters; works after reset: {}",
        report.worked_until_ms, report.passed_at_ms, report.leaders, report.broken, report.works_after_reset
    );
}

anysync_examples::main!(body);

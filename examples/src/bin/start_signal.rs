//! One signal, many waiters: 5 workers wait on one `Event`; setup finishes; one
//! `set()` releases them all at once.
#![forbid(unsafe_code)]

use anysync::rt::Runtime;
use anysync_examples::patterns::start_signal;

async fn body<R: Runtime>(rt: R) {
    let report = start_signal::run(rt, 5, true).await;
    println!(
        "{} workers waited, {} got through early, {} released by one set()",
        report.waiting_before_set, report.released_early, report.released
    );
}

anysync_examples::main!(body);

//! 20 tasks share 5 connections; a broken connection
//! is replaced; a get with a timeout; the pool closed explicitly.
#![forbid(unsafe_code)]

use anysync::rt::Runtime;
use std::time::Duration;

use anysync_examples::patterns::pool;

async fn body<R: Runtime>(rt: R) {
    let r = pool::run(rt, 20, 5, Duration::from_millis(100), true).await;
    println!(
        "{} tasks done; peak {} connections in use; {} opened in all",
        r.finished, r.peak_in_use, r.opened
    );
}

anysync_examples::main!(body);

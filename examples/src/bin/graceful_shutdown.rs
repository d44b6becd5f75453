//! A small service that accepts a job every 50 ms; on
//! Ctrl-C or SIGTERM it stops accepting work, lets the jobs in flight
//! finish within 2 s, and exits 0 after a clean drain. A second signal
//! (or the deadline) aborts what is left, and it exits 1. `--stubborn`
//! adds a job that ignores the shutdown, to see that happen.
#![forbid(unsafe_code)]

use anysync::rt::{Runtime, Signals};
use anysync_examples::{
    on_async_std, on_smol, on_tokio,
    patterns::graceful_shutdown::{self, Options},
    Choice,
};

async fn body<R: Runtime + Signals>(rt: R, options: Options) -> i32 {
    let signals = rt
        .shutdown_signals()
        .expect("failed to install the signal handlers");
    let report = graceful_shutdown::run(rt, signals, options, true).await;
    println!("{report}");
    if report.is_clean() {
        0
    } else {
        1
    }
}

fn main() {
    let options = Options::from_args();
    let code = match Choice::from_args() {
        Choice::Tokio => on_tokio(|rt| body(rt, options)),
        Choice::Smol => on_smol(|rt| body(rt, options)),
        Choice::AsyncStd => on_async_std(|rt| body(rt, options)),
    };
    std::process::exit(code);
}

//! Shared plumbing for the example programs: pick a runtime from
//! `--runtime tokio|smol|async-std` (default tokio) and run a body that is
//! generic over [`anysync::rt::Runtime`] on it.
//!
//! Every program in `src/bin/` is written once, against the `Runtime`
//! traits, and runs unchanged on each executor:
//!
//! ```no_run
//! use anysync::rt::Runtime;
//!
//! async fn body<R: Runtime>(rt: R) {
//!     rt.sleep(std::time::Duration::from_millis(10)).await;
//!     println!("slept on whichever runtime was chosen");
//! }
//!
//! anysync_examples::main!(body);
//! ```
#![forbid(unsafe_code)]

use std::future::Future;

pub mod patterns;

/// The executors an example can run on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Choice {
    /// tokio's multi-thread runtime (the default).
    Tokio,
    /// smol's global executor.
    Smol,
    /// async-std (legacy: discontinued upstream).
    AsyncStd,
}

impl Choice {
    /// Reads `--runtime NAME` (or `--runtime=NAME`) from the command line.
    ///
    /// # Panics
    /// With a usage message if the runtime name is unknown.
    pub fn from_args() -> Choice {
        let args: Vec<String> = std::env::args().skip(1).collect();
        let mut name = None;
        let mut iter = args.iter();
        while let Some(arg) = iter.next() {
            if arg == "--runtime" {
                name = iter.next().cloned();
            } else if let Some(v) = arg.strip_prefix("--runtime=") {
                name = Some(v.to_owned());
            }
        }
        match name.as_deref() {
            None | Some("tokio") => Choice::Tokio,
            Some("smol") => Choice::Smol,
            Some("async-std") | Some("async_std") => Choice::AsyncStd,
            Some(other) => {
                eprintln!("unknown runtime {other:?}: use --runtime tokio|smol|async-std");
                std::process::exit(2)
            }
        }
    }

    /// The runtime's name as given on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Choice::Tokio => "tokio",
            Choice::Smol => "smol",
            Choice::AsyncStd => "async-std",
        }
    }
}

/// Runs `body` on tokio's multi-thread runtime.
pub fn on_tokio<F, Fut>(body: F) -> Fut::Output
where
    F: FnOnce(anysync_tokio::Tokio) -> Fut,
    Fut: Future,
{
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("failed to build the tokio runtime");
    runtime.block_on(async { body(anysync_tokio::Tokio::current()).await })
}

/// Runs `body` on smol.
pub fn on_smol<F, Fut>(body: F) -> Fut::Output
where
    F: FnOnce(anysync_smol::Smol) -> Fut,
    Fut: Future,
{
    smol::block_on(body(anysync_smol::Smol))
}

/// Runs `body` on async-std.
pub fn on_async_std<F, Fut>(body: F) -> Fut::Output
where
    F: FnOnce(anysync_async_std::AsyncStd) -> Fut,
    Fut: Future,
{
    async_std::task::block_on(body(anysync_async_std::AsyncStd))
}

/// Defines `fn main` for an example: parses `--runtime` and runs `body`, an
/// `async fn body<R: Runtime>(rt: R)` written at file scope (so rustfmt and
/// clippy see it), on that runtime.
///
/// # Examples
/// ```no_run
/// use anysync::rt::Runtime;
///
/// async fn body<R: Runtime>(rt: R) {
///     let answer = rt.spawn(async { 6 * 7 }).await.unwrap();
///     println!("{answer}");
/// }
///
/// anysync_examples::main!(body);
/// ```
#[macro_export]
macro_rules! main {
    ($body:ident) => {
        fn main() {
            match $crate::Choice::from_args() {
                $crate::Choice::Tokio => $crate::on_tokio($body),
                $crate::Choice::Smol => $crate::on_smol($body),
                $crate::Choice::AsyncStd => $crate::on_async_std($body),
            }
        }
    };
}

/// Yields to the executor once (from the core; an await point that really
/// suspends, unlike a zero-length sleep, which some timers complete
/// without suspending).
pub use anysync::task::yield_now;

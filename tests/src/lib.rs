//! anysync's conformance suite: each scenario is written once, as an async
//! body generic over the runtime, and runs as one `#[test]` per executor.
//!
//! ```text
//! cargo test -p anysync-tests                      # every scenario on every executor
//! cargo test -p anysync-tests smol                 # one executor
//! cargo test -p anysync-tests sleep_               # some scenarios, everywhere
//! cargo test -p anysync-tests --no-default-features --features smol
//! ```
//!
//! Write each scenario in `tests/<area>.rs` as an ordinary `async fn` at
//! file scope, then list it by name: [`scenarios!`] for
//! `async fn name<R: Runtime>(rt: R)` (needs a
//! [`Runtime`](anysync::rt::Runtime): timers, spawning, blocking), or
//! [`scenarios_no_rt!`] for `async fn name()` (needs nothing; also runs on
//! `futures_executor` and under miri). The macros only list names, so
//! rustfmt, clippy and the IDE see every body. Test names come out as
//! `<scenario>::<executor>`:
//!
//! ```
//! use anysync::rt::{Runtime, Spawn};
//! use anysync_tests::{scenarios, scenarios_no_rt};
//!
//! /// A spawned task's output reaches its handle.
//! async fn spawned_output_reaches_handle<R: Runtime>(rt: R) {
//!     assert_eq!(rt.spawn(async { 7 }).await.unwrap(), 7);
//! }
//!
//! /// An async block's output is its value, with no runtime at all.
//! async fn async_block_yields_its_value() {
//!     assert_eq!(async { 1 }.await, 1);
//! }
//!
//! scenarios!(spawned_output_reaches_handle);
//! scenarios_no_rt!(async_block_yields_its_value);
//! # fn main() {}
//! ```
//!
//! | test name suffix        | executor                                   | feature     |
//! |-------------------------|--------------------------------------------|-------------|
//! | `tokio_current_thread`  | tokio, current-thread runtime              | `tokio`     |
//! | `tokio_multi_thread`    | tokio, multi-thread runtime, 2 workers     | `tokio`     |
//! | `smol`                  | `smol::block_on` + smol's global executor  | `smol`      |
//! | `async_std`             | async-std (legacy)                         | `async-std` |
//! | `virtual_time`          | [`VirtualTime`](anysync::rt::virtual_time::VirtualTime): deterministic, instant | always |
//! | `futures_executor`      | `futures_executor::block_on` ([`scenarios_no_rt!`] only) | always |
//!
//! Rules for scenario bodies:
//! * Assert orderings and counts, never elapsed wall time. Exact times are
//!   asserted only in tests that use `VirtualTime` directly.
//! * Never sleep to "let things settle": synchronise on events, channels,
//!   [`yield_now`], or blocking jobs waiting on `std::sync::mpsc`.
//! * On `virtual_time` the clock stands still while a blocking job runs, so
//!   a blocking job must not wait for something that needs time to pass;
//!   and a task spinning on [`yield_now`] keeps the clock stopped too. Gate
//!   tasks on an async primitive (`anysync::sync::Event`) instead.
//! * Every run is under a real-time watchdog ([`harness::watchdog`]): a
//!   lost wake-up fails the test with the scenario's name instead of
//!   hanging.
//!
//! Adding an executor: one function in [`harness`] and one line in
//! `__scenario_tests!` (in this file).
#![forbid(unsafe_code)]

extern crate alloc;

use alloc::sync::Arc;
use core::sync::atomic::{AtomicUsize, Ordering};

pub mod harness;

/// Turns ordinary `async fn` scenarios that need a runtime into one
/// `#[test]` per executor. The macro only lists names; each body is a plain
/// `async fn name<R: Runtime>(rt: R)` at file scope, so rustfmt and every
/// other tool see it.
///
/// Each name becomes a module of the same name (modules and functions live
/// in different namespaces), whose tests are `tokio_current_thread`,
/// `tokio_multi_thread`, `smol`, `async_std` (each behind its cargo
/// feature) and `virtual_time`.
///
/// # Examples
/// ```
/// use anysync::rt::{Runtime, Spawn};
/// use anysync_tests::scenarios;
///
/// /// A spawned task's output reaches its handle.
/// async fn spawn_returns_output<R: Runtime>(rt: R) {
///     assert_eq!(rt.spawn(async { 7 }).await.unwrap(), 7);
/// }
///
/// scenarios!(spawn_returns_output);
/// # fn main() {}
/// ```
#[macro_export]
macro_rules! scenarios {
    ($($name:ident),+ $(,)?) => {$(
        mod $name {
            $crate::__scenario_tests!($name, super::$name);
        }
    )+};
}

/// Like [`scenarios!`] for `async fn name()` scenarios that need no
/// runtime: they also run on `futures_executor` (a plain
/// `futures_executor::block_on`, the one miri runs).
///
/// # Examples
/// ```
/// use anysync_tests::scenarios_no_rt;
///
/// /// An async block's output is its value.
/// async fn ready_is_ready() {
///     assert_eq!(async { 1 }.await, 1);
/// }
///
/// scenarios_no_rt!(ready_is_ready);
/// # fn main() {}
/// ```
#[macro_export]
macro_rules! scenarios_no_rt {
    ($($name:ident),+ $(,)?) => {$(
        mod $name {
            #[test]
            fn futures_executor() {
                $crate::harness::no_rt(stringify!($name), super::$name)
            }

            $crate::__scenario_tests!($name, |_rt| super::$name());
        }
    )+};
}

/// The per-executor `#[test]` functions of [`scenarios!`] and
/// [`scenarios_no_rt!`]. Adding an executor is one line here.
#[doc(hidden)]
#[macro_export]
macro_rules! __scenario_tests {
    ($name:ident, $body:expr) => {
        #[cfg(feature = "tokio")]
        #[test]
        fn tokio_current_thread() {
            $crate::harness::tokio_ct(stringify!($name), $body)
        }

        #[cfg(feature = "tokio")]
        #[test]
        fn tokio_multi_thread() {
            $crate::harness::tokio_mt(stringify!($name), $body)
        }

        #[cfg(feature = "smol")]
        #[test]
        fn smol() {
            $crate::harness::smol(stringify!($name), $body)
        }

        #[cfg(feature = "async-std")]
        #[test]
        fn async_std() {
            $crate::harness::async_std(stringify!($name), $body)
        }

        #[test]
        fn virtual_time() {
            $crate::harness::virtual_time(stringify!($name), $body)
        }
    };
}

/// Gives other tasks a turn (re-exported from the core, where executor-
/// neutral code can use it too).
pub use anysync::task::{futures::YieldNow, yield_now};

/// Yields until `cond` holds: progress comes from other tasks, never from
/// the passage of time.
pub async fn until(mut cond: impl FnMut() -> bool) {
    while !cond() {
        yield_now().await;
    }
}

/// Polls `future` once with the current task's waker (like
/// `futures::poll!`), leaving it registered if it is pending.
pub async fn poll_once<F: core::future::Future + Unpin>(
    future: &mut F,
) -> core::task::Poll<F::Output> {
    core::future::poll_fn(|cx| core::task::Poll::Ready(core::pin::Pin::new(&mut *future).poll(cx)))
        .await
}

/// Runs `future` against `turns` yields: `Some(output)` if it finished
/// first, `None` if it lost and was dropped (cancelled) instead.
pub async fn race_yields<F: core::future::Future>(future: F, turns: usize) -> Option<F::Output> {
    let yields = async {
        for _ in 0..turns {
            yield_now().await;
        }
    };
    match futures_util::future::select(core::pin::pin!(future), core::pin::pin!(yields)).await {
        futures_util::future::Either::Left((out, _)) => Some(out),
        futures_util::future::Either::Right(((), _)) => None,
    }
}

/// Counts drops: [`DropCounter::guard`] makes values that add one when
/// dropped, to check that a cancelled future really dropped its state.
///
/// # Examples
/// ```
/// let drops = anysync_tests::DropCounter::new();
/// let guard = drops.guard();
/// assert_eq!(drops.count(), 0);
/// drop(guard);
/// assert_eq!(drops.count(), 1);
/// ```
#[derive(Clone, Debug, Default)]
pub struct DropCounter(Arc<AtomicUsize>);

impl DropCounter {
    /// A counter at zero.
    pub fn new() -> Self {
        Self::default()
    }

    /// A value that adds one to this counter when dropped.
    pub fn guard(&self) -> DropGuard {
        DropGuard(self.clone())
    }

    /// How many guards have been dropped.
    pub fn count(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }
}

/// Adds one to its [`DropCounter`] when dropped.
#[derive(Debug)]
pub struct DropGuard(DropCounter);

impl Drop for DropGuard {
    fn drop(&mut self) {
        (self.0).0.fetch_add(1, Ordering::SeqCst);
    }
}

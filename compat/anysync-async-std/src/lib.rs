//! [anysync] on [async-std] (legacy): the [`AsyncStd`] runtime type, and the
//! whole of `anysync` re-exported.
//!
//! **async-std is discontinued upstream** ([RUSTSEC-2025-0052]); its
//! maintainers point to smol. This crate is kept for existing users only,
//! and kept thin: it adapts async-std and adds nothing, so that dropping it
//! one day changes nothing elsewhere. New code should use `anysync-smol`
//! (async-std runs on the same async-io and async-executor underneath) or
//! `anysync-tokio`.
//!
//! Everything in `anysync` is re-exported here, so
//! `anysync_async_std::sync::Mutex` is the same type as `anysync::sync::Mutex`.
//!
//! | `anysync::rt` trait | what async-std supplies                            |
//! |---------------------|----------------------------------------------------|
//! | [`rt::Timer`]       | async-io's `Timer`, which async-std's `sleep` uses |
//! | [`rt::Spawn`]       | `async_std::task::spawn`, detached                 |
//! | [`rt::Blocking`]    | `async_std::task::spawn_blocking`, detached        |
//! | [`rt::Signals`]     | `SIGINT`/`SIGTERM` via the `async-signal` crate     |
//!
//! Panics in tasks become [`JoinError::is_panic`](rt::JoinError::is_panic)
//! (async-std itself would abort the process) and
//! [`abort`](rt::JoinHandle::abort) works: see [`rt::catch_task`].
//!
//! # Examples
//! ```
//! use std::time::Duration;
//! use anysync_async_std::{sync::Mutex, time::timeout, AsyncStd};
//!
//! async_std::task::block_on(async {
//!     let rt = AsyncStd;
//!
//!     let task = rt.spawn(async { 6 * 7 });
//!     assert_eq!(task.await.unwrap(), 42);
//!
//!     let sum = rt.spawn_blocking(|| (1..=10).sum::<u32>());
//!     assert_eq!(sum.await.unwrap(), 55);
//!
//!     let slow = rt.sleep(Duration::from_secs(60));
//!     assert!(timeout(&rt, Duration::from_millis(1), slow).await.is_err());
//!
//!     let counter = Mutex::new(0);
//!     *counter.lock().await += 1;
//! });
//! ```
//!
//! [anysync]: https://docs.rs/anysync
//! [async-std]: https://docs.rs/async-std
//! [RUSTSEC-2025-0052]: https://rustsec.org/advisories/RUSTSEC-2025-0052.html
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![doc(test(no_crate_inject, attr(deny(warnings))))]

use core::{future::Future, time::Duration};

#[doc(no_inline)]
pub use anysync::*;
use anysync::{
    rt::{catch_blocking, catch_task, Blocking, SleepAdapter, Spawn, TaskHandle, Timer},
    time::Instant,
};

/// async-std (legacy; discontinued upstream), as an [`rt::Runtime`]: tasks
/// on async-std's global executor, sleeps on async-io's timer, blocking
/// closures on async-std's blocking pool.
///
/// # Examples
/// ```
/// use anysync_async_std::AsyncStd;
///
/// async_std::task::block_on(async {
///     let task = AsyncStd.spawn(std::future::pending::<()>());
///     task.abort();
///     assert!(task.await.unwrap_err().is_cancelled());
///
///     let bad = AsyncStd.spawn(async { panic!("boom") });
///     assert!(bad.await.unwrap_err().is_panic());
/// });
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct AsyncStd;

/// The [`rt`] trait methods, callable without importing the traits.
impl AsyncStd {
    /// A future that completes after `duration`: [`Timer::sleep`].
    ///
    /// # Cancel safety
    /// This method is cancel safe: dropping the future before it completes has no effect.
    ///
    /// # Examples
    /// ```
    /// use std::time::Duration;
    ///
    /// async_std::task::block_on(async {
    ///     anysync_async_std::AsyncStd.sleep(Duration::from_millis(1)).await;
    /// });
    /// ```
    pub fn sleep(&self, duration: Duration) -> SleepAdapter<async_io::Timer> {
        Timer::sleep(self, duration)
    }

    /// Spawns `future` as a new task: [`Spawn::spawn`]. A panic in the
    /// task becomes [`JoinError::is_panic`](rt::JoinError::is_panic) at the
    /// handle.
    ///
    /// # Cancel safety
    /// This method is cancel safe: dropping the future before it completes has no effect.
    /// (Dropping the handle detaches the task; `abort` on the handle stops it.)
    ///
    /// # Examples
    /// ```
    /// async_std::task::block_on(async {
    ///     assert_eq!(anysync_async_std::AsyncStd.spawn(async { 6 * 7 }).await.unwrap(), 42);
    /// });
    /// ```
    pub fn spawn<F>(&self, future: F) -> TaskHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        Spawn::spawn(self, future)
    }

    /// Runs `f` on a thread set aside for blocking work:
    /// [`Blocking::spawn_blocking`].
    ///
    /// # Cancel safety
    /// This method is cancel safe: dropping the future before it completes has no effect.
    /// (Dropping the handle detaches the job, which runs to the end.)
    ///
    /// # Examples
    /// ```
    /// async_std::task::block_on(async {
    ///     let sum = anysync_async_std::AsyncStd.spawn_blocking(|| (1..=10).sum::<u32>());
    ///     assert_eq!(sum.await.unwrap(), 55);
    /// });
    /// ```
    pub fn spawn_blocking<F, T>(&self, f: F) -> TaskHandle<T>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        Blocking::spawn_blocking(self, f)
    }
}

impl Timer for AsyncStd {
    type Sleep = SleepAdapter<async_io::Timer>;

    /// `async_io::Timer::after`, the timer behind `async_std::task::sleep`.
    /// A duration too long to represent (`Duration::MAX`) gives a timer
    /// that never fires.
    ///
    /// # Cancel safety
    /// This method is cancel safe: dropping the future before it completes has no effect.
    fn sleep(&self, duration: Duration) -> SleepAdapter<async_io::Timer> {
        SleepAdapter::new(async_io::Timer::after(duration))
    }

    /// `std::time::Instant::now()` on the process-wide scale of
    /// [`Instant::from_std`].
    fn now(&self) -> Instant {
        Instant::from_std(std::time::Instant::now())
    }
}

impl Spawn for AsyncStd {
    type JoinHandle<T: Send + 'static> = TaskHandle<T>;

    /// `async_std::task::spawn`, detached, of the future wrapped by
    /// [`rt::catch_task`].
    fn spawn<F>(&self, future: F) -> TaskHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let (task, handle) = catch_task(future);
        drop(async_std::task::spawn(task)); // dropping async-std's handle detaches
        handle
    }
}

impl Blocking for AsyncStd {
    type BlockingHandle<T: Send + 'static> = TaskHandle<T>;

    /// `async_std::task::spawn_blocking`, detached, of the closure wrapped
    /// by [`rt::catch_blocking`].
    fn spawn_blocking<F, T>(&self, f: F) -> TaskHandle<T>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        let (job, handle) = catch_blocking(f);
        drop(async_std::task::spawn_blocking(move || job.run()));
        handle
    }
}

/// `SIGINT` and `SIGTERM` (Ctrl-C on Windows) through the `async-signal`
/// crate, which async-std's process support uses too.
impl rt::Signals for AsyncStd {
    type Stream = AsyncStdSignals;

    fn shutdown_signals(&self) -> std::io::Result<AsyncStdSignals> {
        #[cfg(unix)]
        let kinds = [async_signal::Signal::Int, async_signal::Signal::Term];
        #[cfg(not(unix))]
        let kinds = [async_signal::Signal::Int];
        Ok(AsyncStdSignals {
            inner: async_signal::Signals::new(kinds)?,
        })
    }
}

/// The stream of [`rt::Signal`]s from
/// [`AsyncStd::shutdown_signals`](rt::Signals::shutdown_signals).
pub struct AsyncStdSignals {
    inner: async_signal::Signals,
}

impl futures_core::Stream for AsyncStdSignals {
    type Item = rt::Signal;

    fn poll_next(
        mut self: core::pin::Pin<&mut Self>,
        cx: &mut core::task::Context<'_>,
    ) -> core::task::Poll<Option<rt::Signal>> {
        use core::task::Poll;
        loop {
            return match core::pin::Pin::new(&mut self.inner).poll_next(cx) {
                Poll::Ready(Some(Ok(async_signal::Signal::Int))) => {
                    Poll::Ready(Some(rt::Signal::Interrupt))
                }
                #[cfg(unix)]
                Poll::Ready(Some(Ok(async_signal::Signal::Term))) => {
                    Poll::Ready(Some(rt::Signal::Terminate))
                }
                // Only the kinds asked for are delivered; a read error of
                // the self-pipe is retried.
                Poll::Ready(Some(_)) => continue,
                Poll::Ready(None) => Poll::Ready(None),
                Poll::Pending => Poll::Pending,
            };
        }
    }
}

impl core::fmt::Debug for AsyncStdSignals {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("AsyncStdSignals").finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::mpsc;

    use anysync::time::timeout;

    use super::*;

    #[test]
    fn sleep_spawn_blocking_abort_and_panic() {
        async_std::task::block_on(async {
            let rt = AsyncStd;
            let before = rt.now();
            rt.sleep(Duration::from_millis(1)).await;
            assert!(rt.now() > before);

            assert_eq!(rt.spawn(async { 1 }).await.unwrap(), 1);

            let (tx, rx) = mpsc::channel();
            let job = rt.spawn_blocking(move || rx.recv().unwrap());
            tx.send(7).unwrap();
            assert_eq!(job.await.unwrap(), 7);

            let stuck = rt.spawn(core::future::pending::<()>());
            stuck.abort();
            assert!(stuck.await.unwrap_err().is_cancelled());

            let bad = rt.spawn(async { panic!("async-std boom") });
            let err = bad.await.unwrap_err();
            assert!(err.is_panic());
            assert!(err.to_string().contains("async-std boom"));

            let bad = rt.spawn_blocking(|| panic!("blocking boom"));
            assert!(bad.await.unwrap_err().is_panic());

            let forever = rt.sleep(Duration::MAX);
            assert!(timeout(&rt, Duration::from_millis(1), forever)
                .await
                .is_err());
        });
    }
}

/// The README's examples, run as doctests so they stay true.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

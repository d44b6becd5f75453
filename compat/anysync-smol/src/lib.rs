//! [anysync] on [smol]: the [`Smol`] runtime type, and the whole of
//! `anysync` re-exported.
//!
//! `anysync`'s primitives need no executor. The parts that need time or
//! tasks (timeouts, spawning, blocking offload) are generic over
//! [`rt::Runtime`]; [`Smol`] is that runtime for smol. Everything in
//! `anysync` is re-exported here, so `anysync_smol::sync::Mutex` is the same
//! type as `anysync::sync::Mutex`.
//!
//! | `anysync::rt` trait | what smol supplies                                      |
//! |---------------------|---------------------------------------------------------|
//! | [`rt::Timer`]       | `smol::Timer` (async-io)                                |
//! | [`rt::Spawn`]       | `smol::spawn` on the global executor, detached          |
//! | [`rt::Blocking`]    | `smol::unblock` (the `blocking` thread pool), detached  |
//! | [`rt::Signals`]     | `SIGINT`/`SIGTERM` via the `async-signal` crate         |
//!
//! smol's own tasks are cancelled when their handle is dropped and do not
//! catch panics. Here, as on every anysync runtime, dropping a
//! [`TaskHandle`] detaches the task, a panic becomes
//! [`JoinError::is_panic`](rt::JoinError::is_panic) and
//! [`abort`](rt::JoinHandle::abort) cancels it: see [`rt::catch_task`].
//!
//! # Examples
//! ```
//! use std::time::Duration;
//! use anysync_smol::{sync::Mutex, time::timeout, Smol};
//!
//! smol::block_on(async {
//!     let rt = Smol;
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
//! [smol]: https://docs.rs/smol
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

/// smol, as an [`rt::Runtime`]: tasks on smol's global executor, sleeps on
/// async-io's timer, blocking closures on the `blocking` thread pool.
///
/// It works from any thread, inside or outside `smol::block_on`: the global
/// executor starts its own threads.
///
/// # Examples
/// ```
/// use anysync_smol::Smol;
///
/// smol::block_on(async {
///     let task = Smol.spawn(std::future::pending::<()>());
///     task.abort();
///     assert!(task.await.unwrap_err().is_cancelled());
///
///     let bad = Smol.spawn(async { panic!("boom") });
///     assert!(bad.await.unwrap_err().is_panic());
/// });
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Smol;

/// The [`rt`] trait methods, callable without importing the traits.
impl Smol {
    /// A future that completes after `duration`: [`Timer::sleep`].
    ///
    /// # Cancel safety
    /// This method is cancel safe: dropping the future before it completes has no effect.
    ///
    /// # Examples
    /// ```
    /// use std::time::Duration;
    ///
    /// smol::block_on(async {
    ///     anysync_smol::Smol.sleep(Duration::from_millis(1)).await;
    /// });
    /// ```
    pub fn sleep(&self, duration: Duration) -> SleepAdapter<smol::Timer> {
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
    /// smol::block_on(async {
    ///     assert_eq!(anysync_smol::Smol.spawn(async { 6 * 7 }).await.unwrap(), 42);
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
    /// smol::block_on(async {
    ///     let sum = anysync_smol::Smol.spawn_blocking(|| (1..=10).sum::<u32>());
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

impl Timer for Smol {
    type Sleep = SleepAdapter<smol::Timer>;

    /// `smol::Timer::after`. A duration too long to represent
    /// (`Duration::MAX`) gives a timer that never fires.
    ///
    /// # Cancel safety
    /// This method is cancel safe: dropping the future before it completes has no effect.
    fn sleep(&self, duration: Duration) -> SleepAdapter<smol::Timer> {
        SleepAdapter::new(smol::Timer::after(duration))
    }

    /// `std::time::Instant::now()` on the process-wide scale of
    /// [`Instant::from_std`].
    fn now(&self) -> Instant {
        Instant::from_std(std::time::Instant::now())
    }
}

impl Spawn for Smol {
    type JoinHandle<T: Send + 'static> = TaskHandle<T>;

    /// `smol::spawn`, detached, of the future wrapped by [`rt::catch_task`].
    fn spawn<F>(&self, future: F) -> TaskHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let (task, handle) = catch_task(future);
        smol::spawn(task).detach();
        handle
    }
}

impl Blocking for Smol {
    type BlockingHandle<T: Send + 'static> = TaskHandle<T>;

    /// `smol::unblock`, detached, of the closure wrapped by
    /// [`rt::catch_blocking`].
    fn spawn_blocking<F, T>(&self, f: F) -> TaskHandle<T>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        let (job, handle) = catch_blocking(f);
        smol::unblock(move || job.run()).detach();
        handle
    }
}

/// `SIGINT` and `SIGTERM` (Ctrl-C on Windows) through the `async-signal`
/// crate, which smol's `async-process` uses too.
impl rt::Signals for Smol {
    type Stream = SmolSignals;

    fn shutdown_signals(&self) -> std::io::Result<SmolSignals> {
        #[cfg(unix)]
        let kinds = [async_signal::Signal::Int, async_signal::Signal::Term];
        #[cfg(not(unix))]
        let kinds = [async_signal::Signal::Int];
        Ok(SmolSignals {
            inner: async_signal::Signals::new(kinds)?,
        })
    }
}

/// The stream of [`rt::Signal`]s from
/// [`Smol::shutdown_signals`](rt::Signals::shutdown_signals).
pub struct SmolSignals {
    inner: async_signal::Signals,
}

impl futures_core::Stream for SmolSignals {
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

impl core::fmt::Debug for SmolSignals {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("SmolSignals").finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::mpsc;

    use anysync::time::timeout;

    use super::*;

    #[test]
    fn sleep_spawn_blocking_abort_and_panic() {
        smol::block_on(async {
            let rt = Smol;
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

            let bad = rt.spawn(async { panic!("smol boom") });
            let err = bad.await.unwrap_err();
            assert!(err.is_panic());
            assert!(err.to_string().contains("smol boom"));

            let bad = rt.spawn_blocking(|| panic!("blocking boom"));
            assert!(bad.await.unwrap_err().is_panic());

            let forever = rt.sleep(Duration::MAX);
            assert!(timeout(&rt, Duration::from_millis(1), forever)
                .await
                .is_err());
        });
    }

    #[test]
    fn dropping_the_handle_detaches_the_task() {
        smol::block_on(async {
            let (tx, rx) = mpsc::channel();
            let (go_tx, go_rx) = mpsc::channel::<()>();
            let handle = Smol.spawn(async move {
                // Runs only after the handle is gone.
                Smol.spawn_blocking(move || go_rx.recv().unwrap())
                    .await
                    .unwrap();
                tx.send("ran").unwrap();
            });
            drop(handle);
            go_tx.send(()).unwrap();
            let got = Smol
                .spawn_blocking(move || rx.recv().unwrap())
                .await
                .unwrap();
            assert_eq!(got, "ran");
        });
    }
}

/// The README's examples, run as doctests so they stay true.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

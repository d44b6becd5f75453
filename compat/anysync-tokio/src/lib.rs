//! [anysync] on [tokio]: the [`Tokio`] runtime type, and the whole of
//! `anysync` re-exported.
//!
//! `anysync`'s primitives need no executor. The parts that need time or
//! tasks (timeouts, spawning, blocking offload) are generic over
//! [`rt::Runtime`]; [`Tokio`] is that runtime for tokio. Everything in
//! `anysync` is re-exported here, so `anysync_tokio::sync::Mutex` is the same
//! type as `anysync::sync::Mutex`.
//!
//! | `anysync::rt` trait | tokio feature it uses                                    |
//! |---------------------|----------------------------------------------------------|
//! | [`rt::Timer`]       | `tokio::time::sleep` (the runtime needs `enable_time`)    |
//! | [`rt::Spawn`]       | `Handle::spawn`; abort and panics via tokio's `JoinHandle` |
//! | [`rt::Blocking`]    | `Handle::spawn_blocking`                                  |
//! | [`rt::Signals`]     | `tokio::signal` (needs the I/O driver enabled)            |
//!
//! This crate turns on only tokio's `rt`, `time` and `signal` features; your
//! application picks the rest (`rt-multi-thread`, `macros`, ...).
//!
//! # Examples
//! ```
//! use std::time::Duration;
//! use anysync_tokio::{sync::Mutex, time::timeout, Tokio};
//!
//! #[tokio::main(flavor = "current_thread")]
//! async fn main() {
//!     let rt = Tokio::current();
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
//! }
//! ```
//!
//! [anysync]: https://docs.rs/anysync
//! [tokio]: https://docs.rs/tokio
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![doc(test(no_crate_inject, attr(deny(warnings))))]

use core::{
    fmt,
    future::Future,
    pin::Pin,
    task::{Context, Poll},
    time::Duration,
};

#[doc(no_inline)]
pub use anysync::*;
use anysync::{
    rt::{Blocking, JoinError, Spawn, Timer},
    time::Instant,
};
use futures_core::FusedFuture;
use tokio::runtime::Handle;

/// The tokio runtime, as an [`rt::Runtime`]: a `tokio::runtime::Handle`.
///
/// Tasks and blocking closures go to that runtime, whichever thread calls.
/// Sleeps use its timer, so it must have been built with `enable_time`
/// (`#[tokio::main]` and `#[tokio::test]` do that).
///
/// # Examples
/// ```
/// use anysync_tokio::Tokio;
///
/// let runtime = tokio::runtime::Builder::new_multi_thread().enable_time().build().unwrap();
/// let rt = Tokio::from(runtime.handle().clone());
/// let answer = runtime.block_on(rt.spawn(async { 42 })).unwrap();
/// assert_eq!(answer, 42);
/// ```
#[derive(Clone, Debug)]
pub struct Tokio {
    handle: Handle,
}

impl Tokio {
    /// The runtime the calling code is running in.
    ///
    /// # Panics
    /// When called outside a tokio runtime context; use
    /// [`Tokio::try_current`] or [`Tokio::from`] a `Handle` there.
    ///
    /// # Examples
    /// ```
    /// #[tokio::main(flavor = "current_thread")]
    /// async fn main() {
    ///     let rt = anysync_tokio::Tokio::current();
    ///     # drop(rt);
    /// }
    /// ```
    #[track_caller]
    pub fn current() -> Self {
        match Handle::try_current() {
            Ok(handle) => Self { handle },
            Err(_) => panic!(
                "anysync_tokio::Tokio::current() called outside a tokio runtime: \
                 call it from within a runtime (e.g. under #[tokio::main]), \
                 or build one from a Handle with Tokio::from(handle)"
            ),
        }
    }

    /// The runtime the calling code is running in, or `None` outside one.
    ///
    /// # Examples
    /// ```
    /// assert!(anysync_tokio::Tokio::try_current().is_none());
    /// ```
    pub fn try_current() -> Option<Self> {
        Handle::try_current().ok().map(Self::from)
    }

    /// The tokio handle this runtime wraps.
    ///
    /// # Examples
    /// ```
    /// #[tokio::main(flavor = "current_thread")]
    /// async fn main() {
    ///     let rt = anysync_tokio::Tokio::current();
    ///     let _metrics = rt.handle().metrics();
    /// }
    /// ```
    pub fn handle(&self) -> &Handle {
        &self.handle
    }
}

impl From<Handle> for Tokio {
    /// A runtime that sends tasks and sleeps to `handle`'s runtime.
    fn from(handle: Handle) -> Self {
        Self { handle }
    }
}

/// The [`rt`] trait methods, callable without importing the traits.
impl Tokio {
    /// A future that completes after `duration`: [`Timer::sleep`].
    ///
    /// # Cancel safety
    /// This method is cancel safe: dropping the future before it completes has no effect.
    ///
    /// # Panics
    /// If the runtime was built without `enable_time`.
    ///
    /// # Examples
    /// ```
    /// use std::time::Duration;
    ///
    /// #[tokio::main(flavor = "current_thread")]
    /// async fn main() {
    ///     let rt = anysync_tokio::Tokio::current();
    ///     rt.sleep(Duration::from_millis(1)).await;
    /// }
    /// ```
    pub fn sleep(&self, duration: Duration) -> tokio::time::Sleep {
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
    /// #[tokio::main(flavor = "current_thread")]
    /// async fn main() {
    ///     let rt = anysync_tokio::Tokio::current();
    ///     assert_eq!(rt.spawn(async { 6 * 7 }).await.unwrap(), 42);
    /// }
    /// ```
    pub fn spawn<F>(&self, future: F) -> TokioJoinHandle<F::Output>
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
    /// #[tokio::main(flavor = "current_thread")]
    /// async fn main() {
    ///     let rt = anysync_tokio::Tokio::current();
    ///     let sum = rt.spawn_blocking(|| (1..=10).sum::<u32>());
    ///     assert_eq!(sum.await.unwrap(), 55);
    /// }
    /// ```
    pub fn spawn_blocking<F, T>(&self, f: F) -> TokioJoinHandle<T>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        Blocking::spawn_blocking(self, f)
    }
}

impl Timer for Tokio {
    type Sleep = tokio::time::Sleep;

    /// `tokio::time::sleep` on this runtime's timer. Durations too long to
    /// represent (`Duration::MAX`) are clamped by tokio to "far future".
    ///
    /// # Cancel safety
    /// This method is cancel safe: dropping the future before it completes has no effect.
    ///
    /// # Panics
    /// If the runtime was built without `enable_time`.
    fn sleep(&self, duration: Duration) -> tokio::time::Sleep {
        let _context = self.handle.enter();
        tokio::time::sleep(duration)
    }

    /// tokio's clock (which honours `tokio::time::pause`) on the
    /// process-wide scale of [`Instant::from_std`]: inside a tokio task,
    /// the clock of the task's runtime (normally this one); anywhere else,
    /// that of this handle's runtime.
    fn now(&self) -> Instant {
        // Inside a task, tokio already reads its runtime's clock; entering
        // the handle (a reference count and two thread-local swaps) is
        // needed only outside one.
        let now = if tokio::task::try_id().is_some() {
            tokio::time::Instant::now()
        } else {
            let _context = self.handle.enter();
            tokio::time::Instant::now()
        };
        Instant::from_std(now.into_std())
    }
}

impl Spawn for Tokio {
    type JoinHandle<T: Send + 'static> = TokioJoinHandle<T>;

    /// `Handle::spawn`. tokio catches the task's panics and aborts it.
    fn spawn<F>(&self, future: F) -> TokioJoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        TokioJoinHandle::new(self.handle.spawn(future))
    }
}

impl Blocking for Tokio {
    type BlockingHandle<T: Send + 'static> = TokioJoinHandle<T>;

    /// `Handle::spawn_blocking`: `f` runs on tokio's blocking thread pool.
    /// Aborting the handle stops `f` only if it has not started.
    fn spawn_blocking<F, T>(&self, f: F) -> TokioJoinHandle<T>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        TokioJoinHandle::new(self.handle.spawn_blocking(f))
    }
}

/// A tokio `JoinHandle` whose output uses anysync's [`JoinError`]: the
/// [`rt::Spawn::JoinHandle`] and [`rt::Blocking::BlockingHandle`] of [`Tokio`].
///
/// Dropping it detaches the task. It is a [`FusedFuture`]: once it has
/// given the task's result, `is_terminated` says so.
///
/// # Cancel safety
/// This method is cancel safe: dropping the future before it completes has no effect.
/// (Awaiting the handle can be given up at any time; the task runs on, detached.)
///
/// # Examples
/// ```
/// use anysync_tokio::Tokio;
///
/// #[tokio::main(flavor = "current_thread")]
/// async fn main() {
///     let task = Tokio::current().spawn(std::future::pending::<()>());
///     task.abort();
///     assert!(task.await.unwrap_err().is_cancelled());
/// }
/// ```
#[must_use = "dropping the handle detaches the task; await it to get its output"]
pub struct TokioJoinHandle<T> {
    inner: tokio::task::JoinHandle<T>,
    /// Set once `poll` has returned the result.
    done: bool,
}

impl<T> TokioJoinHandle<T> {
    fn new(inner: tokio::task::JoinHandle<T>) -> Self {
        Self { inner, done: false }
    }

    /// Asks the task to stop: [`rt::JoinHandle::abort`], callable without
    /// importing the trait.
    ///
    /// # Examples
    /// ```
    /// #[tokio::main(flavor = "current_thread")]
    /// async fn main() {
    ///     let task = anysync_tokio::Tokio::current().spawn(std::future::pending::<()>());
    ///     task.abort();
    ///     assert!(task.await.unwrap_err().is_cancelled());
    /// }
    /// ```
    pub fn abort(&self) {
        self.inner.abort();
    }

    /// The tokio `JoinHandle` inside, for tokio-only features.
    ///
    /// # Examples
    /// ```
    /// #[tokio::main(flavor = "current_thread")]
    /// async fn main() {
    ///     let task = anysync_tokio::Tokio::current().spawn(async { 1 });
    ///     assert_eq!(task.into_inner().await.unwrap(), 1);
    /// }
    /// ```
    pub fn into_inner(self) -> tokio::task::JoinHandle<T> {
        self.inner
    }
}

impl<T> Future for TokioJoinHandle<T> {
    type Output = Result<T, JoinError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let result = core::task::ready!(Pin::new(&mut self.inner).poll(cx));
        self.done = true;
        Poll::Ready(result.map_err(|err| match err.try_into_panic() {
            Ok(payload) => JoinError::panic(payload),
            Err(_cancelled) => JoinError::cancelled(),
        }))
    }
}

impl<T> FusedFuture for TokioJoinHandle<T> {
    fn is_terminated(&self) -> bool {
        self.done
    }
}

impl<T: Send + 'static> rt::JoinHandle<T> for TokioJoinHandle<T> {
    fn abort(&self) {
        self.inner.abort();
    }
}

impl<T> fmt::Debug for TokioJoinHandle<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokioJoinHandle")
            .field("finished", &self.inner.is_finished())
            .finish()
    }
}

/// `SIGINT` and `SIGTERM` (Ctrl-C on Windows) through tokio's signal
/// module. The runtime must have its I/O driver enabled
/// (`Builder::enable_io` or `enable_all`; `#[tokio::main]` does).
impl rt::Signals for Tokio {
    type Stream = TokioSignals;

    fn shutdown_signals(&self) -> std::io::Result<TokioSignals> {
        let _context = self.handle.enter();
        #[cfg(unix)]
        {
            use tokio::signal::unix::{signal, SignalKind};
            Ok(TokioSignals {
                interrupt: signal(SignalKind::interrupt())?,
                terminate: signal(SignalKind::terminate())?,
                terminate_first: false,
            })
        }
        #[cfg(windows)]
        {
            Ok(TokioSignals {
                ctrl_c: tokio::signal::windows::ctrl_c()?,
            })
        }
    }
}

/// The stream of [`rt::Signal`]s from
/// [`Tokio::shutdown_signals`](rt::Signals::shutdown_signals).
pub struct TokioSignals {
    #[cfg(unix)]
    interrupt: tokio::signal::unix::Signal,
    #[cfg(unix)]
    terminate: tokio::signal::unix::Signal,
    /// Alternates which kind is looked at first, so neither starves.
    #[cfg(unix)]
    terminate_first: bool,
    #[cfg(windows)]
    ctrl_c: tokio::signal::windows::CtrlC,
}

impl futures_core::Stream for TokioSignals {
    type Item = rt::Signal;

    #[cfg(unix)]
    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<rt::Signal>> {
        let this = &mut *self;
        this.terminate_first = !this.terminate_first;
        let order = if this.terminate_first {
            [rt::Signal::Terminate, rt::Signal::Interrupt]
        } else {
            [rt::Signal::Interrupt, rt::Signal::Terminate]
        };
        let mut ended = 0;
        for kind in order {
            let source = match kind {
                rt::Signal::Terminate => &mut this.terminate,
                _ => &mut this.interrupt,
            };
            match source.poll_recv(cx) {
                Poll::Ready(Some(())) => return Poll::Ready(Some(kind)),
                Poll::Ready(None) => ended += 1,
                Poll::Pending => {}
            }
        }
        if ended == 2 {
            Poll::Ready(None)
        } else {
            Poll::Pending
        }
    }

    #[cfg(windows)]
    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<rt::Signal>> {
        self.ctrl_c
            .poll_recv(cx)
            .map(|got| got.map(|()| rt::Signal::Interrupt))
    }
}

impl fmt::Debug for TokioSignals {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokioSignals").finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::mpsc;

    use anysync::time::timeout;

    use super::*;

    #[test]
    #[should_panic(expected = "called outside a tokio runtime")]
    fn current_outside_a_runtime_panics_clearly() {
        let _ = Tokio::current();
    }

    #[tokio::test]
    async fn sleep_spawn_blocking_abort_and_panic() {
        let rt = Tokio::current();
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

        let bad = rt.spawn(async { panic!("tokio boom") });
        let err = bad.await.unwrap_err();
        assert!(err.is_panic());
        assert!(err.to_string().contains("tokio boom"));

        let bad = rt.spawn_blocking(|| panic!("blocking boom"));
        assert!(bad.await.unwrap_err().is_panic());
    }

    #[tokio::test]
    async fn sleep_for_duration_max_does_not_panic() {
        let rt = Tokio::current();
        let forever = rt.sleep(Duration::MAX);
        assert!(timeout(&rt, Duration::from_millis(1), forever)
            .await
            .is_err());
    }

    #[test]
    fn handle_from_outside_the_runtime() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap();
        let rt = Tokio::from(runtime.handle().clone());
        let sleep = rt.sleep(Duration::from_millis(1)); // made outside the runtime
        runtime.block_on(sleep);
        let task = rt.spawn(async { 3 });
        assert_eq!(runtime.block_on(task).unwrap(), 3);
    }

    /// `now` follows the runtime's paused clock exactly, whether it is
    /// read from a task, from `block_on`'s future (not a task) or from
    /// outside the runtime.
    #[test]
    fn now_follows_a_paused_clock_inside_and_outside_tasks() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .start_paused(true)
            .build()
            .unwrap();
        let rt = Tokio::from(runtime.handle().clone());
        let start = rt.now();
        let in_task = runtime
            .block_on(rt.spawn({
                let rt = rt.clone();
                async move {
                    tokio::time::advance(Duration::from_secs(5)).await;
                    rt.now()
                }
            }))
            .unwrap();
        assert_eq!(in_task - start, Duration::from_secs(5));
        let in_block_on = runtime.block_on(async {
            tokio::time::advance(Duration::from_secs(2)).await;
            rt.now()
        });
        assert_eq!(in_block_on - start, Duration::from_secs(7));
        // Outside the runtime: still its paused clock, not the real one.
        assert_eq!(rt.now(), in_block_on);
    }
}

/// The README's examples, run as doctests so they stay true.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

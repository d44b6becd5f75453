//! `Shutdown`: stop on a signal, drain in-flight work within a deadline,
//! abort the rest.

use alloc::sync::Arc;
use core::{
    fmt,
    future::Future,
    pin::Pin,
    task::{Context, Poll},
    time::Duration,
};

use futures_core::{FusedFuture, Stream};
use pin_project_lite::pin_project;

use super::{
    futures::{Cancelled, RunUntilCancelledOwned, Tracked, TrackerWait},
    CancelReason, CancelToken, SpawnError, TaskTracker,
};
use crate::{
    loom::sync::atomic::{AtomicUsize, Ordering},
    rt::{Signal, Spawn, Timer},
};

/// Graceful shutdown: on the first signal, stop taking work and let the
/// work in flight finish within a deadline; on a second signal or at the
/// deadline, abort what is left; then report.
///
/// * Work is started through [`spawn`](Self::spawn) or
///   [`track`](Self::track): it is counted by a [`TaskTracker`] and can be
///   aborted. Long-running loops watch [`token`](Self::token) (the root
///   [`CancelToken`]; make children of it for parts of the program) and
///   stop taking new work when it is cancelled.
/// * [`run`](Self::run) waits for the first signal (or for
///   [`trigger`](Self::trigger), or for the token to be cancelled), then
///   cancels the token with [`CancelReason::Shutdown`], refuses new work
///   (`spawn` returns [`SpawnError::Cancelled`]), and waits until every
///   tracked task has ended. If the drain deadline passes, or a second
///   signal arrives, the remaining tasks are aborted (each is dropped at
///   its next poll, without allocating a handle for it). It returns a
///   [`ShutdownReport`]: what stopped the program, how many tasks finished
///   during the drain and how many were aborted.
///
/// The signals come as any stream of [`Signal`]s, usually
/// [`Signals::shutdown_signals`](crate::rt::Signals::shutdown_signals) from a
/// compat crate's runtime, so tests can feed their own.
///
/// # Examples
/// ```
/// use std::time::Duration;
/// use anysync::{rt::{virtual_time::VirtualTime, Signal}, task::Shutdown};
/// use futures_util::stream;
///
/// VirtualTime::new().block_on(|rt| async move {
///     let shutdown = Shutdown::new(rt.clone(), Duration::from_secs(5));
///     let t = rt.clone();
///     // In-flight work that needs 2 s to finish.
///     let task = shutdown.spawn(&rt, async move { t.sleep(Duration::from_secs(2)).await }).unwrap();
///     // A SIGTERM arrives at once.
///     let report = shutdown.run(stream::iter([Signal::Terminate])).await;
///     assert_eq!(report.signal, Some(Signal::Terminate));
///     assert_eq!((report.finished, report.aborted), (1, 0));
///     assert!(report.is_clean());
///     assert_eq!(task.await.unwrap(), Some(()));
/// });
/// ```
pub struct Shutdown<T: Timer> {
    inner: Arc<Inner>,
    timer: T,
    drain: Duration,
}

struct Inner {
    /// The soft signal: stop taking work.
    token: CancelToken,
    /// The hard one: drop what is still running.
    abort: CancelToken,
    tracker: TaskTracker,
    finished: AtomicUsize,
    aborted: AtomicUsize,
}

impl<T: Timer> Shutdown<T> {
    /// A shutdown coordinator that gives in-flight work `drain` to finish
    /// after the first signal. `Duration::MAX` waits for ever (only a
    /// second signal aborts) and does not panic.
    pub fn new(timer: T, drain: Duration) -> Self {
        Shutdown {
            inner: Arc::new(Inner {
                token: CancelToken::new(),
                abort: CancelToken::new(),
                tracker: TaskTracker::new(),
                finished: AtomicUsize::new(0),
                aborted: AtomicUsize::new(0),
            }),
            timer,
            drain,
        }
    }

    /// The root token, cancelled (with [`CancelReason::Shutdown`]) when the
    /// shutdown begins.
    pub fn token(&self) -> &CancelToken {
        &self.inner.token
    }

    /// The tracker counting the work started through this shutdown.
    pub fn tracker(&self) -> &TaskTracker {
        &self.inner.tracker
    }

    /// Begins the shutdown without a signal, as if one had arrived.
    pub fn trigger(&self) {
        self.inner.token.cancel_with(CancelReason::Shutdown);
    }

    /// `true` once the shutdown has begun.
    pub fn is_shutting_down(&self) -> bool {
        self.inner.token.is_cancelled()
    }

    /// Wraps `future` so that it is tracked and can be aborted: its output
    /// is `Some(output)`, or `None` if it was aborted.
    ///
    /// # Cancel safety
    /// This method is cancel safe if `future` is: dropping the wrapper drops
    /// `future` and stops counting it.
    ///
    /// # Errors
    /// [`SpawnError::Cancelled`] once the shutdown has begun.
    pub fn track<F: Future>(&self, future: F) -> Result<ShutdownTask<F>, SpawnError> {
        if self.is_shutting_down() {
            return Err(SpawnError::Cancelled);
        }
        Ok(ShutdownTask {
            future: self
                .inner
                .tracker
                .track(self.inner.abort.clone().run_until_cancelled_owned(future)),
            inner: Arc::clone(&self.inner),
        })
    }

    /// Spawns `future` on `spawner`, tracked and abortable (see
    /// [`track`](Self::track)).
    ///
    /// # Errors
    /// [`SpawnError::Cancelled`] once the shutdown has begun.
    pub fn spawn<S, F>(
        &self,
        spawner: &S,
        future: F,
    ) -> Result<S::JoinHandle<Option<F::Output>>, SpawnError>
    where
        S: Spawn,
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        Ok(spawner.spawn(self.track(future)?))
    }

    /// Waits for a signal from `signals` (or [`trigger`](Self::trigger)),
    /// then drains and, if need be, aborts, as the type's docs say.
    ///
    /// # Cancel safety
    /// This method is **not** cancel safe: dropped after the shutdown began, it leaves
    /// the drain unwatched (nothing is aborted). Use [`trigger`](Self::trigger) and keep awaiting it in `select!`.
    pub fn run<St>(&self, signals: St) -> RunShutdown<'_, T, St>
    where
        St: Stream<Item = Signal> + Unpin,
    {
        RunShutdown {
            shutdown: self,
            signals: Some(signals),
            cancelled: self.inner.token.cancelled(),
            drained: self.inner.tracker.wait(),
            deadline: None,
            phase: Phase::Waiting,
            report: ShutdownReport {
                signal: None,
                second_signal: false,
                timed_out: false,
                finished: 0,
                aborted: 0,
            },
        }
    }
}

impl<T: Timer> fmt::Debug for Shutdown<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Shutdown")
            .field("shutting_down", &self.is_shutting_down())
            .field("tasks", &self.inner.tracker.len())
            .field("drain", &self.drain)
            .finish()
    }
}

/// What a [`Shutdown`] did, from [`Shutdown::run`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ShutdownReport {
    /// The signal that began the shutdown; `None` if it was
    /// [`trigger`](Shutdown::trigger)ed or the token was cancelled.
    pub signal: Option<Signal>,
    /// A second signal cut the drain short.
    pub second_signal: bool,
    /// The drain deadline passed.
    pub timed_out: bool,
    /// Tracked tasks that finished after the shutdown began.
    pub finished: usize,
    /// Tracked tasks that were aborted.
    pub aborted: usize,
}

impl ShutdownReport {
    /// `true` if every task finished on its own (nothing was aborted).
    pub fn is_clean(&self) -> bool {
        self.aborted == 0
    }
}

impl fmt::Display for ShutdownReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.signal {
            Some(signal) => write!(f, "shutdown on {signal}")?,
            None => f.write_str("shutdown requested")?,
        }
        write!(f, ": {} finished, {} aborted", self.finished, self.aborted)?;
        if self.second_signal {
            f.write_str(" (second signal)")?;
        } else if self.timed_out {
            f.write_str(" (drain deadline passed)")?;
        }
        Ok(())
    }
}

pin_project!(
    /// A future tracked by a [`Shutdown`], from [`Shutdown::track`]:
    /// `Some(output)`, or `None` if it was aborted.
    #[must_use = "futures do nothing unless you `.await` or poll them"]
    pub struct ShutdownTask<F> {
        #[pin]
        future: Tracked<RunUntilCancelledOwned<F>>,
        inner: Arc<Inner>,
    }
);

impl<F: Future> Future for ShutdownTask<F> {
    type Output = Option<F::Output>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let out = core::task::ready!(this.future.poll(cx));
        match out {
            Some(_) if this.inner.token.is_cancelled() => {
                this.inner.finished.fetch_add(1, Ordering::Relaxed);
            }
            Some(_) => {}
            None => {
                this.inner.aborted.fetch_add(1, Ordering::Relaxed);
            }
        }
        Poll::Ready(out)
    }
}

impl<F> fmt::Debug for ShutdownTask<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ShutdownTask").finish_non_exhaustive()
    }
}

/// The next signal, if one is waiting. A finished stream is dropped: no
/// more signals will come.
fn next_signal<St: Stream<Item = Signal> + Unpin>(
    signals: &mut Option<St>,
    cx: &mut Context<'_>,
) -> Option<Signal> {
    let stream = signals.as_mut()?;
    match Pin::new(stream).poll_next(cx) {
        Poll::Ready(Some(signal)) => Some(signal),
        Poll::Ready(None) => {
            *signals = None;
            None
        }
        Poll::Pending => None,
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    Waiting,
    Draining,
    Aborting,
    Done,
}

pin_project!(
    /// Future returned by [`Shutdown::run`].
    #[must_use = "futures do nothing unless you `.await` or poll them"]
    pub struct RunShutdown<'a, T: Timer, St> {
        shutdown: &'a Shutdown<T>,
        signals: Option<St>,
        #[pin]
        cancelled: Cancelled<'a>,
        #[pin]
        drained: TrackerWait<'a>,
        #[pin]
        deadline: Option<T::Sleep>,
        phase: Phase,
        report: ShutdownReport,
    }
);

impl<T: Timer, St: Stream<Item = Signal> + Unpin> Future for RunShutdown<'_, T, St> {
    type Output = ShutdownReport;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<ShutdownReport> {
        let mut this = self.project();
        let shutdown = *this.shutdown;
        loop {
            match *this.phase {
                Phase::Waiting => {
                    if let Some(signal) = next_signal(this.signals, cx) {
                        this.report.signal = Some(signal);
                        // The tracker is closed even if a token waiter's
                        // wake panics in the cancel: the token refuses new
                        // work from then on, and a tracker left open
                        // would keep every `tracker().wait()` waiting.
                        crate::util::finally::both(
                            || shutdown.trigger(),
                            || {
                                shutdown.inner.tracker.close();
                            },
                        );
                        // That cancel woke `cancelled` if it was queued;
                        // with the flag set, a poll is ready at once and
                        // consumes the wake-up lock-free.
                        let _ = this.cancelled.as_mut().poll(cx);
                    } else if this.cancelled.as_mut().poll(cx).is_pending() {
                        return Poll::Pending;
                    }
                    shutdown.inner.tracker.close();
                    if shutdown.drain != Duration::MAX {
                        this.deadline
                            .set(Some(shutdown.timer.sleep(shutdown.drain)));
                    }
                    *this.phase = Phase::Draining;
                }
                Phase::Draining => {
                    if this.drained.as_mut().poll(cx).is_ready() {
                        *this.phase = Phase::Done;
                        continue;
                    }
                    if next_signal(this.signals, cx).is_some() {
                        this.report.second_signal = true;
                    } else if let Some(sleep) = this.deadline.as_mut().as_pin_mut() {
                        if sleep.poll(cx).is_ready() {
                            this.report.timed_out = true;
                        }
                    }
                    if !(this.report.second_signal || this.report.timed_out) {
                        return Poll::Pending;
                    }
                    this.deadline.set(None);
                    shutdown.inner.abort.cancel_with(CancelReason::Shutdown);
                    *this.phase = Phase::Aborting;
                }
                Phase::Aborting => {
                    core::task::ready!(this.drained.as_mut().poll(cx));
                    *this.phase = Phase::Done;
                }
                Phase::Done => {
                    this.report.finished = shutdown.inner.finished.load(Ordering::Relaxed);
                    this.report.aborted = shutdown.inner.aborted.load(Ordering::Relaxed);
                    return Poll::Ready(*this.report);
                }
            }
        }
    }
}

impl<T: Timer, St: Stream<Item = Signal> + Unpin> FusedFuture for RunShutdown<'_, T, St> {
    fn is_terminated(&self) -> bool {
        false
    }
}

impl<T: Timer, St> fmt::Debug for RunShutdown<'_, T, St> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RunShutdown")
            .field("phase", &self.phase)
            .field("report", &self.report)
            .finish_non_exhaustive()
    }
}

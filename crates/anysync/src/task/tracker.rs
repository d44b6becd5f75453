//! `TaskTracker`: count tasks spawned anywhere and wait for them to end.

use core::{
    fmt,
    future::Future,
    pin::Pin,
    task::{Context, Poll},
};

use futures_core::FusedFuture;
use pin_project_lite::pin_project;

use crate::util::finally::both;
use crate::{
    loom::sync::{
        atomic::{AtomicUsize, Ordering},
        Arc,
    },
    rt::Spawn,
    sync::{futures::EventWait, Event},
};

/// The closed bit of `Inner::state`; the task count is above it.
const CLOSED: usize = 1;
const ONE_TASK: usize = 2;

/// Tracks a set of tasks, wherever they were spawned, so that shutdown can
/// wait for them (a set of tasks with a done callback, in asyncio terms).
///
/// * [`track`](Self::track) wraps a future so it counts while it is alive;
///   [`spawn`](Self::spawn) spawns the wrapped future on any [`Spawn`].
/// * [`close`](Self::close) says no more are expected;
///   [`wait`](Self::wait) completes once the tracker is closed **and**
///   empty. Closing does not stop tracking: late tasks still count.
/// * Tracking costs one atomic increment and no allocation per task beyond
///   the spawn itself; tasks are not kept in a list, so nothing grows.
///
/// Unlike a [`TaskGroup`](super::TaskGroup), a tracker neither collects
/// outputs nor cancels anything: pair it with a
/// [`CancelToken`](super::CancelToken) for that.
///
/// # Examples
/// ```
/// use anysync::{rt::virtual_time::VirtualTime, task::TaskTracker};
///
/// VirtualTime::new().block_on(|rt| async move {
///     let tracker = TaskTracker::new();
///     for i in 0..3 {
///         drop(tracker.spawn(&rt, async move { i * 2 }));
///     }
///     tracker.close();
///     tracker.wait().await;
///     assert!(tracker.is_empty());
/// });
/// ```
#[derive(Clone)]
pub struct TaskTracker {
    inner: Arc<Inner>,
}

struct Inner {
    /// `tasks * ONE_TASK | CLOSED`.
    state: AtomicUsize,
    /// Pulsed (set, then cleared) each time the tracker becomes closed and
    /// empty: a pulse releases every wait created before it.
    done: Event,
}

impl Inner {
    fn pulse(&self) {
        // Cleared even if a waiter's wake panics in `set`: a flag left
        // raised would make every later wait complete at once.
        both(|| self.done.set(), || self.done.clear());
    }
}

impl TaskTracker {
    /// A new, open, empty tracker.
    pub fn new() -> Self {
        TaskTracker {
            inner: Arc::new(Inner {
                state: AtomicUsize::new(0),
                done: Event::new(),
            }),
        }
    }

    /// Wraps `future` so that it counts as a tracked task until it is
    /// dropped (completed or not).
    ///
    /// # Cancel safety
    /// This method is cancel safe if `future` is: dropping the wrapper drops
    /// `future` and stops counting it.
    pub fn track<F: Future>(&self, future: F) -> Tracked<F> {
        Tracked {
            future,
            _token: self.token(),
        }
    }

    /// Spawns `future`, tracked, on `spawner`, returning its join handle.
    pub fn spawn<S, F>(&self, spawner: &S, future: F) -> S::JoinHandle<F::Output>
    where
        S: Spawn,
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        spawner.spawn(self.track(future))
    }

    /// A token that counts as one tracked task until it is dropped, for
    /// work that is not a future (a thread, a callback).
    pub fn token(&self) -> TrackerToken {
        self.inner.state.fetch_add(ONE_TASK, Ordering::Relaxed);
        TrackerToken {
            inner: Arc::clone(&self.inner),
        }
    }

    /// The number of tracked tasks alive.
    pub fn len(&self) -> usize {
        self.inner.state.load(Ordering::Acquire) / ONE_TASK
    }

    /// `true` if no tracked task is alive.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Closes the tracker: [`wait`](Self::wait) can complete once it is
    /// empty. Returns `true` if this call closed it.
    pub fn close(&self) -> bool {
        let prev = self.inner.state.fetch_or(CLOSED, Ordering::AcqRel);
        if prev == 0 {
            self.inner.pulse();
        }
        prev & CLOSED == 0
    }

    /// Opens the tracker again. Returns `true` if it was closed.
    pub fn reopen(&self) -> bool {
        self.inner.state.fetch_and(!CLOSED, Ordering::AcqRel) & CLOSED != 0
    }

    /// `true` if the tracker is closed.
    pub fn is_closed(&self) -> bool {
        self.inner.state.load(Ordering::Acquire) & CLOSED != 0
    }

    /// Waits until the tracker is closed and empty. Completes at once if it
    /// already is.
    ///
    /// # Cancel safety
    /// This method is cancel safe: dropping the future before it completes has no effect.
    pub fn wait(&self) -> TrackerWait<'_> {
        TrackerWait {
            tracker: self,
            wait: None,
            done: false,
        }
    }
}

impl Default for TaskTracker {
    fn default() -> Self {
        TaskTracker::new()
    }
}

impl fmt::Debug for TaskTracker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TaskTracker")
            .field("len", &self.len())
            .field("closed", &self.is_closed())
            .finish()
    }
}

/// Counts as one tracked task of a [`TaskTracker`] while alive, from
/// [`TaskTracker::token`].
pub struct TrackerToken {
    inner: Arc<Inner>,
}

impl TrackerToken {
    /// A tracker handle for the tracker this token counts in.
    pub fn tracker(&self) -> TaskTracker {
        TaskTracker {
            inner: Arc::clone(&self.inner),
        }
    }
}

impl Drop for TrackerToken {
    fn drop(&mut self) {
        let prev = self.inner.state.fetch_sub(ONE_TASK, Ordering::AcqRel);
        if prev == ONE_TASK | CLOSED {
            self.inner.pulse();
        }
    }
}

impl fmt::Debug for TrackerToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TrackerToken").finish_non_exhaustive()
    }
}

pin_project!(
    /// A future counted by a [`TaskTracker`], from [`TaskTracker::track`].
    #[must_use = "futures do nothing unless you `.await` or poll them"]
    pub struct Tracked<F> {
        #[pin]
        future: F,
        _token: TrackerToken,
    }
);

impl<F: Future> Future for Tracked<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        self.project().future.poll(cx)
    }
}

impl<F: FusedFuture> FusedFuture for Tracked<F> {
    fn is_terminated(&self) -> bool {
        self.future.is_terminated()
    }
}

impl<F> fmt::Debug for Tracked<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tracked").finish_non_exhaustive()
    }
}

pin_project!(
    /// Future returned by [`TaskTracker::wait`].
    #[must_use = "futures do nothing unless you `.await` or poll them"]
    pub struct TrackerWait<'a> {
        tracker: &'a TaskTracker,
        #[pin]
        wait: Option<EventWait<'a>>,
        done: bool,
    }
);

impl Future for TrackerWait<'_> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let mut this = self.project();
        if *this.done {
            return Poll::Ready(());
        }
        let inner = &this.tracker.inner;
        loop {
            if this.wait.is_none() {
                // Made before the check, so a pulse after the check
                // releases it.
                this.wait.set(Some(inner.done.wait()));
            }
            if inner.state.load(Ordering::Acquire) == CLOSED {
                *this.done = true;
                // A pulse already delivered is consumed lock-free, so the
                // drop has nothing to unlink.
                if let Some(wait) = this.wait.as_mut().as_pin_mut() {
                    wait.finish_if_woken();
                }
                this.wait.set(None);
                return Poll::Ready(());
            }
            let wait = this.wait.as_mut().as_pin_mut().expect("set above");
            core::task::ready!(wait.poll(cx));
            this.wait.set(None);
        }
    }
}

impl FusedFuture for TrackerWait<'_> {
    fn is_terminated(&self) -> bool {
        self.done
    }
}

impl fmt::Debug for TrackerWait<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TrackerWait")
            .field("tracker", self.tracker)
            .field("done", &self.done)
            .finish()
    }
}

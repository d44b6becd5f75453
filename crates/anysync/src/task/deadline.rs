//! Deadline scopes: run a future under a child token that is cancelled at
//! a deadline on any [`Timer`].

use core::{
    fmt,
    future::Future,
    pin::Pin,
    task::{Context, Poll},
    time::Duration,
};

use futures_core::FusedFuture;
use pin_project_lite::pin_project;

use super::{CancelReason, CancelToken};
use crate::{
    rt::Timer,
    time::{Elapsed, Instant},
};

/// Runs the future that `f` builds from a child of `parent`, until it
/// completes (`Some(output)`) or `deadline` passes on `timer`'s clock
/// (`None`). Like AnyIO's `move_on_after`, with a deadline.
///
/// At the deadline the scope's token is cancelled with
/// [`CancelReason::Deadline`] (so everything tied to it, such as the tasks
/// of a [`TaskGroup`](super::TaskGroup) made from it, is told to stop) and
/// the future is dropped. Cancelling `parent` cancels the scope's token
/// too, but leaves the future running so it can finish cooperatively.
/// The future is polled before the timer, so one that is ready at once
/// wins even at a passed deadline. [`fail_at`] / [`fail_after`] give
/// `Err(Elapsed)` instead of `None` (AnyIO's `fail_after`).
///
/// # Cancel safety
/// This method is cancel safe if `future` is: dropping the scope drops the
/// future and the sleep, and leaves the scope's token uncancelled.
///
/// # Examples
/// ```
/// use std::time::Duration;
/// use anysync::{rt::virtual_time::VirtualTime, task::{move_on_after, CancelToken}};
///
/// VirtualTime::new().block_on(|rt| async move {
///     let root = CancelToken::new();
///     let t = rt.clone();
///     let out = move_on_after(&rt, &root, Duration::from_secs(1), |token| async move {
///         t.sleep(Duration::from_secs(5)).await;
///         drop(token);
///     })
///     .await;
///     assert_eq!(out, None);
///     assert_eq!(rt.now().since_origin(), Duration::from_secs(1));
///     assert!(!root.is_cancelled()); // the scope's own token only
/// });
/// ```
pub fn move_on_at<T, F, Fut>(
    timer: &T,
    parent: &CancelToken,
    deadline: Instant,
    f: F,
) -> MoveOnAt<T::Sleep, Fut>
where
    T: Timer,
    F: FnOnce(CancelToken) -> Fut,
    Fut: Future,
{
    let token = parent.child();
    MoveOnAt {
        future: Some(f(token.clone())),
        sleep: timer.sleep_until(deadline),
        token,
        done: false,
    }
}

/// [`move_on_at`] with a deadline `duration` from now; `Duration::MAX`
/// means no deadline in practice and never panics.
///
/// # Cancel safety
/// This method is cancel safe if `future` is: dropping the scope drops the
/// future and the sleep, and leaves the scope's token uncancelled.
pub fn move_on_after<T, F, Fut>(
    timer: &T,
    parent: &CancelToken,
    duration: Duration,
    f: F,
) -> MoveOnAt<T::Sleep, Fut>
where
    T: Timer,
    F: FnOnce(CancelToken) -> Fut,
    Fut: Future,
{
    let token = parent.child();
    MoveOnAt {
        future: Some(f(token.clone())),
        sleep: timer.sleep(duration),
        token,
        done: false,
    }
}

pin_project!(
    /// Future returned by [`move_on_at`] and [`move_on_after`].
    #[must_use = "futures do nothing unless you `.await` or poll them"]
    pub struct MoveOnAt<S, F> {
        #[pin]
        future: Option<F>,
        #[pin]
        sleep: S,
        token: CancelToken,
        done: bool,
    }
);

impl<S, F> MoveOnAt<S, F> {
    /// The scope's token (a child of the parent given to [`move_on_at`]).
    pub fn token(&self) -> &CancelToken {
        &self.token
    }
}

impl<S: Future<Output = ()>, F: Future> Future for MoveOnAt<S, F> {
    type Output = Option<F::Output>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        assert!(!*this.done, "`MoveOnAt` polled after completion");
        if let Some(future) = this.future.as_mut().as_pin_mut() {
            if let Poll::Ready(out) = future.poll(cx) {
                *this.done = true;
                this.future.set(None);
                return Poll::Ready(Some(out));
            }
        }
        if this.sleep.poll(cx).is_ready() {
            *this.done = true;
            // Cancel first, so whatever the future's destructors do already
            // sees the scope cancelled.
            this.token.cancel_with(CancelReason::Deadline);
            this.future.set(None);
            return Poll::Ready(None);
        }
        Poll::Pending
    }
}

impl<S: Future<Output = ()>, F: Future> FusedFuture for MoveOnAt<S, F> {
    fn is_terminated(&self) -> bool {
        self.done
    }
}

impl<S, F> fmt::Debug for MoveOnAt<S, F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MoveOnAt")
            .field("token", &self.token)
            .field("done", &self.done)
            .finish_non_exhaustive()
    }
}

/// Like [`move_on_at`], but a passed deadline is an error (AnyIO's
/// `fail_after`, with a deadline).
///
/// # Cancel safety
/// This method is cancel safe if `future` is: dropping the scope drops the
/// future and the sleep, and leaves the scope's token uncancelled.
///
/// # Errors
/// [`Elapsed`] if `deadline` passes first.
pub fn fail_at<T, F, Fut>(
    timer: &T,
    parent: &CancelToken,
    deadline: Instant,
    f: F,
) -> FailAt<T::Sleep, Fut>
where
    T: Timer,
    F: FnOnce(CancelToken) -> Fut,
    Fut: Future,
{
    FailAt {
        inner: move_on_at(timer, parent, deadline, f),
    }
}

/// Like [`move_on_after`], but a passed deadline is an error (AnyIO's
/// `fail_after`).
///
/// # Cancel safety
/// This method is cancel safe if `future` is: dropping the scope drops the
/// future and the sleep, and leaves the scope's token uncancelled.
///
/// # Errors
/// [`Elapsed`] if `duration` passes first.
///
/// # Examples
/// ```
/// use std::time::Duration;
/// use anysync::{rt::virtual_time::VirtualTime, task::{fail_after, CancelToken}, time::Elapsed};
///
/// VirtualTime::new().block_on(|rt| async move {
///     let t = rt.clone();
///     let slow = fail_after(&rt, &CancelToken::new(), Duration::from_secs(1), |_| async move {
///         t.sleep(Duration::from_secs(5)).await
///     });
///     assert_eq!(slow.await, Err(Elapsed));
/// });
/// ```
pub fn fail_after<T, F, Fut>(
    timer: &T,
    parent: &CancelToken,
    duration: Duration,
    f: F,
) -> FailAt<T::Sleep, Fut>
where
    T: Timer,
    F: FnOnce(CancelToken) -> Fut,
    Fut: Future,
{
    FailAt {
        inner: move_on_after(timer, parent, duration, f),
    }
}

pin_project!(
    /// Future returned by [`fail_at`] and [`fail_after`].
    #[must_use = "futures do nothing unless you `.await` or poll them"]
    pub struct FailAt<S, F> {
        #[pin]
        inner: MoveOnAt<S, F>,
    }
);

impl<S, F> FailAt<S, F> {
    /// The scope's token.
    pub fn token(&self) -> &CancelToken {
        self.inner.token()
    }
}

impl<S: Future<Output = ()>, F: Future> Future for FailAt<S, F> {
    type Output = Result<F::Output, Elapsed>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.project().inner.poll(cx).map(|out| out.ok_or(Elapsed))
    }
}

impl<S: Future<Output = ()>, F: Future> FusedFuture for FailAt<S, F> {
    fn is_terminated(&self) -> bool {
        self.inner.is_terminated()
    }
}

impl<S, F> fmt::Debug for FailAt<S, F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FailAt")
            .field("inner", &self.inner)
            .finish()
    }
}

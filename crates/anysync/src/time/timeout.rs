//! `timeout`: bound how long a future may take.

use core::{
    fmt,
    future::{Future, IntoFuture},
    pin::Pin,
    task::{Context, Poll},
    time::Duration,
};

use futures_core::FusedFuture;
use pin_project_lite::pin_project;

use crate::{rt::Timer, time::Instant};

/// The error of a [`timeout`] whose time ran out.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct Elapsed;

impl fmt::Display for Elapsed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("deadline has elapsed")
    }
}

impl core::error::Error for Elapsed {}

/// Runs `future`, giving up after `duration` on `timer`'s clock.
///
/// The inner future is always polled before the timer is looked at, so a
/// future that is ready at once wins even with `Duration::ZERO`. When the
/// time runs out, the inner future is dropped at once (before `Err(Elapsed)`
/// is returned), so whatever it was waiting for is released: a timed-out
/// [`Semaphore::acquire`](crate::sync::Semaphore::acquire) loses no permit.
/// `Duration::MAX` means "no limit in practice" and never panics.
///
/// # Cancel safety
/// This method is cancel safe if `future` is: dropping the `Timeout` drops
/// the inner future and the sleep, nothing else.
///
/// # Errors
/// [`Elapsed`] if `duration` passes before `future` completes.
///
/// # Examples
/// ```
/// use std::time::Duration;
/// use anysync::{rt::virtual_time::VirtualTime, time::timeout};
///
/// VirtualTime::new().block_on(|rt| async move {
///     let slow = rt.sleep(Duration::from_secs(10));
///     assert!(timeout(&rt, Duration::from_secs(1), slow).await.is_err());
///     assert_eq!(timeout(&rt, Duration::ZERO, async { 7 }).await, Ok(7));
/// });
/// ```
pub fn timeout<T, F>(timer: &T, duration: Duration, future: F) -> Timeout<T::Sleep, F::IntoFuture>
where
    T: Timer,
    F: IntoFuture,
{
    Timeout {
        inner: State::Running {
            future: future.into_future(),
            sleep: timer.sleep(duration),
        },
    }
}

/// Runs `future`, giving up at `deadline` on `timer`'s clock.
///
/// The same as [`timeout`] with an instant instead of a duration: the inner
/// future is polled first, so one that is ready at once wins even when
/// `deadline` has already passed; on elapse it is dropped before
/// `Err(Elapsed)` is returned. A deadline too far away to represent means
/// "never" and does not panic.
///
/// # Cancel safety
/// This method is cancel safe if `future` is: dropping the `Timeout` drops
/// the inner future and the sleep, nothing else.
///
/// # Errors
/// [`Elapsed`] if `deadline` passes before `future` completes.
///
/// # Examples
/// ```
/// use std::time::Duration;
/// use anysync::{rt::virtual_time::VirtualTime, time::timeout_at};
///
/// VirtualTime::new().block_on(|rt| async move {
///     let deadline = rt.now() + Duration::from_secs(1);
///     let slow = rt.sleep(Duration::from_secs(10));
///     assert!(timeout_at(&rt, deadline, slow).await.is_err());
///     assert_eq!(rt.now(), deadline);
///     // Already past: a ready future still wins.
///     assert_eq!(timeout_at(&rt, deadline, async { 7 }).await, Ok(7));
/// });
/// ```
pub fn timeout_at<T, F>(timer: &T, deadline: Instant, future: F) -> Timeout<T::Sleep, F::IntoFuture>
where
    T: Timer,
    F: IntoFuture,
{
    Timeout {
        inner: State::Running {
            future: future.into_future(),
            sleep: timer.sleep_until(deadline),
        },
    }
}

pin_project!(
    /// Future returned by [`timeout`] and [`timeout_at`].
    #[must_use = "futures do nothing unless you `.await` or poll them"]
    pub struct Timeout<S, F> {
        #[pin]
        inner: State<S, F>,
    }
);

pin_project!(
    #[project = StateProj]
    enum State<S, F> {
        Running {
            #[pin]
            future: F,
            #[pin]
            sleep: S,
        },
        Done,
    }
);

impl<S: Future<Output = ()>, F: Future> Future for Timeout<S, F> {
    type Output = Result<F::Output, Elapsed>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut inner = self.project().inner;
        let result = match inner.as_mut().project() {
            StateProj::Running { future, sleep } => {
                if let Poll::Ready(out) = future.poll(cx) {
                    Ok(out)
                } else if sleep.poll(cx).is_ready() {
                    Err(Elapsed)
                } else {
                    return Poll::Pending;
                }
            }
            StateProj::Done => panic!("`Timeout` polled after completion"),
        };
        // Drop the inner future (and the sleep) now, so that a timed-out
        // wait gives up its place and passes on any wake-up it received.
        inner.set(State::Done);
        Poll::Ready(result)
    }
}

impl<S: Future<Output = ()>, F: Future> FusedFuture for Timeout<S, F> {
    fn is_terminated(&self) -> bool {
        matches!(self.inner, State::Done)
    }
}

impl<S, F> fmt::Debug for Timeout<S, F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Timeout")
            .field("done", &matches!(self.inner, State::Done))
            .finish()
    }
}

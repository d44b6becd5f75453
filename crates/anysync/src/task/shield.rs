//! `shield`: run a future to completion even if its caller is cancelled.

use core::{
    fmt,
    future::Future,
    pin::Pin,
    task::{Context, Poll},
};

use futures_core::FusedFuture;

use crate::rt::Spawn;

/// Runs `future` as its own task on `spawner`, so it runs to completion
/// even if the future awaiting it is dropped (asyncio's `shield`).
///
/// In asyncio, cancelling the task that awaits `shield(x)` raises
/// `CancelledError` in that task while `x` carries on. In Rust,
/// cancellation is dropping the awaiting future; the [`Shield`] it awaited
/// is then dropped with it, but the inner future, being a separate task,
/// finishes anyway, and its effects (a write committed, a lock released)
/// happen. To keep its *result* through a cancelled wait, keep the
/// `Shield` and await it by reference (`(&mut shield).await`, for example
/// in a `select!` branch): it is `Unpin`, and its output stays available
/// until it is awaited again. A panic in the inner future becomes
/// `Err(JoinError)`.
///
/// # Cancel safety
/// This method is cancel safe: dropping the future before it completes has no effect.
/// (The inner future still runs to completion.)
///
/// # Examples
/// ```
/// use std::{sync::{atomic::{AtomicBool, Ordering}, Arc}, time::Duration};
/// use anysync::{rt::virtual_time::VirtualTime, task::shield, time::timeout};
///
/// VirtualTime::new().block_on(|rt| async move {
///     let committed = Arc::new(AtomicBool::new(false));
///     let (c, t) = (committed.clone(), rt.clone());
///     let mut critical = shield(&rt, async move {
///         t.sleep(Duration::from_secs(2)).await;
///         c.store(true, Ordering::SeqCst);
///         42
///     });
///     // The caller gives up after one second...
///     assert!(timeout(&rt, Duration::from_secs(1), &mut critical).await.is_err());
///     // ...but the critical section finishes, and its result is kept.
///     assert_eq!(critical.await.unwrap(), 42);
///     assert!(committed.load(Ordering::SeqCst));
/// });
/// ```
pub fn shield<S, F>(spawner: &S, future: F) -> Shield<S::JoinHandle<F::Output>>
where
    S: Spawn,
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    Shield {
        handle: Some(spawner.spawn(future)),
    }
}

/// Future returned by [`shield`]. Dropping it detaches the inner task,
/// which runs to completion.
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct Shield<H> {
    handle: Option<H>,
}

impl<H: Future + Unpin> Future for Shield<H> {
    type Output = H::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let handle = self
            .handle
            .as_mut()
            .expect("`Shield` polled after completion");
        let out = core::task::ready!(Pin::new(handle).poll(cx));
        self.handle = None;
        Poll::Ready(out)
    }
}

impl<H: Future + Unpin> FusedFuture for Shield<H> {
    fn is_terminated(&self) -> bool {
        self.handle.is_none()
    }
}

impl<H> fmt::Debug for Shield<H> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Shield")
            .field("done", &self.handle.is_none())
            .finish()
    }
}

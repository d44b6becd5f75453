//! `yield_now`: give other tasks a turn.

use core::{
    future::Future,
    pin::Pin,
    task::{Context, Poll},
};

use futures_core::FusedFuture;

/// Suspends the current task once, letting the executor run others.
///
/// The first poll wakes the task at once and returns `Pending`, so the
/// task goes to the back of its executor's run queue; the second poll
/// completes. Unlike a zero-length sleep, which some timers complete
/// without suspending, this always suspends. It needs no executor support.
///
/// # Cancel safety
/// This method is cancel safe: dropping the future before it completes has
/// no effect.
///
/// # Examples
/// ```
/// # futures_executor::block_on(async {
/// anysync::task::yield_now().await;
/// # });
/// ```
pub fn yield_now() -> YieldNow {
    YieldNow { yielded: false }
}

/// Future returned by [`yield_now`].
#[derive(Debug)]
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct YieldNow {
    yielded: bool,
}

impl Future for YieldNow {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.yielded {
            return Poll::Ready(());
        }
        self.yielded = true;
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

impl FusedFuture for YieldNow {
    fn is_terminated(&self) -> bool {
        // Polling again after completion just completes again: harmless.
        false
    }
}

#[cfg(test)]
mod tests {
    use crate::util::test::TestTask;

    #[test]
    fn suspends_once_and_wakes_itself() {
        let mut t = TestTask::new(super::yield_now());
        t.pending();
        assert_eq!(t.wakes(), 1);
        t.ready();
    }
}

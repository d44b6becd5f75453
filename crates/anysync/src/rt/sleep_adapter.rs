//! `SleepAdapter`: a runtime's timer future as a [`Timer::Sleep`](super::Timer::Sleep).

use core::{
    fmt,
    future::Future,
    pin::Pin,
    task::{Context, Poll},
};

use futures_core::FusedFuture;
use pin_project_lite::pin_project;

pin_project!(
    /// Adapts a runtime's timer future, whatever its output, into a sleep
    /// with output `()`, as [`Timer::Sleep`](super::Timer::Sleep) requires.
    ///
    /// async-io's `Timer`, used by smol and async-std, completes with the
    /// instant it fired at; the compat crates wrap it in this.
    ///
    /// # Examples
    /// ```
    /// use anysync::rt::SleepAdapter;
    /// # futures_executor::block_on(async {
    /// let sleep: SleepAdapter<_> = SleepAdapter::new(async { 42 });
    /// let () = sleep.await;
    /// # });
    /// ```
    #[must_use = "futures do nothing unless you `.await` or poll them"]
    pub struct SleepAdapter<F> {
        #[pin]
        timer: F,
        done: bool,
    }
);

impl<F> SleepAdapter<F> {
    /// Wraps `timer`.
    pub const fn new(timer: F) -> Self {
        Self { timer, done: false }
    }

    /// The wrapped timer future.
    pub fn get_ref(&self) -> &F {
        &self.timer
    }

    /// Unwraps the timer future.
    pub fn into_inner(self) -> F {
        self.timer
    }
}

impl<F: Future> Future for SleepAdapter<F> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.project();
        if *this.done {
            return Poll::Ready(());
        }
        match this.timer.poll(cx) {
            Poll::Ready(_) => {
                *this.done = true;
                Poll::Ready(())
            }
            Poll::Pending => Poll::Pending,
        }
    }
}

impl<F: Future> FusedFuture for SleepAdapter<F> {
    fn is_terminated(&self) -> bool {
        self.done
    }
}

impl<F: fmt::Debug> fmt::Debug for SleepAdapter<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SleepAdapter")
            .field("timer", &self.timer)
            .field("done", &self.done)
            .finish()
    }
}

//! A hand-polling harness for unit tests: a pinned future plus a counting
//! waker, so tests can assert exactly who was woken and how often.

extern crate std;

use alloc::boxed::Box;
use core::{
    future::Future,
    pin::Pin,
    task::{Context, Poll, Waker},
};

use futures_test::task::{new_count_waker, AwokenCount};

/// A future under test, polled by hand.
pub(crate) struct TestTask<F: Future> {
    future: Option<Pin<Box<F>>>,
    waker: Waker,
    count: AwokenCount,
    seen: usize,
}

impl<F: Future> TestTask<F> {
    pub(crate) fn new(future: F) -> Self {
        let (waker, count) = new_count_waker();
        Self {
            future: Some(Box::pin(future)),
            waker,
            count,
            seen: 0,
        }
    }

    /// Polls once with this task's counting waker.
    pub(crate) fn poll(&mut self) -> Poll<F::Output> {
        let waker = self.waker.clone();
        self.poll_with(&waker)
    }

    /// Polls once with another waker (for waker-update tests).
    pub(crate) fn poll_with(&mut self, waker: &Waker) -> Poll<F::Output> {
        self.seen = self.count.get();
        let future = self.future.as_mut().expect("polled a dropped TestTask");
        future.as_mut().poll(&mut Context::from_waker(waker))
    }

    /// Polls, expecting `Ready`.
    #[track_caller]
    pub(crate) fn ready(&mut self) -> F::Output {
        match self.poll() {
            Poll::Ready(out) => out,
            Poll::Pending => panic!("expected Ready, got Pending"),
        }
    }

    /// Polls, expecting `Pending`.
    #[track_caller]
    pub(crate) fn pending(&mut self) {
        assert!(self.poll().is_pending(), "expected Pending, got Ready");
    }

    /// Total wake-ups so far.
    pub(crate) fn wakes(&self) -> usize {
        self.count.get()
    }

    /// Whether it was woken since the last poll.
    pub(crate) fn is_woken(&self) -> bool {
        self.count.get() > self.seen
    }

    /// Drops the future (cancelling it), keeping the wake counter.
    pub(crate) fn cancel(&mut self) {
        self.future = None;
    }
}

/// Runs `f` and returns the number of wait-queue locks this thread took
/// meanwhile: for tests of paths meant to be lock-free.
pub(crate) fn locks_taken(f: impl FnOnce()) -> usize {
    let before = crate::waitq::lock::taken();
    f();
    crate::waitq::lock::taken() - before
}

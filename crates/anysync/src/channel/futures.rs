//! The named futures returned by the MPMC channels' methods
//! ([`Sender::send`](super::Sender::send),
//! [`Receiver::recv`](super::Receiver::recv) and
//! [`StaticChannel`](super::StaticChannel)'s `send`/`recv`).
//!
//! Their last parameter says where the channel keeps its buffer
//! ([`Heap`] by default, [`Inline`](super::storage::Inline) for a
//! `StaticChannel`).

use core::{
    fmt,
    future::Future,
    pin::Pin,
    task::{Context, Poll},
};

use futures_core::FusedFuture;
use pin_project_lite::pin_project;

use super::{
    storage::{Heap, Storage},
    RecvError, SendError,
};
use crate::queue::engine::{Chan, RecvFut, SendFut};

pin_project! {
    /// Future returned by [`Sender::send`](super::Sender::send) and
    /// [`StaticChannel::send`](super::StaticChannel::send).
    #[must_use = "futures do nothing unless you `.await` or poll them"]
    pub struct Send<'a, T, S: Storage<T> = Heap> {
        #[pin]
        inner: SendFut<'a, S::Buf>,
    }
}

impl<'a, T, S: Storage<T>> Send<'a, T, S> {
    pub(crate) fn new(chan: &'a Chan<S::Buf>, value: T) -> Self {
        Self {
            inner: SendFut::new(chan, value),
        }
    }
}

impl<T, S: Storage<T>> Send<'_, T, S> {
    /// Stops the send: returns the value if it was not sent yet (it never
    /// will be), or `None` if it was (or the future completed). The future
    /// is finished afterwards; it leaves the queue, and a slot it had been
    /// granted goes to the next waiting sender.
    ///
    /// Use it to stop waiting for room without losing the value, e.g. in
    /// `select!`.
    ///
    /// # Examples
    ///
    /// ```
    /// use anysync::channel;
    /// use futures_util::FutureExt;
    ///
    /// let (tx, rx) = channel::bounded(1);
    /// tx.try_send(1).unwrap(); // the channel is now full
    /// let mut send = std::pin::pin!(tx.send(2));
    /// assert!(send.as_mut().now_or_never().is_none()); // waits for room
    /// assert_eq!(send.cancel(), Some(2)); // not sent; here it is
    /// assert_eq!(rx.len(), 1);
    /// ```
    pub fn cancel(self: Pin<&mut Self>) -> Option<T> {
        self.project().inner.cancel()
    }
}

impl<T, S: Storage<T>> Future for Send<'_, T, S> {
    type Output = Result<(), SendError<T>>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.project()
            .inner
            .poll_send(cx)
            .map(|r| r.map_err(SendError))
    }
}

impl<T, S: Storage<T>> FusedFuture for Send<'_, T, S> {
    fn is_terminated(&self) -> bool {
        self.inner.is_terminated()
    }
}

impl<T, S: Storage<T>> fmt::Debug for Send<'_, T, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Send")
            .field("phase", &self.inner.phase())
            .finish()
    }
}

pin_project! {
    /// Future returned by [`Receiver::recv`](super::Receiver::recv) and
    /// [`StaticChannel::recv`](super::StaticChannel::recv).
    #[must_use = "futures do nothing unless you `.await` or poll them"]
    pub struct Recv<'a, T, S: Storage<T> = Heap> {
        #[pin]
        inner: RecvFut<'a, S::Buf>,
    }
}

impl<'a, T, S: Storage<T>> Recv<'a, T, S> {
    pub(crate) fn new(chan: &'a Chan<S::Buf>) -> Self {
        Self {
            inner: RecvFut::new(chan),
        }
    }
}

impl<T, S: Storage<T>> Future for Recv<'_, T, S> {
    type Output = Result<T, RecvError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.project()
            .inner
            .poll_recv(cx)
            .map(|r| r.ok_or(RecvError))
    }
}

impl<T, S: Storage<T>> FusedFuture for Recv<'_, T, S> {
    fn is_terminated(&self) -> bool {
        self.inner.is_terminated()
    }
}

impl<T, S: Storage<T>> fmt::Debug for Recv<'_, T, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Recv")
            .field("phase", &self.inner.phase())
            .finish()
    }
}

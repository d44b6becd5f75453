//! The named futures returned by the MPMC channels' methods
//! ([`Sender::send`](super::Sender::send),
//! [`Receiver::recv`](super::Receiver::recv), the reserve, timeout,
//! batch-receive and closed waits, and [`StaticChannel`](super::StaticChannel)'s
//! counterparts).
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
    permit::{Permit, Permits},
    storage::{Heap, Storage},
    RecvError, SendError, SendTimeoutError,
};
use crate::chan::{Chan, Phase, RecvFut, ReserveFut, SendFut};

pin_project!(
    /// Future returned by [`Sender::send`](super::Sender::send) and
    /// [`StaticChannel::send`](super::StaticChannel::send).
    #[must_use = "futures do nothing unless you `.await` or poll them"]
    pub struct Send<'a, T, S: Storage<T> = Heap> {
        #[pin]
        inner: SendFut<'a, S::Buf>,
    }
);

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

    #[inline(always)]
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

pin_project!(
    /// Future returned by [`Receiver::recv`](super::Receiver::recv) and
    /// [`StaticChannel::recv`](super::StaticChannel::recv).
    #[must_use = "futures do nothing unless you `.await` or poll them"]
    pub struct Recv<'a, T, S: Storage<T> = Heap> {
        #[pin]
        inner: RecvFut<'a, S::Buf>,
    }
);

impl<'a, T, S: Storage<T>> Recv<'a, T, S> {
    pub(crate) fn new(chan: &'a Chan<S::Buf>) -> Self {
        Self {
            inner: RecvFut::new(chan),
        }
    }
}

impl<T, S: Storage<T>> Future for Recv<'_, T, S> {
    type Output = Result<T, RecvError>;

    #[inline(always)]
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

pin_project!(
    /// Future returned by [`Sender::reserve`](super::Sender::reserve) and
    /// [`StaticChannel::reserve`](super::StaticChannel::reserve).
    #[must_use = "futures do nothing unless you `.await` or poll them"]
    pub struct Reserve<'a, T, S: Storage<T> = Heap> {
        #[pin]
        inner: ReserveFut<'a, S::Buf>,
        chan: &'a Chan<S::Buf>,
    }
);

impl<'a, T, S: Storage<T>> Reserve<'a, T, S> {
    pub(crate) fn new(chan: &'a Chan<S::Buf>) -> Self {
        Self {
            inner: ReserveFut::new(chan, 1),
            chan,
        }
    }
}

impl<'a, T, S: Storage<T>> Future for Reserve<'a, T, S> {
    type Output = Result<Permit<'a, T, S>, SendError<()>>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let chan = *this.chan;
        this.inner
            .poll_reserve(cx)
            .map(|r| r.map(|()| Permit::new(chan)).map_err(|()| SendError(())))
    }
}

impl<T, S: Storage<T>> FusedFuture for Reserve<'_, T, S> {
    fn is_terminated(&self) -> bool {
        self.inner.is_terminated()
    }
}

impl<T, S: Storage<T>> fmt::Debug for Reserve<'_, T, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Reserve")
            .field("phase", &self.inner.phase())
            .finish()
    }
}

pin_project!(
    /// Future returned by [`Sender::reserve_many`](super::Sender::reserve_many)
    /// and [`StaticChannel::reserve_many`](super::StaticChannel::reserve_many).
    #[must_use = "futures do nothing unless you `.await` or poll them"]
    pub struct ReserveMany<'a, T, S: Storage<T> = Heap> {
        #[pin]
        inner: ReserveFut<'a, S::Buf>,
        chan: &'a Chan<S::Buf>,
        n: usize,
    }
);

impl<'a, T, S: Storage<T>> ReserveMany<'a, T, S> {
    pub(crate) fn new(chan: &'a Chan<S::Buf>, n: usize) -> Self {
        Self {
            inner: ReserveFut::new(chan, n),
            chan,
            n,
        }
    }
}

impl<'a, T, S: Storage<T>> Future for ReserveMany<'a, T, S> {
    type Output = Result<Permits<'a, T, S>, SendError<()>>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let (chan, n) = (*this.chan, *this.n);
        this.inner.poll_reserve(cx).map(|r| {
            r.map(|()| Permits::new(chan, n))
                .map_err(|()| SendError(()))
        })
    }
}

impl<T, S: Storage<T>> FusedFuture for ReserveMany<'_, T, S> {
    fn is_terminated(&self) -> bool {
        self.inner.is_terminated()
    }
}

impl<T, S: Storage<T>> fmt::Debug for ReserveMany<'_, T, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReserveMany")
            .field("n", &self.n)
            .field("phase", &self.inner.phase())
            .finish()
    }
}

pin_project!(
    /// Future returned by [`Sender::send_timeout`](super::Sender::send_timeout)
    /// and [`StaticChannel::send_timeout`](super::StaticChannel::send_timeout).
    #[must_use = "futures do nothing unless you `.await` or poll them"]
    pub struct SendTimeout<'a, T, Sl, S: Storage<T> = Heap> {
        #[pin]
        send: Send<'a, T, S>,
        #[pin]
        sleep: Sl,
    }
);

impl<'a, T, Sl, S: Storage<T>> SendTimeout<'a, T, Sl, S> {
    pub(crate) fn new(send: Send<'a, T, S>, sleep: Sl) -> Self {
        Self { send, sleep }
    }
}

impl<T, Sl: Future<Output = ()>, S: Storage<T>> Future for SendTimeout<'_, T, Sl, S> {
    type Output = Result<(), SendTimeoutError<T>>;

    /// # Panics
    /// If polled after it completed.
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        // The send goes first: one that can complete now wins even when the
        // time is already up.
        match this.send.as_mut().poll(cx) {
            Poll::Ready(Ok(())) => return Poll::Ready(Ok(())),
            Poll::Ready(Err(SendError(value))) => {
                return Poll::Ready(Err(SendTimeoutError::Closed(value)))
            }
            // Not queued: the send lost its claim to another sender and
            // gave its worker away with its task woken (see
            // `Sender::send`). It has not waited yet, so the timer does not
            // end it before it tries again; each such loss is another
            // sender's success, so this ends.
            Poll::Pending if this.send.inner.phase() == Phase::Init => return Poll::Pending,
            Poll::Pending => {}
        }
        if this.sleep.poll(cx).is_pending() {
            return Poll::Pending;
        }
        // Time is up: leave the queue (a slot granted meanwhile goes to the
        // next sender) and hand the value back.
        Poll::Ready(match this.send.cancel() {
            Some(value) => Err(SendTimeoutError::Timeout(value)),
            None => Ok(()),
        })
    }
}

impl<T, Sl: Future<Output = ()>, S: Storage<T>> FusedFuture for SendTimeout<'_, T, Sl, S> {
    fn is_terminated(&self) -> bool {
        self.send.is_terminated()
    }
}

impl<T, Sl, S: Storage<T>> fmt::Debug for SendTimeout<'_, T, Sl, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SendTimeout")
            .field("phase", &self.send.inner.phase())
            .finish()
    }
}

pin_project!(
    /// Future returned by [`Sender::closed`](super::Sender::closed) and
    /// [`StaticChannel::closed`](super::StaticChannel::closed).
    #[must_use = "futures do nothing unless you `.await` or poll them"]
    pub struct Closed<'a> {
        #[pin]
        inner: crate::sync::futures::EventWait<'a>,
    }
);

impl<'a> Closed<'a> {
    pub(crate) fn new(event: &'a crate::sync::Event) -> Self {
        Self {
            inner: event.wait(),
        }
    }
}

impl Future for Closed<'_> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        self.project().inner.poll(cx)
    }
}

impl FusedFuture for Closed<'_> {
    fn is_terminated(&self) -> bool {
        self.inner.is_terminated()
    }
}

impl fmt::Debug for Closed<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Closed")
            .field("done", &self.inner.is_terminated())
            .finish()
    }
}

#[cfg(feature = "alloc")]
pin_project!(
    /// Future returned by [`Receiver::recv_many`](super::Receiver::recv_many).
    #[must_use = "futures do nothing unless you `.await` or poll them"]
    pub struct RecvMany<'a, 'b, T> {
        #[pin]
        inner: RecvFut<'a, crate::chan::FifoBuf<T>>,
        chan: &'a Chan<crate::chan::FifoBuf<T>>,
        buf: &'b mut alloc::vec::Vec<T>,
        limit: usize,
    }
);

#[cfg(feature = "alloc")]
impl<'a, 'b, T> RecvMany<'a, 'b, T> {
    pub(crate) fn new(
        chan: &'a Chan<crate::chan::FifoBuf<T>>,
        buf: &'b mut alloc::vec::Vec<T>,
        limit: usize,
    ) -> Self {
        Self {
            inner: RecvFut::new(chan),
            chan,
            buf,
            limit,
        }
    }
}

#[cfg(feature = "alloc")]
impl<T> Future for RecvMany<'_, '_, T> {
    type Output = usize;

    /// # Panics
    /// If polled after it completed.
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<usize> {
        let this = self.project();
        if *this.limit == 0 {
            return Poll::Ready(0);
        }
        let Some(first) = core::task::ready!(this.inner.poll_recv(cx)) else {
            return Poll::Ready(0);
        };
        this.buf.push(first);
        let mut got = 1;
        while got < *this.limit {
            match this.chan.try_recv() {
                Ok(value) => this.buf.push(value),
                Err(_) => break,
            }
            got += 1;
        }
        Poll::Ready(got)
    }
}

#[cfg(feature = "alloc")]
impl<T> FusedFuture for RecvMany<'_, '_, T> {
    fn is_terminated(&self) -> bool {
        self.limit == 0 || self.inner.is_terminated()
    }
}

#[cfg(feature = "alloc")]
impl<T> fmt::Debug for RecvMany<'_, '_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RecvMany")
            .field("limit", &self.limit)
            .field("phase", &self.inner.phase())
            .finish()
    }
}

//! A one-shot channel: one value, sent once, from one task to another.
//!
//! [`channel`] returns a [`Sender`] and a [`Receiver`]. The sender
//! [`send`](Sender::send)s at most one value (sending consumes it); the
//! receiver is itself a future of that value, and also offers
//! [`recv`](Receiver::recv) and [`try_recv`](Receiver::try_recv).
//!
//! | what happens                                  | the other side sees                               |
//! |-----------------------------------------------|---------------------------------------------------|
//! | `tx.send(v)`                                  | the receiver gets `Ok(v)`                         |
//! | `tx` dropped without sending                  | the receiver gets `Err(RecvError)`                |
//! | `rx` dropped, or [`rx.close()`](Receiver::close) | `send` returns the value in [`SendError`]; [`Sender::closed`] completes |
//!
//! A value sent before [`Receiver::close`] is still delivered by
//! `try_recv`/`recv`; a value sent but never received is dropped exactly
//! once, with the receiver (or with the channel, whichever goes last).
//!
//! # Examples
//!
//! ```
//! # futures_executor::block_on(async {
//! use anysync::channel::oneshot;
//!
//! let (tx, rx) = oneshot::channel();
//! std::thread::spawn(move || {
//!     let _ = tx.send(6 * 7);
//! });
//! assert_eq!(rx.await, Ok(42));
//! # });
//! ```
//!
//! A sender that learns the receiver has gone away:
//!
//! ```
//! # futures_executor::block_on(async {
//! use anysync::channel::oneshot;
//!
//! let (mut tx, rx) = oneshot::channel::<u32>();
//! drop(rx);
//! tx.closed().await; // completes: nobody is listening
//! assert_eq!(tx.send(1).unwrap_err().0, 1); // the value comes back
//! # });
//! ```
//!
//! # Implementation notes
//!
//! The value slot, two liveness flags and one waker per side sit behind the
//! wait queue's short blocking lock (`waitq`), so the slot needs
//! no `unsafe`. One waker slot per side is enough, not a wait queue: only
//! one task at a time can wait on each side, because [`Receiver::recv`] and
//! [`Sender::closed`] borrow their handle mutably (and the receiver future
//! is the receiver itself). That also makes every future here `Unpin`.
//! Wakers are woken, cloned, and replaced wakers and unreceived values are
//! dropped, only with the lock released.

use core::{
    fmt,
    future::Future,
    pin::Pin,
    task::{Context, Poll, Waker},
};

use futures_core::FusedFuture;

use crate::{loom::sync::Arc, waitq::lock::Lock};

/// The channel errors, shared with the other channels:
/// * [`SendError`]: [`Sender::send`] failed because the receiver was
///   dropped or [closed](Receiver::close); it holds the value.
/// * [`RecvError`]: no value came, and none can: the sender was dropped
///   without sending, the value was already received, or the receiver was
///   closed before a value arrived.
/// * [`TryRecvError`]: `Empty` (the sender may still send) or `Closed`.
#[doc(no_inline)]
pub use super::{RecvError, SendError, TryRecvError};

/// Creates a one-shot channel.
///
/// # Examples
///
/// ```
/// # futures_executor::block_on(async {
/// let (tx, rx) = anysync::channel::oneshot::channel();
/// tx.send("done").unwrap();
/// assert_eq!(rx.await, Ok("done"));
/// # });
/// ```
pub fn channel<T>() -> (Sender<T>, Receiver<T>) {
    let inner = Arc::new(Inner {
        state: Lock::new(State {
            value: None,
            tx_alive: true,
            rx_open: true,
            rx_waker: None,
            tx_waker: None,
        }),
    });
    (
        Sender {
            inner: Some(Arc::clone(&inner)),
        },
        Receiver { inner, done: false },
    )
}

struct Inner<T> {
    state: Lock<State<T>>,
}

struct State<T> {
    /// The sent value, until the receiver takes it.
    value: Option<T>,
    /// The sender exists: not dropped and not consumed by `send`.
    tx_alive: bool,
    /// The receiver exists and has not called `close`.
    rx_open: bool,
    /// The task waiting in the receiver future, if any.
    rx_waker: Option<Waker>,
    /// The task waiting in `Sender::closed`, if any.
    tx_waker: Option<Waker>,
}

/// Stores `waker` in `slot` unless it would wake the same task. Returns the
/// replaced waker, to be dropped after the lock is released; or `Err` if
/// the waker must be stored and the caller has no clone of it in `fresh`
/// yet: it clones with the lock released (so that a `Waker::clone` that
/// calls back into this channel cannot deadlock) and tries again.
fn register(
    slot: &mut Option<Waker>,
    waker: &Waker,
    fresh: &mut Option<Waker>,
) -> Result<Option<Waker>, ()> {
    match slot {
        Some(old) if old.will_wake(waker) => Ok(None),
        _ => match fresh.take() {
            Some(new) => Ok(slot.replace(new)),
            None => Err(()),
        },
    }
}

/// The sending half of a [`oneshot`](self) channel.
///
/// Dropping it without sending makes the receiver complete with
/// `Err(RecvError)`.
pub struct Sender<T> {
    /// `None` once `send` consumed it (so `Drop` does nothing).
    inner: Option<Arc<Inner<T>>>,
}

/// The receiving half of a [`oneshot`](self) channel. It is a future of the
/// value: `rx.await` gives `Ok(value)`, or `Err(RecvError)` if the sender was
/// dropped without sending.
///
/// Dropping the receiver closes the channel: a later `send` fails and
/// returns its value, and a value already sent is dropped.
///
/// # Cancel safety
/// Awaiting the receiver is cancel safe as long as the receiver itself is
/// kept: drop the `&mut` borrow (or the [`Recv`](futures::Recv) future) and
/// await again later. Dropping the receiver itself is not cancellation but
/// closing, and discards the value.
pub struct Receiver<T> {
    inner: Arc<Inner<T>>,
    /// Completed as a future (for `FusedFuture`).
    done: bool,
}

impl<T> Sender<T> {
    fn inner(&self) -> &Inner<T> {
        self.inner
            .as_deref()
            .expect("anysync bug: oneshot sender used after send")
    }

    /// Sends `value`, consuming the sender, and wakes the receiver.
    ///
    /// # Errors
    /// If the receiver was dropped or [closed](Receiver::close), the value
    /// is returned in [`SendError`]. On success the value belongs to the
    /// receiver, which drops it if it goes away without receiving it.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = anysync::channel::oneshot::channel();
    /// drop(rx);
    /// assert_eq!(tx.send(5), Err(anysync::channel::oneshot::SendError(5)));
    /// ```
    pub fn send(mut self, value: T) -> Result<(), SendError<T>> {
        let inner = self
            .inner
            .take()
            .expect("anysync bug: oneshot sender used after send");
        let waker = {
            let mut state = inner.state.lock();
            state.tx_alive = false;
            if !state.rx_open {
                drop(state);
                return Err(SendError(value));
            }
            state.value = Some(value);
            state.rx_waker.take()
        };
        if let Some(waker) = waker {
            waker.wake();
        }
        Ok(())
    }

    /// `true` if the receiver was dropped or [closed](Receiver::close), so
    /// a [`send`](Self::send) would fail.
    pub fn is_closed(&self) -> bool {
        !self.inner().state.lock().rx_open
    }

    /// Waits until the receiver is dropped or [closed](Receiver::close):
    /// use it to stop computing a value nobody wants.
    ///
    /// # Cancel safety
    /// This method is cancel safe: dropping the future before it completes
    /// has no effect.
    ///
    /// # Examples
    ///
    /// ```
    /// # futures_executor::block_on(async {
    /// let (mut tx, mut rx) = anysync::channel::oneshot::channel::<()>();
    /// rx.close();
    /// tx.closed().await;
    /// # });
    /// ```
    pub fn closed(&mut self) -> futures::Closed<'_, T> {
        futures::Closed {
            tx: self,
            done: false,
        }
    }

    /// The poll behind [`closed`](Self::closed), for hand-written futures:
    /// `Ready` once the receiver is gone or closed; otherwise registers
    /// `cx`'s waker (replacing the one from an earlier call).
    pub fn poll_closed(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        let mut fresh = None;
        loop {
            let registered = {
                let mut state = self.inner().state.lock();
                if !state.rx_open {
                    let old = state.tx_waker.take();
                    drop(state);
                    drop(old);
                    return Poll::Ready(());
                }
                register(&mut state.tx_waker, cx.waker(), &mut fresh)
            };
            match registered {
                Ok(old) => {
                    drop(old);
                    return Poll::Pending;
                }
                Err(()) => fresh = Some(cx.waker().clone()),
            }
        }
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        let Some(inner) = self.inner.take() else {
            return;
        };
        let (rx_waker, tx_waker) = {
            let mut state = inner.state.lock();
            state.tx_alive = false;
            (state.rx_waker.take(), state.tx_waker.take())
        };
        drop(tx_waker);
        if let Some(waker) = rx_waker {
            waker.wake();
        }
    }
}

impl<T> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The lock is only ever held for a few instructions.
        f.debug_struct("Sender")
            .field("closed", &self.is_closed())
            .finish()
    }
}

impl<T> Receiver<T> {
    /// Waits for the value. The same as awaiting the receiver, without
    /// consuming it.
    ///
    /// After the value has been received, or the sender dropped without
    /// sending, every later call completes at once with `Err(RecvError)`.
    ///
    /// # Cancel safety
    /// This method is cancel safe: dropping the future before it completes
    /// has no effect.
    ///
    /// # Errors
    /// [`RecvError`] if the sender was dropped without sending,
    /// the value was already received, or the receiver was
    /// [closed](Self::close) before a value arrived.
    ///
    /// # Examples
    ///
    /// ```
    /// # futures_executor::block_on(async {
    /// let (tx, mut rx) = anysync::channel::oneshot::channel();
    /// tx.send(1).unwrap();
    /// assert_eq!(rx.recv().await, Ok(1));
    /// assert_eq!(rx.recv().await, Err(anysync::channel::RecvError));
    /// # });
    /// ```
    pub fn recv(&mut self) -> futures::Recv<'_, T> {
        futures::Recv {
            rx: self,
            done: false,
        }
    }

    /// Takes the value if it has arrived, without waiting.
    ///
    /// Once it has returned the value, the receiver is finished as a
    /// future too ([`is_terminated`](FusedFuture::is_terminated) is
    /// `true`, so `select!` skips it), exactly as if it had been awaited:
    /// awaiting it again panics, and [`recv`](Self::recv) and `try_recv`
    /// report [`RecvError`]/[`TryRecvError::Closed`].
    ///
    /// # Errors
    /// [`TryRecvError::Empty`] if the sender may still send;
    /// [`TryRecvError::Closed`] if no value can come any more.
    ///
    /// # Examples
    ///
    /// ```
    /// use anysync::channel::oneshot::{self, TryRecvError};
    ///
    /// let (tx, mut rx) = oneshot::channel();
    /// assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    /// tx.send(3).unwrap();
    /// assert_eq!(rx.try_recv(), Ok(3));
    /// assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
    /// ```
    pub fn try_recv(&mut self) -> Result<T, TryRecvError> {
        let mut state = self.inner.state.lock();
        match state.value.take() {
            Some(value) => {
                self.done = true;
                Ok(value)
            }
            None if state.tx_alive && state.rx_open => Err(TryRecvError::Empty),
            None => Err(TryRecvError::Closed),
        }
    }

    /// `true` if no value is waiting to be received: none was sent yet,
    /// or it was already received, or none can come any more.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, mut rx) = anysync::channel::oneshot::channel();
    /// assert!(rx.is_empty());
    /// tx.send(1).unwrap();
    /// assert!(!rx.is_empty());
    /// assert_eq!(rx.try_recv(), Ok(1));
    /// assert!(rx.is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.inner.state.lock().value.is_none()
    }

    /// Closes the channel without dropping the receiver: a later
    /// [`Sender::send`] fails and returns its value, and
    /// [`Sender::closed`] completes. A value sent before `close` can still
    /// be received. Idempotent.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, mut rx) = anysync::channel::oneshot::channel();
    /// rx.close();
    /// assert!(tx.send(1).is_err());
    /// ```
    pub fn close(&mut self) {
        let waker = {
            let mut state = self.inner.state.lock();
            state.rx_open = false;
            state.tx_waker.take()
        };
        if let Some(waker) = waker {
            waker.wake();
        }
    }

    /// The poll behind awaiting the receiver and [`recv`](Self::recv).
    fn poll_value(&mut self, cx: &mut Context<'_>) -> Poll<Result<T, RecvError>> {
        let mut fresh = None;
        loop {
            let registered = {
                let mut state = self.inner.state.lock();
                if let Some(value) = state.value.take() {
                    let old = state.rx_waker.take();
                    drop(state);
                    drop(old);
                    return Poll::Ready(Ok(value));
                }
                if !state.tx_alive || !state.rx_open {
                    let old = state.rx_waker.take();
                    drop(state);
                    drop(old);
                    return Poll::Ready(Err(RecvError));
                }
                register(&mut state.rx_waker, cx.waker(), &mut fresh)
            };
            match registered {
                Ok(old) => {
                    drop(old);
                    return Poll::Pending;
                }
                Err(()) => fresh = Some(cx.waker().clone()),
            }
        }
    }
}

impl<T> Future for Receiver<T> {
    type Output = Result<T, RecvError>;

    /// # Panics
    /// If polled again after it completed.
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        assert!(!this.done, "`oneshot::Receiver` polled after completion");
        let poll = this.poll_value(cx);
        this.done = poll.is_ready();
        poll
    }
}

impl<T> FusedFuture for Receiver<T> {
    fn is_terminated(&self) -> bool {
        self.done
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        let (value, rx_waker, tx_waker) = {
            let mut state = self.inner.state.lock();
            state.rx_open = false;
            (
                state.value.take(),
                state.rx_waker.take(),
                state.tx_waker.take(),
            )
        };
        // User code (the value's `Drop`, wakers) runs without the lock.
        drop(value);
        drop(rx_waker);
        if let Some(waker) = tx_waker {
            waker.wake();
        }
    }
}

impl<T> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (ready, closed) = {
            let state = self.inner.state.lock();
            (state.value.is_some(), !state.tx_alive || !state.rx_open)
        };
        f.debug_struct("Receiver")
            .field("value_ready", &ready)
            .field("closed", &closed)
            .field("terminated", &self.done)
            .finish()
    }
}

#[cfg(feature = "std")]
#[cfg_attr(docsrs, doc(cfg(feature = "std")))]
impl<T> Receiver<T> {
    /// Blocks the current thread until the value arrives.
    ///
    /// Meant for plain threads; calling it from a task blocks that
    /// executor thread.
    ///
    /// # Errors
    /// As [`recv`](Self::recv).
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = anysync::channel::oneshot::channel();
    /// std::thread::spawn(move || tx.send(7).unwrap());
    /// assert_eq!(rx.recv_blocking(), Ok(7));
    /// ```
    pub fn recv_blocking(mut self) -> Result<T, RecvError> {
        crate::util::block_on::block_on(self.recv())
    }
}

/// The named futures returned by this module's methods.
pub mod futures {
    use super::*;

    /// Future returned by [`Receiver::recv`].
    #[must_use = "futures do nothing unless you `.await` or poll them"]
    pub struct Recv<'a, T> {
        pub(super) rx: &'a mut Receiver<T>,
        pub(super) done: bool,
    }

    impl<T> Future for Recv<'_, T> {
        type Output = Result<T, RecvError>;

        fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
            assert!(!self.done, "`Recv` polled after completion");
            let poll = self.rx.poll_value(cx);
            self.done = poll.is_ready();
            poll
        }
    }

    impl<T> FusedFuture for Recv<'_, T> {
        fn is_terminated(&self) -> bool {
            self.done
        }
    }

    impl<T> fmt::Debug for Recv<'_, T> {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.debug_struct("Recv").field("done", &self.done).finish()
        }
    }

    /// Future returned by [`Sender::closed`].
    #[must_use = "futures do nothing unless you `.await` or poll them"]
    pub struct Closed<'a, T> {
        pub(super) tx: &'a mut Sender<T>,
        pub(super) done: bool,
    }

    impl<T> Future for Closed<'_, T> {
        type Output = ();

        fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
            assert!(!self.done, "`Closed` polled after completion");
            let poll = self.tx.poll_closed(cx);
            self.done = poll.is_ready();
            poll
        }
    }

    impl<T> FusedFuture for Closed<'_, T> {
        fn is_terminated(&self) -> bool {
            self.done
        }
    }

    impl<T> fmt::Debug for Closed<'_, T> {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.debug_struct("Closed").field("done", &self.done).finish()
        }
    }
}

#[cfg(test)]
mod tests;

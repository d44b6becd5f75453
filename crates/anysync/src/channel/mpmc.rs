//! `bounded` and `unbounded`: the multi-producer, multi-consumer channels
//! with counted, cloneable handles.

use alloc::{boxed::Box, collections::VecDeque};
use core::{
    fmt,
    ops::Deref,
    pin::Pin,
    task::{Context, Poll},
};

use futures_core::{FusedStream, Stream};

use super::{
    futures::{Recv, Send},
    SendError, TryRecvError, TrySendError,
};
use crate::{
    loom::sync::{
        atomic::{AtomicUsize, Ordering},
        Arc,
    },
    queue::{
        engine::{Chan, Mode, TryRecv, TrySend},
        slots::{RecvSlot, SendSlot},
        FifoBuf,
    },
};

#[cfg(all(test, feature = "std"))]
mod tests;

/// How much storage a bounded channel reserves up front (it grows as
/// needed up to its capacity).
const PREALLOCATE: usize = 1024;

/// What every handle of one channel shares.
struct Shared<T> {
    chan: Chan<FifoBuf<T>>,
    senders: AtomicUsize,
    receivers: AtomicUsize,
}

/// What the reusable waiters of a [`Receiver`] and a [`SendSink`] hold:
/// the shared state, seen as the engine.
struct ChanRef<T>(Arc<Shared<T>>);

impl<T> Deref for ChanRef<T> {
    type Target = Chan<FifoBuf<T>>;

    fn deref(&self) -> &Chan<FifoBuf<T>> {
        &self.0.chan
    }
}

/// The reusable send waiter of a [`SendSink`], with its pending value.
type SinkSlot<T> = SendSlot<ChanRef<T>, T>;

fn new_channel<T>(chan: Chan<FifoBuf<T>>) -> (Sender<T>, Receiver<T>) {
    let shared = Arc::new(Shared {
        chan,
        senders: AtomicUsize::new(1),
        receivers: AtomicUsize::new(1),
    });
    (
        Sender {
            shared: Arc::clone(&shared),
        },
        Receiver {
            shared,
            slot: None,
            terminated: false,
        },
    )
}

/// A channel that holds at most `capacity` values: senders wait while it
/// is full.
///
/// Both handles can be cloned (any number of senders and receivers); each
/// value goes to exactly one receiver. The channel closes when every
/// [`Sender`] or every [`Receiver`] is dropped, or on
/// [`close`](Sender::close); receivers then drain what is left.
///
/// # Panics
/// If `capacity` is zero (use [`unbounded`] for a channel without a limit).
///
/// # Examples
///
/// ```
/// # futures_executor::block_on(async {
/// use anysync::channel;
///
/// let (tx, rx) = channel::bounded(2);
/// tx.send("hello").await.unwrap();
/// drop(tx); // the last sender: the channel closes, values remain
/// assert_eq!(rx.recv().await, Ok("hello"));
/// assert!(rx.recv().await.is_err());
/// # });
/// ```
#[track_caller]
pub fn bounded<T>(capacity: usize) -> (Sender<T>, Receiver<T>) {
    assert!(
        capacity > 0,
        "channel::bounded: `capacity` must be greater than zero (use channel::unbounded() for a channel without a limit)"
    );
    let buf = FifoBuf(VecDeque::with_capacity(capacity.min(PREALLOCATE)));
    new_channel(Chan::new(buf, Some(capacity), false))
}

/// A channel with no limit: [`Sender::send`] never waits.
///
/// Otherwise as [`bounded`].
///
/// # Examples
///
/// ```
/// use anysync::channel;
///
/// let (tx, rx) = channel::unbounded();
/// for i in 0..1000 {
///     tx.try_send(i).unwrap();
/// }
/// assert_eq!(rx.len(), 1000);
/// ```
pub fn unbounded<T>() -> (Sender<T>, Receiver<T>) {
    new_channel(Chan::new(FifoBuf(VecDeque::new()), None, false))
}

/// The sending half of a [`bounded`] or [`unbounded`] channel.
///
/// Clone it for more senders. The channel closes when the last sender is
/// dropped. For a [`Sink`](futures_sink::Sink), use
/// [`into_sink`](Self::into_sink).
pub struct Sender<T> {
    shared: Arc<Shared<T>>,
}

/// The receiving half of a [`bounded`] or [`unbounded`] channel.
///
/// Clone it for more receivers (each value goes to one of them). The
/// channel closes when the last receiver is dropped. It is a
/// [`Stream`] of the values, ending when the channel is closed and empty.
pub struct Receiver<T> {
    shared: Arc<Shared<T>>,
    /// The waiter `poll_next` uses, boxed once, on first need.
    slot: Option<Pin<Box<RecvSlot<ChanRef<T>>>>>,
    terminated: bool,
}

/// A [`Sink`](futures_sink::Sink) that sends into a channel: made by
/// [`Sender::into_sink`].
///
/// `start_send` sends at once if there is room; otherwise it keeps the one
/// value and `poll_ready`/`poll_flush` wait until it is in the channel. An
/// error hands the value back. `poll_close` flushes and then drops the
/// sender (which closes the channel if it was the last one). Dropping the
/// sink drops a value it still holds.
pub struct SendSink<T> {
    sender: Option<Sender<T>>,
    /// The waiter and the pending value, boxed once, on first need.
    slot: Option<Pin<Box<SinkSlot<T>>>>,
}

macro_rules! common_methods {
    () => {
        /// Closes the channel: sends fail from now on (waiting senders get
        /// their values back) and receivers drain what is left, then fail.
        /// Idempotent and permanent. Returns `true` if this call closed it.
        ///
        /// # Examples
        /// ```
        /// use anysync::channel;
        ///
        /// let (tx, rx) = channel::bounded::<u8>(1);
        /// assert!(rx.close());
        /// assert!(tx.is_closed());
        /// ```
        pub fn close(&self) -> bool {
            self.shared.chan.close()
        }

        /// `true` once the channel is closed.
        pub fn is_closed(&self) -> bool {
            self.shared.chan.mode() != Mode::Open
        }

        /// The number of values in the channel now.
        pub fn len(&self) -> usize {
            self.shared.chan.len()
        }

        /// `true` if the channel holds no values now.
        pub fn is_empty(&self) -> bool {
            self.len() == 0
        }

        /// `true` if a `send` would wait now: every slot holds a value or is
        /// promised to a waiting sender. Never `true` when unbounded.
        pub fn is_full(&self) -> bool {
            self.shared.chan.is_full()
        }

        /// The most values the channel holds, or `None` if unbounded.
        pub fn capacity(&self) -> Option<usize> {
            self.shared.chan.capacity()
        }

        /// The number of [`Sender`]s alive.
        pub fn sender_count(&self) -> usize {
            self.shared.senders.load(Ordering::Acquire)
        }

        /// The number of [`Receiver`]s alive.
        pub fn receiver_count(&self) -> usize {
            self.shared.receivers.load(Ordering::Acquire)
        }

        /// The engine's counters, for tests.
        #[cfg(test)]
        pub(crate) fn stats(&self) -> crate::queue::engine::Stats {
            self.shared.chan.stats()
        }

        /// The number of tasks waiting in `send`.
        pub fn send_waiters(&self) -> usize {
            self.shared.chan.stats().send_waiters
        }

        /// The number of tasks waiting in `recv` (and receivers waiting as a
        /// stream).
        pub fn recv_waiters(&self) -> usize {
            self.shared.chan.stats().recv_waiters
        }
    };
}

impl<T> Sender<T> {
    /// Sends `value`, waiting for room while the channel is full.
    ///
    /// Waiting senders are served in arrival order: a slot freed by a
    /// receive is promised to the longest-waiting sender, and no later
    /// `send` or `try_send` can take it. The value stays in the future until
    /// it is moved into the channel.
    ///
    /// # Cancel safety
    /// This method is **not** cancel safe: dropping the future drops the
    /// value if it was not sent yet. Use [`cancel`](Send::cancel) on the
    /// pending future to get the value back, or
    /// [`try_send`](Self::try_send) in `select!`. Either way the future
    /// gives up its place in the queue, and a slot it had already been
    /// granted is passed to the next waiter.
    ///
    /// # Errors
    /// [`SendError`] holding the value if the channel is closed before the
    /// value could be sent.
    ///
    /// # Examples
    /// ```
    /// # futures_executor::block_on(async {
    /// use anysync::channel;
    ///
    /// let (tx, rx) = channel::bounded(1);
    /// tx.send(1).await.unwrap();
    /// drop(rx);
    /// assert_eq!(tx.send(2).await.unwrap_err().0, 2);
    /// # });
    /// ```
    pub fn send(&self, value: T) -> Send<'_, T> {
        Send::new(&self.shared.chan, value)
    }

    /// Sends `value` if there is room, without waiting.
    ///
    /// # Errors
    /// [`TrySendError::Full`] or [`TrySendError::Closed`], holding the value.
    ///
    /// # Examples
    /// ```
    /// use anysync::channel::{self, TrySendError};
    ///
    /// let (tx, _rx) = channel::bounded(1);
    /// tx.try_send(1).unwrap();
    /// assert_eq!(tx.try_send(2), Err(TrySendError::Full(2)));
    /// ```
    pub fn try_send(&self, value: T) -> Result<(), TrySendError<T>> {
        try_send(&self.shared.chan, value)
    }

    /// A [`Sink`](futures_sink::Sink) over this sender.
    ///
    /// # Examples
    /// ```
    /// # futures_executor::block_on(async {
    /// use anysync::channel;
    /// use futures_util::{SinkExt, StreamExt};
    ///
    /// let (tx, rx) = channel::bounded(1);
    /// let mut sink = tx.into_sink();
    /// let send_all = async {
    ///     sink.send_all(&mut futures_util::stream::iter([1, 2, 3]).map(Ok)).await.unwrap();
    ///     sink.close().await.unwrap(); // drops the last sender
    /// };
    /// let (_, got) = futures_util::future::join(send_all, rx.collect::<Vec<_>>()).await;
    /// assert_eq!(got, [1, 2, 3]);
    /// # });
    /// ```
    pub fn into_sink(self) -> SendSink<T> {
        SendSink {
            sender: Some(self),
            slot: None,
        }
    }

    /// `true` if both senders belong to the same channel.
    pub fn same_channel(&self, other: &Sender<T>) -> bool {
        Arc::ptr_eq(&self.shared, &other.shared)
    }

    common_methods!();
}

fn try_send<T>(chan: &Chan<FifoBuf<T>>, value: T) -> Result<(), TrySendError<T>> {
    chan.try_send(value).map_err(|e| match e {
        TrySend::Full(value) => TrySendError::Full(value),
        TrySend::Closed(value) => TrySendError::Closed(value),
    })
}

impl<T> Receiver<T> {
    /// Receives the next value, waiting while the channel is empty.
    ///
    /// Waiting receivers are served in arrival order: a value sent while
    /// receivers wait is promised to the longest-waiting one. A value leaves
    /// the channel only in the poll that returns it. After the channel is
    /// closed, receives return what is left, then fail.
    ///
    /// # Cancel safety
    /// This method is cancel safe. Dropping the future gives up its place in
    /// the queue; a wake-up it had already received is passed to the next
    /// waiter.
    ///
    /// # Errors
    /// [`RecvError`](super::RecvError) once the channel is closed and empty.
    ///
    /// # Examples
    /// ```
    /// # futures_executor::block_on(async {
    /// use anysync::channel;
    ///
    /// let (tx, rx) = channel::unbounded();
    /// tx.send(5).await.unwrap();
    /// assert_eq!(rx.recv().await, Ok(5));
    /// # });
    /// ```
    pub fn recv(&self) -> Recv<'_, T> {
        Recv::new(&self.shared.chan)
    }

    /// Receives a value if one is there, without waiting.
    ///
    /// # Errors
    /// [`TryRecvError::Empty`] or [`TryRecvError::Closed`] (closed and
    /// empty).
    ///
    /// # Examples
    /// ```
    /// use anysync::channel::{self, TryRecvError};
    ///
    /// let (tx, rx) = channel::bounded(1);
    /// assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    /// tx.try_send(1).unwrap();
    /// drop(tx);
    /// assert_eq!(rx.try_recv(), Ok(1));
    /// assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
    /// ```
    pub fn try_recv(&self) -> Result<T, TryRecvError> {
        self.shared.chan.try_recv().map_err(|e| match e {
            TryRecv::Empty => TryRecvError::Empty,
            TryRecv::Closed => TryRecvError::Closed,
        })
    }

    /// `true` if both receivers belong to the same channel.
    pub fn same_channel(&self, other: &Receiver<T>) -> bool {
        Arc::ptr_eq(&self.shared, &other.shared)
    }

    common_methods!();
}

crate::util::macros::cfg_feature! {
    #![feature = "std"]

    impl<T> Sender<T> {
        /// Blocks the current thread until `value` is sent.
        ///
        /// Meant for plain threads feeding async tasks; calling it from a
        /// task blocks that executor thread.
        ///
        /// # Errors
        /// As [`send`](Self::send).
        ///
        /// # Examples
        /// ```
        /// use anysync::channel;
        ///
        /// let (tx, rx) = channel::bounded(1);
        /// let t = std::thread::spawn(move || tx.send_blocking(9).unwrap());
        /// assert_eq!(rx.recv_blocking(), Ok(9));
        /// t.join().unwrap();
        /// ```
        pub fn send_blocking(&self, value: T) -> Result<(), SendError<T>> {
            crate::util::block_on::block_on(self.send(value))
        }
    }

    impl<T> Receiver<T> {
        /// Blocks the current thread until a value is received.
        ///
        /// # Errors
        /// As [`recv`](Self::recv).
        ///
        /// # Examples
        /// ```
        /// use anysync::channel;
        ///
        /// let (tx, rx) = channel::bounded::<u8>(1);
        /// drop(tx);
        /// assert!(rx.recv_blocking().is_err());
        /// ```
        pub fn recv_blocking(&self) -> Result<T, super::RecvError> {
            crate::util::block_on::block_on(self.recv())
        }
    }
}

impl<T> Clone for Sender<T> {
    fn clone(&self) -> Self {
        let old = self.shared.senders.fetch_add(1, Ordering::Relaxed);
        assert!(old < usize::MAX / 2, "channel::Sender: too many clones");
        Sender {
            shared: Arc::clone(&self.shared),
        }
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        if self.shared.senders.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.shared.chan.close();
        }
    }
}

impl<T> Clone for Receiver<T> {
    fn clone(&self) -> Self {
        let old = self.shared.receivers.fetch_add(1, Ordering::Relaxed);
        assert!(old < usize::MAX / 2, "channel::Receiver: too many clones");
        Receiver {
            shared: Arc::clone(&self.shared),
            slot: None,
            terminated: false,
        }
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        // Leave the wait list first, passing on an item we were promised.
        self.slot = None;
        if self.shared.receivers.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.shared.chan.close();
        }
    }
}

impl<T> Stream for Receiver<T> {
    type Item = T;

    /// Cancel safe like [`recv`](Receiver::recv): between polls the
    /// receiver keeps its place in the queue, and dropping the receiver
    /// passes on a value it had been promised.
    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        let this = self.get_mut();
        if this.terminated {
            return Poll::Ready(None);
        }
        let poll = match &mut this.slot {
            Some(slot) => slot.as_mut().poll_recv(cx),
            None => match this.shared.chan.try_recv() {
                Ok(value) => Poll::Ready(Some(value)),
                Err(TryRecv::Closed) => Poll::Ready(None),
                Err(TryRecv::Empty) => {
                    let chan = ChanRef(Arc::clone(&this.shared));
                    this.slot
                        .insert(Box::pin(RecvSlot::new(chan)))
                        .as_mut()
                        .poll_recv(cx)
                }
            },
        };
        if let Poll::Ready(None) = poll {
            this.terminated = true;
        }
        poll
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        if self.terminated {
            (0, Some(0))
        } else {
            (self.len(), None)
        }
    }
}

impl<T> FusedStream for Receiver<T> {
    fn is_terminated(&self) -> bool {
        self.terminated
    }
}

impl<T> SendSink<T> {
    /// Drives the pending value, if any, into the channel.
    fn poll_pending(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), SendError<T>>> {
        match (&self.sender, &mut self.slot) {
            (Some(_), Some(slot)) => slot.as_mut().poll_send(cx).map(|r| r.map_err(SendError)),
            _ => Poll::Ready(Ok(())),
        }
    }

    /// The sender, until the sink is closed.
    pub fn sender(&self) -> Option<&Sender<T>> {
        self.sender.as_ref()
    }
}

impl<T> futures_sink::Sink<T> for SendSink<T> {
    type Error = SendError<T>;

    fn poll_ready(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.get_mut().poll_pending(cx)
    }

    /// # Panics
    /// If a value is still pending (`poll_ready` did not return
    /// `Ready(Ok)` since the last `start_send`).
    fn start_send(self: Pin<&mut Self>, value: T) -> Result<(), Self::Error> {
        let this = self.get_mut();
        let Some(sender) = &this.sender else {
            return Err(SendError(value));
        };
        assert!(
            !this.slot.as_ref().is_some_and(|s| s.has_item()),
            "SendSink::start_send called without a successful poll_ready"
        );
        match sender.shared.chan.try_send(value) {
            Ok(()) => Ok(()),
            Err(TrySend::Closed(value)) => Err(SendError(value)),
            Err(TrySend::Full(value)) => {
                this.slot
                    .get_or_insert_with(|| {
                        Box::pin(SendSlot::new(ChanRef(Arc::clone(&sender.shared))))
                    })
                    .as_mut()
                    .set(value);
                Ok(())
            }
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.get_mut().poll_pending(cx)
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        let this = self.get_mut();
        let flushed = this.poll_pending(cx);
        if flushed.is_pending() {
            return Poll::Pending;
        }
        // Leave the wait list (none is joined after a flush), then let go
        // of the sender.
        this.slot = None;
        this.sender = None;
        flushed
    }
}

impl<T> Drop for SendSink<T> {
    fn drop(&mut self) {
        // Leave the wait list (passing on a granted slot) and drop a value
        // still held before the sender goes (which may close the channel).
        self.slot = None;
    }
}

impl<T> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sender")
            .field("chan", &self.shared.chan)
            .finish()
    }
}

impl<T> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Receiver")
            .field("chan", &self.shared.chan)
            .field("terminated", &self.terminated)
            .finish()
    }
}

impl<T> fmt::Debug for SendSink<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SendSink")
            .field("sender", &self.sender)
            .field("pending", &self.slot.as_ref().is_some_and(|s| s.has_item()))
            .finish()
    }
}

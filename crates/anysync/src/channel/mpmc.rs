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
    futures::{Closed, Recv, RecvMany, Reserve, ReserveMany, Send, SendTimeout},
    Permit, SendError, TryRecvError, TrySendError,
};
use crate::util::finally::both;
use crate::{
    chan::{
        slots::{RecvSlot, SendSlot},
        Chan, FifoBuf, Mode, TryRecv, TrySend,
    },
    loom::sync::{
        atomic::{AtomicUsize, Ordering},
        Arc,
    },
    rt::Timer,
    sync::Event,
};

#[cfg(all(test, feature = "std"))]
mod tests;

/// How much storage a bounded channel reserves up front (it grows as
/// needed up to its capacity).
const PREALLOCATE: usize = 1024;
// The `# Memory` section of `bounded` names both figures.
const _: () = assert!(PREALLOCATE == 1024 && Chan::<FifoBuf<u8>>::RING_MAX == 4096);

/// What every handle of one channel shares.
struct Shared<T> {
    chan: Chan<FifoBuf<T>>,
    senders: AtomicUsize,
    receivers: AtomicUsize,
    /// Set once the channel is closed, after the engine is: what
    /// [`Sender::closed`] waits on.
    closed: Event,
}

impl<T> Shared<T> {
    /// Closes the engine (sends fail, receivers drain) and wakes
    /// [`Sender::closed`]. Returns `true` if this call closed it.
    fn close(&self) -> bool {
        let mut first = false;
        // `closed` is set even if a waiter's wake panics in the close.
        both(|| first = self.chan.close(), || self.closed.set());
        first
    }

    /// `true` once the channel is closed.
    fn is_closed(&self) -> bool {
        self.chan.mode() != Mode::Open
    }

    fn sender_count(&self) -> usize {
        self.senders.load(Ordering::Acquire)
    }

    fn receiver_count(&self) -> usize {
        self.receivers.load(Ordering::Acquire)
    }

    fn statistics(&self) -> super::ChannelStatistics {
        let mut s = super::ChannelStatistics::from_stats(self.chan.stats());
        s.senders = Some(self.sender_count());
        s.receivers = Some(self.receiver_count());
        s
    }
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
        closed: Event::new(),
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
/// [`close`](Sender::close); receivers then drain what is left. When the
/// last receiver is dropped, the values still in the channel are dropped
/// with it (one by one, with no lock held), as tokio's `mpsc` does: a
/// value that carries a reply handle (a [`oneshot::Sender`](super::oneshot::Sender))
/// then tells its requester at once that nobody will answer.
///
/// # Memory
/// With the `std` feature on a 64-bit target, a capacity of at most 4,096
/// gets a lock-free ring whose `capacity` slots are allocated here, at
/// once: a send or a receive that need not wait then takes no lock while
/// nobody waits (a permit held, or a woken waiter that has not taken its
/// grant yet, only keeps newcomers off the slot or item set aside for it).
/// A larger capacity, a build without `std`, or a 32-bit target keeps a
/// buffer that starts at up to 1,024 slots and grows as needed, and takes
/// the lock on every operation.
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
    // With the engine's lock-free ring the items live there instead.
    let prealloc = if Chan::<FifoBuf<T>>::uses_ring(capacity) {
        0
    } else {
        capacity.min(PREALLOCATE)
    };
    let buf = FifoBuf(VecDeque::with_capacity(prealloc));
    new_channel(Chan::new_bounded(buf, capacity, false))
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
/// channel closes when the last receiver is dropped, and the values still
/// buffered are dropped then (each exactly once, with no lock held; a value
/// whose `Drop` panics does not keep the others from being dropped, and the
/// first such panic is raised from the receiver's drop afterwards unless the
/// thread is already unwinding). It is a [`Stream`] of the values, ending
/// when the channel is closed and empty.
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

impl<T> Sender<T> {
    /// Sends `value`, waiting for room while the channel is full.
    ///
    /// Waiting senders are served in arrival order: a slot freed by a
    /// receive is promised to the longest-waiting sender, and no later
    /// `send` or `try_send` can take it. The value stays in the future until
    /// it is moved into the channel.
    ///
    /// On a multi-threaded executor a poll can return `Pending` without
    /// waiting: another sender, running at that moment on another thread,
    /// claimed the slot this one was about to take. The future has then
    /// woken its own task, holds its value and no place in the queue, and
    /// tries again when polled, so that the worker thread runs another task
    /// meanwhile instead of pausing. [`try_send`](Self::try_send) never
    /// returns early for that reason.
    ///
    /// # Wakers
    /// The waker is cloned with no lock held when the wait starts, so a
    /// `Waker::clone` may call back into this channel. A waiting future polled
    /// again with a waker that wakes a different task clones that one under
    /// the channel's lock: such a clone must not call back into the channel
    /// (it would deadlock).
    ///
    /// # Cancel safety
    /// This method is **not** cancel safe: dropping the future drops the
    /// value if it was not sent yet. Use [`reserve`](Self::reserve) in
    /// `select!` and send on the [`Permit`] it gives (the cancel-safe way to
    /// send), or [`cancel`](Send::cancel) on the pending future to get the
    /// value back, or [`try_send`](Self::try_send). Either way the future
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

    /// Sends `value` without waiting, even if the channel is full: then
    /// the oldest value in the channel is taken out to make room, and
    /// returned (the receivers never see it). A value already promised to a
    /// woken receiver is never taken; with every value promised (or every
    /// free slot reserved by a [`Permit`] or a woken sender) it fails like
    /// [`try_send`](Self::try_send). Use it for "latest values win" queues.
    ///
    /// # Errors
    /// [`TrySendError::Full`] (nothing can be taken out, see above) or
    /// [`TrySendError::Closed`], holding the value.
    ///
    /// # Examples
    /// ```
    /// use anysync::channel;
    ///
    /// let (tx, rx) = channel::bounded(2);
    /// assert_eq!(tx.force_send(1), Ok(None));
    /// assert_eq!(tx.force_send(2), Ok(None));
    /// assert_eq!(tx.force_send(3), Ok(Some(1))); // the oldest made room
    /// assert_eq!(rx.try_recv(), Ok(2));
    /// assert_eq!(rx.try_recv(), Ok(3));
    /// ```
    pub fn force_send(&self, value: T) -> Result<Option<T>, TrySendError<T>> {
        self.shared.chan.force_send(value).map_err(|e| match e {
            TrySend::Full(value) => TrySendError::Full(value),
            TrySend::Closed(value) => TrySendError::Closed(value),
        })
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

    /// Waits for room for one value and reserves it: the returned
    /// [`Permit`] sends without waiting, and gives the slot back if it is
    /// dropped unused.
    ///
    /// This is the cancel-safe way to send: reserve in `select!` and send
    /// on the permit once the reserve won, so no value is ever held by a
    /// future that may be dropped. Reserving waits in line with
    /// [`send`](Self::send): first come, first served.
    ///
    /// # Wakers
    /// The waker is cloned with no lock held when the wait starts, so a
    /// `Waker::clone` may call back into this channel. A waiting future polled
    /// again with a waker that wakes a different task clones that one under
    /// the channel's lock: such a clone must not call back into the channel
    /// (it would deadlock).
    ///
    /// # Cancel safety
    /// This method is cancel safe. Dropping the future gives up its place in
    /// the queue; a wake-up it had already received is passed to the next
    /// waiter.
    ///
    /// # Errors
    /// [`SendError`]`(())` if the channel is closed.
    ///
    /// # Examples
    /// ```
    /// # futures_executor::block_on(async {
    /// use anysync::channel;
    ///
    /// let (tx, rx) = channel::bounded(1);
    /// let permit = tx.reserve().await.unwrap();
    /// permit.send("hi").unwrap();
    /// assert_eq!(rx.recv().await, Ok("hi"));
    /// # });
    /// ```
    pub fn reserve(&self) -> Reserve<'_, T> {
        Reserve::new(&self.shared.chan)
    }

    /// Waits for room for `n` values and reserves all of them at once:
    /// the returned [`Permits`](super::Permits) send without waiting, and give back the
    /// slots not used when dropped. While it waits at the head of the
    /// line, freed slots are set aside for it until it has `n`; senders
    /// behind it wait (no one overtakes it). `n == 0` completes at once.
    ///
    /// # Wakers
    /// The waker is cloned with no lock held when the wait starts, so a
    /// `Waker::clone` may call back into this channel. A waiting future polled
    /// again with a waker that wakes a different task clones that one under
    /// the channel's lock: such a clone must not call back into the channel
    /// (it would deadlock).
    ///
    /// # Cancel safety
    /// This method is cancel safe. Dropping the future gives up its place in
    /// the queue; a wake-up it had already received is passed to the next
    /// waiter.
    ///
    /// # Errors
    /// [`SendError`]`(())` if the channel is closed.
    ///
    /// # Panics
    /// If `n` is more than the channel's [`capacity`](Self::capacity): it
    /// could never be reserved. On a bounded channel, also if `n` is more
    /// than `u32::MAX` (a waiting sender counts its slots in 32 bits, which
    /// keeps every send future a word smaller).
    ///
    /// # Examples
    /// ```
    /// # futures_executor::block_on(async {
    /// use anysync::channel;
    ///
    /// let (tx, rx) = channel::bounded(3);
    /// let mut permits = tx.reserve_many(3).await.unwrap();
    /// for (permit, v) in permits.by_ref().zip([1, 2]) {
    ///     permit.send(v).unwrap();
    /// }
    /// drop(permits); // the third slot goes back
    /// assert_eq!(rx.len(), 2);
    /// assert!(tx.try_send(3).is_ok());
    /// # });
    /// ```
    #[track_caller]
    pub fn reserve_many(&self, n: usize) -> ReserveMany<'_, T> {
        if let Some(cap) = self.capacity() {
            assert!(
                n <= cap,
                "Sender::reserve_many: `n` ({n}) is more than the capacity ({cap})"
            );
            assert!(
                u32::try_from(n).is_ok(),
                "Sender::reserve_many: `n` ({n}) is more than u32::MAX"
            );
        }
        ReserveMany::new(&self.shared.chan, n)
    }

    /// Reserves room for one value if there is some now, without waiting.
    ///
    /// # Errors
    /// [`TrySendError::Full`] or [`TrySendError::Closed`] (holding `()`).
    ///
    /// # Examples
    /// ```
    /// use anysync::channel;
    ///
    /// let (tx, rx) = channel::bounded(1);
    /// let permit = tx.try_reserve().unwrap();
    /// assert!(tx.try_reserve().unwrap_err().is_full());
    /// permit.send(5).unwrap();
    /// assert_eq!(rx.try_recv(), Ok(5));
    /// ```
    pub fn try_reserve(&self) -> Result<Permit<'_, T>, TrySendError<()>> {
        match self.shared.chan.try_reserve(1) {
            Ok(()) => Ok(Permit::new(&self.shared.chan)),
            Err(TrySend::Full(())) => Err(TrySendError::Full(())),
            Err(TrySend::Closed(())) => Err(TrySendError::Closed(())),
        }
    }

    /// Sends `value`, waiting for room at most `duration` on `timer`'s
    /// clock (any [`Timer`]: a compat crate's runtime, or the virtual
    /// clock in tests).
    ///
    /// The send is tried before the timer is looked at, so a send that
    /// can complete at once wins even with `Duration::ZERO`. When the time
    /// runs out, the send leaves the queue (a slot it had been granted
    /// goes to the next sender) and the value comes back in the error.
    ///
    /// # Wakers
    /// The waker is cloned with no lock held when the wait starts, so a
    /// `Waker::clone` may call back into this channel. A waiting future polled
    /// again with a waker that wakes a different task clones that one under
    /// the channel's lock: such a clone must not call back into the channel
    /// (it would deadlock).
    ///
    /// # Cancel safety
    /// This method is **not** cancel safe: dropping the future drops the
    /// value if it was not sent yet. Use [`reserve`](Self::reserve) in
    /// `select!`, then send on the permit.
    ///
    /// # Errors
    /// [`SendTimeoutError::Timeout`](super::SendTimeoutError::Timeout) or
    /// [`SendTimeoutError::Closed`](super::SendTimeoutError::Closed),
    /// holding the value.
    ///
    /// # Examples
    /// ```
    /// use std::time::Duration;
    /// use anysync::{channel, rt::virtual_time::VirtualTime};
    ///
    /// VirtualTime::new().block_on(|rt| async move {
    ///     let (tx, _rx) = channel::bounded(1);
    ///     tx.send(1).await.unwrap();
    ///     let err = tx.send_timeout(2, Duration::from_secs(1), &rt).await.unwrap_err();
    ///     assert!(err.is_timeout());
    ///     assert_eq!(err.into_inner(), 2);
    /// });
    /// ```
    pub fn send_timeout<Tm: Timer>(
        &self,
        value: T,
        duration: core::time::Duration,
        timer: &Tm,
    ) -> SendTimeout<'_, T, Tm::Sleep> {
        SendTimeout::new(self.send(value), timer.sleep(duration))
    }

    /// Waits until the channel is closed: every [`Receiver`] is gone, or
    /// someone called [`close`](Self::close). Use it to stop producing
    /// values nobody will receive.
    ///
    /// # Cancel safety
    /// This method is cancel safe: dropping the future before it completes
    /// has no effect.
    ///
    /// # Examples
    /// ```
    /// # futures_executor::block_on(async {
    /// use anysync::channel;
    ///
    /// let (tx, rx) = channel::bounded::<u8>(1);
    /// drop(rx);
    /// tx.closed().await;
    /// # });
    /// ```
    pub fn closed(&self) -> Closed<'_> {
        Closed::new(&self.shared.closed)
    }

    /// A [`WeakSender`] for this channel: it does not keep the channel
    /// open, and [`upgrade`](WeakSender::upgrade)s to a `Sender` while
    /// some other sender still exists.
    ///
    /// # Examples
    /// ```
    /// use anysync::channel;
    ///
    /// let (tx, _rx) = channel::bounded::<u8>(1);
    /// let weak = tx.downgrade();
    /// assert!(weak.upgrade().is_some());
    /// drop(tx); // the last sender: the channel closes
    /// assert!(weak.upgrade().is_none());
    /// ```
    pub fn downgrade(&self) -> WeakSender<T> {
        WeakSender {
            shared: Arc::clone(&self.shared),
        }
    }

    /// Closes the channel: sends fail from now on (waiting senders get
    /// their values back) and receivers drain what is left, then fail.
    /// Idempotent and permanent. Returns `true` if this call closed it.
    ///
    /// # Examples
    /// ```
    /// use anysync::channel;
    ///
    /// let (tx, rx) = channel::bounded::<u8>(1);
    /// assert!(tx.close());
    /// assert!(rx.is_closed());
    /// ```
    pub fn close(&self) -> bool {
        self.shared.close()
    }

    /// `true` once the channel is closed.
    pub fn is_closed(&self) -> bool {
        self.shared.is_closed()
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
        self.shared.sender_count()
    }

    /// The number of [`Receiver`]s alive.
    pub fn receiver_count(&self) -> usize {
        self.shared.receiver_count()
    }

    /// The engine's counters, for tests.
    #[cfg(test)]
    pub(crate) fn stats(&self) -> crate::chan::Stats {
        self.shared.chan.stats()
    }

    /// The number of tasks waiting in `send` (and `reserve`).
    pub fn send_waiters(&self) -> usize {
        self.shared.chan.stats().send_waiters
    }

    /// The number of tasks waiting in `recv` (and receivers waiting as a
    /// stream).
    pub fn recv_waiters(&self) -> usize {
        self.shared.chan.stats().recv_waiters
    }

    /// A snapshot of the channel's counters, read together: what
    /// [`len`](Self::len), [`capacity`](Self::capacity),
    /// [`send_waiters`](Self::send_waiters), [`recv_waiters`](Self::recv_waiters),
    /// [`sender_count`](Self::sender_count), [`receiver_count`](Self::receiver_count)
    /// and [`is_closed`](Self::is_closed) return, plus the slots reserved
    /// by permits and woken senders.
    ///
    /// It takes the channel's lock and counts the waiters: meant for
    /// monitoring and tests, not for a hot path.
    ///
    /// # Examples
    /// ```
    /// # futures_executor::block_on(async {
    /// use anysync::channel;
    ///
    /// let (tx, _rx) = channel::bounded(4);
    /// tx.send(1).await.unwrap();
    /// let _permit = tx.reserve().await.unwrap();
    /// let s = tx.statistics();
    /// assert_eq!((s.len, s.capacity, s.reserved), (1, Some(4), 1));
    /// assert_eq!((s.senders, s.receivers, s.closed), (Some(1), Some(1), false));
    /// # });
    /// ```
    pub fn statistics(&self) -> super::ChannelStatistics {
        self.shared.statistics()
    }
}

/// A sender that does not keep the channel open: made by
/// [`Sender::downgrade`]. [`upgrade`](Self::upgrade) it to send.
///
/// Once the last [`Sender`] is dropped the channel is closed for good and
/// every upgrade fails, even if the receivers are still there. A weak
/// sender keeps the channel's memory (not its values' senders) alive.
pub struct WeakSender<T> {
    shared: Arc<Shared<T>>,
}

impl<T> WeakSender<T> {
    /// A [`Sender`], if one still exists (so the channel was not closed by
    /// the last sender going away).
    ///
    /// # Examples
    /// ```
    /// use anysync::channel;
    ///
    /// let (tx, rx) = channel::unbounded();
    /// let weak = tx.downgrade();
    /// weak.upgrade().unwrap().try_send(1).unwrap();
    /// assert_eq!(rx.try_recv(), Ok(1));
    /// ```
    pub fn upgrade(&self) -> Option<Sender<T>> {
        let mut n = self.shared.senders.load(Ordering::Relaxed);
        loop {
            if n == 0 {
                return None;
            }
            assert!(n < usize::MAX / 2, "channel::Sender: too many clones");
            match self.shared.senders.compare_exchange_weak(
                n,
                n + 1,
                Ordering::AcqRel,
                Ordering::Relaxed,
            ) {
                Ok(_) => {
                    return Some(Sender {
                        shared: Arc::clone(&self.shared),
                    })
                }
                Err(actual) => n = actual,
            }
        }
    }

    /// The number of [`Sender`]s alive.
    pub fn sender_count(&self) -> usize {
        self.shared.senders.load(Ordering::Acquire)
    }
}

impl<T> Clone for WeakSender<T> {
    fn clone(&self) -> Self {
        WeakSender {
            shared: Arc::clone(&self.shared),
        }
    }
}

impl<T> fmt::Debug for WeakSender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WeakSender")
            .field("senders", &self.sender_count())
            .finish()
    }
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
    /// As with [`Sender::send`], a poll can return `Pending` without
    /// waiting when another receiver, on another thread, claimed the value
    /// this one was about to take: the future has woken its own task, holds
    /// no place in the queue, and tries again when polled.
    ///
    /// # Wakers
    /// The waker is cloned with no lock held when the wait starts, so a
    /// `Waker::clone` may call back into this channel. A waiting future polled
    /// again with a waker that wakes a different task clones that one under
    /// the channel's lock: such a clone must not call back into the channel
    /// (it would deadlock).
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

    /// Receives up to `limit` values into `buf` (appended), waiting while
    /// the channel is empty, and returns how many were received. It waits
    /// for the first value like [`recv`](Self::recv), then takes what else
    /// is there at once, without waiting for more.
    ///
    /// Returns 0 at once if `limit` is 0, and 0 once the channel is closed
    /// and empty.
    ///
    /// # Wakers
    /// The waker is cloned with no lock held when the wait starts, so a
    /// `Waker::clone` may call back into this channel. A waiting future polled
    /// again with a waker that wakes a different task clones that one under
    /// the channel's lock: such a clone must not call back into the channel
    /// (it would deadlock).
    ///
    /// # Cancel safety
    /// This method is cancel safe. Dropping the future gives up its place in
    /// the queue; a wake-up it had already received is passed to the next
    /// waiter.
    ///
    /// # Examples
    /// ```
    /// # futures_executor::block_on(async {
    /// use anysync::channel;
    ///
    /// let (tx, rx) = channel::unbounded();
    /// for i in 0..5 {
    ///     tx.try_send(i).unwrap();
    /// }
    /// let mut buf = Vec::new();
    /// assert_eq!(rx.recv_many(&mut buf, 3).await, 3);
    /// assert_eq!(rx.recv_many(&mut buf, 3).await, 2);
    /// assert_eq!(buf, [0, 1, 2, 3, 4]);
    /// drop(tx);
    /// assert_eq!(rx.recv_many(&mut buf, 3).await, 0);
    /// # });
    /// ```
    pub fn recv_many<'a, 'b>(
        &'a self,
        buf: &'b mut alloc::vec::Vec<T>,
        limit: usize,
    ) -> RecvMany<'a, 'b, T> {
        RecvMany::new(&self.shared.chan, buf, limit)
    }

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
        self.shared.close()
    }

    /// `true` once the channel is closed.
    pub fn is_closed(&self) -> bool {
        self.shared.is_closed()
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
        self.shared.sender_count()
    }

    /// The number of [`Receiver`]s alive.
    pub fn receiver_count(&self) -> usize {
        self.shared.receiver_count()
    }

    /// The engine's counters, for tests.
    #[cfg(test)]
    pub(crate) fn stats(&self) -> crate::chan::Stats {
        self.shared.chan.stats()
    }

    /// The number of tasks waiting in `send` (and `reserve`).
    pub fn send_waiters(&self) -> usize {
        self.shared.chan.stats().send_waiters
    }

    /// The number of tasks waiting in `recv` (and receivers waiting as a
    /// stream).
    pub fn recv_waiters(&self) -> usize {
        self.shared.chan.stats().recv_waiters
    }

    /// A snapshot of the channel's counters, read together: what
    /// [`len`](Self::len), [`capacity`](Self::capacity),
    /// [`send_waiters`](Self::send_waiters), [`recv_waiters`](Self::recv_waiters),
    /// [`sender_count`](Self::sender_count), [`receiver_count`](Self::receiver_count)
    /// and [`is_closed`](Self::is_closed) return, plus the slots reserved
    /// by permits and woken senders.
    ///
    /// It takes the channel's lock and counts the waiters: meant for
    /// monitoring and tests, not for a hot path.
    ///
    /// # Examples
    /// ```
    /// # futures_executor::block_on(async {
    /// use anysync::channel;
    ///
    /// let (tx, rx) = channel::bounded(4);
    /// tx.send(1).await.unwrap();
    /// let _permit = tx.reserve().await.unwrap();
    /// let s = rx.statistics();
    /// assert_eq!((s.len, s.capacity, s.reserved), (1, Some(4), 1));
    /// assert_eq!((s.senders, s.receivers, s.closed), (Some(1), Some(1), false));
    /// # });
    /// ```
    pub fn statistics(&self) -> super::ChannelStatistics {
        self.shared.statistics()
    }
}

#[cfg(feature = "std")]
#[cfg_attr(docsrs, doc(cfg(feature = "std")))]
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

#[cfg(feature = "std")]
#[cfg_attr(docsrs, doc(cfg(feature = "std")))]
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
            self.shared.close();
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
            // Nobody can receive what is buffered: drop it now (outside the
            // lock, each value once, panic-safe), so that a value holding a
            // reply handle tells its requester at once.
            // Each step even if a wake (or an item's drop) panics in one
            // before it.
            let shared = &self.shared;
            both(
                || {
                    both(
                        || {
                            shared.chan.close_immediate();
                        },
                        || shared.closed.set(),
                    );
                },
                || {
                    shared.chan.drop_buffered();
                },
            );
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

// The boxed wait node inside (its cells are why the compiler cannot tell)
// is only changed under the channel's lock or through `&mut self`, by
// operations that finish before any user code runs: a panic caught around
// a use of these handles never leaves them half-changed, and nothing
// poisons. The same holds for every other handle, which gets this from its
// fields.
impl<T> core::panic::UnwindSafe for Receiver<T> {}
impl<T> core::panic::RefUnwindSafe for Receiver<T> {}
impl<T> core::panic::UnwindSafe for SendSink<T> {}
impl<T> core::panic::RefUnwindSafe for SendSink<T> {}

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

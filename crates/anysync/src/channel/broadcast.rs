//! A broadcast channel for an event bus: every subscriber gets every
//! message, in the same order, and each chooses what happens when it falls
//! behind.
//!
//! Each [`Receiver`] (a subscriber) has its own bounded queue and its own
//! [`Overflow`] policy, chosen when it subscribes with
//! [`Sender::subscribe_with`]:
//!
//! | policy                      | when this subscriber's queue is full, a new message…                               | the subscriber sees           |
//! |-----------------------------|------------------------------------------------------------------------------------|-------------------------------|
//! | [`Overflow::Block`]         | waits: publishers are held back until it makes room (backpressure)                 | every message                 |
//! | [`Overflow::DropOldest`]    | evicts the oldest queued message                                                   | [`RecvError::Lagged`]`(n)` before the oldest message it still has |
//! | [`Overflow::DropNewest`]    | is not queued for it                                                               | `Lagged(n)` where the gap is, after the messages it kept |
//! | [`Overflow::Disconnect`]    | disconnects it: it stops receiving                                                 | what it had queued, then [`RecvError::Disconnected`] |
//!
//! * **Every message, in order.** All subscribers see messages in one
//!   global order, and a subscriber never sees a gap without a `Lagged`
//!   report saying how many messages it missed there.
//! * **Late subscribers start at the tail**: a new subscriber gets only
//!   messages sent after it subscribed.
//! * **No subscribers**: [`Sender::send`] returns the message in
//!   [`SendError`].
//! * **Close**: when the last [`Sender`] is dropped, each subscriber still
//!   receives what it has queued, then [`RecvError::Closed`].
//! * **Publishing is all-or-nothing**: a message is queued for every
//!   connected subscriber at once (under one lock), or for none.
//!
//! Messages are shared between subscribers (one allocation per published
//! message, not one copy per subscriber); each receiver gets its own clone
//! when it receives, and the last one to receive a message gets the
//! original without cloning. Cloning happens with no lock held, on the
//! receiving task. Because several receivers may clone the same message at
//! once from different threads, the channel is `Send`/`Sync` only when `T`
//! is `Send + Sync` (the unsoundness of RUSTSEC-2025-0023 cannot happen).
//!
//! # Examples
//!
//! ```
//! # futures_executor::block_on(async {
//! use anysync::channel::broadcast::{self, Overflow, RecvError};
//!
//! let (tx, mut fast) = broadcast::channel(16);
//! let mut slow = tx.subscribe_with(2, Overflow::DropOldest);
//! for i in 0..4 {
//!     tx.send(i).await.unwrap();
//! }
//! for i in 0..4 {
//!     assert_eq!(fast.recv().await, Ok(i));
//! }
//! assert_eq!(slow.recv().await, Err(RecvError::Lagged(2)));
//! assert_eq!(slow.recv().await, Ok(2));
//! assert_eq!(slow.recv().await, Ok(3));
//! drop(tx);
//! assert_eq!(slow.recv().await, Err(RecvError::Closed));
//! # });
//! ```
//!
//! # Implementation notes
//!
//! One `WaitQueue` guards all the state: a slot per subscriber (its
//! `VecDeque` of shared messages, policy, lag counters and one waker,
//! since only one task at a time can receive on a `Receiver`), plus the
//! count of `Block` subscribers whose queue is full. Publishers that must
//! wait for them park in the queue with their message in the waiter node:
//! whoever makes room (a receive, or a subscriber leaving) publishes the
//! head waiter's message on its behalf, in arrival order, before anyone
//! else may publish. That hand-off keeps publishers fair, keeps the global
//! order, and makes cancellation exact: a message is in the node (never
//! published) or out of it (published to all).
//!
//! No user code runs under the lock: messages are cloned by receivers after
//! unlocking, evicted or unwanted messages are moved to a reused `trash`
//! vector and dropped after unlocking, and wakers are woken in batches
//! after unlocking.

use alloc::vec::Vec;
use core::{
    fmt,
    future::Future,
    pin::Pin,
    task::{Context, Poll, Waker},
};

use futures_core::{FusedFuture, FusedStream, Stream};
use pin_project_lite::pin_project;

use crate::{
    loom::sync::Arc,
    waitq::{Wait, WaitQueue},
};

mod engine;

use engine::{into_owned, take_next, unwrap_msg, Entry, Msg, SendPhase, Shared, State};

/// What a subscriber's queue does with a new message when it is full.
/// Chosen per subscriber, in [`Sender::subscribe_with`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Overflow {
    /// Hold publishers back until this subscriber makes room: every
    /// [`Sender::send`] waits, and [`Sender::try_send`] fails with
    /// [`TrySendError::Full`]. The subscriber never misses a message.
    ///
    /// A task that both publishes and receives as a `Block` subscriber can
    /// deadlock itself when its own queue is full.
    Block,
    /// Evict the oldest queued message to make room. The subscriber then
    /// receives [`RecvError::Lagged`]`(n)` (with `n` the number evicted)
    /// before the oldest message it still has. This is what tokio's
    /// broadcast channel does for everyone.
    DropOldest,
    /// Keep the queue as it is and do not queue the new message for this
    /// subscriber. It receives what it has queued, then
    /// [`RecvError::Lagged`]`(n)` for the `n` messages it missed there.
    DropNewest,
    /// Disconnect the subscriber: it gets no further messages. It receives
    /// what it has queued, then [`RecvError::Disconnected`] from then on.
    Disconnect,
}

/// A snapshot of a [`broadcast`](self) channel, from
/// [`Sender::statistics`] or [`Receiver::statistics`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct BroadcastStatistics {
    /// Messages queued for the subscriber that is furthest behind (as
    /// [`Sender::len`]).
    pub len: usize,
    /// Live [`Sender`]s; 0 means closed.
    pub senders: usize,
    /// Connected subscribers (not counting disconnected ones still
    /// draining their queue).
    pub receivers: usize,
    /// Publishers waiting in [`send`](Sender::send).
    pub send_waiters: usize,
    /// Subscribers with a task waiting in [`recv`](Receiver::recv) (or
    /// polling as a stream): those with a waker registered. A `recv`
    /// future dropped while it waited still counts until its subscriber
    /// receives or polls again.
    pub recv_waiters: usize,
    /// [`Overflow::Block`] subscribers whose queue is full: publishing
    /// waits while this is not 0.
    pub full_blocking_receivers: usize,
}

/// Why [`Receiver::recv`] returned no message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RecvError {
    /// This subscriber missed `n` messages here because its queue was full
    /// ([`Overflow::DropOldest`] or [`Overflow::DropNewest`]). The next
    /// receive returns the next message it has.
    Lagged(u64),
    /// Every [`Sender`] was dropped and this subscriber has received
    /// everything queued for it.
    Closed,
    /// This subscriber was disconnected for being too slow
    /// ([`Overflow::Disconnect`]) and has received everything queued for it
    /// before that. Subscribe again to receive new messages.
    Disconnected,
}

impl fmt::Display for RecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RecvError::Lagged(1) => f.write_str("the receiver fell behind and missed 1 message"),
            RecvError::Lagged(n) => write!(f, "the receiver fell behind and missed {n} messages"),
            RecvError::Closed => {
                f.write_str("the channel is closed and has no messages left for this receiver")
            }
            RecvError::Disconnected => f.write_str(
                "the receiver was disconnected for falling behind and has no messages left",
            ),
        }
    }
}

impl core::error::Error for RecvError {}

/// Why [`Receiver::try_recv`] returned no message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TryRecvError {
    /// Nothing queued right now.
    Empty,
    /// As [`RecvError::Lagged`].
    Lagged(u64),
    /// As [`RecvError::Closed`].
    Closed,
    /// As [`RecvError::Disconnected`].
    Disconnected,
}

impl fmt::Display for TryRecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TryRecvError::Empty => f.write_str("no message is queued for this receiver"),
            TryRecvError::Lagged(n) => RecvError::Lagged(*n).fmt(f),
            TryRecvError::Closed => RecvError::Closed.fmt(f),
            TryRecvError::Disconnected => RecvError::Disconnected.fmt(f),
        }
    }
}

impl core::error::Error for TryRecvError {}

/// The sending errors, shared with the other channels:
/// * [`SendError`]: [`Sender::send`] found no connected subscriber; it
///   holds the message.
/// * [`TrySendError`]: `Full` (a [`Overflow::Block`] subscriber's queue is
///   full, or other publishers are waiting and go first) or `Closed` (no
///   connected subscriber); both hold the message.
#[doc(no_inline)]
pub use super::{SendError, TrySendError};

/// Creates a broadcast channel with one subscriber whose queue holds
/// `capacity` messages and uses [`Overflow::DropOldest`]. `capacity` is
/// also what [`Sender::subscribe`] uses.
///
/// # Panics
/// If `capacity` is 0 or more than [`MAX_CAPACITY`].
///
/// # Examples
///
/// ```
/// # futures_executor::block_on(async {
/// let (tx, mut rx) = anysync::channel::broadcast::channel(8);
/// tx.send("hello").await.unwrap();
/// assert_eq!(rx.recv().await, Ok("hello"));
/// # });
/// ```
#[track_caller]
pub fn channel<T>(capacity: usize) -> (Sender<T>, Receiver<T>) {
    let tx = Sender::new(capacity);
    let rx = tx.subscribe();
    (tx, rx)
}

/// The largest queue capacity a subscriber can have: the most entries a
/// queue can hold in memory at all (`isize::MAX` bytes). Larger capacities
/// are rejected, since they could never be stored. A queue allocates only
/// what it holds (up to 1024 entries up front), so a large capacity costs
/// nothing until it is used.
pub const MAX_CAPACITY: usize = isize::MAX as usize / core::mem::size_of::<Entry<()>>();

#[track_caller]
fn check_capacity(capacity: usize) {
    assert!(capacity > 0, "broadcast: `capacity` must be at least 1");
    assert!(
        capacity <= MAX_CAPACITY,
        "broadcast: `capacity` ({capacity}) is more than MAX_CAPACITY ({MAX_CAPACITY})"
    );
}

/// The publishing half of a [`broadcast`](self) channel. Clone it to
/// publish from several tasks; the channel closes when the last one is
/// dropped.
pub struct Sender<T> {
    shared: Arc<Shared<T>>,
}

/// A subscriber of a [`broadcast`](self) channel, with its own bounded
/// queue and [`Overflow`] policy. It is also a [`Stream`] of
/// `Result<T, RecvError>` that ends at [`RecvError::Closed`] (and after
/// yielding [`RecvError::Disconnected`]).
///
/// Dropping it unsubscribes: its queued messages are dropped, and if it
/// was a full [`Overflow::Block`] subscriber, waiting publishers go on.
pub struct Receiver<T> {
    shared: Arc<Shared<T>>,
    idx: usize,
    /// As a stream: ended.
    ended: bool,
}

impl<T> Sender<T> {
    /// A sender with no subscribers yet. `capacity` is the queue size of
    /// subscribers made with [`subscribe`](Self::subscribe).
    ///
    /// # Panics
    /// If `capacity` is 0 or more than [`MAX_CAPACITY`].
    ///
    /// # Examples
    ///
    /// ```
    /// use anysync::channel::broadcast::{Overflow, Sender};
    ///
    /// let bus = Sender::<u32>::new(16);
    /// let audit = bus.subscribe_with(1024, Overflow::Block);
    /// let metrics = bus.subscribe_with(4, Overflow::DropOldest);
    /// assert_eq!(bus.receiver_count(), 2);
    /// # drop((audit, metrics));
    /// ```
    #[track_caller]
    pub fn new(capacity: usize) -> Sender<T> {
        check_capacity(capacity);
        Sender {
            shared: Arc::new(Shared {
                queue: WaitQueue::new(State {
                    subs: Vec::new(),
                    connected: 0,
                    full_blockers: 0,
                    senders: 1,
                    wakes_pending: false,
                    trash: Vec::new(),
                    default_capacity: capacity,
                    receivers_gone: false,
                }),
                no_receivers: crate::sync::Notify::new(),
            }),
        }
    }

    /// A new subscriber with the channel's default capacity and
    /// [`Overflow::DropOldest`]. It receives messages sent from now on.
    ///
    /// # Examples
    ///
    /// ```
    /// # futures_executor::block_on(async {
    /// let (tx, _rx) = anysync::channel::broadcast::channel(4);
    /// tx.send(1).await.unwrap();
    /// let mut late = tx.subscribe();
    /// tx.send(2).await.unwrap();
    /// assert_eq!(late.recv().await, Ok(2)); // starts at the tail
    /// # });
    /// ```
    pub fn subscribe(&self) -> Receiver<T> {
        let capacity = self.shared.queue.lock().state_ref().default_capacity;
        self.subscribe_with(capacity, Overflow::DropOldest)
    }

    /// A new subscriber with its own queue of `capacity` messages and its
    /// own `overflow` policy. It receives messages sent from now on.
    ///
    /// # Panics
    /// If `capacity` is 0 or more than [`MAX_CAPACITY`].
    ///
    /// # Examples
    ///
    /// ```
    /// # futures_executor::block_on(async {
    /// use anysync::channel::broadcast::{Overflow, RecvError, Sender};
    ///
    /// let tx = Sender::new(8);
    /// let mut rx = tx.subscribe_with(1, Overflow::Disconnect);
    /// tx.send(1).await.unwrap();
    /// tx.send(2).await.unwrap(); // rx is full: disconnected
    /// assert_eq!(rx.recv().await, Ok(1));
    /// assert_eq!(rx.recv().await, Err(RecvError::Disconnected));
    /// # });
    /// ```
    #[track_caller]
    pub fn subscribe_with(&self, capacity: usize, overflow: Overflow) -> Receiver<T> {
        check_capacity(capacity);
        subscribe(&self.shared, capacity, overflow)
    }

    /// Publishes `msg` to every connected subscriber.
    ///
    /// Completes at once unless an [`Overflow::Block`] subscriber's queue is
    /// full, or other publishers are already waiting; then it waits its
    /// turn (first come, first served) and is published by whoever makes
    /// room. Other subscribers' policies apply as the message is queued.
    ///
    /// # Wakers
    /// The waker is cloned with no lock held when the wait starts, so a
    /// `Waker::clone` may call back into this channel. A waiting future
    /// polled again with a waker that wakes a different task clones that one
    /// under the channel's lock: such a clone must not call back into the
    /// channel (it would deadlock).
    ///
    /// # Cancel safety
    /// This method is **not** cancel safe: dropping the future drops the
    /// message if it was not published yet. Use
    /// [`cancel`](futures::Send::cancel) on the pending future to get the
    /// message back, or [`try_send`](Self::try_send) in `select!`. A
    /// message is never published to only some subscribers.
    ///
    /// # Errors
    /// [`SendError`] with the message if no subscriber is connected when
    /// it would be published.
    ///
    /// # Examples
    ///
    /// ```
    /// # futures_executor::block_on(async {
    /// let (tx, rx) = anysync::channel::broadcast::channel(4);
    /// tx.send(1).await.unwrap();
    /// drop(rx);
    /// assert_eq!(tx.send(2).await.unwrap_err().0, 2);
    /// # });
    /// ```
    pub fn send(&self, msg: T) -> futures::Send<'_, T> {
        futures::Send {
            msg: Some(msg),
            phase: SendPhase::Init,
            wait: Wait::new(&*self.shared, None),
        }
    }

    /// Publishes `msg` if that needs no waiting.
    ///
    /// # Errors
    /// * [`TrySendError::Closed`] if no subscriber is connected.
    /// * [`TrySendError::Full`] if a [`Overflow::Block`] subscriber's
    ///   queue is full, or other publishers are waiting (they go first).
    ///
    /// # Examples
    ///
    /// ```
    /// use anysync::channel::broadcast::{Overflow, Sender, TrySendError};
    ///
    /// let tx = Sender::new(1);
    /// let _rx = tx.subscribe_with(1, Overflow::Block);
    /// tx.try_send(1).unwrap();
    /// assert!(matches!(tx.try_send(2), Err(TrySendError::Full(2))));
    /// ```
    pub fn try_send(&self, msg: T) -> Result<(), TrySendError<T>> {
        let msg = Msg::new(msg);
        let outcome = self.shared.locked(|queue| {
            let state = queue.state_ref();
            if state.connected == 0 {
                Err(Err(msg))
            } else if !queue.is_empty() || state.full_blockers > 0 {
                Err(Ok(msg))
            } else {
                queue.state().publish(msg);
                Ok(())
            }
        });
        outcome.map_err(|e| match e {
            Ok(full) => TrySendError::Full(unwrap_msg(full)),
            Err(closed) => TrySendError::Closed(unwrap_msg(closed)),
        })
    }

    /// The number of connected subscribers (not counting disconnected ones
    /// still draining their queue).
    pub fn receiver_count(&self) -> usize {
        self.shared.queue.lock().state_ref().connected
    }

    /// The number of publishers waiting in [`send`](Self::send).
    pub fn send_waiters(&self) -> usize {
        self.shared.queue.lock().len()
    }

    /// A snapshot of the channel's counters, read together under its lock.
    ///
    /// It takes the channel's lock and walks the subscribers: meant for
    /// monitoring and tests, not for a hot path.
    ///
    /// # Examples
    ///
    /// ```
    /// use anysync::channel::broadcast::{self, Overflow};
    ///
    /// let (tx, _rx) = broadcast::channel(4);
    /// let _slow = tx.subscribe_with(1, Overflow::Block);
    /// tx.try_send(1).unwrap(); // `_slow` is now full
    /// let s = tx.statistics();
    /// assert_eq!((s.len, s.senders, s.receivers), (1, 1, 2));
    /// assert_eq!((s.send_waiters, s.recv_waiters, s.full_blocking_receivers), (0, 0, 1));
    /// ```
    pub fn statistics(&self) -> BroadcastStatistics {
        self.shared.statistics()
    }

    /// `true` if both senders belong to the same channel.
    pub fn same_channel(&self, other: &Sender<T>) -> bool {
        Arc::ptr_eq(&self.shared, &other.shared)
    }

    /// The number of messages still queued for the subscriber that is
    /// furthest behind: how many published messages have not been received
    /// by everyone yet (exact when every subscriber uses
    /// [`Overflow::DropOldest`] or [`Overflow::Block`], whose queues all end
    /// at the newest message).
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, mut rx) = anysync::channel::broadcast::channel(4);
    /// let _rx2 = tx.subscribe();
    /// tx.try_send(1).unwrap();
    /// tx.try_send(2).unwrap();
    /// rx.try_recv().unwrap();
    /// assert_eq!(tx.len(), 2); // `_rx2` has received neither
    /// ```
    pub fn len(&self) -> usize {
        let queue = self.shared.queue.lock();
        let state = queue.state_ref();
        state
            .subs
            .iter()
            .flatten()
            .map(|sub| sub.buf.len())
            .max()
            .unwrap_or(0)
    }

    /// `true` if every subscriber has received every message queued for it.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, mut rx) = anysync::channel::broadcast::channel(4);
    /// assert!(tx.is_empty());
    /// tx.try_send(1).unwrap();
    /// assert!(!tx.is_empty());
    /// rx.try_recv().unwrap();
    /// assert!(tx.is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Waits until no subscriber is connected (every [`Receiver`] dropped
    /// or disconnected), so a [`send`](Self::send) would fail. Completes at
    /// once if there is none now. A later [`subscribe`](Self::subscribe)
    /// connects one again.
    ///
    /// # Cancel safety
    /// This method is cancel safe: dropping the future before it completes
    /// has no effect.
    ///
    /// # Examples
    ///
    /// ```
    /// # futures_executor::block_on(async {
    /// let (tx, rx) = anysync::channel::broadcast::channel::<u8>(4);
    /// drop(rx);
    /// tx.closed().await;
    /// # });
    /// ```
    pub fn closed(&self) -> futures::Closed<'_, T> {
        futures::Closed {
            shared: &self.shared,
            notified: self.shared.no_receivers.notified(),
            done: false,
        }
    }

    /// A [`WeakSender`] for this channel: it does not keep the channel
    /// open, and [`upgrade`](WeakSender::upgrade)s to a `Sender` while
    /// some other sender still exists.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, _rx) = anysync::channel::broadcast::channel::<u8>(4);
    /// let weak = tx.downgrade();
    /// assert!(weak.upgrade().is_some());
    /// drop(tx);
    /// assert!(weak.upgrade().is_none());
    /// ```
    pub fn downgrade(&self) -> WeakSender<T> {
        WeakSender {
            shared: Arc::clone(&self.shared),
        }
    }
}

/// A publisher that does not keep the channel open: made by
/// [`Sender::downgrade`]. [`upgrade`](Self::upgrade) it to publish.
///
/// Once the last [`Sender`] is dropped the channel is closed for good
/// (subscribers see [`RecvError::Closed`] after what they have queued) and
/// every upgrade fails.
pub struct WeakSender<T> {
    shared: Arc<Shared<T>>,
}

impl<T> WeakSender<T> {
    /// A [`Sender`], if one still exists.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, mut rx) = anysync::channel::broadcast::channel(4);
    /// let weak = tx.downgrade();
    /// weak.upgrade().unwrap().try_send(1).unwrap();
    /// assert_eq!(rx.try_recv(), Ok(1));
    /// ```
    pub fn upgrade(&self) -> Option<Sender<T>> {
        let mut queue = self.shared.queue.lock();
        let state = queue.state();
        if state.senders == 0 {
            return None;
        }
        state.senders += 1;
        drop(queue);
        Some(Sender {
            shared: Arc::clone(&self.shared),
        })
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
        let senders = self.shared.queue.lock().state_ref().senders;
        f.debug_struct("WeakSender")
            .field("senders", &senders)
            .finish()
    }
}

fn subscribe<T>(shared: &Arc<Shared<T>>, capacity: usize, overflow: Overflow) -> Receiver<T> {
    Receiver {
        idx: shared.add_subscriber(capacity, overflow),
        shared: Arc::clone(shared),
        ended: false,
    }
}

impl<T> Clone for Sender<T> {
    fn clone(&self) -> Self {
        self.shared.queue.lock().state().senders += 1;
        Sender {
            shared: Arc::clone(&self.shared),
        }
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        self.shared.locked(|queue| {
            let state = queue.state();
            state.senders -= 1;
            if state.senders == 0 {
                // Closed: every waiting subscriber must look again.
                let State {
                    subs,
                    wakes_pending,
                    ..
                } = state;
                for sub in subs.iter_mut().flatten() {
                    sub.mark_wake(wakes_pending);
                }
            }
        });
    }
}

impl<T> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let queue = self.shared.queue.lock();
        let state = queue.state_ref();
        f.debug_struct("Sender")
            .field("receivers", &state.connected)
            .field("full_blocking_receivers", &state.full_blockers)
            .field("send_waiters", &queue.len())
            .finish()
    }
}

impl<T> Receiver<T> {
    /// Receives the next message, or a report of what this subscriber
    /// missed, waiting if nothing is queued.
    ///
    /// # Cancel safety
    /// This method is cancel safe: dropping the future before it completes
    /// has no effect.
    ///
    /// # Errors
    /// * [`RecvError::Lagged`]`(n)`: `n` messages were dropped for this
    ///   subscriber here; the next call returns the next message.
    /// * [`RecvError::Closed`]: every sender is gone and everything queued
    ///   was received.
    /// * [`RecvError::Disconnected`]: this subscriber was disconnected for
    ///   being too slow and everything queued before that was received.
    ///
    /// # Examples
    ///
    /// ```
    /// # futures_executor::block_on(async {
    /// let (tx, mut rx) = anysync::channel::broadcast::channel(4);
    /// tx.send(String::from("event")).await.unwrap();
    /// drop(tx);
    /// assert_eq!(rx.recv().await.as_deref(), Ok("event"));
    /// assert!(rx.recv().await.is_err());
    /// # });
    /// ```
    pub fn recv(&mut self) -> futures::Recv<'_, T> {
        futures::Recv {
            rx: self,
            done: false,
        }
    }

    /// Receives the next message, or a report, if there is one.
    ///
    /// # Errors
    /// [`TryRecvError::Empty`] if nothing is queued and more may come;
    /// otherwise as [`recv`](Self::recv).
    ///
    /// # Examples
    ///
    /// ```
    /// use anysync::channel::broadcast::{self, TryRecvError};
    ///
    /// let (tx, mut rx) = broadcast::channel(4);
    /// assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    /// tx.try_send(1).unwrap();
    /// assert_eq!(rx.try_recv(), Ok(1));
    /// ```
    pub fn try_recv(&mut self) -> Result<T, TryRecvError>
    where
        T: Clone,
    {
        let idx = self.idx;
        match self.shared.locked(|queue| take_next(queue.state(), idx)) {
            Ok(Some(msg)) => Ok(into_owned(msg)),
            Ok(None) => Err(TryRecvError::Empty),
            Err(RecvError::Lagged(n)) => Err(TryRecvError::Lagged(n)),
            Err(RecvError::Closed) => Err(TryRecvError::Closed),
            Err(RecvError::Disconnected) => Err(TryRecvError::Disconnected),
        }
    }

    /// The poll behind [`recv`](Self::recv) and the `Stream` impl.
    ///
    /// A waker that has to be stored is cloned with no lock held (the lock
    /// is taken again afterwards), so that a `Waker::clone` that calls back
    /// into this channel cannot deadlock.
    fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Result<T, RecvError>>
    where
        T: Clone,
    {
        let idx = self.idx;
        let mut fresh: Option<Waker> = None;
        loop {
            let (outcome, old) = self.shared.locked(|queue| {
                let state = queue.state();
                match take_next(state, idx) {
                    Ok(None) => {
                        let sub = state.sub(idx);
                        match &sub.waker {
                            Some(w) if w.will_wake(cx.waker()) => (Some(None), None),
                            _ => match fresh.take() {
                                Some(w) => (Some(None), sub.waker.replace(w)),
                                // Nothing was taken: clone, then look again.
                                None => (None, None),
                            },
                        }
                    }
                    other => {
                        // Done waiting: forget the waker so nothing wakes it.
                        let sub = state.sub(idx);
                        sub.wake = false;
                        (Some(Some(other)), sub.waker.take())
                    }
                }
            });
            drop(old);
            match outcome {
                None => fresh = Some(cx.waker().clone()),
                Some(None) => return Poll::Pending,
                Some(Some(Ok(Some(msg)))) => return Poll::Ready(Ok(into_owned(msg))),
                Some(Some(Err(e))) => return Poll::Ready(Err(e)),
                Some(Some(Ok(None))) => unreachable!(),
            }
        }
    }

    /// The number of messages queued for this subscriber.
    pub fn len(&self) -> usize {
        let mut queue = self.shared.queue.lock();
        queue.state().sub(self.idx).buf.len()
    }

    /// `true` if no message is queued for this subscriber.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// This subscriber's queue capacity.
    pub fn capacity(&self) -> usize {
        let mut queue = self.shared.queue.lock();
        queue.state().sub(self.idx).capacity
    }

    /// This subscriber's overflow policy.
    pub fn overflow(&self) -> Overflow {
        let mut queue = self.shared.queue.lock();
        queue.state().sub(self.idx).overflow
    }

    /// A snapshot of the channel's counters, read together under its lock.
    ///
    /// It takes the channel's lock and walks the subscribers: meant for
    /// monitoring and tests, not for a hot path.
    ///
    /// # Examples
    ///
    /// ```
    /// use anysync::channel::broadcast::{self, Overflow};
    ///
    /// let (tx, rx) = broadcast::channel(4);
    /// let _slow = tx.subscribe_with(1, Overflow::Block);
    /// tx.try_send(1).unwrap(); // `_slow` is now full
    /// let s = rx.statistics();
    /// assert_eq!((s.len, s.senders, s.receivers), (1, 1, 2));
    /// assert_eq!((s.send_waiters, s.recv_waiters, s.full_blocking_receivers), (0, 0, 1));
    /// ```
    pub fn statistics(&self) -> BroadcastStatistics {
        self.shared.statistics()
    }

    /// `true` if this subscriber was disconnected for being too slow
    /// ([`Overflow::Disconnect`]); it may still have messages queued.
    pub fn is_disconnected(&self) -> bool {
        let mut queue = self.shared.queue.lock();
        queue.state().sub(self.idx).disconnected
    }

    /// A new subscriber to the same channel, with this one's capacity and
    /// policy, starting at the tail (it gets messages sent from now on).
    /// Use it to reconnect after [`RecvError::Disconnected`].
    ///
    /// # Examples
    ///
    /// ```
    /// # futures_executor::block_on(async {
    /// let (tx, rx) = anysync::channel::broadcast::channel(4);
    /// tx.send(1).await.unwrap();
    /// let mut rx2 = rx.resubscribe();
    /// tx.send(2).await.unwrap();
    /// assert_eq!(rx2.recv().await, Ok(2));
    /// # });
    /// ```
    pub fn resubscribe(&self) -> Receiver<T> {
        let (capacity, overflow) = {
            let mut queue = self.shared.queue.lock();
            let sub = queue.state().sub(self.idx);
            (sub.capacity, sub.overflow)
        };
        subscribe(&self.shared, capacity, overflow)
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        let idx = self.idx;
        let sub = self.shared.locked(|queue| {
            let state = queue.state();
            let sub = state.subs[idx]
                .take()
                .expect("anysync bug: receiver slot is empty");
            if !sub.disconnected {
                state.connected -= 1;
                state.receivers_gone |= state.connected == 0;
            }
            if sub.overflow == Overflow::Block && sub.is_full() {
                state.full_blockers -= 1;
            }
            sub
        });
        // Its queued messages (user `Drop`s) and waker, with no lock held.
        drop(sub);
    }
}

impl<T: Clone> Stream for Receiver<T> {
    type Item = Result<T, RecvError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        if this.ended {
            return Poll::Ready(None);
        }
        match this.poll_recv(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(Err(RecvError::Closed)) => {
                this.ended = true;
                Poll::Ready(None)
            }
            Poll::Ready(Err(RecvError::Disconnected)) => {
                this.ended = true;
                Poll::Ready(Some(Err(RecvError::Disconnected)))
            }
            Poll::Ready(other) => Poll::Ready(Some(other)),
        }
    }
}

impl<T: Clone> FusedStream for Receiver<T> {
    fn is_terminated(&self) -> bool {
        self.ended
    }
}

impl<T> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut queue = self.shared.queue.lock();
        let sub = queue.state().sub(self.idx);
        f.debug_struct("Receiver")
            .field("queued", &sub.buf.len())
            .field("capacity", &sub.capacity)
            .field("overflow", &sub.overflow)
            .field("disconnected", &sub.disconnected)
            .finish()
    }
}

#[cfg(feature = "std")]
#[cfg_attr(docsrs, doc(cfg(feature = "std")))]
impl<T> Sender<T> {
    /// Blocks the current thread until `msg` is published, like
    /// [`send`](Self::send).
    ///
    /// Meant for plain threads; calling it from a task blocks that
    /// executor thread.
    ///
    /// # Errors
    /// As [`send`](Self::send).
    pub fn send_blocking(&self, msg: T) -> Result<(), SendError<T>> {
        crate::util::block_on::block_on(self.send(msg))
    }
}

#[cfg(feature = "std")]
#[cfg_attr(docsrs, doc(cfg(feature = "std")))]
impl<T: Clone> Receiver<T> {
    /// Blocks the current thread until a message (or a report)
    /// arrives, like [`recv`](Self::recv).
    ///
    /// Meant for plain threads; calling it from a task blocks that
    /// executor thread.
    ///
    /// # Errors
    /// As [`recv`](Self::recv).
    pub fn recv_blocking(&mut self) -> Result<T, RecvError> {
        crate::util::block_on::block_on(self.recv())
    }
}

/// The named futures returned by this module's methods.
pub mod futures {
    use super::*;

    pin_project!(
        /// Future returned by [`Sender::send`].
        #[must_use = "futures do nothing unless you `.await` or poll them"]
        pub struct Send<'a, T> {
            pub(super) msg: Option<T>,
            pub(super) phase: SendPhase,
            // Dropping it leaves the queue; an unpublished message in it is
            // dropped with no lock held.
            #[pin]
            pub(super) wait: Wait<&'a Shared<T>>,
        }
    );

    impl<T> Send<'_, T> {
        /// Withdraws the message: returns it if it has not been published
        /// yet (it never will be), or `None` if it already was (or this
        /// future completed). The future is finished afterwards.
        ///
        /// Use it to stop waiting for a full [`Overflow::Block`]
        /// subscriber without losing the message, e.g. in `select!`.
        ///
        /// # Examples
        ///
        /// ```
        /// use anysync::channel::broadcast::{Overflow, Sender};
        /// use futures_util::FutureExt;
        ///
        /// let tx = Sender::new(1);
        /// let _rx = tx.subscribe_with(1, Overflow::Block);
        /// tx.try_send(1).unwrap(); // the subscriber is now full
        /// let mut send = std::pin::pin!(tx.send(2));
        /// assert!(send.as_mut().now_or_never().is_none()); // waits
        /// assert_eq!(send.cancel(), Some(2)); // not published; here it is
        /// ```
        pub fn cancel(self: Pin<&mut Self>) -> Option<T> {
            let this = self.project();
            let phase = core::mem::replace(this.phase, SendPhase::Done);
            match phase {
                SendPhase::Init => this.msg.take(),
                SendPhase::Queued => {
                    let (shared, mut node) = this.wait.split();
                    shared.withdraw(&mut node)
                }
                SendPhase::Done => None,
            }
        }
    }

    impl<T> Future for Send<'_, T> {
        type Output = Result<(), SendError<T>>;

        fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
            let this = self.project();
            let (shared, mut node) = this.wait.split();
            shared.poll_send(this.msg, this.phase, &mut node, cx)
        }
    }

    impl<T> FusedFuture for Send<'_, T> {
        fn is_terminated(&self) -> bool {
            self.phase == SendPhase::Done
        }
    }

    impl<T> fmt::Debug for Send<'_, T> {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.debug_struct("Send").field("phase", &self.phase).finish()
        }
    }

    pin_project!(
        /// Future returned by [`Sender::closed`].
        #[must_use = "futures do nothing unless you `.await` or poll them"]
        pub struct Closed<'a, T> {
            pub(super) shared: &'a Shared<T>,
            // Made before the first look at the count, so that the last
            // subscriber leaving after that look still wakes it.
            #[pin]
            pub(super) notified: crate::sync::futures::Notified<'a>,
            pub(super) done: bool,
        }
    );

    impl<T> Future for Closed<'_, T> {
        type Output = ();

        /// # Panics
        /// If polled again after it completed.
        fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
            let mut this = self.project();
            assert!(!*this.done, "`Closed` polled after completion");
            loop {
                if this.shared.queue.lock().state_ref().connected == 0 {
                    // The last receiver's notification may have woken this
                    // future already: consumed lock-free, so the drop has
                    // nothing to unlink.
                    this.notified.as_mut().finish_if_woken();
                    *this.done = true;
                    return Poll::Ready(());
                }
                match this.notified.as_mut().poll(cx) {
                    Poll::Pending => return Poll::Pending,
                    // Someone left, perhaps not the last: look again, with
                    // a fresh notification armed first.
                    Poll::Ready(()) => this.notified.set(this.shared.no_receivers.notified()),
                }
            }
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

    /// Future returned by [`Receiver::recv`].
    #[must_use = "futures do nothing unless you `.await` or poll them"]
    pub struct Recv<'a, T> {
        pub(super) rx: &'a mut Receiver<T>,
        pub(super) done: bool,
    }

    impl<T: Clone> Future for Recv<'_, T> {
        type Output = Result<T, RecvError>;

        fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
            assert!(!self.done, "`Recv` polled after completion");
            let poll = self.rx.poll_recv(cx);
            self.done = poll.is_ready();
            poll
        }
    }

    impl<T: Clone> FusedFuture for Recv<'_, T> {
        fn is_terminated(&self) -> bool {
            self.done
        }
    }

    impl<T> fmt::Debug for Recv<'_, T> {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.debug_struct("Recv").field("done", &self.done).finish()
        }
    }
}

#[cfg(test)]
mod tests;

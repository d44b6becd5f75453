//! `Queue`, `LifoQueue` and `PriorityQueue`: one engine, three orders.

use core::{
    fmt,
    future::Future,
    pin::Pin,
    task::{Context, Poll},
};

use futures_core::FusedFuture;
use pin_project_lite::pin_project;

use super::{
    item::{GetTracked, QueueItem},
    Fifo, Lifo, Order, Priority, PutError, ShutDown, TaskDoneError, TryGetError, TryPutError,
};
use crate::util::finally::both;
use crate::{
    chan::{Chan, FifoBuf, RecvFut, SendFut, TryRecv, TrySend},
    sync::{futures::Notified, Notify},
};

/// How much storage a bounded queue reserves up front (it grows as needed
/// up to its capacity).
const PREALLOCATE: usize = 1024;
// The `# Memory` section of `Queue::bounded` names both figures.
const _: () = assert!(PREALLOCATE == 1024 && Chan::<FifoBuf<u8>>::RING_MAX == 4096);

/// What the three queue types share: the engine plus the `join` signal.
pub(crate) struct Core<T, O: Order<T>> {
    chan: Chan<O::Buf>,
    /// Notified (all) when nothing is buffered or in flight.
    done: Notify,
}

impl<T, O: Order<T>> Core<T, O> {
    #[track_caller]
    fn bounded(capacity: usize, name: &'static str) -> Self {
        if capacity == 0 {
            panic!("{name}::bounded: `capacity` must be greater than zero (use {name}::unbounded() for a queue without a limit)");
        }
        // A FIFO queue of a ring's size keeps its items in the ring's
        // slots (allocated by the engine); the buffer then stays empty.
        let buf = if Chan::<O::Buf>::uses_ring(capacity) {
            O::with_capacity(0)
        } else {
            O::with_capacity(capacity.min(PREALLOCATE))
        };
        Self {
            chan: Chan::new_bounded(buf, capacity, true),
            done: Notify::new(),
        }
    }

    fn unbounded() -> Self {
        Self {
            chan: Chan::new(O::with_capacity(0), None, true),
            done: Notify::new(),
        }
    }

    fn try_put(&self, item: T) -> Result<(), TryPutError<T>> {
        self.chan.try_send(item).map_err(|e| match e {
            TrySend::Full(item) => TryPutError::Full(item),
            TrySend::Closed(item) => TryPutError::ShutDown(item),
        })
    }

    fn try_get(&self) -> Result<T, TryGetError> {
        self.chan.try_recv().map_err(|e| match e {
            TryRecv::Empty => TryGetError::Empty,
            TryRecv::Closed => TryGetError::ShutDown,
        })
    }

    pub(super) fn task_done(&self) -> Result<(), TaskDoneError> {
        match self.chan.task_done() {
            Ok(true) => {
                self.done.notify_all();
                Ok(())
            }
            Ok(false) => Ok(()),
            Err(()) => Err(TaskDoneError),
        }
    }

    fn shutdown_immediate(&self) {
        // `join` is released even if a wake or an item's drop panics.
        both(
            || {
                self.chan.shutdown_immediate();
            },
            || {
                if self.chan.unfinished() == 0 {
                    self.done.notify_all();
                }
            },
        );
    }

    fn capacity(&self) -> Option<usize> {
        self.chan.capacity()
    }
}

impl<T, O: Order<T>> fmt::Debug for Core<T, O> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.chan.stats();
        let mut d = f.debug_struct("Queue");
        d.field("len", &s.len);
        match s.cap {
            None => d.field("capacity", &format_args!("unbounded")),
            Some(cap) => d.field("capacity", &cap),
        };
        d.field("unfinished_tasks", &(s.len + s.in_flight))
            .field("shut_down", &(s.mode != crate::chan::Mode::Open))
            .field("put_waiters", &s.send_waiters)
            .field("get_waiters", &s.recv_waiters)
            .finish()
    }
}

/// A first-in, first-out async queue: asyncio's `Queue`.
///
/// Shared by reference like asyncio's (wrap it in an `Arc` to share it
/// between tasks). See the [module docs](crate::queue) for the
/// guarantees all three queue types give.
///
/// * [`put`](Queue::put) / [`get`](Queue::get) wait for room / for an
///   item, fairly (arrival order); a dropped `get` loses nothing, a
///   pending `put` gives its item back with
///   [`cancel`](super::futures::Put::cancel);
///   [`try_put`](Queue::try_put) / [`try_get`](Queue::try_get) do not
///   wait.
/// * [`task_done`](Queue::task_done) / [`join`](Queue::join) track when
///   every item has been processed.
/// * [`shutdown`](Queue::shutdown) stops puts and lets gets drain;
///   [`shutdown_immediate`](Queue::shutdown_immediate) also drops what is
///   left.
///
/// # Examples
///
/// Producer and consumers with completion tracking:
///
/// ```
/// # futures_executor::block_on(async {
/// use anysync::queue::Queue;
/// use futures_util::future::join;
///
/// let q = Queue::bounded(2);
/// let producer = async {
///     for i in 0..5 {
///         q.put(i).await.unwrap(); // waits while 2 are queued
///     }
///     q.join().await; // every item processed
///     q.shutdown();
/// };
/// let consumer = async {
///     let mut sum = 0;
///     while let Ok(i) = q.get().await {
///         sum += i;
///         q.task_done().unwrap();
///     }
///     sum
/// };
/// let ((), sum) = join(producer, consumer).await;
/// assert_eq!(sum, 10);
/// # });
/// ```
///
/// # Implementation notes
///
/// A buffer (`VecDeque`) behind the wait queue's short lock, with
/// putters and getters on two intrusive wait lists. Waking grants: a
/// freed slot is reserved for the woken putter, a new item for the
/// woken getter; a woken waiter that is dropped passes its grant on.
/// The same engine runs [`channel`](crate::channel).
pub type Queue<T> = GenericQueue<T, Fifo>;

/// A last-in, first-out async queue (a stack): asyncio's `LifoQueue`.
///
/// The same API and guarantees as [`Queue`]; only the order differs:
/// [`get`](LifoQueue::get) returns the most recently put item.
///
/// # Examples
///
/// ```
/// use anysync::queue::LifoQueue;
///
/// let q = LifoQueue::bounded(3);
/// for i in 1..=3 {
///     q.try_put(i).unwrap();
/// }
/// assert_eq!(q.try_get(), Ok(3));
/// ```
pub type LifoQueue<T> = GenericQueue<T, Lifo>;

/// An async priority queue, smallest item first: asyncio's
/// `PriorityQueue` (a `heapq` min-heap).
///
/// The same API and guarantees as [`Queue`]; only the order differs:
/// [`get`](PriorityQueue::get) returns the smallest item by `Ord`. Items that
/// compare equal come out in no particular order; put
/// `(priority, sequence, item)` tuples for a stable order, as in
/// Python. Wrap items in [`core::cmp::Reverse`] for largest first.
///
/// The items' `Ord` runs while the queue's internal lock is held (in
/// every put and get), so keep it short, and never touch this queue
/// from it. If it panics, the panic reaches the caller of that put or
/// get and the queue stays whole: no item is lost or dropped, no slot
/// or item promised to a waiting task is lost, and waiting tasks are
/// still served; only the order of later gets is unspecified, as with
/// any inconsistent `Ord`.
///
/// # Examples
///
/// ```
/// use anysync::queue::PriorityQueue;
///
/// let q = PriorityQueue::unbounded();
/// q.try_put((2, "write report")).unwrap();
/// q.try_put((0, "fix outage")).unwrap();
/// q.try_put((1, "review")).unwrap();
/// assert_eq!(q.try_get(), Ok((0, "fix outage")));
/// ```
pub type PriorityQueue<T> = GenericQueue<T, Priority>;

/// An async queue served in the order `O`: the one type behind [`Queue`]
/// (first in, first out), [`LifoQueue`] (last in, first out) and
/// [`PriorityQueue`] (smallest first).
///
/// Use the aliases; this type is what they name. Every method below works
/// the same for the three orders (only the item a `get` returns differs);
/// the constructors are on each alias.
///
/// See the [module docs](crate::queue) for the guarantees all three give.
pub struct GenericQueue<T, O: Order<T>> {
    core: Core<T, O>,
}

impl<T> GenericQueue<T, Fifo> {
    /// A queue that holds at most `capacity` items, served first in, first out.
    ///
    /// [`put`](Self::put) waits while it is full.
    ///
    /// # Memory
    /// As for [`channel::bounded`](crate::channel::bounded): with the
    /// `std` feature on a 64-bit target, a capacity of at most 4,096 gets
    /// a lock-free ring whose `capacity` slots are allocated here, and a
    /// put or get that need not wait takes no lock while nobody waits.
    /// Otherwise the buffer starts at up to 1,024 slots and grows as
    /// needed, and every operation takes the lock. (`LifoQueue` and
    /// `PriorityQueue` always take the lock.)
    ///
    /// # Panics
    /// If `capacity` is zero: a queue with no room could never take
    /// an item. (asyncio's `maxsize=0` means "no limit": use
    /// [`unbounded`](Self::unbounded) for that.)
    ///
    /// # Examples
    /// ```
    /// use anysync::queue::Queue;
    ///
    /// let q = Queue::bounded(2);
    /// assert!(q.try_put(1).is_ok());
    /// assert!(q.try_put(2).is_ok());
    /// assert!(q.try_put(3).unwrap_err().is_full());
    /// ```
    #[track_caller]
    pub fn bounded(capacity: usize) -> Self {
        Self {
            core: Core::bounded(capacity, "Queue"),
        }
    }

    /// A queue with no limit, served first in, first out:
    /// [`put`](Self::put) never waits.
    ///
    /// # Examples
    /// ```
    /// use anysync::queue::Queue;
    ///
    /// let q = Queue::unbounded();
    /// for i in 0..1000 {
    ///     q.try_put(i).unwrap();
    /// }
    /// assert_eq!(q.capacity(), None);
    /// ```
    pub fn unbounded() -> Self {
        Self {
            core: Core::unbounded(),
        }
    }
}

impl<T> GenericQueue<T, Lifo> {
    /// A queue that holds at most `capacity` items, served last in, first out.
    ///
    /// [`put`](Self::put) waits while it is full.
    ///
    /// # Panics
    /// If `capacity` is zero: a queue with no room could never take
    /// an item. (asyncio's `maxsize=0` means "no limit": use
    /// [`unbounded`](Self::unbounded) for that.)
    ///
    /// # Examples
    /// ```
    /// use anysync::queue::LifoQueue;
    ///
    /// let q = LifoQueue::bounded(2);
    /// assert!(q.try_put(1).is_ok());
    /// assert!(q.try_put(2).is_ok());
    /// assert!(q.try_put(3).unwrap_err().is_full());
    /// ```
    #[track_caller]
    pub fn bounded(capacity: usize) -> Self {
        Self {
            core: Core::bounded(capacity, "LifoQueue"),
        }
    }

    /// A queue with no limit, served last in, first out:
    /// [`put`](Self::put) never waits.
    ///
    /// # Examples
    /// ```
    /// use anysync::queue::LifoQueue;
    ///
    /// let q = LifoQueue::unbounded();
    /// for i in 0..1000 {
    ///     q.try_put(i).unwrap();
    /// }
    /// assert_eq!(q.capacity(), None);
    /// ```
    pub fn unbounded() -> Self {
        Self {
            core: Core::unbounded(),
        }
    }
}

impl<T: Ord> GenericQueue<T, Priority> {
    /// A queue that holds at most `capacity` items, served smallest first.
    ///
    /// [`put`](Self::put) waits while it is full.
    ///
    /// # Panics
    /// If `capacity` is zero: a queue with no room could never take
    /// an item. (asyncio's `maxsize=0` means "no limit": use
    /// [`unbounded`](Self::unbounded) for that.)
    ///
    /// # Examples
    /// ```
    /// use anysync::queue::PriorityQueue;
    ///
    /// let q = PriorityQueue::bounded(2);
    /// assert!(q.try_put(1).is_ok());
    /// assert!(q.try_put(2).is_ok());
    /// assert!(q.try_put(3).unwrap_err().is_full());
    /// ```
    #[track_caller]
    pub fn bounded(capacity: usize) -> Self {
        Self {
            core: Core::bounded(capacity, "PriorityQueue"),
        }
    }

    /// A queue with no limit, served smallest first:
    /// [`put`](Self::put) never waits.
    ///
    /// # Examples
    /// ```
    /// use anysync::queue::PriorityQueue;
    ///
    /// let q = PriorityQueue::unbounded();
    /// for i in 0..1000 {
    ///     q.try_put(i).unwrap();
    /// }
    /// assert_eq!(q.capacity(), None);
    /// ```
    pub fn unbounded() -> Self {
        Self {
            core: Core::unbounded(),
        }
    }
}

impl<T, O: Order<T>> GenericQueue<T, O> {
    /// Puts `item` in the queue, waiting for room while it is full.
    ///
    /// Putters that wait are served in arrival order: a slot freed
    /// by a `get` is promised to the longest-waiting putter, and no
    /// later `put` or `try_put` can take it. The item stays in the
    /// future until it is moved into the queue.
    ///
    /// A bounded FIFO [`Queue`] on a multi-threaded executor can return
    /// `Pending` from a poll without waiting, when another putter on
    /// another thread claimed the slot this one was about to take: the
    /// future has woken its own task, holds its item and no place in line,
    /// and tries again when polled (as
    /// [`Sender::send`](crate::channel::Sender::send) does).
    ///
    /// # Wakers
    /// The waker is cloned with no lock held when the wait starts, so a
    /// `Waker::clone` may call back into this queue. A waiting future polled
    /// again with a waker that wakes a different task clones that one under
    /// the queue's lock: such a clone must not call back into the queue
    /// (it would deadlock).
    ///
    /// # Cancel safety
    /// This method is **not** cancel safe: dropping the future drops
    /// the item if it was not put yet. Use
    /// [`cancel`](super::futures::Put::cancel) on the pending future
    /// to get the item back, or [`try_put`](Self::try_put) in
    /// `select!`. Either way the future gives up its place in the
    /// queue, and a slot it had already been granted is passed to
    /// the next waiter.
    ///
    /// # Errors
    /// [`PutError`] holding the item if the queue is shut down
    /// before the item could be put.
    ///
    /// # Examples
    /// ```
    /// # futures_executor::block_on(async {
    /// use anysync::queue::Queue;
    ///
    /// let q = Queue::bounded(1);
    /// q.put(1).await.unwrap();
    /// q.shutdown();
    /// assert_eq!(q.put(2).await.unwrap_err().into_inner(), 2);
    /// # });
    /// ```
    pub fn put(&self, item: T) -> Put<'_, T, O> {
        Put {
            inner: SendFut::new(&self.core.chan, item),
        }
    }

    /// Puts `item` if there is room, without waiting.
    ///
    /// # Errors
    /// [`TryPutError::Full`] if the queue is full (or its free slots
    /// are promised to waiting putters), [`TryPutError::ShutDown`] if
    /// it was shut down; both hold the item.
    ///
    /// # Examples
    /// ```
    /// use anysync::queue::{Queue, TryPutError};
    ///
    /// let q = Queue::bounded(1);
    /// q.try_put("a").unwrap();
    /// assert!(matches!(q.try_put("b"), Err(TryPutError::Full("b"))));
    /// ```
    ///
    /// [`TryPutError::Full`]: crate::queue::TryPutError::Full
    /// [`TryPutError::ShutDown`]: crate::queue::TryPutError::ShutDown
    pub fn try_put(&self, item: T) -> Result<(), TryPutError<T>> {
        self.core.try_put(item)
    }

    /// Removes and returns the next item (in the queue's order: first in,
    /// first out for [`Queue`], last in, first out for [`LifoQueue`],
    /// smallest first for [`PriorityQueue`]), waiting while the queue is
    /// empty.
    ///
    /// Getters that wait are served in arrival order: an item put
    /// while getters wait is promised to the longest-waiting one.
    /// An item leaves the queue only in the poll that returns it. A get
    /// can return `Pending` without waiting when another getter on another
    /// thread claimed the item first, as a [`put`](Self::put) can.
    ///
    /// After [`shutdown`](Self::shutdown), gets still return what is
    /// left, then fail; after
    /// [`shutdown_immediate`](Self::shutdown_immediate) they fail
    /// at once.
    ///
    /// # Wakers
    /// The waker is cloned with no lock held when the wait starts, so a
    /// `Waker::clone` may call back into this queue. A waiting future polled
    /// again with a waker that wakes a different task clones that one under
    /// the queue's lock: such a clone must not call back into the queue
    /// (it would deadlock).
    ///
    /// # Cancel safety
    /// This method is cancel safe. Dropping the future gives up its
    /// place in the queue; a wake-up it had already received is
    /// passed to the next waiter.
    ///
    /// # Errors
    /// [`ShutDown`] once the queue is shut down and empty.
    ///
    /// # Examples
    /// ```
    /// # futures_executor::block_on(async {
    /// use anysync::queue::Queue;
    ///
    /// let q = Queue::unbounded();
    /// for i in [1, 2, 3] {
    ///     q.put(i).await.unwrap();
    /// }
    /// assert_eq!(q.get().await, Ok(1));
    /// assert_eq!(q.get().await, Ok(2));
    /// assert_eq!(q.get().await, Ok(3));
    /// # });
    /// ```
    ///
    /// [`ShutDown`]: crate::queue::ShutDown
    pub fn get(&self) -> Get<'_, T, O> {
        Get {
            inner: RecvFut::new(&self.core.chan),
        }
    }

    /// Removes and returns the next item if there is one, without
    /// waiting.
    ///
    /// # Errors
    /// [`TryGetError::Empty`] if nothing is there (or what is there
    /// is promised to waiting getters), [`TryGetError::ShutDown`]
    /// once the queue is shut down and empty.
    ///
    /// # Examples
    /// ```
    /// use anysync::queue::{Queue, TryGetError};
    ///
    /// let q = Queue::bounded(4);
    /// assert_eq!(q.try_get(), Err(TryGetError::Empty));
    /// q.try_put(7).unwrap();
    /// assert_eq!(q.try_get(), Ok(7));
    /// ```
    ///
    /// [`TryGetError::Empty`]: crate::queue::TryGetError::Empty
    /// [`TryGetError::ShutDown`]: crate::queue::TryGetError::ShutDown
    pub fn try_get(&self) -> Result<T, TryGetError> {
        self.core.try_get()
    }

    /// As [`get`](Self::get), but the item comes in a [`QueueItem`] that
    /// marks it [done](Self::task_done) when it is dropped.
    ///
    /// Use it in workers: a worker that fails or panics while it holds the
    /// item still marks it done as the `QueueItem` is dropped, so
    /// [`join`](Self::join) does not wait for good.
    /// [`QueueItem::done`] marks it done and hands the item out.
    ///
    /// # Cancel safety
    /// This method is cancel safe. Dropping the future gives up its
    /// place in the queue; a wake-up it had already received is
    /// passed to the next waiter.
    ///
    /// # Errors
    /// [`ShutDown`] once the queue is shut down and empty.
    ///
    /// # Examples
    /// ```
    /// # futures_executor::block_on(async {
    /// use anysync::queue::Queue;
    ///
    /// let q = Queue::bounded(4);
    /// q.put(2).await.unwrap();
    /// q.put(3).await.unwrap();
    /// let worker = async {
    ///     let mut sum = 0;
    ///     while let Ok(n) = q.get_tracked().await {
    ///         sum += *n;
    ///     } // each item is marked done as `n` is dropped
    ///     sum
    /// };
    /// q.shutdown();
    /// let (sum, ()) = futures_util::future::join(worker, q.join()).await;
    /// assert_eq!(sum, 5);
    /// # });
    /// ```
    ///
    /// [`ShutDown`]: crate::queue::ShutDown
    /// [`QueueItem`]: crate::queue::QueueItem
    /// [`QueueItem::done`]: crate::queue::QueueItem::done
    pub fn get_tracked(&self) -> GetTracked<'_, T, O> {
        GetTracked::new(self.get(), &self.core)
    }

    /// As [`try_get`](Self::try_get), but the item comes in a [`QueueItem`]
    /// that marks it [done](Self::task_done) when it is dropped.
    ///
    /// # Errors
    /// As [`try_get`](Self::try_get).
    ///
    /// # Examples
    /// ```
    /// use anysync::queue::Queue;
    ///
    /// let q = Queue::bounded(4);
    /// q.try_put("a").unwrap();
    /// drop(q.try_get_tracked().unwrap());
    /// assert_eq!(q.unfinished_tasks(), 0);
    /// ```
    ///
    /// [`QueueItem`]: crate::queue::QueueItem
    pub fn try_get_tracked(&self) -> Result<QueueItem<'_, T, O>, TryGetError> {
        self.core
            .try_get()
            .map(|item| QueueItem::new(item, &self.core))
    }

    /// Marks one item that was got from the queue as processed.
    ///
    /// Every `put` adds one unfinished item; the matching
    /// `task_done` (after a `get`) removes it. [`join`](Self::join)
    /// completes when none is left. Items dropped by
    /// [`shutdown_immediate`](Self::shutdown_immediate) count as
    /// done.
    ///
    /// # Errors
    /// [`TaskDoneError`] if it is called more times than items were
    /// got; the count is left unchanged (it never underflows).
    ///
    /// # Examples
    /// ```
    /// use anysync::queue::Queue;
    ///
    /// let q = Queue::unbounded();
    /// q.try_put(1).unwrap();
    /// assert!(q.task_done().is_err()); // nothing got yet
    /// q.try_get().unwrap();
    /// assert!(q.task_done().is_ok());
    /// assert_eq!(q.unfinished_tasks(), 0);
    /// ```
    ///
    /// [`TaskDoneError`]: crate::queue::TaskDoneError
    pub fn task_done(&self) -> Result<(), TaskDoneError> {
        self.core.task_done()
    }

    /// Waits until every item put has been got and marked
    /// [done](Self::task_done) (at once if there are none).
    ///
    /// Every task waiting in `join` is released when the count
    /// reaches zero, even if new items are put right after.
    /// Shutting down does not release `join`: it still waits for
    /// the items in flight.
    ///
    /// # Cancel safety
    /// This method is cancel safe: dropping the future before it
    /// completes has no effect.
    ///
    /// # Examples
    /// ```
    /// # futures_executor::block_on(async {
    /// use anysync::queue::Queue;
    ///
    /// let q = Queue::bounded(8);
    /// q.join().await; // nothing put: ready at once
    /// q.put(1).await.unwrap();
    /// let _item = q.get().await.unwrap();
    /// // ... process the item ...
    /// q.task_done().unwrap();
    /// q.join().await;
    /// # });
    /// ```
    pub fn join(&self) -> Join<'_, T, O> {
        Join {
            core: &self.core,
            notified: self.core.done.notified(),
            done: false,
        }
    }

    /// The number of items in the queue now.
    pub fn len(&self) -> usize {
        self.core.chan.len()
    }

    /// `true` if the queue holds no items now.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// `true` if a `put` would wait now: every slot holds an item
    /// or is promised to a waiting putter. Never `true` for an
    /// unbounded queue.
    pub fn is_full(&self) -> bool {
        self.core.chan.is_full()
    }

    /// The most items the queue holds, or `None` if it is
    /// unbounded.
    pub fn capacity(&self) -> Option<usize> {
        self.core.capacity()
    }

    /// Items put and not yet marked [done](Self::task_done): those
    /// in the queue plus those got and still being processed.
    pub fn unfinished_tasks(&self) -> usize {
        self.core.chan.unfinished()
    }

    /// The number of tasks waiting in `put`.
    pub fn put_waiters(&self) -> usize {
        self.core.chan.stats().send_waiters
    }

    /// The number of tasks waiting in `get`.
    pub fn get_waiters(&self) -> usize {
        self.core.chan.stats().recv_waiters
    }

    /// Shuts the queue down gracefully (Python 3.13's
    /// `shutdown()`).
    ///
    /// * Every `put`, waiting or new, fails with [`PutError`], which
    ///   hands its item back.
    /// * `get`s return what is left, then fail with [`ShutDown`].
    /// * [`join`](Self::join) still waits for the items in the
    ///   queue and in flight.
    ///
    /// Idempotent and permanent. Returns `true` if this call shut
    /// the queue down.
    ///
    /// # Examples
    /// ```
    /// # futures_executor::block_on(async {
    /// use anysync::queue::{Queue, ShutDown};
    ///
    /// let q = Queue::bounded(4);
    /// q.put(1).await.unwrap();
    /// assert!(q.shutdown());
    /// assert!(q.put(2).await.is_err());
    /// assert_eq!(q.get().await, Ok(1)); // drained
    /// assert_eq!(q.get().await, Err(ShutDown));
    /// # });
    /// ```
    ///
    /// [`PutError`]: crate::queue::PutError
    /// [`ShutDown`]: crate::queue::ShutDown
    pub fn shutdown(&self) -> bool {
        self.core.chan.close()
    }

    /// Shuts the queue down and drops what is in it (Python 3.13's
    /// `shutdown(immediate=True)`).
    ///
    /// As [`shutdown`](Self::shutdown), except that `get`s fail at
    /// once and the buffered items are dropped, each exactly once,
    /// outside any lock. Dropped items count as done, so
    /// [`join`](Self::join) completes once the items already got
    /// are marked done.
    ///
    /// # Examples
    /// ```
    /// # futures_executor::block_on(async {
    /// use anysync::queue::{Queue, TryGetError};
    ///
    /// let q = Queue::unbounded();
    /// q.put(1).await.unwrap();
    /// q.put(2).await.unwrap();
    /// q.shutdown_immediate();
    /// assert_eq!(q.try_get(), Err(TryGetError::ShutDown));
    /// q.join().await; // the dropped items count as done
    /// # });
    /// ```
    pub fn shutdown_immediate(&self) {
        self.core.shutdown_immediate();
    }

    /// The engine's counters, for tests.
    #[cfg(test)]
    pub(crate) fn stats(&self) -> crate::chan::Stats {
        self.core.chan.stats()
    }

    /// `true` once [`shutdown`](Self::shutdown) or
    /// [`shutdown_immediate`](Self::shutdown_immediate) was called.
    pub fn is_shutdown(&self) -> bool {
        self.core.chan.mode() != crate::chan::Mode::Open
    }

    /// A snapshot of the queue's counters: what [`len`](Self::len),
    /// [`capacity`](Self::capacity), [`unfinished_tasks`](Self::unfinished_tasks),
    /// [`put_waiters`](Self::put_waiters), [`get_waiters`](Self::get_waiters)
    /// and [`is_shutdown`](Self::is_shutdown) return, read together under
    /// the queue's lock, plus the tasks waiting in [`join`](Self::join).
    ///
    /// It takes the queue's lock and counts the waiters: meant for
    /// monitoring and tests, not for a hot path.
    ///
    /// # Examples
    /// ```
    /// use anysync::queue::Queue;
    ///
    /// let q = Queue::bounded(4);
    /// q.try_put("a").unwrap();
    /// q.try_put("b").unwrap();
    /// q.try_get().unwrap();
    /// let s = q.statistics();
    /// assert_eq!((s.len, s.capacity, s.unfinished_tasks), (1, Some(4), 2));
    /// assert_eq!((s.put_waiters, s.get_waiters, s.shut_down), (0, 0, false));
    /// ```
    pub fn statistics(&self) -> QueueStatistics {
        let s = self.core.chan.stats();
        QueueStatistics {
            len: s.len,
            capacity: s.cap,
            unfinished_tasks: s.len + s.in_flight,
            put_waiters: s.send_waiters,
            get_waiters: s.recv_waiters,
            join_waiters: self.core.done.waiters(),
            shut_down: s.mode != crate::chan::Mode::Open,
        }
    }
}

/// A snapshot of a queue ([`Queue`], [`LifoQueue`] or [`PriorityQueue`]),
/// from [`statistics`](GenericQueue::statistics).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct QueueStatistics {
    /// Items in the queue.
    pub len: usize,
    /// The most items the queue holds, `None` if it is unbounded.
    pub capacity: Option<usize>,
    /// Items put and not yet marked done: those in the queue plus those
    /// got and still being processed.
    pub unfinished_tasks: usize,
    /// Tasks waiting in `put`.
    pub put_waiters: usize,
    /// Tasks waiting in `get`.
    pub get_waiters: usize,
    /// Tasks waiting in `join`.
    pub join_waiters: usize,
    /// The queue was shut down.
    pub shut_down: bool,
}

#[cfg(feature = "std")]
#[cfg_attr(docsrs, doc(cfg(feature = "std")))]
impl<T, O: Order<T>> GenericQueue<T, O> {
    /// Blocks the current thread until `item` is put.
    ///
    /// Meant for plain threads feeding async tasks; calling it
    /// from a task blocks that executor thread.
    ///
    /// # Errors
    /// As [`put`](Self::put).
    ///
    /// # Examples
    /// ```
    /// use anysync::queue::Queue;
    ///
    /// let q = Queue::bounded(1);
    /// q.put_blocking(5).unwrap();
    /// assert_eq!(q.get_blocking(), Ok(5));
    /// ```
    pub fn put_blocking(&self, item: T) -> Result<(), PutError<T>> {
        crate::util::block_on::block_on(self.put(item))
    }

    /// Blocks the current thread until an item is got.
    ///
    /// # Errors
    /// As [`get`](Self::get).
    ///
    /// # Examples
    /// ```
    /// use anysync::queue::Queue;
    ///
    /// let q = Queue::<u8>::bounded(1);
    /// q.shutdown();
    /// assert!(q.get_blocking().is_err());
    /// ```
    pub fn get_blocking(&self) -> Result<T, ShutDown> {
        crate::util::block_on::block_on(self.get())
    }

    /// Blocks the current thread until [`join`](Self::join)
    /// would complete.
    ///
    /// # Examples
    /// ```
    /// use anysync::queue::Queue;
    ///
    /// let q = Queue::<u8>::unbounded();
    /// q.join_blocking();
    /// ```
    pub fn join_blocking(&self) {
        crate::util::block_on::block_on(self.join())
    }
}

impl<T, O: Order<T>> Default for GenericQueue<T, O> {
    /// An unbounded queue.
    fn default() -> Self {
        Self {
            core: Core::unbounded(),
        }
    }
}

impl<T, O: Order<T>> fmt::Debug for GenericQueue<T, O> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.core.fmt(f)
    }
}

pin_project!(
    /// Future returned by [`Queue::put`] (and the `put` of
    /// [`LifoQueue`](super::LifoQueue) and
    /// [`PriorityQueue`](super::PriorityQueue)).
    #[must_use = "futures do nothing unless you `.await` or poll them"]
    pub struct Put<'a, T, O: Order<T> = Fifo> {
        #[pin]
        inner: SendFut<'a, O::Buf>,
    }
);

impl<T, O: Order<T>> Put<'_, T, O> {
    /// Stops the put: returns the item if it was not put yet (it never
    /// will be), or `None` if it was (or the future completed). The future
    /// is finished afterwards; it leaves the queue, and a slot it had been
    /// granted goes to the next waiting putter.
    ///
    /// Use it to stop waiting for room without losing the item, e.g. in
    /// `select!`.
    ///
    /// # Examples
    ///
    /// ```
    /// use anysync::queue::Queue;
    /// use futures_util::FutureExt;
    ///
    /// let q = Queue::bounded(1);
    /// q.try_put(1).unwrap(); // the queue is now full
    /// let mut put = std::pin::pin!(q.put(2));
    /// assert!(put.as_mut().now_or_never().is_none()); // waits for room
    /// assert_eq!(put.cancel(), Some(2)); // not put; here it is
    /// assert_eq!(q.len(), 1);
    /// ```
    pub fn cancel(self: Pin<&mut Self>) -> Option<T> {
        self.project().inner.cancel()
    }
}

impl<T, O: Order<T>> Future for Put<'_, T, O> {
    type Output = Result<(), PutError<T>>;

    #[inline(always)]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.project()
            .inner
            .poll_send(cx)
            .map(|r| r.map_err(PutError))
    }
}

impl<T, O: Order<T>> FusedFuture for Put<'_, T, O> {
    fn is_terminated(&self) -> bool {
        self.inner.is_terminated()
    }
}

impl<T, O: Order<T>> fmt::Debug for Put<'_, T, O> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Put")
            .field("phase", &self.inner.phase())
            .finish()
    }
}

pin_project!(
    /// Future returned by [`Queue::get`] (and the `get` of
    /// [`LifoQueue`](super::LifoQueue) and
    /// [`PriorityQueue`](super::PriorityQueue)).
    #[must_use = "futures do nothing unless you `.await` or poll them"]
    pub struct Get<'a, T, O: Order<T> = Fifo> {
        #[pin]
        inner: RecvFut<'a, O::Buf>,
    }
);

impl<T, O: Order<T>> Future for Get<'_, T, O> {
    type Output = Result<T, ShutDown>;

    #[inline(always)]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.project()
            .inner
            .poll_recv(cx)
            .map(|r| r.ok_or(ShutDown))
    }
}

impl<T, O: Order<T>> FusedFuture for Get<'_, T, O> {
    fn is_terminated(&self) -> bool {
        self.inner.is_terminated()
    }
}

impl<T, O: Order<T>> fmt::Debug for Get<'_, T, O> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Get")
            .field("phase", &self.inner.phase())
            .finish()
    }
}

pin_project!(
    /// Future returned by [`Queue::join`] (and the `join` of
    /// [`LifoQueue`](super::LifoQueue) and
    /// [`PriorityQueue`](super::PriorityQueue)).
    #[must_use = "futures do nothing unless you `.await` or poll them"]
    pub struct Join<'a, T, O: Order<T> = Fifo> {
        core: &'a Core<T, O>,
        // Created in `join()`, before the count is first checked, so a
        // `notify_all` between the check and the wait is not missed.
        #[pin]
        notified: Notified<'a>,
        done: bool,
    }
);

impl<T, O: Order<T>> Future for Join<'_, T, O> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.project();
        assert!(!*this.done, "`Join` polled after completion");
        // `done` is notified only when the count reaches zero, so a
        // notification means it was zero at some point since `join()` was
        // called: done, as in asyncio, even if items were put since.
        if this.core.chan.unfinished() == 0 {
            // The notification that brought the count to zero may have
            // woken this future already: consumed lock-free, so the drop
            // has nothing to unlink.
            this.notified.finish_if_woken();
        } else if this.notified.poll(cx).is_pending() {
            return Poll::Pending;
        }
        *this.done = true;
        Poll::Ready(())
    }
}

impl<T, O: Order<T>> FusedFuture for Join<'_, T, O> {
    fn is_terminated(&self) -> bool {
        self.done
    }
}

impl<T, O: Order<T>> fmt::Debug for Join<'_, T, O> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Join").field("done", &self.done).finish()
    }
}

//! A watch channel: the latest value of something, and a wake-up when it
//! changes.
//!
//! [`channel`] returns a [`Sender`] and a [`Receiver`] sharing one value.
//! Senders replace the value; receivers read it at any time
//! ([`borrow`](Receiver::borrow)) and wait for the next change
//! ([`changed`](Receiver::changed)) or for a value that satisfies a
//! predicate ([`wait_for`](Receiver::wait_for)). Intermediate values are
//! not queued: a slow receiver sees only the newest. Use it for
//! configuration, a status, a "current leader", a shutdown flag with a
//! reason.
//!
//! * Each receiver remembers the version it has seen. A receiver made by
//!   [`channel`] or [`Sender::subscribe`] has seen the current value;
//!   a [`clone`](Clone::clone) has seen what the original had seen.
//! * `borrow` returns an [`Arc`] of the value: reading never holds a lock
//!   while your code runs, and a value read stays valid after the next
//!   send.
//! * A [`Receiver`] is also a `Stream` of the values: the current value
//!   first, then each change it has not seen.
//! * When the last [`Sender`] is dropped the channel is closed: `changed`
//!   still reports a change not yet seen, then fails with
//!   [`RecvError`]; `borrow` keeps returning the last value.
//!
//! # Examples
//!
//! ```
//! # futures_executor::block_on(async {
//! use anysync::channel::watch;
//!
//! let (tx, mut rx) = watch::channel("starting");
//! assert_eq!(*rx.borrow(), "starting");
//! tx.send("ready").unwrap();
//! rx.changed().await.unwrap();
//! assert_eq!(*rx.borrow_and_update(), "ready");
//! drop(tx);
//! assert!(rx.changed().await.is_err()); // closed, nothing new
//! # });
//! ```
//!
//! # Implementation notes
//!
//! The value (an `Arc<T>`), a version counter and the sender count sit in
//! the state of one `WaitQueue` on which receivers wait; a send swaps
//! the `Arc`, bumps the version and wakes every receiver queued before it
//! (by sequence number, so batches are exact). A receiver is "changed"
//! iff the version differs from the one it saw, so a send between creating
//! a future and its first poll is never missed. [`Sender::closed`] waiters
//! park on a second queue, woken when the atomic receiver count reaches
//! zero. User code (predicates, `Clone` in `send_modify`, dropping old
//! values) never runs under a lock.

use alloc::{boxed::Box, sync::Arc};
use core::{
    fmt,
    future::Future,
    pin::Pin,
    task::{Context, Poll, Waker},
};

use futures_core::{FusedFuture, FusedStream, Stream};
use pin_project_lite::pin_project;

use crate::{
    loom::sync::{
        atomic::{AtomicUsize, Ordering},
        Arc as SharedArc,
    },
    waitq::{QueueGuard, Visit, Wait, WaitNode, WaitOwner, WaitQueue, WaitState},
};

/// Creates a watch channel holding `init`, with one receiver that has
/// already seen it.
///
/// # Examples
///
/// ```
/// let (tx, rx) = anysync::channel::watch::channel(0);
/// tx.send(1).unwrap();
/// assert_eq!(*rx.borrow(), 1);
/// ```
pub fn channel<T>(init: T) -> (Sender<T>, Receiver<T>) {
    let tx = Sender::new(init);
    let rx = tx.subscribe();
    (tx, rx)
}

struct Shared<T> {
    /// The value; receivers waiting for it to change.
    value: WaitQueue<State<T>, ()>,
    /// Senders waiting in `closed()`.
    closed: WaitQueue<(), ()>,
    /// Live receivers. Changed without the lock; a decrement to zero is
    /// followed by waking `closed` under its lock.
    receivers: AtomicUsize,
}

struct State<T> {
    value: Arc<T>,
    /// Bumped by every send.
    version: u64,
    /// Live senders; 0 means closed.
    senders: usize,
}

/// Marks the queue of receivers waiting for a change (`Shared::value`)
/// in `Wait<_, ValueSide>`.
enum ValueSide {}

/// Marks the queue of senders waiting in `closed()` (`Shared::closed`) in
/// `Wait<_, ClosedSide>`.
enum ClosedSide {}

impl<T> WaitOwner<ValueSide> for Shared<T> {
    type State = State<T>;
    type Data = ();

    fn wait_queue(&self) -> &WaitQueue<State<T>, ()> {
        &self.value
    }

    /// Wake-ups are broadcast and carry no grant: nothing to pass on.
    fn abandon(&self, queue: QueueGuard<'_, State<T>, ()>, _was: WaitState, _data: &mut ()) {
        drop(queue);
    }
}

impl<T> WaitOwner<ClosedSide> for Shared<T> {
    type State = ();
    type Data = ();

    fn wait_queue(&self) -> &WaitQueue<(), ()> {
        &self.closed
    }

    /// Every waiter is woken when the last receiver goes: nothing to pass
    /// on.
    fn abandon(&self, queue: QueueGuard<'_, (), ()>, _was: WaitState, _data: &mut ()) {
        drop(queue);
    }
}

/// The sending half of a [`watch`](self) channel. Cloning it makes another
/// sender; the channel closes when the last one is dropped.
pub struct Sender<T> {
    shared: SharedArc<Shared<T>>,
}

/// The receiving half of a [`watch`](self) channel. Cloning it makes
/// another receiver that has seen the same version.
///
/// It is also a [`Stream`] of the values, as `Arc<T>`: the first
/// `poll_next` yields the current value at once (seen or not), then each
/// poll yields the next value this receiver has not seen (several sends
/// while it is not polled count as one, as for [`changed`](Self::changed)),
/// marking it seen. The stream ends when every sender is gone and nothing
/// new was stored. To start with the next change instead, skip the first
/// item.
///
/// ```
/// # futures_executor::block_on(async {
/// use futures_util::StreamExt;
///
/// let (tx, mut rx) = anysync::channel::watch::channel("a");
/// assert_eq!(*rx.next().await.unwrap(), "a"); // the current value first
/// tx.send("b").unwrap();
/// tx.send("c").unwrap();
/// assert_eq!(*rx.next().await.unwrap(), "c"); // the newest change
/// drop(tx);
/// assert!(rx.next().await.is_none());
/// # });
/// ```
pub struct Receiver<T> {
    shared: SharedArc<Shared<T>>,
    /// The version this receiver has seen.
    seen: u64,
    /// As a stream: the waiter `poll_next` uses, boxed once, on first need.
    stream_wait: Option<Pin<Box<StreamWait<T>>>>,
    /// As a stream: the current value was yielded (the first item).
    stream_started: bool,
    /// As a stream: ended.
    stream_ended: bool,
}

/// The waiter a [`Receiver`] polled as a stream keeps between polls.
type StreamWait<T> = Wait<SharedArc<Shared<T>>, ValueSide>;

/// The channel errors, shared with the other channels:
/// * [`SendError`]: [`Sender::send`] found no receivers; it holds the
///   value, which was not stored.
/// * [`RecvError`]: every sender is gone and there is nothing new to see.
#[doc(no_inline)]
pub use super::{RecvError, SendError};

impl<T> Shared<T> {
    /// The snapshot behind `statistics()`, taking each lock in turn.
    fn statistics(&self) -> WatchStatistics {
        let (senders, changed_waiters) = {
            let queue = self.value.lock();
            (queue.state_ref().senders, queue.len())
        };
        WatchStatistics {
            senders,
            receivers: self.receivers.load(Ordering::Acquire),
            changed_waiters,
            closed_waiters: self.closed.lock().len(),
        }
    }
}

/// A snapshot of a [`watch`](self) channel, from [`Sender::statistics`]
/// or [`Receiver::statistics`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct WatchStatistics {
    /// Live [`Sender`]s; 0 means closed.
    pub senders: usize,
    /// Live [`Receiver`]s.
    pub receivers: usize,
    /// Tasks waiting for a change, in [`changed`](Receiver::changed) or
    /// [`wait_for`](Receiver::wait_for).
    pub changed_waiters: usize,
    /// Tasks waiting in [`Sender::closed`].
    pub closed_waiters: usize,
}

/// Wakes every receiver queued before this call (and none queued while it
/// runs in batches), after `update` changed the state under the lock.
fn wake_receivers<T>(shared: &Shared<T>, mut update: impl FnMut(&mut State<T>)) {
    let mut end = None;
    shared.value.wake_loop(|queue, batch| {
        let end = *end.get_or_insert_with(|| {
            update(queue.state());
            queue.next_seq()
        });
        queue.wake_front(
            batch,
            |_, _, seq| if seq < end { Visit::Wake } else { Visit::Stop },
        )
    });
}

impl<T> Sender<T> {
    /// A sender holding `init`, with no receivers yet: make them with
    /// [`subscribe`](Self::subscribe).
    ///
    /// # Examples
    ///
    /// ```
    /// let tx = anysync::channel::watch::Sender::new(5);
    /// assert_eq!(tx.receiver_count(), 0);
    /// assert_eq!(*tx.subscribe().borrow(), 5);
    /// ```
    pub fn new(init: T) -> Sender<T> {
        Sender {
            shared: SharedArc::new(Shared {
                value: WaitQueue::new(State {
                    value: Arc::new(init),
                    version: 0,
                    senders: 1,
                }),
                closed: WaitQueue::new(()),
                receivers: AtomicUsize::new(0),
            }),
        }
    }

    /// Stores `value` and wakes every receiver waiting for a change.
    ///
    /// # Errors
    /// If there are no receivers, the value is not stored and is returned
    /// in [`SendError`]. Use [`send_replace`](Self::send_replace) to store
    /// it regardless.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = anysync::channel::watch::channel(1);
    /// tx.send(2).unwrap();
    /// drop(rx);
    /// assert_eq!(tx.send(3).unwrap_err().0, 3);
    /// assert_eq!(*tx.borrow(), 2);
    /// ```
    pub fn send(&self, value: T) -> Result<(), SendError<T>> {
        if self.receiver_count() == 0 {
            return Err(SendError(value));
        }
        drop(self.send_replace(value));
        Ok(())
    }

    /// Stores `value` even if there are no receivers, wakes every receiver
    /// waiting for a change, and returns the previous value.
    ///
    /// # Examples
    ///
    /// ```
    /// let tx = anysync::channel::watch::Sender::new(1);
    /// assert_eq!(*tx.send_replace(2), 1);
    /// assert_eq!(*tx.borrow(), 2);
    /// ```
    pub fn send_replace(&self, value: T) -> Arc<T> {
        let mut new = Some(Arc::new(value));
        let mut old = None;
        wake_receivers(&self.shared, |state| {
            let new = new
                .take()
                .expect("anysync bug: watch value installed twice");
            old = Some(core::mem::replace(&mut state.value, new));
            state.version += 1;
        });
        old.expect("anysync bug: watch send did not run")
    }

    /// Changes the value in place with `modify`, then wakes the receivers.
    /// Stores even if there are no receivers.
    ///
    /// `modify` runs on a clone of the current value, with no lock held. If
    /// another sender stores a value in the meantime, the clone is
    /// discarded and `modify` runs again on the newer value, so the update
    /// is never lost but `modify` may run more than once.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = anysync::channel::watch::channel(vec![1]);
    /// tx.send_modify(|v| v.push(2));
    /// assert_eq!(*rx.borrow(), [1, 2]);
    /// ```
    pub fn send_modify(&self, mut modify: impl FnMut(&mut T))
    where
        T: Clone,
    {
        self.send_if_modified(|value| {
            modify(value);
            true
        });
    }

    /// Like [`send_modify`](Self::send_modify), but `modify` returns
    /// whether it changed anything; if it returns `false` nothing is
    /// stored and no receiver is woken. Returns what `modify` returned.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = anysync::channel::watch::channel(3);
    /// let reset_if_big = |n: &mut i32| if *n > 5 { *n = 0; true } else { false };
    /// assert!(!tx.send_if_modified(reset_if_big));
    /// assert_eq!(rx.has_changed(), Ok(false)); // nothing stored, nobody woken
    /// tx.send(9).unwrap();
    /// assert!(tx.send_if_modified(reset_if_big));
    /// assert_eq!(*rx.borrow(), 0);
    /// ```
    pub fn send_if_modified(&self, mut modify: impl FnMut(&mut T) -> bool) -> bool
    where
        T: Clone,
    {
        loop {
            let (current, version) = {
                let queue = self.shared.value.lock();
                let state = queue.state_ref();
                (Arc::clone(&state.value), state.version)
            };
            let mut value = T::clone(&current);
            drop(current);
            if !modify(&mut value) {
                return false;
            }
            let mut new = Some(Arc::new(value));
            let mut old = None;
            let mut stored = false;
            let mut end = None;
            self.shared.value.wake_loop(|queue, batch| {
                let end = *end.get_or_insert_with(|| {
                    let state = queue.state();
                    if state.version == version {
                        old = Some(core::mem::replace(
                            &mut state.value,
                            new.take().expect("once"),
                        ));
                        state.version += 1;
                        stored = true;
                        queue.next_seq()
                    } else {
                        0 // someone else stored first: wake nobody, retry
                    }
                });
                queue.wake_front(
                    batch,
                    |_, _, seq| if seq < end { Visit::Wake } else { Visit::Stop },
                )
            });
            // Dropped here, with no lock held.
            drop(old);
            drop(new);
            if stored {
                return true;
            }
        }
    }

    /// The current value.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, _rx) = anysync::channel::watch::channel('a');
    /// assert_eq!(*tx.borrow(), 'a');
    /// ```
    pub fn borrow(&self) -> Arc<T> {
        Arc::clone(&self.shared.value.lock().state_ref().value)
    }

    /// A new receiver that has seen the current value.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, _rx) = anysync::channel::watch::channel(1);
    /// let rx2 = tx.subscribe();
    /// assert_eq!(rx2.has_changed(), Ok(false));
    /// ```
    pub fn subscribe(&self) -> Receiver<T> {
        let seen = self.shared.value.lock().state_ref().version;
        self.shared.receivers.fetch_add(1, Ordering::AcqRel);
        Receiver::new(SharedArc::clone(&self.shared), seen)
    }

    /// The number of live receivers.
    pub fn receiver_count(&self) -> usize {
        self.shared.receivers.load(Ordering::Acquire)
    }

    /// `true` if there are no receivers (a [`send`](Self::send) would
    /// fail).
    pub fn is_closed(&self) -> bool {
        self.receiver_count() == 0
    }

    /// Waits until there are no receivers.
    ///
    /// Completes at once if there are none now. A future that was woken
    /// because the last receiver went away completes even if a new
    /// receiver was subscribed in the meantime.
    ///
    /// # Wakers
    /// The waker is cloned with no lock held whenever the wait (re)starts, so
    /// a `Waker::clone` may call back into this channel. A waiting future
    /// polled again, before it was woken, with a waker that wakes a different
    /// task clones that one under the channel's lock: such a clone must not
    /// call back into the channel (it would deadlock).
    ///
    /// # Cancel safety
    /// This method is cancel safe: dropping the future before it completes
    /// has no effect.
    ///
    /// # Examples
    ///
    /// ```
    /// # futures_executor::block_on(async {
    /// let (tx, rx) = anysync::channel::watch::channel(());
    /// drop(rx);
    /// tx.closed().await;
    /// # });
    /// ```
    pub fn closed(&self) -> futures::Closed<'_, T> {
        futures::Closed {
            done: false,
            wait: Wait::new(&*self.shared, ()),
        }
    }

    /// A snapshot of the channel's handles and waiting tasks.
    ///
    /// It takes the channel's locks and counts the waiters: meant for
    /// monitoring and tests, not for a hot path.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = anysync::channel::watch::channel(0);
    /// let _rx2 = rx.clone();
    /// let s = tx.statistics();
    /// assert_eq!((s.senders, s.receivers), (1, 2));
    /// assert_eq!((s.changed_waiters, s.closed_waiters), (0, 0));
    /// ```
    pub fn statistics(&self) -> WatchStatistics {
        self.shared.statistics()
    }
}

impl<T> Clone for Sender<T> {
    fn clone(&self) -> Self {
        self.shared.value.lock().state().senders += 1;
        Sender {
            shared: SharedArc::clone(&self.shared),
        }
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        {
            let mut queue = self.shared.value.lock();
            queue.state().senders -= 1;
            if queue.state_ref().senders > 0 {
                return;
            }
        }
        // The last sender: closed. Wake everyone so they see it.
        wake_receivers(&self.shared, |_| {});
    }
}

impl<T> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let version = self.shared.value.lock().state_ref().version;
        f.debug_struct("Sender")
            .field("version", &version)
            .field("receivers", &self.receiver_count())
            .finish()
    }
}

impl<T> Receiver<T> {
    fn new(shared: SharedArc<Shared<T>>, seen: u64) -> Self {
        Receiver {
            shared,
            seen,
            stream_wait: None,
            stream_started: false,
            stream_ended: false,
        }
    }

    /// The current value. Does not mark it seen.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = anysync::channel::watch::channel(1);
    /// tx.send(2).unwrap();
    /// assert_eq!(*rx.borrow(), 2);
    /// assert_eq!(rx.has_changed(), Ok(true));
    /// ```
    pub fn borrow(&self) -> Arc<T> {
        Arc::clone(&self.shared.value.lock().state_ref().value)
    }

    /// The current value, marking it seen.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, mut rx) = anysync::channel::watch::channel(1);
    /// tx.send(2).unwrap();
    /// assert_eq!(*rx.borrow_and_update(), 2);
    /// assert_eq!(rx.has_changed(), Ok(false));
    /// ```
    pub fn borrow_and_update(&mut self) -> Arc<T> {
        let queue = self.shared.value.lock();
        let state = queue.state_ref();
        self.seen = state.version;
        Arc::clone(&state.value)
    }

    /// Whether a value this receiver has not seen was stored.
    ///
    /// # Errors
    /// [`RecvError`] if nothing new was stored and every sender
    /// is gone.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = anysync::channel::watch::channel(1);
    /// assert_eq!(rx.has_changed(), Ok(false));
    /// drop(tx);
    /// assert_eq!(rx.has_changed(), Err(anysync::channel::RecvError));
    /// ```
    pub fn has_changed(&self) -> Result<bool, RecvError> {
        let queue = self.shared.value.lock();
        let state = queue.state_ref();
        if state.version != self.seen {
            Ok(true)
        } else if state.senders == 0 {
            Err(RecvError)
        } else {
            Ok(false)
        }
    }

    /// Marks the current value seen, without reading it: a pending change
    /// is dropped, and [`changed`](Self::changed) waits for the next one.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, mut rx) = anysync::channel::watch::channel(1);
    /// tx.send(2).unwrap();
    /// rx.mark_unchanged();
    /// assert_eq!(rx.has_changed(), Ok(false));
    /// ```
    pub fn mark_unchanged(&mut self) {
        self.seen = self.shared.value.lock().state_ref().version;
    }

    /// Marks the current value not seen: [`has_changed`](Self::has_changed)
    /// says `true` and [`changed`](Self::changed) completes at once (also
    /// after every sender is gone), as if it had just been stored. Use it
    /// to have a loop over `changed` process the current value first.
    ///
    /// # Examples
    ///
    /// ```
    /// # futures_executor::block_on(async {
    /// let (_tx, mut rx) = anysync::channel::watch::channel(1);
    /// rx.mark_changed();
    /// assert_eq!(rx.has_changed(), Ok(true));
    /// rx.changed().await.unwrap(); // at once
    /// assert_eq!(rx.has_changed(), Ok(false));
    /// # });
    /// ```
    pub fn mark_changed(&mut self) {
        // Any number but the current version reads as "not seen"; versions
        // only grow, so this one will not come back.
        self.seen = self.shared.value.lock().state_ref().version.wrapping_sub(1);
    }

    /// Waits for a value this receiver has not seen, and marks it seen.
    /// Completes at once if one was stored since the last
    /// [`borrow_and_update`](Self::borrow_and_update) or `changed`.
    ///
    /// Several sends while the receiver is not looking count as one
    /// change: read the value with [`borrow`](Self::borrow) afterwards.
    ///
    /// # Wakers
    /// The waker is cloned with no lock held whenever the wait (re)starts, so
    /// a `Waker::clone` may call back into this channel. A waiting future
    /// polled again, before it was woken, with a waker that wakes a different
    /// task clones that one under the channel's lock: such a clone must not
    /// call back into the channel (it would deadlock).
    ///
    /// # Cancel safety
    /// This method is cancel safe: dropping the future before it completes
    /// has no effect.
    ///
    /// # Errors
    /// [`RecvError`] if every sender is gone and nothing new
    /// was stored.
    ///
    /// # Examples
    ///
    /// ```
    /// # futures_executor::block_on(async {
    /// let (tx, mut rx) = anysync::channel::watch::channel(0);
    /// tx.send(1).unwrap();
    /// tx.send(2).unwrap();
    /// rx.changed().await.unwrap();
    /// assert_eq!(*rx.borrow(), 2);
    /// # });
    /// ```
    pub fn changed(&mut self) -> futures::Changed<'_, T> {
        let Receiver { shared, seen, .. } = self;
        futures::Changed {
            seen,
            done: false,
            wait: Wait::new(&**shared, ()),
        }
    }

    /// Waits until the value satisfies `predicate`, and returns it, marked
    /// seen. The current value is checked first, even if already seen.
    ///
    /// `predicate` runs with no lock held, once per version it is shown
    /// (several sends while it is not looking show it only the newest).
    ///
    /// # Wakers
    /// The waker is cloned with no lock held whenever the wait (re)starts, so
    /// a `Waker::clone` may call back into this channel. A waiting future
    /// polled again, before it was woken, with a waker that wakes a different
    /// task clones that one under the channel's lock: such a clone must not
    /// call back into the channel (it would deadlock).
    ///
    /// # Cancel safety
    /// This method is cancel safe: dropping the future before it completes
    /// has no effect.
    ///
    /// # Errors
    /// [`RecvError`] if every sender is gone and the last
    /// value does not satisfy `predicate`.
    ///
    /// # Examples
    ///
    /// ```
    /// # futures_executor::block_on(async {
    /// let (tx, mut rx) = anysync::channel::watch::channel(0);
    /// let t = std::thread::spawn(move || {
    ///     for i in 1..=5 {
    ///         tx.send(i).unwrap();
    ///     }
    /// });
    /// let v = rx.wait_for(|&n| n >= 5).await.unwrap();
    /// assert_eq!(*v, 5);
    /// # t.join().unwrap();
    /// # });
    /// ```
    pub fn wait_for<F: FnMut(&T) -> bool>(&mut self, predicate: F) -> futures::WaitFor<'_, T, F> {
        let Receiver { shared, seen, .. } = self;
        futures::WaitFor {
            seen,
            predicate,
            checked: None,
            done: false,
            wait: Wait::new(&**shared, ()),
        }
    }

    /// `true` if both receivers belong to the same channel.
    pub fn same_channel(&self, other: &Receiver<T>) -> bool {
        SharedArc::ptr_eq(&self.shared, &other.shared)
    }

    /// A snapshot of the channel's handles and waiting tasks.
    ///
    /// It takes the channel's locks and counts the waiters: meant for
    /// monitoring and tests, not for a hot path.
    ///
    /// # Examples
    ///
    /// ```
    /// let (_tx, rx) = anysync::channel::watch::channel(0);
    /// let _rx2 = rx.clone();
    /// let s = rx.statistics();
    /// assert_eq!((s.senders, s.receivers), (1, 2));
    /// assert_eq!((s.changed_waiters, s.closed_waiters), (0, 0));
    /// ```
    pub fn statistics(&self) -> WatchStatistics {
        self.shared.statistics()
    }
}

impl<T> Stream for Receiver<T> {
    type Item = Arc<T>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Arc<T>>> {
        let this = self.get_mut();
        if this.stream_ended {
            return Poll::Ready(None);
        }
        let wait = this
            .stream_wait
            .get_or_insert_with(|| Box::pin(Wait::new(SharedArc::clone(&this.shared), ())));
        let (shared, mut node) = wait.as_mut().split();
        let mut fresh = if this.stream_started {
            prepare(&mut node, cx.waker())
        } else {
            None
        };
        let mut queue = shared.value.lock();
        let state = queue.state_ref();
        let (version, closed) = (state.version, state.senders == 0);
        if this.stream_started && version == this.seen {
            if closed {
                this.stream_ended = true;
                let (_, old) = node.remove(&mut queue);
                drop(queue);
                drop(old);
                drop(fresh);
                return Poll::Ready(None);
            }
            let old = park(&mut node, &mut queue, cx.waker(), &mut fresh);
            drop(queue);
            drop(old);
            drop(fresh);
            return Poll::Pending;
        }
        let value = Arc::clone(&state.value);
        this.seen = version;
        this.stream_started = true;
        // Leave the queue if we are in it (nothing to pass on).
        let (_, old) = node.remove(&mut queue);
        drop(queue);
        drop(old);
        drop(fresh);
        Poll::Ready(Some(value))
    }
}

// The boxed wait node of the stream (its cells are why the compiler cannot
// tell) is only changed under the channel's lock or through `&mut self`,
// by operations that finish before any user code runs: a panic caught
// around a use of a receiver never leaves it half-changed, and nothing
// poisons.
impl<T> core::panic::UnwindSafe for Receiver<T> {}
impl<T> core::panic::RefUnwindSafe for Receiver<T> {}

impl<T> FusedStream for Receiver<T> {
    fn is_terminated(&self) -> bool {
        self.stream_ended
    }
}

impl<T> Clone for Receiver<T> {
    fn clone(&self) -> Self {
        self.shared.receivers.fetch_add(1, Ordering::AcqRel);
        Receiver::new(SharedArc::clone(&self.shared), self.seen)
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        if self.shared.receivers.fetch_sub(1, Ordering::AcqRel) == 1 {
            // The last receiver: wake the senders waiting in `closed()`.
            // They check the count under this lock, so none is missed.
            self.shared
                .closed
                .wake_loop(|queue, batch| queue.wake_front(batch, |_, _, _| Visit::Wake));
        }
    }
}

impl<T> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (version, senders) = {
            let queue = self.shared.value.lock();
            (queue.state_ref().version, queue.state_ref().senders)
        };
        f.debug_struct("Receiver")
            .field("version", &version)
            .field("seen", &self.seen)
            .field("closed", &(senders == 0))
            .finish()
    }
}

/// Before the lock: consumes a wake-up the node holds (there is nothing to
/// pass on: wake-ups are broadcast) and, if the node will have to be queued
/// again, clones the waker now, so that a `Waker::clone` that calls back
/// into this channel cannot deadlock. Returns that clone for [`park`].
fn prepare(node: &mut WaitNode<'_, ()>, waker: &Waker) -> Option<Waker> {
    let _ = node.take_woken(|_| ());
    (!node.is_queued()).then(|| waker.clone())
}

/// Makes sure the node is queued with `waker` (`fresh`: its clone made by
/// [`prepare`], if any); returns a waker to drop once the lock is
/// released.
fn park<S>(
    node: &mut WaitNode<'_, ()>,
    queue: &mut QueueGuard<'_, S, ()>,
    waker: &Waker,
    fresh: &mut Option<Waker>,
) -> Option<Waker> {
    match node.state(queue) {
        WaitState::Waiting => node.update_waker(queue, waker),
        WaitState::Woken | WaitState::Idle => {
            // A wake-up that found nothing new (or a first poll): queue
            // again. There is no grant to pass on: wake-ups are broadcast.
            // Clone first: if it panics, nothing is dropped under the lock.
            let waker = fresh.take().unwrap_or_else(|| waker.clone());
            let (_, old) = node.remove(queue);
            node.enqueue_with(queue, waker);
            old
        }
    }
}

#[cfg(feature = "std")]
#[cfg_attr(docsrs, doc(cfg(feature = "std")))]
impl<T> Receiver<T> {
    /// Blocks the current thread until a value this receiver has not
    /// seen is stored, like [`changed`](Self::changed).
    ///
    /// Meant for plain threads; calling it from a task blocks that
    /// executor thread.
    ///
    /// # Errors
    /// As [`changed`](Self::changed).
    pub fn changed_blocking(&mut self) -> Result<(), RecvError> {
        crate::util::block_on::block_on(self.changed())
    }
}

/// The named futures returned by this module's methods.
pub mod futures {
    use super::*;

    pin_project!(
        /// Future returned by [`Receiver::changed`].
        #[must_use = "futures do nothing unless you `.await` or poll them"]
        pub struct Changed<'a, T> {
            // The receiver's `seen`; the receiver's `shared` is in `wait`.
            pub(super) seen: &'a mut u64,
            pub(super) done: bool,
            #[pin]
            pub(super) wait: Wait<&'a Shared<T>, ValueSide>,
        }
    );

    impl<T> Future for Changed<'_, T> {
        type Output = Result<(), RecvError>;

        fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
            let this = self.project();
            assert!(!*this.done, "`Changed` polled after completion");
            let seen = &mut **this.seen;
            let (shared, mut node) = this.wait.split();
            let mut fresh = prepare(&mut node, cx.waker());
            let mut queue = shared.value.lock();
            let (version, senders) = (queue.state_ref().version, queue.state_ref().senders);
            let result = if version != *seen {
                *seen = version;
                Ok(())
            } else if senders == 0 {
                Err(RecvError)
            } else {
                let old = park(&mut node, &mut queue, cx.waker(), &mut fresh);
                drop(queue);
                drop(old);
                drop(fresh);
                return Poll::Pending;
            };
            // Leave the queue if we are in it (nothing to pass on).
            let (_, old) = node.remove(&mut queue);
            drop(queue);
            drop(old);
            drop(fresh);
            *this.done = true;
            Poll::Ready(result)
        }
    }

    impl<T> FusedFuture for Changed<'_, T> {
        fn is_terminated(&self) -> bool {
            self.done
        }
    }

    impl<T> fmt::Debug for Changed<'_, T> {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.debug_struct("Changed")
                .field("seen", &*self.seen)
                .field("done", &self.done)
                .finish()
        }
    }

    pin_project!(
        /// Future returned by [`Receiver::wait_for`].
        #[must_use = "futures do nothing unless you `.await` or poll them"]
        pub struct WaitFor<'a, T, F> {
            // The receiver's `seen`; the receiver's `shared` is in `wait`.
            pub(super) seen: &'a mut u64,
            pub(super) predicate: F,
            // The last version shown to the predicate (which said no).
            pub(super) checked: Option<u64>,
            pub(super) done: bool,
            #[pin]
            pub(super) wait: Wait<&'a Shared<T>, ValueSide>,
        }
    );

    impl<T, F: FnMut(&T) -> bool> Future for WaitFor<'_, T, F> {
        type Output = Result<Arc<T>, RecvError>;

        fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
            let this = self.project();
            assert!(!*this.done, "`WaitFor` polled after completion");
            let seen = &mut **this.seen;
            let (shared, mut node) = this.wait.split();
            loop {
                let mut fresh = None;
                if this.checked.is_some() {
                    // Likely to wait: clone before the lock.
                    fresh = prepare(&mut node, cx.waker());
                }
                let mut queue = shared.value.lock();
                let state = queue.state_ref();
                let (version, closed) = (state.version, state.senders == 0);
                if *this.checked == Some(version) && !closed {
                    // Nothing new since the predicate said no: wait.
                    let old = park(&mut node, &mut queue, cx.waker(), &mut fresh);
                    drop(queue);
                    drop(old);
                    drop(fresh);
                    return Poll::Pending;
                }
                let value = Arc::clone(&state.value);
                // Leave the queue if we are in it (nothing to pass on).
                let (_, old) = node.remove(&mut queue);
                drop(queue);
                drop(old);
                if *this.checked != Some(version) {
                    // The predicate is user code: run it with no lock held.
                    if (this.predicate)(&value) {
                        *seen = version;
                        *this.done = true;
                        return Poll::Ready(Ok(value));
                    }
                    *this.checked = Some(version);
                }
                if closed {
                    *this.done = true;
                    return Poll::Ready(Err(RecvError));
                }
            }
        }
    }

    impl<T, F: FnMut(&T) -> bool> FusedFuture for WaitFor<'_, T, F> {
        fn is_terminated(&self) -> bool {
            self.done
        }
    }

    impl<T, F> fmt::Debug for WaitFor<'_, T, F> {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.debug_struct("WaitFor")
                .field("checked", &self.checked)
                .field("done", &self.done)
                .finish()
        }
    }

    pin_project!(
        /// Future returned by [`Sender::closed`].
        #[must_use = "futures do nothing unless you `.await` or poll them"]
        pub struct Closed<'a, T> {
            pub(super) done: bool,
            #[pin]
            pub(super) wait: Wait<&'a Shared<T>, ClosedSide>,
        }
    );

    impl<T> Future for Closed<'_, T> {
        type Output = ();

        fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
            let this = self.project();
            assert!(!*this.done, "`Closed` polled after completion");
            let (shared, mut node) = this.wait.split();
            // Woken by the last receiver's drop: done, without the lock.
            if node.take_woken(|_| ()).is_some() {
                *this.done = true;
                return Poll::Ready(());
            }
            // A first poll may have to wait: clone before the lock.
            let mut fresh = (!node.is_queued()).then(|| cx.waker().clone());
            let mut queue = shared.closed.lock();
            let ready = match node.state(&queue) {
                WaitState::Woken => true,
                // The last receiver's drop decrements the count, then takes
                // this lock to wake: checked under it, nothing is missed.
                _ => shared.receivers.load(Ordering::Acquire) == 0,
            };
            let old = if ready {
                *this.done = true;
                node.remove(&mut queue).1
            } else {
                park(&mut node, &mut queue, cx.waker(), &mut fresh)
            };
            drop(queue);
            drop(old);
            drop(fresh);
            if ready {
                Poll::Ready(())
            } else {
                Poll::Pending
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
}

#[cfg(test)]
mod tests;

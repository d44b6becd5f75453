//! `Event`: a latched flag that tasks can wait for (asyncio.Event).

use core::{
    fmt,
    future::Future,
    ops::Deref,
    pin::Pin,
    task::{Context, Poll, Waker},
};

use futures_core::FusedFuture;
use pin_project_lite::pin_project;

use crate::{
    loom::sync::atomic::{AtomicUsize, Ordering},
    waitq::{self, QueueGuard, Visit, WaitNode, WaitOwner, WaitQueue, WaitState},
};

/// A flag that tasks wait for: [`set`](Self::set) releases every waiter at
/// once, and until [`clear`](Self::clear) every later
/// [`wait`](Self::wait) completes at once.
///
/// * Every waiter that is waiting when `set` is called is released, even if
///   `clear` follows at once, before it runs.
/// * An [`EventWait`] future counts from its creation: if the event is set after
///   `wait()` was called and cleared again before the future is first
///   polled, the future still completes.
/// * Waits never allocate.
///
/// Use [`Notify`](super::Notify) for a wake-up that is consumed by one
/// waiter, and a `watch` channel for a value that changes.
///
/// # Examples
///
/// ```
/// # futures_executor::block_on(async {
/// use anysync::sync::Event;
///
/// let ready = Event::new();
/// assert!(!ready.is_set());
/// ready.set();
/// ready.wait().await; // set: completes at once
/// ready.clear();
/// assert!(!ready.is_set());
/// # });
/// ```
///
/// # Unwind safety
///
/// `UnwindSafe` and `RefUnwindSafe`: there is no poisoning, and a panic
/// in user code never leaves a event broken (what a panicking task held
/// is released by the drops that run as it unwinds, and a waiting future
/// dropped that way passes on what it was given).
///
/// # Implementation notes
///
/// One atomic word holds `generation << 2 | WAITERS | SET`, so `is_set` and
/// a `wait` on a set event are one atomic load, and a reader never sees the
/// flag and the generation out of step. `set` raises the flag and bumps the
/// generation in one compare-and-swap (a plain store when it holds the lock
/// and finds `WAITERS` set); only if `WAITERS` says someone may be
/// queued does it take the queue lock, and then it wakes the waiters that
/// were queued before it (by sequence number, so a `clear` and new waiters
/// arriving while it wakes in batches are not affected). One waiter, the
/// usual case, is woken without a wake batch. A waiter sets `WAITERS` under
/// the lock, in a compare-and-swap that fails if the event was released, so
/// a `set` that skipped the lock cannot miss it; `set` clears it when it
/// empties the queue. `clear` drops the flag only. (With two atomics, a task that saw one half of a `set`, cleared
/// the event and waited again could be released by the other half: a
/// manual-reset ping-pong lost a hand-off that way.)
pub struct Event {
    state: AtomicUsize,
    queue: WaitQueue<(), ()>,
}

/// The flag bit of `Event::state`.
const SET: usize = 1;
/// A waiter may be queued: `set` must take the lock. Set only under the
/// lock, by a waiter about to queue.
const WAITERS: usize = 1 << 1;
/// The generation counts in the bits above `WAITERS`.
const GEN_SHIFT: u32 = 2;

impl Event {
    crate::util::macros::loom_const_fn!(
        /// A new event, not set.
        pub fn new() -> Event {
            Event {
                state: AtomicUsize::new(0),
                queue: WaitQueue::new(()),
            }
        }
    );

    /// `true` if the event is set.
    #[inline]
    pub fn is_set(&self) -> bool {
        self.state.load(Ordering::Acquire) & SET != 0
    }

    /// Sets the event, releasing every current waiter. Setting a set event
    /// does nothing.
    pub fn set(&self) {
        let mut cur = self.state.load(Ordering::Acquire);
        loop {
            if cur & SET != 0 {
                return;
            }
            if cur & WAITERS != 0 {
                return self.set_and_wake();
            }
            // Nobody queued: flag and generation in one step, no lock.
            let next = (cur | SET).wrapping_add(1 << GEN_SHIFT);
            match self
                .state
                .compare_exchange_weak(cur, next, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) => return,
                Err(actual) => cur = actual,
            }
        }
    }

    /// `set` with waiters queued: raises the flag under the lock and wakes
    /// every waiter queued before that.
    #[cold]
    fn set_and_wake(&self) {
        let mut queue = self.queue.lock();
        // One waiter (the usual case, a hand-off) is woken below and leaves
        // the queue empty: `WAITERS` is cleared in the same step as the flag
        // is raised, rather than by a second read-modify-write. Under the
        // lock no waiter can queue (and set `WAITERS` again) meanwhile.
        // Counted with an early stop, so this is O(1) whatever the queue.
        let mut queued = 0;
        queue.visit_front(|_, _, _| {
            queued += 1;
            queued < 2
        });
        let clear = if queued <= 1 { WAITERS } else { 0 };
        // Flag and generation in one step. The flag must be up before any
        // waiter is marked woken: a woken waiter may complete and `clear`
        // at once, without waiting for its wake-up call.
        let mut cur = self.state.load(Ordering::Acquire);
        // Whether `WAITERS` went down with the flag (not if another `set`
        // raised the flag first).
        let mut cleared = false;
        while cur & SET == 0 {
            let next = (cur | SET).wrapping_add(1 << GEN_SHIFT) & !clear;
            if cur & WAITERS != 0 {
                // A plain store: with `WAITERS` set and the lock held, only
                // a `clear` can write the word, and with the flag down it
                // writes it back unchanged (one after the store clears
                // this `set`). A lock-free `set` expects `WAITERS` down,
                // which only a lock holder can make it, so its
                // compare-and-swap fails; every other writer
                // (`announce_waiter_locked`, `no_waiters_locked`, another
                // `set_and_wake`) holds the lock.
                self.state.store(next, Ordering::Release);
                cleared = clear != 0;
                break;
            }
            // `WAITERS` went down (an earlier `set` woke the last waiter,
            // or it was cancelled) after this `set` saw it: a lock-free
            // `set` may race this one, so compare-and-swap.
            match self
                .state
                .compare_exchange_weak(cur, next, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) => {
                    cleared = clear != 0;
                    break;
                }
                Err(actual) => cur = actual,
            }
        }
        let end = queue.next_seq();
        let before = |_: &mut (), _: &mut (), seq| {
            if seq < end {
                Visit::Wake
            } else {
                Visit::Stop
            }
        };
        // The head first, without a batch: usually it is the only one.
        let mut first = queue.wake_head(before);
        if queue.is_empty() {
            if !cleared {
                self.no_waiters_locked();
            }
            drop(queue);
            if let Some(waker) = first {
                waker.wake();
            }
            return;
        }
        drop(queue);
        // More waiters: the first one goes into the first batch, so that a
        // wake that panics strands no one.
        self.queue.wake_loop(|queue, batch| {
            if let Some(waker) = first.take() {
                batch.push(waker);
            }
            let more = queue.wake_front(batch, before);
            if queue.is_empty() {
                self.no_waiters_locked();
            }
            more
        });
    }

    /// Clears `WAITERS`; the queue lock is held and the queue is empty.
    fn no_waiters_locked(&self) {
        self.state.fetch_and(!WAITERS, Ordering::AcqRel);
    }

    /// Clears the event: later waits block until the next [`set`](Self::set).
    /// Waiters already released by a `set` are not affected.
    #[inline]
    pub fn clear(&self) {
        self.state.fetch_and(!SET, Ordering::AcqRel);
    }

    /// The number of tasks waiting.
    pub fn waiters(&self) -> usize {
        self.queue.lock().len()
    }

    /// A snapshot of the event's state.
    pub fn statistics(&self) -> EventStatistics {
        EventStatistics {
            set: self.is_set(),
            waiters: self.waiters(),
        }
    }

    /// Waits until the event is set.
    ///
    /// # Wakers
    ///
    /// The future clones the task's waker with the primitive's lock released
    /// when it starts waiting, so that clone may call back into this
    /// primitive. If it is polled again with a waker that does not
    /// [`will_wake`](core::task::Waker::will_wake) the one it holds, the new
    /// one is cloned under the lock: a `Waker::clone` that calls back into the
    /// same primitive then deadlocks.
    ///
    /// # Cancel safety
    /// This method is cancel safe: dropping the future before it completes
    /// has no effect.
    #[inline]
    pub fn wait(&self) -> EventWait<'_> {
        EventWait {
            inner: Event::wait_via(self),
        }
    }

    /// A wait on the event that `ptr` leads to, holding `ptr` for as long
    /// as it exists: how an owned future (one that keeps the event alive
    /// through an `Arc`) waits without borrowing.
    #[inline]
    pub(crate) fn wait_via<P: Deref<Target = Event>>(ptr: P) -> WaitVia<P> {
        WaitVia {
            generation: ptr.state.load(Ordering::Acquire) >> GEN_SHIFT,
            done: false,
            wait: waitq::Wait::new(ptr, ()),
        }
    }

    /// `true` once the event has been set since `generation` was read (or
    /// is set now).
    #[inline]
    fn released(&self, generation: usize) -> bool {
        released(self.state.load(Ordering::Acquire), generation)
    }
}

/// `true` if `state` says the event was set since `generation` (or is set).
#[inline]
fn released(state: usize, generation: usize) -> bool {
    state & SET != 0 || state >> GEN_SHIFT != generation
}

impl Event {
    /// A waiter about to queue (lock held): sets `WAITERS` unless the event
    /// was released since `generation`. Returns `false` if it was (then
    /// nothing changed and the waiter completes).
    #[inline]
    fn announce_waiter_locked(&self, generation: usize) -> bool {
        let mut cur = self.state.load(Ordering::Acquire);
        loop {
            if released(cur, generation) {
                return false;
            }
            if cur & WAITERS != 0 {
                return true;
            }
            match self.state.compare_exchange_weak(
                cur,
                cur | WAITERS,
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => return true,
                Err(actual) => cur = actual,
            }
        }
    }
}

impl WaitOwner for Event {
    type State = ();
    type Data = ();

    fn wait_queue(&self) -> &WaitQueue<(), ()> {
        &self.queue
    }

    fn abandon(&self, queue: QueueGuard<'_, (), ()>, _was: WaitState, _data: &mut ()) {
        // `set` releases everyone: a woken waiter holds nothing to pass on.
        // The last waiter gone lets `set` skip the lock again.
        if queue.is_empty() && self.state.load(Ordering::Relaxed) & WAITERS != 0 {
            self.no_waiters_locked();
        }
        drop(queue);
    }
}

/// A snapshot of an [`Event`], from [`Event::statistics`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct EventStatistics {
    /// The event is set.
    pub set: bool,
    /// Tasks waiting for it.
    pub waiters: usize,
}

impl Default for Event {
    fn default() -> Self {
        Event::new()
    }
}

impl fmt::Debug for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Event")
            .field("set", &self.is_set())
            .finish()
    }
}

pin_project!(
    /// Future returned by [`Event::wait`].
    #[must_use = "futures do nothing unless you `.await` or poll them"]
    pub struct EventWait<'a> {
        #[pin]
        inner: WaitVia<&'a Event>,
    }
);

impl Future for EventWait<'_> {
    type Output = ();

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        self.project().inner.poll(cx)
    }
}

pin_project!(
    /// A wait on the event behind `P` (see [`Event::wait_via`]): the
    /// engine of [`EventWait`] and of the owned waits elsewhere in the
    /// crate. `P` is dropped after the node has left the queue.
    pub(crate) struct WaitVia<P>
    where
        P: Deref<Target = Event>,
    {
        generation: usize,
        done: bool,
        #[pin]
        wait: waitq::Wait<P>,
    }
);

// What the owned waits (`alloc` only) ask of their wait.
#[cfg(feature = "alloc")]
impl<P: Deref<Target = Event>> WaitVia<P> {
    /// The pointer this wait holds.
    pub(crate) fn ptr(&self) -> &P {
        self.wait.ptr()
    }

    /// `true` once the wait has completed.
    pub(crate) fn is_done(&self) -> bool {
        self.done
    }
}

impl<P: Deref<Target = Event>> WaitVia<P> {
    /// For a caller that learned from elsewhere that the wait is over (a
    /// token's flag, a cell's value) and completes without polling:
    /// consumes a wake-up already delivered, without the lock, so that
    /// dropping the wait then has nothing to unlink. A node still waiting
    /// is left for the drop to unlink, as before.
    #[inline]
    pub(crate) fn finish_if_woken(self: Pin<&mut Self>) {
        let this = self.project();
        let (_, mut node) = this.wait.split();
        if node.take_woken(|_| ()).is_some() {
            *this.done = true;
        }
    }
}

impl EventWait<'_> {
    /// [`WaitVia::finish_if_woken`] for a borrowed wait.
    #[inline]
    pub(crate) fn finish_if_woken(self: Pin<&mut Self>) {
        self.project().inner.finish_if_woken();
    }
}

impl<P: Deref<Target = Event>> Future for WaitVia<P> {
    type Output = ();

    /// The hot path is inlined into the caller: a woken wait completes
    /// without the lock, and without the call into the larger
    /// [`poll_wait`] (its prologue and epilogue were a sixth of a
    /// ping-pong wait's cost in the profile).
    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.project();
        assert!(!*this.done, "`EventWait` polled after completion");
        let generation = *this.generation;
        let (event, mut node) = this.wait.split();
        // Woken by a `set`: complete without the lock.
        let poll = if node.take_woken(|_| ()).is_some() {
            Poll::Ready(())
        } else {
            poll_wait(event, &mut node, generation, cx.waker())
        };
        if poll.is_ready() {
            *this.done = true;
        }
        poll
    }
}

/// A [`WaitVia`] poll that found no wake-up delivered to its node:
/// completes if the event was released since `generation`, else queues
/// the node (or makes `waker` the one to wake).
#[inline(never)]
fn poll_wait(
    event: &Event,
    node: &mut WaitNode<'_, ()>,
    generation: usize,
    waker: &Waker,
) -> Poll<()> {
    if event.released(generation) {
        if node.is_queued() {
            leave(event, node);
        }
        return Poll::Ready(());
    }
    // A node not queued yet is about to wait (the event is not set):
    // clone the waker before the lock, so that a `Waker::clone` that
    // calls back into this event cannot deadlock.
    let mut fresh = if node.is_queued() {
        None
    } else {
        Some(waker.clone())
    };
    let mut queue = event.queue.lock();
    let ready = match node.state(&queue) {
        WaitState::Woken => true,
        WaitState::Waiting => {
            let old = node.update_waker(&mut queue, waker);
            drop(queue);
            drop(old);
            return Poll::Pending;
        }
        WaitState::Idle => {
            // A `set` that sees `WAITERS` takes this lock to wake.
            if !event.announce_waiter_locked(generation) {
                true
            } else {
                let waker = fresh.take().unwrap_or_else(|| waker.clone());
                node.enqueue_with(&mut queue, waker);
                false
            }
        }
    };
    if ready {
        let (_, waker) = node.remove(&mut queue);
        drop(queue);
        drop(waker);
        drop(fresh);
        Poll::Ready(())
    } else {
        Poll::Pending
    }
}

/// Takes a released waiter's node out of the queue (or consumes its
/// wake-up), dropping its waker after the lock.
fn leave(event: &Event, node: &mut WaitNode<'_, ()>) {
    let waker = {
        let mut queue = event.queue.lock();
        node.remove(&mut queue).1
    };
    drop(waker);
}

impl FusedFuture for EventWait<'_> {
    fn is_terminated(&self) -> bool {
        self.inner.done
    }
}

impl fmt::Debug for EventWait<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EventWait")
            .field("done", &self.inner.done)
            .finish()
    }
}

#[cfg(feature = "std")]
#[cfg_attr(docsrs, doc(cfg(feature = "std")))]
impl Event {
    /// Blocks the current thread until the event is set.
    ///
    /// Meant for plain threads; calling it from a task blocks that
    /// executor thread.
    pub fn wait_blocking(&self) {
        crate::util::block_on::block_on(self.wait())
    }
}

// Unwind safety (see the type's docs): the state is never left broken by a
// panic in user code. A waiting future caught in a panic is still a
// consistent waiter (its drop leaves the queue), and a shared reference to
// one reaches only what `Debug` and `is_terminated` read. (The futures'
// intrusive nodes hide this from the auto traits.)
impl core::panic::UnwindSafe for Event {}
impl core::panic::RefUnwindSafe for Event {}
impl core::panic::RefUnwindSafe for EventWait<'_> {}
impl core::panic::UnwindSafe for EventWait<'_> {}

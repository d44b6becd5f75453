//! `Notify`: wake one task or all tasks, with one stored permit.

use core::{
    fmt,
    future::Future,
    pin::Pin,
    task::{Context, Poll, Waker},
};

use futures_core::FusedFuture;
use pin_project_lite::pin_project;

use crate::{
    loom::sync::atomic::{AtomicUsize, Ordering},
    waitq::{QueueGuard, Visit, Wait, WaitNode, WaitOwner, WaitQueue, WaitState},
};

/// No waiter, no permit.
const EMPTY: usize = 0;
/// At least one waiter is queued (only changed under the queue lock).
const WAITING: usize = 1;
/// A `notify_one` found no waiter and stored its permit.
const NOTIFIED: usize = 2;
const STATE_MASK: usize = 0b11;
/// `notify_all` generations count in the bits above the state.
const GEN_ONE: usize = 0b100;

/// How a waiter was woken: by `notify_one` or `notify_last` (a permit,
/// passed on if the waiter is dropped, in the same direction: to the next
/// oldest or the next newest waiter) or by `notify_all` (not passed on).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    None,
    One,
    Last,
    All,
}

/// Wakes tasks: one at a time, or all at once.
///
/// * [`notify_one`](Self::notify_one) wakes the longest-waiting task. If no
///   task is waiting, it stores **one** permit (several calls still store
///   one), and the next [`notified`](Self::notified) completes at once,
///   consuming it.
/// * [`notify_last`](Self::notify_last) is the same, waking the newest
///   waiter instead.
/// * [`notify_all`](Self::notify_all) wakes every waiting task and stores
///   nothing.
/// * A [`Notified`] future counts as waiting for `notify_all` from the
///   moment `notified()` is called, before it is ever polled. For
///   `notify_one` it counts from its first poll, or from
///   [`Notified::enable`].
/// * A task woken by `notify_one` that is dropped before it completes passes
///   the wake-up to the next waiter (or back to the stored permit), so a
///   notification is never lost to cancellation. A wake-up from
///   `notify_last` passes the same way to the next-newest waiter.
///
/// # Futurelock
///
/// [`notify_one`](Self::notify_one) hands its wake-up to one waiting
/// future. A woken future that is neither polled nor dropped (a `select!`
/// in a loop over a future made outside the loop, while another branch
/// awaits) keeps it, and no other waiter gets it. Create the waiting future
/// inside the loop, or drop it, so that a wake-up it received passes on.
///
/// # Examples
///
/// A hand-off where the notification may come before the wait:
///
/// ```
/// # futures_executor::block_on(async {
/// use anysync::sync::Notify;
///
/// let notify = Notify::new();
/// notify.notify_one(); // nobody waits: the permit is stored
/// notify.notified().await; // consumes it at once
/// # });
/// ```
///
/// # Unwind safety
///
/// `UnwindSafe` and `RefUnwindSafe`: there is no poisoning, and a panic
/// in user code never leaves a `Notify` broken (what a panicking task held
/// is released by the drops that run as it unwinds, and a waiting future
/// dropped that way passes on what it was given).
///
/// # Implementation notes
///
/// One atomic word holds `generation << 2 | EMPTY/WAITING/NOTIFIED`.
/// `notify_one` with nobody waiting, and `notified` on a stored permit, are
/// one compare-and-swap each. `WAITING` is set and cleared only under the
/// queue lock, so a `notify_one` that sees it takes the lock and wakes the
/// head waiter.
pub struct Notify {
    state: AtomicUsize,
    queue: WaitQueue<(), Kind>,
}

impl Notify {
    crate::util::macros::loom_const_fn!(
        /// A new `Notify` with no stored permit.
        pub fn new() -> Notify {
            Notify {
                state: AtomicUsize::new(EMPTY),
                queue: WaitQueue::new(()),
            }
        }
    );

    /// Wakes the longest-waiting task, or stores one permit if none waits.
    #[inline]
    pub fn notify_one(&self) {
        self.notify(false);
    }

    /// Wakes the most recently queued task, or stores one permit if none
    /// waits.
    #[inline]
    pub fn notify_last(&self) {
        self.notify(true);
    }

    #[inline]
    fn notify(&self, last: bool) {
        let mut cur = self.state.load(Ordering::Acquire);
        // Fast path: nobody waits, store the permit.
        while cur & STATE_MASK != WAITING {
            let next = (cur & !STATE_MASK) | NOTIFIED;
            match self
                .state
                .compare_exchange_weak(cur, next, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) => return,
                Err(actual) => cur = actual,
            }
        }
        self.notify_waiter(last);
    }

    /// `notify` with a waiter queued: wakes it.
    #[inline(never)]
    fn notify_waiter(&self, last: bool) {
        let waker = self.notify_locked(&mut self.queue.lock(), last);
        if let Some(waker) = waker {
            waker.wake();
        }
    }

    /// Picks one waiter (or stores the permit) with the lock held, and
    /// returns its waker to wake once the lock is released. One waiter, so
    /// no `WakeBatch` (its setup was a sixth of a notification's cost in
    /// the ping-pong profile).
    #[must_use = "wake the returned waker after releasing the lock"]
    fn notify_locked(&self, queue: &mut QueueGuard<'_, (), Kind>, last: bool) -> Option<Waker> {
        if queue.is_empty() {
            let cur = self.state.load(Ordering::Acquire);
            self.state
                .store((cur & !STATE_MASK) | NOTIFIED, Ordering::Release);
            return None;
        }
        let given = if last { Kind::Last } else { Kind::One };
        let pick = |_: &mut (), kind: &mut Kind, _| {
            *kind = given;
            Visit::Wake
        };
        let waker = if last {
            queue.wake_tail(pick)
        } else {
            queue.wake_head(pick)
        };
        if queue.is_empty() {
            self.clear_waiting_locked();
        }
        waker
    }

    /// Clears `WAITING` (the queue has just become empty), keeping the
    /// generation. Lock held and `WAITING` set: then every other change of
    /// the state needs the lock too (the lock-free paths, `notify`'s and
    /// `try_consume`'s, change it only while it is not `WAITING`), so a
    /// load and a plain store do, with no read-modify-write.
    fn clear_waiting_locked(&self) {
        let cur = self.state.load(Ordering::Acquire);
        debug_assert_eq!(cur & STATE_MASK, WAITING, "anysync bug: WAITING not set");
        self.state
            .store((cur & !STATE_MASK) | EMPTY, Ordering::Release);
    }

    /// Wakes every waiting task, including [`Notified`] futures created
    /// but not yet polled. Stores no permit, and does not consume one.
    pub fn notify_all(&self) {
        let mut end = None;
        self.queue.wake_loop(|queue, batch| {
            let end = *end.get_or_insert_with(|| {
                self.state.fetch_add(GEN_ONE, Ordering::AcqRel);
                queue.next_seq()
            });
            let more = queue.wake_front(batch, |_, kind, seq| {
                if seq < end {
                    *kind = Kind::All;
                    Visit::Wake
                } else {
                    Visit::Stop
                }
            });
            if queue.is_empty() && self.state.load(Ordering::Acquire) & STATE_MASK == WAITING {
                self.clear_waiting_locked();
            }
            more
        });
    }

    /// The number of tasks waiting.
    pub fn waiters(&self) -> usize {
        self.queue.lock().len()
    }

    /// A snapshot of the waiters and the stored permit.
    pub fn statistics(&self) -> NotifyStatistics {
        let queue = self.queue.lock();
        NotifyStatistics {
            waiters: queue.len(),
            permit: self.state.load(Ordering::Acquire) & STATE_MASK == NOTIFIED,
        }
    }

    /// Waits for a notification.
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
    /// This method is cancel safe. Dropping the future gives up its place in
    /// the queue; a wake-up it had already received is passed to the next
    /// waiter.
    #[inline]
    pub fn notified(&self) -> Notified<'_> {
        Notified {
            state: State::Init {
                notify: self,
                generation: self.state.load(Ordering::Acquire) & !STATE_MASK,
            },
        }
    }

    /// The first poll's lock-free path: `true` if a `notify_all` happened
    /// since `notified()` (`generation`), or if a stored permit was there to
    /// consume (it is consumed). The same transition as
    /// [`register`](Self::register), which needs no lock because a
    /// permit is only stored while nobody waits. Without it, notify-then-wait
    /// took the queue lock and cloned the waker (2.6x event-listener's time).
    #[inline]
    fn try_consume(&self, generation: usize) -> bool {
        let mut cur = self.state.load(Ordering::Acquire);
        loop {
            if cur & !STATE_MASK != generation {
                return true;
            }
            if cur & STATE_MASK != NOTIFIED {
                return false;
            }
            match self.state.compare_exchange_weak(
                cur,
                (cur & !STATE_MASK) | EMPTY,
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => return true,
                Err(actual) => cur = actual,
            }
        }
    }

    /// A queued [`Notified`] polled again whose lock-free check
    /// ([`WaitNode::take_woken`], in the poll) found no wake-up: completes
    /// if one came since, else makes `waker` the one to wake.
    fn poll_queued(&self, mut node: WaitNode<'_, Kind>, waker: &Waker) -> Poll<Kind> {
        let mut queue = self.queue.lock();
        match node.state(&queue) {
            WaitState::Woken => {
                let (_, old) = node.remove(&mut queue);
                let kind = node.data(&mut queue, |kind| core::mem::replace(kind, Kind::None));
                drop(queue);
                drop(old);
                Poll::Ready(kind)
            }
            WaitState::Waiting => {
                let old = node.update_waker(&mut queue, waker);
                drop(queue);
                drop(old);
                Poll::Pending
            }
            // A node leaves the queue only through this future (which then
            // completes) or its drop.
            WaitState::Idle => unreachable!("anysync bug: a queued `Notified` has an idle node"),
        }
    }

    /// The first wait of a [`Notified`] (from its poll once the lock-free
    /// [`try_consume`](Self::try_consume) failed, or from `enable` with a
    /// no-op waker): completes if notified since `generation`, else queues
    /// the fresh node `node` with `waker`. The caller clones `waker` before
    /// the lock, so that a `Waker::clone` that calls back into this
    /// `Notify` cannot deadlock, and before it builds the node, so that a
    /// panicking one changes nothing.
    fn register(
        &self,
        mut node: WaitNode<'_, Kind>,
        generation: usize,
        waker: Waker,
    ) -> Poll<Kind> {
        let mut queue = self.queue.lock();
        let mut cur = self.state.load(Ordering::Acquire);
        loop {
            if cur & !STATE_MASK != generation {
                // A `notify_all` happened since `notified()`.
                drop(queue);
                drop(waker);
                return Poll::Ready(Kind::All);
            }
            let (next, ready) = if cur & STATE_MASK == NOTIFIED {
                ((cur & !STATE_MASK) | EMPTY, true)
            } else {
                ((cur & !STATE_MASK) | WAITING, false)
            };
            match self
                .state
                .compare_exchange_weak(cur, next, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) if ready => {
                    drop(queue);
                    drop(waker);
                    return Poll::Ready(Kind::One);
                }
                Ok(_) => break,
                Err(actual) => cur = actual,
            }
        }
        node.enqueue_with(&mut queue, waker);
        Poll::Pending
    }
}

impl WaitOwner for Notify {
    type State = ();
    type Data = Kind;

    fn wait_queue(&self) -> &WaitQueue<(), Kind> {
        &self.queue
    }

    /// A dropped waiter leaves the queue; a `notify_one` it was woken by
    /// goes to the next-oldest waiter, a `notify_last` to the next-newest
    /// (or either back to the stored permit).
    fn abandon(&self, mut queue: QueueGuard<'_, (), Kind>, was: WaitState, kind: &mut Kind) {
        let kind = core::mem::replace(kind, Kind::None);
        let mut next = None;
        match was {
            WaitState::Woken if matches!(kind, Kind::One | Kind::Last) => {
                next = self.notify_locked(&mut queue, kind == Kind::Last);
            }
            WaitState::Waiting if queue.is_empty() => self.clear_waiting_locked(),
            _ => {}
        }
        drop(queue);
        if let Some(waker) = next {
            waker.wake();
        }
    }
}

/// A snapshot of a [`Notify`], from [`Notify::statistics`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct NotifyStatistics {
    /// Tasks waiting for a notification.
    pub waiters: usize,
    /// A `notify_one` is stored for the next waiter.
    pub permit: bool,
}

impl Default for Notify {
    fn default() -> Self {
        Notify::new()
    }
}

impl fmt::Debug for Notify {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.state.load(Ordering::Acquire);
        f.debug_struct("Notify")
            .field("permit", &(state & STATE_MASK == NOTIFIED))
            .field("waiting", &(state & STATE_MASK == WAITING))
            .finish()
    }
}

pin_project!(
    /// Where a [`Notified`] stands.
    #[project = StateProj]
    enum State<'a> {
        /// Not registered yet; `generation` is the `notify_all` count at
        /// `notified()`.
        Init {
            notify: &'a Notify,
            generation: usize,
        },
        /// Registered in the queue (or woken from it, not yet polled). The
        /// node is built only when the future first has to wait: most of
        /// the future is the node, and a future that completes at once (a
        /// stored permit) then never writes it. Its drop leaves the queue
        /// and passes on a `notify_one` delivered to the node
        /// (`WaitOwner::abandon`).
        Queued {
            #[pin]
            wait: Wait<&'a Notify>,
        },
        /// `enable` found it already notified (by `notify_one`/`notify_last`
        /// or by `notify_all`); the next poll is ready. Dropped in this
        /// state, a `notify_one` or `notify_last` permit is passed on the
        /// same way.
        Notified {
            notify: &'a Notify,
            kind: Kind,
        },
        Done,
    }
);

pin_project!(
    /// Future returned by [`Notify::notified`].
    #[must_use = "futures do nothing unless you `.await` or poll them"]
    pub struct Notified<'a> {
        #[pin]
        state: State<'a>,
    }

    impl PinnedDrop for Notified<'_> {
        fn drop(this: Pin<&mut Self>) {
            // `enable` consumed a `notify_one` (or `notify_last`) that
            // nobody will use; the node is gone, so this is not the node's
            // to pass on.
            if let StateProj::Notified { notify, kind } = this.project().state.project() {
                match kind {
                    Kind::One => notify.notify_one(),
                    Kind::Last => notify.notify_last(),
                    _ => {}
                }
            }
        }
    }
);

impl<'a> State<'a> {
    /// From `Init`: builds the node, in place, and queues it (or completes).
    fn register(
        mut self: Pin<&mut Self>,
        notify: &'a Notify,
        generation: usize,
        waker: &Waker,
    ) -> Poll<Kind> {
        // Cloned first: see `Notify::register`.
        let waker = waker.clone();
        self.set(State::Queued {
            wait: Wait::new(notify, Kind::None),
        });
        let StateProj::Queued { wait } = self.project() else {
            unreachable!("anysync bug: `Notified` state just set")
        };
        let (notify, node) = wait.split();
        notify.register(node, generation, waker)
    }
}

impl Notified<'_> {
    /// Registers this future as a waiter without waiting, so that a
    /// `notify_one` from now on is delivered to it rather than stored.
    /// Returns `true` if it has already been notified (its next poll is
    /// ready).
    ///
    /// Use it to avoid a lost wake-up when the condition check comes after
    /// creating the future: create, `enable`, check, then await.
    pub fn enable(self: Pin<&mut Self>) -> bool {
        if matches!(self.state, State::Queued { .. }) {
            return self.finish_if_woken();
        }
        let mut state = self.project().state;
        let (notify, kind) = match state.as_mut().project() {
            StateProj::Done | StateProj::Notified { .. } => return true,
            StateProj::Queued { .. } => unreachable!("anysync bug: handled above"),
            StateProj::Init { notify, generation } => {
                let (notify, generation) = (*notify, *generation);
                let waker = futures_task::noop_waker_ref();
                match state.as_mut().register(notify, generation, waker) {
                    Poll::Ready(kind) => (notify, kind),
                    Poll::Pending => return false,
                }
            }
        };
        // The node is idle (its wake-up consumed, or never queued).
        state.set(State::Notified { notify, kind });
        true
    }

    /// If a notification already woke this queued future, consumes it
    /// without the lock and returns `true` (the next poll is ready, and a
    /// `notify_one` consumed this way is passed on by the drop, as a
    /// consumed one always is); otherwise changes nothing. `enable` uses
    /// it, and so does a caller that learned from elsewhere that what it
    /// waits for has happened (a count at zero) and completes without
    /// polling: the drop then has nothing to unlink.
    pub(crate) fn finish_if_woken(self: Pin<&mut Self>) -> bool {
        let mut state = self.project().state;
        if let StateProj::Queued { wait } = state.as_mut().project() {
            let notify: &Notify = wait.ptr();
            let (_, mut node) = wait.split();
            if let Some(kind) = node.take_woken(|kind| core::mem::replace(kind, Kind::None)) {
                state.set(State::Notified { notify, kind });
                return true;
            }
        }
        false
    }
}

impl Future for Notified<'_> {
    type Output = ();

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let mut state = self.project().state;
        let poll = match state.as_mut().project() {
            StateProj::Done => panic!("`Notified` polled after completion"),
            StateProj::Notified { .. } => Poll::Ready(Kind::None),
            StateProj::Init { notify, generation } => {
                let (notify, generation) = (*notify, *generation);
                if notify.try_consume(generation) {
                    Poll::Ready(Kind::None)
                } else {
                    state.as_mut().register(notify, generation, cx.waker())
                }
            }
            StateProj::Queued { wait } => {
                let (notify, mut node) = wait.split();
                // Woken by a notification: complete without the lock, and
                // without the call into `poll_queued`.
                match node.take_woken(|kind| core::mem::replace(kind, Kind::None)) {
                    Some(_) => Poll::Ready(Kind::None),
                    None => notify.poll_queued(node, cx.waker()),
                }
            }
        };
        match poll {
            // Done: drops the node, which is idle by now.
            Poll::Ready(_) => {
                state.set(State::Done);
                Poll::Ready(())
            }
            Poll::Pending => Poll::Pending,
        }
    }
}

impl FusedFuture for Notified<'_> {
    fn is_terminated(&self) -> bool {
        matches!(self.state, State::Done)
    }
}

impl fmt::Debug for Notified<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let phase = match self.state {
            State::Init { .. } => "init",
            State::Queued { .. } => "queued",
            State::Notified { .. } => "notified",
            State::Done => "done",
        };
        f.debug_struct("Notified").field("phase", &phase).finish()
    }
}

// Unwind safety (see the type's docs): the state is never left broken by a
// panic in user code. A waiting future caught in a panic is still a
// consistent waiter (its drop leaves the queue), and a shared reference to
// one reaches only what `Debug` and `is_terminated` read. (The futures'
// intrusive nodes hide this from the auto traits.)
impl core::panic::UnwindSafe for Notify {}
impl core::panic::RefUnwindSafe for Notify {}
impl core::panic::RefUnwindSafe for Notified<'_> {}
impl core::panic::UnwindSafe for Notified<'_> {}

//! A fair, weighted, closable semaphore.

use core::{
    fmt,
    future::Future,
    ops::Deref,
    pin::Pin,
    task::{Context, Poll},
};

use futures_core::FusedFuture;
use pin_project_lite::pin_project;

use crate::{
    loom::sync::atomic::{AtomicUsize, Ordering},
    waitq::{QueueGuard, Visit, Wait, WaitNode, WaitOwner, WaitQueue, WaitState},
};

/// Set while the wait queue is non-empty. Changed only with the queue lock held.
const QUEUED: usize = 0b01;
/// Set once by [`Semaphore::close`]; never cleared.
const CLOSED: usize = 0b10;
const SHIFT: usize = 2;

/// A counting semaphore: a set of permits that tasks acquire and release.
///
/// * **Fair.** Waiters are served strictly in arrival order. A large
///   [`acquire_many`](Self::acquire_many) at the head of the queue is not
///   overtaken by smaller requests behind it: released permits are assigned
///   to it until it is satisfied. [`try_acquire`](Self::try_acquire) never
///   jumps the queue either; it fails while anyone is waiting.
/// * **Weighted.** A task may acquire several permits at once.
/// * **Closable.** [`close`](Self::close) makes every pending and later
///   acquire fail with [`AcquireError::Closed`]; permits still out are
///   counted back in when released.
/// * **Waits never allocate**: the waiter lives in the acquire future.
///
/// The number of permits is not fixed: [`add_permits`](Self::add_permits)
/// adds some, and [`forget_permits`](Self::forget_permits) (available
/// ones) or [`SemaphorePermit::forget`] (held ones) remove some. So a request for
/// more permits than exist right now waits (for `add_permits`) rather than
/// failing, and while it waits at the head it holds back everyone behind it.
/// If your capacity is fixed and you want such a request refused at once,
/// use [`BoundedSemaphore`](super::BoundedSemaphore). Only a request above
/// [`Semaphore::MAX_PERMITS`], which can never be granted, fails at once
/// with [`AcquireError::TooLarge`].
///
/// # Futurelock
///
/// The permit is handed straight to the first waiter, so a waiting future
/// that has been woken owns it from then on. If that future is neither
/// polled nor dropped (a `select!` in a loop over a future made outside the
/// loop, while another branch awaits), it keeps the permit and every task
/// queued behind it waits. Create the waiting future inside the loop, or
/// drop it, so that a grant it received passes on.
///
/// # Examples
///
/// At most two tasks in the section at a time:
///
/// ```
/// # futures_executor::block_on(async {
/// use anysync::sync::Semaphore;
///
/// let sem = Semaphore::new(2);
/// let a = sem.acquire().await.unwrap();
/// let b = sem.acquire().await.unwrap();
/// assert!(sem.try_acquire().is_err()); // both permits are out
/// drop(a);
/// let _c = sem.try_acquire().unwrap();
/// # drop(b);
/// # });
/// ```
///
/// # Unwind safety
///
/// `UnwindSafe` and `RefUnwindSafe`: there is no poisoning, and a panic
/// in user code never leaves a semaphore broken (what a panicking task held
/// is released by the drops that run as it unwinds, and a waiting future
/// dropped that way passes on what it was given).
///
/// # Implementation notes
///
/// One atomic word holds `available << 2 | CLOSED | QUEUED`. Acquiring with
/// nobody queued is one compare-and-swap; releasing with nobody queued is one
/// compare-and-swap; neither touches the wait-queue lock. `QUEUED` is set and
/// cleared only under the lock, and while it is set `available` is zero:
/// released permits go to the queued waiters first, in order (partially to
/// the head if it needs more), and only what is left once the queue is empty
/// becomes available. That invariant is what makes the fast paths fair.
pub struct Semaphore {
    state: AtomicUsize,
    /// The lock-guarded state is the total number of permits (available,
    /// held and assigned to waiters), so that `add_permits` can refuse to
    /// go past [`Semaphore::MAX_PERMITS`] and a permit's drop never has to.
    queue: WaitQueue<usize, Need>,
}

/// Per-waiter data: how many permits it asked for and how many it has.
#[derive(Debug)]
pub(crate) struct Need {
    needed: usize,
    assigned: usize,
}

/// Why an acquire failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum AcquireError {
    /// The semaphore was [closed](Semaphore::close).
    Closed,
    /// More permits were requested than [`Semaphore::MAX_PERMITS`], so the
    /// request could never be granted.
    TooLarge {
        /// The number of permits requested.
        requested: usize,
    },
}

/// Why a `try_acquire` failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TryAcquireError {
    /// The semaphore was [closed](Semaphore::close).
    Closed,
    /// Not enough permits are available, or other tasks are queued first.
    NoPermits,
    /// More permits were requested than [`Semaphore::MAX_PERMITS`].
    TooLarge {
        /// The number of permits requested.
        requested: usize,
    },
}

impl fmt::Display for AcquireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AcquireError::Closed => f.write_str("semaphore closed"),
            AcquireError::TooLarge { requested } => write!(
                f,
                "requested {requested} permits, more than Semaphore::MAX_PERMITS ({})",
                Semaphore::MAX_PERMITS
            ),
        }
    }
}

impl fmt::Display for TryAcquireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TryAcquireError::Closed => f.write_str("semaphore closed"),
            TryAcquireError::NoPermits => f.write_str("no permits available"),
            TryAcquireError::TooLarge { requested } => write!(
                f,
                "requested {requested} permits, more than Semaphore::MAX_PERMITS ({})",
                Semaphore::MAX_PERMITS
            ),
        }
    }
}

impl core::error::Error for AcquireError {}
impl core::error::Error for TryAcquireError {}

impl Semaphore {
    /// The largest number of permits a semaphore can hold
    /// (`usize::MAX >> 3`).
    pub const MAX_PERMITS: usize = usize::MAX >> 3;

    crate::util::macros::loom_const_fn!(
        /// A semaphore with `permits` permits. Zero is allowed: acquirers
        /// then wait for [`add_permits`](Self::add_permits).
        ///
        /// # Panics
        /// If `permits` is greater than [`Semaphore::MAX_PERMITS`].
        #[track_caller]
        pub fn new(permits: usize) -> Self {
            assert!(
                permits <= Self::MAX_PERMITS,
                "Semaphore::new: `permits` exceeds Semaphore::MAX_PERMITS"
            );
            Self {
                state: AtomicUsize::new(permits << SHIFT),
                queue: WaitQueue::new(permits),
            }
        }
    );

    /// The number of permits available right now.
    pub fn available_permits(&self) -> usize {
        self.state.load(Ordering::Acquire) >> SHIFT
    }

    /// `true` once [`close`](Self::close) has been called.
    pub fn is_closed(&self) -> bool {
        self.state.load(Ordering::Acquire) & CLOSED != 0
    }

    /// The number of tasks waiting to acquire.
    pub fn waiters(&self) -> usize {
        self.queue.lock().len()
    }

    /// Waits for one permit.
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
    ///
    /// # Errors
    /// [`AcquireError::Closed`] if the semaphore is or becomes closed.
    #[inline]
    pub fn acquire(&self) -> Acquire<'_> {
        self.acquire_many(1)
    }

    /// Waits for `n` permits at once, in FIFO order with other waiters.
    ///
    /// `acquire_many(0)` completes at once with an empty permit, without
    /// queueing.
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
    /// waiter. Permits assigned to it so far are released.
    ///
    /// # Errors
    /// * [`AcquireError::Closed`] if the semaphore is or becomes closed.
    /// * [`AcquireError::TooLarge`] at once if `n` exceeds
    ///   [`Semaphore::MAX_PERMITS`].
    #[inline]
    pub fn acquire_many(&self, n: usize) -> Acquire<'_> {
        Acquire {
            inner: AcquireInner::new(self, n),
        }
    }

    /// Takes one permit if one is available and nobody is queued.
    ///
    /// # Errors
    /// [`TryAcquireError::NoPermits`] or [`TryAcquireError::Closed`].
    pub fn try_acquire(&self) -> Result<SemaphorePermit<'_>, TryAcquireError> {
        self.try_acquire_many(1)
    }

    /// Takes `n` permits if they are available and nobody is queued.
    ///
    /// # Errors
    /// [`TryAcquireError::NoPermits`], [`TryAcquireError::Closed`], or
    /// [`TryAcquireError::TooLarge`] if `n` exceeds
    /// [`Semaphore::MAX_PERMITS`].
    pub fn try_acquire_many(&self, n: usize) -> Result<SemaphorePermit<'_>, TryAcquireError> {
        self.try_take(n).map(|()| SemaphorePermit {
            sem: self,
            permits: n,
        })
    }

    /// Adds `n` permits, waking queued acquirers that can now proceed.
    ///
    /// # Panics
    /// If the total (available, held by anyone and assigned to waiters)
    /// would exceed [`Semaphore::MAX_PERMITS`]; nothing changes then.
    #[track_caller]
    pub fn add_permits(&self, n: usize) {
        if n == 0 {
            return;
        }
        {
            let mut queue = self.queue.lock();
            let total = queue.state();
            match total.checked_add(n) {
                Some(t) if t <= Self::MAX_PERMITS => *total = t,
                _ => panic!(
                    "Semaphore::add_permits: `n` ({n}) would make the total exceed \
                     Semaphore::MAX_PERMITS"
                ),
            }
        }
        self.release(n);
    }

    /// Removes up to `n` of the permits available right now, for good, and
    /// returns how many it removed. The total shrinks by as many, so
    /// [`add_permits`](Self::add_permits) may add them back later.
    ///
    /// Only available permits are removed: permits held by guards, or
    /// already assigned to a waiting acquire, are not touched (while anyone
    /// waits, nothing is available, and this returns 0).
    ///
    /// # Examples
    ///
    /// ```
    /// use anysync::sync::Semaphore;
    ///
    /// let sem = Semaphore::new(5);
    /// let _held = sem.try_acquire_many(2).unwrap();
    /// assert_eq!(sem.forget_permits(4), 3); // only 3 were available
    /// assert_eq!(sem.available_permits(), 0);
    /// ```
    pub fn forget_permits(&self, n: usize) -> usize {
        if n == 0 {
            return 0;
        }
        // Under the lock, so that the total and the available count shrink
        // together as far as `add_permits` can tell.
        let mut queue = self.queue.lock();
        let mut cur = self.state.load(Ordering::Acquire);
        let removed = loop {
            let removed = (cur >> SHIFT).min(n);
            match self.state.compare_exchange_weak(
                cur,
                cur - (removed << SHIFT),
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => break removed,
                Err(actual) => cur = actual,
            }
        };
        let total = queue.state();
        *total = total.saturating_sub(removed);
        removed
    }

    /// Drops `n` held permits from the total for good (a permit guard was
    /// forgotten: they are not coming back).
    pub(crate) fn shrink_total(&self, n: usize) {
        if n > 0 {
            let mut queue = self.queue.lock();
            let total = queue.state();
            *total = total.saturating_sub(n);
        }
    }

    /// Closes the semaphore: every queued and later acquire fails with
    /// [`AcquireError::Closed`]. Permits already held stay valid and are
    /// counted back in when released. Idempotent.
    pub fn close(&self) {
        self.queue.wake_loop(|queue, batch| {
            self.state.fetch_or(CLOSED, Ordering::AcqRel);
            let more = queue.wake_front(batch, |_, _, _| Visit::Wake);
            if queue.is_empty() {
                self.state.fetch_and(!QUEUED, Ordering::AcqRel);
            }
            more
        });
    }

    /// The non-waiting acquire shared by `try_acquire*` and the fast path.
    #[inline]
    fn try_take(&self, n: usize) -> Result<(), TryAcquireError> {
        let mut cur = self.state.load(Ordering::Acquire);
        loop {
            // One test for the common case. A request above `MAX_PERMITS`
            // fails it too (never more than that are available), and so
            // does `n == 0`, which needs no compare-and-swap: both are
            // told apart in `try_take_other`.
            if cur & (CLOSED | QUEUED) != 0 || (cur >> SHIFT) < n || n == 0 {
                return Self::try_take_other(cur, n);
            }
            match self.state.compare_exchange_weak(
                cur,
                cur - (n << SHIFT),
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => return Ok(()),
                Err(actual) => cur = actual,
            }
        }
    }

    /// `try_take` when the state `cur` does not let `n` permits be taken
    /// at once: which error it is (or an empty grant, for `n == 0`).
    #[cold]
    fn try_take_other(cur: usize, n: usize) -> Result<(), TryAcquireError> {
        if n > Self::MAX_PERMITS {
            Err(TryAcquireError::TooLarge { requested: n })
        } else if cur & CLOSED != 0 {
            Err(TryAcquireError::Closed)
        } else if n == 0 {
            // Zero permits need no place in the queue.
            Ok(())
        } else {
            Err(TryAcquireError::NoPermits)
        }
    }

    /// Returns `n` permits: to queued waiters first, in order, then to the
    /// pool.
    #[track_caller]
    pub(crate) fn release(&self, n: usize) {
        if n == 0 {
            return;
        }
        // `add_permits` checked the total, so permits coming back (a permit's
        // drop) can never exceed `MAX_PERMITS`: nothing here panics.
        debug_assert!(n <= Self::MAX_PERMITS);
        // Fast path: nobody queued, just add.
        let mut cur = self.state.load(Ordering::Acquire);
        while cur & QUEUED == 0 {
            let next = Self::added(cur, n);
            match self
                .state
                .compare_exchange_weak(cur, next, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) => return,
                Err(actual) => cur = actual,
            }
        }
        self.release_slow(n);
    }

    #[track_caller]
    fn added(cur: usize, n: usize) -> usize {
        let total = (cur >> SHIFT).saturating_add(n);
        debug_assert!(
            total <= Self::MAX_PERMITS,
            "anysync bug: permits over the total"
        );
        (total.min(Self::MAX_PERMITS) << SHIFT) | (cur & (CLOSED | QUEUED))
    }

    #[cold]
    #[track_caller]
    fn release_slow(&self, n: usize) {
        let mut rem = n;
        // Every permit is assigned, or held by the `Spare` guard below,
        // before anyone is woken, so a waker that panics cannot lose the
        // rest.
        let (first, second, more, spare) = {
            let mut queue = self.queue.lock();
            // The common cases, one visit of the head each: the head takes
            // all that is released (every mutex unlock), or completes and
            // the one after it takes the rest (a weighted release). Both
            // are woken with no `WakeBatch` (the batch's setup was a third
            // of a hand-off's cost in the profile).
            let first = Self::assign_head(&mut queue, &mut rem);
            let second = if first.is_some() && rem > 0 {
                Self::assign_head(&mut queue, &mut rem)
            } else {
                None
            };
            let mut more = false;
            if second.is_some() && rem > 0 && !queue.is_empty() {
                // Assign the rest in order; those it completes are woken in
                // batches below.
                more = Self::assign_front(&mut queue, &mut rem);
            } else if queue.is_empty() {
                self.put_back_locked(&queue, rem);
                rem = 0;
            } else {
                debug_assert_eq!(rem, 0, "permits left over with waiters queued");
            }
            // Left over once every queued waiter is satisfied (then `more`
            // is set): available once the queue is empty, below.
            (first, second, more, rem)
        };
        debug_assert!(more || spare == 0, "spare permits without a wake loop");
        if more {
            // Three or more complete: all are woken in batches, the two
            // already unlinked first, so that wakers that panic are caught
            // one by one and the first panic is raised once all are woken.
            let mut unlinked = [first, second];
            let mut spare = Spare {
                sem: self,
                n: spare,
            };
            self.queue.wake_loop(|queue, batch| {
                for waker in unlinked.iter_mut().filter_map(Option::take) {
                    batch.push(waker);
                }
                // Every satisfied waiter unlinked, waiters that queued while
                // the lock was released between batches get the spare
                // permits next, in order; what is left once the queue is
                // empty becomes available at once, not when the woken tasks
                // run: newcomers need not queue meanwhile.
                queue.wake_front(batch, |_, need, _| Self::ready(need)) || spare.place_locked(queue)
            });
            return;
        }
        // If the first wake panics, the second task is still woken (as the
        // guard is dropped), as a `WakeBatch` would.
        let second = WakeOnDrop(second);
        if let Some(waker) = first {
            waker.wake();
        }
        drop(second);
    }

    /// Assigns to the head waiter what it still misses, at most `rem`
    /// (less what it takes), and unlinks it if that completes it: returns
    /// its waker then, to wake once the lock is released. `None` if nobody
    /// waits or the head still misses some.
    #[inline]
    fn assign_head(
        queue: &mut QueueGuard<'_, usize, Need>,
        rem: &mut usize,
    ) -> Option<core::task::Waker> {
        queue.wake_head(|_, need, _| {
            let take = (need.needed - need.assigned.min(need.needed)).min(*rem);
            need.assigned += take;
            *rem -= take;
            Self::ready(need)
        })
    }

    /// Assigns up to `rem` permits to the queued waiters from the head, in
    /// order, stopping at the first one still short (FIFO: the rest wait).
    /// Returns whether any waiter is now complete (to be woken).
    fn assign_front(queue: &mut QueueGuard<'_, usize, Need>, rem: &mut usize) -> bool {
        let mut more = false;
        queue.visit_front(|_, need, _| {
            let take = (need.needed - need.assigned.min(need.needed)).min(*rem);
            need.assigned += take;
            *rem -= take;
            let ready = need.assigned >= need.needed;
            more |= ready;
            ready
        });
        more
    }

    /// Whether a queued waiter has all it needs.
    #[inline]
    fn ready(need: &Need) -> Visit {
        if need.assigned >= need.needed {
            Visit::Wake
        } else {
            Visit::Stop
        }
    }

    /// With the queue empty and its lock held: clears `QUEUED` and makes `n`
    /// permits available.
    #[track_caller]
    fn put_back_locked(&self, queue: &QueueGuard<'_, usize, Need>, n: usize) {
        debug_assert!(queue.is_empty());
        let mut cur = self.state.load(Ordering::Acquire);
        loop {
            let next = Self::added(cur, n) & !QUEUED;
            match self
                .state
                .compare_exchange_weak(cur, next, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) => return,
                Err(actual) => cur = actual,
            }
        }
    }

    /// Poll logic shared by the borrowed and owned acquire futures.
    fn poll_acquire(
        &self,
        node: &mut WaitNode<'_, Need>,
        front: bool,
        cx: &mut Context<'_>,
    ) -> Poll<Result<usize, AcquireError>> {
        // A hand-off (or `close`) already happened: complete without the lock.
        if let Some((needed, assigned)) =
            node.take_woken(|need| (need.needed, core::mem::take(&mut need.assigned)))
        {
            return Poll::Ready(self.complete_woken(needed, assigned).map(|()| needed));
        }
        // A node not queued yet is about to wait: clone the waker before
        // the lock, so that a `Waker::clone` that calls back into this
        // semaphore cannot deadlock (and a panicking one changes nothing).
        // This is the slow path already (the lock-free `try_take` failed).
        let fresh = if node.is_queued() {
            None
        } else {
            Some(cx.waker().clone())
        };
        let mut queue = self.queue.lock();
        match node.state(&queue) {
            WaitState::Waiting => {
                let old = node.update_waker(&mut queue, cx.waker());
                drop(queue);
                drop(old);
                Poll::Pending
            }
            WaitState::Woken => {
                let (_, waker) = node.remove(&mut queue);
                let (needed, assigned) = node.data(&mut queue, |need| {
                    (need.needed, core::mem::take(&mut need.assigned))
                });
                drop(queue);
                drop(waker);
                Poll::Ready(self.complete_woken(needed, assigned).map(|()| needed))
            }
            WaitState::Idle if front && !queue.is_empty() => {
                let n = node.data(&mut queue, |need| need.needed);
                // Ahead of the queue: take permits assigned to waiters.
                if self.is_closed() {
                    drop(queue);
                    drop(fresh);
                    return Poll::Ready(Err(AcquireError::Closed));
                }
                let waker = fresh.unwrap_or_else(|| cx.waker().clone());
                let got = Self::steal_locked(&mut queue, n);
                if got == n {
                    // The unused clone is dropped with the lock released.
                    drop(queue);
                    drop(waker);
                    return Poll::Ready(Ok(n));
                }
                node.data(&mut queue, |need| need.assigned = got);
                node.enqueue_front(&mut queue, waker);
                Poll::Pending
            }
            WaitState::Idle => {
                // Cloned before any state changes (above): a panicking
                // `Waker::clone` must not leave `QUEUED` set or permits
                // assigned to an unlinked node.
                let waker = fresh.unwrap_or_else(|| cx.waker().clone());
                let n = node.data(&mut queue, |need| need.needed);
                let mut cur = self.state.load(Ordering::Acquire);
                loop {
                    if cur & CLOSED != 0 {
                        drop(queue);
                        drop(waker);
                        return Poll::Ready(Err(AcquireError::Closed));
                    }
                    let available = cur >> SHIFT;
                    if cur & QUEUED != 0 {
                        // With `QUEUED` set nothing is available, and the
                        // state changes only under the lock held here (the
                        // lock-free paths all need `QUEUED` clear): queue
                        // without a read-modify-write that would change
                        // nothing.
                        debug_assert_eq!(available, 0, "permits available while queued");
                        // An `Idle` node has nothing assigned: it is fresh
                        // (completing takes what was assigned).
                        debug_assert!(node.data(&mut queue, |need| need.assigned == 0));
                        node.enqueue_with(&mut queue, waker);
                        return Poll::Pending;
                    }
                    let (next, took) = if available >= n {
                        (cur - (n << SHIFT), n)
                    } else {
                        // Queue up, taking whatever is available: with
                        // `QUEUED` set, `available` must be zero.
                        ((cur & CLOSED) | QUEUED, available)
                    };
                    match self.state.compare_exchange_weak(
                        cur,
                        next,
                        Ordering::AcqRel,
                        Ordering::Acquire,
                    ) {
                        Ok(_) if took == n => {
                            drop(queue);
                            drop(waker);
                            return Poll::Ready(Ok(n));
                        }
                        Ok(_) => {
                            node.data(&mut queue, |need| need.assigned = took);
                            node.enqueue_with(&mut queue, waker);
                            return Poll::Pending;
                        }
                        Err(actual) => cur = actual,
                    }
                }
            }
        }
    }

    #[inline]
    fn complete_woken(&self, needed: usize, assigned: usize) -> Result<(), AcquireError> {
        if assigned >= needed && !self.is_closed() {
            if assigned > needed {
                // Only after a release's wake loop was unwound by a panic,
                // whose spare permits ride with the newest waiter (see
                // `Spare`).
                self.release(assigned - needed);
            }
            Ok(())
        } else {
            // Woken by `close`, or granted but closed before it could
            // complete: every acquire pending at `close` fails.
            self.release(assigned);
            Err(AcquireError::Closed)
        }
    }

    /// Drop logic shared by the acquire futures: leave the queue and pass on
    /// whatever had been assigned.
    fn steal_locked(queue: &mut QueueGuard<'_, usize, Need>, want: usize) -> usize {
        let mut got = 0;
        queue.for_each(|_, need, _| {
            let take = need.assigned.min(want - got);
            need.assigned -= take;
            got += take;
        });
        got
    }

    /// Takes `n` permits **ahead of every queued waiter** if that can be
    /// done at once: from the available ones when nobody is queued, else
    /// from the permits already assigned to queued waiters (which are then
    /// missing them again). For a holder whose extra permits the waiters in
    /// front of it can never complete without (an upgradable read
    /// upgrading). Fails with [`TryAcquireError::NoPermits`], changing
    /// nothing, if there are not enough.
    pub(crate) fn try_take_front(&self, n: usize) -> Result<(), TryAcquireError> {
        let mut queue = self.queue.lock();
        if queue.is_empty() {
            drop(queue);
            return self.try_take(n);
        }
        if self.is_closed() {
            return Err(TryAcquireError::Closed);
        }
        let mut assigned = 0usize;
        queue.for_each(|_, need, _| assigned += need.assigned);
        if assigned < n {
            return Err(TryAcquireError::NoPermits);
        }
        let got = Self::steal_locked(&mut queue, n);
        debug_assert_eq!(got, n);
        Ok(())
    }

    /// A snapshot of the semaphore's counts, taken under its lock (in time
    /// proportional to the number of waiters).
    pub fn statistics(&self) -> SemaphoreStatistics {
        let mut queue = self.queue.lock();
        let mut assigned = 0usize;
        queue.for_each(|_, need, _| assigned += need.assigned);
        let state = self.state.load(Ordering::Acquire);
        SemaphoreStatistics {
            available: state >> SHIFT,
            assigned_to_waiters: assigned,
            waiters: queue.len(),
            closed: state & CLOSED != 0,
        }
    }
}

/// A waker woken when dropped, also while unwinding: the second waker of a
/// two-waiter hand-off, so that a panicking first wake cannot strand it.
struct WakeOnDrop(Option<core::task::Waker>);

/// The permits a release has left over once every waiter it found is
/// satisfied, until its wake loop makes them available. Normally that
/// loop empties it. If a panic unwinds through the loop (a waker's,
/// without `std`: with `std` the loop catches those; or a failed internal
/// assertion), the drop hands the permits on as a release would, waking
/// nobody: to the queued waiters in order, or back to the pool once the
/// queue is empty, or, if all that are queued are satisfied, to the
/// newest. Satisfied waiters left queued that way are not woken (as
/// with any batch that an unwinding `wake_loop` does not reach): the
/// next release, `close`, or a cancel wakes them, and the newest gives
/// the extra permits back when it completes or is dropped.
struct Spare<'a> {
    sem: &'a Semaphore,
    n: usize,
}

impl Spare<'_> {
    /// Hands the spare permits on, with the lock held: to the queued
    /// waiters in order, stopping at the first one still short; all that
    /// is left back to the semaphore once the queue is empty (which also
    /// clears `QUEUED`, even with nothing left). Returns whether a waiter
    /// is now complete, to be woken. Permits stay here only if waiters are
    /// queued and every one of them is satisfied.
    fn place_locked(&mut self, queue: &mut QueueGuard<'_, usize, Need>) -> bool {
        let completed =
            self.n > 0 && !queue.is_empty() && Semaphore::assign_front(queue, &mut self.n);
        if queue.is_empty() {
            self.sem
                .put_back_locked(queue, core::mem::take(&mut self.n));
        }
        completed
    }
}

impl Drop for Spare<'_> {
    fn drop(&mut self) {
        if self.n == 0 {
            return;
        }
        let mut queue = self.sem.queue.lock();
        // Nobody is woken here, even if a waiter is now complete.
        self.place_locked(&mut queue);
        if self.n > 0 {
            let n = self.n;
            queue.tail_data(|_, need| need.assigned += n);
        }
    }
}

#[cfg(test)]
impl Semaphore {
    /// What a release's [`Spare`] guard does with `n` spare permits when a
    /// panic unwinds through its wake loop (a waker's only without `std`,
    /// so no test build can get there through a release).
    pub(super) fn drop_spare_for_test(&self, n: usize) {
        drop(Spare { sem: self, n });
    }
}

impl Drop for WakeOnDrop {
    #[inline]
    fn drop(&mut self) {
        if let Some(waker) = self.0.take() {
            waker.wake();
        }
    }
}

/// A snapshot of a [`Semaphore`], from [`Semaphore::statistics`].
///
/// Permits are conserved: `available + assigned_to_waiters + held` is the
/// semaphore's total, where `held` counts the permits in live permit
/// guards and in woken acquires that have not completed yet (which the
/// semaphore does not track). A release that wakes more waiters than one
/// batch also holds what it has left over until its last batch, so a
/// snapshot taken meanwhile (by a waker) can add up to less.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct SemaphoreStatistics {
    /// Permits that an acquire could take right now.
    pub available: usize,
    /// Permits handed to waiters still queued: to the head, which still
    /// needs more (FIFO partial assignment), or, for a moment, to waiters
    /// a release has satisfied but not yet unlinked; released again if
    /// such a waiter is dropped.
    pub assigned_to_waiters: usize,
    /// Tasks queued in `acquire`.
    pub waiters: usize,
    /// `true` once [`Semaphore::close`] has been called.
    pub closed: bool,
}

/// Unwraps the result of an acquire on a semaphore that is never closed
/// (inside a Mutex, RwLock or OnceCell). Does not format the error, so the
/// formatting machinery stays out of firmware that uses only those.
#[inline]
pub(crate) fn never_closed<T, E>(r: Result<T, E>) -> T {
    match r {
        Ok(v) => v,
        Err(_) => internal_semaphore_closed(),
    }
}

#[cold]
#[inline(never)]
fn internal_semaphore_closed() -> ! {
    panic!("anysync bug: an internal semaphore was closed")
}

/// The semaphore's own waits (and, through [`SemOwner`], those of the
/// primitives built on it).
pub(crate) trait SemOwner<K = ()> {
    /// The semaphore whose queue the waits park on.
    fn sem(&self) -> &Semaphore;
}

impl SemOwner for Semaphore {
    #[inline(always)]
    fn sem(&self) -> &Semaphore {
        self
    }
}

impl<K, X: SemOwner<K> + ?Sized> WaitOwner<K> for X {
    type State = usize;
    type Data = Need;

    #[inline(always)]
    fn wait_queue(&self) -> &WaitQueue<usize, Need> {
        &self.sem().queue
    }

    /// A dropped acquire gives back the permits assigned to it, which go
    /// to the next waiters: all it needed if it was woken; if it was still
    /// queued, part of them (at the head), all of them (satisfied by a
    /// release whose later batch had not reached it yet), or more (the
    /// newest, after a release's wake loop was unwound; see `Spare`).
    fn abandon(&self, queue: QueueGuard<'_, usize, Need>, _was: WaitState, need: &mut Need) {
        let sem = self.sem();
        if queue.is_empty() {
            sem.put_back_locked(&queue, 0);
        }
        let assigned = core::mem::take(&mut need.assigned);
        drop(queue);
        sem.release(assigned);
    }
}

impl Default for Semaphore {
    /// A semaphore with no permits.
    fn default() -> Self {
        Self::new(0)
    }
}

impl fmt::Debug for Semaphore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.state.load(Ordering::Acquire);
        f.debug_struct("Semaphore")
            .field("available", &(state >> SHIFT))
            .field("closed", &(state & CLOSED != 0))
            .field("queued", &(state & QUEUED != 0))
            .finish()
    }
}

/// The part of an acquire future that does not depend on how it holds the
/// semaphore.
#[derive(Debug)]
enum Phase {
    Init,
    Waiting,
    Done,
}

pin_project!(
    /// The waiting part of every acquire future built on a semaphore: the
    /// wait-queue node (through [`Wait`], which leaves the queue and passes
    /// on any assigned permits when dropped) and the request.
    pub(crate) struct AcquireInner<P, K = ()>
    where
        P: Deref,
        P::Target: SemOwner<K>,
    {
        // The request is the node's `Need::needed`, read without the lock
        // whenever the node is not queued; not kept here as well, so that
        // the future stays small (it is moved at least once, and a bench's
        // `async` block around it must stay within a few vector moves).
        #[pin]
        wait: Wait<P, K>,
        front: bool,
        phase: Phase,
    }
);

impl<P, K> AcquireInner<P, K>
where
    P: Deref,
    P::Target: SemOwner<K>,
{
    /// An acquire of `n` permits of the semaphore behind `ptr`.
    #[inline]
    pub(crate) fn new(ptr: P, n: usize) -> Self {
        Self {
            wait: Wait::new(
                ptr,
                Need {
                    needed: n,
                    assigned: 0,
                },
            ),
            front: false,
            phase: Phase::Init,
        }
    }

    /// An acquire that, if it has to wait, queues **ahead** of every waiter
    /// and takes over permits already assigned to them (see
    /// [`Semaphore::try_take_front`]).
    pub(crate) fn new_front(ptr: P, n: usize) -> Self {
        Self {
            front: true,
            ..Self::new(ptr, n)
        }
    }

    /// The pointer the acquire was made through.
    #[inline]
    pub(crate) fn ptr(&self) -> &P {
        self.wait.ptr()
    }

    #[inline]
    pub(crate) fn poll(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Result<usize, AcquireError>> {
        let this = self.project();
        let (owner, mut node) = this.wait.split();
        let sem = owner.sem();
        let result = match this.phase {
            Phase::Done => panic!("acquire future polled after completion"),
            Phase::Init => {
                // Fast path: no lock, no queue. The node is not queued
                // before the first poll, so its request reads without the
                // lock.
                let n = node.data_unqueued(|need| need.needed);
                match sem.try_take(n) {
                    Ok(()) => Ok(n),
                    Err(TryAcquireError::TooLarge { requested }) => {
                        Err(AcquireError::TooLarge { requested })
                    }
                    Err(TryAcquireError::Closed) => Err(AcquireError::Closed),
                    Err(TryAcquireError::NoPermits) => {
                        *this.phase = Phase::Waiting;
                        match sem.poll_acquire(&mut node, *this.front, cx) {
                            Poll::Ready(r) => r,
                            Poll::Pending => return Poll::Pending,
                        }
                    }
                }
            }
            Phase::Waiting => {
                // The hand-off's hot path, here rather than in
                // `poll_acquire`: a woken acquire completes without the
                // lock, and without the call into that larger function
                // (its prologue and epilogue were a fifth of its cost).
                if let Some((needed, assigned)) =
                    node.take_woken(|need| (need.needed, core::mem::take(&mut need.assigned)))
                {
                    sem.complete_woken(needed, assigned).map(|()| needed)
                } else {
                    match sem.poll_acquire(&mut node, *this.front, cx) {
                        Poll::Ready(r) => r,
                        Poll::Pending => return Poll::Pending,
                    }
                }
            }
        };
        *this.phase = Phase::Done;
        Poll::Ready(result)
    }

    pub(crate) fn is_terminated(&self) -> bool {
        matches!(self.phase, Phase::Done)
    }

    /// Gives up the acquire now, as dropping it would: leaves the queue and
    /// passes on any permits already assigned. The future is then done.
    ///
    /// A node already woken (by a release or `close`) gives its permits
    /// back without the queue's lock, as a completing poll would take
    /// them: only a node still waiting takes the lock to unlink.
    pub(crate) fn cancel(self: Pin<&mut Self>) {
        let mut this = self.project();
        let (owner, mut node) = this.wait.as_mut().split();
        if let Some(assigned) = node.take_woken(|need| core::mem::take(&mut need.assigned)) {
            owner.sem().release(assigned);
        } else {
            this.wait.leave();
        }
        *this.phase = Phase::Done;
    }
}

impl<P, K> fmt::Debug for AcquireInner<P, K>
where
    P: Deref,
    P::Target: SemOwner<K>,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AcquireInner")
            .field("phase", &self.phase)
            .finish()
    }
}

pin_project!(
    /// Future returned by [`Semaphore::acquire`] and
    /// [`Semaphore::acquire_many`].
    #[must_use = "futures do nothing unless you `.await` or poll them"]
    pub struct Acquire<'a> {
        #[pin]
        inner: AcquireInner<&'a Semaphore>,
    }
);

impl<'a> Future for Acquire<'a> {
    type Output = Result<SemaphorePermit<'a>, AcquireError>;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let sem: &'a Semaphore = this.inner.ptr();
        this.inner
            .poll(cx)
            .map(|r| r.map(|permits| SemaphorePermit { sem, permits }))
    }
}

impl FusedFuture for Acquire<'_> {
    fn is_terminated(&self) -> bool {
        self.inner.is_terminated()
    }
}

impl fmt::Debug for Acquire<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Acquire")
            .field("done", &self.inner.is_terminated())
            .finish()
    }
}

/// Permits borrowed from a [`Semaphore`]; released when dropped.
#[must_use = "the permits are released as soon as the permit is dropped"]
pub struct SemaphorePermit<'a> {
    sem: &'a Semaphore,
    permits: usize,
}

impl<'a> SemaphorePermit<'a> {
    /// The number of permits held.
    pub fn num_permits(&self) -> usize {
        self.permits
    }

    /// Drops the permit without releasing its permits: the semaphore
    /// shrinks by that many for good.
    pub fn forget(mut self) {
        self.sem.shrink_total(core::mem::take(&mut self.permits));
    }

    /// Drops the permit and keeps its permits out, still counted in the
    /// total: for a primitive that turns a permit into its own guard, which
    /// releases them later.
    pub(crate) fn keep(self) {
        core::mem::forget(self);
    }

    /// Splits `n` permits off into a new permit.
    ///
    /// # Errors
    /// Gives `None` if this permit holds fewer than `n`.
    pub fn split(&mut self, n: usize) -> Option<SemaphorePermit<'a>> {
        self.permits = self.permits.checked_sub(n)?;
        Some(SemaphorePermit {
            sem: self.sem,
            permits: n,
        })
    }

    /// Moves `other`'s permits into this one.
    ///
    /// # Panics
    /// If `other` came from a different semaphore.
    #[track_caller]
    pub fn merge(&mut self, mut other: SemaphorePermit<'a>) {
        assert!(
            core::ptr::eq(self.sem, other.sem),
            "SemaphorePermit::merge: `other` belongs to a different semaphore"
        );
        self.permits += core::mem::take(&mut other.permits);
    }

    /// The semaphore this permit came from.
    pub fn semaphore(&self) -> &'a Semaphore {
        self.sem
    }
}

impl Drop for SemaphorePermit<'_> {
    #[inline]
    fn drop(&mut self) {
        self.sem.release(self.permits);
    }
}

impl fmt::Debug for SemaphorePermit<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SemaphorePermit")
            .field("permits", &self.permits)
            .finish()
    }
}

#[cfg(feature = "alloc")]
use alloc::sync::Arc;

#[cfg(feature = "alloc")]
#[cfg_attr(docsrs, doc(cfg(feature = "alloc")))]
impl Semaphore {
    /// Like [`acquire`](Self::acquire), for an `Arc<Semaphore>`: the
    /// permit owns a clone of the `Arc`, so it is `'static`.
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
    /// This method is cancel safe. Dropping the future gives up its place
    /// in the queue; a wake-up it had already received is passed to the
    /// next waiter.
    ///
    /// # Errors
    /// As [`acquire`](Self::acquire).
    #[inline]
    pub fn acquire_owned(self: Arc<Self>) -> AcquireOwned {
        self.acquire_many_owned(1)
    }

    /// Like [`acquire_many`](Self::acquire_many), for an `Arc<Semaphore>`.
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
    /// This method is cancel safe. Dropping the future gives up its place
    /// in the queue; a wake-up it had already received is passed to the
    /// next waiter. Permits assigned to it so far are released.
    ///
    /// # Errors
    /// As [`acquire_many`](Self::acquire_many).
    #[inline]
    pub fn acquire_many_owned(self: Arc<Self>, n: usize) -> AcquireOwned {
        AcquireOwned {
            inner: AcquireInner::new(self, n),
        }
    }

    /// Like [`try_acquire`](Self::try_acquire), for an `Arc<Semaphore>`.
    ///
    /// # Errors
    /// As [`try_acquire`](Self::try_acquire).
    pub fn try_acquire_owned(self: Arc<Self>) -> Result<OwnedSemaphorePermit, TryAcquireError> {
        self.try_acquire_many_owned(1)
    }

    /// Like [`try_acquire_many`](Self::try_acquire_many), for an
    /// `Arc<Semaphore>`.
    ///
    /// # Errors
    /// As [`try_acquire_many`](Self::try_acquire_many).
    pub fn try_acquire_many_owned(
        self: Arc<Self>,
        n: usize,
    ) -> Result<OwnedSemaphorePermit, TryAcquireError> {
        self.try_take(n)?;
        Ok(OwnedSemaphorePermit {
            sem: self,
            permits: n,
        })
    }
}

#[cfg(feature = "alloc")]
pin_project!(
    #[cfg_attr(docsrs, doc(cfg(feature = "alloc")))]
    /// Future returned by [`Semaphore::acquire_owned`] and
    /// [`Semaphore::acquire_many_owned`].
    #[must_use = "futures do nothing unless you `.await` or poll them"]
    pub struct AcquireOwned {
        #[pin]
        inner: AcquireInner<Arc<Semaphore>>,
    }
);

#[cfg(feature = "alloc")]
#[cfg_attr(docsrs, doc(cfg(feature = "alloc")))]
impl Future for AcquireOwned {
    type Output = Result<OwnedSemaphorePermit, AcquireError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        this.inner.as_mut().poll(cx).map(|r| {
            r.map(|permits| OwnedSemaphorePermit {
                sem: Arc::clone(this.inner.ptr()),
                permits,
            })
        })
    }
}

#[cfg(feature = "alloc")]
#[cfg_attr(docsrs, doc(cfg(feature = "alloc")))]
impl FusedFuture for AcquireOwned {
    fn is_terminated(&self) -> bool {
        self.inner.is_terminated()
    }
}

#[cfg(feature = "alloc")]
#[cfg_attr(docsrs, doc(cfg(feature = "alloc")))]
impl fmt::Debug for AcquireOwned {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AcquireOwned")
            .field("done", &self.inner.is_terminated())
            .finish()
    }
}

#[cfg(feature = "alloc")]
#[cfg_attr(docsrs, doc(cfg(feature = "alloc")))]
/// Permits owned from an `Arc<Semaphore>`; released when dropped.
#[must_use = "the permits are released as soon as the permit is dropped"]
pub struct OwnedSemaphorePermit {
    sem: Arc<Semaphore>,
    permits: usize,
}

#[cfg(feature = "alloc")]
#[cfg_attr(docsrs, doc(cfg(feature = "alloc")))]
impl OwnedSemaphorePermit {
    /// The number of permits held.
    pub fn num_permits(&self) -> usize {
        self.permits
    }

    /// Drops the permit without releasing its permits: the semaphore
    /// shrinks by that many for good.
    pub fn forget(mut self) {
        self.sem.shrink_total(core::mem::take(&mut self.permits));
    }

    /// Splits `n` permits off into a new permit, or `None` if this one
    /// holds fewer than `n`.
    pub fn split(&mut self, n: usize) -> Option<OwnedSemaphorePermit> {
        self.permits = self.permits.checked_sub(n)?;
        Some(OwnedSemaphorePermit {
            sem: Arc::clone(&self.sem),
            permits: n,
        })
    }

    /// Moves `other`'s permits into this one.
    ///
    /// # Panics
    /// If `other` came from a different semaphore.
    #[track_caller]
    pub fn merge(&mut self, mut other: OwnedSemaphorePermit) {
        assert!(
            Arc::ptr_eq(&self.sem, &other.sem),
            "OwnedSemaphorePermit::merge: `other` belongs to a different semaphore"
        );
        self.permits += core::mem::take(&mut other.permits);
    }

    /// The semaphore this permit came from.
    pub fn semaphore(&self) -> &Arc<Semaphore> {
        &self.sem
    }
}

#[cfg(feature = "alloc")]
#[cfg_attr(docsrs, doc(cfg(feature = "alloc")))]
impl Drop for OwnedSemaphorePermit {
    fn drop(&mut self) {
        self.sem.release(self.permits);
    }
}

#[cfg(feature = "alloc")]
#[cfg_attr(docsrs, doc(cfg(feature = "alloc")))]
impl fmt::Debug for OwnedSemaphorePermit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OwnedSemaphorePermit")
            .field("permits", &self.permits)
            .finish()
    }
}

#[cfg(feature = "std")]
#[cfg_attr(docsrs, doc(cfg(feature = "std")))]
impl Semaphore {
    /// Blocks the current thread until one permit is acquired.
    ///
    /// Meant for plain threads; calling it from a task blocks that
    /// executor thread.
    ///
    /// # Errors
    /// As [`acquire`](Self::acquire).
    pub fn acquire_blocking(&self) -> Result<SemaphorePermit<'_>, AcquireError> {
        crate::util::block_on::block_on(self.acquire())
    }

    /// Blocks the current thread until `n` permits are acquired.
    ///
    /// # Errors
    /// As [`acquire_many`](Self::acquire_many).
    pub fn acquire_many_blocking(&self, n: usize) -> Result<SemaphorePermit<'_>, AcquireError> {
        crate::util::block_on::block_on(self.acquire_many(n))
    }
}

#[cfg(feature = "std")]
#[cfg_attr(docsrs, doc(cfg(feature = "std")))]
impl Semaphore {
    /// Blocks the current thread until one permit is acquired, for an
    /// `Arc<Semaphore>`: the permit owns a clone of the `Arc`.
    ///
    /// Meant for plain threads; calling it from a task blocks that
    /// executor thread.
    ///
    /// # Errors
    /// As [`acquire`](Self::acquire).
    pub fn acquire_owned_blocking(self: Arc<Self>) -> Result<OwnedSemaphorePermit, AcquireError> {
        crate::util::block_on::block_on(self.acquire_owned())
    }

    /// Blocks the current thread until `n` permits are acquired, for an
    /// `Arc<Semaphore>`.
    ///
    /// Meant for plain threads; calling it from a task blocks that
    /// executor thread.
    ///
    /// # Errors
    /// As [`acquire_many`](Self::acquire_many).
    pub fn acquire_many_owned_blocking(
        self: Arc<Self>,
        n: usize,
    ) -> Result<OwnedSemaphorePermit, AcquireError> {
        crate::util::block_on::block_on(self.acquire_many_owned(n))
    }
}

// Unwind safety (see the type's docs): the state is never left broken by a
// panic in user code. A waiting future caught in a panic is still a
// consistent waiter (its drop leaves the queue), and a shared reference to
// one reaches only what `Debug` and `is_terminated` read. (The futures'
// intrusive nodes hide this from the auto traits.)
impl core::panic::UnwindSafe for Semaphore {}
impl core::panic::RefUnwindSafe for Semaphore {}
impl core::panic::RefUnwindSafe for Acquire<'_> {}
#[cfg(feature = "alloc")]
impl core::panic::RefUnwindSafe for AcquireOwned {}
impl core::panic::UnwindSafe for Acquire<'_> {}
#[cfg(feature = "alloc")]
impl core::panic::UnwindSafe for AcquireOwned {}

//! `Condvar`: wait for a condition on data behind an anysync [`Mutex`]
//! (asyncio.Condition).

use core::{
    fmt,
    future::Future,
    pin::Pin,
    task::{Context, Poll, Waker},
};

use futures_core::FusedFuture;
use pin_project_lite::pin_project;

use super::mutex::{Lock, Mutex, MutexGuard};
use crate::waitq::{QueueGuard, Visit, Wait, WaitOwner, WaitQueue, WaitState};

/// How a waiter was woken.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    None,
    /// By `notify_one`: passed on if the waiter goes away before it returns.
    One,
    /// By `notify_all`: everyone was woken, nothing to pass on.
    All,
}

/// A condition variable: tasks wait, with a [`Mutex`] unlocked, until
/// another task notifies them; they return with the mutex locked again.
///
/// * [`wait`](Self::wait) unlocks the mutex and registers the task
///   atomically (no notification can slip in between), then, once
///   notified, locks the mutex again and returns its guard.
/// * [`wait_while`](Self::wait_while) loops until a condition on the data
///   is false, so a wake-up that finds the condition still true (someone
///   else got there first) just waits again.
/// * [`notify_one`](Self::notify_one) wakes the longest-waiting task,
///   [`notify_all`](Self::notify_all) every waiting task.
/// * **Notifications are not stored.** A notify with no task waiting does
///   nothing (unlike [`Notify`](super::Notify)); check the condition under
///   the mutex before waiting, which `wait_while` does for you.
/// * **No wake-up is lost to cancellation.** A task chosen by `notify_one`
///   that is dropped before it returns (before or while locking the mutex
///   again) passes the notification to the next waiting task.
/// * No spurious wake-ups, and waits never allocate.
///
/// Change the data the condition depends on while holding the mutex, and
/// notify after (or while) holding it: that ordering is what makes the
/// atomic unlock-and-register enough to never miss a change.
///
/// # Futurelock
///
/// [`notify_one`](Self::notify_one) hands its notification to one waiting
/// future, and the mutex then hands the lock to it in turn. A woken future
/// that is neither polled nor dropped (a `select!` in a loop over a future
/// made outside the loop, while another branch awaits) keeps what it was
/// handed: the notification, which no other waiter gets, and then the
/// mutex, which every task locking it waits for. Create the waiting future
/// inside the loop, or drop it, so that a notification it received passes
/// on.
///
/// # Examples
///
/// ```
/// # futures_executor::block_on(async {
/// use anysync::sync::{Condvar, Mutex};
/// use futures_util::future::join;
///
/// let items = Mutex::new(Vec::new());
/// let cv = Condvar::new();
///
/// let consumer = async {
///     let guard = items.lock().await;
///     let mut guard = cv.wait_while(guard, |items| items.is_empty()).await;
///     guard.pop().unwrap()
/// };
/// let producer = async {
///     items.lock().await.push(42);
///     cv.notify_one();
/// };
/// let (got, ()) = join(consumer, producer).await;
/// assert_eq!(got, 42);
/// # });
/// ```
///
/// # Unwind safety
///
/// `UnwindSafe` and `RefUnwindSafe`: there is no poisoning, and a panic
/// in user code never leaves a condition variable broken (what a panicking task held
/// is released by the drops that run as it unwinds, and a waiting future
/// dropped that way passes on what it was given).
///
/// # Implementation notes
///
/// A wait queue with no state: `notify_one` wakes the head waiter and
/// marks it `One`, `notify_all` wakes the waiters present when it started
/// (by sequence number, so it can wake in batches) and marks them `All`.
/// A waiting future registers under the queue lock *before* it drops the
/// guard it was given, and then locks the mutex with an ordinary
/// [`Mutex::lock`], so the hand-off and fairness of the mutex are the
/// mutex's own. A dropped future whose mark is `One` calls `notify_one`
/// again.
pub struct Condvar {
    queue: WaitQueue<(), Kind>,
}

/// A snapshot of a [`Condvar`], from [`Condvar::statistics`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct CondvarStatistics {
    /// Tasks waiting for a notification (not counting those notified and
    /// now locking the mutex again).
    pub waiters: usize,
}

impl Condvar {
    crate::util::macros::loom_const_fn!(
        /// A new condition variable with no waiters.
        pub fn new() -> Condvar {
            Condvar {
                queue: WaitQueue::new(()),
            }
        }
    );

    /// Unlocks the mutex of `guard`, waits for a notification, then locks
    /// the mutex again and returns its guard.
    ///
    /// The task counts as waiting (a `notify_*` reaches it) from the first
    /// poll, which is also when the mutex is unlocked; until then it keeps
    /// the mutex locked, so no change the condition depends on can happen
    /// before it is registered.
    ///
    /// Notifications are not stored: check the condition before waiting,
    /// or use [`wait_while`](Self::wait_while).
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
    /// The mutex is left unlocked (the guard moved into the future is not
    /// given back).
    ///
    /// # Examples
    ///
    /// ```
    /// # futures_executor::block_on(async {
    /// use anysync::sync::{Condvar, Mutex};
    /// use futures_util::future::join;
    ///
    /// let ready = Mutex::new(false);
    /// let cv = Condvar::new();
    /// let waiter = async {
    ///     let mut guard = ready.lock().await;
    ///     while !*guard {
    ///         guard = cv.wait(guard).await;
    ///     }
    /// };
    /// let setter = async {
    ///     *ready.lock().await = true;
    ///     cv.notify_all();
    /// };
    /// join(waiter, setter).await;
    /// # });
    /// ```
    pub fn wait<'a, T: ?Sized>(&'a self, guard: MutexGuard<'a, T>) -> CondvarWait<'a, T> {
        CondvarWait {
            inner: WaitInner::new(self, guard),
        }
    }

    /// Waits (as [`wait`](Self::wait) does, repeatedly) while `condition`
    /// returns `true` for the data, and returns the guard once it returns
    /// `false`. The condition is checked first, with the mutex locked, so
    /// this does not wait at all if it is already false.
    ///
    /// This is asyncio's `Condition.wait_for(predicate)` with the predicate
    /// negated: `wait_for(p)` is `wait_while(guard, |v| !p(v))`.
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
    /// The mutex is left unlocked (the guard moved into the future is not
    /// given back).
    ///
    /// # Panics
    /// If `condition` panics, the panic propagates and the mutex is
    /// unlocked.
    pub fn wait_while<'a, T: ?Sized, F>(
        &'a self,
        guard: MutexGuard<'a, T>,
        condition: F,
    ) -> WaitWhile<'a, T, F>
    where
        F: FnMut(&mut T) -> bool,
    {
        WaitWhile {
            inner: WaitInner::new(self, guard),
            condition,
        }
    }

    /// Wakes the longest-waiting task, if any. Does nothing (and stores
    /// nothing) if no task waits.
    pub fn notify_one(&self) {
        let waker = Self::notify_one_locked(&mut self.queue.lock());
        if let Some(waker) = waker {
            waker.wake();
        }
    }

    /// Picks the head waiter, if any, and returns its waker to wake once
    /// the lock is released.
    #[must_use = "wake the returned waker after releasing the lock"]
    fn notify_one_locked(queue: &mut QueueGuard<'_, (), Kind>) -> Option<Waker> {
        queue.wake_head(|_, kind, _| {
            *kind = Kind::One;
            Visit::Wake
        })
    }

    /// Wakes every task waiting right now. Tasks that start waiting while
    /// this runs are not woken. Stores nothing.
    pub fn notify_all(&self) {
        let mut end = None;
        self.queue.wake_loop(|queue, batch| {
            let end = *end.get_or_insert_with(|| queue.next_seq());
            queue.wake_front(batch, |_, kind, seq| {
                if seq < end {
                    *kind = Kind::All;
                    Visit::Wake
                } else {
                    Visit::Stop
                }
            })
        });
    }

    /// The number of tasks waiting for a notification.
    pub fn waiters(&self) -> usize {
        self.queue.lock().len()
    }

    /// A snapshot of the waiters.
    pub fn statistics(&self) -> CondvarStatistics {
        CondvarStatistics {
            waiters: self.waiters(),
        }
    }
}

impl WaitOwner for Condvar {
    type State = ();
    type Data = Kind;

    fn wait_queue(&self) -> &WaitQueue<(), Kind> {
        &self.queue
    }

    /// A waiter chosen by `notify_one` and dropped before it took the
    /// notification passes it to the next waiter.
    fn abandon(&self, mut queue: QueueGuard<'_, (), Kind>, was: WaitState, kind: &mut Kind) {
        let kind = core::mem::replace(kind, Kind::None);
        let next = if was == WaitState::Woken && kind == Kind::One {
            Self::notify_one_locked(&mut queue)
        } else {
            None
        };
        drop(queue);
        if let Some(waker) = next {
            waker.wake();
        }
    }
}

impl Default for Condvar {
    fn default() -> Self {
        Condvar::new()
    }
}

impl fmt::Debug for Condvar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Condvar")
            .field("waiters", &self.waiters())
            .finish()
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    /// Holding the guard; not registered yet.
    Init,
    /// Registered in the queue, mutex unlocked.
    Waiting,
    /// Notified; locking the mutex again.
    Locking,
    Done,
}

pin_project!(
    /// The state machine shared by [`CondvarWait`] and [`WaitWhile`].
    struct WaitInner<'a, T: ?Sized> {
        mutex: &'a Mutex<T>,
        guard: Option<MutexGuard<'a, T>>,
        phase: Phase,
        // Woken by `notify_one` and not yet returned: pass it on if dropped.
        by_one: bool,
        // Its drop leaves the queue and passes on a `notify_one` delivered
        // to the node (`WaitOwner::abandon`).
        #[pin]
        wait: Wait<&'a Condvar>,
        #[pin]
        lock: Option<Lock<'a, T>>,
    }

    impl<T: ?Sized> PinnedDrop for WaitInner<'_, T> {
        fn drop(this: Pin<&mut Self>) {
            let this = this.project();
            // Taken from the node already, and now locking the mutex: the
            // node has nothing to pass on, so this future does.
            // (`Init`: the guard field unlocks the mutex when dropped.)
            if *this.phase == Phase::Locking && *this.by_one {
                this.wait.owner().notify_one();
            }
        }
    }
);

impl<'a, T: ?Sized> WaitInner<'a, T> {
    fn new(condvar: &'a Condvar, guard: MutexGuard<'a, T>) -> Self {
        WaitInner {
            mutex: MutexGuard::mutex(&guard),
            guard: Some(guard),
            phase: Phase::Init,
            by_one: false,
            wait: Wait::new(condvar, Kind::None),
            lock: None,
        }
    }

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<MutexGuard<'a, T>> {
        let mut this = self.project();
        loop {
            match this.phase {
                Phase::Init => {
                    // Clone first: a panicking `Waker::clone` leaves the
                    // future as it was, still holding its guard.
                    let waker = cx.waker().clone();
                    let guard = this.guard.take().expect("guard held until registered");
                    {
                        let (condvar, mut node) = this.wait.as_mut().split();
                        let mut queue = condvar.queue.lock();
                        node.enqueue_with(&mut queue, waker);
                    }
                    *this.phase = Phase::Waiting;
                    // Unlock only now that a notify would reach us, and
                    // outside the queue lock (this may wake a task).
                    drop(guard);
                    return Poll::Pending;
                }
                Phase::Waiting => {
                    let (condvar, mut node) = this.wait.as_mut().split();
                    let kind = match node.take_woken(|kind| core::mem::replace(kind, Kind::None)) {
                        Some(kind) => kind,
                        None => {
                            let mut queue = condvar.queue.lock();
                            match node.state(&queue) {
                                WaitState::Waiting => {
                                    let old = node.update_waker(&mut queue, cx.waker());
                                    drop(queue);
                                    drop(old);
                                    return Poll::Pending;
                                }
                                WaitState::Woken => {
                                    let (_, waker) = node.remove(&mut queue);
                                    let kind = node.data(&mut queue, |kind| {
                                        core::mem::replace(kind, Kind::None)
                                    });
                                    drop(queue);
                                    drop(waker);
                                    kind
                                }
                                WaitState::Idle => {
                                    unreachable!("anysync bug: condvar waiter idle while waiting")
                                }
                            }
                        }
                    };
                    *this.by_one = kind == Kind::One;
                    *this.phase = Phase::Locking;
                    this.lock.set(Some(this.mutex.lock()));
                }
                Phase::Locking => {
                    let lock = this.lock.as_mut().as_pin_mut().expect("set when notified");
                    let guard = match lock.poll(cx) {
                        Poll::Ready(guard) => guard,
                        Poll::Pending => return Poll::Pending,
                    };
                    this.lock.set(None);
                    *this.by_one = false;
                    *this.phase = Phase::Done;
                    return Poll::Ready(guard);
                }
                Phase::Done => panic!("condvar wait polled after completion"),
            }
        }
    }

    /// For `WaitWhile`: starts over with a re-locked guard.
    fn restart(self: Pin<&mut Self>, guard: MutexGuard<'a, T>) {
        let this = self.project();
        debug_assert_eq!(*this.phase, Phase::Done);
        *this.guard = Some(guard);
        *this.phase = Phase::Init;
    }
}

pin_project!(
    /// Future returned by [`Condvar::wait`].
    #[must_use = "futures do nothing unless you `.await` or poll them"]
    pub struct CondvarWait<'a, T: ?Sized> {
        #[pin]
        inner: WaitInner<'a, T>,
    }
);

impl<'a, T: ?Sized> Future for CondvarWait<'a, T> {
    type Output = MutexGuard<'a, T>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.project().inner.poll(cx)
    }
}

impl<T: ?Sized> FusedFuture for CondvarWait<'_, T> {
    fn is_terminated(&self) -> bool {
        self.inner.phase == Phase::Done
    }
}

impl<T: ?Sized> fmt::Debug for CondvarWait<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CondvarWait")
            .field("phase", &self.inner.phase)
            .finish_non_exhaustive()
    }
}

pin_project!(
    /// Future returned by [`Condvar::wait_while`].
    #[must_use = "futures do nothing unless you `.await` or poll them"]
    pub struct WaitWhile<'a, T: ?Sized, F> {
        #[pin]
        inner: WaitInner<'a, T>,
        condition: F,
    }
);

impl<'a, T: ?Sized, F> Future for WaitWhile<'a, T, F>
where
    F: FnMut(&mut T) -> bool,
{
    type Output = MutexGuard<'a, T>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        loop {
            {
                let inner = this.inner.as_mut().project();
                if *inner.phase == Phase::Init {
                    let guard = inner.guard.as_mut().expect("guard held until registered");
                    if !(this.condition)(&mut **guard) {
                        *inner.phase = Phase::Done;
                        return Poll::Ready(inner.guard.take().expect("checked above"));
                    }
                }
            }
            let guard = match this.inner.as_mut().poll(cx) {
                Poll::Ready(guard) => guard,
                Poll::Pending => return Poll::Pending,
            };
            this.inner.as_mut().restart(guard);
        }
    }
}

impl<T: ?Sized, F> FusedFuture for WaitWhile<'_, T, F>
where
    F: FnMut(&mut T) -> bool,
{
    fn is_terminated(&self) -> bool {
        self.inner.phase == Phase::Done
    }
}

impl<T: ?Sized, F> fmt::Debug for WaitWhile<'_, T, F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WaitWhile")
            .field("phase", &self.inner.phase)
            .finish_non_exhaustive()
    }
}

#[cfg(feature = "std")]
#[cfg_attr(docsrs, doc(cfg(feature = "std")))]
impl Condvar {
    /// Blocks the current thread in [`wait`](Self::wait).
    ///
    /// Meant for plain threads; calling it from a task blocks that
    /// executor thread.
    pub fn wait_blocking<'a, T: ?Sized>(&'a self, guard: MutexGuard<'a, T>) -> MutexGuard<'a, T> {
        crate::util::block_on::block_on(self.wait(guard))
    }

    /// Blocks the current thread in [`wait_while`](Self::wait_while).
    ///
    /// Meant for plain threads; calling it from a task blocks that
    /// executor thread.
    pub fn wait_while_blocking<'a, T: ?Sized, F>(
        &'a self,
        guard: MutexGuard<'a, T>,
        condition: F,
    ) -> MutexGuard<'a, T>
    where
        F: FnMut(&mut T) -> bool,
    {
        crate::util::block_on::block_on(self.wait_while(guard, condition))
    }
}

// Unwind safety (see the type's docs): the state is never left broken by a
// panic in user code. A waiting future caught in a panic is still a
// consistent waiter (its drop leaves the queue), and a shared reference to
// one reaches only what `Debug` and `is_terminated` read. (The futures'
// intrusive nodes hide this from the auto traits.)
impl core::panic::UnwindSafe for Condvar {}
impl core::panic::RefUnwindSafe for Condvar {}

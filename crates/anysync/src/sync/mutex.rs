//! A fair async mutex.

use core::{
    fmt,
    future::Future,
    marker::PhantomData,
    ops::{Deref, DerefMut},
    pin::Pin,
    task::{Context, Poll},
};

use futures_core::FusedFuture;
use pin_project_lite::pin_project;

use crate::{
    loom::{
        cell::UnsafeCell,
        sync::atomic::{AtomicUsize, Ordering},
    },
    waitq::{QueueGuard, Visit, Wait, WaitNode, WaitOwner, WaitQueue, WaitState},
};

/// An async mutual-exclusion lock whose guard may be held across `.await`.
///
/// * **Fair (strict FIFO).** Tasks get the lock in the order they asked for
///   it. When the holder unlocks with tasks waiting, the lock is handed
///   straight to the first waiter; a newcomer's `lock()` or `try_lock()`
///   cannot barge in ahead of it.
/// * **No poisoning.** If a task panics while holding the guard, the guard's
///   drop still unlocks, and the next waiter gets the lock (like tokio's).
///   The data may have been left half-updated by the panicking code.
/// * **Waits never allocate.**
///
/// # When to use `std::sync::Mutex` instead
///
/// If the lock is never held across an `.await`, a blocking mutex is
/// simpler and faster: its critical sections are short, so blocking is
/// brief. Use this mutex when the critical section itself awaits.
///
/// # Futurelock
///
/// The lock is handed straight to the first waiter, so a waiting future
/// that has been woken owns it from then on. If that future is neither
/// polled nor dropped (a `select!` in a loop over a future made outside the
/// loop, while another branch awaits), it keeps the lock and every task
/// queued behind it waits. Create the waiting future inside the loop, or
/// drop it, so that a grant it received passes on.
///
/// # Examples
///
/// ```
/// # futures_executor::block_on(async {
/// use anysync::sync::Mutex;
///
/// let count = Mutex::new(0);
/// *count.lock().await += 1;
/// assert_eq!(*count.try_lock().unwrap(), 1);
/// # });
/// ```
///
/// # Unwind safety
///
/// There is no poisoning: a panic while a guard is held releases the lock
/// as the guard is dropped, so the lock itself is never broken, but the
/// data may be left half-updated with nothing to say so. Hence, like
/// `RefCell`, a `Mutex<T>` is `UnwindSafe` when `T` is, but never
/// `RefUnwindSafe`; wrap a reference in `AssertUnwindSafe` where the
/// data's invariants cannot break.
///
/// # Implementation notes
///
/// One atomic word holds two bits, `LOCKED` and `QUEUED`, next to a wait
/// queue whose nodes carry no data. Locking without contention is one
/// compare-and-swap from "free" to `LOCKED`, unlocking one from `LOCKED`
/// back to free; neither touches the queue's lock. `QUEUED` is set and
/// cleared only under the queue's lock, and only while `LOCKED` is set;
/// unlocking with `QUEUED` set hands the lock to the head waiter without
/// ever clearing `LOCKED`, so both fast paths fail while anyone waits and
/// nobody can overtake the queue. A woken waiter finds its grant with one
/// atomic load. (This is the one-permit case of a
/// [`Semaphore`](super::Semaphore), without the counting, weights and
/// closing that a mutex never needs.)
pub struct Mutex<T: ?Sized> {
    raw: RawMutex,
    data: UnsafeCell<T>,
}

/// Set while the lock is held (or being handed to a woken waiter).
const LOCKED: usize = 0b01;
/// Set while the wait queue is non-empty. Changed only with the queue lock
/// held, and only while `LOCKED` is set.
const QUEUED: usize = 0b10;

/// The part of a [`Mutex`] that does not depend on `T`: the lock word and
/// the wait queue.
pub(crate) struct RawMutex {
    state: AtomicUsize,
    queue: WaitQueue<(), ()>,
}

impl RawMutex {
    crate::util::macros::loom_const_fn!(
        fn new() -> RawMutex {
            RawMutex {
                state: AtomicUsize::new(0),
                queue: WaitQueue::new(()),
            }
        }
    );

    /// Takes the lock if it is free and nobody is queued.
    #[inline]
    fn try_lock(&self) -> bool {
        self.state
            .compare_exchange(0, LOCKED, Ordering::Acquire, Ordering::Relaxed)
            .is_ok()
    }

    #[inline]
    fn unlock(&self) {
        if self
            .state
            .compare_exchange(LOCKED, 0, Ordering::Release, Ordering::Relaxed)
            .is_err()
        {
            self.unlock_slow();
        }
    }

    /// Unlocking with waiters queued: hand the lock to the head.
    #[cold]
    #[inline(never)]
    fn unlock_slow(&self) {
        let queue = self.queue.lock();
        self.hand_off(queue);
    }

    /// With the lock held by the caller (or granted to a waiter that went
    /// away) and the queue locked: gives the lock to the head waiter, or
    /// frees it if nobody waits. Wakes the new owner after unlocking.
    #[inline]
    fn hand_off(&self, mut queue: QueueGuard<'_, (), ()>) {
        // Nobody else changes `state` now: the fast paths need it to be free
        // or exactly `LOCKED` with us as the owner, and `QUEUED` changes only
        // under the lock we hold.
        let mut granted = false;
        let waker = queue.wake_head(|_, _, _| {
            granted = true;
            Visit::Wake
        });
        if queue.is_empty() {
            // `Release`: the data written under the lock is published to the
            // next owner (the woken waiter's `take_woken` pairs with the
            // queue's own `Release`; a later fast `lock` pairs with this).
            let next = if granted { LOCKED } else { 0 };
            self.state.store(next, Ordering::Release);
        }
        drop(queue);
        if let Some(waker) = waker {
            waker.wake();
        }
    }

    /// The waiting path of a `lock` future: takes the lock, or queues the
    /// node (or, if it is queued, updates its waker).
    fn poll_lock(&self, mut node: WaitNode<'_, ()>, cx: &mut Context<'_>) -> Poll<()> {
        if node.take_woken(|_| ()).is_some() {
            return Poll::Ready(());
        }
        // A node not queued yet is about to wait: clone the waker before
        // the lock, so that a `Waker::clone` that calls back into this
        // mutex cannot deadlock (and a panicking one changes nothing).
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
                drop(queue);
                drop(waker);
                Poll::Ready(())
            }
            WaitState::Idle => {
                let waker = fresh.unwrap_or_else(|| cx.waker().clone());
                let mut cur = self.state.load(Ordering::Relaxed);
                loop {
                    let next = if cur == 0 { LOCKED } else { LOCKED | QUEUED };
                    if cur == next {
                        // Already `LOCKED | QUEUED`: only changed under the
                        // lock we hold, so no read-modify-write needed.
                        break;
                    }
                    match self.state.compare_exchange_weak(
                        cur,
                        next,
                        Ordering::Acquire,
                        Ordering::Relaxed,
                    ) {
                        Ok(_) if next == LOCKED => {
                            drop(queue);
                            drop(waker);
                            return Poll::Ready(());
                        }
                        Ok(_) => break,
                        Err(actual) => cur = actual,
                    }
                }
                node.enqueue_with(&mut queue, waker);
                Poll::Pending
            }
        }
    }

    fn is_locked(&self) -> bool {
        self.state.load(Ordering::Acquire) & LOCKED != 0
    }

    fn waiters(&self) -> usize {
        self.queue.lock().len()
    }
}

impl fmt::Debug for RawMutex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.state.load(Ordering::Acquire);
        f.debug_struct("RawMutex")
            .field("locked", &(state & LOCKED != 0))
            .field("queued", &(state & QUEUED != 0))
            .finish()
    }
}

impl<T: ?Sized> WaitOwner for Mutex<T> {
    type State = ();
    type Data = ();

    #[inline(always)]
    fn wait_queue(&self) -> &WaitQueue<(), ()> {
        &self.raw.queue
    }

    /// A dropped `lock` future: if it had been handed the lock, pass the
    /// lock on; if it was only waiting, the queue may now be empty.
    fn abandon(&self, queue: QueueGuard<'_, (), ()>, was: WaitState, _: &mut ()) {
        if was == WaitState::Woken {
            self.raw.hand_off(queue);
        } else if queue.is_empty() {
            // Still `LOCKED` (someone holds it): only `QUEUED` goes.
            self.raw.state.store(LOCKED, Ordering::Release);
        }
    }
}

// SAFETY: the mutex hands out access to `T` to one task at a time, so it may
// be shared between threads as long as `T` may be sent between them.
unsafe impl<T: ?Sized + Send> Sync for Mutex<T> {}
// SAFETY: moving the mutex moves `T`.
unsafe impl<T: ?Sized + Send> Send for Mutex<T> {}

/// A `try_*` lock failed because the lock is held in a conflicting way, or
/// other tasks are queued for it (used by [`Mutex`] and [`RwLock`](super::RwLock)).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct TryLockError(());

impl fmt::Display for TryLockError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("lock is held or has tasks queued for it")
    }
}

impl core::error::Error for TryLockError {}

impl<T> Mutex<T> {
    crate::util::macros::loom_const_fn!(
        /// An unlocked mutex holding `data`.
        pub fn new(data: T) -> Mutex<T> {
            Mutex {
                raw: RawMutex::new(),
                data: UnsafeCell::new(data),
            }
        }
    );

    /// Consumes the mutex, returning the data.
    pub fn into_inner(self) -> T {
        self.data.into_inner()
    }
}

impl<T: ?Sized> Mutex<T> {
    /// Waits for the lock.
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
    pub fn lock(&self) -> Lock<'_, T> {
        Lock {
            inner: LockInner::new(self),
        }
    }

    /// Takes the lock if it is free and nobody is queued for it.
    ///
    /// # Errors
    /// [`TryLockError`] if the lock is held or tasks are queued for it.
    pub fn try_lock(&self) -> Result<MutexGuard<'_, T>, TryLockError> {
        if self.raw.try_lock() {
            Ok(MutexGuard { mutex: self })
        } else {
            Err(TryLockError(()))
        }
    }

    /// Mutable access without locking: the `&mut` proves no guard exists.
    pub fn get_mut(&mut self) -> &mut T {
        self.data.with_mut(|p| {
            // SAFETY: `&mut self` means no guard borrows the mutex.
            unsafe { &mut *p }
        })
    }

    /// `true` if the lock is held right now (a snapshot).
    pub fn is_locked(&self) -> bool {
        self.raw.is_locked()
    }

    /// The number of tasks waiting for the lock.
    pub fn waiters(&self) -> usize {
        self.raw.waiters()
    }

    /// A snapshot of the lock's state (the same as [`is_locked`](Self::is_locked)
    /// and [`waiters`](Self::waiters)).
    pub fn statistics(&self) -> MutexStatistics {
        MutexStatistics {
            locked: self.is_locked(),
            waiters: self.waiters(),
        }
    }

    #[inline]
    fn unlock(&self) {
        self.raw.unlock();
    }
}

/// A snapshot of a [`Mutex`], from [`Mutex::statistics`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct MutexStatistics {
    /// The lock is held (or being handed to a woken waiter).
    pub locked: bool,
    /// Tasks waiting for the lock.
    pub waiters: usize,
}

impl<T: Default> Default for Mutex<T> {
    fn default() -> Self {
        Mutex::new(T::default())
    }
}

impl<T> From<T> for Mutex<T> {
    fn from(data: T) -> Self {
        Mutex::new(data)
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for Mutex<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Mutex");
        match self.try_lock() {
            Ok(guard) => d.field("data", &&*guard),
            Err(_) => d.field("data", &format_args!("<locked>")),
        };
        d.finish()
    }
}

pin_project!(
    /// Future returned by [`Mutex::lock`].
    #[must_use = "futures do nothing unless you `.await` or poll them"]
    pub struct Lock<'a, T: ?Sized> {
        #[pin]
        inner: LockInner<&'a Mutex<T>>,
    }
);

/// Where a lock future stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    Init,
    Waiting,
    Done,
}

/// A primitive whose waits are lock waits on a [`RawMutex`].
trait RawOwner: WaitOwner<State = (), Data = ()> {
    fn raw(&self) -> &RawMutex;
}

impl<T: ?Sized> RawOwner for Mutex<T> {
    #[inline(always)]
    fn raw(&self) -> &RawMutex {
        &self.raw
    }
}

pin_project!(
    /// The waiting part of [`Lock`] and `LockOwned`: the wait-queue node
    /// (through [`Wait`], whose drop leaves the queue and passes on a grant
    /// it was given) and where the future stands.
    struct LockInner<P>
    where
        P: Deref,
        P::Target: RawOwner,
    {
        #[pin]
        wait: Wait<P>,
        phase: Phase,
    }
);

impl<P> LockInner<P>
where
    P: Deref,
    P::Target: RawOwner,
{
    #[inline]
    fn new(ptr: P) -> Self {
        Self {
            wait: Wait::new(ptr, ()),
            phase: Phase::Init,
        }
    }

    #[inline]
    fn ptr(&self) -> &P {
        self.wait.ptr()
    }

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.project();
        let (owner, mut node) = this.wait.split();
        match *this.phase {
            Phase::Done => panic!("lock future polled after completion"),
            Phase::Init => {
                if !owner.raw().try_lock() {
                    *this.phase = Phase::Waiting;
                    if owner.raw().poll_lock(node, cx).is_pending() {
                        return Poll::Pending;
                    }
                }
            }
            Phase::Waiting => {
                // The hand-off's hot path: the woken future finds its grant
                // with one atomic load, without the queue's lock.
                if node.take_woken(|_| ()).is_none() && owner.raw().poll_lock(node, cx).is_pending()
                {
                    return Poll::Pending;
                }
            }
        }
        *this.phase = Phase::Done;
        Poll::Ready(())
    }

    #[inline]
    fn is_terminated(&self) -> bool {
        self.phase == Phase::Done
    }
}

impl<'a, T: ?Sized> Future for Lock<'a, T> {
    type Output = MutexGuard<'a, T>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let mutex: &'a Mutex<T> = this.inner.ptr();
        this.inner.poll(cx).map(|()| MutexGuard { mutex })
    }
}

impl<T: ?Sized> FusedFuture for Lock<'_, T> {
    fn is_terminated(&self) -> bool {
        self.inner.is_terminated()
    }
}

impl<T: ?Sized> fmt::Debug for Lock<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Lock").finish_non_exhaustive()
    }
}

/// Access to the data of a locked [`Mutex`]; unlocks when dropped.
#[must_use = "the mutex unlocks as soon as the guard is dropped"]
pub struct MutexGuard<'a, T: ?Sized> {
    mutex: &'a Mutex<T>,
}

// SAFETY: a guard gives `&T` (and `&mut T`) to whoever holds it; sharing the
// guard shares `&T`, which needs `T: Sync`.
unsafe impl<T: ?Sized + Sync> Sync for MutexGuard<'_, T> {}

impl<'a, T: ?Sized> MutexGuard<'a, T> {
    /// Narrows the guard to a part of the data. The lock stays held until
    /// the returned guard is dropped.
    pub fn map<U: ?Sized>(this: Self, f: impl FnOnce(&mut T) -> &mut U) -> MappedMutexGuard<'a, U> {
        let mutex = this.mutex;
        // Run `f` while `this` still owns the lock: if `f` panics, `this` is
        // dropped during the unwind and unlocks.
        let data: *mut U = f(mutex.data.with_mut(|p| {
            // SAFETY: `this` proves we hold the lock; it is not used again
            // until it is forgotten below, so this is the only reference.
            unsafe { &mut *p }
        }));
        // The lock's ownership moves to the mapped guard.
        core::mem::forget(this);
        MappedMutexGuard {
            raw: &mutex.raw,
            data,
            _marker: PhantomData,
        }
    }

    /// The mutex this guard locks.
    pub fn mutex(this: &Self) -> &'a Mutex<T> {
        this.mutex
    }
}

impl<T: ?Sized> Deref for MutexGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        self.mutex.data.with(|p| {
            // SAFETY: the guard proves we hold the lock.
            unsafe { &*p }
        })
    }
}

impl<T: ?Sized> DerefMut for MutexGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        self.mutex.data.with_mut(|p| {
            // SAFETY: the guard proves we hold the lock, and `&mut self`
            // that no other reference from this guard is alive.
            unsafe { &mut *p }
        })
    }
}

impl<T: ?Sized> Drop for MutexGuard<'_, T> {
    fn drop(&mut self) {
        self.mutex.unlock();
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for MutexGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T: ?Sized + fmt::Display> fmt::Display for MutexGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&**self, f)
    }
}

/// A [`MutexGuard`] narrowed by [`MutexGuard::map`].
#[must_use = "the mutex unlocks as soon as the guard is dropped"]
pub struct MappedMutexGuard<'a, T: ?Sized> {
    raw: &'a RawMutex,
    data: *mut T,
    _marker: PhantomData<&'a mut T>,
}

// SAFETY: like `MutexGuard`; the raw pointer is only dereferenced while the
// lock is held, by whoever holds this guard.
unsafe impl<T: ?Sized + Sync> Sync for MappedMutexGuard<'_, T> {}
// SAFETY: sending the guard sends `&mut T`, which needs `T: Send`.
unsafe impl<T: ?Sized + Send> Send for MappedMutexGuard<'_, T> {}

impl<'a, T: ?Sized> MappedMutexGuard<'a, T> {
    /// Narrows the guard further.
    pub fn map<U: ?Sized>(this: Self, f: impl FnOnce(&mut T) -> &mut U) -> MappedMutexGuard<'a, U> {
        // SAFETY: `this` proves the lock is held and `data` points into the
        // mutex's cell. `f` runs while `this` still owns the lock, so a panic
        // in `f` drops `this` and unlocks.
        let data: *mut U = f(unsafe { &mut *this.data });
        let raw = this.raw;
        core::mem::forget(this);
        MappedMutexGuard {
            raw,
            data,
            _marker: PhantomData,
        }
    }
}

impl<T: ?Sized> Deref for MappedMutexGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: the guard proves we hold the lock; `data` points into the
        // locked mutex's cell.
        unsafe { &*self.data }
    }
}

impl<T: ?Sized> DerefMut for MappedMutexGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: as in `deref`, and `&mut self` makes this unique.
        unsafe { &mut *self.data }
    }
}

impl<T: ?Sized> Drop for MappedMutexGuard<'_, T> {
    fn drop(&mut self) {
        self.raw.unlock();
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for MappedMutexGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

#[cfg(feature = "alloc")]
use alloc::sync::Arc;

#[cfg(feature = "alloc")]
#[cfg_attr(docsrs, doc(cfg(feature = "alloc")))]
impl<T: ?Sized> Mutex<T> {
    /// Like [`lock`](Self::lock), for an `Arc<Mutex<T>>`: the guard owns
    /// a clone of the `Arc`, so it is `'static`.
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
    pub fn lock_owned(self: Arc<Self>) -> LockOwned<T> {
        LockOwned {
            inner: LockInner::new(self),
        }
    }

    /// Like [`try_lock`](Self::try_lock), for an `Arc<Mutex<T>>`.
    ///
    /// # Errors
    /// [`TryLockError`] if the lock is held or tasks are queued for it.
    pub fn try_lock_owned(self: Arc<Self>) -> Result<OwnedMutexGuard<T>, TryLockError> {
        let guard = self.try_lock()?;
        core::mem::forget(guard);
        Ok(OwnedMutexGuard { mutex: self })
    }
}

#[cfg(feature = "alloc")]
pin_project!(
    #[cfg_attr(docsrs, doc(cfg(feature = "alloc")))]
    /// Future returned by [`Mutex::lock_owned`].
    #[must_use = "futures do nothing unless you `.await` or poll them"]
    pub struct LockOwned<T: ?Sized> {
        #[pin]
        inner: LockInner<Arc<Mutex<T>>>,
    }
);

#[cfg(feature = "alloc")]
#[cfg_attr(docsrs, doc(cfg(feature = "alloc")))]
impl<T: ?Sized> Future for LockOwned<T> {
    type Output = OwnedMutexGuard<T>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        this.inner.as_mut().poll(cx).map(|()| OwnedMutexGuard {
            mutex: Arc::clone(this.inner.ptr()),
        })
    }
}

#[cfg(feature = "alloc")]
#[cfg_attr(docsrs, doc(cfg(feature = "alloc")))]
impl<T: ?Sized> FusedFuture for LockOwned<T> {
    fn is_terminated(&self) -> bool {
        self.inner.is_terminated()
    }
}

#[cfg(feature = "alloc")]
#[cfg_attr(docsrs, doc(cfg(feature = "alloc")))]
impl<T: ?Sized> fmt::Debug for LockOwned<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LockOwned").finish_non_exhaustive()
    }
}

#[cfg(feature = "alloc")]
#[cfg_attr(docsrs, doc(cfg(feature = "alloc")))]
/// An owned guard from [`Mutex::lock_owned`]; unlocks when dropped.
#[must_use = "the mutex unlocks as soon as the guard is dropped"]
pub struct OwnedMutexGuard<T: ?Sized> {
    mutex: Arc<Mutex<T>>,
}

// SAFETY: as for `MutexGuard`: sharing the guard shares `&T`.
#[cfg(feature = "alloc")]
#[cfg_attr(docsrs, doc(cfg(feature = "alloc")))]
unsafe impl<T: ?Sized + Sync> Sync for OwnedMutexGuard<T> {}

#[cfg(feature = "alloc")]
#[cfg_attr(docsrs, doc(cfg(feature = "alloc")))]
impl<T: ?Sized> OwnedMutexGuard<T> {
    /// The mutex this guard locks.
    pub fn mutex(this: &Self) -> &Arc<Mutex<T>> {
        &this.mutex
    }
}

#[cfg(feature = "alloc")]
#[cfg_attr(docsrs, doc(cfg(feature = "alloc")))]
impl<T: ?Sized> Deref for OwnedMutexGuard<T> {
    type Target = T;
    fn deref(&self) -> &T {
        self.mutex.data.with(|p| {
            // SAFETY: the guard proves we hold the lock.
            unsafe { &*p }
        })
    }
}

#[cfg(feature = "alloc")]
#[cfg_attr(docsrs, doc(cfg(feature = "alloc")))]
impl<T: ?Sized> DerefMut for OwnedMutexGuard<T> {
    fn deref_mut(&mut self) -> &mut T {
        self.mutex.data.with_mut(|p| {
            // SAFETY: the guard proves we hold the lock; `&mut self`
            // makes this reference unique.
            unsafe { &mut *p }
        })
    }
}

#[cfg(feature = "alloc")]
#[cfg_attr(docsrs, doc(cfg(feature = "alloc")))]
impl<T: ?Sized> Drop for OwnedMutexGuard<T> {
    fn drop(&mut self) {
        self.mutex.unlock();
    }
}

#[cfg(feature = "alloc")]
#[cfg_attr(docsrs, doc(cfg(feature = "alloc")))]
impl<T: ?Sized + fmt::Debug> fmt::Debug for OwnedMutexGuard<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

#[cfg(feature = "std")]
#[cfg_attr(docsrs, doc(cfg(feature = "std")))]
impl<T: ?Sized> Mutex<T> {
    /// Blocks the current thread until the lock is acquired.
    ///
    /// Meant for plain threads (for example to share state between
    /// async and sync code); calling it from a task blocks that executor
    /// thread, and deadlocks if the holder needs that thread to finish.
    pub fn lock_blocking(&self) -> MutexGuard<'_, T> {
        crate::util::block_on::block_on(self.lock())
    }
}

#[cfg(feature = "std")]
#[cfg_attr(docsrs, doc(cfg(feature = "std")))]
impl<T: ?Sized> Mutex<T> {
    /// Blocks the current thread until the lock is acquired, for an
    /// `Arc<Mutex<T>>`: the guard owns a clone of the `Arc`, so it is
    /// `'static`.
    ///
    /// Meant for plain threads; calling it from a task blocks that executor
    /// thread, and deadlocks if the holder needs that thread to finish.
    pub fn lock_owned_blocking(self: Arc<Self>) -> OwnedMutexGuard<T> {
        crate::util::block_on::block_on(self.lock_owned())
    }
}

//! A fair async reader-writer lock, with upgradable reads.

use core::{
    fmt,
    future::Future,
    marker::PhantomData,
    mem::ManuallyDrop,
    ops::{Deref, DerefMut},
    pin::Pin,
    ptr::NonNull,
    task::{Context, Poll},
};

use futures_core::FusedFuture;
use pin_project_lite::pin_project;

use super::{
    mutex::TryLockError,
    semaphore::{never_closed, AcquireInner, SemOwner, Semaphore, TryAcquireError},
};
use crate::loom::{
    cell::UnsafeCell,
    sync::atomic::{AtomicBool, Ordering},
};

/// An async reader-writer lock: many readers or one writer, and guards that
/// may be held across `.await`.
///
/// * **Fair (FIFO).** Readers and writers are served in arrival order. A
///   queued writer is not starved by a stream of new readers: once a writer
///   waits, later readers queue behind it. When a writer unlocks, the run of
///   readers at the head of the queue gets in together, up to the next
///   queued writer.
/// * **Cancel safe.** Dropping a queued writer releases the readers queued
///   behind it if the lock is read-held, so they get in at once.
/// * **Upgradable reads.** [`upgradable_read`](Self::upgradable_read)
///   shares the lock with plain readers but excludes writers and other
///   upgradable readers; [`RwLockUpgradableReadGuard::upgrade`] then waits
///   for the plain readers to leave and turns it into a write guard. A
///   second upgradable read waits without holding back plain readers, and
///   an upgrade is served before anyone queued, so new readers cannot
///   starve it.
/// * **Atomic downgrade.** [`RwLockWriteGuard::downgrade`] turns a write
///   guard into a read guard with no moment in which another writer could
///   get in; readers queued at the head get in with it.
///   [`downgrade_map`](RwLockWriteGuard::downgrade_map) does the same,
///   keeping read access to a part of the data.
/// * **Covariant read guards**, as `std`'s: a [`RwLockReadGuard`] of a
///   `RwLock<&'static str>` is also one of `&'a str`.
/// * **Bounded readers.** [`with_max_readers`](Self::with_max_readers) caps
///   the number of concurrent readers; the next reader waits.
/// * **No poisoning**, and waits never allocate.
///
/// Taking a read lock while the same task already holds one can deadlock if
/// a writer is queued in between (the new read waits behind the writer,
/// which waits for the first read); this is the price of writer fairness.
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
/// use anysync::sync::RwLock;
///
/// let lock = RwLock::new(5);
/// {
///     let r1 = lock.read().await;
///     let r2 = lock.read().await; // readers share
///     assert_eq!(*r1 + *r2, 10);
///     assert!(lock.try_write().is_err());
/// }
/// *lock.write().await += 1;
/// assert_eq!(*lock.read().await, 6);
/// # });
/// ```
///
/// # Unwind safety
///
/// There is no poisoning: a panic while a guard is held releases the lock
/// as the guard is dropped, so the lock itself is never broken, but the
/// data may be left half-updated with nothing to say so. Hence, like
/// `RefCell`, a `RwLock<T>` is `UnwindSafe` when `T` is, but never
/// `RefUnwindSafe`; wrap a reference in `AssertUnwindSafe` where the
/// data's invariants cannot break.
///
/// # Implementation notes
///
/// The lock is a [`Semaphore`] with `max_readers` permits: a read takes one
/// permit, a write takes all of them. The semaphore's strict FIFO with
/// partial assignment to the head is exactly the fairness wanted: a queued
/// writer collects the permits the readers return and nobody behind it can
/// overtake it; if it is dropped, what it had collected goes on to the
/// readers queued behind it. Upgradable reads take one permit plus the only
/// permit of a second semaphore, so that there is at most one. An upgrade
/// asks for the remaining `max_readers - 1` permits *at the head* of the
/// queue, taking over those already assigned to a queued writer (who could
/// never complete before the upgrade anyway).
pub struct RwLock<T: ?Sized> {
    raw: RawRwLock,
    data: UnsafeCell<T>,
}

/// The part of a [`RwLock`] that does not depend on `T`: all a guard needs
/// to release what it holds. The read guards reach the lock only through
/// it (and the data through a pointer), which is what makes them covariant
/// in `T`.
struct RawRwLock {
    max_readers: usize,
    sem: Semaphore,
    /// One permit, held by the upgradable reader if there is one.
    upgradable: Semaphore,
    /// `true` while a write guard exists; only read by `statistics`.
    writer: AtomicBool,
}

// SAFETY: moving the lock moves the `T`.
unsafe impl<T: ?Sized + Send> Send for RwLock<T> {}
// SAFETY: read guards on several threads share `&T` (needs `T: Sync`); a
// write guard hands `&mut T` to whichever thread holds it (needs `T: Send`).
unsafe impl<T: ?Sized + Send + Sync> Sync for RwLock<T> {}

/// A snapshot of a [`RwLock`], from [`RwLock::statistics`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct RwLockStatistics {
    /// Read locks held, counting an upgradable read.
    pub readers: usize,
    /// `true` if a write guard exists.
    pub writer: bool,
    /// `true` if the upgradable slot is taken: by an upgradable read (held,
    /// or acquiring its read after taking the slot) or by a write guard
    /// obtained by upgrading one.
    pub upgradable: bool,
    /// Tasks waiting: to read, to write, for the upgradable slot, or to
    /// upgrade.
    pub waiters: usize,
    /// The most readers allowed at once.
    pub max_readers: usize,
}

impl<T> RwLock<T> {
    /// The largest number of concurrent readers [`with_max_readers`](Self::with_max_readers)
    /// accepts, and the default ([`Semaphore::MAX_PERMITS`]).
    pub const MAX_READERS: usize = Semaphore::MAX_PERMITS;

    crate::util::macros::loom_const_fn! {
        /// An unlocked lock holding `data`, allowing up to
        /// [`RwLock::MAX_READERS`] readers at once.
        pub fn new(data: T) -> RwLock<T> {
            Self::with_max_readers(data, Self::MAX_READERS)
        }
    }

    crate::util::macros::loom_const_fn! {
        /// An unlocked lock holding `data` that lets at most `max_readers`
        /// readers in at once; the next one waits.
        ///
        /// # Panics
        /// If `max_readers` is 0 or greater than [`RwLock::MAX_READERS`].
        ///
        /// # Examples
        ///
        /// ```
        /// use anysync::sync::RwLock;
        ///
        /// let lock = RwLock::with_max_readers((), 2);
        /// let _a = lock.try_read().unwrap();
        /// let _b = lock.try_read().unwrap();
        /// assert!(lock.try_read().is_err());
        /// ```
        #[track_caller]
        pub fn with_max_readers(data: T, max_readers: usize) -> RwLock<T> {
            assert!(max_readers > 0, "RwLock::with_max_readers: `max_readers` must be at least 1");
            assert!(
                max_readers <= Self::MAX_READERS,
                "RwLock::with_max_readers: `max_readers` exceeds RwLock::MAX_READERS"
            );
            RwLock {
                raw: RawRwLock {
                    max_readers,
                    sem: Semaphore::new(max_readers),
                    upgradable: Semaphore::new(1),
                    writer: AtomicBool::new(false),
                },
                data: UnsafeCell::new(data),
            }
        }
    }

    /// Consumes the lock, returning the data.
    pub fn into_inner(self) -> T {
        self.data.into_inner()
    }
}

impl<T: ?Sized> RwLock<T> {
    /// Waits for a read lock, shared with other readers.
    ///
    /// Queues behind any waiting writer, so writers are not starved.
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
    pub fn read(&self) -> Read<'_, T> {
        Read {
            inner: AcquireInner::new(self, 1),
        }
    }

    /// Waits for the write lock, exclusive of every reader and writer.
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
    /// Readers queued behind a dropped writer get in at once if the lock is
    /// only read-held.
    pub fn write(&self) -> Write<'_, T> {
        Write {
            inner: AcquireInner::new(self, self.raw.max_readers),
        }
    }

    /// Waits for an upgradable read lock: shared with plain readers,
    /// exclusive of writers and of other upgradable reads, and able to
    /// [`upgrade`](RwLockUpgradableReadGuard::upgrade) to the write lock.
    ///
    /// While another upgradable read is held this waits, without holding
    /// back plain readers that arrive after it.
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
    /// # Examples
    ///
    /// ```
    /// # futures_executor::block_on(async {
    /// use anysync::sync::{RwLock, RwLockUpgradableReadGuard};
    ///
    /// let lock = RwLock::new(1);
    /// let up = lock.upgradable_read().await;
    /// let r = lock.read().await; // plain readers still get in
    /// assert!(lock.try_upgradable_read().is_err()); // only one upgradable
    /// drop(r);
    /// let mut w = RwLockUpgradableReadGuard::upgrade(up).await;
    /// *w += 1;
    /// assert_eq!(*w, 2);
    /// # });
    /// ```
    pub fn upgradable_read(&self) -> UpgradableRead<'_, T> {
        UpgradableRead {
            inner: UpgradableInner::new(self),
        }
    }

    /// Takes a read lock if that needs no waiting.
    ///
    /// # Errors
    /// [`TryLockError`] if a writer holds the lock, `max_readers` readers
    /// do, or tasks are queued.
    pub fn try_read(&self) -> Result<RwLockReadGuard<'_, T>, TryLockError> {
        self.try_take(&self.raw.sem, 1)?;
        Ok(RwLockReadGuard::from_hold(Hold::new(self, Held::Read)))
    }

    /// Takes the write lock if that needs no waiting.
    ///
    /// # Errors
    /// [`TryLockError`] if the lock is held at all, or tasks are queued.
    pub fn try_write(&self) -> Result<RwLockWriteGuard<'_, T>, TryLockError> {
        self.try_take(&self.raw.sem, self.raw.max_readers)?;
        Ok(RwLockWriteGuard {
            hold: Hold::new(self, Held::Write { upgraded: false }),
        })
    }

    /// Takes an upgradable read lock if that needs no waiting.
    ///
    /// # Errors
    /// [`TryLockError`] if another upgradable read or a writer holds the
    /// lock, the readers are at their maximum, or tasks are queued.
    pub fn try_upgradable_read(&self) -> Result<RwLockUpgradableReadGuard<'_, T>, TryLockError> {
        self.try_take(&self.raw.upgradable, 1)?;
        if let Err(e) = self.try_take(&self.raw.sem, 1) {
            self.raw.upgradable.release(1);
            return Err(e);
        }
        Ok(RwLockUpgradableReadGuard {
            hold: Hold::new(self, Held::Upgradable),
        })
    }

    fn try_take(&self, sem: &Semaphore, n: usize) -> Result<(), TryLockError> {
        match sem.try_acquire_many(n) {
            Ok(permit) => {
                permit.keep();
                Ok(())
            }
            Err(TryAcquireError::NoPermits) => Err(TryLockError::default()),
            Err(e) => never_closed(Err(e)),
        }
    }

    /// Mutable access without locking: the `&mut` proves no guard exists.
    pub fn get_mut(&mut self) -> &mut T {
        self.data.with_mut(|p| {
            // SAFETY: `&mut self` means no guard borrows the lock.
            unsafe { &mut *p }
        })
    }

    /// The most readers allowed at once.
    pub fn max_readers(&self) -> usize {
        self.raw.max_readers
    }

    /// A snapshot of who holds the lock and how many wait (each field is
    /// exact; they are read one after the other, so under contention they
    /// may come from slightly different moments).
    ///
    /// # Examples
    ///
    /// ```
    /// use anysync::sync::RwLock;
    ///
    /// let lock = RwLock::new(());
    /// let _r = lock.try_read().unwrap();
    /// let stats = lock.statistics();
    /// assert_eq!((stats.readers, stats.writer, stats.waiters), (1, false, 0));
    /// ```
    pub fn statistics(&self) -> RwLockStatistics {
        let sem = self.raw.sem.statistics();
        let slot = self.raw.upgradable.statistics();
        let writer = self.raw.writer.load(Ordering::Acquire);
        let held = self
            .raw
            .max_readers
            .saturating_sub(sem.available + sem.assigned_to_waiters);
        RwLockStatistics {
            readers: if writer { 0 } else { held },
            writer,
            upgradable: slot.available == 0,
            waiters: sem.waiters + slot.waiters,
            max_readers: self.raw.max_readers,
        }
    }
}

impl<T: Default> Default for RwLock<T> {
    fn default() -> Self {
        RwLock::new(T::default())
    }
}

impl<T> From<T> for RwLock<T> {
    fn from(data: T) -> Self {
        RwLock::new(data)
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for RwLock<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("RwLock");
        match self.try_read() {
            Ok(guard) => d.field("data", &&*guard),
            Err(_) => d.field("data", &format_args!("<locked>")),
        };
        d.finish()
    }
}

/// A way to reach the lock's [`RawRwLock`]: `&RwLock<T>`, `Arc<RwLock<T>>`,
/// or (for the read guards) `&RawRwLock` and [`ErasedArc`].
trait LockRef {
    fn raw(&self) -> &RawRwLock;
}

/// A [`LockRef`] that also reaches the data: `&RwLock<T>` or
/// `Arc<RwLock<T>>`.
trait TypedLockRef: LockRef {
    type Data: ?Sized;
    fn rwlock(&self) -> &RwLock<Self::Data>;
}

impl LockRef for &RawRwLock {
    fn raw(&self) -> &RawRwLock {
        self
    }
}

impl<T: ?Sized> LockRef for &RwLock<T> {
    fn raw(&self) -> &RawRwLock {
        &self.raw
    }
}

impl<T: ?Sized> TypedLockRef for &RwLock<T> {
    type Data = T;
    fn rwlock(&self) -> &RwLock<T> {
        self
    }
}

impl<T: ?Sized> RwLock<T> {
    /// A pointer to the data, for a read guard. Reads through it are sound
    /// while the guard holds a read permit.
    fn data_ptr(&self) -> NonNull<T> {
        self.data
            .with(|p| NonNull::new(p.cast_mut()).expect("a cell is never at address 0"))
    }
}

/// What a guard holds, so one `Drop` releases the right thing and
/// conversions (upgrade, downgrade) just change it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Held {
    /// One read permit.
    Read,
    /// One read permit and the upgradable slot.
    Upgradable,
    /// Every read permit; also the upgradable slot if `upgraded`.
    Write { upgraded: bool },
}

/// The lock plus what is held of it; releases it on drop. Every guard is
/// a `Hold` with a typed face.
struct Hold<P: LockRef> {
    lock: P,
    held: Held,
}

impl<P: LockRef> Hold<P> {
    fn new(lock: P, held: Held) -> Self {
        if let Held::Write { .. } = held {
            lock.raw().writer.store(true, Ordering::Release);
        }
        Hold { lock, held }
    }

    fn raw(&self) -> &RawRwLock {
        self.lock.raw()
    }

    /// The same hold, reaching the lock through `f(lock)` (a less typed
    /// way to the same lock): nothing is released or taken.
    fn reach<Q: LockRef>(self, f: impl FnOnce(P) -> Q) -> Hold<Q> {
        let held = self.held;
        let this = ManuallyDrop::new(self);
        // SAFETY: `this` is never used or dropped again, so `lock` is moved
        // out exactly once.
        let lock = unsafe { core::ptr::read(&this.lock) };
        Hold {
            lock: f(lock),
            held,
        }
    }

    /// Write guard to read guard: gives back every permit but one, and the
    /// upgradable slot if the write came from an upgrade.
    fn downgrade_write(mut self) -> Self {
        let Held::Write { upgraded } = self.held else {
            unreachable!("downgrade of a non-write hold")
        };
        self.held = Held::Read;
        let lock = self.raw();
        lock.writer.store(false, Ordering::Release);
        lock.sem.release(lock.max_readers - 1);
        if upgraded {
            lock.upgradable.release(1);
        }
        self
    }

    /// Upgradable read to plain read: gives back the upgradable slot.
    fn downgrade_upgradable(mut self) -> Self {
        debug_assert_eq!(self.held, Held::Upgradable);
        self.held = Held::Read;
        self.raw().upgradable.release(1);
        self
    }

    /// Upgradable read to write, once the other permits are ours.
    fn upgraded(mut self) -> Self {
        debug_assert_eq!(self.held, Held::Upgradable);
        self.held = Held::Write { upgraded: true };
        self.raw().writer.store(true, Ordering::Release);
        self
    }
}

impl<P: TypedLockRef> Hold<P> {
    fn rwlock(&self) -> &RwLock<P::Data> {
        self.lock.rwlock()
    }

    fn data(&self) -> &P::Data {
        self.rwlock().data.with(|p| {
            // SAFETY: a `Hold` holds at least one read permit, so no write
            // guard exists (it would need every permit), and nothing else
            // hands out `&mut` to the data.
            unsafe { &*p }
        })
    }
}

impl<P: LockRef> Drop for Hold<P> {
    fn drop(&mut self) {
        let lock = self.raw();
        match self.held {
            Held::Read => lock.sem.release(1),
            Held::Upgradable => {
                lock.sem.release(1);
                lock.upgradable.release(1);
            }
            Held::Write { upgraded } => {
                lock.writer.store(false, Ordering::Release);
                lock.sem.release(lock.max_readers);
                if upgraded {
                    lock.upgradable.release(1);
                }
            }
        }
    }
}

/// The two-step acquire of an upgradable read: the slot, then one read
/// permit.
#[derive(Debug)]
enum UpgradablePhase {
    Slot,
    Read,
    Done,
}

/// Marks the waits for the upgradable-read slot (the lock's second
/// semaphore), as opposed to those for read and write permits.
pub(crate) enum UpgradableSlot {}

impl<T: ?Sized> SemOwner for RwLock<T> {
    #[inline(always)]
    fn sem(&self) -> &Semaphore {
        &self.raw.sem
    }
}

impl<T: ?Sized> SemOwner<UpgradableSlot> for RwLock<T> {
    #[inline(always)]
    #[allow(clippy::misnamed_getters)] // the upgradable slot's semaphore, on purpose
    fn sem(&self) -> &Semaphore {
        &self.raw.upgradable
    }
}

pin_project! {
    struct UpgradableInner<P>
    where
        P: Deref,
        P::Target: SemOwner,
        P::Target: SemOwner<UpgradableSlot>,
    {
        #[pin]
        slot: AcquireInner<P, UpgradableSlot>,
        #[pin]
        read: AcquireInner<P>,
        phase: UpgradablePhase,
    }

    impl<P> PinnedDrop for UpgradableInner<P>
    where
        P: Deref,
        P::Target: SemOwner,
        P::Target: SemOwner<UpgradableSlot>,
    {
        fn drop(this: Pin<&mut Self>) {
            // The two acquires leave their queues when they are dropped.
            if let UpgradablePhase::Read = this.phase {
                // We hold the slot but never got the read permit.
                SemOwner::<UpgradableSlot>::sem(&**this.slot.ptr()).release(1);
            }
        }
    }
}

impl<P> UpgradableInner<P>
where
    P: Deref + Clone,
    P::Target: SemOwner,
    P::Target: SemOwner<UpgradableSlot>,
{
    fn new(ptr: P) -> Self {
        UpgradableInner {
            slot: AcquireInner::new(ptr.clone(), 1),
            read: AcquireInner::new(ptr, 1),
            phase: UpgradablePhase::Slot,
        }
    }

    fn ptr(&self) -> &P {
        self.read.ptr()
    }

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.project();
        if let UpgradablePhase::Slot = this.phase {
            match this.slot.poll(cx) {
                Poll::Ready(r) => {
                    never_closed(r);
                    *this.phase = UpgradablePhase::Read;
                }
                Poll::Pending => return Poll::Pending,
            }
        }
        match this.phase {
            UpgradablePhase::Read => match this.read.poll(cx) {
                Poll::Ready(r) => {
                    never_closed(r);
                    *this.phase = UpgradablePhase::Done;
                    Poll::Ready(())
                }
                Poll::Pending => Poll::Pending,
            },
            _ => panic!("`UpgradableRead` polled after completion"),
        }
    }

    fn is_terminated(&self) -> bool {
        matches!(self.phase, UpgradablePhase::Done)
    }
}

pin_project! {
    /// Future returned by [`RwLock::read`].
    #[must_use = "futures do nothing unless you `.await` or poll them"]
    pub struct Read<'a, T: ?Sized> {
        #[pin]
        inner: AcquireInner<&'a RwLock<T>>,
    }
}

impl<'a, T: ?Sized> Future for Read<'a, T> {
    type Output = RwLockReadGuard<'a, T>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let lock: &'a RwLock<T> = this.inner.ptr();
        this.inner.poll(cx).map(|r| {
            never_closed(r);
            RwLockReadGuard::from_hold(Hold::new(lock, Held::Read))
        })
    }
}

pin_project! {
    /// Future returned by [`RwLock::write`].
    #[must_use = "futures do nothing unless you `.await` or poll them"]
    pub struct Write<'a, T: ?Sized> {
        #[pin]
        inner: AcquireInner<&'a RwLock<T>>,
    }
}

impl<'a, T: ?Sized> Future for Write<'a, T> {
    type Output = RwLockWriteGuard<'a, T>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let lock: &'a RwLock<T> = this.inner.ptr();
        this.inner.poll(cx).map(|r| {
            never_closed(r);
            RwLockWriteGuard {
                hold: Hold::new(lock, Held::Write { upgraded: false }),
            }
        })
    }
}

pin_project! {
    /// Future returned by [`RwLock::upgradable_read`].
    #[must_use = "futures do nothing unless you `.await` or poll them"]
    pub struct UpgradableRead<'a, T: ?Sized> {
        #[pin]
        inner: UpgradableInner<&'a RwLock<T>>,
    }
}

impl<'a, T: ?Sized> Future for UpgradableRead<'a, T> {
    type Output = RwLockUpgradableReadGuard<'a, T>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let lock: &'a RwLock<T> = this.inner.ptr();
        this.inner.poll(cx).map(|()| RwLockUpgradableReadGuard {
            hold: Hold::new(lock, Held::Upgradable),
        })
    }
}

pin_project! {
    /// Future returned by [`RwLockUpgradableReadGuard::upgrade`].
    #[must_use = "futures do nothing unless you `.await` or poll them"]
    pub struct Upgrade<'a, T: ?Sized> {
        // Declared first, so dropped first: a dropped upgrade gives back what
        // it had collected before the guard releases its read.
        #[pin]
        inner: AcquireInner<&'a RwLock<T>>,
        guard: Option<RwLockUpgradableReadGuard<'a, T>>,
    }
}

impl<'a, T: ?Sized> Future for Upgrade<'a, T> {
    type Output = RwLockWriteGuard<'a, T>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let guard = this
            .guard
            .as_ref()
            .expect("`Upgrade` polled after completion");
        let _: &'a RwLock<T> = guard.hold.lock;
        match this.inner.poll(cx) {
            Poll::Ready(r) => {
                never_closed(r);
                let guard = this.guard.take().expect("checked above");
                Poll::Ready(RwLockWriteGuard {
                    hold: guard.hold.upgraded(),
                })
            }
            Poll::Pending => Poll::Pending,
        }
    }
}

/// Shared impls of the futures: `FusedFuture` and `Debug`.
macro_rules! future_common {
    ($name:ident<$($lt:lifetime,)? T>, |$this:ident| $terminated:expr) => {
        impl<$($lt,)? T: ?Sized> FusedFuture for $name<$($lt,)? T> {
            fn is_terminated(&self) -> bool {
                let $this = self;
                $terminated
            }
        }

        impl<$($lt,)? T: ?Sized> fmt::Debug for $name<$($lt,)? T> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_struct(stringify!($name))
                    .field("done", &FusedFuture::is_terminated(self))
                    .finish_non_exhaustive()
            }
        }
    };
}

future_common!(Read<'a, T>, |this| this.inner.is_terminated());
future_common!(Write<'a, T>, |this| this.inner.is_terminated());
future_common!(UpgradableRead<'a, T>, |this| this.inner.is_terminated());
future_common!(Upgrade<'a, T>, |this| this.guard.is_none());

/// `Deref` for the guards that reach the data through their `Hold`.
macro_rules! guard_deref {
    ($name:ident<$($lt:lifetime,)? T>) => {
        impl<$($lt,)? T: ?Sized> Deref for $name<$($lt,)? T> {
            type Target = T;
            fn deref(&self) -> &T {
                self.hold.data()
            }
        }
    };
}

/// Shared impls of the guards: `Debug` and `Display`.
macro_rules! guard_common {
    ($name:ident<$($lt:lifetime,)? T>) => {
        impl<$($lt,)? T: ?Sized + fmt::Debug> fmt::Debug for $name<$($lt,)? T> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Debug::fmt(&**self, f)
            }
        }

        impl<$($lt,)? T: ?Sized + fmt::Display> fmt::Display for $name<$($lt,)? T> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&**self, f)
            }
        }
    };
}

/// `DerefMut` for the write guards.
macro_rules! guard_deref_mut {
    ($name:ident<$($lt:lifetime,)? T>) => {
        impl<$($lt,)? T: ?Sized> DerefMut for $name<$($lt,)? T> {
            fn deref_mut(&mut self) -> &mut T {
                self.hold.rwlock().data.with_mut(|p| {
                    // SAFETY: a write guard holds every read permit, so no
                    // other guard exists, and `&mut self` makes this
                    // reference unique.
                    unsafe { &mut *p }
                })
            }
        }
    };
}

/// Shared access to the data of a read-locked [`RwLock`]; unlocks when
/// dropped.
///
/// Covariant in `T`, like `std`'s read guard: a guard of a
/// `RwLock<&'static str>` can be used where a guard of `&'a str` is
/// expected. That is also why it does not give back the lock it came from
/// (through the shorter type, a writer could store a shorter-lived value).
#[must_use = "the lock is released as soon as the guard is dropped"]
pub struct RwLockReadGuard<'a, T: ?Sized> {
    hold: Hold<&'a RawRwLock>,
    /// The data read (or the part of it a `map` picked); valid while the
    /// read permit in `hold` is held.
    data: NonNull<T>,
    _marker: PhantomData<&'a T>,
}

// SAFETY: the guard gives `&T` to whichever thread holds it or shares it
// (so `T: Sync` is needed for both), and releases the lock through its
// untyped part, which is thread-safe.
unsafe impl<T: ?Sized + Sync> Send for RwLockReadGuard<'_, T> {}
// SAFETY: as above.
unsafe impl<T: ?Sized + Sync> Sync for RwLockReadGuard<'_, T> {}

impl<'a, T: ?Sized> RwLockReadGuard<'a, T> {
    fn from_hold(hold: Hold<&'a RwLock<T>>) -> Self {
        let data = hold.lock.data_ptr();
        Self::with_data(hold, data)
    }

    /// `data` points into the lock's data (and lives as long as it).
    fn with_data<L: ?Sized>(hold: Hold<&'a RwLock<L>>, data: NonNull<T>) -> Self {
        debug_assert_eq!(hold.held, Held::Read);
        RwLockReadGuard {
            hold: hold.reach(|lock| &lock.raw),
            data,
            _marker: PhantomData,
        }
    }

    /// Keeps read access to the part of the data that `f` picks.
    ///
    /// # Examples
    ///
    /// ```
    /// # futures_executor::block_on(async {
    /// use anysync::sync::{RwLock, RwLockReadGuard};
    ///
    /// let lock = RwLock::new(vec![1, 2, 3]);
    /// let last = RwLockReadGuard::map(lock.read().await, |v| &v[2]);
    /// assert_eq!(*last, 3);
    /// # });
    /// ```
    pub fn map<U: ?Sized>(this: Self, f: impl FnOnce(&T) -> &U) -> RwLockReadGuard<'a, U> {
        let data = NonNull::from(f(&*this));
        RwLockReadGuard {
            hold: this.hold,
            data,
            _marker: PhantomData,
        }
    }
}

impl<T: ?Sized> Deref for RwLockReadGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: the guard holds a read permit, so no write guard exists
        // and nothing hands out `&mut` to the data, which lives as long as
        // the lock (`'a`).
        unsafe { self.data.as_ref() }
    }
}

/// Exclusive access to the data of a write-locked [`RwLock`]; unlocks when
/// dropped.
#[must_use = "the lock is released as soon as the guard is dropped"]
pub struct RwLockWriteGuard<'a, T: ?Sized> {
    hold: Hold<&'a RwLock<T>>,
}

impl<'a, T: ?Sized> RwLockWriteGuard<'a, T> {
    /// Turns the write lock into a read lock, atomically: no writer can get
    /// in between, and readers queued at the head of the queue get in at
    /// once. If this guard came from an upgrade, the upgradable slot is
    /// released too.
    ///
    /// # Examples
    ///
    /// ```
    /// # futures_executor::block_on(async {
    /// use anysync::sync::{RwLock, RwLockWriteGuard};
    ///
    /// let lock = RwLock::new(1);
    /// let mut w = lock.write().await;
    /// *w = 2;
    /// let r = RwLockWriteGuard::downgrade(w);
    /// assert_eq!(*r, 2);
    /// assert!(lock.try_read().is_ok());
    /// assert!(lock.try_write().is_err());
    /// # });
    /// ```
    pub fn downgrade(this: Self) -> RwLockReadGuard<'a, T> {
        RwLockReadGuard::from_hold(this.hold.downgrade_write())
    }

    /// Like [`downgrade`](Self::downgrade), keeping read access to the part
    /// of the data that `f` picks (a field, an element): `f` runs while the
    /// write lock is still held, then the lock is downgraded atomically.
    ///
    /// If `f` panics, the write guard is dropped as usual (no poisoning).
    ///
    /// # Examples
    ///
    /// ```
    /// # futures_executor::block_on(async {
    /// use anysync::sync::{RwLock, RwLockWriteGuard};
    ///
    /// let lock = RwLock::new((1, String::new()));
    /// let mut w = lock.write().await;
    /// w.1.push_str("ready");
    /// let name = RwLockWriteGuard::downgrade_map(w, |v| v.1.as_str());
    /// assert_eq!(&*name, "ready");
    /// assert!(lock.try_read().is_ok());
    /// # });
    /// ```
    pub fn downgrade_map<U: ?Sized>(
        this: Self,
        f: impl FnOnce(&T) -> &U,
    ) -> RwLockReadGuard<'a, U> {
        let data = NonNull::from(f(&*this));
        RwLockReadGuard::with_data(this.hold.downgrade_write(), data)
    }

    /// Like [`downgrade_map`](Self::downgrade_map) with an `f` that may
    /// find nothing to keep.
    ///
    /// # Errors
    /// Gives the write guard back, still write-locked, if `f` returns
    /// `None`.
    pub fn try_downgrade_map<U: ?Sized>(
        this: Self,
        f: impl FnOnce(&T) -> Option<&U>,
    ) -> Result<RwLockReadGuard<'a, U>, Self> {
        match f(&*this).map(NonNull::from) {
            Some(data) => Ok(RwLockReadGuard::with_data(
                this.hold.downgrade_write(),
                data,
            )),
            None => Err(this),
        }
    }

    /// The lock this guard writes.
    pub fn rwlock(this: &Self) -> &'a RwLock<T> {
        this.hold.lock
    }
}

/// Shared access to the data of a [`RwLock`] that can be
/// [upgraded](Self::upgrade) to exclusive access; unlocks when dropped.
#[must_use = "the lock is released as soon as the guard is dropped"]
pub struct RwLockUpgradableReadGuard<'a, T: ?Sized> {
    hold: Hold<&'a RwLock<T>>,
}

impl<'a, T: ?Sized> RwLockUpgradableReadGuard<'a, T> {
    /// Waits until this is the only read lock, then turns it into the write
    /// lock. The upgrade is served before every queued task, so new readers
    /// cannot starve it.
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
    /// The upgradable read lock moved into the future is released with it.
    pub fn upgrade(this: Self) -> Upgrade<'a, T> {
        let lock: &'a RwLock<T> = this.hold.lock;
        let extra = lock.raw.max_readers - 1;
        Upgrade {
            inner: AcquireInner::new_front(lock, extra),
            guard: Some(this),
        }
    }

    /// Turns this into the write lock if no other reader holds the lock.
    ///
    /// # Errors
    /// Gives the guard back if other readers hold the lock.
    pub fn try_upgrade(this: Self) -> Result<RwLockWriteGuard<'a, T>, Self> {
        let lock = this.hold.raw();
        match lock.sem.try_take_front(lock.max_readers - 1) {
            Ok(()) => Ok(RwLockWriteGuard {
                hold: this.hold.upgraded(),
            }),
            Err(_) => Err(this),
        }
    }

    /// Turns this into a plain read lock, freeing the upgradable slot for
    /// the next upgradable read.
    pub fn downgrade(this: Self) -> RwLockReadGuard<'a, T> {
        RwLockReadGuard::from_hold(this.hold.downgrade_upgradable())
    }

    /// The lock this guard reads.
    pub fn rwlock(this: &Self) -> &'a RwLock<T> {
        this.hold.lock
    }
}

guard_common!(RwLockReadGuard<'a, T>);
guard_common!(RwLockWriteGuard<'a, T>);
guard_deref!(RwLockWriteGuard<'a, T>);
guard_deref_mut!(RwLockWriteGuard<'a, T>);
guard_common!(RwLockUpgradableReadGuard<'a, T>);
guard_deref!(RwLockUpgradableReadGuard<'a, T>);

#[cfg(feature = "alloc")]
use alloc::sync::Arc;

#[cfg(feature = "alloc")]
#[cfg_attr(docsrs, doc(cfg(feature = "alloc")))]
impl<T: ?Sized> LockRef for Arc<RwLock<T>> {
    fn raw(&self) -> &RawRwLock {
        &self.raw
    }
}

#[cfg(feature = "alloc")]
#[cfg_attr(docsrs, doc(cfg(feature = "alloc")))]
impl<T: ?Sized> TypedLockRef for Arc<RwLock<T>> {
    type Data = T;
    fn rwlock(&self) -> &RwLock<T> {
        self
    }
}

#[cfg(feature = "alloc")]
#[cfg_attr(docsrs, doc(cfg(feature = "alloc")))]
impl<T: ?Sized> RwLock<T> {
    /// Like [`read`](Self::read), for an `Arc<RwLock<T>>`: the guard owns
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
    pub fn read_owned(self: Arc<Self>) -> ReadOwned<T> {
        ReadOwned {
            inner: AcquireInner::new(self, 1),
        }
    }

    /// Like [`write`](Self::write), for an `Arc<RwLock<T>>`.
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
    pub fn write_owned(self: Arc<Self>) -> WriteOwned<T> {
        let n = self.raw.max_readers;
        WriteOwned {
            inner: AcquireInner::new(self, n),
        }
    }

    /// Like [`upgradable_read`](Self::upgradable_read), for an
    /// `Arc<RwLock<T>>`.
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
    pub fn upgradable_read_owned(self: Arc<Self>) -> UpgradableReadOwned<T> {
        UpgradableReadOwned {
            inner: UpgradableInner::new(self),
        }
    }

    /// Like [`try_read`](Self::try_read), for an `Arc<RwLock<T>>`.
    ///
    /// # Errors
    /// As [`try_read`](Self::try_read).
    pub fn try_read_owned(self: Arc<Self>) -> Result<OwnedRwLockReadGuard<T>, TryLockError> {
        self.try_take(&self.raw.sem, 1)?;
        Ok(OwnedRwLockReadGuard::from_hold(Hold::new(self, Held::Read)))
    }

    /// Like [`try_write`](Self::try_write), for an `Arc<RwLock<T>>`.
    ///
    /// # Errors
    /// As [`try_write`](Self::try_write).
    pub fn try_write_owned(self: Arc<Self>) -> Result<OwnedRwLockWriteGuard<T>, TryLockError> {
        self.try_take(&self.raw.sem, self.raw.max_readers)?;
        Ok(OwnedRwLockWriteGuard {
            hold: Hold::new(self, Held::Write { upgraded: false }),
        })
    }

    /// Like [`try_upgradable_read`](Self::try_upgradable_read), for an
    /// `Arc<RwLock<T>>`.
    ///
    /// # Errors
    /// As [`try_upgradable_read`](Self::try_upgradable_read).
    pub fn try_upgradable_read_owned(
        self: Arc<Self>,
    ) -> Result<OwnedRwLockUpgradableReadGuard<T>, TryLockError> {
        let guard = self.try_upgradable_read()?;
        core::mem::forget(guard);
        Ok(OwnedRwLockUpgradableReadGuard {
            hold: Hold::new(self, Held::Upgradable),
        })
    }
}

#[cfg(feature = "alloc")]
pin_project! {
    #[cfg_attr(docsrs, doc(cfg(feature = "alloc")))]
    /// Future returned by [`RwLock::read_owned`].
    #[must_use = "futures do nothing unless you `.await` or poll them"]
    pub struct ReadOwned<T: ?Sized> {
        #[pin]
        inner: AcquireInner<Arc<RwLock<T>>>,
    }
}

#[cfg(feature = "alloc")]
#[cfg_attr(docsrs, doc(cfg(feature = "alloc")))]
impl<T: ?Sized> Future for ReadOwned<T> {
    type Output = OwnedRwLockReadGuard<T>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        this.inner.as_mut().poll(cx).map(|r| {
            never_closed(r);
            OwnedRwLockReadGuard::from_hold(Hold::new(Arc::clone(this.inner.ptr()), Held::Read))
        })
    }
}

#[cfg(feature = "alloc")]
pin_project! {
    #[cfg_attr(docsrs, doc(cfg(feature = "alloc")))]
    /// Future returned by [`RwLock::write_owned`].
    #[must_use = "futures do nothing unless you `.await` or poll them"]
    pub struct WriteOwned<T: ?Sized> {
        #[pin]
        inner: AcquireInner<Arc<RwLock<T>>>,
    }
}

#[cfg(feature = "alloc")]
#[cfg_attr(docsrs, doc(cfg(feature = "alloc")))]
impl<T: ?Sized> Future for WriteOwned<T> {
    type Output = OwnedRwLockWriteGuard<T>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        this.inner.as_mut().poll(cx).map(|r| {
            never_closed(r);
            OwnedRwLockWriteGuard {
                hold: Hold::new(
                    Arc::clone(this.inner.ptr()),
                    Held::Write { upgraded: false },
                ),
            }
        })
    }
}

#[cfg(feature = "alloc")]
pin_project! {
    #[cfg_attr(docsrs, doc(cfg(feature = "alloc")))]
    /// Future returned by [`RwLock::upgradable_read_owned`].
    #[must_use = "futures do nothing unless you `.await` or poll them"]
    pub struct UpgradableReadOwned<T: ?Sized> {
        #[pin]
        inner: UpgradableInner<Arc<RwLock<T>>>,
    }
}

#[cfg(feature = "alloc")]
#[cfg_attr(docsrs, doc(cfg(feature = "alloc")))]
impl<T: ?Sized> Future for UpgradableReadOwned<T> {
    type Output = OwnedRwLockUpgradableReadGuard<T>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        this.inner
            .as_mut()
            .poll(cx)
            .map(|()| OwnedRwLockUpgradableReadGuard {
                hold: Hold::new(Arc::clone(this.inner.ptr()), Held::Upgradable),
            })
    }
}

#[cfg(feature = "alloc")]
pin_project! {
    #[cfg_attr(docsrs, doc(cfg(feature = "alloc")))]
    /// Future returned by [`OwnedRwLockUpgradableReadGuard::upgrade`].
    #[must_use = "futures do nothing unless you `.await` or poll them"]
    pub struct UpgradeOwned<T: ?Sized> {
        // Declared first, so dropped first: a dropped upgrade gives back
        // what it had collected before the guard releases its read.
        #[pin]
        inner: AcquireInner<Arc<RwLock<T>>>,
        guard: Option<OwnedRwLockUpgradableReadGuard<T>>,
    }
}

#[cfg(feature = "alloc")]
#[cfg_attr(docsrs, doc(cfg(feature = "alloc")))]
impl<T: ?Sized> Future for UpgradeOwned<T> {
    type Output = OwnedRwLockWriteGuard<T>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let guard = this
            .guard
            .as_ref()
            .expect("`UpgradeOwned` polled after completion");
        let _ = guard;
        match this.inner.poll(cx) {
            Poll::Ready(r) => {
                never_closed(r);
                let guard = this.guard.take().expect("checked above");
                Poll::Ready(OwnedRwLockWriteGuard {
                    hold: guard.hold.upgraded(),
                })
            }
            Poll::Pending => Poll::Pending,
        }
    }
}

#[cfg(feature = "alloc")]
future_common!(ReadOwned<T>, |this| this.inner.is_terminated());
#[cfg(feature = "alloc")]
future_common!(WriteOwned<T>, |this| this.inner.is_terminated());
#[cfg(feature = "alloc")]
future_common!(UpgradableReadOwned<T>, |this| this.inner.is_terminated());
#[cfg(feature = "alloc")]
future_common!(UpgradeOwned<T>, |this| this.guard.is_none());

#[cfg(feature = "alloc")]
#[cfg_attr(docsrs, doc(cfg(feature = "alloc")))]
/// An owned read guard from [`RwLock::read_owned`]; unlocks when dropped.
///
/// Covariant in `T`, like [`RwLockReadGuard`] (and for the same reason
/// it does not give back the lock it came from).
#[must_use = "the lock is released as soon as the guard is dropped"]
pub struct OwnedRwLockReadGuard<T: ?Sized> {
    #[allow(dead_code)] // only its drop is needed: it unlocks
    hold: Hold<ErasedArc>,
    /// The data read; valid while the read permit in `hold` is held
    /// (the `Arc` in it keeps the lock alive).
    data: NonNull<T>,
    _marker: PhantomData<T>,
}

// SAFETY: the guard gives `&T` to whichever thread holds or shares it
// (`T: Sync`), and the thread that drops it may drop the last `Arc`,
// and with it the `T` (`T: Send`).
#[cfg(feature = "alloc")]
#[cfg_attr(docsrs, doc(cfg(feature = "alloc")))]
unsafe impl<T: ?Sized + Send + Sync> Send for OwnedRwLockReadGuard<T> {}
// SAFETY: as above.
#[cfg(feature = "alloc")]
#[cfg_attr(docsrs, doc(cfg(feature = "alloc")))]
unsafe impl<T: ?Sized + Send + Sync> Sync for OwnedRwLockReadGuard<T> {}

#[cfg(feature = "alloc")]
#[cfg_attr(docsrs, doc(cfg(feature = "alloc")))]
impl<T: ?Sized> OwnedRwLockReadGuard<T> {
    fn from_hold(hold: Hold<Arc<RwLock<T>>>) -> Self {
        debug_assert_eq!(hold.held, Held::Read);
        let data = hold.lock.data_ptr();
        OwnedRwLockReadGuard {
            hold: hold.reach(ErasedArc::new),
            data,
            _marker: PhantomData,
        }
    }
}

#[cfg(feature = "alloc")]
#[cfg_attr(docsrs, doc(cfg(feature = "alloc")))]
impl<T: ?Sized> Deref for OwnedRwLockReadGuard<T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: the guard holds a read permit, so no write guard
        // exists, and its `Arc` keeps the lock, and so the data, alive.
        unsafe { self.data.as_ref() }
    }
}

#[cfg(feature = "alloc")]
/// An `Arc<RwLock<T>>` with `T` erased from its type, so that the owned
/// read guard holding it can be covariant in `T`.
///
/// The guard holding it names the lock's `T` (or a supertype of it,
/// through covariance), or, after a `map`, a type borrowed from a `T`
/// that is `Send + Sync + 'static` (the maps' bounds): either way,
/// dropping the `Arc` on whichever thread, whenever the guard goes, is
/// sound.
struct ErasedArc {
    raw: NonNull<RawRwLock>,
    /// What `Arc::into_raw` gave: a `*const RwLock<T>`, at most two
    /// words whatever `T` is, stored as bytes.
    arc: core::mem::MaybeUninit<[*const (); 2]>,
    /// `release_arc::<T>`: turns `arc` back into the `Arc` and drops it.
    release: unsafe fn(&core::mem::MaybeUninit<[*const (); 2]>),
}

#[cfg(feature = "alloc")]
#[cfg_attr(docsrs, doc(cfg(feature = "alloc")))]
impl ErasedArc {
    fn new<T: ?Sized>(arc: Arc<RwLock<T>>) -> Self {
        assert!(
            core::mem::size_of::<*const RwLock<T>>() <= core::mem::size_of::<[*const (); 2]>(),
            "anysync bug: a pointer wider than two words"
        );
        let raw = NonNull::from(&arc.raw);
        let ptr = Arc::into_raw(arc);
        let mut slot = core::mem::MaybeUninit::<[*const (); 2]>::uninit();
        // SAFETY: the slot is large enough (checked above) and aligned
        // for a pointer.
        unsafe { slot.as_mut_ptr().cast::<*const RwLock<T>>().write(ptr) };
        ErasedArc {
            raw,
            arc: slot,
            release: release_arc::<T>,
        }
    }
}

#[cfg(feature = "alloc")]
/// # Safety
/// `slot` holds a `*const RwLock<T>` from `Arc::into_raw` that is not
/// used again.
unsafe fn release_arc<T: ?Sized>(slot: &core::mem::MaybeUninit<[*const (); 2]>) {
    // SAFETY: written by `ErasedArc::new` with this `T`.
    let ptr = unsafe { slot.as_ptr().cast::<*const RwLock<T>>().read() };
    // SAFETY: from `Arc::into_raw`, and given back once (the caller).
    drop(unsafe { Arc::from_raw(ptr) });
}

#[cfg(feature = "alloc")]
#[cfg_attr(docsrs, doc(cfg(feature = "alloc")))]
impl Drop for ErasedArc {
    fn drop(&mut self) {
        // SAFETY: `arc` was filled by `new` for the `T` of `release`,
        // and this drop is its only use.
        unsafe { (self.release)(&self.arc) }
    }
}

#[cfg(feature = "alloc")]
#[cfg_attr(docsrs, doc(cfg(feature = "alloc")))]
impl LockRef for ErasedArc {
    fn raw(&self) -> &RawRwLock {
        // SAFETY: points into the lock that the `Arc` held in `arc`
        // keeps alive.
        unsafe { self.raw.as_ref() }
    }
}

#[cfg(feature = "alloc")]
#[cfg_attr(docsrs, doc(cfg(feature = "alloc")))]
/// An owned write guard from [`RwLock::write_owned`]; unlocks when
/// dropped.
#[must_use = "the lock is released as soon as the guard is dropped"]
pub struct OwnedRwLockWriteGuard<T: ?Sized> {
    hold: Hold<Arc<RwLock<T>>>,
}

#[cfg(feature = "alloc")]
#[cfg_attr(docsrs, doc(cfg(feature = "alloc")))]
impl<T: ?Sized> OwnedRwLockWriteGuard<T> {
    /// Like [`RwLockWriteGuard::downgrade`].
    pub fn downgrade(this: Self) -> OwnedRwLockReadGuard<T> {
        OwnedRwLockReadGuard::from_hold(this.hold.downgrade_write())
    }

    /// The lock this guard writes.
    pub fn rwlock(this: &Self) -> &Arc<RwLock<T>> {
        &this.hold.lock
    }
}

#[cfg(feature = "alloc")]
#[cfg_attr(docsrs, doc(cfg(feature = "alloc")))]
/// An owned upgradable read guard from
/// [`RwLock::upgradable_read_owned`]; unlocks when dropped.
#[must_use = "the lock is released as soon as the guard is dropped"]
pub struct OwnedRwLockUpgradableReadGuard<T: ?Sized> {
    hold: Hold<Arc<RwLock<T>>>,
}

#[cfg(feature = "alloc")]
#[cfg_attr(docsrs, doc(cfg(feature = "alloc")))]
impl<T: ?Sized> OwnedRwLockUpgradableReadGuard<T> {
    /// Like [`RwLockUpgradableReadGuard::upgrade`].
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
    /// The upgradable read lock moved into the future is released with
    /// it.
    pub fn upgrade(this: Self) -> UpgradeOwned<T> {
        let lock = Arc::clone(&this.hold.lock);
        let extra = lock.raw.max_readers - 1;
        UpgradeOwned {
            inner: AcquireInner::new_front(lock, extra),
            guard: Some(this),
        }
    }

    /// Like [`RwLockUpgradableReadGuard::try_upgrade`].
    ///
    /// # Errors
    /// Gives the guard back if other readers hold the lock.
    pub fn try_upgrade(this: Self) -> Result<OwnedRwLockWriteGuard<T>, Self> {
        let lock = this.hold.raw();
        match lock.sem.try_take_front(lock.max_readers - 1) {
            Ok(()) => Ok(OwnedRwLockWriteGuard {
                hold: this.hold.upgraded(),
            }),
            Err(_) => Err(this),
        }
    }

    /// Like [`RwLockUpgradableReadGuard::downgrade`].
    pub fn downgrade(this: Self) -> OwnedRwLockReadGuard<T> {
        OwnedRwLockReadGuard::from_hold(this.hold.downgrade_upgradable())
    }

    /// The lock this guard reads.
    pub fn rwlock(this: &Self) -> &Arc<RwLock<T>> {
        &this.hold.lock
    }
}

#[cfg(feature = "alloc")]
guard_common!(OwnedRwLockReadGuard<T>);
#[cfg(feature = "alloc")]
guard_common!(OwnedRwLockWriteGuard<T>);
#[cfg(feature = "alloc")]
guard_deref!(OwnedRwLockWriteGuard<T>);
#[cfg(feature = "alloc")]
guard_deref_mut!(OwnedRwLockWriteGuard<T>);
#[cfg(feature = "alloc")]
guard_common!(OwnedRwLockUpgradableReadGuard<T>);
#[cfg(feature = "alloc")]
guard_deref!(OwnedRwLockUpgradableReadGuard<T>);

#[cfg(feature = "std")]
#[cfg_attr(docsrs, doc(cfg(feature = "std")))]
impl<T: ?Sized> RwLock<T> {
    /// Blocks the current thread until a read lock is acquired.
    ///
    /// Meant for plain threads; calling it from a task blocks that
    /// executor thread.
    pub fn read_blocking(&self) -> RwLockReadGuard<'_, T> {
        crate::util::block_on::block_on(self.read())
    }

    /// Blocks the current thread until the write lock is acquired.
    ///
    /// Meant for plain threads; calling it from a task blocks that
    /// executor thread.
    pub fn write_blocking(&self) -> RwLockWriteGuard<'_, T> {
        crate::util::block_on::block_on(self.write())
    }

    /// Blocks the current thread until an upgradable read lock is
    /// acquired.
    ///
    /// Meant for plain threads; calling it from a task blocks that
    /// executor thread.
    pub fn upgradable_read_blocking(&self) -> RwLockUpgradableReadGuard<'_, T> {
        crate::util::block_on::block_on(self.upgradable_read())
    }
}

#[cfg(feature = "std")]
#[cfg_attr(docsrs, doc(cfg(feature = "std")))]
impl<'a, T: ?Sized> RwLockUpgradableReadGuard<'a, T> {
    /// Blocks the current thread until the upgrade completes.
    ///
    /// Meant for plain threads; calling it from a task blocks that
    /// executor thread.
    pub fn upgrade_blocking(this: Self) -> RwLockWriteGuard<'a, T> {
        crate::util::block_on::block_on(Self::upgrade(this))
    }
}

#[cfg(feature = "std")]
#[cfg_attr(docsrs, doc(cfg(feature = "std")))]
impl<T: ?Sized> RwLock<T> {
    /// Blocks the current thread until a read lock is acquired, for an
    /// `Arc<RwLock<T>>`: the guard owns a clone of the `Arc`.
    ///
    /// Meant for plain threads; calling it from a task blocks that
    /// executor thread.
    pub fn read_owned_blocking(self: Arc<Self>) -> OwnedRwLockReadGuard<T> {
        crate::util::block_on::block_on(self.read_owned())
    }

    /// Blocks the current thread until the write lock is acquired, for an
    /// `Arc<RwLock<T>>`.
    ///
    /// Meant for plain threads; calling it from a task blocks that
    /// executor thread.
    pub fn write_owned_blocking(self: Arc<Self>) -> OwnedRwLockWriteGuard<T> {
        crate::util::block_on::block_on(self.write_owned())
    }

    /// Blocks the current thread until an upgradable read lock is
    /// acquired, for an `Arc<RwLock<T>>`.
    ///
    /// Meant for plain threads; calling it from a task blocks that
    /// executor thread.
    pub fn upgradable_read_owned_blocking(self: Arc<Self>) -> OwnedRwLockUpgradableReadGuard<T> {
        crate::util::block_on::block_on(self.upgradable_read_owned())
    }
}

#[cfg(feature = "std")]
#[cfg_attr(docsrs, doc(cfg(feature = "std")))]
impl<T: ?Sized> OwnedRwLockUpgradableReadGuard<T> {
    /// Blocks the current thread until the upgrade completes.
    ///
    /// Meant for plain threads; calling it from a task blocks that
    /// executor thread.
    pub fn upgrade_blocking(this: Self) -> OwnedRwLockWriteGuard<T> {
        crate::util::block_on::block_on(Self::upgrade(this))
    }
}

#[cfg(feature = "alloc")]
#[cfg_attr(docsrs, doc(cfg(feature = "alloc")))]
impl<T: ?Sized + Send + Sync + 'static> OwnedRwLockWriteGuard<T> {
    /// Like [`RwLockWriteGuard::downgrade_map`]. The mapped guard no longer
    /// names `T` (only the part picked), hence the bounds: the lock it keeps
    /// alive may be dropped on any thread, at any time.
    pub fn downgrade_map<U: ?Sized>(
        this: Self,
        f: impl FnOnce(&T) -> &U,
    ) -> OwnedRwLockReadGuard<U> {
        let data = NonNull::from(f(&*this));
        OwnedRwLockReadGuard::with_data(this.hold.downgrade_write(), data)
    }

    /// Like [`RwLockWriteGuard::try_downgrade_map`].
    ///
    /// # Errors
    /// Gives the write guard back, still write-locked, if `f` returns
    /// `None`.
    pub fn try_downgrade_map<U: ?Sized>(
        this: Self,
        f: impl FnOnce(&T) -> Option<&U>,
    ) -> Result<OwnedRwLockReadGuard<U>, Self> {
        match f(&*this).map(NonNull::from) {
            Some(data) => Ok(OwnedRwLockReadGuard::with_data(
                this.hold.downgrade_write(),
                data,
            )),
            None => Err(this),
        }
    }
}

#[cfg(feature = "alloc")]
#[cfg_attr(docsrs, doc(cfg(feature = "alloc")))]
impl<T: ?Sized + Send + Sync + 'static> OwnedRwLockReadGuard<T> {
    /// Like [`RwLockReadGuard::map`] (with the bounds of
    /// [`OwnedRwLockWriteGuard::downgrade_map`]).
    pub fn map<U: ?Sized>(this: Self, f: impl FnOnce(&T) -> &U) -> OwnedRwLockReadGuard<U> {
        let data = NonNull::from(f(&*this));
        OwnedRwLockReadGuard {
            hold: this.hold,
            data,
            _marker: PhantomData,
        }
    }
}

#[cfg(feature = "alloc")]
impl<U: ?Sized> OwnedRwLockReadGuard<U> {
    /// A read guard on `data`, which points into the lock of `hold`, whose
    /// `T` is `Send + Sync + 'static` (or `U` itself).
    fn with_data<T: ?Sized + Send + Sync + 'static>(
        hold: Hold<Arc<RwLock<T>>>,
        data: NonNull<U>,
    ) -> Self {
        debug_assert_eq!(hold.held, Held::Read);
        OwnedRwLockReadGuard {
            hold: hold.reach(ErasedArc::new),
            data,
            _marker: PhantomData,
        }
    }
}

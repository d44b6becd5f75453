//! A fair async reader-writer lock, with upgradable reads.

use core::fmt;

use super::{
    mutex::TryLockError,
    semaphore::{never_closed, AcquireInner, Semaphore, TryAcquireError},
};
use crate::loom::{
    cell::UnsafeCell,
    sync::atomic::{AtomicBool, Ordering},
};

#[macro_use]
#[cfg(feature = "std")]
mod blocking;
mod engine;
mod futures;
mod guards;
#[cfg(feature = "alloc")]
mod owned;

use engine::{Held, Hold};
use futures::UpgradableInner;
pub use futures::{Read, UpgradableRead, Upgrade, Write};
#[cfg(feature = "alloc")]
pub use futures::{ReadOwned, UpgradableReadOwned, UpgradeOwned, WriteOwned};
pub use guards::{RwLockReadGuard, RwLockUpgradableReadGuard, RwLockWriteGuard};
#[cfg(feature = "alloc")]
pub use owned::{OwnedRwLockReadGuard, OwnedRwLockUpgradableReadGuard, OwnedRwLockWriteGuard};

/// An async reader-writer lock: many readers or one writer, and guards that
/// may be held across `.await`.
///
/// * **Fair (FIFO).** Readers and writers are served in arrival order. A
///   queued writer is not starved by a stream of new readers: once a writer
///   waits, later readers queue behind it. When a writer unlocks, the run of
///   readers at the head of the queue gets in together, up to the next
///   queued writer. See [Fairness](#fairness) for how.
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
/// # Fairness
///
/// A writer is never starved, and neither is a reader. Every acquire that
/// cannot be served at once joins one queue, in arrival order. From the
/// moment anyone is queued, the lock's fast path is closed: a new reader
/// no longer takes a free read slot on its own, it queues behind the
/// waiters, so readers that keep arriving cannot hold a queued writer off.
/// A writer at the head of the queue collects the read slots as the
/// readers ahead of it leave, and nobody behind it can take them; once it
/// has them all it owns the lock and is woken. When it unlocks, the lock
/// is handed to the head of the queue: the readers there get in together,
/// up to the next queued writer, who waits only for those readers. Every
/// waiter is therefore served after a bounded number of others: the ones
/// that were queued before it, and at most one upgrade (an upgrade goes to
/// the head of the queue, and there is only ever one upgradable read).
///
/// The price of this hand-off is paid under heavy contention with short
/// critical sections: the lock passes to a woken task that still has to
/// be scheduled, and tasks arriving meanwhile queue (and park) behind it.
/// A lock that lets newcomers barge in ahead of woken waiters parks fewer
/// tasks but gives up this order.
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

    crate::util::macros::loom_const_fn!(
        /// An unlocked lock holding `data`, allowing up to
        /// [`RwLock::MAX_READERS`] readers at once.
        pub fn new(data: T) -> RwLock<T> {
            Self::with_max_readers(data, Self::MAX_READERS)
        }
    );

    crate::util::macros::loom_const_fn!(
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
            assert!(
                max_readers > 0,
                "RwLock::with_max_readers: `max_readers` must be at least 1"
            );
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
    );

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

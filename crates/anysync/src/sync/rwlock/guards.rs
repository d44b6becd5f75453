//! The guards borrowing the lock.

use core::{
    fmt,
    marker::PhantomData,
    ops::{Deref, DerefMut},
    ptr::NonNull,
};

use super::{
    engine::{Held, Hold},
    futures::Upgrade,
    RawRwLock, RwLock,
};
use crate::sync::semaphore::AcquireInner;

/// Shared access to the data of a read-locked [`RwLock`]; unlocks when
/// dropped.
///
/// Covariant in `T`, like `std`'s read guard: a guard of a
/// `RwLock<&'static str>` can be used where a guard of `&'a str` is
/// expected. That is also why it does not give back the lock it came from
/// (through the shorter type, a writer could store a shorter-lived value).
#[must_use = "the lock is released as soon as the guard is dropped"]
pub struct RwLockReadGuard<'a, T: ?Sized> {
    pub(super) hold: Hold<&'a RawRwLock>,
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
    pub(super) fn from_hold(hold: Hold<&'a RwLock<T>>) -> Self {
        let data = hold.lock.data_ptr();
        Self::with_data(hold, data)
    }

    /// `data` points into the lock's data (and lives as long as it).
    pub(super) fn with_data<L: ?Sized>(hold: Hold<&'a RwLock<L>>, data: NonNull<T>) -> Self {
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
    pub(super) hold: Hold<&'a RwLock<T>>,
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
    pub(super) hold: Hold<&'a RwLock<T>>,
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

impl<T: ?Sized + fmt::Debug> fmt::Debug for RwLockReadGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T: ?Sized + fmt::Display> fmt::Display for RwLockReadGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&**self, f)
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for RwLockWriteGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T: ?Sized + fmt::Display> fmt::Display for RwLockWriteGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&**self, f)
    }
}

impl<T: ?Sized> Deref for RwLockWriteGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        self.hold.data()
    }
}

impl<T: ?Sized> DerefMut for RwLockWriteGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        self.hold.rwlock().data.with_mut(|p| {
            // SAFETY: a write guard holds every read permit, so no
            // other guard exists, and `&mut self` makes this
            // reference unique.
            unsafe { &mut *p }
        })
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for RwLockUpgradableReadGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T: ?Sized + fmt::Display> fmt::Display for RwLockUpgradableReadGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&**self, f)
    }
}

impl<T: ?Sized> Deref for RwLockUpgradableReadGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        self.hold.data()
    }
}

//! The owned guards, holding an `Arc` of the lock, and the methods that
//! give them.

use core::{
    fmt,
    marker::PhantomData,
    ops::{Deref, DerefMut},
    ptr::NonNull,
};

use alloc::sync::Arc;

use super::{
    engine::{Held, Hold, LockRef},
    futures::{ReadOwned, UpgradableInner, UpgradableReadOwned, UpgradeOwned, WriteOwned},
    RawRwLock, RwLock,
};
use crate::sync::{mutex::TryLockError, semaphore::AcquireInner};

#[cfg(doc)]
use super::{RwLockReadGuard, RwLockUpgradableReadGuard, RwLockWriteGuard};

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
#[cfg_attr(docsrs, doc(cfg(feature = "alloc")))]
unsafe impl<T: ?Sized + Send + Sync> Send for OwnedRwLockReadGuard<T> {}
// SAFETY: as above.
#[cfg_attr(docsrs, doc(cfg(feature = "alloc")))]
unsafe impl<T: ?Sized + Send + Sync> Sync for OwnedRwLockReadGuard<T> {}

#[cfg_attr(docsrs, doc(cfg(feature = "alloc")))]
impl<T: ?Sized> OwnedRwLockReadGuard<T> {
    pub(super) fn from_hold(hold: Hold<Arc<RwLock<T>>>) -> Self {
        debug_assert_eq!(hold.held, Held::Read);
        let data = hold.lock.data_ptr();
        OwnedRwLockReadGuard {
            hold: hold.reach(ErasedArc::new),
            data,
            _marker: PhantomData,
        }
    }
}

#[cfg_attr(docsrs, doc(cfg(feature = "alloc")))]
impl<T: ?Sized> Deref for OwnedRwLockReadGuard<T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: the guard holds a read permit, so no write guard
        // exists, and its `Arc` keeps the lock, and so the data, alive.
        unsafe { self.data.as_ref() }
    }
}

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

/// # Safety
/// `slot` holds a `*const RwLock<T>` from `Arc::into_raw` that is not
/// used again.
unsafe fn release_arc<T: ?Sized>(slot: &core::mem::MaybeUninit<[*const (); 2]>) {
    // SAFETY: written by `ErasedArc::new` with this `T`.
    let ptr = unsafe { slot.as_ptr().cast::<*const RwLock<T>>().read() };
    // SAFETY: from `Arc::into_raw`, and given back once (the caller).
    drop(unsafe { Arc::from_raw(ptr) });
}

#[cfg_attr(docsrs, doc(cfg(feature = "alloc")))]
impl Drop for ErasedArc {
    fn drop(&mut self) {
        // SAFETY: `arc` was filled by `new` for the `T` of `release`,
        // and this drop is its only use.
        unsafe { (self.release)(&self.arc) }
    }
}

#[cfg_attr(docsrs, doc(cfg(feature = "alloc")))]
impl LockRef for ErasedArc {
    fn raw(&self) -> &RawRwLock {
        // SAFETY: points into the lock that the `Arc` held in `arc`
        // keeps alive.
        unsafe { self.raw.as_ref() }
    }
}

#[cfg_attr(docsrs, doc(cfg(feature = "alloc")))]
/// An owned write guard from [`RwLock::write_owned`]; unlocks when
/// dropped.
#[must_use = "the lock is released as soon as the guard is dropped"]
pub struct OwnedRwLockWriteGuard<T: ?Sized> {
    pub(super) hold: Hold<Arc<RwLock<T>>>,
}

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

#[cfg_attr(docsrs, doc(cfg(feature = "alloc")))]
/// An owned upgradable read guard from
/// [`RwLock::upgradable_read_owned`]; unlocks when dropped.
#[must_use = "the lock is released as soon as the guard is dropped"]
pub struct OwnedRwLockUpgradableReadGuard<T: ?Sized> {
    pub(super) hold: Hold<Arc<RwLock<T>>>,
}

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

impl<T: ?Sized + fmt::Debug> fmt::Debug for OwnedRwLockReadGuard<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T: ?Sized + fmt::Display> fmt::Display for OwnedRwLockReadGuard<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&**self, f)
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for OwnedRwLockWriteGuard<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T: ?Sized + fmt::Display> fmt::Display for OwnedRwLockWriteGuard<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&**self, f)
    }
}

impl<T: ?Sized> Deref for OwnedRwLockWriteGuard<T> {
    type Target = T;
    fn deref(&self) -> &T {
        self.hold.data()
    }
}

impl<T: ?Sized> DerefMut for OwnedRwLockWriteGuard<T> {
    fn deref_mut(&mut self) -> &mut T {
        self.hold.rwlock().data.with_mut(|p| {
            // SAFETY: a write guard holds every read permit, so no
            // other guard exists, and `&mut self` makes this
            // reference unique.
            unsafe { &mut *p }
        })
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for OwnedRwLockUpgradableReadGuard<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T: ?Sized + fmt::Display> fmt::Display for OwnedRwLockUpgradableReadGuard<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&**self, f)
    }
}

impl<T: ?Sized> Deref for OwnedRwLockUpgradableReadGuard<T> {
    type Target = T;
    fn deref(&self) -> &T {
        self.hold.data()
    }
}

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

impl<U: ?Sized> OwnedRwLockReadGuard<U> {
    /// A read guard on `data`, which points into the lock of `hold`, whose
    /// `T` is `Send + Sync + 'static` (or `U` itself).
    pub(super) fn with_data<T: ?Sized + Send + Sync + 'static>(
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

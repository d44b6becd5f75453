//! The blocking forms of the waits, for plain threads.

use alloc::sync::Arc;

use super::{
    OwnedRwLockReadGuard, OwnedRwLockUpgradableReadGuard, OwnedRwLockWriteGuard, RwLock,
    RwLockReadGuard, RwLockUpgradableReadGuard, RwLockWriteGuard,
};

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

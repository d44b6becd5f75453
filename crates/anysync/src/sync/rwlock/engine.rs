//! The hold engine: what a guard holds of the lock, and how it is released,
//! upgraded and downgraded.

use core::{mem::ManuallyDrop, ptr::NonNull};

use super::{RawRwLock, RwLock};
use crate::loom::sync::atomic::Ordering;
use crate::util::finally::both;

/// A way to reach the lock's [`RawRwLock`]: `&RwLock<T>`, `Arc<RwLock<T>>`,
/// or (for the read guards) `&RawRwLock` and [`ErasedArc`].
pub(super) trait LockRef {
    fn raw(&self) -> &RawRwLock;
}

/// A [`LockRef`] that also reaches the data: `&RwLock<T>` or
/// `Arc<RwLock<T>>`.
pub(super) trait TypedLockRef: LockRef {
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
    pub(super) fn data_ptr(&self) -> NonNull<T> {
        self.data
            .with(|p| NonNull::new(p.cast_mut()).expect("a cell is never at address 0"))
    }
}

/// What a guard holds, so one `Drop` releases the right thing and
/// conversions (upgrade, downgrade) just change it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Held {
    /// One read permit.
    Read,
    /// One read permit and the upgradable slot.
    Upgradable,
    /// Every read permit; also the upgradable slot if `upgraded`.
    Write { upgraded: bool },
}

/// The lock plus what is held of it; releases it on drop. Every guard is
/// a `Hold` with a typed face.
pub(super) struct Hold<P: LockRef> {
    pub(super) lock: P,
    pub(super) held: Held,
}

impl<P: LockRef> Hold<P> {
    pub(super) fn new(lock: P, held: Held) -> Self {
        if let Held::Write { .. } = held {
            lock.raw().writer.store(true, Ordering::Release);
        }
        Hold { lock, held }
    }

    pub(super) fn raw(&self) -> &RawRwLock {
        self.lock.raw()
    }

    /// The same hold, reaching the lock through `f(lock)` (a less typed
    /// way to the same lock): nothing is released or taken.
    pub(super) fn reach<Q: LockRef>(self, f: impl FnOnce(P) -> Q) -> Hold<Q> {
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
    pub(super) fn downgrade_write(mut self) -> Self {
        let Held::Write { upgraded } = self.held else {
            unreachable!("downgrade of a non-write hold")
        };
        self.held = Held::Read;
        let lock = self.raw();
        lock.writer.store(false, Ordering::Release);
        if upgraded {
            // Both, even if a waiter's wake panics in the first.
            both(
                || lock.sem.release(lock.max_readers - 1),
                || lock.upgradable.release(1),
            );
        } else {
            lock.sem.release(lock.max_readers - 1);
        }
        self
    }

    /// Upgradable read to plain read: gives back the upgradable slot.
    pub(super) fn downgrade_upgradable(mut self) -> Self {
        debug_assert_eq!(self.held, Held::Upgradable);
        self.held = Held::Read;
        self.raw().upgradable.release(1);
        self
    }

    /// Upgradable read to write, once the other permits are ours.
    pub(super) fn upgraded(mut self) -> Self {
        debug_assert_eq!(self.held, Held::Upgradable);
        self.held = Held::Write { upgraded: true };
        self.raw().writer.store(true, Ordering::Release);
        self
    }
}

impl<P: TypedLockRef> Hold<P> {
    pub(super) fn rwlock(&self) -> &RwLock<P::Data> {
        self.lock.rwlock()
    }

    pub(super) fn data(&self) -> &P::Data {
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
            // Both releases, even if a waiter's wake panics in the first.
            Held::Upgradable => both(|| lock.sem.release(1), || lock.upgradable.release(1)),
            Held::Write { upgraded } => {
                lock.writer.store(false, Ordering::Release);
                if upgraded {
                    both(
                        || lock.sem.release(lock.max_readers),
                        || lock.upgradable.release(1),
                    );
                } else {
                    lock.sem.release(lock.max_readers);
                }
            }
        }
    }
}

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

//! `Send`/`Sync`/`Unpin` of every public type and future of Mutex,
//! Semaphore, Event and Notify, positive and negative (async-lock #50 is
//! the bug this prevents). Checked at compile time.

use alloc::rc::Rc;
use core::cell::Cell;

use static_assertions::{assert_impl_all, assert_not_impl_any};

use crate::sync::{
    futures::{Acquire, AcquireOwned, EventWait, Lock, LockOwned, Notified},
    AcquireError, Event, MappedMutexGuard, Mutex, MutexGuard, Notify, OwnedMutexGuard,
    OwnedSemaphorePermit, Semaphore, SemaphorePermit, TryAcquireError, TryLockError,
};

// Primitives are shareable and movable.
assert_impl_all!(Semaphore: Send, Sync, Unpin);
assert_impl_all!(Event: Send, Sync, Unpin);
assert_impl_all!(Notify: Send, Sync, Unpin);
assert_impl_all!(AcquireError: Send, Sync, Unpin);
assert_impl_all!(TryAcquireError: Send, Sync, Unpin);
assert_impl_all!(TryLockError: Send, Sync, Unpin);

// Mutex<T>: Send and Sync exactly when T: Send (it hands T to one task at a
// time, so T need not be Sync).
assert_impl_all!(Mutex<u8>: Send, Sync);
assert_impl_all!(Mutex<Cell<u8>>: Send, Sync);
assert_not_impl_any!(Mutex<Rc<u8>>: Send, Sync);

// Guards: sending one sends `&mut T` (T: Send); sharing one shares `&T`
// (T: Sync).
assert_impl_all!(MutexGuard<'static, u8>: Send, Sync);
assert_impl_all!(MutexGuard<'static, Cell<u8>>: Send);
assert_not_impl_any!(MutexGuard<'static, Cell<u8>>: Sync);
assert_not_impl_any!(MutexGuard<'static, Rc<u8>>: Send, Sync);
assert_impl_all!(MappedMutexGuard<'static, u8>: Send, Sync);
assert_not_impl_any!(MappedMutexGuard<'static, Cell<u8>>: Sync);
assert_not_impl_any!(MappedMutexGuard<'static, Rc<u8>>: Send, Sync);
assert_impl_all!(OwnedMutexGuard<u8>: Send, Sync);
assert_not_impl_any!(OwnedMutexGuard<Cell<u8>>: Sync);
assert_impl_all!(SemaphorePermit<'static>: Send, Sync);
assert_impl_all!(OwnedSemaphorePermit: Send, Sync);

// Futures can move between threads and be shared, but hold an intrusive
// node, so they are !Unpin (they must be pinned to be polled).
assert_impl_all!(Acquire<'static>: Send, Sync);
assert_impl_all!(AcquireOwned: Send, Sync);
assert_impl_all!(Lock<'static, u8>: Send, Sync);
assert_impl_all!(LockOwned<u8>: Send, Sync);
assert_impl_all!(Notified<'static>: Send, Sync);
assert_impl_all!(EventWait<'static>: Send, Sync);
assert_not_impl_any!(Acquire<'static>: Unpin);
assert_not_impl_any!(AcquireOwned: Unpin);
assert_not_impl_any!(Lock<'static, u8>: Unpin);
assert_not_impl_any!(LockOwned<u8>: Unpin);
assert_not_impl_any!(Notified<'static>: Unpin);
assert_not_impl_any!(EventWait<'static>: Unpin);
assert_not_impl_any!(Lock<'static, Rc<u8>>: Send, Sync);

// --- RwLock, Condvar, Barrier, OnceCell, BoundedSemaphore ---------------------

mod lock_family {
    use alloc::rc::Rc;
    use core::{cell::Cell, future::Ready};

    use static_assertions::{assert_impl_all, assert_not_impl_any};

    use crate::sync::{
        futures::{
            BarrierWait, BoundedAcquire, CondvarWait, GetOrInit, GetOrTryInit, Read, ReadOwned,
            UpgradableRead, UpgradableReadOwned, Upgrade, UpgradeOwned, WaitWhile, Write,
            WriteOwned,
        },
        Barrier, BarrierWaitResult, BoundedSemaphore, BoundedTryAcquireError, BrokenBarrier,
        Condvar, ExceedsCapacity, OnceCell, OwnedRwLockReadGuard, OwnedRwLockUpgradableReadGuard,
        OwnedRwLockWriteGuard, ReleaseError, RwLock, RwLockReadGuard, RwLockUpgradableReadGuard,
        RwLockWriteGuard, SetError,
    };

    assert_impl_all!(Condvar: Send, Sync, Unpin);
    assert_impl_all!(Barrier: Send, Sync, Unpin);
    assert_impl_all!(BoundedSemaphore: Send, Sync, Unpin);
    assert_impl_all!(BrokenBarrier: Send, Sync, Unpin);
    assert_impl_all!(BarrierWaitResult: Send, Sync, Unpin);
    assert_impl_all!(ExceedsCapacity: Send, Sync, Unpin);
    assert_impl_all!(ReleaseError: Send, Sync, Unpin);
    assert_impl_all!(BoundedTryAcquireError: Send, Sync, Unpin);
    assert_impl_all!(SetError<u8>: Send, Sync, Unpin);

    // RwLock<T>: Send when T: Send; Sync only when T: Send + Sync (readers
    // on several threads share `&T`).
    assert_impl_all!(RwLock<u8>: Send, Sync);
    assert_impl_all!(RwLock<Cell<u8>>: Send);
    assert_not_impl_any!(RwLock<Cell<u8>>: Sync);
    assert_not_impl_any!(RwLock<Rc<u8>>: Send, Sync);

    // Guards reach the lock through `&RwLock<T>` (or an Arc): thread-safe
    // exactly when the lock is Sync.
    assert_impl_all!(RwLockReadGuard<'static, u8>: Send, Sync);
    assert_impl_all!(RwLockWriteGuard<'static, u8>: Send, Sync);
    assert_impl_all!(RwLockUpgradableReadGuard<'static, u8>: Send, Sync);
    assert_impl_all!(OwnedRwLockReadGuard<u8>: Send, Sync);
    assert_impl_all!(OwnedRwLockWriteGuard<u8>: Send, Sync);
    assert_impl_all!(OwnedRwLockUpgradableReadGuard<u8>: Send, Sync);
    assert_not_impl_any!(RwLockReadGuard<'static, Cell<u8>>: Send, Sync);
    assert_not_impl_any!(RwLockWriteGuard<'static, Cell<u8>>: Send, Sync);
    assert_not_impl_any!(OwnedRwLockWriteGuard<Cell<u8>>: Send, Sync);

    // OnceCell<T>: Send when T: Send; Sync when T: Send + Sync.
    assert_impl_all!(OnceCell<u8>: Send, Sync);
    assert_impl_all!(OnceCell<Cell<u8>>: Send);
    assert_not_impl_any!(OnceCell<Cell<u8>>: Sync);
    assert_not_impl_any!(OnceCell<Rc<u8>>: Send, Sync);

    // Futures move between threads but hold an intrusive node: !Unpin.
    type Init = fn() -> Ready<u8>;
    type TryInit = fn() -> Ready<Result<u8, ()>>;
    type Cond = fn(&mut u8) -> bool;
    assert_impl_all!(Read<'static, u8>: Send, Sync);
    assert_impl_all!(Write<'static, u8>: Send, Sync);
    assert_impl_all!(UpgradableRead<'static, u8>: Send, Sync);
    assert_impl_all!(Upgrade<'static, u8>: Send, Sync);
    assert_impl_all!(ReadOwned<u8>: Send, Sync);
    assert_impl_all!(WriteOwned<u8>: Send, Sync);
    assert_impl_all!(UpgradableReadOwned<u8>: Send, Sync);
    assert_impl_all!(UpgradeOwned<u8>: Send, Sync);
    assert_impl_all!(CondvarWait<'static, u8>: Send, Sync);
    assert_impl_all!(WaitWhile<'static, u8, Cond>: Send, Sync);
    assert_impl_all!(BarrierWait<'static>: Send, Sync);
    assert_impl_all!(BoundedAcquire<'static>: Send, Sync);
    assert_impl_all!(GetOrInit<'static, u8, Init, Ready<u8>>: Send, Sync);
    assert_impl_all!(GetOrTryInit<'static, u8, TryInit, Ready<Result<u8, ()>>>: Send, Sync);
    assert_not_impl_any!(Read<'static, u8>: Unpin);
    assert_not_impl_any!(Write<'static, u8>: Unpin);
    assert_not_impl_any!(UpgradableRead<'static, u8>: Unpin);
    assert_not_impl_any!(Upgrade<'static, u8>: Unpin);
    assert_not_impl_any!(CondvarWait<'static, u8>: Unpin);
    assert_not_impl_any!(WaitWhile<'static, u8, Cond>: Unpin);
    assert_not_impl_any!(BarrierWait<'static>: Unpin);
    assert_not_impl_any!(BoundedAcquire<'static>: Unpin);
    assert_not_impl_any!(GetOrInit<'static, u8, Init, Ready<u8>>: Unpin);
    assert_not_impl_any!(Read<'static, Cell<u8>>: Send, Sync);
    assert_not_impl_any!(CondvarWait<'static, Rc<u8>>: Send, Sync);
}

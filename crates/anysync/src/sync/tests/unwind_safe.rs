//! `UnwindSafe`/`RefUnwindSafe` of the `sync` primitives, their guards and
//! futures, checked at compile time.
//!
//! The primitives have no poisoning, and a panic in user code never leaves
//! their own state broken (guards and permits are released by their drops,
//! a dropped waiting future passes on what it held). So the ones without
//! data are unwind safe both ways. `Mutex<T>` and `RwLock<T>` give `&mut T`
//! through a shared reference, and a panic can leave that `T` half-updated
//! with nothing to say so: like `RefCell`, they are not `RefUnwindSafe`
//! (wrap the reference in `AssertUnwindSafe` when the data's invariants
//! cannot break). `OnceCell<T>` only hands out `&T`, and a panicking
//! initialiser leaves it empty, so it follows `T`, as `std`'s `OnceLock`.

use alloc::rc::Rc;
use core::{
    cell::{Cell, RefCell},
    future::Ready,
    panic::{RefUnwindSafe, UnwindSafe},
};

use static_assertions::{assert_impl_all, assert_not_impl_any};

use crate::sync::{
    futures::{
        Acquire, AcquireOwned, BarrierWait, BoundedAcquire, CondvarWait, EventWait, GetOrInit,
        GetOrTryInit, Lock, LockOwned, Notified, OnceCellWait, Read, ReadOwned, UpgradableRead,
        Upgrade, WaitWhile, Write, WriteOwned,
    },
    Barrier, BoundedSemaphore, Condvar, Event, MappedMutexGuard, Mutex, MutexGuard, Notify,
    OnceCell, OwnedMutexGuard, OwnedRwLockReadGuard, OwnedRwLockUpgradableReadGuard,
    OwnedRwLockWriteGuard, OwnedSemaphorePermit, RwLock, RwLockReadGuard,
    RwLockUpgradableReadGuard, RwLockWriteGuard, Semaphore, SemaphorePermit,
};

// The primitives without data.
assert_impl_all!(Semaphore: UnwindSafe, RefUnwindSafe);
assert_impl_all!(BoundedSemaphore: UnwindSafe, RefUnwindSafe);
assert_impl_all!(Event: UnwindSafe, RefUnwindSafe);
assert_impl_all!(Notify: UnwindSafe, RefUnwindSafe);
assert_impl_all!(Barrier: UnwindSafe, RefUnwindSafe);
assert_impl_all!(Condvar: UnwindSafe, RefUnwindSafe);

// Their permits and futures, which only borrow (or own an `Arc` of) them.
assert_impl_all!(SemaphorePermit<'static>: UnwindSafe, RefUnwindSafe);
assert_impl_all!(OwnedSemaphorePermit: UnwindSafe, RefUnwindSafe);
assert_impl_all!(Acquire<'static>: UnwindSafe, RefUnwindSafe);
assert_impl_all!(AcquireOwned: UnwindSafe, RefUnwindSafe);
assert_impl_all!(BoundedAcquire<'static>: UnwindSafe, RefUnwindSafe);
assert_impl_all!(EventWait<'static>: UnwindSafe, RefUnwindSafe);
assert_impl_all!(Notified<'static>: UnwindSafe, RefUnwindSafe);
assert_impl_all!(BarrierWait<'static>: UnwindSafe, RefUnwindSafe);

// Locks with data: movable across a `catch_unwind` when the data is, never
// shareable across one (a panic can leave the data half-updated).
assert_impl_all!(Mutex<u8>: UnwindSafe);
assert_impl_all!(RwLock<u8>: UnwindSafe);
assert_not_impl_any!(Mutex<u8>: RefUnwindSafe);
assert_not_impl_any!(RwLock<u8>: RefUnwindSafe);
assert_not_impl_any!(Mutex<&'static RefCell<u8>>: UnwindSafe);
assert_not_impl_any!(RwLock<&'static RefCell<u8>>: UnwindSafe);

// So a borrowed guard or future, which holds `&Mutex<T>`, is not unwind
// safe either; owned ones follow `T`.
assert_not_impl_any!(MutexGuard<'static, u8>: UnwindSafe);
assert_not_impl_any!(MappedMutexGuard<'static, u8>: UnwindSafe);
assert_not_impl_any!(Lock<'static, u8>: UnwindSafe);
assert_not_impl_any!(RwLockWriteGuard<'static, u8>: UnwindSafe);
assert_not_impl_any!(RwLockUpgradableReadGuard<'static, u8>: UnwindSafe);
assert_not_impl_any!(Read<'static, u8>: UnwindSafe);
assert_not_impl_any!(Write<'static, u8>: UnwindSafe);
assert_not_impl_any!(UpgradableRead<'static, u8>: UnwindSafe);
assert_not_impl_any!(Upgrade<'static, u8>: UnwindSafe);
assert_not_impl_any!(CondvarWait<'static, u8>: UnwindSafe);
assert_not_impl_any!(WaitWhile<'static, u8, fn(&mut u8) -> bool>: UnwindSafe);
assert_not_impl_any!(OwnedMutexGuard<u8>: UnwindSafe);
assert_not_impl_any!(LockOwned<u8>: UnwindSafe);
assert_not_impl_any!(OwnedRwLockWriteGuard<u8>: UnwindSafe);
assert_not_impl_any!(OwnedRwLockUpgradableReadGuard<u8>: UnwindSafe);
assert_not_impl_any!(ReadOwned<u8>: UnwindSafe);
assert_not_impl_any!(WriteOwned<u8>: UnwindSafe);

// A read guard only reads: unwind safe when `&T` is.
assert_impl_all!(RwLockReadGuard<'static, u8>: UnwindSafe, RefUnwindSafe);
assert_impl_all!(OwnedRwLockReadGuard<u8>: UnwindSafe, RefUnwindSafe);
assert_not_impl_any!(RwLockReadGuard<'static, Cell<u8>>: UnwindSafe, RefUnwindSafe);
assert_not_impl_any!(OwnedRwLockReadGuard<Cell<u8>>: UnwindSafe, RefUnwindSafe);

// OnceCell follows `T`, as `std::sync::OnceLock` does.
assert_impl_all!(OnceCell<u8>: UnwindSafe, RefUnwindSafe);
assert_impl_all!(OnceCellWait<'static, u8>: UnwindSafe, RefUnwindSafe);
assert_impl_all!(GetOrInit<'static, u8, fn() -> Ready<u8>, Ready<u8>>: UnwindSafe);
assert_impl_all!(GetOrTryInit<'static, u8, fn() -> Ready<Result<u8, ()>>, Ready<Result<u8, ()>>>: UnwindSafe);
assert_not_impl_any!(OnceCell<Cell<u8>>: RefUnwindSafe);
assert_not_impl_any!(OnceCell<&'static RefCell<u8>>: UnwindSafe, RefUnwindSafe);
assert_not_impl_any!(OnceCellWait<'static, Cell<u8>>: UnwindSafe);
assert_impl_all!(OnceCell<Rc<u8>>: UnwindSafe);

/// What the markers promise, in use: a semaphore shared into a
/// `catch_unwind` without `AssertUnwindSafe` comes out whole.
#[test]
fn a_panic_while_holding_permits_leaves_the_semaphore_whole() {
    let sem = Semaphore::new(2);
    let result = std::panic::catch_unwind(|| {
        let _permit = sem.try_acquire_many(2).unwrap();
        panic!("user code panics while holding permits");
    });
    assert!(result.is_err());
    assert_eq!(sem.available_permits(), 2);
    let cell = OnceCell::<u8>::new();
    let result = std::panic::catch_unwind(|| {
        cell.get_or_init_blocking(|| panic!("initialiser panics"));
    });
    assert!(result.is_err());
    assert_eq!(cell.get_or_init_blocking(|| 1), &1);
}

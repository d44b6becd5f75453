//! `Send`/`Sync`/`Unpin` of every public type and future of Mutex,
//! Semaphore, Event and Notify, positive and negative (async-lock #50 is
//! the bug this prevents). Checked at compile time.

use alloc::rc::Rc;
use core::cell::Cell;

use static_assertions::{assert_impl_all, assert_not_impl_any};

use crate::sync::{
    futures::{Acquire, AcquireOwned, Lock, LockOwned, Notified, Wait},
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
assert_impl_all!(Wait<'static>: Send, Sync);
assert_not_impl_any!(Acquire<'static>: Unpin);
assert_not_impl_any!(AcquireOwned: Unpin);
assert_not_impl_any!(Lock<'static, u8>: Unpin);
assert_not_impl_any!(LockOwned<u8>: Unpin);
assert_not_impl_any!(Notified<'static>: Unpin);
assert_not_impl_any!(Wait<'static>: Unpin);
assert_not_impl_any!(Lock<'static, Rc<u8>>: Send, Sync);

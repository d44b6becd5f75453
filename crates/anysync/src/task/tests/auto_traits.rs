//! `Send`/`Sync`/`Unpin` of the `task` module's public types and futures,
//! positive and negative. Checked at compile time.

use alloc::rc::Rc;
use core::future::Ready;

use static_assertions::{assert_impl_all, assert_not_impl_any};

use crate::{
    rt::virtual_time::VirtualTime,
    task::{
        futures::{
            Cancelled, CancelledOwned, GroupStream, Join, MoveOnAt, RunUntilCancelled,
            RunUntilCancelledOwned, Shield, Tracked, TrackerWait,
        },
        CancelReason, CancelToken, DropGuard, GroupError, GroupHandle, SpawnError, TaskError,
        TaskGroup, TaskTracker, TrackerToken,
    },
};

type Vt = VirtualTime;

assert_impl_all!(CancelToken: Send, Sync, Unpin, Clone);
assert_impl_all!(CancelReason: Send, Sync, Unpin);
assert_impl_all!(DropGuard: Send, Sync, Unpin);
assert_impl_all!(TaskTracker: Send, Sync, Unpin, Clone);
assert_impl_all!(TrackerToken: Send, Sync, Unpin);
assert_impl_all!(SpawnError: Send, Sync, Unpin);
// Not `Sync`: a panic's `JoinError` holds a `Box<dyn Any + Send>` payload.
assert_impl_all!(GroupError<u8>: Send, Unpin);
assert_impl_all!(TaskError<u8>: Send, Unpin);
assert_impl_all!(TaskGroup<Vt, u8, u8>: Send, Sync, Unpin);
assert_impl_all!(GroupHandle<Vt, u8, u8>: Send, Sync, Unpin, Clone);

// Futures that hold a wait-queue node are `!Unpin`, and can move between
// threads before and while they wait.
assert_impl_all!(Cancelled<'static>: Send, Sync);
assert_not_impl_any!(Cancelled<'static>: Unpin);
assert_impl_all!(CancelledOwned: Send, Sync);
assert_not_impl_any!(CancelledOwned: Unpin);
assert_impl_all!(RunUntilCancelled<'static, Ready<u8>>: Send, Sync);
assert_impl_all!(RunUntilCancelledOwned<Ready<u8>>: Send, Sync);
assert_not_impl_any!(RunUntilCancelledOwned<Ready<Rc<u8>>>: Send, Sync);
assert_impl_all!(TrackerWait<'static>: Send, Sync);
assert_not_impl_any!(TrackerWait<'static>: Unpin);
assert_impl_all!(Tracked<Ready<u8>>: Send, Sync, Unpin);
assert_not_impl_any!(Tracked<Ready<Rc<u8>>>: Send, Sync);
assert_impl_all!(MoveOnAt<<Vt as crate::rt::Timer>::Sleep, Ready<u8>>: Send);

// `Join` and the stream are `Unpin` whatever the outputs are (the manual
// `Unpin` impl on `Join`: it never pins the outputs it collects).
assert_impl_all!(Join<Vt, u8, u8>: Send, Unpin);
assert_impl_all!(Join<Vt, core::marker::PhantomPinned, u8>: Unpin);
assert_impl_all!(GroupStream<Vt, u8, u8>: Send, Unpin);
assert_impl_all!(Shield<<Vt as crate::rt::Spawn>::JoinHandle<u8>>: Send, Unpin);

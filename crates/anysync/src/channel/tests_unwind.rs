//! `UnwindSafe`/`RefUnwindSafe` of every channel and queue handle, checked
//! at compile time. None of them poisons or can be left half-changed by a
//! panic in user code (values' `Drop`s and wakers run with no lock held, a
//! `PriorityQueue`'s `Ord` is repaired after), so a handle may be used
//! again after `catch_unwind`.

use core::panic::{RefUnwindSafe, UnwindSafe};

use static_assertions::assert_impl_all;

use crate::{
    channel::{self, broadcast, oneshot, storage::Inline, watch, Permit, Permits, StaticChannel},
    queue::{LifoQueue, PriorityQueue, Queue},
};

assert_impl_all!(channel::Sender<u8>: UnwindSafe, RefUnwindSafe);
assert_impl_all!(channel::Receiver<u8>: UnwindSafe, RefUnwindSafe);
assert_impl_all!(channel::WeakSender<u8>: UnwindSafe, RefUnwindSafe);
assert_impl_all!(channel::SendSink<u8>: UnwindSafe, RefUnwindSafe);
assert_impl_all!(Permit<'static, u8>: UnwindSafe, RefUnwindSafe);
assert_impl_all!(Permits<'static, u8>: UnwindSafe, RefUnwindSafe);
assert_impl_all!(Permit<'static, u8, Inline<2>>: UnwindSafe, RefUnwindSafe);
assert_impl_all!(StaticChannel<u8, 2>: UnwindSafe, RefUnwindSafe);

assert_impl_all!(oneshot::Sender<u8>: UnwindSafe, RefUnwindSafe);
assert_impl_all!(oneshot::Receiver<u8>: UnwindSafe, RefUnwindSafe);

assert_impl_all!(broadcast::Sender<u8>: UnwindSafe, RefUnwindSafe);
assert_impl_all!(broadcast::Receiver<u8>: UnwindSafe, RefUnwindSafe);
assert_impl_all!(broadcast::WeakSender<u8>: UnwindSafe, RefUnwindSafe);

assert_impl_all!(watch::Sender<u8>: UnwindSafe, RefUnwindSafe);
assert_impl_all!(watch::Receiver<u8>: UnwindSafe, RefUnwindSafe);

assert_impl_all!(Queue<u8>: UnwindSafe, RefUnwindSafe);
assert_impl_all!(LifoQueue<u8>: UnwindSafe, RefUnwindSafe);
assert_impl_all!(PriorityQueue<u8>: UnwindSafe, RefUnwindSafe);

// Whatever the item type: the handles share items only by moving them (the
// lock-free ring of a bounded channel or queue included), so an item that
// is not itself unwind safe does not make them so.
assert_impl_all!(channel::Sender<core::cell::Cell<u8>>: UnwindSafe, RefUnwindSafe);
assert_impl_all!(channel::Receiver<core::cell::Cell<u8>>: UnwindSafe, RefUnwindSafe);
assert_impl_all!(channel::WeakSender<core::cell::Cell<u8>>: UnwindSafe, RefUnwindSafe);
assert_impl_all!(Permit<'static, core::cell::Cell<u8>>: UnwindSafe, RefUnwindSafe);
assert_impl_all!(Permits<'static, core::cell::Cell<u8>>: UnwindSafe, RefUnwindSafe);
assert_impl_all!(Queue<core::cell::Cell<u8>>: UnwindSafe, RefUnwindSafe);

//! Async queues with backpressure, completion tracking and shutdown:
//! asyncio's `Queue`, `LifoQueue` and `PriorityQueue`.
//!
//! | you want…                                             | use                  | asyncio          |
//! |-------------------------------------------------------|----------------------|------------------|
//! | first in, first out                                   | [`Queue`]            | `Queue`          |
//! | last in, first out                                    | [`LifoQueue`]        | `LifoQueue`      |
//! | smallest first                                        | [`PriorityQueue`]    | `PriorityQueue`  |
//! | separate sending and receiving handles, `Stream`/`Sink` | [`channel`](crate::channel) | —        |
//!
//! All three are one type, [`GenericQueue`], with the order as a type
//! parameter, so they have the same API: `bounded(capacity)` or
//! `unbounded()`; `put`/`get` wait (for room, for an item),
//! `try_put`/`try_get` do not; `task_done`/`join` track completion (and
//! [`get_tracked`](GenericQueue::get_tracked) hands out a [`QueueItem`]
//! that marks itself done when dropped, even by a panic); `shutdown` and
//! `shutdown_immediate` stop the queue the way Python 3.13's
//! `Queue.shutdown(immediate=...)` does; [`statistics`](GenericQueue::statistics)
//! reads the counters.
//!
//! A queue is shared by reference (`&self`), like asyncio's: put it in an
//! `Arc` to share it between tasks.
//!
//! * **Fair.** Waiting putters and getters are served in arrival order;
//!   a newcomer (including `try_put`/`try_get`) never takes a slot or an
//!   item that has been promised to a waiter.
//! * **Cancel safe where it can be.** Dropping a `get` future never loses
//!   an item, and dropping a `put` future never enqueues its item and never
//!   loses a freed slot. A pending `put` still owns its item, so dropping
//!   it drops the item: `cancel()` on the pending [`Put`](futures::Put)
//!   gives it back.
//! * **Waits never allocate**; the buffer allocates as it grows (an
//!   unbounded queue) or once (a bounded one). For `no_std` without an
//!   allocator, use [`StaticChannel`](crate::channel::StaticChannel).
//!
//! The queues, the MPMC [`channel`](crate::channel) and the fixed
//! [`StaticChannel`](crate::channel::StaticChannel) run on one engine
//! (only their storage differs), so they behave the same.
//!
//! # Unwind safety
//!
//! The queues are `UnwindSafe` and `RefUnwindSafe` (with `std`): nothing
//! poisons, and a panicking `Ord`, item `Drop` or waker never leaves a
//! queue half-changed, so it may be used again after `catch_unwind`.
//!
//! # Futurelock
//!
//! A freed slot is handed straight to the first waiting `put`, and a new
//! item straight to the first waiting `get`, so that nobody can barge in
//! front of them. The flip side: a future that has been woken with a slot
//! or an item but is then neither polled nor dropped keeps it, and every
//! task queued behind it waits (a bounded queue can look full, or empty,
//! for good). The usual way to get there is `select!` in a loop over a
//! `put` or `get` future made *outside* the loop while another branch
//! awaits. Create the future inside the loop (a losing branch then drops
//! it, and what it was handed passes to the next waiter), or keep the other
//! branches short; for a `put`, [`cancel`](futures::Put::cancel) also
//! hands the item back.

#[cfg(feature = "alloc")]
mod error;
#[cfg(feature = "alloc")]
mod item;
#[cfg(feature = "alloc")]
mod order;
#[cfg(feature = "alloc")]
mod types;

#[cfg(feature = "alloc")]
#[cfg_attr(docsrs, doc(cfg(feature = "alloc")))]
pub use error::{PutError, ShutDown, TaskDoneError, TryGetError, TryPutError};
#[cfg(feature = "alloc")]
#[cfg_attr(docsrs, doc(cfg(feature = "alloc")))]
pub use item::QueueItem;
#[cfg(feature = "alloc")]
#[cfg_attr(docsrs, doc(cfg(feature = "alloc")))]
pub use order::{Fifo, Lifo, Order, Priority};
#[cfg(feature = "alloc")]
#[cfg_attr(docsrs, doc(cfg(feature = "alloc")))]
pub use types::{GenericQueue, LifoQueue, PriorityQueue, Queue, QueueStatistics};

/// The named futures returned by the queues' methods.
#[cfg(feature = "alloc")]
#[cfg_attr(docsrs, doc(cfg(feature = "alloc")))]
pub mod futures {
    pub use super::{
        item::GetTracked,
        types::{Get, Join, Put},
    };
}

#[cfg(all(test, feature = "std"))]
mod tests;

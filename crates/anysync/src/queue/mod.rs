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
//! All three have the same API: `bounded(capacity)` or `unbounded()`;
//! `put`/`get` wait (for room, for an item), `try_put`/`try_get` do not;
//! `task_done`/`join` track completion; `shutdown` and
//! `shutdown_immediate` stop the queue the way Python 3.13's
//! `Queue.shutdown(immediate=...)` does.
//!
//! A queue is shared by reference (`&self`), like asyncio's: put it in an
//! `Arc` to share it between tasks.
//!
//! * **Fair.** Waiting putters and getters are served in arrival order;
//!   a newcomer (including `try_put`/`try_get`) never takes a slot or an
//!   item that has been promised to a waiter.
//! * **Cancel safe.** Dropping a `put` future never enqueues its item and
//!   never loses a freed slot; dropping a `get` future never loses an item.
//! * **Waits never allocate**; the buffer allocates as it grows (an
//!   unbounded queue) or once (a bounded one). For `no_std` without an
//!   allocator, use [`StaticChannel`](crate::channel::StaticChannel).
//!
//! The queues, the MPMC [`channel`](crate::channel) and the fixed
//! [`StaticChannel`](crate::channel::StaticChannel) run on one engine
//! (only their storage differs), so they behave the same.

mod buffer;
pub(crate) mod engine;

pub(crate) use buffer::{Buffer, Ring};

crate::util::macros::cfg_feature! {
    #![feature = "alloc"]

    mod error;
    mod order;
    mod types;

    pub use error::{PutError, ShutDown, TaskDoneError, TryGetError, TryPutError};
    pub use order::{Fifo, Lifo, Order, Priority};
    pub use types::{LifoQueue, PriorityQueue, Queue};

    pub(crate) use buffer::FifoBuf;
    pub(crate) mod slots;
}

crate::util::macros::cfg_feature! {
    #![feature = "alloc"]

    /// The named futures returned by the queues' methods.
    pub mod futures {
        pub use super::types::{Get, Join, Put};
    }
}

#[cfg(all(test, feature = "std"))]
mod tests;

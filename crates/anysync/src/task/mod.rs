//! Working with tasks without naming an executor.
//!
//! * [`yield_now`], an await point that lets other tasks run.
//! * [`CancelToken`]: a tree of cancellation signals with a
//!   [`CancelReason`]; [`move_on_at`] / [`move_on_after`] put a deadline on
//!   one, on any [`Timer`](crate::rt::Timer).
//! * [`TaskGroup`]: structured concurrency; the first failure cancels the
//!   rest, and [`GroupError`] holds every error.
//! * [`shield`]: a future that finishes even if its caller is cancelled.
//! * [`TaskTracker`]: count tasks spawned anywhere, wait for them to end.
//! * [`wait`] / [`wait_timeout`]: asyncio's wait modes, returning
//!   `(done, pending)`; its docs map `gather` and `as_completed` to the
//!   futures-util combinators that already do them.
//! * [`Shutdown`]: on a signal, stop taking work, drain within a
//!   deadline, abort the rest, report.
//! * [`to_thread`]: run a blocking closure off the async threads, through
//!   a [`CapacityLimiter`].

mod yield_now;

pub use yield_now::yield_now;

#[cfg(feature = "alloc")]
#[cfg(feature = "alloc")]
mod cancel;
#[cfg(feature = "alloc")]
pub use cancel::{CancelReason, CancelToken, DropGuard};

#[cfg(feature = "alloc")]
mod deadline;
#[cfg(feature = "alloc")]
pub use deadline::{fail_after, fail_at, move_on_after, move_on_at};

#[cfg(feature = "alloc")]
mod group;
#[cfg(feature = "alloc")]
pub use group::{GroupError, GroupHandle, SpawnError, TaskError, TaskGroup};

mod shield;
pub use shield::shield;

#[cfg(feature = "alloc")]
mod tracker;
#[cfg(feature = "alloc")]
pub use tracker::{TaskTracker, TrackerToken};

#[cfg(feature = "alloc")]
mod shutdown;
#[cfg(feature = "alloc")]
pub use shutdown::{Shutdown, ShutdownReport};

#[cfg(feature = "alloc")]
mod wait;
#[cfg(feature = "alloc")]
pub use wait::{wait, wait_timeout, ReturnWhen, Waited};

#[cfg(feature = "alloc")]
mod to_thread;
#[cfg(all(feature = "alloc", not(anysync_loom)))]
pub use to_thread::to_thread;
#[cfg(feature = "alloc")]
pub use to_thread::{CapacityLimiter, DEFAULT_THREAD_LIMIT};

/// The named futures returned by this module's functions.
pub mod futures {
    pub use super::yield_now::YieldNow;

    #[cfg(feature = "alloc")]
    pub use super::cancel::{Cancelled, CancelledOwned, RunUntilCancelled, RunUntilCancelledOwned};
    #[cfg(feature = "alloc")]
    pub use super::deadline::{FailAt, MoveOnAt};
    #[cfg(feature = "alloc")]
    pub use super::group::{GroupStream, Join};
    pub use super::shield::Shield;
    #[cfg(feature = "alloc")]
    pub use super::shutdown::{RunShutdown, ShutdownTask};
    #[cfg(feature = "alloc")]
    pub use super::to_thread::ToThread;
    #[cfg(feature = "alloc")]
    pub use super::tracker::{Tracked, TrackerWait};
    #[cfg(feature = "alloc")]
    pub use super::wait::WaitFor;
}

#[cfg(test)]
mod tests;

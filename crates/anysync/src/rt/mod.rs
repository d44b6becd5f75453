//! What an executor must supply: a timer, spawning, blocking offload.
//!
//! The primitives in this crate need nothing from an executor. The parts that
//! do (timeouts, retries, task groups, offloading blocking work) are generic
//! over these small traits, so they run on tokio, smol, async-std, an
//! embedded executor, or the deterministic [`virtual_time`] runtime in tests.
//!
//! | trait        | supplies                                              |
//! |--------------|-------------------------------------------------------|
//! | [`Timer`]    | a sleep future and a monotonic clock                  |
//! | [`Spawn`]    | spawning a `Send + 'static` task, with a join handle  |
//! | [`Blocking`] | running a blocking closure off the async threads      |
//! | [`Runtime`]  | all three (blanket-implemented)                       |
//! | [`Signals`]  | `SIGINT` / `SIGTERM` as a stream (feature `std`)      |
//!
//! The compat crates `anysync-tokio`, `anysync-smol` and `anysync-async-std`
//! implement them. What those crates would otherwise each write for
//! themselves lives here instead: [`catch_task`] and [`catch_blocking`]
//! (panic catching, abort and detached [`TaskHandle`]s for executors that
//! lack them), [`SleepAdapter`], and
//! [`Instant::from_std`](crate::time::Instant::from_std) (the process-wide
//! clock). These traits are kept deliberately tiny and stable:
//! every compat crate depends on them.

use core::{future::Future, time::Duration};

pub use crate::time::Instant;

mod join;
pub use join::JoinError;

mod sleep_adapter;
pub use sleep_adapter::SleepAdapter;

crate::util::macros::cfg_feature! {
    #![feature = "std"]
    pub mod virtual_time;
    mod task_wrap;
    pub use task_wrap::{catch_blocking, catch_task, BlockingJob, CatchTask, TaskHandle};
}

/// A source of time: sleeps and a monotonic clock.
///
/// # Contract
///
/// * [`sleep`](Timer::sleep) must not panic for any `Duration`; a duration
///   too large to represent means "never".
/// * [`now`](Timer::now) never goes backwards.
/// * Sleeping for `Duration::ZERO` completes (possibly after one yield).
pub trait Timer: Clone + Send + Sync + 'static {
    /// The future returned by [`sleep`](Timer::sleep).
    type Sleep: Future<Output = ()> + Send + 'static;

    /// A future that completes after `duration`.
    ///
    /// # Cancel safety
    /// This method is cancel safe: dropping the future before it completes has no effect.
    /// (Implementations must make it so: a dropped sleep leaves no timer behind.)
    fn sleep(&self, duration: Duration) -> Self::Sleep;

    /// The current time on this timer's monotonic clock.
    fn now(&self) -> Instant;

    /// A future that completes at `deadline` (at once if it has passed).
    ///
    /// # Cancel safety
    /// This method is cancel safe: dropping the future before it completes has no effect.
    fn sleep_until(&self, deadline: Instant) -> Self::Sleep {
        self.sleep(deadline.saturating_duration_since(self.now()))
    }
}

/// A handle to a spawned task: a future of its output.
///
/// Dropping the handle detaches the task (it keeps running), as in tokio.
pub trait JoinHandle<T>: Future<Output = Result<T, JoinError>> + Send + Unpin + 'static {
    /// Asks the task to stop. It is dropped at its next await point (or
    /// before it starts); awaiting the handle then gives
    /// [`JoinError::is_cancelled`]. Aborting a finished task does nothing.
    fn abort(&self);
}

/// Spawning tasks onto an executor.
pub trait Spawn: Clone + Send + Sync + 'static {
    /// The handle type for a task with output `T`.
    type JoinHandle<T: Send + 'static>: JoinHandle<T>;

    /// Spawns `future` as a new task. A panic in the task becomes
    /// [`JoinError::is_panic`] at the handle, not a crash of the executor.
    ///
    /// # Cancel safety
    /// This method is cancel safe: dropping the future before it completes has no effect.
    /// (Dropping the handle detaches the task; use [`JoinHandle::abort`] to stop it.)
    fn spawn<F>(&self, future: F) -> Self::JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static;
}

/// Running blocking (CPU-bound or synchronous I/O) closures on threads set
/// aside for that, so the async threads keep running.
pub trait Blocking: Clone + Send + Sync + 'static {
    /// The handle type for a blocking closure returning `T`.
    type BlockingHandle<T: Send + 'static>: Future<Output = Result<T, JoinError>>
        + Send
        + Unpin
        + 'static;

    /// Runs `f` on a blocking-work thread. A panic in `f` becomes
    /// [`JoinError::is_panic`] at the handle.
    ///
    /// # Cancel safety
    /// This method is cancel safe: dropping the future before it completes has no effect.
    /// (Dropping the handle detaches the job, which runs to the end.)
    fn spawn_blocking<F, T>(&self, f: F) -> Self::BlockingHandle<T>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static;
}

/// Everything an executor supplies. Implemented for every type that
/// implements [`Timer`], [`Spawn`] and [`Blocking`].
pub trait Runtime: Timer + Spawn + Blocking {}

impl<R: Timer + Spawn + Blocking> Runtime for R {}

mod signals;
pub use signals::Signal;
#[cfg(feature = "std")]
pub use signals::Signals;

//! What an executor must supply: a timer, spawning, blocking offload.
//!
//! The primitives in this crate need nothing from an executor. The parts that
//! do (timeouts, spawning, offloading blocking work) are generic
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
//! [`Instant::from_std`](Instant::from_std) (the process-wide
//! clock). These traits are kept deliberately tiny and stable:
//! every compat crate depends on them.

use core::{future::Future, time::Duration};

use futures_core::FusedFuture;

mod instant;
pub use instant::Instant;

mod join;
pub use join::JoinError;

mod sleep_adapter;
pub use sleep_adapter::SleepAdapter;

#[cfg(feature = "std")]
pub mod virtual_time;

#[cfg(feature = "std")]
mod task_wrap;
#[cfg(feature = "std")]
pub use task_wrap::{catch_blocking, catch_task, BlockingJob, CatchTask, TaskHandle};

#[cfg(all(test, feature = "std"))]
mod tests;

/// A source of time: sleeps and a monotonic clock.
///
/// # Contract
///
/// * [`sleep`](Timer::sleep) must not panic for any `Duration`; a duration
///   too large to represent means "never".
/// * [`now`](Timer::now) never goes backwards.
/// * Sleeping for `Duration::ZERO` completes (possibly after one yield).
///
/// # Examples
///
/// A function that needs only time takes any `T: Timer`; here it runs on
/// the virtual clock, so its timing can be asserted exactly.
/// ```
/// use std::time::Duration;
/// use anysync::rt::{virtual_time::VirtualTime, Timer};
///
/// /// Waits `pause` between attempts until `attempt` succeeds; returns
/// /// how many attempts it took.
/// async fn poll_until<T: Timer>(timer: &T, pause: Duration, mut attempt: impl FnMut() -> bool) -> u32 {
///     let mut tries = 1;
///     while !attempt() {
///         timer.sleep(pause).await;
///         tries += 1;
///     }
///     tries
/// }
///
/// let vt = VirtualTime::new();
/// let mut left = 3;
/// let tries = vt.block_on(|rt| async move {
///     poll_until(&rt, Duration::from_millis(10), || { left -= 1; left == 0 }).await
/// });
/// assert_eq!(tries, 3);
/// assert_eq!(vt.now().since_origin(), Duration::from_millis(20));
/// ```
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
/// Every handle is a [`FusedFuture`]: once it has given the task's result,
/// [`is_terminated`](FusedFuture::is_terminated) says so.
///
/// # Examples
/// ```
/// use anysync::rt::{virtual_time::VirtualTime, JoinHandle, Spawn};
///
/// /// Starts `job` but gives up on it (stopping it) if `cancel` says so.
/// async fn run_unless<S: Spawn>(rt: &S, cancel: bool) -> bool {
///     let handle = rt.spawn(std::future::pending::<()>());
///     if cancel {
///         handle.abort();
///     }
///     handle.await.is_err()
/// }
///
/// assert!(VirtualTime::new().block_on(|rt| async move { run_unless(&rt, true).await }));
/// ```
pub trait JoinHandle<T>:
    Future<Output = Result<T, JoinError>> + FusedFuture + Send + Unpin + 'static
{
    /// Asks the task to stop. It is dropped at its next await point (or
    /// before it starts); awaiting the handle then gives
    /// [`JoinError::is_cancelled`]. Aborting a finished task does nothing.
    fn abort(&self);
}

/// Spawning tasks onto an executor.
///
/// # Examples
/// ```
/// use anysync::rt::{virtual_time::VirtualTime, Spawn};
///
/// /// Sums the squares of `values`, one task per value.
/// async fn sum_of_squares<S: Spawn>(rt: &S, values: Vec<u64>) -> u64 {
///     let tasks: Vec<_> = values.into_iter().map(|v| rt.spawn(async move { v * v })).collect();
///     let mut sum = 0;
///     for task in tasks {
///         sum += task.await.expect("the task does not panic");
///     }
///     sum
/// }
///
/// let sum = VirtualTime::new().block_on(|rt| async move { sum_of_squares(&rt, vec![1, 2, 3]).await });
/// assert_eq!(sum, 14);
/// ```
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
        + FusedFuture
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
///
/// Library code takes an `R: Runtime` (or only the trait it needs) and
/// lets the application choose: `anysync_tokio::Tokio`,
/// `anysync_smol::Smol`, `anysync_async_std::AsyncStd`, or
/// [`VirtualTime`](virtual_time::VirtualTime) in tests. Methods of the
/// traits are callable on an `R: Runtime` without importing them.
///
/// # Examples
/// ```
/// use std::time::Duration;
/// use anysync::{rt::{virtual_time::VirtualTime, Runtime}, time::timeout};
///
/// /// Hashes `data` on a blocking thread, giving up after `limit`.
/// async fn checksum<R: Runtime>(rt: &R, data: Vec<u8>, limit: Duration) -> Option<u32> {
///     let job = rt.spawn_blocking(move || data.iter().map(|&b| u32::from(b)).sum::<u32>());
///     timeout(rt, limit, job).await.ok()?.ok()
/// }
///
/// let sum = VirtualTime::new().block_on(|rt| async move {
///     checksum(&rt, vec![1, 2, 3], Duration::from_secs(1)).await
/// });
/// assert_eq!(sum, Some(6));
/// ```
pub trait Runtime: Timer + Spawn + Blocking {}

impl<R: Timer + Spawn + Blocking> Runtime for R {}

mod signals;
pub use signals::Signal;
#[cfg(feature = "std")]
pub use signals::Signals;

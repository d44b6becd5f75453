//! Panic catching, abort and detached join handles for executors that lack them.
//!
//! tokio's tasks already catch panics, can be aborted and detach when their
//! handle is dropped. Most other executors give less: a panic unwinds into
//! the executor's thread, there is no abort, and (smol) dropping the handle
//! cancels the task. Rather than have every compat crate make up for that on
//! its own, [`catch_task`] and [`catch_blocking`] do it once: they split a
//! future (or a closure) into the part to hand to the executor, which always
//! runs detached, and a [`TaskHandle`] that receives the result.
//!
//! ```
//! use anysync::rt::catch_task;
//! # futures_executor::block_on(async {
//! let (task, handle) = catch_task(async { 6 * 7 });
//! task.await; // an executor would spawn `task`, detached
//! assert_eq!(handle.await.unwrap(), 42);
//!
//! let (task, handle) = catch_task(async { panic!("boom") });
//! task.await; // the panic is caught, the executor is unharmed
//! assert!(handle.await.unwrap_err().is_panic());
//!
//! let (task, handle) = catch_task(core::future::pending::<()>());
//! handle.abort();
//! task.await; // completes at once: the aborted future is dropped
//! assert!(handle.await.unwrap_err().is_cancelled());
//! # });
//! ```
//!
//! # Implementation notes
//!
//! The task side and the handle side share one `Arc` holding the output
//! slot and the handle's waker under a `std` mutex; abort is a lock-free
//! flag plus an `AtomicWaker`, kept beside the future (never read through
//! a reference to it: a shared borrow of a self-referential `async` block
//! is undefined behaviour under Stacked Borrows, which is what
//! `futures_util`'s `Abortable` does and what miri caught). The result is
//! published only after the task's future has been dropped, so whoever
//! awaits the handle sees every effect of the future's destructors (a lock
//! guard it held is released, a permit is returned). If the executor drops
//! the task without finishing it (shutdown, or [`VirtualTime`] returning
//! from `block_on`), the drop publishes [`JoinError::cancelled`], so no
//! handle waits forever.
//!
//! [`VirtualTime`]: crate::rt::virtual_time::VirtualTime

use alloc::sync::Arc;
use core::{
    fmt,
    future::Future,
    panic::AssertUnwindSafe,
    pin::Pin,
    task::{Context, Poll, Waker},
};
use std::{
    panic::catch_unwind,
    sync::{Mutex, MutexGuard, PoisonError, TryLockError},
};

use futures_core::FusedFuture;
use futures_util::task::AtomicWaker;
use pin_project_lite::pin_project;

use super::{JoinError, JoinHandle};
use crate::loom::sync::atomic::{AtomicBool, Ordering};

/// The abort request shared by a task (or job) and its handle.
#[derive(Default)]
struct AbortFlag {
    aborted: AtomicBool,
    task: AtomicWaker,
}

impl AbortFlag {
    fn is_aborted(&self) -> bool {
        self.aborted.load(Ordering::Acquire)
    }

    fn abort(&self) {
        self.aborted.store(true, Ordering::Release);
        self.task.wake();
    }
}

/// Wraps `future` for spawning on an executor that does not catch panics or
/// abort tasks itself.
///
/// Returns the future to spawn, [`CatchTask`] (output `()`; spawn it
/// detached), and the [`TaskHandle`] that gives its result:
///
/// * the future's output becomes `Ok(output)`;
/// * a panic while polling (or dropping) the future becomes
///   `Err(`[`JoinError::panic`]`)` instead of unwinding into the executor;
/// * after [`TaskHandle::abort`], the next poll of the task drops the future
///   and completes with `Err(`[`JoinError::cancelled`]`)`. The abort wakes
///   the task, so it does not wait for the future's own wake-up;
/// * if the executor drops the task before it finishes, the handle gets
///   `Err(`[`JoinError::cancelled`]`)`.
///
/// Dropping the [`TaskHandle`] detaches the task: it keeps running and its
/// output is dropped when it completes.
///
/// # Examples
/// A compat crate's whole `spawn` is three lines:
/// ```
/// use anysync::rt::{catch_task, TaskHandle};
/// # use std::future::Future;
/// # fn executor_spawn_detached<F: Future<Output = ()> + Send + 'static>(_: F) {}
///
/// fn spawn<F>(future: F) -> TaskHandle<F::Output>
/// where
///     F: Future + Send + 'static,
///     F::Output: Send + 'static,
/// {
///     let (task, handle) = catch_task(future);
///     executor_spawn_detached(task);
///     handle
/// }
/// # drop(spawn(async {}));
/// ```
pub fn catch_task<F: Future>(future: F) -> (CatchTask<F>, TaskHandle<F::Output>) {
    let abort = Arc::new(AbortFlag::default());
    let shared = Arc::new(Mutex::new(Slot::new()));
    let task = CatchTask {
        stage: Stage::Running { future },
        abort: Arc::clone(&abort),
        output: Publisher::new(Arc::clone(&shared)),
    };
    (task, TaskHandle { shared, abort })
}

/// Wraps a blocking closure for a thread pool that does not catch panics.
///
/// Returns the job to run on a blocking-work thread, [`BlockingJob`] (call
/// [`BlockingJob::run`] there), and the [`TaskHandle`] that gives its
/// result. A panic in `f` becomes `Err(`[`JoinError::panic`]`)`. Aborting
/// the handle before the job starts means `f` never runs and the handle
/// gives `Err(`[`JoinError::cancelled`]`)`; once `f` is running, abort has
/// no effect (a thread cannot be interrupted). A job dropped without being
/// run also gives `Err(`[`JoinError::cancelled`]`)`.
///
/// # Examples
/// ```
/// use anysync::rt::catch_blocking;
/// # futures_executor::block_on(async {
/// let (job, handle) = catch_blocking(|| 6 * 7);
/// std::thread::spawn(move || job.run());
/// assert_eq!(handle.await.unwrap(), 42);
/// # });
/// ```
pub fn catch_blocking<F, T>(f: F) -> (BlockingJob<F, T>, TaskHandle<T>)
where
    F: FnOnce() -> T,
{
    let abort = Arc::new(AbortFlag::default());
    let shared = Arc::new(Mutex::new(Slot::new()));
    let job = BlockingJob {
        f,
        abort: Arc::clone(&abort),
        output: Publisher::new(Arc::clone(&shared)),
    };
    (job, TaskHandle { shared, abort })
}

pin_project!(
    #[project = StageProj]
    enum Stage<F> {
        Running {
            #[pin]
            future: F,
        },
        Done,
    }
);

pin_project!(
    /// The future to spawn (detached) for a task made by [`catch_task`].
    ///
    /// It completes with `()` once the wrapped future has completed,
    /// panicked or been aborted, and the result has been handed to the
    /// [`TaskHandle`]. Polling it after that returns `Ready(())` again.
    #[must_use = "futures do nothing unless you `.await` or poll them"]
    pub struct CatchTask<F: Future> {
        // Declared before `output`, so that when the executor drops an
        // unfinished task the future is dropped before `cancelled` is published.
        #[pin]
        stage: Stage<F>,
        abort: Arc<AbortFlag>,
        output: Publisher<F::Output>,
    }
);

impl<F: Future> Future for CatchTask<F> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let mut this = self.project();
        let mut result = match this.stage.as_mut().project() {
            StageProj::Running { future } => {
                // Register first, so an abort after the check still wakes us.
                this.abort.task.register(cx.waker());
                if this.abort.is_aborted() {
                    Err(JoinError::cancelled())
                } else {
                    match catch_unwind(AssertUnwindSafe(|| future.poll(cx))) {
                        Ok(Poll::Pending) => return Poll::Pending,
                        Ok(Poll::Ready(output)) => Ok(output),
                        Err(payload) => Err(JoinError::panic(payload)),
                    }
                }
            }
            StageProj::Done => return Poll::Ready(()),
        };
        // Drop the future before publishing, so that the handle's owner sees
        // every effect of its destructors. A panic there is the task's panic
        // too (unless it already panicked: the first payload is kept).
        let mut stage = this.stage;
        if let Err(payload) = catch_unwind(AssertUnwindSafe(|| stage.set(Stage::Done))) {
            if !matches!(&result, Err(e) if e.is_panic()) {
                result = Err(JoinError::panic(payload));
            }
        }
        this.output.publish(result);
        Poll::Ready(())
    }
}

impl<F: Future> FusedFuture for CatchTask<F> {
    fn is_terminated(&self) -> bool {
        matches!(self.stage, Stage::Done)
    }
}

impl<F: Future> fmt::Debug for CatchTask<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CatchTask")
            .field("done", &matches!(self.stage, Stage::Done))
            .finish()
    }
}

/// The closure to run on a blocking-work thread, made by [`catch_blocking`].
pub struct BlockingJob<F, T> {
    f: F,
    abort: Arc<AbortFlag>,
    output: Publisher<T>,
}

impl<F: FnOnce() -> T, T> BlockingJob<F, T> {
    /// Runs the closure (unless its handle was aborted first) and hands the
    /// result, or the panic, to the [`TaskHandle`].
    pub fn run(self) {
        let Self {
            f,
            abort,
            mut output,
        } = self;
        let result = if abort.is_aborted() {
            drop(f);
            Err(JoinError::cancelled())
        } else {
            catch_unwind(AssertUnwindSafe(f)).map_err(JoinError::panic)
        };
        output.publish(result);
    }
}

impl<F, T> fmt::Debug for BlockingJob<F, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BlockingJob")
            .field("aborted", &self.abort.is_aborted())
            .finish_non_exhaustive()
    }
}

/// The result of a task made by [`catch_task`] or [`catch_blocking`]: a
/// future of `Result<T, JoinError>` and an implementation of
/// [`JoinHandle`](super::JoinHandle).
///
/// Dropping it detaches the task. It is the `JoinHandle` and
/// `BlockingHandle` of [`VirtualTime`](crate::rt::virtual_time::VirtualTime)
/// and of the smol and async-std compat crates.
///
/// # Cancel safety
/// This method is cancel safe: dropping the future before it completes has no effect.
/// (Awaiting the handle can be given up at any time; the task runs on, detached.)
#[must_use = "dropping the handle detaches the task; await it to get its output"]
pub struct TaskHandle<T> {
    shared: Arc<Mutex<Slot<T>>>,
    abort: Arc<AbortFlag>,
}

impl<T> TaskHandle<T> {
    /// Asks the task to stop: it is dropped at its next poll (the abort
    /// wakes it), and the handle then gives [`JoinError::is_cancelled`]. A
    /// blocking job is stopped only if it has not started. Aborting a
    /// finished task does nothing.
    pub fn abort(&self) {
        self.abort.abort();
    }

    /// `true` once the task has finished (completed, panicked or been
    /// cancelled), so that awaiting the handle would not wait.
    pub fn is_finished(&self) -> bool {
        !matches!(lock(&self.shared).output, Output::Pending)
    }
}

impl<T> Future for TaskHandle<T> {
    type Output = Result<T, JoinError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut slot = lock(&self.shared);
        match core::mem::replace(&mut slot.output, Output::Taken) {
            Output::Ready(result) => Poll::Ready(result),
            Output::Pending => {
                slot.output = Output::Pending;
                let stale = match &slot.waker {
                    Some(w) if w.will_wake(cx.waker()) => None,
                    _ => slot.waker.replace(cx.waker().clone()),
                };
                drop(slot);
                drop(stale); // outside the lock: a waker's drop may run user code
                Poll::Pending
            }
            Output::Taken => {
                drop(slot);
                panic!("`TaskHandle` polled after it completed");
            }
        }
    }
}

impl<T> FusedFuture for TaskHandle<T> {
    fn is_terminated(&self) -> bool {
        matches!(lock(&self.shared).output, Output::Taken)
    }
}

impl<T: Send + 'static> JoinHandle<T> for TaskHandle<T> {
    fn abort(&self) {
        TaskHandle::abort(self);
    }
}

impl<T> fmt::Debug for TaskHandle<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("TaskHandle");
        match self.shared.try_lock() {
            Ok(slot) => d.field("state", &slot.output.name()),
            Err(TryLockError::Poisoned(p)) => d.field("state", &p.into_inner().output.name()),
            Err(TryLockError::WouldBlock) => d.field("state", &format_args!("<locked>")),
        };
        d.field("aborted", &self.abort.is_aborted()).finish()
    }
}

/// What the task side and the handle side share.
struct Slot<T> {
    output: Output<T>,
    /// The handle's waker, woken when `output` becomes `Ready`.
    waker: Option<Waker>,
}

enum Output<T> {
    Pending,
    Ready(Result<T, JoinError>),
    /// The handle has returned the result.
    Taken,
}

impl<T> Slot<T> {
    const fn new() -> Self {
        Self {
            output: Output::Pending,
            waker: None,
        }
    }
}

impl<T> Output<T> {
    fn name(&self) -> &'static str {
        match self {
            Output::Pending => "running",
            Output::Ready(Ok(_)) => "finished",
            Output::Ready(Err(e)) if e.is_cancelled() => "cancelled",
            Output::Ready(Err(_)) => "panicked",
            Output::Taken => "joined",
        }
    }
}

/// The task side's end of the slot. Publishes `cancelled` when dropped
/// without having published anything.
struct Publisher<T> {
    shared: Arc<Mutex<Slot<T>>>,
    published: bool,
}

impl<T> Publisher<T> {
    fn new(shared: Arc<Mutex<Slot<T>>>) -> Self {
        Self {
            shared,
            published: false,
        }
    }

    fn publish(&mut self, result: Result<T, JoinError>) {
        if core::mem::replace(&mut self.published, true) {
            return;
        }
        let mut slot = lock(&self.shared);
        slot.output = Output::Ready(result);
        let waker = slot.waker.take();
        drop(slot);
        if let Some(waker) = waker {
            waker.wake();
        }
    }
}

impl<T> Drop for Publisher<T> {
    fn drop(&mut self) {
        self.publish(Err(JoinError::cancelled()));
    }
}

/// The slot's mutex is never held while user code runs, so poisoning says
/// nothing about its data.
fn lock<T>(shared: &Mutex<Slot<T>>) -> MutexGuard<'_, Slot<T>> {
    shared.lock().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(test)]
mod tests;

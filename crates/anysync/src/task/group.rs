//! `TaskGroup`: structured concurrency over any [`Spawn`] + [`Timer`].

use alloc::{boxed::Box, collections::VecDeque, sync::Arc, vec::Vec};
use core::{
    fmt,
    future::Future,
    pin::Pin,
    task::{Context, Poll},
    time::Duration,
};

use futures_core::{FusedFuture, FusedStream, Stream};
use futures_util::{stream::FuturesUnordered, task::AtomicWaker, StreamExt};

use super::{futures::CancelledOwned, CancelReason, CancelToken};
use crate::util::finally::Catch;
use crate::waitq::lock::Lock;
use crate::{
    rt::{JoinError, JoinHandle, Spawn, Timer},
    sync::Semaphore,
};

/// How one child of a [`TaskGroup`] ended, when it did not return `Ok`.
#[derive(Debug)]
pub enum TaskError<E> {
    /// The child returned `Err`.
    Failed(E),
    /// The child panicked ([`JoinError::is_panic`]).
    Panicked(JoinError),
    /// The child was aborted after the grace period, or the group was
    /// cancelled before it started (it was waiting for a slot under
    /// [`TaskGroup::with_limit`]). Only [`TaskGroup::into_stream`] reports
    /// these one by one; [`GroupError`] counts them.
    Cancelled,
}

impl<E: fmt::Display> fmt::Display for TaskError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TaskError::Failed(e) => write!(f, "task failed: {e}"),
            TaskError::Panicked(e) => fmt::Display::fmt(e, f),
            TaskError::Cancelled => f.write_str("task was cancelled"),
        }
    }
}

impl<E: fmt::Debug + fmt::Display> core::error::Error for TaskError<E> {}

/// Every failure of a [`TaskGroup`], from [`TaskGroup::join`]: like
/// asyncio's `ExceptionGroup`.
///
/// It holds the error or panic of every child that failed, in the order
/// they were seen, including errors returned by siblings while they were
/// being cancelled, each with the child's spawn index; and how many
/// children did not finish (aborted after the grace period, or cancelled
/// before they started).
pub struct GroupError<E> {
    errors: Vec<(usize, TaskError<E>)>,
    cancelled: usize,
    reason: Option<CancelReason>,
}

impl<E> GroupError<E> {
    /// The failures, as `(spawn index, error)`, in the order `join` saw the
    /// children end (a sibling that failed while being cancelled may come
    /// before the failure that cancelled it).
    pub fn errors(&self) -> &[(usize, TaskError<E>)] {
        &self.errors
    }

    /// The failures, by value.
    pub fn into_errors(self) -> Vec<(usize, TaskError<E>)> {
        self.errors
    }

    /// How many children did not finish.
    pub fn cancelled(&self) -> usize {
        self.cancelled
    }

    /// Why the group was cancelled: [`CancelReason::SiblingFailed`] after
    /// a failure, or the reason its parent token was cancelled with.
    pub fn reason(&self) -> Option<&CancelReason> {
        self.reason.as_ref()
    }
}

impl<E: fmt::Debug> fmt::Debug for GroupError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GroupError")
            .field("errors", &self.errors)
            .field("cancelled", &self.cancelled)
            .field("reason", &self.reason)
            .finish()
    }
}

impl<E: fmt::Display> fmt::Display for GroupError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} task(s) failed, {} cancelled",
            self.errors.len(),
            self.cancelled
        )?;
        for (index, error) in &self.errors {
            write!(f, "; task {index}: {error}")?;
        }
        Ok(())
    }
}

impl<E: fmt::Debug + fmt::Display> core::error::Error for GroupError<E> {}

/// Why [`TaskGroup::spawn`] refused a task.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SpawnError {
    /// The group is being cancelled (a child failed, or its token was
    /// cancelled).
    Cancelled,
    /// The group has finished ([`join`](TaskGroup::join) returned) or was
    /// dropped.
    Closed,
}

impl fmt::Display for SpawnError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SpawnError::Cancelled => f.write_str("task group is being cancelled"),
            SpawnError::Closed => f.write_str("task group is closed"),
        }
    }
}

impl core::error::Error for SpawnError {}

/// What a child's task returns: its outcome (`None` if cancelled before it
/// started), and its clone of the group's token, handed back so that the
/// joiner drops it. The token's counts are then written by the joiner's
/// thread only (it cloned the token when spawning): a child that finishes
/// on another thread leaves that memory alone instead of pulling it over
/// to its own core and back, once per child.
struct ChildOutput<T, E> {
    out: Option<Result<T, E>>,
    token: Option<CancelToken>,
}
type HandleOutput<T, E> = Result<ChildOutput<T, E>, JoinError>;

/// Handles found pending in a row before `join` yields (waking itself) and
/// leaves the rest of its queue for the next poll. An executor with a
/// per-poll budget (tokio) makes every handle look pending once the budget
/// is spent; yielding renews it, instead of moving every remaining handle
/// into `running`.
const MISSES_BEFORE_YIELD: usize = 16;
/// One child's outcome with its spawn index, as the stream yields it.
type Outcome<T, E> = (usize, Result<T, TaskError<E>>);
type Handle<R, T, E> = <R as Spawn>::JoinHandle<ChildOutput<T, E>>;

struct Shared<R: Spawn, T: Send + 'static, E: Send + 'static> {
    rt: R,
    token: CancelToken,
    state: Lock<State<Handle<R, T, E>>>,
    /// The task awaiting `join` (or the stream), woken when a child is
    /// spawned.
    joiner: AtomicWaker,
}

struct State<H> {
    /// Spawn index of the next child.
    next: usize,
    /// Children spawned (or being spawned) whose outcome has not been seen.
    outstanding: usize,
    /// Finished or dropped: no more spawns.
    closed: bool,
    /// Handles not yet taken by the joiner, which swaps this queue with its
    /// own empty one (so neither is copied nor allocated again).
    spawned: VecDeque<(usize, H)>,
    limit: Option<Arc<Semaphore>>,
}

/// A set of child tasks that succeed or fail together: structured
/// concurrency (asyncio's `TaskGroup`, Trio's nursery) on any executor.
///
/// * [`spawn`](Self::spawn) starts a child on the group's [`Spawn`]er;
///   [`join`](Self::join) waits until **every** child has finished and gives
///   their outputs in spawn order (or [`into_stream`](Self::into_stream),
///   in completion order).
/// * The first child that returns `Err` or panics cancels the group's
///   [`CancelToken`] (reason [`CancelReason::SiblingFailed`]) at once, from
///   its own task, so siblings that watch [`token`](Self::token) can clean
///   up asynchronously. After the grace period
///   ([`grace_period`](Self::grace_period), on the [`Timer`], default
///   [`TaskGroup::DEFAULT_GRACE`]), `join` aborts the children still
///   running. The same two steps follow when a parent token
///   ([`with_parent`](Self::with_parent)) is cancelled.
/// * `join` returns `Err(`[`GroupError`]`)` holding every error and panic,
///   including those raised by siblings while they were being cancelled.
/// * Dropping the group, or the [`Join`] future, aborts every child and
///   cancels the token: no child outlives its group as an orphan.
/// * Children can spawn siblings through a [`GroupHandle`]
///   ([`handle`](Self::handle)). Spawning after the group was cancelled,
///   finished or dropped is an error ([`SpawnError`]).
/// * [`with_limit(n)`](Self::with_limit): at most `n` children run at once
///   (the rest wait, as spawned tasks, for a slot, in spawn order).
///
/// The grace period and the abort are driven by `join` (or the stream):
/// the cancellation itself happens without it.
///
/// # Examples
/// ```
/// use std::time::Duration;
/// use anysync::{rt::virtual_time::VirtualTime, task::TaskGroup};
///
/// VirtualTime::new().block_on(|rt| async move {
///     let group = TaskGroup::new(rt.clone());
///     for i in 0..3u64 {
///         let (rt, token) = (rt.clone(), group.token().clone());
///         group
///             .spawn(async move {
///                 if i == 1 {
///                     rt.sleep(Duration::from_secs(2)).await;
///                     return Err("child 1 failed");
///                 }
///                 // The others would run for a minute, but stop when cancelled.
///                 token.run_until_cancelled(rt.sleep(Duration::from_secs(60))).await;
///                 Ok(i)
///             })
///             .unwrap();
///     }
///     let err = group.join().await.unwrap_err();
///     assert_eq!(err.errors().len(), 1);
///     assert_eq!(rt.now().since_origin(), Duration::from_secs(2));
/// });
/// ```
pub struct TaskGroup<R: Spawn + Timer, T: Send + 'static, E: Send + 'static> {
    shared: Arc<Shared<R, T, E>>,
    grace: Duration,
    finished: bool,
}

/// A clonable handle that spawns into a [`TaskGroup`], for its children.
pub struct GroupHandle<R: Spawn + Timer, T: Send + 'static, E: Send + 'static> {
    shared: Arc<Shared<R, T, E>>,
}

impl<R: Spawn + Timer, T: Send + 'static, E: Send + 'static> TaskGroup<R, T, E> {
    /// The grace period used unless [`grace_period`](Self::grace_period)
    /// sets another: one second.
    pub const DEFAULT_GRACE: Duration = Duration::from_secs(1);

    /// A new, empty group spawning on `rt`, with a root token.
    pub fn new(rt: R) -> Self {
        Self::with_token(rt, CancelToken::new())
    }

    /// A new group whose token is a child of `parent`: cancelling `parent`
    /// cancels the group.
    pub fn with_parent(rt: R, parent: &CancelToken) -> Self {
        Self::with_token(rt, parent.child())
    }

    fn with_token(rt: R, token: CancelToken) -> Self {
        TaskGroup {
            shared: Arc::new(Shared {
                rt,
                token,
                state: Lock::new(State {
                    next: 0,
                    outstanding: 0,
                    closed: false,
                    spawned: VecDeque::new(),
                    limit: None,
                }),
                joiner: AtomicWaker::new(),
            }),
            grace: Self::DEFAULT_GRACE,
            finished: false,
        }
    }

    /// Sets how long children may take to stop after the group is
    /// cancelled, before `join` aborts them. `Duration::MAX` waits forever
    /// (never aborts) and does not panic; `Duration::ZERO` aborts at once.
    pub fn grace_period(mut self, grace: Duration) -> Self {
        self.grace = grace;
        self
    }

    /// Lets at most `n` children run at once; later ones wait for a slot.
    /// Applies to children spawned after this call.
    ///
    /// # Panics
    /// If `n` is 0 ("TaskGroup::with_limit: `n` must be at least 1").
    #[track_caller]
    pub fn with_limit(self, n: usize) -> Self {
        assert!(n > 0, "TaskGroup::with_limit: `n` must be at least 1");
        self.shared.state.lock().limit = Some(Arc::new(Semaphore::new(n)));
        self
    }

    /// The group's token: cancelled when a child fails or panics, when the
    /// parent token is, by [`cancel`](Self::cancel), or when the group is
    /// dropped unfinished. Children clone it to watch for cancellation.
    pub fn token(&self) -> &CancelToken {
        &self.shared.token
    }

    /// Cancels the group (reason [`CancelReason::Requested`]): the two-step
    /// stop, as after a failure.
    pub fn cancel(&self) {
        self.shared.token.cancel();
    }

    /// A handle that can spawn into this group, for its children.
    pub fn handle(&self) -> GroupHandle<R, T, E> {
        GroupHandle {
            shared: Arc::clone(&self.shared),
        }
    }

    /// The number of children spawned and not yet seen to finish by `join`
    /// (which updates it once per wake-up, so it may lag while `join`
    /// runs).
    pub fn len(&self) -> usize {
        self.shared.state.lock().outstanding
    }

    /// `true` if no child is outstanding.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Spawns `future` as a child. Returns its spawn index.
    ///
    /// # Errors
    /// [`SpawnError::Cancelled`] once the group is cancelled;
    /// [`SpawnError::Closed`] once it has finished or been dropped.
    pub fn spawn<F>(&self, future: F) -> Result<usize, SpawnError>
    where
        F: Future<Output = Result<T, E>> + Send + 'static,
    {
        spawn_into(&self.shared, future)
    }

    /// Waits for every child, then gives their outputs in spawn order, or
    /// every failure. See the type's docs for how failures cancel.
    ///
    /// # Cancel safety
    /// This method is **not** cancel safe: dropping the future aborts every child
    /// and loses their outputs. Use [`GroupHandle`] and a separate token in `select!`.
    ///
    /// # Errors
    /// [`GroupError`] if any child failed or panicked, or did not finish.
    pub fn join(self) -> Join<R, T, E> {
        Join {
            engine: Engine::new(self),
            results: Vec::new(),
            errors: Vec::new(),
            cancelled: 0,
            done: false,
        }
    }

    /// The children's outcomes in completion order (asyncio's
    /// `as_completed`), as `(spawn index, result)`. Failures cancel the
    /// group as with [`join`](Self::join); the stream ends when every child
    /// has finished. Dropping the stream aborts every child.
    pub fn into_stream(self) -> GroupStream<R, T, E> {
        GroupStream {
            engine: Engine::new(self),
        }
    }
}

impl<R: Spawn + Timer, T: Send + 'static, E: Send + 'static> GroupHandle<R, T, E> {
    /// Spawns `future` into the group. Returns its spawn index.
    ///
    /// # Errors
    /// As [`TaskGroup::spawn`].
    pub fn spawn<F>(&self, future: F) -> Result<usize, SpawnError>
    where
        F: Future<Output = Result<T, E>> + Send + 'static,
    {
        spawn_into(&self.shared, future)
    }

    /// The group's token.
    pub fn token(&self) -> &CancelToken {
        &self.shared.token
    }
}

impl<R: Spawn + Timer, T: Send + 'static, E: Send + 'static> Clone for GroupHandle<R, T, E> {
    fn clone(&self) -> Self {
        GroupHandle {
            shared: Arc::clone(&self.shared),
        }
    }
}

fn spawn_into<R, T, E, F>(shared: &Shared<R, T, E>, future: F) -> Result<usize, SpawnError>
where
    R: Spawn + Timer,
    T: Send + 'static,
    E: Send + 'static,
    F: Future<Output = Result<T, E>> + Send + 'static,
{
    let (index, limit) = {
        let mut state = shared.state.lock();
        if state.closed {
            return Err(SpawnError::Closed);
        }
        if shared.token.is_cancelled() {
            return Err(SpawnError::Cancelled);
        }
        state.outstanding += 1;
        state.next += 1;
        (state.next - 1, state.limit.clone())
    };
    // Spawn outside the lock: an executor may run foreign code here. A
    // child without a limit runs the smaller future (no slot to wait for):
    // the executor copies it into its task and polls it.
    let token = shared.token.clone();
    let handle = match limit {
        None => shared.rt.spawn(run_child(token, future)),
        Some(sem) => shared.rt.spawn(run_limited_child(token, sem, future)),
    };
    let mut state = shared.state.lock();
    if state.closed {
        // Dropped while we spawned: do not leave an orphan.
        drop(state);
        handle.abort();
        return Err(SpawnError::Closed);
    }
    state.spawned.push_back((index, handle));
    drop(state);
    shared.joiner.wake();
    Ok(index)
}

/// Cancels the group's token with [`CancelReason::SiblingFailed`] if
/// dropped armed: when a child returns `Err`, or panics through it.
struct FailGuard(Option<CancelToken>);

impl Drop for FailGuard {
    fn drop(&mut self) {
        if let Some(token) = self.0.take() {
            token.cancel_with(CancelReason::SiblingFailed);
        }
    }
}

/// The future each child runs: runs `future`; an `Err`, or a panic
/// unwinding through here, cancels the group at once, from the child's
/// own task.
async fn run_child<T, E, F>(token: CancelToken, future: F) -> ChildOutput<T, E>
where
    F: Future<Output = Result<T, E>>,
{
    let mut guard = FailGuard(Some(token));
    let out = future.await;
    let token = if out.is_ok() { guard.0.take() } else { None };
    drop(guard);
    ChildOutput {
        out: Some(out),
        token,
    }
}

/// A child under [`TaskGroup::with_limit`]: waits for a slot (or for the
/// group's cancellation: then it never starts), then runs as
/// [`run_child`], holding the slot until it is done.
async fn run_limited_child<T, E, F>(
    token: CancelToken,
    sem: Arc<Semaphore>,
    future: F,
) -> ChildOutput<T, E>
where
    F: Future<Output = Result<T, E>>,
{
    let Some(Ok(_permit)) = token.run_until_cancelled(sem.acquire_owned()).await else {
        return ChildOutput {
            out: None,
            token: Some(token),
        };
    };
    run_child(token, future).await
}

impl<R: Spawn + Timer, T: Send + 'static, E: Send + 'static> Drop for TaskGroup<R, T, E> {
    fn drop(&mut self) {
        let spawned = {
            let mut state = self.shared.state.lock();
            state.closed = true;
            core::mem::take(&mut state.spawned)
        };
        if !self.finished {
            // Every child aborted and the token cancelled, even if an abort
            // (a `Spawn`'s) or a token waiter's wake panics: foreign code
            // must not leave children running detached.
            let mut catch = Catch::new();
            for (_, handle) in &spawned {
                catch.run(|| handle.abort());
            }
            catch.run(|| {
                self.shared.token.cancel();
            });
            catch.finish();
        }
        drop(spawned);
    }
}

impl<R: Spawn + Timer, T: Send + 'static, E: Send + 'static> fmt::Debug for TaskGroup<R, T, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TaskGroup")
            .field("outstanding", &self.len())
            .field("cancelled", &self.shared.token.is_cancelled())
            .field("grace", &self.grace)
            .finish()
    }
}

impl<R: Spawn + Timer, T: Send + 'static, E: Send + 'static> fmt::Debug for GroupHandle<R, T, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GroupHandle")
            .field("cancelled", &self.shared.token.is_cancelled())
            .finish()
    }
}

/// A child's handle with its spawn index.
struct Indexed<H> {
    index: usize,
    handle: H,
}

impl<H: Future + Unpin> Future for Indexed<H> {
    type Output = (usize, H::Output);

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let index = self.index;
        Pin::new(&mut self.handle).poll(cx).map(|out| (index, out))
    }
}

/// What `Join` and `GroupStream` share: collecting handles, the grace
/// period, the abort.
struct Engine<R: Spawn + Timer, T: Send + 'static, E: Send + 'static> {
    group: TaskGroup<R, T, E>,
    running: FuturesUnordered<Indexed<Handle<R, T, E>>>,
    cancelled: Pin<Box<CancelledOwned>>,
    /// Started when the token is cancelled.
    grace: Option<Pin<Box<R::Sleep>>>,
    cancel_seen: bool,
    aborted: bool,
    done: bool,
    /// Outcomes returned but not yet subtracted from `outstanding`.
    unflushed: usize,
    /// Handles taken from the group and not yet polled: polled in spawn
    /// order, the finished ones never enter `running` (which allocates per
    /// entry), and that is most of them when children finish before `join`
    /// runs.
    queue: VecDeque<(usize, Handle<R, T, E>)>,
    /// How many children had been spawned when the queue was last refilled
    /// (their indexes are below this): `Join` sizes its results once per
    /// refill instead of growing them one child at a time.
    known: usize,
}

impl<R: Spawn + Timer, T: Send + 'static, E: Send + 'static> Engine<R, T, E> {
    fn new(group: TaskGroup<R, T, E>) -> Self {
        let cancelled = Box::pin(group.shared.token.clone().cancelled_owned());
        Engine {
            group,
            running: FuturesUnordered::new(),
            cancelled,
            grace: None,
            cancel_seen: false,
            aborted: false,
            done: false,
            unflushed: 0,
            queue: VecDeque::new(),
            known: 0,
        }
    }

    fn abort_all(&mut self) {
        let mut catch = Catch::new();
        self.abort_all_into(&mut catch);
        catch.finish();
    }

    /// Aborts every child still running, each even if an earlier abort
    /// (a `Spawn`'s, foreign code) panics.
    fn abort_all_into(&mut self, catch: &mut Catch) {
        self.aborted = true;
        for child in self.running.iter() {
            catch.run(|| child.handle.abort());
        }
        for (_, handle) in &self.queue {
            catch.run(|| handle.abort());
        }
    }

    /// One child's outcome, from its handle's output. The shared count is
    /// updated later, in one go, under the lock `poll_next_outcome` takes.
    fn emit(&mut self, index: usize, out: HandleOutput<T, E>) -> Outcome<T, E> {
        self.unflushed += 1;
        let outcome = match out {
            Ok(ChildOutput { out, token }) => {
                drop(token);
                match out {
                    Some(Ok(value)) => Ok(value),
                    Some(Err(error)) => Err(TaskError::Failed(error)),
                    None => Err(TaskError::Cancelled),
                }
            }
            Err(join) if join.is_panic() => Err(TaskError::Panicked(join)),
            Err(_) => Err(TaskError::Cancelled),
        };
        if matches!(outcome, Err(TaskError::Failed(_) | TaskError::Panicked(_))) {
            // The child's own guard did this already, unless the executor
            // lost the panic; idempotent either way.
            self.group
                .shared
                .token
                .cancel_with(CancelReason::SiblingFailed);
        }
        (index, outcome)
    }

    /// The next child's outcome, or `None` once every child has finished
    /// (the group is then closed).
    fn poll_next_outcome(&mut self, cx: &mut Context<'_>) -> Poll<Option<Outcome<T, E>>> {
        if self.done {
            return Poll::Ready(None);
        }
        loop {
            let mut misses = 0;
            while let Some((index, mut handle)) = self.queue.pop_front() {
                match Pin::new(&mut handle).poll(cx) {
                    Poll::Ready(out) => return Poll::Ready(Some(self.emit(index, out))),
                    Poll::Pending => {
                        self.running.push(Indexed { index, handle });
                        misses += 1;
                        if misses == MISSES_BEFORE_YIELD && !self.queue.is_empty() {
                            cx.waker().wake_by_ref();
                            return Poll::Pending;
                        }
                    }
                }
            }
            if let Poll::Ready(Some((index, out))) = self.running.poll_next_unpin(cx) {
                return Poll::Ready(Some(self.emit(index, out)));
            }
            let shared = Arc::clone(&self.group.shared);
            // Register before taking new handles, so a spawn after the
            // take wakes us.
            shared.joiner.register(cx.waker());
            let finished = {
                let mut state = shared.state.lock();
                state.outstanding -= self.unflushed;
                self.unflushed = 0;
                // The queue is empty here (drained above): take the new
                // handles, and leave the empty buffer for later spawns.
                debug_assert!(self.queue.is_empty());
                core::mem::swap(&mut self.queue, &mut state.spawned);
                self.known = state.next;
                let finished = self.queue.is_empty() && state.outstanding == 0;
                if finished {
                    state.closed = true;
                }
                finished
            };
            if finished {
                self.done = true;
                self.group.finished = true;
                return Poll::Ready(None);
            }
            if !self.queue.is_empty() {
                if self.aborted {
                    for (_, handle) in &self.queue {
                        handle.abort();
                    }
                }
                continue;
            }
            if !self.cancel_seen && self.cancelled.as_mut().poll(cx).is_ready() {
                self.cancel_seen = true;
                if self.group.grace == Duration::ZERO {
                    self.abort_all();
                    continue;
                } else if self.group.grace != Duration::MAX {
                    self.grace = Some(Box::pin(shared.rt.sleep(self.group.grace)));
                }
            }
            if let Some(sleep) = self.grace.as_mut() {
                if sleep.as_mut().poll(cx).is_ready() {
                    self.grace = None;
                    self.abort_all();
                    // Aborted handles complete: poll them again.
                    continue;
                }
            }
            return Poll::Pending;
        }
    }
}

impl<R: Spawn + Timer, T: Send + 'static, E: Send + 'static> Drop for Engine<R, T, E> {
    fn drop(&mut self) {
        if !self.done {
            // Each step even if one panics, as in `TaskGroup`'s drop.
            let mut catch = Catch::new();
            self.abort_all_into(&mut catch);
            catch.run(|| {
                self.group.shared.token.cancel();
            });
            catch.finish();
        }
    }
}

/// Future returned by [`TaskGroup::join`].
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct Join<R: Spawn + Timer, T: Send + 'static, E: Send + 'static> {
    engine: Engine<R, T, E>,
    results: Vec<Option<T>>,
    errors: Vec<(usize, TaskError<E>)>,
    cancelled: usize,
    done: bool,
}

impl<R: Spawn + Timer, T: Send + 'static, E: Send + 'static> Join<R, T, E> {
    /// The group's token.
    pub fn token(&self) -> &CancelToken {
        self.engine.group.token()
    }

    /// A handle that spawns into the group being joined.
    pub fn handle(&self) -> GroupHandle<R, T, E> {
        self.engine.group.handle()
    }
}

// `Join` never pins the outputs it collects, so it is `Unpin` whatever
// `T` and `E` are.
impl<R: Spawn + Timer, T: Send + 'static, E: Send + 'static> Unpin for Join<R, T, E> {}

impl<R: Spawn + Timer, T: Send + 'static, E: Send + 'static> Future for Join<R, T, E> {
    type Output = Result<Vec<T>, GroupError<E>>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        assert!(!this.done, "`Join` polled after completion");
        while let Some((index, outcome)) = core::task::ready!(this.engine.poll_next_outcome(cx)) {
            match outcome {
                Ok(value) => {
                    if this.results.len() <= index {
                        let len = (index + 1).max(this.engine.known);
                        this.results.resize_with(len, || None);
                    }
                    this.results[index] = Some(value);
                }
                Err(TaskError::Cancelled) => this.cancelled += 1,
                Err(error) => this.errors.push((index, error)),
            }
        }
        this.done = true;
        if this.errors.is_empty() && this.cancelled == 0 {
            let results = core::mem::take(&mut this.results);
            Poll::Ready(Ok(results
                .into_iter()
                .map(|r| r.expect("every child finished with a value"))
                .collect()))
        } else {
            Poll::Ready(Err(GroupError {
                errors: core::mem::take(&mut this.errors),
                cancelled: this.cancelled,
                reason: this.engine.group.shared.token.reason(),
            }))
        }
    }
}

impl<R: Spawn + Timer, T: Send + 'static, E: Send + 'static> FusedFuture for Join<R, T, E> {
    fn is_terminated(&self) -> bool {
        self.done
    }
}

impl<R: Spawn + Timer, T: Send + 'static, E: Send + 'static> fmt::Debug for Join<R, T, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Join")
            .field("group", &self.engine.group)
            .field("errors", &self.errors.len())
            .field("done", &self.done)
            .finish()
    }
}

/// Stream returned by [`TaskGroup::into_stream`]: each child's outcome, in
/// completion order.
#[must_use = "streams do nothing unless polled"]
pub struct GroupStream<R: Spawn + Timer, T: Send + 'static, E: Send + 'static> {
    engine: Engine<R, T, E>,
}

impl<R: Spawn + Timer, T: Send + 'static, E: Send + 'static> GroupStream<R, T, E> {
    /// The group's token.
    pub fn token(&self) -> &CancelToken {
        self.engine.group.token()
    }

    /// A handle that spawns into the group.
    pub fn handle(&self) -> GroupHandle<R, T, E> {
        self.engine.group.handle()
    }
}

impl<R: Spawn + Timer, T: Send + 'static, E: Send + 'static> Stream for GroupStream<R, T, E> {
    type Item = Outcome<T, E>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.get_mut().engine.poll_next_outcome(cx)
    }
}

impl<R: Spawn + Timer, T: Send + 'static, E: Send + 'static> FusedStream for GroupStream<R, T, E> {
    fn is_terminated(&self) -> bool {
        self.engine.done
    }
}

impl<R: Spawn + Timer, T: Send + 'static, E: Send + 'static> fmt::Debug for GroupStream<R, T, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GroupStream")
            .field("group", &self.engine.group)
            .field("done", &self.engine.done)
            .finish()
    }
}

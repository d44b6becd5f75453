//! A deterministic single-threaded executor with a virtual clock, for tests.
//!
//! [`VirtualTime`] runs a future and the tasks it spawns on the calling
//! thread, and keeps its own clock, which moves only when every task is
//! waiting. Time-dependent code runs in no real time at all, and always
//! the same way, so tests can assert exact instants:
//!
//! ```
//! use std::time::Duration;
//! use anysync::rt::{virtual_time::VirtualTime, Instant};
//!
//! let vt = VirtualTime::new();
//! let order = vt.block_on(|rt| async move {
//!     let slow = rt.spawn({
//!         let rt = rt.clone();
//!         async move { rt.sleep(Duration::from_secs(60)).await; "slow" }
//!     });
//!     rt.sleep(Duration::from_secs(1)).await;
//!     assert_eq!(rt.now(), Instant::from_origin(Duration::from_secs(1)));
//!     slow.await.unwrap()
//! });
//! assert_eq!(order, "slow");
//! // A minute of sleeping took no real time: the clock jumped from timer to timer.
//! assert_eq!(vt.now().since_origin(), Duration::from_secs(60));
//! ```
//!
//! # Rules
//!
//! * Runnable tasks (the main future included) are polled one at a time in
//!   the order they were woken (FIFO). A task that wakes itself goes to the
//!   back of the queue.
//! * The clock stands still while anything is runnable. When every task is
//!   waiting, the clock jumps straight to the earliest pending timer and
//!   fires every timer due at that instant, in deadline order and, for
//!   equal deadlines, in the order the sleeps were created.
//! * [`spawn_blocking`](Blocking::spawn_blocking) runs its closure on a real
//!   thread. While such a job is running and nothing else is runnable, the
//!   executor waits for it; the clock does not move. (So a blocking job
//!   that waits for something only a timer can bring about never ends.)
//! * When every task is waiting, no timer is pending and no blocking job is
//!   running, nothing can ever happen again: `block_on` panics with
//!   "deadlock: main future can never complete" rather than hanging.
//! * When `block_on` returns, tasks that have not finished are dropped;
//!   their handles then give [`JoinError::is_cancelled`](super::JoinError::is_cancelled).
//! * The clock starts at [`Instant::ORIGIN`] and carries over from one
//!   `block_on` call to the next. A sleep that would end at or beyond the
//!   last representable instant (such as `Duration::MAX`) never fires.
//!
//! # Implementation notes
//!
//! All state (clock, run queue, tasks, timers) sits behind one `std` mutex,
//! which is never held while a task is polled or a waker runs, so wakers
//! may be called from any thread (a blocking job waking its joiner). Task
//! futures are taken out of the table while they are polled. Timers are a
//! `BTreeMap` keyed by `(deadline, creation number)`, which gives the firing
//! order directly; a [`Sleep`] that is dropped removes its entry. Wakers hold
//! only a `Weak` reference to the executor, so they never keep it alive.

use alloc::{
    boxed::Box,
    collections::{BTreeMap, VecDeque},
    string::String,
    sync::{Arc, Weak},
    task::Wake,
    vec::Vec,
};
use core::{
    fmt,
    future::Future,
    pin::{pin, Pin},
    task::{Context, Poll, Waker},
    time::Duration,
};
use std::{
    sync::{Condvar, Mutex, MutexGuard, PoisonError, TryLockError},
    thread,
};

use futures_core::FusedFuture;

use super::{catch_blocking, catch_task, Blocking, Spawn, TaskHandle, Timer};
use crate::rt::Instant;

/// A deterministic single-threaded executor with a virtual clock, for tests.
///
/// It implements [`Timer`], [`Spawn`] and [`Blocking`], so it is a
/// [`Runtime`](super::Runtime), and anything generic over one runs on it.
/// See the [module docs](self) for the exact rules.
///
/// Clones share the same executor and clock. It is `Send + Sync`: tasks may
/// be spawned and woken from any thread, but they are polled only by the
/// thread inside [`block_on`](VirtualTime::block_on).
///
/// # Examples
/// ```
/// use std::time::Duration;
/// use anysync::{rt::virtual_time::VirtualTime, time::timeout};
///
/// VirtualTime::new().block_on(|rt| async move {
///     let slow = rt.sleep(Duration::from_secs(10));
///     assert!(timeout(&rt, Duration::from_secs(1), slow).await.is_err());
///     assert_eq!(rt.now().since_origin(), Duration::from_secs(1));
/// });
/// ```
#[derive(Clone)]
pub struct VirtualTime {
    shared: Arc<Shared>,
}

struct Shared {
    state: Mutex<State>,
    /// Signalled when something becomes runnable or a blocking job ends,
    /// for a `block_on` that is waiting on a blocking job.
    changed: Condvar,
}

struct State {
    now: Instant,
    /// The main future and the tasks, in the order they were woken.
    run_queue: VecDeque<Runnable>,
    tasks: BTreeMap<u64, TaskSlot>,
    next_task: u64,
    /// Registered sleeps, by `(deadline, creation number)`.
    timers: BTreeMap<(Instant, u64), Waker>,
    next_timer: u64,
    /// Blocking jobs whose thread has not finished.
    blocking: usize,
    /// The number of the `block_on` call in progress, if one is.
    running: Option<u64>,
    runs: u64,
    main_queued: bool,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Runnable {
    Main,
    Task(u64),
}

type BoxedTask = Pin<Box<dyn Future<Output = ()> + Send>>;

struct TaskSlot {
    /// `None` while the task is being polled.
    future: Option<BoxedTask>,
    waker: Waker,
    queued: bool,
}

impl VirtualTime {
    /// A new executor whose clock reads [`Instant::ORIGIN`].
    pub fn new() -> Self {
        Self {
            shared: Arc::new(Shared {
                state: Mutex::new(State {
                    now: Instant::ORIGIN,
                    run_queue: VecDeque::new(),
                    tasks: BTreeMap::new(),
                    next_task: 0,
                    timers: BTreeMap::new(),
                    next_timer: 0,
                    blocking: 0,
                    running: None,
                    runs: 0,
                    main_queued: false,
                }),
                changed: Condvar::new(),
            }),
        }
    }

    /// The virtual clock's current reading (the same as [`Timer::now`]).
    /// Readable from anywhere, before, during and after `block_on`.
    pub fn now(&self) -> Instant {
        self.lock().now
    }

    /// A sleep until `duration` after [`now`](VirtualTime::now): the same as
    /// [`Timer::sleep`], callable without importing the trait. It never
    /// fires if that is at or beyond the last representable instant
    /// (`Duration::MAX` included).
    ///
    /// # Cancel safety
    /// This method is cancel safe: dropping the future before it completes has no effect.
    ///
    /// # Examples
    /// ```
    /// use std::time::Duration;
    /// use anysync::rt::virtual_time::VirtualTime;
    ///
    /// let vt = VirtualTime::new();
    /// vt.block_on(|rt| async move { rt.sleep(Duration::from_secs(2)).await });
    /// assert_eq!(vt.now().since_origin(), Duration::from_secs(2));
    /// ```
    pub fn sleep(&self, duration: Duration) -> Sleep {
        self.sleep_at(self.now().checked_add(duration))
    }

    /// A sleep until `deadline`: the same as [`Timer::sleep_until`],
    /// callable without importing the trait. A deadline that has passed
    /// completes at once.
    ///
    /// # Cancel safety
    /// This method is cancel safe: dropping the future before it completes has no effect.
    ///
    /// # Examples
    /// ```
    /// use std::time::Duration;
    /// use anysync::{rt::virtual_time::VirtualTime, time::Instant};
    ///
    /// let vt = VirtualTime::new();
    /// let deadline = Instant::from_origin(Duration::from_millis(250));
    /// vt.block_on(|rt| async move { rt.sleep_until(deadline).await });
    /// assert_eq!(vt.now(), deadline);
    /// ```
    pub fn sleep_until(&self, deadline: Instant) -> Sleep {
        self.sleep_at(Some(deadline))
    }

    /// Queues `future` as a new task: the same as [`Spawn::spawn`],
    /// callable without importing the trait. It runs inside
    /// [`block_on`](VirtualTime::block_on), behind everything already
    /// runnable.
    ///
    /// # Cancel safety
    /// This method is cancel safe: dropping the future before it completes has no effect.
    /// (Dropping the handle detaches the task; [`TaskHandle::abort`] stops it.)
    ///
    /// # Examples
    /// ```
    /// use anysync::rt::virtual_time::VirtualTime;
    ///
    /// let answer = VirtualTime::new().block_on(|rt| async move { rt.spawn(async { 6 * 7 }).await });
    /// assert_eq!(answer.unwrap(), 42);
    /// ```
    pub fn spawn<F>(&self, future: F) -> TaskHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        <Self as Spawn>::spawn(self, future)
    }

    /// Runs `f` on a new OS thread: the same as
    /// [`Blocking::spawn_blocking`], callable without importing the trait.
    ///
    /// # Cancel safety
    /// This method is cancel safe: dropping the future before it completes has no effect.
    /// (Dropping the handle detaches the job, which runs to the end.)
    ///
    /// # Panics
    /// If the OS refuses to start a thread.
    ///
    /// # Examples
    /// ```
    /// use anysync::rt::virtual_time::VirtualTime;
    ///
    /// let sum = VirtualTime::new().block_on(|rt| async move { rt.spawn_blocking(|| (1..=4).sum::<u32>()).await });
    /// assert_eq!(sum.unwrap(), 10);
    /// ```
    pub fn spawn_blocking<F, T>(&self, f: F) -> TaskHandle<T>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        <Self as Blocking>::spawn_blocking(self, f)
    }

    /// Runs the future that `f` makes from a clone of this runtime, and the
    /// tasks it spawns, until that future completes; returns its output.
    ///
    /// Tasks still unfinished when it returns are dropped.
    ///
    /// # Panics
    /// * With "deadlock: main future can never complete" if every task is
    ///   waiting, no timer is pending and no blocking job is running.
    /// * If the main future panics (the panic propagates). A panic in a
    ///   spawned task does not propagate: its handle gives
    ///   [`JoinError::is_panic`](super::JoinError::is_panic).
    /// * If this runtime is already inside `block_on` (nested, or on another
    ///   thread).
    ///
    /// # Examples
    /// ```
    /// use std::time::Duration;
    /// use anysync::rt::virtual_time::VirtualTime;
    ///
    /// let three = VirtualTime::new().block_on(|rt| async move {
    ///     rt.sleep(Duration::from_millis(5)).await;
    ///     3
    /// });
    /// assert_eq!(three, 3);
    /// ```
    #[track_caller]
    pub fn block_on<F, Fut>(&self, f: F) -> Fut::Output
    where
        F: FnOnce(VirtualTime) -> Fut,
        Fut: Future,
    {
        self.block_on_future(f(self.clone()))
    }

    /// Runs `future`, and the tasks it spawns, until `future` completes;
    /// like [`block_on`](VirtualTime::block_on) for a future made beforehand.
    ///
    /// # Panics
    /// As [`block_on`](VirtualTime::block_on).
    ///
    /// # Examples
    /// ```
    /// use anysync::rt::virtual_time::VirtualTime;
    ///
    /// let vt = VirtualTime::new();
    /// let task = vt.spawn(async { 1 + 1 });
    /// assert_eq!(vt.block_on_future(task).unwrap(), 2);
    /// ```
    #[track_caller]
    pub fn block_on_future<F: Future>(&self, future: F) -> F::Output {
        let run = {
            let mut state = self.lock();
            if state.running.is_some() {
                drop(state);
                panic!("VirtualTime::block_on called while this runtime is already running a block_on (nested, or on another thread)");
            }
            state.runs += 1;
            let run = state.runs;
            state.running = Some(run);
            state.main_queued = true;
            state.run_queue.push_back(Runnable::Main);
            run
        };
        // Declared before `future`, so it runs after `future` is dropped.
        let _end = EndRun(&self.shared);
        let waker = Waker::from(Arc::new(MainWaker {
            run,
            shared: Arc::downgrade(&self.shared),
        }));
        let mut cx = Context::from_waker(&waker);
        let mut future = pin!(future);
        loop {
            match self.next_runnable() {
                Runnable::Main => {
                    if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
                        return output;
                    }
                }
                Runnable::Task(id) => self.poll_task(id),
            }
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.shared.lock()
    }

    /// Pops the next runnable, waiting for blocking jobs or moving the clock
    /// as the rules say when nothing is runnable.
    fn next_runnable(&self) -> Runnable {
        let mut state = self.lock();
        loop {
            if let Some(next) = state.run_queue.pop_front() {
                match next {
                    Runnable::Main => state.main_queued = false,
                    Runnable::Task(id) => {
                        if let Some(slot) = state.tasks.get_mut(&id) {
                            slot.queued = false;
                        }
                    }
                }
                return next;
            }
            if state.blocking > 0 {
                state = self
                    .shared
                    .changed
                    .wait(state)
                    .unwrap_or_else(PoisonError::into_inner);
                continue;
            }
            let Some((&(deadline, _), _)) = state.timers.first_key_value() else {
                let now = state.now;
                drop(state);
                panic!(
                    "deadlock: main future can never complete: every task is waiting, \
                     no timer is pending and no blocking job is running \
                     (VirtualTime at {now:?})"
                );
            };
            let now = state.now.max(deadline);
            state.now = now;
            let mut due = Vec::new();
            while let Some(entry) = state.timers.first_entry() {
                if entry.key().0 > now {
                    break;
                }
                due.push(entry.remove());
            }
            drop(state);
            // Outside the lock: waking pushes onto the run queue. Every
            // due timer is woken even if one wake panics (foreign code: a
            // sleep can be polled by any waker); the first panic is raised
            // again after.
            let mut catch = crate::util::finally::Catch::new();
            for waker in due {
                catch.run(|| waker.wake());
            }
            catch.finish();
            state = self.lock();
        }
    }

    fn poll_task(&self, id: u64) {
        let (mut future, waker) = {
            let mut state = self.lock();
            let Some(slot) = state.tasks.get_mut(&id) else {
                return;
            };
            match slot.future.take() {
                Some(future) => (future, slot.waker.clone()),
                None => return,
            }
        };
        // Never unwinds: the task is a `CatchTask`.
        let done = future
            .as_mut()
            .poll(&mut Context::from_waker(&waker))
            .is_ready();
        let mut state = self.lock();
        let finished = if done {
            state.tasks.remove(&id)
        } else if let Some(slot) = state.tasks.get_mut(&id) {
            slot.future = Some(future);
            return;
        } else {
            None
        };
        drop(state);
        drop(finished);
    }

    /// A sleep that fires at `deadline`, or never if `deadline` is `None`.
    fn sleep_at(&self, deadline: Option<Instant>) -> Sleep {
        let never = Instant::from_origin(Duration::MAX);
        let deadline = deadline.filter(|d| *d < never);
        let mut state = self.lock();
        let number = state.next_timer;
        state.next_timer += 1;
        drop(state);
        Sleep {
            shared: Arc::clone(&self.shared),
            key: deadline.map(|d| (d, number)),
            registered: false,
            fired: false,
        }
    }

    #[cfg(test)]
    fn pending_timers(&self) -> usize {
        self.lock().timers.len()
    }

    #[cfg(test)]
    fn task_count(&self) -> usize {
        self.lock().tasks.len()
    }
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // No user code runs under this lock, so poisoning tells nothing.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Default for VirtualTime {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for VirtualTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("VirtualTime");
        let state = match self.shared.state.try_lock() {
            Ok(state) => state,
            Err(TryLockError::Poisoned(p)) => p.into_inner(),
            Err(TryLockError::WouldBlock) => {
                return d.field("state", &format_args!("<locked>")).finish();
            }
        };
        d.field("now", &state.now)
            .field("running", &state.running.is_some())
            .field("tasks", &state.tasks.len())
            .field("timers", &state.timers.len())
            .field("blocking_jobs", &state.blocking)
            .finish()
    }
}

/// Ends a `block_on` call, normally or by a panic: drops the unfinished
/// tasks (outside the lock, since dropping them may deregister timers or
/// spawn) and lets the next `block_on` start.
struct EndRun<'a>(&'a Arc<Shared>);

impl Drop for EndRun<'_> {
    fn drop(&mut self) {
        let mut state = self.0.lock();
        state.running = None;
        state.main_queued = false;
        loop {
            state.run_queue.clear();
            let tasks = core::mem::take(&mut state.tasks);
            if tasks.is_empty() {
                break;
            }
            drop(state);
            drop(tasks);
            state = self.0.lock();
        }
    }
}

/// Wakes the main future of one `block_on` call.
struct MainWaker {
    run: u64,
    shared: Weak<Shared>,
}

impl Wake for MainWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        let Some(shared) = self.shared.upgrade() else {
            return;
        };
        let mut state = shared.lock();
        if state.running == Some(self.run) && !state.main_queued {
            state.main_queued = true;
            state.run_queue.push_back(Runnable::Main);
            drop(state);
            shared.changed.notify_all();
        }
    }
}

/// Wakes one spawned task.
struct TaskWaker {
    id: u64,
    shared: Weak<Shared>,
}

impl Wake for TaskWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        let Some(shared) = self.shared.upgrade() else {
            return;
        };
        let mut state = shared.lock();
        let Some(slot) = state.tasks.get_mut(&self.id) else {
            return;
        };
        if !slot.queued {
            slot.queued = true;
            state.run_queue.push_back(Runnable::Task(self.id));
            drop(state);
            shared.changed.notify_all();
        }
    }
}

impl Timer for VirtualTime {
    type Sleep = Sleep;

    /// See [`VirtualTime::sleep`].
    fn sleep(&self, duration: Duration) -> Sleep {
        VirtualTime::sleep(self, duration)
    }

    fn now(&self) -> Instant {
        VirtualTime::now(self)
    }

    /// See [`VirtualTime::sleep_until`].
    fn sleep_until(&self, deadline: Instant) -> Sleep {
        VirtualTime::sleep_until(self, deadline)
    }
}

impl Spawn for VirtualTime {
    type JoinHandle<T: Send + 'static> = TaskHandle<T>;

    /// Queues `future` as a new task, behind everything already runnable.
    /// It runs inside [`block_on`](VirtualTime::block_on) (a task spawned
    /// outside runs at the next `block_on`).
    fn spawn<F>(&self, future: F) -> TaskHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let (task, handle) = catch_task(future);
        let task: BoxedTask = Box::pin(task);
        let mut state = self.lock();
        let id = state.next_task;
        state.next_task += 1;
        let waker = Waker::from(Arc::new(TaskWaker {
            id,
            shared: Arc::downgrade(&self.shared),
        }));
        state.tasks.insert(
            id,
            TaskSlot {
                future: Some(task),
                waker,
                queued: true,
            },
        );
        state.run_queue.push_back(Runnable::Task(id));
        drop(state);
        self.shared.changed.notify_all();
        handle
    }
}

impl Blocking for VirtualTime {
    type BlockingHandle<T: Send + 'static> = TaskHandle<T>;

    /// Runs `f` on a new OS thread. While it runs and nothing else is
    /// runnable, `block_on` waits for it and the clock stands still.
    ///
    /// # Panics
    /// If the OS refuses to start a thread.
    fn spawn_blocking<F, T>(&self, f: F) -> TaskHandle<T>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        let (job, handle) = catch_blocking(f);
        self.lock().blocking += 1;
        let shared = Arc::clone(&self.shared);
        let spawned = thread::Builder::new()
            .name(String::from("anysync-virtual-time-blocking"))
            .spawn(move || {
                job.run();
                shared.lock().blocking -= 1;
                shared.changed.notify_all();
            });
        if let Err(err) = spawned {
            self.lock().blocking -= 1;
            panic!("VirtualTime::spawn_blocking could not start a thread: {err}");
        }
        handle
    }
}

/// The future returned by [`VirtualTime`]'s [`Timer::sleep`] and
/// [`Timer::sleep_until`].
///
/// It registers its timer when first polled and removes it when dropped.
///
/// # Cancel safety
/// This method is cancel safe: dropping the future before it completes has no effect.
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct Sleep {
    shared: Arc<Shared>,
    /// `(deadline, creation number)`; `None` for a sleep that never fires.
    key: Option<(Instant, u64)>,
    registered: bool,
    fired: bool,
}

impl Sleep {
    /// When this sleep fires, or `None` if it never does.
    pub fn deadline(&self) -> Option<Instant> {
        self.key.map(|(deadline, _)| deadline)
    }
}

impl Future for Sleep {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.fired {
            return Poll::Ready(());
        }
        let Some(key) = self.key else {
            return Poll::Pending;
        };
        let shared = Arc::clone(&self.shared);
        let mut state = shared.lock();
        if state.now >= key.0 {
            let stale = state.timers.remove(&key);
            drop(state);
            drop(stale);
            self.registered = false;
            self.fired = true;
            return Poll::Ready(());
        }
        let stale = match state.timers.get_mut(&key) {
            Some(waker) if waker.will_wake(cx.waker()) => None,
            Some(waker) => Some(core::mem::replace(waker, cx.waker().clone())),
            None => state.timers.insert(key, cx.waker().clone()),
        };
        drop(state);
        drop(stale);
        self.registered = true;
        Poll::Pending
    }
}

impl FusedFuture for Sleep {
    fn is_terminated(&self) -> bool {
        self.fired
    }
}

impl Drop for Sleep {
    fn drop(&mut self) {
        if let (true, Some(key)) = (self.registered, self.key) {
            let stale = self.shared.lock().timers.remove(&key);
            drop(stale);
        }
    }
}

impl fmt::Debug for Sleep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sleep")
            .field("deadline", &self.deadline())
            .field("fired", &self.fired)
            .finish()
    }
}

#[cfg(test)]
mod tests;

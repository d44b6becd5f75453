//! Debounce and throttle: run an action at most so often, however often it
//! is triggered. Each comes as a handle you trigger (the action runs on a
//! background task) and as a `Stream` adapter.

use alloc::{boxed::Box, sync::Arc};
use core::{
    fmt,
    future::Future,
    pin::{pin, Pin},
    task::{Context, Poll},
    time::Duration,
};

use futures_core::{FusedStream, Stream};
use futures_util::future::{select, Either};
use pin_project_lite::pin_project;

use crate::{
    loom::sync::atomic::{AtomicBool, AtomicUsize, Ordering},
    rt::{JoinHandle, Spawn, Timer},
    sync::Notify,
    time::Instant,
    waitq::lock::Lock,
};

/// Why a debouncer or throttler could not be started.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DebounceConfigError {
    /// [`DebounceConfig::max_wait`] was below the delay.
    MaxWaitBelowDelay {
        /// The delay given.
        delay: Duration,
        /// The maximum wait given.
        max_wait: Duration,
    },
    /// A throttle `period` of zero.
    ZeroPeriod,
    /// A throttle with neither a leading nor a trailing edge would never run.
    NoEdge,
}

impl fmt::Display for DebounceConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DebounceConfigError::MaxWaitBelowDelay { delay, max_wait } => write!(
                f,
                "debounce `max_wait` ({max_wait:?}) must not be below `delay` ({delay:?})"
            ),
            DebounceConfigError::ZeroPeriod => f.write_str("throttle `period` must be non-zero"),
            DebounceConfigError::NoEdge => {
                f.write_str("throttle needs a `leading` or a `trailing` edge")
            }
        }
    }
}

impl core::error::Error for DebounceConfigError {}

/// A failed run of a debounced or throttled action, given to the error
/// hook. The debouncer keeps working after it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum ActionError<E> {
    /// The action returned this error.
    Failed(E),
    /// The action panicked.
    Panicked,
}

impl<E: fmt::Display> fmt::Display for ActionError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ActionError::Failed(e) => write!(f, "the action failed: {e}"),
            ActionError::Panicked => f.write_str("the action panicked"),
        }
    }
}

impl<E: core::error::Error + 'static> core::error::Error for ActionError<E> {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        match self {
            ActionError::Failed(e) => Some(e),
            ActionError::Panicked => None,
        }
    }
}

/// Counters of a [`TriggerHandle`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct TriggerStatistics {
    /// Calls of [`TriggerHandle::trigger`].
    pub triggers: u64,
    /// Runs of the action that have finished.
    pub runs: u64,
    /// Runs that failed or panicked.
    pub failures: u64,
}

/// A trailing-edge debounce: the action runs once the triggers have been
/// quiet for `delay`.
///
/// * [`leading(true)`](Self::leading): also run at once on the first
///   trigger of a burst (and at the end only if it was triggered again).
/// * [`max_wait(d)`](Self::max_wait): during a burst that never goes
///   quiet, run anyway `d` after the burst began.
///
/// A trigger never cancels a running action: triggers during a run start
/// the next burst, which runs after it. A run that fails or panics is
/// reported to the error hook, and the debouncer keeps working.
///
/// # Examples
/// ```
/// use std::{sync::{Arc, atomic::{AtomicU32, Ordering}}, time::Duration};
/// use anysync::{rt::virtual_time::VirtualTime, time::DebounceConfig};
///
/// VirtualTime::new().block_on(|rt| async move {
///     let runs = Arc::new(AtomicU32::new(0));
///     let counter = runs.clone();
///     let save = DebounceConfig::new(Duration::from_millis(100))
///         .spawn(&rt, move || {
///             counter.fetch_add(1, Ordering::SeqCst);
///             async { Ok::<_, ()>(()) }
///         }, |_| {})
///         .unwrap();
///     for _ in 0..10 {
///         save.trigger();
///         rt.sleep(Duration::from_millis(5)).await;
///     }
///     rt.sleep(Duration::from_millis(200)).await;
///     assert_eq!(runs.load(Ordering::SeqCst), 1); // ten triggers, one run
/// });
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct DebounceConfig {
    delay: Duration,
    leading: bool,
    max_wait: Option<Duration>,
}

impl DebounceConfig {
    /// Runs the action once triggers have been quiet for `delay` (zero is
    /// allowed: the triggers that arrive while a run is in progress
    /// collapse into one run after it).
    pub fn new(delay: Duration) -> Self {
        DebounceConfig {
            delay,
            leading: false,
            max_wait: None,
        }
    }

    /// Also runs at once on the first trigger of a burst.
    pub fn leading(mut self, leading: bool) -> Self {
        self.leading = leading;
        self
    }

    /// Runs at the latest `max_wait` after a burst began, even if the
    /// triggers never go quiet. Below the delay is rejected by
    /// [`spawn`](Self::spawn).
    pub fn max_wait(mut self, max_wait: Duration) -> Self {
        self.max_wait = Some(max_wait);
        self
    }

    /// Starts the debouncer: `action` runs on a task spawned on `rt`, and
    /// `on_error` hears of every failed run. The task stops when the handle
    /// is dropped.
    ///
    /// # Errors
    /// [`DebounceConfigError::MaxWaitBelowDelay`].
    pub fn spawn<R, F, Fut, E, H>(
        self,
        rt: &R,
        action: F,
        on_error: H,
    ) -> Result<TriggerHandle, DebounceConfigError>
    where
        R: Timer + Spawn,
        F: FnMut() -> Fut + Send + 'static,
        Fut: Future<Output = Result<(), E>> + Send + 'static,
        E: Send + 'static,
        H: FnMut(ActionError<E>) + Send + 'static,
    {
        if let Some(max_wait) = self.max_wait {
            if max_wait < self.delay {
                return Err(DebounceConfigError::MaxWaitBelowDelay {
                    delay: self.delay,
                    max_wait,
                });
            }
        }
        let shared = Arc::new(Shared::default());
        let runner = Runner {
            shared: shared.clone(),
            action,
            on_error,
        };
        let task = rt.spawn(debounce_task(self, rt.clone(), runner));
        Ok(TriggerHandle::new(shared, task))
    }
}

/// A throttle: the action runs at most once per `period`.
///
/// With the leading edge (on by default) a trigger when idle runs at once
/// and opens a window of `period`; with the trailing edge (on by default)
/// triggers during the window run once more at its end, which opens the
/// next window. With only the leading edge, triggers during the window are
/// dropped; with only the trailing edge, the first trigger opens the
/// window and the run happens at its end.
///
/// As with [`DebounceConfig`], a trigger never cancels a running action,
/// and failures go to the error hook without stopping the throttle.
///
/// # Examples
/// ```
/// use std::{sync::{Arc, atomic::{AtomicU32, Ordering}}, time::Duration};
/// use anysync::{rt::virtual_time::VirtualTime, time::ThrottleConfig};
///
/// VirtualTime::new().block_on(|rt| async move {
///     let runs = Arc::new(AtomicU32::new(0));
///     let counter = runs.clone();
///     let refresh = ThrottleConfig::new(Duration::from_millis(100))
///         .spawn(&rt, move || {
///             counter.fetch_add(1, Ordering::SeqCst);
///             async { Ok::<_, ()>(()) }
///         }, |_| {})
///         .unwrap();
///     for _ in 0..10 {
///         refresh.trigger();
///         rt.sleep(Duration::from_millis(5)).await;
///     }
///     rt.sleep(Duration::from_millis(300)).await;
///     assert_eq!(runs.load(Ordering::SeqCst), 2); // the leading and the trailing edge
/// });
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ThrottleConfig {
    period: Duration,
    leading: bool,
    trailing: bool,
}

impl ThrottleConfig {
    /// At most one run per `period` (zero is rejected by
    /// [`spawn`](Self::spawn)), on both edges.
    pub fn new(period: Duration) -> Self {
        ThrottleConfig {
            period,
            leading: true,
            trailing: true,
        }
    }

    /// Whether a trigger when idle runs at once (default `true`).
    pub fn leading(mut self, leading: bool) -> Self {
        self.leading = leading;
        self
    }

    /// Whether triggers during a window run once at its end (default
    /// `true`).
    pub fn trailing(mut self, trailing: bool) -> Self {
        self.trailing = trailing;
        self
    }

    /// Starts the throttle: `action` runs on a task spawned on `rt`, and
    /// `on_error` hears of every failed run. The task stops when the handle
    /// is dropped.
    ///
    /// # Errors
    /// [`DebounceConfigError::ZeroPeriod`] or
    /// [`DebounceConfigError::NoEdge`].
    pub fn spawn<R, F, Fut, E, H>(
        self,
        rt: &R,
        action: F,
        on_error: H,
    ) -> Result<TriggerHandle, DebounceConfigError>
    where
        R: Timer + Spawn,
        F: FnMut() -> Fut + Send + 'static,
        Fut: Future<Output = Result<(), E>> + Send + 'static,
        E: Send + 'static,
        H: FnMut(ActionError<E>) + Send + 'static,
    {
        if self.period.is_zero() {
            return Err(DebounceConfigError::ZeroPeriod);
        }
        if !self.leading && !self.trailing {
            return Err(DebounceConfigError::NoEdge);
        }
        let shared = Arc::new(Shared::default());
        let runner = Runner {
            shared: shared.clone(),
            action,
            on_error,
        };
        let task = rt.spawn(throttle_task(self, rt.clone(), runner));
        Ok(TriggerHandle::new(shared, task))
    }
}

impl Shared {
    fn triggers(&self) -> usize {
        self.triggers.load(Ordering::Acquire)
    }

    /// Waits for a trigger after `seen`.
    async fn next_trigger(&self, seen: usize) {
        while self.triggers() == seen {
            self.wake.notified().await;
        }
    }
}

#[derive(Default)]
struct Shared {
    /// Bumped by every trigger; the task compares it with what it has seen.
    triggers: AtomicUsize,
    runs: AtomicUsize,
    failures: AtomicUsize,
    wake: Notify,
    running: AtomicBool,
}

/// The handle of a debouncer or throttler: [`trigger`](Self::trigger) it;
/// drop it to stop the background task (a run in progress is dropped).
pub struct TriggerHandle {
    shared: Arc<Shared>,
    stop: Option<Box<dyn FnOnce() + Send + Sync>>,
}

impl TriggerHandle {
    fn new<H: JoinHandle<()>>(shared: Arc<Shared>, task: H) -> Self {
        // In a lock only so that the stop function is `Sync`.
        let task = Lock::new(task);
        TriggerHandle {
            shared,
            stop: Some(Box::new(move || task.lock().abort())),
        }
    }

    /// Signals that the action should run (when, the configuration says).
    /// Never waits.
    pub fn trigger(&self) {
        self.shared.triggers.fetch_add(1, Ordering::AcqRel);
        self.shared.wake.notify_one();
    }

    /// `true` while the action is running.
    pub fn is_running(&self) -> bool {
        self.shared.running.load(Ordering::Acquire)
    }

    /// Counters so far.
    pub fn statistics(&self) -> TriggerStatistics {
        TriggerStatistics {
            triggers: self.shared.triggers.load(Ordering::Acquire) as u64,
            runs: self.shared.runs.load(Ordering::Acquire) as u64,
            failures: self.shared.failures.load(Ordering::Acquire) as u64,
        }
    }
}

impl Drop for TriggerHandle {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            stop();
        }
    }
}

impl fmt::Debug for TriggerHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TriggerHandle")
            .field("statistics", &self.statistics())
            .field("running", &self.is_running())
            .finish()
    }
}

struct Runner<F, H> {
    shared: Arc<Shared>,
    action: F,
    on_error: H,
}

impl<F, Fut, E, H> Runner<F, H>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<(), E>>,
    H: FnMut(ActionError<E>),
{
    /// Triggers seen so far.
    fn triggers(&self) -> usize {
        self.shared.triggers()
    }

    /// Runs the action once, catching a panic and reporting failures.
    async fn run(&mut self) {
        self.shared.running.store(true, Ordering::Release);
        #[cfg(feature = "std")]
        let out =
            futures_util::FutureExt::catch_unwind(core::panic::AssertUnwindSafe((self.action)()))
                .await;
        // Without `std` a panic cannot be caught (and usually aborts).
        #[cfg(not(feature = "std"))]
        let out = Ok::<_, ()>((self.action)().await);
        self.shared.running.store(false, Ordering::Release);
        let failure = match out {
            Ok(Ok(())) => None,
            Ok(Err(e)) => Some(ActionError::Failed(e)),
            Err(_) => Some(ActionError::Panicked),
        };
        if let Some(failure) = failure {
            self.shared.failures.fetch_add(1, Ordering::AcqRel);
            (self.on_error)(failure);
        }
        self.shared.runs.fetch_add(1, Ordering::AcqRel);
    }
}

/// Sleeps until `deadline` unless a trigger after `seen` comes first;
/// `true` if the sleep ended.
async fn quiet_until<T: Timer>(timer: &T, shared: &Shared, deadline: Instant, seen: usize) -> bool {
    let sleep = pin!(timer.sleep_until(deadline));
    let trigger = pin!(shared.next_trigger(seen));
    matches!(select(sleep, trigger).await, Either::Left(_))
}

async fn debounce_task<T: Timer, F, Fut, E, H>(
    config: DebounceConfig,
    timer: T,
    mut runner: Runner<F, H>,
) where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<(), E>>,
    H: FnMut(ActionError<E>),
{
    let mut seen = 0;
    loop {
        runner.shared.clone().next_trigger(seen).await;
        let start = timer.now();
        let mut last = start;
        seen = runner.triggers();
        // Whether a trigger is still to be served by a trailing run.
        let mut owed = true;
        if config.leading {
            runner.run().await;
            owed = false;
        }
        loop {
            let mut deadline = last.saturating_add(config.delay);
            if let Some(max_wait) = config.max_wait {
                deadline = deadline.min(start.saturating_add(max_wait));
            }
            if quiet_until(&timer, &runner.shared.clone(), deadline, seen).await {
                break;
            }
            seen = runner.triggers();
            last = timer.now();
            owed = true;
        }
        if owed {
            runner.run().await;
        }
    }
}

async fn throttle_task<T: Timer, F, Fut, E, H>(
    config: ThrottleConfig,
    timer: T,
    mut runner: Runner<F, H>,
) where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<(), E>>,
    H: FnMut(ActionError<E>),
{
    let mut seen = 0;
    loop {
        runner.shared.clone().next_trigger(seen).await;
        let mut window = timer.now();
        seen = runner.triggers();
        let mut owed = !config.leading;
        if config.leading {
            runner.run().await;
        }
        loop {
            timer
                .sleep_until(window.saturating_add(config.period))
                .await;
            let now_seen = runner.triggers();
            owed |= now_seen != seen;
            seen = now_seen;
            if !(config.trailing && owed) {
                break; // triggers during a leading-only window are dropped
            }
            window = timer.now();
            owed = false;
            runner.run().await;
        }
    }
}

/// Debounces a stream: yields an item only once `delay` has passed with no
/// newer item, and then only the newest. When `stream` ends, the pending
/// item (if any) is yielded at once, then the stream ends.
///
/// # Examples
/// ```
/// use std::time::Duration;
/// use futures_util::{stream, StreamExt};
/// use anysync::{rt::virtual_time::VirtualTime, time::debounce_stream};
///
/// VirtualTime::new().block_on(|rt| async move {
///     let items = stream::iter([1, 2, 3]);
///     let out: Vec<_> = debounce_stream(items, rt, Duration::from_millis(10)).collect().await;
///     assert_eq!(out, [3]);
/// });
/// ```
pub fn debounce_stream<S: Stream, T: Timer>(
    stream: S,
    timer: T,
    delay: Duration,
) -> DebounceStream<S, T> {
    DebounceStream {
        stream,
        timer,
        delay,
        pending: None,
        sleep: None,
        done: false,
    }
}

pin_project!(
    /// The stream returned by [`debounce_stream`].
    #[must_use = "streams do nothing unless polled"]
    pub struct DebounceStream<S: Stream, T: Timer> {
        #[pin]
        stream: S,
        timer: T,
        delay: Duration,
        pending: Option<S::Item>,
        sleep: Option<Pin<Box<T::Sleep>>>,
        done: bool,
    }
);

impl<S: Stream, T: Timer> Stream for DebounceStream<S, T> {
    type Item = S::Item;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<S::Item>> {
        let mut this = self.project();
        if *this.done {
            return Poll::Ready(None);
        }
        loop {
            match this.stream.as_mut().poll_next(cx) {
                Poll::Ready(Some(item)) => {
                    *this.pending = Some(item);
                    *this.sleep = Some(Box::pin(this.timer.sleep(*this.delay)));
                }
                Poll::Ready(None) => {
                    *this.done = true;
                    *this.sleep = None;
                    return Poll::Ready(this.pending.take());
                }
                Poll::Pending => break,
            }
        }
        if let Some(sleep) = this.sleep.as_mut() {
            if sleep.as_mut().poll(cx).is_ready() {
                *this.sleep = None;
                return Poll::Ready(this.pending.take());
            }
        }
        Poll::Pending
    }
}

impl<S: Stream, T: Timer> FusedStream for DebounceStream<S, T> {
    fn is_terminated(&self) -> bool {
        self.done
    }
}

impl<S: Stream, T: Timer> fmt::Debug for DebounceStream<S, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DebounceStream")
            .field("delay", &self.delay)
            .field("pending", &self.pending.is_some())
            .field("done", &self.done)
            .finish()
    }
}

/// Throttles a stream: yields an item, then for `period` drops the items
/// that follow, except (with `trailing`) the newest of them, which is
/// yielded when the period ends and starts a new one.
///
/// # Panics
/// If `period` is zero: "throttle_stream: `period` must be non-zero".
///
/// # Examples
/// ```
/// use std::time::Duration;
/// use futures_util::{stream, StreamExt};
/// use anysync::{rt::virtual_time::VirtualTime, time::throttle_stream};
///
/// VirtualTime::new().block_on(|rt| async move {
///     let items = stream::iter([1, 2, 3]);
///     let out: Vec<_> = throttle_stream(items, rt, Duration::from_millis(10), true).collect().await;
///     assert_eq!(out, [1, 3]);
/// });
/// ```
#[track_caller]
pub fn throttle_stream<S: Stream, T: Timer>(
    stream: S,
    timer: T,
    period: Duration,
    trailing: bool,
) -> ThrottleStream<S, T> {
    assert!(
        !period.is_zero(),
        "throttle_stream: `period` must be non-zero"
    );
    ThrottleStream {
        stream,
        timer,
        period,
        trailing,
        pending: None,
        window: None,
        done: false,
    }
}

pin_project!(
    /// The stream returned by [`throttle_stream`].
    #[must_use = "streams do nothing unless polled"]
    pub struct ThrottleStream<S: Stream, T: Timer> {
        #[pin]
        stream: S,
        timer: T,
        period: Duration,
        trailing: bool,
        pending: Option<S::Item>,
        window: Option<Pin<Box<T::Sleep>>>,
        done: bool,
    }
);

impl<S: Stream, T: Timer> Stream for ThrottleStream<S, T> {
    type Item = S::Item;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<S::Item>> {
        let mut this = self.project();
        loop {
            if !*this.done {
                match this.stream.as_mut().poll_next(cx) {
                    Poll::Ready(Some(item)) => {
                        if this.window.is_none() {
                            *this.window = Some(Box::pin(this.timer.sleep(*this.period)));
                            return Poll::Ready(Some(item));
                        }
                        if *this.trailing {
                            *this.pending = Some(item);
                        }
                        continue;
                    }
                    Poll::Ready(None) => *this.done = true,
                    Poll::Pending => {}
                }
            }
            if *this.done && this.pending.is_none() {
                *this.window = None;
                return Poll::Ready(None);
            }
            let Some(window) = this.window.as_mut() else {
                return Poll::Pending;
            };
            if window.as_mut().poll(cx).is_pending() {
                return Poll::Pending;
            }
            *this.window = None;
            if let Some(item) = this.pending.take() {
                *this.window = Some(Box::pin(this.timer.sleep(*this.period)));
                return Poll::Ready(Some(item));
            }
        }
    }
}

impl<S: Stream, T: Timer> FusedStream for ThrottleStream<S, T> {
    fn is_terminated(&self) -> bool {
        self.done && self.pending.is_none() && self.window.is_none()
    }
}

impl<S: Stream, T: Timer> fmt::Debug for ThrottleStream<S, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ThrottleStream")
            .field("period", &self.period)
            .field("trailing", &self.trailing)
            .field("pending", &self.pending.is_some())
            .field("done", &self.done)
            .finish()
    }
}

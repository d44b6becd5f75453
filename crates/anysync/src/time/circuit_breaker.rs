//! `CircuitBreaker`: stop calling an operation that keeps failing, and
//! probe carefully before trusting it again.

use alloc::collections::VecDeque;
use core::{
    fmt,
    future::Future,
    marker::PhantomData,
    pin::Pin,
    task::{Context, Poll},
    time::Duration,
};

use futures_core::{FusedFuture, TryFuture};
use pin_project_lite::pin_project;

use crate::{
    channel::watch,
    rt::Timer,
    time::Instant,
    waitq::lock::{Guard, Lock},
};

/// The state of a [`CircuitBreaker`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CircuitState {
    /// Calls go through; failures are counted.
    Closed,
    /// Calls are rejected at once, until the cool-down ends.
    Open,
    /// A limited number of probe calls go through; the rest are rejected.
    HalfOpen,
}

/// Why a [`CircuitBreaker`] could not be built.
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub enum BreakerConfigError {
    /// `consecutive_failures(0)`: the breaker would be open forever.
    ZeroThreshold,
    /// `failure_rate`'s `rate` was not within `(0, 1]` (NaN included).
    InvalidRate {
        /// The rate given.
        rate: f64,
    },
    /// `failure_rate`'s `window` was 0, or its `min_calls` was 0 or larger
    /// than `window` (so the rate could never be judged).
    InvalidWindow {
        /// The window given, in calls.
        window: u32,
        /// The minimum number of calls given.
        min_calls: u32,
    },
    /// `half_open_probes(0)`: the breaker would be stuck half-open.
    ZeroProbes,
    /// `close_after(0)`: the breaker would close without any evidence.
    ZeroSuccesses,
}

impl fmt::Display for BreakerConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BreakerConfigError::ZeroThreshold => {
                f.write_str("circuit breaker `consecutive_failures` must be at least 1")
            }
            BreakerConfigError::InvalidRate { rate } => write!(
                f,
                "circuit breaker failure `rate` must be within (0, 1], got {rate}"
            ),
            BreakerConfigError::InvalidWindow { window, min_calls } => write!(
                f,
                "circuit breaker needs 1 <= `min_calls` <= `window`, got min_calls {min_calls}, window {window}"
            ),
            BreakerConfigError::ZeroProbes => {
                f.write_str("circuit breaker `half_open_probes` must be at least 1")
            }
            BreakerConfigError::ZeroSuccesses => {
                f.write_str("circuit breaker `close_after` must be at least 1")
            }
        }
    }
}

impl core::error::Error for BreakerConfigError {}

/// A call the breaker refused, without calling the operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Rejected {
    state: CircuitState,
    retry_after: Duration,
}

impl Rejected {
    /// The state that refused the call: [`CircuitState::Open`], or
    /// [`CircuitState::HalfOpen`] with every probe slot taken.
    pub fn state(&self) -> CircuitState {
        self.state
    }

    /// How long until the cool-down ends (zero when half-open).
    pub fn retry_after(&self) -> Duration {
        self.retry_after
    }
}

impl fmt::Display for Rejected {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.state {
            CircuitState::HalfOpen => f.write_str("circuit half-open: every probe slot is taken"),
            _ => write!(f, "circuit open: retry after {:?}", self.retry_after),
        }
    }
}

impl core::error::Error for Rejected {}

/// The error of [`CircuitBreaker::call`].
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum CallError<E> {
    /// The breaker refused the call; the operation was not called.
    Rejected(Rejected),
    /// The operation ran and failed with this error.
    Inner(E),
}

impl<E: fmt::Display> fmt::Display for CallError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CallError::Rejected(r) => r.fmt(f),
            CallError::Inner(e) => e.fmt(f),
        }
    }
}

impl<E: core::error::Error + 'static> core::error::Error for CallError<E> {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        match self {
            CallError::Rejected(r) => Some(r),
            CallError::Inner(e) => Some(e),
        }
    }
}

/// Counters of a [`CircuitBreaker`], from [`CircuitBreaker::statistics`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct BreakerStatistics {
    /// Calls admitted (probes included).
    pub admitted: u64,
    /// Calls rejected without running.
    pub rejected: u64,
    /// Admitted calls that reported success.
    pub successes: u64,
    /// Admitted calls that reported failure (panics included).
    pub failures: u64,
    /// Admitted calls dropped before reporting (cancelled).
    pub abandoned: u64,
    /// Transitions into [`CircuitState::Open`].
    pub opened: u64,
    /// Transitions into [`CircuitState::HalfOpen`].
    pub half_opened: u64,
    /// Transitions into [`CircuitState::Closed`] (from half-open).
    pub closed: u64,
    /// Probes running now.
    pub probes_in_flight: u32,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Threshold {
    Consecutive(u32),
    Rate {
        rate: f64,
        window: u32,
        min_calls: u32,
    },
}

/// Configures a [`CircuitBreaker`]; made by [`CircuitBreaker::builder`].
///
/// Defaults: open after 5 consecutive failures, a cool-down of 30 s, one
/// half-open probe at a time, closed again after 1 successful probe.
#[derive(Clone, Copy, Debug)]
pub struct CircuitBreakerBuilder {
    threshold: Threshold,
    cooldown: Duration,
    probes: u32,
    close_after: u32,
}

impl CircuitBreakerBuilder {
    /// Opens after `n` failures in a row (a success resets the count).
    /// Zero is rejected by [`build`](Self::build).
    pub fn consecutive_failures(mut self, n: u32) -> Self {
        self.threshold = Threshold::Consecutive(n);
        self
    }

    /// Opens when, over the last `window` calls and once at least
    /// `min_calls` of them have been seen, the share of failures is at
    /// least `rate`. The window counts calls, not time; it is cleared when
    /// the breaker closes again. Bad values are rejected by
    /// [`build`](Self::build).
    pub fn failure_rate(mut self, rate: f64, window: u32, min_calls: u32) -> Self {
        self.threshold = Threshold::Rate {
            rate,
            window,
            min_calls,
        };
        self
    }

    /// How long the breaker stays open before it admits probes. Zero is
    /// allowed: the next call after opening is a probe. The boundary is
    /// inclusive: a call at exactly `opened + cooldown` is admitted.
    pub fn cooldown(mut self, cooldown: Duration) -> Self {
        self.cooldown = cooldown;
        self
    }

    /// How many probes may run at once while half-open (`k`). Zero is
    /// rejected by [`build`](Self::build).
    pub fn half_open_probes(mut self, k: u32) -> Self {
        self.probes = k;
        self
    }

    /// How many successful probes close the breaker again (`m`). Zero is
    /// rejected by [`build`](Self::build).
    pub fn close_after(mut self, m: u32) -> Self {
        self.close_after = m;
        self
    }

    /// Builds the breaker, closed, on `timer`'s clock.
    ///
    /// # Errors
    /// A [`BreakerConfigError`] naming the bad setting.
    pub fn build<T: Timer>(self, timer: T) -> Result<CircuitBreaker<T>, BreakerConfigError> {
        match self.threshold {
            Threshold::Consecutive(0) => return Err(BreakerConfigError::ZeroThreshold),
            Threshold::Rate {
                rate,
                window,
                min_calls,
            } => {
                if !(rate > 0.0 && rate <= 1.0) {
                    return Err(BreakerConfigError::InvalidRate { rate });
                }
                if window == 0 || min_calls == 0 || min_calls > window {
                    return Err(BreakerConfigError::InvalidWindow { window, min_calls });
                }
            }
            Threshold::Consecutive(_) => {}
        }
        if self.probes == 0 {
            return Err(BreakerConfigError::ZeroProbes);
        }
        if self.close_after == 0 {
            return Err(BreakerConfigError::ZeroSuccesses);
        }
        Ok(CircuitBreaker {
            timer,
            config: self,
            core: Lock::new(Core {
                phase: Phase::Closed,
                generation: 0,
                consecutive: 0,
                window: VecDeque::new(),
                window_failures: 0,
                stats: BreakerStatistics::default(),
            }),
            watch: watch::Sender::new(CircuitState::Closed),
        })
    }
}

/// A circuit breaker: after too many failures it *opens* and rejects calls
/// at once, without running them; after a cool-down it lets a few probe
/// calls through (*half-open*), and closes again once enough of them
/// succeed.
///
/// * **Closed → Open**: after `n` consecutive failures, or a failure rate
///   over a window of calls (see the [builder](CircuitBreakerBuilder)).
/// * **Open**: every call is [`Rejected`] at once; the operation is never
///   called.
/// * **Open → Half-open**: once the cool-down has passed (inclusive), on
///   the next use of the breaker ([`call`](Self::call),
///   [`try_acquire`](Self::try_acquire) or [`state`](Self::state)).
/// * **Half-open**: exactly `k` probes may run at once; the others are
///   rejected. `m` successful probes close the breaker; one failed probe
///   reopens it for another cool-down.
/// * A probe that is dropped before it reports (cancelled) frees its slot
///   and counts as nothing; one dropped while its task panics counts as a
///   failure. Outcomes of calls admitted before the last state change are
///   counted in the statistics but do not move the state.
///
/// What counts as a failure: every `Err` by default, or what
/// [`Call::failure_if`] says. State changes are published on a
/// [`watch`] channel ([`subscribe`](Self::subscribe)); the receiver sees
/// the latest state (quick successive changes may be seen only as the
/// last one).
///
/// For calls that are not a single future, take a [`BreakerPermit`] with
/// [`try_acquire`](Self::try_acquire) and report through it.
///
/// # Examples
/// ```
/// use std::time::Duration;
/// use anysync::{rt::virtual_time::VirtualTime, time::{CallError, CircuitBreaker, CircuitState}};
///
/// VirtualTime::new().block_on(|rt| async move {
///     let breaker = CircuitBreaker::builder()
///         .consecutive_failures(2)
///         .cooldown(Duration::from_secs(1))
///         .build(rt.clone())
///         .unwrap();
///     for _ in 0..2 {
///         let _ = breaker.call(|| async { Err::<(), _>("down") }).await;
///     }
///     assert_eq!(breaker.state(), CircuitState::Open);
///     let out = breaker.call(|| async { Ok::<_, ()>(1) }).await;
///     assert!(matches!(out, Err(CallError::Rejected(_)))); // not called
///
///     rt.sleep(Duration::from_secs(1)).await;
///     assert_eq!(breaker.call(|| async { Ok::<_, ()>(1) }).await, Ok(1)); // the probe
///     assert_eq!(breaker.state(), CircuitState::Closed);
/// });
/// ```
///
/// # Implementation notes
///
/// One `std` mutex guards the state; it is never held across an await or
/// while publishing to the watch channel. Every state change bumps a
/// generation number that permits carry, so a late report from an earlier
/// phase cannot close or reopen the breaker. Publishing re-reads the state
/// inside the channel's compare-and-store loop, so the channel always ends
/// on the latest state whatever order racing publishers run in.
pub struct CircuitBreaker<T> {
    timer: T,
    config: CircuitBreakerBuilder,
    core: Lock<Core>,
    watch: watch::Sender<CircuitState>,
}

struct Core {
    phase: Phase,
    generation: u64,
    consecutive: u32,
    /// Outcomes of the last calls (`true` = failure), for the rate threshold.
    window: VecDeque<bool>,
    window_failures: u32,
    stats: BreakerStatistics,
}

#[derive(Clone, Copy, Debug)]
enum Phase {
    Closed,
    Open { until: Instant },
    HalfOpen { in_flight: u32, successes: u32 },
}

impl Phase {
    fn state(self) -> CircuitState {
        match self {
            Phase::Closed => CircuitState::Closed,
            Phase::Open { .. } => CircuitState::Open,
            Phase::HalfOpen { .. } => CircuitState::HalfOpen,
        }
    }
}

impl CircuitBreaker<()> {
    /// A builder with the defaults (see [`CircuitBreakerBuilder`]).
    pub fn builder() -> CircuitBreakerBuilder {
        CircuitBreakerBuilder {
            threshold: Threshold::Consecutive(5),
            cooldown: Duration::from_secs(30),
            probes: 1,
            close_after: 1,
        }
    }
}

impl<T: Timer> CircuitBreaker<T> {
    fn lock(&self) -> Guard<'_, Core> {
        self.core.lock()
    }

    /// Moves Open to HalfOpen if the cool-down has passed.
    fn refresh(&self, core: &mut Core) -> bool {
        if let Phase::Open { until } = core.phase {
            if self.timer.now() >= until {
                core.phase = Phase::HalfOpen {
                    in_flight: 0,
                    successes: 0,
                };
                core.generation += 1;
                core.stats.half_opened += 1;
                return true;
            }
        }
        false
    }

    /// Publishes the current state if it differs from the published one.
    fn publish(&self) {
        self.watch.send_if_modified(|published| {
            let now = self.lock().phase.state();
            let changed = *published != now;
            *published = now;
            changed
        });
    }

    /// The current state (noticing the end of a cool-down).
    pub fn state(&self) -> CircuitState {
        let (state, changed) = {
            let mut core = self.lock();
            let changed = self.refresh(&mut core);
            (core.phase.state(), changed)
        };
        if changed {
            self.publish();
        }
        state
    }

    /// A receiver of state changes (a [`watch`] channel).
    pub fn subscribe(&self) -> watch::Receiver<CircuitState> {
        self.watch.subscribe()
    }

    /// Counters and the current state's probe count.
    pub fn statistics(&self) -> BreakerStatistics {
        let core = self.lock();
        let mut stats = core.stats;
        stats.probes_in_flight = match core.phase {
            Phase::HalfOpen { in_flight, .. } => in_flight,
            _ => 0,
        };
        stats
    }

    /// Asks to make one call now. The permit reports the outcome with
    /// [`BreakerPermit::success`] or [`BreakerPermit::failure`]; dropping
    /// it without reporting abandons the call (a failure if the thread is
    /// panicking).
    ///
    /// # Errors
    /// [`Rejected`] when open, or half-open with every probe slot taken.
    pub fn try_acquire(&self) -> Result<BreakerPermit<'_, T>, Rejected> {
        let (result, changed) = {
            let mut core = self.lock();
            let changed = self.refresh(&mut core);
            let result = match &mut core.phase {
                Phase::Closed => Ok(false),
                Phase::Open { until } => Err(Rejected {
                    state: CircuitState::Open,
                    retry_after: until.saturating_duration_since(self.timer.now()),
                }),
                Phase::HalfOpen { in_flight, .. } => {
                    if *in_flight < self.config.probes {
                        *in_flight += 1;
                        Ok(true)
                    } else {
                        Err(Rejected {
                            state: CircuitState::HalfOpen,
                            retry_after: Duration::ZERO,
                        })
                    }
                }
            };
            match result {
                Ok(_) => core.stats.admitted += 1,
                Err(_) => core.stats.rejected += 1,
            }
            let generation = core.generation;
            (result.map(|probe| (probe, generation)), changed)
        };
        if changed {
            self.publish();
        }
        result.map(|(probe, generation)| BreakerPermit {
            breaker: self,
            generation,
            probe,
            reported: false,
        })
    }

    /// Runs `op` if the breaker admits it, and records the outcome: an
    /// `Err` is a failure unless [`Call::failure_if`] says otherwise. The
    /// admission is decided when the future is first polled.
    ///
    /// # Cancel safety
    /// This method is cancel safe: dropping the future before it completes has no effect.
    /// (A call dropped while running is abandoned: it frees its probe slot
    /// and counts as neither success nor failure.)
    ///
    /// # Errors
    /// [`CallError::Rejected`] without calling `op`, or
    /// [`CallError::Inner`] with `op`'s error.
    pub fn call<F, Fut>(&self, op: F) -> Call<'_, T, F, Fut, Fut::Error>
    where
        F: FnOnce() -> Fut,
        Fut: TryFuture,
    {
        Call {
            breaker: self,
            is_failure: |_| true,
            error: PhantomData,
            state: CallState::Start { op: Some(op) },
        }
    }

    fn report(&self, generation: u64, probe: bool, outcome: Outcome) {
        let changed = {
            let mut core = self.lock();
            let core = &mut *core;
            match outcome {
                Outcome::Success => core.stats.successes += 1,
                Outcome::Failure => core.stats.failures += 1,
                Outcome::Abandoned => core.stats.abandoned += 1,
            }
            if generation != core.generation {
                return; // admitted in an earlier phase: counted, no effect
            }
            let before = core.phase.state();
            match (&mut core.phase, probe) {
                (
                    Phase::HalfOpen {
                        in_flight,
                        successes,
                    },
                    true,
                ) => {
                    *in_flight -= 1;
                    match outcome {
                        Outcome::Success => {
                            *successes += 1;
                            if *successes >= self.config.close_after {
                                self.close(core);
                            }
                        }
                        Outcome::Failure => self.open(core),
                        Outcome::Abandoned => {}
                    }
                }
                (Phase::Closed, false) => {
                    if outcome != Outcome::Abandoned && self.record(core, outcome) {
                        self.open(core);
                    }
                }
                _ => debug_assert!(
                    false,
                    "a permit of the current generation outlived its phase"
                ),
            }
            before != core.phase.state()
        };
        if changed {
            self.publish();
        }
    }

    /// Records a closed-state outcome; `true` if the threshold is reached.
    fn record(&self, core: &mut Core, outcome: Outcome) -> bool {
        let failed = outcome == Outcome::Failure;
        match self.config.threshold {
            Threshold::Consecutive(n) => {
                core.consecutive = if failed { core.consecutive + 1 } else { 0 };
                core.consecutive >= n
            }
            Threshold::Rate {
                rate,
                window,
                min_calls,
            } => {
                core.window.push_back(failed);
                core.window_failures += u32::from(failed);
                if core.window.len() > window as usize {
                    let old = core.window.pop_front().unwrap_or(false);
                    core.window_failures -= u32::from(old);
                }
                core.window.len() >= min_calls as usize
                    && f64::from(core.window_failures) >= rate * core.window.len() as f64
            }
        }
    }

    fn open(&self, core: &mut Core) {
        core.phase = Phase::Open {
            until: self.timer.now().saturating_add(self.config.cooldown),
        };
        core.generation += 1;
        core.stats.opened += 1;
    }

    fn close(&self, core: &mut Core) {
        core.phase = Phase::Closed;
        core.generation += 1;
        core.stats.closed += 1;
        core.consecutive = 0;
        core.window.clear();
        core.window_failures = 0;
    }
}

impl<T: Timer> fmt::Debug for CircuitBreaker<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The lock is only ever held for a few field updates (and a
        // `Timer::now`), never across an await or user code that could
        // print the breaker, so taking it here does not block for long.
        let state = self.lock().phase.state();
        f.debug_struct("CircuitBreaker")
            .field("state", &state)
            .field("config", &self.config)
            .finish()
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Outcome {
    Success,
    Failure,
    Abandoned,
}

/// Permission to make one call through a [`CircuitBreaker`]; report how it
/// went with [`success`](Self::success) or [`failure`](Self::failure).
///
/// Dropped without a report, the call is abandoned: a probe slot is freed
/// and nothing is counted against the operation, unless the thread is
/// panicking, in which case it counts as a failure.
#[must_use = "report the outcome with `success()` or `failure()`"]
pub struct BreakerPermit<'a, T: Timer> {
    breaker: &'a CircuitBreaker<T>,
    generation: u64,
    probe: bool,
    reported: bool,
}

impl<T: Timer> BreakerPermit<'_, T> {
    /// `true` if this call is a half-open probe.
    pub fn is_probe(&self) -> bool {
        self.probe
    }

    /// Reports a success.
    pub fn success(mut self) {
        self.reported = true;
        self.breaker
            .report(self.generation, self.probe, Outcome::Success);
    }

    /// Reports a failure.
    pub fn failure(mut self) {
        self.reported = true;
        self.breaker
            .report(self.generation, self.probe, Outcome::Failure);
    }
}

impl<T: Timer> Drop for BreakerPermit<'_, T> {
    fn drop(&mut self) {
        if !self.reported {
            let outcome = if panicking() {
                Outcome::Failure
            } else {
                Outcome::Abandoned
            };
            self.breaker.report(self.generation, self.probe, outcome);
        }
    }
}

/// `true` while the thread unwinds from a panic. Without `std` there is
/// no way to ask; `no_std` targets usually abort on panic, and where they
/// unwind, a probe dropped by a panic counts as abandoned (its slot is
/// still freed).
fn panicking() -> bool {
    #[cfg(feature = "std")]
    return std::thread::panicking();
    #[cfg(not(feature = "std"))]
    false
}

impl<T: Timer> fmt::Debug for BreakerPermit<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BreakerPermit")
            .field("probe", &self.probe)
            .field("generation", &self.generation)
            .finish()
    }
}

pin_project!(
    /// Future returned by [`CircuitBreaker::call`].
    #[must_use = "futures do nothing unless you `.await` or poll them"]
    pub struct Call<'a, T, F, Fut, E, P = fn(&E) -> bool>
    where
        T: Timer,
    {
        breaker: &'a CircuitBreaker<T>,
        is_failure: P,
        error: PhantomData<fn(&E)>,
        #[pin]
        state: CallState<'a, T, F, Fut>,
    }
);

pin_project!(
    #[project = CallProj]
    enum CallState<'a, T, F, Fut>
    where
        T: Timer,
    {
        Start {
            op: Option<F>,
        },
        Running {
            #[pin]
            fut: Fut,
            permit: Option<BreakerPermit<'a, T>>,
        },
        Done,
    }
);

impl<'a, T: Timer, F, Fut, E, P> Call<'a, T, F, Fut, E, P> {
    /// Counts an `Err` as a failure only if `pred` returns `true`; other
    /// errors are returned to the caller but count as successes (the
    /// operation is healthy, the request was bad).
    ///
    /// # Cancel safety
    /// This method is cancel safe: dropping the future before it completes has no effect.
    /// (It only configures the call; see [`CircuitBreaker::call`].)
    pub fn failure_if<P2: FnMut(&E) -> bool>(self, pred: P2) -> Call<'a, T, F, Fut, E, P2> {
        Call {
            breaker: self.breaker,
            is_failure: pred,
            error: PhantomData,
            state: self.state,
        }
    }
}

impl<T, F, Fut, E, P> Future for Call<'_, T, F, Fut, E, P>
where
    T: Timer,
    F: FnOnce() -> Fut,
    Fut: TryFuture<Error = E>,
    P: FnMut(&E) -> bool,
{
    type Output = Result<Fut::Ok, CallError<E>>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        loop {
            match this.state.as_mut().project() {
                CallProj::Start { op } => {
                    let op = op.take().expect("`Call` polled after completion");
                    match this.breaker.try_acquire() {
                        Err(rejected) => {
                            this.state.set(CallState::Done);
                            return Poll::Ready(Err(CallError::Rejected(rejected)));
                        }
                        Ok(permit) => {
                            let fut = op();
                            this.state.set(CallState::Running {
                                fut,
                                permit: Some(permit),
                            });
                        }
                    }
                }
                CallProj::Running { fut, permit } => {
                    let out = match fut.try_poll(cx) {
                        Poll::Pending => return Poll::Pending,
                        Poll::Ready(out) => out,
                    };
                    let permit = permit.take().expect("reported once");
                    match &out {
                        Err(e) if (this.is_failure)(e) => permit.failure(),
                        _ => permit.success(),
                    }
                    this.state.set(CallState::Done);
                    return Poll::Ready(out.map_err(CallError::Inner));
                }
                CallProj::Done => panic!("`Call` polled after completion"),
            }
        }
    }
}

impl<T, F, Fut, E, P> FusedFuture for Call<'_, T, F, Fut, E, P>
where
    T: Timer,
    F: FnOnce() -> Fut,
    Fut: TryFuture<Error = E>,
    P: FnMut(&E) -> bool,
{
    fn is_terminated(&self) -> bool {
        matches!(self.state, CallState::Done)
    }
}

impl<T: Timer, F, Fut, E, P> fmt::Debug for Call<'_, T, F, Fut, E, P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match self.state {
            CallState::Start { .. } => "start",
            CallState::Running { .. } => "running",
            CallState::Done => "done",
        };
        f.debug_struct("Call").field("state", &state).finish()
    }
}

// Property tests: logic, not memory safety (this module has no unsafe), and
// far too slow under miri.
#[cfg(all(test, not(miri)))]
mod tests;

//! `retry`: run a fallible async operation again, with backoff, until it
//! succeeds or a limit is reached.

use core::{
    fmt,
    future::{Future, Pending},
    num::NonZeroU32,
    pin::Pin,
    task::{Context, Poll},
    time::Duration,
};

use futures_core::{FusedFuture, TryFuture};
use pin_project_lite::pin_project;

use crate::{
    rt::Timer,
    time::{Backoff, Instant},
};

/// The default attempt limit of a [`retry`]: three attempts in all.
pub const DEFAULT_ATTEMPTS: NonZeroU32 = match NonZeroU32::new(3) {
    Some(n) => n,
    None => unreachable!(),
};

/// Calls `op` until the future it returns succeeds, sleeping on `timer` as
/// `backoff` says between attempts.
///
/// The returned [`Retry`] future is configured before it is first polled:
///
/// * [`attempts(n)`](Retry::attempts): at most `n` attempts **in all**,
///   the first try included (default [`DEFAULT_ATTEMPTS`], 3). So
///   `attempts(3)` with 100 ms, 200 ms backoff calls `op` at 0, 100 and
///   300 ms.
/// * [`budget(d)`](Retry::budget): no retry is started if its delay would
///   end more than `d` after the first attempt began. (The budget bounds
///   the schedule, not an attempt in progress: wrap the operation in
///   [`timeout`](crate::time::timeout) for that.)
/// * [`retry_if(pred)`](Retry::retry_if): an error for which `pred` is
///   `false` stops at once.
/// * [`on_retry(hook)`](Retry::on_retry): called with the 1-based number of
///   the attempt that failed, its error and the delay before the next one,
///   just before sleeping.
/// * [`cancel_on(fut)`](Retry::cancel_on): stop as soon as `fut`
///   completes (for example a cancellation token's `cancelled()` future);
///   the attempt in progress, if any, is dropped.
///
/// The same is available as a method on the closure with [`RetryExt`].
///
/// # Cancel safety
/// This method is cancel safe: dropping the future before it completes has no effect.
/// (It drops the attempt in progress, if `op`'s future allows that, and no
/// further attempt starts.)
///
/// # Errors
/// A [`RetryError`] with the last error and the number of attempts made.
///
/// # Examples
/// ```
/// use std::{num::NonZeroU32, time::Duration};
/// use anysync::{rt::virtual_time::VirtualTime, time::{retry, Backoff}};
///
/// VirtualTime::new().block_on(|rt| async move {
///     let ms = Duration::from_millis;
///     let mut calls = 0;
///     let backoff = Backoff::exponential(ms(100), 2.0, ms(1000)).unwrap();
///     let out = retry(rt.clone(), backoff, || {
///         calls += 1;
///         let n = calls;
///         async move { if n < 3 { Err("not yet") } else { Ok(n) } }
///     })
///     .attempts(NonZeroU32::new(3).unwrap())
///     .await;
///     assert_eq!(out, Ok(3));
///     assert_eq!(rt.now().since_origin(), ms(300)); // 100 + 200 ms of backoff
/// });
/// ```
pub fn retry<T, F, Fut>(timer: T, backoff: Backoff, op: F) -> Retry<T, F, Fut, Fut::Error>
where
    T: Timer,
    F: FnMut() -> Fut,
    Fut: TryFuture,
{
    Retry {
        timer,
        op,
        backoff,
        max_attempts: None,
        budget: None,
        started: None,
        attempts: 0,
        retry_if: |_| true,
        on_retry: |_, _, _| {},
        cancel: core::future::pending(),
        state: State::Idle,
    }
}

/// [`retry`] as a method on the operation.
///
/// # Examples
/// ```
/// use std::time::Duration;
/// use anysync::{rt::virtual_time::VirtualTime, time::{Backoff, RetryExt}};
///
/// VirtualTime::new().block_on(|rt| async move {
///     let op = || async { Ok::<_, ()>(5) };
///     let out = op.retry(rt, Backoff::constant(Duration::from_millis(10))).await;
///     assert_eq!(out, Ok(5));
/// });
/// ```
pub trait RetryExt<Fut: TryFuture>: FnMut() -> Fut + Sized {
    /// Retries `self` as [`retry`]`(timer, backoff, self)` does.
    ///
    /// # Cancel safety
    /// This method is cancel safe: dropping the future before it completes has no effect.
    /// (It drops the attempt in progress, if any; no further attempt starts.)
    fn retry<T: Timer>(self, timer: T, backoff: Backoff) -> Retry<T, Self, Fut, Fut::Error> {
        retry(timer, backoff, self)
    }
}

impl<F, Fut> RetryExt<Fut> for F
where
    F: FnMut() -> Fut,
    Fut: TryFuture,
{
}

/// Why a [`retry`] gave up. Every variant carries the number of attempts
/// made (calls of the operation, the first included).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RetryError<E> {
    /// The attempt limit was reached; `error` is the last attempt's.
    Exhausted {
        /// The error of the last attempt.
        error: E,
        /// Attempts made.
        attempts: u32,
    },
    /// The next delay would have overrun the time budget.
    BudgetExhausted {
        /// The error of the last attempt.
        error: E,
        /// Attempts made.
        attempts: u32,
    },
    /// The retry predicate refused to retry this error.
    NotRetryable {
        /// The error that was not retried.
        error: E,
        /// Attempts made.
        attempts: u32,
    },
    /// The cancellation future completed. `error` is the last attempt's
    /// error if it was cancelled during a backoff sleep, `None` if it was
    /// cancelled during an attempt (which was dropped).
    Cancelled {
        /// The error of the last finished attempt, if any.
        error: Option<E>,
        /// Attempts started.
        attempts: u32,
    },
}

impl<E> RetryError<E> {
    /// Attempts made (or started, for [`RetryError::Cancelled`]).
    pub fn attempts(&self) -> u32 {
        match self {
            RetryError::Exhausted { attempts, .. }
            | RetryError::BudgetExhausted { attempts, .. }
            | RetryError::NotRetryable { attempts, .. }
            | RetryError::Cancelled { attempts, .. } => *attempts,
        }
    }

    /// The last attempt's error, if there is one.
    pub fn error(&self) -> Option<&E> {
        match self {
            RetryError::Exhausted { error, .. }
            | RetryError::BudgetExhausted { error, .. }
            | RetryError::NotRetryable { error, .. } => Some(error),
            RetryError::Cancelled { error, .. } => error.as_ref(),
        }
    }

    /// Takes the last attempt's error, if there is one.
    pub fn into_error(self) -> Option<E> {
        match self {
            RetryError::Exhausted { error, .. }
            | RetryError::BudgetExhausted { error, .. }
            | RetryError::NotRetryable { error, .. } => Some(error),
            RetryError::Cancelled { error, .. } => error,
        }
    }
}

impl<E: fmt::Display> fmt::Display for RetryError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.attempts();
        match self {
            RetryError::Exhausted { error, .. } => {
                write!(f, "gave up after {n} attempts: {error}")
            }
            RetryError::BudgetExhausted { error, .. } => {
                write!(f, "time budget exhausted after {n} attempts: {error}")
            }
            RetryError::NotRetryable { error, .. } => {
                write!(f, "error not retried (attempt {n}): {error}")
            }
            RetryError::Cancelled { error: Some(e), .. } => {
                write!(f, "cancelled after {n} attempts: {e}")
            }
            RetryError::Cancelled { error: None, .. } => {
                write!(f, "cancelled during attempt {n}")
            }
        }
    }
}

impl<E: core::error::Error + 'static> core::error::Error for RetryError<E> {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        self.error().map(|e| e as _)
    }
}

pin_project!(
    /// Future returned by [`retry`] and [`RetryExt::retry`]; configure it
    /// with its methods before awaiting it.
    #[must_use = "futures do nothing unless you `.await` or poll them"]
    pub struct Retry<T, F, Fut, E, P = fn(&E) -> bool, N = fn(u32, &E, Duration), C = Pending<()>>
    where
        T: Timer,
    {
        timer: T,
        op: F,
        backoff: Backoff,
        max_attempts: Option<NonZeroU32>,
        budget: Option<Duration>,
        started: Option<Instant>,
        attempts: u32,
        retry_if: P,
        on_retry: N,
        #[pin]
        cancel: C,
        #[pin]
        state: State<Fut, T::Sleep, E>,
    }
);

pin_project!(
    #[project = StateProj]
    #[project_replace = StateReplace]
    enum State<Fut, S, E> {
        Idle,
        Running {
            #[pin]
            attempt: Fut,
        },
        Sleeping {
            #[pin]
            sleep: S,
            error: E,
        },
        Done,
    }
);

impl<T: Timer, F, Fut, E, P, N, C> Retry<T, F, Fut, E, P, N, C> {
    /// At most `attempts` attempts in all, the first try included.
    ///
    /// # Cancel safety
    /// This method is cancel safe: dropping the future before it completes has no effect.
    /// (It only configures the retry; see [`retry`].)
    pub fn attempts(mut self, attempts: NonZeroU32) -> Self {
        self.max_attempts = Some(attempts);
        self
    }

    /// No retry whose delay would end more than `budget` after the first
    /// attempt began. Without an explicit [`attempts`](Self::attempts),
    /// the attempt limit is lifted, so the budget alone bounds the retries.
    ///
    /// # Cancel safety
    /// This method is cancel safe: dropping the future before it completes has no effect.
    /// (It only configures the retry; see [`retry`].)
    pub fn budget(mut self, budget: Duration) -> Self {
        self.budget = Some(budget);
        self
    }

    /// Retries only errors for which `pred` returns `true`; any other error
    /// is returned at once as [`RetryError::NotRetryable`].
    ///
    /// # Cancel safety
    /// This method is cancel safe: dropping the future before it completes has no effect.
    /// (It only configures the retry; see [`retry`].)
    pub fn retry_if<P2>(self, pred: P2) -> Retry<T, F, Fut, E, P2, N, C>
    where
        P2: FnMut(&E) -> bool,
    {
        Retry {
            timer: self.timer,
            op: self.op,
            backoff: self.backoff,
            max_attempts: self.max_attempts,
            budget: self.budget,
            started: self.started,
            attempts: self.attempts,
            retry_if: pred,
            on_retry: self.on_retry,
            cancel: self.cancel,
            state: self.state,
        }
    }

    /// Calls `hook(attempt, &error, delay)` before each backoff sleep:
    /// `attempt` is the 1-based number of the attempt that just failed.
    ///
    /// # Cancel safety
    /// This method is cancel safe: dropping the future before it completes has no effect.
    /// (It only configures the retry; see [`retry`].)
    pub fn on_retry<N2>(self, hook: N2) -> Retry<T, F, Fut, E, P, N2, C>
    where
        N2: FnMut(u32, &E, Duration),
    {
        Retry {
            timer: self.timer,
            op: self.op,
            backoff: self.backoff,
            max_attempts: self.max_attempts,
            budget: self.budget,
            started: self.started,
            attempts: self.attempts,
            retry_if: self.retry_if,
            on_retry: hook,
            cancel: self.cancel,
            state: self.state,
        }
    }

    /// Stops with [`RetryError::Cancelled`] as soon as `cancel` completes
    /// (its output is ignored). Any future that completes on cancellation
    /// works, such as a cancellation token's `cancelled()` or a oneshot
    /// receiver.
    ///
    /// # Cancel safety
    /// This method is cancel safe: dropping the future before it completes has no effect.
    /// (It only configures the retry; see [`retry`].)
    pub fn cancel_on<C2: Future>(self, cancel: C2) -> Retry<T, F, Fut, E, P, N, C2> {
        Retry {
            timer: self.timer,
            op: self.op,
            backoff: self.backoff,
            max_attempts: self.max_attempts,
            budget: self.budget,
            started: self.started,
            attempts: self.attempts,
            retry_if: self.retry_if,
            on_retry: self.on_retry,
            cancel,
            state: self.state,
        }
    }
}

impl<T, F, Fut, E, P, N, C> Future for Retry<T, F, Fut, E, P, N, C>
where
    T: Timer,
    F: FnMut() -> Fut,
    Fut: TryFuture<Error = E>,
    P: FnMut(&E) -> bool,
    N: FnMut(u32, &E, Duration),
    C: Future,
{
    type Output = Result<Fut::Ok, RetryError<E>>;

    // Inlined into the caller when it can be: an attempt that succeeds at
    // once then costs no call, and the output stays in registers instead
    // of being written to memory and read back.
    #[inline]
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.as_mut().project();
        if this.cancel.poll(cx).is_ready() {
            let error = match this.state.project_replace(State::Done) {
                StateReplace::Sleeping { error, .. } => Some(error),
                StateReplace::Done => panic!("`Retry` polled after completion"),
                _ => None,
            };
            return Poll::Ready(Err(RetryError::Cancelled {
                error,
                attempts: *this.attempts,
            }));
        }
        loop {
            let mut this = self.as_mut().project();
            match this.state.as_mut().project() {
                StateProj::Idle => {
                    // Only a budget needs the start time; skip the clock otherwise.
                    if this.budget.is_some() && this.started.is_none() {
                        *this.started = Some(read_clock(this.timer));
                    }
                    *this.attempts += 1;
                    let attempt = (this.op)();
                    this.state.set(State::Running { attempt });
                }
                StateProj::Running { attempt } => match attempt.try_poll(cx) {
                    Poll::Pending => return Poll::Pending,
                    Poll::Ready(Ok(value)) => {
                        this.state.set(State::Done);
                        return Poll::Ready(Ok(value));
                    }
                    Poll::Ready(Err(error)) => {
                        if let Err(stop) = self.as_mut().failed(error) {
                            return Poll::Ready(Err(stop));
                        }
                    }
                },
                StateProj::Sleeping { sleep, .. } => {
                    if sleep.poll(cx).is_pending() {
                        return Poll::Pending;
                    }
                    this.state.set(State::Idle);
                }
                StateProj::Done => panic!("`Retry` polled after completion"),
            }
        }
    }
}

impl<T, F, Fut, E, P, N, C> Retry<T, F, Fut, E, P, N, C>
where
    T: Timer,
    P: FnMut(&E) -> bool,
    N: FnMut(u32, &E, Duration),
{
    /// After a failed attempt: sets up the backoff sleep (`Ok`), or ends
    /// the retry with the reason to stop. Kept out of `poll`, so that the
    /// path of an attempt that succeeds stays small.
    #[inline(never)]
    fn failed(self: Pin<&mut Self>, error: E) -> Result<(), RetryError<E>> {
        let mut this = self.project();
        let attempts = *this.attempts;
        let stop = if !(this.retry_if)(&error) {
            RetryError::NotRetryable { error, attempts }
        } else if attempts >= max_attempts(*this.max_attempts, *this.budget) {
            RetryError::Exhausted { error, attempts }
        } else {
            let delay = this.backoff.next().unwrap_or(Duration::MAX);
            let over_budget = this.budget.is_some_and(|budget| {
                let started = this.started.unwrap_or(Instant::ORIGIN);
                let spent = this.timer.now().saturating_duration_since(started);
                spent.saturating_add(delay) > budget
            });
            if over_budget {
                RetryError::BudgetExhausted { error, attempts }
            } else {
                (this.on_retry)(attempts, &error, delay);
                let sleep = this.timer.sleep(delay);
                this.state.set(State::Sleeping { sleep, error });
                return Ok(());
            }
        };
        this.state.set(State::Done);
        Err(stop)
    }
}

/// `timer.now()`, out of line: only a retry with a budget reads the clock,
/// and keeping the call out of `poll` keeps that function small.
#[inline(never)]
fn read_clock<T: Timer>(timer: &T) -> Instant {
    timer.now()
}

/// The attempt limit: the one set, else unlimited under a budget, else the default.
fn max_attempts(set: Option<NonZeroU32>, budget: Option<Duration>) -> u32 {
    match (set, budget) {
        (Some(n), _) => n.get(),
        (None, Some(_)) => u32::MAX,
        (None, None) => DEFAULT_ATTEMPTS.get(),
    }
}

impl<T, F, Fut, E, P, N, C> FusedFuture for Retry<T, F, Fut, E, P, N, C>
where
    T: Timer,
    F: FnMut() -> Fut,
    Fut: TryFuture<Error = E>,
    P: FnMut(&E) -> bool,
    N: FnMut(u32, &E, Duration),
    C: Future,
{
    fn is_terminated(&self) -> bool {
        matches!(self.state, State::Done)
    }
}

impl<T: Timer, F, Fut, E, P, N, C> fmt::Debug for Retry<T, F, Fut, E, P, N, C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match self.state {
            State::Idle => "idle",
            State::Running { .. } => "running",
            State::Sleeping { .. } => "sleeping",
            State::Done => "done",
        };
        f.debug_struct("Retry")
            .field("attempts", &self.attempts)
            .field("max_attempts", &self.max_attempts)
            .field("budget", &self.budget)
            .field("backoff", &self.backoff)
            .field("state", &state)
            .finish()
    }
}

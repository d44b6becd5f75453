//! `Limits`: at most N at once and R per second, without holding a permit
//! while waiting for the rate.

use core::{
    fmt,
    future::Future,
    pin::Pin,
    task::{Context, Poll},
};

use futures_core::FusedFuture;
use pin_project_lite::pin_project;

use super::{
    rate_limit::{instant_at, limited_until, now_nanos},
    Quota, RateLimiter, TryAcquireError,
};
use crate::{
    rt::Timer,
    sync::{
        futures::{Acquire as SemAcquire, Lock},
        AcquireError, MutexGuard, Semaphore, SemaphorePermit,
    },
};

/// A concurrency limit and a rate limit together: at most `concurrency`
/// tasks inside at once, and at most the [`Quota`]'s rate of entries.
///
/// The usual recipe (take a semaphore permit, then wait for the rate
/// limiter) holds permits idle while it waits for the rate, so the section
/// is "full" with tasks doing nothing. `Limits` never holds a permit while
/// it waits for a rate slot:
///
/// 1. A task queues for the rate limiter (FIFO) and, at the head, sleeps
///    until a rate slot is due, holding no permit.
/// 2. Then it waits for a permit (FIFO), still first in line for the rate.
/// 3. With the permit, it takes the rate slot and enters (at the clock's
///    reading then, or at the one the slot was seen due at, if the clock
///    went backwards meanwhile).
///
/// So entries are spaced by the quota exactly (a slot is taken when the
/// task enters, not earlier), tasks enter in arrival order, and the burst
/// is the quota's, stated explicitly.
///
/// # Examples
/// ```
/// use std::num::NonZeroU32;
/// use anysync::{rt::virtual_time::VirtualTime, time::{Limits, Quota}};
///
/// VirtualTime::new().block_on(|rt| async move {
///     let limits = Limits::new(rt.clone(), 3, Quota::per_second(NonZeroU32::new(2).unwrap()));
///     let permit = limits.acquire().await.unwrap();
///     assert_eq!(limits.semaphore().available_permits(), 2);
///     drop(permit);
/// });
/// ```
pub struct Limits<T: Timer> {
    semaphore: Semaphore,
    rate: RateLimiter<T>,
}

impl<T: Timer> Limits<T> {
    /// At most `concurrency` at once and `quota` over time, on `timer`.
    ///
    /// # Panics
    /// If `concurrency` exceeds [`Semaphore::MAX_PERMITS`].
    #[track_caller]
    pub fn new(timer: T, concurrency: usize, quota: Quota) -> Self {
        Limits {
            semaphore: Semaphore::new(concurrency),
            rate: RateLimiter::new(timer, quota),
        }
    }

    /// The semaphore that bounds concurrency (to add permits or close it).
    pub fn semaphore(&self) -> &Semaphore {
        &self.semaphore
    }

    /// The rate limiter that bounds entries over time.
    pub fn rate_limiter(&self) -> &RateLimiter<T> {
        &self.rate
    }

    /// Waits for a rate slot and a permit, in that order, holding no permit
    /// while it waits for the rate. The permit is released when dropped.
    ///
    /// # Cancel safety
    /// This method is cancel safe. Dropping the future gives up its place in
    /// the queue; a wake-up it had already received is passed to the next
    /// waiter. No rate slot is taken and no permit kept until it completes.
    ///
    /// # Errors
    /// [`AcquireError::Closed`] if the semaphore is or becomes closed.
    pub fn acquire(&self) -> LimitsAcquire<'_, T> {
        LimitsAcquire {
            limits: self,
            phase: LimitsPhase::Locking {
                lock: self.rate.queue().lock(),
            },
        }
    }

    /// Enters at once if a rate slot and a permit are both free now and
    /// nobody is waiting for either.
    ///
    /// # Errors
    /// [`TryAcquireError::RateLimited`] or [`TryAcquireError::NoPermits`].
    pub fn try_acquire(&self) -> Result<SemaphorePermit<'_>, TryAcquireError> {
        let rate = &self.rate;
        let now = rate.unqueued_reading()?;
        let quota = rate.quota();
        rate.tat().check(&quota, now, 1).map_err(limited_until)?;
        let permit = self
            .semaphore
            .try_acquire()
            .map_err(|_| TryAcquireError::NoPermits)?;
        // Another caller may have taken the slot since the check: then the
        // permit goes back as it is dropped.
        rate.tat().take(&quota, now, 1).map_err(limited_until)?;
        Ok(permit)
    }
}

impl<T: Timer + fmt::Debug> fmt::Debug for Limits<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Limits")
            .field("semaphore", &self.semaphore)
            .field("rate", &self.rate)
            .finish()
    }
}

const HELD: &str = "the rate lock is held until the phase changes";

pin_project!(
    #[project = LimitsProj]
    enum LimitsPhase<'a, S> {
        // Queued for the rate limiter.
        Locking {
            #[pin]
            lock: Lock<'a, ()>,
        },
        // First in line for the rate; sleeping until a slot is due. No permit.
        Sleeping {
            guard: Option<MutexGuard<'a, ()>>,
            #[pin]
            sleep: S,
        },
        // First in line for the rate, a slot due; waiting for a permit.
        // `checked_at`: the clock reading the slot was seen due at. The
        // slot is taken at no earlier reading, so a clock that goes
        // backwards meanwhile cannot make it cost less.
        Permit {
            guard: Option<MutexGuard<'a, ()>>,
            checked_at: u64,
            #[pin]
            acquire: SemAcquire<'a>,
        },
        Done,
    }
);

pin_project!(
    /// Future returned by [`Limits::acquire`].
    #[must_use = "futures do nothing unless you `.await` or poll them"]
    pub struct LimitsAcquire<'a, T: Timer> {
        limits: &'a Limits<T>,
        #[pin]
        phase: LimitsPhase<'a, T::Sleep>,
    }
);

impl<'a, T: Timer> Future for LimitsAcquire<'a, T> {
    type Output = Result<SemaphorePermit<'a>, AcquireError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let limits: &'a Limits<T> = this.limits;
        let mut phase = this.phase;
        let timer = limits.rate.timer();
        let quota = limits.rate.quota();
        let tat = limits.rate.tat();
        // At the head of the rate queue: wait for a permit if a slot is due
        // now, else sleep until it is.
        let at_head = |guard, now| match tat.check(&quota, now, 1) {
            Ok(()) => LimitsPhase::Permit {
                guard: Some(guard),
                checked_at: now,
                acquire: limits.semaphore.acquire(),
            },
            Err(at) => LimitsPhase::Sleeping {
                guard: Some(guard),
                sleep: timer.sleep_until(instant_at(at)),
            },
        };
        loop {
            match phase.as_mut().project() {
                LimitsProj::Locking { lock } => {
                    let Poll::Ready(guard) = lock.poll(cx) else {
                        return Poll::Pending;
                    };
                    phase.set(at_head(guard, now_nanos(timer)));
                }
                LimitsProj::Sleeping { guard, mut sleep } => {
                    if sleep.as_mut().poll(cx).is_pending() {
                        return Poll::Pending;
                    }
                    // Woken early (a coarse timer), this sleeps again.
                    let guard = guard.take().expect(HELD);
                    phase.set(at_head(guard, now_nanos(timer)));
                }
                LimitsProj::Permit {
                    guard,
                    checked_at,
                    acquire,
                } => {
                    let permit = match acquire.poll(cx) {
                        Poll::Pending => return Poll::Pending,
                        Poll::Ready(Err(e)) => {
                            phase.set(LimitsPhase::Done);
                            return Poll::Ready(Err(e));
                        }
                        Poll::Ready(Ok(permit)) => permit,
                    };
                    // Time only moved forward since the slot was due, and
                    // nobody queued behind us can take it (we hold the rate
                    // queue); only a caller that raced our arrival could.
                    let now = now_nanos(timer).max(*checked_at);
                    match tat.take(&quota, now, 1) {
                        Ok(()) => {
                            phase.set(LimitsPhase::Done);
                            return Poll::Ready(Ok(permit));
                        }
                        Err(at) => {
                            // Only if a caller that raced our arrival took
                            // the slot: never sleep on a permit, give it
                            // back and wait.
                            drop(permit);
                            let guard = Some(guard.take().expect(HELD));
                            let sleep = timer.sleep_until(instant_at(at));
                            phase.set(LimitsPhase::Sleeping { guard, sleep });
                        }
                    }
                }
                LimitsProj::Done => panic!("`LimitsAcquire` polled after completion"),
            }
        }
    }
}

impl<T: Timer> FusedFuture for LimitsAcquire<'_, T> {
    fn is_terminated(&self) -> bool {
        matches!(self.phase, LimitsPhase::Done)
    }
}

impl<T: Timer> fmt::Debug for LimitsAcquire<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let phase = match self.phase {
            LimitsPhase::Locking { .. } => "waiting for the rate limiter",
            LimitsPhase::Sleeping { .. } => "waiting for a rate slot",
            LimitsPhase::Permit { .. } => "waiting for a permit",
            LimitsPhase::Done => "done",
        };
        f.debug_struct("LimitsAcquire")
            .field("phase", &phase)
            .finish()
    }
}

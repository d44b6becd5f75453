//! `RateLimiter`: GCRA on any [`Timer`], with waits served first come,
//! first served.
//!
//! # Implementation notes
//!
//! The algorithm is GCRA (the generic cell rate algorithm, as in governor):
//! the whole state is one number, the *theoretical arrival time* `tat`. With
//! a replenish interval `T` and a burst `b` (tolerance `τ = b·T`), a request
//! for `n` cells at time `now` is allowed when
//! `max(tat, now) + n·T <= now + τ`, and then `tat` becomes
//! `max(tat, now) + n·T`. When it is not allowed, the earliest time it will
//! be is `max(tat, now) + n·T − τ`. Nothing else is stored, so an idle key
//! (`tat <= now`) is indistinguishable from a new one and can be forgotten.
//!
//! The state is that one number in one atomic word ([`Tat`]), so taking
//! cells is one compare-and-swap: `try_acquire`, and an `acquire` that is
//! granted at once, take no lock (on targets with 64-bit atomics).
//!
//! Waiting is first come, first served without a wait queue of its own: a
//! fair [`Mutex`] with no data is the queue, and a waiter keeps its lock
//! while it sleeps until its cells are due. Everyone behind it waits, in
//! order, on the mutex, so nobody overtakes anybody, and `try_acquire` (and
//! an `acquire`'s first try) fails while the mutex is held, that is while
//! anyone is waiting. Cells are taken only in the poll that returns
//! `Ready`, so a dropped waiter has taken nothing; its lock passes to the
//! next waiter.
//!
//! The clock is only read, never trusted: a grant leaves `tat` past the
//! instant it was granted at, and a request is judged at the instant it
//! read, so a timer whose clock goes backwards can delay grants (a reading
//! behind the latest grant counts as that much less credit) but never adds
//! any.

use core::{
    fmt,
    future::Future,
    pin::Pin,
    task::{Context, Poll},
    time::Duration,
};

use futures_core::FusedFuture;
use pin_project_lite::pin_project;

use super::{quota::saturating_nanos, Instant, Quota};
use crate::{
    rt::Timer,
    sync::{futures::Lock, Mutex, MutexGuard},
};

#[cfg(target_has_atomic = "64")]
use crate::loom::sync::atomic::{AtomicU64, Ordering};

/// A request for more cells than the quota's burst: it could never be
/// granted, so it fails at once instead of waiting forever.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct InsufficientCapacity {
    /// The number of cells requested.
    pub requested: u32,
    /// The quota's burst, the most that can ever be granted at once.
    pub burst: u32,
}

impl fmt::Display for InsufficientCapacity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "requested {} cells at once, more than the burst of {}",
            self.requested, self.burst
        )
    }
}

impl core::error::Error for InsufficientCapacity {}

/// Why a [`RateLimiter::try_acquire`] (or a keyed or [`Limits`](super::Limits)
/// `try_acquire`) did not grant.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TryAcquireError {
    /// Not enough cells now. `ready_at` is the earliest instant at which
    /// the request would be granted if nobody else came first, or `None` if
    /// other tasks are already waiting (they go first).
    RateLimited {
        /// When the cells are due, on the limiter's timer's clock.
        ready_at: Option<Instant>,
    },
    /// More cells than the burst were requested: never possible.
    InsufficientCapacity(InsufficientCapacity),
    /// The semaphore of a [`Limits`](super::Limits) has no permit free (or
    /// other tasks are waiting for one), or it was closed.
    NoPermits,
}

impl fmt::Display for TryAcquireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TryAcquireError::RateLimited { ready_at: Some(at) } => {
                write!(f, "rate limited until {at:?}")
            }
            TryAcquireError::RateLimited { ready_at: None } => {
                f.write_str("rate limited: other tasks are waiting")
            }
            TryAcquireError::InsufficientCapacity(e) => fmt::Display::fmt(e, f),
            TryAcquireError::NoPermits => f.write_str("no permits available"),
        }
    }
}

impl core::error::Error for TryAcquireError {}

impl From<InsufficientCapacity> for TryAcquireError {
    fn from(e: InsufficientCapacity) -> Self {
        TryAcquireError::InsufficientCapacity(e)
    }
}

/// The GCRA step: the theoretical arrival time after granting `n` cells at
/// `now` to a state at `tat`, or `Err(at)`, the earliest instant
/// (nanoseconds) at which they can be. `n` must not exceed the burst.
#[inline]
pub(crate) fn gcra(tat: u64, quota: &Quota, now: u64, n: u32) -> Result<u64, u64> {
    let tolerance = quota.tolerance_nanos();
    let new_tat = tat
        .max(now)
        .saturating_add(quota.interval_nanos().saturating_mul(u64::from(n)));
    if new_tat <= now.saturating_add(tolerance) {
        Ok(new_tat)
    } else {
        // Refused, so `new_tat > now + tolerance >= tolerance`.
        Err(new_tat - tolerance)
    }
}

/// The whole GCRA state of one limiter (a key of the keyed limiter keeps
/// the same number as a plain `u64` under its map's lock): the theoretical
/// arrival time, in nanoseconds on the timer's clock, in one word that is
/// updated without a lock. See the module notes.
///
/// Every grant leaves it past the instant it was granted at, and a refusal
/// only happens when it already is, so it is never below the latest
/// reading that took cells: no second number is needed to clamp a clock
/// that goes backwards.
pub(crate) struct Tat {
    #[cfg(target_has_atomic = "64")]
    word: AtomicU64,
    /// Without 64-bit atomics, the word sits in the crate's own small lock:
    /// a critical section with the `critical-section` feature, else a spin
    /// lock, which (as for the wait queues) an interrupt handler must not
    /// take while the code it interrupted holds it.
    #[cfg(not(target_has_atomic = "64"))]
    word: crate::waitq::lock::Lock<u64>,
}

impl Tat {
    /// A full state, first read at `now`: a burst is available at once.
    pub(crate) fn new(now: u64) -> Tat {
        Tat {
            #[cfg(target_has_atomic = "64")]
            word: AtomicU64::new(now),
            #[cfg(not(target_has_atomic = "64"))]
            word: crate::waitq::lock::Lock::new(now),
        }
    }

    /// The theoretical arrival time now (a snapshot).
    #[inline]
    pub(crate) fn load(&self) -> u64 {
        #[cfg(target_has_atomic = "64")]
        return self.word.load(Ordering::Relaxed);
        #[cfg(not(target_has_atomic = "64"))]
        return *self.word.lock();
    }

    /// Takes `n` cells at `now` if they are there, in one atomic step:
    /// concurrent takers never both get the last cell. `Err(at)`: the
    /// earliest instant they can be. Every access to the word is to this
    /// one variable, whose modification order alone decides who gets what,
    /// so `Relaxed` is enough.
    #[inline]
    pub(crate) fn take(&self, quota: &Quota, now: u64, n: u32) -> Result<(), u64> {
        #[cfg(target_has_atomic = "64")]
        {
            let mut tat = self.word.load(Ordering::Relaxed);
            loop {
                let next = gcra(tat, quota, now, n)?;
                match self.word.compare_exchange_weak(
                    tat,
                    next,
                    Ordering::Relaxed,
                    Ordering::Relaxed,
                ) {
                    Ok(_) => return Ok(()),
                    Err(actual) => tat = actual,
                }
            }
        }
        #[cfg(not(target_has_atomic = "64"))]
        {
            let mut tat = self.word.lock();
            *tat = gcra(*tat, quota, now, n)?;
            Ok(())
        }
    }

    /// Whether `n` cells could be taken at `now`, taking nothing.
    #[inline]
    pub(crate) fn check(&self, quota: &Quota, now: u64, n: u32) -> Result<(), u64> {
        gcra(self.load(), quota, now, n).map(drop)
    }
}

impl fmt::Debug for Tat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tat").field("nanos", &self.load()).finish()
    }
}

/// The error for cells due at `at`.
pub(crate) fn limited_until(at: u64) -> TryAcquireError {
    TryAcquireError::RateLimited {
        ready_at: Some(instant_at(at)),
    }
}

/// The panic of an acquire future polled again after it completed.
pub(crate) const POLLED_AFTER_COMPLETION: &str =
    "rate limiter acquire future polled after completion";

pub(crate) fn now_nanos<T: Timer>(timer: &T) -> u64 {
    saturating_nanos(timer.now().since_origin())
}

pub(crate) fn instant_at(nanos: u64) -> Instant {
    Instant::from_origin(Duration::from_nanos(nanos))
}

pub(crate) fn check_capacity(quota: &Quota, n: u32) -> Result<(), InsufficientCapacity> {
    if n > quota.burst().get() {
        Err(InsufficientCapacity {
            requested: n,
            burst: quota.burst().get(),
        })
    } else {
        Ok(())
    }
}

/// A rate limiter: at most a [`Quota`]'s rate of cells over time, and at
/// most its burst at once, on any [`Timer`].
///
/// * **Fair.** [`acquire`](Self::acquire) and [`acquire_n`](Self::acquire_n)
///   wait in arrival order: a waiter is never overtaken by a later caller,
///   not even by one that asks for fewer cells. [`try_acquire`](Self::try_acquire)
///   never waits and never jumps the queue: it fails while anyone waits.
/// * **Exact.** GCRA, computed in whole nanoseconds on the timer's clock:
///   after an idle spell a burst of `b` is granted at once, and the next
///   cell exactly one replenish interval after the last. On the virtual
///   clock the grant instants are exact.
/// * **Refuses the impossible.** A request for more cells than the burst
///   fails at once with [`InsufficientCapacity`] instead of waiting forever.
/// * **Cancel safe.** A dropped waiter has taken nothing.
/// * **Robust to clocks.** A timer whose clock goes backwards (which
///   [`Timer`] forbids, but a buggy one might do) causes no panic and no
///   extra grant: a request is judged at the instant it read, and a
///   reading behind the latest grant counts as that much less credit.
/// * **Lock-free when nobody waits.** The state is one atomic word:
///   [`try_acquire`](Self::try_acquire), and an `acquire` that is granted
///   at once, cost one clock read and one compare-and-swap. (Without
///   64-bit atomics, as on 32-bit Cortex-M, the word is behind the
///   crate's own small lock.)
///
/// For one limit per key (per user, per host) use
/// [`KeyedRateLimiter`](super::KeyedRateLimiter); to combine a rate with a
/// concurrency limit use [`Limits`](super::Limits).
///
/// # Examples
/// ```
/// use std::{num::NonZeroU32, time::Duration};
/// use anysync::{rt::virtual_time::VirtualTime, time::{Quota, RateLimiter}};
///
/// VirtualTime::new().block_on(|rt| async move {
///     let limiter = RateLimiter::new(rt.clone(), Quota::per_second(NonZeroU32::new(2).unwrap()));
///     let start = rt.now();
///     for _ in 0..4 {
///         limiter.acquire().await.unwrap();
///     }
///     // Two at once (the burst), then one every 500 ms.
///     assert_eq!(rt.now() - start, Duration::from_secs(1));
/// });
/// ```
pub struct RateLimiter<T: Timer> {
    timer: T,
    quota: Quota,
    tat: Tat,
    /// The FIFO queue of waiting acquires; the head holds it while it
    /// sleeps until its cells are due.
    queue: Mutex<()>,
}

impl<T: Timer> RateLimiter<T> {
    /// A limiter granting cells at `quota` on `timer`'s clock, starting
    /// full (a burst is available at once).
    pub fn new(timer: T, quota: Quota) -> Self {
        RateLimiter {
            tat: Tat::new(now_nanos(&timer)),
            queue: Mutex::new(()),
            timer,
            quota,
        }
    }

    /// The limiter's quota.
    pub fn quota(&self) -> Quota {
        self.quota
    }

    /// The timer the limiter reads and sleeps on.
    pub fn timer(&self) -> &T {
        &self.timer
    }

    /// Waits for one cell.
    ///
    /// # Cancel safety
    /// This method is cancel safe. Dropping the future gives up its place in
    /// the queue; a wake-up it had already received is passed to the next
    /// waiter.
    ///
    /// # Errors
    /// Never for one cell (a burst is at least 1); the type is shared with
    /// [`acquire_n`](Self::acquire_n).
    pub fn acquire(&self) -> Acquire<'_, T> {
        self.acquire_n(1)
    }

    /// Waits until `n` cells can be granted together, behind every earlier
    /// waiter, and takes them.
    ///
    /// `acquire_n(0)` completes at once without queueing.
    ///
    /// # Cancel safety
    /// This method is cancel safe. Dropping the future gives up its place in
    /// the queue; a wake-up it had already received is passed to the next
    /// waiter. No cell is taken until the future completes.
    ///
    /// # Errors
    /// [`InsufficientCapacity`] at once if `n` exceeds the quota's burst.
    ///
    /// # Examples
    /// There is no cancellation parameter: dropping the future is the
    /// cancellation, and it takes nothing, so a
    /// [`CancelToken`](crate::task::CancelToken) stops a wait by racing it.
    /// ```
    /// use std::{num::NonZeroU32, time::Duration};
    /// use anysync::{
    ///     rt::{virtual_time::VirtualTime, Instant},
    ///     task::CancelToken,
    ///     time::{Quota, RateLimiter, TryAcquireError},
    /// };
    ///
    /// VirtualTime::new().block_on(|rt| async move {
    ///     let limiter = RateLimiter::new(rt.clone(), Quota::per_hour(NonZeroU32::new(2).unwrap()));
    ///     limiter.try_acquire_n(2).unwrap();
    ///     let token = CancelToken::new();
    ///     let (canceller, clock) = (token.clone(), rt.clone());
    ///     let _detached = rt.spawn(async move {
    ///         clock.sleep(Duration::from_secs(60)).await;
    ///         canceller.cancel();
    ///     });
    ///     assert_eq!(token.run_until_cancelled(limiter.acquire()).await, None);
    ///     assert_eq!(limiter.waiters(), 0);
    ///     // The cancelled wait took nothing: the next cell is still due at 30 minutes.
    ///     let due = Instant::from_origin(Duration::from_secs(30 * 60));
    ///     assert_eq!(limiter.try_acquire(), Err(TryAcquireError::RateLimited { ready_at: Some(due) }));
    /// });
    /// ```
    pub fn acquire_n(&self, n: u32) -> Acquire<'_, T> {
        let early = match check_capacity(&self.quota, n) {
            Err(e) => Some(Err(e)),
            Ok(()) if n == 0 => Some(Ok(())),
            Ok(()) => None,
        };
        Acquire {
            limiter: self,
            n,
            early,
            granted: false,
            // The lock future is built only if the first poll cannot take
            // the cells at once: an acquire granted at once never queues.
            phase: match early {
                Some(_) => Phase::Done,
                None => Phase::Start,
            },
        }
    }

    /// Takes one cell if one is available now and nobody is waiting.
    ///
    /// # Errors
    /// [`TryAcquireError::RateLimited`] otherwise.
    pub fn try_acquire(&self) -> Result<(), TryAcquireError> {
        self.try_acquire_n(1)
    }

    /// Takes `n` cells if they are available now and nobody is waiting.
    ///
    /// # Errors
    /// * [`TryAcquireError::RateLimited`] if they are not available now (with
    ///   the instant they will be), or other tasks are waiting.
    /// * [`TryAcquireError::InsufficientCapacity`] if `n` exceeds the burst.
    ///
    /// # Examples
    /// ```
    /// use std::num::NonZeroU32;
    /// use anysync::{rt::virtual_time::VirtualTime, time::{Quota, RateLimiter, TryAcquireError}};
    ///
    /// let limiter = RateLimiter::new(VirtualTime::new(), Quota::per_second(NonZeroU32::new(3).unwrap()));
    /// assert!(limiter.try_acquire_n(3).is_ok());
    /// assert!(matches!(limiter.try_acquire(), Err(TryAcquireError::RateLimited { .. })));
    /// assert!(matches!(limiter.try_acquire_n(4), Err(TryAcquireError::InsufficientCapacity(_))));
    /// ```
    pub fn try_acquire_n(&self, n: u32) -> Result<(), TryAcquireError> {
        check_capacity(&self.quota, n)?;
        if n == 0 {
            return Ok(());
        }
        self.try_take(n)
    }

    /// Takes `n` cells (at most the burst) now, unless somebody is queued:
    /// one clock read, one load of the queue's lock word and one
    /// compare-and-swap.
    #[inline]
    fn try_take(&self, n: u32) -> Result<(), TryAcquireError> {
        let now = self.unqueued_reading()?;
        self.tat.take(&self.quota, now, n).map_err(limited_until)
    }

    /// A clock reading to take cells at without waiting, or
    /// `RateLimited { ready_at: None }` if somebody is queued.
    ///
    /// The clock is read first: a task that queues after the check and
    /// sleeps until its cells are due cannot lose them to this take, which
    /// is judged at a reading from before it queued, as if it had come
    /// first (which it did).
    #[inline]
    pub(crate) fn unqueued_reading(&self) -> Result<u64, TryAcquireError> {
        let now = now_nanos(&self.timer);
        if self.queue.is_locked() {
            return Err(TryAcquireError::RateLimited { ready_at: None });
        }
        Ok(now)
    }

    /// The number of tasks waiting in [`acquire`](Self::acquire) or
    /// [`acquire_n`](Self::acquire_n), including the one at the head that
    /// sleeps until its cells are due. A snapshot, for monitoring and tests.
    pub fn waiters(&self) -> usize {
        self.queue.waiters() + usize::from(self.queue.is_locked())
    }

    /// The queue of waiters, for [`Limits`](super::Limits).
    pub(crate) fn queue(&self) -> &Mutex<()> {
        &self.queue
    }

    /// The GCRA state, for [`Limits`](super::Limits).
    pub(crate) fn tat(&self) -> &Tat {
        &self.tat
    }
}

impl<T: Timer + fmt::Debug> fmt::Debug for RateLimiter<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RateLimiter")
            .field("timer", &self.timer)
            .field("quota", &self.quota)
            .field("tat", &self.tat)
            .field("queued", &self.queue.is_locked())
            .finish()
    }
}

pin_project!(
    /// Where an acquire is: queued for the limiter's queue, or holding it
    /// and sleeping until its cells are due.
    #[project = PhaseProj]
    pub(crate) enum Phase<L, G, S> {
        Start,
        Locking {
            #[pin]
            lock: L,
        },
        Sleeping {
            guard: G,
            #[pin]
            sleep: S,
        },
        Done,
    }
);

impl<L, G, S> Phase<L, G, S> {
    pub(crate) fn name(&self) -> &'static str {
        match self {
            Phase::Start => "start",
            Phase::Locking { .. } => "locking",
            Phase::Sleeping { .. } => "sleeping",
            Phase::Done => "done",
        }
    }
}

/// Drives `phase` until the cells are granted. Shared by the plain and the
/// keyed limiter, whose lock futures, guards and states differ.
///
/// In [`Phase::Start`], `start` is called once: the guard if the queue is
/// free (what the lock future's first poll would give), else the lock
/// future to queue with. `take` reads the clock and takes the cells at that
/// reading, or says when they are due; it is called only with the queue's
/// lock held.
///
/// Never inlined: the plain limiter's poll, whose common case is a grant at
/// once, then saves and restores only the few registers it needs.
#[inline(never)]
pub(crate) fn poll_phase<L, G, T>(
    mut phase: Pin<&mut Phase<L, G, T::Sleep>>,
    timer: &T,
    cx: &mut Context<'_>,
    mut take: impl FnMut() -> Result<(), u64>,
    start: impl FnOnce() -> Result<G, L>,
) -> Poll<()>
where
    L: Future<Output = G>,
    T: Timer,
{
    let mut start = Some(start);
    loop {
        let guard = match phase.as_mut().project() {
            PhaseProj::Start => match start.take().map(|start| start()) {
                // Checked here rather than below, where the phase is known
                // to be `Start`: a grant at once then has nothing to drop.
                Some(Ok(guard)) => match take() {
                    Ok(()) => {
                        phase.set(Phase::Done);
                        return Poll::Ready(());
                    }
                    Err(at) => {
                        let sleep = timer.sleep_until(instant_at(at));
                        phase.set(Phase::Sleeping { guard, sleep });
                        continue;
                    }
                },
                Some(Err(lock)) => {
                    phase.set(Phase::Locking { lock });
                    continue;
                }
                None => unreachable!("`Phase::Start` is left on the first poll"),
            },
            PhaseProj::Locking { lock } => {
                let Poll::Ready(guard) = lock.poll(cx) else {
                    return Poll::Pending;
                };
                guard
            }
            PhaseProj::Sleeping { mut sleep, .. } => {
                if sleep.as_mut().poll(cx).is_pending() {
                    return Poll::Pending;
                }
                match take() {
                    Ok(()) => {
                        phase.set(Phase::Done);
                        return Poll::Ready(());
                    }
                    // Woken early (a coarse timer): sleep again, keeping the lock.
                    Err(at) => sleep.set(timer.sleep_until(instant_at(at))),
                }
                continue;
            }
            PhaseProj::Done => panic!("{POLLED_AFTER_COMPLETION}"),
        };
        match take() {
            Ok(()) => {
                // Dropping the guard releases the lock to the next waiter.
                phase.set(Phase::Done);
                return Poll::Ready(());
            }
            Err(at) => {
                let sleep = timer.sleep_until(instant_at(at));
                phase.set(Phase::Sleeping { guard, sleep });
            }
        }
    }
}

pin_project!(
    /// Future returned by [`RateLimiter::acquire`] and
    /// [`RateLimiter::acquire_n`].
    #[must_use = "futures do nothing unless you `.await` or poll them"]
    pub struct Acquire<'a, T: Timer> {
        limiter: &'a RateLimiter<T>,
        n: u32,
        early: Option<Result<(), InsufficientCapacity>>,
        // Granted at the first try, without leaving `Phase::Start` (so
        // the phase, which has drop glue, is never written).
        granted: bool,
        #[pin]
        phase: Phase<Lock<'a, ()>, MutexGuard<'a, ()>, T::Sleep>,
    }
);

impl<'a, T: Timer> Future for Acquire<'a, T> {
    type Output = Result<(), InsufficientCapacity>;

    // Small (the queued path is `poll_phase`, never inlined), so a caller
    // that awaits an acquire granted at once pays no call for it.
    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        if let Some(early) = this.early.take() {
            return Poll::Ready(early);
        }
        let limiter: &'a RateLimiter<T> = this.limiter;
        let phase = this.phase;
        if let Phase::Start = *phase {
            if *this.granted {
                panic!("{POLLED_AFTER_COMPLETION}");
            }
            // Nobody queued and the cells there: granted with no lock.
            if limiter.try_take(*this.n).is_ok() {
                *this.granted = true;
                return Poll::Ready(Ok(()));
            }
        }
        let start = || limiter.queue.try_lock().map_err(|_| limiter.queue.lock());
        let n = *this.n;
        let take = || {
            limiter
                .tat
                .take(&limiter.quota, now_nanos(&limiter.timer), n)
        };
        poll_phase(phase, &limiter.timer, cx, take, start).map(Ok)
    }
}

impl<T: Timer> FusedFuture for Acquire<'_, T> {
    fn is_terminated(&self) -> bool {
        self.granted || (self.early.is_none() && matches!(self.phase, Phase::Done))
    }
}

impl<T: Timer> fmt::Debug for Acquire<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Acquire")
            .field("cells", &self.n)
            .field(
                "phase",
                &if self.granted {
                    "done"
                } else {
                    self.phase.name()
                },
            )
            .finish()
    }
}

#[cfg(all(test, feature = "std"))]
mod tests;

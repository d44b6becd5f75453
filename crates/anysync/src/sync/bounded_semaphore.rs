//! `BoundedSemaphore`: explicit acquire/release with a fixed capacity that
//! a release can never exceed (asyncio.BoundedSemaphore, AnyIO's
//! `max_value`).

use core::{
    fmt,
    future::Future,
    pin::Pin,
    task::{Context, Poll},
};

use futures_core::FusedFuture;
use pin_project_lite::pin_project;

use super::semaphore::{AcquireInner, SemOwner, Semaphore, TryAcquireError};
use crate::loom::sync::atomic::{AtomicUsize, Ordering};

/// A semaphore with a fixed capacity and explicit, asyncio-style
/// [`acquire`](Self::acquire) / [`release`](Self::release) calls instead of
/// permit guards.
///
/// * Releasing more than is acquired is a typed error
///   ([`ReleaseError`]), not a silent increase of the capacity.
/// * Asking for more than the capacity is an immediate typed error
///   ([`ExceedsCapacity`]), never a wait that can never end.
/// * Otherwise it is a [`Semaphore`]: fair (FIFO, a large request at the
///   head is not overtaken), weighted, and cancel safe.
///
/// # `Semaphore` or `BoundedSemaphore`?
///
/// Prefer [`Semaphore`]: its permits are guards released on drop, so a
/// release can be neither forgotten nor doubled, and an early return or a
/// cancelled task gives the permits back by itself. Use `BoundedSemaphore`
/// where acquire and release cannot share a scope (the release happens in
/// a callback, another task, or code ported from asyncio), so counting is
/// manual, and you want a miscount caught as an error. A task cancelled
/// between its `acquire` and its `release` keeps its permits acquired: that
/// is the price of manual counting.
///
/// # Futurelock
///
/// The permit is handed straight to the first waiter, so a waiting future
/// that has been woken owns it from then on. If that future is neither
/// polled nor dropped (a `select!` in a loop over a future made outside the
/// loop, while another branch awaits), it keeps the permit and every task
/// queued behind it waits. Create the waiting future inside the loop, or
/// drop it, so that a grant it received passes on.
///
/// # Examples
///
/// ```
/// # futures_executor::block_on(async {
/// use anysync::sync::BoundedSemaphore;
///
/// let sem = BoundedSemaphore::new(2);
/// sem.acquire().await.unwrap();
/// sem.release().unwrap();
/// // One release too many is an error; the capacity stays 2.
/// assert!(sem.release().is_err());
/// assert_eq!(sem.available_permits(), 2);
/// // More than the capacity can never be acquired.
/// assert!(sem.acquire_many(3).await.is_err());
/// # });
/// ```
///
/// # Unwind safety
///
/// `UnwindSafe` and `RefUnwindSafe`: there is no poisoning, and a panic
/// in user code never leaves a semaphore broken (what a panicking task held
/// is released by the drops that run as it unwinds, and a waiting future
/// dropped that way passes on what it was given).
///
/// # Implementation notes
///
/// A [`Semaphore`] of `capacity` permits plus a count of the permits
/// acquired through completed acquires. An acquire adds to the count after
/// the semaphore has granted it; a release subtracts (failing if the count
/// is too small) before giving the permits back. So the semaphore can never
/// hold more than `capacity`.
pub struct BoundedSemaphore {
    capacity: usize,
    acquired: AtomicUsize,
    sem: Semaphore,
}

/// More permits were requested than a [`BoundedSemaphore`] has at all.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ExceedsCapacity {
    /// The number of permits requested.
    pub requested: usize,
    /// The semaphore's capacity.
    pub capacity: usize,
}

impl fmt::Display for ExceedsCapacity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "requested {} permits from a BoundedSemaphore of capacity {}",
            self.requested, self.capacity
        )
    }
}

impl core::error::Error for ExceedsCapacity {}

/// Why [`BoundedSemaphore::try_acquire_many`] failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BoundedTryAcquireError {
    /// Not enough permits are available, or other tasks are queued first.
    NoPermits,
    /// More permits were requested than the capacity.
    ExceedsCapacity(ExceedsCapacity),
}

impl fmt::Display for BoundedTryAcquireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BoundedTryAcquireError::NoPermits => f.write_str("no permits available"),
            BoundedTryAcquireError::ExceedsCapacity(e) => fmt::Display::fmt(e, f),
        }
    }
}

impl core::error::Error for BoundedTryAcquireError {}

impl From<ExceedsCapacity> for BoundedTryAcquireError {
    fn from(e: ExceedsCapacity) -> Self {
        BoundedTryAcquireError::ExceedsCapacity(e)
    }
}

/// A [`BoundedSemaphore`] was released more times than it was acquired.
/// Nothing was released.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ReleaseError {
    /// The number of permits the release asked to give back.
    pub requested: usize,
    /// The number of permits acquired (and not released) at that moment.
    pub acquired: usize,
}

impl fmt::Display for ReleaseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "BoundedSemaphore released too many times: releasing {} with {} acquired",
            self.requested, self.acquired
        )
    }
}

impl core::error::Error for ReleaseError {}

/// A snapshot of a [`BoundedSemaphore`], from
/// [`BoundedSemaphore::statistics`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct BoundedSemaphoreStatistics {
    /// The fixed number of permits.
    pub capacity: usize,
    /// Permits an acquire could take right now.
    pub available: usize,
    /// Permits acquired and not yet released.
    pub acquired: usize,
    /// Tasks waiting to acquire.
    pub waiters: usize,
}

impl BoundedSemaphore {
    crate::util::macros::loom_const_fn!(
        /// A semaphore with `capacity` permits, all available. A capacity of
        /// 0 is allowed: every acquire then fails with [`ExceedsCapacity`].
        ///
        /// # Panics
        /// If `capacity` is greater than [`Semaphore::MAX_PERMITS`].
        #[track_caller]
        pub fn new(capacity: usize) -> BoundedSemaphore {
            assert!(
                capacity <= Semaphore::MAX_PERMITS,
                "BoundedSemaphore::new: `capacity` exceeds Semaphore::MAX_PERMITS"
            );
            BoundedSemaphore {
                capacity,
                acquired: AtomicUsize::new(0),
                sem: Semaphore::new(capacity),
            }
        }
    );

    /// Waits for one permit.
    ///
    /// # Wakers
    ///
    /// The future clones the task's waker with the primitive's lock released
    /// when it starts waiting, so that clone may call back into this
    /// primitive. If it is polled again with a waker that does not
    /// [`will_wake`](core::task::Waker::will_wake) the one it holds, the new
    /// one is cloned under the lock: a `Waker::clone` that calls back into the
    /// same primitive then deadlocks.
    ///
    /// # Cancel safety
    /// This method is cancel safe. Dropping the future gives up its place in
    /// the queue; a wake-up it had already received is passed to the next
    /// waiter.
    ///
    /// # Errors
    /// [`ExceedsCapacity`] at once if the capacity is 0.
    pub fn acquire(&self) -> BoundedAcquire<'_> {
        self.acquire_many(1)
    }

    /// Waits for `n` permits at once, in FIFO order with other waiters.
    /// `acquire_many(0)` completes at once.
    ///
    /// # Wakers
    ///
    /// The future clones the task's waker with the primitive's lock released
    /// when it starts waiting, so that clone may call back into this
    /// primitive. If it is polled again with a waker that does not
    /// [`will_wake`](core::task::Waker::will_wake) the one it holds, the new
    /// one is cloned under the lock: a `Waker::clone` that calls back into the
    /// same primitive then deadlocks.
    ///
    /// # Cancel safety
    /// This method is cancel safe. Dropping the future gives up its place in
    /// the queue; a wake-up it had already received is passed to the next
    /// waiter.
    ///
    /// Permits assigned to it while it waited are given back.
    ///
    /// # Errors
    /// [`ExceedsCapacity`] at once (on the first poll, without queueing) if
    /// `n` is greater than the capacity.
    pub fn acquire_many(&self, n: usize) -> BoundedAcquire<'_> {
        BoundedAcquire {
            inner: AcquireInner::new(self, n),
            needed: n,
            done: false,
        }
    }

    /// Takes one permit if one is available and nobody is queued.
    ///
    /// # Errors
    /// As [`try_acquire_many`](Self::try_acquire_many).
    pub fn try_acquire(&self) -> Result<(), BoundedTryAcquireError> {
        self.try_acquire_many(1)
    }

    /// Takes `n` permits if they are available and nobody is queued.
    ///
    /// # Errors
    /// [`BoundedTryAcquireError::NoPermits`], or
    /// [`BoundedTryAcquireError::ExceedsCapacity`] if `n` is greater than
    /// the capacity.
    pub fn try_acquire_many(&self, n: usize) -> Result<(), BoundedTryAcquireError> {
        self.check(n)?;
        match self.sem.try_acquire_many(n) {
            Ok(permit) => {
                permit.keep();
                self.acquired.fetch_add(n, Ordering::AcqRel);
                Ok(())
            }
            Err(TryAcquireError::NoPermits) => Err(BoundedTryAcquireError::NoPermits),
            Err(e) => unreachable!("bounded semaphore is never closed, n <= capacity: {e}"),
        }
    }

    /// Gives one acquired permit back.
    ///
    /// # Errors
    /// [`ReleaseError`] if no permit is acquired; nothing is released.
    pub fn release(&self) -> Result<(), ReleaseError> {
        self.release_many(1)
    }

    /// Gives `n` acquired permits back, waking waiters that can now
    /// proceed.
    ///
    /// # Errors
    /// [`ReleaseError`] if fewer than `n` permits are acquired; nothing is
    /// released.
    ///
    /// # Examples
    ///
    /// ```
    /// use anysync::sync::{BoundedSemaphore, ReleaseError};
    ///
    /// let sem = BoundedSemaphore::new(3);
    /// sem.try_acquire_many(2).unwrap();
    /// assert_eq!(sem.release_many(3), Err(ReleaseError { requested: 3, acquired: 2 }));
    /// assert_eq!(sem.release_many(2), Ok(()));
    /// ```
    pub fn release_many(&self, n: usize) -> Result<(), ReleaseError> {
        let mut cur = self.acquired.load(Ordering::Acquire);
        loop {
            if cur < n {
                return Err(ReleaseError {
                    requested: n,
                    acquired: cur,
                });
            }
            match self.acquired.compare_exchange_weak(
                cur,
                cur - n,
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => break,
                Err(actual) => cur = actual,
            }
        }
        self.sem.release(n);
        Ok(())
    }

    /// The fixed number of permits.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// The number of permits available right now.
    pub fn available_permits(&self) -> usize {
        self.sem.available_permits()
    }

    /// The number of permits acquired and not yet released.
    pub fn acquired(&self) -> usize {
        self.acquired.load(Ordering::Acquire)
    }

    /// The number of tasks waiting to acquire.
    pub fn waiters(&self) -> usize {
        self.sem.waiters()
    }

    /// A snapshot of the counts.
    pub fn statistics(&self) -> BoundedSemaphoreStatistics {
        let sem = self.sem.statistics();
        BoundedSemaphoreStatistics {
            capacity: self.capacity,
            available: sem.available,
            acquired: self.acquired(),
            waiters: sem.waiters,
        }
    }

    fn check(&self, n: usize) -> Result<(), ExceedsCapacity> {
        if n > self.capacity {
            Err(ExceedsCapacity {
                requested: n,
                capacity: self.capacity,
            })
        } else {
            Ok(())
        }
    }
}

impl fmt::Debug for BoundedSemaphore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BoundedSemaphore")
            .field("capacity", &self.capacity)
            .field("available", &self.available_permits())
            .field("acquired", &self.acquired())
            .finish()
    }
}

pin_project!(
    /// Future returned by [`BoundedSemaphore::acquire`] and
    /// [`BoundedSemaphore::acquire_many`].
    #[must_use = "futures do nothing unless you `.await` or poll them"]
    pub struct BoundedAcquire<'a> {
        #[pin]
        inner: AcquireInner<&'a BoundedSemaphore>,
        needed: usize,
        done: bool,
    }
);

impl SemOwner for BoundedSemaphore {
    #[inline(always)]
    fn sem(&self) -> &Semaphore {
        &self.sem
    }
}

impl Future for BoundedAcquire<'_> {
    type Output = Result<(), ExceedsCapacity>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        assert!(!*this.done, "`BoundedAcquire` polled after completion");
        let sem: &BoundedSemaphore = this.inner.ptr();
        if let Err(e) = sem.check(*this.needed) {
            *this.done = true;
            return Poll::Ready(Err(e));
        }
        match this.inner.poll(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(r) => {
                let n = r.expect("bounded semaphore is never closed, n <= capacity");
                sem.acquired.fetch_add(n, Ordering::AcqRel);
                *this.done = true;
                Poll::Ready(Ok(()))
            }
        }
    }
}

impl FusedFuture for BoundedAcquire<'_> {
    fn is_terminated(&self) -> bool {
        self.done
    }
}

impl fmt::Debug for BoundedAcquire<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BoundedAcquire")
            .field("permits", &self.needed)
            .field("done", &self.done)
            .finish()
    }
}

#[cfg(feature = "std")]
#[cfg_attr(docsrs, doc(cfg(feature = "std")))]
impl BoundedSemaphore {
    /// Blocks the current thread until one permit is acquired.
    ///
    /// Meant for plain threads; calling it from a task blocks that
    /// executor thread.
    ///
    /// # Errors
    /// As [`acquire`](Self::acquire).
    pub fn acquire_blocking(&self) -> Result<(), ExceedsCapacity> {
        crate::util::block_on::block_on(self.acquire())
    }

    /// Blocks the current thread until `n` permits are acquired.
    ///
    /// # Errors
    /// As [`acquire_many`](Self::acquire_many).
    pub fn acquire_many_blocking(&self, n: usize) -> Result<(), ExceedsCapacity> {
        crate::util::block_on::block_on(self.acquire_many(n))
    }
}

// Unwind safety (see the type's docs): the state is never left broken by a
// panic in user code. A waiting future caught in a panic is still a
// consistent waiter (its drop leaves the queue), and a shared reference to
// one reaches only what `Debug` and `is_terminated` read. (The futures'
// intrusive nodes hide this from the auto traits.)
impl core::panic::UnwindSafe for BoundedSemaphore {}
impl core::panic::RefUnwindSafe for BoundedSemaphore {}
impl core::panic::RefUnwindSafe for BoundedAcquire<'_> {}
impl core::panic::UnwindSafe for BoundedAcquire<'_> {}

//! What local and distributed primitives have in common: acquiring permits,
//! acquiring rate slots, and a work queue.
//!
//! The primitives in [`sync`](crate::sync), [`time`](crate::time) and
//! [`queue`](crate::queue) coordinate the tasks of one process. The same
//! three jobs come back when work outgrows a process: workers on several
//! machines sharing one API quota, a fleet limiting concurrent jobs against
//! a database, a job queue between services. The `anysync-redis` crate
//! provides those over Redis. These traits describe what both kinds do, so
//! code written against them (a worker loop, a client wrapper, a test) runs
//! unchanged on a local [`Semaphore`] or a Redis one:
//!
//! | trait            | does                                           | local types                            |
//! |------------------|------------------------------------------------|----------------------------------------|
//! | [`Permits`]      | wait for `n` permits; a guard returns them     | [`Semaphore`]                          |
//! | [`RateSlots`]    | wait for `n` rate-limited cells                | [`RateLimiter`]                        |
//! | [`KeyedRateSlots`] | the same, with a budget per key              | [`KeyedRateLimiter`](crate::time::KeyedRateLimiter) |
//! | [`WorkQueue`]    | `put`, `get`, `task_done`, `join`              | [`Queue`](crate::queue::Queue)         |
//!
//! [`Limited`] combines any [`Permits`] with any [`RateSlots`] (at most N
//! at once and R per second) without holding a permit while it waits for
//! the rate.
//!
//! Every method returns a named future (an associated type), never
//! `impl Future`, so callers can store it and name it, as with the rest of
//! the crate. The traits are deliberately small: what a remote
//! implementation cannot promise (a `try_*` that does no I/O, `close`,
//! statistics) stays on the concrete types.
//!
//! Inherent methods win over trait methods in method-call syntax, so on a
//! concrete type `queue.get()` is the type's own `get`; in generic code, or
//! through `WorkQueue::get(&queue)`, it is the trait's.
//!
//! # Examples
//!
//! One worker function for a local semaphore or a distributed one:
//!
//! ```
//! # futures_executor::block_on(async {
//! use anysync::{resource::Permits, sync::Semaphore};
//!
//! async fn with_permits<P: Permits>(limit: &P, n: u32) -> Result<u32, P::Error> {
//!     let _permit = limit.acquire_permits(n).await?;
//!     Ok(n * 10) // ... the work, done while the permits are held ...
//! }
//!
//! let sem = Semaphore::new(3);
//! assert_eq!(with_permits(&sem, 2).await, Ok(20));
//! assert_eq!(sem.available_permits(), 3); // the guard gave them back
//! # });
//! ```

use core::future::Future;

use crate::{
    rt::Timer,
    sync::{futures::Acquire as SemaphoreAcquire, AcquireError, Semaphore, SemaphorePermit},
    time::{futures::Acquire as RateAcquire, InsufficientCapacity, Quota, RateLimiter},
};

/// Something that hands out permits, `n` at a time, in arrival order: a
/// [`Semaphore`], or a distributed semaphore or mutex.
///
/// The permit is a guard: dropping it returns the permits (for a remote
/// implementation, the return may happen shortly after, in the background).
pub trait Permits {
    /// The guard holding acquired permits; dropping it releases them.
    type Permit<'a>
    where
        Self: 'a;
    /// Why an acquire failed (closed, lost connection, too many requested).
    type Error: core::error::Error + Send + Sync + 'static;
    /// The future returned by [`acquire_permits`](Permits::acquire_permits).
    type Acquire<'a>: Future<Output = Result<Self::Permit<'a>, Self::Error>>
    where
        Self: 'a;

    /// Waits for `n` permits, behind every earlier waiter.
    ///
    /// # Cancel safety
    /// This method is cancel safe. Dropping the future gives up its place in
    /// the queue; a wake-up it had already received is passed to the next
    /// waiter. (Implementations must keep this promise.)
    fn acquire_permits(&self, n: u32) -> Self::Acquire<'_>;
}

/// Something that grants rate-limited cells, `n` at a time, in arrival
/// order: a [`RateLimiter`], or a distributed one.
pub trait RateSlots {
    /// Why an acquire failed (more than the burst, lost connection).
    type Error: core::error::Error + Send + Sync + 'static;
    /// The future returned by [`acquire_slots`](RateSlots::acquire_slots).
    type AcquireSlots<'a>: Future<Output = Result<(), Self::Error>>
    where
        Self: 'a;

    /// Waits until `n` cells are granted. A cell once granted is used: there
    /// is nothing to give back.
    ///
    /// # Cancel safety
    /// This method is cancel safe. Dropping the future gives up its place in
    /// the queue; a wake-up it had already received is passed to the next
    /// waiter. (Implementations must keep this promise, and take no cell
    /// for a dropped future.)
    fn acquire_slots(&self, n: u32) -> Self::AcquireSlots<'_>;

    /// The rate and burst this limiter grants.
    fn quota(&self) -> Quota;
}

/// Like [`RateSlots`], with a separate budget per key (per user, per host).
pub trait KeyedRateSlots<K> {
    /// Why an acquire failed.
    type Error: core::error::Error + Send + Sync + 'static;
    /// The future returned by
    /// [`acquire_slots_for`](KeyedRateSlots::acquire_slots_for).
    type AcquireSlotsFor<'a>: Future<Output = Result<(), Self::Error>>
    where
        Self: 'a;

    /// Waits until `n` cells of `key`'s budget are granted.
    ///
    /// # Cancel safety
    /// This method is cancel safe. Dropping the future gives up its place in
    /// the queue; a wake-up it had already received is passed to the next
    /// waiter.
    fn acquire_slots_for(&self, key: &K, n: u32) -> Self::AcquireSlotsFor<'_>;
}

/// An item got from a [`WorkQueue`], with the ticket that marks it done.
#[derive(Debug)]
#[must_use = "pass the ticket to `task_done` once the item is processed"]
pub struct Delivery<T, K> {
    /// The item.
    pub item: T,
    /// Hand this to [`WorkQueue::task_done`] once the item is processed. For
    /// a distributed queue it names the delivery to acknowledge; an item
    /// never marked done may be delivered again.
    pub ticket: K,
}

/// A work queue with completion tracking, asyncio's `Queue` with
/// `task_done`/`join`: a local [`Queue`](crate::queue::Queue), or a
/// distributed one.
pub trait WorkQueue {
    /// What the queue carries.
    type Item;
    /// Identifies a got item to [`task_done`](WorkQueue::task_done).
    type Ticket;
    /// Why a `put` failed (shut down, lost connection). Local queues give
    /// the item back inside it.
    type PutError;
    /// Why a `get` failed (shut down and empty, lost connection).
    type GetError;
    /// Why a `task_done` failed (called too often, lost connection).
    type TaskDoneError;
    /// Why a `join` failed (lost connection; never for a local queue).
    type JoinError;
    /// The future returned by [`put`](WorkQueue::put).
    type Put<'a>: Future<Output = Result<(), Self::PutError>>
    where
        Self: 'a;
    /// The future returned by [`get`](WorkQueue::get).
    type Get<'a>: Future<Output = Result<Delivery<Self::Item, Self::Ticket>, Self::GetError>>
    where
        Self: 'a;
    /// The future returned by [`task_done`](WorkQueue::task_done).
    type TaskDone<'a>: Future<Output = Result<(), Self::TaskDoneError>>
    where
        Self: 'a;
    /// The future returned by [`join`](WorkQueue::join).
    type Join<'a>: Future<Output = Result<(), Self::JoinError>>
    where
        Self: 'a;

    /// Puts `item` in the queue, waiting while it is full.
    ///
    /// # Cancel safety
    /// This method is cancel safe. Dropping the future gives up its place in
    /// the queue; a wake-up it had already received is passed to the next
    /// waiter. (A local queue then has not taken the item; a remote one has
    /// not sent it, or has stored it exactly once.)
    fn put(&self, item: Self::Item) -> Self::Put<'_>;

    /// Takes the next item, waiting while the queue is empty.
    ///
    /// # Cancel safety
    /// This method is cancel safe. Dropping the future gives up its place in
    /// the queue; a wake-up it had already received is passed to the next
    /// waiter. (A remote queue redelivers an item whose delivery was dropped
    /// after its visibility timeout.)
    fn get(&self) -> Self::Get<'_>;

    /// Marks the item of `ticket` as processed.
    ///
    /// # Cancel safety
    /// This method is cancel safe: dropping the future before it completes has no effect.
    /// (A local queue marks the item when `task_done` is called and returns
    /// a ready future. A remote queue's future dropped before it sent its
    /// call leaves the item unfinished; dropped while the call is in flight,
    /// the item may be done already: it is never marked twice, and calling
    /// again tells which.)
    fn task_done(&self, ticket: Self::Ticket) -> Self::TaskDone<'_>;

    /// Waits until every item put has been got and marked done.
    ///
    /// # Cancel safety
    /// This method is cancel safe: dropping the future before it completes has no effect.
    fn join(&self) -> Self::Join<'_>;
}

// ---- references ------------------------------------------------------------------

impl<T: Permits + ?Sized> Permits for &T {
    type Permit<'a>
        = T::Permit<'a>
    where
        Self: 'a;
    type Error = T::Error;
    type Acquire<'a>
        = T::Acquire<'a>
    where
        Self: 'a;

    fn acquire_permits(&self, n: u32) -> Self::Acquire<'_> {
        (**self).acquire_permits(n)
    }
}

impl<T: RateSlots + ?Sized> RateSlots for &T {
    type Error = T::Error;
    type AcquireSlots<'a>
        = T::AcquireSlots<'a>
    where
        Self: 'a;

    fn acquire_slots(&self, n: u32) -> Self::AcquireSlots<'_> {
        (**self).acquire_slots(n)
    }

    fn quota(&self) -> Quota {
        (**self).quota()
    }
}

// ---- the local implementations ---------------------------------------------------

impl Permits for Semaphore {
    type Permit<'a> = SemaphorePermit<'a>;
    type Error = AcquireError;
    type Acquire<'a> = SemaphoreAcquire<'a>;

    /// [`Semaphore::acquire_many`].
    ///
    /// # Cancel safety
    /// This method is cancel safe. Dropping the future gives up its place in
    /// the queue; a wake-up it had already received is passed to the next
    /// waiter.
    fn acquire_permits(&self, n: u32) -> SemaphoreAcquire<'_> {
        // u32 fits in usize on every target with atomics; saturating keeps
        // an impossible request an error (`TooLarge`), not a wrap.
        self.acquire_many(usize::try_from(n).unwrap_or(usize::MAX))
    }
}

impl<T: Timer> RateSlots for RateLimiter<T> {
    type Error = InsufficientCapacity;
    type AcquireSlots<'a> = RateAcquire<'a, T>;

    /// [`RateLimiter::acquire_n`].
    ///
    /// # Cancel safety
    /// This method is cancel safe. Dropping the future gives up its place in
    /// the queue; a wake-up it had already received is passed to the next
    /// waiter.
    fn acquire_slots(&self, n: u32) -> RateAcquire<'_, T> {
        self.acquire_n(n)
    }

    fn quota(&self) -> Quota {
        RateLimiter::quota(self)
    }
}

#[cfg(feature = "std")]
impl<K: core::hash::Hash + Eq + Clone, T: Timer> KeyedRateSlots<K>
    for crate::time::KeyedRateLimiter<K, T>
{
    type Error = InsufficientCapacity;
    type AcquireSlotsFor<'a>
        = crate::time::futures::KeyedAcquire<'a, K, T>
    where
        Self: 'a;

    /// [`KeyedRateLimiter::acquire_n`](crate::time::KeyedRateLimiter::acquire_n).
    ///
    /// # Cancel safety
    /// This method is cancel safe. Dropping the future gives up its place in
    /// the queue; a wake-up it had already received is passed to the next
    /// waiter.
    fn acquire_slots_for(&self, key: &K, n: u32) -> Self::AcquireSlotsFor<'_> {
        self.acquire_n(key, n)
    }
}

/// The ticket of an item got from a local [`Queue`](crate::queue::Queue)
/// through [`WorkQueue`]: a local queue counts unfinished items and needs
/// no identity.
///
/// It is a plain value, not a guard: as for a remote delivery that is never
/// acknowledged, an item whose ticket is dropped without
/// [`task_done`](WorkQueue::task_done) stays unfinished (and a local queue
/// cannot deliver it again, so [`join`](WorkQueue::join) waits for it).
/// Workers of a local queue that must not hang `join` when they panic
/// between `get` and `task_done` can use
/// [`Queue::get_tracked`](crate::queue::GenericQueue::get_tracked), whose
/// item marks itself done when dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LocalTicket;

#[cfg(feature = "alloc")]
mod local_queue {
    use core::{
        fmt,
        pin::Pin,
        task::{Context, Poll},
    };

    use super::*;
    use crate::queue::{
        futures::{Get, Join, Put},
        PutError, Queue, ShutDown, TaskDoneError,
    };

    pin_project_lite::pin_project!(
        /// Future of [`WorkQueue::get`] on a local [`Queue`].
        #[must_use = "futures do nothing unless you `.await` or poll them"]
        pub struct LocalGet<'a, T: 'a> {
            #[pin]
            inner: Get<'a, T>,
        }
    );

    impl<T> Future for LocalGet<'_, T> {
        type Output = Result<Delivery<T, LocalTicket>, ShutDown>;

        fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
            self.project().inner.poll(cx).map(|r| {
                r.map(|item| Delivery {
                    item,
                    ticket: LocalTicket,
                })
            })
        }
    }

    impl<T> fmt::Debug for LocalGet<'_, T> {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.debug_struct("LocalGet")
                .field("inner", &self.inner)
                .finish()
        }
    }

    pin_project_lite::pin_project!(
        /// Future of [`WorkQueue::join`] on a local [`Queue`]: never fails.
        #[must_use = "futures do nothing unless you `.await` or poll them"]
        pub struct LocalJoin<'a, T: 'a> {
            #[pin]
            inner: Join<'a, T>,
        }
    );

    impl<T> Future for LocalJoin<'_, T> {
        type Output = Result<(), core::convert::Infallible>;

        fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
            self.project().inner.poll(cx).map(Ok)
        }
    }

    impl<T> fmt::Debug for LocalJoin<'_, T> {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.debug_struct("LocalJoin")
                .field("inner", &self.inner)
                .finish()
        }
    }

    impl<T> WorkQueue for Queue<T> {
        type Item = T;
        type Ticket = LocalTicket;
        type PutError = PutError<T>;
        type GetError = ShutDown;
        type TaskDoneError = TaskDoneError;
        type JoinError = core::convert::Infallible;
        type Put<'a>
            = Put<'a, T>
        where
            T: 'a;
        type Get<'a>
            = LocalGet<'a, T>
        where
            T: 'a;
        type TaskDone<'a>
            = core::future::Ready<Result<(), TaskDoneError>>
        where
            T: 'a;
        type Join<'a>
            = LocalJoin<'a, T>
        where
            T: 'a;

        /// [`Queue::put`].
        ///
        /// # Cancel safety
        /// This method is cancel safe. Dropping the future gives up its place
        /// in the queue; a wake-up it had already received is passed to the
        /// next waiter.
        fn put(&self, item: T) -> Put<'_, T> {
            Queue::put(self, item)
        }

        /// [`Queue::get`], with a [`LocalTicket`].
        ///
        /// # Cancel safety
        /// This method is cancel safe. Dropping the future gives up its place
        /// in the queue; a wake-up it had already received is passed to the
        /// next waiter.
        fn get(&self) -> LocalGet<'_, T> {
            LocalGet {
                inner: Queue::get(self),
            }
        }

        /// [`Queue::task_done`]; ready at once.
        ///
        /// # Cancel safety
        /// This method is cancel safe: dropping the future before it completes has no effect.
        fn task_done(
            &self,
            _ticket: LocalTicket,
        ) -> core::future::Ready<Result<(), TaskDoneError>> {
            core::future::ready(Queue::task_done(self))
        }

        /// [`Queue::join`].
        ///
        /// # Cancel safety
        /// This method is cancel safe: dropping the future before it completes has no effect.
        fn join(&self) -> LocalJoin<'_, T> {
            LocalJoin {
                inner: Queue::join(self),
            }
        }
    }
}

/// At most N at once and R per unit of time over any [`Permits`] and
/// [`RateSlots`]: local ones, Redis ones, or a mix.
///
/// [`acquire`](Limited::acquire) first waits for a rate cell, holding no
/// permit, then for a permit. So, as with [`time::Limits`](crate::time::Limits),
/// no permit sits idle while its task waits for the rate. Unlike `Limits`,
/// which takes the rate cell only once the permit is there, the cell is
/// used when it is granted: if permits are scarce, tasks can enter closer
/// together than the rate (never more at once than the burst plus the
/// permits). For the exact local form use `time::Limits`.
///
/// # Examples
/// ```
/// use std::num::NonZeroU32;
/// use anysync::{
///     resource::Limited,
///     rt::virtual_time::VirtualTime,
///     sync::Semaphore,
///     time::{Quota, RateLimiter},
/// };
///
/// VirtualTime::new().block_on(|rt| async move {
///     let sem = Semaphore::new(3);
///     let rate = RateLimiter::new(rt.clone(), Quota::per_second(NonZeroU32::new(2).unwrap()));
///     let limits = Limited::new(&sem, &rate);
///     let permit = limits.acquire().await.unwrap();
///     assert_eq!(sem.available_permits(), 2);
///     drop(permit);
/// });
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Limited<P, S> {
    permits: P,
    slots: S,
}

/// Why a [`Limited::acquire`] failed: the permits' error or the rate's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LimitedError<P, S> {
    /// From the [`Permits`] side.
    Permits(P),
    /// From the [`RateSlots`] side.
    Rate(S),
}

impl<P: core::fmt::Display, S: core::fmt::Display> core::fmt::Display for LimitedError<P, S> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            LimitedError::Permits(e) => write!(f, "permits: {e}"),
            LimitedError::Rate(e) => write!(f, "rate: {e}"),
        }
    }
}

impl<P: core::error::Error, S: core::error::Error> core::error::Error for LimitedError<P, S> {}

impl<P, S> Limited<P, S> {
    /// Combines `permits` (how many at once) and `slots` (how fast). Pass
    /// references (`&Semaphore`) or owned handles (a cloned Redis one).
    pub const fn new(permits: P, slots: S) -> Self {
        Limited { permits, slots }
    }

    /// The permits side.
    pub fn permits(&self) -> &P {
        &self.permits
    }

    /// The rate side.
    pub fn slots(&self) -> &S {
        &self.slots
    }
}

impl<P: Permits, S: RateSlots> Limited<P, S> {
    /// Waits for one rate cell, then for one permit.
    ///
    /// # Cancel safety
    /// This method is cancel safe. Dropping the future gives up its place in
    /// the queue; a wake-up it had already received is passed to the next
    /// waiter. (A rate cell already granted stays used.)
    ///
    /// # Errors
    /// [`LimitedError::Rate`] or [`LimitedError::Permits`].
    pub fn acquire(&self) -> LimitedAcquire<'_, P, S> {
        LimitedAcquire {
            limited: self,
            phase: LimitedPhase::Rate {
                fut: self.slots.acquire_slots(1),
            },
        }
    }
}

pin_project_lite::pin_project!(
    #[project = LimitedProj]
    enum LimitedPhase<R, A> {
        Rate {
            #[pin]
            fut: R,
        },
        Permit {
            #[pin]
            fut: A,
        },
        Done,
    }
);

pin_project_lite::pin_project!(
    /// Future returned by [`Limited::acquire`].
    #[must_use = "futures do nothing unless you `.await` or poll them"]
    pub struct LimitedAcquire<'a, P: Permits, S: RateSlots> {
        limited: &'a Limited<P, S>,
        #[pin]
        phase: LimitedPhase<S::AcquireSlots<'a>, P::Acquire<'a>>,
    }
);

impl<'a, P: Permits, S: RateSlots> Future for LimitedAcquire<'a, P, S> {
    type Output = Result<P::Permit<'a>, LimitedError<P::Error, S::Error>>;

    fn poll(
        self: core::pin::Pin<&mut Self>,
        cx: &mut core::task::Context<'_>,
    ) -> core::task::Poll<Self::Output> {
        use core::task::Poll;
        let this = self.project();
        let limited: &'a Limited<P, S> = this.limited;
        let mut phase = this.phase;
        loop {
            match phase.as_mut().project() {
                LimitedProj::Rate { fut } => match fut.poll(cx) {
                    Poll::Pending => return Poll::Pending,
                    Poll::Ready(Err(e)) => {
                        phase.set(LimitedPhase::Done);
                        return Poll::Ready(Err(LimitedError::Rate(e)));
                    }
                    Poll::Ready(Ok(())) => phase.set(LimitedPhase::Permit {
                        fut: limited.permits.acquire_permits(1),
                    }),
                },
                LimitedProj::Permit { fut } => {
                    let Poll::Ready(result) = fut.poll(cx) else {
                        return Poll::Pending;
                    };
                    phase.set(LimitedPhase::Done);
                    return Poll::Ready(result.map_err(LimitedError::Permits));
                }
                LimitedProj::Done => panic!("`LimitedAcquire` polled after completion"),
            }
        }
    }
}

impl<P: Permits, S: RateSlots> core::fmt::Debug for LimitedAcquire<'_, P, S> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let phase = match self.phase {
            LimitedPhase::Rate { .. } => "waiting for a rate cell",
            LimitedPhase::Permit { .. } => "waiting for a permit",
            LimitedPhase::Done => "done",
        };
        f.debug_struct("LimitedAcquire")
            .field("phase", &phase)
            .finish()
    }
}

/// The named futures of the local implementations.
pub mod futures {
    pub use super::LimitedAcquire;

    #[cfg(feature = "alloc")]
    #[cfg_attr(docsrs, doc(cfg(feature = "alloc")))]
    pub use super::local_queue::{LocalGet, LocalJoin};
}

#[cfg(all(test, feature = "std"))]
mod tests;

//! Locks, semaphores, events, notifications, condition variables, barriers
//! and once cells.
//!
//! # Which primitive do I want?
//!
//! | you want to…                                         | use                      | asyncio          |
//! |------------------------------------------------------|--------------------------|------------------|
//! | keep one task at a time in a section that awaits     | [`Mutex`]                | `Lock`           |
//! | let at most *n* tasks in at once, or meter a resource | [`Semaphore`]            | `Semaphore`      |
//! | release every waiter when something has happened     | [`Event`]                | `Event`          |
//! | hand a wake-up to one waiter (or all), tokio-style    | [`Notify`]               | —                |
//! | many readers at once, or one writer (writers not starved) | [`RwLock`]           | —                |
//! | wait, lock released, until a condition on locked data holds | [`Condvar`]        | `Condition`      |
//! | let *n* tasks meet before any of them goes on         | [`Barrier`]              | `Barrier`        |
//! | initialise a value once, by an async initialiser      | [`OnceCell`]             | —                |
//! | count permits by hand (acquire/release) with a hard bound | [`BoundedSemaphore`] | `BoundedSemaphore` |
//!
//! Each primitive has a `statistics()` snapshot (waiters, holders,
//! available or broken state), in the spirit of AnyIO's, for monitoring and
//! for tests that check nothing was stranded or lost. It takes the
//! primitive's lock and may count the waiter list, so it costs time linear
//! in the number of waiters: call it to observe, not on a hot path.
//!
//! All of them are fair (first come, first served), need no executor, never
//! allocate to wait, and are cancel safe: dropping a waiting future loses no
//! permit, lock hand-off or notification. Each future is named (see
//! [`futures`]) so it can be stored in a struct.

mod barrier;
mod bounded_semaphore;
mod condvar;
mod event;
mod mutex;
mod notify;
mod once_cell;
mod rwlock;
mod semaphore;

pub use barrier::{Barrier, BarrierStatistics, BarrierWaitResult, BrokenBarrier};
pub use bounded_semaphore::{
    BoundedSemaphore, BoundedSemaphoreStatistics, BoundedTryAcquireError, ExceedsCapacity,
    ReleaseError,
};
pub use condvar::{Condvar, CondvarStatistics};
#[cfg(feature = "alloc")]
pub(crate) use event::WaitVia;
pub use event::{Event, EventStatistics};
pub use mutex::{MappedMutexGuard, Mutex, MutexGuard, MutexStatistics, TryLockError};
pub use notify::{Notify, NotifyStatistics};
pub use once_cell::{OnceCell, OnceCellStatistics, SetError};
pub use rwlock::{
    RwLock, RwLockReadGuard, RwLockStatistics, RwLockUpgradableReadGuard, RwLockWriteGuard,
};
pub use semaphore::{
    AcquireError, Semaphore, SemaphorePermit, SemaphoreStatistics, TryAcquireError,
};

#[cfg(feature = "alloc")]
#[cfg_attr(docsrs, doc(cfg(feature = "alloc")))]
pub use mutex::OwnedMutexGuard;
#[cfg(feature = "alloc")]
#[cfg_attr(docsrs, doc(cfg(feature = "alloc")))]
pub use rwlock::{OwnedRwLockReadGuard, OwnedRwLockUpgradableReadGuard, OwnedRwLockWriteGuard};
#[cfg(feature = "alloc")]
#[cfg_attr(docsrs, doc(cfg(feature = "alloc")))]
pub use semaphore::OwnedSemaphorePermit;

/// The named futures returned by this module's methods.
pub mod futures {
    pub use super::{
        barrier::BarrierWait,
        bounded_semaphore::BoundedAcquire,
        condvar::{CondvarWait, WaitWhile},
        event::EventWait,
        mutex::Lock,
        notify::Notified,
        once_cell::{GetOrInit, GetOrTryInit, OnceCellWait},
        rwlock::{Read, UpgradableRead, Upgrade, Write},
        semaphore::Acquire,
    };

    #[cfg(feature = "alloc")]
    #[cfg_attr(docsrs, doc(cfg(feature = "alloc")))]
    pub use super::rwlock::{ReadOwned, UpgradableReadOwned, UpgradeOwned, WriteOwned};
    #[cfg(feature = "alloc")]
    #[cfg_attr(docsrs, doc(cfg(feature = "alloc")))]
    pub use super::{mutex::LockOwned, semaphore::AcquireOwned};
}

#[cfg(test)]
mod tests;

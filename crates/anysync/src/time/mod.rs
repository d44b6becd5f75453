//! Time: instants on a runtime's clock, timeouts, and rate limits.
//!
//! Everything here gets its time from an [`rt::Timer`](crate::rt::Timer), so
//! it works on any executor and exactly on the virtual clock in tests.
//!
//! | you want…                                              | use                    |
//! |--------------------------------------------------------|------------------------|
//! | at most R calls per second, waiting in arrival order   | [`RateLimiter`]        |
//! | the same, with a separate budget per user or host      | [`KeyedRateLimiter`]   |
//! | at most N at once *and* R per second                   | [`Limits`]             |

mod instant;
mod timeout;

pub use instant::Instant;
pub use timeout::{timeout, Elapsed, Timeout};

mod limits;
mod quota;
mod rate_limit;

pub use limits::Limits;
pub use quota::{Quota, QuotaError};
pub use rate_limit::{InsufficientCapacity, RateLimiter, TryAcquireError};

#[cfg(feature = "std")]
mod keyed;
#[cfg(feature = "std")]
#[cfg_attr(docsrs, doc(cfg(feature = "std")))]
pub use keyed::KeyedRateLimiter;

/// The named futures returned by this module's rate limiters.
pub mod futures {
    pub use super::{limits::LimitsAcquire, rate_limit::Acquire};

    #[cfg(feature = "std")]
    #[cfg_attr(docsrs, doc(cfg(feature = "std")))]
    pub use super::keyed::KeyedAcquire;
}

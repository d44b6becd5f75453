//! Time and resilience: timeouts, intervals, retries, circuit breaking,
//! debounce and throttle, and rate limits.
//!
//! Everything here gets its time from an [`rt::Timer`](crate::rt::Timer), so
//! it works on any executor and exactly on the virtual clock in tests.
//!
//! | want | use | needs |
//! |---|---|---|
//! | give up on a future after a while | [`timeout`], [`timeout_at`] | — |
//! | do something every period | [`interval`] ([`MissedTickBehavior`]) | `alloc` |
//! | call again after a failure, with backoff | [`retry`] / [`RetryExt`] with [`Backoff`] | — |
//! | stop calling something that keeps failing | [`CircuitBreaker`] | `alloc` |
//! | run once a burst of triggers goes quiet | [`DebounceConfig`], [`debounce_stream`] | `alloc` |
//! | run at most once per period | [`ThrottleConfig`], [`throttle_stream`] | `alloc` |
//! | at most R calls per second, waiting in arrival order | [`RateLimiter`] | — |
//! | the same, with a separate budget per user or host | [`KeyedRateLimiter`] | `std` |
//! | at most N at once *and* R per second | [`Limits`] | — |
//!
//! The named futures are in [`futures`]. Timing in these types is exact on
//! [`VirtualTime`](crate::rt::virtual_time::VirtualTime): a retry's third
//! attempt after 100 ms and 200 ms of backoff starts at exactly 300 ms.

mod backoff;
mod retry;
mod timeout;

/// The clock type of every timer; it lives in [`rt`](crate::rt), re-exported here.
pub use crate::rt::Instant;
pub use backoff::{Backoff, BackoffError, Jitter};
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

pub use retry::{retry, RetryError, RetryExt, DEFAULT_ATTEMPTS};
pub use timeout::{timeout, timeout_at, Elapsed, Timeout};

#[cfg(feature = "alloc")]
mod interval;
#[cfg(feature = "alloc")]
#[cfg_attr(docsrs, doc(cfg(feature = "alloc")))]
pub use interval::{interval, interval_at, Interval, MissedTickBehavior};

#[cfg(feature = "alloc")]
mod circuit_breaker;
#[cfg(feature = "alloc")]
#[cfg_attr(docsrs, doc(cfg(feature = "alloc")))]
pub use circuit_breaker::{
    BreakerConfigError, BreakerPermit, BreakerStatistics, CallError, CircuitBreaker,
    CircuitBreakerBuilder, CircuitState, Rejected,
};

#[cfg(feature = "alloc")]
mod debounce;
#[cfg(feature = "alloc")]
#[cfg_attr(docsrs, doc(cfg(feature = "alloc")))]
pub use debounce::{
    debounce_stream, throttle_stream, ActionError, DebounceConfig, DebounceConfigError,
    DebounceStream, ThrottleConfig, ThrottleStream, TriggerHandle, TriggerStatistics,
};

/// The named futures returned by this module's functions.
pub mod futures {
    #[doc(no_inline)]
    pub use super::timeout::Timeout;

    pub use super::retry::Retry;

    #[cfg(feature = "alloc")]
    #[cfg_attr(docsrs, doc(cfg(feature = "alloc")))]
    pub use super::interval::Tick;

    #[cfg(feature = "alloc")]
    #[cfg_attr(docsrs, doc(cfg(feature = "alloc")))]
    pub use super::circuit_breaker::Call;

    pub use super::{limits::LimitsAcquire, rate_limit::Acquire};

    #[cfg(feature = "std")]
    #[cfg_attr(docsrs, doc(cfg(feature = "std")))]
    pub use super::keyed::KeyedAcquire;
}

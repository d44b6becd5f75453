//! `Quota`: how fast, and how many at once, a rate limiter grants.

use core::{fmt, num::NonZeroU32, time::Duration};

/// A rate and a burst: how many cells a [`RateLimiter`](super::RateLimiter)
/// grants per unit of time, and how many it grants back to back after a
/// quiet spell.
///
/// A quota is one *replenish interval* (the time that one cell takes to come
/// back) and a *burst* (the most cells that may be granted at the same
/// instant). `Quota::per_second(5)` replenishes one cell every 200 ms and
/// lets 5 go at once; [`allow_burst`](Quota::allow_burst) changes the
/// burst. Both are `NonZero`, so a quota that could never grant anything
/// cannot be built.
///
/// The same type configures the local [`RateLimiter`](super::RateLimiter),
/// the keyed one and the Redis-backed limiter of `anysync-redis`.
///
/// The interval is kept in whole nanoseconds, rounded down (and at least one
/// nanosecond): `per_second(3)` replenishes a cell every 333 333 333 ns.
///
/// # Examples
/// ```
/// use std::{num::NonZeroU32, time::Duration};
/// use anysync::time::Quota;
///
/// let q = Quota::per_second(NonZeroU32::new(5).unwrap());
/// assert_eq!(q.replenish_interval(), Duration::from_millis(200));
/// assert_eq!(q.burst().get(), 5);
///
/// // 100 a minute, but never more than 10 at once:
/// let q = Quota::per_minute(NonZeroU32::new(100).unwrap())
///     .allow_burst(NonZeroU32::new(10).unwrap());
/// assert_eq!(q.replenish_interval(), Duration::from_millis(600));
///
/// // A zero period is refused, with a typed error:
/// assert!(Quota::with_period(Duration::ZERO).is_err());
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Quota {
    /// Nanoseconds per cell; at least 1.
    interval_nanos: u64,
    /// `interval_nanos * burst`, saturating: computed once here rather than
    /// in every check of a limiter.
    tolerance_nanos: u64,
    burst: NonZeroU32,
}

/// Why a [`Quota`] could not be built.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum QuotaError {
    /// The period was `Duration::ZERO`: cells would come back infinitely
    /// fast.
    ZeroPeriod,
    /// A rate given as a float was NaN, infinite, zero or negative.
    InvalidRate,
}

impl fmt::Display for QuotaError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            QuotaError::ZeroPeriod => f.write_str("quota period must be greater than zero"),
            QuotaError::InvalidRate => {
                f.write_str("quota rate must be a finite number greater than zero")
            }
        }
    }
}

impl core::error::Error for QuotaError {}

/// `d` in whole nanoseconds, saturating at `u64::MAX` (about 584 years).
pub(crate) fn saturating_nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

impl Quota {
    const fn from_parts(period_nanos: u64, count: NonZeroU32) -> Quota {
        let per = period_nanos / count.get() as u64;
        Quota::with_parts(if per == 0 { 1 } else { per }, count)
    }

    const fn with_parts(interval_nanos: u64, burst: NonZeroU32) -> Quota {
        Quota {
            interval_nanos,
            tolerance_nanos: interval_nanos.saturating_mul(burst.get() as u64),
            burst,
        }
    }

    /// `rate` cells per second, all of which may go at once (burst = `rate`).
    pub const fn per_second(rate: NonZeroU32) -> Quota {
        Quota::from_parts(1_000_000_000, rate)
    }

    /// `rate` cells per minute, all of which may go at once (burst = `rate`).
    pub const fn per_minute(rate: NonZeroU32) -> Quota {
        Quota::from_parts(60 * 1_000_000_000, rate)
    }

    /// `rate` cells per hour, all of which may go at once (burst = `rate`).
    pub const fn per_hour(rate: NonZeroU32) -> Quota {
        Quota::from_parts(3600 * 1_000_000_000, rate)
    }

    /// `count` cells per `period`, all of which may go at once
    /// (burst = `count`).
    ///
    /// # Errors
    /// [`QuotaError::ZeroPeriod`] if `period` is zero.
    pub fn per(count: NonZeroU32, period: Duration) -> Result<Quota, QuotaError> {
        if period.is_zero() {
            return Err(QuotaError::ZeroPeriod);
        }
        Ok(Quota::from_parts(saturating_nanos(period), count))
    }

    /// One cell every `period`, with a burst of 1.
    ///
    /// # Errors
    /// [`QuotaError::ZeroPeriod`] if `period` is zero.
    pub fn with_period(period: Duration) -> Result<Quota, QuotaError> {
        Quota::per(NonZeroU32::MIN, period)
    }

    /// `rate` cells per second given as a float (`0.5` is one every two
    /// seconds), with a burst of 1.
    ///
    /// # Errors
    /// [`QuotaError::InvalidRate`] if `rate` is NaN, infinite, zero or
    /// negative.
    pub fn per_second_f64(rate: f64) -> Result<Quota, QuotaError> {
        if !(rate.is_finite() && rate > 0.0) {
            return Err(QuotaError::InvalidRate);
        }
        let period =
            Duration::try_from_secs_f64(1.0 / rate).map_err(|_| QuotaError::InvalidRate)?;
        // A rate above one per nanosecond rounds to the fastest interval.
        Ok(Quota::from_parts(
            saturating_nanos(period).max(1),
            NonZeroU32::MIN,
        ))
    }

    /// The same rate with a burst of `burst`: at most `burst` cells go at
    /// the same instant, and a quiet spell refills at most that many.
    #[must_use]
    pub const fn allow_burst(self, burst: NonZeroU32) -> Quota {
        Quota::with_parts(self.interval_nanos, burst)
    }

    /// The time one cell takes to come back.
    pub const fn replenish_interval(&self) -> Duration {
        Duration::from_nanos(self.interval_nanos)
    }

    /// The most cells granted at the same instant.
    pub const fn burst(&self) -> NonZeroU32 {
        self.burst
    }

    /// The time an exhausted limiter takes to refill completely
    /// (`burst × replenish_interval`).
    pub const fn burst_period(&self) -> Duration {
        Duration::from_nanos(self.tolerance_nanos())
    }

    pub(crate) const fn interval_nanos(&self) -> u64 {
        self.interval_nanos
    }

    /// GCRA's delay tolerance: `burst × interval`, saturating.
    pub(crate) const fn tolerance_nanos(&self) -> u64 {
        self.tolerance_nanos
    }
}

impl fmt::Debug for Quota {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Quota")
            .field("replenish_interval", &self.replenish_interval())
            .field("burst", &self.burst)
            .finish()
    }
}

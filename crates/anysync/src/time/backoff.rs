//! Backoff schedules for [`retry`](super::retry): constant or exponential,
//! with optional jitter from a seedable generator.

use core::{fmt, time::Duration};

/// The delays between the attempts of a [`retry`](super::retry).
///
/// A `Backoff` is an endless [`Iterator`] of delays: the first item is the
/// delay after the first failure, the second the delay after the second,
/// and so on.
///
/// * [`Backoff::constant`]`(d)`: `d, d, d, ...`
/// * [`Backoff::exponential`]`(initial, factor, max)`: `initial`,
///   `initial * factor`, `initial * factor²`, ..., each capped at `max`.
///
/// Delays saturate: they never overflow, whatever the factor or the
/// number of retries (at worst they stay at `max`).
///
/// [`with_jitter`](Self::with_jitter) randomises each delay (see
/// [`Jitter`]); the random numbers come from a small generator
/// (SplitMix64) that [`with_seed`](Self::with_seed) seeds, so a test can
/// pin the exact delays. Without a seed, each `Backoff` is seeded from
/// `std`'s per-process random hasher keys when the `std` feature is on,
/// and from a fixed constant without it (pass your own seed on `no_std`,
/// or clients that start together retry together).
///
/// # Examples
/// ```
/// use std::time::Duration;
/// use anysync::time::{Backoff, Jitter};
///
/// let ms = Duration::from_millis;
/// let delays: Vec<_> = Backoff::exponential(ms(100), 2.0, ms(500)).unwrap().take(5).collect();
/// assert_eq!(delays, [ms(100), ms(200), ms(400), ms(500), ms(500)]);
///
/// // Full jitter: each delay is drawn from [0, the delay above].
/// let jittered = Backoff::exponential(ms(100), 2.0, ms(500))
///     .unwrap()
///     .with_jitter(Jitter::FULL)
///     .with_seed(7);
/// for (d, cap) in jittered.zip([100, 200, 400, 500, 500]) {
///     assert!(d <= ms(cap));
/// }
/// ```
#[derive(Clone, Debug)]
pub struct Backoff {
    initial: Duration,
    factor: f64,
    max: Duration,
    jitter: Jitter,
    /// Retries handed out so far.
    retries: u32,
    /// The previous delay, for decorrelated jitter.
    prev: Duration,
    /// Seeded on first use, so a schedule without jitter never pays for
    /// reading the process's random keys.
    rng: Option<SplitMix64>,
}

/// How a [`Backoff`] randomises its delays.
///
/// With `d` the delay before jitter:
///
/// | jitter               | delay drawn uniformly from               |
/// |----------------------|------------------------------------------|
/// | [`Jitter::NONE`]     | exactly `d`                              |
/// | [`Jitter::FULL`]     | `[0, d]`                                 |
/// | [`Jitter::EQUAL`]    | `[d/2, d]`                               |
/// | [`Jitter::ratio(r)`](Jitter::ratio) | `[d * (1 - r), d]`        |
/// | [`Jitter::DECORRELATED`] | `[initial, 3 * previous delay]`, capped at `max` |
///
/// Decorrelated jitter ignores the factor: each delay grows from the
/// previous (jittered) one, as in the "decorrelated jitter" schedule
/// popularised by AWS's architecture blog. Jittered arithmetic is done in
/// whole nanoseconds up to `u64::MAX` (about 584 years), beyond which
/// delays saturate.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Jitter(JitterKind);

#[derive(Clone, Copy, Debug, PartialEq)]
enum JitterKind {
    /// Take away up to `ratio` of the delay, uniformly.
    Ratio(f64),
    Decorrelated,
}

impl Jitter {
    /// No jitter: the delays are exact.
    pub const NONE: Jitter = Jitter(JitterKind::Ratio(0.0));
    /// Each delay is drawn from `[0, d]`.
    pub const FULL: Jitter = Jitter(JitterKind::Ratio(1.0));
    /// Each delay is drawn from `[d/2, d]`.
    pub const EQUAL: Jitter = Jitter(JitterKind::Ratio(0.5));
    /// Each delay is drawn from `[initial, 3 * previous]`, capped at `max`.
    pub const DECORRELATED: Jitter = Jitter(JitterKind::Decorrelated);

    /// Each delay is drawn from `[d * (1 - ratio), d]`: `ratio` is the
    /// largest share of the delay that jitter may take away.
    ///
    /// # Errors
    /// [`BackoffError::JitterOutOfRange`] unless `0 <= ratio <= 1` (NaN
    /// included).
    ///
    /// # Examples
    /// ```
    /// use anysync::time::{BackoffError, Jitter};
    ///
    /// assert_eq!(Jitter::ratio(1.0), Ok(Jitter::FULL));
    /// assert!(matches!(Jitter::ratio(1.5), Err(BackoffError::JitterOutOfRange { .. })));
    /// assert!(Jitter::ratio(f64::NAN).is_err());
    /// ```
    pub fn ratio(ratio: f64) -> Result<Jitter, BackoffError> {
        if (0.0..=1.0).contains(&ratio) {
            Ok(Jitter(JitterKind::Ratio(ratio)))
        } else {
            Err(BackoffError::JitterOutOfRange { ratio })
        }
    }
}

impl Default for Jitter {
    fn default() -> Self {
        Jitter::NONE
    }
}

/// Why a [`Backoff`] or [`Jitter`] could not be built.
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub enum BackoffError {
    /// The `factor` of [`Backoff::exponential`] was below 1, NaN or
    /// infinite.
    InvalidFactor {
        /// The factor given.
        factor: f64,
    },
    /// The `max` delay of [`Backoff::exponential`] was below `initial`.
    MaxBelowInitial {
        /// The initial delay given.
        initial: Duration,
        /// The maximum delay given.
        max: Duration,
    },
    /// The `ratio` of [`Jitter::ratio`] was outside `[0, 1]` or NaN.
    JitterOutOfRange {
        /// The ratio given.
        ratio: f64,
    },
}

impl fmt::Display for BackoffError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BackoffError::InvalidFactor { factor } => write!(
                f,
                "backoff `factor` must be finite and at least 1, got {factor}"
            ),
            BackoffError::MaxBelowInitial { initial, max } => write!(
                f,
                "backoff `max` ({max:?}) must not be below `initial` ({initial:?})"
            ),
            BackoffError::JitterOutOfRange { ratio } => {
                write!(f, "jitter `ratio` must be within [0, 1], got {ratio}")
            }
        }
    }
}

impl core::error::Error for BackoffError {}

impl Backoff {
    /// The same `delay` before every retry.
    ///
    /// # Examples
    /// ```
    /// use std::time::Duration;
    /// use anysync::time::Backoff;
    ///
    /// let d = Duration::from_millis(50);
    /// assert_eq!(Backoff::constant(d).take(3).collect::<Vec<_>>(), [d, d, d]);
    /// ```
    #[inline]
    pub fn constant(delay: Duration) -> Backoff {
        Backoff::new(delay, 1.0, delay)
    }

    /// `initial`, then each delay `factor` times the one before, capped at
    /// `max`.
    ///
    /// # Errors
    /// * [`BackoffError::InvalidFactor`] if `factor` is below 1, NaN or
    ///   infinite.
    /// * [`BackoffError::MaxBelowInitial`] if `max < initial`.
    ///
    /// # Examples
    /// ```
    /// use std::time::Duration;
    /// use anysync::time::{Backoff, BackoffError};
    ///
    /// let ms = Duration::from_millis;
    /// let b = Backoff::exponential(ms(100), 2.0, ms(300)).unwrap();
    /// assert_eq!(b.take(3).collect::<Vec<_>>(), [ms(100), ms(200), ms(300)]);
    /// assert!(matches!(
    ///     Backoff::exponential(ms(100), 0.5, ms(300)),
    ///     Err(BackoffError::InvalidFactor { .. })
    /// ));
    /// assert!(matches!(
    ///     Backoff::exponential(ms(100), 2.0, ms(10)),
    ///     Err(BackoffError::MaxBelowInitial { .. })
    /// ));
    /// ```
    #[inline]
    pub fn exponential(
        initial: Duration,
        factor: f64,
        max: Duration,
    ) -> Result<Backoff, BackoffError> {
        if !(factor.is_finite() && factor >= 1.0) {
            return Err(BackoffError::InvalidFactor { factor });
        }
        if max < initial {
            return Err(BackoffError::MaxBelowInitial { initial, max });
        }
        Ok(Backoff::new(initial, factor, max))
    }

    #[inline]
    fn new(initial: Duration, factor: f64, max: Duration) -> Backoff {
        Backoff {
            initial,
            factor,
            max,
            jitter: Jitter::NONE,
            retries: 0,
            prev: initial,
            rng: None,
        }
    }

    /// Randomises the delays as `jitter` says.
    #[inline]
    pub fn with_jitter(mut self, jitter: Jitter) -> Backoff {
        self.jitter = jitter;
        self
    }

    /// Seeds the jitter's random generator, so the delays are repeatable.
    #[inline]
    pub fn with_seed(mut self, seed: u64) -> Backoff {
        self.rng = Some(SplitMix64(seed));
        self
    }

    /// Starts the schedule over (the random generator carries on).
    pub fn reset(&mut self) {
        self.retries = 0;
        self.prev = self.initial;
    }

    fn rng(&mut self) -> &mut SplitMix64 {
        self.rng.get_or_insert_with(|| SplitMix64(default_seed()))
    }

    /// The delay before jitter for the `retry`-th retry (1-based).
    #[inline]
    fn base(&self, retry: u32) -> Duration {
        if retry <= 1 || self.factor == 1.0 {
            self.initial.min(self.max)
        } else {
            self.grown(retry)
        }
    }

    /// [`base`](Self::base) past the first retry of a growing schedule.
    fn grown(&self, retry: u32) -> Duration {
        let nanos = self.initial.as_nanos() as f64 * powi(self.factor, retry - 1);
        if nanos.is_finite() && nanos < self.max.as_nanos() as f64 {
            // `as` saturates; adding 0.5 rounds the non-negative value.
            from_nanos((nanos + 0.5) as u128).min(self.max)
        } else {
            self.max
        }
    }

    /// The next delay of a jittered schedule.
    fn jittered(&mut self) -> Duration {
        match self.jitter.0 {
            JitterKind::Ratio(ratio) => {
                let hi = nanos_u64(self.base(self.retries));
                let lo = hi - ((hi as f64 * ratio + 0.5) as u64).min(hi);
                Duration::from_nanos(self.rng().between(lo, hi))
            }
            JitterKind::Decorrelated => {
                let lo = nanos_u64(self.initial);
                let hi = nanos_u64(self.prev).saturating_mul(3).max(lo);
                Duration::from_nanos(self.rng().between(lo, hi)).min(self.max)
            }
        }
    }
}

impl Iterator for Backoff {
    type Item = Duration;

    /// The next delay. Never `None`.
    #[inline]
    fn next(&mut self) -> Option<Duration> {
        self.retries = self.retries.saturating_add(1);
        let delay = match self.jitter.0 {
            JitterKind::Ratio(0.0) => self.base(self.retries),
            _ => self.jittered(),
        };
        self.prev = delay;
        Some(delay)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (usize::MAX, None)
    }
}

/// `base^exp` by squaring (`f64::powi` needs `std`); overflows to infinity.
fn powi(mut base: f64, mut exp: u32) -> f64 {
    let mut acc = 1.0;
    while exp > 0 {
        if exp & 1 == 1 {
            acc *= base;
        }
        base *= base;
        exp >>= 1;
    }
    acc
}

fn nanos_u64(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

fn from_nanos(nanos: u128) -> Duration {
    const NANOS_PER_SEC: u128 = 1_000_000_000;
    match u64::try_from(nanos / NANOS_PER_SEC) {
        Ok(secs) => Duration::new(secs, (nanos % NANOS_PER_SEC) as u32),
        Err(_) => Duration::MAX,
    }
}

#[cfg(feature = "std")]
fn default_seed() -> u64 {
    use core::hash::{BuildHasher, Hasher};
    // Each `RandomState` has fresh keys; hashing nothing yields a value
    // derived from them.
    std::collections::hash_map::RandomState::new()
        .build_hasher()
        .finish()
}

#[cfg(not(feature = "std"))]
fn default_seed() -> u64 {
    0x005e_ed0f_a45e_c0de
}

/// SplitMix64 (Steele, Lea and Flood, 2014): tiny, fast, and good enough to
/// spread retries; not for cryptography.
#[derive(Clone, Debug)]
struct SplitMix64(u64);

impl SplitMix64 {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `[lo, hi]` (by multiply-and-shift; the bias is below
    /// 2^-64 per value).
    fn between(&mut self, lo: u64, hi: u64) -> u64 {
        debug_assert!(lo <= hi);
        let span = u128::from(hi - lo) + 1;
        lo + ((u128::from(self.next_u64()) * span) >> 64) as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn exponential_schedule_is_exact_and_capped() {
        let mut b = Backoff::exponential(ms(100), 2.0, ms(1000)).unwrap();
        let got: [Duration; 6] = core::array::from_fn(|_| b.next().unwrap());
        assert_eq!(
            got,
            [ms(100), ms(200), ms(400), ms(800), ms(1000), ms(1000)]
        );
    }

    #[test]
    fn delays_saturate_after_many_retries() {
        let mut b = Backoff::exponential(ms(1), 10.0, Duration::MAX).unwrap();
        let mut last = Duration::ZERO;
        for _ in 0..1000 {
            let d = b.next().unwrap();
            assert!(d >= last);
            last = d;
        }
        assert_eq!(last, Duration::MAX);
        // A retry count past u32 stays at the cap too.
        b.retries = u32::MAX;
        assert_eq!(b.next(), Some(Duration::MAX));
    }

    #[test]
    fn jitter_stays_in_range_and_is_repeatable_with_a_seed() {
        for (jitter, lo_share) in [(Jitter::FULL, 0.0), (Jitter::EQUAL, 0.5)] {
            let make = || {
                Backoff::exponential(ms(100), 2.0, ms(800))
                    .unwrap()
                    .with_jitter(jitter)
                    .with_seed(42)
            };
            let caps = [100, 200, 400, 800, 800, 800, 800, 800];
            let mut distinct = false;
            for ((a, b), cap) in make().zip(make()).zip(caps) {
                assert_eq!(a, b, "same seed, same delays");
                assert!(a <= ms(cap) && a >= ms(cap).mul_f64(lo_share), "{a:?}");
                distinct |= a != ms(cap);
            }
            assert!(distinct, "jitter changed nothing");
        }
    }

    #[test]
    fn decorrelated_jitter_stays_between_initial_and_max() {
        let b = Backoff::exponential(ms(10), 2.0, ms(500))
            .unwrap()
            .with_jitter(Jitter::DECORRELATED)
            .with_seed(1);
        let mut prev = ms(10);
        for d in b.take(100) {
            assert!(d >= ms(10) && d <= ms(500), "{d:?}");
            assert!(d <= prev * 3, "{d:?} > 3 * {prev:?}");
            prev = d;
        }
    }

    #[test]
    fn bad_parameters_are_rejected() {
        for factor in [0.5, -1.0, f64::NAN, f64::INFINITY] {
            assert!(matches!(
                Backoff::exponential(ms(1), factor, ms(2)),
                Err(BackoffError::InvalidFactor { .. })
            ));
        }
        assert_eq!(
            Backoff::exponential(ms(2), 2.0, ms(1)).unwrap_err(),
            BackoffError::MaxBelowInitial {
                initial: ms(2),
                max: ms(1)
            }
        );
        for ratio in [-0.1, 1.1, f64::NAN, f64::INFINITY] {
            assert!(matches!(
                Jitter::ratio(ratio),
                Err(BackoffError::JitterOutOfRange { .. })
            ));
        }
    }
}

//! A point on a runtime's monotonic clock.

use core::{fmt, ops, time::Duration};

/// A point on a [`Timer`](crate::rt::Timer)'s monotonic clock.
///
/// Unlike `std::time::Instant` it exists on `no_std`: it is the time elapsed
/// since the clock's own origin (for the compat crates, the first time the
/// clock was read in this process; for the virtual clock, its start).
/// Instants from different timers are not comparable.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Instant {
    since_origin: Duration,
}

impl Instant {
    /// The clock's origin.
    pub const ORIGIN: Instant = Instant {
        since_origin: Duration::ZERO,
    };

    /// The instant `since_origin` after the clock's origin.
    pub const fn from_origin(since_origin: Duration) -> Self {
        Self { since_origin }
    }

    /// Time from the clock's origin to this instant.
    pub const fn since_origin(self) -> Duration {
        self.since_origin
    }

    /// Time from `earlier` to `self`, or zero if `earlier` is later.
    pub fn saturating_duration_since(self, earlier: Instant) -> Duration {
        self.since_origin.saturating_sub(earlier.since_origin)
    }

    /// `self + duration`, or `None` on overflow.
    pub fn checked_add(self, duration: Duration) -> Option<Instant> {
        self.since_origin
            .checked_add(duration)
            .map(Instant::from_origin)
    }

    /// `self + duration`, saturating at the largest representable instant.
    pub fn saturating_add(self, duration: Duration) -> Instant {
        Instant::from_origin(self.since_origin.saturating_add(duration))
    }
}

#[cfg(feature = "std")]
#[cfg_attr(docsrs, doc(cfg(feature = "std")))]
impl Instant {
    /// `instant` on the process-wide clock that the `std`-based runtimes
    /// (the compat crates) share.
    ///
    /// That clock's origin is fixed the first time this is called in the
    /// process; earlier `std` instants map to [`Instant::ORIGIN`]. Readings
    /// of a monotonic `std` clock stay monotonic.
    ///
    /// # Examples
    /// ```
    /// use anysync::time::Instant;
    ///
    /// let a = Instant::from_std(std::time::Instant::now());
    /// let b = Instant::from_std(std::time::Instant::now());
    /// assert!(b >= a);
    /// ```
    #[inline]
    pub fn from_std(instant: std::time::Instant) -> Instant {
        static ORIGIN: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
        let origin = *ORIGIN.get_or_init(|| instant.min(std::time::Instant::now()));
        Instant::from_origin(instant.saturating_duration_since(origin))
    }
}

impl ops::Add<Duration> for Instant {
    type Output = Instant;

    /// # Panics
    /// On overflow; use [`Instant::saturating_add`] to avoid it.
    fn add(self, rhs: Duration) -> Instant {
        self.checked_add(rhs)
            .expect("overflow when adding a duration to an Instant")
    }
}

impl ops::Sub for Instant {
    type Output = Duration;

    /// Saturates at zero, like [`Instant::saturating_duration_since`].
    fn sub(self, rhs: Instant) -> Duration {
        self.saturating_duration_since(rhs)
    }
}

impl fmt::Debug for Instant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Instant(+{:?})", self.since_origin)
    }
}

//! `interval`: a tick every period, with a policy for missed ticks.

use alloc::boxed::Box;
use core::{
    fmt,
    future::Future,
    pin::Pin,
    task::{Context, Poll},
    time::Duration,
};

use futures_core::{FusedFuture, FusedStream, Stream};

use crate::{rt::Timer, time::Instant};

/// What an [`Interval`] does when ticks were missed because it was polled
/// too late.
///
/// A tick counts as *missed* when it is completed so late that the tick
/// after it is already due, that is, at or after `deadline + period`. A
/// tick completed later than its deadline but before the next one is due is
/// merely late: the schedule keeps its phase under every policy.
///
/// With a period of 100 ms, ticks due at 0, 100, 200 ms, and the caller
/// busy from 100 ms to 350 ms (the tick due at 100 ms completes at 350 ms):
///
/// | policy  | following ticks complete at | following deadlines |
/// |---------|-----------------------------|---------------------|
/// | `Burst` | 350, 350, 350, 400, ...     | 200, 300, 400, ...  |
/// | `Delay` | 450, 550, ...               | 450, 550, ...       |
/// | `Skip`  | 400, 500, ...               | 400, 500, ...       |
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum MissedTickBehavior {
    /// Complete every missed tick at once, back to back, until the schedule
    /// has caught up; the original phase is kept. The default.
    #[default]
    Burst,
    /// Start the schedule afresh: the next tick is one period after the
    /// late one completed.
    Delay,
    /// Drop the missed ticks: the next tick is the first deadline of the
    /// original schedule that is still in the future.
    Skip,
}

/// Ticks every `period` on `timer`'s clock; the first tick completes at once.
///
/// Each [`tick`](Interval::tick) returns the scheduled instant of the tick
/// (not the time it was noticed). Ticks missed because the interval was
/// polled too late are handled as [`MissedTickBehavior`] says (by default
/// `Burst`). The interval is also a [`Stream`] of the same instants that
/// never ends.
///
/// # Panics
/// If `period` is zero: "interval: `period` must be greater than zero".
///
/// # Examples
/// ```
/// use std::time::Duration;
/// use anysync::{rt::{virtual_time::VirtualTime, Instant}, time::interval};
///
/// VirtualTime::new().block_on(|rt| async move {
///     let mut ticks = interval(rt.clone(), Duration::from_millis(100));
///     assert_eq!(ticks.tick().await, Instant::ORIGIN);
///     assert_eq!(ticks.tick().await.since_origin(), Duration::from_millis(100));
///     assert_eq!(ticks.tick().await.since_origin(), Duration::from_millis(200));
/// });
/// ```
#[track_caller]
pub fn interval<T: Timer>(timer: T, period: Duration) -> Interval<T> {
    let start = timer.now();
    interval_at(timer, start, period)
}

/// Like [`interval`], with the first tick at `start` instead of now.
///
/// # Panics
/// If `period` is zero: "interval: `period` must be greater than zero".
///
/// # Examples
/// ```
/// use std::time::Duration;
/// use anysync::{rt::virtual_time::VirtualTime, time::interval_at};
///
/// VirtualTime::new().block_on(|rt| async move {
///     let start = rt.now() + Duration::from_secs(1);
///     let mut ticks = interval_at(rt.clone(), start, Duration::from_secs(1));
///     assert_eq!(ticks.tick().await, start);
///     assert_eq!(rt.now(), start);
/// });
/// ```
#[track_caller]
pub fn interval_at<T: Timer>(timer: T, start: Instant, period: Duration) -> Interval<T> {
    assert!(
        !period.is_zero(),
        "interval: `period` must be greater than zero"
    );
    Interval {
        timer,
        next: start,
        period,
        behavior: MissedTickBehavior::Burst,
        sleep: None,
    }
}

/// A schedule of ticks, made by [`interval`] or [`interval_at`].
///
/// # Implementation notes
///
/// `next` is the deadline of the coming tick. The sleep towards it is made
/// lazily and boxed, so the interval itself is `Unpin` whatever the timer's
/// sleep type is. When a tick completes, the next deadline is computed with
/// saturating arithmetic: a schedule that would run past the last
/// representable instant stops there (and a timer treats that as "never").
pub struct Interval<T: Timer> {
    timer: T,
    next: Instant,
    period: Duration,
    behavior: MissedTickBehavior,
    sleep: Option<Pin<Box<T::Sleep>>>,
}

// The timer is never pinned: only the boxed sleep is, and a `Box` may move.
impl<T: Timer> Unpin for Interval<T> {}

impl<T: Timer> Interval<T> {
    /// Waits for the next tick and returns its scheduled instant.
    ///
    /// # Cancel safety
    /// This method is cancel safe: dropping the future before it completes has no effect.
    /// (The tick it was waiting for is returned by the next call.)
    pub fn tick(&mut self) -> Tick<'_, T> {
        Tick {
            interval: self,
            done: false,
        }
    }

    /// Polls for the next tick: the poll form of [`tick`](Self::tick).
    pub fn poll_tick(&mut self, cx: &mut Context<'_>) -> Poll<Instant> {
        let deadline = self.next;
        if self.timer.now() < deadline {
            let timer = &self.timer;
            let sleep = self
                .sleep
                .get_or_insert_with(|| Box::pin(timer.sleep_until(deadline)));
            if sleep.as_mut().poll(cx).is_pending() {
                return Poll::Pending;
            }
        }
        self.sleep = None;
        // A sleep may end a hair before the clock reads its deadline.
        let now = self.timer.now().max(deadline);
        self.next = next_deadline(self.behavior, deadline, now, self.period);
        Poll::Ready(deadline)
    }

    /// Restarts the schedule: the next tick is one period from now.
    pub fn reset(&mut self) {
        self.reset_at(self.timer.now().saturating_add(self.period));
    }

    /// Moves the next tick to `deadline`; later ticks follow from it.
    pub fn reset_at(&mut self, deadline: Instant) {
        self.next = deadline;
        self.sleep = None;
    }

    /// The period between ticks.
    pub fn period(&self) -> Duration {
        self.period
    }

    /// The scheduled instant of the next tick.
    pub fn next_tick(&self) -> Instant {
        self.next
    }

    /// The policy for missed ticks.
    pub fn missed_tick_behavior(&self) -> MissedTickBehavior {
        self.behavior
    }

    /// Sets the policy for missed ticks.
    pub fn set_missed_tick_behavior(&mut self, behavior: MissedTickBehavior) {
        self.behavior = behavior;
    }
}

/// The deadline after a tick due at `deadline` that completed at `now`.
fn next_deadline(
    behavior: MissedTickBehavior,
    deadline: Instant,
    now: Instant,
    period: Duration,
) -> Instant {
    let behind = now.saturating_duration_since(deadline);
    if behind < period {
        return deadline.saturating_add(period);
    }
    match behavior {
        MissedTickBehavior::Burst => deadline.saturating_add(period),
        MissedTickBehavior::Delay => now.saturating_add(period),
        MissedTickBehavior::Skip => {
            // The first deadline of the schedule strictly after `now`.
            let periods = behind.as_nanos() / period.as_nanos() + 1;
            let ahead = period.as_nanos().saturating_mul(periods);
            match u64::try_from(ahead / 1_000_000_000) {
                Ok(secs) => {
                    deadline.saturating_add(Duration::new(secs, (ahead % 1_000_000_000) as u32))
                }
                Err(_) => deadline.saturating_add(Duration::MAX),
            }
        }
    }
}

impl<T: Timer> Stream for Interval<T> {
    type Item = Instant;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Instant>> {
        self.get_mut().poll_tick(cx).map(Some)
    }
}

impl<T: Timer> FusedStream for Interval<T> {
    fn is_terminated(&self) -> bool {
        false
    }
}

impl<T: Timer + fmt::Debug> fmt::Debug for Interval<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Interval")
            .field("timer", &self.timer)
            .field("next", &self.next)
            .field("period", &self.period)
            .field("missed_tick_behavior", &self.behavior)
            .finish()
    }
}

/// Future returned by [`Interval::tick`].
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct Tick<'a, T: Timer> {
    interval: &'a mut Interval<T>,
    done: bool,
}

impl<T: Timer> Future for Tick<'_, T> {
    type Output = Instant;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Instant> {
        assert!(!self.done, "`Tick` polled after completion");
        let out = self.interval.poll_tick(cx);
        self.done = out.is_ready();
        out
    }
}

impl<T: Timer> FusedFuture for Tick<'_, T> {
    fn is_terminated(&self) -> bool {
        self.done
    }
}

impl<T: Timer> fmt::Debug for Tick<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tick")
            .field("next", &self.interval.next)
            .field("done", &self.done)
            .finish()
    }
}

#[cfg(all(test, feature = "std"))]
mod tests {
    use super::*;
    use crate::rt::virtual_time::VirtualTime;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    fn at(n: u64) -> Instant {
        Instant::from_origin(ms(n))
    }

    /// Ticks due at 0 and 100 ms, then the caller is busy until 350 ms.
    fn late_run(behavior: MissedTickBehavior) -> ([Instant; 4], [Instant; 4]) {
        VirtualTime::new().block_on(|rt| async move {
            let mut ticks = interval(rt.clone(), ms(100));
            ticks.set_missed_tick_behavior(behavior);
            assert_eq!(ticks.tick().await, at(0));
            rt.sleep(ms(350)).await;
            let mut due = [Instant::ORIGIN; 4];
            let mut seen = [Instant::ORIGIN; 4];
            for i in 0..4 {
                due[i] = ticks.tick().await;
                seen[i] = rt.now();
            }
            (due, seen)
        })
    }

    #[test]
    fn burst_catches_up_back_to_back() {
        let (due, seen) = late_run(MissedTickBehavior::Burst);
        assert_eq!(due, [at(100), at(200), at(300), at(400)]);
        assert_eq!(seen, [at(350), at(350), at(350), at(400)]);
    }

    #[test]
    fn delay_restarts_from_the_late_tick() {
        let (due, seen) = late_run(MissedTickBehavior::Delay);
        assert_eq!(due, [at(100), at(450), at(550), at(650)]);
        assert_eq!(seen, [at(350), at(450), at(550), at(650)]);
    }

    #[test]
    fn skip_keeps_the_phase() {
        let (due, seen) = late_run(MissedTickBehavior::Skip);
        assert_eq!(due, [at(100), at(400), at(500), at(600)]);
        assert_eq!(seen, [at(350), at(400), at(500), at(600)]);
    }

    #[test]
    fn a_late_but_not_missed_tick_keeps_the_phase_under_delay() {
        let seen = VirtualTime::new().block_on(|rt| async move {
            let mut ticks = interval(rt.clone(), ms(100));
            ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
            ticks.tick().await;
            rt.sleep(ms(150)).await;
            [ticks.tick().await, ticks.tick().await]
        });
        assert_eq!(seen, [at(100), at(200)]);
    }

    #[test]
    #[should_panic(expected = "`period` must be greater than zero")]
    fn zero_period_panics() {
        let _ = interval(VirtualTime::new(), Duration::ZERO);
    }

    #[test]
    fn huge_period_saturates_instead_of_overflowing() {
        VirtualTime::new().block_on(|rt| async move {
            let mut ticks = interval(rt.clone(), Duration::MAX);
            assert_eq!(ticks.tick().await, Instant::ORIGIN);
            let next = ticks.next_tick();
            assert!(next > Instant::ORIGIN);
            // The next tick never comes: a short timeout wins.
            let res = crate::time::timeout(&rt, ms(5), ticks.tick()).await;
            assert!(res.is_err());
        });
    }

    #[test]
    fn dropped_tick_leaves_the_schedule_alone() {
        VirtualTime::new().block_on(|rt| async move {
            let mut ticks = interval(rt.clone(), ms(100));
            ticks.tick().await;
            assert!(crate::time::timeout(&rt, ms(30), ticks.tick())
                .await
                .is_err());
            assert_eq!(ticks.tick().await, at(100));
            assert_eq!(rt.now(), at(100));
        });
    }
}

//! `TaskTracker`'s wait, hand-polled.

use crate::{task::TaskTracker, util::test::TestTask};

/// Closing with a task still tracked leaves the wait pending; the last
/// task's end wakes it, and the woken wait completes and is dropped
/// without taking the event's lock.
#[test]
fn a_woken_wait_completes_and_drops_without_the_lock() {
    let tracker = TaskTracker::new();
    let token = tracker.token();
    let mut wait = TestTask::new(tracker.wait());
    wait.pending();
    assert!(tracker.close());
    wait.pending();
    drop(token);
    assert_eq!(wait.wakes(), 1);
    let locks = crate::util::test::locks_taken(move || {
        wait.ready();
        drop(wait);
    });
    assert_eq!(locks, 0);
}

/// The pulse that releases the waits clears its flag even if a waiter's
/// wake panics: a flag left raised would make every later wait (after
/// `reopen`) complete at once, or spin.
#[cfg(feature = "std")]
#[test]
fn a_wake_that_panics_in_the_pulse_leaves_later_waits_pending() {
    use crate::util::hostile::{panics, Hostile};
    let tracker = TaskTracker::new();
    let token = tracker.token();
    let bad = Hostile::new();
    let mut wait = TestTask::new(tracker.wait());
    assert!(wait.poll_with(&bad.waker()).is_pending());
    let mut other = TestTask::new(tracker.wait());
    other.pending();
    tracker.close();
    bad.panic_on_wake(true);
    assert!(panics(|| drop(token)));
    bad.panic_on_wake(false);
    assert_eq!(other.wakes(), 1, "the other wait was woken too");
    other.ready();
    wait.ready();
    assert!(tracker.reopen());
    let token = tracker.token();
    let mut later = TestTask::new(tracker.wait());
    later.pending();
    tracker.close();
    later.pending();
    drop(token);
    later.ready();
}

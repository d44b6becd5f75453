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

//! `Shutdown::run`, hand-polled.

use core::{cell::Cell, task::Poll, time::Duration};

use crate::{
    rt::{virtual_time::VirtualTime, Signal},
    task::Shutdown,
    util::test::TestTask,
};

/// A signal that arrives after `run` has started waiting: the cancel it
/// triggers wakes `run`'s own queued wait, which `run` consumes lock-free,
/// so dropping the finished `run` takes no lock.
#[test]
fn a_signal_after_the_wait_began_leaves_nothing_to_unlink() {
    let shutdown = Shutdown::new(VirtualTime::new(), Duration::MAX);
    let arrived = Cell::new(false);
    let signals = futures_util::stream::poll_fn(|_| {
        if arrived.replace(false) {
            Poll::Ready(Some(Signal::Terminate))
        } else {
            Poll::Pending
        }
    });
    let mut run = TestTask::new(shutdown.run(signals));
    run.pending();
    arrived.set(true);
    let report = run.ready();
    assert_eq!(report.signal, Some(Signal::Terminate));
    assert!(report.is_clean());
    let locks = crate::util::test::locks_taken(move || {
        drop(run);
    });
    assert_eq!(locks, 0);
}

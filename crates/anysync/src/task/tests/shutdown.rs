//! `Shutdown::run`, hand-polled.

use core::{cell::Cell, task::Poll, time::Duration};

use crate::{
    rt::{virtual_time::VirtualTime, Signal},
    task::Shutdown,
    util::{
        hostile::{panics, Hostile},
        test::TestTask,
    },
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

/// A signal whose cancel wakes a token waiter that panics: the panic
/// reaches `run`'s caller, and the tracker is closed anyway (left open,
/// every wait on it would wait for ever, with `run` gone).
#[test]
fn a_signal_whose_cancel_wake_panics_still_closes_the_tracker() {
    let shutdown = Shutdown::new(VirtualTime::new(), Duration::MAX);
    let bad = Hostile::new();
    let mut waiter = TestTask::new(shutdown.token().cancelled());
    assert!(waiter.poll_with(&bad.waker()).is_pending());
    bad.panic_on_wake(true);
    let mut run = TestTask::new(shutdown.run(futures_util::stream::iter([Signal::Terminate])));
    assert!(panics(|| {
        let _ = run.poll();
    }));
    assert!(shutdown.is_shutting_down());
    assert!(shutdown.tracker().is_closed(), "the tracker was closed");
    waiter.ready();
    drop(run);
}

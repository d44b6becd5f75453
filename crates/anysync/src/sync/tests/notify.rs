//! Hand-polled `Notify` tests: stored permit, wake order, forwarding on drop
//! and broadcast.

use core::pin::pin;

use alloc::{sync::Arc, vec::Vec};

use crate::{
    sync::Notify,
    util::{
        hostile::{panics, Hostile},
        test::TestTask,
    },
};

#[test]
fn one_stored_permit_however_many_notifies() {
    // Repeated `notify_one` with no waiter stores a single permit.
    let n = Notify::new();
    n.notify_one();
    n.notify_one();
    n.notify_one();
    TestTask::new(n.notified()).ready();
    TestTask::new(n.notified()).pending();
}

#[test]
fn notify_one_wakes_the_first_and_notify_last_the_last() {
    // `notify_one` wakes only the first waiter, `notify_last` only the last.
    let n = Notify::new();
    let mut w: alloc::vec::Vec<_> = (0..3).map(|_| TestTask::new(n.notified())).collect();
    for t in &mut w {
        t.pending();
    }
    n.notify_one();
    assert_eq!((w[0].wakes(), w[1].wakes(), w[2].wakes()), (1, 0, 0));
    n.notify_last();
    assert_eq!((w[1].wakes(), w[2].wakes()), (0, 1));
    w[0].ready();
    w[2].ready();
    w[1].pending();
    assert_eq!(n.waiters(), 1);
}

#[test]
fn dropped_notified_waiter_forwards_and_unnotified_does_not() {
    // A notified waiter dropped unpolled forwards the notification.
    let n = Notify::new();
    let mut n1 = TestTask::new(n.notified());
    let mut n2 = TestTask::new(n.notified());
    let mut n3 = TestTask::new(n.notified());
    n1.pending();
    n2.pending();
    n3.pending();
    n.notify_one();
    assert_eq!(n1.wakes(), 1);
    n3.cancel(); // never notified: forwards nothing
    assert_eq!(n2.wakes(), 0);
    n1.cancel(); // notified: passes it on
    assert_eq!(n2.wakes(), 1);
    n2.ready();
    TestTask::new(n.notified()).pending(); // nothing stored
}

#[test]
fn dropped_notified_waiter_with_no_one_behind_stores_the_permit() {
    let n = Notify::new();
    let mut n1 = TestTask::new(n.notified());
    n1.pending();
    n.notify_one();
    n1.cancel();
    TestTask::new(n.notified()).ready();
}

#[test]
fn notify_all_wakes_everyone_and_stores_nothing() {
    // `notify_all` wakes every waiter and stores no permit.
    let n = Notify::new();
    let mut w: alloc::vec::Vec<_> = (0..40).map(|_| TestTask::new(n.notified())).collect();
    for t in &mut w {
        t.pending();
    }
    n.notify_all();
    for t in &mut w {
        assert_eq!(t.wakes(), 1);
        t.ready();
    }
    TestTask::new(n.notified()).pending();
    assert_eq!(n.waiters(), 0);
}

#[test]
fn notify_one_after_notify_all_is_not_swallowed() {
    // A `notify_one` after `notify_all` survives the old waiter being dropped.
    let n = Notify::new();
    let mut n1 = TestTask::new(n.notified());
    n1.pending();
    n.notify_all();
    n.notify_one();
    n1.cancel(); // woken by notify_all: must not eat the notify_one
    TestTask::new(n.notified()).ready();
}

#[test]
fn notified_counts_for_notify_all_from_creation() {
    let n = Notify::new();
    let mut f = TestTask::new(n.notified());
    n.notify_all();
    f.ready();
    assert_eq!(f.wakes(), 0);
}

#[test]
fn enable_registers_for_notify_one_before_the_first_poll() {
    // Register, check, then wait: no lost wake-up.
    let n = Notify::new();
    let mut f = pin!(n.notified());
    assert!(!f.as_mut().enable());
    n.notify_one(); // goes to `f`, not to the stored permit
    TestTask::new(n.notified()).pending();
    futures_executor::block_on(f);
}

#[test]
fn enable_on_a_stored_permit_reports_ready() {
    let n = Notify::new();
    n.notify_one();
    let mut f = pin!(n.notified());
    assert!(f.as_mut().enable());
    futures_executor::block_on(f);
    TestTask::new(n.notified()).pending();
}

#[test]
fn waker_update_wakes_only_the_latest_waker() {
    let n = Notify::new();
    let mut t = TestTask::new(n.notified());
    let (a, a_count) = futures_test::task::new_count_waker();
    let (b, b_count) = futures_test::task::new_count_waker();
    assert!(t.poll_with(&a).is_pending());
    assert!(t.poll_with(&b).is_pending());
    n.notify_one();
    assert_eq!((a_count.get(), b_count.get()), (0, 1));
}

#[test]
fn a_permit_taken_by_enable_is_passed_on_if_the_future_is_dropped() {
    let n = Notify::new();
    n.notify_one();
    {
        let mut f = core::pin::pin!(n.notified());
        assert!(f.as_mut().enable());
    } // dropped without being polled: the permit goes back
    TestTask::new(n.notified()).ready();
}

#[test]
fn enable_on_a_queued_future_reports_a_delivered_notification() {
    let n = Notify::new();
    let mut f = core::pin::pin!(n.notified());
    assert!(!f.as_mut().enable());
    n.notify_one();
    assert!(f.as_mut().enable(), "the notify_one was delivered to it");
    futures_executor::block_on(f);
}

#[test]
fn a_wake_that_panics_in_notify_all_strands_no_one() {
    let n = Notify::new();
    let hostile = Hostile::new();
    hostile.panic_on_wake(true);
    // First in line, so its wake panics in the first batch; 40 more
    // waiters need two further batches.
    let mut bad = TestTask::new(n.notified());
    assert!(bad.poll_with(&hostile.waker()).is_pending());
    let mut w: Vec<_> = (0..40).map(|_| TestTask::new(n.notified())).collect();
    for t in &mut w {
        t.pending();
    }
    assert!(panics(|| n.notify_all()), "the wake's panic propagates");
    assert_eq!(hostile.wakes(), 1);
    for t in &mut w {
        assert_eq!(t.wakes(), 1);
        t.ready();
    }
    bad.ready();
    let stats = n.statistics();
    assert_eq!((stats.waiters, stats.permit), (0, false));
    // Still works: a notify_one reaches the next waiter.
    let mut late = TestTask::new(n.notified());
    late.pending();
    n.notify_one();
    assert_eq!(late.wakes(), 1);
    late.ready();
}

#[test]
fn a_wake_that_panics_in_notify_one_keeps_the_notification() {
    let n = Notify::new();
    let hostile = Hostile::new();
    hostile.panic_on_wake(true);
    let mut a = TestTask::new(n.notified());
    assert!(a.poll_with(&hostile.waker()).is_pending());
    let mut b = TestTask::new(n.notified());
    b.pending();
    assert!(panics(|| n.notify_one()));
    // `a` was chosen; dropped, it passes the notification on.
    a.cancel();
    assert_eq!(b.wakes(), 1);
    b.ready();
    assert_eq!(n.statistics().waiters, 0);
}

#[test]
fn a_waker_clone_that_panics_leaves_notify_unchanged() {
    let n = Notify::new();
    let hostile = Hostile::new();
    hostile.panic_on_clone(true);
    // First poll: registering clones the waker.
    let mut t = TestTask::new(n.notified());
    assert!(panics(|| {
        let _ = t.poll_with(&hostile.waker());
    }));
    assert_eq!(n.statistics().waiters, 0);
    // Nobody is registered, so a notify_one is stored, not lost.
    n.notify_one();
    assert!(n.statistics().permit);
    t.ready();
    assert!(!n.statistics().permit);
    // Later poll: replacing the waker clones it.
    let mut t = TestTask::new(n.notified());
    t.pending();
    assert!(panics(|| {
        let _ = t.poll_with(&hostile.waker());
    }));
    assert_eq!(n.statistics().waiters, 1);
    n.notify_one();
    assert_eq!(t.wakes(), 1, "the waker from before the panic is kept");
    t.ready();
    let stats = n.statistics();
    assert_eq!((stats.waiters, stats.permit), (0, false));
}

#[test]
fn wakers_that_re_enter_notify_are_never_run_under_its_lock() {
    let n = Arc::new(Notify::new());
    let hostile = Hostile::new();
    let n1 = Arc::clone(&n);
    hostile.on_wake(move || {
        // Deadlocks (or trips the detector) if the lock is held.
        let _ = n1.waiters();
        n1.notify_one();
    });
    let n2 = Arc::clone(&n);
    hostile.on_drop(move || {
        let _ = n2.waiters();
    });
    let (counting, _) = futures_test::task::new_count_waker();

    // A replaced waker, and the waker of a cancelled, never woken wait.
    let mut a = TestTask::new(n.notified());
    assert!(a.poll_with(&hostile.waker()).is_pending());
    assert!(a.poll_with(&counting).is_pending());
    assert!(a.poll_with(&hostile.waker()).is_pending());
    let mut gone = TestTask::new(n.notified());
    assert!(gone.poll_with(&hostile.waker()).is_pending());
    gone.cancel();
    let mut b = TestTask::new(n.notified());
    b.pending();
    // `a` is woken; its hook notifies again, which reaches `b`.
    n.notify_one();
    assert_eq!(b.wakes(), 1);
    a.ready();
    b.ready();

    // A woken waiter dropped passes its notification to a hostile one,
    // woken with the lock released; that hook's notify is stored.
    let mut c = TestTask::new(n.notified());
    c.pending();
    let mut d = TestTask::new(n.notified());
    assert!(d.poll_with(&hostile.waker()).is_pending());
    n.notify_one();
    c.cancel();
    d.ready();
    TestTask::new(n.notified()).ready();

    assert_eq!(hostile.wakes(), 2);
    assert!(hostile.drops() >= 4);
    assert_eq!(hostile.under_lock(), 0);
    let stats = n.statistics();
    assert_eq!((stats.waiters, stats.permit), (0, false));
}

#[test]
fn a_notification_taken_by_enable_on_a_queued_future_is_passed_on_if_dropped() {
    let n = Notify::new();
    let mut f = alloc::boxed::Box::pin(n.notified());
    assert!(!f.as_mut().enable());
    let mut next = TestTask::new(n.notified());
    next.pending();
    n.notify_one();
    assert!(f.as_mut().enable(), "delivered to `f`");
    assert_eq!(next.wakes(), 0);
    drop(f); // never polled after taking it: it goes to the next waiter
    assert_eq!(next.wakes(), 1);
    next.ready();
    let stats = n.statistics();
    assert_eq!((stats.waiters, stats.permit), (0, false));
}

#[test]
fn a_woken_waiter_dropped_during_a_panic_passes_on_without_aborting() {
    // The pass-on wakes a waker that panics while the dropping thread is
    // already unwinding: the second panic is caught, not an abort, and the
    // notification still reaches the next waiter.
    let hostile = Hostile::new();
    let n = Notify::new();
    let mut first = TestTask::new(n.notified());
    first.pending();
    let mut second = TestTask::new(n.notified());
    assert!(second.poll_with(&hostile.waker()).is_pending());
    n.notify_one(); // goes to `first`
    hostile.panic_on_wake(true);
    assert!(panics(move || {
        let _first = first; // dropped while unwinding: passes on to `second`
        panic!("user code panics while a woken waiter is alive");
    }));
    assert_eq!(
        hostile.wakes(),
        1,
        "the notification reached the next waiter"
    );
    hostile.panic_on_wake(false);
    second.ready();
}

#[test]
fn notify_last_given_to_a_dropped_waiter_goes_to_the_next_newest() {
    let n = Notify::new();
    let mut w: Vec<_> = (0..3).map(|_| TestTask::new(n.notified())).collect();
    for t in &mut w {
        t.pending();
    }
    n.notify_last();
    assert_eq!((w[0].wakes(), w[1].wakes(), w[2].wakes()), (0, 0, 1));
    w[2].cancel(); // woken by `notify_last`, dropped unpolled
    assert_eq!((w[0].wakes(), w[1].wakes()), (0, 1));
    w[1].ready();
    w[0].pending();
    assert_eq!(n.waiters(), 1);
}

#[test]
fn notify_last_taken_by_enable_goes_to_the_next_newest_when_dropped() {
    let n = Notify::new();
    let mut older = TestTask::new(n.notified());
    let mut middle = TestTask::new(n.notified());
    older.pending();
    middle.pending();
    let mut newest = alloc::boxed::Box::pin(n.notified());
    assert!(!newest.as_mut().enable());
    n.notify_last();
    assert!(newest.as_mut().enable()); // takes the wake-up
    drop(newest);
    assert_eq!((older.wakes(), middle.wakes()), (0, 1));
    middle.ready();
    older.pending();
}

#[test]
fn a_stored_permit_is_consumed_by_the_first_poll_and_the_future_stays_small() {
    let n = Notify::new();
    n.notify_one();
    let mut t = TestTask::new(n.notified());
    t.ready();
    drop(t);
    // Dropped before any poll: no permit consumed.
    n.notify_one();
    drop(n.notified());
    TestTask::new(n.notified()).ready();
    assert_eq!(n.waiters(), 0);
    // The node is inline: every `notified()` writes and moves all of it.
    // (Not under miri, whose CI run randomises field layout.)
    let size = core::mem::size_of::<crate::sync::futures::Notified<'_>>();
    assert!(
        cfg!(miri) || size <= 12 * core::mem::size_of::<usize>(),
        "{size}"
    );
}

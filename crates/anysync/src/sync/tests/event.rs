//! Hand-polled `Event` tests: `set` latches for current and future waiters,
//! `clear` does not un-wake registered ones.

use alloc::{sync::Arc, vec::Vec};

use crate::{
    sync::Event,
    util::{
        hostile::{panics, Hostile},
        test::TestTask,
    },
};

#[test]
fn set_releases_every_current_and_later_waiter() {
    let e = Event::new();
    let mut w: alloc::vec::Vec<_> = (0..20).map(|_| TestTask::new(e.wait())).collect();
    for t in &mut w {
        t.pending();
    }
    e.set();
    for t in &mut w {
        assert_eq!(t.wakes(), 1);
        t.ready();
    }
    TestTask::new(e.wait()).ready();
    assert!(e.is_set());
    assert_eq!(e.waiters(), 0);
}

#[test]
fn set_then_clear_still_releases_registered_waiters() {
    let e = Event::new();
    let mut a = TestTask::new(e.wait());
    a.pending();
    e.set();
    e.clear();
    a.ready();
    TestTask::new(e.wait()).pending();
}

#[test]
fn a_wait_counts_from_its_creation() {
    let e = Event::new();
    let mut a = TestTask::new(e.wait());
    e.set();
    e.clear();
    a.ready();
}

#[test]
fn cancelled_waiter_leaves_the_queue() {
    let e = Event::new();
    let mut a = TestTask::new(e.wait());
    a.pending();
    assert_eq!(e.waiters(), 1);
    a.cancel();
    assert_eq!(e.waiters(), 0);
    e.set();
}

#[test]
fn set_twice_is_harmless() {
    let e = Event::new();
    e.set();
    e.set();
    TestTask::new(e.wait()).ready();
}

#[test]
fn wait_blocking_from_a_thread() {
    let e = alloc::sync::Arc::new(Event::new());
    let e2 = alloc::sync::Arc::clone(&e);
    let t = std::thread::spawn(move || e2.wait_blocking());
    e.set();
    t.join().unwrap();
}

#[test]
fn a_wake_that_panics_in_set_strands_no_one_and_set_still_works_after() {
    let e = Event::new();
    let hostile = Hostile::new();
    hostile.panic_on_wake(true);
    // First in line, so its wake panics in the first batch; 40 more
    // waiters need two further batches.
    let mut bad = TestTask::new(e.wait());
    assert!(bad.poll_with(&hostile.waker()).is_pending());
    let mut w: Vec<_> = (0..40).map(|_| TestTask::new(e.wait())).collect();
    for t in &mut w {
        t.pending();
    }
    assert!(panics(|| e.set()), "the wake's panic propagates");
    assert_eq!(hostile.wakes(), 1);
    for t in &mut w {
        assert_eq!(t.wakes(), 1);
        t.ready();
    }
    bad.ready();
    assert!(e.is_set());
    assert_eq!(e.waiters(), 0);
    // Not a no-op after the panic.
    e.clear();
    let mut late = TestTask::new(e.wait());
    late.pending();
    e.set();
    assert_eq!(late.wakes(), 1);
    late.ready();
}

#[test]
fn a_waker_clone_that_panics_leaves_the_event_unchanged() {
    let e = Event::new();
    let hostile = Hostile::new();
    hostile.panic_on_clone(true);
    // First poll: registering clones the waker.
    let mut t = TestTask::new(e.wait());
    assert!(panics(|| {
        let _ = t.poll_with(&hostile.waker());
    }));
    assert_eq!(e.waiters(), 0);
    t.pending();
    assert_eq!(e.waiters(), 1);
    // Later poll: replacing the waker clones it.
    assert!(panics(|| {
        let _ = t.poll_with(&hostile.waker());
    }));
    assert_eq!(e.waiters(), 1);
    e.set();
    assert_eq!(t.wakes(), 1, "the waker from before the panic is kept");
    t.ready();
    assert_eq!(e.waiters(), 0);
}

#[test]
fn wakers_that_re_enter_the_event_are_never_run_under_its_lock() {
    let e = Arc::new(Event::new());
    let hostile = Hostile::new();
    let e1 = Arc::clone(&e);
    hostile.on_wake(move || {
        // Deadlocks (or trips the detector) if the lock is held.
        let _ = e1.waiters();
        e1.set();
    });
    let e2 = Arc::clone(&e);
    hostile.on_drop(move || {
        let _ = e2.waiters();
    });
    let (counting, _) = futures_test::task::new_count_waker();

    // A replaced waker, and the waker of a cancelled wait.
    let mut a = TestTask::new(e.wait());
    assert!(a.poll_with(&hostile.waker()).is_pending());
    assert!(a.poll_with(&counting).is_pending());
    assert!(a.poll_with(&hostile.waker()).is_pending());
    let mut b = TestTask::new(e.wait());
    assert!(b.poll_with(&hostile.waker()).is_pending());
    b.cancel();
    assert_eq!(e.waiters(), 1);
    // Woken by `set`, whose hook sets the event again.
    e.set();
    a.ready();
    assert!(hostile.wakes() >= 1);
    assert!(hostile.drops() >= 3);
    assert_eq!(hostile.under_lock(), 0);
    assert_eq!(e.waiters(), 0);
}

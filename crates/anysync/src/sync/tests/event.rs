//! Hand-polled `Event` tests (SCENARIOS.md 43).

use crate::{sync::Event, util::test::TestTask};

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

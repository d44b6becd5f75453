//! `statistics()` snapshots of the primitives that had only accessors.

use crate::{
    sync::{Event, Mutex, Notify, Semaphore},
    util::test::TestTask,
};

#[test]
fn mutex_statistics_track_holder_and_waiters() {
    let m = Mutex::new(());
    assert_eq!((m.statistics().locked, m.statistics().waiters), (false, 0));
    let g = m.try_lock().unwrap();
    let mut w = TestTask::new(m.lock());
    w.pending();
    assert_eq!((m.statistics().locked, m.statistics().waiters), (true, 1));
    drop(g);
    drop(w.ready());
    assert_eq!((m.statistics().locked, m.statistics().waiters), (false, 0));
}

#[test]
fn event_statistics_track_flag_and_waiters() {
    let e = Event::new();
    let mut w = TestTask::new(e.wait());
    w.pending();
    assert_eq!((e.statistics().set, e.statistics().waiters), (false, 1));
    e.set();
    w.ready();
    assert_eq!((e.statistics().set, e.statistics().waiters), (true, 0));
}

#[test]
fn notify_statistics_track_permit_and_waiters() {
    let n = Notify::new();
    n.notify_one();
    assert_eq!((n.statistics().permit, n.statistics().waiters), (true, 0));
    let mut a = TestTask::new(n.notified());
    a.ready();
    let mut b = TestTask::new(n.notified());
    b.pending();
    assert_eq!((n.statistics().permit, n.statistics().waiters), (false, 1));
}

#[test]
fn semaphore_statistics_conserve_permits() {
    let s = Semaphore::new(5);
    let held = s.try_acquire_many(2).unwrap();
    let mut big = TestTask::new(s.acquire_many(5));
    big.pending();
    let st = s.statistics();
    // available + assigned + held == total
    assert_eq!(
        (st.available, st.assigned_to_waiters, st.waiters),
        (0, 3, 1)
    );
    assert_eq!(
        st.available + st.assigned_to_waiters + held.num_permits(),
        5
    );
    big.cancel();
    let st = s.statistics();
    assert_eq!(
        (st.available, st.assigned_to_waiters, st.waiters),
        (3, 0, 0)
    );
    s.close();
    assert!(s.statistics().closed);
}

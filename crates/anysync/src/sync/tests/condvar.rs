//! Hand-polled Condvar tests (notify order, handover on cancel) and its loom model.

use alloc::{sync::Arc, vec::Vec};

use crate::{
    sync::{Condvar, Mutex},
    util::{
        hostile::{panics, Hostile},
        test::TestTask,
    },
};

/// No waiter left, the mutex free.
#[track_caller]
fn assert_quiescent<T>(cv: &Condvar, m: &Mutex<T>) {
    assert_eq!(cv.statistics().waiters, 0);
    assert_eq!(m.waiters(), 0);
    assert!(m.try_lock().is_ok(), "mutex left locked");
}

/// After a panic: a new wait is woken by one `notify_one` and returns
/// with the lock, and everything is left as it was.
#[track_caller]
fn assert_still_works<T>(cv: &Condvar, m: &Mutex<T>) {
    let mut late = TestTask::new(cv.wait(m.try_lock().unwrap()));
    late.pending();
    cv.notify_one();
    assert_eq!(late.wakes(), 1);
    drop(late.ready());
    assert_quiescent(cv, m);
}

#[test]
fn wait_unlocks_at_once_and_returns_with_the_lock_after_the_notifier_unlocks() {
    let m = Mutex::new(0);
    let cv = Condvar::new();
    let mut t = TestTask::new(async {
        let g = m.lock().await;
        let g = cv.wait(g).await;
        *g
    });
    t.pending();
    assert_eq!(cv.waiters(), 1);
    // The mutex is free to others as soon as T waits.
    let mut g = m.try_lock().expect("mutex unlocked by wait");
    *g = 5;
    cv.notify_one();
    assert_eq!(t.wakes(), 1);
    t.pending(); // notified, but the notifier still holds the mutex
    drop(g);
    assert_eq!(t.wakes(), 2);
    assert_eq!(t.ready(), 5);
    assert_quiescent(&cv, &m);
}

#[test]
fn notifications_are_not_stored() {
    let m = Mutex::new(());
    let cv = Condvar::new();
    cv.notify_one();
    cv.notify_all();
    let mut t = TestTask::new(cv.wait(m.try_lock().unwrap()));
    t.pending();
    assert_eq!(t.wakes(), 0);
    t.cancel();
    assert_quiescent(&cv, &m);
}

#[test]
fn cancel_before_notify_leaves_nothing_behind() {
    let m = Mutex::new(());
    let cv = Condvar::new();
    let mut t = TestTask::new(cv.wait(m.try_lock().unwrap()));
    t.pending();
    t.cancel();
    assert_quiescent(&cv, &m);
    // And a later notification reaches a later waiter only.
    let mut t2 = TestTask::new(cv.wait(m.try_lock().unwrap()));
    t2.pending();
    cv.notify_one();
    drop(t2.ready());
    assert_quiescent(&cv, &m);
}

#[test]
fn dropping_an_unpolled_wait_unlocks_the_mutex() {
    let m = Mutex::new(());
    let cv = Condvar::new();
    let w = cv.wait(m.try_lock().unwrap());
    assert!(m.try_lock().is_err(), "held until the first poll");
    drop(w);
    assert_quiescent(&cv, &m);
}

#[test]
fn notified_waiter_dropped_before_relocking_hands_over() {
    let m = Mutex::new(());
    let cv = Condvar::new();
    let mut w1 = TestTask::new(cv.wait(m.try_lock().unwrap()));
    w1.pending();
    let mut w2 = TestTask::new(cv.wait(m.try_lock().unwrap()));
    w2.pending();
    cv.notify_one();
    assert_eq!((w1.wakes(), w2.wakes()), (1, 0));
    w1.cancel();
    assert_eq!(w2.wakes(), 1, "the notification moved on to W2");
    drop(w2.ready());
    assert_quiescent(&cv, &m);
}

#[test]
fn notified_waiter_dropped_while_relocking_hands_over() {
    let m = Mutex::new(());
    let cv = Condvar::new();
    let mut w1 = TestTask::new(cv.wait(m.try_lock().unwrap()));
    w1.pending();
    let mut w2 = TestTask::new(cv.wait(m.try_lock().unwrap()));
    w2.pending();
    let held = m.try_lock().unwrap();
    cv.notify_one();
    w1.pending(); // now queued on the mutex
    assert_eq!(cv.waiters(), 1);
    w1.cancel();
    assert_eq!(w2.wakes(), 1);
    w2.pending(); // notified, queued on the mutex
    drop(held);
    drop(w2.ready());
    assert_quiescent(&cv, &m);
}

#[test]
fn dropping_a_waiter_woken_by_notify_all_forwards_nothing() {
    let m = Mutex::new(());
    let cv = Condvar::new();
    let mut w1 = TestTask::new(cv.wait(m.try_lock().unwrap()));
    w1.pending();
    cv.notify_all();
    let mut late = TestTask::new(cv.wait(m.try_lock().unwrap()));
    late.pending();
    w1.cancel();
    assert_eq!(late.wakes(), 0);
    late.cancel();
    assert_quiescent(&cv, &m);
}

#[test]
fn dropping_a_waiter_that_was_not_notified_forwards_nothing() {
    let m = Mutex::new(());
    let cv = Condvar::new();
    let mut w1 = TestTask::new(cv.wait(m.try_lock().unwrap()));
    w1.pending();
    let mut w2 = TestTask::new(cv.wait(m.try_lock().unwrap()));
    w2.pending();
    let mut w3 = TestTask::new(cv.wait(m.try_lock().unwrap()));
    w3.pending();
    cv.notify_one();
    w2.cancel();
    assert_eq!((w1.wakes(), w3.wakes()), (1, 0));
    drop(w1.ready());
    w3.cancel();
    assert_quiescent(&cv, &m);
}

#[test]
fn notify_one_is_fifo_and_notify_all_wakes_only_present_waiters() {
    let m = Mutex::new(());
    let cv = Condvar::new();
    let mut ws: alloc::vec::Vec<_> = (0..3)
        .map(|_| {
            let mut t = TestTask::new(cv.wait(m.try_lock().unwrap()));
            t.pending();
            t
        })
        .collect();
    cv.notify_one();
    assert_eq!(
        ws.iter()
            .map(TestTask::wakes)
            .collect::<alloc::vec::Vec<_>>(),
        [1, 0, 0]
    );
    drop(ws[0].ready());
    cv.notify_all();
    let mut late = TestTask::new(cv.wait(m.try_lock().unwrap()));
    late.pending();
    assert_eq!((ws[1].wakes(), ws[2].wakes(), late.wakes()), (1, 1, 0));
    drop(ws[1].ready());
    drop(ws[2].ready());
    late.cancel();
    assert_quiescent(&cv, &m);
}

#[test]
fn wait_while_keeps_waiting_while_the_condition_holds() {
    let m = Mutex::new(0);
    let cv = Condvar::new();
    let mut t = TestTask::new(cv.wait_while(m.try_lock().unwrap(), |v| *v < 2));
    t.pending();
    *m.try_lock().unwrap() = 1;
    cv.notify_one();
    assert_eq!(t.wakes(), 1);
    t.pending(); // re-checked with the lock: still < 2, waits again
    assert_eq!(cv.waiters(), 1);
    assert!(m.try_lock().is_ok(), "waiting again unlocked the mutex");
    *m.try_lock().unwrap() = 2;
    cv.notify_all();
    let g = t.ready();
    assert_eq!(*g, 2);
    assert!(m.try_lock().is_err(), "returns holding the lock");
    drop(g);
    assert_quiescent(&cv, &m);
}

#[test]
fn wait_while_with_a_false_condition_returns_at_once() {
    let m = Mutex::new(3);
    let cv = Condvar::new();
    let mut t = TestTask::new(cv.wait_while(m.try_lock().unwrap(), |v| *v == 0));
    assert_eq!(*t.ready(), 3);
    assert_quiescent(&cv, &m);
}

#[test]
fn panicking_condition_unlocks_the_mutex() {
    let m = Mutex::new(());
    let cv = Condvar::new();
    let r = std::panic::catch_unwind(core::panic::AssertUnwindSafe(|| {
        let mut t = TestTask::new(cv.wait_while(m.try_lock().unwrap(), |_| panic!("boom")));
        let _ = t.poll();
    }));
    assert!(r.is_err());
    assert_quiescent(&cv, &m);
}

#[test]
fn waker_update_wakes_only_the_latest_waker() {
    let m = Mutex::new(());
    let cv = Condvar::new();
    let mut t = TestTask::new(cv.wait(m.try_lock().unwrap()));
    let (other, other_count) = futures_test::task::new_count_waker();
    assert!(t.poll_with(&other).is_pending());
    t.pending();
    cv.notify_one();
    assert_eq!((other_count.get(), t.wakes()), (0, 1));
    drop(t.ready());
}

#[test]
fn wait_is_fused_and_panics_when_polled_after_completion() {
    use core::future::Future;

    use futures_core::FusedFuture;
    let m = Mutex::new(());
    let cv = Condvar::new();
    let mut w = core::pin::pin!(cv.wait(m.try_lock().unwrap()));
    let mut cx = core::task::Context::from_waker(futures_util::task::noop_waker_ref());
    assert!(w.as_mut().poll(&mut cx).is_pending());
    cv.notify_one();
    assert!(!w.is_terminated());
    assert!(w.as_mut().poll(&mut cx).is_ready());
    assert!(w.is_terminated());
    let again = std::panic::catch_unwind(core::panic::AssertUnwindSafe(|| {
        let _ = w.as_mut().poll(&mut cx);
    }));
    assert!(again.is_err());
}

#[test]
fn blocking_producer_consumer_from_threads() {
    let state = Arc::new((Mutex::new(alloc::vec::Vec::new()), Condvar::new()));
    let consumers: alloc::vec::Vec<_> = (0..3)
        .map(|_| {
            let state = Arc::clone(&state);
            std::thread::spawn(move || {
                let (m, cv) = &*state;
                let mut got = 0;
                loop {
                    let mut g = cv.wait_while_blocking(m.lock_blocking(), |q| q.is_empty());
                    match g.pop() {
                        Some(None) => return got,
                        Some(Some(_)) => got += 1,
                        None => unreachable!(),
                    }
                }
            })
        })
        .collect();
    let (m, cv) = &*state;
    for i in 0..300 {
        m.lock_blocking().insert(0, Some(i));
        cv.notify_one();
    }
    for _ in 0..3 {
        m.lock_blocking().insert(0, None);
        cv.notify_one();
    }
    let total: i32 = consumers.into_iter().map(|h| h.join().unwrap()).sum();
    assert_eq!(total, 300);
    assert_quiescent(cv, m);
}

#[test]
fn a_wake_that_panics_in_notify_all_strands_no_one() {
    let m = Mutex::new(0);
    let cv = Condvar::new();
    let hostile = Hostile::new();
    hostile.panic_on_wake(true);
    // First in line, so its wake panics in the first batch; 40 more
    // waiters need two further batches.
    let mut bad = TestTask::new(cv.wait(m.try_lock().unwrap()));
    assert!(bad.poll_with(&hostile.waker()).is_pending());
    let mut w: Vec<_> = (0..40)
        .map(|_| {
            // Polled at once: a wait holds the mutex until registered.
            let mut t = TestTask::new(cv.wait(m.try_lock().unwrap()));
            t.pending();
            t
        })
        .collect();
    assert!(panics(|| cv.notify_all()), "the wake's panic propagates");
    assert_eq!(hostile.wakes(), 1);
    for t in &mut w {
        assert_eq!(t.wakes(), 1);
        *t.ready() += 1;
    }
    *bad.ready() += 1;
    assert_eq!(*m.try_lock().unwrap(), 41);
    assert_quiescent(&cv, &m);
    assert_still_works(&cv, &m);
}

#[test]
fn a_wake_that_panics_in_notify_one_keeps_the_notification_and_the_condvar_usable() {
    let m = Mutex::new(0);
    let cv = Condvar::new();
    let hostile = Hostile::new();
    let mut bad = TestTask::new(cv.wait(m.try_lock().unwrap()));
    assert!(bad.poll_with(&hostile.waker()).is_pending());
    let mut b = TestTask::new(cv.wait(m.try_lock().unwrap()));
    b.pending();
    hostile.panic_on_wake(true);
    assert!(panics(|| cv.notify_one()), "the wake's panic propagates");
    assert_eq!(hostile.wakes(), 1);
    assert_eq!(hostile.under_lock(), 0, "woken outside the queue lock");
    assert_eq!(b.wakes(), 0, "notify_one picked the head only");
    assert_eq!(cv.waiters(), 1, "the head left the queue");
    assert!(m.try_lock().is_ok(), "the mutex is free");
    hostile.panic_on_wake(false);
    // The notification was not lost: the head returns with the lock.
    *bad.ready() += 1;
    assert_eq!(b.wakes(), 0, "and nothing was forwarded");
    cv.notify_one();
    assert_eq!(b.wakes(), 1);
    *b.ready() += 1;
    assert_eq!(*m.try_lock().unwrap(), 2);
    assert_quiescent(&cv, &m);
    assert_still_works(&cv, &m);
}

#[test]
fn a_notify_one_that_panics_under_the_mutex_leaves_it_unlocked_and_whole() {
    // The notifier holds the guard while notifying, as usual: the wake's
    // panic unwinds through the guard, which must unlock the mutex.
    let m = Mutex::new(0);
    let cv = Condvar::new();
    let hostile = Hostile::new();
    hostile.panic_on_wake(true);
    let mut bad = TestTask::new(cv.wait(m.try_lock().unwrap()));
    assert!(bad.poll_with(&hostile.waker()).is_pending());
    assert!(
        panics(|| {
            let mut g = m.try_lock().unwrap();
            *g = 7;
            cv.notify_one();
        }),
        "the wake's panic propagates"
    );
    assert_eq!(hostile.wakes(), 1);
    assert_eq!(m.waiters(), 0);
    assert_eq!(
        *m.try_lock().expect("mutex left locked"),
        7,
        "the write stays"
    );
    assert_eq!(*bad.ready(), 7, "the waiter returns with the lock");
    assert_quiescent(&cv, &m);
}

#[test]
fn a_waiter_whose_notify_one_wake_panicked_hands_the_notification_on_when_dropped() {
    let m = Mutex::new(());
    let cv = Condvar::new();
    let hostile = Hostile::new();
    hostile.panic_on_wake(true);
    let mut bad = TestTask::new(cv.wait(m.try_lock().unwrap()));
    assert!(bad.poll_with(&hostile.waker()).is_pending());
    let mut b = TestTask::new(cv.wait(m.try_lock().unwrap()));
    b.pending();
    assert!(panics(|| cv.notify_one()));
    assert_eq!(b.wakes(), 0);
    bad.cancel(); // notified, never polled again
    assert_eq!(b.wakes(), 1, "the notification moved on to B");
    drop(b.ready());
    assert_quiescent(&cv, &m);
}

#[test]
fn a_waker_clone_that_panics_leaves_the_wait_as_it_was() {
    let m = Mutex::new(());
    let cv = Condvar::new();
    let hostile = Hostile::new();
    hostile.panic_on_clone(true);
    // First poll: registering clones the waker. The future keeps its
    // guard and is not registered, so it can simply be polled again.
    let mut t = TestTask::new(cv.wait(m.try_lock().unwrap()));
    assert!(panics(|| drop(t.poll_with(&hostile.waker()))));
    assert_eq!(cv.waiters(), 0);
    assert!(m.try_lock().is_err(), "the wait still holds the guard");
    t.pending();
    assert_eq!(cv.waiters(), 1);
    assert!(m.try_lock().is_ok(), "unlocked once registered");
    // Later poll: replacing the waker clones it.
    assert!(panics(|| drop(t.poll_with(&hostile.waker()))));
    assert_eq!(cv.waiters(), 1);
    cv.notify_one();
    assert_eq!(t.wakes(), 1, "the waker from before the panic is kept");
    drop(t.ready());
    assert_quiescent(&cv, &m);
}

#[test]
fn a_waker_clone_that_panics_while_relocking_keeps_the_notification() {
    let m = Mutex::new(());
    let cv = Condvar::new();
    let hostile = Hostile::new();
    hostile.panic_on_clone(true);
    let mut a = TestTask::new(cv.wait(m.try_lock().unwrap()));
    a.pending();
    let mut b = TestTask::new(cv.wait(m.try_lock().unwrap()));
    b.pending();
    let held = m.try_lock().unwrap();
    cv.notify_one();
    // `a` takes the notification and queues for the held mutex, cloning
    // the waker.
    assert!(panics(|| drop(a.poll_with(&hostile.waker()))));
    assert_eq!(b.wakes(), 0);
    // Dropped now, `a` passes the notification on.
    a.cancel();
    assert_eq!(b.wakes(), 1);
    drop(held);
    drop(b.ready());
    assert_quiescent(&cv, &m);
}

#[test]
fn wakers_that_re_enter_the_condvar_are_never_run_under_its_lock() {
    let m = Mutex::new(());
    let cv = Arc::new(Condvar::new());
    let hostile = Hostile::new();
    let cv1 = Arc::clone(&cv);
    hostile.on_wake(move || {
        // Deadlocks (or trips the detector) if the lock is held.
        let _ = cv1.waiters();
        cv1.notify_one();
    });
    let cv2 = Arc::clone(&cv);
    hostile.on_drop(move || {
        let _ = cv2.waiters();
    });
    let (counting, _) = futures_test::task::new_count_waker();

    // A replaced waker, and the waker of a cancelled, never woken wait.
    let mut a = TestTask::new(cv.wait(m.try_lock().unwrap()));
    assert!(a.poll_with(&hostile.waker()).is_pending());
    assert!(a.poll_with(&counting).is_pending());
    assert!(a.poll_with(&hostile.waker()).is_pending());
    let mut gone = TestTask::new(cv.wait(m.try_lock().unwrap()));
    assert!(gone.poll_with(&hostile.waker()).is_pending());
    gone.cancel();
    let mut b = TestTask::new(cv.wait(m.try_lock().unwrap()));
    b.pending();
    // `a` is woken; its hook notifies again, which reaches `b`.
    cv.notify_one();
    assert_eq!(b.wakes(), 1);
    drop(a.ready());
    drop(b.ready());

    // A notified waiter dropped passes the notification to a hostile one,
    // woken with the lock released; that hook's notify finds no one.
    let mut c = TestTask::new(cv.wait(m.try_lock().unwrap()));
    c.pending();
    let mut d = TestTask::new(cv.wait(m.try_lock().unwrap()));
    assert!(d.poll_with(&hostile.waker()).is_pending());
    cv.notify_one();
    c.cancel();
    drop(d.ready());
    // Woken by notify_all.
    let mut e = TestTask::new(cv.wait(m.try_lock().unwrap()));
    assert!(e.poll_with(&hostile.waker()).is_pending());
    cv.notify_all();
    drop(e.ready());

    assert_eq!(hostile.wakes(), 3);
    assert!(hostile.drops() >= 5);
    assert_eq!(hostile.under_lock(), 0);
    assert_quiescent(&cv, &m);
}

mod loom {
    use core::{future::Future, pin::pin, task::Context};

    use crate::{
        loom::{self, future::block_on, sync::Arc, thread},
        sync::{Condvar, Mutex},
    };

    /// `notify_one` may pick a waiter that is then dropped
    /// (here: after one poll, at any point); the other waiter must still
    /// get the notification.
    #[test]
    fn loom_condvar_notify_then_cancel_hands_over() {
        loom::model(|| {
            let state = Arc::new((Mutex::new(false), Condvar::new()));
            let (s1, s2) = (Arc::clone(&state), Arc::clone(&state));
            let dropper = thread::spawn(move || {
                let (m, cv) = &*s1;
                let guard = block_on(m.lock());
                let mut wait = pin!(cv.wait(guard));
                let mut cx = Context::from_waker(futures_util::task::noop_waker_ref());
                let _ = wait.as_mut().poll(&mut cx);
                // dropped here, notified or not
            });
            let waiter = thread::spawn(move || {
                let (m, cv) = &*s2;
                let guard = block_on(m.lock());
                let guard = block_on(cv.wait_while(guard, |ready| !*ready));
                assert!(*guard);
            });
            let (m, cv) = &*state;
            *block_on(m.lock()) = true;
            cv.notify_one();
            dropper.join().unwrap();
            waiter.join().unwrap();
            assert_eq!(cv.waiters(), 0);
            assert!(m.try_lock().is_ok());
        });
    }
}

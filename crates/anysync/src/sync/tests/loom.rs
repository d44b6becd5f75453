//! Loom models of the hand-off paths through `waitq`.
//!
//! Under `--cfg anysync_loom` these explore every interleaving; otherwise
//! each body runs once as an ordinary test, so they never rot.

use core::{future::Future, pin::pin, task::Context};

use crate::{
    loom::{self, future::block_on, sync::Arc, thread},
    sync::{Event, Mutex, Notify, Semaphore},
};

/// Polls `future` once with a no-op waker, then drops it.
fn poll_once_then_drop<F: Future>(future: F) -> bool {
    let mut future = pin!(future);
    let mut cx = Context::from_waker(futures_util::task::noop_waker_ref());
    future.as_mut().poll(&mut cx).is_ready()
}

#[test]
fn loom_enqueue_vs_wake() {
    loom::model(|| {
        let sem = Arc::new(Semaphore::new(0));
        let s2 = Arc::clone(&sem);
        let waiter = thread::spawn(move || {
            block_on(s2.acquire()).unwrap().forget();
        });
        sem.add_permits(1);
        waiter.join().unwrap();
        assert_eq!(sem.available_permits(), 0);
        assert_eq!(sem.waiters(), 0);
    });
}

#[test]
fn loom_cancel_vs_wake() {
    loom::model(|| {
        let sem = Arc::new(Semaphore::new(0));
        let s2 = Arc::clone(&sem);
        // If the single poll completes, the permit is dropped with the
        // future's output and comes straight back; otherwise the dropped
        // waiter must give back whatever it was handed.
        let canceller = thread::spawn(move || {
            poll_once_then_drop(s2.acquire());
        });
        sem.add_permits(1);
        canceller.join().unwrap();
        // Whether the permit reached the waiter or not, it is back now.
        assert_eq!(sem.available_permits(), 1);
        assert_eq!(sem.waiters(), 0);
    });
}

#[test]
fn loom_woken_waiter_dropped_forwards_to_the_next() {
    loom::model(|| {
        let sem = Arc::new(Semaphore::new(0));
        let (s1, s2) = (Arc::clone(&sem), Arc::clone(&sem));
        let dropper = thread::spawn(move || {
            poll_once_then_drop(s1.acquire());
        });
        let waiter = thread::spawn(move || {
            block_on(s2.acquire()).unwrap().forget();
        });
        sem.add_permits(1);
        dropper.join().unwrap();
        waiter.join().unwrap();
        assert_eq!(sem.available_permits(), 0);
        assert_eq!(sem.waiters(), 0);
    });
}

#[test]
fn loom_weighted_release_during_acquire() {
    loom::model(|| {
        let sem = Arc::new(Semaphore::new(1));
        let s2 = Arc::clone(&sem);
        let big = thread::spawn(move || {
            let p = block_on(s2.acquire_many(2)).unwrap();
            assert_eq!(p.num_permits(), 2);
        });
        sem.add_permits(1);
        big.join().unwrap();
        assert_eq!(sem.available_permits(), 2);
    });
}

#[test]
fn loom_spare_permits_of_a_release_vs_a_newcomer() {
    // Three waiters queued and a release of four (three satisfied, one to
    // spare), racing a new acquire: the newcomer gets the spare permit
    // whether it comes before the release, while its wake-ups run (the
    // lock released between the assignment and the wake loop), or after.
    loom::model(|| {
        let sem = Arc::new(Semaphore::new(0));
        let mut cx = Context::from_waker(futures_util::task::noop_waker_ref());
        let (mut a, mut b, mut c) = (
            pin!(sem.acquire()),
            pin!(sem.acquire()),
            pin!(sem.acquire()),
        );
        assert!(a.as_mut().poll(&mut cx).is_pending());
        assert!(b.as_mut().poll(&mut cx).is_pending());
        assert!(c.as_mut().poll(&mut cx).is_pending());
        let s2 = Arc::clone(&sem);
        let newcomer = thread::spawn(move || {
            block_on(s2.acquire()).unwrap().forget();
        });
        sem.add_permits(4);
        newcomer.join().unwrap();
        for w in [a.as_mut(), b.as_mut(), c.as_mut()] {
            match w.poll(&mut cx) {
                core::task::Poll::Ready(Ok(permit)) => permit.forget(),
                other => panic!("a satisfied waiter did not complete: {other:?}"),
            }
        }
        assert_eq!(sem.available_permits(), 0);
        assert_eq!(sem.waiters(), 0);
    });
}

#[test]
fn loom_mutex_two_lockers_and_a_canceller() {
    loom::model(|| {
        let m = Arc::new(Mutex::new(0));
        let lockers: alloc::vec::Vec<_> = (0..2)
            .map(|_| {
                let m = Arc::clone(&m);
                thread::spawn(move || *block_on(m.lock()) += 1)
            })
            .collect();
        poll_once_then_drop(m.lock());
        for t in lockers {
            t.join().unwrap();
        }
        assert_eq!(*m.try_lock().unwrap(), 2);
        assert_eq!(m.waiters(), 0);
    });
}

#[test]
fn loom_notify_one_vs_notified() {
    loom::model(|| {
        let n = Arc::new(Notify::new());
        let n2 = Arc::clone(&n);
        let waiter = thread::spawn(move || block_on(n2.notified()));
        n.notify_one();
        waiter.join().unwrap();
    });
}

#[test]
fn loom_notified_drop_forwards_notify_one() {
    loom::model(|| {
        let n = Arc::new(Notify::new());
        let (n1, n2) = (Arc::clone(&n), Arc::clone(&n));
        // `true` if the single poll completed: then that future consumed
        // the notification (correctly), and the waiter needs another one.
        let dropper = thread::spawn(move || poll_once_then_drop(n1.notified()));
        let waiter = thread::spawn(move || block_on(n2.notified()));
        n.notify_one();
        if dropper.join().unwrap() {
            n.notify_one();
        }
        // A notification given to the dropped (pending) future was passed
        // on; were it lost, loom would report this join as a deadlock.
        waiter.join().unwrap();
    });
}

#[test]
fn loom_event_set_vs_wait() {
    loom::model(|| {
        let e = Arc::new(Event::new());
        let e2 = Arc::clone(&e);
        let waiter = thread::spawn(move || block_on(e2.wait()));
        e.set();
        waiter.join().unwrap();
        assert_eq!(e.waiters(), 0);
    });
}

/// A `wait()` made after seeing a `set` and clearing it is not released by
/// that same `set` (its generation bump must not land after the flag).
#[test]
fn loom_event_wait_after_clear_is_not_released_by_the_old_set() {
    loom::model(|| {
        let e = Arc::new(Event::new());
        let e2 = Arc::clone(&e);
        let setter = thread::spawn(move || e2.set());
        if e.is_set() {
            e.clear();
            // Nobody sets the event again, so this wait must stay pending.
            assert!(!poll_once_then_drop(e.wait()));
        }
        setter.join().unwrap();
    });
}

/// Two waiters: `set` wakes the first one on its own and the second
/// through a wake batch, while a third thread sets too.
#[test]
fn loom_event_set_releases_two_waiters() {
    loom::model(|| {
        let e = Arc::new(Event::new());
        let (e1, e2) = (Arc::clone(&e), Arc::clone(&e));
        let a = thread::spawn(move || block_on(e1.wait()));
        let b = thread::spawn(move || block_on(e2.wait()));
        e.set();
        a.join().unwrap();
        b.join().unwrap();
        assert_eq!(e.waiters(), 0);
    });
}

/// A `set` that finds a waiter queued raises the flag with a plain store,
/// while a `clear` and another `set` race it (lock-free, or queued on the
/// lock after the waiter left): the waiter is released, and the event ends
/// set, since this thread's `set` comes after its `clear`.
#[test]
fn loom_event_set_with_a_waiter_vs_clear_vs_set() {
    loom::model(|| {
        let e = Arc::new(Event::new());
        let (e1, e2) = (Arc::clone(&e), Arc::clone(&e));
        let waiter = thread::spawn(move || block_on(e1.wait()));
        let setter = thread::spawn(move || e2.set());
        e.clear();
        e.set();
        waiter.join().unwrap();
        setter.join().unwrap();
        assert!(e.is_set());
        assert_eq!(e.waiters(), 0);
    });
}

/// A cancelled wait (which may clear the waiters bit) racing a lock-free
/// `set` and a wait that must still be released.
#[test]
fn loom_event_cancel_vs_set_vs_wait() {
    loom::model(|| {
        let e = Arc::new(Event::new());
        let (e1, e2) = (Arc::clone(&e), Arc::clone(&e));
        let canceller = thread::spawn(move || {
            let _ = poll_once_then_drop(e1.wait());
        });
        let waiter = thread::spawn(move || block_on(e2.wait()));
        e.set();
        canceller.join().unwrap();
        waiter.join().unwrap();
    });
}

/// The only queued locker is cancelled (clearing `QUEUED` under the queue
/// lock) while the holder unlocks (lock-free if it sees `QUEUED` clear, by
/// hand-off otherwise): the lock must end up free either way.
#[test]
fn loom_mutex_unlock_vs_cancel_of_the_only_waiter() {
    loom::model(|| {
        let m = Arc::new(Mutex::new(0));
        let guard = m.try_lock().unwrap();
        let m1 = Arc::clone(&m);
        let canceller = thread::spawn(move || {
            if poll_once_then_drop(m1.lock()) {
                // Polled after the unlock: it took the lock and let it go.
                assert_eq!(m1.waiters(), 0);
            }
        });
        drop(guard);
        canceller.join().unwrap();
        assert!(!m.is_locked());
        assert_eq!(m.waiters(), 0);
        *m.try_lock().unwrap() += 1;
    });
}

/// A woken locker is cancelled while a second one queues: the grant must
/// pass to the second (or the lock be freed if it had not queued yet).
#[test]
fn loom_mutex_granted_waiter_cancelled_vs_a_new_locker() {
    loom::model(|| {
        let m = Arc::new(Mutex::new(0));
        let guard = m.try_lock().unwrap();
        let m1 = Arc::clone(&m);
        let m2 = Arc::clone(&m);
        let first = thread::spawn(move || {
            let _ = poll_once_then_drop(m1.lock());
        });
        let second = thread::spawn(move || *block_on(m2.lock()) += 1);
        drop(guard);
        first.join().unwrap();
        second.join().unwrap();
        assert_eq!(*m.try_lock().unwrap(), 1);
        assert_eq!(m.waiters(), 0);
    });
}

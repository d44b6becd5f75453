//! Hand-polled mutex tests.

use alloc::sync::Arc;
use core::future::Future;

use crate::{sync::Mutex, util::test::TestTask};

#[test]
fn fifo_hand_off_in_arrival_order() {
    let m = Mutex::new(0);
    let a = m.try_lock().unwrap();
    let mut b = TestTask::new(m.lock());
    let mut c = TestTask::new(m.lock());
    let mut d = TestTask::new(m.lock());
    b.pending();
    c.pending();
    d.pending();
    drop(a);
    assert_eq!((b.wakes(), c.wakes(), d.wakes()), (1, 0, 0));
    drop(b.ready());
    assert_eq!((c.wakes(), d.wakes()), (1, 0));
    drop(c.ready());
    assert_eq!(d.wakes(), 1);
    drop(d.ready());
    assert!(!m.is_locked());
}

#[test]
fn no_barging_after_release() {
    let m = Mutex::new(());
    let a = m.try_lock().unwrap();
    let mut b = TestTask::new(m.lock());
    b.pending();
    drop(a);
    assert!(m.try_lock().is_err(), "a newcomer must not overtake B");
    let _g = b.ready();
}

#[test]
fn cancel_before_grant() {
    let m = Mutex::new(());
    let a = m.try_lock().unwrap();
    let mut b = TestTask::new(m.lock());
    let mut c = TestTask::new(m.lock());
    b.pending();
    c.pending();
    b.cancel();
    drop(a);
    assert_eq!(c.wakes(), 1);
    drop(c.ready());
    assert_eq!(m.waiters(), 0);
    assert!(m.try_lock().is_ok());
}

#[test]
fn cancel_after_grant_passes_the_lock_on() {
    let m = Mutex::new(());
    let a = m.try_lock().unwrap();
    let mut b = TestTask::new(m.lock());
    let mut c = TestTask::new(m.lock());
    b.pending();
    c.pending();
    drop(a);
    assert_eq!(b.wakes(), 1);
    b.cancel();
    assert_eq!(c.wakes(), 1);
    let g = c.ready();
    assert!(m.try_lock().is_err(), "never two holders");
    drop(g);
    assert!(m.try_lock().is_ok());
}

#[test]
fn holder_cancelled_across_an_await_releases() {
    let m = Mutex::new(0);
    let gate = crate::sync::Notify::new();
    let mut holder = TestTask::new(async {
        let mut g = m.lock().await;
        *g += 1;
        gate.notified().await; // holds the guard across an await
        *g += 1;
    });
    holder.pending();
    let mut next = TestTask::new(m.lock());
    next.pending();
    holder.cancel();
    assert_eq!(next.wakes(), 1);
    assert_eq!(*next.ready(), 1);
}

#[test]
fn panic_in_critical_section_unlocks_without_poisoning() {
    let m = Arc::new(Mutex::new(0));
    let m2 = Arc::clone(&m);
    let mut waiter = TestTask::new(Arc::clone(&m).lock_owned());
    let result = std::panic::catch_unwind(core::panic::AssertUnwindSafe(|| {
        let mut g = m2.try_lock().unwrap();
        *g = 7;
        waiter.pending();
        panic!("boom");
    }));
    assert!(result.is_err());
    assert_eq!(waiter.wakes(), 1);
    assert_eq!(*waiter.ready(), 7);
}

#[test]
fn map_narrows_and_keeps_the_lock() {
    let m = Mutex::new((1, 2));
    let g = m.try_lock().unwrap();
    let mut second = crate::sync::MutexGuard::map(g, |pair| &mut pair.1);
    *second += 40;
    assert!(m.try_lock().is_err());
    drop(second);
    assert_eq!(*m.try_lock().unwrap(), (1, 42));
}

#[test]
fn get_mut_and_into_inner() {
    let mut m = Mutex::new(alloc::vec![1]);
    m.get_mut().push(2);
    assert_eq!(m.into_inner(), alloc::vec![1, 2]);
}

#[test]
fn debug_does_not_block_on_a_held_lock() {
    let m = Mutex::new(5);
    assert_eq!(alloc::format!("{m:?}"), "Mutex { data: 5 }");
    let _g = m.try_lock().unwrap();
    assert_eq!(alloc::format!("{m:?}"), "Mutex { data: <locked> }");
}

#[test]
fn lock_blocking_from_threads_counts_exactly() {
    let m = Arc::new(Mutex::new(0u32));
    let threads: alloc::vec::Vec<_> = (0..4)
        .map(|_| {
            let m = Arc::clone(&m);
            std::thread::spawn(move || {
                for _ in 0..1000 {
                    *m.lock_blocking() += 1;
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    assert_eq!(*m.try_lock().unwrap(), 4000);
}

#[test]
fn a_panic_in_map_unlocks() {
    let m = Mutex::new((1, 2));
    let result = std::panic::catch_unwind(core::panic::AssertUnwindSafe(|| {
        let g = m.try_lock().unwrap();
        let _ = crate::sync::MutexGuard::map(g, |_| -> &mut i32 { panic!("in map") });
    }));
    assert!(result.is_err());
    assert!(!m.is_locked(), "the lock is released by the unwind");
    let g = m.try_lock().unwrap();
    let mapped = crate::sync::MutexGuard::map(g, |p| &mut p.0);
    let result = std::panic::catch_unwind(core::panic::AssertUnwindSafe(|| {
        let _ = crate::sync::MappedMutexGuard::map(mapped, |_| -> &mut u8 { panic!("in map") });
    }));
    assert!(result.is_err());
    assert!(!m.is_locked());
}

#[test]
fn lock_owned_blocking_waits_on_a_thread_for_the_holder() {
    let m = Arc::new(Mutex::new(0));
    let held = m.try_lock().unwrap();
    let t = {
        let m = Arc::clone(&m);
        std::thread::spawn(move || {
            let mut g = m.lock_owned_blocking();
            *g += 1;
        })
    };
    while m.waiters() == 0 {
        std::thread::yield_now();
    }
    drop(held);
    t.join().unwrap();
    assert_eq!(*m.try_lock().unwrap(), 1);
}

#[test]
fn the_only_waiter_cancelled_leaves_the_fast_unlock_working() {
    let m = Mutex::new(());
    let a = m.try_lock().unwrap();
    let mut b = TestTask::new(m.lock());
    b.pending();
    assert_eq!(m.waiters(), 1);
    b.cancel();
    assert_eq!(m.waiters(), 0);
    assert!(m.is_locked(), "A still holds it");
    assert!(m.try_lock().is_err());
    drop(a);
    assert!(!m.is_locked());
    drop(m.try_lock().unwrap());
}

#[test]
fn the_last_woken_waiter_cancelled_frees_the_lock() {
    let m = Mutex::new(());
    let a = m.try_lock().unwrap();
    let mut b = TestTask::new(m.lock());
    b.pending();
    drop(a);
    assert!(b.is_woken());
    assert!(m.is_locked(), "handed to B, not freed");
    b.cancel();
    assert!(!m.is_locked());
    drop(m.try_lock().unwrap());
}

#[test]
fn a_woken_waiter_polled_with_a_new_waker_still_gets_the_lock() {
    let m = Mutex::new(1);
    let a = m.try_lock().unwrap();
    let mut b = TestTask::new(m.lock());
    b.pending();
    // Re-polled while still waiting, with a different waker: stays queued.
    let other = futures_util::task::noop_waker();
    assert!(b.poll_with(&other).is_pending());
    assert_eq!(m.waiters(), 1);
    drop(a);
    assert_eq!(*b.ready(), 1);
    assert_eq!(m.waiters(), 0);
    assert!(!m.is_locked());
}

#[test]
#[should_panic(expected = "polled after completion")]
fn lock_polled_after_completion_panics() {
    let m = Mutex::new(());
    let mut lock = core::pin::pin!(m.lock());
    let mut cx = core::task::Context::from_waker(futures_util::task::noop_waker_ref());
    assert!(Future::poll(lock.as_mut(), &mut cx).is_ready());
    let _ = Future::poll(lock.as_mut(), &mut cx);
}

#[test]
fn a_forgotten_lock_future_is_a_leak_not_a_panic() {
    let m = Mutex::new(());
    let _held = m.try_lock().unwrap();
    let mut f = alloc::boxed::Box::pin(m.lock());
    let mut cx = core::task::Context::from_waker(futures_util::task::noop_waker_ref());
    assert!(f.as_mut().poll(&mut cx).is_pending());
    core::mem::forget(f); // leaks the node (allowed); must not panic on drop
}

mod hostile {
    //! Foreign code that misbehaves: wakers that panic or re-enter.

    use super::*;
    use crate::util::hostile::{panics, Hostile};

    #[test]
    fn an_unlock_whose_wake_panics_still_hands_the_lock_over() {
        let m = Mutex::new(0);
        let bad = Hostile::new();
        let a = m.try_lock().unwrap();
        let mut b = TestTask::new(m.lock());
        let mut c = TestTask::new(m.lock());
        assert!(b.poll_with(&bad.waker()).is_pending());
        c.pending();
        bad.panic_on_wake(true);
        assert!(panics(move || drop(a)), "the wake's panic propagates");
        assert!(m.is_locked(), "handed to B, not freed");
        assert!(m.try_lock().is_err());
        let mut g = b.ready();
        *g += 1;
        drop(g);
        assert_eq!(c.wakes(), 1);
        assert_eq!(*c.ready(), 1);
        assert!(!m.is_locked());
        assert_eq!(m.waiters(), 0);
    }

    #[test]
    fn a_waker_clone_that_locks_the_same_mutex_does_not_deadlock() {
        // The waker is cloned before the queue lock is taken.
        let m = alloc::sync::Arc::new(Mutex::new(()));
        let bad = Hostile::new();
        let m2 = alloc::sync::Arc::clone(&m);
        bad.on_clone(move || {
            assert!(m2.try_lock().is_err());
            let _ = m2.waiters();
        });
        let a = m.try_lock().unwrap();
        let mut b = TestTask::new(m.lock());
        assert!(b.poll_with(&bad.waker()).is_pending());
        assert_eq!(bad.clones_under_lock(), 0);
        drop(a);
        drop(b.ready());
        assert!(!m.is_locked());
    }
}

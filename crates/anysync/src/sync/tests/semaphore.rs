//! Hand-polled semaphore tests: cancellation, wake-up forwarding, partial
//! grants, close and permit arithmetic.

use alloc::{sync::Arc, vec::Vec};

use futures_test::task::new_count_waker;

use crate::{
    sync::{AcquireError, Semaphore, TryAcquireError},
    util::test::TestTask,
};

/// The conservation check run after scenarios: nobody queued, and exactly
/// `total` permits can be taken and no more.
#[track_caller]
fn assert_whole(sem: &Semaphore, total: usize) {
    assert_eq!(sem.waiters(), 0, "waiters stranded");
    assert_eq!(sem.available_permits(), total, "permits lost or created");
    let all = sem.try_acquire_many(total).expect("all permits available");
    assert!(sem.try_acquire().is_err() || total == 0);
    drop(all);
}

#[test]
fn uncontended_acquire_and_release() {
    let sem = Semaphore::new(3);
    let mut a = TestTask::new(sem.acquire_many(2));
    let permit = a.ready().unwrap();
    assert_eq!(permit.num_permits(), 2);
    assert_eq!(sem.available_permits(), 1);
    drop(permit);
    assert_whole(&sem, 3);
}

#[test]
fn fifo_hand_off_wakes_only_the_next_waiter() {
    let sem = Semaphore::new(1);
    let held = sem.try_acquire().unwrap();
    let mut b = TestTask::new(sem.acquire());
    let mut c = TestTask::new(sem.acquire());
    let mut d = TestTask::new(sem.acquire());
    b.pending();
    c.pending();
    d.pending();
    drop(held);
    assert_eq!((b.wakes(), c.wakes(), d.wakes()), (1, 0, 0));
    let pb = b.ready().unwrap();
    drop(pb);
    assert_eq!((c.wakes(), d.wakes()), (1, 0));
    let pc = c.ready().unwrap();
    drop(pc);
    assert_eq!(d.wakes(), 1);
    drop(d.ready().unwrap());
    assert_whole(&sem, 1);
}

#[test]
fn try_acquire_cannot_barge_past_a_woken_waiter() {
    let sem = Semaphore::new(1);
    let held = sem.try_acquire().unwrap();
    let mut b = TestTask::new(sem.acquire());
    b.pending();
    drop(held);
    assert_eq!(sem.try_acquire().unwrap_err(), TryAcquireError::NoPermits);
    let mut newcomer = TestTask::new(sem.acquire());
    newcomer.pending();
    drop(b.ready().unwrap());
    drop(newcomer.ready().unwrap());
    assert_whole(&sem, 1);
}

#[test]
fn brief_example_cancel_one_waiter_then_release() {
    // Cancelling one of two queued waiters loses no permit: the other gets it.
    let sem = Semaphore::new(2);
    let a = sem.try_acquire_many(2).unwrap();
    let mut b = TestTask::new(sem.acquire());
    let mut c = TestTask::new(sem.acquire());
    b.pending();
    c.pending();
    b.cancel();
    let mut a = a;
    drop(a.split(1).unwrap());
    assert_eq!(c.wakes(), 1);
    let pc = c.ready().unwrap();
    drop(pc);
    drop(a);
    assert_whole(&sem, 2);
}

#[test]
fn partial_assignment_keeps_head_of_line_order() {
    // A partly served head waiter blocks the smaller waiters behind it.
    let sem = Semaphore::new(5);
    let one = sem.try_acquire().unwrap();
    let mut a = TestTask::new(sem.acquire_many(5));
    a.pending();
    assert_eq!(sem.available_permits(), 0);
    let mut b = TestTask::new(sem.acquire_many(3));
    b.pending();
    drop(one);
    assert_eq!((a.wakes(), b.wakes()), (1, 0));
    let pa = a.ready().unwrap();
    let mut pa = pa;
    drop(pa.split(1).unwrap());
    assert_eq!(b.wakes(), 0);
    drop(pa.split(2).unwrap());
    assert_eq!(b.wakes(), 1);
    let pb = b.ready().unwrap();
    assert_eq!(sem.available_permits(), 0);
    drop(pb);
    drop(pa);
    assert_whole(&sem, 5);
}

#[test]
fn cancelled_head_returns_its_partial_permits() {
    // A cancelled head waiter returns its partial permits and wakes the next.
    let sem = Semaphore::new(10);
    let four = sem.try_acquire_many(4).unwrap();
    let mut big = TestTask::new(sem.acquire_many(8));
    big.pending();
    assert_eq!(sem.available_permits(), 0);
    let mut b = TestTask::new(sem.acquire_many(2));
    b.pending();
    big.cancel();
    assert_eq!(b.wakes(), 1);
    assert_eq!(sem.available_permits(), 4, "6 returned, less B's 2");
    drop(b.ready().unwrap());
    drop(four);
    assert_whole(&sem, 10);
}

#[test]
fn woken_then_cancelled_passes_the_permit_on() {
    // A waiter woken then dropped before polling forwards the permit.
    let sem = Semaphore::new(0);
    let mut b = TestTask::new(sem.acquire());
    let mut c = TestTask::new(sem.acquire());
    b.pending();
    c.pending();
    sem.add_permits(1);
    assert_eq!((b.wakes(), c.wakes()), (1, 0));
    b.cancel();
    assert_eq!(c.wakes(), 1);
    drop(c.ready().unwrap());
    assert_whole(&sem, 1);
}

#[test]
fn cancelling_two_queued_lets_exactly_the_third_through() {
    // Cancelled waiters are skipped: one release serves exactly the next live one.
    let sem = Semaphore::new(0);
    let mut w: Vec<_> = (0..4).map(|_| TestTask::new(sem.acquire())).collect();
    for t in &mut w {
        t.pending();
    }
    w[0].cancel();
    w[1].cancel();
    sem.add_permits(1);
    assert_eq!((w[2].wakes(), w[3].wakes()), (1, 0));
    let p = w[2].ready().unwrap();
    w[3].pending();
    drop(p);
    drop(w[3].ready().unwrap());
    assert_whole(&sem, 1);
}

#[test]
fn several_releases_wake_several_waiters() {
    // Two releases wake two waiters.
    let sem = Semaphore::new(2);
    let g1 = sem.try_acquire().unwrap();
    let g2 = sem.try_acquire().unwrap();
    let mut w1 = TestTask::new(sem.acquire());
    let mut w2 = TestTask::new(sem.acquire());
    w1.pending();
    w2.pending();
    drop(g1);
    drop(g2);
    assert_eq!((w1.wakes(), w2.wakes()), (1, 1));
    drop(w1.ready().unwrap());
    drop(w2.ready().unwrap());
    assert_whole(&sem, 2);
}

#[test]
fn close_fails_waiters_and_later_acquires_and_keeps_counting() {
    // Close wakes pending acquirers with `Closed`; released permits still count.
    let sem = Semaphore::new(3);
    let held = sem.try_acquire_many(2).unwrap();
    let mut big = TestTask::new(sem.acquire_many(3)); // takes 1 partially
    big.pending();
    sem.close();
    sem.close(); // idempotent
    assert!(sem.is_closed());
    assert_eq!(big.wakes(), 1);
    assert_eq!(big.ready().unwrap_err(), AcquireError::Closed);
    assert_eq!(sem.try_acquire().unwrap_err(), TryAcquireError::Closed);
    let mut later = TestTask::new(sem.acquire());
    assert_eq!(later.ready().unwrap_err(), AcquireError::Closed);
    drop(held);
    assert_eq!(
        sem.available_permits(),
        3,
        "released after close still counted"
    );
    assert_eq!(sem.waiters(), 0);
}

#[test]
fn permit_algebra_forget_split_merge() {
    // `forget` shrinks the total; `split` and `merge` conserve counts.
    let sem = Semaphore::new(5);
    let mut p = sem.try_acquire_many(4).unwrap();
    let q = p.split(3).unwrap();
    assert!(p.split(2).is_none());
    assert_eq!((p.num_permits(), q.num_permits()), (1, 3));
    p.merge(q);
    assert_eq!(p.num_permits(), 4);
    let one = p.split(1).unwrap();
    one.forget();
    drop(p);
    assert_whole(&sem, 4);
}

#[test]
#[should_panic(expected = "belongs to a different semaphore")]
fn merging_permits_of_different_semaphores_panics() {
    let (a, b) = (Semaphore::new(1), Semaphore::new(1));
    let mut pa = a.try_acquire().unwrap();
    pa.merge(b.try_acquire().unwrap());
}

#[test]
#[should_panic(expected = "exceed Semaphore::MAX_PERMITS")]
fn add_permits_past_max_panics() {
    let sem = Semaphore::new(Semaphore::MAX_PERMITS);
    sem.add_permits(1);
}

#[test]
#[should_panic(expected = "`permits` exceeds Semaphore::MAX_PERMITS")]
fn new_past_max_panics() {
    let _ = Semaphore::new(Semaphore::MAX_PERMITS + 1);
}

#[test]
fn requests_that_can_never_be_granted_fail_at_once() {
    let sem = Semaphore::new(1);
    let mut f = TestTask::new(sem.acquire_many(usize::MAX));
    assert_eq!(
        f.ready().unwrap_err(),
        AcquireError::TooLarge {
            requested: usize::MAX
        }
    );
    assert!(matches!(
        sem.try_acquire_many(usize::MAX),
        Err(TryAcquireError::TooLarge { .. })
    ));
    assert_whole(&sem, 1);
}

#[test]
fn acquire_zero_is_ready_even_with_a_queue() {
    let sem = Semaphore::new(0);
    let mut w = TestTask::new(sem.acquire());
    w.pending();
    let mut zero = TestTask::new(sem.acquire_many(0));
    assert_eq!(zero.ready().unwrap().num_permits(), 0);
    assert_eq!(sem.waiters(), 1);
    w.cancel();
}

#[test]
fn waker_update_wakes_only_the_latest_waker() {
    // Only the waker from the latest poll is woken, exactly once.
    let sem = Semaphore::new(0);
    let mut t = TestTask::new(sem.acquire());
    let (a, a_count) = new_count_waker();
    let (b, b_count) = new_count_waker();
    assert!(t.poll_with(&a).is_pending());
    assert!(t.poll_with(&b).is_pending());
    sem.add_permits(1);
    assert_eq!((a_count.get(), b_count.get()), (0, 1));
    assert!(t.poll_with(&b).is_ready());
}

#[test]
fn spurious_polls_keep_the_queue_position() {
    // Extra polls stay pending without losing the queue position.
    let sem = Semaphore::new(0);
    let mut first = TestTask::new(sem.acquire());
    first.pending();
    let mut second = TestTask::new(sem.acquire());
    second.pending();
    for _ in 0..5 {
        first.pending();
    }
    assert_eq!(sem.waiters(), 2);
    sem.add_permits(1);
    assert_eq!((first.wakes(), second.wakes()), (1, 0));
    drop(first.ready().unwrap());
    drop(second.ready().unwrap());
}

#[test]
#[should_panic(expected = "polled after completion")]
fn polling_after_ready_panics_instead_of_granting_twice() {
    let sem = Semaphore::new(2);
    let mut t = TestTask::new(sem.acquire());
    let _p = t.ready().unwrap();
    let _ = t.poll();
}

#[test]
fn cancel_at_every_poll_count_loses_nothing() {
    // Cancel at every poll: a sweep over how many times the future is polled before
    // being dropped, with releases interleaved.
    for polls in 0..4 {
        for release_at in 0..4 {
            let sem = Semaphore::new(2);
            let held = sem.try_acquire_many(2).unwrap();
            let mut other = TestTask::new(sem.acquire());
            let mut victim = TestTask::new(sem.acquire_many(2));
            let mut held = Some(held);
            if polls > 0 {
                other.pending();
            }
            for i in 0..polls {
                if i == release_at {
                    held = None;
                }
                let _ = victim.poll().map(drop);
            }
            victim.cancel();
            drop(held);
            if let core::task::Poll::Ready(p) = other.poll() {
                drop(p.unwrap());
            }
            drop(other);
            assert_whole(&sem, 2);
        }
    }
}

#[test]
fn owned_permits_are_static_and_release_on_drop() {
    let sem = Arc::new(Semaphore::new(1));
    let p = Arc::clone(&sem).try_acquire_owned().unwrap();
    let mut w = TestTask::new(Arc::clone(&sem).acquire_owned());
    w.pending();
    drop(p);
    let p2 = w.ready().unwrap();
    assert_eq!(p2.num_permits(), 1);
    drop(p2);
    assert_whole(&sem, 1);
}

#[test]
fn blocking_acquire_from_a_plain_thread() {
    let sem = Arc::new(Semaphore::new(0));
    let s2 = Arc::clone(&sem);
    let t = std::thread::spawn(move || {
        let p = s2.acquire_blocking().unwrap();
        p.forget();
    });
    // Not a sleep to let things settle: the release can come before or
    // after the thread waits; either way it must get the permit.
    sem.add_permits(1);
    t.join().unwrap();
    assert_eq!(sem.available_permits(), 0);
}

#[test]
fn a_panicking_waker_clone_leaves_the_semaphore_consistent() {
    use core::task::{RawWaker, RawWakerVTable, Waker};
    fn clone(_: *const ()) -> RawWaker {
        panic!("waker clone panics")
    }
    fn noop(_: *const ()) {}
    static VTABLE: RawWakerVTable = RawWakerVTable::new(clone, noop, noop, noop);
    // SAFETY: every vtable function ignores the data pointer.
    let bad = unsafe { Waker::from_raw(RawWaker::new(core::ptr::null(), &VTABLE)) };

    let sem = Semaphore::new(1);
    let held = sem.try_acquire().unwrap();
    let mut a = TestTask::new(sem.acquire());
    a.pending();
    let mut b = TestTask::new(sem.acquire_many(1));
    let result = std::panic::catch_unwind(core::panic::AssertUnwindSafe(|| b.poll_with(&bad)));
    assert!(result.is_err());
    b.cancel();
    assert_eq!(sem.waiters(), 1, "A is still queued");
    drop(held);
    assert_eq!(a.wakes(), 1, "A gets the permit, nobody barges");
    assert!(sem.try_acquire().is_err());
    drop(a.ready().unwrap());
    assert_whole(&sem, 1);
}

#[test]
fn an_impossible_add_permits_changes_nothing() {
    let sem = Semaphore::new(0);
    let mut a = TestTask::new(sem.acquire_many(3));
    a.pending();
    let result = std::panic::catch_unwind(core::panic::AssertUnwindSafe(|| {
        sem.add_permits(usize::MAX)
    }));
    assert!(result.is_err());
    assert_eq!(
        a.wakes(),
        0,
        "no permits were handed out by the failed call"
    );
    sem.add_permits(3);
    drop(a.ready().unwrap());
    assert_whole(&sem, 3);
}

#[test]
fn a_waiter_granted_before_close_but_polled_after_fails() {
    let sem = Semaphore::new(0);
    let mut a = TestTask::new(sem.acquire());
    a.pending();
    sem.add_permits(1); // granted to A
    sem.close();
    assert_eq!(a.ready().unwrap_err(), AcquireError::Closed);
    assert_eq!(sem.available_permits(), 1, "the permit came back");
}

#[test]
fn a_forgotten_waiter_is_a_leak_not_a_panic() {
    let sem = Semaphore::new(0);
    use core::future::Future;
    let mut f = alloc::boxed::Box::pin(sem.acquire());
    let mut cx = core::task::Context::from_waker(futures_util::task::noop_waker_ref());
    assert!(f.as_mut().poll(&mut cx).is_pending());
    core::mem::forget(f); // leaks the node (allowed); must not panic on drop
}

mod hostile {
    //! Foreign code that misbehaves: wakers that panic or re-enter.

    use super::*;
    use crate::util::hostile::{panics, Hostile};

    #[test]
    fn a_release_whose_first_wake_panics_still_grants_every_waiter() {
        let sem = Semaphore::new(0);
        let bad = Hostile::new();
        let mut a = TestTask::new(sem.acquire());
        let mut b = TestTask::new(sem.acquire());
        let mut c = TestTask::new(sem.acquire());
        assert!(a.poll_with(&bad.waker()).is_pending());
        b.pending();
        c.pending();
        bad.panic_on_wake(true);
        assert!(panics(|| sem.add_permits(3)), "the wake's panic propagates");
        assert!(c.is_woken() && b.is_woken(), "the others are still woken");
        bad.panic_on_wake(false);
        let (pa, pb, pc) = (a.ready().unwrap(), b.ready().unwrap(), c.ready().unwrap());
        assert_eq!(sem.available_permits(), 0);
        drop((pa, pb, pc));
        assert_whole(&sem, 3);
    }

    #[test]
    fn a_release_completing_three_waiters_survives_two_panicking_wakes() {
        // Three or more completed waiters are woken in batches, which
        // catch each waker's panic: with the first and the last wakers
        // panicking, one panic comes out (not an abort) and the middle
        // waiter is still woken.
        let sem = Semaphore::new(0);
        let bad = Hostile::new();
        let mut a = TestTask::new(sem.acquire());
        let mut b = TestTask::new(sem.acquire());
        let mut c = TestTask::new(sem.acquire());
        assert!(a.poll_with(&bad.waker()).is_pending());
        b.pending();
        assert!(c.poll_with(&bad.waker()).is_pending());
        bad.panic_on_wake(true);
        assert!(panics(|| sem.add_permits(3)), "a wake's panic propagates");
        assert!(b.is_woken(), "the middle waiter is still woken");
        bad.panic_on_wake(false);
        let (pa, pb, pc) = (a.ready().unwrap(), b.ready().unwrap(), c.ready().unwrap());
        assert_eq!(sem.available_permits(), 0);
        drop((pa, pb, pc));
        assert_whole(&sem, 3);
    }

    #[test]
    fn a_release_completing_two_waiters_wakes_the_second_when_the_first_wake_panics() {
        // The two-waiter hand-off wakes without a batch: the second waker
        // must still run when the first one panics.
        let sem = Semaphore::new(0);
        let bad = Hostile::new();
        let mut a = TestTask::new(sem.acquire());
        let mut b = TestTask::new(sem.acquire_many(2));
        assert!(a.poll_with(&bad.waker()).is_pending());
        b.pending();
        bad.panic_on_wake(true);
        assert!(panics(|| sem.add_permits(3)), "the wake's panic propagates");
        assert!(b.is_woken(), "the second waiter is still woken");
        bad.panic_on_wake(false);
        let (pa, pb) = (a.ready().unwrap(), b.ready().unwrap());
        assert_eq!((pa.num_permits(), pb.num_permits()), (1, 2));
        assert_eq!(sem.available_permits(), 0);
        drop((pa, pb));
        assert_whole(&sem, 3);
    }

    #[test]
    fn leftover_permits_of_a_release_are_not_lost_when_a_wake_panics() {
        // Two waiters satisfied, one permit left over: it must end up
        // available whatever the wakers do.
        let sem = Semaphore::new(0);
        let bad = Hostile::new();
        let mut a = TestTask::new(sem.acquire());
        let mut b = TestTask::new(sem.acquire());
        assert!(a.poll_with(&bad.waker()).is_pending());
        b.pending();
        bad.panic_on_wake(true);
        assert!(panics(|| sem.add_permits(3)));
        bad.panic_on_wake(false);
        drop(a.ready().unwrap());
        drop(b.ready().unwrap());
        assert_whole(&sem, 3);
    }

    #[test]
    fn spare_permits_of_a_release_are_available_before_the_woken_tasks_run() {
        // Three waiters satisfied and two permits to spare: the spare ones
        // are available at once, not held by the newest waiter until its
        // task runs (a newcomer would have to queue meanwhile).
        let sem = Semaphore::new(0);
        let mut tasks: Vec<_> = (0..3).map(|_| TestTask::new(sem.acquire())).collect();
        for t in &mut tasks {
            t.pending();
        }
        sem.add_permits(5);
        assert_eq!(sem.available_permits(), 2);
        let spare = sem.try_acquire_many(2).expect("the spare permits");
        let permits: Vec<_> = tasks.iter_mut().map(|t| t.ready().unwrap()).collect();
        assert!(permits.iter().all(|p| p.num_permits() == 1));
        drop((spare, permits));
        assert_whole(&sem, 5);
    }

    #[test]
    fn a_waiter_that_queues_between_wake_batches_gets_the_spare_permits() {
        // 20 waiters of one permit and a release of 25: they are woken in
        // batches (the lock released between them), with 5 to spare. A
        // task that queues while the first batch is woken, behind the
        // waiters still linked, is next in line for the spare permits.
        let sem = Arc::new(Semaphore::new(0));
        let late = Arc::new(std::sync::Mutex::new(None));
        let hostile = Hostile::new();
        let mut tasks: Vec<_> = (0..20).map(|_| TestTask::new(sem.acquire())).collect();
        assert!(tasks[0].poll_with(&hostile.waker()).is_pending());
        for t in &mut tasks[1..] {
            t.pending();
        }
        {
            let (sem, late) = (Arc::clone(&sem), Arc::clone(&late));
            hostile.on_wake(move || {
                let mut late = late.lock().unwrap();
                if late.is_none() {
                    let mut task = TestTask::new(Arc::clone(&sem).acquire_many_owned(3));
                    task.pending();
                    *late = Some(task);
                }
            });
        }
        sem.add_permits(25);
        let mut late = late
            .lock()
            .unwrap()
            .take()
            .expect("the first wake queued it");
        let late = late.ready().expect("the spare permits went to it");
        assert_eq!(late.num_permits(), 3);
        assert_eq!(sem.available_permits(), 2);
        let permits: Vec<_> = tasks.iter_mut().map(|t| t.ready().unwrap()).collect();
        drop((late, permits));
        assert_whole(&sem, 25);
    }

    #[test]
    fn spare_permits_left_by_an_unwinding_release_are_handed_on_without_a_wake() {
        // Each case first takes out the permits the spare stands for and
        // keeps them counted in the total, as a release in flight holds
        // them.
        // Nobody queued: back to the pool.
        let sem = Semaphore::new(2);
        sem.try_acquire_many(2).unwrap().keep();
        sem.drop_spare_for_test(2);
        assert_eq!(sem.available_permits(), 2);
        assert_whole(&sem, 2);
        // A waiter short of them: it gets them, in order, and keeps
        // waiting for the rest.
        let sem = Semaphore::new(2);
        sem.try_acquire_many(2).unwrap().keep();
        let mut a = TestTask::new(sem.acquire_many(3));
        a.pending();
        sem.drop_spare_for_test(2);
        assert!(!a.is_woken(), "nobody is woken");
        assert_eq!(sem.available_permits(), 0);
        sem.add_permits(1);
        assert_eq!(a.ready().unwrap().num_permits(), 3);
        assert_whole(&sem, 3);
        // More than the waiters need: the rest rides with the newest, and
        // comes back when it is dropped (or completes).
        let sem = Semaphore::new(3);
        sem.try_acquire_many(3).unwrap().keep();
        let mut b = TestTask::new(sem.acquire());
        b.pending();
        sem.drop_spare_for_test(3);
        assert!(!b.is_woken(), "nobody is woken");
        assert_eq!(sem.available_permits(), 0);
        drop(b);
        assert_whole(&sem, 3);
    }

    #[test]
    fn add_permits_past_the_total_panics_and_changes_nothing() {
        let sem = Semaphore::new(Semaphore::MAX_PERMITS);
        let all = sem.try_acquire_many(Semaphore::MAX_PERMITS).unwrap();
        assert!(panics(|| sem.add_permits(Semaphore::MAX_PERMITS)));
        assert!(panics(|| sem.add_permits(1)));
        assert_eq!(sem.available_permits(), 0);
        drop(all); // a permit's drop never panics
        assert_eq!(sem.available_permits(), Semaphore::MAX_PERMITS);
    }

    #[test]
    fn forgotten_permits_leave_room_to_add_again() {
        let sem = Semaphore::new(Semaphore::MAX_PERMITS);
        sem.try_acquire_many(10).unwrap().forget();
        sem.add_permits(10);
        assert_eq!(sem.available_permits(), Semaphore::MAX_PERMITS);
        assert!(panics(|| sem.add_permits(1)));
    }

    #[test]
    fn a_panicking_waker_clone_leaves_the_semaphore_unchanged() {
        let sem = Semaphore::new(1);
        let held = sem.try_acquire().unwrap();
        let bad = Hostile::new();
        let waker = bad.waker();
        bad.panic_on_clone(true);
        let mut a = TestTask::new(sem.acquire());
        assert!(panics(|| {
            let _ = a.poll_with(&waker);
        }));
        assert_eq!(sem.waiters(), 0);
        drop(a);
        drop(held);
        assert_whole(&sem, 1);
    }

    #[test]
    fn wakers_are_never_woken_or_dropped_under_the_lock() {
        let sem = Arc::new(Semaphore::new(1));
        let spy = Hostile::new();
        let held = sem.try_acquire().unwrap();
        let mut tasks: Vec<_> = (0..20).map(|_| TestTask::new(sem.acquire())).collect();
        for t in &mut tasks {
            assert!(t.poll_with(&spy.waker()).is_pending());
        }
        // Re-poll with another waker (the spy's is replaced and dropped).
        tasks[3].pending();
        drop(held);
        for t in &mut tasks[..2] {
            drop(t.ready());
        }
        tasks.truncate(10); // cancel waiting ones
        sem.add_permits(30);
        sem.close();
        drop(tasks);
        assert_eq!(spy.under_lock(), 0);
        assert!(spy.wakes() > 0 && spy.drops() > 0);
    }

    #[test]
    fn a_waker_that_re_enters_on_wake_and_drop_does_not_deadlock() {
        let sem = Arc::new(Semaphore::new(1));
        let hook = Hostile::new();
        {
            let sem = Arc::clone(&sem);
            hook.on_wake(move || drop(sem.try_acquire()));
        }
        {
            let sem = Arc::clone(&sem);
            hook.on_drop(move || {
                let _ = sem.available_permits();
                let _ = sem.waiters();
            });
        }
        let held = sem.try_acquire().unwrap();
        let mut a = TestTask::new(sem.acquire());
        assert!(a.poll_with(&hook.waker()).is_pending());
        drop(held);
        drop(a.ready().unwrap());
        assert_eq!(hook.under_lock(), 0);
        assert_whole(&sem, 1);
    }
}

/// The hardened wait queue costs no memory: the primitives are no larger
/// than before it (64-bit, `std`).
#[test]
#[cfg(target_pointer_width = "64")]
fn primitive_sizes_stay_within_their_budget() {
    use core::mem::size_of;

    use crate::sync::{Mutex, Notify};
    assert!(size_of::<Semaphore>() <= 40, "{}", size_of::<Semaphore>());
    assert!(size_of::<Mutex<u64>>() <= 48, "{}", size_of::<Mutex<u64>>());
    assert!(size_of::<Notify>() <= 40, "{}", size_of::<Notify>());
    std::println!(
        "Semaphore {} Mutex<u64> {} Notify {} Event {} RwLock<u64> {}",
        size_of::<Semaphore>(),
        size_of::<Mutex<u64>>(),
        size_of::<Notify>(),
        size_of::<crate::sync::Event>(),
        size_of::<crate::sync::RwLock<u64>>(),
    );
}

#[test]
fn forget_permits_removes_only_available_permits_and_says_how_many() {
    let sem = Semaphore::new(5);
    let held = sem.try_acquire_many(2).unwrap();
    assert_eq!(sem.forget_permits(0), 0);
    assert_eq!(sem.forget_permits(4), 3);
    assert_eq!(sem.available_permits(), 0);
    assert_eq!(sem.forget_permits(1), 0);
    drop(held); // held permits come back: they were not forgotten
    assert_whole(&sem, 2);
}

#[test]
fn forgotten_permits_leave_room_under_max_permits_for_add_permits() {
    let sem = Semaphore::new(Semaphore::MAX_PERMITS);
    assert_eq!(sem.forget_permits(3), 3);
    sem.add_permits(3); // back to exactly the maximum: accepted
    assert_eq!(sem.available_permits(), Semaphore::MAX_PERMITS);
    let over = crate::util::hostile::panics(|| sem.add_permits(1));
    assert!(over, "the total is back at the maximum");
    assert_eq!(sem.available_permits(), Semaphore::MAX_PERMITS);
}

#[test]
fn forget_permits_with_waiters_queued_takes_nothing_from_them() {
    let sem = Semaphore::new(1);
    let mut big = TestTask::new(sem.acquire_many(3));
    big.pending(); // holds the one permit as a partial assignment
    assert_eq!(sem.forget_permits(1), 0);
    sem.add_permits(2);
    assert_eq!(big.ready().unwrap().num_permits(), 3);
    assert_whole(&sem, 3);
}

#[test]
fn acquire_many_owned_blocking_waits_on_a_thread_until_permits_are_added() {
    let sem = Arc::new(Semaphore::new(0));
    let waiter = {
        let sem = Arc::clone(&sem);
        std::thread::spawn(move || sem.acquire_many_owned_blocking(2))
    };
    while sem.waiters() == 0 {
        std::thread::yield_now();
    }
    sem.add_permits(2);
    let permit = waiter.join().unwrap().unwrap();
    assert_eq!(permit.num_permits(), 2);
    assert_eq!(sem.available_permits(), 0);
    drop(permit);
    let one = Arc::clone(&sem).acquire_owned_blocking().unwrap();
    assert_eq!((one.num_permits(), sem.available_permits()), (1, 1));
    drop(one);
    sem.close();
    assert_eq!(
        Arc::clone(&sem).acquire_owned_blocking().err(),
        Some(AcquireError::Closed)
    );
}

/// An acquire woken with its permits and then given up (as `OnceCell`
/// does when it finds the value set) hands them back without the lock.
#[test]
fn cancelling_a_woken_acquire_gives_its_permits_back_without_the_lock() {
    let sem = Semaphore::new(2);
    let held = sem.try_acquire_many(2).unwrap();
    let mut acquire = alloc::boxed::Box::pin(crate::sync::semaphore::AcquireInner::new(&sem, 2));
    let mut cx = core::task::Context::from_waker(futures_util::task::noop_waker_ref());
    assert!(acquire.as_mut().poll(&mut cx).is_pending());
    drop(held);
    assert_eq!(sem.available_permits(), 0, "assigned to the waiter");
    let locks = crate::util::test::locks_taken(|| acquire.as_mut().cancel());
    assert_eq!(locks, 0);
    assert!(acquire.is_terminated());
    drop(acquire);
    assert_whole(&sem, 2);
}

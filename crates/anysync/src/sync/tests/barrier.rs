//! Hand-polled Barrier tests and its loom model.

use alloc::{sync::Arc, vec::Vec};

use crate::{
    sync::{Barrier, BrokenBarrier},
    util::{
        hostile::{panics, Hostile},
        test::TestTask,
    },
};

#[track_caller]
fn assert_quiescent(b: &Barrier) {
    let stats = b.statistics();
    assert_eq!((stats.waiters, stats.broken), (0, false), "{stats:?}");
}

#[test]
fn last_arrival_trips_wakes_everyone_and_leads() {
    let b = Barrier::new(3);
    let mut w1 = TestTask::new(b.wait());
    let mut w2 = TestTask::new(b.wait());
    w1.pending();
    w2.pending();
    assert_eq!(b.waiters(), 2);
    let mut w3 = TestTask::new(b.wait());
    let r3 = w3.ready().unwrap();
    assert!(r3.is_leader());
    assert_eq!((w1.wakes(), w2.wakes()), (1, 1));
    assert!(!w1.ready().unwrap().is_leader());
    assert!(!w2.ready().unwrap().is_leader());
    assert_quiescent(&b);
}

#[test]
fn ten_generations_of_a_hundred_parties_have_one_leader_each() {
    let b = Barrier::new(100);
    for _ in 0..10 {
        let mut tasks: Vec<_> = (0..100).map(|_| TestTask::new(b.wait())).collect();
        let mut leaders = 0;
        for t in &mut tasks[..99] {
            t.pending();
        }
        leaders += usize::from(tasks[99].ready().unwrap().is_leader());
        for t in &mut tasks[..99] {
            assert_eq!(t.wakes(), 1);
            leaders += usize::from(t.ready().unwrap().is_leader());
        }
        assert_eq!(leaders, 1);
        assert_quiescent(&b);
    }
}

#[test]
fn cancel_while_filling_withdraws_the_arrival() {
    let b = Barrier::new(3);
    let mut w1 = TestTask::new(b.wait());
    let mut w2 = TestTask::new(b.wait());
    w1.pending();
    w2.pending();
    w2.cancel();
    assert_eq!(b.waiters(), 1);
    let mut w3 = TestTask::new(b.wait());
    w3.pending(); // still needs a third party
    assert_eq!(w1.wakes(), 0);
    let mut w4 = TestTask::new(b.wait());
    assert!(w4.ready().unwrap().is_leader());
    assert!(!w1.ready().unwrap().is_leader());
    assert!(!w3.ready().unwrap().is_leader());
    assert_quiescent(&b);
}

#[test]
fn cancel_after_the_trip_never_untrips() {
    let b = Barrier::new(3);
    let mut w1 = TestTask::new(b.wait());
    let mut w2 = TestTask::new(b.wait());
    w1.pending();
    w2.pending();
    let mut w3 = TestTask::new(b.wait());
    assert!(w3.ready().unwrap().is_leader());
    w1.cancel(); // woken, never polled
    assert_eq!(b.waiters(), 0);
    assert!(w2.ready().is_ok());
    assert_quiescent(&b);
}

#[test]
fn generations_never_mix() {
    let b = Barrier::new(2);
    let mut a1 = TestTask::new(b.wait());
    a1.pending();
    let mut b1 = TestTask::new(b.wait());
    assert!(b1.ready().unwrap().is_leader());
    // B re-enters at once, before A has even been polled: next generation.
    let mut b2 = TestTask::new(b.wait());
    b2.pending();
    assert_eq!(b.waiters(), 1);
    assert!(a1.ready().is_ok());
    assert_eq!(b2.wakes(), 0);
    let mut a2 = TestTask::new(b.wait());
    assert!(a2.ready().unwrap().is_leader());
    assert!(!b2.ready().unwrap().is_leader());
    assert_quiescent(&b);
}

#[test]
fn the_outcome_not_the_wake_up_decides() {
    // More waiters than one wake batch; the barrier is aborted after the
    // trip but before any of them runs: they still passed.
    let b = Barrier::new(40);
    let mut tasks: Vec<_> = (0..39).map(|_| TestTask::new(b.wait())).collect();
    for t in &mut tasks {
        t.pending();
    }
    let mut last = TestTask::new(b.wait());
    assert!(last.ready().unwrap().is_leader());
    b.abort();
    for t in &mut tasks {
        assert!(t.ready().is_ok());
    }
    assert!(b.is_broken());
    b.reset();
    assert_quiescent(&b);
}

#[test]
fn abort_breaks_current_and_later_waits_until_reset() {
    let b = Barrier::new(3);
    let mut w1 = TestTask::new(b.wait());
    let mut w2 = TestTask::new(b.wait());
    w1.pending();
    w2.pending();
    b.abort();
    assert_eq!((w1.wakes(), w2.wakes()), (1, 1));
    assert_eq!(w1.ready(), Err(BrokenBarrier));
    assert_eq!(w2.ready(), Err(BrokenBarrier));
    assert!(b.is_broken());
    assert_eq!(b.waiters(), 0);
    let mut later = TestTask::new(b.wait());
    assert_eq!(later.ready(), Err(BrokenBarrier));
    b.abort(); // idempotent
    b.reset();
    assert_quiescent(&b);
    // Works normally again.
    let mut ws: Vec<_> = (0..3).map(|_| TestTask::new(b.wait())).collect();
    ws[0].pending();
    ws[1].pending();
    assert!(ws[2].ready().unwrap().is_leader());
    assert!(ws[0].ready().is_ok() && ws[1].ready().is_ok());
}

#[test]
fn reset_with_waiters_breaks_them_and_starts_empty() {
    let b = Barrier::new(2);
    let mut w1 = TestTask::new(b.wait());
    w1.pending();
    b.reset();
    assert_eq!(w1.ready(), Err(BrokenBarrier));
    assert!(!b.is_broken());
    assert_eq!(b.waiters(), 0);
    let mut a = TestTask::new(b.wait());
    a.pending(); // the reset emptied it: one arrival is not enough
    let mut c = TestTask::new(b.wait());
    assert!(c.ready().unwrap().is_leader());
    assert!(a.ready().is_ok());
}

#[test]
fn barrier_of_zero_parties_is_a_barrier_of_one() {
    let b = Barrier::new(0);
    assert_eq!(b.parties(), 1);
    for _ in 0..3 {
        let mut w = TestTask::new(b.wait());
        assert!(w.ready().unwrap().is_leader());
    }
    assert_quiescent(&b);
}

#[test]
fn waker_update_wakes_only_the_latest_waker() {
    let b = Barrier::new(2);
    let mut w = TestTask::new(b.wait());
    let (other, other_count) = futures_test::task::new_count_waker();
    assert!(w.poll_with(&other).is_pending());
    w.pending();
    w.pending(); // spurious polls do not re-register
    assert_eq!(b.waiters(), 1);
    let mut last = TestTask::new(b.wait());
    assert!(last.ready().is_ok());
    assert_eq!((other_count.get(), w.wakes()), (0, 1));
    assert!(w.ready().is_ok());
}

#[test]
fn wait_is_fused_and_panics_when_polled_after_completion() {
    use core::future::Future;

    use futures_core::FusedFuture;
    let b = Barrier::new(1);
    let mut w = core::pin::pin!(b.wait());
    let mut cx = core::task::Context::from_waker(futures_util::task::noop_waker_ref());
    assert!(!w.is_terminated());
    assert!(w.as_mut().poll(&mut cx).is_ready());
    assert!(w.is_terminated());
    let again = std::panic::catch_unwind(core::panic::AssertUnwindSafe(|| {
        let _ = w.as_mut().poll(&mut cx);
    }));
    assert!(again.is_err());
}

#[test]
fn threads_rendezvous_for_many_rounds() {
    let b = Arc::new(Barrier::new(4));
    let handles: Vec<_> = (0..4)
        .map(|_| {
            let b = Arc::clone(&b);
            std::thread::spawn(move || {
                (0..100)
                    .filter(|_| b.wait_blocking().unwrap().is_leader())
                    .count()
            })
        })
        .collect();
    let leaders: usize = handles.into_iter().map(|h| h.join().unwrap()).sum();
    assert_eq!(leaders, 100);
    assert_quiescent(&b);
}

#[test]
fn a_wake_that_panics_in_the_trip_strands_no_one() {
    let b = Barrier::new(41);
    let hostile = Hostile::new();
    hostile.panic_on_wake(true);
    // First in line, so its wake panics in the first batch; 39 more
    // waiters need two further batches.
    let mut bad = TestTask::new(b.wait());
    assert!(bad.poll_with(&hostile.waker()).is_pending());
    let mut w: Vec<_> = (0..39).map(|_| TestTask::new(b.wait())).collect();
    for t in &mut w {
        t.pending();
    }
    let mut leader = TestTask::new(b.wait());
    assert!(
        panics(|| {
            let _ = leader.poll();
        }),
        "the wake's panic propagates"
    );
    assert_eq!(hostile.wakes(), 1);
    for t in &mut w {
        assert_eq!(t.wakes(), 1);
        assert!(!t.ready().unwrap().is_leader());
    }
    assert!(!bad.ready().unwrap().is_leader());
    assert_quiescent(&b);
    // The panicking trip's leader is done: polling it again does not
    // arrive a second time.
    assert!(panics(|| {
        let _ = leader.poll();
    }));
    assert_quiescent(&b);
    // The next generation trips as usual.
    let mut w: Vec<_> = (0..41).map(|_| TestTask::new(b.wait())).collect();
    for t in &mut w[..40] {
        t.pending();
    }
    assert!(w[40].ready().unwrap().is_leader());
    for t in &mut w[..40] {
        assert!(!t.ready().unwrap().is_leader());
    }
    assert_quiescent(&b);
}

#[test]
fn a_waker_clone_that_panics_records_no_arrival() {
    let b = Barrier::new(2);
    let hostile = Hostile::new();
    hostile.panic_on_clone(true);
    let mut a = TestTask::new(b.wait());
    assert!(panics(|| {
        let _ = a.poll_with(&hostile.waker());
    }));
    assert_eq!(b.waiters(), 0, "no phantom arrival");
    // So one more task alone does not trip a 2-party barrier.
    let mut c = TestTask::new(b.wait());
    c.pending();
    assert_eq!(b.waiters(), 1);
    // A later poll that replaces the waker: the arrival stays counted once.
    assert!(panics(|| {
        let _ = c.poll_with(&hostile.waker());
    }));
    assert_eq!(b.waiters(), 1);
    // `a`, polled again, is the second party.
    assert!(a.ready().unwrap().is_leader());
    assert_eq!(c.wakes(), 1, "the waker from before the panic is kept");
    assert!(!c.ready().unwrap().is_leader());
    assert_quiescent(&b);
}

#[test]
fn wakers_that_re_enter_the_barrier_are_never_run_under_its_lock() {
    let b = Arc::new(Barrier::new(3));
    let hostile = Hostile::new();
    let b1 = Arc::clone(&b);
    hostile.on_wake(move || {
        // Deadlocks (or trips the detector) if the lock is held.
        let _ = b1.waiters();
        // Starts a new generation; the woken waiters keep their outcome.
        b1.reset();
    });
    let b2 = Arc::clone(&b);
    hostile.on_drop(move || {
        let _ = b2.waiters();
    });
    let (counting, _) = futures_test::task::new_count_waker();

    // A replaced waker, and the waker of a wait cancelled before the trip.
    let mut a = TestTask::new(b.wait());
    assert!(a.poll_with(&hostile.waker()).is_pending());
    assert!(a.poll_with(&counting).is_pending());
    assert!(a.poll_with(&hostile.waker()).is_pending());
    let mut gone = TestTask::new(b.wait());
    assert!(gone.poll_with(&hostile.waker()).is_pending());
    gone.cancel();
    assert_eq!(b.waiters(), 1);
    // Woken by the trip.
    let mut c = TestTask::new(b.wait());
    assert!(c.poll_with(&hostile.waker()).is_pending());
    assert!(TestTask::new(b.wait()).ready().unwrap().is_leader());
    assert!(a.ready().is_ok());
    assert!(c.ready().is_ok());
    // Woken by an abort, whose hook re-enters too.
    let mut d = TestTask::new(b.wait());
    assert!(d.poll_with(&hostile.waker()).is_pending());
    b.abort();
    assert_eq!(d.ready(), Err(BrokenBarrier));
    b.reset();

    assert_eq!(hostile.wakes(), 3);
    assert!(hostile.drops() >= 5);
    assert_eq!(hostile.under_lock(), 0);
    assert_quiescent(&b);
}

mod loom {
    use core::{
        future::Future,
        pin::pin,
        task::{Context, Poll},
    };

    use crate::{
        loom::{self, future::block_on, sync::Arc, thread},
        sync::Barrier,
    };

    /// Barrier(2): one task arrives and is dropped after one poll, racing
    /// main's arrival. Whether the drop comes before the trip (the arrival
    /// is withdrawn, and a third task is needed) or after (the trip stands),
    /// every generation has exactly one leader and nobody is stranded.
    #[test]
    fn loom_barrier_trip_vs_cancel() {
        loom::model(|| {
            let b = Arc::new(Barrier::new(2));
            let b1 = Arc::clone(&b);
            let canceller = thread::spawn(move || {
                let mut w = pin!(b1.wait());
                let mut cx = Context::from_waker(futures_util::task::noop_waker_ref());
                match w.as_mut().poll(&mut cx) {
                    Poll::Ready(r) => Some(r.unwrap().is_leader()),
                    Poll::Pending => None, // dropped here
                }
            });
            let mut mine = pin!(b.wait());
            let mut cx = Context::from_waker(futures_util::task::noop_waker_ref());
            let first = mine.as_mut().poll(&mut cx);
            let theirs = canceller.join().unwrap();
            let mut leaders = usize::from(theirs == Some(true));
            let mine = match first {
                Poll::Ready(r) => r,
                Poll::Pending if b.waiters() == 1 => {
                    // The other arrival was withdrawn: a third task trips it.
                    let (mine, third) =
                        block_on(futures_util::future::join(mine.as_mut(), b.wait()));
                    leaders += usize::from(third.unwrap().is_leader());
                    mine
                }
                Poll::Pending => block_on(mine.as_mut()),
            };
            leaders += usize::from(mine.unwrap().is_leader());
            assert_eq!(leaders, 1);
            assert_eq!(b.waiters(), 0);
        });
    }
}

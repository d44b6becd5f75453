//! Hand-polled BoundedSemaphore tests.

use alloc::{sync::Arc, vec::Vec};
use core::sync::atomic::{AtomicUsize, Ordering};

#[cfg(feature = "std")]
use crate::util::hostile::{panics, Hostile};
use crate::{
    sync::{BoundedSemaphore, BoundedTryAcquireError, ExceedsCapacity, ReleaseError, Semaphore},
    util::test::TestTask,
};

/// Everything released, nobody waiting, the full capacity available.
#[track_caller]
fn assert_full(sem: &BoundedSemaphore) {
    let s = sem.statistics();
    assert_eq!(
        (s.available, s.acquired, s.waiters),
        (s.capacity, 0, 0),
        "{s:?}"
    );
}

#[test]
fn acquire_release_and_over_release_is_an_error() {
    let sem = BoundedSemaphore::new(2);
    let mut a = TestTask::new(sem.acquire());
    assert_eq!(a.ready(), Ok(()));
    assert_eq!(sem.acquired(), 1);
    assert_eq!(sem.release(), Ok(()));
    assert_eq!(
        sem.release(),
        Err(ReleaseError {
            requested: 1,
            acquired: 0
        })
    );
    assert_eq!(sem.available_permits(), 2, "the bound held");
    assert_full(&sem);
}

#[test]
fn release_many_beyond_the_acquired_count_releases_nothing() {
    let sem = BoundedSemaphore::new(4);
    sem.try_acquire_many(3).unwrap();
    assert_eq!(
        sem.release_many(4),
        Err(ReleaseError {
            requested: 4,
            acquired: 3
        })
    );
    assert_eq!(sem.acquired(), 3);
    assert_eq!(sem.available_permits(), 1);
    assert_eq!(sem.release_many(0), Ok(()));
    assert_eq!(sem.release_many(3), Ok(()));
    assert_full(&sem);
}

#[test]
fn acquire_more_than_the_capacity_fails_at_once_without_queueing() {
    let sem = BoundedSemaphore::new(3);
    sem.try_acquire().unwrap(); // even while permits are out
    let mut big = TestTask::new(sem.acquire_many(4));
    assert_eq!(
        big.ready(),
        Err(ExceedsCapacity {
            requested: 4,
            capacity: 3
        })
    );
    assert_eq!(sem.waiters(), 0);
    assert_eq!(
        sem.try_acquire_many(4),
        Err(BoundedTryAcquireError::ExceedsCapacity(ExceedsCapacity {
            requested: 4,
            capacity: 3
        }))
    );
    sem.release().unwrap();
    assert_full(&sem);
}

#[test]
fn capacity_zero_refuses_every_acquire() {
    let sem = BoundedSemaphore::new(0);
    let mut a = TestTask::new(sem.acquire());
    assert!(a.ready().is_err());
    assert!(matches!(
        sem.try_acquire(),
        Err(BoundedTryAcquireError::ExceedsCapacity(_))
    ));
    let mut zero = TestTask::new(sem.acquire_many(0));
    assert_eq!(zero.ready(), Ok(()));
    assert!(sem.release().is_err());
    assert_full(&sem);
}

#[test]
#[should_panic(expected = "BoundedSemaphore::new: `capacity` exceeds Semaphore::MAX_PERMITS")]
fn capacity_above_max_panics() {
    let _ = BoundedSemaphore::new(Semaphore::MAX_PERMITS + 1);
}

#[test]
fn fifo_with_partial_assignment_like_semaphore() {
    let sem = BoundedSemaphore::new(5);
    sem.try_acquire().unwrap();
    let mut a = TestTask::new(sem.acquire_many(5));
    let mut b = TestTask::new(sem.acquire_many(3));
    a.pending();
    b.pending();
    assert_eq!(sem.try_acquire(), Err(BoundedTryAcquireError::NoPermits));
    sem.release().unwrap();
    assert_eq!((a.wakes(), b.wakes()), (1, 0));
    assert_eq!(a.ready(), Ok(()));
    assert_eq!(sem.acquired(), 5);
    sem.release_many(2).unwrap();
    assert_eq!(b.wakes(), 0, "B needs 3");
    sem.release_many(3).unwrap();
    assert_eq!(b.wakes(), 1);
    assert_eq!(b.ready(), Ok(()));
    sem.release_many(3).unwrap();
    assert_full(&sem);
}

#[test]
fn cancelled_waiters_lose_nothing() {
    let sem = BoundedSemaphore::new(2);
    sem.try_acquire_many(2).unwrap();
    let mut a = TestTask::new(sem.acquire_many(2));
    let mut b = TestTask::new(sem.acquire());
    a.pending();
    b.pending();
    sem.release().unwrap(); // partially assigned to A
    a.cancel(); // ...and passed on to B
    assert_eq!(b.wakes(), 1);
    assert_eq!(b.ready(), Ok(()));
    let mut c = TestTask::new(sem.acquire());
    c.pending();
    sem.release().unwrap(); // woken...
    c.cancel(); // ...and dropped unpolled: the permit goes back
    sem.release().unwrap();
    assert_full(&sem);
}

#[test]
fn acquire_is_fused_and_panics_when_polled_after_completion() {
    use core::future::Future;

    use futures_core::FusedFuture;
    let sem = BoundedSemaphore::new(1);
    let mut f = core::pin::pin!(sem.acquire());
    let mut cx = core::task::Context::from_waker(futures_util::task::noop_waker_ref());
    assert!(f.as_mut().poll(&mut cx).is_ready());
    assert!(f.is_terminated());
    let again = std::panic::catch_unwind(core::panic::AssertUnwindSafe(|| {
        let _ = f.as_mut().poll(&mut cx);
    }));
    assert!(again.is_err());
    assert_eq!(sem.acquired(), 1, "no double grant");
}

#[test]
fn threads_never_exceed_the_capacity() {
    let sem = Arc::new(BoundedSemaphore::new(3));
    let inside = Arc::new(AtomicUsize::new(0));
    let peak = Arc::new(AtomicUsize::new(0));
    let handles: Vec<_> = (0..6)
        .map(|_| {
            let (sem, inside, peak) = (Arc::clone(&sem), Arc::clone(&inside), Arc::clone(&peak));
            std::thread::spawn(move || {
                for _ in 0..100 {
                    sem.acquire_blocking().unwrap();
                    let now = inside.fetch_add(1, Ordering::SeqCst) + 1;
                    peak.fetch_max(now, Ordering::SeqCst);
                    inside.fetch_sub(1, Ordering::SeqCst);
                    sem.release().unwrap();
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    assert!(peak.load(Ordering::SeqCst) <= 3);
    assert_full(&sem);
}

#[cfg(feature = "std")]
#[test]
fn a_release_whose_wake_panics_loses_no_permit() {
    let sem = BoundedSemaphore::new(2);
    sem.try_acquire_many(2).unwrap();
    let bad = Hostile::new();
    let mut a = TestTask::new(sem.acquire());
    let mut b = TestTask::new(sem.acquire());
    assert!(a.poll_with(&bad.waker()).is_pending());
    b.pending();
    bad.panic_on_wake(true);
    assert!(
        panics(|| {
            let _ = sem.release();
        }),
        "the wake's panic propagates"
    );
    assert_eq!(bad.wakes(), 1);
    assert_eq!(sem.acquired(), 1, "the release was counted");
    assert_eq!(b.wakes(), 0, "the permit went to A, not B");
    bad.panic_on_wake(false);
    assert_eq!(a.ready(), Ok(()), "A got the released permit");
    assert_eq!((sem.acquired(), sem.available_permits()), (2, 0));
    sem.release().unwrap();
    assert_eq!(b.wakes(), 1);
    assert_eq!(b.ready(), Ok(()));
    assert_eq!(
        sem.release_many(3),
        Err(ReleaseError {
            requested: 3,
            acquired: 2
        }),
        "the bound still holds"
    );
    sem.release_many(2).unwrap();
    assert!(sem.release().is_err(), "no over-release after the panic");
    assert_full(&sem);
    // A new round works.
    sem.try_acquire_many(2).unwrap();
    sem.release_many(2).unwrap();
    assert_full(&sem);
}

#[cfg(feature = "std")]
#[test]
fn a_release_to_two_waiters_wakes_the_second_when_the_first_wake_panics() {
    let sem = BoundedSemaphore::new(3);
    sem.try_acquire_many(3).unwrap();
    let bad = Hostile::new();
    let mut a = TestTask::new(sem.acquire());
    let mut b = TestTask::new(sem.acquire_many(2));
    assert!(a.poll_with(&bad.waker()).is_pending());
    b.pending();
    bad.panic_on_wake(true);
    assert!(
        panics(|| {
            let _ = sem.release_many(3);
        }),
        "the wake's panic propagates"
    );
    assert!(b.is_woken(), "the second waiter is still woken");
    assert_eq!(sem.available_permits(), 0, "all three were handed over");
    bad.panic_on_wake(false);
    assert_eq!((a.ready(), b.ready()), (Ok(()), Ok(())));
    assert_eq!(sem.acquired(), 3);
    assert_eq!(sem.try_acquire(), Err(BoundedTryAcquireError::NoPermits));
    assert!(sem.release_many(4).is_err(), "the bound still holds");
    sem.release_many(3).unwrap();
    assert_full(&sem);
}

#[cfg(feature = "std")]
#[test]
fn spare_permits_of_a_release_whose_wake_panics_stay_available_and_bounded() {
    // Three waiters woken in a batch (the first wake panics), two permits
    // to spare.
    let sem = BoundedSemaphore::new(5);
    sem.try_acquire_many(5).unwrap();
    let bad = Hostile::new();
    let mut ws: Vec<_> = (0..3).map(|_| TestTask::new(sem.acquire())).collect();
    assert!(ws[0].poll_with(&bad.waker()).is_pending());
    for t in &mut ws[1..] {
        t.pending();
    }
    bad.panic_on_wake(true);
    assert!(
        panics(|| {
            let _ = sem.release_many(5);
        }),
        "the wake's panic propagates"
    );
    assert_eq!((ws[1].wakes(), ws[2].wakes()), (1, 1), "no one stranded");
    assert_eq!(sem.available_permits(), 2, "the spare permits are not lost");
    assert_eq!(
        sem.try_acquire_many(3),
        Err(BoundedTryAcquireError::NoPermits),
        "and not duplicated"
    );
    bad.panic_on_wake(false);
    for t in &mut ws {
        assert_eq!(t.ready(), Ok(()));
    }
    sem.try_acquire_many(2).unwrap();
    assert_eq!((sem.acquired(), sem.available_permits()), (5, 0));
    assert!(sem.release_many(6).is_err(), "the bound still holds");
    sem.release_many(5).unwrap();
    assert_full(&sem);
}

#[cfg(feature = "std")]
#[test]
fn a_waiter_whose_wake_panicked_and_is_then_cancelled_passes_its_permit_on() {
    let sem = BoundedSemaphore::new(1);
    sem.try_acquire().unwrap();
    let bad = Hostile::new();
    bad.panic_on_wake(true);
    let mut a = TestTask::new(sem.acquire());
    let mut b = TestTask::new(sem.acquire());
    assert!(a.poll_with(&bad.waker()).is_pending());
    b.pending();
    assert!(panics(|| {
        let _ = sem.release();
    }));
    assert_eq!(b.wakes(), 0);
    a.cancel(); // never polled again: its permit moves on to B
    assert_eq!(b.wakes(), 1, "the permit was passed on");
    assert_eq!(b.ready(), Ok(()));
    assert_eq!((sem.acquired(), sem.available_permits()), (1, 0));
    sem.release().unwrap();
    assert!(sem.release().is_err(), "the bound still holds");
    assert_full(&sem);
}

//! Hand-polled OnceCell tests and its loom model.

use alloc::{sync::Arc, vec::Vec};
use core::sync::atomic::{AtomicUsize, Ordering};

use crate::{
    sync::{Event, OnceCell, SetError},
    util::test::TestTask,
};

#[track_caller]
fn assert_settled<T>(cell: &OnceCell<T>, initialized: bool) {
    let stats = cell.statistics();
    assert_eq!(
        (stats.initialized, stats.initializing, stats.waiters),
        (initialized, false, 0),
        "{stats:?}"
    );
}

#[test]
fn set_get_and_the_two_refusals() {
    let cell = OnceCell::new();
    assert_eq!(cell.get(), None);
    assert_eq!(cell.set(1), Ok(()));
    assert_eq!(cell.get(), Some(&1));
    assert_eq!(cell.set(2), Err(SetError::AlreadyInitialized(2)));
    assert_settled(&cell, true);

    let cell = OnceCell::new();
    let gate = Event::new();
    let mut init = TestTask::new(cell.get_or_init(|| async {
        gate.wait().await;
        10
    }));
    init.pending();
    assert!(cell.statistics().initializing);
    let refused = cell.set(3).unwrap_err();
    assert!(matches!(refused, SetError::Initializing(3)));
    assert_eq!(refused.into_inner(), 3);
    gate.set();
    assert_eq!(*init.ready(), 10);
    assert_settled(&cell, true);
}

#[test]
fn concurrent_callers_wait_for_the_running_initialiser() {
    let cell = OnceCell::new();
    let gate = Event::new();
    let runs = AtomicUsize::new(0);
    let init = || async {
        runs.fetch_add(1, Ordering::SeqCst);
        gate.wait().await;
        7
    };
    let mut a = TestTask::new(cell.get_or_init(init));
    let mut b = TestTask::new(cell.get_or_init(init));
    let mut c = TestTask::new(cell.get_or_init(init));
    a.pending();
    b.pending();
    c.pending();
    assert_eq!(runs.load(Ordering::SeqCst), 1, "one initialiser at a time");
    assert_eq!(cell.statistics().waiters, 2);
    gate.set();
    assert_eq!(*a.ready(), 7);
    assert_eq!((b.wakes(), c.wakes()), (1, 1));
    assert_eq!((*b.ready(), *c.ready()), (7, 7));
    assert_eq!(runs.load(Ordering::SeqCst), 1);
    assert_settled(&cell, true);
}

#[test]
fn cancelled_initialiser_lets_the_next_caller_run_its_own() {
    let cell = OnceCell::new();
    let never = Event::new();
    let mut a = TestTask::new(cell.get_or_init(|| async {
        never.wait().await;
        1
    }));
    let mut b = TestTask::new(cell.get_or_init(|| async { 2 }));
    let mut c = TestTask::new(cell.get_or_init(|| async { 3 }));
    a.pending();
    b.pending();
    c.pending();
    a.cancel();
    assert_eq!((b.wakes(), c.wakes()), (1, 0));
    assert_eq!(*b.ready(), 2);
    assert_eq!(c.wakes(), 1);
    assert_eq!(*c.ready(), 2, "C found B's value and did not run its own");
    assert_settled(&cell, true);
}

#[test]
fn failed_initialiser_lets_the_next_caller_run_its_own() {
    let cell = OnceCell::new();
    let gate = Event::new();
    let mut a = TestTask::new(cell.get_or_try_init(|| async {
        gate.wait().await;
        Err::<u8, _>("a failed")
    }));
    let mut b = TestTask::new(cell.get_or_try_init(|| async { Ok::<u8, &str>(2) }));
    a.pending();
    b.pending();
    gate.set();
    assert_eq!(a.ready(), Err("a failed"));
    assert_eq!(b.wakes(), 1);
    assert_eq!(b.ready(), Ok(&2));
    assert_settled(&cell, true);
}

#[test]
fn panicking_initialiser_lets_the_next_caller_run_its_own() {
    let cell = OnceCell::new();
    let r = std::panic::catch_unwind(core::panic::AssertUnwindSafe(|| {
        let mut a =
            TestTask::new(cell.get_or_init(|| -> core::future::Ready<u8> { panic!("boom") }));
        let _ = a.poll();
    }));
    assert!(r.is_err());
    assert_settled(&cell, false);
    let r = std::panic::catch_unwind(core::panic::AssertUnwindSafe(|| {
        let mut a = TestTask::new(cell.get_or_init(|| async { panic!("boom in the future") }));
        let _: Option<&u8> = match a.poll() {
            core::task::Poll::Ready(v) => Some(v),
            core::task::Poll::Pending => None,
        };
    }));
    assert!(r.is_err());
    assert_settled(&cell, false);
    let mut b = TestTask::new(cell.get_or_init(|| async { 5 }));
    assert_eq!(*b.ready(), 5);
}

#[test]
fn initialised_cell_never_runs_an_initialiser() {
    let cell = OnceCell::from(1);
    let mut a = TestTask::new(cell.get_or_init(|| async { unreachable!() }));
    assert_eq!(*a.ready(), 1);
    let mut b = TestTask::new(
        cell.get_or_try_init(|| -> core::future::Ready<Result<i32, ()>> { unreachable!() }),
    );
    assert_eq!(b.ready(), Ok(&1));
}

#[test]
fn cancelled_waiter_loses_nothing() {
    let cell = OnceCell::new();
    let gate = Event::new();
    let mut a = TestTask::new(cell.get_or_init(|| async {
        gate.wait().await;
        1
    }));
    let mut b = TestTask::new(cell.get_or_init(|| async { 2 }));
    let mut c = TestTask::new(cell.get_or_init(|| async { 3 }));
    a.pending();
    b.pending();
    c.pending();
    b.cancel();
    assert_eq!(cell.statistics().waiters, 1);
    gate.set();
    assert_eq!(*a.ready(), 1);
    assert_eq!(*c.ready(), 1);
    assert_settled(&cell, true);
}

#[test]
fn value_is_dropped_exactly_once() {
    struct Counted<'a>(&'a AtomicUsize);
    impl Drop for Counted<'_> {
        fn drop(&mut self) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }
    let drops = AtomicUsize::new(0);
    drop(OnceCell::from(Counted(&drops)));
    assert_eq!(drops.load(Ordering::SeqCst), 1);
    let cell = OnceCell::new_with(Some(Counted(&drops)));
    let v = cell.into_inner().unwrap();
    assert_eq!(drops.load(Ordering::SeqCst), 1);
    drop(v);
    assert_eq!(drops.load(Ordering::SeqCst), 2);
    let mut cell = OnceCell::from(Counted(&drops));
    let v = cell.take().unwrap();
    assert!(cell.get().is_none());
    assert!(cell.set(Counted(&drops)).is_ok(), "usable again after take");
    drop((v, cell));
    assert_eq!(drops.load(Ordering::SeqCst), 4);
    drop(OnceCell::<Counted<'_>>::new());
    assert_eq!(drops.load(Ordering::SeqCst), 4);
}

#[test]
fn futures_are_fused_and_panic_when_polled_after_completion() {
    use core::future::Future;

    use futures_core::FusedFuture;
    let cell = OnceCell::new();
    let mut f = core::pin::pin!(cell.get_or_init(|| async { 1 }));
    let mut cx = core::task::Context::from_waker(futures_util::task::noop_waker_ref());
    assert!(!f.is_terminated());
    assert!(f.as_mut().poll(&mut cx).is_ready());
    assert!(f.is_terminated());
    let again = std::panic::catch_unwind(core::panic::AssertUnwindSafe(|| {
        let _ = f.as_mut().poll(&mut cx);
    }));
    assert!(again.is_err());
}

#[test]
fn threads_race_to_initialise_once() {
    let cell = Arc::new(OnceCell::new());
    let runs = Arc::new(AtomicUsize::new(0));
    let handles: Vec<_> = (0..8)
        .map(|i| {
            let (cell, runs) = (Arc::clone(&cell), Arc::clone(&runs));
            std::thread::spawn(move || {
                *futures_executor::block_on(cell.get_or_init(|| async move {
                    runs.fetch_add(1, Ordering::SeqCst);
                    i
                }))
            })
        })
        .collect();
    let seen: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    assert!(seen.iter().all(|v| *v == seen[0]));
    assert_eq!(runs.load(Ordering::SeqCst), 1);
    assert_settled(&cell, true);
}

mod loom {
    use core::{future::Future, pin::pin, task::Context};

    use crate::{
        loom::{self, future::block_on, sync::Arc, thread},
        sync::OnceCell,
    };

    /// A running initialiser cancelled (after one poll) races a second
    /// caller: the second always ends with a value, its own or the first's.
    #[test]
    fn loom_once_cell_cancelled_initialiser_vs_waiter() {
        loom::model(|| {
            let cell = Arc::new(OnceCell::new());
            let c1 = Arc::clone(&cell);
            let canceller = thread::spawn(move || {
                let mut f = pin!(c1.get_or_init(|| async { 1 }));
                let mut cx = Context::from_waker(futures_util::task::noop_waker_ref());
                let _ = f.as_mut().poll(&mut cx);
            });
            let v = *block_on(cell.get_or_init(|| async { 2 }));
            canceller.join().unwrap();
            assert_eq!(cell.get(), Some(&v));
            assert_eq!(cell.statistics().waiters, 0);
        });
    }
}

#[test]
fn wait_completes_when_another_task_initialises_and_never_runs_an_initialiser() {
    let cell = OnceCell::new();
    let mut waiters: Vec<_> = (0..3).map(|_| TestTask::new(cell.wait())).collect();
    for w in &mut waiters {
        w.pending();
    }
    assert_eq!(cell.statistics().waiters, 3);
    // The waits do not hold the right to initialise: an initialiser runs
    // at once.
    let mut init = TestTask::new(cell.get_or_init(|| async { 5 }));
    assert_eq!(*init.ready(), 5);
    for w in &mut waiters {
        assert!(w.is_woken());
        assert_eq!(*w.ready(), 5);
    }
    assert_settled(&cell, true);
    // Already initialised: at once.
    assert_eq!(*TestTask::new(cell.wait()).ready(), 5);
}

#[test]
fn a_dropped_wait_strands_nothing_and_the_others_still_complete() {
    let cell = OnceCell::new();
    let mut kept = TestTask::new(cell.wait());
    let mut dropped = TestTask::new(cell.wait());
    kept.pending();
    dropped.pending();
    dropped.cancel();
    assert_eq!(cell.statistics().waiters, 1);
    assert!(cell.set(9).is_ok());
    assert_eq!(*kept.ready(), 9);
    assert_settled(&cell, true);
}

#[test]
fn wait_keeps_waiting_through_a_failed_initialiser() {
    let cell = OnceCell::<u8>::new();
    let mut w = TestTask::new(cell.wait());
    w.pending();
    let mut failing = TestTask::new(cell.get_or_try_init(|| async { Err::<u8, _>("no") }));
    assert_eq!(failing.ready(), Err("no"));
    assert!(!w.is_woken());
    w.pending();
    let mut cancelled = TestTask::new(cell.get_or_init(core::future::pending));
    cancelled.pending();
    cancelled.cancel();
    w.pending();
    assert!(cell.set(1).is_ok());
    assert_eq!(*w.ready(), 1);
}

#[test]
fn after_take_empties_the_cell_a_new_wait_waits_for_the_next_value() {
    let mut cell = OnceCell::new();
    cell.set(1).unwrap();
    assert_eq!(cell.take(), Some(1));
    let mut w = TestTask::new(cell.wait());
    w.pending();
    cell.set(2).unwrap();
    assert_eq!(*w.ready(), 2);
}

#[test]
fn blocking_initialisers_run_once_across_threads_and_wait_blocking_sees_the_value() {
    let cell = Arc::new(OnceCell::new());
    let runs = Arc::new(AtomicUsize::new(0));
    let watcher = {
        let cell = Arc::clone(&cell);
        std::thread::spawn(move || *cell.wait_blocking())
    };
    let inits: Vec<_> = (0..4)
        .map(|i| {
            let (cell, runs) = (Arc::clone(&cell), Arc::clone(&runs));
            std::thread::spawn(move || {
                *cell.get_or_init_blocking(|| {
                    runs.fetch_add(1, Ordering::SeqCst);
                    i
                })
            })
        })
        .collect();
    let values: Vec<_> = inits.into_iter().map(|t| t.join().unwrap()).collect();
    assert_eq!(runs.load(Ordering::SeqCst), 1);
    assert!(values.iter().all(|v| *v == values[0]));
    assert_eq!(watcher.join().unwrap(), values[0]);
    assert_settled(&cell, true);
}

#[test]
fn get_or_try_init_blocking_leaves_the_cell_empty_on_error_and_a_panic_too() {
    let cell = OnceCell::new();
    assert_eq!(cell.get_or_try_init_blocking(|| Err::<u8, _>(3)), Err(3));
    assert!(!cell.is_initialized());
    let panicked = crate::util::hostile::panics(|| {
        cell.get_or_init_blocking(|| panic!("initialiser panics"));
    });
    assert!(panicked);
    assert_settled(&cell, false);
    assert_eq!(cell.get_or_try_init_blocking(|| Ok::<_, u8>(4)), Ok(&4));
    assert_settled(&cell, true);
}

/// The value wakes a `wait` and a `get_or_init` queued behind the running
/// initialiser; each woken future completes and is dropped without taking
/// a lock (each sees the value first, and must still consume its
/// wake-up, or its drop would lock to unlink).
#[test]
fn woken_waiters_complete_and_drop_without_the_lock() {
    let cell = OnceCell::new();
    let gate = Event::new();
    let mut init = TestTask::new(cell.get_or_init(|| async {
        gate.wait().await;
        7
    }));
    let mut queued = TestTask::new(cell.get_or_init(|| async { 8 }));
    let mut wait = TestTask::new(cell.wait());
    init.pending();
    queued.pending();
    wait.pending();
    gate.set();
    assert_eq!(*init.ready(), 7);
    assert_eq!((queued.wakes(), wait.wakes()), (1, 1));
    let locks = crate::util::test::locks_taken(move || {
        assert_eq!((*queued.ready(), *wait.ready()), (7, 7));
        drop(queued);
        drop(wait);
    });
    assert_eq!(locks, 0);
    assert_settled(&cell, true);
}

/// The initialiser's store wakes the queued callers and then sets the
/// event that `wait` waits on: a queued caller's wake that panics does not
/// skip the event.
#[cfg(feature = "std")]
#[test]
fn a_store_whose_wake_panics_still_releases_every_wait() {
    use crate::util::hostile::{panics, Hostile};
    let cell = OnceCell::new();
    let gate = Event::new();
    let init = || async {
        gate.wait().await;
        7
    };
    let mut a = TestTask::new(cell.get_or_init(init));
    a.pending();
    let bad = Hostile::new();
    let mut b = TestTask::new(cell.get_or_init(init));
    assert!(b.poll_with(&bad.waker()).is_pending());
    let mut w = TestTask::new(cell.wait());
    w.pending();
    gate.set();
    bad.panic_on_wake(true);
    assert!(panics(|| {
        a.ready();
    }));
    bad.panic_on_wake(false);
    drop(a);
    assert!(w.is_woken(), "the wait was released");
    assert_eq!(*w.ready(), 7);
    assert_eq!(*b.ready(), 7);
    assert_settled(&cell, true);
}

/// A cancelled initialiser gives its permit back even if its future's
/// drop panics: the next caller can initialise.
#[cfg(feature = "std")]
#[test]
fn a_cancelled_initialiser_whose_drop_panics_gives_its_turn_back() {
    use crate::util::hostile::panics;
    struct PanicOnDrop;
    impl Drop for PanicOnDrop {
        fn drop(&mut self) {
            panic!("initialiser drop");
        }
    }
    let cell = OnceCell::new();
    let mut a = TestTask::new(cell.get_or_init(|| async {
        let _guard = PanicOnDrop;
        core::future::pending::<u32>().await
    }));
    a.pending();
    assert!(panics(move || drop(a)));
    let mut b = TestTask::new(cell.get_or_init(|| async { 5 }));
    assert_eq!(*b.ready(), 5);
    assert_settled(&cell, true);
}

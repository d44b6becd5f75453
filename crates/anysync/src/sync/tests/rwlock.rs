//! Hand-polled RwLock tests (queueing, cancellation, downgrade, upgrade) and its loom models.

use alloc::sync::Arc;

use crate::{
    sync::{RwLock, RwLockUpgradableReadGuard, RwLockWriteGuard},
    util::test::TestTask,
};

/// Nothing held, nothing waiting, and both a write and then a read succeed.
#[track_caller]
fn assert_quiescent<T>(lock: &RwLock<T>) {
    let stats = lock.statistics();
    assert_eq!(
        (stats.readers, stats.writer, stats.upgradable, stats.waiters),
        (0, false, false, 0),
        "{stats:?}"
    );
    drop(lock.try_write().expect("free lock"));
    drop(lock.try_upgradable_read().expect("free lock"));
    drop(lock.try_read().expect("free lock"));
}

#[test]
fn readers_share_and_the_last_one_out_wakes_the_writer() {
    let lock = RwLock::new(0);
    let mut r1 = TestTask::new(lock.read());
    let mut r2 = TestTask::new(lock.read());
    let g1 = r1.ready();
    let g2 = r2.ready();
    let mut w = TestTask::new(lock.write());
    w.pending();
    assert_eq!(lock.statistics().readers, 2);
    drop(g1);
    assert_eq!(w.wakes(), 0);
    drop(g2);
    assert_eq!(w.wakes(), 1);
    let mut g = w.ready();
    *g = 1;
    assert!(lock.statistics().writer);
    assert!(lock.try_read().is_err());
    drop(g);
    assert_quiescent(&lock);
}

#[test]
fn queued_writer_is_not_overtaken_by_new_readers() {
    let lock = RwLock::new(());
    let r1 = lock.try_read().unwrap();
    let mut w = TestTask::new(lock.write());
    w.pending();
    let mut r2 = TestTask::new(lock.read());
    r2.pending();
    assert!(
        lock.try_read().is_err(),
        "try_read must not jump the queued writer"
    );
    drop(r1);
    assert_eq!((w.wakes(), r2.wakes()), (1, 0));
    let g = w.ready();
    r2.pending();
    drop(g);
    assert_eq!(r2.wakes(), 1);
    drop(r2.ready());
    assert_quiescent(&lock);
}

#[test]
fn cancelled_queued_writer_releases_the_readers_behind_it() {
    let lock = RwLock::new(());
    let r1 = lock.try_read().unwrap();
    let mut w = TestTask::new(lock.write());
    w.pending();
    let mut r2 = TestTask::new(lock.read());
    let mut r3 = TestTask::new(lock.read());
    r2.pending();
    r3.pending();
    w.cancel();
    assert_eq!((r2.wakes(), r3.wakes()), (1, 1));
    let g2 = r2.ready();
    let g3 = r3.ready();
    assert_eq!(lock.statistics().readers, 3, "R1 still holds");
    drop((r1, g2, g3));
    assert_quiescent(&lock);
}

#[test]
fn writer_release_wakes_the_reader_run_up_to_the_next_writer() {
    let lock = RwLock::new(());
    let w = lock.try_write().unwrap();
    let mut r1 = TestTask::new(lock.read());
    let mut r2 = TestTask::new(lock.read());
    let mut w2 = TestTask::new(lock.write());
    let mut r3 = TestTask::new(lock.read());
    r1.pending();
    r2.pending();
    w2.pending();
    r3.pending();
    drop(w);
    assert_eq!(
        (r1.wakes(), r2.wakes(), w2.wakes(), r3.wakes()),
        (1, 1, 0, 0)
    );
    let (g1, g2) = (r1.ready(), r2.ready());
    w2.pending();
    r3.pending();
    drop(g1);
    drop(g2);
    assert_eq!((w2.wakes(), r3.wakes()), (1, 0));
    drop(w2.ready());
    assert_eq!(r3.wakes(), 1);
    drop(r3.ready());
    assert_quiescent(&lock);
}

#[test]
fn reentrant_read_behind_a_queued_writer_waits() {
    let lock = RwLock::new(());
    let mine = lock.try_read().unwrap();
    let mut w = TestTask::new(lock.write());
    w.pending();
    let mut again = TestTask::new(lock.read());
    again.pending(); // the documented deadlock: pending, no panic
    again.pending();
    drop(again);
    w.cancel();
    drop(mine);
    assert_quiescent(&lock);
}

#[test]
fn downgrade_is_atomic_and_lets_the_queued_reader_in() {
    let lock = RwLock::new(1);
    let mut w = lock.try_write().unwrap();
    let mut r = TestTask::new(lock.read());
    let mut w2 = TestTask::new(lock.write());
    r.pending();
    w2.pending();
    *w = 2;
    let d = RwLockWriteGuard::downgrade(w);
    assert_eq!(r.wakes(), 1);
    let g = r.ready();
    assert_eq!((*d, *g), (2, 2));
    assert_eq!(w2.wakes(), 0);
    w2.pending();
    let stats = lock.statistics();
    assert_eq!((stats.readers, stats.writer), (2, false));
    drop(g);
    assert_eq!(w2.wakes(), 0, "the downgraded guard still reads");
    drop(d);
    assert_eq!(w2.wakes(), 1);
    drop(w2.ready());
    assert_quiescent(&lock);
}

#[test]
fn max_readers_bounds_concurrent_reads() {
    let lock = RwLock::with_max_readers((), 2);
    let a = lock.try_read().unwrap();
    let _b = lock.try_read().unwrap();
    let mut c = TestTask::new(lock.read());
    c.pending();
    assert_eq!(lock.statistics().readers, 2);
    drop(a);
    assert_eq!(c.wakes(), 1);
    let _c = c.ready();
    assert!(lock.try_read().is_err());
}

#[test]
fn max_readers_of_one_is_a_mutex() {
    let lock = RwLock::with_max_readers(0, 1);
    let r = lock.try_read().unwrap();
    assert!(lock.try_read().is_err());
    assert!(lock.try_write().is_err());
    drop(r);
    let up = lock.try_upgradable_read().unwrap();
    let mut w = RwLockUpgradableReadGuard::try_upgrade(up).expect("sole holder");
    *w += 1;
    drop(w);
    assert_quiescent(&lock);
}

#[test]
#[should_panic(expected = "RwLock::with_max_readers: `max_readers` must be at least 1")]
fn with_max_readers_zero_panics() {
    let _ = RwLock::with_max_readers((), 0);
}

#[test]
#[should_panic(expected = "RwLock::with_max_readers: `max_readers` exceeds RwLock::MAX_READERS")]
fn with_max_readers_too_many_panics() {
    let _ = RwLock::with_max_readers((), RwLock::<()>::MAX_READERS + 1);
}

#[test]
fn upgradable_read_coexists_with_readers_but_not_writers() {
    let lock = RwLock::new(());
    let up = lock.try_upgradable_read().unwrap();
    let r = lock.try_read().unwrap();
    assert!(lock.try_write().is_err());
    let stats = lock.statistics();
    assert_eq!((stats.readers, stats.upgradable), (2, true));
    let mut w = TestTask::new(lock.write());
    w.pending();
    drop(r);
    assert_eq!(w.wakes(), 0);
    drop(up);
    assert_eq!(w.wakes(), 1);
    drop(w.ready());
    assert_quiescent(&lock);
}

#[test]
fn second_upgradable_waits_without_blocking_plain_readers() {
    let lock = RwLock::new(());
    let up1 = lock.try_upgradable_read().unwrap();
    let mut up2 = TestTask::new(lock.upgradable_read());
    up2.pending();
    assert!(lock.try_upgradable_read().is_err());
    // A plain reader arriving after the waiting upgradable still gets in.
    let mut r = TestTask::new(lock.read());
    let g = r.ready();
    assert_eq!(lock.statistics().waiters, 1);
    drop(up1);
    assert_eq!(up2.wakes(), 1);
    let up2g = up2.ready();
    drop((g, up2g));
    assert_quiescent(&lock);
}

#[test]
fn upgrade_waits_for_readers_and_is_not_starved_by_new_ones() {
    let lock = RwLock::new(0);
    let up = lock.try_upgradable_read().unwrap();
    let r1 = lock.try_read().unwrap();
    let mut upgrade = TestTask::new(RwLockUpgradableReadGuard::upgrade(up));
    upgrade.pending();
    // New readers queue behind the pending upgrade.
    assert!(lock.try_read().is_err());
    let mut r2 = TestTask::new(lock.read());
    r2.pending();
    drop(r1);
    assert_eq!((upgrade.wakes(), r2.wakes()), (1, 0));
    let mut w = upgrade.ready();
    *w = 7;
    assert!(lock.statistics().writer);
    drop(w);
    assert_eq!(r2.wakes(), 1);
    assert_eq!(*r2.ready(), 7);
    assert_quiescent(&lock);
}

#[test]
fn upgrade_goes_ahead_of_a_writer_queued_before_it() {
    // Without priority this deadlocks: the writer waits for the upgradable
    // read, and the upgrade would wait behind the writer.
    let lock = RwLock::new(0);
    let up = lock.try_upgradable_read().unwrap();
    let mut w = TestTask::new(lock.write());
    w.pending();
    let mut upgrade = TestTask::new(RwLockUpgradableReadGuard::upgrade(up));
    let mut g = upgrade.ready();
    *g = 1;
    assert_eq!(w.wakes(), 0);
    drop(g);
    assert_eq!(w.wakes(), 1);
    assert_eq!(*w.ready(), 1);
    assert_quiescent(&lock);
}

#[test]
fn upgrade_behind_readers_with_a_writer_queued_takes_the_writers_share() {
    let lock = RwLock::with_max_readers((), 4);
    let up = lock.try_upgradable_read().unwrap();
    let r = lock.try_read().unwrap();
    let mut w = TestTask::new(lock.write());
    w.pending();
    let mut upgrade = TestTask::new(RwLockUpgradableReadGuard::upgrade(up));
    upgrade.pending();
    drop(r);
    assert_eq!((upgrade.wakes(), w.wakes()), (1, 0));
    let g = upgrade.ready();
    drop(g);
    assert_eq!(w.wakes(), 1);
    drop(w.ready());
    assert_quiescent(&lock);
}

#[test]
fn cancelled_upgrade_gives_everything_back() {
    let lock = RwLock::with_max_readers((), 4);
    let up = lock.try_upgradable_read().unwrap();
    let r = lock.try_read().unwrap();
    let mut w = TestTask::new(lock.write());
    w.pending();
    let mut upgrade = TestTask::new(RwLockUpgradableReadGuard::upgrade(up));
    upgrade.pending();
    upgrade.cancel(); // releases the upgradable read too
    assert_eq!(w.wakes(), 0, "R still holds");
    let stats = lock.statistics();
    assert_eq!(
        (stats.readers, stats.upgradable, stats.waiters),
        (1, false, 1)
    );
    drop(r);
    assert_eq!(w.wakes(), 1);
    drop(w.ready());
    assert_quiescent(&lock);
}

#[test]
fn try_upgrade_succeeds_only_as_the_sole_reader() {
    let lock = RwLock::new(());
    let up = lock.try_upgradable_read().unwrap();
    let r = lock.try_read().unwrap();
    let up = RwLockUpgradableReadGuard::try_upgrade(up).expect_err("R holds");
    drop(r);
    let mut w = TestTask::new(lock.write());
    w.pending(); // collects every permit but the upgradable's
    let g = RwLockUpgradableReadGuard::try_upgrade(up).expect("sole reader, writer queued");
    drop(g);
    drop(w.ready());
    assert_quiescent(&lock);
}

#[test]
fn upgradable_downgrade_frees_the_slot() {
    let lock = RwLock::new(());
    let up = lock.try_upgradable_read().unwrap();
    let mut up2 = TestTask::new(lock.upgradable_read());
    up2.pending();
    let r = RwLockUpgradableReadGuard::downgrade(up);
    assert_eq!(up2.wakes(), 1);
    let g2 = up2.ready();
    assert_eq!(lock.statistics().readers, 2);
    drop((r, g2));
    assert_quiescent(&lock);
}

#[test]
fn upgraded_guard_downgrade_frees_the_slot() {
    let lock = RwLock::new(());
    let up = lock.try_upgradable_read().unwrap();
    let w = RwLockUpgradableReadGuard::try_upgrade(up).unwrap();
    let mut up2 = TestTask::new(lock.upgradable_read());
    up2.pending();
    let r = RwLockWriteGuard::downgrade(w);
    assert_eq!(up2.wakes(), 1);
    let g2 = up2.ready();
    drop((r, g2));
    assert_quiescent(&lock);
}

#[test]
fn upgradable_read_cancelled_in_either_step() {
    let lock = RwLock::new(());
    // Cancelled while waiting for the slot.
    let up = lock.try_upgradable_read().unwrap();
    let mut waiting = TestTask::new(lock.upgradable_read());
    waiting.pending();
    waiting.cancel();
    drop(up);
    assert_quiescent(&lock);
    // Cancelled after taking the slot, while waiting for the read.
    let w = lock.try_write().unwrap();
    let mut waiting = TestTask::new(lock.upgradable_read());
    waiting.pending();
    assert!(lock.statistics().upgradable);
    waiting.cancel();
    assert!(!lock.statistics().upgradable);
    drop(w);
    assert_quiescent(&lock);
}

#[test]
fn woken_reader_dropped_unpolled_loses_nothing() {
    let lock = RwLock::new(());
    let w = lock.try_write().unwrap();
    let mut r = TestTask::new(lock.read());
    let mut w2 = TestTask::new(lock.write());
    r.pending();
    w2.pending();
    drop(w);
    assert_eq!(r.wakes(), 1);
    r.cancel();
    assert_eq!(w2.wakes(), 1, "the reader's permit goes on to the writer");
    drop(w2.ready());
    assert_quiescent(&lock);
}

#[test]
fn waker_update_wakes_only_the_latest_waker() {
    let lock = RwLock::new(());
    let g = lock.try_write().unwrap();
    let mut r = TestTask::new(lock.read());
    let (other, other_count) = futures_test::task::new_count_waker();
    assert!(r.poll_with(&other).is_pending());
    r.pending();
    drop(g);
    assert_eq!((other_count.get(), r.wakes()), (0, 1));
    drop(r.ready());
}

#[test]
fn futures_are_fused_and_panic_when_polled_after_completion() {
    use core::future::Future;

    use futures_core::FusedFuture;
    let lock = RwLock::new(());
    let mut read = core::pin::pin!(lock.read());
    assert!(!read.is_terminated());
    let mut cx = core::task::Context::from_waker(futures_util::task::noop_waker_ref());
    let g = match read.as_mut().poll(&mut cx) {
        core::task::Poll::Ready(g) => g,
        core::task::Poll::Pending => panic!("free lock"),
    };
    assert!(read.is_terminated());
    drop(g);
    let again = std::panic::catch_unwind(core::panic::AssertUnwindSafe(|| {
        let _ = read.as_mut().poll(&mut cx);
    }));
    assert!(again.is_err());
}

#[test]
fn owned_guards_and_conversions() {
    let lock = Arc::new(RwLock::new(1));
    let mut w = TestTask::new(Arc::clone(&lock).write_owned());
    let mut g = w.ready();
    *g += 1;
    let r = crate::sync::OwnedRwLockWriteGuard::downgrade(g);
    let r2 = Arc::clone(&lock).try_read_owned().unwrap();
    assert_eq!((*r, *r2), (2, 2));
    drop((r, r2));
    let mut up = TestTask::new(Arc::clone(&lock).upgradable_read_owned());
    let up = up.ready();
    let reader = Arc::clone(&lock).try_read_owned().unwrap();
    let mut upgrade = TestTask::new(crate::sync::OwnedRwLockUpgradableReadGuard::upgrade(up));
    upgrade.pending();
    drop(reader);
    assert_eq!(upgrade.wakes(), 1);
    let mut g = upgrade.ready();
    *g = 10;
    drop(g);
    assert!(Arc::clone(&lock).try_write_owned().is_ok());
    let up = Arc::clone(&lock).try_upgradable_read_owned().unwrap();
    let up = crate::sync::OwnedRwLockUpgradableReadGuard::try_upgrade(up).unwrap();
    assert_eq!(*up, 10);
    drop(up);
    assert_quiescent(&lock);
}

#[test]
fn blocking_variants_work_from_threads() {
    let lock = Arc::new(RwLock::new(0));
    let handles: alloc::vec::Vec<_> = (0..4)
        .map(|i| {
            let lock = Arc::clone(&lock);
            std::thread::spawn(move || {
                for _ in 0..50 {
                    if i % 2 == 0 {
                        *lock.write_blocking() += 1;
                    } else {
                        // (Taking a plain read while holding the upgradable
                        // one could deadlock behind a queued writer.)
                        let seen = *lock.read_blocking();
                        let up = lock.upgradable_read_blocking();
                        assert!(*up >= seen);
                        *RwLockUpgradableReadGuard::upgrade_blocking(up) += 1;
                    }
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    assert_eq!(*lock.read_blocking(), 200);
    assert_quiescent(&lock);
}

#[test]
fn debug_never_blocks() {
    let lock = RwLock::new(3);
    assert_eq!(std::format!("{lock:?}"), "RwLock { data: 3 }");
    let _w = lock.try_write().unwrap();
    assert_eq!(std::format!("{lock:?}"), "RwLock { data: <locked> }");
}

/// Polls `task` if it is still alive; drops it (and its output) once it
/// completes.
fn step<F: core::future::Future>(task: &mut Option<TestTask<F>>) {
    if let Some(t) = task {
        if t.poll().is_ready() {
            *task = None;
        }
    }
}

/// Cancel-at-every-poll sweep: a writer, a reader and an
/// upgrade are each polled k times against scripted releases, one of them is
/// dropped, and the others must still complete with nothing stranded.
#[test]
fn cancel_at_every_poll_sweep() {
    for k in 0..5 {
        for victim in 0..3 {
            let lock = RwLock::with_max_readers((), 3);
            let up = lock.try_upgradable_read().unwrap();
            let mut r = Some(lock.try_read().unwrap());
            let mut w = Some(TestTask::new(lock.write()));
            let mut rd = Some(TestTask::new(lock.read()));
            let mut upg = Some(TestTask::new(RwLockUpgradableReadGuard::upgrade(up)));
            for i in 0..k {
                step(&mut w);
                step(&mut rd);
                step(&mut upg);
                if i == 1 {
                    r = None;
                }
            }
            match victim {
                0 => w = None,
                1 => rd = None,
                _ => upg = None,
            }
            drop(r);
            for _ in 0..4 {
                step(&mut w);
                step(&mut rd);
                step(&mut upg);
            }
            assert!(
                w.is_none() && rd.is_none() && upg.is_none(),
                "k={k} victim={victim}"
            );
            assert_quiescent(&lock);
        }
    }
}

mod loom {
    use core::{future::Future, pin::pin, task::Context};

    use crate::{
        loom::{self, future::block_on, sync::Arc, thread},
        sync::{RwLock, RwLockUpgradableReadGuard, RwLockWriteGuard},
    };

    fn poll_once_then_drop<F: Future>(future: F) -> bool {
        let mut future = pin!(future);
        let mut cx = Context::from_waker(futures_util::task::noop_waker_ref());
        future.as_mut().poll(&mut cx).is_ready()
    }

    /// A queued writer that is dropped releases the reader
    /// queued behind it while the lock stays read-held.
    #[test]
    fn loom_rwlock_cancelled_writer_releases_readers() {
        loom::model(|| {
            let lock = Arc::new(RwLock::with_max_readers(0, 2));
            let held = lock.try_read().unwrap();
            let (l1, l2) = (Arc::clone(&lock), Arc::clone(&lock));
            let writer = thread::spawn(move || {
                assert!(!poll_once_then_drop(l1.write()), "a reader holds the lock");
            });
            let reader = thread::spawn(move || {
                assert_eq!(*block_on(l2.read()), 0);
            });
            writer.join().unwrap();
            reader.join().unwrap(); // got in although `held` is still held
            drop(held);
            let stats = lock.statistics();
            assert_eq!((stats.readers, stats.waiters), (0, 0));
            assert!(lock.try_write().is_ok());
        });
    }

    /// An upgrade races a writer and a reader. The writer may queue first,
    /// collecting the free permit; the upgrade must then take it over (the
    /// writer can never complete before the upgrade), or both wait forever.
    #[test]
    fn loom_rwlock_upgrade_vs_queued_writer_and_reader() {
        loom::model(|| {
            let lock = Arc::new(RwLock::with_max_readers(0, 2));
            let up = lock.try_upgradable_read().unwrap();
            let (l1, l2) = (Arc::clone(&lock), Arc::clone(&lock));
            let writer = thread::spawn(move || {
                *block_on(l1.write()) += 10;
            });
            let reader = thread::spawn(move || {
                let v = *block_on(l2.read());
                assert!(v == 0 || v == 1 || v == 11, "read {v}");
            });
            let mut w = block_on(RwLockUpgradableReadGuard::upgrade(up));
            assert_eq!(*w, 0, "the writer cannot get in before the upgrade");
            *w = 1;
            drop(w);
            writer.join().unwrap();
            reader.join().unwrap();
            assert_eq!(*lock.try_read().unwrap(), 11);
            let stats = lock.statistics();
            assert_eq!(
                (stats.readers, stats.upgradable, stats.waiters),
                (0, false, 0)
            );
        });
    }

    /// A downgrade lets a reader in and never a writer.
    #[test]
    fn loom_rwlock_downgrade_vs_writer() {
        loom::model(|| {
            let lock = Arc::new(RwLock::with_max_readers(0, 2));
            let l2 = Arc::clone(&lock);
            let mut w = lock.try_write().unwrap();
            let writer = thread::spawn(move || {
                let mut g = block_on(l2.write());
                assert_eq!(*g, 1, "the writer runs after the downgraded reader");
                *g = 2;
            });
            *w = 1;
            let r = RwLockWriteGuard::downgrade(w);
            assert_eq!(*r, 1);
            drop(r);
            writer.join().unwrap();
            assert_eq!(*lock.try_read().unwrap(), 2);
        });
    }
}

mod hostile {
    //! Foreign code that misbehaves: wakers that panic or re-enter.

    use crate::{
        sync::RwLock,
        util::{
            hostile::{panics, Hostile},
            test::TestTask,
        },
    };

    #[test]
    fn a_writer_whose_wake_panics_loses_no_permits_for_the_readers_behind_it() {
        let lock = RwLock::new(0u32);
        let read = lock.try_read().unwrap();
        let bad = Hostile::new();
        let mut w = TestTask::new(lock.write());
        assert!(w.poll_with(&bad.waker()).is_pending());
        let mut r1 = TestTask::new(lock.read());
        let mut r2 = TestTask::new(lock.read());
        r1.pending();
        r2.pending();
        bad.panic_on_wake(true);
        assert!(panics(|| drop(read)));
        bad.panic_on_wake(false);
        drop(w.ready());
        drop(r1.ready());
        drop(r2.ready());
        assert!(lock.try_write().is_ok(), "every permit came back");
    }

    #[test]
    fn an_upgrade_that_takes_a_queued_writers_permits_drops_no_waker_under_the_lock() {
        let lock = RwLock::new(0u32);
        let up = lock.try_upgradable_read().unwrap();
        let mut w = TestTask::new(lock.write());
        w.pending();
        let spy = Hostile::new();
        let mut upgrade = TestTask::new(crate::sync::RwLockUpgradableReadGuard::upgrade(up));
        let guard = match upgrade.poll_with(&spy.waker()) {
            core::task::Poll::Ready(g) => g,
            core::task::Poll::Pending => panic!("the upgrade takes the writer's permits"),
        };
        assert_eq!(spy.under_lock(), 0);
        drop(guard);
        drop(w.ready());
        assert!(lock.try_write().is_ok());
    }
}

// Read guards are covariant in `T`: these only compile if the guard of a
// `&'static str` coerces to the guard of a shorter-lived `&'a str`.
#[allow(dead_code)]
fn read_guard_is_covariant<'a, 'g>(
    guard: crate::sync::RwLockReadGuard<'g, &'static str>,
) -> crate::sync::RwLockReadGuard<'g, &'a str> {
    guard
}

#[allow(dead_code)]
fn owned_read_guard_is_covariant<'a>(
    guard: crate::sync::OwnedRwLockReadGuard<&'static str>,
) -> crate::sync::OwnedRwLockReadGuard<&'a str> {
    guard
}

#[test]
fn a_read_guard_of_static_strs_reads_as_a_guard_of_shorter_strs() {
    let lock = RwLock::new("static");
    let local = alloc::string::String::from("local");
    let guard = read_guard_is_covariant(lock.try_read().unwrap());
    let pair: [&str; 2] = [*guard, &local];
    assert_eq!(pair, ["static", "local"]);
    assert!(lock.try_write().is_err());
    drop(guard);
    assert_quiescent(&lock);

    let owned = Arc::new(RwLock::new("owned"));
    let guard = owned_read_guard_is_covariant(Arc::clone(&owned).try_read_owned().unwrap());
    assert_eq!([*guard, &local], ["owned", "local"]);
    assert!(owned.try_write().is_err());
    drop(guard);
    assert_eq!(Arc::strong_count(&owned), 1);
    assert_quiescent(&owned);
}

#[test]
fn downgrade_map_keeps_a_read_lock_on_the_picked_part_and_lets_readers_in() {
    let lock = RwLock::new((1, [10, 20]));
    let mut w = TestTask::new(lock.write()).ready();
    w.1[1] = 21;
    let mut reader = TestTask::new(lock.read());
    reader.pending();
    let part = RwLockWriteGuard::downgrade_map(w, |v| &v.1[1]);
    assert_eq!(*part, 21);
    assert!(reader.is_woken());
    assert_eq!(reader.ready().1, [10, 21]);
    assert!(lock.try_write().is_err());
    let stats = lock.statistics();
    assert_eq!((stats.readers, stats.writer), (1, false));
    drop(part);
    assert_quiescent(&lock);
}

#[test]
fn try_downgrade_map_gives_the_write_guard_back_when_nothing_is_picked() {
    let lock = RwLock::new(alloc::vec![1, 2]);
    let w = lock.try_write().unwrap();
    let w = match RwLockWriteGuard::try_downgrade_map(w, |v| v.get(5)) {
        Ok(_) => panic!("picked an element that does not exist"),
        Err(w) => w,
    };
    assert!(lock.statistics().writer, "still write-locked");
    assert!(lock.try_read().is_err());
    let first = RwLockWriteGuard::try_downgrade_map(w, |v| v.first()).expect("an element");
    assert_eq!(*first, 1);
    assert!(lock.try_read().is_ok());
    drop(first);
    assert_quiescent(&lock);
}

#[test]
fn a_mapped_read_guard_unlocks_when_dropped() {
    let lock = RwLock::new((7, 8));
    let second = crate::sync::RwLockReadGuard::map(lock.try_read().unwrap(), |v| &v.1);
    assert_eq!(*second, 8);
    assert!(lock.try_write().is_err());
    drop(second);
    assert_quiescent(&lock);
}

#[test]
fn an_owned_read_guard_of_an_unsized_lock_keeps_it_alive_and_unlocks() {
    let lock: Arc<RwLock<[u8]>> = Arc::new(RwLock::new([1, 2, 3]));
    let guard = Arc::clone(&lock).try_read_owned().unwrap();
    let weak = Arc::downgrade(&lock);
    let writer = Arc::clone(&lock);
    drop(lock);
    assert_eq!(&*guard, &[1, 2, 3]);
    assert!(writer.try_write().is_err());
    drop(writer);
    assert!(weak.upgrade().is_some(), "the guard keeps the lock alive");
    drop(guard);
    assert!(weak.upgrade().is_none(), "the guard released its Arc");
}

#[test]
fn owned_blocking_read_write_and_upgrade_wait_on_threads() {
    let lock = Arc::new(RwLock::new(0));
    let held = lock.try_write().unwrap();
    let reader = {
        let lock = Arc::clone(&lock);
        std::thread::spawn(move || *lock.read_owned_blocking())
    };
    while lock.statistics().waiters == 0 {
        std::thread::yield_now();
    }
    drop(held);
    assert_eq!(reader.join().unwrap(), 0);

    let read = lock.try_read().unwrap();
    let writer = {
        let lock = Arc::clone(&lock);
        std::thread::spawn(move || *Arc::clone(&lock).write_owned_blocking() += 1)
    };
    while lock.statistics().waiters == 0 {
        std::thread::yield_now();
    }
    drop(read);
    writer.join().unwrap();

    let up = Arc::clone(&lock).upgradable_read_owned_blocking();
    let read = lock.try_read().unwrap();
    let upgrader = std::thread::spawn(move || {
        let mut w = crate::sync::OwnedRwLockUpgradableReadGuard::upgrade_blocking(up);
        *w += 1;
    });
    while lock.statistics().waiters == 0 {
        std::thread::yield_now();
    }
    drop(read);
    upgrader.join().unwrap();
    assert_eq!(*lock.try_read().unwrap(), 2);
    assert_quiescent(&lock);
}

#[test]
fn owned_downgrade_map_keeps_the_lock_alive_and_read_locked_until_dropped() {
    let lock = Arc::new(RwLock::new((1u8, alloc::string::String::from("name"))));
    let weak = Arc::downgrade(&lock);
    let mut w = Arc::clone(&lock).try_write_owned().unwrap();
    w.0 = 2;
    let mut reader = TestTask::new(Arc::clone(&lock).read_owned());
    reader.pending();
    let name = crate::sync::OwnedRwLockWriteGuard::downgrade_map(w, |v| v.1.as_str());
    assert!(
        reader.is_woken(),
        "queued readers get in with the downgrade"
    );
    assert_eq!(reader.ready().0, 2);
    reader.cancel(); // the completed future holds an `Arc` too
    assert!(lock.try_write().is_err());
    drop(lock);
    assert_eq!(&*name, "name");
    let first = crate::sync::OwnedRwLockReadGuard::map(
        Arc::clone(&weak.upgrade().unwrap())
            .try_read_owned()
            .unwrap(),
        |v| &v.0,
    );
    assert_eq!(*first, 2);
    drop(name);
    assert!(weak.upgrade().is_some(), "the mapped guard keeps the lock");
    drop(first);
    assert!(
        weak.upgrade().is_none(),
        "the last guard released the last Arc"
    );
}

#[test]
fn owned_try_downgrade_map_gives_the_write_guard_back_when_nothing_is_picked() {
    let lock = Arc::new(RwLock::new(alloc::vec![3u8]));
    let w = Arc::clone(&lock).try_write_owned().unwrap();
    let w = match crate::sync::OwnedRwLockWriteGuard::try_downgrade_map(w, |v| v.get(1)) {
        Ok(_) => panic!("picked an element that does not exist"),
        Err(w) => w,
    };
    assert!(lock.statistics().writer);
    let first = crate::sync::OwnedRwLockWriteGuard::try_downgrade_map(w, |v| v.first()).unwrap();
    assert_eq!(*first, 3);
    assert!(lock.try_read().is_ok() && lock.try_write().is_err());
    drop(first);
    assert_quiescent(&lock);
}

/// An upgradable guard gives back a read permit and the upgradable
/// slot: a writer's wake that panics in the first release does not
/// skip the second (the slot would be lost for good).
#[test]
fn an_upgradable_release_whose_wake_panics_still_frees_the_upgradable_slot() {
    use crate::util::hostile::{panics, Hostile};
    let lock = RwLock::new(0u32);
    let up = lock.try_upgradable_read().unwrap();
    let bad = Hostile::new();
    let mut w = TestTask::new(lock.write());
    assert!(w.poll_with(&bad.waker()).is_pending());
    bad.panic_on_wake(true);
    assert!(panics(|| drop(up)));
    bad.panic_on_wake(false);
    drop(w.ready());
    assert!(lock.try_upgradable_read().is_ok(), "the slot came back");
    assert!(lock.try_write().is_ok(), "every permit came back");
}

/// The same for a write guard made by an upgrade, and for its
/// downgrade to a read guard.
#[test]
fn an_upgraded_write_release_whose_wake_panics_still_frees_the_upgradable_slot() {
    use crate::util::hostile::{panics, Hostile};
    for downgrade in [false, true] {
        let lock = RwLock::new(0u32);
        let up = lock.try_upgradable_read().unwrap();
        let write = TestTask::new(crate::sync::RwLockUpgradableReadGuard::upgrade(up)).ready();
        let bad = Hostile::new();
        let mut r = TestTask::new(lock.read());
        assert!(r.poll_with(&bad.waker()).is_pending());
        bad.panic_on_wake(true);
        if downgrade {
            let mut read = None;
            assert!(panics(|| {
                read = Some(crate::sync::RwLockWriteGuard::downgrade(write));
            }));
            drop(read);
        } else {
            assert!(panics(|| drop(write)));
        }
        bad.panic_on_wake(false);
        drop(r.ready());
        assert!(lock.try_upgradable_read().is_ok(), "the slot came back");
        assert!(lock.try_write().is_ok(), "every permit came back");
    }
}

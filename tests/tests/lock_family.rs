//! RwLock, Condvar, Barrier, OnceCell and BoundedSemaphore on real
//! executors: each scenario written once
//! and run on every executor, ending with the primitive's `statistics()`
//! showing nothing stranded and nothing lost.
//!
//! Tasks synchronise on the primitives' own statistics, on events and on
//! yields, never on sleeps.
#![forbid(unsafe_code)]

extern crate alloc;

use alloc::sync::Arc;
use core::sync::atomic::{AtomicUsize, Ordering};
use core::time::Duration;
use std::sync::Mutex as StdMutex;

use anysync::{
    rt::Runtime,
    sync::{
        Barrier, BoundedSemaphore, BrokenBarrier, Condvar, Event, ExceedsCapacity, Mutex, OnceCell,
        RwLock, RwLockUpgradableReadGuard, RwLockWriteGuard,
    },
    time::timeout,
};
use anysync_tests::{poll_once, scenarios, scenarios_no_rt, until, yield_now};
use futures_util::future::{join_all, select, Either};

/// An order log shared between tasks.
#[derive(Clone, Default)]
struct Log(Arc<StdMutex<Vec<&'static str>>>);

impl Log {
    fn push(&self, what: &'static str) {
        self.0.lock().unwrap().push(what);
    }
    fn get(&self) -> Vec<&'static str> {
        self.0.lock().unwrap().clone()
    }
    fn len(&self) -> usize {
        self.0.lock().unwrap().len()
    }
}

/// Nothing held, nothing waiting, and a write then a read succeed.
fn assert_rwlock_quiescent<T>(lock: &RwLock<T>) {
    let s = lock.statistics();
    assert_eq!(
        (s.readers, s.writer, s.upgradable, s.waiters),
        (0, false, false, 0),
        "{s:?}"
    );
    drop(lock.try_write().expect("free lock"));
    drop(lock.try_read().expect("free lock"));
}

// --- C. RwLock -------------------------------------------------------------

/// 17: readers share; a writer gets in once the last reader leaves.
async fn rwlock_readers_share_and_the_last_one_out_lets_the_writer_in<R: Runtime>(rt: R) {
    let lock = Arc::new(RwLock::new(0));
    let r1 = lock.clone().read_owned().await;
    let r2 = lock.clone().read_owned().await;
    let l2 = lock.clone();
    let writer = rt.spawn(async move { *l2.write().await += 1 });
    until(|| lock.statistics().waiters == 1).await;
    drop(r1);
    assert!(lock.try_write().is_err(), "R2 still reads");
    drop(r2);
    writer.await.unwrap();
    assert_eq!(*lock.read().await, 1);
    assert_rwlock_quiescent(&lock);
}

/// 18: a queued writer is not overtaken by a reader that came later.
async fn rwlock_queued_writer_is_not_starved_by_new_readers<R: Runtime>(rt: R) {
    let lock = Arc::new(RwLock::new(()));
    let log = Log::default();
    let r1 = lock.try_read().unwrap();
    let (l, lg) = (lock.clone(), log.clone());
    let w = rt.spawn(async move {
        let _g = l.write().await;
        lg.push("W");
    });
    until(|| lock.statistics().waiters == 1).await;
    let (l, lg) = (lock.clone(), log.clone());
    let r2 = rt.spawn(async move {
        let _g = l.read().await;
        lg.push("R2");
    });
    until(|| lock.statistics().waiters == 2).await;
    assert!(lock.try_read().is_err());
    drop(r1);
    w.await.unwrap();
    r2.await.unwrap();
    assert_eq!(log.get(), ["W", "R2"]);
    assert_rwlock_quiescent(&lock);
}

/// 19: dropping a queued writer lets the readers behind it in at once,
/// while the lock is still read-held.
async fn rwlock_cancelled_queued_writer_releases_the_readers_behind_it<R: Runtime>(rt: R) {
    let lock = Arc::new(RwLock::new(()));
    let cancel = Arc::new(Event::new());
    let r1 = lock.try_read().unwrap();
    let (l, c) = (lock.clone(), cancel.clone());
    let w = rt.spawn(async move {
        match select(Box::pin(l.write()), Box::pin(c.wait())).await {
            Either::Left(_) => panic!("wrote while R1 reads"),
            Either::Right(_) => {}
        }
    });
    until(|| lock.statistics().waiters == 1).await;
    let readers: Vec<_> = (0..3)
        .map(|_| {
            let l = lock.clone();
            rt.spawn(async move { drop(l.read().await) })
        })
        .collect();
    until(|| lock.statistics().waiters == 4).await;
    cancel.set();
    w.await.unwrap();
    for r in readers {
        r.await.unwrap(); // all in although R1 still reads
    }
    assert_eq!(lock.statistics().readers, 1);
    drop(r1);
    assert_rwlock_quiescent(&lock);
}

/// 20: a writer's release lets in the run of readers at the head of the
/// queue, and not the reader queued behind the next writer.
async fn rwlock_writer_release_wakes_the_reader_run<R: Runtime>(rt: R) {
    let lock = Arc::new(RwLock::new(()));
    let log = Log::default();
    let gate = Arc::new(Event::new());
    let w = lock.try_write().unwrap();
    let mut tasks = Vec::new();
    for (i, (name, write)) in [("R1", false), ("R2", false), ("W2", true), ("R3", false)]
        .into_iter()
        .enumerate()
    {
        let (l, lg, g) = (lock.clone(), log.clone(), gate.clone());
        tasks.push(rt.spawn(async move {
            if write {
                let _w = l.write().await;
                lg.push(name);
            } else {
                let _r = l.read().await;
                lg.push(name);
                g.wait().await; // hold the read
            }
        }));
        until(|| lock.statistics().waiters == i + 1).await;
    }
    drop(w);
    until(|| log.len() == 2).await;
    let mut first = log.get();
    first.sort_unstable();
    assert_eq!(first, ["R1", "R2"]);
    assert_eq!(lock.statistics().waiters, 2, "W2 and R3 still queued");
    gate.set();
    for t in tasks {
        t.await.unwrap();
    }
    assert_eq!(&log.get()[2..], ["W2", "R3"]);
    assert_rwlock_quiescent(&lock);
}

/// 21: a task that reads again while a writer is queued waits (the
/// documented deadlock): pending, not a panic.
async fn rwlock_reentrant_read_behind_a_queued_writer_is_pending<R: Runtime>(rt: R) {
    let lock = Arc::new(RwLock::new(()));
    let mine = lock.try_read().unwrap();
    let cancel = Arc::new(Event::new());
    let (l, c) = (lock.clone(), cancel.clone());
    let w = rt.spawn(async move {
        let _ = select(Box::pin(l.write()), Box::pin(c.wait())).await;
    });
    until(|| lock.statistics().waiters == 1).await;
    let mut again = Box::pin(lock.read());
    assert!(poll_once(&mut again).await.is_pending());
    drop(again);
    cancel.set();
    w.await.unwrap();
    drop(mine);
    assert_rwlock_quiescent(&lock);
}

/// 22: a downgrade lets the queued reader in and keeps the queued
/// writer out until the downgraded guard goes.
async fn rwlock_downgrade_is_atomic<R: Runtime>(rt: R) {
    let lock = Arc::new(RwLock::new(0));
    let mut w = lock.clone().write_owned().await;
    let l = lock.clone();
    let reader = rt.spawn(async move { *l.read().await });
    until(|| lock.statistics().waiters == 1).await;
    let l = lock.clone();
    let writer = rt.spawn(async move { *l.write().await = 2 });
    until(|| lock.statistics().waiters == 2).await;
    *w = 1;
    let r = anysync::sync::OwnedRwLockWriteGuard::downgrade(w);
    assert_eq!(reader.await.unwrap(), 1);
    assert_eq!(lock.statistics().waiters, 1, "the writer still waits");
    assert_eq!(*r, 1);
    drop(r);
    writer.await.unwrap();
    assert_eq!(*lock.read().await, 2);
    assert_rwlock_quiescent(&lock);
}

/// 23: with `with_max_readers(2)` the third reader waits for one of the
/// first two.
async fn rwlock_max_readers_bounds_concurrent_reads<R: Runtime>(rt: R) {
    let lock = Arc::new(RwLock::with_max_readers((), 2));
    let a = lock.clone().read_owned().await;
    let _b = lock.clone().read_owned().await;
    let l = lock.clone();
    let third = rt.spawn(async move { drop(l.read().await) });
    until(|| lock.statistics().waiters == 1).await;
    drop(a);
    third.await.unwrap();
}

/// 24: an upgradable read coexists with readers, a second upgradable
/// waits without holding readers back, and the upgrade waits for the
/// readers to leave without being starved by new ones.
async fn rwlock_upgradable_read_and_upgrade<R: Runtime>(rt: R) {
    let lock = Arc::new(RwLock::new(0));
    let log = Log::default();
    let up = lock.clone().upgradable_read_owned().await;
    let r1 = lock.clone().read_owned().await;
    // A second upgradable waits ...
    let (l, lg) = (lock.clone(), log.clone());
    let up2 = rt.spawn(async move {
        let g = l.upgradable_read().await;
        lg.push("U2");
        assert_eq!(*g, 1);
    });
    until(|| lock.statistics().waiters == 1).await;
    // ... without holding back a plain reader that comes after it.
    drop(lock.read().await);
    // The upgrade waits for R1.
    let lg = log.clone();
    let upgrade = rt.spawn(async move {
        let mut w = anysync::sync::OwnedRwLockUpgradableReadGuard::upgrade(up).await;
        lg.push("upgrade");
        *w += 1;
    });
    until(|| lock.statistics().waiters == 2).await;
    // New readers queue behind the upgrade.
    assert!(lock.try_read().is_err());
    let (l, lg) = (lock.clone(), log.clone());
    let late = rt.spawn(async move {
        let _g = l.read().await;
        lg.push("late reader");
    });
    until(|| lock.statistics().waiters == 3).await;
    drop(r1);
    upgrade.await.unwrap();
    late.await.unwrap();
    up2.await.unwrap();
    let order = log.get();
    assert_eq!(order[0], "upgrade", "{order:?}");
    assert_rwlock_quiescent(&lock);
}

/// Readers, writers and upgraders from many tasks: no update is lost
/// and readers never see a torn pair.
async fn rwlock_stress_mixed_tasks<R: Runtime>(rt: R) {
    let lock = Arc::new(RwLock::with_max_readers((0u64, 0u64), 4));
    let tasks: Vec<_> = (0..12)
        .map(|i| {
            let l = lock.clone();
            rt.spawn(async move {
                for _ in 0..50 {
                    match i % 3 {
                        0 => {
                            let mut g = l.write().await;
                            g.0 += 1;
                            yield_now().await;
                            g.1 += 1;
                        }
                        1 => {
                            let g = l.read().await;
                            assert_eq!(g.0, g.1);
                            yield_now().await;
                        }
                        _ => {
                            let g = l.upgradable_read().await;
                            assert_eq!(g.0, g.1);
                            let mut w = RwLockUpgradableReadGuard::upgrade(g).await;
                            w.0 += 1;
                            w.1 += 1;
                            let r = RwLockWriteGuard::downgrade(w);
                            assert_eq!(r.0, r.1);
                        }
                    }
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    assert_eq!(*lock.read().await, (400, 400));
    assert_rwlock_quiescent(&lock);
}

/// A writer on a blocking thread and readers in tasks share the lock.
async fn rwlock_blocking_writer_with_async_readers<R: Runtime>(rt: R) {
    let lock = Arc::new(RwLock::new(0));
    let l = lock.clone();
    let writer = rt.spawn_blocking(move || {
        for _ in 0..100 {
            *l.write_blocking() += 1;
        }
    });
    let readers: Vec<_> = (0..4)
        .map(|_| {
            let l = lock.clone();
            rt.spawn(async move {
                for _ in 0..20 {
                    let v = *l.read().await;
                    assert!(v <= 100);
                    yield_now().await;
                }
            })
        })
        .collect();
    for r in readers {
        r.await.unwrap();
    }
    writer.await.unwrap();
    assert_eq!(*lock.read().await, 100);
    assert_rwlock_quiescent(&lock);
}

scenarios!(
    rwlock_readers_share_and_the_last_one_out_lets_the_writer_in,
    rwlock_queued_writer_is_not_starved_by_new_readers,
    rwlock_cancelled_queued_writer_releases_the_readers_behind_it,
    rwlock_writer_release_wakes_the_reader_run,
    rwlock_reentrant_read_behind_a_queued_writer_is_pending,
    rwlock_downgrade_is_atomic,
    rwlock_max_readers_bounds_concurrent_reads,
    rwlock_upgradable_read_and_upgrade,
    rwlock_stress_mixed_tasks,
    rwlock_blocking_writer_with_async_readers
);

// --- F. Condvar ------------------------------------------------------------

/// 45: `wait` frees the mutex at once and returns holding it, only after
/// the notifier has unlocked.
async fn condvar_wait_unlocks_atomically_and_relocks<R: Runtime>(rt: R) {
    let state = Arc::new((Mutex::new(0), Condvar::new()));
    let s = state.clone();
    let waiter = rt.spawn(async move {
        let (m, cv) = &*s;
        let g = cv.wait(m.lock().await).await;
        *g
    });
    let (m, cv) = &*state;
    // Registered, then (in the same poll) unlocked.
    until(|| cv.waiters() == 1 && !m.is_locked()).await;
    let mut g = m.try_lock().expect("free while the task waits");
    *g = 5;
    cv.notify_one();
    assert_eq!(cv.waiters(), 0);
    until(|| m.waiters() == 1).await; // notified, queued on the mutex
    drop(g);
    assert_eq!(waiter.await.unwrap(), 5);
    assert!(m.try_lock().is_ok());
}

/// 46: a notify with nobody waiting is not stored.
async fn condvar_notifications_are_not_stored<R: Runtime>(rt: R) {
    let state = Arc::new((Mutex::new(false), Condvar::new()));
    let (m, cv) = &*state;
    cv.notify_one();
    cv.notify_all();
    let s = state.clone();
    let waiter = rt.spawn(async move {
        let (m, cv) = &*s;
        drop(cv.wait(m.lock().await).await);
    });
    // Had a notification been stored, the task would not be waiting.
    until(|| cv.waiters() == 1).await;
    cv.notify_one();
    waiter.await.unwrap();
    assert!(m.try_lock().is_ok());
}

/// 47: a waiter cancelled before any notify leaves the mutex unlocked
/// and the queue empty.
async fn condvar_cancel_before_notify<R: Runtime>(rt: R) {
    let state = Arc::new((Mutex::new(()), Condvar::new()));
    let cancel = Arc::new(Event::new());
    let (s, c) = (state.clone(), cancel.clone());
    let waiter = rt.spawn(async move {
        let (m, cv) = &*s;
        let g = m.lock().await;
        let _ = select(Box::pin(cv.wait(g)), Box::pin(c.wait())).await;
    });
    let (m, cv) = &*state;
    until(|| cv.waiters() == 1).await;
    cancel.set();
    waiter.await.unwrap();
    assert_eq!(cv.waiters(), 0);
    assert!(m.try_lock().is_ok());
}

/// 48: W1 is chosen by `notify_one` and dropped before it returns; W2
/// gets the notification.
async fn condvar_notified_waiter_dropped_hands_over<R: Runtime>(rt: R) {
    let state = Arc::new((Mutex::new(false), Condvar::new()));
    let (m, cv) = &*state;
    let mut w1 = Box::pin(cv.wait(m.lock().await));
    assert!(poll_once(&mut w1).await.is_pending());
    let s = state.clone();
    let w2 = rt.spawn(async move {
        let (m, cv) = &*s;
        let g = cv.wait_while(m.lock().await, |ready| !*ready).await;
        assert!(*g);
    });
    until(|| cv.waiters() == 2).await;
    *m.lock().await = true;
    cv.notify_one(); // W1 is first
    drop(w1); // ... and passes it on
    w2.await.unwrap();
    assert_eq!(cv.waiters(), 0);
    assert!(m.try_lock().is_ok());
}

/// 50: `wait_while` keeps waiting while the condition holds and returns
/// with the lock once it does not; producer/consumer over a list.
async fn condvar_wait_while_producer_consumer<R: Runtime>(rt: R) {
    let state = Arc::new((Mutex::new(Vec::new()), Condvar::new()));
    let consumers: Vec<_> = (0..3)
        .map(|_| {
            let s = state.clone();
            rt.spawn(async move {
                let (m, cv) = &*s;
                let mut got = 0usize;
                loop {
                    let mut g = cv
                        .wait_while(m.lock().await, |q: &mut Vec<Option<u32>>| q.is_empty())
                        .await;
                    match g.pop().unwrap() {
                        Some(_) => got += 1,
                        None => return got,
                    }
                }
            })
        })
        .collect();
    let (m, cv) = &*state;
    for i in 0..60 {
        m.lock().await.insert(0, Some(i));
        cv.notify_one();
        if i % 7 == 0 {
            yield_now().await;
        }
    }
    for _ in 0..3 {
        m.lock().await.insert(0, None);
        cv.notify_one();
    }
    let total: usize = join_all(consumers)
        .await
        .into_iter()
        .map(Result::unwrap)
        .sum();
    assert_eq!(total, 60);
    assert_eq!(cv.waiters(), 0);
    assert!(m.try_lock().unwrap().is_empty());
}

scenarios!(
    condvar_wait_unlocks_atomically_and_relocks,
    condvar_notifications_are_not_stored,
    condvar_cancel_before_notify,
    condvar_notified_waiter_dropped_hands_over,
    condvar_wait_while_producer_consumer
);

// --- G. Barrier ------------------------------------------------------------

/// 51: ten generations of eight tasks, exactly one leader each.
async fn barrier_generations_each_have_one_leader<R: Runtime>(rt: R) {
    let barrier = Arc::new(Barrier::new(8));
    let leaders = Arc::new(AtomicUsize::new(0));
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let (b, l) = (barrier.clone(), leaders.clone());
            rt.spawn(async move {
                for _ in 0..10 {
                    if b.wait().await.unwrap().is_leader() {
                        l.fetch_add(1, Ordering::SeqCst);
                    }
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    assert_eq!(leaders.load(Ordering::SeqCst), 10);
    assert_eq!(barrier.waiters(), 0);
}

/// 53: a waiter cancelled while the barrier fills withdraws its arrival;
/// the barrier still needs all its parties.
async fn barrier_cancel_while_filling_withdraws_the_arrival<R: Runtime>(rt: R) {
    let barrier = Arc::new(Barrier::new(3));
    let cancel = Arc::new(Event::new());
    let b = barrier.clone();
    let first = rt.spawn(async move { b.wait().await.unwrap().is_leader() });
    let (b, c) = (barrier.clone(), cancel.clone());
    let quitter = rt.spawn(async move {
        match select(Box::pin(b.wait()), Box::pin(c.wait())).await {
            Either::Left(_) => panic!("tripped with two of three"),
            Either::Right(_) => {}
        }
    });
    until(|| barrier.waiters() == 2).await;
    cancel.set();
    quitter.await.unwrap();
    assert_eq!(barrier.waiters(), 1);
    let b = barrier.clone();
    let second = rt.spawn(async move { b.wait().await.unwrap().is_leader() });
    until(|| barrier.waiters() == 2).await;
    let third = barrier.wait().await.unwrap().is_leader();
    let leaders = [first.await.unwrap(), second.await.unwrap(), third];
    assert_eq!(leaders.iter().filter(|l| **l).count(), 1);
    assert_eq!(barrier.waiters(), 0);
}

/// 53: once the barrier trips, dropping one of its waiters before it ran
/// neither un-trips it nor blocks the others.
async fn barrier_cancel_after_the_trip_changes_nothing<R: Runtime>(rt: R) {
    let barrier = Arc::new(Barrier::new(3));
    let mut mine = Box::pin(barrier.wait());
    assert!(poll_once(&mut mine).await.is_pending());
    let others: Vec<_> = (0..2)
        .map(|_| {
            let b = barrier.clone();
            rt.spawn(async move { b.wait().await.unwrap() })
        })
        .collect();
    for o in others {
        o.await.unwrap(); // tripped, with `mine` among the three
    }
    drop(mine); // woken, never polled again
    assert_eq!(barrier.waiters(), 0);
    // The next generation starts empty.
    let b = barrier.clone();
    let next = rt.spawn(async move { b.wait().await.unwrap() });
    until(|| barrier.waiters() == 1).await;
    let b = barrier.clone();
    let next2 = rt.spawn(async move { b.wait().await.unwrap() });
    barrier.wait().await.unwrap();
    next.await.unwrap();
    next2.await.unwrap();
}

/// A barrier wait under a timeout that elapses withdraws its arrival.
async fn barrier_wait_under_a_timeout_withdraws_when_it_elapses<R: Runtime>(rt: R) {
    let barrier = Barrier::new(2);
    assert!(timeout(&rt, Duration::from_millis(5), barrier.wait())
        .await
        .is_err());
    assert_eq!(barrier.waiters(), 0);
}

/// 54: `abort` breaks current and later waits until `reset`; the barrier
/// then works again.
async fn barrier_abort_and_reset<R: Runtime>(rt: R) {
    let barrier = Arc::new(Barrier::new(3));
    let waiters: Vec<_> = (0..2)
        .map(|_| {
            let b = barrier.clone();
            rt.spawn(async move { b.wait().await })
        })
        .collect();
    until(|| barrier.waiters() == 2).await;
    barrier.abort();
    for w in waiters {
        assert_eq!(w.await.unwrap(), Err(BrokenBarrier));
    }
    assert_eq!(barrier.wait().await, Err(BrokenBarrier));
    barrier.reset();
    let b = barrier.clone();
    let again: Vec<_> = (0..2)
        .map(|_| {
            let b = b.clone();
            rt.spawn(async move { b.wait().await })
        })
        .collect();
    until(|| barrier.waiters() == 2).await;
    assert!(barrier.wait().await.is_ok());
    for w in again {
        assert!(w.await.unwrap().is_ok());
    }
    assert!(!barrier.is_broken());
}

scenarios!(
    barrier_generations_each_have_one_leader,
    barrier_cancel_while_filling_withdraws_the_arrival,
    barrier_cancel_after_the_trip_changes_nothing,
    barrier_wait_under_a_timeout_withdraws_when_it_elapses,
    barrier_abort_and_reset
);

// --- OnceCell and BoundedSemaphore -------------------------------------------

/// Many tasks race to initialise: one initialiser runs, all see its
/// value.
async fn once_cell_initialises_once_across_tasks<R: Runtime>(rt: R) {
    let cell = Arc::new(OnceCell::new());
    let runs = Arc::new(AtomicUsize::new(0));
    let tasks: Vec<_> = (0..8)
        .map(|i| {
            let (c, r) = (cell.clone(), runs.clone());
            rt.spawn(async move {
                *c.get_or_init(|| async move {
                    r.fetch_add(1, Ordering::SeqCst);
                    yield_now().await;
                    i
                })
                .await
            })
        })
        .collect();
    let values: Vec<_> = join_all(tasks)
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect();
    assert!(values.iter().all(|v| *v == values[0]));
    assert_eq!(runs.load(Ordering::SeqCst), 1);
    assert_eq!(cell.statistics().waiters, 0);
}

/// A cancelled initialiser lets the next waiting task run its own.
async fn once_cell_cancelled_initialiser_hands_over<R: Runtime>(rt: R) {
    let cell = Arc::new(OnceCell::new());
    let cancel = Arc::new(Event::new());
    let never = Arc::new(Event::new());
    let (c, k, n) = (cell.clone(), cancel.clone(), never.clone());
    let first = rt.spawn(async move {
        let init = c.get_or_init(|| async move {
            n.wait().await;
            1
        });
        let _ = select(Box::pin(init), Box::pin(k.wait())).await;
    });
    until(|| cell.statistics().initializing).await;
    let c = cell.clone();
    let second = rt.spawn(async move { *c.get_or_init(|| async { 2 }).await });
    until(|| cell.statistics().waiters == 1).await;
    cancel.set();
    first.await.unwrap();
    assert_eq!(second.await.unwrap(), 2);
    assert_eq!(cell.get(), Some(&2));
}

/// Tasks under a BoundedSemaphore never exceed its capacity; every
/// release balances an acquire.
async fn bounded_semaphore_limits_concurrency<R: Runtime>(rt: R) {
    let sem = Arc::new(BoundedSemaphore::new(3));
    let inside = Arc::new(AtomicUsize::new(0));
    let peak = Arc::new(AtomicUsize::new(0));
    let tasks: Vec<_> = (0..10)
        .map(|_| {
            let (s, i, p) = (sem.clone(), inside.clone(), peak.clone());
            rt.spawn(async move {
                s.acquire().await.unwrap();
                let now = i.fetch_add(1, Ordering::SeqCst) + 1;
                p.fetch_max(now, Ordering::SeqCst);
                yield_now().await;
                i.fetch_sub(1, Ordering::SeqCst);
                s.release().unwrap();
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    assert!(peak.load(Ordering::SeqCst) <= 3);
    let s = sem.statistics();
    assert_eq!((s.available, s.acquired, s.waiters), (3, 0, 0));
    assert!(sem.release().is_err(), "one release too many");
}

scenarios!(
    once_cell_initialises_once_across_tasks,
    once_cell_cancelled_initialiser_hands_over,
    bounded_semaphore_limits_concurrency
);

/// Bad inputs give the documented answers.
async fn lock_family_bad_inputs() {
    let sem = BoundedSemaphore::new(2);
    assert_eq!(
        sem.acquire_many(3).await,
        Err(ExceedsCapacity {
            requested: 3,
            capacity: 2
        })
    );
    assert_eq!(Barrier::new(0).parties(), 1);
    assert!(Barrier::new(0).wait().await.unwrap().is_leader());
    let zero = std::panic::catch_unwind(|| RwLock::with_max_readers((), 0));
    assert!(zero.is_err());
}

scenarios_no_rt!(lock_family_bad_inputs);

// --- Issue 15: waits added for parity with the peers ------------------------

/// `OnceCell::wait` in several tasks completes, with the value, once another
/// task's initialiser has run; the waits never hold the initialiser up.
async fn once_cell_wait_completes_when_another_task_initialises<R: Runtime>(rt: R) {
    let cell = Arc::new(OnceCell::new());
    let waits: Vec<_> = (0..4)
        .map(|_| {
            let cell = cell.clone();
            rt.spawn(async move { *cell.wait().await })
        })
        .collect();
    until(|| cell.statistics().waiters == 4).await;
    let init = {
        let cell = cell.clone();
        rt.spawn(async move { *cell.get_or_init(|| async { 42 }).await })
    };
    assert_eq!(init.await.unwrap(), 42);
    for w in waits {
        assert_eq!(w.await.unwrap(), 42);
    }
    let s = cell.statistics();
    assert_eq!((s.initialized, s.initializing, s.waiters), (true, false, 0));
}

/// A dropped `OnceCell::wait` leaves no waiter behind, and the others
/// still complete.
async fn once_cell_wait_cancelled_strands_nothing() {
    let cell = OnceCell::new();
    let mut kept = Box::pin(cell.wait());
    assert!(poll_once(&mut kept).await.is_pending());
    {
        let mut dropped = Box::pin(cell.wait());
        assert!(poll_once(&mut dropped).await.is_pending());
        assert_eq!(cell.statistics().waiters, 2);
    }
    assert_eq!(cell.statistics().waiters, 1);
    cell.set("ready").unwrap();
    assert_eq!(*kept.await, "ready");
    assert_eq!(cell.statistics().waiters, 0);
}

/// Blocking initialisers on blocking threads run once between them, while
/// a task waits for the value with `OnceCell::wait`.
async fn once_cell_blocking_initialisers_run_once_across_blocking_threads<R: Runtime>(rt: R) {
    let cell = Arc::new(OnceCell::new());
    let runs = Arc::new(AtomicUsize::new(0));
    let waiter = {
        let cell = cell.clone();
        rt.spawn(async move { *cell.wait().await })
    };
    let inits: Vec<_> = (0..3)
        .map(|i| {
            let (cell, runs) = (cell.clone(), runs.clone());
            rt.spawn_blocking(move || {
                *cell.get_or_init_blocking(|| {
                    runs.fetch_add(1, Ordering::SeqCst);
                    i
                })
            })
        })
        .collect();
    let mut values = Vec::new();
    for init in inits {
        values.push(init.await.unwrap());
    }
    assert_eq!(runs.load(Ordering::SeqCst), 1);
    assert!(values.iter().all(|v| *v == values[0]));
    assert_eq!(waiter.await.unwrap(), values[0]);
    let blocked = {
        let cell = cell.clone();
        rt.spawn_blocking(move || *cell.wait_blocking())
    };
    assert_eq!(blocked.await.unwrap(), values[0]);
}

/// Owned blocking read and write on blocking threads wait for a task's
/// guard and get the lock when it is dropped.
async fn rwlock_owned_blocking_guards_wait_for_a_tasks_guard<R: Runtime>(rt: R) {
    let lock = Arc::new(RwLock::new(0));
    let write = lock.clone().write_owned().await;
    let reader = {
        let lock = lock.clone();
        rt.spawn_blocking(move || *lock.read_owned_blocking())
    };
    until(|| lock.statistics().waiters == 1).await;
    drop(write);
    assert_eq!(reader.await.unwrap(), 0);
    let read = lock.clone().read_owned().await;
    let writer = {
        let lock = lock.clone();
        rt.spawn_blocking(move || *lock.write_owned_blocking() += 1)
    };
    until(|| lock.statistics().waiters == 1).await;
    drop(read);
    writer.await.unwrap();
    let up = {
        let lock = lock.clone();
        rt.spawn_blocking(move || {
            let up = lock.upgradable_read_owned_blocking();
            *anysync::sync::OwnedRwLockUpgradableReadGuard::upgrade_blocking(up) += 1;
        })
    };
    up.await.unwrap();
    assert_eq!(*lock.read().await, 2);
    assert_rwlock_quiescent(&lock);
}

/// `downgrade_map` keeps a read lock on part of the data and lets the
/// readers queued behind the writer in at once; a queued writer waits for
/// the mapped guard.
async fn rwlock_downgrade_map_lets_queued_readers_in<R: Runtime>(rt: R) {
    let lock = Arc::new(RwLock::new((0, String::new())));
    let mut w = lock.write().await;
    let readers: Vec<_> = (0..3)
        .map(|_| {
            let lock = lock.clone();
            rt.spawn(async move { lock.read().await.1.clone() })
        })
        .collect();
    until(|| lock.statistics().waiters == 3).await;
    w.0 = 1;
    w.1.push_str("done");
    let name = RwLockWriteGuard::downgrade_map(w, |v| v.1.as_str());
    for r in readers {
        assert_eq!(r.await.unwrap(), "done");
    }
    let writer = {
        let lock = lock.clone();
        rt.spawn(async move { lock.write().await.0 += 1 })
    };
    until(|| lock.statistics().waiters == 1).await;
    assert_eq!(&*name, "done");
    drop(name);
    writer.await.unwrap();
    assert_eq!(lock.read().await.0, 2);
    assert_rwlock_quiescent(&lock);
}

scenarios!(
    once_cell_wait_completes_when_another_task_initialises,
    once_cell_blocking_initialisers_run_once_across_blocking_threads,
    rwlock_owned_blocking_guards_wait_for_a_tasks_guard,
    rwlock_downgrade_map_lets_queued_readers_in,
);
scenarios_no_rt!(once_cell_wait_cancelled_strands_nothing);

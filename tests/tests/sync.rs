//! Mutex, Semaphore, Event and Notify on real executors:
//! fairness, cancellation, close, blocking variants
//! and stress, each scenario written once and run on every executor.
//!
//! Tasks synchronise on the primitives' own state (`waiters()`), on events
//! and on yields, never on sleeps.
#![forbid(unsafe_code)]

extern crate alloc;

use alloc::sync::Arc;
use core::{pin::pin, time::Duration};
use std::sync::{
    atomic::{AtomicUsize, Ordering},
    Mutex as StdMutex,
};

use anysync::{
    rt::Runtime,
    sync::{AcquireError, Event, Mutex, Notify, Semaphore, TryAcquireError},
    time::timeout,
};
use anysync_tests::{poll_once, scenarios, scenarios_no_rt, until, yield_now};
use futures_util::future::{select, Either};

/// Tasks queued on a held mutex get it in the order they queued.
async fn mutex_fifo_hand_off_serves_tasks_in_arrival_order<R: Runtime>(rt: R) {
    let m = Arc::new(Mutex::new(Vec::new()));
    let guard = m.try_lock().unwrap();
    let mut tasks = Vec::new();
    for i in 0..8 {
        let m2 = m.clone();
        tasks.push(rt.spawn(async move { m2.lock().await.push(i) }));
        until(|| m.waiters() == i + 1).await;
    }
    drop(guard);
    for t in tasks {
        t.await.unwrap();
    }
    assert_eq!(*m.lock().await, (0..8).collect::<Vec<_>>());
    assert_eq!(m.waiters(), 0);
}

/// After an unlock with a task queued, a newcomer's `try_lock` fails:
/// the lock went to the queued task.
async fn mutex_no_barging_after_unlock<R: Runtime>(rt: R) {
    let m = Arc::new(Mutex::new(0));
    let done = Arc::new(Event::new());
    let guard = m.try_lock().unwrap();
    let (m2, d2) = (m.clone(), done.clone());
    let waiter = rt.spawn(async move {
        let mut g = m2.lock().await;
        *g += 1;
        d2.wait().await; // hold it until the check below has run
    });
    until(|| m.waiters() == 1).await;
    drop(guard);
    // Whether or not the waiter has run yet, the lock is its own now.
    assert!(m.try_lock().is_err(), "the queued task owns the lock now");
    done.set();
    waiter.await.unwrap();
    assert_eq!(*m.try_lock().unwrap(), 1);
}

/// A queued lock cancelled before the grant leaves the queue; the next
/// waiter gets the lock.
async fn mutex_cancel_before_grant<R: Runtime>(rt: R) {
    let m = Arc::new(Mutex::new(0));
    let cancel = Arc::new(Event::new());
    let guard = m.try_lock().unwrap();
    let (m2, c2) = (m.clone(), cancel.clone());
    let cancelled = rt.spawn(async move {
        match select(pin!(m2.lock()), pin!(c2.wait())).await {
            Either::Left(_) => panic!("got the lock while it was held"),
            Either::Right(_) => {}
        }
    });
    until(|| m.waiters() == 1).await;
    let m3 = m.clone();
    let next = rt.spawn(async move { *m3.lock().await += 1 });
    until(|| m.waiters() == 2).await;
    cancel.set();
    cancelled.await.unwrap();
    assert_eq!(m.waiters(), 1);
    drop(guard);
    next.await.unwrap();
    assert_eq!(*m.try_lock().unwrap(), 1);
}

/// A waiter granted the lock and dropped before it ran passes the lock on.
async fn mutex_cancel_after_grant_passes_the_lock_on<R: Runtime>(rt: R) {
    let m = Arc::new(Mutex::new(0));
    let guard = m.try_lock().unwrap();
    let mut first = Box::pin(m.lock());
    assert!(
        poll_once(&mut first).await.is_pending(),
        "queued behind the holder"
    );
    let m2 = m.clone();
    let second = rt.spawn(async move { *m2.lock().await += 1 });
    until(|| m.waiters() == 2).await;
    drop(guard); // the lock goes to `first`
    drop(first); // ... which passes it on
    second.await.unwrap();
    assert_eq!(*m.try_lock().unwrap(), 1);
    assert_eq!(m.waiters(), 0);
}

/// Many tasks increment under the lock with an await inside the
/// critical section: no update is lost.
async fn mutex_stress_counts_exactly<R: Runtime>(rt: R) {
    let m = Arc::new(Mutex::new(0usize));
    let tasks: Vec<_> = (0..200)
        .map(|_| {
            let m = m.clone();
            rt.spawn(async move {
                for _ in 0..10 {
                    let mut g = m.lock().await;
                    let read = *g;
                    yield_now().await;
                    *g = read + 1;
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    assert_eq!(*m.lock().await, 2000);
    assert_eq!(m.waiters(), 0);
}

/// Ten tasks under `Semaphore(3)`: never more than three inside, and
/// exactly three at the peak.
async fn semaphore_peak_concurrency_is_exactly_the_limit<R: Runtime>(rt: R) {
    let sem = Arc::new(Semaphore::new(3));
    let inside = Arc::new(AtomicUsize::new(0));
    let peak = Arc::new(AtomicUsize::new(0));
    let full = Arc::new(Event::new());
    let tasks: Vec<_> = (0..10)
        .map(|_| {
            let (sem, inside, peak, full) =
                (sem.clone(), inside.clone(), peak.clone(), full.clone());
            rt.spawn(async move {
                let _permit = sem.acquire().await.unwrap();
                let now = inside.fetch_add(1, Ordering::SeqCst) + 1;
                assert!(now <= 3, "{now} tasks inside Semaphore(3)");
                peak.fetch_max(now, Ordering::SeqCst);
                if now == 3 {
                    full.set();
                }
                full.wait().await; // hold until the section has been full once
                yield_now().await;
                inside.fetch_sub(1, Ordering::SeqCst);
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    assert_eq!(peak.load(Ordering::SeqCst), 3);
    assert_eq!(sem.available_permits(), 3);
}

/// A big request at the head is served before the small ones queued
/// behind it, even though they could be served earlier.
async fn semaphore_weighted_head_is_not_starved<R: Runtime>(rt: R) {
    let sem = Arc::new(Semaphore::new(4));
    let order = Arc::new(StdMutex::new(Vec::new()));
    let held = sem.try_acquire_many(4).unwrap();
    let (s, o) = (sem.clone(), order.clone());
    let big = rt.spawn(async move {
        let p = s.acquire_many(4).await.unwrap();
        o.lock().unwrap().push("big");
        drop(p);
    });
    until(|| sem.waiters() == 1).await;
    let mut small = Vec::new();
    for i in 0..3 {
        let (s, o) = (sem.clone(), order.clone());
        small.push(rt.spawn(async move {
            let _p = s.acquire().await.unwrap();
            o.lock().unwrap().push("small");
        }));
        until(|| sem.waiters() == 2 + i).await;
    }
    drop(held);
    big.await.unwrap();
    for t in small {
        t.await.unwrap();
    }
    assert_eq!(*order.lock().unwrap(), ["big", "small", "small", "small"]);
    assert_eq!(sem.available_permits(), 4);
}

/// A waiter woken with a permit and dropped before it ran passes the
/// permit to the next waiter.
async fn semaphore_cancelled_waiter_passes_wakeup_on<R: Runtime>(rt: R) {
    let sem = Arc::new(Semaphore::new(0));
    let mut first = Box::pin(sem.acquire());
    assert!(poll_once(&mut first).await.is_pending());
    let s = sem.clone();
    let second = rt.spawn(async move { s.acquire().await.unwrap().forget() });
    until(|| sem.waiters() == 2).await;
    sem.add_permits(1); // to `first`
    drop(first); // passed on to `second`
    second.await.unwrap();
    assert_eq!(sem.available_permits(), 0);
    assert_eq!(sem.waiters(), 0);
}

/// `close` fails every queued acquire and every later one; permits held
/// across the close are counted back in.
async fn semaphore_close_fails_current_and_later_acquires<R: Runtime>(rt: R) {
    let sem = Arc::new(Semaphore::new(1));
    let held = sem.try_acquire().unwrap();
    let waiters: Vec<_> = (0..5)
        .map(|_| {
            let s = sem.clone();
            rt.spawn(async move { s.acquire().await.map(drop) })
        })
        .collect();
    until(|| sem.waiters() == 5).await;
    sem.close();
    for w in waiters {
        assert_eq!(w.await.unwrap(), Err(AcquireError::Closed));
    }
    assert_eq!(sem.acquire().await.unwrap_err(), AcquireError::Closed);
    assert_eq!(sem.try_acquire().unwrap_err(), TryAcquireError::Closed);
    drop(held);
    assert_eq!(sem.available_permits(), 1);
}

/// An acquire that times out leaves the queue and loses no permit.
async fn semaphore_timed_out_acquire_loses_no_permit<R: Runtime>(rt: R) {
    let sem = Semaphore::new(0);
    assert!(timeout(&rt, Duration::from_millis(5), sem.acquire())
        .await
        .is_err());
    assert_eq!(sem.waiters(), 0);
    sem.add_permits(1);
    assert_eq!(sem.available_permits(), 1);
    let p = timeout(&rt, Duration::from_secs(3600), sem.acquire())
        .await
        .unwrap()
        .unwrap();
    drop(p);
    assert_eq!(sem.available_permits(), 1);
}

/// 1000 tasks acquire and release on `Semaphore(5)`: afterwards exactly
/// five permits can be taken and a sixth cannot: none lost, none made.
async fn semaphore_stress_conserves_permits<R: Runtime>(rt: R) {
    let sem = Arc::new(Semaphore::new(5));
    let tasks: Vec<_> = (0..1000)
        .map(|i| {
            let s = sem.clone();
            rt.spawn(async move {
                let _p = s.acquire_many(1 + i % 3).await.unwrap();
                yield_now().await;
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    let taken: Vec<_> = (0..5).map(|_| sem.try_acquire().unwrap()).collect();
    assert_eq!(sem.try_acquire().unwrap_err(), TryAcquireError::NoPermits);
    drop(taken);
    assert_eq!(sem.waiters(), 0);
}

/// One `set()` releases every task waiting on the event.
async fn event_set_releases_every_waiting_task<R: Runtime>(rt: R) {
    let ev = Arc::new(Event::new());
    let ready = Arc::new(Semaphore::new(0));
    let released = Arc::new(AtomicUsize::new(0));
    let tasks: Vec<_> = (0..50)
        .map(|_| {
            let (ev, ready, released) = (ev.clone(), ready.clone(), released.clone());
            rt.spawn(async move {
                let wait = ev.wait(); // counts from here
                ready.add_permits(1);
                wait.await;
                released.fetch_add(1, Ordering::SeqCst);
            })
        })
        .collect();
    ready.acquire_many(50).await.unwrap().forget();
    assert_eq!(released.load(Ordering::SeqCst), 0);
    ev.set();
    for t in tasks {
        t.await.unwrap();
    }
    assert_eq!(released.load(Ordering::SeqCst), 50);
}

/// Waiters queued before `set` complete even if `clear` follows at once.
async fn event_set_then_clear_still_releases_queued_waiters<R: Runtime>(rt: R) {
    let ev = Arc::new(Event::new());
    let tasks: Vec<_> = (0..10)
        .map(|_| {
            let ev = ev.clone();
            rt.spawn(async move { ev.wait().await })
        })
        .collect();
    until(|| ev.waiters() == 10).await;
    ev.set();
    ev.clear();
    for t in tasks {
        t.await.unwrap();
    }
    assert!(!ev.is_set());
}

/// Two tasks ping-pong through two `Notify`s; nothing is lost.
async fn notify_ping_pong_loses_no_wakeup<R: Runtime>(rt: R) {
    let (ping, pong) = (Arc::new(Notify::new()), Arc::new(Notify::new()));
    let (p2, q2) = (ping.clone(), pong.clone());
    let other = rt.spawn(async move {
        for _ in 0..1000 {
            p2.notified().await;
            q2.notify_one();
        }
    });
    for _ in 0..1000 {
        ping.notify_one();
        pong.notified().await;
    }
    other.await.unwrap();
}

/// `notify_all` wakes every waiting task and stores nothing.
async fn notify_all_wakes_every_waiting_task<R: Runtime>(rt: R) {
    let n = Arc::new(Notify::new());
    let tasks: Vec<_> = (0..20)
        .map(|_| {
            let n = n.clone();
            rt.spawn(async move { n.notified().await })
        })
        .collect();
    until(|| n.waiters() == 20).await;
    n.notify_all();
    for t in tasks {
        t.await.unwrap();
    }
    let mut later = Box::pin(n.notified());
    assert!(
        poll_once(&mut later).await.is_pending(),
        "notify_all stores no permit"
    );
}

/// Plain threads using the blocking variants coordinate with tasks.
async fn blocking_variants_work_from_plain_threads<R: Runtime>(rt: R) {
    let m = Arc::new(Mutex::new(0));
    let sem = Arc::new(Semaphore::new(0));
    let ev = Arc::new(Event::new());
    let guard = m.lock().await;
    let (m2, s2, e2) = (m.clone(), sem.clone(), ev.clone());
    let thread = std::thread::spawn(move || {
        e2.wait_blocking();
        s2.acquire_blocking().unwrap().forget();
        *m2.lock_blocking() += 1;
    });
    ev.set();
    sem.add_permits(1);
    drop(guard);
    rt.spawn_blocking(move || thread.join().unwrap())
        .await
        .unwrap();
    assert_eq!(*m.lock().await, 1);
    assert_eq!(sem.available_permits(), 0);
}

scenarios!(
    mutex_fifo_hand_off_serves_tasks_in_arrival_order,
    mutex_no_barging_after_unlock,
    mutex_cancel_before_grant,
    mutex_cancel_after_grant_passes_the_lock_on,
    mutex_stress_counts_exactly,
    semaphore_peak_concurrency_is_exactly_the_limit,
    semaphore_weighted_head_is_not_starved,
    semaphore_cancelled_waiter_passes_wakeup_on,
    semaphore_close_fails_current_and_later_acquires,
    semaphore_timed_out_acquire_loses_no_permit,
    semaphore_stress_conserves_permits,
    event_set_releases_every_waiting_task,
    event_set_then_clear_still_releases_queued_waiters,
    notify_ping_pong_loses_no_wakeup,
    notify_all_wakes_every_waiting_task,
    blocking_variants_work_from_plain_threads
);

/// `try_*` never waits: on a held primitive it fails at once.
async fn try_variants_never_wait() {
    let m = Mutex::new(());
    let _g = m.try_lock().unwrap();
    assert!(m.try_lock().is_err());
    let sem = Semaphore::new(1);
    let _p = sem.try_acquire().unwrap();
    assert_eq!(sem.try_acquire().unwrap_err(), TryAcquireError::NoPermits);
}

/// `notify_one` with nobody waiting stores exactly one permit.
async fn notify_one_stores_a_single_permit() {
    let n = Notify::new();
    n.notify_one();
    n.notify_one();
    n.notified().await;
    let mut second = Box::pin(n.notified());
    assert!(poll_once(&mut second).await.is_pending());
}

scenarios_no_rt!(try_variants_never_wait, notify_one_stores_a_single_permit);

// --- Issue 15: waits added for parity with the peers ------------------------

/// Owned blocking acquires on blocking threads wait for `add_permits` from
/// a task, each getting what it asked for.
async fn semaphore_owned_blocking_acquires_wait_for_added_permits<R: Runtime>(rt: R) {
    let sem = Arc::new(Semaphore::new(0));
    let many = {
        let sem = sem.clone();
        rt.spawn_blocking(move || sem.acquire_many_owned_blocking(3).map(|p| p.num_permits()))
    };
    until(|| sem.waiters() == 1).await;
    let one = {
        let sem = sem.clone();
        rt.spawn_blocking(move || sem.acquire_owned_blocking().map(|p| p.num_permits()))
    };
    until(|| sem.waiters() == 2).await;
    sem.add_permits(4);
    assert_eq!(many.await.unwrap(), Ok(3));
    assert_eq!(one.await.unwrap(), Ok(1));
    assert_eq!((sem.available_permits(), sem.waiters()), (4, 0));
    assert_eq!(sem.forget_permits(3), 3);
    assert_eq!(sem.available_permits(), 1);
}

/// `lock_owned_blocking` on a blocking thread waits for a task's guard.
async fn mutex_lock_owned_blocking_waits_for_a_tasks_guard<R: Runtime>(rt: R) {
    let m = Arc::new(Mutex::new(0));
    let guard = m.clone().lock_owned().await;
    let t = {
        let m = m.clone();
        rt.spawn_blocking(move || {
            let mut g = m.lock_owned_blocking();
            *g += 1;
        })
    };
    until(|| m.waiters() == 1).await;
    drop(guard);
    t.await.unwrap();
    assert_eq!(*m.lock().await, 1);
    assert!(!m.is_locked());
}

/// A `notify_last` wake-up whose task is dropped before it runs goes to
/// the next-newest waiting task, not the oldest.
async fn notify_last_given_to_a_dropped_waiter_wakes_the_next_newest<R: Runtime>(rt: R) {
    let n = Arc::new(Notify::new());
    let woken = Arc::new(StdMutex::new(Vec::new()));
    let mut tasks = Vec::new();
    for i in 0..2 {
        let (n2, w) = (n.clone(), woken.clone());
        tasks.push(rt.spawn(async move {
            n2.notified().await;
            w.lock().unwrap().push(i);
        }));
        until(|| n.waiters() == i + 1).await; // queued in spawn order
    }
    let mut newest = Box::pin(n.notified());
    assert!(poll_once(&mut newest).await.is_pending());
    n.notify_last(); // to `newest`, which is then dropped unpolled
    drop(newest);
    until(|| woken.lock().unwrap().len() == 1).await;
    assert_eq!(*woken.lock().unwrap(), [1]);
    n.notify_one();
    for t in tasks {
        t.await.unwrap();
    }
    assert_eq!(*woken.lock().unwrap(), [1, 0]);
}

scenarios!(
    semaphore_owned_blocking_acquires_wait_for_added_permits,
    mutex_lock_owned_blocking_waits_for_a_tasks_guard,
    notify_last_given_to_a_dropped_waiter_wakes_the_next_newest,
);

//! Foreign code that misbehaves, against every waiting operation: wakers
//! whose `wake` panics, whose `clone` panics, whose `wake` or `drop`
//! re-enters the primitive, and a detector (`Hostile::under_lock`) that
//! counts every wake or drop of a waker while a primitive's internal lock
//! is held. After each attack the counts must be whole (permits, slots,
//! items, waiters) and nobody stranded.
//!
//! These are poll-level tests: the misbehaving waker is handed to one
//! future's poll by hand, so no executor is involved (and none could be:
//! an executor's own waker does not misbehave).
#![forbid(unsafe_code)]

use core::{
    future::Future,
    pin::Pin,
    task::{Context, Poll, Waker},
};
use std::sync::Arc;

use anysync::{
    channel::{self, StaticChannel},
    queue::Queue,
    sync::{Barrier, Event, Mutex, Notify, RwLock, Semaphore},
    test_util::{panics, Hostile},
};
use futures_util::task::noop_waker;

/// Polls `fut` once with `waker`.
fn poll<F: Future + Unpin>(fut: &mut F, waker: &Waker) -> Poll<F::Output> {
    Pin::new(fut).poll(&mut Context::from_waker(waker))
}

/// Polls once with a waker that does nothing, expecting `Pending`.
#[track_caller]
fn pending<F: Future + Unpin>(fut: &mut F) {
    assert!(poll(fut, &noop_waker()).is_pending(), "expected Pending");
}

/// Polls once with a waker that does nothing, expecting `Ready`.
#[track_caller]
fn ready<F: Future + Unpin>(fut: &mut F) -> F::Output {
    match poll(fut, &noop_waker()) {
        Poll::Ready(out) => out,
        Poll::Pending => panic!("expected Ready"),
    }
}

/// One waiting operation under attack: `queue` parks `n` waiters (the first
/// polled with the hostile waker), `grant` releases them, `finish` completes
/// them and checks that the primitive is whole.
fn attack_wake_panics<W: Future + Unpin>(
    mut make: impl FnMut() -> W,
    grant: impl FnOnce(),
    check_whole: impl FnOnce(Vec<W::Output>),
) {
    let bad = Hostile::new();
    let mut first = Box::pin(make());
    assert!(poll(&mut first, &bad.waker()).is_pending());
    let mut rest: Vec<_> = (0..20).map(|_| Box::pin(make())).collect();
    for w in &mut rest {
        pending(w);
    }
    bad.panic_on_wake(true);
    assert!(panics(grant), "the wake's panic reaches the caller");
    bad.panic_on_wake(false);
    let mut outs = vec![ready(&mut first)];
    outs.extend(rest.iter_mut().map(ready));
    assert_eq!(bad.under_lock(), 0);
    check_whole(outs);
}

/// `make` polled with a waker whose clone panics: afterwards the primitive
/// is exactly as before (checked by `check_whole`).
fn attack_clone_panics<W: Future + Unpin>(make: impl FnOnce() -> W, check_whole: impl FnOnce()) {
    let bad = Hostile::new();
    let waker = bad.waker();
    bad.panic_on_clone(true);
    let mut fut = Box::pin(make());
    assert!(panics(|| {
        let _ = poll(&mut fut, &waker);
    }));
    drop(fut);
    bad.panic_on_clone(false);
    check_whole();
}

#[test]
fn semaphore_acquire_survives_hostile_wakers() {
    let sem = Semaphore::new(0);
    attack_wake_panics(
        || Box::pin(sem.acquire()),
        || sem.add_permits(21),
        |permits| {
            assert!(permits.iter().all(Result::is_ok));
            drop(permits);
            assert_eq!(sem.available_permits(), 21);
            assert_eq!(sem.waiters(), 0);
        },
    );
    let held = sem.try_acquire_many(21).unwrap();
    attack_clone_panics(|| Box::pin(sem.acquire()), || assert_eq!(sem.waiters(), 0));
    drop(held);
    assert_eq!(sem.available_permits(), 21);
}

#[test]
fn mutex_lock_survives_a_panicking_wake_at_unlock() {
    let m = Mutex::new(0u32);
    let guard = m.try_lock().unwrap();
    let bad = Hostile::new();
    let mut a = Box::pin(m.lock());
    assert!(poll(&mut a, &bad.waker()).is_pending());
    let mut b = Box::pin(m.lock());
    pending(&mut b);
    bad.panic_on_wake(true);
    assert!(panics(move || drop(guard)));
    bad.panic_on_wake(false);
    drop(ready(&mut a));
    drop(ready(&mut b));
    assert!(m.try_lock().is_ok(), "the lock is free again");
    assert_eq!(bad.under_lock(), 0);
}

#[test]
fn rwlock_write_and_read_survive_hostile_wakers() {
    let lock = RwLock::new(0u32);
    let r = lock.try_read().unwrap();
    let bad = Hostile::new();
    let mut w = Box::pin(lock.write());
    assert!(poll(&mut w, &bad.waker()).is_pending());
    let mut readers: Vec<_> = (0..20).map(|_| Box::pin(lock.read())).collect();
    for f in &mut readers {
        pending(f);
    }
    bad.panic_on_wake(true);
    assert!(panics(move || drop(r)));
    bad.panic_on_wake(false);
    drop(ready(&mut w));
    let guards: Vec<_> = readers.iter_mut().map(ready).collect();
    drop(guards);
    assert!(lock.try_write().is_ok(), "every permit came back");
    let r = lock.try_read().unwrap();
    attack_clone_panics(|| Box::pin(lock.write()), || {});
    drop(r);
    assert!(
        lock.try_write().is_ok(),
        "the failed write left nothing behind"
    );
}

#[test]
fn event_set_survives_a_panicking_wake() {
    let ev = Event::new();
    attack_wake_panics(
        || Box::pin(ev.wait()),
        || ev.set(),
        |outs| assert_eq!(outs.len(), 21),
    );
    ev.clear();
    // Still works after the panic: `set` is not a no-op.
    let mut w = Box::pin(ev.wait());
    pending(&mut w);
    ev.set();
    ready(&mut w);
}

#[test]
fn notify_all_survives_a_panicking_wake() {
    let n = Notify::new();
    attack_wake_panics(
        || Box::pin(n.notified()),
        || n.notify_all(),
        |outs| assert_eq!(outs.len(), 21),
    );
    let mut w = Box::pin(n.notified());
    pending(&mut w);
    n.notify_one();
    ready(&mut w);
}

#[test]
fn barrier_wait_with_a_panicking_clone_records_no_phantom_arrival() {
    let b = Barrier::new(2);
    attack_clone_panics(|| Box::pin(b.wait()), || {});
    // A two-party barrier still needs two tasks.
    let mut first = Box::pin(b.wait());
    pending(&mut first);
    let mut second = Box::pin(b.wait());
    ready(&mut second).unwrap();
    ready(&mut first).unwrap();
}

#[test]
fn queue_put_with_a_panicking_clone_loses_no_slot() {
    let q = Queue::bounded(1);
    q.try_put(1).unwrap();
    attack_clone_panics(|| Box::pin(q.put(2)), || assert_eq!(q.put_waiters(), 0));
    assert_eq!(q.try_get().unwrap(), 1);
    q.try_put(3).expect("the slot is free again");
}

#[test]
fn channel_send_with_a_panicking_clone_loses_no_slot() {
    let (tx, rx) = channel::bounded(1);
    tx.try_send(1).unwrap();
    attack_clone_panics(|| Box::pin(tx.send(2)), || {});
    assert_eq!(rx.try_recv().unwrap(), 1);
    tx.try_send(3).expect("the slot is free again");
}

#[test]
fn static_channel_send_with_a_panicking_clone_loses_no_slot() {
    let ch = StaticChannel::<u32, 1>::new();
    ch.try_send(1).unwrap();
    attack_clone_panics(|| Box::pin(ch.send(2)), || {});
    assert_eq!(ch.try_recv().unwrap(), 1);
    ch.try_send(3).expect("the slot is free again");
}

#[test]
fn queue_get_survives_a_panicking_wake_at_put() {
    let q = Queue::bounded(30);
    let bad = Hostile::new();
    let mut a = Box::pin(q.get());
    assert!(poll(&mut a, &bad.waker()).is_pending());
    let mut b = Box::pin(q.get());
    pending(&mut b);
    bad.panic_on_wake(true);
    assert!(panics(|| q.try_put(1).unwrap()));
    bad.panic_on_wake(false);
    q.try_put(2).unwrap();
    let mut got = vec![ready(&mut a).unwrap(), ready(&mut b).unwrap()];
    got.sort();
    assert_eq!(got, [1, 2]);
    assert_eq!(bad.under_lock(), 0);
}

#[test]
fn re_entrant_wakers_do_not_deadlock_and_run_outside_the_lock() {
    let sem = Arc::new(Semaphore::new(1));
    let ev = Arc::new(Event::new());
    let hook = Hostile::new();
    {
        let (sem, ev) = (Arc::clone(&sem), Arc::clone(&ev));
        hook.on_wake(move || {
            drop(sem.try_acquire());
            ev.set();
        });
    }
    {
        let sem = Arc::clone(&sem);
        hook.on_drop(move || {
            let _ = sem.waiters();
        });
    }
    let held = sem.try_acquire().unwrap();
    let mut a = Box::pin(sem.acquire());
    assert!(poll(&mut a, &hook.waker()).is_pending());
    let mut w = Box::pin(ev.wait());
    assert!(poll(&mut w, &hook.waker()).is_pending());
    drop(held);
    drop(ready(&mut a));
    ready(&mut w);
    assert_eq!(hook.under_lock(), 0);
    assert_eq!(sem.available_permits(), 1);
}

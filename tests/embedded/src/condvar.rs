//! Condvar: `wait` unlocks and registers in one step and relocks after the
//! notifier unlocked, notifications are not stored, a cancelled waiter
//! leaves the mutex free and hands a received notification on.

use core::pin::pin;

use anysync::sync::{Condvar, Mutex, Semaphore};
use embassy_executor::Spawner;
use embassy_futures::{join::join, yield_now};
use portable_atomic::{AtomicUsize, Ordering};

use crate::harness::{poll_once, run, until};

/// Runs every scenario of this family.
pub(crate) async fn run_all(spawner: Spawner) {
    run("condvar_wait_unlocks_atomically_and_relocks", condvar_wait_unlocks_and_relocks()).await;
    run("condvar_notifications_are_not_stored", condvar_notifications_are_not_stored()).await;
    run("condvar_cancel_before_notify", condvar_cancel_before_notify()).await;
    run("condvar_notified_waiter_dropped_hands_over", condvar_notified_waiter_dropped()).await;
    run("condvar_wait_while_producer_consumer", condvar_wait_while_producer_consumer(spawner)).await;
    run("condvar_notify_one_is_fifo_and_notify_all_wakes_only_present_waiters", condvar_fifo_and_notify_all()).await;
    run("condvar_waiter_woken_by_notify_all_and_dropped_forwards_nothing", condvar_notify_all_then_drop()).await;
}

/// `wait` frees the mutex at once and returns holding it, only after the
/// notifier has unlocked.
async fn condvar_wait_unlocks_and_relocks() {
    static M: Mutex<u32> = Mutex::new(0);
    static CV: Condvar = Condvar::new();
    let waiter = async { *CV.wait(M.lock().await).await };
    let notifier = async {
        // Registered, then (in the same poll) unlocked.
        until(|| CV.waiters() == 1 && !M.is_locked()).await;
        let mut g = M.try_lock().expect("free while the task waits");
        *g = 5;
        CV.notify_one();
        assert_eq!(CV.waiters(), 0);
        until(|| M.waiters() == 1).await; // notified, queued on the mutex
        drop(g);
    };
    let (seen, ()) = join(waiter, notifier).await;
    assert_eq!(seen, 5);
    assert!(M.try_lock().is_ok());
}

/// A notify with nobody waiting is not stored.
async fn condvar_notifications_are_not_stored() {
    static M: Mutex<()> = Mutex::new(());
    static CV: Condvar = Condvar::new();
    CV.notify_one();
    CV.notify_all();
    let mut w = pin!(CV.wait(M.lock().await));
    assert!(poll_once(w.as_mut()).await.is_pending(), "nothing was stored");
    assert_eq!(CV.waiters(), 1);
    CV.notify_one();
    drop(w.await);
    assert!(M.try_lock().is_ok());
}

/// A waiter cancelled before any notify leaves the mutex unlocked and the
/// queue empty.
async fn condvar_cancel_before_notify() {
    static M: Mutex<()> = Mutex::new(());
    static CV: Condvar = Condvar::new();
    {
        let w = pin!(CV.wait(M.lock().await));
        assert!(poll_once(w).await.is_pending());
        assert_eq!(CV.waiters(), 1);
    } // the waiter is dropped here
    assert_eq!(CV.waiters(), 0);
    assert!(M.try_lock().is_ok());
}

/// W1 is chosen by `notify_one` and dropped before it returns; W2 gets the
/// notification.
async fn condvar_notified_waiter_dropped() {
    static M: Mutex<bool> = Mutex::new(false);
    static CV: Condvar = Condvar::new();
    // W1 sits in an `Option` so that it can be dropped in place while W2,
    // which can only lock the mutex once W1 has unlocked it, lives on.
    let mut w1 = pin!(Some(CV.wait(M.lock().await)));
    let w1_fut = w1.as_mut().as_pin_mut().expect("not dropped yet");
    assert!(poll_once(w1_fut).await.is_pending());
    let mut w2 = pin!(CV.wait_while(M.lock().await, |ready| !*ready));
    assert!(poll_once(w2.as_mut()).await.is_pending());
    assert_eq!(CV.waiters(), 2);
    *M.lock().await = true;
    CV.notify_one(); // W1 is first
    w1.set(None); // ... is dropped before it ran, and passes it on
    assert!(*w2.await);
    assert_eq!(CV.waiters(), 0);
    assert!(M.try_lock().is_ok());
}

/// A queue of up to 8 values: `Some(n)` is work, `None` says stop.
struct Queue {
    items: [Option<u32>; 8],
    len: usize,
}

impl Queue {
    fn push(&mut self, item: Option<u32>) {
        assert!(self.len < self.items.len(), "queue overflow");
        self.items[self.len] = item;
        self.len += 1;
    }

    fn pop(&mut self) -> Option<u32> {
        assert!(self.len > 0, "pop from an empty queue");
        let item = self.items[0];
        self.items.copy_within(1..self.len, 0);
        self.len -= 1;
        item
    }
}

/// Shared by the consumers of the producer/consumer scenario.
struct Shared {
    queue: Mutex<Queue>,
    cv: Condvar,
    got: AtomicUsize,
    done: Semaphore,
}

#[embassy_executor::task(pool_size = 3)]
async fn consume(s: &'static Shared) {
    loop {
        let mut g = s.cv.wait_while(s.queue.lock().await, |q| q.len == 0).await;
        match g.pop() {
            Some(_) => s.got.fetch_add(1, Ordering::SeqCst),
            None => break,
        };
    }
    s.done.add_permits(1);
}

/// `wait_while` keeps waiting while the condition holds and returns with
/// the lock once it does not: three consumer tasks take exactly the 60
/// items produced.
async fn condvar_wait_while_producer_consumer(spawner: Spawner) {
    static S: Shared = Shared {
        queue: Mutex::new(Queue { items: [None; 8], len: 0 }),
        cv: Condvar::new(),
        got: AtomicUsize::new(0),
        done: Semaphore::new(0),
    };
    for _ in 0..3 {
        spawner.must_spawn(consume(&S));
    }
    for i in 0..60 {
        until(|| S.queue.try_lock().is_ok_and(|q| q.len < 8)).await;
        S.queue.lock().await.push(Some(i));
        S.cv.notify_one();
        if i % 7 == 0 {
            yield_now().await;
        }
    }
    for _ in 0..3 {
        until(|| S.queue.try_lock().is_ok_and(|q| q.len < 8)).await;
        S.queue.lock().await.push(None);
        S.cv.notify_one();
    }
    S.done.acquire_many(3).await.unwrap().forget();
    assert_eq!(S.got.load(Ordering::SeqCst), 60);
    assert_eq!(S.cv.waiters(), 0);
    assert_eq!(S.queue.try_lock().unwrap().len, 0);
}

/// `notify_one` picks the longest waiter; `notify_all` wakes those waiting
/// at that moment and not one that starts waiting after it.
async fn condvar_fifo_and_notify_all() {
    static M: Mutex<()> = Mutex::new(());
    static CV: Condvar = Condvar::new();
    // Each wait unlocks the mutex on its first poll, so the next one can
    // lock it: build and poll them one after the other.
    let mut first = pin!(CV.wait(M.try_lock().unwrap()));
    assert!(poll_once(first.as_mut()).await.is_pending());
    let mut second = pin!(CV.wait(M.try_lock().unwrap()));
    assert!(poll_once(second.as_mut()).await.is_pending());
    let mut third = pin!(CV.wait(M.try_lock().unwrap()));
    assert!(poll_once(third.as_mut()).await.is_pending());
    assert_eq!(CV.waiters(), 3);
    CV.notify_one();
    drop(first.await); // the longest waiter
    assert!(poll_once(second.as_mut()).await.is_pending(), "only one was notified");
    CV.notify_all();
    let mut late = pin!(CV.wait(M.try_lock().unwrap()));
    assert!(poll_once(late.as_mut()).await.is_pending());
    drop(second.await);
    drop(third.await);
    assert!(poll_once(late.as_mut()).await.is_pending(), "came after notify_all");
    assert_eq!(CV.waiters(), 1);
    CV.notify_one();
    drop(late.await);
    assert!(M.try_lock().is_ok());
}

/// A waiter woken by `notify_all` and dropped before it ran passes nothing
/// on: a waiter that came later stays asleep.
async fn condvar_notify_all_then_drop() {
    static M: Mutex<()> = Mutex::new(());
    static CV: Condvar = Condvar::new();
    let mut w1 = pin!(Some(CV.wait(M.try_lock().unwrap())));
    let w1_fut = w1.as_mut().as_pin_mut().expect("not dropped yet");
    assert!(poll_once(w1_fut).await.is_pending());
    CV.notify_all();
    let mut late = pin!(CV.wait(M.try_lock().unwrap()));
    assert!(poll_once(late.as_mut()).await.is_pending());
    w1.set(None); // woken by notify_all, dropped before it ran
    assert!(poll_once(late.as_mut()).await.is_pending(), "nothing was forwarded");
    assert_eq!(CV.waiters(), 1);
    CV.notify_one();
    drop(late.await);
    assert_eq!(CV.waiters(), 0);
    assert!(M.try_lock().is_ok());
}

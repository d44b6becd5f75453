//! A waker whose `clone` calls back into the primitive it is waiting on,
//! while another waiter is queued: the clone a waiting future makes when it
//! starts waiting runs with the primitive's lock released, so the call
//! back neither deadlocks nor sees the lock held.

use alloc::sync::Arc;
use core::sync::atomic::{AtomicUsize, Ordering};

use crate::{
    sync::{Barrier, Condvar, Event, Mutex, Notify, OnceCell, RwLock, Semaphore},
    util::{
        hostile::{locks_held, Hostile},
        test::TestTask,
    },
};

/// A waker whose `clone` runs `reenter` (a call that takes the
/// primitive's lock) and counts the calls; if the clone runs under a
/// wait-queue lock it counts that instead and does not re-enter (which
/// would deadlock this test rather than fail it).
struct Reentrant {
    hostile: Hostile,
    reentered: Arc<AtomicUsize>,
    refused: Arc<AtomicUsize>,
}

impl Reentrant {
    fn new(reenter: impl Fn() + Send + Sync + 'static) -> Self {
        let hostile = Hostile::new();
        let reentered = Arc::new(AtomicUsize::new(0));
        let refused = Arc::new(AtomicUsize::new(0));
        let (r, f) = (Arc::clone(&reentered), Arc::clone(&refused));
        hostile.on_clone(move || {
            if locks_held() == 0 {
                reenter();
                r.fetch_add(1, Ordering::SeqCst);
            } else {
                f.fetch_add(1, Ordering::SeqCst);
            }
        });
        Self {
            hostile,
            reentered,
            refused,
        }
    }

    /// At least one clone re-entered, and none ran under a lock.
    #[track_caller]
    fn assert_reentered(&self) {
        assert_eq!(
            self.refused.load(Ordering::SeqCst),
            0,
            "cloned under the lock"
        );
        assert_eq!(self.hostile.clones_under_lock(), 0);
        assert!(
            self.reentered.load(Ordering::SeqCst) > 0,
            "the waker was never cloned"
        );
    }
}

#[test]
fn semaphore_acquire_clones_its_waker_outside_the_lock() {
    let sem = Arc::new(Semaphore::new(0));
    let mut first = TestTask::new(sem.acquire());
    first.pending();
    let s = Arc::clone(&sem);
    let w = Reentrant::new(move || assert_eq!(s.statistics().waiters, 1));
    let mut second = TestTask::new(sem.acquire_many(2));
    assert!(second.poll_with(&w.hostile.waker()).is_pending());
    w.assert_reentered();
    sem.add_permits(3);
    drop(first.ready().unwrap());
    assert_eq!(w.hostile.wakes(), 1);
    assert_eq!(second.ready().unwrap().num_permits(), 2);
}

#[test]
fn mutex_lock_clones_its_waker_outside_the_lock() {
    let m = Arc::new(Mutex::new(0));
    let held = m.try_lock().unwrap();
    let mut first = TestTask::new(m.lock());
    first.pending();
    let m2 = Arc::clone(&m);
    let w = Reentrant::new(move || assert_eq!(m2.waiters(), 1));
    let mut second = TestTask::new(Arc::clone(&m).lock_owned());
    assert!(second.poll_with(&w.hostile.waker()).is_pending());
    w.assert_reentered();
    drop(held);
    drop(first.ready());
    assert_eq!(*second.ready(), 0);
}

#[test]
fn rwlock_read_and_upgrade_clone_their_wakers_outside_the_lock() {
    let lock = Arc::new(RwLock::new(0));
    let up = lock.try_upgradable_read().unwrap();
    let read = lock.try_read().unwrap();
    let mut writer = TestTask::new(lock.write());
    writer.pending();
    let l = Arc::clone(&lock);
    let w = Reentrant::new(move || assert!(l.statistics().waiters >= 1));
    let mut reader = TestTask::new(lock.read());
    assert!(reader.poll_with(&w.hostile.waker()).is_pending());
    // The upgrade waits for `read`, queued ahead of the writer.
    let mut upgrade = TestTask::new(crate::sync::RwLockUpgradableReadGuard::upgrade(up));
    assert!(upgrade.poll_with(&w.hostile.waker()).is_pending());
    w.assert_reentered();
    assert_eq!(w.hostile.clones(), 2);
    drop(read);
    assert_eq!(w.hostile.wakes(), 1, "the upgrade, first");
    let mut write = match upgrade.poll_with(&w.hostile.waker()) {
        core::task::Poll::Ready(w) => w,
        core::task::Poll::Pending => panic!("upgrade still pending"),
    };
    *write += 1;
    drop(write);
    drop(writer.ready());
    assert_eq!(*reader.ready(), 1);
}

#[test]
fn notify_notified_clones_its_waker_outside_the_lock() {
    let n = Arc::new(Notify::new());
    let mut first = TestTask::new(n.notified());
    first.pending();
    let n2 = Arc::clone(&n);
    let w = Reentrant::new(move || assert_eq!(n2.waiters(), 1));
    let mut second = TestTask::new(n.notified());
    assert!(second.poll_with(&w.hostile.waker()).is_pending());
    w.assert_reentered();
    n.notify_last();
    assert_eq!(w.hostile.wakes(), 1);
    second.ready();
}

#[test]
fn event_wait_clones_its_waker_outside_the_lock() {
    let e = Arc::new(Event::new());
    let mut first = TestTask::new(e.wait());
    first.pending();
    let e2 = Arc::clone(&e);
    let w = Reentrant::new(move || assert_eq!(e2.waiters(), 1));
    let mut second = TestTask::new(e.wait());
    assert!(second.poll_with(&w.hostile.waker()).is_pending());
    w.assert_reentered();
    e.set();
    assert_eq!(w.hostile.wakes(), 1);
    second.ready();
    first.ready();
}

#[test]
fn barrier_wait_clones_its_waker_outside_the_lock() {
    let b = Arc::new(Barrier::new(3));
    let mut first = TestTask::new(b.wait());
    first.pending();
    let b2 = Arc::clone(&b);
    let w = Reentrant::new(move || assert_eq!(b2.waiters(), 1));
    let mut second = TestTask::new(b.wait());
    assert!(second.poll_with(&w.hostile.waker()).is_pending());
    w.assert_reentered();
    assert_eq!(b.waiters(), 2);
    let mut leader = TestTask::new(b.wait());
    assert!(leader.ready().unwrap().is_leader());
    assert_eq!(w.hostile.wakes(), 1);
    assert!(!second.ready().unwrap().is_leader());
}

#[test]
fn once_cell_get_or_init_and_wait_clone_their_wakers_outside_the_lock() {
    let cell = Arc::new(OnceCell::new());
    let mut running = TestTask::new(cell.get_or_init(core::future::pending::<u8>));
    running.pending();
    let c = Arc::clone(&cell);
    let w = Reentrant::new(move || assert!(c.statistics().initializing));
    let mut queued = TestTask::new(cell.get_or_init(|| async { 1 }));
    assert!(queued.poll_with(&w.hostile.waker()).is_pending());
    let mut waiting = TestTask::new(cell.wait());
    assert!(waiting.poll_with(&w.hostile.waker()).is_pending());
    w.assert_reentered();
    assert_eq!(w.hostile.clones(), 2);
    running.cancel(); // the queued initialiser runs next
    assert_eq!(*queued.ready(), 1);
    assert_eq!(*waiting.ready(), 1);
}

#[test]
fn condvar_wait_clones_its_waker_outside_the_lock() {
    let m = Arc::new(Mutex::new(false));
    let cv = Arc::new(Condvar::new());
    let mut first = TestTask::new(cv.wait(m.try_lock().unwrap()));
    first.pending();
    let cv2 = Arc::clone(&cv);
    let w = Reentrant::new(move || assert!(cv2.waiters() >= 1));
    let mut second = TestTask::new(cv.wait(m.try_lock().unwrap()));
    assert!(second.poll_with(&w.hostile.waker()).is_pending());
    w.assert_reentered();
    cv.notify_all();
    drop(first.ready());
    drop(second.ready());
}

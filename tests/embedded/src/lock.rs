//! Mutex and RwLock: FIFO hand-off, no barging, cancellation before and
//! after the grant, exact counts under contention, and the reader/writer
//! ordering rules.

use core::pin::pin;

use anysync::sync::{Event, Mutex, MutexGuard, RwLock, RwLockUpgradableReadGuard, RwLockWriteGuard, Semaphore};
use embassy_executor::Spawner;
use embassy_futures::{join::join, yield_now};

use crate::harness::{poll_once, run, until, Entries, Log};

/// Runs every scenario of this family.
pub(crate) async fn run_all(spawner: Spawner) {
    run("mutex_fifo_hand_off_serves_tasks_in_arrival_order", mutex_fifo_hand_off(spawner)).await;
    run("mutex_no_barging_after_unlock", mutex_no_barging_after_unlock()).await;
    run("mutex_cancel_before_grant", mutex_cancel_before_grant()).await;
    run("mutex_cancel_after_grant_passes_the_lock_on", mutex_cancel_after_grant()).await;
    run("mutex_stress_counts_exactly", mutex_stress_counts_exactly(spawner)).await;
    run("mutex_holder_dropped_mid_section_releases_the_lock", mutex_holder_dropped_mid_section()).await;
    run("mutex_try_lock_never_waits", mutex_try_lock_never_waits()).await;
    run("mutex_mapped_guard_keeps_the_lock", mutex_mapped_guard()).await;
    run("rwlock_readers_share_and_the_last_one_out_lets_the_writer_in", rwlock_readers_share()).await;
    run("rwlock_queued_writer_is_not_starved_by_new_readers", rwlock_writer_not_starved()).await;
    run("rwlock_cancelled_queued_writer_releases_the_readers_behind_it", rwlock_cancelled_writer()).await;
    run("rwlock_downgrade_is_atomic", rwlock_downgrade_is_atomic()).await;
    run("rwlock_max_readers_bounds_concurrent_reads", rwlock_max_readers()).await;
    run("rwlock_upgradable_read_and_upgrade", rwlock_upgradable_read_and_upgrade()).await;
    run("rwlock_try_upgrade_fails_while_readers_remain", rwlock_try_upgrade()).await;
}

/// Nothing held, nothing waiting, and a write then a read succeed.
fn assert_rwlock_quiescent<T>(lock: &RwLock<T>) {
    let s = lock.statistics();
    assert_eq!((s.readers, s.writer, s.upgradable, s.waiters), (0, false, false, 0));
    drop(lock.try_write().expect("free lock"));
    drop(lock.try_read().expect("free lock"));
}

#[embassy_executor::task(pool_size = 8)]
async fn push_under_lock(log: &'static Mutex<Entries>, value: u8, done: &'static Semaphore) {
    log.lock().await.push(value);
    done.add_permits(1);
}

/// Tasks queued on a held mutex get it in the order they queued.
async fn mutex_fifo_hand_off(spawner: Spawner) {
    static LOG: Mutex<Entries> = Mutex::new(Entries::new());
    static DONE: Semaphore = Semaphore::new(0);
    let guard = LOG.try_lock().unwrap();
    for i in 0..8u8 {
        spawner.must_spawn(push_under_lock(&LOG, i, &DONE));
        until(|| LOG.waiters() == usize::from(i) + 1).await;
    }
    drop(guard);
    DONE.acquire_many(8).await.unwrap().forget();
    assert_eq!(LOG.lock().await.as_slice(), [0, 1, 2, 3, 4, 5, 6, 7]);
    assert_eq!(LOG.waiters(), 0);
}

/// After an unlock with a task queued, a newcomer's `try_lock` fails: the
/// lock went to the queued task.
async fn mutex_no_barging_after_unlock() {
    static M: Mutex<u32> = Mutex::new(0);
    static DONE: Event = Event::new();
    let guard = M.try_lock().unwrap();
    let waiter = async {
        let mut g = M.lock().await;
        *g += 1;
        DONE.wait().await; // hold it until the check below has run
    };
    let checker = async move {
        until(|| M.waiters() == 1).await;
        drop(guard);
        assert!(M.try_lock().is_err(), "the queued task owns the lock now");
        DONE.set();
    };
    join(waiter, checker).await;
    assert_eq!(*M.try_lock().unwrap(), 1);
}

/// A queued lock dropped before the grant leaves the queue; the next waiter
/// gets the lock.
async fn mutex_cancel_before_grant() {
    static M: Mutex<u32> = Mutex::new(0);
    let guard = M.try_lock().unwrap();
    let mut second = pin!(M.lock());
    {
        let first = pin!(M.lock());
        assert!(poll_once(first).await.is_pending());
        assert!(poll_once(second.as_mut()).await.is_pending());
        assert_eq!(M.waiters(), 2);
    } // `first` is dropped here, as `select!` drops a losing branch
    assert_eq!(M.waiters(), 1);
    drop(guard);
    *second.await += 1;
    assert_eq!(*M.try_lock().unwrap(), 1);
    assert_eq!(M.waiters(), 0);
}

/// A waiter granted the lock and dropped before it ran passes the lock on.
async fn mutex_cancel_after_grant() {
    static M: Mutex<u32> = Mutex::new(0);
    let guard = M.try_lock().unwrap();
    let mut second = pin!(M.lock());
    {
        let first = pin!(M.lock());
        assert!(poll_once(first).await.is_pending());
        assert!(poll_once(second.as_mut()).await.is_pending());
        drop(guard); // the lock goes to `first`
        assert!(M.try_lock().is_err(), "handed to `first`, not released");
    } // `first` is dropped before it ran, and passes the lock on
    *second.await += 1;
    assert_eq!(*M.try_lock().unwrap(), 1);
    assert_eq!(M.waiters(), 0);
}

#[embassy_executor::task(pool_size = 8)]
async fn increment_with_await_inside(m: &'static Mutex<u32>, done: &'static Semaphore) {
    for _ in 0..100 {
        let mut g = m.lock().await;
        let read = *g;
        yield_now().await;
        *g = read + 1;
    }
    done.add_permits(1);
}

/// Eight tasks increment under the lock with an await inside the critical
/// section: no update is lost.
async fn mutex_stress_counts_exactly(spawner: Spawner) {
    static M: Mutex<u32> = Mutex::new(0);
    static DONE: Semaphore = Semaphore::new(0);
    for _ in 0..8 {
        spawner.must_spawn(increment_with_await_inside(&M, &DONE));
    }
    DONE.acquire_many(8).await.unwrap().forget();
    assert_eq!(*M.try_lock().unwrap(), 800);
    assert_eq!(M.waiters(), 0);
}

/// `try_lock` on a held mutex fails at once, and joins no queue.
async fn mutex_try_lock_never_waits() {
    static M: Mutex<u32> = Mutex::new(7);
    let g = M.try_lock().unwrap();
    assert!(M.is_locked());
    assert!(M.try_lock().is_err());
    assert_eq!(M.waiters(), 0);
    drop(g);
    assert!(!M.is_locked());
    assert_eq!(*M.try_lock().unwrap(), 7);
}

/// Readers share; a writer gets in once the last reader leaves.
async fn rwlock_readers_share() {
    static LOCK: RwLock<u32> = RwLock::new(0);
    let r1 = LOCK.read().await;
    let r2 = LOCK.read().await;
    let mut writer = pin!(LOCK.write());
    assert!(poll_once(writer.as_mut()).await.is_pending());
    assert_eq!(LOCK.statistics().waiters, 1);
    drop(r1);
    assert!(poll_once(writer.as_mut()).await.is_pending(), "R2 still reads");
    drop(r2);
    *writer.await += 1;
    assert_eq!(*LOCK.read().await, 1);
    assert_rwlock_quiescent(&LOCK);
}

/// A queued writer is not overtaken by a reader that came later.
async fn rwlock_writer_not_starved() {
    static LOCK: RwLock<()> = RwLock::new(());
    static LOG: Log = Log::new();
    let r1 = LOCK.try_read().unwrap();
    let writer = async {
        let _g = LOCK.write().await;
        LOG.push(b'W');
    };
    let late_reader = async {
        until(|| LOCK.statistics().waiters == 1).await;
        let _g = LOCK.read().await;
        LOG.push(b'R');
    };
    let releaser = async move {
        until(|| LOCK.statistics().waiters == 2).await;
        assert!(LOCK.try_read().is_err(), "no reader passes the queued writer");
        drop(r1);
    };
    join(join(writer, late_reader), releaser).await;
    assert_eq!(LOG.get().as_slice(), b"WR");
    assert_rwlock_quiescent(&LOCK);
}

/// Dropping a queued writer lets the readers behind it in at once, while
/// the lock is still read-held.
async fn rwlock_cancelled_writer() {
    static LOCK: RwLock<()> = RwLock::new(());
    let r1 = LOCK.try_read().unwrap();
    let mut readers = [pin!(LOCK.read()), pin!(LOCK.read()), pin!(LOCK.read())];
    {
        let writer = pin!(LOCK.write());
        assert!(poll_once(writer).await.is_pending());
        for r in &mut readers {
            assert!(poll_once(r.as_mut()).await.is_pending(), "behind the writer");
        }
        assert_eq!(LOCK.statistics().waiters, 4);
    } // the queued writer is dropped here
    for r in readers {
        drop(r.await); // all in although R1 still reads
    }
    assert_eq!(LOCK.statistics().readers, 1);
    drop(r1);
    assert_rwlock_quiescent(&LOCK);
}

/// A downgrade lets the queued reader in and keeps the queued writer out
/// until the downgraded guard goes.
async fn rwlock_downgrade_is_atomic() {
    static LOCK: RwLock<u32> = RwLock::new(0);
    let mut w = LOCK.write().await;
    let mut reader = pin!(LOCK.read());
    let mut writer = pin!(LOCK.write());
    assert!(poll_once(reader.as_mut()).await.is_pending());
    assert!(poll_once(writer.as_mut()).await.is_pending());
    *w = 1;
    let r = RwLockWriteGuard::downgrade(w);
    assert_eq!(*reader.await, 1);
    assert!(poll_once(writer.as_mut()).await.is_pending(), "the writer still waits");
    assert_eq!(LOCK.statistics().waiters, 1);
    assert_eq!(*r, 1);
    drop(r);
    *writer.await = 2;
    assert_eq!(*LOCK.read().await, 2);
    assert_rwlock_quiescent(&LOCK);
}

/// With `with_max_readers(2)` the third reader waits for one of the first
/// two.
async fn rwlock_max_readers() {
    static LOCK: RwLock<()> = RwLock::with_max_readers((), 2);
    let a = LOCK.read().await;
    let _b = LOCK.read().await;
    let mut third = pin!(LOCK.read());
    assert!(poll_once(third.as_mut()).await.is_pending());
    assert!(LOCK.try_read().is_err());
    drop(a);
    drop(third.await);
}

/// An upgradable read coexists with readers, a second upgradable waits
/// without holding readers back, and the upgrade waits for the readers to
/// leave without being starved by new ones.
async fn rwlock_upgradable_read_and_upgrade() {
    static LOCK: RwLock<u32> = RwLock::new(0);
    let up = LOCK.upgradable_read().await;
    let r1 = LOCK.read().await;
    let mut up2 = pin!(LOCK.upgradable_read());
    assert!(poll_once(up2.as_mut()).await.is_pending());
    // A plain reader that comes after the waiting upgradable gets in.
    drop(LOCK.read().await);
    let mut upgrade = pin!(RwLockUpgradableReadGuard::upgrade(up));
    assert!(poll_once(upgrade.as_mut()).await.is_pending(), "R1 still reads");
    // New readers queue behind the upgrade.
    assert!(LOCK.try_read().is_err());
    let mut late = pin!(LOCK.read());
    assert!(poll_once(late.as_mut()).await.is_pending());
    assert_eq!(LOCK.statistics().waiters, 3);
    drop(r1);
    let mut w = upgrade.await;
    *w += 1;
    assert!(poll_once(late.as_mut()).await.is_pending(), "the writer holds it");
    drop(w);
    assert_eq!(*late.await, 1);
    assert_eq!(*up2.await, 1);
    assert_rwlock_quiescent(&LOCK);
}

/// `try_upgrade` fails at once, handing the upgradable guard back, while a
/// reader remains; it succeeds once the reader is gone.
async fn rwlock_try_upgrade() {
    static LOCK: RwLock<u32> = RwLock::new(0);
    let up = LOCK.upgradable_read().await;
    let reader = LOCK.read().await;
    let up = RwLockUpgradableReadGuard::try_upgrade(up).expect_err("a reader remains");
    drop(reader);
    let mut w = RwLockUpgradableReadGuard::try_upgrade(up).expect("no reader left");
    *w = 3;
    drop(w);
    assert_eq!(*LOCK.read().await, 3);
    assert_rwlock_quiescent(&LOCK);
}

/// A guard mapped to part of the data keeps the mutex locked until it goes.
async fn mutex_mapped_guard() {
    static M: Mutex<(u32, u32)> = Mutex::new((1, 2));
    let g = M.lock().await;
    let mut second = MutexGuard::map(g, |pair| &mut pair.1);
    *second += 40;
    assert!(M.try_lock().is_err(), "still locked through the mapped guard");
    drop(second);
    assert_eq!(*M.try_lock().unwrap(), (1, 42));
}

/// A future that holds the guard across an await and is dropped there
/// releases the lock, and the next waiter gets it.
async fn mutex_holder_dropped_mid_section() {
    static M: Mutex<u32> = Mutex::new(0);
    static NEVER: Event = Event::new();
    let mut next = pin!(M.lock());
    {
        let holder = pin!(async {
            let mut g = M.lock().await;
            *g += 1;
            NEVER.wait().await; // holds the guard here
            *g += 100;
        });
        assert!(poll_once(holder).await.is_pending());
        assert!(M.is_locked());
        assert!(poll_once(next.as_mut()).await.is_pending());
    } // the holder is dropped mid-section
    *next.await += 1;
    assert_eq!(*M.try_lock().unwrap(), 2);
}

//! The wait queue's lock: exclusion, release on panic, and (with `std`) the
//! lock word's sleepers. The lock word's loom models are in `tests/loom.rs`.

#[cfg(feature = "std")]
mod loom;

use core::cell::Cell;

use static_assertions::{assert_impl_all, assert_not_impl_any};

use crate::waitq::lock::{Guard, Lock};

// `Lock` is `Sync` for any `T: Send`, as std's mutex is; its guard stays on
// the thread that took it, and shares `&T` only where `T: Sync`.
assert_impl_all!(Lock<Cell<u8>>: Send, Sync, core::panic::RefUnwindSafe);
assert_not_impl_any!(Lock<*const u8>: Send, Sync);
assert_not_impl_any!(Guard<'static, u8>: Send);
assert_not_impl_any!(Guard<'static, Cell<u8>>: Sync);
assert_impl_all!(Guard<'static, u8>: Sync);

/// A counter that only the lock word guards, shared by the tests here and
/// the loom models.
#[cfg(feature = "std")]
pub(super) mod counted {
    use crate::{loom::cell::UnsafeCell, waitq::lock::raw::RawLock};

    pub(crate) struct Counted {
        pub(crate) lock: RawLock,
        count: UnsafeCell<u32>,
    }

    // SAFETY: `count` is only touched with `lock` held (`add_one`, `count`).
    unsafe impl Sync for Counted {}

    impl Counted {
        pub(crate) fn new() -> Self {
            Self {
                lock: RawLock::new(),
                count: UnsafeCell::new(0),
            }
        }

        pub(crate) fn add_one(&self) {
            self.lock.lock();
            // SAFETY: the lock is held, so no other access to the cell runs.
            self.count.with_mut(|count| unsafe { *count += 1 });
            // SAFETY: this thread took the lock just above.
            unsafe { self.lock.unlock() };
        }

        pub(crate) fn count(&self) -> u32 {
            self.lock.lock();
            // SAFETY: the lock is held.
            let count = self.count.with(|count| unsafe { *count });
            // SAFETY: this thread took the lock just above.
            unsafe { self.lock.unlock() };
            count
        }
    }

    /// Waits, without sleeping itself, until `lock` is marked as slept on
    /// and `n` threads are inside their wait on its table entry: from
    /// then on, only a release's notify lets them go.
    pub(crate) fn until_asleep(lock: &RawLock, n: usize) {
        while !(lock.has_sleepers() && lock.asleep_on_entry() >= n) {
            crate::loom::thread::yield_now();
        }
    }
}

#[cfg(all(feature = "std", not(anysync_loom)))]
mod word {
    use alloc::{sync::Arc, vec::Vec};
    use core::time::Duration;
    use std::{
        sync::mpsc::{channel, Receiver},
        thread,
    };

    use super::counted::{until_asleep, Counted};

    /// Runs `f` on a new thread; the receiver gets `()` when it is done.
    fn spawn(f: impl FnOnce() + Send + 'static) -> Receiver<()> {
        let (done, finished) = channel();
        thread::spawn(move || {
            f();
            let _ = done.send(());
        });
        finished
    }

    /// A watchdog, not a pause: a lost wake-up fails the test instead of
    /// hanging it.
    fn finishes(finished: &Receiver<()>) {
        finished
            .recv_timeout(Duration::from_secs(60))
            .expect("a thread waiting for the lock was never woken");
    }

    #[test]
    fn a_thread_asleep_on_the_word_takes_the_lock_at_its_release() {
        let counted = Arc::new(Counted::new());
        counted.lock.lock();
        let sleeper = {
            let counted = Arc::clone(&counted);
            spawn(move || counted.add_one())
        };
        until_asleep(&counted.lock, 1);
        // SAFETY: this thread took the lock above.
        unsafe { counted.lock.unlock() };
        finishes(&sleeper);
        assert_eq!(counted.count(), 1);
        assert!(!counted.lock.is_locked());
    }

    #[test]
    fn locks_that_share_a_table_entry_wake_only_into_their_own_lock() {
        // Two locks whose sleepers share a table entry: a release of one
        // wakes the other's sleeper too, which must sleep again.
        let locks: Vec<_> = (0..130).map(|_| Arc::new(Counted::new())).collect();
        let (a, b) = (0..locks.len())
            .flat_map(|i| (i + 1..locks.len()).map(move |j| (i, j)))
            .find(|&(i, j)| locks[i].lock.table_entry() == locks[j].lock.table_entry())
            .map(|(i, j)| (Arc::clone(&locks[i]), Arc::clone(&locks[j])))
            .expect("130 locks over 64 entries share one");
        a.lock.lock();
        b.lock.lock();
        let on_a = {
            let a = Arc::clone(&a);
            spawn(move || a.add_one())
        };
        let on_b = {
            let b = Arc::clone(&b);
            spawn(move || b.add_one())
        };
        until_asleep(&a.lock, 2);
        until_asleep(&b.lock, 2);
        // SAFETY: this thread took both locks above.
        unsafe { a.lock.unlock() };
        finishes(&on_a);
        assert!(b.lock.is_locked() && b.lock.has_sleepers());
        assert!(on_b.try_recv().is_err(), "took a lock that was held");
        // SAFETY: as above.
        unsafe { b.lock.unlock() };
        finishes(&on_b);
        assert_eq!((a.count(), b.count()), (1, 1));
    }
}

#[cfg(not(anysync_loom))]
mod lock {
    use alloc::{sync::Arc, vec::Vec};
    use std::thread;

    use crate::{util::hostile::panics, waitq::lock::Lock};

    #[test]
    fn threads_that_contend_for_the_lock_lose_no_update() {
        let rounds = if cfg!(miri) { 50 } else { 20_000 };
        let lock = Arc::new(Lock::new(0_u64));
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let lock = Arc::clone(&lock);
                thread::spawn(move || {
                    for _ in 0..rounds {
                        // Read and write in two steps, so that a second
                        // holder in between would lose an update.
                        let mut guard = lock.lock();
                        let seen = *guard;
                        *guard = seen + 1;
                    }
                })
            })
            .collect();
        for thread in threads {
            thread.join().unwrap();
        }
        assert_eq!(*lock.lock(), 4 * rounds);
    }

    #[test]
    fn a_panic_with_the_lock_held_releases_it_and_keeps_the_data() {
        let lock = Lock::new(7_u32);
        assert!(panics(|| {
            let mut guard = lock.lock();
            *guard += 1;
            panic!("user code under the lock");
        }));
        // Free again, no poisoning: the next holder sees the last write.
        assert!(!lock.is_locked());
        assert_eq!(*lock.lock(), 8);
    }
}

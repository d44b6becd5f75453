//! The wait queue's lock: exclusion, release on panic, and (with `std`) the
//! lock word's sleepers. Loom models of the word are here too.

#[cfg(feature = "std")]
mod word {
    use crate::{
        loom::{self, cell::UnsafeCell, sync::Arc, thread},
        waitq::lock::raw::RawLock,
    };

    /// A counter that only the lock guards: loom reports any two
    /// unsynchronised accesses to the cell.
    struct Counted {
        lock: RawLock,
        count: UnsafeCell<u32>,
    }

    // SAFETY: `count` is only touched with `lock` held (`add_one`).
    unsafe impl Sync for Counted {}

    impl Counted {
        fn new() -> Self {
            Self {
                lock: RawLock::new(),
                count: UnsafeCell::new(0),
            }
        }

        fn add_one(&self) {
            self.lock.lock();
            // SAFETY: the lock is held, so no other access to the cell runs.
            self.count.with_mut(|count| unsafe { *count += 1 });
            // SAFETY: this thread took the lock just above.
            unsafe { self.lock.unlock() };
        }

        fn count(&self) -> u32 {
            self.lock.lock();
            // SAFETY: the lock is held.
            let count = self.count.with(|count| unsafe { *count });
            // SAFETY: this thread took the lock just above.
            unsafe { self.lock.unlock() };
            count
        }
    }

    /// Waits, without sleeping, until `lock` says a thread sleeps on it:
    /// the other thread has run out of spinning and announced itself.
    fn until_someone_sleeps_on(lock: &RawLock) {
        while !lock.has_sleepers() {
            thread::yield_now();
        }
    }

    #[test]
    fn loom_the_word_excludes_and_wakes_whoever_sleeps() {
        loom::model(|| {
            let counted = Arc::new(Counted::new());
            let others: alloc::vec::Vec<_> = (0..2)
                .map(|_| {
                    let counted = Arc::clone(&counted);
                    thread::spawn(move || counted.add_one())
                })
                .collect();
            counted.add_one();
            for other in others {
                other.join().unwrap();
            }
            assert_eq!(counted.count(), 3);
            assert!(!counted.lock.is_locked());
        });
    }

    // Under loom every lock sleeps on the same table entry, so a release
    // of one lock also wakes the sleepers of the other, who must go back
    // to sleep rather than take a lock that is not free; and a release that
    // woke only one sleeper of the entry could pick the wrong one.
    #[test]
    fn loom_two_locks_that_share_an_entry_each_wake_their_own() {
        loom::model(|| {
            let a = Arc::new(Counted::new());
            let b = Arc::new(Counted::new());
            a.lock.lock();
            b.lock.lock();
            let on_a = {
                let a = Arc::clone(&a);
                thread::spawn(move || a.add_one())
            };
            let on_b = {
                let b = Arc::clone(&b);
                thread::spawn(move || b.add_one())
            };
            until_someone_sleeps_on(&a.lock);
            until_someone_sleeps_on(&b.lock);
            // SAFETY: this thread took both locks above.
            unsafe { a.lock.unlock() };
            on_a.join().unwrap();
            // SAFETY: as above.
            unsafe { b.lock.unlock() };
            on_b.join().unwrap();
            assert_eq!((a.count(), b.count()), (1, 1));
        });
    }

    #[cfg(not(anysync_loom))]
    #[test]
    fn a_thread_asleep_on_the_word_takes_the_lock_at_its_release() {
        let counted = Arc::new(Counted::new());
        counted.lock.lock();
        let sleeper = {
            let counted = Arc::clone(&counted);
            thread::spawn(move || counted.add_one())
        };
        until_someone_sleeps_on(&counted.lock);
        // SAFETY: this thread took the lock above.
        unsafe { counted.lock.unlock() };
        sleeper.join().unwrap();
        assert_eq!(counted.count(), 1);
        assert!(!counted.lock.is_locked());
    }

    #[cfg(not(anysync_loom))]
    #[test]
    fn locks_that_share_a_table_entry_wake_only_into_their_own_lock() {
        // Two locks whose sleepers share a table entry: a release of one
        // wakes the other's sleeper too, which must sleep again.
        let locks: alloc::vec::Vec<_> = (0..130).map(|_| Arc::new(Counted::new())).collect();
        let (a, b) = (0..locks.len())
            .flat_map(|i| (i + 1..locks.len()).map(move |j| (i, j)))
            .find(|&(i, j)| locks[i].lock.table_entry() == locks[j].lock.table_entry())
            .map(|(i, j)| (Arc::clone(&locks[i]), Arc::clone(&locks[j])))
            .expect("130 locks over 64 entries share one");
        a.lock.lock();
        b.lock.lock();
        let on_a = {
            let a = Arc::clone(&a);
            thread::spawn(move || a.add_one())
        };
        let on_b = {
            let b = Arc::clone(&b);
            thread::spawn(move || b.add_one())
        };
        until_someone_sleeps_on(&a.lock);
        until_someone_sleeps_on(&b.lock);
        // SAFETY: this thread took both locks above.
        unsafe { a.lock.unlock() };
        on_a.join().unwrap();
        assert!(b.lock.is_locked() && b.lock.has_sleepers());
        assert!(!on_b.is_finished());
        // SAFETY: as above.
        unsafe { b.lock.unlock() };
        on_b.join().unwrap();
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
        assert_eq!(*lock.lock(), 8);
    }
}

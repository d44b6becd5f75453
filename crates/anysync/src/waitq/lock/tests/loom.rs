//! Loom models of the lock word. Under loom every lock sleeps on the same
//! table entry, so these also cover two locks that share one.

use super::counted::{until_asleep, Counted};
use crate::loom::{self, sync::Arc, thread};

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

// A release of one lock also wakes the sleepers of the other, who must go
// back to sleep rather than take a lock that is not free; and a release
// that woke only one sleeper of the entry could pick the wrong one (the
// model deadlocks with `notify_one`).
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
        // Under loom both sleep on the one entry; run for real, the two
        // locks are most likely on different entries.
        until_asleep(&a.lock, 1);
        until_asleep(&b.lock, if cfg!(anysync_loom) { 2 } else { 1 });
        // SAFETY: this thread took both locks above.
        unsafe { a.lock.unlock() };
        on_a.join().unwrap();
        // SAFETY: as above.
        unsafe { b.lock.unlock() };
        on_b.join().unwrap();
        assert_eq!((a.count(), b.count()), (1, 1));
    });
}

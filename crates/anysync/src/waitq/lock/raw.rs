//! The lock word under [`Lock`](super::Lock): one byte, taken with one
//! compare-and-swap and released with one swap.
//!
//! With `std`, a thread that finds the word taken spins for a few rounds and
//! then sleeps in a shared table of condition variables, like a futex: the
//! word says whether anyone may be asleep, so a release without sleepers
//! touches nothing but the word. There is no poisoning to check (see the
//! parent module for why nothing here needs it), and
//! the lock is one byte (`std::sync::Mutex` is five where it is a futex).
//!
//! Without `std` the same word is a test-and-test-and-set spin lock.
//!
//! # The protocol
//!
//! | value      | meaning                                           |
//! |------------|---------------------------------------------------|
//! | `UNLOCKED` | free                                              |
//! | `LOCKED`   | held, and nobody has gone to sleep since it was taken |
//! | `SLEEPY`   | held, and a thread may be asleep waiting for it (`std` only) |
//!
//! A thread about to sleep first swaps in `SLEEPY`. If the swap returns
//! `UNLOCKED`, the lock is its own (still marked `SLEEPY`, since others may
//! sleep too). Otherwise it sleeps until the word is no longer `SLEEPY`,
//! checking that under its table entry's mutex. A release swaps in
//! `UNLOCKED`, and if it took `SLEEPY` out, takes the same mutex and wakes
//! every sleeper of the entry. Either the sleeper checks after the release
//! (and sees `UNLOCKED`), or it is asleep before the releaser can take the
//! mutex (and is woken): no wake-up is lost.

use crate::loom::sync::atomic::{
    AtomicU8,
    Ordering::{Acquire, Relaxed, Release},
};

const UNLOCKED: u8 = 0;
const LOCKED: u8 = 1;
#[cfg(feature = "std")]
const SLEEPY: u8 = 2;

/// A one-byte lock with no data; [`Lock`](super::Lock) pairs it with the
/// data it guards.
pub(crate) struct RawLock {
    state: AtomicU8,
}

impl RawLock {
    #[cfg(not(anysync_loom))]
    pub(crate) const fn new() -> Self {
        Self {
            state: AtomicU8::new(UNLOCKED),
        }
    }

    #[cfg(anysync_loom)]
    pub(crate) fn new() -> Self {
        Self {
            state: AtomicU8::new(UNLOCKED),
        }
    }

    /// Takes the lock, waiting for it if another thread holds it.
    #[inline]
    pub(crate) fn lock(&self) {
        if self
            .state
            .compare_exchange_weak(UNLOCKED, LOCKED, Acquire, Relaxed)
            .is_err()
        {
            self.lock_contended();
        }
    }

    /// Releases the lock.
    ///
    /// # Safety
    ///
    /// The calling thread took the lock with [`lock`](Self::lock) and has
    /// not released it since.
    #[inline]
    pub(crate) unsafe fn unlock(&self) {
        #[cfg(feature = "std")]
        if self.state.swap(UNLOCKED, Release) == SLEEPY {
            park::wake(&self.state);
        }
        #[cfg(not(feature = "std"))]
        self.state.store(UNLOCKED, Release);
    }

    /// Whether the lock is held now (tests only; a snapshot).
    #[cfg(test)]
    pub(crate) fn is_locked(&self) -> bool {
        self.state.load(Relaxed) != UNLOCKED
    }

    /// Whether a thread has announced that it sleeps, or is about to,
    /// waiting for this lock (tests only; a snapshot).
    #[cfg(all(test, feature = "std"))]
    pub(crate) fn has_sleepers(&self) -> bool {
        self.state.load(Relaxed) == SLEEPY
    }

    /// How many threads sleep now on this lock's entry of the sleep table,
    /// this lock's and any other's that shares the entry (tests only).
    #[cfg(all(test, feature = "std"))]
    pub(crate) fn asleep_on_entry(&self) -> usize {
        park::asleep(&self.state)
    }

    /// Which entry of the sleep table this lock's sleepers use (tests only).
    #[cfg(all(test, feature = "std", not(anysync_loom)))]
    pub(crate) fn table_entry(&self) -> usize {
        park::index(&self.state)
    }

    #[cold]
    #[cfg(feature = "std")]
    fn lock_contended(&self) {
        // The lock is held for a few pointer writes, so spinning briefly
        // usually finds it free; yielding then gives a holder that was
        // preempted its core back before anyone sleeps.
        let mut round = 0;
        loop {
            let state = self.state.load(Relaxed);
            if state == UNLOCKED {
                // Taking the lock as `LOCKED` here may hide that others
                // still sleep: the release that made it `UNLOCKED` woke
                // every sleeper of the entry, and each swaps `SLEEPY`
                // back in before it sleeps again.
                if self
                    .state
                    .compare_exchange_weak(UNLOCKED, LOCKED, Acquire, Relaxed)
                    .is_ok()
                {
                    return;
                }
                continue;
            }
            // Once someone sleeps, spinning only delays joining the line.
            if state == SLEEPY || round == park::SPIN_ROUNDS {
                break;
            }
            park::back_off(round);
            round += 1;
        }
        while self.state.swap(SLEEPY, Acquire) != UNLOCKED {
            park::sleep(&self.state, SLEEPY);
        }
    }

    #[cold]
    #[cfg(not(feature = "std"))]
    fn lock_contended(&self) {
        loop {
            while self.state.load(Relaxed) != UNLOCKED {
                crate::loom::hint::spin_loop();
            }
            if self
                .state
                .compare_exchange_weak(UNLOCKED, LOCKED, Acquire, Relaxed)
                .is_ok()
            {
                return;
            }
        }
    }
}

/// Where contended threads sleep: a fixed table of mutex and condition
/// variable pairs, shared by every lock, picked by the lock word's address.
/// Two locks may share an entry, so a release wakes every sleeper of its
/// entry and each checks its own word again.
#[cfg(feature = "std")]
mod park {
    use crate::loom::sync::atomic::{AtomicU8, Ordering::Relaxed};

    #[cfg(not(anysync_loom))]
    use std::sync::{Condvar, Mutex};

    #[cfg(anysync_loom)]
    use crate::loom::sync::{Condvar, Mutex};

    /// Rounds of spinning and yielding before a thread sleeps: three of
    /// busy-waiting (2, 4 and 8 pauses), then yields. Loom models one, to
    /// keep the number of interleavings small.
    #[cfg(not(anysync_loom))]
    pub(super) const SPIN_ROUNDS: u32 = 10;
    #[cfg(anysync_loom)]
    pub(super) const SPIN_ROUNDS: u32 = 1;

    struct Entry {
        mutex: Mutex<()>,
        sleepers: Condvar,
        /// Threads inside `wait` on `sleepers` (tests only): counted under
        /// `mutex`, so a thread counted here is woken only by a notify.
        #[cfg(test)]
        asleep: crate::loom::sync::atomic::AtomicUsize,
    }

    #[cfg(not(anysync_loom))]
    const ENTRIES: usize = 64;

    #[cfg(not(anysync_loom))]
    static TABLE: [Entry; ENTRIES] = [const {
        Entry {
            mutex: Mutex::new(()),
            sleepers: Condvar::new(),
            #[cfg(test)]
            asleep: crate::loom::sync::atomic::AtomicUsize::new(0),
        }
    }; ENTRIES];

    #[cfg(not(anysync_loom))]
    pub(super) fn index(word: &AtomicU8) -> usize {
        // Fibonacci hashing: the top bits of the address times 2^N / phi
        // (N the pointer width) spread neighbouring locks apart.
        const PHI: usize = if usize::BITS == 64 {
            0x9E37_79B9_7F4A_7C15_u64 as usize
        } else {
            0x9E37_79B9
        };
        let address = word as *const AtomicU8 as usize;
        let hash = address.wrapping_mul(PHI);
        hash >> (usize::BITS - ENTRIES.trailing_zeros())
    }

    #[cfg(not(anysync_loom))]
    fn entry(word: &AtomicU8) -> &'static Entry {
        &TABLE[index(word)]
    }

    // Under loom, every lock shares one entry: the table cannot be a
    // static there (loom's objects belong to one execution), and one entry
    // is the case where a wake-up meant for another lock arrives.
    #[cfg(anysync_loom)]
    loom::lazy_static!(
        static ref ENTRY: Entry = Entry {
            mutex: Mutex::new(()),
            sleepers: Condvar::new(),
            #[cfg(test)]
            asleep: crate::loom::sync::atomic::AtomicUsize::new(0),
        };
    );

    #[cfg(anysync_loom)]
    fn entry(_: &AtomicU8) -> &'static Entry {
        &ENTRY
    }

    /// Sleeps until woken, unless `word` is no longer `while_is` when
    /// checked under the entry's mutex. May return early; callers check
    /// again.
    pub(super) fn sleep(word: &AtomicU8, while_is: u8) {
        let entry = entry(word);
        // Nothing panics while an entry's mutex is held, so it is never
        // poisoned; ignore poisoning all the same rather than unwrap.
        let guard = entry
            .mutex
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if word.load(Relaxed) == while_is {
            #[cfg(test)]
            entry.asleep.fetch_add(1, Relaxed);
            let guard = entry
                .sleepers
                .wait(guard)
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            #[cfg(test)]
            entry.asleep.fetch_sub(1, Relaxed);
            drop(guard);
        }
    }

    /// How many threads sleep on `word`'s entry now (tests only). Once a
    /// thread is counted, only a release's notify wakes it (or a spurious
    /// wake-up, after which it checks the word again).
    #[cfg(test)]
    pub(super) fn asleep(word: &AtomicU8) -> usize {
        let entry = entry(word);
        let _guard = entry
            .mutex
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        entry.asleep.load(Relaxed)
    }

    /// Wakes every thread asleep on `word`'s entry. The caller has already
    /// changed `word`; taking the mutex orders that change before any
    /// sleeper's check, or after its sleep began.
    #[cold]
    pub(super) fn wake(word: &AtomicU8) {
        let entry = entry(word);
        drop(
            entry
                .mutex
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        );
        entry.sleepers.notify_all();
    }

    /// One round of waiting before the next look at the word.
    pub(super) fn back_off(round: u32) {
        if round < 3 {
            for _ in 0..(2 << round) {
                crate::loom::hint::spin_loop();
            }
        } else {
            #[cfg(not(anysync_loom))]
            std::thread::yield_now();
            #[cfg(anysync_loom)]
            crate::loom::thread::yield_now();
        }
    }
}

//! The short blocking lock that guards a wait queue's list and state.
//!
//! It is held only for a handful of pointer writes and never while a waker
//! runs. Which lock is used is chosen at compile time:
//!
//! | configuration                     | lock                                   |
//! |-----------------------------------|----------------------------------------|
//! | `--cfg anysync_loom`              | `loom::sync::Mutex`                    |
//! | feature `std`                     | `std::sync::Mutex` (poisoning ignored) |
//! | feature `critical-section`        | a critical section per hold            |
//! | neither (bare `no_std`)           | a test-and-test-and-set spin lock      |
//!
//! The spin lock is correct on any target with compare-and-swap, but on a
//! single core it can deadlock if an interrupt handler touches a primitive
//! that the interrupted code was in the middle of using. Firmware that uses
//! anysync from interrupt handlers must enable `critical-section`.

#[cfg(anysync_loom)]
mod imp {
    pub(crate) struct Lock<T>(loom::sync::Mutex<T>);
    pub(crate) type Guard<'a, T> = loom::sync::MutexGuard<'a, T>;

    impl<T> Lock<T> {
        pub(crate) fn new(data: T) -> Self {
            Self(loom::sync::Mutex::new(data))
        }

        pub(crate) fn lock(&self) -> Guard<'_, T> {
            #[cfg(test)]
            super::count_take();
            self.0.lock().unwrap()
        }
    }
}

#[cfg(all(not(anysync_loom), feature = "std"))]
mod imp {

    use core::ops::{Deref, DerefMut};

    pub(crate) struct Lock<T>(std::sync::Mutex<T>);

    /// The held lock. A thin wrapper, so that the test-only lock detector
    /// ([`held`](super::held)) can count holds without a cost elsewhere.
    pub(crate) struct Guard<'a, T>(std::sync::MutexGuard<'a, T>);

    impl<T> Lock<T> {
        pub(crate) const fn new(data: T) -> Self {
            Self(std::sync::Mutex::new(data))
        }

        #[inline]
        pub(crate) fn lock(&self) -> Guard<'_, T> {
            // Poisoning cannot tell us anything here. The foreign code run
            // while this lock is held is `Waker::clone`, which every caller
            // runs before changing anything, and a `PriorityQueue` item's
            // `Ord`, whose panic the queue repairs before the lock is
            // released; so the data is never left half-updated. (A clone or
            // an `Ord` that re-enters the same primitive would deadlock.)
            let guard = self
                .0
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            #[cfg(any(test, feature = "test-util"))]
            super::HELD.with(|held| held.set(held.get() + 1));
            #[cfg(test)]
            super::count_take();
            Guard(guard)
        }
    }

    #[cfg(any(test, feature = "test-util"))]
    impl<T> Drop for Guard<'_, T> {
        fn drop(&mut self) {
            super::HELD.with(|held| held.set(held.get() - 1));
        }
    }

    impl<T> Deref for Guard<'_, T> {
        type Target = T;
        #[inline(always)]
        fn deref(&self) -> &T {
            &self.0
        }
    }

    impl<T> DerefMut for Guard<'_, T> {
        #[inline(always)]
        fn deref_mut(&mut self) -> &mut T {
            &mut self.0
        }
    }
}

#[cfg(all(not(anysync_loom), feature = "std", any(test, feature = "test-util")))]
std::thread_local!(
    static HELD: core::cell::Cell<usize> = const { core::cell::Cell::new(0) };
);

// Test builds link `std` with or without the feature (see the crate root),
// so every lock, the spin lock and the critical section included, counts.
#[cfg(test)]
std::thread_local!(
    static TAKEN: core::cell::Cell<usize> = const { core::cell::Cell::new(0) };
);

#[cfg(test)]
#[inline]
fn count_take() {
    TAKEN.with(|taken| taken.set(taken.get() + 1));
}

/// How many wait-queue locks this thread holds now (test builds with `std`
/// only; elsewhere always 0). Lets tests catch a waker that is woken or
/// dropped under a primitive's internal lock.
#[cfg(any(test, feature = "test-util"))]
pub(crate) fn held() -> usize {
    #[cfg(all(not(anysync_loom), feature = "std"))]
    return HELD.with(core::cell::Cell::get);
    #[cfg(not(all(not(anysync_loom), feature = "std")))]
    0
}

/// How many times this thread has taken a wait-queue lock, whichever lock
/// the build uses (test builds only). Lets tests check that a path meant
/// to be lock-free takes no lock.
#[cfg(test)]
pub(crate) fn taken() -> usize {
    TAKEN.with(core::cell::Cell::get)
}

#[cfg(all(not(anysync_loom), not(feature = "std")))]
mod imp {
    use core::ops::{Deref, DerefMut};

    use crate::loom::cell::UnsafeCell;
    #[cfg(not(feature = "critical-section"))]
    use crate::loom::sync::atomic::{AtomicBool, Ordering};

    pub(crate) struct Lock<T> {
        #[cfg(not(feature = "critical-section"))]
        locked: AtomicBool,
        data: UnsafeCell<T>,
    }

    // SAFETY: `data` is only reached through a `Guard`, and at most one guard
    // exists at a time (the spin flag or the critical section ensures it).
    unsafe impl<T: Send> Sync for Lock<T> {}
    // SAFETY: moving the lock moves the `T`; no thread-bound state is held.
    unsafe impl<T: Send> Send for Lock<T> {}

    pub(crate) struct Guard<'a, T> {
        lock: &'a Lock<T>,
        #[cfg(feature = "critical-section")]
        restore: critical_section::RestoreState,
    }

    impl<T> Lock<T> {
        pub(crate) const fn new(data: T) -> Self {
            Self {
                #[cfg(not(feature = "critical-section"))]
                locked: AtomicBool::new(false),
                data: UnsafeCell::new(data),
            }
        }

        #[cfg(not(feature = "critical-section"))]
        #[inline]
        pub(crate) fn lock(&self) -> Guard<'_, T> {
            loop {
                if self
                    .locked
                    .compare_exchange_weak(false, true, Ordering::Acquire, Ordering::Relaxed)
                    .is_ok()
                {
                    #[cfg(test)]
                    super::count_take();
                    return Guard { lock: self };
                }
                while self.locked.load(Ordering::Relaxed) {
                    crate::loom::hint::spin_loop();
                }
            }
        }

        #[cfg(feature = "critical-section")]
        #[inline]
        pub(crate) fn lock(&self) -> Guard<'_, T> {
            // SAFETY: the matching `release` runs in `Guard::drop` with this
            // state; guards are dropped in reverse order of creation because
            // each lives in a lexical scope of the wait queue code.
            let restore = unsafe { critical_section::acquire() };
            #[cfg(test)]
            super::count_take();
            Guard {
                lock: self,
                restore,
            }
        }
    }

    impl<T> Drop for Guard<'_, T> {
        fn drop(&mut self) {
            #[cfg(not(feature = "critical-section"))]
            self.lock.locked.store(false, Ordering::Release);
            // SAFETY: `restore` came from the `acquire` in `Lock::lock`, and
            // this guard is the only owner of it.
            #[cfg(feature = "critical-section")]
            unsafe {
                critical_section::release(self.restore)
            };
        }
    }

    impl<T> Deref for Guard<'_, T> {
        type Target = T;
        fn deref(&self) -> &T {
            // SAFETY: holding the guard means we hold the lock, so no `&mut`
            // to the data exists elsewhere.
            self.lock.data.with(|p| unsafe { &*p })
        }
    }

    impl<T> DerefMut for Guard<'_, T> {
        fn deref_mut(&mut self) -> &mut T {
            // SAFETY: holding the guard (uniquely borrowed here) means we hold
            // the lock, so this is the only reference to the data.
            self.lock.data.with_mut(|p| unsafe { &mut *p })
        }
    }
}

pub(crate) use imp::{Guard, Lock};

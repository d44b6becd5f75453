//! The short blocking lock that guards a wait queue's list and state.
//!
//! It is held only for a handful of pointer writes and never while a waker
//! runs. Which lock is used is chosen at compile time:
//!
//! | configuration                     | lock                                   |
//! |-----------------------------------|----------------------------------------|
//! | `--cfg anysync_loom`              | `loom::sync::Mutex`                    |
//! | feature `std`                     | a one-byte lock that spins, then sleeps ([`raw`]) |
//! | `critical-section` without `std`  | a critical section per hold            |
//! | neither (bare `no_std`)           | the same byte as a spin lock           |
//!
//! The spin lock is correct on any target with compare-and-swap, but on a
//! single core it can deadlock if an interrupt handler touches a primitive
//! that the interrupted code was in the middle of using. Firmware that uses
//! anysync from interrupt handlers must enable `critical-section`.

// The lock word. Under loom the wait queues use loom's mutex, and the word
// is there for its own models (`lock/tests/loom.rs`).
#[cfg(any(feature = "std", not(feature = "critical-section")))]
#[cfg_attr(anysync_loom, allow(dead_code))]
pub(crate) mod raw;

#[cfg(test)]
mod tests;

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

#[cfg(not(anysync_loom))]
mod imp {
    use core::{
        marker::PhantomData,
        ops::{Deref, DerefMut},
        panic::{RefUnwindSafe, UnwindSafe},
    };

    use crate::loom::cell::UnsafeCell;

    pub(crate) struct Lock<T> {
        #[cfg(any(feature = "std", not(feature = "critical-section")))]
        raw: super::raw::RawLock,
        data: UnsafeCell<T>,
    }

    // SAFETY: `data` is only reached through a `Guard`, and at most one guard
    // exists at a time (the lock word or the critical section ensures it).
    unsafe impl<T: Send> Sync for Lock<T> {}
    // SAFETY: moving the lock moves the `T`; no thread-bound state is held.
    unsafe impl<T: Send> Send for Lock<T> {}

    // Nothing poisons: a panic with the lock held releases it (the guard's
    // drop), and the next holder sees the data as the panic left it. The
    // wait queues run only `Waker::clone` under it, before changing
    // anything, and a `PriorityQueue` item's `Ord`, whose panic the queue
    // repairs before the guard is dropped. (A clone or an `Ord` that
    // re-enters the same primitive would deadlock.) The other users (the
    // circuit breaker reads its clock under it, debounce aborts a task)
    // get what they got from `std::sync::Mutex`, the lock used before,
    // whose poisoning every caller ignored; and std's mutex was unwind safe
    // for every `T` as well.
    impl<T> UnwindSafe for Lock<T> {}
    impl<T> RefUnwindSafe for Lock<T> {}

    /// The held lock. Not `Send`: it is released on the thread that took it.
    pub(crate) struct Guard<'a, T> {
        lock: &'a Lock<T>,
        #[cfg(all(feature = "critical-section", not(feature = "std")))]
        restore: critical_section::RestoreState,
        _not_send: PhantomData<*const ()>,
    }

    // SAFETY: a shared guard only gives `&T`, as `&Lock<T>` would with the
    // lock held; `T: Sync` makes that sound across threads.
    unsafe impl<T: Sync> Sync for Guard<'_, T> {}

    impl<T> Lock<T> {
        pub(crate) const fn new(data: T) -> Self {
            Self {
                #[cfg(any(feature = "std", not(feature = "critical-section")))]
                raw: super::raw::RawLock::new(),
                data: UnsafeCell::new(data),
            }
        }

        #[cfg(any(feature = "std", not(feature = "critical-section")))]
        #[inline]
        pub(crate) fn lock(&self) -> Guard<'_, T> {
            self.raw.lock();
            Self::count_hold();
            Guard {
                lock: self,
                _not_send: PhantomData,
            }
        }

        #[cfg(all(feature = "critical-section", not(feature = "std")))]
        #[inline]
        pub(crate) fn lock(&self) -> Guard<'_, T> {
            // SAFETY: the matching `release` runs in `Guard::drop` with this
            // state; guards are dropped in reverse order of creation because
            // each lives in a lexical scope of the wait queue code.
            let restore = unsafe { critical_section::acquire() };
            Self::count_hold();
            Guard {
                lock: self,
                restore,
                _not_send: PhantomData,
            }
        }

        /// Whether the lock is held now (tests only; a snapshot).
        #[cfg(all(test, any(feature = "std", not(feature = "critical-section"))))]
        pub(crate) fn is_locked(&self) -> bool {
            self.raw.is_locked()
        }

        #[inline(always)]
        fn count_hold() {
            #[cfg(all(feature = "std", any(test, feature = "test-util")))]
            super::HELD.with(|held| held.set(held.get() + 1));
            #[cfg(test)]
            super::count_take();
        }
    }

    impl<T> Drop for Guard<'_, T> {
        #[inline]
        fn drop(&mut self) {
            #[cfg(all(feature = "std", any(test, feature = "test-util")))]
            super::HELD.with(|held| held.set(held.get() - 1));
            // SAFETY: this guard was made by `Lock::lock` on this thread (it
            // is not `Send`), which took the lock word; this drop is the one
            // release of it.
            #[cfg(any(feature = "std", not(feature = "critical-section")))]
            unsafe {
                self.lock.raw.unlock();
            }
            // SAFETY: `restore` came from the `acquire` in `Lock::lock`, and
            // this guard is the only owner of it.
            #[cfg(all(feature = "critical-section", not(feature = "std")))]
            unsafe {
                critical_section::release(self.restore)
            };
        }
    }

    impl<T> Deref for Guard<'_, T> {
        type Target = T;
        #[inline(always)]
        fn deref(&self) -> &T {
            // SAFETY: holding the guard means we hold the lock, so no `&mut`
            // to the data exists elsewhere.
            self.lock.data.with(|p| unsafe { &*p })
        }
    }

    impl<T> DerefMut for Guard<'_, T> {
        #[inline(always)]
        fn deref_mut(&mut self) -> &mut T {
            // SAFETY: holding the guard (uniquely borrowed here) means we hold
            // the lock, so this is the only reference to the data.
            self.lock.data.with_mut(|p| unsafe { &mut *p })
        }
    }
}

pub(crate) use imp::{Guard, Lock};

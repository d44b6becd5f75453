//! The short blocking lock that guards a cancellation tree node and the
//! bookkeeping of task groups.
//!
//! Held only for a few field writes, never while foreign code (a waker, a
//! user's future or closure) runs. The lock is chosen at compile time:
//!
//! | configuration          | lock                                   |
//! |------------------------|----------------------------------------|
//! | `--cfg anysync_loom`   | `loom::sync::Mutex`                    |
//! | feature `std`          | `std::sync::Mutex` (poisoning ignored) |
//! | `alloc` without `std`  | a test-and-test-and-set spin lock      |
//!
//! On a single core without `std`, a spin lock can deadlock if an
//! interrupt handler uses a token that the interrupted code was in the
//! middle of changing; tokens and groups are meant for tasks, not for
//! interrupt handlers.

#[cfg(anysync_loom)]
mod imp {
    pub(crate) struct Lock<T>(loom::sync::Mutex<T>);
    pub(crate) type Guard<'a, T> = loom::sync::MutexGuard<'a, T>;

    impl<T> Lock<T> {
        pub(crate) fn new(data: T) -> Self {
            Self(loom::sync::Mutex::new(data))
        }

        pub(crate) fn lock(&self) -> Guard<'_, T> {
            self.0.lock().unwrap()
        }
    }
}

#[cfg(all(not(anysync_loom), feature = "std"))]
mod imp {
    extern crate std;

    pub(crate) struct Lock<T>(std::sync::Mutex<T>);
    pub(crate) type Guard<'a, T> = std::sync::MutexGuard<'a, T>;

    impl<T> Lock<T> {
        pub(crate) const fn new(data: T) -> Self {
            Self(std::sync::Mutex::new(data))
        }

        #[inline]
        pub(crate) fn lock(&self) -> Guard<'_, T> {
            // No foreign code runs under this lock, so a poisoned lock
            // (a panic in our own code) cannot have left the data half
            // updated by a user; carry on.
            self.0
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
        }
    }
}

#[cfg(all(not(anysync_loom), not(feature = "std")))]
mod imp {
    use core::ops::{Deref, DerefMut};

    use crate::loom::{
        cell::UnsafeCell,
        sync::atomic::{AtomicBool, Ordering},
    };

    pub(crate) struct Lock<T> {
        locked: AtomicBool,
        data: UnsafeCell<T>,
    }

    // SAFETY: `data` is only reached through a `Guard`, and the spin flag
    // lets at most one guard exist at a time.
    unsafe impl<T: Send> Sync for Lock<T> {}
    // SAFETY: moving the lock moves the `T`; no thread-bound state is held.
    unsafe impl<T: Send> Send for Lock<T> {}

    pub(crate) struct Guard<'a, T> {
        lock: &'a Lock<T>,
    }

    impl<T> Lock<T> {
        pub(crate) const fn new(data: T) -> Self {
            Self {
                locked: AtomicBool::new(false),
                data: UnsafeCell::new(data),
            }
        }

        #[inline]
        pub(crate) fn lock(&self) -> Guard<'_, T> {
            loop {
                if self
                    .locked
                    .compare_exchange_weak(false, true, Ordering::Acquire, Ordering::Relaxed)
                    .is_ok()
                {
                    return Guard { lock: self };
                }
                while self.locked.load(Ordering::Relaxed) {
                    crate::loom::hint::spin_loop();
                }
            }
        }
    }

    impl<T> Drop for Guard<'_, T> {
        fn drop(&mut self) {
            self.lock.locked.store(false, Ordering::Release);
        }
    }

    impl<T> Deref for Guard<'_, T> {
        type Target = T;
        fn deref(&self) -> &T {
            // SAFETY: this guard exists, so we hold the spin flag (taken in
            // `Lock::lock`) and no `&mut` to the data exists elsewhere.
            self.lock.data.with(|p| unsafe { &*p })
        }
    }

    impl<T> DerefMut for Guard<'_, T> {
        fn deref_mut(&mut self) -> &mut T {
            // SAFETY: this guard (uniquely borrowed here) holds the spin
            // flag, so this is the only reference to the data.
            self.lock.data.with_mut(|p| unsafe { &mut *p })
        }
    }
}

pub(crate) use imp::Lock;

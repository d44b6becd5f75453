//! The one place that names atomics and cells directly.
//!
//! Under `--cfg anysync_loom` everything here is loom's, so the models in
//! `*/tests/loom.rs` explore every interleaving. Otherwise these are the
//! `core` (or `portable-atomic`) types, wrapped to have loom's API shape, and
//! the loom models run once, for real, as ordinary tests.
#![allow(clippy::disallowed_types)]

#[cfg(anysync_loom)]
#[allow(unused_imports)]
mod inner {
    pub(crate) use loom::{cell, hint, model, thread};

    pub(crate) mod sync {
        pub(crate) use loom::sync::*;
    }

    pub(crate) mod future {
        pub(crate) use loom::future::block_on;
    }
}

#[cfg(not(anysync_loom))]
mod inner {
    pub(crate) mod sync {
        #[cfg(feature = "alloc")]
        #[allow(unused_imports)]
        pub(crate) use alloc::sync::Arc;

        pub(crate) mod atomic {
            #[cfg(not(feature = "portable-atomic"))]
            #[allow(unused_imports)]
            pub(crate) use core::sync::atomic::{
                AtomicBool, AtomicPtr, AtomicU8, AtomicUsize, Ordering,
            };
            #[cfg(feature = "portable-atomic")]
            #[allow(unused_imports)]
            pub(crate) use portable_atomic::{
                AtomicBool, AtomicPtr, AtomicU8, AtomicUsize, Ordering,
            };
            // The rate limiter's state word, where the target has it; it
            // falls back to a lock elsewhere.
            #[cfg(target_has_atomic = "64")]
            #[allow(unused_imports)]
            pub(crate) use core::sync::atomic::AtomicU64;
        }
    }

    pub(crate) mod hint {
        #[allow(unused_imports)]
        pub(crate) use core::hint::spin_loop;
    }

    pub(crate) mod cell {
        /// `core::cell::UnsafeCell` with loom's closure-based API.
        #[derive(Debug)]
        #[repr(transparent)]
        pub(crate) struct UnsafeCell<T: ?Sized>(core::cell::UnsafeCell<T>);

        impl<T> UnsafeCell<T> {
            pub(crate) const fn new(data: T) -> Self {
                Self(core::cell::UnsafeCell::new(data))
            }

            #[allow(dead_code)]
            pub(crate) fn into_inner(self) -> T {
                self.0.into_inner()
            }
        }

        impl<T: ?Sized> UnsafeCell<T> {
            #[inline(always)]
            pub(crate) fn with<R>(&self, f: impl FnOnce(*const T) -> R) -> R {
                f(self.0.get())
            }

            #[inline(always)]
            pub(crate) fn with_mut<R>(&self, f: impl FnOnce(*mut T) -> R) -> R {
                f(self.0.get())
            }

            #[inline(always)]
            #[allow(dead_code)]
            pub(crate) fn get_mut(&mut self) -> &mut T {
                self.0.get_mut()
            }
        }
    }

    /// Runs a loom model body once, for real, so models never rot.
    #[cfg(test)]
    pub(crate) fn model(f: impl Fn() + Sync + Send + 'static) {
        f()
    }

    #[cfg(test)]
    pub(crate) mod thread {
        pub(crate) use std::thread::*;
    }

    #[cfg(test)]
    pub(crate) mod future {
        pub(crate) use futures_executor::block_on;
    }
}

#[allow(unused_imports)]
pub(crate) use inner::*;

//! Steps that must all run even if an earlier one panics.
//!
//! A primitive often ends an operation with two steps, each of which can
//! run foreign code: a release that wakes a waiter (whose `Waker::wake` may
//! panic), then a second release or an event to set. If the first step's
//! panic skipped the second, a permit, a slot or a wake-up would be lost
//! for good. [`both`] runs the second step whatever the first does.

/// Runs `first`, then `then`, even if `first` panics.
///
/// With `std`, a panic of `first` is caught, `then` runs, and the panic is
/// raised again, unless the thread is unwinding already (this runs in a
/// `Drop` during an earlier panic, where raising a second one would abort
/// the process): then it is dropped, and the earlier panic goes on. Without
/// `std`, `then` runs as the panic unwinds.
#[inline]
pub(crate) fn both(first: impl FnOnce(), then: impl FnOnce()) {
    #[cfg(feature = "std")]
    {
        let out = std::panic::catch_unwind(core::panic::AssertUnwindSafe(first));
        then();
        if let Err(payload) = out {
            resume_unless_unwinding(payload);
        }
    }
    #[cfg(not(feature = "std"))]
    {
        let guard = Finally(Some(then));
        first();
        drop(guard);
    }
}

/// Raises `payload` again, unless the thread is unwinding already (see
/// [`both`]).
#[cfg(feature = "std")]
pub(crate) fn resume_unless_unwinding(payload: alloc::boxed::Box<dyn core::any::Any + Send>) {
    if !std::thread::panicking() {
        std::panic::resume_unwind(payload);
    }
}

/// Runs its closure when dropped, also while unwinding.
#[cfg(not(feature = "std"))]
struct Finally<F: FnOnce()>(Option<F>);

#[cfg(not(feature = "std"))]
impl<F: FnOnce()> Drop for Finally<F> {
    fn drop(&mut self) {
        if let Some(f) = self.0.take() {
            f();
        }
    }
}

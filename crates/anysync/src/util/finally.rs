//! Steps that must all run even if an earlier one panics.
//!
//! A primitive often ends an operation with steps that each can run
//! foreign code: a release that wakes a waiter (whose `Waker::wake` may
//! panic), then a second release or an event to set; or one wake, abort
//! or user `Drop` per waiter, handle or object. If one step's panic skipped
//! the ones after it, a permit, a slot or a wake-up would be lost for good.
//! [`both`] runs a second step whatever the first does; [`Catch`] runs a
//! whole sequence.

/// Runs `first`, then `then`, even if `first` panics.
///
/// With `std`, a panic of `first` is caught, `then` runs, and the panic is
/// raised again, unless the thread is unwinding already (this runs in a
/// `Drop` during an earlier panic, where raising a second one would abort
/// the process): then it is dropped, and the earlier panic goes on. Without
/// `std`, `then` runs as the panic unwinds (if `then` panics too, the
/// process aborts, as for any panic in a `Drop` while unwinding).
#[inline]
pub(crate) fn both(first: impl FnOnce(), then: impl FnOnce()) {
    #[cfg(feature = "std")]
    {
        let mut catch = Catch::new();
        catch.run(first);
        then();
        catch.finish();
    }
    #[cfg(not(feature = "std"))]
    {
        let guard = Finally(Some(then));
        first();
        drop(guard);
    }
}

/// Runs closures one after another. With `std`, a panic in one does not
/// stop the ones after it: the first panic is kept, and
/// [`finish`](Self::finish) raises it again (unless the thread is
/// unwinding already, as for [`both`]). Without `std`, a panic goes on at
/// once, and the closures not yet run are not.
#[cfg_attr(not(feature = "alloc"), allow(dead_code))] // used by the `alloc` types
pub(crate) struct Catch {
    #[cfg(feature = "std")]
    panic: Option<alloc::boxed::Box<dyn core::any::Any + Send>>,
}

#[cfg_attr(not(feature = "alloc"), allow(dead_code))]
impl Catch {
    pub(crate) fn new() -> Self {
        Catch {
            #[cfg(feature = "std")]
            panic: None,
        }
    }

    /// Runs `f`, keeping its panic (with `std`) if it is the first.
    #[inline]
    pub(crate) fn run(&mut self, f: impl FnOnce()) {
        #[cfg(feature = "std")]
        if let Err(payload) = std::panic::catch_unwind(core::panic::AssertUnwindSafe(f)) {
            self.panic.get_or_insert(payload);
        }
        #[cfg(not(feature = "std"))]
        f();
    }

    /// Raises the first panic kept, if any.
    pub(crate) fn finish(self) {
        #[cfg(feature = "std")]
        if let Some(payload) = self.panic {
            resume_unless_unwinding(payload);
        }
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

//! A fixed-size batch of wakers, woken after the wait-queue lock is released.

use core::{fmt, mem::ManuallyDrop, task::Waker};

/// How many wakers a batch holds before the caller must unlock and wake.
/// Small under loom, so that the "batch is full, unlock and go again" path
/// is explored.
const CAPACITY: usize = if cfg!(anysync_loom) { 2 } else { 16 };

/// Wakers collected under the lock, to be woken (or dropped) without it.
///
/// Slots from `len` on are always `None`. The array is in a `ManuallyDrop`
/// so that dropping a batch visits only the `len` filled slots, not all
/// `CAPACITY` (profiled: the array's own drop glue and the by-value move
/// into `wake_all` were a third of the cost of a one-waiter hand-off). The
/// `wake_all` methods take the batch by reference for the same reason: a
/// by-value call copied its 264 bytes on every wake loop.
pub(crate) struct WakeBatch {
    wakers: ManuallyDrop<[Option<Waker>; CAPACITY]>,
    len: usize,
}

impl WakeBatch {
    pub(crate) const fn new() -> Self {
        const NONE: Option<Waker> = None;
        Self {
            wakers: ManuallyDrop::new([NONE; CAPACITY]),
            len: 0,
        }
    }

    #[inline]
    pub(crate) fn is_full(&self) -> bool {
        self.len == CAPACITY
    }

    /// Adds a waker.
    ///
    /// # Panics
    /// If the batch is full; callers check [`is_full`](Self::is_full) first.
    #[inline]
    pub(crate) fn push(&mut self, waker: Waker) {
        assert!(!self.is_full(), "anysync bug: wake batch overflow");
        self.wakers[self.len] = Some(waker);
        self.len += 1;
    }

    /// Wakes everything collected. Call only with no lock held.
    #[inline]
    #[cfg_attr(feature = "std", allow(dead_code))] // `std` builds catch panics
    pub(crate) fn wake_all(&mut self) {
        for slot in &mut self.wakers[..self.len] {
            if let Some(waker) = slot.take() {
                waker.wake();
            }
        }
        self.len = 0;
    }
}

#[cfg(feature = "std")]
impl WakeBatch {
    /// Wakes everything collected, each wake run even if an earlier one
    /// panics; returns the first panic's payload. Call only with no lock
    /// held.
    pub(crate) fn wake_all_catching(
        &mut self,
    ) -> Result<(), alloc::boxed::Box<dyn core::any::Any + Send>> {
        let mut first = Ok(());
        for slot in &mut self.wakers[..self.len] {
            if let Some(waker) = slot.take() {
                let woken =
                    std::panic::catch_unwind(core::panic::AssertUnwindSafe(|| waker.wake()));
                if let Err(payload) = woken {
                    if first.is_ok() {
                        first = Err(payload);
                    }
                }
            }
        }
        self.len = 0;
        first
    }
}

impl Drop for WakeBatch {
    #[inline]
    fn drop(&mut self) {
        // A batch dropped without `wake_all` (e.g. during a panic) still wakes
        // its tasks rather than stranding them.
        for slot in &mut self.wakers[..self.len] {
            if let Some(waker) = slot.take() {
                waker.wake();
            }
        }
    }
}

impl fmt::Debug for WakeBatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WakeBatch").field("len", &self.len).finish()
    }
}

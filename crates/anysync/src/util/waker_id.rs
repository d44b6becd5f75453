//! Which task a stored waker wakes, remembered apart from the waker.
//!
//! A handle whose waker sits in a slot that the other side may take at any
//! moment cannot look at that waker without first taking the slot back. It
//! can instead keep the stored waker's identity (its data pointer and
//! vtable, what [`Waker::will_wake`] compares) and test a new waker against
//! that, with no access to the slot at all.
//!
//! The parts are public from Rust 1.83 on (`anysync_waker_parts`, set by
//! the build script). On older compilers [`WakerId::matches`] is always
//! `false`, and callers take the slow path they would take for a
//! different waker.

use core::task::Waker;

/// The identity of a stored waker, or of none.
///
/// Not `Send` or `Sync` (it holds a raw pointer, never dereferenced): the
/// channel that keeps one vouches for it with the rest of its cells.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct WakerId {
    #[cfg(anysync_waker_parts)]
    parts: Option<(*const (), &'static core::task::RawWakerVTable)>,
}

impl WakerId {
    /// Remembers `waker`: the waker just stored, not the one it was cloned
    /// from (a clone may have other parts).
    #[cfg_attr(not(anysync_waker_parts), allow(clippy::unused_self))]
    pub(crate) fn set(&mut self, waker: &Waker) {
        // The build script sets the cfg only on compilers that have the
        // parts, whatever the crate's minimum version says.
        #[cfg(anysync_waker_parts)]
        #[allow(clippy::incompatible_msrv)]
        {
            self.parts = Some((waker.data(), waker.vtable()));
        }
        #[cfg(not(anysync_waker_parts))]
        let _ = waker;
    }

    /// `true` if the remembered waker would wake the same task as `waker`
    /// (`Waker::will_wake`). Always `false` before Rust 1.83.
    #[cfg_attr(not(anysync_waker_parts), allow(clippy::unused_self))]
    pub(crate) fn matches(&self, waker: &Waker) -> bool {
        #[cfg(anysync_waker_parts)]
        #[allow(clippy::incompatible_msrv)] // as in `set`
        {
            self.parts.is_some_and(|(data, vtable)| {
                core::ptr::eq(data, waker.data()) && core::ptr::eq(vtable, waker.vtable())
            })
        }
        #[cfg(not(anysync_waker_parts))]
        {
            let _ = waker;
            false
        }
    }
}

#[cfg(all(test, feature = "std"))]
mod tests {
    use super::*;
    use crate::util::hostile::Hostile;

    #[test]
    fn matches_only_the_remembered_task() {
        // Two sources of wakers with one `static` vtable: the data pointer
        // tells their tasks apart, and every waker of one source has the
        // same parts.
        let (one, two) = (Hostile::new(), Hostile::new());
        let mut id = WakerId::default();
        assert!(!id.matches(&one.waker()), "nothing remembered yet");
        id.set(&one.waker());
        assert!(!id.matches(&two.waker()));
        assert_eq!(id.matches(&one.waker()), cfg!(anysync_waker_parts));
        id.set(&two.waker());
        assert_eq!(id.matches(&two.waker()), cfg!(anysync_waker_parts));
        assert!(!id.matches(&one.waker()));
    }
}

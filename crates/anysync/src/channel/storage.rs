//! Where a channel keeps its buffer: [`Heap`] ([`bounded`](super::bounded)
//! and [`unbounded`](super::unbounded)) or [`Inline`]
//! ([`StaticChannel`](super::StaticChannel)).
//!
//! These markers only name the [futures](super::futures) of each kind of
//! channel, for example `Send<'_, T, Inline<8>>` is what
//! `StaticChannel::<T, 8>::send` returns; most code never writes them.

use crate::chan::{Buffer, Ring};

/// The buffer is on the heap: the channels made by
/// [`bounded`](super::bounded) and [`unbounded`](super::unbounded)
/// (feature `alloc`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct Heap;

/// The buffer is `N` slots inside the channel value:
/// [`StaticChannel<T, N>`](super::StaticChannel).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct Inline<const N: usize>;

mod sealed {
    pub trait Sealed {}
    impl Sealed for super::Heap {}
    impl<const N: usize> Sealed for super::Inline<N> {}
}

/// Where a channel keeps its buffer: [`Heap`] or [`Inline`]. Sealed: it
/// cannot be implemented outside this crate.
pub trait Storage<T>: sealed::Sealed {
    /// The buffer type (not nameable outside the crate).
    #[doc(hidden)]
    type Buf: Buffer<Item = T>;
}

impl<T, const N: usize> Storage<T> for Inline<N> {
    type Buf = Ring<T, N>;
}

#[cfg(feature = "alloc")]
#[cfg_attr(docsrs, doc(cfg(feature = "alloc")))]
impl<T> Storage<T> for Heap {
    type Buf = crate::chan::FifoBuf<T>;
}

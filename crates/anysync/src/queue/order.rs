//! The orders a queue can serve items in.

use alloc::vec::Vec;

use crate::chan::{Buffer, FifoBuf, LifoBuf, PriorityBuf};

/// First in, first out: [`Queue`](super::Queue).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct Fifo;

/// Last in, first out: [`LifoQueue`](super::LifoQueue).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct Lifo;

/// Smallest first (by `Ord`, like Python's `heapq`):
/// [`PriorityQueue`](super::PriorityQueue).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct Priority;

mod sealed {
    pub trait Sealed {}
    impl Sealed for super::Fifo {}
    impl Sealed for super::Lifo {}
    impl Sealed for super::Priority {}
}

/// The order a queue serves items in: [`Fifo`], [`Lifo`] or [`Priority`].
///
/// It names the futures of each queue type, for example
/// `Put<'_, T, Lifo>` is what [`LifoQueue::put`](super::LifoQueue::put)
/// returns. Sealed: it cannot be implemented outside this crate.
pub trait Order<T>: sealed::Sealed {
    /// The storage for this order (not nameable outside the crate).
    #[doc(hidden)]
    type Buf: Buffer<Item = T>;

    /// Empty storage with room for `capacity` items reserved up front.
    #[doc(hidden)]
    fn with_capacity(capacity: usize) -> Self::Buf;
}

impl<T> Order<T> for Fifo {
    type Buf = FifoBuf<T>;

    fn with_capacity(capacity: usize) -> FifoBuf<T> {
        FifoBuf(alloc::collections::VecDeque::with_capacity(capacity))
    }
}

impl<T> Order<T> for Lifo {
    type Buf = LifoBuf<T>;

    fn with_capacity(capacity: usize) -> LifoBuf<T> {
        LifoBuf(Vec::with_capacity(capacity))
    }
}

impl<T: Ord> Order<T> for Priority {
    type Buf = PriorityBuf<T>;

    fn with_capacity(capacity: usize) -> PriorityBuf<T> {
        PriorityBuf(Vec::with_capacity(capacity))
    }
}

//! The storage orders the queue engine can run over.
//!
//! A [`Buffer`] only stores items in some order; the engine does all the
//! capacity accounting, so `push` is never called on a full buffer.

use core::fmt;

/// Item storage for the queue engine.
///
/// `push` and `pop` run with the engine's lock held. If one of them can run
/// user code that panics (a priority order's `Ord`), it should leave every
/// item in the buffer: the engine repairs its counters from the length the
/// buffer reports afterwards, and an item dropped inside would run its
/// `Drop` under the lock.
// Public because it bounds the associated types of the public (sealed)
// `channel::Storage` and `queue::Order`; rustc 1.81's `unreachable_pub`
// does not see that reach (later compilers do), so the MSRV build would warn.
#[allow(unreachable_pub)]
pub trait Buffer {
    /// What the buffer holds.
    type Item;

    /// `true` if `push` or `pop` may panic after changing the buffer (a
    /// priority order's `Ord` runs between the steps of a sift). The
    /// engine then repairs its counters when one panics; for the other
    /// buffers (whose only possible panic, an allocation failure, comes
    /// before anything changed) it skips that guard on the fast paths.
    const MAY_PANIC_MIDWAY: bool = false;

    /// `true` for first-in-first-out order: the engine may then keep the
    /// items of a bounded buffer in its lock-free ring instead.
    #[doc(hidden)]
    const FIFO: bool = false;

    /// The number of items held.
    fn len(&self) -> usize;

    /// Adds an item. The engine guarantees there is room.
    fn push(&mut self, item: Self::Item);

    /// Takes the next item in this buffer's order.
    fn pop(&mut self) -> Option<Self::Item>;
}

// Prints the number of items (the items need not be `Debug`).
impl<T, const N: usize> fmt::Debug for Ring<T, N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Ring")
            .field("len", &Buffer::len(self))
            .finish()
    }
}

/// A ring of `N` slots stored inline: the buffer of the no-alloc channel.
///
/// Slots are `Option<T>` so the ring needs no `unsafe` (an empty slot is
/// `None`); for most `T` the niche makes that free.
pub struct Ring<T, const N: usize> {
    slots: [Option<T>; N],
    head: usize,
    len: usize,
}

impl<T, const N: usize> Ring<T, N> {
    crate::util::macros::loom_const_fn!(
        pub(crate) fn new() -> Self {
            Self {
                slots: [const { None }; N],
                head: 0,
                len: 0,
            }
        }
    );
}

impl<T, const N: usize> Buffer for Ring<T, N> {
    type Item = T;

    #[inline]
    fn len(&self) -> usize {
        self.len
    }

    #[inline]
    fn push(&mut self, item: T) {
        debug_assert!(self.len < N, "anysync bug: push into a full ring");
        let mut tail = self.head + self.len;
        if tail >= N {
            tail -= N;
        }
        self.slots[tail] = Some(item);
        self.len += 1;
    }

    #[inline]
    fn pop(&mut self) -> Option<T> {
        if self.len == 0 {
            return None;
        }
        let item = self.slots[self.head].take();
        self.head += 1;
        if self.head == N {
            self.head = 0;
        }
        self.len -= 1;
        item
    }
}

#[cfg(feature = "alloc")]
use alloc::{collections::VecDeque, vec::Vec};

#[cfg(feature = "alloc")]
#[cfg_attr(docsrs, doc(cfg(feature = "alloc")))]
/// First in, first out (asyncio's `Queue`).
pub struct FifoBuf<T>(pub(crate) VecDeque<T>);

#[cfg(feature = "alloc")]
#[cfg_attr(docsrs, doc(cfg(feature = "alloc")))]
impl<T> Buffer for FifoBuf<T> {
    type Item = T;

    const FIFO: bool = true;

    #[inline]
    fn len(&self) -> usize {
        self.0.len()
    }

    #[inline]
    fn push(&mut self, item: T) {
        self.0.push_back(item);
    }

    #[inline]
    fn pop(&mut self) -> Option<T> {
        self.0.pop_front()
    }
}

// Prints the number of items (the items need not be `Debug`).
#[cfg(feature = "alloc")]
impl<T> fmt::Debug for FifoBuf<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FifoBuf")
            .field("len", &Buffer::len(self))
            .finish()
    }
}

// Prints the number of items (the items need not be `Debug`).
#[cfg(feature = "alloc")]
impl<T> fmt::Debug for LifoBuf<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LifoBuf")
            .field("len", &Buffer::len(self))
            .finish()
    }
}

#[cfg(feature = "alloc")]
#[cfg_attr(docsrs, doc(cfg(feature = "alloc")))]
/// Last in, first out (asyncio's `LifoQueue`).
pub struct LifoBuf<T>(pub(crate) Vec<T>);

#[cfg(feature = "alloc")]
#[cfg_attr(docsrs, doc(cfg(feature = "alloc")))]
impl<T> Buffer for LifoBuf<T> {
    type Item = T;

    #[inline]
    fn len(&self) -> usize {
        self.0.len()
    }

    #[inline]
    fn push(&mut self, item: T) {
        self.0.push(item);
    }

    #[inline]
    fn pop(&mut self) -> Option<T> {
        self.0.pop()
    }
}

#[cfg(feature = "alloc")]
#[cfg_attr(docsrs, doc(cfg(feature = "alloc")))]
/// Smallest first (asyncio's `PriorityQueue`, a `heapq` min-heap).
///
/// A binary min-heap in a `Vec`, moved only by swaps, because the
/// items' `Ord` runs under the engine's lock and may panic: a `pop`
/// makes every comparison before it moves anything, so if one panics
/// the heap is exactly as it was; a `push` stores the item first, so if
/// a comparison panics the item is in the heap, possibly out of order
/// (later pops may then come out in an unspecified order, as with any
/// inconsistent `Ord`). No item is ever lost or dropped. (`std`'s
/// `BinaryHeap` drops the item being popped when `Ord` panics.)
pub struct PriorityBuf<T>(pub(crate) Vec<T>);

#[cfg(feature = "alloc")]
#[cfg_attr(docsrs, doc(cfg(feature = "alloc")))]
impl<T: Ord> Buffer for PriorityBuf<T> {
    type Item = T;

    const MAY_PANIC_MIDWAY: bool = true;

    #[inline]
    fn len(&self) -> usize {
        self.0.len()
    }

    fn push(&mut self, item: T) {
        let heap = &mut self.0;
        heap.push(item);
        let mut child = heap.len() - 1;
        while child > 0 {
            let parent = (child - 1) / 2;
            if heap[child] >= heap[parent] {
                break;
            }
            heap.swap(child, parent);
            child = parent;
        }
    }

    fn pop(&mut self) -> Option<T> {
        let heap = &mut self.0;
        let last = heap.len().checked_sub(1)?;
        // Where the last item sinks to once it replaces the root: found
        // by comparing only. The children it is compared with do not
        // move before it passes them, so the path is the one a sift
        // would take. Bit `d` of `path` is 1 for "right child" at depth
        // `d`; a heap is less than 64 levels deep.
        let mut path: u64 = 0;
        let mut depth = 0;
        let mut parent = 0;
        loop {
            let left = 2 * parent + 1;
            if left >= last {
                break;
            }
            let right = left + 1;
            let (child, bit) = if right < last && heap[right] < heap[left] {
                (right, 1)
            } else {
                (left, 0)
            };
            if heap[child] >= heap[last] {
                break;
            }
            path |= bit << depth;
            depth += 1;
            parent = child;
        }
        // Every comparison succeeded: now move (swaps only).
        heap.swap(0, last);
        let mut parent = 0;
        for d in 0..depth {
            let child = 2 * parent + 1 + ((path >> d) & 1) as usize;
            heap.swap(parent, child);
            parent = child;
        }
        heap.pop()
    }
}

#[cfg(feature = "alloc")]
#[cfg_attr(docsrs, doc(cfg(feature = "alloc")))]
impl<T: Ord> fmt::Debug for PriorityBuf<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PriorityBuf")
            .field("len", &self.0.len())
            .finish()
    }
}

//! The storage orders the queue engine can run over.
//!
//! A [`Buffer`] only stores items in some order; the engine does all the
//! capacity accounting, so `push` is never called on a full buffer.

use core::fmt;

/// Item storage for the queue engine.
pub trait Buffer {
    /// What the buffer holds.
    type Item;

    /// The number of items held.
    fn len(&self) -> usize;

    /// Adds an item. The engine guarantees there is room.
    fn push(&mut self, item: Self::Item);

    /// Takes the next item in this buffer's order.
    fn pop(&mut self) -> Option<Self::Item>;
}

/// Prints the number of items (the items need not be `Debug`).
macro_rules! debug_len {
    ($name:ident $(, const $n:ident)?) => {
        impl<T $(, const $n: usize)?> fmt::Debug for $name<T $(, $n)?> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_struct(stringify!($name)).field("len", &Buffer::len(self)).finish()
            }
        }
    };
}

debug_len!(Ring, const N);

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
    crate::util::macros::loom_const_fn! {
        pub(crate) fn new() -> Self {
            Self { slots: [const { None }; N], head: 0, len: 0 }
        }
    }
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

crate::util::macros::cfg_feature! {
    #![feature = "alloc"]

    use alloc::{collections::{BinaryHeap, VecDeque}, vec::Vec};
    use core::cmp::Reverse;

    /// First in, first out (asyncio's `Queue`).
    pub struct FifoBuf<T>(pub(crate) VecDeque<T>);

    impl<T> Buffer for FifoBuf<T> {
        type Item = T;

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

    debug_len!(FifoBuf);
    debug_len!(LifoBuf);

    /// Last in, first out (asyncio's `LifoQueue`).
    pub struct LifoBuf<T>(pub(crate) Vec<T>);

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

    /// Smallest first (asyncio's `PriorityQueue`, a `heapq` min-heap).
    pub struct PriorityBuf<T>(pub(crate) BinaryHeap<Reverse<T>>);

    impl<T: Ord> Buffer for PriorityBuf<T> {
        type Item = T;

        #[inline]
        fn len(&self) -> usize {
            self.0.len()
        }

        #[inline]
        fn push(&mut self, item: T) {
            self.0.push(Reverse(item));
        }

        #[inline]
        fn pop(&mut self) -> Option<T> {
            self.0.pop().map(|Reverse(item)| item)
        }
    }

    impl<T: Ord> fmt::Debug for PriorityBuf<T> {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.debug_struct("PriorityBuf").field("len", &self.0.len()).finish()
        }
    }
}

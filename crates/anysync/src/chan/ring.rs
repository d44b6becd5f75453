//! The lock-free slots of a bounded FIFO engine: its fast path (see the
//! engine's implementation notes, "The lock-free fast path").
//!
//! An array of slots, each with a `stamp` that says which position it
//! waits for, and two claim counters, `tail` (the next position to fill)
//! and `head` (the next to empty), on separate cache lines. A sender
//! claims position `t` by moving `tail` from `t` to the next position with
//! a compare-and-swap, but only once the slot's stamp shows it is free for
//! `t`; it then writes the item and publishes it by moving the stamp on. A
//! receiver does the same with `head`. Bit 0 of each counter is `SLOW`:
//! while it is set every compare-and-swap of a fast operation on that
//! counter fails, so the counter changes only under the engine's lock (see
//! [`FastRing::set_slow`]).
//!
//! # Words
//!
//! A counter is one word: its position, the number of reservations that
//! side's fast operations must respect (`held`, see below), and `SLOW`:
//! `position | held << 1 | SLOW`. A position is a multiple of
//! [`UNIT`]: `lap * lap_len + UNIT * index`, with `index < cap` and
//! `lap_len` a power of two above `UNIT * cap`, so the bits below `UNIT`
//! stay free for `held` and `SLOW`. A slot's stamp is a position: `p` when
//! it is free for a sender at `p`, `p + UNIT` once that sender published
//! its item (the item a receiver at `p` takes), and `p + lap_len` once that
//! receiver took it (free for the sender one lap later). Every sum wraps.
//!
//! `held` in `tail` is the number of empty slots reserved under the lock
//! (for woken senders and permits); in `head`, the number of buffered items
//! granted to woken receivers that have not taken them yet. A fast send
//! claims only if a slot is left that is neither full nor reserved, a fast
//! receive only if an item is left that nobody was granted. Because `held`
//! is in the word that the compare-and-swap checks, a claim succeeds only
//! if the reservations it counted are still the ones in force: the lock
//! holder writes `held` only while `SLOW` is set (which fails every claim
//! in between), and reopens with the counts then in force, so a word that
//! compares equal carries the same position and the same count.
//!
//! Positions take the bits above `UNIT`: the ring is built only where a
//! word has 64 bits, where a position wraps after about 2^37 laps. A fast
//! operation that stalled between its load and its compare-and-swap for
//! that many laps of other operations could claim a position a lap too
//! late; array queues of this design accept such a window (it is
//! centuries here).

use alloc::{boxed::Box, vec::Vec};
use core::mem::MaybeUninit;

use crate::loom::{
    cell::UnsafeCell,
    hint,
    sync::atomic::{AtomicUsize, Ordering},
};

/// Set in both counters while the engine's lock is the only way in.
pub(crate) const SLOW: usize = 1;

/// Bits of a counter's `held` field (above `SLOW`): enough for every
/// reservation count up to [`MAX_CAP`].
const HELD_BITS: u32 = 13;

/// The largest capacity a ring is built for: every reservation count fits
/// in `held`.
pub(crate) const MAX_CAP: usize = 1 << (HELD_BITS - 1);

/// The step between two positions: the counters' low bits hold `SLOW` and
/// `held`.
const UNIT: usize = 1 << (HELD_BITS + 1);

/// The position bits of a counter.
const POS: usize = !(UNIT - 1);

/// The `held` bits of a counter.
const HELD: usize = (UNIT - 1) & !SLOW;

/// The reservations counted in a counter word.
#[inline]
const fn held(word: usize) -> usize {
    (word & HELD) >> 1
}

/// Keeps `tail` and `head` on separate cache lines, so that a sender and a
/// receiver do not contend on one line.
#[repr(align(128))]
struct Padded<T>(T);

struct Slot<T> {
    stamp: AtomicUsize,
    value: UnsafeCell<MaybeUninit<T>>,
}

/// What [`FastRing::set_slow`] found in the counters.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Closed {
    /// The position of `tail`.
    pub(crate) tail: usize,
    /// The position of `head`.
    pub(crate) head: usize,
    /// `held` of `tail`: the slots still reserved of those the last
    /// [`FastRing::open`] wrote, less any given up since without the lock.
    pub(crate) slots_held: usize,
    /// `held` of `head`, as `slots_held`.
    pub(crate) items_held: usize,
}

/// Why a lock-free attempt gave up.
#[derive(Debug)]
pub(crate) enum Fast<T> {
    /// `SLOW` is set, or the reservations in `held` leave nothing to
    /// claim: take the lock, which knows. Holds what was to be sent, if
    /// anything.
    Slow(T),
    /// Every slot holds an item (a send), or none does and no item is
    /// granted (a receive), with this side's `SLOW` clear: nobody waits,
    /// so this is the answer.
    Done(T),
    /// Another operation of the same side claimed the position first, so
    /// it is most likely running at this moment on another processor.
    /// Only for a caller in a task (`in_task`), which yields to its
    /// executor and tries again when polled (see
    /// [`push_rest`](FastRing::push_rest)). Holds what was to be sent.
    Busy(T),
}

/// What one attempt of a fast operation came to.
enum Step<R, T> {
    /// The operation's answer.
    Ret(R),
    /// The compare-and-swap failed: what was to be sent, the counter word
    /// it expected and the one it found.
    Raced(T, usize, usize),
    /// Another operation is finishing with the slot: try again after a
    /// pause. Holds what was to be sent.
    Wait(T),
}

/// A fast operation whose first attempt did not finish it: what that
/// attempt came to, for the rest of the operation.
pub(crate) struct Again<R, I>(Step<R, I>);

/// A send after [`FastRing::push_first`].
pub(crate) type PushAgain<T> = Again<Result<(), Fast<T>>, T>;

/// A receive after [`FastRing::pop_first`].
pub(crate) type PopAgain<T> = Again<Result<T, Fast<()>>, ()>;

/// The slots and counters of a bounded FIFO engine.
pub(crate) struct FastRing<T> {
    tail: Padded<AtomicUsize>,
    head: Padded<AtomicUsize>,
    slots: Box<[Slot<T>]>,
    /// One lap in words: `UNIT` times the power of two above `cap`, so
    /// the index bits of a position never reach its lap bits.
    lap: usize,
}

// SAFETY: items are moved in by one thread and out by another (so `T:
// Send`), each slot's value is accessed only by the one operation that
// claimed its position (the stamps and counters order those accesses), and
// no `&T` is ever handed out, so `T: Sync` is not needed.
unsafe impl<T: Send> Send for FastRing<T> {}
// SAFETY: as for `Send`.
unsafe impl<T: Send> Sync for FastRing<T> {}

// No user code runs between a claim and its publication (the item is
// only moved), so a panic elsewhere never leaves a slot half done: what
// other threads observe after it is a consistent ring.
// Nothing poisons and values are only moved, never borrowed, so this holds
// for every `T`, as it does for the channel handles built on it.
impl<T> core::panic::RefUnwindSafe for FastRing<T> {}

impl<T> FastRing<T> {
    /// Empty slots for `cap` items, `SLOW` clear.
    ///
    /// # Panics
    /// If `cap` is zero or above [`MAX_CAP`], or on a target whose words
    /// have fewer than 64 bits (the engine checks both first).
    pub(crate) fn new(cap: usize) -> Self {
        assert!(
            cap > 0 && cap <= MAX_CAP && usize::BITS >= 64,
            "anysync bug: no ring of {cap} slots here"
        );
        let lap = (cap + 1).next_power_of_two() * UNIT;
        let slots: Vec<Slot<T>> = (0..cap)
            .map(|i| Slot {
                stamp: AtomicUsize::new(UNIT * i),
                value: UnsafeCell::new(MaybeUninit::uninit()),
            })
            .collect();
        Self {
            tail: Padded(AtomicUsize::new(0)),
            head: Padded(AtomicUsize::new(0)),
            slots: slots.into_boxed_slice(),
            lap,
        }
    }

    #[inline]
    fn cap(&self) -> usize {
        self.slots.len()
    }

    /// The slot of position `pos` (low bits clear), and the position after
    /// it.
    #[inline]
    fn slot(&self, pos: usize) -> (&Slot<T>, usize) {
        let index = (pos & (self.lap - 1)) / UNIT;
        // `index < cap`: positions are built by this function from 0.
        let slot = &self.slots[index];
        let next = if index + 1 < self.cap() {
            pos.wrapping_add(UNIT)
        } else {
            (pos & !(self.lap - 1)).wrapping_add(self.lap)
        };
        (slot, next)
    }

    /// The position `n` steps after `pos` (low bits clear), for `n < cap`.
    #[inline]
    fn ahead(&self, pos: usize, n: usize) -> usize {
        let index = (pos & (self.lap - 1)) / UNIT + n;
        if index < self.cap() {
            pos.wrapping_add(n * UNIT)
        } else {
            (pos & !(self.lap - 1))
                .wrapping_add(self.lap)
                .wrapping_add((index - self.cap()) * UNIT)
        }
    }

    /// The stamp of position `pos`'s slot.
    #[inline]
    fn stamp_at(&self, pos: usize) -> usize {
        self.slot(pos).0.stamp.load(Ordering::Acquire)
    }

    /// The number of positions from `head` to `tail` (both low bits clear).
    #[inline]
    fn distance(&self, head: usize, tail: usize) -> usize {
        let h = (head & (self.lap - 1)) / UNIT;
        let t = (tail & (self.lap - 1)) / UNIT;
        if h < t {
            t - h
        } else if h > t {
            self.cap() - h + t
        } else if head == tail {
            0
        } else {
            self.cap()
        }
    }

    /// Sends without the lock: claims the next position if `SLOW` is clear
    /// and its slot free and not reserved, writes `item` there and
    /// publishes it. This is the first attempt, inline: it calls nothing,
    /// and it answers only when it sent. Anything else (a lost race, a
    /// slot another operation is finishing with, a full ring, the lock's
    /// turn) is for [`push_rest`](Self::push_rest), which the send future
    /// calls out of line, so that its uncontended send needs few registers
    /// and no conversion of its result.
    #[inline(always)]
    pub(crate) fn push_first(&self, item: T) -> Result<(), PushAgain<T>> {
        match self.push_step(item, self.tail.0.load(Ordering::Relaxed)) {
            Step::Ret(Ok(())) => Ok(()),
            step => Err(Again(step)),
        }
    }

    /// The send after a [`push_first`](Self::push_first) that did not
    /// send: that attempt's answer, or the retries of
    /// [`contended`](Self::contended).
    ///
    /// `in_task`: the caller is a future, which can give its worker thread
    /// back to the executor. A claim lost to another sender then answers
    /// [`Fast::Busy`] at once, instead of yielding the thread and trying
    /// again. Two workers that each run a sender at the same moment race
    /// for every position, and a yielded thread has nothing else to run
    /// on its processor: it only pauses (about 650 ns here), and the two
    /// tend to stay in step. A task that yields lets its worker run
    /// another task meanwhile, most likely one of the other side, which
    /// does not contend. In the 4-by-4 channel bench the workers had
    /// spells of seconds in step, at 2-3 times the time per message, until
    /// senders and receivers gave way by task.
    #[inline]
    pub(crate) fn push_rest(&self, again: PushAgain<T>, in_task: bool) -> Result<(), Fast<T>> {
        let (item, raced) = match again.0 {
            Step::Ret(out) => return out,
            Step::Raced(item, tried, now) => (item, Some((tried, now))),
            Step::Wait(item) => (item, None),
        };
        self.contended(
            &self.tail.0,
            item,
            raced,
            Self::push_step,
            |item| Err(Fast::Slow(item)),
            in_task.then_some(|item| Err(Fast::Busy(item))),
        )
    }

    /// A fast operation after a first attempt that gave no answer: retries
    /// `step` on `counter` (the side's counter word) until it answers.
    /// `raced` is the word a failed compare-and-swap expected and the one
    /// it found, `None` if the attempt must wait for another operation to
    /// finish with the slot; `slow` is the answer when loom gives up
    /// waiting; `busy`, if given, the answer to a claim lost to another
    /// operation of the side (the position moved, `SLOW` still clear),
    /// instead of a retry. (A word that changed only in `held` is retried:
    /// a lock holder closed and reopened the ring in between.) `item` is
    /// what is to be sent (`()` for a receive).
    #[cold]
    #[inline(never)]
    fn contended<R, I>(
        &self,
        counter: &AtomicUsize,
        mut item: I,
        mut raced: Option<(usize, usize)>,
        step: impl Fn(&Self, I, usize) -> Step<R, I>,
        slow: impl FnOnce(I) -> R,
        mut busy: Option<impl FnOnce(I) -> R>,
    ) -> R {
        let mut backoff = Backoff::default();
        loop {
            let word = if let Some((tried, now)) = raced {
                if (now ^ tried) & POS != 0 && now & SLOW == 0 {
                    if let Some(busy) = busy.take() {
                        return busy(item);
                    }
                }
                backoff.failed_claim(tried, now);
                now
            } else {
                if backoff.give_up() {
                    return slow(item);
                }
                backoff.snooze();
                counter.load(Ordering::Relaxed)
            };
            match step(self, item, word) {
                Step::Ret(out) => return out,
                Step::Raced(back, tried, now) => (item, raced) = (back, Some((tried, now))),
                Step::Wait(back) => (item, raced) = (back, None),
            }
        }
    }

    /// One attempt of a send ([`push_first`](Self::push_first), or a retry
    /// in [`contended`](Self::contended)) with the `tail` word
    /// `word`.
    #[inline(always)]
    fn push_step(&self, item: T, word: usize) -> Step<Result<(), Fast<T>>, T> {
        if word & SLOW != 0 {
            return Step::Ret(Err(Fast::Slow(item)));
        }
        let tail = word & POS;
        let (slot, next) = self.slot(tail);
        let stamp = slot.stamp.load(Ordering::Acquire);
        if stamp == tail {
            let reserved = held(word);
            if reserved != 0 {
                // Room only if a slot is left beyond the reserved ones.
                // First the slot `reserved` positions on: free for its
                // position, it shows the receivers of the lap before past
                // it, so at most `cap - reserved - 1` slots are full. Its
                // line is most likely one this side has just used, where
                // `head` is written by the other side. Else `head` decides:
                // a stale one is behind the real one, so this errs towards
                // the lock, which knows.
                if reserved >= self.cap() || {
                    let p = self.ahead(tail, reserved);
                    self.stamp_at(p) != p
                } {
                    let head = self.head.0.load(Ordering::Acquire) & POS;
                    if self.distance(head, tail) + reserved >= self.cap() {
                        return Step::Ret(Err(Fast::Slow(item)));
                    }
                }
            }
            match claim(&self.tail.0, word, next) {
                Ok(_) => {
                    // SAFETY: this thread claimed `tail`, and the stamp
                    // (acquired) showed the slot free for it: the receiver
                    // of the lap before has moved its item out, and nobody
                    // else touches the value until the stamp below
                    // publishes it.
                    slot.value.with_mut(|v| unsafe { (*v).write(item) });
                    slot.stamp.store(tail.wrapping_add(UNIT), Ordering::Release);
                    Step::Ret(Ok(()))
                }
                Err(now) => Step::Raced(item, word, now),
            }
        } else if stamp.wrapping_add(self.lap) == tail.wrapping_add(UNIT) {
            // The slot still holds the item of the lap before: full, unless
            // a receiver has claimed it and is moving it out. (`SLOW` and
            // `held` in `head` say nothing about sending.)
            let head = self.head.0.load(Ordering::Acquire) & POS;
            if head.wrapping_add(self.lap) == tail {
                return Step::Ret(Err(Fast::Done(item)));
            }
            Step::Wait(item)
        } else {
            // Another sender claimed `tail` since it was read.
            Step::Wait(item)
        }
    }

    /// Receives without the lock: claims the next position if `SLOW` is
    /// clear and its item published and more items are buffered than are
    /// granted to woken receivers, and moves the item out. The first
    /// attempt, inline, as [`push_first`](Self::push_first): it answers
    /// only with an item.
    #[inline(always)]
    pub(crate) fn pop_first(&self) -> Result<T, PopAgain<T>> {
        match self.pop_step((), self.head.0.load(Ordering::Relaxed)) {
            Step::Ret(Ok(item)) => Ok(item),
            step => Err(Again(step)),
        }
    }

    /// The receive after a [`pop_first`](Self::pop_first) that took
    /// nothing, as [`push_rest`](Self::push_rest) (`in_task` included).
    #[inline]
    pub(crate) fn pop_rest(&self, again: PopAgain<T>, in_task: bool) -> Result<T, Fast<()>> {
        let raced = match again.0 {
            Step::Ret(out) => return out,
            Step::Raced((), tried, now) => Some((tried, now)),
            Step::Wait(()) => None,
        };
        self.contended(
            &self.head.0,
            (),
            raced,
            Self::pop_step,
            |()| Err(Fast::Slow(())),
            in_task.then_some(|()| Err(Fast::Busy(()))),
        )
    }

    /// One attempt of a receive ([`pop_first`](Self::pop_first), or a retry
    /// in [`contended`](Self::contended)) with the `head` word
    /// `word`.
    #[inline(always)]
    fn pop_step(&self, (): (), word: usize) -> Step<Result<T, Fast<()>>, ()> {
        if word & SLOW != 0 {
            return Step::Ret(Err(Fast::Slow(())));
        }
        let head = word & POS;
        let reserved = held(word);
        let (slot, next) = self.slot(head);
        let stamp = slot.stamp.load(Ordering::Acquire);
        if stamp == head.wrapping_add(UNIT) {
            if reserved != 0 {
                // An item must be left beyond the granted ones. First the
                // item `reserved` positions on: published, it shows that
                // many more positions claimed by senders (as
                // [`push_step`](Self::push_step) checks the slot ahead).
                // Else `tail` decides: a stale one is behind the real one,
                // so this errs towards the lock, which knows.
                if reserved >= self.cap() || {
                    let p = self.ahead(head, reserved);
                    self.stamp_at(p) != p.wrapping_add(UNIT)
                } {
                    let tail = self.tail.0.load(Ordering::Acquire) & POS;
                    if self.distance(head, tail) <= reserved {
                        return Step::Ret(Err(Fast::Slow(())));
                    }
                }
            }
            match claim(&self.head.0, word, next) {
                Ok(_) => {
                    // SAFETY: this thread claimed `head`, and the stamp
                    // (acquired) showed the item of `head` published;
                    // nobody else touches the value until the stamp below
                    // frees the slot.
                    let item = slot.value.with_mut(|v| unsafe { v.cast::<T>().read() });
                    slot.stamp
                        .store(head.wrapping_add(self.lap), Ordering::Release);
                    Step::Ret(Ok(item))
                }
                Err(now) => Step::Raced((), word, now),
            }
        } else if stamp == head {
            // Nothing published at `head`: empty, unless a sender has
            // claimed it and is writing. (`SLOW` and `held` in `tail` say
            // nothing about receiving; an item granted to a woken receiver
            // is still buffered, so `reserved` is 0 here unless a stale
            // `held` overstates it: then the lock answers.)
            let tail = self.tail.0.load(Ordering::Acquire) & POS;
            if tail == head {
                return Step::Ret(Err(if reserved != 0 {
                    Fast::Slow(())
                } else {
                    Fast::Done(())
                }));
            }
            Step::Wait(())
        } else {
            // Another receiver claimed `head` since it was read.
            Step::Wait(())
        }
    }

    /// How many positions `pos` is past position 0, modulo
    /// [`modulus`](Self::modulus).
    #[inline]
    fn count(&self, pos: usize) -> usize {
        let pos = pos & POS;
        let laps = pos >> self.lap.trailing_zeros();
        laps * self.cap() + (pos & (self.lap - 1)) / UNIT
    }

    /// Items ever put (claimed by a sender), modulo
    /// [`modulus`](Self::modulus).
    pub(crate) fn put(&self) -> usize {
        self.count(self.tail.0.load(Ordering::Acquire))
    }

    /// Items ever taken (claimed by a receiver), modulo
    /// [`modulus`](Self::modulus).
    pub(crate) fn taken(&self) -> usize {
        self.count(self.head.0.load(Ordering::Acquire))
    }

    /// What the counts of [`put`](Self::put) and [`taken`](Self::taken)
    /// wrap at: the laps a word holds times `cap` (below `2^63` on 64-bit
    /// targets, as `cap` is below half a lap).
    fn modulus(&self) -> usize {
        ((usize::MAX >> self.lap.trailing_zeros()) + 1) * self.cap()
    }

    /// `a - b` for counts modulo [`modulus`](Self::modulus).
    pub(crate) fn count_sub(&self, a: usize, b: usize) -> usize {
        if a >= b {
            a - b
        } else {
            a + (self.modulus() - b)
        }
    }

    /// `a + 1` for a count modulo [`modulus`](Self::modulus).
    pub(crate) fn count_add1(&self, a: usize) -> usize {
        if a + 1 == self.modulus() {
            0
        } else {
            a + 1
        }
    }

    /// Closes the fast path: from now on every compare-and-swap of a fast
    /// operation fails, so (apart from operations that already claimed a
    /// position and are still writing or reading their slot) the counters
    /// change only under the engine's lock. Call with the lock held.
    ///
    /// Returns what the counters then hold ([`Closed`]): the positions,
    /// which stay as they are until the lock holder moves them
    /// ([`push_locked`](Self::push_locked), [`pop_locked`](Self::pop_locked)),
    /// so the engine keeps them in its locked state instead of reading the
    /// counters again; and the `held` counts, lowered since the last
    /// [`open`](Self::open) by one for each reservation used without the
    /// lock ([`push_reserved`](Self::push_reserved),
    /// [`pop_reserved`](Self::pop_reserved)).
    #[inline]
    pub(crate) fn set_slow(&self) -> Closed {
        // Read-modify-writes: they read the last value of each counter,
        // so every claim made before is counted.
        let tail = self.tail.0.fetch_or(SLOW, Ordering::AcqRel);
        let head = self.head.0.fetch_or(SLOW, Ordering::AcqRel);
        Closed {
            tail: tail & POS,
            head: head & POS,
            slots_held: held(tail),
            items_held: held(head),
        }
    }

    /// The `held` counts of `tail` and `head` now: a snapshot, for
    /// inspection while the fast paths are open.
    pub(crate) fn held_now(&self) -> (usize, usize) {
        (
            held(self.tail.0.load(Ordering::Acquire)),
            held(self.head.0.load(Ordering::Acquire)),
        )
    }

    /// Sends `item` into a slot reserved for the caller (a woken sender's
    /// grant, or a permit's slot) without the lock: claims `tail` and
    /// lowers its `held` count by one in the same compare-and-swap, so
    /// the lock, once it closes the fast paths, sees one reservation fewer
    /// in the word than it wrote at [`open`](Self::open) and gives it up
    /// in its own count too ([`Closed::slots_held`]).
    ///
    /// The reservation is counted in `held` while the fast paths are open
    /// (the engine reopens them with every reservation in force), and fast
    /// sends leave the reserved slots alone, so a free slot is there: at
    /// most, the receiver of the lap before is still moving its item out.
    ///
    /// `Err(item)` when `SLOW` is set: then the lock decides, with the
    /// reservation still the caller's (and still in the engine's count).
    #[inline]
    pub(crate) fn push_reserved(&self, item: T) -> Result<(), T> {
        let mut backoff = Backoff::default();
        let mut word = self.tail.0.load(Ordering::Relaxed);
        loop {
            if word & SLOW != 0 || held(word) == 0 {
                // `held == 0` with the path open would be a reservation
                // that was not counted: the lock knows better.
                return Err(item);
            }
            let tail = word & POS;
            let (slot, next) = self.slot(tail);
            if slot.stamp.load(Ordering::Acquire) == tail {
                match take_held(&self.tail.0, word, next) {
                    Ok(()) => {
                        // SAFETY: as in `push_step`: this thread claimed
                        // `tail` and the stamp (acquired) showed its slot
                        // free; nobody else touches the value until the
                        // stamp below publishes it.
                        slot.value.with_mut(|v| unsafe { (*v).write(item) });
                        slot.stamp.store(tail.wrapping_add(UNIT), Ordering::Release);
                        return Ok(());
                    }
                    Err(now) => {
                        backoff.failed_claim(word, now);
                        word = now;
                        continue;
                    }
                }
            }
            // The receiver of the lap before is still moving its item out,
            // or another sender claimed `tail` since it was read.
            if backoff.give_up() {
                return Err(item);
            }
            backoff.snooze();
            word = self.tail.0.load(Ordering::Relaxed);
        }
    }

    /// Receives the item granted to the caller (a woken receiver) without
    /// the lock, as [`push_reserved`](Self::push_reserved) sends: claims
    /// `head` and lowers its `held` count by one. Granted items are
    /// counted in `held` while the fast paths are open and fast receives
    /// leave them alone, so one is buffered: at most, its sender is still
    /// writing it. `None` when `SLOW` is set: then the lock decides, with
    /// the grant still the caller's.
    #[inline]
    pub(crate) fn pop_reserved(&self) -> Option<T> {
        let mut backoff = Backoff::default();
        let mut word = self.head.0.load(Ordering::Relaxed);
        loop {
            if word & SLOW != 0 || held(word) == 0 {
                return None;
            }
            let head = word & POS;
            let (slot, next) = self.slot(head);
            if slot.stamp.load(Ordering::Acquire) == head.wrapping_add(UNIT) {
                match take_held(&self.head.0, word, next) {
                    Ok(()) => {
                        // SAFETY: as in `pop_step`: this thread claimed
                        // `head` and the stamp (acquired) showed its item
                        // published; nobody else touches the value until
                        // the stamp below frees the slot.
                        let item = slot.value.with_mut(|v| unsafe { v.cast::<T>().read() });
                        slot.stamp
                            .store(head.wrapping_add(self.lap), Ordering::Release);
                        return Some(item);
                    }
                    Err(now) => {
                        backoff.failed_claim(word, now);
                        word = now;
                        continue;
                    }
                }
            }
            // The item's sender is still writing it, or another receiver
            // claimed `head` since it was read.
            if backoff.give_up() {
                return None;
            }
            backoff.snooze();
            word = self.head.0.load(Ordering::Relaxed);
        }
    }

    /// Opens the fast path again (clears `SLOW` in both counters), at the
    /// positions `tail` and `head` (those [`set_slow`](Self::set_slow)
    /// returned, as the locked push and pop moved them), with `slots`
    /// empty slots and `items` buffered items reserved, which the fast
    /// operations then leave alone. Call with the lock held and `SLOW`
    /// set, before releasing the lock.
    ///
    /// Returns `false`, leaving `SLOW` set, if a count does not fit in
    /// `held` (it cannot while the engine is open: both are at most the
    /// capacity).
    #[inline]
    pub(crate) fn open(&self, tail: usize, slots: usize, head: usize, items: usize) -> bool {
        if slots > MAX_CAP || items > MAX_CAP {
            return false;
        }
        // Plain stores: with `SLOW` set only the lock holder writes the
        // counters. Release, so that a fast operation that reads these
        // words also sees what the lock holder wrote to the slots.
        self.tail.0.store(tail | slots << 1, Ordering::Release);
        self.head.0.store(head | items << 1, Ordering::Release);
        true
    }

    /// Whether the send path is open (`SLOW` clear in `tail`): no holder
    /// of the lock has closed it (`lock_a`), and the engine is not closed.
    /// A snapshot: either may set `SLOW` right after.
    #[inline]
    pub(crate) fn send_path_open(&self) -> bool {
        self.tail.0.load(Ordering::Acquire) & SLOW == 0
    }

    /// Whether both fast paths are open (`SLOW` clear in both counters).
    #[cfg(test)]
    pub(crate) fn is_open(&self) -> bool {
        (self.tail.0.load(Ordering::Acquire) | self.head.0.load(Ordering::Acquire)) & SLOW == 0
    }

    /// Items claimed into the ring and not yet claimed out: exact with
    /// the lock held and `SLOW` set, a snapshot otherwise.
    pub(crate) fn len(&self) -> usize {
        loop {
            let tail = self.tail.0.load(Ordering::Acquire);
            let head = self.head.0.load(Ordering::Acquire);
            if self.tail.0.load(Ordering::Acquire) == tail {
                return self.distance(head & POS, tail & POS);
            }
            hint::spin_loop();
        }
    }

    /// [`len`](Self::len) from positions read with the lock held and
    /// `SLOW` set.
    #[inline]
    pub(crate) fn len_at(&self, head: usize, tail: usize) -> usize {
        self.distance(head, tail)
    }

    /// Waits (briefly) until `slot`'s stamp is `want`: a fast operation
    /// that claimed its position before `SLOW` was set is still writing or
    /// reading it.
    #[inline]
    fn wait_stamp(slot: &Slot<T>, want: usize) {
        let mut backoff = Backoff::default();
        while slot.stamp.load(Ordering::Acquire) != want {
            backoff.snooze();
        }
    }

    /// Pushes at position `tail` with the lock held and `SLOW` set (the
    /// engine has checked that a slot is free); returns the next position.
    pub(crate) fn push_locked(&self, tail: usize, item: T) -> usize {
        debug_assert_eq!(
            self.tail.0.load(Ordering::Relaxed) & (POS | SLOW),
            tail | SLOW
        );
        let (slot, next) = self.slot(tail);
        Self::wait_stamp(slot, tail);
        // SAFETY: with `SLOW` set only the lock holder claims positions,
        // and the stamp (acquired) shows the item of the lap before moved
        // out: the slot is this thread's until the stamp below.
        slot.value.with_mut(|v| unsafe { (*v).write(item) });
        slot.stamp.store(tail.wrapping_add(UNIT), Ordering::Release);
        self.tail.0.store(next | SLOW, Ordering::Release);
        next
    }

    /// Pops at position `head`, which is behind the tail, with the lock
    /// held and `SLOW` set; returns the item and the next position.
    pub(crate) fn pop_locked(&self, head: usize) -> (T, usize) {
        debug_assert_eq!(
            self.head.0.load(Ordering::Relaxed) & (POS | SLOW),
            head | SLOW
        );
        let (slot, next) = self.slot(head);
        Self::wait_stamp(slot, head.wrapping_add(UNIT));
        // SAFETY: with `SLOW` set only the lock holder claims positions;
        // `head` is behind `tail`, so a sender claimed it, and the stamp
        // (acquired) shows its item written. The slot is this thread's
        // until the stamp below frees it.
        let item = slot.value.with_mut(|v| unsafe { v.cast::<T>().read() });
        slot.stamp
            .store(head.wrapping_add(self.lap), Ordering::Release);
        self.head.0.store(next | SLOW, Ordering::Release);
        (item, next)
    }
}

impl<T> Drop for FastRing<T> {
    fn drop(&mut self) {
        // No operation is in flight (`&mut self`): every claimed position
        // between `head` and `tail` holds a published item.
        let tail = self.tail.0.load(Ordering::Relaxed) & POS;
        let mut head = self.head.0.load(Ordering::Relaxed) & POS;
        while head != tail {
            let (slot, next) = self.slot(head);
            // SAFETY: positions from `head` to `tail` hold items written
            // and not moved out; each is dropped once.
            slot.value
                .with_mut(|v| unsafe { v.cast::<T>().drop_in_place() });
            head = next;
        }
    }
}

/// Waiting for another thread to finish a claimed slot (or to move on
/// from one): a short spin, then the thread yields, so a claimant that was
/// descheduled gets the processor back instead of a whole time slice being
/// burnt. (Under a strict-priority real-time scheduler a yield does not
/// let a lower-priority claimant run: there, a waiter of higher priority on
/// the claimant's processor spins until the claimant is moved elsewhere.)
#[derive(Default)]
struct Backoff {
    spins: u32,
}

impl Backoff {
    /// Whether a fast operation should stop waiting and ask the lock,
    /// which always knows the answer: never on real threads (a wait ends
    /// once the other thread's store is visible), after a few rounds
    /// under loom. Loom may go on showing a spinning thread values older
    /// than stores already made, while the thread that would make things
    /// move (a receiver parked on an empty ring) waits for the spinner:
    /// without this, a model of three threads never finishes. The lock
    /// path reads the counters with read-modify-writes, which see the
    /// latest values, so the model still checks what a stale read does.
    #[inline]
    fn give_up(&self) -> bool {
        cfg!(anysync_loom) && self.spins >= 4
    }

    /// After a failed claim that expected the counter word `tried` and
    /// found `now`. If the word changed, another operation of the same
    /// side claimed first (the two are most likely running at once on two
    /// processors), or a holder of the lock set `SLOW`. Either way the
    /// thread yields before it tries again: the winner goes on alone for
    /// a while with the counter's and the slots' cache lines its own,
    /// instead of the two taking turns on each line for every message, and
    /// an operation about to ask the lock leaves it to its holder a little
    /// longer. Both were measured in the 4-by-4 channel bench, where two
    /// workers each run a sender half of the time; yielding only when the
    /// position moved was slower there (about 76 ns per message against
    /// 61-64). A send or receive future's own claim does not get here when
    /// the position moved: the future yields to its executor instead
    /// ([`Fast::Busy`]), so this pause is for the callers that cannot
    /// (`try_send`, `try_recv`, a woken waiter using its reservation) and
    /// for a word that changed only in `held` (a lock holder closed and
    /// reopened the ring in between). A weak compare-and-swap that failed
    /// spuriously (the word did not change, as load-linked/store-conditional
    /// targets allow) retries at once. Under loom, where a yield is a scheduling point, and
    /// without `std`, this does nothing.
    #[inline]
    fn failed_claim(&mut self, tried: usize, now: usize) {
        let changed = now != tried;
        #[cfg(all(feature = "std", not(anysync_loom)))]
        if changed {
            std::thread::yield_now();
        }
        #[cfg(not(all(feature = "std", not(anysync_loom))))]
        let _ = changed;
    }

    #[inline]
    fn snooze(&mut self) {
        if self.spins < 64 {
            self.spins += 1;
            hint::spin_loop();
        } else {
            yield_thread();
        }
    }
}

/// Moves `counter` from `word` to the position `next`, keeping the `held`
/// count and `SLOW` clear: fails (with the word found) if the counter
/// changed since `word` was read, `SLOW` and `held` included.
#[inline(always)]
fn claim(counter: &AtomicUsize, word: usize, next: usize) -> Result<usize, usize> {
    #[cfg(all(test, feature = "std", not(anysync_loom)))]
    before_claim::run();
    counter.compare_exchange_weak(
        word,
        next | (word & HELD),
        Ordering::Relaxed,
        Ordering::Relaxed,
    )
}

/// Moves `counter` from `word` to the position `next` and lowers its
/// `held` count by one (the caller's reservation, used), keeping `SLOW`
/// clear: fails (with the word found) if the counter changed since `word`
/// was read.
#[inline]
fn take_held(counter: &AtomicUsize, word: usize, next: usize) -> Result<(), usize> {
    let held = (held(word) - 1) << 1;
    counter
        .compare_exchange_weak(word, next | held, Ordering::Relaxed, Ordering::Relaxed)
        .map(drop)
}

/// Lets the thread that is finishing a claimed slot run.
#[inline]
fn yield_thread() {
    #[cfg(all(feature = "std", not(anysync_loom)))]
    std::thread::yield_now();
    #[cfg(any(not(feature = "std"), anysync_loom))]
    hint::spin_loop();
}

/// A test's hook into the window between a fast operation's read of its
/// counter and its compare-and-swap, where another operation of the same
/// side can claim first.
#[cfg(all(test, feature = "std", not(anysync_loom)))]
pub(crate) mod before_claim {
    use alloc::boxed::Box;
    use core::cell::Cell;

    type Hook = Box<dyn FnOnce()>;

    std::thread_local!(static HOOK: Cell<Option<Hook>> = const { Cell::new(None) });

    /// Runs `f` (once) on this thread before the next fast claim's
    /// compare-and-swap; a claim that `f` makes itself runs no hook.
    pub(crate) fn set(f: impl FnOnce() + 'static) {
        HOOK.with(|hook| hook.set(Some(Box::new(f))));
    }

    pub(super) fn run() {
        if let Some(f) = HOOK.with(Cell::take) {
            f();
        }
    }
}

#[cfg(all(test, not(anysync_loom)))]
mod tests {
    use super::FastRing;

    /// `ahead(pos, n)` is `n` steps of `slot(pos).1`, across the ends of
    /// laps, for every capacity up to 5.
    #[test]
    fn ahead_is_n_steps() {
        for cap in 1..=5 {
            let ring = FastRing::<u8>::new(cap);
            let mut pos = 0;
            for _ in 0..3 * cap {
                let mut step = pos;
                for n in 0..cap {
                    assert_eq!(ring.ahead(pos, n), step, "cap {cap}, pos {pos:#x}, n {n}");
                    step = ring.slot(step).1;
                }
                pos = ring.slot(pos).1;
            }
        }
    }
}

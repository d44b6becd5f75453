//! # Implementation notes
//!
//! `Chan<B>` is the one engine behind [`Queue`](crate::queue::Queue) (FIFO,
//! LIFO and priority), the MPMC [`channel`](crate::channel) and the no-alloc
//! [`StaticChannel`](crate::channel::StaticChannel). Only the [`Buffer`]
//! differs between them.
//!
//! ## Two wait queues, one lock order
//!
//! * `recv`: a [`WaitQueue`] whose state is the buffer plus its counters
//!   ([`State`]) and whose list holds the waiting receivers. Its lock (call it
//!   A) guards everything.
//! * `send`: a second [`WaitQueue`] holding the waiting senders. Its lock (B)
//!   is taken while A is held (order A then B), with one exception: a send
//!   future's [`Wait`] unlinks its node on drop under B alone. It exists
//!   because a wait queue has one list. `State::send_linked` mirrors its
//!   length so that the common paths (nobody waiting to send) never take B.
//!
//! A waiting sender dropped under B alone cannot fix `send_linked` (that
//! needs A, which must not be taken while B is held): it counts itself in
//! B's own state ([`SendState::unlinked`]), releases B, then takes A and B
//! in order and settles the count. Everyone who takes B with A held settles
//! it first ([`Chan::lock_send`]), so under A and B `send_linked` is exact,
//! and in between it can only be too high, which every reader tolerates: a
//! pop that finds no sender after settling grants nothing, and
//! [`Chan::settle`] keeps the ring's fast paths closed until the sender that
//! left settles the count and so reopens them.
//!
//! Fast paths (`try_send`, and a `send`/`recv` that need not wait) take lock
//! A once (on a ring, only when the ring sends them there). A send or
//! receive future makes the ring's first attempt inline on its first poll;
//! the rest of the non-waiting path and the wait, which builds the wait
//! node, run in separate, non-inlined functions. For buffers that cannot panic midway
//! ([`Buffer::MAY_PANIC_MIDWAY`] is `false`: all but the priority order)
//! the common case (open, room or a free item, nobody of the other side to
//! grant) runs without the repair guard; everything else (a waiter to
//! grant, a close to report) goes to cold functions.
//!
//! Nothing is woken, and no user value is dropped, while a lock is held: a
//! push, pop or dropped waiter grants at most one waiter and wakes its
//! waker after unlocking (taken with `QueueGuard::wake_head` into a
//! [`Wakes`], no batch); a close wakes everyone through
//! [`WaitQueue::wake_loop`]; and items dropped by
//! [`Chan::shutdown_immediate`] are dropped one by one outside the lock.
//!
//! ## The lock-free fast path (bounded FIFO channels)
//!
//! An engine built by [`Chan::new_bounded`] (the heap channel and the FIFO
//! `Queue` of capacity at most [`RING_MAX`](Chan::RING_MAX)) keeps its items not in
//! `State::buf` (which stays empty) but in a [`FastRing`]: slots with
//! per-slot stamps and two claim counters, `tail` and `head`, on separate
//! cache lines (see `ring.rs` for the word layout). A send claims `tail`
//! with a compare-and-swap once the slot's stamp shows it free, writes,
//! and publishes by moving the stamp; a receive does the same on `head`.
//! Neither touches lock A. LIFO and priority queues, unbounded and
//! no-alloc channels, engines on 32-bit targets (see `ring.rs`), and
//! every engine built without the `std` feature (where an interrupt
//! handler could wait for a slot claimed by the code it interrupted; see
//! [`uses_ring`](Chan::uses_ring)) have no ring and always take the lock,
//! as described above.
//!
//! Bit 0 of each counter is a `SLOW` bit: in `tail` it closes the fast
//! path of sends, in `head` that of receives. Every holder of lock A that
//! can add a waiter, a reservation or a close, or move the counters, takes
//! the lock through [`Chan::lock_a`], which sets both (with
//! read-modify-writes) before it reads the state; so does a close. (A
//! dropped receiver takes lock A directly: it only passes a grant on, which
//! changes no count, or gives one back, which leaves the count in the
//! counter too high until the next operation through `lock_a` rewrites
//! it, and only sends a fast receive to the lock meanwhile; it does not
//! reopen the fast path.) While the fast path stays closed from one holder
//! of the lock to the next, `lock_a` does not touch the counters again
//! (`State::ring_slow`). A fast compare-and-swap expects its counter's `SLOW` clear, so
//! once both are set no new fast operation claims a position: the counters
//! move only under the lock. A fast operation that claimed before is counted already
//! (its claim precedes the setting of `SLOW` in the counter's modification
//! order, and the lock holder reads the counter after that), and may still
//! be writing or reading its slot: the locked push and pop wait for the
//! slot's stamp (a few instructions of the claimant, a spin then yields).
//! Everything under the lock (`buf_len`, `buf_push`, `buf_pop`) then works
//! on the ring as it did on the buffer, from the positions `lock_a` read
//! with its read-modify-writes and keeps in `State::ring_tail` and
//! `State::ring_head` (only the lock holder moves the counters then).
//!
//! An engine with `task_done` accounting can have a ring too (a receive
//! then cannot count itself in `State::in_flight` without the lock): items
//! in flight are the ring's count of items taken less `State::done`, items
//! marked done or dropped by a shutdown. A bounded FIFO `Queue` has one.
//!
//! When lock A is released ([`Chan::settle`], run by the guard's drop),
//! the `SLOW` bits are cleared only if nobody is linked on either side
//! and the mode is `Open`. `State::send_linked` must be zero for that,
//! so a count that still includes senders that left on their own keeps
//! the ring closed until each of them settles it (under `lock_a`, so the
//! guard's drop then reopens the ring). The same stores
//! write the reservations into the counters' `held` fields: in `tail` the
//! slots reserved (granted to woken senders, held by permits), in `head`
//! the items reserved (granted to woken receivers). A fast send claims
//! only if a slot is left that is neither full nor reserved, a fast
//! receive only if more items are buffered than are reserved; otherwise
//! they take the lock. `held` is part of the word a fast operation's
//! compare-and-swap checks, and the lock holder writes it only with `SLOW`
//! set, so a claim succeeds only if the reservations it counted are still
//! those in force (see `ring.rs`). Hence the invariants: **`SLOW` clear ⇒
//! nobody linked, open, and `held` counts at least the reservations.**
//! A woken waiter that has not run yet (on a busy executor, most of the
//! time) thus keeps only what it was granted, and the fast paths stay open
//! around it; before `held` existed, it closed its side's fast path until
//! it ran, and with several tasks per thread nearly every operation took
//! the lock.
//!
//! When it runs, a woken waiter (and a permit's send) uses what it holds
//! without the lock if the fast paths are open: a woken receiver moves
//! `head` past an item and a woken sender moves `tail` past a free slot,
//! each lowering that counter's `held` by one in the same
//! compare-and-swap ([`FastRing::pop_reserved`],
//! [`FastRing::push_reserved`]). A wait thus closes the fast paths while
//! the waiter is linked, but not a second time when it runs, which would
//! send every operation that arrives meanwhile to the lock too. The
//! counts under the lock (`items_reserved`, `slots_reserved`) are not
//! touched then; [`Chan::lock_a`], when it closes the paths, subtracts
//! what the counters' `held` lost since [`Chan::settle`] last wrote them
//! (`State::ring_held_open`), and inspection (`stats`, `is_full`) does the
//! same sum without closing them. With `SLOW` set, the waiter takes the
//! lock as before. That is what makes the fast path keep every guarantee:
//!
//! * FIFO: a newcomer (including `try_send`/`try_recv`) takes the fast path
//!   only while nobody waits, and never takes what is granted, so it
//!   cannot overtake a waiter; otherwise it goes through the lock, where
//!   grants are honoured. (A newcomer may take an item that arrived after
//!   a woken receiver's grant, as it may under the lock: the grant is a
//!   count, and the woken receiver takes the next item when it runs.)
//! * No lost wake-up: a receiver about to link sets `SLOW` under the lock
//!   before its last look at the ring. A sender's claim either came first
//!   (then the receiver counts the item and takes it instead of linking) or
//!   fails (then the sender takes the lock and grants the linked receiver).
//!   The same holds for a sender linking against a fast receive.
//! * A `reserve_many` collecting slots (linked) and a close keep `SLOW`
//!   set while they last; a permit and a woken waiter's grant are counted
//!   in `held`. A fast "full" answer is given only when every slot holds an
//!   item, and a fast "empty" only when none does and `held` counts no
//!   grant: then it is the whole truth.
//! * No allocation per wait: the slots are allocated once, with the engine.
//!
//! A fast path that finds `SLOW` set falls back to the locked code, whose
//! guard clears `SLOW` again on the way out if the engine is quiet: the
//! waits are rare, so the lock is taken rarely.
//!
//! A send or receive future whose claim another operation of its side
//! wins (the position moved, `SLOW` still clear) returns `Pending` after
//! waking its own task, with nothing claimed, reserved or queued, and
//! tries again when polled: its worker thread runs another task meanwhile
//! instead of pausing (see [`FastRing::push_rest`]). `try_send` and
//! `try_recv`, which cannot yield, pause the thread and try again.
//!
//! ## Wakers
//!
//! A waiting future clones its waker before it takes lock A whenever it is
//! about to join a queue (its node is not queued yet), so a `Waker::clone`
//! that calls back into the same channel cannot deadlock. The one clone left
//! under the lock is `WaitNode::update_waker`, when a queued future is polled
//! again with a waker that will not wake the same task; the public docs of
//! each waiting operation say so in a `# Wakers` paragraph.
//!
//! ## Grants, not retries
//!
//! Waking a waiter *grants* it something, recorded in its node's [`Grant`]:
//!
//! * a pop with senders queued grants the freed slot to the head sender
//!   (`slots_reserved += 1`); the slot is no longer free for anyone else.
//!   A head that reserves several slots (`reserve_many(n)`) collects them
//!   one by one in its node ([`SendWant`]) while it stays linked, and is
//!   woken once it has `n`: nobody behind it gets a slot first, and two
//!   such reservations never hold part of what the other needs (only the
//!   head collects). A permit holds its slot in `slots_reserved` until it
//!   sends ([`Chan::send_reserved`]) or is dropped
//!   ([`Chan::release_slots`], which grants the slot on as a pop would);
//! * a push with receivers queued grants the new item to the head receiver
//!   (`items_reserved += 1`); the item is no longer available to anyone else.
//!
//! So newcomers (including `try_*`) never overtake queued waiters: strictly
//! first come, first served on both sides. A woken waiter that is dropped
//! before it uses its grant passes it to the next waiter of its kind, or,
//! if there is none, gives it back (`*_reserved -= 1`): that is the
//! [`WaitOwner::abandon`] of each side, run by the future's [`Wait`] on
//! drop. An item leaves the buffer only inside the poll that returns it,
//! and a sender's item stays in its future until the poll that moves it
//! into the buffer.
//!
//! ## User code under the lock
//!
//! The one piece of user code that runs with lock A held is the `Ord` of a
//! [`PriorityQueue`](crate::queue::PriorityQueue)'s items, inside
//! [`Buffer::push`] and [`Buffer::pop`] (so its buffer sets
//! [`Buffer::MAY_PANIC_MIDWAY`]). Both run through [`Chan::guarded`]: if they panic, the counters and grants are repaired
//! from what the buffer then holds before the lock is released, and the
//! waiters granted by the repair are woken as the panic unwinds.
//!
//! ## Invariants (with locks A and B held)
//!
//! (`buf.len()` is the ring's count of claimed items when there is one.)
//!
//! * `buf.len() + slots_reserved <= cap`.
//! * `items_reserved <= buf.len()`, except after `shutdown_immediate`, when
//!   the buffer is emptied while woken receivers still count as reserved;
//!   they find the mode `Immediate` and never pop.
//! * Receivers linked ⇒ every buffered item is reserved
//!   (`buf.len() == items_reserved`).
//! * Senders linked ⇒ no free slot (`buf.len() + slots_reserved == cap`).
//! * `send_linked` equals the length of the `send` list (once settled).
//! * Once the mode leaves `Open` it never returns, and no sender is linked.
//! * Receivers linked while not `Open` are waiting for items reserved by
//!   other woken receivers; the pop that empties the buffer wakes them.
//!
//! Closing wakes every linked waiter with `Grant::Closed`. For a receiver
//! that is "re-check": it takes an item if one is free, links again if the
//! remaining items are all reserved by others, and otherwise reports closed.
//! So receivers drain what is left after a graceful close.

use core::{
    fmt,
    marker::PhantomData,
    mem,
    ops::{Deref, DerefMut},
    pin::Pin,
    task::{Context, Poll, Waker},
};

pub(crate) mod buffer;
#[cfg(feature = "alloc")]
mod ring;
#[cfg(feature = "alloc")]
pub(crate) mod slots;
#[cfg(all(test, feature = "std"))]
mod tests;

use crate::waitq::{QueueGuard, Visit, Wait, WaitNode, WaitOwner, WaitQueue, WaitState};
pub(crate) use buffer::{Buffer, Ring};
#[cfg(feature = "alloc")]
pub(crate) use buffer::{FifoBuf, LifoBuf, PriorityBuf};
#[cfg(feature = "alloc")]
use ring::{Fast, FastRing, PopAgain, PushAgain};

/// What a woken waiter was given.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub(crate) enum Grant {
    /// Nothing (not woken, or the grant was consumed).
    #[default]
    None,
    /// A sender: a reserved free slot. A receiver: a reserved item.
    Granted,
    /// Woken by a close: re-check.
    Closed,
}

/// The data of a waiting sender's node: what it was granted and how many
/// slots it waits for. A send (or `reserve`) wants one slot; a
/// `reserve_many(n)` wants `n`, and while it waits at the head the slots
/// freed one by one are assigned to it (`got`, counted in
/// `State::slots_reserved`) until it has them all.
///
/// The counts are 32-bit (`reserve_many` takes at most `u32::MAX`), so the
/// node of a waiting sender is a word smaller: that word keeps a send
/// future of a `u64` at 104 bytes, and the `async` block that awaits it
/// within the 128 bytes the compiler moves with inline stores.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct SendWant {
    grant: Grant,
    /// Slots wanted in all.
    want: u32,
    /// Slots assigned to it so far.
    got: u32,
}

impl SendWant {
    /// A sender waiting for `want` slots, holding none yet.
    ///
    /// # Panics
    /// If `want` is above `u32::MAX` (`reserve_many` checks it first).
    #[inline]
    pub(crate) fn new(want: usize) -> Self {
        Self {
            grant: Grant::None,
            want: u32::try_from(want)
                .expect("anysync bug: a sender waits for more than u32::MAX slots"),
            got: 0,
        }
    }

    /// Slots assigned to it so far.
    #[inline]
    fn got(&self) -> usize {
        self.got as usize
    }

    /// Takes what the node was given, leaving it ready to wait again for
    /// as many slots.
    #[inline]
    fn take(&mut self) -> Self {
        let out = *self;
        self.grant = Grant::None;
        self.got = 0;
        out
    }
}

/// Whether the engine accepts items.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Mode {
    /// Sends and receives work.
    Open,
    /// Sends fail; receivers drain what is buffered, then fail.
    Closed,
    /// Sends and receives fail; the buffer is being (or has been) emptied.
    Immediate,
}

/// Everything guarded by lock A.
pub(crate) struct State<B> {
    buf: B,
    /// The most items held; `usize::MAX` when `unbounded` (never reached).
    cap: usize,
    /// No limit: `cap` is only a marker that cannot be reached. Kept apart
    /// so that a real capacity of `usize::MAX` is still reported as one.
    unbounded: bool,
    mode: Mode,
    /// Slots that are not free although empty: granted to woken senders,
    /// held by permits (`reserve`), or set aside for a `reserve_many` still
    /// waiting at the head for the rest ([`SendWant::got`]).
    slots_reserved: usize,
    /// Buffered items granted to woken receivers, not yet taken.
    items_reserved: usize,
    /// The number of senders linked in `Chan::send`, plus those that
    /// unlinked themselves and are counted in [`SendState::unlinked`] until
    /// settled.
    send_linked: usize,
    /// Count items taken by receivers in `in_flight` (a queue without a
    /// ring; with a ring the count is derived, see `done`).
    track_done: bool,
    /// Items taken and not yet marked done (a queue without a ring).
    in_flight: usize,
    /// A queue (`task_done` accounting), with or without a ring.
    #[cfg_attr(not(feature = "alloc"), allow(dead_code))] // read with a ring
    tracked: bool,
    /// A queue with a ring: items marked done plus items dropped by a
    /// shutdown, counted modulo [`FastRing::modulus`]. Items in flight are
    /// the ring's count of items taken less this.
    #[cfg_attr(not(feature = "alloc"), allow(dead_code))] // read with a ring
    done: usize,
    /// With a ring: its `tail` position as read by [`Chan::lock_a`] and
    /// moved by the locked push. Valid only while lock A, so taken, is
    /// held (it cannot move then).
    #[cfg_attr(not(feature = "alloc"), allow(dead_code))]
    ring_tail: usize,
    /// As `ring_tail`, for `head` and the locked pop.
    #[cfg_attr(not(feature = "alloc"), allow(dead_code))]
    ring_head: usize,
    /// With a ring: both `SLOW` bits are set and have stayed set since a
    /// holder of lock A set them, so `ring_tail` and `ring_head` are exact
    /// and [`Chan::lock_a`] need not touch the counters' lines again.
    /// Cleared by [`Chan::settle`] when it reopens the fast paths.
    #[cfg_attr(not(feature = "alloc"), allow(dead_code))]
    ring_slow: bool,
    /// With a ring: the `held` counts [`Chan::settle`] last wrote when it
    /// opened the fast paths (`slots_reserved`, `items_reserved`). While
    /// they are open, a woken waiter or a permit may use its reservation
    /// without the lock, lowering `held` in the counter but not the count
    /// here; [`Chan::lock_a`] subtracts what the counters lost since. (It
    /// subtracts rather than copies: a dropped woken receiver gives its
    /// grant back here, under the lock, without touching the counter.)
    #[cfg_attr(not(feature = "alloc"), allow(dead_code))]
    ring_held_open: (usize, usize),
}

/// Everything guarded by lock B.
pub(crate) struct SendState {
    /// Waiting senders whose futures were dropped (unlinked under B alone)
    /// and not yet subtracted from `State::send_linked`.
    unlinked: usize,
}

/// Marks the receivers' queue (lock A) of a [`Chan`] in `Wait<_, RecvSide>`.
pub(crate) enum RecvSide {}

/// Marks the senders' queue (lock B) of a [`Chan`] in `Wait<_, SendSide>`.
pub(crate) enum SendSide {}

/// Why a non-waiting send failed.
#[derive(Debug)]
pub(crate) enum TrySend<T> {
    Full(T),
    Closed(T),
}

/// Why a non-waiting receive failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TryRecv {
    Empty,
    Closed,
}

/// A send that [`Chan::try_send_first`] did not finish, for
/// [`Chan::try_send_rest`].
pub(crate) enum SendAgain<T> {
    /// The ring's first attempt did not send.
    #[cfg(feature = "alloc")]
    Ring(PushAgain<T>),
    /// The engine has no ring: the lock decides.
    Locked(T),
}

/// A receive that [`Chan::try_recv_first`] did not finish, for
/// [`Chan::try_recv_rest`].
pub(crate) enum RecvAgain<T> {
    /// The ring's first attempt took nothing.
    #[cfg(feature = "alloc")]
    Ring(PopAgain<T>),
    /// The engine has no ring: the lock decides. (`T` is the ring's item
    /// type; without `alloc` there is no ring.)
    Locked(PhantomData<fn() -> T>),
}

/// A snapshot of the engine's counters, for tests and `Debug`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[allow(dead_code)] // fields are read by tests and Debug output
pub(crate) struct Stats {
    pub(crate) len: usize,
    /// `None` when unbounded.
    pub(crate) cap: Option<usize>,
    pub(crate) mode: Mode,
    pub(crate) slots_reserved: usize,
    pub(crate) items_reserved: usize,
    pub(crate) send_waiters: usize,
    pub(crate) recv_waiters: usize,
    pub(crate) in_flight: usize,
}

/// The queue engine: a buffer with waiting senders and receivers.
pub(crate) struct Chan<B: Buffer> {
    /// The lock-free slots of a bounded FIFO engine built by
    /// [`Chan::new_bounded`]; then `State::buf` stays empty and unused.
    #[cfg(feature = "alloc")]
    ring: Option<FastRing<B::Item>>,
    /// Lock A: the state, and the receivers' list.
    recv: WaitQueue<State<B>, Grant>,
    /// Lock B (taken with A held, or alone by a dropped send future): the
    /// senders' list.
    send: WaitQueue<SendState, SendWant>,
}

/// Where a send or reserve future stands when polled
/// ([`Chan::poll_queued_sender`]).
enum QueuedSender {
    /// Not queued: try the fast path, then queue.
    Fresh,
    /// Queued and still waiting.
    Waiting,
    /// Woken and unlinked, with what it was granted.
    Woken(SendWant),
}

type RecvGuard<'a, B> = QueueGuard<'a, State<B>, Grant>;
type SendGuard<'a> = QueueGuard<'a, SendState, SendWant>;

/// Lock A as [`Chan::lock_a`] takes it: dropping it runs
/// [`Chan::settle`], then unlocks.
struct Locked<'a, B: Buffer> {
    chan: &'a Chan<B>,
    q: RecvGuard<'a, B>,
}

impl<'a, B: Buffer> Deref for Locked<'a, B> {
    type Target = RecvGuard<'a, B>;

    #[inline]
    fn deref(&self) -> &RecvGuard<'a, B> {
        &self.q
    }
}

impl<B: Buffer> DerefMut for Locked<'_, B> {
    #[inline]
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.q
    }
}

impl<B: Buffer> Drop for Locked<'_, B> {
    #[inline]
    fn drop(&mut self) {
        self.chan.settle(&mut self.q);
    }
}

/// The wakers a push, pop or dropped waiter took out under the lock (at
/// most one per side: each grants one item or one slot), woken when this
/// is dropped.
///
/// Every user declares it **before** taking the lock, so it is dropped
/// after the lock guard, also when a panic (a `PriorityQueue` item's `Ord`)
/// unwinds out: the waiters granted by the repair are then still woken.
#[derive(Default)]
struct Wakes {
    recv: Option<Waker>,
    send: Option<Waker>,
}

impl Drop for Wakes {
    #[inline]
    fn drop(&mut self) {
        // Woken even if the first wake panics.
        let _send = self.send.take().map(WakeOnDrop);
        if let Some(waker) = self.recv.take() {
            waker.wake();
        }
    }
}

struct WakeOnDrop(Waker);

impl Drop for WakeOnDrop {
    fn drop(&mut self) {
        self.0.wake_by_ref();
    }
}

/// Grants the head waiter of `q`: marks it `Granted`, runs `on_grant` on
/// the state and returns the waker to wake once the lock is released.
/// `None` if nobody waits.
#[inline]
fn grant_head<S>(q: &mut QueueGuard<'_, S, Grant>, on_grant: impl FnOnce(&mut S)) -> Option<Waker> {
    let mut on_grant = Some(on_grant);
    q.wake_head(|state, grant, _| match on_grant.take() {
        Some(f) => {
            *grant = Grant::Granted;
            f(state);
            Visit::Wake
        }
        None => Visit::Stop,
    })
}

impl<B: Buffer> Chan<B> {
    crate::util::macros::loom_const_fn!(
        /// An open engine over `buf`, holding at most `cap` items (`None`:
        /// no limit).
        pub(crate) fn new(buf: B, cap: Option<usize>, track_done: bool) -> Self {
            let (cap, unbounded) = match cap {
                Some(cap) => (cap, false),
                None => (usize::MAX, true),
            };
            Self {
                #[cfg(feature = "alloc")]
                ring: None,
                recv: WaitQueue::new(State {
                    buf,
                    cap,
                    unbounded,
                    mode: Mode::Open,
                    slots_reserved: 0,
                    items_reserved: 0,
                    send_linked: 0,
                    track_done,
                    in_flight: 0,
                    tracked: track_done,
                    done: 0,
                    ring_tail: 0,
                    ring_head: 0,
                    ring_slow: false,
                    ring_held_open: (0, 0),
                }),
                send: WaitQueue::new(SendState { unlinked: 0 }),
            }
        }
    );

    /// Takes lock B (A is held: `st` is A's state) and settles the count
    /// of senders that unlinked themselves.
    #[inline]
    fn lock_send(&self, st: &mut State<B>) -> SendGuard<'_> {
        let mut s = self.send.lock();
        let unlinked = mem::take(&mut s.state().unlinked);
        st.send_linked -= unlinked;
        s
    }

    /// Runs `op` on the buffer. For a `PriorityQueue` that runs the items'
    /// `Ord`, which may panic: then, before the lock is released, the
    /// grants are repaired from what the buffer holds (see
    /// [`repair`](Self::repair)) and the waiters granted go into `wakes`,
    /// which the caller declared before the lock and so wakes after it.
    #[inline]
    fn guarded<R>(
        &self,
        q: &mut RecvGuard<'_, B>,
        wakes: &mut Wakes,
        op: impl FnOnce(&mut B) -> R,
    ) -> R {
        if !B::MAY_PANIC_MIDWAY {
            // A panic here leaves the buffer as it was: nothing to repair.
            return op(&mut q.state().buf);
        }
        struct Repair<'g, 'q, B: Buffer> {
            chan: &'g Chan<B>,
            q: &'g mut RecvGuard<'q, B>,
            wakes: &'g mut Wakes,
        }
        impl<B: Buffer> Drop for Repair<'_, '_, B> {
            fn drop(&mut self) {
                self.chan.repair(self.q, self.wakes);
            }
        }
        let repair = Repair {
            chan: self,
            q,
            wakes,
        };
        let out = op(&mut repair.q.state().buf);
        // Not unwinding: the caller does its own accounting.
        mem::forget(repair);
        out
    }

    /// Restores the invariants after a buffer operation panicked, whatever
    /// it left behind: an item that no waiting receiver was granted goes to
    /// the head receiver, a free slot to the head sender.
    #[cold]
    #[inline(never)]
    fn repair(&self, q: &mut RecvGuard<'_, B>, wakes: &mut Wakes) {
        let st = q.state_ref();
        if st.mode != Mode::Immediate
            && self.buf_len(st) > st.items_reserved
            && !q.is_empty()
            && wakes.recv.is_none()
        {
            wakes.recv = grant_head(q, |st: &mut State<B>| st.items_reserved += 1);
        }
        let st = q.state();
        if st.mode == Mode::Open
            && st.send_linked > 0
            && self.buf_len(st) + st.slots_reserved < st.cap
            && wakes.send.is_none()
        {
            self.grant_slot_locked(st, wakes);
        }
    }

    // ----- the buffer, or the ring -----

    /// Takes lock A. With a ring, also closes its fast path (sets `SLOW`)
    /// before anything is read, and reopens it when the guard is dropped if
    /// nothing then needs the lock (see [`settle`](Self::settle)).
    ///
    /// While the fast path stays closed from one holder to the next (a
    /// waiter or a grant keeps it so), the positions the last holder left
    /// in the state are exact (nobody else moves the counters then), so
    /// the counters' two contended lines are not touched again.
    #[inline]
    fn lock_a(&self) -> Locked<'_, B> {
        #[cfg_attr(not(feature = "alloc"), allow(unused_mut))]
        let mut q = self.recv.lock();
        #[cfg(feature = "alloc")]
        if let Some(ring) = &self.ring {
            let st = q.state();
            if !st.ring_slow {
                let closed = ring.set_slow();
                st.ring_tail = closed.tail;
                st.ring_head = closed.head;
                // Reservations used without the lock since the fast paths
                // opened ([`FastRing::push_reserved`], `pop_reserved`).
                let (slots, items) = st.ring_held_open;
                st.slots_reserved -= slots - closed.slots_held;
                st.items_reserved -= items - closed.items_held;
                st.ring_slow = true;
            }
        }
        Locked { chan: self, q }
    }

    /// Run as lock A (taken by [`lock_a`](Self::lock_a)) is released: if
    /// nobody waits on either side and the engine is open, reopens the
    /// ring's fast paths, telling them how many slots and items are
    /// reserved (they leave those alone). Otherwise `SLOW` stays set, so
    /// newcomers go through the lock and keep to the line.
    #[inline]
    fn settle(&self, q: &mut RecvGuard<'_, B>) {
        #[cfg(feature = "alloc")]
        if let Some(ring) = &self.ring {
            let st = q.state_ref();
            // `send_linked` may still count senders that left on their own
            // (see the module docs). Not settled here, which would take
            // lock B on every release while senders wait: each of those
            // senders takes A right after it counted itself, settles, and
            // so runs this again with the exact count.
            if st.mode != Mode::Open || !q.is_empty() || !st.ring_slow || st.send_linked != 0 {
                return;
            }
            let st = q.state();
            if ring.open(
                st.ring_tail,
                st.slots_reserved,
                st.ring_head,
                st.items_reserved,
            ) {
                st.ring_slow = false;
                st.ring_held_open = (st.slots_reserved, st.items_reserved);
            }
        }
        #[cfg(not(feature = "alloc"))]
        let _ = q;
    }

    /// `slots_reserved` and `items_reserved`, with lock A taken without
    /// closing the fast path (for inspection): with a ring whose fast
    /// paths are open, less the reservations used since without the lock,
    /// as [`lock_a`](Self::lock_a) counts them (a snapshot).
    fn reserved_now(&self, st: &State<B>) -> (usize, usize) {
        #[cfg(feature = "alloc")]
        if let (Some(ring), false) = (&self.ring, st.ring_slow) {
            let (slots, items) = ring.held_now();
            let (slots_open, items_open) = st.ring_held_open;
            return (
                st.slots_reserved - (slots_open - slots),
                st.items_reserved - (items_open - items),
            );
        }
        (st.slots_reserved, st.items_reserved)
    }

    /// The number of items held (claimed, with a ring), with lock A taken
    /// by [`lock_a`](Self::lock_a).
    #[inline]
    fn buf_len(&self, st: &State<B>) -> usize {
        #[cfg(feature = "alloc")]
        if let Some(ring) = &self.ring {
            return ring.len_at(st.ring_head, st.ring_tail);
        }
        st.buf.len()
    }

    /// As [`buf_len`](Self::buf_len), with lock A taken without closing
    /// the fast path (for inspection): a snapshot.
    fn len_snapshot(&self, st: &State<B>) -> usize {
        #[cfg(feature = "alloc")]
        if let Some(ring) = &self.ring {
            return ring.len();
        }
        st.buf.len()
    }

    /// Pushes with lock A held; nothing to repair (not for a buffer that
    /// may panic midway, see [`push_buf`](Self::push_buf)).
    #[inline]
    fn buf_push(&self, st: &mut State<B>, item: B::Item) {
        #[cfg(feature = "alloc")]
        if let Some(ring) = &self.ring {
            st.ring_tail = ring.push_locked(st.ring_tail, item);
            return;
        }
        st.buf.push(item);
    }

    /// Pops with lock A held; as [`buf_push`](Self::buf_push).
    #[inline]
    fn buf_pop(&self, st: &mut State<B>) -> Option<B::Item> {
        #[cfg(feature = "alloc")]
        if let Some(ring) = &self.ring {
            if st.ring_head == st.ring_tail {
                return None;
            }
            let (item, head) = ring.pop_locked(st.ring_head);
            st.ring_head = head;
            return Some(item);
        }
        st.buf.pop()
    }

    /// Pushes with lock A held, through [`guarded`](Self::guarded).
    #[inline]
    fn push_buf(&self, q: &mut RecvGuard<'_, B>, wakes: &mut Wakes, item: B::Item) {
        #[cfg(feature = "alloc")]
        if self.ring.is_some() {
            self.buf_push(q.state(), item);
            return;
        }
        self.guarded(q, wakes, |buf| buf.push(item));
    }

    /// Pops with lock A held, through [`guarded`](Self::guarded).
    #[inline]
    fn pop_buf(&self, q: &mut RecvGuard<'_, B>, wakes: &mut Wakes) -> Option<B::Item> {
        #[cfg(feature = "alloc")]
        if self.ring.is_some() {
            return self.buf_pop(q.state());
        }
        self.guarded(q, wakes, |buf| buf.pop())
    }

    // ----- sending -----

    /// The ring of an engine whose first attempt went to it.
    ///
    /// # Panics
    /// If the engine has no ring (a bug in this module).
    #[cfg(feature = "alloc")]
    #[inline]
    fn ring(&self) -> &FastRing<B::Item> {
        self.ring
            .as_ref()
            .expect("anysync bug: a ring's operation without a ring")
    }

    /// Sends without waiting: [`try_send_first`](Self::try_send_first),
    /// then [`try_send_rest`](Self::try_send_rest) if that did not send.
    #[inline]
    pub(crate) fn try_send(&self, item: B::Item) -> Result<(), TrySend<B::Item>> {
        self.try_send_first(item).or_else(|again| {
            // Not in a task: `Busy` is never the answer (and the lock would
            // be a right one).
            self.try_send_rest(again, false)
                .unwrap_or_else(|item| self.try_send_locked(item))
        })
    }

    /// The first attempt of a send, inline: the ring's first claim, and
    /// nothing else. It answers only when it sent; anything else is for
    /// [`try_send_rest`](Self::try_send_rest), which the send future runs
    /// out of line (`SendFut::poll_send_again`), so that the send that
    /// finds room is a few loads, a compare-and-swap and two stores in the
    /// caller's own code.
    #[inline(always)]
    fn try_send_first(&self, item: B::Item) -> Result<(), SendAgain<B::Item>> {
        #[cfg(feature = "alloc")]
        if let Some(ring) = &self.ring {
            return ring.push_first(item).map_err(SendAgain::Ring);
        }
        Err(SendAgain::Locked(item))
    }

    /// The rest of [`try_send`](Self::try_send) after
    /// [`try_send_first`](Self::try_send_first): the ring's retries, then
    /// the lock if the ring sends there.
    ///
    /// `in_task`: the caller is a send future, which yields to its
    /// executor when its claim is lost to another sender
    /// ([`FastRing::push_rest`]): the answer is `Err(item)` then, and
    /// otherwise `try_send`'s, in `Ok`.
    #[inline]
    #[cfg_attr(not(feature = "alloc"), allow(unused_variables))] // only a ring yields
    fn try_send_rest(
        &self,
        again: SendAgain<B::Item>,
        in_task: bool,
    ) -> Result<Result<(), TrySend<B::Item>>, B::Item> {
        Ok(match again {
            #[cfg(feature = "alloc")]
            SendAgain::Ring(again) => match self.ring().push_rest(again, in_task) {
                Ok(()) => Ok(()),
                Err(Fast::Done(item)) => Err(TrySend::Full(item)),
                Err(Fast::Slow(item)) => self.try_send_locked(item),
                Err(Fast::Busy(item)) => return Err(item),
            },
            SendAgain::Locked(item) => self.try_send_locked(item),
        })
    }

    /// [`try_send`](Self::try_send) under lock A: the only path of a
    /// buffer without a ring, the slow path of one with a ring.
    #[inline(never)]
    fn try_send_locked(&self, item: B::Item) -> Result<(), TrySend<B::Item>> {
        if B::MAY_PANIC_MIDWAY {
            return self.try_send_guarded(item);
        }
        // The buffer's push cannot panic after changing it, so there is
        // nothing to repair and at most the granted receiver to wake.
        let mut q = self.lock_a();
        let st = q.state();
        if st.mode != Mode::Open || self.buf_len(st) + st.slots_reserved >= st.cap {
            let closed = st.mode != Mode::Open;
            drop(q);
            return Err(if closed {
                TrySend::Closed(item)
            } else {
                TrySend::Full(item)
            });
        }
        self.buf_push(st, item);
        if q.is_empty() {
            return Ok(());
        }
        let waker = self.grant_pushed(&mut q);
        drop(q);
        if let Some(waker) = waker {
            waker.wake();
        }
        Ok(())
    }

    /// [`try_send`](Self::try_send) for a buffer whose push runs user code
    /// that may panic midway (a `PriorityQueue`'s `Ord`).
    #[inline(never)]
    fn try_send_guarded(&self, item: B::Item) -> Result<(), TrySend<B::Item>> {
        let mut wakes = Wakes::default();
        let mut q = self.lock_a();
        let st = q.state();
        if st.mode != Mode::Open {
            return Err(TrySend::Closed(item));
        }
        if self.buf_len(st) + st.slots_reserved >= st.cap {
            return Err(TrySend::Full(item));
        }
        self.push_locked(&mut q, item, &mut wakes);
        drop(q);
        drop(wakes); // wakes the receiver granted the item, if any
        Ok(())
    }

    /// Sends without waiting, making room in a full engine by taking out
    /// the oldest item that is not promised to a woken receiver; returns
    /// that item. `Full` only when there is none (every item is promised,
    /// or every slot is reserved).
    pub(crate) fn force_send(&self, item: B::Item) -> Result<Option<B::Item>, TrySend<B::Item>> {
        let mut wakes = Wakes::default();
        let mut q = self.lock_a();
        let st = q.state();
        if st.mode != Mode::Open {
            return Err(TrySend::Closed(item));
        }
        let mut evicted = None;
        if self.buf_len(st) + st.slots_reserved >= st.cap {
            if self.buf_len(st) <= st.items_reserved {
                return Err(TrySend::Full(item));
            }
            // The slot is reused at once: waiting senders stay waiting.
            evicted = self.pop_buf(&mut q, &mut wakes);
            #[cfg(feature = "alloc")]
            if evicted.is_some() && self.ring.is_some() {
                // The ring counts it as taken, but nobody got it: it is
                // not in flight (a queue's `task_done` is not owed for it).
                self.mark_done(q.state());
            }
        }
        self.push_locked(&mut q, item, &mut wakes);
        drop(q);
        drop(wakes);
        Ok(evicted)
    }

    /// Pushes into a slot that is known to be free (or granted), granting
    /// the new item to the head receiver if one is linked.
    ///
    /// The granted receiver's waker goes into `wakes`, for the caller to
    /// wake after unlocking.
    #[inline]
    fn push_locked(&self, q: &mut RecvGuard<'_, B>, item: B::Item, wakes: &mut Wakes) {
        let st = q.state_ref();
        debug_assert!(self.buf_len(st) + st.slots_reserved < st.cap);
        self.push_buf(q, wakes, item);
        if !q.is_empty() {
            self.grant_item_locked(q, wakes);
        }
    }

    #[cold]
    fn grant_item_locked(&self, q: &mut RecvGuard<'_, B>, wakes: &mut Wakes) {
        wakes.recv = self.grant_pushed(q);
    }

    /// Grants the item just pushed to the head receiver (one is linked);
    /// returns its waker, to wake once the lock is released.
    #[cold]
    #[inline(never)]
    fn grant_pushed(&self, q: &mut RecvGuard<'_, B>) -> Option<Waker> {
        debug_assert_eq!(
            self.buf_len(q.state_ref()),
            q.state_ref().items_reserved + 1
        );
        grant_head(q, |st: &mut State<B>| st.items_reserved += 1)
    }

    /// The step a send and a reserve share, with lock A held: where a
    /// queued sender stands. Still waiting, its waker is refreshed (the
    /// replaced one goes to `stale`, to drop after unlocking); woken, it is
    /// unlinked and its grant taken. `woken` is a grant the caller already
    /// took before the lock (see [`poll_send`](Self::poll_send)).
    fn poll_queued_sender(
        &self,
        q: &mut RecvGuard<'_, B>,
        node: &mut WaitNode<'_, SendWant>,
        cx: &Context<'_>,
        stale: &mut Option<Waker>,
        woken: Option<SendWant>,
    ) -> QueuedSender {
        if let Some(want) = woken {
            return QueuedSender::Woken(want);
        }
        if !node.is_queued() {
            return QueuedSender::Fresh;
        }
        // The hand-off's hot path: a woken sender takes its grant without
        // lock B (the granter unlinked it and moved its waker out). Every
        // wake of a sender happens under lock A, which the caller holds,
        // so the `Woken` arm below is only a fallback.
        if let Some(want) = node.take_woken(SendWant::take) {
            return QueuedSender::Woken(want);
        }
        let mut s = self.lock_send(q.state());
        match node.state(&s) {
            WaitState::Waiting => {
                *stale = node.update_waker(&mut s, cx.waker());
                QueuedSender::Waiting
            }
            WaitState::Woken => {
                let (_, old) = node.remove(&mut s);
                *stale = old;
                QueuedSender::Woken(node.data(&mut s, SendWant::take))
            }
            // Not reachable: a queued waiter is linked or woken. Treat it
            // as a fresh one.
            WaitState::Idle => QueuedSender::Fresh,
        }
    }

    /// Poll logic of a waiting send. On `Ready(Ok)`, `item` has been moved
    /// into the buffer; on `Ready(Err)` it is handed back; on `Pending` it
    /// is still in `item` and `node` is queued.
    pub(crate) fn poll_send(
        &self,
        node: &mut WaitNode<'_, SendWant>,
        item: &mut Option<B::Item>,
        cx: &mut Context<'_>,
    ) -> Poll<Result<(), B::Item>> {
        // As in `poll_recv`: a woken sender takes its grant without the
        // lock, and with an open ring sends into the granted slot without
        // it too (see [`FastRing::push_reserved`]).
        let woken = node.take_woken(SendWant::take);
        #[cfg(feature = "alloc")]
        if let (Some(want), Some(ring)) = (woken, &self.ring) {
            // A send waits for one slot.
            if want.grant == Grant::Granted && want.want == 1 {
                let value = item
                    .take()
                    .expect("anysync bug: send polled without an item");
                match ring.push_reserved(value) {
                    Ok(()) => return Poll::Ready(Ok(())),
                    Err(value) => *item = Some(value),
                }
            }
        }
        let mut wakes = Wakes::default();
        let mut stale = None;
        // A send that is not queued yet is about to wait: clone the waker
        // (executor code) before the lock, so that a `Waker::clone` that
        // calls back into this channel cannot deadlock, and a panicking one
        // changes nothing.
        let mut fresh = (woken.is_none() && !node.is_queued()).then(|| cx.waker().clone());
        let mut q = self.lock_a();
        let out = 'out: {
            match self.poll_queued_sender(&mut q, node, cx, &mut stale, woken) {
                QueuedSender::Fresh => {}
                QueuedSender::Waiting => break 'out Poll::Pending,
                QueuedSender::Woken(want) => {
                    let value = item
                        .take()
                        .expect("anysync bug: send polled without an item");
                    if want.grant != Grant::Granted {
                        // Woken by a close, which is permanent. A send
                        // wants one slot, so it holds none.
                        debug_assert_eq!(want.got, 0);
                        break 'out Poll::Ready(Err(value));
                    }
                    let st = q.state();
                    st.slots_reserved -= 1;
                    if st.mode != Mode::Open {
                        break 'out Poll::Ready(Err(value));
                    }
                    self.push_locked(&mut q, value, &mut wakes);
                    break 'out Poll::Ready(Ok(()));
                }
            }
            let st = q.state();
            if st.mode != Mode::Open {
                let value = item
                    .take()
                    .expect("anysync bug: send polled without an item");
                break 'out Poll::Ready(Err(value));
            }
            if self.buf_len(st) + st.slots_reserved < st.cap {
                let value = item
                    .take()
                    .expect("anysync bug: send polled without an item");
                self.push_locked(&mut q, value, &mut wakes);
                break 'out Poll::Ready(Ok(()));
            }
            // Executor code that may panic: before anything changes.
            let waker = fresh.take().unwrap_or_else(|| cx.waker().clone());
            let st = q.state();
            st.send_linked += 1;
            node.enqueue_with(&mut self.lock_send(st), waker);
            Poll::Pending
        };
        drop(q);
        drop(stale);
        drop(fresh);
        drop(wakes);
        out
    }

    /// [`WaitOwner::abandon`] of the senders' queue: a send or reserve
    /// future that was `Waiting` (now unlinked) or `Woken` was dropped.
    /// Called with lock B only, which it releases before taking A then B.
    /// Slots it held (granted, or assigned while it waited at the head for
    /// several) go to the next senders.
    #[cold]
    #[inline(never)]
    fn abandon_send(&self, mut s: SendGuard<'_>, was: WaitState, want: &mut SendWant) {
        let want = want.take();
        match was {
            WaitState::Waiting => {
                // `send_linked` still counts this sender and lives under A,
                // which cannot be taken while B is held.
                s.state().unlinked += 1;
                drop(s);
                let mut q = self.lock_a();
                drop(self.lock_send(q.state()));
                // Runs `settle` with the exact count: releasing lock A
                // elsewhere does not settle it, so this is what reopens
                // the ring if this sender was the last one linked.
                drop(q);
            }
            WaitState::Woken => drop(s),
            WaitState::Idle => return,
        }
        self.release_slots(want.got());
    }

    /// Gives back `n` reserved slots. While senders wait, each slot goes to
    /// the head sender (as a pop would), until one has all it wants and is
    /// woken, outside the lock; once none waits, the rest become free at
    /// once.
    pub(crate) fn release_slots(&self, mut n: usize) {
        while n > 0 {
            let mut wakes = Wakes::default();
            let mut q = self.lock_a();
            let st = q.state();
            while n > 0 && st.mode == Mode::Open && st.send_linked > 0 && wakes.send.is_none() {
                st.slots_reserved -= 1;
                n -= 1;
                self.grant_slot_locked(st, &mut wakes);
            }
            if wakes.send.is_none() {
                // No sender waits (or the engine is closed): free slots.
                st.slots_reserved -= n;
                n = 0;
            }
            drop(q);
            drop(wakes);
        }
    }

    /// Reserves `n` slots without waiting.
    pub(crate) fn try_reserve(&self, n: usize) -> Result<(), TrySend<()>> {
        let mut q = self.lock_a();
        let st = q.state();
        if st.mode != Mode::Open {
            return Err(TrySend::Closed(()));
        }
        if st.cap - self.buf_len(st) - st.slots_reserved < n {
            return Err(TrySend::Full(()));
        }
        st.slots_reserved += n;
        Ok(())
    }

    /// Poll logic of a waiting reserve of `n` slots. On `Ready(Ok)` the
    /// caller holds `n` reserved slots (in `slots_reserved`), to fill with
    /// [`send_reserved`](Self::send_reserved) or give back with
    /// [`release_slots`](Self::release_slots). `Ready(Err)`: closed.
    pub(crate) fn poll_reserve(
        &self,
        node: &mut WaitNode<'_, SendWant>,
        n: usize,
        cx: &mut Context<'_>,
    ) -> Poll<Result<(), ()>> {
        // As in `poll_send`: a woken reserve takes its grant without the
        // lock. With the ring's send path open (so not closed), it is done:
        // the slots stay counted as held for the permit, which sends into
        // them without the lock too (`send_reserved`). A close that comes
        // after this check finds a permit, as it would had the reserve
        // completed a moment earlier.
        let woken = node.take_woken(SendWant::take);
        #[cfg(feature = "alloc")]
        if let (Some(want), Some(ring)) = (&woken, &self.ring) {
            if want.grant == Grant::Granted && ring.send_path_open() {
                debug_assert_eq!(want.got(), n);
                return Poll::Ready(Ok(()));
            }
        }
        let mut stale = None;
        // Cloned before the lock, as in `poll_send`.
        let mut fresh = (woken.is_none() && !node.is_queued()).then(|| cx.waker().clone());
        let mut q = self.lock_a();
        let out = 'out: {
            match self.poll_queued_sender(&mut q, node, cx, &mut stale, woken) {
                QueuedSender::Fresh => {}
                QueuedSender::Waiting => break 'out Poll::Pending,
                QueuedSender::Woken(want) => {
                    let st = q.state();
                    if want.grant == Grant::Granted && st.mode == Mode::Open {
                        debug_assert_eq!(want.got(), n);
                        break 'out Poll::Ready(Ok(()));
                    }
                    // Closed: nobody waits to send any more, so the
                    // slots it was assigned simply go back.
                    st.slots_reserved -= want.got();
                    break 'out Poll::Ready(Err(()));
                }
            }
            let st = q.state();
            if st.mode != Mode::Open {
                break 'out Poll::Ready(Err(()));
            }
            let free = st.cap - self.buf_len(st) - st.slots_reserved;
            if free >= n {
                st.slots_reserved += n;
                break 'out Poll::Ready(Ok(()));
            }
            // Executor code that may panic: before anything changes.
            let waker = fresh.take().unwrap_or_else(|| cx.waker().clone());
            // A free slot means no sender is linked: this one becomes the
            // head, and takes what is free now towards its `n`.
            node.data_unqueued(|w| {
                *w = SendWant::new(n);
                // `free < n <= u32::MAX`.
                w.got = u32::try_from(free).expect("anysync bug: more free slots than wanted");
            });
            let st = q.state();
            st.slots_reserved += free;
            st.send_linked += 1;
            node.enqueue_with(&mut self.lock_send(st), waker);
            Poll::Pending
        };
        drop(q);
        drop(stale);
        drop(fresh);
        out
    }

    /// Fills one reserved slot with `item`. `Err(item)` if the engine was
    /// closed since (the slot is given back).
    pub(crate) fn send_reserved(&self, item: B::Item) -> Result<(), B::Item> {
        // With an open ring, without the lock (see
        // [`FastRing::push_reserved`]).
        #[cfg(feature = "alloc")]
        let item = match &self.ring {
            Some(ring) => match ring.push_reserved(item) {
                Ok(()) => return Ok(()),
                Err(item) => item,
            },
            None => item,
        };
        let mut wakes = Wakes::default();
        let mut q = self.lock_a();
        let st = q.state();
        st.slots_reserved -= 1;
        if st.mode != Mode::Open {
            // No sender waits once closed: the slot is simply free.
            drop(q);
            return Err(item);
        }
        self.push_locked(&mut q, item, &mut wakes);
        drop(q);
        drop(wakes);
        Ok(())
    }

    // ----- receiving -----

    /// Receives without waiting: [`try_recv_first`](Self::try_recv_first),
    /// then [`try_recv_rest`](Self::try_recv_rest) if that took nothing.
    #[inline]
    pub(crate) fn try_recv(&self) -> Result<B::Item, TryRecv> {
        self.try_recv_first().or_else(|again| {
            // Not in a task, as in `try_send`.
            self.try_recv_rest(again, false)
                .unwrap_or_else(|()| self.try_recv_ring_slow())
        })
    }

    /// The first attempt of a receive, inline, as
    /// [`try_send_first`](Self::try_send_first): it answers only with an
    /// item.
    #[inline(always)]
    fn try_recv_first(&self) -> Result<B::Item, RecvAgain<B::Item>> {
        #[cfg(feature = "alloc")]
        if let Some(ring) = &self.ring {
            return ring.pop_first().map_err(RecvAgain::Ring);
        }
        Err(RecvAgain::Locked(PhantomData))
    }

    /// The rest of [`try_recv`](Self::try_recv) after
    /// [`try_recv_first`](Self::try_recv_first), as
    /// [`try_send_rest`](Self::try_send_rest).
    #[inline]
    #[cfg_attr(not(feature = "alloc"), allow(unused_variables))] // only a ring yields
    fn try_recv_rest(
        &self,
        again: RecvAgain<B::Item>,
        in_task: bool,
    ) -> Result<Result<B::Item, TryRecv>, ()> {
        Ok(match again {
            #[cfg(feature = "alloc")]
            RecvAgain::Ring(again) => match self.ring().pop_rest(again, in_task) {
                Ok(item) => Ok(item),
                Err(Fast::Done(())) => Err(TryRecv::Empty),
                Err(Fast::Slow(())) => self.try_recv_ring_slow(),
                Err(Fast::Busy(())) => return Err(()),
            },
            RecvAgain::Locked(_) => self.try_recv_unringed(),
        })
    }

    /// [`try_recv`](Self::try_recv) of an engine without a ring.
    #[inline(never)]
    fn try_recv_unringed(&self) -> Result<B::Item, TryRecv> {
        if B::MAY_PANIC_MIDWAY {
            let mut wakes = Wakes::default();
            let q = self.lock_a();
            return self.try_recv_locked(q, &mut wakes);
        }
        let mut q = self.lock_a();
        let st = q.state();
        // The common case, kept short: open, a free item, and no waiting
        // sender to grant the freed slot to. Then there is nobody to wake
        // and no drained close to report, and the pop cannot panic after
        // changing the buffer, so there is nothing to repair.
        if st.mode == Mode::Open && st.send_linked == 0 && self.buf_len(st) > st.items_reserved {
            let item = self
                .buf_pop(st)
                .expect("anysync bug: pop from an empty buffer");
            if st.track_done {
                st.in_flight += 1;
            }
            return Ok(item);
        }
        self.try_recv_slow(q)
    }

    /// [`try_recv`](Self::try_recv) past its common case, with lock A
    /// held (`q`).
    #[cold]
    #[inline(never)]
    fn try_recv_slow(&self, q: Locked<'_, B>) -> Result<B::Item, TryRecv> {
        let mut wakes = Wakes::default();
        self.try_recv_locked(q, &mut wakes)
    }

    /// [`try_recv`](Self::try_recv) under lock A: for an engine with a
    /// ring whose fast path is closed (`SLOW` set), and the answer `try_recv`
    /// would give a ring's `Busy` (which it never gets: it does not ask for
    /// it). Correct for any engine: it is the locked receive.
    #[cold]
    #[inline(never)]
    fn try_recv_ring_slow(&self) -> Result<B::Item, TryRecv> {
        let mut wakes = Wakes::default();
        let q = self.lock_a();
        self.try_recv_locked(q, &mut wakes)
    }

    /// Takes a free item with lock A held (`q`, released here before
    /// anyone is woken). `wakes` is declared before the lock was taken,
    /// so that it wakes after the lock is released also when a panic
    /// unwinds.
    #[inline]
    fn try_recv_locked(&self, q: Locked<'_, B>, wakes: &mut Wakes) -> Result<B::Item, TryRecv> {
        let mut q = q;
        let out = self.take_locked(&mut q, wakes);
        drop(q);
        self.finish(
            mem::take(wakes),
            out.as_ref().is_ok_and(|&(_, drained)| drained),
        );
        out.map(|(item, _)| item)
    }

    /// Takes a free (unreserved) item, if there is one. See
    /// [`pop_locked`](Self::pop_locked).
    #[inline]
    fn take_locked(
        &self,
        q: &mut RecvGuard<'_, B>,
        wakes: &mut Wakes,
    ) -> Result<(B::Item, bool), TryRecv> {
        let st = q.state();
        match st.mode {
            Mode::Immediate => Err(TryRecv::Closed),
            _ if self.buf_len(st) > st.items_reserved => Ok(self.pop_locked(q, wakes)),
            Mode::Closed if self.buf_len(st) == 0 => Err(TryRecv::Closed),
            _ => Err(TryRecv::Empty),
        }
    }

    /// Pops the next item (there is one), granting the freed slot to the
    /// head sender (its waker goes into `wakes`). Also returns `drained`:
    /// closed and now empty with receivers linked, who must be woken.
    /// Call [`finish`](Self::finish) after unlocking.
    #[inline]
    fn pop_locked(&self, q: &mut RecvGuard<'_, B>, wakes: &mut Wakes) -> (B::Item, bool) {
        let item = self
            .pop_buf(q, wakes)
            .expect("anysync bug: pop from an empty buffer");
        let st = q.state();
        if st.track_done {
            st.in_flight += 1;
        }
        let mut drained = false;
        if st.send_linked > 0 {
            self.grant_slot_locked(st, wakes);
        } else if st.mode != Mode::Open && self.buf_len(st) == 0 && !q.is_empty() {
            // Closed and drained: receivers that linked while the last items
            // were reserved by others will get nothing. Wake them (after
            // unlocking, in `finish`).
            drained = true;
        }
        (item, drained)
    }

    /// Grants a free slot to the head sender, if one is still linked once
    /// the senders that left on their own are settled. A head that waits
    /// for several slots (`reserve_many`) keeps it and stays linked until
    /// it has them all; only then is it woken.
    #[cold]
    fn grant_slot_locked(&self, st: &mut State<B>, wakes: &mut Wakes) {
        let mut s = self.lock_send(st);
        if st.send_linked == 0 {
            return;
        }
        debug_assert_eq!(st.mode, Mode::Open);
        st.slots_reserved += 1;
        let waker = s.wake_head(|_, w, _| {
            w.got += 1;
            if w.got < w.want {
                Visit::Stop
            } else {
                w.grant = Grant::Granted;
                Visit::Wake
            }
        });
        if waker.is_some() {
            st.send_linked -= 1;
            wakes.send = waker;
        }
    }

    /// Wakes what a pop asked to wake. Call with no lock held.
    #[inline]
    fn finish(&self, wakes: Wakes, drained: bool) {
        drop(wakes);
        if drained {
            // Wakes every linked receiver to re-check; they find the engine
            // closed and empty.
            self.close_with(Mode::Closed);
        }
    }

    /// Poll logic of a waiting receive. `Ready(None)` means closed (and
    /// drained).
    pub(crate) fn poll_recv(
        &self,
        node: &mut WaitNode<'_, Grant>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<B::Item>> {
        // The hand-off's hot path: a woken receiver takes its grant
        // without the lock (the granter unlinked it and moved its waker
        // out), and with a ring whose fast paths are open, its item too
        // (see [`FastRing::pop_reserved`]): a wait then closes the fast
        // paths only while the receiver is linked, not again when it runs.
        let woken = node.take_woken(mem::take);
        #[cfg(feature = "alloc")]
        if woken == Some(Grant::Granted) {
            if let Some(item) = self.ring.as_ref().and_then(FastRing::pop_reserved) {
                return Poll::Ready(Some(item));
            }
        }
        let mut wakes = Wakes::default();
        let mut stale = None;
        let mut drained = false;
        // Cloned before the lock, as in `poll_send`.
        let mut fresh = (woken.is_none() && !node.is_queued()).then(|| cx.waker().clone());
        let mut q = self.lock_a();
        let out = 'out: {
            let woken = match woken {
                Some(grant) => Some(grant),
                None if node.is_queued() => match node.state(&q) {
                    WaitState::Waiting => {
                        stale = node.update_waker(&mut q, cx.waker());
                        break 'out Poll::Pending;
                    }
                    WaitState::Woken => {
                        let (_, old) = node.remove(&mut q);
                        stale = old;
                        Some(node.data(&mut q, mem::take))
                    }
                    WaitState::Idle => None,
                },
                None => None,
            };
            if woken == Some(Grant::Granted) {
                let st = q.state();
                st.items_reserved -= 1;
                if st.mode == Mode::Immediate {
                    break 'out Poll::Ready(None);
                }
                let (item, d) = self.pop_locked(&mut q, &mut wakes);
                drained = d;
                break 'out Poll::Ready(Some(item));
            }
            // Not woken yet, or woken by a close: re-check.
            match self.take_locked(&mut q, &mut wakes) {
                Ok((item, d)) => {
                    drained = d;
                    Poll::Ready(Some(item))
                }
                Err(TryRecv::Closed) => Poll::Ready(None),
                Err(TryRecv::Empty) => {
                    match fresh.take() {
                        Some(waker) => node.enqueue_with(&mut q, waker),
                        // Woken by a close and linking again (the items
                        // left are reserved by others): a rare path that
                        // clones under the lock.
                        None => node.enqueue(&mut q, cx.waker()),
                    }
                    Poll::Pending
                }
            }
        };
        drop(q);
        drop(stale);
        drop(fresh);
        self.finish(wakes, drained);
        out
    }

    /// [`WaitOwner::abandon`] of the receivers' queue: a receive future
    /// that was `Waiting` (now unlinked) or `Woken` was dropped; a granted
    /// item goes to the next receiver.
    #[cold]
    #[inline(never)]
    fn abandon_recv(&self, mut q: RecvGuard<'_, B>, was: WaitState, grant: &mut Grant) {
        let granted = mem::take(grant) == Grant::Granted;
        if was != WaitState::Woken || !granted {
            return;
        }
        let mut wake = None;
        if q.is_empty() || q.state_ref().mode == Mode::Immediate {
            q.state().items_reserved -= 1;
        } else {
            wake = grant_head(&mut q, |_| {});
        }
        drop(q);
        if let Some(waker) = wake {
            waker.wake();
        }
    }

    // ----- closing -----

    /// Closes: sends fail from now on; receivers drain what is buffered.
    /// Wakes every waiter. Returns `true` if this call closed it.
    pub(crate) fn close(&self) -> bool {
        self.close_with(Mode::Closed)
    }

    fn close_with(&self, mode: Mode) -> bool {
        let mut first = false;
        let mut end = None;
        // Batches of at most a few waiters, woken after each unlock; a
        // panicking wake does not strand the later batches.
        self.recv.wake_loop(|q, batch| {
            let end = *end.get_or_insert_with(|| {
                // Sends and receives go through the lock from now on.
                #[cfg(feature = "alloc")]
                if let Some(ring) = &self.ring {
                    ring.set_slow();
                }
                let st = q.state();
                first = st.mode == Mode::Open;
                if st.mode != Mode::Immediate {
                    st.mode = mode;
                }
                q.next_seq()
            });
            // Only the receivers queued when we closed: one that links
            // again (its items are reserved by others) must not make this
            // loop spin.
            let mut more = q.wake_front(batch, |_, grant, seq| {
                if seq < end {
                    *grant = Grant::Closed;
                    Visit::Wake
                } else {
                    Visit::Stop
                }
            });
            if !more && q.state_ref().send_linked > 0 {
                let st = q.state();
                let mut s = self.lock_send(st);
                more = s.wake_front(batch, |_, want, _| {
                    want.grant = Grant::Closed;
                    Visit::Wake
                });
                st.send_linked = s.len();
            }
            more
        });
        first
    }

    /// Closes for good and drops every buffered item (outside the lock,
    /// each exactly once). Receivers fail at once. Returns how many items
    /// were dropped.
    ///
    /// An item whose `Drop` panics does not stop the others from being
    /// dropped: with `std` each drop is caught, and the first panic is
    /// raised again once the buffer is empty (unless this runs while the
    /// thread already unwinds, where a second panic would abort the
    /// process: then it is only swallowed); without `std`, a guard keeps
    /// dropping the rest while the panic unwinds.
    #[cfg_attr(not(feature = "alloc"), allow(dead_code))] // used by `Queue` and `channel::bounded`
    pub(crate) fn shutdown_immediate(&self) -> usize {
        let mut dropped = 0;
        // The buffer is dropped even if a waiter's wake panics in the
        // close.
        crate::util::finally::both(
            || {
                self.close_immediate();
            },
            || dropped = self.drop_buffered(),
        );
        dropped
    }

    /// The first half of [`shutdown_immediate`](Self::shutdown_immediate):
    /// closes for good, waking everyone. Returns `true` if this call closed
    /// it.
    #[cfg_attr(not(feature = "alloc"), allow(dead_code))] // used by `channel::bounded`
    pub(crate) fn close_immediate(&self) -> bool {
        self.close_with(Mode::Immediate)
    }

    /// The second half of [`shutdown_immediate`](Self::shutdown_immediate):
    /// drops every buffered item, as described there.
    #[cfg_attr(not(feature = "alloc"), allow(dead_code))] // used by `Queue` and `channel::bounded`
    pub(crate) fn drop_buffered(&self) -> usize {
        let pop = || {
            let mut q = self.lock_a();
            let st = q.state();
            let item = self.buf_pop(st);
            #[cfg(feature = "alloc")]
            if item.is_some() && self.ring.is_some() {
                // The ring counts it as taken: it is not in flight.
                self.mark_done(st);
            }
            item
        };
        let mut dropped = 0;
        #[cfg(feature = "std")]
        {
            let mut first = None;
            while let Some(item) = pop() {
                dropped += 1;
                let caught =
                    std::panic::catch_unwind(core::panic::AssertUnwindSafe(move || drop(item)));
                if let Err(payload) = caught {
                    first.get_or_insert(payload);
                }
            }
            if let Some(payload) = first {
                crate::util::finally::resume_unless_unwinding(payload);
            }
        }
        #[cfg(not(feature = "std"))]
        {
            /// Drops what is left if an item's drop unwinds out of the loop.
            struct Rest<F: FnMut() -> Option<T>, T>(F);
            impl<F: FnMut() -> Option<T>, T> Drop for Rest<F, T> {
                fn drop(&mut self) {
                    while let Some(item) = (self.0)() {
                        drop(item);
                    }
                }
            }
            let rest = Rest(pop);
            while let Some(item) = (rest.0)() {
                dropped += 1;
                drop(item);
            }
        }
        dropped
    }

    // ----- task_done / join -----

    /// Marks one taken item as done. `Err(())` if none is in flight.
    /// `Ok(true)` if nothing is buffered or in flight any more.
    #[cfg_attr(not(feature = "alloc"), allow(dead_code))] // used by `Queue` and `channel::bounded`
    pub(crate) fn task_done(&self) -> Result<bool, ()> {
        // With a ring, `SLOW` (set by `lock_a`) stops the counters, so the
        // answer is exact.
        let mut q = self.lock_a();
        let st = q.state();
        let in_flight = self.in_flight(st);
        if in_flight == 0 {
            return Err(());
        }
        self.mark_done(st);
        Ok(in_flight == 1 && self.buf_len(st) == 0)
    }

    /// Items taken and not yet marked done (0 if not a queue).
    fn in_flight(&self, st: &State<B>) -> usize {
        #[cfg(feature = "alloc")]
        if let Some(ring) = &self.ring {
            if !st.tracked {
                return 0;
            }
            return ring.count_sub(ring.taken(), st.done);
        }
        st.in_flight
    }

    /// One item taken is done (or, with a ring, one buffered item was
    /// dropped by a shutdown, which the ring counts as taken).
    fn mark_done(&self, st: &mut State<B>) {
        #[cfg(feature = "alloc")]
        if let Some(ring) = &self.ring {
            if st.tracked {
                st.done = ring.count_add1(st.done);
            }
            return;
        }
        st.in_flight -= 1;
    }

    /// Buffered items plus items taken and not yet marked done.
    #[cfg_attr(not(feature = "alloc"), allow(dead_code))] // used by `Queue` and `channel::bounded`
    pub(crate) fn unfinished(&self) -> usize {
        let q = self.recv.lock();
        let st = q.state_ref();
        #[cfg(feature = "alloc")]
        if let Some(ring) = &self.ring {
            // Put and not done: one read of `tail`.
            return if st.tracked {
                ring.count_sub(ring.put(), st.done)
            } else {
                ring.len()
            };
        }
        st.buf.len() + st.in_flight
    }

    // ----- inspection -----

    pub(crate) fn len(&self) -> usize {
        #[cfg(feature = "alloc")]
        if let Some(ring) = &self.ring {
            return ring.len();
        }
        self.recv.lock().state_ref().buf.len()
    }

    /// The capacity, `None` when unbounded.
    #[cfg_attr(not(feature = "alloc"), allow(dead_code))] // used by `Queue` and `channel::bounded`
    pub(crate) fn capacity(&self) -> Option<usize> {
        let q = self.recv.lock();
        let st = q.state_ref();
        (!st.unbounded).then_some(st.cap)
    }

    /// `true` if no slot is free: each holds an item or is promised to a
    /// woken sender.
    pub(crate) fn is_full(&self) -> bool {
        let q = self.recv.lock();
        let st = q.state_ref();
        // The reservations first: a permit that sends without the lock in
        // between then counts twice (towards "full"), rather than not at
        // all.
        let reserved = self.reserved_now(st).0;
        self.len_snapshot(st) + reserved >= st.cap
    }

    pub(crate) fn mode(&self) -> Mode {
        self.recv.lock().state_ref().mode
    }

    pub(crate) fn stats(&self) -> Stats {
        let mut q = self.recv.lock();
        let recv_waiters = q.len();
        // Settle senders that left on their own, so the count is exact.
        drop(self.lock_send(q.state()));
        let st = q.state_ref();
        let (slots_reserved, items_reserved) = self.reserved_now(st);
        Stats {
            len: self.len_snapshot(st),
            cap: (!st.unbounded).then_some(st.cap),
            mode: st.mode,
            slots_reserved,
            items_reserved,
            send_waiters: st.send_linked,
            recv_waiters,
            in_flight: self.in_flight(st),
        }
    }
}

#[cfg(feature = "alloc")]
impl<B: Buffer> Chan<B> {
    /// Whether this engine has the lock-free ring.
    #[cfg(test)]
    pub(crate) fn has_ring(&self) -> bool {
        self.ring.is_some()
    }

    /// The largest capacity given a ring: its slots are allocated up
    /// front, so a larger bounded engine keeps the growing `VecDeque`
    /// (and the locked path). (Also the most reservations a ring's
    /// counters can hold, see `ring.rs`.)
    pub(crate) const RING_MAX: usize = ring::MAX_CAP;

    /// Whether [`new_bounded`](Self::new_bounded) gives an engine of
    /// capacity `cap` a ring (then its `buf` stays empty: pass one that
    /// allocated nothing).
    ///
    /// Only with `std`, where every thread is preemptible and so a claim
    /// left half done by a descheduled thread is finished once it runs
    /// again (under a fair scheduler; see the ring's `Backoff` for strict
    /// real-time priorities). Without `std` the caller may be an interrupt handler: if it
    /// interrupted a fast send or receive between its claim and its
    /// publication, waiting for that slot (as the ring's full and empty
    /// checks and the locked steps do) would never end.
    ///
    /// Only where a word has 64 bits: the ring's counters keep the
    /// reservation counts in their low bits, which on a 32-bit target
    /// would leave too few bits for positions (see `ring.rs`).
    pub(crate) const fn uses_ring(cap: usize) -> bool {
        cfg!(feature = "std") && usize::BITS >= 64 && B::FIFO && cap > 0 && cap <= Self::RING_MAX
    }

    /// Whether the ring's fast paths are open; `false` without a ring.
    #[cfg(test)]
    pub(crate) fn fast_paths_open(&self) -> bool {
        self.ring.as_ref().is_some_and(FastRing::is_open)
    }

    /// A bounded engine of capacity `cap`: with the lock-free fast path
    /// (see the notes) if [`uses_ring`](Self::uses_ring), else as
    /// [`new`](Chan::new) builds it over `buf`.
    pub(crate) fn new_bounded(buf: B, cap: usize, track_done: bool) -> Self {
        let mut chan = Self::new(buf, Some(cap), track_done);
        if Self::uses_ring(cap) {
            chan.ring = Some(FastRing::new(cap));
            // Items taken are counted by the ring's `head`.
            chan.recv.lock().state().track_done = false;
        }
        chan
    }
}

impl<B: Buffer> WaitOwner<RecvSide> for Chan<B> {
    type State = State<B>;
    type Data = Grant;

    #[inline]
    fn wait_queue(&self) -> &WaitQueue<State<B>, Grant> {
        &self.recv
    }

    fn abandon(&self, queue: RecvGuard<'_, B>, was: WaitState, data: &mut Grant) {
        self.abandon_recv(queue, was, data);
    }
}

impl<B: Buffer> WaitOwner<SendSide> for Chan<B> {
    type State = SendState;
    type Data = SendWant;

    #[inline]
    fn wait_queue(&self) -> &WaitQueue<SendState, SendWant> {
        &self.send
    }

    fn abandon(&self, queue: SendGuard<'_>, was: WaitState, data: &mut SendWant) {
        self.abandon_send(queue, was, data);
    }
}

impl<B: Buffer> fmt::Debug for Chan<B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Lock A is only ever held for a few instructions and never while
        // user code other than an item's `Ord` runs, so this does not block
        // for long.
        let s = self.stats();
        let mut d = f.debug_struct("Chan");
        d.field("len", &s.len);
        if let Some(cap) = s.cap {
            d.field("capacity", &cap);
        }
        d.field("mode", &s.mode)
            .field("send_waiters", &s.send_waiters)
            .field("recv_waiters", &s.recv_waiters)
            .finish()
    }
}

/// Where a send or receive future stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Phase {
    /// It has no wait node yet: not polled, or its non-waiting attempt
    /// has not finished.
    Init,
    /// Its wait node is built (it returned `Pending`, or its first waiting
    /// poll panicked): linked, woken or idle.
    Queued,
    /// Returned `Ready` (or was cancelled).
    Done,
}

pin_project_lite::pin_project!(
    /// Where a send, reserve or receive future stands, and what it holds
    /// there: the engine before it waits, the wait node (which refers to
    /// the engine) while it waits, nothing once it is done.
    ///
    /// One enum in place of an engine reference, a phase and an optional
    /// node: the `Wait`'s `queued` flag has room for the other variants,
    /// so the stage is no larger than the `Wait`. A send future of a `u64` is
    /// 104 bytes (it was 136), so it and the `async` block that awaits it
    /// stay within the 128 bytes that the compiler moves with inline
    /// stores; above that, every move (into an executor's task, into a
    /// combinator) is a call to `memcpy`.
    #[project = StageProj]
    enum Stage<'a, B: Buffer, K>
    where
        Chan<B>: WaitOwner<K>,
    {
        Init {
            chan: &'a Chan<B>,
        },
        Queued {
            #[pin]
            wait: Wait<&'a Chan<B>, K>,
        },
        Done,
    }
);

impl<'a, B: Buffer, K> Stage<'a, B, K>
where
    Chan<B>: WaitOwner<K>,
{
    fn phase(&self) -> Phase {
        match self {
            Self::Init { .. } => Phase::Init,
            Self::Queued { .. } => Phase::Queued,
            Self::Done => Phase::Done,
        }
    }

    /// The node of a future that must wait: built (with `data`) on the
    /// first call, the one built before on later calls. `what` names the
    /// future for the panic if it is polled after it completed.
    ///
    /// # Panics
    /// If the future is done.
    #[inline]
    fn wait(
        mut self: Pin<&mut Self>,
        data: impl FnOnce() -> <Chan<B> as WaitOwner<K>>::Data,
        what: &str,
    ) -> Pin<&mut Wait<&'a Chan<B>, K>> {
        match self.as_mut().project() {
            StageProj::Init { chan } => {
                let wait = Wait::new(*chan, data());
                self.as_mut().set(Self::Queued { wait });
            }
            StageProj::Queued { .. } => {}
            StageProj::Done => panic!("{what} future polled after completion"),
        }
        match self.project() {
            StageProj::Queued { wait } => wait,
            _ => unreachable!("anysync bug: the wait node was just built"),
        }
    }

    /// Marks the future done after a `Ready` (or a cancel). A node it
    /// built is dropped here: idle after a `Ready`, so that is only a
    /// check; after a cancel, it leaves the queue and passes on what it
    /// was granted.
    #[inline]
    fn finish(mut self: Pin<&mut Self>) {
        self.set(Self::Done);
    }
}

pin_project_lite::pin_project!(
    /// The body of every send/put future: the item stays here until the
    /// poll that moves it into the buffer.
    ///
    /// The wait node is built only when the send has to wait: the first
    /// poll tries the non-waiting path, so a send that finds room never
    /// writes (or moves) a node. Dropping the node (at `Ready`, where it
    /// is idle; with the future; or in [`cancel`](Self::cancel)) leaves the
    /// queue and passes a granted slot on.
    pub(crate) struct SendFut<'a, B: Buffer> {
        item: Option<B::Item>,
        #[pin]
        stage: Stage<'a, B, SendSide>,
    }
);

impl<'a, B: Buffer> SendFut<'a, B> {
    #[inline]
    pub(crate) fn new(chan: &'a Chan<B>, item: B::Item) -> Self {
        Self {
            item: Some(item),
            stage: Stage::Init { chan },
        }
    }

    /// `Ready(Ok(()))` once the item is in the buffer, or
    /// `Ready(Err(item))` if the engine is closed.
    ///
    /// # Panics
    /// If polled after it returned `Ready` or was cancelled.
    #[inline(always)]
    pub(crate) fn poll_send(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Result<(), B::Item>> {
        // The first poll makes the first attempt here, inline: a send that
        // finds room completes in the caller's code. Anything else goes on
        // out of line, in `poll_send_again` (the rest of the non-waiting
        // send) or `poll_send_wait` (a later poll).
        let mut this = self.as_mut().project();
        if let StageProj::Init { chan } = this.stage.as_mut().project() {
            let chan: &'a Chan<B> = chan;
            let item = this
                .item
                .take()
                .expect("anysync bug: send polled without an item");
            match chan.try_send_first(item) {
                Ok(()) => {
                    this.stage.finish();
                    return Poll::Ready(Ok(()));
                }
                Err(again) => return self.poll_send_again(cx, chan, again),
            }
        }
        self.poll_send_wait(cx)
    }

    /// The first poll of [`poll_send`](Self::poll_send) after a first
    /// attempt that did not send: the rest of the non-waiting send, then,
    /// if there is no room, the wait.
    #[inline(never)]
    fn poll_send_again(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        chan: &Chan<B>,
        again: SendAgain<B::Item>,
    ) -> Poll<Result<(), B::Item>> {
        let this = self.as_mut().project();
        let out = match chan.try_send_rest(again, true) {
            Ok(out) => out,
            Err(item) => {
                // Another sender claimed the position first: give the
                // worker to another task and try again when polled (see
                // `FastRing::push_rest`). Nothing is queued or reserved;
                // the future holds the item, as before its first poll.
                *this.item = Some(item);
                cx.waker().wake_by_ref();
                return Poll::Pending;
            }
        };
        match out {
            Ok(()) => {
                this.stage.finish();
                return Poll::Ready(Ok(()));
            }
            Err(TrySend::Closed(item)) => {
                this.stage.finish();
                return Poll::Ready(Err(item));
            }
            Err(TrySend::Full(item)) => *this.item = Some(item),
        }
        self.poll_send_wait(cx)
    }

    /// [`poll_send`](Self::poll_send) once the first non-waiting attempt
    /// found no room: builds the wait node on the first call.
    #[inline(never)]
    fn poll_send_wait(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), B::Item>> {
        let mut this = self.project();
        // The item left the future only in a poll that moved it into the
        // buffer and then panicked (a `PriorityQueue` item's `Ord`): it
        // was sent.
        if this.item.is_none() && this.stage.phase() == Phase::Queued {
            this.stage.finish();
            return Poll::Ready(Ok(()));
        }
        let wait = this.stage.as_mut().wait(|| SendWant::new(1), "send");
        let (chan, mut node) = wait.split();
        let poll = chan.poll_send(&mut node, this.item, cx);
        if poll.is_ready() {
            this.stage.finish();
        }
        poll
    }

    /// Stops the send: leaves the queue (passing a slot it was granted to
    /// the next sender) and returns the item if it was not sent yet, `None`
    /// if it was (or was handed back by a completed poll). The future is
    /// finished afterwards.
    pub(crate) fn cancel(self: Pin<&mut Self>) -> Option<B::Item> {
        let this = self.project();
        this.stage.finish();
        this.item.take()
    }

    pub(crate) fn is_terminated(&self) -> bool {
        self.stage.phase() == Phase::Done
    }

    pub(crate) fn phase(&self) -> Phase {
        self.stage.phase()
    }
}

pin_project_lite::pin_project!(
    /// The body of every reserve future: waits, in line with the senders,
    /// for `n` slots. The wait node is built only when it has to wait;
    /// dropping it leaves the queue and gives back the slots it was
    /// assigned (see [`Chan::release_slots`]).
    pub(crate) struct ReserveFut<'a, B: Buffer> {
        n: usize,
        #[pin]
        stage: Stage<'a, B, SendSide>,
    }
);

impl<'a, B: Buffer> ReserveFut<'a, B> {
    #[inline]
    pub(crate) fn new(chan: &'a Chan<B>, n: usize) -> Self {
        Self {
            n,
            stage: Stage::Init { chan },
        }
    }

    /// `Ready(Ok)`: the caller now holds `n` reserved slots. `Ready(Err)`:
    /// the engine is closed.
    ///
    /// # Panics
    /// If polled after it returned `Ready`.
    pub(crate) fn poll_reserve(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), ()>> {
        let mut this = self.project();
        if let StageProj::Init { chan } = this.stage.as_mut().project() {
            match chan.try_reserve(*this.n) {
                Ok(()) => {
                    this.stage.finish();
                    return Poll::Ready(Ok(()));
                }
                Err(TrySend::Closed(())) => {
                    this.stage.finish();
                    return Poll::Ready(Err(()));
                }
                Err(TrySend::Full(())) => {}
            }
        }
        let n = *this.n;
        let wait = this.stage.as_mut().wait(|| SendWant::new(n), "reserve");
        let (chan, mut node) = wait.split();
        let poll = chan.poll_reserve(&mut node, n, cx);
        if poll.is_ready() {
            this.stage.finish();
        }
        poll
    }

    pub(crate) fn is_terminated(&self) -> bool {
        self.stage.phase() == Phase::Done
    }

    pub(crate) fn phase(&self) -> Phase {
        self.stage.phase()
    }
}

pin_project_lite::pin_project!(
    /// The body of every receive/get future. As with [`SendFut`], the
    /// wait node is built only when the receive has to wait.
    pub(crate) struct RecvFut<'a, B: Buffer> {
        #[pin]
        stage: Stage<'a, B, RecvSide>,
    }
);

impl<'a, B: Buffer> RecvFut<'a, B> {
    #[inline]
    pub(crate) fn new(chan: &'a Chan<B>) -> Self {
        Self {
            stage: Stage::Init { chan },
        }
    }

    /// `Ready(None)` if the engine is closed and drained.
    ///
    /// # Panics
    /// If polled after it returned `Ready`.
    #[inline(always)]
    pub(crate) fn poll_recv(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<B::Item>> {
        // As in `SendFut::poll_send`: the first attempt inline, the rest
        // in `poll_recv_again` and `poll_recv_wait`.
        let mut this = self.as_mut().project();
        if let StageProj::Init { chan } = this.stage.as_mut().project() {
            let chan: &'a Chan<B> = chan;
            match chan.try_recv_first() {
                Ok(item) => {
                    this.stage.finish();
                    return Poll::Ready(Some(item));
                }
                Err(again) => return self.poll_recv_again(cx, chan, again),
            }
        }
        self.poll_recv_wait(cx)
    }

    /// The first poll of [`poll_recv`](Self::poll_recv) after a first
    /// attempt that took nothing, as [`SendFut::poll_send_again`].
    #[inline(never)]
    fn poll_recv_again(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        chan: &Chan<B>,
        again: RecvAgain<B::Item>,
    ) -> Poll<Option<B::Item>> {
        let this = self.as_mut().project();
        let Ok(out) = chan.try_recv_rest(again, true) else {
            // Another receiver claimed the position first: as a send does
            // (`poll_send_again`), with nothing taken or queued.
            cx.waker().wake_by_ref();
            return Poll::Pending;
        };
        match out {
            Ok(item) => {
                this.stage.finish();
                return Poll::Ready(Some(item));
            }
            Err(TryRecv::Closed) => {
                this.stage.finish();
                return Poll::Ready(None);
            }
            Err(TryRecv::Empty) => {}
        }
        self.poll_recv_wait(cx)
    }

    /// [`poll_recv`](Self::poll_recv) once the first non-waiting attempt
    /// found nothing: builds the wait node on the first call.
    #[inline(never)]
    fn poll_recv_wait(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<B::Item>> {
        let mut this = self.project();
        let wait = this.stage.as_mut().wait(|| Grant::None, "receive");
        let (chan, mut node) = wait.split();
        let poll = chan.poll_recv(&mut node, cx);
        if poll.is_ready() {
            this.stage.finish();
        }
        poll
    }

    pub(crate) fn is_terminated(&self) -> bool {
        self.stage.phase() == Phase::Done
    }

    pub(crate) fn phase(&self) -> Phase {
        self.stage.phase()
    }
}

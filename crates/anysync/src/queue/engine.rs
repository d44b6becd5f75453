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
//!   is only ever taken while A is held (order A then B), so it is never
//!   contended; it exists because a wait queue has one list. `State::
//!   send_linked` mirrors its length so that the common paths (nobody
//!   waiting to send) never take B.
//!
//! Fast paths (`try_send`, and a `send`/`recv` that need not wait) take lock
//! A once. Nothing is woken, and no user value is dropped, while a lock is
//! held: a push, pop or dropped waiter grants at most one waiter and wakes
//! its waker after unlocking (taken with `QueueGuard::wake_head`, no
//! batch); a close wakes everyone through a [`WakeBatch`]; and
//! items dropped by [`Chan::shutdown_immediate`] are dropped one by one
//! outside the lock.
//!
//! ## Grants, not retries
//!
//! Waking a waiter *grants* it something, recorded in its node's [`Grant`]:
//!
//! * a pop with senders queued grants the freed slot to the head sender
//!   (`slots_reserved += 1`); the slot is no longer free for anyone else;
//! * a push with receivers queued grants the new item to the head receiver
//!   (`items_reserved += 1`); the item is no longer available to anyone else.
//!
//! So newcomers (including `try_*`) never overtake queued waiters: strictly
//! first come, first served on both sides. A woken waiter that is dropped
//! before it uses its grant passes it to the next waiter of its kind, or,
//! if there is none, gives it back (`*_reserved -= 1`). That is why `send` and
//! `recv` are cancel safe: an item leaves the buffer only inside the poll
//! that returns it, and a sender's item stays in its future until the poll
//! that moves it into the buffer.
//!
//! ## Invariants (with lock A held)
//!
//! * `buf.len() + slots_reserved <= cap`.
//! * `items_reserved <= buf.len()`, except after `shutdown_immediate`, when
//!   the buffer is emptied while woken receivers still count as reserved;
//!   they find the mode `Immediate` and never pop.
//! * Receivers linked ⇒ every buffered item is reserved
//!   (`buf.len() == items_reserved`).
//! * Senders linked ⇒ no free slot (`buf.len() + slots_reserved == cap`).
//! * `send_linked` equals the length of the `send` list.
//! * Once the mode leaves `Open` it never returns, and no sender is linked.
//! * Receivers linked while not `Open` are waiting for items reserved by
//!   other woken receivers; the pop that empties the buffer wakes them.
//!
//! Closing wakes every linked waiter with `Grant::Closed`. For a receiver
//! that is "re-check": it takes an item if one is free, links again if the
//! remaining items are all reserved by others, and otherwise reports closed.
//! So receivers drain what is left after a graceful close.

use core::{
    fmt, mem,
    pin::Pin,
    task::{Context, Poll, Waker},
};

use super::buffer::Buffer;
use crate::{
    util::wake_batch::WakeBatch,
    waitq::{QueueGuard, Visit, WaitQueue, WaitState, Waiter},
};

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
    cap: usize,
    mode: Mode,
    /// Free slots granted to woken senders, not yet filled.
    slots_reserved: usize,
    /// Buffered items granted to woken receivers, not yet taken.
    items_reserved: usize,
    /// The number of senders linked in `Chan::send`.
    send_linked: usize,
    /// Count items taken by receivers as in flight (for `task_done`).
    track_done: bool,
    /// Items taken and not yet marked done.
    in_flight: usize,
}

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

/// A snapshot of the engine's counters, for tests and `Debug`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[allow(dead_code)] // fields are read by tests and Debug output
pub(crate) struct Stats {
    pub(crate) len: usize,
    pub(crate) cap: usize,
    pub(crate) mode: Mode,
    pub(crate) slots_reserved: usize,
    pub(crate) items_reserved: usize,
    pub(crate) send_waiters: usize,
    pub(crate) recv_waiters: usize,
    pub(crate) in_flight: usize,
}

/// The queue engine: a buffer with waiting senders and receivers.
pub(crate) struct Chan<B> {
    /// Lock A: the state, and the receivers' list.
    recv: WaitQueue<State<B>, Grant>,
    /// Lock B (only taken with A held): the senders' list.
    send: WaitQueue<(), Grant>,
}

type RecvGuard<'a, B> = QueueGuard<'a, State<B>, Grant>;

/// Wakes the waker a push, pop or drop took out under the lock (at most
/// one: each of them grants one slot or one item). Call with no lock held.
#[inline(always)]
fn wake_taken(wake: &mut Option<Waker>) {
    if let Some(waker) = wake.take() {
        waker.wake();
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
    crate::util::macros::loom_const_fn! {
        /// An open engine over `buf`, holding at most `cap` items.
        pub(crate) fn new(buf: B, cap: usize, track_done: bool) -> Self {
            Self {
                recv: WaitQueue::new(State {
                    buf,
                    cap,
                    mode: Mode::Open,
                    slots_reserved: 0,
                    items_reserved: 0,
                    send_linked: 0,
                    track_done,
                    in_flight: 0,
                }),
                send: WaitQueue::new(()),
            }
        }
    }

    // ----- sending -----

    /// Sends without waiting.
    pub(crate) fn try_send(&self, item: B::Item) -> Result<(), TrySend<B::Item>> {
        let mut wake = None;
        let mut q = self.recv.lock();
        let st = q.state();
        if st.mode != Mode::Open {
            return Err(TrySend::Closed(item));
        }
        if st.buf.len() + st.slots_reserved >= st.cap {
            return Err(TrySend::Full(item));
        }
        Self::push_locked(&mut q, item, &mut wake);
        drop(q);
        wake_taken(&mut wake); // the receiver granted the item, if any
        Ok(())
    }

    /// Pushes into a slot that is known to be free (or granted), granting
    /// the new item to the head receiver if one is linked.
    ///
    /// The granted receiver's waker goes into `wake`, for the caller to wake
    /// after unlocking.
    #[inline]
    fn push_locked(q: &mut RecvGuard<'_, B>, item: B::Item, wake: &mut Option<Waker>) {
        let st = q.state();
        debug_assert!(st.buf.len() + st.slots_reserved < st.cap);
        st.buf.push(item);
        if !q.is_empty() {
            Self::grant_item_locked(q, wake);
        }
    }

    #[cold]
    fn grant_item_locked(q: &mut RecvGuard<'_, B>, wake: &mut Option<Waker>) {
        debug_assert_eq!(q.state_ref().buf.len(), q.state_ref().items_reserved + 1);
        *wake = grant_head(q, |st: &mut State<B>| st.items_reserved += 1);
    }

    /// Poll logic of a waiting send. `queued` is `true` once an earlier poll
    /// returned `Pending` (the waiter is linked, or was woken). On
    /// `Ready(Ok)`, `item` has been moved into the buffer; on `Ready(Err)`
    /// it is handed back.
    pub(crate) fn poll_send(
        &self,
        mut waiter: Pin<&mut Waiter<Grant>>,
        queued: bool,
        item: &mut Option<B::Item>,
        cx: &mut Context<'_>,
    ) -> Poll<Result<(), B::Item>> {
        let mut wake = None;
        let mut stale = None;
        let mut q = self.recv.lock();
        let out = 'out: {
            if queued {
                let mut s = self.send.lock();
                match waiter.as_mut().state(&s) {
                    WaitState::Waiting => {
                        stale = waiter.update_waker(&mut s, cx.waker());
                        break 'out Poll::Pending;
                    }
                    WaitState::Woken => {
                        let (_, old) = waiter.as_mut().remove(&mut s);
                        stale = old;
                        let grant = mem::take(waiter.data(&mut s));
                        drop(s);
                        let value = item
                            .take()
                            .expect("anysync bug: send polled without an item");
                        if grant != Grant::Granted {
                            // Woken by a close, which is permanent.
                            break 'out Poll::Ready(Err(value));
                        }
                        let st = q.state();
                        st.slots_reserved -= 1;
                        if st.mode != Mode::Open {
                            break 'out Poll::Ready(Err(value));
                        }
                        Self::push_locked(&mut q, value, &mut wake);
                        break 'out Poll::Ready(Ok(()));
                    }
                    // Not reachable: a queued waiter is linked or woken.
                    // Treat it as a fresh send.
                    WaitState::Idle => {}
                }
            }
            let st = q.state();
            let value = item
                .take()
                .expect("anysync bug: send polled without an item");
            if st.mode != Mode::Open {
                break 'out Poll::Ready(Err(value));
            }
            if st.buf.len() + st.slots_reserved < st.cap {
                Self::push_locked(&mut q, value, &mut wake);
                break 'out Poll::Ready(Ok(()));
            }
            *item = Some(value);
            q.state().send_linked += 1;
            waiter.enqueue(&mut self.send.lock(), cx.waker());
            Poll::Pending
        };
        drop(q);
        drop(stale);
        wake_taken(&mut wake);
        out
    }

    /// Drop logic of a send future that returned `Pending`: leave the
    /// queue, passing a granted slot to the next sender.
    // Cold and out of line, so that dropping a future that never waited
    // (the common case) stays a flag check inlined at the drop site.
    #[cold]
    #[inline(never)]
    pub(crate) fn drop_send_waiter(&self, mut waiter: Pin<&mut Waiter<Grant>>) {
        let mut wake = None;
        let old = {
            let mut q = self.recv.lock();
            let mut s = self.send.lock();
            let (state, old) = waiter.as_mut().remove(&mut s);
            let grant = mem::take(waiter.data(&mut s));
            let st = q.state();
            match state {
                WaitState::Waiting => st.send_linked -= 1,
                WaitState::Woken if grant == Grant::Granted => {
                    if st.send_linked > 0 {
                        st.send_linked -= 1;
                        wake = grant_head(&mut s, |_| {});
                    } else {
                        st.slots_reserved -= 1;
                    }
                }
                _ => {}
            }
            old
        };
        drop(old);
        wake_taken(&mut wake);
    }

    // ----- receiving -----

    /// Receives without waiting.
    pub(crate) fn try_recv(&self) -> Result<B::Item, TryRecv> {
        let mut wake = None;
        let mut q = self.recv.lock();
        let out = self.take_locked(&mut q, &mut wake);
        drop(q);
        self.finish(&mut wake, out.as_ref().is_ok_and(|&(_, drained)| drained));
        out.map(|(item, _)| item)
    }

    /// Takes a free (unreserved) item, if there is one. See
    /// [`pop_locked`](Self::pop_locked).
    #[inline]
    fn take_locked(
        &self,
        q: &mut RecvGuard<'_, B>,
        wake: &mut Option<Waker>,
    ) -> Result<(B::Item, bool), TryRecv> {
        let st = q.state();
        match st.mode {
            Mode::Immediate => Err(TryRecv::Closed),
            _ if st.buf.len() > st.items_reserved => Ok(self.pop_locked(q, wake)),
            Mode::Closed if st.buf.len() == 0 => Err(TryRecv::Closed),
            _ => Err(TryRecv::Empty),
        }
    }

    /// Pops the next item (there is one), granting the freed slot to the
    /// head sender (its waker goes into `wake`). Also returns `drained`:
    /// closed and now empty with receivers linked, who must be woken.
    /// Call [`finish`](Self::finish) after unlocking.
    #[inline]
    fn pop_locked(&self, q: &mut RecvGuard<'_, B>, wake: &mut Option<Waker>) -> (B::Item, bool) {
        let st = q.state();
        let item = st.buf.pop().expect("anysync bug: pop from an empty buffer");
        if st.track_done {
            st.in_flight += 1;
        }
        let mut drained = false;
        if st.send_linked > 0 {
            self.grant_slot_locked(st, wake);
        } else if st.mode != Mode::Open && st.buf.len() == 0 && !q.is_empty() {
            // Closed and drained: receivers that linked while the last items
            // were reserved by others will get nothing. Wake them (after
            // unlocking, in `finish`).
            drained = true;
        }
        (item, drained)
    }

    #[cold]
    fn grant_slot_locked(&self, st: &mut State<B>, wake: &mut Option<Waker>) {
        debug_assert_eq!(st.mode, Mode::Open);
        st.send_linked -= 1;
        st.slots_reserved += 1;
        *wake = grant_head(&mut self.send.lock(), |_| {});
    }

    /// Wakes what a pop asked to wake. Call with no lock held.
    #[inline]
    fn finish(&self, wake: &mut Option<Waker>, drained: bool) {
        wake_taken(wake);
        if drained {
            // Wakes every linked receiver to re-check; they find the engine
            // closed and empty.
            self.close_with(Mode::Closed);
        }
    }

    /// Poll logic of a waiting receive; `queued` as in
    /// [`poll_send`](Self::poll_send). `Ready(None)` means closed (and
    /// drained).
    pub(crate) fn poll_recv(
        &self,
        mut waiter: Pin<&mut Waiter<Grant>>,
        queued: bool,
        cx: &mut Context<'_>,
    ) -> Poll<Option<B::Item>> {
        let mut wake = None;
        let mut stale = None;
        let mut drained = false;
        let mut q = self.recv.lock();
        let out = 'out: {
            if queued {
                match waiter.as_mut().state(&q) {
                    WaitState::Waiting => {
                        stale = waiter.update_waker(&mut q, cx.waker());
                        break 'out Poll::Pending;
                    }
                    WaitState::Woken => {
                        let (_, old) = waiter.as_mut().remove(&mut q);
                        stale = old;
                        let grant = mem::take(waiter.as_mut().data(&mut q));
                        if grant == Grant::Granted {
                            let st = q.state();
                            st.items_reserved -= 1;
                            if st.mode == Mode::Immediate {
                                break 'out Poll::Ready(None);
                            }
                            let (item, d) = self.pop_locked(&mut q, &mut wake);
                            drained = d;
                            break 'out Poll::Ready(Some(item));
                        }
                        // Woken by a close: re-check below.
                    }
                    WaitState::Idle => {}
                }
            }
            match self.take_locked(&mut q, &mut wake) {
                Ok((item, d)) => {
                    drained = d;
                    Poll::Ready(Some(item))
                }
                Err(TryRecv::Closed) => Poll::Ready(None),
                Err(TryRecv::Empty) => {
                    waiter.enqueue(&mut q, cx.waker());
                    Poll::Pending
                }
            }
        };
        drop(q);
        drop(stale);
        self.finish(&mut wake, drained);
        out
    }

    /// Drop logic of a receive future that returned `Pending`: leave the
    /// queue, passing a granted item to the next receiver.
    // Cold and out of line, so that dropping a future that never waited
    // (the common case) stays a flag check inlined at the drop site.
    #[cold]
    #[inline(never)]
    pub(crate) fn drop_recv_waiter(&self, mut waiter: Pin<&mut Waiter<Grant>>) {
        let mut wake = None;
        let old = {
            let mut q = self.recv.lock();
            let (state, old) = waiter.as_mut().remove(&mut q);
            let grant = mem::take(waiter.as_mut().data(&mut q));
            if state == WaitState::Woken && grant == Grant::Granted {
                if q.is_empty() || q.state_ref().mode == Mode::Immediate {
                    q.state().items_reserved -= 1;
                } else {
                    wake = grant_head(&mut q, |_| {});
                }
            }
            old
        };
        drop(old);
        wake_taken(&mut wake);
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
        loop {
            let mut batch = WakeBatch::new();
            let more = {
                let mut q = self.recv.lock();
                let end = *end.get_or_insert_with(|| {
                    let st = q.state();
                    first = st.mode == Mode::Open;
                    if st.mode != Mode::Immediate {
                        st.mode = mode;
                    }
                    q.next_seq()
                });
                // Only the receivers queued when we closed: one that links
                // again (its items are reserved by others) must not make
                // this loop spin.
                let mut more = q.wake_front(&mut batch, |_, grant, seq| {
                    if seq < end {
                        *grant = Grant::Closed;
                        Visit::Wake
                    } else {
                        Visit::Stop
                    }
                });
                if !more && q.state_ref().send_linked > 0 {
                    let mut s = self.send.lock();
                    more = s.wake_front(&mut batch, |_, grant, _| {
                        *grant = Grant::Closed;
                        Visit::Wake
                    });
                    q.state().send_linked = s.len();
                }
                more
            };
            batch.wake_all();
            if !more {
                return first;
            }
        }
    }

    /// Closes for good and drops every buffered item (outside the lock,
    /// each exactly once). Receivers fail at once. Returns how many items
    /// were dropped.
    #[cfg_attr(not(feature = "alloc"), allow(dead_code))] // used by `Queue` and `channel::bounded`
    pub(crate) fn shutdown_immediate(&self) -> usize {
        self.close_with(Mode::Immediate);
        let mut dropped = 0;
        loop {
            let item = self.recv.lock().state().buf.pop();
            match item {
                Some(item) => {
                    drop(item);
                    dropped += 1;
                }
                None => return dropped,
            }
        }
    }

    // ----- task_done / join -----

    /// Marks one taken item as done. `Err(())` if none is in flight.
    /// `Ok(true)` if nothing is buffered or in flight any more.
    #[cfg_attr(not(feature = "alloc"), allow(dead_code))] // used by `Queue` and `channel::bounded`
    pub(crate) fn task_done(&self) -> Result<bool, ()> {
        let mut q = self.recv.lock();
        let st = q.state();
        if st.in_flight == 0 {
            return Err(());
        }
        st.in_flight -= 1;
        Ok(st.in_flight == 0 && st.buf.len() == 0)
    }

    /// Buffered items plus items taken and not yet marked done.
    #[cfg_attr(not(feature = "alloc"), allow(dead_code))] // used by `Queue` and `channel::bounded`
    pub(crate) fn unfinished(&self) -> usize {
        let mut q = self.recv.lock();
        let st = q.state();
        st.buf.len() + st.in_flight
    }

    // ----- inspection -----

    pub(crate) fn len(&self) -> usize {
        self.recv.lock().state_ref().buf.len()
    }

    #[cfg_attr(not(feature = "alloc"), allow(dead_code))] // used by `Queue` and `channel::bounded`
    pub(crate) fn capacity(&self) -> usize {
        self.recv.lock().state_ref().cap
    }

    /// `true` if no slot is free: each holds an item or is promised to a
    /// woken sender.
    pub(crate) fn is_full(&self) -> bool {
        let q = self.recv.lock();
        let st = q.state_ref();
        st.buf.len() + st.slots_reserved >= st.cap
    }

    pub(crate) fn mode(&self) -> Mode {
        self.recv.lock().state_ref().mode
    }

    pub(crate) fn stats(&self) -> Stats {
        let q = self.recv.lock();
        let recv_waiters = q.len();
        let st = q.state_ref();
        Stats {
            len: st.buf.len(),
            cap: st.cap,
            mode: st.mode,
            slots_reserved: st.slots_reserved,
            items_reserved: st.items_reserved,
            send_waiters: st.send_linked,
            recv_waiters,
            in_flight: st.in_flight,
        }
    }
}

impl<B: Buffer> fmt::Debug for Chan<B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Lock A is only ever held for a few instructions and never while
        // user code runs, so this does not block for long.
        let s = self.stats();
        let mut d = f.debug_struct("Chan");
        d.field("len", &s.len);
        if s.cap != usize::MAX {
            d.field("capacity", &s.cap);
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
    /// Not polled yet (its waiter is idle).
    Init,
    /// Returned `Pending` at least once: its waiter is linked or woken.
    Queued,
    /// Returned `Ready`.
    Done,
}

pin_project_lite::pin_project! {
    /// The body of every send/put future: the item stays here until the
    /// poll that moves it into the buffer.
    ///
    /// The waiter node is built only when the send has to wait: the first
    /// poll tries the non-waiting path, so a send that finds room never
    /// writes (or moves) a node.
    pub(crate) struct SendFut<'a, B: Buffer> {
        chan: &'a Chan<B>,
        item: Option<B::Item>,
        phase: Phase,
        #[pin]
        waiter: Option<Waiter<Grant>>,
    }

    impl<B: Buffer> PinnedDrop for SendFut<'_, B> {
        fn drop(this: Pin<&mut Self>) {
            let this = this.project();
            if *this.phase == Phase::Queued {
                if let Some(waiter) = this.waiter.as_pin_mut() {
                    this.chan.drop_send_waiter(waiter);
                }
            }
        }
    }
}

impl<'a, B: Buffer> SendFut<'a, B> {
    #[inline]
    pub(crate) fn new(chan: &'a Chan<B>, item: B::Item) -> Self {
        Self {
            chan,
            item: Some(item),
            phase: Phase::Init,
            waiter: None,
        }
    }

    /// `Ready(Err(item))` if the engine is closed.
    ///
    /// # Panics
    /// If polled after it returned `Ready`.
    pub(crate) fn poll_send(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Result<(), B::Item>> {
        let mut this = self.project();
        let queued = match *this.phase {
            Phase::Init => {
                let item = this
                    .item
                    .take()
                    .expect("anysync bug: send polled without an item");
                match this.chan.try_send(item) {
                    Ok(()) => {
                        *this.phase = Phase::Done;
                        return Poll::Ready(Ok(()));
                    }
                    Err(TrySend::Closed(item)) => {
                        *this.phase = Phase::Done;
                        return Poll::Ready(Err(item));
                    }
                    Err(TrySend::Full(item)) => *this.item = Some(item),
                }
                this.waiter.set(Some(Waiter::new(Grant::None)));
                false
            }
            Phase::Queued => true,
            Phase::Done => panic!("send future polled after completion"),
        };
        let waiter = this
            .waiter
            .as_pin_mut()
            .expect("anysync bug: waiter not built");
        let poll = this.chan.poll_send(waiter, queued, this.item, cx);
        *this.phase = if poll.is_ready() {
            Phase::Done
        } else {
            Phase::Queued
        };
        poll
    }

    pub(crate) fn is_terminated(&self) -> bool {
        self.phase == Phase::Done
    }

    pub(crate) fn phase(&self) -> Phase {
        self.phase
    }
}

pin_project_lite::pin_project! {
    /// The body of every receive/get future. As with [`SendFut`], the
    /// waiter node is built only when the receive has to wait.
    pub(crate) struct RecvFut<'a, B: Buffer> {
        chan: &'a Chan<B>,
        phase: Phase,
        #[pin]
        waiter: Option<Waiter<Grant>>,
    }

    impl<B: Buffer> PinnedDrop for RecvFut<'_, B> {
        fn drop(this: Pin<&mut Self>) {
            let this = this.project();
            if *this.phase == Phase::Queued {
                if let Some(waiter) = this.waiter.as_pin_mut() {
                    this.chan.drop_recv_waiter(waiter);
                }
            }
        }
    }
}

impl<'a, B: Buffer> RecvFut<'a, B> {
    #[inline]
    pub(crate) fn new(chan: &'a Chan<B>) -> Self {
        Self {
            chan,
            phase: Phase::Init,
            waiter: None,
        }
    }

    /// `Ready(None)` if the engine is closed and drained.
    ///
    /// # Panics
    /// If polled after it returned `Ready`.
    pub(crate) fn poll_recv(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<B::Item>> {
        let mut this = self.project();
        let queued = match *this.phase {
            Phase::Init => {
                match this.chan.try_recv() {
                    Ok(item) => {
                        *this.phase = Phase::Done;
                        return Poll::Ready(Some(item));
                    }
                    Err(TryRecv::Closed) => {
                        *this.phase = Phase::Done;
                        return Poll::Ready(None);
                    }
                    Err(TryRecv::Empty) => {}
                }
                this.waiter.set(Some(Waiter::new(Grant::None)));
                false
            }
            Phase::Queued => true,
            Phase::Done => panic!("receive future polled after completion"),
        };
        let waiter = this
            .waiter
            .as_pin_mut()
            .expect("anysync bug: waiter not built");
        let poll = this.chan.poll_recv(waiter, queued, cx);
        *this.phase = if poll.is_ready() {
            Phase::Done
        } else {
            Phase::Queued
        };
        poll
    }

    pub(crate) fn is_terminated(&self) -> bool {
        self.phase == Phase::Done
    }

    pub(crate) fn phase(&self) -> Phase {
        self.phase
    }
}

//! A one-shot channel: one value, sent once, from one task to another.
//!
//! [`channel`] returns a [`Sender`] and a [`Receiver`]. The sender
//! [`send`](Sender::send)s at most one value (sending consumes it); the
//! receiver is itself a future of that value, and also offers
//! [`recv`](Receiver::recv) and [`try_recv`](Receiver::try_recv).
//!
//! | what happens                                  | the other side sees                               |
//! |-----------------------------------------------|---------------------------------------------------|
//! | `tx.send(v)`                                  | the receiver gets `Ok(v)`                         |
//! | `tx` dropped without sending                  | the receiver gets `Err(RecvError)`                |
//! | `rx` dropped, or [`rx.close()`](Receiver::close) | `send` returns the value in [`SendError`]; [`Sender::closed`] completes |
//!
//! A value sent before [`Receiver::close`] is still delivered by
//! `try_recv`/`recv`; a value sent but never received is dropped exactly
//! once, with the receiver (or with the channel, whichever goes last).
//!
//! # Examples
//!
//! ```
//! # futures_executor::block_on(async {
//! use anysync::channel::oneshot;
//!
//! let (tx, rx) = oneshot::channel();
//! std::thread::spawn(move || {
//!     let _ = tx.send(6 * 7);
//! });
//! assert_eq!(rx.await, Ok(42));
//! # });
//! ```
//!
//! A sender that learns the receiver has gone away:
//!
//! ```
//! # futures_executor::block_on(async {
//! use anysync::channel::oneshot;
//!
//! let (mut tx, rx) = oneshot::channel::<u32>();
//! drop(rx);
//! tx.closed().await; // completes: nobody is listening
//! assert_eq!(tx.send(1).unwrap_err().0, 1); // the value comes back
//! # });
//! ```
//!
//! # Implementation notes
//!
//! No lock: one atomic word holds the whole state (value present, sender
//! done, receiver closed, and one "waker stored" flag per side), and the
//! value and the two wakers sit in cells that the state word hands from
//! one side to the other. One waker slot per side is enough, not a wait
//! queue: only one task at a time can wait on each side, because
//! [`Receiver::recv`] and [`Sender::closed`] borrow their handle mutably
//! (and the receiver future is the receiver itself). That also makes every
//! future here `Unpin`.
//!
//! * The value cell belongs to the sender until the one atomic operation
//!   that sets both `VALUE` and `TX_DONE`; from then on it belongs to the
//!   receiver, which clears `VALUE` when it moves the value out. A value
//!   nobody took is dropped with the channel's memory.
//! * A waker slot belongs to its own side while its flag is clear, and is
//!   written only then (and only if the other side had not finished when
//!   this side last looked). Setting the flag publishes the waker and
//!   hands the slot to whichever operation clears the flag next: the
//!   other side's finishing operation (which takes the waker out and
//!   wakes it), or this side taking it back to compare or replace the
//!   waker on a re-poll. (The receiver also remembers its stored waker's
//!   identity, data pointer and vtable, on compilers that expose them: a
//!   re-poll by the same task that finds the flag still set and the
//!   sender not finished then leaves the slot alone, with no atomic
//!   write.) A side that finds, on setting its flag again,
//!   that the other side finished meanwhile takes its waker back out, so
//!   no waker outlives the wait it was for (a waker that owns the other
//!   handle would otherwise keep the channel alive).
//! * Wakers are cloned, woken and dropped, and values dropped, only once
//!   the state word is consistent, so a waker that panics or calls back
//!   into the channel finds it whole.

use core::{
    fmt,
    future::Future,
    mem::MaybeUninit,
    pin::Pin,
    ptr,
    task::{Context, Poll, Waker},
};

use futures_core::FusedFuture;

use crate::loom::{
    cell::UnsafeCell,
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc,
    },
};
use crate::util::waker_id::WakerId;

/// The channel errors, shared with the other channels:
/// * [`SendError`]: [`Sender::send`] failed because the receiver was
///   dropped or [closed](Receiver::close); it holds the value.
/// * [`RecvError`]: no value came, and none can: the sender was dropped
///   without sending, the value was already received, or the receiver was
///   closed before a value arrived.
/// * [`TryRecvError`]: `Empty` (the sender may still send) or `Closed`.
#[doc(no_inline)]
pub use super::{RecvError, SendError, TryRecvError};

/// The value cell holds a value the receiver has not taken.
const VALUE: usize = 1;
/// The sender is finished: it sent (together with `VALUE`) or was dropped.
const TX_DONE: usize = 1 << 1;
/// The receiver was closed or dropped: no value is accepted any more.
const RX_CLOSED: usize = 1 << 2;
/// The receiver's waker slot holds the waker to wake when `TX_DONE` is set.
const RX_WAKER: usize = 1 << 3;
/// The sender's waker slot holds the waker to wake when `RX_CLOSED` is set.
const TX_WAKER: usize = 1 << 4;

/// Creates a one-shot channel.
///
/// # Examples
///
/// ```
/// # futures_executor::block_on(async {
/// let (tx, rx) = anysync::channel::oneshot::channel();
/// tx.send("done").unwrap();
/// assert_eq!(rx.await, Ok("done"));
/// # });
/// ```
pub fn channel<T>() -> (Sender<T>, Receiver<T>) {
    let inner = Arc::new(Inner {
        state: AtomicUsize::new(0),
        value: UnsafeCell::new(MaybeUninit::uninit()),
        rx_waker: UnsafeCell::new(None),
        rx_waker_id: UnsafeCell::new(WakerId::default()),
        tx_waker: UnsafeCell::new(None),
    });
    (
        Sender {
            inner: Some(Arc::clone(&inner)),
        },
        Receiver { inner, done: false },
    )
}

struct Inner<T> {
    /// `VALUE | TX_DONE | RX_CLOSED | RX_WAKER | TX_WAKER`: see the
    /// module's implementation notes for who may touch which cell when.
    state: AtomicUsize,
    /// Initialised exactly while `VALUE` is set.
    value: UnsafeCell<MaybeUninit<T>>,
    /// The task waiting in the receiver future, if any.
    rx_waker: UnsafeCell<Option<Waker>>,
    /// The identity of the last waker the receiver stored in `rx_waker`,
    /// so that a re-poll by the same task leaves the slot alone. The
    /// receiver's alone, whatever the flags say (here rather than in the
    /// receiver, which stays two words).
    rx_waker_id: UnsafeCell<WakerId>,
    /// The task waiting in `Sender::closed`, if any.
    tx_waker: UnsafeCell<Option<Waker>>,
}

// SAFETY: the cells are shared between the two handles, which may live on
// different threads; the state word orders every access to them (see the
// module's implementation notes), except `rx_waker_id`, which only the
// receiver touches, through `&mut Receiver`; `Waker` is `Send + Sync`. A `T`
// only ever moves from one thread to another (it is never shared by
// reference), so `T: Send` is all either impl needs.
unsafe impl<T: Send> Send for Inner<T> {}
// SAFETY: as for `Send` above.
unsafe impl<T: Send> Sync for Inner<T> {}

impl<T> Drop for Inner<T> {
    fn drop(&mut self) {
        // `&mut self`: both handles are gone, and the last `Arc` drop
        // ordered every earlier access before this one.
        if self.state.load(Ordering::Relaxed) & VALUE != 0 {
            self.value.with_mut(|value| {
                // SAFETY: `VALUE` says the cell holds a value nobody took,
                // and nothing else can reach it any more.
                unsafe { ptr::drop_in_place(value.cast::<T>()) }
            });
        }
    }
}

impl<T> Inner<T> {
    /// Moves the value out and clears `VALUE`.
    ///
    /// # Safety
    /// Called by the receiver (through `&mut Receiver`), after an
    /// `Acquire` load or read-modify-write of `state` saw `VALUE`.
    unsafe fn take_value(&self) -> T {
        // SAFETY: `VALUE` (seen with `Acquire`, which the caller promises)
        // means the sender wrote the value and handed the cell over for
        // good; only the receiver, which the caller is, touches it now.
        let value = self
            .value
            .with(|value| unsafe { ptr::read(value.cast::<T>()) });
        // The sender is done, so only the receiver changes the state now.
        let state = self.state.load(Ordering::Relaxed);
        self.state.store(state & !VALUE, Ordering::Relaxed);
        value
    }

    /// Whether the waker in `slot` would wake the same task as `waker`.
    ///
    /// # Safety
    /// The caller owns `slot` (see [`put_waker`](Self::put_waker)).
    unsafe fn stored_will_wake(slot: &UnsafeCell<Option<Waker>>, waker: &Waker) -> bool {
        slot.with(|stored| {
            // SAFETY: the caller owns the slot: nobody else touches it.
            unsafe { (*stored).as_ref() }.is_some_and(|stored| stored.will_wake(waker))
        })
    }

    /// Replaces the waker in `slot`, returning the old one (for the
    /// caller to drop once the state is consistent).
    ///
    /// # Safety
    /// The caller owns `slot`: either it is the slot's side, its flag is
    /// clear, and the other side had not finished when this side last saw
    /// the state (so the other side sees the flag clear and leaves the
    /// slot alone); or its own read-modify-write cleared the flag, which
    /// hands the slot to whoever clears it.
    unsafe fn put_waker(slot: &UnsafeCell<Option<Waker>>, waker: Waker) -> Option<Waker> {
        // SAFETY: the caller owns the slot (see above).
        slot.with_mut(|stored| unsafe { (*stored).replace(waker) })
    }

    /// Takes the waker out of `slot`.
    ///
    /// # Safety
    /// As [`put_waker`](Self::put_waker).
    unsafe fn take_waker(slot: &UnsafeCell<Option<Waker>>) -> Option<Waker> {
        // SAFETY: the caller owns the slot (see above).
        slot.with_mut(|stored| unsafe { (*stored).take() })
    }

    /// Sets this side's flag `mine` again after writing the slot, which
    /// publishes the waker. If the other side finished (`theirs`) while
    /// the flag was clear, it did not take the waker and never will: it is
    /// taken back out and returned, for the caller to drop.
    fn publish(
        &self,
        slot: &UnsafeCell<Option<Waker>>,
        mine: usize,
        theirs: usize,
    ) -> (usize, Option<Waker>) {
        let state = self.state.fetch_or(mine, Ordering::AcqRel);
        let unused = if state & theirs != 0 {
            // SAFETY: the other side's finishing operation saw the flag
            // clear, so it left the slot to this side.
            unsafe { Self::take_waker(slot) }
        } else {
            None
        };
        (state | mine, unused)
    }

    /// The part of polling that waits: makes sure `waker` is in `slot`
    /// (flag `mine`) unless the other side finished (`theirs`), and
    /// returns the state as last seen. `state` is the caller's latest
    /// `Acquire` load, in which `theirs` is clear.
    ///
    /// `id` is kept as the identity of the waker in the slot whenever this
    /// side writes one.
    fn register(
        &self,
        slot: &UnsafeCell<Option<Waker>>,
        mine: usize,
        theirs: usize,
        mut state: usize,
        waker: &Waker,
        id: &mut WakerId,
    ) -> usize {
        let mut rearm = None;
        if state & mine != 0 {
            // Take the slot back first: the other side takes the waker out
            // when it finishes, so it cannot even be compared before.
            state = self.state.fetch_and(!mine, Ordering::AcqRel);
            if state & theirs != 0 {
                // It finished first, and has the waker to wake.
                return state;
            }
            // SAFETY: the flag was cleared by this side before the other
            // side finished: the slot is this side's.
            if unsafe { Self::stored_will_wake(slot, waker) } {
                let (state, unused) = self.publish(slot, mine, theirs);
                drop(unused);
                return state;
            }
            // If cloning the replacement panics, the old waker is still
            // in the slot: register it again as the panic unwinds.
            rearm = Some(Rearm {
                state: &self.state,
                mine,
            });
        }
        let fresh = waker.clone();
        if let Some(rearm) = rearm {
            core::mem::forget(rearm);
        }
        id.set(&fresh);
        // SAFETY: the flag is clear and the other side had not finished
        // when this side last saw the state: the slot is this side's.
        let old = unsafe { Self::put_waker(slot, fresh) };
        let (state, unused) = self.publish(slot, mine, theirs);
        // The state is consistent: these drops may do anything.
        drop(old);
        drop(unused);
        state
    }
}

impl<T> Inner<T> {
    /// The sender's finishing operation, shared by `send` and its drop:
    /// one compare-and-swap from `state` (a fresh load) that sets
    /// `TX_DONE` and `set`, and clears both waker flags, then
    /// [`finish_sender`](Self::finish_sender). `Err` without changing
    /// anything if a bit of `stop` is found set.
    fn finish_sender_with(&self, mut state: usize, set: usize, stop: usize) -> Result<(), ()> {
        loop {
            if state & stop != 0 {
                return Err(());
            }
            let next = (state | set | TX_DONE) & !(TX_WAKER | RX_WAKER);
            match self
                .state
                .compare_exchange_weak(state, next, Ordering::AcqRel, Ordering::Relaxed)
            {
                Ok(_) => break,
                Err(actual) => state = actual,
            }
        }
        self.finish_sender(state);
        Ok(())
    }

    /// After the sender's finishing operation (which set `TX_DONE` and
    /// cleared both waker flags; `state` is what it replaced): wakes the
    /// receiver's waker and drops the sender's own.
    fn finish_sender(&self, state: usize) {
        // The receiver's flag, cleared by the sender: the slot is the
        // sender's to empty.
        let theirs = if state & RX_WAKER != 0 {
            // SAFETY: see the line above.
            unsafe { Self::take_waker(&self.rx_waker) }
        } else {
            None
        };
        // Its own flag, cleared before the receiver closed (a receiver that
        // closed first emptied the slot itself).
        let own = if state & TX_WAKER != 0 && state & RX_CLOSED == 0 {
            // SAFETY: see the line above.
            unsafe { Self::take_waker(&self.tx_waker) }
        } else {
            None
        };
        if let Some(waker) = theirs {
            waker.wake();
        }
        drop(own);
    }

    /// Closes the receiving side (`close`, or the receiver's drop if
    /// `dropping`): sets `RX_CLOSED` and clears the sender's flag (and the
    /// receiver's own when dropping), then wakes the sender's waker and
    /// drops the receiver's.
    fn close_receiver(&self, dropping: bool) {
        let clear = if dropping {
            TX_WAKER | RX_WAKER
        } else {
            TX_WAKER
        };
        let mut state = self.state.load(Ordering::Relaxed);
        loop {
            let next = (state | RX_CLOSED) & !clear;
            match self
                .state
                .compare_exchange_weak(state, next, Ordering::AcqRel, Ordering::Relaxed)
            {
                Ok(_) => break,
                Err(actual) => state = actual,
            }
        }
        // The sender's flag, cleared here by the closing operation (one that
        // was set again after an earlier close has an empty slot, which the
        // sender empties itself).
        let theirs = if state & TX_WAKER != 0 && state & RX_CLOSED == 0 {
            // SAFETY: see the line above.
            unsafe { Self::take_waker(&self.tx_waker) }
        } else {
            None
        };
        // Its own flag, cleared before the sender finished.
        let own = if dropping && state & RX_WAKER != 0 && state & TX_DONE == 0 {
            // SAFETY: see the line above.
            unsafe { Self::take_waker(&self.rx_waker) }
        } else {
            None
        };
        if let Some(waker) = theirs {
            waker.wake();
        }
        drop(own);
    }
}

/// Sets a side's waker flag again if dropped, that is if cloning a
/// replacement waker panicked after the flag was cleared: the waker still
/// in the slot stays registered. (If the other side finished meanwhile,
/// the flag is left set over that waker, which goes with the channel.)
struct Rearm<'a> {
    state: &'a AtomicUsize,
    mine: usize,
}

impl Drop for Rearm<'_> {
    fn drop(&mut self) {
        self.state.fetch_or(self.mine, Ordering::AcqRel);
    }
}

/// The sending half of a [`oneshot`](self) channel.
///
/// Dropping it without sending makes the receiver complete with
/// `Err(RecvError)`.
pub struct Sender<T> {
    /// `None` once `send` consumed it (so `Drop` does nothing).
    inner: Option<Arc<Inner<T>>>,
}

/// The receiving half of a [`oneshot`](self) channel. It is a future of the
/// value: `rx.await` gives `Ok(value)`, or `Err(RecvError)` if the sender was
/// dropped without sending.
///
/// Dropping the receiver closes the channel: a later `send` fails and
/// returns its value, and a value already sent is dropped.
///
/// # Cancel safety
/// Awaiting the receiver is cancel safe as long as the receiver itself is
/// kept: drop the `&mut` borrow (or the [`Recv`](futures::Recv) future) and
/// await again later. Dropping the receiver itself is not cancellation but
/// closing, and discards the value.
pub struct Receiver<T> {
    inner: Arc<Inner<T>>,
    /// Completed as a future (for `FusedFuture`).
    done: bool,
}

// The cells inside are why the compiler cannot tell: every change to the
// channel is one atomic operation on the state word, and user code (wakers,
// the value's `Drop`) runs only once that word is consistent, so a panic
// caught around a use of these handles never leaves them half-changed.
impl<T> core::panic::UnwindSafe for Sender<T> {}
impl<T> core::panic::RefUnwindSafe for Sender<T> {}
impl<T> core::panic::UnwindSafe for Receiver<T> {}
impl<T> core::panic::RefUnwindSafe for Receiver<T> {}

impl<T> Sender<T> {
    fn inner(&self) -> &Inner<T> {
        self.inner
            .as_deref()
            .expect("anysync bug: oneshot sender used after send")
    }

    /// Sends `value`, consuming the sender, and wakes the receiver.
    ///
    /// # Errors
    /// If the receiver was dropped or [closed](Receiver::close), the value
    /// is returned in [`SendError`]. On success the value belongs to the
    /// receiver, which drops it if it goes away without receiving it.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = anysync::channel::oneshot::channel();
    /// drop(rx);
    /// assert_eq!(tx.send(5), Err(anysync::channel::oneshot::SendError(5)));
    /// ```
    pub fn send(mut self, value: T) -> Result<(), SendError<T>> {
        let inner = self
            .inner
            .take()
            .expect("anysync bug: oneshot sender used after send");
        let state = inner.state.load(Ordering::Relaxed);
        if state & RX_CLOSED != 0 {
            return Err(SendError(value));
        }
        inner.value.with_mut(|cell| {
            // SAFETY: the value cell is the sender's until it sets
            // `TX_DONE`, and it has not (it is being consumed right now).
            unsafe { (*cell).write(value) };
        });
        if inner.finish_sender_with(state, VALUE, RX_CLOSED).is_err() {
            // Not published: the value is still the sender's.
            let value = inner.value.with(|cell| {
                // SAFETY: written above and never handed over.
                unsafe { ptr::read(cell.cast::<T>()) }
            });
            return Err(SendError(value));
        }
        Ok(())
    }

    /// `true` if the receiver was dropped or [closed](Receiver::close), so
    /// a [`send`](Self::send) would fail.
    pub fn is_closed(&self) -> bool {
        self.inner().state.load(Ordering::Acquire) & RX_CLOSED != 0
    }

    /// Waits until the receiver is dropped or [closed](Receiver::close):
    /// use it to stop computing a value nobody wants.
    ///
    /// # Cancel safety
    /// This method is cancel safe: dropping the future before it completes
    /// has no effect.
    ///
    /// # Examples
    ///
    /// ```
    /// # futures_executor::block_on(async {
    /// let (mut tx, mut rx) = anysync::channel::oneshot::channel::<()>();
    /// rx.close();
    /// tx.closed().await;
    /// # });
    /// ```
    pub fn closed(&mut self) -> futures::Closed<'_, T> {
        futures::Closed {
            tx: self,
            done: false,
        }
    }

    /// The poll behind [`closed`](Self::closed), for hand-written futures:
    /// `Ready` once the receiver is gone or closed; otherwise registers
    /// `cx`'s waker (replacing the one from an earlier call).
    pub fn poll_closed(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        let inner = self.inner();
        let state = inner.state.load(Ordering::Acquire);
        if state & RX_CLOSED != 0 {
            return Poll::Ready(());
        }
        // The sender does not remember its waker (re-polls of `closed` are
        // rare, and a sender stays one pointer wide).
        let mut id = WakerId::default();
        let state = inner.register(
            &inner.tx_waker,
            TX_WAKER,
            RX_CLOSED,
            state,
            cx.waker(),
            &mut id,
        );
        if state & RX_CLOSED != 0 {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        let Some(inner) = self.inner.take() else {
            return;
        };
        let state = inner.state.load(Ordering::Relaxed);
        // Nothing stops a drop: it always finishes.
        let _ = inner.finish_sender_with(state, 0, 0);
    }
}

impl<T> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sender")
            .field("closed", &self.is_closed())
            .finish()
    }
}

impl<T> Receiver<T> {
    /// Waits for the value. The same as awaiting the receiver, without
    /// consuming it.
    ///
    /// After the value has been received, or the sender dropped without
    /// sending, every later call completes at once with `Err(RecvError)`.
    ///
    /// # Cancel safety
    /// This method is cancel safe: dropping the future before it completes
    /// has no effect.
    ///
    /// # Errors
    /// [`RecvError`] if the sender was dropped without sending,
    /// the value was already received, or the receiver was
    /// [closed](Self::close) before a value arrived.
    ///
    /// # Examples
    ///
    /// ```
    /// # futures_executor::block_on(async {
    /// let (tx, mut rx) = anysync::channel::oneshot::channel();
    /// tx.send(1).unwrap();
    /// assert_eq!(rx.recv().await, Ok(1));
    /// assert_eq!(rx.recv().await, Err(anysync::channel::RecvError));
    /// # });
    /// ```
    pub fn recv(&mut self) -> futures::Recv<'_, T> {
        futures::Recv {
            rx: self,
            done: false,
        }
    }

    /// Takes the value if it has arrived, without waiting.
    ///
    /// Once it has returned the value, the receiver is finished as a
    /// future too ([`is_terminated`](FusedFuture::is_terminated) is
    /// `true`, so `select!` skips it), exactly as if it had been awaited:
    /// awaiting it again panics, and [`recv`](Self::recv) and `try_recv`
    /// report [`RecvError`]/[`TryRecvError::Closed`].
    ///
    /// # Errors
    /// [`TryRecvError::Empty`] if the sender may still send;
    /// [`TryRecvError::Closed`] if no value can come any more.
    ///
    /// # Examples
    ///
    /// ```
    /// use anysync::channel::oneshot::{self, TryRecvError};
    ///
    /// let (tx, mut rx) = oneshot::channel();
    /// assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    /// tx.send(3).unwrap();
    /// assert_eq!(rx.try_recv(), Ok(3));
    /// assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
    /// ```
    pub fn try_recv(&mut self) -> Result<T, TryRecvError> {
        let state = self.inner.state.load(Ordering::Acquire);
        if state & VALUE != 0 {
            self.done = true;
            // SAFETY: `&mut self` is the receiver, and `VALUE` was seen
            // with `Acquire`.
            Ok(unsafe { self.inner.take_value() })
        } else if state & (TX_DONE | RX_CLOSED) != 0 {
            Err(TryRecvError::Closed)
        } else {
            Err(TryRecvError::Empty)
        }
    }

    /// `true` if no value is waiting to be received: none was sent yet,
    /// or it was already received, or none can come any more.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, mut rx) = anysync::channel::oneshot::channel();
    /// assert!(rx.is_empty());
    /// tx.send(1).unwrap();
    /// assert!(!rx.is_empty());
    /// assert_eq!(rx.try_recv(), Ok(1));
    /// assert!(rx.is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.inner.state.load(Ordering::Acquire) & VALUE == 0
    }

    /// Closes the channel without dropping the receiver: a later
    /// [`Sender::send`] fails and returns its value, and
    /// [`Sender::closed`] completes. A value sent before `close` can still
    /// be received. Idempotent.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, mut rx) = anysync::channel::oneshot::channel();
    /// rx.close();
    /// assert!(tx.send(1).is_err());
    /// ```
    pub fn close(&mut self) {
        let inner = &*self.inner;
        if inner.state.load(Ordering::Relaxed) & RX_CLOSED != 0 {
            return;
        }
        inner.close_receiver(false);
    }

    /// The poll behind awaiting the receiver and [`recv`](Self::recv).
    fn poll_value(&mut self, cx: &mut Context<'_>) -> Poll<Result<T, RecvError>> {
        let inner = &*self.inner;
        let mut state = inner.state.load(Ordering::Acquire);
        if state & (VALUE | TX_DONE | RX_CLOSED) == 0 {
            let waker = cx.waker();
            // SAFETY: `rx_waker_id` is the receiver's, which `&mut self` is.
            let same = || inner.rx_waker_id.with(|id| unsafe { (*id).matches(waker) });
            if state & RX_WAKER != 0 && same() {
                // The waker in the slot wakes this task, and the sender,
                // not finished yet, will see the flag and wake it.
                return Poll::Pending;
            }
            state = inner.rx_waker_id.with_mut(|id| {
                // SAFETY: as above.
                let id = unsafe { &mut *id };
                inner.register(&inner.rx_waker, RX_WAKER, TX_DONE, state, waker, id)
            });
        }
        if state & VALUE != 0 {
            // SAFETY: `&mut self` is the receiver, and `VALUE` was seen by
            // an `Acquire` load or read-modify-write.
            Poll::Ready(Ok(unsafe { inner.take_value() }))
        } else if state & (TX_DONE | RX_CLOSED) != 0 {
            Poll::Ready(Err(RecvError))
        } else {
            Poll::Pending
        }
    }
}

impl<T> Future for Receiver<T> {
    type Output = Result<T, RecvError>;

    /// # Panics
    /// If polled again after it completed.
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        assert!(!this.done, "`oneshot::Receiver` polled after completion");
        let poll = this.poll_value(cx);
        this.done = poll.is_ready();
        poll
    }
}

impl<T> FusedFuture for Receiver<T> {
    fn is_terminated(&self) -> bool {
        self.done
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        // Once the sender is done nobody looks at the state any more: the
        // value, if any, goes with the channel's memory.
        if self.inner.state.load(Ordering::Acquire) & TX_DONE == 0 {
            self.inner.close_receiver(true);
        }
    }
}

impl<T> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.inner.state.load(Ordering::Acquire);
        let (ready, closed) = (state & VALUE != 0, state & (TX_DONE | RX_CLOSED) != 0);
        f.debug_struct("Receiver")
            .field("value_ready", &ready)
            .field("closed", &closed)
            .field("terminated", &self.done)
            .finish()
    }
}

#[cfg(feature = "std")]
#[cfg_attr(docsrs, doc(cfg(feature = "std")))]
impl<T> Receiver<T> {
    /// Blocks the current thread until the value arrives.
    ///
    /// Meant for plain threads; calling it from a task blocks that
    /// executor thread.
    ///
    /// # Errors
    /// As [`recv`](Self::recv).
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = anysync::channel::oneshot::channel();
    /// std::thread::spawn(move || tx.send(7).unwrap());
    /// assert_eq!(rx.recv_blocking(), Ok(7));
    /// ```
    pub fn recv_blocking(mut self) -> Result<T, RecvError> {
        crate::util::block_on::block_on(self.recv())
    }
}

/// The named futures returned by this module's methods.
pub mod futures {
    use super::*;

    /// Future returned by [`Receiver::recv`].
    #[must_use = "futures do nothing unless you `.await` or poll them"]
    pub struct Recv<'a, T> {
        pub(super) rx: &'a mut Receiver<T>,
        pub(super) done: bool,
    }

    impl<T> Future for Recv<'_, T> {
        type Output = Result<T, RecvError>;

        fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
            assert!(!self.done, "`Recv` polled after completion");
            let poll = self.rx.poll_value(cx);
            self.done = poll.is_ready();
            poll
        }
    }

    impl<T> FusedFuture for Recv<'_, T> {
        fn is_terminated(&self) -> bool {
            self.done
        }
    }

    impl<T> fmt::Debug for Recv<'_, T> {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.debug_struct("Recv").field("done", &self.done).finish()
        }
    }

    /// Future returned by [`Sender::closed`].
    #[must_use = "futures do nothing unless you `.await` or poll them"]
    pub struct Closed<'a, T> {
        pub(super) tx: &'a mut Sender<T>,
        pub(super) done: bool,
    }

    impl<T> Future for Closed<'_, T> {
        type Output = ();

        fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
            assert!(!self.done, "`Closed` polled after completion");
            let poll = self.tx.poll_closed(cx);
            self.done = poll.is_ready();
            poll
        }
    }

    impl<T> FusedFuture for Closed<'_, T> {
        fn is_terminated(&self) -> bool {
            self.done
        }
    }

    impl<T> fmt::Debug for Closed<'_, T> {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.debug_struct("Closed").field("done", &self.done).finish()
        }
    }
}

#[cfg(test)]
mod tests;

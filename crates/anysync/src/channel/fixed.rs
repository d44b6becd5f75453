//! `StaticChannel`: the MPMC channel with its buffer inline, for `no_std`
//! without an allocator.

use core::fmt;

use super::{
    futures::{Closed, Recv, Reserve, ReserveMany, Send, SendTimeout},
    storage::Inline,
    Permit, TryRecvError, TrySendError,
};
use crate::util::finally::both;
use crate::{
    chan::{Chan, Ring, TryRecv, TrySend},
    rt::Timer,
    sync::Event,
};

// Statics need `const fn new`, which loom types do not allow.
#[cfg(all(test, feature = "std", not(anysync_loom)))]
mod tests;

/// A bounded multi-producer, multi-consumer channel whose `N` slots live
/// inside the value, so it needs no allocator and can be a `static`.
///
/// It behaves like [`bounded`](super::bounded) (the same engine runs both):
/// fair waiting senders and receivers, a cancel-safe [`recv`](Self::recv),
/// a [`send`](Self::send) whose pending value [`cancel`](Send::cancel)
/// gives back, errors that hand the value back, and
/// [`close`](Self::close) after which receivers drain what is left. The one
/// difference: there are no counted handles. Everyone uses
/// `&StaticChannel` (a `&'static` is `Copy`), so the channel closes only
/// when [`close`](Self::close) is called, never because handles were
/// dropped.
///
/// # Examples
///
/// A channel shared through a `static`, as firmware would use it:
///
/// ```
/// use anysync::channel::StaticChannel;
///
/// static EVENTS: StaticChannel<u32, 4> = StaticChannel::new();
///
/// # futures_executor::block_on(async {
/// EVENTS.send(7).await.unwrap();
/// EVENTS.try_send(8).unwrap();
/// assert_eq!(EVENTS.recv().await, Ok(7));
/// assert_eq!(EVENTS.try_recv(), Ok(8));
/// # });
/// ```
///
/// # Implementation notes
///
/// The buffer is a ring of `N` `Option<T>` slots (no `unsafe`; for most `T`
/// the `None` niche makes that free), behind the wait queue's short lock,
/// which on bare `no_std` is a spin lock: see the crate docs and the
/// `critical-section` feature if the channel is used from interrupt
/// handlers.
pub struct StaticChannel<T, const N: usize> {
    chan: Chan<Ring<T, N>>,
    /// Set by [`close`](Self::close), after the engine is closed.
    closed: Event,
}

impl<T, const N: usize> StaticChannel<T, N> {
    crate::util::macros::loom_const_fn!(
        /// An empty, open channel with room for `N` values.
        ///
        /// # Panics
        /// If `N` is zero (at compile time when used in a `static` or
        /// `const`): a channel with no room could never carry a value.
        ///
        /// # Examples
        /// ```
        /// use anysync::channel::StaticChannel;
        ///
        /// let ch = StaticChannel::<&str, 2>::new();
        /// assert_eq!(ch.capacity(), 2);
        /// ```
        #[track_caller]
        pub fn new() -> Self {
            assert!(
                N > 0,
                "StaticChannel::new: the capacity `N` must be greater than zero"
            );
            Self {
                chan: Chan::new(Ring::new(), Some(N), false),
                closed: Event::new(),
            }
        }
    );

    /// Sends `value`, waiting for room while the channel is full.
    ///
    /// Waiting senders are served in arrival order. The value stays in the
    /// future until it is moved into the channel.
    ///
    /// # Wakers
    /// The waker is cloned with no lock held when the wait starts, so a
    /// `Waker::clone` may call back into this channel. A waiting future polled
    /// again with a waker that wakes a different task clones that one under
    /// the channel's lock: such a clone must not call back into the channel
    /// (it would deadlock).
    ///
    /// # Cancel safety
    /// This method is **not** cancel safe: dropping the future drops the
    /// value if it was not sent yet. Use [`reserve`](Self::reserve) in
    /// `select!` and send on the [`Permit`] it gives (the cancel-safe way to
    /// send), or [`cancel`](Send::cancel) on the pending future to get the
    /// value back, or [`try_send`](Self::try_send). Either way the future
    /// gives up its place in the queue, and a slot it had already been
    /// granted is passed to the next waiter.
    ///
    /// # Errors
    /// [`SendError`](super::SendError) holding the value if the channel is closed before the
    /// value could be sent.
    ///
    /// # Examples
    /// ```
    /// # futures_executor::block_on(async {
    /// use anysync::channel::StaticChannel;
    ///
    /// let ch = StaticChannel::<u8, 1>::new();
    /// ch.send(1).await.unwrap();
    /// ch.close();
    /// assert_eq!(ch.send(2).await.unwrap_err().into_inner(), 2);
    /// # });
    /// ```
    pub fn send(&self, value: T) -> Send<'_, T, Inline<N>> {
        Send::new(&self.chan, value)
    }

    /// Sends `value` if there is room, without waiting.
    ///
    /// # Errors
    /// [`TrySendError::Full`] or [`TrySendError::Closed`], holding the value.
    ///
    /// # Examples
    /// ```
    /// use anysync::channel::{StaticChannel, TrySendError};
    ///
    /// let ch = StaticChannel::<u8, 1>::new();
    /// ch.try_send(1).unwrap();
    /// assert_eq!(ch.try_send(2), Err(TrySendError::Full(2)));
    /// ```
    pub fn try_send(&self, value: T) -> Result<(), TrySendError<T>> {
        self.chan.try_send(value).map_err(|e| match e {
            TrySend::Full(value) => TrySendError::Full(value),
            TrySend::Closed(value) => TrySendError::Closed(value),
        })
    }

    /// Sends `value` without waiting, even if the channel is full: then
    /// the oldest value in the channel is taken out to make room, and
    /// returned (the receivers never see it). A value already promised to a
    /// woken receiver is never taken; with every value promised (or every
    /// free slot reserved by a [`Permit`] or a woken sender) it fails like
    /// [`try_send`](Self::try_send). Use it for "latest values win" queues.
    ///
    /// # Errors
    /// [`TrySendError::Full`] (nothing can be taken out, see above) or
    /// [`TrySendError::Closed`], holding the value.
    ///
    /// # Examples
    /// ```
    /// use anysync::channel::StaticChannel;
    ///
    /// let ch = StaticChannel::<u8, 2>::new();
    /// assert_eq!(ch.force_send(1), Ok(None));
    /// assert_eq!(ch.force_send(2), Ok(None));
    /// assert_eq!(ch.force_send(3), Ok(Some(1))); // the oldest made room
    /// assert_eq!(ch.try_recv(), Ok(2));
    /// ```
    pub fn force_send(&self, value: T) -> Result<Option<T>, TrySendError<T>> {
        self.chan.force_send(value).map_err(|e| match e {
            TrySend::Full(value) => TrySendError::Full(value),
            TrySend::Closed(value) => TrySendError::Closed(value),
        })
    }

    /// Receives the next value, waiting while the channel is empty.
    ///
    /// Waiting receivers are served in arrival order. After
    /// [`close`](Self::close), receives return what is left, then fail.
    ///
    /// # Wakers
    /// The waker is cloned with no lock held when the wait starts, so a
    /// `Waker::clone` may call back into this channel. A waiting future polled
    /// again with a waker that wakes a different task clones that one under
    /// the channel's lock: such a clone must not call back into the channel
    /// (it would deadlock).
    ///
    /// # Cancel safety
    /// This method is cancel safe. Dropping the future gives up its place in
    /// the queue; a wake-up it had already received is passed to the next
    /// waiter.
    ///
    /// # Errors
    /// [`RecvError`](super::RecvError) once the channel is closed and empty.
    ///
    /// # Examples
    /// ```
    /// # futures_executor::block_on(async {
    /// use anysync::channel::{RecvError, StaticChannel};
    ///
    /// let ch = StaticChannel::<u8, 2>::new();
    /// ch.send(1).await.unwrap();
    /// ch.close();
    /// assert_eq!(ch.recv().await, Ok(1));
    /// assert_eq!(ch.recv().await, Err(RecvError));
    /// # });
    /// ```
    pub fn recv(&self) -> Recv<'_, T, Inline<N>> {
        Recv::new(&self.chan)
    }

    /// Receives a value if one is there, without waiting.
    ///
    /// # Errors
    /// [`TryRecvError::Empty`] or [`TryRecvError::Closed`] (closed and
    /// empty).
    ///
    /// # Examples
    /// ```
    /// use anysync::channel::{StaticChannel, TryRecvError};
    ///
    /// let ch = StaticChannel::<u8, 2>::new();
    /// assert_eq!(ch.try_recv(), Err(TryRecvError::Empty));
    /// ```
    pub fn try_recv(&self) -> Result<T, TryRecvError> {
        self.chan.try_recv().map_err(|e| match e {
            TryRecv::Empty => TryRecvError::Empty,
            TryRecv::Closed => TryRecvError::Closed,
        })
    }

    /// Closes the channel: sends fail from now on (waiting senders get
    /// their values back) and receivers drain what is left, then fail.
    /// Idempotent and permanent. Returns `true` if this call closed it.
    ///
    /// # Examples
    /// ```
    /// use anysync::channel::StaticChannel;
    ///
    /// let ch = StaticChannel::<u8, 2>::new();
    /// assert!(ch.close());
    /// assert!(!ch.close());
    /// assert!(ch.is_closed());
    /// ```
    pub fn close(&self) -> bool {
        let mut first = false;
        // `closed` is set even if a waiter's wake panics in the close.
        both(|| first = self.chan.close(), || self.closed.set());
        first
    }

    /// Waits for room for one value and reserves it: the returned
    /// [`Permit`] sends without waiting, and gives the slot back if it is
    /// dropped unused. The cancel-safe way to send, as
    /// [`Sender::reserve`](super::Sender::reserve).
    ///
    /// # Wakers
    /// The waker is cloned with no lock held when the wait starts, so a
    /// `Waker::clone` may call back into this channel. A waiting future polled
    /// again with a waker that wakes a different task clones that one under
    /// the channel's lock: such a clone must not call back into the channel
    /// (it would deadlock).
    ///
    /// # Cancel safety
    /// This method is cancel safe. Dropping the future gives up its place in
    /// the queue; a wake-up it had already received is passed to the next
    /// waiter.
    ///
    /// # Errors
    /// [`SendError`](super::SendError)`(())` if the channel is closed.
    ///
    /// # Examples
    /// ```
    /// # futures_executor::block_on(async {
    /// use anysync::channel::StaticChannel;
    ///
    /// let ch = StaticChannel::<u8, 1>::new();
    /// ch.reserve().await.unwrap().send(4).unwrap();
    /// assert_eq!(ch.try_recv(), Ok(4));
    /// # });
    /// ```
    pub fn reserve(&self) -> Reserve<'_, T, Inline<N>> {
        Reserve::new(&self.chan)
    }

    /// Waits for room for `n` values and reserves them all at once, as
    /// [`Sender::reserve_many`](super::Sender::reserve_many).
    ///
    /// # Wakers
    /// The waker is cloned with no lock held when the wait starts, so a
    /// `Waker::clone` may call back into this channel. A waiting future polled
    /// again with a waker that wakes a different task clones that one under
    /// the channel's lock: such a clone must not call back into the channel
    /// (it would deadlock).
    ///
    /// # Cancel safety
    /// This method is cancel safe. Dropping the future gives up its place in
    /// the queue; a wake-up it had already received is passed to the next
    /// waiter.
    ///
    /// # Errors
    /// [`SendError`](super::SendError)`(())` if the channel is closed.
    ///
    /// # Panics
    /// If `n` is more than `N` (it could never be reserved) or more than
    /// `u32::MAX` (a waiting sender counts its slots in 32 bits).
    ///
    /// # Examples
    /// ```
    /// # futures_executor::block_on(async {
    /// use anysync::channel::StaticChannel;
    ///
    /// let ch = StaticChannel::<u8, 2>::new();
    /// let mut permits = ch.reserve_many(2).await.unwrap();
    /// permits.send(1).unwrap();
    /// permits.send(2).unwrap();
    /// assert!(ch.is_full());
    /// # });
    /// ```
    #[track_caller]
    pub fn reserve_many(&self, n: usize) -> ReserveMany<'_, T, Inline<N>> {
        assert!(
            n <= N,
            "StaticChannel::reserve_many: `n` ({n}) is more than the capacity ({N})"
        );
        assert!(
            u32::try_from(n).is_ok(),
            "StaticChannel::reserve_many: `n` ({n}) is more than u32::MAX"
        );
        ReserveMany::new(&self.chan, n)
    }

    /// Reserves room for one value if there is some now, without waiting.
    ///
    /// # Errors
    /// [`TrySendError::Full`] or [`TrySendError::Closed`] (holding `()`).
    ///
    /// # Examples
    /// ```
    /// use anysync::channel::StaticChannel;
    ///
    /// let ch = StaticChannel::<u8, 1>::new();
    /// let permit = ch.try_reserve().unwrap();
    /// assert!(ch.try_reserve().is_err());
    /// drop(permit); // the slot goes back
    /// assert!(ch.try_reserve().is_ok());
    /// ```
    pub fn try_reserve(&self) -> Result<Permit<'_, T, Inline<N>>, TrySendError<()>> {
        match self.chan.try_reserve(1) {
            Ok(()) => Ok(Permit::new(&self.chan)),
            Err(TrySend::Full(())) => Err(TrySendError::Full(())),
            Err(TrySend::Closed(())) => Err(TrySendError::Closed(())),
        }
    }

    /// Sends `value`, waiting for room at most `duration` on `timer`'s
    /// clock, as [`Sender::send_timeout`](super::Sender::send_timeout).
    ///
    /// # Wakers
    /// The waker is cloned with no lock held when the wait starts, so a
    /// `Waker::clone` may call back into this channel. A waiting future polled
    /// again with a waker that wakes a different task clones that one under
    /// the channel's lock: such a clone must not call back into the channel
    /// (it would deadlock).
    ///
    /// # Cancel safety
    /// This method is **not** cancel safe: dropping the future drops the
    /// value if it was not sent yet. Use [`reserve`](Self::reserve) in
    /// `select!`, then send on the permit.
    ///
    /// # Errors
    /// [`SendTimeoutError`](super::SendTimeoutError) holding the value.
    ///
    /// # Examples
    /// ```
    /// use std::time::Duration;
    /// use anysync::{channel::StaticChannel, rt::virtual_time::VirtualTime};
    ///
    /// VirtualTime::new().block_on(|rt| async move {
    ///     let ch = StaticChannel::<u8, 1>::new();
    ///     ch.send_timeout(1, Duration::from_secs(1), &rt).await.unwrap();
    ///     let err = ch.send_timeout(2, Duration::from_secs(1), &rt).await.unwrap_err();
    ///     assert!(err.is_timeout());
    /// });
    /// ```
    pub fn send_timeout<Tm: Timer>(
        &self,
        value: T,
        duration: core::time::Duration,
        timer: &Tm,
    ) -> SendTimeout<'_, T, Tm::Sleep, Inline<N>> {
        SendTimeout::new(self.send(value), timer.sleep(duration))
    }

    /// Waits until [`close`](Self::close) is called.
    ///
    /// # Cancel safety
    /// This method is cancel safe: dropping the future before it completes
    /// has no effect.
    ///
    /// # Examples
    /// ```
    /// # futures_executor::block_on(async {
    /// use anysync::channel::StaticChannel;
    ///
    /// let ch = StaticChannel::<u8, 1>::new();
    /// ch.close();
    /// ch.closed().await;
    /// # });
    /// ```
    pub fn closed(&self) -> Closed<'_> {
        Closed::new(&self.closed)
    }

    /// `true` once the channel is closed.
    pub fn is_closed(&self) -> bool {
        self.chan.mode() != crate::chan::Mode::Open
    }

    /// The number of values in the channel now.
    pub fn len(&self) -> usize {
        self.chan.len()
    }

    /// `true` if the channel holds no values now.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// `true` if a `send` would wait now: every slot holds a value or is
    /// promised to a waiting sender.
    pub fn is_full(&self) -> bool {
        self.chan.is_full()
    }

    /// The engine's counters, for tests (which do not run under loom:
    /// a `StaticChannel` needs `const fn new`, which loom types lack).
    #[cfg(all(test, not(anysync_loom)))]
    pub(crate) fn stats(&self) -> crate::chan::Stats {
        self.chan.stats()
    }

    /// The number of slots, `N`.
    pub const fn capacity(&self) -> usize {
        N
    }

    /// The number of tasks waiting in `send` (and `reserve`).
    pub fn send_waiters(&self) -> usize {
        self.chan.stats().send_waiters
    }

    /// The number of tasks waiting in `recv`.
    pub fn recv_waiters(&self) -> usize {
        self.chan.stats().recv_waiters
    }

    /// A snapshot of the channel's counters, read together: the values in
    /// it, its capacity (`Some(N)`), the slots reserved by permits and
    /// woken senders, the waiting tasks and whether it is closed
    /// (`senders` and `receivers` are `None`: a `StaticChannel` has no
    /// handles).
    ///
    /// It takes the channel's lock and counts the waiters: meant for
    /// monitoring and tests, not for a hot path.
    ///
    /// # Examples
    /// ```
    /// use anysync::channel::StaticChannel;
    ///
    /// static CH: StaticChannel<u8, 4> = StaticChannel::new();
    /// CH.try_send(1).unwrap();
    /// let s = CH.statistics();
    /// assert_eq!((s.len, s.capacity, s.senders), (1, Some(4), None));
    /// ```
    pub fn statistics(&self) -> super::ChannelStatistics {
        super::ChannelStatistics::from_stats(self.chan.stats())
    }
}

#[cfg(feature = "std")]
#[cfg_attr(docsrs, doc(cfg(feature = "std")))]
impl<T, const N: usize> StaticChannel<T, N> {
    /// Blocks the current thread until `value` is sent.
    ///
    /// # Errors
    /// As [`send`](Self::send).
    ///
    /// # Examples
    /// ```
    /// use anysync::channel::StaticChannel;
    ///
    /// static CH: StaticChannel<u8, 1> = StaticChannel::new();
    /// CH.send_blocking(3).unwrap();
    /// assert_eq!(CH.recv_blocking(), Ok(3));
    /// ```
    pub fn send_blocking(&self, value: T) -> Result<(), super::SendError<T>> {
        crate::util::block_on::block_on(self.send(value))
    }

    /// Blocks the current thread until a value is received.
    ///
    /// # Errors
    /// As [`recv`](Self::recv).
    ///
    /// # Examples
    /// ```
    /// use anysync::channel::StaticChannel;
    ///
    /// let ch = StaticChannel::<u8, 1>::new();
    /// ch.close();
    /// assert!(ch.recv_blocking().is_err());
    /// ```
    pub fn recv_blocking(&self) -> Result<T, super::RecvError> {
        crate::util::block_on::block_on(self.recv())
    }
}

impl<T, const N: usize> Default for StaticChannel<T, N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T, const N: usize> fmt::Debug for StaticChannel<T, N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.chan.stats();
        f.debug_struct("StaticChannel")
            .field("len", &s.len)
            .field("capacity", &N)
            .field("closed", &(s.mode != crate::chan::Mode::Open))
            .field("send_waiters", &s.send_waiters)
            .field("recv_waiters", &s.recv_waiters)
            .finish()
    }
}

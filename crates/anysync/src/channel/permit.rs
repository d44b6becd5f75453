//! Reserved slots of the MPMC channels: [`Permit`] and [`Permits`], made
//! by `reserve` and `reserve_many` on [`Sender`](super::Sender) and
//! [`StaticChannel`](super::StaticChannel).

use core::fmt;

use super::{
    storage::{Heap, Storage},
    SendError,
};
use crate::chan::Chan;

/// One reserved slot in a channel: [`send`](Self::send) fills it without
/// waiting. Dropping the permit unused gives the slot back (to the next
/// waiting sender, if any).
///
/// Made by [`Sender::reserve`](super::Sender::reserve) and
/// [`StaticChannel::reserve`](super::StaticChannel::reserve), or taken one
/// at a time from [`Permits`].
#[must_use = "a permit holds a slot until it is used or dropped"]
pub struct Permit<'a, T, S: Storage<T> = Heap> {
    chan: &'a Chan<S::Buf>,
}

impl<'a, T, S: Storage<T>> Permit<'a, T, S> {
    /// The caller holds one reserved slot of `chan`, which this now owns.
    pub(crate) fn new(chan: &'a Chan<S::Buf>) -> Self {
        Self { chan }
    }

    /// Sends `value` into the reserved slot, without waiting. Receivers
    /// see it after the values sent before the permit was used.
    ///
    /// # Errors
    /// [`SendError`] holding the value if the channel was closed after
    /// the slot was reserved.
    ///
    /// # Examples
    /// ```
    /// # futures_executor::block_on(async {
    /// use anysync::channel;
    ///
    /// let (tx, rx) = channel::bounded(1);
    /// let permit = tx.reserve().await.unwrap();
    /// assert!(tx.try_send(2).is_err()); // the slot is taken
    /// permit.send(1).unwrap();
    /// assert_eq!(rx.recv().await, Ok(1));
    /// # });
    /// ```
    pub fn send(self, value: T) -> Result<(), SendError<T>> {
        let chan = self.chan;
        // The slot is filled (or given back) by `send_reserved`, not by
        // our drop.
        core::mem::forget(self);
        chan.send_reserved(value).map_err(SendError)
    }
}

impl<T, S: Storage<T>> Drop for Permit<'_, T, S> {
    fn drop(&mut self) {
        self.chan.release_slots(1);
    }
}

impl<T, S: Storage<T>> fmt::Debug for Permit<'_, T, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Permit").finish_non_exhaustive()
    }
}

/// Several reserved slots in a channel, made by
/// [`Sender::reserve_many`](super::Sender::reserve_many) and
/// [`StaticChannel::reserve_many`](super::StaticChannel::reserve_many).
///
/// It is an iterator of one [`Permit`] per slot; [`send`](Self::send)
/// uses the next one directly. Dropping it gives back the slots not used.
#[must_use = "permits hold slots until they are used or dropped"]
pub struct Permits<'a, T, S: Storage<T> = Heap> {
    chan: &'a Chan<S::Buf>,
    left: usize,
}

impl<'a, T, S: Storage<T>> Permits<'a, T, S> {
    /// The caller holds `n` reserved slots of `chan`, which this now owns.
    pub(crate) fn new(chan: &'a Chan<S::Buf>, n: usize) -> Self {
        Self { chan, left: n }
    }

    /// The number of slots still reserved.
    pub fn len(&self) -> usize {
        self.left
    }

    /// `true` when every slot has been used.
    pub fn is_empty(&self) -> bool {
        self.left == 0
    }

    /// Sends `value` into the next reserved slot, without waiting.
    ///
    /// # Errors
    /// [`SendError`] holding the value if the channel was closed after
    /// the slots were reserved (the slot is used up all the same).
    ///
    /// # Panics
    /// If no slot is left ([`is_empty`](Self::is_empty)).
    ///
    /// # Examples
    /// ```
    /// # futures_executor::block_on(async {
    /// use anysync::channel;
    ///
    /// let (tx, rx) = channel::bounded(4);
    /// let mut permits = tx.reserve_many(2).await.unwrap();
    /// permits.send("a").unwrap();
    /// permits.send("b").unwrap();
    /// assert!(permits.is_empty());
    /// assert_eq!(rx.try_recv(), Ok("a"));
    /// # });
    /// ```
    #[track_caller]
    pub fn send(&mut self, value: T) -> Result<(), SendError<T>> {
        match self.next() {
            Some(permit) => permit.send(value),
            None => panic!("Permits::send: no reserved slot is left"),
        }
    }
}

impl<'a, T, S: Storage<T>> Iterator for Permits<'a, T, S> {
    type Item = Permit<'a, T, S>;

    fn next(&mut self) -> Option<Permit<'a, T, S>> {
        self.left = self.left.checked_sub(1)?;
        Some(Permit::new(self.chan))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.left, Some(self.left))
    }
}

impl<T, S: Storage<T>> ExactSizeIterator for Permits<'_, T, S> {}

impl<T, S: Storage<T>> Drop for Permits<'_, T, S> {
    fn drop(&mut self) {
        self.chan.release_slots(self.left);
    }
}

impl<T, S: Storage<T>> fmt::Debug for Permits<'_, T, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Permits")
            .field("len", &self.left)
            .finish_non_exhaustive()
    }
}

//! Reusable waiters for handles that poll without a future of their own:
//! `Stream::poll_next` on a channel receiver and the `Sink` adapter. Their
//! owners box them once, so waiting still does not allocate.

use core::{
    pin::Pin,
    task::{Context, Poll},
};

use super::{
    engine::{Chan, Grant},
    Buffer,
};
use crate::waitq::Waiter;

pin_project_lite::pin_project! {
    /// A reusable receive waiter for handles that poll without a future
    /// (`Stream::poll_next`). Boxed once by its owner.
    pub(crate) struct RecvSlot {
        #[pin]
        waiter: Waiter<Grant>,
        queued: bool,
    }
}

impl RecvSlot {
    pub(crate) fn new() -> Self {
        Self {
            waiter: Waiter::new(Grant::None),
            queued: false,
        }
    }

    pub(crate) fn poll_recv<B: Buffer>(self: Pin<&mut Self>, chan: &Chan<B>, cx: &mut Context<'_>) -> Poll<Option<B::Item>> {
        let this = self.project();
        let poll = chan.poll_recv(this.waiter, *this.queued, cx);
        *this.queued = poll.is_pending();
        poll
    }

    /// Must be called before the slot is dropped or used with another
    /// engine.
    pub(crate) fn release<B: Buffer>(self: Pin<&mut Self>, chan: &Chan<B>) {
        let this = self.project();
        if core::mem::take(this.queued) {
            chan.drop_recv_waiter(this.waiter);
        }
    }
}

pin_project_lite::pin_project! {
    /// A reusable send waiter plus the one item it is sending, for handles
    /// that poll without a future (`Sink`). Boxed once by its owner.
    pub(crate) struct SendSlot<T> {
        #[pin]
        waiter: Waiter<Grant>,
        item: Option<T>,
        queued: bool,
    }
}

impl<T> SendSlot<T> {
    pub(crate) fn new() -> Self {
        Self {
            waiter: Waiter::new(Grant::None),
            item: None,
            queued: false,
        }
    }

    pub(crate) fn has_item(&self) -> bool {
        self.item.is_some()
    }

    /// Stores the item to send; the slot must be empty.
    pub(crate) fn set(self: Pin<&mut Self>, item: T) {
        let this = self.project();
        debug_assert!(this.item.is_none() && !*this.queued);
        *this.item = Some(item);
    }

    /// Drives the stored item into `chan`; `Ready(Ok)` also when there is
    /// none.
    pub(crate) fn poll_send<B: Buffer<Item = T>>(self: Pin<&mut Self>, chan: &Chan<B>, cx: &mut Context<'_>) -> Poll<Result<(), T>> {
        let this = self.project();
        if this.item.is_none() {
            return Poll::Ready(Ok(()));
        }
        let poll = chan.poll_send(this.waiter, *this.queued, this.item, cx);
        *this.queued = poll.is_pending();
        poll
    }

    /// Must be called before the slot is dropped. Drops a stored item.
    pub(crate) fn release<B: Buffer<Item = T>>(self: Pin<&mut Self>, chan: &Chan<B>) -> Option<T> {
        let this = self.project();
        if core::mem::take(this.queued) {
            chan.drop_send_waiter(this.waiter);
        }
        this.item.take()
    }
}

//! Reusable waiters for handles that poll without a future of their own:
//! `Stream::poll_next` on a channel receiver and the `Sink` adapter. Their
//! owners box them once, so waiting still does not allocate.
//!
//! Each holds its pointer `P` to the engine (an `Arc` of what the handles
//! share) inside its [`Wait`], whose drop leaves the queue and passes on a
//! grant: dropping the box is all the cleanup there is.

use core::{
    ops::Deref,
    pin::Pin,
    task::{Context, Poll},
};

use super::{buffer::Buffer, Chan, Grant, RecvSide, SendSide, SendWant};
use crate::waitq::{Wait, WaitOwner};

pin_project_lite::pin_project!(
    /// A reusable receive waiter for handles that poll without a future
    /// (`Stream::poll_next`). Boxed once by its owner.
    pub(crate) struct RecvSlot<P>
    where
        P: Deref,
        P::Target: WaitOwner<RecvSide>,
    {
        #[pin]
        wait: Wait<P, RecvSide>,
    }
);

impl<P, B> RecvSlot<P>
where
    P: Deref<Target = Chan<B>>,
    B: Buffer,
{
    pub(crate) fn new(chan: P) -> Self {
        Self {
            wait: Wait::new(chan, Grant::None),
        }
    }

    pub(crate) fn poll_recv(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<B::Item>> {
        let (chan, mut node) = self.project().wait.split();
        chan.poll_recv(&mut node, cx)
    }
}

pin_project_lite::pin_project!(
    /// A reusable send waiter plus the one item it is sending, for handles
    /// that poll without a future (`Sink`). Boxed once by its owner.
    /// Dropping it leaves the queue, then drops a stored item.
    pub(crate) struct SendSlot<P, T>
    where
        P: Deref,
        P::Target: WaitOwner<SendSide>,
    {
        #[pin]
        wait: Wait<P, SendSide>,
        item: Option<T>,
    }
);

impl<P, B> SendSlot<P, B::Item>
where
    P: Deref<Target = Chan<B>>,
    B: Buffer,
{
    pub(crate) fn new(chan: P) -> Self {
        Self {
            wait: Wait::new(chan, SendWant::new(1)),
            item: None,
        }
    }

    pub(crate) fn has_item(&self) -> bool {
        self.item.is_some()
    }

    /// Stores the item to send; the slot must be empty.
    pub(crate) fn set(self: Pin<&mut Self>, item: B::Item) {
        let this = self.project();
        debug_assert!(this.item.is_none() && !this.wait.is_queued());
        *this.item = Some(item);
    }

    /// Drives the stored item into the engine; `Ready(Ok)` also when there
    /// is none.
    pub(crate) fn poll_send(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Result<(), B::Item>> {
        let this = self.project();
        if this.item.is_none() {
            return Poll::Ready(Ok(()));
        }
        let (chan, mut node) = this.wait.split();
        chan.poll_send(&mut node, this.item, cx)
    }
}

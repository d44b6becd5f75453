//! The futures that wait for the lock.

use core::{
    fmt,
    future::Future,
    ops::Deref,
    pin::Pin,
    task::{Context, Poll},
};

use futures_core::FusedFuture;
use pin_project_lite::pin_project;

#[cfg(feature = "alloc")]
use super::owned::{OwnedRwLockReadGuard, OwnedRwLockUpgradableReadGuard, OwnedRwLockWriteGuard};
use super::{
    engine::{Held, Hold},
    guards::{RwLockReadGuard, RwLockUpgradableReadGuard, RwLockWriteGuard},
    RwLock,
};
use crate::sync::semaphore::{never_closed, AcquireInner, SemOwner, Semaphore};
#[cfg(feature = "alloc")]
use alloc::sync::Arc;

/// The two-step acquire of an upgradable read: the slot, then one read
/// permit.
#[derive(Debug)]
enum UpgradablePhase {
    Slot,
    Read,
    Done,
}

/// Marks the waits for the upgradable-read slot (the lock's second
/// semaphore), as opposed to those for read and write permits.
pub(crate) enum UpgradableSlot {}

impl<T: ?Sized> SemOwner for RwLock<T> {
    #[inline(always)]
    fn sem(&self) -> &Semaphore {
        &self.raw.sem
    }
}

impl<T: ?Sized> SemOwner<UpgradableSlot> for RwLock<T> {
    #[inline(always)]
    #[allow(clippy::misnamed_getters)] // the upgradable slot's semaphore, on purpose
    fn sem(&self) -> &Semaphore {
        &self.raw.upgradable
    }
}

pin_project!(
    pub(super) struct UpgradableInner<P>
    where
        P: Deref,
        P::Target: SemOwner,
        P::Target: SemOwner<UpgradableSlot>,
    {
        #[pin]
        slot: AcquireInner<P, UpgradableSlot>,
        #[pin]
        read: AcquireInner<P>,
        phase: UpgradablePhase,
    }

    impl<P> PinnedDrop for UpgradableInner<P>
    where
        P: Deref,
        P::Target: SemOwner,
        P::Target: SemOwner<UpgradableSlot>,
    {
        fn drop(this: Pin<&mut Self>) {
            // The two acquires leave their queues when they are dropped.
            if let UpgradablePhase::Read = this.phase {
                // We hold the slot but never got the read permit.
                SemOwner::<UpgradableSlot>::sem(&**this.slot.ptr()).release(1);
            }
        }
    }
);

impl<P> UpgradableInner<P>
where
    P: Deref + Clone,
    P::Target: SemOwner,
    P::Target: SemOwner<UpgradableSlot>,
{
    pub(super) fn new(ptr: P) -> Self {
        UpgradableInner {
            slot: AcquireInner::new(ptr.clone(), 1),
            read: AcquireInner::new(ptr, 1),
            phase: UpgradablePhase::Slot,
        }
    }

    pub(super) fn ptr(&self) -> &P {
        self.read.ptr()
    }

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.project();
        if let UpgradablePhase::Slot = this.phase {
            match this.slot.poll(cx) {
                Poll::Ready(r) => {
                    never_closed(r);
                    *this.phase = UpgradablePhase::Read;
                }
                Poll::Pending => return Poll::Pending,
            }
        }
        match this.phase {
            UpgradablePhase::Read => match this.read.poll(cx) {
                Poll::Ready(r) => {
                    never_closed(r);
                    *this.phase = UpgradablePhase::Done;
                    Poll::Ready(())
                }
                Poll::Pending => Poll::Pending,
            },
            _ => panic!("`UpgradableRead` polled after completion"),
        }
    }

    fn is_terminated(&self) -> bool {
        matches!(self.phase, UpgradablePhase::Done)
    }
}

pin_project!(
    /// Future returned by [`RwLock::read`].
    #[must_use = "futures do nothing unless you `.await` or poll them"]
    pub struct Read<'a, T: ?Sized> {
        #[pin]
        pub(super) inner: AcquireInner<&'a RwLock<T>>,
    }
);

impl<'a, T: ?Sized> Future for Read<'a, T> {
    type Output = RwLockReadGuard<'a, T>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let lock: &'a RwLock<T> = this.inner.ptr();
        this.inner.poll(cx).map(|r| {
            never_closed(r);
            RwLockReadGuard::from_hold(Hold::new(lock, Held::Read))
        })
    }
}

pin_project!(
    /// Future returned by [`RwLock::write`].
    #[must_use = "futures do nothing unless you `.await` or poll them"]
    pub struct Write<'a, T: ?Sized> {
        #[pin]
        pub(super) inner: AcquireInner<&'a RwLock<T>>,
    }
);

impl<'a, T: ?Sized> Future for Write<'a, T> {
    type Output = RwLockWriteGuard<'a, T>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let lock: &'a RwLock<T> = this.inner.ptr();
        this.inner.poll(cx).map(|r| {
            never_closed(r);
            RwLockWriteGuard {
                hold: Hold::new(lock, Held::Write { upgraded: false }),
            }
        })
    }
}

pin_project!(
    /// Future returned by [`RwLock::upgradable_read`].
    #[must_use = "futures do nothing unless you `.await` or poll them"]
    pub struct UpgradableRead<'a, T: ?Sized> {
        #[pin]
        pub(super) inner: UpgradableInner<&'a RwLock<T>>,
    }
);

impl<'a, T: ?Sized> Future for UpgradableRead<'a, T> {
    type Output = RwLockUpgradableReadGuard<'a, T>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let lock: &'a RwLock<T> = this.inner.ptr();
        this.inner.poll(cx).map(|()| RwLockUpgradableReadGuard {
            hold: Hold::new(lock, Held::Upgradable),
        })
    }
}

pin_project!(
    /// Future returned by [`RwLockUpgradableReadGuard::upgrade`].
    #[must_use = "futures do nothing unless you `.await` or poll them"]
    pub struct Upgrade<'a, T: ?Sized> {
        // Declared first, so dropped first: a dropped upgrade gives back what
        // it had collected before the guard releases its read.
        #[pin]
        pub(super) inner: AcquireInner<&'a RwLock<T>>,
        pub(super) guard: Option<RwLockUpgradableReadGuard<'a, T>>,
    }
);

impl<'a, T: ?Sized> Future for Upgrade<'a, T> {
    type Output = RwLockWriteGuard<'a, T>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let guard = this
            .guard
            .as_ref()
            .expect("`Upgrade` polled after completion");
        let _: &'a RwLock<T> = guard.hold.lock;
        match this.inner.poll(cx) {
            Poll::Ready(r) => {
                never_closed(r);
                let guard = this.guard.take().expect("checked above");
                Poll::Ready(RwLockWriteGuard {
                    hold: guard.hold.upgraded(),
                })
            }
            Poll::Pending => Poll::Pending,
        }
    }
}

impl<T: ?Sized> FusedFuture for Read<'_, T> {
    fn is_terminated(&self) -> bool {
        self.inner.is_terminated()
    }
}

impl<T: ?Sized> fmt::Debug for Read<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Read")
            .field("done", &FusedFuture::is_terminated(self))
            .finish_non_exhaustive()
    }
}

impl<T: ?Sized> FusedFuture for Write<'_, T> {
    fn is_terminated(&self) -> bool {
        self.inner.is_terminated()
    }
}

impl<T: ?Sized> fmt::Debug for Write<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Write")
            .field("done", &FusedFuture::is_terminated(self))
            .finish_non_exhaustive()
    }
}

impl<T: ?Sized> FusedFuture for UpgradableRead<'_, T> {
    fn is_terminated(&self) -> bool {
        self.inner.is_terminated()
    }
}

impl<T: ?Sized> fmt::Debug for UpgradableRead<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UpgradableRead")
            .field("done", &FusedFuture::is_terminated(self))
            .finish_non_exhaustive()
    }
}

impl<T: ?Sized> FusedFuture for Upgrade<'_, T> {
    fn is_terminated(&self) -> bool {
        self.guard.is_none()
    }
}

impl<T: ?Sized> fmt::Debug for Upgrade<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Upgrade")
            .field("done", &FusedFuture::is_terminated(self))
            .finish_non_exhaustive()
    }
}

#[cfg(feature = "alloc")]
pin_project!(
    #[cfg_attr(docsrs, doc(cfg(feature = "alloc")))]
    /// Future returned by [`RwLock::read_owned`].
    #[must_use = "futures do nothing unless you `.await` or poll them"]
    pub struct ReadOwned<T: ?Sized> {
        #[pin]
        pub(super) inner: AcquireInner<Arc<RwLock<T>>>,
    }
);

#[cfg(feature = "alloc")]
#[cfg_attr(docsrs, doc(cfg(feature = "alloc")))]
impl<T: ?Sized> Future for ReadOwned<T> {
    type Output = OwnedRwLockReadGuard<T>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        this.inner.as_mut().poll(cx).map(|r| {
            never_closed(r);
            OwnedRwLockReadGuard::from_hold(Hold::new(Arc::clone(this.inner.ptr()), Held::Read))
        })
    }
}

#[cfg(feature = "alloc")]
pin_project!(
    #[cfg_attr(docsrs, doc(cfg(feature = "alloc")))]
    /// Future returned by [`RwLock::write_owned`].
    #[must_use = "futures do nothing unless you `.await` or poll them"]
    pub struct WriteOwned<T: ?Sized> {
        #[pin]
        pub(super) inner: AcquireInner<Arc<RwLock<T>>>,
    }
);

#[cfg(feature = "alloc")]
#[cfg_attr(docsrs, doc(cfg(feature = "alloc")))]
impl<T: ?Sized> Future for WriteOwned<T> {
    type Output = OwnedRwLockWriteGuard<T>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        this.inner.as_mut().poll(cx).map(|r| {
            never_closed(r);
            OwnedRwLockWriteGuard {
                hold: Hold::new(
                    Arc::clone(this.inner.ptr()),
                    Held::Write { upgraded: false },
                ),
            }
        })
    }
}

#[cfg(feature = "alloc")]
pin_project!(
    #[cfg_attr(docsrs, doc(cfg(feature = "alloc")))]
    /// Future returned by [`RwLock::upgradable_read_owned`].
    #[must_use = "futures do nothing unless you `.await` or poll them"]
    pub struct UpgradableReadOwned<T: ?Sized> {
        #[pin]
        pub(super) inner: UpgradableInner<Arc<RwLock<T>>>,
    }
);

#[cfg(feature = "alloc")]
#[cfg_attr(docsrs, doc(cfg(feature = "alloc")))]
impl<T: ?Sized> Future for UpgradableReadOwned<T> {
    type Output = OwnedRwLockUpgradableReadGuard<T>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        this.inner
            .as_mut()
            .poll(cx)
            .map(|()| OwnedRwLockUpgradableReadGuard {
                hold: Hold::new(Arc::clone(this.inner.ptr()), Held::Upgradable),
            })
    }
}

#[cfg(feature = "alloc")]
pin_project!(
    #[cfg_attr(docsrs, doc(cfg(feature = "alloc")))]
    /// Future returned by [`OwnedRwLockUpgradableReadGuard::upgrade`].
    #[must_use = "futures do nothing unless you `.await` or poll them"]
    pub struct UpgradeOwned<T: ?Sized> {
        // Declared first, so dropped first: a dropped upgrade gives back
        // what it had collected before the guard releases its read.
        #[pin]
        pub(super) inner: AcquireInner<Arc<RwLock<T>>>,
        pub(super) guard: Option<OwnedRwLockUpgradableReadGuard<T>>,
    }
);

#[cfg(feature = "alloc")]
#[cfg_attr(docsrs, doc(cfg(feature = "alloc")))]
impl<T: ?Sized> Future for UpgradeOwned<T> {
    type Output = OwnedRwLockWriteGuard<T>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let guard = this
            .guard
            .as_ref()
            .expect("`UpgradeOwned` polled after completion");
        let _ = guard;
        match this.inner.poll(cx) {
            Poll::Ready(r) => {
                never_closed(r);
                let guard = this.guard.take().expect("checked above");
                Poll::Ready(OwnedRwLockWriteGuard {
                    hold: guard.hold.upgraded(),
                })
            }
            Poll::Pending => Poll::Pending,
        }
    }
}

#[cfg(feature = "alloc")]
impl<T: ?Sized> FusedFuture for ReadOwned<T> {
    fn is_terminated(&self) -> bool {
        self.inner.is_terminated()
    }
}

#[cfg(feature = "alloc")]
impl<T: ?Sized> fmt::Debug for ReadOwned<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReadOwned")
            .field("done", &FusedFuture::is_terminated(self))
            .finish_non_exhaustive()
    }
}

#[cfg(feature = "alloc")]
impl<T: ?Sized> FusedFuture for WriteOwned<T> {
    fn is_terminated(&self) -> bool {
        self.inner.is_terminated()
    }
}

#[cfg(feature = "alloc")]
impl<T: ?Sized> fmt::Debug for WriteOwned<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WriteOwned")
            .field("done", &FusedFuture::is_terminated(self))
            .finish_non_exhaustive()
    }
}

#[cfg(feature = "alloc")]
impl<T: ?Sized> FusedFuture for UpgradableReadOwned<T> {
    fn is_terminated(&self) -> bool {
        self.inner.is_terminated()
    }
}

#[cfg(feature = "alloc")]
impl<T: ?Sized> fmt::Debug for UpgradableReadOwned<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UpgradableReadOwned")
            .field("done", &FusedFuture::is_terminated(self))
            .finish_non_exhaustive()
    }
}

#[cfg(feature = "alloc")]
impl<T: ?Sized> FusedFuture for UpgradeOwned<T> {
    fn is_terminated(&self) -> bool {
        self.guard.is_none()
    }
}

#[cfg(feature = "alloc")]
impl<T: ?Sized> fmt::Debug for UpgradeOwned<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UpgradeOwned")
            .field("done", &FusedFuture::is_terminated(self))
            .finish_non_exhaustive()
    }
}

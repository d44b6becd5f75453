//! [`Wait`]: a waiting future's node together with the pointer to the
//! primitive it waits on. Its drop unlinks the node, so no primitive carries
//! that duty.
//!
//! # Implementation notes
//!
//! A primitive implements [`WaitOwner`] (once per queue it has, told apart by
//! the marker `K`): where its queue is, and what to do with a node whose
//! future went away while it was still `Waiting` (now unlinked) or after it
//! was `Woken` (its grant unconsumed). That second part is the "woken, then
//! dropped: pass it on" protocol; `Wait`'s drop is the one place that runs
//! it.
//!
//! `Wait` holds the pointer `P` (`&'a T` for the borrowed futures, `Arc<T>`
//! for the owned ones) next to the node. A struct's own `Drop` runs before
//! its fields are dropped, so the queue is alive while the node is unlinked,
//! whichever pointer the future holds. The node itself ([`Waiter`]) can only
//! be built inside a `Wait`, and its own drop aborts if it is still linked:
//! a linked node whose memory goes away is impossible by construction and
//! caught in every build if this module is wrong.

use core::{fmt, marker::PhantomData, ops::Deref, pin::Pin, task::Waker};

use super::{QueueGuard, WaitQueue, WaitState, Waiter};

/// A primitive (or one of its queues, told apart by `K`) that futures wait
/// on through a [`Wait`].
pub(crate) trait WaitOwner<K = ()> {
    /// The primitive state guarded by the queue's lock.
    type State;
    /// The per-waiter data in each node.
    type Data;

    /// The queue the waits of this kind park on.
    fn wait_queue(&self) -> &WaitQueue<Self::State, Self::Data>;

    /// A waiting future was dropped while its node was `Waiting` (`was`;
    /// the node is now unlinked) or `Woken` (it was chosen, and the grant
    /// recorded for it, in `data`, is unconsumed): give back or pass on
    /// whatever it held. Runs with the lock held; `queue` is moved in so
    /// that the primitive can release it before waking anyone.
    fn abandon(
        &self,
        queue: QueueGuard<'_, Self::State, Self::Data>,
        was: WaitState,
        data: &mut Self::Data,
    );
}

/// The data type of the nodes of `Wait<P, K>`.
pub(crate) type DataOf<P, K> = <<P as Deref>::Target as WaitOwner<K>>::Data;

/// A waiting future's node, with the pointer to its owner. Always used
/// pinned (it is `!Unpin`); its drop unlinks the node and hands a pending
/// grant back to the owner ([`WaitOwner::abandon`]).
pub(crate) struct Wait<P, K = ()>
where
    P: Deref,
    P::Target: WaitOwner<K>,
{
    ptr: P,
    /// `false` means the node is `Idle` (not linked, holding no wake-up);
    /// `true` means it may be `Waiting` or `Woken`. Touched only through
    /// `Pin<&mut Self>`.
    queued: bool,
    waiter: Waiter<DataOf<P, K>>,
    _kind: PhantomData<fn() -> K>,
}

impl<P, K> Wait<P, K>
where
    P: Deref,
    P::Target: WaitOwner<K>,
{
    /// A wait on `*ptr`, not yet queued, whose node carries `data`.
    #[inline]
    pub(crate) fn new(ptr: P, data: DataOf<P, K>) -> Self {
        Self {
            ptr,
            queued: false,
            waiter: Waiter::new(data),
            _kind: PhantomData,
        }
    }

    /// The primitive waited on.
    #[inline]
    pub(crate) fn owner(&self) -> &P::Target {
        self.ptr().deref()
    }

    /// The pointer to the primitive waited on.
    #[inline]
    pub(crate) fn ptr(&self) -> &P {
        &self.ptr
    }

    /// `true` while the node may be in the queue or hold a wake-up.
    #[inline]
    #[allow(dead_code)] // not every primitive asks
    pub(crate) fn is_queued(&self) -> bool {
        self.queued
    }

    /// The primitive and a handle on the node, borrowed together.
    #[inline]
    pub(crate) fn split(self: Pin<&mut Self>) -> (&P::Target, WaitNode<'_, DataOf<P, K>>) {
        // SAFETY: the node (`waiter`) is structurally pinned: it is only
        // handed out as `Pin<&mut _>`, and `Wait` is `!Unpin` because the
        // node is. `ptr` and `queued` are not pinned.
        let this = unsafe { self.get_unchecked_mut() };
        let owner = this.ptr.deref();
        // SAFETY: see above: the node is structurally pinned.
        let waiter = unsafe { Pin::new_unchecked(&mut this.waiter) };
        (
            owner,
            WaitNode {
                waiter,
                queued: &mut this.queued,
            },
        )
    }
}

impl<P, K> Drop for Wait<P, K>
where
    P: Deref,
    P::Target: WaitOwner<K>,
{
    #[inline]
    fn drop(&mut self) {
        if self.queued {
            // SAFETY: a `Wait` is `!Unpin` and `queued` is set only through
            // `Pin<&mut Self>`, so this one was pinned and has not moved;
            // `drop` is the last use of it (the pinned-drop guarantee).
            unsafe { Pin::new_unchecked(self) }.leave_queued();
        }
    }
}

impl<P, K> Wait<P, K>
where
    P: Deref,
    P::Target: WaitOwner<K>,
{
    /// Leaves the queue now, exactly as dropping would: unlinks a `Waiting`
    /// node, and hands a `Waiting` or `Woken` node's grant to
    /// [`WaitOwner::abandon`]. For a future that completes for another
    /// reason while it may still be queued. Afterwards the node is idle.
    #[inline]
    pub(crate) fn leave(self: Pin<&mut Self>) {
        if self.queued {
            self.leave_queued();
        }
    }

    #[cold]
    #[inline(never)]
    fn leave_queued(self: Pin<&mut Self>) {
        // SAFETY: the node stays where it is (only re-borrowed pinned below).
        let this = unsafe { self.get_unchecked_mut() };
        let owner: &P::Target = &this.ptr;
        // SAFETY: the node is structurally pinned (see `split`).
        let mut waiter = unsafe { Pin::new_unchecked(&mut this.waiter) };
        // `ptr` is alive (in a drop, fields are dropped after this returns),
        // so the queue is too.
        let mut queue = owner.wait_queue().lock();
        let (was, old) = waiter.as_mut().remove(&mut queue);
        this.queued = false;
        if was == WaitState::Idle {
            drop(queue);
        } else {
            waiter.with_data_unlinked(|data| abandon(owner, queue, was, data));
        }
        // Replaced wakers are dropped with the lock released.
        drop(old);
    }
}

/// Runs [`WaitOwner::abandon`]. Passing a grant on may wake another task,
/// and that waker may panic; if this drop already runs during a panic, a
/// second one would abort the process, so with `std` it is caught there (the
/// node is unlinked and the grant recorded by then: nothing is lost but
/// that wake-up's panic).
#[inline]
fn abandon<O: WaitOwner<K> + ?Sized, K>(
    owner: &O,
    queue: QueueGuard<'_, O::State, O::Data>,
    was: WaitState,
    data: &mut O::Data,
) {
    #[cfg(feature = "std")]
    if std::thread::panicking() {
        let _ = std::panic::catch_unwind(core::panic::AssertUnwindSafe(|| {
            owner.abandon(queue, was, data);
        }));
        return;
    }
    owner.abandon(queue, was, data);
}

impl<P, K> fmt::Debug for Wait<P, K>
where
    P: Deref,
    P::Target: WaitOwner<K>,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Wait")
            .field("queued", &self.queued)
            .finish_non_exhaustive()
    }
}

/// A handle on a [`Wait`]'s node, for the primitive's poll code. Every
/// change of the node goes through it, so the `Wait` always knows whether
/// its drop has anything to undo.
pub(crate) struct WaitNode<'a, D> {
    waiter: Pin<&'a mut Waiter<D>>,
    queued: &'a mut bool,
}

impl<D> WaitNode<'_, D> {
    /// `true` while the node may be in the queue or hold a wake-up; when
    /// `false`, the node is `Idle`.
    #[inline]
    #[allow(dead_code)] // not every primitive asks
    pub(crate) fn is_queued(&self) -> bool {
        *self.queued
    }

    /// The node's state.
    #[inline]
    pub(crate) fn state<S>(&mut self, guard: &QueueGuard<'_, S, D>) -> WaitState {
        if !*self.queued {
            return WaitState::Idle;
        }
        self.waiter.as_mut().with_locked(guard, |p| {
            // SAFETY: `with_locked` runs this with the node's queue lock held.
            unsafe { (*p).state }
        })
    }

    /// Runs `f` on the node's data, with the queue lock held.
    #[inline]
    pub(crate) fn data<S, R>(
        &mut self,
        guard: &mut QueueGuard<'_, S, D>,
        f: impl FnOnce(&mut D) -> R,
    ) -> R {
        self.waiter.as_mut().with_locked(guard, |p| {
            // SAFETY: `with_locked` runs this with the node's queue lock
            // held, so no one else touches the data.
            f(unsafe { &mut *core::ptr::addr_of_mut!((*p).data) })
        })
    }

    /// Runs `f` on the data of a node that is not queued, without the lock.
    ///
    /// # Panics
    /// If the node is queued (a bug in the calling primitive).
    #[inline]
    #[allow(dead_code)] // not every primitive needs it
    pub(crate) fn data_unqueued<R>(&mut self, f: impl FnOnce(&mut D) -> R) -> R {
        assert!(
            !*self.queued,
            "anysync bug: unlocked access to a queued node"
        );
        self.waiter.as_mut().with_data_unlinked(f)
    }

    /// Links this `Idle` node at the tail with a clone of `waker`.
    ///
    /// The clone (executor code) runs before the node or the list is
    /// touched, so a panicking `Waker::clone` leaves both unchanged.
    ///
    /// # Panics
    /// If the node is not `Idle` (a bug in the calling primitive).
    #[inline]
    pub(crate) fn enqueue<S>(&mut self, guard: &mut QueueGuard<'_, S, D>, waker: &Waker) {
        self.enqueue_with(guard, waker.clone());
    }

    /// Like [`enqueue`](Self::enqueue) with a waker the caller already
    /// cloned: for a primitive that must clone before it changes its own
    /// state, so that a panicking clone cannot leave that state half-done.
    #[inline]
    pub(crate) fn enqueue_with<S>(&mut self, guard: &mut QueueGuard<'_, S, D>, waker: Waker) {
        self.waiter.as_mut().link(guard, waker, false);
        *self.queued = true;
    }

    /// Links this `Idle` node at the **head**, ahead of every waiter. For a
    /// waiter that already holds part of what the waiters in front of it
    /// need (an upgradable read upgrading), so it must be served first. It
    /// still gets the next sequence number, so sequence order is no longer
    /// queue order: a primitive that uses this must not stop `wake_front`
    /// by sequence number.
    ///
    /// # Panics
    /// If the node is not `Idle` (a bug in the calling primitive).
    #[allow(dead_code)] // only the RwLock upgrade queues at the front
    pub(crate) fn enqueue_front<S>(&mut self, guard: &mut QueueGuard<'_, S, D>, waker: Waker) {
        self.waiter.as_mut().link(guard, waker, true);
        *self.queued = true;
    }

    /// While `Waiting`, makes `waker` the one to wake. Returns the replaced
    /// waker, which the caller drops after unlocking.
    #[must_use = "drop the replaced waker after releasing the lock"]
    pub(crate) fn update_waker<S>(
        &mut self,
        guard: &mut QueueGuard<'_, S, D>,
        waker: &Waker,
    ) -> Option<Waker> {
        self.waiter.as_mut().with_locked(guard, |p| {
            // SAFETY: `with_locked` runs this with the node's queue lock held.
            let slot = unsafe { &mut *core::ptr::addr_of_mut!((*p).waker) };
            match slot {
                Some(old) if old.will_wake(waker) => None,
                _ => slot.replace(waker.clone()),
            }
        })
    }

    /// Makes the node `Idle`: unlinks it if `Waiting`, consumes the wake-up
    /// if `Woken`. Returns the state it was in (so a primitive can use or
    /// pass on a `Woken` grant) and the waker to drop after unlocking.
    #[must_use = "drop the returned waker after releasing the lock"]
    pub(crate) fn remove<S>(
        &mut self,
        guard: &mut QueueGuard<'_, S, D>,
    ) -> (WaitState, Option<Waker>) {
        if !*self.queued {
            return (WaitState::Idle, None);
        }
        let out = self.waiter.as_mut().remove(guard);
        *self.queued = false;
        out
    }

    /// Consumes a wake-up **without the lock**, if there is one: when the
    /// queue side has woken this node (`Woken`), makes it `Idle` and returns
    /// `f` of its data; otherwise (`Idle` or still `Waiting`) returns `None`
    /// and changes nothing, and the caller takes the lock as usual.
    ///
    /// This is the hot path of a hand-off: the woken task's poll completes
    /// without touching the queue's lock.
    #[inline]
    pub(crate) fn take_woken<R>(&mut self, f: impl FnOnce(&mut D) -> R) -> Option<R> {
        if !*self.queued {
            return None;
        }
        let out = self.waiter.as_mut().take_woken(f);
        if out.is_some() {
            *self.queued = false;
        }
        out
    }
}

impl<D> fmt::Debug for WaitNode<'_, D> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WaitNode")
            .field("queued", &self.queued)
            .finish_non_exhaustive()
    }
}

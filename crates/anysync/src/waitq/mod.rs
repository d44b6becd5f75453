//! # Implementation notes
//!
//! `WaitQueue<S, D>` is the one intrusive, FIFO, allocation-free wait queue
//! that every primitive in this crate parks on. It pairs a doubly linked list
//! of [`Waiter`] nodes with the primitive's own state `S`, both behind one
//! short blocking [`lock::Lock`]. A primitive is a small state machine over
//! `S` plus the per-waiter data `D` (for example the permits a semaphore
//! waiter still needs).
//!
//! ## Nodes live in the futures
//!
//! A waiting future owns its [`Waiter`] node inline, so a wait never
//! allocates. The node is `!Unpin` (it holds `PhantomPinned`), so once it is
//! linked it cannot move; the owning future's `Drop` calls [`Waiter::remove`]
//! under the lock, so the list never holds a dangling pointer. Forgetting a
//! pinned future leaks its memory, which keeps the pointer valid forever.
//!
//! ## States (`WaitState`) and who may change them
//!
//! | state     | linked? | set by                                   |
//! |-----------|---------|------------------------------------------|
//! | `Idle`    | no      | new node, or the future after consuming a wake-up or removing itself |
//! | `Waiting` | yes     | the future, in [`Waiter::enqueue`]       |
//! | `Woken`   | no      | the queue side, in [`QueueGuard::wake_front`] / [`QueueGuard::wake_back`] (or `wake_head` / `wake_tail` for one waiter) |
//!
//! `Woken` means "this waiter was chosen and unlinked; the grant (a lock
//! hand-off, permits, a notification) is now its own". If the future is
//! dropped in that state, [`Waiter::remove`] reports `Woken` and the
//! primitive passes the grant on. That is how a wake-up given to a waiter
//! that then goes away is never lost.
//!
//! ## Fairness
//!
//! Waiters are appended at the tail and served from the head; the queue side
//! decides per waiter, in order, whether to wake it or stop. A primitive that
//! never skips a waiter (all of ours) is therefore strictly FIFO. The one
//! exception is [`Waiter::enqueue_front`], for a waiter that holds part of
//! what everyone queued needs (an upgradable read upgrading) and so must be
//! served first to avoid a deadlock. Every
//! enqueue gets a sequence number, so a broadcast can wake exactly the
//! waiters that were present when it started even if it has to drop the lock
//! between batches.
//!
//! ## Invariants
//!
//! * All node fields are read and written only while the queue's lock is
//!   held, except `owner`, which only the future side touches, through
//!   `Pin<&mut Waiter>`.
//! * A node is linked iff its state is `Waiting`.
//! * Link pointers are written through raw pointers (`(*p).next = ..`);
//!   no `&mut Node` is created while other nodes may point at it.
//! * No waker is woken or dropped while the lock is held: the queue side
//!   moves wakers into a [`WakeBatch`]; the future side gets replaced wakers
//!   back to drop after it unlocks.

// A list step (link, unlink, hand over a node) is several raw-pointer
// writes that are sound only together, under one invariant ("the lock is
// held and the node is linked here"). One `// SAFETY:` per step states that
// invariant once; splitting each write into its own block would repeat it
// and hide which writes belong to the same step.
#![allow(clippy::multiple_unsafe_ops_per_block)]

pub(crate) mod lock;

#[cfg(test)]
mod tests;

use core::{fmt, marker::PhantomPinned, pin::Pin, ptr::NonNull, task::Waker};

use self::lock::{Guard, Lock};
use crate::{
    loom::{
        cell::UnsafeCell,
        sync::atomic::{AtomicBool, Ordering},
    },
    util::wake_batch::WakeBatch,
};

/// Where a [`Waiter`] stands with respect to its queue.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum WaitState {
    /// Not linked, holding no wake-up.
    Idle,
    /// Linked in the queue, with a waker.
    Waiting,
    /// Chosen and unlinked by the queue side; the grant is this waiter's.
    Woken,
}

/// What [`QueueGuard::wake_front`] should do with the waiter it is looking at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Visit {
    /// Unlink it, mark it `Woken`, collect its waker, and look at the next one.
    Wake,
    /// Leave it (and everything behind it) queued.
    Stop,
}

/// The intrusive FIFO wait queue, plus the primitive state `S` it guards.
pub(crate) struct WaitQueue<S, D> {
    inner: Lock<Inner<S, D>>,
}

struct Inner<S, D> {
    state: S,
    head: Option<NonNull<Waiter<D>>>,
    tail: Option<NonNull<Waiter<D>>>,
    next_seq: u64,
}

// SAFETY: the raw pointers in `Inner` point at `Waiter<D>` nodes whose data is
// only touched with the lock held, so sending the queue to another thread is
// sending `S` and access to `D`s: both must be `Send`.
unsafe impl<S: Send, D: Send> Send for WaitQueue<S, D> {}
// SAFETY: every access to `S` and to linked nodes goes through the lock, which
// serialises threads; a `&WaitQueue` on several threads moves `S` and `D`
// between them, hence `Send` bounds (and no `Sync` bound: nothing is shared
// without the lock).
unsafe impl<S: Send, D: Send> Sync for WaitQueue<S, D> {}

/// Proof that the queue's lock is held; gives access to the state and the list.
pub(crate) struct QueueGuard<'a, S, D> {
    inner: Guard<'a, Inner<S, D>>,
}

/// A wait-queue node. Lives inside a (pinned) waiting future.
pub(crate) struct Waiter<D> {
    /// # Safety
    /// Read and written only while the lock of the queue named by `owner`
    /// is held (or while `owner` is null, when no one else can see the node).
    node: UnsafeCell<Node<D>>,
    /// # Safety
    /// Address of the queue's `Inner` this waiter belongs to; null before the
    /// first [`Waiter::enqueue`]. Touched only through `Pin<&mut Waiter>`.
    owner: UnsafeCell<*const ()>,
    /// `true` while the node is `Woken`: set (`Release`) by the queue side
    /// as its last touch of the node, after unlinking it under the lock;
    /// cleared by the owner when it consumes the wake-up. Lets the owner
    /// consume a wake-up without taking the lock ([`Waiter::take_woken`]).
    woken: AtomicBool,
    _pin: PhantomPinned,
}

struct Node<D> {
    prev: Option<NonNull<Waiter<D>>>,
    next: Option<NonNull<Waiter<D>>>,
    waker: Option<Waker>,
    state: WaitState,
    seq: u64,
    data: D,
}

// SAFETY: the node's fields are only reached with the owning queue's lock held
// (or exclusively through `Pin<&mut Self>`); moving it to another thread moves
// `D` and a `Waker`, which is `Send`.
unsafe impl<D: Send> Send for Waiter<D> {}
// SAFETY: `&Waiter` gives no access to anything: every method takes
// `Pin<&mut Self>` plus the lock guard.
unsafe impl<D: Send> Sync for Waiter<D> {}

impl<S, D> WaitQueue<S, D> {
    crate::util::macros::loom_const_fn! {
        /// A new, empty queue guarding `state`.
        pub(crate) fn new(state: S) -> Self {
            Self {
                inner: Lock::new(Inner {
                    state,
                    head: None,
                    tail: None,
                    next_seq: 0,
                }),
            }
        }
    }

    /// Takes the lock.
    #[inline]
    pub(crate) fn lock(&self) -> QueueGuard<'_, S, D> {
        QueueGuard {
            inner: self.inner.lock(),
        }
    }

    /// Runs `f` with the lock held and a fresh [`WakeBatch`], then wakes the
    /// batch with the lock released. Repeats while `f` returns `true`
    /// ("the batch filled up; there is more to wake").
    pub(crate) fn wake_loop(
        &self,
        mut f: impl FnMut(&mut QueueGuard<'_, S, D>, &mut WakeBatch) -> bool,
    ) {
        loop {
            let mut batch = WakeBatch::new();
            let more = {
                let mut guard = self.lock();
                f(&mut guard, &mut batch)
            };
            batch.wake_all();
            if !more {
                return;
            }
        }
    }
}

// No `Drop` check for linked waiters: a waiting future borrows (or owns an
// `Arc` of) its primitive, so one can be linked here at drop time only if it
// was leaked with `mem::forget` (its memory then lives forever, so the stale
// pointer is never followed). That is allowed safe code, not a bug.

impl<S: fmt::Debug, D> fmt::Debug for WaitQueue<S, D> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Held only for a few instructions by anyone else, so this cannot
        // block for long; it never runs user code while held.
        let guard = self.lock();
        f.debug_struct("WaitQueue")
            .field("state", &guard.inner.state)
            .field("waiters", &guard.len())
            .finish()
    }
}

impl<S, D> QueueGuard<'_, S, D> {
    /// The primitive's state.
    #[inline]
    #[allow(dead_code)] // not every primitive keeps state under the lock
    pub(crate) fn state(&mut self) -> &mut S {
        &mut self.inner.state
    }

    /// The primitive's state, read-only.
    #[inline]
    #[allow(dead_code)] // not every primitive keeps state under the lock
    pub(crate) fn state_ref(&self) -> &S {
        &self.inner.state
    }

    /// `true` if no waiter is linked.
    #[inline]
    pub(crate) fn is_empty(&self) -> bool {
        self.inner.head.is_none()
    }

    /// Number of linked waiters. O(n): for diagnostics.
    pub(crate) fn len(&self) -> usize {
        // Counted by walking the list rather than kept in a field: only
        // diagnostics (`waiters()`, statistics, `Debug`) ask, and the field
        // was 8 bytes in every primitive.
        let mut n = 0;
        let mut cur = self.inner.head;
        while let Some(node) = cur {
            n += 1;
            // SAFETY: `node` is linked in this queue (reached from `head`
            // through `next` links), so it is alive, and we hold the lock.
            cur = unsafe { (*node_ptr(node)).next };
        }
        n
    }

    /// The sequence number the next enqueued waiter will get. Waiters with a
    /// smaller number were enqueued before this call.
    #[inline]
    pub(crate) fn next_seq(&self) -> u64 {
        self.inner.next_seq
    }

    fn owner_id(&self) -> *const () {
        let inner: &Inner<S, D> = &self.inner;
        (inner as *const Inner<S, D>).cast()
    }

    /// Visits waiters from the head. For each, `f` gets the state, the
    /// waiter's data and its sequence number and says whether to wake it.
    /// Returns `true` if it stopped only because `batch` is full.
    pub(crate) fn wake_front(
        &mut self,
        batch: &mut WakeBatch,
        mut f: impl FnMut(&mut S, &mut D, u64) -> Visit,
    ) -> bool {
        while let Some(node) = self.inner.head {
            if batch.is_full() {
                return true;
            }
            if !self.visit(node, batch, &mut f) {
                return false;
            }
        }
        false
    }

    /// Like [`wake_front`](Self::wake_front), from the tail (newest first).
    // Notify's `notify_last` wakes one waiter with `wake_tail`; this batch
    // form is kept, and tested, for primitives that serve newest-first.
    #[cfg_attr(not(test), allow(dead_code))]
    pub(crate) fn wake_back(
        &mut self,
        batch: &mut WakeBatch,
        mut f: impl FnMut(&mut S, &mut D, u64) -> Visit,
    ) -> bool {
        while let Some(node) = self.inner.tail {
            if batch.is_full() {
                return true;
            }
            if !self.visit(node, batch, &mut f) {
                return false;
            }
        }
        false
    }

    /// Visits every linked waiter from the head, giving `f` the state, the
    /// waiter's data and its sequence number, without unlinking or waking
    /// any. For bookkeeping that must touch every waiter under one hold of
    /// the lock (marking the outcome of a barrier generation, summing the
    /// permits assigned to semaphore waiters).
    pub(crate) fn for_each(&mut self, mut f: impl FnMut(&mut S, &mut D, u64)) {
        let inner = &mut *self.inner;
        let mut cur = inner.head;
        while let Some(node) = cur {
            // SAFETY: `node` is linked in this queue (reached from `head`
            // through `next` links), so it is alive, and we hold the lock,
            // so no one else touches its fields; `f` gets no access to the
            // links, so `next` is still valid after it returns.
            let (data, seq, next) = unsafe {
                let p = node_ptr(node);
                (
                    &mut *core::ptr::addr_of_mut!((*p).data),
                    (*p).seq,
                    (*p).next,
                )
            };
            f(&mut inner.state, data, seq);
            cur = next;
        }
    }

    /// Offers `node` to `f`; on `Wake`, unlinks it, marks it `Woken` and
    /// moves its waker into `batch`. Returns `false` on `Stop`.
    #[inline]
    fn visit(
        &mut self,
        node: NonNull<Waiter<D>>,
        batch: &mut WakeBatch,
        f: &mut impl FnMut(&mut S, &mut D, u64) -> Visit,
    ) -> bool {
        match self.offer(node, f) {
            None => false,
            Some(waker) => {
                if let Some(waker) = waker {
                    batch.push(waker);
                }
                true
            }
        }
    }

    /// Offers the head waiter, if any, to `f`; on `Wake`, unlinks it and
    /// marks it `Woken`, as [`wake_front`](Self::wake_front) does, and
    /// returns its waker for the caller to wake **after unlocking**. For a
    /// hand-off that wakes at most one waiter (releasing one permit), which
    /// then needs no [`WakeBatch`]. Returns `None` if the queue is empty or
    /// `f` said `Stop`.
    #[must_use = "wake the returned waker after releasing the lock"]
    pub(crate) fn wake_head(
        &mut self,
        mut f: impl FnMut(&mut S, &mut D, u64) -> Visit,
    ) -> Option<Waker> {
        let node = self.inner.head?;
        self.offer(node, &mut f).flatten()
    }

    /// Like [`wake_head`](Self::wake_head), for the tail (newest) waiter.
    #[must_use = "wake the returned waker after releasing the lock"]
    pub(crate) fn wake_tail(
        &mut self,
        mut f: impl FnMut(&mut S, &mut D, u64) -> Visit,
    ) -> Option<Waker> {
        let node = self.inner.tail?;
        self.offer(node, &mut f).flatten()
    }

    /// Offers `node` to `f`; on `Wake`, unlinks it, marks it `Woken` and
    /// returns `Some(its waker)`. Returns `None` on `Stop`.
    #[inline]
    fn offer(
        &mut self,
        node: NonNull<Waiter<D>>,
        f: &mut impl FnMut(&mut S, &mut D, u64) -> Visit,
    ) -> Option<Option<Waker>> {
        let inner = &mut *self.inner;
        // SAFETY: `node` is linked in this queue (it came from `head`/`tail`),
        // so it is alive (its owner unlinks it under this lock before it is
        // dropped) and we hold the lock, so no one else touches its fields.
        let (data, seq) = unsafe {
            let p = node_ptr(node);
            (&mut *core::ptr::addr_of_mut!((*p).data), (*p).seq)
        };
        if f(&mut inner.state, data, seq) == Visit::Stop {
            return None;
        }
        // SAFETY: as above: linked in this queue, lock held.
        let waker = unsafe {
            unlink(inner, node);
            let p = node_ptr(node);
            (*p).state = WaitState::Woken;
            (*p).waker.take()
        };
        // Last touch of the node: once the owner sees this it may use the
        // node without the lock, and nothing here reaches it any more (it is
        // unlinked).
        // SAFETY: `node` is alive (as above).
        unsafe { node.as_ref() }
            .woken
            .store(true, Ordering::Release);
        Some(waker)
    }
}

impl<S, D> fmt::Debug for QueueGuard<'_, S, D> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("QueueGuard")
            .field("waiters", &self.len())
            .finish()
    }
}

/// Raw pointer to the node's fields.
///
/// # Safety
/// `waiter` must point to a live `Waiter<D>`.
#[inline(always)]
unsafe fn node_ptr<D>(waiter: NonNull<Waiter<D>>) -> *mut Node<D> {
    // SAFETY: the caller promises `waiter` is alive; `&Waiter` is fine to
    // create because all of its fields are `UnsafeCell`s (or zero-sized).
    unsafe { waiter.as_ref() }.node.with_mut(|p| p)
}

/// Unlinks `node` from `inner`'s list.
///
/// # Safety
/// `node` must be linked in the list of `inner`, and `inner`'s lock held.
unsafe fn unlink<S, D>(inner: &mut Inner<S, D>, node: NonNull<Waiter<D>>) {
    // SAFETY: caller: `node` is linked here and the lock is held; its
    // neighbours are linked too, hence alive.
    unsafe {
        let p = node_ptr(node);
        let prev = (*p).prev.take();
        let next = (*p).next.take();
        match prev {
            Some(prev) => (*node_ptr(prev)).next = next,
            None => inner.head = next,
        }
        match next {
            Some(next) => (*node_ptr(next)).prev = prev,
            None => inner.tail = prev,
        }
    }
}

impl<D> Waiter<D> {
    crate::util::macros::loom_const_fn! {
        /// A new, unlinked node carrying `data`.
        pub(crate) fn new(data: D) -> Self {
            Self {
                node: UnsafeCell::new(Node {
                    prev: None,
                    next: None,
                    waker: None,
                    state: WaitState::Idle,
                    seq: 0,
                    data,
                }),
                owner: UnsafeCell::new(core::ptr::null()),
                woken: AtomicBool::new(false),
                _pin: PhantomPinned,
            }
        }
    }

    /// Binds this node to the queue behind `guard` on first use, and panics
    /// if it was bound to a different queue (a bug in this crate): this is
    /// what makes the lock-based accessors below safe.
    #[inline]
    fn check_owner<S>(self: Pin<&mut Self>, guard: &QueueGuard<'_, S, D>) {
        let id = guard.owner_id();
        self.owner.with_mut(|owner| {
            // SAFETY: `owner` is only touched through `Pin<&mut Self>`, which
            // we have, so this access is exclusive.
            let owner = unsafe { &mut *owner };
            if owner.is_null() {
                *owner = id;
            } else {
                assert!(*owner == id, "anysync bug: waiter used with two queues");
            }
        });
    }

    #[inline]
    fn ptr(self: Pin<&mut Self>) -> NonNull<Self> {
        NonNull::from(self.as_ref().get_ref())
    }

    /// The node's state.
    #[inline]
    pub(crate) fn state<S>(mut self: Pin<&mut Self>, guard: &QueueGuard<'_, S, D>) -> WaitState {
        self.as_mut().check_owner(guard);
        // SAFETY: `check_owner` established that we hold this node's queue lock.
        unsafe { (*node_ptr(self.ptr())).state }
    }

    /// The node's data.
    #[inline]
    pub(crate) fn data<'b, S>(
        mut self: Pin<&'b mut Self>,
        guard: &'b mut QueueGuard<'_, S, D>,
    ) -> &'b mut D {
        self.as_mut().check_owner(guard);
        // SAFETY: we hold this node's queue lock (checked above), for as long
        // as the returned borrow of `guard` lives.
        unsafe { &mut *core::ptr::addr_of_mut!((*node_ptr(self.ptr())).data) }
    }

    /// Links this `Idle` node at the tail with a clone of `waker`.
    ///
    /// The clone (executor code) runs before the node or the list is
    /// touched, so a panicking `Waker::clone` leaves both unchanged.
    ///
    /// # Panics
    /// If the node is not `Idle` (a bug in the calling primitive).
    pub(crate) fn enqueue<S>(
        self: Pin<&mut Self>,
        guard: &mut QueueGuard<'_, S, D>,
        waker: &Waker,
    ) {
        self.link(guard, waker.clone(), false);
    }

    /// Like [`enqueue`](Self::enqueue) with a waker the caller already
    /// cloned: for a primitive that must clone before it changes its own
    /// state, so that a panicking clone cannot leave that state half-done.
    pub(crate) fn enqueue_with<S>(
        self: Pin<&mut Self>,
        guard: &mut QueueGuard<'_, S, D>,
        waker: Waker,
    ) {
        self.link(guard, waker, false);
    }

    /// Links this `Idle` node at the **head**, ahead of every waiter, with
    /// `waker` (cloned by the caller before it changed any state). For a waiter that already holds part of what the
    /// waiters in front of it need (an upgradable read upgrading), so it
    /// must be served first. It still gets the next sequence number, so
    /// sequence order is no longer queue order: a primitive that uses this
    /// must not stop `wake_front` by sequence number.
    ///
    /// # Panics
    /// If the node is not `Idle` (a bug in the calling primitive).
    pub(crate) fn enqueue_front<S>(
        self: Pin<&mut Self>,
        guard: &mut QueueGuard<'_, S, D>,
        waker: Waker,
    ) {
        self.link(guard, waker, true);
    }

    /// Links this `Idle` node at the head (`front`) or the tail.
    fn link<S>(
        mut self: Pin<&mut Self>,
        guard: &mut QueueGuard<'_, S, D>,
        waker: Waker,
        front: bool,
    ) {
        self.as_mut().check_owner(guard);
        let this = self.ptr();
        let inner = &mut *guard.inner;
        // SAFETY: we hold the lock of this node's queue (checked above); the
        // node is not linked (asserted), and `head`/`tail`, if any, are
        // linked here, hence alive.
        unsafe {
            let p = node_ptr(this);
            assert!(
                (*p).state == WaitState::Idle,
                "anysync bug: enqueue of a queued waiter"
            );
            (*p).state = WaitState::Waiting;
            (*p).waker = Some(waker);
            (*p).seq = inner.next_seq;
            if front {
                (*p).prev = None;
                (*p).next = inner.head;
                match inner.head {
                    Some(head) => (*node_ptr(head)).prev = Some(this),
                    None => inner.tail = Some(this),
                }
                inner.head = Some(this);
            } else {
                (*p).prev = inner.tail;
                (*p).next = None;
                match inner.tail {
                    Some(tail) => (*node_ptr(tail)).next = Some(this),
                    None => inner.head = Some(this),
                }
                inner.tail = Some(this);
            }
        }
        inner.next_seq += 1;
    }

    /// While `Waiting`, makes `waker` the one to wake. Returns the replaced
    /// waker, which the caller drops after unlocking.
    #[must_use = "drop the replaced waker after releasing the lock"]
    pub(crate) fn update_waker<S>(
        mut self: Pin<&mut Self>,
        guard: &mut QueueGuard<'_, S, D>,
        waker: &Waker,
    ) -> Option<Waker> {
        self.as_mut().check_owner(guard);
        // SAFETY: we hold this node's queue lock (checked above).
        let slot = unsafe { &mut *core::ptr::addr_of_mut!((*node_ptr(self.ptr())).waker) };
        match slot {
            Some(old) if old.will_wake(waker) => None,
            _ => slot.replace(waker.clone()),
        }
    }

    /// Makes the node `Idle`: unlinks it if `Waiting`, consumes the wake-up
    /// if `Woken`. Returns the state it was in (so a primitive can pass on a
    /// `Woken` grant) and the waker to drop after unlocking.
    pub(crate) fn remove<S>(
        mut self: Pin<&mut Self>,
        guard: &mut QueueGuard<'_, S, D>,
    ) -> (WaitState, Option<Waker>) {
        self.as_mut().check_owner(guard);
        // We hold the lock, and only the queue side sets the flag, under it.
        self.woken.store(false, Ordering::Relaxed);
        let this = self.ptr();
        let inner = &mut *guard.inner;
        // SAFETY: we hold this node's queue lock (checked above); if the state
        // is `Waiting` the node is linked in this queue.
        unsafe {
            let p = node_ptr(this);
            let state = (*p).state;
            if state == WaitState::Waiting {
                unlink(inner, this);
            }
            (*p).state = WaitState::Idle;
            (state, (*p).waker.take())
        }
    }

    /// Consumes a wake-up **without the lock**, if there is one: when the
    /// queue side has woken this node (`Woken`), makes it `Idle` and returns
    /// its data, as [`remove`](Self::remove) would; otherwise (`Idle` or
    /// still `Waiting`) returns `None` and changes nothing, and the caller
    /// takes the lock as usual.
    ///
    /// This is the hot path of a hand-off: the woken task's poll completes
    /// without touching the queue's lock.
    #[inline]
    pub(crate) fn take_woken(self: Pin<&mut Self>) -> Option<&mut D> {
        if !self.woken.load(Ordering::Acquire) {
            return None;
        }
        self.woken.store(false, Ordering::Relaxed);
        let this = self.ptr();
        // SAFETY: `woken` was set by the queue side after it unlinked the
        // node and made its last write to it (`Release`, paired with our
        // `Acquire`), so those writes are visible here and no one else can
        // reach the node any more: it is not linked, and only its owner,
        // which we are (`Pin<&mut Self>`), links it again. So this access is
        // exclusive until the node is next enqueued, which needs `&mut self`.
        let node = unsafe { &mut *node_ptr(this) };
        debug_assert_eq!(node.state, WaitState::Woken);
        node.state = WaitState::Idle;
        // `visit` moved the waker into its batch; a replaced one would have
        // been handed back by `update_waker`, so the slot is empty.
        debug_assert!(node.waker.is_none());
        Some(&mut node.data)
    }
}

impl<D> fmt::Debug for Waiter<D> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The fields need the queue lock; do not block a Debug print on it.
        f.debug_struct("Waiter").finish_non_exhaustive()
    }
}

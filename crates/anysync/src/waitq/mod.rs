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
mod wait;

pub(crate) use self::wait::{Wait, WaitNode, WaitOwner};

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

/// The list is doubly linked with one end pointer: `head`. The head's
/// `prev` points at the tail (the newest node), every other `prev` at the
/// node in front, and the tail's `next` is `None`. So both ends are O(1) and
/// the queue costs one pointer less in every primitive.
struct Inner<S, D> {
    state: S,
    head: Option<NonNull<Waiter<D>>>,
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
    crate::util::macros::loom_const_fn!(
        /// A new, empty queue guarding `state`.
        pub(crate) fn new(state: S) -> Self {
            Self {
                inner: Lock::new(Inner {
                    state,
                    head: None,
                    next_seq: 0,
                }),
            }
        }
    );

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
    ///
    /// A `Waker::wake` that panics does not strand the others: with `std`,
    /// every wake of every batch still runs and the first panic is raised
    /// again at the end; without `std`, the rest of that batch is still
    /// woken as the panic unwinds (later batches are not).
    pub(crate) fn wake_loop(
        &self,
        mut f: impl FnMut(&mut QueueGuard<'_, S, D>, &mut WakeBatch) -> bool,
    ) {
        #[cfg(feature = "std")]
        let mut panic = None;
        loop {
            let mut batch = WakeBatch::new();
            let more = {
                let mut guard = self.lock();
                f(&mut guard, &mut batch)
            };
            #[cfg(feature = "std")]
            if let Err(payload) = batch.wake_all_catching() {
                panic.get_or_insert(payload);
            }
            #[cfg(not(feature = "std"))]
            batch.wake_all();
            if !more {
                break;
            }
        }
        #[cfg(feature = "std")]
        if let Some(payload) = panic {
            crate::util::finally::resume_unless_unwinding(payload);
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
            cur = unsafe { with_node(node, |p| (*p).next) };
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
        while let Some(node) = self.tail() {
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
            cur = unsafe {
                with_node(node, |p| {
                    f(
                        &mut inner.state,
                        &mut *core::ptr::addr_of_mut!((*p).data),
                        (*p).seq,
                    );
                    (*p).next
                })
            };
        }
    }

    /// The newest linked waiter: the head's `prev`.
    #[inline]
    fn tail(&self) -> Option<NonNull<Waiter<D>>> {
        let head = self.inner.head?;
        // SAFETY: `head` is linked in this queue, so it is alive, and we
        // hold the lock.
        unsafe { with_node(head, |p| (*p).prev) }
    }

    /// Visits linked waiters from the head while `f` returns `true`,
    /// without unlinking or waking any: for assigning grants to every
    /// waiter that gets one before anyone is woken.
    pub(crate) fn visit_front(&mut self, mut f: impl FnMut(&mut S, &mut D, u64) -> bool) {
        let inner = &mut *self.inner;
        let mut cur = inner.head;
        while let Some(node) = cur {
            // SAFETY: `node` is linked in this queue (reached from `head`
            // through `next` links), so it is alive, and we hold the lock;
            // `f` gets no access to the links.
            let (go_on, next) = unsafe {
                with_node(node, |p| {
                    let go_on = f(
                        &mut inner.state,
                        &mut *core::ptr::addr_of_mut!((*p).data),
                        (*p).seq,
                    );
                    (go_on, (*p).next)
                })
            };
            if !go_on {
                return;
            }
            cur = next;
        }
    }

    /// Runs `f` on the state and the newest waiter's data, if any.
    pub(crate) fn tail_data<R>(&mut self, f: impl FnOnce(&mut S, &mut D) -> R) -> Option<R> {
        let node = self.tail()?;
        let inner = &mut *self.inner;
        // SAFETY: `node` is linked in this queue (it is the tail), so it is
        // alive, and we hold the lock.
        Some(unsafe {
            with_node(node, |p| {
                f(&mut inner.state, &mut *core::ptr::addr_of_mut!((*p).data))
            })
        })
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
        let node = self.tail()?;
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
        // so it is alive (its `Wait` unlinks it under this lock before it is
        // dropped) and we hold the lock, so no one else touches its fields.
        let visit = unsafe {
            with_node(node, |p| {
                f(
                    &mut inner.state,
                    &mut *core::ptr::addr_of_mut!((*p).data),
                    (*p).seq,
                )
            })
        };
        if visit == Visit::Stop {
            return None;
        }
        // SAFETY: as above: linked in this queue, lock held.
        let waker = unsafe {
            unlink(inner, node);
            with_node(node, |p| {
                (*p).state = WaitState::Woken;
                (*p).waker.take()
            })
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

/// Runs `f` on the node's fields, inside the cell's `with_mut`, so loom
/// sees the access (and checks it against every other access to the node).
///
/// # Safety
/// `waiter` must point to a live `Waiter<D>`, and the caller must have the
/// right to touch its fields now: it holds the lock of the queue the node
/// belongs to, or the node is not linked and the caller is its owner.
/// `f` may follow the raw `prev`/`next` pointers only under the lock.
#[inline(always)]
unsafe fn with_node<D, R>(waiter: NonNull<Waiter<D>>, f: impl FnOnce(*mut Node<D>) -> R) -> R {
    // SAFETY: the caller promises `waiter` is alive; `&Waiter` is fine to
    // create because all of its fields are `UnsafeCell`s, atomics or
    // zero-sized, so it asserts nothing about the data behind them.
    unsafe { waiter.as_ref() }.node.with_mut(f)
}

/// Unlinks `node` from `inner`'s list.
///
/// # Safety
/// `node` must be linked in the list of `inner`, and `inner`'s lock held.
unsafe fn unlink<S, D>(inner: &mut Inner<S, D>, node: NonNull<Waiter<D>>) {
    // SAFETY: caller: `node` is linked here and the lock is held; its
    // neighbours and the head are linked too, hence alive. Each field
    // access happens inside its own node's `with_mut`.
    unsafe {
        let (prev, next) = with_node(node, |p| ((*p).prev.take(), (*p).next.take()));
        // Linked nodes always have a `prev` (the head's is the tail).
        let prev = prev.expect("anysync bug: linked node without prev");
        if inner.head == Some(node) {
            inner.head = next;
            if let Some(next) = next {
                // The new head inherits the pointer to the tail (unless the
                // old head was the tail, and then `next` is `None`).
                with_node(next, |p| (*p).prev = Some(prev));
            }
        } else {
            with_node(prev, |p| (*p).next = next);
            match next {
                Some(next) => with_node(next, |p| (*p).prev = Some(prev)),
                // `node` was the tail: the head now points at `prev`.
                None => {
                    let head = inner.head.expect("anysync bug: linked node, empty list");
                    with_node(head, |p| (*p).prev = Some(prev));
                }
            }
        }
    }
}

/// Ends the process: for a broken invariant that would otherwise free a
/// node that is still linked. A panic here could unwind past the node's
/// owner and free it, so this panics *while panicking*, which aborts in
/// every build (with or without `std`, with either panic strategy).
#[cold]
#[inline(never)]
fn abort(msg: &str) -> ! {
    struct Abort;
    impl Drop for Abort {
        fn drop(&mut self) {
            panic!("anysync: aborting");
        }
    }
    let _abort = Abort;
    panic!("{}", msg);
}

impl<D> Waiter<D> {
    /// A new, unlinked node carrying `data`. Private: a node exists only
    /// inside a [`Wait`], whose drop unlinks it.
    fn new(data: D) -> Self {
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

    /// Binds this node to the queue behind `guard` on first use, and panics
    /// if it was bound to a different queue (a bug in this crate): this is
    /// what makes the lock-based accessors below safe. The panic comes before
    /// any access, so a linked node stays linked in its own queue, where its
    /// [`Wait`] unlinks it; if even that used the wrong queue, the node's own
    /// drop aborts.
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

    /// Runs `f` on the node's fields with this node's queue lock held.
    #[inline]
    fn with_locked<S, R>(
        mut self: Pin<&mut Self>,
        guard: &QueueGuard<'_, S, D>,
        f: impl FnOnce(*mut Node<D>) -> R,
    ) -> R {
        self.as_mut().check_owner(guard);
        // SAFETY: `check_owner` established that we hold this node's queue
        // lock, so no one else touches its fields.
        unsafe { with_node(self.ptr(), f) }
    }

    /// Links this `Idle` node at the head (`front`) or the tail.
    ///
    /// Inlined: it runs once per wait, and as a call its prologue and
    /// epilogue were almost half of its cost in the mutex hand-off profile.
    #[inline]
    fn link<S>(
        mut self: Pin<&mut Self>,
        guard: &mut QueueGuard<'_, S, D>,
        waker: Waker,
        front: bool,
    ) {
        self.as_mut().check_owner(guard);
        let this = self.ptr();
        let inner = &mut *guard.inner;
        let seq = inner.next_seq;
        // SAFETY: we hold the lock of this node's queue (checked above); the
        // node is not linked (asserted first), and the head and tail, if
        // any, are linked here, hence alive.
        unsafe {
            with_node(this, |p| {
                assert!(
                    (*p).state == WaitState::Idle,
                    "anysync bug: enqueue of a queued waiter"
                );
                (*p).state = WaitState::Waiting;
                // An `Idle` node holds no waker (`remove` and `take_woken`
                // take it out), so there is nothing to drop here.
                debug_assert!((*p).waker.is_none());
                core::ptr::write(core::ptr::addr_of_mut!((*p).waker), Some(waker));
                (*p).seq = seq;
            });
            match inner.head {
                None => {
                    with_node(this, |p| {
                        (*p).prev = Some(this);
                        (*p).next = None;
                    });
                    inner.head = Some(this);
                }
                Some(head) => {
                    let tail = with_node(head, |p| (*p).prev)
                        .expect("anysync bug: head without a tail pointer");
                    if front {
                        with_node(this, |p| {
                            (*p).prev = Some(tail);
                            (*p).next = Some(head);
                        });
                        with_node(head, |p| (*p).prev = Some(this));
                        inner.head = Some(this);
                    } else {
                        with_node(this, |p| {
                            (*p).prev = Some(tail);
                            (*p).next = None;
                        });
                        with_node(tail, |p| (*p).next = Some(this));
                        with_node(head, |p| (*p).prev = Some(this));
                    }
                }
            }
        }
        inner.next_seq += 1;
    }

    /// Makes the node `Idle`: unlinks it if `Waiting`, consumes the wake-up
    /// if `Woken`. Returns the state it was in and the waker to drop after
    /// unlocking.
    fn remove<S>(
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
            let state = with_node(this, |p| (*p).state);
            if state == WaitState::Waiting {
                unlink(inner, this);
            }
            with_node(this, |p| {
                (*p).state = WaitState::Idle;
                (state, (*p).waker.take())
            })
        }
    }

    /// Runs `f` on the data of a node that is not linked (`Idle`), which no
    /// one but its owner can reach, without the lock.
    fn with_data_unlinked<R>(self: Pin<&mut Self>, f: impl FnOnce(&mut D) -> R) -> R {
        let this = self.ptr();
        // SAFETY: callers call this only when the node is `Idle` (just
        // removed under the lock, or just taken by `take_woken`), so it is
        // not linked and only its owner, which we are (`Pin<&mut Self>`),
        // can reach it until it is linked again, which needs `&mut self`.
        unsafe { with_node(this, |p| f(&mut *core::ptr::addr_of_mut!((*p).data))) }
    }

    /// Consumes a wake-up **without the lock**, if there is one; see
    /// [`WaitNode::take_woken`].
    #[inline]
    fn take_woken<R>(mut self: Pin<&mut Self>, f: impl FnOnce(&mut D) -> R) -> Option<R> {
        if !self.woken.load(Ordering::Acquire) {
            return None;
        }
        self.woken.store(false, Ordering::Relaxed);
        let this = self.as_mut().ptr();
        // SAFETY: `woken` was set by the queue side after it unlinked the
        // node and made its last write to it (`Release`, paired with our
        // `Acquire`), so those writes are visible here and no one else can
        // reach the node any more: it is not linked, and only its owner,
        // which we are (`Pin<&mut Self>`), links it again.
        unsafe {
            with_node(this, |p| {
                debug_assert_eq!((*p).state, WaitState::Woken);
                (*p).state = WaitState::Idle;
                // `offer` moved the waker out; a replaced one would have been
                // handed back by `update_waker`, so the slot is empty.
                debug_assert!((*p).waker.is_none());
            });
        }
        Some(self.with_data_unlinked(f))
    }
}

impl<D> Drop for Waiter<D> {
    fn drop(&mut self) {
        // Every `Wait` unlinks its node before the node's memory goes away;
        // this is the backstop for a bug in this module. The read is ours
        // alone unless the node is (wrongly) still linked, and then the
        // process ends before anything else happens.
        let linked = self.node.with(|p| {
            // SAFETY: `&mut self`: the owner's exclusive access; see above.
            unsafe { (*p).state == WaitState::Waiting }
        });
        if linked {
            abort("anysync bug: a wait-queue node was freed while still linked");
        }
    }
}

impl<D> fmt::Debug for Waiter<D> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The fields need the queue lock; do not block a Debug print on it.
        f.debug_struct("Waiter").finish_non_exhaustive()
    }
}

//! `CancelToken`: a tree of cancellation signals with a reason.

use alloc::{sync::Arc as StdArc, vec::Vec};
use core::{
    fmt,
    future::Future,
    mem,
    pin::Pin,
    task::{Context, Poll},
};

use futures_core::FusedFuture;
use pin_project_lite::pin_project;

use crate::{
    loom::sync::{
        atomic::{AtomicUsize, Ordering},
        Arc,
    },
    sync::{futures::EventWait, Event, WaitVia},
};
use crate::{util::finally::Catch, waitq::lock::Lock};

/// Why a [`CancelToken`] was cancelled, from [`CancelToken::reason`].
///
/// A token cancelled through an ancestor carries the ancestor's reason.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CancelReason {
    /// [`CancelToken::cancel`] was called, or a [`DropGuard`] was dropped.
    Requested,
    /// A deadline passed (see [`move_on_at`](super::move_on_at)).
    Deadline,
    /// The program is shutting down.
    Shutdown,
    /// Another task of the same [`TaskGroup`](super::TaskGroup) failed or
    /// panicked.
    SiblingFailed,
    /// A reason given by the caller as text.
    Message(StdArc<str>),
}

impl CancelReason {
    /// A [`CancelReason::Message`] holding `text`.
    ///
    /// # Examples
    /// ```
    /// use anysync::task::CancelReason;
    /// let reason = CancelReason::message("config reloaded");
    /// assert_eq!(reason.to_string(), "config reloaded");
    /// ```
    pub fn message(text: impl Into<StdArc<str>>) -> Self {
        CancelReason::Message(text.into())
    }
}

impl fmt::Display for CancelReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CancelReason::Requested => f.write_str("cancellation requested"),
            CancelReason::Deadline => f.write_str("deadline passed"),
            CancelReason::Shutdown => f.write_str("shutting down"),
            CancelReason::SiblingFailed => f.write_str("a sibling task failed"),
            CancelReason::Message(text) => f.write_str(text),
        }
    }
}

/// A cancellation signal shared by the tasks that should stop together,
/// arranged as a tree.
///
/// * [`cancel`](Self::cancel) (or [`cancel_with`](Self::cancel_with), which
///   records a [`CancelReason`]) cancels this token and every token made
///   from it with [`child`](Self::child), at any depth, also through
///   children that were dropped in between. Cancelling is idempotent: the
///   first reason stays, and nobody is woken twice.
/// * Cancelling a child leaves its parent and siblings alone.
/// * A child made from a cancelled token is born cancelled, with its
///   parent's reason.
/// * Clones share one signal: cancelling any clone cancels them all.
/// * A dropped child (its last clone gone) unlinks itself from its parent,
///   and hands its own children to that parent, so creating and dropping
///   children never grows memory.
/// * [`cancelled`](Self::cancelled) waits without allocating.
///
/// Cancellation is cooperative: a task sees it when it awaits
/// [`cancelled`](Self::cancelled), checks
/// [`is_cancelled`](Self::is_cancelled), or runs its work through
/// [`run_until_cancelled`](Self::run_until_cancelled). Dropping a future
/// is the other, immediate kind of cancellation in Rust; a token reaches
/// the tasks you cannot drop yourself (spawned ones) and lets them clean
/// up first.
///
/// # Examples
/// ```
/// use anysync::task::{CancelReason, CancelToken};
/// # futures_executor::block_on(async {
/// let root = CancelToken::new();
/// let worker = root.child();
/// let sibling = root.child();
///
/// worker.cancel(); // the worker alone
/// assert!(!root.is_cancelled() && !sibling.is_cancelled());
///
/// root.cancel_with(CancelReason::Shutdown); // everyone left
/// sibling.cancelled().await;
/// assert_eq!(sibling.reason(), Some(CancelReason::Shutdown));
/// assert_eq!(worker.reason(), Some(CancelReason::Requested)); // its own stays
/// # });
/// ```
///
/// # Implementation notes
///
/// Each token is a node holding an [`Event`] (the signal; its waits are
/// the allocation-free futures, and it is only set if one was ever made),
/// a cancelled flag, a count of live handles, and, under a
/// short lock, the reason, the parent and the list of children (each child
/// knows its index in its parent's list, so unlinking is a `swap_remove`).
/// Locks are always taken from parent to child. Cancelling marks the node
/// and, under its lock, detaches and marks each child; it then works down
/// the detached subtree with an explicit stack (no recursion), setting each
/// node's event. A child found with no children of its own when it is
/// marked can never get any (a marked node makes no new children, and only
/// a child of its own could hand it some), so it is not locked again. A
/// waker that panics does not stop the walk: with `std`, every node below
/// is still cancelled and woken, and the first panic is raised again at the
/// end. Without `std` the walk stops there: the nodes detached by then keep
/// their `reason` but are not flagged or woken, and the subtrees of nodes
/// still on the stack are neither marked nor detached (a later `cancel` of
/// such a node, or its last handle's drop, cancels them). A node whose
/// last handle drops takes its parent's lock and then its own, checks the parent is still the same (else retries),
/// removes itself and hands its children to the parent; if it was
/// cancelled, its children are cancelled instead.
pub struct CancelToken {
    node: Arc<Node>,
}

struct Node {
    tree: Lock<Tree>,
    handles: AtomicUsize,
    /// `CANCELLED` (set after `reason`) and `WATCHED` (set once a
    /// `cancelled()` future has been made: until then nobody can be waiting
    /// on `event`, so a cancel skips setting it and taking its lock). Both
    /// bits are set by read-modify-writes of this one word, so a watcher and
    /// a cancel are ordered: either the cancel sees `WATCHED` and sets the
    /// event, or the watcher sees `CANCELLED`.
    flags: AtomicUsize,
    event: Event,
}

struct Tree {
    /// `None` for a root, or once detached by a cancel or a dropped parent.
    parent: Option<Arc<Node>>,
    /// Position in `parent`'s `children`; meaningless without a parent.
    index: usize,
    children: Vec<Arc<Node>>,
    /// Set (once) when this node is cancelled or marked for cancellation.
    reason: Option<CancelReason>,
}

impl Node {
    fn new(tree: Tree) -> Arc<Node> {
        let cancelled = tree.reason.is_some();
        Arc::new(Node {
            tree: Lock::new(tree),
            handles: AtomicUsize::new(1),
            flags: AtomicUsize::new(if cancelled { CANCELLED } else { 0 }),
            event: Event::new(),
        })
    }

    /// Marks the node cancelled and wakes its waiters. Its `reason` is set.
    fn fire(&self) {
        let prev = self.flags.fetch_or(CANCELLED, Ordering::AcqRel);
        if prev & WATCHED != 0 {
            self.event.set();
        }
    }

    /// Called before a `cancelled()` future is made.
    fn watch(&self) -> &Event {
        if self.flags.load(Ordering::Acquire) & WATCHED == 0 {
            self.flags.fetch_or(WATCHED, Ordering::AcqRel);
        }
        &self.event
    }

    fn is_cancelled(&self) -> bool {
        self.flags.load(Ordering::Acquire) & CANCELLED != 0
    }
}

/// Bits of `Node::flags`.
const CANCELLED: usize = 1;
const WATCHED: usize = 2;

impl CancelToken {
    /// A new root token, not cancelled.
    pub fn new() -> Self {
        CancelToken {
            node: Node::new(Tree {
                parent: None,
                index: 0,
                children: Vec::new(),
                reason: None,
            }),
        }
    }

    /// A new token that is cancelled when this one is (and can be cancelled
    /// on its own without affecting this one). If this token is already
    /// cancelled, the child is born cancelled with the same reason.
    pub fn child(&self) -> CancelToken {
        let mut tree = self.node.tree.lock();
        if let Some(reason) = &tree.reason {
            let reason = reason.clone();
            drop(tree);
            return CancelToken {
                node: Node::new(Tree {
                    parent: None,
                    index: 0,
                    children: Vec::new(),
                    reason: Some(reason),
                }),
            };
        }
        let child = Node::new(Tree {
            parent: Some(Arc::clone(&self.node)),
            index: tree.children.len(),
            children: Vec::new(),
            reason: None,
        });
        tree.children.push(Arc::clone(&child));
        CancelToken { node: child }
    }

    /// Cancels this token and its descendants with
    /// [`CancelReason::Requested`]. Returns `true` if this call cancelled
    /// it, `false` if it was already cancelled.
    pub fn cancel(&self) -> bool {
        self.cancel_with(CancelReason::Requested)
    }

    /// Cancels this token and its descendants, recording `reason` (unless
    /// already cancelled: the first reason stays). Every task waiting in
    /// [`cancelled`](Self::cancelled) is woken, once. Returns `true` if this
    /// call cancelled the token.
    pub fn cancel_with(&self, reason: CancelReason) -> bool {
        let (first, children) = {
            let mut tree = self.node.tree.lock();
            let first = tree.reason.is_none();
            if first {
                tree.reason = Some(reason);
            }
            // Even when marked already (by an ancestor's cancel still
            // working down the tree), finish this subtree now, so that on
            // return it is cancelled all the way down. Every step is
            // idempotent.
            let children = mem::take(&mut tree.children);
            (first, Detached::mark(children, &tree.reason))
        };
        let mut catch = Catch::new();
        catch.run(|| self.node.fire());
        children.finish_cancel(&mut catch);
        catch.finish();
        first
    }

    /// `true` once the token is cancelled.
    pub fn is_cancelled(&self) -> bool {
        self.node.is_cancelled()
    }

    /// Why the token was cancelled, or `None` if it was not.
    pub fn reason(&self) -> Option<CancelReason> {
        if !self.is_cancelled() {
            return None;
        }
        self.node.tree.lock().reason.clone()
    }

    /// Waits until the token is cancelled. The future does not allocate and
    /// completes at once if the token is already cancelled.
    ///
    /// # Cancel safety
    /// This method is cancel safe: dropping the future before it completes has no effect.
    pub fn cancelled(&self) -> Cancelled<'_> {
        Cancelled {
            wait: self.node.watch().wait(),
            token: self,
        }
    }

    /// Like [`cancelled`](Self::cancelled), but owning a clone of the token,
    /// so the future is `'static` and can move into a spawned task.
    ///
    /// # Cancel safety
    /// This method is cancel safe: dropping the future before it completes has no effect.
    pub fn cancelled_owned(self) -> CancelledOwned {
        self.node.watch();
        CancelledOwned {
            wait: Event::wait_via(TokenEvent(self)),
        }
    }

    /// Runs `future` until it completes (`Some(output)`) or the token is
    /// cancelled (`None`, and `future` is dropped). If the token is already
    /// cancelled, `future` is never polled. When both are ready at the same
    /// poll, cancellation wins.
    ///
    /// # Cancel safety
    /// This method is cancel safe if `future` is: dropping it drops `future`.
    pub fn run_until_cancelled<F: Future>(&self, future: F) -> RunUntilCancelled<'_, F> {
        RunUntilCancelled {
            cancelled: self.cancelled(),
            future,
        }
    }

    /// Like [`run_until_cancelled`](Self::run_until_cancelled), owning the
    /// token, for `'static` tasks.
    ///
    /// # Cancel safety
    /// This method is cancel safe if `future` is: dropping it drops `future`.
    pub fn run_until_cancelled_owned<F: Future>(self, future: F) -> RunUntilCancelledOwned<F> {
        RunUntilCancelledOwned {
            cancelled: self.cancelled_owned(),
            future,
        }
    }

    /// A guard that cancels this token (with [`CancelReason::Requested`])
    /// when it is dropped, unless [`DropGuard::disarm`] is called first.
    pub fn drop_guard(self) -> DropGuard {
        self.drop_guard_with(CancelReason::Requested)
    }

    /// Like [`drop_guard`](Self::drop_guard), cancelling with `reason`.
    pub fn drop_guard_with(self, reason: CancelReason) -> DropGuard {
        DropGuard {
            token: Some(self),
            reason,
        }
    }

    /// The number of live children (tokens made by [`child`](Self::child)
    /// and not yet dropped or detached by a cancel), for tests and
    /// diagnostics.
    pub fn children_len(&self) -> usize {
        self.node.tree.lock().children.len()
    }

    /// `true` if `self` and `other` are clones of the same token.
    pub fn same_as(&self, other: &CancelToken) -> bool {
        Arc::ptr_eq(&self.node, &other.node)
    }
}

/// Detached children of a node, each marked with the node's reason (unless
/// it had its own): those with children of their own first, then the
/// leaves.
struct Detached {
    nodes: Vec<Arc<Node>>,
    /// How many of `nodes`, from the front, had children when marked.
    parents: usize,
}

impl Detached {
    /// Detaches `children` (taken from a node whose lock the caller holds,
    /// or from a node no handle can reach any more) from their parent and
    /// marks each with `reason` if it has none yet.
    fn mark(mut children: Vec<Arc<Node>>, reason: &Option<CancelReason>) -> Detached {
        let mut parents = 0;
        for i in 0..children.len() {
            let has_children = {
                let mut child_tree = children[i].tree.lock();
                child_tree.parent = None;
                if child_tree.reason.is_none() {
                    child_tree.reason.clone_from(reason);
                }
                !child_tree.children.is_empty()
            };
            if has_children {
                children.swap(parents, i);
                parents += 1;
            }
        }
        Detached {
            nodes: children,
            parents,
        }
    }

    /// Cancels the (marked) children of a cancelled node that went away
    /// before its cancel reached them.
    fn cancel(self) {
        let mut catch = Catch::new();
        self.finish_cancel(&mut catch);
        catch.finish();
    }

    /// Cancels every (marked) node here and below: the leaves at once,
    /// then, depth-first with an explicit stack, each of the others after
    /// detaching and marking its own children. A leaf, marked under its
    /// lock with no children, can get none later: a marked node makes no
    /// new children (they are born cancelled and detached), and only a
    /// child of its own could hand it some by unlinking.
    fn finish_cancel(self, catch: &mut Catch) {
        let Detached {
            nodes: mut stack,
            parents,
        } = self;
        // The first list becomes the stack, so a cancel allocates nothing
        // unless the tree is more than two levels deep.
        for leaf in stack.drain(parents..) {
            catch.run(|| leaf.fire());
        }
        while let Some(node) = stack.pop() {
            let Detached {
                nodes: mut children,
                parents,
            } = {
                let mut tree = node.tree.lock();
                let children = mem::take(&mut tree.children);
                Detached::mark(children, &tree.reason)
            };
            catch.run(|| node.fire());
            for leaf in children.drain(parents..) {
                catch.run(|| leaf.fire());
            }
            stack.append(&mut children);
        }
    }
}

impl Default for CancelToken {
    fn default() -> Self {
        CancelToken::new()
    }
}

impl Clone for CancelToken {
    fn clone(&self) -> Self {
        self.node.handles.fetch_add(1, Ordering::Relaxed);
        CancelToken {
            node: Arc::clone(&self.node),
        }
    }
}

impl Drop for CancelToken {
    fn drop(&mut self) {
        if self.node.handles.fetch_sub(1, Ordering::AcqRel) == 1 {
            unlink(&self.node);
        }
    }
}

/// Removes a node whose last handle is gone from the tree: out of its
/// parent's list, its children handed to the parent (or cancelled, if the
/// node was cancelled).
fn unlink(node: &Arc<Node>) {
    loop {
        let parent = {
            let mut tree = node.tree.lock();
            match &tree.parent {
                Some(parent) => Arc::clone(parent),
                None => {
                    // A root (or detached): nothing to unlink from.
                    let children = mem::take(&mut tree.children);
                    if children.is_empty() {
                        // Nobody to detach or cancel (the common case: a
                        // leaf, or a node whose cancel took its children).
                        return;
                    }
                    let detached = Detached::mark(children, &tree.reason);
                    if tree.reason.is_none() {
                        return;
                    }
                    drop(tree);
                    detached.cancel();
                    return;
                }
            }
        };
        let mut parent_tree = parent.tree.lock();
        let mut tree = node.tree.lock();
        match &tree.parent {
            Some(p) if Arc::ptr_eq(p, &parent) => {}
            // Detached or moved up while we took the locks.
            _ => continue,
        }
        let index = tree.index;
        debug_assert!(Arc::ptr_eq(&parent_tree.children[index], node));
        let me = parent_tree.children.swap_remove(index);
        if let Some(moved) = parent_tree.children.get(index) {
            moved.tree.lock().index = index;
        }
        tree.parent = None;
        let children = mem::take(&mut tree.children);
        if children.is_empty() {
            drop((tree, parent_tree, me));
        } else if tree.reason.is_some() {
            // Cancelled, and its cancel has not reached these yet.
            let detached = Detached::mark(children, &tree.reason);
            drop((tree, parent_tree, me));
            detached.cancel();
        } else {
            for child in children {
                {
                    let mut child_tree = child.tree.lock();
                    child_tree.parent = Some(Arc::clone(&parent));
                    child_tree.index = parent_tree.children.len();
                }
                parent_tree.children.push(child);
            }
            drop((tree, parent_tree, me));
        }
        return;
    }
}

impl fmt::Debug for CancelToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CancelToken")
            .field("cancelled", &self.is_cancelled())
            .finish()
    }
}

pin_project!(
    /// Future returned by [`CancelToken::cancelled`].
    #[must_use = "futures do nothing unless you `.await` or poll them"]
    pub struct Cancelled<'a> {
        #[pin]
        wait: EventWait<'a>,
        token: &'a CancelToken,
    }
);

impl Future for Cancelled<'_> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.project();
        // The flag first: a cancel that saw no watcher did not set the
        // event (see `Node::flags`). A wake-up the cancel already delivered
        // is consumed here, lock-free, so the drop has nothing to unlink.
        if this.token.is_cancelled() {
            this.wait.finish_if_woken();
            return Poll::Ready(());
        }
        if this.wait.is_terminated() {
            return Poll::Ready(());
        }
        this.wait.poll(cx)
    }
}

impl FusedFuture for Cancelled<'_> {
    fn is_terminated(&self) -> bool {
        // Polling again after completion completes again.
        false
    }
}

impl fmt::Debug for Cancelled<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Cancelled")
            .field("token", self.token)
            .finish()
    }
}

/// A token as the pointer to its event: what an owned wait holds, so the
/// event lives as long as the wait.
struct TokenEvent(CancelToken);

impl core::ops::Deref for TokenEvent {
    type Target = Event;

    fn deref(&self) -> &Event {
        &self.0.node.event
    }
}

pin_project!(
    /// Future returned by [`CancelToken::cancelled_owned`].
    #[must_use = "futures do nothing unless you `.await` or poll them"]
    pub struct CancelledOwned {
        // Holds the token, so the event it waits on lives as long as it.
        #[pin]
        wait: WaitVia<TokenEvent>,
    }
);

impl CancelledOwned {
    /// The token this future waits for.
    pub fn token(&self) -> &CancelToken {
        &self.wait.ptr().0
    }
}

impl Future for CancelledOwned {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.project();
        if this.wait.ptr().0.is_cancelled() {
            this.wait.finish_if_woken();
            return Poll::Ready(());
        }
        if this.wait.is_done() {
            return Poll::Ready(());
        }
        this.wait.poll(cx)
    }
}

impl FusedFuture for CancelledOwned {
    fn is_terminated(&self) -> bool {
        false
    }
}

impl fmt::Debug for CancelledOwned {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CancelledOwned")
            .field("token", self.token())
            .finish()
    }
}

pin_project!(
    /// Future returned by [`CancelToken::run_until_cancelled`].
    #[must_use = "futures do nothing unless you `.await` or poll them"]
    pub struct RunUntilCancelled<'a, F> {
        #[pin]
        cancelled: Cancelled<'a>,
        #[pin]
        future: F,
    }
);

impl<F: Future> Future for RunUntilCancelled<'_, F> {
    type Output = Option<F::Output>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        if this.cancelled.poll(cx).is_ready() {
            return Poll::Ready(None);
        }
        this.future.poll(cx).map(Some)
    }
}

impl<F> fmt::Debug for RunUntilCancelled<'_, F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RunUntilCancelled")
            .field("token", self.cancelled.token)
            .finish_non_exhaustive()
    }
}

pin_project!(
    /// Future returned by [`CancelToken::run_until_cancelled_owned`].
    #[must_use = "futures do nothing unless you `.await` or poll them"]
    pub struct RunUntilCancelledOwned<F> {
        #[pin]
        cancelled: CancelledOwned,
        #[pin]
        future: F,
    }
);

impl<F: Future> Future for RunUntilCancelledOwned<F> {
    type Output = Option<F::Output>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        if this.cancelled.poll(cx).is_ready() {
            return Poll::Ready(None);
        }
        this.future.poll(cx).map(Some)
    }
}

impl<F> fmt::Debug for RunUntilCancelledOwned<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RunUntilCancelledOwned")
            .field("token", self.cancelled.token())
            .finish_non_exhaustive()
    }
}

/// Cancels its token when dropped, from [`CancelToken::drop_guard`].
///
/// # Examples
/// ```
/// use anysync::task::CancelToken;
/// let token = CancelToken::new();
/// {
///     let _guard = token.clone().drop_guard();
/// } // dropped: cancels
/// assert!(token.is_cancelled());
///
/// let token = CancelToken::new();
/// let token = token.drop_guard().disarm(); // no cancel
/// assert!(!token.is_cancelled());
/// ```
#[must_use = "dropping the guard cancels the token at once"]
pub struct DropGuard {
    token: Option<CancelToken>,
    reason: CancelReason,
}

impl DropGuard {
    /// Gives the token back without cancelling it.
    pub fn disarm(mut self) -> CancelToken {
        self.token
            .take()
            .expect("DropGuard holds its token until dropped")
    }

    /// The guarded token.
    pub fn token(&self) -> &CancelToken {
        self.token
            .as_ref()
            .expect("DropGuard holds its token until dropped")
    }
}

impl Drop for DropGuard {
    fn drop(&mut self) {
        if let Some(token) = self.token.take() {
            token.cancel_with(mem::replace(&mut self.reason, CancelReason::Requested));
        }
    }
}

impl fmt::Debug for DropGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DropGuard")
            .field("token", &self.token)
            .field("reason", &self.reason)
            .finish()
    }
}

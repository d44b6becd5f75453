//! `CancelToken`: the tree, reasons, and the waiting futures, hand-polled.

use alloc::{string::ToString, vec::Vec};
use core::{
    future::Future,
    pin::Pin,
    task::{Context, Poll},
};

use crate::{
    task::{CancelReason, CancelToken},
    util::test::TestTask,
};

/// A future that counts its polls and never completes.
struct CountPolls<'a>(&'a core::cell::Cell<usize>);

impl Future for CountPolls<'_> {
    type Output = ();
    fn poll(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<()> {
        self.0.set(self.0.get() + 1);
        Poll::Pending
    }
}

#[test]
fn cancel_wakes_a_waiter_once_and_a_second_cancel_wakes_nobody() {
    let token = CancelToken::new();
    let mut waiter = TestTask::new(token.cancelled());
    waiter.pending();
    assert!(token.cancel());
    assert_eq!(waiter.wakes(), 1);
    assert!(!token.cancel());
    assert_eq!(waiter.wakes(), 1);
    waiter.ready();
    // Fused: a further poll completes again.
    waiter.ready();
}

#[test]
fn cancelling_the_parent_cancels_every_descendant() {
    let root = CancelToken::new();
    let child = root.child();
    let grandchild = child.child();
    let mut waits: Vec<_> = [&root, &child, &grandchild]
        .iter()
        .map(|t| TestTask::new(t.cancelled()))
        .collect();
    for w in &mut waits {
        w.pending();
    }
    root.cancel_with(CancelReason::Shutdown);
    for w in &mut waits {
        assert_eq!(w.wakes(), 1);
        w.ready();
    }
    assert_eq!(grandchild.reason(), Some(CancelReason::Shutdown));
    assert_eq!(root.children_len(), 0, "a cancel detaches the children");
}

#[test]
fn cancel_reaches_through_a_dropped_intermediate() {
    let root = CancelToken::new();
    let middle = root.child();
    let leaf = middle.child();
    drop(middle);
    assert_eq!(root.children_len(), 1, "the leaf moved up to the root");
    let mut waiter = TestTask::new(leaf.cancelled());
    waiter.pending();
    root.cancel();
    assert_eq!(waiter.wakes(), 1);
    waiter.ready();
    assert!(leaf.is_cancelled());
}

#[test]
fn cancelling_a_child_leaves_parent_and_siblings_alone() {
    let root = CancelToken::new();
    let a = root.child();
    let b = root.child();
    let mut parent_wait = TestTask::new(root.cancelled());
    let mut sibling_wait = TestTask::new(b.cancelled());
    parent_wait.pending();
    sibling_wait.pending();
    a.cancel();
    assert!(a.is_cancelled());
    assert!(!root.is_cancelled() && !b.is_cancelled());
    assert_eq!(parent_wait.wakes(), 0);
    assert_eq!(sibling_wait.wakes(), 0);
    parent_wait.pending();
}

#[test]
fn a_child_made_after_the_cancel_is_born_cancelled() {
    let root = CancelToken::new();
    root.cancel_with(CancelReason::message("bye"));
    let child = root.child();
    assert!(child.is_cancelled());
    assert_eq!(child.reason(), Some(CancelReason::message("bye")));
    let mut waiter = TestTask::new(child.cancelled());
    waiter.ready();
    assert_eq!(waiter.wakes(), 0);
    assert_eq!(
        root.children_len(),
        0,
        "born-cancelled children are not linked"
    );
}

#[test]
fn the_first_reason_stays() {
    let root = CancelToken::new();
    let child = root.child();
    child.cancel_with(CancelReason::Deadline);
    root.cancel_with(CancelReason::Shutdown);
    assert_eq!(child.reason(), Some(CancelReason::Deadline));
    assert_eq!(root.reason(), Some(CancelReason::Shutdown));
    assert_eq!(CancelToken::new().reason(), None);
}

#[test]
fn dropped_children_unlink_so_churn_does_not_grow() {
    let root = CancelToken::new();
    let keep = root.child();
    for _ in 0..1000 {
        let c = root.child();
        let gc = c.child();
        drop(c);
        drop(gc);
    }
    assert_eq!(root.children_len(), 1);
    drop(keep);
    assert_eq!(root.children_len(), 0);
}

#[test]
fn clones_share_the_signal_and_the_last_clone_unlinks() {
    let root = CancelToken::new();
    let child = root.child();
    let clone = child.clone();
    assert!(clone.same_as(&child));
    drop(child);
    assert_eq!(root.children_len(), 1, "a clone is still alive");
    clone.cancel();
    assert!(!root.is_cancelled());
    drop(clone);
    assert_eq!(root.children_len(), 0);
}

#[test]
fn dropping_a_cancelled_intermediate_cancels_what_it_held() {
    // `middle` cancelled on its own: its subtree is cancelled even if the
    // token is dropped at once.
    let root = CancelToken::new();
    let middle = root.child();
    let leaf = middle.child();
    middle.cancel();
    drop(middle);
    assert!(leaf.is_cancelled());
    assert!(!root.is_cancelled());
    assert_eq!(root.children_len(), 0);
}

#[test]
fn run_until_cancelled_never_polls_when_already_cancelled() {
    let polls = core::cell::Cell::new(0);
    let token = CancelToken::new();
    token.cancel();
    let mut run = TestTask::new(token.run_until_cancelled(CountPolls(&polls)));
    assert_eq!(run.ready(), None);
    assert_eq!(polls.get(), 0);
}

#[test]
fn run_until_cancelled_returns_the_output_or_none_on_cancel() {
    let token = CancelToken::new();
    let mut run = TestTask::new(token.run_until_cancelled(async { 5 }));
    assert_eq!(run.ready(), Some(5));

    let polls = core::cell::Cell::new(0);
    let mut run = TestTask::new(token.run_until_cancelled(CountPolls(&polls)));
    run.pending();
    assert_eq!(polls.get(), 1);
    token.cancel();
    assert_eq!(run.wakes(), 1);
    assert_eq!(run.ready(), None);
    assert_eq!(polls.get(), 1);
}

#[test]
fn the_owned_forms_are_static_and_wake() {
    fn assert_static_send<T: Send + 'static>(_: &T) {}
    let token = CancelToken::new();
    let owned = token.clone().cancelled_owned();
    assert_static_send(&owned);
    let mut waiter = TestTask::new(owned);
    waiter.pending();
    let mut run = TestTask::new(token.clone().run_until_cancelled_owned(async {
        core::future::pending::<()>().await;
    }));
    run.pending();
    token.cancel();
    assert_eq!(waiter.wakes(), 1);
    assert_eq!(run.wakes(), 1);
    waiter.ready();
    assert_eq!(run.ready(), None);
}

#[test]
fn a_dropped_waiter_leaves_no_trace() {
    let token = CancelToken::new();
    let mut waiter = TestTask::new(token.cancelled());
    waiter.pending();
    waiter.cancel();
    let mut other = TestTask::new(token.cancelled());
    other.pending();
    token.cancel();
    assert_eq!(waiter.wakes(), 0);
    assert_eq!(other.wakes(), 1);
}

#[test]
fn drop_guard_cancels_unless_disarmed() {
    let token = CancelToken::new();
    drop(token.clone().drop_guard_with(CancelReason::SiblingFailed));
    assert_eq!(token.reason(), Some(CancelReason::SiblingFailed));

    let token = CancelToken::new();
    let guard = token.clone().drop_guard();
    assert!(guard.token().same_as(&token));
    let back = guard.disarm();
    assert!(!back.is_cancelled());
}

#[test]
fn a_deep_chain_cancels_and_drops_without_recursion() {
    let root = CancelToken::new();
    let mut chain = Vec::new();
    let mut last = root.clone();
    // Deep enough to overflow a recursive drop; shallower under miri, which
    // runs the same code far slower.
    let depth = if cfg!(miri) { 300 } else { 10_000 };
    for _ in 0..depth {
        let next = last.child();
        chain.push(last);
        last = next;
    }
    root.cancel();
    assert!(last.is_cancelled());
    drop(chain);
    drop(last);
}

#[test]
fn debug_shows_the_state() {
    let token = CancelToken::new();
    assert_eq!(
        alloc::format!("{token:?}"),
        "CancelToken { cancelled: false }"
    );
    token.cancel();
    assert_eq!(
        alloc::format!("{token:?}"),
        "CancelToken { cancelled: true }"
    );
    assert_eq!(CancelReason::Deadline.to_string(), "deadline passed");
}

#[test]
fn waits_made_before_or_after_the_cancel_complete_without_a_wake() {
    let token = CancelToken::new();
    let mut made_before = TestTask::new(token.cancelled());
    token.cancel();
    let mut made_after = TestTask::new(token.cancelled());
    made_before.ready();
    made_after.ready();
    assert_eq!(made_before.wakes() + made_after.wakes(), 0);
}

/// The cancel wakes each waiter; a woken waiter then completes and is
/// dropped without taking the event's lock (the flag is checked first, and
/// the wake-up must still be consumed, or the drop would lock to unlink).
#[test]
fn a_woken_waiter_completes_and_drops_without_the_lock() {
    let token = CancelToken::new();
    let mut borrowed = TestTask::new(token.cancelled());
    let mut owned = TestTask::new(token.clone().cancelled_owned());
    borrowed.pending();
    owned.pending();
    assert!(token.cancel());
    assert_eq!((borrowed.wakes(), owned.wakes()), (1, 1));
    let locks = crate::util::test::locks_taken(move || {
        borrowed.ready();
        owned.ready();
        drop(borrowed);
        drop(owned);
    });
    assert_eq!(locks, 0);
    assert!(token.is_cancelled());
}

/// A waiter's wake that panics during a cancel strands no one: the token's
/// descendants are all cancelled and their waiters woken, the panic comes
/// back to the caller afterwards, and the tree still works.
#[cfg(feature = "std")]
#[test]
fn a_wake_that_panics_in_a_cancel_strands_no_descendant() {
    use crate::util::hostile::{panics, Hostile};
    let hostile = Hostile::new();
    hostile.panic_on_wake(true);
    let root = CancelToken::new();
    let child = root.child();
    let sibling = root.child();
    let grandchild = child.child();
    let mut bad_root = TestTask::new(root.cancelled());
    assert!(bad_root.poll_with(&hostile.waker()).is_pending());
    let mut bad_child = TestTask::new(child.cancelled());
    assert!(bad_child.poll_with(&hostile.waker()).is_pending());
    let mut waiters: Vec<_> = [&child, &sibling, &grandchild]
        .into_iter()
        .map(|t| TestTask::new(t.cancelled()))
        .collect();
    for w in &mut waiters {
        w.pending();
    }
    assert!(panics(|| {
        root.cancel();
    }));
    assert_eq!(hostile.wakes(), 2, "both panicking wakes ran");
    for token in [&root, &child, &sibling, &grandchild] {
        assert!(token.is_cancelled());
        assert_eq!(token.reason(), Some(CancelReason::Requested));
    }
    for w in &mut waiters {
        assert_eq!(w.wakes(), 1);
        w.ready();
    }
    bad_root.ready();
    bad_child.ready();
    assert_eq!(root.children_len(), 0);
    // A second cancel is a no-op, and a new child is born cancelled.
    assert!(!root.cancel());
    assert!(root.child().is_cancelled());
}

/// A child with no children of its own when its parent's cancel marks it
/// is not locked a second time (it can get no children after): cancelling
/// a root with leaf children takes the root's lock and each leaf's once.
#[test]
fn a_cancel_locks_each_leaf_once() {
    let root = CancelToken::new();
    let leaves: Vec<_> = (0..3).map(|_| root.child()).collect();
    let inner = root.child();
    let below = inner.child();
    let locks = crate::util::test::locks_taken(|| {
        root.cancel();
    });
    // root 1, each leaf 1, `inner` 2 (marked, then its own children
    // taken), `below` 1.
    assert_eq!(locks, 1 + 3 + 2 + 1);
    for token in leaves.iter().chain([&inner, &below]) {
        assert!(token.is_cancelled());
    }
    assert!(!below.cancel(), "already cancelled");
}

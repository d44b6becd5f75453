//! Loom models of the cancellation tree.
//!
//! Under `--cfg anysync_loom` these explore every interleaving; otherwise
//! each body runs once as an ordinary test, so they never rot.

use core::{future::Future, pin::pin, task::Context};

use crate::{
    loom::{self, future::block_on, thread},
    task::CancelToken,
};

#[test]
fn loom_cancel_vs_cancelled_registration() {
    loom::model(|| {
        let token = CancelToken::new();
        let waiter = token.clone();
        let handle = thread::spawn(move || {
            block_on(waiter.cancelled());
            assert!(waiter.is_cancelled());
        });
        token.cancel();
        handle.join().unwrap();
    });
}

#[test]
fn loom_cancel_vs_a_polled_then_dropped_waiter() {
    loom::model(|| {
        let token = CancelToken::new();
        let waiter = token.clone();
        let handle = thread::spawn(move || {
            let mut fut = pin!(waiter.cancelled());
            let mut cx = Context::from_waker(futures_util::task::noop_waker_ref());
            let _ = fut.as_mut().poll(&mut cx);
        });
        token.cancel();
        handle.join().unwrap();
        // A fresh wait on the cancelled token completes at once.
        block_on(token.cancelled());
    });
}

#[test]
fn loom_cancel_vs_child_vs_drop() {
    loom::model(|| {
        let root = CancelToken::new();
        let middle = root.child();
        let leaf = middle.child();
        let r2 = root.clone();
        let canceller = thread::spawn(move || {
            r2.cancel();
        });
        let m2 = middle.clone();
        let maker = thread::spawn(move || {
            let late = m2.child();
            drop(m2);
            late
        });
        drop(middle);
        let late = maker.join().unwrap();
        canceller.join().unwrap();
        // Every descendant is cancelled whichever order the three ran in,
        // including through the dropped intermediate.
        assert!(leaf.is_cancelled());
        assert!(late.is_cancelled());
        block_on(leaf.cancelled());
        assert_eq!(root.children_len(), 0);
    });
}

#[test]
fn loom_cancel_vs_dropping_a_child_that_has_children() {
    loom::model(|| {
        let root = CancelToken::new();
        let middle = root.child();
        let leaf = middle.child();
        let r2 = root.clone();
        let canceller = thread::spawn(move || {
            r2.cancel();
        });
        // Unlinking `middle` races the cancel detaching it: either way the
        // leaf ends up cancelled and nothing stays linked to the root.
        drop(middle);
        canceller.join().unwrap();
        assert!(leaf.is_cancelled());
        assert_eq!(root.children_len(), 0);
    });
}

#[test]
fn loom_cancelling_a_child_vs_the_parent() {
    loom::model(|| {
        let root = CancelToken::new();
        let child = root.child();
        let leaf = child.child();
        let c2 = child.clone();
        let t = thread::spawn(move || {
            c2.cancel();
        });
        root.cancel();
        t.join().unwrap();
        // Both cancels are done: every level is cancelled, exactly once.
        assert!(child.is_cancelled() && leaf.is_cancelled());
        assert_eq!(child.children_len(), 0);
    });
}

#[test]
fn loom_tracker_last_task_ending_vs_close_vs_wait() {
    use crate::task::TaskTracker;
    loom::model(|| {
        let tracker = TaskTracker::new();
        let token = tracker.token();
        let waiter = {
            let tracker = tracker.clone();
            thread::spawn(move || {
                block_on(tracker.wait());
                assert!(tracker.is_empty() && tracker.is_closed());
            })
        };
        let ender = thread::spawn(move || drop(token));
        tracker.close();
        ender.join().unwrap();
        // Whichever of the close and the last task's end came second
        // released the waiter.
        waiter.join().unwrap();
    });
}

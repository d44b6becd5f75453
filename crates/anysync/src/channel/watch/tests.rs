//! Hand-polled `watch` tests.

mod loom;

use alloc::vec::Vec;
use core::cell::Cell;

use futures_test::task::new_count_waker;

use super::{channel, RecvError, SendError, Sender};
use crate::util::test::TestTask;

fn waiters<T>(rx: &super::Receiver<T>) -> usize {
    rx.shared.value.lock().len()
}

#[test]
fn changed_waits_for_a_send_and_marks_it_seen() {
    let (tx, mut rx) = channel(0);
    let mut changed = TestTask::new(rx.changed());
    changed.pending();
    changed.pending(); // spurious polls: still pending, not queued twice
    tx.send(1).unwrap();
    assert_eq!(changed.wakes(), 1);
    assert_eq!(changed.ready(), Ok(()));
    drop(changed);
    assert_eq!(rx.has_changed(), Ok(false));
    assert_eq!(*rx.borrow(), 1);
    assert_eq!(waiters(&rx), 0);
}

#[test]
fn a_send_before_the_first_poll_is_not_missed() {
    let (tx, mut rx) = channel(0);
    let mut changed = TestTask::new(rx.changed());
    tx.send(1).unwrap();
    assert_eq!(changed.ready(), Ok(()));
}

#[test]
fn several_sends_count_as_one_change() {
    let (tx, mut rx) = channel(0);
    tx.send(1).unwrap();
    tx.send(2).unwrap();
    assert_eq!(TestTask::new(rx.changed()).ready(), Ok(()));
    assert_eq!(*rx.borrow(), 2);
    TestTask::new(rx.changed()).pending();
}

#[test]
fn every_waiting_receiver_is_woken_once_per_send() {
    let (tx, rx) = channel(0);
    let mut rxs: Vec<_> = (0..20).map(|_| rx.clone()).collect();
    let mut tasks: Vec<_> = rxs
        .iter_mut()
        .map(|rx| TestTask::new(rx.changed()))
        .collect();
    for t in &mut tasks {
        t.pending();
    }
    assert_eq!(waiters(&rx), 20);
    tx.send(1).unwrap();
    for t in &mut tasks {
        assert_eq!(t.wakes(), 1);
        assert_eq!(t.ready(), Ok(()));
    }
    drop(tasks);
    assert_eq!(waiters(&rx), 0);
}

#[test]
fn waker_change_is_honoured() {
    let (tx, mut rx) = channel(0);
    let mut changed = TestTask::new(rx.changed());
    let (a, a_count) = new_count_waker();
    let (b, b_count) = new_count_waker();
    assert!(changed.poll_with(&a).is_pending());
    assert!(changed.poll_with(&b).is_pending());
    tx.send(1).unwrap();
    assert_eq!((a_count.get(), b_count.get()), (0, 1));
}

#[test]
fn dropped_changed_future_leaves_the_queue_and_loses_nothing() {
    let (tx, mut rx) = channel(0);
    let mut changed = TestTask::new(rx.changed());
    changed.pending();
    changed.cancel();
    drop(changed);
    assert_eq!(waiters(&rx), 0);
    tx.send(1).unwrap();
    assert_eq!(TestTask::new(rx.changed()).ready(), Ok(()));
}

#[test]
fn last_sender_drop_closes_after_unseen_changes() {
    let (tx, mut rx) = channel(0);
    let tx2 = tx.clone();
    let mut changed = TestTask::new(rx.changed());
    changed.pending();
    drop(tx);
    assert_eq!(changed.wakes(), 0, "one sender is still alive");
    drop(tx2);
    assert_eq!(changed.wakes(), 1);
    assert_eq!(changed.ready(), Err(RecvError));
    drop(changed);

    // A change not yet seen is still reported before `RecvError`.
    let (tx, mut rx) = channel(0);
    tx.send(5).unwrap();
    drop(tx);
    assert_eq!(rx.has_changed(), Ok(true));
    assert_eq!(TestTask::new(rx.changed()).ready(), Ok(()));
    assert_eq!(TestTask::new(rx.changed()).ready(), Err(RecvError));
    assert_eq!(rx.has_changed(), Err(RecvError));
    assert_eq!(*rx.borrow(), 5, "the last value stays readable");
}

#[test]
fn send_without_receivers_fails_and_stores_nothing() {
    let (tx, rx) = channel(1);
    drop(rx);
    assert!(tx.is_closed());
    assert_eq!(tx.send(2), Err(SendError(2)));
    assert_eq!(*tx.borrow(), 1);
    assert_eq!(*tx.send_replace(3), 1);
    assert_eq!(*tx.borrow(), 3);
    let rx = tx.subscribe();
    assert_eq!(
        rx.has_changed(),
        Ok(false),
        "a new subscriber has seen the current value"
    );
}

#[test]
fn clones_keep_their_seen_version() {
    let (tx, mut rx) = channel(0);
    tx.send(1).unwrap();
    let rx2 = rx.clone();
    assert_eq!(rx2.has_changed(), Ok(true));
    rx.mark_unchanged();
    assert_eq!(rx.has_changed(), Ok(false));
    assert_eq!(rx2.has_changed(), Ok(true));
    assert!(rx.same_channel(&rx2));
    assert_eq!(tx.receiver_count(), 2);
}

#[test]
fn borrow_and_update_marks_seen_and_borrow_does_not() {
    let (tx, mut rx) = channel(0);
    tx.send(1).unwrap();
    assert_eq!(*rx.borrow(), 1);
    assert_eq!(rx.has_changed(), Ok(true));
    assert_eq!(*rx.borrow_and_update(), 1);
    assert_eq!(rx.has_changed(), Ok(false));
}

#[test]
fn a_borrowed_value_outlives_the_next_send() {
    let (tx, rx) = channel(alloc::string::String::from("a"));
    let old = rx.borrow();
    tx.send("b".into()).unwrap();
    assert_eq!(*old, "a");
    assert_eq!(*rx.borrow(), "b");
}

#[test]
fn send_modify_changes_in_place_and_wakes() {
    let (tx, mut rx) = channel(alloc::vec![1]);
    let mut changed = TestTask::new(rx.changed());
    changed.pending();
    tx.send_modify(|v| v.push(2));
    assert_eq!(changed.wakes(), 1);
    assert_eq!(changed.ready(), Ok(()));
    drop(changed);
    assert_eq!(*rx.borrow(), [1, 2]);
    assert!(!tx.send_if_modified(|_| false));
    assert_eq!(rx.has_changed(), Ok(false));
}

#[test]
fn send_modify_retries_on_a_racing_store_and_loses_no_update() {
    let (tx, rx) = channel(0);
    let tx2: Sender<i32> = tx.clone();
    let calls = Cell::new(0);
    tx.send_modify(|v| {
        calls.set(calls.get() + 1);
        if calls.get() == 1 {
            // Another sender stores while we work on our clone.
            drop(tx2.send_replace(100));
        }
        *v += 1;
    });
    assert_eq!(calls.get(), 2);
    assert_eq!(*rx.borrow(), 101);
}

#[test]
fn wait_for_checks_the_current_value_first() {
    let (_tx, mut rx) = channel(5);
    let mut w = TestTask::new(rx.wait_for(|&n| n == 5));
    assert_eq!(*w.ready().unwrap(), 5);
    assert_eq!(w.wakes(), 0);
}

#[test]
fn wait_for_runs_the_predicate_once_per_version() {
    let (tx, mut rx) = channel(0);
    let calls = Cell::new(0);
    let mut w = TestTask::new(rx.wait_for(|&n| {
        calls.set(calls.get() + 1);
        n >= 2
    }));
    w.pending();
    w.pending(); // spurious poll: predicate not re-run
    assert_eq!(calls.get(), 1);
    tx.send(1).unwrap();
    assert_eq!(w.wakes(), 1);
    w.pending();
    assert_eq!(calls.get(), 2);
    tx.send(2).unwrap();
    assert_eq!(w.wakes(), 2);
    assert_eq!(*w.ready().unwrap(), 2);
    drop(w);
    assert_eq!(
        rx.has_changed(),
        Ok(false),
        "the returned value is marked seen"
    );
    assert_eq!(waiters(&rx), 0);
}

#[test]
fn wait_for_fails_when_closed_without_a_match() {
    let (tx, mut rx) = channel(0);
    let mut w = TestTask::new(rx.wait_for(|&n| n > 10));
    w.pending();
    tx.send(3).unwrap();
    drop(tx);
    assert_eq!(w.ready(), Err(RecvError));

    // ...but a last value that matches is returned.
    let (tx, mut rx) = channel(0);
    tx.send(11).unwrap();
    drop(tx);
    assert_eq!(
        *TestTask::new(rx.wait_for(|&n| n > 10)).ready().unwrap(),
        11
    );
}

#[test]
fn dropping_wait_for_has_no_effect() {
    let (tx, mut rx) = channel(0);
    tx.send(1).unwrap();
    let mut w = TestTask::new(rx.wait_for(|&n| n > 5));
    w.pending();
    drop(w);
    assert_eq!(rx.has_changed(), Ok(true), "seen is unchanged");
    assert_eq!(waiters(&rx), 0);
}

#[test]
fn panicking_predicate_leaves_nothing_locked() {
    let (tx, mut rx) = channel(0);
    let r = std::panic::catch_unwind(core::panic::AssertUnwindSafe(|| {
        let mut w = TestTask::new(rx.wait_for(|_| panic!("boom")));
        let _ = w.poll();
    }));
    assert!(r.is_err());
    tx.send(1).unwrap();
    assert_eq!(*rx.borrow(), 1);
    assert_eq!(waiters(&rx), 0);
}

#[test]
fn sender_closed_completes_when_the_last_receiver_drops() {
    let (tx, rx) = channel(());
    let rx2 = rx.clone();
    let mut closed = TestTask::new(tx.closed());
    let mut closed2 = TestTask::new(tx.closed());
    closed.pending();
    closed2.pending();
    drop(rx);
    assert_eq!(closed.wakes(), 0);
    drop(rx2);
    assert_eq!((closed.wakes(), closed2.wakes()), (1, 1));
    closed.ready();
    closed2.ready();
    TestTask::new(tx.closed()).ready();
    assert_eq!(tx.shared.closed.lock().len(), 0);
}

/// The last receiver's drop wakes `closed`; the woken future completes
/// and is dropped without taking a lock.
#[test]
fn a_woken_sender_closed_completes_without_the_lock() {
    let (tx, rx) = channel(());
    let mut closed = TestTask::new(tx.closed());
    closed.pending();
    drop(rx);
    assert_eq!(closed.wakes(), 1);
    let locks = crate::util::test::locks_taken(move || {
        closed.ready();
        drop(closed);
    });
    assert_eq!(locks, 0);
}

#[test]
fn dropped_sender_closed_future_leaves_the_queue() {
    let (tx, _rx) = channel(());
    let mut closed = TestTask::new(tx.closed());
    closed.pending();
    drop(closed);
    assert_eq!(tx.shared.closed.lock().len(), 0);
}

#[test]
#[should_panic(expected = "polled after completion")]
fn changed_polled_after_completion_panics() {
    let (tx, mut rx) = channel(0);
    tx.send(1).unwrap();
    let mut c = TestTask::new(rx.changed());
    let _ = c.ready();
    let _ = c.poll();
}

#[test]
fn debug_shows_versions() {
    let (tx, mut rx) = channel(0);
    tx.send(1).unwrap();
    assert_eq!(
        alloc::format!("{tx:?}"),
        "Sender { version: 1, receivers: 1 }"
    );
    assert_eq!(
        alloc::format!("{rx:?}"),
        "Receiver { version: 1, seen: 0, closed: false }"
    );
    let c = rx.changed();
    assert!(alloc::format!("{c:?}").starts_with("Changed"));
}

#[test]
fn changed_blocking_sees_a_send_from_another_thread() {
    let (tx, mut rx) = channel(0);
    let t = std::thread::spawn(move || tx.send(1).unwrap());
    assert_eq!(rx.changed_blocking(), Ok(()));
    t.join().unwrap();
}

// `borrow` hands out `Arc<T>` across threads: `T: Send + Sync` is needed.
static_assertions::assert_impl_all!(Sender<u8>: Send, Sync);
static_assertions::assert_impl_all!(super::Receiver<u8>: Send, Sync, Unpin);
static_assertions::assert_impl_all!(super::futures::Changed<'static, u8>: Send, Sync);
static_assertions::assert_not_impl_any!(super::Receiver<Cell<u8>>: Send, Sync);
static_assertions::assert_not_impl_any!(super::futures::Changed<'static, u8>: Unpin);

// ----- foreign code that misbehaves -----

mod hostile {
    use alloc::vec::Vec;

    use super::{channel, waiters, RecvError};
    use crate::util::{
        hostile::{panics, Hostile},
        test::TestTask,
    };

    /// More than one wake batch holds.
    const MANY: usize = 20;

    #[test]
    fn send_wakes_every_receiver_past_a_panicking_wake() {
        let (tx, rx) = channel(0);
        let hostile = Hostile::new();
        let mut rxs: Vec<_> = (0..=MANY).map(|_| rx.clone()).collect();
        let mut tasks: Vec<_> = rxs.iter_mut().map(|r| TestTask::new(r.changed())).collect();
        assert!(tasks[0].poll_with(&hostile.waker()).is_pending());
        for task in &mut tasks[1..] {
            task.pending();
        }
        hostile.panic_on_wake(true);
        assert!(panics(|| {
            let _ = tx.send(1);
        }));
        assert_eq!(*tx.borrow(), 1);
        for task in &mut tasks[1..] {
            assert!(
                task.is_woken(),
                "a receiver behind the panicking wake was stranded"
            );
            assert_eq!(task.ready(), Ok(()));
        }
        drop(tasks);
        assert_eq!(waiters(&rx), 0);
    }

    #[test]
    fn last_sender_drop_wakes_every_receiver_past_a_panicking_wake() {
        let (tx, rx) = channel(0);
        let hostile = Hostile::new();
        let mut rxs: Vec<_> = (0..=MANY).map(|_| rx.clone()).collect();
        let mut tasks: Vec<_> = rxs.iter_mut().map(|r| TestTask::new(r.changed())).collect();
        assert!(tasks[0].poll_with(&hostile.waker()).is_pending());
        for task in &mut tasks[1..] {
            task.pending();
        }
        hostile.panic_on_wake(true);
        assert!(panics(|| drop(tx)));
        for task in &mut tasks[1..] {
            assert!(
                task.is_woken(),
                "a receiver behind the panicking wake was stranded"
            );
            assert_eq!(task.ready(), Err(RecvError));
        }
        drop(tasks);
        assert_eq!(waiters(&rx), 0);
    }

    #[test]
    fn last_receiver_drop_wakes_every_closed_waiter_past_a_panicking_wake() {
        let (tx, rx) = channel(0);
        let hostile = Hostile::new();
        let mut first = TestTask::new(tx.closed());
        assert!(first.poll_with(&hostile.waker()).is_pending());
        let mut rest: Vec<_> = (0..MANY).map(|_| TestTask::new(tx.closed())).collect();
        for task in &mut rest {
            task.pending();
        }
        hostile.panic_on_wake(true);
        assert!(panics(|| drop(rx)));
        for task in &mut rest {
            assert!(
                task.is_woken(),
                "a closed() waiter behind the panicking wake was stranded"
            );
            task.ready();
        }
        drop(first);
        assert_eq!(tx.shared.closed.lock().len(), 0);
    }

    #[test]
    fn wakers_are_never_woken_or_dropped_under_the_lock() {
        let (tx, rx) = channel(0);
        let hostile = Hostile::new();
        let (a, b) = (tx.clone(), tx.clone());
        hostile.on_wake(move || {
            let _ = a.borrow();
        });
        hostile.on_drop(move || {
            let _ = b.receiver_count();
        });
        let waker = hostile.waker();
        let (mut r1, mut r2, mut r3) = (rx.clone(), rx.clone(), rx.clone());

        // Queued, then the waker replaced (the hostile one is dropped).
        let mut changed = TestTask::new(r1.changed());
        assert!(changed.poll_with(&waker).is_pending());
        changed.pending();
        // Woken by a send, then dropped without being polled.
        let mut woken = TestTask::new(r2.changed());
        assert!(woken.poll_with(&waker).is_pending());
        // Queued in `wait_for`, then dropped while waiting.
        let mut wait_for = TestTask::new(r3.wait_for(|&v| v > 5));
        assert!(wait_for.poll_with(&waker).is_pending());
        tx.send(1).unwrap();
        assert_eq!(changed.ready(), Ok(()));
        drop(woken);
        assert!(wait_for.poll_with(&waker).is_pending());
        drop(wait_for);
        // A `closed()` waiter dropped while waiting.
        let mut closed = TestTask::new(tx.closed());
        assert!(closed.poll_with(&waker).is_pending());
        drop(closed);
        drop(waker);

        assert!(hostile.wakes() >= 2);
        assert_eq!(hostile.under_lock(), 0);
        assert_eq!(waiters(&rx), 0);
        assert_eq!(tx.shared.closed.lock().len(), 0);
    }
}

#[test]
fn mark_changed_makes_the_current_value_unseen_and_mark_unchanged_makes_it_seen() {
    let (tx, mut rx) = channel(1);
    rx.mark_changed();
    assert_eq!(rx.has_changed(), Ok(true));
    assert_eq!(TestTask::new(rx.changed()).ready(), Ok(()));
    assert_eq!(rx.has_changed(), Ok(false));
    let mut changed = TestTask::new(rx.changed());
    changed.pending();
    drop(changed);
    tx.send(2).unwrap();
    rx.mark_unchanged();
    assert_eq!(rx.has_changed(), Ok(false));
    let mut changed = TestTask::new(rx.changed());
    changed.pending();
    drop(changed);
    // Marked changed, the value is reported even after the sender is gone.
    rx.mark_changed();
    drop(tx);
    assert_eq!(rx.has_changed(), Ok(true));
    assert_eq!(TestTask::new(rx.changed()).ready(), Ok(()));
    assert_eq!(*rx.borrow(), 2);
    assert_eq!(TestTask::new(rx.changed()).ready(), Err(RecvError));
}

#[test]
fn statistics_count_handles_and_both_kinds_of_waiters() {
    let (tx, mut rx) = channel(0);
    let mut rx2 = rx.clone();
    let s = tx.statistics();
    assert_eq!(
        (s.senders, s.receivers, s.changed_waiters, s.closed_waiters),
        (1, 2, 0, 0)
    );
    let mut changed = TestTask::new(rx2.changed());
    changed.pending();
    let tx2 = tx.clone();
    let mut closed = TestTask::new(tx.closed());
    closed.pending();
    let s = rx.statistics();
    assert_eq!(
        (s.senders, s.receivers, s.changed_waiters, s.closed_waiters),
        (2, 2, 1, 1)
    );
    tx2.send(1).unwrap();
    changed.ready().unwrap();
    drop(changed);
    drop(rx2);
    assert_eq!(tx.statistics().changed_waiters, 0);
    assert_eq!(*rx.borrow_and_update(), 1);
    drop(rx);
    closed.ready();
    let s = tx.statistics();
    assert_eq!((s.senders, s.receivers, s.closed_waiters), (2, 0, 0));
}

#[test]
fn stream_yields_the_current_value_first_then_each_unseen_change() {
    use futures_core::FusedStream;
    use futures_util::StreamExt;

    let (tx, mut rx) = channel(1);
    let mut next = TestTask::new(rx.next());
    assert_eq!(next.ready().as_deref(), Some(&1), "seen, yielded anyway");
    drop(next);
    let mut next = TestTask::new(rx.next());
    next.pending();
    assert_eq!(
        tx.statistics().changed_waiters,
        1,
        "the stream waits in the queue"
    );
    tx.send(2).unwrap();
    tx.send(3).unwrap();
    assert_eq!(next.wakes(), 1);
    assert_eq!(next.ready().as_deref(), Some(&3), "two sends, one change");
    drop(next);
    assert_eq!(waiters(&rx), 0, "it left the queue with the value");
    assert_eq!(rx.has_changed(), Ok(false), "yielding marks the value seen");

    // A clone starts over with the current value.
    let mut rx2 = rx.clone();
    assert_eq!(TestTask::new(rx2.next()).ready().as_deref(), Some(&3));

    tx.send(4).unwrap();
    drop(tx);
    assert_eq!(TestTask::new(rx.next()).ready().as_deref(), Some(&4));
    assert!(!rx.is_terminated());
    assert_eq!(TestTask::new(rx.next()).ready(), None);
    assert!(rx.is_terminated());
    assert_eq!(TestTask::new(rx.next()).ready(), None, "fused");
}

#[test]
fn a_waiting_stream_ends_when_the_last_sender_goes_and_leaves_on_drop() {
    use futures_util::StreamExt;

    let (tx, mut rx) = channel(0);
    let other = rx.clone();
    assert_eq!(TestTask::new(rx.next()).ready().as_deref(), Some(&0));
    let mut next = TestTask::new(rx.next());
    next.pending();
    drop(tx);
    assert_eq!(next.wakes(), 1);
    assert_eq!(next.ready(), None);
    drop(next);

    let (tx, mut rx) = channel(0);
    assert_eq!(TestTask::new(rx.next()).ready().as_deref(), Some(&0));
    TestTask::new(rx.next()).pending();
    assert_eq!(
        tx.statistics().changed_waiters,
        1,
        "still queued: polled, not dropped"
    );
    drop(rx);
    assert_eq!(
        tx.statistics().changed_waiters,
        0,
        "the receiver's drop left the queue"
    );
    drop(other);
}

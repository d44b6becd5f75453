//! Hand-polled `broadcast` tests, including the per-subscriber overflow
//! policies.

mod loom;

use alloc::{rc::Rc, sync::Arc as StdArc, vec::Vec};
use core::{cell::Cell, pin::pin};

use futures_util::{FutureExt, StreamExt};

use super::{channel, Overflow, RecvError, SendError, Sender, TryRecvError, TrySendError};
use crate::util::test::TestTask;

/// Checks the counters against the subscriber slots; returns the number of
/// waiting publishers.
fn check<T>(tx: &Sender<T>) -> usize {
    let queue = tx.shared.queue.lock();
    queue.state_ref().check_invariants();
    queue.len()
}

fn drain<T: Clone>(rx: &mut super::Receiver<T>) -> Vec<Result<T, TryRecvError>> {
    let mut out = Vec::new();
    loop {
        match rx.try_recv() {
            Err(TryRecvError::Empty) => return out,
            r @ Err(TryRecvError::Closed | TryRecvError::Disconnected) => {
                out.push(r);
                return out;
            }
            r => out.push(r),
        }
    }
}

/// A message whose drop is visible through its token's strong count.
#[derive(Clone, Debug)]
struct Tracked(#[allow(dead_code)] StdArc<()>);

#[test]
fn every_subscriber_gets_every_message_in_order() {
    let tx = Sender::new(8);
    let mut rxs: Vec<_> = [
        Overflow::Block,
        Overflow::DropOldest,
        Overflow::DropNewest,
        Overflow::Disconnect,
    ]
    .into_iter()
    .map(|o| tx.subscribe_with(8, o))
    .collect();
    for i in 0..5 {
        tx.try_send(i).unwrap();
    }
    for rx in &mut rxs {
        assert_eq!(drain(rx), (0..5).map(Ok).collect::<Vec<_>>());
    }
    assert_eq!(check(&tx), 0);
}

#[test]
fn a_late_subscriber_starts_at_the_tail() {
    let (tx, mut early) = channel(4);
    tx.try_send(1).unwrap();
    let mut late = tx.subscribe();
    let mut later = early.resubscribe();
    tx.try_send(2).unwrap();
    assert_eq!(drain(&mut early), [Ok(1), Ok(2)]);
    assert_eq!(drain(&mut late), [Ok(2)]);
    assert_eq!(drain(&mut later), [Ok(2)]);
}

#[test]
fn sending_with_no_subscribers_returns_the_message() {
    let tx = Sender::new(4);
    assert_eq!(TestTask::new(tx.send(7)).ready(), Err(SendError(7)));
    assert!(matches!(tx.try_send(8), Err(TrySendError::Closed(8))));
    let rx = tx.subscribe();
    drop(rx);
    assert_eq!(TestTask::new(tx.send(9)).ready(), Err(SendError(9)));
    assert_eq!(tx.receiver_count(), 0);
}

#[test]
fn drop_oldest_reports_the_lag_then_the_oldest_kept() {
    // Capacity 2, send 3.
    let (tx, mut slow) = channel(2);
    let mut fast = tx.subscribe_with(8, Overflow::DropOldest);
    for i in 1..=3 {
        tx.try_send(i).unwrap();
    }
    assert_eq!(
        drain(&mut slow),
        [Err(TryRecvError::Lagged(1)), Ok(2), Ok(3)]
    );
    assert_eq!(
        drain(&mut fast),
        [Ok(1), Ok(2), Ok(3)],
        "lag is per subscriber"
    );
}

#[test]
fn drop_oldest_lag_counts_coalesce() {
    let (tx, mut rx) = channel(2);
    for i in 1..=5 {
        tx.try_send(i).unwrap();
    }
    assert_eq!(drain(&mut rx), [Err(TryRecvError::Lagged(3)), Ok(4), Ok(5)]);
    // Capacity 1: every eviction moves the gap forward.
    let (tx, mut rx) = channel(1);
    for i in 1..=4 {
        tx.try_send(i).unwrap();
    }
    assert_eq!(drain(&mut rx), [Err(TryRecvError::Lagged(3)), Ok(4)]);
    tx.try_send(5).unwrap();
    assert_eq!(drain(&mut rx), [Ok(5)]);
}

#[test]
fn drop_newest_reports_the_gap_where_it_is() {
    let tx = Sender::new(8);
    let mut rx = tx.subscribe_with(2, Overflow::DropNewest);
    for i in 1..=4 {
        tx.try_send(i).unwrap(); // 3 and 4 are dropped for rx
    }
    assert_eq!(rx.try_recv(), Ok(1));
    tx.try_send(5).unwrap(); // queued after the gap
    assert_eq!(drain(&mut rx), [Ok(2), Err(TryRecvError::Lagged(2)), Ok(5)]);
    // A trailing gap is reported when the queue runs dry.
    for i in 6..=9 {
        tx.try_send(i).unwrap();
    }
    assert_eq!(drain(&mut rx), [Ok(6), Ok(7), Err(TryRecvError::Lagged(2))]);
}

#[test]
fn disconnect_drains_then_reports_disconnected_and_resubscribe_reconnects() {
    let tx = Sender::new(8);
    let mut keeper = tx.subscribe();
    let mut rx = tx.subscribe_with(1, Overflow::Disconnect);
    tx.try_send(1).unwrap();
    assert_eq!(tx.receiver_count(), 2);
    tx.try_send(2).unwrap(); // rx is full: disconnected
    assert!(rx.is_disconnected());
    assert_eq!(tx.receiver_count(), 1);
    tx.try_send(3).unwrap();
    assert_eq!(rx.try_recv(), Ok(1));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Disconnected));
    assert_eq!(
        TestTask::new(rx.recv()).ready(),
        Err(RecvError::Disconnected)
    );
    let mut again = rx.resubscribe();
    assert_eq!(again.overflow(), Overflow::Disconnect);
    tx.try_send(4).unwrap();
    assert_eq!(drain(&mut again), [Ok(4)]);
    assert_eq!(drain(&mut keeper), [Ok(1), Ok(2), Ok(3), Ok(4)]);
    drop(keeper);
    drop(again);
    // Only the disconnected one is left: nobody to publish to.
    assert!(matches!(tx.try_send(5), Err(TrySendError::Closed(5))));
    assert_eq!(check(&tx), 0);
}

#[test]
fn block_holds_publishers_back_until_the_subscriber_makes_room() {
    let tx = Sender::new(8);
    let mut blocker = tx.subscribe_with(1, Overflow::Block);
    let mut other = tx.subscribe_with(8, Overflow::DropOldest);
    TestTask::new(tx.send(1)).ready().unwrap();
    let mut s2 = TestTask::new(tx.send(2));
    s2.pending();
    assert_eq!(check(&tx), 1);
    assert_eq!(drain(&mut other), [Ok(1)], "2 is published to nobody yet");
    assert!(matches!(tx.try_send(3), Err(TrySendError::Full(3))));
    assert_eq!(blocker.try_recv(), Ok(1));
    // The receive made room and published 2 for the waiting sender.
    assert_eq!(s2.wakes(), 1);
    assert_eq!(s2.ready(), Ok(()));
    assert_eq!(drain(&mut other), [Ok(2)]);
    assert_eq!(drain(&mut blocker), [Ok(2)]);
    assert_eq!(check(&tx), 0);
}

#[test]
fn blocked_publishers_are_served_in_order_and_woken_one_at_a_time() {
    let tx = Sender::new(8);
    let mut rx = tx.subscribe_with(1, Overflow::Block);
    tx.try_send(0).unwrap();
    let mut s1 = TestTask::new(tx.send(1));
    let mut s2 = TestTask::new(tx.send(2));
    let mut s3 = TestTask::new(tx.send(3));
    s1.pending();
    s2.pending();
    s3.pending();
    assert_eq!(rx.try_recv(), Ok(0));
    assert_eq!((s1.wakes(), s2.wakes(), s3.wakes()), (1, 0, 0));
    // A newcomer cannot barge in ahead of s2 and s3.
    assert!(matches!(tx.try_send(9), Err(TrySendError::Full(9))));
    assert_eq!(rx.try_recv(), Ok(1));
    assert_eq!((s2.wakes(), s3.wakes()), (1, 0));
    assert_eq!(rx.try_recv(), Ok(2));
    assert_eq!(rx.try_recv(), Ok(3));
    for s in [&mut s1, &mut s2, &mut s3] {
        assert_eq!(s.ready(), Ok(()));
    }
    assert_eq!(check(&tx), 0);
}

/// A blocked publisher woken because its message was published completes
/// without taking the channel's lock: the outcome is in its node.
#[test]
fn a_woken_publisher_completes_without_the_lock() {
    let tx = Sender::new(8);
    let mut rx = tx.subscribe_with(1, Overflow::Block);
    tx.try_send(0).unwrap();
    let mut s = TestTask::new(tx.send(1));
    s.pending();
    assert_eq!(rx.try_recv(), Ok(0));
    assert_eq!(s.wakes(), 1);
    let locks = crate::util::test::locks_taken(move || {
        assert_eq!(s.ready(), Ok(()));
        drop(s);
    });
    assert_eq!(locks, 0);
    assert_eq!(rx.try_recv(), Ok(1));
    assert_eq!(check(&tx), 0);
}

#[test]
fn blocked_publisher_waker_change_is_honoured() {
    let tx = Sender::new(8);
    let mut rx = tx.subscribe_with(1, Overflow::Block);
    tx.try_send(0).unwrap();
    let mut s = TestTask::new(tx.send(1));
    let (a, a_count) = futures_test::task::new_count_waker();
    let (b, b_count) = futures_test::task::new_count_waker();
    assert!(s.poll_with(&a).is_pending());
    assert!(s.poll_with(&b).is_pending());
    assert_eq!(rx.try_recv(), Ok(0));
    assert_eq!((a_count.get(), b_count.get()), (0, 1));
}

#[test]
fn cancelled_blocked_publisher_publishes_nothing_and_drops_its_message_once() {
    let tx = Sender::new(8);
    let mut blocker = tx.subscribe_with(1, Overflow::Block);
    let mut other = tx.subscribe();
    tx.try_send(Tracked(StdArc::new(()))).unwrap();
    let token = StdArc::new(());
    let mut s = TestTask::new(tx.send(Tracked(StdArc::clone(&token))));
    s.pending();
    s.cancel();
    assert_eq!(
        StdArc::strong_count(&token),
        1,
        "dropped with the future, once"
    );
    assert_eq!(check(&tx), 0);
    assert!(blocker.try_recv().is_ok());
    assert!(other.try_recv().is_ok());
    assert_eq!(blocker.try_recv().unwrap_err(), TryRecvError::Empty);
    assert_eq!(
        other.try_recv().unwrap_err(),
        TryRecvError::Empty,
        "never published"
    );
}

#[test]
fn cancel_returns_an_unpublished_message_and_none_after_publishing() {
    let tx = Sender::new(8);
    let mut rx = tx.subscribe_with(1, Overflow::Block);
    tx.try_send(0).unwrap();
    let mut s = pin!(tx.send(1));
    assert!(s.as_mut().now_or_never().is_none());
    assert_eq!(s.as_mut().cancel(), Some(1));
    assert_eq!(s.as_mut().cancel(), None);
    assert_eq!(check(&tx), 0);

    let mut s = pin!(tx.send(2));
    assert!(s.as_mut().now_or_never().is_none());
    assert_eq!(rx.try_recv(), Ok(0)); // publishes 2 on s's behalf
    assert_eq!(s.as_mut().cancel(), None, "already published");
    assert_eq!(rx.try_recv(), Ok(2));

    let mut unpolled = pin!(tx.send(3));
    assert_eq!(unpolled.as_mut().cancel(), Some(3));
}

#[test]
fn a_publisher_woken_then_dropped_unpolled_keeps_its_message_published() {
    let tx = Sender::new(8);
    let mut rx = tx.subscribe_with(1, Overflow::Block);
    tx.try_send(0).unwrap();
    let mut s = TestTask::new(tx.send(1));
    s.pending();
    assert_eq!(rx.try_recv(), Ok(0));
    assert_eq!(s.wakes(), 1);
    s.cancel();
    assert_eq!(rx.try_recv(), Ok(1));
    assert_eq!(check(&tx), 0);
}

#[test]
fn dropping_a_full_block_subscriber_releases_the_publishers() {
    let tx = Sender::new(8);
    let blocker = tx.subscribe_with(1, Overflow::Block);
    let mut other = tx.subscribe();
    tx.try_send(0).unwrap();
    let mut s1 = TestTask::new(tx.send(1));
    let mut s2 = TestTask::new(tx.send(2));
    s1.pending();
    s2.pending();
    drop(blocker);
    assert_eq!((s1.wakes(), s2.wakes()), (1, 1));
    assert_eq!(s1.ready(), Ok(()));
    assert_eq!(s2.ready(), Ok(()));
    assert_eq!(drain(&mut other), [Ok(0), Ok(1), Ok(2)]);
    assert_eq!(check(&tx), 0);
}

#[test]
fn dropping_the_last_subscriber_returns_waiting_messages() {
    let tx = Sender::new(8);
    let blocker = tx.subscribe_with(1, Overflow::Block);
    tx.try_send(0).unwrap();
    let mut s = TestTask::new(tx.send(1));
    s.pending();
    drop(blocker);
    assert_eq!(s.wakes(), 1);
    assert_eq!(s.ready(), Err(SendError(1)));
    assert_eq!(check(&tx), 0);
}

#[test]
fn many_blocked_publishers_are_all_released_in_order() {
    // More than one wake batch.
    let tx = Sender::new(8);
    let blocker = tx.subscribe_with(1, Overflow::Block);
    let mut other = tx.subscribe_with(100, Overflow::Block);
    tx.try_send(0).unwrap();
    let mut senders: Vec<_> = (1..=40).map(|i| TestTask::new(tx.send(i))).collect();
    for s in &mut senders {
        s.pending();
    }
    drop(blocker);
    for s in &mut senders {
        assert_eq!(s.wakes(), 1);
        assert_eq!(s.ready(), Ok(()));
    }
    assert_eq!(drain(&mut other), (0..=40).map(Ok).collect::<Vec<_>>());
    assert_eq!(check(&tx), 0);
}

#[test]
fn receivers_are_woken_exactly_once_per_message_even_past_a_batch() {
    let tx = Sender::new(4);
    let mut rxs: Vec<_> = (0..40).map(|_| tx.subscribe()).collect();
    let mut tasks: Vec<_> = rxs.iter_mut().map(|rx| TestTask::new(rx.recv())).collect();
    for t in &mut tasks {
        t.pending();
        t.pending();
    }
    tx.try_send(1).unwrap();
    tx.try_send(2).unwrap(); // no one is waiting any more: no extra wake
    for t in &mut tasks {
        assert_eq!(t.wakes(), 1);
        assert_eq!(t.ready(), Ok(1));
    }
}

#[test]
fn receiver_waker_change_is_honoured() {
    let (tx, mut rx) = channel(4);
    let mut r = TestTask::new(rx.recv());
    let (a, a_count) = futures_test::task::new_count_waker();
    let (b, b_count) = futures_test::task::new_count_waker();
    assert!(r.poll_with(&a).is_pending());
    assert!(r.poll_with(&b).is_pending());
    tx.try_send(1).unwrap();
    assert_eq!((a_count.get(), b_count.get()), (0, 1));
}

#[test]
fn dropped_recv_future_loses_no_message() {
    let (tx, mut rx) = channel(4);
    let mut r = TestTask::new(rx.recv());
    r.pending();
    tx.try_send(1).unwrap();
    r.cancel();
    drop(r);
    assert_eq!(rx.try_recv(), Ok(1));
}

#[test]
fn close_drains_then_reports_closed() {
    // Capacity 1, a value is sent, then the last sender drops.
    let (tx, mut rx) = channel(1);
    let mut rx2 = tx.subscribe();
    let tx2 = tx.clone();
    tx.try_send(1).unwrap();
    drop(tx);
    drop(tx2);
    assert_eq!(TestTask::new(rx.recv()).ready(), Ok(1));
    assert_eq!(TestTask::new(rx.recv()).ready(), Err(RecvError::Closed));
    assert_eq!(drain(&mut rx2), [Ok(1), Err(TryRecvError::Closed)]);
}

#[test]
fn close_wakes_a_waiting_receiver() {
    let (tx, mut rx) = channel::<u8>(1);
    let mut r = TestTask::new(rx.recv());
    r.pending();
    drop(tx);
    assert_eq!(r.wakes(), 1);
    assert_eq!(r.ready(), Err(RecvError::Closed));
}

#[test]
fn close_reports_lag_before_closed() {
    let (tx, mut rx) = channel(1);
    tx.try_send(1).unwrap();
    tx.try_send(2).unwrap();
    drop(tx);
    assert_eq!(
        drain(&mut rx),
        [
            Err(TryRecvError::Lagged(1)),
            Ok(2),
            Err(TryRecvError::Closed)
        ]
    );
}

#[test]
fn the_last_receiver_of_a_message_takes_it_without_cloning() {
    #[derive(Debug)]
    struct Counted(Rc<Cell<usize>>);
    impl Clone for Counted {
        fn clone(&self) -> Self {
            self.0.set(self.0.get() + 1);
            Counted(Rc::clone(&self.0))
        }
    }
    let clones = Rc::new(Cell::new(0));
    let (tx, mut a) = channel(4);
    let mut b = tx.subscribe();
    tx.try_send(Counted(Rc::clone(&clones))).unwrap();
    let _x = a.try_recv().unwrap();
    let _y = b.try_recv().unwrap();
    assert_eq!(clones.get(), 1);
}

#[test]
fn messages_are_dropped_once_and_outside_the_lock() {
    // A message whose drop calls back into the channel would deadlock if
    // it were dropped under the lock.
    struct Reentrant(Option<Sender<Reentrant>>, #[allow(dead_code)] StdArc<()>);
    impl Drop for Reentrant {
        fn drop(&mut self) {
            if let Some(tx) = &self.0 {
                let _ = tx.receiver_count();
            }
        }
    }
    let token = StdArc::new(());
    let tx = Sender::new(1);
    let oldest = tx.subscribe_with(1, Overflow::DropOldest);
    let newest = tx.subscribe_with(1, Overflow::DropNewest);
    let msg = || Reentrant(Some(tx.clone()), StdArc::clone(&token));
    tx.try_send(msg()).unwrap();
    tx.try_send(msg()).unwrap(); // evicts #1 from `oldest`; `newest` keeps #1
    drop(newest); // drops #1 (last reference)
    assert_eq!(StdArc::strong_count(&token), 2);
    drop(oldest); // drops #2
    assert_eq!(StdArc::strong_count(&token), 1);
    // Nobody accepts: the message itself is discarded.
    let full = tx.subscribe_with(1, Overflow::DropNewest);
    tx.try_send(msg()).unwrap();
    tx.try_send(msg()).unwrap();
    assert_eq!(StdArc::strong_count(&token), 2);
    drop(full);
    assert_eq!(StdArc::strong_count(&token), 1);
    assert_eq!(check(&tx), 0);
}

#[test]
fn receiver_is_a_stream_that_ends_at_close() {
    let (tx, rx) = channel(8);
    for i in 0..3 {
        tx.try_send(i).unwrap();
    }
    drop(tx);
    let items: Vec<_> = futures_executor::block_on(rx.collect());
    assert_eq!(items, [Ok(0), Ok(1), Ok(2)]);
}

#[test]
fn stream_yields_disconnected_once_then_ends() {
    use futures_core::FusedStream;
    let tx = Sender::new(8);
    let mut rx = tx.subscribe_with(1, Overflow::Disconnect);
    tx.try_send(1).unwrap();
    tx.try_send(2).unwrap();
    let items: Vec<_> = futures_executor::block_on((&mut rx).collect());
    assert_eq!(items, [Ok(1), Err(RecvError::Disconnected)]);
    assert!(rx.is_terminated());
}

#[test]
fn send_blocking_and_recv_blocking_work_across_threads() {
    let tx = Sender::new(1);
    let mut rx = tx.subscribe_with(1, Overflow::Block);
    let t = std::thread::spawn(move || {
        for i in 0..20 {
            tx.send_blocking(i).unwrap();
        }
    });
    for i in 0..20 {
        assert_eq!(rx.recv_blocking(), Ok(i));
    }
    t.join().unwrap();
    assert_eq!(rx.recv_blocking(), Err(RecvError::Closed));
}

#[test]
#[should_panic(expected = "`capacity` must be at least 1")]
fn zero_capacity_channel_panics() {
    let _ = channel::<u8>(0);
}

#[test]
#[should_panic(expected = "`capacity` must be at least 1")]
fn zero_capacity_subscriber_panics() {
    let tx = Sender::<u8>::new(1);
    let _ = tx.subscribe_with(0, Overflow::Block);
}

#[test]
#[should_panic(expected = "polled after completion")]
fn send_polled_after_completion_panics() {
    let (tx, _rx) = channel(1);
    let mut s = TestTask::new(tx.send(1));
    s.ready().unwrap();
    let _ = s.poll();
}

#[test]
fn debug_output_shows_state() {
    let (tx, rx) = channel::<u8>(2);
    assert_eq!(
        alloc::format!("{tx:?}"),
        "Sender { receivers: 1, full_blocking_receivers: 0, send_waiters: 0 }"
    );
    assert_eq!(
        alloc::format!("{rx:?}"),
        "Receiver { queued: 0, capacity: 2, overflow: DropOldest, disconnected: false }"
    );
    assert!(alloc::format!("{:?}", tx.send(1)).starts_with("Send"));
    assert_eq!(alloc::format!("{:?}", TrySendError::Full(1)), "Full(..)");
}

// Messages are shared between receivers that may clone them at the same
// time on different threads, so the channel crosses threads only when `T`
// is `Send + Sync` (RUSTSEC-2025-0023 is the bug this rules out).
static_assertions::assert_impl_all!(Sender<u8>: Send, Sync);
static_assertions::assert_impl_all!(super::Receiver<u8>: Send, Sync, Unpin);
static_assertions::assert_impl_all!(super::futures::Send<'static, u8>: Send, Sync);
static_assertions::assert_impl_all!(super::futures::Recv<'static, u8>: Send, Sync, Unpin);
static_assertions::assert_not_impl_any!(Sender<Cell<u8>>: Send, Sync);
static_assertions::assert_not_impl_any!(super::Receiver<Cell<u8>>: Send, Sync);
static_assertions::assert_not_impl_any!(super::futures::Send<'static, u8>: Unpin);

// ----- foreign code that misbehaves -----

mod hostile {
    use alloc::vec::Vec;

    use super::{check, Overflow, Sender};
    use crate::util::{
        hostile::{panics, Hostile},
        test::TestTask,
    };

    #[test]
    fn send_wakes_every_subscriber_past_a_panicking_wake() {
        let tx = Sender::new(4);
        let hostile = Hostile::new();
        let mut rxs: Vec<_> = (0..21).map(|_| tx.subscribe()).collect();
        let mut tasks: Vec<_> = rxs.iter_mut().map(|r| TestTask::new(r.recv())).collect();
        assert!(tasks[0].poll_with(&hostile.waker()).is_pending());
        for task in &mut tasks[1..] {
            task.pending();
        }
        hostile.panic_on_wake(true);
        assert!(panics(|| {
            let _ = tx.try_send(7);
        }));
        // Checked before any poll: a poll settles pending wakes itself.
        for task in &tasks[1..] {
            assert!(
                task.is_woken(),
                "a subscriber behind the panicking wake was stranded"
            );
        }
        for task in &mut tasks[1..] {
            assert_eq!(task.ready(), Ok(7));
        }
        drop(tasks);
        assert_eq!(check(&tx), 0);
    }

    /// When the last subscriber leaves, `Sender::closed` waiters are told
    /// and the blocked publishers are woken: a `closed` waiter's wake that
    /// panics does not strand the publishers.
    #[test]
    fn last_subscriber_leaving_wakes_every_publisher_past_a_panicking_closed_wake() {
        let tx = Sender::new(8);
        let rx = tx.subscribe_with(1, super::Overflow::Block);
        tx.try_send(0).unwrap();
        let mut sends: Vec<_> = (1..=20).map(|i| TestTask::new(tx.send(i))).collect();
        for send in &mut sends {
            send.pending();
        }
        let hostile = Hostile::new();
        let mut closed = TestTask::new(tx.closed());
        assert!(closed.poll_with(&hostile.waker()).is_pending());
        hostile.panic_on_wake(true);
        assert!(panics(move || drop(rx)));
        for send in &sends {
            assert!(send.is_woken(), "a publisher was stranded");
        }
        for send in &mut sends {
            assert!(send.ready().is_err(), "nobody to publish to");
        }
        drop(sends);
        closed.ready();
        assert_eq!(check(&tx), 0);
    }

    #[test]
    fn send_whose_waker_clone_panics_leaves_the_channel_unchanged() {
        let tx = Sender::new(1);
        let mut rx = tx.subscribe_with(1, Overflow::Block);
        tx.try_send(1).unwrap(); // the subscriber is full
        let hostile = Hostile::new();
        hostile.panic_on_clone(true);
        let mut send = TestTask::new(tx.send(2));
        assert!(panics(|| {
            let _ = send.poll_with(&hostile.waker());
        }));
        assert_eq!(check(&tx), 0);
        assert_eq!(rx.try_recv(), Ok(1));
        assert_eq!(tx.try_send(3), Ok(()));
        assert_eq!(rx.try_recv(), Ok(3));
        drop(send);
        assert_eq!(check(&tx), 0);
    }

    #[test]
    fn waiting_publishers_never_wake_or_drop_wakers_under_the_lock() {
        let tx = Sender::new(1);
        let mut rx = tx.subscribe_with(1, Overflow::Block);
        tx.try_send(1).unwrap(); // the subscriber is full
        let hostile = Hostile::new();
        let (a, b) = (tx.clone(), tx.clone());
        hostile.on_wake(move || {
            let _ = a.send_waiters();
        });
        hostile.on_drop(move || {
            let _ = b.receiver_count();
        });
        let waker = hostile.waker();
        let mut s1 = TestTask::new(tx.send(2));
        let mut s2 = TestTask::new(tx.send(3));
        assert!(s1.poll_with(&waker).is_pending());
        assert!(s2.poll_with(&waker).is_pending());
        s1.pending(); // the hostile waker is replaced, dropped unlocked
        drop(s2); // dropped while waiting: its message goes with it
        assert_eq!(check(&tx), 1);
        assert_eq!(rx.try_recv(), Ok(1)); // publishes s1's message
        assert_eq!(s1.ready(), Ok(()));
        // A subscriber's waker, replaced, then woken by a send.
        assert_eq!(rx.try_recv(), Ok(2));
        let mut recv = TestTask::new(rx.recv());
        assert!(recv.poll_with(&waker).is_pending());
        recv.pending();
        drop(recv);
        let mut recv = TestTask::new(rx.recv());
        assert!(recv.poll_with(&waker).is_pending());
        tx.try_send(4).unwrap();
        assert!(recv.poll_with(&waker).is_ready());
        drop(recv);
        drop(waker);
        assert!(hostile.wakes() >= 1);
        assert_eq!(hostile.under_lock(), 0);
        assert_eq!(check(&tx), 0);
    }
}

#[test]
fn a_capacity_that_cannot_be_stored_is_rejected_naming_the_argument() {
    for bad in [super::MAX_CAPACITY + 1, 1 + usize::MAX / 2, usize::MAX] {
        let err = std::panic::catch_unwind(|| channel::<u8>(bad)).unwrap_err();
        let msg = err.downcast_ref::<alloc::string::String>().unwrap();
        assert!(msg.contains("`capacity`"), "{msg}");
        let tx = Sender::<u8>::new(1);
        assert!(std::panic::catch_unwind(|| tx.subscribe_with(bad, Overflow::Block)).is_err());
    }
    // The bound itself is accepted (a queue allocates only what it holds).
    let (tx, mut rx) = channel::<u8>(super::MAX_CAPACITY);
    tx.try_send(1).unwrap();
    assert_eq!(rx.try_recv(), Ok(1));
}

#[test]
fn sender_len_counts_what_the_furthest_behind_subscriber_has_not_received() {
    let (tx, mut fast) = channel(4);
    let mut slow = tx.subscribe_with(2, Overflow::DropOldest);
    assert_eq!(tx.len(), 0);
    assert!(tx.is_empty());
    for i in 0..3 {
        tx.try_send(i).unwrap();
    }
    assert_eq!(tx.len(), 3);
    drain(&mut fast);
    assert_eq!(tx.len(), 2, "the slow one kept its newest two");
    drain(&mut slow);
    assert!(tx.is_empty());
    check(&tx);
}

#[test]
fn sender_closed_completes_when_no_subscriber_is_connected() {
    let (tx, rx) = channel::<u8>(2);
    let rx2 = tx.subscribe_with(1, Overflow::Disconnect);
    let mut closed = TestTask::new(tx.closed());
    closed.pending();
    drop(rx);
    assert!(!closed.is_woken(), "one is left");
    closed.pending();
    tx.try_send(1).unwrap();
    tx.try_send(2).unwrap(); // disconnects the last one
    assert!(closed.is_woken());
    assert_eq!(closed.ready(), ());
    drop(rx2);
    // With nobody connected, a new one completes at once; a new subscriber
    // makes it wait again.
    assert_eq!(TestTask::new(tx.closed()).ready(), ());
    let rx3 = tx.subscribe();
    let mut closed = TestTask::new(tx.closed());
    closed.pending();
    drop(rx3);
    assert!(closed.is_woken());
    assert_eq!(closed.ready(), ());
}

/// The last subscriber's drop wakes `closed`; the woken future takes the
/// channel's lock once, to read the count, and nothing else: its wake-up
/// is consumed lock-free, so its drop has nothing to unlink.
#[test]
fn a_woken_sender_closed_takes_only_the_lock_that_reads_the_count() {
    let (tx, rx) = channel::<u8>(2);
    let mut closed = TestTask::new(tx.closed());
    closed.pending();
    drop(rx);
    assert!(closed.is_woken());
    let locks = crate::util::test::locks_taken(move || {
        assert_eq!(closed.ready(), ());
        drop(closed);
    });
    assert_eq!(locks, 1);
}

#[test]
fn a_weak_broadcast_sender_does_not_keep_the_channel_open() {
    let (tx, mut rx) = channel(4);
    let weak = tx.downgrade();
    let weak2 = weak.clone();
    let tx2 = weak.upgrade().unwrap();
    drop(tx);
    tx2.try_send(1).unwrap();
    drop(tx2);
    assert!(weak2.upgrade().is_none());
    assert_eq!(rx.try_recv(), Ok(1));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
}

#[test]
fn statistics_count_backlog_handles_and_waiters() {
    let (tx, mut rx) = channel(4);
    let mut blocker = tx.subscribe_with(1, Overflow::Block);
    let s = tx.statistics();
    assert_eq!((s.len, s.senders, s.receivers), (0, 1, 2));
    assert_eq!(
        (s.send_waiters, s.recv_waiters, s.full_blocking_receivers),
        (0, 0, 0)
    );

    let mut recv = TestTask::new(rx.recv());
    recv.pending();
    assert_eq!(tx.statistics().recv_waiters, 1);
    tx.try_send(1).unwrap();
    assert_eq!(recv.ready(), Ok(1));
    drop(recv);
    assert_eq!(
        tx.statistics().recv_waiters,
        0,
        "a receive that completed stops counting"
    );

    let mut send = TestTask::new(tx.send(2));
    send.pending();
    let tx2 = tx.clone();
    let s = rx.statistics();
    assert_eq!((s.len, s.senders, s.receivers), (1, 2, 2));
    assert_eq!((s.send_waiters, s.full_blocking_receivers), (1, 1));

    assert_eq!(blocker.try_recv(), Ok(1));
    send.ready().unwrap();
    drop(send);
    drop(blocker);
    let s = tx2.statistics();
    assert_eq!(
        (
            s.len,
            s.receivers,
            s.send_waiters,
            s.full_blocking_receivers
        ),
        (1, 1, 0, 0)
    );
    drop((tx, tx2));
    assert_eq!(rx.statistics().senders, 0);
}

#[test]
fn broadcast_errors_read_as_sentences() {
    use alloc::string::ToString;
    assert_eq!(
        RecvError::Lagged(1).to_string(),
        "the receiver fell behind and missed 1 message"
    );
    assert_eq!(
        RecvError::Lagged(2).to_string(),
        "the receiver fell behind and missed 2 messages"
    );
    assert_eq!(
        TryRecvError::Lagged(1).to_string(),
        RecvError::Lagged(1).to_string()
    );
    assert_eq!(
        RecvError::Closed.to_string(),
        "the channel is closed and has no messages left for this receiver"
    );
    assert_eq!(
        RecvError::Disconnected.to_string(),
        "the receiver was disconnected for falling behind and has no messages left"
    );
    assert_eq!(
        TryRecvError::Empty.to_string(),
        "no message is queued for this receiver"
    );
}

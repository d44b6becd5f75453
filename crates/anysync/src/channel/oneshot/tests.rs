//! Hand-polled `oneshot` tests.

mod loom;

use alloc::sync::Arc;
use core::{future::Future, task::Poll};

use futures_core::FusedFuture;
use futures_test::task::new_count_waker;

use super::{channel, RecvError, SendError, TryRecvError};
use crate::util::{
    hostile::{panics, Hostile},
    test::TestTask,
};

/// A value whose drop is visible: it holds a clone of a token `Arc`, so the
/// token's strong count says how many of them are still alive.
#[derive(Debug)]
struct Tracked(#[allow(dead_code)] Arc<()>);

fn tracked() -> (Tracked, Arc<()>) {
    let token = Arc::new(());
    (Tracked(Arc::clone(&token)), token)
}

/// How many `Tracked` values made from `token` have been dropped (0 or 1).
fn drops(token: &Arc<()>) -> usize {
    2 - Arc::strong_count(token)
}

#[test]
fn send_then_await_receives_the_value() {
    let (tx, rx) = channel();
    let mut rx = TestTask::new(rx);
    rx.pending();
    tx.send(7).unwrap();
    assert_eq!(rx.wakes(), 1);
    assert_eq!(rx.ready(), Ok(7));
}

#[test]
fn value_sent_before_the_first_poll_is_ready_at_once() {
    let (tx, rx) = channel();
    tx.send("x").unwrap();
    let mut rx = TestTask::new(rx);
    assert_eq!(rx.ready(), Ok("x"));
    assert_eq!(rx.wakes(), 0);
}

#[test]
fn dropping_the_sender_closes_the_receiver() {
    // Drop the sender -> recv is Err(RecvError).
    let (tx, rx) = channel::<u8>();
    let mut rx = TestTask::new(rx);
    rx.pending();
    drop(tx);
    assert_eq!(rx.wakes(), 1);
    assert_eq!(rx.ready(), Err(RecvError));
}

#[test]
fn dropping_the_receiver_makes_send_return_the_value() {
    // Drop the receiver -> send is Err(value).
    let (tx, rx) = channel();
    assert!(!tx.is_closed());
    drop(rx);
    assert!(tx.is_closed());
    assert_eq!(tx.send(5), Err(SendError(5)));
}

#[test]
fn close_then_send_returns_the_value() {
    // rx.close() then send -> Err(value).
    let (tx, mut rx) = channel();
    rx.close();
    assert!(tx.is_closed());
    assert_eq!(tx.send(5), Err(SendError(5)));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
}

#[test]
fn value_sent_before_close_is_still_received() {
    // A value sent before close() is returned by try_recv.
    let (tx, mut rx) = channel();
    tx.send(9).unwrap();
    rx.close();
    assert_eq!(rx.try_recv(), Ok(9));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
}

#[test]
fn close_with_no_value_completes_a_pending_recv_with_closed() {
    let (_tx, mut rx) = channel::<u8>();
    rx.close();
    assert_eq!(TestTask::new(rx.recv()).ready(), Err(RecvError));
}

#[test]
fn try_recv_reports_empty_then_value_then_closed() {
    let (tx, mut rx) = channel();
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    tx.send(1).unwrap();
    assert_eq!(rx.try_recv(), Ok(1));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
    let (tx, mut rx) = channel::<u8>();
    drop(tx);
    assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
}

#[test]
fn recv_after_the_value_was_taken_is_closed() {
    let (tx, mut rx) = channel();
    tx.send(1).unwrap();
    assert_eq!(TestTask::new(rx.recv()).ready(), Ok(1));
    assert_eq!(TestTask::new(rx.recv()).ready(), Err(RecvError));
}

#[test]
fn dropped_recv_future_loses_nothing() {
    let (tx, mut rx) = channel();
    let mut first = TestTask::new(rx.recv());
    first.pending();
    first.cancel();
    drop(first);
    tx.send(3).unwrap();
    assert_eq!(TestTask::new(rx.recv()).ready(), Ok(3));
}

#[test]
fn closed_completes_when_the_receiver_drops() {
    let (mut tx, rx) = channel::<u8>();
    let mut closed = TestTask::new(tx.closed());
    closed.pending();
    closed.pending(); // spurious polls stay pending
    assert_eq!(closed.wakes(), 0);
    drop(rx);
    assert_eq!(closed.wakes(), 1);
    closed.ready();
}

#[test]
fn closed_completes_on_close_and_at_once_afterwards() {
    let (mut tx, mut rx) = channel::<u8>();
    let mut closed = TestTask::new(tx.closed());
    closed.pending();
    rx.close();
    assert_eq!(closed.wakes(), 1);
    closed.ready();
    drop(closed);
    let mut again = TestTask::new(tx.closed());
    again.ready();
    assert_eq!(again.wakes(), 0);
}

/// Polls a waiting receiver with wakers A and B in `order` (`0` is A,
/// `1` is B), then sends: the waker of the last poll is woken once, the
/// other never.
fn receiver_follows_waker_changes(order: &[usize]) {
    let (tx, rx) = channel();
    let mut rx = TestTask::new(rx);
    let [(a, a_count), (b, b_count)] = [new_count_waker(), new_count_waker()];
    let wakers = [a, b];
    for &i in order {
        assert!(rx.poll_with(&wakers[i]).is_pending());
    }
    tx.send(1).unwrap();
    let last = *order.last().unwrap();
    let woken = [a_count.get(), b_count.get()];
    let mut expected = [0, 0];
    expected[last] = 1;
    assert_eq!(woken, expected, "polled in the order {order:?}");
    assert_eq!(rx.poll_with(&wakers[last]), Poll::Ready(Ok(1)));
}

#[test]
fn receiver_waker_change_is_honoured() {
    // A, then B: B is woken once, A never.
    receiver_follows_waker_changes(&[0, 1]);
}

#[test]
fn receiver_waker_change_back_is_honoured() {
    // A, then B, then A again: the receiver's memory of its stored waker
    // follows each replacement, so the third poll puts A back (a stale
    // memory of A would leave B in the slot).
    receiver_follows_waker_changes(&[0, 1, 0]);
}

#[test]
fn receiver_re_polled_by_the_same_task_is_woken_once_and_lets_go_of_the_waker() {
    let (tx, rx) = channel();
    let mut rx = TestTask::new(rx);
    let hostile = Hostile::new();
    let waker = hostile.waker();
    assert!(rx.poll_with(&waker).is_pending());
    assert!(rx.poll_with(&waker.clone()).is_pending());
    assert!(rx.poll_with(&waker).is_pending());
    // One clone stored by the first poll, one made by the test: the
    // re-polls stored nothing new.
    assert_eq!(hostile.clones(), 2);
    tx.send(1).unwrap();
    assert_eq!(hostile.wakes(), 1);
    // The sender took the stored clone out to wake it, and dropped it.
    assert_eq!(hostile.drops(), 2);
    assert_eq!(rx.poll_with(&waker), Poll::Ready(Ok(1)));
}

#[test]
fn sender_waker_change_is_honoured() {
    let (mut tx, rx) = channel::<u8>();
    let mut closed = TestTask::new(tx.closed());
    let (a, a_count) = new_count_waker();
    let (b, b_count) = new_count_waker();
    assert!(closed.poll_with(&a).is_pending());
    assert!(closed.poll_with(&b).is_pending());
    drop(rx);
    assert_eq!((a_count.get(), b_count.get()), (0, 1));
    assert!(closed.poll_with(&b).is_ready());
}

#[test]
fn sender_drop_does_not_wake_its_own_closed_waiter_twice() {
    // Dropping the sender wakes only the receiver.
    let (tx, rx) = channel::<u8>();
    let mut rx = TestTask::new(rx);
    rx.pending();
    rx.pending();
    drop(tx);
    assert_eq!(rx.wakes(), 1);
}

#[test]
fn value_is_dropped_exactly_once_on_every_path() {
    // Sent, never received: dropped with the receiver.
    let (v, token) = tracked();
    let (tx, rx) = channel();
    tx.send(v).unwrap();
    assert_eq!(drops(&token), 0);
    drop(rx);
    assert_eq!(drops(&token), 1);

    // Receiver gone first: returned to the sender.
    let (v, token) = tracked();
    let (tx, rx) = channel();
    drop(rx);
    let back = tx.send(v).unwrap_err().0;
    assert_eq!(drops(&token), 0);
    drop(back);
    assert_eq!(drops(&token), 1);

    // Received.
    let (v, token) = tracked();
    let (tx, mut rx) = channel();
    tx.send(v).unwrap();
    let got = rx.try_recv().unwrap();
    drop(rx);
    assert_eq!(drops(&token), 0);
    drop(got);
    assert_eq!(drops(&token), 1);

    // Sent before close, never taken: dropped with the receiver.
    let (v, token) = tracked();
    let (tx, mut rx) = channel();
    tx.send(v).unwrap();
    rx.close();
    drop(rx);
    assert_eq!(drops(&token), 1);
}

#[test]
fn receiver_is_fused() {
    let (tx, rx) = channel();
    let mut rx = core::pin::pin!(rx);
    assert!(!rx.is_terminated());
    tx.send(1).unwrap();
    let waker = futures_util::task::noop_waker();
    let mut cx = core::task::Context::from_waker(&waker);
    assert_eq!(rx.as_mut().poll(&mut cx), Poll::Ready(Ok(1)));
    assert!(rx.is_terminated());
}

#[test]
#[should_panic(expected = "polled after completion")]
fn receiver_polled_after_completion_panics() {
    let (tx, rx) = channel();
    tx.send(1).unwrap();
    let mut rx = TestTask::new(rx);
    let _ = rx.ready();
    let _ = rx.poll();
}

#[test]
fn debug_output_never_blocks_and_shows_state() {
    let (tx, rx) = channel::<u8>();
    assert_eq!(alloc::format!("{tx:?}"), "Sender { closed: false }");
    assert!(alloc::format!("{rx:?}").contains("value_ready: false"));
    let mut rx = rx;
    let recv = rx.recv();
    assert!(alloc::format!("{recv:?}").starts_with("Recv"));
    drop(recv);
    drop(rx);
    assert_eq!(alloc::format!("{tx:?}"), "Sender { closed: true }");
    assert_eq!(alloc::format!("{:?}", SendError(1)), "SendError(..)");
}

#[test]
fn recv_blocking_gets_a_value_from_another_thread() {
    let (tx, rx) = channel();
    let t = std::thread::spawn(move || tx.send(11).unwrap());
    assert_eq!(rx.recv_blocking(), Ok(11));
    t.join().unwrap();
}

// One value moves from one task to another: `T: Send` is enough, and
// nothing here is pinned to its place.
static_assertions::assert_impl_all!(super::Sender<core::cell::Cell<u8>>: Send, Sync, Unpin);
static_assertions::assert_impl_all!(super::Receiver<core::cell::Cell<u8>>: Send, Sync, Unpin);
static_assertions::assert_impl_all!(super::futures::Recv<'static, u8>: Send, Unpin);
static_assertions::assert_not_impl_any!(super::Receiver<alloc::rc::Rc<u8>>: Send, Sync);

#[test]
fn a_receiver_whose_value_was_taken_by_try_recv_is_terminated() {
    let (tx, mut rx) = channel();
    tx.send(5).unwrap();
    assert!(!rx.is_terminated());
    assert_eq!(rx.try_recv(), Ok(5));
    assert!(rx.is_terminated(), "select! must skip it now");
    assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
}

#[test]
#[should_panic(expected = "polled after completion")]
fn polling_a_receiver_after_try_recv_took_the_value_panics() {
    let (tx, mut rx) = channel();
    tx.send(5).unwrap();
    assert_eq!(rx.try_recv(), Ok(5));
    let (waker, _) = new_count_waker();
    let _ = core::pin::Pin::new(&mut rx).poll(&mut core::task::Context::from_waker(&waker));
}

#[test]
fn a_receiver_with_nothing_taken_by_try_recv_is_not_terminated() {
    let (tx, mut rx) = channel::<u8>();
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    assert!(!rx.is_terminated());
    drop(tx);
    assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
    assert!(!rx.is_terminated(), "awaiting it still reports the error");
    assert_eq!(TestTask::new(&mut rx).ready(), Err(RecvError));
}

#[test]
fn receiver_is_empty_until_a_value_arrives_and_again_once_it_is_taken() {
    let (tx, mut rx) = channel();
    assert!(rx.is_empty());
    tx.send(1).unwrap();
    assert!(!rx.is_empty());
    assert_eq!(rx.try_recv(), Ok(1));
    assert!(rx.is_empty());
    let (tx, rx) = channel::<u8>();
    drop(tx);
    assert!(rx.is_empty());
}

#[test]
fn a_wake_that_panics_in_send_still_delivers_the_value() {
    let (tx, rx) = channel();
    let hostile = Hostile::new();
    hostile.panic_on_wake(true);
    let mut rx = TestTask::new(rx);
    assert!(rx.poll_with(&hostile.waker()).is_pending());
    assert!(panics(move || {
        let _ = tx.send(4);
    }));
    assert_eq!(hostile.wakes(), 1);
    assert_eq!(rx.ready(), Ok(4));
}

#[test]
fn a_wake_that_panics_in_a_receiver_drop_still_closes() {
    let (mut tx, rx) = channel::<u8>();
    let hostile = Hostile::new();
    hostile.panic_on_wake(true);
    let mut closed = TestTask::new(tx.closed());
    assert!(closed.poll_with(&hostile.waker()).is_pending());
    assert!(panics(move || drop(rx)));
    assert_eq!(hostile.wakes(), 1);
    closed.ready();
    drop(closed);
    assert!(tx.is_closed());
    assert_eq!(tx.send(2), Err(SendError(2)));
}

#[test]
fn a_waker_clone_that_panics_leaves_the_receiver_as_it_was() {
    let (tx, rx) = channel();
    let hostile = Hostile::new();
    hostile.panic_on_clone(true);
    let mut rx = TestTask::new(rx);
    // Registering clones: nothing is stored.
    assert!(panics(|| {
        let _ = rx.poll_with(&hostile.waker());
    }));
    rx.pending();
    // Replacing the stored waker clones: the old one is kept.
    assert!(panics(|| {
        let _ = rx.poll_with(&hostile.waker());
    }));
    tx.send(8).unwrap();
    assert_eq!(rx.wakes(), 1, "the waker from before the panic is kept");
    assert_eq!(rx.ready(), Ok(8));
}

#[test]
fn a_replaced_waker_whose_drop_re_enters_and_panics_leaves_it_whole() {
    let (tx, rx) = channel();
    let rx = Arc::new(std::sync::Mutex::new(TestTask::new(rx)));
    let hostile = Hostile::new();
    let probe = Arc::clone(&rx);
    // The old waker's drop runs inside the poll that replaces it: the
    // receiver is borrowed there, so the hook only checks it cannot get it.
    hostile.on_drop(move || assert!(probe.try_lock().is_err()));
    assert!(rx.lock().unwrap().poll_with(&hostile.waker()).is_pending());
    let (other, count) = futures_test::task::new_count_waker();
    assert!(rx.lock().unwrap().poll_with(&other).is_pending());
    assert!(hostile.drops() >= 1);
    tx.send(6).unwrap();
    assert_eq!(count.get(), 1);
    assert_eq!(rx.lock().unwrap().ready(), Ok(6));
}

#[test]
fn a_wake_that_re_enters_the_receiver_finds_the_value() {
    let (tx, rx) = channel();
    let rx = Arc::new(std::sync::Mutex::new(rx));
    let got = Arc::new(std::sync::Mutex::new(None));
    let hostile = Hostile::new();
    let (probe, out) = (Arc::clone(&rx), Arc::clone(&got));
    hostile.on_wake(move || *out.lock().unwrap() = Some(probe.lock().unwrap().try_recv()));
    {
        let mut guard = rx.lock().unwrap();
        let waker = hostile.waker();
        let mut cx = core::task::Context::from_waker(&waker);
        assert!(core::pin::Pin::new(&mut *guard).poll(&mut cx).is_pending());
    }
    tx.send(9).unwrap();
    assert_eq!(*got.lock().unwrap(), Some(Ok(9)));
    assert!(rx.lock().unwrap().is_terminated());
}

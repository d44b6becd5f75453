//! Hand-polled tests of the `bounded`/`unbounded` handles: counting and
//! closing, `Stream`, `Sink` (the engine itself is tested in
//! `queue/tests.rs`).

use alloc::{sync::Arc, vec::Vec};
use core::{
    pin::Pin,
    sync::atomic::{AtomicUsize, Ordering},
    task::{Context, Poll},
};

use futures_core::{FusedStream, Stream};
use futures_sink::Sink;
use futures_test::task::new_count_waker;

use crate::{
    chan::Stats,
    channel::{self, oneshot, RecvError, SendError, TryRecvError, TrySendError},
    util::test::TestTask,
};

#[track_caller]
fn assert_quiet(s: Stats) {
    assert_eq!(
        (
            s.send_waiters,
            s.recv_waiters,
            s.slots_reserved,
            s.items_reserved
        ),
        (0, 0, 0, 0),
        "{s:?}"
    );
}

#[derive(Debug)]
struct DropCount(Arc<AtomicUsize>);

impl Drop for DropCount {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

#[test]
fn channel_dropping_every_sender_closes_and_receivers_drain() {
    let (tx, rx) = channel::bounded(4);
    let tx2 = tx.clone();
    assert_eq!(tx.sender_count(), 2);
    tx.try_send(1).unwrap();
    drop(tx);
    assert!(!rx.is_closed());
    tx2.try_send(2).unwrap();
    let mut waiting = TestTask::new(rx.recv());
    assert_eq!(waiting.ready(), Ok(1));
    drop(tx2);
    assert!(rx.is_closed());
    assert_eq!(rx.try_recv(), Ok(2));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
    assert_eq!(TestTask::new(rx.recv()).ready(), Err(RecvError));
}

#[test]
fn channel_last_sender_dropped_wakes_waiting_receivers() {
    let (tx, rx) = channel::bounded::<u8>(1);
    let rx2 = rx.clone();
    let mut r1 = TestTask::new(rx.recv());
    let mut r2 = TestTask::new(rx2.recv());
    r1.pending();
    r2.pending();
    drop(tx);
    assert_eq!((r1.wakes(), r2.wakes()), (1, 1));
    assert_eq!(r1.ready(), Err(RecvError));
    assert_eq!(r2.ready(), Err(RecvError));
    assert_quiet(rx.stats());
}

#[test]
fn channel_dropping_every_receiver_fails_senders_with_their_value() {
    let (tx, rx) = channel::bounded(1);
    let rx2 = rx.clone();
    tx.try_send(1).unwrap();
    let mut s = TestTask::new(tx.send(2));
    s.pending();
    drop(rx);
    assert_eq!(s.wakes(), 0);
    drop(rx2);
    assert_eq!(s.wakes(), 1);
    assert_eq!(s.ready(), Err(SendError(2)));
    assert_eq!(tx.try_send(3), Err(TrySendError::Closed(3)));
    assert_eq!(TestTask::new(tx.send(4)).ready(), Err(SendError(4)));
    assert_eq!(tx.receiver_count(), 0);
    assert_quiet(tx.stats());
}

#[test]
fn channel_values_left_when_the_last_receiver_goes_are_dropped_then_once() {
    let drops = Arc::new(AtomicUsize::new(0));
    let (tx, rx) = channel::unbounded();
    let rx2 = rx.clone();
    for _ in 0..3 {
        tx.try_send(DropCount(drops.clone())).unwrap();
    }
    drop(rx);
    assert_eq!(drops.load(Ordering::SeqCst), 0, "a receiver is left");
    drop(rx2);
    assert_eq!(
        drops.load(Ordering::SeqCst),
        3,
        "dropped with the last receiver"
    );
    assert_eq!(tx.len(), 0);
    assert!(tx.is_closed());
    drop(tx);
    assert_eq!(drops.load(Ordering::SeqCst), 3, "each exactly once");
}

#[test]
fn channel_close_from_either_side() {
    let (tx, rx) = channel::bounded(2);
    tx.try_send(1).unwrap();
    assert!(tx.close());
    assert!(!rx.close());
    assert_eq!(tx.try_send(2), Err(TrySendError::Closed(2)));
    assert_eq!(rx.try_recv(), Ok(1));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
}

#[test]
fn channel_inspection() {
    let (tx, rx) = channel::bounded::<u8>(3);
    assert_eq!(tx.capacity(), Some(3));
    assert!(rx.is_empty() && !rx.is_full());
    tx.try_send(1).unwrap();
    assert_eq!(rx.len(), 1);
    assert!(tx.same_channel(&tx.clone()));
    let (tx_other, _rx_other) = channel::unbounded::<u8>();
    assert!(!tx.same_channel(&tx_other));
    assert_eq!(tx_other.capacity(), None);
    let mut r = TestTask::new(rx.recv());
    r.ready().unwrap();
    let mut r = TestTask::new(rx.recv());
    r.pending();
    assert_eq!(rx.recv_waiters(), 1);
    assert_eq!(tx.send_waiters(), 0);
    let dbg = alloc::format!("{tx:?} {rx:?}");
    assert!(
        dbg.contains("Sender") && dbg.contains("recv_waiters: 1"),
        "{dbg}"
    );
}

#[test]
#[should_panic(
    expected = "channel::bounded: `capacity` must be greater than zero (use channel::unbounded()"
)]
fn channel_bounded_zero_panics() {
    let _ = channel::bounded::<u8>(0);
}

// ----- Stream -----

fn poll_next<S: Stream + Unpin>(s: &mut S, cx: &mut Context<'_>) -> Poll<Option<S::Item>> {
    Pin::new(s).poll_next(cx)
}

#[test]
fn receiver_stream_yields_values_then_ends() {
    let (waker, count) = new_count_waker();
    let mut cx = Context::from_waker(&waker);
    let (tx, mut rx) = channel::bounded(2);
    tx.try_send(1).unwrap();
    assert_eq!(poll_next(&mut rx, &mut cx), Poll::Ready(Some(1)));
    assert_eq!(poll_next(&mut rx, &mut cx), Poll::Pending);
    assert_eq!(rx.recv_waiters(), 1);
    tx.try_send(2).unwrap();
    assert_eq!(count.get(), 1);
    assert_eq!(poll_next(&mut rx, &mut cx), Poll::Ready(Some(2)));
    // The boxed waiter is reused for the next wait.
    assert_eq!(poll_next(&mut rx, &mut cx), Poll::Pending);
    drop(tx);
    assert_eq!(count.get(), 2);
    assert!(!rx.is_terminated());
    assert_eq!(poll_next(&mut rx, &mut cx), Poll::Ready(None));
    assert!(rx.is_terminated());
    assert_eq!(poll_next(&mut rx, &mut cx), Poll::Ready(None));
    assert_quiet(rx.stats());
}

#[test]
fn dropped_stream_receiver_passes_its_promised_value_on() {
    let (waker, _count) = new_count_waker();
    let mut cx = Context::from_waker(&waker);
    let (tx, mut rx1) = channel::unbounded();
    let rx2 = rx1.clone();
    assert_eq!(poll_next(&mut rx1, &mut cx), Poll::Pending);
    let mut r2 = TestTask::new(rx2.recv());
    r2.pending();
    tx.try_send(7).unwrap(); // promised to rx1's stream waiter
    assert_eq!(r2.wakes(), 0);
    drop(rx1);
    assert_eq!(r2.wakes(), 1);
    assert_eq!(r2.ready(), Ok(7));
    assert_quiet(tx.stats());
}

#[test]
fn receiver_stream_collects_with_futures_util() {
    use futures_util::StreamExt;

    let (tx, rx) = channel::bounded(3);
    let producer = async move {
        for i in 0..10 {
            tx.send(i).await.unwrap();
        }
    };
    let (_, got) =
        futures_executor::block_on(futures_util::future::join(producer, rx.collect::<Vec<_>>()));
    assert_eq!(got, (0..10).collect::<Vec<_>>());
}

// ----- Sink -----

#[test]
fn send_sink_waits_for_room_and_keeps_one_value() {
    let (waker, count) = new_count_waker();
    let mut cx = Context::from_waker(&waker);
    let (tx, rx) = channel::bounded(1);
    let mut sink = tx.into_sink();
    let mut s = Pin::new(&mut sink);
    assert!(s.as_mut().poll_ready(&mut cx).is_ready());
    s.as_mut().start_send(1).unwrap();
    assert!(
        s.as_mut().poll_ready(&mut cx).is_ready(),
        "1 went straight in"
    );
    s.as_mut().start_send(2).unwrap(); // full: kept by the sink
    assert!(s.as_mut().poll_ready(&mut cx).is_pending());
    assert!(s.as_mut().poll_flush(&mut cx).is_pending());
    assert_eq!(rx.try_recv(), Ok(1));
    assert_eq!(count.get(), 1);
    assert_eq!(s.as_mut().poll_flush(&mut cx), Poll::Ready(Ok(())));
    assert_eq!(rx.try_recv(), Ok(2));
    assert_eq!(s.as_mut().poll_close(&mut cx), Poll::Ready(Ok(())));
    assert!(sink.sender().is_none());
    assert!(rx.is_closed(), "closing the sink dropped the last sender");
    assert_eq!(Pin::new(&mut sink).start_send(3), Err(SendError(3)));
    assert_quiet(rx.stats());
}

#[test]
fn send_sink_hands_the_value_back_when_the_channel_closes() {
    let (waker, _count) = new_count_waker();
    let mut cx = Context::from_waker(&waker);
    let (tx, rx) = channel::bounded(1);
    let mut sink = tx.clone().into_sink();
    tx.try_send(0).unwrap();
    let mut s = Pin::new(&mut sink);
    s.as_mut().start_send(1).unwrap();
    assert!(s.as_mut().poll_ready(&mut cx).is_pending());
    drop(rx);
    assert_eq!(
        s.as_mut().poll_ready(&mut cx),
        Poll::Ready(Err(SendError(1)))
    );
    assert_eq!(s.as_mut().start_send(2), Err(SendError(2)));
}

#[test]
fn dropped_send_sink_passes_its_promised_slot_on() {
    let (waker, _count) = new_count_waker();
    let mut cx = Context::from_waker(&waker);
    let (tx, rx) = channel::bounded(1);
    tx.try_send(0).unwrap();
    let mut sink = tx.clone().into_sink();
    Pin::new(&mut sink).start_send(1).unwrap();
    assert!(Pin::new(&mut sink).poll_ready(&mut cx).is_pending());
    let mut other = TestTask::new(tx.send(2));
    other.pending();
    assert_eq!(rx.try_recv(), Ok(0)); // the slot is promised to the sink
    drop(sink);
    assert_eq!(other.wakes(), 1);
    other.ready().unwrap();
    assert_eq!(rx.try_recv(), Ok(2));
    assert_quiet(rx.stats());
}

#[test]
#[should_panic(expected = "SendSink::start_send called without a successful poll_ready")]
fn send_sink_start_send_without_poll_ready_panics() {
    let (tx, _rx) = channel::bounded(1);
    tx.try_send(0).unwrap();
    let mut sink = tx.into_sink();
    Pin::new(&mut sink).start_send(1).unwrap();
    let _ = Pin::new(&mut sink).start_send(2);
}

#[test]
fn blocking_send_and_recv_across_threads() {
    let (tx, rx) = channel::bounded(2);
    let producers: Vec<_> = (0..3)
        .map(|p| {
            let tx = tx.clone();
            std::thread::spawn(move || {
                for i in 0..100 {
                    tx.send_blocking(p * 1000 + i).unwrap();
                }
            })
        })
        .collect();
    drop(tx);
    let consumers: Vec<_> = (0..2)
        .map(|_| {
            let rx = rx.clone();
            std::thread::spawn(move || {
                let mut got = Vec::new();
                while let Ok(v) = rx.recv_blocking() {
                    got.push(v);
                }
                got
            })
        })
        .collect();
    drop(rx);
    for p in producers {
        p.join().unwrap();
    }
    let mut all: Vec<_> = consumers
        .into_iter()
        .flat_map(|c| c.join().unwrap())
        .collect();
    all.sort_unstable();
    let mut expected: Vec<_> = (0..3)
        .flat_map(|p| (0..100).map(move |i| p * 1000 + i))
        .collect();
    expected.sort_unstable();
    assert_eq!(all, expected);
}

#[test]
fn channel_auto_traits() {
    use static_assertions::{assert_impl_all, assert_not_impl_any};

    use crate::channel::{futures, Receiver, SendSink, Sender};

    assert_impl_all!(Sender<u8>: Send, Sync, Unpin, Clone);
    assert_impl_all!(Receiver<u8>: Send, Sync, Unpin, Clone);
    assert_impl_all!(SendSink<u8>: Send, Sync, Unpin);
    assert_impl_all!(futures::Send<'static, u8>: Send, Sync);
    assert_impl_all!(futures::Recv<'static, u8>: Send, Sync);
    assert_not_impl_any!(futures::Recv<'static, u8>: Unpin);
    assert_not_impl_any!(Sender<alloc::rc::Rc<u8>>: Send, Sync);
}

// ----- foreign code that misbehaves -----

mod hostile {
    use alloc::{format, vec::Vec};
    use core::{
        future::Future,
        pin::{pin, Pin},
        task::{Context, Poll},
    };

    use futures_core::{FusedFuture, Stream};
    use futures_sink::Sink;
    use futures_test::task::new_count_waker;
    use futures_util::FutureExt;

    use super::assert_quiet;
    use crate::{
        channel::{self, RecvError, TrySendError},
        util::{
            hostile::{panics, Hostile},
            test::TestTask,
        },
    };

    #[test]
    fn bounded_send_whose_waker_clone_panics_loses_no_slot() {
        let (tx, rx) = channel::bounded(1);
        tx.try_send(1).unwrap();
        let hostile = Hostile::new();
        hostile.panic_on_clone(true);
        let mut send = TestTask::new(tx.send(2));
        assert!(panics(|| {
            let _ = send.poll_with(&hostile.waker());
        }));
        assert_quiet(rx.stats());
        drop(send);
        assert_eq!(rx.try_recv(), Ok(1));
        assert_eq!(tx.try_send(3), Ok(()));
        assert_quiet(rx.stats());
    }

    #[test]
    fn bounded_to_usize_max_is_bounded() {
        let (tx, rx) = channel::bounded::<u8>(usize::MAX);
        assert_eq!(tx.capacity(), Some(usize::MAX));
        assert_eq!(rx.capacity(), Some(usize::MAX));
        let dbg = format!("{tx:?}");
        assert!(dbg.contains(&format!("capacity: {}", usize::MAX)), "{dbg}");
        let (tx, _rx) = channel::unbounded::<u8>();
        assert_eq!(tx.capacity(), None);
        assert!(!format!("{tx:?}").contains("capacity"));
    }

    #[test]
    fn close_wakes_every_receiver_past_a_panicking_wake() {
        let (tx, rx) = channel::bounded::<u8>(1);
        let hostile = Hostile::new();
        let mut first = TestTask::new(rx.recv());
        assert!(first.poll_with(&hostile.waker()).is_pending());
        let mut rest: Vec<_> = (0..20).map(|_| TestTask::new(rx.recv())).collect();
        for recv in &mut rest {
            recv.pending();
        }
        hostile.panic_on_wake(true);
        assert!(panics(|| {
            tx.close();
        }));
        for recv in &mut rest {
            assert!(
                recv.is_woken(),
                "a receiver behind the panicking wake was stranded"
            );
            assert_eq!(recv.ready(), Err(RecvError));
        }
        drop(first);
        assert_quiet(rx.stats());
    }

    #[test]
    fn close_wakes_every_sender_past_a_panicking_wake() {
        let (tx, rx) = channel::bounded(1);
        tx.try_send(0).unwrap();
        let hostile = Hostile::new();
        let mut first = TestTask::new(tx.send(1));
        assert!(first.poll_with(&hostile.waker()).is_pending());
        let mut rest: Vec<_> = (0..20).map(|i| TestTask::new(tx.send(i + 2))).collect();
        for send in &mut rest {
            send.pending();
        }
        hostile.panic_on_wake(true);
        assert!(panics(|| {
            rx.close();
        }));
        for (i, send) in rest.iter_mut().enumerate() {
            assert!(
                send.is_woken(),
                "a sender behind the panicking wake was stranded"
            );
            assert_eq!(send.ready().unwrap_err().0, i + 2);
        }
        drop(first);
        assert_quiet(rx.stats());
    }

    #[test]
    fn send_cancel_hands_the_value_back_and_the_slot_on() {
        let (tx, rx) = channel::bounded(1);
        tx.try_send(1).unwrap();
        let (waker, _) = new_count_waker();
        let mut cx = Context::from_waker(&waker);
        let mut s1 = pin!(tx.send(2));
        let mut s2 = TestTask::new(tx.send(3));
        assert!(s1.as_mut().poll(&mut cx).is_pending());
        s2.pending();
        assert_eq!(rx.try_recv(), Ok(1)); // the slot goes to s1
        assert_eq!(s1.as_mut().cancel(), Some(2));
        assert!(s1.is_terminated());
        assert!(s2.is_woken(), "the granted slot was not passed on");
        assert_eq!(s2.ready(), Ok(()));
        assert_eq!(rx.try_recv(), Ok(3));
        assert_eq!(s1.as_mut().cancel(), None);
        assert_eq!(pin!(tx.send(4)).cancel(), Some(4));
        let mut sent = pin!(tx.send(5));
        assert_eq!(sent.as_mut().now_or_never(), Some(Ok(())));
        assert_eq!(sent.cancel(), None);
        assert_eq!(rx.try_recv(), Ok(5));
        assert_quiet(rx.stats());
    }

    #[test]
    fn stream_and_sink_waiters_never_wake_or_drop_under_the_lock() {
        let (tx, rx) = channel::bounded::<u32>(1);
        let hostile = Hostile::new();
        let (a, b) = (tx.clone(), tx.clone());
        hostile.on_wake(move || {
            let _ = a.len();
        });
        hostile.on_drop(move || {
            let _ = b.is_full();
        });
        let waker = hostile.waker();
        let mut cx = Context::from_waker(&waker);

        // A receiver waiting as a stream, woken with a value, then a
        // second one dropped while waiting.
        let mut r1 = rx.clone();
        let mut r2 = rx.clone();
        assert!(Pin::new(&mut r1).poll_next(&mut cx).is_pending());
        assert!(Pin::new(&mut r2).poll_next(&mut cx).is_pending());
        tx.try_send(1).unwrap(); // granted to r1
        assert_eq!(Pin::new(&mut r1).poll_next(&mut cx), Poll::Ready(Some(1)));
        drop(r2);

        // A sink waiting for room, then dropped with its value after the
        // slot was granted (the slot passes on to the sink behind it).
        tx.try_send(2).unwrap();
        let mut sink1 = tx.clone().into_sink();
        let mut sink2 = tx.clone().into_sink();
        Pin::new(&mut sink1).start_send(3).unwrap();
        Pin::new(&mut sink2).start_send(4).unwrap();
        assert!(Pin::new(&mut sink1).poll_flush(&mut cx).is_pending());
        assert!(Pin::new(&mut sink2).poll_flush(&mut cx).is_pending());
        assert_eq!(rx.try_recv(), Ok(2)); // the slot goes to sink1
        drop(sink1); // and on to sink2
        assert!(matches!(
            Pin::new(&mut sink2).poll_flush(&mut cx),
            Poll::Ready(Ok(()))
        ));
        assert_eq!(rx.try_recv(), Ok(4));
        drop((sink2, r1, cx));
        drop(waker);

        assert!(hostile.wakes() >= 2);
        assert_eq!(hostile.under_lock(), 0);
        assert_quiet(rx.stats());
        assert_eq!(tx.try_send(5), Ok(()));
        assert!(matches!(tx.try_send(6), Err(TrySendError::Full(6))));
    }

    /// `Sender::closed` waits on its own event, set after the engine is
    /// closed: a receiver's wake that panics in the close does not skip it.
    #[test]
    fn close_whose_wake_panics_still_completes_closed() {
        let (tx, rx) = channel::bounded::<u8>(1);
        let hostile = Hostile::new();
        let mut recv = TestTask::new(rx.recv());
        assert!(recv.poll_with(&hostile.waker()).is_pending());
        let mut closed = TestTask::new(tx.closed());
        closed.pending();
        hostile.panic_on_wake(true);
        assert!(panics(|| {
            tx.close();
        }));
        assert!(closed.is_woken());
        closed.ready();
        TestTask::new(tx.closed()).ready();
        drop(recv);
    }

    /// The last receiver's drop closes, sets `closed` and drops what is
    /// buffered: a sender's wake that panics in the close skips neither.
    #[test]
    fn last_receiver_drop_whose_wake_panics_still_completes_closed_and_drops_the_buffer() {
        let (tx, rx) = channel::bounded(1);
        let item = alloc::sync::Arc::new(());
        tx.try_send(alloc::sync::Arc::clone(&item)).unwrap();
        let hostile = Hostile::new();
        let mut send = TestTask::new(tx.send(alloc::sync::Arc::clone(&item)));
        assert!(send.poll_with(&hostile.waker()).is_pending());
        let mut closed = TestTask::new(tx.closed());
        closed.pending();
        hostile.panic_on_wake(true);
        assert!(panics(|| drop(rx)));
        assert!(closed.is_woken());
        closed.ready();
        assert!(send.ready().is_err());
        assert_eq!(
            alloc::sync::Arc::strong_count(&item),
            1,
            "the buffer was dropped"
        );
    }
}

// ----- dropping the last receiver drops what is buffered -----

/// A request carrying the handle its answer goes back on.
struct Request {
    #[allow(dead_code)] // only ever dropped here
    reply: oneshot::Sender<u32>,
}

#[test]
fn requester_learns_at_once_that_the_worker_dropped_its_receiver() {
    let (tx, worker_rx) = channel::bounded::<Request>(4);
    let (reply, mut answer) = oneshot::channel();
    tx.try_send(Request { reply }).unwrap();
    let mut waiting = TestTask::new(&mut answer);
    waiting.pending();
    // The worker goes away without handling the request.
    drop(worker_rx);
    assert!(waiting.is_woken(), "the requester is woken");
    assert_eq!(waiting.ready(), Err(RecvError));
    assert!(tx.is_closed());
}

/// Panics when dropped, after counting itself.
struct PanicOnDrop(Arc<AtomicUsize>);

impl Drop for PanicOnDrop {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
        panic!("a value's drop panicked");
    }
}

enum Value {
    Fine(#[allow(dead_code)] DropCount),
    Bad(#[allow(dead_code)] PanicOnDrop),
}

#[test]
fn a_buffered_value_whose_drop_panics_does_not_keep_the_others_from_being_dropped() {
    let drops = Arc::new(AtomicUsize::new(0));
    let (tx, rx) = channel::bounded(8);
    tx.try_send(Value::Fine(DropCount(drops.clone()))).unwrap();
    tx.try_send(Value::Bad(PanicOnDrop(drops.clone()))).unwrap();
    tx.try_send(Value::Bad(PanicOnDrop(drops.clone()))).unwrap();
    tx.try_send(Value::Fine(DropCount(drops.clone()))).unwrap();
    let mut reserve = TestTask::new(tx.reserve_many(5));
    reserve.pending();
    let caught = std::panic::catch_unwind(core::panic::AssertUnwindSafe(|| drop(rx)));
    assert!(
        caught.is_err(),
        "the first panic reaches the receiver's drop"
    );
    assert_eq!(drops.load(Ordering::SeqCst), 4, "every value was dropped");
    assert_eq!(tx.len(), 0);
    // Nothing is stranded: the waiting reserve and new sends learn it is closed.
    assert!(reserve.is_woken());
    assert!(reserve.ready().is_err());
    assert!(tx.try_send(Value::Fine(DropCount(drops.clone()))).is_err());
    assert_quiet(tx.stats());
}

#[test]
fn a_receiver_dropped_while_unwinding_with_a_panicking_value_does_not_abort() {
    let drops = Arc::new(AtomicUsize::new(0));
    let (tx, rx) = channel::unbounded();
    tx.try_send(PanicOnDrop(drops.clone())).unwrap();
    tx.try_send(PanicOnDrop(drops.clone())).unwrap();
    let caught = std::panic::catch_unwind(core::panic::AssertUnwindSafe(move || {
        let _rx = rx;
        panic!("the task failed");
    }));
    let payload = caught.expect_err("the task's own panic comes out");
    assert_eq!(payload.downcast_ref::<&str>(), Some(&"the task failed"));
    assert_eq!(drops.load(Ordering::SeqCst), 2);
    assert!(tx.is_closed());
}

// ----- reserve, reserve_many, permits -----

#[test]
fn reserve_waits_in_line_and_its_permit_sends_without_waiting() {
    let (tx, rx) = channel::bounded(1);
    tx.try_send(1).unwrap();
    let mut reserve = TestTask::new(tx.reserve());
    reserve.pending();
    let mut send = TestTask::new(tx.send(3));
    send.pending();
    assert_eq!(rx.try_recv(), Ok(1));
    assert!(reserve.is_woken(), "the first in line gets the slot");
    assert!(!send.is_woken());
    let permit = reserve.ready().unwrap();
    assert_eq!(
        tx.try_send(9),
        Err(TrySendError::Full(9)),
        "the slot is held"
    );
    permit.send(2).unwrap();
    assert_eq!(rx.try_recv(), Ok(2));
    assert!(send.is_woken());
    assert_eq!(send.ready(), Ok(()));
    assert_eq!(rx.try_recv(), Ok(3));
    assert_quiet(tx.stats());
}

/// The only waiter, a reserve woken with a slot, completes without a lock,
/// and its permit sends without one; granted and then closed before it
/// runs, it reports the close and the slot is free again.
#[test]
fn a_woken_reserve_and_its_permit_take_no_lock_unless_closed() {
    let (tx, rx) = channel::bounded(1);
    tx.try_send(1).unwrap();
    let mut reserve = TestTask::new(tx.reserve());
    reserve.pending();
    assert_eq!(rx.try_recv(), Ok(1));
    assert!(reserve.is_woken());
    let locks = crate::util::test::locks_taken(move || {
        let permit = reserve.ready().unwrap();
        permit.send(2).unwrap();
    });
    assert_eq!(locks, 0);
    assert_eq!(rx.try_recv(), Ok(2));
    assert_quiet(tx.stats());

    tx.try_send(3).unwrap();
    let mut reserve = TestTask::new(tx.reserve());
    reserve.pending();
    assert_eq!(rx.try_recv(), Ok(3));
    assert!(reserve.is_woken());
    drop(rx);
    assert!(matches!(reserve.ready(), Err(SendError(()))));
    assert_quiet(tx.stats());
}

/// Reserves that complete without a lock still give back what they do not
/// use: a permit dropped unused, and one slot of two reserved together.
#[test]
fn lock_free_reserves_give_back_the_slots_they_do_not_use() {
    let (tx, rx) = channel::bounded(2);
    tx.try_send(1).unwrap();
    tx.try_send(2).unwrap();
    let mut one = TestTask::new(tx.reserve());
    one.pending();
    assert_eq!(rx.try_recv(), Ok(1));
    assert!(one.is_woken());
    let mut permit = None;
    let locks = crate::util::test::locks_taken(|| permit = Some(one.ready().unwrap()));
    assert_eq!(locks, 0);
    drop(permit);
    assert_eq!(rx.try_recv(), Ok(2));
    assert_eq!(tx.try_send(3), Ok(()), "the unused slot is free");
    assert_eq!(rx.try_recv(), Ok(3));
    assert_quiet(tx.stats());

    tx.try_send(4).unwrap();
    tx.try_send(5).unwrap();
    let mut two = TestTask::new(tx.reserve_many(2));
    two.pending();
    assert_eq!(rx.try_recv(), Ok(4));
    assert!(!two.is_woken(), "one of two slots is not enough");
    assert_eq!(rx.try_recv(), Ok(5));
    assert!(two.is_woken());
    let mut permits = None;
    let locks = crate::util::test::locks_taken(|| permits = Some(two.ready().unwrap()));
    assert_eq!(locks, 0);
    let mut permits = permits.unwrap();
    assert_eq!(permits.len(), 2);
    permits.send(5).unwrap();
    drop(permits);
    assert_eq!(rx.try_recv(), Ok(5));
    assert_eq!(tx.try_send(6), Ok(()));
    assert_eq!(tx.try_send(7), Ok(()), "the unused slot is free");
    assert_eq!((rx.try_recv(), rx.try_recv()), (Ok(6), Ok(7)));
    assert_quiet(tx.stats());
}

#[test]
fn a_permit_dropped_unused_gives_its_slot_to_the_waiting_sender() {
    let (tx, rx) = channel::bounded(1);
    let permit = tx.try_reserve().unwrap();
    let mut send = TestTask::new(tx.send(7));
    send.pending();
    drop(permit);
    assert!(send.is_woken());
    assert_eq!(send.ready(), Ok(()));
    assert_eq!(rx.try_recv(), Ok(7));
    assert_quiet(tx.stats());
}

#[test]
fn a_reserve_dropped_after_it_was_granted_passes_the_slot_on() {
    let (tx, rx) = channel::bounded(1);
    tx.try_send(0).unwrap();
    let mut first = TestTask::new(tx.reserve());
    first.pending();
    let mut second = TestTask::new(tx.reserve());
    second.pending();
    assert_eq!(rx.try_recv(), Ok(0));
    assert!(first.is_woken());
    first.cancel();
    assert!(second.is_woken(), "the slot goes to the next in line");
    second.ready().unwrap().send(5).unwrap();
    assert_eq!(rx.try_recv(), Ok(5));
    assert_quiet(tx.stats());
}

#[test]
fn reserve_many_sets_freed_slots_aside_until_it_has_them_all() {
    let (tx, rx) = channel::bounded(3);
    for i in 0..3 {
        tx.try_send(i).unwrap();
    }
    let mut many = TestTask::new(tx.reserve_many(2));
    many.pending();
    let mut later = TestTask::new(tx.send(9));
    later.pending();
    assert_eq!(rx.try_recv(), Ok(0));
    assert!(!many.is_woken(), "one of two slots is not enough");
    assert!(!later.is_woken(), "nobody overtakes the head");
    assert_eq!(tx.try_send(8), Err(TrySendError::Full(8)));
    assert_eq!(rx.try_recv(), Ok(1));
    assert!(many.is_woken());
    let mut permits = many.ready().unwrap();
    assert_eq!(permits.len(), 2);
    permits.send(3).unwrap();
    drop(permits); // the second slot goes to the waiting send
    assert!(later.is_woken());
    assert_eq!(later.ready(), Ok(()));
    let mut got = Vec::new();
    while let Ok(v) = rx.try_recv() {
        got.push(v);
    }
    assert_eq!(got, [2, 3, 9]);
    assert_quiet(tx.stats());
}

#[test]
fn a_dropped_reserve_many_passes_the_slots_it_had_collected_on() {
    let (tx, rx) = channel::bounded(2);
    tx.try_send(0).unwrap();
    tx.try_send(1).unwrap();
    let mut many = TestTask::new(tx.reserve_many(2));
    many.pending();
    let mut later = TestTask::new(tx.send(9));
    later.pending();
    assert_eq!(rx.try_recv(), Ok(0)); // set aside for `many`
    assert!(!later.is_woken());
    many.cancel();
    assert!(
        later.is_woken(),
        "the collected slot goes to the next sender"
    );
    assert_eq!(later.ready(), Ok(()));
    assert_eq!(tx.stats().slots_reserved, 0);
    assert_eq!(rx.len(), 2);
    assert_quiet(tx.stats());
}

#[test]
fn reserve_many_of_zero_is_ready_and_more_than_the_capacity_panics() {
    let (tx, _rx) = channel::bounded::<u8>(2);
    tx.try_send(1).unwrap();
    tx.try_send(2).unwrap();
    let permits = TestTask::new(tx.reserve_many(0)).ready().unwrap();
    assert!(permits.is_empty());
    let err = std::panic::catch_unwind(|| {
        drop(tx.reserve_many(3));
    })
    .unwrap_err();
    let msg = err.downcast_ref::<alloc::string::String>().unwrap();
    assert!(msg.contains("`n`"), "{msg}");
}

/// A waiting sender counts its slots in 32 bits: a bounded channel of a
/// larger capacity refuses a `reserve_many` above `u32::MAX` up front (the
/// future is never built); `u32::MAX` itself is accepted.
#[test]
#[cfg(target_pointer_width = "64")]
fn reserve_many_above_u32_max_panics_naming_n() {
    let (tx, _rx) = channel::bounded::<u8>(usize::MAX);
    let err = std::panic::catch_unwind(|| {
        drop(tx.reserve_many(u32::MAX as usize + 1));
    })
    .unwrap_err();
    let msg = err.downcast_ref::<alloc::string::String>().unwrap();
    assert!(msg.contains("`n`") && msg.contains("u32::MAX"), "{msg}");
    tx.try_send(1).unwrap();
    drop(tx.reserve_many(u32::MAX as usize));
    let permits = TestTask::new(tx.reserve_many(2)).ready().unwrap();
    assert_eq!((permits.len(), tx.len()), (2, 1));
    // Dropping permits for that many slots gives them back in one step
    // when no sender waits (one at a time took minutes in a debug build).
    let big = TestTask::new(tx.reserve_many(u32::MAX as usize))
        .ready()
        .unwrap();
    assert_eq!(tx.stats().slots_reserved, u32::MAX as usize + 2);
    drop(big);
    assert_eq!(tx.stats().slots_reserved, 2);
}

/// Dropped permits of several slots serve the waiting senders in order:
/// the head until it has all it wants (woken once, and only then), then
/// the next, then what is left is free.
#[test]
fn dropped_permits_serve_each_waiting_sender_in_turn_then_free_the_rest() {
    let (tx, rx) = channel::bounded(5);
    let first = TestTask::new(tx.reserve_many(1)).ready().unwrap();
    let rest = TestTask::new(tx.reserve_many(4)).ready().unwrap();
    let mut two = TestTask::new(tx.reserve_many(2));
    two.pending();
    let mut one = TestTask::new(tx.send(7));
    one.pending();
    drop(first);
    assert!(!two.is_woken(), "one slot of two is not enough");
    assert!(!one.is_woken(), "nobody overtakes the head");
    drop(rest);
    assert!(two.is_woken() && one.is_woken());
    let two = two.ready().unwrap();
    assert_eq!(two.len(), 2);
    assert_eq!(one.ready(), Ok(()));
    // 5 slots: 2 held by `two`, 1 filled by the send, 2 free.
    assert_eq!(tx.stats().slots_reserved, 2);
    tx.try_send(8).unwrap();
    tx.try_send(9).unwrap();
    assert_eq!(tx.try_send(10), Err(TrySendError::Full(10)));
    drop(two);
    assert_eq!(tx.stats().slots_reserved, 0);
    let got: Vec<_> = core::iter::from_fn(|| rx.try_recv().ok()).collect();
    assert_eq!(got, [7, 8, 9]);
    assert_quiet(tx.stats());
}

#[test]
fn reserve_fails_once_closed_and_a_permit_used_after_close_hands_the_value_back() {
    let (tx, rx) = channel::bounded(2);
    let permit = tx.try_reserve().unwrap();
    tx.try_send(1).unwrap();
    let mut waiting = TestTask::new(tx.reserve_many(2));
    waiting.pending();
    tx.close();
    assert!(waiting.is_woken());
    assert_eq!(waiting.ready().unwrap_err(), SendError(()));
    assert_eq!(permit.send(2), Err(SendError(2)));
    assert_eq!(
        TestTask::new(tx.reserve()).ready().unwrap_err(),
        SendError(())
    );
    assert!(tx.try_reserve().unwrap_err().is_closed());
    assert_eq!(rx.try_recv(), Ok(1));
    assert_quiet(tx.stats());
}

// ----- closed, weak senders, recv_many -----

#[test]
fn sender_closed_completes_when_the_last_receiver_is_dropped() {
    let (tx, rx) = channel::bounded::<u8>(1);
    let rx2 = rx.clone();
    let mut closed = TestTask::new(tx.closed());
    closed.pending();
    drop(rx);
    assert!(!closed.is_woken(), "a receiver is left");
    closed.pending();
    drop(rx2);
    assert!(closed.is_woken());
    assert_eq!(closed.ready(), ());
    assert_eq!(TestTask::new(tx.closed()).ready(), ());
}

#[test]
fn sender_closed_completes_on_close() {
    let (tx, rx) = channel::unbounded::<u8>();
    let mut closed = TestTask::new(tx.closed());
    closed.pending();
    rx.close();
    assert!(closed.is_woken());
    assert_eq!(closed.ready(), ());
}

#[test]
fn a_weak_sender_does_not_keep_the_channel_open_and_upgrades_only_while_a_sender_lives() {
    let (tx, rx) = channel::unbounded();
    let weak = tx.downgrade();
    let weak2 = weak.clone();
    assert_eq!(weak.sender_count(), 1);
    let strong = weak.upgrade().unwrap();
    assert_eq!(tx.sender_count(), 2);
    strong.try_send(1).unwrap();
    drop(strong);
    drop(tx);
    assert!(rx.is_closed(), "weak senders do not keep it open");
    assert!(weak.upgrade().is_none());
    assert!(weak2.upgrade().is_none());
    assert_eq!(rx.try_recv(), Ok(1));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
}

#[test]
fn recv_many_waits_for_one_value_then_takes_what_is_there_up_to_the_limit() {
    let (tx, rx) = channel::bounded(8);
    let mut buf = alloc::vec![0];
    {
        let mut many = TestTask::new(rx.recv_many(&mut buf, 3));
        many.pending();
        for i in 1..=5 {
            tx.try_send(i).unwrap();
        }
        assert!(many.is_woken());
        assert_eq!(many.ready(), 3);
    }
    assert_eq!(buf, [0, 1, 2, 3], "appended");
    assert_eq!(TestTask::new(rx.recv_many(&mut buf, 0)).ready(), 0);
    assert_eq!(TestTask::new(rx.recv_many(&mut buf, 10)).ready(), 2);
    drop(tx);
    assert_eq!(TestTask::new(rx.recv_many(&mut buf, 10)).ready(), 0);
    assert_eq!(buf, [0, 1, 2, 3, 4, 5]);
}

#[test]
fn a_cancelled_recv_many_passes_the_value_it_was_granted_on() {
    let (tx, rx) = channel::bounded(4);
    let mut buf = Vec::new();
    let mut first = TestTask::new(rx.recv_many(&mut buf, 2));
    first.pending();
    let mut second = TestTask::new(rx.recv());
    second.pending();
    tx.try_send(1).unwrap();
    assert!(first.is_woken());
    first.cancel();
    assert!(second.is_woken());
    assert_eq!(second.ready(), Ok(1));
    assert_quiet(tx.stats());
}

// ----- force_send -----

#[test]
fn force_send_on_a_full_channel_takes_out_the_oldest_value_and_returns_it() {
    let (tx, rx) = channel::bounded(2);
    assert_eq!(tx.force_send(1), Ok(None));
    assert_eq!(tx.force_send(2), Ok(None));
    let mut waiting_send = TestTask::new(tx.send(9));
    waiting_send.pending();
    assert_eq!(tx.force_send(3), Ok(Some(1)));
    assert_eq!(tx.force_send(4), Ok(Some(2)));
    assert!(
        !waiting_send.is_woken(),
        "still full: the sender keeps waiting"
    );
    assert_eq!(rx.try_recv(), Ok(3));
    assert_eq!(waiting_send.ready(), Ok(()));
    assert_eq!(rx.try_recv(), Ok(4));
    assert_eq!(rx.try_recv(), Ok(9));
    assert_quiet(tx.stats());
}

#[test]
fn force_send_never_takes_a_value_promised_to_a_woken_receiver_or_a_reserved_slot() {
    let (tx, rx) = channel::bounded(1);
    let mut recv = TestTask::new(rx.recv());
    recv.pending();
    assert_eq!(tx.force_send(1), Ok(None)); // promised to `recv`
    assert_eq!(tx.force_send(2), Err(TrySendError::Full(2)));
    assert_eq!(recv.ready(), Ok(1));
    let permit = tx.try_reserve().unwrap();
    assert_eq!(tx.force_send(3), Err(TrySendError::Full(3)));
    permit.send(4).unwrap();
    assert_eq!(tx.force_send(5), Ok(Some(4)));
    rx.close();
    assert_eq!(tx.force_send(6), Err(TrySendError::Closed(6)));
    assert_eq!(rx.try_recv(), Ok(5));
}

#[test]
fn force_send_on_an_unbounded_channel_never_takes_anything_out() {
    let (tx, rx) = channel::unbounded();
    for i in 0..100 {
        assert_eq!(tx.force_send(i), Ok(None));
    }
    assert_eq!(rx.len(), 100);
}

/// Cancel at every await: a `reserve_many(3)` polled `k` times while
/// receives free slots one by one, then dropped, leaves nothing reserved
/// and nobody stranded: the sender queued behind it completes.
#[test]
fn reserve_many_cancelled_after_any_number_of_polls_loses_no_slot() {
    for k in 0..6 {
        let (tx, rx) = channel::bounded(3);
        for i in 0..3 {
            tx.try_send(i).unwrap();
        }
        let mut many = TestTask::new(tx.reserve_many(3));
        let mut behind = TestTask::new(tx.send(9));
        let mut received = Vec::new();
        for step in 0..k {
            // A completed reserve's permits are dropped unused at once.
            if many.poll().is_ready() {
                break;
            }
            if step == 0 {
                behind.pending();
            }
            received.extend(rx.try_recv());
        }
        many.cancel();
        let mut sent = false;
        for _ in 0..8 {
            sent = sent || behind.poll().is_ready();
            received.extend(rx.try_recv());
        }
        assert!(sent, "k = {k}: the sender behind was stranded");
        assert_eq!(received, [0, 1, 2, 9], "k = {k}");
        let s = tx.stats();
        assert_eq!(
            (s.slots_reserved, s.send_waiters, s.len),
            (0, 0, 0),
            "k = {k}: {s:?}"
        );
    }
}

#[test]
fn statistics_count_values_reservations_waiters_and_handles() {
    let (tx, rx) = channel::bounded(2);
    let s = rx.statistics();
    assert_eq!((s.len, s.capacity, s.reserved), (0, Some(2), 0));
    assert_eq!((s.send_waiters, s.recv_waiters), (0, 0));
    assert_eq!(
        (s.senders, s.receivers, s.closed),
        (Some(1), Some(1), false)
    );

    let mut recv = TestTask::new(rx.recv());
    recv.pending();
    assert_eq!(tx.statistics().recv_waiters, 1);
    tx.try_send(1).unwrap();
    assert_eq!(recv.ready(), Ok(1));

    let permit = tx.try_reserve().unwrap();
    tx.try_send(2).unwrap();
    let mut send = TestTask::new(tx.send(3));
    send.pending();
    let tx2 = tx.clone();
    let s = tx.statistics();
    assert_eq!((s.len, s.reserved), (1, 1));
    assert_eq!((s.send_waiters, s.recv_waiters), (1, 0));
    assert_eq!((s.senders, s.receivers), (Some(2), Some(1)));
    assert_eq!(s, rx.statistics(), "both halves see the same channel");

    drop((permit, tx2));
    assert_eq!(
        send.wakes(),
        1,
        "the dropped permit's slot goes to the sender"
    );
    let s = rx.statistics();
    assert_eq!(
        (s.len, s.reserved, s.send_waiters, s.senders),
        (1, 1, 0, Some(1))
    );
    send.ready().unwrap();
    rx.close();
    let s = rx.statistics();
    assert_eq!((s.len, s.reserved, s.closed), (2, 0, true));

    let (_tx, rx) = channel::unbounded::<u8>();
    assert_eq!(rx.statistics().capacity, None);
}

#[test]
fn channel_errors_read_as_sentences() {
    use alloc::string::ToString;

    use crate::channel::SendTimeoutError;
    assert_eq!(SendError(1).to_string(), "sending on a closed channel");
    assert_eq!(
        TrySendError::Full(1).to_string(),
        "sending on a full channel"
    );
    assert_eq!(
        TrySendError::Closed(1).to_string(),
        "sending on a closed channel"
    );
    assert_eq!(
        SendTimeoutError::Timeout(1).to_string(),
        "timed out waiting to send on a full channel"
    );
    assert_eq!(
        SendTimeoutError::Closed(1).to_string(),
        "sending on a closed channel"
    );
    assert_eq!(
        RecvError.to_string(),
        "the channel is closed and has no messages left"
    );
    assert_eq!(
        TryRecvError::Empty.to_string(),
        "the channel has no message ready"
    );
    assert_eq!(
        TryRecvError::Closed.to_string(),
        "the channel is closed and has no messages left"
    );
}

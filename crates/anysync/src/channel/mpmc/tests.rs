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
    channel::{self, RecvError, SendError, TryRecvError, TrySendError},
    queue::engine::Stats,
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
fn channel_values_left_when_everything_is_dropped_are_dropped_once() {
    let drops = Arc::new(AtomicUsize::new(0));
    let (tx, rx) = channel::unbounded();
    for _ in 0..3 {
        tx.try_send(DropCount(drops.clone())).unwrap();
    }
    drop(rx);
    assert_eq!(
        drops.load(Ordering::SeqCst),
        0,
        "kept until the last handle goes"
    );
    drop(tx);
    assert_eq!(drops.load(Ordering::SeqCst), 3);
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
}

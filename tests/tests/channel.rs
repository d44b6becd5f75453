//! The MPMC channels (`channel::bounded`, `channel::unbounded`,
//! `channel::StaticChannel`) on every executor:
//! delivery, cancel safety of `send`/`recv`, close racing send, `Stream`
//! and `Sink`, blocking senders.
#![forbid(unsafe_code)]

extern crate alloc;

use alloc::sync::Arc;
use core::{pin::pin, time::Duration};

use anysync::{
    channel::{self, oneshot, RecvError, SendError, StaticChannel, TryRecvError, TrySendError},
    rt::{virtual_time::VirtualTime, Runtime},
};
use anysync_tests::{poll_once, race_yields, scenarios, scenarios_no_rt, yield_now, DropCounter};
use futures_util::{
    future::{select, Either},
    SinkExt, StreamExt,
};

fn expected(producers: u32, per: u32) -> Vec<u32> {
    (0..producers)
        .flat_map(|p| (0..per).map(move |i| p * 1000 + i))
        .collect()
}

/// 4 producers and 4 consumers in their own tasks on a small channel:
/// every value arrives exactly once, each producer's values in order,
/// and the consumers end when the last sender is dropped.
async fn channel_mpmc_delivers_every_value_once<R: Runtime>(rt: R) {
    let (tx, rx) = channel::bounded(8);
    let consumers: Vec<_> = (0..4)
        .map(|_| {
            let rx = rx.clone();
            rt.spawn(async move {
                let mut got = Vec::new();
                while let Ok(v) = rx.recv().await {
                    got.push(v);
                }
                got
            })
        })
        .collect();
    drop(rx);
    let producers: Vec<_> = (0..4u32)
        .map(|p| {
            let tx = tx.clone();
            rt.spawn(async move {
                for i in 0..250 {
                    tx.send(p * 1000 + i).await.unwrap();
                }
            })
        })
        .collect();
    drop(tx);
    for p in producers {
        p.await.unwrap();
    }
    let mut all = Vec::new();
    for c in consumers {
        let got = c.await.unwrap();
        for p in 0..4 {
            let mine: Vec<_> = got.iter().filter(|&&v| v / 1000 == p).collect();
            assert!(mine.windows(2).all(|w| w[0] < w[1]), "FIFO per producer");
        }
        all.extend(got);
    }
    all.sort_unstable();
    assert_eq!(all, expected(4, 250));
}

/// Cancel safety under load: sends and receives in many tasks are
/// cancelled at random points. Every value whose send completed arrives
/// exactly once; a cancelled send's value never arrives.
async fn channel_random_cancellation_loses_and_duplicates_nothing<R: Runtime>(rt: R) {
    let (tx, rx) = channel::bounded(2);
    let producers: Vec<_> = (0..3u32)
        .map(|p| {
            let tx = tx.clone();
            rt.spawn(async move {
                let mut sent = Vec::new();
                for i in 0..150u32 {
                    let v = p * 1000 + i;
                    if let Some(r) = race_yields(tx.send(v), (i % 3) as usize).await {
                        r.unwrap();
                        sent.push(v);
                    }
                }
                sent
            })
        })
        .collect();
    drop(tx);
    let consumers: Vec<_> = (0..3usize)
        .map(|c| {
            let rx = rx.clone();
            rt.spawn(async move {
                let mut got = Vec::new();
                let mut turn = c;
                loop {
                    turn += 1;
                    match race_yields(rx.recv(), turn % 4).await {
                        Some(Ok(v)) => got.push(v),
                        Some(Err(RecvError)) => return got,
                        None => {}
                    }
                }
            })
        })
        .collect();
    drop(rx);
    let mut sent = Vec::new();
    for p in producers {
        sent.extend(p.await.unwrap());
    }
    let mut got = Vec::new();
    for c in consumers {
        got.extend(c.await.unwrap());
    }
    sent.sort_unstable();
    got.sort_unstable();
    assert!(!sent.is_empty());
    assert_eq!(got, sent);
}

/// Close racing send: senders keep sending until refused, another task
/// closes the channel; what was sent successfully is received exactly
/// once, what was refused comes back to its sender and is never received.
async fn channel_close_racing_send_returns_or_delivers_each_value<R: Runtime>(rt: R) {
    let (tx, rx) = channel::bounded(4);
    let senders: Vec<_> = (0..3u32)
        .map(|p| {
            let tx = tx.clone();
            rt.spawn(async move {
                let (mut sent, mut refused) = (Vec::new(), Vec::new());
                for i in 0..1000u32 {
                    match tx.send(p * 10_000 + i).await {
                        Ok(()) => sent.push(p * 10_000 + i),
                        Err(SendError(v)) => {
                            refused.push(v);
                            break;
                        }
                    }
                }
                (sent, refused)
            })
        })
        .collect();
    let rx2 = rx.clone();
    let receiver = rt.spawn(async move {
        let mut got = Vec::new();
        while let Ok(v) = rx2.recv().await {
            got.push(v);
            if got.len() == 100 {
                rx2.close();
            }
        }
        got
    });
    let mut sent = Vec::new();
    let mut refused = Vec::new();
    for s in senders {
        let (a, b) = s.await.unwrap();
        sent.extend(a);
        refused.extend(b);
    }
    let mut got = receiver.await.unwrap();
    assert!(rx.is_closed() && tx.is_closed());
    assert!(got.len() >= 100);
    got.sort_unstable();
    sent.sort_unstable();
    assert_eq!(got, sent, "every value sent is received once");
    for v in refused {
        assert!(
            got.binary_search(&v).is_err(),
            "a refused value was received"
        );
    }
}

/// A fast producer paced by a slow consumer through the receiver's
/// `Stream` and the sender's `Sink`: backpressure paces the producer and
/// every item arrives, in order.
async fn channel_stream_and_sink_across_tasks<R: Runtime>(rt: R) {
    let (tx, rx) = channel::bounded(2);
    let producer = rt.spawn(async move {
        let mut sink = tx.into_sink();
        sink.send_all(&mut futures_util::stream::iter(0..100u32).map(Ok))
            .await
            .unwrap();
        sink.close().await.unwrap();
    });
    let consumer = rt.spawn(async move {
        rx.then(|v| async move {
            yield_now().await;
            v
        })
        .collect::<Vec<_>>()
        .await
    });
    producer.await.unwrap();
    assert_eq!(consumer.await.unwrap(), (0..100).collect::<Vec<_>>());
}

/// Plain threads (the runtime's blocking pool) send with
/// `send_blocking` to an async receiver.
async fn channel_blocking_senders_feed_an_async_receiver<R: Runtime>(rt: R) {
    let (tx, rx) = channel::bounded(1);
    let jobs: Vec<_> = (0..2u32)
        .map(|p| {
            let tx = tx.clone();
            rt.spawn_blocking(move || {
                for i in 0..50 {
                    tx.send_blocking(p * 1000 + i).unwrap();
                }
            })
        })
        .collect();
    drop(tx);
    let mut got = Vec::new();
    while let Ok(v) = rx.recv().await {
        got.push(v);
    }
    for j in jobs {
        j.await.unwrap();
    }
    got.sort_unstable();
    assert_eq!(got, expected(2, 50));
}

/// The fixed channel shared by tasks through an `Arc`: same delivery
/// and close semantics as `bounded`.
async fn static_channel_delivers_every_value_once<R: Runtime>(rt: R) {
    let ch = Arc::new(StaticChannel::<u32, 4>::new());
    let consumers: Vec<_> = (0..2)
        .map(|_| {
            let ch = Arc::clone(&ch);
            rt.spawn(async move {
                let mut got = Vec::new();
                while let Ok(v) = ch.recv().await {
                    got.push(v);
                }
                got
            })
        })
        .collect();
    let producers: Vec<_> = (0..2u32)
        .map(|p| {
            let ch = Arc::clone(&ch);
            rt.spawn(async move {
                for i in 0..200 {
                    ch.send(p * 1000 + i).await.unwrap();
                }
            })
        })
        .collect();
    for p in producers {
        p.await.unwrap();
    }
    ch.close();
    let mut all = Vec::new();
    for c in consumers {
        all.extend(c.await.unwrap());
    }
    all.sort_unstable();
    assert_eq!(all, expected(2, 200));
}

scenarios!(
    channel_mpmc_delivers_every_value_once,
    channel_random_cancellation_loses_and_duplicates_nothing,
    channel_close_racing_send_returns_or_delivers_each_value,
    channel_stream_and_sink_across_tasks,
    channel_blocking_senders_feed_an_async_receiver,
    static_channel_delivers_every_value_once
);

/// A pending `recv` is cancelled after two sends; the next `recv`
/// returns the first value.
async fn channel_recv_is_cancel_safe() {
    let (tx, rx) = channel::unbounded();
    {
        let mut r = pin!(rx.recv());
        assert!(poll_once(&mut r.as_mut()).await.is_pending());
        tx.send(1).await.unwrap();
        tx.send(2).await.unwrap();
    }
    assert_eq!(rx.recv().await, Ok(1));
    assert_eq!(rx.recv().await, Ok(2));
}

/// A sender woken for a freed slot is cancelled: its value is not sent
/// (and is dropped once), and the slot is not lost.
async fn channel_send_is_cancel_safe() {
    let drops = DropCounter::new();
    let (tx, rx) = channel::bounded(1);
    tx.send(drops.guard()).await.unwrap();
    {
        let mut s = pin!(tx.send(drops.guard()));
        assert!(poll_once(&mut s.as_mut()).await.is_pending());
        drop(rx.recv().await.unwrap());
    }
    assert_eq!(drops.count(), 2, "the received value and the unsent one");
    tx.send(drops.guard()).await.unwrap();
    assert_eq!(rx.len(), 1);
    drop(rx.recv().await.unwrap());
    assert_eq!(rx.try_recv().unwrap_err(), TryRecvError::Empty);
    assert_eq!(drops.count(), 3);
}

/// A receiver woken for a value is cancelled; the next receiver gets
/// the value.
async fn channel_woken_receiver_cancelled_passes_the_value_on() {
    let (tx, rx) = channel::unbounded();
    let rx2 = rx.clone();
    let mut r1 = Box::pin(rx.recv());
    let mut r2 = pin!(rx2.recv());
    assert!(poll_once(&mut r1.as_mut()).await.is_pending());
    assert!(poll_once(&mut r2.as_mut()).await.is_pending());
    tx.send('x').await.unwrap();
    drop(r1);
    assert_eq!(r2.await, Ok('x'));
}

/// The channel closes when every sender or every receiver is gone;
/// errors hand the value back.
async fn channel_closes_when_either_side_is_gone() {
    let (tx, rx) = channel::bounded(2);
    tx.send(1).await.unwrap();
    drop(tx.clone());
    assert!(!rx.is_closed());
    drop(tx);
    assert_eq!(rx.recv().await, Ok(1));
    assert_eq!(rx.recv().await, Err(RecvError));

    let (tx, rx) = channel::bounded(2);
    drop(rx);
    assert_eq!(tx.send(5).await, Err(SendError(5)));
    assert_eq!(tx.try_send(6), Err(TrySendError::Closed(6)));
}

scenarios_no_rt!(
    channel_recv_is_cancel_safe,
    channel_send_is_cancel_safe,
    channel_woken_receiver_cancelled_passes_the_value_on,
    channel_closes_when_either_side_is_gone
);

// ----- reserve, reserve_many, send_timeout, closed, recv_many -----

/// A producer task that reserves a slot before making each value: every
/// value arrives, in order, through a channel of one slot.
async fn channel_reserved_permits_deliver_every_value_in_order<R: Runtime>(rt: R) {
    let (tx, rx) = channel::bounded(1);
    let producer = rt.spawn(async move {
        for i in 0..200u32 {
            let permit = tx.reserve().await.unwrap();
            permit.send(i).unwrap();
        }
    });
    let mut got = Vec::new();
    while let Ok(v) = rx.recv().await {
        got.push(v);
    }
    producer.await.unwrap();
    assert_eq!(got, (0..200).collect::<Vec<_>>());
}

/// Two producer tasks each reserving three slots at a time on a channel of
/// four: neither starves or deadlocks on half a reservation, and every
/// value arrives, each producer's in order.
async fn channel_reserve_many_producers_neither_starve_nor_deadlock<R: Runtime>(rt: R) {
    let (tx, rx) = channel::bounded(4);
    let producers: Vec<_> = (0..2u32)
        .map(|p| {
            let tx = tx.clone();
            rt.spawn(async move {
                for i in 0..50u32 {
                    let mut permits = tx.reserve_many(3).await.unwrap();
                    assert_eq!(permits.len(), 3);
                    for k in 0..3 {
                        permits.send((p, i * 3 + k)).unwrap();
                    }
                }
            })
        })
        .collect();
    drop(tx);
    let mut got = Vec::new();
    while let Ok(v) = rx.recv().await {
        got.push(v);
    }
    for p in producers {
        p.await.unwrap();
    }
    for p in 0..2 {
        let mine: Vec<u32> = got.iter().filter(|v| v.0 == p).map(|v| v.1).collect();
        assert_eq!(mine, (0..150).collect::<Vec<_>>());
    }
}

/// Reserving in a race that the reserve often loses: a lost reserve holds
/// no slot, so every value that won a permit arrives and the channel ends
/// up with nothing reserved.
async fn channel_reserve_cancelled_in_a_race_loses_no_slot<R: Runtime>(rt: R) {
    let (tx, rx) = channel::bounded(2);
    let producer = rt.spawn(async move {
        let mut sent = 0u32;
        while sent < 100 {
            if let Some(permit) = race_yields(tx.reserve(), 1).await {
                permit.unwrap().send(sent).unwrap();
                sent += 1;
            }
        }
    });
    let mut got = Vec::new();
    while let Ok(v) = rx.recv().await {
        got.push(v);
        yield_now().await;
    }
    producer.await.unwrap();
    assert_eq!(got, (0..100).collect::<Vec<_>>());
}

/// A producer waits on `closed()` and stops when the consumer task, which
/// wanted three values, drops its receiver.
async fn channel_sender_closed_completes_when_the_receiving_task_ends<R: Runtime>(rt: R) {
    let (tx, rx) = channel::bounded(1);
    let consumer = rt.spawn(async move {
        for _ in 0..3 {
            rx.recv().await.unwrap();
        }
    });
    let mut sent = 0;
    loop {
        match select(pin!(tx.closed()), pin!(tx.send(sent))).await {
            Either::Left(((), _)) => break,
            Either::Right((Ok(()), _)) => sent += 1,
            Either::Right((Err(_), _)) => break,
        }
    }
    consumer.await.unwrap();
    assert!(tx.is_closed());
    assert!((3..=4).contains(&sent), "{sent}");
}

/// `send_timeout` on a full channel nobody drains gives the value back;
/// with a consumer task draining it, it sends.
async fn channel_send_timeout_gives_the_value_back_or_sends<R: Runtime>(rt: R) {
    let (tx, rx) = channel::bounded(1);
    tx.send(0).await.unwrap();
    let err = tx
        .send_timeout(1, Duration::from_millis(20), &rt)
        .await
        .unwrap_err();
    assert!(err.is_timeout());
    assert_eq!(err.into_inner(), 1);
    assert_eq!(tx.send_waiters(), 0, "the timed-out send left the queue");
    let consumer = rt.spawn(async move {
        let mut got = Vec::new();
        while let Ok(v) = rx.recv().await {
            got.push(v);
        }
        got
    });
    for i in 1..20 {
        tx.send_timeout(i, Duration::from_secs(3600), &rt)
            .await
            .unwrap();
    }
    drop(tx);
    assert_eq!(consumer.await.unwrap(), (0..20).collect::<Vec<_>>());
}

/// A consumer task receiving in batches of at most ten gets every value,
/// in order.
async fn channel_recv_many_receives_everything_in_batches<R: Runtime>(rt: R) {
    let (tx, rx) = channel::bounded(16);
    let producer = rt.spawn(async move {
        for i in 0..500u32 {
            tx.send(i).await.unwrap();
        }
    });
    let mut got = Vec::new();
    loop {
        let before = got.len();
        let n = rx.recv_many(&mut got, 10).await;
        assert_eq!(got.len() - before, n);
        assert!(n <= 10);
        if n == 0 {
            break;
        }
    }
    producer.await.unwrap();
    assert_eq!(got, (0..500).collect::<Vec<_>>());
}

/// A `StaticChannel`'s `send_timeout` gives the value back when nobody
/// receives, and sends once a receiving task makes room.
async fn static_channel_send_timeout_gives_the_value_back_or_sends<R: Runtime>(rt: R) {
    let ch = Arc::new(StaticChannel::<u32, 1>::new());
    ch.send(0).await.unwrap();
    let err = ch
        .send_timeout(1, Duration::from_millis(20), &rt)
        .await
        .unwrap_err();
    assert_eq!(err.into_inner(), 1);
    let receiver = {
        let ch = Arc::clone(&ch);
        rt.spawn(async move {
            let mut got = Vec::new();
            while let Ok(v) = ch.recv().await {
                got.push(v);
            }
            got
        })
    };
    for i in 1..10 {
        ch.send_timeout(i, Duration::from_secs(3600), &rt)
            .await
            .unwrap();
    }
    ch.close();
    assert_eq!(receiver.await.unwrap(), (0..10).collect::<Vec<_>>());
}

scenarios!(
    static_channel_send_timeout_gives_the_value_back_or_sends,
    channel_reserved_permits_deliver_every_value_in_order,
    channel_reserve_many_producers_neither_starve_nor_deadlock,
    channel_reserve_cancelled_in_a_race_loses_no_slot,
    channel_sender_closed_completes_when_the_receiving_task_ends,
    channel_send_timeout_gives_the_value_back_or_sends,
    channel_recv_many_receives_everything_in_batches,
);

/// A static channel's reserve and closed, with no runtime at all.
async fn static_channel_reserve_and_closed_need_no_runtime() {
    static CH: StaticChannel<u32, 2> = StaticChannel::new();
    let ch = StaticChannel::<u32, 2>::new();
    let _ = &CH;
    let mut permits = ch.reserve_many(2).await.unwrap();
    permits.send(1).unwrap();
    drop(permits);
    ch.reserve().await.unwrap().send(2).unwrap();
    assert_eq!(ch.recv().await, Ok(1));
    assert_eq!(ch.recv().await, Ok(2));
    ch.close();
    ch.closed().await;
    assert!(ch.reserve().await.is_err());
}

/// The worker's receiver is dropped with a request in it: the requester's
/// reply future fails instead of waiting forever.
async fn channel_requester_learns_the_worker_is_gone() {
    let (tx, rx) = channel::bounded::<oneshot::Sender<u32>>(4);
    let (reply, answer) = oneshot::channel();
    tx.send(reply).await.unwrap();
    drop(rx);
    assert!(answer.await.is_err());
}

scenarios_no_rt!(
    static_channel_reserve_and_closed_need_no_runtime,
    channel_requester_learns_the_worker_is_gone,
);

/// On the virtual clock a `send_timeout` gives up exactly when its time is
/// up, and one that gets room first returns then.
#[test]
fn channel_send_timeout_is_exact_on_the_virtual_clock() {
    let vt = VirtualTime::new();
    vt.block_on(|rt| async move {
        let (tx, rx) = channel::bounded(1);
        tx.send(0).await.unwrap();
        let start = rt.now();
        let err = tx
            .send_timeout(1, Duration::from_millis(250), &rt)
            .await
            .unwrap_err();
        assert!(err.is_timeout());
        assert_eq!(rt.now() - start, Duration::from_millis(250));
        let drain = {
            let rt = rt.clone();
            rt.clone().spawn(async move {
                rt.sleep(Duration::from_millis(100)).await;
                let first = rx.recv().await.unwrap();
                (first, rx)
            })
        };
        let start = rt.now();
        tx.send_timeout(2, Duration::from_secs(1), &rt)
            .await
            .unwrap();
        assert_eq!(rt.now() - start, Duration::from_millis(100));
        let (first, rx) = drain.await.unwrap();
        assert_eq!(first, 0);
        assert_eq!(rx.try_recv(), Ok(2));
    });
}

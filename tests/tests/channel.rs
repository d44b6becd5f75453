//! The MPMC channels (`channel::bounded`, `channel::unbounded`,
//! `channel::StaticChannel`) on every executor: every item delivered once,
//! in order; backpressure at capacity; cancel safety of `send`/`recv`;
//! close racing send; `Stream` and `Sink`; blocking senders.
#![forbid(unsafe_code)]

extern crate alloc;

use alloc::sync::Arc;
use core::pin::pin;

use anysync::{
    channel::{self, RecvError, SendError, StaticChannel, TryRecvError, TrySendError},
    rt::Runtime,
};
use anysync_tests::{poll_once, race_yields, scenarios, scenarios_no_rt, yield_now, DropCounter};
use futures_util::{SinkExt, StreamExt};

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

//! `channel::broadcast` on every executor: an
//! event bus where every subscriber gets every message in order, each
//! subscriber's overflow policy, and close.
#![forbid(unsafe_code)]

extern crate alloc;

use alloc::sync::Arc;
use core::{pin::pin, time::Duration};

use anysync::{
    channel::broadcast::{
        self, Overflow, RecvError, SendError, Sender, TryRecvError, TrySendError,
    },
    rt::Runtime,
};
use anysync_tests::{scenarios, scenarios_no_rt, yield_now, DropCounter};
use futures_util::{
    future::{select, Either},
    StreamExt,
};

/// Two publishers, three subscribers in their own tasks: every
/// subscriber gets every message, all in the same order, with each
/// publisher's messages in the order it sent them.
async fn broadcast_every_subscriber_gets_every_message_in_one_order<R: Runtime>(rt: R) {
    const PER_PUBLISHER: u32 = 100;
    let bus = Sender::new(8);
    let mut subscribers = Vec::new();
    for overflow in [Overflow::Block, Overflow::Block, Overflow::Block] {
        let mut rx = bus.subscribe_with(4, overflow);
        subscribers.push(rt.spawn(async move {
            let mut seen = Vec::new();
            while let Ok(msg) = rx.recv().await {
                seen.push(msg);
            }
            seen
        }));
    }
    let publishers: Vec<_> = (0..2_u32)
        .map(|p| {
            let bus = bus.clone();
            rt.spawn(async move {
                for i in 0..PER_PUBLISHER {
                    bus.send((p, i)).await.unwrap();
                }
            })
        })
        .collect();
    drop(bus);
    for p in publishers {
        p.await.unwrap();
    }
    let mut orders = Vec::new();
    for s in subscribers {
        orders.push(s.await.unwrap());
    }
    for order in &orders {
        assert_eq!(order.len(), 2 * PER_PUBLISHER as usize);
        for p in 0..2 {
            let mine: Vec<_> = order.iter().filter(|m| m.0 == p).map(|m| m.1).collect();
            assert_eq!(mine, (0..PER_PUBLISHER).collect::<Vec<_>>());
        }
    }
    assert_eq!(orders[0], orders[1]);
    assert_eq!(orders[1], orders[2]);
}

/// A `Block` subscriber in a slow task holds the publisher back: it
/// never has more than its capacity queued and misses nothing.
async fn broadcast_block_subscriber_applies_backpressure<R: Runtime>(rt: R) {
    let bus = Sender::new(8);
    let mut slow = bus.subscribe_with(2, Overflow::Block);
    let consumer = rt.spawn(async move {
        let mut got = Vec::new();
        loop {
            assert!(slow.len() <= 2);
            match slow.recv().await {
                Ok(m) => got.push(m),
                Err(e) => return (got, e),
            }
            yield_now().await;
        }
    });
    for i in 0..50 {
        bus.send(i).await.unwrap();
    }
    drop(bus);
    let (got, end) = consumer.await.unwrap();
    assert_eq!(got, (0..50).collect::<Vec<_>>());
    assert_eq!(end, RecvError::Closed);
}

/// A publisher waiting for a full `Block` subscriber goes on when that
/// subscriber leaves in another task.
async fn broadcast_blocked_publisher_released_when_the_blocker_leaves<R: Runtime>(rt: R) {
    let bus = Sender::new(8);
    let blocker = bus.subscribe_with(1, Overflow::Block);
    let mut other = bus.subscribe_with(8, Overflow::DropOldest);
    bus.send(0).await.unwrap();
    let leaver = rt.spawn(async move {
        yield_now().await;
        drop(blocker);
    });
    bus.send(1).await.unwrap();
    leaver.await.unwrap();
    assert_eq!(other.recv().await, Ok(0));
    assert_eq!(other.recv().await, Ok(1));
}

/// A send abandoned by a timeout while it waited publishes nothing, and
/// its message is dropped once.
async fn broadcast_timed_out_send_publishes_nothing<R: Runtime>(rt: R) {
    // Messages must be `Clone`: share one drop guard per message.
    let drops = DropCounter::new();
    let msg = || Arc::new(drops.guard());
    let bus = Sender::new(8);
    let mut blocker = bus.subscribe_with(1, Overflow::Block);
    let mut other = bus.subscribe_with(8, Overflow::DropOldest);
    bus.send(msg()).await.unwrap();
    {
        let send = core::pin::pin!(bus.send(msg()));
        let timer = core::pin::pin!(rt.sleep(Duration::from_millis(5)));
        assert!(matches!(select(send, timer).await, Either::Right(_)));
    }
    assert_eq!(drops.count(), 1, "the unpublished message was dropped");
    let a = blocker.recv().await.unwrap();
    let b = other.recv().await.unwrap();
    assert!(Arc::ptr_eq(&a, &b), "both got the first message");
    assert_eq!(other.try_recv().unwrap_err(), TryRecvError::Empty);
    drop((a, b));
    assert_eq!(drops.count(), 2);
}

/// Close drains: with capacity 1, a value is sent, the last sender is
/// dropped, and a subscriber waiting in another task gets the value,
/// then `Closed`.
async fn broadcast_close_drains_then_closed<R: Runtime>(rt: R) {
    let (tx, mut rx) = broadcast::channel(1);
    let mut rx2 = tx.subscribe();
    let receiver = rt.spawn(async move {
        let first = rx.recv().await;
        let second = rx.recv().await;
        (first, second)
    });
    yield_now().await;
    tx.send(7).await.unwrap();
    drop(tx);
    assert_eq!(receiver.await.unwrap(), (Ok(7), Err(RecvError::Closed)));
    assert_eq!(rx2.recv().await, Ok(7));
    assert_eq!(rx2.recv().await, Err(RecvError::Closed));
}

/// A slow subscriber under each policy, behind a fast publisher.
async fn broadcast_slow_subscriber_under_each_policy<R: Runtime>(rt: R) {
    let bus = Sender::new(8);
    let mut subs = Vec::new();
    for overflow in [
        Overflow::Block,
        Overflow::DropOldest,
        Overflow::DropNewest,
        Overflow::Disconnect,
    ] {
        let rx = bus.subscribe_with(3, overflow);
        subs.push((overflow, rx));
    }
    // Nobody receives while 10 messages go out: only the Block
    // subscriber holds the publisher back, so publish from a task and
    // let the Block subscriber drain.
    let mut subs = subs.into_iter();
    let (_, mut block) = subs.next().unwrap();
    let publisher = {
        let bus = bus.clone();
        rt.spawn(async move {
            for i in 0..10 {
                bus.send(i).await.unwrap();
            }
        })
    };
    let mut got = Vec::new();
    while got.len() < 10 {
        got.push(block.recv().await.unwrap());
    }
    publisher.await.unwrap();
    drop(bus);
    assert_eq!(got, (0..10).collect::<Vec<_>>());
    let results: Vec<(Overflow, Vec<Result<i32, RecvError>>)> = subs
        .map(|(o, rx)| (o, futures_executor::block_on(rx.collect::<Vec<_>>())))
        .collect();
    assert_eq!(
        results[0].1,
        [Err(RecvError::Lagged(7)), Ok(7), Ok(8), Ok(9)]
    );
    assert_eq!(
        results[1].1,
        [Ok(0), Ok(1), Ok(2), Err(RecvError::Lagged(7))]
    );
    assert_eq!(
        results[2].1,
        [Ok(0), Ok(1), Ok(2), Err(RecvError::Disconnected)]
    );
}

scenarios!(
    broadcast_every_subscriber_gets_every_message_in_one_order,
    broadcast_block_subscriber_applies_backpressure,
    broadcast_blocked_publisher_released_when_the_blocker_leaves,
    broadcast_timed_out_send_publishes_nothing,
    broadcast_close_drains_then_closed,
    broadcast_slow_subscriber_under_each_policy
);

/// A subscriber that joins after a send starts at the tail.
async fn broadcast_late_subscriber_starts_at_the_tail() {
    let (tx, mut early) = broadcast::channel(4);
    tx.send(1).await.unwrap();
    let mut late = tx.subscribe();
    tx.send(2).await.unwrap();
    assert_eq!(early.recv().await, Ok(1));
    assert_eq!(early.recv().await, Ok(2));
    assert_eq!(late.recv().await, Ok(2));
    assert_eq!(late.try_recv(), Err(TryRecvError::Empty));
}

/// Sending with no subscribers returns the message.
async fn broadcast_send_without_subscribers_returns_the_message() {
    let tx = Sender::new(4);
    assert_eq!(tx.send(1).await, Err(SendError(1)));
    assert!(matches!(tx.try_send(2), Err(TrySendError::Closed(2))));
    drop(tx.subscribe());
    assert_eq!(tx.send(3).await, Err(SendError(3)));
}

/// Lag: capacity 2, 3 sends; the slow subscriber gets `Lagged(1)`, then
/// the oldest message kept; a fast subscriber is unaffected.
async fn broadcast_lag_is_reported_per_subscriber() {
    let (tx, mut slow) = broadcast::channel(2);
    let mut fast = tx.subscribe_with(16, Overflow::DropOldest);
    for i in 1..=3 {
        tx.send(i).await.unwrap();
    }
    assert_eq!(slow.recv().await, Err(RecvError::Lagged(1)));
    assert_eq!(slow.recv().await, Ok(2));
    assert_eq!(slow.recv().await, Ok(3));
    for i in 1..=3 {
        assert_eq!(fast.recv().await, Ok(i));
    }
}

scenarios_no_rt!(
    broadcast_late_subscriber_starts_at_the_tail,
    broadcast_send_without_subscribers_returns_the_message,
    broadcast_lag_is_reported_per_subscriber
);

/// A publisher waits on `closed()` while subscriber tasks come and go:
/// it completes once the last one has dropped its receiver.
async fn broadcast_sender_closed_completes_when_the_last_subscriber_task_ends<R: Runtime>(rt: R) {
    let tx = Sender::new(4);
    let subscribers: Vec<_> = (0..3)
        .map(|n| {
            let mut rx = tx.subscribe_with(2, Overflow::Block);
            rt.spawn(async move {
                for _ in 0..=n {
                    rx.recv().await.unwrap();
                }
            })
        })
        .collect();
    let mut published = 0u32;
    loop {
        match select(pin!(tx.closed()), pin!(tx.send(published))).await {
            Either::Left(((), _)) => break,
            Either::Right((Ok(()), _)) => published += 1,
            Either::Right((Err(_), _)) => break,
        }
        yield_now().await;
    }
    for s in subscribers {
        s.await.unwrap();
    }
    assert_eq!(tx.receiver_count(), 0);
    // The last subscriber needed three messages: at least two sends
    // completed before `closed()` won (the third may complete in the same
    // turn as the subscriber leaves, and `closed()` is looked at first).
    assert!(published >= 2, "{published}");
    tx.closed().await;
}

/// A weak publisher in a task publishes while the channel is open and
/// stops, without keeping it open, once the last strong sender is gone.
async fn broadcast_weak_sender_stops_when_the_last_sender_goes<R: Runtime>(rt: R) {
    let tx = Sender::new(4);
    let mut rx = tx.subscribe_with(4, Overflow::Block);
    let weak = tx.downgrade();
    let publisher = rt.spawn(async move {
        let mut sent = 0u32;
        while let Some(tx) = weak.upgrade() {
            tx.send(sent).await.unwrap();
            sent += 1;
            drop(tx);
            yield_now().await;
        }
        sent
    });
    assert_eq!(rx.recv().await, Ok(0));
    drop(tx);
    let mut got = 1;
    loop {
        match rx.recv().await {
            Ok(v) => {
                assert_eq!(v, got);
                got += 1;
            }
            Err(RecvError::Closed) => break,
            Err(e) => panic!("{e}"),
        }
    }
    assert_eq!(publisher.await.unwrap(), got);
}

scenarios!(
    broadcast_sender_closed_completes_when_the_last_subscriber_task_ends,
    broadcast_weak_sender_stops_when_the_last_sender_goes,
);

//! `channel::oneshot` on every executor: the close
//! matrix, `closed()`, and send racing a receiver drop.
#![forbid(unsafe_code)]

use anysync::{
    channel::oneshot::{self, RecvError, SendError, TryRecvError},
    rt::Runtime,
};
use anysync_tests::{scenarios, scenarios_no_rt, yield_now, DropCounter};

/// A value sent from another task reaches the awaiting receiver.
async fn oneshot_value_crosses_tasks<R: Runtime>(rt: R) {
    let (tx, rx) = oneshot::channel();
    let sender = rt.spawn(async move {
        yield_now().await;
        tx.send(String::from("done")).unwrap();
    });
    assert_eq!(rx.await.as_deref(), Ok("done"));
    sender.await.unwrap();
}

/// A sender dropped in another task without sending closes the receiver.
async fn oneshot_sender_dropped_elsewhere_closes_the_receiver<R: Runtime>(rt: R) {
    let (tx, mut rx) = oneshot::channel::<u32>();
    let dropper = rt.spawn(async move {
        yield_now().await;
        drop(tx);
    });
    assert_eq!(rx.recv().await, Err(RecvError));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
    dropper.await.unwrap();
}

/// `closed()` completes when the receiver is dropped in another task,
/// and a later send returns the value.
async fn oneshot_closed_completes_when_the_receiver_drops_elsewhere<R: Runtime>(rt: R) {
    let (mut tx, rx) = oneshot::channel::<u32>();
    let dropper = rt.spawn(async move {
        yield_now().await;
        drop(rx);
    });
    tx.closed().await;
    assert!(tx.is_closed());
    assert_eq!(tx.send(4), Err(SendError(4)));
    dropper.await.unwrap();
}

/// A worker stops computing when nobody wants its result any more.
async fn oneshot_closed_lets_a_worker_give_up<R: Runtime>(rt: R) {
    use futures_util::future::{select, Either};
    let (mut tx, mut rx) = oneshot::channel::<u64>();
    let worker = rt.spawn(async move {
        let work = core::pin::pin!(core::future::pending::<u64>());
        match select(work, tx.closed()).await {
            Either::Left(_) => unreachable!("the work never finishes"),
            Either::Right(((), _)) => "gave up",
        }
    });
    yield_now().await;
    rx.close();
    assert_eq!(worker.await.unwrap(), "gave up");
}

/// `send` racing a receiver drop, many times: the value is dropped
/// exactly once every time, wherever it ends up.
async fn oneshot_send_racing_receiver_drop_drops_the_value_once<R: Runtime>(rt: R) {
    const N: usize = 200;
    let drops = DropCounter::new();
    for _ in 0..N {
        let (tx, rx) = oneshot::channel();
        let guard = drops.guard();
        let a = rt.spawn(async move {
            let _ = tx.send(guard);
        });
        let b = rt.spawn(async move {
            drop(rx);
        });
        a.await.unwrap();
        b.await.unwrap();
    }
    assert_eq!(drops.count(), N);
}

scenarios!(
    oneshot_value_crosses_tasks,
    oneshot_sender_dropped_elsewhere_closes_the_receiver,
    oneshot_closed_completes_when_the_receiver_drops_elsewhere,
    oneshot_closed_lets_a_worker_give_up,
    oneshot_send_racing_receiver_drop_drops_the_value_once
);

/// The close matrix: dropping either side, and `close()`.
async fn oneshot_close_matrix() {
    // Drop the sender: recv is Err(RecvError).
    let (tx, rx) = oneshot::channel::<u8>();
    drop(tx);
    assert_eq!(rx.await, Err(RecvError));
    // Drop the receiver: send is Err(value).
    let (tx, rx) = oneshot::channel();
    drop(rx);
    assert_eq!(tx.send(1), Err(SendError(1)));
    // close() then send: Err(value).
    let (tx, mut rx) = oneshot::channel();
    rx.close();
    assert_eq!(tx.send(2), Err(SendError(2)));
    assert_eq!(rx.await, Err(RecvError));
    // A value sent before close() is still received.
    let (tx, mut rx) = oneshot::channel();
    tx.send(3).unwrap();
    rx.close();
    assert_eq!(rx.try_recv(), Ok(3));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
}

/// A value sent but never received is dropped once, with the receiver.
async fn oneshot_unreceived_value_is_dropped_with_the_receiver() {
    let drops = DropCounter::new();
    let (tx, rx) = oneshot::channel();
    tx.send(drops.guard()).unwrap();
    assert_eq!(drops.count(), 0);
    drop(rx);
    assert_eq!(drops.count(), 1);
}

scenarios_no_rt!(
    oneshot_close_matrix,
    oneshot_unreceived_value_is_dropped_with_the_receiver
);

/// A receiver emptied by `try_recv` reports itself terminated, so a
/// `select!` loop skips it instead of reporting "sender dropped", and it
/// says it is empty.
async fn oneshot_receiver_emptied_by_try_recv_is_terminated() {
    use futures_util::future::FusedFuture;
    let (tx, mut rx) = oneshot::channel();
    let waiter = async {
        yield_now().await;
        tx.send(1).unwrap();
    };
    waiter.await;
    assert!(!rx.is_empty());
    assert_eq!(rx.try_recv(), Ok(1));
    assert!(rx.is_terminated());
    assert!(rx.is_empty());
    assert_eq!(rx.recv().await, Err(RecvError));
}

scenarios_no_rt!(oneshot_receiver_emptied_by_try_recv_is_terminated);

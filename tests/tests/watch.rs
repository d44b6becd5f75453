//! `channel::watch` on every executor: changes cross tasks, predicates,
//! close.
#![forbid(unsafe_code)]

use anysync::{
    channel::{watch, RecvError},
    rt::Runtime,
};
use anysync_tests::{scenarios, scenarios_no_rt, yield_now};

/// Every receiver, in its own task, ends up seeing the last value, and
/// `changed()` fails once the sender is gone and nothing is new.
async fn watch_every_receiver_sees_the_last_value<R: Runtime>(rt: R) {
    let (tx, rx) = watch::channel(0_u32);
    let mut tasks = Vec::new();
    for _ in 0..3 {
        let mut rx = rx.clone();
        tasks.push(rt.spawn(async move {
            let mut last = *rx.borrow_and_update();
            while rx.changed().await.is_ok() {
                let now = *rx.borrow_and_update();
                assert!(now > last, "values only go up: {last} then {now}");
                last = now;
            }
            last
        }));
    }
    drop(rx);
    for i in 1..=50 {
        tx.send(i).unwrap();
        if i % 10 == 0 {
            yield_now().await;
        }
    }
    drop(tx);
    for t in tasks {
        assert_eq!(t.await.unwrap(), 50);
    }
}

/// `wait_for` in one task sees a value published by another.
async fn watch_wait_for_sees_a_value_from_another_task<R: Runtime>(rt: R) {
    let (tx, mut rx) = watch::channel("starting");
    let publisher = rt.spawn(async move {
        for state in ["loading", "warming", "ready"] {
            yield_now().await;
            tx.send(state).unwrap();
        }
        tx
    });
    assert_eq!(*rx.wait_for(|s| *s == "ready").await.unwrap(), "ready");
    drop(publisher.await.unwrap());
    assert_eq!(rx.changed().await, Err(RecvError));
}

/// `Sender::closed` completes once every receiver, in other tasks, is gone.
async fn watch_sender_closed_when_the_receivers_are_gone<R: Runtime>(rt: R) {
    let (tx, rx) = watch::channel(());
    let handles: Vec<_> = (0..3)
        .map(|_| {
            let rx = rx.clone();
            rt.spawn(async move {
                yield_now().await;
                drop(rx);
            })
        })
        .collect();
    drop(rx);
    tx.closed().await;
    assert!(tx.send(()).is_err());
    for h in handles {
        h.await.unwrap();
    }
}

scenarios!(
    watch_every_receiver_sees_the_last_value,
    watch_wait_for_sees_a_value_from_another_task,
    watch_sender_closed_when_the_receivers_are_gone
);

/// A change not yet seen is reported before `RecvError`; the last value
/// stays readable.
async fn watch_close_reports_unseen_change_first() {
    let (tx, mut rx) = watch::channel(1);
    tx.send(2).unwrap();
    drop(tx);
    assert_eq!(rx.changed().await, Ok(()));
    assert_eq!(*rx.borrow(), 2);
    assert_eq!(rx.changed().await, Err(RecvError));
    assert_eq!(*rx.wait_for(|&v| v == 2).await.unwrap(), 2);
    assert!(rx.wait_for(|&v| v == 3).await.is_err());
}

scenarios_no_rt!(watch_close_reports_unseen_change_first);

/// A task that marks the current value changed processes it first, with
/// nothing sent, then each new one; `mark_unchanged` skips a pending change.
async fn watch_mark_changed_has_the_current_value_processed_first<R: Runtime>(rt: R) {
    let (tx, rx) = watch::channel(1_u32);
    let (seen_tx, seen) = anysync::channel::unbounded();
    let worker = rt.spawn(async move {
        let mut rx = rx;
        rx.mark_changed();
        while rx.changed().await.is_ok() {
            let v = *rx.borrow_and_update();
            seen_tx.send(v).await.unwrap();
        }
    });
    assert_eq!(seen.recv().await, Ok(1), "processed before any send");
    tx.send(2).unwrap();
    assert_eq!(seen.recv().await, Ok(2));
    let mut probe = tx.subscribe();
    tx.send(3).unwrap();
    assert_eq!(probe.has_changed(), Ok(true));
    probe.mark_unchanged();
    assert_eq!(probe.has_changed(), Ok(false));
    assert_eq!(seen.recv().await, Ok(3));
    drop(tx);
    worker.await.unwrap();
    assert!(seen.recv().await.is_err(), "nothing more was seen");
}

scenarios!(watch_mark_changed_has_the_current_value_processed_first);

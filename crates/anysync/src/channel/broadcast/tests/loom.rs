//! Loom models of the `broadcast` races: a publish racing a subscriber
//! leaving, and racing the close.

use core::{future::Future, pin::pin, task::Context};

use crate::{
    channel::broadcast::{Overflow, RecvError, Sender, TryRecvError},
    loom::{self, future::block_on, sync::Arc, thread},
};

/// A message whose drops are visible through its token's strong count.
#[derive(Clone)]
struct Tracked(#[allow(dead_code)] Arc<()>);

#[test]
fn loom_broadcast_publish_vs_subscriber_drop() {
    loom::model(|| {
        let token = Arc::new(());
        let tx = Sender::new(1);
        let leaving = tx.subscribe_with(1, Overflow::DropOldest);
        let mut staying = tx.subscribe_with(1, Overflow::DropOldest);
        let t = thread::spawn(move || drop(leaving));
        tx.try_send(Tracked(Arc::clone(&token)))
            .unwrap_or_else(|_| panic!("a subscriber stays"));
        t.join().unwrap();
        assert!(staying.try_recv().is_ok());
        drop(staying);
        // Every copy (one per queue that held it) is gone.
        assert_eq!(Arc::strong_count(&token), 1);
    });
}

#[test]
fn loom_broadcast_blocked_publish_vs_block_subscriber_drop() {
    loom::model(|| {
        let token = Arc::new(());
        let tx = Arc::new(Sender::new(1));
        let blocker = tx.subscribe_with(1, Overflow::Block);
        let mut other = tx.subscribe_with(2, Overflow::Block);
        tx.try_send(Tracked(Arc::clone(&token)))
            .unwrap_or_else(|_| panic!("room"));
        let tx2 = Arc::clone(&tx);
        let t2 = Arc::clone(&token);
        let publisher = thread::spawn(move || {
            // Waits for `blocker` to make room or leave.
            assert!(block_on(tx2.send(Tracked(t2))).is_ok());
        });
        drop(blocker);
        publisher.join().unwrap();
        assert!(other.try_recv().is_ok());
        assert!(other.try_recv().is_ok());
        assert_eq!(other.try_recv().err(), Some(TryRecvError::Empty));
        drop(other);
        assert_eq!(Arc::strong_count(&token), 1);
        assert_eq!(tx.send_waiters(), 0);
    });
}

#[test]
fn loom_broadcast_blocked_publish_vs_last_subscriber_drop_returns_message() {
    loom::model(|| {
        let token = Arc::new(());
        let tx = Arc::new(Sender::new(1));
        let blocker = tx.subscribe_with(1, Overflow::Block);
        tx.try_send(Tracked(Arc::clone(&token)))
            .unwrap_or_else(|_| panic!("room"));
        let tx2 = Arc::clone(&tx);
        let t2 = Arc::clone(&token);
        let publisher = thread::spawn(move || {
            // Either the subscriber left first (nobody to publish to: the
            // message comes back) or the publish waited and then got it
            // back when the last subscriber left.
            let back = block_on(tx2.send(Tracked(t2))).unwrap_err().0;
            drop(back);
        });
        drop(blocker);
        publisher.join().unwrap();
        assert_eq!(Arc::strong_count(&token), 1);
        assert_eq!(tx.send_waiters(), 0);
    });
}

#[test]
fn loom_broadcast_cancelled_publish_vs_room() {
    loom::model(|| {
        let token = Arc::new(());
        let tx = Arc::new(Sender::new(1));
        let mut blocker = tx.subscribe_with(1, Overflow::Block);
        tx.try_send(Tracked(Arc::clone(&token)))
            .unwrap_or_else(|_| panic!("room"));
        let tx2 = Arc::clone(&tx);
        let t2 = Arc::clone(&token);
        let publisher = thread::spawn(move || {
            let mut send = pin!(tx2.send(Tracked(t2)));
            let mut cx = Context::from_waker(futures_util::task::noop_waker_ref());
            let _ = send.as_mut().poll(&mut cx);
            // Published in full, or not at all.
            send.cancel().is_none()
        });
        assert!(blocker.try_recv().is_ok());
        let published = publisher.join().unwrap();
        assert_eq!(blocker.try_recv().is_ok(), published);
        drop(blocker);
        assert_eq!(Arc::strong_count(&token), 1);
    });
}

#[test]
fn loom_broadcast_publish_vs_close_drains() {
    loom::model(|| {
        let tx = Sender::new(1);
        let mut rx = tx.subscribe_with(1, Overflow::Block);
        let publisher = thread::spawn(move || {
            tx.try_send(1_u32).unwrap_or_else(|_| panic!("room"));
            // Dropping the last sender closes the channel.
        });
        assert_eq!(block_on(rx.recv()), Ok(1));
        assert_eq!(block_on(rx.recv()), Err(RecvError::Closed));
        publisher.join().unwrap();
    });
}

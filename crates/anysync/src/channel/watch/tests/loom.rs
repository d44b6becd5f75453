//! Loom models of the `watch` wake-up races.

use crate::{
    channel::watch::channel,
    loom::{self, future::block_on, thread},
};

#[test]
fn loom_watch_send_vs_changed_loses_no_wakeup() {
    loom::model(|| {
        let (tx, mut rx) = channel(0_u32);
        let sender = thread::spawn(move || {
            tx.send(1).unwrap();
            tx
        });
        block_on(rx.changed()).unwrap();
        assert_eq!(*rx.borrow(), 1);
        drop(sender.join().unwrap());
    });
}

#[test]
fn loom_watch_last_sender_drop_vs_changed_closes() {
    loom::model(|| {
        let (tx, mut rx) = channel(0_u32);
        let dropper = thread::spawn(move || drop(tx));
        assert_eq!(block_on(rx.changed()), Err(crate::channel::RecvError));
        dropper.join().unwrap();
    });
}

#[test]
fn loom_watch_last_receiver_drop_vs_sender_closed() {
    loom::model(|| {
        let (tx, rx) = channel(0_u32);
        let dropper = thread::spawn(move || drop(rx));
        block_on(tx.closed());
        assert!(tx.is_closed());
        dropper.join().unwrap();
    });
}

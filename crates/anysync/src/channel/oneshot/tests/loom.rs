//! Loom models of the `oneshot` races.
//!
//! Under `--cfg anysync_loom` these explore every interleaving; otherwise
//! each body runs once as an ordinary test.

use core::{future::Future, pin::pin, task::Context};

use crate::{
    channel::oneshot::{channel, TryRecvError},
    loom::{self, future::block_on, sync::Arc, thread},
};

/// A value whose drop is visible through its token's strong count.
struct Tracked(#[allow(dead_code)] Arc<()>);

#[test]
fn loom_oneshot_send_vs_receiver_drop_after_poll_drops_value_once() {
    loom::model(|| {
        let token = Arc::new(());
        let (tx, mut rx) = channel();
        let t2 = Arc::clone(&token);
        let sender = thread::spawn(move || {
            // Either delivered (then the receiver's drop drops it) or
            // returned (then dropped here): never both, never neither.
            let _ = tx.send(Tracked(t2));
        });
        {
            let mut fut = pin!(rx.recv());
            let mut cx = Context::from_waker(futures_util::task::noop_waker_ref());
            if let core::task::Poll::Ready(Ok(v)) = fut.as_mut().poll(&mut cx) {
                drop(v);
            }
        }
        drop(rx);
        sender.join().unwrap();
        // Dropped (exactly once: a second drop would be a double free).
        assert_eq!(Arc::strong_count(&token), 1);
    });
}

#[test]
fn loom_oneshot_send_vs_await_delivers() {
    loom::model(|| {
        let (tx, rx) = channel();
        let sender = thread::spawn(move || {
            tx.send(5_u32).unwrap_or_else(|_| panic!("receiver alive"));
        });
        assert_eq!(block_on(rx), Ok(5));
        sender.join().unwrap();
    });
}

#[test]
fn loom_oneshot_sender_drop_vs_await_closes() {
    loom::model(|| {
        let (tx, rx) = channel::<u32>();
        let dropper = thread::spawn(move || drop(tx));
        assert_eq!(block_on(rx), Err(crate::channel::RecvError));
        dropper.join().unwrap();
    });
}

#[test]
fn loom_oneshot_closed_vs_receiver_close() {
    loom::model(|| {
        let (mut tx, mut rx) = channel::<u32>();
        let closer = thread::spawn(move || {
            rx.close();
            assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
        });
        block_on(tx.closed());
        assert!(tx.is_closed());
        closer.join().unwrap();
    });
}

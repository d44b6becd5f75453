//! Loom models of the `oneshot` races.
//!
//! Under `--cfg anysync_loom` these explore every interleaving; otherwise
//! each body runs once as an ordinary test.

use core::{
    future::Future,
    pin::pin,
    task::{Context, Poll},
};

use crate::{
    channel::oneshot::{channel, TryRecvError},
    loom::{
        self,
        future::block_on,
        sync::{
            atomic::{AtomicUsize, Ordering},
            Arc,
        },
        thread,
    },
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

#[test]
fn loom_oneshot_closed_vs_receiver_drop() {
    loom::model(|| {
        let (mut tx, rx) = channel::<u32>();
        let dropper = thread::spawn(move || drop(rx));
        block_on(tx.closed());
        assert!(tx.is_closed());
        assert!(tx.send(1).is_err());
        dropper.join().unwrap();
    });
}

#[test]
fn loom_oneshot_send_vs_repoll_with_another_waker_delivers() {
    // The receiver parks with one waker, then waits with another (the
    // replacement races the sender's wake): the value still arrives.
    loom::model(|| {
        let (tx, mut rx) = channel();
        let sender = thread::spawn(move || {
            tx.send(7_u32).unwrap_or_else(|_| panic!("receiver alive"));
        });
        let first = {
            let mut cx = Context::from_waker(futures_util::task::noop_waker_ref());
            pin!(rx.recv()).poll(&mut cx)
        };
        let got = match first {
            core::task::Poll::Ready(v) => v,
            core::task::Poll::Pending => block_on(rx.recv()),
        };
        assert_eq!(got, Ok(7));
        sender.join().unwrap();
    });
}

#[test]
fn loom_oneshot_send_vs_repoll_with_the_same_waker_wakes_it() {
    // The receiver parks, then is polled again by the same task while the
    // sender sends: a re-poll that leaves the stored waker in place must
    // not miss the wake (the sender either finds the waker or the re-poll
    // finds the value).
    loom::model(|| {
        let woken = Arc::new(AtomicUsize::new(0));
        let waker = futures_util::task::waker(alloc::sync::Arc::new(CountWake(Arc::clone(&woken))));
        let mut cx = Context::from_waker(&waker);
        let (tx, mut rx) = channel();
        let sender = thread::spawn(move || {
            tx.send(7_u32).unwrap_or_else(|_| panic!("receiver alive"));
        });
        let mut got = None;
        // Wakes seen (with `Acquire`, so the send is seen too) just before
        // a poll that returned `Pending`: a wake must come after it.
        let mut wakes_before_pending = 0;
        for _ in 0..2 {
            let wakes = woken.load(Ordering::Acquire);
            match pin!(rx.recv()).poll(&mut cx) {
                Poll::Ready(v) => {
                    got = Some(v);
                    break;
                }
                Poll::Pending => wakes_before_pending = wakes,
            }
        }
        sender.join().unwrap();
        let got = got.unwrap_or_else(|| {
            // Still pending twice: the send came after, and woke the task.
            assert_eq!(woken.load(Ordering::Relaxed), 1);
            assert_eq!(wakes_before_pending, 0, "`Pending` after the wake");
            match pin!(rx.recv()).poll(&mut cx) {
                Poll::Ready(v) => v,
                Poll::Pending => panic!("woken, yet the value is not there"),
            }
        });
        assert_eq!(got, Ok(7));
        assert!(woken.load(Ordering::Relaxed) <= 1);
    });
}

/// A waker that counts its wakes.
struct CountWake(Arc<AtomicUsize>);

impl futures_util::task::ArcWake for CountWake {
    fn wake_by_ref(this: &alloc::sync::Arc<Self>) {
        this.0.fetch_add(1, Ordering::Release);
    }
}

#[test]
fn loom_oneshot_send_vs_close_accounts_for_the_value_once() {
    loom::model(|| {
        let token = Arc::new(());
        let (tx, mut rx) = channel();
        let t2 = Arc::clone(&token);
        let sender = thread::spawn(move || tx.send(Tracked(t2)).is_ok());
        rx.close();
        let got = rx.try_recv();
        let sent = sender.join().unwrap();
        // Sent before the close: received. After: returned and dropped.
        assert_eq!(got.is_ok(), sent);
        if !sent {
            assert!(matches!(got, Err(TryRecvError::Closed)));
        }
        drop(got);
        drop(rx);
        assert_eq!(Arc::strong_count(&token), 1);
    });
}

#[test]
fn loom_oneshot_sender_drop_vs_receiver_drop_with_both_parked() {
    // Both sides have a waker stored when both go away at once.
    loom::model(|| {
        let (mut tx, mut rx) = channel::<u32>();
        let mut cx = Context::from_waker(futures_util::task::noop_waker_ref());
        assert!(pin!(rx.recv()).poll(&mut cx).is_pending());
        assert!(pin!(tx.closed()).poll(&mut cx).is_pending());
        let dropper = thread::spawn(move || drop(tx));
        drop(rx);
        dropper.join().unwrap();
    });
}

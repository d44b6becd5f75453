//! Loom models of the queue engine's close and hand-off races.
//!
//! Under `--cfg anysync_loom` these explore every interleaving; otherwise
//! each body runs once as an ordinary test, so they never rot.

use alloc::{vec, vec::Vec};
use core::{future::Future, pin::pin, task::Context};

use crate::{
    channel,
    loom::{self, future::block_on, sync::Arc, thread},
    queue::Queue,
};

/// Polls `future` once with a no-op waker, then drops it. Returns its
/// output if it was ready.
fn poll_once_then_drop<F: Future>(future: F) -> Option<F::Output> {
    let mut future = pin!(future);
    let mut cx = Context::from_waker(futures_util::task::noop_waker_ref());
    match future.as_mut().poll(&mut cx) {
        core::task::Poll::Ready(out) => Some(out),
        core::task::Poll::Pending => None,
    }
}

/// Close racing send: every value is received exactly once or handed back
/// to its sender, never lost or duplicated; the receiver ends.
#[test]
fn loom_close_racing_send() {
    loom::model(|| {
        let (tx, rx) = channel::bounded::<u8>(1);
        let closer = tx.clone();
        let sender = thread::spawn(move || {
            let mut returned = Vec::new();
            for v in [1, 2] {
                if let Err(e) = block_on(tx.send(v)) {
                    returned.push(e.0);
                }
            }
            returned
        });
        let closing = thread::spawn(move || {
            closer.close();
        });
        let mut got = Vec::new();
        while let Ok(v) = block_on(rx.recv()) {
            got.push(v);
        }
        let returned = sender.join().unwrap();
        closing.join().unwrap();
        let mut all: Vec<u8> = got.iter().chain(&returned).copied().collect();
        all.sort_unstable();
        assert_eq!(all, vec![1, 2], "got {got:?}, returned {returned:?}");
        // FIFO: what was received is a prefix of what was sent.
        assert_eq!(got, [1, 2][..got.len()]);
        assert_eq!(rx.stats().recv_waiters, 0);
        assert_eq!(rx.stats().items_reserved, 0);
    });
}

/// A getter woken with an item and dropped before it runs passes the item
/// on to the other getter: nothing is lost.
#[test]
fn loom_woken_getter_dropped_passes_the_item_on() {
    loom::model(|| {
        let q = Arc::new(Queue::unbounded());
        let (q1, q2) = (Arc::clone(&q), Arc::clone(&q));
        let dropper = thread::spawn(move || poll_once_then_drop(q1.get()).map(Result::unwrap));
        let waiter = thread::spawn(move || block_on(q2.get()).unwrap());
        q.try_put(1).unwrap();
        let dropped_got = dropper.join().unwrap();
        if dropped_got.is_some() {
            // The dropper took 1 itself; give the waiter something too.
            q.try_put(2).unwrap();
        }
        let waiter_got = waiter.join().unwrap();
        match dropped_got {
            Some(v) => assert_eq!((v, waiter_got), (1, 2)),
            None => assert_eq!(waiter_got, 1),
        }
        assert_eq!(q.try_get(), Err(crate::queue::TryGetError::Empty));
        let s = q.stats();
        assert_eq!((s.recv_waiters, s.items_reserved), (0, 0));
    });
}

/// A putter woken with a free slot and dropped passes the slot on to the
/// other putter; the dropped putter's item is never put.
#[test]
fn loom_woken_putter_dropped_passes_the_slot_on() {
    loom::model(|| {
        let q = Arc::new(Queue::bounded(1));
        q.try_put(0).unwrap();
        let (q1, q2) = (Arc::clone(&q), Arc::clone(&q));
        let dropper = thread::spawn(move || poll_once_then_drop(q1.put(1)).is_some());
        let waiter = thread::spawn(move || block_on(q2.put(2)).unwrap());
        assert_eq!(block_on(q.get()), Ok(0));
        let dropper_put = dropper.join().unwrap();
        let mut got = vec![block_on(q.get()).unwrap()];
        if dropper_put {
            got.push(block_on(q.get()).unwrap());
        }
        waiter.join().unwrap();
        got.sort_unstable();
        let expected = if dropper_put { vec![1, 2] } else { vec![2] };
        assert_eq!(got, expected);
        let s = q.stats();
        assert_eq!((s.send_waiters, s.slots_reserved, s.len), (0, 0, 0));
    });
}

/// A waiting putter dropped (it unlinks itself under the senders' lock
/// alone) while a get frees its slot: the slot is neither granted to the
/// departed putter nor lost.
#[test]
fn loom_waiting_putter_dropped_while_a_get_frees_the_slot() {
    loom::model(|| {
        let q = Arc::new(Queue::bounded(1));
        q.try_put(0).unwrap();
        let q1 = Arc::clone(&q);
        let dropper = thread::spawn(move || poll_once_then_drop(q1.put(1)).is_some());
        assert_eq!(q.try_get(), Ok(0));
        let dropper_put = dropper.join().unwrap();
        if dropper_put {
            assert_eq!(q.try_get(), Ok(1));
        }
        let s = q.stats();
        assert_eq!((s.send_waiters, s.slots_reserved, s.len), (0, 0, 0));
        assert_eq!(q.try_put(2), Ok(()));
    });
}

/// `join` racing the last `task_done` from another thread is released.
#[test]
fn loom_join_vs_task_done() {
    loom::model(|| {
        let q = Arc::new(Queue::unbounded());
        q.try_put(1).unwrap();
        let q2 = Arc::clone(&q);
        let worker = thread::spawn(move || {
            assert_eq!(block_on(q2.get()), Ok(1));
            q2.task_done().unwrap();
        });
        block_on(q.join());
        worker.join().unwrap();
        assert_eq!(q.unfinished_tasks(), 0);
    });
}

/// Dropping the last receiver while a sender waits hands the value back.
#[test]
fn loom_last_receiver_dropped_while_sending() {
    loom::model(|| {
        let (tx, rx) = channel::bounded::<u8>(1);
        tx.try_send(1).unwrap();
        let sender = thread::spawn(move || block_on(tx.send(2)));
        drop(rx);
        assert_eq!(sender.join().unwrap().unwrap_err().0, 2);
    });
}

/// A `reserve_many` that may have a slot set aside is dropped while a
/// receiver frees slots: no slot is lost, and a later send gets one.
#[test]
fn loom_reserve_many_dropped_while_slots_free_up() {
    loom::model(|| {
        let (tx, rx) = channel::bounded::<u8>(2);
        tx.try_send(1).unwrap();
        tx.try_send(2).unwrap();
        let receiver = thread::spawn(move || {
            let mut got = Vec::new();
            for _ in 0..3 {
                got.push(block_on(rx.recv()).unwrap());
            }
            (got, rx)
        });
        let _ = poll_once_then_drop(tx.reserve_many(2));
        block_on(tx.send(3)).unwrap();
        let (got, rx) = receiver.join().unwrap();
        assert_eq!(got, [1, 2, 3]);
        let s = rx.stats();
        assert_eq!(
            (s.slots_reserved, s.send_waiters, s.len),
            (0, 0, 0),
            "{s:?}"
        );
    });
}

/// The last receiver is dropped while a value is being sent: the value is
/// either handed back to the sender or dropped with the receiver, exactly
/// once either way.
#[test]
fn loom_last_receiver_dropped_racing_a_send_drops_the_value_once() {
    use crate::loom::sync::atomic::{AtomicUsize, Ordering};

    struct Counted(Arc<AtomicUsize>);
    impl Drop for Counted {
        fn drop(&mut self) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    loom::model(|| {
        let drops = Arc::new(AtomicUsize::new(0));
        let (tx, rx) = channel::bounded::<Counted>(1);
        let d = Arc::clone(&drops);
        let sender = thread::spawn(move || {
            let sent = tx.try_send(Counted(d)).is_ok();
            (sent, tx)
        });
        drop(rx);
        let (_sent, tx) = sender.join().unwrap();
        assert_eq!(drops.load(Ordering::SeqCst), 1, "dropped once, by now");
        assert!(tx.is_closed());
        drop(tx);
        assert_eq!(drops.load(Ordering::SeqCst), 1);
    });
}

//! A waker whose `clone` calls back into the queue or channel it waits on,
//! while another task waits there too: every waiting operation clones its
//! waker with the lock released when it starts waiting, so the call back
//! neither deadlocks nor finds the lock held.

use crate::loom::sync::atomic::{AtomicUsize, Ordering};
use alloc::sync::Arc;

use crate::{
    channel::{self, broadcast, oneshot, watch, StaticChannel},
    queue::Queue,
    util::{
        hostile::{locks_held, Hostile},
        test::TestTask,
    },
};

/// A waker source whose `clone` runs `call_back` (which takes the
/// primitive's lock) when no wait-queue lock is held, and counts a clone
/// made under one instead of calling back (that would hang the test rather
/// than fail it).
struct CallsBack {
    hostile: Hostile,
    called: Arc<AtomicUsize>,
    under_lock: Arc<AtomicUsize>,
}

impl CallsBack {
    fn new(call_back: impl Fn() + Send + Sync + 'static) -> Self {
        let hostile = Hostile::new();
        let called = Arc::new(AtomicUsize::new(0));
        let under_lock = Arc::new(AtomicUsize::new(0));
        let (c, u) = (Arc::clone(&called), Arc::clone(&under_lock));
        hostile.on_clone(move || {
            if locks_held() == 0 {
                call_back();
                c.fetch_add(1, Ordering::SeqCst);
            } else {
                u.fetch_add(1, Ordering::SeqCst);
            }
        });
        Self {
            hostile,
            called,
            under_lock,
        }
    }

    #[track_caller]
    fn assert_called_back_outside_the_lock(&self) {
        assert_eq!(
            self.under_lock.load(Ordering::SeqCst),
            0,
            "cloned under the lock"
        );
        assert!(self.called.load(Ordering::SeqCst) > 0, "never cloned");
    }
}

#[test]
fn channel_send_recv_and_reserve_clone_their_wakers_outside_the_lock() {
    let (tx, rx) = channel::bounded(1);
    tx.try_send(0).unwrap();
    let mut first = TestTask::new(tx.send(1));
    first.pending();
    let probe = tx.clone();
    let w = CallsBack::new(move || assert_eq!(probe.send_waiters(), 1));
    let mut send = TestTask::new(tx.send(2));
    assert!(send.poll_with(&w.hostile.waker()).is_pending());
    w.assert_called_back_outside_the_lock();
    let probe = tx.clone();
    let w2 = CallsBack::new(move || assert_eq!(probe.send_waiters(), 2));
    let mut reserve = TestTask::new(tx.reserve_many(1));
    assert!(reserve.poll_with(&w2.hostile.waker()).is_pending());
    w2.assert_called_back_outside_the_lock();
    assert_eq!(rx.try_recv(), Ok(0));
    assert_eq!(first.ready(), Ok(()));
    assert_eq!(rx.try_recv(), Ok(1));
    assert_eq!(send.ready(), Ok(()));
    assert_eq!(rx.try_recv(), Ok(2));
    drop(reserve.ready().unwrap());

    let (tx, rx) = channel::unbounded::<u8>();
    let mut first = TestTask::new(rx.recv());
    first.pending();
    let probe = rx.clone();
    let w = CallsBack::new(move || assert_eq!(probe.recv_waiters(), 1));
    let mut recv = TestTask::new(rx.recv());
    assert!(recv.poll_with(&w.hostile.waker()).is_pending());
    w.assert_called_back_outside_the_lock();
    tx.try_send(1).unwrap();
    tx.try_send(2).unwrap();
    assert_eq!(first.ready(), Ok(1));
    assert_eq!(recv.ready(), Ok(2));
}

#[test]
fn queue_put_and_get_clone_their_wakers_outside_the_lock() {
    let q = Arc::new(Queue::<u8>::unbounded());
    let mut first = TestTask::new(q.get());
    first.pending();
    let probe = Arc::clone(&q);
    let w = CallsBack::new(move || assert_eq!(probe.len(), 0));
    let mut get = TestTask::new(q.get());
    assert!(get.poll_with(&w.hostile.waker()).is_pending());
    w.assert_called_back_outside_the_lock();
    q.try_put(1).unwrap();
    q.try_put(2).unwrap();
    assert_eq!(first.ready(), Ok(1));
    assert_eq!(get.ready(), Ok(2));
}

#[test]
fn static_channel_recv_clones_its_waker_outside_the_lock() {
    let ch = Arc::new(StaticChannel::<u8, 1>::new());
    let mut first = TestTask::new(ch.recv());
    first.pending();
    let probe = Arc::clone(&ch);
    let w = CallsBack::new(move || assert!(probe.is_empty()));
    let mut recv = TestTask::new(ch.recv());
    assert!(recv.poll_with(&w.hostile.waker()).is_pending());
    w.assert_called_back_outside_the_lock();
    ch.try_send(1).unwrap();
    assert_eq!(first.ready(), Ok(1));
    ch.try_send(2).unwrap();
    assert_eq!(recv.ready(), Ok(2));
}

#[test]
fn broadcast_recv_clones_its_waker_outside_the_lock() {
    let (tx, mut rx) = broadcast::channel::<u8>(2);
    let mut other = tx.subscribe();
    let mut first = TestTask::new(other.recv());
    first.pending();
    let tx = Arc::new(tx);
    let probe = Arc::clone(&tx);
    let w = CallsBack::new(move || assert_eq!(probe.len(), 0));
    let mut recv = TestTask::new(rx.recv());
    assert!(recv.poll_with(&w.hostile.waker()).is_pending());
    w.assert_called_back_outside_the_lock();
    tx.try_send(5).unwrap();
    assert_eq!(first.ready(), Ok(5));
    assert_eq!(recv.ready(), Ok(5));
}

#[test]
fn watch_changed_clones_its_waker_outside_the_lock() {
    let (tx, rx) = watch::channel(0u8);
    let mut other = rx.clone();
    let mut first = TestTask::new(other.changed());
    first.pending();
    let tx = Arc::new(tx);
    let probe = Arc::clone(&tx);
    let w = CallsBack::new(move || assert_eq!(*probe.borrow(), 0));
    let mut rx = rx;
    let mut changed = TestTask::new(rx.changed());
    assert!(changed.poll_with(&w.hostile.waker()).is_pending());
    w.assert_called_back_outside_the_lock();
    tx.send(1).unwrap();
    assert_eq!(first.ready(), Ok(()));
    assert_eq!(changed.ready(), Ok(()));
}

#[test]
fn oneshot_recv_and_closed_clone_their_wakers_outside_the_lock() {
    let (tx, rx) = oneshot::channel::<u8>();
    let tx = Arc::new(std::sync::Mutex::new(Some(tx)));
    let probe = Arc::clone(&tx);
    let w = CallsBack::new(move || {
        assert!(!probe.lock().unwrap().as_ref().unwrap().is_closed());
    });
    let mut recv = TestTask::new(rx);
    assert!(recv.poll_with(&w.hostile.waker()).is_pending());
    w.assert_called_back_outside_the_lock();
    let tx = tx.lock().unwrap().take().unwrap();
    tx.send(3).unwrap();
    assert_eq!(recv.ready(), Ok(3));

    let (mut tx, rx) = oneshot::channel::<u8>();
    let rx = Arc::new(std::sync::Mutex::new(rx));
    let probe = Arc::clone(&rx);
    let w = CallsBack::new(move || assert!(probe.lock().unwrap().is_empty()));
    let mut closed = TestTask::new(tx.closed());
    assert!(closed.poll_with(&w.hostile.waker()).is_pending());
    w.assert_called_back_outside_the_lock();
    rx.lock().unwrap().close();
    assert_eq!(closed.ready(), ());
}

//! Tests of `StaticChannel` (the engine itself is tested in
//! `queue/tests.rs`).

use crate::{
    channel::{RecvError, SendError, StaticChannel, TryRecvError, TrySendError},
    util::test::TestTask,
};

static SHARED: StaticChannel<u32, 2> = StaticChannel::new();

#[test]
fn static_channel_in_a_static() {
    SHARED.try_send(1).unwrap();
    SHARED.try_send(2).unwrap();
    assert_eq!(SHARED.try_send(3), Err(TrySendError::Full(3)));
    assert!(SHARED.is_full());
    let mut s = TestTask::new(SHARED.send(3));
    s.pending();
    assert_eq!(SHARED.try_recv(), Ok(1));
    assert_eq!(s.wakes(), 1);
    s.ready().unwrap();
    assert_eq!(TestTask::new(SHARED.recv()).ready(), Ok(2));
    assert_eq!(SHARED.try_recv(), Ok(3));
    assert_eq!(SHARED.len(), 0);
}

#[test]
fn static_channel_ring_wraps_around() {
    let ch = StaticChannel::<usize, 3>::new();
    for round in 0..10 {
        for i in 0..3 {
            ch.try_send(round * 3 + i).unwrap();
        }
        for i in 0..3 {
            assert_eq!(ch.try_recv(), Ok(round * 3 + i));
        }
        ch.try_send(round).unwrap();
        assert_eq!(ch.try_recv(), Ok(round));
    }
}

#[test]
fn static_channel_close_drains_then_fails() {
    let ch = StaticChannel::<u8, 2>::new();
    ch.try_send(1).unwrap();
    let mut r = TestTask::new(ch.recv());
    r.ready().unwrap();
    let mut r = TestTask::new(ch.recv());
    r.pending();
    ch.try_send(2).unwrap();
    ch.try_send(3).unwrap();
    let mut s = TestTask::new(ch.send(4));
    s.pending();
    assert!(ch.close());
    assert_eq!(s.ready(), Err(SendError(4)));
    assert_eq!(r.ready(), Ok(2));
    assert_eq!(ch.try_recv(), Ok(3));
    assert_eq!(ch.try_recv(), Err(TryRecvError::Closed));
    assert_eq!(TestTask::new(ch.recv()).ready(), Err(RecvError));
    let st = ch.stats();
    assert_eq!(
        (
            st.send_waiters,
            st.recv_waiters,
            st.slots_reserved,
            st.items_reserved
        ),
        (0, 0, 0, 0)
    );
}

#[test]
fn static_channel_drops_its_values_once() {
    use alloc::sync::Arc;
    let v = Arc::new(());
    {
        let ch = StaticChannel::<Arc<()>, 4>::new();
        for _ in 0..3 {
            ch.try_send(v.clone()).unwrap();
        }
        drop(ch.try_recv().unwrap());
        assert_eq!(Arc::strong_count(&v), 3);
    }
    assert_eq!(Arc::strong_count(&v), 1);
}

#[test]
#[should_panic(expected = "StaticChannel::new: the capacity `N` must be greater than zero")]
fn static_channel_of_zero_panics() {
    let _ = StaticChannel::<u8, 0>::new();
}

#[test]
fn static_channel_blocking_and_debug() {
    static CH: StaticChannel<u8, 1> = StaticChannel::new();
    let t = std::thread::spawn(|| {
        for i in 0..50 {
            CH.send_blocking(i).unwrap();
        }
    });
    for i in 0..50 {
        assert_eq!(CH.recv_blocking(), Ok(i));
    }
    t.join().unwrap();
    assert!(alloc::format!("{CH:?}").contains("capacity: 1"));
    static_assertions::assert_impl_all!(StaticChannel<u8, 4>: Send, Sync);
}

#[test]
fn static_send_whose_waker_clone_panics_loses_no_slot() {
    use crate::util::hostile::{panics, Hostile};

    let ch = StaticChannel::<u32, 1>::new();
    ch.try_send(1).unwrap();
    let hostile = Hostile::new();
    hostile.panic_on_clone(true);
    let mut send = TestTask::new(ch.send(2));
    assert!(panics(|| {
        let _ = send.poll_with(&hostile.waker());
    }));
    assert_eq!(ch.stats().send_waiters, 0);
    drop(send);
    assert_eq!(ch.try_recv(), Ok(1));
    assert_eq!(ch.try_send(3), Ok(()));
    let s = ch.stats();
    assert_eq!((s.send_waiters, s.slots_reserved), (0, 0));
}

#[test]
fn static_send_cancel_hands_the_value_back_and_the_slot_on() {
    use core::pin::pin;

    use futures_util::FutureExt;

    let ch = StaticChannel::<u32, 1>::new();
    ch.try_send(1).unwrap();
    let mut s1 = pin!(ch.send(2));
    assert!(s1.as_mut().now_or_never().is_none());
    let mut s2 = TestTask::new(ch.send(3));
    s2.pending();
    assert_eq!(ch.try_recv(), Ok(1)); // the slot goes to s1
    assert_eq!(s1.as_mut().cancel(), Some(2));
    assert!(s2.is_woken(), "the granted slot was not passed on");
    assert_eq!(s2.ready(), Ok(()));
    assert_eq!(ch.try_recv(), Ok(3));
    let s = ch.stats();
    assert_eq!((s.send_waiters, s.slots_reserved), (0, 0));
}

#[test]
fn static_channel_statistics() {
    let ch = StaticChannel::<u8, 1>::new();
    ch.try_send(1).unwrap();
    let mut send = TestTask::new(ch.send(2));
    send.pending();
    let s = ch.statistics();
    assert_eq!((s.len, s.capacity, s.reserved), (1, Some(1), 0));
    assert_eq!(
        (s.send_waiters, s.recv_waiters, ch.send_waiters()),
        (1, 0, 1)
    );
    assert_eq!((s.senders, s.receivers, s.closed), (None, None, false));
    assert_eq!(ch.try_recv(), Ok(1));
    assert_eq!(
        ch.statistics().reserved,
        1,
        "the freed slot is the sender's"
    );
    send.ready().unwrap();
    assert_eq!(TestTask::new(ch.recv()).ready(), Ok(2));
    let mut recv = TestTask::new(ch.recv());
    recv.pending();
    assert_eq!(ch.recv_waiters(), 1);
    ch.close();
    assert_eq!(recv.ready(), Err(RecvError));
    let s = ch.statistics();
    assert_eq!((s.len, s.recv_waiters, s.closed), (0, 0, true));
}

/// `closed` is set even if a receiver's wake panics in the close.
#[test]
fn static_close_whose_wake_panics_still_completes_closed() {
    use crate::util::hostile::{panics, Hostile};

    let ch = StaticChannel::<u32, 1>::new();
    let hostile = Hostile::new();
    let mut recv = TestTask::new(ch.recv());
    assert!(recv.poll_with(&hostile.waker()).is_pending());
    let mut closed = TestTask::new(ch.closed());
    closed.pending();
    hostile.panic_on_wake(true);
    assert!(panics(|| {
        ch.close();
    }));
    assert!(closed.is_woken());
    closed.ready();
    TestTask::new(ch.closed()).ready();
    drop(recv);
}

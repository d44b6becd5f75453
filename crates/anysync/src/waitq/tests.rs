//! Direct tests of the wait queue: order, states, batching, ownership.

use alloc::{boxed::Box, vec::Vec};
use core::{pin::Pin, task::Waker};

use futures_test::task::new_count_waker;

use super::{Visit, WaitQueue, WaitState, Waiter};
use crate::util::wake_batch::WakeBatch;

type Q = WaitQueue<u32, u32>;

/// The raw node operations, for testing the list itself (primitives reach
/// them only through `Wait`/`WaitNode`).
impl<D> Waiter<D> {
    fn enqueue<S>(self: Pin<&mut Self>, guard: &mut super::QueueGuard<'_, S, D>, waker: &Waker) {
        self.link(guard, waker.clone(), false);
    }

    fn state<S>(self: Pin<&mut Self>, guard: &super::QueueGuard<'_, S, D>) -> WaitState {
        // SAFETY: `with_locked` runs this with the queue's lock held.
        self.with_locked(guard, |p| unsafe { (*p).state })
    }

    fn update_waker<S>(
        self: Pin<&mut Self>,
        guard: &mut super::QueueGuard<'_, S, D>,
        waker: &Waker,
    ) -> Option<Waker> {
        self.with_locked(guard, |p| {
            // SAFETY: `with_locked` runs this with the queue's lock held.
            let slot = unsafe { &mut (*p).waker };
            match slot {
                Some(old) if old.will_wake(waker) => None,
                _ => slot.replace(waker.clone()),
            }
        })
    }
}

fn waiters(n: u32) -> Vec<Pin<Box<Waiter<u32>>>> {
    (0..n).map(|i| Box::pin(Waiter::new(i))).collect()
}

#[test]
fn wakes_in_fifo_order_and_marks_woken() {
    let q = Q::new(0);
    let (waker, count) = new_count_waker();
    let mut ws = waiters(3);
    {
        let mut g = q.lock();
        for w in &mut ws {
            w.as_mut().enqueue(&mut g, &waker);
        }
        assert_eq!(g.len(), 3);
    }
    let mut order = Vec::new();
    q.wake_loop(|g, batch| {
        g.wake_front(batch, |state, data, _| {
            *state += 1;
            order.push(*data);
            Visit::Wake
        })
    });
    assert_eq!(order, [0, 1, 2]);
    assert_eq!(count.get(), 3);
    let mut g = q.lock();
    assert_eq!(*g.state(), 3);
    assert!(g.is_empty());
    for w in &mut ws {
        assert_eq!(w.as_mut().state(&g), WaitState::Woken);
        assert_eq!(w.as_mut().remove(&mut g).0, WaitState::Woken);
        assert_eq!(w.as_mut().state(&g), WaitState::Idle);
    }
}

#[test]
fn wake_back_takes_the_newest_and_stop_leaves_the_rest() {
    let q = Q::new(0);
    let (waker, _) = new_count_waker();
    let mut ws = waiters(3);
    let mut g = q.lock();
    for w in &mut ws {
        w.as_mut().enqueue(&mut g, &waker);
    }
    let mut batch = WakeBatch::new();
    let mut seen = Vec::new();
    let more = g.wake_back(&mut batch, |_, data, _| {
        seen.push(*data);
        if seen.len() == 1 {
            Visit::Wake
        } else {
            Visit::Stop
        }
    });
    assert!(!more);
    assert_eq!(seen, [2, 1]);
    assert_eq!(g.len(), 2);
    for w in &mut ws {
        w.as_mut().remove(&mut g);
    }
    assert!(g.is_empty());
    drop(g);
    batch.wake_all();
}

#[test]
fn removing_from_the_middle_keeps_the_links() {
    let q = Q::new(0);
    let (waker, _) = new_count_waker();
    let mut ws = waiters(5);
    let mut g = q.lock();
    for w in &mut ws {
        w.as_mut().enqueue(&mut g, &waker);
    }
    assert_eq!(ws[2].as_mut().remove(&mut g).0, WaitState::Waiting);
    assert_eq!(ws[0].as_mut().remove(&mut g).0, WaitState::Waiting);
    assert_eq!(ws[4].as_mut().remove(&mut g).0, WaitState::Waiting);
    let mut batch = WakeBatch::new();
    let mut order = Vec::new();
    g.wake_front(&mut batch, |_, d, _| {
        order.push(*d);
        Visit::Wake
    });
    assert_eq!(order, [1, 3]);
    assert!(g.is_empty());
    drop(g);
    batch.wake_all();
}

#[test]
fn sequence_numbers_bound_a_broadcast_across_batches() {
    // More waiters than a batch holds, plus late arrivals while the lock is
    // released between batches: only the ones present at the start wake.
    let q = Q::new(0);
    let (waker, count) = new_count_waker();
    let mut early = waiters(40);
    let mut late = waiters(3);
    {
        let mut g = q.lock();
        for w in &mut early {
            w.as_mut().enqueue(&mut g, &waker);
        }
    }
    let mut end = None;
    let mut rounds = 0;
    let mut late_iter = late.iter_mut();
    q.wake_loop(|g, batch| {
        rounds += 1;
        let end = *end.get_or_insert(g.next_seq());
        if let Some(w) = late_iter.next() {
            w.as_mut().enqueue(g, &waker);
        }
        g.wake_front(
            batch,
            |_, _, seq| if seq < end { Visit::Wake } else { Visit::Stop },
        )
    });
    assert!(rounds >= 3, "40 waiters need several batches");
    assert_eq!(count.get(), 40);
    let mut g = q.lock();
    assert_eq!(g.len(), rounds.min(3));
    for w in late.iter_mut().chain(early.iter_mut()) {
        w.as_mut().remove(&mut g);
    }
}

#[test]
fn update_waker_returns_the_replaced_one() {
    let q = Q::new(0);
    let (a, a_count) = new_count_waker();
    let (b, b_count) = new_count_waker();
    let mut w = Box::pin(Waiter::new(0));
    let mut g = q.lock();
    w.as_mut().enqueue(&mut g, &a);
    assert!(
        w.as_mut().update_waker(&mut g, &a).is_none(),
        "same waker: no swap"
    );
    let old = w.as_mut().update_waker(&mut g, &b).expect("swapped");
    drop(g);
    drop(old);
    q.wake_loop(|g, batch| g.wake_front(batch, |_, _, _| Visit::Wake));
    assert_eq!((a_count.get(), b_count.get()), (0, 1));
    let mut g = q.lock();
    w.as_mut().remove(&mut g);
}

#[test]
#[should_panic(expected = "waiter used with two queues")]
fn a_waiter_cannot_move_between_queues() {
    let (q1, q2) = (Q::new(0), Q::new(0));
    let (waker, _) = new_count_waker();
    let mut w = Box::pin(Waiter::new(0));
    {
        let mut g = q1.lock();
        w.as_mut().enqueue(&mut g, &waker);
        let _ = w.as_mut().remove(&mut g);
    }
    let g2 = q2.lock();
    let _ = w.as_mut().with_locked(&g2, |p| {
        // SAFETY: never reached: `with_locked` panics first.
        unsafe { (*p).state }
    });
}

mod wait {
    //! `Wait`: the node's owner-side handle, whose drop leaves the queue.

    use alloc::{sync::Arc, vec, vec::Vec};
    use core::pin::pin;
    use std::sync::Mutex;

    use futures_test::task::new_count_waker;

    use crate::waitq::{QueueGuard, Visit, Wait, WaitOwner, WaitQueue, WaitState};

    #[derive(Default)]
    struct Owner {
        queue: WaitQueue<u32, u32>,
        abandoned: Mutex<Vec<(WaitState, u32)>>,
    }

    impl Default for WaitQueue<u32, u32> {
        fn default() -> Self {
            WaitQueue::new(0)
        }
    }

    impl WaitOwner for Owner {
        type State = u32;
        type Data = u32;

        fn wait_queue(&self) -> &WaitQueue<u32, u32> {
            &self.queue
        }

        fn abandon(&self, queue: QueueGuard<'_, u32, u32>, was: WaitState, data: &mut u32) {
            assert!(queue.is_empty() || was == WaitState::Waiting);
            drop(queue);
            self.abandoned.lock().unwrap().push((was, *data));
        }
    }

    #[test]
    fn dropping_a_queued_wait_unlinks_it_and_reports_waiting() {
        let owner = Owner::default();
        let (waker, _) = new_count_waker();
        {
            let mut a = pin!(Wait::new(&owner, 1));
            let mut b = pin!(Wait::new(&owner, 2));
            for w in [a.as_mut(), b.as_mut()] {
                let (o, mut node) = w.split();
                node.enqueue(&mut o.queue.lock(), &waker);
            }
            assert_eq!(owner.queue.lock().len(), 2);
        }
        assert!(owner.queue.lock().is_empty());
        assert_eq!(
            *owner.abandoned.lock().unwrap(),
            vec![(WaitState::Waiting, 2), (WaitState::Waiting, 1)]
        );
    }

    #[test]
    fn dropping_a_woken_wait_hands_its_grant_back() {
        let owner = Owner::default();
        let (waker, count) = new_count_waker();
        let mut a = Box::pin(Wait::new(&owner, 7));
        {
            let (o, mut node) = a.as_mut().split();
            node.enqueue(&mut o.queue.lock(), &waker);
        }
        owner.queue.wake_loop(|g, batch| {
            g.wake_front(batch, |_, d, _| {
                *d += 1;
                Visit::Wake
            })
        });
        assert_eq!(count.get(), 1);
        drop(a);
        assert_eq!(
            *owner.abandoned.lock().unwrap(),
            vec![(WaitState::Woken, 8)]
        );
    }

    #[test]
    fn a_consumed_or_never_queued_wait_reports_nothing() {
        let owner = Owner::default();
        let (waker, _) = new_count_waker();
        drop(Wait::new(&owner, 1));
        let mut a = Box::pin(Wait::new(&owner, 2));
        {
            let (o, mut node) = a.as_mut().split();
            node.enqueue(&mut o.queue.lock(), &waker);
        }
        owner
            .queue
            .wake_loop(|g, batch| g.wake_front(batch, |_, _, _| Visit::Wake));
        {
            let (_, mut node) = a.as_mut().split();
            assert_eq!(node.take_woken(|d| *d), Some(2));
            assert!(!node.is_queued());
        }
        drop(a);
        assert!(owner.abandoned.lock().unwrap().is_empty());
    }

    #[test]
    fn leave_is_the_same_as_drop_and_happens_once() {
        let owner = Owner::default();
        let (waker, _) = new_count_waker();
        let mut a = Box::pin(Wait::new(&owner, 3));
        {
            let (o, mut node) = a.as_mut().split();
            node.enqueue(&mut o.queue.lock(), &waker);
        }
        a.as_mut().leave();
        assert!(!a.is_queued());
        drop(a);
        assert_eq!(
            *owner.abandoned.lock().unwrap(),
            vec![(WaitState::Waiting, 3)]
        );
    }

    #[test]
    fn an_owned_wait_keeps_its_queue_alive_while_it_unlinks() {
        // The `Wait` holds the last `Arc`: the queue must still be there when
        // its drop unlinks the node (miri checks this).
        let owner = Arc::new(Owner::default());
        let (waker, _) = new_count_waker();
        let mut a = Box::pin(Wait::new(Arc::clone(&owner), 4));
        let mut b = Box::pin(Wait::new(Arc::clone(&owner), 5));
        for w in [a.as_mut(), b.as_mut()] {
            let (o, mut node) = w.split();
            node.enqueue(&mut o.queue.lock(), &waker);
        }
        drop(owner);
        drop(a);
        drop(b);
    }

    #[test]
    fn a_wake_that_panics_does_not_strand_later_batches() {
        use crate::util::hostile::{panics, Hostile};
        let owner = Owner::default();
        let bad = Hostile::new();
        let (good, count) = new_count_waker();
        let mut waits: Vec<_> = (0..40).map(|i| Box::pin(Wait::new(&owner, i))).collect();
        for (i, w) in waits.iter_mut().enumerate() {
            let (o, mut node) = w.as_mut().split();
            let waker = if i == 0 { bad.waker() } else { good.clone() };
            node.enqueue(&mut o.queue.lock(), &waker);
        }
        bad.panic_on_wake(true);
        assert!(panics(|| owner.queue.wake_loop(
            |g, batch| g.wake_front(batch, |_, _, _| Visit::Wake)
        )));
        assert_eq!(count.get(), 39, "every other waiter was woken");
        assert!(owner.queue.lock().is_empty());
    }

    use alloc::boxed::Box;
}

//! Hand-polled unit tests of the queue engine through `Queue`,
//! `LifoQueue` and `PriorityQueue`.

use alloc::{sync::Arc, vec, vec::Vec};
use core::sync::atomic::{AtomicUsize, Ordering};

use futures_test::task::new_count_waker;

use super::{
    LifoQueue, PriorityQueue, PutError, Queue, ShutDown, TaskDoneError, TryGetError, TryPutError,
};
use crate::{
    chan::{Mode, Stats},
    util::test::TestTask,
};

mod hostile;
mod loom;

/// Nothing stranded once no futures are alive: no waiter linked, no slot
/// or item promised to anyone.
#[track_caller]
fn assert_quiet(s: Stats) {
    assert_eq!(s.send_waiters, 0, "putters left linked: {s:?}");
    assert_eq!(s.recv_waiters, 0, "getters left linked: {s:?}");
    assert_eq!(s.slots_reserved, 0, "slots left promised: {s:?}");
    assert_eq!(s.items_reserved, 0, "items left promised: {s:?}");
}

/// Counts how many times values of this type were dropped.
#[derive(Debug)]
struct DropCount(Arc<AtomicUsize>);

impl Drop for DropCount {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

// ----- FIFO and capacity -----

#[test]
fn queue_fifo_and_capacity() {
    let q = Queue::bounded(2);
    TestTask::new(q.put('a')).ready().unwrap();
    TestTask::new(q.put('b')).ready().unwrap();
    let mut c = TestTask::new(q.put('c'));
    c.pending();
    assert!(q.is_full());
    assert_eq!(q.put_waiters(), 1);
    assert_eq!(TestTask::new(q.get()).ready(), Ok('a'));
    assert_eq!(c.wakes(), 1, "the get wakes the putter exactly once");
    c.ready().unwrap();
    assert_eq!(TestTask::new(q.get()).ready(), Ok('b'));
    assert_eq!(TestTask::new(q.get()).ready(), Ok('c'));
    assert_quiet(q.stats());
}

#[test]
fn queue_putters_are_served_in_arrival_order() {
    let q = Queue::bounded(1);
    q.try_put(0).unwrap();
    let mut p: Vec<_> = (1..=3).map(|i| TestTask::new(q.put(i))).collect();
    for t in &mut p {
        t.pending();
    }
    for (i, expected) in (0..3).zip(0..) {
        assert_eq!(q.try_get(), Ok(expected));
        for (j, t) in p.iter().enumerate() {
            assert_eq!(
                t.wakes(),
                usize::from(j <= i),
                "only putter {i} woken so far"
            );
        }
        p[i].ready().unwrap();
    }
    assert_eq!(q.try_get(), Ok(3));
    assert_quiet(q.stats());
}

#[test]
fn queue_getters_are_served_in_arrival_order() {
    let q = Queue::unbounded();
    let mut g: Vec<_> = (0..3).map(|_| TestTask::new(q.get())).collect();
    for t in &mut g {
        t.pending();
    }
    for i in 0..3 {
        q.try_put(i).unwrap();
        for (j, t) in g.iter().enumerate() {
            assert_eq!(t.wakes(), usize::from(j <= i));
        }
    }
    // Each gets the item it was promised, whatever order they run in.
    assert_eq!(g[2].ready(), Ok(0));
    assert_eq!(g[0].ready(), Ok(1));
    assert_eq!(g[1].ready(), Ok(2));
    assert_quiet(q.stats());
}

// ----- No barging -----

#[test]
fn queue_slot_promised_to_a_putter_is_not_taken_by_try_put() {
    let q = Queue::bounded(1);
    q.try_put(1).unwrap();
    let mut p = TestTask::new(q.put(2));
    p.pending();
    assert_eq!(q.try_get(), Ok(1));
    assert!(p.is_woken());
    assert_eq!(q.try_put(3), Err(TryPutError::Full(3)));
    assert!(q.is_full(), "the free slot is promised");
    let mut late = TestTask::new(q.put(4));
    late.pending();
    p.ready().unwrap();
    assert_eq!(q.try_get(), Ok(2));
    late.ready().unwrap();
    assert_eq!(q.try_get(), Ok(4));
    assert_quiet(q.stats());
}

#[test]
fn queue_item_promised_to_a_getter_is_not_taken_by_try_get() {
    let q = Queue::unbounded();
    let mut g = TestTask::new(q.get());
    g.pending();
    q.try_put(1).unwrap();
    assert_eq!(q.try_get(), Err(TryGetError::Empty));
    let mut late = TestTask::new(q.get());
    late.pending();
    assert_eq!(g.ready(), Ok(1));
    assert_eq!(late.wakes(), 0);
    q.try_put(2).unwrap();
    assert_eq!(late.ready(), Ok(2));
    assert_quiet(q.stats());
}

// ----- cancel safety -----

#[test]
fn queue_get_is_cancel_safe() {
    let q = Queue::unbounded();
    let mut reader = TestTask::new(q.get());
    reader.pending();
    q.try_put(1).unwrap();
    q.try_put(2).unwrap();
    reader.cancel();
    assert_eq!(TestTask::new(q.get()).ready(), Ok(1));
    assert_eq!(TestTask::new(q.get()).ready(), Ok(2));
    assert_quiet(q.stats());
}

#[test]
fn queue_put_is_cancel_safe() {
    let q = Queue::bounded(1);
    q.try_put(1).unwrap();
    let mut putter = TestTask::new(q.put(2));
    putter.pending();
    assert_eq!(q.try_get(), Ok(1));
    assert!(putter.is_woken());
    putter.cancel();
    TestTask::new(q.put(3)).ready().unwrap();
    assert_eq!(q.len(), 1);
    assert_eq!(q.try_get(), Ok(3));
    assert_eq!(q.try_get(), Err(TryGetError::Empty), "2 was never put");
    assert_quiet(q.stats());
}

#[test]
fn queue_cancelled_putter_drops_its_item_once() {
    let drops = Arc::new(AtomicUsize::new(0));
    let q = Queue::bounded(1);
    q.try_put(DropCount(drops.clone())).unwrap();
    let mut putter = TestTask::new(q.put(DropCount(drops.clone())));
    putter.pending();
    putter.cancel();
    assert_eq!(drops.load(Ordering::SeqCst), 1);
    drop(putter);
    drop(q);
    assert_eq!(drops.load(Ordering::SeqCst), 2);
}

#[test]
fn queue_woken_getter_cancelled_passes_the_item_on() {
    let q = Queue::unbounded();
    let mut g1 = TestTask::new(q.get());
    let mut g2 = TestTask::new(q.get());
    g1.pending();
    g2.pending();
    q.try_put('x').unwrap();
    assert_eq!((g1.wakes(), g2.wakes()), (1, 0));
    g1.cancel();
    assert_eq!(g2.wakes(), 1);
    assert_eq!(g2.ready(), Ok('x'));
    assert_quiet(q.stats());
}

#[test]
fn queue_woken_putter_cancelled_passes_the_slot_on() {
    let q = Queue::bounded(1);
    q.try_put(0).unwrap();
    let mut p1 = TestTask::new(q.put(1));
    let mut p2 = TestTask::new(q.put(2));
    p1.pending();
    p2.pending();
    assert_eq!(q.try_get(), Ok(0));
    assert_eq!((p1.wakes(), p2.wakes()), (1, 0));
    p1.cancel();
    assert_eq!(p2.wakes(), 1);
    p2.ready().unwrap();
    assert_eq!(q.try_get(), Ok(2));
    assert_quiet(q.stats());
}

#[test]
fn queue_cancelled_waiting_getter_forwards_nothing() {
    let q = Queue::<u8>::unbounded();
    let mut g1 = TestTask::new(q.get());
    let mut g2 = TestTask::new(q.get());
    g1.pending();
    g2.pending();
    g1.cancel();
    assert_eq!(g2.wakes(), 0);
    assert_eq!(q.get_waiters(), 1);
    q.try_put(5).unwrap();
    assert_eq!(g2.ready(), Ok(5));
    assert_quiet(q.stats());
}

/// Poll a put or get `k` times with scripted steps in
/// between, then drop it; nothing is lost or stranded.
#[test]
fn queue_cancel_at_every_await_sweep() {
    for k in 0..4 {
        // A getter: `k` polls, one put after the first poll.
        let q = Queue::unbounded();
        let mut g = TestTask::new(q.get());
        let mut got = None;
        for i in 0..k {
            if let core::task::Poll::Ready(v) = g.poll() {
                got = Some(v.unwrap());
                break;
            }
            if i == 0 {
                q.try_put(7).unwrap();
            }
        }
        g.cancel();
        let rest: Vec<_> = core::iter::from_fn(|| q.try_get().ok()).collect();
        let all: Vec<_> = got.into_iter().chain(rest).collect();
        let expected = if k == 0 { vec![] } else { vec![7] };
        assert_eq!(all, expected, "k = {k}");
        assert_quiet(q.stats());

        // A putter on a full queue: `k` polls, one get after the first.
        let q = Queue::bounded(1);
        q.try_put(0).unwrap();
        let mut p = TestTask::new(q.put(1));
        let mut put = false;
        let mut taken = vec![];
        for i in 0..k {
            if let core::task::Poll::Ready(r) = p.poll() {
                r.unwrap();
                put = true;
                break;
            }
            if i == 0 {
                taken.push(q.try_get().unwrap());
            }
        }
        p.cancel();
        taken.extend(core::iter::from_fn(|| q.try_get().ok()));
        let expected = if put { vec![0, 1] } else { vec![0] };
        assert_eq!(taken, expected, "k = {k}");
        q.try_put(9).unwrap();
        assert_quiet(q.stats());
    }
}

// ----- wakers and polls -----

#[test]
fn queue_getter_waker_update_wakes_only_the_new_waker() {
    let q = Queue::unbounded();
    let mut g = TestTask::new(q.get());
    g.pending();
    let (b, b_count) = new_count_waker();
    assert!(g.poll_with(&b).is_pending());
    q.try_put(1).unwrap();
    assert_eq!(g.wakes(), 0);
    assert_eq!(b_count.get(), 1);
    assert_eq!(g.ready(), Ok(1));
}

#[test]
fn queue_putter_waker_update_wakes_only_the_new_waker() {
    let q = Queue::bounded(1);
    q.try_put(0).unwrap();
    let mut p = TestTask::new(q.put(1));
    p.pending();
    let (b, b_count) = new_count_waker();
    assert!(p.poll_with(&b).is_pending());
    q.try_get().unwrap();
    assert_eq!(p.wakes(), 0);
    assert_eq!(b_count.get(), 1);
    p.ready().unwrap();
}

#[test]
fn queue_spurious_polls_keep_the_place_in_line() {
    let q = Queue::unbounded();
    let mut g1 = TestTask::new(q.get());
    let mut g2 = TestTask::new(q.get());
    g1.pending();
    g2.pending();
    for _ in 0..3 {
        g1.pending();
        g2.pending();
    }
    assert_eq!(q.get_waiters(), 2);
    q.try_put(1).unwrap();
    assert_eq!((g1.wakes(), g2.wakes()), (1, 0));
    assert_eq!(g1.ready(), Ok(1));
}

#[test]
#[should_panic(expected = "polled after completion")]
fn queue_get_polled_after_completion_panics() {
    let q = Queue::unbounded();
    q.try_put(1).unwrap();
    let mut g = TestTask::new(q.get());
    g.ready().unwrap();
    let _ = g.poll();
}

#[test]
#[should_panic(expected = "polled after completion")]
fn queue_put_polled_after_completion_panics() {
    let q = Queue::unbounded();
    let mut p = TestTask::new(q.put(1));
    p.ready().unwrap();
    let _ = p.poll();
}

#[test]
fn queue_futures_report_termination() {
    use core::pin::pin;

    use futures_core::FusedFuture;

    let q = Queue::unbounded();
    let mut p = pin!(q.put(1));
    assert!(!p.is_terminated());
    assert!(futures_executor::block_on(p.as_mut()).is_ok());
    assert!(p.is_terminated());
    let mut g = pin!(q.get());
    assert_eq!(futures_executor::block_on(g.as_mut()), Ok(1));
    assert!(g.is_terminated());
}

// ----- join / task_done -----

#[test]
fn queue_join_and_task_done() {
    let q = Queue::bounded(8);
    TestTask::new(q.join()).ready();
    for i in 0..3 {
        q.try_put(i).unwrap();
    }
    let mut joins: Vec<_> = (0..3).map(|_| TestTask::new(q.join())).collect();
    for j in &mut joins {
        j.pending();
    }
    for i in 0..3 {
        assert_eq!(q.try_get(), Ok(i));
        assert_eq!(q.unfinished_tasks(), 3 - i);
        q.task_done().unwrap();
        let expected_wakes = usize::from(i == 2);
        for j in &joins {
            assert_eq!(j.wakes(), expected_wakes);
        }
    }
    for j in &mut joins {
        j.ready();
    }
    assert_eq!(q.task_done(), Err(TaskDoneError));
    assert_eq!(q.unfinished_tasks(), 0, "no underflow");
    q.try_put(9).unwrap();
    TestTask::new(q.join()).pending();
}

#[test]
fn queue_task_done_counts_only_items_got() {
    let q = Queue::unbounded();
    q.try_put(1).unwrap();
    q.try_put(2).unwrap();
    q.try_get().unwrap();
    q.task_done().unwrap();
    // asyncio would accept this second call (2 were put); only 1 was got.
    assert_eq!(q.task_done(), Err(TaskDoneError));
    assert_eq!(q.unfinished_tasks(), 1);
}

#[test]
fn queue_join_released_even_if_items_are_put_right_after() {
    let q = Queue::unbounded();
    q.try_put(1).unwrap();
    let mut j = TestTask::new(q.join());
    j.pending();
    q.try_get().unwrap();
    q.task_done().unwrap();
    q.try_put(2).unwrap();
    assert_eq!(j.wakes(), 1);
    // asyncio semantics: the count reached zero, so the waiter is released
    // although an item was put since.
    j.ready();
}

#[test]
fn queue_join_created_before_the_last_task_done_completes() {
    let q = Queue::unbounded();
    q.try_put(1).unwrap();
    let mut j = TestTask::new(q.join());
    q.try_get().unwrap();
    q.task_done().unwrap();
    j.ready();
}

/// The last `task_done` wakes the joiner; the woken join takes the
/// queue's lock once, to read the count, and nothing else: its wake-up is
/// consumed lock-free, so its drop has nothing to unlink.
#[test]
fn queue_join_woken_takes_only_the_lock_that_reads_the_count() {
    let q = Queue::unbounded();
    q.try_put(1).unwrap();
    let mut j = TestTask::new(q.join());
    j.pending();
    q.try_get().unwrap();
    q.task_done().unwrap();
    assert_eq!(j.wakes(), 1);
    let locks = crate::util::test::locks_taken(move || {
        j.ready();
        drop(j);
    });
    assert_eq!(locks, 1);
}

// ----- graceful shutdown -----

#[test]
fn queue_shutdown_fails_putters_and_drains_getters() {
    let q = Queue::bounded(2);
    q.try_put(1).unwrap();
    q.try_put(2).unwrap();
    let mut blocked = TestTask::new(q.put(3));
    blocked.pending();
    let mut joiner = TestTask::new(q.join());
    joiner.pending();
    assert!(q.shutdown());
    assert!(!q.shutdown(), "idempotent");
    assert!(q.is_shutdown());
    assert_eq!(blocked.wakes(), 1);
    assert_eq!(blocked.ready(), Err(PutError(3)));
    assert_eq!(TestTask::new(q.put(4)).ready(), Err(PutError(4)));
    assert_eq!(q.try_put(5), Err(TryPutError::ShutDown(5)));
    assert_eq!(TestTask::new(q.get()).ready(), Ok(1));
    assert_eq!(q.try_get(), Ok(2));
    assert_eq!(TestTask::new(q.get()).ready(), Err(ShutDown));
    assert_eq!(q.try_get(), Err(TryGetError::ShutDown));
    // join still waits for the two items in flight.
    assert_eq!(joiner.wakes(), 0);
    joiner.pending();
    q.task_done().unwrap();
    q.task_done().unwrap();
    joiner.ready();
    assert!(q.is_shutdown(), "persistent");
    assert_quiet(q.stats());
}

#[test]
fn queue_shutdown_wakes_waiting_getters_with_shutdown() {
    let q = Queue::<u8>::unbounded();
    let mut g: Vec<_> = (0..20).map(|_| TestTask::new(q.get())).collect();
    for t in &mut g {
        t.pending();
    }
    q.shutdown();
    for t in &mut g {
        assert_eq!(t.wakes(), 1);
        assert_eq!(t.ready(), Err(ShutDown));
    }
    assert_quiet(q.stats());
}

#[test]
fn queue_shutdown_wakes_every_waiting_putter() {
    let q = Queue::bounded(1);
    q.try_put(0).unwrap();
    let mut p: Vec<_> = (1..=20).map(|i| TestTask::new(q.put(i))).collect();
    for t in &mut p {
        t.pending();
    }
    q.shutdown();
    for (i, t) in (1..).zip(&mut p) {
        assert_eq!(t.ready(), Err(PutError(i)));
    }
    assert_quiet(q.stats());
}

#[test]
fn queue_shutdown_with_a_woken_putter_returns_its_item() {
    let q = Queue::bounded(1);
    q.try_put(0).unwrap();
    let mut p = TestTask::new(q.put(1));
    p.pending();
    q.try_get().unwrap(); // the slot is promised to p
    q.shutdown();
    assert_eq!(p.ready(), Err(PutError(1)));
    assert_quiet(q.stats());
}

#[test]
fn queue_getter_behind_promised_items_is_released_when_drained() {
    // g1 is promised the last item; g2 (arriving after the shutdown) must
    // not wait forever once g1 takes it.
    let q = Queue::unbounded();
    let mut g1 = TestTask::new(q.get());
    g1.pending();
    q.try_put(1).unwrap();
    q.shutdown();
    let mut g2 = TestTask::new(q.get());
    g2.pending();
    assert_eq!(g1.ready(), Ok(1));
    assert_eq!(g2.wakes(), 1);
    assert_eq!(g2.ready(), Err(ShutDown));
    assert_quiet(q.stats());
}

#[test]
fn queue_getter_behind_promised_items_gets_one_passed_on() {
    let q = Queue::unbounded();
    let mut g1 = TestTask::new(q.get());
    g1.pending();
    q.try_put(1).unwrap();
    q.shutdown();
    let mut g2 = TestTask::new(q.get());
    g2.pending();
    g1.cancel();
    assert_eq!(g2.ready(), Ok(1));
    assert_eq!(TestTask::new(q.get()).ready(), Err(ShutDown));
    assert_quiet(q.stats());
}

// ----- immediate shutdown -----

#[test]
fn queue_shutdown_immediate_drops_each_item_once() {
    let drops = Arc::new(AtomicUsize::new(0));
    let q = Queue::bounded(4);
    for _ in 0..3 {
        q.try_put(DropCount(drops.clone())).unwrap();
    }
    let got = q.try_get().unwrap();
    assert_eq!(q.unfinished_tasks(), 3);
    let mut joiner = TestTask::new(q.join());
    joiner.pending();
    q.shutdown_immediate();
    assert_eq!(drops.load(Ordering::SeqCst), 2, "the two buffered items");
    assert_eq!(q.unfinished_tasks(), 1, "only the one in flight");
    assert_eq!(q.len(), 0);
    assert!(matches!(q.try_get(), Err(TryGetError::ShutDown)));
    joiner.pending();
    drop(got);
    q.task_done().unwrap();
    joiner.ready();
    drop(joiner);
    q.shutdown_immediate();
    drop(q);
    assert_eq!(drops.load(Ordering::SeqCst), 3);
}

#[test]
fn queue_shutdown_immediate_completes_join_when_nothing_is_in_flight() {
    let q = Queue::unbounded();
    q.try_put(1).unwrap();
    q.try_put(2).unwrap();
    let mut joiner = TestTask::new(q.join());
    joiner.pending();
    q.shutdown_immediate();
    assert_eq!(joiner.wakes(), 1);
    joiner.ready();
}

#[test]
fn queue_shutdown_immediate_fails_getters_at_once() {
    let q = Queue::unbounded();
    let mut g1 = TestTask::new(q.get());
    g1.pending();
    q.try_put(1).unwrap(); // promised to g1
    let mut g2 = TestTask::new(q.get());
    g2.pending();
    q.shutdown_immediate();
    assert_eq!(
        g1.ready(),
        Err(ShutDown),
        "the promised item was dropped too"
    );
    assert_eq!(g2.ready(), Err(ShutDown));
    assert_quiet(q.stats());
    assert_eq!(q.stats().mode, Mode::Immediate);
}

#[test]
fn queue_shutdown_immediate_with_a_promised_item_and_a_cancelled_getter() {
    let q = Queue::unbounded();
    let mut g1 = TestTask::new(q.get());
    g1.pending();
    q.try_put(1).unwrap();
    q.shutdown_immediate();
    g1.cancel();
    assert_quiet(q.stats());
}

// ----- orders -----

#[test]
fn lifo_queue_serves_newest_first() {
    let q = LifoQueue::bounded(3);
    for i in 1..=3 {
        q.try_put(i).unwrap();
    }
    let mut p = TestTask::new(q.put(4));
    p.pending();
    assert_eq!(q.try_get(), Ok(3));
    p.ready().unwrap();
    let rest: Vec<_> = core::iter::from_fn(|| q.try_get().ok()).collect();
    assert_eq!(rest, [4, 2, 1]);
    assert_quiet(q.stats());
}

#[test]
fn priority_queue_serves_smallest_first() {
    let q = PriorityQueue::unbounded();
    for i in [5, 1, 4, 2, 3] {
        q.try_put(i).unwrap();
    }
    let out: Vec<_> = core::iter::from_fn(|| q.try_get().ok()).collect();
    assert_eq!(out, [1, 2, 3, 4, 5]);
    // A waiting getter is promised whatever is smallest when it runs.
    let mut g = TestTask::new(q.get());
    g.pending();
    q.try_put(9).unwrap();
    q.try_put(0).unwrap();
    assert_eq!(g.ready(), Ok(0));
    assert_eq!(q.try_get(), Ok(9));
    assert_quiet(q.stats());
}

#[test]
fn priority_and_lifo_queues_track_tasks_and_shut_down() {
    let p = PriorityQueue::bounded(2);
    p.try_put(2).unwrap();
    p.try_put(1).unwrap();
    assert!(p.is_full());
    assert_eq!(p.try_get(), Ok(1));
    p.task_done().unwrap();
    p.shutdown();
    assert_eq!(p.try_get(), Ok(2));
    assert_eq!(p.try_get(), Err(TryGetError::ShutDown));
    let l = LifoQueue::<u8>::unbounded();
    l.shutdown_immediate();
    assert_eq!(l.try_put(1), Err(TryPutError::ShutDown(1)));
}

// ----- bad input and inspection -----

#[test]
#[should_panic(
    expected = "Queue::bounded: `capacity` must be greater than zero (use Queue::unbounded()"
)]
fn queue_bounded_zero_panics() {
    let _ = Queue::<u8>::bounded(0);
}

#[test]
#[should_panic(expected = "LifoQueue::bounded: `capacity` must be greater than zero")]
fn lifo_queue_bounded_zero_panics() {
    let _ = LifoQueue::<u8>::bounded(0);
}

#[test]
#[should_panic(expected = "PriorityQueue::bounded: `capacity` must be greater than zero")]
fn priority_queue_bounded_zero_panics() {
    let _ = PriorityQueue::<u8>::bounded(0);
}

#[test]
fn queue_inspection() {
    let q = Queue::bounded(2);
    assert_eq!(q.capacity(), Some(2));
    assert!(q.is_empty() && !q.is_full());
    q.try_put(1).unwrap();
    assert_eq!(q.len(), 1);
    q.try_put(2).unwrap();
    assert!(q.is_full());
    let u = Queue::<u8>::default();
    assert_eq!(u.capacity(), None);
    assert!(!u.is_full());
    let dbg = alloc::format!("{q:?}");
    assert!(
        dbg.contains("len: 2") && dbg.contains("capacity: 2"),
        "{dbg}"
    );
}

#[test]
fn queue_large_capacity_does_not_allocate_it_up_front() {
    let q = Queue::<u64>::bounded(usize::MAX / 2);
    q.try_put(1).unwrap();
    assert_eq!(q.capacity(), Some(usize::MAX / 2));
}

#[test]
fn queue_blocking_from_threads() {
    let q = Arc::new(Queue::bounded(1));
    let q2 = q.clone();
    let t = std::thread::spawn(move || {
        for i in 0..100 {
            q2.put_blocking(i).unwrap();
        }
        q2.join_blocking();
    });
    for i in 0..100 {
        assert_eq!(q.get_blocking(), Ok(i));
        q.task_done().unwrap();
    }
    t.join().unwrap();
}

#[test]
fn queue_is_send_and_sync() {
    static_assertions::assert_impl_all!(Queue<u8>: Send, Sync);
    static_assertions::assert_impl_all!(super::futures::Put<'static, u8>: Send, Sync);
    static_assertions::assert_impl_all!(super::futures::Get<'static, u8>: Send, Sync);
    static_assertions::assert_impl_all!(super::futures::Join<'static, u8>: Send, Sync);
    static_assertions::assert_impl_all!(super::futures::GetTracked<'static, u8>: Send, Sync);
    static_assertions::assert_impl_all!(super::QueueItem<'static, u8>: Send, Sync);
    static_assertions::assert_not_impl_any!(super::futures::Put<'static, u8>: Unpin);
    static_assertions::assert_not_impl_any!(Queue<alloc::rc::Rc<u8>>: Send, Sync);
}

#[test]
fn queue_statistics_count_items_waiters_and_shutdown() {
    let q = Queue::bounded(1);
    let s = q.statistics();
    assert_eq!((s.len, s.capacity, s.unfinished_tasks), (0, Some(1), 0));
    assert_eq!((s.put_waiters, s.get_waiters, s.join_waiters), (0, 0, 0));
    assert!(!s.shut_down);

    TestTask::new(q.put('a')).ready().unwrap();
    let mut put = TestTask::new(q.put('b'));
    put.pending();
    let mut join = TestTask::new(q.join());
    join.pending();
    let s = q.statistics();
    assert_eq!((s.len, s.unfinished_tasks), (1, 1));
    assert_eq!((s.put_waiters, s.get_waiters, s.join_waiters), (1, 0, 1));

    assert_eq!(TestTask::new(q.get()).ready(), Ok('a'));
    put.ready().unwrap();
    assert_eq!(TestTask::new(q.get()).ready(), Ok('b'));
    let mut get = TestTask::new(q.get());
    get.pending();
    let s = q.statistics();
    assert_eq!((s.len, s.unfinished_tasks), (0, 2), "two got, none done");
    assert_eq!((s.put_waiters, s.get_waiters, s.join_waiters), (0, 1, 1));

    q.shutdown();
    assert_eq!(get.ready(), Err(ShutDown));
    let s = q.statistics();
    assert!(s.shut_down);
    assert_eq!(s.get_waiters, 0);
    assert_eq!(
        s,
        q.statistics(),
        "a snapshot compares equal while nothing changes"
    );

    let lifo = LifoQueue::<u8>::unbounded();
    assert_eq!(lifo.statistics().capacity, None);
}

#[test]
fn queue_item_marks_itself_done_when_a_worker_panics() {
    let q = Queue::bounded(2);
    q.try_put(1).unwrap();
    q.try_put(2).unwrap();
    let mut join = TestTask::new(q.join());
    join.pending();
    let worker = std::panic::catch_unwind(core::panic::AssertUnwindSafe(|| {
        let item = TestTask::new(q.get_tracked()).ready().unwrap();
        assert_eq!(*item, 1);
        panic!("the worker fails while it holds the item");
    }));
    assert!(worker.is_err());
    assert_eq!(
        q.unfinished_tasks(),
        1,
        "the panicking worker's item is done"
    );
    assert!(!join.is_woken());
    let item = q.try_get_tracked().unwrap();
    assert_eq!(item.done(), 2);
    assert_eq!(join.wakes(), 1);
    join.ready();
    assert_quiet(q.stats());
}

#[test]
fn queue_item_into_inner_leaves_the_item_unfinished() {
    let q = LifoQueue::unbounded();
    q.try_put('a').unwrap();
    q.try_put('b').unwrap();
    let mut b = q.try_get_tracked().unwrap();
    *b = 'B';
    assert_eq!(b.into_inner(), 'B');
    assert_eq!(q.unfinished_tasks(), 2, "into_inner does not mark it done");
    q.task_done().unwrap();
    let a = TestTask::new(q.get_tracked()).ready().unwrap();
    // Marked done by hand as well: the drop then has nothing left to mark.
    q.task_done().unwrap();
    drop(a);
    assert_eq!(q.unfinished_tasks(), 0);
    assert_eq!(q.task_done(), Err(TaskDoneError));
    q.shutdown();
    assert_eq!(
        TestTask::new(q.get_tracked()).ready().map(|_| ()),
        Err(ShutDown)
    );
    assert_eq!(q.try_get_tracked().map(|_| ()), Err(TryGetError::ShutDown));
}

#[test]
fn queue_item_is_dropped_before_it_is_marked_done_even_if_its_drop_panics() {
    /// Records the queue's unfinished count when dropped, then panics.
    struct Job {
        queue: Arc<Queue<Job>>,
        seen: Arc<AtomicUsize>,
    }
    impl Drop for Job {
        fn drop(&mut self) {
            self.seen
                .store(self.queue.unfinished_tasks(), Ordering::SeqCst);
            panic!("the item's drop fails");
        }
    }
    let q = Arc::new(Queue::unbounded());
    let seen = Arc::new(AtomicUsize::new(usize::MAX));
    q.try_put(Job {
        queue: q.clone(),
        seen: seen.clone(),
    })
    .unwrap();
    let item = q.try_get_tracked().unwrap();
    let dropped = std::panic::catch_unwind(core::panic::AssertUnwindSafe(|| drop(item)));
    assert!(dropped.is_err());
    assert_eq!(
        seen.load(Ordering::SeqCst),
        1,
        "not yet done while it drops"
    );
    assert_eq!(q.unfinished_tasks(), 0, "done although its drop panicked");
    TestTask::new(q.join()).ready();
}

#[test]
fn queue_errors_read_as_sentences() {
    use alloc::string::ToString;
    assert_eq!(PutError(1).to_string(), "putting on a shut-down queue");
    assert_eq!(TryPutError::Full(1).to_string(), "the queue is full");
    assert_eq!(
        TryPutError::ShutDown(1).to_string(),
        "putting on a shut-down queue"
    );
    assert_eq!(ShutDown.to_string(), "the queue is shut down and empty");
    assert_eq!(TryGetError::Empty.to_string(), "the queue is empty");
    assert_eq!(
        TryGetError::ShutDown.to_string(),
        "the queue is shut down and empty"
    );
    assert_eq!(
        TaskDoneError.to_string(),
        "task_done() called more times than items were got"
    );
}

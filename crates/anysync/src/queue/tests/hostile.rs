//! The queues against foreign code that misbehaves: wakers that panic in
//! `wake` or `clone` or re-enter the queue, and an `Ord` that panics under
//! the engine's lock.

use alloc::{sync::Arc, vec::Vec};
use core::{
    cmp::Ordering,
    future::Future,
    pin::Pin,
    sync::atomic::{AtomicBool, Ordering::SeqCst},
    task::{Context, Poll},
};

use futures_test::task::new_count_waker;

use super::assert_quiet;
use crate::{
    queue::{PriorityQueue, Queue, ShutDown},
    util::{
        hostile::{panics, Hostile},
        test::TestTask,
    },
};

/// More than one wake batch holds, so a broadcast needs several.
const MANY: usize = 20;

// ----- a `Waker::clone` that panics leaves the queue unchanged -----

#[test]
fn queue_put_whose_waker_clone_panics_loses_no_slot() {
    let q = Queue::bounded(1);
    q.try_put(1).unwrap();
    let hostile = Hostile::new();
    hostile.panic_on_clone(true);
    let mut put = TestTask::new(q.put(2));
    assert!(panics(|| {
        let _ = put.poll_with(&hostile.waker());
    }));
    assert_quiet(q.stats());
    drop(put);
    // The slot freed by this get is free, not promised to a phantom putter.
    assert_eq!(q.try_get(), Ok(1));
    assert_eq!(q.try_put(3), Ok(()));
    assert_quiet(q.stats());
}

#[test]
fn queue_put_whose_waker_clone_panics_can_be_polled_again() {
    let q = Queue::bounded(1);
    q.try_put(1).unwrap();
    let hostile = Hostile::new();
    hostile.panic_on_clone(true);
    let mut put = TestTask::new(q.put(2));
    assert!(panics(|| {
        let _ = put.poll_with(&hostile.waker());
    }));
    // The item is still in the future: a good waker queues it.
    put.pending();
    assert_eq!(q.put_waiters(), 1);
    assert_eq!(q.try_get(), Ok(1));
    assert!(put.is_woken());
    assert_eq!(put.ready(), Ok(()));
    assert_eq!(q.try_get(), Ok(2));
    assert_quiet(q.stats());
}

// ----- a wake that panics in a broadcast does not strand the rest -----

#[test]
fn queue_shutdown_wakes_every_getter_past_a_panicking_wake() {
    let q = Queue::<u32>::bounded(1);
    let hostile = Hostile::new();
    let mut first = TestTask::new(q.get());
    assert!(first.poll_with(&hostile.waker()).is_pending());
    let mut rest: Vec<_> = (0..MANY).map(|_| TestTask::new(q.get())).collect();
    for get in &mut rest {
        get.pending();
    }
    hostile.panic_on_wake(true);
    assert!(panics(|| {
        q.shutdown();
    }));
    assert_eq!(hostile.wakes(), 1);
    for get in &mut rest {
        assert!(
            get.is_woken(),
            "a getter behind the panicking wake was stranded"
        );
        assert_eq!(get.ready(), Err(ShutDown));
    }
    assert!(q.is_shutdown());
    drop(first);
    assert_quiet(q.stats());
}

#[test]
fn queue_shutdown_wakes_every_putter_past_a_panicking_wake() {
    let q = Queue::bounded(1);
    q.try_put(0).unwrap();
    let hostile = Hostile::new();
    let mut first = TestTask::new(q.put(1));
    assert!(first.poll_with(&hostile.waker()).is_pending());
    let mut rest: Vec<_> = (0..MANY).map(|i| TestTask::new(q.put(i + 2))).collect();
    for put in &mut rest {
        put.pending();
    }
    hostile.panic_on_wake(true);
    assert!(panics(|| {
        q.shutdown();
    }));
    for (i, put) in rest.iter_mut().enumerate() {
        assert!(
            put.is_woken(),
            "a putter behind the panicking wake was stranded"
        );
        assert_eq!(put.ready().unwrap_err().into_inner(), i + 2);
    }
    drop(first);
    assert_quiet(q.stats());
}

#[test]
fn queue_join_releases_every_task_past_a_panicking_wake() {
    let q = Queue::unbounded();
    q.try_put(1).unwrap();
    q.try_get().unwrap();
    let hostile = Hostile::new();
    let mut first = TestTask::new(q.join());
    assert!(first.poll_with(&hostile.waker()).is_pending());
    let mut rest: Vec<_> = (0..MANY).map(|_| TestTask::new(q.join())).collect();
    for join in &mut rest {
        join.pending();
    }
    hostile.panic_on_wake(true);
    assert!(panics(|| {
        let _ = q.task_done();
    }));
    assert_eq!(q.unfinished_tasks(), 0);
    for join in &mut rest {
        assert!(
            join.is_woken(),
            "a join behind the panicking wake was stranded"
        );
        join.ready();
    }
}

// ----- no waker woken or dropped under the lock; re-entry is fine -----

/// A source whose wakers, when woken or dropped, check that no wait-queue
/// lock is held and then use `q` (which takes its lock).
fn reentrant(q: &Arc<Queue<u32>>) -> Hostile {
    let hostile = Hostile::new();
    let (a, b) = (Arc::clone(q), Arc::clone(q));
    hostile.on_wake(move || {
        let _ = a.len();
    });
    hostile.on_drop(move || {
        let _ = b.is_full();
    });
    hostile
}

#[test]
fn queue_wakers_are_never_woken_or_dropped_under_the_lock() {
    let q = Arc::new(Queue::bounded(1));
    let hostile = reentrant(&q);
    let waker = hostile.waker();

    // Getters: queued, waker replaced, woken with an item, woken and
    // cancelled (the item passes on), shut down.
    let mut g1 = TestTask::new(q.get());
    let mut g2 = TestTask::new(q.get());
    assert!(g1.poll_with(&waker).is_pending());
    assert!(g2.poll_with(&waker).is_pending());
    g1.pending(); // replaces the hostile waker: dropped after unlocking
    q.try_put(1).unwrap(); // granted to g1
    g1.cancel(); // passes the item to g2, whose hostile waker is woken
    assert_eq!(g2.poll_with(&waker), Poll::Ready(Ok(1)));

    // Putters: queued, granted a slot, cancelled after the grant, shut down.
    q.try_put(2).unwrap();
    let mut p1 = TestTask::new(q.put(3));
    let mut p2 = TestTask::new(q.put(4));
    let mut p3 = TestTask::new(q.put(5));
    assert!(p1.poll_with(&waker).is_pending());
    assert!(p2.poll_with(&waker).is_pending());
    assert!(p3.poll_with(&waker).is_pending());
    assert_eq!(q.try_get(), Ok(2)); // the slot goes to p1
    p1.cancel(); // and on to p2
    assert_eq!(p2.poll_with(&waker), Poll::Ready(Ok(())));
    assert!(q.shutdown()); // wakes p3
    assert!(p3.poll_with(&waker).is_ready());
    drop((g1, g2, p1, p2, p3));
    drop(waker);

    assert!(hostile.wakes() >= 3);
    assert_eq!(hostile.under_lock(), 0);
    assert_quiet(q.stats());
}

#[test]
fn queue_waiting_putter_dropped_with_a_reentrant_waker() {
    let q = Arc::new(Queue::bounded(1));
    q.try_put(1).unwrap();
    let hostile = reentrant(&q);
    let mut put = TestTask::new(q.put(2));
    assert!(put.poll_with(&hostile.waker()).is_pending());
    let drops = hostile.drops();
    drop(put); // unlinks under the senders' lock; the waker is dropped after
    assert!(hostile.drops() > drops);
    assert_eq!(hostile.under_lock(), 0);
    assert_quiet(q.stats());
    assert_eq!(q.try_get(), Ok(1));
    assert_eq!(q.try_put(3), Ok(()));
}

// ----- a `PriorityQueue` whose `Ord` panics under the lock -----

/// An item whose comparisons panic while `bomb` is set.
#[derive(Debug)]
struct Touchy {
    key: u32,
    bomb: Arc<AtomicBool>,
}

impl Touchy {
    fn new(key: u32, bomb: &Arc<AtomicBool>) -> Self {
        Self {
            key,
            bomb: Arc::clone(bomb),
        }
    }
}

impl PartialEq for Touchy {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Touchy {}

impl PartialOrd for Touchy {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Touchy {
    fn cmp(&self, other: &Self) -> Ordering {
        assert!(!self.bomb.load(SeqCst), "Touchy::cmp: boom");
        self.key.cmp(&other.key)
    }
}

fn key<E: core::fmt::Debug>(r: Result<Touchy, E>) -> u32 {
    r.unwrap().key
}

#[test]
fn priority_get_whose_ord_panics_keeps_the_item_and_the_waiting_putter() {
    let bomb = Arc::new(AtomicBool::new(false));
    let q = PriorityQueue::bounded(3);
    for k in [2, 1, 3] {
        q.try_put(Touchy::new(k, &bomb)).unwrap();
    }
    let mut put = TestTask::new(q.put(Touchy::new(4, &bomb)));
    put.pending();
    bomb.store(true, SeqCst);
    assert!(panics(|| {
        let _ = q.try_get();
    }));
    bomb.store(false, SeqCst);
    // Nothing was taken: the queue is still full, the putter still waits
    // and no newcomer can take its place.
    assert_eq!(q.len(), 3);
    assert_eq!(q.put_waiters(), 1);
    assert!(q.try_put(Touchy::new(9, &bomb)).unwrap_err().is_full());
    assert!(!put.is_woken());
    // Once `Ord` behaves, everything comes out, smallest first.
    assert_eq!(key(q.try_get()), 1);
    assert!(put.is_woken());
    assert_eq!(put.ready().map_err(|_| ()), Ok(()));
    assert_eq!(key(q.try_get()), 2);
    assert_eq!(key(q.try_get()), 3);
    assert_eq!(key(q.try_get()), 4);
    assert_quiet(q.stats());
}

#[test]
fn priority_woken_getter_whose_ord_panics_passes_its_item_on() {
    let bomb = Arc::new(AtomicBool::new(false));
    let q = PriorityQueue::unbounded();
    let mut gets: Vec<_> = (0..4).map(|_| TestTask::new(q.get())).collect();
    for get in &mut gets {
        get.pending();
    }
    // Granted to gets[0], gets[1], gets[2] in turn; gets[3] still waits.
    for k in [5, 6, 7] {
        q.try_put(Touchy::new(k, &bomb)).unwrap();
    }
    bomb.store(true, SeqCst);
    assert!(panics(|| {
        let _ = gets[0].poll();
    }));
    bomb.store(false, SeqCst);
    // The item gets[0] was given is still there and went to gets[3].
    assert_eq!(q.len(), 3);
    assert!(gets[3].is_woken(), "the last getter was stranded");
    let mut got: Vec<u32> = gets[1..].iter_mut().map(|g| key(g.ready())).collect();
    got.sort_unstable();
    assert_eq!(got, [5, 6, 7]);
    drop(gets);
    assert_quiet(q.stats());
}

#[test]
fn priority_put_whose_ord_panics_still_serves_the_waiting_getter() {
    let bomb = Arc::new(AtomicBool::new(false));
    let q = PriorityQueue::bounded(4);
    let mut g1 = TestTask::new(q.get());
    let mut g2 = TestTask::new(q.get());
    g1.pending();
    g2.pending();
    q.try_put(Touchy::new(7, &bomb)).unwrap(); // granted to g1, not yet taken
    bomb.store(true, SeqCst);
    assert!(panics(|| {
        let _ = q.try_put(Touchy::new(8, &bomb));
    }));
    bomb.store(false, SeqCst);
    // The item is in the queue and was granted to g2, which was woken.
    assert_eq!(q.len(), 2);
    assert!(g2.is_woken(), "the second getter was stranded");
    // The next put keeps the books straight.
    q.try_put(Touchy::new(1, &bomb)).unwrap();
    let mut got = [key(g1.ready()), key(g2.ready())];
    got.sort_unstable();
    assert_eq!(got, [1, 7]);
    assert_eq!(key(q.try_get()), 8);
    drop((g1, g2));
    assert_quiet(q.stats());
}

#[test]
fn priority_put_future_whose_ord_panics_after_a_grant_still_serves_the_getter() {
    let bomb = Arc::new(AtomicBool::new(false));
    let q = PriorityQueue::bounded(2);
    q.try_put(Touchy::new(1, &bomb)).unwrap();
    q.try_put(Touchy::new(2, &bomb)).unwrap();
    let mut put = TestTask::new(q.put(Touchy::new(3, &bomb)));
    put.pending();
    assert_eq!(key(q.try_get()), 1); // the slot goes to `put`
    assert!(put.is_woken());
    bomb.store(true, SeqCst);
    assert!(panics(|| {
        let _ = put.poll();
    }));
    bomb.store(false, SeqCst);
    // The item went in (it was moved into the buffer when `Ord` panicked)
    // and the slot is used, not lost or promised twice; polled again, the
    // put reports it was put.
    assert_eq!(put.ready().map_err(|_| ()), Ok(()));
    drop(put);
    assert_eq!(q.len(), 2);
    assert!(q.try_put(Touchy::new(4, &bomb)).unwrap_err().is_full());
    assert_eq!(key(q.try_get()), 2);
    assert_eq!(key(q.try_get()), 3);
    assert_quiet(q.stats());
}

// ----- capacity -----

#[test]
fn queue_bounded_to_usize_max_is_bounded() {
    let q = Queue::<u8>::bounded(usize::MAX);
    assert_eq!(q.capacity(), Some(usize::MAX));
    let dbg = alloc::format!("{q:?}");
    assert!(!dbg.contains("unbounded"), "{dbg}");
    assert!(
        dbg.contains(&alloc::format!("capacity: {}", usize::MAX)),
        "{dbg}"
    );
    assert_eq!(q.stats().cap, Some(usize::MAX));
    let q = Queue::<u8>::unbounded();
    assert_eq!(q.capacity(), None);
    assert!(alloc::format!("{q:?}").contains("unbounded"));
}

// ----- `Put::cancel` -----

/// Polls `future` once with `cx`.
fn poll_once<F: Future>(future: Pin<&mut F>, cx: &mut Context<'_>) -> Poll<F::Output> {
    future.poll(cx)
}

#[test]
fn put_cancel_hands_the_item_back_and_the_slot_on() {
    let q = Queue::bounded(1);
    q.try_put(1).unwrap();
    let (waker, count) = new_count_waker();
    let mut cx = Context::from_waker(&waker);
    let mut p1 = core::pin::pin!(q.put(2));
    let mut p2 = TestTask::new(q.put(3));
    assert!(poll_once(p1.as_mut(), &mut cx).is_pending());
    p2.pending();
    assert_eq!(q.try_get(), Ok(1)); // the slot goes to p1
    assert_eq!(count.get(), 1);
    assert_eq!(p1.as_mut().cancel(), Some(2));
    assert!(futures_core::FusedFuture::is_terminated(&*p1));
    assert!(p2.is_woken(), "the granted slot was not passed on");
    assert_eq!(p2.ready(), Ok(()));
    assert_eq!(q.try_get(), Ok(3));
    // Cancelling again, or after completion, gives nothing.
    assert_eq!(p1.as_mut().cancel(), None);
    let mut done = core::pin::pin!(q.put(4));
    assert_eq!(poll_once(done.as_mut(), &mut cx), Poll::Ready(Ok(())));
    assert_eq!(done.as_mut().cancel(), None);
    // Before the first poll: the item comes straight back.
    let mut fresh = core::pin::pin!(q.put(5));
    assert_eq!(fresh.as_mut().cancel(), Some(5));
    assert_eq!(q.try_get(), Ok(4));
    assert_quiet(q.stats());
}

#[test]
fn priority_queue_pops_in_order_under_mixed_puts_and_gets() {
    // The heap is hand-written (swap-only, compare-first pops): check it
    // against a sort over a pseudo-random mix of puts and gets.
    let q = PriorityQueue::unbounded();
    let mut model: Vec<u32> = Vec::new();
    let mut x: u32 = 12345;
    // Fewer steps under miri, which checks the same code paths far slower.
    let steps = if cfg!(miri) { 300 } else { 5000 };
    for _ in 0..steps {
        x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
        if (x >> 16) % 3 == 0 && !model.is_empty() {
            model.sort_unstable();
            assert_eq!(q.try_get(), Ok(model.remove(0)));
        } else {
            let v = (x >> 8) % 100;
            q.try_put(v).unwrap();
            model.push(v);
        }
    }
    model.sort_unstable();
    for v in model {
        assert_eq!(q.try_get(), Ok(v));
    }
    assert!(q.is_empty());
}

/// `shutdown_immediate` closes (waking every waiter), drops what is
/// buffered and releases `join`: a putter's wake that panics in the close
/// skips neither of the others.
#[test]
fn queue_shutdown_immediate_whose_wake_panics_still_drops_the_buffer_and_releases_join() {
    let q = Queue::bounded(1);
    let item = Arc::new(());
    q.try_put(Arc::clone(&item)).unwrap();
    let hostile = Hostile::new();
    let mut put = TestTask::new(q.put(Arc::clone(&item)));
    assert!(put.poll_with(&hostile.waker()).is_pending());
    let mut join = TestTask::new(q.join());
    join.pending();
    hostile.panic_on_wake(true);
    assert!(panics(|| q.shutdown_immediate()));
    assert!(join.is_woken(), "join was released");
    join.ready();
    assert!(put.ready().is_err());
    assert_eq!(Arc::strong_count(&item), 1, "the buffer was dropped");
}

//! `queue::Queue` (and its LIFO and priority siblings) on every executor:
//! backpressure, fairness, cancel safety of `put`/`get` (a cancelled call
//! neither loses nor adds an item), `join`/`task_done`, and both shutdown
//! modes.
#![forbid(unsafe_code)]

extern crate alloc;

use alloc::sync::Arc;
use core::pin::pin;

use anysync::{
    queue::{
        LifoQueue, PriorityQueue, PutError, Queue, ShutDown, TaskDoneError, TryGetError,
        TryPutError,
    },
    rt::Runtime,
    sync::Event,
};
use anysync_tests::{
    poll_once, race_yields, scenarios, scenarios_no_rt, until, yield_now, DropCounter,
};
use futures_util::future::{select, Either};

/// Producers and consumers in their own tasks, a small queue: every item
/// is got exactly once, `join` returns once all are done, and shutdown
/// ends the consumers without sentinels.
async fn queue_producers_and_consumers_deliver_every_item_once<R: Runtime>(rt: R) {
    const PRODUCERS: u32 = 3;
    const PER_PRODUCER: u32 = 200;
    let q = Arc::new(Queue::bounded(4));
    let consumers: Vec<_> = (0..3)
        .map(|_| {
            let q = Arc::clone(&q);
            rt.spawn(async move {
                let mut got = Vec::new();
                while let Ok(item) = q.get().await {
                    got.push(item);
                    q.task_done().unwrap();
                }
                got
            })
        })
        .collect();
    let producers: Vec<_> = (0..PRODUCERS)
        .map(|p| {
            let q = Arc::clone(&q);
            rt.spawn(async move {
                for i in 0..PER_PRODUCER {
                    q.put(p * 1000 + i).await.unwrap();
                }
            })
        })
        .collect();
    for p in producers {
        p.await.unwrap();
    }
    q.join().await;
    assert_eq!(q.unfinished_tasks(), 0);
    assert!(q.shutdown());
    let mut all = Vec::new();
    for c in consumers {
        let got = c.await.unwrap();
        // Each producer's items reach any one consumer in order.
        for p in 0..PRODUCERS {
            let mine: Vec<_> = got.iter().filter(|&&v| v / 1000 == p).collect();
            assert!(mine.windows(2).all(|w| w[0] < w[1]), "FIFO per producer");
        }
        all.extend(got);
    }
    all.sort_unstable();
    let expected: Vec<_> = (0..PRODUCERS)
        .flat_map(|p| (0..PER_PRODUCER).map(move |i| p * 1000 + i))
        .collect();
    assert_eq!(all, expected);
    assert_eq!((q.put_waiters(), q.get_waiters()), (0, 0));
}

/// 55 across tasks: a putter blocked on a full queue is released by a
/// get in another task; the order is a, b, c.
async fn queue_fifo_and_capacity_across_tasks<R: Runtime>(rt: R) {
    let q = Arc::new(Queue::bounded(2));
    let q2 = Arc::clone(&q);
    let putter = rt.spawn(async move {
        for item in ['a', 'b', 'c'] {
            q2.put(item).await.unwrap();
        }
    });
    until(|| q.put_waiters() == 1).await;
    assert_eq!(q.len(), 2);
    assert!(q.is_full());
    assert_eq!(q.get().await, Ok('a'));
    putter.await.unwrap();
    assert_eq!(q.get().await, Ok('b'));
    assert_eq!(q.get().await, Ok('c'));
}

/// Cancel safety under load: putters and getters in many tasks are
/// cancelled at random points (raced against yields). Every item whose
/// put completed is got exactly once; no cancelled put's item is ever
/// got; nothing is left waiting.
async fn queue_random_cancellation_loses_and_duplicates_nothing<R: Runtime>(rt: R) {
    let q = Arc::new(Queue::bounded(3));
    let producers: Vec<_> = (0..3u32)
        .map(|p| {
            let q = Arc::clone(&q);
            rt.spawn(async move {
                let mut put = Vec::new();
                for i in 0..150u32 {
                    let item = p * 1000 + i;
                    if let Some(r) = race_yields(q.put(item), (i % 4) as usize).await {
                        r.unwrap();
                        put.push(item);
                    }
                }
                put
            })
        })
        .collect();
    let consumers: Vec<_> = (0..3u32)
        .map(|c| {
            let q = Arc::clone(&q);
            rt.spawn(async move {
                let mut got = Vec::new();
                let mut turn = c as usize;
                loop {
                    turn += 1;
                    match race_yields(q.get(), turn % 5).await {
                        Some(Ok(item)) => got.push(item),
                        Some(Err(ShutDown)) => return got,
                        None => {}
                    }
                }
            })
        })
        .collect();
    let mut put = Vec::new();
    for p in producers {
        put.extend(p.await.unwrap());
    }
    q.shutdown();
    let mut got = Vec::new();
    for c in consumers {
        got.extend(c.await.unwrap());
    }
    put.sort_unstable();
    got.sort_unstable();
    assert_eq!(got, put);
    assert!(!put.is_empty());
    assert_eq!((q.put_waiters(), q.get_waiters(), q.len()), (0, 0, 0));
}

/// 58 across tasks: of two getters in other tasks, the one woken for an
/// item is cancelled (its task races the get against an event); the
/// other still gets the item.
async fn queue_woken_getter_cancelled_passes_the_item_on<R: Runtime>(rt: R) {
    let q = Arc::new(Queue::unbounded());
    let cancel = Arc::new(Event::new());
    let (q1, c1) = (Arc::clone(&q), Arc::clone(&cancel));
    let g1 = rt.spawn(async move {
        // Cancellation wins a tie, so g1 may be dropped after its wake-up.
        let cancelled = pin!(c1.wait());
        match select(cancelled, pin!(q1.get())).await {
            Either::Left(((), _)) => None,
            Either::Right((item, _)) => Some(item.unwrap()),
        }
    });
    until(|| q.get_waiters() == 1).await;
    let q2 = Arc::clone(&q);
    let g2 = rt.spawn(async move { q2.get().await.unwrap() });
    until(|| q.get_waiters() == 2).await;
    q.try_put('x').unwrap();
    cancel.set();
    match g1.await.unwrap() {
        Some(item) => {
            // g1 ran before the cancel: g2 needs another item.
            assert_eq!(item, 'x');
            q.try_put('y').unwrap();
            assert_eq!(g2.await.unwrap(), 'y');
        }
        None => assert_eq!(g2.await.unwrap(), 'x'),
    }
    assert_eq!(q.try_get(), Err(TryGetError::Empty));
}

/// 59 across tasks: several joiners in their own tasks are all released
/// by the last `task_done` of the workers.
async fn queue_join_releases_every_joiner<R: Runtime>(rt: R) {
    let q = Arc::new(Queue::unbounded());
    for i in 0..20 {
        q.put(i).await.unwrap();
    }
    let joiners: Vec<_> = (0..3)
        .map(|_| {
            let q = Arc::clone(&q);
            rt.spawn(async move { q.join().await })
        })
        .collect();
    let workers: Vec<_> = (0..3)
        .map(|_| {
            let q = Arc::clone(&q);
            rt.spawn(async move {
                let mut done = 0;
                while let Ok(_item) = q.try_get() {
                    yield_now().await; // "process" it
                    q.task_done().unwrap();
                    done += 1;
                }
                done
            })
        })
        .collect();
    let mut done = 0;
    for w in workers {
        done += w.await.unwrap();
    }
    assert_eq!(done, 20);
    for j in joiners {
        j.await.unwrap();
    }
    assert_eq!(q.task_done(), Err(TaskDoneError));
    assert_eq!(q.unfinished_tasks(), 0);
}

/// 60 across tasks: a graceful shutdown fails blocked putters (handing
/// their items back), lets getters drain, and `join` still waits for
/// the items in flight.
async fn queue_shutdown_fails_putters_drains_getters_and_join_waits<R: Runtime>(rt: R) {
    let q = Arc::new(Queue::bounded(2));
    q.put(1).await.unwrap();
    q.put(2).await.unwrap();
    let blocked: Vec<_> = (3..6)
        .map(|i| {
            let q = Arc::clone(&q);
            rt.spawn(async move { q.put(i).await })
        })
        .collect();
    until(|| q.put_waiters() == 3).await;
    let in_flight = q.get().await.unwrap();
    assert_eq!(in_flight, 1);
    let mut joiner = pin!(q.join());
    assert!(poll_once(&mut joiner.as_mut()).await.is_pending());
    // The freed slot went to the first blocked putter; it may or may not
    // have run before the shutdown.
    assert!(q.shutdown());
    let mut returned = Vec::new();
    let mut put = 0;
    for b in blocked {
        match b.await.unwrap() {
            Ok(()) => put += 1,
            Err(PutError(item)) => returned.push(item),
        }
    }
    assert!(put <= 1, "at most the putter promised the freed slot");
    assert_eq!(returned.len() + put, 3);
    let mut drained = Vec::new();
    while let Ok(item) = q.get().await {
        drained.push(item);
    }
    assert_eq!(drained[0], 2);
    assert_eq!(drained.len(), 1 + put);
    assert_eq!(q.try_put(9), Err(TryPutError::ShutDown(9)));
    assert_eq!(q.get().await, Err(ShutDown), "shut down for good");
    // join waits for the items got and not yet done.
    for _ in 0..(1 + drained.len()) {
        assert!(poll_once(&mut joiner.as_mut()).await.is_pending());
        q.task_done().unwrap();
    }
    joiner.await;
}

/// 61 across tasks: an immediate shutdown drops each buffered item once,
/// fails waiting getters at once, and releases `join` when nothing is
/// in flight.
async fn queue_shutdown_immediate_drops_each_item_once<R: Runtime>(rt: R) {
    let drops = DropCounter::new();
    let q = Arc::new(Queue::bounded(8));
    for _ in 0..5 {
        q.put(drops.guard()).await.unwrap();
    }
    let q2 = Arc::clone(&q);
    let joiner = rt.spawn(async move { q2.join().await });
    q.shutdown_immediate();
    assert_eq!(drops.count(), 5);
    assert_eq!(q.unfinished_tasks(), 0);
    joiner.await.unwrap();
    let q3 = Arc::clone(&q);
    assert!(rt
        .spawn(async move { q3.get().await })
        .await
        .unwrap()
        .is_err());
    q.shutdown_immediate();
    assert_eq!(drops.count(), 5);
    drop(q);
    assert_eq!(drops.count(), 5);
}

/// A worker that panics while it holds a tracked item does not hang
/// `join`: the item marks itself done as the panic drops it, and the
/// other workers finish the rest.
async fn queue_tracked_item_of_a_panicking_worker_is_done<R: Runtime>(rt: R) {
    let q = Arc::new(Queue::bounded(4));
    for i in 0..4 {
        q.put(i).await.unwrap();
    }
    let worker = Arc::clone(&q);
    let joined = rt
        .spawn(async move {
            let item = worker.get_tracked().await.unwrap();
            assert_eq!(*item, 0);
            panic!("worker panicked on purpose while holding an item");
        })
        .await;
    assert!(joined.unwrap_err().is_panic());
    assert_eq!(
        q.unfinished_tasks(),
        3,
        "the panicked worker's item is done"
    );
    let worker = Arc::clone(&q);
    let rest = rt.spawn(async move {
        let mut got = Vec::new();
        while let Ok(item) = worker.get_tracked().await {
            got.push(*item);
        }
        got
    });
    q.join().await;
    assert_eq!(q.unfinished_tasks(), 0);
    q.shutdown();
    assert_eq!(rest.await.unwrap(), [1, 2, 3]);
}

scenarios!(
    queue_producers_and_consumers_deliver_every_item_once,
    queue_fifo_and_capacity_across_tasks,
    queue_random_cancellation_loses_and_duplicates_nothing,
    queue_woken_getter_cancelled_passes_the_item_on,
    queue_join_releases_every_joiner,
    queue_shutdown_fails_putters_drains_getters_and_join_waits,
    queue_shutdown_immediate_drops_each_item_once,
    queue_tracked_item_of_a_panicking_worker_is_done
);

/// 56: a pending get is cancelled after two puts; the next get returns
/// the first item.
async fn queue_get_is_cancel_safe() {
    let q = Queue::unbounded();
    {
        let mut reader = pin!(q.get());
        assert!(poll_once(&mut reader.as_mut()).await.is_pending());
        q.put(1).await.unwrap();
        q.put(2).await.unwrap();
    } // cancelled after it was promised 1
    assert_eq!(q.get().await, Ok(1));
    assert_eq!(q.get().await, Ok(2));
}

/// 57: a putter woken for a freed slot is cancelled; its item is not
/// put and the slot is not lost.
async fn queue_put_is_cancel_safe() {
    let q = Queue::bounded(1);
    q.put(1).await.unwrap();
    {
        let mut putter = pin!(q.put(2));
        assert!(poll_once(&mut putter.as_mut()).await.is_pending());
        assert_eq!(q.get().await, Ok(1));
    } // cancelled after it was promised the slot
    q.put(3).await.unwrap();
    assert_eq!(q.len(), 1);
    assert_eq!(q.get().await, Ok(3));
    assert_eq!(q.try_get(), Err(TryGetError::Empty));
}

/// A woken putter cancelled passes the slot to the next putter, which
/// still gets in ahead of a newcomer.
async fn queue_woken_putter_cancelled_passes_the_slot_on() {
    let q = Queue::bounded(1);
    q.put(0).await.unwrap();
    let mut p1 = Box::pin(q.put(1));
    let mut p2 = pin!(q.put(2));
    assert!(poll_once(&mut p1.as_mut()).await.is_pending());
    assert!(poll_once(&mut p2.as_mut()).await.is_pending());
    assert_eq!(q.get().await, Ok(0));
    drop(p1);
    assert_eq!(q.try_put(3), Err(TryPutError::Full(3)), "the slot is p2's");
    assert!(poll_once(&mut p2.as_mut()).await.is_ready());
    assert_eq!(q.get().await, Ok(2));
}

/// LIFO and priority orders, with the same API.
async fn queue_lifo_and_priority_orders() {
    let l = LifoQueue::bounded(3);
    let p = PriorityQueue::bounded(3);
    for i in [2, 3, 1] {
        l.put(i).await.unwrap();
        p.put(i).await.unwrap();
    }
    let mut lifo = Vec::new();
    let mut prio = Vec::new();
    for _ in 0..3 {
        lifo.push(l.get().await.unwrap());
        prio.push(p.get().await.unwrap());
        l.task_done().unwrap();
        p.task_done().unwrap();
    }
    assert_eq!(lifo, [1, 3, 2]);
    assert_eq!(prio, [1, 2, 3]);
    l.join().await;
    p.join().await;
}

/// 59: `join` on an empty queue is ready; a `task_done` too many is an
/// error that leaves the count alone.
async fn queue_join_empty_and_task_done_underflow() {
    let q = Queue::<u8>::bounded(1);
    q.join().await;
    assert_eq!(q.task_done(), Err(TaskDoneError));
    q.put(1).await.unwrap();
    assert_eq!(q.task_done(), Err(TaskDoneError), "not got yet");
    assert_eq!(q.unfinished_tasks(), 1);
}

scenarios_no_rt!(
    queue_get_is_cancel_safe,
    queue_put_is_cancel_safe,
    queue_woken_putter_cancelled_passes_the_slot_on,
    queue_lifo_and_priority_orders,
    queue_join_empty_and_task_done_underflow
);

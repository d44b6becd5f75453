//! `pool::Pool` on every executor: limits, fairness, cancellation, failure
//! paths and close. Exact timeouts are asserted at the bottom, on
//! `VirtualTime` alone.
#![forbid(unsafe_code)]

extern crate alloc;

use alloc::sync::Arc;
use core::{
    pin::pin,
    sync::atomic::{AtomicBool, AtomicUsize, Ordering},
    task::Poll,
    time::Duration,
};
use std::sync::Mutex;

use anysync::{
    pool::{Manager, Object, Pool, PoolConfigError, PoolError},
    rt::{virtual_time::VirtualTime, Instant, Runtime},
};
use anysync_tests::{poll_once, race_yields, until, yield_now};

/// Live connections, shared by a manager and the connections it made.
#[derive(Debug, Default)]
struct Counts {
    live: AtomicUsize,
    peak: AtomicUsize,
    created: AtomicUsize,
}

#[derive(Debug)]
struct Conn {
    id: usize,
    counts: Arc<Counts>,
}

impl Drop for Conn {
    fn drop(&mut self) {
        self.counts.live.fetch_sub(1, Ordering::SeqCst);
    }
}

/// A manager whose creations and checks can be made to fail.
#[derive(Debug, Default)]
struct Conns {
    counts: Arc<Counts>,
    /// Creations still to fail.
    fail_creates: AtomicUsize,
    /// Every recycle check fails while set.
    fail_recycle: AtomicBool,
}

impl Manager for Conns {
    type Object = Conn;
    type Error = String;

    async fn create(&self) -> Result<Conn, String> {
        yield_now().await; // creating takes a while
                           // Take one planned failure, if any are left.
        let mut n = self.fail_creates.load(Ordering::SeqCst);
        let fail = loop {
            if n == 0 {
                break false;
            }
            match self
                .fail_creates
                .compare_exchange(n, n - 1, Ordering::SeqCst, Ordering::SeqCst)
            {
                Ok(_) => break true,
                Err(actual) => n = actual,
            }
        };
        if fail {
            return Err("refused".into());
        }
        let id = self.counts.created.fetch_add(1, Ordering::SeqCst) + 1;
        let live = self.counts.live.fetch_add(1, Ordering::SeqCst) + 1;
        self.counts.peak.fetch_max(live, Ordering::SeqCst);
        Ok(Conn {
            id,
            counts: self.counts.clone(),
        })
    }

    async fn recycle(&self, conn: Conn) -> Result<Conn, String> {
        if self.fail_recycle.load(Ordering::SeqCst) {
            Err(format!("connection {} is stale", conn.id))
        } else {
            Ok(conn)
        }
    }

    fn is_broken(&self, conn: &Conn) -> bool {
        conn.id == usize::MAX
    }
}

fn pool<R: Runtime>(rt: &R, max_size: usize) -> Pool<Conns, R> {
    Pool::builder(Conns::default())
        .max_size(max_size)
        .wait_timeout(None)
        .build(rt.clone())
        .unwrap()
}

fn counts<R: Runtime>(pool: &Pool<Conns, R>) -> &Counts {
    &pool.manager().counts
}

/// 20 tasks sharing 5 connections never have more than 5 alive, and each
/// task's object is its own.
async fn pool_never_exceeds_max_size<R: Runtime>(rt: R) {
    let pool = pool(&rt, 5);
    let in_use = Arc::new(Mutex::new(Vec::new()));
    let mut tasks = Vec::new();
    for _ in 0..20 {
        let (pool, in_use) = (pool.clone(), in_use.clone());
        tasks.push(rt.spawn(async move {
            for _ in 0..3 {
                let conn = pool.get().await.unwrap();
                {
                    let mut in_use = in_use.lock().unwrap();
                    assert!(
                        !in_use.contains(&conn.id),
                        "connection {} lent twice",
                        conn.id
                    );
                    in_use.push(conn.id);
                }
                yield_now().await;
                in_use.lock().unwrap().retain(|id| *id != conn.id);
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    let c = counts(&pool);
    assert!(c.peak.load(Ordering::SeqCst) <= 5);
    assert!(c.created.load(Ordering::SeqCst) <= 5);
    let stats = pool.statistics();
    assert!(
        stats.size <= 5 && stats.in_use == 0 && stats.waiters == 0,
        "{stats:?}"
    );
}

/// Waiters get objects in the order they started waiting.
async fn pool_serves_waiters_in_fifo_order<R: Runtime>(rt: R) {
    let pool = pool(&rt, 1);
    let held = pool.get().await.unwrap();
    let order = Arc::new(Mutex::new(Vec::new()));
    let mut tasks = Vec::new();
    for i in 0..4 {
        let (task_pool, order) = (pool.clone(), order.clone());
        tasks.push(rt.spawn(async move {
            let conn = task_pool.get().await.unwrap();
            order.lock().unwrap().push(i);
            drop(conn);
        }));
        until(|| pool.statistics().waiters == i + 1).await;
    }
    drop(held);
    for task in tasks {
        task.await.unwrap();
    }
    assert_eq!(*order.lock().unwrap(), [0, 1, 2, 3]);
}

/// A get cancelled while queued leaks nothing; one cancelled after an
/// object was assigned to it passes that on to the next waiter.
async fn pool_cancelled_gets_leak_nothing<R: Runtime>(rt: R) {
    let pool = pool(&rt, 1);
    let held = pool.get().await.unwrap();
    // Cancelled while queued.
    assert!(race_yields(pool.get(), 3).await.is_none());
    assert_eq!(pool.statistics().waiters, 0);
    // Cancelled after being chosen: W1 is woken by the release, then dropped.
    let mut w1 = Box::pin(pool.get());
    let mut w2 = Box::pin(pool.get());
    assert!(poll_once(&mut w1).await.is_pending());
    assert!(poll_once(&mut w2).await.is_pending());
    drop(held);
    drop(w1);
    let conn = w2.await.unwrap();
    assert_eq!(conn.id, 1, "the one connection was passed on");
    drop(conn);
    let stats = pool.statistics();
    assert_eq!((stats.size, stats.idle, stats.waiters), (1, 1, 0));
    // One further get succeeds at once.
    assert!(pool.get_timeout(Some(Duration::ZERO)).await.is_ok());
}

/// A get cancelled while its object is being created frees the slot.
async fn pool_get_cancelled_during_create_frees_the_slot<R: Runtime>(rt: R) {
    let pool = pool(&rt, 1);
    let mut get = Box::pin(pool.get());
    // The first poll takes the permit and starts creating (which yields).
    assert!(poll_once(&mut get).await.is_pending());
    assert_eq!(pool.statistics().size, 1);
    drop(get);
    let stats = pool.statistics();
    assert_eq!((stats.size, stats.in_use), (0, 0));
    assert!(pool.get().await.is_ok());
}

/// A failed creation frees its slot and the next waiter gets to try.
async fn pool_create_failure_frees_the_slot_and_wakes_a_waiter<R: Runtime>(rt: R) {
    let pool = pool(&rt, 1);
    let held = pool.get().await.unwrap();
    let waiter = rt.spawn({
        let pool = pool.clone();
        async move { pool.get().await.map(|c| c.id) }
    });
    until(|| pool.statistics().waiters == 1).await;
    let second = rt.spawn({
        let pool = pool.clone();
        async move { pool.get().await.map(|c| c.id) }
    });
    until(|| pool.statistics().waiters == 2).await;
    pool.manager().fail_creates.store(1, Ordering::SeqCst);
    // Detaching the held connection frees its slot: the waiter must create.
    let detached = Object::take(held);
    assert_eq!(
        waiter.await.unwrap(),
        Err(PoolError::Create("refused".into()))
    );
    assert_eq!(second.await.unwrap(), Ok(2));
    drop(detached);
    let stats = pool.statistics();
    assert_eq!((stats.create_failures, stats.size), (1, 1));
}

/// Broken, panicked and stale objects are discarded and replaced.
async fn pool_discards_broken_and_panicked_objects<R: Runtime>(rt: R) {
    let pool = pool(&rt, 2);
    let mut conn = pool.get().await.unwrap();
    Object::mark_broken(&mut conn);
    drop(conn);
    assert_eq!(pool.statistics().size, 0);
    let mut conn = pool.get().await.unwrap();
    assert_eq!(conn.id, 2, "a new connection replaced the broken one");
    conn.id = usize::MAX; // `is_broken` says so
    drop(conn);
    assert_eq!(pool.statistics().size, 0);
    // Returned while its task panics.
    let task_pool = pool.clone();
    let joined = rt
        .spawn(async move {
            let _conn = task_pool.get().await.unwrap();
            panic!("task panicked on purpose while holding a connection");
        })
        .await;
    assert!(joined.unwrap_err().is_panic());
    assert_eq!(pool.statistics().size, 0);
    // A failed recycle check discards the idle one and creates another.
    drop(pool.get().await.unwrap());
    assert_eq!(pool.statistics().idle, 1);
    pool.manager().fail_recycle.store(true, Ordering::SeqCst);
    let conn = pool.get().await.unwrap();
    assert_eq!(conn.id, 5);
    let stats = pool.statistics();
    assert_eq!((stats.discarded, stats.size, stats.created), (4, 1, 5));
    assert_eq!(counts(&pool).live.load(Ordering::SeqCst), 1);
}

/// `close` fails every waiter and every later get; objects that come back
/// are dropped.
async fn pool_close_fails_every_waiter<R: Runtime>(rt: R) {
    let pool = pool(&rt, 1);
    let held = pool.get().await.unwrap();
    let waiters: Vec<_> = (0..3)
        .map(|_| {
            let pool = pool.clone();
            rt.spawn(async move { pool.get().await.map(|c| c.id) })
        })
        .collect();
    until(|| pool.statistics().waiters == 3).await;
    pool.close();
    for waiter in waiters {
        assert_eq!(waiter.await.unwrap(), Err(PoolError::Closed));
    }
    assert!(matches!(pool.get().await, Err(PoolError::Closed)));
    drop(held);
    assert_eq!(pool.statistics().size, 0);
    assert_eq!(counts(&pool).live.load(Ordering::SeqCst), 0);
}

/// A get with a timeout gives up and leaves no waiter behind.
async fn pool_get_timeout_gives_up_cleanly<R: Runtime>(rt: R) {
    let pool = pool(&rt, 1);
    let held = pool.get().await.unwrap();
    let out = pool.get_timeout(Some(Duration::from_millis(5))).await;
    assert!(matches!(out, Err(PoolError::Timeout)));
    let stats = pool.statistics();
    assert_eq!((stats.timeouts, stats.waiters), (1, 0));
    drop(held);
    assert!(pool.get().await.is_ok());
}

/// The background task keeps `min_idle` objects idle.
async fn pool_keeps_min_idle_objects<R: Runtime>(rt: R) {
    let pool = Pool::builder(Conns::default())
        .max_size(3)
        .min_idle(2)
        .build(rt.clone())
        .unwrap();
    until(|| pool.statistics().idle == 2).await;
    let a = pool.get().await.unwrap();
    until(|| pool.statistics().idle == 2).await;
    let b = pool.get().await.unwrap();
    // Only one more fits under max_size.
    until(|| pool.statistics().size == 3).await;
    for _ in 0..10 {
        yield_now().await;
    }
    assert_eq!(pool.statistics().size, 3);
    assert!(counts(&pool).peak.load(Ordering::SeqCst) <= 3);
    drop((a, b));
    pool.close();
}

/// `Object::take` detaches the object and frees its slot.
async fn pool_take_detaches_an_object<R: Runtime>(rt: R) {
    let pool = pool(&rt, 1);
    let conn = Object::take(pool.get().await.unwrap());
    assert_eq!(pool.statistics().size, 0);
    let other = pool.get().await.unwrap();
    assert_ne!(other.id, conn.id);
}

/// Creates objects only when its gate is open.
#[derive(Debug, Default)]
struct Gated {
    gate: anysync::sync::Event,
}

impl Manager for Gated {
    type Object = u8;
    type Error = String;

    async fn create(&self) -> Result<u8, String> {
        self.gate.wait().await;
        Ok(1)
    }
}

/// Closing a pool while its `min_idle` task is creating stops the task and
/// gives its reserved place back.
async fn pool_close_stops_the_min_idle_task_mid_creation<R: Runtime>(rt: R) {
    let pool = Pool::builder(Gated::default())
        .max_size(2)
        .min_idle(1)
        .build(rt.clone())
        .unwrap();
    until(|| pool.statistics().size == 1).await; // reserved, creating
    assert_eq!(pool.statistics().idle, 0);
    pool.close();
    until(|| pool.statistics().size == 0).await;
    pool.manager().gate.set();
    for _ in 0..10 {
        yield_now().await;
    }
    let stats = pool.statistics();
    assert_eq!((stats.size, stats.idle, stats.created), (0, 0, 0));
}

/// A get given a cancellation future gives up when it completes, leaving
/// no waiter behind and losing no slot.
async fn pool_get_cancel_on_gives_up_cleanly<R: Runtime>(rt: R) {
    let pool = pool(&rt, 1);
    let held = pool.get().await.unwrap();
    let cancel = Arc::new(anysync::sync::Event::new());
    let waiter = rt.spawn({
        let (pool, cancel) = (pool.clone(), cancel.clone());
        async move { pool.get().cancel_on(cancel.wait()).await.map(|c| c.id) }
    });
    until(|| pool.statistics().waiters == 1).await;
    cancel.set();
    assert_eq!(waiter.await.unwrap(), Err(PoolError::Cancelled));
    assert_eq!(pool.statistics().waiters, 0);
    drop(held);
    // Already cancelled: gives up before waiting, though an object is idle.
    let out = pool.get().cancel_on(cancel.wait()).await;
    assert!(matches!(out, Err(PoolError::Cancelled)));
    assert_eq!(pool.get().await.unwrap().id, 1);
}

anysync_tests::scenarios!(
    pool_get_cancel_on_gives_up_cleanly,
    pool_close_stops_the_min_idle_task_mid_creation,
    pool_never_exceeds_max_size,
    pool_serves_waiters_in_fifo_order,
    pool_cancelled_gets_leak_nothing,
    pool_get_cancelled_during_create_frees_the_slot,
    pool_create_failure_frees_the_slot_and_wakes_a_waiter,
    pool_discards_broken_and_panicked_objects,
    pool_close_fails_every_waiter,
    pool_get_timeout_gives_up_cleanly,
    pool_keeps_min_idle_objects,
    pool_take_detaches_an_object,
);

#[test]
fn pool_bad_sizes_are_rejected() {
    let vt = VirtualTime::new();
    let build = |max, min| {
        Pool::builder(Conns::default())
            .max_size(max)
            .min_idle(min)
            .build(vt.clone())
            .map(drop)
    };
    assert_eq!(build(0, 0), Err(PoolConfigError::ZeroMaxSize));
    assert_eq!(
        build(2, 3),
        Err(PoolConfigError::MinIdleAboveMaxSize {
            min_idle: 3,
            max_size: 2
        })
    );
    assert!(matches!(
        build(usize::MAX, 0),
        Err(PoolConfigError::MaxSizeTooLarge { .. })
    ));
    assert_eq!(build(2, 2), Ok(()));
    fn error<E: core::error::Error + Send + Sync + 'static>() {}
    error::<PoolConfigError>();
    error::<PoolError<std::io::Error>>();
}

#[test]
fn virtual_time_pool_default_wait_timeout_is_30_s() {
    let vt = VirtualTime::new();
    vt.block_on(|rt| async move {
        let pool = Pool::builder(Conns::default())
            .max_size(1)
            .build(rt.clone())
            .unwrap();
        let _held = pool.get().await.unwrap();
        let start = rt.now();
        assert!(matches!(pool.get().await, Err(PoolError::Timeout)));
        assert_eq!(rt.now() - start, Duration::from_secs(30));
        let out = pool.get_timeout(Some(Duration::from_millis(250))).await;
        assert!(matches!(out, Err(PoolError::Timeout)));
        assert_eq!(rt.now(), start + Duration::from_millis(30_250));
    });
}

#[test]
fn virtual_time_pool_waiter_gets_the_object_the_instant_it_returns() {
    let vt = VirtualTime::new();
    vt.block_on(|rt| async move {
        let pool = pool(&rt, 1);
        let held = pool.get().await.unwrap();
        let releaser = rt.spawn({
            let rt = rt.clone();
            async move {
                rt.sleep(Duration::from_millis(40)).await;
                drop(held);
            }
        });
        let mut get = pin!(pool.get());
        assert_eq!(poll_once(&mut get).await.map(|r| r.is_ok()), Poll::Pending);
        let conn = get.await.unwrap();
        assert_eq!(rt.now(), Instant::from_origin(Duration::from_millis(40)));
        assert_eq!(conn.id, 1);
        releaser.await.unwrap();
    });
}

/// A pool is shared between tasks; its objects and `get` futures move
/// between threads.
#[test]
fn pool_types_are_send_and_sync() {
    fn send_sync<T: Send + Sync>() {}
    fn send<T: Send>() {}
    send_sync::<Pool<Conns, VirtualTime>>();
    send_sync::<Object<Conns>>();
    send::<anysync::pool::futures::Get<'static, Conns, VirtualTime>>();
}

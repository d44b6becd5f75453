//! A connection pool (asyncio's `Semaphore` + `Queue` of
//! connections with `async with pool`), without the guides' fault: each
//! task gets and returns its own connection, and a cancelled get leaks
//! nothing.

use std::{
    collections::HashSet,
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc, Mutex,
    },
    time::Duration,
};

use anysync::{
    pool::{Manager, Object, Pool, PoolError},
    rt::Runtime,
};

/// A pretend database connection.
#[derive(Debug)]
pub struct Connection {
    /// Its number, in creation order.
    pub id: usize,
}

/// Makes [`Connection`]s.
#[derive(Debug, Default)]
pub struct Database {
    opened: AtomicUsize,
}

impl Manager for Database {
    type Object = Connection;
    type Error = String;

    async fn create(&self) -> Result<Connection, String> {
        let id = self.opened.fetch_add(1, Ordering::SeqCst) + 1;
        Ok(Connection { id })
    }
}

/// What a run of [`run`] observed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// Tasks that finished their query.
    pub finished: usize,
    /// The most connections in use at once.
    pub peak_in_use: usize,
    /// Connections ever opened (5, plus 1 replacing the broken one).
    pub opened: usize,
    /// What a get with a short timeout returned while every connection was out.
    pub timed_out_get: String,
    /// Whether a get after `close()` failed.
    pub closed_get_failed: bool,
}

/// Runs `tasks` tasks over a pool of `size` connections, each holding one
/// for `work`; task 3 finds its connection broken. Then shows a get with a
/// timeout and `close()`.
pub async fn run<R: Runtime>(
    rt: R,
    tasks: usize,
    size: usize,
    work: Duration,
    verbose: bool,
) -> Report {
    let pool = Pool::builder(Database::default())
        .max_size(size)
        .wait_timeout(Some(Duration::from_secs(5)))
        .build(rt.clone())
        .expect("valid sizes");
    let in_use = Arc::new(Mutex::new(HashSet::new()));
    let peak = Arc::new(AtomicUsize::new(0));
    let mut handles = Vec::new();
    for task in 0..tasks {
        let (pool, in_use, peak, timer) = (pool.clone(), in_use.clone(), peak.clone(), rt.clone());
        handles.push(rt.spawn(async move {
            // `async with pool.connection() as conn:` is a guard here.
            let mut conn = pool.get().await.expect("a connection");
            {
                let mut set = in_use.lock().unwrap();
                assert!(
                    set.insert(conn.id),
                    "connection {} handed out twice",
                    conn.id
                );
                peak.fetch_max(set.len(), Ordering::SeqCst);
            }
            if verbose {
                println!("task {task:>2} uses connection {}", conn.id);
            }
            timer.sleep(work).await;
            in_use.lock().unwrap().remove(&conn.id);
            if task == 3 {
                if verbose {
                    println!(
                        "task  3 finds connection {} broken: it is discarded",
                        conn.id
                    );
                }
                Object::mark_broken(&mut conn);
            }
            // Dropping the guard returns the connection (or discards it).
        }));
    }
    let mut finished = 0;
    for handle in handles {
        handle.await.expect("task failed");
        finished += 1;
    }
    // Every connection out: a get with a timeout gives up cleanly.
    let mut held = Vec::new();
    for _ in 0..size {
        held.push(pool.get().await.expect("a connection"));
    }
    let timed_out_get = match pool.get_timeout(Some(work)).await {
        Err(PoolError::Timeout) => "timed out".to_owned(),
        other => format!("{other:?}"),
    };
    drop(held);
    let stats = pool.statistics();
    if verbose {
        println!(
            "get with a {} ms timeout while all were out: {timed_out_get}",
            work.as_millis()
        );
        println!("{stats:?}");
    }
    // Explicit async cleanup: close the pool; later gets fail.
    pool.close();
    let closed_get_failed = matches!(pool.get().await, Err(PoolError::Closed));
    Report {
        finished,
        peak_in_use: peak.load(Ordering::SeqCst),
        opened: pool.manager().opened.load(Ordering::SeqCst),
        timed_out_get,
        closed_get_failed,
    }
}

/// The tour's line for this pattern.
pub async fn tour_line<R: Runtime>(rt: R) -> String {
    let r = run(rt, 20, 5, Duration::from_millis(10), false).await;
    format!(
        "connection pool: {} tasks on 5 connections, peak {} in use, {} opened (one broken, replaced), a timed get {}, get after close failed: {}",
        r.finished, r.peak_in_use, r.opened, r.timed_out_get, r.closed_get_failed
    )
}

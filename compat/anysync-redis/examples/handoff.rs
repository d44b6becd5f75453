//! Hand-off latency of a `RedisMutex` between two clients: one holder
//! releases, a waiter on another connection acquires. Prints the median and
//! the 90th percentile over 200 hand-offs, against a throwaway
//! `redis-server` on a loopback port (or `--redis URL`).
//!
//! `cargo run --release -p anysync-redis --example handoff`
#![forbid(unsafe_code)]

use std::time::{Duration, Instant};

use anysync_redis::{server::LocalServer, Redis, RedisMutex};
use anysync_tokio::Tokio;

const ROUNDS: usize = 200;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let given = args
        .iter()
        .position(|a| a == "--redis")
        .and_then(|i| args.get(i + 1).cloned());
    let (url, _server) = match given {
        Some(url) => (url, None),
        None => {
            let server = LocalServer::start().expect("cannot start redis-server");
            (server.url(), Some(server))
        }
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async move {
        let holder = Redis::connect(&url).await.expect("cannot reach redis");
        let waiter = Redis::connect(&url).await.expect("cannot reach redis");
        let name = format!("handoff-{}", std::process::id());
        let a = RedisMutex::new(&holder, Tokio::current(), &name).unwrap();
        let b = RedisMutex::new(&waiter, Tokio::current(), &name).unwrap();
        let mut con = redis::Client::open(url.as_str())
            .unwrap()
            .get_multiplexed_async_connection()
            .await
            .unwrap();
        let queue = format!("anysync:mutex:{name}:queue");
        let mut took = Vec::with_capacity(ROUNDS);
        for _ in 0..ROUNDS {
            let held = a.lock().await.unwrap();
            let next = tokio::spawn({
                let b = b.clone();
                async move {
                    let permit = b.lock().await.unwrap();
                    (Instant::now(), permit)
                }
            });
            // Release only once the waiter is queued in Redis.
            loop {
                let queued: usize = redis::cmd("ZCARD")
                    .arg(&queue)
                    .query_async(&mut con)
                    .await
                    .unwrap();
                if queued == 1 {
                    break;
                }
                tokio::task::yield_now().await;
            }
            let released = Instant::now();
            held.release().await.unwrap();
            let (acquired, permit) = next.await.unwrap();
            took.push(acquired - released);
            permit.release().await.unwrap();
        }
        took.sort();
        let at = |q: f64| took[((took.len() - 1) as f64 * q) as usize];
        println!(
            "hand-off over {ROUNDS} rounds: median {:?}, p90 {:?}, max {:?}",
            at(0.5),
            at(0.9),
            took.last().copied().unwrap_or(Duration::ZERO)
        );
    });
}

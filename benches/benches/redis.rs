//! anysync-redis against a real `redis-server` on loopback, next to a
//! plain INCR round trip (the floor any Redis-backed primitive pays).
//!
//! * `redis/round_trip/incr`: one INCR on a multiplexed connection.
//! * `redis/round_trip/semaphore_acquire_release`: a `RedisSemaphore` (1
//!   permit) acquire plus an explicit `release().await`: two scripts.
//! * `redis/round_trip/rate_check`: one `RedisRateLimiter::try_acquire_n(1)`
//!   (one GCRA script call, always granted).
//! * `redis/round_trip/rate_acquire`: the waiting form, granted at once.
//!
//! The server is started by `anysync_redis::server::LocalServer` on a free
//! loopback port in a temporary directory and stopped afterwards. Without
//! `redis-server` on `PATH` these benches print one SKIPPED line and run
//! nothing. One task on tokio's current-thread runtime; times are per
//! round trip.
//!
//! `cargo bench -p anysync-benches --bench redis`
#![forbid(unsafe_code)]
#![allow(clippy::std_instead_of_core, clippy::std_instead_of_alloc)]
// `criterion_group!` defines an undocumented public fn.
#![allow(missing_docs)]

use std::{hint::black_box, num::NonZeroU32};

use anysync::time::Quota;
use anysync_benches::{criterion, group};
use criterion::{criterion_group, criterion_main, Criterion};

fn round_trips(c: &mut Criterion) {
    let server = match anysync_redis::server::LocalServer::start() {
        Ok(server) => server,
        Err(e) => {
            eprintln!("\nSKIPPED: redis benches: {e}; install Debian's redis-server to run them\n");
            return;
        }
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let tokio_rt = rt.block_on(async { anysync_tokio::Tokio::current() });
    let (redis, mut con) = rt.block_on(async {
        let redis = anysync_redis::Redis::connect(&server.url()).await.unwrap();
        let con = redis::Client::open(server.url())
            .unwrap()
            .get_multiplexed_async_connection()
            .await
            .unwrap();
        (redis, con)
    });
    let mut g = group(c, "redis/round_trip", 1);
    g.bench_function("incr", |b| {
        b.iter(|| {
            rt.block_on(async {
                let n: u64 = redis::cmd("INCR")
                    .arg("bench")
                    .query_async(&mut con)
                    .await
                    .unwrap();
                black_box(n)
            })
        })
    });
    let sem = anysync_redis::RedisSemaphore::new(&redis, tokio_rt.clone(), "bench", 1).unwrap();
    g.bench_function("semaphore_acquire_release", |b| {
        b.iter(|| {
            rt.block_on(async {
                let permit = sem.acquire().await.unwrap();
                assert!(permit.release().await.unwrap());
            })
        })
    });
    let quota = Quota::per_second(NonZeroU32::MAX);
    let limiter = anysync_redis::RedisRateLimiter::new(&redis, tokio_rt, "bench", quota).unwrap();
    g.bench_function("rate_check", |b| {
        b.iter(|| rt.block_on(async { assert_eq!(limiter.try_acquire_n(1).await.unwrap(), None) }))
    });
    g.bench_function("rate_acquire", |b| {
        b.iter(|| rt.block_on(async { limiter.acquire().await.unwrap() }))
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = criterion();
    targets = round_trips
}
criterion_main!(benches);

//! Retry and Pool: anysync against backon (retry), deadpool and bb8 (pool).
//!
//! * `retry/always_ok`: one retry of an operation that succeeds at once,
//!   under `futures_executor::block_on`: the overhead of the wrapper.
//! * `pool/uncontended/tokio_ct`: get an object and put it back, one task.
//! * `pool/o8/tokio_mt2/t64`: 64 tasks sharing 8 objects, each holding its
//!   object across one yield, so gets queue (the report shows the fraction
//!   of gets that waited).
//!
//! Times are per operation (one retry, one get and put).
//! `cargo bench -p anysync-benches --bench resilience`
#![forbid(unsafe_code)]
// A std-only package: the core-first import lints of the workspace do not
// apply.
#![allow(clippy::std_instead_of_core, clippy::std_instead_of_alloc)]
// `criterion_group!` defines an undocumented public fn.
#![allow(missing_docs)]

use std::{convert::Infallible, num::NonZeroU32, sync::Arc, time::Duration};

use anysync::{
    rt::{Instant, Timer},
    time::{Backoff, RetryExt},
};
use anysync_benches::{
    criterion, group, quick, share, uncontended,
    wait::{self, count, Op},
    yield_now, Rt, RtKind,
};
use backon::Retryable;
use criterion::{criterion_group, criterion_main, Criterion};

/// tokio's sleep as an `rt::Timer`, the same sleeper backon is given
/// (neither is called: the first attempt succeeds).
#[derive(Clone, Copy, Debug)]
struct TokioSleep;

impl Timer for TokioSleep {
    type Sleep = tokio::time::Sleep;

    fn sleep(&self, duration: Duration) -> tokio::time::Sleep {
        tokio::time::sleep(duration)
    }

    fn now(&self) -> Instant {
        Instant::from_std(std::time::Instant::now())
    }
}

fn retry(c: &mut Criterion) {
    let mut g = group(c, "retry/always_ok", 1);
    g.bench_function("anysync", |b| {
        b.iter_custom(|iters| {
            uncontended(iters, || {
                let timer = TokioSleep;
                async move {
                    let op = || async { Ok::<u64, Infallible>(1) };
                    let backoff =
                        Backoff::exponential(Duration::from_millis(1), 2.0, Duration::from_secs(1))
                            .expect("valid")
                            .with_seed(1);
                    let out = RetryExt::retry(op, timer, backoff)
                        .attempts(NonZeroU32::new(3).expect("non-zero"))
                        .await;
                    assert_eq!(out, Ok(1));
                }
            })
        })
    });
    g.bench_function("backon", |b| {
        b.iter_custom(|iters| {
            uncontended(iters, || async {
                let op = || async { Ok::<u64, Infallible>(1) };
                let out = Retryable::retry(
                    op,
                    backon::ExponentialBuilder::default()
                        .with_min_delay(Duration::from_millis(1))
                        .with_max_times(2),
                )
                .sleep(tokio::time::sleep)
                .await;
                assert_eq!(out, Ok(1));
            })
        })
    });
    g.finish();
}

/// The pooled object: a counter, so the work is not optimised away.
struct Numbers;

impl anysync::pool::Manager for Numbers {
    type Object = u64;
    type Error = Infallible;

    async fn create(&self) -> Result<u64, Infallible> {
        Ok(0)
    }
}

impl deadpool::managed::Manager for Numbers {
    type Type = u64;
    type Error = Infallible;

    async fn create(&self) -> Result<u64, Infallible> {
        Ok(0)
    }

    async fn recycle(
        &self,
        _: &mut u64,
        _: &deadpool::managed::Metrics,
    ) -> deadpool::managed::RecycleResult<Infallible> {
        Ok(())
    }
}

impl bb8::ManageConnection for Numbers {
    type Connection = u64;
    type Error = Infallible;

    async fn connect(&self) -> Result<u64, Infallible> {
        Ok(0)
    }

    async fn is_valid(&self, _: &mut u64) -> Result<(), Infallible> {
        Ok(())
    }

    fn has_broken(&self, _: &mut u64) -> bool {
        false
    }
}

/// One get-and-put on each pool under test.
#[derive(Clone)]
enum AnyPool {
    Anysync(anysync::pool::Pool<Numbers, anysync_tokio::Tokio>),
    Deadpool(deadpool::managed::Pool<Numbers>),
    Bb8(bb8::Pool<Numbers>),
}

impl AnyPool {
    async fn new(id: &str, size: usize) -> AnyPool {
        match id {
            "anysync" | "anysync_no_timeout" => AnyPool::Anysync(
                anysync::pool::Pool::builder(Numbers)
                    .max_size(size)
                    .wait_timeout((id == "anysync").then_some(anysync::pool::DEFAULT_WAIT_TIMEOUT))
                    .build(anysync_tokio::Tokio::current())
                    .expect("valid"),
            ),
            "deadpool" => AnyPool::Deadpool(
                deadpool::managed::Pool::builder(Numbers)
                    .max_size(size)
                    .build()
                    .expect("valid"),
            ),
            "deadpool_wait_timeout" => AnyPool::Deadpool(
                deadpool::managed::Pool::builder(Numbers)
                    .max_size(size)
                    .wait_timeout(Some(anysync::pool::DEFAULT_WAIT_TIMEOUT))
                    .runtime(deadpool::Runtime::Tokio1)
                    .build()
                    .expect("valid"),
            ),
            "bb8" => AnyPool::Bb8(
                bb8::Pool::builder()
                    .max_size(size as u32)
                    .test_on_check_out(false)
                    .build(Numbers)
                    .await
                    .expect("valid"),
            ),
            other => unreachable!("{other}"),
        }
    }

    async fn use_once(&self, hold: bool) {
        match self {
            AnyPool::Anysync(p) => {
                let mut o = count(Op::Acquire, p.get()).await.expect("object");
                *o += 1;
                if hold {
                    yield_now().await;
                }
            }
            AnyPool::Deadpool(p) => {
                let mut o = count(Op::Acquire, p.get()).await.expect("object");
                *o += 1;
                if hold {
                    yield_now().await;
                }
            }
            AnyPool::Bb8(p) => {
                let mut o = count(Op::Acquire, p.get()).await.expect("object");
                *o += 1;
                if hold {
                    yield_now().await;
                }
            }
        }
    }
}

/// The pools under test. `anysync` and `bb8` bound a wait by default (30
/// s); `deadpool` does not, so `deadpool_wait_timeout` is deadpool given
/// the same 30 s, and `anysync_no_timeout` is anysync without one.
const POOLS: [&str; 5] = [
    "anysync",
    "anysync_no_timeout",
    "deadpool",
    "deadpool_wait_timeout",
    "bb8",
];

fn pool(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .expect("tokio runtime");
    let mut g = group(c, "pool/uncontended/tokio_ct", 1);
    for id in POOLS {
        let p = rt.block_on(AnyPool::new(id, 8));
        g.bench_function(id, |b| {
            b.iter_custom(|iters| {
                // One task: nothing waits, so nothing is counted.
                let _paused = wait::paused();
                rt.block_on(async {
                    let start = std::time::Instant::now();
                    for _ in 0..iters {
                        p.use_once(false).await;
                    }
                    start.elapsed()
                })
            })
        });
    }
    g.finish();

    let ops: u64 = if quick() { 2_000 } else { 10_000 };
    let tasks = 64;
    // The pools' wait timeouts need tokio's timer, so this runtime enables
    // it (the suite's shared `Rt` does not).
    let mt = Rt::Tokio(
        RtKind::TokioMt2,
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_time()
            .build()
            .expect("tokio runtime"),
    );
    let Rt::Tokio(_, handle) = &mt else {
        unreachable!("a tokio runtime")
    };
    let mut g = group(c, "pool/o8/tokio_mt2/t64", ops);
    for id in POOLS {
        let p = handle.block_on(AnyPool::new(id, 8));
        let p = Arc::new(p);
        g.bench_function(id, |b| {
            b.iter(|| {
                mt.run_tasks(tasks, |i| {
                    let p = p.clone();
                    async move {
                        for _ in 0..share(ops, tasks, i) {
                            p.use_once(true).await;
                        }
                    }
                })
            })
        });
    }
    g.finish();
}

criterion_group! {
    name = benches;
    config = criterion();
    targets = retry, pool
}
criterion_main!(benches);

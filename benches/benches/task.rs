//! Task lifecycle: anysync's `CancelToken`, `TaskGroup` and `TaskTracker`
//! against tokio-util's `CancellationToken` and `TaskTracker`, tokio's
//! `JoinSet` and a `FuturesUnordered` of tokio join handles.
//!
//! * `cancel_token/create_child_cancel`: make a root, a child, cancel the
//!   root (one thread, no waiters).
//! * `cancel_token/wake_<n>`: `n` waiters registered (hand-polled once
//!   each), then one cancel, then each waiter polled to completion; times
//!   are per token (so per `n` waiters).
//! * `spawn_join_10000/<peer>`: spawn 10,000 trivial tasks and wait for
//!   all of them, on tokio's multi-thread runtime (2 workers).
//! * `tracker_10000/<peer>`: spawn 10,000 trivial tracked tasks, close,
//!   wait, on the same runtime.
//!
//! `cargo bench -p anysync-benches --bench task`
#![forbid(unsafe_code)]
#![allow(clippy::std_instead_of_core, clippy::std_instead_of_alloc)]
// `criterion_group!` defines an undocumented public fn.
#![allow(missing_docs)]

use std::{future::Future, hint::black_box, time::Instant};

use anysync_benches::{criterion, group, quick, register_fire_complete};
use criterion::{criterion_group, criterion_main, Criterion};
use futures_util::{stream::FuturesUnordered, StreamExt};

fn cancel_token(c: &mut Criterion) {
    let mut g = group(c, "cancel_token/create_child_cancel", 1);
    g.bench_function("anysync", |b| {
        b.iter(|| {
            let root = anysync::task::CancelToken::new();
            let child = root.child();
            root.cancel();
            black_box(child.is_cancelled())
        })
    });
    g.bench_function("tokio_util", |b| {
        b.iter(|| {
            let root = tokio_util::sync::CancellationToken::new();
            let child = root.child_token();
            root.cancel();
            black_box(child.is_cancelled())
        })
    });
    g.finish();

    for n in [1usize, 1000] {
        let mut g = group(c, &format!("cancel_token/wake_{n}"), 1);
        g.bench_function("anysync", |b| {
            b.iter(|| {
                let token = anysync::task::CancelToken::new();
                let mut waiters: Vec<_> = (0..n).map(|_| Box::pin(token.cancelled())).collect();
                register_fire_complete(&mut waiters, || {
                    token.cancel();
                });
            })
        });
        g.bench_function("tokio_util", |b| {
            b.iter(|| {
                let token = tokio_util::sync::CancellationToken::new();
                let mut waiters: Vec<_> = (0..n).map(|_| Box::pin(token.cancelled())).collect();
                register_fire_complete(&mut waiters, || token.cancel());
            })
        });
        g.finish();
    }
}

fn tokio_mt2() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_time()
        .build()
        .expect("tokio runtime")
}

/// Runs `f` `iters` times on `rt` and returns the total time.
fn timed<F, Fut>(rt: &tokio::runtime::Runtime, iters: u64, f: F) -> std::time::Duration
where
    F: Fn() -> Fut,
    Fut: Future<Output = ()>,
{
    rt.block_on(async {
        let start = Instant::now();
        for _ in 0..iters {
            f().await;
        }
        start.elapsed()
    })
}

fn spawn_join(c: &mut Criterion) {
    let n: usize = if quick() { 1_000 } else { 10_000 };
    let rt = tokio_mt2();
    let mut g = group(c, &format!("spawn_join_{n}"), n as u64);
    g.sample_size(10);
    g.bench_function("anysync_task_group", |b| {
        b.iter_custom(|iters| {
            timed(&rt, iters, || async {
                let group =
                    anysync::task::TaskGroup::<_, usize, ()>::new(anysync_tokio::Tokio::current());
                for i in 0..n {
                    group.spawn(async move { Ok(i) }).unwrap();
                }
                black_box(group.join().await.unwrap());
            })
        })
    });
    g.bench_function("tokio_join_set", |b| {
        b.iter_custom(|iters| {
            timed(&rt, iters, || async {
                let mut set = tokio::task::JoinSet::new();
                for i in 0..n {
                    set.spawn(async move { i });
                }
                let mut out = Vec::with_capacity(n);
                while let Some(r) = set.join_next().await {
                    out.push(r.unwrap());
                }
                black_box(out);
            })
        })
    });
    g.bench_function("futures_unordered_of_handles", |b| {
        b.iter_custom(|iters| {
            timed(&rt, iters, || async {
                let mut set: FuturesUnordered<_> =
                    (0..n).map(|i| tokio::spawn(async move { i })).collect();
                let mut out = Vec::with_capacity(n);
                while let Some(r) = set.next().await {
                    out.push(r.unwrap());
                }
                black_box(out);
            })
        })
    });
    g.finish();

    let mut g = group(c, &format!("tracker_{n}"), n as u64);
    g.sample_size(10);
    g.bench_function("anysync", |b| {
        b.iter_custom(|iters| {
            timed(&rt, iters, || async {
                let rt = anysync_tokio::Tokio::current();
                let tracker = anysync::task::TaskTracker::new();
                for i in 0..n {
                    drop(tracker.spawn(&rt, async move { black_box(i) }));
                }
                tracker.close();
                tracker.wait().await;
            })
        })
    });
    g.bench_function("tokio_util", |b| {
        b.iter_custom(|iters| {
            timed(&rt, iters, || async {
                let tracker = tokio_util::task::TaskTracker::new();
                for i in 0..n {
                    drop(tracker.spawn(async move { black_box(i) }));
                }
                tracker.close();
                tracker.wait().await;
            })
        })
    });
    g.finish();
}

fn bench(c: &mut Criterion) {
    cancel_token(c);
    spawn_join(c);
}

criterion_group! {
    name = benches;
    config = criterion();
    targets = bench
}
criterion_main!(benches);

//! `channel::bounded` and `queue::Queue` against async-channel, flume,
//! kanal and tokio's mpsc: SPSC and 4 producers x 4 consumers, capacities
//! 64 and 1024, on tokio's multi-thread runtime. Each iteration moves
//! `N` `u64`s from the producers to the consumers; throughput is per
//! message.
//!
//! `cargo bench -p anysync-benches --bench channel`
#![forbid(unsafe_code)]
// `criterion_group!` defines an undocumented public fn.
#![allow(missing_docs)]

use std::sync::Arc;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use tokio::runtime::Runtime;

/// Messages per iteration.
const N: u64 = 20_000;

fn runtime() -> Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime")
}

/// Spawns `consumers` receivers and `producers` senders, moves `N`
/// messages, and waits for all of them; panics if a message is lost.
macro_rules! transfer {
    (
        $rt:expr, $producers:expr, $consumers:expr,
        make: $make:expr,
        send: |$tx:ident, $v:ident| $send:expr,
        recv: |$rx:ident| $recv:expr $(,)?
    ) => {{
        let (tx, rx) = $make;
        let received: u64 = $rt.block_on(async move {
            let per = N / $producers as u64;
            let consumers: Vec<_> = (0..$consumers)
                .map(|_| {
                    let $rx = rx.clone();
                    tokio::spawn(async move {
                        let mut n = 0u64;
                        while $recv.is_some() {
                            n += 1;
                        }
                        n
                    })
                })
                .collect();
            drop(rx);
            let producers: Vec<_> = (0..$producers)
                .map(|_| {
                    let $tx = tx.clone();
                    tokio::spawn(async move {
                        for $v in 0..per {
                            $send;
                        }
                    })
                })
                .collect();
            drop(tx);
            for p in producers {
                p.await.unwrap();
            }
            let mut total = 0;
            for c in consumers {
                total += c.await.unwrap();
            }
            total
        });
        assert_eq!(received, N);
    }};
}

fn anysync_channel(rt: &Runtime, p: usize, c: usize, cap: usize) {
    transfer!(rt, p, c,
        make: anysync::channel::bounded::<u64>(cap),
        send: |tx, v| tx.send(v).await.unwrap(),
        recv: |rx| rx.recv().await.ok(),
    );
}

fn anysync_queue(rt: &Runtime, p: usize, c: usize, cap: usize) {
    let q = Arc::new(anysync::queue::Queue::<u64>::bounded(cap));
    let received: u64 = rt.block_on(async move {
        let per = N / p as u64;
        let consumers: Vec<_> = (0..c)
            .map(|_| {
                let q = q.clone();
                tokio::spawn(async move {
                    let mut n = 0u64;
                    while q.get().await.is_ok() {
                        n += 1;
                    }
                    n
                })
            })
            .collect();
        let producers: Vec<_> = (0..p)
            .map(|_| {
                let q = q.clone();
                tokio::spawn(async move {
                    for v in 0..per {
                        q.put(v).await.unwrap();
                    }
                })
            })
            .collect();
        for t in producers {
            t.await.unwrap();
        }
        q.shutdown(); // consumers drain, then stop
        let mut total = 0;
        for t in consumers {
            total += t.await.unwrap();
        }
        total
    });
    assert_eq!(received, N);
}

fn async_channel(rt: &Runtime, p: usize, c: usize, cap: usize) {
    transfer!(rt, p, c,
        make: async_channel::bounded::<u64>(cap),
        send: |tx, v| tx.send(v).await.unwrap(),
        recv: |rx| rx.recv().await.ok(),
    );
}

fn flume(rt: &Runtime, p: usize, c: usize, cap: usize) {
    transfer!(rt, p, c,
        make: flume::bounded::<u64>(cap),
        send: |tx, v| tx.send_async(v).await.unwrap(),
        recv: |rx| rx.recv_async().await.ok(),
    );
}

fn kanal(rt: &Runtime, p: usize, c: usize, cap: usize) {
    transfer!(rt, p, c,
        make: kanal::bounded_async::<u64>(cap),
        send: |tx, v| tx.send(v).await.unwrap(),
        recv: |rx| rx.recv().await.ok(),
    );
}

/// tokio's mpsc has one receiver, so it runs in the SPSC group only.
fn tokio_mpsc(rt: &Runtime, p: usize, cap: usize) {
    let (tx, mut rx) = tokio::sync::mpsc::channel::<u64>(cap);
    let received = rt.block_on(async move {
        let per = N / p as u64;
        let consumer = tokio::spawn(async move {
            let mut n = 0u64;
            while rx.recv().await.is_some() {
                n += 1;
            }
            n
        });
        let producers: Vec<_> = (0..p)
            .map(|_| {
                let tx = tx.clone();
                tokio::spawn(async move {
                    for v in 0..per {
                        tx.send(v).await.unwrap();
                    }
                })
            })
            .collect();
        drop(tx);
        for t in producers {
            t.await.unwrap();
        }
        consumer.await.unwrap()
    });
    assert_eq!(received, N);
}

fn bench(c: &mut Criterion) {
    let rt = runtime();
    for (shape, p, n) in [("spsc", 1, 1), ("mpmc_4x4", 4, 4)] {
        for cap in [64, 1024] {
            let mut g = c.benchmark_group(format!("channel/{shape}/cap{cap}"));
            g.throughput(Throughput::Elements(N));
            g.sample_size(20);
            g.bench_function(BenchmarkId::from_parameter("anysync"), |b| {
                b.iter(|| anysync_channel(&rt, p, n, cap))
            });
            g.bench_function(BenchmarkId::from_parameter("anysync_queue"), |b| {
                b.iter(|| anysync_queue(&rt, p, n, cap))
            });
            g.bench_function(BenchmarkId::from_parameter("async_channel"), |b| {
                b.iter(|| async_channel(&rt, p, n, cap))
            });
            g.bench_function(BenchmarkId::from_parameter("flume"), |b| {
                b.iter(|| flume(&rt, p, n, cap))
            });
            g.bench_function(BenchmarkId::from_parameter("kanal"), |b| {
                b.iter(|| kanal(&rt, p, n, cap))
            });
            if n == 1 {
                g.bench_function(BenchmarkId::from_parameter("tokio_mpsc"), |b| {
                    b.iter(|| tokio_mpsc(&rt, p, cap))
                });
            }
            g.finish();
        }
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);

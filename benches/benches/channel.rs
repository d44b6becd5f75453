//! Bounded channels: anysync's `channel::bounded` and `queue::Queue`
//! against async-channel, flume, kanal and tokio's mpsc (first written by
//! h4a; folded into the suite's conventions).
//!
//! * `channel/spsc/cap<c>/<rt>`: one producer, one consumer.
//! * `channel/mpmc_4x4/cap<c>/<rt>`: 4 producers, 4 consumers (tokio's mpsc
//!   has one receiver, so it is absent; flume is absent too, see
//!   `benches/README.md`).
//!
//! Capacities 64 and 1024, on tokio multi-thread (2 workers) and smol (2
//! threads). One iteration moves 10^6 `u64`s (10^5 with
//! `ANYSYNC_BENCH_QUICK=1`); times are per message. Consumers stop on one
//! sentinel each, sent after every producer has finished, so no channel
//! needs a close operation; every message is counted. The report shows the
//! fraction of receives and of sends that had to wait.
//!
//! * `channel/send_recv_one_task/cap64`: send one message, then receive it,
//!   in one task under `futures_executor::block_on` (nothing waits): the
//!   cost of the buffered path itself.
//! * `channel/reserve_send_recv_one_task/cap64`: the same with each send
//!   made through a reserved slot (`reserve`, then the permit's `send`),
//!   for the crates that have reservations (anysync, tokio's mpsc).
//!
//! `cargo bench -p anysync-benches --bench channel`
#![forbid(unsafe_code)]
// A std-only package: the core-first import lints of the workspace do not
// apply, and trait methods spell out `impl Future + Send` so tasks can spawn.
#![allow(
    clippy::std_instead_of_core,
    clippy::std_instead_of_alloc,
    clippy::manual_async_fn
)]
// `criterion_group!` defines an undocumented public fn.
#![allow(missing_docs)]

use std::{
    sync::{
        atomic::{AtomicU64, AtomicUsize, Ordering},
        Arc, Mutex,
    },
    time::Instant,
};

use anysync_benches::{
    criterion, for_each_channel, group,
    peers::BenchChannel,
    quick, share,
    wait::{count, Op},
    Group, Rt, RtKind,
};
use criterion::{criterion_group, criterion_main, Criterion};

const SENTINEL: u64 = u64::MAX;

/// Moves `n` messages from `producers` to `consumers` tasks; panics if the
/// count received differs.
fn transfer<C: BenchChannel>(rt: &Rt, producers: usize, consumers: usize, cap: usize, n: u64) {
    let (tx, rx) = C::bounded(cap);
    let rx = Mutex::new(Some(rx));
    let tx = Arc::new(tx);
    let received = Arc::new(AtomicU64::new(0));
    let running = Arc::new(AtomicUsize::new(producers));
    rt.run_tasks(consumers + producers, |i| {
        let received = received.clone();
        let running = running.clone();
        let tx = C::clone_tx(&tx);
        let rx = if i < consumers {
            let mut slot = rx.lock().unwrap();
            if i + 1 == consumers {
                slot.take()
            } else {
                slot.as_ref().map(C::clone_rx)
            }
        } else {
            None
        };
        async move {
            if let Some(mut rx) = rx {
                let mut got = 0;
                while count(Op::Acquire, C::recv(&mut rx)).await != SENTINEL {
                    got += 1;
                }
                received.fetch_add(got, Ordering::Relaxed);
            } else {
                for v in 0..share(n, producers, i - consumers) {
                    count(Op::Send, C::send(&tx, v)).await;
                }
                if running.fetch_sub(1, Ordering::AcqRel) == 1 {
                    for _ in 0..consumers {
                        C::send(&tx, SENTINEL).await;
                    }
                }
            }
        }
    });
    assert_eq!(
        received.load(Ordering::Relaxed),
        n,
        "{}: messages lost",
        C::ID
    );
}

fn channel_one<C: BenchChannel>(
    g: &mut Group<'_>,
    rt: &Rt,
    p: usize,
    c: usize,
    cap: usize,
    n: u64,
) {
    if c > 1 && !C::MPMC {
        return;
    }
    g.bench_function(C::ID, |b| b.iter(|| transfer::<C>(rt, p, c, cap, n)));
}

/// Sends and receives `cap`-buffered messages in one task; with
/// `reserve`, each message goes through a reserved slot (crates without
/// reservations are skipped). The flag is fixed for a whole bench, so the
/// branch costs every crate the same.
fn one_task_one<C: BenchChannel>(g: &mut Group<'_>, cap: usize, reserve: bool) {
    if reserve && !C::RESERVES {
        return;
    }
    let (tx, mut rx) = C::bounded(cap);
    g.bench_function(C::ID, |b| {
        b.iter_custom(|iters| {
            futures_executor::block_on(async {
                let start = Instant::now();
                for v in 0..iters {
                    if reserve {
                        C::reserve_send(&tx, v).await;
                    } else {
                        C::send(&tx, v).await;
                    }
                    std::hint::black_box(C::recv(&mut rx).await);
                }
                start.elapsed()
            })
        })
    });
}

fn bench(c: &mut Criterion) {
    let mut g = group(c, "channel/send_recv_one_task/cap64", 1);
    for_each_channel!(one_task_one(&mut g, 64, false));
    g.finish();

    let mut g = group(c, "channel/reserve_send_recv_one_task/cap64", 1);
    for_each_channel!(one_task_one(&mut g, 64, true));
    g.finish();

    let n: u64 = if quick() { 100_000 } else { 1_000_000 };
    for kind in [RtKind::TokioMt2, RtKind::Smol] {
        let rt = Rt::new(kind);
        for (shape, p, cons) in [("spsc", 1, 1), ("mpmc_4x4", 4, 4)] {
            for cap in [64, 1024] {
                let mut g = group(c, &format!("channel/{shape}/cap{cap}/{}", kind.name()), n);
                g.sample_size(10);
                for_each_channel!(channel_one(&mut g, &rt, p, cons, cap, n));
                g.finish();
            }
        }
    }
}

criterion_group! {
    name = benches;
    config = criterion();
    targets = bench
}
criterion_main!(benches);

//! Notify / event: anysync's `Notify` (and its `Event` as a manual-reset
//! event) against tokio's `Notify`, maitake-sync's `WaitQueue`,
//! event-listener and futures-intrusive's `ManualResetEvent`.
//!
//! * `notify/ping_pong/<rt>`: two tasks hand a wake-up back and forth
//!   through two notifiers; one operation is one round trip (two
//!   notifications, two waits). On tokio current-thread, tokio
//!   multi-thread (2 workers) and smol (2 threads). The report shows the
//!   fraction of waits that found no wake-up stored and had to wait.
//! * `notify/uncontended`: notify then wait (the stored wake-up is
//!   consumed at once), one task under `futures_executor::block_on`.
//!
//! `cargo bench -p anysync-benches --bench notify`
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

use std::sync::Arc;

use anysync_benches::{
    criterion, for_each_notify, group,
    peers::BenchNotify,
    quick, uncontended,
    wait::{count, Op},
    Group, Rt, RtKind,
};
use criterion::{criterion_group, criterion_main, Criterion};

fn uncontended_one<N: BenchNotify>(g: &mut Group<'_>) {
    let n = N::create();
    g.bench_function(N::ID, |b| {
        b.iter_custom(|iters| {
            uncontended(iters, || {
                n.notify();
                n.wait()
            })
        })
    });
}

fn ping_pong_one<N: BenchNotify>(g: &mut Group<'_>, rt: &Rt, rounds: u64) {
    let pair = Arc::new((N::create(), N::create()));
    g.bench_function(N::ID, |b| {
        b.iter(|| {
            rt.run_tasks(2, |i| {
                let pair = pair.clone();
                async move {
                    let (ping, pong) = (&pair.0, &pair.1);
                    for _ in 0..rounds {
                        if i == 0 {
                            ping.notify();
                            count(Op::Acquire, pong.wait()).await;
                        } else {
                            count(Op::Acquire, ping.wait()).await;
                            pong.notify();
                        }
                    }
                }
            })
        })
    });
}

fn bench(c: &mut Criterion) {
    let rounds: u64 = if quick() { 2_000 } else { 10_000 };

    let mut g = group(c, "notify/uncontended", 1);
    for_each_notify!(uncontended_one(&mut g));
    g.finish();

    for kind in [RtKind::TokioCt, RtKind::TokioMt2, RtKind::Smol] {
        let rt = Rt::new(kind);
        let mut g = group(c, &format!("notify/ping_pong/{}", kind.name()), rounds);
        for_each_notify!(ping_pong_one(&mut g, &rt, rounds));
        g.finish();
    }
}

criterion_group! {
    name = benches;
    config = criterion();
    targets = bench
}
criterion_main!(benches);

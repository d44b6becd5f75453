//! Semaphore: anysync against tokio, maitake-sync, futures-intrusive (fair
//! and unfair) and async-lock.
//!
//! * `semaphore/uncontended`: acquire one permit and release it, one task
//!   under `futures_executor::block_on`.
//! * `semaphore/weighted_p4/<rt>/t64`: 4 permits, 64 tasks taking 1 or 2
//!   permits (alternating by task), on tokio multi-thread (2 workers) and
//!   smol (2 threads). async-lock has no weighted acquire, so it is absent.
//! * `semaphore/weighted_p4_hold/<rt>/t64`: the same, each task holding its
//!   permits across one yield, so acquisitions queue.
//!
//! Times are per acquisition.
//! `cargo bench -p anysync-benches --bench semaphore`
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
    criterion, for_each_semaphore, group, peers::BenchSemaphore, quick, share, uncontended, Group,
    Rt, RtKind,
};
use criterion::{criterion_group, criterion_main, Criterion};

fn uncontended_one<S: BenchSemaphore>(g: &mut Group<'_>) {
    let s = S::create(1);
    g.bench_function(S::ID, |b| {
        b.iter_custom(|iters| uncontended(iters, || s.critical(1, false)))
    });
}

fn weighted_one<S: BenchSemaphore>(g: &mut Group<'_>, rt: &Rt, tasks: usize, ops: u64, hold: bool) {
    if !S::WEIGHTED {
        return;
    }
    let s = Arc::new(S::create(4));
    g.bench_function(S::ID, |b| {
        b.iter(|| {
            rt.run_tasks(tasks, |i| {
                let s = s.clone();
                async move {
                    for _ in 0..share(ops, tasks, i) {
                        s.critical(1 + i % 2, hold).await;
                    }
                }
            })
        })
    });
}

fn bench(c: &mut Criterion) {
    let ops: u64 = if quick() { 6_400 } else { 12_800 };

    let mut g = group(c, "semaphore/uncontended", 1);
    for_each_semaphore!(uncontended_one(&mut g));
    g.finish();

    for kind in [RtKind::TokioMt2, RtKind::Smol] {
        let rt = Rt::new(kind);
        for (name, hold, ops) in [
            ("weighted_p4", false, ops),
            ("weighted_p4_hold", true, ops / 4),
        ] {
            let mut g = group(c, &format!("semaphore/{name}/{}/t64", kind.name()), ops);
            for_each_semaphore!(weighted_one(&mut g, &rt, 64, ops, hold));
            g.finish();
        }
    }
}

criterion_group! {
    name = benches;
    config = criterion();
    targets = bench
}
criterion_main!(benches);

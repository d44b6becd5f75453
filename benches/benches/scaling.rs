//! Scaling: each primitive with 1, 10, 100, 1,000 and 10,000 waiting tasks,
//! anysync and tokio (the peer with each of these primitives).
//!
//! * `scaling/<primitive>/n<n>`: `n` tasks wait (each is checked to be
//!   pending), then a chain of `n` hand-offs lets them through; the time
//!   per hand-off should stay flat as `n` grows. Driven on one thread by
//!   the ready-queue driver of `anysync_benches::handoff`, the same for
//!   every crate; building and registering the waiters is not timed.
//!
//! The report turns these into curves (`benches/plots/scaling_*.svg`) and
//! measures the memory per waiter on the same workload.
//!
//! `cargo bench -p anysync-benches --bench scaling`
#![forbid(unsafe_code)]
#![allow(clippy::std_instead_of_core, clippy::std_instead_of_alloc)]
// `criterion_group!` defines an undocumented public fn.
#![allow(missing_docs)]

use std::time::Duration;

use anysync_benches::{criterion, group, handoff, quick};
use criterion::{criterion_group, criterion_main, Criterion};

fn bench(c: &mut Criterion) {
    // Building 10,000 waiters is not timed but takes longer than their
    // hand-offs, so these groups get short, fixed budgets.
    let (warm, measure) = if quick() { (100, 300) } else { (200, 800) };
    for primitive in handoff::primitives() {
        for n in handoff::SIZES {
            let name = format!("scaling/{}/n{n}", primitive.replace(' ', "_"));
            let mut g = group(c, &name, n as u64);
            g.sample_size(10)
                .warm_up_time(Duration::from_millis(warm))
                .measurement_time(Duration::from_millis(measure));
            for case in handoff::CASES.iter().filter(|c| c.primitive == primitive) {
                g.bench_function(case.id, |b| {
                    b.iter_custom(|iters| handoff::time(iters, || (case.make)(n)))
                });
            }
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

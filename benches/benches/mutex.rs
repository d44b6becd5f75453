//! Mutex: anysync against tokio, maitake-sync, futures-intrusive (fair and
//! unfair), async-lock and futures-util, in the same run.
//!
//! * `mutex/uncontended`: lock, increment, unlock in one task under
//!   `futures_executor::block_on`.
//! * `mutex/contended/<rt>/t<n>`: `n` tasks share the lock, each locking,
//!   incrementing and unlocking in a loop, on tokio multi-thread (2
//!   workers) and smol (2 threads).
//! * `mutex/hold_across_yield/<rt>/t<n>`: 8 tasks (and 64 on the two-thread
//!   executors), each holding the guard across one yield, so nearly every
//!   acquisition waits: the wait-queue and wake path.
//!
//! Times are per acquisition; the report shows, per crate, the fraction of
//! acquisitions that had to wait (counted, see `anysync_benches::wait`). `cargo bench -p anysync-benches --bench mutex`
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
    criterion, for_each_mutex, group, peers::BenchMutex, quick, share, uncontended, Group, Rt,
    RtKind,
};
use criterion::{criterion_group, criterion_main, Criterion};

fn uncontended_one<M: BenchMutex>(g: &mut Group<'_>) {
    let m = M::create();
    g.bench_function(M::ID, |b| {
        b.iter_custom(|iters| uncontended(iters, || m.critical(false)))
    });
}

fn tasks_one<M: BenchMutex>(g: &mut Group<'_>, rt: &Rt, tasks: usize, ops: u64, hold: bool) {
    let m = Arc::new(M::create());
    g.bench_function(M::ID, |b| {
        b.iter(|| {
            rt.run_tasks(tasks, |i| {
                let m = m.clone();
                async move {
                    for _ in 0..share(ops, tasks, i) {
                        m.critical(hold).await;
                    }
                }
            })
        })
    });
}

fn bench(c: &mut Criterion) {
    let ops: u64 = if quick() { 6_400 } else { 12_800 };

    let mut g = group(c, "mutex/uncontended", 1);
    for_each_mutex!(uncontended_one(&mut g));
    g.finish();

    for kind in [RtKind::TokioMt2, RtKind::Smol] {
        let rt = Rt::new(kind);
        for tasks in [8, 64] {
            let mut g = group(c, &format!("mutex/contended/{}/t{tasks}", kind.name()), ops);
            for_each_mutex!(tasks_one(&mut g, &rt, tasks, ops, false));
            g.finish();
        }
    }

    for kind in [RtKind::TokioCt, RtKind::TokioMt2, RtKind::Smol] {
        let rt = Rt::new(kind);
        let ops = ops / 4;
        // 64 tasks only on the two-thread executors: on one thread the
        // queue behaves as with 8.
        let sizes: &[usize] = if kind == RtKind::TokioCt {
            &[8]
        } else {
            &[8, 64]
        };
        for &tasks in sizes {
            let name = format!("mutex/hold_across_yield/{}/t{tasks}", kind.name());
            let mut g = group(c, &name, ops);
            for_each_mutex!(tasks_one(&mut g, &rt, tasks, ops, true));
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

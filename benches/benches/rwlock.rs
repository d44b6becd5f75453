//! RwLock: anysync against tokio, maitake-sync and async-lock.
//!
//! * `rwlock/uncontended_read`, `rwlock/uncontended_write`: one task under
//!   `futures_executor::block_on`.
//! * `rwlock/read90/<rt>/t16`: 16 tasks, 90% reads and 10% writes, each
//!   guard held across one yield (so readers overlap and writers wait for
//!   them), on tokio multi-thread (2 workers) and smol (2 threads).
//! * `rwlock/read90_nohold/<rt>/t16`: the same with no guard held across
//!   an await (read, or increment, and unlock): the read-heavy workload of
//!   a cache or a configuration; readers wait only behind a writer.
//!
//! Times are per acquisition; the report shows the fraction that waited. `cargo bench -p anysync-benches --bench rwlock`
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
    criterion, for_each_rwlock, group, peers::BenchRwLock, quick, share, uncontended, Group, Rt,
    RtKind,
};
use criterion::{criterion_group, criterion_main, Criterion};

fn read_one<L: BenchRwLock>(g: &mut Group<'_>) {
    let l = L::create();
    g.bench_function(L::ID, |b| {
        b.iter_custom(|iters| {
            uncontended(iters, || async {
                std::hint::black_box(l.read(false).await);
            })
        })
    });
}

fn write_one<L: BenchRwLock>(g: &mut Group<'_>) {
    let l = L::create();
    g.bench_function(L::ID, |b| {
        b.iter_custom(|iters| uncontended(iters, || l.write(false)))
    });
}

fn read90_one<L: BenchRwLock>(g: &mut Group<'_>, rt: &Rt, tasks: usize, ops: u64, hold: bool) {
    let l = Arc::new(L::create());
    g.bench_function(L::ID, |b| {
        b.iter(|| {
            rt.run_tasks(tasks, |i| {
                let l = l.clone();
                async move {
                    for j in 0..share(ops, tasks, i) {
                        if (j + i as u64).is_multiple_of(10) {
                            l.write(hold).await;
                        } else {
                            std::hint::black_box(l.read(hold).await);
                        }
                    }
                }
            })
        })
    });
}

fn bench(c: &mut Criterion) {
    let ops: u64 = if quick() { 3_200 } else { 6_400 };

    let mut g = group(c, "rwlock/uncontended_read", 1);
    for_each_rwlock!(read_one(&mut g));
    g.finish();
    let mut g = group(c, "rwlock/uncontended_write", 1);
    for_each_rwlock!(write_one(&mut g));
    g.finish();

    for kind in [RtKind::TokioMt2, RtKind::Smol] {
        let rt = Rt::new(kind);
        for (name, hold) in [("read90", true), ("read90_nohold", false)] {
            let mut g = group(c, &format!("rwlock/{name}/{}/t16", kind.name()), ops);
            for_each_rwlock!(read90_one(&mut g, &rt, 16, ops, hold));
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

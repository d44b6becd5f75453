//! Oneshot channels: anysync against tokio, futures-channel and
//! futures-intrusive.
//!
//! * `oneshot/ready`: create a channel, send, receive (the value is already
//!   there), one task under `futures_executor::block_on`.
//! * `oneshot/recv_waits`: create a channel, start receiving (it must
//!   wait), send from a second future after a yield, complete: the
//!   registration and wake path, on one thread under `block_on`.
//!
//! Times are per channel. `cargo bench -p anysync-benches --bench oneshot`
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

use anysync_benches::{
    criterion, for_each_oneshot, group, peers::BenchOneshot, uncontended, yield_now, Group,
};
use criterion::{criterion_group, criterion_main, Criterion};

fn ready_one<O: BenchOneshot>(g: &mut Group<'_>) {
    g.bench_function(O::ID, |b| {
        b.iter_custom(|iters| {
            uncontended(iters, || async {
                let (tx, rx) = O::pair();
                O::send(tx, 7);
                std::hint::black_box(O::recv(rx).await);
            })
        })
    });
}

fn recv_waits_one<O: BenchOneshot>(g: &mut Group<'_>) {
    g.bench_function(O::ID, |b| {
        b.iter_custom(|iters| {
            uncontended(iters, || async {
                let (tx, rx) = O::pair();
                let send = async move {
                    yield_now().await;
                    O::send(tx, 7);
                };
                let (v, ()) = futures_util::future::join(O::recv(rx), send).await;
                std::hint::black_box(v);
            })
        })
    });
}

fn bench(c: &mut Criterion) {
    let mut g = group(c, "oneshot/ready", 1);
    for_each_oneshot!(ready_one(&mut g));
    g.finish();
    let mut g = group(c, "oneshot/recv_waits", 1);
    for_each_oneshot!(recv_waits_one(&mut g));
    g.finish();
}

criterion_group! {
    name = benches;
    config = criterion();
    targets = bench
}
criterion_main!(benches);

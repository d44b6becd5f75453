//! The shared harness of anysync's benches: runtimes, the criterion
//! configuration, and one small trait per primitive family implemented for
//! anysync and for every peer, so that each workload is written once and
//! run on every crate in the same process.
//!
//! # Conventions
//!
//! * A benchmark is `<family>/<workload>[/<runtime>][/<size>]`, one criterion
//!   group, with one function per crate named by its id (`ID` in
//!   [`peers`]).
//! * Every group sets `Throughput::Elements(ops)`: the number of operations
//!   (acquisitions, round trips, messages) one iteration performs. The
//!   report divides criterion's median by it, so every number in
//!   `RESULTS.md` is **time per operation**.
//! * `ANYSYNC_BENCH_QUICK=1` shortens warm-up, measurement and sample count
//!   (and the message count of the channel benches) so the whole suite runs
//!   in a few minutes; the default is the full run.
//! * `ANYSYNC_BENCH_PASSES=n` tells each run that it is one of `n` passes
//!   (see [`passes`]): a full run then measures each function for a share
//!   of the time. `benches/run.sh` runs the passes and keeps each one's
//!   criterion output apart for the report.
//! * Contended workloads run on tokio's multi-thread runtime with 2 workers
//!   (`tokio_mt2`) and on a smol `Executor` driven by 2 threads (`smol`), so
//!   no result depends on one runtime; ping-pong and hold-across-yield also
//!   run on tokio's current-thread runtime (`tokio_ct`).
#![forbid(unsafe_code)]
// A std-only package: the core-first import lints of the workspace do not
// apply, and trait methods spell out `impl Future + Send` so tasks can spawn.
#![allow(
    clippy::std_instead_of_core,
    clippy::std_instead_of_alloc,
    clippy::manual_async_fn
)]

pub mod handoff;
pub mod peers;
pub mod plot;
pub mod results;
pub mod wait;

use std::{
    future::Future,
    ops::{Deref, DerefMut},
    pin::Pin,
    sync::Arc,
    task::{Context, Poll},
    thread,
    time::Duration,
};

use criterion::{measurement::WallTime, Bencher, BenchmarkGroup, Criterion, Throughput};

/// `true` when `ANYSYNC_BENCH_QUICK` is set (to anything but `0`).
pub fn quick() -> bool {
    std::env::var("ANYSYNC_BENCH_QUICK").is_ok_and(|v| v != "0")
}

/// Criterion configured for this suite (quick or full).
pub fn criterion() -> Criterion {
    // `criterion_group!` applies the command line on top of this.
    let c = Criterion::default();
    if quick() {
        c.sample_size(10)
            .warm_up_time(Duration::from_millis(300))
            .measurement_time(Duration::from_millis(1200))
    } else {
        // About 300 functions. One pass at 0.4 s + 2 s each took 13
        // minutes on 2 cores. A pass is a draw of the machine's state (see
        // `passes`), so the time goes into more, shorter passes: with
        // three, each function measured 0.67 s after 0.3 s of warm-up (21
        // minutes, as criterion lengthens a function whose iterations are
        // slow); with six (`benches/run.sh`), 10 samples in 0.33 s after
        // 0.2 s, the same number of samples per row over the run.
        let passes = passes();
        if passes > 3 {
            c.sample_size(10)
                .warm_up_time(Duration::from_millis(200))
                .measurement_time(Duration::from_millis((2000 / passes).max(300)))
        } else {
            let warm_up = if passes > 1 { 300 } else { 400 };
            c.sample_size(20)
                .warm_up_time(Duration::from_millis(warm_up))
                .measurement_time(Duration::from_millis((2000 / passes).max(600)))
        }
    }
}

/// How many passes of the whole suite this run is one of
/// (`ANYSYNC_BENCH_PASSES`; 1 when unset, `benches/run.sh` sets 6). Each
/// criterion function lands in whatever state the machine and the
/// runtime's workers are in while it runs, and on two processors that
/// state can hold for a whole function, so the report takes the median
/// over passes.
pub fn passes() -> u64 {
    std::env::var("ANYSYNC_BENCH_PASSES")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|&n| n > 0)
        .unwrap_or(1)
}

/// Opens a group whose iterations each perform `ops` operations.
pub fn group<'a>(c: &'a mut Criterion, name: &str, ops: u64) -> Group<'a> {
    let mut g = c.benchmark_group(name);
    g.throughput(Throughput::Elements(ops));
    Group {
        inner: g,
        name: name.to_owned(),
    }
}

/// A criterion group that also records, per function, how many of the
/// operations counted by [`wait::count`] had to wait. Everything else is
/// criterion's `BenchmarkGroup` (through `Deref`).
pub struct Group<'a> {
    inner: BenchmarkGroup<'a, WallTime>,
    name: String,
}

impl std::fmt::Debug for Group<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Group")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl Group<'_> {
    /// Criterion's `bench_function`, then [`wait::record`] of what it
    /// counted.
    pub fn bench_function(&mut self, id: &str, f: impl FnMut(&mut Bencher<'_, WallTime>)) {
        wait::take(wait::Op::Acquire);
        wait::take(wait::Op::Send);
        self.inner.bench_function(id, f);
        wait::record(&self.name, id);
    }

    /// Ends the group (criterion's `finish`).
    pub fn finish(self) {
        self.inner.finish();
    }
}

impl<'a> Deref for Group<'a> {
    type Target = BenchmarkGroup<'a, WallTime>;
    fn deref(&self) -> &Self::Target {
        &self.inner
    }
}

impl DerefMut for Group<'_> {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.inner
    }
}

/// Yields once to the executor (wakes itself, returns `Pending` once):
/// anysync's own runtime-neutral `yield_now`, so every crate's workload
/// yields the same way on every executor.
pub use anysync::task::yield_now;

/// The executors a workload runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RtKind {
    /// tokio's current-thread runtime.
    TokioCt,
    /// tokio's multi-thread runtime with 2 worker threads.
    TokioMt2,
    /// A `smol::Executor` run by 2 threads.
    Smol,
}

impl RtKind {
    /// The name used in benchmark ids.
    pub fn name(self) -> &'static str {
        match self {
            RtKind::TokioCt => "tokio_ct",
            RtKind::TokioMt2 => "tokio_mt2",
            RtKind::Smol => "smol",
        }
    }
}

/// A running executor that can run a batch of tasks to completion.
#[derive(Debug)]
pub enum Rt {
    /// A tokio runtime (current-thread or multi-thread).
    Tokio(RtKind, tokio::runtime::Runtime),
    /// A smol executor and the threads that run it.
    Smol(SmolRt),
}

/// A `smol::Executor` run by 2 threads until dropped.
#[derive(Debug)]
pub struct SmolRt {
    ex: Arc<smol::Executor<'static>>,
    stop: Option<smol::channel::Sender<()>>,
    threads: Vec<thread::JoinHandle<()>>,
}

impl Drop for SmolRt {
    fn drop(&mut self) {
        drop(self.stop.take());
        for t in self.threads.drain(..) {
            t.join().expect("smol executor thread panicked");
        }
    }
}

impl Rt {
    /// Starts an executor of the given kind.
    pub fn new(kind: RtKind) -> Rt {
        match kind {
            RtKind::TokioCt => Rt::Tokio(
                kind,
                tokio::runtime::Builder::new_current_thread()
                    .build()
                    .expect("tokio runtime"),
            ),
            RtKind::TokioMt2 => Rt::Tokio(
                kind,
                tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(2)
                    .build()
                    .expect("tokio runtime"),
            ),
            RtKind::Smol => {
                let ex = Arc::new(smol::Executor::new());
                let (stop, stopped) = smol::channel::bounded::<()>(1);
                let threads = (0..2)
                    .map(|i| {
                        let ex = ex.clone();
                        let stopped = stopped.clone();
                        thread::Builder::new()
                            .name(format!("smol-{i}"))
                            .spawn(move || {
                                let _ = smol::block_on(ex.run(stopped.recv()));
                            })
                            .expect("spawn smol thread")
                    })
                    .collect();
                Rt::Smol(SmolRt {
                    ex,
                    stop: Some(stop),
                    threads,
                })
            }
        }
    }

    /// Which executor this is.
    pub fn kind(&self) -> RtKind {
        match self {
            Rt::Tokio(kind, _) => *kind,
            Rt::Smol(_) => RtKind::Smol,
        }
    }

    /// Spawns `n` tasks made by `task(i)` and waits until all have finished.
    pub fn run_tasks<F>(&self, n: usize, task: impl Fn(usize) -> F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        match self {
            Rt::Tokio(_, rt) => rt.block_on(async {
                let handles: Vec<_> = (0..n).map(|i| tokio::spawn(task(i))).collect();
                for h in handles {
                    h.await.expect("bench task panicked");
                }
            }),
            Rt::Smol(s) => smol::block_on(async {
                let handles: Vec<_> = (0..n).map(|i| s.ex.spawn(task(i))).collect();
                for h in handles {
                    h.await;
                }
            }),
        }
    }

    /// Runs `f` to completion on this executor (on the calling thread for
    /// tokio, as a spawned task for smol).
    pub fn block_on<F>(&self, f: F) -> F::Output
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        match self {
            Rt::Tokio(_, rt) => {
                rt.block_on(async move { tokio::spawn(f).await.expect("bench task panicked") })
            }
            Rt::Smol(s) => smol::block_on(s.ex.spawn(f)),
        }
    }
}

/// Splits `total` operations over `tasks` tasks: task `i`'s share.
pub fn share(total: u64, tasks: usize, i: usize) -> u64 {
    let tasks = tasks as u64;
    total / tasks + u64::from((i as u64) < total % tasks)
}

/// Runs `f` `iters` times inside one `futures_executor::block_on` and
/// returns the elapsed time: the "uncontended, one task under a simple
/// `block_on`" workload. Nothing waits here, so [`wait::count`] is paused.
pub fn uncontended<F, Fut>(iters: u64, mut f: F) -> Duration
where
    F: FnMut() -> Fut,
    Fut: Future<Output = ()>,
{
    let _paused = wait::paused();
    futures_executor::block_on(async {
        let start = std::time::Instant::now();
        for _ in 0..iters {
            f().await;
        }
        start.elapsed()
    })
}

/// Registers every future (one poll each with a no-op waker, all
/// pending), runs `fire`, then polls each to completion: the
/// `cancel_token/wake_<n>` workload, shared by the bench and `profile`.
///
/// # Panics
/// If a future completes on its first poll or is still pending after
/// `fire`.
pub fn register_fire_complete<F: Future<Output = ()>>(
    waiters: &mut [Pin<Box<F>>],
    fire: impl FnOnce(),
) {
    let mut cx = Context::from_waker(futures_util::task::noop_waker_ref());
    for w in waiters.iter_mut() {
        assert!(w.as_mut().poll(&mut cx).is_pending());
    }
    fire();
    for w in waiters.iter_mut() {
        assert_eq!(w.as_mut().poll(&mut cx), Poll::Ready(()));
    }
}

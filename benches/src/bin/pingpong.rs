//! The `notify/ping_pong` workload outside criterion, with what decides its
//! time on a multi-thread executor counted: how many waits had to park
//! their task (their first poll with the task's waker returned `Pending`)
//! and in how many round trips the two tasks ran on the same thread.
//!
//! ```text
//! cargo run -p anysync-benches --release --bin pingpong [-- ROUNDS [REPEATS]]
//! ```
//!
//! Each crate also runs with the same spin in front of every wait, in the
//! adapter, for both crates alike: before the wait is polled with the
//! task's waker, it is polled `k` times with a no-op waker, with a
//! `spin_loop` hint after each miss. A wait that completes during the spin
//! never parks its task. That shows what a primitive that spun before
//! parking would gain on two threads, and what it would cost on one
//! thread, where nothing can notify during the spin.
//!
//! Prints one Markdown table: per runtime, spin and crate, the median time
//! per round trip over `REPEATS` runs of `ROUNDS` round trips (default
//! 9 of 100,000; crates alternate which runs first, and each run has a
//! runtime of its own) with the range, and the mean parked and
//! same-thread fractions.
#![forbid(unsafe_code)]
#![allow(clippy::std_instead_of_core, clippy::std_instead_of_alloc)]

use std::{
    cell::Cell,
    future::Future,
    hint,
    pin::pin,
    sync::{
        atomic::{AtomicU64, AtomicUsize, Ordering::Relaxed},
        Arc,
    },
    task::{Context, Poll},
    time::Instant,
};

use anysync_benches::{
    peers::{AnysyncEvent, BenchNotify},
    wait::{self, count, Op},
    Rt, RtKind,
};

/// Spins tried in front of each wait.
const SPINS: [u32; 5] = [0, 1, 2, 4, 8];

static NEXT_THREAD: AtomicUsize = AtomicUsize::new(1);

thread_local!(static THREAD: Cell<usize> = const { Cell::new(0) });

/// A small number naming the current thread (never 0).
fn thread_number() -> usize {
    THREAD.with(|t| {
        if t.get() == 0 {
            t.set(NEXT_THREAD.fetch_add(1, Relaxed));
        }
        t.get()
    })
}

/// Awaits `wait` after polling it up to `spins` times with a no-op waker.
/// A wait still pending then goes through [`wait::count`], the benches'
/// own counter of waits whose first poll with the task's waker returned
/// `Pending` (per thread, off the shared cache lines).
async fn spin_then_wait<F: Future>(wait: F, spins: u32) -> F::Output {
    let mut wait = pin!(wait);
    {
        // In a block: a `Context` is not `Send`, and the task must be.
        let noop = futures_util::task::noop_waker();
        let mut noop_cx = Context::from_waker(&noop);
        for _ in 0..spins {
            if let Poll::Ready(out) = wait.as_mut().poll(&mut noop_cx) {
                return out;
            }
            hint::spin_loop();
        }
    }
    count(Op::Acquire, wait).await
}

/// Where the two tasks ran, kept away from the notifiers' cache lines.
#[repr(align(128))]
#[derive(Default)]
struct Threads {
    /// The thread each task last ran a round on.
    last: [AtomicUsize; 2],
    /// Rounds in which task 0 found task 1 last on its own thread.
    same: AtomicU64,
}

/// One run's time per round trip (ns), parked fraction (of all waits) and
/// same-thread fraction (of round trips).
fn run<N: BenchNotify + 'static>(rt: &Rt, rounds: u64, spins: u32) -> (f64, f64, f64) {
    let pair = Arc::new((N::create(), N::create()));
    let threads = Arc::new(Threads::default());
    // Counts of an earlier run, if any, go.
    wait::take(Op::Acquire);
    let start = Instant::now();
    rt.run_tasks(2, |i| {
        let (pair, threads) = (pair.clone(), threads.clone());
        async move {
            let (ping, pong) = (&pair.0, &pair.1);
            for _ in 0..rounds {
                threads.last[i].store(thread_number(), Relaxed);
                if i == 0 {
                    if threads.last[1].load(Relaxed) == thread_number() {
                        // Only this task writes it.
                        threads.same.store(threads.same.load(Relaxed) + 1, Relaxed);
                    }
                    ping.notify();
                    spin_then_wait(pong.wait(), spins).await;
                } else {
                    spin_then_wait(ping.wait(), spins).await;
                    pong.notify();
                }
            }
        }
    });
    let ns = start.elapsed().as_nanos() as f64 / rounds as f64;
    let (parked, _) = wait::take(Op::Acquire);
    let same = threads.same.load(Relaxed) as f64;
    (
        ns,
        parked as f64 / (2 * rounds) as f64,
        same / rounds as f64,
    )
}

/// The median time and the range of the times, and the mean parked and
/// same-thread fractions, of `runs`.
fn summary(mut runs: Vec<(f64, f64, f64)>) -> (f64, f64, f64, f64, f64) {
    runs.sort_by(|a, b| a.0.total_cmp(&b.0));
    let n = runs.len() as f64;
    let mean = |f: fn(&(f64, f64, f64)) -> f64| runs.iter().map(f).sum::<f64>() / n;
    (
        runs[runs.len() / 2].0,
        runs[0].0,
        runs[runs.len() - 1].0,
        mean(|r| r.1),
        mean(|r| r.2),
    )
}

fn main() {
    let mut args = std::env::args().skip(1);
    let rounds: u64 = args.next().map_or(100_000, |a| {
        a.parse().expect("ROUNDS must be a positive integer")
    });
    let repeats: usize = args.next().map_or(9, |a| {
        a.parse().expect("REPEATS must be a positive integer")
    });
    assert!(
        rounds > 0 && repeats > 0,
        "ROUNDS and REPEATS must be above 0"
    );

    println!(
        "| runtime | spin | crate | ns per round trip: median (range) | waits parked | same thread |"
    );
    println!("|---|---:|---|---|---:|---:|");
    let ids = [
        <anysync::sync::Notify as BenchNotify>::ID,
        AnysyncEvent::ID,
        <tokio::sync::Notify as BenchNotify>::ID,
    ];
    for kind in [RtKind::TokioCt, RtKind::TokioMt2, RtKind::Smol] {
        for spins in SPINS {
            let mut results: [Vec<_>; 3] = Default::default();
            for r in 0..repeats {
                // Alternate the order, so no crate always runs first.
                let order: [usize; 3] = if r % 2 == 0 { [0, 1, 2] } else { [2, 1, 0] };
                for c in order {
                    // A fresh runtime for each run: where its threads
                    // settle decides much of a run's time, and one
                    // runtime kept for every run would draw that once.
                    let rt = Rt::new(kind);
                    results[c].push(match c {
                        0 => run::<anysync::sync::Notify>(&rt, rounds, spins),
                        1 => run::<AnysyncEvent>(&rt, rounds, spins),
                        _ => run::<tokio::sync::Notify>(&rt, rounds, spins),
                    });
                }
            }
            for (id, runs) in ids.into_iter().zip(results) {
                let (median, low, high, parked, same) = summary(runs);
                println!(
                    "| {} | {spins} | {id} | {median:.0} ({low:.0}-{high:.0}) | {:.0}% | {:.0}% |",
                    kind.name(),
                    parked * 100.0,
                    same * 100.0
                );
            }
        }
    }
}

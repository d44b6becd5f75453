//! Runs one bench workload for one crate, without criterion, for a
//! profiler: `valgrind --tool=callgrind` counts instructions repeatably
//! even on a busy machine, and the single-thread runtimes keep the counts
//! deterministic.
//!
//! ```text
//! cargo build -p anysync-benches --release --bin profile
//! valgrind --tool=callgrind target/release/profile mutex_hold anysync 20000
//! callgrind_annotate callgrind.out.<pid> | head -40
//! ```
//!
//! Workloads: `mutex_uncontended`, `mutex_hold` (8 tasks, tokio
//! current-thread), `semaphore_hold` (4 permits, 64 tasks taking 1 or 2,
//! tokio current-thread), `notify_uncontended`, `notify_ping_pong` (tokio
//! current-thread),
//! `channel_spsc` (capacity 64, tokio current-thread), `oneshot_ready`
//! (create, send, receive in one task), `oneshot_recv_waits` (the receiver
//! waits for a send made after a yield). Crate ids are those
//! of the benches (`anysync`, `tokio`, `maitake_sync`, ...).
#![forbid(unsafe_code)]
// A std-only package: the core-first import lints of the workspace do not
// apply.
#![allow(clippy::std_instead_of_core, clippy::std_instead_of_alloc)]

use std::sync::Arc;

use anysync_benches::{
    for_each_channel, for_each_mutex, for_each_notify, for_each_oneshot, for_each_semaphore,
    peers::{BenchChannel, BenchMutex, BenchNotify, BenchOneshot, BenchSemaphore},
    share, uncontended, yield_now, Rt, RtKind,
};

struct Args {
    id: String,
    ops: u64,
    ran: bool,
}

fn mutex_uncontended<M: BenchMutex>(a: &mut Args) {
    if M::ID == a.id {
        let m = M::create();
        uncontended(a.ops, || m.critical(false));
        a.ran = true;
    }
}

fn mutex_hold<M: BenchMutex>(a: &mut Args) {
    if M::ID == a.id {
        let m = Arc::new(M::create());
        let ops = a.ops;
        Rt::new(RtKind::TokioCt).run_tasks(8, |i| {
            let m = m.clone();
            async move {
                for _ in 0..share(ops, 8, i) {
                    m.critical(true).await;
                }
            }
        });
        a.ran = true;
    }
}

fn semaphore_hold<S: BenchSemaphore>(a: &mut Args) {
    if S::ID == a.id && S::WEIGHTED {
        let s = Arc::new(S::create(4));
        let ops = a.ops;
        Rt::new(RtKind::TokioCt).run_tasks(64, |i| {
            let s = s.clone();
            async move {
                for _ in 0..share(ops, 64, i) {
                    s.critical(1 + i % 2, true).await;
                }
            }
        });
        a.ran = true;
    }
}

fn notify_uncontended<N: BenchNotify>(a: &mut Args) {
    if N::ID == a.id {
        let n = N::create();
        uncontended(a.ops, || {
            n.notify();
            n.wait()
        });
        a.ran = true;
    }
}

fn notify_ping_pong<N: BenchNotify>(a: &mut Args) {
    if N::ID == a.id {
        let pair = Arc::new((N::create(), N::create()));
        let rounds = a.ops;
        Rt::new(RtKind::TokioCt).run_tasks(2, |i| {
            let pair = pair.clone();
            async move {
                for _ in 0..rounds {
                    if i == 0 {
                        pair.0.notify();
                        pair.1.wait().await;
                    } else {
                        pair.0.wait().await;
                        pair.1.notify();
                    }
                }
            }
        });
        a.ran = true;
    }
}

fn channel_spsc<C: BenchChannel>(a: &mut Args) {
    if C::ID == a.id {
        let (tx, rx) = C::bounded(64);
        let n = a.ops;
        let rx = std::sync::Mutex::new(Some(rx));
        let tx = Arc::new(tx);
        Rt::new(RtKind::TokioCt).run_tasks(2, |i| {
            let tx = C::clone_tx(&tx);
            let rx = if i == 0 {
                rx.lock().unwrap().take()
            } else {
                None
            };
            async move {
                if let Some(mut rx) = rx {
                    for _ in 0..n {
                        C::recv(&mut rx).await;
                    }
                } else {
                    for v in 0..n {
                        C::send(&tx, v).await;
                    }
                }
            }
        });
        a.ran = true;
    }
}

fn oneshot_ready<O: BenchOneshot>(a: &mut Args) {
    if O::ID == a.id {
        uncontended(a.ops, || async {
            let (tx, rx) = O::pair();
            O::send(tx, 7);
            std::hint::black_box(O::recv(rx).await);
        });
        a.ran = true;
    }
}

fn oneshot_recv_waits<O: BenchOneshot>(a: &mut Args) {
    if O::ID == a.id {
        uncontended(a.ops, || async {
            let (tx, rx) = O::pair();
            let send = async move {
                yield_now().await;
                O::send(tx, 7);
            };
            let (v, ()) = futures_util::future::join(O::recv(rx), send).await;
            std::hint::black_box(v);
        });
        a.ran = true;
    }
}

fn main() {
    let mut argv = std::env::args().skip(1);
    let (Some(workload), Some(id)) = (argv.next(), argv.next()) else {
        eprintln!("usage: profile WORKLOAD CRATE [OPS]");
        std::process::exit(2);
    };
    let ops = argv.next().map_or(10_000, |s| s.parse().expect("OPS"));
    let mut a = Args {
        id,
        ops,
        ran: false,
    };
    match workload.as_str() {
        "mutex_uncontended" => for_each_mutex!(mutex_uncontended(&mut a)),
        "mutex_hold" => for_each_mutex!(mutex_hold(&mut a)),
        "semaphore_hold" => for_each_semaphore!(semaphore_hold(&mut a)),
        "notify_uncontended" => for_each_notify!(notify_uncontended(&mut a)),
        "notify_ping_pong" => for_each_notify!(notify_ping_pong(&mut a)),
        "channel_spsc" => for_each_channel!(channel_spsc(&mut a)),
        "oneshot_ready" => for_each_oneshot!(oneshot_ready(&mut a)),
        "oneshot_recv_waits" => for_each_oneshot!(oneshot_recv_waits(&mut a)),
        w => {
            eprintln!("unknown workload {w}");
            std::process::exit(2);
        }
    }
    if !a.ran {
        eprintln!("no crate {} for {workload}", a.id);
        std::process::exit(2);
    }
}

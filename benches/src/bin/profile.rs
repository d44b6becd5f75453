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
//! Workloads: `mutex_uncontended`, `semaphore_uncontended` (one permit,
//! `acquire_many(1)` or each crate's weighted form), `mutex_hold` (8 tasks, tokio
//! current-thread), `semaphore_hold` (4 permits, 64 tasks taking 1 or 2,
//! tokio current-thread), `notify_uncontended`, `notify_ping_pong` (tokio
//! current-thread),
//! `channel_spsc` (capacity 64, tokio current-thread), `channel_one_task`
//! (capacity 64, each message sent then received by the same task, in one
//! `futures_executor::block_on`), `oneshot_ready` (create, send, receive
//! in one task), `oneshot_recv_waits` (the receiver waits for a send made
//! after a yield). Crate ids are those
//! of the benches (`anysync`, `tokio`, `maitake_sync`, ...).
//!
//! Resilience workloads (`futures_executor::block_on`, no runtime):
//! `retry_ok` (an operation that succeeds at once), `retry_zero` (fails
//! once, then succeeds after a zero delay), both `anysync` or `backon`;
//! `rate_check` (a `try_acquire` always granted) for `anysync`,
//! `anysync_free` (a clock that costs nothing), `governor` (its TSC clock)
//! and `governor_std` (the std monotonic clock, like `anysync`).
//! `channel_spsc` (capacity 64, tokio current-thread), `mutex_hold64`
//! (64 tasks, tokio current-thread), `rwlock_read_heavy` (16 tasks on
//! tokio multi-thread with 2 workers, 9 reads to 1 write, guards not held
//! across an await; prints the wall time). Crate ids are those of the
//! benches (`anysync`, `tokio`, `maitake_sync`, ...).
//!
//! Task workloads: `cancel_child` (a root token, a child, cancel the
//! root; `anysync` or `tokio_util`), `cancel_wake_1` and
//! `cancel_wake_1000` (`OPS` tokens, each with 1 or 1,000 waiters
//! registered, one cancel, every waiter completed), `spawn_join` (groups of 10,000
//! trivial tasks spawned and joined on tokio multi-thread with 2 workers;
//! `anysync_task_group`, `tokio_join_set`, `futures_unordered_of_handles`;
//! prints the wall time per task).
//!
//! `rwlock_read_heavy_smol`: `rwlock_read_heavy` on a smol executor run by
//! 2 threads (the `rwlock/read90_nohold/smol` bench row);
//! `rwlock_read_heavy_ct` on tokio current-thread, where the
//! instruction counts repeat. `rwlock_read90_hold_smol`: the smol one
//! with each guard held across a yield (the `rwlock/read90/smol` row),
//! and `rwlock_read90_hold_ct` the same on tokio current-thread.
//!
//! `channel_mpmc`: 4 senders and 4 receivers on tokio multi-thread (2
//! workers), capacity 64 (the `channel/mpmc_4x4/cap64/tokio_mt2` row,
//! without criterion); prints the time per message. Under
//! `strace -f -w -c -e trace=clock_nanosleep,sched_yield` it shows which
//! crates put a worker thread to sleep. `channel_mpmc_smol`: the same on
//! a smol executor run by 2 threads. `channel_mpmc_bystander`: the
//! same with a ninth task that yields in a loop and records how long it
//! waits to run again. `channel_mpmc_latency`: that, with each message
//! carrying the time it was sent; prints percentiles of the time from
//! send to receive.
#![forbid(unsafe_code)]
// A std-only package: the core-first import lints of the workspace do not
// apply.
#![allow(clippy::std_instead_of_core, clippy::std_instead_of_alloc)]

use std::{future::Ready, hint::black_box, num::NonZeroU32, sync::Arc, time::Duration};

use anysync::{
    rt::{Instant, Timer},
    time::{Backoff, Quota, RateLimiter, RetryExt},
};

use anysync_benches::{
    for_each_channel, for_each_mutex, for_each_notify, for_each_oneshot, for_each_rwlock,
    for_each_semaphore,
    peers::{BenchChannel, BenchMutex, BenchNotify, BenchOneshot, BenchRwLock, BenchSemaphore},
    register_fire_complete, share, uncontended, yield_now, Rt, RtKind,
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

fn semaphore_uncontended<S: BenchSemaphore>(a: &mut Args) {
    if S::ID == a.id {
        let s = S::create(1);
        uncontended(a.ops, || s.critical(1, false));
        a.ran = true;
    }
}

/// `tasks` tasks on tokio current-thread, each holding the lock across a
/// yield.
fn mutex_hold<M: BenchMutex>(a: &mut Args, tasks: usize) {
    if M::ID == a.id {
        let m = Arc::new(M::create());
        let ops = a.ops;
        Rt::new(RtKind::TokioCt).run_tasks(tasks, |i| {
            let m = m.clone();
            async move {
                for _ in 0..share(ops, tasks, i) {
                    m.critical(true).await;
                }
            }
        });
        a.ran = true;
    }
}

fn rwlock_read_heavy<L: BenchRwLock>(a: &mut Args) {
    rwlock_read_heavy_on::<L>(a, RtKind::TokioMt2, false);
}

/// `rwlock_read_heavy` on the runtime `kind`; with `hold`, each guard is
/// held across a yield (the `rwlock/read90` rows).
fn rwlock_read_heavy_on<L: BenchRwLock>(a: &mut Args, kind: RtKind, hold: bool) {
    if L::ID == a.id {
        let l = Arc::new(L::create());
        let ops = a.ops;
        let waited = Arc::new(std::sync::atomic::AtomicU64::new(0));
        let start = std::time::Instant::now();
        Rt::new(kind).run_tasks(16, |i| {
            let l = l.clone();
            let waited = waited.clone();
            async move {
                let mut w = 0;
                for k in 0..share(ops, 16, i) {
                    if (k + i as u64).is_multiple_of(10) {
                        w += u64::from(counted(l.write(hold)).await.1);
                    } else {
                        let (v, pending) = counted(l.read(hold)).await;
                        std::hint::black_box(v);
                        w += u64::from(pending);
                    }
                }
                waited.fetch_add(w, std::sync::atomic::Ordering::Relaxed);
            }
        });
        eprintln!(
            "{} rwlock_read_heavy: {:?}, {} of {ops} had to wait",
            L::ID,
            start.elapsed(),
            waited.load(std::sync::atomic::Ordering::Relaxed)
        );
        a.ran = true;
    }
}

/// Runs `fut`, also saying whether it ever returned `Pending`.
async fn counted<F: std::future::Future>(fut: F) -> (F::Output, bool) {
    let mut fut = std::pin::pin!(fut);
    let mut pending = false;
    let out = std::future::poll_fn(|cx| {
        let p = fut.as_mut().poll(cx);
        pending |= p.is_pending();
        p
    })
    .await;
    (out, pending)
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

/// `channel_mpmc`: 4 senders and 4 receivers on tokio multi-thread (2
/// workers), capacity 64, `ops` messages; prints the time per message
/// (the runtime is built before the clock starts). Each receiver stops on
/// a sentinel that the last sender to finish sends; panics if the count
/// received differs from `ops`.
///
/// With `latency`, each message is the time it was sent (nanoseconds
/// since the start), and each receiver records how long it took to
/// arrive; prints the median, the 99th and 99.9th percentiles and the
/// maximum. Reading the clock twice per message slows the run, so the
/// time per message is not comparable with `channel_mpmc`'s.
///
/// With `bystander`, a ninth task, which uses no channel, yields in a loop
/// while the senders run and records how long each yield kept it from
/// running (a worker thread that sleeps holds up every task queued on it);
/// prints the same percentiles. It also keeps both workers busy.
fn channel_mpmc<C: BenchChannel>(a: &mut Args, kind: RtKind, latency: bool, bystander: bool) {
    if C::ID == a.id {
        use std::sync::{
            atomic::{AtomicU64, AtomicUsize, Ordering},
            Mutex,
        };
        assert!(C::MPMC, "{} has one receiver: no channel_mpmc", C::ID);
        let (tx, rx) = C::bounded(64);
        let senders_left = Arc::new(AtomicUsize::new(4));
        let received = Arc::new(AtomicU64::new(0));
        let delays = Arc::new(Mutex::new(Vec::new()));
        let n = a.ops;
        let rt = Rt::new(kind);
        // `ANYSYNC_PROFILE_NO_COUNT=1`: without the wait counter the bench
        // puts around every operation, to see what it changes.
        let _paused = std::env::var_os("ANYSYNC_PROFILE_NO_COUNT")
            .is_some()
            .then(anysync_benches::wait::paused);
        let start = std::time::Instant::now();
        // Nanoseconds since `start`; never `u64::MAX`, the sentinel.
        let stamp = move || start.elapsed().as_nanos() as u64;
        let gaps = Arc::new(Mutex::new(Vec::new()));
        // `ANYSYNC_PROFILE_PLACEMENT=1`: each task counts its operations
        // per thread, printed at the end (which worker ran which side).
        let placement = std::env::var_os("ANYSYNC_PROFILE_PLACEMENT").is_some();
        let places = Arc::new(Mutex::new(Vec::new()));
        rt.run_tasks(if bystander { 9 } else { 8 }, |i| {
            let places = places.clone();
            let tx = C::clone_tx(&tx);
            let rx = (i < 4).then(|| C::clone_rx(&rx));
            let senders_left = senders_left.clone();
            let received = received.clone();
            let delays = delays.clone();
            let gaps = gaps.clone();
            async move {
                if i == 8 {
                    // A task that uses no channel: how long it waits to be
                    // polled again after each yield, while the senders run.
                    let mut mine = Vec::new();
                    let mut last = stamp();
                    while senders_left.load(Ordering::Acquire) > 0 {
                        yield_now().await;
                        let now = stamp();
                        mine.push(now - last);
                        last = now;
                    }
                    *gaps.lock().expect("not poisoned") = mine;
                } else if let Some(mut rx) = rx {
                    let mut got = 0;
                    let mut mine = Vec::new();
                    let mut on = [0u64; 3];
                    loop {
                        let v = anysync_benches::wait::count(
                            anysync_benches::wait::Op::Acquire,
                            C::recv(&mut rx),
                        )
                        .await;
                        if v == u64::MAX {
                            break;
                        }
                        if latency {
                            mine.push(stamp().saturating_sub(v));
                        }
                        if placement {
                            count_place(&mut on);
                        }
                        got += 1;
                    }
                    places.lock().expect("not poisoned").push((i, on));
                    received.fetch_add(got, Ordering::Relaxed);
                    delays.lock().expect("not poisoned").extend(mine);
                } else {
                    let mut on = [0u64; 3];
                    for v in 0..share(n, 4, i - 4) {
                        anysync_benches::wait::count(
                            anysync_benches::wait::Op::Send,
                            C::send(&tx, if latency { stamp() } else { v }),
                        )
                        .await;
                        if placement {
                            count_place(&mut on);
                        }
                    }
                    places.lock().expect("not poisoned").push((i, on));
                    if senders_left.fetch_sub(1, Ordering::AcqRel) == 1 {
                        for _ in 0..4 {
                            C::send(&tx, u64::MAX).await;
                        }
                    }
                }
            }
        });
        let elapsed = start.elapsed();
        assert_eq!(received.load(Ordering::Relaxed), n, "messages lost");
        let (recv_waited, recvs) = anysync_benches::wait::take(anysync_benches::wait::Op::Acquire);
        let (send_waited, sends) = anysync_benches::wait::take(anysync_benches::wait::Op::Send);
        eprintln!(
            "{} channel_mpmc: {:.1} ns per message; waited: recv {:.2}%, send {:.2}%",
            C::ID,
            elapsed.as_nanos() as f64 / n as f64,
            100.0 * recv_waited as f64 / recvs.max(1) as f64,
            100.0 * send_waited as f64 / sends.max(1) as f64,
        );
        if placement {
            let mut p = std::mem::take(&mut *places.lock().expect("not poisoned"));
            p.sort_unstable();
            let line: Vec<String> = p
                .iter()
                .map(|(i, on)| {
                    let total = on.iter().sum::<u64>().max(1) as f64;
                    let side = if *i < 4 { 'r' } else { 's' };
                    let share: Vec<String> = on
                        .iter()
                        .map(|c| format!("{:.0}", 100.0 * *c as f64 / total))
                        .collect();
                    format!("{side}{i} {}", share.join("/"))
                })
                .collect();
            eprintln!(
                "placement (% of operations on thread 0/1/2): {}",
                line.join(", ")
            );
        }
        if latency {
            let d = std::mem::take(&mut *delays.lock().expect("not poisoned"));
            percentiles(&format!("{} send to receive", C::ID), d);
        }
        if bystander {
            let g = std::mem::take(&mut *gaps.lock().expect("not poisoned"));
            percentiles(&format!("{} a bystander task's yields", C::ID), g);
        }
        a.ran = true;
    }
}

/// Counts one operation in `on` under the running thread's number (in
/// order of first use; a third and later thread share the last count).
fn count_place(on: &mut [u64; 3]) {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    std::thread_local!(static THREAD: usize = NEXT.fetch_add(1, Ordering::Relaxed));
    on[THREAD.with(|t| *t).min(2)] += 1;
}

/// Prints the count, median, 99th and 99.9th percentiles and maximum of
/// `ns` (nanoseconds) in microseconds.
fn percentiles(what: &str, mut ns: Vec<u64>) {
    ns.sort_unstable();
    let Some(last) = ns.len().checked_sub(1) else {
        eprintln!("{what}: no samples");
        return;
    };
    let at = |q: f64| ns[(last as f64 * q) as usize] as f64 / 1000.0;
    eprintln!(
        "{what}: {} samples, median {:.1} us, p99 {:.1} us, p99.9 {:.1} us, max {:.1} us",
        ns.len(),
        at(0.5),
        at(0.99),
        at(0.999),
        at(1.0)
    );
}

/// The std monotonic clock; its sleeps end at once (the workloads only
/// ever sleep for zero).
#[derive(Clone, Copy, Debug)]
struct StdClock;

impl Timer for StdClock {
    type Sleep = Ready<()>;

    fn sleep(&self, _: Duration) -> Ready<()> {
        std::future::ready(())
    }

    fn now(&self) -> Instant {
        Instant::from_std(std::time::Instant::now())
    }
}

/// A clock that stands still and costs nothing: what is left is the
/// limiter's own work.
#[derive(Clone, Copy, Debug)]
struct FreeClock;

impl Timer for FreeClock {
    type Sleep = Ready<()>;

    fn sleep(&self, _: Duration) -> Ready<()> {
        std::future::ready(())
    }

    fn now(&self) -> Instant {
        Instant::ORIGIN
    }
}

/// `retry_ok` (`fails = 0`) and `retry_zero` (`fails = 1`, zero delay).
fn retry(a: &mut Args, fails: u32) {
    let delay = if fails == 0 {
        Duration::from_millis(1)
    } else {
        Duration::ZERO
    };
    let three = NonZeroU32::new(3).expect("non-zero");
    match a.id.as_str() {
        "anysync" => {
            uncontended(a.ops, || async move {
                let mut n = 0;
                let op = move || {
                    n += 1;
                    let out = if n > fails { Ok(1) } else { Err(()) };
                    async move { out }
                };
                let backoff = Backoff::exponential(delay, 2.0, Duration::from_secs(1))
                    .expect("valid")
                    .with_seed(1);
                let out = RetryExt::retry(op, StdClock, backoff).attempts(three).await;
                assert_eq!(black_box(out), Ok(1));
            });
        }
        "backon" => {
            uncontended(a.ops, || async move {
                let mut n = 0;
                let op = move || {
                    n += 1;
                    let out = if n > fails { Ok(1) } else { Err(()) };
                    async move { out }
                };
                let out = backon::Retryable::retry(
                    op,
                    backon::ExponentialBuilder::default()
                        .with_min_delay(delay)
                        .with_max_times(2),
                )
                .sleep(|_| std::future::ready(()))
                .await;
                assert_eq!(black_box(out), Ok(1));
            });
        }
        _ => return,
    }
    a.ran = true;
}

fn rate_check(a: &mut Args) {
    let huge = NonZeroU32::MAX;
    let ops = a.ops;
    match a.id.as_str() {
        "anysync" => {
            let ours = RateLimiter::new(StdClock, Quota::per_second(huge));
            (0..ops).for_each(|_| black_box(ours.try_acquire()).expect("granted"));
        }
        "anysync_free" => {
            let ours = RateLimiter::new(FreeClock, Quota::per_second(huge));
            (0..ops).for_each(|_| black_box(ours.try_acquire()).expect("granted"));
        }
        "governor" => {
            let theirs = governor::RateLimiter::direct(governor::Quota::per_second(huge));
            (0..ops).for_each(|_| black_box(theirs.check()).expect("granted"));
        }
        "governor_std" => {
            let theirs = governor::RateLimiter::direct_with_clock(
                governor::Quota::per_second(huge),
                governor::clock::MonotonicClock,
            );
            (0..ops).for_each(|_| black_box(theirs.check()).expect("granted"));
        }
        _ => return,
    }
    a.ran = true;
}

fn channel_one_task<C: BenchChannel>(a: &mut Args) {
    if C::ID == a.id {
        let (tx, mut rx) = C::bounded(64);
        let n = a.ops;
        futures_executor::block_on(async {
            for v in 0..n {
                C::send(&tx, v).await;
                C::recv(&mut rx).await;
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

/// `cancel_child`: a root token, a child, cancel the root (no waiters),
/// as `cancel_token/create_child_cancel`; `anysync` or `tokio_util`.
fn cancel_child(a: &mut Args) {
    let ops = a.ops;
    match a.id.as_str() {
        "anysync" => (0..ops).for_each(|_| {
            let root = anysync::task::CancelToken::new();
            let child = root.child();
            root.cancel();
            black_box(child.is_cancelled());
        }),
        "tokio_util" => (0..ops).for_each(|_| {
            let root = tokio_util::sync::CancellationToken::new();
            let child = root.child_token();
            root.cancel();
            black_box(child.is_cancelled());
        }),
        _ => return,
    }
    a.ran = true;
}

/// `cancel_wake_<n>`: `a.ops` tokens, each with `waiters` waiters
/// registered, cancelled, and completed, as `cancel_token/wake_<n>`.
fn cancel_wake(a: &mut Args, waiters: usize) {
    let ops = a.ops;
    match a.id.as_str() {
        "anysync" => (0..ops).for_each(|_| {
            let token = anysync::task::CancelToken::new();
            let mut w: Vec<_> = (0..waiters).map(|_| Box::pin(token.cancelled())).collect();
            register_fire_complete(&mut w, || {
                token.cancel();
            });
        }),
        "tokio_util" => (0..ops).for_each(|_| {
            let token = tokio_util::sync::CancellationToken::new();
            let mut w: Vec<_> = (0..waiters).map(|_| Box::pin(token.cancelled())).collect();
            register_fire_complete(&mut w, || token.cancel());
        }),
        _ => return,
    }
    a.ran = true;
}

/// `spawn_join`: groups of 10,000 trivial tasks spawned and all joined, on
/// tokio multi-thread with 2 workers, as `spawn_join_10000` (`OPS` tasks
/// in all): `anysync_task_group`, `tokio_join_set` or
/// `futures_unordered_of_handles`. Prints the wall time.
fn spawn_join(a: &mut Args) {
    const N: usize = 10_000;
    let groups = a.ops.div_ceil(N as u64);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_time()
        .build()
        .expect("tokio runtime");
    let start = std::time::Instant::now();
    match a.id.as_str() {
        "anysync_task_group" => rt.block_on(async {
            for _ in 0..groups {
                let group =
                    anysync::task::TaskGroup::<_, usize, ()>::new(anysync_tokio::Tokio::current());
                for i in 0..N {
                    group.spawn(async move { Ok(i) }).expect("spawn");
                }
                black_box(group.join().await.expect("join"));
            }
        }),
        "tokio_join_set" => rt.block_on(async {
            for _ in 0..groups {
                let mut set = tokio::task::JoinSet::new();
                for i in 0..N {
                    set.spawn(async move { i });
                }
                let mut out = Vec::with_capacity(N);
                while let Some(r) = set.join_next().await {
                    out.push(r.expect("join"));
                }
                black_box(out);
            }
        }),
        "futures_unordered_of_handles" => rt.block_on(async {
            use futures_util::StreamExt;
            for _ in 0..groups {
                let mut set: futures_util::stream::FuturesUnordered<_> =
                    (0..N).map(|i| tokio::spawn(async move { i })).collect();
                let mut out = Vec::with_capacity(N);
                while let Some(r) = set.next().await {
                    out.push(r.expect("join"));
                }
                black_box(out);
            }
        }),
        _ => return,
    }
    eprintln!(
        "{} spawn_join: {:?} per task",
        a.id,
        start.elapsed() / (groups * N as u64) as u32
    );
    a.ran = true;
}

/// `rate_acquire`: the waiting form, granted at once, one task under
/// `futures_executor::block_on` (`anysync`, `anysync_free`, `governor`,
/// `governor_std`). `rate_keyed`: `try_acquire` over 1024 keys round robin
/// (the same ids). `rate_sizes`: prints the size of each future (any id).
fn rate_more(a: &mut Args, keyed: bool) {
    let huge = NonZeroU32::MAX;
    let ops = a.ops;
    match (keyed, a.id.as_str()) {
        (false, "anysync") => {
            let ours = RateLimiter::new(StdClock, Quota::per_second(huge));
            uncontended(ops, || async { ours.acquire().await.expect("granted") });
        }
        (false, "anysync_free") => {
            let ours = RateLimiter::new(FreeClock, Quota::per_second(huge));
            uncontended(ops, || async { ours.acquire().await.expect("granted") });
        }
        (false, "governor") => {
            let theirs = governor::RateLimiter::direct(governor::Quota::per_second(huge));
            uncontended(ops, || theirs.until_ready());
        }
        (false, "governor_std") => {
            let theirs = governor::RateLimiter::direct_with_clock(
                governor::Quota::per_second(huge),
                governor::clock::MonotonicClock,
            );
            uncontended(ops, || theirs.until_ready());
        }
        (true, "anysync") => {
            let ours = anysync::time::KeyedRateLimiter::new(StdClock, Quota::per_second(huge));
            (0..ops).for_each(|k| {
                black_box(ours.try_acquire(&((k % 1024) as u32))).expect("granted");
            });
        }
        (true, "anysync_with_capacity") => {
            let ours = anysync::time::KeyedRateLimiter::with_capacity(
                StdClock,
                Quota::per_second(huge),
                1024,
            );
            (0..ops).for_each(|k| {
                black_box(ours.try_acquire(&((k % 1024) as u32))).expect("granted");
            });
        }
        (true, "anysync_free") => {
            let ours = anysync::time::KeyedRateLimiter::new(FreeClock, Quota::per_second(huge));
            (0..ops).for_each(|k| {
                black_box(ours.try_acquire(&((k % 1024) as u32))).expect("granted");
            });
        }
        (true, "governor") => {
            let theirs = governor::RateLimiter::keyed(governor::Quota::per_second(huge));
            (0..ops).for_each(|k| {
                black_box(theirs.check_key(&((k % 1024) as u32))).expect("granted");
            });
        }
        (true, "governor_std") => {
            let theirs = governor::RateLimiter::dashmap_with_clock(
                governor::Quota::per_second(huge),
                governor::clock::MonotonicClock,
            );
            (0..ops).for_each(|k| {
                black_box(theirs.check_key(&((k % 1024) as u32))).expect("granted");
            });
        }
        _ => return,
    }
    a.ran = true;
}

/// Prints the size of the futures of the resilience workloads.
fn rate_sizes(a: &mut Args) {
    let limiter = RateLimiter::new(StdClock, Quota::per_second(NonZeroU32::MAX));
    let keyed = anysync::time::KeyedRateLimiter::new(StdClock, Quota::per_second(NonZeroU32::MAX));
    let op = || async { Ok::<u64, ()>(1) };
    let backoff =
        Backoff::exponential(Duration::from_millis(1), 2.0, Duration::from_secs(1)).expect("valid");
    let retry = RetryExt::retry(op, StdClock, backoff);
    let backon = backon::Retryable::retry(op, backon::ExponentialBuilder::default())
        .sleep(|_| std::future::ready(()));
    let governor = governor::RateLimiter::direct(governor::Quota::per_second(NonZeroU32::MAX));
    eprintln!(
        "acquire {} keyed_acquire {} retry {} backoff {} backon_retry {} governor_until_ready {}",
        std::mem::size_of_val(&limiter.acquire()),
        std::mem::size_of_val(&keyed.acquire(&1u32)),
        std::mem::size_of_val(&retry),
        std::mem::size_of::<Backoff>(),
        std::mem::size_of_val(&backon),
        std::mem::size_of_val(&governor.until_ready()),
    );
    a.ran = true;
}

/// `timer_now`: `Timer::now` of a compat runtime (`tokio`: `anysync_tokio`
/// on a current-thread runtime, called from a task; `tokio_block_on`: from
/// the future given to `block_on`, which is not a task; `std`: the std
/// clock, for the difference).
fn timer_now(a: &mut Args) {
    let ops = a.ops;
    match a.id.as_str() {
        "tokio" => {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_time()
                .build()
                .expect("tokio runtime");
            let timer = rt.block_on(async { anysync_tokio::Tokio::current() });
            let task = rt.spawn(async move {
                (0..ops).for_each(|_| {
                    black_box(timer.now());
                });
            });
            rt.block_on(task).expect("task");
        }
        "tokio_block_on" => {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_time()
                .build()
                .expect("tokio runtime");
            let timer = rt.block_on(async { anysync_tokio::Tokio::current() });
            rt.block_on(async {
                (0..ops).for_each(|_| {
                    black_box(timer.now());
                });
            });
        }
        "std" => (0..ops).for_each(|_| {
            black_box(StdClock.now());
        }),
        _ => return,
    }
    a.ran = true;
}

/// The pooled object of `pool_hold`: a counter.
struct PoolNumbers;

impl anysync::pool::Manager for PoolNumbers {
    type Object = u64;
    type Error = std::convert::Infallible;

    async fn create(&self) -> Result<u64, std::convert::Infallible> {
        Ok(0)
    }
}

impl deadpool::managed::Manager for PoolNumbers {
    type Type = u64;
    type Error = std::convert::Infallible;

    async fn create(&self) -> Result<u64, std::convert::Infallible> {
        Ok(0)
    }

    async fn recycle(
        &self,
        _: &mut u64,
        _: &deadpool::managed::Metrics,
    ) -> deadpool::managed::RecycleResult<std::convert::Infallible> {
        Ok(())
    }
}

/// `pool_hold`: the `pool/o8` bench's work (64 tasks sharing 8 objects,
/// each held across a yield) on tokio current-thread, so the counts are
/// repeatable: `anysync`, `anysync_no_timeout` (no wait timeout, as
/// deadpool's default), `deadpool` or `deadpool_wait_timeout` (anysync's
/// 30 s).
fn pool_hold(a: &mut Args) {
    let ops = a.ops;
    let tasks = 64;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .expect("tokio runtime");
    match a.id.as_str() {
        "anysync" | "anysync_no_timeout" => {
            let timeout = (a.id == "anysync").then_some(anysync::pool::DEFAULT_WAIT_TIMEOUT);
            let pool = Arc::new(
                anysync::pool::Pool::builder(PoolNumbers)
                    .max_size(8)
                    .wait_timeout(timeout)
                    .build(rt.block_on(async { anysync_tokio::Tokio::current() }))
                    .expect("valid"),
            );
            let handles: Vec<_> = (0..tasks)
                .map(|i| {
                    let pool = pool.clone();
                    rt.spawn(async move {
                        for _ in 0..share(ops, tasks, i) {
                            let mut o = pool.get().await.expect("object");
                            *o += 1;
                            yield_now().await;
                        }
                    })
                })
                .collect();
            for h in handles {
                rt.block_on(h).expect("task");
            }
        }
        "deadpool" | "deadpool_wait_timeout" => {
            let timeout =
                (a.id == "deadpool_wait_timeout").then_some(anysync::pool::DEFAULT_WAIT_TIMEOUT);
            let pool: Arc<deadpool::managed::Pool<PoolNumbers>> = Arc::new(
                deadpool::managed::Pool::builder(PoolNumbers)
                    .max_size(8)
                    .wait_timeout(timeout)
                    .runtime(deadpool::Runtime::Tokio1)
                    .build()
                    .expect("valid"),
            );
            let handles: Vec<_> = (0..tasks)
                .map(|i| {
                    let pool = pool.clone();
                    rt.spawn(async move {
                        for _ in 0..share(ops, tasks, i) {
                            let mut o = pool.get().await.expect("object");
                            *o += 1;
                            yield_now().await;
                        }
                    })
                })
                .collect();
            for h in handles {
                rt.block_on(h).expect("task");
            }
        }
        _ => return,
    }
    a.ran = true;
}

/// `future_sizes` (crate `all`): prints `size_of` of the futures the
/// channel, semaphore and notify workloads build (each crate's bench
/// future, then the primitives' own futures), since moving a large future
/// costs a `memcpy` per operation.
fn future_sizes(a: &mut Args) {
    fn sem<S: BenchSemaphore>() {
        let s = S::create(1);
        println!(
            "{:>26} semaphore critical: {:>4} bytes",
            S::ID,
            std::mem::size_of_val(&s.critical(1, false))
        );
    }
    fn notify<N: BenchNotify>() {
        let n = N::create();
        println!(
            "{:>26} notify wait:        {:>4} bytes",
            N::ID,
            std::mem::size_of_val(&n.wait())
        );
    }
    fn chan<C: BenchChannel>() {
        let (tx, mut rx) = C::bounded(64);
        println!(
            "{:>26} channel send/recv:  {:>4} / {:>4} bytes",
            C::ID,
            std::mem::size_of_val(&C::send(&tx, 1)),
            std::mem::size_of_val(&C::recv(&mut rx))
        );
    }
    if a.id != "all" {
        return;
    }
    for_each_channel!(chan());
    for_each_semaphore!(sem());
    for_each_notify!(notify());
    let s = anysync::sync::Semaphore::new(1);
    let n = anysync::sync::Notify::new();
    let e = anysync::sync::Event::new();
    println!("anysync Acquire: {}", std::mem::size_of_val(&s.acquire()));
    println!("anysync Notified: {}", std::mem::size_of_val(&n.notified()));
    println!("anysync EventWait: {}", std::mem::size_of_val(&e.wait()));
    let t = tokio::sync::Semaphore::new(1);
    println!("tokio Acquire: {}", std::mem::size_of_val(&t.acquire()));
    let t = tokio::sync::Notify::new();
    println!("tokio Notified: {}", std::mem::size_of_val(&t.notified()));
    let m = maitake_sync::Semaphore::new(1);
    println!("maitake Acquire: {}", std::mem::size_of_val(&m.acquire(1)));
    let m = maitake_sync::WaitQueue::new();
    println!("maitake Wait: {}", std::mem::size_of_val(&m.wait()));
    let f = futures_intrusive::sync::Semaphore::new(true, 1);
    println!(
        "futures_intrusive Acquire: {}",
        std::mem::size_of_val(&f.acquire(1))
    );
    let l = event_listener::Event::new();
    println!(
        "event_listener EventListener: {}",
        std::mem::size_of_val(&l.listen())
    );
    a.ran = true;
}

/// The scaling bench's workload for `primitive` (its name with `_` for a
/// space: `handoff_RwLock_write`) with `ops` waiters, once. For
/// instruction counts of the hand-offs alone, give callgrind
/// `--toggle-collect='*Handoffs*drain*'`.
fn handoff(a: &mut Args, primitive: &str) {
    let primitive = primitive.replace('_', " ");
    assert!(a.ops > 0, "OPS (the number of waiters) must be at least 1");
    if !anysync_benches::handoff::primitives().contains(&primitive.as_str()) {
        eprintln!(
            "no scaling case for {primitive:?}; the primitives are {:?}",
            anysync_benches::handoff::primitives()
        );
        std::process::exit(2);
    }
    let Some(case) = anysync_benches::handoff::CASES
        .iter()
        .find(|c| c.primitive == primitive && c.id == a.id)
    else {
        return;
    };
    let mut h = (case.make)(a.ops as usize);
    h.register();
    let start = std::time::Instant::now();
    h.drain();
    println!(
        "{primitive} {}: {:?} per hand-off",
        a.id,
        start.elapsed() / a.ops as u32
    );
    a.ran = true;
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
        "semaphore_uncontended" => for_each_semaphore!(semaphore_uncontended(&mut a)),
        "mutex_hold" => for_each_mutex!(mutex_hold(&mut a, 8)),
        "mutex_hold64" => for_each_mutex!(mutex_hold(&mut a, 64)),
        "rwlock_read_heavy" => for_each_rwlock!(rwlock_read_heavy(&mut a)),
        "semaphore_hold" => for_each_semaphore!(semaphore_hold(&mut a)),
        "notify_uncontended" => for_each_notify!(notify_uncontended(&mut a)),
        "notify_ping_pong" => for_each_notify!(notify_ping_pong(&mut a)),
        "channel_spsc" => for_each_channel!(channel_spsc(&mut a)),
        "channel_mpmc" => for_each_channel!(channel_mpmc(&mut a, RtKind::TokioMt2, false, false)),
        "channel_mpmc_smol" => for_each_channel!(channel_mpmc(&mut a, RtKind::Smol, false, false)),
        "channel_mpmc_bystander" => {
            for_each_channel!(channel_mpmc(&mut a, RtKind::TokioMt2, false, true))
        }
        "channel_mpmc_latency" => {
            for_each_channel!(channel_mpmc(&mut a, RtKind::TokioMt2, true, true))
        }
        "retry_ok" => retry(&mut a, 0),
        "retry_zero" => retry(&mut a, 1),
        "rate_check" => rate_check(&mut a),
        "channel_one_task" => for_each_channel!(channel_one_task(&mut a)),
        "oneshot_ready" => for_each_oneshot!(oneshot_ready(&mut a)),
        "oneshot_recv_waits" => for_each_oneshot!(oneshot_recv_waits(&mut a)),
        "cancel_child" => cancel_child(&mut a),
        "cancel_wake_1" => cancel_wake(&mut a, 1),
        "cancel_wake_1000" => cancel_wake(&mut a, 1000),
        "spawn_join" => spawn_join(&mut a),
        "rate_acquire" => rate_more(&mut a, false),
        "rate_keyed" => rate_more(&mut a, true),
        "rate_sizes" => rate_sizes(&mut a),
        "timer_now" => timer_now(&mut a),
        "pool_hold" => pool_hold(&mut a),
        "future_sizes" => future_sizes(&mut a),
        "rwlock_read_heavy_smol" => {
            for_each_rwlock!(rwlock_read_heavy_on(&mut a, RtKind::Smol, false));
        }
        "rwlock_read_heavy_ct" => {
            for_each_rwlock!(rwlock_read_heavy_on(&mut a, RtKind::TokioCt, false));
        }
        "rwlock_read90_hold_smol" => {
            for_each_rwlock!(rwlock_read_heavy_on(&mut a, RtKind::Smol, true));
        }
        "rwlock_read90_hold_ct" => {
            for_each_rwlock!(rwlock_read_heavy_on(&mut a, RtKind::TokioCt, true));
        }
        w if w.starts_with("handoff_") => handoff(&mut a, &w["handoff_".len()..]),
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

//! Turns the criterion output of `cargo bench -p anysync-benches` into
//! `benches/RESULTS.md`: per benchmark, each crate's median time per
//! operation and its ratio to the best peer, plus `size_of` of each
//! primitive of each crate and the heap allocations per contended wait of
//! each crate, measured by this binary.
//!
//! ```text
//! cargo run -p anysync-benches --release --bin report -- [CRITERION_DIR] [--note TEXT]
//! ```
//!
//! `CRITERION_DIR` defaults to `$CARGO_TARGET_DIR/criterion`, else
//! `target/criterion` at the workspace root. `benches/run.sh` runs the
//! benches and then this.
//!
//! Allocations are counted by `stats_alloc`'s instrumented system allocator
//! installed as this binary's global allocator (no `unsafe` here: the crate
//! owns the `GlobalAlloc` impl).
#![forbid(unsafe_code)]
// A std-only package: the core-first import lints of the workspace do not
// apply, and trait methods spell out `impl Future + Send` so tasks can spawn.
#![allow(
    clippy::std_instead_of_core,
    clippy::std_instead_of_alloc,
    clippy::manual_async_fn
)]

use std::{
    collections::BTreeMap,
    fmt::Write as _,
    future::Future,
    mem::size_of,
    path::{Path, PathBuf},
    pin::Pin,
};

use anysync_benches::{
    for_each_channel, for_each_mutex, for_each_notify, for_each_oneshot, for_each_rwlock,
    for_each_semaphore,
    peers::{BenchChannel, BenchMutex, BenchNotify, BenchOneshot, BenchRwLock, BenchSemaphore},
    yield_now,
};
use stats_alloc::{Region, StatsAlloc, INSTRUMENTED_SYSTEM};

#[global_allocator]
static GLOBAL: &StatsAlloc<std::alloc::System> = &INSTRUMENTED_SYSTEM;

/// One criterion result: median time per operation.
#[derive(Debug, Clone)]
struct Row {
    id: String,
    ns: f64,
}

/// Which crates give the same guarantee as anysync's default, per family
/// (`None`: every peer in the family does).
#[derive(Debug, Default)]
struct Fairness(BTreeMap<(&'static str, &'static str), bool>);

impl Fairness {
    fn same_guarantee(&self, family: &str, id: &str) -> bool {
        self.0
            .iter()
            .find(|((f, i), _)| *f == family && *i == id)
            .is_none_or(|(_, fair)| *fair)
    }
}

fn fair_mutex<M: BenchMutex>(f: &mut Fairness) {
    f.0.insert(("mutex", M::ID), M::FAIR);
}
fn fair_rwlock<L: BenchRwLock>(f: &mut Fairness) {
    f.0.insert(("rwlock", L::ID), L::FAIR);
}
fn fair_semaphore<S: BenchSemaphore>(f: &mut Fairness) {
    f.0.insert(("semaphore", S::ID), S::FAIR);
}

fn is_ours(id: &str) -> bool {
    id == "anysync" || id.starts_with("anysync_")
}

fn criterion_dir(arg: Option<&String>) -> PathBuf {
    if let Some(a) = arg {
        return PathBuf::from(a);
    }
    if let Ok(t) = std::env::var("CARGO_TARGET_DIR") {
        return Path::new(&t).join("criterion");
    }
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/criterion")
}

/// Reads every `*/new/benchmark.json` + `estimates.json` under `dir`.
fn read_results(dir: &Path) -> BTreeMap<String, Vec<Row>> {
    let mut out: BTreeMap<String, Vec<Row>> = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if !p.is_dir() {
                continue;
            }
            if p.file_name().is_some_and(|n| n == "new") {
                if let Some((group, row)) = read_one(&p) {
                    out.entry(group).or_default().push(row);
                }
            } else if p.file_name().is_some_and(|n| n != "base" && n != "report") {
                stack.push(p);
            }
        }
    }
    for rows in out.values_mut() {
        rows.sort_by(|a, b| a.ns.total_cmp(&b.ns));
    }
    out
}

fn read_one(new: &Path) -> Option<(String, Row)> {
    let bench: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(new.join("benchmark.json")).ok()?).ok()?;
    let est: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(new.join("estimates.json")).ok()?).ok()?;
    let group = bench["group_id"].as_str()?.to_owned();
    let id = bench["function_id"].as_str()?.to_owned();
    let elements = bench["throughput"]["Elements"].as_f64().unwrap_or(1.0);
    let median = est["median"]["point_estimate"].as_f64()?;
    Some((
        group,
        Row {
            id,
            ns: median / elements,
        },
    ))
}

fn fmt_ns(ns: f64) -> String {
    if ns >= 10_000.0 {
        format!("{:.1} µs", ns / 1000.0)
    } else if ns >= 100.0 {
        format!("{ns:.0} ns")
    } else {
        format!("{ns:.1} ns")
    }
}

/// Today's date (UTC) from the system clock, as `YYYY-MM-DD`.
fn today() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    // Howard Hinnant's days-to-civil.
    let z = (secs / 86_400) as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|s| s.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .map(|s| s.trim().to_owned())
        .unwrap_or_else(|_| "unknown".into());
    let rustc = std::process::Command::new("rustc")
        .arg("-V")
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_else(|| "rustc (unknown)".into());
    format!("{cpu}, {cores} cores, Linux {kernel}, {rustc}")
}

// ---------------------------------------------------------------------------
// size_of

fn sizes() -> String {
    let mut rows: Vec<(&str, Vec<(&'static str, usize)>)> = Vec::new();
    let mut v = Vec::new();
    for_each_mutex!(push_size_mutex(&mut v));
    rows.push(("Mutex<u64>", v));
    let mut v = Vec::new();
    for_each_rwlock!(push_size_rwlock(&mut v));
    rows.push(("RwLock<u64>", v));
    let mut v = Vec::new();
    for_each_semaphore!(push_size_semaphore(&mut v));
    rows.push(("Semaphore", v));
    let mut v = Vec::new();
    for_each_notify!(push_size_notify(&mut v));
    rows.push(("Notify / event", v));
    let mut s = String::new();
    s.push_str("| primitive | crate | `size_of` (bytes) |\n|---|---|---:|\n");
    for (name, mut v) in rows {
        v.sort_by_key(|&(id, size)| (size, id));
        for (id, size) in v {
            let _ = writeln!(s, "| {name} | {id} | {size} |");
        }
    }
    s
}

fn push_size_mutex<M: BenchMutex>(v: &mut Vec<(&'static str, usize)>) {
    v.push((M::ID, size_of::<M>()));
}
fn push_size_rwlock<L: BenchRwLock>(v: &mut Vec<(&'static str, usize)>) {
    v.push((L::ID, size_of::<L>()));
}
fn push_size_semaphore<S: BenchSemaphore>(v: &mut Vec<(&'static str, usize)>) {
    v.push((S::ID, size_of::<S>()));
}
fn push_size_notify<N: BenchNotify>(v: &mut Vec<(&'static str, usize)>) {
    v.push((N::ID, size_of::<N>()));
}

// ---------------------------------------------------------------------------
// Allocations per contended wait

/// Waiters per measurement.
const K: usize = 8;

type BoxFut<'a> = Pin<Box<dyn Future<Output = ()> + 'a>>;

/// Runs `fut` (built, and so allocated, beforehand) to completion on this
/// thread and returns the heap allocations it made divided by `waits`.
fn allocs_per_wait(waits: usize, fut: BoxFut<'_>) -> f64 {
    // Warm up block_on's thread-local waker.
    futures_executor::block_on(async {});
    let region = Region::new(GLOBAL);
    futures_executor::block_on(fut);
    region.change().allocations as f64 / waits as f64
}

/// `K` tasks lock, yield while holding, unlock: all but the first wait.
fn alloc_mutex<M: BenchMutex>(v: &mut Vec<(&'static str, f64)>) {
    let m = M::create();
    let futs: Vec<_> = (0..K).map(|_| m.critical(true)).collect();
    let all = futures_util::future::join_all(futs);
    v.push((
        M::ID,
        allocs_per_wait(
            K - 1,
            Box::pin(async move {
                all.await;
            }),
        ),
    ));
}

fn alloc_rwlock<L: BenchRwLock>(v: &mut Vec<(&'static str, f64)>) {
    let l = L::create();
    let futs: Vec<_> = (0..K).map(|_| l.write(true)).collect();
    let all = futures_util::future::join_all(futs);
    v.push((
        L::ID,
        allocs_per_wait(
            K - 1,
            Box::pin(async move {
                all.await;
            }),
        ),
    ));
}

fn alloc_semaphore<S: BenchSemaphore>(v: &mut Vec<(&'static str, f64)>) {
    let s = S::create(1);
    let futs: Vec<_> = (0..K).map(|_| s.critical(1, true)).collect();
    let all = futures_util::future::join_all(futs);
    v.push((
        S::ID,
        allocs_per_wait(
            K - 1,
            Box::pin(async move {
                all.await;
            }),
        ),
    ));
}

/// One task waits `K` times; the other notifies after each yield, so every
/// wait finds nothing stored and queues.
fn alloc_notify<N: BenchNotify>(v: &mut Vec<(&'static str, f64)>) {
    let n = N::create();
    let n = &n;
    let fut = async move {
        let waiter = async {
            for _ in 0..K {
                n.wait().await;
            }
        };
        let notifier = async {
            for _ in 0..K {
                yield_now().await;
                n.notify();
                yield_now().await;
            }
        };
        futures_util::future::join(waiter, notifier).await;
    };
    v.push((N::ID, allocs_per_wait(K, Box::pin(fut))));
}

/// A consumer receives `K` messages from an empty channel; the producer
/// sends each after a yield, so every receive waits.
fn alloc_channel<C: BenchChannel>(v: &mut Vec<(&'static str, f64)>) {
    let (tx, mut rx) = C::bounded(64);
    let fut = async move {
        let consumer = async {
            for _ in 0..K {
                C::recv(&mut rx).await;
            }
        };
        let producer = async {
            for i in 0..K as u64 {
                yield_now().await;
                C::send(&tx, i).await;
                yield_now().await;
            }
        };
        futures_util::future::join(consumer, producer).await;
    };
    v.push((C::ID, allocs_per_wait(K, Box::pin(fut))));
}

/// `K` channels made beforehand; each receive waits for its send.
fn alloc_oneshot<O: BenchOneshot>(v: &mut Vec<(&'static str, f64)>) {
    let (txs, rxs): (Vec<_>, Vec<_>) = (0..K).map(|_| O::pair()).unzip();
    // `()` outputs, so `join_all` collects into a `Vec` that needs no heap.
    let recvs: Vec<_> = rxs
        .into_iter()
        .map(|rx| async move {
            std::hint::black_box(O::recv(rx).await);
        })
        .collect();
    let all = futures_util::future::join_all(recvs);
    let fut = async move {
        let sender = async {
            yield_now().await;
            for tx in txs {
                O::send(tx, 1);
            }
        };
        futures_util::future::join(all, sender).await;
    };
    v.push((O::ID, allocs_per_wait(K, Box::pin(fut))));
}

/// Allocations to create, send on and receive from one oneshot channel.
fn alloc_oneshot_create<O: BenchOneshot>(v: &mut Vec<(&'static str, f64)>) {
    let fut = async {
        for _ in 0..K {
            let (tx, rx) = O::pair();
            O::send(tx, 1);
            O::recv(rx).await;
        }
    };
    v.push((O::ID, allocs_per_wait(K, Box::pin(fut))));
}

fn allocations() -> String {
    let mut rows: Vec<(&str, Vec<(&'static str, f64)>)> = Vec::new();
    let mut v = Vec::new();
    for_each_mutex!(alloc_mutex(&mut v));
    rows.push(("Mutex: lock waits", v));
    let mut v = Vec::new();
    for_each_rwlock!(alloc_rwlock(&mut v));
    rows.push(("RwLock: write waits", v));
    let mut v = Vec::new();
    for_each_semaphore!(alloc_semaphore(&mut v));
    rows.push(("Semaphore: acquire waits", v));
    let mut v = Vec::new();
    for_each_notify!(alloc_notify(&mut v));
    rows.push(("Notify / event: wait", v));
    let mut v = Vec::new();
    for_each_channel!(alloc_channel(&mut v));
    rows.push(("Bounded channel: recv waits", v));
    let mut v = Vec::new();
    for_each_oneshot!(alloc_oneshot(&mut v));
    rows.push(("Oneshot: recv waits", v));
    let mut v = Vec::new();
    for_each_oneshot!(alloc_oneshot_create(&mut v));
    rows.push(("Oneshot: create + send + recv (per channel)", v));
    let mut s = String::new();
    s.push_str("| wait | crate | allocations per wait |\n|---|---|---:|\n");
    for (name, mut v) in rows {
        v.sort_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(b.0)));
        for (id, n) in v {
            let _ = writeln!(s, "| {name} | {id} | {n:.2} |");
        }
    }
    s
}

// ---------------------------------------------------------------------------

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut note = None;
    let mut dir_arg = None;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        if a == "--note" {
            note = it.next().cloned();
        } else {
            dir_arg = Some(a);
        }
    }
    let dir = criterion_dir(dir_arg);
    let results = read_results(&dir);
    if results.is_empty() {
        eprintln!(
            "no criterion results under {}: run `cargo bench -p anysync-benches` first",
            dir.display()
        );
        std::process::exit(1);
    }

    let mut fairness = Fairness::default();
    for_each_mutex!(fair_mutex(&mut fairness));
    for_each_rwlock!(fair_rwlock(&mut fairness));
    for_each_semaphore!(fair_semaphore(&mut fairness));

    let mut summary = String::new();
    let mut detail = String::new();
    let mut over = Vec::new();
    summary.push_str(
        "| benchmark | anysync | best same-guarantee peer | ratio | best peer of all | ratio |\n\
         |---|---:|---|---:|---|---:|\n",
    );
    let order = [
        "mutex",
        "rwlock",
        "semaphore",
        "notify",
        "channel",
        "oneshot",
    ];
    let mut groups: Vec<_> = results.iter().collect();
    groups.sort_by_key(|(g, _)| {
        let fam = g.split('/').next().unwrap_or("");
        (
            order.iter().position(|f| *f == fam).unwrap_or(order.len()),
            (*g).clone(),
        )
    });
    for (group, rows) in groups {
        let family = group.split('/').next().unwrap_or("");
        let peers: Vec<&Row> = rows.iter().filter(|r| !is_ours(&r.id)).collect();
        let best_all = peers.first().copied();
        let best_same = peers
            .iter()
            .copied()
            .find(|r| fairness.same_guarantee(family, &r.id));
        let _ = writeln!(
            detail,
            "\n### `{group}`\n\n| crate | median / op | vs best peer |\n|---|---:|---:|"
        );
        for r in rows {
            let ratio = best_all.map_or(String::from("-"), |b| format!("{:.2}", r.ns / b.ns));
            let mark = if fairness.same_guarantee(family, &r.id) {
                ""
            } else {
                " (unfair)"
            };
            let _ = writeln!(detail, "| {}{mark} | {} | {ratio} |", r.id, fmt_ns(r.ns));
        }
        for ours in rows.iter().filter(|r| is_ours(&r.id)) {
            let cell = |b: Option<&Row>| match b {
                Some(b) => (
                    format!("{} {}", b.id, fmt_ns(b.ns)),
                    format!("{:.2}", ours.ns / b.ns),
                ),
                None => ("-".into(), "-".into()),
            };
            let (same, same_ratio) = cell(best_same);
            let (all, all_ratio) = cell(best_all);
            let name = if ours.id == "anysync" {
                format!("`{group}`")
            } else {
                format!("`{group}` ({})", ours.id)
            };
            if best_same.is_some_and(|b| ours.ns > b.ns) {
                over.push(format!("`{group}` ({}): {same_ratio}", ours.id));
            }
            let _ = writeln!(
                summary,
                "| {name} | {} | {same} | {same_ratio} | {all} | {all_ratio} |",
                fmt_ns(ours.ns)
            );
        }
    }

    let mut md = String::new();
    md.push_str("# anysync benchmark results\n\n");
    md.push_str("Generated by `cargo run -p anysync-benches --release --bin report` from the criterion output of\n`cargo bench -p anysync-benches` (see `benches/run.sh`). Do not edit by hand.\n\n");
    let _ = writeln!(md, "* Date: {}", today());
    let _ = writeln!(md, "* Machine: {}", machine());
    if let Some(n) = note {
        let _ = writeln!(md, "* Run: {n}");
    }
    md.push_str(
        "\nEvery time is criterion's **median per operation** (acquisition, round trip, message or \
         channel). \"Same guarantee\" means the peer gives what anysync's default does (strict FIFO \
         hand-off for Mutex, Semaphore and RwLock); unfair peers are marked. A ratio above 1.00 means \
         anysync is slower. The machine is small and shared, so differences under about 10% are noise.\n\n",
    );
    md.push_str("## Summary: anysync against the best peer\n\n");
    md.push_str(&summary);
    if !over.is_empty() {
        md.push_str("\nAbove 1.00 against the best same-guarantee peer in this run: ");
        md.push_str(&over.join("; "));
        md.push_str(". See the notes at the end of `benches/README.md`.\n");
    }
    md.push_str("\n## Every benchmark\n");
    md.push_str(&detail);
    md.push_str("\n## `size_of`\n\nThe primitive itself (payload `u64` where there is one). Wait nodes live in the futures, so they are not counted here.\n\n");
    md.push_str(&sizes());
    md.push_str(&format!(
        "\n## Heap allocations per contended wait\n\nCounted with a counting global allocator (`stats_alloc`) in the report binary: {K} \
         waiters on one thread under `futures_executor::block_on`, futures built before counting, so \
         only what waiting and waking allocate is counted.\n\n"
    ));
    md.push_str(&allocations());

    let out = Path::new(env!("CARGO_MANIFEST_DIR")).join("RESULTS.md");
    std::fs::write(&out, md).expect("write RESULTS.md");
    println!("wrote {} ({} benchmarks)", out.display(), results.len());
}

//! Turns the criterion output of `cargo bench -p anysync-benches` into
//! `benches/RESULTS.md`: per benchmark, each crate's median time per
//! operation, its ratio to the best peer and the fraction of its
//! operations that had to wait (from the benches' `waits.jsonl`); the
//! scaling curves and the Redis round trips in their own sections; plus
//! `size_of` of each primitive of each crate, the heap allocations per
//! contended wait and the memory per waiter of the scaling workload,
//! measured by this binary. The ratio tables and the scaling curves are
//! also drawn as SVG files in `benches/plots/`, embedded in `RESULTS.md`.
//!
//! ```text
//! cargo run -p anysync-benches --release --bin report -- [CRITERION_DIR...] [--note TEXT]
//! ```
//!
//! Given several directories, one per pass of the whole suite, the report
//! takes for each crate of each benchmark the median of its per-pass
//! medians, sums the wait counts, and shows beside each summary ratio to
//! the best same-guarantee peer its range over the passes. With none, it
//! reads the passes `benches/run.sh` left in the target directory
//! (`$CARGO_TARGET_DIR`, else `target` at the workspace root):
//! `criterion-pass-1`, `criterion-pass-2`, ..., or `criterion` if there
//! are none. `benches/run.sh` runs the passes and then this; it also
//! leaves its `--note` in the first pass's `run-note.txt`, which the report
//! uses when it is run again without one.
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
    for_each_semaphore, handoff,
    peers::{BenchChannel, BenchMutex, BenchNotify, BenchOneshot, BenchRwLock, BenchSemaphore},
    plot,
    results::{self, fmt_ns, machine, median, today},
    wait, yield_now,
};
use stats_alloc::{Region, StatsAlloc, INSTRUMENTED_SYSTEM};

#[global_allocator]
static GLOBAL: &StatsAlloc<std::alloc::System> = &INSTRUMENTED_SYSTEM;

/// One crate's result in one benchmark: median time per operation (over
/// the passes, the median of the per-pass medians).
#[derive(Debug, Clone)]
struct Row {
    id: String,
    ns: f64,
    /// Criterion's median per operation in each pass (`None`: the pass has
    /// no result for this row).
    passes: Vec<Option<f64>>,
}

impl Row {
    /// This row's ratio to `best` in each pass that measured both, as
    /// `(lowest, highest)`; `None` with fewer than two such passes.
    fn ratio_range(&self, best: &Row) -> Option<(f64, f64)> {
        let ratios: Vec<f64> = self
            .passes
            .iter()
            .zip(&best.passes)
            .filter_map(|(a, b)| Some((*a)? / (*b)?))
            .collect();
        if ratios.len() < 2 {
            return None;
        }
        let lo = ratios.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = ratios.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        Some((lo, hi))
    }
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

    /// What a peer without the same guarantee is marked with in the tables.
    fn mark(family: &str) -> &'static str {
        match family {
            // anysync's `Pool::get` waits at most 30 s by default; a pool
            // that waits forever saves a timer per wait.
            "pool" => " (no wait timeout)",
            _ => " (unfair)",
        }
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

/// The file in the first pass's directory where `run.sh` keeps the note
/// it passed as `--note`.
const RUN_NOTE: &str = "run-note.txt";

/// The criterion directories named on the command line; else the passes
/// `run.sh` left in the target directory (`criterion-pass-N`, in order of
/// `N`), or its `criterion` directory if there are none.
fn criterion_dirs(args: &[&String]) -> Vec<PathBuf> {
    if !args.is_empty() {
        return args.iter().map(PathBuf::from).collect();
    }
    let target = match std::env::var("CARGO_TARGET_DIR") {
        Ok(t) => PathBuf::from(t),
        Err(_) => Path::new(env!("CARGO_MANIFEST_DIR")).join("../target"),
    };
    let mut passes: Vec<(u32, PathBuf)> = std::fs::read_dir(&target)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let name = e.file_name();
            let n = name
                .to_str()?
                .strip_prefix("criterion-pass-")?
                .parse()
                .ok()?;
            Some((n, e.path()))
        })
        .collect();
    if passes.is_empty() {
        return vec![target.join("criterion")];
    }
    passes.sort();
    passes.into_iter().map(|(_, p)| p).collect()
}

/// Reads the results of every pass (one criterion directory each) and
/// merges them: per group, one row per crate, its time the median of the
/// passes that measured it. Rows are sorted fastest first.
fn read_passes(dirs: &[PathBuf]) -> BTreeMap<String, Vec<Row>> {
    let passes: Vec<_> = dirs.iter().map(|d| read_results(d)).collect();
    for (dir, pass) in dirs.iter().zip(&passes) {
        if pass.is_empty() && dirs.len() > 1 {
            eprintln!("warning: no criterion results under {}", dir.display());
        }
    }
    let mut out: BTreeMap<String, Vec<Row>> = BTreeMap::new();
    for (k, pass) in passes.iter().enumerate() {
        for (group, rows) in pass {
            let merged = out.entry(group.clone()).or_default();
            for (id, ns) in rows {
                let i = match merged.iter().position(|r| r.id == *id) {
                    Some(i) => i,
                    None => {
                        merged.push(Row {
                            id: id.clone(),
                            ns: 0.0,
                            passes: vec![None; passes.len()],
                        });
                        merged.len() - 1
                    }
                };
                merged[i].passes[k] = Some(*ns);
            }
        }
    }
    for rows in out.values_mut() {
        for r in rows.iter_mut() {
            r.ns = median(r.passes.iter().flatten().copied().collect());
        }
        rows.sort_by(|a, b| a.ns.total_cmp(&b.ns));
    }
    out
}

/// Reads every `*/new/benchmark.json` + `estimates.json` under `dir`:
/// per group, `(crate id, median ns per operation)`.
fn read_results(dir: &Path) -> BTreeMap<String, Vec<(String, f64)>> {
    let mut out: BTreeMap<String, Vec<(String, f64)>> = BTreeMap::new();
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
                if let Some(e) = results::read_estimate(&p) {
                    out.entry(e.group).or_default().push((e.id, e.ns));
                }
            } else if p.file_name().is_some_and(|n| n != "base" && n != "report") {
                stack.push(p);
            }
        }
    }
    out
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
    // Warm up block_on's thread-local waker and the wait counters.
    futures_executor::block_on(async {});
    wait::touch();
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
// Wait fractions

/// `(waited, total)` per op, from `waits.jsonl`.
#[derive(Debug, Default, Clone, Copy)]
struct Waits {
    acquire: Option<(u64, u64)>,
    send: Option<(u64, u64)>,
}

/// Reads `waits.jsonl` of every pass and sums the counts over the passes
/// (within one pass, the last line for each group, id and op wins).
fn read_waits(dirs: &[PathBuf]) -> BTreeMap<(String, String), Waits> {
    let mut out: BTreeMap<(String, String), Waits> = BTreeMap::new();
    for dir in dirs {
        for (key, w) in read_waits_one(dir) {
            let sum = out.entry(key).or_default();
            sum.acquire = add(sum.acquire, w.acquire);
            sum.send = add(sum.send, w.send);
        }
    }
    out
}

fn add(a: Option<(u64, u64)>, b: Option<(u64, u64)>) -> Option<(u64, u64)> {
    match (a, b) {
        (Some((w1, t1)), Some((w2, t2))) => Some((w1 + w2, t1 + t2)),
        (x, None) | (None, x) => x,
    }
}

fn read_waits_one(dir: &Path) -> BTreeMap<(String, String), Waits> {
    let mut out: BTreeMap<(String, String), Waits> = BTreeMap::new();
    let text = std::fs::read_to_string(dir.join("waits.jsonl")).unwrap_or_default();
    for line in text.lines() {
        let Ok(v) = serde_json::from_str::<serde_json::Value>(line) else {
            continue;
        };
        let (Some(group), Some(id), Some(op), Some(waited), Some(total)) = (
            v["group"].as_str(),
            v["id"].as_str(),
            v["op"].as_str(),
            v["waited"].as_u64(),
            v["total"].as_u64(),
        ) else {
            continue;
        };
        let w = out.entry((group.to_owned(), id.to_owned())).or_default();
        match op {
            "send" => w.send = Some((waited, total)),
            _ => w.acquire = Some((waited, total)),
        }
    }
    out
}

fn pct((waited, total): (u64, u64)) -> String {
    let p = 100.0 * waited as f64 / total.max(1) as f64;
    if p < 10.0 {
        format!("{p:.1}%")
    } else {
        format!("{p:.0}%")
    }
}

/// "87%", or for channels "recv 87%, send 12%"; "-" if nothing was counted.
fn fmt_waits(w: Option<&Waits>) -> String {
    match w.copied().unwrap_or_default() {
        Waits {
            acquire: Some(a),
            send: Some(s),
        } => format!("recv {}, send {}", pct(a), pct(s)),
        Waits {
            acquire: Some(a), ..
        } => pct(a),
        Waits { send: Some(s), .. } => format!("send {}", pct(s)),
        _ => "-".into(),
    }
}

// ---------------------------------------------------------------------------
// Scaling

/// The scaling section: per primitive, time per hand-off against the
/// number of waiting tasks (table and plot), then memory per waiter.
fn scaling(results: &BTreeMap<String, Vec<Row>>, plots: &Path) -> String {
    let mut md = String::from(
        "\n## Scaling: time per hand-off and memory per waiter\n\n\
         `n` tasks wait on one primitive (each checked to be pending), then a chain of `n` hand-offs \
         lets them through: a release wakes the next waiter, which completes (for `Event`, one `set` \
         releases all `n`; its peer is tokio's `Notify::notify_waiters`). The tasks are driven on one \
         thread by the same minimal ready-queue driver for every crate; building and registering the \
         waiters is not timed. Flat lines mean a constant cost per hand-off.\n",
    );
    for primitive in handoff::primitives() {
        let ids: Vec<&str> = handoff::CASES
            .iter()
            .filter(|c| c.primitive == primitive)
            .map(|c| c.id)
            .collect();
        let slug = primitive.replace(' ', "_");
        let mut series: Vec<plot::Series> = ids.iter().map(|id| (id.to_string(), vec![])).collect();
        let mut table = format!(
            "| waiting tasks | {} |\n|---:|{}\n",
            ids.join(" | "),
            "---:|".repeat(ids.len())
        );
        for n in handoff::SIZES {
            let rows = results.get(&format!("scaling/{slug}/n{n}"));
            let _ = write!(table, "| {n} |");
            for (i, id) in ids.iter().enumerate() {
                let ns = rows
                    .and_then(|r| r.iter().find(|r| r.id == *id))
                    .map(|r| r.ns);
                if let Some(ns) = ns {
                    series[i].1.push((n as f64, ns));
                }
                let _ = write!(table, " {} |", ns.map_or("-".into(), fmt_ns));
            }
            table.push('\n');
        }
        let file = format!("scaling_{slug}.svg");
        let drawn = plot::lines(
            &plots.join(&file),
            &format!("{primitive}: time per hand-off"),
            "waiting tasks",
            "ns per hand-off",
            &series,
        );
        let _ = write!(md, "\n### {primitive}\n\n");
        match drawn {
            Ok(()) => {
                let _ = write!(md, "![{primitive}: time per hand-off](plots/{file})\n\n");
            }
            Err(e) => eprintln!("plot {file}: {e}"),
        }
        md.push_str(&table);
    }
    md.push_str(&memory_per_waiter(plots));
    md
}

/// Size of one waiting future, and heap allocations and bytes per waiter
/// while `n` tasks register and are handed through, for each scaling case.
fn memory_per_waiter(plots: &Path) -> String {
    let mut md = format!(
        "\n### Memory per waiter\n\n`future` is the size of one waiting task's future (the bench's \
         wrapper included, the same for every crate); the other columns are heap bytes (and \
         allocations) per waiter while `n` tasks register and are handed through, counted with \
         `stats_alloc`, the tasks' boxes and wakers excluded. Constant columns mean constant memory \
         per waiter.\n\n| primitive | crate | future (bytes) |{}\n|---|---|---:|{}\n",
        handoff::SIZES.map(|n| format!(" n={n} |")).concat(),
        "---:|".repeat(handoff::SIZES.len())
    );
    let mut series = Vec::new();
    futures_executor::block_on(async {});
    wait::touch();
    for &handoff::Case {
        primitive,
        id,
        make,
    } in handoff::CASES
    {
        let mut size = 0;
        let mut cells = String::new();
        let mut points = Vec::new();
        for n in handoff::SIZES {
            let mut h = make(n);
            size = h.waiter_size();
            let region = Region::new(GLOBAL);
            h.register();
            h.drain();
            let change = region.change();
            let bytes = change.bytes_allocated as f64 / n as f64;
            let allocs = change.allocations as f64 / n as f64;
            let _ = write!(cells, " {bytes:.0} B ({allocs:.2}) |");
            points.push((n as f64, size as f64 + bytes));
        }
        let _ = writeln!(md, "| {primitive} | {id} | {size} |{cells}");
        if id == "anysync" {
            series.push((primitive.to_string(), points));
        }
    }
    let file = "memory_per_waiter.svg";
    match plot::lines(
        &plots.join(file),
        "anysync: bytes per waiter (future + heap)",
        "waiting tasks",
        "bytes per waiter",
        &series,
    ) {
        Ok(()) => {
            let _ = write!(md, "\n![anysync: memory per waiter](plots/{file})\n");
        }
        Err(e) => eprintln!("plot {file}: {e}"),
    }
    md
}

// ---------------------------------------------------------------------------
// Redis

fn redis_section(results: &BTreeMap<String, Vec<Row>>) -> String {
    let mut md = String::from(
        "\n## Redis (anysync-redis)\n\nOne task on tokio's current-thread runtime against a \
         `redis-server` started on a loopback port for the run. `incr` is a plain INCR round trip: \
         the floor any Redis-backed primitive pays. `semaphore_acquire_release` is a `RedisSemaphore` \
         acquire and an explicit release (two scripts); `rate_check` one `RedisRateLimiter` GCRA \
         script call (`try_acquire_n(1)`); `rate_acquire` its waiting form, granted at once.\n\n",
    );
    let Some(rows) = results.get("redis/round_trip") else {
        md.push_str("**Not measured in this run: `redis-server` was not installed (the bench printed SKIPPED).**\n");
        return md;
    };
    let floor = rows.iter().find(|r| r.id == "incr").map(|r| r.ns);
    md.push_str("| operation | median | vs INCR |\n|---|---:|---:|\n");
    for r in rows {
        let ratio = floor.map_or("-".into(), |f| format!("{:.2}", r.ns / f));
        let _ = writeln!(md, "| {} | {} | {ratio} |", r.id, fmt_ns(r.ns));
    }
    md
}

// ---------------------------------------------------------------------------

/// One family's part of the summary.
#[derive(Debug, Default)]
struct Family {
    name: String,
    /// Rows of its summary table.
    table: String,
    /// (row, ratio to the best same-guarantee peer), for its plot.
    ratios: Vec<(String, f64)>,
}

/// Groups with their own sections, not in the summary.
fn own_section(group: &str) -> bool {
    group.starts_with("scaling/") || group.starts_with("redis/")
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut note = None;
    let mut dir_args = Vec::new();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        if a == "--note" {
            note = it.next().cloned();
        } else {
            dir_args.push(a);
        }
    }
    let dirs = criterion_dirs(&dir_args);
    let results = read_passes(&dirs);
    if results.is_empty() {
        eprintln!(
            "no criterion results under {}: run `cargo bench -p anysync-benches` first",
            dirs.iter()
                .map(|d| d.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        );
        std::process::exit(1);
    }
    let waits = read_waits(&dirs);
    // Without `--note`, the one `run.sh` left beside the first pass, so
    // that regenerating the report keeps the run's load averages.
    let note = note.or_else(|| {
        std::fs::read_to_string(dirs[0].join(RUN_NOTE))
            .ok()
            .map(|n| n.trim().to_owned())
    });
    let bench_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let plots = bench_dir.join("plots");
    std::fs::create_dir_all(&plots).expect("create benches/plots");
    for e in std::fs::read_dir(&plots)
        .expect("read benches/plots")
        .flatten()
    {
        if e.path().extension().is_some_and(|x| x == "svg") {
            let _ = std::fs::remove_file(e.path());
        }
    }

    let mut fairness = Fairness::default();
    for_each_mutex!(fair_mutex(&mut fairness));
    for_each_rwlock!(fair_rwlock(&mut fairness));
    for_each_semaphore!(fair_semaphore(&mut fairness));
    // deadpool's default has no wait timeout (`deadpool_wait_timeout` is
    // deadpool given anysync's 30 s).
    fairness.0.insert(("pool", "deadpool"), false);

    let mut summary: Vec<Family> = Vec::new();
    let mut detail = String::new();
    let mut over = Vec::new();
    let order = [
        "mutex",
        "rwlock",
        "semaphore",
        "notify",
        "channel",
        "oneshot",
    ];
    let mut groups: Vec<_> = results.iter().filter(|(g, _)| !own_section(g)).collect();
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
        let counted = rows
            .iter()
            .any(|r| waits.contains_key(&(group.clone(), r.id.clone())));
        let _ = write!(
            detail,
            "\n### `{group}`\n\n| crate | median / op | vs best peer |{}\n|---|---:|---:|{}\n",
            if counted { " waited |" } else { "" },
            if counted { "---:|" } else { "" },
        );
        for r in rows {
            let ratio = best_all.map_or(String::from("-"), |b| format!("{:.2}", r.ns / b.ns));
            let mark = if fairness.same_guarantee(family, &r.id) {
                ""
            } else {
                Fairness::mark(family)
            };
            let w = if counted {
                format!(
                    " {} |",
                    fmt_waits(waits.get(&(group.clone(), r.id.clone())))
                )
            } else {
                String::new()
            };
            let _ = writeln!(detail, "| {}{mark} | {} | {ratio} |{w}", r.id, fmt_ns(r.ns));
        }
        if summary.last().is_none_or(|f| f.name != family) {
            summary.push(Family {
                name: family.to_owned(),
                ..Family::default()
            });
        }
        let fam = summary.last_mut().expect("pushed above");
        // A peer's fraction of waits, where counted: an unfair lock can
        // lead by letting one task keep it.
        let waited = |id: &str| match waits.get(&(group.clone(), id.to_owned())) {
            Some(w) => format!(" ({} waited)", fmt_waits(Some(w))),
            None => String::new(),
        };
        for ours in rows.iter().filter(|r| is_ours(&r.id)) {
            let cell = |b: Option<&Row>| match b {
                Some(b) => (
                    format!("{} {}{}", b.id, fmt_ns(b.ns), waited(&b.id)),
                    format!("{:.2}", ours.ns / b.ns),
                ),
                None => ("-".into(), "-".into()),
            };
            let (same, same_ratio) = cell(best_same);
            let range = best_same
                .and_then(|b| ours.ratio_range(b))
                .map_or("-".into(), |(lo, hi)| format!("{lo:.2}-{hi:.2}"));
            let (all, all_ratio) = cell(best_all);
            let (name, label) = if ours.id == "anysync" {
                (format!("`{group}`"), group.clone())
            } else {
                (
                    format!("`{group}` ({})", ours.id),
                    format!("{group} ({})", ours.id),
                )
            };
            if let Some(b) = best_same {
                fam.ratios.push((label, ours.ns / b.ns));
                if ours.ns > b.ns {
                    over.push(format!("`{group}` ({}): {same_ratio}", ours.id));
                }
            }
            let w = fmt_waits(waits.get(&(group.clone(), ours.id.clone())));
            let _ = writeln!(
                fam.table,
                "| {name} | {} | {w} | {same} | {same_ratio} | {range} | {all} | {all_ratio} |",
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
    if dirs.len() > 1 {
        let _ = writeln!(
            md,
            "* Passes: {}; each crate's time in each benchmark is the median of its per-pass medians",
            dirs.len()
        );
    }
    md.push_str(
        "\nEvery time is criterion's **median per operation** (acquisition, round trip, message or \
         channel); with several passes of the whole suite, the median of the passes' medians, and \
         **per pass** gives the lowest and highest ratio to the best same-guarantee peer that one \
         pass measured. \"Same guarantee\" means the peer gives what anysync's default does (strict \
         FIFO hand-off for Mutex, Semaphore and RwLock; a wait timeout for Pool); other peers are \
         marked. A ratio above 1.00 means anysync is slower. The machine is small and shared, so differences under about 10% are noise.\n\n\
         **waited** is the fraction of acquisitions (receives and sends for channels, waits for \
         notifiers) whose first poll returned `Pending`: counted by one wrapper future around each \
         crate's own future, the same for every crate (`benches/src/wait.rs`). A contended row with a \
         low fraction measures the uncontended path under parallel load, not the wait queue.\n\n",
    );
    md.push_str("## Summary: anysync against the best peer\n");
    for Family {
        name: family,
        table,
        ratios: bars,
    } in &summary
    {
        let _ = write!(md, "\n### {family}\n\n");
        if !bars.is_empty() {
            let file = format!("ratios_{family}.svg");
            match plot::ratios(&plots.join(&file), family, bars) {
                Ok(()) => {
                    let _ = write!(
                        md,
                        "![{family}: ratio to the best same-guarantee peer](plots/{file})\n\n"
                    );
                }
                Err(e) => eprintln!("plot {file}: {e}"),
            }
        }
        md.push_str(
            "| benchmark | anysync | waited | best same-guarantee peer | ratio | per pass | best peer of all | ratio |\n\
             |---|---:|---:|---|---:|---:|---|---:|\n",
        );
        md.push_str(table);
    }
    if !over.is_empty() {
        md.push_str("\nAbove 1.00 against the best same-guarantee peer in this run: ");
        md.push_str(&over.join("; "));
        md.push_str(". See the notes at the end of `benches/README.md`.\n");
    }
    md.push_str(&scaling(&results, &plots));
    md.push_str(&redis_section(&results));
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

    let out = bench_dir.join("RESULTS.md");
    std::fs::write(&out, md).expect("write RESULTS.md");
    println!("wrote {} ({} benchmarks)", out.display(), results.len());
}

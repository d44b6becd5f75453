//! Settles whether a summary row of `benches/RESULTS.md` is above its best
//! peer, where a full run cannot: it measures anysync's function of the
//! row and the peer's in turns, A B, B A, A B, ..., each in a fresh
//! process a second or two after the other, and reports the median of the
//! per-pair ratios with an interval for it.
//!
//! ```text
//! cargo run -p anysync-benches --release --bin ab -- [OPTIONS] [ROW...]
//! ```
//!
//! * `ROW`: part of a row's label as `RESULTS.md` prints it
//!   (`mutex/hold_across_yield/tokio_mt2/t64`,
//!   `ping_pong/smol (anysync_event)`).
//!   Without one: every row whose ratio in `RESULTS.md` is above
//!   `--above`.
//! * `--all`: every summary row.
//! * `--above X` (1.05), `--pairs N` (20), `--warm-up S` (0.3),
//!   `--measure S` (1.0), `--sample-size N` (20): which rows, how many
//!   pairs, and criterion's settings for each function. Whatever rows
//!   `--above` picks, the verdict is against the issue's bar, 1.05.
//! * `--against ID`: compare with the group's function `ID` instead of
//!   the best peer (`--against anysync notify/ping_pong` sets `Event`'s
//!   rows against `Notify`'s).
//! * `--results FILE`: where the rows and their best peers are read
//!   (`benches/RESULTS.md`).
//! * `--out FILE`: also write the table, with the date, the machine and
//!   the load average before and after, to `FILE` (`benches/AB.md` is
//!   the one kept in the repository).
//!
//! Why pairs: on a machine of two processors, one criterion function can
//! land whole in a fast or a slow state of the machine and of the
//! runtime's workers, so two rows measured minutes apart in a full run
//! differ by more than the 5% this is about. Two functions measured one
//! right after the other, in alternating order, mostly share that state;
//! the median of many such ratios is what is left. The interval comes
//! from the sign test: it holds the median of the pair ratios with the
//! confidence printed, assuming only that pairs are independent.
//!
//! The benches are built first (`cargo bench --no-run`, honouring
//! `CARGO_TARGET_DIR`); each measurement runs a bench binary with
//! `--exact` and its own `CRITERION_HOME` in the temporary directory, so
//! nothing of a full run's output is touched. A group that sets its own
//! sample size or times in code keeps them (criterion lets a group's
//! settings override the command line's): the `task`, `channel` and
//! `scaling` benches' slow groups do.
//!
//! Limits: rows are picked by the ratio `RESULTS.md` prints, rounded to
//! two decimals (`--above 1.05` skips a row printed as 1.05); a row is
//! judged by its median, and an interval that reaches across 1.05 is
//! said so, not resolved; the confidence assumes independent pairs,
//! which two measurements taken back to back on a machine that stays in
//! one state for seconds only approach.
#![forbid(unsafe_code)]
// A std-only package: the core-first import lints of the workspace do not
// apply.
#![allow(clippy::std_instead_of_core, clippy::std_instead_of_alloc)]

use std::{
    collections::BTreeMap,
    fmt::Write as _,
    path::{Path, PathBuf},
    process::{Command, Stdio},
};

use anysync_benches::results::{fmt_ns, load_average, machine, median, read_estimate, today};

/// The bar a row is judged against: at most 1.05 times its best peer.
const BAR: f64 = 1.05;

/// The command line.
struct Opts {
    rows: Vec<String>,
    all: bool,
    above: f64,
    pairs: usize,
    warm_up: f64,
    measure: f64,
    sample_size: usize,
    against: Option<String>,
    results: PathBuf,
    out: Option<PathBuf>,
}

fn usage(problem: &str) -> ! {
    eprintln!("ab: {problem}");
    eprintln!(
        "usage: ab [--all] [--above X] [--pairs N] [--warm-up S] [--measure S] \
         [--sample-size N] [--against ID] [--results FILE] [--out FILE] [ROW...]"
    );
    std::process::exit(2)
}

fn parse_opts() -> Opts {
    let root = workspace_root();
    let mut o = Opts {
        rows: Vec::new(),
        all: false,
        above: 1.05,
        pairs: 20,
        warm_up: 0.3,
        measure: 1.0,
        sample_size: 20,
        against: None,
        results: root.join("benches/RESULTS.md"),
        out: None,
    };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut value = |name: &str| {
            args.next()
                .unwrap_or_else(|| usage(&format!("{name} needs a value")))
        };
        fn num<T: std::str::FromStr>(name: &str, v: &str) -> T {
            v.parse()
                .unwrap_or_else(|_| usage(&format!("{name}: '{v}' is not a number")))
        }
        match a.as_str() {
            "--all" => o.all = true,
            "--above" => o.above = num("--above", &value("--above")),
            "--pairs" => o.pairs = num("--pairs", &value("--pairs")),
            "--warm-up" => o.warm_up = num("--warm-up", &value("--warm-up")),
            "--measure" => o.measure = num("--measure", &value("--measure")),
            "--sample-size" => o.sample_size = num("--sample-size", &value("--sample-size")),
            "--against" => o.against = Some(value("--against")),
            "--results" => o.results = value("--results").into(),
            "--out" => o.out = Some(value("--out").into()),
            s if s.starts_with("--") => usage(&format!("unknown option {s}")),
            _ => o.rows.push(a),
        }
    }
    if o.pairs < 2 {
        usage("--pairs must be at least 2");
    }
    if o.sample_size < 10 {
        usage("--sample-size must be at least 10 (criterion's minimum)");
    }
    if !(o.warm_up > 0.0 && o.measure > 0.0) {
        usage("--warm-up and --measure must be positive");
    }
    o
}

/// The workspace this binary was built from (benches' parent).
fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("benches/ has a parent")
        .to_path_buf()
}

/// One summary row of `RESULTS.md`.
#[derive(Debug)]
struct Row {
    /// The label as printed, without backticks.
    label: String,
    group: String,
    ours: String,
    peer: String,
    ratio: f64,
}

/// The summary rows of `RESULTS.md`: `| \`group\` (id) | ours | waited |
/// peer time (waited) | ratio | ...`.
fn read_rows(results: &Path) -> Vec<Row> {
    let text = std::fs::read_to_string(results)
        .unwrap_or_else(|e| usage(&format!("cannot read {}: {e}", results.display())));
    let mut rows = Vec::new();
    for line in text.lines().filter(|l| l.starts_with("| `")) {
        let cols: Vec<&str> = line.split('|').map(str::trim).collect();
        if cols.len() < 7 {
            continue;
        }
        let Some((group, rest)) = cols[1].strip_prefix('`').and_then(|s| s.split_once('`')) else {
            continue;
        };
        let ours = rest
            .trim()
            .strip_prefix('(')
            .and_then(|s| s.strip_suffix(')'))
            .unwrap_or("anysync");
        let Some(peer) = cols[4].split_whitespace().next() else {
            continue;
        };
        let Ok(ratio) = cols[5].parse::<f64>() else {
            continue;
        };
        rows.push(Row {
            label: if rest.trim().is_empty() {
                group.to_owned()
            } else {
                format!("{group} {}", rest.trim())
            },
            group: group.to_owned(),
            ours: ours.to_owned(),
            peer: peer.to_owned(),
            ratio,
        });
    }
    rows
}

/// Builds the benches and returns each bench binary's path, by name.
fn build_benches(root: &Path) -> BTreeMap<String, PathBuf> {
    let out = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .current_dir(root)
        .args([
            "bench",
            "-p",
            "anysync-benches",
            "--no-run",
            "--message-format=json-render-diagnostics",
        ])
        .stderr(Stdio::inherit())
        .output()
        .expect("run cargo bench --no-run");
    assert!(out.status.success(), "ab: building the benches failed");
    let mut exes = BTreeMap::new();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let Ok(msg) = serde_json::from_str::<serde_json::Value>(line) else {
            continue;
        };
        let is_bench = msg["target"]["kind"]
            .as_array()
            .is_some_and(|k| k.iter().any(|k| k == "bench"));
        if let (true, Some(name), Some(exe)) = (
            is_bench,
            msg["target"]["name"].as_str(),
            msg["executable"].as_str(),
        ) {
            exes.insert(name.to_owned(), PathBuf::from(exe));
        }
    }
    exes
}

/// Which bench binary runs each criterion function (`group/id`), from
/// each binary's `--list`. The Redis bench is left out: it needs a server
/// and has no summary row.
fn list_functions(exes: &BTreeMap<String, PathBuf>) -> BTreeMap<String, PathBuf> {
    let mut map = BTreeMap::new();
    for (name, exe) in exes.iter().filter(|(n, _)| n.as_str() != "redis") {
        let out = Command::new(exe)
            .args(["--bench", "--list"])
            .stderr(Stdio::null())
            .output()
            .unwrap_or_else(|e| panic!("ab: run {name} --list: {e}"));
        for line in String::from_utf8_lossy(&out.stdout).lines() {
            if let Some(id) = line.strip_suffix(": benchmark") {
                map.insert(id.to_owned(), exe.clone());
            }
        }
    }
    map
}

/// Measures one criterion function in a fresh process; nanoseconds per
/// operation.
fn measure(exe: &Path, id: &str, o: &Opts, scratch: &Path) -> f64 {
    // The scratch directory may not exist yet: nothing to remove then.
    let _ = std::fs::remove_dir_all(scratch);
    let out = Command::new(exe)
        .args(["--bench", "--exact", id, "--noplot"])
        .arg("--warm-up-time")
        .arg(o.warm_up.to_string())
        .arg("--measurement-time")
        .arg(o.measure.to_string())
        .arg("--sample-size")
        .arg(o.sample_size.to_string())
        .env("CRITERION_HOME", scratch)
        .env_remove("ANYSYNC_BENCH_QUICK")
        .env_remove("ANYSYNC_BENCH_PASSES")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .unwrap_or_else(|e| panic!("ab: run {}: {e}", exe.display()));
    assert!(
        out.status.success(),
        "ab: measuring {id} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut found = None;
    let mut stack = vec![scratch.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.file_name().is_some_and(|n| n == "new") {
                found = read_estimate(&p).filter(|e| format!("{}/{}", e.group, e.id) == id);
            } else if p.is_dir() {
                stack.push(p);
            }
        }
    }
    found
        .unwrap_or_else(|| panic!("ab: criterion wrote no estimate for {id}"))
        .ns
}

/// Waits, up to five minutes, for the one-minute load average to fall
/// below 1 (the build just before, or anything else, would compete with
/// the measurements), as `benches/run.sh` does.
fn wait_quiet() {
    for _ in 0..60 {
        let load = std::fs::read_to_string("/proc/loadavg")
            .ok()
            .and_then(|s| s.split_whitespace().next()?.parse::<f64>().ok());
        // No load average to read (not Linux): nothing to wait for.
        if !matches!(load, Some(l) if l >= 1.0) {
            return;
        }
        std::thread::sleep(std::time::Duration::from_secs(5));
    }
    eprintln!("ab: the load average stayed at 1 or above");
}

/// The checked-out commit, with `+` if the tree has changes (`unknown`
/// without git).
fn commit(root: &Path) -> String {
    let git = |args: &[&str]| {
        Command::new("git")
            .current_dir(root)
            .args(args)
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
    };
    match (
        git(&["rev-parse", "--short", "HEAD"]),
        git(&["status", "--porcelain", "--untracked-files=no"]),
    ) {
        (Some(rev), Some(changes)) if !changes.is_empty() => format!("{rev}+"),
        (Some(rev), _) => rev,
        (None, _) => "unknown".into(),
    }
}

/// `P(X <= k)` for `X ~ Binomial(n, 1/2)`.
fn binomial_cdf(n: usize, k: usize) -> f64 {
    let mut c = 1.0f64; // C(n, 0)
    let mut sum = 0.0;
    for i in 0..=k.min(n) {
        if i > 0 {
            c = c * (n - i + 1) as f64 / i as f64;
        }
        sum += c;
    }
    sum / 2f64.powi(n as i32)
}

/// A sign-test interval for the median of `sorted` (ascending), as
/// `(low, high, confidence)`: the narrowest pair of order statistics whose
/// confidence is at least 90%, or the whole range (and its confidence)
/// if there are too few values for that.
fn median_interval(sorted: &[f64]) -> (f64, f64, f64) {
    let n = sorted.len();
    // The k-th value from each end bounds the interval (k - 1 are cut);
    // its confidence is 1 - 2 P(X <= k - 1).
    let mut k = 1;
    while k < n / 2 && 1.0 - 2.0 * binomial_cdf(n, k) >= 0.90 {
        k += 1;
    }
    (
        sorted[k - 1],
        sorted[n - k],
        1.0 - 2.0 * binomial_cdf(n, k - 1),
    )
}

/// The result of one row.
struct Outcome<'a> {
    row: &'a Row,
    ours_ns: f64,
    peer_ns: f64,
    ratios: Vec<f64>,
}

impl Outcome<'_> {
    fn line(&self) -> String {
        let mut sorted = self.ratios.clone();
        sorted.sort_by(f64::total_cmp);
        let m = median(sorted.clone());
        let (lo, hi, conf) = median_interval(&sorted);
        let faster = self.ratios.iter().filter(|r| **r < 1.0).count();
        let verdict = match (m <= BAR, hi <= BAR, lo > BAR) {
            (true, true, _) => format!("at most {BAR}"),
            (true, false, _) => format!("at most {BAR} (median; the interval reaches above)"),
            (false, _, true) => format!("above {BAR}"),
            (false, _, false) => format!("above {BAR} (median; the interval reaches below)"),
        };
        format!(
            "| `{}` | {} {} | {} {} | {:.2} | {:.2}-{:.2} ({:.0}%) | {} of {} | {:.2} | {verdict} |",
            self.row.label,
            self.row.ours,
            fmt_ns(self.ours_ns),
            self.row.peer,
            fmt_ns(self.peer_ns),
            m,
            lo,
            hi,
            conf * 100.0,
            faster,
            self.ratios.len(),
            self.row.ratio,
        )
    }
}

fn main() {
    let o = parse_opts();
    let root = workspace_root();
    // Read before the long run, so that edits made meanwhile do not count.
    let measured = commit(&root);
    let rows: Vec<Row> = read_rows(&o.results)
        .into_iter()
        .map(|mut r| {
            if let Some(id) = &o.against {
                r.peer.clone_from(id);
            }
            r
        })
        .filter(|r| r.ours != r.peer)
        .filter(|r| {
            if o.all {
                true
            } else if o.rows.is_empty() {
                r.ratio > o.above
            } else {
                o.rows.iter().any(|p| r.label.contains(p.as_str()))
            }
        })
        .collect();
    if rows.is_empty() {
        usage("no summary row of RESULTS.md matches");
    }
    let functions = list_functions(&build_benches(&root));
    let scratch = std::env::temp_dir().join(format!("anysync-ab-{}", std::process::id()));
    wait_quiet();
    let load_before = load_average();
    let start = std::time::Instant::now();
    let mut outcomes = Vec::new();
    for row in &rows {
        let ids = [
            format!("{}/{}", row.group, row.ours),
            format!("{}/{}", row.group, row.peer),
        ];
        let exes: Vec<&PathBuf> = ids
            .iter()
            .map(|id| {
                functions
                    .get(id)
                    .unwrap_or_else(|| panic!("ab: no bench has a function {id}"))
            })
            .collect();
        let (mut ours, mut peer, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
        for pair in 0..o.pairs {
            // Alternate which goes first, so that a drift of the machine
            // over the pair does not always favour the same side.
            let (a, b) = if pair % 2 == 0 {
                let a = measure(exes[0], &ids[0], &o, &scratch);
                (a, measure(exes[1], &ids[1], &o, &scratch))
            } else {
                let b = measure(exes[1], &ids[1], &o, &scratch);
                (measure(exes[0], &ids[0], &o, &scratch), b)
            };
            ours.push(a);
            peer.push(b);
            ratios.push(a / b);
        }
        let outcome = Outcome {
            row,
            ours_ns: median(ours),
            peer_ns: median(peer),
            ratios,
        };
        eprintln!("{}", outcome.line());
        outcomes.push(outcome);
    }
    // Best effort: a left-over scratch directory in the temporary
    // directory is harmless.
    let _ = std::fs::remove_dir_all(&scratch);
    let mut md = String::new();
    let _ = writeln!(md, "# A/B runs\n");
    let other = o.against.as_ref().map_or_else(
        || "the best peer's (as `RESULTS.md` names it)".to_owned(),
        |id| format!("the group's `{id}`"),
    );
    let _ = writeln!(
        md,
        "Generated by `cargo run -p anysync-benches --release --bin ab`: for each row, \
         anysync's function and {other} measured in turns, {} pairs, alternating which \
         goes first, each function in a fresh process ({} s of warm-up, {} s of \
         measurement, {} samples). The ratio is the median of the per-pair ratios; the \
         interval holds it with the confidence shown (sign test).\n",
        o.pairs, o.warm_up, o.measure, o.sample_size
    );
    let _ = writeln!(md, "* Date: {}", today());
    let _ = writeln!(md, "* Machine: {}", machine());
    let _ = writeln!(md, "* Commit: {measured}");
    let _ = writeln!(
        md,
        "* Load average before: {load_before}; after: {} ({} s of measurements)",
        load_average(),
        start.elapsed().as_secs()
    );
    let _ = writeln!(md);
    let _ = writeln!(
        md,
        "| row | anysync | compared with | ratio | interval | anysync faster in | RESULTS.md ratio to the best peer | verdict |"
    );
    let _ = writeln!(md, "|---|---|---|---:|---|---|---:|---|");
    for outcome in &outcomes {
        let _ = writeln!(md, "{}", outcome.line());
    }
    print!("{md}");
    if let Some(path) = &o.out {
        std::fs::write(path, &md).unwrap_or_else(|e| panic!("ab: write {}: {e}", path.display()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binomial_cdf_of_ten() {
        // 1 + 10 = 11 of 1024 outcomes have at most one success.
        assert!((binomial_cdf(10, 1) - 11.0 / 1024.0).abs() < 1e-12);
        assert!((binomial_cdf(10, 10) - 1.0).abs() < 1e-12);
    }

    #[test]
    fn the_interval_of_ten_cuts_one_from_each_end() {
        let v: Vec<f64> = (1..=10).map(f64::from).collect();
        // Cutting two from each end would leave 89% (< 90%).
        let (lo, hi, conf) = median_interval(&v);
        assert_eq!((lo, hi), (2.0, 9.0));
        assert!((conf - (1.0 - 22.0 / 1024.0)).abs() < 1e-12);
    }

    #[test]
    fn a_row_label_gives_group_ids_and_ratio() {
        let dir = std::env::temp_dir().join(format!("anysync-ab-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("RESULTS.md");
        std::fs::write(
            &file,
            "| `notify/ping_pong/smol` (anysync_event) | 667 ns | 96% | futures_intrusive 533 ns (100% waited) | 1.25 | 1.03-1.48 | x | 1.25 |\n\
             | `mutex/uncontended` | 27.5 ns | - | futures_intrusive_fair 38.8 ns | 0.71 | 0.65-0.77 | x | 1.06 |\n",
        )
        .unwrap();
        let rows = read_rows(&file);
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].label, "notify/ping_pong/smol (anysync_event)");
        assert_eq!(
            (
                rows[0].group.as_str(),
                rows[0].ours.as_str(),
                rows[0].peer.as_str()
            ),
            (
                "notify/ping_pong/smol",
                "anysync_event",
                "futures_intrusive"
            )
        );
        assert_eq!(rows[0].ratio, 1.25);
        assert_eq!((rows[1].ours.as_str(), rows[1].ratio), ("anysync", 0.71));
    }
}

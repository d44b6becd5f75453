//! Reading criterion's output and describing the run: what the `report`
//! and `ab` binaries share.

use std::path::Path;

/// The median of `v` (the mean of the middle two for an even count).
///
/// # Panics
/// If `v` is empty.
pub fn median(mut v: Vec<f64>) -> f64 {
    assert!(!v.is_empty(), "median: `v` is empty");
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// One criterion function's result, from its `new` directory.
#[derive(Debug, Clone)]
pub struct Estimate {
    /// The group (the benchmark, `mutex/contended/smol/t8`).
    pub group: String,
    /// The function in the group (the crate id, `anysync`).
    pub id: String,
    /// Criterion's median time per iteration, divided by the group's
    /// `Throughput::Elements`: nanoseconds per operation.
    pub ns: f64,
}

/// Reads `benchmark.json` and `estimates.json` in a criterion `new`
/// directory. `None` if either is missing or not what criterion writes.
pub fn read_estimate(new: &Path) -> Option<Estimate> {
    let read = |name: &str| -> Option<serde_json::Value> {
        serde_json::from_str(&std::fs::read_to_string(new.join(name)).ok()?).ok()
    };
    let bench = read("benchmark.json")?;
    let est = read("estimates.json")?;
    let elements = bench["throughput"]["Elements"].as_f64().unwrap_or(1.0);
    Some(Estimate {
        group: bench["group_id"].as_str()?.to_owned(),
        id: bench["function_id"].as_str()?.to_owned(),
        ns: est["median"]["point_estimate"].as_f64()? / elements,
    })
}

/// A time per operation with three significant figures (`µs` from 10 µs).
pub fn fmt_ns(ns: f64) -> String {
    if ns >= 10_000.0 {
        format!("{:.1} µs", ns / 1000.0)
    } else if ns >= 100.0 {
        format!("{ns:.0} ns")
    } else {
        format!("{ns:.1} ns")
    }
}

/// Today's date (UTC) from the system clock, as `YYYY-MM-DD`.
pub fn today() -> String {
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

/// The processor, core count, kernel and compiler, on one line.
pub fn machine() -> String {
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

/// The load averages over 1, 5 and 15 minutes, as `/proc/loadavg` gives
/// them (`unknown` elsewhere).
pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg").map_or_else(
        |_| "unknown".into(),
        |s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "),
    )
}

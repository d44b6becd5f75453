//! Counting how many operations of a workload actually had to wait.
//!
//! A contended bench is only honest if its tasks really queue. [`count`]
//! wraps one acquisition, send, receive or wait: if its first poll returns
//! `Pending`, the operation waited. The wrapper is the same for anysync
//! and every peer (the provided methods of the lock and semaphore traits
//! in [`peers`](crate::peers) put it around each crate's own future), so
//! it costs every crate the same.
//!
//! Counters are per thread (plain loads and stores, no shared cache line,
//! no read-modify-write), registered once per thread in a global list.
//! [`record`] sums and resets them after a criterion function has run (its
//! tasks have all finished by then) and writes the totals to
//! `<criterion dir>/waits.jsonl`, one JSON object per line:
//! `{"group": .., "id": .., "op": "acquire" | "send", "waited": .., "total": ..}`.
//! The report reads the last line for each group, id and op.

use std::{
    cell::OnceCell,
    future::{poll_fn, Future},
    io::Write as _,
    path::PathBuf,
    pin::pin,
    sync::{
        atomic::{AtomicBool, AtomicU64, Ordering},
        Arc, Mutex,
    },
};

/// What kind of operation is counted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    /// An acquisition, a receive or a wait for a notification.
    Acquire = 0,
    /// A send into a bounded channel.
    Send = 1,
}

impl Op {
    /// The name in `waits.jsonl`.
    pub fn name(self) -> &'static str {
        match self {
            Op::Acquire => "acquire",
            Op::Send => "send",
        }
    }
}

/// One thread's counters: `[waited, total]` per [`Op`].
#[derive(Debug, Default)]
struct Counters([[AtomicU64; 2]; 2]);

static THREADS: Mutex<Vec<Arc<Counters>>> = Mutex::new(Vec::new());

thread_local!(
    static MINE: OnceCell<Arc<Counters>> = const { OnceCell::new() };
);

fn bump(op: Op, waited: bool) {
    MINE.with(|mine| {
        let c = mine.get_or_init(|| {
            let c = Arc::new(Counters::default());
            THREADS.lock().unwrap().push(c.clone());
            c
        });
        // Only this thread writes its counters, so a load and a store are
        // enough (no read-modify-write on the hot path).
        let [w, t] = &c.0[op as usize];
        if waited {
            w.store(w.load(Ordering::Relaxed) + 1, Ordering::Relaxed);
        }
        t.store(t.load(Ordering::Relaxed) + 1, Ordering::Relaxed);
    });
}

/// Off while [`paused`]: the uncontended benches pay one relaxed load.
static ON: AtomicBool = AtomicBool::new(true);

/// Stops counting until the returned guard is dropped (the one-task
/// workloads of [`uncontended`](crate::uncontended), where nothing waits).
pub fn paused() -> impl Drop {
    struct Resume;
    impl Drop for Resume {
        fn drop(&mut self) {
            ON.store(true, Ordering::Relaxed);
        }
    }
    ON.store(false, Ordering::Relaxed);
    Resume
}

/// Runs `fut` and counts one `op` on this thread when it completes, as a
/// wait if its first poll returned `Pending`.
pub async fn count<F: Future>(op: Op, fut: F) -> F::Output {
    if !ON.load(Ordering::Relaxed) {
        return fut.await;
    }
    let mut fut = pin!(fut);
    let mut polls = 0u32;
    poll_fn(|cx| {
        polls += 1;
        let p = fut.as_mut().poll(cx);
        if p.is_ready() {
            bump(op, polls > 1);
        }
        p
    })
    .await
}

/// Sums every thread's counters for `op` and sets them to zero:
/// `(waited, total)`. Call it only while no counted task runs.
pub fn take(op: Op) -> (u64, u64) {
    let threads = THREADS.lock().unwrap();
    let mut sum = (0, 0);
    for c in threads.iter() {
        let [w, t] = &c.0[op as usize];
        sum.0 += w.swap(0, Ordering::Relaxed);
        sum.1 += t.swap(0, Ordering::Relaxed);
    }
    sum
}

/// Makes this thread's counters now, so that a later [`count`] on it
/// allocates nothing (the report counts allocations).
pub fn touch() {
    bump(Op::Acquire, false);
    take(Op::Acquire);
}

/// Where criterion writes: `CRITERION_HOME`, else `$CARGO_TARGET_DIR/criterion`,
/// else the target dir this bench binary was built in (`<target>/release/deps/<bench>`).
pub fn criterion_dir() -> PathBuf {
    if let Some(home) = std::env::var_os("CRITERION_HOME") {
        return home.into();
    }
    if let Some(target) = std::env::var_os("CARGO_TARGET_DIR") {
        return PathBuf::from(target).join("criterion");
    }
    let exe = std::env::current_exe().expect("the bench binary's path");
    exe.ancestors()
        .nth(3)
        .expect("<target>/<profile>/deps/<bench>")
        .join("criterion")
}

/// Takes the counters (see [`take`]) and, for each op that was counted,
/// appends a line for criterion function `id` of `group` to
/// `waits.jsonl`.
pub fn record(group: &str, id: &str) {
    let mut lines = String::new();
    for op in [Op::Acquire, Op::Send] {
        let (waited, total) = take(op);
        if total > 0 {
            lines.push_str(
                &serde_json::json!({
                    "group": group, "id": id, "op": op.name(), "waited": waited, "total": total,
                })
                .to_string(),
            );
            lines.push('\n');
        }
    }
    if lines.is_empty() {
        return;
    }
    let dir = criterion_dir();
    std::fs::create_dir_all(&dir).expect("create the criterion dir");
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join("waits.jsonl"))
        .and_then(|mut f| f.write_all(lines.as_bytes()))
        .expect("append to waits.jsonl");
}

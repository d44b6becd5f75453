//! The `graceful_shutdown` example as a user would run it: a child process
//! on each runtime, sent real signals with `kill`, judged by its output and
//! exit code.
#![cfg(unix)]
#![forbid(unsafe_code)]

use std::{
    io::{BufRead, BufReader},
    process::{Child, Command, Stdio},
    sync::mpsc::{self, Receiver},
    thread,
    time::Duration,
};

/// How long any one expected line may take: a watchdog, not a pace.
const LIMIT: Duration = Duration::from_secs(60);

struct Example {
    child: Child,
    lines: Receiver<String>,
    seen: Vec<String>,
}

impl Example {
    fn start(runtime: &str, extra: &[&str]) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_graceful_shutdown"))
            .args(["--runtime", runtime])
            .args(extra)
            .stdout(Stdio::piped())
            .spawn()
            .expect("failed to start the example");
        let stdout = child.stdout.take().unwrap();
        let (tx, lines) = mpsc::channel();
        thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                if tx.send(line.unwrap()).is_err() {
                    break;
                }
            }
        });
        Example {
            child,
            lines,
            seen: Vec::new(),
        }
    }

    /// Reads lines until one starts with `prefix`; returns it.
    fn expect_line(&mut self, prefix: &str) -> String {
        loop {
            match self.lines.recv_timeout(LIMIT) {
                Ok(line) => {
                    self.seen.push(line.clone());
                    if line.starts_with(prefix) {
                        return line;
                    }
                }
                Err(e) => {
                    let _ = self.child.kill();
                    panic!(
                        "no line starting {prefix:?} ({e}); output so far: {:?}",
                        self.seen
                    );
                }
            }
        }
    }

    fn signal(&self, name: &str) {
        // The shell's own `kill`, so no separate binary is needed.
        let status = Command::new("sh")
            .args(["-c", &format!("kill -{name} {}", self.child.id())])
            .status()
            .expect("failed to run sh");
        assert!(status.success(), "kill -{name} failed");
    }

    /// Waits for the exit code, with the watchdog.
    fn exit_code(mut self) -> i32 {
        let (tx, rx) = mpsc::channel();
        let mut child = self.child;
        let waiter = thread::spawn(move || {
            let status = child.wait().expect("wait failed");
            let _ = tx.send(());
            status
        });
        if rx.recv_timeout(LIMIT).is_err() {
            panic!("the example did not exit; output: {:?}", self.seen);
        }
        // Drain the rest of the output for the record.
        self.seen.extend(self.lines.try_iter());
        waiter.join().unwrap().code().expect("ended by a signal")
    }
}

fn sigterm_drains_cleanly_and_exits_0(runtime: &str) {
    let mut example = Example::start(runtime, &[]);
    example.expect_line("ready");
    // Work is in flight when the signal arrives.
    example.expect_line("job 2 started");
    example.signal("TERM");
    example.expect_line("draining");
    let report = example.expect_line("shutdown on SIGTERM");
    assert!(report.ends_with(", 0 aborted"), "{report}");
    let seen = example.seen.clone();
    assert_eq!(example.exit_code(), 0);
    // Every job that started finished: none was cut off.
    let started: Vec<_> = seen
        .iter()
        .filter_map(|l| l.strip_suffix(" started"))
        .collect();
    let done: Vec<_> = seen
        .iter()
        .filter_map(|l| l.strip_suffix(" done"))
        .collect();
    assert!(started.len() >= 2, "{seen:?}");
    for job in &started {
        assert!(
            done.contains(job),
            "{job} started but never finished: {seen:?}"
        );
    }
    // And the report came after the last job finished.
    let last_done = seen.iter().rposition(|l| l.ends_with(" done")).unwrap();
    let report_at = seen
        .iter()
        .position(|l| l.starts_with("shutdown on"))
        .unwrap();
    assert!(last_done < report_at, "{seen:?}");
}

fn second_sigint_aborts_and_exits_1(runtime: &str) {
    let mut example = Example::start(runtime, &["--stubborn"]);
    example.expect_line("ready");
    example.signal("INT");
    // The stubborn job keeps the drain going until the second signal.
    example.expect_line("draining");
    example.signal("INT");
    let report = example.expect_line("shutdown on SIGINT");
    assert!(report.contains("1 aborted"), "{report}");
    assert!(report.ends_with("(second signal)"), "{report}");
    assert_eq!(example.exit_code(), 1);
}

#[test]
fn tokio_sigterm_drains_cleanly_and_exits_0() {
    sigterm_drains_cleanly_and_exits_0("tokio");
}

#[test]
fn smol_sigterm_drains_cleanly_and_exits_0() {
    sigterm_drains_cleanly_and_exits_0("smol");
}

#[test]
fn async_std_sigterm_drains_cleanly_and_exits_0() {
    sigterm_drains_cleanly_and_exits_0("async-std");
}

#[test]
fn tokio_second_sigint_aborts_and_exits_1() {
    second_sigint_aborts_and_exits_1("tokio");
}

#[test]
fn smol_second_sigint_aborts_and_exits_1() {
    second_sigint_aborts_and_exits_1("smol");
}

#[test]
fn async_std_second_sigint_aborts_and_exits_1() {
    second_sigint_aborts_and_exits_1("async-std");
}

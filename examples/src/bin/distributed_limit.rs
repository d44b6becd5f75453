//! Issue-12 pattern: one limit shared by several processes, over Redis.
//!
//! Starts a throwaway `redis-server` on a loopback port (unless
//! `--redis URL` is given), then 3 worker processes (this program again,
//! with `--worker N`). They share a `RedisSemaphore(2)` (at most 2 jobs at
//! once across all of them) and a `RedisRateLimiter` (5 job starts per
//! second, burst 2). Each worker runs 4 jobs of 150 ms. The parent prints
//! who held what when, and checks the peak.
//!
//! `cargo run -p anysync-examples --bin distributed_limit [-- --runtime tokio|smol|async-std] [--redis redis://127.0.0.1:6379]`
#![forbid(unsafe_code)]

use std::{
    num::NonZeroU32,
    process::{Command, Stdio},
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use anysync::{resource::Limited, rt::Runtime, time::Quota};
use anysync_examples::Choice;
use anysync_redis::{server::LocalServer, Redis, RedisRateLimiter, RedisSemaphore};

const WORKERS: usize = 3;
const JOBS: usize = 4;
const JOB: Duration = Duration::from_millis(150);

fn arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

fn epoch_ms() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis())
}

/// One worker process: `JOBS` jobs under the shared limits, printing
/// `start end token` per job, in milliseconds since the shared `t0`.
async fn worker<R: Runtime>(rt: R, id: usize, url: String, t0: u128) {
    let redis = Redis::connect(&url).await.expect("cannot reach redis");
    let sem = RedisSemaphore::new(&redis, rt.clone(), "distributed_limit", 2).expect("valid");
    let quota =
        Quota::per_second(NonZeroU32::new(5).unwrap()).allow_burst(NonZeroU32::new(2).unwrap());
    let rate =
        RedisRateLimiter::new(&redis, rt.clone(), "distributed_limit", quota).expect("valid");
    let limits = Limited::new(sem, rate);
    for job in 0..JOBS {
        // Rate cell first, then a permit: no permit is held while waiting
        // for the rate. The same `Limited` works on local primitives.
        let permit = limits.acquire().await.expect("redis failed");
        let start = epoch_ms() - t0;
        rt.sleep(JOB).await;
        let end = epoch_ms() - t0;
        println!("JOB {id} {job} {start} {end} {}", permit.fencing_token());
        permit.release().await.expect("redis failed");
    }
}

fn main() {
    let choice = Choice::from_args();
    if let Some(id) = arg("--worker") {
        let url = arg("--redis").expect("--redis URL");
        let t0: u128 = arg("--t0").and_then(|t| t.parse().ok()).expect("--t0 MS");
        let id: usize = id.parse().expect("--worker N");
        match choice {
            Choice::Tokio => anysync_examples::on_tokio(|rt| worker(rt, id, url, t0)),
            Choice::Smol => anysync_examples::on_smol(|rt| worker(rt, id, url, t0)),
            Choice::AsyncStd => anysync_examples::on_async_std(|rt| worker(rt, id, url, t0)),
        }
        return;
    }

    let (url, _server) = match arg("--redis") {
        Some(url) => (url, None),
        None => match LocalServer::start() {
            Ok(server) => (server.url(), Some(server)),
            Err(e) => {
                eprintln!("distributed_limit: {e}; install redis-server or pass --redis URL");
                std::process::exit(1);
            }
        },
    };
    println!("distributed_limit on {} with redis at {url}", choice.name());
    println!("{WORKERS} processes share: at most 2 jobs at once, 5 starts/s (burst 2)");
    let t0 = epoch_ms();
    let children: Vec<_> = (0..WORKERS)
        .map(|id| {
            Command::new(std::env::current_exe().expect("own path"))
                .args([
                    "--worker",
                    &id.to_string(),
                    "--redis",
                    &url,
                    "--t0",
                    &t0.to_string(),
                ])
                .args(["--runtime", choice.name()])
                .stdout(Stdio::piped())
                .spawn()
                .expect("cannot start a worker")
        })
        .collect();
    let mut jobs: Vec<(u128, u128, usize, u64)> = Vec::new();
    for child in children {
        let out = child.wait_with_output().expect("worker failed");
        assert!(out.status.success(), "a worker failed");
        for line in String::from_utf8_lossy(&out.stdout).lines() {
            let f: Vec<&str> = line.split(' ').collect();
            if f.first() == Some(&"JOB") {
                jobs.push((
                    f[3].parse().unwrap(),
                    f[4].parse().unwrap(),
                    f[1].parse().unwrap(),
                    f[5].parse().unwrap(),
                ));
            }
        }
    }
    jobs.sort();
    let mut peak = 0;
    for &(start, end, worker, token) in &jobs {
        let running = jobs.iter().filter(|j| j.0 <= start && start < j.1).count();
        peak = peak.max(running);
        println!("  {start:>5}-{end:>5} ms  worker {worker} held a permit (fencing token {token:>3}), {running} running");
    }
    println!("{} jobs done; peak {peak} at once (limit 2)", jobs.len());
    assert_eq!(jobs.len(), WORKERS * JOBS);
    assert!(peak <= 2, "the shared limit was exceeded");
}

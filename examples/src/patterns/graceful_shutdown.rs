//! Graceful shutdown on a signal, with the background
//! tasks tracked and drained (asyncio: signal handlers, cancel outstanding
//! tasks, gather them).

use core::time::Duration;
use std::sync::atomic::{AtomicUsize, Ordering};

use anysync::{
    rt::{Runtime, Signal},
    task::{Shutdown, ShutdownReport},
};
use futures_util::Stream;

/// How the simulated service behaves.
#[derive(Clone, Copy, Debug)]
pub struct Options {
    /// How often a new job is accepted.
    pub interval: Duration,
    /// How long each job takes (jobs in flight are allowed to finish).
    pub job: Duration,
    /// How long in-flight work may take after the first signal.
    pub drain: Duration,
    /// Also start one job that needs a minute and ignores the shutdown,
    /// so that only the deadline or a second signal ends it.
    pub stubborn: bool,
}

impl Options {
    /// The example's defaults: a job every 50 ms, each taking 300 ms, a 2 s
    /// drain; `--stubborn` on the command line sets [`Options::stubborn`].
    pub fn from_args() -> Self {
        Options {
            interval: Duration::from_millis(50),
            job: Duration::from_millis(300),
            drain: Duration::from_secs(2),
            stubborn: std::env::args().any(|a| a == "--stubborn"),
        }
    }
}

/// Runs a small service until `signals` (or the first of them) says stop:
/// an intake loop accepts a job every `interval`, each job runs as a
/// tracked task, and a heartbeat runs in the background. On the first
/// signal the intake stops, the heartbeat ends, jobs in flight finish
/// (within `drain`); a second signal or the deadline aborts the rest.
///
/// Prints `ready` once everything runs (and the caller's signal handlers
/// are installed), `job N started` / `job N done` for each job, and
/// `draining` when the shutdown begins.
pub async fn run<R, S>(rt: R, signals: S, options: Options, verbose: bool) -> ShutdownReport
where
    R: Runtime,
    S: Stream<Item = Signal> + Unpin,
{
    let shutdown = Shutdown::new(rt.clone(), options.drain);

    // The heartbeat: background work that ends with the shutdown.
    let (token, timer) = (shutdown.token().clone(), rt.clone());
    // Spawned tasks are detached (their handles dropped): the shutdown's
    // tracker is what waits for them.
    let heartbeat = shutdown
        .spawn(&rt, async move {
            while token
                .run_until_cancelled(timer.sleep(Duration::from_millis(200)))
                .await
                .is_some()
            {}
        })
        .expect("not shutting down yet");
    drop(heartbeat);

    if options.stubborn {
        let timer = rt.clone();
        let stubborn = shutdown
            .spawn(
                &rt,
                async move { timer.sleep(Duration::from_secs(60)).await },
            )
            .expect("not shutting down yet");
        drop(stubborn);
    }

    // Announce the shutdown when it begins.
    let (token, tracker) = (shutdown.token().clone(), shutdown.tracker().clone());
    let announcer = shutdown
        .spawn(&rt, async move {
            token.cancelled().await;
            if verbose {
                // Not counting this announcer itself.
                println!(
                    "draining: intake stopped, {} task(s) in flight",
                    tracker.len() - 1
                );
            }
        })
        .expect("not shutting down yet");
    drop(announcer);

    // The intake: accepts a job every `interval` until the shutdown begins.
    let accepted = AtomicUsize::new(0);
    let intake = async {
        while shutdown
            .token()
            .run_until_cancelled(rt.sleep(options.interval))
            .await
            .is_some()
        {
            let (timer, job) = (rt.clone(), options.job);
            let n = accepted.fetch_add(1, Ordering::Relaxed) + 1;
            let spawned = shutdown.spawn(&rt, async move {
                if verbose {
                    println!("job {n} started");
                }
                timer.sleep(job).await;
                if verbose {
                    println!("job {n} done");
                }
            });
            // Refused once the shutdown has begun: the intake stops next.
            drop(spawned);
        }
    };

    if verbose {
        println!("ready");
    }
    let (report, ()) = futures_util::future::join(shutdown.run(signals), intake).await;
    if verbose {
        println!("accepted {} job(s)", accepted.load(Ordering::Relaxed));
    }
    report
}

/// The tour's line for this pattern: a shutdown requested after 120 ms
/// drains the jobs in flight.
pub async fn tour_line<R: Runtime>(rt: R) -> String {
    let timer = rt.clone();
    let signals = Box::pin(futures_util::stream::once(async move {
        timer.sleep(Duration::from_millis(120)).await;
        Signal::Interrupt
    }));
    let options = Options {
        interval: Duration::from_millis(20),
        job: Duration::from_millis(50),
        drain: Duration::from_secs(2),
        stubborn: false,
    };
    let report = run(rt, signals, options, false).await;
    format!(
        "graceful shutdown: on {}, intake stopped and in-flight work drained: {} finished, {} aborted, clean: {}",
        report.signal.map_or("request".to_string(), |s| s.to_string()),
        report.finished,
        report.aborted,
        report.is_clean()
    )
}

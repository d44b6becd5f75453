//! Debounce (asyncio's cancel-and-restart of a delayed task,
//! without its faults: a trigger never cancels a running action, and a
//! failing action does not kill the debouncer).

use std::{
    sync::{
        atomic::{AtomicU32, Ordering},
        Arc,
    },
    time::Duration,
};

use anysync::{rt::Runtime, sync::Event, time::DebounceConfig};

/// What a run of [`run`] observed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Report {
    /// Triggers sent.
    pub triggers: u32,
    /// Times the action ran.
    pub runs: u32,
    /// Runs that failed (and were reported).
    pub failures: u32,
}

/// Sends a burst of `burst` triggers `gap` apart to a debouncer with
/// `delay`, then, after it ran, a second burst whose run fails, and a third
/// that shows it still works.
pub async fn run<R: Runtime>(
    rt: R,
    burst: u32,
    gap: Duration,
    delay: Duration,
    verbose: bool,
) -> Report {
    let start = rt.now();
    let runs = Arc::new(AtomicU32::new(0));
    let ran = Arc::new(Event::new());
    let (counter, signal, clock) = (runs.clone(), ran.clone(), rt.clone());
    let action = move || {
        let n = counter.fetch_add(1, Ordering::SeqCst) + 1;
        let signal = signal.clone();
        if verbose {
            println!(
                "  action run {n} at {:>4} ms",
                (clock.now() - start).as_millis()
            );
        }
        async move {
            if n == 2 {
                return Err(format!("run {n} failed")); // the error hook signals
            }
            signal.set();
            Ok(())
        }
    };
    let failures = Arc::new(AtomicU32::new(0));
    let (failed, signal) = (failures.clone(), ran.clone());
    let save = DebounceConfig::new(delay)
        .spawn(&rt, action, move |e| {
            failed.fetch_add(1, Ordering::SeqCst);
            if verbose {
                println!("  reported: {e:?}");
            }
            signal.set();
        })
        .expect("valid settings");
    for round in 1..=3 {
        if verbose {
            println!(
                "burst {round}: {burst} triggers {} ms apart",
                gap.as_millis()
            );
        }
        ran.clear();
        for _ in 0..burst {
            save.trigger();
            rt.sleep(gap).await;
        }
        ran.wait().await;
    }
    Report {
        triggers: save.statistics().triggers as u32,
        runs: runs.load(Ordering::SeqCst),
        failures: failures.load(Ordering::SeqCst),
    }
}

/// The tour's line for this pattern.
pub async fn tour_line<R: Runtime>(rt: R) -> String {
    let r = run(
        rt,
        10,
        Duration::from_millis(5),
        Duration::from_millis(20),
        false,
    )
    .await;
    format!(
        "debounce: 3 bursts of 10 triggers ran the action {} times; {} failing run reported, and it kept working",
        r.runs, r.failures
    )
}

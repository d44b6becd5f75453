//! Offload blocking work (asyncio `to_thread`,
//! `run_in_executor`).

use core::time::Duration;
use std::sync::{
    atomic::{AtomicBool, AtomicU32, Ordering},
    Arc,
};

use anysync::{rt::Runtime, task::to_thread};

/// What a run of [`run`] observed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// What the blocking call returned.
    pub result: u64,
    /// Ticks of the async ticker while the blocking call ran.
    pub ticks_meanwhile: u32,
}

/// Runs a blocking call (a thread sleep of `work`, then a sum) with
/// `to_thread`, while a ticker task ticks every `work / 10`.
pub async fn run<R: Runtime>(rt: R, work: Duration, verbose: bool) -> Report {
    let ticks = Arc::new(AtomicU32::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let (timer, t, s) = (rt.clone(), ticks.clone(), stop.clone());
    let ticker = rt.spawn(async move {
        while !s.load(Ordering::SeqCst) {
            timer.sleep(work / 10).await;
            let n = t.fetch_add(1, Ordering::SeqCst) + 1;
            if verbose {
                println!("tick {n}");
            }
        }
    });
    let result = to_thread(&rt, move || {
        std::thread::sleep(work); // a synchronous call that blocks its thread
        (1..=1_000u64).sum()
    })
    .await
    .expect("the blocking call does not panic");
    let ticks_meanwhile = ticks.load(Ordering::SeqCst);
    stop.store(true, Ordering::SeqCst);
    ticker.await.expect("the ticker does not panic");
    if verbose {
        println!(
            "blocking call returned {result}; the ticker ticked {ticks_meanwhile} times meanwhile"
        );
    }
    Report {
        result,
        ticks_meanwhile,
    }
}

/// The tour's line for this pattern.
pub async fn tour_line<R: Runtime>(rt: R) -> String {
    let r = run(rt, Duration::from_millis(100), false).await;
    format!(
        "blocking: to_thread returned {} while the async ticker kept ticking ({} ticks, not 0)",
        r.result, r.ticks_meanwhile
    )
}

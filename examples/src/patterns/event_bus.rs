//! An event bus (asyncio: a `Queue` per subscriber and a
//! publish loop that puts into each).
//!
//! With [`anysync::channel::broadcast`] every subscriber gets its own
//! bounded queue and chooses, when it subscribes, what happens when it
//! falls behind: hold the publishers back ([`Overflow::Block`]), lose the
//! oldest events and be told how many ([`Overflow::DropOldest`]), lose the
//! newest ([`Overflow::DropNewest`]), or be disconnected
//! ([`Overflow::Disconnect`]). A slow subscriber never silently loses an
//! event: every gap comes with a `Lagged(n)` report.

use core::time::Duration;

use anysync::{
    channel::broadcast::{Overflow, RecvError, Sender},
    rt::Runtime,
};

/// One event on the bus.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Event {
    /// Which generator published it.
    pub generator: usize,
    /// Its number within that generator's events.
    pub seq: u32,
}

/// What one processor saw.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Processor {
    /// Its name.
    pub name: &'static str,
    /// Its overflow policy.
    pub overflow: Overflow,
    /// Events it processed.
    pub processed: usize,
    /// Events it was told it missed (`Lagged(n)` reports added up).
    pub lost: u64,
    /// Whether it was disconnected for being too slow.
    pub disconnected: bool,
    /// Whether each generator's events arrived in the order published.
    pub in_order: bool,
}

/// What a run of [`run`] observed.
#[derive(Clone, Debug)]
pub struct Report {
    /// Events published (by all generators).
    pub published: usize,
    /// How long the generators took to publish everything.
    pub publish_time: Duration,
    /// The processors, fast ones first, the slow one last.
    pub processors: Vec<Processor>,
}

/// Settings for [`run`].
#[derive(Clone, Copy, Debug)]
pub struct Setup {
    /// Events each of the 2 generators publishes.
    pub events_per_generator: u32,
    /// Pause between a generator's events.
    pub publish_every: Duration,
    /// Time the slow processor spends on each event.
    pub slow_work: Duration,
    /// The slow processor's queue size.
    pub slow_capacity: usize,
    /// Print each lag and disconnection as it happens.
    pub verbose: bool,
}

impl Default for Setup {
    fn default() -> Self {
        Setup {
            events_per_generator: 10,
            publish_every: Duration::from_millis(5),
            slow_work: Duration::from_millis(20),
            slow_capacity: 3,
            verbose: false,
        }
    }
}

/// 2 generators publish to 3 processors: `audit` (fast, `Block`),
/// `metrics` (fast, `DropOldest`), and `slow` (slow, with `slow_policy`).
/// Runs until the generators are done and every processor has drained its
/// queue.
pub async fn run<R: Runtime>(rt: R, slow_policy: Overflow, setup: Setup) -> Report {
    let bus = Sender::<Event>::new(16);
    let processors = [
        ("audit", Overflow::Block, 16, Duration::ZERO),
        ("metrics", Overflow::DropOldest, 16, Duration::ZERO),
        ("slow", slow_policy, setup.slow_capacity, setup.slow_work),
    ];
    let mut handles = Vec::new();
    for (name, overflow, capacity, work) in processors {
        let mut rx = bus.subscribe_with(capacity, overflow);
        let rt2 = rt.clone();
        let verbose = setup.verbose;
        handles.push(rt.spawn(async move {
            let mut seen = Processor {
                name,
                overflow,
                processed: 0,
                lost: 0,
                disconnected: false,
                in_order: true,
            };
            let mut last_seq = [None::<u32>; 2];
            loop {
                match rx.recv().await {
                    Ok(event) => {
                        if !work.is_zero() {
                            rt2.sleep(work).await; // "processing"
                        }
                        let last = &mut last_seq[event.generator];
                        seen.in_order &= last.map_or(true, |l| event.seq > l);
                        *last = Some(event.seq);
                        seen.processed += 1;
                    }
                    Err(RecvError::Lagged(n)) => {
                        if verbose {
                            println!("  {name} ({overflow:?}): fell behind, {n} events lost here");
                        }
                        seen.lost += n;
                    }
                    Err(RecvError::Disconnected) => {
                        if verbose {
                            println!("  {name} ({overflow:?}): disconnected for being too slow");
                        }
                        seen.disconnected = true;
                        return seen;
                    }
                    Err(RecvError::Closed) => return seen,
                }
            }
        }));
    }

    let start = rt.now();
    let generators: Vec<_> = (0..2)
        .map(|generator| {
            let bus = bus.clone();
            let rt2 = rt.clone();
            rt.spawn(async move {
                for seq in 0..setup.events_per_generator {
                    bus.send(Event { generator, seq })
                        .await
                        .expect("the processors are subscribed");
                    rt2.sleep(setup.publish_every).await;
                }
            })
        })
        .collect();
    drop(bus);
    for g in generators {
        g.await.expect("generator failed");
    }
    let publish_time = rt.now().saturating_duration_since(start);

    let mut processors = Vec::new();
    for h in handles {
        processors.push(h.await.expect("processor failed"));
    }
    Report {
        published: 2 * setup.events_per_generator as usize,
        publish_time,
        processors,
    }
}

/// One line describing how the slow processor fared under `policy`.
pub fn describe(report: &Report) -> String {
    let slow = report.processors.last().expect("three processors");
    let total = report.published;
    match (slow.overflow, slow.disconnected) {
        (Overflow::Block, _) => format!(
            "Block: processed {}/{total}, publishers held back ({} ms to publish)",
            slow.processed,
            report.publish_time.as_millis()
        ),
        (_, true) => format!(
            "{:?}: processed {}/{total}, then disconnected",
            slow.overflow, slow.processed
        ),
        (overflow, false) => format!(
            "{overflow:?}: processed {} + told of {} lost = {total}",
            slow.processed, slow.lost
        ),
    }
}

/// The tour's line for this pattern.
pub async fn tour_line<R: Runtime>(rt: R) -> String {
    let setup = Setup {
        events_per_generator: 6,
        ..Setup::default()
    };
    let mut parts = Vec::new();
    let mut fast_ok = true;
    for policy in [
        Overflow::Block,
        Overflow::DropOldest,
        Overflow::DropNewest,
        Overflow::Disconnect,
    ] {
        let report = run(rt.clone(), policy, setup).await;
        fast_ok &= report.processors[..2]
            .iter()
            .all(|p| p.processed == report.published && p.in_order);
        parts.push(describe(&report));
    }
    format!(
        "event bus: 2 generators, 3 processors; fast ones got every event in order: {fast_ok}; slow one under {}",
        parts.join("; ")
    )
}

//! Wait modes (asyncio `wait(FIRST_COMPLETED)`): the fastest
//! of three sources wins, the rest are cancelled.

use core::{future::Future, pin::Pin, time::Duration};
use std::sync::{Arc, Mutex};

use anysync::{
    rt::Runtime,
    task::{wait, ReturnWhen},
};

/// What a run of [`run`] observed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// The source that answered first.
    pub winner: String,
    /// The sources cancelled (dropped) because they lost.
    pub cancelled: Vec<String>,
}

/// Logs its source's name when the query is dropped unfinished.
struct CancelLog {
    name: &'static str,
    log: Arc<Mutex<Vec<String>>>,
    finished: bool,
}

impl Drop for CancelLog {
    fn drop(&mut self) {
        if !self.finished {
            self.log.lock().unwrap().push(self.name.to_string());
        }
    }
}

type Query = Pin<Box<dyn Future<Output = Result<String, String>> + Send>>;

/// Queries three mirrors that answer after `unit * 3`, `unit`, `unit * 2`;
/// takes the first answer and drops the other two queries.
pub async fn run<R: Runtime>(rt: R, unit: Duration, verbose: bool) -> Report {
    let log = Arc::new(Mutex::new(Vec::new()));
    let sources = [("mirror-a", 3u32), ("mirror-b", 1), ("mirror-c", 2)];
    let queries: Vec<Query> = sources
        .iter()
        .map(|&(name, delay)| {
            let (timer, log) = (rt.clone(), log.clone());
            Box::pin(async move {
                let mut guard = CancelLog {
                    name,
                    log,
                    finished: false,
                };
                timer.sleep(unit * delay).await;
                guard.finished = true;
                Ok(format!("{name} answered"))
            }) as Query
        })
        .collect();
    let waited = wait(queries, ReturnWhen::FirstCompleted).await;
    let (index, answer) = waited.done.into_iter().next().expect("one completed");
    let answer = answer.expect("mirrors do not fail");
    if verbose {
        println!("{answer} first (source {index})");
    }
    drop(waited.pending); // cancel the losers
    let cancelled = log.lock().unwrap().clone();
    if verbose {
        for name in &cancelled {
            println!("{name} cancelled");
        }
    }
    Report {
        winner: sources[index].0.to_string(),
        cancelled,
    }
}

/// The tour's line for this pattern.
pub async fn tour_line<R: Runtime>(rt: R) -> String {
    let r = run(rt, Duration::from_millis(10), false).await;
    format!(
        "first response: {} won, {} cancelled",
        r.winner,
        r.cancelled.join(" and ")
    )
}

//! Structured concurrency (asyncio `TaskGroup`, `except*`).

use core::time::Duration;
use std::sync::{Arc, Mutex};

use anysync::{
    rt::Runtime,
    task::{TaskError, TaskGroup},
};

/// What a run of [`run`] observed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// `(child, milliseconds)` at which each cancelled sibling cleaned up.
    pub cleanups: Vec<(usize, u128)>,
    /// `(child, message)` of every error the group returned.
    pub errors: Vec<(usize, String)>,
    /// Milliseconds from the start to `join` returning.
    pub joined_at_ms: u128,
}

/// Five children work for `unit * 5`, watching the group's token; child 2
/// fails after `unit * 2`. Its failure cancels the siblings, which clean
/// up (child 4's cleanup fails too), and `join` returns every error.
pub async fn run<R: Runtime>(rt: R, unit: Duration, verbose: bool) -> Report {
    let group = TaskGroup::new(rt.clone());
    let start = rt.now();
    let cleanups = Arc::new(Mutex::new(Vec::new()));
    for i in 0..5usize {
        let (timer, token) = (rt.clone(), group.token().clone());
        let cleanups = Arc::clone(&cleanups);
        group
            .spawn(async move {
                if i == 2 {
                    timer.sleep(unit * 2).await;
                    if verbose {
                        println!("child 2 fails at {} ms", (timer.now() - start).as_millis());
                    }
                    return Err("upstream unavailable".to_string());
                }
                match token.run_until_cancelled(timer.sleep(unit * 5)).await {
                    Some(()) => Ok(()),
                    None => {
                        let at = (timer.now() - start).as_millis();
                        if verbose {
                            println!(
                                "child {i} cancelled at {at} ms ({}), cleaning up",
                                token.reason().expect("cancelled")
                            );
                        }
                        cleanups.lock().unwrap().push((i, at));
                        if i == 4 {
                            return Err("cleanup failed".to_string());
                        }
                        Ok(())
                    }
                }
            })
            .expect("the group is open");
    }
    let result = group.join().await;
    let joined_at_ms = (rt.now() - start).as_millis();
    let err = result.expect_err("child 2 fails");
    let errors: Vec<(usize, String)> = err
        .errors()
        .iter()
        .map(|(i, e)| match e {
            TaskError::Failed(msg) => (*i, msg.clone()),
            other => (*i, other.to_string()),
        })
        .collect();
    if verbose {
        println!(
            "join returned at {joined_at_ms} ms with {} error(s):",
            errors.len()
        );
        for (i, msg) in &errors {
            println!("  child {i}: {msg}");
        }
    }
    let mut cleanups = cleanups.lock().unwrap().clone();
    cleanups.sort();
    Report {
        cleanups,
        errors,
        joined_at_ms,
    }
}

/// The tour's line for this pattern.
pub async fn tour_line<R: Runtime>(rt: R) -> String {
    let report = run(rt, Duration::from_millis(10), false).await;
    format!(
        "task group: a child failed, {} siblings were cancelled and cleaned up; join returned {} errors (one raised during cleanup)",
        report.cleanups.len(),
        report.errors.len()
    )
}

//! The task patterns' examples on the virtual clock, where their timings
//! are exact.
#![forbid(unsafe_code)]

use std::time::Duration;

use anysync::rt::virtual_time::VirtualTime;
use anysync_examples::patterns::{cancellation, first_response, gather, task_group};

#[test]
fn task_group_failure_at_2s_cancels_every_sibling_at_2s() {
    let report =
        VirtualTime::new().block_on(|rt| task_group::run(rt, Duration::from_secs(1), false));
    assert_eq!(
        report.cleanups,
        [(0, 2000), (1, 2000), (3, 2000), (4, 2000)]
    );
    assert_eq!(report.joined_at_ms, 2000);
    let mut errors = report.errors;
    errors.sort();
    assert_eq!(
        errors,
        [
            (2, "upstream unavailable".to_string()),
            (4, "cleanup failed".to_string())
        ]
    );
}

#[test]
fn cancellation_cleans_up_and_the_shield_commits() {
    let report =
        VirtualTime::new().block_on(|rt| cancellation::run(rt, Duration::from_millis(100), false));
    assert_eq!(
        report,
        cancellation::Report {
            units_done: 3,
            cleaned_up: true,
            caller_gave_up: true,
            critical_committed: true,
        }
    );
}

#[test]
fn first_response_the_fastest_wins_the_rest_are_cancelled() {
    let vt = VirtualTime::new();
    let report = vt.block_on(|rt| first_response::run(rt, Duration::from_millis(100), false));
    assert_eq!(report.winner, "mirror-b");
    let mut cancelled = report.cancelled;
    cancelled.sort();
    assert_eq!(cancelled, ["mirror-a", "mirror-c"]);
    assert_eq!(vt.now().since_origin(), Duration::from_millis(100));
}

#[test]
fn gather_gives_completion_order_and_input_order_with_errors_kept() {
    let report =
        VirtualTime::new().block_on(|rt| gather::run(rt, Duration::from_millis(10), false));
    assert_eq!(report.completion_order, [4, 3, 2, 1]);
    assert_eq!(
        report.gathered,
        [Ok(10), Ok(20), Err("job 3 failed".to_string()), Ok(40)]
    );
}

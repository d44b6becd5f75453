//! Tasks and their lifecycle: cancellation tokens, task groups, shield,
//! the task tracker, deadline scopes.
//!
//! Scenarios assert orderings and counts only; exact times are checked at
//! the bottom, on `VirtualTime` alone.
#![forbid(unsafe_code)]

extern crate alloc;

use alloc::sync::Arc;
use core::{
    future::pending,
    sync::atomic::{AtomicUsize, Ordering},
    time::Duration,
};
use std::sync::Mutex;

use anysync::{
    rt::{virtual_time::VirtualTime, Runtime, Signal},
    sync::Event,
    task::{
        fail_after, move_on_after, shield, to_thread, wait, wait_timeout, CancelReason,
        CancelToken, CapacityLimiter, ReturnWhen, Shutdown, SpawnError, TaskError, TaskGroup,
        TaskTracker,
    },
};
use anysync_tests::{poll_once, race_yields, scenarios, scenarios_no_rt, until, DropCounter};
use futures_util::StreamExt;

/// Cancelling a root reaches every descendant in other tasks, through a
/// dropped intermediate, with the root's reason.
async fn cancel_token_tree_reaches_tasks_through_a_dropped_intermediate<R: Runtime>(rt: R) {
    let root = CancelToken::new();
    let middle = root.child();
    let leaves: Vec<_> = (0..4).map(|_| middle.child()).collect();
    let sibling = root.child();
    drop(middle);
    let started = Arc::new(AtomicUsize::new(0));
    let handles: Vec<_> = leaves
        .into_iter()
        .map(|leaf| {
            let started = started.clone();
            rt.spawn(async move {
                started.fetch_add(1, Ordering::SeqCst);
                leaf.clone().cancelled_owned().await;
                leaf.reason()
            })
        })
        .collect();
    until(|| started.load(Ordering::SeqCst) == 4).await;
    root.cancel_with(CancelReason::Shutdown);
    for handle in handles {
        assert_eq!(handle.await.unwrap(), Some(CancelReason::Shutdown));
    }
    assert!(sibling.is_cancelled());
}

/// Cancelling a child leaves its parent and siblings running.
async fn cancel_token_child_cancel_leaves_parent_and_siblings() {
    let root = CancelToken::new();
    let a = root.child();
    let b = root.child();
    let mut parent_wait = Box::pin(root.cancelled());
    assert!(poll_once(&mut parent_wait).await.is_pending());
    a.cancel();
    a.cancelled().await;
    assert!(poll_once(&mut parent_wait).await.is_pending());
    assert!(!b.is_cancelled());
    // Born cancelled: a child made after the cancel.
    root.cancel();
    let late = root.child();
    assert!(late.is_cancelled());
    late.cancelled().await;
}

/// `run_until_cancelled` gives the output, or `None` without polling the
/// future when the token is cancelled already.
async fn run_until_cancelled_output_or_none() {
    let token = CancelToken::new();
    assert_eq!(token.run_until_cancelled(async { 3 }).await, Some(3));
    token.cancel();
    let polled = AtomicUsize::new(0);
    let out = token
        .run_until_cancelled(async {
            polled.fetch_add(1, Ordering::SeqCst);
        })
        .await;
    assert_eq!(out, None);
    assert_eq!(polled.load(Ordering::SeqCst), 0);
}

/// The first child error cancels the siblings, and the group error holds
/// every error, including one a sibling returned while being cancelled.
async fn task_group_first_error_cancels_siblings_and_keeps_every_error<R: Runtime>(rt: R) {
    let group = TaskGroup::new(rt.clone());
    let cleaned = Arc::new(AtomicUsize::new(0));
    // Child 2 fails only once all five are spawned: spawning after the
    // failure would be refused.
    let all_spawned = Arc::new(Event::new());
    for i in 0..5usize {
        let token = group.token().clone();
        let (cleaned, all_spawned) = (cleaned.clone(), all_spawned.clone());
        group
            .spawn(async move {
                if i == 2 {
                    all_spawned.wait().await;
                    return Err(alloc::format!("child {i} failed"));
                }
                token.cancelled().await;
                cleaned.fetch_add(1, Ordering::SeqCst);
                if i == 4 {
                    return Err(alloc::format!("child {i} failed while cleaning up"));
                }
                Ok(i)
            })
            .unwrap();
    }
    all_spawned.set();
    let err = group.join().await.unwrap_err();
    assert_eq!(cleaned.load(Ordering::SeqCst), 4);
    let mut failed: Vec<_> = err
        .errors()
        .iter()
        .map(|(index, e)| match e {
            TaskError::Failed(msg) => (*index, msg.clone()),
            other => panic!("unexpected {other:?}"),
        })
        .collect();
    failed.sort();
    assert_eq!(
        failed,
        vec![
            (2, "child 2 failed".to_string()),
            (4, "child 4 failed while cleaning up".to_string())
        ]
    );
    assert_eq!(err.cancelled(), 0);
    assert_eq!(err.reason(), Some(&CancelReason::SiblingFailed));
}

/// A child panic cancels its siblings and comes back from `join`.
async fn task_group_child_panic_cancels_siblings_and_resurfaces<R: Runtime>(rt: R) {
    let group = TaskGroup::<_, (), ()>::new(rt.clone());
    let token = group.token().clone();
    group
        .spawn(async move {
            token.cancelled().await;
            Ok(())
        })
        .unwrap();
    group.spawn(async { panic!("boom") }).unwrap();
    let err = group.join().await.unwrap_err();
    assert_eq!(err.errors().len(), 1);
    match &err.errors()[0] {
        (1, TaskError::Panicked(e)) => assert!(e.is_panic()),
        other => panic!("unexpected {other:?}"),
    }
}

/// `join` gives the outputs in spawn order, whatever the completion order.
async fn task_group_join_gives_spawn_order<R: Runtime>(rt: R) {
    let group = TaskGroup::<_, usize, ()>::new(rt.clone());
    let gates: Vec<_> = (0..4).map(|_| Arc::new(Event::new())).collect();
    for i in 0..4 {
        let (gate, next) = (gates[i].clone(), gates.get(i.wrapping_sub(1)).cloned());
        group
            .spawn(async move {
                // Child 3 goes first, then 2, 1, 0.
                if i != 3 {
                    gate.wait().await;
                }
                if let Some(next) = next {
                    next.set();
                }
                Ok(i * 10)
            })
            .unwrap();
    }
    assert_eq!(group.join().await.unwrap(), vec![0, 10, 20, 30]);
}

/// The stream gives outcomes in completion order.
async fn task_group_stream_gives_completion_order<R: Runtime>(rt: R) {
    let group = TaskGroup::<_, usize, ()>::new(rt.clone());
    let gates: Vec<_> = (0..3).map(|_| Arc::new(Event::new())).collect();
    for (i, gate) in gates.iter().enumerate() {
        let gate = gate.clone();
        group
            .spawn(async move {
                gate.wait().await;
                Ok(i)
            })
            .unwrap();
    }
    let mut stream = group.into_stream();
    let mut order = Vec::new();
    for i in [2, 0, 1] {
        gates[i].set();
        let (index, out) = stream.next().await.unwrap();
        assert_eq!(out.unwrap(), index);
        order.push(index);
    }
    assert_eq!(order, [2, 0, 1]);
    assert!(stream.next().await.is_none());
}

/// Dropping the join future aborts (drops) every child.
async fn task_group_dropping_join_drops_every_child<R: Runtime>(rt: R) {
    let drops = DropCounter::new();
    let started = Arc::new(AtomicUsize::new(0));
    let group = TaskGroup::<_, (), ()>::new(rt.clone());
    for _ in 0..3 {
        let (guard, started) = (drops.guard(), started.clone());
        group
            .spawn(async move {
                let _guard = guard;
                started.fetch_add(1, Ordering::SeqCst);
                pending::<()>().await;
                Ok(())
            })
            .unwrap();
    }
    let token = group.token().clone();
    let mut join = Box::pin(group.join());
    assert!(poll_once(&mut join).await.is_pending());
    until(|| started.load(Ordering::SeqCst) == 3).await;
    drop(join);
    assert!(token.is_cancelled());
    until(|| drops.count() == 3).await;
}

/// Dropping the group without joining drops every child too.
async fn task_group_dropping_the_group_drops_every_child<R: Runtime>(rt: R) {
    let drops = DropCounter::new();
    let group = TaskGroup::<_, (), ()>::new(rt.clone());
    let handle = group.handle();
    for _ in 0..3 {
        let guard = drops.guard();
        group
            .spawn(async move {
                let _guard = guard;
                pending::<()>().await;
                Ok(())
            })
            .unwrap();
    }
    drop(group);
    until(|| drops.count() == 3).await;
    assert_eq!(handle.spawn(async { Ok(()) }), Err(SpawnError::Closed));
}

/// A child can spawn siblings; spawning after a failure or after the group
/// finished is an error.
async fn task_group_spawn_rules<R: Runtime>(rt: R) {
    let group = TaskGroup::<_, usize, &'static str>::new(rt.clone());
    let handle = group.handle();
    let inner = group.handle();
    group
        .spawn(async move {
            let index = inner.spawn(async { Ok(7) }).expect("spawn from a child");
            Ok(index)
        })
        .unwrap();
    assert_eq!(group.join().await.unwrap(), vec![1, 7]);
    assert_eq!(handle.spawn(async { Ok(0) }), Err(SpawnError::Closed));

    let group = TaskGroup::<_, (), &'static str>::new(rt.clone());
    let handle = group.handle();
    let failed = Arc::new(Event::new());
    let f = failed.clone();
    group
        .spawn(async move {
            f.set();
            Err("no")
        })
        .unwrap();
    failed.wait().await;
    until(|| group.token().is_cancelled()).await;
    assert_eq!(handle.spawn(async { Ok(()) }), Err(SpawnError::Cancelled));
    assert_eq!(group.join().await.unwrap_err().errors().len(), 1);
}

/// `with_limit(n)`: never more than n children at once, and all finish.
async fn task_group_with_limit_runs_at_most_n<R: Runtime>(rt: R) {
    let group = TaskGroup::<_, (), ()>::new(rt.clone()).with_limit(2);
    let running = Arc::new(AtomicUsize::new(0));
    let peak = Arc::new(AtomicUsize::new(0));
    for _ in 0..8 {
        let (running, peak) = (running.clone(), peak.clone());
        group
            .spawn(async move {
                let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                peak.fetch_max(now, Ordering::SeqCst);
                for _ in 0..3 {
                    anysync_tests::yield_now().await;
                }
                running.fetch_sub(1, Ordering::SeqCst);
                Ok(())
            })
            .unwrap();
    }
    group.join().await.unwrap();
    assert!(peak.load(Ordering::SeqCst) <= 2);
    assert!(peak.load(Ordering::SeqCst) >= 1);
}

/// Cancelling the parent token stops the group; a child that ignores it is
/// aborted after the grace period (zero here) and counted as cancelled.
async fn task_group_parent_cancel_stops_it<R: Runtime>(rt: R) {
    let parent = CancelToken::new();
    let group =
        TaskGroup::<_, (), ()>::with_parent(rt.clone(), &parent).grace_period(Duration::ZERO);
    let started = Arc::new(AtomicUsize::new(0));
    let s = started.clone();
    group
        .spawn(async move {
            s.fetch_add(1, Ordering::SeqCst);
            pending::<()>().await;
            Ok(())
        })
        .unwrap();
    let mut join = Box::pin(group.join());
    assert!(poll_once(&mut join).await.is_pending());
    until(|| started.load(Ordering::SeqCst) == 1).await;
    parent.cancel_with(CancelReason::Shutdown);
    let err = join.await.unwrap_err();
    assert!(err.errors().is_empty());
    assert_eq!(err.cancelled(), 1);
    assert_eq!(err.reason(), Some(&CancelReason::Shutdown));
}

/// A shielded future finishes, and keeps its result, although the future
/// awaiting it was dropped.
async fn shield_finishes_when_the_caller_is_cancelled<R: Runtime>(rt: R) {
    let gate = Arc::new(Event::new());
    let g = gate.clone();
    let mut shielded = shield(&rt, async move {
        g.wait().await;
        5
    });
    // The caller gives up (its wait is dropped)...
    assert!(race_yields(&mut shielded, 2).await.is_none());
    gate.set();
    // ...the result is still there.
    assert_eq!(shielded.await.unwrap(), 5);

    // Dropping the shield itself detaches: the work still happens.
    let done = Arc::new(Event::new());
    let d = done.clone();
    drop(shield(&rt, async move { d.set() }));
    done.wait().await;
}

/// A tracker's `wait` completes once it is closed and every tracked task
/// has ended, not before.
async fn task_tracker_waits_for_closed_and_empty<R: Runtime>(rt: R) {
    let tracker = TaskTracker::new();
    let gate = Arc::new(Event::new());
    let mut handles = Vec::new();
    for _ in 0..4 {
        let gate = gate.clone();
        handles.push(tracker.spawn(&rt, async move { gate.wait().await }));
    }
    assert_eq!(tracker.len(), 4);
    let mut wait = Box::pin(tracker.wait());
    assert!(poll_once(&mut wait).await.is_pending());
    tracker.close();
    assert!(poll_once(&mut wait).await.is_pending());
    gate.set();
    wait.await;
    assert!(tracker.is_empty());
    for handle in handles {
        handle.await.unwrap();
    }
    // Closed and empty: completes at once.
    tracker.wait().await;
}

/// A future that completes with `out` once `gate` is set.
fn gated(
    gate: &Arc<Event>,
    out: Result<usize, &'static str>,
) -> core::pin::Pin<Box<dyn core::future::Future<Output = Result<usize, &'static str>> + Send>> {
    let gate = gate.clone();
    Box::pin(async move {
        gate.wait().await;
        out
    })
}

/// `FirstCompleted` returns the one that completed and hands back the rest,
/// still usable.
async fn wait_first_completed_gives_done_and_pending() {
    let gates: Vec<_> = (0..3).map(|_| Arc::new(Event::new())).collect();
    let futures: Vec<_> = (0..3).map(|i| gated(&gates[i], Ok(i))).collect();
    gates[1].set();
    let waited = wait(futures, ReturnWhen::FirstCompleted).await;
    assert_eq!(waited.done, [(1, Ok(1))]);
    let indexes: Vec<_> = waited.pending.iter().map(|(i, _)| *i).collect();
    assert_eq!(indexes, [0, 2]);
    gates[2].set();
    let rest: Vec<_> = waited.pending.into_iter().map(|(_, f)| f).collect();
    let waited = wait(rest, ReturnWhen::FirstCompleted).await;
    assert_eq!(
        waited.done,
        [(1, Ok(2))],
        "indexes are positions in this call's input"
    );
}

/// `FirstError` keeps going past successes and stops at the first error;
/// `AllCompleted` waits for everything.
async fn wait_first_error_and_all_completed() {
    let gates: Vec<_> = (0..3).map(|_| Arc::new(Event::new())).collect();
    let futures = vec![
        gated(&gates[0], Ok(0)),
        gated(&gates[1], Err("bad")),
        gated(&gates[2], Ok(2)),
    ];
    gates[0].set();
    gates[1].set();
    let waited = wait(futures, ReturnWhen::FirstError).await;
    assert!(waited.done.contains(&(1, Err("bad"))));
    assert_eq!(waited.pending.len(), 1);
    assert_eq!(waited.pending[0].0, 2);

    let futures: Vec<_> = (0..3).map(|i| gated(&gates[i], Ok(i))).collect();
    gates[2].set();
    let mut waited = wait(futures, ReturnWhen::AllCompleted).await;
    waited.done.sort();
    assert_eq!(waited.done, [(0, Ok(0)), (1, Ok(1)), (2, Ok(2))]);
    assert!(waited.pending.is_empty());
    // No futures: returns at once.
    let none: Vec<core::future::Ready<Result<(), ()>>> = Vec::new();
    assert!(wait(none, ReturnWhen::AllCompleted).await.done.is_empty());
}

/// A blocking closure runs off the executor: async tasks keep making
/// progress while it blocks, and it waits for them.
async fn to_thread_runs_off_the_executor<R: Runtime>(rt: R) {
    let (tx, rx) = std::sync::mpsc::channel::<usize>();
    let job = to_thread(&rt, move || rx.recv().unwrap() * 2);
    let ticks = Arc::new(AtomicUsize::new(0));
    let t = ticks.clone();
    let ticker = rt.spawn(async move {
        for _ in 0..10 {
            t.fetch_add(1, Ordering::SeqCst);
            anysync_tests::yield_now().await;
        }
        tx.send(21).unwrap();
    });
    assert_eq!(job.await.unwrap(), 42);
    assert_eq!(ticks.load(Ordering::SeqCst), 10);
    ticker.await.unwrap();
    // A panic comes back as a JoinError.
    let err = to_thread(&rt, || panic!("boom")).await.unwrap_err();
    assert!(err.is_panic());
}

/// A capacity limiter of 2 lets exactly two closures run at once.
async fn capacity_limiter_runs_at_most_n_at_once<R: Runtime>(rt: R) {
    let limiter = CapacityLimiter::new(2);
    let barrier = Arc::new(std::sync::Barrier::new(2));
    let running = Arc::new(AtomicUsize::new(0));
    let peak = Arc::new(AtomicUsize::new(0));
    let jobs: Vec<_> = (0..4)
        .map(|_| {
            let (barrier, running, peak) = (barrier.clone(), running.clone(), peak.clone());
            limiter.run(&rt, move || {
                let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                peak.fetch_max(now, Ordering::SeqCst);
                // Needs a second closure running at the same time.
                barrier.wait();
                running.fetch_sub(1, Ordering::SeqCst);
            })
        })
        .collect();
    for result in futures_util::future::join_all(jobs).await {
        result.unwrap();
    }
    assert_eq!(peak.load(Ordering::SeqCst), 2);
    assert_eq!(limiter.in_use(), 0);
}

/// Dropping a cancellable job's future cancels the token its closure holds.
async fn to_thread_cancellable_closure_sees_the_drop<R: Runtime>(rt: R) {
    let limiter = CapacityLimiter::new(1);
    let (started_tx, started_rx) = std::sync::mpsc::channel();
    let stopped = Arc::new(Event::new());
    let s = stopped.clone();
    let mut job = Box::pin(limiter.run_cancellable(&rt, move |token| {
        started_tx.send(()).unwrap();
        futures_executor::block_on(token.cancelled());
        s.set();
        token.reason()
    }));
    assert!(poll_once(&mut job).await.is_pending());
    rt.spawn_blocking(move || started_rx.recv().unwrap())
        .await
        .unwrap();
    drop(job);
    stopped.wait().await;
    // Its slot comes back once the closure has returned.
    limiter.run(&rt, || ()).await.unwrap();
}

/// On a signal, a shutdown cancels its token, refuses new work, and
/// returns once the in-flight work has finished cleanly.
async fn shutdown_drains_in_flight_work<R: Runtime>(rt: R) {
    let shutdown = Shutdown::new(rt.clone(), Duration::MAX);
    let started = Arc::new(AtomicUsize::new(0));
    let mut handles = Vec::new();
    for i in 0..3usize {
        let (token, started) = (shutdown.token().clone(), started.clone());
        handles.push(
            shutdown
                .spawn(&rt, async move {
                    started.fetch_add(1, Ordering::SeqCst);
                    token.cancelled().await;
                    i
                })
                .unwrap(),
        );
    }
    until(|| started.load(Ordering::SeqCst) == 3).await;
    let report = shutdown
        .run(futures_util::stream::iter([Signal::Interrupt]))
        .await;
    assert_eq!(report.signal, Some(Signal::Interrupt));
    assert_eq!((report.finished, report.aborted), (3, 0));
    assert!(report.is_clean() && !report.timed_out && !report.second_signal);
    assert_eq!(shutdown.token().reason(), Some(CancelReason::Shutdown));
    assert!(matches!(
        shutdown.spawn(&rt, async {}),
        Err(SpawnError::Cancelled)
    ));
    for (i, handle) in handles.into_iter().enumerate() {
        assert_eq!(handle.await.unwrap(), Some(i));
    }
}

/// A second signal aborts the work still running, and the report says so.
async fn shutdown_second_signal_aborts_the_rest<R: Runtime>(rt: R) {
    let shutdown = Shutdown::new(rt.clone(), Duration::MAX);
    let drops = DropCounter::new();
    let guard = drops.guard();
    let stuck = shutdown
        .spawn(&rt, async move {
            let _guard = guard;
            pending::<()>().await;
        })
        .unwrap();
    let report = shutdown
        .run(futures_util::stream::iter([
            Signal::Interrupt,
            Signal::Interrupt,
        ]))
        .await;
    assert!(report.second_signal);
    assert_eq!((report.finished, report.aborted), (0, 1));
    assert!(!report.is_clean());
    assert_eq!(stuck.await.unwrap(), None);
    assert_eq!(drops.count(), 1);
}

/// Stress: tasks keep making and dropping children (and grandchildren)
/// of a shared token while it is cancelled; every child alive at the
/// cancel ends up cancelled, children made after it are born cancelled,
/// and nothing stays linked.
async fn cancel_token_churn_while_cancelling<R: Runtime>(rt: R) {
    let root = CancelToken::new();
    let ready = Arc::new(AtomicUsize::new(0));
    let handles: Vec<_> = (0..4)
        .map(|_| {
            let (root, ready) = (root.clone(), ready.clone());
            rt.spawn(async move {
                let mut kept = Vec::new();
                let mut rounds = 0usize;
                loop {
                    let child = root.child();
                    let grandchild = child.child();
                    if rounds % 3 == 0 {
                        kept.push(grandchild);
                    }
                    drop(child);
                    rounds += 1;
                    if rounds == 50 {
                        ready.fetch_add(1, Ordering::SeqCst);
                    }
                    if root.is_cancelled() && rounds >= 50 {
                        break;
                    }
                    anysync_tests::yield_now().await;
                }
                // Born after the cancel, or alive through it: all cancelled.
                let late = root.child();
                assert!(late.is_cancelled());
                for token in &kept {
                    token.cancelled().await;
                }
                kept.len()
            })
        })
        .collect();
    until(|| ready.load(Ordering::SeqCst) == 4).await;
    root.cancel();
    for handle in handles {
        assert!(handle.await.unwrap() >= 17);
    }
    assert_eq!(root.children_len(), 0);
}

/// Many children still running when `join` first looks: all are collected
/// once they finish, in spawn order.
async fn task_group_collects_many_children_that_finish_late<R: Runtime>(rt: R) {
    let group = TaskGroup::<_, usize, ()>::new(rt.clone());
    let gate = Arc::new(Event::new());
    for i in 0..200 {
        let gate = gate.clone();
        group
            .spawn(async move {
                gate.wait().await;
                Ok(i)
            })
            .unwrap();
    }
    let mut join = Box::pin(group.join());
    for _ in 0..20 {
        assert!(poll_once(&mut join).await.is_pending());
    }
    gate.set();
    assert_eq!(join.await.unwrap(), (0..200).collect::<Vec<_>>());
}

scenarios!(
    cancel_token_churn_while_cancelling,
    task_group_collects_many_children_that_finish_late,
);

scenarios!(
    shutdown_drains_in_flight_work,
    shutdown_second_signal_aborts_the_rest,
);

scenarios!(
    to_thread_runs_off_the_executor,
    capacity_limiter_runs_at_most_n_at_once,
    to_thread_cancellable_closure_sees_the_drop,
);

scenarios_no_rt!(
    wait_first_completed_gives_done_and_pending,
    wait_first_error_and_all_completed,
);

scenarios!(
    cancel_token_tree_reaches_tasks_through_a_dropped_intermediate,
    task_group_first_error_cancels_siblings_and_keeps_every_error,
    task_group_child_panic_cancels_siblings_and_resurfaces,
    task_group_join_gives_spawn_order,
    task_group_stream_gives_completion_order,
    task_group_dropping_join_drops_every_child,
    task_group_dropping_the_group_drops_every_child,
    task_group_spawn_rules,
    task_group_with_limit_runs_at_most_n,
    task_group_parent_cancel_stops_it,
    shield_finishes_when_the_caller_is_cancelled,
    task_tracker_waits_for_closed_and_empty,
);

scenarios_no_rt!(
    cancel_token_child_cancel_leaves_parent_and_siblings,
    run_until_cancelled_output_or_none,
);

// ---- exact times, on the virtual clock --------------------------------------

fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

/// A child fails at 2 s: a cooperative sibling stops at 2 s, one that
/// ignores the token is aborted at 2 s + the grace period.
#[test]
fn task_group_failure_at_2s_cancels_siblings_at_2s_and_aborts_after_grace() {
    let vt = VirtualTime::new();
    let log = Arc::new(Mutex::new(Vec::new()));
    let l = log.clone();
    let (err, end) = vt.block_on(|rt| async move {
        let group = TaskGroup::<_, (), &'static str>::new(rt.clone()).grace_period(secs(1));
        let (t, token) = (rt.clone(), group.token().clone());
        let log = l.clone();
        group
            .spawn(async move {
                token.cancelled().await;
                log.lock()
                    .unwrap()
                    .push(("cooperative stops", t.now().since_origin()));
                Ok(())
            })
            .unwrap();
        let (t, drops) = (rt.clone(), DropCounter::new());
        let guard = drops.guard();
        group
            .spawn(async move {
                let _guard = guard;
                t.sleep(secs(60)).await;
                Ok(())
            })
            .unwrap();
        let t = rt.clone();
        group
            .spawn(async move {
                t.sleep(secs(2)).await;
                Err("failed at 2 s")
            })
            .unwrap();
        let err = group.join().await.unwrap_err();
        assert_eq!(drops.count(), 1);
        (err, rt.now().since_origin())
    });
    assert_eq!(*log.lock().unwrap(), [("cooperative stops", secs(2))]);
    assert_eq!(end, secs(3));
    assert_eq!(err.errors().len(), 1);
    assert_eq!(err.cancelled(), 1);
}

/// With a grace period of `Duration::MAX`, nothing is aborted: `join` waits
/// for the child that ignores the token, and nothing panics.
#[test]
fn task_group_grace_max_waits_for_every_child() {
    let vt = VirtualTime::new();
    let end = vt.block_on(|rt| async move {
        let group = TaskGroup::<_, (), ()>::new(rt.clone()).grace_period(Duration::MAX);
        let t = rt.clone();
        group
            .spawn(async move {
                t.sleep(secs(60)).await;
                Ok(())
            })
            .unwrap();
        let t = rt.clone();
        group
            .spawn(async move {
                t.sleep(secs(2)).await;
                Err(())
            })
            .unwrap();
        let err = group.join().await.unwrap_err();
        assert_eq!(err.cancelled(), 0);
        rt.now().since_origin()
    });
    assert_eq!(end, secs(60));
}

/// `with_limit(0)` is a programming error, named in the panic.
#[test]
#[should_panic(expected = "TaskGroup::with_limit: `n` must be at least 1")]
fn task_group_with_limit_zero_panics() {
    let _ = TaskGroup::<_, (), ()>::new(VirtualTime::new()).with_limit(0);
}

/// `with_limit(2)` over six 1 s children takes exactly 3 s.
#[test]
fn task_group_with_limit_paces_exactly() {
    let vt = VirtualTime::new();
    let end = vt.block_on(|rt| async move {
        let group = TaskGroup::<_, (), ()>::new(rt.clone()).with_limit(2);
        for _ in 0..6 {
            let t = rt.clone();
            group
                .spawn(async move {
                    t.sleep(secs(1)).await;
                    Ok(())
                })
                .unwrap();
        }
        group.join().await.unwrap();
        rt.now().since_origin()
    });
    assert_eq!(end, secs(3));
}

/// A deadline scope cancels its token at the deadline, exactly, and drops
/// the future; a parent cancel reaches the scope's token too.
#[test]
fn move_on_after_cancels_at_the_deadline() {
    let vt = VirtualTime::new();
    vt.block_on(|rt| async move {
        let root = CancelToken::new();
        let seen = Arc::new(Mutex::new(None));
        let (t, s) = (rt.clone(), seen.clone());
        let out = move_on_after(&rt, &root, secs(5), |token| async move {
            // A task tied to the scope's token sees the deadline.
            let watcher = t.spawn({
                let token = token.clone();
                let t = t.clone();
                async move {
                    token.clone().cancelled_owned().await;
                    *s.lock().unwrap() = Some((token.reason(), t.now().since_origin()));
                }
            });
            t.sleep(secs(60)).await;
            drop(watcher);
        })
        .await;
        assert_eq!(out, None);
        assert_eq!(rt.now().since_origin(), secs(5));
        rt.sleep(Duration::ZERO).await;
        until(|| seen.lock().unwrap().is_some()).await;
        assert_eq!(
            *seen.lock().unwrap(),
            Some((Some(CancelReason::Deadline), secs(5)))
        );
        assert!(!root.is_cancelled());

        let t = rt.clone();
        let fast = move_on_after(&rt, &root, secs(5), |_| async move {
            t.sleep(secs(1)).await;
            9
        })
        .await;
        assert_eq!(fast, Some(9));
        assert_eq!(rt.now().since_origin(), secs(6));
    });
}

/// A shield outlives a timeout on its caller and finishes on time.
#[test]
fn shield_completes_on_time_after_its_caller_timed_out() {
    let vt = VirtualTime::new();
    vt.block_on(|rt| async move {
        let t = rt.clone();
        let mut critical = shield(&rt, async move {
            t.sleep(secs(3)).await;
            t.now().since_origin()
        });
        let timed_out = anysync::time::timeout(&rt, secs(1), &mut critical).await;
        assert!(timed_out.is_err());
        assert_eq!(critical.await.unwrap(), secs(3));
    });
}

/// `wait_timeout` returns what completed by the deadline, exactly then.
#[test]
fn wait_timeout_returns_at_the_deadline_with_what_is_done() {
    let vt = VirtualTime::new();
    vt.block_on(|rt| async move {
        let futures: Vec<_> = [1u64, 5, 3]
            .into_iter()
            .map(|s| {
                let rt = rt.clone();
                Box::pin(async move {
                    rt.sleep(secs(s)).await;
                    Ok::<_, ()>(s)
                })
            })
            .collect();
        let waited = wait_timeout(&rt, futures, ReturnWhen::AllCompleted, secs(4)).await;
        assert_eq!(rt.now().since_origin(), secs(4));
        assert_eq!(waited.done, [(0, Ok(1)), (2, Ok(3))]);
        assert_eq!(waited.pending.len(), 1);
        let (index, slow) = waited.pending.into_iter().next().unwrap();
        assert_eq!(index, 1);
        assert_eq!(slow.await, Ok(5));
        assert_eq!(rt.now().since_origin(), secs(5));

        // Duration::MAX: no timeout, no panic.
        let one = vec![Box::pin(async { Ok::<_, ()>(1) })];
        let waited = wait_timeout(&rt, one, ReturnWhen::AllCompleted, Duration::MAX).await;
        assert_eq!(waited.done, [(0, Ok(1))]);
    });
}

/// `CapacityLimiter::new(0)` is a programming error, named in the panic.
#[test]
#[should_panic(expected = "CapacityLimiter::new: `limit` must be at least 1")]
fn capacity_limiter_zero_panics() {
    let _ = CapacityLimiter::new(0);
}

/// The drain deadline is exact: work that ignores the token is aborted at
/// the deadline, work that honours it finishes at the signal.
#[test]
fn shutdown_aborts_at_the_drain_deadline() {
    let vt = VirtualTime::new();
    vt.block_on(|rt| async move {
        let shutdown = Shutdown::new(rt.clone(), secs(5));
        let (t, token) = (rt.clone(), shutdown.token().clone());
        let polite = shutdown
            .spawn(&rt, async move {
                token.cancelled().await;
                t.now().since_origin()
            })
            .unwrap();
        let t = rt.clone();
        let stubborn = shutdown
            .spawn(&rt, async move { t.sleep(secs(60)).await })
            .unwrap();
        // SIGTERM at 2 s.
        let t = rt.clone();
        let signals = futures_util::stream::once(async move {
            t.sleep(secs(2)).await;
            Signal::Terminate
        });
        let report = shutdown.run(Box::pin(signals)).await;
        assert_eq!(rt.now().since_origin(), secs(7));
        assert_eq!(polite.await.unwrap(), Some(secs(2)));
        assert_eq!(stubborn.await.unwrap(), None);
        assert!(report.timed_out);
        assert_eq!((report.finished, report.aborted), (1, 1));
        assert_eq!(
            report.to_string(),
            "shutdown on SIGTERM: 1 finished, 1 aborted (drain deadline passed)"
        );
    });
}

/// `trigger` starts a shutdown without a signal; a drain with nothing in
/// flight ends at once.
#[test]
fn shutdown_trigger_without_a_signal() {
    let vt = VirtualTime::new();
    vt.block_on(|rt| async move {
        let shutdown = Shutdown::new(rt.clone(), secs(5));
        let s = &shutdown;
        let t = rt.clone();
        let (report, ()) =
            futures_util::future::join(shutdown.run(futures_util::stream::pending()), async move {
                t.sleep(secs(1)).await;
                s.trigger();
            })
            .await;
        assert_eq!(report.signal, None);
        assert!(report.is_clean());
        assert_eq!(rt.now().since_origin(), secs(1));
    });
}

/// Children still waiting for a slot when the group is cancelled never
/// start, and count as cancelled.
#[test]
fn task_group_limit_children_waiting_for_a_slot_never_start_after_a_failure() {
    let vt = VirtualTime::new();
    let started = Arc::new(AtomicUsize::new(0));
    let s = started.clone();
    let err = vt.block_on(|rt| async move {
        let group = TaskGroup::<_, (), ()>::new(rt.clone()).with_limit(1);
        let t = rt.clone();
        group
            .spawn(async move {
                t.sleep(secs(1)).await;
                Err(())
            })
            .unwrap();
        for _ in 0..3 {
            let s = s.clone();
            group
                .spawn(async move {
                    s.fetch_add(1, Ordering::SeqCst);
                    Ok(())
                })
                .unwrap();
        }
        let err = group.join().await.unwrap_err();
        assert_eq!(rt.now().since_origin(), secs(1));
        err
    });
    assert_eq!(started.load(Ordering::SeqCst), 0);
    assert_eq!(err.errors().len(), 1);
    assert_eq!(err.cancelled(), 3);
}

/// `fail_after` is `Err(Elapsed)` exactly at the deadline, and `Ok` before.
#[test]
fn fail_after_errs_at_the_deadline() {
    let vt = VirtualTime::new();
    vt.block_on(|rt| async move {
        let root = CancelToken::new();
        let t = rt.clone();
        let late = fail_after(&rt, &root, secs(2), |_| async move {
            t.sleep(secs(3)).await;
        });
        assert_eq!(late.await, Err(anysync::time::Elapsed));
        assert_eq!(rt.now().since_origin(), secs(2));
        let t = rt.clone();
        let early = fail_after(&rt, &root, secs(2), |token| async move {
            t.sleep(secs(1)).await;
            token.is_cancelled()
        });
        assert_eq!(early.await, Ok(false));
        assert_eq!(rt.now().since_origin(), secs(3));
    });
}

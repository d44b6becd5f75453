//! The runtimes themselves, through the `rt` traits: timers, spawning,
//! abort, panics, blocking offload, and `timeout` on top of them.
//!
//! Scenarios assert orderings and counts only; exact times are checked at
//! the bottom, on `VirtualTime` alone.
#![forbid(unsafe_code)]

extern crate alloc;

use alloc::sync::Arc;
use core::{future::pending, pin::pin, time::Duration};
use std::sync::{mpsc, Mutex};

use anysync::{
    rt::{catch_task, virtual_time::VirtualTime, Instant, JoinHandle, Runtime},
    sync::Event,
    time::{timeout, Elapsed},
};
use anysync_tests::{scenarios, scenarios_no_rt, yield_now, DropCounter};
use futures_util::future::{select, Either};

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// Waits for `rx` on a blocking-work thread, so no async thread is stalled.
async fn recv_off_thread<R: Runtime, T: Send + 'static>(rt: &R, rx: mpsc::Receiver<T>) -> T {
    rt.spawn_blocking(move || rx.recv().expect("the sender was dropped"))
        .await
        .expect("the receiving job failed")
}

/// A sleep never completes before its deadline, on the runtime's own clock.
async fn sleep_never_completes_before_its_deadline<R: Runtime>(rt: R) {
    for duration in [Duration::ZERO, ms(1), ms(5), ms(20)] {
        let before = rt.now();
        rt.sleep(duration).await;
        let after = rt.now();
        assert!(
            after >= before + duration,
            "slept {duration:?}: {before:?} -> {after:?}"
        );
    }
    let deadline = rt.now() + ms(3);
    rt.sleep_until(deadline).await;
    assert!(rt.now() >= deadline);
    // A deadline in the past completes too.
    rt.sleep_until(Instant::ORIGIN).await;
}

/// The runtime's clock never goes backwards.
async fn now_never_goes_backwards<R: Runtime>(rt: R) {
    let mut last = rt.now();
    for _ in 0..100 {
        yield_now().await;
        let now = rt.now();
        assert!(now >= last, "{now:?} < {last:?}");
        last = now;
    }
}

/// Of two sleeps raced against each other, the shorter one finishes first.
async fn shorter_sleep_wins_a_race<R: Runtime>(rt: R) {
    let long = pin!(rt.sleep(Duration::from_secs(60)));
    let short = pin!(rt.sleep(ms(10)));
    assert!(matches!(select(long, short).await, Either::Right(_)));
}

/// Tasks sleeping until different deadlines wake in deadline order.
async fn sleeping_tasks_wake_in_deadline_order<R: Runtime>(rt: R) {
    let woke = Arc::new(Mutex::new(Vec::new()));
    // Sleeps are made up front, so their deadlines are 100 ms apart
    // whenever each task happens to start.
    let mut handles = Vec::new();
    for (name, delay) in [("third", 300), ("first", 100), ("second", 200)] {
        let sleep = rt.sleep(ms(delay));
        let woke = woke.clone();
        handles.push(rt.spawn(async move {
            sleep.await;
            woke.lock().unwrap().push(name);
        }));
    }
    for handle in handles {
        handle.await.unwrap();
    }
    assert_eq!(*woke.lock().unwrap(), ["first", "second", "third"]);
}

/// Every spawned task's output reaches its own handle.
async fn spawned_tasks_return_their_output<R: Runtime>(rt: R) {
    let handles: Vec<_> = (0..50u64).map(|i| rt.spawn(async move { i * i })).collect();
    let mut total = 0;
    for (i, handle) in (0..50u64).zip(handles) {
        let square = handle.await.unwrap();
        assert_eq!(square, i * i);
        total += square;
    }
    assert_eq!(total, (0..50u64).map(|i| i * i).sum::<u64>());
}

/// A task can spawn tasks, with the runtime it was given.
async fn tasks_spawn_tasks<R: Runtime>(rt: R) {
    let inner_rt = rt.clone();
    let outer = rt.spawn(async move {
        let inner = inner_rt.spawn(async { "inner" });
        inner.await.unwrap()
    });
    assert_eq!(outer.await.unwrap(), "inner");
}

/// Aborting a running task drops it; its handle then gives `is_cancelled`.
async fn abort_drops_a_running_task_and_reports_cancelled<R: Runtime>(rt: R) {
    let drops = DropCounter::new();
    let guard = drops.guard();
    let (started_tx, started_rx) = mpsc::channel();
    let task = rt.spawn(async move {
        let _guard = guard;
        started_tx.send(()).unwrap();
        pending::<()>().await;
    });
    recv_off_thread(&rt, started_rx).await;
    task.abort();
    let err = task.await.unwrap_err();
    assert!(err.is_cancelled() && !err.is_panic(), "{err:?}");
    // The task's future was dropped before its handle completed.
    assert_eq!(drops.count(), 1);
}

/// Aborting a task straight after spawning it cancels it, started or not.
async fn abort_right_after_spawn_cancels<R: Runtime>(rt: R) {
    let drops = DropCounter::new();
    let guard = drops.guard();
    let task = rt.spawn(async move {
        let _guard = guard;
        pending::<()>().await;
    });
    task.abort();
    task.abort(); // twice is harmless
    assert!(task.await.unwrap_err().is_cancelled());
    assert_eq!(drops.count(), 1);
}

/// A panic in a task becomes `is_panic` at its handle, payload included;
/// the runtime keeps working.
async fn panic_in_a_task_becomes_a_join_error<R: Runtime>(rt: R) {
    let bad = rt.spawn(async {
        panic!("scenario boom");
    });
    let err = bad.await.unwrap_err();
    assert!(err.is_panic() && !err.is_cancelled(), "{err:?}");
    let payload = err.try_into_panic().expect("the payload is kept");
    assert_eq!(payload.downcast_ref::<&str>(), Some(&"scenario boom"));
    assert_eq!(rt.spawn(async { 1 }).await.unwrap(), 1);
}

/// Dropping a handle detaches its task, which runs to completion.
async fn dropped_handle_detaches_the_task<R: Runtime>(rt: R) {
    let (go_tx, go_rx) = mpsc::channel::<()>();
    let (done_tx, done_rx) = mpsc::channel();
    let task_rt = rt.clone();
    let handle = rt.spawn(async move {
        // Goes on only once its handle is gone.
        recv_off_thread(&task_rt, go_rx).await;
        done_tx.send("done").unwrap();
    });
    drop(handle);
    go_tx.send(()).unwrap();
    assert_eq!(recv_off_thread(&rt, done_rx).await, "done");
}

/// `spawn_blocking` gives the closure's value, or `is_panic` if it panics.
async fn spawn_blocking_returns_value_or_panic<R: Runtime>(rt: R) {
    let sum = rt.spawn_blocking(|| (1..=100u32).sum::<u32>());
    assert_eq!(sum.await.unwrap(), 5050);
    let bad = rt.spawn_blocking(|| -> u32 { panic!("blocking boom") });
    assert!(bad.await.unwrap_err().is_panic());
}

/// A blocking closure that waits on async work does not stall it: the
/// closure runs on its own thread while a task ticks along.
async fn spawn_blocking_does_not_stall_a_ticking_task<R: Runtime>(rt: R) {
    let (ticks_tx, ticks_rx) = mpsc::channel();
    // Blocks its thread until the ticker has finished.
    let waiter = rt.spawn_blocking(move || ticks_rx.recv().unwrap());
    let ticker = rt.spawn(async move {
        let mut ticks = 0;
        for _ in 0..10 {
            yield_now().await;
            ticks += 1;
        }
        ticks_tx.send(ticks).unwrap();
        ticks
    });
    assert_eq!(waiter.await.unwrap(), 10);
    assert_eq!(ticker.await.unwrap(), 10);
}

/// An inner future that is ready at once wins, even with a zero timeout.
async fn timeout_ready_inner_wins_even_at_zero<R: Runtime>(rt: R) {
    assert_eq!(timeout(&rt, Duration::ZERO, async { 7 }).await, Ok(7));
    assert_eq!(
        timeout(&rt, Duration::ZERO, core::future::ready("x")).await,
        Ok("x")
    );
}

/// When time runs out, the inner future is dropped before `Elapsed` is
/// returned.
async fn timeout_elapsed_drops_the_inner_future<R: Runtime>(rt: R) {
    let drops = DropCounter::new();
    let guard = drops.guard();
    let inner = async move {
        let _guard = guard;
        pending::<()>().await;
    };
    assert_eq!(timeout(&rt, ms(5), inner).await, Err(Elapsed));
    assert_eq!(drops.count(), 1);
}

/// `Duration::MAX` is "no limit": no panic, the inner result comes
/// through; a sleep for `Duration::MAX` is just one that never ends.
async fn timeout_and_sleep_accept_duration_max<R: Runtime>(rt: R) {
    assert_eq!(timeout(&rt, Duration::MAX, async { 1 }).await, Ok(1));
    assert_eq!(timeout(&rt, Duration::MAX, rt.sleep(ms(1))).await, Ok(()));
    assert_eq!(
        timeout(&rt, ms(1), rt.sleep(Duration::MAX)).await,
        Err(Elapsed)
    );
}

/// A timeout around a task's handle gives up waiting, not the task.
async fn timeout_on_a_handle_leaves_the_task_running<R: Runtime>(rt: R) {
    // An async gate, not a blocking job: on the virtual clock, time
    // stands still while a blocking job runs.
    let go = Arc::new(Event::new());
    let gate = go.clone();
    let mut task = rt.spawn(async move {
        gate.wait().await;
        "finished"
    });
    assert!(timeout(&rt, ms(1), &mut task).await.is_err());
    go.set();
    assert_eq!(task.await.unwrap(), "finished");
}

scenarios!(
    sleep_never_completes_before_its_deadline,
    now_never_goes_backwards,
    shorter_sleep_wins_a_race,
    sleeping_tasks_wake_in_deadline_order,
    spawned_tasks_return_their_output,
    tasks_spawn_tasks,
    abort_drops_a_running_task_and_reports_cancelled,
    abort_right_after_spawn_cancels,
    panic_in_a_task_becomes_a_join_error,
    dropped_handle_detaches_the_task,
    spawn_blocking_returns_value_or_panic,
    spawn_blocking_does_not_stall_a_ticking_task,
    timeout_ready_inner_wins_even_at_zero,
    timeout_elapsed_drops_the_inner_future,
    timeout_and_sleep_accept_duration_max,
    timeout_on_a_handle_leaves_the_task_running
);

/// `catch_task` needs no runtime: the wrapped future runs wherever it
/// is polled, and its handle gets the output.
async fn catch_task_runs_anywhere() {
    let (task, handle) = catch_task(async { 40 + 2 });
    task.await;
    assert_eq!(handle.await.unwrap(), 42);
}

scenarios_no_rt!(catch_task_runs_anywhere);

// Exact times: on the virtual clock only.

#[test]
fn virtual_time_sleeps_add_up_exactly() {
    let vt = VirtualTime::new();
    vt.block_on(|rt| async move {
        rt.sleep(ms(100)).await;
        rt.sleep(ms(200)).await;
    });
    assert_eq!(vt.now(), Instant::from_origin(ms(300)));
}

#[test]
fn virtual_time_tasks_wake_at_their_exact_deadlines() {
    let vt = VirtualTime::new();
    let woke_at = vt.block_on(|rt| async move {
        let handles: Vec<_> = [30, 10, 20]
            .map(|delay| {
                let rt2 = rt.clone();
                rt.spawn(async move {
                    rt2.sleep(ms(delay)).await;
                    rt2.now().since_origin()
                })
            })
            .into_iter()
            .collect();
        let mut woke_at = Vec::new();
        for handle in handles {
            woke_at.push(handle.await.unwrap());
        }
        woke_at
    });
    assert_eq!(woke_at, [ms(30), ms(10), ms(20)]);
    assert_eq!(vt.now().since_origin(), ms(30));
}

#[test]
fn virtual_time_timeout_elapses_exactly_at_its_deadline() {
    let vt = VirtualTime::new();
    vt.block_on(|rt| async move {
        rt.sleep(ms(7)).await;
        assert_eq!(timeout(&rt, ms(5), pending::<()>()).await, Err(Elapsed));
        assert_eq!(rt.now(), Instant::from_origin(ms(12)));
        // The inner future wins when it is ready exactly at the deadline.
        let inner = rt.sleep(ms(5));
        assert_eq!(timeout(&rt, ms(5), inner).await, Ok(()));
        assert_eq!(rt.now(), Instant::from_origin(ms(17)));
    });
}

#[test]
fn virtual_time_blocking_job_does_not_move_the_clock() {
    let vt = VirtualTime::new();
    vt.block_on(|rt| async move {
        let sleeper = rt.spawn({
            let rt = rt.clone();
            async move { rt.sleep(ms(50)).await }
        });
        yield_now().await; // the sleeper's timer is now pending
        let clock = rt.clone();
        let seen = rt.spawn_blocking(move || clock.now()).await.unwrap();
        assert_eq!(seen, Instant::ORIGIN);
        sleeper.await.unwrap();
        assert_eq!(rt.now(), Instant::from_origin(ms(50)));
    });
}

/// The runtime types and their futures can move between threads, as the
/// traits require; handles are `Unpin` so they can be polled in place.
#[test]
fn runtime_types_are_send_sync_and_handles_unpin() {
    fn send_sync<T: Send + Sync + 'static>() {}
    fn send_unpin<T: Send + Unpin + 'static>() {}
    fn runtime<R: Runtime>() {}

    runtime::<VirtualTime>();
    send_sync::<anysync::rt::virtual_time::Sleep>();
    send_sync::<anysync::rt::TaskHandle<u8>>();
    send_unpin::<anysync::rt::TaskHandle<u8>>();
    send_sync::<anysync::rt::CatchTask<core::future::Ready<u8>>>();
    send_sync::<anysync::rt::BlockingJob<fn() -> u8, u8>>();
    #[cfg(feature = "tokio")]
    {
        runtime::<anysync_tokio::Tokio>();
        send_sync::<anysync_tokio::TokioJoinHandle<u8>>();
        send_unpin::<anysync_tokio::TokioJoinHandle<u8>>();
    }
    #[cfg(feature = "smol")]
    runtime::<anysync_smol::Smol>();
    #[cfg(feature = "async-std")]
    runtime::<anysync_async_std::AsyncStd>();
}

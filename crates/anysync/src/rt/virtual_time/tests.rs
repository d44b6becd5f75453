use alloc::{format, vec};
use core::future::{pending, poll_fn};
use std::sync::mpsc;

use super::*;
use crate::{rt::Runtime, time::timeout};

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn at(n: u64) -> Instant {
    Instant::from_origin(ms(n))
}

/// Returns `Pending` once, waking itself: goes to the back of the queue.
async fn yield_now() {
    let mut yielded = false;
    poll_fn(|cx| {
        if yielded {
            Poll::Ready(())
        } else {
            yielded = true;
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    })
    .await;
}

/// Polls `future` once, from inside a task.
async fn poll_once<F: Future + Unpin>(future: &mut F) -> Poll<F::Output> {
    poll_fn(|cx| Poll::Ready(Pin::new(&mut *future).poll(cx))).await
}

#[derive(Clone, Default)]
struct Log(Arc<Mutex<Vec<&'static str>>>);
impl Log {
    fn push(&self, s: &'static str) {
        self.0.lock().unwrap().push(s);
    }
    fn take(&self) -> Vec<&'static str> {
        core::mem::take(&mut *self.0.lock().unwrap())
    }
}

struct PushOnDrop(Log, &'static str);
impl Drop for PushOnDrop {
    fn drop(&mut self) {
        self.0.push(self.1);
    }
}

#[test]
fn is_a_send_sync_runtime() {
    fn runtime<R: Runtime>() {}
    fn send_sync<T: Send + Sync + 'static>() {}
    runtime::<VirtualTime>();
    send_sync::<VirtualTime>();
    send_sync::<TaskHandle<u8>>();
    fn send<T: Send>() {}
    send::<Sleep>();
}

#[test]
fn clock_starts_at_origin() {
    assert_eq!(VirtualTime::new().now(), Instant::ORIGIN);
    assert_eq!(Timer::now(&VirtualTime::default()), Instant::ORIGIN);
}

#[test]
fn consecutive_sleeps_add_up_exactly() {
    let vt = VirtualTime::new();
    let inside = vt.block_on(|rt| async move {
        rt.sleep(ms(100)).await;
        assert_eq!(rt.now(), at(100));
        rt.sleep(ms(200)).await;
        rt.now()
    });
    assert_eq!(inside, at(300));
    assert_eq!(vt.now(), at(300));
}

#[test]
fn clock_carries_over_between_block_on_calls() {
    let vt = VirtualTime::new();
    vt.block_on(|rt| async move { rt.sleep(ms(10)).await });
    vt.block_on(|rt| async move { rt.sleep(ms(5)).await });
    assert_eq!(vt.now(), at(15));
}

#[test]
fn timers_fire_in_deadline_order() {
    let vt = VirtualTime::new();
    let log = Log::default();
    vt.block_on(|rt| {
        let log = log.clone();
        async move {
            let mut handles = vec![];
            for (name, delay) in [("30", 30), ("10", 10), ("20", 20)] {
                let (rt2, log) = (rt.clone(), log.clone());
                handles.push(rt.spawn(async move {
                    rt2.sleep(ms(delay)).await;
                    assert_eq!(rt2.now(), at(delay));
                    log.push(name);
                }));
            }
            for h in handles {
                h.await.unwrap();
            }
        }
    });
    assert_eq!(log.take(), ["10", "20", "30"]);
    assert_eq!(vt.now(), at(30));
}

#[test]
fn equal_deadlines_fire_together_in_creation_order() {
    let vt = VirtualTime::new();
    let log = Log::default();
    vt.block_on(|rt| {
        let log = log.clone();
        async move {
            // Created in the order c, a, b; polled (registered) a, b, c.
            let sc = rt.sleep(ms(10));
            let sa = rt.sleep(ms(10));
            let sb = rt.sleep(ms(10));
            let mut handles = vec![];
            for (name, sleep) in [("a", sa), ("b", sb), ("c", sc)] {
                let log = log.clone();
                handles.push(rt.spawn(async move {
                    sleep.await;
                    log.push(name);
                }));
            }
            for h in handles {
                h.await.unwrap();
            }
            assert_eq!(rt.now(), at(10));
        }
    });
    assert_eq!(log.take(), ["c", "a", "b"]);
}

#[test]
fn runnable_tasks_run_in_fifo_order_of_wake_up() {
    let vt = VirtualTime::new();
    let log = Log::default();
    vt.block_on(|rt| {
        let log = log.clone();
        async move {
            let a = rt.spawn({
                let log = log.clone();
                async move {
                    log.push("a1");
                    yield_now().await;
                    log.push("a2");
                }
            });
            let b = rt.spawn({
                let log = log.clone();
                async move {
                    log.push("b1");
                    yield_now().await;
                    log.push("b2");
                }
            });
            log.push("main");
            a.await.unwrap();
            b.await.unwrap();
        }
    });
    assert_eq!(log.take(), ["main", "a1", "b1", "a2", "b2"]);
}

#[test]
fn time_stands_still_while_anything_is_runnable() {
    let vt = VirtualTime::new();
    vt.block_on(|rt| async move {
        let ticker = rt.spawn({
            let rt = rt.clone();
            async move {
                rt.sleep(ms(1)).await;
                rt.now()
            }
        });
        for _ in 0..1000 {
            yield_now().await;
        }
        assert_eq!(rt.now(), Instant::ORIGIN);
        assert_eq!(ticker.await.unwrap(), at(1));
    });
}

#[test]
fn zero_and_past_sleeps_complete_at_once() {
    VirtualTime::new().block_on(|rt| async move {
        rt.sleep(ms(7)).await;
        rt.sleep(Duration::ZERO).await;
        rt.sleep_until(at(3)).await;
        rt.sleep_until(at(7)).await;
        assert_eq!(rt.now(), at(7));
    });
}

#[test]
fn dropped_sleep_deregisters_its_timer() {
    let vt = VirtualTime::new();
    vt.block_on(|rt| async move {
        let mut long = Box::pin(rt.sleep(Duration::from_secs(3600)));
        assert!(poll_once(&mut long).await.is_pending());
        assert_eq!(rt.pending_timers(), 1);
        drop(long);
        assert_eq!(rt.pending_timers(), 0);
        rt.sleep(ms(1)).await;
    });
    // The clock never visited the dropped deadline.
    assert_eq!(vt.now(), at(1));
}

#[test]
fn timeout_that_wins_leaves_no_timer_behind() {
    let vt = VirtualTime::new();
    vt.block_on(|rt| async move {
        assert_eq!(
            timeout(&rt, Duration::from_secs(3600), async { 1 }).await,
            Ok(1)
        );
        let inner = rt.sleep(ms(5));
        assert!(timeout(&rt, ms(2), inner).await.is_err());
        assert_eq!(rt.now(), at(2));
        assert_eq!(rt.pending_timers(), 0);
    });
}

#[test]
fn duration_max_never_fires_and_does_not_panic() {
    let vt = VirtualTime::new();
    vt.block_on(|rt| async move {
        let forever = rt.sleep(Duration::MAX);
        assert_eq!(forever.deadline(), None);
        assert!(timeout(&rt, ms(1), forever).await.is_err());
        rt.sleep(ms(1)).await;
        // Not representable any more: still "never", still no panic.
        assert!(timeout(&rt, ms(1), rt.sleep(Duration::MAX)).await.is_err());
        let far = rt.sleep_until(Instant::from_origin(Duration::MAX));
        assert_eq!(far.deadline(), None);
    });
    assert_eq!(vt.now(), at(3));
}

#[test]
#[should_panic(expected = "deadlock: main future can never complete")]
fn waiting_on_a_never_sleep_alone_is_a_deadlock() {
    VirtualTime::new().block_on(|rt| async move { rt.sleep(Duration::MAX).await });
}

#[test]
#[should_panic(expected = "deadlock: main future can never complete")]
fn waiting_on_nothing_is_a_deadlock() {
    VirtualTime::new().block_on(|_rt| pending::<()>());
}

#[test]
#[should_panic(expected = "deadlock: main future can never complete")]
fn waiting_on_a_stuck_task_is_a_deadlock() {
    VirtualTime::new().block_on(|rt| async move {
        let stuck = rt.spawn(pending::<()>());
        let _ = stuck.await;
    });
}

#[test]
fn abort_cancels_a_sleeping_task_without_moving_the_clock() {
    let vt = VirtualTime::new();
    let log = Log::default();
    vt.block_on(|rt| {
        let log = log.clone();
        async move {
            let task = rt.spawn({
                let rt = rt.clone();
                async move {
                    let _guard = PushOnDrop(log, "dropped");
                    rt.sleep(Duration::from_secs(3600)).await;
                    "finished"
                }
            });
            yield_now().await; // let it start and register its timer
            assert_eq!(rt.pending_timers(), 1);
            task.abort();
            let err = task.await.unwrap_err();
            assert!(err.is_cancelled());
            assert_eq!(rt.pending_timers(), 0);
        }
    });
    assert_eq!(log.take(), ["dropped"]);
    assert_eq!(vt.now(), Instant::ORIGIN);
}

#[test]
fn abort_before_the_first_poll_never_runs_the_task() {
    let log = Log::default();
    VirtualTime::new().block_on(|rt| {
        let log = log.clone();
        async move {
            let task = rt.spawn(async move { log.push("ran") });
            task.abort();
            assert!(task.await.unwrap_err().is_cancelled());
        }
    });
    assert_eq!(log.take(), Vec::<&str>::new());
}

#[test]
fn panic_in_a_task_becomes_a_join_error() {
    let vt = VirtualTime::new();
    vt.block_on(|rt| async move {
        let bad = rt.spawn(async { panic!("task boom") });
        let good = rt.spawn(async { 5 });
        let err = bad.await.unwrap_err();
        assert!(err.is_panic());
        assert!(format!("{err}").contains("task boom"));
        assert_eq!(good.await.unwrap(), 5);
        rt.sleep(ms(1)).await; // the executor keeps going
    });
    assert_eq!(vt.now(), at(1));
}

#[test]
#[should_panic(expected = "main boom")]
fn panic_in_the_main_future_propagates() {
    VirtualTime::new().block_on(|rt| async move {
        rt.sleep(ms(1)).await;
        panic!("main boom");
    });
}

#[test]
fn runtime_is_usable_after_main_future_panicked() {
    let vt = VirtualTime::new();
    let rt = vt.clone();
    let caught = std::panic::catch_unwind(move || {
        rt.block_on(|rt| async move {
            let _pending = rt.spawn(pending::<()>());
            panic!("main boom");
        })
    });
    assert!(caught.is_err());
    assert_eq!(vt.task_count(), 0);
    assert_eq!(vt.block_on(|_| async { 1 }), 1);
}

#[test]
#[allow(clippy::async_yields_async)] // returning the handle unawaited is the point
fn unfinished_tasks_are_dropped_when_block_on_returns() {
    let vt = VirtualTime::new();
    let log = Log::default();
    let handle = vt.block_on(|rt| {
        let log = log.clone();
        async move {
            let handle = rt.spawn(async move {
                let _guard = PushOnDrop(log, "dropped");
                pending::<()>().await;
            });
            yield_now().await;
            handle
        }
    });
    assert_eq!(log.take(), ["dropped"]);
    assert_eq!(vt.task_count(), 0);
    assert!(futures_executor::block_on(handle)
        .unwrap_err()
        .is_cancelled());
}

#[test]
fn task_spawned_outside_runs_at_the_next_block_on() {
    let vt = VirtualTime::new();
    let task = vt.spawn(async { 2 });
    assert_eq!(vt.block_on_future(task).unwrap(), 2);
}

#[test]
fn blocking_job_result_and_panic() {
    VirtualTime::new().block_on(|rt| async move {
        let sum = rt.spawn_blocking(|| (1..=10).sum::<u32>());
        assert_eq!(sum.await.unwrap(), 55);
        let bad = rt.spawn_blocking(|| -> u8 { panic!("blocking boom") });
        assert!(bad.await.unwrap_err().is_panic());
    });
}

#[test]
fn clock_stands_still_while_a_blocking_job_runs() {
    let vt = VirtualTime::new();
    vt.block_on(|rt| async move {
        let (tx, rx) = mpsc::channel::<()>();
        // A task with a timer pending: the clock could jump to 10 ms...
        let ticker = rt.spawn({
            let rt = rt.clone();
            async move {
                rt.sleep(ms(10)).await;
                rt.now()
            }
        });
        // ...but it must not while this job runs. The job reads the
        // clock only after the executor has gone idle: it waits until
        // this task has reached its await.
        let job = rt.spawn_blocking({
            let rt = rt.clone();
            move || {
                rx.recv().unwrap();
                rt.now()
            }
        });
        let joined = rt.spawn(job);
        yield_now().await; // the ticker registers its timer
        tx.send(()).unwrap();
        assert_eq!(joined.await.unwrap().unwrap(), Instant::ORIGIN);
        assert_eq!(ticker.await.unwrap(), at(10));
    });
}

#[test]
fn blocking_job_may_wake_tasks_from_its_thread() {
    VirtualTime::new().block_on(|rt| async move {
        let (tx, rx) = mpsc::channel::<u8>();
        let task = rt.spawn({
            let rt = rt.clone();
            async move { rt.spawn_blocking(move || rx.recv().unwrap()).await }
        });
        let sender = rt.spawn_blocking(move || tx.send(9).unwrap());
        sender.await.unwrap();
        assert_eq!(task.await.unwrap().unwrap(), 9);
    });
}

#[test]
#[should_panic(expected = "already running")]
fn nested_block_on_panics() {
    VirtualTime::new().block_on(|rt| async move { rt.block_on(|_| async {}) });
}

#[test]
fn debug_shows_clock_and_counts() {
    let vt = VirtualTime::new();
    let _task = vt.spawn(async {});
    let text = format!("{vt:?}");
    assert!(text.contains("now: Instant(+0ns)"), "{text}");
    assert!(text.contains("tasks: 1"), "{text}");
    let sleep = vt.sleep(ms(1));
    assert!(format!("{sleep:?}").contains("fired: false"));
}

/// A due timer whose wake panics strands no other due timer: every one is
/// woken, and the panic comes out of `block_on` after.
#[test]
fn a_timer_wake_that_panics_strands_no_other_timer() {
    use crate::util::{
        hostile::{panics, Hostile},
        test::TestTask,
    };
    let vt = VirtualTime::new();
    let bad = Hostile::new();
    let mut first = TestTask::new(vt.sleep(ms(1000)));
    assert!(first.poll_with(&bad.waker()).is_pending());
    let mut second = TestTask::new(vt.sleep(ms(1000)));
    second.pending();
    bad.panic_on_wake(true);
    assert!(panics(
        || vt.block_on(|rt| async move { rt.sleep(ms(2000)).await })
    ));
    assert!(second.is_woken(), "the other due timer was stranded");
    second.ready();
    first.ready();
}

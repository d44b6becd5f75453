use alloc::{boxed::Box, format, string::String};
use core::future::pending;
use std::thread;

use futures_executor::block_on;
use futures_util::{future::poll_fn, FutureExt as _};

use super::*;

/// A shared boolean, for "did it run / was it dropped".
#[derive(Clone, Default)]
struct Flag(Arc<Mutex<bool>>);
impl Flag {
    fn set(&self) {
        *self.0.lock().unwrap() = true;
    }
    fn get(&self) -> bool {
        *self.0.lock().unwrap()
    }
}

struct SetOnDrop(Flag);
impl Drop for SetOnDrop {
    fn drop(&mut self) {
        self.0.set();
    }
}

#[test]
fn output_reaches_the_handle() {
    let (task, handle) = catch_task(async { 5 });
    block_on(task);
    assert!(handle.is_finished());
    assert_eq!(block_on(handle).unwrap(), 5);
}

#[test]
fn handle_awaited_first_is_woken_by_the_task() {
    let (task, handle) = catch_task(async { "done" });
    let joiner = thread::spawn(move || block_on(handle));
    block_on(task);
    assert_eq!(joiner.join().unwrap().unwrap(), "done");
}

#[test]
fn panic_becomes_join_error_with_payload() {
    let which = String::from("1");
    let (task, handle) = catch_task(async move {
        panic!("boom {which}");
    });
    block_on(task); // does not unwind
    let err = block_on(handle).unwrap_err();
    assert!(err.is_panic() && !err.is_cancelled());
    let payload = err.try_into_panic().unwrap();
    assert_eq!(*payload.downcast::<String>().unwrap(), "boom 1");
}

#[test]
fn abort_drops_the_future_before_the_handle_completes() {
    let dropped = Flag::default();
    let guard = SetOnDrop(dropped.clone());
    let (task, handle) = catch_task(async move {
        let _guard = guard;
        pending::<()>().await;
    });
    let mut task = Box::pin(task);
    assert!(task.as_mut().now_or_never().is_none());
    assert!(!handle.is_finished());
    handle.abort();
    assert!(!dropped.get(), "abort itself drops nothing");
    assert!(task.as_mut().now_or_never().is_some());
    assert!(task.is_terminated());
    assert!(dropped.get());
    assert!(block_on(handle).unwrap_err().is_cancelled());
}

#[test]
fn abort_wakes_the_task() {
    let (task, handle) = catch_task(pending::<()>());
    let mut task = Box::pin(task);
    let waker = futures_test::task::new_count_waker();
    let mut cx = Context::from_waker(&waker.0);
    assert!(task.as_mut().poll(&mut cx).is_pending());
    assert_eq!(waker.1.get(), 0);
    handle.abort();
    assert_eq!(waker.1.get(), 1);
    assert!(task.as_mut().poll(&mut cx).is_ready());
}

#[test]
fn abort_after_completion_does_nothing() {
    let (task, handle) = catch_task(async { 1 });
    block_on(task);
    handle.abort();
    assert_eq!(block_on(handle).unwrap(), 1);
}

#[test]
fn dropping_an_unfinished_task_gives_cancelled() {
    let (task, handle) = catch_task(pending::<u8>());
    drop(task);
    assert!(block_on(handle).unwrap_err().is_cancelled());
}

#[test]
fn dropping_the_handle_detaches() {
    let ran = Flag::default();
    let ran2 = ran.clone();
    let (task, handle) = catch_task(async move { ran2.set() });
    drop(handle);
    block_on(task);
    assert!(ran.get());
}

#[test]
fn panic_while_dropping_the_future_is_reported() {
    struct PanicOnDrop;
    impl Drop for PanicOnDrop {
        fn drop(&mut self) {
            panic!("drop boom");
        }
    }
    let (task, handle) = catch_task(async {
        let _p = PanicOnDrop;
        pending::<()>().await;
    });
    let mut task = Box::pin(task);
    assert!(task.as_mut().now_or_never().is_none());
    handle.abort();
    assert!(task.as_mut().now_or_never().is_some());
    assert!(block_on(handle).unwrap_err().is_panic());
}

#[test]
fn polling_a_finished_task_again_is_harmless() {
    let (task, _handle) = catch_task(async {});
    let mut task = Box::pin(task);
    assert!(task.as_mut().now_or_never().is_some());
    assert!(task.as_mut().now_or_never().is_some());
}

#[test]
fn handle_replaces_its_waker_and_wakes_the_latest() {
    let (task, mut handle) = catch_task(async { 3 });
    let (w1, c1) = futures_test::task::new_count_waker();
    let (w2, c2) = futures_test::task::new_count_waker();
    assert!(Pin::new(&mut handle)
        .poll(&mut Context::from_waker(&w1))
        .is_pending());
    assert!(Pin::new(&mut handle)
        .poll(&mut Context::from_waker(&w2))
        .is_pending());
    block_on(task);
    assert_eq!((c1.get(), c2.get()), (0, 1));
    let mut handle = Some(handle);
    let out = block_on(poll_fn(|cx| Pin::new(handle.as_mut().unwrap()).poll(cx)));
    assert_eq!(out.unwrap(), 3);
    assert!(handle.unwrap().is_terminated());
}

#[test]
fn blocking_job_output_and_panic() {
    let (job, handle) = catch_blocking(|| 9);
    thread::spawn(move || job.run());
    assert_eq!(block_on(handle).unwrap(), 9);

    let (job, handle) = catch_blocking(|| -> u8 { panic!("blocking boom") });
    job.run();
    assert!(block_on(handle).unwrap_err().is_panic());
}

#[test]
fn aborted_blocking_job_never_runs() {
    let ran = Flag::default();
    let ran2 = ran.clone();
    let (job, handle) = catch_blocking(move || ran2.set());
    handle.abort();
    job.run();
    assert!(!ran.get());
    assert!(block_on(handle).unwrap_err().is_cancelled());
}

#[test]
fn dropped_blocking_job_gives_cancelled() {
    let (job, handle) = catch_blocking(|| 1);
    drop(job);
    assert!(block_on(handle).unwrap_err().is_cancelled());
}

#[test]
fn debug_shows_state() {
    let (task, handle) = catch_task(async { 1 });
    assert!(format!("{handle:?}").contains("running"));
    assert!(format!("{task:?}").contains("done: false"));
    block_on(task);
    assert!(format!("{handle:?}").contains("finished"));
}

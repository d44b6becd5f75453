//! One function per executor: build it, run a scenario body on it, under a
//! watchdog.
//!
//! Each function takes the scenario's name (for messages) and its body, a
//! function from that executor's [`Runtime`](anysync::rt::Runtime) type to
//! a future. The [`scenarios!`](crate::scenarios) macros call them; adding an
//! executor means one function here and one line in `__scenario_tests!`.
//!
//! Every run happens on a fresh thread, watched from the test's own thread:
//! if the body has not finished after [`time_limit`] of real time (a lost
//! wake-up, a deadlock), the test fails with a message naming the scenario
//! and the executor instead of hanging CI. A panic in the body is re-raised
//! on the test's thread with its original payload, so
//! `#[should_panic(expected = ..)]` works.

use core::{future::Future, time::Duration};
use std::{panic, sync::mpsc, thread};

use anysync::rt::virtual_time::VirtualTime;

/// The real-time limit for one scenario on one executor: 60 s, or
/// `ANYSYNC_TEST_TIME_LIMIT_SECS` from the environment.
pub fn time_limit() -> Duration {
    std::env::var("ANYSYNC_TEST_TIME_LIMIT_SECS")
        .ok()
        .and_then(|secs| secs.parse().ok())
        .map_or(Duration::from_secs(60), Duration::from_secs)
}

/// Runs `run` on a new thread and waits at most `limit` for it.
///
/// # Panics
/// With "`<name>` on `<executor>`: still running after ..." when the limit
/// passes (the thread is left behind), or with `run`'s own panic.
pub fn watchdog<F>(name: &str, executor: &str, limit: Duration, run: F)
where
    F: FnOnce() + Send + 'static,
{
    if cfg!(miri) {
        // Miri is slow and detects deadlocks itself.
        return run();
    }
    let (done, finished) = mpsc::channel::<()>();
    let worker = thread::Builder::new()
        .name(format!("{name}::{executor}"))
        .spawn(move || {
            run();
            drop(done); // also dropped when `run` unwinds
        })
        .expect("could not start a scenario thread");
    match finished.recv_timeout(limit) {
        Err(mpsc::RecvTimeoutError::Timeout) => panic!(
            "{name} on {executor}: still running after {limit:?} of real time; \
             a lost wake-up or a deadlock? (limit: ANYSYNC_TEST_TIME_LIMIT_SECS)"
        ),
        Ok(()) | Err(mpsc::RecvTimeoutError::Disconnected) => {
            if let Err(payload) = worker.join() {
                panic::resume_unwind(payload);
            }
        }
    }
}

/// Runs `body` on a tokio current-thread runtime (timers enabled).
#[cfg(feature = "tokio")]
pub fn tokio_ct<F, Fut>(name: &str, body: F)
where
    F: FnOnce(anysync_tokio::Tokio) -> Fut + Send + 'static,
    Fut: Future<Output = ()>,
{
    watchdog(name, "tokio_current_thread", time_limit(), move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .expect("could not build a tokio runtime");
        let rt = anysync_tokio::Tokio::from(runtime.handle().clone());
        runtime.block_on(body(rt));
    });
}

/// Runs `body` on a tokio multi-thread runtime with 2 workers (timers
/// enabled).
#[cfg(feature = "tokio")]
pub fn tokio_mt<F, Fut>(name: &str, body: F)
where
    F: FnOnce(anysync_tokio::Tokio) -> Fut + Send + 'static,
    Fut: Future<Output = ()>,
{
    watchdog(name, "tokio_multi_thread", time_limit(), move || {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_time()
            .build()
            .expect("could not build a tokio runtime");
        let rt = anysync_tokio::Tokio::from(runtime.handle().clone());
        runtime.block_on(body(rt));
    });
}

/// Runs `body` under `smol::block_on` (spawned tasks go to smol's global
/// executor).
#[cfg(feature = "smol")]
pub fn smol<F, Fut>(name: &str, body: F)
where
    F: FnOnce(anysync_smol::Smol) -> Fut + Send + 'static,
    Fut: Future<Output = ()>,
{
    watchdog(name, "smol", time_limit(), move || {
        smol::block_on(body(anysync_smol::Smol));
    });
}

/// Runs `body` under `async_std::task::block_on`.
#[cfg(feature = "async-std")]
pub fn async_std<F, Fut>(name: &str, body: F)
where
    F: FnOnce(anysync_async_std::AsyncStd) -> Fut + Send + 'static,
    Fut: Future<Output = ()>,
{
    watchdog(name, "async_std", time_limit(), move || {
        async_std::task::block_on(body(anysync_async_std::AsyncStd));
    });
}

/// Runs `body` on a fresh [`VirtualTime`] (deterministic, virtual clock;
/// a deadlock panics at once).
pub fn virtual_time<F, Fut>(name: &str, body: F)
where
    F: FnOnce(VirtualTime) -> Fut + Send + 'static,
    Fut: Future<Output = ()>,
{
    watchdog(name, "virtual_time", time_limit(), move || {
        VirtualTime::new().block_on(body);
    });
}

/// Runs `body` with `futures_executor::block_on`: no timer, no spawner.
/// For primitives that need no runtime (and for miri).
pub fn no_rt<F, Fut>(name: &str, body: F)
where
    F: FnOnce() -> Fut + Send + 'static,
    Fut: Future<Output = ()>,
{
    watchdog(name, "futures_executor", time_limit(), move || {
        futures_executor::block_on(body());
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[should_panic(expected = "hung_body on test_executor: still running after")]
    fn watchdog_fails_a_scenario_that_never_finishes() {
        let (_keep, never) = mpsc::channel::<()>();
        watchdog(
            "hung_body",
            "test_executor",
            Duration::from_millis(20),
            move || {
                // Ends when the test is over and `_keep` is dropped.
                let _ = never.recv();
            },
        );
    }

    #[test]
    #[should_panic(expected = "original message")]
    fn watchdog_passes_a_panic_on_with_its_payload() {
        watchdog("p", "test_executor", Duration::from_secs(60), || {
            panic!("original message")
        });
    }

    #[test]
    fn watchdog_returns_when_the_body_finishes() {
        watchdog("ok", "test_executor", Duration::from_secs(60), || {});
    }
}

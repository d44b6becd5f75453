//! `TaskGroup` against foreign code that panics.

use alloc::sync::Arc;
use core::{
    future::Future,
    pin::Pin,
    sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst},
    task::{Context, Poll},
    time::Duration,
};

use futures_core::FusedFuture;

use crate::{
    rt::{virtual_time::VirtualTime, Instant, JoinError, JoinHandle, Spawn, TaskHandle, Timer},
    task::TaskGroup,
    util::{
        hostile::{panics, Hostile},
        test::TestTask,
    },
};

struct SetOnDrop(Arc<AtomicBool>);

impl Drop for SetOnDrop {
    fn drop(&mut self) {
        self.0.store(true, SeqCst);
    }
}

/// Dropping a group aborts its children and cancels its token; a waiter
/// on the token whose wake panics does not leave a child that ignores the
/// cancel running on, detached.
#[test]
fn a_dropped_group_aborts_its_children_even_if_a_token_wake_panics() {
    let dropped = Arc::new(AtomicBool::new(false));
    VirtualTime::new().block_on(|rt| {
        let dropped = Arc::clone(&dropped);
        async move {
            let group = TaskGroup::<_, (), ()>::new(rt.clone());
            let guard = SetOnDrop(Arc::clone(&dropped));
            group
                .spawn(async move {
                    let _guard = guard;
                    core::future::pending::<Result<(), ()>>().await
                })
                .unwrap();
            crate::task::yield_now().await;
            let bad = Hostile::new();
            let mut waiter = TestTask::new(group.token().clone().cancelled_owned());
            assert!(waiter.poll_with(&bad.waker()).is_pending());
            bad.panic_on_wake(true);
            assert!(panics(move || drop(group)));
            crate::task::yield_now().await;
            assert!(dropped.load(SeqCst), "the child was aborted");
            waiter.ready();
        }
    });
}

/// `VirtualTime` whose handle of the task spawned `panicking`-th (from 0)
/// panics in `abort`, without aborting: a `Spawn` is foreign code.
#[derive(Clone)]
struct AbortPanics {
    rt: VirtualTime,
    spawned: Arc<AtomicUsize>,
    panicking: usize,
}

struct Handle<T> {
    inner: TaskHandle<T>,
    /// Whether `abort` panics (once).
    armed: AtomicBool,
}

impl<T> Future for Handle<T> {
    type Output = Result<T, JoinError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Pin::new(&mut self.inner).poll(cx)
    }
}

impl<T> FusedFuture for Handle<T> {
    fn is_terminated(&self) -> bool {
        self.inner.is_terminated()
    }
}

impl<T: Send + 'static> JoinHandle<T> for Handle<T> {
    fn abort(&self) {
        if self.armed.swap(false, SeqCst) {
            panic!("abort panics");
        }
        self.inner.abort();
    }
}

impl Spawn for AbortPanics {
    type JoinHandle<T: Send + 'static> = Handle<T>;

    fn spawn<F>(&self, future: F) -> Handle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let index = self.spawned.fetch_add(1, SeqCst);
        Handle {
            inner: self.rt.spawn(future),
            armed: AtomicBool::new(index == self.panicking),
        }
    }
}

impl Timer for AbortPanics {
    type Sleep = <VirtualTime as Timer>::Sleep;

    fn sleep(&self, duration: Duration) -> Self::Sleep {
        self.rt.sleep(duration)
    }

    fn now(&self) -> Instant {
        self.rt.now()
    }
}

/// Runs `stop` on a group of two children whose `Spawn` panics in one
/// child's `abort`, and checks that `stop` raised that panic and still
/// aborted the other child and cancelled the token. The child whose
/// abort panics watches the token, and ends that way; the other never
/// ends by itself. Each order of spawning is tried, so that whichever
/// order the aborts run in, one run has the panic first.
fn aborts_and_cancels_past_an_abort_that_panics(
    stop: impl Fn(TaskGroup<AbortPanics, (), ()>) + Send + Sync + 'static,
) {
    let stop = Arc::new(stop);
    for watcher in [0, 1] {
        let stop = Arc::clone(&stop);
        VirtualTime::new().block_on(|rt| async move {
            let spawner = AbortPanics {
                rt: rt.clone(),
                spawned: Arc::new(AtomicUsize::new(0)),
                panicking: watcher,
            };
            let group = TaskGroup::<_, (), ()>::new(spawner);
            let watcher_ended = Arc::new(AtomicBool::new(false));
            let other_dropped = Arc::new(AtomicBool::new(false));
            for index in 0..2 {
                if index == watcher {
                    let token = group.token().clone();
                    let ended = SetOnDrop(Arc::clone(&watcher_ended));
                    group.spawn(async move {
                        let _ended = ended;
                        token.cancelled().await;
                        Ok(())
                    })
                } else {
                    let guard = SetOnDrop(Arc::clone(&other_dropped));
                    group.spawn(async move {
                        let _guard = guard;
                        core::future::pending::<Result<(), ()>>().await
                    })
                }
                .unwrap();
            }
            crate::task::yield_now().await;
            assert!(panics(move || stop(group)), "the abort's panic is raised");
            crate::task::yield_now().await;
            crate::task::yield_now().await;
            // Checked while the runtime still runs (it drops every task
            // left when `block_on` returns).
            assert!(other_dropped.load(SeqCst), "the other child was aborted");
            assert!(watcher_ended.load(SeqCst), "the watcher saw the cancel");
        });
    }
}

#[test]
fn a_dropped_group_aborts_and_cancels_past_an_abort_that_panics() {
    aborts_and_cancels_past_an_abort_that_panics(drop);
}

/// The same for a `join` future polled once and dropped.
#[test]
fn a_dropped_join_aborts_and_cancels_past_an_abort_that_panics() {
    aborts_and_cancels_past_an_abort_that_panics(|group| {
        let mut join = TestTask::new(group.join());
        assert!(join.poll().is_pending());
        drop(join);
    });
}

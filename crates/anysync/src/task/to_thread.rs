//! `to_thread`: run a blocking closure on a blocking-work thread, through a
//! capacity limiter.

use alloc::{boxed::Box, sync::Arc};
use core::{
    fmt,
    future::Future,
    pin::Pin,
    task::{Context, Poll},
};

use futures_core::FusedFuture;
use pin_project_lite::pin_project;

use super::{CancelToken, DropGuard};
use crate::{
    rt::{Blocking, JoinError},
    sync::{
        futures::{Acquire, AcquireOwned},
        OwnedSemaphorePermit, Semaphore, SemaphorePermit,
    },
};

/// How many closures [`to_thread`] runs at once, across the process
/// (AnyIO's default).
pub const DEFAULT_THREAD_LIMIT: usize = 40;

#[cfg(not(anysync_loom))]
static DEFAULT_LIMITER: Semaphore = Semaphore::new(DEFAULT_THREAD_LIMIT);

/// Runs `f` on one of `rt`'s blocking-work threads, with at most
/// [`DEFAULT_THREAD_LIMIT`] such closures (from every caller of
/// `to_thread`) running at once; later calls wait for a slot, in order
/// (asyncio's `to_thread`, AnyIO's `to_thread.run_sync`). A
/// [`CapacityLimiter`] sets another limit.
///
/// Dropping the future before the closure starts gives up its place;
/// after it starts, dropping abandons the result: the thread runs the
/// closure to the end (threads cannot be stopped from outside), still
/// holding its slot. [`CapacityLimiter::run_cancellable`] hands the
/// closure a token it can check to stop early.
///
/// # Cancel safety
/// This method is cancel safe: dropping the future before it completes has no effect.
/// (A closure already running finishes; its result is dropped.)
///
/// # Errors
/// [`JoinError`] if `f` panicked.
///
/// # Examples
/// ```
/// use anysync::{rt::virtual_time::VirtualTime, task::to_thread};
///
/// VirtualTime::new().block_on(|rt| async move {
///     let sum = to_thread(&rt, || (1..=10u64).sum::<u64>()).await.unwrap();
///     assert_eq!(sum, 55);
/// });
/// ```
#[cfg(not(anysync_loom))]
pub fn to_thread<B, F, T>(rt: &B, f: F) -> ToThread<B, T>
where
    B: Blocking,
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    ToThread {
        state: State::AcquireStatic {
            acquire: DEFAULT_LIMITER.acquire(),
            job: Some((rt.clone(), Box::new(f))),
        },
        _guard: None,
    }
}

/// A limit on how many blocking closures run at once, shared by clones.
///
/// # Examples
/// ```
/// use anysync::{rt::virtual_time::VirtualTime, task::CapacityLimiter};
///
/// VirtualTime::new().block_on(|rt| async move {
///     let limiter = CapacityLimiter::new(2);
///     let a = limiter.run(&rt, || 1);
///     let b = limiter.run_cancellable(&rt, |token| if token.is_cancelled() { 0 } else { 2 });
///     assert_eq!(a.await.unwrap() + b.await.unwrap(), 3);
/// });
/// ```
#[derive(Clone)]
pub struct CapacityLimiter {
    sem: Arc<Semaphore>,
    limit: usize,
}

impl CapacityLimiter {
    /// A limiter letting `limit` closures run at once.
    ///
    /// # Panics
    /// If `limit` is 0 ("CapacityLimiter::new: `limit` must be at least 1").
    #[track_caller]
    pub fn new(limit: usize) -> Self {
        assert!(
            limit > 0,
            "CapacityLimiter::new: `limit` must be at least 1"
        );
        CapacityLimiter {
            sem: Arc::new(Semaphore::new(limit)),
            limit,
        }
    }

    /// The limit given to [`new`](Self::new).
    pub fn limit(&self) -> usize {
        self.limit
    }

    /// How many closures are running (or hold a slot) now.
    pub fn in_use(&self) -> usize {
        self.limit - self.sem.available_permits()
    }

    /// Like [`to_thread`], through this limiter.
    ///
    /// # Cancel safety
    /// This method is cancel safe: dropping the future before it completes has no effect.
    /// (A closure already running finishes; its result is dropped.)
    ///
    /// # Errors
    /// [`JoinError`] if `f` panicked.
    pub fn run<B, F, T>(&self, rt: &B, f: F) -> ToThread<B, T>
    where
        B: Blocking,
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        ToThread {
            state: State::AcquireOwned {
                acquire: Arc::clone(&self.sem).acquire_owned(),
                job: Some((rt.clone(), Box::new(f))),
            },
            _guard: None,
        }
    }

    /// Like [`run`](Self::run), handing `f` a [`CancelToken`] that is
    /// cancelled when the returned future is dropped, so a long closure can
    /// check it and stop early.
    ///
    /// # Cancel safety
    /// This method is cancel safe: dropping the future before it completes has no effect.
    /// (The closure's token is cancelled; the closure decides when to stop.)
    ///
    /// # Errors
    /// [`JoinError`] if `f` panicked.
    pub fn run_cancellable<B, F, T>(&self, rt: &B, f: F) -> ToThread<B, T>
    where
        B: Blocking,
        F: FnOnce(CancelToken) -> T + Send + 'static,
        T: Send + 'static,
    {
        let token = CancelToken::new();
        let inner = token.clone();
        let mut future = self.run(rt, move || f(inner));
        future._guard = Some(token.drop_guard());
        future
    }
}

impl fmt::Debug for CapacityLimiter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CapacityLimiter")
            .field("limit", &self.limit)
            .field("in_use", &self.in_use())
            .finish()
    }
}

/// A slot of a limiter, held by the closure while it runs.
enum Permit {
    #[allow(dead_code)] // held for its `Drop`
    Static(SemaphorePermit<'static>),
    #[allow(dead_code)] // held for its `Drop`
    Owned(OwnedSemaphorePermit),
}

/// The closure, boxed so that every `ToThread` type can be named (one
/// allocation, next to the executor's own for the blocking job).
type Job<T> = Box<dyn FnOnce() -> T + Send + 'static>;

pin_project!(
    #[project = StateProj]
    enum State<B, T>
    where
        B: Blocking,
        T: Send,
        T: 'static,
    {
        AcquireStatic {
            #[pin]
            acquire: Acquire<'static>,
            job: Option<(B, Job<T>)>,
        },
        AcquireOwned {
            #[pin]
            acquire: AcquireOwned,
            job: Option<(B, Job<T>)>,
        },
        Running {
            handle: B::BlockingHandle<T>,
        },
        Done,
    }
);

pin_project!(
    /// Future returned by [`to_thread`], [`CapacityLimiter::run`] and
    /// [`CapacityLimiter::run_cancellable`].
    #[must_use = "futures do nothing unless you `.await` or poll them"]
    pub struct ToThread<B, T>
    where
        B: Blocking,
        T: Send,
        T: 'static,
    {
        #[pin]
        state: State<B, T>,
        _guard: Option<DropGuard>,
    }
);

impl<B: Blocking, T: Send + 'static> Future for ToThread<B, T> {
    type Output = Result<T, JoinError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        loop {
            let (permit, job) = match this.state.as_mut().project() {
                StateProj::AcquireStatic { acquire, job } => {
                    let permit = core::task::ready!(acquire.poll(cx))
                        .expect("the default limiter is never closed");
                    (Permit::Static(permit), job.take())
                }
                StateProj::AcquireOwned { acquire, job } => {
                    let permit = core::task::ready!(acquire.poll(cx))
                        .expect("a CapacityLimiter is never closed");
                    (Permit::Owned(permit), job.take())
                }
                StateProj::Running { handle } => {
                    let out = core::task::ready!(Pin::new(handle).poll(cx));
                    this.state.set(State::Done);
                    return Poll::Ready(out);
                }
                StateProj::Done => panic!("`ToThread` polled after completion"),
            };
            let (rt, f) = job.expect("the job is taken once");
            let handle = rt.spawn_blocking(move || {
                let _permit = permit;
                f()
            });
            this.state.set(State::Running { handle });
        }
    }
}

impl<B: Blocking, T: Send + 'static> FusedFuture for ToThread<B, T> {
    fn is_terminated(&self) -> bool {
        matches!(self.state, State::Done)
    }
}

impl<B: Blocking, T: Send + 'static> fmt::Debug for ToThread<B, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match self.state {
            State::AcquireStatic { .. } | State::AcquireOwned { .. } => "waiting for a slot",
            State::Running { .. } => "running",
            State::Done => "done",
        };
        f.debug_struct("ToThread").field("state", &state).finish()
    }
}

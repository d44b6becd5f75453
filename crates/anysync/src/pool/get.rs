//! `Pool::get`: wait for a permit, then check an idle object or create one.

use alloc::boxed::Box;
use core::{
    fmt,
    future::Future,
    pin::Pin,
    task::{Context, Poll},
    time::Duration,
};

use futures_core::FusedFuture;
use pin_project_lite::pin_project;

use super::{Inner, Manager, Object, Pool, PoolError};
use crate::{
    loom::sync::atomic::Ordering,
    rt::{Spawn, Timer},
    sync::futures::Acquire,
    util::finally::both,
};

type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

pin_project!(
    /// Future returned by [`Pool::get`] and [`Pool::get_timeout`].
    #[must_use = "futures do nothing unless you `.await` or poll them"]
    pub struct Get<'a, M, R, C = core::future::Pending<()>>
    where
        M: Manager,
        R: Timer,
    {
        pool: &'a Pool<M, R>,
        timeout: Option<Duration>,
        // Inline rather than boxed: a get that waits makes one, and a
        // box would add an allocation and a free to each such get.
        #[pin]
        sleep: Option<R::Sleep>,
        #[pin]
        cancel: C,
        #[pin]
        state: GetState<'a, M>,
    }
);

pin_project!(
    #[project = GetProj]
    enum GetState<'a, M>
    where
        M: Manager,
    {
        Acquire {
            #[pin]
            acquire: Acquire<'a>,
        },
        Recycle {
            fut: BoxFuture<'a, Result<M::Object, M::Error>>,
            claim: Claim<'a, M>,
        },
        Create {
            fut: BoxFuture<'a, Result<M::Object, M::Error>>,
            claim: Claim<'a, M>,
        },
        Done,
    }
);

/// What a `get` holds between its permit and its object: the permit, and
/// an object in the middle of its check (`object`) or a reserved place in
/// `size` for one being created. Dropping it (cancellation, timeout,
/// failure) gives all of that back; [`Claim::defuse`] hands it on to an
/// [`Object`] instead.
struct Claim<'a, M: Manager> {
    inner: &'a Inner<M>,
    permit: bool,
    kind: ClaimKind,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum ClaimKind {
    Nothing,
    Checking,
    Creating,
}

impl<M: Manager> Claim<'_, M> {
    /// Keeps everything: the caller now owns the permit and the object.
    fn defuse(&mut self) {
        self.permit = false;
        self.kind = ClaimKind::Nothing;
    }
}

impl<M: Manager> Drop for Claim<'_, M> {
    fn drop(&mut self) {
        let inner = self.inner;
        // The permit comes back even if the filler's wake-up panics.
        both(
            || match self.kind {
                ClaimKind::Checking => inner.discard(),
                ClaimKind::Creating => {
                    inner.size.fetch_sub(1, Ordering::AcqRel);
                    inner.replenish.notify_one();
                }
                ClaimKind::Nothing => {}
            },
            || {
                if self.permit {
                    inner.permits.add_permits(1);
                }
            },
        );
    }
}

impl<'a, M: Manager, R: Timer + Spawn> Get<'a, M, R> {
    pub(super) fn new(pool: &'a Pool<M, R>, timeout: Option<Duration>) -> Self {
        Get {
            pool,
            timeout,
            sleep: None,
            cancel: core::future::pending(),
            state: GetState::Acquire {
                acquire: pool.inner.permits.acquire(),
            },
        }
    }

    /// With a permit in hand: the next idle object's check, or a creation.
    /// The claim is made before any user code (`recycle`, `create`) or a
    /// wake-up runs, so that if one panics, its drop gives the permit and
    /// the slot back.
    fn next_step(inner: &'a Inner<M>) -> GetState<'a, M> {
        match inner.pop_idle() {
            Some(object) => {
                let claim = Claim {
                    inner,
                    permit: true,
                    kind: ClaimKind::Checking,
                };
                inner.idle_taken();
                GetState::Recycle {
                    fut: Box::pin(inner.manager.recycle(object)),
                    claim,
                }
            }
            None => {
                let before = inner.size.fetch_add(1, Ordering::AcqRel);
                debug_assert!(
                    before < inner.max_size,
                    "a caller with a permit found no room"
                );
                let claim = Claim {
                    inner,
                    permit: true,
                    kind: ClaimKind::Creating,
                };
                GetState::Create {
                    fut: Box::pin(inner.manager.create()),
                    claim,
                }
            }
        }
    }
}

impl<'a, M: Manager, R: Timer + Spawn, C> Get<'a, M, R, C> {
    /// Gives up with [`PoolError::Cancelled`] as soon as `cancel`
    /// completes (its output is ignored): any future that completes on
    /// cancellation, such as a cancellation token's `cancelled()`. Whatever
    /// the get held is given back, as when it is dropped.
    ///
    /// # Cancel safety
    /// This method is cancel safe: dropping the future before it completes has no effect.
    /// (It only configures the get; see [`Pool::get`].)
    pub fn cancel_on<C2: Future>(self, cancel: C2) -> Get<'a, M, R, C2> {
        Get {
            pool: self.pool,
            timeout: self.timeout,
            sleep: self.sleep,
            cancel,
            state: self.state,
        }
    }
}

impl<'a, M: Manager, R: Timer + Spawn, C: Future> Future for Get<'a, M, R, C> {
    type Output = Result<Object<M>, PoolError<M::Error>>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        let pool: &'a Pool<M, R> = this.pool;
        if matches!(*this.state, GetState::Done) {
            panic!("`Get` polled after completion");
        }
        if this.cancel.poll(cx).is_ready() {
            // Gives back a place in the queue or a claim, as a drop would.
            this.state.set(GetState::Done);
            return Poll::Ready(Err(PoolError::Cancelled));
        }
        let inner: &'a Inner<M> = &pool.inner;
        loop {
            let step = match this.state.as_mut().project() {
                GetProj::Acquire { acquire } => match acquire.poll(cx) {
                    Poll::Pending => None,
                    Poll::Ready(Err(_)) => Some(Err(PoolError::Closed)),
                    Poll::Ready(Ok(permit)) => {
                        // The permit now belongs to whatever object this
                        // get ends with; `Object` adds it back.
                        permit.forget();
                        // `Done` first, so that if `next_step` panics (user
                        // code), a later poll finds nothing to hand out
                        // twice.
                        this.state.set(GetState::Done);
                        this.state.set(Get::<M, R>::next_step(inner));
                        continue;
                    }
                },
                GetProj::Recycle { fut, claim } => match fut.as_mut().poll(cx) {
                    Poll::Pending => None,
                    Poll::Ready(Ok(object)) => {
                        claim.defuse();
                        Some(Ok(object))
                    }
                    Poll::Ready(Err(_)) => {
                        // The object failed its check: discard it (the
                        // claim does, as it is replaced) and keep the
                        // permit for the next try.
                        claim.permit = false;
                        // The object is discarded now; `Done` until the
                        // next step is made, as above.
                        this.state.set(GetState::Done);
                        this.state.set(Get::<M, R>::next_step(inner));
                        continue;
                    }
                },
                GetProj::Create { fut, claim } => match fut.as_mut().poll(cx) {
                    Poll::Pending => None,
                    Poll::Ready(Ok(object)) => {
                        claim.defuse();
                        inner.created.fetch_add(1, Ordering::Relaxed);
                        Some(Ok(object))
                    }
                    Poll::Ready(Err(e)) => {
                        inner.create_failures.fetch_add(1, Ordering::Relaxed);
                        Some(Err(PoolError::Create(e)))
                    }
                },
                GetProj::Done => panic!("`Get` polled after completion"),
            };
            let out = match step {
                Some(out) => out,
                None => {
                    // The deadline's sleep is made the first time the get
                    // would wait (on its first poll), so a get that is
                    // served at once never touches the timer.
                    if this.sleep.is_none() {
                        if let Some(timeout) = *this.timeout {
                            this.sleep.set(Some(pool.rt.sleep(timeout)));
                        }
                    }
                    let elapsed = this
                        .sleep
                        .as_mut()
                        .as_pin_mut()
                        .is_some_and(|s| s.poll(cx).is_ready());
                    if !elapsed {
                        return Poll::Pending;
                    }
                    inner.timeouts.fetch_add(1, Ordering::Relaxed);
                    Err(PoolError::Timeout)
                }
            };
            // Anything still held (a place in the queue, a claim) is given
            // back here.
            this.state.set(GetState::Done);
            return Poll::Ready(out.map(|object| Object {
                object: Some(object),
                pool: pool.inner.clone(),
                broken: false,
            }));
        }
    }
}

impl<M: Manager, R: Timer + Spawn, C: Future> FusedFuture for Get<'_, M, R, C> {
    fn is_terminated(&self) -> bool {
        matches!(self.state, GetState::Done)
    }
}

impl<M: Manager, R: Timer, C> fmt::Debug for Get<'_, M, R, C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match self.state {
            GetState::Acquire { .. } => "waiting",
            GetState::Recycle { .. } => "recycling",
            GetState::Create { .. } => "creating",
            GetState::Done => "done",
        };
        f.debug_struct("Get").field("state", &state).finish()
    }
}

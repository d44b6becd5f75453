//! A pool of reusable resources (connections, clients, buffers) with a
//! fixed upper bound, health checks and fair waiting.
//!
//! A [`Manager`] says how to create an object and how to check one before
//! it is handed out again; a [`Pool`] keeps at most `max_size` of them
//! alive, lends them out as [`Object`] guards that return them on drop,
//! and makes callers wait, in arrival order, when all are in use.
//!
//! ```
//! use std::convert::Infallible;
//! use anysync::{pool::{Manager, Pool}, rt::virtual_time::VirtualTime};
//!
//! struct Numbers;
//!
//! impl Manager for Numbers {
//!     type Object = u32;
//!     type Error = Infallible;
//!     async fn create(&self) -> Result<u32, Infallible> {
//!         Ok(7)
//!     }
//! }
//!
//! VirtualTime::new().block_on(|rt| async move {
//!     let pool = Pool::builder(Numbers).max_size(2).build(rt).unwrap();
//!     let a = pool.get().await.unwrap();
//!     let b = pool.get().await.unwrap();
//!     assert_eq!(*a + *b, 14);
//!     assert_eq!(pool.statistics().in_use, 2);
//!     drop(a); // back to the pool
//!     assert_eq!(pool.statistics().idle, 1);
//! # drop(b);
//! });
//! ```

use alloc::{boxed::Box, collections::VecDeque, sync::Arc};
use core::{
    fmt,
    future::Future,
    ops::{Deref, DerefMut},
    time::Duration,
};

use crate::{
    loom::sync::atomic::{AtomicBool, AtomicUsize, Ordering},
    rt::{JoinHandle, Spawn, Timer},
    sync::{Notify, Semaphore},
    util::finally::{both, Catch},
    waitq::lock::{Guard, Lock},
};

mod get;

/// The named futures returned by this module's methods.
pub mod futures {
    pub use super::get::Get;
}

use get::Get;

/// Creates and checks the objects of a [`Pool`].
///
/// Implement it with `async fn`s; the futures must be `Send`.
pub trait Manager: Send + Sync + 'static {
    /// The pooled object.
    type Object: Send + 'static;
    /// What creating or recycling can fail with.
    type Error: Send + 'static;

    /// Makes a new object.
    ///
    /// # Cancel safety
    /// Implementations should be cancel safe: the pool drops this future
    /// when the [`Pool::get`] that started it is dropped or times out.
    fn create(&self) -> impl Future<Output = Result<Self::Object, Self::Error>> + Send;

    /// Checks an idle object before it is handed out again, returning it
    /// if it is still good. An error discards the object, and the pool
    /// tries the next idle one or creates a new one. The default accepts
    /// every object.
    ///
    /// # Cancel safety
    /// If this future is dropped (its `get` was cancelled or timed out),
    /// the object inside it is dropped too, and the pool counts it as gone.
    fn recycle(
        &self,
        object: Self::Object,
    ) -> impl Future<Output = Result<Self::Object, Self::Error>> + Send {
        async move { Ok(object) }
    }

    /// A quick check when an object comes back: `true` discards it instead
    /// of keeping it idle. The default keeps every object.
    fn is_broken(&self, object: &Self::Object) -> bool {
        let _ = object;
        false
    }
}

/// Why a pool could not be built.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum PoolConfigError {
    /// `max_size` was 0: no object could ever be handed out.
    ZeroMaxSize,
    /// `max_size` was above [`Semaphore::MAX_PERMITS`].
    MaxSizeTooLarge {
        /// The `max_size` given.
        max_size: usize,
    },
    /// `min_idle` was above `max_size`.
    MinIdleAboveMaxSize {
        /// The `min_idle` given.
        min_idle: usize,
        /// The `max_size` given.
        max_size: usize,
    },
}

impl fmt::Display for PoolConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PoolConfigError::ZeroMaxSize => f.write_str("pool `max_size` must be at least 1"),
            PoolConfigError::MaxSizeTooLarge { max_size } => write!(
                f,
                "pool `max_size` {max_size} exceeds Semaphore::MAX_PERMITS"
            ),
            PoolConfigError::MinIdleAboveMaxSize { min_idle, max_size } => write!(
                f,
                "pool `min_idle` ({min_idle}) must not exceed `max_size` ({max_size})"
            ),
        }
    }
}

impl core::error::Error for PoolConfigError {}

/// Why a [`Pool::get`] failed.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum PoolError<E> {
    /// No object became available within the wait timeout.
    Timeout,
    /// The pool was [closed](Pool::close).
    Closed,
    /// Creating a new object failed with this error. Its slot was freed.
    Create(E),
    /// The get's cancellation future completed first
    /// ([`Get::cancel_on`](futures::Get::cancel_on)).
    Cancelled,
}

impl<E: fmt::Display> fmt::Display for PoolError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PoolError::Timeout => f.write_str("timed out waiting for a pooled object"),
            PoolError::Closed => f.write_str("pool closed"),
            PoolError::Create(e) => write!(f, "creating a pooled object failed: {e}"),
            PoolError::Cancelled => f.write_str("get cancelled"),
        }
    }
}

impl<E: core::error::Error + 'static> core::error::Error for PoolError<E> {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        match self {
            PoolError::Create(e) => Some(e),
            _ => None,
        }
    }
}

/// A snapshot of a pool's counters, from [`Pool::statistics`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct PoolStatistics {
    /// Live objects: idle, in use, or being created.
    pub size: usize,
    /// Objects waiting in the pool.
    pub idle: usize,
    /// Objects lent out (or being created or checked for a caller).
    pub in_use: usize,
    /// Tasks waiting for an object.
    pub waiters: usize,
    /// The upper bound on `size`.
    pub max_size: usize,
    /// Objects created so far.
    pub created: u64,
    /// Objects discarded so far: broken, failed a recycle check, returned
    /// during a panic, or dropped by a cancelled check.
    pub discarded: u64,
    /// Creations that failed.
    pub create_failures: u64,
    /// Gets that timed out.
    pub timeouts: u64,
}

/// The default wait timeout of [`Pool::get`]: 30 seconds.
pub const DEFAULT_WAIT_TIMEOUT: Duration = Duration::from_secs(30);

/// How long the `min_idle` task waits after a failed creation before it
/// tries again: 1 second.
pub const MIN_IDLE_RETRY_DELAY: Duration = Duration::from_secs(1);

/// Configures a [`Pool`]; made by [`Pool::builder`].
///
/// Defaults: `max_size` 10, `min_idle` 0, wait timeout
/// [`DEFAULT_WAIT_TIMEOUT`] (30 s).
#[derive(Debug)]
pub struct PoolBuilder<M> {
    manager: M,
    max_size: usize,
    min_idle: usize,
    wait_timeout: Option<Duration>,
}

impl<M: Manager> PoolBuilder<M> {
    /// At most `max_size` objects alive at once. Zero is rejected by
    /// [`build`](Self::build).
    pub fn max_size(mut self, max_size: usize) -> Self {
        self.max_size = max_size;
        self
    }

    /// Keep at least `min_idle` objects idle (as long as that stays within
    /// `max_size`), created by a background task. Above `max_size` is
    /// rejected by [`build`](Self::build).
    pub fn min_idle(mut self, min_idle: usize) -> Self {
        self.min_idle = min_idle;
        self
    }

    /// How long [`Pool::get`] may take in all before it fails with
    /// [`PoolError::Timeout`]; `None` waits as long as it takes. The
    /// default is [`DEFAULT_WAIT_TIMEOUT`] (30 s).
    pub fn wait_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.wait_timeout = timeout;
        self
    }

    /// Builds the pool on runtime `rt` (its timer for timeouts; its
    /// spawner for the `min_idle` task, started here if `min_idle > 0`).
    ///
    /// # Errors
    /// A [`PoolConfigError`] naming the bad size.
    pub fn build<R: Timer + Spawn>(self, rt: R) -> Result<Pool<M, R>, PoolConfigError> {
        if self.max_size == 0 {
            return Err(PoolConfigError::ZeroMaxSize);
        }
        if self.max_size > Semaphore::MAX_PERMITS {
            return Err(PoolConfigError::MaxSizeTooLarge {
                max_size: self.max_size,
            });
        }
        if self.min_idle > self.max_size {
            return Err(PoolConfigError::MinIdleAboveMaxSize {
                min_idle: self.min_idle,
                max_size: self.max_size,
            });
        }
        let inner = Arc::new(Inner {
            manager: self.manager,
            permits: Semaphore::new(self.max_size),
            idle: Lock::new(VecDeque::new()),
            size: AtomicUsize::new(0),
            max_size: self.max_size,
            min_idle: self.min_idle,
            wait_timeout: self.wait_timeout,
            closed: AtomicBool::new(false),
            replenish: Arc::new(Notify::new()),
            stop_filler: Lock::new(None),
            created: AtomicUsize::new(0),
            discarded: AtomicUsize::new(0),
            create_failures: AtomicUsize::new(0),
            timeouts: AtomicUsize::new(0),
        });
        if self.min_idle > 0 {
            let task = rt.spawn(fill_min_idle(
                Arc::downgrade(&inner),
                inner.replenish.clone(),
                rt.clone(),
            ));
            *lock(&inner.stop_filler) = Some(Box::new(move || task.abort()));
        }
        Ok(Pool { inner, rt })
    }
}

/// A pool of at most `max_size` objects made by a [`Manager`].
///
/// * [`get`](Self::get) hands out an idle object (after
///   [`Manager::recycle`] accepts it) or creates one; when `max_size` are
///   out, callers wait **in arrival order** (the pool's capacity is a fair
///   [`Semaphore`]).
/// * The [`Object`] guard returns the object when dropped, unless it was
///   marked broken, [`Manager::is_broken`] says so, or the thread is
///   panicking: then it is discarded, and its slot is free for a new one.
///   [`Object::take`] detaches it from the pool for good.
/// * Never more than `max_size` objects live at once (idle, lent out and
///   being created, together).
/// * A `get` has a wait timeout ([`DEFAULT_WAIT_TIMEOUT`] unless the
///   builder says otherwise), covering the wait, the checks and the
///   creation; [`get_timeout`](Self::get_timeout) sets one per call.
/// * [`close`](Self::close) fails every waiting and later `get`.
///
/// Cloning a `Pool` makes another handle to the same pool. The `min_idle`
/// task stops when the last handle and object are gone, or on `close`.
///
/// # Implementation notes
///
/// Every lent-out object (and every object being checked or created for a
/// caller) holds one permit of a semaphore of `max_size` permits; idle
/// objects hold none. A caller creates only after finding the idle list
/// empty while holding a permit of its own, so idle + lent-out + creating
/// never exceeds `max_size`; the `min_idle` task also holds a permit while
/// it creates, and reserves its place in `size` only below `max_size`. The
/// permit taken by a `get` is forgotten into the `Object` and added back
/// when the object returns, after the object is back in the idle list, so
/// the waiter it wakes finds it there.
pub struct Pool<M: Manager, R> {
    inner: Arc<Inner<M>>,
    rt: R,
}

type StopFn = Box<dyn FnOnce() + Send>;

struct Inner<M: Manager> {
    manager: M,
    permits: Semaphore,
    idle: Lock<VecDeque<M::Object>>,
    /// Live objects: idle, lent out, or being created.
    size: AtomicUsize,
    max_size: usize,
    min_idle: usize,
    wait_timeout: Option<Duration>,
    closed: AtomicBool,
    /// Wakes the `min_idle` task when the idle count may have dropped.
    replenish: Arc<Notify>,
    stop_filler: Lock<Option<StopFn>>,
    created: AtomicUsize,
    discarded: AtomicUsize,
    create_failures: AtomicUsize,
    timeouts: AtomicUsize,
}

fn lock<T>(m: &Lock<T>) -> Guard<'_, T> {
    m.lock()
}

/// `true` while the thread unwinds from a panic. Without `std` there is
/// no way to ask; `no_std` targets usually abort on panic, and where they
/// unwind, an object dropped by a panic goes back to the pool.
fn panicking() -> bool {
    #[cfg(feature = "std")]
    return std::thread::panicking();
    #[cfg(not(feature = "std"))]
    false
}

impl<M: Manager> Inner<M> {
    /// Forgets one discarded object.
    fn discard(&self) {
        self.size.fetch_sub(1, Ordering::AcqRel);
        self.discarded.fetch_add(1, Ordering::Relaxed);
        self.replenish.notify_one();
    }

    /// Takes the oldest idle object; the caller then tells the filler
    /// ([`idle_taken`](Self::idle_taken)) once the object is claimed.
    fn pop_idle(&self) -> Option<M::Object> {
        lock(&self.idle).pop_front()
    }

    /// An idle object was taken: the filler may have one to replace.
    fn idle_taken(&self) {
        if self.min_idle > 0 {
            self.replenish.notify_one();
        }
    }

    /// Drops a discarded object and frees its slot, even if its drop
    /// panics.
    fn discard_object(&self, object: M::Object) {
        both(move || drop(object), || self.discard());
    }

    /// Takes back a lent-out object and its permit. The permit comes back
    /// even if the object's drop or a wake-up on the way panics.
    fn give_back(&self, object: M::Object, keep: bool) {
        both(
            || {
                if keep {
                    self.give_back_idle(object);
                } else {
                    self.discard_object(object);
                }
            },
            || self.permits.add_permits(1),
        );
    }

    /// Puts `object` in the idle list, or discards it if the pool is closed.
    fn give_back_idle(&self, object: M::Object) {
        // `closed` is read under the idle lock, and `close` drains under it
        // after setting `closed`, so an object is never stranded idle in a
        // closed pool.
        let rejected = {
            let mut idle = lock(&self.idle);
            if self.closed.load(Ordering::Acquire) {
                Some(object)
            } else {
                idle.push_back(object);
                None
            }
        };
        if let Some(object) = rejected {
            self.discard_object(object);
        }
    }

    fn stop_filler(&self) {
        // Taken first, so the task is aborted with the lock released.
        let stop = lock(&self.stop_filler).take();
        if let Some(stop) = stop {
            stop();
        }
    }
}

impl<M: Manager> Drop for Inner<M> {
    fn drop(&mut self) {
        self.stop_filler();
    }
}

/// A reserved place in `size`, given back on drop.
struct Place<'a, M: Manager>(&'a Inner<M>);

impl<M: Manager> Drop for Place<'_, M> {
    fn drop(&mut self) {
        self.0.size.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Keeps `min_idle` objects idle, until the pool is gone or closed.
async fn fill_min_idle<M: Manager, R: Timer>(
    pool: alloc::sync::Weak<Inner<M>>,
    replenish: Arc<Notify>,
    timer: R,
) {
    loop {
        let mut failed = false;
        {
            let Some(inner) = pool.upgrade() else { return };
            loop {
                if inner.closed.load(Ordering::Acquire) || lock(&inner.idle).len() >= inner.min_idle
                {
                    break;
                }
                // Hold a permit while creating, as a caller would.
                let Ok(permit) = inner.permits.try_acquire() else {
                    break;
                };
                // A compare-exchange loop (not `fetch_update`, which newer
                // toolchains deprecate under another name).
                let mut n = inner.size.load(Ordering::Acquire);
                let reserved = loop {
                    if n >= inner.max_size {
                        break false;
                    }
                    match inner.size.compare_exchange_weak(
                        n,
                        n + 1,
                        Ordering::AcqRel,
                        Ordering::Acquire,
                    ) {
                        Ok(_) => break true,
                        Err(actual) => n = actual,
                    }
                };
                if !reserved {
                    break;
                }
                // Gives the place back if creation fails or the task is
                // stopped (aborted by `close`) mid-creation.
                let place = Place(&inner);
                match inner.manager.create().await {
                    Ok(object) => {
                        core::mem::forget(place);
                        inner.created.fetch_add(1, Ordering::Relaxed);
                        inner.give_back_idle(object);
                    }
                    Err(_) => {
                        drop(place);
                        inner.create_failures.fetch_add(1, Ordering::Relaxed);
                        failed = true;
                    }
                }
                drop(permit);
                if failed {
                    break;
                }
            }
        }
        if failed {
            timer.sleep(MIN_IDLE_RETRY_DELAY).await;
        } else {
            replenish.notified().await;
        }
    }
}

impl<M: Manager> Pool<M, ()> {
    /// A builder for a pool of `manager`'s objects.
    pub fn builder(manager: M) -> PoolBuilder<M> {
        PoolBuilder {
            manager,
            max_size: 10,
            min_idle: 0,
            wait_timeout: Some(DEFAULT_WAIT_TIMEOUT),
        }
    }
}

impl<M: Manager, R: Timer + Spawn> Pool<M, R> {
    /// Waits for an object, within the pool's wait timeout.
    ///
    /// Waiters are served in arrival order. An idle object is checked with
    /// [`Manager::recycle`] first (one that fails is discarded and the
    /// next is tried); with none idle, a new one is created.
    ///
    /// # Cancel safety
    /// This method is cancel safe. Dropping the future gives up its place in
    /// the queue; a wake-up it had already received is passed to the next
    /// waiter. (A creation in progress is dropped and its slot freed; an
    /// object in the middle of its recycle check is discarded.)
    ///
    /// # Errors
    /// [`PoolError::Timeout`], [`PoolError::Closed`], or
    /// [`PoolError::Create`] if creating a new object failed.
    pub fn get(&self) -> Get<'_, M, R> {
        self.get_with(self.inner.wait_timeout)
    }

    /// [`get`](Self::get) with its own timeout instead of the pool's;
    /// `None` waits as long as it takes.
    ///
    /// # Cancel safety
    /// This method is cancel safe. Dropping the future gives up its place in
    /// the queue; a wake-up it had already received is passed to the next
    /// waiter.
    ///
    /// # Errors
    /// As [`get`](Self::get).
    pub fn get_timeout(&self, timeout: Option<Duration>) -> Get<'_, M, R> {
        self.get_with(timeout)
    }

    fn get_with(&self, timeout: Option<Duration>) -> Get<'_, M, R> {
        Get::new(self, timeout)
    }

    /// Closes the pool: every waiting and later `get` fails with
    /// [`PoolError::Closed`], idle objects are dropped, lent-out ones are
    /// dropped when they come back, and the `min_idle` task stops.
    /// Idempotent.
    pub fn close(&self) {
        let inner = &self.inner;
        inner.closed.store(true, Ordering::Release);
        // Each step even if one panics (a waiter's wake in the close, the
        // filler's abort, an idle object's drop): the first panic is raised
        // after. Every idle object's slot is freed.
        let mut catch = Catch::new();
        catch.run(|| inner.permits.close());
        catch.run(|| inner.stop_filler());
        let idle = core::mem::take(&mut *lock(&inner.idle));
        for object in idle {
            catch.run(|| inner.discard_object(object));
        }
        catch.finish();
    }

    /// `true` once [`close`](Self::close) has been called.
    pub fn is_closed(&self) -> bool {
        self.inner.closed.load(Ordering::Acquire)
    }

    /// The manager.
    pub fn manager(&self) -> &M {
        &self.inner.manager
    }

    /// A snapshot of the pool's counters.
    pub fn statistics(&self) -> PoolStatistics {
        let inner = &self.inner;
        let size = inner.size.load(Ordering::Acquire);
        let idle = lock(&inner.idle).len();
        PoolStatistics {
            size,
            idle,
            in_use: size.saturating_sub(idle),
            waiters: inner.permits.waiters(),
            max_size: inner.max_size,
            created: inner.created.load(Ordering::Relaxed) as u64,
            discarded: inner.discarded.load(Ordering::Relaxed) as u64,
            create_failures: inner.create_failures.load(Ordering::Relaxed) as u64,
            timeouts: inner.timeouts.load(Ordering::Relaxed) as u64,
        }
    }
}

impl<M: Manager, R: Clone> Clone for Pool<M, R> {
    fn clone(&self) -> Self {
        Pool {
            inner: self.inner.clone(),
            rt: self.rt.clone(),
        }
    }
}

impl<M: Manager, R> fmt::Debug for Pool<M, R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pool")
            .field("size", &self.inner.size.load(Ordering::Relaxed))
            .field("max_size", &self.inner.max_size)
            .field("closed", &self.inner.closed.load(Ordering::Relaxed))
            .finish()
    }
}

/// An object lent out by a [`Pool`]; it goes back to the pool when
/// dropped.
///
/// It is discarded instead (and its slot freed for a new object) if it was
/// [marked broken](Self::mark_broken), if [`Manager::is_broken`] says so,
/// if the thread is panicking, or if the pool was closed.
pub struct Object<M: Manager> {
    object: Option<M::Object>,
    pool: Arc<Inner<M>>,
    broken: bool,
}

impl<M: Manager> Object<M> {
    /// Detaches the object from the pool for good: its slot is freed, and
    /// the pool may create another in its place.
    pub fn take(mut this: Self) -> M::Object {
        let object = this.object.take().expect("present until dropped");
        let pool = &this.pool;
        pool.size.fetch_sub(1, Ordering::AcqRel);
        // The permit comes back even if the filler's wake-up panics.
        both(
            || pool.replenish.notify_one(),
            || pool.permits.add_permits(1),
        );
        object
    }

    /// Discards the object when it is dropped, instead of returning it.
    pub fn mark_broken(this: &mut Self) {
        this.broken = true;
    }
}

/// Gives an object back to the pool when dropped, also while unwinding:
/// kept idle if `keep` was set by then, else discarded.
struct GiveBack<'a, M: Manager> {
    pool: &'a Inner<M>,
    object: Option<M::Object>,
    keep: bool,
}

impl<M: Manager> Drop for GiveBack<'_, M> {
    fn drop(&mut self) {
        if let Some(object) = self.object.take() {
            self.pool.give_back(object, self.keep);
        }
    }
}

impl<M: Manager> Drop for Object<M> {
    fn drop(&mut self) {
        if let Some(object) = self.object.take() {
            let mut back = GiveBack {
                pool: &self.pool,
                object: Some(object),
                keep: false,
            };
            // `is_broken` is user code: if it panics, the object is
            // discarded (and its permit given back) as the panic unwinds.
            back.keep = !self.broken
                && !panicking()
                && !self
                    .pool
                    .manager
                    .is_broken(back.object.as_ref().expect("just put there"));
        }
    }
}

impl<M: Manager> Deref for Object<M> {
    type Target = M::Object;

    fn deref(&self) -> &M::Object {
        self.object.as_ref().expect("present until dropped")
    }
}

impl<M: Manager> DerefMut for Object<M> {
    fn deref_mut(&mut self) -> &mut M::Object {
        self.object.as_mut().expect("present until dropped")
    }
}

impl<M: Manager> fmt::Debug for Object<M>
where
    M::Object: fmt::Debug,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Object")
            .field("object", &self.object)
            .field("broken", &self.broken)
            .finish()
    }
}

// Property tests: logic, not memory safety (this module has no unsafe), and
// far too slow under miri.
#[cfg(all(test, not(miri)))]
mod tests;

//! `OnceCell`: a value initialised at most once, by an async initialiser.

use core::{
    fmt,
    future::Future,
    mem::MaybeUninit,
    pin::Pin,
    task::{Context, Poll},
};

use futures_core::FusedFuture;
use pin_project_lite::pin_project;

use super::{
    event::{self, Event},
    semaphore::{AcquireError, AcquireInner, SemOwner, Semaphore, TryAcquireError},
};
use crate::loom::{
    cell::UnsafeCell,
    sync::atomic::{AtomicBool, Ordering},
};
use crate::util::finally::both;

/// A cell written at most once, possibly by an async initialiser; after
/// that, [`get`](Self::get) is a single atomic load.
///
/// * [`get_or_init`](Self::get_or_init) runs the given async initialiser
///   if the cell is empty. Concurrent callers queue (FIFO) and their
///   initialisers run **one at a time**: the first caller's runs; the
///   others wait and then return its value without running their own.
/// * If the running initialiser is **cancelled** (its future dropped) or,
///   with [`get_or_try_init`](Self::get_or_try_init), **fails**, the cell
///   stays empty and the next waiting caller runs its own initialiser.
/// * [`set`](Self::set) stores a value if the cell is empty and no
///   initialiser is running.
/// * [`wait`](Self::wait) waits for someone else to initialise the cell,
///   without offering an initialiser of its own.
/// * With `std`, [`get_or_init_blocking`](Self::get_or_init_blocking),
///   [`get_or_try_init_blocking`](Self::get_or_try_init_blocking) and
///   [`wait_blocking`](Self::wait_blocking) do the same from a plain
///   thread, with a plain (not async) initialiser.
/// * Waits never allocate.
///
/// An initialiser that calls `get_or_init` on the same cell waits for
/// itself forever.
///
/// # Examples
///
/// ```
/// # futures_executor::block_on(async {
/// use anysync::sync::OnceCell;
///
/// static CONFIG: OnceCell<String> = OnceCell::new();
///
/// let v = CONFIG.get_or_init(|| async { "loaded".to_string() }).await;
/// assert_eq!(v, "loaded");
/// // Initialised: later initialisers do not run.
/// let v = CONFIG.get_or_init(|| async { unreachable!() }).await;
/// assert_eq!(v, "loaded");
/// assert_eq!(CONFIG.get().map(String::as_str), Some("loaded"));
/// # });
/// ```
///
/// # Unwind safety
///
/// There is no poisoning: an initialiser that panics leaves the cell empty,
/// and the next caller runs its own. The cell only hands out `&T`, so, as
/// `std`'s `OnceLock`, it is `UnwindSafe` when `T` is and `RefUnwindSafe`
/// when `T` is both.
///
/// # Implementation notes
///
/// A [`Semaphore`] with one permit is the right to initialise: callers
/// queue on it in order, and a cancelled or failed initialiser gives the
/// permit back, waking the next. The winner writes the value, sets a flag
/// (release) and then *closes* the semaphore, which wakes every queued
/// caller with `Closed`, meaning "initialised; read the value", and sets an
/// [`Event`] that the [`wait`](Self::wait) futures wait on (they never take
/// the permit, so they cannot hold up an initialiser). The flag is what
/// `get` reads (acquire), so a value is only ever read after it was fully
/// written.
pub struct OnceCell<T> {
    initialized: AtomicBool,
    sem: Semaphore,
    ready: Event,
    value: UnsafeCell<MaybeUninit<T>>,
}

// SAFETY: moving the cell moves the `T`.
unsafe impl<T: Send> Send for OnceCell<T> {}
// SAFETY: any thread may write the value (through `set`/`get_or_init`,
// which moves a `T` into the cell: `T: Send`) and any thread may read it
// through `&T` (`T: Sync`). Writes happen once, under the semaphore permit,
// before the release store of `initialized` that every reader acquires.
unsafe impl<T: Send + Sync> Sync for OnceCell<T> {}

/// Why [`OnceCell::set`] refused the value, which it gives back.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub enum SetError<T> {
    /// The cell already holds a value.
    AlreadyInitialized(T),
    /// An initialiser is running; the cell may hold a value soon.
    Initializing(T),
}

impl<T> SetError<T> {
    /// The value that was not stored.
    pub fn into_inner(self) -> T {
        match self {
            SetError::AlreadyInitialized(v) | SetError::Initializing(v) => v,
        }
    }
}

impl<T> fmt::Debug for SetError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SetError::AlreadyInitialized(_) => f.write_str("AlreadyInitialized(..)"),
            SetError::Initializing(_) => f.write_str("Initializing(..)"),
        }
    }
}

impl<T> fmt::Display for SetError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SetError::AlreadyInitialized(_) => f.write_str("cell already initialized"),
            SetError::Initializing(_) => f.write_str("cell is being initialized"),
        }
    }
}

impl<T> core::error::Error for SetError<T> {}

/// A snapshot of a [`OnceCell`], from [`OnceCell::statistics`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct OnceCellStatistics {
    /// The cell holds a value.
    pub initialized: bool,
    /// An initialiser is running.
    pub initializing: bool,
    /// Callers waiting for the value: queued behind the running
    /// initialiser, or in [`OnceCell::wait`].
    pub waiters: usize,
}

impl<T> OnceCell<T> {
    crate::util::macros::loom_const_fn!(
        /// An empty cell.
        pub fn new() -> OnceCell<T> {
            OnceCell {
                initialized: AtomicBool::new(false),
                sem: Semaphore::new(1),
                ready: Event::new(),
                value: UnsafeCell::new(MaybeUninit::uninit()),
            }
        }
    );

    /// A cell holding `value` if it is `Some`, else empty.
    pub fn new_with(value: Option<T>) -> OnceCell<T> {
        let cell = OnceCell::new();
        if let Some(value) = value {
            cell.store(value);
        }
        cell
    }

    /// The value, if the cell has been initialised.
    pub fn get(&self) -> Option<&T> {
        if self.is_initialized() {
            Some(self.value_ref())
        } else {
            None
        }
    }

    /// Mutable access to the value, if any: the `&mut` proves nobody else
    /// is using the cell.
    pub fn get_mut(&mut self) -> Option<&mut T> {
        if !self.is_initialized() {
            return None;
        }
        Some(self.value.with_mut(|p| {
            // SAFETY: initialised (checked above), and `&mut self` makes
            // this the only reference.
            // (`MaybeUninit<T>` has the layout of `T`.)
            unsafe { &mut *p.cast::<T>() }
        }))
    }

    /// `true` once the cell holds a value.
    pub fn is_initialized(&self) -> bool {
        self.initialized.load(Ordering::Acquire)
    }

    /// Stores `value` if the cell is empty and no initialiser is running.
    ///
    /// # Errors
    /// Gives `value` back in [`SetError::AlreadyInitialized`] or
    /// [`SetError::Initializing`].
    pub fn set(&self, value: T) -> Result<(), SetError<T>> {
        match self.sem.try_acquire() {
            Ok(permit) => {
                permit.keep();
                self.store(value);
                Ok(())
            }
            Err(TryAcquireError::Closed) => Err(SetError::AlreadyInitialized(value)),
            Err(_) if self.is_initialized() => Err(SetError::AlreadyInitialized(value)),
            Err(_) => Err(SetError::Initializing(value)),
        }
    }

    /// The value, running `init` first if the cell is empty.
    ///
    /// Only one initialiser runs at a time; callers that find one running
    /// wait for it, in order. If it completes, they all return its value;
    /// if it is cancelled, the next waiting caller runs its own `init`.
    ///
    /// # Wakers
    ///
    /// The future clones the task's waker with the primitive's lock released
    /// when it starts waiting, so that clone may call back into this
    /// primitive. If it is polled again with a waker that does not
    /// [`will_wake`](core::task::Waker::will_wake) the one it holds, the new
    /// one is cloned under the lock: a `Waker::clone` that calls back into the
    /// same primitive then deadlocks.
    ///
    /// # Cancel safety
    /// This method is cancel safe. Dropping the future gives up its place in
    /// the queue; a wake-up it had already received is passed to the next
    /// waiter.
    ///
    /// If it was running its initialiser, that initialiser is dropped, the
    /// cell stays empty, and the next waiting caller runs its own.
    pub fn get_or_init<F, Fut>(&self, init: F) -> GetOrInit<'_, T, F, Fut>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = T>,
    {
        GetOrInit {
            inner: InitInner::new(self, init),
        }
    }

    /// Like [`get_or_init`](Self::get_or_init) with a fallible initialiser.
    /// If it fails, the cell stays empty, its error is returned, and the
    /// next waiting caller runs its own initialiser.
    ///
    /// # Wakers
    ///
    /// The future clones the task's waker with the primitive's lock released
    /// when it starts waiting, so that clone may call back into this
    /// primitive. If it is polled again with a waker that does not
    /// [`will_wake`](core::task::Waker::will_wake) the one it holds, the new
    /// one is cloned under the lock: a `Waker::clone` that calls back into the
    /// same primitive then deadlocks.
    ///
    /// # Cancel safety
    /// This method is cancel safe. Dropping the future gives up its place in
    /// the queue; a wake-up it had already received is passed to the next
    /// waiter.
    ///
    /// If it was running its initialiser, that initialiser is dropped, the
    /// cell stays empty, and the next waiting caller runs its own.
    ///
    /// # Errors
    /// The error of this caller's initialiser, if it ran and failed.
    ///
    /// # Examples
    ///
    /// ```
    /// # futures_executor::block_on(async {
    /// use anysync::sync::OnceCell;
    ///
    /// let cell = OnceCell::new();
    /// let r = cell.get_or_try_init(|| async { Err::<u32, _>("offline") }).await;
    /// assert_eq!(r, Err("offline"));
    /// assert!(!cell.is_initialized()); // the next caller tries again
    /// let r = cell.get_or_try_init(|| async { Ok::<_, &str>(7) }).await;
    /// assert_eq!(r, Ok(&7));
    /// # });
    /// ```
    pub fn get_or_try_init<E, F, Fut>(&self, init: F) -> GetOrTryInit<'_, T, F, Fut>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        GetOrTryInit {
            inner: InitInner::new(self, init),
        }
    }

    /// Waits until the cell is initialised (by another task's
    /// [`get_or_init`](Self::get_or_init), [`set`](Self::set), ...), then
    /// gives the value. Completes at once if the cell already holds one.
    ///
    /// It never runs an initialiser nor holds one up: if nobody
    /// initialises the cell, it waits forever.
    ///
    /// # Wakers
    ///
    /// The future clones the task's waker with the primitive's lock released
    /// when it starts waiting, so that clone may call back into this
    /// primitive. If it is polled again with a waker that does not
    /// [`will_wake`](core::task::Waker::will_wake) the one it holds, the new
    /// one is cloned under the lock: a `Waker::clone` that calls back into the
    /// same primitive then deadlocks.
    ///
    /// # Cancel safety
    /// This method is cancel safe: dropping the future before it completes
    /// has no effect.
    ///
    /// # Examples
    ///
    /// ```
    /// # futures_executor::block_on(async {
    /// use anysync::sync::OnceCell;
    ///
    /// let cell = OnceCell::new();
    /// let waiting = cell.wait(); // typically awaited in another task
    /// cell.set(3).unwrap();
    /// assert_eq!(*waiting.await, 3);
    /// # });
    /// ```
    pub fn wait(&self) -> OnceCellWait<'_, T> {
        OnceCellWait {
            cell: self,
            done: false,
            wait: self.ready.wait(),
        }
    }

    /// Consumes the cell, returning its value if any.
    pub fn into_inner(mut self) -> Option<T> {
        self.take()
    }

    /// Takes the value out, leaving the cell empty (and usable again).
    pub fn take(&mut self) -> Option<T> {
        if !self.is_initialized() {
            return None;
        }
        // Leaves an empty cell behind, whose drop does nothing.
        let old = core::mem::take(self);
        old.initialized.store(false, Ordering::Relaxed);
        Some(old.value.with(|p| {
            // SAFETY: the value is initialised (checked above) and `old` is
            // owned here; clearing its flag first means its drop will not
            // drop the value we move out.
            // (`MaybeUninit<T>` has the layout of `T`.)
            unsafe { p.cast::<T>().read() }
        }))
    }

    /// A snapshot of the cell's state.
    pub fn statistics(&self) -> OnceCellStatistics {
        let sem = self.sem.statistics();
        let initialized = self.is_initialized();
        OnceCellStatistics {
            initialized,
            initializing: !initialized && !sem.closed && sem.available == 0,
            waiters: sem.waiters + self.ready.waiters(),
        }
    }

    fn value_ref(&self) -> &T {
        self.value.with(|p| {
            // SAFETY: only called once `initialized` was seen `true` with
            // acquire ordering; the value was written before the release
            // store of the flag and is never written again while shared.
            // (`MaybeUninit<T>` has the layout of `T`.)
            unsafe { &*p.cast::<T>() }
        })
    }

    /// Writes the value. The caller holds the semaphore's only permit
    /// (and forgets it): nobody else can be writing, and nobody reads until
    /// the flag is set.
    fn store(&self, value: T) -> &T {
        self.value.with_mut(|p| {
            // SAFETY: the caller holds the only permit and the cell is not
            // initialised (the permit is never given out after that), so
            // no one else reads or writes the slot.
            // (`MaybeUninit<T>` has the layout of `T`.)
            unsafe { p.cast::<T>().write(value) };
        });
        self.initialized.store(true, Ordering::Release);
        // Wakes every queued caller with `Closed` = "initialised"; `ready`
        // is set even if one of their wakes panics.
        both(|| self.sem.close(), || self.ready.set());
        self.value_ref()
    }
}

impl<T> Drop for OnceCell<T> {
    fn drop(&mut self) {
        if self.is_initialized() {
            self.value.with_mut(|p| {
                // SAFETY: initialised, and `&mut self` in drop: last use.
                // (`MaybeUninit<T>` has the layout of `T`.)
                unsafe { core::ptr::drop_in_place(p.cast::<T>()) }
            });
        }
    }
}

impl<T> Default for OnceCell<T> {
    fn default() -> Self {
        OnceCell::new()
    }
}

impl<T> From<T> for OnceCell<T> {
    fn from(value: T) -> Self {
        OnceCell::new_with(Some(value))
    }
}

impl<T: Clone> Clone for OnceCell<T> {
    fn clone(&self) -> Self {
        OnceCell::new_with(self.get().cloned())
    }
}

impl<T: PartialEq> PartialEq for OnceCell<T> {
    fn eq(&self, other: &Self) -> bool {
        self.get() == other.get()
    }
}

impl<T: Eq> Eq for OnceCell<T> {}

impl<T: fmt::Debug> fmt::Debug for OnceCell<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OnceCell")
            .field("value", &self.get())
            .finish()
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    /// Waiting for the right to initialise (or for the value).
    Acquire,
    /// Holding the permit, running the initialiser.
    Running,
    /// Holding the permit; the initialiser finished, its output not yet
    /// handled by the wrapper.
    Finished,
    Done,
}

/// What [`InitInner::poll`] produced.
enum Step<'a, T, O> {
    /// The cell is initialised (by someone).
    Value(&'a T),
    /// Our initialiser finished with this; the permit is still held.
    Output(O),
}

pin_project!(
    /// The state machine shared by [`GetOrInit`] and [`GetOrTryInit`].
    struct InitInner<'a, T, F, Fut> {
        cell: &'a OnceCell<T>,
        init: Option<F>,
        phase: Phase,
        #[pin]
        acquire: AcquireInner<&'a OnceCell<T>>,
        #[pin]
        fut: Option<Fut>,
    }

    impl<T, F, Fut> PinnedDrop for InitInner<'_, T, F, Fut> {
        fn drop(this: Pin<&mut Self>) {
            let mut this = this.project();
            match this.phase {
                // The acquire's own drop leaves the queue.
                Phase::Acquire => {}
                Phase::Running | Phase::Finished => {
                    // Drop the initialiser before the next one may start;
                    // the permit goes back even if its drop panics.
                    let cell = this.cell;
                    both(|| this.fut.set(None), || cell.sem.release(1));
                }
                Phase::Done => {}
            }
        }
    }
);

impl<T> SemOwner for OnceCell<T> {
    #[inline(always)]
    fn sem(&self) -> &Semaphore {
        &self.sem
    }
}

impl<'a, T, F, Fut> InitInner<'a, T, F, Fut>
where
    F: FnOnce() -> Fut,
    Fut: Future,
{
    fn new(cell: &'a OnceCell<T>, init: F) -> Self {
        InitInner {
            cell,
            init: Some(init),
            phase: Phase::Acquire,
            acquire: AcquireInner::new(cell, 1),
            fut: None,
        }
    }

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Step<'a, T, Fut::Output>> {
        let mut this = self.project();
        let cell: &'a OnceCell<T> = this.cell;
        loop {
            match this.phase {
                Phase::Acquire => {
                    if cell.is_initialized() {
                        // Leaves the queue if we were in it.
                        this.acquire.as_mut().cancel();
                        *this.phase = Phase::Done;
                        return Poll::Ready(Step::Value(cell.value_ref()));
                    }
                    match this.acquire.as_mut().poll(cx) {
                        Poll::Pending => return Poll::Pending,
                        Poll::Ready(Ok(_)) => {
                            // Set the phase first: if `init` panics, drop
                            // gives the permit back.
                            *this.phase = Phase::Running;
                            let init = this.init.take().expect("initialiser runs once");
                            this.fut.set(Some(init()));
                        }
                        Poll::Ready(Err(AcquireError::Closed)) => {
                            *this.phase = Phase::Done;
                            return Poll::Ready(Step::Value(cell.value_ref()));
                        }
                        Poll::Ready(Err(e)) => unreachable!("once cell acquires 1 permit: {e}"),
                    }
                }
                Phase::Running => {
                    let fut = this.fut.as_mut().as_pin_mut().expect("set when running");
                    let out = match fut.poll(cx) {
                        Poll::Ready(out) => out,
                        Poll::Pending => return Poll::Pending,
                    };
                    this.fut.set(None);
                    *this.phase = Phase::Finished;
                    return Poll::Ready(Step::Output(out));
                }
                Phase::Finished | Phase::Done => panic!("once cell future polled after completion"),
            }
        }
    }

    /// After `Step::Output`: store the value.
    fn complete(self: Pin<&mut Self>, value: T) -> &'a T {
        let this = self.project();
        debug_assert_eq!(*this.phase, Phase::Finished);
        *this.phase = Phase::Done;
        let cell: &'a OnceCell<T> = this.cell;
        cell.store(value)
    }

    /// After `Step::Output`: the initialiser failed; let the next one run.
    fn fail(self: Pin<&mut Self>) {
        let this = self.project();
        debug_assert_eq!(*this.phase, Phase::Finished);
        *this.phase = Phase::Done;
        this.cell.sem.release(1);
    }
}

pin_project!(
    /// Future returned by [`OnceCell::get_or_init`].
    #[must_use = "futures do nothing unless you `.await` or poll them"]
    pub struct GetOrInit<'a, T, F, Fut> {
        #[pin]
        inner: InitInner<'a, T, F, Fut>,
    }
);

impl<'a, T, F, Fut> Future for GetOrInit<'a, T, F, Fut>
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = T>,
{
    type Output = &'a T;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<&'a T> {
        let mut inner = self.project().inner;
        match inner.as_mut().poll(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(Step::Value(v)) => Poll::Ready(v),
            Poll::Ready(Step::Output(value)) => Poll::Ready(inner.complete(value)),
        }
    }
}

impl<T, F, Fut> FusedFuture for GetOrInit<'_, T, F, Fut>
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = T>,
{
    fn is_terminated(&self) -> bool {
        self.inner.phase == Phase::Done
    }
}

impl<T, F, Fut> fmt::Debug for GetOrInit<'_, T, F, Fut> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GetOrInit")
            .field("phase", &self.inner.phase)
            .finish_non_exhaustive()
    }
}

pin_project!(
    /// Future returned by [`OnceCell::get_or_try_init`].
    #[must_use = "futures do nothing unless you `.await` or poll them"]
    pub struct GetOrTryInit<'a, T, F, Fut> {
        #[pin]
        inner: InitInner<'a, T, F, Fut>,
    }
);

impl<'a, T, E, F, Fut> Future for GetOrTryInit<'a, T, F, Fut>
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Result<T, E>>,
{
    type Output = Result<&'a T, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut inner = self.project().inner;
        match inner.as_mut().poll(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(Step::Value(v)) => Poll::Ready(Ok(v)),
            Poll::Ready(Step::Output(Ok(value))) => Poll::Ready(Ok(inner.complete(value))),
            Poll::Ready(Step::Output(Err(e))) => {
                inner.fail();
                Poll::Ready(Err(e))
            }
        }
    }
}

impl<T, E, F, Fut> FusedFuture for GetOrTryInit<'_, T, F, Fut>
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Result<T, E>>,
{
    fn is_terminated(&self) -> bool {
        self.inner.phase == Phase::Done
    }
}

impl<T, F, Fut> fmt::Debug for GetOrTryInit<'_, T, F, Fut> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GetOrTryInit")
            .field("phase", &self.inner.phase)
            .finish_non_exhaustive()
    }
}

pin_project!(
    /// Future returned by [`OnceCell::wait`].
    #[must_use = "futures do nothing unless you `.await` or poll them"]
    pub struct OnceCellWait<'a, T> {
        cell: &'a OnceCell<T>,
        done: bool,
        #[pin]
        wait: event::EventWait<'a>,
    }
);

impl<'a, T> Future for OnceCellWait<'a, T> {
    type Output = &'a T;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<&'a T> {
        let this = self.project();
        let cell: &'a OnceCell<T> = this.cell;
        assert!(!*this.done, "`OnceCellWait` polled after completion");
        if cell.is_initialized() {
            // A wake-up already delivered is consumed lock-free, so the
            // drop has nothing to unlink.
            this.wait.finish_if_woken();
        } else {
            match this.wait.poll(cx) {
                Poll::Ready(()) => {}
                Poll::Pending => return Poll::Pending,
            }
        }
        // Set only after the value is written and the flag raised.
        debug_assert!(cell.is_initialized());
        *this.done = true;
        Poll::Ready(cell.value_ref())
    }
}

impl<T> FusedFuture for OnceCellWait<'_, T> {
    fn is_terminated(&self) -> bool {
        self.done
    }
}

impl<T> fmt::Debug for OnceCellWait<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OnceCellWait")
            .field("initialized", &self.cell.is_initialized())
            .finish_non_exhaustive()
    }
}

#[cfg(feature = "std")]
#[cfg_attr(docsrs, doc(cfg(feature = "std")))]
impl<T> OnceCell<T> {
    /// Like [`get_or_init`](Self::get_or_init) for a plain thread, with a
    /// plain initialiser: blocks the thread while another initialiser runs,
    /// then returns its value, or runs `init` on this thread if the cell is
    /// still empty.
    ///
    /// Calling it from a task blocks that executor thread.
    ///
    /// If `init` panics, the cell stays empty and the next waiting caller
    /// runs its own initialiser.
    pub fn get_or_init_blocking(&self, init: impl FnOnce() -> T) -> &T {
        crate::util::block_on::block_on(self.get_or_init(|| core::future::ready(init())))
    }

    /// Like [`get_or_try_init`](Self::get_or_try_init) for a plain thread,
    /// with a plain initialiser (see
    /// [`get_or_init_blocking`](Self::get_or_init_blocking)).
    ///
    /// # Errors
    /// The error of `init`, if it ran and failed; the cell stays empty.
    pub fn get_or_try_init_blocking<E>(
        &self,
        init: impl FnOnce() -> Result<T, E>,
    ) -> Result<&T, E> {
        crate::util::block_on::block_on(self.get_or_try_init(|| core::future::ready(init())))
    }

    /// Blocks the current thread until the cell is initialised, like
    /// [`wait`](Self::wait).
    ///
    /// Meant for plain threads; calling it from a task blocks that
    /// executor thread.
    pub fn wait_blocking(&self) -> &T {
        crate::util::block_on::block_on(self.wait())
    }
}

// Unwind safety (see the type's docs): the state is never left broken by a
// panic in user code. A waiting future caught in a panic is still a
// consistent waiter (its drop leaves the queue), and a shared reference to
// one reaches only what `Debug` and `is_terminated` read. (The futures'
// intrusive nodes hide this from the auto traits.)
impl<T: core::panic::UnwindSafe> core::panic::UnwindSafe for OnceCell<T> {}
impl<T: core::panic::UnwindSafe + core::panic::RefUnwindSafe> core::panic::RefUnwindSafe
    for OnceCell<T>
{
}
impl<T, F, Fut> core::panic::UnwindSafe for GetOrInit<'_, T, F, Fut>
where
    T: core::panic::UnwindSafe + core::panic::RefUnwindSafe,
    F: core::panic::UnwindSafe,
    Fut: core::panic::UnwindSafe,
{
}
impl<T, F, Fut> core::panic::UnwindSafe for GetOrTryInit<'_, T, F, Fut>
where
    T: core::panic::UnwindSafe + core::panic::RefUnwindSafe,
    F: core::panic::UnwindSafe,
    Fut: core::panic::UnwindSafe,
{
}

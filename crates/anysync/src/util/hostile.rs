//! Wakers that misbehave, and a detector for wakers run under a lock: for
//! anysync's own tests (its unit tests, and the conformance crate through
//! the `test-util` feature, which is not covered by semver).
//!
//! A [`Hostile`] waker can panic in `wake` or in `clone`, run a hook from
//! `wake`, `clone` or `drop` (to re-enter a primitive), and records every `wake` or
//! `drop` that happens while this thread holds a wait-queue lock: the rule
//! is that no waker is ever woken or dropped under one.
#![allow(clippy::disallowed_types)]
// test-only counters, not shared state of a primitive
// Public for the conformance crate (re-exported as `anysync::test_util` with
// the `test-util` feature); in the core's own test build it is crate-only.
#![allow(unreachable_pub)]

use alloc::sync::Arc;
use core::{
    fmt,
    sync::atomic::{AtomicBool, AtomicUsize, Ordering},
    task::{RawWaker, RawWakerVTable, Waker},
};
use std::sync::Mutex;

type Hook = Arc<dyn Fn() + Send + Sync>;

#[derive(Default)]
struct Inner {
    wakes: AtomicUsize,
    drops: AtomicUsize,
    under_lock: AtomicUsize,
    panic_on_wake: AtomicBool,
    panic_on_clone: AtomicBool,
    on_wake: Mutex<Option<Hook>>,
    on_drop: Mutex<Option<Hook>>,
    clones: AtomicUsize,
    clones_under_lock: AtomicUsize,
    on_clone: Mutex<Option<Hook>>,
}

/// A source of misbehaving wakers; every waker made by one shares its
/// settings and counters.
#[derive(Clone, Default)]
pub struct Hostile(Arc<Inner>);

impl fmt::Debug for Hostile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Hostile")
            .field("wakes", &self.wakes())
            .field("under_lock", &self.under_lock())
            .finish_non_exhaustive()
    }
}

impl Hostile {
    /// A well-behaved source until told otherwise.
    pub fn new() -> Self {
        Self::default()
    }

    /// A waker with this source's behaviour.
    pub fn waker(&self) -> Waker {
        let raw = RawWaker::new(Arc::into_raw(self.0.clone()).cast(), &VTABLE);
        // SAFETY: `VTABLE`'s functions treat the data pointer as an
        // `Arc<Inner>` made by `Arc::into_raw`, which it is, and keep its
        // reference count right (see each function).
        unsafe { Waker::from_raw(raw) }
    }

    /// Makes every later `wake`/`wake_by_ref` panic (after counting it).
    pub fn panic_on_wake(&self, on: bool) -> &Self {
        self.0.panic_on_wake.store(on, Ordering::SeqCst);
        self
    }

    /// Makes every later `clone` panic.
    pub fn panic_on_clone(&self, on: bool) -> &Self {
        self.0.panic_on_clone.store(on, Ordering::SeqCst);
        self
    }

    /// Runs `hook` inside every later `wake` (to re-enter a primitive).
    pub fn on_wake(&self, hook: impl Fn() + Send + Sync + 'static) -> &Self {
        *self.0.on_wake.lock().unwrap() = Some(Arc::new(hook));
        self
    }

    /// Runs `hook` inside every later drop of a waker (to re-enter a
    /// primitive).
    pub fn on_drop(&self, hook: impl Fn() + Send + Sync + 'static) -> &Self {
        *self.0.on_drop.lock().unwrap() = Some(Arc::new(hook));
        self
    }

    /// Runs `hook` inside every later `clone` of a waker, before the clone
    /// is made (to re-enter a primitive from `Waker::clone`).
    pub fn on_clone(&self, hook: impl Fn() + Send + Sync + 'static) -> &Self {
        *self.0.on_clone.lock().unwrap() = Some(Arc::new(hook));
        self
    }

    /// Clones so far (panicking ones included).
    pub fn clones(&self) -> usize {
        self.0.clones.load(Ordering::SeqCst)
    }

    /// Clones that happened while the cloning thread held a wait-queue lock
    /// (counted apart from [`under_lock`](Self::under_lock): only some
    /// primitives promise to clone outside their lock).
    pub fn clones_under_lock(&self) -> usize {
        self.0.clones_under_lock.load(Ordering::SeqCst)
    }

    /// Wake-ups so far (`wake` and `wake_by_ref`, panicking ones included).
    pub fn wakes(&self) -> usize {
        self.0.wakes.load(Ordering::SeqCst)
    }

    /// Waker drops so far.
    pub fn drops(&self) -> usize {
        self.0.drops.load(Ordering::SeqCst)
    }

    /// Wakes and drops that happened while the waking thread held a
    /// wait-queue lock. Must stay 0.
    pub fn under_lock(&self) -> usize {
        self.0.under_lock.load(Ordering::SeqCst)
    }
}

/// How many wait-queue locks the current thread holds (0 without `std`).
pub fn locks_held() -> usize {
    crate::waitq::lock::held()
}

fn check_lock(inner: &Inner) {
    if locks_held() != 0 {
        inner.under_lock.fetch_add(1, Ordering::SeqCst);
    }
}

fn run(hook: &Mutex<Option<Hook>>) {
    let hook = hook.lock().unwrap().clone();
    if let Some(hook) = hook {
        hook();
    }
}

fn wake_inner(inner: &Inner) {
    check_lock(inner);
    inner.wakes.fetch_add(1, Ordering::SeqCst);
    run(&inner.on_wake);
    if inner.panic_on_wake.load(Ordering::SeqCst) {
        panic!("hostile waker: wake panics");
    }
}

static VTABLE: RawWakerVTable = RawWakerVTable::new(clone, wake, wake_by_ref, drop_waker);

unsafe fn clone(data: *const ()) -> RawWaker {
    // SAFETY: `data` came from `Arc::into_raw` and the waker holding it is
    // alive (we were called through it), so the `Arc` is alive.
    let inner = unsafe { &*data.cast::<Inner>() };
    inner.clones.fetch_add(1, Ordering::SeqCst);
    if locks_held() != 0 {
        inner.clones_under_lock.fetch_add(1, Ordering::SeqCst);
    }
    run(&inner.on_clone);
    if inner.panic_on_clone.load(Ordering::SeqCst) {
        panic!("hostile waker: clone panics");
    }
    // SAFETY: as above; the new waker owns the extra count.
    unsafe { Arc::increment_strong_count(data.cast::<Inner>()) };
    RawWaker::new(data, &VTABLE)
}

unsafe fn wake(data: *const ()) {
    // SAFETY: `wake` consumes the waker, whose count we take over here, so
    // it is released even if a hook or the wake itself panics.
    let inner = unsafe { Arc::from_raw(data.cast::<Inner>()) };
    inner.drops.fetch_add(1, Ordering::SeqCst);
    wake_inner(&inner);
}

unsafe fn wake_by_ref(data: *const ()) {
    // SAFETY: the waker is alive (borrowed by the caller).
    wake_inner(unsafe { &*data.cast::<Inner>() });
}

unsafe fn drop_waker(data: *const ()) {
    // SAFETY: dropping the waker releases its count, taken over here.
    let inner = unsafe { Arc::from_raw(data.cast::<Inner>()) };
    check_lock(&inner);
    inner.drops.fetch_add(1, Ordering::SeqCst);
    run(&inner.on_drop);
}

/// Runs `f`, expecting it to panic; returns whether it did.
pub fn panics(f: impl FnOnce()) -> bool {
    std::panic::catch_unwind(core::panic::AssertUnwindSafe(f)).is_err()
}

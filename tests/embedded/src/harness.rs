//! What every scenario uses: running one and reporting it, polling a future
//! once, yielding until a condition holds, and an order log that needs no
//! allocator.

use core::{
    cell::{Cell, RefCell},
    future::{poll_fn, Future},
    pin::Pin,
    task::Poll,
};

use cortex_m_semihosting::hprintln;
use critical_section::Mutex as CsMutex;
use embassy_futures::yield_now;
use portable_atomic::{AtomicUsize, Ordering};

/// How many scenarios have passed so far.
static PASSED: AtomicUsize = AtomicUsize::new(0);

/// The scenario running now, for the panic handler's message.
static CURRENT: CsMutex<Cell<&'static str>> = CsMutex::new(Cell::new("(startup)"));

/// Runs one scenario to completion and prints one line for it. A failed
/// assertion panics, and the panic handler ends the run with a failure code.
pub(crate) async fn run(name: &'static str, scenario: impl Future<Output = ()>) {
    critical_section::with(|cs| CURRENT.borrow(cs).set(name));
    scenario.await;
    PASSED.fetch_add(1, Ordering::Relaxed);
    hprintln!("ok    {}", name);
}

/// The number of scenarios that passed.
pub(crate) fn passed() -> usize {
    PASSED.load(Ordering::Relaxed)
}

/// The name of the scenario that was running when this is called.
pub(crate) fn current() -> &'static str {
    critical_section::with(|cs| CURRENT.borrow(cs).get())
}

/// Polls `fut` exactly once, with the calling task's waker, and returns
/// what it returned. A `Pending` future keeps its registration, so a later
/// wake-up reaches this task.
pub(crate) async fn poll_once<F: Future>(mut fut: Pin<&mut F>) -> Poll<F::Output> {
    poll_fn(|cx| Poll::Ready(fut.as_mut().poll(cx))).await
}

/// Yields to the executor until `condition` holds, so that other tasks run.
///
/// # Panics
/// If the condition still does not hold after 100,000 yields: every
/// condition waited for here becomes true within a few scheduling rounds
/// (or a few timer ticks, in the interrupt scenarios), so that many means a
/// lost wake-up, not a slow machine.
pub(crate) async fn until(mut condition: impl FnMut() -> bool) {
    for _ in 0..100_000 {
        if condition() {
            return;
        }
        yield_now().await;
    }
    panic!("condition did not hold after 100000 yields");
}

/// A fixed list of small values, in the order they were pushed.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Entries {
    items: [u8; 32],
    len: usize,
}

impl Entries {
    /// An empty list.
    pub(crate) const fn new() -> Self {
        Self { items: [0; 32], len: 0 }
    }

    /// Appends `value`.
    ///
    /// # Panics
    /// If the list already holds 32 values.
    pub(crate) fn push(&mut self, value: u8) {
        assert!(self.len < self.items.len(), "Entries is full");
        self.items[self.len] = value;
        self.len += 1;
    }

    /// The values pushed so far.
    pub(crate) fn as_slice(&self) -> &[u8] {
        &self.items[..self.len]
    }
}

/// An order log shared by tasks (and interrupt handlers): a critical
/// section around [`Entries`].
pub(crate) struct Log(CsMutex<RefCell<Entries>>);

impl Log {
    /// An empty log, usable in a `static`.
    pub(crate) const fn new() -> Self {
        Self(CsMutex::new(RefCell::new(Entries::new())))
    }

    /// Appends `value`.
    pub(crate) fn push(&self, value: u8) {
        critical_section::with(|cs| self.0.borrow_ref_mut(cs).push(value));
    }

    /// A copy of the values pushed so far.
    pub(crate) fn get(&self) -> Entries {
        critical_section::with(|cs| *self.0.borrow_ref(cs))
    }

    /// How many values have been pushed.
    pub(crate) fn len(&self) -> usize {
        self.get().len
    }
}

//! The scaling workload: `n` tasks wait on one primitive, then a chain of
//! `n` hand-offs lets each of them through in turn.
//!
//! The futures are driven on the calling thread by a minimal ready-queue
//! executor ([`Handoffs`]): a wake pushes the task's index onto a queue
//! and the driver polls what the queue holds. Every crate is driven the
//! same way, so the time per hand-off is the primitive's release, wake and
//! completion, plus one queue push and pop. [`Handoffs::register`] polls
//! every waiter once and checks that each one really waits, so `n` is the
//! number of waiting tasks, not a guess.
//!
//! The report reuses the same cases to count the heap memory each waiter
//! costs, so the time and the memory curves come from the same workload.

use std::{
    collections::VecDeque,
    future::Future,
    pin::Pin,
    sync::{Arc, Mutex},
    task::{Context, Poll, Wake, Waker},
    time::{Duration, Instant},
};

use crate::{
    peers::{BenchChannel, BenchMutex, BenchNotify, BenchRwLock, BenchSemaphore},
    yield_now,
};

/// A task of the scaling workload.
pub type BoxFut = Pin<Box<dyn Future<Output = ()> + Send>>;

/// The queue of woken task indices.
type Ready = Arc<Mutex<VecDeque<usize>>>;

struct TaskWaker {
    index: usize,
    ready: Ready,
}

impl Wake for TaskWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.ready.lock().unwrap().push_back(self.index);
    }
}

/// A starter task and `n` waiters, run on the calling thread.
pub struct Handoffs {
    tasks: Vec<Option<BoxFut>>,
    wakers: Vec<Waker>,
    ready: Ready,
}

impl std::fmt::Debug for Handoffs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Handoffs")
            .field("tasks", &self.tasks.len())
            .finish_non_exhaustive()
    }
}

impl Handoffs {
    /// `starter` must yield once before it releases the first waiter;
    /// each of `waiters` must wait until it is released.
    pub fn new(starter: BoxFut, waiters: impl IntoIterator<Item = BoxFut>) -> Handoffs {
        let tasks: Vec<_> = std::iter::once(starter).chain(waiters).map(Some).collect();
        // Room for every task woken twice: the queue never grows (and so
        // never allocates) while the report counts allocations.
        let ready: Ready = Arc::new(Mutex::new(VecDeque::with_capacity(2 * tasks.len() + 8)));
        let wakers = (0..tasks.len())
            .map(|index| {
                Waker::from(Arc::new(TaskWaker {
                    index,
                    ready: ready.clone(),
                }))
            })
            .collect();
        Handoffs {
            tasks,
            wakers,
            ready,
        }
    }

    /// The number of waiters.
    pub fn waiters(&self) -> usize {
        self.tasks.len() - 1
    }

    /// The size of one waiter's future, in bytes (0 if there is none).
    pub fn waiter_size(&self) -> usize {
        self.tasks
            .get(1)
            .and_then(Option::as_ref)
            .map_or(0, |t| std::mem::size_of_val(&**t))
    }

    fn poll(&mut self, index: usize) -> Poll<()> {
        let Some(task) = self.tasks[index].as_mut() else {
            return Poll::Ready(());
        };
        let p = task
            .as_mut()
            .poll(&mut Context::from_waker(&self.wakers[index]));
        if p.is_ready() {
            self.tasks[index] = None;
        }
        p
    }

    /// Polls the starter, then every waiter, once each.
    ///
    /// # Panics
    /// If a waiter completes at once (it did not wait).
    pub fn register(&mut self) {
        for i in 0..self.tasks.len() {
            assert!(self.poll(i).is_pending(), "task {i} did not wait");
        }
    }

    /// Polls woken tasks until every task has completed.
    ///
    /// # Panics
    /// If tasks are left that nothing will wake.
    pub fn drain(&mut self) {
        let mut left = self.tasks.len();
        while left > 0 {
            let next = self.ready.lock().unwrap().pop_front();
            let i = next.unwrap_or_else(|| panic!("{left} tasks never woken"));
            if self.tasks[i].is_some() && self.poll(i).is_ready() {
                left -= 1;
            }
        }
    }
}

/// Criterion's `iter_custom` body: `iters` times, builds the workload and
/// registers its waiters (not timed), then times the hand-offs.
pub fn time(iters: u64, mut make: impl FnMut() -> Handoffs) -> Duration {
    let mut total = Duration::ZERO;
    for _ in 0..iters {
        let mut h = make();
        h.register();
        let start = Instant::now();
        h.drain();
        total += start.elapsed();
    }
    total
}

fn boxed(f: impl Future<Output = ()> + Send + 'static) -> BoxFut {
    Box::pin(f)
}

/// Mutex: a holder keeps the lock across one yield while `n` tasks queue
/// for it; each unlock hands it to the next.
pub fn mutex<M: BenchMutex>(n: usize) -> Handoffs {
    let m = Arc::new(M::create());
    let holder = m.clone();
    Handoffs::new(
        boxed(async move { holder.critical(true).await }),
        (0..n).map(|_| {
            let m = m.clone();
            boxed(async move { m.critical(false).await })
        }),
    )
}

/// Semaphore with one permit: as [`mutex`].
pub fn semaphore<S: BenchSemaphore>(n: usize) -> Handoffs {
    let s = Arc::new(S::create(1));
    let holder = s.clone();
    Handoffs::new(
        boxed(async move { holder.critical(1, true).await }),
        (0..n).map(|_| {
            let s = s.clone();
            boxed(async move { s.critical(1, false).await })
        }),
    )
}

/// RwLock: a writer holds the lock across a yield while `n` writers queue.
pub fn rwlock_write<L: BenchRwLock>(n: usize) -> Handoffs {
    let l = Arc::new(L::create());
    let holder = l.clone();
    Handoffs::new(
        boxed(async move { holder.write(true).await }),
        (0..n).map(|_| {
            let l = l.clone();
            boxed(async move { l.write(false).await })
        }),
    )
}

/// Notify: `n` tasks wait; one notification starts a chain in which each
/// woken task notifies once (the last one does not, so nothing is stored).
pub fn notify<N: BenchNotify>(n: usize) -> Handoffs {
    let x = Arc::new(N::create());
    let starter = x.clone();
    Handoffs::new(
        boxed(async move {
            yield_now().await;
            starter.notify();
        }),
        (0..n).map(|i| {
            let x = x.clone();
            boxed(async move {
                x.wait().await;
                if i + 1 < n {
                    x.notify();
                }
            })
        }),
    )
}

/// anysync's `Event`: `n` tasks wait, one `set` releases them all (so a
/// "hand-off" is one released waiter).
pub fn event_anysync(n: usize) -> Handoffs {
    let e = Arc::new(anysync::sync::Event::new());
    let starter = e.clone();
    Handoffs::new(
        boxed(async move {
            yield_now().await;
            starter.set();
        }),
        (0..n).map(|_| {
            let e = e.clone();
            boxed(async move { e.wait().await })
        }),
    )
}

/// tokio's `Notify::notify_waiters` as the broadcast peer of
/// [`event_anysync`].
pub fn event_tokio(n: usize) -> Handoffs {
    let e = Arc::new(tokio::sync::Notify::new());
    let starter = e.clone();
    Handoffs::new(
        boxed(async move {
            yield_now().await;
            starter.notify_waiters();
        }),
        (0..n).map(|_| {
            let e = e.clone();
            boxed(async move { e.notified().await })
        }),
    )
}

/// Bounded channel of capacity 1, full: `n` senders wait for room; the
/// receiver takes `n + 1` messages, each receive letting one sender in.
pub fn channel<C: BenchChannel>(n: usize) -> Handoffs {
    let (tx, mut rx) = C::bounded(1);
    futures_executor::block_on(C::send(&tx, 0));
    Handoffs::new(
        boxed(async move {
            yield_now().await;
            for _ in 0..=n {
                std::hint::black_box(C::recv(&mut rx).await);
            }
        }),
        (0..n).map(|i| {
            let tx = C::clone_tx(&tx);
            boxed(async move { C::send(&tx, i as u64).await })
        }),
    )
}

/// One curve of the scaling bench.
#[derive(Debug, Clone, Copy)]
pub struct Case {
    /// The primitive (one plot each).
    pub primitive: &'static str,
    /// The crate (one line each).
    pub id: &'static str,
    /// Builds the workload with `n` waiters.
    pub make: fn(usize) -> Handoffs,
}

const fn case(primitive: &'static str, id: &'static str, make: fn(usize) -> Handoffs) -> Case {
    Case {
        primitive,
        id,
        make,
    }
}

/// The scaling cases, anysync first in each primitive.
pub const CASES: &[Case] = &[
    case("Mutex", "anysync", mutex::<anysync::sync::Mutex<u64>>),
    case("Mutex", "tokio", mutex::<tokio::sync::Mutex<u64>>),
    case(
        "Semaphore",
        "anysync",
        semaphore::<anysync::sync::Semaphore>,
    ),
    case("Semaphore", "tokio", semaphore::<tokio::sync::Semaphore>),
    case("Notify", "anysync", notify::<anysync::sync::Notify>),
    case("Notify", "tokio", notify::<tokio::sync::Notify>),
    case("Event", "anysync", event_anysync),
    case("Event", "tokio", event_tokio),
    case(
        "channel",
        "anysync",
        channel::<crate::peers::AnysyncChannel>,
    ),
    case("channel", "tokio_mpsc", channel::<crate::peers::TokioMpsc>),
    case(
        "RwLock write",
        "anysync",
        rwlock_write::<anysync::sync::RwLock<u64>>,
    ),
    case(
        "RwLock write",
        "tokio",
        rwlock_write::<tokio::sync::RwLock<u64>>,
    ),
];

/// The primitives of [`CASES`], in order.
pub fn primitives() -> Vec<&'static str> {
    let mut p: Vec<_> = CASES.iter().map(|c| c.primitive).collect();
    p.dedup();
    p
}

/// The waiter counts of the scaling bench.
pub const SIZES: [usize; 5] = [1, 10, 100, 1_000, 10_000];

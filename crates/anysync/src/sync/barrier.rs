//! `Barrier`: a rendezvous for a fixed number of tasks (asyncio.Barrier),
//! cancel safe.

use core::{
    fmt,
    future::Future,
    pin::Pin,
    task::{Context, Poll},
};

use futures_core::FusedFuture;
use pin_project_lite::pin_project;

use crate::waitq::{QueueGuard, Visit, Wait, WaitNode, WaitOwner, WaitQueue, WaitState};

/// A barrier's state, under its queue lock.
#[derive(Debug)]
pub(crate) struct State {
    /// Tasks of the current generation waiting (they are exactly the queued
    /// waiters whose outcome is still `Pending`).
    arrived: usize,
    broken: bool,
}

/// A queued waiter's outcome, written when its generation ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// Its generation has not ended.
    Pending,
    /// Its generation tripped.
    Released,
    /// The barrier was aborted or reset while it waited.
    Broken,
}

/// A rendezvous point: each of `parties` tasks calls [`wait`](Self::wait),
/// and all of them continue together once the last one arrives ("the
/// barrier trips"). Then it is ready for the next round (the next
/// *generation*).
///
/// * **Exactly one leader** per generation: the task whose arrival trips
///   the barrier gets [`BarrierWaitResult::is_leader`] `== true`.
/// * **Cancel safe**, which a barrier needs to be in `select!` or under a
///   timeout: a task dropped before the barrier trips withdraws its arrival
///   ([`waiters`](Self::waiters) goes back down and the barrier still
///   needs `parties` tasks). Once the barrier has tripped, dropping any of
///   its waiters changes nothing for the others.
/// * **Generations never mix.** A task that passes the barrier and calls
///   `wait` again at once waits for the next generation, even if some
///   tasks of the previous one have not been polled yet.
/// * **Abort and reset** (asyncio's `abort()`/`reset()`):
///   [`abort`](Self::abort) breaks the barrier: every waiting task and
///   every later `wait` gets [`BrokenBarrier`] until [`reset`](Self::reset),
///   which empties the barrier (waiting tasks get `BrokenBarrier`) and makes
///   it usable again.
/// * `Barrier::new(0)` behaves as `Barrier::new(1)` (as in std and tokio):
///   every `wait` returns at once as the leader. A barrier that can never
///   trip cannot be built.
/// * Waits never allocate.
///
/// # Futurelock
///
/// A trip releases every waiter at once and hands nothing to one of them,
/// so a released future that is never polled holds no one up. Before the
/// trip, a polled [`wait`](Self::wait) counts as arrived until it completes
/// or is dropped, even while its task does something else (a `select!` in
/// a loop over a future made outside the loop); a task that gives up must
/// drop the future so that its arrival is withdrawn.
///
/// # Examples
///
/// ```
/// # futures_executor::block_on(async {
/// use anysync::sync::Barrier;
/// use futures_util::future::join_all;
///
/// let barrier = Barrier::new(3);
/// let results = join_all((0..3).map(|_| barrier.wait())).await;
/// let leaders = results.iter().filter(|r| r.as_ref().unwrap().is_leader()).count();
/// assert_eq!(leaders, 1);
/// # });
/// ```
///
/// # Unwind safety
///
/// `UnwindSafe` and `RefUnwindSafe`: there is no poisoning, and a panic
/// in user code never leaves a barrier broken: a waiting future dropped as
/// its task unwinds withdraws its arrival, as any dropped wait does.
///
/// # Implementation notes
///
/// One wait queue; its state holds the arrival count and the broken flag.
/// The last arrival (or `abort`/`reset`) ends the generation by writing an
/// outcome into every queued waiter that has none yet, in one pass under
/// the lock, then wakes the waiters that have an outcome, in batches. The
/// outcome, not the wake-up, is what decides: a waiter dropped while its
/// outcome is `Pending` is still part of the current generation and takes
/// its arrival back; one with an outcome is not. Waiters of a newer
/// generation queue behind and keep `Pending`, so they are never woken by
/// an older trip.
pub struct Barrier {
    parties: usize,
    queue: WaitQueue<State, Outcome>,
}

/// The barrier was broken by [`Barrier::abort`] or [`Barrier::reset`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct BrokenBarrier;

impl fmt::Display for BrokenBarrier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("barrier broken (aborted or reset)")
    }
}

impl core::error::Error for BrokenBarrier {}

/// What [`Barrier::wait`] gives the tasks that pass the barrier.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct BarrierWaitResult {
    leader: bool,
}

impl BarrierWaitResult {
    /// `true` for exactly one task per generation: the one whose arrival
    /// tripped the barrier.
    pub fn is_leader(&self) -> bool {
        self.leader
    }
}

/// A snapshot of a [`Barrier`], from [`Barrier::statistics`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct BarrierStatistics {
    /// Tasks needed to trip the barrier.
    pub parties: usize,
    /// Tasks of the current generation waiting.
    pub waiters: usize,
    /// `true` between [`Barrier::abort`] and [`Barrier::reset`].
    pub broken: bool,
}

impl Barrier {
    crate::util::macros::loom_const_fn!(
        /// A barrier that trips when `parties` tasks are waiting.
        /// `Barrier::new(0)` is the same as `Barrier::new(1)`.
        pub fn new(parties: usize) -> Barrier {
            Barrier {
                parties: if parties == 0 { 1 } else { parties },
                queue: WaitQueue::new(State {
                    arrived: 0,
                    broken: false,
                }),
            }
        }
    );

    /// Waits until `parties` tasks are waiting, then all of them continue.
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
    /// Dropped before the barrier trips, the task's arrival is withdrawn;
    /// dropped after, the trip stands for everyone else.
    ///
    /// # Errors
    /// [`BrokenBarrier`] if the barrier is broken when this is first polled,
    /// or is aborted or reset while this waits.
    pub fn wait(&self) -> BarrierWait<'_> {
        BarrierWait {
            phase: Phase::Init,
            wait: Wait::new(self, Outcome::Pending),
        }
    }

    /// Breaks the barrier: every waiting task gets [`BrokenBarrier`], and so
    /// does every later [`wait`](Self::wait) until [`reset`](Self::reset).
    /// Idempotent.
    ///
    /// # Examples
    ///
    /// ```
    /// # futures_executor::block_on(async {
    /// use anysync::sync::{Barrier, BrokenBarrier};
    ///
    /// let barrier = Barrier::new(2);
    /// barrier.abort();
    /// assert_eq!(barrier.wait().await, Err(BrokenBarrier));
    /// barrier.reset();
    /// assert!(!barrier.is_broken());
    /// # });
    /// ```
    pub fn abort(&self) {
        self.end_generation(Some(true), Outcome::Broken);
    }

    /// Empties the barrier and makes it usable again: tasks waiting right
    /// now get [`BrokenBarrier`] (as in asyncio); a broken barrier is
    /// mended.
    pub fn reset(&self) {
        self.end_generation(Some(false), Outcome::Broken);
    }

    /// The number of tasks needed to trip the barrier.
    pub fn parties(&self) -> usize {
        self.parties
    }

    /// The number of tasks of the current generation waiting.
    pub fn waiters(&self) -> usize {
        self.queue.lock().state_ref().arrived
    }

    /// `true` between [`abort`](Self::abort) and [`reset`](Self::reset).
    pub fn is_broken(&self) -> bool {
        self.queue.lock().state_ref().broken
    }

    /// A snapshot of the barrier's state.
    pub fn statistics(&self) -> BarrierStatistics {
        let queue = self.queue.lock();
        BarrierStatistics {
            parties: self.parties,
            waiters: queue.state_ref().arrived,
            broken: queue.state_ref().broken,
        }
    }

    /// Ends the current generation with `outcome` (setting the broken flag
    /// to `broken` if given), then wakes every waiter that has an outcome.
    fn end_generation(&self, broken: Option<bool>, outcome: Outcome) {
        {
            let mut queue = self.queue.lock();
            if let Some(broken) = broken {
                queue.state().broken = broken;
            }
            Self::mark_locked(&mut queue, outcome);
        }
        self.wake_ended();
    }

    /// Writes `outcome` into every queued waiter of the current generation
    /// and starts a new one.
    fn mark_locked(queue: &mut QueueGuard<'_, State, Outcome>, outcome: Outcome) {
        queue.state().arrived = 0;
        queue.for_each(|_, o, _| {
            if *o == Outcome::Pending {
                *o = outcome;
            }
        });
    }

    /// Wakes, from the head, the waiters whose generation has ended. They
    /// are all ahead of the current generation's waiters.
    fn wake_ended(&self) {
        self.queue.wake_loop(|queue, batch| {
            queue.wake_front(batch, |_, o, _| {
                if *o == Outcome::Pending {
                    Visit::Stop
                } else {
                    Visit::Wake
                }
            })
        });
    }

    fn poll_wait(
        &self,
        mut node: WaitNode<'_, Outcome>,
        phase: &mut Phase,
        cx: &mut Context<'_>,
    ) -> Poll<Result<BarrierWaitResult, BrokenBarrier>> {
        let outcome = match *phase {
            Phase::Done => panic!("`BarrierWait` polled after completion"),
            Phase::Init => {
                // The waker is cloned with the lock released (so that a
                // `Waker::clone` that calls back into this barrier cannot
                // deadlock), and only by an arrival that will wait: the
                // leader never clones. One that finds it must wait unlocks,
                // clones, and decides again.
                let mut fresh = None;
                let mut queue = loop {
                    let queue = self.queue.lock();
                    let state = queue.state_ref();
                    if state.broken || state.arrived + 1 >= self.parties || fresh.is_some() {
                        break queue;
                    }
                    drop(queue);
                    fresh = Some(cx.waker().clone());
                };
                let state = queue.state();
                if state.broken {
                    drop(queue);
                    drop(fresh);
                    *phase = Phase::Done;
                    return Poll::Ready(Err(BrokenBarrier));
                }
                if state.arrived + 1 < self.parties {
                    // Cloned before counting the arrival: a panicking
                    // `Waker::clone` leaves the count as it was.
                    let waker = fresh.take().expect("cloned before deciding to wait");
                    queue.state().arrived += 1;
                    node.enqueue_with(&mut queue, waker);
                    *phase = Phase::Waiting;
                    return Poll::Pending;
                }
                // The last arrival: trip, and lead. Done before waking, so
                // that a panicking waker cannot make this future arrive
                // again if it is polled once more.
                Self::mark_locked(&mut queue, Outcome::Released);
                drop(queue);
                *phase = Phase::Done;
                self.wake_ended();
                return Poll::Ready(Ok(BarrierWaitResult { leader: true }));
            }
            Phase::Waiting => {
                // Woken: its outcome is set; complete without the lock.
                match node.take_woken(|o| *o) {
                    Some(outcome) => outcome,
                    None => {
                        let mut queue = self.queue.lock();
                        let outcome = node.data(&mut queue, |o| *o);
                        if outcome == Outcome::Pending {
                            let old = node.update_waker(&mut queue, cx.waker());
                            drop(queue);
                            drop(old);
                            return Poll::Pending;
                        }
                        // Ended, woken or not yet: leave the queue ourselves.
                        let (_, waker) = node.remove(&mut queue);
                        drop(queue);
                        drop(waker);
                        outcome
                    }
                }
            }
        };
        *phase = Phase::Done;
        match outcome {
            Outcome::Released => Poll::Ready(Ok(BarrierWaitResult { leader: false })),
            _ => Poll::Ready(Err(BrokenBarrier)),
        }
    }
}

impl WaitOwner for Barrier {
    type State = State;
    type Data = Outcome;

    fn wait_queue(&self) -> &WaitQueue<State, Outcome> {
        &self.queue
    }

    /// A waiter dropped while its generation is still open (outcome
    /// `Pending`, so still `Waiting`) withdraws its arrival; one whose
    /// generation ended changes nothing for the others.
    fn abandon(
        &self,
        mut queue: QueueGuard<'_, State, Outcome>,
        was: WaitState,
        outcome: &mut Outcome,
    ) {
        if was == WaitState::Waiting && *outcome == Outcome::Pending {
            queue.state().arrived -= 1;
        }
        drop(queue);
    }
}

impl fmt::Debug for Barrier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let stats = self.statistics();
        f.debug_struct("Barrier")
            .field("parties", &stats.parties)
            .field("waiters", &stats.waiters)
            .field("broken", &stats.broken)
            .finish()
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    Init,
    Waiting,
    Done,
}

pin_project!(
    /// Future returned by [`Barrier::wait`].
    #[must_use = "futures do nothing unless you `.await` or poll them"]
    pub struct BarrierWait<'a> {
        phase: Phase,
        // Its drop leaves the queue and withdraws a pending arrival
        // (`WaitOwner::abandon`).
        #[pin]
        wait: Wait<&'a Barrier>,
    }
);

impl Future for BarrierWait<'_> {
    type Output = Result<BarrierWaitResult, BrokenBarrier>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let (barrier, node) = this.wait.split();
        barrier.poll_wait(node, this.phase, cx)
    }
}

impl FusedFuture for BarrierWait<'_> {
    fn is_terminated(&self) -> bool {
        self.phase == Phase::Done
    }
}

impl fmt::Debug for BarrierWait<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BarrierWait")
            .field("phase", &self.phase)
            .finish()
    }
}

#[cfg(feature = "std")]
#[cfg_attr(docsrs, doc(cfg(feature = "std")))]
impl Barrier {
    /// Blocks the current thread in [`wait`](Self::wait).
    ///
    /// Meant for plain threads; calling it from a task blocks that
    /// executor thread.
    ///
    /// # Errors
    /// As [`wait`](Self::wait).
    pub fn wait_blocking(&self) -> Result<BarrierWaitResult, BrokenBarrier> {
        crate::util::block_on::block_on(self.wait())
    }
}

// Unwind safety (see the type's docs): the state is never left broken by a
// panic in user code. A waiting future caught in a panic is still a
// consistent waiter (its drop leaves the queue), and a shared reference to
// one reaches only what `Debug` and `is_terminated` read. (The futures'
// intrusive nodes hide this from the auto traits.)
impl core::panic::UnwindSafe for Barrier {}
impl core::panic::RefUnwindSafe for Barrier {}
impl core::panic::RefUnwindSafe for BarrierWait<'_> {}
impl core::panic::UnwindSafe for BarrierWait<'_> {}

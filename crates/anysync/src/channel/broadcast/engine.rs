//! The state engine of a [`broadcast`](super) channel: the subscribers'
//! queues and overflow policies, publishing (waiting publishers are
//! published by whoever makes room), and settling (wakes and drops after
//! the lock is released). The public handles in the parent module drive it.

use alloc::{collections::VecDeque, vec::Vec};
use core::task::{Context, Poll, Waker};

use super::{BroadcastStatistics, Overflow, RecvError, SendError};
use crate::{
    loom::sync::Arc,
    util::wake_batch::WakeBatch,
    waitq::{QueueGuard, Visit, WaitNode, WaitOwner, WaitQueue, WaitState},
};

/// A published message, shared by the subscribers that queued it.
pub(super) type Msg<T> = Arc<T>;

/// At most this much of a subscriber's capacity is allocated up front; the
/// rest grows on demand (and then stays allocated).
pub(super) const PREALLOCATE: usize = 1024;

pub(super) struct Shared<T> {
    pub(super) queue: WaitQueue<State<T>, Option<Msg<T>>>,
    /// Told when the last connected subscriber goes (what
    /// [`Sender::closed`] waits for).
    pub(super) no_receivers: crate::sync::Notify,
}

pub(super) type Guard<'a, T> = QueueGuard<'a, State<T>, Option<Msg<T>>>;

pub(super) struct State<T> {
    /// One slot per subscriber, indexed by `Receiver::idx`; `None` is free.
    pub(super) subs: Vec<Option<Sub<T>>>,
    /// Subscribers that are not disconnected (they get new messages).
    pub(super) connected: usize,
    /// `Block` subscribers whose queue is full. Publishing waits while
    /// this is non-zero.
    pub(super) full_blockers: usize,
    /// Live `Sender`s; 0 means closed.
    pub(super) senders: usize,
    /// Some subscriber has `wake` set.
    pub(super) wakes_pending: bool,
    /// Messages to drop once the lock is released.
    pub(super) trash: Vec<Msg<T>>,
    /// Capacity for `subscribe()`.
    pub(super) default_capacity: usize,
    /// `connected` fell to 0: `settle` tells `Shared::no_receivers` once
    /// the lock is released.
    pub(super) receivers_gone: bool,
}

pub(super) struct Sub<T> {
    pub(super) buf: VecDeque<Entry<T>>,
    pub(super) capacity: usize,
    pub(super) overflow: Overflow,
    /// Messages missed after the last queued one.
    pub(super) lost_tail: u64,
    pub(super) disconnected: bool,
    /// The task waiting in `recv`, if any.
    pub(super) waker: Option<Waker>,
    /// `waker` should be woken (by `settle`, after unlocking).
    pub(super) wake: bool,
}

pub(super) struct Entry<T> {
    /// Messages missed just before this one.
    pub(super) lost_before: u64,
    pub(super) msg: Msg<T>,
}

impl<T> Sub<T> {
    pub(super) fn is_full(&self) -> bool {
        self.buf.len() >= self.capacity
    }

    pub(super) fn push(&mut self, msg: Msg<T>) {
        let lost_before = core::mem::take(&mut self.lost_tail);
        self.buf.push_back(Entry { lost_before, msg });
    }

    /// Asks `settle` to wake this subscriber's task, if one waits.
    pub(super) fn mark_wake(&mut self, pending: &mut bool) {
        if self.waker.is_some() {
            self.wake = true;
            *pending = true;
        }
    }
}

impl<T> State<T> {
    /// Publishes `msg` to every connected subscriber, applying each one's
    /// overflow policy. The caller checked `connected > 0` and
    /// `full_blockers == 0`.
    pub(super) fn publish(&mut self, msg: Msg<T>) {
        debug_assert!(self.connected > 0 && self.full_blockers == 0);
        let State {
            subs,
            connected,
            full_blockers,
            wakes_pending,
            trash,
            receivers_gone,
            ..
        } = self;
        let mut queued = false;
        for sub in subs.iter_mut().flatten() {
            if sub.disconnected {
                continue;
            }
            if sub.is_full() {
                match sub.overflow {
                    Overflow::Block => {
                        unreachable!("anysync bug: publishing past a full Block subscriber")
                    }
                    Overflow::DropNewest => {
                        sub.lost_tail += 1;
                        continue;
                    }
                    Overflow::Disconnect => {
                        sub.disconnected = true;
                        *connected -= 1;
                        *receivers_gone |= *connected == 0;
                        continue;
                    }
                    Overflow::DropOldest => {
                        let evicted = sub.buf.pop_front().expect("full queue is not empty");
                        let carry = evicted.lost_before + 1;
                        match sub.buf.front_mut() {
                            Some(front) => front.lost_before += carry,
                            None => sub.lost_tail += carry,
                        }
                        // Possibly the last reference: its drop is user code.
                        trash.push(evicted.msg);
                    }
                }
            }
            sub.push(Msg::clone(&msg));
            queued = true;
            if sub.overflow == Overflow::Block && sub.is_full() {
                *full_blockers += 1;
            }
            sub.mark_wake(wakes_pending);
        }
        if queued {
            // Not the last reference (queues hold clones, and only this
            // lock's holder can remove them): dropping is a decrement.
            drop(msg);
        } else {
            trash.push(msg);
        }
    }

    pub(super) fn sub(&mut self, idx: usize) -> &mut Sub<T> {
        self.subs[idx]
            .as_mut()
            .expect("anysync bug: receiver slot is empty")
    }

    /// Publishing may proceed, or waiting publishers must be told there is
    /// no one to publish to.
    pub(super) fn publishers_can_progress(&self) -> bool {
        self.connected == 0 || self.full_blockers == 0
    }

    #[cfg(test)]
    pub(super) fn check_invariants(&self) {
        let subs = self.subs.iter().flatten();
        let connected = subs.clone().filter(|s| !s.disconnected).count();
        let full_blockers = subs
            .clone()
            .filter(|s| s.overflow == Overflow::Block && s.is_full())
            .count();
        assert_eq!(self.connected, connected, "connected count");
        assert_eq!(
            self.full_blockers, full_blockers,
            "full Block subscriber count"
        );
        for sub in subs {
            assert!(sub.buf.len() <= sub.capacity, "queue over capacity");
        }
    }
}

/// Pops the next thing for subscriber `idx`: a message, a lag report, or
/// why nothing more will come. `Ok(None)` means "nothing yet".
pub(super) fn take_next<T>(state: &mut State<T>, idx: usize) -> Result<Option<Msg<T>>, RecvError> {
    let senders = state.senders;
    let sub = state.sub(idx);
    if let Some(front) = sub.buf.front_mut() {
        if front.lost_before > 0 {
            return Err(RecvError::Lagged(core::mem::take(&mut front.lost_before)));
        }
        let was_full = sub.is_full();
        let entry = sub.buf.pop_front().expect("front exists");
        if was_full && sub.overflow == Overflow::Block {
            state.full_blockers -= 1;
        }
        return Ok(Some(entry.msg));
    }
    if sub.lost_tail > 0 {
        return Err(RecvError::Lagged(core::mem::take(&mut sub.lost_tail)));
    }
    if sub.disconnected {
        return Err(RecvError::Disconnected);
    }
    if senders == 0 {
        return Err(RecvError::Closed);
    }
    Ok(None)
}

/// The caller's own copy of a received message: the original if this was
/// the last reference, else a clone. Runs with no lock held.
pub(super) fn into_owned<T: Clone>(msg: Msg<T>) -> T {
    match Arc::try_unwrap(msg) {
        Ok(value) => value,
        Err(shared) => T::clone(&shared),
    }
}

/// Moves a received message (or its absence) out of the lock, wrapping it.
pub(super) fn unwrap_msg<T>(msg: Msg<T>) -> T {
    match Arc::try_unwrap(msg) {
        Ok(value) => value,
        Err(_) => unreachable!("anysync bug: an unpublished message was shared"),
    }
}

impl<T> Shared<T> {
    /// A new subscriber slot, connected; returns its index.
    pub(super) fn add_subscriber(&self, capacity: usize, overflow: Overflow) -> usize {
        // Allocate before taking the lock.
        let sub = Sub {
            buf: VecDeque::with_capacity(capacity.min(PREALLOCATE)),
            capacity,
            overflow,
            lost_tail: 0,
            disconnected: false,
            waker: None,
            wake: false,
        };
        let mut queue = self.queue.lock();
        let state = queue.state();
        state.connected += 1;
        match state.subs.iter().position(Option::is_none) {
            Some(idx) => {
                state.subs[idx] = Some(sub);
                idx
            }
            None => {
                state.subs.push(Some(sub));
                state.subs.len() - 1
            }
        }
    }
    /// The snapshot behind `statistics()`, under the lock.
    pub(super) fn statistics(&self) -> BroadcastStatistics {
        let queue = self.queue.lock();
        let state = queue.state_ref();
        let subs = state.subs.iter().flatten();
        BroadcastStatistics {
            len: subs.clone().map(|sub| sub.buf.len()).max().unwrap_or(0),
            senders: state.senders,
            receivers: state.connected,
            send_waiters: queue.len(),
            recv_waiters: subs.filter(|sub| sub.waker.is_some()).count(),
            full_blocking_receivers: state.full_blockers,
        }
    }

    /// Runs `f` under the lock, then finishes what `f` set in motion (see
    /// [`settle`](Self::settle)).
    pub(super) fn locked<R>(&self, f: impl FnOnce(&mut Guard<'_, T>) -> R) -> R {
        let mut guard = self.queue.lock();
        let out = f(&mut guard);
        self.settle(guard);
        out
    }

    /// With the lock held: lets waiting publishers publish while there is
    /// room (or tells them there is no one to publish to), wakes receivers
    /// that got messages or saw the channel close, and drops discarded
    /// messages, in batches, never waking or dropping under the lock.
    pub(super) fn settle<'a>(&'a self, mut guard: Guard<'a, T>) {
        // A `Waker::wake` that panics does not strand the later batches:
        // with `std` every wake still runs and the first panic is raised
        // again at the end.
        #[cfg(feature = "std")]
        let mut panic = None;
        loop {
            let mut batch = WakeBatch::new();
            let mut more = false;
            if !guard.is_empty() && guard.state_ref().publishers_can_progress() {
                more = guard.wake_front(&mut batch, |state, slot, _| {
                    if state.connected == 0 {
                        // The message stays in the node: it comes back.
                        Visit::Wake
                    } else if state.full_blockers > 0 {
                        Visit::Stop
                    } else {
                        let msg = slot
                            .take()
                            .expect("anysync bug: waiting publisher without a message");
                        state.publish(msg);
                        Visit::Wake
                    }
                });
            }
            if !more && guard.state_ref().wakes_pending {
                more = flush_receiver_wakes(guard.state(), &mut batch);
            }
            let trash = if guard.state_ref().trash.is_empty() {
                None
            } else {
                Some(core::mem::take(&mut guard.state().trash))
            };
            let receivers_gone = core::mem::take(&mut guard.state().receivers_gone);
            drop(guard);
            if receivers_gone {
                #[cfg(feature = "std")]
                if let Err(payload) =
                    std::panic::catch_unwind(core::panic::AssertUnwindSafe(|| {
                        self.no_receivers.notify_all()
                    }))
                {
                    panic.get_or_insert(payload);
                }
                #[cfg(not(feature = "std"))]
                self.no_receivers.notify_all();
            }
            #[cfg(feature = "std")]
            if let Err(payload) = batch.wake_all_catching() {
                panic.get_or_insert(payload);
            }
            #[cfg(not(feature = "std"))]
            batch.wake_all();
            if let Some(mut trash) = trash {
                // User `Drop`s run here, with no lock held.
                trash.clear();
                let mut guard = self.queue.lock();
                if guard.state_ref().trash.capacity() == 0 {
                    // Reuse the buffer: no allocation in steady state.
                    core::mem::swap(&mut guard.state().trash, &mut trash);
                }
                drop(guard);
                drop(trash);
            }
            if !more {
                break;
            }
            guard = self.queue.lock();
        }
        #[cfg(feature = "std")]
        if let Some(payload) = panic {
            crate::util::finally::resume_unless_unwinding(payload);
        }
    }

    /// Poll logic of [`futures::Send`]: publishes `msg`, or waits for room
    /// with the message in `node`.
    pub(super) fn poll_send(
        &self,
        msg: &mut Option<T>,
        phase: &mut SendPhase,
        node: &mut WaitNode<'_, Option<Msg<T>>>,
        cx: &mut Context<'_>,
    ) -> Poll<Result<(), SendError<T>>> {
        match phase {
            SendPhase::Done => panic!("`Send` polled after completion"),
            SendPhase::Init => {
                let mut m = Msg::new(msg.take().expect("anysync bug: send without a message"));
                // The waker is cloned (executor code that may panic) with
                // no lock held, and only once it turns out to be needed.
                let mut waker: Option<Waker> = None;
                loop {
                    let outcome = self.locked(|queue| {
                        let state = queue.state_ref();
                        if state.connected == 0 {
                            Publish::Done(Err(m))
                        } else if queue.is_empty() && state.full_blockers == 0 {
                            queue.state().publish(m);
                            Publish::Done(Ok(()))
                        } else if let Some(waker) = waker.take() {
                            node.data(queue, |slot| *slot = Some(m));
                            node.enqueue_with(queue, waker);
                            Publish::Queued
                        } else {
                            Publish::NeedWaker(m)
                        }
                    });
                    match outcome {
                        Publish::NeedWaker(back) => {
                            m = back;
                            waker = Some(cx.waker().clone());
                        }
                        Publish::Queued => {
                            *phase = SendPhase::Queued;
                            return Poll::Pending;
                        }
                        Publish::Done(result) => {
                            *phase = SendPhase::Done;
                            drop(waker);
                            return Poll::Ready(result.map_err(|m| SendError(unwrap_msg(m))));
                        }
                    }
                }
            }
            SendPhase::Queued => {
                // Woken: `settle` published the message or left it in the
                // node before waking, so the outcome is taken lock-free.
                if let Some(left) = node.take_woken(Option::take) {
                    *phase = SendPhase::Done;
                    return Poll::Ready(match left {
                        None => Ok(()),
                        Some(m) => Err(SendError(unwrap_msg(m))),
                    });
                }
                let mut queue = self.queue.lock();
                match node.state(&queue) {
                    WaitState::Waiting => {
                        let old = node.update_waker(&mut queue, cx.waker());
                        drop(queue);
                        drop(old);
                        Poll::Pending
                    }
                    WaitState::Woken | WaitState::Idle => {
                        let (_, old) = node.remove(&mut queue);
                        let left = node.data(&mut queue, Option::take);
                        drop(queue);
                        drop(old);
                        *phase = SendPhase::Done;
                        Poll::Ready(match left {
                            None => Ok(()),
                            Some(m) => Err(SendError(unwrap_msg(m))),
                        })
                    }
                }
            }
        }
    }

    /// Leaves the queue; returns the message if it was not published.
    pub(super) fn withdraw(&self, node: &mut WaitNode<'_, Option<Msg<T>>>) -> Option<T> {
        let (left, old) = self.locked(|queue| {
            let (_, old) = node.remove(queue);
            (node.data(queue, Option::take), old)
        });
        drop(old);
        left.map(unwrap_msg)
    }
}

/// What one locked attempt of [`Shared::poll_send`] did.
pub(super) enum Publish<T> {
    /// Published (`Ok`), or nobody to publish to (`Err`, the message back).
    Done(Result<(), Msg<T>>),
    /// Must wait, and no waker was cloned yet: the message back.
    NeedWaker(Msg<T>),
    /// Queued, with the message in the node.
    Queued,
}

impl<T> WaitOwner for Shared<T> {
    type State = State<T>;
    type Data = Option<Msg<T>>;

    fn wait_queue(&self) -> &WaitQueue<State<T>, Option<Msg<T>>> {
        &self.queue
    }

    /// A waiting publisher's future was dropped: its message (still in the
    /// node if it was never published) is dropped with no lock held. It was
    /// granted nothing others need: publishing order is kept by the queue.
    fn abandon(&self, queue: Guard<'_, T>, _was: WaitState, data: &mut Option<Msg<T>>) {
        let msg = data.take();
        self.settle(queue);
        drop(msg);
    }
}

/// Moves the wakers of subscribers marked `wake` into `batch`. Returns
/// `true` if it stopped because the batch is full.
pub(super) fn flush_receiver_wakes<T>(state: &mut State<T>, batch: &mut WakeBatch) -> bool {
    for sub in state.subs.iter_mut().flatten() {
        if !sub.wake {
            continue;
        }
        if batch.is_full() {
            return true;
        }
        sub.wake = false;
        if let Some(waker) = sub.waker.take() {
            batch.push(waker);
        }
    }
    state.wakes_pending = false;
    false
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum SendPhase {
    /// Not polled yet: the message is in the future.
    Init,
    /// Queued: the message is in the waiter node until published.
    Queued,
    Done,
}

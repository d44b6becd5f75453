//! Threads hammering the lock-free ring of a bounded FIFO engine while
//! others take the slow path at random moments (permits, waiting, a
//! close), so the windows between a fast claim and `SLOW` are hit often.
//! Each checks what must hold whatever the interleaving: every item
//! accepted comes out exactly once, each sender's items in order, and
//! nothing is left reserved or waiting.

use alloc::{collections::VecDeque, sync::Arc, vec::Vec};
use core::{future::poll_fn, pin::pin};
use std::thread;

use crate::{
    chan::{ring::before_claim, Chan, FifoBuf, RecvFut, ReserveFut, SendFut, TryRecv, TrySend},
    util::test::{locks_taken, TestTask},
};

type Engine = Chan<FifoBuf<u64>>;

fn ring(cap: usize) -> Arc<Engine> {
    let chan = Chan::new_bounded(FifoBuf(VecDeque::new()), cap, false);
    assert!(chan.has_ring());
    Arc::new(chan)
}

fn send(chan: &Engine, v: u64) -> Result<(), u64> {
    let mut fut = pin!(SendFut::new(chan, v));
    futures_executor::block_on(poll_fn(|cx| fut.as_mut().poll_send(cx)))
}

fn recv(chan: &Engine) -> Option<u64> {
    let mut fut = pin!(RecvFut::new(chan));
    futures_executor::block_on(poll_fn(|cx| fut.as_mut().poll_recv(cx)))
}

fn reserve(chan: &Engine) -> Result<(), ()> {
    let mut fut = pin!(ReserveFut::new(chan, 1));
    futures_executor::block_on(poll_fn(|cx| fut.as_mut().poll_reserve(cx)))
}

/// A small xorshift generator: the tests need cheap, varied choices, not
/// quality randomness.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

/// Rounds of the close and shutdown races (fewer under miri, which is slow).
const ROUNDS: u64 = if cfg!(miri) { 2 } else { 20 };

/// Items are `sender << 32 | seq`.
const SEQ: u64 = 1 << 32;

fn assert_quiet(chan: &Engine) {
    let s = chan.stats();
    assert_eq!(
        (
            s.send_waiters,
            s.recv_waiters,
            s.slots_reserved,
            s.items_reserved,
            s.len
        ),
        (0, 0, 0, 0, 0),
        "{s:?}"
    );
}

/// Checks one receiver's items: each sender's in increasing order.
fn check_order(got: &[u64]) {
    let mut last: Vec<Option<u64>> = Vec::new();
    for &v in got {
        let (who, seq) = ((v / SEQ) as usize, v % SEQ);
        if last.len() <= who {
            last.resize(who + 1, None);
        }
        assert!(
            !matches!(last[who], Some(prev) if prev >= seq),
            "sender {who}: {seq} after {:?}",
            last[who]
        );
        last[who] = Some(seq);
    }
}

/// Senders and receivers on the fast path, one sender mixing in permits
/// (taken without and with waiting, filled or dropped at random): every
/// item arrives once, in order per sender, and the permits leave nothing
/// reserved.
#[test]
fn ring_hammer_with_random_permits() {
    const PER: u64 = if cfg!(miri) { 40 } else { 3000 };
    for cap in [1, 2, 7] {
        let chan = ring(cap);
        let mut senders = Vec::new();
        for who in 0..3u64 {
            let c = chan.clone();
            senders.push(thread::spawn(move || {
                let mut rng = Rng(0x9e37_79b9 + who * 7919);
                for seq in 0..PER {
                    let v = who * SEQ + seq;
                    if who == 0 && rng.below(4) == 0 {
                        // A permit: held across a yield, then filled.
                        let got = if rng.below(2) == 0 {
                            c.try_reserve(1).is_ok()
                        } else {
                            reserve(&c).is_ok()
                        };
                        if got {
                            thread::yield_now();
                            if rng.below(3) == 0 {
                                // Dropped unused: the slot goes back.
                                c.release_slots(1);
                            } else {
                                assert!(c.send_reserved(v).is_ok());
                                continue;
                            }
                        }
                    }
                    assert!(send(&c, v).is_ok());
                }
            }));
        }
        let receivers: Vec<_> = (0..2)
            .map(|_| {
                let c = chan.clone();
                thread::spawn(move || {
                    let mut got = Vec::new();
                    while let Some(v) = recv(&c) {
                        got.push(v);
                    }
                    got
                })
            })
            .collect();
        for s in senders {
            s.join().unwrap();
        }
        chan.close();
        let mut all = Vec::new();
        for r in receivers {
            let got = r.join().unwrap();
            check_order(&got);
            all.extend(got);
        }
        all.sort_unstable();
        let want: Vec<u64> = (0..3u64)
            .flat_map(|w| (0..PER).map(move |s| w * SEQ + s))
            .collect();
        assert_eq!(all, want, "cap {cap}");
        assert_quiet(&chan);
    }
}

/// Senders (lock-free and waiting) racing a close at a random moment:
/// every send that reported success is received exactly once, every
/// failed one was refused as closed, and receivers end.
#[test]
fn ring_hammer_with_a_random_close() {
    for round in 0..ROUNDS {
        let chan = ring(1 + (round as usize % 4));
        let senders: Vec<_> = (0..2u64)
            .map(|who| {
                let c = chan.clone();
                thread::spawn(move || {
                    let mut sent = Vec::new();
                    for seq in 0.. {
                        let v = who * SEQ + seq;
                        let ok = if seq % 2 == 0 {
                            send(&c, v).is_ok()
                        } else {
                            match c.try_send(v) {
                                Ok(()) => true,
                                Err(TrySend::Full(_)) => continue,
                                Err(TrySend::Closed(_)) => false,
                            }
                        };
                        if !ok {
                            break;
                        }
                        sent.push(v);
                    }
                    sent
                })
            })
            .collect();
        let receiver = {
            let c = chan.clone();
            thread::spawn(move || {
                let mut got = Vec::new();
                while let Some(v) = recv(&c) {
                    got.push(v);
                }
                got
            })
        };
        let mut rng = Rng(round + 1);
        for _ in 0..rng.below(2000) {
            thread::yield_now();
        }
        chan.close();
        let mut sent: Vec<u64> = senders
            .into_iter()
            .flat_map(|s| s.join().unwrap())
            .collect();
        let got = receiver.join().unwrap();
        check_order(&got);
        let mut got_sorted = got.clone();
        got_sorted.sort_unstable();
        sent.sort_unstable();
        assert_eq!(got_sorted, sent, "round {round}");
        assert_quiet(&chan);
    }
}

/// `shutdown_immediate` racing lock-free senders and a receiver: every
/// item is either received or dropped by the shutdown, never both or
/// neither.
#[test]
fn ring_hammer_with_shutdown() {
    for round in 0..ROUNDS {
        let chan = ring(4);
        let sender = {
            let c = chan.clone();
            thread::spawn(move || {
                let mut sent = 0u64;
                while send(&c, sent).is_ok() {
                    sent += 1;
                }
                sent
            })
        };
        let receiver = {
            let c = chan.clone();
            thread::spawn(move || {
                let mut got = 0u64;
                while let Some(v) = recv(&c) {
                    assert_eq!(v, got);
                    got += 1;
                }
                got
            })
        };
        let mut rng = Rng(round + 77);
        for _ in 0..rng.below(2000) {
            thread::yield_now();
        }
        let dropped = chan.shutdown_immediate() as u64;
        let sent = sender.join().unwrap();
        let got = receiver.join().unwrap();
        assert_eq!(got + dropped, sent, "round {round}");
        assert_eq!(chan.len(), 0);
    }
}

/// A queue's `task_done` accounting over a ring, where items taken are
/// counted by the ring's `head`: exact across many laps, with items
/// dropped by a shutdown not left in flight.
#[test]
fn ring_queue_accounting() {
    let chan: Engine = Chan::new_bounded(FifoBuf(VecDeque::new()), 3, true);
    assert!(chan.has_ring());
    assert_eq!(chan.task_done(), Err(()));
    for i in 0..1000u64 {
        assert!(chan.try_send(i).is_ok());
        assert!(chan.try_send(i + 1).is_ok());
        assert_eq!(chan.unfinished(), 2);
        assert_eq!(chan.try_recv(), Ok(i));
        assert_eq!(chan.stats().in_flight, 1);
        assert_eq!(chan.task_done(), Ok(false)); // one still buffered
        assert_eq!(chan.try_recv(), Ok(i + 1));
        assert_eq!(chan.unfinished(), 1);
        assert_eq!(chan.task_done(), Ok(true));
        assert_eq!(chan.task_done(), Err(()));
        assert_eq!(chan.unfinished(), 0);
    }
    assert!(chan.try_send(1).is_ok());
    assert!(chan.try_send(2).is_ok());
    assert_eq!(chan.try_recv(), Ok(1));
    assert_eq!(chan.shutdown_immediate(), 1);
    assert_eq!((chan.unfinished(), chan.stats().in_flight), (1, 1));
    assert_eq!(chan.task_done(), Ok(true));
    assert_eq!(chan.unfinished(), 0);
}

/// Putters and getters (who mark each item done) on a queue's ring:
/// nothing is left unfinished, and the last `task_done` is the one that
/// reports everything done.
#[test]
fn ring_queue_hammer_task_done() {
    const PER: u64 = if cfg!(miri) { 30 } else { 3000 };
    let chan: Arc<Engine> = Arc::new(Chan::new_bounded(FifoBuf(VecDeque::new()), 2, true));
    let putters: Vec<_> = (0..2u64)
        .map(|who| {
            let c = chan.clone();
            thread::spawn(move || {
                for seq in 0..PER {
                    assert!(send(&c, who * SEQ + seq).is_ok());
                }
            })
        })
        .collect();
    let getters: Vec<_> = (0..2)
        .map(|_| {
            let c = chan.clone();
            thread::spawn(move || {
                let mut got = Vec::new();
                while let Some(v) = recv(&c) {
                    got.push(v);
                    assert!(c.task_done().is_ok());
                }
                got
            })
        })
        .collect();
    for p in putters {
        p.join().unwrap();
    }
    chan.close();
    let mut n = 0;
    for g in getters {
        let got = g.join().unwrap();
        check_order(&got);
        n += got.len();
    }
    assert_eq!(n as u64, 2 * PER);
    assert_eq!(chan.unfinished(), 0);
    assert_eq!(chan.task_done(), Err(()));
}

/// The send and receive futures of a `u64` stay small enough for the
/// compiler to move them, and an `async` block awaiting one, with inline
/// stores (at most 128 bytes) instead of a call to `memcpy`: `Stage` in
/// one enum, and 32-bit slot counts in a waiting sender's node. (Not under
/// miri, whose CI run randomises field layout.)
#[test]
fn futures_fit_inline_moves() {
    let chan = Chan::new_bounded(FifoBuf(VecDeque::<u64>::new()), 64, false);
    let send = core::mem::size_of_val(&SendFut::new(&chan, 1));
    let recv = core::mem::size_of_val(&RecvFut::new(&chan));
    if cfg!(all(target_pointer_width = "64", not(miri))) {
        assert!(send <= 104, "{send}");
        assert!(recv <= 80, "{recv}");
    }
}

/// A sender that waits on a full ring and is dropped counts itself under
/// the senders' lock alone. Releasing the receivers' lock does not settle
/// that count (it would take the senders' lock on every release while
/// senders wait), so the dropped sender settles it and reopens the fast
/// paths itself, with no receive in between. Then a sender dropped while
/// another holds a granted slot: the ring reopens at once, with the
/// granted slot kept in its `held` count for the woken sender.
#[test]
fn dropped_waiting_sender_reopens_the_fast_paths() {
    let chan = ring(1);
    assert!(chan.try_send(0).is_ok());
    assert!(chan.fast_paths_open());
    let waker = futures_util::task::noop_waker_ref();
    let mut cx = core::task::Context::from_waker(waker);
    {
        let mut fut = pin!(SendFut::new(&*chan, 1));
        assert!(fut.as_mut().poll_send(&mut cx).is_pending());
        assert!(!chan.fast_paths_open(), "a waiting sender closes them");
    }
    assert!(chan.fast_paths_open(), "the dropped sender reopened them");
    let s = chan.stats();
    assert_eq!(
        (s.len, s.send_waiters, s.slots_reserved),
        (1, 0, 0),
        "{s:?}"
    );
    // Two waiting senders; a receive grants the freed slot to the first,
    // and the second is dropped.
    let mut first = pin!(SendFut::new(&*chan, 2));
    assert!(first.as_mut().poll_send(&mut cx).is_pending());
    {
        let mut second = pin!(SendFut::new(&*chan, 3));
        assert!(second.as_mut().poll_send(&mut cx).is_pending());
        assert_eq!(chan.try_recv(), Ok(0));
    }
    assert!(
        chan.fast_paths_open(),
        "reopened with the first sender's slot held"
    );
    assert!(
        matches!(chan.try_send(9), Err(TrySend::Full(9))),
        "the slot is held"
    );
    assert!(first.as_mut().poll_send(&mut cx).is_ready());
    assert!(chan.fast_paths_open());
    assert_eq!(chan.try_recv(), Ok(2));
    assert_quiet(&chan);
}

/// A woken waiter (a receiver granted an item, a sender granted a slot)
/// and a permit use what they hold without the lock when the fast paths
/// are open: the engine's own counts still include those reservations
/// (nothing under the lock ran), the fast paths stay open, and the counts
/// `stats` reports (as the next locked pass counts them) have let them go.
/// The last part drops a woken receiver unpolled while the fast paths are
/// open, which gives its grant back under the lock with the counter's
/// `held` left as it was: the lock must subtract what was used, not copy
/// the counter.
#[test]
fn woken_waiters_use_their_grants_without_the_lock() {
    let chan = ring(2);
    let waker = futures_util::task::noop_waker_ref();
    let mut cx = core::task::Context::from_waker(waker);
    let locked_reserved = |chan: &Engine| {
        let q = chan.recv.lock();
        let st = q.state_ref();
        (st.slots_reserved, st.items_reserved)
    };
    // A receiver waits; a send grants it the item and reopens the paths.
    let mut rx = pin!(RecvFut::new(&*chan));
    assert!(rx.as_mut().poll_recv(&mut cx).is_pending());
    assert!(chan.try_send(1).is_ok());
    assert!(chan.fast_paths_open());
    assert_eq!(locked_reserved(&chan), (0, 1));
    assert_eq!(
        rx.as_mut().poll_recv(&mut cx),
        core::task::Poll::Ready(Some(1))
    );
    assert!(chan.fast_paths_open());
    assert_eq!(
        locked_reserved(&chan),
        (0, 1),
        "the woken receiver took the lock"
    );
    assert_eq!(chan.stats().items_reserved, 0);
    // A full ring, a sender waits; a receive grants it the freed slot.
    assert!(chan.try_send(2).is_ok());
    assert!(chan.try_send(3).is_ok());
    let mut tx = pin!(SendFut::new(&*chan, 4));
    assert!(tx.as_mut().poll_send(&mut cx).is_pending());
    assert_eq!(chan.try_recv(), Ok(2));
    assert!(chan.fast_paths_open());
    assert!(tx.as_mut().poll_send(&mut cx).is_ready());
    assert!(chan.fast_paths_open());
    assert_eq!(
        locked_reserved(&chan),
        (1, 0),
        "the woken sender took the lock"
    );
    let s = chan.stats();
    assert_eq!(
        (s.len, s.slots_reserved, s.items_reserved),
        (2, 0, 0),
        "{s:?}"
    );
    // A permit sends without the lock.
    assert_eq!(chan.try_recv(), Ok(3));
    assert!(chan.try_reserve(1).is_ok());
    assert!(chan.send_reserved(5).is_ok());
    assert!(chan.fast_paths_open());
    assert_eq!(locked_reserved(&chan), (1, 0), "the permit took the lock");
    assert_eq!(chan.stats().slots_reserved, 0);
    // A locked pass (a reservation that finds the ring full) folds in
    // all three.
    assert!(matches!(chan.try_reserve(1), Err(TrySend::Full(()))));
    assert_eq!(locked_reserved(&chan), (0, 0));
    assert_eq!(chan.try_recv(), Ok(4));
    assert_eq!(chan.try_recv(), Ok(5));
    // Two receivers wait; two sends grant both items, and the first is
    // dropped before it runs: its grant goes back under the lock.
    let mut first = alloc::boxed::Box::pin(RecvFut::new(&*chan));
    let mut second = pin!(RecvFut::new(&*chan));
    assert!(first.as_mut().poll_recv(&mut cx).is_pending());
    assert!(second.as_mut().poll_recv(&mut cx).is_pending());
    assert!(chan.try_send(6).is_ok());
    assert!(chan.try_send(7).is_ok());
    assert!(chan.fast_paths_open());
    assert_eq!(
        second.as_mut().poll_recv(&mut cx),
        core::task::Poll::Ready(Some(6))
    );
    drop(first);
    assert_eq!(
        chan.try_recv(),
        Ok(7),
        "the dropped receiver's item is free"
    );
    assert_quiet(&chan);
    assert_eq!(locked_reserved(&chan), (0, 0));
}

/// A send future whose claim another sender wins, between its read of
/// `tail` and its compare-and-swap, gives its worker back to the executor:
/// `Pending`, woken once, its item kept and nothing claimed, queued or
/// locked. Polled again, it sends after the winner's item; cancelled
/// instead, it hands its item back.
#[test]
fn a_send_future_that_loses_its_claim_yields_to_its_executor() {
    for cancel in [false, true] {
        let chan = ring(4);
        let other = chan.clone();
        let mut fut = alloc::boxed::Box::pin(SendFut::new(&*chan, 2));
        let mut send = TestTask::new(poll_fn(|cx| fut.as_mut().poll_send(cx)));
        before_claim::set(move || assert!(other.try_send(1).is_ok()));
        assert_eq!(
            locks_taken(|| send.pending()),
            0,
            "a lost claim took the lock"
        );
        assert_eq!(send.wakes(), 1, "the future did not wake itself");
        assert_eq!(chan.stats().len, 1, "only the winner's item is in");
        assert!(chan.fast_paths_open());
        if cancel {
            drop(send);
            assert_eq!(fut.as_mut().cancel(), Some(2), "the item was lost");
            assert_eq!(chan.try_recv(), Ok(1));
        } else {
            assert_eq!(send.ready(), Ok(()));
            assert_eq!(chan.try_recv(), Ok(1));
            assert_eq!(chan.try_recv(), Ok(2));
        }
        assert_eq!(chan.try_recv(), Err(TryRecv::Empty));
        assert_quiet(&chan);
    }
}

/// The same for a receive future: the item it was about to claim goes to
/// the other receiver, and polled again it takes the next one.
#[test]
fn a_receive_future_that_loses_its_claim_yields_to_its_executor() {
    let chan = ring(4);
    assert!(chan.try_send(1).is_ok());
    assert!(chan.try_send(2).is_ok());
    let other = chan.clone();
    let mut fut = alloc::boxed::Box::pin(RecvFut::new(&*chan));
    let mut recv = TestTask::new(poll_fn(|cx| fut.as_mut().poll_recv(cx)));
    before_claim::set(move || assert_eq!(other.try_recv(), Ok(1)));
    assert_eq!(
        locks_taken(|| recv.pending()),
        0,
        "a lost claim took the lock"
    );
    assert_eq!(recv.wakes(), 1, "the future did not wake itself");
    assert_eq!(chan.stats().len, 1, "the future took an item");
    assert!(chan.fast_paths_open());
    assert_eq!(recv.ready(), Some(2));
    assert_quiet(&chan);
}

/// `try_send` and `try_recv` cannot yield: a claim they lose is tried
/// again, and they answer as before.
#[test]
fn try_send_and_try_recv_retry_a_lost_claim() {
    let chan = ring(4);
    let other = chan.clone();
    before_claim::set(move || assert!(other.try_send(1).is_ok()));
    assert!(chan.try_send(2).is_ok());
    let other = chan.clone();
    before_claim::set(move || assert_eq!(other.try_recv(), Ok(1)));
    assert_eq!(chan.try_recv(), Ok(2));
    assert_eq!(chan.try_recv(), Err(TryRecv::Empty));
    assert_quiet(&chan);
}

/// A claim that fails because a close set `SLOW` is not a race with
/// another sender: the future does not yield but answers through the
/// lock, with its item back.
#[test]
fn a_claim_lost_to_a_close_answers_through_the_lock() {
    let chan = ring(4);
    let other = chan.clone();
    let mut fut = alloc::boxed::Box::pin(SendFut::new(&*chan, 2));
    let mut send = TestTask::new(poll_fn(|cx| fut.as_mut().poll_send(cx)));
    before_claim::set(move || assert!(other.close()));
    assert_eq!(send.ready(), Err(2));
    assert_eq!(send.wakes(), 0);
}

/// A claim whose counter changed only in `held` (a lock holder closed the
/// ring and reopened it with a reservation, the position where it was)
/// is tried again at once: the future sends on its first poll.
#[test]
fn a_claim_that_found_only_the_reservations_changed_is_retried() {
    let chan = ring(4);
    let other = chan.clone();
    let mut fut = alloc::boxed::Box::pin(SendFut::new(&*chan, 2));
    let mut send = TestTask::new(poll_fn(|cx| fut.as_mut().poll_send(cx)));
    before_claim::set(move || assert!(other.try_reserve(1).is_ok()));
    assert_eq!(send.ready(), Ok(()));
    assert_eq!(send.wakes(), 0);
    assert!(chan.send_reserved(3).is_ok());
    assert_eq!(chan.try_recv(), Ok(2));
    assert_eq!(chan.try_recv(), Ok(3));
    assert_quiet(&chan);
}

/// `send_timeout` with its time already up still sends when its claim is
/// lost to another sender: the loss is not a wait, so the timer does not
/// end the send before it tries again.
#[test]
fn a_send_timeout_that_loses_a_claim_tries_again_before_the_timer() {
    let (tx, rx) = crate::channel::bounded::<u64>(4);
    let other = tx.clone();
    let mut send = TestTask::new(crate::channel::futures::SendTimeout::new(
        tx.send(2),
        core::future::ready(()),
    ));
    before_claim::set(move || assert!(other.try_send(1).is_ok()));
    send.pending();
    assert_eq!(send.wakes(), 1, "the send did not wake its task");
    assert!(send.ready().is_ok(), "timed out with room");
    assert_eq!(rx.try_recv().ok(), Some(1));
    assert_eq!(rx.try_recv().ok(), Some(2));
}

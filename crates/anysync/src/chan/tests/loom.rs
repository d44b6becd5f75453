//! Loom models of the engine's non-waiting paths racing with a side that
//! parks: a push or pop that finds nobody waiting must never miss a waiter
//! that is about to link (no lost wake-up), and a newcomer must never take
//! a slot or an item granted to a waiter (FIFO).
//!
//! They drive the engine's own futures, so they do not depend on the
//! public handles. Under `--cfg anysync_loom` they explore every
//! interleaving; otherwise each body runs once as an ordinary test.

use alloc::{collections::VecDeque, vec::Vec};
use core::{future::poll_fn, pin::pin, task::Context};

use crate::chan::{Buffer, Chan, FifoBuf, RecvFut, ReserveFut, Ring, SendFut, TrySend};
use crate::loom::{self, future::block_on, sync::Arc, thread};

/// A bounded FIFO engine of capacity `cap` without the lock-free ring
/// (as a `Queue` builds it).
fn fifo(cap: usize) -> Arc<Chan<FifoBuf<u8>>> {
    Arc::new(Chan::new(FifoBuf(VecDeque::new()), Some(cap), false))
}

/// A bounded FIFO engine of capacity `cap` with the lock-free ring (as
/// `channel::bounded` builds it).
fn ring(cap: usize) -> Arc<Chan<FifoBuf<u8>>> {
    let chan = Chan::new_bounded(FifoBuf(VecDeque::new()), cap, false);
    assert!(chan.has_ring());
    Arc::new(chan)
}

/// How a model builds its engine.
type Make = fn(usize) -> Arc<Chan<FifoBuf<u8>>>;

/// Sends `v`, waiting for room. `Err(v)` if closed.
fn send<B: Buffer>(chan: &Chan<B>, v: B::Item) -> Result<(), B::Item> {
    let mut fut = pin!(SendFut::new(chan, v));
    block_on(poll_fn(|cx| fut.as_mut().poll_send(cx)))
}

/// Receives, waiting for an item. `None` once closed and drained.
fn recv<B: Buffer>(chan: &Chan<B>) -> Option<B::Item> {
    let mut fut = pin!(RecvFut::new(chan));
    block_on(poll_fn(|cx| fut.as_mut().poll_recv(cx)))
}

/// Reserves one slot, waiting for it. `Err` if closed.
fn reserve<B: Buffer>(chan: &Chan<B>) -> Result<(), ()> {
    let mut fut = pin!(ReserveFut::new(chan, 1));
    block_on(poll_fn(|cx| fut.as_mut().poll_reserve(cx)))
}

/// Nothing left promised or linked.
fn assert_quiet<B: Buffer>(chan: &Chan<B>) {
    let s = chan.stats();
    assert_eq!(
        (
            s.send_waiters,
            s.recv_waiters,
            s.slots_reserved,
            s.items_reserved
        ),
        (0, 0, 0, 0),
        "{s:?}"
    );
}

/// Receives what is left, then checks that `got` and the rest are `want`
/// (in any order), each once, and that nothing is left promised, linked
/// or buffered.
fn assert_received_once(chan: &Chan<FifoBuf<u8>>, mut got: Vec<u8>, want: &[u8]) {
    while let Ok(v) = chan.try_recv() {
        got.push(v);
    }
    got.sort_unstable();
    assert_eq!(got, want);
    assert_quiet(chan);
    assert_eq!(chan.len(), 0);
}

/// A receiver that finds the engine empty and parks, racing a sender
/// that pushes without waiting: the receiver gets the item (a lost
/// wake-up would leave it parked forever, which loom reports).
#[test]
fn loom_push_racing_a_receiver_that_parks() {
    push_racing_a_receiver_that_parks(fifo);
}

/// As above with the ring: a lock-free push racing a receiver that links
/// (the receiver sets `SLOW` under the lock before its last look).
#[test]
fn loom_ring_push_racing_a_receiver_that_parks() {
    push_racing_a_receiver_that_parks(ring);
}

fn push_racing_a_receiver_that_parks(make: Make) {
    loom::model(move || {
        let chan = make(1);
        let c = chan.clone();
        let sender = thread::spawn(move || {
            assert!(c.try_send(1).is_ok());
        });
        assert_eq!(recv(&*chan), Some(1));
        sender.join().unwrap();
        assert_quiet(&*chan);
        assert_eq!(chan.len(), 0);
    });
}

/// A sender that finds the engine full and parks, racing a receiver that
/// pops without waiting: the sender gets the freed slot, and the items
/// come out in order.
#[test]
fn loom_pop_racing_a_sender_that_parks() {
    pop_racing_a_sender_that_parks(fifo);
}

/// As above with the ring: a lock-free pop racing a sender that links.
#[test]
fn loom_ring_pop_racing_a_sender_that_parks() {
    pop_racing_a_sender_that_parks(ring);
}

fn pop_racing_a_sender_that_parks(make: Make) {
    loom::model(move || {
        let chan = make(1);
        assert!(chan.try_send(1).is_ok());
        let c = chan.clone();
        let sender = thread::spawn(move || {
            assert!(send(&*c, 2).is_ok());
        });
        assert_eq!(recv(&*chan), Some(1));
        assert_eq!(recv(&*chan), Some(2));
        sender.join().unwrap();
        assert_quiet(&*chan);
    });
}

/// A reservation that waits for a slot, racing the pop that frees it:
/// the reserved slot is filled and received after what was buffered.
#[test]
fn loom_reserve_racing_a_pop() {
    loom::model(|| {
        let chan = fifo(1);
        assert!(chan.try_send(1).is_ok());
        let c = chan.clone();
        let reserver = thread::spawn(move || {
            assert_eq!(reserve(&*c), Ok(()));
            assert!(c.send_reserved(2).is_ok());
        });
        assert_eq!(recv(&*chan), Some(1));
        assert_eq!(recv(&*chan), Some(2));
        reserver.join().unwrap();
        assert_quiet(&*chan);
    });
}

/// FIFO: once a sender is parked, the slot a pop frees is granted to it,
/// so a newcomer's non-waiting send finds the engine full (whether or not
/// the parked sender has used the slot yet) and the parked sender's item
/// comes out next.
#[test]
fn loom_newcomer_does_not_overtake_a_parked_sender() {
    newcomer_does_not_overtake_a_parked_sender(fifo);
}

/// As above with the ring: the granted slot is counted in `tail`'s
/// `held`, so the newcomer's fast send leaves it and, through the lock,
/// finds no free slot.
#[test]
fn loom_ring_newcomer_does_not_overtake_a_parked_sender() {
    newcomer_does_not_overtake_a_parked_sender(ring);
}

fn newcomer_does_not_overtake_a_parked_sender(make: Make) {
    loom::model(move || {
        let chan = make(1);
        assert!(chan.try_send(1).is_ok());
        let c = chan.clone();
        let sender = thread::spawn(move || {
            assert!(send(&*c, 2).is_ok());
        });
        while chan.stats().send_waiters == 0 {
            thread::yield_now();
        }
        assert_eq!(chan.try_recv(), Ok(1));
        assert!(matches!(chan.try_send(3), Err(TrySend::Full(3))));
        assert_eq!(recv(&*chan), Some(2));
        sender.join().unwrap();
        assert_quiet(&*chan);
    });
}

/// A close racing a non-waiting push into the no-alloc ring: the item is
/// either refused as closed or buffered and then drained; receivers end.
#[test]
fn loom_close_racing_a_push_into_a_ring() {
    loom::model(|| {
        let chan: Arc<Chan<Ring<u8, 1>>> = Arc::new(Chan::new(Ring::new(), Some(1), false));
        let c = chan.clone();
        let closer = thread::spawn(move || {
            c.close();
        });
        let sent = match chan.try_send(1) {
            Ok(()) => true,
            Err(TrySend::Closed(1)) => false,
            Err(e) => panic!("unexpected {e:?}"),
        };
        let mut got = Vec::new();
        while let Some(v) = recv(&*chan) {
            got.push(v);
        }
        closer.join().unwrap();
        assert_eq!(got, if sent { &[1][..] } else { &[][..] });
        assert_quiet(&*chan);
    });
}

/// A close racing a lock-free push into the ring: the item is either
/// refused as closed or buffered and then drained; receivers end.
#[test]
fn loom_close_racing_a_lock_free_push() {
    loom::model(|| {
        let chan = ring(1);
        let c = chan.clone();
        let closer = thread::spawn(move || {
            c.close();
        });
        let sent = match chan.try_send(1) {
            Ok(()) => true,
            Err(TrySend::Closed(1)) => false,
            Err(e) => panic!("unexpected {e:?}"),
        };
        let mut got = Vec::new();
        while let Some(v) = recv(&*chan) {
            got.push(v);
        }
        closer.join().unwrap();
        assert_eq!(got, if sent { &[1][..] } else { &[][..] });
        assert_quiet(&*chan);
    });
}

/// A permit taken while a lock-free push races for the one slot: exactly
/// one of them gets it (the permit's slot is never also filled by the
/// push), and the item that comes out is the winner's.
#[test]
fn loom_permit_racing_a_lock_free_push() {
    loom::model(|| {
        let chan = ring(1);
        let c = chan.clone();
        let sender = thread::spawn(move || c.try_send(2).is_ok());
        let reserved = chan.try_reserve(1).is_ok();
        let sent = sender.join().unwrap();
        assert!(reserved != sent, "reserved {reserved}, sent {sent}");
        if reserved {
            assert!(chan.try_send(3).is_err());
            assert!(chan.send_reserved(1).is_ok());
            assert_eq!(chan.try_recv(), Ok(1));
        } else {
            assert_eq!(chan.try_recv(), Ok(2));
        }
        assert_quiet(&*chan);
        assert_eq!(chan.len(), 0);
    });
}

/// Two lock-free senders racing for the one slot while the receiver may
/// park: the loser waits and is granted the slot the receive frees;
/// both items arrive once.
#[test]
fn loom_ring_two_senders_one_receiver() {
    loom::model(|| {
        let chan = ring(1);
        let senders: Vec<_> = [1u8, 2]
            .into_iter()
            .map(|v| {
                let c = chan.clone();
                thread::spawn(move || assert!(send(&*c, v).is_ok()))
            })
            .collect();
        let mut got = [recv(&*chan).unwrap(), recv(&*chan).unwrap()];
        for s in senders {
            s.join().unwrap();
        }
        got.sort_unstable();
        assert_eq!(got, [1, 2]);
        assert_quiet(&*chan);
    });
}

/// A fast send while an item is granted to a woken receiver that has not
/// taken it yet, and a newcomer receive after it: every item is received
/// once and the engine ends quiet.
#[test]
fn loom_ring_fast_send_while_an_item_is_granted() {
    newcomer_and_a_granted_item(false);
}

/// A newcomer's fast receive while the only buffered item may be granted
/// to a woken receiver that has not taken it yet (the receives' fast path
/// is open again then, with the grant counted in `head`): the newcomer
/// must leave it, or the woken receiver would find nothing to take.
#[test]
fn loom_ring_fast_recv_leaves_a_granted_item() {
    newcomer_and_a_granted_item(true);
}

/// A receiver that may park, two items sent without waiting, and a
/// newcomer's receive after the first (`early`) or after both.
fn newcomer_and_a_granted_item(early: bool) {
    loom::model(move || {
        let chan = ring(2);
        let c = chan.clone();
        let r = thread::spawn(move || recv(&*c).unwrap());
        assert!(chan.try_send(1).is_ok());
        let mut a = None;
        if early {
            a = chan.try_recv().ok();
        }
        assert!(chan.try_send(2).is_ok());
        if !early {
            a = chan.try_recv().ok();
        }
        let b = r.join().unwrap();
        let got = [a, Some(b)].into_iter().flatten().collect();
        assert_received_once(&chan, got, &[1, 2]);
    });
}

/// A newcomer's fast send while the only free slot may be granted to a
/// woken sender that has not used it yet (the sends' fast path is open
/// again then, with the grant counted in `tail`): the newcomer must find
/// the engine full, or the woken sender would find no slot.
#[test]
fn loom_ring_fast_send_leaves_a_granted_slot() {
    loom::model(|| {
        let chan = ring(1);
        assert!(chan.try_send(1).is_ok());
        let c = chan.clone();
        let s = thread::spawn(move || assert!(send(&*c, 2).is_ok()));
        let mut got = Vec::from([chan.try_recv().unwrap()]);
        let sent = chan.try_send(3).is_ok();
        while !got.contains(&2) {
            got.push(recv(&*chan).unwrap());
        }
        s.join().unwrap();
        let want: &[u8] = if sent { &[1, 2, 3] } else { &[1, 2] };
        assert_received_once(&chan, got, want);
    });
}

/// As above on a ring of two, so the newcomer checks the slot past its
/// own (which holds an item) before it reads `head`: full, since the one
/// free slot may be granted. This model fails (the woken sender finds no
/// slot and spins) if that check answers "room" regardless.
#[test]
fn loom_ring_fast_send_beside_a_granted_slot_full() {
    fast_send_beside_a_granted_slot(2, 1, false);
}

/// As the model above with the ring moved on by one position first, so
/// the slot past the newcomer's is in the next lap.
#[test]
fn loom_ring_fast_send_beside_a_granted_slot_across_a_lap() {
    fast_send_beside_a_granted_slot(2, 1, true);
}

/// As above with room beyond the granted slot: a full ring of three and
/// two receives. When a slot is granted to the woken sender, the newcomer
/// may send, deciding from the slot one past its own (freed by the second
/// receive) instead of reading `head`.
#[test]
fn loom_ring_fast_send_beside_a_granted_slot_room() {
    fast_send_beside_a_granted_slot(3, 2, false);
}

/// A full ring of `cap` (moved on by one position first if `shift`), a
/// sender that may park, `receives` receives, then a newcomer's fast send:
/// every item arrives once, and the engine ends quiet (a newcomer that
/// took the granted slot would leave the woken sender none).
fn fast_send_beside_a_granted_slot(cap: u8, receives: u8, shift: bool) {
    loom::model(move || {
        let chan = ring(usize::from(cap));
        if shift {
            assert!(chan.try_send(0).is_ok());
            assert_eq!(chan.try_recv().ok(), Some(0));
        }
        for v in 1..=cap {
            assert!(chan.try_send(v).is_ok());
        }
        let c = chan.clone();
        let s = thread::spawn(move || assert!(send(&*c, 10).is_ok()));
        let mut got: Vec<u8> = (0..receives).map(|_| chan.try_recv().unwrap()).collect();
        let sent = chan.try_send(11).is_ok();
        while !got.contains(&10) {
            got.push(recv(&*chan).unwrap());
        }
        s.join().unwrap();
        let mut want: Vec<u8> = (1..=cap).chain([10]).collect();
        if sent {
            want.push(11);
        }
        assert_received_once(&chan, got, &want);
    });
}

/// `shutdown_immediate` racing a lock-free push: the item is either
/// refused or dropped by the shutdown, never left behind.
#[test]
fn loom_ring_shutdown_racing_a_fast_push() {
    loom::model(|| {
        let chan = ring(1);
        let c = chan.clone();
        let t = thread::spawn(move || c.try_send(1).is_ok());
        let dropped = chan.shutdown_immediate();
        let sent = t.join().unwrap();
        assert_eq!(sent, dropped == 1);
        assert_eq!(chan.len(), 0);
    });
}

/// A close racing a lock-free pop: the item is received once, then the
/// engine reports closed.
#[test]
fn loom_ring_close_racing_a_fast_pop() {
    loom::model(|| {
        let chan = ring(1);
        assert!(chan.try_send(1).is_ok());
        let c = chan.clone();
        let closer = thread::spawn(move || {
            c.close();
        });
        assert_eq!(chan.try_recv(), Ok(1));
        closer.join().unwrap();
        assert_eq!(chan.try_recv(), Err(crate::chan::TryRecv::Closed));
        assert_quiet(&*chan);
    });
}

/// A sender woken with a free slot (the one a pop freed) and dropped
/// before it sends, while another sender waits: the slot goes to the other
/// sender, and the dropped sender's item is never received.
#[test]
fn loom_woken_sender_dropped_passes_the_slot_on() {
    woken_sender_dropped_passes_the_slot_on(fifo);
}

/// As above with the ring, where the waiting sender may try the fast path
/// while the receiver is still moving the first item out.
#[test]
fn loom_ring_woken_sender_dropped_passes_the_slot_on() {
    woken_sender_dropped_passes_the_slot_on(ring);
}

fn woken_sender_dropped_passes_the_slot_on(make: Make) {
    loom::model(move || {
        let chan = make(1);
        assert!(chan.try_send(0).is_ok());
        let (c1, c2) = (chan.clone(), chan.clone());
        let dropper = thread::spawn(move || {
            let mut fut = pin!(SendFut::new(&*c1, 1));
            let mut cx = Context::from_waker(futures_util::task::noop_waker_ref());
            fut.as_mut().poll_send(&mut cx).is_ready()
        });
        let waiter = thread::spawn(move || assert!(send(&*c2, 2).is_ok()));
        assert_eq!(recv(&*chan), Some(0));
        let sent = dropper.join().unwrap();
        let mut got = Vec::from([recv(&*chan).unwrap()]);
        if sent {
            got.push(recv(&*chan).unwrap());
        }
        waiter.join().unwrap();
        let want: &[u8] = if sent { &[1, 2] } else { &[2] };
        assert_received_once(&chan, got, want);
        // Quiet and open again: the ring's fast paths are open, whoever
        // settled the dropped sender's count.
        assert_eq!(chan.fast_paths_open(), chan.has_ring());
    });
}

/// Two receivers that may both park, and two sends that do not wait. A
/// woken receiver takes its granted item without the lock when the fast
/// paths are open, which may race the other receiver closing them to
/// link: the lock then counts the grant as used (the counter's `held` went
/// down) and must not give it out again. Both items arrive once and the
/// engine ends quiet.
#[test]
fn loom_ring_woken_receiver_takes_beside_one_that_links() {
    loom::model(|| {
        let chan = ring(2);
        let receivers: Vec<_> = (0..2)
            .map(|_| {
                let c = chan.clone();
                thread::spawn(move || recv(&*c).unwrap())
            })
            .collect();
        assert!(chan.try_send(1).is_ok());
        assert!(chan.try_send(2).is_ok());
        let got = receivers.into_iter().map(|r| r.join().unwrap()).collect();
        assert_received_once(&chan, got, &[1, 2]);
    });
}

/// A permit's send, which goes into its slot without the lock while the
/// fast paths are open, racing a close (which closes them without
/// counting anything): the item is either in the engine, received after
/// the close, or handed back, and the permit's slot is let go either way.
#[test]
fn loom_ring_permit_send_racing_a_close() {
    loom::model(|| {
        let chan = ring(1);
        assert!(chan.try_reserve(1).is_ok());
        let c = chan.clone();
        let closer = thread::spawn(move || assert!(c.close()));
        let sent = chan.send_reserved(1).is_ok();
        closer.join().unwrap();
        assert_eq!(chan.try_recv().ok(), sent.then_some(1));
        assert_quiet(&*chan);
        assert_eq!(chan.len(), 0);
    });
}

/// A reserve woken with a slot of a ring, which completes without the
/// lock while the send path is open, racing a close: it reports the close,
/// or gets a permit whose send delivers the item or hands it back; the
/// slot is let go either way.
#[test]
fn loom_ring_woken_reserve_racing_a_close() {
    loom::model(|| {
        let chan = ring(1);
        assert!(chan.try_send(1).is_ok());
        let c = chan.clone();
        let reserver = thread::spawn(move || match reserve(&*c) {
            Ok(()) => c.send_reserved(2).is_ok(),
            Err(()) => false,
        });
        assert_eq!(recv(&*chan), Some(1));
        assert!(chan.close());
        let sent = reserver.join().unwrap();
        assert_eq!(chan.try_recv().ok(), sent.then_some(2));
        assert_quiet(&*chan);
    });
}

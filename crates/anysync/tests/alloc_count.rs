//! Contended waits allocate nothing: a counting global allocator shows zero
//! heap allocations between creating a waiting future and its completion.
//!
//! This file is its own test binary, so its global allocator affects no
//! other test. The one `unsafe impl` below is the allocator contract, which
//! only forwards to the system allocator.
#![allow(clippy::std_instead_of_core)] // a std test binary

use std::{
    alloc::{GlobalAlloc, Layout, System},
    future::Future,
    pin::pin,
    sync::atomic::{AtomicUsize, Ordering},
    task::{Context, Poll},
};

use anysync::{
    channel::StaticChannel,
    sync::{Event, Mutex, Notify, Semaphore},
};

struct Counting;

static ALLOCS: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every method forwards to `System` with the caller's arguments, so
// `System`'s guarantees hold; the counter is a plain atomic.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: forwarded unchanged from our caller.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded unchanged from our caller.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: forwarded unchanged from our caller.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Runs `wait` (which must be pending on its first poll), then `release`,
/// then polls `wait` to completion, and returns the allocations in between.
/// Tests run one at a time in this binary (see `main` ordering below), so
/// the counter sees only this test's allocations.
fn allocations_during<F: Future>(wait: F, release: impl FnOnce()) -> usize {
    let waker = futures_util::task::noop_waker_ref();
    let mut cx = Context::from_waker(waker);
    let before = ALLOCS.load(Ordering::SeqCst);
    {
        let mut wait = pin!(wait);
        assert!(
            wait.as_mut().poll(&mut cx).is_pending(),
            "the wait must be contended"
        );
        release();
        assert!(matches!(wait.as_mut().poll(&mut cx), Poll::Ready(_)));
    }
    ALLOCS.load(Ordering::SeqCst) - before
}

// One #[test] so nothing else runs concurrently in this binary and the
// global counter is not shared with another test thread.
#[test]
fn contended_waits_allocate_nothing() {
    let sem = Semaphore::new(0);
    assert_eq!(
        allocations_during(sem.acquire(), || sem.add_permits(1)),
        0,
        "Semaphore::acquire"
    );

    let mutex = Mutex::new(0u64);
    let guard = mutex.try_lock().unwrap();
    let mut guard = Some(guard);
    assert_eq!(
        allocations_during(mutex.lock(), || drop(guard.take())),
        0,
        "Mutex::lock"
    );

    let notify = Notify::new();
    assert_eq!(
        allocations_during(notify.notified(), || notify.notify_one()),
        0,
        "Notify::notified"
    );

    let event = Event::new();
    assert_eq!(
        allocations_during(event.wait(), || event.set()),
        0,
        "Event::wait"
    );

    let chan: StaticChannel<u32, 2> = StaticChannel::new();
    assert_eq!(
        allocations_during(chan.recv(), || chan.try_send(7).unwrap()),
        0,
        "StaticChannel::recv"
    );
}

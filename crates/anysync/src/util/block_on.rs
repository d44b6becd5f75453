//! A minimal `block_on` for the `*_blocking` methods: parks the calling
//! thread until the future's waker unparks it.

extern crate std;

use alloc::{sync::Arc, task::Wake};
use core::{
    future::Future,
    pin::pin,
    task::{Context, Poll, Waker},
};
use std::thread::{self, Thread};

struct ThreadWaker(Thread);

impl Wake for ThreadWaker {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.0.unpark();
    }
}

/// Runs `future` to completion on the current thread.
pub(crate) fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    let waker = Waker::from(Arc::new(ThreadWaker(thread::current())));
    let mut cx = Context::from_waker(&waker);
    loop {
        if let Poll::Ready(out) = future.as_mut().poll(&mut cx) {
            return out;
        }
        // Spurious unparks are fine: we just poll again.
        thread::park();
    }
}

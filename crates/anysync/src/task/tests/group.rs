//! `TaskGroup` against foreign code that panics.

use alloc::sync::Arc;
use core::sync::atomic::{AtomicBool, Ordering::SeqCst};

use crate::{
    rt::virtual_time::VirtualTime,
    task::TaskGroup,
    util::{
        hostile::{panics, Hostile},
        test::TestTask,
    },
};

struct SetOnDrop(Arc<AtomicBool>);

impl Drop for SetOnDrop {
    fn drop(&mut self) {
        self.0.store(true, SeqCst);
    }
}

/// Dropping a group aborts its children and cancels its token; a waiter
/// on the token whose wake panics does not leave a child that ignores the
/// cancel running on, detached.
#[test]
fn a_dropped_group_aborts_its_children_even_if_a_token_wake_panics() {
    let dropped = Arc::new(AtomicBool::new(false));
    VirtualTime::new().block_on(|rt| {
        let dropped = Arc::clone(&dropped);
        async move {
            let group = TaskGroup::<_, (), ()>::new(rt.clone());
            let guard = SetOnDrop(Arc::clone(&dropped));
            group
                .spawn(async move {
                    let _guard = guard;
                    core::future::pending::<Result<(), ()>>().await
                })
                .unwrap();
            crate::task::yield_now().await;
            let bad = Hostile::new();
            let mut waiter = TestTask::new(group.token().clone().cancelled_owned());
            assert!(waiter.poll_with(&bad.waker()).is_pending());
            bad.panic_on_wake(true);
            assert!(panics(move || drop(group)));
            crate::task::yield_now().await;
            assert!(dropped.load(SeqCst), "the child was aborted");
            waiter.ready();
        }
    });
}

//! The runtime traits' promises that hold at compile time, and
//! [`JoinError`]'s conversions and messages.

extern crate std;

use alloc::{
    boxed::Box,
    string::{String, ToString},
};
use core::error::Error;

use futures_core::FusedFuture;
use static_assertions::assert_impl_all;

use super::{
    virtual_time::VirtualTime, Blocking, CatchTask, JoinError, JoinHandle, Spawn, TaskHandle,
};

// `JoinError` crosses threads and converts into the usual boxed errors.
assert_impl_all!(JoinError: Send, Sync, Unpin, Error, core::fmt::Debug);
assert_impl_all!(TaskHandle<u8>: JoinHandle<u8>, FusedFuture, Send, Sync, Unpin);
assert_impl_all!(CatchTask<core::future::Ready<u8>>: FusedFuture, Send);

/// Compiles only if `?` converts a [`JoinError`] into a boxed
/// `Error + Send + Sync`.
fn into_boxed(err: JoinError) -> Result<(), Box<dyn Error + Send + Sync>> {
    Err(err)?;
    Ok(())
}

#[test]
fn join_error_converts_into_a_boxed_send_sync_error_with_its_message() {
    let boxed = into_boxed(JoinError::panic(Box::new("boom"))).unwrap_err();
    assert_eq!(boxed.to_string(), "task panicked: boom");
    let cancelled = into_boxed(JoinError::cancelled()).unwrap_err();
    assert_eq!(cancelled.to_string(), "task was cancelled");
}

#[test]
fn join_error_crosses_threads_by_reference() {
    let err = JoinError::panic(Box::new(String::from("shared")));
    let shown = std::thread::scope(|s| s.spawn(|| err.to_string()).join().unwrap());
    assert_eq!(shown, "task panicked: shared");
    assert_eq!(std::format!("{err:?}"), "JoinError::Panic(\"shared\")");
}

#[test]
fn join_error_gives_the_payload_back_untouched() {
    let err = JoinError::panic(Box::new(String::from("kept")));
    let payload = err.try_into_panic().unwrap();
    assert_eq!(payload.downcast_ref::<String>().unwrap(), "kept");

    let err = JoinError::panic(Box::new(7_u32));
    assert_eq!(err.to_string(), "task panicked");
    assert_eq!(std::format!("{err:?}"), "JoinError::Panic(..)");
    assert_eq!(*err.try_into_panic().unwrap().downcast::<u32>().unwrap(), 7);

    assert!(JoinError::cancelled()
        .try_into_panic()
        .unwrap_err()
        .is_cancelled());
    assert!(JoinError::panicked()
        .try_into_panic()
        .unwrap_err()
        .is_panic());
}

#[test]
fn handles_are_terminated_once_they_gave_their_result() {
    let vt = VirtualTime::new();
    vt.block_on(|rt| async move {
        let mut task = rt.spawn(async { 1 });
        assert!(!task.is_terminated());
        assert_eq!((&mut task).await.unwrap(), 1);
        assert!(task.is_terminated());

        let mut job = Blocking::spawn_blocking(&rt, || 2);
        assert_eq!((&mut job).await.unwrap(), 2);
        assert!(job.is_terminated());
    });
}

/// The inherent methods and the trait methods are the same operations.
#[test]
fn virtual_time_inherent_methods_need_no_trait_import() {
    let vt = VirtualTime::new();
    let (a, b) = vt.block_on(|rt| async move {
        rt.sleep(core::time::Duration::from_millis(3)).await;
        let a = rt.spawn(async { 'a' }).await.unwrap();
        let b = Spawn::spawn(&rt, async { 'b' }).await.unwrap();
        (a, b)
    });
    assert_eq!((a, b), ('a', 'b'));
    assert_eq!(
        vt.now().since_origin(),
        core::time::Duration::from_millis(3)
    );
}

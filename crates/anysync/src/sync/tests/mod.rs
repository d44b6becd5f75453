//! Hand-polled unit tests of the `sync` primitives.

mod event;
mod mutex;
mod notify;
mod semaphore;

mod loom;

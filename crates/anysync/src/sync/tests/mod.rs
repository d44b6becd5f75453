//! Hand-polled unit tests of the `sync` primitives.

mod event;
mod mutex;
mod notify;
mod rwlock;
mod semaphore;

mod loom;

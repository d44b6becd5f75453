//! Hand-polled unit tests of the `sync` primitives.

mod auto_traits;
mod barrier;
mod condvar;
mod event;
mod mutex;
mod notify;
mod rwlock;
mod semaphore;

mod loom;

//! Hand-polled unit tests of the `sync` primitives.

mod auto_traits;
mod barrier;
mod bounded_semaphore;
mod condvar;
mod event;
mod mutex;
mod notify;
mod once_cell;
mod rwlock;
mod semaphore;
mod statistics;

mod loom;
mod unwind_safe;
mod waker_clone;

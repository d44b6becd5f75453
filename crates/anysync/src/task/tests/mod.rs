//! Hand-polled unit tests of the `task` module.

mod auto_traits;
mod cancel;
mod tracker;

mod loom;

//! Hand-polled unit tests of the `task` module.

mod auto_traits;
mod cancel;
#[cfg(feature = "std")]
mod group;
#[cfg(feature = "std")]
mod shutdown;
mod tracker;

mod loom;

#![doc = include_str!("../README.md")]
#![no_std]
#![cfg_attr(docsrs, feature(doc_cfg))]
// `anysync_loom` is an internal testing cfg: keep it off the rendered docs.
#![cfg_attr(docsrs, doc(auto_cfg(hide(anysync_loom))))]
#![deny(unsafe_op_in_unsafe_fn)]
#![warn(
    clippy::std_instead_of_core,
    clippy::std_instead_of_alloc,
    clippy::alloc_instead_of_core
)]
#![doc(test(no_crate_inject, attr(deny(warnings))))]

#[cfg(feature = "alloc")]
extern crate alloc;

// `alloc::sync::Arc`, which every `alloc` type shares its state through,
// exists only where pointers have atomic compare-and-swap: say so, instead
// of a page of unresolved imports.
#[cfg(all(feature = "alloc", not(target_has_atomic = "ptr")))]
compile_error!(
    "anysync: the `alloc` feature needs atomic compare-and-swap on pointers \
     (`alloc::sync::Arc`), which this target lacks (thumbv6m, for one). Use \
     the primitives without `alloc`, in `static`s, with the `critical-section` \
     and `portable-atomic` features"
);
#[cfg(any(feature = "std", test))]
extern crate std;

mod chan;
mod loom;
mod util;
mod waitq;

pub mod channel;
pub mod queue;
pub mod rt;
pub mod sync;
pub mod task;
pub mod time;

#[cfg(feature = "alloc")]
#[cfg_attr(docsrs, doc(cfg(feature = "alloc")))]
pub mod pool;

pub mod resource;

/// Misbehaving wakers and a lock detector, for anysync's own tests. Not
/// covered by semver; needs the `test-util` feature.
#[cfg(all(feature = "std", feature = "test-util"))]
#[doc(hidden)]
pub mod test_util {
    pub use crate::util::hostile::{locks_held, panics, Hostile};
}

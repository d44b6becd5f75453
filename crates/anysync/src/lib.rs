#![doc = include_str!("../README.md")]
#![no_std]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![deny(unsafe_op_in_unsafe_fn)]
#![warn(
    clippy::std_instead_of_core,
    clippy::std_instead_of_alloc,
    clippy::alloc_instead_of_core
)]
#![doc(test(no_crate_inject, attr(deny(warnings))))]

#[cfg(feature = "alloc")]
extern crate alloc;
#[cfg(any(feature = "std", test))]
extern crate std;

mod loom;
mod util;
mod waitq;

pub mod channel;
pub mod queue;
pub mod rt;
pub mod sync;
pub mod task;
pub mod time;

mod error;
pub use error::Closed;

pub mod resource;

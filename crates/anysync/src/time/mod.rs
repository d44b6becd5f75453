//! Time: instants on a runtime's clock, and timeouts.
//!
//! Everything here gets its time from an [`rt::Timer`](crate::rt::Timer), so
//! it works on any executor and exactly on the virtual clock in tests.

mod instant;
mod timeout;

pub use instant::Instant;
pub use timeout::{timeout, Elapsed, Timeout};

//! Errors shared by several modules.

use core::fmt;

/// The primitive was closed: no more waits can succeed.
///
/// Returned by [`Semaphore::acquire`](crate::sync::Semaphore::acquire) and
/// friends after [`Semaphore::close`](crate::sync::Semaphore::close).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct Closed;

impl fmt::Display for Closed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("closed")
    }
}

impl core::error::Error for Closed {}

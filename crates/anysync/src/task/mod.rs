//! Working with tasks without naming an executor.
//!
//! For now: [`yield_now`], an await point that lets other tasks run.

mod yield_now;

pub use yield_now::yield_now;

/// The named futures returned by this module's functions.
pub mod futures {
    pub use super::yield_now::YieldNow;
}

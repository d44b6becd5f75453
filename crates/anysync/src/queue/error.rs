//! The errors of [`Queue`](super::Queue) and its LIFO and priority siblings.

use core::fmt;

/// A `put` failed because the queue was [shut down](super::Queue::shutdown).
/// Holds the item that was not put.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct PutError<T>(pub T);

impl<T> PutError<T> {
    /// The item that was not put.
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> fmt::Debug for PutError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The item need not be `Debug`.
        f.write_str("PutError(..)")
    }
}

impl<T> fmt::Display for PutError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("putting on a shut-down queue")
    }
}

impl<T> core::error::Error for PutError<T> {}

/// Why a [`try_put`](super::Queue::try_put) failed. Holds the item that
/// was not put.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub enum TryPutError<T> {
    /// The queue is full (or its free slots are promised to waiting
    /// putters).
    Full(T),
    /// The queue was shut down.
    ShutDown(T),
}

impl<T> TryPutError<T> {
    /// The item that was not put.
    pub fn into_inner(self) -> T {
        match self {
            TryPutError::Full(item) | TryPutError::ShutDown(item) => item,
        }
    }

    /// `true` for [`TryPutError::Full`].
    pub fn is_full(&self) -> bool {
        matches!(self, TryPutError::Full(_))
    }

    /// `true` for [`TryPutError::ShutDown`].
    pub fn is_shutdown(&self) -> bool {
        matches!(self, TryPutError::ShutDown(_))
    }
}

impl<T> From<PutError<T>> for TryPutError<T> {
    fn from(PutError(item): PutError<T>) -> Self {
        TryPutError::ShutDown(item)
    }
}

impl<T> fmt::Debug for TryPutError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TryPutError::Full(_) => f.write_str("Full(..)"),
            TryPutError::ShutDown(_) => f.write_str("ShutDown(..)"),
        }
    }
}

impl<T> fmt::Display for TryPutError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TryPutError::Full(_) => f.write_str("the queue is full"),
            TryPutError::ShutDown(_) => f.write_str("putting on a shut-down queue"),
        }
    }
}

impl<T> core::error::Error for TryPutError<T> {}

/// A `get` failed because the queue was [shut down](super::Queue::shutdown)
/// and nothing is left in it (or it was shut down with
/// [`shutdown_immediate`](super::Queue::shutdown_immediate)).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct ShutDown;

impl fmt::Display for ShutDown {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the queue is shut down and empty")
    }
}

impl core::error::Error for ShutDown {}

/// Why a [`try_get`](super::Queue::try_get) failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TryGetError {
    /// Nothing to get right now (or what is there is promised to waiting
    /// getters).
    Empty,
    /// The queue was shut down and nothing is left in it.
    ShutDown,
}

impl From<ShutDown> for TryGetError {
    fn from(_: ShutDown) -> Self {
        TryGetError::ShutDown
    }
}

impl fmt::Display for TryGetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TryGetError::Empty => f.write_str("the queue is empty"),
            TryGetError::ShutDown => f.write_str("the queue is shut down and empty"),
        }
    }
}

impl core::error::Error for TryGetError {}

/// [`task_done`](super::Queue::task_done) was called more times than items
/// were got from the queue.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct TaskDoneError;

impl fmt::Display for TaskDoneError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("task_done() called more times than items were got")
    }
}

impl core::error::Error for TaskDoneError {}

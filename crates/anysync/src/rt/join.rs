//! The error of a task that did not run to completion.

use core::fmt;

/// Why awaiting a spawned task gave no value: it was aborted, or it panicked.
pub struct JoinError {
    repr: Repr,
}

enum Repr {
    Cancelled,
    #[cfg(feature = "alloc")]
    Panic(alloc::boxed::Box<dyn core::any::Any + Send + 'static>),
    PanicNoPayload,
}

impl JoinError {
    /// The task was aborted (or its executor shut down) before it finished.
    pub const fn cancelled() -> Self {
        Self {
            repr: Repr::Cancelled,
        }
    }

    crate::util::macros::cfg_feature! {
        #![feature = "alloc"]
        /// The task panicked with `payload`.
        pub fn panic(payload: alloc::boxed::Box<dyn core::any::Any + Send + 'static>) -> Self {
            Self { repr: Repr::Panic(payload) }
        }

        /// The panic payload, if the task panicked.
        ///
        /// # Errors
        /// Gives `self` back if the task was cancelled instead.
        pub fn try_into_panic(self) -> Result<alloc::boxed::Box<dyn core::any::Any + Send + 'static>, Self> {
            match self.repr {
                Repr::Panic(payload) => Ok(payload),
                Repr::Cancelled | Repr::PanicNoPayload => Err(self),
            }
        }
    }

    /// The task panicked, and its payload is not available (for executors
    /// without `alloc`, or that do not keep payloads).
    pub const fn panicked() -> Self {
        Self {
            repr: Repr::PanicNoPayload,
        }
    }

    /// `true` if the task was aborted.
    pub fn is_cancelled(&self) -> bool {
        matches!(self.repr, Repr::Cancelled)
    }

    /// `true` if the task panicked.
    pub fn is_panic(&self) -> bool {
        !self.is_cancelled()
    }
}

impl fmt::Debug for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.repr {
            Repr::Cancelled => f.write_str("JoinError::Cancelled"),
            #[cfg(feature = "alloc")]
            Repr::Panic(payload) => match panic_message(payload.as_ref()) {
                Some(msg) => write!(f, "JoinError::Panic({msg:?})"),
                None => f.write_str("JoinError::Panic(..)"),
            },
            Repr::PanicNoPayload => f.write_str("JoinError::Panic(..)"),
        }
    }
}

impl fmt::Display for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.repr {
            Repr::Cancelled => f.write_str("task was cancelled"),
            #[cfg(feature = "alloc")]
            Repr::Panic(payload) => match panic_message(payload.as_ref()) {
                Some(msg) => write!(f, "task panicked: {msg}"),
                None => f.write_str("task panicked"),
            },
            Repr::PanicNoPayload => f.write_str("task panicked"),
        }
    }
}

#[cfg(feature = "alloc")]
fn panic_message(payload: &(dyn core::any::Any + Send)) -> Option<&str> {
    payload.downcast_ref::<&'static str>().copied().or_else(|| {
        payload
            .downcast_ref::<alloc::string::String>()
            .map(|s| s.as_str())
    })
}

impl core::error::Error for JoinError {}

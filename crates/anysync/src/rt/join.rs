//! The error of a task that did not run to completion.

use core::fmt;

/// Why awaiting a spawned task gave no value: it was aborted, or it panicked.
///
/// It is `Send + Sync + 'static` and implements
/// [`Error`](core::error::Error), so `?` converts it into
/// `Box<dyn Error + Send + Sync>` (and so into `anyhow::Error`). With the
/// `alloc` feature it keeps the panic payload, for
/// [`try_into_panic`](JoinError::try_into_panic) and
/// `std::panic::resume_unwind`, and shows a `&str` or `String` panic
/// message in its `Display` and `Debug`.
///
/// # Examples
/// ```
/// use std::error::Error;
/// use anysync::rt::virtual_time::VirtualTime;
///
/// fn run() -> Result<u32, Box<dyn Error + Send + Sync>> {
///     VirtualTime::new().block_on(|rt| async move {
///         let doubled = rt.spawn(async { "21".parse::<u32>().expect("a number") * 2 }).await?;
///         // This task panics; `?` turns its JoinError into the boxed error.
///         let broken = rt.spawn(async { "x".parse::<u32>().expect("a number") }).await?;
///         Ok(doubled + broken)
///     })
/// }
///
/// let err = run().unwrap_err();
/// assert!(err.to_string().starts_with("task panicked: a number"));
/// ```
pub struct JoinError {
    repr: Repr,
}

enum Repr {
    Cancelled,
    #[cfg(feature = "alloc")]
    Panic {
        payload: Payload,
        /// Read from the payload when the error is made, so that `&self`
        /// never needs to look inside the payload.
        message: Option<alloc::borrow::Cow<'static, str>>,
    },
    PanicNoPayload,
}

/// A panic payload reached only by value: nothing ever borrows the box
/// inside through `&Payload`.
#[cfg(feature = "alloc")]
struct Payload(alloc::boxed::Box<dyn core::any::Any + Send + 'static>);

// SAFETY: `Sync` only lets threads share `&Payload`. `Payload` has no method
// or trait impl that takes `&self` and its field is private to this module,
// where the only use is `Payload::into_inner(self)`, by value. A shared
// reference therefore grants no access to the `dyn Any + Send` (which need
// not be `Sync`), so sharing it cannot race. This is what makes `JoinError`
// `Sync`; `rt/tests.rs` asserts that at compile time.
#[cfg(feature = "alloc")]
unsafe impl Sync for Payload {}

#[cfg(feature = "alloc")]
impl Payload {
    fn into_inner(self) -> alloc::boxed::Box<dyn core::any::Any + Send + 'static> {
        self.0
    }
}

impl JoinError {
    /// The task was aborted (or its executor shut down) before it finished.
    ///
    /// # Examples
    /// ```
    /// let err = anysync::rt::JoinError::cancelled();
    /// assert!(err.is_cancelled() && !err.is_panic());
    /// assert_eq!(err.to_string(), "task was cancelled");
    /// ```
    pub const fn cancelled() -> Self {
        Self {
            repr: Repr::Cancelled,
        }
    }

    /// The task panicked with `payload` (what `std::panic::catch_unwind`
    /// returns).
    ///
    /// # Examples
    /// ```
    /// let err = anysync::rt::JoinError::panic(Box::new("boom"));
    /// assert!(err.is_panic());
    /// assert_eq!(err.to_string(), "task panicked: boom");
    /// ```
    #[cfg(feature = "alloc")]
    pub fn panic(payload: alloc::boxed::Box<dyn core::any::Any + Send + 'static>) -> Self {
        let message = payload
            .downcast_ref::<&'static str>()
            .map(|msg| alloc::borrow::Cow::Borrowed(*msg))
            .or_else(|| {
                payload
                    .downcast_ref::<alloc::string::String>()
                    .map(|msg| alloc::borrow::Cow::Owned(msg.clone()))
            });
        Self {
            repr: Repr::Panic {
                payload: Payload(payload),
                message,
            },
        }
    }

    /// The panic payload, if the task panicked.
    ///
    /// # Errors
    /// Gives `self` back if the task was cancelled instead, or if it
    /// panicked but the executor kept no payload.
    ///
    /// # Examples
    /// ```
    /// use anysync::rt::JoinError;
    ///
    /// let err = JoinError::panic(Box::new(String::from("boom")));
    /// let payload = err.try_into_panic().unwrap();
    /// assert_eq!(payload.downcast_ref::<String>().unwrap(), "boom");
    ///
    /// assert!(JoinError::cancelled().try_into_panic().is_err());
    /// ```
    #[cfg(feature = "alloc")]
    pub fn try_into_panic(
        self,
    ) -> Result<alloc::boxed::Box<dyn core::any::Any + Send + 'static>, Self> {
        match self.repr {
            Repr::Panic { payload, .. } => Ok(payload.into_inner()),
            Repr::Cancelled | Repr::PanicNoPayload => Err(self),
        }
    }

    /// The task panicked, and its payload is not available (for executors
    /// without `alloc`, or that do not keep payloads).
    ///
    /// # Examples
    /// ```
    /// let err = anysync::rt::JoinError::panicked();
    /// assert!(err.is_panic());
    /// assert_eq!(err.to_string(), "task panicked");
    /// ```
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

    /// The panic message, if the task panicked with a `&str` or `String`
    /// payload (as `panic!` with a message does).
    fn message(&self) -> Option<&str> {
        match &self.repr {
            #[cfg(feature = "alloc")]
            Repr::Panic { message, .. } => message.as_deref(),
            _ => None,
        }
    }
}

impl fmt::Debug for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.repr, self.message()) {
            (Repr::Cancelled, _) => f.write_str("JoinError::Cancelled"),
            (_, Some(msg)) => write!(f, "JoinError::Panic({msg:?})"),
            (_, None) => f.write_str("JoinError::Panic(..)"),
        }
    }
}

impl fmt::Display for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.repr, self.message()) {
            (Repr::Cancelled, _) => f.write_str("task was cancelled"),
            (_, Some(msg)) => write!(f, "task panicked: {msg}"),
            (_, None) => f.write_str("task panicked"),
        }
    }
}

impl core::error::Error for JoinError {}

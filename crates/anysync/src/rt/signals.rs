//! `Signal` and the `Signals` trait: the OS asking a program to stop.

use core::fmt;

/// A request from outside to stop the program.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Signal {
    /// `SIGINT` (Ctrl-C in a terminal; Ctrl-C on Windows too).
    Interrupt,
    /// `SIGTERM` (what service managers and `kill` send).
    Terminate,
}

impl fmt::Display for Signal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Signal::Interrupt => "SIGINT",
            Signal::Terminate => "SIGTERM",
        })
    }
}

#[cfg(feature = "std")]
pub use imp::Signals;

#[cfg(feature = "std")]
mod imp {
    use futures_core::Stream;

    use super::Signal;

    /// Receiving the signals that ask a program to stop: `SIGINT` and
    /// `SIGTERM` on Unix, Ctrl-C on Windows, as a stream of [`Signal`]s.
    ///
    /// Implemented by each compat crate (tokio's signal module; the
    /// `async-signal` crate for smol and async-std).
    /// [`Shutdown`](crate::task::Shutdown) consumes the stream.
    ///
    /// # Contract
    ///
    /// * While a stream is alive, the signals it covers no longer end the
    ///   process by default: they are delivered to the stream instead.
    /// * Every signal delivered after the stream was created is yielded at
    ///   least once (signals that arrive together may be merged, as the OS
    ///   does).
    pub trait Signals: Clone + Send + Sync + 'static {
        /// The stream returned by [`shutdown_signals`](Signals::shutdown_signals).
        type Stream: Stream<Item = Signal> + Send + Unpin + 'static;

        /// Starts listening for `SIGINT` and `SIGTERM` (Ctrl-C on Windows).
        ///
        /// # Errors
        /// The OS error if the handlers cannot be installed.
        fn shutdown_signals(&self) -> std::io::Result<Self::Stream>;
    }
}

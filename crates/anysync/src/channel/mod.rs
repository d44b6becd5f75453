//! Channels: send values between tasks.
//!
//! | you want to…                                                  | use                |
//! |---------------------------------------------------------------|--------------------|
//! | pass work between tasks, many senders and receivers, with backpressure | [`bounded`] (or [`unbounded`]) |
//! | the same with no allocator (`no_std` firmware, a `static`)    | [`StaticChannel`]  |
//! | send one value, once, and learn if nobody is listening        | [`oneshot`]        |
//! | share the latest value of something; wake readers on change   | [`watch`]          |
//! | publish every message to every subscriber (an event bus)      | [`broadcast`]      |
//!
//! Every channel is cancel safe on the receiving side: dropping a receive
//! future loses no message. On the sending side a pending send
//! ([`Sender::send`], [`StaticChannel::send`], [`broadcast`]'s `send`)
//! still owns its value: dropping the future drops the value if it was not
//! sent yet, and `cancel()` on the pending future gives it back. The
//! cancel-safe way to send on [`bounded`] channels and [`StaticChannel`]
//! is to wait for room first with [`Sender::reserve`] (or
//! [`reserve_many`](Sender::reserve_many)) and then send on the
//! [`Permit`], which never waits. Each module's named futures are in its
//! own `futures` submodule.
//!
//! What users of tokio's `mpsc` and async-channel look for is here too:
//! [`Sender::send_timeout`] on any [`Timer`](crate::rt::Timer),
//! [`Receiver::recv_many`], [`Sender::closed`], weak senders
//! ([`Sender::downgrade`]), and [`Sender::force_send`] for "latest values
//! win". Dropping the last [`Receiver`] drops the values still buffered,
//! so a request carrying a [`oneshot::Sender`] for its reply tells the
//! requester at once that nobody will answer.
//!
//! # Unwind safety
//!
//! Every handle here is `UnwindSafe` and `RefUnwindSafe` (with `std`):
//! nothing poisons, and a panic in user code (a value's `Drop`, a waker)
//! never leaves a channel half-changed, so a handle may be used again after
//! `catch_unwind`.
//!
//! # Futurelock
//!
//! In [`bounded`] channels and [`StaticChannel`], a freed slot is handed
//! straight to the first waiting `send` and a new value straight to the
//! first waiting `recv`, so that nobody barges in front of them. The flip
//! side: a future that has been woken with a slot or a value but is then
//! neither polled nor dropped keeps it, and every task queued behind it
//! waits. The usual way to get there is `select!` in a loop over a `send`
//! or `recv` future made *outside* the loop while another branch awaits.
//! Create the future inside the loop (a losing branch then drops it, and
//! what it was handed passes to the next waiter), or keep the other
//! branches short; for a `send`, `cancel()` also hands the value back. A
//! [`broadcast`] publisher waiting for a full [`Overflow::Block`]
//! subscriber holds up the publishers behind it the same way.
//!
//! [`Overflow::Block`]: broadcast::Overflow::Block

#[cfg(feature = "alloc")]
#[cfg_attr(docsrs, doc(cfg(feature = "alloc")))]
pub mod broadcast;
#[cfg(feature = "alloc")]
#[cfg_attr(docsrs, doc(cfg(feature = "alloc")))]
pub mod oneshot;
#[cfg(feature = "alloc")]
#[cfg_attr(docsrs, doc(cfg(feature = "alloc")))]
pub mod watch;

// MPMC channels (bounded, unbounded, StaticChannel) on the queue engine.
mod error;
mod fixed;
pub mod futures;
mod permit;
mod statistics;
pub mod storage;

pub use error::{RecvError, SendError, SendTimeoutError, TryRecvError, TrySendError};
pub use fixed::StaticChannel;
pub use permit::{Permit, Permits};
pub use statistics::ChannelStatistics;

#[cfg(feature = "alloc")]
mod mpmc;
#[cfg(feature = "alloc")]
#[cfg_attr(docsrs, doc(cfg(feature = "alloc")))]
pub use mpmc::{bounded, unbounded, Receiver, SendSink, Sender, WeakSender};

#[cfg(all(test, feature = "std"))]
mod tests_unwind;
#[cfg(all(test, feature = "std"))]
mod tests_waker_clone;

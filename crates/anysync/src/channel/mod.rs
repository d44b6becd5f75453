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
//! future loses no message. Each module's named futures are in its own
//! `futures` submodule.

crate::util::macros::cfg_feature! {
    #![feature = "alloc"]
    pub mod oneshot;
    pub mod watch;
    pub mod broadcast;
}

// MPMC channels (bounded, unbounded, StaticChannel) on the queue engine.
mod error;
mod fixed;
pub mod futures;
pub mod storage;

pub use error::{RecvError, SendError, TryRecvError, TrySendError};
pub use fixed::StaticChannel;

crate::util::macros::cfg_feature! {
    #![feature = "alloc"]
    mod mpmc;
    pub use mpmc::{bounded, unbounded, Receiver, SendSink, Sender};
}

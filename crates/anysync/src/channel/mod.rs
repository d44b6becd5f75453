//! Channels: send values between tasks.
//!
//! | you want to…                                                  | use                |
//! |---------------------------------------------------------------|--------------------|
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

//! The snapshot the MPMC channels' `statistics()` returns.

use crate::chan::{Mode, Stats};

/// A snapshot of an MPMC channel ([`bounded`](super::bounded),
/// [`unbounded`](super::unbounded) or [`StaticChannel`](super::StaticChannel)),
/// from `statistics()` on a [`Sender`](super::Sender), a
/// [`Receiver`](super::Receiver) or a `StaticChannel`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct ChannelStatistics {
    /// Values in the channel.
    pub len: usize,
    /// The most values the channel holds, `None` if it is unbounded.
    pub capacity: Option<usize>,
    /// Free slots set aside: held by a [`Permit`](super::Permit) or handed
    /// to a woken sender that has not sent yet. A `send` cannot take them.
    pub reserved: usize,
    /// Tasks waiting in `send` (and `reserve`).
    pub send_waiters: usize,
    /// Tasks waiting in `recv` (and receivers waiting as a stream).
    pub recv_waiters: usize,
    /// Live [`Sender`](super::Sender)s; `None` for a
    /// [`StaticChannel`](super::StaticChannel), which has no handles.
    pub senders: Option<usize>,
    /// Live [`Receiver`](super::Receiver)s; `None` for a
    /// [`StaticChannel`](super::StaticChannel).
    pub receivers: Option<usize>,
    /// The channel is closed.
    pub closed: bool,
}

impl ChannelStatistics {
    /// The snapshot of the engine's counters, without handle counts.
    pub(crate) fn from_stats(s: Stats) -> Self {
        Self {
            len: s.len,
            capacity: s.cap,
            reserved: s.slots_reserved,
            send_waiters: s.send_waiters,
            recv_waiters: s.recv_waiters,
            senders: None,
            receivers: None,
            closed: s.mode != Mode::Open,
        }
    }
}

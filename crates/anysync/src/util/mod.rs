//! Small internal helpers shared by every primitive.

pub(crate) mod finally;
pub(crate) mod macros;
pub(crate) mod wake_batch;
#[cfg(feature = "alloc")]
pub(crate) mod waker_id;

#[cfg(feature = "std")]
pub(crate) mod block_on;

#[cfg(test)]
pub(crate) mod test;

#[cfg(all(feature = "std", any(test, feature = "test-util")))]
pub(crate) mod hostile;

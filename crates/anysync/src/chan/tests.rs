//! Tests of the engine itself (below the queue and channel types).

mod loom;
// Real threads on the engine's atomics: not under loom, whose atomics
// only work inside a model.
#[cfg(not(anysync_loom))]
mod ring;

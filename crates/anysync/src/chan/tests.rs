//! Tests of the engine itself (below the queue and channel types).

mod loom;
mod ring;

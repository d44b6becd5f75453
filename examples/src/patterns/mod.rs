//! One module per asyncio pattern. Each has the logic its example program
//! runs, and a `tour_line` that runs a short version and returns one line
//! saying what it showed (collected by the `tour` program).

pub mod barrier;
pub mod batch;
pub mod blocking;
pub mod bounded_concurrency;
pub mod cancellation;
pub mod circuit_breaker;
pub mod condition;
pub mod debounce;
pub mod event_bus;
pub mod first_response;
pub mod gather;
pub mod graceful_shutdown;
pub mod mutex_counter;
pub mod notify_handoff;
pub mod pool;
pub mod producer_consumer;
pub mod rate_limit;
pub mod retry;
pub mod rwlock_mix;
pub mod start_signal;
pub mod task_group;
pub mod timeouts;
pub mod work_queue;

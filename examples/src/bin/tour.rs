//! A short run of every pattern anysync covers so far, one line each.
//!
//! `cargo run -p anysync-examples --bin tour [-- --runtime tokio|smol|async-std]`
#![forbid(unsafe_code)]

use anysync::rt::Runtime;
use anysync_examples::patterns;

async fn tour<R: Runtime>(rt: R) {
    println!(
        "anysync tour on {}",
        anysync_examples::Choice::from_args().name()
    );
    let lines = [
        patterns::bounded_concurrency::tour_line(rt.clone()).await,
        patterns::mutex_counter::tour_line(rt.clone()).await,
        patterns::start_signal::tour_line(rt.clone()).await,
        patterns::notify_handoff::tour_line(rt.clone()).await,
        patterns::condition::tour_line(rt.clone()).await,
        patterns::barrier::tour_line(rt.clone()).await,
        patterns::rwlock_mix::tour_line(rt.clone()).await,
        patterns::event_bus::tour_line(rt.clone()).await,
        patterns::producer_consumer::tour_line(rt.clone()).await,
        patterns::work_queue::tour_line(rt.clone()).await,
        patterns::batch::tour_line(rt.clone()).await,
        patterns::timeouts::tour_line(rt.clone()).await,
        patterns::retry::tour_line(rt.clone()).await,
        patterns::circuit_breaker::tour_line(rt.clone()).await,
        patterns::debounce::tour_line(rt.clone()).await,
        patterns::pool::tour_line(rt.clone()).await,
        patterns::rate_limit::tour_line(rt.clone()).await,
        patterns::graceful_shutdown::tour_line(rt.clone()).await,
        patterns::task_group::tour_line(rt.clone()).await,
        patterns::cancellation::tour_line(rt.clone()).await,
        patterns::first_response::tour_line(rt.clone()).await,
        patterns::gather::tour_line(rt.clone()).await,
        patterns::blocking::tour_line(rt.clone()).await,
    ];
    for (i, line) in lines.iter().enumerate() {
        println!("{:>2}. {line}", i + 1);
    }
}

anysync_examples::main!(tour);

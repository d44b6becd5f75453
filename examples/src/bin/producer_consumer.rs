//! Producer/consumer with backpressure: a `Queue::bounded(5)`, one producer of
//! 15 items (50 ms apart), two consumers (100 ms per item). Prints which
//! consumer got each item and when the producer is held back, then shuts the
//! queue down without sentinels. Then a fast producer paced by a slow consumer
//! reading a channel receiver as a `Stream`.
#![forbid(unsafe_code)]

use anysync::rt::Runtime;
use core::time::Duration;

use anysync_examples::patterns::producer_consumer;

async fn body<R: Runtime>(rt: R) {
    println!("Queue::bounded(5), 15 items 50 ms apart, 2 consumers at 100 ms per item:");
    let report = producer_consumer::run(
        rt.clone(),
        5,
        15,
        Duration::from_millis(50),
        Duration::from_millis(100),
        true,
    )
    .await;
    println!(
        "{} items delivered; producer held back {} times; max queue length {}",
        report.deliveries.len(),
        report.held_back,
        report.max_len
    );

    println!("\nThe same with a burst (no gap): the full queue holds the producer back:");
    let report = producer_consumer::run(
        rt.clone(),
        5,
        15,
        Duration::ZERO,
        Duration::from_millis(100),
        true,
    )
    .await;
    println!(
        "{} items delivered; producer held back {} times; max queue length {}",
        report.deliveries.len(),
        report.held_back,
        report.max_len
    );

    println!("\nA fast producer and a slow Stream consumer over channel::bounded(2):");
    let in_flight =
        producer_consumer::stream_paced(rt, 2, 8, Duration::from_millis(50), true).await;
    println!("values in flight after each send: {in_flight:?} (never more than 2 + 1)");
}

anysync_examples::main!(body);

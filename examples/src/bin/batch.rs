//! Batch processing: 100 items in chunks of 10 with a pause between
//! chunks, then the same items streamed with at most 10 in progress.
#![forbid(unsafe_code)]

use anysync::rt::Runtime;
use core::time::Duration;

use anysync_examples::patterns::batch;

async fn body<R: Runtime>(rt: R) {
    println!("100 items in chunks of 10 (20 ms per item, 50 ms pause between chunks):");
    let a = batch::chunked(
        rt.clone(),
        100,
        10,
        Duration::from_millis(20),
        Duration::from_millis(50),
        true,
    )
    .await;
    println!("{} chunks, peak concurrency {}", a.batches, a.peak);
    println!("\nThe same items streamed with buffer_unordered(10):");
    let b = batch::streamed(rt, 100, 10, Duration::from_millis(20), true).await;
    println!(
        "{} items, peak concurrency {}; sums match: {}",
        b.batches,
        b.peak,
        a.sum == b.sum
    );
}

anysync_examples::main!(body);

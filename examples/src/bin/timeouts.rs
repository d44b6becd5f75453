//! Per-job timeouts over a batch; a timed-out acquire loses no
//! permit.
#![forbid(unsafe_code)]

use anysync::rt::Runtime;
use std::time::Duration;

use anysync_examples::patterns::timeouts;

async fn body<R: Runtime>(rt: R) {
    let ms = Duration::from_millis;
    let r = timeouts::run(rt, 6, ms(100), ms(250), true).await;
    println!("finished {:?}, timed out {:?}", r.finished, r.timed_out);
}

anysync_examples::main!(body);

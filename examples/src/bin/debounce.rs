//! A burst of 10 triggers within 50 ms runs the action once;
//! a failing run is reported and the debouncer keeps working.
#![forbid(unsafe_code)]

use anysync::rt::Runtime;
use std::time::Duration;

use anysync_examples::patterns::debounce;

async fn body<R: Runtime>(rt: R) {
    let ms = Duration::from_millis;
    let r = debounce::run(rt, 10, ms(5), ms(100), true).await;
    println!(
        "{} triggers, {} runs, {} failure reported",
        r.triggers, r.runs, r.failures
    );
}

anysync_examples::main!(body);

//! An event bus: 2 generators publish to 3 processors through
//! one `broadcast` channel; one processor is slow, and the run is repeated
//! with each overflow policy for it, to show what each one does.
#![forbid(unsafe_code)]

use anysync::channel::broadcast::Overflow;
use anysync::rt::Runtime;
use anysync_examples::patterns::event_bus::{self, Setup};

async fn body<R: Runtime>(rt: R) {
    let setup = Setup {
        verbose: true,
        ..Setup::default()
    };
    println!(
        "2 generators x {} events, one every {} ms; `slow` takes {} ms per event, queue of {}",
        setup.events_per_generator,
        setup.publish_every.as_millis(),
        setup.slow_work.as_millis(),
        setup.slow_capacity,
    );
    for policy in [
        Overflow::Block,
        Overflow::DropOldest,
        Overflow::DropNewest,
        Overflow::Disconnect,
    ] {
        println!("\nslow processor with Overflow::{policy:?}:");
        let report = event_bus::run(rt.clone(), policy, setup).await;
        for p in &report.processors {
            println!(
                "  {:<8} {:<11} processed {:>2}/{}, told of {:>2} lost, disconnected: {:<5}, in order: {}",
                p.name,
                format!("{:?}", p.overflow),
                p.processed,
                report.published,
                p.lost,
                p.disconnected,
                p.in_order,
            );
        }
        println!(
            "  publishers took {} ms; {}",
            report.publish_time.as_millis(),
            event_bus::describe(&report)
        );
    }
}

anysync_examples::main!(body);

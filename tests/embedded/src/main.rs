//! Test firmware for anysync on a Cortex-M microcontroller, run under QEMU.
//!
//! Every primitive lives in a `static`, built by `const fn new`; no
//! allocator is linked; the wait queues are locked by `critical-section`.
//! The scenarios mirror the host conformance suite. Each prints one line
//! when it passes; the first failed assertion panics, and the panic handler
//! ends the run with a failure code through semihosting.
#![no_std]
#![no_main]
#![forbid(unsafe_code)]

mod barrier;
mod channel;
mod condvar;
mod harness;
mod interrupt;
mod lock;
mod once_cell;
mod semaphore;
mod signal;

use cortex_m_semihosting::{debug, hprintln};
use embassy_executor::Spawner;

/// The chip this build is for, for the log (set by `build.rs`).
const CHIP: &str = env!("FIRMWARE_CHIP");

#[embassy_executor::main]
async fn main(spawner: Spawner) {
    let core = cortex_m::Peripherals::take().expect("taken once, here");
    hprintln!("anysync firmware on {}", CHIP);
    lock::run_all(spawner).await;
    semaphore::run_all(spawner).await;
    signal::run_all(spawner).await;
    condvar::run_all(spawner).await;
    barrier::run_all(spawner).await;
    once_cell::run_all(spawner).await;
    channel::run_all(spawner).await;
    interrupt::run_all(core.SYST).await;
    hprintln!("{} passed, 0 failed", harness::passed());
    debug::exit(debug::EXIT_SUCCESS);
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
    hprintln!("FAILED {}: {}", harness::current(), info);
    hprintln!("{} passed, 1 failed", harness::passed());
    debug::exit(debug::EXIT_FAILURE);
    loop {
        cortex_m::asm::wfi();
    }
}

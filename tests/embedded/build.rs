//! Puts the right `memory.x` for the target chip where cortex-m-rt's
//! `link.x` looks for it, names the chip for the log, and links with
//! `link.x`. (The linker script is passed here rather than in
//! `.cargo/config.toml`'s `rustflags`, which a `RUSTFLAGS` in the
//! environment, as CI sets, would replace.)
#![forbid(unsafe_code)]

use std::{env, fs, path::PathBuf};

fn main() {
    let target = env::var("TARGET").unwrap_or_default();
    let (chip, name) = match target.as_str() {
        t if t.starts_with("thumbv6m") => ("memory/nrf51822.x", "Cortex-M0 (thumbv6m, QEMU microbit)"),
        t if t.starts_with("thumbv7em") => ("memory/mps2-an386.x", "Cortex-M4F (thumbv7em, QEMU mps2-an386)"),
        _ => ("memory/lm3s6965.x", "Cortex-M3 (thumbv7m, QEMU lm3s6965evb)"),
    };
    println!("cargo:rustc-env=FIRMWARE_CHIP={name}");
    let out = PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    fs::copy(chip, out.join("memory.x")).expect("copy memory.x");
    println!("cargo:rustc-link-search={}", out.display());
    println!("cargo:rustc-link-arg-bins=-Tlink.x");
    println!("cargo:rerun-if-changed={chip}");
    println!("cargo:rerun-if-changed=build.rs");
}

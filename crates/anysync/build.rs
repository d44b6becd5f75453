//! Tells the crate what the compiler offers beyond the minimum Rust
//! version, so newer compilers get the faster paths and 1.81 still builds.
//!
//! * `anysync_waker_parts`: `Waker::data` and `Waker::vtable` (Rust 1.83),
//!   which let a handle remember which task its stored waker wakes without
//!   touching the waker itself.

use std::{env, process::Command};

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=RUSTC");
    println!("cargo:rustc-check-cfg=cfg(anysync_waker_parts)");
    // Early 1.83 nightlies predate the two methods: trust a nightly (or a
    // local build) only from 1.84 on.
    if rustc_version().is_some_and(|(minor, nightly)| minor >= 83 + u32::from(nightly)) {
        println!("cargo:rustc-cfg=anysync_waker_parts");
    }
}

/// The minor version of the compiler cargo builds with (`1.83.0` → 83),
/// and whether it is a nightly or local build; `None` if it cannot be run
/// or read: then only the 1.81 paths build.
fn rustc_version() -> Option<(u32, bool)> {
    let rustc = env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let output = Command::new(rustc).arg("--version").output().ok()?;
    let version = String::from_utf8(output.stdout).ok()?;
    // "rustc 1.83.0 (90b35a623 2024-11-26)", "rustc 1.85.0-nightly (...)".
    let number = version.split_whitespace().nth(1)?;
    let nightly = number.contains("-nightly") || number.contains("-dev");
    let mut parts = number.split('.');
    if parts.next()? != "1" {
        return None;
    }
    Some((parts.next()?.parse().ok()?, nightly))
}

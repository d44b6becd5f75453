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
    if rustc_minor().is_some_and(|minor| minor >= 83) {
        println!("cargo:rustc-cfg=anysync_waker_parts");
    }
}

/// The minor version of the compiler cargo builds with (`1.83.0` → 83),
/// or `None` if it cannot be run or read: then only the 1.81 paths build.
fn rustc_minor() -> Option<u32> {
    let rustc = env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let output = Command::new(rustc).arg("--version").output().ok()?;
    let version = String::from_utf8(output.stdout).ok()?;
    // "rustc 1.83.0 (90b35a623 2024-11-26)", "rustc 1.85.0-nightly (...)".
    let mut parts = version.split_whitespace().nth(1)?.split('.');
    if parts.next()? != "1" {
        return None;
    }
    parts.next()?.parse().ok()
}

//! Builds the two WebAssembly components (the plugin and the benchmark floor) for
//! `wasm32-wasip2`, so that `cargo run`, `cargo test`, `cargo bench` and a Python package build
//! never depend on a remembered build order. They are built by a nested cargo into their own
//! target directory (`target/wasm`), with the workspace's `wasm-release` profile, and their
//! paths are handed to the library as `RETRY_COMPONENT_WASM` and `FLOOR_COMPONENT_WASM`.

use std::env;
use std::path::{Path, PathBuf};
use std::process::Command;

const TARGET: &str = "wasm32-wasip2";
const PROFILE: &str = "wasm-release";

fn main() {
    let manifest_dir = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let root = manifest_dir
        .parent()
        .and_then(Path::parent)
        .expect("the host library sits in crates/ of the workspace");
    for input in [
        "wit",
        "crates/engine",
        "crates/component",
        "crates/floor-component",
        "Cargo.toml",
        "Cargo.lock",
    ] {
        println!("cargo:rerun-if-changed={}", root.join(input).display());
    }

    let cargo = env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    ensure_target_installed();
    let target_dir = root.join("target").join("wasm");
    let mut command = Command::new(&cargo);
    command
        .current_dir(root)
        .args(["build", "--target", TARGET, "--profile", PROFILE])
        .args(["-p", "retry-component", "-p", "floor-component"])
        .arg("--target-dir")
        .arg(&target_dir);
    // The outer build's settings are for the host; none of them may leak into the wasm build.
    for variable in [
        "RUSTFLAGS",
        "CARGO_ENCODED_RUSTFLAGS",
        "RUSTC_WRAPPER",
        "RUSTC_WORKSPACE_WRAPPER",
        "CARGO_TARGET_DIR",
        "CARGO_BUILD_TARGET",
        "CARGO_BUILD_RUSTFLAGS",
        "CARGO_LLVM_COV",
        "LLVM_PROFILE_FILE",
    ] {
        command.env_remove(variable);
    }
    let status = command
        .status()
        .unwrap_or_else(|err| panic!("could not run {cargo:?} to build the components: {err}"));
    assert!(
        status.success(),
        "building the wasm32-wasip2 components failed (see the errors above); \
         is the target installed? `rustup target add {TARGET}`"
    );

    let out = target_dir.join(TARGET).join(PROFILE);
    export_path("RETRY_COMPONENT_WASM", &out.join("retry_component.wasm"));
    export_path("FLOOR_COMPONENT_WASM", &out.join("floor_component.wasm"));
}

fn export_path(variable: &str, path: &Path) {
    assert!(path.exists(), "{} was not built", path.display());
    println!("cargo:rustc-env={variable}={}", path.display());
}

/// Installs the wasm32-wasip2 standard library with rustup when the toolchain lacks it, so a
/// fresh machine with only rustup and the toolchain can build the harness.
fn ensure_target_installed() {
    let rustc = env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let sysroot = Command::new(&rustc)
        .args(["--print", "sysroot"])
        .output()
        .ok()
        .filter(|output| output.status.success())
        .map(|output| PathBuf::from(String::from_utf8_lossy(&output.stdout).trim()));
    let installed = sysroot
        .as_ref()
        .is_some_and(|root| root.join("lib/rustlib").join(TARGET).exists());
    if installed {
        return;
    }
    println!("cargo:warning=installing the {TARGET} target with rustup");
    let status = Command::new("rustup")
        .args(["target", "add", TARGET])
        .status();
    if !status.is_ok_and(|status| status.success()) {
        println!("cargo:warning=could not install {TARGET}; run `rustup target add {TARGET}`");
    }
}

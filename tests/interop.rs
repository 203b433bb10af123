//! Interoperability: the official A2A SDK clients (Python `a2a-sdk` 1.x and 0.3.x, the JS
//! `@a2a-js/sdk`) run their flows against the real `a2a` binary.
//!
//! `our_client` runs the other way round: our client against the official Python server.
//!
//! The SDKs are installed by `bash .ci/setup-interop.sh`. Without them these tests skip
//! with a message, except under `CI=true`, where a missing SDK fails the run.

#[path = "interop/our_client.rs"]
mod our_client;
mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

use support::ServerProcess;

fn interop_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/interop")
}

/// The interpreter for a script, or `None` (after saying why) when it is not installed.
fn runtime(path: PathBuf, what: &str) -> Option<PathBuf> {
    if path.exists() {
        return Some(path);
    }
    let msg = format!(
        "{what} is not installed at {}; run `bash .ci/setup-interop.sh`",
        path.display()
    );
    if support::in_ci() {
        panic!("{msg} (CI=true: interop tests must run)");
    }
    eprintln!("skipping: {msg}");
    None
}

fn run_script(program: &Path, script: &str) {
    // Loopback webhooks allowed: the scripts register configs for 127.0.0.1.
    let server = ServerProcess::start(
        &["--store", "memory:", "--push-allow-private-networks"],
        &[],
    );
    let out = Command::new(program)
        .arg(interop_dir().join(script))
        .arg(&server.url)
        .output()
        .expect("the script runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    println!("{stdout}");
    assert!(
        out.status.success(),
        "{script} failed against {}:\n{stdout}\n{stderr}",
        server.url
    );
    assert!(!stdout.contains("FAIL"), "{stdout}");
}

#[test]
fn python_sdk_1x_client_runs_the_whole_flow() {
    if let Some(py) = runtime(interop_dir().join(".venv-v1/bin/python"), "a2a-sdk 1.x") {
        run_script(&py, "py_client_v1.py");
    }
}

#[test]
fn python_sdk_03_client_runs_the_whole_flow() {
    if let Some(py) = runtime(interop_dir().join(".venv-v03/bin/python"), "a2a-sdk 0.3.x") {
        run_script(&py, "py_client_v03.py");
    }
}

#[test]
fn js_sdk_client_sends_and_streams() {
    if runtime(
        interop_dir().join("node_modules/@a2a-js/sdk"),
        "@a2a-js/sdk",
    )
    .is_some()
    {
        run_script(Path::new("node"), "js_client.mjs");
    }
}

//! Interoperability: the official A2A SDK clients (Python `a2a-sdk` 1.x and 0.3.x, the JS
//! `@a2a-js/sdk`) run their flows against the real `a2a` binary.
//!
//! The SDKs are installed by `bash .ci/setup-interop.sh`. Without them these tests skip
//! with a message, except under `CI=true`, where a missing SDK fails the run.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// The server as a child process, killed on drop.
struct Server {
    child: Child,
    url: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_server() -> Server {
    let mut child = Command::new(env!("CARGO_BIN_EXE_a2a"))
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--agent",
            "conformance",
            "--store",
            "memory:",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("the a2a binary starts");
    let stdout = child.stdout.take().expect("piped stdout");
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .expect("server prints its address");
    let url = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("unexpected first line: {line:?}"))
        .to_string();
    Server { child, url }
}

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
    if std::env::var("CI").is_ok_and(|v| v == "true" || v == "1") {
        panic!("{msg} (CI=true: interop tests must run)");
    }
    eprintln!("skipping: {msg}");
    None
}

fn run_script(program: &Path, script: &str) {
    let server = start_server();
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

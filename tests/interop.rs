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
    run_script_with(program, script, &[]);
}

fn run_script_with(program: &Path, script: &str, args: &[&str]) {
    // Loopback webhooks allowed: the scripts register configs for 127.0.0.1.
    let server = ServerProcess::start(
        &["--store", "memory:", "--push-allow-private-networks"],
        &[],
    );
    let out = Command::new(program)
        .arg(interop_dir().join(script))
        .arg(&server.url)
        .args(args)
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

/// The same flow over HTTP+JSON: the SDK's factory picks its `RestTransport` from the
/// card's `HTTP+JSON` interface.
#[test]
fn python_sdk_1x_client_runs_the_whole_flow_over_rest() {
    if let Some(py) = runtime(interop_dir().join(".venv-v1/bin/python"), "a2a-sdk 1.x") {
        run_script_with(&py, "py_client_v1.py", &["--transport", "rest"]);
    }
}

/// The same flow over gRPC: the SDK's factory (its grpc extra, a plain h2c channel) picks
/// its `GrpcTransport` from the card's `GRPC` interface, the bare `host:port`.
#[test]
fn python_sdk_1x_client_runs_the_whole_flow_over_grpc() {
    if let Some(py) = runtime(interop_dir().join(".venv-v1/bin/python"), "a2a-sdk 1.x") {
        run_script_with(&py, "py_client_v1.py", &["--transport", "grpc"]);
    }
}

#[test]
fn python_sdk_03_client_runs_the_whole_flow() {
    if let Some(py) = runtime(interop_dir().join(".venv-v03/bin/python"), "a2a-sdk 0.3.x") {
        run_script(&py, "py_client_v03.py");
    }
}

/// The 0.3 flow over HTTP+JSON: the SDK's `RestTransport` from the card's 0.3
/// `additionalInterfaces`, 0.3 ProtoJSON bodies under `/rest/v1/`.
#[test]
fn python_sdk_03_client_runs_the_whole_flow_over_rest() {
    if let Some(py) = runtime(interop_dir().join(".venv-v03/bin/python"), "a2a-sdk 0.3.x") {
        run_script_with(&py, "py_client_v03.py", &["--transport", "rest"]);
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

/// The JS flow over HTTP+JSON: the factory holds only the SDK's `RestTransportFactory`,
/// so the card must offer an `HTTP+JSON` interface that the whole flow then runs on.
#[test]
fn js_sdk_client_runs_the_flow_over_rest() {
    if runtime(
        interop_dir().join("node_modules/@a2a-js/sdk"),
        "@a2a-js/sdk",
    )
    .is_some()
    {
        run_script_with(Path::new("node"), "js_client.mjs", &["--transport", "rest"]);
    }
}

/// With authentication configured, each official SDK's card resolver reads the card it
/// fetches and understands its security schemes, whether the 1.0 card carries the 0.3
/// members (`card.v03_fields`) or not.
#[test]
fn python_sdks_read_the_security_schemes_of_the_cards() {
    let v1 = runtime(interop_dir().join(".venv-v1/bin/python"), "a2a-sdk 1.x");
    let v03 = runtime(interop_dir().join(".venv-v03/bin/python"), "a2a-sdk 0.3.x");
    let (Some(v1), Some(v03)) = (v1, v03) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let keys = dir.path().join("api-keys");
    std::fs::write(&keys, format!("{} alice\n", "ab".repeat(32))).unwrap();
    for v03_fields in [true, false] {
        let config = dir.path().join(format!("a2a-{v03_fields}.toml"));
        // The key set is not reachable: the server starts anyway (tokens would be refused).
        std::fs::write(
            &config,
            format!(
                "[card]\nv03_fields = {v03_fields}\n[auth.api_keys]\nfile = {:?}\n\
                 [[auth.jwt]]\nissuer = \"https://idp.example\"\naudience = [\"a2a\"]\n\
                 jwks_url = \"http://127.0.0.1:9/jwks.json\"\n",
                keys.display().to_string()
            ),
        )
        .unwrap();
        let server = ServerProcess::start(
            &["--store", "memory:", "--config", config.to_str().unwrap()],
            &[],
        );
        let read = |python: &Path, path: &str| {
            let out = Command::new(python)
                .arg(interop_dir().join("py_card.py"))
                .args([&server.url, path])
                .output()
                .expect("py_card.py runs");
            let stdout = String::from_utf8_lossy(&out.stdout).trim().to_string();
            assert!(
                out.status.success(),
                "{} {path} (v03_fields {v03_fields}): {stdout}\n{}",
                python.display(),
                String::from_utf8_lossy(&out.stderr)
            );
            stdout
        };
        let want_v1 = "ok apiKey=api_key_security_scheme bearer=http_auth_security_scheme";
        assert_eq!(
            read(&v1, "/.well-known/agent-card.json"),
            want_v1,
            "v03_fields {v03_fields}"
        );
        // A 0.3 client finds the dual card at agent-card.json; the strict one has no 0.3
        // endpoint members, so there it reads agent.json.
        let v03_path = if v03_fields {
            "/.well-known/agent-card.json"
        } else {
            "/.well-known/agent.json"
        };
        assert_eq!(
            read(&v03, v03_path),
            "ok apiKey=apiKey bearer=http",
            "v03_fields {v03_fields}"
        );
        assert_eq!(
            read(&v03, "/.well-known/agent.json"),
            "ok apiKey=apiKey bearer=http"
        );
    }
}

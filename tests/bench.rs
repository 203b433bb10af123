//! `a2a bench` against a real `a2a serve`: the JSON report counts requests and no errors.
//! Speed is never asserted.

mod support;

use std::process::Command;

use serde_json::Value;
use support::{BIN, ServerProcess};

fn bench(url: &str, args: &[&str]) -> Value {
    let out = Command::new(BIN)
        .args(["bench", url, "--json", "--duration", "1s", "--warmup", "20"])
        .args(args)
        .output()
        .expect("run a2a bench");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "a2a bench {args:?} failed: {}\nstdout: {stdout}\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {stdout}"))
}

fn assert_clean(report: &Value) {
    assert!(report["requests"].as_u64().unwrap() > 0, "{report:#}");
    assert_eq!(report["errors"], 0, "{report:#}");
    assert_eq!(report["error_kinds"], serde_json::json!({}), "{report:#}");
    assert!(
        report["latency"]["count"].as_u64().unwrap() > 0,
        "{report:#}"
    );
}

#[test]
fn bench_against_a_real_server() {
    let server = ServerProcess::start(&["--store", "memory:"], &[]);

    let send = bench(&server.url, &["--scenario", "send-task", "-c", "4"]);
    assert_clean(&send);
    assert_eq!(send["scenario"], "send-task");
    assert_eq!(send["protocol"], "1.0");

    let stream = bench(
        &server.url,
        &[
            "--scenario",
            "stream",
            "-c",
            "2",
            "--protocol",
            "0.3",
            "--message-id-prefix",
            "tck-stream-",
        ],
    );
    assert_clean(&stream);
    assert!(stream["time_to_first_event"]["count"].as_u64().unwrap() > 0);
    assert!(stream["metrics"]["events_per_stream"].as_f64().unwrap() >= 2.0);

    let sub = bench(
        &server.url,
        &["--scenario", "subscribe", "--subscribers", "3"],
    );
    assert_clean(&sub);
    assert!(
        sub["metrics"]["events_delivered"].as_f64().unwrap() > 0.0,
        "{sub:#}"
    );
}

#[test]
fn bench_over_rest() {
    let server = ServerProcess::start(&["--store", "memory:"], &[]);
    let send = bench(
        &server.url,
        &["--transport", "rest", "--scenario", "send-task", "-c", "2"],
    );
    assert_clean(&send);
    assert_eq!(
        send["endpoint"],
        format!("{}/rest/message:send", server.url)
    );
    let stream = bench(
        &server.url,
        &[
            "--transport",
            "rest",
            "--scenario",
            "stream",
            "-c",
            "2",
            "--message-id-prefix",
            "tck-stream-003-",
        ],
    );
    assert_clean(&stream);
    assert_eq!(
        stream["endpoint"],
        format!("{}/rest/message:stream", server.url)
    );
    // The default is the card's first interface: JSON-RPC.
    let default = bench(&server.url, &["--scenario", "send-task", "-c", "1"]);
    assert_eq!(default["endpoint"], format!("{}/", server.url));
}

#[test]
fn bench_over_grpc() {
    let server = ServerProcess::start(&["--store", "memory:"], &[]);
    let authority = server.url.trim_start_matches("http://");
    let send = bench(
        &server.url,
        &["--transport", "grpc", "--scenario", "send-task", "-c", "2"],
    );
    assert_clean(&send);
    assert_eq!(
        send["endpoint"],
        format!("http://{authority}/lf.a2a.v1.A2AService/SendMessage")
    );
    let stream = bench(
        &server.url,
        &[
            "--transport",
            "grpc",
            "--scenario",
            "stream",
            "-c",
            "2",
            "--message-id-prefix",
            "tck-stream-003-",
        ],
    );
    assert_clean(&stream);
    assert!(stream["metrics"]["events_per_stream"].as_f64().unwrap() >= 2.0);
    // A scenario it does not measure is refused by name.
    let out = Command::new(BIN)
        .args([
            "bench",
            &server.url,
            "--transport",
            "grpc",
            "--scenario",
            "get",
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--transport jsonrpc"));
}

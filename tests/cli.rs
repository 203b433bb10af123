//! End to end: the real `a2a serve` (conformance agent, memory store) driven by the real
//! `a2a` client subcommands, in every protocol version.

use std::io::Read;
use std::process::{Command, ExitStatus, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use serde_json::Value;

mod support;

use support::{BIN, ServerProcess};

/// The real server (conformance agent, memory store).
fn start_server() -> ServerProcess {
    ServerProcess::start(&["--store", "memory:"], &[])
}

struct Out {
    status: ExitStatus,
    stdout: String,
    stderr: String,
}

impl Out {
    fn lines(&self) -> Vec<&str> {
        self.stdout
            .lines()
            .filter(|l| !l.trim().is_empty())
            .collect()
    }

    fn json(&self) -> Value {
        serde_json::from_str(self.stdout.trim())
            .unwrap_or_else(|e| panic!("stdout is not one JSON document ({e}): {}", self.stdout))
    }

    fn ok(self) -> Out {
        assert!(
            self.status.success(),
            "exit {:?}\nstdout:\n{}\nstderr:\n{}",
            self.status,
            self.stdout,
            self.stderr
        );
        self
    }
}

fn pipe_to_string(mut r: impl Read + Send + 'static) -> thread::JoinHandle<String> {
    thread::spawn(move || {
        let mut s = String::new();
        let _ = r.read_to_string(&mut s);
        s
    })
}

/// Runs the client binary with a deadline.
fn a2a(args: &[&str]) -> Out {
    let mut child = Command::new(BIN)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn a2a");
    let out = pipe_to_string(child.stdout.take().unwrap());
    let err = pipe_to_string(child.stderr.take().unwrap());
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(s) = child.try_wait().expect("wait") {
            break s;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("`a2a {}` did not finish within 30 s", args.join(" "));
        }
        thread::sleep(Duration::from_millis(20));
    };
    Out {
        status,
        stdout: out.join().unwrap(),
        stderr: err.join().unwrap(),
    }
}

fn mid(prefix: &str) -> String {
    format!("{prefix}-{}", uuid::Uuid::new_v4())
}

/// The task id in a `send --json` result: `{"task":{…}}` in 1.0, a bare task in 0.x.
fn task_id(v: &Value, protocol: &str) -> String {
    let t = if protocol == "1.0" { &v["task"] } else { v };
    t["id"]
        .as_str()
        .unwrap_or_else(|| panic!("no task id in {v}"))
        .to_string()
}

fn send_json(s: &ServerProcess, protocol: &str, prefix: &str, extra: &[&str]) -> String {
    let m = mid(prefix);
    let mut args = vec![
        "send",
        &s.url,
        "hi",
        "-p",
        protocol,
        "--json",
        "--message-id",
        &m,
    ];
    args.extend_from_slice(extra);
    task_id(&a2a(&args).ok().json(), protocol)
}

fn send_then_get(protocol: &str) {
    let s = start_server();
    let id = send_json(&s, protocol, "tck-complete-task", &[]);
    let out = a2a(&["get", &s.url, &id, "-p", protocol]).ok();
    let lines = out.lines();
    assert_eq!(lines[0], format!("task {id} completed"), "{}", out.stdout);
    assert!(lines.contains(&"agent: Hello from TCK"), "{}", out.stdout);
    let raw = a2a(&[
        "get",
        &s.url,
        &id,
        "-p",
        protocol,
        "--json",
        "--history",
        "1",
    ])
    .ok()
    .json();
    assert_eq!(raw["id"], id.as_str());
    assert_eq!(raw["history"].as_array().map(Vec::len), Some(1), "{raw}");
}

/// The same command with the same key and message id is one send, answered twice; a
/// fresh key (the default) makes the same message id another send.
#[test]
fn a_send_run_again_with_its_idempotency_key_is_answered_not_rerun() {
    let s = start_server();
    let m = mid("tck-complete-task");
    let key = uuid::Uuid::new_v4().to_string();
    let send = |extra: &[&str]| {
        let mut args = vec!["send", &s.url, "hi", "--json", "--message-id", &m];
        args.extend_from_slice(extra);
        task_id(&a2a(&args).ok().json(), "1.0")
    };
    let first = send(&["--idempotency-key", &key]);
    assert_eq!(send(&["--idempotency-key", &key]), first);
    assert_ne!(
        send(&[]),
        first,
        "without the key, the same message is sent again"
    );
}

#[test]
fn send_then_get_v1() {
    send_then_get("1.0");
}

#[test]
fn send_then_get_v03() {
    send_then_get("0.3");
}

#[test]
fn send_then_get_v01() {
    let s = start_server();
    // 0.1 messages carry no id, so the agent echoes the text and waits for input.
    let raw = a2a(&["send", &s.url, "hello legacy", "-p", "0.1", "--json"])
        .ok()
        .json();
    let id = task_id(&raw, "0.1");
    assert!(raw["sessionId"].is_string(), "{raw}");
    let out = a2a(&["get", &s.url, &id, "-p", "0.1"]).ok();
    assert_eq!(out.lines()[0], format!("task {id} input-required"));
    assert!(
        out.lines().contains(&"agent: hello legacy"),
        "{}",
        out.stdout
    );
}

fn stream(protocol: &str) {
    let s = start_server();
    let m = mid("tck-stream-001");
    let out = a2a(&["stream", &s.url, "hi", "-p", protocol, "--message-id", &m]).ok();
    let events: Vec<String> = out
        .lines()
        .iter()
        .map(|l| l.split_once("] ").expect("`[n] event` lines").1.to_string())
        .collect();
    assert!(
        events[0].starts_with("task ") && events[0].ends_with(" submitted"),
        "{}",
        out.stdout
    );
    assert_eq!(
        events[1..],
        [
            "status working",
            "artifact text-artifact: Stream hello from TCK",
            "status completed"
        ],
        "{}",
        out.stdout
    );
    let ids: Vec<u64> = out
        .lines()
        .iter()
        .map(|l| l[1..l.find(']').unwrap()].parse().unwrap())
        .collect();
    assert!(
        ids.windows(2).all(|w| w[0] < w[1]),
        "SSE ids increase: {ids:?}"
    );

    let m = mid("tck-stream-001");
    let out = a2a(&[
        "stream",
        &s.url,
        "hi",
        "-p",
        protocol,
        "--message-id",
        &m,
        "--json",
    ])
    .ok();
    let docs: Vec<Value> = out
        .lines()
        .iter()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(docs.len(), 4, "{}", out.stdout);
    let last = docs.last().unwrap();
    if protocol == "1.0" {
        assert_eq!(
            last["statusUpdate"]["status"]["state"],
            "TASK_STATE_COMPLETED"
        );
    } else {
        assert_eq!(
            (&last["status"]["state"], &last["final"]),
            (&"completed".into(), &true.into())
        );
    }
}

#[test]
fn stream_v1() {
    stream("1.0");
}

#[test]
fn stream_v03() {
    stream("0.3");
}

#[test]
fn list_v1() {
    let s = start_server();
    let waiting = send_json(&s, "1.0", "tck-input-required", &[]);
    let done = send_json(&s, "1.0", "tck-complete-task", &[]);
    let raw = a2a(&["list", &s.url, "--status", "input-required", "--json"])
        .ok()
        .json();
    let ids: Vec<&str> = raw["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|t| t["id"].as_str())
        .collect();
    assert_eq!(ids, [waiting.as_str()], "{raw}");
    let out = a2a(&["list", &s.url]).ok();
    assert!(
        out.stdout.contains(&format!("{done} completed")),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("2 of 2 task(s)"), "{}", out.stdout);
    let page = a2a(&["list", &s.url, "--page-size", "1", "--json"])
        .ok()
        .json();
    assert_eq!(page["tasks"].as_array().map(Vec::len), Some(1));
    assert!(!page["nextPageToken"].as_str().unwrap().is_empty());
    // ListTasks has no 0.3 JSON-RPC method.
    let out = a2a(&["list", &s.url, "-p", "0.3"]);
    assert!(!out.status.success());
    assert!(out.stderr.contains("1.0"), "{}", out.stderr);
}

fn cancel(protocol: &str) {
    let s = start_server();
    let id = send_json(&s, protocol, "tck-input-required", &[]);
    let out = a2a(&["cancel", &s.url, &id, "-p", protocol]).ok();
    assert_eq!(out.lines()[0], format!("task {id} canceled"));
    let again = a2a(&["cancel", &s.url, &id, "-p", protocol]);
    assert_eq!(again.status.code(), Some(1));
    assert!(
        again.stderr.starts_with("error -32002: "),
        "{}",
        again.stderr
    );
}

#[test]
fn cancel_v1() {
    cancel("1.0");
}

#[test]
fn cancel_v03() {
    cancel("0.3");
}

fn subscribe(protocol: &str, command: &str) {
    let s = start_server();
    let id = send_json(&s, protocol, "test-resubscribe-message-id", &["--no-wait"]);
    let out = a2a(&[command, &s.url, &id, "-p", protocol]).ok();
    let lines = out.lines();
    assert!(
        lines[0].ends_with(&format!("task {id} working")),
        "{}",
        out.stdout
    );
    assert!(
        lines.last().unwrap().ends_with("status completed"),
        "{}",
        out.stdout
    );

    // The task is completed now: there is nothing left to follow.
    let out = a2a(&[command, &s.url, &id, "-p", protocol]);
    assert_eq!(out.status.code(), Some(1), "{}{}", out.stdout, out.stderr);
    assert!(out.stderr.starts_with("error -32004: "), "{}", out.stderr);
}

#[test]
fn subscribe_v1() {
    subscribe("1.0", "subscribe");
}

#[test]
fn subscribe_v03() {
    subscribe("0.3", "resubscribe");
}

#[test]
fn subscribe_resumes_after_last_event_id() {
    let s = start_server();
    let id = send_json(&s, "1.0", "test-resubscribe-message-id", &["--no-wait"]);
    let first = a2a(&["get", &s.url, &id, "--json"]).ok().json();
    assert_eq!(first["status"]["state"], "TASK_STATE_WORKING");
    let out = a2a(&["subscribe", &s.url, &id, "--last-event-id", "2", "--json"]).ok();
    let docs: Vec<Value> = out
        .lines()
        .iter()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(
        docs.iter().all(|d| d.get("task").is_none()),
        "events after id 2 only: {}",
        out.stdout
    );
    assert_eq!(
        docs.last().unwrap()["statusUpdate"]["status"]["state"],
        "TASK_STATE_COMPLETED"
    );
}

#[test]
fn errors_exit_non_zero() {
    let s = start_server();
    for protocol in ["1.0", "0.3", "0.1"] {
        let out = a2a(&["get", &s.url, "no-such-task", "-p", protocol]);
        assert_eq!(out.status.code(), Some(1), "{protocol}");
        assert!(
            out.stderr.starts_with("error -32001: "),
            "{protocol}: {}",
            out.stderr
        );
    }
}

#[test]
fn card_and_endpoint_override() {
    let s = start_server();
    let card = a2a(&["card", &s.url, "--json"]).ok().json();
    assert!(card["supportedInterfaces"].is_array(), "{card}");
    let out = a2a(&["card", &s.url]).ok();
    assert!(
        out.stdout.contains("endpoint (A2A 1.0): http://"),
        "{}",
        out.stdout
    );
    // --endpoint skips the card; the root is the JSON-RPC endpoint of this server.
    let m = mid("tck-complete-task");
    let raw = a2a(&[
        "send",
        "http://unused.invalid",
        "hi",
        "--endpoint",
        &s.url,
        "--json",
        "--message-id",
        &m,
    ])
    .ok()
    .json();
    assert_eq!(raw["task"]["status"]["state"], "TASK_STATE_COMPLETED");
}

#[test]
fn stream_v01_with_client_task_id() {
    let s = start_server();
    let out = a2a(&[
        "stream",
        &s.url,
        "legacy stream",
        "-p",
        "0.1",
        "--task-id",
        "legacy-1",
    ])
    .ok();
    let events: Vec<&str> = out
        .lines()
        .iter()
        .map(|l| l.split_once("] ").unwrap().1)
        .collect();
    assert_eq!(
        events.last(),
        Some(&"status input-required: legacy stream"),
        "{}",
        out.stdout
    );
    let out = a2a(&["get", &s.url, "legacy-1", "-p", "0.1"]).ok();
    assert_eq!(out.lines()[0], "task legacy-1 input-required");
}

#[test]
fn settings_from_the_environment_as_kubernetes_sets_it() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("from-env.db");
    let url = format!("sqlite://{}", db.display());
    let s = ServerProcess::start(
        &[],
        &[
            // The documented name of the store setting.
            ("A2A_DATABASE_URL", url.as_str()),
            // Text that looks like numbers stays text.
            ("A2A_CARD__VERSION", "1.0"),
            ("A2A_CARD__NAME", "2024"),
            // Quoted, as figment reads strings: the text inside.
            ("A2A_CARD__DESCRIPTION", "\"say \\\"hi\\\"\""),
            // Service links Kubernetes adds for a service named `a2a-agent`: not settings.
            ("A2A_AGENT_SERVICE_HOST", "10.0.0.7"),
            ("A2A_AGENT_PORT", "tcp://10.0.0.7:80"),
        ],
    );
    assert!(db.exists(), "the store is not at A2A_DATABASE_URL ({url})");
    let card = a2a(&["card", &s.url, "--json"]).ok().json();
    assert_eq!(card["version"], "1.0", "{card}");
    assert_eq!(card["name"], "2024", "{card}");
    assert_eq!(card["description"], "say \"hi\"", "{card}");
}

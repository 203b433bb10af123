//! Shutdown and the operations listener, on the real binary with real signals: SIGTERM
//! turns readiness 503, serves on through `shutdown_delay_secs`, ends open SSE streams
//! cleanly, lets running agents finish within `shutdown_grace_secs` and releases the
//! leases of those that do not; `admin_listen` moves `/metrics`, `/healthz`, `/health` and
//! `/readyz` off the public listener.

mod support;

use std::time::{Duration, Instant};

use futures::StreamExt;
use serde_json::{Value, json};
use support::ServerProcess;
use support::stores::store_url;

fn rpc(url: &str, method: &str, params: Value) -> reqwest::RequestBuilder {
    reqwest::Client::new()
        .post(format!("{url}/"))
        .header("A2A-Version", "1.0")
        .json(&json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}))
}

async fn call(url: &str, method: &str, params: Value) -> Value {
    let r: Value = rpc(url, method, params)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(r.get("error").is_none(), "{method}: {r}");
    r["result"].clone()
}

fn message(prefix: &str) -> Value {
    json!({"messageId": format!("{prefix}-{}", uuid::Uuid::new_v4()), "role": "ROLE_USER", "parts": [{"text": "hi"}]})
}

/// Sends a message without waiting for the run; the task.
async fn send(url: &str, prefix: &str) -> Value {
    let params = json!({"message": message(prefix), "configuration": {"returnImmediately": true}});
    call(url, "SendMessage", params).await["task"].clone()
}

async fn wait_for_state(url: &str, id: &Value, state: &str, limit: Duration) -> Value {
    let deadline = Instant::now() + limit;
    loop {
        let t = call(url, "GetTask", json!({"id": id})).await;
        if t["status"]["state"] == state {
            return t;
        }
        assert!(
            Instant::now() < deadline,
            "task {id} not {state} in {limit:?}: {t}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// How an SSE stream ended: `Ok(events)` when the body finished properly, `Err` when the
/// connection broke (a reset, a body cut short).
type Ended = Result<usize, String>;

/// Reads a stream to its end in the background.
fn read_stream(resp: reqwest::Response) -> tokio::task::JoinHandle<(Ended, Instant)> {
    assert!(
        resp.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream")
    );
    tokio::spawn(async move {
        let mut events = eventsource_stream::EventStream::new(resp.bytes_stream());
        let mut n = 0;
        let ended = loop {
            match events.next().await {
                Some(Ok(_)) => n += 1,
                Some(Err(e)) => break Err(e.to_string()),
                None => break Ok(n),
            }
        };
        (ended, Instant::now())
    })
}

async fn status(url: &str) -> u16 {
    reqwest::get(url).await.unwrap().status().as_u16()
}

#[tokio::test(flavor = "multi_thread")]
async fn sigterm_serves_through_the_delay_then_ends_streams_cleanly_and_exits_0() {
    let store = store_url("sqlite").await.unwrap();
    let (delay, grace) = (2, 8);
    let mut server = ServerProcess::start(
        &["--store", &store.url],
        &[
            ("A2A_SHUTDOWN_DELAY_SECS", &delay.to_string()),
            ("A2A_SHUTDOWN_GRACE_SECS", &grace.to_string()),
        ],
    );
    let url = server.url.clone();
    // A stream that would stay open for ever (an input-required task), and one of a run
    // that outlives the delay but not the grace (held working for 4 s).
    let waiting = call(
        &url,
        "SendMessage",
        json!({"message": message("tck-input-required")}),
    )
    .await["task"]["id"]
        .clone();
    let idle = read_stream(
        rpc(&url, "SubscribeToTask", json!({"id": waiting}))
            .send()
            .await
            .unwrap(),
    );
    let held = rpc(
        &url,
        "SendStreamingMessage",
        json!({"message": message("test-resubscribe-message-id")}),
    )
    .send()
    .await
    .unwrap();
    let held_task = {
        // The first event (the task) names it; the rest is read in the background.
        let mut events = eventsource_stream::EventStream::new(held.bytes_stream());
        let first = events.next().await.unwrap().unwrap();
        let v: Value = serde_json::from_str(&first.data).unwrap();
        let id = v["result"]["task"]["id"].clone();
        assert!(id.is_string(), "{v}");
        (
            id,
            tokio::spawn(async move {
                let mut n = 1;
                loop {
                    match events.next().await {
                        Some(Ok(_)) => n += 1,
                        Some(Err(e)) => break Err(e.to_string()),
                        None => break Ok::<usize, String>(n),
                    }
                }
            }),
        )
    };
    assert_eq!(status(&format!("{url}/readyz")).await, 200);
    // A unary request in flight across the whole drain: a blocking send of another held run.
    let blocking = {
        let url = url.clone();
        let params = json!({"message": message("test-resubscribe-message-id")});
        tokio::spawn(async move { call(&url, "SendMessage", params).await })
    };
    tokio::time::sleep(Duration::from_millis(200)).await;

    let signalled = Instant::now();
    server.terminate();
    // Readiness turns at once, while new connections and requests are still served.
    let mut ready = 200;
    for _ in 0..50 {
        ready = status(&format!("{url}/readyz")).await;
        if ready == 503 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(ready, 503, "readiness after SIGTERM");
    assert!(signalled.elapsed() < Duration::from_secs(1));
    let body: Value = reqwest::get(format!("{url}/readyz"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(body["status"], "unavailable", "{body}");
    assert_eq!(body["draining"], true, "{body}");
    let t = call(&url, "GetTask", json!({"id": waiting})).await;
    assert_eq!(t["status"]["state"], "TASK_STATE_INPUT_REQUIRED");
    assert_eq!(status(&format!("{url}/healthz")).await, 200);

    // Draining: both streams end properly, after the delay and before the held run ends.
    let (ended, at) = idle.await.unwrap();
    assert_eq!(
        ended,
        Ok(1),
        "the idle stream ends cleanly after its snapshot"
    );
    let waited = at - signalled;
    assert!(
        waited >= Duration::from_secs(delay) - Duration::from_millis(100)
            && waited < Duration::from_secs(delay + 2),
        "streams end when draining starts: after {waited:?}"
    );
    let (held_id, held_stream) = held_task;
    let held_ended = held_stream.await.unwrap();
    assert!(
        held_ended.is_ok(),
        "the run's stream ends cleanly: {held_ended:?}"
    );
    // New connections are refused once draining.
    let addr = url.trim_start_matches("http://").to_string();
    let mut refused = false;
    for _ in 0..50 {
        if tokio::net::TcpStream::connect(&addr).await.is_err() {
            refused = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(refused, "the listener closes when draining");

    // The held run (4 s) finishes within the grace; then the process exits 0.
    let exit = tokio::task::spawn_blocking(move || {
        let s = server.wait_exit(Duration::from_secs(delay + grace + 5));
        (s, server)
    });
    let (code, _server) = exit.await.unwrap();
    let code = code.expect("the server exits within delay + grace");
    assert!(code.success(), "exit status {code}");
    assert!(signalled.elapsed() < Duration::from_secs(delay + grace));
    let answered = blocking.await.unwrap();
    assert_eq!(
        answered["task"]["status"]["state"], "TASK_STATE_COMPLETED",
        "the request in flight was answered: {answered}"
    );

    let again = ServerProcess::start(&["--store", &store.url], &[]);
    let t = call(&again.url, "GetTask", json!({"id": held_id})).await;
    assert_eq!(
        t["status"]["state"], "TASK_STATE_COMPLETED",
        "the run finished in the grace: {t}"
    );
}

/// A run still working when the grace ends is stopped, its task left active and its lease
/// released: a second process on the same store recovers it at once, not after the lease.
async fn unfinished_runs_are_taken_over_at_once(kind: &str) {
    let Some(store) = store_url(kind).await else {
        return;
    };
    let lease = [("A2A_RUN_LEASE_SECS", "120")];
    let mut server = ServerProcess::start(
        &["--store", &store.url],
        &[lease[0], ("A2A_SHUTDOWN_GRACE_SECS", "1")],
    );
    let running = send(&server.url, "test-resubscribe-message-id").await;
    wait_for_state(
        &server.url,
        &running["id"],
        "TASK_STATE_WORKING",
        Duration::from_secs(5),
    )
    .await;
    let signalled = Instant::now();
    server.terminate();
    let code = tokio::task::spawn_blocking(move || server.wait_exit(Duration::from_secs(10)))
        .await
        .unwrap()
        .expect("the server exits after the grace");
    assert!(code.success(), "exit status {code}");
    assert!(
        signalled.elapsed() < Duration::from_secs(4),
        "{:?}",
        signalled.elapsed()
    );

    let again = ServerProcess::start(&["--store", &store.url], &lease);
    // The conformance agent is not resumable: recovery fails the task, as after a crash.
    let failed = wait_for_state(
        &again.url,
        &running["id"],
        "TASK_STATE_FAILED",
        Duration::from_secs(10),
    )
    .await;
    let why = failed["status"]["message"]["parts"][0]["text"]
        .as_str()
        .unwrap_or_default();
    assert!(why.contains("restarted"), "{failed}");
}

#[tokio::test(flavor = "multi_thread")]
async fn unfinished_runs_are_taken_over_at_once_sqlite() {
    unfinished_runs_are_taken_over_at_once("sqlite").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn unfinished_runs_are_taken_over_at_once_postgres() {
    unfinished_runs_are_taken_over_at_once("postgres").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn admin_listen_moves_the_operations_routes_off_the_public_listener() {
    let mut server = ServerProcess::start(
        &["--store", "memory:"],
        &[
            ("A2A_ADMIN_LISTEN", "127.0.0.1:0"),
            ("A2A_SHUTDOWN_DELAY_SECS", "2"),
        ],
    );
    let admin = server.admin_url.clone().expect("an admin listener");
    let public = server.url.clone();
    assert_ne!(admin, public);
    for path in ["/metrics", "/healthz", "/health", "/readyz"] {
        assert_eq!(
            status(&format!("{public}{path}")).await,
            404,
            "public {path}"
        );
        assert_eq!(status(&format!("{admin}{path}")).await, 200, "admin {path}");
    }
    // The A2A surface stays public only.
    assert_eq!(
        status(&format!("{public}/.well-known/agent-card.json")).await,
        200
    );
    assert_eq!(
        status(&format!("{admin}/.well-known/agent-card.json")).await,
        404
    );
    let on_admin = rpc(&admin, "GetTask", json!({"id": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(on_admin.status(), 404, "no JSON-RPC on the admin listener");
    let body: Value = reqwest::get(format!("{admin}/readyz"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        body,
        json!({"status": "ready", "checks": {"store": {"status": "ok"}}})
    );

    // `a2a health`, the image's HEALTHCHECK: the configured admin address by default.
    let health = |args: &[&str], admin: &str| {
        std::process::Command::new(support::BIN)
            .arg("health")
            .args(args)
            .env_remove("A2A_CONFIG")
            .env("A2A_ADMIN_LISTEN", admin)
            .output()
            .unwrap()
            .status
            .code()
    };
    let admin_addr = admin.trim_start_matches("http://");
    assert_eq!(health(&[], admin_addr), Some(0), "the admin listener");
    assert_eq!(health(&[&admin], "127.0.0.1:1"), Some(0), "a bare URL");
    assert_eq!(
        health(&[&public], admin_addr),
        Some(1),
        "404 on the public one"
    );
    assert_eq!(health(&[], "127.0.0.1:1"), Some(1), "nothing listening");

    server.terminate();
    let mut ready = 200;
    for _ in 0..50 {
        ready = status(&format!("{admin}/readyz")).await;
        if ready == 503 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(ready, 503, "the admin listener reports the shutdown");
    let code = tokio::task::spawn_blocking(move || server.wait_exit(Duration::from_secs(10)))
        .await
        .unwrap()
        .expect("exits");
    assert!(code.success(), "exit status {code}");
}

/// The drain over HTTP/2 (prior knowledge, as gRPC-style clients and proxies speak it):
/// SIGTERM ends an open SSE stream with a proper end of stream, not a reset, and the
/// process exits 0.
#[tokio::test(flavor = "multi_thread")]
async fn sigterm_ends_an_http2_sse_stream_cleanly() {
    let mut server = ServerProcess::start(&["--store", "memory:"], &[]);
    let url = server.url.clone();
    let waiting = call(
        &url,
        "SendMessage",
        json!({"message": message("tck-input-required")}),
    )
    .await["task"]["id"]
        .clone();
    let h2 = reqwest::Client::builder()
        .http2_prior_knowledge()
        .build()
        .unwrap();
    let resp = h2
        .post(format!("{url}/"))
        .header("A2A-Version", "1.0")
        .json(
            &json!({"jsonrpc": "2.0", "id": 1, "method": "SubscribeToTask",
                      "params": {"id": waiting}}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(resp.version(), reqwest::Version::HTTP_2);
    let stream = read_stream(resp);
    server.terminate();
    let (ended, _) = stream.await.unwrap();
    assert_eq!(
        ended,
        Ok(1),
        "the HTTP/2 stream ends cleanly after its snapshot"
    );
    let code = tokio::task::spawn_blocking(move || server.wait_exit(Duration::from_secs(20)))
        .await
        .unwrap()
        .expect("the server exits");
    assert!(code.success(), "exit status {code}");
}

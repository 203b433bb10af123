//! Logs and metrics of the real `a2a serve` over real sockets: JSON log lines (its stderr
//! is a pipe, so JSON is the default), the request log, no secret in any line, and
//! `/metrics` after known traffic.

use std::time::Duration;

use serde_json::{Value, json};

mod support;

use support::ServerProcess;

/// Every secret a request below carries; none may reach the log.
const SECRETS: [&str; 5] = [
    "SECRET-AUTHORIZATION",
    "SECRET-API-KEY",
    "SECRET-PUSH-TOKEN",
    "SECRET-PUSH-CREDENTIALS",
    "SECRET-URL-QUERY",
];

fn message(prefix: &str) -> Value {
    json!({
        "messageId": format!("{prefix}-{}", uuid::Uuid::new_v4()),
        "role": "ROLE_USER",
        "parts": [{"text": "hello"}],
    })
}

/// One JSON-RPC call (`version`: the `A2A-Version` header, if any); the parsed answer.
async fn call(
    http: &reqwest::Client,
    url: &str,
    version: Option<&str>,
    method: &str,
    params: Value,
) -> Value {
    let mut req = http
        .post(format!("{url}/"))
        .header("authorization", "Bearer SECRET-AUTHORIZATION")
        .header("x-api-key", "SECRET-API-KEY")
        .json(&json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}));
    if let Some(v) = version {
        req = req.header("a2a-version", v);
    }
    let resp = req.send().await.expect("request sent");
    let text = resp.text().await.expect("body read");
    if text.starts_with('{') {
        serde_json::from_str(&text).expect("JSON answer")
    } else {
        // An SSE answer, read to its end: the last event's data.
        let data = text
            .lines()
            .rev()
            .find_map(|l| l.strip_prefix("data: "))
            .expect("an SSE event");
        serde_json::from_str(data).expect("JSON event")
    }
}

fn task_id(answer: &Value) -> String {
    let r = &answer["result"];
    r["task"]["id"]
        .as_str()
        .or(r["id"].as_str())
        .unwrap_or_else(|| panic!("no task in {answer}"))
        .to_string()
}

fn is_request_line(line: &str) -> bool {
    line.contains(r#""target":"a2a::request""#)
}

#[tokio::test]
async fn json_logs_carry_request_lines_and_no_secrets() {
    // Debug everywhere: the widest log, and answered calls' request lines are DEBUG.
    let (server, logs) = ServerProcess::start_logged(
        &["--store", "memory:", "--push-allow-private-networks"],
        &[("RUST_LOG", "debug")],
    );
    let http = reqwest::Client::new();
    let hook = json!({
        "url": "http://127.0.0.1:9/hook?api_key=SECRET-URL-QUERY",
        "token": "SECRET-PUSH-TOKEN",
        "authentication": {"scheme": "Bearer", "credentials": "SECRET-PUSH-CREDENTIALS"},
    });
    let sent = call(
        &http,
        &server.url,
        Some("1.0"),
        "SendMessage",
        json!({"message": message("tck-complete-task"),
               "configuration": {"taskPushNotificationConfig": hook}}),
    )
    .await;
    let id = task_id(&sent);
    let got = call(
        &http,
        &server.url,
        Some("1.0"),
        "GetTask",
        json!({"id": id}),
    )
    .await;
    assert_eq!(task_id(&got), id);
    // A webhook set on its own, on a task waiting for input (the agent's echo).
    let waiting = call(
        &http,
        &server.url,
        Some("1.0"),
        "SendMessage",
        json!({"message": message("echo")}),
    )
    .await;
    let mut config = hook.clone();
    config["taskId"] = json!(task_id(&waiting));
    let created = call(
        &http,
        &server.url,
        Some("1.0"),
        "CreateTaskPushNotificationConfig",
        config,
    )
    .await;
    assert!(created["result"].is_object(), "{created}");
    let unknown = call(&http, &server.url, None, "no/such/method", json!({})).await;
    assert!(unknown["error"].is_object(), "{unknown}");

    let lines = logs.wait_for("for the unknown method", |l| {
        is_request_line(l) && l.contains(r#""method":"_other""#)
    });
    // The webhook (a closed port) was tried, so the delivery path logged too.
    let lines = if lines.iter().any(|l| l.contains("127.0.0.1:9")) {
        lines
    } else {
        logs.wait_for("about the webhook delivery", |l| l.contains("127.0.0.1:9"))
    };
    for line in &lines {
        let v: Value = serde_json::from_str(line)
            .unwrap_or_else(|e| panic!("a log line that is not one JSON object ({e}): {line}"));
        for key in ["time", "level", "target", "message", "fields"] {
            assert!(v.get(key).is_some(), "no `{key}` in {line}");
        }
        assert!(!line.contains('\u{1b}'), "an ANSI escape in {line}");
        for secret in SECRETS {
            assert!(!line.contains(secret), "{secret} in the log: {line}");
        }
    }
    let requests: Vec<Value> = lines
        .iter()
        .filter(|l| is_request_line(l))
        .map(|l| {
            let v = serde_json::from_str::<Value>(l).unwrap();
            assert_eq!(v["message"], "rpc call", "{l}");
            v["fields"].clone()
        })
        .collect();
    let find = |method: &str| {
        requests
            .iter()
            .find(|f| f["method"] == method)
            .unwrap_or_else(|| panic!("no request line for {method}: {requests:?}"))
    };
    let send = find("SendMessage");
    assert_eq!(send["version"], "1.0");
    assert_eq!(send["outcome"], "ok");
    assert_eq!(send["status"], 200);
    assert_eq!(send["task_id"], id.as_str());
    assert!(
        send["duration_ms"].as_f64().is_some_and(|d| d >= 0.0),
        "{send}"
    );
    assert_eq!(find("GetTask")["task_id"], id.as_str());
    let other = find("_other");
    assert_eq!(other["outcome"], "error");
    assert_eq!(other["error_code"], -32601);
}

#[test]
fn text_logs_through_a_pipe_have_no_ansi_escapes() {
    let (server, logs) = ServerProcess::start_logged(
        &["--store", "memory:"],
        &[("A2A_LOG_FORMAT", "text"), ("RUST_LOG", "info")],
    );
    let lines = logs.wait_for("`server started`", |l| l.contains("server started"));
    drop(server);
    for line in lines {
        assert!(!line.contains('\u{1b}'), "an ANSI escape in {line:?}");
        assert!(
            serde_json::from_str::<Value>(&line).is_err(),
            "a JSON line in text format: {line}"
        );
    }
}

/// The value of the sample `name{labels}` (labels as Prometheus renders them, sorted).
fn sample(metrics: &str, series: &str) -> Option<f64> {
    metrics.lines().find_map(|l| {
        let rest = l.strip_prefix(series)?;
        rest.strip_prefix(' ')?.trim().parse().ok()
    })
}

async fn scrape(http: &reqwest::Client, url: &str) -> String {
    http.get(format!("{url}/metrics"))
        .send()
        .await
        .expect("scrape")
        .text()
        .await
        .expect("metrics body")
}

#[tokio::test]
async fn metrics_count_known_traffic() {
    let server = ServerProcess::start(&["--store", "memory:"], &[]);
    let (http, url) = (reqwest::Client::new(), server.url.as_str());
    for _ in 0..2 {
        let sent = call(
            &http,
            url,
            Some("1.0"),
            "SendMessage",
            json!({"message": message("tck-complete-task")}),
        )
        .await;
        task_id(&sent);
    }
    // The conformance agent's "reject" ends the run with an error: a failed task.
    let v03 = json!({"message": {"kind": "message", "messageId": "tck-reject-task-1",
                                 "role": "user", "parts": [{"kind": "text", "text": "hi"}]}});
    call(&http, url, None, "message/send", v03).await;
    let missing = call(&http, url, Some("1.0"), "GetTask", json!({"id": "nope"})).await;
    assert!(missing["error"].is_object(), "{missing}");
    call(&http, url, None, "no/such/method", json!({})).await;
    // A stream read to its end.
    let streamed = call(
        &http,
        url,
        Some("1.0"),
        "SendStreamingMessage",
        json!({"message": message("tck-stream-001")}),
    )
    .await;
    assert!(streamed["result"].is_object(), "{streamed}");

    // The stream's body is dropped just after its last bytes: poll.
    let mut text = String::new();
    for _ in 0..100 {
        text = scrape(&http, url).await;
        // The runs end (and are timed) just after the commits that answered.
        if sample(&text, "a2a_sse_streams_open") == Some(0.0)
            && sample(&text, "a2a_agent_run_duration_seconds_count") == Some(4.0)
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let expect = |series: &str, value: f64| {
        assert_eq!(sample(&text, series), Some(value), "{series} in\n{text}");
    };
    expect(
        r#"a2a_requests_total{method="SendMessage",outcome="ok",version="1.0"}"#,
        2.0,
    );
    expect(
        r#"a2a_requests_total{method="message/send",outcome="ok",version="0.3"}"#,
        1.0,
    );
    expect(
        r#"a2a_requests_total{method="GetTask",outcome="error",version="1.0"}"#,
        1.0,
    );
    expect(
        r#"a2a_requests_total{method="_other",outcome="error",version="_other"}"#,
        1.0,
    );
    expect(
        r#"a2a_requests_total{method="SendStreamingMessage",outcome="ok",version="1.0"}"#,
        1.0,
    );
    expect(
        r#"a2a_request_duration_seconds_count{method="SendMessage"}"#,
        2.0,
    );
    expect(r#"a2a_tasks_total{state="created"}"#, 4.0);
    expect(r#"a2a_tasks_total{state="completed"}"#, 3.0);
    expect(r#"a2a_tasks_total{state="failed"}"#, 1.0);
    expect(r#"a2a_tasks_total{state="canceled"}"#, 0.0);
    expect("a2a_agent_run_duration_seconds_count", 4.0);
    expect("a2a_sse_streams_open", 0.0);
    // Only the scrape in flight is not a JSON-RPC call: nothing counts now.
    expect("a2a_requests_in_flight", 0.0);
    expect("a2a_rate_limited_total", 0.0);
    let version = env!("CARGO_PKG_VERSION");
    expect(&format!(r#"a2a_build_info{{version="{version}"}}"#), 1.0);
    assert!(
        text.contains(r#"a2a_store_operation_duration_seconds_count{op="create"}"#),
        "{text}"
    );
    assert!(text.contains("# TYPE a2a_request_duration_seconds histogram"));
    #[cfg(target_os = "linux")]
    for name in ["process_cpu_seconds_total", "process_resident_memory_bytes"] {
        assert!(
            text.lines().any(|l| l.starts_with(name)),
            "{name} missing (or prefixed) in\n{text}"
        );
    }
    // No task id became a label.
    assert!(
        !text.contains("tck-"),
        "a message or task id in a label:\n{text}"
    );
}

#[tokio::test]
async fn db_pool_connections_are_read_at_scrape_time() {
    let dir = tempfile::tempdir().unwrap();
    let store = format!("sqlite://{}", dir.path().join("a2a.db").display());
    let server = ServerProcess::start(&["--store", &store], &[]);
    let http = reqwest::Client::new();
    let sent = call(
        &http,
        &server.url,
        Some("1.0"),
        "SendMessage",
        json!({"message": message("tck-complete-task")}),
    )
    .await;
    task_id(&sent);
    let text = scrape(&http, &server.url).await;
    let in_use = sample(&text, r#"a2a_db_pool_connections{state="in_use"}"#);
    let idle = sample(&text, r#"a2a_db_pool_connections{state="idle"}"#);
    // Between requests nothing holds a connection; the pools keep at least one open.
    assert!(
        in_use.is_some() && idle.is_some_and(|n| n >= 1.0),
        "pool gauges in\n{text}"
    );
}

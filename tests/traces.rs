//! Traces of the real `a2a serve`, exported over OTLP/HTTP to a receiver in this test: one
//! trace from the caller's `traceparent` through the A2A call and the agent's run to the
//! webhook POST, span names, parents and attributes, the shutdown flush, the JSON log's
//! trace ids, and `OTEL_SDK_DISABLED`.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value::Value as AnyValue;
use opentelemetry_proto::tonic::trace::v1::Span;
use parking_lot::Mutex;
use prost::Message as _;
use serde_json::{Value, json};

mod support;
#[path = "support/webhook.rs"]
mod webhook;

use support::ServerProcess;
use webhook::Receiver;

/// The caller's trace and span (W3C `traceparent`, sampled).
const TRACE_ID: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const CALLER_SPAN: &str = "00f067aa0ba902b7";

/// One exported span with the `service.name` of its resource.
#[derive(Debug, Clone)]
struct Exported {
    service: String,
    span: Span,
}

/// An OTLP/HTTP trace receiver (`POST /v1/traces`, protobuf).
struct Collector {
    addr: SocketAddr,
    spans: Arc<Mutex<Vec<Exported>>>,
}

async fn export(State(spans): State<Arc<Mutex<Vec<Exported>>>>, body: Bytes) -> &'static str {
    let req = ExportTraceServiceRequest::decode(body).expect("an OTLP trace export");
    let mut spans = spans.lock();
    for rs in req.resource_spans {
        let service = rs
            .resource
            .iter()
            .flat_map(|r| &r.attributes)
            .find(|kv| kv.key == "service.name")
            .and_then(|kv| string(kv.value.as_ref()?.value.as_ref()?))
            .unwrap_or_default();
        for ss in rs.scope_spans {
            for span in ss.spans {
                spans.push(Exported {
                    service: service.clone(),
                    span,
                });
            }
        }
    }
    ""
}

fn string(v: &AnyValue) -> Option<String> {
    match v {
        AnyValue::StringValue(s) => Some(s.clone()),
        AnyValue::IntValue(i) => Some(i.to_string()),
        AnyValue::BoolValue(b) => Some(b.to_string()),
        _ => None,
    }
}

impl Collector {
    async fn start() -> Collector {
        let spans = Arc::new(Mutex::new(Vec::new()));
        let app = axum::Router::new()
            .route("/v1/traces", axum::routing::post(export))
            .with_state(spans.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        Collector { addr, spans }
    }

    fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn spans(&self) -> Vec<Exported> {
        self.spans.lock().clone()
    }

    /// Waits (up to 10 s) until a span named `name` arrived.
    async fn wait_for(&self, name: &str) -> Vec<Exported> {
        for _ in 0..200 {
            let spans = self.spans();
            if spans.iter().any(|s| s.span.name == name) {
                return spans;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let names: Vec<_> = self.spans().into_iter().map(|s| s.span.name).collect();
        panic!("no span `{name}` within 10 s; got {names:?}");
    }
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|b| format!("{b:02x}")).collect()
}

fn attr(span: &Span, key: &str) -> Option<String> {
    span.attributes
        .iter()
        .find(|kv| kv.key == key)
        .and_then(|kv| string(kv.value.as_ref()?.value.as_ref()?))
}

fn message(prefix: &str) -> Value {
    json!({
        "messageId": format!("{prefix}-{}", uuid::Uuid::new_v4()),
        "role": "ROLE_USER",
        "parts": [{"text": "hello"}],
    })
}

/// One JSON-RPC call with the caller's `traceparent`; the answer's body.
async fn call(url: &str, version: Option<&str>, method: &str, params: Value) -> String {
    let mut req = reqwest::Client::new()
        .post(format!("{url}/"))
        .header("traceparent", format!("00-{TRACE_ID}-{CALLER_SPAN}-01"))
        .json(&json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}));
    if let Some(v) = version {
        req = req.header("a2a-version", v);
    }
    req.send().await.unwrap().text().await.unwrap()
}

fn traced_server(collector: &Collector, extra: &[(&str, &str)]) -> (ServerProcess, support::Logs) {
    let endpoint = collector.endpoint();
    let mut envs = vec![
        ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint.as_str()),
        ("OTEL_BSP_SCHEDULE_DELAY", "100"),
        ("OTEL_SERVICE_NAME", "a2a-traces-test"),
        ("A2A_LOG_FORMAT", "json"),
        ("RUST_LOG", "debug"),
    ];
    envs.extend_from_slice(extra);
    ServerProcess::start_logged(
        &["--store", "memory:", "--push-allow-private-networks"],
        &envs,
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn one_trace_runs_from_the_callers_traceparent_to_the_webhook() {
    let collector = Collector::start().await;
    let hook = Receiver::start().await;
    let (mut server, logs) = traced_server(&collector, &[]);
    let sent = call(
        &server.url,
        Some("1.0"),
        "SendMessage",
        json!({"message": message("tck-complete-task"),
               "configuration": {"taskPushNotificationConfig": {"url": hook.url("/hook")}}}),
    )
    .await;
    let sent: Value = serde_json::from_str(&sent).unwrap();
    let task = &sent["result"]["task"];
    let task_id = task["id"].as_str().expect("a task").to_string();
    let context_id = task["contextId"].as_str().unwrap().to_string();
    // The webhook POST continues the same trace.
    let posts = hook.wait_for(1).await;
    let traceparent = posts[0]
        .header("traceparent")
        .expect("traceparent on the webhook");
    let parts: Vec<_> = traceparent.split('-').collect();
    assert_eq!(parts[1], TRACE_ID, "{traceparent}");

    // A 0.3 name and a failing call, for their names and error attributes.
    call(
        &server.url,
        None,
        "message/send",
        json!({"message": {"messageId": uuid::Uuid::new_v4().to_string(), "role": "user",
                           "kind": "message", "parts": [{"kind": "text", "text": "hi"}]}}),
    )
    .await;
    call(
        &server.url,
        Some("1.0"),
        "GetTask",
        json!({"id": "no-such-task"}),
    )
    .await;
    // A stream: its span lasts until the stream ends, with one event per item.
    call(
        &server.url,
        Some("1.0"),
        "SendStreamingMessage",
        json!({"message": message("tck-complete-task")}),
    )
    .await;

    // The request log line of the traced call carries its trace id.
    logs.wait_for("with the trace id", |l| {
        l.contains(r#""target":"a2a::request""#) && l.contains(TRACE_ID)
    });

    // SIGTERM flushes whatever is still queued.
    server.terminate();
    assert!(server.wait_exit(Duration::from_secs(20)).is_some());
    let spans = collector.wait_for("SendPushNotification").await;
    let ours: Vec<&Span> = spans
        .iter()
        .map(|e| &e.span)
        .filter(|s| hex(&s.trace_id) == TRACE_ID)
        .collect();
    assert!(spans.iter().all(|e| e.service == "a2a-traces-test"));
    let find = |pred: &dyn Fn(&Span) -> bool, what: &str| -> Span {
        ours.iter()
            .find(|s| pred(s))
            .map(|s| (*s).clone())
            .unwrap_or_else(|| {
                let names: Vec<_> = ours.iter().map(|s| &s.name).collect();
                panic!("no span {what} in the trace: {names:?}")
            })
    };

    let a2a = find(
        &|s| s.name == "SendMessage" && attr(s, "rpc.method").as_deref() == Some("SendMessage"),
        "SendMessage",
    );
    let http = find(
        &|s| s.span_id == a2a.parent_span_id,
        "parent of SendMessage",
    );
    assert_eq!(http.name, "POST /");
    assert_eq!(http.kind, 2, "the HTTP span is a SERVER span");
    assert_eq!(hex(&http.parent_span_id), CALLER_SPAN);
    assert_eq!(
        attr(&http, "http.response.status_code").as_deref(),
        Some("200")
    );
    assert_eq!(attr(&a2a, "rpc.system.name").as_deref(), Some("jsonrpc"));
    assert_eq!(
        attr(&a2a, "a2a.method.name").as_deref(),
        Some("SendMessage")
    );
    assert_eq!(attr(&a2a, "a2a.protocol.version").as_deref(), Some("1.0"));
    assert_eq!(attr(&a2a, "a2a.task.id"), Some(task_id.clone()));
    assert_eq!(
        attr(&a2a, "gen_ai.conversation.id"),
        Some(context_id.clone())
    );
    assert_eq!(attr(&a2a, "rpc.status_code"), None);

    let run = find(
        &|s| s.name == "invoke_agent" && s.parent_span_id == a2a.span_id,
        "invoke_agent under SendMessage",
    );
    assert_eq!(attr(&run, "a2a.task.id"), Some(task_id.clone()));
    find(
        &|s| s.name == "create" && s.parent_span_id == run.span_id,
        "create (the store write) under invoke_agent",
    );
    let push = find(
        &|s| s.name == "SendPushNotification" && s.parent_span_id == run.span_id,
        "SendPushNotification under invoke_agent",
    );
    assert_eq!(push.kind, 3, "the webhook POST is a CLIENT span");
    assert_eq!(
        parts[2],
        hex(&push.span_id),
        "the webhook's parent is its span"
    );
    assert_eq!(
        attr(&push, "http.response.status_code").as_deref(),
        Some("200")
    );

    let v03 = find(
        &|s| attr(s, "rpc.method").as_deref() == Some("message/send"),
        "for message/send",
    );
    assert_eq!(v03.name, "SendMessage");
    assert_eq!(attr(&v03, "a2a.protocol.version").as_deref(), Some("0.3"));

    let failed = find(&|s| s.name == "GetTask", "GetTask");
    assert_eq!(attr(&failed, "rpc.status_code").as_deref(), Some("-32001"));
    assert_eq!(attr(&failed, "error.type").as_deref(), Some("-32001"));

    let stream = find(
        &|s| s.name == "SendStreamingMessage",
        "SendStreamingMessage",
    );
    assert!(
        stream.events.len() >= 2,
        "one span event per streamed item: {:?}",
        stream.events
    );
    let stream_http = find(&|s| s.span_id == stream.parent_span_id, "the stream's POST");
    assert!(
        stream_http.end_time_unix_nano >= stream.end_time_unix_nano,
        "http {} {} stream {} {}",
        stream_http.start_time_unix_nano,
        stream_http.end_time_unix_nano,
        stream.start_time_unix_nano,
        stream.end_time_unix_nano
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn otel_sdk_disabled_sends_nothing() {
    let collector = Collector::start().await;
    let (mut server, _logs) = traced_server(&collector, &[("OTEL_SDK_DISABLED", "true")]);
    call(
        &server.url,
        Some("1.0"),
        "SendMessage",
        json!({"message": message("tck-complete-task")}),
    )
    .await;
    server.terminate();
    assert!(server.wait_exit(Duration::from_secs(20)).is_some());
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(collector.spans().is_empty(), "{:?}", collector.spans());
}

#[tokio::test(flavor = "multi_thread")]
async fn webhooks_get_no_traceparent_with_push_propagate_trace_off() {
    let collector = Collector::start().await;
    let hook = Receiver::start().await;
    let (server, _logs) = traced_server(&collector, &[("A2A_PUSH_PROPAGATE_TRACE", "false")]);
    call(
        &server.url,
        Some("1.0"),
        "SendMessage",
        json!({"message": message("tck-complete-task"),
               "configuration": {"taskPushNotificationConfig": {"url": hook.url("/hook")}}}),
    )
    .await;
    let posts = hook.wait_for(1).await;
    assert!(posts[0].header("traceparent").is_none());
    // The attempt is traced all the same, in the caller's trace.
    let spans = collector.wait_for("SendPushNotification").await;
    assert!(
        spans
            .iter()
            .any(|e| e.span.name == "SendPushNotification" && hex(&e.span.trace_id) == TRACE_ID)
    );
}

/// A traced send whose webhook fails at first, the server stopped and started again on
/// the same SQLite file, then the webhook up: the POST still carries the caller's trace,
/// stored with the outbox row rather than kept in the first process. `traced_after`: the
/// second process exports too (its attempt span is a child of the first one's run span),
/// or it does not (the stored `traceparent` goes out as it is).
async fn the_webhook_trace_survives_a_restart(traced_after: bool) {
    let collector = Collector::start().await;
    let hook = Receiver::start().await;
    hook.always_fail(true);
    let dir = tempfile::tempdir().unwrap();
    let store = format!("sqlite://{}", dir.path().join("a2a.db").display());
    let endpoint = collector.endpoint();
    let traced = [
        ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint.as_str()),
        ("OTEL_BSP_SCHEDULE_DELAY", "100"),
        ("OTEL_SERVICE_NAME", "a2a-traces-test"),
        ("A2A_PUSH_RETRY_BASE_MS", "100"),
        ("A2A_PUSH_RETRY_MAX_SECS", "1"),
    ];
    let args = ["--store", store.as_str(), "--push-allow-private-networks"];
    let mut first = ServerProcess::start(&args, &traced);
    call(
        &first.url,
        Some("1.0"),
        "SendMessage",
        json!({"message": message("tck-complete-task"),
               "configuration": {"taskPushNotificationConfig": {"url": hook.url("/hook")}}}),
    )
    .await;
    for _ in 0..200 {
        if hook.failed() > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(hook.failed() > 0, "the first process tried the webhook");
    // SIGTERM: the outbox rows stay; the first process's spans are flushed.
    first.terminate();
    assert!(first.wait_exit(Duration::from_secs(20)).is_some());
    let run = collector
        .wait_for("invoke_agent")
        .await
        .into_iter()
        .map(|e| e.span)
        .find(|s| s.name == "invoke_agent" && hex(&s.trace_id) == TRACE_ID)
        .expect("the first process's run span, in the caller's trace");

    let untraced = [
        ("A2A_PUSH_RETRY_BASE_MS", "100"),
        ("A2A_PUSH_RETRY_MAX_SECS", "1"),
    ];
    let env: &[(&str, &str)] = if traced_after { &traced } else { &untraced };
    let second = ServerProcess::start(&args, env);
    hook.always_fail(false);
    let posts = hook.wait_for(1).await;
    for p in &posts {
        let traceparent = p
            .header("traceparent")
            .expect("traceparent after a restart");
        let parts: Vec<_> = traceparent.split('-').collect();
        assert_eq!(parts.len(), 4, "{traceparent}");
        assert_eq!(parts[1], TRACE_ID, "{traceparent}");
        if !traced_after {
            // The stored one, as the first process's run wrote it.
            assert_eq!(parts[2], hex(&run.span_id), "{traceparent}");
        }
    }
    if traced_after {
        // The POST's parent is the second process's attempt span, a child of the run.
        let parent = posts[0]
            .header("traceparent")
            .unwrap()
            .split('-')
            .nth(2)
            .unwrap()
            .to_string();
        second.terminate();
        let mut attempt = None;
        for _ in 0..200 {
            attempt = collector
                .spans()
                .into_iter()
                .map(|e| e.span)
                .find(|s| hex(&s.span_id) == parent);
            if attempt.is_some() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let attempt = attempt.expect("the span the webhook POST names as its parent");
        assert_eq!(attempt.name, "SendPushNotification");
        assert_eq!(hex(&attempt.trace_id), TRACE_ID);
        assert_eq!(
            attempt.parent_span_id, run.span_id,
            "the attempt continues the first process's run"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_webhook_trace_survives_a_restart_into_a_traced_process() {
    the_webhook_trace_survives_a_restart(true).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_webhook_trace_survives_a_restart_into_an_untraced_process() {
    the_webhook_trace_survives_a_restart(false).await;
}

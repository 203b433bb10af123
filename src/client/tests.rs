//! Client tests: pure helpers and a fake agent for stream and error edge cases.

use super::*;
use crate::protocol::{TaskEvent, TaskStatus, TaskStatusUpdateEvent};

#[test]
fn endpoint_from_v1_interfaces_or_url() {
    let card = json!({
        "url": "http://h/v03",
        "supportedInterfaces": [
            {"url": "http://h/grpc", "protocolBinding": "GRPC", "protocolVersion": "1.0"},
            {"url": "http://h/rpc", "protocolBinding": "JSONRPC", "protocolVersion": "1.0"},
        ],
    });
    assert_eq!(
        jsonrpc_endpoint(&card, Version::V1, "http://h").as_deref(),
        Some("http://h/rpc")
    );
    assert_eq!(
        jsonrpc_endpoint(&card, Version::V03, "http://h").as_deref(),
        Some("http://h/v03")
    );
    let old = json!({"url": "/a2a"});
    assert_eq!(
        jsonrpc_endpoint(&old, Version::V1, "http://h:1/").as_deref(),
        Some("http://h:1/a2a")
    );
    assert_eq!(jsonrpc_endpoint(&json!({}), Version::V01, "http://h"), None);
}

#[test]
fn envelope_errors_and_ids() {
    let e = unwrap_envelope(
        r#"{"jsonrpc":"2.0","id":null,"error":{"code":-32001,"message":"nope","data":[1]}}"#,
        7,
    )
    .unwrap_err();
    assert!(matches!(
        &e,
        ClientError::JsonRpc {
            code: -32001,
            data: Some(_),
            ..
        }
    ));
    assert_eq!(e.to_string(), "error -32001: nope");
    let ok = unwrap_envelope(r#"{"jsonrpc":"2.0","id":7,"result":{"a": 1}}"#, 7).unwrap();
    assert_eq!(ok.get(), r#"{"a": 1}"#);
    assert!(unwrap_envelope(r#"{"jsonrpc":"2.0","id":7,"result":null}"#, 7).is_ok());
    assert!(matches!(
        unwrap_envelope(r#"{"jsonrpc":"2.0","id":8,"result":1}"#, 7),
        Err(ClientError::Decode { .. })
    ));
}

/// A throwaway HTTP server with canned JSON-RPC answers.
async fn fake_agent() -> String {
    use axum::Router;
    use axum::http::{HeaderMap, StatusCode, header};
    use axum::routing::post;

    fn sse(body: String) -> ([(header::HeaderName, &'static str); 1], String) {
        ([(header::CONTENT_TYPE, "text/event-stream")], body)
    }
    let working = r#"{"statusUpdate":{"taskId":"t","contextId":"c","status":{"state":"TASK_STATE_WORKING","timestamp":"2025-01-01T00:00:00Z"}}}"#;
    let app = Router::new()
        .route(
            "/cut",
            post(move || async move {
                sse(format!("id: 5\ndata: {{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{working}}}\n\n"))
            }),
        )
        .route(
            "/midstream-error",
            post(move || async move {
                sse(format!(
                    "data: {{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{working}}}\n\n\
                     data: {{\"jsonrpc\":\"2.0\",\"id\":1,\"error\":{{\"code\":-32603,\"message\":\"boom\"}}}}\n\n"
                ))
            }),
        )
        .route(
            "/headers",
            post(|h: HeaderMap| async move {
                let get = |n: &str| {
                    h.get(n).and_then(|v| v.to_str().ok()).unwrap_or("-").to_string()
                };
                let text = format!(
                    "{}|{}|{}",
                    get("a2a-version"),
                    get("last-event-id"),
                    get("idempotency-key")
                );
                sse(format!(
                    "data: {{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{{\"message\":{{\"messageId\":\"m\",\"role\":\"ROLE_AGENT\",\"parts\":[{{\"text\":\"{text}\"}}]}}}}}}\n\n"
                ))
            }),
        )
        .route("/500", post(|| async { (StatusCode::INTERNAL_SERVER_ERROR, "upstream exploded") }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}")
}

#[tokio::test]
async fn stream_cut_early_is_an_error_item() {
    let base = fake_agent().await;
    let c = A2aClient::new(format!("{base}/cut"), Version::V1);
    let items: Vec<_> = c.subscribe("t", None).collect().await;
    assert_eq!(items.len(), 2);
    assert_eq!(items[0].as_ref().unwrap().0, Some(5));
    assert!(matches!(
        items[1],
        Err(ClientError::StreamCut {
            last_state: Some(TaskState::Working),
            ..
        })
    ));

    let c = A2aClient::new(format!("{base}/midstream-error"), Version::V1);
    let items: Vec<_> = c.stream(&SendOptions::text("x")).collect().await;
    assert_eq!(items.len(), 2);
    assert_eq!(items[1].as_ref().unwrap_err().rpc_code(), Some(-32603));
}

#[tokio::test]
async fn headers_and_http_errors() {
    let base = fake_agent().await;
    let c = A2aClient::new(format!("{base}/headers"), Version::V1);
    let items: Vec<_> = c.subscribe("t", Some(7)).collect().await;
    let [Ok((None, StreamItem::Message(m)))] = &items[..] else {
        panic!("{items:?}")
    };
    assert_eq!(m.text(), "1.0|7|-", "a subscription is not a send");
    // Every send carries a key: a fresh one, or the caller's.
    let keyed = |key: Option<&str>| SendOptions {
        idempotency_key: key.map(str::to_string),
        ..SendOptions::text("x")
    };
    // A client per call: the fake agent always answers id 1.
    let client = || A2aClient::new(format!("{base}/headers"), Version::V1);
    let streamed = |key: Option<&'static str>| {
        let c = client();
        async move {
            match c.stream(&keyed(key)).collect::<Vec<_>>().await.remove(0) {
                Ok((_, StreamItem::Message(m))) => m.text(),
                other => panic!("{other:?}"),
            }
        }
    };
    let keys = [streamed(None).await, streamed(None).await];
    let fresh = |t: &str| t.rsplit('|').next().unwrap().to_string();
    assert_eq!(fresh(&keys[0]).len(), 36, "{keys:?}");
    assert_ne!(fresh(&keys[0]), fresh(&keys[1]), "a fresh key per send");
    assert_eq!(streamed(Some("mine")).await, "1.0|-|mine");
    let c = A2aClient::new(format!("{base}/headers"), Version::V03);
    let items: Vec<_> = c.subscribe("t", None).collect().await;
    // 0.3 sends no version header, and this 1.0-shaped answer does not decode as 0.3.
    assert!(
        matches!(items[..], [Err(ClientError::Decode { .. })]),
        "{items:?}"
    );

    let c = A2aClient::new(format!("{base}/500"), Version::V1);
    let err = c.get("t", None).await.unwrap_err();
    assert!(
        matches!(&err, ClientError::Http { status: 500, body, .. } if body == "upstream exploded"),
        "{err:?}"
    );
    let err = A2aClient::new("http://127.0.0.1:1/", Version::V1)
        .cancel("t")
        .await
        .unwrap_err();
    assert!(matches!(err, ClientError::Transport { .. }), "{err:?}");
}

fn status(state: TaskState) -> DecodedItem {
    DecodedItem {
        item: StreamItem::event(
            0,
            TaskEvent::StatusUpdate(TaskStatusUpdateEvent {
                task_id: "t".into(),
                context_id: "c".into(),
                status: TaskStatus::new(state, None),
                metadata: None,
            }),
        ),
        final_flag: false,
    }
}

#[test]
fn finality_tracks_terminal_and_interrupted_states() {
    let mut f = Finality::default();
    f.observe(&status(TaskState::Working));
    assert!(!f.done);
    assert!(matches!(
        f.cut(None),
        ClientError::StreamCut {
            last_state: Some(TaskState::Working),
            ..
        }
    ));
    f.observe(&status(TaskState::InputRequired));
    assert!(f.done);
    let mut f = Finality::default();
    f.observe(&status(TaskState::Completed));
    assert!(f.done);
    // A closing snapshot of an interrupted task does not reopen the cycle; a resume does.
    let mut f = Finality::default();
    f.observe(&status(TaskState::InputRequired));
    let snapshot = |state| DecodedItem {
        item: StreamItem::event(
            0,
            TaskEvent::Task(Task {
                id: "t".into(),
                context_id: "c".into(),
                status: TaskStatus::new(state, None),
                artifacts: Vec::new(),
                history: Vec::new(),
                metadata: None,
            }),
        ),
        final_flag: false,
    };
    f.observe(&snapshot(TaskState::InputRequired));
    assert!(f.done);
    f.observe(&status(TaskState::Working));
    assert!(!f.done);
    let mut f = Finality::default();
    f.observe(&snapshot(TaskState::InputRequired));
    assert!(!f.done);
}

#[test]
fn calls_carry_the_callers_traceparent_only_inside_a_traced_span() {
    use opentelemetry::trace::TracerProvider as _;
    use tracing_subscriber::layer::SubscriberExt;
    let provider = opentelemetry_sdk::trace::SdkTracerProvider::builder().build();
    let subscriber = tracing_subscriber::registry()
        .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("test")));
    let http = reqwest::Client::new();
    let call = RpcCall {
        method: "SendMessage",
        params: json!({}),
    };
    let build = || {
        request(&http, "http://h/", Version::V1, 1, &call, false)
            .build()
            .unwrap()
    };
    tracing::subscriber::with_default(subscriber, || {
        assert!(build().headers().get("traceparent").is_none());
        let span = tracing::info_span!("caller");
        let _in = span.enter();
        let req = build();
        let tp = req.headers()["traceparent"].to_str().unwrap();
        assert!(tp.starts_with("00-") && tp.ends_with("-01"), "{tp}");
    });
}

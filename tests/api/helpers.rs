//! Test harness: a real server on a random port, and small JSON-RPC / SSE helpers.

use std::time::Duration;

use a2a_server::config::{Config, Overrides};
use a2a_server::service::TaskService;
use a2a_server::startup::Application;
use futures::StreamExt;
use serde_json::{Value, json};

/// A running server and a client for it.
pub struct TestApp {
    pub url: String,
    pub http: reqwest::Client,
    pub service: TaskService,
    _shutdown: tokio::sync::oneshot::Sender<()>,
}

/// Starts the server with the conformance agent on a free port.
pub async fn spawn_app() -> TestApp {
    spawn_with(|_| {}).await
}

/// Starts the server after `tweak` adjusts the configuration.
pub async fn spawn_with(tweak: impl FnOnce(&mut Config)) -> TestApp {
    let mut config = Config::load(
        None,
        Overrides {
            listen: Some("127.0.0.1:0".parse().unwrap()),
            agent: Some("conformance".into()),
            store: Some("memory:".into()),
            ..Default::default()
        },
    )
    .expect("default config loads");
    tweak(&mut config);
    let app = Application::build(config).await.expect("server builds");
    let url = format!("http://{}", app.addr());
    let service = app.service().clone();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(app.run_until(async move {
        let _ = rx.await;
    }));
    TestApp {
        url,
        http: reqwest::Client::new(),
        service,
        _shutdown: tx,
    }
}

/// A2A version a call is made with: the header it sends, if any.
#[derive(Clone, Copy, Debug)]
pub enum V {
    V1,
    /// No header: 0.3 or 0.1 by method name.
    Legacy,
}

impl TestApp {
    /// POSTs a raw body and returns status and parsed JSON.
    pub async fn post_raw(
        &self,
        body: impl Into<reqwest::Body>,
        content_type: &str,
    ) -> (u16, Value) {
        let resp = self
            .http
            .post(format!("{}/", self.url))
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .expect("request sent");
        let status = resp.status().as_u16();
        let text = resp.text().await.expect("body read");
        (
            status,
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("non-JSON body {text:?}: {e}")),
        )
    }

    fn request(&self, v: V, method: &str, params: &Value, id: &Value) -> reqwest::RequestBuilder {
        let body = json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params});
        let mut rb = self.http.post(format!("{}/", self.url)).json(&body);
        if let V::V1 = v {
            rb = rb.header("A2A-Version", "1.0");
        }
        rb
    }

    /// A unary call; returns the whole JSON-RPC response.
    pub async fn call(&self, v: V, method: &str, params: Value) -> Value {
        let resp = self
            .unary_request(v, method, params)
            .send()
            .await
            .expect("sent");
        assert_eq!(resp.status(), 200, "{method}");
        let ct = resp.headers()["content-type"].to_str().unwrap().to_string();
        assert!(
            ct.starts_with("application/json"),
            "{method}: content-type {ct}"
        );
        resp.json().await.expect("JSON response")
    }

    /// A unary call that must succeed; returns `result`.
    pub async fn ok(&self, v: V, method: &str, params: Value) -> Value {
        let r = self.call(v, method, params).await;
        assert!(r.get("error").is_none(), "{method} failed: {r}");
        r["result"].clone()
    }

    /// A unary call that must fail with `code`; returns the error object.
    pub async fn err(&self, v: V, method: &str, params: Value, code: i64) -> Value {
        let r = self.call(v, method, params).await;
        assert_eq!(r["error"]["code"], code, "{method}: {r}");
        assert!(r.get("result").is_none());
        r["error"].clone()
    }

    /// A streaming call read to its end: `(sse id, JSON-RPC response)` per event.
    pub async fn stream(&self, v: V, method: &str, params: Value) -> Vec<(Option<u64>, Value)> {
        self.stream_with(
            self.request(v, method, &params, &json!("stream-1")),
            usize::MAX,
        )
        .await
    }

    /// Reads at most `max` events of a streaming response.
    pub async fn stream_with(
        &self,
        rb: reqwest::RequestBuilder,
        max: usize,
    ) -> Vec<(Option<u64>, Value)> {
        let resp = rb.send().await.expect("sent");
        assert_eq!(resp.status(), 200);
        let ct = resp.headers()["content-type"].to_str().unwrap().to_string();
        assert!(ct.starts_with("text/event-stream"), "content-type {ct}");
        let mut events = eventsource_stream::EventStream::new(resp.bytes_stream());
        let mut out = Vec::new();
        while out.len() < max {
            let next = tokio::time::timeout(Duration::from_secs(20), events.next())
                .await
                .expect("stream stalled");
            let Some(e) = next else { break };
            let e = e.expect("valid SSE");
            let id = (!e.id.is_empty()).then(|| e.id.parse().expect("numeric id"));
            out.push((id, serde_json::from_str(&e.data).expect("JSON data")));
        }
        out
    }

    /// A unary request builder, for tests that set their own client options (a timeout).
    pub fn unary_request(&self, v: V, method: &str, params: Value) -> reqwest::RequestBuilder {
        self.request(v, method, &params, &json!(1))
    }

    /// A streaming request builder, for tests that read part of a stream.
    pub fn stream_request(&self, v: V, method: &str, params: Value) -> reqwest::RequestBuilder {
        self.request(v, method, &params, &json!("stream-1"))
    }
}

/// A 1.0 user message with the given messageId prefix.
pub fn msg_v1(prefix: &str) -> Value {
    json!({
        "messageId": format!("{prefix}-{}", uuid::Uuid::new_v4()),
        "role": "ROLE_USER",
        "parts": [{"text": "hello"}],
    })
}

/// A 0.3 user message with the given messageId prefix.
pub fn msg_v03(prefix: &str) -> Value {
    json!({
        "kind": "message",
        "messageId": format!("{prefix}-{}", uuid::Uuid::new_v4()),
        "role": "user",
        "parts": [{"kind": "text", "text": "hello"}],
    })
}

/// Waits until `f` holds, polling; panics after 10 s.
pub async fn eventually<F, Fut>(mut f: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    for _ in 0..200 {
        if f().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("condition not reached within 10 s");
}

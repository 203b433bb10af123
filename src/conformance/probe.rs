//! Raw JSON-RPC and SSE calls for the checks, and what the runner learns about the
//! server before the checks start (card, capabilities, spoken versions).
//!
//! Checks judge the wire, so nothing here decodes into the internal model: every answer
//! stays a `serde_json::Value` plus the HTTP status and headers.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use eventsource_stream::Eventsource;
use futures::StreamExt;
use reqwest::header::HeaderMap;
use serde::Serialize;
use serde_json::{Value, json};

use super::hooks::Hooks;
use super::{Checked, Miss, Ver, fail, show};

/// The header 1.0 requests carry.
pub const VERSION_HEADER: &str = "A2A-Version";

/// Which protocol families the server answers; `Err` holds why not.
#[derive(Debug, Clone, Serialize)]
pub struct Speaks {
    pub v1: Result<(), String>,
    pub v03: Result<(), String>,
    pub v01: Result<(), String>,
}

impl Speaks {
    /// Why checks of `ver` are skipped, or `None` when they run.
    pub fn gate(&self, ver: Ver) -> Option<String> {
        let r = match ver {
            Ver::V1 => &self.v1,
            Ver::V03 => &self.v03,
            Ver::V01 => &self.v01,
            Ver::All => return None,
        };
        r.as_ref().err().cloned()
    }
}

/// The optional features the card declares.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Caps {
    pub streaming: bool,
    pub push_notifications: bool,
    pub extended_agent_card: bool,
}

/// Everything a check needs: the HTTP client, the endpoints, the card.
pub struct Ctx {
    pub http: reqwest::Client,
    /// The base URL given on the command line, without a trailing slash.
    pub base: String,
    /// JSON-RPC URL for 1.0 calls.
    pub endpoint_v1: String,
    /// JSON-RPC URL for 0.3 and 0.1 calls.
    pub endpoint_v0: String,
    /// The card at `/.well-known/agent-card.json`, or why it could not be read.
    pub card: Result<Value, String>,
    pub caps: Caps,
    pub speaks: Speaks,
    pub hooks: Arc<Hooks>,
    next_id: AtomicU64,
}

/// One non-streaming HTTP answer.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: HeaderMap,
    pub text: String,
    /// The body as JSON, when it is JSON.
    pub json: Option<Value>,
}

impl Reply {
    /// The JSON-RPC `error.code`, if the body is an error response.
    pub fn error_code(&self) -> Option<i64> {
        self.json.as_ref()?.get("error")?.get("code")?.as_i64()
    }

    /// A short description for failure messages.
    pub fn describe(&self) -> String {
        match &self.json {
            Some(v) => format!("HTTP {} {}", self.status, show(v)),
            None => format!(
                "HTTP {} non-JSON body {:?}",
                self.status,
                excerpt(&self.text)
            ),
        }
    }

    /// The `result`, or a failure naming what came instead.
    pub fn result(&self) -> Result<&Value, Miss> {
        match self.json.as_ref().and_then(|v| v.get("result")) {
            Some(r) if self.error_code().is_none() => Ok(r),
            _ => Err(fail(format!("expected a result, got {}", self.describe()))),
        }
    }

    /// Passes when the answer is an error with one of `codes`.
    pub fn expect_error(&self, codes: &[i64], what: &str) -> Checked {
        match self.error_code() {
            Some(c) if codes.contains(&c) => Ok(()),
            _ => Err(fail(format!(
                "{what}: expected error {}, got {}",
                codes
                    .iter()
                    .map(i64::to_string)
                    .collect::<Vec<_>>()
                    .join(" or "),
                self.describe()
            ))),
        }
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// One streaming answer read to its end (or to the time limit).
#[derive(Debug, Default)]
pub struct Streamed {
    pub status: u16,
    pub content_type: String,
    /// Each SSE `data:` payload parsed as JSON (`Value::String` when it was not JSON).
    pub events: Vec<Value>,
    /// Set when the answer was not an event stream: the plain body.
    pub body: Option<Reply>,
    /// Whether the server closed the stream (rather than the time limit ending it).
    pub closed: bool,
}

impl Streamed {
    /// The JSON-RPC `result` of every event; fails on an event that has none.
    pub fn results(&self) -> Result<Vec<&Value>, Miss> {
        self.events
            .iter()
            .map(|e| {
                e.get("result")
                    .ok_or_else(|| fail(format!("stream event without result: {}", show(e))))
            })
            .collect()
    }

    /// Fails unless this was a 200 `text/event-stream` answer the server closed.
    pub fn expect_stream(&self) -> Checked {
        if let Some(body) = &self.body {
            return Err(fail(format!(
                "expected an event stream, got {}",
                body.describe()
            )));
        }
        crate::ensure!(self.status == 200, "stream answered HTTP {}", self.status);
        crate::ensure!(
            self.closed,
            "the server did not close the stream within the time limit ({} events)",
            self.events.len()
        );
        Ok(())
    }
}

pub fn excerpt(s: &str) -> String {
    s.chars().take(200).collect()
}

/// A fresh id with `prefix`, as the conformance agent reads message ids.
pub fn mid(prefix: &str) -> String {
    format!("{prefix}-{}", uuid::Uuid::new_v4())
}

/// A 1.0 user message (ProtoJSON) whose id starts with `prefix`.
pub fn msg_v1(prefix: &str) -> Value {
    json!({"messageId": mid(prefix), "role": "ROLE_USER", "parts": [{"text": "hello"}]})
}

/// A 0.3 user message whose id starts with `prefix`.
pub fn msg_v03(prefix: &str) -> Value {
    json!({"kind": "message", "messageId": mid(prefix), "role": "user",
           "parts": [{"kind": "text", "text": "hello"}]})
}

/// A 0.1 user message (0.1 messages have no id; extra fields are ignored by 0.1 servers,
/// and servers that read `messageId` anyway pick the behaviour from it).
pub fn msg_v01(prefix: &str) -> Value {
    json!({"role": "user", "messageId": mid(prefix), "parts": [{"type": "text", "text": "hello"}]})
}

impl Ctx {
    /// Reads the card and probes which versions the server answers.
    pub async fn connect(url: &str) -> anyhow::Result<Ctx> {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(60))
            .user_agent(concat!("a2a-conformance/", env!("CARGO_PKG_VERSION")))
            .build()?;
        let base = url.trim_end_matches('/').to_string();
        let card = read_card(&http, &format!("{base}/.well-known/agent-card.json")).await;
        let fallback = format!("{base}/");
        let (endpoint_v1, endpoint_v0, caps) = match &card {
            Ok(c) => {
                let v1 = crate::client::jsonrpc_endpoint(c, crate::protocol::Version::V1, &base);
                let v0 = crate::client::jsonrpc_endpoint(c, crate::protocol::Version::V03, &base);
                (
                    v1.unwrap_or_else(|| fallback.clone()),
                    v0.unwrap_or_else(|| fallback.clone()),
                    caps_of(c),
                )
            }
            Err(_) => (fallback.clone(), fallback, Caps::default()),
        };
        let hooks = super::hooks::start().await?;
        let mut ctx = Ctx {
            http,
            base,
            endpoint_v1,
            endpoint_v0,
            card,
            caps,
            speaks: Speaks {
                v1: Ok(()),
                v03: Ok(()),
                v01: Ok(()),
            },
            hooks,
            next_id: AtomicU64::new(1),
        };
        ctx.speaks = Speaks {
            v1: ctx.probe(Ver::V1, "SendMessage").await,
            v03: ctx.probe(Ver::V03, "message/send").await,
            v01: ctx.probe(Ver::V01, "tasks/send").await,
        };
        Ok(ctx)
    }

    /// Whether `method` exists: a call with empty params must not say "method not
    /// found" or "version not supported".
    async fn probe(&self, ver: Ver, method: &str) -> Result<(), String> {
        let reply = self
            .rpc(ver, method, json!({}))
            .await
            .map_err(|m| match m {
                Miss::Fail(s) | Miss::Skip(s) => s,
            })?;
        match reply.error_code() {
            Some(c @ (-32601 | -32009)) => Err(format!(
                "the server does not speak {} (`{method}` answered {c})",
                ver.as_str()
            )),
            _ if reply.json.is_none() => Err(format!(
                "the server does not speak {} (`{method}`: {})",
                ver.as_str(),
                reply.describe()
            )),
            _ => Ok(()),
        }
    }

    pub fn endpoint(&self, ver: Ver) -> &str {
        match ver {
            Ver::V1 => &self.endpoint_v1,
            _ => &self.endpoint_v0,
        }
    }

    /// The card, or a failure saying why there is none.
    pub fn card(&self) -> Result<&Value, Miss> {
        self.card
            .as_ref()
            .map_err(|e| fail(format!("no agent card: {e}")))
    }

    pub fn fresh_id(&self) -> u64 {
        self.next_id.fetch_add(1, Ordering::Relaxed)
    }

    /// A request body for `method` with a fresh numeric id.
    pub fn body(&self, method: &str, params: Value) -> Value {
        json!({"jsonrpc": "2.0", "id": self.fresh_id(), "method": method, "params": params})
    }

    /// Posts a JSON-RPC call the way a client of `ver` does.
    pub async fn rpc(&self, ver: Ver, method: &str, params: Value) -> Result<Reply, Miss> {
        let body = self.body(method, params);
        self.post_json(ver, &body, &[]).await
    }

    /// Posts `body` as JSON with the version header of `ver` and `extra` headers.
    pub async fn post_json(
        &self,
        ver: Ver,
        body: &Value,
        extra: &[(&str, &str)],
    ) -> Result<Reply, Miss> {
        let mut headers = vec![("content-type", "application/json")];
        if ver == Ver::V1 {
            headers.push((VERSION_HEADER, "1.0"));
        }
        headers.extend_from_slice(extra);
        self.post_raw(self.endpoint(ver), body.to_string().into_bytes(), &headers)
            .await
    }

    /// Posts raw bytes with exactly `headers`.
    pub async fn post_raw(
        &self,
        url: &str,
        body: Vec<u8>,
        headers: &[(&str, &str)],
    ) -> Result<Reply, Miss> {
        let mut req = self.http.post(url).body(body);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let resp = req
            .send()
            .await
            .map_err(|e| fail(format!("POST {url}: {e}")))?;
        read_reply(resp).await
    }

    /// A GET with `headers`.
    pub async fn get(&self, url: &str, headers: &[(&str, &str)]) -> Result<Reply, Miss> {
        let mut req = self.http.get(url);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let resp = req
            .send()
            .await
            .map_err(|e| fail(format!("GET {url}: {e}")))?;
        read_reply(resp).await
    }

    /// Sends a streaming call and reads events until the server closes the stream or
    /// `limit` passes, or `max_events` arrived (then the stream is dropped).
    pub async fn stream(
        &self,
        ver: Ver,
        method: &str,
        params: Value,
        limit: Duration,
        max_events: usize,
    ) -> Result<(u64, Streamed), Miss> {
        let id = self.fresh_id();
        let body = json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params});
        let mut req = self
            .http
            .post(self.endpoint(ver))
            .header("content-type", "application/json")
            .header("accept", "text/event-stream")
            .timeout(limit + Duration::from_secs(5))
            .body(body.to_string());
        if ver == Ver::V1 {
            req = req.header(VERSION_HEADER, "1.0");
        }
        let resp = req
            .send()
            .await
            .map_err(|e| fail(format!("{method}: {e}")))?;
        let mut out = Streamed {
            status: resp.status().as_u16(),
            content_type: header_str(resp.headers(), "content-type"),
            ..Streamed::default()
        };
        if !out.content_type.starts_with("text/event-stream") {
            out.body = Some(read_reply(resp).await?);
            return Ok((id, out));
        }
        let mut events = resp.bytes_stream().eventsource();
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            if out.events.len() >= max_events {
                return Ok((id, out));
            }
            match tokio::time::timeout_at(deadline, events.next()).await {
                Err(_) => return Ok((id, out)),
                Ok(None) => {
                    out.closed = true;
                    return Ok((id, out));
                }
                Ok(Some(Err(e))) => {
                    return Err(fail(format!(
                        "{method}: stream broke after {} events: {e}",
                        out.events.len()
                    )));
                }
                Ok(Some(Ok(ev))) => {
                    let v = serde_json::from_str(&ev.data).unwrap_or(Value::String(ev.data));
                    out.events.push(v);
                }
            }
        }
    }
}

fn header_str(h: &HeaderMap, name: &str) -> String {
    h.get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_ascii_lowercase()
}

async fn read_reply(resp: reqwest::Response) -> Result<Reply, Miss> {
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let text = resp
        .text()
        .await
        .map_err(|e| fail(format!("reading the body: {e}")))?;
    let json = serde_json::from_str(&text).ok();
    Ok(Reply {
        status,
        headers,
        text,
        json,
    })
}

async fn read_card(http: &reqwest::Client, url: &str) -> Result<Value, String> {
    let resp = http
        .get(url)
        .send()
        .await
        .map_err(|e| format!("GET {url}: {e}"))?;
    let status = resp.status();
    let text = resp.text().await.map_err(|e| format!("GET {url}: {e}"))?;
    if !status.is_success() {
        return Err(format!("GET {url}: HTTP {status}"));
    }
    match serde_json::from_str::<Value>(&text) {
        Ok(v) if v.is_object() => Ok(v),
        Ok(_) => Err(format!("GET {url}: the card is not a JSON object")),
        Err(e) => Err(format!("GET {url}: not JSON: {e}")),
    }
}

/// Capabilities from a 1.0 card (`capabilities.*`), with the 0.3 extended-card flag.
fn caps_of(card: &Value) -> Caps {
    let c = &card["capabilities"];
    Caps {
        streaming: c["streaming"].as_bool() == Some(true),
        push_notifications: c["pushNotifications"].as_bool() == Some(true),
        extended_agent_card: c["extendedAgentCard"].as_bool() == Some(true)
            || card["supportsAuthenticatedExtendedCard"].as_bool() == Some(true),
    }
}

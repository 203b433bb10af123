//! An A2A client over JSON-RPC + SSE that speaks 1.0, 0.3 or the legacy 0.1 methods and
//! decodes every answer into the internal model with the codecs.
//!
//! ```no_run
//! # async fn demo() -> Result<(), a2a_server::client::ClientError> {
//! use a2a_server::client::{A2aClient, SendOptions};
//! use a2a_server::protocol::Version;
//!
//! let (client, _card) = A2aClient::discover("http://127.0.0.1:8000", Version::V1).await?;
//! let result = client.send(&SendOptions::text("hello")).await?;
//! # let _ = result; Ok(()) }
//! ```

mod card;
mod error;
mod grpc;
mod push;
mod rpc;
#[cfg(test)]
mod tests;
mod tls;
mod transport;
mod wire;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use eventsource_stream::Eventsource;
use futures::{Stream, StreamExt};
use serde_json::value::RawValue;
use serde_json::{Value, json};

pub use crate::codec::v1::ListTasksResponse;
use crate::protocol::{Metadata, Part, SendResult, StreamItem, Task, TaskState, Version};
pub use card::{fetch_card_with, interface_endpoint, jsonrpc_endpoint, preferred_transport};
pub use error::ClientError;
use error::excerpt;
use rpc::{Finality, unwrap_envelope};
pub use tls::TlsOptions;
pub use transport::Transport;
pub use wire::{DecodedItem, RpcCall};

/// The header a 1.0 client sends on every request.
pub const VERSION_HEADER: &str = "A2A-Version";

/// What to send. Build with [`SendOptions::text`] and struct update syntax.
#[derive(Debug, Clone, Default)]
pub struct SendOptions {
    pub parts: Vec<Part>,
    /// Continue this task (0.1: the client-chosen task id; fresh when `None`).
    pub task_id: Option<String>,
    /// Continue this context (0.1: the `sessionId`; fresh when `None`).
    pub context_id: Option<String>,
    /// The message id; a fresh UUID when `None` (0.1 messages have no id).
    pub message_id: Option<String>,
    /// Answer right after the task is created (1.0 `returnImmediately`, 0.3
    /// `blocking: false`); ignored by streams and by 0.1, which is always blocking.
    pub no_wait: bool,
    pub history_length: Option<u32>,
    pub accepted_output_modes: Vec<String>,
    /// Request-level metadata.
    pub metadata: Option<Metadata>,
    /// Message-level metadata.
    pub message_metadata: Option<Metadata>,
    /// The send's `Idempotency-Key`: a fresh UUID when `None`. The client resends with the
    /// same key when a send fails in transit; to retry a send yourself, set it and
    /// `message_id` (0.1: `task_id` and `context_id`), so the retry is the same request.
    pub idempotency_key: Option<String>,
}

/// The header that marks retries of one send.
pub const IDEMPOTENCY_HEADER: &str = crate::protocol::idempotency::HEADER;

/// Attempts of a send that fails in transit (the key makes resending safe).
const SEND_ATTEMPTS: u32 = 3;

/// The first pause before a resend; doubled for the next.
const RESEND_PAUSE: Duration = Duration::from_millis(200);

impl SendOptions {
    /// A message with one text part.
    pub fn text(text: impl Into<String>) -> Self {
        Self {
            parts: vec![Part::text(text)],
            ..Self::default()
        }
    }
}

/// Filters and paging of `ListTasks` (1.0 only).
#[derive(Debug, Clone, Default)]
pub struct ListOptions {
    pub context_id: Option<String>,
    pub status: Option<TaskState>,
    pub page_size: Option<u32>,
    pub page_token: Option<String>,
    pub history_length: Option<u32>,
    /// RFC 3339 timestamp.
    pub status_timestamp_after: Option<String>,
    pub include_artifacts: bool,
}

/// One item of an event stream: the SSE `id:` (the server's event sequence, used for
/// `Last-Event-ID`), the JSON-RPC `result` exactly as received, and its decoded form.
#[derive(Debug, Clone)]
pub struct StreamEvent {
    pub id: Option<u64>,
    pub raw: Box<RawValue>,
    pub item: StreamItem,
}

/// A client bound to one JSON-RPC endpoint and one protocol version. Cheap to clone.
#[derive(Debug, Clone)]
pub struct A2aClient {
    http: reqwest::Client,
    /// The JSON-RPC URL, or (REST) the base the routes are appended to.
    endpoint: String,
    version: Version,
    transport: Transport,
    next_id: Arc<AtomicU64>,
    /// The gRPC channel ([`Transport::Grpc`]); `None` if the endpoint is no `host:port`.
    grpc: Option<grpc::GrpcLink>,
    /// Sent as metadata on every gRPC call (reqwest's default headers cannot be read back).
    metadata: http::HeaderMap,
}

fn default_http() -> reqwest::Client {
    http_client(http::HeaderMap::new())
}

/// The client's HTTP settings, sending `headers` (credentials, say) with every request.
pub fn http_client(headers: http::HeaderMap) -> reqwest::Client {
    reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(10))
        .user_agent(concat!("a2a-server-client/", env!("CARGO_PKG_VERSION")))
        .default_headers(headers)
        .build()
        .expect("the default HTTP client builds")
}

impl A2aClient {
    /// A client that posts to `endpoint` (the JSON-RPC URL, not the base URL).
    pub fn new(endpoint: impl Into<String>, version: Version) -> Self {
        Self::with_http(default_http(), endpoint, version)
    }

    /// Like [`A2aClient::new`] with a caller-configured reqwest client.
    pub fn with_http(http: reqwest::Client, endpoint: impl Into<String>, version: Version) -> Self {
        Self {
            http,
            endpoint: endpoint.into(),
            version,
            transport: Transport::JsonRpc,
            next_id: Arc::new(AtomicU64::new(1)),
            grpc: None,
            metadata: http::HeaderMap::new(),
        }
    }

    /// This client over `transport` (`endpoint` is then that transport's URL: the REST
    /// base for [`Transport::Rest`], the bare `host:port` for [`Transport::Grpc`], which
    /// connects on first use, over h2c). REST and gRPC speak A2A 1.0 only.
    pub fn with_transport(mut self, transport: Transport) -> Self {
        self.transport = transport;
        self.grpc = (transport == Transport::Grpc)
            .then(|| grpc::GrpcLink::new(&self.endpoint))
            .flatten();
        self
    }

    /// Headers every gRPC call carries as metadata: the credentials (over HTTP they come
    /// from the reqwest client's default headers).
    pub fn with_metadata(mut self, headers: http::HeaderMap) -> Self {
        self.metadata = headers;
        self
    }

    /// The gRPC link, once this client is over gRPC.
    fn grpc_link(&self) -> Result<&grpc::GrpcLink, ClientError> {
        if self.version != Version::V1 {
            return Err(ClientError::Unsupported(format!(
                "the gRPC transport speaks A2A 1.0 only, not {} (use --protocol 1.0)",
                self.version.as_str()
            )));
        }
        self.grpc.as_ref().ok_or_else(|| {
            ClientError::InvalidUrl(format!("{} (gRPC wants host:port)", self.endpoint))
        })
    }

    pub fn transport(&self) -> Transport {
        self.transport
    }

    /// Fetches the agent card at `base_url` and builds a client for its JSON-RPC endpoint.
    pub async fn discover(base_url: &str, version: Version) -> Result<(Self, Value), ClientError> {
        Self::discover_with(default_http(), base_url, version).await
    }

    /// [`A2aClient::discover`] over a caller-configured reqwest client (TLS trust,
    /// client certificate: see [`TlsOptions`]).
    pub async fn discover_with(
        http: reqwest::Client,
        base_url: &str,
        version: Version,
    ) -> Result<(Self, Value), ClientError> {
        let card = fetch_card_with(&http, base_url).await?;
        let endpoint =
            jsonrpc_endpoint(&card, version, base_url).ok_or_else(|| ClientError::Decode {
                what: "agent card".into(),
                detail: format!("no JSON-RPC endpoint for A2A {}", version.as_str()),
            })?;
        Ok((Self::with_http(http, endpoint, version), card))
    }

    /// Fetches the agent card at `base_url` (see [`fetch_card_with`]).
    pub async fn fetch_card(base_url: &str) -> Result<Value, ClientError> {
        fetch_card_with(&default_http(), base_url).await
    }

    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    pub fn version(&self) -> Version {
        self.version
    }

    fn fresh_id(&self) -> u64 {
        self.next_id.fetch_add(1, Ordering::Relaxed)
    }

    fn request(
        &self,
        id: u64,
        call: &RpcCall,
        sse: bool,
    ) -> Result<reqwest::RequestBuilder, ClientError> {
        match self.transport {
            Transport::Rest => rest_request(&self.http, &self.endpoint, call, sse),
            _ => Ok(request(
                &self.http,
                &self.endpoint,
                self.version,
                id,
                call,
                sse,
            )),
        }
    }

    /// The result of an answer: the JSON-RPC envelope's, or (REST) the body itself.
    fn answer(
        &self,
        status: reqwest::StatusCode,
        text: &str,
        id: u64,
    ) -> Result<Box<RawValue>, ClientError> {
        if self.transport == Transport::Rest {
            return transport::rest_answer(status, text, &self.endpoint);
        }
        match unwrap_envelope(text, id) {
            Err(e @ ClientError::JsonRpc { .. }) => Err(e),
            _ if !status.is_success() => Err(ClientError::Http {
                status: status.as_u16(),
                url: self.endpoint.clone(),
                body: excerpt(text),
            }),
            other => other,
        }
    }

    /// Posts one JSON-RPC call and returns its `result` exactly as received.
    pub async fn call(&self, call: &RpcCall) -> Result<Box<RawValue>, ClientError> {
        self.call_keyed(call, None).await
    }

    /// [`A2aClient::call`] with an `Idempotency-Key`.
    pub async fn call_keyed(
        &self,
        call: &RpcCall,
        idempotency_key: Option<&str>,
    ) -> Result<Box<RawValue>, ClientError> {
        if self.transport == Transport::Grpc {
            let link = self.grpc_link()?;
            return link.call(call, &self.metadata, idempotency_key).await;
        }
        let id = self.fresh_id();
        let url = &self.endpoint;
        let mut req = self.request(id, call, false)?;
        if let Some(key) = idempotency_key {
            req = req.header(IDEMPOTENCY_HEADER, key);
        }
        let (status, text) = send_text(req, url).await?;
        self.answer(status, &text, id)
    }

    /// Sends a message and waits for the result (unless `no_wait`).
    pub async fn send(&self, opts: &SendOptions) -> Result<SendResult, ClientError> {
        Ok(self.send_with_raw(opts).await?.1)
    }

    /// [`A2aClient::send`] plus the raw JSON-RPC result. A send that fails in transit
    /// (it may or may not have arrived) is sent again, the same request with the same
    /// key: the server answers a retry as it answered the first.
    pub async fn send_with_raw(
        &self,
        opts: &SendOptions,
    ) -> Result<(Box<RawValue>, SendResult), ClientError> {
        let call = wire::send_call(self.version, opts, false);
        let key = send_key(opts);
        let mut pause = RESEND_PAUSE;
        let mut attempt = 1;
        let raw = loop {
            match self.call_keyed(&call, Some(&key)).await {
                Err(ClientError::Transport { .. }) if attempt < SEND_ATTEMPTS => {
                    tokio::time::sleep(pause).await;
                    pause *= 2;
                    attempt += 1;
                }
                other => break other?,
            }
        };
        let result = wire::decode_send(self.version, raw.get())?;
        Ok((raw, result))
    }

    /// Gets a task, with at most `history_length` history messages.
    pub async fn get(
        &self,
        task_id: &str,
        history_length: Option<u32>,
    ) -> Result<Task, ClientError> {
        Ok(self.get_with_raw(task_id, history_length).await?.1)
    }

    pub async fn get_with_raw(
        &self,
        task_id: &str,
        history_length: Option<u32>,
    ) -> Result<(Box<RawValue>, Task), ClientError> {
        let raw = self
            .call(&wire::get_call(self.version, task_id, history_length))
            .await?;
        let task = wire::decode_task(self.version, raw.get())?;
        Ok((raw, task))
    }

    /// Lists tasks (1.0 only; other versions get [`ClientError::Unsupported`]).
    pub async fn list(&self, opts: &ListOptions) -> Result<ListTasksResponse, ClientError> {
        Ok(self.list_with_raw(opts).await?.1)
    }

    pub async fn list_with_raw(
        &self,
        opts: &ListOptions,
    ) -> Result<(Box<RawValue>, ListTasksResponse), ClientError> {
        let raw = self.call(&wire::list_call(self.version, opts)?).await?;
        let list = wire::decode_list(raw.get())?;
        Ok((raw, list))
    }

    /// Cancels a task and returns it as updated.
    pub async fn cancel(&self, task_id: &str) -> Result<Task, ClientError> {
        Ok(self.cancel_with_raw(task_id).await?.1)
    }

    pub async fn cancel_with_raw(
        &self,
        task_id: &str,
    ) -> Result<(Box<RawValue>, Task), ClientError> {
        let raw = self.call(&wire::cancel_call(self.version, task_id)).await?;
        let task = wire::decode_task(self.version, raw.get())?;
        Ok((raw, task))
    }

    /// Sends a message and streams the task's events. Ends with
    /// [`ClientError::StreamCut`] if the server closes before a final state.
    pub fn stream(
        &self,
        opts: &SendOptions,
    ) -> impl Stream<Item = Result<(Option<u64>, StreamItem), ClientError>> + Send + 'static {
        self.stream_events(opts).map(|r| r.map(|e| (e.id, e.item)))
    }

    /// [`A2aClient::stream`] with the raw results.
    pub fn stream_events(
        &self,
        opts: &SendOptions,
    ) -> impl Stream<Item = Result<StreamEvent, ClientError>> + Send + 'static {
        let key = send_key(opts);
        self.open_stream(wire::send_call(self.version, opts, true), None, Some(key))
    }

    /// Subscribes to an existing task's events, resuming after `last_event_id` if given.
    pub fn subscribe(
        &self,
        task_id: &str,
        last_event_id: Option<u64>,
    ) -> impl Stream<Item = Result<(Option<u64>, StreamItem), ClientError>> + Send + 'static {
        self.subscribe_events(task_id, last_event_id)
            .map(|r| r.map(|e| (e.id, e.item)))
    }

    /// [`A2aClient::subscribe`] with the raw results.
    pub fn subscribe_events(
        &self,
        task_id: &str,
        last_event_id: Option<u64>,
    ) -> impl Stream<Item = Result<StreamEvent, ClientError>> + Send + 'static {
        self.open_stream(
            wire::subscribe_call(self.version, task_id),
            last_event_id,
            None,
        )
    }

    fn open_stream(
        &self,
        call: RpcCall,
        last_event_id: Option<u64>,
        idempotency_key: Option<String>,
    ) -> impl Stream<Item = Result<StreamEvent, ClientError>> + Send + 'static {
        if self.transport == Transport::Grpc {
            return self.grpc_stream(call, idempotency_key).left_stream();
        }
        let id = self.fresh_id();
        let req = self.request(id, &call, true).map(|mut req| {
            if let Some(l) = last_event_id {
                req = req.header("Last-Event-ID", l.to_string());
            }
            if let Some(key) = idempotency_key {
                req = req.header(IDEMPOTENCY_HEADER, key);
            }
            req
        });
        let url = self.endpoint.clone();
        let version = self.version;
        let this = self.clone();
        async_stream::stream! {
            let req = match req {
                Ok(r) => r,
                Err(e) => {
                    yield Err(e);
                    return;
                }
            };
            let resp = match req.send().await {
                Ok(r) => r,
                Err(e) => {
                    yield Err(ClientError::transport(&url, e));
                    return;
                }
            };
            let status = resp.status();
            let is_sse = resp
                .headers()
                .get(reqwest::header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.trim_start().starts_with("text/event-stream"));
            let mut finality = Finality::default();
            if !is_sse || !status.is_success() {
                // An error before the stream started (or a server that answered in one go).
                let text = match resp.text().await {
                    Ok(t) => t,
                    Err(e) => {
                        yield Err(ClientError::transport(&url, e));
                        return;
                    }
                };
                match this.answer(status, &text, id) {
                    Err(e) => yield Err(e),
                    Ok(raw) => match wire::decode_stream_item(version, raw.get()) {
                        Ok(d) => {
                            finality.observe(&d);
                            yield Ok(StreamEvent { id: None, raw, item: d.item });
                            if !finality.done {
                                yield Err(finality.cut(None));
                            }
                        }
                        Err(e) => yield Err(e),
                    },
                }
                return;
            }
            let mut events = resp.bytes_stream().eventsource();
            while let Some(ev) = events.next().await {
                let ev = match ev {
                    Ok(ev) => ev,
                    Err(e) => {
                        yield Err(finality.cut(Some(e.to_string())));
                        return;
                    }
                };
                let sse_id = ev.id.trim().parse::<u64>().ok();
                let raw = match this.stream_item(&ev.data, id) {
                    Ok(raw) => raw,
                    Err(e) => {
                        // An error mid-stream ends the stream.
                        yield Err(e);
                        return;
                    }
                };
                match wire::decode_stream_item(version, raw.get()) {
                    Ok(d) => {
                        finality.observe(&d);
                        yield Ok(StreamEvent { id: sse_id, raw, item: d.item });
                    }
                    Err(e) => {
                        yield Err(e);
                        return;
                    }
                }
            }
            if !finality.done {
                yield Err(finality.cut(None));
            }
        }
        .right_stream()
    }
}

impl A2aClient {
    /// A gRPC server stream, its items decoded as the SSE ones are (no event ids: a gRPC
    /// stream cannot be resumed, a fresh subscription starts with the task).
    fn grpc_stream(
        &self,
        call: RpcCall,
        idempotency_key: Option<String>,
    ) -> impl Stream<Item = Result<StreamEvent, ClientError>> + Send + 'static {
        let link = self.grpc_link().cloned();
        let (metadata, version) = (self.metadata.clone(), self.version);
        async_stream::stream! {
            let items = match link {
                Ok(link) => link.stream(&call, &metadata, idempotency_key.as_deref()).await,
                Err(e) => Err(e),
            };
            let mut items = match items {
                Ok(items) => Box::pin(items),
                Err(e) => {
                    yield Err(e);
                    return;
                }
            };
            let mut finality = Finality::default();
            while let Some(item) = items.next().await {
                match item.and_then(|raw| Ok((wire::decode_stream_item(version, raw.get())?, raw))) {
                    Ok((d, raw)) => {
                        finality.observe(&d);
                        yield Ok(StreamEvent { id: None, raw, item: d.item });
                    }
                    Err(e) => {
                        yield Err(e);
                        return;
                    }
                }
            }
            if !finality.done {
                yield Err(finality.cut(None));
            }
        }
    }

    /// One SSE event's result: the JSON-RPC envelope's, or (REST) the bare
    /// `StreamResponse` (an error event is a `google.rpc.Status` body).
    fn stream_item(&self, data: &str, id: u64) -> Result<Box<RawValue>, ClientError> {
        if self.transport != Transport::Rest {
            return unwrap_envelope(data, id);
        }
        if let Some(e) = transport::status_error(data) {
            return Err(e);
        }
        transport::rest_answer(reqwest::StatusCode::OK, data, &self.endpoint)
    }
}

/// A REST request for `call` below the base `base`.
fn rest_request(
    http: &reqwest::Client,
    base: &str,
    call: &RpcCall,
    sse: bool,
) -> Result<reqwest::RequestBuilder, ClientError> {
    let r = transport::rest_request(call)?;
    let mut url = format!("{}{}", base.trim_end_matches('/'), r.path);
    if !r.query.is_empty() {
        url.push('?');
        url.push_str(
            &url::form_urlencoded::Serializer::new(String::new())
                .extend_pairs(&r.query)
                .finish(),
        );
    }
    let mut req = http
        .request(r.method, url)
        .header(
            reqwest::header::ACCEPT,
            if sse {
                "text/event-stream"
            } else {
                "application/json"
            },
        )
        .header(VERSION_HEADER, "1.0");
    if let Some(body) = &r.body {
        req = req.json(body);
    }
    let span = tracing::Span::current();
    if !span.is_disabled() {
        let mut headers = http::HeaderMap::new();
        crate::traces::inject(&span, &mut headers);
        req = req.headers(headers);
    }
    Ok(req)
}

/// The key of a send: the caller's, else a fresh one.
fn send_key(opts: &SendOptions) -> String {
    opts.idempotency_key
        .clone()
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string())
}

fn request(
    http: &reqwest::Client,
    endpoint: &str,
    version: Version,
    id: u64,
    call: &RpcCall,
    sse: bool,
) -> reqwest::RequestBuilder {
    let body = json!({"jsonrpc": "2.0", "id": id, "method": call.method, "params": call.params});
    let mut req = http
        .post(endpoint)
        .header(
            reqwest::header::ACCEPT,
            if sse {
                "text/event-stream"
            } else {
                "application/json"
            },
        )
        .json(&body);
    if version == Version::V1 {
        req = req.header(VERSION_HEADER, "1.0");
    }
    // The caller's trace continues at the agent: any traced span the caller is in (its
    // own OpenTelemetry layer, or ours), not only when this crate exports.
    let span = tracing::Span::current();
    if !span.is_disabled() {
        let mut headers = http::HeaderMap::new();
        crate::traces::inject(&span, &mut headers);
        req = req.headers(headers);
    }
    req
}

/// Sends a request and reads its whole body as text; I/O failures name `url`.
async fn send_text(
    request: reqwest::RequestBuilder,
    url: &str,
) -> Result<(reqwest::StatusCode, String), ClientError> {
    let resp = request
        .send()
        .await
        .map_err(|e| ClientError::transport(url, e))?;
    let status = resp.status();
    let text = resp
        .text()
        .await
        .map_err(|e| ClientError::transport(url, e))?;
    Ok((status, text))
}

//! The HTTP surface: the JSON-RPC endpoint (concurrency limit, body limit, Content-Type
//! check, version selection, then dispatch), served straight from hyper, and an axum router
//! for everything else (the well-known card routes, JWKS, metrics, health).

use std::convert::Infallible;
use std::future::Future;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, HeaderValue, Method, Request, StatusCode, header};
use axum::response::Response;
use http_body_util::{BodyExt, LengthLimitError, Limited};
use hyper::body::Incoming;
use jsonrpsee::types::Id;
use tokio::sync::Semaphore;
use tower::ServiceExt;
use tracing::Instrument;

use super::admission::{Admission, Caller};
use super::answers::{json_error, json_response, overloaded, rate_limited, refused, unavailable};
use super::card::CachedCard;
use super::client_ip::TrustedProxies;
use super::grpc::{Grpc, Peer, is_grpc};
use super::headers::AnswerHeaders;
use super::health::Lifecycle;
use super::routes::{a2a_routes, not_found, ops_routes};
use super::sse;
use super::tls::PeerCertificates;
use crate::auth::Auth;
use crate::codec::{v1, v03};
use crate::jsonrpc::{self, CallInfo, Outcome, envelope};
use crate::metrics::{CallOutcome, Metrics};
use crate::protocol::{A2aError, IdempotencyKey, Version};
use crate::push::keys::SigningKeys;
use crate::ratelimit::RateLimiter;
use crate::store::TaskStore;
use crate::traces::SPAN_TARGET;

/// Request limits enforced before dispatch.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_body_bytes: usize,
    pub max_concurrent_requests: usize,
}

/// Shared state of the endpoint and the router; one pointer, because every request
/// clones it.
#[derive(Clone)]
pub struct AppState(pub(super) Arc<Shared>);

pub(super) struct Shared {
    pub(super) module: jsonrpc::Module,
    pub(super) card_v1: CachedCard,
    pub(super) card_v03: CachedCard,
    /// The keys whose public halves verify notification JWTs (push on).
    pub(super) keys: Option<Arc<SigningKeys>>,
    pub(super) metrics: Arc<Metrics>,
    /// Pinged by `/readyz`.
    pub(super) store: Arc<dyn TaskStore>,
    pub(super) max_body_bytes: usize,
    /// One permit per JSON-RPC call being handled; none left means shed the call (503).
    pub(super) in_flight: Semaphore,
    /// Readiness turns 503 on `stopping`; SSE streams end on `draining`.
    pub(super) lifecycle: Lifecycle,
    /// Decides who each caller is.
    pub(super) auth: Auth,
    /// The per-caller limit (`[rate_limit]`), when configured.
    pub(super) rate_limit: Option<Arc<RateLimiter>>,
    /// Whose `X-Forwarded-For` names the client.
    pub(super) trusted_proxies: TrustedProxies,
    /// The allowed CORS origins, for every listener's answers.
    pub(super) answer_headers: AnswerHeaders,
}

/// What the HTTP surface is built from.
pub struct Parts {
    pub module: jsonrpc::Module,
    /// The keys whose public halves verify notification JWTs (push on).
    pub keys: Option<Arc<SigningKeys>>,
    pub metrics: Arc<Metrics>,
    pub store: Arc<dyn TaskStore>,
    pub limits: Limits,
    pub lifecycle: Lifecycle,
    pub auth: Auth,
    /// The per-caller limit (`[rate_limit]`), when configured.
    pub rate_limit: Option<Arc<RateLimiter>>,
    /// Whose `X-Forwarded-For` names an anonymous caller's IP.
    pub trusted_proxies: TrustedProxies,
    /// `cors.allowed_origins`.
    pub cors_origins: Vec<String>,
}

impl AppState {
    pub fn new(card: &crate::protocol::card::AgentCard, parts: Parts) -> Self {
        let Parts {
            module,
            keys,
            metrics,
            store,
            limits,
            lifecycle,
            auth,
            rate_limit,
            trusted_proxies,
            cors_origins,
        } = parts;
        let now = std::time::SystemTime::now();
        Self(Arc::new(Shared {
            module,
            card_v1: CachedCard::new(&v1::agent_card(card), now),
            card_v03: CachedCard::new(&v03::agent_card(card), now),
            keys,
            metrics,
            store,
            max_body_bytes: limits.max_body_bytes,
            in_flight: Semaphore::new(limits.max_concurrent_requests),
            lifecycle,
            auth,
            rate_limit,
            trusted_proxies,
            answer_headers: AnswerHeaders::new(&cors_origins),
        }))
    }

    /// The rate limiter, for its maintenance task.
    pub fn rate_limiter(&self) -> Option<&Arc<RateLimiter>> {
        self.0.rate_limit.as_ref()
    }
}

/// The whole HTTP surface as a hyper service. `POST /`, nearly every request this server
/// sees, goes straight to the JSON-RPC handler: through the router it would pay for route
/// matching, a copy of the headers and a boxed service per layer on every call.
#[derive(Clone)]
pub struct Endpoint {
    state: AppState,
    router: Router,
    /// Whether JSON-RPC POSTs are served (not on the admin listener).
    rpc: bool,
    /// The gRPC services, for requests whose content type is gRPC (none on the admin
    /// listener).
    grpc: Option<Grpc>,
    /// Added to every answer.
    answer: AnswerHeaders,
    /// The connection this clone serves (set by the accept loop).
    conn: Conn,
}

/// What the accept loop knows of a connection.
#[derive(Debug, Clone, Default)]
struct Conn {
    peer: Option<IpAddr>,
    certs: Option<PeerCertificates>,
}

impl Endpoint {
    /// Everything on one listener: the A2A routes and the operations routes.
    pub fn new(state: AppState) -> Self {
        Self {
            router: a2a_routes().merge(ops_routes()).with_state(state.clone()),
            answer: state.0.answer_headers.clone(),
            grpc: Some(Grpc::new(&state)),
            state,
            rpc: true,
            conn: Conn::default(),
        }
    }

    /// The public listener and the admin one (`admin_listen`): the operations routes
    /// (`/metrics`, `/healthz`, `/health`, `/readyz`) only on the second; the first
    /// answers 404 for them.
    pub fn split(state: AppState) -> (Self, Self) {
        let public = Self {
            router: a2a_routes().with_state(state.clone()),
            answer: state.0.answer_headers.clone(),
            grpc: Some(Grpc::new(&state)),
            state: state.clone(),
            rpc: true,
            conn: Conn::default(),
        };
        let admin = Self {
            router: ops_routes().fallback(not_found).with_state(state.clone()),
            // Probes and scrapers are no browsers: security headers, no CORS.
            answer: AnswerHeaders::default(),
            state,
            rpc: false,
            grpc: None,
            conn: Conn::default(),
        };
        (public, admin)
    }

    /// The `grpc_listen` listener: gRPC only; anything else is 404.
    pub fn grpc_only(state: AppState) -> Self {
        Self {
            router: Router::new().fallback(not_found).with_state(state.clone()),
            answer: state.0.answer_headers.clone(),
            grpc: Some(Grpc::new(&state)),
            state,
            rpc: false,
            conn: Conn::default(),
        }
    }

    /// Answers say `Strict-Transport-Security` (the listener serves HTTPS).
    pub(super) fn with_hsts(mut self) -> Self {
        self.answer.hsts = true;
        self
    }

    /// This endpoint for one connection from `peer`, with its verified client chain.
    pub(super) fn for_connection(&self, peer: IpAddr, certs: Option<PeerCertificates>) -> Self {
        let mut e = self.clone();
        e.conn = Conn {
            peer: Some(peer),
            certs,
        };
        e
    }
}

type EndpointFuture = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

impl hyper::service::Service<Request<Incoming>> for Endpoint {
    type Response = Response;
    type Error = Infallible;
    type Future = EndpointFuture;

    fn call(&self, mut req: Request<Incoming>) -> EndpointFuture {
        let origin = self.answer.allowed_origin(req.headers());
        if let Some(r) = self.answer.preflight(&req, origin.as_ref()) {
            return Box::pin(std::future::ready(Ok(r)));
        }
        if let Some(certs) = &self.conn.certs {
            req.extensions_mut().insert(certs.clone());
        }
        if let Some(grpc) = &self.grpc
            && is_grpc(&req)
        {
            // Only the security headers: gRPC clients are no browsers (no CORS).
            req.extensions_mut().insert(Peer(self.conn.peer));
            let (grpc, answer) = (grpc.clone(), self.answer.clone());
            return Box::pin(async move {
                let Ok(mut r) = grpc.call(req).await;
                answer.apply(&mut r, None);
                Ok(r)
            });
        }
        let answer = self.answer.clone();
        // One box per call: the call's future is large (every method's handler state).
        let binding = if !self.rpc {
            None
        } else if req.method() == Method::POST && is_rpc_path(req.uri().path()) {
            Some(Binding::JsonRpc)
        } else if super::rest::is_rest_path(req.uri().path()) {
            Some(Binding::Rest)
        } else {
            None
        };
        if let Some(binding) = binding {
            let (state, peer) = (self.state.clone(), self.conn.peer);
            Box::pin(async move {
                let mut r = rpc(state, req, peer, binding).await;
                answer.apply(&mut r, origin);
                Ok(r)
            })
        } else {
            let router = self.router.clone();
            Box::pin(async move {
                let Ok(mut r) = router.oneshot(req.map(Body::new)).await;
                answer.apply(&mut r, origin);
                Ok(r)
            })
        }
    }
}

/// Where clients of the `tasks/send` era POST their JSON-RPC instead of the card's url:
/// `{url}/tasks/send`, `{url}/a2a/tasks/send`, `{url}/a2a`. They get the same endpoint as
/// `POST /`, every version.
const LEGACY_RPC_PATHS: [&str; 3] = ["/tasks/send", "/a2a/tasks/send", "/a2a"];

/// Whether a POST to `path` is a JSON-RPC call; `/` is tested first, so it costs nothing more.
fn is_rpc_path(path: &str) -> bool {
    path == "/" || LEGACY_RPC_PATHS.contains(&path)
}

/// The transport of one A2A call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Binding {
    /// `POST /` (and the legacy paths).
    JsonRpc,
    /// HTTP+JSON, under `rest::BASE`.
    Rest,
}

impl Binding {
    fn as_str(self) -> &'static str {
        match self {
            Binding::JsonRpc => "jsonrpc",
            Binding::Rest => "http+json",
        }
    }
}

/// One A2A call (`POST /` JSON-RPC, or a REST route), answered with a JSON body or an SSE
/// stream; counted and logged once its answer (or its stream's head) is ready, the same
/// way whatever the binding.
async fn rpc(
    state: AppState,
    req: Request<Incoming>,
    peer: Option<IpAddr>,
    binding: Binding,
) -> Response {
    let started = Instant::now();
    let metrics = &state.0.metrics;
    let in_flight = InFlight::new(&metrics.requests_in_flight);
    let mut info = CallInfo::default();
    // Without an exporter, no span and no wrapper: wrapping the call's large future in
    // `Instrumented` costs a copy of it per call even when the span is disabled. The
    // traced path is the boxed one.
    let (response, span) = if crate::traces::enabled() {
        let (response, span) = Box::pin(traced_rpc(&state, req, peer, binding, &mut info)).await;
        (response, Some(span))
    } else {
        (
            serve_binding(&state, req, peer, binding, &mut info).await,
            None,
        )
    };
    drop(in_flight);
    if response.status() == StatusCode::SERVICE_UNAVAILABLE {
        info.outcome = CallOutcome::Unavailable;
    } else if !response.status().is_success() && info.outcome == CallOutcome::Ok {
        info.outcome = CallOutcome::Error;
    }
    let elapsed = started.elapsed();
    metrics.request_done(info.method, info.version, info.outcome, elapsed);
    let status = response.status().as_u16();
    match span {
        // Inside the span, so a JSON line carries the call's trace id.
        Some(span) => span.in_scope(|| log_call(binding.as_str(), &info, status, elapsed)),
        None => log_call(binding.as_str(), &info, status, elapsed),
    }
    response
}

async fn serve_binding(
    state: &AppState,
    req: Request<Incoming>,
    peer: Option<IpAddr>,
    binding: Binding,
    info: &mut CallInfo,
) -> Response {
    match binding {
        Binding::JsonRpc => serve_rpc(state, req, peer, info).await,
        Binding::Rest => super::rest::serve(state, req, peer, info).await,
    }
}

/// [`serve_rpc`] inside the HTTP server span, and that span. Built here, by hand: this
/// path bypasses the router and its middleware. The caller's `traceparent` is its parent;
/// a stream's call span keeps it open until the stream ends.
async fn traced_rpc(
    state: &AppState,
    req: Request<Incoming>,
    peer: Option<IpAddr>,
    binding: Binding,
    info: &mut CallInfo,
) -> (Response, tracing::Span) {
    let method = req.method().as_str().to_owned();
    let span = tracing::info_span!(
        target: SPAN_TARGET,
        "HTTP",
        otel.name = %format_args!("{method} {}", req.uri().path()),
        otel.kind = "server",
        http.request.method = method.as_str(),
        http.route = req.uri().path(),
        http.response.status_code = tracing::field::Empty,
        otel.status_code = tracing::field::Empty,
    );
    crate::traces::set_remote_parent(&span, req.headers());
    let response = serve_binding(state, req, peer, binding, info)
        .instrument(span.clone())
        .await;
    if !span.is_disabled() {
        let status = response.status();
        span.record("http.response.status_code", i64::from(status.as_u16()));
        if status.is_server_error() {
            span.record("otel.status_code", "error");
        }
    }
    (response, span)
}

/// Counts a call in `a2a_requests_in_flight` until dropped: also when hyper drops the
/// call's future because its client went away.
pub(super) struct InFlight<'a>(&'a prometheus::IntGauge);

impl<'a> InFlight<'a> {
    pub(super) fn new(gauge: &'a prometheus::IntGauge) -> Self {
        gauge.inc();
        Self(gauge)
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.dec();
    }
}

/// The request log: one line per call (JSON-RPC or gRPC, `rpc_system`), never its params
/// or headers (they carry credentials). `status`: the HTTP status, for gRPC the gRPC
/// status code. Answered calls are DEBUG: at the default level a line per call would cost
/// more than the rest of a short call's overhead budget; failed calls are INFO.
pub(super) fn log_call(
    transport: &'static str,
    info: &CallInfo,
    status: u16,
    elapsed: std::time::Duration,
) {
    macro_rules! line {
        ($level:ident) => {
            tracing::$level!(
                target: "a2a::request",
                transport,
                method = info.method.map_or(crate::metrics::OTHER, |m| m.name),
                version = info.version.map_or(crate::metrics::OTHER, Version::as_str),
                task_id = info.task_id.as_deref(),
                outcome = info.outcome.as_str(),
                error_code = info.error_code,
                status,
                duration_ms = elapsed.as_secs_f64() * 1000.0,
                "rpc call"
            )
        };
    }
    if info.outcome == CallOutcome::Ok {
        line!(debug);
    } else {
        line!(info);
    }
}

async fn serve_rpc(
    state: &AppState,
    req: Request<Incoming>,
    peer: Option<IpAddr>,
    info: &mut CallInfo,
) -> Response {
    // Held until the response (or the stream's first event) is ready, as a tower
    // concurrency limit would; the stream itself does not count.
    let Ok(_permit) = state.0.in_flight.try_acquire() else {
        return overloaded();
    };
    let (parts, body) = req.into_parts();
    if let Some(ct) = parts.headers.get(header::CONTENT_TYPE)
        && !is_json(ct)
    {
        let e = A2aError::ContentTypeNotSupported(format!(
            "requests must be `application/json`, not `{}`",
            ct.to_str().unwrap_or("?")
        ));
        return json_error(StatusCode::UNSUPPORTED_MEDIA_TYPE, Id::Null, &e);
    }
    let body = match read_body(body, &parts.headers, state.0.max_body_bytes).await {
        Ok(b) => b,
        Err((status, e)) => return json_error(status, Id::Null, &e),
    };
    let caller = Caller {
        headers: &parts.headers,
        peer,
        certs: parts.extensions.get::<PeerCertificates>(),
    };
    handle_rpc(state, parts.uri.query(), caller, &body, info).await
}

/// The whole body, refused with 413 past `max` bytes: up front when `Content-Length` says
/// so, else as soon as the bytes read pass it. The error is the status and the error each
/// transport answers in its own shape.
pub(super) async fn read_body(
    body: Incoming,
    headers: &HeaderMap,
    max: usize,
) -> Result<Bytes, (StatusCode, A2aError)> {
    let too_large = || {
        let e = A2aError::InvalidRequest(format!(
            "the request body is larger than this server accepts ({max} bytes)"
        ));
        (StatusCode::PAYLOAD_TOO_LARGE, e)
    };
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > max as u64) {
        return Err(too_large());
    }
    match Limited::new(body, max).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(e) if e.is::<LengthLimitError>() => Err(too_large()),
        Err(e) => {
            let e = A2aError::InvalidRequest(format!("could not read the request body: {e}"));
            Err((StatusCode::BAD_REQUEST, e))
        }
    }
}

/// What a call's headers say beyond who is calling: the SSE `Last-Event-ID` of a
/// reconnecting subscriber and the `Idempotency-Key` (an invalid one is the call's error).
pub(super) fn call_headers(
    headers: &HeaderMap,
) -> (Option<u64>, Result<Option<IdempotencyKey>, A2aError>) {
    let last_event_id = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse().ok());
    let idempotency_key = IdempotencyKey::from_values(
        headers
            .get_all("idempotency-key")
            .iter()
            .map(HeaderValue::as_bytes),
    );
    (last_event_id, idempotency_key)
}

async fn handle_rpc(
    state: &AppState,
    query: Option<&str>,
    caller: Caller<'_>,
    body: &[u8],
    info: &mut CallInfo,
) -> Response {
    let headers = caller.headers;
    let version = version_param(headers, query);
    // Who is calling needs only the headers and the connection: the rate limit counts
    // every call, an unparseable one too, before any more work is done for it.
    let principal = match state.admit(&caller).await {
        Admission::RateLimited(wait) => {
            info.outcome = CallOutcome::Error;
            let req = envelope::parse(body).ok();
            info.method = req
                .as_ref()
                .and_then(|r| jsonrpc::methods::lookup(r.method));
            let id = req.map_or(Id::Null, |r| r.id);
            return rate_limited(id, wait, version.is_some());
        }
        Admission::Admitted(p) => Ok(p),
        Admission::Refused(refusal) => Err(refusal),
    };
    let req = match envelope::parse(body) {
        Ok(r) => r,
        Err(rejected) => {
            info.outcome = CallOutcome::Error;
            return json_error(StatusCode::OK, rejected.id, &rejected.error);
        }
    };
    let principal = match principal {
        Ok(p) => p,
        Err(refusal) => {
            info.method = jsonrpc::methods::lookup(req.method);
            info.outcome = CallOutcome::Error;
            return refused(state, &refusal, req.id, version.is_some());
        }
    };
    if matches!(
        req.method,
        "GetExtendedAgentCard" | "agent/getAuthenticatedExtendedCard"
    ) && let Some(refusal) = state.extended_card_refusal(&principal, caller.peer)
    {
        info.method = jsonrpc::methods::lookup(req.method);
        info.outcome = CallOutcome::Error;
        return refused(state, &refusal, req.id, version.is_some());
    }
    let (last_event_id, idempotency_key) = call_headers(headers);
    let module = &state.0.module;
    let expiry = sse::Expiry::of(&principal);
    // As in `rpc`: the span and its wrapper only when traced, there boxed.
    let span = crate::traces::enabled().then(|| call_span(req.method, "jsonrpc"));
    let call = jsonrpc::dispatch(
        module,
        req,
        version.as_deref(),
        principal,
        last_event_id,
        idempotency_key,
        info,
    );
    let outcome = match &span {
        Some(span) => {
            let outcome = Box::pin(call.instrument(span.clone())).await;
            record_call(span, info);
            outcome
        }
        None => call.await,
    };
    match outcome {
        Outcome::Response(r) => json_response(StatusCode::OK, r),
        Outcome::Stream {
            id,
            version,
            stream,
        } => {
            let stream: jsonrpc::SseStream = match span {
                Some(span) if !span.is_disabled() => {
                    // The current span is the HTTP one (this runs inside it).
                    let outer = tracing::Span::current();
                    Box::pin(crate::traces::TracedStream::new(stream, span, outer))
                }
                _ => stream,
            };
            let metrics = state.0.metrics.clone();
            let draining = &state.0.lifecycle.draining;
            sse::respond(id, version, stream, draining, metrics, expiry).await
        }
        Outcome::StreamError(r) => sse::single(&r),
        Outcome::Unavailable { body, sse } => {
            let r = if sse {
                sse::single(&body)
            } else {
                json_response(StatusCode::OK, body)
            };
            unavailable(r)
        }
    }
}

/// The span of one A2A call, named after its 1.0 method (a started span cannot be
/// renamed, so the name is known up front; the macro evaluates it only when traced).
/// `system`: `jsonrpc`, `http` or `grpc`.
pub(super) fn call_span(wire_method: &str, system: &'static str) -> tracing::Span {
    tracing::info_span!(
        target: SPAN_TARGET,
        "a2a",
        otel.name = crate::traces::span_name(wire_method),
        rpc.system.name = system,
        rpc.method = wire_method,
        a2a.method.name = tracing::field::Empty,
        a2a.protocol.version = tracing::field::Empty,
        a2a.task.id = tracing::field::Empty,
        gen_ai.conversation.id = tracing::field::Empty,
        rpc.status_code = tracing::field::Empty,
        error.type = tracing::field::Empty,
        otel.status_code = tracing::field::Empty,
    )
}

/// What dispatch learned about the call, on its span (nothing to do when not traced).
pub(super) fn record_call(span: &tracing::Span, info: &CallInfo) {
    if span.is_disabled() {
        return;
    }
    if let Some(m) = info.method {
        span.record("a2a.method.name", crate::traces::a2a_method_name(m.name));
    }
    if let Some(v) = info.version {
        span.record("a2a.protocol.version", v.as_str());
    }
    if let Some(id) = &info.task_id {
        span.record("a2a.task.id", &**id);
    }
    if let Some(code) = info.error_code {
        let code = code.to_string();
        span.record("rpc.status_code", code.as_str());
        span.record("error.type", code.as_str());
        span.record("otel.status_code", "error");
    }
}

/// `A2A-Version` from the header, else from the query string.
pub(super) fn version_param(headers: &HeaderMap, query: Option<&str>) -> Option<String> {
    if let Some(v) = headers.get("a2a-version").and_then(|v| v.to_str().ok()) {
        return Some(v.to_string());
    }
    query?
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .find(|(k, _)| k.eq_ignore_ascii_case("A2A-Version"))
        .map(|(_, v)| v.to_string())
}

/// `application/json`, `application/a2a+json` or another `+json` type, any parameters.
pub(super) fn is_json(ct: &HeaderValue) -> bool {
    let Ok(s) = ct.to_str() else { return false };
    let essence = s.split(';').next().unwrap_or("").trim().as_bytes();
    let starts = |p: &[u8]| {
        essence
            .get(..p.len())
            .is_some_and(|e| e.eq_ignore_ascii_case(p))
    };
    let ends = |p: &[u8]| {
        (essence.len().checked_sub(p.len())).is_some_and(|i| essence[i..].eq_ignore_ascii_case(p))
    };
    essence.eq_ignore_ascii_case(b"application/json") || (starts(b"application/") && ends(b"+json"))
}

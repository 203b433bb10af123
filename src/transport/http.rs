//! The HTTP surface: the JSON-RPC endpoint (concurrency limit, body limit, Content-Type
//! check, version selection, then dispatch), served straight from hyper, and an axum router
//! for everything else (the well-known card routes, JWKS, metrics, health).

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, Request, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use http_body_util::{BodyExt, LengthLimitError, Limited};
use hyper::body::Incoming;
use jsonrpsee::types::Id;
use tokio::sync::Semaphore;
use tower::ServiceExt;
use tracing::Instrument;

use super::card::CachedCard;
use super::health::{Lifecycle, Readiness};
use super::sse;
use crate::auth::{Auth, Credentials, Refusal, RemoteAddr};
use crate::codec::{v1, v03};
use crate::jsonrpc::{self, CallInfo, Outcome, envelope};
use crate::metrics::{CallOutcome, Metrics};
use crate::protocol::{A2aError, Version};
use crate::push::keys::SigningKeys;
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
pub struct AppState(Arc<Shared>);

struct Shared {
    module: jsonrpc::Module,
    card_v1: CachedCard,
    card_v03: CachedCard,
    /// The keys whose public halves verify notification JWTs (push on).
    keys: Option<Arc<SigningKeys>>,
    metrics: Arc<Metrics>,
    /// Pinged by `/readyz`.
    store: Arc<dyn TaskStore>,
    max_body_bytes: usize,
    /// One permit per JSON-RPC call being handled; none left means shed the call (503).
    in_flight: Semaphore,
    /// Readiness turns 503 on `stopping`; SSE streams end on `draining`.
    lifecycle: Lifecycle,
    /// Decides who each caller is.
    auth: Auth,
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
        }))
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
}

impl Endpoint {
    /// Everything on one listener: the A2A routes and the operations routes.
    pub fn new(state: AppState) -> Self {
        Self {
            router: a2a_routes().merge(ops_routes()).with_state(state.clone()),
            state,
            rpc: true,
        }
    }

    /// The public listener and the admin one (`admin_listen`): the operations routes
    /// (`/metrics`, `/healthz`, `/health`, `/readyz`) only on the second; the first
    /// answers 404 for them.
    pub fn split(state: AppState) -> (Self, Self) {
        let public = Self {
            router: a2a_routes().with_state(state.clone()),
            state: state.clone(),
            rpc: true,
        };
        let admin = Self {
            router: ops_routes().fallback(not_found).with_state(state.clone()),
            state,
            rpc: false,
        };
        (public, admin)
    }
}

type EndpointFuture = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

impl hyper::service::Service<Request<Incoming>> for Endpoint {
    type Response = Response;
    type Error = Infallible;
    type Future = EndpointFuture;

    fn call(&self, req: Request<Incoming>) -> EndpointFuture {
        if self.rpc && req.method() == Method::POST && is_rpc_path(req.uri().path()) {
            // One box per call: the call's future is large (every method's handler state).
            Box::pin(rpc(self.state.clone(), req))
        } else {
            Box::pin(self.router.clone().oneshot(req.map(Body::new)))
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

/// Every A2A route but the JSON-RPC POSTs.
fn a2a_routes() -> Router<AppState> {
    Router::new()
        .route("/", any(rpc_method_not_allowed))
        .route("/tasks/send", any(rpc_method_not_allowed))
        .route("/a2a/tasks/send", any(rpc_method_not_allowed))
        .route("/a2a", any(rpc_method_not_allowed))
        .route(
            "/.well-known/agent-card.json",
            get(|State(s): State<AppState>, h: HeaderMap| async move { s.0.card_v1.respond(&h) }),
        )
        .route(
            "/.well-known/agent.json",
            get(|State(s): State<AppState>, h: HeaderMap| async move { s.0.card_v03.respond(&h) }),
        )
        .route("/.well-known/jwks.json", get(jwks))
        .fallback(not_found)
}

/// What operators and probes use: metrics, liveness, readiness.
fn ops_routes() -> Router<AppState> {
    Router::new()
        .route("/metrics", get(metrics))
        .route("/healthz", get(|| async { "ok" }))
        // What other A2A servers (and the seed plan's) call liveness.
        .route("/health", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
}

/// The public keys of notification JWTs. Short caching: a rotated key must show up before
/// its first token does.
async fn jwks(State(state): State<AppState>) -> Response {
    let Some(keys) = &state.0.keys else {
        return (
            StatusCode::NOT_FOUND,
            axum::Json(serde_json::json!({"error": "push notifications are off on this server"})),
        )
            .into_response();
    };
    let body = keys.jwks(chrono::Utc::now()).to_string();
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/jwk-set+json"),
            ),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=60"),
            ),
        ],
        body,
    )
        .into_response()
}

async fn metrics(State(state): State<AppState>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; version=0.0.4"),
        )],
        state.0.metrics.render(),
    )
        .into_response()
}

/// `POST /`: one JSON-RPC call, answered with a JSON body or an SSE stream; counted and
/// logged once its answer (or its stream's head) is ready.
async fn rpc(state: AppState, req: Request<Incoming>) -> Result<Response, Infallible> {
    let started = Instant::now();
    let metrics = &state.0.metrics;
    let in_flight = InFlight::new(&metrics.requests_in_flight);
    let mut info = CallInfo::default();
    // Without an exporter, no span and no wrapper: wrapping the call's large future in
    // `Instrumented` costs a copy of it per call even when the span is disabled. The
    // traced path is the boxed one.
    let (response, span) = if crate::traces::enabled() {
        let (response, span) = Box::pin(traced_rpc(&state, req, &mut info)).await;
        (response, Some(span))
    } else {
        (serve_rpc(&state, req, &mut info).await, None)
    };
    drop(in_flight);
    if response.status() == StatusCode::SERVICE_UNAVAILABLE {
        info.outcome = CallOutcome::Unavailable;
    } else if !response.status().is_success() && info.outcome == CallOutcome::Ok {
        info.outcome = CallOutcome::Error;
    }
    let elapsed = started.elapsed();
    metrics.request_done(info.method, info.version, info.outcome, elapsed);
    match span {
        // Inside the span, so a JSON line carries the call's trace id.
        Some(span) => span.in_scope(|| log_call(&info, response.status(), elapsed)),
        None => log_call(&info, response.status(), elapsed),
    }
    Ok(response)
}

/// [`serve_rpc`] inside the HTTP server span, and that span. Built here, by hand: this
/// path bypasses the router and its middleware. The caller's `traceparent` is its parent;
/// a stream's call span keeps it open until the stream ends.
async fn traced_rpc(
    state: &AppState,
    req: Request<Incoming>,
    info: &mut CallInfo,
) -> (Response, tracing::Span) {
    let span = tracing::info_span!(
        target: SPAN_TARGET,
        "POST",
        otel.name = %format_args!("POST {}", req.uri().path()),
        otel.kind = "server",
        http.request.method = "POST",
        http.route = req.uri().path(),
        http.response.status_code = tracing::field::Empty,
        otel.status_code = tracing::field::Empty,
    );
    crate::traces::set_remote_parent(&span, req.headers());
    let response = serve_rpc(state, req, info).instrument(span.clone()).await;
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
struct InFlight<'a>(&'a prometheus::IntGauge);

impl<'a> InFlight<'a> {
    fn new(gauge: &'a prometheus::IntGauge) -> Self {
        gauge.inc();
        Self(gauge)
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.dec();
    }
}

/// The request log: one line per JSON-RPC call, never its params or headers (they carry
/// credentials). Answered calls are DEBUG: at the default level a line per call would cost
/// more than the rest of a short call's overhead budget; failed calls are INFO.
fn log_call(info: &CallInfo, status: StatusCode, elapsed: std::time::Duration) {
    macro_rules! line {
        ($level:ident) => {
            tracing::$level!(
                target: "a2a::request",
                method = info.method.map_or(crate::metrics::OTHER, |m| m.name),
                version = info.version.map_or(crate::metrics::OTHER, Version::as_str),
                task_id = info.task_id.as_deref(),
                outcome = info.outcome.as_str(),
                error_code = info.error_code,
                status = status.as_u16(),
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

async fn serve_rpc(state: &AppState, req: Request<Incoming>, info: &mut CallInfo) -> Response {
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
        Err(r) => return r,
    };
    // Set by the accept loop when it records the peer (absent: the audit line says so).
    let remote = parts.extensions.get::<RemoteAddr>().map(|r| r.0);
    handle_rpc(
        state,
        parts.uri.query(),
        &parts.headers,
        remote,
        &body,
        info,
    )
    .await
}

/// The whole body, refused with 413 past `max` bytes: up front when `Content-Length` says
/// so, else as soon as the bytes read pass it.
async fn read_body(body: Incoming, headers: &HeaderMap, max: usize) -> Result<Bytes, Response> {
    let too_large = || {
        let e = A2aError::InvalidRequest(format!(
            "the request body is larger than this server accepts ({max} bytes)"
        ));
        json_error(StatusCode::PAYLOAD_TOO_LARGE, Id::Null, &e)
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
            Err(json_error(StatusCode::BAD_REQUEST, Id::Null, &e))
        }
    }
}

async fn handle_rpc(
    state: &AppState,
    query: Option<&str>,
    headers: &HeaderMap,
    remote: Option<std::net::SocketAddr>,
    body: &[u8],
    info: &mut CallInfo,
) -> Response {
    let req = match envelope::parse(body) {
        Ok(r) => r,
        Err(rejected) => {
            info.outcome = CallOutcome::Error;
            return json_error(StatusCode::OK, rejected.id, &rejected.error);
        }
    };
    let version = version_param(headers, query);
    let principal = match state.0.auth.authenticate(&Credentials { headers }).await {
        Ok(p) => p,
        Err(refusal) => {
            info.method = jsonrpc::methods::lookup(req.method);
            info.outcome = CallOutcome::Error;
            return refused(state, &refusal, req.id, version.is_some(), remote);
        }
    };
    // The extended card needs credentials even where anonymous callers are allowed: the
    // same 401 and challenge as any refusal.
    if !principal.is_authenticated()
        && state.0.auth.is_enabled()
        && matches!(
            req.method,
            "GetExtendedAgentCard" | "agent/getAuthenticatedExtendedCard"
        )
    {
        info.method = jsonrpc::methods::lookup(req.method);
        info.outcome = CallOutcome::Error;
        let refusal = Refusal::Missing(state.0.auth.expected());
        return refused(state, &refusal, req.id, version.is_some(), remote);
    }
    let last_event_id = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse().ok());
    let idempotency_key = crate::protocol::IdempotencyKey::from_values(
        headers
            .get_all("idempotency-key")
            .iter()
            .map(HeaderValue::as_bytes),
    );
    let module = &state.0.module;
    // As in `rpc`: the span and its wrapper only when traced, there boxed.
    let (outcome, span) = if crate::traces::enabled() {
        let span = call_span(req.method);
        let call = jsonrpc::dispatch(
            module,
            req,
            version.as_deref(),
            principal,
            last_event_id,
            idempotency_key,
            info,
        );
        let outcome = Box::pin(call.instrument(span.clone())).await;
        record_call(&span, info);
        (outcome, Some(span))
    } else {
        let call = jsonrpc::dispatch(
            module,
            req,
            version.as_deref(),
            principal,
            last_event_id,
            idempotency_key,
            info,
        );
        (call.await, None)
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
            sse::respond(id, version, stream, &state.0.lifecycle.draining, metrics).await
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
fn call_span(wire_method: &str) -> tracing::Span {
    tracing::info_span!(
        target: SPAN_TARGET,
        "a2a",
        otel.name = crate::traces::span_name(wire_method),
        rpc.system.name = "jsonrpc",
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
fn record_call(span: &tracing::Span, info: &CallInfo) {
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
fn version_param(headers: &HeaderMap, query: Option<&str>) -> Option<String> {
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
fn is_json(ct: &HeaderValue) -> bool {
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

fn json_response(status: StatusCode, body: impl Into<Body>) -> Response {
    let mut r = Response::new(body.into());
    *r.status_mut() = status;
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    r
}

fn json_error(status: StatusCode, id: Id<'_>, e: &A2aError) -> Response {
    json_response(status, jsonrpc::error_response(id, e, Version::V03))
}

/// A call refused before dispatch: 401 (no or bad credentials, with a `WWW-Authenticate`
/// challenge per configured scheme) or 403 (missing scope), with a JSON-RPC error body
/// that says why. Counted and logged here, the one place refusals leave the server.
fn refused(
    state: &AppState,
    refusal: &Refusal,
    id: Id<'_>,
    v1: bool,
    remote: Option<std::net::SocketAddr>,
) -> Response {
    let (reason, scheme) = (refusal.label(), refusal.scheme().as_str());
    state
        .0
        .metrics
        .auth_failures
        .with_label_values(&[reason, scheme])
        .inc();
    tracing::warn!(
        target: "a2a::auth",
        reason,
        scheme,
        remote = remote.map(tracing::field::display),
        principal = refusal.principal(),
        detail = %refusal,
        "request refused"
    );
    let version = if v1 { Version::V1 } else { Version::V03 };
    let (status, error) = match refusal {
        Refusal::InsufficientScope { .. } => (
            StatusCode::FORBIDDEN,
            A2aError::PermissionDenied(refusal.to_string()),
        ),
        _ => (
            StatusCode::UNAUTHORIZED,
            A2aError::Unauthenticated(refusal.to_string()),
        ),
    };
    let mut r = json_response(status, jsonrpc::error_response(id, &error, version));
    for challenge in state.0.auth.challenges(refusal) {
        if let Ok(v) = HeaderValue::try_from(challenge) {
            r.headers_mut().append(header::WWW_AUTHENTICATE, v);
        }
    }
    r
}

fn overloaded() -> Response {
    let e = A2aError::Internal("the server is at its concurrency limit; retry shortly".into());
    unavailable(json_error(StatusCode::OK, Id::Null, &e))
}

/// 503 with `Retry-After`: the server cannot serve the call now (at its concurrency limit,
/// or the task store cannot be reached); a retry in a second may succeed.
fn unavailable(mut r: Response) -> Response {
    *r.status_mut() = StatusCode::SERVICE_UNAVAILABLE;
    r.headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    r
}

/// Readiness: 503 once shutting down or while the task store does not answer, with one
/// entry per dependency (`/healthz` is liveness: the process serves HTTP).
async fn readyz(State(state): State<AppState>) -> Response {
    let mut r = Readiness::new(state.0.lifecycle.stopping.is_cancelled());
    r.required("store", state.0.store.ping()).await;
    // A Redis event bus, once there is one, is `r.optional("redis", ...)`: without it
    // subscribers fall back to the store, slower but correct.
    let body = serde_json::to_string(&r).expect("readiness serializes");
    json_response(r.http_status(), body)
}

async fn not_found() -> Response {
    let body = r#"{"error":"not found: the A2A JSON-RPC endpoint is POST /, the agent card GET /.well-known/agent-card.json"}"#;
    json_response(StatusCode::NOT_FOUND, body)
}

/// `/` (or a legacy JSON-RPC path) with another method than POST.
async fn rpc_method_not_allowed() -> Response {
    let body = r#"{"error":"method not allowed: the A2A JSON-RPC endpoint takes POST"}"#;
    let mut r = json_response(StatusCode::METHOD_NOT_ALLOWED, body);
    r.headers_mut()
        .insert(header::ALLOW, HeaderValue::from_static("POST"));
    r
}

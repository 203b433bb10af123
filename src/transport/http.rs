//! The router: the JSON-RPC endpoint (body limit, Content-Type check, concurrency limit,
//! version selection, then dispatch) and the well-known card routes.

use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::error_handling::HandleErrorLayer;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{BoxError, Router};
use jsonrpsee::types::Id;
use tower::ServiceBuilder;

use super::card::CachedCard;
use super::sse;
use crate::codec::{v1, v03};
use crate::jsonrpc::{self, Outcome, envelope};
use crate::metrics::Metrics;
use crate::protocol::{A2aError, Version};
use crate::push::keys::SigningKeys;
use crate::store::Scope;

/// Request limits enforced before dispatch.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_body_bytes: usize,
    pub max_concurrent_requests: usize,
}

/// Shared state of the router; one pointer, because axum clones it for every request.
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

struct Shared {
    module: jsonrpc::Module,
    card_v1: CachedCard,
    card_v03: CachedCard,
    /// The keys whose public halves verify notification JWTs (push on).
    keys: Option<Arc<SigningKeys>>,
    metrics: Arc<Metrics>,
}

impl AppState {
    pub fn new(
        module: jsonrpc::Module,
        card: &crate::protocol::card::AgentCard,
        keys: Option<Arc<SigningKeys>>,
        metrics: Arc<Metrics>,
    ) -> Self {
        let now = std::time::SystemTime::now();
        Self(Arc::new(Shared {
            module,
            card_v1: CachedCard::new(&v1::agent_card(card), now),
            card_v03: CachedCard::new(&v03::agent_card(card), now),
            keys,
            metrics,
        }))
    }
}

/// The whole HTTP surface.
pub fn router(state: AppState, limits: Limits) -> Router {
    let rpc = post(rpc).layer(
        ServiceBuilder::new()
            .layer(HandleErrorLayer::new(overloaded))
            .load_shed()
            .concurrency_limit(limits.max_concurrent_requests),
    );
    Router::new()
        .route("/", rpc)
        .route(
            "/.well-known/agent-card.json",
            get(|State(s): State<AppState>, h: HeaderMap| async move { s.0.card_v1.respond(&h) }),
        )
        .route(
            "/.well-known/agent.json",
            get(|State(s): State<AppState>, h: HeaderMap| async move { s.0.card_v03.respond(&h) }),
        )
        .route("/.well-known/jwks.json", get(jwks))
        .route("/metrics", get(metrics))
        .route("/healthz", get(|| async { "ok" }))
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(limits.max_body_bytes))
        .with_state(state)
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

async fn rpc(
    state: State<AppState>,
    query: RawQuery,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    // The call's future is large (every method's handler state, inline); boxed once here,
    // the router and tower layers move a pointer instead of copying it at every layer.
    Box::pin(handle_rpc(state, query, headers, body)).await
}

async fn handle_rpc(
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    if let Some(ct) = headers.get(header::CONTENT_TYPE)
        && !is_json(ct)
    {
        let e = A2aError::ContentTypeNotSupported(format!(
            "requests must be `application/json`, not `{}`",
            ct.to_str().unwrap_or("?")
        ));
        return json_error(StatusCode::UNSUPPORTED_MEDIA_TYPE, Id::Null, &e);
    }
    let body = match body {
        Ok(b) => b,
        Err(r) if r.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            let e = A2aError::InvalidRequest(
                "the request body is larger than this server accepts".into(),
            );
            return json_error(StatusCode::PAYLOAD_TOO_LARGE, Id::Null, &e);
        }
        Err(r) => {
            let e = A2aError::InvalidRequest(format!(
                "could not read the request body: {}",
                r.body_text()
            ));
            return json_error(r.status(), Id::Null, &e);
        }
    };
    let req = match envelope::parse(&body) {
        Ok(r) => r,
        Err(rejected) => return json_error(StatusCode::OK, rejected.id, &rejected.error),
    };
    let version = version_param(&headers, query.as_deref());
    let last_event_id = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse().ok());
    let outcome = jsonrpc::dispatch(
        &state.0.module,
        req,
        version.as_deref(),
        Scope::default(),
        last_event_id,
    )
    .await;
    match outcome {
        Outcome::Response(r) => json_response(StatusCode::OK, r),
        Outcome::Stream {
            id,
            version,
            stream,
        } => sse::respond(id, version, stream).await,
        Outcome::StreamError(r) => sse::single(&r),
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
    let essence = s
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

fn json_response(status: StatusCode, body: String) -> Response {
    let mut r = Response::new(Body::from(body));
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

async fn overloaded(_: BoxError) -> Response {
    let e = A2aError::Internal("the server is at its concurrency limit; retry shortly".into());
    let mut r = json_error(StatusCode::SERVICE_UNAVAILABLE, Id::Null, &e);
    r.headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    r
}

async fn not_found() -> Response {
    let body = r#"{"error":"not found: the A2A JSON-RPC endpoint is POST /, the agent card GET /.well-known/agent-card.json"}"#;
    let mut r = (StatusCode::NOT_FOUND, body).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    r
}

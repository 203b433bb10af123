//! The axum router: everything but the JSON-RPC POSTs (the well-known card routes, JWKS,
//! metrics, health and readiness, and the answers for wrong paths and methods).

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};

use super::answers::json_response;
use super::health::Readiness;
use super::http::AppState;

/// Every A2A route but the JSON-RPC POSTs.
pub(super) fn a2a_routes() -> Router<AppState> {
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
pub(super) fn ops_routes() -> Router<AppState> {
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

/// Readiness: 503 once shutting down or while the task store does not answer, with one
/// entry per dependency (`/healthz` is liveness: the process serves HTTP).
async fn readyz(State(state): State<AppState>) -> Response {
    let mut r = Readiness::new(state.0.lifecycle.stopping.is_cancelled());
    r.required("store", state.0.store.ping()).await;
    if let Some(limiter) = &state.0.rate_limit
        && let Some(redis) = limiter.redis_ping().await
    {
        // Rate limits fall back to per-process buckets: degraded, not unavailable.
        r.optional("redis", async { redis }).await;
    }
    // A Redis event bus, once there is one, is `r.optional("redis", ...)`: without it
    // subscribers fall back to the store, slower but correct.
    let body = serde_json::to_string(&r).expect("readiness serializes");
    json_response(r.http_status(), body)
}

pub(super) async fn not_found() -> Response {
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

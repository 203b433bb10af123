//! The HTTP+JSON (REST) binding of A2A 1.0 under [`BASE`], and of 0.3 under
//! `BASE/v1` ([`v03`]): each route is a method whose params are built from the path,
//! query and body ([`decode`]), run through the same [`jsonrpc::invoke`] as a JSON-RPC
//! call (limits, idempotency, handlers, scope), and answered with the bare result, an SSE
//! stream of bare `StreamResponse`s, or a `google.rpc.Status` error ([`error`]). Who the
//! caller is comes from the same admission as every transport.

pub mod decode;
pub mod error;
pub mod v03;

use std::net::IpAddr;

use axum::http::{HeaderMap, HeaderValue, Request, StatusCode, header};
use axum::response::Response;
use futures::StreamExt;
use hyper::body::Incoming;
use tracing::Instrument;

use super::admission::{Admission, Caller};
use super::http::{
    AppState, call_headers, call_span, is_json, read_body, record_call, version_param,
};
use super::sse::{self, Framing};
use super::tls::PeerCertificates;
use crate::auth::Refusal;
use crate::jsonrpc::{self, CallInfo, Invocation, Invoked, methods};
use crate::metrics::CallOutcome;
use crate::protocol::{A2aError, Version};
use decode::RouteError;

/// Where the REST routes live: not `/`, so that no REST path can be taken for the
/// JSON-RPC endpoint, the legacy `/tasks/send` paths, the well-known paths or the ops
/// routes, and an agent mounted at `/{name}/` puts its own `/{name}/rest` before the
/// tenant prefix. An agent cannot be named `rest`.
pub const BASE: &str = crate::protocol::card::REST_PATH;

/// Whether `path` is one of ours.
pub fn is_rest_path(path: &str) -> bool {
    path.strip_prefix(BASE)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

/// One REST call: routed, admitted, decoded, invoked, answered. `info` is filled in for
/// the request log and metrics, as for a JSON-RPC call.
pub(super) async fn serve(
    state: &AppState,
    req: Request<Incoming>,
    peer: Option<IpAddr>,
    info: &mut CallInfo,
) -> Response {
    let Ok(_permit) = state.0.in_flight.try_acquire() else {
        info.outcome = CallOutcome::Unavailable;
        return error::response(&A2aError::Unavailable(
            "the server is at its concurrency limit; retry shortly".into(),
        ));
    };
    let (parts, body) = req.into_parts();
    let caller = Caller {
        headers: &parts.headers,
        peer,
        certs: parts.extensions.get::<PeerCertificates>(),
    };
    let path = parts.uri.path().strip_prefix(BASE).unwrap_or("");
    let v03_path = v03::strip(path);
    let version = if v03_path.is_some() {
        Version::V03
    } else {
        Version::V1
    };
    let routed = match v03_path {
        Some(p) => v03::route(&parts.method, p),
        None => decode::route(&parts.method, path),
    };
    if let Ok(r) = &routed {
        info.method = methods::lookup(r.method);
        info.version = Some(version);
    }
    let principal = match state.admit(&caller).await {
        Admission::Admitted(p) => p,
        Admission::RateLimited(wait) => {
            info.outcome = CallOutcome::Error;
            let secs = crate::ratelimit::retry_after_secs(wait);
            let mut r = error::response(&A2aError::RateLimited(format!(
                "too many requests; retry after {secs} s"
            )));
            r.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
            return r;
        }
        Admission::Refused(refusal) => {
            info.outcome = CallOutcome::Error;
            return refused(state, &refusal);
        }
    };
    let fail = |info: &mut CallInfo, r: Response| {
        info.outcome = CallOutcome::Error;
        r
    };
    let routed = match routed {
        Ok(r) => r,
        Err(RouteError::NotFound) if version == Version::V03 => {
            let e = A2aError::MethodNotFound(format!(
                "no HTTP+JSON 0.3 route `{} {}`: the routes are {} below {BASE}",
                parts.method,
                parts.uri.path(),
                v03::ROUTES,
            ));
            return fail(info, error::response(&e));
        }
        Err(RouteError::NotFound) => {
            let e = A2aError::MethodNotFound(format!(
                "no HTTP+JSON route `{} {}`: the routes are {BASE}/message:send, \
                 {BASE}/message:stream, {BASE}/tasks[/{{id}}[:cancel|:subscribe]], \
                 {BASE}/tasks/{{id}}/pushNotificationConfigs[/{{configId}}] and \
                 {BASE}/extendedAgentCard, each also under {BASE}/{{tenant}}",
                parts.method,
                parts.uri.path()
            ));
            return fail(info, error::response(&e));
        }
        Err(RouteError::MethodNotAllowed(allow)) => {
            let e = A2aError::MethodNotFound(format!(
                "`{} {}` is not a route: this path takes {allow}",
                parts.method,
                parts.uri.path()
            ));
            let mut r = error::with_http_status(&e, StatusCode::METHOD_NOT_ALLOWED);
            r.headers_mut()
                .insert(header::ALLOW, HeaderValue::from_static(allow));
            return fail(info, r);
        }
        Err(RouteError::BadSegment) => {
            let e =
                A2aError::InvalidParams("a path segment is not valid percent-encoded UTF-8".into());
            return fail(info, error::response(&e));
        }
    };
    // The version of the route: a request that names another one is refused.
    if let Some(v) = version_param(&parts.headers, parts.uri.query()) {
        let requested = Version::from_header(&v);
        if requested != Ok(version) {
            let e = requested.err().unwrap_or_else(|| {
                A2aError::VersionNotSupported(format!(
                    "A2A-Version `{v}`: the routes under {BASE}{} are A2A {}",
                    if version == Version::V03 {
                        v03::PREFIX
                    } else {
                        ""
                    },
                    version.as_str()
                ))
            });
            info.failed(&e, version);
            return error::response(&e);
        }
    }
    if let Some(ct) = parts.headers.get(header::CONTENT_TYPE)
        && !is_json(ct)
    {
        let e = A2aError::ContentTypeNotSupported(format!(
            "request bodies must be `application/json` (or `application/a2a+json`), not `{}`",
            ct.to_str().unwrap_or("?")
        ));
        return fail(info, error::unsupported_media_type(&e));
    }
    let body = match read_body(body, &parts.headers, state.0.max_body_bytes).await {
        Ok(b) => b,
        Err((status, e)) => return fail(info, error::with_http_status(&e, status)),
    };
    let params = match version {
        Version::V03 => v03::params(&routed, parts.uri.query(), &body),
        _ => decode::params(&routed, parts.uri.query(), &body),
    };
    let params = match params {
        Ok(p) => p,
        Err(e) => {
            info.failed(&e, version);
            return error::response(&e);
        }
    };
    if matches!(
        routed.method,
        "GetExtendedAgentCard" | "agent/getAuthenticatedExtendedCard"
    ) && let Some(refusal) = state.extended_card_refusal(&principal, caller.peer)
    {
        info.outcome = CallOutcome::Error;
        return refused(state, &refusal);
    }
    let Some(spec) = methods::lookup(routed.method) else {
        let e = A2aError::Internal(format!("`{}` is not in the method table", routed.method));
        return fail(info, error::response(&e));
    };
    let (last_event_id, idempotency_key) = call_headers(&parts.headers);
    let expiry = sse::Expiry::of(&principal);
    let args = Invocation {
        spec,
        version,
        principal,
        last_event_id,
        idempotency_key,
    };
    let span = crate::traces::enabled().then(|| call_span(spec.name, "http"));
    let call = jsonrpc::invoke(&state.0.module, args, Some(&params), info);
    let outcome = match &span {
        Some(span) => {
            let outcome = Box::pin(call.instrument(span.clone())).await;
            record_call(span, info);
            outcome
        }
        None => call.await,
    };
    match outcome {
        Ok(Invoked::Value(result)) => {
            let result = match version {
                Version::V03 => v03::result_out(spec.name, &result),
                _ => result,
            };
            let mut r = Response::new(result.into_string().into());
            r.headers_mut()
                .insert(header::CONTENT_TYPE, success_type(&parts.headers));
            r
        }
        Ok(Invoked::Stream(stream)) => {
            let stream: jsonrpc::SseStream = match span {
                Some(span) if !span.is_disabled() => {
                    let outer = tracing::Span::current();
                    Box::pin(crate::traces::TracedStream::new(stream, span, outer))
                }
                _ => stream,
            };
            let stream = match version {
                // 0.3 events carry no `id:`, as on 0.3 JSON-RPC.
                Version::V03 => Box::pin(stream.map(|item| jsonrpc::SseItem {
                    id: None,
                    result: item.result.map(|r| v03::stream_item_out(&r)),
                })),
                _ => stream,
            };
            let metrics = state.0.metrics.clone();
            let draining = &state.0.lifecycle.draining;
            sse::respond_framed(Framing::Rest, stream, draining, metrics, expiry).await
        }
        Err(e) => error::response(&e),
    }
}

/// `application/a2a+json` when the client asks for it, else `application/json` (the kit
/// and several SDK clients require the latter).
fn success_type(headers: &HeaderMap) -> HeaderValue {
    let wants_a2a = headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.to_ascii_lowercase().contains("application/a2a+json"));
    HeaderValue::from_static(if wants_a2a {
        "application/a2a+json"
    } else {
        "application/json"
    })
}

/// 401 (with a `WWW-Authenticate` challenge per scheme) or 403, as a Status body.
fn refused(state: &AppState, refusal: &Refusal) -> Response {
    let e = match refusal {
        Refusal::InsufficientScope { .. } => A2aError::PermissionDenied(refusal.to_string()),
        _ => A2aError::Unauthenticated(refusal.to_string()),
    };
    let mut r = error::response(&e);
    for challenge in state.challenges(refusal) {
        if let Ok(v) = HeaderValue::try_from(challenge) {
            r.headers_mut().append(header::WWW_AUTHENTICATE, v);
        }
    }
    r
}

//! One gRPC call, whatever its service: admission, the version, the deadline, then the
//! same method handler a JSON-RPC call reaches, with the same metrics, log line and span.
//!
//! The request message goes to the handler as its ProtoJSON (pbjson), which is exactly
//! the params the 1.0 JSON-RPC codec reads, and the result comes back the same way: one
//! codec and one set of handlers for both transports, at the cost of a JSON round trip.

use std::net::IpAddr;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use futures::{Stream, StreamExt};
use serde::Serialize;
use serde::de::DeserializeOwned;
use tonic::{Request, Status};
use tracing::Instrument;

use super::status::{rate_limited, refused, status};
use crate::jsonrpc::{self, CallInfo, Served, methods::MethodSpec};
use crate::metrics::CallOutcome;
use crate::protocol::{A2aError, Version};
use crate::transport::admission::{Admission, Caller};
use crate::transport::http::{AppState, InFlight, call_span, log_call, record_call};
use crate::transport::tls::PeerCertificates;

/// The peer of the connection a gRPC request came on (set by the endpoint).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Peer(pub(crate) Option<IpAddr>);

/// A server stream of a gRPC call.
pub(super) type GrpcStream<T> = Pin<Box<dyn Stream<Item = Result<T, Status>> + Send>>;

/// What a call produced, before its result is decoded into the response message.
enum Answer {
    Result(crate::codec::Json),
    Stream(jsonrpc::SseStream),
}

/// A request whose message is already the method's JSON params (or why it is none).
pub(super) type JsonRequest = Request<Result<String, A2aError>>;

/// The 1.0 request message as its ProtoJSON, the 1.0 codec's params.
fn protojson<Q: Serialize>(req: Request<Q>) -> JsonRequest {
    req.map(|m| serde_json::to_string(&m).map_err(|e| A2aError::InvalidParams(e.to_string())))
}

/// Runs a unary call of `method` (1.0) and decodes its result.
pub(super) async fn unary<Q: Serialize, R: DeserializeOwned>(
    state: &AppState,
    spec: &'static MethodSpec,
    version: Version,
    req: Request<Q>,
) -> Result<R, Status> {
    decode(
        unary_json(state, spec, version, protojson(req))
            .await?
            .get(),
    )
}

/// Runs a unary call of `method` on JSON params; its result as the JSON-RPC result.
pub(super) async fn unary_json(
    state: &AppState,
    spec: &'static MethodSpec,
    version: Version,
    req: JsonRequest,
) -> Result<crate::codec::Json, Status> {
    match run(state, spec, version, req).await? {
        Answer::Result(json) => Ok(json),
        Answer::Stream(_) => Err(internal("a unary method answered with a stream")),
    }
}

/// Runs a streaming call of `method` (1.0); each result is decoded into `R`.
pub(super) async fn streaming<Q: Serialize, R: DeserializeOwned + Send + 'static>(
    state: &AppState,
    spec: &'static MethodSpec,
    version: Version,
    req: Request<Q>,
) -> Result<GrpcStream<R>, Status> {
    streaming_json(state, spec, version, protojson(req), |j| decode::<R>(j)).await
}

/// Runs a streaming call of `method` on JSON params; each result (JSON-RPC result JSON)
/// goes through `decode`. The stream ends at the call's deadline and when the server
/// drains; dropped (the client cancelled), it drops the task subscription under it.
pub(super) async fn streaming_json<R: Send + 'static>(
    state: &AppState,
    spec: &'static MethodSpec,
    version: Version,
    req: JsonRequest,
    decode: fn(&str) -> Result<R, Status>,
) -> Result<GrpcStream<R>, Status> {
    let deadline = deadline(req.metadata()).map(|d| tokio::time::Instant::now() + d);
    let items = match run(state, spec, version, req).await? {
        Answer::Stream(s) => s,
        Answer::Result(_) => return Err(internal("a streaming method answered without a stream")),
    };
    let draining = state.0.lifecycle.draining.clone();
    let items = items.map(move |item| match item.result {
        Ok(json) => decode(json.get()),
        Err(e) => Err(status(&e)),
    });
    let items = items.take_until(async move { draining.cancelled().await });
    let stream: GrpcStream<R> = match deadline {
        Some(at) => Box::pin(
            items.take_until(tokio::time::sleep_until(at)).chain(
                futures::stream::once(async move {
                    Err(Status::deadline_exceeded("the call's deadline passed"))
                })
                .filter(move |_| std::future::ready(tokio::time::Instant::now() >= at)),
            ),
        ),
        None => Box::pin(items),
    };
    state.0.metrics.sse_streams_open.inc();
    Ok(Box::pin(Watched {
        inner: stream,
        method: spec.name,
        done: false,
        metrics: state.0.metrics.clone(),
    }))
}

/// Counts an open server stream in `a2a_sse_streams_open` (the open streams of every
/// transport) and notes a client that cancels.
struct Watched<T> {
    inner: GrpcStream<T>,
    method: &'static str,
    done: bool,
    metrics: std::sync::Arc<crate::metrics::Metrics>,
}

impl<T> Stream for Watched<T> {
    type Item = Result<T, Status>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let next = self.inner.as_mut().poll_next(cx);
        if let Poll::Ready(None) = next {
            self.done = true;
        }
        next
    }
}

impl<T> Drop for Watched<T> {
    fn drop(&mut self) {
        self.metrics.sse_streams_open.dec();
        if !self.done {
            tracing::debug!(
                target: "a2a::request",
                method = self.method,
                "grpc stream cancelled by the client; its task subscription is dropped"
            );
        }
    }
}

pub(super) fn internal(msg: &str) -> Status {
    status(&A2aError::Internal(msg.into()))
}

/// A result (ProtoJSON of the 1.0 codec) as the response message.
pub(super) fn decode<R: DeserializeOwned>(json: &str) -> Result<R, Status> {
    serde_json::from_str(json)
        .map_err(|e| internal(&format!("the result does not fit the gRPC message: {e}")))
}

/// Admission, counted and logged as a JSON-RPC call is (`a2a_requests_total`, the request
/// log line, the call span), bounded by the call's `grpc-timeout`.
async fn run(
    state: &AppState,
    spec: &'static MethodSpec,
    version: Version,
    req: JsonRequest,
) -> Result<Answer, Status> {
    let started = Instant::now();
    let metrics = &state.0.metrics;
    let in_flight = InFlight::new(&metrics.requests_in_flight);
    let mut info = CallInfo {
        method: Some(spec),
        ..CallInfo::default()
    };
    let span = crate::traces::enabled().then(|| {
        let span = call_span(spec.name, "grpc");
        crate::traces::set_remote_parent(&span, &req.metadata().clone().into_headers());
        span
    });
    let timeout = deadline(req.metadata());
    let call = serve(state, spec, version, req, &mut info);
    let call = async {
        match timeout {
            Some(d) => tokio::time::timeout(d, call)
                .await
                .unwrap_or_else(|_| Err(Status::deadline_exceeded("the call's deadline passed"))),
            None => call.await,
        }
    };
    let result = match &span {
        Some(span) => {
            let r = Box::pin(call.instrument(span.clone())).await;
            record_call(span, &info);
            r
        }
        None => call.await,
    };
    drop(in_flight);
    let code = match &result {
        Ok(_) => tonic::Code::Ok,
        Err(s) => {
            info.outcome = match s.code() {
                tonic::Code::Unavailable => CallOutcome::Unavailable,
                _ => CallOutcome::Error,
            };
            s.code()
        }
    };
    let elapsed = started.elapsed();
    metrics.request_done(info.method, info.version, info.outcome, elapsed);
    let log = || log_call("grpc", &info, code as u16, elapsed);
    match &span {
        Some(span) => span.in_scope(log),
        None => log(),
    }
    result
}

async fn serve(
    state: &AppState,
    spec: &'static MethodSpec,
    version: Version,
    req: JsonRequest,
    info: &mut CallInfo,
) -> Result<Answer, Status> {
    let Ok(_permit) = state.0.in_flight.try_acquire() else {
        return Err(status(&A2aError::Unavailable(
            "the server is at its concurrency limit; retry shortly".into(),
        )));
    };
    let (metadata, extensions, message) = req.into_parts();
    let headers = metadata.into_headers();
    let peer = extensions.get::<Peer>().and_then(|p| p.0);
    let caller = Caller {
        headers: &headers,
        peer,
        certs: extensions.get::<PeerCertificates>(),
    };
    let principal = match state.admit(&caller).await {
        Admission::Admitted(p) => p,
        Admission::RateLimited(wait) => return Err(rate_limited(wait)),
        Admission::Refused(r) => return Err(refused(&r, &state.challenges(&r))),
    };
    let fail = |info: &mut CallInfo, e: A2aError| {
        info.outcome = CallOutcome::Error;
        info.error_code = Some(e.code());
        status(&e)
    };
    if let Err(e) = check_version(&headers, version) {
        return Err(fail(info, e));
    }
    info.version = Some(version);
    if spec.name == "GetExtendedAgentCard"
        && let Some(r) = state.extended_card_refusal(&principal, peer)
    {
        return Err(refused(&r, &state.challenges(&r)));
    }
    let idempotency_key = crate::protocol::IdempotencyKey::from_values(
        headers
            .get_all("idempotency-key")
            .iter()
            .map(http::HeaderValue::as_bytes),
    );
    let params = message.map_err(|e| fail(info, e))?;
    let served = jsonrpc::call_method(
        &state.0.module,
        spec,
        version,
        Some(&params),
        principal,
        idempotency_key,
        info,
    )
    .await
    .map_err(|e| status(&e))?;
    Ok(match served {
        Served::Result(r) => Answer::Result(r),
        Served::Stream(s) => Answer::Stream(s),
    })
}

/// The `a2a-version` metadata must name the service's version; absent, the service's
/// package says which it is.
fn check_version(headers: &http::HeaderMap, service: Version) -> Result<(), A2aError> {
    let Some(v) = headers
        .get("a2a-version")
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty())
    else {
        return Ok(());
    };
    let asked = Version::from_header(v)?;
    if asked == service {
        return Ok(());
    }
    Err(A2aError::VersionNotSupported(format!(
        "a2a-version `{v}` is not the version of this service ({}): A2A 1.0 is \
         lf.a2a.v1.A2AService, A2A 0.3 is a2a.v1.A2AService",
        service.as_str()
    )))
}

/// The call's `grpc-timeout`: digits and a unit (`H`, `M`, `S`, `m`, `u`, `n`).
fn deadline(metadata: &tonic::metadata::MetadataMap) -> Option<Duration> {
    let v = metadata.get("grpc-timeout")?.to_str().ok()?;
    let (digits, unit) = v.split_at(v.len().checked_sub(1)?);
    let n: u64 = digits.parse().ok()?;
    Some(match unit {
        "H" => Duration::from_secs(n.saturating_mul(3600)),
        "M" => Duration::from_secs(n.saturating_mul(60)),
        "S" => Duration::from_secs(n),
        "m" => Duration::from_millis(n),
        "u" => Duration::from_micros(n),
        "n" => Duration::from_nanos(n),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grpc_timeout_units() {
        let mut m = tonic::metadata::MetadataMap::new();
        for (v, d) in [
            ("5S", Duration::from_secs(5)),
            ("100m", Duration::from_millis(100)),
            ("2M", Duration::from_secs(120)),
        ] {
            m.insert("grpc-timeout", v.parse().unwrap());
            assert_eq!(deadline(&m), Some(d));
        }
        m.insert("grpc-timeout", "5x".parse().unwrap());
        assert_eq!(deadline(&m), None);
    }
}

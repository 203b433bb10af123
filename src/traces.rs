//! OpenTelemetry traces: the OTLP exporter, configured only by the standard `OTEL_*`
//! variables, and the helpers the request path uses to make its few spans and carry their
//! context across process boundaries (W3C `traceparent`).
//!
//! Every span of ours has the target [`SPAN_TARGET`]. The log layer filters that target
//! out, so with no exporter configured no layer wants these spans: `tracing` then costs a
//! cached callsite check per span and none is created.

use std::collections::HashMap;
use std::pin::Pin;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context as TaskContext, Poll};

use futures::Stream;
use opentelemetry::propagation::TextMapPropagator;
use opentelemetry::trace::{TraceContextExt, TracerProvider as _};
use opentelemetry_http::{HeaderExtractor, HeaderInjector};
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing::Span;
use tracing_opentelemetry::OpenTelemetrySpanExt;

/// The target of every span (and span event) this crate makes for traces.
pub const SPAN_TARGET: &str = "a2a::span";

/// Set once an exporter is installed; read before any work that only traces need.
static ENABLED: AtomicBool = AtomicBool::new(false);

/// Whether spans are exported (an endpoint is configured and the SDK is not disabled).
#[inline]
pub fn enabled() -> bool {
    ENABLED.load(Ordering::Relaxed)
}

/// Keeps the tracer provider; [`Traces::shutdown`] flushes the spans still queued.
#[derive(Default)]
pub struct Traces(Option<SdkTracerProvider>);

impl Traces {
    /// Exports what is queued and stops the exporter. Blocks (the exporter's own thread
    /// does the HTTP), so async callers run it on a blocking thread.
    pub fn shutdown(mut self) {
        if let Some(p) = self.0.take()
            && let Err(e) = p.shutdown()
        {
            eprintln!("warning: cannot flush traces: {e}");
        }
    }
}

impl Drop for Traces {
    fn drop(&mut self) {
        if let Some(p) = self.0.take() {
            let _ = p.shutdown();
        }
    }
}

/// `OTEL_SDK_DISABLED=true`: the spec's switch, which the Rust SDK does not read itself.
fn sdk_disabled() -> bool {
    std::env::var("OTEL_SDK_DISABLED").is_ok_and(|v| v.trim().eq_ignore_ascii_case("true"))
}

fn env_set(name: &str) -> bool {
    std::env::var(name).is_ok_and(|v| !v.trim().is_empty())
}

/// The tracer provider, when an OTLP endpoint is configured and the SDK is not disabled.
/// Endpoint, protocol, sampler, batch settings and resource come from the `OTEL_*`
/// variables: the SDK reads them itself unless a builder call overrides them, so the only
/// programmatic setting is the default service name.
pub fn provider() -> Option<(SdkTracerProvider, Traces)> {
    let configured =
        env_set("OTEL_EXPORTER_OTLP_ENDPOINT") || env_set("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT");
    if !configured || sdk_disabled() {
        return None;
    }
    // The SDK would fall back to http/protobuf in silence.
    #[cfg(not(feature = "otlp-grpc"))]
    if [
        "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL",
        "OTEL_EXPORTER_OTLP_PROTOCOL",
    ]
    .iter()
    .any(|v| std::env::var(v).is_ok_and(|p| p.trim().eq_ignore_ascii_case("grpc")))
    {
        eprintln!(
            "warning: OTLP over gRPC needs a build with `--features otlp-grpc`; exporting http/protobuf"
        );
    }
    let exporter = match opentelemetry_otlp::SpanExporter::builder().build() {
        Ok(e) => e,
        Err(e) => {
            eprintln!("warning: traces are off: {e}");
            return None;
        }
    };
    let mut resource = opentelemetry_sdk::Resource::builder();
    let named = env_set("OTEL_SERVICE_NAME")
        || std::env::var("OTEL_RESOURCE_ATTRIBUTES").is_ok_and(|a| a.contains("service.name="));
    if !named {
        resource = resource.with_service_name("a2a-server");
    }
    let resource = resource
        .with_attribute(opentelemetry::KeyValue::new(
            "service.version",
            env!("CARGO_PKG_VERSION"),
        ))
        .build();
    let provider = SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .with_resource(resource)
        .build();
    // The global propagator is a no-op until set; the helpers below use their own.
    opentelemetry::global::set_text_map_propagator(TraceContextPropagator::new());
    ENABLED.store(true, Ordering::Relaxed);
    Some((provider.clone(), Traces(Some(provider))))
}

/// The tracer the `tracing` layer hands spans to.
pub fn tracer(provider: &SdkTracerProvider) -> opentelemetry_sdk::trace::SdkTracer {
    provider.tracer("a2a-server")
}

fn propagator() -> &'static TraceContextPropagator {
    static P: OnceLock<TraceContextPropagator> = OnceLock::new();
    P.get_or_init(TraceContextPropagator::new)
}

/// Makes the caller's `traceparent`/`tracestate` the parent of `span` (a server span not
/// yet entered). Without them, `span` starts a trace.
pub fn set_remote_parent(span: &Span, headers: &http::HeaderMap) {
    if span.is_disabled() || !headers.contains_key("traceparent") {
        return;
    }
    let cx = propagator().extract(&HeaderExtractor(headers));
    let _ = span.set_parent(cx);
}

/// Adds `traceparent` (and `tracestate`) for `span` to `headers`; nothing when the span
/// is not traced.
pub fn inject(span: &Span, headers: &mut http::HeaderMap) {
    if span.is_disabled() {
        return;
    }
    let cx = span.context();
    if cx.span().span_context().is_valid() {
        propagator().inject_context(&cx, &mut HeaderInjector(headers));
    }
}

/// The `(trace_id, span_id)` of the current span, lowercase hex, when it is traced.
pub fn current_ids() -> Option<(String, String)> {
    if !enabled() {
        return None;
    }
    let cx = Span::current().context();
    let span = cx.span();
    let sc = span.span_context();
    sc.is_valid()
        .then(|| (sc.trace_id().to_string(), sc.span_id().to_string()))
}

/// The W3C `traceparent` of the current span, when it is traced: stored with the outbox
/// rows of the events a write makes, so their webhook attempts continue its trace in any
/// process, after a restart too. `None` (at the cost of a load) when nothing exports.
pub fn current_traceparent() -> Option<String> {
    if !enabled() {
        return None;
    }
    let cx = Span::current().context();
    let span = cx.span();
    let sc = span.span_context();
    sc.is_valid().then(|| {
        format!(
            "00-{}-{}-{:02x}",
            sc.trace_id(),
            sc.span_id(),
            sc.trace_flags().to_u8()
        )
    })
}

/// The remote parent a stored `traceparent` names (`None`: not a valid one).
fn remote_context(traceparent: &str) -> Option<opentelemetry::Context> {
    let carrier = HashMap::from([("traceparent".to_string(), traceparent.to_string())]);
    let cx = propagator().extract(&carrier);
    cx.span().span_context().is_valid().then_some(cx)
}

/// Whether `value` is a valid W3C `traceparent` (one read back from a store is sent on).
pub fn is_traceparent(value: &str) -> bool {
    remote_context(value).is_some()
}

/// Makes the stored `traceparent` of a notification the parent of `span` (its delivery
/// attempt); nothing when the span is not traced or the value is not a valid one.
pub fn set_stored_parent(span: &Span, traceparent: &str) {
    if span.is_disabled() {
        return;
    }
    if let Some(cx) = remote_context(traceparent) {
        let _ = span.set_parent(cx);
    }
}

/// `fut` inside the span `span` makes, when traced; else `fut` itself: no span, and no
/// enter and exit on each poll.
pub fn in_span<F: std::future::Future>(
    fut: F,
    span: impl FnOnce() -> Span,
) -> futures::future::Either<tracing::instrument::Instrumented<F>, F> {
    use tracing::Instrument as _;
    if enabled() {
        futures::future::Either::Left(fut.instrument(span()))
    } else {
        futures::future::Either::Right(fut)
    }
}

/// The span of one store write (`op`: `create` or `commit`), a child of the current span.
pub fn store_span(op: &'static str) -> Span {
    tracing::info_span!(
        target: SPAN_TARGET,
        "store",
        otel.name = op,
        otel.kind = "client",
        db.operation.name = op,
    )
}

/// A stream that keeps the call's `span` and the HTTP span around it (`outer`) open as long
/// as it lasts, and records each item as a span event (`seq` = the SSE event id). A span
/// ends when it was last exited, so both are entered on every poll and once more when the
/// stream is dropped (ended, or its client went away).
pub struct TracedStream {
    inner: crate::jsonrpc::SseStream,
    span: Span,
    outer: Span,
}

impl TracedStream {
    pub fn new(inner: crate::jsonrpc::SseStream, span: Span, outer: Span) -> Self {
        Self { inner, span, outer }
    }
}

impl Drop for TracedStream {
    fn drop(&mut self) {
        let _outer = self.outer.enter();
        let _in = self.span.enter();
    }
}

impl Stream for TracedStream {
    type Item = crate::jsonrpc::SseItem;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        let _outer = this.outer.enter();
        let _in = this.span.enter();
        let item = this.inner.as_mut().poll_next(cx);
        if let Poll::Ready(Some(item)) = &item {
            let seq = item.id.map(|s| s as i64);
            match &item.result {
                Ok(_) => tracing::info!(target: SPAN_TARGET, seq, "event"),
                Err(_) => tracing::info!(target: SPAN_TARGET, seq, "error event"),
            }
        }
        item
    }
}

/// The name of the span of a call to `wire_method`: its 1.0 name, `_OTHER` when unknown
/// (names are a closed set; a client's made-up names do not become span names).
pub fn span_name(wire_method: &str) -> &'static str {
    crate::jsonrpc::methods::lookup(wire_method).map_or("_OTHER", |m| a2a_method_name(m.name))
}

/// The A2A 1.0 name of a method, whatever the wire version called it (the OTel A2A
/// convention names spans and `a2a.method.name` with 1.0 names only).
pub fn a2a_method_name(wire: &'static str) -> &'static str {
    match wire {
        "message/send" | "tasks/send" => "SendMessage",
        "message/stream" | "tasks/sendSubscribe" => "SendStreamingMessage",
        "tasks/get" => "GetTask",
        "tasks/cancel" => "CancelTask",
        "tasks/resubscribe" => "SubscribeToTask",
        "tasks/pushNotificationConfig/set" | "tasks/pushNotification/set" => {
            "CreateTaskPushNotificationConfig"
        }
        "tasks/pushNotificationConfig/get" | "tasks/pushNotification/get" => {
            "GetTaskPushNotificationConfig"
        }
        "tasks/pushNotificationConfig/list" => "ListTaskPushNotificationConfigs",
        "tasks/pushNotificationConfig/delete" => "DeleteTaskPushNotificationConfig",
        "agent/getAuthenticatedExtendedCard" => "GetExtendedAgentCard",
        v1 => v1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_method_has_a_one_dot_zero_name() {
        for m in crate::jsonrpc::methods::METHODS {
            let name = a2a_method_name(m.name);
            assert!(
                crate::jsonrpc::methods::METHODS
                    .iter()
                    .any(|v| v.name == name && v.family == crate::jsonrpc::methods::Family::V1),
                "{} -> {name}",
                m.name
            );
        }
        assert_eq!(a2a_method_name("tasks/send"), "SendMessage");
    }

    /// A stored value is sent on only when it is one: a bad row must not become a header.
    #[test]
    fn only_valid_traceparents_are_taken_from_the_store() {
        let tp = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
        assert!(is_traceparent(tp));
        let cx = remote_context(tp).unwrap();
        assert_eq!(
            cx.span().span_context().trace_id().to_string(),
            "4bf92f3577b34da6a3ce929d0e0e4736"
        );
        for bad in [
            "",
            "garbage",
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01\r\nx: y",
        ] {
            assert!(!is_traceparent(bad), "{bad:?}");
        }
    }
}

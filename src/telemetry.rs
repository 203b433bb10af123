//! Logging setup: `RUST_LOG` filters (default `info`), to stderr (stdout is for output), as
//! text or as one JSON object a line (`log_format`).
//!
//! A JSON line is `{"time", "level", "target", "message", "fields", "span"}`, `span` (the
//! current span's name and fields) only inside one, plus `trace_id` / `span_id` when
//! the current span is traced (OpenTelemetry, [`crate::traces`]).

use std::io::IsTerminal;

use serde_json::{Map, Value};
use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::filter::Targets;
use tracing_subscriber::fmt::format::{JsonFields, Writer};
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields, FormattedFields};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::registry::{LookupSpan, SpanRef};
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer, fmt};

pub use crate::traces::Traces;

pub use crate::config::LogFormat;

/// The format when none is configured: text for a person at a terminal, JSON for a
/// collector reading a file or a pipe.
pub fn default_format() -> LogFormat {
    if std::io::stderr().is_terminal() {
        LogFormat::Text
    } else {
        LogFormat::Json
    }
}

/// `A2A_LOG_FORMAT` for the commands that read no configuration (the server's own
/// setting comes through [`crate::config::Config`]); unset or invalid: `None`.
pub fn format_from_env() -> Option<LogFormat> {
    match std::env::var("A2A_LOG_FORMAT").ok()?.trim() {
        f if f.eq_ignore_ascii_case("json") => Some(LogFormat::Json),
        f if f.eq_ignore_ascii_case("text") => Some(LogFormat::Text),
        _ => None,
    }
}

/// Installs the global subscriber, with an OpenTelemetry layer when the `OTEL_*`
/// variables configure an exporter (see [`crate::traces`]); a second call does nothing.
/// Keep the returned [`Traces`] until the end: its `shutdown` flushes the spans.
pub fn init(format: Option<LogFormat>) -> Traces {
    let filter = log_filter(EnvFilter::try_from_default_env().ok());
    // Per-layer filter, so a later OpenTelemetry layer gets its own and `RUST_LOG=warn`
    // does not erase traces.
    let layer = match format.unwrap_or_else(default_format) {
        LogFormat::Json => fmt::layer()
            .event_format(JsonLines)
            // Span fields kept as JSON, so a line can carry them as values.
            .fmt_fields(JsonFields::new())
            .with_writer(std::io::stderr)
            .boxed(),
        LogFormat::Text => fmt::layer()
            // Escape codes only for a terminal: in a file they are noise.
            .with_ansi(std::io::stderr().is_terminal())
            .with_writer(std::io::stderr)
            .boxed(),
    };
    let log = layer.with_filter(filter);
    let Some((provider, traces)) = crate::traces::provider() else {
        // No `Option` layer here: a `None` layer enables every callsite the log layer
        // filters out, trace spans included.
        let _ = tracing_subscriber::registry().with(log).try_init();
        return Traces::default();
    };
    // Only our spans (and their events); library spans would multiply the count.
    let targets = Targets::new()
        .with_target(crate::traces::SPAN_TARGET, Level::TRACE)
        .with_default(Level::WARN);
    let otel = tracing_opentelemetry::layer()
        .with_tracer(crate::traces::tracer(&provider))
        .with_location(false)
        .with_threads(false)
        .with_target(false)
        .with_tracked_inactivity(false)
        .with_filter(targets);
    let _ = tracing_subscriber::registry()
        .with(log)
        .with(otel)
        .try_init();
    traces
}

/// The log layer's filter: `RUST_LOG` (default `info`) without the trace spans. They are
/// not log lines, and with them off here no layer wants them when no exporter is
/// configured, so `tracing` creates none (the disabled path costs a callsite check).
fn log_filter(from_env: Option<EnvFilter>) -> EnvFilter {
    from_env
        .unwrap_or_else(|| EnvFilter::new("info"))
        .add_directive(
            format!("{}=off", crate::traces::SPAN_TARGET)
                .parse()
                .expect("a valid directive"),
        )
}

/// The `(trace_id, span_id)` of the current span, lowercase hex, when it belongs to an
/// OpenTelemetry trace. Read from the dispatcher's current span, not this layer's: the
/// trace spans are filtered out of the log layer.
fn trace_context() -> Option<(String, String)> {
    crate::traces::current_ids()
}

/// One JSON object a line, with the message and level at the top (tracing-subscriber's
/// own JSON format nests the message in `fields` and has no place for trace ids).
struct JsonLines;

impl<S, N> FormatEvent<S, N> for JsonLines
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> std::fmt::Result {
        let meta = event.metadata();
        let mut fields = FieldMap::default();
        event.record(&mut fields);
        let message = fields.0.remove("message").unwrap_or(Value::Null);
        let mut line = Map::with_capacity(8);
        let time = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
        line.insert("time".into(), time.into());
        line.insert("level".into(), meta.level().as_str().into());
        line.insert("target".into(), meta.target().into());
        line.insert("message".into(), message);
        line.insert("fields".into(), Value::Object(fields.0));
        if let Some(span) = ctx.lookup_current() {
            line.insert("span".into(), span_object(&span));
        }
        if let Some((trace_id, span_id)) = trace_context() {
            line.insert("trace_id".into(), trace_id.into());
            line.insert("span_id".into(), span_id.into());
        }
        let text = serde_json::to_string(&line).map_err(|_| std::fmt::Error)?;
        writeln!(writer, "{text}")
    }
}

/// `{"name": ..., <the span's fields>}`.
fn span_object<S>(span: &SpanRef<'_, S>) -> Value
where
    S: for<'a> LookupSpan<'a>,
{
    let mut object = Map::new();
    object.insert("name".into(), span.name().into());
    let extensions = span.extensions();
    if let Some(f) = extensions.get::<FormattedFields<JsonFields>>()
        && let Ok(Value::Object(fields)) = serde_json::from_str::<Value>(&f.fields)
    {
        object.extend(fields);
    }
    Value::Object(object)
}

/// An event's fields as JSON values: numbers and booleans stay themselves.
#[derive(Default)]
struct FieldMap(Map<String, Value>);

impl Visit for FieldMap {
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.0.insert(field.name().into(), value.into());
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.0.insert(field.name().into(), value.into());
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.0.insert(field.name().into(), value.into());
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.0.insert(field.name().into(), value.into());
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().into(), value.into());
    }

    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        self.0.insert(field.name().into(), value.to_string().into());
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.0
            .insert(field.name().into(), format!("{value:?}").into());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    /// A writer into a shared buffer, for a subscriber under test.
    #[derive(Clone, Default)]
    struct Buffer(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Buffer {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    /// The subscriber [`init`] installs without an exporter.
    #[test]
    fn without_an_exporter_no_trace_span_is_created_even_at_debug() {
        let subscriber = tracing_subscriber::registry().with(
            fmt::layer()
                .with_writer(std::io::sink)
                .with_filter(log_filter(Some(EnvFilter::new("debug")))),
        );
        tracing::subscriber::with_default(subscriber, || {
            let span = tracing::info_span!(target: crate::traces::SPAN_TARGET, "a2a");
            assert!(span.is_disabled());
            assert!(!tracing::info_span!("other").is_disabled());
        });
    }

    #[test]
    fn a_json_line_has_message_fields_and_span_at_the_top() {
        let buffer = Buffer::default();
        let sink = buffer.clone();
        let subscriber = tracing_subscriber::registry().with(
            fmt::layer()
                .event_format(JsonLines)
                .fmt_fields(JsonFields::new())
                .with_writer(move || sink.clone()),
        );
        tracing::subscriber::with_default(subscriber, || {
            let span = tracing::info_span!("call", method = "SendMessage");
            let _in = span.enter();
            tracing::info!(status = 200u16, ok = true, ms = 1.5, "rpc \"call\"");
        });
        let out = String::from_utf8(buffer.0.lock().unwrap().clone()).unwrap();
        assert_eq!(out.lines().count(), 1, "{out}");
        let v: Value = serde_json::from_str(out.trim()).unwrap();
        assert_eq!(v["level"], "INFO");
        assert_eq!(v["message"], "rpc \"call\"");
        assert_eq!(
            v["fields"],
            serde_json::json!({"status": 200, "ok": true, "ms": 1.5})
        );
        assert_eq!(
            v["span"],
            serde_json::json!({"name": "call", "method": "SendMessage"})
        );
        assert!(v["time"].as_str().is_some_and(|t| t.ends_with('Z')), "{v}");
        assert!(
            v["target"]
                .as_str()
                .is_some_and(|t| t.contains("telemetry"))
        );
        // No OpenTelemetry context yet: no ids rather than made-up ones.
        assert!(v.get("trace_id").is_none());
    }
}

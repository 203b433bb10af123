//! Logging setup: `RUST_LOG` filters (default `info`), to stderr (stdout is for output), as
//! text or as one JSON object a line (`log_format`).
//!
//! A JSON line carries `timestamp`, `level`, `target`, `fields` (with `message`) and the
//! active spans. Trace ids: when the OpenTelemetry layer is added, it goes into
//! [`init`]'s registry beside the fmt layer, and the JSON formatter gains `trace_id` /
//! `span_id` from the current span's OTel context (see `../shared/notes/observability.md`,
//! "JSON logs"); without it no span has a trace id to print.

use std::io::IsTerminal;

use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer, fmt};

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

/// Installs the global subscriber; a second call does nothing.
pub fn init(format: Option<LogFormat>) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    // Per-layer filter, so a later OpenTelemetry layer gets its own and `RUST_LOG=warn`
    // does not erase traces.
    let layer = match format.unwrap_or_else(default_format) {
        LogFormat::Json => fmt::layer()
            .json()
            .with_current_span(true)
            .with_span_list(false)
            .with_writer(std::io::stderr)
            .boxed(),
        LogFormat::Text => fmt::layer()
            // Escape codes only for a terminal: in a file they are noise.
            .with_ansi(std::io::stderr().is_terminal())
            .with_writer(std::io::stderr)
            .boxed(),
    };
    let _ = tracing_subscriber::registry()
        .with(layer.with_filter(filter))
        .try_init();
}

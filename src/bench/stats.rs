//! Latency histograms, error tallies and their summaries.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use hdrhistogram::Histogram;
use serde::Serialize;

/// Why one request did not count as a success. The [`Failure::kind`] string is the key
/// errors are tallied under, so it carries no per-request detail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// Connect, write or read failed, or the connection closed early.
    Transport(String),
    /// No complete answer within `--timeout`.
    Timeout,
    /// A non-2xx HTTP status.
    Http(u16),
    /// A JSON-RPC error object.
    JsonRpc(i64),
    /// A 2xx answer that is not what the scenario expects.
    Invalid(String),
}

impl Failure {
    pub fn kind(&self) -> String {
        match self {
            Failure::Transport(m) => format!("transport: {m}"),
            Failure::Timeout => "timeout".into(),
            Failure::Http(s) => format!("HTTP {s}"),
            Failure::JsonRpc(c) => format!("JSON-RPC {c}"),
            Failure::Invalid(m) => format!("unexpected answer: {m}"),
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.kind())
    }
}

/// A latency histogram in microseconds (3 significant digits, grows as needed).
#[derive(Debug, Clone)]
pub struct Latency(Histogram<u64>);

impl Default for Latency {
    fn default() -> Self {
        Latency(Histogram::new(3).expect("3 significant digits is valid"))
    }
}

impl Latency {
    pub fn record(&mut self, d: Duration) {
        self.record_us(d.as_micros().min(u64::MAX as u128) as u64);
    }

    pub fn record_us(&mut self, us: u64) {
        // `record` grows the histogram; `saturating_record` would clamp to its current top.
        if self.0.record(us.max(1)).is_err() {
            self.0.saturating_record(us.max(1));
        }
    }

    pub fn merge(&mut self, other: &Latency) {
        // Both auto-resize, so adding never runs out of range.
        let _ = self.0.add(&other.0);
    }

    pub fn len(&self) -> u64 {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn summary(&self) -> LatencySummary {
        let h = &self.0;
        if h.is_empty() {
            return LatencySummary::default();
        }
        LatencySummary {
            count: h.len(),
            mean_us: (h.mean() * 10.0).round() / 10.0,
            p50_us: h.value_at_quantile(0.50),
            p90_us: h.value_at_quantile(0.90),
            p99_us: h.value_at_quantile(0.99),
            max_us: h.max(),
        }
    }
}

/// Percentiles of one [`Latency`], in microseconds.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct LatencySummary {
    pub count: u64,
    pub mean_us: f64,
    pub p50_us: u64,
    pub p90_us: u64,
    pub p99_us: u64,
    pub max_us: u64,
}

/// What one worker saw; merged into the report at the end.
#[derive(Debug, Default, Clone)]
pub struct WorkerStats {
    pub ok: u64,
    pub latency: Latency,
    /// Time to the first streamed event (streams only).
    pub first_event: Latency,
    /// Streamed events read (streams only).
    pub events: u64,
    pub errors: BTreeMap<String, u64>,
}

impl WorkerStats {
    pub fn error(&mut self, f: &Failure) {
        *self.errors.entry(f.kind()).or_default() += 1;
    }

    pub fn error_count(&self) -> u64 {
        self.errors.values().sum()
    }

    pub fn merge(&mut self, other: &WorkerStats) {
        self.ok += other.ok;
        self.events += other.events;
        self.latency.merge(&other.latency);
        self.first_event.merge(&other.first_event);
        for (k, v) in &other.errors {
            *self.errors.entry(k.clone()).or_default() += v;
        }
    }
}

/// `1234567` -> `1,234,567`.
pub fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::with_capacity(s.len() + s.len() / 3);
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A microsecond figure for people: `850 µs`, `1.23 ms`, `4.50 s`.
pub fn human_us(us: f64) -> String {
    if us < 1_000.0 {
        format!("{us:.0} µs")
    } else if us < 1_000_000.0 {
        format!("{:.2} ms", us / 1_000.0)
    } else {
        format!("{:.2} s", us / 1_000_000.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_of_known_values() {
        let mut l = Latency::default();
        for us in 1..=1000 {
            l.record_us(us);
        }
        let s = l.summary();
        assert_eq!(s.count, 1000);
        assert_eq!(s.p50_us, 500);
        assert_eq!(s.p90_us, 900);
        assert_eq!(s.p99_us, 990);
        assert_eq!(s.max_us, 1000);
        assert!((s.mean_us - 500.5).abs() < 0.5, "{}", s.mean_us);
    }

    #[test]
    fn large_values_grow_the_histogram() {
        let mut l = Latency::default();
        l.record_us(3);
        l.record_us(40_000);
        l.record(Duration::from_secs(90));
        let s = l.summary();
        assert!(s.p50_us.abs_diff(40_000) <= 40, "{s:?}");
        assert!(s.max_us.abs_diff(90_000_000) <= 90_000, "{s:?}");
    }

    #[test]
    fn empty_summary_is_zero_and_zero_records_as_one() {
        assert_eq!(Latency::default().summary(), LatencySummary::default());
        let mut l = Latency::default();
        l.record(Duration::from_nanos(10));
        assert_eq!(l.summary().max_us, 1);
    }

    #[test]
    fn merge_adds_counts_events_and_errors() {
        let mut a = WorkerStats {
            ok: 2,
            ..WorkerStats::default()
        };
        a.latency.record_us(100);
        a.latency.record_us(200);
        a.error(&Failure::Http(503));
        let mut b = WorkerStats {
            ok: 1,
            events: 5,
            ..WorkerStats::default()
        };
        b.latency.record_us(5_000_000);
        b.error(&Failure::Http(503));
        b.error(&Failure::JsonRpc(-32001));
        b.error(&Failure::Timeout);
        a.merge(&b);
        assert_eq!(a.ok, 3);
        assert_eq!(a.events, 5);
        assert_eq!(a.latency.len(), 3);
        assert_eq!(a.error_count(), 4);
        assert_eq!(a.errors["HTTP 503"], 2);
        assert_eq!(a.errors["JSON-RPC -32001"], 1);
        assert_eq!(a.errors["timeout"], 1);
        // 3 significant digits: within 0.1%.
        assert!(a.latency.summary().max_us.abs_diff(5_000_000) <= 5_000);
    }

    #[test]
    fn error_kinds_name_the_layer() {
        assert_eq!(
            Failure::Transport("connection refused".into()).kind(),
            "transport: connection refused"
        );
        assert_eq!(Failure::Invalid("x".into()).kind(), "unexpected answer: x");
    }

    #[test]
    fn number_formatting() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(1234567), "1,234,567");
        assert_eq!(human_us(850.0), "850 µs");
        assert_eq!(human_us(1234.0), "1.23 ms");
        assert_eq!(human_us(4_500_000.0), "4.50 s");
    }
}

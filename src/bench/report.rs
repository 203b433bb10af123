//! The result of a run: a table for people, JSON for scripts.

use std::collections::BTreeMap;
use std::fmt::Write;

use serde::Serialize;

use super::stats::{LatencySummary, human_us, thousands};

#[derive(Debug, Clone, Default, Serialize)]
pub struct Report {
    pub scenario: String,
    pub url: String,
    pub endpoint: String,
    pub protocol: String,
    pub concurrency: usize,
    /// Wall time of the measured phase.
    pub duration_secs: f64,
    /// Successful requests (streams read to the end, subscriptions opened...).
    pub requests: u64,
    pub errors: u64,
    pub requests_per_sec: f64,
    /// What [`Report::latency`] measures, for the table.
    #[serde(skip)]
    pub latency_label: String,
    pub latency: LatencySummary,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time_to_first_event: Option<LatencySummary>,
    /// Subscribe: publish to subscriber arrival; push: request send to webhook arrival.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delivery_latency: Option<LatencySummary>,
    /// Errors by kind: `HTTP 503`, `JSON-RPC -32001`, `transport: ...`, `timeout`...
    pub error_kinds: BTreeMap<String, u64>,
    /// Scenario-specific figures: `events_per_sec`, `deliveries_per_sec`...
    pub metrics: BTreeMap<String, f64>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

fn metric(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        thousands(v as u64)
    } else if v.abs() >= 100.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.2}")
    }
}

impl Report {
    pub fn table(&self) -> String {
        let mut out = String::new();
        let w = &mut out;
        let _ = writeln!(
            w,
            "a2a bench: {} against {} (A2A {})",
            self.scenario, self.endpoint, self.protocol
        );
        let row = |w: &mut String, k: &str, v: String| {
            let _ = writeln!(w, "  {k:<22} {v}");
        };
        row(w, "connections", self.concurrency.to_string());
        row(w, "duration", format!("{:.2} s", self.duration_secs));
        row(w, "requests", thousands(self.requests));
        row(w, "errors", thousands(self.errors));
        row(
            w,
            "throughput",
            format!("{:.1} req/s", self.requests_per_sec),
        );
        for (k, v) in &self.metrics {
            row(w, &k.replace('_', " "), metric(*v));
        }
        let _ = writeln!(
            w,
            "\n  {:<22} {:>10} {:>10} {:>10} {:>10} {:>10}",
            "latency", "p50", "p90", "p99", "max", "mean"
        );
        let label = if self.latency_label.is_empty() {
            "request"
        } else {
            &self.latency_label
        };
        let lines = [
            (label, Some(&self.latency)),
            ("time to first event", self.time_to_first_event.as_ref()),
            ("delivery", self.delivery_latency.as_ref()),
        ];
        for (name, s) in lines {
            let Some(s) = s else { continue };
            if s.count == 0 {
                let _ = writeln!(w, "  {name:<22} {:>10}", "-");
                continue;
            }
            let _ = writeln!(
                w,
                "  {name:<22} {:>10} {:>10} {:>10} {:>10} {:>10}",
                human_us(s.p50_us as f64),
                human_us(s.p90_us as f64),
                human_us(s.p99_us as f64),
                human_us(s.max_us as f64),
                human_us(s.mean_us),
            );
        }
        if !self.error_kinds.is_empty() {
            let _ = writeln!(w, "\n  errors by kind");
            for (k, n) in &self.error_kinds {
                let _ = writeln!(w, "  {:>10}  {k}", thousands(*n));
            }
        }
        for n in &self.notes {
            let _ = writeln!(w, "\n  note: {n}");
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Report {
        Report {
            scenario: "stream".into(),
            url: "http://127.0.0.1:8000".into(),
            endpoint: "http://127.0.0.1:8000/".into(),
            protocol: "1.0".into(),
            concurrency: 64,
            duration_secs: 10.0,
            requests: 123_456,
            errors: 3,
            requests_per_sec: 12_345.6,
            latency: LatencySummary {
                count: 123_456,
                mean_us: 1_300.0,
                p50_us: 1_230,
                p90_us: 2_340,
                p99_us: 3_450,
                max_us: 98_700,
            },
            time_to_first_event: Some(LatencySummary {
                count: 1,
                mean_us: 400.0,
                p50_us: 400,
                p90_us: 500,
                p99_us: 900,
                max_us: 950,
            }),
            error_kinds: [("HTTP 503".to_string(), 2), ("timeout".to_string(), 1)].into(),
            metrics: [("events_per_sec".to_string(), 61_728.0)].into(),
            ..Report::default()
        }
    }

    #[test]
    fn table_has_every_figure() {
        let t = sample().table();
        assert!(t.starts_with("a2a bench: stream against http://127.0.0.1:8000/ (A2A 1.0)"));
        for needle in [
            "connections            64",
            "requests               123,456",
            "errors                 3",
            "throughput             12345.6 req/s",
            "events per sec         61,728",
            "1.23 ms",
            "2.34 ms",
            "3.45 ms",
            "98.70 ms",
            "time to first event",
            "400 µs",
            "2  HTTP 503",
            "1  timeout",
        ] {
            assert!(t.contains(needle), "missing {needle:?} in\n{t}");
        }
        assert!(!t.contains("delivery"), "{t}");
    }

    #[test]
    fn json_names_are_stable() {
        let v = serde_json::to_value(sample()).unwrap();
        assert_eq!(v["requests"], 123_456);
        assert_eq!(v["requests_per_sec"], 12_345.6);
        assert_eq!(v["latency"]["p99_us"], 3_450);
        assert_eq!(v["time_to_first_event"]["p50_us"], 400);
        assert_eq!(v["error_kinds"]["HTTP 503"], 2);
        assert_eq!(v["metrics"]["events_per_sec"], 61_728.0);
        assert!(v.get("delivery_latency").is_none());
        assert!(v.get("latency_label").is_none());
        assert!(v.get("notes").is_none());
    }
}

//! Prometheus metrics, served at `/metrics`.

use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounterVec, IntGaugeVec, Opts, Registry, TextEncoder,
};

/// The server's metrics and the registry that renders them.
pub struct Metrics {
    registry: Registry,
    /// Webhook deliveries by outcome: `delivered`, `failed` (will retry), `dead`.
    pub push_deliveries: IntCounterVec,
    /// Seconds from the event's commit to its webhook's 2xx answer, by wire version.
    pub push_latency: HistogramVec,
    /// Outbox rows by state: `pending`, `dead`.
    pub push_outbox: IntGaugeVec,
}

impl Metrics {
    pub fn new() -> Self {
        let registry = Registry::new_custom(Some("a2a".into()), None).expect("valid prefix");
        let push_deliveries = IntCounterVec::new(
            Opts::new(
                "push_deliveries_total",
                "Webhook delivery attempts by outcome (delivered, failed, dead)",
            ),
            &["outcome"],
        )
        .expect("valid metric");
        let push_latency = HistogramVec::new(
            HistogramOpts::new(
                "push_delivery_latency_seconds",
                "Seconds from a task event to its webhook's 2xx answer",
            )
            .buckets(vec![
                0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
                60.0, 300.0,
            ]),
            &["version"],
        )
        .expect("valid metric");
        let push_outbox = IntGaugeVec::new(
            Opts::new(
                "push_outbox_depth",
                "Notifications in the outbox by state (pending, dead)",
            ),
            &["state"],
        )
        .expect("valid metric");
        for c in [
            Box::new(push_deliveries.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(push_latency.clone()),
            Box::new(push_outbox.clone()),
        ] {
            registry.register(c).expect("metrics register once");
        }
        for outcome in ["delivered", "failed", "dead"] {
            push_deliveries.with_label_values(&[outcome]);
        }
        for state in ["pending", "dead"] {
            push_outbox.with_label_values(&[state]);
        }
        Metrics {
            registry,
            push_deliveries,
            push_latency,
            push_outbox,
        }
    }

    /// The text exposition format.
    pub fn render(&self) -> String {
        let mut out = Vec::new();
        let _ = TextEncoder::new().encode(&self.registry.gather(), &mut out);
        String::from_utf8(out).unwrap_or_default()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

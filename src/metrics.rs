//! Prometheus metrics, served at `/metrics`.
//!
//! Every label is a closed set (method names from the method table, versions, outcomes,
//! task states, store operations): never a task or context id. The per-request metrics are
//! resolved once per (method, version, outcome) cell and kept in a table, so a call costs a
//! few atomic adds, not a label hash.

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use prometheus::core::Collector;
use prometheus::{
    Encoder, Histogram, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge,
    IntGaugeVec, Opts, Registry, TextEncoder,
};

use crate::jsonrpc::methods::{METHODS, MethodSpec};
use crate::protocol::{TaskState, Version};

/// Seconds buckets for request, run and store latencies: 0.5 ms to 5 min.
const SECONDS_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
    60.0, 300.0,
];

/// The `method` label of a call whose method is not in the table (or not parsed).
pub const OTHER: &str = "_other";

/// How a JSON-RPC call ended, the `outcome` label.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallOutcome {
    /// A result, or a stream that started.
    Ok,
    /// A JSON-RPC error answer.
    Error,
    /// HTTP 503: at the concurrency limit, or the store cannot be reached.
    Unavailable,
}

impl CallOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            CallOutcome::Ok => "ok",
            CallOutcome::Error => "error",
            CallOutcome::Unavailable => "unavailable",
        }
    }
}

/// A timed task-store operation, the `op` label.
#[derive(Debug, Clone, Copy)]
pub enum StoreOp {
    Create,
    Commit,
    Get,
}

impl StoreOp {
    const ALL: [StoreOp; 3] = [StoreOp::Create, StoreOp::Commit, StoreOp::Get];

    fn as_str(self) -> &'static str {
        match self {
            StoreOp::Create => "create",
            StoreOp::Commit => "commit",
            StoreOp::Get => "get",
        }
    }
}

/// Connections of a database pool, read when `/metrics` is scraped.
#[derive(Debug, Clone, Copy)]
pub struct PoolStats {
    pub size: u32,
    pub idle: u32,
}

type PoolSource = Box<dyn Fn() -> Option<PoolStats> + Send + Sync>;

const VERSIONS: usize = 4; // 1.0, 0.3, 0.1, _other
const OUTCOMES: usize = 3;
/// One row per method of the table, and one for `_other`.
const ROWS: usize = METHODS.len() + 1;

/// The `a2a_tasks_total` states: `created`, then the terminal states.
const TASK_STATES: [&str; 5] = ["created", "completed", "canceled", "failed", "rejected"];

/// The server's metrics and the registries that render them.
pub struct Metrics {
    registry: Registry,
    /// `process_*` (Linux): apart, because `registry`'s `a2a` prefix would rename them.
    process: Registry,
    /// Webhook deliveries by outcome: `delivered`, `failed` (will retry), `dead`.
    pub push_deliveries: IntCounterVec,
    /// Seconds from the event's commit to its webhook's 2xx answer, by wire version.
    pub push_latency: HistogramVec,
    /// Outbox rows by state: `pending`, `dead`.
    pub push_outbox: IntGaugeVec,
    /// Seconds since the oldest pending notification was queued (0: none pending).
    pub push_oldest_pending: IntGauge,
    requests: IntCounterVec,
    request_duration: HistogramVec,
    /// Cells of `requests` by [method row][version][outcome], resolved on first use.
    request_cells: Box<[[[OnceLock<IntCounter>; OUTCOMES]; VERSIONS]; ROWS]>,
    /// Children of `request_duration` by method row.
    duration_cells: Box<[OnceLock<Histogram>; ROWS]>,
    /// JSON-RPC calls being handled (until the answer, or a stream's head, is ready).
    pub requests_in_flight: IntGauge,
    /// SSE responses still being written.
    pub sse_streams_open: IntGauge,
    tasks: [IntCounter; TASK_STATES.len()],
    /// Seconds an agent's `execute` ran, to its end or its abort.
    pub agent_run_duration: Histogram,
    store_ops: [Histogram; StoreOp::ALL.len()],
    db_pool: IntGaugeVec,
    pool_source: OnceLock<PoolSource>,
    /// Failed authentications by reason and scheme (counted by the auth layer).
    pub auth_failures: IntCounterVec,
    /// Requests refused by the rate limiter.
    pub rate_limited: IntCounter,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

fn histogram_vec(name: &str, help: &str, labels: &[&str]) -> HistogramVec {
    HistogramVec::new(
        HistogramOpts::new(name, help).buckets(SECONDS_BUCKETS.to_vec()),
        labels,
    )
    .expect("valid metric")
}

fn register<C: Collector + Clone + 'static>(registry: &Registry, c: &C) -> C {
    registry
        .register(Box::new(c.clone()))
        .expect("metrics register once");
    c.clone()
}

impl Metrics {
    pub fn new() -> Self {
        let registry = Registry::new_custom(Some("a2a".into()), None).expect("valid prefix");
        let r = &registry;
        let counter_vec = |name: &str, help: &str, labels: &[&str]| {
            register(
                r,
                &IntCounterVec::new(Opts::new(name, help), labels).expect("valid metric"),
            )
        };
        let gauge =
            |name: &str, help: &str| register(r, &IntGauge::new(name, help).expect("valid metric"));
        let push_deliveries = counter_vec(
            "push_deliveries_total",
            "Webhook delivery attempts by outcome (delivered, failed, dead)",
            &["outcome"],
        );
        let push_latency = register(
            r,
            &HistogramVec::new(
                HistogramOpts::new(
                    "push_delivery_latency_seconds",
                    "Seconds from a task event to its webhook's 2xx answer",
                )
                .buckets(vec![
                    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
                    30.0, 60.0, 300.0,
                ]),
                &["version"],
            )
            .expect("valid metric"),
        );
        let push_outbox = register(
            r,
            &IntGaugeVec::new(
                Opts::new(
                    "push_outbox_depth",
                    "Notifications in the outbox by state (pending, dead)",
                ),
                &["state"],
            )
            .expect("valid metric"),
        );
        for outcome in ["delivered", "failed", "dead"] {
            push_deliveries.with_label_values(&[outcome]);
        }
        for state in ["pending", "dead"] {
            push_outbox.with_label_values(&[state]);
        }
        let requests = counter_vec(
            "requests_total",
            "JSON-RPC calls by wire method, version (1.0, 0.3, 0.1, _other) and outcome (ok, error, unavailable)",
            &["method", "version", "outcome"],
        );
        let request_duration = register(
            r,
            &histogram_vec(
                "request_duration_seconds",
                "Seconds from a JSON-RPC call's arrival to its answer (a stream: its head)",
                &["method"],
            ),
        );
        let tasks_vec = counter_vec(
            "tasks_total",
            "Tasks created (state=created) and tasks that reached a terminal state, by that state",
            &["state"],
        );
        let tasks = TASK_STATES.map(|s| tasks_vec.with_label_values(&[s]));
        let agent_run_duration = register(
            r,
            &Histogram::with_opts(
                HistogramOpts::new(
                    "agent_run_duration_seconds",
                    "Seconds an agent run took, to its end, interruption or abort",
                )
                .buckets(SECONDS_BUCKETS.to_vec()),
            )
            .expect("valid metric"),
        );
        let store_vec = register(
            r,
            &histogram_vec(
                "store_operation_duration_seconds",
                "Seconds a task store operation took (create, commit, get)",
                &["op"],
            ),
        );
        let store_ops = StoreOp::ALL.map(|op| store_vec.with_label_values(&[op.as_str()]));
        let db_pool = register(
            r,
            &IntGaugeVec::new(
                Opts::new(
                    "db_pool_connections",
                    "Database pool connections by state (in_use, idle), read at scrape time",
                ),
                &["state"],
            )
            .expect("valid metric"),
        );
        let auth_failures = counter_vec(
            "auth_failures_total",
            "Requests refused for failed authentication, by reason and scheme",
            &["reason", "scheme"],
        );
        let rate_limited = register(
            r,
            &IntCounter::new("rate_limited_total", "Requests refused by the rate limiter")
                .expect("valid metric"),
        );
        let build_info = register(
            r,
            &IntGaugeVec::new(
                Opts::new("build_info", "Always 1; the server's version as a label"),
                &["version"],
            )
            .expect("valid metric"),
        );
        build_info
            .with_label_values(&[env!("CARGO_PKG_VERSION")])
            .set(1);
        Metrics {
            push_deliveries,
            push_latency,
            push_outbox,
            push_oldest_pending: gauge(
                "push_outbox_oldest_pending_age_seconds",
                "Seconds since the oldest pending notification was queued (0: none pending)",
            ),
            requests,
            request_duration,
            request_cells: Box::new(std::array::from_fn(|_| {
                std::array::from_fn(|_| std::array::from_fn(|_| OnceLock::new()))
            })),
            duration_cells: Box::new(std::array::from_fn(|_| OnceLock::new())),
            requests_in_flight: gauge(
                "requests_in_flight",
                "JSON-RPC calls being handled (a stream counts until its head is sent)",
            ),
            sse_streams_open: gauge("sse_streams_open", "SSE responses still open"),
            tasks,
            agent_run_duration,
            store_ops,
            db_pool,
            pool_source: OnceLock::new(),
            auth_failures,
            rate_limited,
            process: process_registry(),
            registry,
        }
    }

    /// Counts one finished JSON-RPC call. `method`: its entry in the method table (`None`:
    /// unknown or unparsed, counted as `_other`); `version`: the version it was served as.
    pub fn request_done(
        &self,
        method: Option<&'static MethodSpec>,
        version: Option<Version>,
        outcome: CallOutcome,
        elapsed: Duration,
    ) {
        let row = method.map_or(METHODS.len(), method_row);
        let name = method.map_or(OTHER, |m| m.name);
        let v = match version {
            Some(Version::V1) => 0,
            Some(Version::V03) => 1,
            Some(Version::V01) => 2,
            None => 3,
        };
        let o = outcome as usize;
        self.request_cells[row][v][o]
            .get_or_init(|| {
                let version = version.map_or(OTHER, Version::as_str);
                self.requests
                    .with_label_values(&[name, version, outcome.as_str()])
            })
            .inc();
        self.duration_cells[row]
            .get_or_init(|| self.request_duration.with_label_values(&[name]))
            .observe(elapsed.as_secs_f64());
    }

    /// Counts a task created.
    pub fn task_created(&self) {
        self.tasks[0].inc();
    }

    /// Counts a task that reached `state`, if terminal.
    pub fn task_finished(&self, state: TaskState) {
        let i = match state {
            TaskState::Completed => 1,
            TaskState::Canceled => 2,
            TaskState::Failed => 3,
            TaskState::Rejected => 4,
            _ => return,
        };
        self.tasks[i].inc();
    }

    /// Records how long a store operation took, from `started`.
    pub fn store_op(&self, op: StoreOp, started: Instant) {
        self.store_ops[op as usize].observe(started.elapsed().as_secs_f64());
    }

    /// Where `a2a_db_pool_connections` is read from at scrape time (a SQL store's pool).
    /// Set once; later calls are ignored.
    pub fn set_pool_source(&self, source: impl Fn() -> Option<PoolStats> + Send + Sync + 'static) {
        let _ = self.pool_source.set(Box::new(source));
    }

    /// The text exposition format: our `a2a_*` families, then `process_*`.
    pub fn render(&self) -> String {
        if let Some(stats) = self.pool_source.get().and_then(|f| f()) {
            let idle = stats.idle.min(stats.size);
            self.db_pool
                .with_label_values(&["in_use"])
                .set(i64::from(stats.size - idle));
            self.db_pool
                .with_label_values(&["idle"])
                .set(i64::from(idle));
        }
        let mut families = self.registry.gather();
        families.extend(self.process.gather());
        let mut out = Vec::new();
        let _ = TextEncoder::new().encode(&families, &mut out);
        String::from_utf8(out).unwrap_or_default()
    }
}

/// The row of `spec` in [`METHODS`]: its address in the table (`spec` always comes from
/// it), so no name comparison on the hot path.
fn method_row(spec: &'static MethodSpec) -> usize {
    let offset = (spec as *const MethodSpec as usize).wrapping_sub(METHODS.as_ptr() as usize);
    let row = offset / std::mem::size_of::<MethodSpec>();
    if row < METHODS.len() && std::ptr::eq(&METHODS[row], spec) {
        row
    } else {
        METHODS.len()
    }
}

#[cfg(target_os = "linux")]
fn process_registry() -> Registry {
    let registry = Registry::new();
    let _ = registry.register(Box::new(
        prometheus::process_collector::ProcessCollector::for_self(),
    ));
    registry
}

#[cfg(not(target_os = "linux"))]
fn process_registry() -> Registry {
    Registry::new()
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn method_rows_follow_the_table() {
        for (i, m) in METHODS.iter().enumerate() {
            assert_eq!(method_row(m), i);
        }
        static STRAY: MethodSpec = METHODS[0];
        assert_eq!(method_row(&STRAY), METHODS.len());
    }

    #[test]
    fn render_names_every_family_once() {
        let m = Metrics::new();
        m.request_done(
            crate::jsonrpc::methods::lookup("SendMessage"),
            Some(Version::V1),
            CallOutcome::Ok,
            Duration::from_millis(3),
        );
        m.request_done(None, None, CallOutcome::Error, Duration::ZERO);
        m.task_created();
        m.task_finished(TaskState::Completed);
        let text = m.render();
        for needle in [
            r#"a2a_requests_total{method="SendMessage",outcome="ok",version="1.0"} 1"#,
            r#"a2a_requests_total{method="_other",outcome="error",version="_other"} 1"#,
            r#"a2a_request_duration_seconds_count{method="SendMessage"} 1"#,
            r#"a2a_tasks_total{state="created"} 1"#,
            r#"a2a_tasks_total{state="completed"} 1"#,
            r#"a2a_build_info{version=""#,
            "a2a_requests_in_flight 0",
            "a2a_sse_streams_open 0",
            "a2a_rate_limited_total 0",
        ] {
            assert!(text.contains(needle), "{needle} missing from\n{text}");
        }
        #[cfg(target_os = "linux")]
        assert!(text.contains("\nprocess_cpu_seconds_total "), "{text}");
    }
}

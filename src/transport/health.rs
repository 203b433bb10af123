//! Liveness and readiness, and the shutdown phases readiness reports.
//!
//! `/readyz` answers `{"status": "ready" | "degraded" | "unavailable", "checks": {...}}`:
//! one entry per dependency. A required check that fails makes the server unavailable
//! (503); an optional one (the Redis event bus, once there is one: the server can fall back
//! to the store) only degrades it (still 200, so load balancers keep sending traffic).

use std::collections::BTreeMap;
use std::future::Future;
use std::time::Duration;

use serde::Serialize;
use tokio_util::sync::CancellationToken;

/// The shutdown phases, shared by the accept loop, `/readyz` and every SSE stream.
#[derive(Debug, Clone, Default)]
pub struct Lifecycle {
    /// Fired at the shutdown signal: readiness answers 503 from then on, while the server
    /// still accepts connections for `shutdown_delay_secs`.
    pub stopping: CancellationToken,
    /// Fired when draining starts: the listener closes and every open SSE stream ends.
    pub draining: CancellationToken,
}

/// Longest `/readyz` waits for one check: under the usual probe timeouts.
pub const CHECK_TIMEOUT: Duration = Duration::from_secs(2);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Ready,
    Degraded,
    Unavailable,
}

/// One dependency's state: `{"status": "ok"}` or `{"status": "failing", "error": "..."}`.
#[derive(Debug, Clone, Serialize)]
pub struct Check {
    pub status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// The `/readyz` body.
#[derive(Debug, Clone, Serialize)]
pub struct Readiness {
    pub status: Status,
    /// Set while shutting down: unavailable whatever the checks say.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub draining: bool,
    pub checks: BTreeMap<&'static str, Check>,
}

impl Readiness {
    pub fn new(draining: bool) -> Self {
        Readiness {
            status: if draining {
                Status::Unavailable
            } else {
                Status::Ready
            },
            draining,
            checks: BTreeMap::new(),
        }
    }

    /// Runs a check the server cannot serve without (the task store).
    pub async fn required<E: std::fmt::Display>(
        &mut self,
        name: &'static str,
        check: impl Future<Output = Result<(), E>>,
    ) {
        if !self.record(name, check).await {
            self.status = Status::Unavailable;
        }
    }

    /// Runs a check the server can serve without, less well (a Redis bus with the store
    /// as fallback).
    pub async fn optional<E: std::fmt::Display>(
        &mut self,
        name: &'static str,
        check: impl Future<Output = Result<(), E>>,
    ) {
        if !self.record(name, check).await && self.status == Status::Ready {
            self.status = Status::Degraded;
        }
    }

    async fn record<E: std::fmt::Display>(
        &mut self,
        name: &'static str,
        check: impl Future<Output = Result<(), E>>,
    ) -> bool {
        let error = match tokio::time::timeout(CHECK_TIMEOUT, check).await {
            Ok(Ok(())) => None,
            Ok(Err(e)) => Some(e.to_string()),
            Err(_) => Some(format!("no answer within {} s", CHECK_TIMEOUT.as_secs())),
        };
        let ok = error.is_none();
        let status = if ok { "ok" } else { "failing" };
        self.checks.insert(name, Check { status, error });
        ok
    }

    /// 200 for ready and degraded (still worth traffic), 503 for unavailable.
    pub fn http_status(&self) -> axum::http::StatusCode {
        match self.status {
            Status::Ready | Status::Degraded => axum::http::StatusCode::OK,
            Status::Unavailable => axum::http::StatusCode::SERVICE_UNAVAILABLE,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_failing_optional_check_degrades_and_a_required_one_makes_unavailable() {
        let ok = || async { Ok::<(), String>(()) };
        let down = || async { Err::<(), String>("refused".into()) };
        let mut r = Readiness::new(false);
        r.required("store", ok()).await;
        r.optional("redis", down()).await;
        assert_eq!(r.status, Status::Degraded);
        assert_eq!(r.http_status(), 200);
        let body = serde_json::to_value(&r).unwrap();
        assert_eq!(
            body,
            serde_json::json!({"status": "degraded", "checks": {
                "store": {"status": "ok"},
                "redis": {"status": "failing", "error": "refused"},
            }})
        );
        r.required("store", down()).await;
        assert_eq!(r.status, Status::Unavailable);
        assert_eq!(r.http_status(), 503);
    }

    #[tokio::test]
    async fn draining_is_unavailable_with_healthy_checks() {
        let mut r = Readiness::new(true);
        r.required("store", async { Ok::<(), String>(()) }).await;
        assert_eq!(r.http_status(), 503);
        assert_eq!(serde_json::to_value(&r).unwrap()["draining"], true);
    }
}

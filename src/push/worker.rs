//! The delivery worker: drains the push outbox, POSTs each notification to its webhook,
//! retries with exponential backoff and jitter, and dead-letters what exhausts its
//! attempts or age.
//!
//! Order: the store hands out only the oldest live notification of each config, and a
//! worker delivers a config's notifications one after another, so a webhook receives in
//! event order. At least once: a notification is removed only after a 2xx answer; a
//! receiver drops duplicates by `X-A2A-Event-Id` (also the JWT's `jti`).

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use rand::Rng as _;
use tokio::sync::{Notify, Semaphore};
use tokio::time::{MissedTickBehavior, interval};
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use super::jwt::{NOTIFICATION_JWT_HEADER, NotificationSigner};
use super::ssrf;
use crate::codec::push::notification_body;
use crate::metrics::Metrics;
use crate::store::{Delivery, TaskStore, now_millis};

/// The stable id of the event a notification carries.
pub const EVENT_ID_HEADER: &str = "x-a2a-event-id";
/// The config's token, echoed back.
pub const TOKEN_HEADER: &str = "x-a2a-notification-token";
/// Which attempt this request is (1-based).
pub const ATTEMPT_HEADER: &str = "x-a2a-delivery-attempt";

/// The most of a webhook's answer that is read (for the error message of a failure).
const MAX_RESPONSE_BYTES: usize = 64 * 1024;
/// How often the outbox is polled when nothing wakes the worker (other processes' work,
/// retries coming due).
const POLL: Duration = Duration::from_millis(250);
/// How often the outbox depth gauge is refreshed.
const DEPTH_EVERY: Duration = Duration::from_secs(5);

/// How notifications are delivered.
#[derive(Debug, Clone)]
pub struct DeliveryConfig {
    pub allow_private: bool,
    pub max_attempts: u32,
    pub max_age: Duration,
    pub retry_base: Duration,
    pub retry_max: Duration,
    pub connect_timeout: Duration,
    pub timeout: Duration,
    pub concurrency: usize,
    /// Rotate the signing key this often (`None`: never).
    pub key_rotation: Option<Duration>,
    /// Send `traceparent` with each notification when traced (`push_propagate_trace`).
    pub propagate_trace: bool,
}

impl DeliveryConfig {
    /// A claim outlives the request it covers, so only a dead process's claims lapse.
    fn claim_lease(&self) -> Duration {
        self.timeout + Duration::from_secs(5)
    }

    /// The delay before attempt `attempts + 1`: `base * 2^(attempts-1)`, capped, with
    /// "equal jitter" (half fixed, half random) so retries of many webhooks spread out.
    pub fn backoff(&self, attempts: u32) -> Duration {
        let exp = attempts.saturating_sub(1).min(30);
        let full = self
            .retry_base
            .saturating_mul(1u32 << exp)
            .min(self.retry_max);
        let half = full / 2;
        half + half.mul_f64(rand::rng().random::<f64>())
    }
}

/// What one attempt came to.
#[derive(Debug)]
enum Outcome {
    Delivered,
    Failed(String),
}

/// Delivers the outbox of one store.
pub struct PushWorker {
    store: Arc<dyn TaskStore>,
    client: reqwest::Client,
    signer: Arc<NotificationSigner>,
    config: DeliveryConfig,
    metrics: Arc<Metrics>,
    wake: Arc<Notify>,
}

impl PushWorker {
    pub fn new(
        store: Arc<dyn TaskStore>,
        signer: Arc<NotificationSigner>,
        config: DeliveryConfig,
        metrics: Arc<Metrics>,
    ) -> anyhow::Result<Self> {
        let client = ssrf::webhook_client_builder(
            config.allow_private,
            config.connect_timeout,
            config.timeout,
        )
        .user_agent(concat!("a2a-server/", env!("CARGO_PKG_VERSION")))
        .build()?;
        let wake = store.outbox_signal();
        Ok(PushWorker {
            store,
            client,
            signer,
            config,
            metrics,
            wake,
        })
    }

    /// Delivers until `shutdown` fires. Deliveries in flight finish (or time out).
    pub async fn run(self: Arc<Self>, shutdown: CancellationToken) {
        let permits = Arc::new(Semaphore::new(self.config.concurrency));
        let mut poll = interval(POLL);
        let mut depth = interval(DEPTH_EVERY);
        let rotation = self.config.key_rotation;
        let mut rotate = interval(rotation.unwrap_or(Duration::from_secs(3600)));
        for t in [&mut poll, &mut depth, &mut rotate] {
            t.set_missed_tick_behavior(MissedTickBehavior::Delay);
        }
        // The first tick fires at once; the current key is fresh.
        rotate.tick().await;
        // Claim when at least this many slots are free (or nothing is in flight): a claim
        // per finished chain would cost a store round trip per delivery under load.
        let batch_min = (self.config.concurrency / 4).max(1);
        loop {
            let free = permits.available_permits();
            let mut full_batch = false;
            if free >= batch_min || free == self.config.concurrency {
                let now = now_millis();
                let until = now + self.config.claim_lease().as_millis() as i64;
                match self.store.claim_deliveries(now, until, free).await {
                    Ok(batch) => {
                        full_batch = batch.len() == free;
                        for d in batch {
                            let Ok(permit) = permits.clone().try_acquire_owned() else {
                                break;
                            };
                            let worker = self.clone();
                            let shutdown = shutdown.clone();
                            tokio::spawn(async move {
                                worker.deliver_chain(d, &shutdown).await;
                                drop(permit);
                                worker.wake.notify_one();
                            });
                        }
                    }
                    Err(e) => tracing::warn!(error = %e, "cannot claim push deliveries"),
                }
            }
            if full_batch && permits.available_permits() > 0 {
                continue;
            }
            tokio::select! {
                _ = shutdown.cancelled() => break,
                _ = self.wake.notified() => {}
                _ = poll.tick() => {}
                _ = depth.tick() => self.refresh_depth().await,
                _ = rotate.tick(), if rotation.is_some() => self.rotate_key(),
            }
        }
        // Stopping between deliveries: the attempts in flight finish (each bounded by the
        // webhook timeout), their chains claim nothing more; the rest stays in the outbox.
        let all = u32::try_from(self.config.concurrency).unwrap_or(u32::MAX);
        let _ = permits.acquire_many(all).await;
    }

    fn rotate_key(&self) {
        let keys = self.signer.keys();
        let now = chrono::Utc::now();
        keys.prune(now);
        match keys.rotate(now) {
            Ok(kid) => tracing::info!(kid, "rotated the push signing key"),
            Err(e) => tracing::warn!(error = %e, "cannot rotate the push signing key"),
        }
    }

    async fn refresh_depth(&self) {
        match self.store.outbox_depth().await {
            Ok(d) => {
                let g = &self.metrics.push_outbox;
                g.with_label_values(&["pending"]).set(d.pending as i64);
                g.with_label_values(&["dead"]).set(d.dead as i64);
                let age_ms = d.oldest_pending_at.map_or(0, |t| (now_millis() - t).max(0));
                self.metrics.push_oldest_pending.set(age_ms / 1000);
            }
            Err(e) => tracing::warn!(error = %e, "cannot read the push outbox depth"),
        }
    }

    /// Delivers `d`, then the following notifications of the same webhook while they
    /// succeed, keeping that webhook's order.
    async fn deliver_chain(&self, mut d: Delivery, shutdown: &CancellationToken) {
        loop {
            if !self.attempt(&d).await || shutdown.is_cancelled() {
                return;
            }
            let now = now_millis();
            let until = now + self.config.claim_lease().as_millis() as i64;
            match self.store.claim_next_delivery(&d, now, until).await {
                Ok(Some(next)) => d = next,
                Ok(None) => return,
                Err(e) => {
                    tracing::warn!(error = %e, "cannot claim the next push delivery");
                    return;
                }
            }
        }
    }

    /// One attempt and its bookkeeping; `true` when delivered.
    async fn attempt(&self, d: &Delivery) -> bool {
        // One client span per attempt, in the trace of the write that queued it (stored
        // with the row, so also after a restart or in another process; else its own).
        let span = tracing::info_span!(
            target: crate::traces::SPAN_TARGET,
            "SendPushNotification",
            otel.kind = "client",
            http.request.method = "POST",
            a2a.task.id = &*d.task_id,
            a2a.push.config.id = &*d.config_id,
            a2a.push.attempt = i64::from(d.attempts),
            http.response.status_code = tracing::field::Empty,
            error.type = tracing::field::Empty,
            otel.status_code = tracing::field::Empty,
        );
        if let Some(parent) = &d.traceparent {
            crate::traces::set_stored_parent(&span, parent);
        }
        let outcome = self.post(d, &span).instrument(span.clone()).await;
        if !span.is_disabled()
            && let Outcome::Failed(_) = &outcome
        {
            span.record("otel.status_code", "error");
        }
        let now = now_millis();
        let result = match &outcome {
            Outcome::Delivered => {
                self.metrics
                    .push_deliveries
                    .with_label_values(&["delivered"])
                    .inc();
                let secs = (now - d.created_at).max(0) as f64 / 1000.0;
                self.metrics
                    .push_latency
                    .with_label_values(&[d.origin.as_str()])
                    .observe(secs);
                self.store.complete_delivery(d.id).await
            }
            Outcome::Failed(why) => {
                let age = Duration::from_millis((now - d.created_at).max(0) as u64);
                if d.attempts >= self.config.max_attempts || age >= self.config.max_age {
                    tracing::warn!(
                        task_id = %d.task_id, config_id = %d.config_id, url = %logged_url(&d.url),
                        attempts = d.attempts, error = %why,
                        "push notification dead-lettered"
                    );
                    self.metrics
                        .push_deliveries
                        .with_label_values(&["dead"])
                        .inc();
                    self.store.dead_letter(d.id, now, why).await
                } else {
                    tracing::debug!(
                        task_id = %d.task_id, url = %logged_url(&d.url), attempts = d.attempts, error = %why,
                        "push notification failed; will retry"
                    );
                    self.metrics
                        .push_deliveries
                        .with_label_values(&["failed"])
                        .inc();
                    let next = now + self.config.backoff(d.attempts).as_millis() as i64;
                    self.store.retry_delivery(d.id, next, why).await
                }
            }
        };
        if let Err(e) = result {
            // The claim lapses and the notification is tried again: at least once.
            tracing::warn!(error = %e, delivery = d.id, "cannot record a push delivery");
        }
        matches!(outcome, Outcome::Delivered)
    }

    /// Builds and sends the request; reads at most [`MAX_RESPONSE_BYTES`] of the answer.
    async fn post(&self, d: &Delivery, span: &tracing::Span) -> Outcome {
        // IP-literal hosts bypass the resolver's filter: check them here, every time.
        if let Err(e) = ssrf::validate_webhook_url(&d.url, self.config.allow_private) {
            return Outcome::Failed(e.to_string());
        }
        let (body, content_type) = notification_body(d.origin, &d.payload);
        let body = Bytes::from(body.into_string());
        let event_id = d.event_id();
        let jwt = match self.signer.sign(&d.url, &d.task_id, &event_id, &body) {
            Ok(t) => t,
            Err(e) => return Outcome::Failed(format!("cannot sign the notification: {e}")),
        };
        let mut req = self
            .client
            .post(&d.url)
            .header(http::header::CONTENT_TYPE, content_type)
            .header(EVENT_ID_HEADER, &event_id)
            .header(ATTEMPT_HEADER, d.attempts.to_string());
        if let Some(token) = &d.token {
            req = req.header(TOKEN_HEADER, token);
        }
        req = match d.authentication.as_ref().and_then(|a| a.header_value()) {
            Some(own) => req
                .header(http::header::AUTHORIZATION, own)
                .header(NOTIFICATION_JWT_HEADER, jwt),
            None => req.header(http::header::AUTHORIZATION, format!("Bearer {jwt}")),
        };
        if self.config.propagate_trace {
            if !span.is_disabled() {
                let mut headers = http::HeaderMap::new();
                crate::traces::inject(span, &mut headers);
                req = req.headers(headers);
            } else if let Some(parent) = d.traceparent.as_deref()
                && crate::traces::is_traceparent(parent)
            {
                // Not exporting here: the receiver still gets the writer's trace.
                req = req.header("traceparent", parent);
            }
        }
        let mut resp = match req.body(body).send().await {
            Ok(r) => r,
            // The URL is logged beside the error already, without its query.
            Err(e) => {
                span.record(
                    "error.type",
                    if e.is_timeout() { "timeout" } else { "connect" },
                );
                return Outcome::Failed(describe(&e.without_url()));
            }
        };
        let status = resp.status();
        if !span.is_disabled() {
            span.record("http.response.status_code", i64::from(status.as_u16()));
            if !status.is_success() {
                span.record("error.type", status.as_str());
            }
        }
        let mut read = Vec::new();
        while read.len() < MAX_RESPONSE_BYTES {
            match resp.chunk().await {
                Ok(Some(chunk)) => read.extend_from_slice(&chunk),
                _ => break,
            }
        }
        if status.is_success() {
            Outcome::Delivered
        } else {
            read.truncate(200);
            Outcome::Failed(format!(
                "webhook answered {status}: {}",
                String::from_utf8_lossy(&read).trim()
            ))
        }
    }
}

/// A webhook URL for the log: without its query and fragment, where receivers put
/// secrets (`?token=...`). Credentials in the URL are refused at registration.
fn logged_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) => {
            u.set_query(None);
            u.set_fragment(None);
            u.to_string()
        }
        Err(_) => "(invalid URL)".into(),
    }
}

/// reqwest's Display hides the cause ("error sending request"); name it.
fn describe(e: &reqwest::Error) -> String {
    let mut msg = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        msg.push_str(": ");
        msg.push_str(&s.to_string());
        source = s.source();
    }
    msg
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> DeliveryConfig {
        DeliveryConfig {
            allow_private: false,
            max_attempts: 5,
            max_age: Duration::from_secs(60),
            retry_base: Duration::from_secs(1),
            retry_max: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(1),
            timeout: Duration::from_secs(5),
            concurrency: 4,
            key_rotation: None,
            propagate_trace: true,
        }
    }

    #[test]
    fn logged_urls_leave_out_the_query() {
        assert_eq!(
            logged_url("https://hook.example/a2a?token=s3cret#x"),
            "https://hook.example/a2a"
        );
        assert_eq!(logged_url("not a url"), "(invalid URL)");
    }

    #[test]
    fn backoff_doubles_with_jitter_and_is_capped() {
        let c = config();
        for _ in 0..100 {
            let first = c.backoff(1);
            assert!((500..=1000).contains(&first.as_millis()), "{first:?}");
            let third = c.backoff(3);
            assert!((2000..=4000).contains(&third.as_millis()), "{third:?}");
            let late = c.backoff(20);
            assert!((15_000..=30_000).contains(&late.as_millis()), "{late:?}");
        }
    }
}

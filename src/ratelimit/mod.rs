//! Rate limits per caller (`[rate_limit]`): a GCRA token bucket of `burst` calls refilled
//! at `per_second`, keyed by the principal when authenticated and the client IP otherwise.
//!
//! Without `redis_url` the buckets live in this process (`governor`, keyed; forgotten
//! buckets are dropped every minute, so memory stays bounded by the callers of the last
//! minute). With it, every process checks the same buckets in Redis (see [`redis`]); a
//! Redis that fails or is slow is skipped for a second at a time in favour of the local
//! buckets, so requests are never refused because Redis is down.

mod redis;

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};

use crate::config::RateLimitConfig;

/// Whose bucket a call draws from.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum RateKey {
    /// An anonymous caller, by client IP.
    Ip(IpAddr),
    /// An authenticated caller, by owner.
    Owner(Arc<str>),
}

impl RateKey {
    /// The bucket's name in Redis.
    fn redis_key(&self) -> String {
        match self {
            RateKey::Ip(ip) => format!("a2a:ratelimit:ip:{ip}"),
            RateKey::Owner(o) => format!("a2a:ratelimit:owner:{o}"),
        }
    }
}

/// The limiter of one server process.
pub struct RateLimiter {
    local: DefaultKeyedRateLimiter<RateKey>,
    clock: DefaultClock,
    shared: Option<redis::Shared>,
    per_second: u32,
    burst: u32,
}

impl std::fmt::Debug for RateLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RateLimiter")
            .field("per_second", &self.per_second)
            .field("burst", &self.burst)
            .field("shared", &self.shared.is_some())
            .finish_non_exhaustive()
    }
}

/// How often buckets that are full again (idle callers) are dropped.
const RETAIN_EVERY: Duration = Duration::from_secs(60);

impl RateLimiter {
    /// A limiter for `config`, shared through Redis at `redis_url` when given. The Redis
    /// connection is made in the background: a Redis that is down at start only means
    /// local buckets until it is up.
    pub fn new(config: &RateLimitConfig, redis_url: Option<&str>) -> anyhow::Result<Self> {
        let per_second = config.per_second.max(1);
        let burst = config.burst.unwrap_or(per_second).max(1);
        let quota = Quota::per_second(NonZeroU32::new(per_second).expect("> 0"))
            .allow_burst(NonZeroU32::new(burst).expect("> 0"));
        let shared = redis_url.map(redis::Shared::connect).transpose()?;
        Ok(Self {
            local: DefaultKeyedRateLimiter::keyed(quota),
            clock: DefaultClock::default(),
            shared,
            per_second,
            burst,
        })
    }

    /// Takes one call from `key`'s bucket: `Err(wait)` when it is empty, with how long
    /// until the next call is allowed.
    pub async fn check(&self, key: &RateKey) -> Result<(), Duration> {
        if let Some(shared) = &self.shared
            && let Some(decision) = shared.check(key, self.per_second, self.burst).await
        {
            return decision;
        }
        self.local
            .check_key(key)
            .map_err(|not_until| not_until.wait_time_from(self.clock.now()))
    }

    /// Whether the shared Redis answers (`/readyz`); `None` without `redis_url`.
    pub async fn redis_ping(&self) -> Option<Result<(), String>> {
        Some(self.shared.as_ref()?.ping().await)
    }

    /// Drops idle buckets every minute until `stop`.
    pub async fn run_maintenance(self: Arc<Self>, stop: tokio_util::sync::CancellationToken) {
        let mut tick = tokio::time::interval(RETAIN_EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = tick.tick() => {
                    self.local.retain_recent();
                    self.local.shrink_to_fit();
                }
                () = stop.cancelled() => return,
            }
        }
    }
}

/// `Retry-After` for a wait: whole seconds, rounded up, at least 1.
pub fn retry_after_secs(wait: Duration) -> u64 {
    wait.as_micros().div_ceil(1_000_000).max(1) as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn local_buckets_hold_burst_calls_per_key() {
        let l = RateLimiter::new(
            &RateLimitConfig {
                per_second: 1,
                burst: Some(3),
            },
            None,
        )
        .unwrap();
        let a = RateKey::Ip("10.0.0.1".parse().unwrap());
        let b = RateKey::Owner("mtls:CN=b".into());
        for _ in 0..3 {
            assert!(l.check(&a).await.is_ok());
        }
        let wait = l.check(&a).await.unwrap_err();
        assert!(wait <= Duration::from_secs(1), "{wait:?}");
        assert_eq!(retry_after_secs(wait), 1);
        assert!(l.check(&b).await.is_ok(), "another key has its own bucket");
    }

    #[test]
    fn retry_after_rounds_up_to_whole_seconds() {
        assert_eq!(retry_after_secs(Duration::from_millis(1)), 1);
        assert_eq!(retry_after_secs(Duration::from_millis(1001)), 2);
        assert_eq!(retry_after_secs(Duration::ZERO), 1);
    }
}

//! The buckets shared by every process: GCRA in one Lua script, run with EVALSHA (loaded
//! again when Redis forgot it). Redis's own clock is the time, so the processes' clocks
//! need not agree.

use std::time::{Duration, Instant};

use fred::prelude::{Builder, Client, ClientLike, Config, ReconnectPolicy};
use fred::types::scripts::Script;
use parking_lot::Mutex;

use super::RateKey;

/// Longest a check waits for Redis before the local bucket decides.
const TIMEOUT: Duration = Duration::from_millis(100);
/// How long Redis is left alone after it failed (the local buckets decide meanwhile).
const BACKOFF: Duration = Duration::from_secs(1);
/// At most one warning per this long while Redis keeps failing.
const WARN_EVERY: Duration = Duration::from_secs(60);

/// GCRA (the generic cell rate algorithm) on a theoretical arrival time in microseconds.
/// KEYS[1]: the bucket; ARGV[1]: microseconds per call; ARGV[2]: burst. Returns 0 when the
/// call is allowed, else the microseconds until it would be. `%d` writes the numbers in
/// full (Lua's default conversion keeps 14 digits).
const GCRA: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local interval = tonumber(ARGV[1])
local tolerance = interval * tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
local new_tat = tat + interval
local ahead = new_tat - now
if ahead > tolerance then
  return ahead - tolerance
end
redis.call('SET', KEYS[1], string.format('%d', new_tat), 'PX', string.format('%d', math.ceil(ahead / 1000)))
return 0
";

pub(super) struct Shared {
    client: Client,
    script: Script,
    health: Mutex<Health>,
}

#[derive(Default)]
struct Health {
    /// Set after a failure: Redis is skipped until then.
    skip_until: Option<Instant>,
    last_warning: Option<Instant>,
    /// Whether the last attempt failed (to log the recovery once).
    failing: bool,
}

impl Shared {
    /// A client that connects (and reconnects) in the background.
    pub(super) fn connect(url: &str) -> anyhow::Result<Self> {
        let mut config =
            Config::from_url(url).map_err(|e| anyhow::anyhow!("redis_url: {}", e.details()))?;
        // Keep trying when Redis is down at start instead of giving up.
        config.fail_fast = false;
        let client = Builder::from_config(config)
            .with_connection_config(|c| {
                c.connection_timeout = Duration::from_secs(2);
                c.internal_command_timeout = Duration::from_secs(2);
                c.max_command_attempts = 1;
            })
            .with_performance_config(|p| p.default_command_timeout = TIMEOUT)
            .set_policy(ReconnectPolicy::new_constant(0, 500))
            .build()
            .map_err(|e| anyhow::anyhow!("redis_url: {}", e.details()))?;
        drop(client.connect());
        Ok(Self {
            client,
            script: Script::from_lua(GCRA),
            health: Mutex::new(Health::default()),
        })
    }

    /// The shared decision, or `None` when Redis cannot give one now (the caller uses its
    /// local bucket).
    pub(super) async fn check(
        &self,
        key: &RateKey,
        per_second: u32,
        burst: u32,
    ) -> Option<Result<(), Duration>> {
        if self
            .health
            .lock()
            .skip_until
            .is_some_and(|t| Instant::now() < t)
        {
            return None;
        }
        let interval_us = 1_000_000 / u64::from(per_second.max(1));
        let call = self.script.evalsha_with_reload::<i64, _, _>(
            &self.client,
            key.redis_key(),
            vec![interval_us as i64, i64::from(burst)],
        );
        let result = match tokio::time::timeout(TIMEOUT, call).await {
            Ok(Ok(wait_us)) => Ok(wait_us),
            Ok(Err(e)) => Err(e.details().to_string()),
            Err(_) => Err(format!("no answer within {} ms", TIMEOUT.as_millis())),
        };
        let mut health = self.health.lock();
        match result {
            Ok(wait_us) => {
                if std::mem::take(&mut health.failing) {
                    tracing::info!("Redis answers again: rate limits are shared again");
                }
                health.skip_until = None;
                Some(if wait_us <= 0 {
                    Ok(())
                } else {
                    Err(Duration::from_micros(wait_us as u64))
                })
            }
            Err(error) => {
                let now = Instant::now();
                health.failing = true;
                health.skip_until = Some(now + BACKOFF);
                if health
                    .last_warning
                    .is_none_or(|t| now.duration_since(t) >= WARN_EVERY)
                {
                    health.last_warning = Some(now);
                    tracing::warn!(
                        %error,
                        "Redis rate limit check failed; limiting per process until Redis answers"
                    );
                }
                None
            }
        }
    }

    pub(super) async fn ping(&self) -> Result<(), String> {
        match tokio::time::timeout(TIMEOUT * 10, self.client.ping::<String>(None)).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(e)) => Err(e.details().to_string()),
            Err(_) => Err("no answer within 1 s".into()),
        }
    }
}

//! Configuration: defaults, then an optional TOML file, then `A2A_*` environment
//! variables, then command-line flags (each overriding the one before).

use std::net::SocketAddr;
use std::path::PathBuf;

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};

use crate::protocol::card::{
    AgentCapabilities, AgentCard, AgentInterface, AgentProvider, AgentSkill, CardSecurity,
    ExtendedCard,
};

/// Everything the server needs to start. Its `Debug` hides the passwords of the store
/// and Redis URLs and the JWT secrets.
#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Address to listen on.
    pub listen: SocketAddr,
    /// Address of the operations listener (`/metrics`, `/healthz`, `/health`, `/readyz`),
    /// plain HTTP without client authentication, so probes work whatever the public
    /// listener requires; the public listener then answers 404 for these routes. Unset,
    /// they are served on `listen`.
    pub admin_listen: Option<SocketAddr>,
    /// A listener of its own for gRPC only (with the TLS of `listen`). Unset, gRPC is
    /// served on `listen` beside JSON-RPC (requests with `content-type: application/grpc`).
    pub grpc_listen: Option<SocketAddr>,
    /// Built-in agent to run: `echo` or `conformance`.
    pub agent: String,
    /// Task store URL: `sqlite://PATH` (created on first start), `postgres://...`, or
    /// `memory:` (nothing survives a restart).
    pub store: String,
    /// Database connection pool size.
    pub db_max_connections: u32,
    /// Seconds to wait for a database connection before failing a request.
    pub db_acquire_timeout_secs: u64,
    /// Longest a single database statement may run, in seconds.
    pub db_statement_timeout_secs: u64,
    /// Seconds a run's lease lasts without renewal; runs of a process that stopped
    /// renewing (it crashed) are recovered after this long.
    pub run_lease_secs: u64,
    /// Purge terminal tasks whose status is older than this many seconds (0: never).
    pub retention_secs: u64,
    /// Seconds an `Idempotency-Key` is remembered: a retry with the key within this time
    /// gets the first answer; expired keys are purged.
    pub idempotency_ttl_secs: u64,
    /// The base URL clients reach this server at, as advertised in the card;
    /// defaults to `http://<listen>`.
    pub public_url: Option<String>,
    /// Declare and serve the streaming methods.
    pub streaming: bool,
    /// Largest request body accepted (HTTP 413 beyond).
    pub max_body_bytes: usize,
    /// Requests handled at once; more get HTTP 503.
    pub max_concurrent_requests: usize,
    /// Deepest nesting of objects and arrays in a call's params (the params object is
    /// depth 1); deeper is refused with -32602 before decoding. At most 120: past that the
    /// JSON parser refuses the envelope itself (-32700).
    pub max_json_depth: usize,
    /// Most parts in one message (-32602 beyond).
    pub max_parts: usize,
    /// Longest JSON string in a call's params (keys included), in bytes as sent; -32602
    /// beyond. Inline file parts are strings: raise this with `max_body_bytes` for them.
    pub max_string_bytes: usize,
    /// Largest metadata object (of a send, its message, or one part) as serialized JSON;
    /// -32602 beyond.
    pub max_metadata_bytes: usize,
    /// Seconds a client may take to send a request head, and a kept-alive connection may
    /// sit idle before its next request; the connection is closed after (0: no limit).
    pub header_read_timeout_secs: u64,
    /// Seconds a canceled agent may run on before it is aborted.
    pub cancel_grace_secs: u64,
    /// Seconds between SIGTERM (readiness turns 503) and draining, during which new
    /// connections are still served while load balancers notice (Kubernetes: a few).
    pub shutdown_delay_secs: u64,
    /// Seconds running agents (and requests in flight) get to finish once draining
    /// starts; then their leases are released for another process to take over.
    pub shutdown_grace_secs: u64,
    /// Declare and serve push notifications (webhooks); off, the push methods answer -32003.
    pub push_notifications: bool,
    /// Accept webhooks on loopback, private and link-local addresses (tests, local
    /// development). Off by default: such URLs are refused with -32602.
    pub push_allow_private_networks: bool,
    /// Send W3C `traceparent` with each notification of a traced run, so the receiver
    /// continues the trace. A privacy choice: webhooks are third parties.
    pub push_propagate_trace: bool,
    /// Attempts per notification before it is dead-lettered.
    pub push_max_attempts: u32,
    /// Seconds after its event a notification is dead-lettered, whatever its attempts.
    pub push_max_age_secs: u64,
    /// First retry delay in milliseconds; doubles per attempt (with jitter).
    pub push_retry_base_ms: u64,
    /// Longest retry delay, in seconds.
    pub push_retry_max_secs: u64,
    /// Webhook connect timeout, in seconds.
    pub push_connect_timeout_secs: u64,
    /// Whole webhook request timeout, in seconds.
    pub push_timeout_secs: u64,
    /// Webhook requests in flight at once.
    pub push_concurrency: usize,
    /// PEM file of the key that signs notification JWTs (ES256 or RS256). Unset, a key is
    /// generated on first start and kept in `push_keys_dir`.
    pub push_signing_key: Option<PathBuf>,
    /// Where a generated signing key is kept; defaults to `keys/` beside a SQLite store,
    /// `./data/keys` for PostgreSQL, and memory only for the memory store.
    pub push_keys_dir: Option<PathBuf>,
    /// Lifetime of a notification JWT, in seconds.
    pub push_token_lifetime_secs: u64,
    /// Replace the signing key with a new one this often, in seconds (0: never). The old
    /// public key stays in the JWKS until its last token expires.
    pub push_key_rotation_secs: u64,
    /// Log lines as `text` or `json` (one object a line); unset: text when stderr is a
    /// terminal, JSON otherwise (a file, a pipe, a container's log).
    pub log_format: Option<LogFormat>,
    pub card: CardConfig,
    /// HTTPS on `listen` (`[tls]`, env `A2A_TLS__CERT`, ...). Absent: plain HTTP.
    pub tls: Option<TlsConfig>,
    /// Requests per second per caller (`[rate_limit]`). Absent: no limit.
    pub rate_limit: Option<RateLimitConfig>,
    /// Cross-origin access for browsers (`[cors]`). Absent or empty: no CORS headers at all.
    pub cors: CorsConfig,
    /// Redis, shared by every process of a deployment (the rate limit's buckets; a bus
    /// later), e.g. `redis://127.0.0.1:6379` or `rediss://...`. Unset: per-process state.
    pub redis_url: Option<String>,
    /// `[auth]`: authentication (nothing configured: every caller is anonymous) and the
    /// trusted proxies.
    #[serde(default)]
    pub auth: crate::auth::AuthConfig,
}

impl std::fmt::Debug for Config {
    // Through the serialized form, so that every field is shown (a new one too) and the
    // few that carry secrets are redacted in one place.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut v = serde_json::to_value(self).map_err(|_| std::fmt::Error)?;
        for key in ["store", "redis_url"] {
            if let Some(url) = v[key].as_str() {
                v[key] = redact(url).into();
            }
        }
        for jwt in v["auth"]["jwt"].as_array_mut().into_iter().flatten() {
            if !jwt["secret"].is_null() {
                jwt["secret"] = "***".into();
            }
        }
        write!(f, "Config {v}")
    }
}

/// The HTTPS listener. The certificate and key files are re-read when they change, so a
/// rotated certificate is served from the next handshake on, without a restart.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct TlsConfig {
    /// PEM file of the certificate chain, leaf first.
    pub cert: PathBuf,
    /// PEM file of the private key (PKCS#8, PKCS#1 or SEC1).
    pub key: PathBuf,
    /// Lowest TLS version accepted: `"1.3"` (default) or `"1.2"`.
    #[serde(default = "default_tls_min")]
    pub min_version: String,
    /// PEM file of the CA(s) whose client certificates are accepted (mTLS). Unset: no
    /// client certificates are asked for.
    #[serde(default)]
    pub client_ca: Option<PathBuf>,
    /// With `client_ca`: `"required"` (default; a handshake without a valid client
    /// certificate fails) or `"optional"` (clients without one are served anonymously).
    #[serde(default)]
    pub client_auth: ClientAuth,
}

fn default_tls_min() -> String {
    "1.3".into()
}

/// Whether a client certificate is required when `tls.client_ca` is set.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ClientAuth {
    #[default]
    Required,
    Optional,
}

/// A token bucket per caller: `burst` requests at once, refilled at `per_second`.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RateLimitConfig {
    /// Sustained JSON-RPC calls per second per caller.
    pub per_second: u32,
    /// Calls a caller may make at once above the sustained rate; defaults to `per_second`.
    #[serde(default)]
    pub burst: Option<u32>,
}

/// Origins whose browser pages may call this server.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct CorsConfig {
    /// Exact origins (`https://app.example.com`); `*` is not accepted.
    #[serde(default)]
    pub allowed_origins: Vec<String>,
}

/// How log lines are written to stderr.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines, colored only on a terminal.
    Text,
    /// One JSON object a line.
    Json,
}

/// The agent card fields an operator sets.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CardConfig {
    pub name: String,
    pub description: String,
    pub version: String,
    pub provider_organization: Option<String>,
    pub provider_url: Option<String>,
    pub documentation_url: Option<String>,
    pub icon_url: Option<String>,
    pub input_modes: Vec<String>,
    pub output_modes: Vec<String>,
    /// Skills; when empty, the built-in agent's own skill is advertised.
    pub skills: Vec<AgentSkill>,
    /// Serve the 0.3 members (`url`, `protocolVersion`, `preferredTransport`,
    /// `additionalInterfaces`) beside the 1.0 ones at `/.well-known/agent-card.json`, for 0.3
    /// clients. `false` serves a strict 1.0 card there, as 1.0 validators want; the 0.x card
    /// at `/.well-known/agent.json` is the same either way.
    pub v03_fields: bool,
    /// `[card.extended]`: the extended card (`description`, extra `skills`) served by
    /// `GetExtendedAgentCard` / `agent/getAuthenticatedExtendedCard` to authenticated
    /// callers only; set, the card's capability flag says so. Needs an authenticator.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extended: Option<ExtendedCard>,
}

/// The top-level keys of [`Config`], for filtering environment variables.
const FIELDS: &[&str] = &[
    "listen",
    "admin_listen",
    "grpc_listen",
    "agent",
    "store",
    "db_max_connections",
    "db_acquire_timeout_secs",
    "db_statement_timeout_secs",
    "run_lease_secs",
    "retention_secs",
    "idempotency_ttl_secs",
    "public_url",
    "streaming",
    "max_body_bytes",
    "max_concurrent_requests",
    "max_json_depth",
    "max_parts",
    "max_string_bytes",
    "max_metadata_bytes",
    "header_read_timeout_secs",
    "cancel_grace_secs",
    "shutdown_delay_secs",
    "shutdown_grace_secs",
    "push_notifications",
    "push_allow_private_networks",
    "push_propagate_trace",
    "push_max_attempts",
    "push_max_age_secs",
    "push_retry_base_ms",
    "push_retry_max_secs",
    "push_connect_timeout_secs",
    "push_timeout_secs",
    "push_concurrency",
    "push_signing_key",
    "push_keys_dir",
    "push_token_lifetime_secs",
    "push_key_rotation_secs",
    "log_format",
    "card",
    "tls",
    "rate_limit",
    "cors",
    "redis_url",
    "auth",
];

/// `"text"` (JSON escapes) is `text`; anything else is itself.
fn unquote(value: String) -> String {
    if value.len() >= 2 && value.starts_with('"') && value.ends_with('"') {
        serde_json::from_str(&value).unwrap_or(value)
    } else {
        value
    }
}

/// The settings that are text whatever they look like (dotted paths for nested keys).
const TEXT_KEYS: &[&str] = &[
    "agent",
    "store",
    "public_url",
    "push_signing_key",
    "push_keys_dir",
    "redis_url",
    "tls.cert",
    "tls.key",
    "tls.min_version",
    "tls.client_ca",
    "tls.client_auth",
    "card.name",
    "card.description",
    "card.version",
    "card.provider_organization",
    "card.provider_url",
    "card.documentation_url",
    "card.icon_url",
];

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8000)),
            admin_listen: None,
            grpc_listen: None,
            agent: "echo".into(),
            store: "sqlite://./data/a2a.db".into(),
            db_max_connections: 16,
            db_acquire_timeout_secs: 5,
            db_statement_timeout_secs: 30,
            run_lease_secs: 15,
            retention_secs: 0,
            idempotency_ttl_secs: 24 * 3600,
            public_url: None,
            streaming: true,
            max_body_bytes: 1024 * 1024,
            max_concurrent_requests: 4096,
            max_json_depth: 64,
            max_parts: 256,
            max_string_bytes: 1024 * 1024,
            max_metadata_bytes: 64 * 1024,
            header_read_timeout_secs: 30,
            cancel_grace_secs: 5,
            shutdown_delay_secs: 0,
            shutdown_grace_secs: 10,
            push_notifications: true,
            push_allow_private_networks: false,
            push_propagate_trace: true,
            push_max_attempts: 12,
            push_max_age_secs: 24 * 3600,
            push_retry_base_ms: 1000,
            push_retry_max_secs: 300,
            push_connect_timeout_secs: 5,
            push_timeout_secs: 15,
            push_concurrency: 64,
            push_signing_key: None,
            push_keys_dir: None,
            push_token_lifetime_secs: 300,
            push_key_rotation_secs: 0,
            log_format: None,
            card: CardConfig {
                name: "a2a-server".into(),
                description: "An A2A agent served by a2a-server".into(),
                version: env!("CARGO_PKG_VERSION").into(),
                provider_organization: None,
                provider_url: None,
                documentation_url: None,
                icon_url: None,
                input_modes: vec!["text/plain".into(), "application/json".into()],
                output_modes: vec!["text/plain".into(), "application/json".into()],
                skills: Vec::new(),
                v03_fields: true,
                extended: None,
            },
            tls: None,
            rate_limit: None,
            cors: CorsConfig::default(),
            redis_url: None,
            auth: crate::auth::AuthConfig::default(),
        }
    }
}

/// Values given on the command line; `None` leaves the layer below in charge.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Overrides {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub listen: Option<SocketAddr>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agent: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub store: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub public_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub streaming: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub push_notifications: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub push_allow_private_networks: Option<bool>,
}

#[derive(Debug, thiserror::Error)]
#[error("invalid configuration: {0}")]
pub struct ConfigError(String);

impl Config {
    /// Layers defaults, the TOML file (if any), `A2A_*` variables and the overrides.
    /// `A2A_DATABASE_URL` sets `store`; nested keys use `__` (`A2A_CARD__NAME`).
    pub fn load(file: Option<PathBuf>, overrides: Overrides) -> Result<Config, ConfigError> {
        let mut fig = Figment::from(Serialized::defaults(Config::default()));
        if let Some(path) = file {
            if !path.exists() {
                return Err(ConfigError(format!(
                    "config file {} does not exist",
                    path.display()
                )));
            }
            fig = fig.merge(Toml::file(path));
        }
        // Only variables naming a setting count: `A2A_*` is shared with other tools (the
        // test suite's `A2A_TEST_POSTGRES_URL`; the service links Kubernetes sets, such as
        // `A2A_AGENT_PORT` for a service named `a2a-agent`), while the file is strict about
        // typos. Keys arrive as written (upper case), hence the case-blind comparisons.
        let env = Env::prefixed("A2A_")
            .map(|k| {
                if k.as_str().eq_ignore_ascii_case("database_url") {
                    "store".into()
                } else {
                    k.as_str().replace("__", ".").into()
                }
            })
            .filter(|k| {
                let top = k.as_str().split('.').next().unwrap_or_default();
                FIELDS.iter().any(|f| f.eq_ignore_ascii_case(top))
            });
        // Text settings are taken as written: figment would read `A2A_CARD__VERSION=1.0` as
        // a number, and a number is not a string. A value in double quotes (figment's own
        // way to force a string) is the text inside.
        let is_text = |k: &str| TEXT_KEYS.iter().any(|t| t.eq_ignore_ascii_case(k));
        let text: Vec<(String, String)> = env
            .iter()
            .filter(|(k, _)| is_text(k.as_str()))
            .map(|(k, v)| (k.as_str().to_ascii_lowercase(), unquote(v)))
            .collect();
        let mut fig = fig.merge(env.filter(move |k| !is_text(k.as_str())));
        for (key, value) in text {
            fig = fig.merge(Serialized::default(&key, value));
        }
        let config: Config = fig
            .merge(Serialized::defaults(overrides))
            .extract()
            .map_err(|e| ConfigError(e.to_string()))?;
        config.validate()?;
        Ok(config)
    }

    fn validate(&self) -> Result<(), ConfigError> {
        if crate::agents::builtin(&self.agent).is_none() {
            return Err(ConfigError(format!(
                "unknown agent `{}`; built-in agents: {}",
                self.agent,
                crate::agents::BUILTIN_AGENTS.join(", ")
            )));
        }
        const SCHEMES: [&str; 4] = ["memory:", "sqlite:", "postgres://", "postgresql://"];
        if !SCHEMES.iter().any(|s| self.store.starts_with(s)) {
            return Err(ConfigError(format!(
                "unsupported store `{}`: use sqlite://PATH, postgres://USER@HOST/DB or memory:",
                redact(&self.store)
            )));
        }
        if self.run_lease_secs == 0 || self.db_max_connections == 0 {
            return Err(ConfigError(
                "run_lease_secs and db_max_connections must be > 0".into(),
            ));
        }
        if self.idempotency_ttl_secs == 0 {
            return Err(ConfigError(
                "idempotency_ttl_secs must be > 0 (a retry needs its key remembered)".into(),
            ));
        }
        if self.push_max_attempts == 0 || self.push_concurrency == 0 || self.push_timeout_secs == 0
        {
            return Err(ConfigError(
                "push_max_attempts, push_concurrency and push_timeout_secs must be > 0".into(),
            ));
        }
        if let Some(admin) = self.admin_listen
            && admin == self.listen
            && admin.port() != 0
        {
            return Err(ConfigError(format!(
                "admin_listen must differ from listen (both {admin}); unset it to serve \
                 the operations routes on listen"
            )));
        }
        if let Some(grpc) = self.grpc_listen
            && grpc.port() != 0
            && (Some(grpc) == self.admin_listen || grpc == self.listen)
        {
            return Err(ConfigError(format!(
                "grpc_listen must differ from listen and admin_listen ({grpc}); unset it to \
                 serve gRPC on listen"
            )));
        }
        if self.card.extended.is_some() && self.auth.api_keys.is_none() && self.auth.jwt.is_empty()
        {
            return Err(ConfigError(
                "[card.extended] is served to authenticated callers only: configure \
                 [auth.api_keys] or [[auth.jwt]] too"
                    .into(),
            ));
        }
        if self.max_body_bytes < 1024 || self.max_concurrent_requests == 0 {
            return Err(ConfigError(
                "max_body_bytes must be >= 1024 and max_concurrent_requests > 0".into(),
            ));
        }
        if !(2..=120).contains(&self.max_json_depth)
            || self.max_parts == 0
            || self.max_string_bytes == 0
            || self.max_metadata_bytes == 0
        {
            return Err(ConfigError(
                "max_json_depth must be 2..=120, and max_parts, max_string_bytes and \
                 max_metadata_bytes > 0"
                    .into(),
            ));
        }
        self.validate_security()
    }

    /// The request limits of every call.
    pub fn request_limits(&self) -> crate::protocol::limits::RequestLimits {
        crate::protocol::limits::RequestLimits {
            max_json_depth: self.max_json_depth,
            max_parts: self.max_parts,
            max_string_bytes: self.max_string_bytes,
            max_metadata_bytes: self.max_metadata_bytes,
        }
    }

    fn validate_security(&self) -> Result<(), ConfigError> {
        if let Some(tls) = &self.tls
            && !matches!(tls.min_version.as_str(), "1.2" | "1.3")
        {
            return Err(ConfigError(format!(
                "tls.min_version `{}` is not supported: use \"1.3\" or \"1.2\"",
                tls.min_version
            )));
        }
        if let Some(rl) = &self.rate_limit
            && (rl.per_second == 0 || rl.burst == Some(0))
        {
            return Err(ConfigError(
                "rate_limit.per_second and rate_limit.burst must be > 0 (remove [rate_limit] for no limit)"
                    .into(),
            ));
        }
        for origin in &self.cors.allowed_origins {
            let ok = url::Url::parse(origin).is_ok_and(|u| {
                matches!(u.scheme(), "http" | "https")
                    && u.host().is_some()
                    && origin.trim_end_matches('/') == u.origin().ascii_serialization()
            });
            if !ok {
                return Err(ConfigError(format!(
                    "cors.allowed_origins: `{origin}` is not an origin such as https://app.example.com \
                     (scheme, host and optional port; no path, no wildcard)"
                )));
            }
        }
        if let Some(url) = &self.redis_url
            && !(url.starts_with("redis://") || url.starts_with("rediss://"))
        {
            return Err(ConfigError(format!(
                "redis_url `{}` must start with redis:// or rediss://",
                redact(url)
            )));
        }
        crate::transport::client_ip::TrustedProxies::parse(&self.auth.trusted_proxies)
            .map_err(|e| ConfigError(format!("auth.trusted_proxies: {e}")))?;
        Ok(())
    }

    /// The URL scheme clients reach `listen` with.
    pub fn scheme(&self) -> &'static str {
        if self.tls.is_some() { "https" } else { "http" }
    }

    /// Pool and timeout settings of the task store.
    pub fn db_options(&self) -> crate::store::DbOptions {
        crate::store::DbOptions {
            max_connections: self.db_max_connections,
            acquire_timeout: std::time::Duration::from_secs(self.db_acquire_timeout_secs),
            statement_timeout: std::time::Duration::from_secs(self.db_statement_timeout_secs),
        }
    }

    /// How the push worker delivers.
    pub fn delivery(&self) -> crate::push::worker::DeliveryConfig {
        use std::time::Duration;
        crate::push::worker::DeliveryConfig {
            allow_private: self.push_allow_private_networks,
            max_attempts: self.push_max_attempts,
            max_age: Duration::from_secs(self.push_max_age_secs),
            retry_base: Duration::from_millis(self.push_retry_base_ms),
            retry_max: Duration::from_secs(self.push_retry_max_secs),
            connect_timeout: Duration::from_secs(self.push_connect_timeout_secs.max(1)),
            timeout: Duration::from_secs(self.push_timeout_secs),
            concurrency: self.push_concurrency,
            key_rotation: (self.push_key_rotation_secs > 0)
                .then(|| Duration::from_secs(self.push_key_rotation_secs)),
            propagate_trace: self.push_propagate_trace,
        }
    }

    /// Where a generated push signing key lives, if anywhere.
    pub fn push_keys_dir(&self) -> Option<PathBuf> {
        if let Some(dir) = &self.push_keys_dir {
            return Some(dir.clone());
        }
        if let Some(path) = self.store.strip_prefix("sqlite://") {
            let file = PathBuf::from(path.split('?').next().unwrap_or(path));
            let dir = file.parent().map(PathBuf::from).unwrap_or_default();
            return Some(dir.join("keys"));
        }
        self.store
            .starts_with("postgres")
            .then(|| PathBuf::from("./data/keys"))
    }

    /// The card as served, for a server reachable at `base_url`.
    pub fn agent_card(&self, base_url: &str) -> AgentCard {
        let c = &self.card;
        let skills = if c.skills.is_empty() {
            default_skills(&self.agent)
        } else {
            c.skills.clone()
        };
        let url = format!("{}/", base_url.trim_end_matches('/'));
        AgentCard {
            name: c.name.clone(),
            description: c.description.clone(),
            version: c.version.clone(),
            interfaces: vec![AgentInterface::jsonrpc(&url), AgentInterface::rest(&url)],
            url,
            provider: match (&c.provider_organization, &c.provider_url) {
                (Some(o), Some(u)) => Some(AgentProvider {
                    organization: o.clone(),
                    url: u.clone(),
                }),
                _ => None,
            },
            documentation_url: c.documentation_url.clone(),
            icon_url: c.icon_url.clone(),
            capabilities: AgentCapabilities {
                streaming: self.streaming,
                push_notifications: self.push_notifications,
                extended_agent_card: c.extended.is_some(),
            },
            default_input_modes: c.input_modes.clone(),
            default_output_modes: c.output_modes.clone(),
            skills,
            v03_fields: c.v03_fields,
            security: CardSecurity::default(),
        }
    }
}

fn default_skills(agent: &str) -> Vec<AgentSkill> {
    let (id, name, description) = match agent {
        "conformance" => (
            "conformance",
            "Conformance behaviours",
            "Drives tasks through the states A2A conformance kits check, chosen by messageId prefix",
        ),
        _ => ("echo", "Echo", "Replies with the text it was sent"),
    };
    vec![AgentSkill {
        id: id.into(),
        name: name.into(),
        description: description.into(),
        tags: vec![id.into()],
        examples: vec!["hello".into()],
        input_modes: Vec::new(),
        output_modes: Vec::new(),
    }]
}

/// A URL without its password, for messages.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            let user = creds.split(':').next().unwrap_or("");
            format!("{}{user}:***{}", &url[..s + 3], &url[at..])
        }
        _ => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[allow(clippy::result_large_err)] // figment's Jail API returns its own error type
    fn debug_output_holds_no_secret() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "a2a.toml",
                r#"store = "postgres://a2a:PG-PASSWORD@db/a2a"
redis_url = "redis://:REDIS-PASSWORD@redis:6379"
[[auth.jwt]]
issuer = "https://idp.example"
audience = ["a2a"]
algorithms = ["HS256"]
secret = "HS256-SECRET-0123456789abcdef0123456789"
"#,
            )?;
            let c = Config::load(Some("a2a.toml".into()), Overrides::default()).unwrap();
            for shown in [
                format!("{c:?}"),
                format!("{:?}", c.auth),
                format!("{:?}", c.auth.jwt[0]),
            ] {
                for secret in ["PG-PASSWORD", "REDIS-PASSWORD", "HS256-SECRET"] {
                    assert!(!shown.contains(secret), "{secret} in {shown}");
                }
                assert!(shown.contains("https://idp.example"), "{shown}");
            }
            assert!(format!("{c:?}").contains("postgres://a2a:***@db/a2a"));
            Ok(())
        });
    }

    #[test]
    fn redact_hides_passwords() {
        assert_eq!(redact("postgres://u:secret@h/db"), "postgres://u:***@h/db");
        assert_eq!(redact("memory:"), "memory:");
    }

    #[test]
    #[allow(clippy::result_large_err)] // figment's Jail API returns its own error type
    fn flags_beat_env_beat_file() {
        figment::Jail::expect_with(|jail| {
            jail.create_file("a2a.toml", "agent = \"conformance\"\nlisten = \"127.0.0.1:9000\"\n[card]\nname = \"From file\"\n")?;
            jail.set_env("A2A_LISTEN", "127.0.0.1:9001");
            jail.set_env("A2A_CARD__NAME", "From env");
            let c = Config::load(Some("a2a.toml".into()), Overrides::default()).unwrap();
            assert_eq!(c.agent, "conformance");
            assert_eq!(c.listen.port(), 9001);
            assert_eq!(c.card.name, "From env");
            let o = Overrides {
                listen: Some("127.0.0.1:9002".parse().unwrap()),
                ..Default::default()
            };
            let c = Config::load(Some("a2a.toml".into()), o).unwrap();
            assert_eq!(c.listen.port(), 9002);
            Ok(())
        });
    }

    #[test]
    #[allow(clippy::result_large_err)] // figment's Jail API returns its own error type
    fn unrelated_a2a_variables_are_ignored_but_file_typos_are_not() {
        figment::Jail::expect_with(|jail| {
            jail.set_env("A2A_TEST_SOMETHING_ELSE", "x");
            assert!(Config::load(None, Overrides::default()).is_ok());
            jail.create_file("typo.toml", "agnet = \"echo\"\n")?;
            let e = Config::load(Some("typo.toml".into()), Overrides::default()).unwrap_err();
            assert!(e.to_string().contains("agnet"), "{e}");
            Ok(())
        });
    }

    #[test]
    #[allow(clippy::result_large_err)] // figment's Jail API returns its own error type
    fn card_v03_fields_defaults_on_and_is_set_by_file_or_env() {
        figment::Jail::expect_with(|jail| {
            let c = Config::load(None, Overrides::default()).unwrap();
            assert!(c.card.v03_fields && c.agent_card("http://h").v03_fields);
            jail.create_file("strict.toml", "[card]\nv03_fields = false\n")?;
            let c = Config::load(Some("strict.toml".into()), Overrides::default()).unwrap();
            assert!(!c.card.v03_fields && !c.agent_card("http://h").v03_fields);
            jail.set_env("A2A_CARD__V03_FIELDS", "true");
            let c = Config::load(Some("strict.toml".into()), Overrides::default()).unwrap();
            assert!(c.card.v03_fields);
            jail.set_env("A2A_CARD__V03_FIELDS", "false");
            assert!(
                !Config::load(None, Overrides::default())
                    .unwrap()
                    .card
                    .v03_fields
            );
            Ok(())
        });
    }

    #[test]
    #[allow(clippy::result_large_err)] // figment's Jail API returns its own error type
    fn idempotency_ttl_defaults_to_a_day_and_reads_its_variable() {
        figment::Jail::expect_with(|jail| {
            let c = Config::load(None, Overrides::default()).unwrap();
            assert_eq!(c.idempotency_ttl_secs, 86_400);
            jail.set_env("A2A_IDEMPOTENCY_TTL_SECS", "60");
            let c = Config::load(None, Overrides::default()).unwrap();
            assert_eq!(c.idempotency_ttl_secs, 60);
            jail.set_env("A2A_IDEMPOTENCY_TTL_SECS", "0");
            let e = Config::load(None, Overrides::default()).unwrap_err();
            assert!(e.to_string().contains("idempotency_ttl_secs"), "{e}");
            Ok(())
        });
    }

    #[test]
    #[allow(clippy::result_large_err)] // figment's Jail API returns its own error type
    fn shutdown_and_admin_settings_default_off_and_read_their_variables() {
        figment::Jail::expect_with(|jail| {
            let c = Config::load(None, Overrides::default()).unwrap();
            assert_eq!(c.admin_listen, None);
            assert_eq!((c.shutdown_delay_secs, c.shutdown_grace_secs), (0, 10));
            jail.set_env("A2A_ADMIN_LISTEN", "0.0.0.0:9464");
            jail.set_env("A2A_SHUTDOWN_DELAY_SECS", "5");
            jail.set_env("A2A_SHUTDOWN_GRACE_SECS", "20");
            let c = Config::load(None, Overrides::default()).unwrap();
            assert_eq!(c.admin_listen, Some("0.0.0.0:9464".parse().unwrap()));
            assert_eq!((c.shutdown_delay_secs, c.shutdown_grace_secs), (5, 20));
            jail.set_env("A2A_ADMIN_LISTEN", "127.0.0.1:8000");
            let e = Config::load(None, Overrides::default()).unwrap_err();
            assert!(e.to_string().contains("admin_listen"), "{e}");
            Ok(())
        });
    }

    #[test]
    #[allow(clippy::result_large_err)] // figment's Jail API returns its own error type
    fn security_settings_default_off_and_read_their_variables() {
        figment::Jail::expect_with(|jail| {
            let c = Config::load(None, Overrides::default()).unwrap();
            assert!(c.tls.is_none() && c.rate_limit.is_none() && c.redis_url.is_none());
            assert!(c.cors.allowed_origins.is_empty() && c.auth.trusted_proxies.is_empty());
            assert_eq!(c.scheme(), "http");
            jail.set_env("A2A_TLS__CERT", "/etc/a2a/tls.crt");
            jail.set_env("A2A_TLS__KEY", "/etc/a2a/tls.key");
            jail.set_env("A2A_TLS__MIN_VERSION", "1.2");
            jail.set_env("A2A_RATE_LIMIT__PER_SECOND", "100");
            jail.set_env("A2A_RATE_LIMIT__BURST", "200");
            jail.set_env("A2A_REDIS_URL", "redis://127.0.0.1:6379");
            jail.set_env("A2A_CORS__ALLOWED_ORIGINS", "[\"https://app.example.com\"]");
            jail.set_env("A2A_AUTH__TRUSTED_PROXIES", "[\"10.0.0.0/8\"]");
            let c = Config::load(None, Overrides::default()).unwrap();
            let tls = c.tls.clone().unwrap();
            assert_eq!(tls.cert, PathBuf::from("/etc/a2a/tls.crt"));
            assert_eq!(
                (tls.min_version.as_str(), tls.client_auth),
                ("1.2", ClientAuth::Required)
            );
            assert_eq!(
                c.rate_limit,
                Some(RateLimitConfig {
                    per_second: 100,
                    burst: Some(200)
                })
            );
            assert_eq!(c.redis_url.as_deref(), Some("redis://127.0.0.1:6379"));
            assert_eq!(c.cors.allowed_origins, ["https://app.example.com"]);
            assert_eq!(c.auth.trusted_proxies, ["10.0.0.0/8"]);
            assert_eq!(c.scheme(), "https");
            jail.set_env("A2A_AUTH__TRUSTED_PROXIES", "[\"10.0.0.0/40\"]");
            let e = Config::load(None, Overrides::default()).unwrap_err();
            assert!(e.to_string().contains("trusted_proxies"), "{e}");
            jail.set_env("A2A_AUTH__TRUSTED_PROXIES", "[]");
            jail.set_env("A2A_REDIS_URL", "http://x");
            let e = Config::load(None, Overrides::default()).unwrap_err();
            assert!(e.to_string().contains("redis_url"), "{e}");
            jail.set_env("A2A_REDIS_URL", "redis://h");
            jail.set_env("A2A_RATE_LIMIT__PER_SECOND", "0");
            let e = Config::load(None, Overrides::default()).unwrap_err();
            assert!(e.to_string().contains("rate_limit"), "{e}");
            Ok(())
        });
    }

    #[test]
    fn unknown_agent_is_rejected() {
        let o = Overrides {
            agent: Some("nope".into()),
            ..Default::default()
        };
        let e = Config::load(None, o).unwrap_err();
        assert!(e.to_string().contains("unknown agent `nope`"), "{e}");
    }
}

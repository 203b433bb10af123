//! Wiring: configuration in, a bound server out.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::agents::AgentExecutor;
use crate::config::Config;
use crate::events::LocalBus;
use crate::jsonrpc::{self, Ctx};
use crate::metrics::Metrics;
use crate::push::jwt::NotificationSigner;
use crate::push::keys::{SigningAlgorithm, SigningKey, SigningKeys};
use crate::push::worker::PushWorker;
use crate::ratelimit::RateLimiter;
use crate::service::{ServiceConfig, TaskService};
use crate::transport::client_ip::TrustedProxies;
use crate::transport::{AppState, Endpoint, Lifecycle, Limits, Parts, serve};

/// A server bound to its port, ready to run.
pub struct Application {
    listener: TcpListener,
    endpoint: Endpoint,
    addr: SocketAddr,
    service: TaskService,
    /// The public listener's TLS settings (`[tls]`).
    tls: Option<Arc<rustls::ServerConfig>>,
    /// Per-caller limits, for their maintenance task.
    rate_limit: Option<Arc<RateLimiter>>,
    /// How long a request head may take to arrive (`None`: no limit).
    header_read_timeout: Option<Duration>,
    /// The webhook delivery worker, when push notifications are on.
    push: Option<Arc<PushWorker>>,
    /// The operations listener (`admin_listen`), its address and routes.
    admin: Option<(TcpListener, SocketAddr, Endpoint)>,
    /// The gRPC-only listener (`grpc_listen`) and its endpoint.
    grpc: Option<(TcpListener, Endpoint)>,
    lifecycle: Lifecycle,
    shutdown_delay: Duration,
    shutdown_grace: Duration,
}

impl Application {
    /// Binds the listener and builds the service with the configured built-in agent.
    /// Port 0 picks a free port.
    pub async fn build(config: Config) -> anyhow::Result<Application> {
        let agent = crate::agents::builtin(&config.agent)
            .ok_or_else(|| anyhow::anyhow!("unknown agent `{}`", config.agent))?;
        Self::build_with_agent(config, agent).await
    }

    /// Like [`Application::build`], with an agent of your own.
    pub async fn build_with_agent(
        config: Config,
        agent: Arc<dyn AgentExecutor>,
    ) -> anyhow::Result<Application> {
        // A bad certificate or key is a start-up error naming the file, before anything binds.
        let tls = config
            .tls
            .as_ref()
            .map(crate::transport::tls::server_config)
            .transpose()?;
        let rate_limit = config
            .rate_limit
            .as_ref()
            .map(|rl| RateLimiter::new(rl, config.redis_url.as_deref()).map(Arc::new))
            .transpose()?;
        let trusted_proxies =
            TrustedProxies::parse(&config.auth.trusted_proxies).map_err(anyhow::Error::msg)?;
        // Connect first: a server never listens without its store.
        let store = crate::store::connect(&config.store, &config.db_options()).await?;
        let listener = TcpListener::bind(config.listen)
            .await
            .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", config.listen))?;
        let addr = listener.local_addr()?;
        let admin_listener = match config.admin_listen {
            Some(a) => Some(
                TcpListener::bind(a)
                    .await
                    .map_err(|e| anyhow::anyhow!("cannot listen on {a} (admin_listen): {e}"))?,
            ),
            None => None,
        };
        let grpc_listener = match config.grpc_listen {
            Some(a) => Some(
                TcpListener::bind(a)
                    .await
                    .map_err(|e| anyhow::anyhow!("cannot listen on {a} (grpc_listen): {e}"))?,
            ),
            None => None,
        };
        let grpc_port = grpc_listener
            .as_ref()
            .map(TcpListener::local_addr)
            .transpose()?
            .map(|a| a.port());
        let base_url = config
            .public_url
            .clone()
            .unwrap_or_else(|| format!("{}://{addr}", config.scheme()));
        let auth = crate::auth::Auth::new(&config.auth, config.tls.as_ref()).await?;
        let mut card = config.agent_card(&base_url);
        if let Some(a) = grpc_authority(&base_url, grpc_port) {
            card.interfaces
                .push(crate::protocol::card::AgentInterface::grpc(&a));
        }
        card.security = auth.card_security();
        let metrics = Arc::new(Metrics::new());
        let pool_store = Arc::downgrade(&store);
        // Weak: the metrics must not keep the store (and its pool) alive.
        metrics.set_pool_source(move || pool_store.upgrade()?.pool_stats());
        let (keys, push) = if config.push_notifications {
            let keys = Arc::new(signing_keys(&config)?);
            let signer = Arc::new(NotificationSigner::new(keys.clone(), base_url.clone()));
            let worker =
                PushWorker::new(store.clone(), signer, config.delivery(), metrics.clone())?;
            (Some(keys), Some(Arc::new(worker)))
        } else {
            (None, None)
        };
        let service = TaskService::new(
            store,
            Arc::new(LocalBus::new()),
            agent,
            ServiceConfig {
                cancel_grace: Duration::from_secs(config.cancel_grace_secs),
                run_lease: Duration::from_secs(config.run_lease_secs),
                retention: (config.retention_secs > 0)
                    .then(|| Duration::from_secs(config.retention_secs)),
                push_allow_private: config.push_allow_private_networks,
                agent_name: config.agent.clone(),
                idempotency_ttl: Duration::from_secs(config.idempotency_ttl_secs),
                metrics: metrics.clone(),
                plain_anonymous_ids: !auth.is_enabled(),
            },
        );
        let module = jsonrpc::module(Ctx {
            service: service.clone(),
            card: card.clone(),
            extended: config.card.extended.as_ref().map(|e| card.extended(e)),
            limits: config.request_limits(),
        });
        let limits = Limits {
            max_body_bytes: config.max_body_bytes,
            max_concurrent_requests: config.max_concurrent_requests,
        };
        let lifecycle = Lifecycle::default();
        let state = AppState::new(
            &card,
            Parts {
                module,
                keys,
                metrics,
                store: service.store().clone(),
                limits,
                lifecycle: lifecycle.clone(),
                auth,
                rate_limit: rate_limit.clone(),
                trusted_proxies,
                cors_origins: config.cors.allowed_origins.clone(),
            },
        );
        let grpc = grpc_listener.map(|l| (l, Endpoint::grpc_only(state.clone())));
        let (endpoint, admin) = match admin_listener {
            Some(l) => {
                let (public, ops) = Endpoint::split(state);
                (public, Some((l.local_addr()?, l, ops)))
            }
            None => (Endpoint::new(state), None),
        };
        Ok(Application {
            listener,
            endpoint,
            admin: admin.map(|(a, l, e)| (l, a, e)),
            grpc,
            lifecycle,
            shutdown_delay: Duration::from_secs(config.shutdown_delay_secs),
            shutdown_grace: Duration::from_secs(config.shutdown_grace_secs),
            addr,
            service,
            tls,
            rate_limit,
            header_read_timeout: (config.header_read_timeout_secs > 0)
                .then(|| Duration::from_secs(config.header_read_timeout_secs)),
            push,
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    pub fn service(&self) -> &TaskService {
        &self.service
    }

    /// The gRPC listener's address, when `grpc_listen` is set.
    pub fn grpc_addr(&self) -> Option<SocketAddr> {
        self.grpc.as_ref().and_then(|(l, _)| l.local_addr().ok())
    }

    /// The operations listener's address, when `admin_listen` is set.
    pub fn admin_addr(&self) -> Option<SocketAddr> {
        self.admin.as_ref().map(|(_, addr, _)| *addr)
    }

    /// `https` when the public listener serves TLS, else `http`.
    pub fn scheme(&self) -> &'static str {
        if self.tls.is_some() { "https" } else { "http" }
    }

    /// Serves (and runs the background jobs) until `shutdown` resolves, then shuts down:
    /// 1. readiness answers 503 at once, and for `shutdown_delay` new connections are
    ///    still served while load balancers notice;
    /// 2. draining: the listener closes, every open SSE stream ends, requests in flight
    ///    and running agents get `shutdown_grace` to finish, the push worker stops
    ///    between deliveries;
    /// 3. agents still running are stopped and their leases released, so another process
    ///    takes their tasks over at once; then the background jobs and the admin listener
    ///    stop.
    pub async fn run_until(
        self,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let Application {
            listener,
            endpoint,
            service,
            tls,
            rate_limit,
            header_read_timeout,
            push,
            admin,
            grpc,
            lifecycle,
            shutdown_delay,
            shutdown_grace,
            ..
        } = self;
        // Jobs run to the end: they renew the leases of agents running in the grace.
        let jobs_stop = CancellationToken::new();
        let jobs = tokio::spawn(service.clone().run_background(jobs_stop.clone()));
        let push_stop = lifecycle.draining.child_token();
        let push = push.map(|w| tokio::spawn(w.run(push_stop)));
        let admin_stop = CancellationToken::new();
        let admin = admin.map(|(listener, _, endpoint)| {
            let stop = admin_stop.clone();
            // Plain HTTP whatever the public listener does: probes need no certificate.
            tokio::spawn(serve(
                listener,
                endpoint,
                None,
                header_read_timeout,
                async move { stop.cancelled().await },
            ))
        });
        // Drains with the public listener: its streams end, its connections close.
        let grpc = grpc.map(|(listener, endpoint)| {
            let draining = lifecycle.draining.clone();
            tokio::spawn(serve(
                listener,
                endpoint,
                tls.clone(),
                header_read_timeout,
                async move { draining.cancelled().await },
            ))
        });
        if let Some(limiter) = rate_limit {
            tokio::spawn(limiter.run_maintenance(jobs_stop.clone()));
        }
        tokio::spawn(phases(shutdown, lifecycle.clone(), shutdown_delay));
        let draining = lifecycle.draining.clone();
        let serve = serve(listener, endpoint, tls, header_read_timeout, async move {
            draining.cancelled().await
        });
        tokio::pin!(serve);
        // `serve` stops accepting once draining starts, then waits for open connections.
        let served = tokio::select! {
            () = &mut serve => true,
            () = lifecycle.draining.cancelled() => false,
        };
        let drained = async {
            // Open connections close as their requests finish (streams end at drain).
            if !served {
                (&mut serve).await;
            }
            if let Some(g) = grpc {
                let _ = g.await;
            }
            service.runs_finished().await;
        };
        if tokio::time::timeout(shutdown_grace, drained).await.is_err() {
            tracing::info!(
                grace = ?shutdown_grace,
                running = service.running_agents(),
                "shutdown grace over; stopping what still runs"
            );
        }
        jobs_stop.cancel();
        let _ = jobs.await;
        service.abandon_runs().await;
        if let Some(p) = push {
            // In-flight webhook attempts had the grace; what is left is redelivered later.
            let _ = tokio::time::timeout(Duration::from_secs(1), p).await;
        }
        admin_stop.cancel();
        if let Some(a) = admin {
            let _ = tokio::time::timeout(Duration::from_secs(1), a).await;
        }
        Ok(())
    }

    /// Serves until Ctrl-C or SIGTERM.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.run_until(shutdown_signal()).await
    }
}

/// Fires the shutdown phases: `stopping` (readiness 503) at the signal, `draining` (the
/// listener closes, streams end) `delay` later.
async fn phases(shutdown: impl std::future::Future<Output = ()>, l: Lifecycle, delay: Duration) {
    shutdown.await;
    tracing::info!(?delay, "shutting down: readiness answers 503");
    l.stopping.cancel();
    tokio::time::sleep(delay).await;
    tracing::info!("draining");
    l.draining.cancel();
}

/// The keys that sign notification JWTs: a configured PEM file, else a key generated once
/// and kept in the keys directory, else (memory store) a key for this process only.
fn signing_keys(config: &Config) -> anyhow::Result<SigningKeys> {
    let lifetime = Duration::from_secs(config.push_token_lifetime_secs.max(1));
    let keys = if let Some(pem) = &config.push_signing_key {
        SigningKeys::from_pem_file(pem, None)?
    } else if let Some(dir) = config.push_keys_dir() {
        SigningKeys::load_or_generate(&dir)?
    } else {
        SigningKeys::new(SigningKey::generate(SigningAlgorithm::ES256)?)
    };
    Ok(keys.with_token_lifetime(lifetime))
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}

/// The `host:port` gRPC clients dial for the server at `base_url`: its port, or the
/// `grpc_listen` one.
fn grpc_authority(base_url: &str, grpc_port: Option<u16>) -> Option<String> {
    let url = url::Url::parse(base_url).ok()?;
    let host = url.host_str()?;
    let port = grpc_port.or_else(|| url.port_or_known_default())?;
    Some(format!("{host}:{port}"))
}

//! Wiring: configuration in, a bound server out.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;

use crate::agents::AgentExecutor;
use crate::config::Config;
use crate::events::LocalBus;
use crate::jsonrpc::{self, Ctx};
use crate::metrics::Metrics;
use crate::push::jwt::NotificationSigner;
use crate::push::keys::{SigningAlgorithm, SigningKey, SigningKeys};
use crate::push::worker::PushWorker;
use crate::service::{ServiceConfig, TaskService};
use crate::transport::{AppState, Endpoint, Limits, serve};

/// How long in-flight requests and open streams may take to finish after a shutdown signal.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// A server bound to its port, ready to run.
pub struct Application {
    listener: TcpListener,
    endpoint: Endpoint,
    addr: SocketAddr,
    service: TaskService,
    /// How long a request head may take to arrive (`None`: no limit).
    header_read_timeout: Option<Duration>,
    /// The webhook delivery worker, when push notifications are on.
    push: Option<Arc<PushWorker>>,
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
        // Connect first: a server never listens without its store.
        let store = crate::store::connect(&config.store, &config.db_options()).await?;
        let listener = TcpListener::bind(config.listen)
            .await
            .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", config.listen))?;
        let addr = listener.local_addr()?;
        let base_url = config
            .public_url
            .clone()
            .unwrap_or_else(|| format!("http://{addr}"));
        let card = config.agent_card(&base_url);
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
            },
        );
        let module = jsonrpc::module(Ctx {
            service: service.clone(),
            card: card.clone(),
        });
        let limits = Limits {
            max_body_bytes: config.max_body_bytes,
            max_concurrent_requests: config.max_concurrent_requests,
        };
        let endpoint = Endpoint::new(AppState::new(
            module,
            &card,
            keys,
            metrics,
            service.store().clone(),
            limits,
        ));
        Ok(Application {
            listener,
            endpoint,
            addr,
            service,
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

    /// Serves (and runs the background jobs) until `shutdown` resolves, then drains
    /// in-flight requests.
    pub async fn run_until(
        self,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let stop = tokio_util::sync::CancellationToken::new();
        let jobs = tokio::spawn(self.service.clone().run_background(stop.clone()));
        let push = self.push.map(|w| tokio::spawn(w.run(stop.clone())));
        let signalled = stop.clone();
        let serve = serve(
            self.listener,
            self.endpoint,
            self.header_read_timeout,
            async move {
                shutdown.await;
                signalled.cancel();
            },
        );
        // Open SSE streams would hold a graceful shutdown forever: give them a grace period.
        tokio::select! {
            () = serve => {}
            () = async {
                stop.cancelled().await;
                tokio::time::sleep(SHUTDOWN_GRACE).await;
            } => {
                tracing::info!("shutdown grace period over; closing open streams");
            }
        }
        stop.cancel();
        let _ = jobs.await;
        if let Some(p) = push {
            let _ = p.await;
        }
        Ok(())
    }

    /// Serves until Ctrl-C or SIGTERM.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.run_until(shutdown_signal()).await
    }
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
    tracing::info!("shutting down");
}

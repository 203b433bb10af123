//! Wiring: configuration in, a bound server out.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;

use crate::config::Config;
use crate::events::LocalBus;
use crate::jsonrpc::{self, Ctx};
use crate::service::{ServiceConfig, TaskService};
use crate::store::MemoryStore;
use crate::transport::{AppState, Limits, router};

/// A server bound to its port, ready to run.
pub struct Application {
    listener: TcpListener,
    router: axum::Router,
    addr: SocketAddr,
    service: TaskService,
}

impl Application {
    /// Binds the listener and builds the service. Port 0 picks a free port.
    pub async fn build(config: Config) -> anyhow::Result<Application> {
        let listener = TcpListener::bind(config.listen)
            .await
            .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", config.listen))?;
        let addr = listener.local_addr()?;
        let base_url = config
            .public_url
            .clone()
            .unwrap_or_else(|| format!("http://{addr}"));
        let card = config.agent_card(&base_url);
        let agent = crate::agents::builtin(&config.agent)
            .ok_or_else(|| anyhow::anyhow!("unknown agent `{}`", config.agent))?;
        let service = TaskService::new(
            Arc::new(MemoryStore::new()),
            Arc::new(LocalBus::new()),
            agent,
            ServiceConfig {
                cancel_grace: Duration::from_secs(config.cancel_grace_secs),
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
        let router = router(AppState::new(module, &card), limits);
        Ok(Application {
            listener,
            router,
            addr,
            service,
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

    /// Serves until `shutdown` resolves, then drains in-flight requests.
    pub async fn run_until(
        self,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        axum::serve(self.listener, self.router)
            .with_graceful_shutdown(shutdown)
            .await
    }

    /// Serves until Ctrl-C or SIGTERM.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.run_until(shutdown_signal()).await
    }
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

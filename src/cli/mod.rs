//! The `a2a` command line: `serve` runs the server; the other subcommands are an A2A
//! client for trying any server from a terminal.

pub mod client;
pub mod health;
pub mod push;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

use crate::config::{Config, Overrides};
use crate::startup::Application;

#[derive(Debug, Parser)]
#[command(name = "a2a", version, about = "A2A protocol server and client")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the A2A server.
    Serve(ServeArgs),
    /// Apply the task store's schema migrations and exit.
    Migrate(MigrateArgs),
    /// Exit 0 when a server's /healthz answers 200 (the image's HEALTHCHECK).
    Health(health::HealthArgs),
    /// Load-test any A2A server: requests/s, latency percentiles, errors by kind.
    Bench(crate::bench::BenchArgs),
    /// Push notification outbox: list and retry dead letters.
    Push(push::PushArgs),
    /// Check any A2A server against the spec (1.0, 0.3, 0.1): one line per requirement.
    Conformance(crate::conformance::ConformanceArgs),
    /// Write the JSON Schemas of the wire types of every version (the checked-in `schemas/`).
    Schemas(SchemasArgs),
    #[command(flatten)]
    Client(client::ClientCommand),
}

/// Flags override `A2A_*` variables, which override the config file.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// TOML config file.
    #[arg(long, env = "A2A_CONFIG")]
    pub config: Option<PathBuf>,
    /// Address to listen on [default: 127.0.0.1:8000; env A2A_LISTEN].
    #[arg(long)]
    pub listen: Option<std::net::SocketAddr>,
    /// Built-in agent: echo or conformance [default: echo; env A2A_AGENT].
    #[arg(long)]
    pub agent: Option<String>,
    /// Task store URL [default: sqlite://./data/a2a.db; env A2A_DATABASE_URL].
    #[arg(long)]
    pub store: Option<String>,
    /// Base URL advertised in the agent card [env A2A_PUBLIC_URL].
    #[arg(long)]
    pub public_url: Option<String>,
    /// Streaming on or off [default: true; env A2A_STREAMING].
    #[arg(long)]
    pub streaming: Option<bool>,
    /// Push notifications on or off [default: true; env A2A_PUSH_NOTIFICATIONS].
    #[arg(long)]
    pub push_notifications: Option<bool>,
    /// Accept webhooks on loopback and private networks, for tests and local development
    /// [env A2A_PUSH_ALLOW_PRIVATE_NETWORKS].
    #[arg(long)]
    pub push_allow_private_networks: bool,
}

/// `a2a migrate`: the store URL comes from the same layers as for `serve`.
#[derive(Debug, Args)]
pub struct MigrateArgs {
    /// TOML config file.
    #[arg(long, env = "A2A_CONFIG")]
    pub config: Option<PathBuf>,
    /// Task store URL [env A2A_DATABASE_URL].
    #[arg(long)]
    pub store: Option<String>,
}

/// `a2a schemas`: regenerates `schemas/` from the codec types.
#[derive(Debug, Args)]
pub struct SchemasArgs {
    /// Output directory.
    #[arg(long, default_value = "schemas")]
    pub out: PathBuf,
}

pub fn schemas(args: SchemasArgs) -> anyhow::Result<ExitCode> {
    let n = crate::schemas::write_all(&args.out)?;
    println!("wrote {n} schemas to {}", args.out.display());
    Ok(ExitCode::SUCCESS)
}

pub async fn migrate(args: MigrateArgs) -> anyhow::Result<ExitCode> {
    let overrides = Overrides {
        store: args.store,
        ..Default::default()
    };
    let config = Config::load(args.config, overrides)?;
    crate::store::migrate(&config.store, &config.db_options()).await?;
    println!("migrated {}", crate::config::redact(&config.store));
    Ok(ExitCode::SUCCESS)
}

pub async fn serve(args: ServeArgs) -> anyhow::Result<ExitCode> {
    let overrides = Overrides {
        listen: args.listen,
        agent: args.agent,
        store: args.store,
        public_url: args.public_url,
        streaming: args.streaming,
        push_notifications: args.push_notifications,
        push_allow_private_networks: args.push_allow_private_networks.then_some(true),
    };
    let config = Config::load(args.config, overrides)?;
    let traces = crate::telemetry::init(config.log_format);
    let app = Application::build(config.clone()).await?;
    tracing::info!(addr = %app.addr(), agent = %config.agent, store = %crate::config::redact(&config.store), "server started");
    // Tests and scripts read the bound ports from these lines (the admin one first).
    if let Some(admin) = app.admin_addr() {
        println!("admin listening on http://{admin}");
    }
    println!("listening on {}://{}", app.scheme(), app.addr());
    app.run_until_stopped().await?;
    // Everything has stopped: flush the spans before the process exits. Blocking (the
    // exporter's thread sends them), so off the runtime's workers.
    let _ = tokio::task::spawn_blocking(move || traces.shutdown()).await;
    tracing::info!("stopped");
    Ok(ExitCode::SUCCESS)
}

//! `a2a push`: operate on the push outbox of a store (dead letters, retries).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Subcommand};

use crate::config::{Config, Overrides};
use crate::store::Delivery;

#[derive(Debug, Args)]
pub struct PushArgs {
    #[command(subcommand)]
    pub command: PushCommand,
}

#[derive(Debug, Subcommand)]
pub enum PushCommand {
    /// List notifications that exhausted their attempts or age, oldest first.
    DeadLetters {
        #[command(flatten)]
        store: StoreArgs,
        /// At most this many.
        #[arg(long, default_value_t = 100)]
        limit: usize,
        /// One JSON object per line instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Queue dead letters for delivery again (attempts reset): one by id, or all.
    Retry {
        #[command(flatten)]
        store: StoreArgs,
        /// The dead letter's id, as `dead-letters` lists it.
        #[arg(long, conflicts_with = "all", required_unless_present = "all")]
        id: Option<i64>,
        /// Every dead letter.
        #[arg(long)]
        all: bool,
    },
}

/// The store comes from the same layers as for `serve`.
#[derive(Debug, Args)]
pub struct StoreArgs {
    /// TOML config file.
    #[arg(long, env = "A2A_CONFIG")]
    pub config: Option<PathBuf>,
    /// Task store URL [env A2A_DATABASE_URL].
    #[arg(long)]
    pub store: Option<String>,
}

async fn open(args: StoreArgs) -> anyhow::Result<std::sync::Arc<dyn crate::store::TaskStore>> {
    let overrides = Overrides {
        store: args.store,
        ..Default::default()
    };
    let config = Config::load(args.config, overrides)?;
    if config.store.starts_with("memory:") {
        anyhow::bail!(
            "the memory store lives inside its server process; name a sqlite:// or postgres:// store"
        );
    }
    Ok(crate::store::connect(&config.store, &config.db_options()).await?)
}

pub async fn run(args: PushArgs) -> anyhow::Result<ExitCode> {
    match args.command {
        PushCommand::DeadLetters { store, limit, json } => {
            let store = open(store).await?;
            let dead = store.dead_letters(limit).await?;
            if json {
                for d in &dead {
                    println!("{}", dead_letter_json(d));
                }
            } else {
                print_table(&dead);
            }
        }
        PushCommand::Retry { store, id, all } => {
            let store = open(store).await?;
            let id = if all { None } else { id };
            let n = store
                .requeue_dead_letters(id, chrono::Utc::now().timestamp_millis())
                .await?;
            println!("requeued {n} dead letter{}", if n == 1 { "" } else { "s" });
            if n == 0 && id.is_some() {
                return Ok(ExitCode::FAILURE);
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn millis_rfc3339(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
        .unwrap_or_default()
}

fn dead_letter_json(d: &Delivery) -> serde_json::Value {
    serde_json::json!({
        "id": d.id,
        "taskId": d.task_id,
        "configId": d.config_id,
        "eventId": d.event_id(),
        "url": d.url,
        "attempts": d.attempts,
        "createdAt": millis_rfc3339(d.created_at),
        "deadAt": d.dead_at.map(millis_rfc3339),
        "lastError": d.last_error,
    })
}

fn print_table(dead: &[Delivery]) {
    if dead.is_empty() {
        println!("no dead letters");
        return;
    }
    println!(
        "{:>8}  {:<24}  {:<40}  {:>8}  {:<24}  last error",
        "id", "dead at", "event", "attempts", "url"
    );
    for d in dead {
        println!(
            "{:>8}  {:<24}  {:<40}  {:>8}  {:<24}  {}",
            d.id,
            d.dead_at.map(millis_rfc3339).unwrap_or_default(),
            d.event_id(),
            d.attempts,
            d.url,
            d.last_error.as_deref().unwrap_or("")
        );
    }
}

//! Placeholder until the client subcommands land.
use std::process::ExitCode;

#[derive(Debug, clap::Subcommand)]
pub enum ClientCommand {
    /// Fetch an agent card.
    Card { url: String },
}

pub async fn run(_cmd: ClientCommand) -> anyhow::Result<ExitCode> {
    anyhow::bail!("not implemented yet")
}

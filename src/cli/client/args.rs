//! The command-line arguments of the client subcommands: which agent, which message, and
//! one variant per subcommand.

use crate::client::{SendOptions, TlsOptions, Transport};
use crate::protocol::{TaskState, Version};

/// Which agent to talk to and how.
#[derive(Debug, Clone, clap::Args)]
pub struct Target {
    /// The agent's base URL, e.g. http://127.0.0.1:8000 (the card is read from it).
    pub url: String,
    /// JSON-RPC endpoint to post to [default: the one the agent card announces].
    #[arg(long, value_name = "URL")]
    pub endpoint: Option<String>,
    /// Transport: jsonrpc, rest or grpc [default: the agent card's first interface].
    #[arg(long, short = 't', value_enum, value_name = "TRANSPORT")]
    pub transport: Option<Transport>,
    /// Protocol version: 1.0, 0.3 or 0.1.
    #[arg(long, short = 'p', value_name = "VERSION", default_value = "1.0", value_parser = parse_version)]
    pub protocol: Version,
    /// Print the raw JSON-RPC result as received (one JSON document per line for streams).
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub tls: TlsOptions,
    #[command(flatten)]
    pub credentials: Credentials,
}

/// What the client proves itself with: sent on every request, the card fetch included.
#[derive(Clone, Default, clap::Args)]
pub struct Credentials {
    /// Bearer token, sent as `Authorization: Bearer TOKEN`.
    #[arg(long, env = "A2A_TOKEN", hide_env_values = true, value_name = "TOKEN")]
    pub token: Option<String>,
    /// API key, sent as `X-API-Key: KEY`.
    #[arg(long, env = "A2A_API_KEY", hide_env_values = true, value_name = "KEY")]
    pub api_key: Option<String>,
}

impl std::fmt::Debug for Credentials {
    // Never the secrets themselves (a `{:?}` of the arguments may be logged).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("token", &self.token.as_ref().map(|_| "***"))
            .field("api_key", &self.api_key.as_ref().map(|_| "***"))
            .finish()
    }
}

impl Credentials {
    /// The headers to send, marked sensitive (kept out of debug output).
    pub fn headers(&self) -> anyhow::Result<http::HeaderMap> {
        let mut h = http::HeaderMap::new();
        let value = |v: String, what: &str| {
            let mut v = http::HeaderValue::try_from(v)
                .map_err(|_| anyhow::anyhow!("the {what} has characters a header cannot carry"))?;
            v.set_sensitive(true);
            anyhow::Ok(v)
        };
        if let Some(t) = &self.token {
            h.insert(
                http::header::AUTHORIZATION,
                value(format!("Bearer {}", t.trim()), "token")?,
            );
        }
        if let Some(k) = &self.api_key {
            h.insert("x-api-key", value(k.trim().to_string(), "API key")?);
        }
        Ok(h)
    }
}

/// The message to send.
#[derive(Debug, Clone, clap::Args)]
pub struct MessageArgs {
    /// The message text.
    pub text: String,
    /// Continue this task (0.1: the client-chosen task id).
    #[arg(long)]
    pub task_id: Option<String>,
    /// Continue this context (0.1: the session id).
    #[arg(long)]
    pub context_id: Option<String>,
    /// Message id [default: a fresh UUID].
    #[arg(long)]
    pub message_id: Option<String>,
    /// Return at most N history messages.
    #[arg(long, value_name = "N")]
    pub history: Option<u32>,
    /// `Idempotency-Key` of the send [default: a fresh UUID]. Run the same command again
    /// with the same key (and `--message-id`) to retry it without running the agent twice.
    #[arg(long, value_name = "KEY")]
    pub idempotency_key: Option<String>,
}

impl MessageArgs {
    pub(super) fn options(&self, no_wait: bool, protocol: Version) -> SendOptions {
        if protocol == Version::V01 && self.message_id.is_some() {
            eprintln!("warning: A2A 0.1 messages have no id; --message-id is ignored");
        }
        SendOptions {
            task_id: self.task_id.clone(),
            context_id: self.context_id.clone(),
            message_id: self.message_id.clone(),
            no_wait,
            history_length: self.history,
            idempotency_key: self.idempotency_key.clone(),
            ..SendOptions::text(self.text.clone())
        }
    }
}

#[derive(Debug, clap::Subcommand)]
pub enum ClientCommand {
    /// Fetch and show an agent card (sent with the credentials, as every subcommand).
    Card {
        #[command(flatten)]
        target: Target,
        /// The extended card instead (1.0 `GetExtendedAgentCard`, 0.3
        /// `agent/getAuthenticatedExtendedCard`), which needs credentials.
        #[arg(long)]
        extended: bool,
    },
    /// Send a message and wait for the task (or reply).
    Send {
        #[command(flatten)]
        target: Target,
        #[command(flatten)]
        message: MessageArgs,
        /// Return as soon as the task exists (1.0 returnImmediately, 0.3 blocking=false).
        #[arg(long)]
        no_wait: bool,
    },
    /// Send a message and print the task's events as they arrive.
    Stream {
        #[command(flatten)]
        target: Target,
        #[command(flatten)]
        message: MessageArgs,
    },
    /// Get a task.
    Get {
        #[command(flatten)]
        target: Target,
        task_id: String,
        /// Return at most N history messages.
        #[arg(long, value_name = "N")]
        history: Option<u32>,
    },
    /// List tasks (A2A 1.0 only).
    List {
        #[command(flatten)]
        target: Target,
        #[arg(long)]
        context_id: Option<String>,
        /// Only tasks in this state (e.g. working, input-required, TASK_STATE_COMPLETED).
        #[arg(long, value_parser = parse_state)]
        status: Option<TaskState>,
        #[arg(long, value_name = "N")]
        page_size: Option<u32>,
        #[arg(long)]
        page_token: Option<String>,
        #[arg(long)]
        include_artifacts: bool,
    },
    /// Cancel a task.
    Cancel {
        #[command(flatten)]
        target: Target,
        task_id: String,
    },
    /// Follow a task's events.
    #[command(alias = "resubscribe")]
    Subscribe {
        #[command(flatten)]
        target: Target,
        task_id: String,
        /// Resume after this SSE event id (sent as Last-Event-ID).
        #[arg(long, value_name = "N")]
        last_event_id: Option<u64>,
    },
}

fn parse_version(s: &str) -> Result<Version, String> {
    match s.trim().trim_start_matches('v') {
        "1" | "1.0" | "1.0.0" | "1.0.1" => Ok(Version::V1),
        "0.3" | "0.3.0" | "0.2" => Ok(Version::V03),
        "0.1" | "0.1.0" => Ok(Version::V01),
        other => Err(format!(
            "unknown protocol version `{other}` (use 1.0, 0.3 or 0.1)"
        )),
    }
}

fn parse_state(s: &str) -> Result<TaskState, String> {
    let norm = s.trim().to_ascii_lowercase().replace('_', "-");
    let norm = norm.strip_prefix("task-state-").unwrap_or(&norm);
    TaskState::parse(norm).ok_or_else(|| {
        let names: Vec<_> = TaskState::ALL.iter().map(|s| s.kebab_name()).collect();
        format!("unknown task state `{s}` (one of {})", names.join(", "))
    })
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Parser)]
    struct T {
        #[command(subcommand)]
        cmd: ClientCommand,
    }

    fn parse(args: &[&str]) -> ClientCommand {
        T::try_parse_from(std::iter::once("a2a").chain(args.iter().copied()))
            .unwrap()
            .cmd
    }

    #[test]
    fn parses_send_with_options() {
        let ClientCommand::Send {
            target,
            message,
            no_wait,
        } = parse(&[
            "send",
            "http://h",
            "hi",
            "--protocol",
            "0.3",
            "--json",
            "--no-wait",
            "--message-id",
            "m",
            "--history",
            "2",
        ])
        else {
            panic!()
        };
        assert_eq!(
            (target.protocol, target.json, no_wait),
            (Version::V03, true, true)
        );
        assert_eq!((message.text.as_str(), message.history), ("hi", Some(2)));
        let o = message.options(no_wait, target.protocol);
        assert_eq!(o.message_id.as_deref(), Some("m"));
        assert!(o.no_wait);
    }

    #[test]
    fn defaults_and_aliases() {
        let ClientCommand::Subscribe {
            target,
            task_id,
            last_event_id,
        } = parse(&["resubscribe", "http://h", "t1", "--last-event-id", "4"])
        else {
            panic!()
        };
        assert_eq!(
            (target.protocol, task_id.as_str(), last_event_id),
            (Version::V1, "t1", Some(4))
        );
        let ClientCommand::List { status, .. } =
            parse(&["list", "http://h", "--status", "INPUT_REQUIRED"])
        else {
            panic!()
        };
        assert_eq!(status, Some(TaskState::InputRequired));
        assert!(T::try_parse_from(["a2a", "get", "http://h", "t", "-p", "2.0"]).is_err());
    }
}

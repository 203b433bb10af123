//! The client subcommands of `a2a`: talk to any A2A agent from a terminal or a script.
//!
//! Readable output by default; `--json` prints each JSON-RPC `result` exactly as received
//! (one document per line for streams). A JSON-RPC error prints `error <code>: <message>`
//! on stderr and exits with 1; a stream cut before a final state exits with 3.

use std::io::Write;
use std::process::ExitCode;

use futures::{Stream, StreamExt};
use serde_json::Value;
use serde_json::value::RawValue;

use crate::client::{self, A2aClient, ClientError, ListOptions, SendOptions, StreamEvent};
use crate::protocol::{
    Message, Part, PartContent, SendResult, StreamItem, Task, TaskEvent, TaskState, Version,
};

/// Exit code of a JSON-RPC error answer.
pub const EXIT_RPC_ERROR: u8 = 1;
/// Exit code of a stream that ended before the task reached a final state.
pub const EXIT_STREAM_CUT: u8 = 3;

/// Which agent to talk to and how.
#[derive(Debug, Clone, clap::Args)]
pub struct Target {
    /// The agent's base URL, e.g. http://127.0.0.1:8000 (the card is read from it).
    pub url: String,
    /// JSON-RPC endpoint to post to [default: the one the agent card announces].
    #[arg(long, value_name = "URL")]
    pub endpoint: Option<String>,
    /// Protocol version: 1.0, 0.3 or 0.1.
    #[arg(long, short = 'p', value_name = "VERSION", default_value = "1.0", value_parser = parse_version)]
    pub protocol: Version,
    /// Print the raw JSON-RPC result as received (one JSON document per line for streams).
    #[arg(long)]
    pub json: bool,
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
}

impl MessageArgs {
    fn options(&self, no_wait: bool, protocol: Version) -> SendOptions {
        if protocol == Version::V01 && self.message_id.is_some() {
            eprintln!("warning: A2A 0.1 messages have no id; --message-id is ignored");
        }
        SendOptions {
            task_id: self.task_id.clone(),
            context_id: self.context_id.clone(),
            message_id: self.message_id.clone(),
            no_wait,
            history_length: self.history,
            ..SendOptions::text(self.text.clone())
        }
    }
}

#[derive(Debug, clap::Subcommand)]
pub enum ClientCommand {
    /// Fetch and show an agent card.
    Card {
        #[command(flatten)]
        target: Target,
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

/// Runs one client subcommand.
pub async fn run(cmd: ClientCommand) -> anyhow::Result<ExitCode> {
    let outcome = match cmd {
        ClientCommand::Card { target } => card(&target).await,
        ClientCommand::Send {
            target,
            message,
            no_wait,
        } => {
            if no_wait && target.protocol == Version::V01 {
                eprintln!("warning: A2A 0.1 has no non-blocking send; --no-wait is ignored");
            }
            let client = connect(&target).await?;
            client
                .send_with_raw(&message.options(no_wait, target.protocol))
                .await
                .map(|(raw, result)| {
                    if target.json {
                        print_raw(&raw);
                    } else {
                        match &result {
                            SendResult::Task(t) => print_task(t, message.history.is_some()),
                            SendResult::Message(m) => print_message(m),
                        }
                    }
                    ExitCode::SUCCESS
                })
        }
        ClientCommand::Stream { target, message } => {
            let client = connect(&target).await?;
            follow(
                client.stream_events(&message.options(false, target.protocol)),
                target.json,
            )
            .await
        }
        ClientCommand::Get {
            target,
            task_id,
            history,
        } => {
            let client = connect(&target).await?;
            client
                .get_with_raw(&task_id, history)
                .await
                .map(|(raw, t)| {
                    if target.json {
                        print_raw(&raw)
                    } else {
                        print_task(&t, history.is_some())
                    }
                    ExitCode::SUCCESS
                })
        }
        ClientCommand::List {
            target,
            context_id,
            status,
            page_size,
            page_token,
            include_artifacts,
        } => {
            let client = connect(&target).await?;
            let opts = ListOptions {
                context_id,
                status,
                page_size,
                page_token,
                include_artifacts,
                ..ListOptions::default()
            };
            client.list_with_raw(&opts).await.map(|(raw, list)| {
                if target.json {
                    print_raw(&raw);
                } else {
                    for t in &list.tasks {
                        println!(
                            "{} {} context {}",
                            t.id,
                            t.status.state.kebab_name(),
                            t.context_id
                        );
                    }
                    println!("{} of {} task(s)", list.tasks.len(), list.total_size);
                    if !list.next_page_token.is_empty() {
                        println!("next page token: {}", list.next_page_token);
                    }
                }
                ExitCode::SUCCESS
            })
        }
        ClientCommand::Cancel { target, task_id } => {
            let client = connect(&target).await?;
            client.cancel_with_raw(&task_id).await.map(|(raw, t)| {
                if target.json {
                    print_raw(&raw)
                } else {
                    print_task(&t, false)
                }
                ExitCode::SUCCESS
            })
        }
        ClientCommand::Subscribe {
            target,
            task_id,
            last_event_id,
        } => {
            let client = connect(&target).await?;
            follow(
                client.subscribe_events(&task_id, last_event_id),
                target.json,
            )
            .await
        }
    };
    outcome.or_else(report)
}

/// Turns a client error into an exit code (JSON-RPC errors and cut streams) or a failure.
fn report(e: ClientError) -> anyhow::Result<ExitCode> {
    match &e {
        ClientError::JsonRpc {
            code,
            message,
            data,
        } => {
            eprintln!("error {code}: {message}");
            if let Some(d) = data {
                eprintln!("  data: {d}");
            }
            Ok(ExitCode::from(EXIT_RPC_ERROR))
        }
        ClientError::StreamCut { .. } => {
            eprintln!("error: {e}");
            Ok(ExitCode::from(EXIT_STREAM_CUT))
        }
        _ => Err(e.into()),
    }
}

/// The client for a target: `--endpoint`, else the card's JSON-RPC endpoint, else (with a
/// warning) the base URL itself.
async fn connect(target: &Target) -> anyhow::Result<A2aClient> {
    if let Some(e) = &target.endpoint {
        return Ok(A2aClient::new(e.clone(), target.protocol));
    }
    let endpoint = match A2aClient::fetch_card(&target.url).await {
        Ok(card) => {
            client::jsonrpc_endpoint(&card, target.protocol, &target.url).unwrap_or_else(|| {
                eprintln!(
                    "warning: the agent card names no JSON-RPC endpoint; posting to {}",
                    target.url
                );
                target.url.clone()
            })
        }
        Err(e) => {
            eprintln!("warning: no agent card ({e}); posting to {}", target.url);
            target.url.clone()
        }
    };
    Ok(A2aClient::new(endpoint, target.protocol))
}

async fn card(target: &Target) -> Result<ExitCode, ClientError> {
    let card = A2aClient::fetch_card(&target.url).await?;
    if target.json {
        println!("{card}");
        return Ok(ExitCode::SUCCESS);
    }
    let s = |v: &Value| v.as_str().unwrap_or("").to_string();
    println!(
        "{} {}: {}",
        s(&card["name"]),
        s(&card["version"]),
        s(&card["description"])
    );
    match client::jsonrpc_endpoint(&card, target.protocol, &target.url) {
        Some(e) => println!("endpoint (A2A {}): {e}", target.protocol.as_str()),
        None => println!(
            "endpoint (A2A {}): none announced",
            target.protocol.as_str()
        ),
    }
    for i in card["supportedInterfaces"].as_array().into_iter().flatten() {
        println!(
            "interface {} {} {}",
            s(&i["protocolBinding"]),
            s(&i["protocolVersion"]),
            s(&i["url"])
        );
    }
    if let Some(caps) = card["capabilities"].as_object() {
        let caps: Vec<_> = caps.iter().map(|(k, v)| format!("{k}={v}")).collect();
        println!("capabilities: {}", caps.join(" "));
    }
    for skill in card["skills"].as_array().into_iter().flatten() {
        println!(
            "skill {}: {} - {}",
            s(&skill["id"]),
            s(&skill["name"]),
            s(&skill["description"])
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// Prints a stream's events as they arrive; errors end it.
async fn follow(
    events: impl Stream<Item = Result<StreamEvent, ClientError>>,
    json: bool,
) -> Result<ExitCode, ClientError> {
    let mut events = std::pin::pin!(events);
    let mut n = 0u64;
    while let Some(ev) = events.next().await {
        let ev = ev?;
        n += 1;
        if json {
            print_raw(&ev.raw);
        } else {
            println!("[{}] {}", ev.id.unwrap_or(n), event_line(&ev.item));
        }
        let _ = std::io::stdout().flush();
    }
    Ok(ExitCode::SUCCESS)
}

/// Prints a raw result on one line, as received unless it spans several lines.
fn print_raw(raw: &RawValue) {
    let text = raw.get();
    if text.contains('\n') {
        match serde_json::from_str::<Value>(text) {
            Ok(v) => println!("{v}"),
            Err(_) => println!("{}", text.replace('\n', " ")),
        }
    } else {
        println!("{text}");
    }
}

/// One readable line per stream event, e.g. `status working` or `artifact id: text`.
pub fn event_line(item: &StreamItem) -> String {
    match item {
        StreamItem::Message(m) => format!("message {}: {}", role(m), parts_text(&m.parts)),
        StreamItem::Event(e) => match &e.event {
            TaskEvent::Task(t) => format!("task {} {}", t.id, t.status.state.kebab_name()),
            TaskEvent::UserMessage(m) => format!("message {}: {}", role(m), parts_text(&m.parts)),
            TaskEvent::StatusUpdate(s) => {
                let mut line = format!("status {}", s.status.state.kebab_name());
                if let Some(m) = &s.status.message {
                    line.push_str(&format!(": {}", parts_text(&m.parts)));
                }
                line
            }
            TaskEvent::ArtifactUpdate(a) => {
                let flags = match (a.append, a.last_chunk) {
                    (true, true) => " (append, last chunk)",
                    (true, false) => " (append)",
                    _ => "",
                };
                format!(
                    "artifact {}{flags}: {}",
                    a.artifact.artifact_id,
                    parts_text(&a.artifact.parts)
                )
            }
        },
    }
}

fn role(m: &Message) -> &'static str {
    match m.role {
        crate::protocol::Role::User => "user",
        crate::protocol::Role::Agent => "agent",
    }
}

/// Parts on one line: text as is, data as JSON, files as a short description.
pub fn parts_text(parts: &[Part]) -> String {
    let one = |p: &Part| match &p.content {
        PartContent::Text(t) => t.replace('\n', " "),
        PartContent::Data(d) => d.to_string(),
        PartContent::Raw(b) => format!(
            "<file {}{}, {} bytes>",
            p.filename.as_deref().unwrap_or("(unnamed)"),
            p.media_type
                .as_deref()
                .map(|m| format!(" {m}"))
                .unwrap_or_default(),
            b.len()
        ),
        PartContent::Url(u) => format!("<file {u}>"),
    };
    parts.iter().map(one).collect::<Vec<_>>().join(" ")
}

/// The readable form of a task: id and state, context, status message, artifacts and (when
/// asked for) the history.
pub fn task_lines(t: &Task, with_history: bool) -> Vec<String> {
    let mut lines = vec![
        format!("task {} {}", t.id, t.status.state.kebab_name()),
        format!("context {}", t.context_id),
    ];
    if let Some(m) = &t.status.message {
        lines.push(format!("{}: {}", role(m), parts_text(&m.parts)));
    }
    for a in &t.artifacts {
        lines.push(format!(
            "artifact {}: {}",
            a.artifact_id,
            parts_text(&a.parts)
        ));
    }
    for m in t.history.iter().filter(|_| with_history) {
        lines.push(format!("history {}: {}", role(m), parts_text(&m.parts)));
    }
    lines
}

fn print_task(t: &Task, with_history: bool) {
    for l in task_lines(t, with_history) {
        println!("{l}");
    }
}

fn print_message(m: &Message) {
    println!("message {}", m.message_id);
    println!("{}: {}", role(m), parts_text(&m.parts));
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;
    use crate::protocol::{Artifact, TaskArtifactUpdateEvent, TaskStatus, TaskStatusUpdateEvent};

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

    #[test]
    fn readable_lines() {
        let ev = |event| StreamItem::event(3, event);
        let status = TaskEvent::StatusUpdate(TaskStatusUpdateEvent {
            task_id: "t".into(),
            context_id: "c".into(),
            status: TaskStatus::new(TaskState::Working, None),
            metadata: None,
        });
        assert_eq!(event_line(&ev(status)), "status working");
        let artifact = TaskEvent::ArtifactUpdate(TaskArtifactUpdateEvent {
            task_id: "t".into(),
            context_id: "c".into(),
            artifact: Box::new(Artifact {
                artifact_id: "text-artifact".into(),
                name: None,
                description: None,
                parts: vec![Part::text("Hello")],
                metadata: None,
                extensions: Vec::new(),
            }),
            append: false,
            last_chunk: true,
            metadata: None,
        });
        assert_eq!(event_line(&ev(artifact)), "artifact text-artifact: Hello");
        let file = Part {
            filename: Some("o.txt".into()),
            media_type: Some("text/plain".into()),
            ..Part::new(PartContent::Raw(vec![1, 2]))
        };
        assert_eq!(
            parts_text(&[file, Part::data(serde_json::json!({"a": 1}))]),
            "<file o.txt text/plain, 2 bytes> {\"a\":1}"
        );
    }
}

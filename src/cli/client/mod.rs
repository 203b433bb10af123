//! The client subcommands of `a2a`: talk to any A2A agent from a terminal or a script.
//!
//! Readable output by default; `--json` prints each JSON-RPC `result` exactly as received
//! (one document per line for streams). A JSON-RPC error prints `error <code>: <message>`
//! on stderr and exits with 1; a stream cut before a final state exits with 3.
//!
//! The arguments are defined in `args`, the readable output in `output`; this module runs
//! the subcommands.

mod args;
mod output;

use std::io::Write;
use std::process::ExitCode;

use futures::{Stream, StreamExt};
use serde_json::Value;

use crate::client::{self, A2aClient, ClientError, ListOptions, StreamEvent, Transport};
use crate::protocol::{SendResult, Version};
pub use args::{ClientCommand, Credentials, MessageArgs, Target};
pub use output::{event_line, parts_text, task_lines};
use output::{print_message, print_raw, print_task};

/// Exit code of a JSON-RPC error answer.
pub const EXIT_RPC_ERROR: u8 = 1;
/// Exit code of a stream that ended before the task reached a final state.
pub const EXIT_STREAM_CUT: u8 = 3;

/// Runs one client subcommand.
pub async fn run(cmd: ClientCommand) -> anyhow::Result<ExitCode> {
    let outcome = match cmd {
        ClientCommand::Card { target, extended } => card(&target, extended).await?,
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

/// The client for a target: over `--transport`, else the card's first interface; to
/// `--endpoint`, else the card's URL for that transport, else (with a warning) the base
/// URL itself (REST: its `/rest` below it).
async fn connect(target: &Target) -> anyhow::Result<A2aClient> {
    let http = http_client(target)?;
    let card = match &target.endpoint {
        Some(_) if target.transport.is_some() => None,
        _ => match client::fetch_card_with(&http, &target.url).await {
            Ok(card) => Some(card),
            Err(e) => {
                eprintln!("warning: no agent card ({e})");
                None
            }
        },
    };
    let transport = target
        .transport
        .or_else(|| card.as_ref().map(client::preferred_transport))
        .unwrap_or_default();
    // REST and gRPC speak 1.0 only here: another version goes over JSON-RPC, unless
    // asked for.
    let transport = match (transport, target.protocol, target.transport) {
        (Transport::Rest | Transport::Grpc, v, None) if v != Version::V1 => Transport::JsonRpc,
        (t, _, _) => t,
    };
    if transport != Transport::JsonRpc && target.protocol != Version::V1 {
        anyhow::bail!(
            "the {} transport speaks A2A 1.0 only (use --protocol 1.0)",
            transport.binding()
        );
    }
    let endpoint = match (&target.endpoint, &card) {
        (Some(e), _) => e.clone(),
        (None, Some(card)) => {
            client::interface_endpoint(card, target.protocol, transport, &target.url)
                .unwrap_or_else(|| {
                    let fallback = fallback_endpoint(&target.url, transport);
                    eprintln!(
                        "warning: the agent card names no {} endpoint; using {fallback}",
                        transport.binding()
                    );
                    fallback
                })
        }
        (None, None) => fallback_endpoint(&target.url, transport),
    };
    Ok(A2aClient::with_http(http, endpoint, target.protocol)
        .with_transport(transport)
        .with_metadata(target.credentials.headers()?))
}

fn fallback_endpoint(base: &str, transport: Transport) -> String {
    match transport {
        Transport::Rest => format!(
            "{}{}",
            base.trim_end_matches('/'),
            crate::protocol::card::REST_PATH
        ),
        _ => base.to_string(),
    }
}

/// The HTTP client of a target: its TLS settings and its credentials on every request.
fn http_client(target: &Target) -> anyhow::Result<reqwest::Client> {
    Ok(target
        .tls
        .builder()?
        .default_headers(target.credentials.headers()?)
        .build()?)
}

async fn card(target: &Target, extended: bool) -> anyhow::Result<Result<ExitCode, ClientError>> {
    let card = if extended {
        let method = match target.protocol {
            Version::V1 => "GetExtendedAgentCard",
            Version::V03 => "agent/getAuthenticatedExtendedCard",
            Version::V01 => anyhow::bail!("A2A 0.1 has no extended agent card"),
        };
        let call = client::RpcCall {
            method,
            params: serde_json::json!({}),
        };
        match connect(target).await?.call(&call).await {
            Ok(raw) => serde_json::from_str(raw.get()).expect("a received result is JSON"),
            Err(e) => return Ok(Err(e)),
        }
    } else {
        match client::fetch_card_with(&http_client(target)?, &target.url).await {
            Ok(card) => card,
            Err(e) => return Ok(Err(e)),
        }
    };
    Ok(Ok(show_card(target, &card)))
}

fn show_card(target: &Target, card: &Value) -> ExitCode {
    if target.json {
        println!("{card}");
        return ExitCode::SUCCESS;
    }
    let s = |v: &Value| v.as_str().unwrap_or("").to_string();
    println!(
        "{} {}: {}",
        s(&card["name"]),
        s(&card["version"]),
        s(&card["description"])
    );
    match client::jsonrpc_endpoint(card, target.protocol, &target.url) {
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
    ExitCode::SUCCESS
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

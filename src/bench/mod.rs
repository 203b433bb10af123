//! `a2a bench URL`: a load generator for any A2A server, in the spirit of
//! `redis-benchmark` and `pgbench`.
//!
//! Each concurrency slot owns one HTTP/1.1 keep-alive connection (hyper, no pool) and
//! sends requests back to back (a closed loop); bodies are templates with a fresh
//! `messageId` spliced in. Latencies go into per-worker HDR histograms merged at the end.
//!
//! The load loop is in `runner`; the scenarios drive it from `closed_loop` (the
//! request/response scenarios and push) and `subscriptions` (subscribe and hold).

pub mod conn;
pub mod report;
pub mod stats;
pub mod webhook;
pub mod wire;

mod closed_loop;
mod grpc;
mod runner;
mod subscriptions;

use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use clap::{Args, ValueEnum};

use crate::client::Transport;
use crate::protocol::Version;
use conn::{Conn, Target};
use report::Report;
use runner::Runner;
use stats::WorkerStats;

/// What to measure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Scenario {
    /// SendMessage; the answer must be a completed task or a message (echo-style agent).
    Send,
    /// SendMessage answered with a completed task (our conformance agent:
    /// messageId prefix `tck-complete-task-`).
    SendTask,
    /// SendMessage answered with a bare message (our conformance agent:
    /// messageId prefix `tck-message-response-`).
    SendMessage,
    /// SendStreamingMessage read to the end; also time to first event.
    Stream,
    /// GetTask on a task created during set-up.
    Get,
    /// `--subscribers` SubscribeToTask streams on one open task while one publisher sends
    /// follow-up messages to it: fan-out events/s and publish-to-arrival latency. Needs an
    /// agent that leaves the task open (ours: `--agent conformance`).
    Subscribe,
    /// SendMessage with an inline push config to a webhook receiver run by the bench:
    /// deliveries/s and request-to-arrival latency.
    Push,
    /// Opens `--subscribers` subscriptions on one open task and holds them for
    /// `--duration` (for measuring the server's memory per idle stream).
    Hold,
}

impl Scenario {
    fn name(self) -> &'static str {
        match self {
            Scenario::Send => "send",
            Scenario::SendTask => "send-task",
            Scenario::SendMessage => "send-message",
            Scenario::Stream => "stream",
            Scenario::Get => "get",
            Scenario::Subscribe => "subscribe",
            Scenario::Push => "push",
            Scenario::Hold => "hold",
        }
    }
}

/// `a2a bench`: load-test an A2A server.
#[derive(Debug, Args)]
pub struct BenchArgs {
    /// Base URL of the server; its agent card names the JSON-RPC endpoint.
    pub url: String,
    #[arg(long, value_enum, default_value = "send")]
    pub scenario: Scenario,
    /// Connections, one request in flight on each.
    #[arg(long, short = 'c', default_value_t = 16)]
    pub concurrency: usize,
    /// How long to measure (`10`, `10s`, `500ms`, `2m`) [default: 10s].
    #[arg(long, short = 'd', value_parser = parse_duration, conflicts_with = "requests")]
    pub duration: Option<Duration>,
    /// How many requests to measure instead of a duration.
    #[arg(long, short = 'n')]
    pub requests: Option<u64>,
    /// Warm-up before measuring: a duration (`2s`) or a request count (`500`); `0` for none.
    #[arg(long, default_value = "1s", value_parser = parse_warmup)]
    pub warmup: Limit,
    /// A2A protocol version to speak: 1.0 or 0.3.
    #[arg(long, default_value = "1.0")]
    pub protocol: String,
    /// JSON-RPC endpoint URL; skips agent card discovery.
    #[arg(long)]
    pub endpoint: Option<String>,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
    /// Subscribers for `subscribe` and `hold`.
    #[arg(long, default_value_t = 100)]
    pub subscribers: usize,
    /// Prefix of every messageId [default: by scenario: `bench-`, `tck-complete-task-`,
    /// `tck-message-response-`].
    #[arg(long)]
    pub message_id_prefix: Option<String>,
    /// Text of every message.
    #[arg(long, default_value = "hello from a2a bench")]
    pub text: String,
    /// Per-request timeout (a stream's: to its end).
    #[arg(long, default_value = "30s", value_parser = parse_duration)]
    pub timeout: Duration,
    /// Where the push scenario's webhook receiver listens.
    #[arg(long, default_value = "127.0.0.1:0")]
    pub webhook_listen: SocketAddr,
    /// Send without an `Idempotency-Key` (every send has one by default, as a client that
    /// retries safely sends): to measure what the key costs, or to compare with a build
    /// that predates keys.
    #[arg(long)]
    pub no_idempotency_key: bool,
    /// Transport: jsonrpc or rest (send and stream scenarios) [default: the agent card's
    /// first interface].
    #[arg(long, short = 't', value_enum, value_name = "TRANSPORT")]
    pub transport: Option<Transport>,
    #[command(flatten)]
    pub credentials: crate::cli::client::Credentials,
}

/// A phase's length: a time or a number of requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit {
    Time(Duration),
    Count(u64),
}

impl Limit {
    fn is_zero(self) -> bool {
        matches!(self, Limit::Time(d) if d.is_zero()) || self == Limit::Count(0)
    }
}

/// `10`, `10s`, `1.5s`, `500ms`, `2m`.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let (num, unit) = match s.find(|c: char| !(c.is_ascii_digit() || c == '.')) {
        Some(i) => (&s[..i], &s[i..]),
        None => (s, "s"),
    };
    let n: f64 = num
        .parse()
        .map_err(|_| format!("{s:?} is not a duration (10s, 500ms, 2m)"))?;
    let secs = match unit {
        "ms" => n / 1000.0,
        "s" => n,
        "m" => n * 60.0,
        _ => return Err(format!("{s:?}: unit must be ms, s or m")),
    };
    Ok(Duration::from_secs_f64(secs))
}

/// A duration with a unit (`2s`), or a bare request count (`500`).
pub fn parse_warmup(s: &str) -> Result<Limit, String> {
    let s = s.trim();
    if let Ok(n) = s.parse::<u64>() {
        return Ok(Limit::Count(n));
    }
    parse_duration(s).map(Limit::Time)
}

fn version_of(s: &str) -> anyhow::Result<Version> {
    match s {
        "1.0" | "1" => Ok(Version::V1),
        "0.3" | "0.3.0" => Ok(Version::V03),
        other => bail!("--protocol {other}: `a2a bench` speaks 1.0 and 0.3"),
    }
}

/// The endpoint and transport the card announces (`transport`: the one asked for, else
/// the card's first interface).
async fn discover(
    url: &str,
    version: Version,
    transport: Option<Transport>,
    headers: http::HeaderMap,
) -> anyhow::Result<(String, Transport)> {
    let http = reqwest::Client::builder()
        .default_headers(headers)
        .connect_timeout(Duration::from_secs(10))
        .timeout(Duration::from_secs(30))
        .build()?;
    let card = crate::client::fetch_card_with(&http, url)
        .await
        .with_context(|| format!("reading the agent card of {url} (or pass --endpoint)"))?;
    let transport = transport.unwrap_or_else(|| match crate::client::preferred_transport(&card) {
        Transport::Rest if version != Version::V1 => Transport::JsonRpc,
        t => t,
    });
    let endpoint =
        crate::client::interface_endpoint(&card, version, transport, url).ok_or_else(|| {
            anyhow::anyhow!(
                "the agent card of {url} names no {} endpoint for A2A {}; pass --endpoint",
                transport.binding(),
                version.as_str()
            )
        })?;
    Ok((endpoint, transport))
}

/// Runs `a2a bench`.
pub async fn run(args: BenchArgs) -> anyhow::Result<ExitCode> {
    let version = version_of(&args.protocol)?;
    if args.concurrency == 0 {
        bail!("--concurrency must be at least 1");
    }
    let (endpoint, transport) = match &args.endpoint {
        Some(e) => (e.clone(), args.transport.unwrap_or_default()),
        None => {
            let headers = args.credentials.headers()?;
            discover(&args.url, version, args.transport, headers).await?
        }
    };
    let rest = transport == Transport::Rest;
    let over_grpc = transport == Transport::Grpc;
    if (rest || over_grpc) && version != Version::V1 {
        bail!(
            "the {} transport speaks A2A 1.0 only (use --protocol 1.0)",
            transport.binding()
        );
    }
    // REST: the endpoint is the base; each scenario posts to one route below it.
    let endpoint = if rest {
        let route = match args.scenario {
            Scenario::Stream => "/message:stream",
            _ => "/message:send",
        };
        format!("{}{route}", endpoint.trim_end_matches('/'))
    } else if over_grpc {
        // The card's bare host:port; the path is the scenario's RPC.
        let rpc = match args.scenario {
            Scenario::Stream => grpc::STREAM,
            _ => grpc::SEND,
        };
        let authority = endpoint.trim_start_matches("http://").trim_end_matches('/');
        format!("http://{authority}{rpc}")
    } else {
        endpoint
    };
    let mut target = Target::resolve(&endpoint, version == Version::V1).await?;
    target.credentials = args.credentials.headers()?;
    if over_grpc {
        // HTTP/2 requests carry the scheme and authority.
        target.path = endpoint.parse()?;
        target.grpc = true;
    }
    let target = Arc::new(target);
    let measure = match (args.requests, args.duration) {
        (Some(n), _) => Limit::Count(n),
        (None, Some(d)) => Limit::Time(d),
        (None, None) => Limit::Time(Duration::from_secs(10)),
    };
    let prefix = args
        .message_id_prefix
        .clone()
        .unwrap_or_else(|| match args.scenario {
            Scenario::SendTask => "tck-complete-task-".into(),
            Scenario::SendMessage => "tck-message-response-".into(),
            _ => "bench-".into(),
        });
    let runner = Runner {
        target: target.clone(),
        timeout: args.timeout,
        nonce: uuid::Uuid::new_v4().simple().to_string()[..12].to_string(),
        prefix,
        keyed: !args.no_idempotency_key,
        rest,
        grpc: over_grpc,
    };
    let mut report = Report {
        scenario: args.scenario.name().into(),
        url: args.url.clone(),
        endpoint: endpoint.clone(),
        protocol: version.as_str().into(),
        concurrency: args.concurrency,
        ..Report::default()
    };
    if (rest || over_grpc) && matches!(args.scenario, Scenario::Subscribe | Scenario::Hold) {
        bail!("the subscribe and hold scenarios are JSON-RPC only; use --transport jsonrpc");
    }
    match args.scenario {
        Scenario::Subscribe => {
            subscriptions::subscribe(&args, version, &runner, measure, &mut report).await?
        }
        Scenario::Hold => {
            subscriptions::hold(&args, version, &runner, measure, &mut report).await?
        }
        _ => closed_loop::closed_loop(&args, version, &runner, measure, &mut report).await?,
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", report.table());
    }
    let no_deliveries =
        args.scenario == Scenario::Push && report.metrics.get("deliveries").copied() == Some(0.0);
    Ok(if report.requests == 0 || no_deliveries {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

fn conns(target: &Arc<Target>, n: usize) -> Vec<Conn> {
    (0..n).map(|_| Conn::new(target.clone())).collect()
}

fn fill(report: &mut Report, stats: &WorkerStats, elapsed: Duration) {
    report.duration_secs = (elapsed.as_secs_f64() * 1000.0).round() / 1000.0;
    report.requests = stats.ok;
    report.errors = stats.error_count();
    report.requests_per_sec = (stats.ok as f64 / elapsed.as_secs_f64() * 10.0).round() / 10.0;
    report.latency = stats.latency.summary();
    report.error_kinds = stats.errors.clone();
}

fn per_sec(n: u64, d: Duration) -> f64 {
    (n as f64 / d.as_secs_f64() * 10.0).round() / 10.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_and_warmups() {
        assert_eq!(parse_duration("10"), Ok(Duration::from_secs(10)));
        assert_eq!(parse_duration("1.5s"), Ok(Duration::from_millis(1500)));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert!(parse_duration("soon").is_err());
        assert!(parse_duration("3h").is_err());
        assert_eq!(parse_warmup("200"), Ok(Limit::Count(200)));
        assert_eq!(parse_warmup("2s"), Ok(Limit::Time(Duration::from_secs(2))));
        assert!(parse_warmup("0").unwrap().is_zero());
        assert!(parse_warmup("0s").unwrap().is_zero());
    }
}

//! `a2a bench URL`: a load generator for any A2A server, in the spirit of
//! `redis-benchmark` and `pgbench`.
//!
//! Each concurrency slot owns one HTTP/1.1 keep-alive connection (hyper, no pool) and
//! sends requests back to back (a closed loop); bodies are templates with a fresh
//! `messageId` spliced in. Latencies go into per-worker HDR histograms merged at the end.

pub mod conn;
pub mod report;
pub mod stats;
pub mod webhook;
pub mod wire;

use std::collections::BTreeMap;
use std::io::{IsTerminal, Write};
use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use bytes::Bytes;
use clap::{Args, ValueEnum};
use serde_json::json;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;

use crate::protocol::Version;
use conn::{Conn, EVENT_STREAM, SseParser, Target, next_chunk};
use report::Report;
use stats::{Failure, Latency, WorkerStats};
use wire::{SendOutcome, Template};

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

/// Counters the progress line reads while workers run.
#[derive(Default)]
struct Live {
    ok: AtomicU64,
    err: AtomicU64,
    issued: AtomicU64,
    stop: AtomicBool,
}

/// One request kind of the closed-loop scenarios.
enum Op {
    /// A send whose answer must match `expect`.
    Send {
        tpl: Template,
        expect: Expect,
    },
    Stream {
        tpl: Template,
    },
    Get {
        tpl: Template,
    },
    /// A send with a push config; the token carries the send time.
    Push {
        tpl: Template,
        clock: Instant,
    },
    /// The subscribe scenario's follow-up message; its text carries the send time.
    Publish {
        tpl: Template,
        clock: Instant,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    CompletedOrMessage,
    CompletedTask,
    Message,
    AnyTask,
}

fn check_send(expect: Expect, outcome: SendOutcome) -> Result<SendOutcome, Failure> {
    let ok = match (&outcome, expect) {
        (SendOutcome::Message, Expect::CompletedOrMessage | Expect::Message) => true,
        (SendOutcome::Task { state, .. }, Expect::CompletedOrMessage | Expect::CompletedTask) => {
            state == "completed"
        }
        (SendOutcome::Task { .. }, Expect::AnyTask) => true,
        _ => false,
    };
    if ok {
        return Ok(outcome);
    }
    Err(Failure::Invalid(match outcome {
        SendOutcome::Message => "a message where a task was expected".into(),
        SendOutcome::Task { state, .. } => format!("a task in state {state}"),
    }))
}

fn now_ns(clock: Instant) -> u64 {
    clock.elapsed().as_nanos() as u64
}

/// What one successful request adds beyond its latency.
#[derive(Default)]
struct Extra {
    events: u64,
    first_event: Option<Duration>,
}

impl Op {
    async fn exec(&self, conn: &mut Conn, mid: &str, t0: Instant) -> Result<Extra, Failure> {
        match self {
            Op::Send { tpl, expect } => {
                let body = conn.post_read(tpl.render(&[mid])).await?;
                check_send(*expect, wire::send_outcome(wire::result(&body)?)?)?;
                Ok(Extra::default())
            }
            Op::Get { tpl } => {
                let body = conn.post_read(tpl.render(&[])).await?;
                wire::task_result(wire::result(&body)?)?;
                Ok(Extra::default())
            }
            Op::Push { tpl, clock } => {
                let token = format!("bench-{}", now_ns(*clock));
                let body = conn.post_read(tpl.render(&[mid, &token])).await?;
                wire::result(&body)?;
                Ok(Extra::default())
            }
            Op::Publish { tpl, clock } => {
                let text = wire::mark(now_ns(*clock));
                let body = conn.post_read(tpl.render(&[mid, &text])).await?;
                check_send(Expect::AnyTask, wire::send_outcome(wire::result(&body)?)?)?;
                Ok(Extra::default())
            }
            Op::Stream { tpl } => read_stream(conn, tpl.render(&[mid]), t0).await,
        }
    }
}

async fn read_stream(conn: &mut Conn, body: Bytes, t0: Instant) -> Result<Extra, Failure> {
    let resp = conn.post(body, &EVENT_STREAM).await?;
    let status = resp.status();
    let is_sse = resp
        .headers()
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/event-stream"));
    let mut body = resp.into_body();
    if !status.is_success() || !is_sse {
        let mut all = Vec::new();
        while let Some(c) = next_chunk(&mut body).await? {
            all.extend_from_slice(&c);
        }
        if !status.is_success() {
            return Err(Failure::Http(status.as_u16()));
        }
        wire::result(&all)?;
        return Err(Failure::Invalid("not an event stream".into()));
    }
    let mut parser = SseParser::default();
    let mut extra = Extra::default();
    let mut failure = None;
    while let Some(chunk) = next_chunk(&mut body).await? {
        parser.feed(&chunk, |data| {
            if extra.first_event.is_none() {
                extra.first_event = Some(t0.elapsed());
            }
            extra.events += 1;
            if let Err(f) = wire::result(data) {
                failure.get_or_insert(f);
            }
        });
    }
    if let Some(f) = failure {
        return Err(f);
    }
    if extra.events == 0 {
        return Err(Failure::Invalid("a stream without events".into()));
    }
    Ok(extra)
}

struct Runner {
    target: Arc<Target>,
    timeout: Duration,
    nonce: String,
    prefix: String,
}

impl Runner {
    /// Runs `op` on every connection until `limit`; answers the connections (for the next
    /// phase), the merged stats and the wall time.
    async fn phase(
        &self,
        conns: Vec<Conn>,
        op: Arc<Op>,
        limit: Limit,
        label: &'static str,
    ) -> (Vec<Conn>, WorkerStats, Duration) {
        let live = Arc::new(Live::default());
        let started = Instant::now();
        let progress = tokio::spawn(progress(live.clone(), label, started));
        let timer = match limit {
            Limit::Time(d) => {
                let live = live.clone();
                Some(tokio::spawn(async move {
                    tokio::time::sleep(d).await;
                    live.stop.store(true, Ordering::Relaxed);
                }))
            }
            Limit::Count(_) => None,
        };
        let mut handles = Vec::with_capacity(conns.len());
        for (w, mut conn) in conns.into_iter().enumerate() {
            let (live, op) = (live.clone(), op.clone());
            let timeout = self.timeout;
            // Unique across phases too: servers may answer a repeated messageId from a cache.
            let id_base = format!("{}{}-{}{w}-", self.prefix, self.nonce, &label[..1]);
            handles.push(tokio::spawn(async move {
                let mut stats = WorkerStats::default();
                let mut mid = String::with_capacity(id_base.len() + 12);
                for seq in 0u64.. {
                    if live.stop.load(Ordering::Relaxed) {
                        break;
                    }
                    if let Limit::Count(n) = limit
                        && live.issued.fetch_add(1, Ordering::Relaxed) >= n
                    {
                        break;
                    }
                    mid.clear();
                    mid.push_str(&id_base);
                    let _ = std::fmt::Write::write_fmt(&mut mid, format_args!("{seq}"));
                    let t0 = Instant::now();
                    match tokio::time::timeout(timeout, op.exec(&mut conn, &mid, t0)).await {
                        Ok(Ok(extra)) => {
                            stats.latency.record(t0.elapsed());
                            stats.ok += 1;
                            stats.events += extra.events;
                            if let Some(d) = extra.first_event {
                                stats.first_event.record(d);
                            }
                            live.ok.fetch_add(1, Ordering::Relaxed);
                        }
                        Ok(Err(f)) => {
                            let backoff = matches!(f, Failure::Transport(_));
                            stats.error(&f);
                            live.err.fetch_add(1, Ordering::Relaxed);
                            if backoff {
                                // A refused connection would otherwise spin.
                                tokio::time::sleep(Duration::from_millis(10)).await;
                            }
                        }
                        Err(_) => {
                            conn.reset();
                            stats.error(&Failure::Timeout);
                            live.err.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                }
                (conn, stats)
            }));
        }
        let mut conns = Vec::with_capacity(handles.len());
        let mut total = WorkerStats::default();
        for h in handles {
            let (c, s) = h.await.expect("a bench worker panicked");
            conns.push(c);
            total.merge(&s);
        }
        let elapsed = started.elapsed();
        if let Some(t) = timer {
            t.abort();
        }
        progress.abort();
        end_progress();
        (conns, total, elapsed)
    }

    /// Warm-up (unrecorded), then the measured phase.
    async fn warm_and_measure(
        &self,
        conns: Vec<Conn>,
        op: Arc<Op>,
        warmup: Limit,
        measure: Limit,
        before_measure: impl FnOnce(),
    ) -> (WorkerStats, Duration) {
        let conns = if warmup.is_zero() {
            conns
        } else {
            self.phase(conns, op.clone(), warmup, "warm-up").await.0
        };
        before_measure();
        let (_, stats, elapsed) = self.phase(conns, op, measure, "measuring").await;
        (stats, elapsed)
    }
}

/// Prints a progress line on stderr once a second (overwritten in place on a terminal).
async fn progress(live: Arc<Live>, label: &'static str, started: Instant) {
    let tty = std::io::stderr().is_terminal();
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.tick().await;
    let mut last = 0;
    loop {
        tick.tick().await;
        let ok = live.ok.load(Ordering::Relaxed);
        let err = live.err.load(Ordering::Relaxed);
        let line = format!(
            "{label}: {:>5.1}s  {} ok  {} errors  {} req/s",
            started.elapsed().as_secs_f64(),
            stats::thousands(ok),
            stats::thousands(err),
            stats::thousands(ok - last),
        );
        last = ok;
        let mut e = std::io::stderr().lock();
        let _ = if tty {
            write!(e, "\r\x1b[2K{line}")
        } else {
            writeln!(e, "{line}")
        };
        let _ = e.flush();
    }
}

fn end_progress() {
    if std::io::stderr().is_terminal() {
        eprint!("\r\x1b[2K");
    }
}

fn version_of(s: &str) -> anyhow::Result<Version> {
    match s {
        "1.0" | "1" => Ok(Version::V1),
        "0.3" | "0.3.0" => Ok(Version::V03),
        other => bail!("--protocol {other}: `a2a bench` speaks 1.0 and 0.3"),
    }
}

async fn discover(url: &str, version: Version) -> anyhow::Result<String> {
    let http = reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(10))
        .timeout(Duration::from_secs(30))
        .build()?;
    let card = crate::client::fetch_card_with(&http, url)
        .await
        .with_context(|| format!("reading the agent card of {url} (or pass --endpoint)"))?;
    crate::client::jsonrpc_endpoint(&card, version, url).ok_or_else(|| {
        anyhow::anyhow!(
            "the agent card of {url} names no JSON-RPC endpoint for A2A {}; pass --endpoint",
            version.as_str()
        )
    })
}

/// Runs `a2a bench`.
pub async fn run(args: BenchArgs) -> anyhow::Result<ExitCode> {
    let version = version_of(&args.protocol)?;
    if args.concurrency == 0 {
        bail!("--concurrency must be at least 1");
    }
    let endpoint = match &args.endpoint {
        Some(e) => e.clone(),
        None => discover(&args.url, version).await?,
    };
    let target = Arc::new(Target::resolve(&endpoint, version == Version::V1).await?);
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
    };
    let mut report = Report {
        scenario: args.scenario.name().into(),
        url: args.url.clone(),
        endpoint: endpoint.clone(),
        protocol: version.as_str().into(),
        concurrency: args.concurrency,
        ..Report::default()
    };
    match args.scenario {
        Scenario::Subscribe => subscribe(&args, version, &runner, measure, &mut report).await?,
        Scenario::Hold => hold(&args, version, &runner, measure, &mut report).await?,
        _ => closed_loop(&args, version, &runner, measure, &mut report).await?,
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

/// A one-off send during set-up; answers the outcome.
async fn setup_send(
    runner: &Runner,
    version: Version,
    text: &str,
    message_id: &str,
) -> anyhow::Result<SendOutcome> {
    let mut conn = Conn::new(runner.target.clone());
    let tpl = wire::send(version, false, json!(text), None);
    let body = tokio::time::timeout(runner.timeout, conn.post_read(tpl.render(&[message_id])))
        .await
        .map_err(|_| anyhow::anyhow!("set-up send timed out"))?
        .map_err(|f| anyhow::anyhow!("set-up send failed: {f}"))?;
    wire::result(&body)
        .and_then(wire::send_outcome)
        .map_err(|f| anyhow::anyhow!("set-up send failed: {f}"))
}

async fn closed_loop(
    args: &BenchArgs,
    version: Version,
    runner: &Runner,
    measure: Limit,
    report: &mut Report,
) -> anyhow::Result<()> {
    let text = json!(args.text);
    let clock = Instant::now();
    let mut hooks = None;
    let op = match args.scenario {
        Scenario::Send | Scenario::SendTask | Scenario::SendMessage => Op::Send {
            tpl: wire::send(version, false, text, None),
            expect: match args.scenario {
                Scenario::SendTask => Expect::CompletedTask,
                Scenario::SendMessage => Expect::Message,
                _ => Expect::CompletedOrMessage,
            },
        },
        Scenario::Stream => Op::Stream {
            tpl: wire::send(version, true, text, None),
        },
        Scenario::Get => {
            let mid = format!("{}{}-setup", runner.prefix, runner.nonce);
            match setup_send(runner, version, &args.text, &mid).await? {
                SendOutcome::Task { id, .. } => Op::Get {
                    tpl: wire::get(version, &id),
                },
                SendOutcome::Message => bail!(
                    "the get scenario needs a task, and the set-up SendMessage answered a \
                     message; choose a --message-id-prefix that makes the agent create a task"
                ),
            }
        }
        Scenario::Push => {
            let (url, h) = webhook::start(args.webhook_listen, clock).await?;
            let tpl = wire::send_with_push(version, &args.text, &url);
            // Probe once, so a server without push says so plainly.
            let mut conn = Conn::new(runner.target.clone());
            let mid = format!("{}{}-probe", runner.prefix, runner.nonce);
            let probe = conn
                .post_read(tpl.render(&[&mid, "bench-probe"]))
                .await
                .and_then(|b| wire::result(&b).map(|_| ()));
            match probe {
                Ok(()) => {}
                Err(Failure::JsonRpc(-32003)) => bail!(
                    "the server answered -32003 (PushNotificationNotSupported): it does not \
                     support push notifications, so there is nothing to measure"
                ),
                Err(f) => bail!("the push probe request failed: {f}"),
            }
            hooks = Some(h);
            Op::Push { tpl, clock }
        }
        _ => unreachable!("not a closed-loop scenario"),
    };
    let streaming = matches!(op, Op::Stream { .. });
    let conns = conns(&runner.target, args.concurrency);
    let window_start = std::cell::Cell::new(0);
    let (stats, elapsed) = runner
        .warm_and_measure(conns, Arc::new(op), args.warmup, measure, || {
            window_start.set(now_ns(clock));
            if let Some(h) = &hooks {
                h.set_window(window_start.get(), u64::MAX);
            }
        })
        .await;
    fill(report, &stats, elapsed);
    if streaming {
        report.time_to_first_event = Some(stats.first_event.summary());
        report
            .metrics
            .insert("events_per_sec".into(), per_sec(stats.events, elapsed));
        if stats.ok > 0 {
            report.metrics.insert(
                "events_per_stream".into(),
                ((stats.events as f64 / stats.ok as f64) * 100.0).round() / 100.0,
            );
        }
    }
    if let Some(h) = hooks {
        // Only requests sent in the measured window count; wait for their stragglers.
        h.set_window(
            window_start.get(),
            window_start.get() + elapsed.as_nanos() as u64,
        );
        let mut last = h.in_window.load(Ordering::SeqCst);
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(250)).await;
            let n = h.in_window.load(Ordering::SeqCst);
            if n == last {
                break;
            }
            last = n;
        }
        let delivered = h.in_window.load(Ordering::SeqCst);
        report.delivery_latency = Some(h.latency.lock().summary());
        report.metrics.insert("deliveries".into(), delivered as f64);
        report
            .metrics
            .insert("deliveries_per_sec".into(), per_sec(delivered, elapsed));
        if stats.ok > 0 {
            report.metrics.insert(
                "deliveries_per_request".into(),
                ((delivered as f64 / stats.ok as f64) * 100.0).round() / 100.0,
            );
        }
        let untagged = h.untagged.load(Ordering::SeqCst);
        if untagged > 0 {
            report.notes.push(format!(
                "{untagged} deliveries carried no notification token of ours (header \
                 {}); they are not counted",
                webhook::TOKEN_HEADER
            ));
        }
        if delivered == 0 && stats.ok > 0 {
            report
                .notes
                .push("no push notification arrived at the webhook".into());
        }
    }
    Ok(())
}

/// Creates the task the subscribers attach to: it must stay open after a reply.
async fn open_task(args: &BenchArgs, version: Version, runner: &Runner) -> anyhow::Result<String> {
    let mid = format!("{}{}-setup", runner.prefix, runner.nonce);
    match setup_send(runner, version, &args.text, &mid).await? {
        SendOutcome::Task { id, state, .. }
            if !matches!(
                state.as_str(),
                "completed" | "failed" | "canceled" | "rejected"
            ) =>
        {
            Ok(id)
        }
        other => bail!(
            "the {} scenario needs a task that stays open after a reply, and the set-up \
             send answered {}; run our server with `--agent conformance` (a message that is \
             not a tck- prefix leaves its task input-required)",
            args.scenario.name(),
            match other {
                SendOutcome::Message => "a message".to_string(),
                SendOutcome::Task { state, .. } => format!("a task in state {state}"),
            }
        ),
    }
}

/// Opens one subscription; answers its connection and response body once the head is in.
async fn open_subscription(
    target: Arc<Target>,
    body: Bytes,
) -> Result<(Conn, hyper::body::Incoming), Failure> {
    let mut conn = Conn::new(target);
    let resp = conn.post(body, &EVENT_STREAM).await?;
    let status = resp.status();
    if !status.is_success() {
        return Err(Failure::Http(status.as_u16()));
    }
    let is_sse = resp
        .headers()
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/event-stream"));
    let mut body = resp.into_body();
    if !is_sse {
        let mut all = Vec::new();
        while let Some(c) = next_chunk(&mut body).await? {
            all.extend_from_slice(&c);
        }
        wire::result(&all)?;
        return Err(Failure::Invalid("not an event stream".into()));
    }
    Ok((conn, body))
}

/// What one subscriber saw.
#[derive(Default)]
struct SubStats {
    events: u64,
    delivered: u64,
    latency: Latency,
    ended_early: bool,
    failure: Option<Failure>,
}

async fn subscribe(
    args: &BenchArgs,
    version: Version,
    runner: &Runner,
    measure: Limit,
    report: &mut Report,
) -> anyhow::Result<()> {
    let clock = Instant::now();
    let task_id = open_task(args, version, runner).await?;
    let sub_body = wire::subscribe(version, &task_id).render(&[]);
    let window = Arc::new((AtomicU64::new(u64::MAX), AtomicU64::new(u64::MAX)));
    let cancel = CancellationToken::new();
    let gate = Arc::new(Semaphore::new(256));
    let mut opened = Vec::with_capacity(args.subscribers);
    for _ in 0..args.subscribers {
        let (target, body, gate) = (runner.target.clone(), sub_body.clone(), gate.clone());
        opened.push(tokio::spawn(async move {
            let _permit = gate.acquire().await;
            open_subscription(target, body).await
        }));
    }
    let mut subs = Vec::with_capacity(args.subscribers);
    let mut open_errors: BTreeMap<String, u64> = BTreeMap::new();
    for h in opened {
        match h.await.expect("subscriber opener panicked") {
            Ok((conn, mut body)) => {
                let (window, cancel) = (window.clone(), cancel.clone());
                subs.push(tokio::spawn(async move {
                    let _conn = conn;
                    let mut s = SubStats::default();
                    let mut parser = SseParser::default();
                    let mut last_mark = 0;
                    loop {
                        let chunk = tokio::select! {
                            _ = cancel.cancelled() => break,
                            c = next_chunk(&mut body) => c,
                        };
                        match chunk {
                            Ok(Some(chunk)) => parser.feed(&chunk, |data| {
                                s.events += 1;
                                let Some(sent) = wire::find_mark(data) else {
                                    return;
                                };
                                if sent <= last_mark {
                                    return;
                                }
                                last_mark = sent;
                                let (start, end) = (
                                    window.0.load(Ordering::Relaxed),
                                    window.1.load(Ordering::Relaxed),
                                );
                                if sent >= start && sent < end {
                                    s.delivered += 1;
                                    s.latency
                                        .record_us(now_ns(clock).saturating_sub(sent) / 1000);
                                }
                            }),
                            Ok(None) => {
                                s.ended_early = true;
                                break;
                            }
                            Err(f) => {
                                s.failure = Some(f);
                                break;
                            }
                        }
                    }
                    s
                }));
            }
            Err(f) => {
                *open_errors
                    .entry(format!("subscribe: {}", f.kind()))
                    .or_default() += 1
            }
        }
    }
    if subs.is_empty() {
        bail!("no subscription could be opened: {open_errors:?}");
    }
    let op = Op::Publish {
        tpl: wire::send(version, false, wire::hole(1), Some(&task_id)),
        clock,
    };
    let (stats, elapsed) = runner
        .warm_and_measure(
            conns(&runner.target, 1),
            Arc::new(op),
            args.warmup,
            measure,
            || window.0.store(now_ns(clock), Ordering::SeqCst),
        )
        .await;
    window.1.store(now_ns(clock), Ordering::SeqCst);
    // Let the last publishes reach every subscriber.
    tokio::time::sleep(Duration::from_millis(500)).await;
    cancel.cancel();
    let mut delivery = Latency::default();
    let (mut events, mut delivered, mut early) = (0, 0, 0);
    let mut sub_p99 = Vec::new();
    let mut errors = stats.errors.clone();
    for h in subs {
        let s = h.await.expect("subscriber panicked");
        events += s.events;
        delivered += s.delivered;
        early += u64::from(s.ended_early);
        if let Some(f) = s.failure {
            *errors
                .entry(format!("subscriber: {}", f.kind()))
                .or_default() += 1;
        }
        if !s.latency.is_empty() {
            sub_p99.push(s.latency.summary().p99_us);
        }
        delivery.merge(&s.latency);
    }
    for (k, v) in open_errors {
        *errors.entry(k).or_default() += v;
    }
    fill(report, &stats, elapsed);
    report.concurrency = 1;
    report.latency_label = "publish (SendMessage)".into();
    report.errors = errors.values().sum();
    report.error_kinds = errors;
    report.delivery_latency = Some(delivery.summary());
    report
        .metrics
        .insert("subscribers".into(), args.subscribers as f64);
    report
        .metrics
        .insert("events_delivered".into(), delivered as f64);
    report
        .metrics
        .insert("events_per_sec".into(), per_sec(delivered, elapsed));
    report.metrics.insert("events_read".into(), events as f64);
    if !sub_p99.is_empty() {
        sub_p99.sort_unstable();
        report.metrics.insert(
            "subscriber_p99_us_median".into(),
            sub_p99[sub_p99.len() / 2] as f64,
        );
        report.metrics.insert(
            "subscriber_p99_us_worst".into(),
            *sub_p99.last().expect("not empty") as f64,
        );
    }
    report.notes.push(
        "one publisher sends follow-up messages to the task; delivery latency runs from \
         the publish request's send to each subscriber's receipt of the event echoing it"
            .into(),
    );
    if early > 0 {
        report
            .notes
            .push(format!("{early} subscriptions ended before the run did"));
    }
    Ok(())
}

async fn hold(
    args: &BenchArgs,
    version: Version,
    runner: &Runner,
    measure: Limit,
    report: &mut Report,
) -> anyhow::Result<()> {
    let task_id = open_task(args, version, runner).await?;
    let body = wire::subscribe(version, &task_id).render(&[]);
    let cancel = CancellationToken::new();
    let gate = Arc::new(Semaphore::new(256));
    let live = Arc::new(Live::default());
    let started = Instant::now();
    let progress = tokio::spawn(progress(live.clone(), "opening", started));
    let mut handles = Vec::with_capacity(args.subscribers);
    for _ in 0..args.subscribers {
        let (target, body, gate, cancel, live) = (
            runner.target.clone(),
            body.clone(),
            gate.clone(),
            cancel.clone(),
            live.clone(),
        );
        handles.push(tokio::spawn(async move {
            let permit = gate.acquire().await;
            let t0 = Instant::now();
            let opened =
                tokio::time::timeout(Duration::from_secs(30), open_subscription(target, body))
                    .await
                    .unwrap_or(Err(Failure::Timeout));
            drop(permit);
            let (conn, mut body) = match opened {
                Ok(x) => x,
                Err(f) => {
                    live.err.fetch_add(1, Ordering::Relaxed);
                    return Err(f);
                }
            };
            let took = t0.elapsed();
            live.ok.fetch_add(1, Ordering::Relaxed);
            let _conn = conn;
            let early = loop {
                tokio::select! {
                    _ = cancel.cancelled() => break false,
                    c = next_chunk(&mut body) => if !matches!(c, Ok(Some(_))) { break true },
                }
            };
            Ok((took, early))
        }));
    }
    // Wait until every subscription is open or failed, then hold.
    while live.ok.load(Ordering::Relaxed) + live.err.load(Ordering::Relaxed)
        < args.subscribers as u64
    {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let open_time = started.elapsed();
    progress.abort();
    end_progress();
    let open = live.ok.load(Ordering::Relaxed);
    eprintln!(
        "holding {open} open subscriptions ({} failed) after {:.1} s",
        live.err.load(Ordering::Relaxed),
        open_time.as_secs_f64()
    );
    let hold_for = match measure {
        Limit::Time(d) => d,
        Limit::Count(_) => Duration::from_secs(10),
    };
    tokio::select! {
        _ = tokio::time::sleep(hold_for) => {}
        _ = tokio::signal::ctrl_c() => {}
    }
    cancel.cancel();
    let mut stats = WorkerStats::default();
    let mut early = 0;
    for h in handles {
        match h.await.expect("subscriber panicked") {
            Ok((took, ended)) => {
                stats.ok += 1;
                stats.latency.record(took);
                early += u64::from(ended);
            }
            Err(f) => stats.error(&f),
        }
    }
    fill(report, &stats, open_time);
    report.concurrency = args.subscribers;
    report.latency_label = "open subscription".into();
    report.metrics.insert("held".into(), open as f64);
    report
        .metrics
        .insert("hold_secs".into(), hold_for.as_secs_f64());
    if early > 0 {
        report
            .notes
            .push(format!("{early} subscriptions ended while they were held"));
    }
    Ok(())
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

    #[test]
    fn expectations() {
        let task = |s: &str| SendOutcome::Task {
            id: "t".into(),
            context_id: "c".into(),
            state: s.into(),
        };
        assert!(check_send(Expect::CompletedOrMessage, task("completed")).is_ok());
        assert!(check_send(Expect::CompletedOrMessage, SendOutcome::Message).is_ok());
        assert!(check_send(Expect::CompletedOrMessage, task("input-required")).is_err());
        assert!(check_send(Expect::CompletedTask, SendOutcome::Message).is_err());
        assert!(check_send(Expect::Message, task("completed")).is_err());
        assert!(check_send(Expect::AnyTask, task("working")).is_ok());
        assert_eq!(
            check_send(Expect::CompletedTask, task("failed")).unwrap_err(),
            Failure::Invalid("a task in state failed".into())
        );
    }
}

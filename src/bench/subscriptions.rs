//! The scenarios on one open task's subscriptions: `subscribe` (fan-out of a publisher's
//! messages to many subscribers) and `hold` (many idle subscriptions, held open).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::bail;
use bytes::Bytes;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;

use super::closed_loop::setup_send;
use super::conn::{Conn, SseParser, Target, next_chunk};
use super::report::Report;
use super::runner::{Live, Op, Runner, end_progress, now_ns, post_stream, progress};
use super::stats::{Failure, Latency, WorkerStats};
use super::wire::{self, SendOutcome};
use super::{BenchArgs, Limit, conns, fill, per_sec};
use crate::protocol::Version;

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
    // Subscriptions are JSON-RPC (the runner refuses them over HTTP+JSON): any template of
    // that framing reads the answer.
    let framing = wire::Template::new("SubscribeToTask", serde_json::Value::Null);
    let body = post_stream(&mut conn, &framing, body, None).await?;
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

pub(super) async fn subscribe(
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

pub(super) async fn hold(
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

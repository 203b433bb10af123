//! The closed-loop scenarios (send, send-task, send-message, stream, get, push): one
//! request kind on every connection, plus the push scenario's webhook deliveries.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use anyhow::bail;
use serde_json::json;

use super::conn::Conn;
use super::report::Report;
use super::runner::{Expect, Op, Runner, now_ns};
use super::stats::Failure;
use super::wire::{self, SendOutcome};
use super::{BenchArgs, Limit, Scenario, conns, fill, per_sec, webhook};
use crate::protocol::Version;

/// A one-off send during set-up; answers the outcome.
pub(super) async fn setup_send(
    runner: &Runner,
    version: Version,
    text: &str,
    message_id: &str,
) -> anyhow::Result<SendOutcome> {
    let mut conn = Conn::new(runner.target.clone());
    let tpl = wire::send(version, false, json!(text), None);
    let body = tokio::time::timeout(
        runner.timeout,
        conn.post_read(tpl.render(&[message_id]), None),
    )
    .await
    .map_err(|_| anyhow::anyhow!("set-up send timed out"))?
    .map_err(|f| anyhow::anyhow!("set-up send failed: {f}"))?;
    wire::result(&body)
        .and_then(wire::send_outcome)
        .map_err(|f| anyhow::anyhow!("set-up send failed: {f}"))
}

pub(super) async fn closed_loop(
    args: &BenchArgs,
    version: Version,
    runner: &Runner,
    measure: Limit,
    report: &mut Report,
) -> anyhow::Result<()> {
    let text = json!(args.text);
    let clock = Instant::now();
    let mut hooks = None;
    if runner.rest
        && !matches!(
            args.scenario,
            Scenario::Send | Scenario::SendTask | Scenario::SendMessage | Scenario::Stream
        )
    {
        bail!(
            "`a2a bench --transport rest` measures the send, send-task, send-message and \
             stream scenarios; use --transport jsonrpc for {}",
            args.scenario.name()
        );
    }
    let grpc_op = if runner.grpc {
        let text = args.text.clone();
        Some(match args.scenario {
            Scenario::Send | Scenario::SendTask | Scenario::SendMessage => Op::GrpcSend {
                text,
                expect: match args.scenario {
                    Scenario::SendTask => Expect::CompletedTask,
                    Scenario::SendMessage => Expect::Message,
                    _ => Expect::CompletedOrMessage,
                },
            },
            Scenario::Stream => Op::GrpcStream { text },
            other => bail!(
                "`a2a bench --transport grpc` measures the send, send-task, send-message and \
                 stream scenarios; use --transport jsonrpc for {}",
                other.name()
            ),
        })
    } else {
        None
    };
    let send_tpl = |streaming: bool, text: serde_json::Value| {
        if runner.rest {
            wire::rest_send(text)
        } else {
            wire::send(version, streaming, text, None)
        }
    };
    let op = match args.scenario {
        _ if grpc_op.is_some() => grpc_op.expect("checked"),
        Scenario::Send | Scenario::SendTask | Scenario::SendMessage => Op::Send {
            tpl: send_tpl(false, text),
            expect: match args.scenario {
                Scenario::SendTask => Expect::CompletedTask,
                Scenario::SendMessage => Expect::Message,
                _ => Expect::CompletedOrMessage,
            },
        },
        Scenario::Stream => Op::Stream {
            tpl: send_tpl(true, text),
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
                .post_read(tpl.render(&[&mid, "bench-probe"]), None)
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
    let streaming = matches!(op, Op::Stream { .. } | Op::GrpcStream { .. });
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

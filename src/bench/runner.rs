//! The engine of every scenario: one request kind ([`Op`]) sent back to back on each
//! connection for a phase (warm-up, then measuring), with a progress line on stderr.

use std::io::{IsTerminal, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use hyper::body::Incoming;

use super::Limit;
use super::conn::{Conn, EVENT_STREAM, SseParser, Target, next_chunk};
use super::stats::{self, Failure, WorkerStats};
use super::wire::{self, SendOutcome, Template};

/// Counters the progress line reads while workers run.
#[derive(Default)]
pub(super) struct Live {
    pub(super) ok: AtomicU64,
    pub(super) err: AtomicU64,
    issued: AtomicU64,
    stop: AtomicBool,
}

/// One request kind of the closed-loop scenarios.
pub(super) enum Op {
    /// A send whose answer must match `expect`.
    Send {
        tpl: Template,
        expect: Expect,
    },
    Stream {
        tpl: Template,
    },
    /// gRPC `SendMessage` of `text`, its answer checked as a send's.
    GrpcSend {
        text: String,
        expect: Expect,
    },
    /// gRPC `SendStreamingMessage` of `text`, read to its end.
    GrpcStream {
        text: String,
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
pub(super) enum Expect {
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

pub(super) fn now_ns(clock: Instant) -> u64 {
    clock.elapsed().as_nanos() as u64
}

/// What one successful request adds beyond its latency.
#[derive(Default)]
struct Extra {
    events: u64,
    first_event: Option<Duration>,
}

impl Op {
    /// Runs the op once; `key` is the `Idempotency-Key` of a send (unique per request).
    async fn exec(
        &self,
        conn: &mut Conn,
        mid: &str,
        key: Option<&str>,
        t0: Instant,
    ) -> Result<Extra, Failure> {
        match self {
            Op::Send { tpl, expect } => {
                let body = conn.post_read(tpl.render(&[mid]), key).await?;
                check_send(*expect, wire::send_outcome(tpl.result(&body)?)?)?;
                Ok(Extra::default())
            }
            Op::Get { tpl } => {
                let body = conn.post_read(tpl.render(&[]), None).await?;
                wire::task_result(tpl.result(&body)?)?;
                Ok(Extra::default())
            }
            Op::Push { tpl, clock } => {
                let token = format!("bench-{}", now_ns(*clock));
                let body = conn.post_read(tpl.render(&[mid, &token]), key).await?;
                tpl.result(&body)?;
                Ok(Extra::default())
            }
            Op::Publish { tpl, clock } => {
                let text = wire::mark(now_ns(*clock));
                let body = conn.post_read(tpl.render(&[mid, &text]), key).await?;
                check_send(Expect::AnyTask, wire::send_outcome(tpl.result(&body)?)?)?;
                Ok(Extra::default())
            }
            Op::Stream { tpl } => read_stream(conn, tpl, tpl.render(&[mid]), key, t0).await,
            Op::GrpcSend { text, expect } => {
                let outcome = super::grpc::send(conn, super::grpc::send_request(mid, text), key);
                check_send(*expect, outcome.await?)?;
                Ok(Extra::default())
            }
            Op::GrpcStream { text } => {
                let body = super::grpc::send_request(mid, text);
                let (events, first_event) = super::grpc::stream(conn, body, key, t0).await?;
                Ok(Extra {
                    events,
                    first_event,
                })
            }
        }
    }
}

/// POSTs `body` asking for an event stream; answers the stream's body once its head is in.
/// A non-2xx status, or an answer that is not an event stream (read whole, so the
/// connection stays usable, and reported as the JSON-RPC error it carries), is a failure.
pub(super) async fn post_stream(
    conn: &mut Conn,
    tpl: &Template,
    body: Bytes,
    idempotency_key: Option<&str>,
) -> Result<Incoming, Failure> {
    let resp = conn.post(body, &EVENT_STREAM, idempotency_key).await?;
    let status = resp.status();
    let is_sse = resp
        .headers()
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/event-stream"));
    let mut body = resp.into_body();
    if status.is_success() && is_sse {
        return Ok(body);
    }
    let mut all = Vec::new();
    while let Some(c) = next_chunk(&mut body).await? {
        all.extend_from_slice(&c);
    }
    if !status.is_success() {
        return Err(Failure::Http(status.as_u16()));
    }
    tpl.result(&all)?;
    Err(Failure::Invalid("not an event stream".into()))
}

async fn read_stream(
    conn: &mut Conn,
    tpl: &Template,
    body: Bytes,
    key: Option<&str>,
    t0: Instant,
) -> Result<Extra, Failure> {
    let mut body = post_stream(conn, tpl, body, key).await?;
    let mut parser = SseParser::default();
    let mut extra = Extra::default();
    let mut failure = None;
    while let Some(chunk) = next_chunk(&mut body).await? {
        parser.feed(&chunk, |data| {
            if extra.first_event.is_none() {
                extra.first_event = Some(t0.elapsed());
            }
            extra.events += 1;
            if let Err(f) = tpl.result(data) {
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

pub(super) struct Runner {
    pub(super) target: Arc<Target>,
    pub(super) timeout: Duration,
    pub(super) nonce: String,
    pub(super) prefix: String,
    /// Whether sends carry an `Idempotency-Key`.
    pub(super) keyed: bool,
    /// Over HTTP+JSON (the target's path is the scenario's route).
    pub(super) rest: bool,
    /// Over gRPC (the target's path is the scenario's RPC).
    pub(super) grpc: bool,
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
            // The key is the message id without the prefix: unique per request, a token
            // whatever prefix the agent needs, and no work of its own per request.
            let key_from = self.keyed.then_some(self.prefix.len());
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
                    let key = key_from.map(|i| &mid[i..]);
                    match tokio::time::timeout(timeout, op.exec(&mut conn, &mid, key, t0)).await {
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
    pub(super) async fn warm_and_measure(
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
pub(super) async fn progress(live: Arc<Live>, label: &'static str, started: Instant) {
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

pub(super) fn end_progress() {
    if std::io::stderr().is_terminal() {
        eprint!("\r\x1b[2K");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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

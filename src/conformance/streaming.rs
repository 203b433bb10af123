//! SSE streams: framing, first event, closing, artifact chunks, subscriptions; and the
//! -32004 answer when the card does not declare streaming.

use std::time::Duration;

use serde_json::{Value, json};

use super::probe::{Streamed, msg_v01, msg_v1, msg_v03};
use super::{Check, Checked, Ctx, Miss, Ver, fail, show, skip};
use crate::{check, ensure};

pub fn checks() -> Vec<Check> {
    vec![
        check!(
            "R55-v1",
            Must,
            V1,
            "Without capabilities.streaming, SendStreamingMessage and SubscribeToTask yield -32004.",
            off_v1
        ),
        check!(
            "R55-v03",
            Should,
            V03,
            "Without capabilities.streaming, message/stream and tasks/resubscribe yield -32004.",
            off_v03
        ),
        check!(
            "R55-v01",
            Should,
            V01,
            "Without capabilities.streaming, tasks/sendSubscribe yields an error.",
            off_v01
        ),
        check!(
            "R56-v1",
            Must,
            V1,
            "A SendStreamingMessage answers HTTP 200 text/event-stream and closes.",
            |c| framing(c, Ver::V1)
        ),
        check!(
            "R56-v03",
            Must,
            V03,
            "A message/stream answers HTTP 200 text/event-stream and closes.",
            |c| framing(c, Ver::V03)
        ),
        check!(
            "R56-v01",
            Must,
            V01,
            "A tasks/sendSubscribe answers HTTP 200 text/event-stream and closes.",
            |c| framing(c, Ver::V01)
        ),
        check!(
            "R57-v1",
            Must,
            V1,
            "Every 1.0 SSE event is one complete JSON-RPC response with the request id.",
            |c| events_are_responses(c, Ver::V1)
        ),
        check!(
            "R57-v03",
            Must,
            V03,
            "Every 0.3 SSE event is one complete JSON-RPC response with the request id.",
            |c| events_are_responses(c, Ver::V03)
        ),
        check!(
            "R57-v01",
            Must,
            V01,
            "Every 0.1 SSE event is one complete JSON-RPC response with the request id.",
            |c| events_are_responses(c, Ver::V01)
        ),
        check!(
            "R58-v1",
            Must,
            V1,
            "A task stream starts with result.task; a message reply is exactly one message event, then close.",
            first_event_v1
        ),
        check!(
            "R58-v03",
            Should,
            V03,
            "A 0.3 task stream starts with the Task (kind task).",
            first_event_v03
        ),
        check!(
            "R59-v1",
            Must,
            V1,
            "Each 1.0 stream result has exactly one of task, message, statusUpdate, artifactUpdate.",
            one_member
        ),
        check!(
            "R60-v1",
            Must,
            V1,
            "1.0 stream events carry no final, and the stream closes after the terminal event.",
            close_v1
        ),
        check!(
            "R60-v03",
            Must,
            V03,
            "The last 0.3 status-update has final: true.",
            final_v03
        ),
        check!(
            "R61-v1",
            Must,
            V1,
            "Status and artifact events carry the task's taskId and contextId.",
            |c| ids_match(c, Ver::V1)
        ),
        check!(
            "R61-v03",
            Must,
            V03,
            "0.3 status and artifact events carry the task's taskId and contextId.",
            |c| ids_match(c, Ver::V03)
        ),
        check!(
            "R62-v1",
            Must,
            V1,
            "Artifact chunks: first append absent/false, later append true, last lastChunk true; the stored artifact is their concatenation.",
            |c| chunks(c, Ver::V1)
        ),
        check!(
            "R62-v03",
            Must,
            V03,
            "0.3 artifact chunks follow append/lastChunk and the stored artifact is their concatenation.",
            |c| chunks(c, Ver::V03)
        ),
        check!(
            "R63-v1",
            Must,
            V1,
            "SubscribeToTask sends the Task first; concurrent subscribers get the same events; dropping one leaves the other.",
            subscribe_v1
        ),
        check!(
            "R64-v1",
            Must,
            V1,
            "SubscribeToTask of a terminal task yields -32004, of an unknown task -32001.",
            subscribe_refused_v1
        ),
        check!(
            "R64-v03",
            Must,
            V03,
            "tasks/resubscribe of an unknown task yields -32001.",
            resubscribe_unknown_v03
        ),
        check!(
            "R65-v1",
            Must,
            V1,
            "Stream events keep the order they were produced in (nothing after the terminal state).",
            |c| ordering(c, Ver::V1)
        ),
        check!(
            "R65-v03",
            Must,
            V03,
            "0.3 stream events keep the order they were produced in.",
            |c| ordering(c, Ver::V03)
        ),
        check!(
            "R79-v01",
            Must,
            V01,
            "tasks/sendSubscribe streams only {id,status,final} / {id,artifact} results and ends with final: true.",
            send_subscribe_v01
        ),
    ]
}

const LIMIT: Duration = Duration::from_secs(20);

fn need_streaming(c: &Ctx) -> Checked {
    if c.caps.streaming {
        Ok(())
    } else {
        Err(skip("capabilities.streaming is not true (see R55)"))
    }
}

fn need_no_streaming(c: &Ctx) -> Checked {
    if c.caps.streaming {
        Err(skip("capabilities.streaming is true"))
    } else {
        Ok(())
    }
}

/// Opens a send stream of `ver` for a message with `prefix`, read to its end.
async fn open(c: &Ctx, ver: Ver, prefix: &str) -> Result<(u64, Streamed), Miss> {
    let (method, params) = match ver {
        Ver::V1 => ("SendStreamingMessage", json!({"message": msg_v1(prefix)})),
        Ver::V03 => ("message/stream", json!({"message": msg_v03(prefix)})),
        _ => (
            "tasks/sendSubscribe",
            json!({"id": format!("conf-{}", uuid::Uuid::new_v4()), "message": msg_v01(prefix)}),
        ),
    };
    c.stream(ver, method, params, LIMIT, 1000).await
}

/// A stream that must have been a proper event stream; its results.
async fn results(c: &Ctx, ver: Ver, prefix: &str) -> Result<Vec<Value>, Miss> {
    let (_, s) = open(c, ver, prefix).await?;
    s.expect_stream()?;
    Ok(s.results()?.into_iter().cloned().collect())
}

fn expect_error_of(s: &Streamed, code: i64, what: &str) -> Checked {
    if let Some(body) = &s.body {
        return body.expect_error(&[code], what);
    }
    // Some servers answer errors as one SSE event.
    let first = s.events.first().and_then(|e| e["error"]["code"].as_i64());
    ensure!(
        first == Some(code),
        "{what}: expected error {code}, got {} events starting {}",
        s.events.len(),
        s.events.first().map(show).unwrap_or_default()
    );
    Ok(())
}

async fn off_v1(c: &Ctx) -> Checked {
    need_no_streaming(c)?;
    let (_, s) = c
        .stream(
            Ver::V1,
            "SendStreamingMessage",
            json!({"message": msg_v1("tck-stream-001")}),
            LIMIT,
            5,
        )
        .await?;
    expect_error_of(&s, -32004, "SendStreamingMessage")?;
    let t = super::v1::new_task(c, "tck-input-required").await?;
    let (_, s) = c
        .stream(Ver::V1, "SubscribeToTask", json!({"id": t["id"]}), LIMIT, 5)
        .await?;
    expect_error_of(&s, -32004, "SubscribeToTask")
}

async fn off_v03(c: &Ctx) -> Checked {
    need_no_streaming(c)?;
    let (_, s) = c
        .stream(
            Ver::V03,
            "message/stream",
            json!({"message": msg_v03("tck-stream-001")}),
            LIMIT,
            5,
        )
        .await?;
    expect_error_of(&s, -32004, "message/stream")?;
    let t = super::v03::new_task(c, "tck-input-required").await?;
    let (_, s) = c
        .stream(
            Ver::V03,
            "tasks/resubscribe",
            json!({"id": t["id"]}),
            LIMIT,
            5,
        )
        .await?;
    expect_error_of(&s, -32004, "tasks/resubscribe")
}

async fn off_v01(c: &Ctx) -> Checked {
    need_no_streaming(c)?;
    let (_, s) = open(c, Ver::V01, "tck-stream-001").await?;
    let refused = s.body.as_ref().is_some_and(|b| b.error_code().is_some())
        || s.events.first().is_some_and(|e| e.get("error").is_some());
    ensure!(
        refused,
        "tasks/sendSubscribe was served although streaming is off ({} events)",
        s.events.len()
    );
    Ok(())
}

async fn framing(c: &Ctx, ver: Ver) -> Checked {
    need_streaming(c)?;
    let (_, s) = open(c, ver, "tck-stream-001").await?;
    ensure!(
        s.body.is_none(),
        "expected an event stream, got {}",
        s.body.as_ref().map(|b| b.describe()).unwrap_or_default()
    );
    ensure!(s.status == 200, "HTTP {}", s.status);
    ensure!(
        s.content_type.starts_with("text/event-stream"),
        "Content-Type {}",
        s.content_type
    );
    ensure!(!s.events.is_empty(), "no events");
    s.expect_stream()
}

async fn events_are_responses(c: &Ctx, ver: Ver) -> Checked {
    need_streaming(c)?;
    let (id, s) = open(c, ver, "tck-stream-001").await?;
    s.expect_stream()?;
    for e in &s.events {
        ensure!(
            e.is_object(),
            "an event's data is not a JSON object: {}",
            show(e)
        );
        ensure!(
            e["jsonrpc"] == "2.0",
            "jsonrpc is {} in {}",
            e["jsonrpc"],
            show(e)
        );
        ensure!(
            e["id"] == json!(id),
            "event id {} for request {id}",
            e["id"]
        );
        ensure!(
            e.get("result").is_some() != e.get("error").is_some(),
            "not exactly one of result/error: {}",
            show(e)
        );
    }
    Ok(())
}

const MEMBERS: [&str; 4] = ["task", "message", "statusUpdate", "artifactUpdate"];

/// The task state an event of `ver` reports, if any.
fn event_state(ver: Ver, r: &Value) -> Option<String> {
    let s = match ver {
        Ver::V1 => r.get("task").or_else(|| r.get("statusUpdate"))?["status"]["state"].as_str(),
        _ => r["status"]["state"].as_str(),
    };
    s.map(str::to_string)
}

fn terminal(state: &str) -> bool {
    let s = state.to_ascii_lowercase();
    ["completed", "failed", "canceled", "rejected"]
        .iter()
        .any(|t| s.ends_with(t))
}

async fn first_event_v1(c: &Ctx) -> Checked {
    need_streaming(c)?;
    let rs = results(c, Ver::V1, "tck-stream-001").await?;
    ensure!(
        rs.first().is_some_and(|r| r.get("task").is_some()),
        "first event is not result.task: {}",
        rs.first().map(show).unwrap_or_default()
    );
    let rs = results(c, Ver::V1, "tck-message-response").await?;
    ensure!(
        rs.len() == 1 && rs[0].get("message").is_some(),
        "a message reply streamed {} events: {}",
        rs.len(),
        rs.iter().map(show).collect::<Vec<_>>().join(" | ")
    );
    Ok(())
}

async fn first_event_v03(c: &Ctx) -> Checked {
    need_streaming(c)?;
    let rs = results(c, Ver::V03, "tck-stream-001").await?;
    ensure!(
        rs.first().is_some_and(|r| r["kind"] == "task"),
        "first event is not a Task: {}",
        rs.first().map(show).unwrap_or_default()
    );
    Ok(())
}

async fn one_member(c: &Ctx) -> Checked {
    need_streaming(c)?;
    for prefix in ["tck-stream-001", "tck-message-response"] {
        for r in results(c, Ver::V1, prefix).await? {
            let n = MEMBERS.iter().filter(|m| r.get(**m).is_some()).count();
            ensure!(
                n == 1 && r.as_object().is_some_and(|o| o.len() == 1),
                "result with {n} members: {}",
                show(&r)
            );
        }
    }
    Ok(())
}

async fn close_v1(c: &Ctx) -> Checked {
    need_streaming(c)?;
    let rs = results(c, Ver::V1, "tck-stream-001").await?;
    for r in &rs {
        ensure!(
            r["statusUpdate"].get("final").is_none(),
            "a 1.0 statusUpdate carries final: {}",
            show(r)
        );
    }
    let last = rs.iter().rev().find_map(|r| event_state(Ver::V1, r));
    ensure!(
        last.as_deref().is_some_and(terminal),
        "the stream closed at state {:?}, not a terminal one",
        last
    );
    Ok(())
}

async fn final_v03(c: &Ctx) -> Checked {
    need_streaming(c)?;
    let rs = results(c, Ver::V03, "tck-stream-001").await?;
    let statuses: Vec<&Value> = rs.iter().filter(|r| r["kind"] == "status-update").collect();
    let last = statuses
        .last()
        .ok_or_else(|| fail("no status-update events"))?;
    ensure!(
        last["final"] == true,
        "the last status-update has final {}",
        last["final"]
    );
    ensure!(
        statuses.iter().rev().skip(1).all(|s| s["final"] != true),
        "final: true before the last status-update"
    );
    Ok(())
}

async fn ids_match(c: &Ctx, ver: Ver) -> Checked {
    need_streaming(c)?;
    let rs = results(c, ver, "tck-stream-001").await?;
    let task = match ver {
        Ver::V1 => rs.first().and_then(|r| r.get("task")).cloned(),
        _ => rs.first().filter(|r| r["kind"] == "task").cloned(),
    };
    let task = task.ok_or_else(|| fail("the stream did not start with the task"))?;
    for r in &rs[1..] {
        let ev = match ver {
            Ver::V1 => r
                .get("statusUpdate")
                .or_else(|| r.get("artifactUpdate"))
                .unwrap_or(r),
            _ => r,
        };
        if ev.get("status").is_some() || ev.get("artifact").is_some() {
            ensure!(
                ev["taskId"] == task["id"] && ev["contextId"] == task["contextId"],
                "event ids {}/{} differ from the task's {}/{}",
                ev["taskId"],
                ev["contextId"],
                task["id"],
                task["contextId"]
            );
        }
    }
    Ok(())
}

async fn chunks(c: &Ctx, ver: Ver) -> Checked {
    need_streaming(c)?;
    let rs = results(c, ver, "tck-stream-artifact-chunked").await?;
    let evs: Vec<&Value> = rs
        .iter()
        .filter_map(|r| {
            if ver == Ver::V1 {
                r.get("artifactUpdate")
            } else {
                Some(r).filter(|r| r["kind"] == "artifact-update")
            }
        })
        .collect();
    ensure!(
        evs.len() >= 2,
        "tck-stream-artifact-chunked streamed {} artifact events",
        evs.len()
    );
    let aid = evs[0]["artifact"]["artifactId"].clone();
    let mut text = String::new();
    for (i, e) in evs.iter().enumerate() {
        ensure!(
            e["artifact"]["artifactId"] == aid,
            "chunk {i} has artifactId {}",
            e["artifact"]["artifactId"]
        );
        let append = e["append"] == true;
        ensure!(append == (i > 0), "chunk {i} has append {}", e["append"]);
        let last = e["lastChunk"] == true;
        ensure!(
            last == (i == evs.len() - 1),
            "chunk {i} of {} has lastChunk {}",
            evs.len(),
            e["lastChunk"]
        );
        for p in e["artifact"]["parts"].as_array().into_iter().flatten() {
            text.push_str(p["text"].as_str().unwrap_or_default());
        }
    }
    let task_id = match ver {
        Ver::V1 => rs[0]["task"]["id"].clone(),
        _ => rs[0]["id"].clone(),
    };
    let method = if ver == Ver::V1 {
        "GetTask"
    } else {
        "tasks/get"
    };
    let r = c.rpc(ver, method, json!({"id": task_id})).await?;
    let stored = r.result()?["artifacts"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let art = stored
        .iter()
        .find(|a| a["artifactId"] == aid)
        .ok_or_else(|| fail(format!("the stored task has no artifact {aid}")))?;
    let joined: String = art["parts"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|p| p["text"].as_str())
        .collect();
    ensure!(
        joined == text,
        "stored artifact text {joined:?}, chunks concatenate to {text:?}"
    );
    Ok(())
}

async fn subscribe_v1(c: &Ctx) -> Checked {
    need_streaming(c)?;
    let res = super::v1::send(
        c,
        msg_v1("test-resubscribe-message-id"),
        Some(json!({"returnImmediately": true})),
    )
    .await?;
    let t = super::v1::task_of(&res)?;
    let sub = || {
        c.stream(
            Ver::V1,
            "SubscribeToTask",
            json!({"id": t["id"]}),
            LIMIT,
            1000,
        )
    };
    let dropped = c.stream(Ver::V1, "SubscribeToTask", json!({"id": t["id"]}), LIMIT, 1);
    let (a, b, d) = tokio::join!(sub(), sub(), dropped);
    let ((_, a), (_, b), (_, d)) = (a?, b?, d?);
    for s in [&a, &b] {
        s.expect_stream()?;
    }
    ensure!(
        d.events.len() == 1,
        "the subscriber read only to be dropped got {} events",
        d.events.len()
    );
    let (ra, rb) = (a.results()?, b.results()?);
    ensure!(
        ra.first().is_some_and(|r| r["task"]["id"] == t["id"]),
        "first event is not the Task: {}",
        ra.first().map(|r| show(r)).unwrap_or_default()
    );
    let tail = |rs: &[&Value]| {
        rs.iter()
            .skip(1)
            .filter(|r| r.get("task").is_none())
            .map(|r| r.to_string())
            .collect::<Vec<_>>()
    };
    ensure!(
        tail(&ra) == tail(&rb),
        "two subscribers saw different events: {} vs {}",
        ra.len(),
        rb.len()
    );
    let last = ra.iter().rev().find_map(|r| event_state(Ver::V1, r));
    ensure!(
        last.as_deref().is_some_and(terminal),
        "the subscription ended at {:?}",
        last
    );
    Ok(())
}

async fn subscribe_refused_v1(c: &Ctx) -> Checked {
    need_streaming(c)?;
    let t = super::v1::new_task(c, "tck-complete-task").await?;
    let (_, s) = c
        .stream(Ver::V1, "SubscribeToTask", json!({"id": t["id"]}), LIMIT, 5)
        .await?;
    expect_error_of(&s, -32004, "SubscribeToTask of a completed task")?;
    let (_, s) = c
        .stream(
            Ver::V1,
            "SubscribeToTask",
            json!({"id": uuid::Uuid::new_v4().to_string()}),
            LIMIT,
            5,
        )
        .await?;
    expect_error_of(&s, -32001, "SubscribeToTask of an unknown task")
}

async fn resubscribe_unknown_v03(c: &Ctx) -> Checked {
    need_streaming(c)?;
    let (_, s) = c
        .stream(
            Ver::V03,
            "tasks/resubscribe",
            json!({"id": uuid::Uuid::new_v4().to_string()}),
            LIMIT,
            5,
        )
        .await?;
    expect_error_of(&s, -32001, "tasks/resubscribe of an unknown task")
}

async fn ordering(c: &Ctx, ver: Ver) -> Checked {
    need_streaming(c)?;
    let rs = results(c, ver, "tck-stream-ordering-001").await?;
    let states: Vec<String> = rs.iter().filter_map(|r| event_state(ver, r)).collect();
    let end = states.iter().position(|s| terminal(s));
    let end = end.ok_or_else(|| fail(format!("no terminal state in {states:?}")))?;
    // A closing task snapshot may repeat the terminal state; nothing else may follow it.
    ensure!(
        states[end..].iter().all(|s| s == &states[end]),
        "events after the terminal state: {states:?}"
    );
    let rank = |s: &str| {
        if s.contains("SUBMITTED") || s == "submitted" {
            0
        } else if s.contains("WORKING") || s == "working" {
            1
        } else {
            2
        }
    };
    ensure!(
        states.windows(2).all(|w| rank(&w[0]) <= rank(&w[1])),
        "states out of order: {states:?}"
    );
    Ok(())
}

async fn send_subscribe_v01(c: &Ctx) -> Checked {
    need_streaming(c)?;
    let rs = results(c, Ver::V01, "tck-stream-001").await?;
    ensure!(!rs.is_empty(), "no events");
    for r in &rs {
        let ok_status = r["id"].is_string() && r.get("status").is_some();
        let ok_artifact = r["id"].is_string() && r.get("artifact").is_some();
        ensure!(
            ok_status || ok_artifact,
            "not a 0.1 status or artifact event: {}",
            show(r)
        );
        super::v01::check_v01_json(r)?;
    }
    let last_status = rs.iter().rev().find(|r| r.get("status").is_some());
    ensure!(
        last_status.is_some_and(|r| r["final"] == true),
        "the last status event is not final: true"
    );
    Ok(())
}

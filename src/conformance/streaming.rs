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
    ]
}

pub const LIMIT: Duration = Duration::from_secs(20);

pub fn need_streaming(c: &Ctx) -> Checked {
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
pub async fn results(c: &Ctx, ver: Ver, prefix: &str) -> Result<Vec<Value>, Miss> {
    let (_, s) = open(c, ver, prefix).await?;
    s.expect_stream()?;
    Ok(s.results()?.into_iter().cloned().collect())
}

pub fn expect_error_of(s: &Streamed, code: i64, what: &str) -> Checked {
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
pub fn event_state(ver: Ver, r: &Value) -> Option<String> {
    let s = match ver {
        Ver::V1 => r.get("task").or_else(|| r.get("statusUpdate"))?["status"]["state"].as_str(),
        _ => r["status"]["state"].as_str(),
    };
    s.map(str::to_string)
}

pub fn terminal(state: &str) -> bool {
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

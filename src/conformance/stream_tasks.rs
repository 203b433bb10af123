//! Streams of whole tasks: artifact chunks, subscriptions, ordering, and 0.1's
//! `tasks/sendSubscribe`.

use serde_json::{Value, json};

use super::probe::msg_v1;
use super::streaming::{LIMIT, event_state, expect_error_of, need_streaming, results, terminal};
use super::{Check, Checked, Ctx, Ver, fail, show};
use crate::{check, ensure};

pub fn checks() -> Vec<Check> {
    vec![
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
            "R79-v01",
            Must,
            V01,
            "tasks/sendSubscribe streams only {id,status,final} / {id,artifact} results and ends with final: true.",
            send_subscribe_v01
        ),
    ]
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

//! The legacy 0.1 family: `tasks/send` with client-chosen task ids, `type`-discriminated
//! parts, the 0.1 state set.

use serde_json::{Value, json};

use super::probe::msg_v01;
use super::v1::walk;
use super::{Check, Checked, Ctx, Miss, Ver, fail, show};
use crate::{check, ensure};

pub fn checks() -> Vec<Check> {
    vec![
        check!(
            "R78-v01",
            Must,
            V01,
            "tasks/send with a new client-chosen id creates a task with exactly that id; the same id again continues it.",
            client_task_id
        ),
        check!(
            "R80-v01",
            Must,
            V01,
            "Parts are discriminated by type and states use the 0.1 set; no kind appears.",
            v01_spelling
        ),
        check!(
            "R15-v01",
            Must,
            V01,
            "tasks/send without id or without message yields -32602.",
            bad_params
        ),
        check!(
            "R42-v01",
            Must,
            V01,
            "tasks/get returns a task created with tasks/send, by its id, in 0.1 shape.",
            get_own
        ),
        check!(
            "R52-v01",
            Must,
            V01,
            "tasks/cancel of an open 0.1 task returns it canceled (or -32002).",
            cancel_open
        ),
        check!(
            "R53-v01",
            Must,
            V01,
            "tasks/cancel of a terminal task yields -32002, of an unknown task -32001.",
            cancel_refused
        ),
    ]
}

pub async fn send(c: &Ctx, id: &str, prefix: &str) -> Result<Value, Miss> {
    let r = c
        .rpc(
            Ver::V01,
            "tasks/send",
            json!({"id": id, "message": msg_v01(prefix)}),
        )
        .await?;
    let t = r.result()?.clone();
    ensure!(
        t["id"] == id,
        "tasks/send with id {id} answered task {}",
        t["id"]
    );
    Ok(t)
}

fn fresh() -> String {
    format!("conf-{}", uuid::Uuid::new_v4())
}

fn state(t: &Value) -> &str {
    t["status"]["state"].as_str().unwrap_or_default()
}

const STATES: [&str; 7] = [
    "submitted",
    "working",
    "input-required",
    "completed",
    "canceled",
    "failed",
    "unknown",
];

async fn client_task_id(c: &Ctx) -> Checked {
    let id = fresh();
    let first = send(c, &id, "conformance-echo").await?;
    let n = first["history"].as_array().map_or(0, Vec::len);
    let second = send(c, &id, "conformance-echo").await?;
    let m = second["history"].as_array().map_or(0, Vec::len);
    // With history kept, the continued task holds both turns.
    ensure!(
        n == 0 || m > n,
        "the second tasks/send did not continue the task (history {n} then {m})"
    );
    Ok(())
}

/// Fails on `kind`, parts without a 0.1 `type`, or states outside the 0.1 set.
pub fn check_v01_json(v: &Value) -> Checked {
    let mut bad = Vec::new();
    walk(v, &mut |k, x| match (k, x) {
        ("kind", _) => bad.push(format!("kind {x}")),
        ("state", Value::String(s)) if !STATES.contains(&s.as_str()) => {
            bad.push(format!("state {s}"))
        }
        ("parts", Value::Array(parts)) => {
            for p in parts {
                if !["text", "file", "data"].contains(&p["type"].as_str().unwrap_or_default()) {
                    bad.push(format!("part without 0.1 type: {}", show(p)));
                }
            }
        }
        _ => {}
    });
    ensure!(bad.is_empty(), "{}", bad.join("; "));
    Ok(())
}

async fn v01_spelling(c: &Ctx) -> Checked {
    let t = send(c, &fresh(), "conformance-echo").await?;
    check_v01_json(&t)?;
    ensure!(
        t["status"]["state"].is_string(),
        "no status.state: {}",
        show(&t)
    );
    Ok(())
}

async fn bad_params(c: &Ctx) -> Checked {
    let cases = [
        (json!({"message": msg_v01("x")}), "no id"),
        (json!({"id": fresh()}), "no message"),
    ];
    for (params, what) in cases {
        c.rpc(Ver::V01, "tasks/send", params)
            .await?
            .expect_error(&[-32602], what)?;
    }
    Ok(())
}

async fn get_own(c: &Ctx) -> Checked {
    let id = fresh();
    send(c, &id, "conformance-echo").await?;
    let r = c.rpc(Ver::V01, "tasks/get", json!({"id": id})).await?;
    let t = r.result()?;
    ensure!(
        t["id"] == id.as_str(),
        "tasks/get {id} answered {}",
        show(t)
    );
    check_v01_json(t).map_err(|m| match m {
        Miss::Fail(s) => fail(format!("tasks/get: {s}")),
        other => other,
    })
}

async fn cancel_open(c: &Ctx) -> Checked {
    let id = fresh();
    let t = send(c, &id, "conformance-echo").await?;
    if ["completed", "canceled", "failed"].contains(&state(&t)) {
        return Err(super::skip(format!(
            "the agent ended the 0.1 task at once ({})",
            state(&t)
        )));
    }
    let r = c.rpc(Ver::V01, "tasks/cancel", json!({"id": id})).await?;
    if r.error_code() == Some(-32002) {
        return Ok(());
    }
    ensure!(
        state(r.result()?) == "canceled",
        "tasks/cancel returned {}",
        r.describe()
    );
    Ok(())
}

async fn cancel_refused(c: &Ctx) -> Checked {
    let id = fresh();
    send(c, &id, "conformance-echo").await?;
    let first = c.rpc(Ver::V01, "tasks/cancel", json!({"id": id})).await?;
    if first.error_code().is_none() {
        let again = c.rpc(Ver::V01, "tasks/cancel", json!({"id": id})).await?;
        again.expect_error(&[-32002], "tasks/cancel of a canceled task")?;
    }
    let r = c
        .rpc(Ver::V01, "tasks/cancel", json!({"id": fresh()}))
        .await?;
    r.expect_error(&[-32001], "tasks/cancel of an unknown task")
}

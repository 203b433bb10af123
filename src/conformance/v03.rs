//! 0.3 methods without a version header: `message/send`, `tasks/get`, `tasks/cancel`,
//! `agent/getAuthenticatedExtendedCard`, and the 0.3 JSON spellings.

use serde_json::{Value, json};

use super::probe::msg_v03;
use super::v1::{s, walk};
use super::{Check, Checked, Ctx, Miss, Ver, fail, show};
use crate::{check, ensure};

pub fn checks() -> Vec<Check> {
    vec![
        check!(
            "R26-v03",
            Must,
            V03,
            "message/send returns a bare Task (kind task) or Message (kind message).",
            send_result_shape
        ),
        check!(
            "R27-v03",
            Must,
            V03,
            "A new Task has a non-empty id, contextId and status.state.",
            new_task_fields
        ),
        check!(
            "R28-v03",
            Must,
            V03,
            "Without a client contextId the Task or Message carries a server-generated contextId.",
            generated_context
        ),
        check!(
            "R30-v03",
            Must,
            V03,
            "A message whose taskId does not exist yields -32001.",
            unknown_task_id
        ),
        check!(
            "R33-v03",
            Must,
            V03,
            "A message to a completed task yields an error.",
            terminal_task_refused
        ),
        check!(
            "R36-v03",
            Should,
            V03,
            "With blocking absent message/send returns a terminal or interrupted task; with blocking false a non-terminal one.",
            blocking
        ),
        check!(
            "R37-v03",
            Must,
            V03,
            "A follow-up message to an input-required task with its taskId continues that task.",
            follow_up
        ),
        check!(
            "R39-v03",
            Must,
            V03,
            "Output uses lowercase/kebab enums and kind on Task, Message, Parts.",
            v03_spelling
        ),
        check!(
            "R15-v03",
            Must,
            V03,
            "Missing message, empty parts, missing messageId, or tasks/get without id yield -32602.",
            bad_params
        ),
        check!(
            "R42-v03",
            Must,
            V03,
            "tasks/get of an unknown id yields -32001.",
            get_unknown
        ),
        check!(
            "R45-v03",
            Must,
            V03,
            "tasks/get with historyLength N returns at most the N most recent messages.",
            history_n
        ),
        check!(
            "R52-v03",
            Must,
            V03,
            "tasks/cancel of a non-terminal task returns it canceled (or -32002).",
            cancel_open
        ),
        check!(
            "R53-v03",
            Must,
            V03,
            "tasks/cancel of a terminal task yields -32002, of an unknown task -32001.",
            cancel_refused
        ),
        check!(
            "R54-v03",
            Must,
            V03,
            "After a cancel tasks/get reports canceled and further messages are refused.",
            after_cancel
        ),
        check!(
            "R76-v03",
            Must,
            V03,
            "agent/getAuthenticatedExtendedCard yields -32007 when no extended card is configured.",
            extended_card
        ),
    ]
}

pub async fn send(c: &Ctx, message: Value, configuration: Option<Value>) -> Result<Value, Miss> {
    let mut params = json!({"message": message});
    if let Some(cfg) = configuration {
        params["configuration"] = cfg;
    }
    Ok(c.rpc(Ver::V03, "message/send", params)
        .await?
        .result()?
        .clone())
}

/// The result as a 0.3 Task, or a failure naming what came instead.
pub fn as_task(res: &Value) -> Result<Value, Miss> {
    ensure!(
        res["kind"] == "task" && res["id"].is_string(),
        "expected a Task (kind task), got {}",
        show(res)
    );
    Ok(res.clone())
}

pub async fn new_task(c: &Ctx, prefix: &str) -> Result<Value, Miss> {
    as_task(&send(c, msg_v03(prefix), None).await?)
}

fn state(t: &Value) -> &str {
    t["status"]["state"].as_str().unwrap_or_default()
}

const TERMINAL: [&str; 4] = ["completed", "failed", "canceled", "rejected"];

async fn send_result_shape(c: &Ctx) -> Checked {
    new_task(c, "tck-complete-task").await?;
    let res = send(c, msg_v03("tck-message-response"), None).await?;
    ensure!(
        res["kind"] == "message",
        "expected a Message (kind message), got {}",
        show(&res)
    );
    Ok(())
}

async fn new_task_fields(c: &Ctx) -> Checked {
    let t = new_task(c, "tck-complete-task").await?;
    ensure!(
        !s(&t, "id").is_empty() && !s(&t, "contextId").is_empty(),
        "empty id or contextId: {}",
        show(&t)
    );
    ensure!(!state(&t).is_empty(), "no status.state: {}", show(&t));
    Ok(())
}

async fn generated_context(c: &Ctx) -> Checked {
    let t = new_task(c, "tck-complete-task").await?;
    ensure!(!s(&t, "contextId").is_empty(), "task without contextId");
    let m = send(c, msg_v03("tck-message-response"), None).await?;
    ensure!(
        !s(&m, "contextId").is_empty(),
        "message without contextId: {}",
        show(&m)
    );
    Ok(())
}

async fn unknown_task_id(c: &Ctx) -> Checked {
    let mut m = msg_v03("tck-complete-task");
    m["taskId"] = json!(uuid::Uuid::new_v4().to_string());
    let r = c
        .rpc(Ver::V03, "message/send", json!({"message": m}))
        .await?;
    r.expect_error(&[-32001], "message/send to an unknown taskId")
}

async fn terminal_task_refused(c: &Ctx) -> Checked {
    let t = new_task(c, "tck-complete-task").await?;
    ensure!(
        state(&t) == "completed",
        "tck-complete-task ended {}",
        state(&t)
    );
    let mut m = msg_v03("tck-complete-task");
    m["taskId"] = t["id"].clone();
    let r = c
        .rpc(Ver::V03, "message/send", json!({"message": m}))
        .await?;
    ensure!(
        r.error_code().is_some(),
        "a message to a completed task was accepted: {}",
        r.describe()
    );
    Ok(())
}

async fn blocking(c: &Ctx) -> Checked {
    let t = new_task(c, "test-resubscribe-message-id").await?;
    ensure!(
        TERMINAL.contains(&state(&t)) || state(&t) == "input-required",
        "blocking absent returned {}",
        state(&t)
    );
    let res = send(
        c,
        msg_v03("test-resubscribe-message-id"),
        Some(json!({"blocking": false})),
    )
    .await?;
    let t = as_task(&res)?;
    ensure!(
        !TERMINAL.contains(&state(&t)),
        "blocking false returned {}",
        state(&t)
    );
    Ok(())
}

async fn follow_up(c: &Ctx) -> Checked {
    let t = new_task(c, "tck-input-required").await?;
    ensure!(
        state(&t) == "input-required",
        "tck-input-required ended {}",
        state(&t)
    );
    let mut m = msg_v03("tck-complete-task");
    m["taskId"] = t["id"].clone();
    m["contextId"] = t["contextId"].clone();
    let t2 = as_task(&send(c, m, None).await?)?;
    ensure!(
        t2["id"] == t["id"],
        "the follow-up answered task {} instead of {}",
        t2["id"],
        t["id"]
    );
    Ok(())
}

/// Fails unless every state is a 0.x spelling and Task/Message/Part objects carry `kind`.
pub fn check_v03_json(v: &Value) -> Checked {
    let mut bad = Vec::new();
    walk(v, &mut |k, x| match (k, x) {
        ("state", Value::String(s)) if s.starts_with("TASK_STATE_") || s.contains('_') => {
            bad.push(format!("state {s}"))
        }
        ("role", Value::String(s)) if s != "user" && s != "agent" => bad.push(format!("role {s}")),
        ("parts", Value::Array(parts)) => {
            for p in parts {
                if !["text", "file", "data"].contains(&p["kind"].as_str().unwrap_or_default()) {
                    bad.push(format!("part without kind: {}", show(p)));
                }
            }
        }
        ("message", Value::Object(m))
            if m.get("kind").and_then(Value::as_str) != Some("message") =>
        {
            bad.push("message without kind".into())
        }
        ("history", Value::Array(ms)) => {
            for m in ms {
                if m["kind"] != "message" {
                    bad.push(format!("history message without kind: {}", show(m)));
                }
            }
        }
        _ => {}
    });
    ensure!(bad.is_empty(), "{}", bad.join("; "));
    Ok(())
}

async fn v03_spelling(c: &Ctx) -> Checked {
    for prefix in [
        "tck-complete-task",
        "tck-input-required",
        "tck-message-response",
    ] {
        let res = send(c, msg_v03(prefix), None).await?;
        ensure!(
            res["kind"] == "task" || res["kind"] == "message",
            "{prefix}: result without kind: {}",
            show(&res)
        );
        check_v03_json(&res).map_err(|m| match m {
            Miss::Fail(s) => fail(format!("{prefix}: {s}")),
            other => other,
        })?;
    }
    Ok(())
}

async fn bad_params(c: &Ctx) -> Checked {
    let mut no_id = msg_v03("tck-complete-task");
    no_id.as_object_mut().map(|o| o.remove("messageId"));
    let mut no_parts = msg_v03("tck-complete-task");
    no_parts["parts"] = json!([]);
    let cases = [
        ("message/send", json!({}), "no message"),
        ("message/send", json!({"message": no_parts}), "empty parts"),
        ("message/send", json!({"message": no_id}), "no messageId"),
        ("tasks/get", json!({}), "tasks/get without id"),
    ];
    for (method, params, what) in cases {
        c.rpc(Ver::V03, method, params)
            .await?
            .expect_error(&[-32602], what)?;
    }
    Ok(())
}

async fn get_unknown(c: &Ctx) -> Checked {
    let r = c
        .rpc(
            Ver::V03,
            "tasks/get",
            json!({"id": uuid::Uuid::new_v4().to_string()}),
        )
        .await?;
    r.expect_error(&[-32001], "tasks/get of an unknown id")
}

async fn history_n(c: &Ctx) -> Checked {
    let t = new_task(c, "tck-input-required").await?;
    let mut m = msg_v03("tck-input-required");
    m["taskId"] = t["id"].clone();
    send(c, m, None).await?;
    let full = c.rpc(Ver::V03, "tasks/get", json!({"id": t["id"]})).await?;
    let all = full.result()?["history"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    ensure!(
        all.len() >= 2,
        "the task has {} history messages after two turns",
        all.len()
    );
    let r = c
        .rpc(
            Ver::V03,
            "tasks/get",
            json!({"id": t["id"], "historyLength": 1}),
        )
        .await?;
    let h = r.result()?["history"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    ensure!(
        h.len() <= 1,
        "historyLength 1 returned {} messages",
        h.len()
    );
    if let (Some(one), Some(last)) = (h.first(), all.last()) {
        ensure!(
            one["messageId"] == last["messageId"],
            "historyLength 1 returned {} but the newest is {}",
            one["messageId"],
            last["messageId"]
        );
    }
    Ok(())
}

async fn cancel_open(c: &Ctx) -> Checked {
    let t = new_task(c, "tck-input-required").await?;
    let r = c
        .rpc(Ver::V03, "tasks/cancel", json!({"id": t["id"]}))
        .await?;
    if r.error_code() == Some(-32002) {
        return Ok(());
    }
    let got = as_task(r.result()?)?;
    ensure!(
        state(&got) == "canceled",
        "cancel returned state {}",
        state(&got)
    );
    Ok(())
}

async fn cancel_refused(c: &Ctx) -> Checked {
    let t = new_task(c, "tck-complete-task").await?;
    let r = c
        .rpc(Ver::V03, "tasks/cancel", json!({"id": t["id"]}))
        .await?;
    r.expect_error(&[-32002], "tasks/cancel of a completed task")?;
    let r = c
        .rpc(
            Ver::V03,
            "tasks/cancel",
            json!({"id": uuid::Uuid::new_v4().to_string()}),
        )
        .await?;
    r.expect_error(&[-32001], "tasks/cancel of an unknown task")
}

async fn after_cancel(c: &Ctx) -> Checked {
    let t = new_task(c, "tck-input-required").await?;
    c.rpc(Ver::V03, "tasks/cancel", json!({"id": t["id"]}))
        .await?
        .result()?;
    let got = c.rpc(Ver::V03, "tasks/get", json!({"id": t["id"]})).await?;
    ensure!(
        state(got.result()?) == "canceled",
        "tasks/get after cancel: {}",
        got.describe()
    );
    let mut m = msg_v03("tck-complete-task");
    m["taskId"] = t["id"].clone();
    let r = c
        .rpc(Ver::V03, "message/send", json!({"message": m}))
        .await?;
    ensure!(
        r.error_code().is_some(),
        "a message to the canceled task was accepted: {}",
        r.describe()
    );
    Ok(())
}

async fn extended_card(c: &Ctx) -> Checked {
    let r = c
        .rpc(Ver::V03, "agent/getAuthenticatedExtendedCard", json!({}))
        .await?;
    if c.caps.extended_agent_card && r.error_code().is_none() {
        ensure!(
            r.result()?["name"].is_string(),
            "the extended card has no name: {}",
            r.describe()
        );
        return Ok(());
    }
    r.expect_error(&[-32007], "no extended card configured")
}

//! 1.0 methods: SendMessage, GetTask, CancelTask, GetExtendedAgentCard, and the
//! ProtoJSON output rules.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::probe::msg_v1;
use super::{Check, Checked, Ctx, Miss, Ver, fail, show, skip};
use crate::{check, ensure};

pub fn checks() -> Vec<Check> {
    vec![
        check!(
            "R25-v1",
            Must,
            V1,
            "SendMessage returns a result with exactly one of task or message.",
            send_result_shape
        ),
        check!(
            "R27-v1",
            Must,
            V1,
            "A new Task has a server-generated non-empty id, a non-empty contextId and a status.state.",
            new_task_fields
        ),
        check!(
            "R28-v1",
            Must,
            V1,
            "Without a client contextId the Task or Message carries the contextId the server generated.",
            generated_context
        ),
        check!(
            "R29-v1",
            Must,
            V1,
            "A client-supplied contextId the server accepts is the created task's contextId.",
            client_context_kept
        ),
        check!(
            "R30-v1",
            Must,
            V1,
            "A message whose taskId does not exist yields -32001.",
            unknown_task_id
        ),
        check!(
            "R31-v1",
            Must,
            V1,
            "A message whose taskId exists but whose contextId differs is rejected (-32602).",
            context_mismatch
        ),
        check!(
            "R32-v1",
            Must,
            V1,
            "A message with only taskId is processed in the task's context.",
            task_id_only
        ),
        check!(
            "R33-v1",
            Must,
            V1,
            "A message to a completed task yields -32004.",
            terminal_task_refused
        ),
        check!(
            "R34-v1",
            Must,
            V1,
            "Without returnImmediately SendMessage returns only when the task is terminal or interrupted, with all artifacts.",
            blocking_send
        ),
        check!(
            "R35-v1",
            Must,
            V1,
            "With returnImmediately SendMessage returns promptly with a non-terminal task.",
            return_immediately
        ),
        check!(
            "R37-v1",
            Must,
            V1,
            "A follow-up message to an input-required task with its taskId continues that task.",
            follow_up
        ),
        check!(
            "R38-v1",
            May,
            V1,
            "A part of a media type the agent does not support is accepted or refused with -32005.",
            unsupported_media
        ),
        check!(
            "R39-v1",
            Must,
            V1,
            "Output uses camelCase names, TASK_STATE_*/ROLE_* enum names and no kind.",
            proto_json_output
        ),
        check!(
            "R40-v1",
            Must,
            V1,
            "Timestamps are RFC 3339 UTC with Z.",
            timestamps
        ),
        check!(
            "R41-v1",
            Should,
            V1,
            "snake_case field names and unknown fields in requests are accepted.",
            lenient_input
        ),
        check!(
            "R15-v1",
            Must,
            V1,
            "Missing message, empty parts, missing messageId, or GetTask without id yield -32602.",
            bad_params
        ),
    ]
}

/// `SendMessage` with `message` and optional `configuration`; the `result`.
pub async fn send(c: &Ctx, message: Value, configuration: Option<Value>) -> Result<Value, Miss> {
    let mut params = json!({"message": message});
    if let Some(cfg) = configuration {
        params["configuration"] = cfg;
    }
    let r = c.rpc(Ver::V1, "SendMessage", params).await?;
    Ok(r.result()?.clone())
}

/// A task created by a message whose id starts with `prefix`.
pub async fn new_task(c: &Ctx, prefix: &str) -> Result<Value, Miss> {
    let res = send(c, msg_v1(prefix), None).await?;
    task_of(&res)
}

/// `result.task`, or a failure naming what came instead.
pub fn task_of(result: &Value) -> Result<Value, Miss> {
    let t = result
        .get("task")
        .ok_or_else(|| fail(format!("expected result.task, got {}", show(result))))?;
    ensure!(t["id"].is_string(), "task without id: {}", show(t));
    Ok(t.clone())
}

pub fn state(task: &Value) -> &str {
    task["status"]["state"].as_str().unwrap_or_default()
}

pub fn s(v: &Value, k: &str) -> String {
    v[k].as_str().unwrap_or_default().to_string()
}

const TERMINAL: [&str; 4] = [
    "TASK_STATE_COMPLETED",
    "TASK_STATE_FAILED",
    "TASK_STATE_CANCELED",
    "TASK_STATE_REJECTED",
];

async fn send_result_shape(c: &Ctx) -> Checked {
    for (prefix, want) in [
        ("tck-complete-task", "task"),
        ("tck-message-response", "message"),
    ] {
        let res = send(c, msg_v1(prefix), None).await?;
        let obj = res
            .as_object()
            .ok_or_else(|| fail(format!("result is not an object: {res}")))?;
        let members: Vec<&String> = obj
            .keys()
            .filter(|k| *k == "task" || *k == "message")
            .collect();
        ensure!(
            members.len() == 1,
            "{prefix}: result has {} of task/message: {}",
            members.len(),
            show(&res)
        );
        ensure!(
            res.get(want).is_some(),
            "{prefix}: expected result.{want}: {}",
            show(&res)
        );
    }
    Ok(())
}

async fn new_task_fields(c: &Ctx) -> Checked {
    let t = new_task(c, "tck-complete-task").await?;
    ensure!(!s(&t, "id").is_empty(), "empty id");
    ensure!(
        !s(&t, "contextId").is_empty(),
        "empty contextId: {}",
        show(&t)
    );
    ensure!(!state(&t).is_empty(), "no status.state: {}", show(&t));
    Ok(())
}

async fn generated_context(c: &Ctx) -> Checked {
    let t = new_task(c, "tck-complete-task").await?;
    ensure!(!s(&t, "contextId").is_empty(), "task without contextId");
    let res = send(c, msg_v1("tck-message-response"), None).await?;
    ensure!(
        !s(&res["message"], "contextId").is_empty(),
        "message without contextId: {}",
        show(&res)
    );
    Ok(())
}

async fn client_context_kept(c: &Ctx) -> Checked {
    let ctx_id = uuid::Uuid::new_v4().to_string();
    let mut m = msg_v1("tck-complete-task");
    m["contextId"] = json!(ctx_id);
    let r = c.rpc(Ver::V1, "SendMessage", json!({"message": m})).await?;
    if r.error_code().is_some() {
        return Err(skip(format!(
            "the server refused a client contextId: {}",
            r.describe()
        )));
    }
    let t = task_of(r.result()?)?;
    ensure!(
        s(&t, "contextId") == ctx_id,
        "sent contextId {ctx_id}, task has {}",
        t["contextId"]
    );
    Ok(())
}

async fn unknown_task_id(c: &Ctx) -> Checked {
    let mut m = msg_v1("tck-complete-task");
    m["taskId"] = json!(uuid::Uuid::new_v4().to_string());
    let r = c.rpc(Ver::V1, "SendMessage", json!({"message": m})).await?;
    r.expect_error(&[-32001], "SendMessage to an unknown taskId")
}

async fn context_mismatch(c: &Ctx) -> Checked {
    let t = new_task(c, "tck-input-required").await?;
    let mut m = msg_v1("tck-complete-task");
    m["taskId"] = t["id"].clone();
    m["contextId"] = json!(uuid::Uuid::new_v4().to_string());
    let r = c.rpc(Ver::V1, "SendMessage", json!({"message": m})).await?;
    r.expect_error(&[-32602], "taskId with a different contextId")
}

async fn task_id_only(c: &Ctx) -> Checked {
    let t = new_task(c, "tck-input-required").await?;
    let mut m = msg_v1("tck-input-required");
    m["taskId"] = t["id"].clone();
    let t2 = task_of(&send(c, m, None).await?)?;
    ensure!(
        t2["contextId"] == t["contextId"],
        "context {} became {}",
        t["contextId"],
        t2["contextId"]
    );
    Ok(())
}

async fn terminal_task_refused(c: &Ctx) -> Checked {
    let t = new_task(c, "tck-complete-task").await?;
    ensure!(
        state(&t) == "TASK_STATE_COMPLETED",
        "tck-complete-task ended {}",
        state(&t)
    );
    let mut m = msg_v1("tck-complete-task");
    m["taskId"] = t["id"].clone();
    let r = c.rpc(Ver::V1, "SendMessage", json!({"message": m})).await?;
    r.expect_error(&[-32004], "SendMessage to a completed task")
}

async fn blocking_send(c: &Ctx) -> Checked {
    let t = new_task(c, "tck-artifact-text").await?;
    ensure!(
        TERMINAL.contains(&state(&t)),
        "blocking send returned {}",
        state(&t)
    );
    let arts = t["artifacts"].as_array().map_or(0, Vec::len);
    ensure!(
        arts >= 1,
        "the completed task came back without its artifact: {}",
        show(&t)
    );
    // An agent that works for seconds: a blocking send waits for it.
    let t = new_task(c, "test-resubscribe-message-id").await?;
    ensure!(
        TERMINAL.contains(&state(&t)),
        "blocking send of a slow task returned {}",
        state(&t)
    );
    Ok(())
}

async fn return_immediately(c: &Ctx) -> Checked {
    let started = Instant::now();
    let res = send(
        c,
        msg_v1("test-resubscribe-message-id"),
        Some(json!({"returnImmediately": true})),
    )
    .await?;
    let took = started.elapsed();
    let t = task_of(&res)?;
    ensure!(
        !TERMINAL.contains(&state(&t)),
        "returned a terminal task ({})",
        state(&t)
    );
    ensure!(
        took < Duration::from_secs(3),
        "took {} ms",
        took.as_millis()
    );
    Ok(())
}

async fn follow_up(c: &Ctx) -> Checked {
    let t = new_task(c, "tck-input-required").await?;
    ensure!(
        state(&t) == "TASK_STATE_INPUT_REQUIRED",
        "tck-input-required ended {}",
        state(&t)
    );
    let mut m = msg_v1("tck-complete-task");
    m["taskId"] = t["id"].clone();
    m["contextId"] = t["contextId"].clone();
    let t2 = task_of(&send(c, m, None).await?)?;
    ensure!(
        t2["id"] == t["id"],
        "the follow-up created task {} instead of continuing {}",
        t2["id"],
        t["id"]
    );
    Ok(())
}

async fn unsupported_media(c: &Ctx) -> Checked {
    let mut m = msg_v1("tck-complete-task");
    m["parts"] = json!([{"raw": "AAEC", "mediaType": "application/x-a2a-conformance-unknown"}]);
    let r = c.rpc(Ver::V1, "SendMessage", json!({"message": m})).await?;
    match r.error_code() {
        None | Some(-32005) => Ok(()),
        Some(_) => Err(fail(format!(
            "neither accepted nor -32005: {}",
            r.describe()
        ))),
    }
}

/// Every object key in `v`, outside free-form `metadata`/`data`, with its path.
fn keys(v: &Value, path: &str, out: &mut Vec<(String, String)>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                out.push((path.to_string(), k.clone()));
                if k != "metadata" && k != "data" && k != "params" {
                    keys(x, &format!("{path}.{k}"), out);
                }
            }
        }
        Value::Array(a) => a.iter().for_each(|x| keys(x, path, out)),
        _ => {}
    }
}

/// Fails on `kind`, snake_case keys, or non-1.0 enum spellings anywhere in `v`.
pub fn check_proto_json(v: &Value) -> Checked {
    let mut all = Vec::new();
    keys(v, "", &mut all);
    for (path, k) in &all {
        ensure!(k != "kind", "`kind` at {path}");
        ensure!(!k.contains('_'), "snake_case key `{k}` at {path}");
    }
    let mut bad = Vec::new();
    walk(v, &mut |k, x| {
        let want = match k {
            "state" => "TASK_STATE_",
            "role" => "ROLE_",
            _ => return,
        };
        if let Some(s) = x.as_str()
            && !s.starts_with(want)
        {
            bad.push(format!("{k}: {s}"));
        }
    });
    ensure!(bad.is_empty(), "non-1.0 enum values: {}", bad.join(", "));
    Ok(())
}

/// Calls `f(key, value)` for every member of every object in `v`.
pub fn walk(v: &Value, f: &mut dyn FnMut(&str, &Value)) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                f(k, x);
                if k != "metadata" && k != "data" {
                    walk(x, f);
                }
            }
        }
        Value::Array(a) => a.iter().for_each(|x| walk(x, f)),
        _ => {}
    }
}

async fn proto_json_output(c: &Ctx) -> Checked {
    for prefix in [
        "tck-complete-task",
        "tck-artifact-file",
        "tck-message-response",
    ] {
        let res = send(c, msg_v1(prefix), None).await?;
        check_proto_json(&res).map_err(|m| match m {
            Miss::Fail(s) => fail(format!("{prefix}: {s}")),
            other => other,
        })?;
    }
    Ok(())
}

async fn timestamps(c: &Ctx) -> Checked {
    let t = new_task(c, "tck-complete-task").await?;
    let mut found = Vec::new();
    walk(&t, &mut |k, x| {
        if k == "timestamp" {
            found.push(x.clone());
        }
    });
    ensure!(
        !found.is_empty(),
        "the task has no status.timestamp to check"
    );
    for ts in found {
        let s = ts.as_str().unwrap_or_default();
        ensure!(
            chrono::DateTime::parse_from_rfc3339(s).is_ok() && s.ends_with('Z'),
            "timestamp {ts} is not RFC 3339 UTC with Z"
        );
    }
    Ok(())
}

async fn lenient_input(c: &Ctx) -> Checked {
    let m = json!({"message_id": super::probe::mid("tck-complete-task"), "role": "ROLE_USER",
                   "parts": [{"text": "hello"}], "someFutureField": 1});
    let r = c
        .rpc(
            Ver::V1,
            "SendMessage",
            json!({"message": m, "anotherUnknown": true}),
        )
        .await?;
    r.result()?;
    Ok(())
}

async fn bad_params(c: &Ctx) -> Checked {
    let mut no_id = msg_v1("tck-complete-task");
    no_id.as_object_mut().map(|o| o.remove("messageId"));
    let mut no_parts = msg_v1("tck-complete-task");
    no_parts["parts"] = json!([]);
    let cases = [
        ("SendMessage", json!({}), "no message"),
        ("SendMessage", json!({"message": no_parts}), "empty parts"),
        ("SendMessage", json!({"message": no_id}), "no messageId"),
        (
            "SendMessage",
            json!({"message": "hello"}),
            "message is a string",
        ),
        ("GetTask", json!({}), "GetTask without id"),
    ];
    for (method, params, what) in cases {
        c.rpc(Ver::V1, method, params)
            .await?
            .expect_error(&[-32602], what)?;
    }
    Ok(())
}

//! Retries marked by an `Idempotency-Key` header (IETF httpapi draft), not by a reused
//! messageId: the same key with the same request answers as the first did and runs the
//! agent once; the same key with another request is refused; without a key, a messageId
//! sent again is just another message (clients, the official kit among them, reuse them).
//! Each check counts the tasks of a fresh context with `ListTasks`.

use serde_json::{Value, json};

use super::probe::msg_v1;
use super::v1::task_of;
use super::{Check, Checked, Ctx, Miss, Ver, fail, show};
use crate::{check, ensure};

pub fn checks() -> Vec<Check> {
    vec![
        check!(
            "E40-v1",
            Should,
            V1,
            "A SendMessage retried with the same Idempotency-Key and the same params (another JSON-RPC id) returns the first task; the agent runs once.",
            same_key_same_request
        ),
        check!(
            "E40b-v1",
            Should,
            V1,
            "The same Idempotency-Key with different params yields -32602 naming the key.",
            same_key_other_request
        ),
        check!(
            "E40c-v1",
            Must,
            V1,
            "Without an Idempotency-Key, a messageId sent again is a new message: it creates a new task.",
            reused_message_id_without_key
        ),
    ]
}

/// The params of a `SendMessage` of a tck-complete-task message in `context`.
fn params(message_id: &str, context: &str) -> Value {
    let mut m = msg_v1("tck-complete-task");
    m["messageId"] = json!(message_id);
    m["contextId"] = json!(context);
    json!({"message": m})
}

async fn send(c: &Ctx, params: &Value, key: Option<&str>) -> Result<super::probe::Reply, Miss> {
    let body = c.body("SendMessage", params.clone());
    let headers: Vec<(&str, &str)> = key.map(|k| ("Idempotency-Key", k)).into_iter().collect();
    c.post_json(Ver::V1, &body, &headers).await
}

/// How many tasks `context` has.
async fn tasks_in(c: &Ctx, context: &str) -> Result<u64, Miss> {
    let r = c
        .rpc(Ver::V1, "ListTasks", json!({"contextId": context}))
        .await?;
    let res = r.result()?;
    res["totalSize"]
        .as_u64()
        .or_else(|| res["tasks"].as_array().map(|t| t.len() as u64))
        .ok_or_else(|| fail(format!("ListTasks without totalSize: {}", show(res))))
}

fn fresh() -> String {
    uuid::Uuid::new_v4().to_string()
}

async fn same_key_same_request(c: &Ctx) -> Checked {
    let (key, context) = (fresh(), fresh());
    let p = params(&format!("tck-complete-task-{}", fresh()), &context);
    let first = task_of(send(c, &p, Some(&key)).await?.result()?)?;
    let again = task_of(send(c, &p, Some(&key)).await?.result()?)?;
    ensure!(
        first["id"] == again["id"],
        "the retry returned task {} instead of the first, {}",
        again["id"],
        first["id"]
    );
    let n = tasks_in(c, &context).await?;
    ensure!(
        n == 1,
        "the context has {n} tasks after one send and its retry"
    );
    Ok(())
}

async fn same_key_other_request(c: &Ctx) -> Checked {
    let (key, context) = (fresh(), fresh());
    let p = params(&format!("tck-complete-task-{}", fresh()), &context);
    send(c, &p, Some(&key)).await?.result()?;
    let other = params(&format!("tck-complete-task-{}", fresh()), &context);
    let r = send(c, &other, Some(&key)).await?;
    r.expect_error(&[-32602], "the same key with another message")?;
    let message = r.json.as_ref().map(|v| show(&v["error"]["message"]));
    ensure!(
        message.as_ref().is_some_and(|m| m.contains(&key)),
        "the error does not name the key {key}: {}",
        r.describe()
    );
    Ok(())
}

async fn reused_message_id_without_key(c: &Ctx) -> Checked {
    let context = fresh();
    let p = params(&format!("tck-complete-task-{}", fresh()), &context);
    let first = task_of(send(c, &p, None).await?.result()?)?;
    let again = task_of(send(c, &p, None).await?.result()?)?;
    ensure!(
        first["id"] != again["id"],
        "the second send of messageId {} returned the first task {} (a messageId is not a retry key)",
        p["message"]["messageId"],
        first["id"]
    );
    let n = tasks_in(c, &context).await?;
    ensure!(n == 2, "the context has {n} tasks after two sends");
    Ok(())
}

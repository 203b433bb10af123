//! 1.0 task reads and changes: GetTask (history), CancelTask, GetExtendedAgentCard.

use serde_json::{Value, json};

use super::probe::msg_v1;
use super::v1::{new_task, s, send, state};
use super::{Check, Checked, Ctx, Miss, Ver, show, skip};
use crate::{check, ensure};

pub fn checks() -> Vec<Check> {
    vec![
        check!(
            "R42-v1",
            Must,
            V1,
            "GetTask of an unknown id yields -32001.",
            get_unknown
        ),
        check!(
            "R43-v1",
            Should,
            V1,
            "GetTask of another principal's task yields -32001.",
            other_principal
        ),
        check!(
            "R44-v1",
            Must,
            V1,
            "GetTask with historyLength 0 returns no history messages.",
            history_zero
        ),
        check!(
            "R45-v1",
            Must,
            V1,
            "GetTask with historyLength N returns at most the N most recent messages.",
            history_n
        ),
        check!(
            "R46-v1",
            Must,
            V1,
            "A negative historyLength yields -32602.",
            history_negative
        ),
        check!(
            "R52-v1",
            Must,
            V1,
            "CancelTask of a non-terminal task returns it in TASK_STATE_CANCELED (or -32002).",
            cancel_open
        ),
        check!(
            "R53-v1",
            Must,
            V1,
            "CancelTask of a terminal task yields -32002, of an unknown task -32001.",
            cancel_refused
        ),
        check!(
            "R54-v1",
            Must,
            V1,
            "After a cancel GetTask reports TASK_STATE_CANCELED and further messages are refused.",
            after_cancel
        ),
        check!(
            "R76-v1",
            Must,
            V1,
            "GetExtendedAgentCard yields -32004 when capabilities.extendedAgentCard is not true, -32007 when declared but not configured.",
            extended_card
        ),
        check!(
            "R77-v1",
            Must,
            V1,
            "GetExtendedAgentCard requires the authentication the card's securityRequirements name.",
            extended_card_auth
        ),
    ]
}
async fn get_unknown(c: &Ctx) -> Checked {
    let r = c
        .rpc(
            Ver::V1,
            "GetTask",
            json!({"id": uuid::Uuid::new_v4().to_string()}),
        )
        .await?;
    r.expect_error(&[-32001], "GetTask of an unknown id")
}

async fn other_principal(_: &Ctx) -> Checked {
    Err(skip("needs two client identities; the runner has one"))
}

/// A task with at least three history messages: two user turns on an open task.
async fn task_with_history(c: &Ctx) -> Result<Value, Miss> {
    let t = new_task(c, "tck-input-required").await?;
    let mut m = msg_v1("tck-input-required");
    m["taskId"] = t["id"].clone();
    send(c, m, None).await?;
    get(c, &s(&t, "id"), None).await
}

pub async fn get(c: &Ctx, id: &str, history: Option<i64>) -> Result<Value, Miss> {
    let mut p = json!({"id": id});
    if let Some(h) = history {
        p["historyLength"] = json!(h);
    }
    Ok(c.rpc(Ver::V1, "GetTask", p).await?.result()?.clone())
}

async fn history_zero(c: &Ctx) -> Checked {
    let t = task_with_history(c).await?;
    let got = get(c, &s(&t, "id"), Some(0)).await?;
    let n = got["history"].as_array().map_or(0, Vec::len);
    ensure!(n == 0, "historyLength 0 returned {n} messages");
    Ok(())
}

async fn history_n(c: &Ctx) -> Checked {
    let full = task_with_history(c).await?;
    let all = full["history"].as_array().cloned().unwrap_or_default();
    ensure!(
        all.len() >= 2,
        "the task has {} history messages after two turns",
        all.len()
    );
    let got = get(c, &s(&full, "id"), Some(1)).await?;
    let h = got["history"].as_array().cloned().unwrap_or_default();
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

async fn history_negative(c: &Ctx) -> Checked {
    let t = new_task(c, "tck-complete-task").await?;
    let r = c
        .rpc(
            Ver::V1,
            "GetTask",
            json!({"id": t["id"], "historyLength": -1}),
        )
        .await?;
    r.expect_error(&[-32602], "historyLength -1")
}

async fn cancel(c: &Ctx, id: &Value) -> Result<super::probe::Reply, Miss> {
    c.rpc(Ver::V1, "CancelTask", json!({"id": id})).await
}

async fn cancel_open(c: &Ctx) -> Checked {
    let t = new_task(c, "tck-input-required").await?;
    let r = cancel(c, &t["id"]).await?;
    if r.error_code() == Some(-32002) {
        return Ok(());
    }
    let got = r.result()?;
    ensure!(
        state(got) == "TASK_STATE_CANCELED",
        "cancel returned {}",
        show(got)
    );
    Ok(())
}

async fn cancel_refused(c: &Ctx) -> Checked {
    let t = new_task(c, "tck-complete-task").await?;
    cancel(c, &t["id"])
        .await?
        .expect_error(&[-32002], "CancelTask of a completed task")?;
    cancel(c, &json!(uuid::Uuid::new_v4().to_string()))
        .await?
        .expect_error(&[-32001], "CancelTask of an unknown task")
}

async fn after_cancel(c: &Ctx) -> Checked {
    let t = new_task(c, "tck-input-required").await?;
    cancel(c, &t["id"]).await?.result()?;
    let got = get(c, &s(&t, "id"), None).await?;
    ensure!(
        state(&got) == "TASK_STATE_CANCELED",
        "GetTask after cancel: {}",
        state(&got)
    );
    let mut m = msg_v1("tck-complete-task");
    m["taskId"] = t["id"].clone();
    let r = c.rpc(Ver::V1, "SendMessage", json!({"message": m})).await?;
    ensure!(
        r.error_code().is_some(),
        "a message to the canceled task was accepted: {}",
        r.describe()
    );
    Ok(())
}

async fn extended_card(c: &Ctx) -> Checked {
    let r = c.rpc(Ver::V1, "GetExtendedAgentCard", json!({})).await?;
    if !c.caps.extended_agent_card {
        return r.expect_error(&[-32004], "extendedAgentCard not declared");
    }
    if r.error_code().is_some() {
        return r.expect_error(&[-32007], "extended card declared");
    }
    ensure!(
        r.result()?["name"].is_string(),
        "the extended card has no name: {}",
        r.describe()
    );
    Ok(())
}

async fn extended_card_auth(c: &Ctx) -> Checked {
    let card = c.card()?;
    if !c.caps.extended_agent_card {
        return Err(skip("extendedAgentCard not declared"));
    }
    let secured = card["securityRequirements"]
        .as_array()
        .is_some_and(|a| !a.is_empty());
    if !secured {
        return Err(skip("the card has no securityRequirements"));
    }
    let r = c.rpc(Ver::V1, "GetExtendedAgentCard", json!({})).await?;
    ensure!(
        r.status == 401 || r.status == 403 || r.error_code().is_some(),
        "an unauthenticated call got the extended card: {}",
        r.describe()
    );
    Ok(())
}

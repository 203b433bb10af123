//! What the server POSTs to a webhook: body, content type, credentials; that it refuses
//! private webhook URLs; that a deleted config gets nothing.
//!
//! The receiver is the runner's own, on 127.0.0.1. A server that refuses loopback
//! webhooks with -32602 (its SSRF rules; ours unless started with
//! `--push-allow-private-networks`) cannot be observed delivering, so those checks skip.

use std::time::Duration;

use serde_json::{Value, json};

use super::hooks::Delivery;
use super::probe::{msg_v1, msg_v03};
use super::push::{need_push, open_task};
use super::{Check, Checked, Ctx, Miss, Ver, fail, show, skip};
use crate::{check, ensure};

pub fn checks() -> Vec<Check> {
    vec![
        check!(
            "R72-v1",
            Must,
            V1,
            "When a task with a push config ends, the server POSTs a StreamResponse JSON with Content-Type application/a2a+json to the webhook.",
            delivery_v1
        ),
        check!(
            "R72-v03",
            Should,
            V03,
            "When a 0.3 task with a push config ends, the server POSTs the Task JSON to the webhook.",
            delivery_v03
        ),
        check!(
            "R73-v1",
            Must,
            V1,
            "The webhook request carries Authorization: <scheme> <credentials> from the config's authentication.",
            authorization_v1
        ),
        check!(
            "R73-v03",
            Should,
            V03,
            "The webhook request carries the config's token in X-A2A-Notification-Token.",
            token_v03
        ),
        check!(
            "R74",
            Should,
            All,
            "Webhook URLs resolving to loopback or private addresses (127.0.0.1, ::1, 10.x, the 169.254.169.254 metadata address) are refused at registration with -32602.",
            private_refused
        ),
        check!(
            "R74b-v1",
            Should,
            V1,
            "A webhook whose host name does not resolve yet (an RFC 6761 .invalid name) is accepted at registration, by CreateTaskPushNotificationConfig and inline in SendMessage: whether it resolves to a safe address is for delivery time.",
            unresolvable_accepted
        ),
        check!(
            "R75-v1",
            Must,
            V1,
            "After a config is deleted no notification is sent to it.",
            deleted_config_silent
        ),
    ]
}

/// How long a delivery may take to arrive.
const DELIVERY_WAIT: Duration = Duration::from_secs(15);
const SECRET: &str = "conf-secret-credentials";

fn loopback_refused() -> Miss {
    skip(
        "the server refuses loopback webhook URLs (-32602), so delivery cannot be observed; start it with private networks allowed to run this",
    )
}

/// Registers a 1.0 config with the receiver's URL on an open task, completes the task,
/// and returns the first delivery.
async fn deliver_v1(c: &Ctx, extra: Value) -> Result<Delivery, Miss> {
    need_push(c)?;
    let task = open_task(c, Ver::V1).await?;
    let url = c.hooks.url(&uuid::Uuid::new_v4().to_string());
    let mut p = json!({"taskId": task, "url": url, "token": "conf-token"});
    if let (Some(p), Some(e)) = (p.as_object_mut(), extra.as_object()) {
        p.extend(e.clone());
    }
    let r = c
        .rpc(Ver::V1, "CreateTaskPushNotificationConfig", p)
        .await?;
    if r.error_code() == Some(-32602) {
        return Err(loopback_refused());
    }
    r.result()?;
    let mut m = msg_v1("tck-complete-task");
    m["taskId"] = task;
    super::v1::send(c, m, None).await?;
    c.hooks.wait(&url, DELIVERY_WAIT).await.ok_or_else(|| {
        fail(format!(
            "nothing arrived at the webhook within {} s",
            DELIVERY_WAIT.as_secs()
        ))
    })
}

/// Registers a 0.3 config on an open task, completes the task, and returns every
/// delivery that arrived by a short while after the first.
async fn deliver_v03(c: &Ctx) -> Result<(Value, Vec<Delivery>), Miss> {
    need_push(c)?;
    let task = open_task(c, Ver::V03).await?;
    let url = c.hooks.url(&uuid::Uuid::new_v4().to_string());
    let p = json!({"taskId": task, "pushNotificationConfig": {"id": "conf-d", "url": url, "token": "conf-token"}});
    let r = c
        .rpc(Ver::V03, "tasks/pushNotificationConfig/set", p)
        .await?;
    if r.error_code() == Some(-32602) {
        return Err(loopback_refused());
    }
    r.result()?;
    let mut m = msg_v03("tck-complete-task");
    m["taskId"] = task.clone();
    super::v03::send(c, m, None).await?;
    let first = c.hooks.wait(&url, DELIVERY_WAIT).await;
    ensure!(
        first.is_some(),
        "nothing arrived at the webhook within {} s",
        DELIVERY_WAIT.as_secs()
    );
    // Servers may notify on every change; the terminal one comes last.
    tokio::time::sleep(Duration::from_millis(500)).await;
    Ok((task, c.hooks.deliveries(&url)))
}

fn body_json(d: &Delivery) -> Result<Value, Miss> {
    serde_json::from_slice(&d.body).map_err(|e| {
        fail(format!(
            "the webhook body is not JSON ({e}): {:?}",
            String::from_utf8_lossy(&d.body)
        ))
    })
}

async fn delivery_v1(c: &Ctx) -> Checked {
    let d = deliver_v1(c, json!({})).await?;
    ensure!(
        d.method == "POST",
        "the webhook got {} instead of POST",
        d.method
    );
    let ct = d.header("content-type").unwrap_or_default();
    ensure!(
        ct.starts_with("application/a2a+json"),
        "Content-Type is `{ct}`"
    );
    let body = body_json(&d)?;
    let members = ["task", "message", "statusUpdate", "artifactUpdate"];
    let n = members.iter().filter(|m| body.get(**m).is_some()).count();
    ensure!(
        n == 1 && body.get("jsonrpc").is_none(),
        "not a StreamResponse: {}",
        show(&body)
    );
    Ok(())
}

async fn delivery_v03(c: &Ctx) -> Checked {
    let (task, got) = deliver_v03(c).await?;
    let mut bodies = Vec::new();
    for d in &got {
        ensure!(
            d.method == "POST",
            "the webhook got {} instead of POST",
            d.method
        );
        let body = body_json(d)?;
        if body["kind"] == "task" && body["id"] == task {
            return Ok(());
        }
        bodies.push(show(&body));
    }
    Err(fail(format!(
        "no delivery is the Task {task}: {}",
        bodies.join(" | ")
    )))
}

async fn authorization_v1(c: &Ctx) -> Checked {
    let d = deliver_v1(
        c,
        json!({"authentication": {"scheme": "Bearer", "credentials": SECRET}}),
    )
    .await?;
    let auth = d.header("authorization").unwrap_or_default();
    ensure!(
        auth == format!("Bearer {SECRET}"),
        "Authorization is `{auth}`, want `Bearer {SECRET}`"
    );
    Ok(())
}

async fn token_v03(c: &Ctx) -> Checked {
    let (_, got) = deliver_v03(c).await?;
    let token = got[0]
        .header("x-a2a-notification-token")
        .unwrap_or_default();
    ensure!(
        token == "conf-token",
        "X-A2A-Notification-Token is `{token}`"
    );
    Ok(())
}

async fn private_refused(c: &Ctx) -> Checked {
    need_push(c)?;
    let task = open_task(c, Ver::V1).await?;
    let p = json!({"taskId": task, "url": "http://127.0.0.1:9/a2a-conformance"});
    let r = c
        .rpc(Ver::V1, "CreateTaskPushNotificationConfig", p)
        .await?;
    if r.error_code().is_none() {
        return Err(skip(
            "the server accepts loopback webhooks (started with private networks allowed?)",
        ));
    }
    r.expect_error(&[-32602], "a loopback webhook URL")?;
    for url in [
        "http://[::1]:9/a2a-conformance",
        "http://10.0.0.7/a2a-conformance",
        "http://169.254.169.254/latest/meta-data/",
    ] {
        let p = json!({"taskId": task, "url": url});
        c.rpc(Ver::V1, "CreateTaskPushNotificationConfig", p)
            .await?
            .expect_error(&[-32602], url)?;
    }
    Ok(())
}

/// RFC 6761: `.invalid` names never resolve.
const UNRESOLVABLE_HOOK: &str = "https://hook.a2a-conformance.invalid/notify";

async fn unresolvable_accepted(c: &Ctx) -> Checked {
    need_push(c)?;
    let task = open_task(c, Ver::V1).await?;
    let p = json!({"taskId": task, "url": UNRESOLVABLE_HOOK});
    let r = c
        .rpc(Ver::V1, "CreateTaskPushNotificationConfig", p)
        .await?;
    ensure!(
        r.error_code().is_none(),
        "CreateTaskPushNotificationConfig refused {UNRESOLVABLE_HOOK}: {}",
        r.describe()
    );
    r.result()?;
    // Inline, on a task that stays open: nothing is due for delivery.
    let p = json!({"message": msg_v1("tck-input-required"),
                   "configuration": {"taskPushNotificationConfig": {"url": UNRESOLVABLE_HOOK}}});
    let r = c.rpc(Ver::V1, "SendMessage", p).await?;
    ensure!(
        r.error_code().is_none(),
        "SendMessage with an inline config on {UNRESOLVABLE_HOOK} was refused: {}",
        r.describe()
    );
    let task = super::v1::task_of(r.result()?)?;
    let r = c
        .rpc(
            Ver::V1,
            "ListTaskPushNotificationConfigs",
            json!({"taskId": task["id"]}),
        )
        .await?;
    let listed = r.result()?["configs"]
        .as_array()
        .is_some_and(|a| a.iter().any(|cfg| cfg["url"] == UNRESOLVABLE_HOOK));
    ensure!(listed, "the inline config is not listed: {}", r.describe());
    Ok(())
}

async fn deleted_config_silent(c: &Ctx) -> Checked {
    need_push(c)?;
    let task = open_task(c, Ver::V1).await?;
    let url = c.hooks.url(&uuid::Uuid::new_v4().to_string());
    let r = c
        .rpc(
            Ver::V1,
            "CreateTaskPushNotificationConfig",
            json!({"taskId": task, "url": url}),
        )
        .await?;
    if r.error_code() == Some(-32602) {
        return Err(loopback_refused());
    }
    let cfg = r.result()?.clone();
    let del = json!({"taskId": task, "id": cfg["id"]});
    c.rpc(Ver::V1, "DeleteTaskPushNotificationConfig", del)
        .await?
        .result()?;
    let mut m = msg_v1("tck-complete-task");
    m["taskId"] = task;
    super::v1::send(c, m, None).await?;
    let got = c.hooks.wait(&url, Duration::from_secs(3)).await;
    ensure!(
        got.is_none(),
        "a deleted config got a delivery: {:?}",
        got.map(|d| String::from_utf8_lossy(&d.body).into_owned())
    );
    Ok(())
}

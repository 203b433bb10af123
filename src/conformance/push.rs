//! Push-notification configs: create/set, get, list, delete, inline registration, and
//! the -32003 answer when the card does not declare push notifications.
//!
//! Configs point at the runner's own receiver; a server that refuses loopback webhooks
//! (-32602, as SSRF rules say it should) gets a public IP literal instead, which it never
//! calls because these tasks stay open.

use serde_json::{Value, json};

use super::probe::{Reply, msg_v1};
use super::{Check, Checked, Ctx, Miss, Ver, show, skip};
use crate::{check, ensure};

pub fn checks() -> Vec<Check> {
    vec![
        check!(
            "R66-v1",
            Must,
            V1,
            "Without capabilities.pushNotifications every 1.0 push-config method yields -32003.",
            off_v1
        ),
        check!(
            "R66-v03",
            Must,
            V03,
            "Without capabilities.pushNotifications every tasks/pushNotificationConfig/* method yields -32003.",
            off_v03
        ),
        check!(
            "R66-v01",
            Should,
            V01,
            "Without capabilities.pushNotifications tasks/pushNotification/set and get yield -32003.",
            off_v01
        ),
        check!(
            "R67-v1",
            Must,
            V1,
            "CreateTaskPushNotificationConfig returns the config with a non-empty id; GetTaskPushNotificationConfig {taskId, id} returns it.",
            create_get_v1
        ),
        check!(
            "R68-v1",
            Must,
            V1,
            "Two configs with different ids on one task both appear in ListTaskPushNotificationConfigs {configs}.",
            list_v1
        ),
        check!(
            "R69-v1",
            Must,
            V1,
            "DeleteTaskPushNotificationConfig removes the config (get then yields -32001) and is idempotent.",
            delete_v1
        ),
        check!(
            "R70-v1",
            Must,
            V1,
            "1.0 push-config methods on an unknown task yield -32001.",
            unknown_task_v1
        ),
        check!(
            "R71-v1",
            Must,
            V1,
            "A configuration.taskPushNotificationConfig sent with SendMessage is listed for the created task.",
            inline_v1
        ),
    ]
}

/// A public address for configs that are never delivered (their tasks stay open).
pub const PUBLIC_HOOK: &str = "https://1.1.1.1/a2a-conformance-hook";

pub fn need_push(c: &Ctx) -> Checked {
    if c.caps.push_notifications {
        Ok(())
    } else {
        Err(skip("capabilities.pushNotifications is not true (see R66)"))
    }
}

fn need_no_push(c: &Ctx) -> Checked {
    if c.caps.push_notifications {
        Err(skip("capabilities.pushNotifications is true"))
    } else {
        Ok(())
    }
}

/// An open task of `ver` (input-required), by id.
pub async fn open_task(c: &Ctx, ver: Ver) -> Result<Value, Miss> {
    match ver {
        Ver::V1 => Ok(super::v1::new_task(c, "tck-input-required").await?["id"].clone()),
        Ver::V03 => Ok(super::v03::new_task(c, "tck-input-required").await?["id"].clone()),
        _ => {
            let id = format!("conf-{}", uuid::Uuid::new_v4());
            super::v01::send(c, &id, "conformance-echo").await?;
            Ok(json!(id))
        }
    }
}

/// Calls `method`; when the server refuses the receiver's loopback URL in `params`
/// with -32602, retries with [`PUBLIC_HOOK`].
pub async fn with_hook(
    c: &Ctx,
    ver: Ver,
    method: &str,
    params: Value,
    url_at: &[&str],
) -> Result<Reply, Miss> {
    let r = c.rpc(ver, method, params.clone()).await?;
    if r.error_code() != Some(-32602) {
        return Ok(r);
    }
    let mut p = params;
    let mut slot = &mut p;
    for k in url_at {
        slot = &mut slot[*k];
    }
    *slot = json!(PUBLIC_HOOK);
    c.rpc(ver, method, p).await
}

async fn off_v1(c: &Ctx) -> Checked {
    need_no_push(c)?;
    let id = open_task(c, Ver::V1).await?;
    let calls = [
        (
            "CreateTaskPushNotificationConfig",
            json!({"taskId": id, "url": PUBLIC_HOOK}),
        ),
        (
            "GetTaskPushNotificationConfig",
            json!({"taskId": id, "id": "c1"}),
        ),
        ("ListTaskPushNotificationConfigs", json!({"taskId": id})),
        (
            "DeleteTaskPushNotificationConfig",
            json!({"taskId": id, "id": "c1"}),
        ),
    ];
    for (m, p) in calls {
        c.rpc(Ver::V1, m, p).await?.expect_error(&[-32003], m)?;
    }
    Ok(())
}

async fn off_v03(c: &Ctx) -> Checked {
    need_no_push(c)?;
    let id = open_task(c, Ver::V03).await?;
    let calls = [
        (
            "tasks/pushNotificationConfig/set",
            json!({"taskId": id, "pushNotificationConfig": {"url": PUBLIC_HOOK}}),
        ),
        ("tasks/pushNotificationConfig/get", json!({"id": id})),
        ("tasks/pushNotificationConfig/list", json!({"id": id})),
        (
            "tasks/pushNotificationConfig/delete",
            json!({"id": id, "pushNotificationConfigId": "c1"}),
        ),
    ];
    for (m, p) in calls {
        c.rpc(Ver::V03, m, p).await?.expect_error(&[-32003], m)?;
    }
    Ok(())
}

async fn off_v01(c: &Ctx) -> Checked {
    need_no_push(c)?;
    let id = open_task(c, Ver::V01).await?;
    let calls = [
        (
            "tasks/pushNotification/set",
            json!({"id": id, "pushNotificationConfig": {"url": PUBLIC_HOOK}}),
        ),
        ("tasks/pushNotification/get", json!({"id": id})),
    ];
    for (m, p) in calls {
        c.rpc(Ver::V01, m, p).await?.expect_error(&[-32003], m)?;
    }
    Ok(())
}

/// Creates a 1.0 config on `task`; the config as returned.
pub async fn create_v1(c: &Ctx, task: &Value, extra: Value) -> Result<Value, Miss> {
    let mut p = json!({"taskId": task, "url": c.hooks.url(&uuid::Uuid::new_v4().to_string())});
    if let (Some(p), Some(e)) = (p.as_object_mut(), extra.as_object()) {
        p.extend(e.clone());
    }
    let r = with_hook(c, Ver::V1, "CreateTaskPushNotificationConfig", p, &["url"]).await?;
    let cfg = r.result()?.clone();
    ensure!(
        cfg["id"].as_str().is_some_and(|s| !s.is_empty()),
        "the created config has no id: {}",
        show(&cfg)
    );
    Ok(cfg)
}

async fn create_get_v1(c: &Ctx) -> Checked {
    need_push(c)?;
    let task = open_task(c, Ver::V1).await?;
    let cfg = create_v1(c, &task, json!({"token": "conf-token"})).await?;
    let r = c
        .rpc(
            Ver::V1,
            "GetTaskPushNotificationConfig",
            json!({"taskId": task, "id": cfg["id"]}),
        )
        .await?;
    let got = r.result()?;
    ensure!(
        got["id"] == cfg["id"] && got["url"] == cfg["url"],
        "get returned {} for created {}",
        show(got),
        show(&cfg)
    );
    Ok(())
}

pub fn listed_ids(list: &Value, ver: Ver) -> Vec<Value> {
    let items = if ver == Ver::V1 {
        &list["configs"]
    } else {
        list
    };
    items
        .as_array()
        .into_iter()
        .flatten()
        .map(|c| {
            if ver == Ver::V1 {
                c["id"].clone()
            } else {
                c["pushNotificationConfig"]["id"].clone()
            }
        })
        .collect()
}

async fn list_v1(c: &Ctx) -> Checked {
    need_push(c)?;
    let task = open_task(c, Ver::V1).await?;
    let a = create_v1(c, &task, json!({"id": "conf-a"})).await?;
    let b = create_v1(c, &task, json!({"id": "conf-b"})).await?;
    ensure!(
        a["id"] != b["id"],
        "two configs got the same id {}",
        a["id"]
    );
    let r = c
        .rpc(
            Ver::V1,
            "ListTaskPushNotificationConfigs",
            json!({"taskId": task}),
        )
        .await?;
    let ids = listed_ids(r.result()?, Ver::V1);
    ensure!(
        ids.contains(&a["id"]) && ids.contains(&b["id"]),
        "listed {:?}, want {} and {}",
        ids,
        a["id"],
        b["id"]
    );
    Ok(())
}

async fn delete_v1(c: &Ctx) -> Checked {
    need_push(c)?;
    let task = open_task(c, Ver::V1).await?;
    let cfg = create_v1(c, &task, json!({})).await?;
    let p = json!({"taskId": task, "id": cfg["id"]});
    let r = c
        .rpc(Ver::V1, "DeleteTaskPushNotificationConfig", p.clone())
        .await?;
    r.result()?;
    let r = c
        .rpc(Ver::V1, "GetTaskPushNotificationConfig", p.clone())
        .await?;
    r.expect_error(&[-32001], "get after delete")?;
    let again = c
        .rpc(Ver::V1, "DeleteTaskPushNotificationConfig", p)
        .await?;
    ensure!(
        again.error_code().is_none() || again.error_code() == Some(-32001),
        "a second delete answered {}",
        again.describe()
    );
    Ok(())
}

pub fn unknown() -> Value {
    json!(uuid::Uuid::new_v4().to_string())
}

async fn unknown_task_v1(c: &Ctx) -> Checked {
    need_push(c)?;
    let t = unknown();
    let calls = [
        (
            "CreateTaskPushNotificationConfig",
            json!({"taskId": t, "url": PUBLIC_HOOK}),
        ),
        (
            "GetTaskPushNotificationConfig",
            json!({"taskId": t, "id": "c1"}),
        ),
        ("ListTaskPushNotificationConfigs", json!({"taskId": t})),
    ];
    for (m, p) in calls {
        c.rpc(Ver::V1, m, p).await?.expect_error(&[-32001], m)?;
    }
    Ok(())
}

async fn inline_v1(c: &Ctx) -> Checked {
    need_push(c)?;
    let url = c.hooks.url("inline-v1");
    let p = json!({"message": msg_v1("tck-input-required"), "configuration": {"taskPushNotificationConfig": {"url": url, "token": "conf-token"}}});
    let r = with_hook(
        c,
        Ver::V1,
        "SendMessage",
        p,
        &["configuration", "taskPushNotificationConfig", "url"],
    )
    .await?;
    let task = super::v1::task_of(r.result()?)?;
    let r = c
        .rpc(
            Ver::V1,
            "ListTaskPushNotificationConfigs",
            json!({"taskId": task["id"]}),
        )
        .await?;
    let n = r.result()?["configs"].as_array().map_or(0, Vec::len);
    ensure!(n >= 1, "the inline config is not listed: {}", r.describe());
    Ok(())
}

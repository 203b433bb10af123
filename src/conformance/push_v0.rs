//! 0.3 (`tasks/pushNotificationConfig/*`) and 0.1 (`tasks/pushNotification/*`) push
//! configs, and inline registration with `message/send` / `tasks/send`.

use serde_json::{Value, json};

use super::probe::{msg_v01, msg_v03};
use super::push::{PUBLIC_HOOK, listed_ids, need_push, open_task, unknown, with_hook};
use super::{Check, Checked, Ctx, Miss, Ver, show};
use crate::{check, ensure};

pub fn checks() -> Vec<Check> {
    vec![
        check!(
            "R67-v03",
            Must,
            V03,
            "tasks/pushNotificationConfig/set then get return the same url and id.",
            set_get_v03
        ),
        check!(
            "R67-v01",
            Must,
            V01,
            "tasks/pushNotification/set then get return the same url.",
            set_get_v01
        ),
        check!(
            "R68-v03",
            Must,
            V03,
            "Two configs with different ids on one task both appear in tasks/pushNotificationConfig/list.",
            list_v03
        ),
        check!(
            "R69-v03",
            Must,
            V03,
            "tasks/pushNotificationConfig/delete removes the config (get then yields -32001).",
            delete_v03
        ),
        check!(
            "R70-v03",
            Must,
            V03,
            "0.3 push-config methods on an unknown task yield -32001.",
            unknown_task_v03
        ),
        check!(
            "R70-v01",
            Must,
            V01,
            "0.1 push-config methods on an unknown task yield -32001.",
            unknown_task_v01
        ),
        check!(
            "R71-v03",
            Must,
            V03,
            "A configuration.pushNotificationConfig sent with message/send is listed for the created task.",
            inline_v03
        ),
        check!(
            "R71-v01",
            Must,
            V01,
            "A pushNotification sent with tasks/send is returned by tasks/pushNotification/get.",
            inline_v01
        ),
    ]
}
/// Sets a 0.3 config with `config_id` on `task`; the TaskPushNotificationConfig returned.
async fn set_v03(c: &Ctx, task: &Value, config_id: &str) -> Result<Value, Miss> {
    let p = json!({"taskId": task, "pushNotificationConfig": {"id": config_id, "url": c.hooks.url(config_id), "token": "conf-token"}});
    let r = with_hook(
        c,
        Ver::V03,
        "tasks/pushNotificationConfig/set",
        p,
        &["pushNotificationConfig", "url"],
    )
    .await?;
    let res = r.result()?.clone();
    ensure!(
        res["taskId"] == *task && res["pushNotificationConfig"]["url"].is_string(),
        "set returned {}",
        show(&res)
    );
    Ok(res)
}

async fn set_get_v03(c: &Ctx) -> Checked {
    need_push(c)?;
    let task = open_task(c, Ver::V03).await?;
    let set = set_v03(c, &task, "conf-a").await?;
    let r = c
        .rpc(
            Ver::V03,
            "tasks/pushNotificationConfig/get",
            json!({"id": task, "pushNotificationConfigId": "conf-a"}),
        )
        .await?;
    let got = &r.result()?["pushNotificationConfig"];
    let want = &set["pushNotificationConfig"];
    ensure!(
        got["url"] == want["url"] && got["id"] == want["id"],
        "get returned {} for set {}",
        show(got),
        show(want)
    );
    Ok(())
}

async fn set_get_v01(c: &Ctx) -> Checked {
    need_push(c)?;
    let task = open_task(c, Ver::V01).await?;
    let p = json!({"id": task, "pushNotificationConfig": {"url": c.hooks.url("v01"), "token": "conf-token"}});
    let set = with_hook(
        c,
        Ver::V01,
        "tasks/pushNotification/set",
        p,
        &["pushNotificationConfig", "url"],
    )
    .await?;
    let url = set.result()?["pushNotificationConfig"]["url"].clone();
    let r = c
        .rpc(Ver::V01, "tasks/pushNotification/get", json!({"id": task}))
        .await?;
    let got = r.result()?;
    ensure!(
        got["id"] == task && got["pushNotificationConfig"]["url"] == url,
        "get returned {}",
        show(got)
    );
    Ok(())
}

async fn list_v03(c: &Ctx) -> Checked {
    need_push(c)?;
    let task = open_task(c, Ver::V03).await?;
    set_v03(c, &task, "conf-a").await?;
    set_v03(c, &task, "conf-b").await?;
    let r = c
        .rpc(
            Ver::V03,
            "tasks/pushNotificationConfig/list",
            json!({"id": task}),
        )
        .await?;
    let res = r.result()?;
    ensure!(res.is_array(), "list returned {} (not an array)", show(res));
    let ids = listed_ids(res, Ver::V03);
    ensure!(
        ids.contains(&json!("conf-a")) && ids.contains(&json!("conf-b")),
        "listed {:?}",
        ids
    );
    Ok(())
}

async fn delete_v03(c: &Ctx) -> Checked {
    need_push(c)?;
    let task = open_task(c, Ver::V03).await?;
    set_v03(c, &task, "conf-a").await?;
    let r = c
        .rpc(
            Ver::V03,
            "tasks/pushNotificationConfig/delete",
            json!({"id": task, "pushNotificationConfigId": "conf-a"}),
        )
        .await?;
    let res = r.result()?;
    ensure!(res.is_null(), "delete returned {} (not null)", show(res));
    let r = c
        .rpc(
            Ver::V03,
            "tasks/pushNotificationConfig/get",
            json!({"id": task, "pushNotificationConfigId": "conf-a"}),
        )
        .await?;
    r.expect_error(&[-32001], "get after delete")
}

async fn unknown_task_v03(c: &Ctx) -> Checked {
    need_push(c)?;
    let t = unknown();
    let calls = [
        (
            "tasks/pushNotificationConfig/set",
            json!({"taskId": t, "pushNotificationConfig": {"url": PUBLIC_HOOK}}),
        ),
        ("tasks/pushNotificationConfig/get", json!({"id": t})),
        ("tasks/pushNotificationConfig/list", json!({"id": t})),
    ];
    for (m, p) in calls {
        c.rpc(Ver::V03, m, p).await?.expect_error(&[-32001], m)?;
    }
    Ok(())
}

async fn unknown_task_v01(c: &Ctx) -> Checked {
    need_push(c)?;
    let t = unknown();
    let calls = [
        (
            "tasks/pushNotification/set",
            json!({"id": t, "pushNotificationConfig": {"url": PUBLIC_HOOK}}),
        ),
        ("tasks/pushNotification/get", json!({"id": t})),
    ];
    for (m, p) in calls {
        c.rpc(Ver::V01, m, p).await?.expect_error(&[-32001], m)?;
    }
    Ok(())
}

async fn inline_v03(c: &Ctx) -> Checked {
    need_push(c)?;
    let url = c.hooks.url("inline-v03");
    let p = json!({"message": msg_v03("tck-input-required"), "configuration": {"pushNotificationConfig": {"url": url, "token": "conf-token"}}});
    let r = with_hook(
        c,
        Ver::V03,
        "message/send",
        p,
        &["configuration", "pushNotificationConfig", "url"],
    )
    .await?;
    let task = super::v03::as_task(r.result()?)?;
    let r = c
        .rpc(
            Ver::V03,
            "tasks/pushNotificationConfig/list",
            json!({"id": task["id"]}),
        )
        .await?;
    let n = r.result()?.as_array().map_or(0, Vec::len);
    ensure!(n >= 1, "the inline config is not listed: {}", r.describe());
    Ok(())
}

async fn inline_v01(c: &Ctx) -> Checked {
    need_push(c)?;
    let id = format!("conf-{}", uuid::Uuid::new_v4());
    let p = json!({"id": id, "message": msg_v01("conformance-echo"), "pushNotification": {"url": c.hooks.url("inline-v01"), "token": "conf-token"}});
    let r = with_hook(c, Ver::V01, "tasks/send", p, &["pushNotification", "url"]).await?;
    r.result()?;
    let r = c
        .rpc(Ver::V01, "tasks/pushNotification/get", json!({"id": id}))
        .await?;
    let got = r.result()?;
    ensure!(
        got["pushNotificationConfig"]["url"].is_string(),
        "no inline config: {}",
        show(got)
    );
    Ok(())
}

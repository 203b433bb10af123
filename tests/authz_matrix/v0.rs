//! 0.3 and 0.1: every task method on A's tasks by each of the others; 0.1 client-chosen
//! ids are per scope (the same name is each caller's own task).

use a2a_server::protocol::alias;
use serde_json::{Value, json};

use crate::harness::{
    Made, OTHERS, Probe, Server, V, Who, assert_no_secrets, msg_v01, msg_v03, random_id,
};
use crate::webhook::Receiver;

every_store!(v03_methods_refuse_others);
every_store!(v01_methods_refuse_others);
every_store!(chosen_0_1_ids_are_per_scope);

type Params = fn(&str) -> Value;

fn v03_with_task(id: &str, text: &str) -> Value {
    let mut m = msg_v03("m", text);
    m["taskId"] = json!(id);
    json!({ "message": m })
}

/// The id-taking calls of 0.3: (method, params for a task id, extra headers).
fn v03_calls() -> Vec<Probe<Params>> {
    vec![
        (
            "message/send",
            |id| v03_with_task(id, "b follows up"),
            vec![],
        ),
        (
            "message/stream",
            |id| v03_with_task(id, "b streams"),
            vec![],
        ),
        (
            "message/send",
            |id| {
                let mut m = msg_v03("m", "b refers");
                m["referenceTaskIds"] = json!([id]);
                json!({ "message": m })
            },
            vec![],
        ),
        (
            "tasks/get",
            |id| json!({"id": id, "historyLength": 10}),
            vec![],
        ),
        ("tasks/cancel", |id| json!({"id": id}), vec![]),
        ("tasks/resubscribe", |id| json!({"id": id}), vec![]),
        (
            "tasks/resubscribe",
            |id| json!({"id": id}),
            vec![("Last-Event-ID", "1")],
        ),
        (
            "tasks/pushNotificationConfig/set",
            |id| json!({"taskId": id, "pushNotificationConfig": {"id": "a-hook", "url": "http://127.0.0.1:9/b"}}),
            vec![],
        ),
        (
            "tasks/pushNotificationConfig/get",
            |id| json!({"id": id, "pushNotificationConfigId": "a-hook"}),
            vec![],
        ),
        (
            "tasks/pushNotificationConfig/get",
            |id| json!({"id": id}),
            vec![],
        ),
        (
            "tasks/pushNotificationConfig/list",
            |id| json!({"id": id}),
            vec![],
        ),
        (
            "tasks/pushNotificationConfig/delete",
            |id| json!({"id": id, "pushNotificationConfigId": "a-hook"}),
            vec![],
        ),
    ]
}

/// The id-taking calls of 0.1 that name an existing task (sends choose ids instead).
fn v01_calls() -> Vec<Probe<Params>> {
    vec![
        (
            "tasks/get",
            |id| json!({"id": id, "historyLength": 10}),
            vec![],
        ),
        ("tasks/cancel", |id| json!({"id": id}), vec![]),
        ("tasks/resubscribe", |id| json!({"id": id}), vec![]),
        (
            "tasks/resubscribe",
            |id| json!({"id": id}),
            vec![("Last-Event-ID", "1")],
        ),
        (
            "tasks/pushNotification/set",
            |id| json!({"id": id, "pushNotificationConfig": {"url": "http://127.0.0.1:9/b"}}),
            vec![],
        ),
        ("tasks/pushNotification/get", |id| json!({"id": id}), vec![]),
    ]
}

/// A's webhook URL, registered on `id` through 0.3.
async fn hook_v03(s: &Server, hook: &Receiver, id: &str) -> String {
    let url = hook.url("/alice-hook");
    let r = s
        .rpc(
            Who::A,
            V::Legacy,
            "tasks/pushNotificationConfig/set",
            json!({"taskId": id, "pushNotificationConfig": {"id": "a-hook", "url": url, "token": "alice-token"}}),
        )
        .await;
    assert_eq!(
        r.result()["pushNotificationConfig"]["id"],
        "a-hook",
        "{:?}",
        r.body
    );
    url
}

async fn v03_methods_refuse_others(s: &Server) {
    let text = format!("alice-secret-{}", uuid::Uuid::new_v4());
    let live = s.send_v03(Who::A, "m", &text).await;
    let done = s.send_v03(Who::A, "tck-complete-task", &text).await;
    // A task made through 1.0 and one through 0.1 are reachable through 0.3 too.
    let live_v1 = s.send_v1(Who::A, "m", &text).await;
    let name = format!("job-{}", uuid::Uuid::new_v4());
    let r = s
        .rpc(
            Who::A,
            V::Legacy,
            "tasks/send",
            json!({"id": name, "message": msg_v01(&text)}),
        )
        .await;
    assert_eq!(r.result()["id"], name.as_str(), "{:?}", r.body);
    let live_v01 = alias::internal_id("apikey:alice", "t1", &name, false);
    let hook = Receiver::start().await;
    let url = hook_v03(s, &hook, &live.id).await;
    let secrets = [
        live.id.as_str(),
        done.id.as_str(),
        live_v1.id.as_str(),
        &live_v01,
        &name,
        &live.context,
        &done.context,
        &live_v1.context,
        &text,
        &url,
        "alice-token",
    ];
    let before = s.state_of(Who::A, &live.id).await;
    // Positive controls: A reaches what the others may not.
    for id in [&live.id, &done.id, &live_v1.id, &live_v01, &name] {
        let r = s
            .rpc(Who::A, V::Legacy, "tasks/get", json!({"id": id}))
            .await;
        assert!(
            r.result()["id"].is_string(),
            "{} A tasks/get {id}: {:?}",
            s.kind,
            r.body
        );
    }
    let sub = s
        .rpc(
            Who::A,
            V::Legacy,
            "tasks/resubscribe",
            json!({"id": live.id}),
        )
        .await;
    assert!(sub.sse, "{}: {:?}", s.kind, sub.body);
    let r = s
        .rpc(
            Who::A,
            V::Legacy,
            "tasks/pushNotificationConfig/list",
            json!({"id": live.id}),
        )
        .await;
    assert_eq!(r.result().as_array().map(Vec::len), Some(1), "{:?}", r.body);

    for who in OTHERS {
        for target in [&live.id, &done.id, &live_v1.id, &live_v01] {
            for (method, params, headers) in v03_calls() {
                s.assert_unknown(
                    who,
                    V::Legacy,
                    method,
                    target,
                    &random_id(),
                    params,
                    &headers,
                    &secrets,
                )
                .await;
            }
        }
    }
    assert_eq!(s.state_of(Who::A, &live.id).await, before, "{}", s.kind);
    assert_eq!(s.state_of(Who::A, &done.id).await.0, "TASK_STATE_COMPLETED");
    assert_eq!(
        s.state_of(Who::A, &live_v1.id).await.0,
        "TASK_STATE_INPUT_REQUIRED"
    );
    let r = s
        .rpc(
            Who::A,
            V::Legacy,
            "tasks/pushNotificationConfig/list",
            json!({"id": live.id}),
        )
        .await;
    let configs = r.result().as_array().cloned().unwrap_or_default();
    assert_eq!(configs.len(), 1, "{}: {:?}", s.kind, r.body);
    assert_eq!(configs[0]["pushNotificationConfig"]["url"], url.as_str());
}

async fn v01_methods_refuse_others(s: &Server) {
    let text = format!("alice-secret-{}", uuid::Uuid::new_v4());
    let live = format!("job-live-{}", uuid::Uuid::new_v4());
    let done = format!("job-done-{}", uuid::Uuid::new_v4());
    let hook = Receiver::start().await;
    let url = hook.url("/alice-hook");
    for name in [&live, &done] {
        let r = s
            .rpc(
                Who::A,
                V::Legacy,
                "tasks/send",
                json!({"id": name, "message": msg_v01(&text)}),
            )
            .await;
        assert_eq!(
            r.result()["status"]["state"],
            "input-required",
            "{:?}",
            r.body
        );
    }
    let r = s
        .rpc(Who::A, V::Legacy, "tasks/cancel", json!({"id": done}))
        .await;
    assert_eq!(r.result()["status"]["state"], "canceled", "{:?}", r.body);
    let r = s
        .rpc(
            Who::A,
            V::Legacy,
            "tasks/pushNotification/set",
            json!({"id": live, "pushNotificationConfig": {"url": url, "token": "alice-token"}}),
        )
        .await;
    assert_eq!(r.result()["id"], live.as_str(), "{:?}", r.body);
    let live_id = alias::internal_id("apikey:alice", "t1", &live, false);
    let done_id = alias::internal_id("apikey:alice", "t1", &done, false);
    let secrets = [
        live.as_str(),
        done.as_str(),
        &live_id,
        &done_id,
        &text,
        &url,
        "alice-token",
    ];
    let before = s.state_of(Who::A, &live_id).await;
    assert_eq!(before.0, "TASK_STATE_INPUT_REQUIRED");
    let sub = s
        .rpc(Who::A, V::Legacy, "tasks/resubscribe", json!({"id": live}))
        .await;
    assert!(sub.sse, "{}: {:?}", s.kind, sub.body);
    assert_eq!(sub.result()["id"], live.as_str(), "{:?}", sub.body);

    for who in OTHERS {
        // By the name A chose, and by the task's real id.
        for target in [&live, &done, &live_id, &done_id] {
            for (method, params, headers) in v01_calls() {
                s.assert_unknown(
                    who,
                    V::Legacy,
                    method,
                    target,
                    &format!("job-{}", uuid::Uuid::new_v4()),
                    params,
                    &headers,
                    &secrets,
                )
                .await;
            }
        }
        // A name spelled like a real id is refused whoever's it is.
        let derived_like = alias::internal_id("apikey:nobody", "t1", "job-x", false);
        for method in ["tasks/send", "tasks/sendSubscribe"] {
            let params = |id: &str| json!({"id": id, "message": msg_v01("probe")});
            let f = s.rpc(who, V::Legacy, method, params(&live_id)).await;
            let m = s.rpc(who, V::Legacy, method, params(&derived_like)).await;
            assert_eq!(
                f.code(),
                Some(-32602),
                "{} {who:?} {method}: {:?}",
                s.kind,
                f.body
            );
            assert_eq!(
                crate::harness::shape(&f.body, &live_id),
                crate::harness::shape(&m.body, &derived_like)
            );
        }
    }
    // Sends naming A's names start the sender's own tasks (next test) and leave A's alone.
    for who in OTHERS {
        for method in ["tasks/send", "tasks/sendSubscribe"] {
            for name in [&live, &done] {
                let r = s
                    .rpc(
                        who,
                        V::Legacy,
                        method,
                        json!({"id": name, "message": msg_v01("not alice")}),
                    )
                    .await;
                let what = format!("{} {who:?} {method} {name}", s.kind);
                assert!(r.body.get("error").is_none(), "{what}: {:?}", r.body);
                assert_no_secrets(&what, &r.body, name, &secrets);
            }
        }
    }
    assert_eq!(s.state_of(Who::A, &live_id).await, before, "{}", s.kind);
    assert_eq!(s.state_of(Who::A, &done_id).await.0, "TASK_STATE_CANCELED");
    let r = s
        .rpc(
            Who::A,
            V::Legacy,
            "tasks/pushNotification/get",
            json!({"id": live}),
        )
        .await;
    assert_eq!(
        r.result()["pushNotificationConfig"]["url"],
        url.as_str(),
        "{:?}",
        r.body
    );
}

/// The texts of a 0.1 task's history and status message.
fn texts(task: &Value) -> String {
    format!("{} {}", task["history"], task["status"]["message"])
}

async fn chosen_0_1_ids_are_per_scope(s: &Server) {
    let everyone = [Who::A, Who::B, Who::T2, Who::Anon];
    let said = |who: Who| format!("said by {who:?} {}", s.kind);
    // Each caller names its task the same; a second name is used with tasks/sendSubscribe.
    let shared = format!("shared-{}", uuid::Uuid::new_v4());
    let streamed = format!("streamed-{}", uuid::Uuid::new_v4());
    // A's 1.0 task: anonymous callers choose plain ids, and this is one a caller who
    // learnt A's id could choose.
    let a_v1: Made = s.send_v1(Who::A, "m", &said(Who::A)).await;
    for who in everyone {
        let r = s
            .rpc(
                who,
                V::Legacy,
                "tasks/send",
                json!({"id": shared, "message": msg_v01(&said(who))}),
            )
            .await;
        assert_eq!(
            r.result()["id"],
            shared.as_str(),
            "{} {who:?}: {:?}",
            s.kind,
            r.body
        );
        let r = s
            .rpc(
                who,
                V::Legacy,
                "tasks/sendSubscribe",
                json!({"id": streamed, "message": msg_v01(&said(who))}),
            )
            .await;
        assert!(r.sse, "{} {who:?}: {:?}", s.kind, r.body);
        assert_eq!(
            r.result()["id"],
            streamed.as_str(),
            "{} {who:?}: {:?}",
            s.kind,
            r.body
        );
    }
    for who in [Who::B, Who::T2, Who::Anon] {
        let r = s
            .rpc(
                who,
                V::Legacy,
                "tasks/send",
                json!({"id": a_v1.id, "message": msg_v01(&said(who))}),
            )
            .await;
        let what = format!("{} {who:?} tasks/send {}", s.kind, a_v1.id);
        assert_eq!(r.result()["id"], a_v1.id.as_str(), "{what}: {:?}", r.body);
        assert!(
            !texts(r.result()).contains(&said(Who::A)),
            "{what}: {:?}",
            r.body
        );
    }
    for who in everyone {
        for name in [&shared, &streamed] {
            let r = s
                .rpc(
                    who,
                    V::Legacy,
                    "tasks/get",
                    json!({"id": name, "historyLength": 10}),
                )
                .await;
            let t = texts(r.result());
            assert!(
                t.contains(&said(who)),
                "{} {who:?} {name}: {:?}",
                s.kind,
                r.body
            );
            for other in everyone.iter().filter(|o| **o != who) {
                assert!(
                    !t.contains(&said(*other)),
                    "{} {who:?} sees {other:?}'s: {t}",
                    s.kind
                );
            }
        }
    }
    // A's 1.0 task is as A left it: one message of A's, then the agent's echo of it.
    let t = s.get_v1(Who::A, &a_v1.id).await.unwrap();
    assert_eq!(t["history"].as_array().unwrap().len(), 2, "{t}");
    assert!(!t.to_string().contains("said by B") && !t.to_string().contains("said by Anon"));
    // Each task's real id is its owner's alone.
    let real = |who: Who, name: &str| match who {
        Who::A => alias::internal_id("apikey:alice", "t1", name, false),
        Who::T2 => alias::internal_id("apikey:alice", "t2", name, false),
        Who::B => alias::internal_id("jwt:https://idp.authz.test:bob", "t1", name, false),
        Who::Anon => s_anon_id(name),
    };
    for owner in everyone {
        let id = real(owner, &shared);
        let mine = s.get_v1(owner, &id).await;
        assert!(
            mine.is_some_and(|t| texts(&t).contains(&said(owner))),
            "{} {owner:?} {id}",
            s.kind
        );
        for who in everyone.iter().filter(|w| **w != owner) {
            assert!(
                s.get_v1(*who, &id).await.is_none(),
                "{} {who:?} reads {owner:?}'s {id}",
                s.kind
            );
        }
    }
}

/// The real id of the anonymous caller's 0.1 task `name` (authentication is configured
/// here, so the anonymous scope is one of several: its names are aliases too).
fn s_anon_id(name: &str) -> String {
    alias::internal_id("", "", name, false)
}

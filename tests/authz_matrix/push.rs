//! Webhooks hear only their own task: each caller's activity (sends, follow-ups, configs,
//! attempts on another's task) reaches its own webhooks and never another caller's.

use serde_json::json;

use crate::harness::{Made, Server, V, Who, msg_v1};
use crate::webhook::{Received, Receiver};

every_store!(webhooks_hear_only_their_own_tasks);

fn follow_up(task: &Made, text: &str) -> serde_json::Value {
    let mut m = msg_v1("m", text);
    m["taskId"] = json!(task.id);
    json!({ "message": m })
}

/// The task ids a receiver was notified about (`X-A2A-Event-Id` is `task:seq`).
fn tasks_of(got: &[Received]) -> Vec<String> {
    got.iter().map(|r| r.event().0).collect()
}

async fn webhooks_hear_only_their_own_tasks(s: &Server) {
    let callers = [Who::A, Who::B, Who::T2];
    let mut own = Vec::new();
    for who in callers {
        let hook = Receiver::start().await;
        let task = s.send_v1(who, "m", &format!("{who:?} starts")).await;
        let r = s
            .rpc(
                who,
                V::V1,
                "CreateTaskPushNotificationConfig",
                json!({"taskId": task.id, "id": "hook", "url": hook.url(&format!("/{who:?}"))}),
            )
            .await;
        assert_eq!(r.result()["id"], "hook", "{} {who:?}: {:?}", s.kind, r.body);
        own.push((who, task, hook));
    }
    // The activity: each follows up on its own task, registers a second (0.3) config on
    // it, and tries to register its webhook on everyone else's task and to delete theirs.
    for (who, task, hook) in &own {
        let r = s
            .rpc(
                *who,
                V::V1,
                "SendMessage",
                follow_up(task, &format!("{who:?} follows up")),
            )
            .await;
        assert!(
            r.body.get("error").is_none(),
            "{} {who:?}: {:?}",
            s.kind,
            r.body
        );
        let r = s
            .rpc(
                *who,
                V::Legacy,
                "tasks/pushNotificationConfig/set",
                json!({"taskId": task.id, "pushNotificationConfig": {"id": "hook03", "url": hook.url("/v03")}}),
            )
            .await;
        assert!(
            r.body.get("error").is_none(),
            "{} {who:?}: {:?}",
            s.kind,
            r.body
        );
        for (other, theirs, _) in own.iter().filter(|(o, _, _)| o != who) {
            let r = s
                .rpc(
                    *who,
                    V::V1,
                    "CreateTaskPushNotificationConfig",
                    json!({"taskId": theirs.id, "id": "hook", "url": hook.url("/stolen")}),
                )
                .await;
            assert_eq!(
                r.code(),
                Some(-32001),
                "{} {who:?} on {other:?}'s: {:?}",
                s.kind,
                r.body
            );
            let r = s
                .rpc(
                    *who,
                    V::V1,
                    "DeleteTaskPushNotificationConfig",
                    json!({"taskId": theirs.id, "id": "hook"}),
                )
                .await;
            assert_eq!(
                r.code(),
                Some(-32001),
                "{} {who:?} on {other:?}'s: {:?}",
                s.kind,
                r.body
            );
        }
        // The anonymous caller tries too.
        let r = s
            .rpc(
                Who::Anon,
                V::V1,
                "CreateTaskPushNotificationConfig",
                json!({"taskId": task.id, "id": "hook", "url": "http://127.0.0.1:9/anon"}),
            )
            .await;
        assert_eq!(r.code(), Some(-32001), "{} Anon: {:?}", s.kind, r.body);
    }
    // A barrier per webhook: one more follow-up each, and its notification awaited. A
    // webhook receives its config's notifications in the order they were queued, so
    // anything the activity above had wrongly queued for it arrives before its barrier.
    for (who, task, _) in &own {
        let r = s
            .rpc(
                *who,
                V::V1,
                "SendMessage",
                follow_up(task, &format!("barrier of {who:?}")),
            )
            .await;
        assert!(
            r.body.get("error").is_none(),
            "{} {who:?}: {:?}",
            s.kind,
            r.body
        );
    }
    for (who, task, hook) in &own {
        let marker = format!("barrier of {who:?}");
        let got = hook
            .wait_until(std::time::Duration::from_secs(30), |got| {
                let heard = |path: &str| {
                    got.iter()
                        .filter(|r| r.path == path)
                        .any(|r| String::from_utf8_lossy(&r.body).contains(&marker))
                };
                heard(&format!("/{who:?}")) && heard("/v03")
            })
            .await;
        let ids = tasks_of(&got);
        assert!(
            ids.iter().all(|id| *id == task.id),
            "{}: {who:?}'s webhook heard of other tasks: {ids:?} (its own: {})",
            s.kind,
            task.id
        );
        assert!(
            got.iter().all(|r| r.path != "/stolen"),
            "{}: {who:?}",
            s.kind
        );
        // Both of its configs were notified (its 0.3 one got its own task's snapshots).
        assert!(
            got.iter().any(|r| r.path == "/v03"),
            "{}: {who:?}: no 0.3 delivery",
            s.kind
        );
        for r in &got {
            for (other, theirs, _) in own.iter().filter(|(o, _, _)| o != who) {
                let body = String::from_utf8_lossy(&r.body);
                assert!(
                    !body.contains(&theirs.id) && !body.contains(&format!("{other:?} follows up")),
                    "{}: {who:?}'s webhook got {other:?}'s: {body}",
                    s.kind
                );
            }
        }
    }
}

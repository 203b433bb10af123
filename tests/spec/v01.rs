//! A2A 0.1.0 (`tasks/send` era): every method against `shared/spec/v0.1.0/a2a.json`.

use serde_json::{Value, json};

use crate::helpers::{TestApp, V, spawn_with};
use crate::{SpecSchema, check_ours, get_json, post_legacy, push_enabled, spec_dir};

fn send_params(id: &str, session: &str, text: &str) -> Value {
    json!({
        "id": id,
        "sessionId": session,
        "message": {"role": "user", "parts": [{"type": "text", "text": text}]},
        "historyLength": 10,
    })
}

fn new_id() -> String {
    format!("spec-01-{}", uuid::Uuid::new_v4())
}

struct Ctx {
    app: TestApp,
    spec: SpecSchema,
}

impl Ctx {
    async fn unary(&self, method: &str, params: Value, def: &str, ours: &str) -> Value {
        let r = post_legacy(&self.app, method, params).await;
        assert!(r.get("error").is_none(), "{method}: {r}");
        self.spec.check(def, &r);
        self.spec.check("Task", &r["result"]);
        check_ours(ours, &r["result"]);
        r["result"].clone()
    }

    async fn stream(&self, method: &str, params: Value, max: usize, ours: &str) -> Vec<Value> {
        let rb = self.app.stream_request(V::Legacy, method, params);
        let events = self.app.stream_with(rb, max).await;
        assert!(!events.is_empty(), "{method}: empty stream");
        events
            .into_iter()
            .map(|(_, e)| {
                assert!(e.get("error").is_none(), "{method}: {e}");
                self.spec.check("SendTaskStreamingResponse", &e);
                check_ours(ours, &e["result"]);
                e["result"].clone()
            })
            .collect()
    }

    /// The 0.1 schema pins each error's `message` to a fixed text ("Task not found"); we
    /// keep the detail there (as 0.3 allows, and the 0.1 API tests expect), so only the
    /// envelope, the error shape and the definition's `code` are checked.
    fn error(&self, r: &Value, def: &str) {
        self.spec.check("JSONRPCResponse", r);
        self.spec.check("JSONRPCError", &r["error"]);
        assert_eq!(r["error"]["code"], self.spec.code_of(def), "{def}: {r}");
    }
}

#[tokio::test]
async fn every_v01_method_matches_the_v01_json_schema() {
    let Some(dir) = spec_dir() else { return };
    let c = Ctx {
        // Loopback webhooks allowed: the push configs name 127.0.0.1.
        app: spawn_with(|c| c.push_allow_private_networks = true).await,
        spec: SpecSchema::load(&dir, "v0.1.0"),
    };
    let app = &c.app;

    c.spec
        .check("AgentCard", &get_json(app, "/.well-known/agent.json").await);

    // tasks/send creates the task under the client's id, then continues it.
    let id = new_id();
    let session = new_id();
    let t = c
        .unary(
            "tasks/send",
            send_params(&id, &session, "hello"),
            "SendTaskResponse",
            "0.1.0/tasks-send.result.json",
        )
        .await;
    assert_eq!(t["id"], id.as_str());
    assert_eq!(t["status"]["state"], "input-required");
    let t = c
        .unary(
            "tasks/send",
            send_params(&id, &session, "again"),
            "SendTaskResponse",
            "0.1.0/tasks-send.result.json",
        )
        .await;
    assert!(t["history"].as_array().is_some_and(|h| h.len() >= 3), "{t}");

    for params in [json!({"id": id}), json!({"id": id, "historyLength": 1})] {
        c.unary(
            "tasks/get",
            params,
            "GetTaskResponse",
            "0.1.0/tasks-get.result.json",
        )
        .await;
    }

    // tasks/sendSubscribe: only status/artifact events, the last one final.
    let sub_id = new_id();
    let events = c
        .stream(
            "tasks/sendSubscribe",
            send_params(&sub_id, &session, "stream me"),
            usize::MAX,
            "0.1.0/tasks-sendSubscribe.stream-item.json",
        )
        .await;
    assert_eq!(events.last().unwrap()["final"], true);

    // tasks/resubscribe to the (input-required) task: its first event.
    let events = c
        .stream(
            "tasks/resubscribe",
            json!({"id": sub_id}),
            1,
            "0.1.0/tasks-resubscribe.stream-item.json",
        )
        .await;
    assert_eq!(events[0]["id"], sub_id.as_str());

    let t = c
        .unary(
            "tasks/cancel",
            json!({"id": sub_id}),
            "CancelTaskResponse",
            "0.1.0/tasks-cancel.result.json",
        )
        .await;
    assert_eq!(t["status"]["state"], "canceled");

    let r = post_legacy(app, "tasks/get", json!({"id": "no-such-task"})).await;
    c.error(&r, "TaskNotFoundError");
    let r = post_legacy(app, "tasks/cancel", json!({"id": sub_id})).await;
    c.error(&r, "TaskNotCancelableError");
    let r = post_legacy(app, "tasks/send", json!({"id": new_id()})).await;
    c.error(&r, "InvalidParamsError");
    // No parse-error check: JSON-RPC answers it with `"id": null`, which the 0.1 schema's
    // `id` (integer or string) does not allow, and the version is unknown at that point.

    if push_enabled(app).await {
        let config = json!({"id": id, "pushNotificationConfig": {
            "url": "http://127.0.0.1:9/a2a", "token": "secret"}});
        let r = post_legacy(app, "tasks/pushNotification/set", config).await;
        assert!(r.get("error").is_none(), "tasks/pushNotification/set: {r}");
        c.spec.check("SetTaskPushNotificationResponse", &r);
        c.spec.check("TaskPushNotificationConfig", &r["result"]);
        let r = post_legacy(app, "tasks/pushNotification/get", json!({"id": id})).await;
        assert!(r.get("error").is_none(), "tasks/pushNotification/get: {r}");
        c.spec.check("GetTaskPushNotificationResponse", &r);
        c.spec.check("TaskPushNotificationConfig", &r["result"]);
    } else {
        let r = post_legacy(app, "tasks/pushNotification/get", json!({"id": id})).await;
        c.error(&r, "PushNotificationNotSupportedError");
    }
    eprintln!("0.1.0: {} responses and events valid", c.spec.checked.get());
}

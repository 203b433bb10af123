//! A2A 0.3.0: every method against `shared/spec/v0.3.0/a2a.json`.

use serde_json::{Value, json};

use crate::helpers::{TestApp, V, msg_v03, spawn_with};
use crate::{SpecSchema, check_ours, get_json, post_legacy, push_enabled, spec_dir};

struct Ctx {
    app: TestApp,
    spec: SpecSchema,
}

impl Ctx {
    /// Sends `message/send` and checks the response; returns the result.
    async fn send(&self, message: Value, configuration: Option<Value>) -> Value {
        let mut params = json!({"message": message});
        if let Some(c) = configuration {
            params["configuration"] = c;
        }
        let r = post_legacy(&self.app, "message/send", params).await;
        self.spec.check("SendMessageSuccessResponse", &r);
        check_ours("0.3.0/message-send.result.json", &r["result"]);
        r["result"].clone()
    }

    async fn get(&self, params: Value) -> Value {
        let r = post_legacy(&self.app, "tasks/get", params).await;
        self.spec.check("GetTaskSuccessResponse", &r);
        check_ours("0.3.0/tasks-get.result.json", &r["result"]);
        r["result"].clone()
    }

    /// Reads a whole stream (at most `max` events), checking every event.
    async fn stream(&self, method: &str, params: Value, max: usize) -> Vec<Value> {
        let rb = self.app.stream_request(V::Legacy, method, params);
        let events = self.app.stream_with(rb, max).await;
        assert!(!events.is_empty(), "{method}: empty stream");
        let ours = if method == "message/stream" {
            "0.3.0/message-stream.stream-item.json"
        } else {
            "0.3.0/tasks-resubscribe.stream-item.json"
        };
        events
            .into_iter()
            .map(|(_, e)| {
                self.spec.check("SendStreamingMessageSuccessResponse", &e);
                check_ours(ours, &e["result"]);
                e["result"].clone()
            })
            .collect()
    }

    /// Expects a JSON-RPC error of definition `def` (e.g. `TaskNotFoundError`).
    fn error(&self, r: &Value, def: &str) {
        self.spec.check("JSONRPCErrorResponse", r);
        self.spec.check(def, &r["error"]);
    }
}

#[tokio::test]
async fn every_v03_method_matches_the_v03_json_schema() {
    let Some(dir) = spec_dir() else { return };
    let c = Ctx {
        // Loopback webhooks allowed: the push configs name 127.0.0.1.
        app: spawn_with(|c| c.push_allow_private_networks = true).await,
        spec: SpecSchema::load(&dir, "v0.3.0"),
    };
    let app = &c.app;

    let card = get_json(app, "/.well-known/agent-card.json").await;
    c.spec.check("AgentCard", &card);
    c.spec
        .check("AgentCard", &get_json(app, "/.well-known/agent.json").await);

    // message/send: every result shape the agent produces.
    let done = c.send(msg_v03("tck-complete-task"), None).await;
    assert_eq!(done["status"]["state"], "completed");
    let reply = c.send(msg_v03("tck-message-response"), None).await;
    assert_eq!(reply["kind"], "message");
    for kind in ["text", "file", "file-url", "data"] {
        let t = c.send(msg_v03(&format!("tck-artifact-{kind}")), None).await;
        assert_eq!(t["artifacts"].as_array().map(Vec::len), Some(1), "{t}");
    }
    let failed = c.send(msg_v03("tck-reject-task"), None).await;
    assert_eq!(failed["status"]["state"], "failed");
    let waiting = c
        .send(
            msg_v03("tck-input-required"),
            Some(json!({"historyLength": 5})),
        )
        .await;
    assert_eq!(waiting["status"]["state"], "input-required");
    let task_id = waiting["id"].as_str().unwrap().to_string();
    let mut next = msg_v03("echo");
    next["taskId"] = json!(task_id);
    next["contextId"] = waiting["contextId"].clone();
    let continued = c.send(next, None).await;
    assert_eq!(continued["id"], task_id.as_str());

    // tasks/get, with and without a history limit.
    let got = c.get(json!({"id": task_id})).await;
    assert!(
        got["history"].as_array().is_some_and(|h| h.len() >= 2),
        "{got}"
    );
    c.get(json!({"id": task_id, "historyLength": 1})).await;
    c.get(json!({"id": done["id"]})).await;

    // tasks/cancel of the input-required task.
    let r = post_legacy(app, "tasks/cancel", json!({"id": task_id})).await;
    c.spec.check("CancelTaskSuccessResponse", &r);
    check_ours("0.3.0/tasks-cancel.result.json", &r["result"]);
    assert_eq!(r["result"]["status"]["state"], "canceled");

    // message/stream: status, artifact (chunked too) and final events.
    for prefix in [
        "tck-stream-001",
        "tck-stream-artifact-chunked",
        "tck-message-response",
    ] {
        let events = c
            .stream(
                "message/stream",
                json!({"message": msg_v03(prefix)}),
                usize::MAX,
            )
            .await;
        let last = events.last().unwrap();
        assert!(last["kind"] == "message" || last["final"] == true, "{last}");
    }

    // tasks/resubscribe to a running task, to its end.
    let running = c
        .send(
            msg_v03("test-resubscribe-message-id"),
            Some(json!({"blocking": false})),
        )
        .await;
    let events = c
        .stream(
            "tasks/resubscribe",
            json!({"id": running["id"]}),
            usize::MAX,
        )
        .await;
    assert_eq!(events.last().unwrap()["status"]["state"], "completed");

    // Errors, each against its own definition.
    let unknown = json!({"id": "no-such-task"});
    let r = post_legacy(app, "tasks/get", unknown.clone()).await;
    c.error(&r, "TaskNotFoundError");
    let r = post_legacy(app, "tasks/cancel", json!({"id": done["id"]})).await;
    c.error(&r, "TaskNotCancelableError");
    let r = post_legacy(app, "message/send", json!({})).await;
    c.error(&r, "InvalidParamsError");
    let r = post_legacy(app, "tasks/nope", json!({})).await;
    c.error(&r, "MethodNotFoundError");
    let r = post_legacy(app, "agent/getAuthenticatedExtendedCard", json!({})).await;
    c.error(&r, "AuthenticatedExtendedCardNotConfiguredError");
    let (_, r) = app.post_raw("{not json", "application/json").await;
    c.error(&r, "JSONParseError");
    let (_, r) = app
        .post_raw(r#"{"jsonrpc":"2.0","id":1}"#, "application/json")
        .await;
    c.error(&r, "InvalidRequestError");

    push_config_methods(&c, &task_id).await;
    eprintln!("0.3.0: {} responses and events valid", c.spec.checked.get());
}

/// `tasks/pushNotificationConfig/*`: the full flow when the card announces push
/// notifications, otherwise the PushNotificationNotSupported error.
async fn push_config_methods(c: &Ctx, task_id: &str) {
    let app = &c.app;
    if !push_enabled(app).await {
        let r = post_legacy(
            app,
            "tasks/pushNotificationConfig/get",
            json!({"id": task_id}),
        )
        .await;
        c.error(&r, "PushNotificationNotSupportedError");
        return;
    }
    // A task that stays input-required, so no notification is ever due.
    let waiting = c.send(msg_v03("tck-input-required"), None).await;
    let id = waiting["id"].clone();
    let config = json!({"taskId": id, "pushNotificationConfig": {
        "id": "cfg-1", "url": "http://127.0.0.1:9/a2a", "token": "secret"}});
    let r = post_legacy(app, "tasks/pushNotificationConfig/set", config).await;
    c.spec
        .check("SetTaskPushNotificationConfigSuccessResponse", &r);
    let r = post_legacy(
        app,
        "tasks/pushNotificationConfig/get",
        json!({"id": id, "pushNotificationConfigId": "cfg-1"}),
    )
    .await;
    c.spec
        .check("GetTaskPushNotificationConfigSuccessResponse", &r);
    let r = post_legacy(app, "tasks/pushNotificationConfig/list", json!({"id": id})).await;
    c.spec
        .check("ListTaskPushNotificationConfigSuccessResponse", &r);
    let r = post_legacy(
        app,
        "tasks/pushNotificationConfig/delete",
        json!({"id": id, "pushNotificationConfigId": "cfg-1"}),
    )
    .await;
    c.spec
        .check("DeleteTaskPushNotificationConfigSuccessResponse", &r);
}

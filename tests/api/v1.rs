//! A2A 1.0 unary methods.

use serde_json::{Value, json};

use crate::helpers::{V, eventually, msg_v1, spawn_app, spawn_with};

async fn send(app: &crate::helpers::TestApp, message: Value) -> Value {
    app.ok(V::V1, "SendMessage", json!({"message": message}))
        .await
}

#[tokio::test]
async fn send_message_blocks_until_completed_and_wraps_the_task() {
    let app = spawn_app().await;
    let r = send(&app, msg_v1("tck-complete-task")).await;
    let task = &r["task"];
    assert!(r.get("message").is_none());
    assert!(!task["id"].as_str().unwrap().is_empty());
    assert!(!task["contextId"].as_str().unwrap().is_empty());
    assert_eq!(task["status"]["state"], "TASK_STATE_COMPLETED");
    assert_eq!(
        task["status"]["message"]["parts"][0]["text"],
        "Hello from TCK"
    );
    assert_eq!(task["status"]["message"]["role"], "ROLE_AGENT");
    let ts = task["status"]["timestamp"].as_str().unwrap();
    assert!(
        ts.ends_with('Z') && ts.len() == 24,
        "millisecond UTC timestamp: {ts}"
    );
    assert!(!r.to_string().contains("\"kind\""));
}

#[tokio::test]
async fn send_message_keeps_the_client_context_id() {
    let app = spawn_app().await;
    let mut m = msg_v1("tck-complete-task");
    m["contextId"] = json!("my-context");
    let r = send(&app, m).await;
    assert_eq!(r["task"]["contextId"], "my-context");
}

#[tokio::test]
async fn return_immediately_answers_with_a_non_terminal_task() {
    let app = spawn_app().await;
    let r = app
        .ok(
            V::V1,
            "SendMessage",
            json!({"message": msg_v1("test-resubscribe-message-id"), "configuration": {"returnImmediately": true}}),
        )
        .await;
    let state = r["task"]["status"]["state"].as_str().unwrap();
    assert!(
        state == "TASK_STATE_SUBMITTED" || state == "TASK_STATE_WORKING",
        "{state}"
    );
}

#[tokio::test]
async fn a_blocking_send_whose_client_goes_away_still_completes() {
    use a2a_server::protocol::TaskState;
    use a2a_server::protocol::request::ListTasksQuery;
    use a2a_server::store::Scope;

    let app = spawn_app().await;
    // The agent works for about 4 s; the client gives up long before, closing the
    // connection while the server is still waiting on the run inside the call.
    let sent = app
        .unary_request(
            V::V1,
            "SendMessage",
            json!({"message": msg_v1("test-resubscribe-message-id")}),
        )
        .timeout(std::time::Duration::from_millis(500))
        .send()
        .await;
    assert!(
        sent.is_err_and(|e| e.is_timeout()),
        "the call did not time out"
    );
    let q = ListTasksQuery {
        page_size: 10,
        ..Default::default()
    };
    let completed = || async {
        let page = app.service.list(&Scope::default(), &q).await.unwrap();
        page.tasks.len() == 1 && page.tasks[0].status.state == TaskState::Completed
    };
    eventually(completed).await;
}

#[tokio::test]
async fn message_response_prefix_returns_a_bare_message() {
    let app = spawn_app().await;
    let r = send(&app, msg_v1("tck-message-response")).await;
    assert!(r.get("task").is_none());
    assert_eq!(r["message"]["role"], "ROLE_AGENT");
    assert_eq!(r["message"]["parts"][0]["text"], "Direct message response");
    assert!(!r["message"]["contextId"].as_str().unwrap().is_empty());
}

#[tokio::test]
async fn executor_error_fails_the_task() {
    let app = spawn_app().await;
    let r = send(&app, msg_v1("tck-reject-task")).await;
    assert_eq!(r["task"]["status"]["state"], "TASK_STATE_FAILED");
    assert!(
        r["task"]["status"]["message"]["parts"][0]["text"]
            .as_str()
            .unwrap()
            .contains("rejected")
    );
}

#[tokio::test]
async fn artifact_prefixes_produce_their_artifacts() {
    let app = spawn_app().await;
    let text = send(&app, msg_v1("tck-artifact-text")).await;
    assert_eq!(
        text["task"]["artifacts"][0]["parts"][0]["text"],
        "Generated text content"
    );
    let file = send(&app, msg_v1("tck-artifact-file")).await;
    let part = &file["task"]["artifacts"][0]["parts"][0];
    assert_eq!(part["filename"], "output.txt");
    assert_eq!(part["mediaType"], "text/plain");
    assert_eq!(part["raw"], "dGNr", "base64 of the kit's bytes `tck`");
    let url = send(&app, msg_v1("tck-artifact-file-url")).await;
    assert!(
        url["task"]["artifacts"][0]["parts"][0]["url"]
            .as_str()
            .unwrap()
            .starts_with("https://")
    );
    let data = send(&app, msg_v1("tck-artifact-data")).await;
    assert_eq!(
        data["task"]["artifacts"][0]["parts"][0]["data"],
        json!({"key": "value", "count": 42})
    );
}

#[tokio::test]
async fn follow_up_to_input_required_continues_the_same_task() {
    let app = spawn_app().await;
    let first = send(&app, msg_v1("echo")).await;
    let task_id = first["task"]["id"].as_str().unwrap();
    assert_eq!(
        first["task"]["status"]["state"],
        "TASK_STATE_INPUT_REQUIRED"
    );
    let mut follow = msg_v1("echo-again");
    follow["taskId"] = json!(task_id);
    follow["parts"] = json!([{"text": "second"}]);
    let second = send(&app, follow).await;
    assert_eq!(second["task"]["id"], task_id);
    assert_eq!(second["task"]["contextId"], first["task"]["contextId"]);
    assert_eq!(
        second["task"]["status"]["state"],
        "TASK_STATE_INPUT_REQUIRED"
    );
    assert_eq!(
        second["task"]["status"]["message"]["parts"][0]["text"],
        "second"
    );
    // user, agent, user, agent
    assert_eq!(second["task"]["history"].as_array().unwrap().len(), 4);
}

#[tokio::test]
async fn message_to_a_terminal_task_is_unsupported_operation() {
    let app = spawn_app().await;
    let done = send(&app, msg_v1("tck-complete-task")).await;
    let mut follow = msg_v1("again");
    follow["taskId"] = done["task"]["id"].clone();
    let e = app
        .err(V::V1, "SendMessage", json!({"message": follow}), -32004)
        .await;
    assert_eq!(e["data"][0]["reason"], "UNSUPPORTED_OPERATION");
    assert_eq!(
        e["data"][0]["@type"],
        "type.googleapis.com/google.rpc.ErrorInfo"
    );
}

#[tokio::test]
async fn message_with_unknown_task_id_is_task_not_found() {
    let app = spawn_app().await;
    let mut m = msg_v1("x");
    m["taskId"] = json!("does-not-exist");
    app.err(V::V1, "SendMessage", json!({"message": m}), -32001)
        .await;
}

#[tokio::test]
async fn message_with_mismatched_context_is_invalid_params() {
    let app = spawn_app().await;
    let first = send(&app, msg_v1("echo")).await;
    let mut m = msg_v1("x");
    m["taskId"] = first["task"]["id"].clone();
    m["contextId"] = json!("another-context");
    let e = app
        .err(V::V1, "SendMessage", json!({"message": m}), -32602)
        .await;
    assert!(e["message"].as_str().unwrap().contains("contextId"));
}

#[tokio::test]
async fn get_task_applies_history_length() {
    let app = spawn_app().await;
    let r = send(&app, msg_v1("tck-complete-task")).await;
    let id = r["task"]["id"].clone();
    let full = app.ok(V::V1, "GetTask", json!({"id": id})).await;
    assert_eq!(full["history"].as_array().unwrap().len(), 2);
    let none = app
        .ok(V::V1, "GetTask", json!({"id": id, "historyLength": 0}))
        .await;
    assert!(
        none.get("history").is_none(),
        "history must be omitted: {none}"
    );
    let one = app
        .ok(V::V1, "GetTask", json!({"id": id, "historyLength": 1}))
        .await;
    let h = one["history"].as_array().unwrap();
    assert_eq!(h.len(), 1);
    assert_eq!(h[0]["role"], "ROLE_AGENT", "the most recent message");
    app.err(
        V::V1,
        "GetTask",
        json!({"id": id, "historyLength": -1}),
        -32602,
    )
    .await;
    app.err(V::V1, "GetTask", json!({"id": "nope"}), -32001)
        .await;
}

#[tokio::test]
async fn get_task_accepts_snake_case_fields() {
    let app = spawn_app().await;
    let r = send(&app, msg_v1("tck-complete-task")).await;
    let t = app
        .ok(
            V::V1,
            "GetTask",
            json!({"id": r["task"]["id"], "history_length": 0}),
        )
        .await;
    assert!(t.get("history").is_none());
}

#[tokio::test]
async fn list_tasks_pages_without_gaps_or_duplicates() {
    let app = spawn_app().await;
    let mut ids = Vec::new();
    for _ in 0..5 {
        let mut m = msg_v1("tck-artifact-text");
        m["contextId"] = json!("list-ctx");
        ids.push(
            send(&app, m).await["task"]["id"]
                .as_str()
                .unwrap()
                .to_string(),
        );
    }
    send(&app, msg_v1("tck-complete-task")).await; // another context
    let mut seen = Vec::new();
    let mut token = String::new();
    for page in 0.. {
        let r = app
            .ok(
                V::V1,
                "ListTasks",
                json!({"contextId": "list-ctx", "pageSize": 2, "pageToken": token}),
            )
            .await;
        assert_eq!(r["totalSize"], 5);
        assert_eq!(r["pageSize"], 2);
        for t in r["tasks"].as_array().unwrap() {
            assert!(
                t.get("artifacts").is_none(),
                "artifacts omitted without includeArtifacts"
            );
            seen.push(t["id"].as_str().unwrap().to_string());
        }
        token = r["nextPageToken"]
            .as_str()
            .expect("nextPageToken always present")
            .to_string();
        if token.is_empty() {
            assert_eq!(page, 2);
            break;
        }
    }
    let mut sorted = seen.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted.len(), 5, "no duplicates: {seen:?}");
    ids.sort();
    assert_eq!(sorted, ids);
}

#[tokio::test]
async fn list_tasks_is_newest_first_and_filters() {
    let app = spawn_app().await;
    let a = send(&app, msg_v1("tck-complete-task")).await["task"]["id"].clone();
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    let b = send(&app, msg_v1("echo")).await["task"]["id"].clone();
    let all = app.ok(V::V1, "ListTasks", json!({})).await;
    assert_eq!(all["tasks"][0]["id"], b);
    assert_eq!(all["tasks"][1]["id"], a);
    assert_eq!(all["nextPageToken"], "");
    let done = app
        .ok(
            V::V1,
            "ListTasks",
            json!({"status": "TASK_STATE_COMPLETED"}),
        )
        .await;
    assert_eq!(done["tasks"].as_array().unwrap().len(), 1);
    assert_eq!(done["tasks"][0]["id"], a);
    let with = app
        .ok(
            V::V1,
            "ListTasks",
            json!({"includeArtifacts": true, "historyLength": 0}),
        )
        .await;
    assert!(with["tasks"][0].get("history").is_none());
    let future = app
        .ok(
            V::V1,
            "ListTasks",
            json!({"statusTimestampAfter": "2999-01-01T00:00:00Z"}),
        )
        .await;
    assert_eq!(future["tasks"].as_array().unwrap().len(), 0);
    app.err(
        V::V1,
        "ListTasks",
        json!({"status": "TASK_STATE_BOGUS"}),
        -32602,
    )
    .await;
    app.err(V::V1, "ListTasks", json!({"pageSize": 101}), -32602)
        .await;
    app.err(V::V1, "ListTasks", json!({"pageToken": "garbage!"}), -32602)
        .await;
}

#[tokio::test]
async fn cancel_moves_an_interrupted_task_to_canceled_once() {
    let app = spawn_app().await;
    let r = send(&app, msg_v1("tck-input-required")).await;
    let id = r["task"]["id"].clone();
    let canceled = app.ok(V::V1, "CancelTask", json!({"id": id})).await;
    assert_eq!(canceled["status"]["state"], "TASK_STATE_CANCELED");
    let got = app.ok(V::V1, "GetTask", json!({"id": id})).await;
    assert_eq!(got["status"]["state"], "TASK_STATE_CANCELED");
    let e = app
        .err(V::V1, "CancelTask", json!({"id": id}), -32002)
        .await;
    assert_eq!(e["data"][0]["reason"], "TASK_NOT_CANCELABLE");
    let mut follow = msg_v1("x");
    follow["taskId"] = id.clone();
    app.err(V::V1, "SendMessage", json!({"message": follow}), -32004)
        .await;
    app.err(V::V1, "CancelTask", json!({"id": "nope"}), -32001)
        .await;
}

#[tokio::test]
async fn cancel_stops_the_running_agent() {
    let app = spawn_app().await;
    let r = app
        .ok(
            V::V1,
            "SendMessage",
            json!({"message": msg_v1("test-resubscribe-message-id"), "configuration": {"returnImmediately": true}}),
        )
        .await;
    let id = r["task"]["id"].clone();
    eventually(|| async { app.service.running_agents() == 1 }).await;
    let canceled = app.ok(V::V1, "CancelTask", json!({"id": id})).await;
    assert_eq!(canceled["status"]["state"], "TASK_STATE_CANCELED");
    // The agent sees the signal and returns well before its 4 s hold ends.
    eventually(|| async { app.service.running_agents() == 0 }).await;
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    let got = app.ok(V::V1, "GetTask", json!({"id": id})).await;
    assert_eq!(got["status"]["state"], "TASK_STATE_CANCELED");
}

#[tokio::test]
async fn concurrent_cancels_yield_exactly_one_terminal_transition() {
    let app = spawn_app().await;
    let r = send(&app, msg_v1("tck-input-required")).await;
    let id = r["task"]["id"].clone();
    let calls = (0..16).map(|_| app.call(V::V1, "CancelTask", json!({"id": id})));
    let results = futures::future::join_all(calls).await;
    let ok = results.iter().filter(|r| r.get("result").is_some()).count();
    let not_cancelable = results
        .iter()
        .filter(|r| r["error"]["code"] == -32002)
        .count();
    assert_eq!(ok, 1, "{results:?}");
    assert_eq!(not_cancelable, 15);
}

#[tokio::test]
async fn concurrent_follow_ups_continue_the_task_once() {
    let app = spawn_app().await;
    let r = send(&app, msg_v1("tck-input-required")).await;
    let id = r["task"]["id"].clone();
    let calls = (0..8).map(|_| {
        let mut m = msg_v1("tck-complete-task");
        m["taskId"] = id.clone();
        app.call(V::V1, "SendMessage", json!({"message": m}))
    });
    let results = futures::future::join_all(calls).await;
    let ok = results.iter().filter(|r| r.get("result").is_some()).count();
    assert_eq!(ok, 1, "{results:?}");
    assert!(
        results
            .iter()
            .all(|r| r.get("result").is_some() || r["error"]["code"] == -32004)
    );
}

#[tokio::test]
async fn extended_card_and_push_are_not_declared() {
    let app = spawn_with(|c| c.push_notifications = false).await;
    let card: serde_json::Value = app
        .http
        .get(format!("{}/.well-known/agent-card.json", app.url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(card["capabilities"]["pushNotifications"], false);
    app.err(V::V1, "GetExtendedAgentCard", json!({}), -32004)
        .await;
    app.err(
        V::V1,
        "CreateTaskPushNotificationConfig",
        json!({"taskId": "t", "url": "https://x"}),
        -32003,
    )
    .await;
}

//! Push notifications: config methods of every version, inline configs, webhook URL
//! safety, and delivery to a real receiver (bodies, headers, JWT, order, retries, dead
//! letters).

use std::time::Duration;

use a2a_server::push::jwt::{NotificationVerifier, token_from_headers};
use serde_json::{Value, json};

use crate::helpers::{TestApp, V, msg_v1, msg_v03, spawn_with};
use crate::webhook::{Received, Receiver};

/// A server that accepts loopback webhooks and retries fast.
async fn push_app() -> TestApp {
    spawn_with(|c| {
        c.push_allow_private_networks = true;
        c.push_retry_base_ms = 20;
        c.push_retry_max_secs = 1;
    })
    .await
}

async fn input_required_task(app: &TestApp) -> String {
    let r = app
        .ok(
            V::V1,
            "SendMessage",
            json!({"message": msg_v1("tck-input-required")}),
        )
        .await;
    r["task"]["id"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn v1_config_crud_pages_masks_credentials_and_deletes_idempotently() {
    let app = push_app().await;
    let id = input_required_task(&app).await;
    let created = app
        .ok(
            V::V1,
            "CreateTaskPushNotificationConfig",
            json!({"taskId": id, "url": "http://127.0.0.1:9/a", "token": "tok-a",
                   "authentication": {"scheme": "Bearer", "credentials": "secret"}}),
        )
        .await;
    // No id given: the task id, as the official SDKs assign it.
    assert_eq!(created["id"], id.as_str());
    assert_eq!(created["taskId"], id.as_str());
    assert_eq!(created["url"], "http://127.0.0.1:9/a");
    assert_eq!(created["token"], "tok-a");
    assert_eq!(created["authentication"]["scheme"], "Bearer");
    assert!(
        created["authentication"].get("credentials").is_none(),
        "credentials are write-only: {created}"
    );
    for cfg in ["b", "c"] {
        app.ok(
            V::V1,
            "CreateTaskPushNotificationConfig",
            json!({"taskId": id, "id": cfg, "url": format!("http://127.0.0.1:9/{cfg}")}),
        )
        .await;
    }
    // Same id again replaces.
    app.ok(
        V::V1,
        "CreateTaskPushNotificationConfig",
        json!({"taskId": id, "id": "b", "url": "http://127.0.0.1:9/b2"}),
    )
    .await;
    let got = app
        .ok(
            V::V1,
            "GetTaskPushNotificationConfig",
            json!({"taskId": id, "id": "b"}),
        )
        .await;
    assert_eq!(got["url"], "http://127.0.0.1:9/b2");

    let page1 = app
        .ok(
            V::V1,
            "ListTaskPushNotificationConfigs",
            json!({"taskId": id, "pageSize": 2}),
        )
        .await;
    assert_eq!(page1["configs"].as_array().unwrap().len(), 2);
    let token = page1["nextPageToken"].as_str().unwrap();
    assert!(!token.is_empty());
    let page2 = app
        .ok(
            V::V1,
            "ListTaskPushNotificationConfigs",
            json!({"taskId": id, "pageSize": 2, "pageToken": token}),
        )
        .await;
    assert_eq!(page2["configs"].as_array().unwrap().len(), 1);
    assert_eq!(page2["nextPageToken"], "");
    let mut ids: Vec<String> = page1["configs"]
        .as_array()
        .unwrap()
        .iter()
        .chain(page2["configs"].as_array().unwrap())
        .map(|c| c["id"].as_str().unwrap().to_string())
        .collect();
    ids.sort();
    let mut want = vec![id.clone(), "b".into(), "c".into()];
    want.sort();
    assert_eq!(ids, want);

    for _ in 0..2 {
        let r = app
            .ok(
                V::V1,
                "DeleteTaskPushNotificationConfig",
                json!({"taskId": id, "id": "b"}),
            )
            .await;
        assert_eq!(r, json!({}));
    }
    let e = app
        .err(
            V::V1,
            "GetTaskPushNotificationConfig",
            json!({"taskId": id, "id": "b"}),
            -32001,
        )
        .await;
    assert!(e["message"].as_str().unwrap().contains("`b`"), "{e}");
    app.err(
        V::V1,
        "ListTaskPushNotificationConfigs",
        json!({"taskId": id, "pageSize": 5000}),
        -32602,
    )
    .await;
}

#[tokio::test]
async fn every_push_method_on_an_unknown_task_is_task_not_found() {
    let app = push_app().await;
    let url = "http://127.0.0.1:9/x";
    let calls = [
        (
            V::V1,
            "CreateTaskPushNotificationConfig",
            json!({"taskId": "nope", "url": url}),
        ),
        (
            V::V1,
            "GetTaskPushNotificationConfig",
            json!({"taskId": "nope", "id": "a"}),
        ),
        (
            V::V1,
            "ListTaskPushNotificationConfigs",
            json!({"taskId": "nope"}),
        ),
        (
            V::V1,
            "DeleteTaskPushNotificationConfig",
            json!({"taskId": "nope", "id": "a"}),
        ),
        (
            V::Legacy,
            "tasks/pushNotificationConfig/set",
            json!({"taskId": "nope", "pushNotificationConfig": {"url": url}}),
        ),
        (
            V::Legacy,
            "tasks/pushNotificationConfig/get",
            json!({"id": "nope"}),
        ),
        (
            V::Legacy,
            "tasks/pushNotificationConfig/list",
            json!({"id": "nope"}),
        ),
        (
            V::Legacy,
            "tasks/pushNotificationConfig/delete",
            json!({"id": "nope", "pushNotificationConfigId": "a"}),
        ),
        (
            V::Legacy,
            "tasks/pushNotification/set",
            json!({"id": "nope", "pushNotificationConfig": {"url": url}}),
        ),
        (
            V::Legacy,
            "tasks/pushNotification/get",
            json!({"id": "nope"}),
        ),
    ];
    for (v, method, params) in calls {
        app.err(v, method, params, -32001).await;
    }
    // A missing required field names it.
    let e = app
        .err(
            V::V1,
            "CreateTaskPushNotificationConfig",
            json!({"url": url}),
            -32602,
        )
        .await;
    assert!(e["message"].as_str().unwrap().contains("taskId"), "{e}");
}

#[tokio::test]
async fn v03_and_v01_configs_round_trip() {
    let app = push_app().await;
    let task = app
        .ok(
            V::Legacy,
            "message/send",
            json!({"message": msg_v03("tck-input-required")}),
        )
        .await;
    let id = task["id"].as_str().unwrap().to_string();
    let set = app
        .ok(
            V::Legacy,
            "tasks/pushNotificationConfig/set",
            json!({"taskId": id, "pushNotificationConfig": {"id": "one", "url": "http://127.0.0.1:9/1",
                   "token": "t1", "authentication": {"schemes": ["Basic"], "credentials": "dTpw"}}}),
        )
        .await;
    assert_eq!(set["taskId"], id.as_str());
    assert_eq!(set["pushNotificationConfig"]["id"], "one");
    assert_eq!(set["pushNotificationConfig"]["url"], "http://127.0.0.1:9/1");
    assert_eq!(
        set["pushNotificationConfig"]["authentication"]["schemes"],
        json!(["Basic"])
    );
    assert!(
        set["pushNotificationConfig"]["authentication"]
            .get("credentials")
            .is_none()
    );
    app.ok(
        V::Legacy,
        "tasks/pushNotificationConfig/set",
        json!({"taskId": id, "pushNotificationConfig": {"id": "two", "url": "http://127.0.0.1:9/2"}}),
    )
    .await;
    let got = app
        .ok(
            V::Legacy,
            "tasks/pushNotificationConfig/get",
            json!({"id": id, "pushNotificationConfigId": "two"}),
        )
        .await;
    assert_eq!(got["pushNotificationConfig"]["url"], "http://127.0.0.1:9/2");
    // Without a config id: the first one.
    let first = app
        .ok(
            V::Legacy,
            "tasks/pushNotificationConfig/get",
            json!({"id": id}),
        )
        .await;
    assert_eq!(first["pushNotificationConfig"]["id"], "one");
    let list = app
        .ok(
            V::Legacy,
            "tasks/pushNotificationConfig/list",
            json!({"id": id}),
        )
        .await;
    assert_eq!(list.as_array().unwrap().len(), 2, "{list}");
    let del = app
        .ok(
            V::Legacy,
            "tasks/pushNotificationConfig/delete",
            json!({"id": id, "pushNotificationConfigId": "one"}),
        )
        .await;
    assert_eq!(del, Value::Null);
    let list = app
        .ok(
            V::Legacy,
            "tasks/pushNotificationConfig/list",
            json!({"id": id}),
        )
        .await;
    assert_eq!(list.as_array().unwrap().len(), 1);
    app.err(
        V::Legacy,
        "tasks/pushNotificationConfig/delete",
        json!({"id": id}),
        -32602,
    )
    .await;

    // 0.1: one config per task, named by the task.
    let t01 = app
        .ok(
            V::Legacy,
            "tasks/send",
            json!({"id": "legacy-push-task", "message": {"role": "user",
                   "parts": [{"type": "text", "text": "hi"}]}}),
        )
        .await;
    assert_eq!(t01["id"], "legacy-push-task");
    let set = app
        .ok(
            V::Legacy,
            "tasks/pushNotification/set",
            json!({"id": "legacy-push-task", "pushNotificationConfig": {"url": "http://127.0.0.1:9/01", "token": "z"}}),
        )
        .await;
    assert_eq!(set["id"], "legacy-push-task");
    assert_eq!(
        set["pushNotificationConfig"]["url"],
        "http://127.0.0.1:9/01"
    );
    let got = app
        .ok(
            V::Legacy,
            "tasks/pushNotification/get",
            json!({"id": "legacy-push-task"}),
        )
        .await;
    assert_eq!(got["pushNotificationConfig"]["token"], "z");
}

#[tokio::test]
async fn inline_configs_of_every_version_take_effect() {
    let app = push_app().await;
    let r = app
        .ok(
            V::V1,
            "SendMessage",
            json!({"message": msg_v1("tck-input-required"),
                   "configuration": {"taskPushNotificationConfig": {"url": "http://127.0.0.1:9/v1", "token": "a"}}}),
        )
        .await;
    let id = r["task"]["id"].as_str().unwrap();
    let list = app
        .ok(
            V::V1,
            "ListTaskPushNotificationConfigs",
            json!({"taskId": id}),
        )
        .await;
    assert_eq!(list["configs"][0]["url"], "http://127.0.0.1:9/v1");
    assert_eq!(list["configs"][0]["id"], id);

    let t = app
        .ok(
            V::Legacy,
            "message/send",
            json!({"message": msg_v03("tck-input-required"),
                   "configuration": {"pushNotificationConfig": {"id": "c3", "url": "http://127.0.0.1:9/v03"}}}),
        )
        .await;
    let got = app
        .ok(
            V::Legacy,
            "tasks/pushNotificationConfig/get",
            json!({"id": t["id"], "pushNotificationConfigId": "c3"}),
        )
        .await;
    assert_eq!(
        got["pushNotificationConfig"]["url"],
        "http://127.0.0.1:9/v03"
    );

    app.ok(
        V::Legacy,
        "tasks/send",
        json!({"id": "inline-01", "message": {"role": "user", "parts": [{"type": "text", "text": "x"}]},
               "pushNotification": {"url": "http://127.0.0.1:9/v01"}}),
    )
    .await;
    let got = app
        .ok(
            V::Legacy,
            "tasks/pushNotification/get",
            json!({"id": "inline-01"}),
        )
        .await;
    assert_eq!(
        got["pushNotificationConfig"]["url"],
        "http://127.0.0.1:9/v01"
    );
}

#[tokio::test]
async fn blocked_webhook_urls_are_refused_with_the_reason_unless_allowed() {
    let app = spawn_with(|_| {}).await;
    let id = input_required_task(&app).await;
    let cases = [
        ("http://127.0.0.1:8080/hook", "loopback"),
        ("http://[::1]/hook", "loopback"),
        ("http://10.0.0.5/hook", "private"),
        ("http://192.168.1.10/hook", "private"),
        ("http://169.254.169.254/latest/meta-data", "metadata"),
        ("http://169.254.10.10/", "link-local"),
        ("http://localhost:3000/", "loopback"),
        ("ftp://203.0.113.9/hook", "http and https"),
        ("not a url", "not a valid absolute URL"),
    ];
    for (url, why) in cases {
        let e = app
            .err(
                V::V1,
                "CreateTaskPushNotificationConfig",
                json!({"taskId": id, "url": url}),
                -32602,
            )
            .await;
        let msg = e["message"].as_str().unwrap().to_lowercase();
        assert!(msg.contains(&why.to_lowercase()), "{url}: {msg}");
    }
    let e = app
        .err(
            V::V1,
            "CreateTaskPushNotificationConfig",
            json!({"taskId": id, "url": "http://127.0.0.1:8080/hook"}),
            -32602,
        )
        .await;
    assert!(
        e["message"]
            .as_str()
            .unwrap()
            .contains("--push-allow-private-networks"),
        "{e}"
    );
    // Inline in a send: refused before any task exists.
    let before = app.ok(V::V1, "ListTasks", json!({})).await["totalSize"].clone();
    app.err(
        V::V1,
        "SendMessage",
        json!({"message": msg_v1("tck-complete-task"),
               "configuration": {"taskPushNotificationConfig": {"url": "http://10.1.1.1/"}}}),
        -32602,
    )
    .await;
    let after = app.ok(V::V1, "ListTasks", json!({})).await["totalSize"].clone();
    assert_eq!(before, after);

    // With the switch, loopback is fine.
    let open = push_app().await;
    let id = input_required_task(&open).await;
    open.ok(
        V::V1,
        "CreateTaskPushNotificationConfig",
        json!({"taskId": id, "url": "http://127.0.0.1:8080/hook"}),
    )
    .await;
}

#[tokio::test]
async fn inline_config_with_push_off_is_not_supported() {
    let app = spawn_with(|c| c.push_notifications = false).await;
    app.err(
        V::V1,
        "SendMessage",
        json!({"message": msg_v1("tck-complete-task"),
               "configuration": {"taskPushNotificationConfig": {"url": "http://127.0.0.1:9/"}}}),
        -32003,
    )
    .await;
    let (status, _) = get_json(&app, "/.well-known/jwks.json").await;
    assert_eq!(status, 404);
}

async fn get_json(app: &TestApp, path: &str) -> (u16, Value) {
    let resp = app
        .http
        .get(format!("{}{path}", app.url))
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

async fn verifier(app: &TestApp) -> NotificationVerifier {
    NotificationVerifier::from_jwks_url(&format!("{}/.well-known/jwks.json", app.url))
        .await
        .expect("JWKS loads")
        .with_issuer(app.url.clone())
}

fn events_of(task: &str, got: &[Received]) -> Vec<Received> {
    got.iter()
        .filter(|r| r.event().0 == task)
        .cloned()
        .collect()
}

#[tokio::test]
async fn v1_delivery_posts_each_event_as_a_signed_stream_response_in_order() {
    let app = push_app().await;
    let hook = Receiver::start().await;
    let url = hook.url("/v1");
    let r = app
        .ok(
            V::V1,
            "SendMessage",
            json!({"message": msg_v1("tck-stream-artifact-chunked"),
                   "configuration": {"taskPushNotificationConfig": {"url": url, "token": "tok-1"}}}),
        )
        .await;
    let task_id = r["task"]["id"].as_str().unwrap().to_string();
    // task, working, 2 artifact chunks, completed.
    let got = hook.wait_for(5).await;
    let got = events_of(&task_id, &got);
    assert_eq!(got.len(), 5);
    let seqs: Vec<u64> = got.iter().map(|r| r.event().1).collect();
    assert_eq!(seqs, vec![1, 2, 3, 4, 5]);
    let kinds: Vec<String> = got
        .iter()
        .map(|r| r.json().as_object().unwrap().keys().next().unwrap().clone())
        .collect();
    assert_eq!(
        kinds,
        [
            "task",
            "statusUpdate",
            "artifactUpdate",
            "artifactUpdate",
            "statusUpdate"
        ]
    );
    let last = got[4].json();
    assert_eq!(
        last["statusUpdate"]["status"]["state"],
        "TASK_STATE_COMPLETED"
    );
    assert_eq!(last["statusUpdate"]["taskId"], task_id.as_str());

    let verifier = verifier(&app).await;
    for r in &got {
        assert_eq!(r.header("content-type"), Some("application/a2a+json"));
        assert_eq!(r.header("x-a2a-notification-token"), Some("tok-1"));
        assert!(r.header("authorization").unwrap().starts_with("Bearer "));
        let token = token_from_headers(&r.headers).expect("JWT");
        let claims = verifier.verify(token, &url, &r.body).expect("JWT verifies");
        assert_eq!(claims.task_id, task_id);
        assert_eq!(claims.jti, r.header("x-a2a-event-id").unwrap());
        // One byte changed: the body hash no longer matches.
        let mut altered = r.body.to_vec();
        altered[0] = b' ';
        assert!(verifier.verify(token, &url, &altered).is_err());
        // Another audience: refused.
        assert!(
            verifier
                .verify(token, "http://evil.example/hook", &r.body)
                .is_err()
        );
    }
}

#[tokio::test]
async fn v03_and_v01_deliveries_post_the_task_with_the_configured_credentials() {
    let app = push_app().await;
    let hook = Receiver::start().await;
    let r = app
        .ok(
            V::Legacy,
            "message/send",
            json!({"message": msg_v03("tck-artifact-text"),
                   "configuration": {"pushNotificationConfig": {"url": hook.url("/v03"), "token": "t03",
                       "authentication": {"schemes": ["Basic"], "credentials": "dXNlcjpwYXNz"}}}}),
        )
        .await;
    let task_id = r["id"].as_str().unwrap().to_string();
    let got = hook
        .wait_until(Duration::from_secs(20), |got| {
            got.iter()
                .any(|r| r.json()["status"]["state"] == "completed")
        })
        .await;
    let verifier = verifier(&app).await;
    for r in &got {
        let body = r.json();
        assert_eq!(body["kind"], "task", "{body}");
        assert_eq!(body["id"], task_id.as_str());
        assert_eq!(r.header("content-type"), Some("application/json"));
        assert_eq!(r.header("x-a2a-notification-token"), Some("t03"));
        assert_eq!(r.header("authorization"), Some("Basic dXNlcjpwYXNz"));
        let jwt = r
            .header("x-a2a-notification-jwt")
            .expect("JWT in its own header");
        verifier
            .verify(jwt, &hook.url("/v03"), &r.body)
            .expect("verifies");
    }
    let last = got.last().unwrap().json();
    assert_eq!(
        last["artifacts"][0]["parts"][0]["text"],
        "Generated text content"
    );

    // 0.1: the task in 0.1 shape.
    app.ok(
        V::Legacy,
        "tasks/send",
        json!({"id": "push-01", "message": {"role": "user", "parts": [{"type": "text", "text": "x"}]},
               "pushNotification": {"url": hook.url("/v01")}}),
    )
    .await;
    let got = hook
        .wait_until(Duration::from_secs(20), |got| {
            got.iter().any(|r| r.path == "/v01")
        })
        .await;
    let r01 = got.iter().find(|r| r.path == "/v01").unwrap().json();
    assert_eq!(r01["id"], "push-01");
    assert_eq!(r01["status"]["state"], "input-required");
    assert!(r01.get("kind").is_none(), "0.1 tasks have no kind: {r01}");
}

#[tokio::test]
async fn failed_deliveries_are_retried_in_order_with_a_stable_event_id() {
    let app = push_app().await;
    let hook = Receiver::start().await;
    hook.fail_next(3);
    let r = app
        .ok(
            V::V1,
            "SendMessage",
            // Four events: task, working, artifact, completed.
            json!({"message": msg_v1("tck-stream-001"),
                   "configuration": {"taskPushNotificationConfig": {"url": hook.url("/r")}}}),
        )
        .await;
    let task_id = r["task"]["id"].as_str().unwrap().to_string();
    let got = hook.wait_for(4).await;
    assert_eq!(hook.failed(), 3);
    let got = events_of(&task_id, &got);
    let seqs: Vec<u64> = got.iter().map(|r| r.event().1).collect();
    assert_eq!(seqs, vec![1, 2, 3, 4], "in order despite the failures");
    // The first event was tried 4 times (3 answered 500).
    assert_eq!(got[0].header("x-a2a-delivery-attempt"), Some("4"));
    assert_eq!(got[1].header("x-a2a-delivery-attempt"), Some("1"));
}

#[tokio::test]
async fn a_receiver_that_is_down_gets_everything_once_it_is_back() {
    let app = push_app().await;
    let addr = Receiver::unused_addr().await;
    let url = format!("http://{addr}/down");
    let r = app
        .ok(
            V::V1,
            "SendMessage",
            json!({"message": msg_v1("tck-stream-001"),
                   "configuration": {"taskPushNotificationConfig": {"url": url}}}),
        )
        .await;
    let task_id = r["task"]["id"].as_str().unwrap().to_string();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let hook = Receiver::start_on(addr).await;
    let got = hook.wait_for(4).await;
    let seqs: Vec<u64> = events_of(&task_id, &got)
        .iter()
        .map(|r| r.event().1)
        .collect();
    assert_eq!(seqs, vec![1, 2, 3, 4]);
}

#[tokio::test]
async fn exhausted_notifications_are_dead_lettered_counted_and_can_be_requeued() {
    let app = spawn_with(|c| {
        c.push_allow_private_networks = true;
        c.push_retry_base_ms = 10;
        c.push_max_attempts = 2;
    })
    .await;
    let hook = Receiver::start().await;
    hook.always_fail(true);
    let r = app
        .ok(
            V::V1,
            "SendMessage",
            json!({"message": msg_v1("tck-complete-task"),
                   "configuration": {"taskPushNotificationConfig": {"url": hook.url("/dead")}}}),
        )
        .await;
    let task_id = r["task"]["id"].as_str().unwrap().to_string();
    // Two events (task, completed), two attempts each.
    crate::helpers::eventually(|| async { hook.failed() >= 4 }).await;
    let store = app.service.store();
    crate::helpers::eventually(|| async { store.dead_letters(10).await.unwrap().len() == 2 }).await;
    let dead = store.dead_letters(10).await.unwrap();
    assert!(dead.iter().all(|d| d.task_id == task_id && d.attempts == 2));
    assert!(
        dead[0].last_error.as_deref().unwrap().contains("500"),
        "{:?}",
        dead[0]
    );
    let metrics = app
        .http
        .get(format!("{}/metrics", app.url))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("a2a_push_deliveries_total{outcome=\"dead\"} 2"),
        "{metrics}"
    );
    assert!(metrics.contains("a2a_push_deliveries_total{outcome=\"failed\"} 2"));
    assert!(hook.received().is_empty());

    hook.always_fail(false);
    let n = store
        .requeue_dead_letters(None, chrono::Utc::now().timestamp_millis())
        .await
        .unwrap();
    assert_eq!(n, 2);
    let got = hook.wait_for(2).await;
    let seqs: Vec<u64> = got.iter().map(|r| r.event().1).collect();
    assert_eq!(seqs, vec![1, 2]);
    assert!(store.dead_letters(10).await.unwrap().is_empty());
}

#[tokio::test]
async fn each_webhook_receives_its_tasks_events_in_order_under_load() {
    let app = push_app().await;
    let hook = Receiver::start().await;
    // Every third request fails at first, to mix retries into the traffic.
    hook.fail_next(5);
    let mut tasks = Vec::new();
    for i in 0..20 {
        let r = app
            .ok(
                V::V1,
                "SendMessage",
                json!({"message": msg_v1("tck-stream-artifact-chunked"),
                       "configuration": {"returnImmediately": i % 2 == 0,
                           "taskPushNotificationConfig": {"url": hook.url("/load")}}}),
            )
            .await;
        tasks.push(r["task"]["id"].as_str().unwrap().to_string());
    }
    let got = hook.wait_for(20 * 5).await;
    for t in &tasks {
        let seqs: Vec<u64> = events_of(t, &got).iter().map(|r| r.event().1).collect();
        assert_eq!(seqs, vec![1, 2, 3, 4, 5], "task {t}");
    }
}

#[tokio::test]
async fn a_deleted_config_gets_nothing_more() {
    let app = push_app().await;
    let hook = Receiver::start().await;
    let r = app
        .ok(
            V::V1,
            "SendMessage",
            json!({"message": msg_v1("tck-input-required"),
                   "configuration": {"taskPushNotificationConfig": {"id": "gone", "url": hook.url("/gone")}}}),
        )
        .await;
    let task_id = r["task"]["id"].as_str().unwrap().to_string();
    hook.wait_for(2).await;
    app.ok(
        V::V1,
        "DeleteTaskPushNotificationConfig",
        json!({"taskId": task_id, "id": "gone"}),
    )
    .await;
    let mut follow = msg_v1("tck-complete-task");
    follow["taskId"] = json!(task_id);
    app.ok(V::V1, "SendMessage", json!({"message": follow}))
        .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(hook.received().len(), 2);
}

#[tokio::test]
async fn a_rotated_key_stays_published_and_new_tokens_use_the_new_one() {
    let app = spawn_with(|c| {
        c.push_allow_private_networks = true;
        c.push_key_rotation_secs = 1;
    })
    .await;
    let hook = Receiver::start().await;
    let (_, before) = get_json(&app, "/.well-known/jwks.json").await;
    assert_eq!(before["keys"].as_array().unwrap().len(), 1, "{before}");
    let old_kid = before["keys"][0]["kid"].as_str().unwrap().to_string();
    let verifier = verifier(&app).await;
    // Delivered (and signed) before the rotation.
    let r = app
        .ok(
            V::V1,
            "SendMessage",
            json!({"message": msg_v1("tck-complete-task"),
                   "configuration": {"taskPushNotificationConfig": {"url": hook.url("/rot")}}}),
        )
        .await;
    let first = hook.wait_for(2).await;
    crate::helpers::eventually(|| async {
        let (_, jwks) = get_json(&app, "/.well-known/jwks.json").await;
        jwks["keys"].as_array().unwrap().len() == 2
    })
    .await;
    let (_, after) = get_json(&app, "/.well-known/jwks.json").await;
    let kids: Vec<&str> = after["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap())
        .collect();
    assert!(
        kids.contains(&old_kid.as_str()),
        "old key still published: {kids:?}"
    );
    // The old token still verifies; a new one (new kid) verifies after a JWKS refresh.
    let token = token_from_headers(&first[0].headers).unwrap();
    verifier
        .verify(token, &hook.url("/rot"), &first[0].body)
        .unwrap();
    assert_eq!(first[0].event().0, r["task"]["id"].as_str().unwrap());
    let r2 = app
        .ok(
            V::V1,
            "SendMessage",
            json!({"message": msg_v1("tck-complete-task"),
                   "configuration": {"taskPushNotificationConfig": {"url": hook.url("/rot2")}}}),
        )
        .await;
    let got = hook.wait_for(4).await;
    let newest = got.iter().rfind(|g| g.path == "/rot2").unwrap();
    let token = token_from_headers(&newest.headers).unwrap();
    let header = jsonwebtoken::decode_header(token).unwrap();
    assert_ne!(
        header.kid.as_deref(),
        Some(old_kid.as_str()),
        "signed with the new key"
    );
    // The old verifier does not know the new kid (and refreshes at most every 10 s); a
    // receiver that fetches the JWKS now verifies it.
    assert!(
        verifier
            .verify(token, &hook.url("/rot2"), &newest.body)
            .is_err()
    );
    let claims = crate::push::verifier(&app)
        .await
        .verify(token, &hook.url("/rot2"), &newest.body)
        .expect("verifies with the rotated key");
    assert_eq!(claims.task_id, r2["task"]["id"].as_str().unwrap());
}

//! Webhook hosts at registration: a name that does not resolve yet is accepted by every
//! way of registering (it may resolve by delivery time; the connect-time filter still
//! applies then), blocked literals are refused, and a delivery to a name that never
//! resolves is retried and dead-lettered like any failed delivery.

use serde_json::{Value, json};

use crate::helpers::{TestApp, V, msg_v1, msg_v03, spawn_with};

/// RFC 6761: `.invalid` never resolves.
const UNRESOLVABLE: &str = "https://hook.a2a-test.invalid/notify";

/// Every way of registering `url`, each on a task of its own: (version, method, params).
async fn registrations(app: &TestApp, url: &str) -> Vec<(V, &'static str, Value)> {
    let v1 = app
        .ok(
            V::V1,
            "SendMessage",
            json!({"message": msg_v1("tck-input-required")}),
        )
        .await["task"]["id"]
        .clone();
    let v03 = app
        .ok(
            V::Legacy,
            "message/send",
            json!({"message": msg_v03("tck-input-required")}),
        )
        .await["id"]
        .clone();
    let v01 = format!("hosts-{}", uuid::Uuid::new_v4());
    let text = json!({"role": "user", "parts": [{"type": "text", "text": "hi"}]});
    app.ok(V::Legacy, "tasks/send", json!({"id": v01, "message": text}))
        .await;
    vec![
        (
            V::V1,
            "CreateTaskPushNotificationConfig",
            json!({"taskId": v1, "url": url}),
        ),
        (
            V::Legacy,
            "tasks/pushNotificationConfig/set",
            json!({"taskId": v03, "pushNotificationConfig": {"url": url}}),
        ),
        (
            V::Legacy,
            "tasks/pushNotification/set",
            json!({"id": v01, "pushNotificationConfig": {"url": url}}),
        ),
        (
            V::V1,
            "SendMessage",
            json!({"message": msg_v1("tck-input-required"),
                   "configuration": {"taskPushNotificationConfig": {"url": url}}}),
        ),
        (
            V::Legacy,
            "message/send",
            json!({"message": msg_v03("tck-input-required"),
                   "configuration": {"pushNotificationConfig": {"url": url}}}),
        ),
        (
            V::Legacy,
            "tasks/send",
            json!({"id": format!("hosts-{}", uuid::Uuid::new_v4()), "message": text,
                   "pushNotification": {"url": url}}),
        ),
    ]
}

#[tokio::test]
async fn a_webhook_host_that_does_not_resolve_yet_is_accepted_by_every_registration() {
    // Private networks refused, as in production: the name is not refused for being
    // unresolvable, whatever the host's DNS.
    let app = spawn_with(|_| {}).await;
    for (v, method, params) in registrations(&app, UNRESOLVABLE).await {
        app.ok(v, method, params).await;
    }
    let list = app
        .ok(
            V::V1,
            "SendMessage",
            json!({"message": msg_v1("tck-input-required"),
                   "configuration": {"taskPushNotificationConfig": {"url": UNRESOLVABLE}}}),
        )
        .await;
    let got = app
        .ok(
            V::V1,
            "ListTaskPushNotificationConfigs",
            json!({"taskId": list["task"]["id"]}),
        )
        .await;
    assert_eq!(got["configs"][0]["url"], UNRESOLVABLE);
}

#[tokio::test]
async fn blocked_literal_webhook_addresses_are_refused_by_every_registration() {
    let app = spawn_with(|_| {}).await;
    let cases = [
        ("http://10.0.0.7/hook", "private"),
        ("http://127.0.0.1:8080/hook", "loopback"),
        ("http://[::1]:8080/hook", "loopback"),
        ("http://169.254.169.254/latest/meta-data/", "metadata"),
    ];
    for (url, why) in cases {
        for (v, method, params) in registrations(&app, url).await {
            let e = app.err(v, method, params, -32602).await;
            let msg = e["message"].as_str().unwrap().to_lowercase();
            assert!(msg.contains(why), "{method} {url}: {msg}");
            assert!(msg.contains("--push-allow-private-networks"), "{msg}");
        }
    }
}

#[tokio::test]
async fn a_delivery_to_a_host_that_does_not_resolve_is_retried_then_dead_lettered() {
    let app = spawn_with(|c| {
        c.push_retry_base_ms = 10;
        c.push_retry_max_secs = 1;
        c.push_max_attempts = 3;
    })
    .await;
    let url = format!("{UNRESOLVABLE}?key=query-secret");
    let r = app
        .ok(
            V::V1,
            "SendMessage",
            json!({"message": msg_v1("tck-complete-task"),
                   "configuration": {"taskPushNotificationConfig": {"url": url, "token": "token-secret",
                       "authentication": {"scheme": "Bearer", "credentials": "credential-secret"}}}}),
        )
        .await;
    let task_id = r["task"]["id"].as_str().unwrap().to_string();
    // Two events (the task, its completion), three attempts each.
    let store = app.service.store();
    crate::helpers::eventually(|| async { store.dead_letters(10).await.unwrap().len() == 2 }).await;
    for d in store.dead_letters(10).await.unwrap() {
        assert_eq!(d.task_id, task_id);
        assert_eq!(d.attempts, 3, "{d:?}");
        let why = d.last_error.as_deref().unwrap_or_default();
        assert!(why.contains("resolve"), "{why}");
        for secret in ["query-secret", "token-secret", "credential-secret"] {
            assert!(!why.contains(secret), "{why}");
        }
    }
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
        metrics.contains("a2a_push_deliveries_total{outcome=\"failed\"} 4"),
        "{metrics}"
    );
    // The server is still there.
    let task = app.ok(V::V1, "GetTask", json!({"id": task_id})).await;
    assert_eq!(task["status"]["state"], "TASK_STATE_COMPLETED");
}

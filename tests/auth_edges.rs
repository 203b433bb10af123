//! The edges of authentication on the real binary: a stream outlives its token (it ends
//! with a -31401 event, over HTTP+JSON a 401 Status event, and a fresh token resumes it
//! with `Last-Event-ID`); the identity
//! provider is unreachable when the first token arrives (503, then served once it is up,
//! without a restart), for a configured key set and for OIDC discovery; credentials never
//! reach the logs, on the refusal paths and streams too.

mod support;

use std::time::{Duration, Instant};

use jsonwebtoken::Algorithm;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use support::app::{Answer, rpc};
use support::idp::{AUD, Idp, Key, claims, free_port, now};
use support::{Logs, ServerProcess};

/// `a2a serve` with `toml`, its log as JSON lines at `RUST_LOG` `level`.
fn serve(toml: &str, level: &str) -> (ServerProcess, tempfile::TempDir, Logs) {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("a2a.toml");
    std::fs::write(&config, toml).unwrap();
    let (p, logs) = ServerProcess::start_logged(
        &["--store", "memory:", "--config", config.to_str().unwrap()],
        &[("RUST_LOG", level), ("A2A_LOG_FORMAT", "json")],
    );
    (p, dir, logs)
}

/// One `[[auth.jwt]]` table for `issuer`, with `extra` lines.
fn jwt_table(issuer: &str, extra: &str) -> String {
    format!("[[auth.jwt]]\nissuer = {issuer:?}\naudience = [{AUD:?}]\n{extra}\n")
}

fn bearer(key: &Key, claims: &Value) -> String {
    format!("Bearer {}", key.sign(claims))
}

/// A token of `sub` that expires `secs` from now.
fn short_lived(key: &Key, issuer: &str, sub: &str, secs: i64) -> String {
    let mut c = claims(issuer, sub);
    c["exp"] = json!(now() + secs);
    bearer(key, &c)
}

fn http() -> reqwest::Client {
    // A stream that never ends (the feature broken) fails the test instead of hanging it.
    reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .build()
        .unwrap()
}

fn message(id_prefix: &str, task_id: Option<&str>) -> Value {
    let mut m = json!({"messageId": format!("{id_prefix}-{}", uuid::Uuid::new_v4()),
                       "role": "ROLE_USER", "parts": [{"text": "hi"}]});
    if let Some(t) = task_id {
        m["taskId"] = json!(t);
    }
    m
}

/// A 0.3 message.
fn message_v03(id_prefix: &str) -> Value {
    json!({"kind": "message", "messageId": format!("{id_prefix}-{}", uuid::Uuid::new_v4()),
           "role": "user", "parts": [{"kind": "text", "text": "hi"}]})
}

async fn call(url: &str, auth: &str, version: Option<&str>, method: &str, p: Value) -> Answer {
    rpc(
        &http(),
        url,
        version,
        1,
        method,
        p,
        &[("Authorization", auth)],
    )
    .await
}

/// A task waiting for input (the conformance agent's echo), owned by `auth`'s caller.
async fn waiting_task(url: &str, auth: &str) -> String {
    let a = call(
        url,
        auth,
        Some("1.0"),
        "SendMessage",
        json!({"message": message("echo", None)}),
    )
    .await;
    let task = &a.body["result"]["task"];
    assert_eq!(
        task["status"]["state"], "TASK_STATE_INPUT_REQUIRED",
        "{}",
        a.body
    );
    task["id"].as_str().unwrap().to_string()
}

/// One SSE event: its `id:` line, if any, and its `data:` JSON.
#[derive(Debug)]
struct Event {
    id: Option<u64>,
    data: Value,
}

/// Opens a stream and reads it to its end (the server closes it).
async fn stream(
    url: &str,
    auth: &str,
    version: Option<&str>,
    method: &str,
    params: Value,
    last_event_id: Option<u64>,
) -> Vec<Event> {
    let mut req = http()
        .post(format!("{url}/"))
        .header("Authorization", auth)
        .json(&json!({"jsonrpc": "2.0", "id": 5, "method": method, "params": params}));
    if let Some(v) = version {
        req = req.header("A2A-Version", v);
    }
    if let Some(l) = last_event_id {
        req = req.header("Last-Event-ID", l.to_string());
    }
    let resp = req.send().await.unwrap();
    assert_eq!(resp.status(), 200, "{method}");
    assert_eq!(
        resp.headers()["content-type"],
        "text/event-stream",
        "{method}"
    );
    let text = resp.text().await.expect("the stream ends");
    text.split("\n\n")
        .filter_map(|block| {
            let mut id = None;
            let mut data = None;
            for line in block.lines() {
                if let Some(v) = line.strip_prefix("id: ") {
                    id = Some(v.trim().parse().unwrap());
                } else if let Some(v) = line.strip_prefix("data: ") {
                    data = Some(serde_json::from_str(v).unwrap());
                }
            }
            data.map(|data| Event { id, data })
        })
        .collect()
}

/// The stream's last event says its token expired, and carries no `id:`.
fn assert_ends_expired(events: &[Event], what: &str) {
    let last = events.last().unwrap_or_else(|| panic!("{what}: no events"));
    assert_eq!(last.data["error"]["code"], -31401, "{what}: {events:?}");
    assert_eq!(last.data["error"]["message"], "token expired", "{what}");
    assert_eq!(last.data["id"], 5, "{what}: the request's id");
    assert_eq!(
        last.id, None,
        "{what}: Last-Event-ID stays the last event's"
    );
    assert!(
        events.len() >= 2,
        "{what}: events before the end: {events:?}"
    );
}

fn completed(events: &[Event]) -> bool {
    events
        .iter()
        .any(|e| e.data.to_string().contains("TASK_STATE_COMPLETED"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_ends_when_its_token_expires_and_a_fresh_token_resumes_it() {
    let key = Key::new("k", Algorithm::ES256);
    let idp = Idp::start(&[&key]).await;
    let iss = idp.issuer.clone();
    // No leeway: the token stops being accepted at its exp, and its stream ends then.
    let (server, _dir, _logs) = serve(&jwt_table(&iss, "leeway_secs = 0"), "info");
    let url = &server.url;
    let alice = bearer(&key, &claims(&iss, "alice"));

    // 1.0 SubscribeToTask on a task waiting for input, with a token good for 2 s.
    let task = waiting_task(url, &alice).await;
    let short = short_lived(&key, &iss, "alice", 2);
    let events = stream(
        url,
        &short,
        Some("1.0"),
        "SubscribeToTask",
        json!({"id": task}),
        None,
    )
    .await;
    assert_ends_expired(&events, "SubscribeToTask");
    let seen = events
        .iter()
        .filter_map(|e| e.id)
        .max()
        .expect("the task snapshot's id");
    // The same token is now refused, as the stream said.
    let a = call(url, &short, Some("1.0"), "GetTask", json!({"id": task})).await;
    assert_eq!(a.status, 401, "{}", a.body);
    assert!(
        a.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("expired")
    );
    // The task goes on while nobody follows it; a fresh token resumes after `seen`.
    let done = call(
        url,
        &alice,
        Some("1.0"),
        "SendMessage",
        json!({"message": message("tck-complete-task", Some(&task))}),
    )
    .await;
    assert_eq!(
        done.body["result"]["task"]["status"]["state"], "TASK_STATE_COMPLETED",
        "{}",
        done.body
    );
    let rest = stream(
        url,
        &alice,
        Some("1.0"),
        "SubscribeToTask",
        json!({"id": task}),
        Some(seen),
    )
    .await;
    assert!(completed(&rest), "the events missed while away: {rest:?}");
    assert!(
        rest.iter()
            .all(|e| e.id.is_some_and(|id| id > seen) && e.data["error"].is_null()),
        "{rest:?}"
    );

    // 1.0 SendStreamingMessage: a task that works for 4 s, a token good for 2 s.
    let short = short_lived(&key, &iss, "alice", 2);
    let params = json!({"message": message("test-resubscribe-message-id", None)});
    let events = stream(
        url,
        &short,
        Some("1.0"),
        "SendStreamingMessage",
        params,
        None,
    )
    .await;
    assert_ends_expired(&events, "SendStreamingMessage");
    let task = events[0].data["result"]["task"]["id"]
        .as_str()
        .expect("the task first")
        .to_string();
    let seen = events.iter().filter_map(|e| e.id).max().unwrap();
    let rest = stream(
        url,
        &alice,
        Some("1.0"),
        "SubscribeToTask",
        json!({"id": task}),
        Some(seen),
    )
    .await;
    assert!(completed(&rest), "{rest:?}");
    assert!(
        rest.iter().all(|e| e.id.is_some_and(|id| id > seen)),
        "{rest:?}"
    );

    // 0.3 message/stream and tasks/resubscribe end the same way.
    let short = short_lived(&key, &iss, "alice", 2);
    let params = json!({"message": message_v03("test-resubscribe-message-id")});
    let events = stream(url, &short, None, "message/stream", params, None).await;
    assert_ends_expired(&events, "message/stream");
    let a = call(
        url,
        &alice,
        None,
        "message/send",
        json!({"message": message_v03("echo")}),
    )
    .await;
    let task = a.body["result"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{}", a.body))
        .to_string();
    let short = short_lived(&key, &iss, "alice", 2);
    let events = stream(
        url,
        &short,
        None,
        "tasks/resubscribe",
        json!({"id": task}),
        None,
    )
    .await;
    assert_ends_expired(&events, "tasks/resubscribe");
}

/// Over HTTP+JSON (1.0 and 0.3) the same end: a `google.rpc.Status` event (401
/// `UNAUTHENTICATED`, "token expired") with no `id:`, after the task's own events.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rest_stream_ends_with_a_status_event_when_its_token_expires() {
    let key = Key::new("k", Algorithm::ES256);
    let idp = Idp::start(&[&key]).await;
    let iss = idp.issuer.clone();
    let (server, _dir, _logs) = serve(&jwt_table(&iss, "leeway_secs = 0"), "info");
    let url = &server.url;
    let alice = bearer(&key, &claims(&iss, "alice"));
    let task = waiting_task(url, &alice).await;
    for path in [
        format!("/rest/tasks/{task}:subscribe"),
        format!("/rest/v1/tasks/{task}:subscribe"),
    ] {
        let short = short_lived(&key, &iss, "alice", 2);
        let text = http()
            .get(format!("{url}{path}"))
            .header("Authorization", &short)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .expect("the stream ends");
        let blocks: Vec<&str> = text
            .split("\n\n")
            .filter(|b| b.contains("data: "))
            .collect();
        assert!(blocks.len() >= 2, "{path}: {text}");
        let last = blocks.last().unwrap();
        assert!(!last.contains("id: "), "{path}: {last}");
        let data: Value =
            serde_json::from_str(last.lines().find_map(|l| l.strip_prefix("data: ")).unwrap())
                .unwrap();
        assert_eq!(data["error"]["code"], 401, "{path}: {data}");
        assert_eq!(data["error"]["status"], "UNAUTHENTICATED", "{path}: {data}");
        let message = data["error"]["message"].as_str().unwrap();
        assert!(message.contains("token expired"), "{path}: {message}");
    }
}

/// Sends until the token is served (the provider came up), bounded.
async fn served_eventually(url: &str, auth: &str) -> Answer {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let a = call(
            url,
            auth,
            Some("1.0"),
            "SendMessage",
            json!({"message": message("tck-complete-task", None)}),
        )
        .await;
        if a.status != 503 || Instant::now() > deadline {
            return a;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The token gets 503 with `Retry-After`, a message saying the keys cannot be fetched
/// (never the token), one audit line and the `keys_unavailable` count.
async fn assert_cannot_verify_yet(url: &str, token: &str, logs: &Logs) {
    let a = call(
        url,
        token,
        Some("1.0"),
        "SendMessage",
        json!({"message": message("tck-complete-task", None)}),
    )
    .await;
    assert_eq!(a.status, 503, "{}", a.body);
    assert_eq!(a.headers["retry-after"], "1");
    assert!(
        a.headers.get("www-authenticate").is_none(),
        "not the caller's fault"
    );
    assert_eq!(a.body["id"], 1);
    assert_eq!(a.body["error"]["code"], -32603, "{}", a.body);
    let msg = a.body["error"]["message"].as_str().unwrap();
    assert!(
        msg.contains("cannot be fetched") && msg.contains("retry later"),
        "{msg}"
    );
    assert!(!msg.contains(token.trim_start_matches("Bearer ")));
    let lines = logs.wait_for("the audit line", |l| {
        l.contains("a2a::auth") && l.contains("keys_unavailable")
    });
    assert!(
        lines
            .iter()
            .any(|l| l.contains(r#""scheme":"bearer""#) && l.contains("keys_unavailable"))
    );
    let metrics = reqwest::get(format!("{url}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains(r#"a2a_auth_failures_total{reason="keys_unavailable",scheme="bearer"} 1"#),
        "{metrics}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_set_unreachable_before_its_first_fetch_is_503_until_it_answers() {
    let port = free_port();
    let iss = format!("http://127.0.0.1:{port}");
    let key = Key::new("k", Algorithm::RS256);
    let table = jwt_table(&iss, &format!("jwks_url = \"{iss}/jwks\""));
    let (server, _dir, logs) = serve(&table, "info");
    let token = bearer(&key, &claims(&iss, "alice"));
    assert_cannot_verify_yet(&server.url, &token, &logs).await;
    let idp = Idp::start_on(port, &[&key]).await;
    let a = served_eventually(&server.url, &token).await;
    assert_eq!(a.status, 200, "served once the provider is up: {}", a.body);
    assert!(a.body["result"]["task"]["id"].is_string(), "{}", a.body);
    assert!(idp.fetches() >= 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oidc_discovery_unreachable_at_start_is_503_until_it_answers() {
    let port = free_port();
    let iss = format!("http://127.0.0.1:{port}");
    let key = Key::new("k", Algorithm::EdDSA);
    // The server starts although discovery cannot be read (it used to stop the start).
    let (server, _dir, logs) = serve(&jwt_table(&iss, ""), "info");
    logs.wait_for("the discovery warning", |l| {
        l.contains("OIDC discovery failed")
    });
    let token = bearer(&key, &claims(&iss, "alice"));
    assert_cannot_verify_yet(&server.url, &token, &logs).await;
    let _idp = Idp::start_on(port, &[&key]).await;
    let a = served_eventually(&server.url, &token).await;
    assert_eq!(a.status, 200, "served once discovery answers: {}", a.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn credentials_never_reach_the_logs_at_debug_level() {
    let key = Key::new("k", Algorithm::RS256);
    let stranger = Key::new("k", Algorithm::RS256);
    let idp = Idp::start(&[&key]).await;
    let iss = idp.issuer.clone();
    let api_key = "a2a_logcheck_SECRET_API_KEY_4f1c";
    let wrong_key = "a2a_logcheck_WRONG_API_KEY_9d2e";
    let garbage = "GARBAGE-BEARER-SECRET-77a1";
    let dir = tempfile::tempdir().unwrap();
    let keys = dir.path().join("api-keys");
    std::fs::write(
        &keys,
        format!("{} carol\n", hex::encode(Sha256::digest(api_key))),
    )
    .unwrap();
    let toml = format!(
        "[card.extended]\ndescription = \"members\"\n[auth]\n[auth.api_keys]\nfile = {:?}\n{}",
        keys.display().to_string(),
        jwt_table(&iss, "leeway_secs = 0")
    );
    let (server, _dir, logs) = serve(&toml, "debug");
    let url = &server.url;
    let alice = bearer(&key, &claims(&iss, "alice"));
    let mut expired = claims(&iss, "alice");
    expired["exp"] = json!(now() - 3600);
    let expired = bearer(&key, &expired);
    let forged = bearer(&stranger, &claims(&iss, "mallory"));
    let short = short_lived(&key, &iss, "alice", 2);

    // Served: a send, a stream, a stream that its token outlives, an API-key call.
    let task = waiting_task(url, &alice).await;
    let params = json!({"message": message("tck-stream-001", None)});
    let events = stream(
        url,
        &alice,
        Some("1.0"),
        "SendStreamingMessage",
        params,
        None,
    )
    .await;
    assert!(completed(&events));
    let events = stream(
        url,
        &short,
        Some("1.0"),
        "SubscribeToTask",
        json!({"id": task}),
        None,
    )
    .await;
    assert_ends_expired(&events, "SubscribeToTask");
    let http = http();
    let a = rpc(
        &http,
        url,
        Some("1.0"),
        2,
        "ListTasks",
        json!({}),
        &[("X-API-Key", api_key)],
    )
    .await;
    assert_eq!(a.status, 200, "{}", a.body);
    // Refused: an expired, a forged and a garbage token, a wrong key, the extended card
    // without credentials.
    for bad in [&expired, &forged, &format!("Bearer {garbage}")] {
        assert_eq!(
            call(url, bad, Some("1.0"), "GetTask", json!({"id": task}))
                .await
                .status,
            401
        );
    }
    let a = rpc(
        &http,
        url,
        Some("1.0"),
        3,
        "GetTask",
        json!({"id": task}),
        &[("X-API-Key", wrong_key)],
    )
    .await;
    assert_eq!(a.status, 401);
    let a = rpc(
        &http,
        url,
        Some("1.0"),
        4,
        "GetExtendedAgentCard",
        json!({}),
        &[],
    )
    .await;
    assert_eq!(a.status, 401);

    // Every refusal was logged (three tokens, a key, the card), and nothing secret.
    let lines = logs.wait_for("the five refusals", |_| {
        let refusals = logs.lines();
        let refusals = refusals
            .iter()
            .filter(|l| l.contains(r#""target":"a2a::auth""#) && l.contains("request refused"));
        refusals.count() >= 5
    });
    assert!(
        lines.iter().any(|l| l.contains("stream ended")),
        "the expiry is logged"
    );
    let secrets: Vec<String> = [&alice, &expired, &forged, &short]
        .iter()
        .flat_map(|b| {
            let jwt = b.trim_start_matches("Bearer ").to_string();
            // The signature alone, too: a log that cut the token would still leak it.
            let sig = jwt.rsplit('.').next().unwrap().to_string();
            [jwt, sig]
        })
        .chain([api_key, wrong_key, garbage].map(String::from))
        .collect();
    for line in &lines {
        for s in &secrets {
            assert!(
                !line.contains(s.as_str()),
                "a credential in the log: {line}"
            );
        }
    }
}

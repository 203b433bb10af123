//! Push delivery survives crashes: the real binary is killed (SIGKILL) while its webhook
//! receiver is down, restarted, and the receiver, back up, gets every notification in
//! order. And `a2a push dead-letters` / `retry` on a real store.

mod support;

#[path = "support/webhook.rs"]
mod webhook;

use std::collections::HashSet;
use std::process::Command;
use std::time::Duration;

use serde_json::{Value, json};
use support::stores::{StoreUrl, store_url};
use support::{BIN, ServerProcess};
use webhook::{Received, Receiver};

fn start(store: &StoreUrl, extra_env: &[(&str, &str)]) -> ServerProcess {
    let mut env = vec![
        ("A2A_RUN_LEASE_SECS", "1"),
        ("A2A_PUSH_RETRY_BASE_MS", "100"),
        ("A2A_PUSH_RETRY_MAX_SECS", "1"),
    ];
    env.extend_from_slice(extra_env);
    ServerProcess::start(
        &["--store", &store.url, "--push-allow-private-networks"],
        &env,
    )
}

async fn call(server: &ServerProcess, method: &str, params: Value) -> Value {
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params});
    let r: Value = reqwest::Client::new()
        .post(format!("{}/", server.url))
        .header("A2A-Version", "1.0")
        .json(&body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(r.get("error").is_none(), "{method}: {r}");
    r["result"].clone()
}

async fn send(server: &ServerProcess, prefix: &str, hook: &str, no_wait: bool) -> String {
    let r = call(
        server,
        "SendMessage",
        json!({
            "message": {"messageId": format!("{prefix}-{}", uuid::Uuid::new_v4()),
                        "role": "ROLE_USER", "parts": [{"text": "hi"}]},
            "configuration": {"returnImmediately": no_wait,
                              "taskPushNotificationConfig": {"url": hook, "token": "t"}},
        }),
    )
    .await;
    r["task"]["id"].as_str().unwrap().to_string()
}

/// The distinct events of `task` in the order first received; every duplicate carries the
/// same event id (and so is dropped by id).
fn distinct_seqs(task: &str, got: &[Received]) -> Vec<u64> {
    let mut seen = HashSet::new();
    got.iter()
        .map(Received::event)
        .filter(|(t, _)| t == task)
        .filter(|(_, seq)| seen.insert(*seq))
        .map(|(_, seq)| seq)
        .collect()
}

async fn survives_sigkill_with_the_receiver_down(kind: &str) {
    let Some(store) = store_url(kind).await else {
        return;
    };
    let addr = Receiver::unused_addr().await;
    let hook = format!("http://{addr}/hook");
    let server = start(&store, &[]);
    let done = send(&server, "tck-stream-artifact-chunked", &hook, false).await;
    let running = send(&server, "test-resubscribe-message-id", &hook, true).await;
    // Let the worker fail against the closed port a few times, then crash.
    tokio::time::sleep(Duration::from_millis(700)).await;
    server.kill();

    let server = start(&store, &[]);
    let receiver = Receiver::start_on(addr).await;
    // `done`: task, working, 2 chunks, completed. `running`: task, working, then the
    // failure recorded by crash recovery.
    let got = receiver
        .wait_until(Duration::from_secs(30), |got| {
            distinct_seqs(&done, got).len() == 5 && distinct_seqs(&running, got).len() == 3
        })
        .await;
    assert_eq!(distinct_seqs(&done, &got), [1, 2, 3, 4, 5]);
    assert_eq!(distinct_seqs(&running, &got), [1, 2, 3]);
    let last = got
        .iter()
        .rfind(|r| r.event() == (running.clone(), 3))
        .unwrap()
        .json();
    assert_eq!(
        last["statusUpdate"]["status"]["state"], "TASK_STATE_FAILED",
        "{last}"
    );
    // Order per webhook: no event arrives after a later one of the same task.
    for task in [&done, &running] {
        let seqs: Vec<u64> = got
            .iter()
            .map(Received::event)
            .filter(|(t, _)| t == task)
            .map(|(_, s)| s)
            .collect();
        assert!(seqs.windows(2).all(|w| w[0] <= w[1]), "{seqs:?}");
    }
    drop(server);
}

mod survives_sigkill_with_the_receiver_down {
    #[tokio::test(flavor = "multi_thread")]
    async fn sqlite() {
        super::survives_sigkill_with_the_receiver_down("sqlite").await
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn postgres() {
        super::survives_sigkill_with_the_receiver_down("postgres").await
    }
}

fn a2a(args: &[&str]) -> (bool, String) {
    let out = Command::new(BIN)
        .args(args)
        .env_remove("A2A_CONFIG")
        .env_remove("A2A_DATABASE_URL")
        .output()
        .expect("run a2a");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

#[tokio::test(flavor = "multi_thread")]
async fn dead_letters_are_listed_and_retried_from_the_command_line() {
    let store = store_url("sqlite").await.unwrap();
    let addr = Receiver::unused_addr().await;
    let hook = format!("http://{addr}/dl");
    let server = start(&store, &[("A2A_PUSH_MAX_ATTEMPTS", "1")]);
    let task = send(&server, "tck-complete-task", &hook, false).await;

    let mut listed = String::new();
    for _ in 0..100 {
        let (ok, out) = a2a(&["push", "dead-letters", "--store", &store.url, "--json"]);
        assert!(ok, "{out}");
        if out.lines().count() == 2 {
            listed = out;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let rows: Vec<Value> = listed
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows.len(), 2, "{listed}");
    assert!(
        rows.iter()
            .all(|r| r["taskId"] == task.as_str() && r["attempts"] == 1)
    );
    assert_eq!(rows[0]["eventId"], format!("{task}:1"));
    assert!(
        rows[0]["lastError"].as_str().unwrap().contains("onnect"),
        "the error says why: {}",
        rows[0]
    );
    let (ok, table) = a2a(&["push", "dead-letters", "--store", &store.url]);
    assert!(ok && table.contains(&format!("{task}:2")), "{table}");

    let receiver = Receiver::start_on(addr).await;
    let (ok, out) = a2a(&["push", "retry", "--all", "--store", &store.url]);
    assert!(ok && out.contains("requeued 2 dead letters"), "{out}");
    let got = receiver.wait_for(2).await;
    assert_eq!(distinct_seqs(&task, &got), [1, 2]);
    let (ok, out) = a2a(&["push", "dead-letters", "--store", &store.url]);
    assert!(ok && out.contains("no dead letters"), "{out}");
    let (ok, out) = a2a(&["push", "retry", "--id", "999999", "--store", &store.url]);
    assert!(!ok && out.contains("requeued 0"), "{out}");
    drop(server);
}

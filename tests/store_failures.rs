//! Whatever the store does, the caller gets an answer: valid JSON the database might refuse
//! (U+0000) is stored on every backend, and a write that fails while a request waits (a
//! blocking send, a stream, a cancel) is answered at once: 503 with `Retry-After` and
//! -32603 when the database cannot be reached, -32603 naming the failure otherwise.
//!
//! The Postgres failures run a server on a real socket with an agent the test holds, so the
//! failure lands mid-run, where a waiter used to wait for an event that never came.

mod support;

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use serde_json::{Value, json};
use support::ServerProcess;
use support::proxy::Proxy;
use support::stores::store_url;
use tokio::sync::Semaphore;

/// Generous: an answer comes within the pool's acquire timeout; a hang never does.
const ANSWER_WITHIN: Duration = Duration::from_secs(30);

/// A JSON-RPC 1.0 call to `url`.
fn call(http: &reqwest::Client, url: &str, method: &str, params: Value) -> reqwest::RequestBuilder {
    http.post(url)
        .header("A2A-Version", "1.0")
        .json(&json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}))
}

/// The ListTasks answer, as JSON.
async fn list_tasks(http: &reqwest::Client, url: &str) -> Value {
    call(http, url, "ListTasks", json!({}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

fn message(text: &str) -> Value {
    json!({"messageId": uuid::Uuid::new_v4().to_string(), "role": "ROLE_USER", "parts": [{"text": text}]})
}

/// The response, or a panic naming the call that got no answer.
async fn answer(rb: reqwest::RequestBuilder, what: &str) -> reqwest::Response {
    tokio::time::timeout(ANSWER_WITHIN, rb.send())
        .await
        .unwrap_or_else(|_| panic!("{what}: no answer within {ANSWER_WITHIN:?}"))
        .unwrap()
}

/// An SSE response's events, as JSON.
fn events(resp: reqwest::Response) -> impl futures::Stream<Item = Value> + Unpin {
    eventsource_stream::EventStream::new(resp.bytes_stream())
        .map(|e| serde_json::from_str(&e.expect("valid SSE").data).expect("JSON events"))
}

async fn next_event(
    events: &mut (impl futures::Stream<Item = Value> + Unpin),
    what: &str,
) -> Value {
    tokio::time::timeout(ANSWER_WITHIN, events.next())
        .await
        .unwrap_or_else(|_| panic!("{what}: the stream stalled"))
        .unwrap_or_else(|| panic!("{what}: the stream ended without an error event"))
}

// ---------------------------------------------------------------------------------------
// U+0000 on every backend, through the server

async fn nul_strings_come_back_exactly(kind: &str) {
    let Some(store) = store_url(kind).await else {
        return;
    };
    let server = ServerProcess::start(&["--store", &store.url], &[]);
    let (http, url) = (reqwest::Client::new(), format!("{}/", server.url));
    let nul = "a\u{0}b";
    let meta = json!({nul: [nul, {"k": nul}]});
    let mut m = message(nul);
    m["metadata"] = meta.clone();
    // Unprefixed: the conformance agent leaves the task input-required.
    let params = json!({"message": m, "metadata": meta});
    let sent: Value = answer(call(&http, &url, "SendMessage", params), "send")
        .await
        .json()
        .await
        .unwrap();
    let task = &sent["result"]["task"];
    assert!(task["id"].is_string(), "{sent}");
    let check = |t: &Value, what: &str| {
        assert_eq!(t["history"][0]["parts"][0]["text"], nul, "{what}: {t}");
        assert_eq!(t["history"][0]["metadata"], meta, "{what}: {t}");
        assert_eq!(t["metadata"], meta, "{what}: {t}");
    };
    check(task, "SendMessage");
    let got: Value = answer(
        call(&http, &url, "GetTask", json!({"id": task["id"]})),
        "get",
    )
    .await
    .json()
    .await
    .unwrap();
    check(&got["result"], "GetTask");
    let list: Value = answer(call(&http, &url, "ListTasks", json!({})), "list")
        .await
        .json()
        .await
        .unwrap();
    check(&list["result"]["tasks"][0], "ListTasks");
    // The event log, replayed from the start: the first event is the stored snapshot.
    let replay = call(&http, &url, "SubscribeToTask", json!({"id": task["id"]}))
        .header("Last-Event-ID", "0");
    let mut replay = events(answer(replay, "replay").await);
    let first = next_event(&mut replay, "replay").await;
    check(
        &first["result"]["task"],
        "SubscribeToTask from Last-Event-ID 0",
    );

    // Ids are names, stored as text: refused with a reason, alike on every store.
    for field in ["messageId", "contextId"] {
        let mut m = message("hi");
        m[field] = json!(nul);
        let r: Value = answer(
            call(&http, &url, "SendMessage", json!({"message": m})),
            field,
        )
        .await
        .json()
        .await
        .unwrap();
        assert_eq!(r["error"]["code"], -32602, "{r}");
        assert!(
            r["error"]["message"].as_str().unwrap().contains(field),
            "{r}"
        );
    }
}

macro_rules! per_backend {
    ($name:ident: [$($kind:ident),+]) => {
        mod $name {
            $(
                #[tokio::test(flavor = "multi_thread")]
                async fn $kind() {
                    super::$name(stringify!($kind)).await
                }
            )+
        }
    };
}

per_backend!(nul_strings_come_back_exactly: [memory, sqlite, postgres]);

// ---------------------------------------------------------------------------------------
// Postgres writes that fail mid-run

/// Works, then completes once the test lets it (one permit per run).
struct Held(Arc<Semaphore>);

#[async_trait::async_trait]
impl a2a_server::agents::AgentExecutor for Held {
    async fn execute(
        &self,
        _ctx: a2a_server::agents::RequestContext,
        sink: a2a_server::agents::EventSink,
    ) -> Result<(), a2a_server::agents::AgentError> {
        use a2a_server::protocol::TaskState;
        sink.status(TaskState::Working, None).await?;
        self.0.acquire().await.expect("open").forget();
        sink.status(TaskState::Completed, None).await?;
        Ok(())
    }
}

/// A server on `store` (a short acquire timeout) running [`Held`]; its URL.
async fn serve(store: String, gate: Arc<Semaphore>) -> String {
    let config = a2a_server::config::Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        store,
        db_acquire_timeout_secs: 1,
        ..Default::default()
    };
    let app = a2a_server::startup::Application::build_with_agent(config, Arc::new(Held(gate)))
        .await
        .unwrap();
    let url = format!("http://{}/", app.addr());
    tokio::spawn(app.run_until(std::future::pending::<()>()));
    url
}

/// A blocking send and a stream, both with their agent held after `working`; the stream
/// has delivered the task and its `working` update.
async fn two_held_runs(
    http: &reqwest::Client,
    url: &str,
) -> (
    tokio::task::JoinHandle<reqwest::Response>,
    impl futures::Stream<Item = Value> + Unpin,
) {
    let blocking = call(
        http,
        url,
        "SendMessage",
        json!({"message": message("hold")}),
    );
    let blocking = tokio::spawn(async move { answer(blocking, "blocking send").await });
    let stream = call(
        http,
        url,
        "SendStreamingMessage",
        json!({"message": message("hold")}),
    );
    let mut stream = events(answer(stream, "stream").await);
    assert!(next_event(&mut stream, "stream").await["result"]["task"].is_object());
    let working = next_event(&mut stream, "stream").await;
    assert_eq!(
        working["result"]["statusUpdate"]["status"]["state"], "TASK_STATE_WORKING",
        "{working}"
    );
    // Both runs are held once both tasks are stored.
    for _ in 0..200 {
        let list: Value = list_tasks(http, url).await;
        if list["result"]["totalSize"] == 2 {
            return (blocking, stream);
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("the blocking send's task was never stored");
}

/// 503, `Retry-After`, and a -32603 JSON-RPC error.
async fn assert_unavailable(resp: reqwest::Response, what: &str) {
    assert_eq!(resp.status(), 503, "{what}");
    assert!(resp.headers().contains_key("retry-after"), "{what}");
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["error"]["code"], -32603, "{what}: {body}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_database_that_goes_away_is_answered_503_at_once() {
    let Some(store) = store_url("postgres").await else {
        return;
    };
    let (proxy, through) = Proxy::to_database(&store.url).await;
    let gate = Arc::new(Semaphore::new(0));
    let url = serve(through, gate.clone()).await;
    let http = reqwest::Client::new();
    let (blocking, mut stream) = two_held_runs(&http, &url).await;
    // A subscriber from another connection, following one of the held tasks.
    let list: Value = list_tasks(&http, &url).await;
    let id = &list["result"]["tasks"][0]["id"];
    let follow = call(&http, &url, "SubscribeToTask", json!({"id": id}));
    let mut follow = events(answer(follow, "subscribe").await);
    assert!(next_event(&mut follow, "subscribe").await["result"]["task"].is_object());

    proxy.cut();
    gate.add_permits(2);
    let resp = tokio::time::timeout(ANSWER_WITHIN, blocking)
        .await
        .expect("the blocking send is answered")
        .unwrap();
    assert_unavailable(resp, "blocking send").await;
    let error = next_event(&mut stream, "stream").await;
    assert_eq!(error["error"]["code"], -32603, "{error}");
    assert!(
        error["error"]["message"]
            .as_str()
            .unwrap()
            .contains("cannot be reached"),
        "{error}"
    );

    let error = next_event(&mut follow, "subscriber").await;
    assert_eq!(error["error"]["code"], -32603, "{error}");

    // Calls that reach the store themselves.
    let send = call(
        &http,
        &url,
        "SendMessage",
        json!({"message": message("hi")}),
    );
    assert_unavailable(answer(send, "send").await, "send").await;
    let get = call(&http, &url, "GetTask", json!({"id": "any"}));
    assert_unavailable(answer(get, "get").await, "get").await;
    let cancel = call(&http, &url, "CancelTask", json!({"id": "any"}));
    assert_unavailable(answer(cancel, "cancel").await, "cancel").await;

    // Back, the store gets the ends of the runs it missed: no task is left working.
    proxy.restore().await;
    for _ in 0..300 {
        let list: Value = call(
            &http,
            &url,
            "ListTasks",
            json!({"status": "TASK_STATE_FAILED"}),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
        if list["result"]["totalSize"] == 2 {
            let why = &list["result"]["tasks"][0]["status"]["message"]["parts"][0]["text"];
            assert!(
                why.as_str().unwrap().contains("cannot be reached"),
                "{list}"
            );
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the held runs' tasks were not failed once the store was back");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_write_the_database_refuses_is_answered_with_its_reason() {
    let Some(store) = store_url("postgres").await else {
        return;
    };
    let gate = Arc::new(Semaphore::new(0));
    let url = serve(store.url.clone(), gate.clone()).await;
    let http = reqwest::Client::new();
    let (blocking, mut stream) = two_held_runs(&http, &url).await;

    // Tasks are created by INSERT; every later change, the end of a run included, is an
    // UPDATE, which the database now refuses.
    let db = sqlx::PgPool::connect(&store.url).await.unwrap();
    for statement in [
        "CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS \
         $$ BEGIN RAISE EXCEPTION 'the test refuses this write'; END $$",
        "CREATE TRIGGER refuse BEFORE UPDATE ON a2a_tasks FOR EACH ROW EXECUTE FUNCTION refuse()",
    ] {
        sqlx::query(statement).execute(&db).await.unwrap();
    }
    gate.add_permits(2);

    let resp = tokio::time::timeout(ANSWER_WITHIN, blocking)
        .await
        .expect("the blocking send is answered")
        .unwrap();
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["error"]["code"], -32603, "{body}");
    let why = body["error"]["message"].as_str().unwrap();
    assert!(why.contains("the test refuses this write"), "{body}");
    let error = next_event(&mut stream, "stream").await;
    assert_eq!(error["error"]["code"], -32603, "{error}");
    let why = error["error"]["message"].as_str().unwrap();
    assert!(why.contains("the test refuses this write"), "{error}");

    // A cancel's own write, refused, is answered the same way.
    let list: Value = list_tasks(&http, &url).await;
    let id = &list["result"]["tasks"][0]["id"];
    let cancel: Value = answer(call(&http, &url, "CancelTask", json!({"id": id})), "cancel")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(cancel["error"]["code"], -32603, "{cancel}");
    assert!(
        cancel["error"]["message"]
            .as_str()
            .unwrap()
            .contains("the test refuses this write"),
        "{cancel}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_task_the_database_refuses_to_create_is_answered_with_its_reason() {
    let Some(store) = store_url("postgres").await else {
        return;
    };
    let url = serve(store.url.clone(), Arc::new(Semaphore::new(2))).await;
    let db = sqlx::PgPool::connect(&store.url).await.unwrap();
    for statement in [
        "CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS \
         $$ BEGIN RAISE EXCEPTION 'the test refuses this task'; END $$",
        "CREATE TRIGGER refuse BEFORE INSERT ON a2a_tasks FOR EACH ROW EXECUTE FUNCTION refuse()",
    ] {
        sqlx::query(statement).execute(&db).await.unwrap();
    }
    let http = reqwest::Client::new();

    let send = call(
        &http,
        &url,
        "SendMessage",
        json!({"message": message("hi")}),
    );
    let resp = answer(send, "send").await;
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["error"]["code"], -32603, "{body}");
    let why = body["error"]["message"].as_str().unwrap();
    assert!(why.contains("the test refuses this task"), "{body}");

    let stream = call(
        &http,
        &url,
        "SendStreamingMessage",
        json!({"message": message("hi")}),
    );
    let mut stream = events(answer(stream, "stream").await);
    let error = next_event(&mut stream, "stream").await;
    assert_eq!(error["error"]["code"], -32603, "{error}");
    let why = error["error"]["message"].as_str().unwrap();
    assert!(why.contains("the test refuses this task"), "{error}");
}

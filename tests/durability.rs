//! Durability of the real binary on each store: crash (SIGKILL) and restart, resuming a
//! stream with `Last-Event-ID`, and concurrent writers on one task.

mod support;

use std::time::Duration;

use futures::StreamExt;
use serde_json::{Value, json};
use support::ServerProcess;
use support::proxy::Proxy;
use support::stores::{StoreUrl as Store, store_url as store};

/// Short leases so a killed server's runs are recovered within a second or two.
fn start(store: &Store) -> ServerProcess {
    ServerProcess::start(&["--store", &store.url], &[("A2A_RUN_LEASE_SECS", "1")])
}

struct Client {
    http: reqwest::Client,
    url: String,
}

impl Client {
    fn new(server: &ServerProcess) -> Client {
        Client {
            http: reqwest::Client::new(),
            url: format!("{}/", server.url),
        }
    }

    fn request(&self, method: &str, params: Value) -> reqwest::RequestBuilder {
        self.http
            .post(&self.url)
            .header("A2A-Version", "1.0")
            .json(&json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}))
    }

    async fn call(&self, method: &str, params: Value) -> Value {
        self.request(method, params)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    async fn ok(&self, method: &str, params: Value) -> Value {
        let r = self.call(method, params).await;
        assert!(r.get("error").is_none(), "{method}: {r}");
        r["result"].clone()
    }

    async fn send(&self, prefix: &str, no_wait: bool) -> Value {
        let params = json!({
            "message": {"messageId": format!("{prefix}-{}", uuid::Uuid::new_v4()), "role": "ROLE_USER", "parts": [{"text": "hi"}]},
            "configuration": {"returnImmediately": no_wait},
        });
        self.ok("SendMessage", params).await["task"].clone()
    }

    /// Reads up to `max` SSE events of a subscription: `(id, result)`.
    async fn subscribe(
        &self,
        id: &Value,
        last_event_id: Option<u64>,
        max: usize,
    ) -> Vec<(u64, Value)> {
        let mut rb = self.request("SubscribeToTask", json!({"id": id}));
        if let Some(l) = last_event_id {
            rb = rb.header("Last-Event-ID", l.to_string());
        }
        let resp = rb.send().await.unwrap();
        assert!(
            resp.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/event-stream")
        );
        let mut events = eventsource_stream::EventStream::new(resp.bytes_stream());
        let mut out = Vec::new();
        while out.len() < max {
            match tokio::time::timeout(Duration::from_secs(20), events.next())
                .await
                .expect("stream stalled")
            {
                Some(Ok(e)) => {
                    let v: Value = serde_json::from_str(&e.data).unwrap();
                    out.push((e.id.parse().unwrap(), v["result"].clone()));
                }
                Some(Err(e)) => panic!("bad SSE: {e}"),
                None => break,
            }
        }
        out
    }

    async fn wait_for_state(&self, id: &Value, state: &str) -> Value {
        for _ in 0..200 {
            let t = self.ok("GetTask", json!({"id": id})).await;
            if t["status"]["state"] == state {
                return t;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("task {id} never reached {state}");
    }
}

fn list_without(list: &Value, id: &Value) -> Vec<Value> {
    list["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| &t["id"] != id)
        .cloned()
        .collect()
}

async fn survives_sigkill(kind: &str) {
    let Some(store) = store(kind).await else {
        return;
    };
    let server = start(&store);
    let c = Client::new(&server);
    let completed = c.send("tck-artifact-text", false).await;
    let waiting = c.send("tck-input-required", false).await;
    let running = c.send("test-resubscribe-message-id", true).await;
    c.wait_for_state(&running["id"], "TASK_STATE_WORKING").await;
    let before: Vec<Value> = futures::future::join_all(
        [&completed, &waiting].map(|t| c.ok("GetTask", json!({"id": t["id"]}))),
    )
    .await;
    let list_before = c.ok("ListTasks", json!({"includeArtifacts": true})).await;
    let replay_before = c.subscribe(&completed["id"], Some(0), usize::MAX).await;
    server.kill();

    let server = start(&store);
    let c = Client::new(&server);
    for (t, expected) in [&completed, &waiting].iter().zip(&before) {
        assert_eq!(
            &c.ok("GetTask", json!({"id": t["id"]})).await,
            expected,
            "task survives the crash"
        );
    }
    assert_eq!(
        c.subscribe(&completed["id"], Some(0), usize::MAX).await,
        replay_before,
        "event log survives"
    );
    let first = c.subscribe(&waiting["id"], None, 1).await;
    assert_eq!(
        first[0].1["task"], before[1],
        "resubscribe starts with the stored task"
    );
    let failed = c.wait_for_state(&running["id"], "TASK_STATE_FAILED").await;
    let why = failed["status"]["message"]["parts"][0]["text"]
        .as_str()
        .unwrap();
    assert!(why.contains("restarted"), "{why}");
    let list_after = c.ok("ListTasks", json!({"includeArtifacts": true})).await;
    assert_eq!(list_after["totalSize"], list_before["totalSize"]);
    assert_eq!(
        list_without(&list_after, &running["id"]),
        list_without(&list_before, &running["id"])
    );
    // The failure is an event like any other.
    let log = c.subscribe(&running["id"], Some(0), usize::MAX).await;
    assert_eq!(
        log.last().unwrap().1["statusUpdate"]["status"]["state"],
        "TASK_STATE_FAILED"
    );
}

async fn resumes_with_last_event_id(kind: &str) {
    let Some(store) = store(kind).await else {
        return;
    };
    let server = start(&store);
    let c = Client::new(&server);
    let task = c.send("test-resubscribe-message-id", true).await;
    c.wait_for_state(&task["id"], "TASK_STATE_WORKING").await;
    // Read the snapshot, then drop the connection mid-task.
    let first = c.subscribe(&task["id"], None, 1).await;
    let seen = first[0].0;
    let rest = c.subscribe(&task["id"], Some(seen), usize::MAX).await;
    let ids: Vec<u64> = rest.iter().map(|(id, _)| *id).collect();
    assert!(!ids.is_empty());
    assert_eq!(
        ids,
        (seen + 1..=seen + ids.len() as u64).collect::<Vec<_>>(),
        "every later event once, in order"
    );
    assert_eq!(
        rest.last().unwrap().1["statusUpdate"]["status"]["state"],
        "TASK_STATE_COMPLETED"
    );
    // The whole log, replayed from the start, has no gap.
    let all = c.subscribe(&task["id"], Some(0), usize::MAX).await;
    assert_eq!(
        all.iter().map(|(i, _)| *i).collect::<Vec<_>>(),
        (1..=all.len() as u64).collect::<Vec<_>>()
    );
    assert!(all.ends_with(&rest));
}

async fn concurrent_writers_leave_one_terminal_state(kind: &str) {
    let Some(store) = store(kind).await else {
        return;
    };
    let server = start(&store);
    let c = Client::new(&server);
    let task = c.send("tck-input-required", false).await;
    let id = task["id"].clone();
    let calls = (0..24).map(|i| {
        let c = &c;
        let id = id.clone();
        async move {
            if i % 3 == 0 {
                c.call("CancelTask", json!({"id": id})).await
            } else {
                let m = json!({"messageId": uuid::Uuid::new_v4().to_string(), "taskId": id, "role": "ROLE_USER", "parts": [{"text": "more"}]});
                c.call("SendMessage", json!({"message": m})).await
            }
        }
    });
    let results = futures::future::join_all(calls).await;
    for r in &results {
        let code = r["error"]["code"].as_i64();
        assert!(
            code.is_none() || [-32002, -32004].contains(&code.unwrap()),
            "{r}"
        );
    }
    let cancels = results
        .iter()
        .filter(|r| r["result"]["status"]["state"] == "TASK_STATE_CANCELED")
        .count();
    assert_eq!(cancels, 1, "exactly one cancel wins");
    c.wait_for_state(&id, "TASK_STATE_CANCELED").await;
    let log = c.subscribe(&id, Some(0), usize::MAX).await;
    let ids: Vec<u64> = log.iter().map(|(i, _)| *i).collect();
    // A follow-up message that got in before the cancel is an event of the log that
    // streams leave out (the task's history carries it), so the streamed ids skip exactly
    // those: anything else missing is a lost event.
    let task = c.ok("GetTask", json!({"id": id})).await;
    let user_messages = task["history"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["role"] == "ROLE_USER")
        .count();
    let follow_ups = user_messages - 1;
    assert!(
        ids.windows(2).all(|w| w[0] < w[1]),
        "in order, no duplicates: {ids:?}"
    );
    assert_eq!(ids.first(), Some(&1), "{ids:?}");
    assert_eq!(
        *ids.last().unwrap() as usize,
        ids.len() + follow_ups,
        "no gaps but the {follow_ups} follow-up messages: {ids:?}"
    );
    let terminal: Vec<&Value> = log
        .iter()
        .filter_map(|(_, e)| e["statusUpdate"]["status"]["state"].as_str().map(|_| e))
        .filter(|e| {
            let s = e["statusUpdate"]["status"]["state"].as_str().unwrap();
            [
                "TASK_STATE_COMPLETED",
                "TASK_STATE_CANCELED",
                "TASK_STATE_FAILED",
                "TASK_STATE_REJECTED",
            ]
            .contains(&s)
        })
        .collect();
    assert_eq!(terminal.len(), 1, "exactly one terminal state: {log:?}");
    assert_eq!(
        log.last().unwrap().1["statusUpdate"]["status"]["state"],
        "TASK_STATE_CANCELED"
    );
}

async fn retried_message_does_not_run_the_agent_twice(kind: &str) {
    let Some(store) = store(kind).await else {
        return;
    };
    let server = start(&store);
    let c = Client::new(&server);
    let key = uuid::Uuid::new_v4().to_string();
    let params = json!({"message": {"messageId": format!("tck-complete-task-{}", uuid::Uuid::new_v4()), "role": "ROLE_USER", "parts": [{"text": "hi"}]}});
    let keyed = |params: Value| {
        let r = c
            .request("SendMessage", params)
            .header("Idempotency-Key", &key);
        async move { r.send().await.unwrap().json::<Value>().await.unwrap() }
    };
    let first = keyed(params.clone()).await;
    let again = keyed(params.clone()).await;
    assert_eq!(
        first["result"], again["result"],
        "the retry answers as the first did"
    );
    let list = c.ok("ListTasks", json!({})).await;
    assert_eq!(list["totalSize"], 1, "the agent ran once");
    // The same key with another request is refused; without a key, the same messageId is
    // another message.
    let mut other = params.clone();
    other["message"]["parts"][0]["text"] = json!("another text");
    assert_eq!(keyed(other).await["error"]["code"], -32602);
    let unkeyed = c.ok("SendMessage", params).await;
    assert_ne!(unkeyed["task"]["id"], first["result"]["task"]["id"]);
    let list = c.ok("ListTasks", json!({})).await;
    assert_eq!(list["totalSize"], 2);
}

macro_rules! per_backend {
    ($($name:ident: [$($kind:ident),+];)+) => {
        $(
            mod $name {
                $(
                    #[tokio::test(flavor = "multi_thread")]
                    async fn $kind() {
                        super::$name(stringify!($kind)).await
                    }
                )+
            }
        )+
    };
}

per_backend! {
    survives_sigkill: [sqlite, postgres];
    resumes_with_last_event_id: [memory, sqlite, postgres];
    concurrent_writers_leave_one_terminal_state: [memory, sqlite, postgres];
    retried_message_does_not_run_the_agent_twice: [memory, sqlite, postgres];
    retries_sent_before_the_task_exists_run_the_agent_once: [memory, sqlite, postgres];
}

/// An idempotent agent that completes whatever it is given.
struct Resumable;

#[async_trait::async_trait]
impl a2a_server::agents::AgentExecutor for Resumable {
    async fn execute(
        &self,
        ctx: a2a_server::agents::RequestContext,
        sink: a2a_server::agents::EventSink,
    ) -> Result<(), a2a_server::agents::AgentError> {
        let reply = sink.agent_message(vec![a2a_server::protocol::Part::text(format!(
            "redone: {}",
            ctx.message.text()
        ))]);
        sink.status(a2a_server::protocol::TaskState::Completed, Some(reply))
            .await?;
        Ok(())
    }

    fn resumable(&self) -> bool {
        true
    }
}

/// A task left `working` by a dead process, as a crash leaves it.
async fn seed_lost_run(url: &str) -> String {
    use a2a_server::protocol::{
        Message, Part, Role, Task, TaskEvent, TaskState, TaskStatus, Version,
    };
    use a2a_server::store::{DbOptions, Lease, Scope};
    let store = a2a_server::store::connect(url, &DbOptions::default())
        .await
        .unwrap();
    let mut msg = Message::agent(vec![Part::text("again")]);
    msg.role = Role::User;
    let task = Task {
        id: uuid::Uuid::new_v4().to_string().into(),
        context_id: "ctx".into(),
        status: TaskStatus::new(TaskState::Working, None),
        artifacts: Vec::new(),
        history: vec![msg.into()],
        metadata: None,
    };
    let scope = Scope::default();
    let lease = Lease {
        runner: &"a-dead-process".into(),
        until: 0,
    };
    let events = [TaskEvent::Task(task.clone())];
    store
        .create(
            &scope,
            Version::V1,
            task.clone(),
            events.to_vec(),
            &[],
            Some(lease),
        )
        .await
        .unwrap();
    task.id.to_string()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_resumable_agent_runs_again_after_a_crash() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("a2a.db").display());
    let id = seed_lost_run(&url).await;
    let config = a2a_server::config::Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        store: url,
        ..Default::default()
    };
    let app =
        a2a_server::startup::Application::build_with_agent(config, std::sync::Arc::new(Resumable))
            .await
            .unwrap();
    let service = app.service().clone();
    let (_stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(app.run_until(async move {
        let _ = stopped.await;
    }));
    let scope = a2a_server::store::Scope::default();
    for _ in 0..100 {
        let t = service.get(&scope, &id, None).await.unwrap();
        if t.status.state == a2a_server::protocol::TaskState::Completed {
            assert_eq!(t.status.message.unwrap().text(), "redone: again");
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the lost run was not re-run");
}

#[tokio::test(flavor = "multi_thread")]
async fn retention_purges_old_terminal_tasks() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store {
        url: format!("sqlite://{}", dir.path().join("a2a.db").display()),
        _dir: Some(dir),
        _db: None,
    };
    let server = ServerProcess::start(&["--store", &store.url], &[("A2A_RETENTION_SECS", "1")]);
    let c = Client::new(&server);
    let done = c.send("tck-complete-task", false).await;
    let waiting = c.send("tck-input-required", false).await;
    for _ in 0..100 {
        let r = c.call("GetTask", json!({"id": done["id"]})).await;
        if r["error"]["code"] == -32001 {
            // Only terminal tasks go.
            c.ok("GetTask", json!({"id": waiting["id"]})).await;
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the completed task was not purged");
}

/// Counts its runs, and thinks before its first event as a model-backed agent does.
struct SlowToStart(std::sync::Arc<std::sync::atomic::AtomicUsize>);

#[async_trait::async_trait]
impl a2a_server::agents::AgentExecutor for SlowToStart {
    async fn execute(
        &self,
        _ctx: a2a_server::agents::RequestContext,
        sink: a2a_server::agents::EventSink,
    ) -> Result<(), a2a_server::agents::AgentError> {
        self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        tokio::time::sleep(Duration::from_millis(300)).await;
        sink.status(a2a_server::protocol::TaskState::Completed, None)
            .await?;
        Ok(())
    }
}

/// Concurrent retries of one send (the same `Idempotency-Key`), sent while the agent has
/// not produced its task yet, and of one stream under another key: each runs the agent
/// once, and every retry follows the first one's task to its end.
async fn retries_sent_before_the_task_exists_run_the_agent_once(kind: &str) {
    let Some(store) = store(kind).await else {
        return;
    };
    let runs = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let config = a2a_server::config::Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        store: store.url.clone(),
        ..Default::default()
    };
    let app = a2a_server::startup::Application::build_with_agent(
        config,
        std::sync::Arc::new(SlowToStart(runs.clone())),
    )
    .await
    .unwrap();
    let url = format!("http://{}/", app.addr());
    let (_stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(app.run_until(async move {
        let _ = stopped.await;
    }));

    // A client that gives up waiting and sends the same request again, several times,
    // while the agent has not produced its task yet; a streaming client does the same.
    let message = json!({"messageId": uuid::Uuid::new_v4().to_string(), "role": "ROLE_USER", "parts": [{"text": "hi"}]});
    let (send_key, stream_key) = (uuid::Uuid::new_v4(), uuid::Uuid::new_v4());
    let http = reqwest::Client::new();
    let call = |method: &'static str, id: u32| {
        let key = match method {
            "SendMessage" => send_key,
            _ => stream_key,
        };
        let body = json!({"jsonrpc": "2.0", "id": id, "method": method, "params": {"message": message.clone()}});
        let req = http
            .post(&url)
            .header("A2A-Version", "1.0")
            .header("Idempotency-Key", key.to_string())
            .json(&body);
        async move { req.send().await.unwrap().text().await.unwrap() }
    };
    let (a, b, c, s, t) = tokio::join!(
        call("SendMessage", 1),
        call("SendMessage", 2),
        call("SendMessage", 3),
        call("SendStreamingMessage", 4),
        call("SendStreamingMessage", 5),
    );
    let task_id = |body: &str| -> String {
        let v: Value = serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {body}"));
        v["result"]["task"]["id"]
            .as_str()
            .unwrap_or_else(|| panic!("no task: {body}"))
            .to_string()
    };
    let first = task_id(&a);
    assert_eq!(task_id(&b), first);
    assert_eq!(task_id(&c), first);
    for body in [&a, &b, &c] {
        assert!(body.contains("TASK_STATE_COMPLETED"), "blocking: {body}");
    }
    let first_event = |s: &str| {
        let data = s
            .lines()
            .find_map(|l| l.strip_prefix("data: "))
            .expect("an event");
        task_id(data)
    };
    let streamed = first_event(&s);
    assert_ne!(streamed, first, "another key, another task");
    assert_eq!(first_event(&t), streamed, "{t}");
    for body in [&s, &t] {
        assert!(
            body.contains("TASK_STATE_COMPLETED"),
            "the stream follows to the end: {body}"
        );
    }
    assert_eq!(
        runs.load(std::sync::atomic::Ordering::SeqCst),
        2,
        "the agent ran once per key"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn readiness_follows_the_database() {
    let Some(store) = store("postgres").await else {
        return;
    };
    // postgres://user@HOST:PORT/db: the server reaches HOST:PORT through the proxy.
    let (head, rest) = store.url.split_once('@').expect("user@host in the URL");
    let (upstream, db) = rest.split_once('/').expect("/database in the URL");
    let proxy = Proxy::start(upstream.to_string()).await;
    let url = format!("{head}@{}/{db}", proxy.addr);
    let server = ServerProcess::start(&["--store", &url], &[("A2A_DB_ACQUIRE_TIMEOUT_SECS", "1")]);
    let http = reqwest::Client::new();
    let get = |path: &str| http.get(format!("{}{path}", server.url)).send();

    let ready = get("/readyz").await.unwrap();
    assert_eq!(ready.status(), 200);
    let body: Value = ready.json().await.unwrap();
    assert_eq!(
        body,
        json!({"status": "ready", "checks": {"store": {"status": "ok"}}})
    );

    proxy.cut();
    let mut last = String::new();
    for _ in 0..50 {
        let r = get("/readyz").await.unwrap();
        if r.status() == 503 {
            let body: Value = r.json().await.unwrap();
            assert_eq!(body["status"], "unavailable", "{body}");
            assert_eq!(body["checks"]["store"]["status"], "failing", "{body}");
            let why = body["checks"]["store"]["error"]
                .as_str()
                .unwrap_or_default();
            assert!(!why.is_empty(), "{body}");
            // Liveness stays up: restarting the pod would not bring the database back.
            assert_eq!(get("/healthz").await.unwrap().status(), 200);
            return;
        }
        last = format!("{} {}", r.status(), r.text().await.unwrap());
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("/readyz stayed ready with the database gone: {last}");
}

//! Our client against the official server: `py_server_v1.py --rest --grpc` (a2a-sdk 1.x,
//! with its 0.3 compat layer, its HTTP+JSON routes and its gRPC handler) on free ports,
//! driven through the whole flow with the library client in 1.0 and 0.3 over JSON-RPC,
//! and in 1.0 over HTTP+JSON and over gRPC.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use a2a_server::client::{self, A2aClient, ListOptions, SendOptions, Transport};
use a2a_server::protocol::{
    PushConfig, SendResult, StreamItem, Task, TaskEvent, TaskState, Version,
};
use futures::StreamExt;

/// `py_server_v1.py` as a child process, killed on drop.
struct PyServer {
    child: Child,
    url: String,
}

impl Drop for PyServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl PyServer {
    /// Starts the server on a free port and waits until its card is served.
    async fn start(python: &std::path::Path) -> PyServer {
        // The script takes ports, not port 0: borrow free ones from the OS.
        let free = || {
            TcpListener::bind("127.0.0.1:0")
                .and_then(|l| l.local_addr())
                .expect("a free port")
                .port()
        };
        let (port, grpc_port) = (free(), free());
        let child = Command::new(python)
            .arg(super::interop_dir().join("py_server_v1.py"))
            .args(["--port", &port.to_string(), "--push", "--rest"])
            .args(["--grpc", &grpc_port.to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("py_server_v1.py starts");
        let server = PyServer {
            child,
            url: format!("http://127.0.0.1:{port}"),
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if A2aClient::fetch_card(&server.url).await.is_ok() {
                return server;
            }
            assert!(
                Instant::now() < deadline,
                "py_server_v1.py did not serve its card within 30 s"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}

fn opts(prefix: &str) -> SendOptions {
    SendOptions {
        message_id: Some(format!("{prefix}-{}", uuid::Uuid::new_v4())),
        ..SendOptions::text("hello")
    }
}

fn expect_task(r: SendResult) -> Task {
    match r {
        SendResult::Task(t) => t,
        SendResult::Message(m) => panic!("expected a task, got message {m:?}"),
    }
}

fn status_text(t: &Task) -> String {
    t.status
        .message
        .as_ref()
        .map(|m| m.text())
        .unwrap_or_default()
}

fn artifact_text(t: &Task) -> Vec<String> {
    t.artifacts
        .iter()
        .flat_map(|a| {
            a.parts
                .iter()
                .filter_map(|p| p.as_text().map(str::to_owned))
        })
        .collect()
}

/// What a stream event was, for asserting on the order.
fn label(item: &StreamItem) -> String {
    match item {
        StreamItem::Message(_) => "message".into(),
        StreamItem::Event(e) => match &e.event {
            TaskEvent::Task(t) => format!("task:{}", t.status.state.kebab_name()),
            TaskEvent::StatusUpdate(s) => format!("status:{}", s.status.state.kebab_name()),
            TaskEvent::ArtifactUpdate(a) => {
                let text: Vec<_> = a
                    .artifact
                    .parts
                    .iter()
                    .filter_map(|p| p.as_text())
                    .collect();
                format!("artifact:{}", text.join(""))
            }
            TaskEvent::UserMessage(_) => "user-message".into(),
        },
    }
}

async fn collect(
    s: impl futures::Stream<Item = Result<(Option<u64>, StreamItem), a2a_server::client::ClientError>>,
) -> Vec<StreamItem> {
    let items: Vec<_> = tokio::time::timeout(Duration::from_secs(30), s.collect::<Vec<_>>())
        .await
        .expect("the stream ends within 30 s");
    items
        .into_iter()
        .map(|r| r.expect("stream item").1)
        .collect()
}

/// The client for `version` over `transport`, at the URL the server's card names for it.
async fn discover(base: &str, version: Version, transport: Transport) -> A2aClient {
    let card = A2aClient::fetch_card(base).await.expect("the card");
    assert_eq!(card["name"], "Conformance Agent (a2a-sdk 1.x)");
    let endpoint = client::interface_endpoint(&card, version, transport, base)
        .unwrap_or_else(|| panic!("the card names no {transport:?} {version:?} interface"));
    A2aClient::new(endpoint, version).with_transport(transport)
}

/// The whole flow in one protocol version over one transport.
async fn run_flow(base: &str, version: Version, transport: Transport) {
    let v = &format!("{} over {transport:?}", version.as_str());
    let client = discover(base, version, transport).await;

    // Blocking send that completes.
    let done = expect_task(client.send(&opts("tck-complete-task")).await.unwrap());
    assert_eq!(done.status.state, TaskState::Completed, "{v}");
    assert_eq!(status_text(&done), "Hello from TCK", "{v}");

    // A bare message reply.
    match client.send(&opts("tck-message-response")).await.unwrap() {
        SendResult::Message(m) => assert_eq!(m.text(), "Message response: hello", "{v}"),
        SendResult::Task(t) => panic!("{v}: expected a message, got task {t:?}"),
    }

    // Stream: the task, then working, the artifact, completed, in that order.
    let items = collect(client.stream(&opts("tck-stream-001"))).await;
    let labels: Vec<String> = items.iter().map(label).collect();
    let pos = |l: &str| {
        labels
            .iter()
            .position(|x| x == l)
            .unwrap_or_else(|| panic!("{v}: no `{l}` in {labels:?}"))
    };
    assert!(labels[0].starts_with("task:"), "{v}: {labels:?}");
    assert!(
        pos("status:working") < pos("artifact:Streamed artifact content"),
        "{v}: {labels:?}"
    );
    assert_eq!(
        labels.last().unwrap(),
        "status:completed",
        "{v}: {labels:?}"
    );
    let StreamItem::Event(first) = &items[0] else {
        unreachable!()
    };
    let TaskEvent::Task(streamed) = &first.event else {
        unreachable!()
    };

    // Get: the streamed task, completed, with its artifact.
    let got = client.get(&streamed.id, None).await.unwrap();
    assert_eq!(got.status.state, TaskState::Completed, "{v}");
    assert_eq!(artifact_text(&got), ["Streamed artifact content"], "{v}");
    let short = client.get(&streamed.id, Some(1)).await.unwrap();
    assert!(short.history.len() <= 1, "{v}: {:?}", short.history);

    // List (1.0 only): the tasks of this run, and the context filter.
    if version == Version::V1 {
        let all = client.list(&ListOptions::default()).await.unwrap();
        let ids: Vec<&str> = all.tasks.iter().map(|t| &*t.id).collect();
        assert!(
            ids.contains(&&*done.id) && ids.contains(&&*streamed.id),
            "{ids:?}"
        );
        let one = client
            .list(&ListOptions {
                context_id: Some(streamed.context_id.to_string()),
                ..Default::default()
            })
            .await
            .unwrap();
        assert_eq!(one.tasks.len(), 1, "{:?}", one.tasks);
        assert_eq!(one.tasks[0].id, streamed.id);
    }

    // Cancel an input-required task.
    let waiting = expect_task(client.send(&opts("echo")).await.unwrap());
    assert_eq!(waiting.status.state, TaskState::InputRequired, "{v}");
    assert_eq!(status_text(&waiting), "hello", "{v}");
    let canceled = client.cancel(&waiting.id).await.unwrap();
    assert_eq!(canceled.status.state, TaskState::Canceled, "{v}");
    assert_eq!(
        client.get(&waiting.id, None).await.unwrap().status.state,
        TaskState::Canceled
    );

    // Non-blocking send, then subscribe: the task first, completed last.
    let running = expect_task(
        client
            .send(&SendOptions {
                no_wait: true,
                ..opts("test-resubscribe-message-id")
            })
            .await
            .unwrap(),
    );
    assert!(
        !running.status.state.is_terminal(),
        "{v}: {:?}",
        running.status
    );
    let items = collect(client.subscribe(&running.id, None)).await;
    let labels: Vec<String> = items.iter().map(label).collect();
    assert!(labels[0].starts_with("task:"), "{v}: {labels:?}");
    assert_eq!(
        labels.last().unwrap(),
        "status:completed",
        "{v}: {labels:?}"
    );
}

/// Push config CRUD: two configs, get, list, delete (twice), list again.
async fn push_config_crud(client: &A2aClient, v: Version) {
    let waiting = expect_task(client.send(&opts("tck-input-required")).await.unwrap());
    let config = |id: &str| PushConfig {
        id: id.into(),
        task_id: waiting.id.to_string(),
        url: format!("http://127.0.0.1:9/{id}"),
        token: Some(format!("tok-{id}")),
        authentication: None,
        origin: v,
    };
    let a = client.set_push_config(&config("hook-a")).await.unwrap();
    assert_eq!(
        (a.id.as_str(), a.url.as_str()),
        ("hook-a", "http://127.0.0.1:9/hook-a"),
        "{v:?}"
    );
    client.set_push_config(&config("hook-b")).await.unwrap();
    let got = client
        .get_push_config(&waiting.id, Some("hook-b"))
        .await
        .unwrap();
    assert_eq!(got.token.as_deref(), Some("tok-hook-b"), "{v:?}");
    let mut ids: Vec<String> = client
        .list_push_configs(&waiting.id)
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.id)
        .collect();
    ids.sort();
    assert_eq!(ids, ["hook-a", "hook-b"], "{v:?}");
    client
        .delete_push_config(&waiting.id, "hook-b")
        .await
        .unwrap();
    let ids: Vec<String> = client
        .list_push_configs(&waiting.id)
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.id)
        .collect();
    assert_eq!(ids, ["hook-a"], "{v:?}");
}

#[tokio::test]
async fn our_client_runs_the_whole_flow_against_the_python_sdk_server() {
    let Some(py) = super::runtime(
        super::interop_dir().join(".venv-v1/bin/python"),
        "a2a-sdk 1.x",
    ) else {
        return;
    };
    let server = PyServer::start(&py).await;
    // All flows at once: the resubscribe step waits 4 s in each.
    tokio::join!(
        run_flow(&server.url, Version::V1, Transport::JsonRpc),
        run_flow(&server.url, Version::V03, Transport::JsonRpc),
        run_flow(&server.url, Version::V1, Transport::Rest),
        run_flow(&server.url, Version::V1, Transport::Grpc),
    );
    for (v, t) in [
        (Version::V1, Transport::JsonRpc),
        (Version::V03, Transport::JsonRpc),
        (Version::V1, Transport::Rest),
        (Version::V1, Transport::Grpc),
    ] {
        push_config_crud(&discover(&server.url, v, t).await, v).await;
    }
}

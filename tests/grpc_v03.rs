//! gRPC `a2a.v1.A2AService` (A2A 0.3) on the real binary, with a tonic client generated
//! from our own 0.3 proto: each RPC reaches the 0.3 handler it maps to, so a task created
//! over 0.3 gRPC reads the same over 0.3 JSON-RPC; streams carry 0.3's `final`; push
//! configs round-trip as resource names; errors carry ErrorInfo; the card announces it.

mod support;

use a2a_server::grpc::v03 as pb;
use pb::a2a_service_client::A2aServiceClient;
use serde_json::{Value, json};
use support::ServerProcess;
use tonic::transport::Channel;
use tonic::{Code, Request};
use tonic_types::StatusExt;

/// A held task: the conformance agent keeps it working until it is cancelled.
const HOLD: &str = "test-resubscribe-message-id";

async fn client(url: &str) -> A2aServiceClient<Channel> {
    let card: Value = reqwest::get(format!("{url}/.well-known/agent.json"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let grpc = card["additionalInterfaces"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["transport"] == "GRPC")
        .unwrap_or_else(|| panic!("no GRPC in the 0.3 card's additionalInterfaces: {card}"));
    let url = grpc["url"].as_str().unwrap();
    let authority = url
        .strip_prefix("grpc://")
        .expect("a grpc:// URL for 0.3 clients");
    A2aServiceClient::connect(format!("http://{authority}"))
        .await
        .expect("connect over h2c")
}

fn send(id: &str, configuration: Option<pb::SendMessageConfiguration>) -> pb::SendMessageRequest {
    pb::SendMessageRequest {
        request: Some(pb::Message {
            message_id: id.into(),
            role: pb::Role::User as i32,
            content: vec![pb::Part {
                part: Some(pb::part::Part::Text("hello".into())),
            }],
            ..Default::default()
        }),
        configuration,
        metadata: None,
    }
}

async fn rpc03(url: &str, method: &str, params: Value) -> Value {
    reqwest::Client::new()
        .post(format!("{url}/"))
        .json(&json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

fn start() -> ServerProcess {
    ServerProcess::start(
        &["--store", "memory:", "--push-allow-private-networks"],
        &[],
    )
}

#[tokio::test]
async fn a_task_crosses_0_3_grpc_and_0_3_json_rpc() {
    let s = start();
    let mut c = client(&s.url).await;
    // A held task, sent without blocking.
    let cfg = pb::SendMessageConfiguration {
        blocking: false,
        ..Default::default()
    };
    let r = c
        .send_message(send(HOLD, Some(cfg)))
        .await
        .unwrap()
        .into_inner();
    let Some(pb::send_message_response::Payload::Task(task)) = r.payload else {
        panic!("a task: {r:?}");
    };
    let name = format!("tasks/{}", task.id);
    // Read over 0.3 JSON-RPC: the same task.
    let read = rpc03(&s.url, "tasks/get", json!({"id": task.id})).await;
    assert_eq!(read["result"]["id"], task.id.as_str(), "{read}");
    assert_eq!(read["result"]["contextId"], task.context_id.as_str());
    // Followed over gRPC: the task first, then cancelled: a final status update.
    let mut events = c
        .task_subscription(pb::TaskSubscriptionRequest { name: name.clone() })
        .await
        .unwrap()
        .into_inner();
    let first = events.message().await.unwrap().unwrap();
    assert!(
        matches!(first.payload, Some(pb::stream_response::Payload::Task(_))),
        "{first:?}"
    );
    let cancelled = c
        .cancel_task(pb::CancelTaskRequest { name: name.clone() })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        cancelled.status.unwrap().state,
        pb::TaskState::Cancelled as i32
    );
    let mut last = None;
    while let Some(ev) = events.message().await.unwrap() {
        last = Some(ev);
    }
    match last.and_then(|e| e.payload) {
        Some(pb::stream_response::Payload::StatusUpdate(u)) => {
            assert!(u.r#final, "{u:?}");
            assert_eq!(u.status.unwrap().state, pb::TaskState::Cancelled as i32);
        }
        other => panic!("a final status update: {other:?}"),
    }
    let got = c
        .get_task(pb::GetTaskRequest {
            name,
            history_length: 1,
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(got.status.unwrap().state, pb::TaskState::Cancelled as i32);
    assert!(got.history.len() <= 1);
    let read = rpc03(&s.url, "tasks/get", json!({"id": task.id})).await;
    assert_eq!(read["result"]["status"]["state"], "canceled");
}

#[tokio::test]
async fn streams_push_configs_errors_and_the_card() {
    let s = start();
    let mut c = client(&s.url).await;
    // A streamed send: the task, its events, a final status update.
    let mut items = c
        .send_streaming_message(send("tck-stream-grpc03", None))
        .await
        .unwrap()
        .into_inner();
    let mut all = Vec::new();
    while let Some(ev) = items.message().await.unwrap() {
        all.push(ev);
    }
    assert!(all.len() >= 3, "{all:?}");
    let Some(pb::stream_response::Payload::StatusUpdate(last)) = &all.last().unwrap().payload
    else {
        panic!("ends with a status update: {all:?}");
    };
    assert!(last.r#final);
    // Push configs: created under the task's name, read, listed, deleted.
    let r = c
        .send_message(send(
            HOLD,
            Some(pb::SendMessageConfiguration {
                blocking: false,
                ..Default::default()
            }),
        ))
        .await
        .unwrap()
        .into_inner();
    let Some(pb::send_message_response::Payload::Task(task)) = r.payload else {
        panic!("a task");
    };
    let parent = format!("tasks/{}", task.id);
    let created = c
        .create_task_push_notification_config(pb::CreateTaskPushNotificationConfigRequest {
            parent: parent.clone(),
            config_id: "cfg-1".into(),
            config: Some(pb::TaskPushNotificationConfig {
                name: String::new(),
                push_notification_config: Some(pb::PushNotificationConfig {
                    url: "http://127.0.0.1:9/hook".into(),
                    token: "tok".into(),
                    ..Default::default()
                }),
            }),
        })
        .await
        .unwrap()
        .into_inner();
    let config_name = format!("{parent}/pushNotificationConfigs/cfg-1");
    assert_eq!(created.name, config_name);
    let got = c
        .get_task_push_notification_config(pb::GetTaskPushNotificationConfigRequest {
            name: config_name.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        got.push_notification_config.unwrap().url,
        "http://127.0.0.1:9/hook"
    );
    let listed = c
        .list_task_push_notification_config(pb::ListTaskPushNotificationConfigRequest {
            parent: parent.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(listed.configs.len(), 1);
    // The same config over 0.3 JSON-RPC.
    let j = rpc03(
        &s.url,
        "tasks/pushNotificationConfig/get",
        json!({"id": task.id, "pushNotificationConfigId": "cfg-1"}),
    )
    .await;
    assert_eq!(j["result"]["pushNotificationConfig"]["id"], "cfg-1", "{j}");
    c.delete_task_push_notification_config(pb::DeleteTaskPushNotificationConfigRequest {
        name: config_name,
    })
    .await
    .unwrap();
    c.cancel_task(pb::CancelTaskRequest { name: parent })
        .await
        .unwrap();
    // Errors: an unknown task is NOT_FOUND with its ErrorInfo; a bad name names itself;
    // a2a-version 1.0 on the 0.3 service is refused as the kit's table says.
    let e = c
        .get_task(pb::GetTaskRequest {
            name: "tasks/no-such-task".into(),
            history_length: 0,
        })
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::NotFound, "{e:?}");
    let info = e.get_details_error_info().expect("ErrorInfo");
    assert_eq!(info.reason, "TASK_NOT_FOUND");
    assert_eq!(info.domain, "a2a-protocol.org");
    let e = c
        .get_task_push_notification_config(pb::GetTaskPushNotificationConfigRequest {
            name: "tasks/t/configs/c".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::InvalidArgument, "{e:?}");
    assert!(e.message().contains("pushNotificationConfigs"), "{e:?}");
    let mut r = Request::new(pb::CancelTaskRequest {
        name: "tasks/x".into(),
    });
    r.metadata_mut()
        .insert("a2a-version", "1.0".parse().unwrap());
    let e = c.cancel_task(r).await.unwrap_err();
    assert_eq!(e.code(), Code::Unimplemented, "{e:?}");
    assert!(e.message().contains("lf.a2a.v1.A2AService"), "{e:?}");
    // The card: the 0.3 one, gRPC among its interfaces.
    let card = c
        .get_agent_card(pb::GetAgentCardRequest {})
        .await
        .unwrap()
        .into_inner();
    assert_eq!(card.protocol_version, "0.3.0");
    assert_eq!(card.preferred_transport, "JSONRPC");
    assert!(
        card.additional_interfaces
            .iter()
            .any(|i| i.transport == "GRPC" && i.url.starts_with("grpc://")),
        "{card:?}"
    );
    assert!(card.capabilities.unwrap().streaming);
}

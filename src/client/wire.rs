//! Pure, I/O-free halves of the client: building each version's JSON-RPC request and
//! decoding each version's results into the internal model with the codecs.

use std::sync::Arc;

use serde::Deserialize;
use serde_json::Value;

use super::{ClientError, ListOptions, SendOptions};
use crate::codec::{v01, v1, v03};
use crate::protocol::{
    Artifact, Message, Part, Role, SendResult, StreamItem, Task, TaskArtifactUpdateEvent,
    TaskEvent, TaskStatus, TaskStatusUpdateEvent, Version,
};

/// A JSON-RPC method and its params, before the envelope is added.
#[derive(Debug, Clone, PartialEq)]
pub struct RpcCall {
    pub method: &'static str,
    pub params: Value,
}

fn to_value<T: serde::Serialize>(v: &T) -> Value {
    serde_json::to_value(v).expect("wire types serialize")
}

fn fresh_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// The user message of a send: a fresh `messageId` unless the caller chose one.
pub fn user_message(opts: &SendOptions) -> Message {
    Message {
        message_id: opts.message_id.clone().unwrap_or_else(fresh_id),
        context_id: opts.context_id.clone(),
        task_id: opts.task_id.clone(),
        role: Role::User,
        parts: opts.parts.clone(),
        metadata: opts.message_metadata.clone(),
        extensions: Vec::new(),
        reference_task_ids: Vec::new(),
    }
}

/// `SendMessage` / `message/send` / `tasks/send` (or their streaming twins).
pub fn send_call(version: Version, opts: &SendOptions, streaming: bool) -> RpcCall {
    let message = user_message(opts);
    let history_length = opts.history_length.map(i64::from);
    match version {
        Version::V1 => {
            let configuration = v1::SendMessageConfiguration {
                accepted_output_modes: opts.accepted_output_modes.clone(),
                history_length,
                return_immediately: (opts.no_wait && !streaming).then_some(true),
                task_push_notification_config: None,
            };
            let has_cfg = !configuration.accepted_output_modes.is_empty()
                || configuration.history_length.is_some()
                || configuration.return_immediately.is_some();
            let params = v1::SendMessageRequest {
                tenant: None,
                message,
                configuration: has_cfg.then_some(configuration),
                metadata: opts.metadata.clone(),
            };
            RpcCall {
                method: if streaming {
                    "SendStreamingMessage"
                } else {
                    "SendMessage"
                },
                params: to_value(&params),
            }
        }
        Version::V03 => {
            let configuration = v03::MessageSendConfiguration {
                accepted_output_modes: (!opts.accepted_output_modes.is_empty())
                    .then(|| opts.accepted_output_modes.clone()),
                history_length,
                push_notification_config: None,
                blocking: (opts.no_wait && !streaming).then_some(false),
            };
            let has_cfg = configuration.accepted_output_modes.is_some()
                || configuration.history_length.is_some()
                || configuration.blocking.is_some();
            let params = v03::MessageSendParams {
                message: v03::message(&message),
                configuration: has_cfg.then_some(configuration),
                metadata: opts.metadata.clone(),
            };
            RpcCall {
                method: if streaming {
                    "message/stream"
                } else {
                    "message/send"
                },
                params: to_value(&params),
            }
        }
        Version::V01 => {
            // 0.1: the client names the task and the session; messages carry no id.
            let params = v01::TaskSendParams {
                id: opts.task_id.clone().unwrap_or_else(fresh_id),
                session_id: Some(opts.context_id.clone().unwrap_or_else(fresh_id)),
                message: v01::message(&message),
                push_notification: None,
                history_length,
                metadata: opts.metadata.clone(),
            };
            RpcCall {
                method: if streaming {
                    "tasks/sendSubscribe"
                } else {
                    "tasks/send"
                },
                params: to_value(&params),
            }
        }
    }
}

/// `GetTask` / `tasks/get`.
pub fn get_call(version: Version, task_id: &str, history_length: Option<u32>) -> RpcCall {
    let history_length = history_length.map(i64::from);
    match version {
        Version::V1 => RpcCall {
            method: "GetTask",
            params: to_value(&v1::GetTaskRequest {
                tenant: None,
                id: task_id.to_string(),
                history_length,
            }),
        },
        Version::V03 | Version::V01 => RpcCall {
            method: "tasks/get",
            params: to_value(&v03::TaskQueryParams {
                id: task_id.to_string(),
                history_length,
                metadata: None,
            }),
        },
    }
}

fn task_id_call(
    version: Version,
    task_id: &str,
    v1_method: &'static str,
    legacy: &'static str,
) -> RpcCall {
    match version {
        Version::V1 => RpcCall {
            method: v1_method,
            params: to_value(&v1::TaskIdRequest {
                tenant: None,
                id: task_id.to_string(),
                metadata: None,
            }),
        },
        Version::V03 | Version::V01 => RpcCall {
            method: legacy,
            params: to_value(&v03::TaskIdParams {
                id: task_id.to_string(),
                metadata: None,
            }),
        },
    }
}

/// `CancelTask` / `tasks/cancel`.
pub fn cancel_call(version: Version, task_id: &str) -> RpcCall {
    task_id_call(version, task_id, "CancelTask", "tasks/cancel")
}

/// `SubscribeToTask` / `tasks/resubscribe`.
pub fn subscribe_call(version: Version, task_id: &str) -> RpcCall {
    task_id_call(version, task_id, "SubscribeToTask", "tasks/resubscribe")
}

/// `ListTasks` (1.0 only: 0.3 and 0.1 have no JSON-RPC method to list tasks).
pub fn list_call(version: Version, opts: &ListOptions) -> Result<RpcCall, ClientError> {
    if version != Version::V1 {
        return Err(ClientError::Unsupported(format!(
            "listing tasks needs A2A 1.0 (`ListTasks`); A2A {} has no JSON-RPC method for it",
            version.as_str()
        )));
    }
    let params = v1::ListTasksRequest {
        tenant: None,
        context_id: opts.context_id.clone(),
        status: opts.status.map(|s| s.v1_name().to_string()),
        page_size: opts.page_size.map(i64::from),
        page_token: opts.page_token.clone(),
        history_length: opts.history_length.map(i64::from),
        status_timestamp_after: opts.status_timestamp_after.clone(),
        include_artifacts: opts.include_artifacts.then_some(true),
    };
    Ok(RpcCall {
        method: "ListTasks",
        params: to_value(&params),
    })
}

// ---- decoding ----

fn decode_err(what: &str, e: impl std::fmt::Display) -> ClientError {
    ClientError::Decode {
        what: what.to_string(),
        detail: e.to_string(),
    }
}

fn parse<T: serde::de::DeserializeOwned>(what: &str, raw: &str) -> Result<T, ClientError> {
    serde_json::from_str(raw).map_err(|e| decode_err(what, e))
}

/// Decodes a send result: 1.0 `{task|message}`, 0.3 a bare Task/Message by `kind`, 0.1 a
/// bare Task.
pub fn decode_send(version: Version, raw: &str) -> Result<SendResult, ClientError> {
    let item = match version {
        Version::V1 => parse::<v1::StreamResponse>("SendMessage result", raw)?
            .into_item()
            .map_err(|e| decode_err("SendMessage result", e))?,
        Version::V03 => parse::<v03::Result03>("message/send result", raw)?
            .into_item()
            .map_err(|e| decode_err("message/send result", e))?,
        Version::V01 => return decode_task(version, raw).map(SendResult::Task),
    };
    match item {
        StreamItem::Message(m) => Ok(SendResult::Message(m)),
        StreamItem::Event(e) => match std::sync::Arc::unwrap_or_clone(e).event {
            TaskEvent::Task(t) => Ok(SendResult::Task(t)),
            _ => Err(decode_err(
                "send result",
                "expected a task or a message, got a task event",
            )),
        },
    }
}

/// Decodes a task result. 0.3 and 0.1 share `tasks/get`; the server answers in the shape
/// of the task's origin, so a legacy task is recognised by its shape (`kind` or not).
pub fn decode_task(version: Version, raw: &str) -> Result<Task, ClientError> {
    match version {
        Version::V1 => parse::<Task>("task", raw),
        Version::V03 | Version::V01 => {
            let v: Value = parse("task", raw)?;
            if v.get("kind").is_some() {
                let t: v03::Task03 =
                    serde_json::from_value(v).map_err(|e| decode_err("task", e))?;
                Task::try_from(t).map_err(|e| decode_err("task", e))
            } else {
                let t: v01::Task01 =
                    serde_json::from_value(v).map_err(|e| decode_err("task", e))?;
                t.into_task().map_err(|e| decode_err("task", e))
            }
        }
    }
}

/// Decodes a `ListTasks` result.
pub fn decode_list(raw: &str) -> Result<v1::ListTasksResponse, ClientError> {
    parse("ListTasks result", raw)
}

/// One decoded stream result and whether the wire marked it final (0.x `final: true`).
#[derive(Debug, Clone, PartialEq)]
pub struct DecodedItem {
    pub item: StreamItem,
    pub final_flag: bool,
}

#[derive(Deserialize)]
struct FinalPeek {
    #[serde(rename = "final", default)]
    is_final: Option<bool>,
}

/// Decodes one streamed result of any version into the model.
pub fn decode_stream_item(version: Version, raw: &str) -> Result<DecodedItem, ClientError> {
    const WHAT: &str = "stream event";
    let item = match version {
        Version::V1 => parse::<v1::StreamResponse>(WHAT, raw)?
            .into_item()
            .map_err(|e| decode_err(WHAT, e))?,
        Version::V03 | Version::V01 => {
            let v: Value = parse(WHAT, raw)?;
            if v.get("kind").is_some() {
                serde_json::from_value::<v03::Result03>(v)
                    .map_err(|e| decode_err(WHAT, e))?
                    .into_item()
                    .map_err(|e| decode_err(WHAT, e))?
            } else {
                let e: v01::Event01 = serde_json::from_value(v).map_err(|e| decode_err(WHAT, e))?;
                event01_item(e)?
            }
        }
    };
    let final_flag = version != Version::V1
        && serde_json::from_str::<FinalPeek>(raw)
            .ok()
            .and_then(|p| p.is_final)
            == Some(true);
    Ok(DecodedItem { item, final_flag })
}

fn status01(s: v01::Status01) -> Result<TaskStatus, ClientError> {
    let mut status: TaskStatus = v03::Status03 {
        state: s.state,
        message: None,
        timestamp: s.timestamp,
    }
    .try_into()
    .map_err(|e| decode_err("0.1 status", e))?;
    status.message = s
        .message
        .map(|m| Message::try_from(m).map(Arc::new))
        .transpose()
        .map_err(|e| decode_err("0.1 status", e))?;
    Ok(status)
}

/// 0.1 stream events carry only the task id (no context) and address artifacts by index;
/// the artifact id becomes `artifact-{index}`, as in [`v01::Task01::into_task`].
fn event01_item(e: v01::Event01) -> Result<StreamItem, ClientError> {
    let event = match e {
        v01::Event01::Status(s) => TaskEvent::StatusUpdate(TaskStatusUpdateEvent {
            task_id: s.id,
            context_id: String::new(),
            status: status01(s.status)?,
            metadata: s.metadata,
        }),
        v01::Event01::Artifact(a) => {
            let art = a.artifact;
            TaskEvent::ArtifactUpdate(TaskArtifactUpdateEvent {
                task_id: a.id,
                context_id: String::new(),
                append: art.append.unwrap_or(false),
                last_chunk: art.last_chunk.unwrap_or(false),
                artifact: Box::new(Artifact {
                    artifact_id: format!("artifact-{}", art.index),
                    name: art.name,
                    description: art.description,
                    parts: art
                        .parts
                        .into_iter()
                        .map(Part::try_from)
                        .collect::<Result<_, _>>()
                        .map_err(|e| decode_err("0.1 artifact", e))?,
                    metadata: art.metadata,
                    extensions: Vec::new(),
                }),
                metadata: a.metadata,
            })
        }
    };
    Ok(StreamItem::event(0, event))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::protocol::TaskState;

    fn opts() -> SendOptions {
        SendOptions {
            message_id: Some("m1".into()),
            ..SendOptions::text("hi")
        }
    }

    #[test]
    fn v1_send_uses_pascal_case_and_proto_json() {
        let c = send_call(
            Version::V1,
            &SendOptions {
                no_wait: true,
                ..opts()
            },
            false,
        );
        assert_eq!(c.method, "SendMessage");
        assert_eq!(
            c.params,
            json!({
                "message": {"messageId": "m1", "role": "ROLE_USER", "parts": [{"text": "hi"}]},
                "configuration": {"returnImmediately": true},
            })
        );
        assert_eq!(
            send_call(Version::V1, &opts(), true).method,
            "SendStreamingMessage"
        );
        assert!(
            send_call(Version::V1, &opts(), false)
                .params
                .get("configuration")
                .is_none()
        );
    }

    #[test]
    fn v03_send_has_kinds_and_blocking_false() {
        let c = send_call(
            Version::V03,
            &SendOptions {
                no_wait: true,
                history_length: Some(2),
                ..opts()
            },
            false,
        );
        assert_eq!(c.method, "message/send");
        assert_eq!(
            c.params,
            json!({
                "message": {"kind": "message", "messageId": "m1", "role": "user",
                            "parts": [{"kind": "text", "text": "hi"}]},
                "configuration": {"historyLength": 2, "blocking": false},
            })
        );
        assert_eq!(
            send_call(Version::V03, &opts(), true).method,
            "message/stream"
        );
    }

    #[test]
    fn v01_send_names_task_and_session() {
        let c = send_call(Version::V01, &opts(), false);
        assert_eq!(c.method, "tasks/send");
        assert!(!c.params["id"].as_str().unwrap().is_empty());
        assert!(!c.params["sessionId"].as_str().unwrap().is_empty());
        assert_eq!(
            c.params["message"],
            json!({"role": "user", "parts": [{"type": "text", "text": "hi"}]})
        );
        let c = send_call(
            Version::V01,
            &SendOptions {
                task_id: Some("t".into()),
                context_id: Some("s".into()),
                ..opts()
            },
            true,
        );
        assert_eq!(c.method, "tasks/sendSubscribe");
        assert_eq!(
            (c.params["id"].as_str(), c.params["sessionId"].as_str()),
            (Some("t"), Some("s"))
        );
    }

    #[test]
    fn fresh_message_ids() {
        let a = send_call(Version::V1, &SendOptions::text("x"), false);
        let b = send_call(Version::V1, &SendOptions::text("x"), false);
        assert_ne!(
            a.params["message"]["messageId"],
            b.params["message"]["messageId"]
        );
    }

    #[test]
    fn task_calls_per_version() {
        assert_eq!(get_call(Version::V1, "t", Some(3)).method, "GetTask");
        assert_eq!(
            get_call(Version::V1, "t", Some(3)).params,
            json!({"id": "t", "historyLength": 3})
        );
        assert_eq!(get_call(Version::V03, "t", None).method, "tasks/get");
        assert_eq!(cancel_call(Version::V1, "t").method, "CancelTask");
        assert_eq!(cancel_call(Version::V01, "t").params, json!({"id": "t"}));
        assert_eq!(subscribe_call(Version::V1, "t").method, "SubscribeToTask");
        assert_eq!(
            subscribe_call(Version::V03, "t").method,
            "tasks/resubscribe"
        );
    }

    #[test]
    fn list_is_v1_only() {
        let o = ListOptions {
            status: Some(TaskState::InputRequired),
            page_size: Some(5),
            include_artifacts: true,
            ..Default::default()
        };
        let c = list_call(Version::V1, &o).unwrap();
        assert_eq!(
            c.params,
            json!({"status": "TASK_STATE_INPUT_REQUIRED", "pageSize": 5, "includeArtifacts": true})
        );
        assert!(matches!(
            list_call(Version::V03, &o),
            Err(ClientError::Unsupported(_))
        ));
    }

    const TS: &str = "2025-01-01T00:00:00.000Z";

    #[test]
    fn decodes_send_results() {
        let raw = json!({"task": {"id": "t", "contextId": "c",
            "status": {"state": "TASK_STATE_COMPLETED", "timestamp": TS}}})
        .to_string();
        let SendResult::Task(t) = decode_send(Version::V1, &raw).unwrap() else {
            panic!()
        };
        assert_eq!(t.status.state, TaskState::Completed);

        let raw = json!({"kind": "message", "messageId": "m", "role": "agent",
            "parts": [{"kind": "text", "text": "yo"}]})
        .to_string();
        let SendResult::Message(m) = decode_send(Version::V03, &raw).unwrap() else {
            panic!()
        };
        assert_eq!(m.text(), "yo");

        let raw =
            json!({"id": "t", "sessionId": "s", "status": {"state": "input-required"}}).to_string();
        let SendResult::Task(t) = decode_send(Version::V01, &raw).unwrap() else {
            panic!()
        };
        assert_eq!((t.id.as_str(), t.context_id.as_str()), ("t", "s"));
        assert_eq!(t.status.state, TaskState::InputRequired);
    }

    #[test]
    fn legacy_tasks_are_recognised_by_shape() {
        let t01 = json!({"id": "t", "sessionId": "s", "status": {"state": "working"}}).to_string();
        assert_eq!(decode_task(Version::V03, &t01).unwrap().context_id, "s");
        let t03 = json!({"kind": "task", "id": "t", "contextId": "c",
            "status": {"state": "canceled"}})
        .to_string();
        assert_eq!(
            decode_task(Version::V01, &t03).unwrap().status.state,
            TaskState::Canceled
        );
        assert!(matches!(
            decode_task(Version::V1, "{}"),
            Err(ClientError::Decode { .. })
        ));
    }

    #[test]
    fn decodes_stream_items() {
        let raw = json!({"statusUpdate": {"taskId": "t", "contextId": "c",
            "status": {"state": "TASK_STATE_WORKING", "timestamp": TS}}})
        .to_string();
        let d = decode_stream_item(Version::V1, &raw).unwrap();
        assert!(!d.final_flag);
        let StreamItem::Event(e) = d.item else {
            panic!()
        };
        assert_eq!(e.event.state(), Some(TaskState::Working));

        let raw = json!({"kind": "status-update", "taskId": "t", "contextId": "c",
            "status": {"state": "completed"}, "final": true})
        .to_string();
        assert!(decode_stream_item(Version::V03, &raw).unwrap().final_flag);

        let raw = json!({"id": "t", "artifact": {"index": 1, "append": true,
            "parts": [{"type": "text", "text": "x"}]}})
        .to_string();
        let StreamItem::Event(e) = decode_stream_item(Version::V01, &raw).unwrap().item else {
            panic!()
        };
        let TaskEvent::ArtifactUpdate(a) = &e.event else {
            panic!()
        };
        assert_eq!(
            (a.artifact.artifact_id.as_str(), a.append),
            ("artifact-1", true)
        );

        let raw =
            json!({"id": "t", "status": {"state": "input-required"}, "final": true}).to_string();
        let d = decode_stream_item(Version::V01, &raw).unwrap();
        assert!(d.final_flag);
    }
}

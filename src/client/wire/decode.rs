//! Decoding each version's results (sends, tasks, lists, stream events) into the model.

use std::sync::Arc;

use serde::Deserialize;
use serde_json::Value;

use crate::client::ClientError;
use crate::codec::{v01, v1, v03};
use crate::protocol::{
    Artifact, Message, Part, SendResult, StreamItem, Task, TaskArtifactUpdateEvent, TaskEvent,
    TaskStatus, TaskStatusUpdateEvent, Version,
};

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
            context_id: Arc::from(""),
            status: status01(s.status)?,
            metadata: s.metadata,
        }),
        v01::Event01::Artifact(a) => {
            let art = a.artifact;
            TaskEvent::ArtifactUpdate(TaskArtifactUpdateEvent {
                task_id: a.id,
                context_id: Arc::from(""),
                append: art.append.unwrap_or(false),
                last_chunk: art.last_chunk.unwrap_or(false),
                artifact: Arc::new(Artifact {
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
        assert_eq!((&*t.id, &*t.context_id), ("t", "s"));
        assert_eq!(t.status.state, TaskState::InputRequired);
    }

    #[test]
    fn legacy_tasks_are_recognised_by_shape() {
        let t01 = json!({"id": "t", "sessionId": "s", "status": {"state": "working"}}).to_string();
        assert_eq!(
            decode_task(Version::V03, &t01).unwrap().context_id.as_ref(),
            "s"
        );
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

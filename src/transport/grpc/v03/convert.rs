//! `a2a.v1` (A2A 0.3 proto) messages to and from the 0.3 JSON-RPC JSON the 0.3 handlers
//! speak: requests become that method's params, results are read back from the 0.3 wire
//! types of `codec::v03`. The two shapes differ (resource names `tasks/{id}`, `content`
//! for `parts`, a `Part` oneof without `kind`), so this is a mapping, not a serde.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use serde_json::{Map, Value, json};

use crate::codec::push::{PushNotificationConfig, TaskPushNotificationConfig03};
use crate::codec::v03::{Artifact03, Message03, Part03, Result03, Role03, Status03, Task03};
use crate::grpc::v03 as pb;
use crate::protocol::A2aError;

// ---- requests ----

/// `tasks/{id}` (a bare id is taken as is).
pub(super) fn task_name(name: &str) -> Result<String, A2aError> {
    let id = name.strip_prefix("tasks/").unwrap_or(name);
    if id.is_empty() || id.contains('/') {
        return Err(A2aError::params(format!(
            "`{name}` is no task name (tasks/{{id}})"
        )));
    }
    Ok(id.to_string())
}

/// `tasks/{id}/pushNotificationConfigs/{config}`: the task id and the config id.
pub(super) fn config_name(name: &str) -> Result<(String, String), A2aError> {
    let bad = || {
        A2aError::params(format!(
            "`{name}` is no push config name (tasks/{{id}}/pushNotificationConfigs/{{config}})"
        ))
    };
    let rest = name.strip_prefix("tasks/").ok_or_else(bad)?;
    let (task, config) = rest
        .split_once("/pushNotificationConfigs/")
        .ok_or_else(bad)?;
    if task.is_empty() || config.is_empty() || config.contains('/') {
        return Err(bad());
    }
    Ok((task.to_string(), config.to_string()))
}

fn struct_value(s: Option<pbjson_types::Struct>) -> Option<Value> {
    s.and_then(|s| serde_json::to_value(s).ok())
}

fn non_empty(s: String) -> Option<String> {
    (!s.is_empty()).then_some(s)
}

fn part(p: pb::Part) -> Result<Value, A2aError> {
    use pb::file_part::File;
    use pb::part::Part as P;
    Ok(match p.part {
        Some(P::Text(text)) => json!({"kind": "text", "text": text}),
        Some(P::Data(d)) => {
            json!({"kind": "data", "data": struct_value(d.data).unwrap_or(json!({}))})
        }
        Some(P::File(f)) => {
            let mut file = Map::new();
            match f.file {
                Some(File::FileWithUri(u)) => file.insert("uri".into(), json!(u)),
                Some(File::FileWithBytes(b)) => file.insert("bytes".into(), json!(B64.encode(b))),
                None => {
                    return Err(A2aError::params(
                        "a file part needs file_with_uri or file_with_bytes",
                    ));
                }
            };
            if let Some(m) = non_empty(f.mime_type) {
                file.insert("mimeType".into(), json!(m));
            }
            json!({"kind": "file", "file": file})
        }
        None => return Err(A2aError::params("a part needs text, file or data")),
    })
}

fn message(m: pb::Message) -> Result<Value, A2aError> {
    let role = match pb::Role::try_from(m.role) {
        Ok(pb::Role::Agent) => "agent",
        Ok(pb::Role::User) => "user",
        _ => {
            return Err(A2aError::params(
                "message.role must be ROLE_USER or ROLE_AGENT",
            ));
        }
    };
    let parts = m
        .content
        .into_iter()
        .map(part)
        .collect::<Result<Vec<_>, _>>()?;
    let mut out =
        json!({"kind": "message", "messageId": m.message_id, "role": role, "parts": parts});
    let o = out.as_object_mut().expect("an object");
    if let Some(c) = non_empty(m.context_id) {
        o.insert("contextId".into(), json!(c));
    }
    if let Some(t) = non_empty(m.task_id) {
        o.insert("taskId".into(), json!(t));
    }
    if let Some(md) = struct_value(m.metadata) {
        o.insert("metadata".into(), md);
    }
    if !m.extensions.is_empty() {
        o.insert("extensions".into(), json!(m.extensions));
    }
    Ok(out)
}

fn push_config(c: pb::PushNotificationConfig, id: Option<String>) -> Value {
    let mut out = json!({"url": c.url});
    let o = out.as_object_mut().expect("an object");
    if let Some(id) = id.or_else(|| non_empty(c.id)) {
        o.insert("id".into(), json!(id));
    }
    if let Some(t) = non_empty(c.token) {
        o.insert("token".into(), json!(t));
    }
    if let Some(a) = c.authentication {
        let mut auth = json!({"schemes": a.schemes});
        if let Some(cr) = non_empty(a.credentials) {
            auth["credentials"] = json!(cr);
        }
        o.insert("authentication".into(), auth);
    }
    out
}

/// `message/send` / `message/stream` params. Without a configuration the send blocks;
/// with one, its `blocking` says (proto3 cannot tell an unset `false`).
pub(in crate::transport::grpc) fn send_params(
    r: pb::SendMessageRequest,
) -> Result<String, A2aError> {
    let m = r
        .request
        .ok_or_else(|| A2aError::params("missing field `message`"))?;
    let mut params = json!({"message": message(m)?});
    if let Some(c) = r.configuration {
        let mut cfg = json!({"blocking": c.blocking});
        if !c.accepted_output_modes.is_empty() {
            cfg["acceptedOutputModes"] = json!(c.accepted_output_modes);
        }
        if c.history_length > 0 {
            cfg["historyLength"] = json!(c.history_length);
        }
        if let Some(p) = c.push_notification {
            cfg["pushNotificationConfig"] = push_config(p, None);
        }
        params["configuration"] = cfg;
    }
    if let Some(md) = struct_value(r.metadata) {
        params["metadata"] = md;
    }
    Ok(params.to_string())
}

pub(in crate::transport::grpc) fn get_params(r: pb::GetTaskRequest) -> Result<String, A2aError> {
    let mut p = json!({"id": task_name(&r.name)?});
    if r.history_length > 0 {
        p["historyLength"] = json!(r.history_length);
    }
    Ok(p.to_string())
}

pub(in crate::transport::grpc) fn id_params(name: &str) -> Result<String, A2aError> {
    Ok(json!({"id": task_name(name)?}).to_string())
}

pub(in crate::transport::grpc) fn create_config_params(
    r: pb::CreateTaskPushNotificationConfigRequest,
) -> Result<String, A2aError> {
    let task = task_name(&r.parent)?;
    let config = r
        .config
        .and_then(|c| c.push_notification_config)
        .ok_or_else(|| A2aError::params("missing field `config.push_notification_config`"))?;
    let cfg = push_config(config, non_empty(r.config_id));
    Ok(json!({"taskId": task, "pushNotificationConfig": cfg}).to_string())
}

pub(in crate::transport::grpc) fn config_params(name: &str) -> Result<String, A2aError> {
    let (task, config) = config_name(name)?;
    Ok(json!({"id": task, "pushNotificationConfigId": config}).to_string())
}

// ---- results ----

fn to_struct(v: Option<Value>) -> Option<pbjson_types::Struct> {
    match v? {
        v @ Value::Object(_) => serde_json::from_value(v).ok(),
        other => serde_json::from_value(json!({ "value": other })).ok(),
    }
}

fn pb_part(p: Part03) -> pb::Part {
    use pb::file_part::File;
    use pb::part::Part as P;
    pb::Part {
        part: Some(match p {
            Part03::Text { text, .. } => P::Text(text),
            Part03::Data { data, .. } => P::Data(pb::DataPart {
                data: to_struct(Some(data)),
            }),
            Part03::File { file, .. } => P::File(pb::FilePart {
                file: match (file.bytes, file.uri) {
                    (Some(b), _) => Some(File::FileWithBytes(
                        B64.decode(b.as_bytes()).unwrap_or_default(),
                    )),
                    (None, Some(u)) => Some(File::FileWithUri(u)),
                    (None, None) => None,
                },
                mime_type: file.mime_type.unwrap_or_default(),
            }),
        }),
    }
}

fn pb_message(m: Message03) -> pb::Message {
    pb::Message {
        message_id: m.message_id,
        context_id: m.context_id.map(|c| c.to_string()).unwrap_or_default(),
        task_id: m.task_id.map(|t| t.to_string()).unwrap_or_default(),
        role: match m.role {
            Role03::User => pb::Role::User,
            Role03::Agent => pb::Role::Agent,
        } as i32,
        content: m.parts.into_iter().map(pb_part).collect(),
        metadata: to_struct(m.metadata.map(|m| json!(m))),
        extensions: m.extensions.unwrap_or_default(),
    }
}

fn pb_state(s: &str) -> pb::TaskState {
    use pb::TaskState as S;
    match s {
        "submitted" => S::Submitted,
        "working" => S::Working,
        "completed" => S::Completed,
        "failed" => S::Failed,
        "canceled" => S::Cancelled,
        "input-required" => S::InputRequired,
        "rejected" => S::Rejected,
        "auth-required" => S::AuthRequired,
        _ => S::Unspecified,
    }
}

fn pb_status(s: Status03) -> pb::TaskStatus {
    pb::TaskStatus {
        state: pb_state(&s.state) as i32,
        update: s.message.map(pb_message),
        timestamp: s
            .timestamp
            .and_then(|t| serde_json::from_value(Value::String(t)).ok()),
    }
}

fn pb_artifact(a: Artifact03) -> pb::Artifact {
    pb::Artifact {
        artifact_id: a.artifact_id,
        name: a.name.unwrap_or_default(),
        description: a.description.unwrap_or_default(),
        parts: a.parts.into_iter().map(pb_part).collect(),
        metadata: to_struct(a.metadata.map(|m| json!(m))),
        extensions: a.extensions.unwrap_or_default(),
    }
}

fn pb_task(t: Task03) -> pb::Task {
    pb::Task {
        id: t.id.to_string(),
        context_id: t.context_id.to_string(),
        status: Some(pb_status(t.status)),
        artifacts: t
            .artifacts
            .unwrap_or_default()
            .into_iter()
            .map(pb_artifact)
            .collect(),
        history: t
            .history
            .unwrap_or_default()
            .into_iter()
            .map(pb_message)
            .collect(),
        metadata: to_struct(t.metadata.map(|m| json!(m))),
    }
}

fn read<T: serde::de::DeserializeOwned>(json: &str, what: &str) -> Result<T, A2aError> {
    serde_json::from_str(json).map_err(|e| {
        A2aError::Internal(format!("the 0.3 {what} does not fit the gRPC message: {e}"))
    })
}

pub(super) fn task(json: &str) -> Result<pb::Task, A2aError> {
    Ok(pb_task(read(json, "task")?))
}

pub(super) fn send_response(json: &str) -> Result<pb::SendMessageResponse, A2aError> {
    use pb::send_message_response::Payload;
    Ok(pb::SendMessageResponse {
        payload: Some(match read::<Result03>(json, "send result")? {
            Result03::Task(t) => Payload::Task(pb_task(t)),
            Result03::Message(m) => Payload::Msg(pb_message(m)),
            _ => return Err(A2aError::Internal("a send answered with an event".into())),
        }),
    })
}

pub(super) fn stream_response(json: &str) -> Result<pb::StreamResponse, A2aError> {
    use pb::stream_response::Payload;
    Ok(pb::StreamResponse {
        payload: Some(match read::<Result03>(json, "stream event")? {
            Result03::Task(t) => Payload::Task(pb_task(t)),
            Result03::Message(m) => Payload::Msg(pb_message(m)),
            Result03::StatusUpdate(u) => Payload::StatusUpdate(pb::TaskStatusUpdateEvent {
                task_id: u.task_id.to_string(),
                context_id: u.context_id.to_string(),
                status: Some(pb_status(u.status)),
                r#final: u.is_final,
                metadata: to_struct(u.metadata.map(|m| json!(m))),
            }),
            Result03::ArtifactUpdate(u) => Payload::ArtifactUpdate(pb::TaskArtifactUpdateEvent {
                task_id: u.task_id.to_string(),
                context_id: u.context_id.to_string(),
                artifact: Some(pb_artifact(u.artifact)),
                append: u.append.unwrap_or(false),
                last_chunk: u.last_chunk.unwrap_or(false),
                metadata: to_struct(u.metadata.map(|m| json!(m))),
            }),
        }),
    })
}

fn pb_config(c: TaskPushNotificationConfig03) -> pb::TaskPushNotificationConfig {
    let p: PushNotificationConfig = c.push_notification_config;
    let id = p.id.unwrap_or_default();
    pb::TaskPushNotificationConfig {
        name: format!("tasks/{}/pushNotificationConfigs/{id}", c.task_id),
        push_notification_config: Some(pb::PushNotificationConfig {
            id,
            url: p.url,
            token: p.token.unwrap_or_default(),
            authentication: p.authentication.map(|a| pb::AuthenticationInfo {
                schemes: a.schemes,
                credentials: a.credentials.unwrap_or_default(),
            }),
        }),
    }
}

pub(super) fn config(json: &str) -> Result<pb::TaskPushNotificationConfig, A2aError> {
    Ok(pb_config(read(json, "push config")?))
}

pub(super) fn configs(json: &str) -> Result<pb::ListTaskPushNotificationConfigResponse, A2aError> {
    let list: Vec<TaskPushNotificationConfig03> = read(json, "push config list")?;
    Ok(pb::ListTaskPushNotificationConfigResponse {
        configs: list.into_iter().map(pb_config).collect(),
        next_page_token: String::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(task_name("tasks/t-1").unwrap(), "t-1");
        assert_eq!(task_name("t-1").unwrap(), "t-1");
        assert!(task_name("tasks/").is_err());
        assert_eq!(
            config_name("tasks/t/pushNotificationConfigs/c").unwrap(),
            ("t".into(), "c".into())
        );
        assert!(config_name("tasks/t/c").is_err());
    }

    #[test]
    fn a_send_becomes_0_3_params_and_a_task_comes_back() {
        let req = pb::SendMessageRequest {
            request: Some(pb::Message {
                message_id: "m".into(),
                role: pb::Role::User as i32,
                content: vec![pb::Part {
                    part: Some(pb::part::Part::Text("hi".into())),
                }],
                ..Default::default()
            }),
            configuration: None,
            metadata: None,
        };
        let p: Value = serde_json::from_str(&send_params(req).unwrap()).unwrap();
        assert_eq!(
            p["message"]["parts"][0],
            json!({"kind": "text", "text": "hi"})
        );
        assert_eq!(p["message"]["role"], "user");
        let t = task(
            r#"{"kind":"task","id":"t","contextId":"c","status":{"state":"canceled","timestamp":"2026-01-01T00:00:00Z"}}"#,
        )
        .unwrap();
        assert_eq!(t.status.unwrap().state, pb::TaskState::Cancelled as i32);
    }
}

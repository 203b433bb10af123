//! A2A 0.3.0 JSON-RPC shapes: `kind` discriminators, kebab-case states, lowercase roles,
//! `final` on status updates, bare Task/Message results.

use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::protocol::card::AgentCard;
use crate::protocol::request::{self, SendRequest};
use crate::protocol::{
    A2aError, Artifact, Message, Metadata, Part, PartContent, Role, SendResult, StreamItem, Task,
    TaskArtifactUpdateEvent, TaskEvent, TaskState, TaskStatus, TaskStatusUpdateEvent, timestamp,
};

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Role03 {
    User,
    Agent,
}

/// File content: inline bytes or a URI.
#[derive(Debug, Clone, Default, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct FileContent {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mime_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bytes: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uri: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Part03 {
    Text {
        text: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        metadata: Option<Metadata>,
    },
    File {
        file: FileContent,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        metadata: Option<Metadata>,
    },
    Data {
        data: Value,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        metadata: Option<Metadata>,
    },
}

#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(tag = "kind", rename = "message", rename_all = "camelCase")]
pub struct Message03 {
    pub message_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task_id: Option<String>,
    pub role: Role03,
    pub parts: Vec<Part03>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Metadata>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extensions: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference_task_ids: Option<Vec<String>>,
}

#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Status03 {
    #[schemars(extend("enum" = ["submitted", "working", "input-required", "auth-required", "completed", "canceled", "failed", "rejected"]))]
    pub state: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<Message03>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Artifact03 {
    pub artifact_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub parts: Vec<Part03>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Metadata>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extensions: Option<Vec<String>>,
}

#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(tag = "kind", rename = "task", rename_all = "camelCase")]
pub struct Task03 {
    pub id: String,
    pub context_id: String,
    pub status: Status03,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifacts: Option<Vec<Artifact03>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub history: Option<Vec<Message03>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Metadata>,
}

#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(tag = "kind", rename = "status-update", rename_all = "camelCase")]
pub struct StatusUpdate03 {
    pub task_id: String,
    pub context_id: String,
    pub status: Status03,
    #[serde(rename = "final")]
    pub is_final: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Metadata>,
}

#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(tag = "kind", rename = "artifact-update", rename_all = "camelCase")]
pub struct ArtifactUpdate03 {
    pub task_id: String,
    pub context_id: String,
    pub artifact: Artifact03,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub append: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_chunk: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Metadata>,
}

/// A `message/send` result or `message/stream` item, discriminated by `kind`.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(untagged)]
pub enum Result03 {
    Task(Task03),
    Message(Message03),
    StatusUpdate(StatusUpdate03),
    ArtifactUpdate(ArtifactUpdate03),
}

/// `message/send` / `message/stream` params.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct MessageSendParams {
    pub message: Message03,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub configuration: Option<MessageSendConfiguration>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Metadata>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct MessageSendConfiguration {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accepted_output_modes: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub history_length: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub push_notification_config: Option<super::push::PushNotificationConfig>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub blocking: Option<bool>,
}

impl MessageSendParams {
    pub fn into_request(self) -> Result<SendRequest, A2aError> {
        let cfg = self.configuration.unwrap_or_default();
        Ok(SendRequest {
            message: self.message.try_into()?,
            // The reference SDK treats anything but an explicit `false` as blocking.
            blocking: cfg.blocking != Some(false),
            history_length: request::history_length(cfg.history_length)?,
            accepted_output_modes: cfg.accepted_output_modes.unwrap_or_default(),
            metadata: self.metadata,
            client_task_id: None,
            push: cfg.push_notification_config.map(|c| c.into_inline()),
        })
    }
}

/// `tasks/get` params (shared with 0.1).
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct TaskQueryParams {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub history_length: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Metadata>,
}

/// `tasks/cancel` / `tasks/resubscribe` params (shared with 0.1).
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct TaskIdParams {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Metadata>,
}

// ---- model -> wire ----

pub fn part(p: &Part) -> Part03 {
    let metadata = p.metadata.clone();
    match &p.content {
        PartContent::Text(t) => Part03::Text {
            text: t.clone(),
            metadata,
        },
        PartContent::Data(d) => Part03::Data {
            // 0.3 data parts hold an object; wrap any other JSON value.
            data: if d.is_object() {
                d.clone()
            } else {
                json!({ "value": d })
            },
            metadata,
        },
        PartContent::Raw(b) => Part03::File {
            file: FileContent {
                name: p.filename.clone(),
                mime_type: p.media_type.clone(),
                bytes: Some(B64.encode(b)),
                uri: None,
            },
            metadata,
        },
        PartContent::Url(u) => Part03::File {
            file: FileContent {
                name: p.filename.clone(),
                mime_type: p.media_type.clone(),
                bytes: None,
                uri: Some(u.clone()),
            },
            metadata,
        },
    }
}

pub fn message(m: &Message) -> Message03 {
    Message03 {
        message_id: m.message_id.clone(),
        context_id: m.context_id.clone(),
        task_id: m.task_id.clone(),
        role: match m.role {
            Role::User => Role03::User,
            Role::Agent => Role03::Agent,
        },
        parts: m.parts.iter().map(part).collect(),
        metadata: m.metadata.clone(),
        extensions: (!m.extensions.is_empty()).then(|| m.extensions.clone()),
        reference_task_ids: (!m.reference_task_ids.is_empty())
            .then(|| m.reference_task_ids.clone()),
    }
}

pub fn status(s: &TaskStatus) -> Status03 {
    Status03 {
        state: s.state.kebab_name().to_string(),
        message: s.message.as_deref().map(message),
        timestamp: Some(timestamp::format(&s.timestamp)),
    }
}

pub fn artifact(a: &Artifact) -> Artifact03 {
    Artifact03 {
        artifact_id: a.artifact_id.clone(),
        name: a.name.clone(),
        description: a.description.clone(),
        parts: a.parts.iter().map(part).collect(),
        metadata: a.metadata.clone(),
        extensions: (!a.extensions.is_empty()).then(|| a.extensions.clone()),
    }
}

pub fn task(t: &Task) -> Task03 {
    Task03 {
        id: t.id.clone(),
        context_id: t.context_id.clone(),
        status: status(&t.status),
        artifacts: (!t.artifacts.is_empty()).then(|| t.artifacts.iter().map(artifact).collect()),
        history: (!t.history.is_empty()).then(|| t.history.iter().map(|m| message(m)).collect()),
        metadata: t.metadata.clone(),
    }
}

pub fn send_result(r: &SendResult) -> Result03 {
    match r {
        SendResult::Task(t) => Result03::Task(task(t)),
        SendResult::Message(m) => Result03::Message(message(m)),
    }
}

/// Encodes one stream item. `final` marks the end of the interaction cycle: a terminal
/// state, or an interrupted one when `interrupted_is_final`.
pub fn stream_item(item: &StreamItem, interrupted_is_final: bool) -> Option<Result03> {
    Some(match item {
        StreamItem::Message(m) => Result03::Message(message(m)),
        StreamItem::Event(e) => match &e.event {
            TaskEvent::Task(t) => Result03::Task(task(t)),
            TaskEvent::StatusUpdate(s) => Result03::StatusUpdate(StatusUpdate03 {
                task_id: s.task_id.clone(),
                context_id: s.context_id.clone(),
                status: status(&s.status),
                is_final: s.status.state.is_terminal()
                    || (interrupted_is_final && s.status.state.is_interrupted()),
                metadata: s.metadata.clone(),
            }),
            TaskEvent::ArtifactUpdate(a) => Result03::ArtifactUpdate(ArtifactUpdate03 {
                task_id: a.task_id.clone(),
                context_id: a.context_id.clone(),
                artifact: artifact(&a.artifact),
                append: a.append.then_some(true),
                last_chunk: a.last_chunk.then_some(true),
                metadata: a.metadata.clone(),
            }),
            TaskEvent::UserMessage(_) => return None,
        },
    })
}

// ---- wire -> model ----

impl TryFrom<Part03> for Part {
    type Error = A2aError;
    fn try_from(p: Part03) -> Result<Part, A2aError> {
        Ok(match p {
            Part03::Text { text, metadata } => Part {
                metadata,
                ..Part::text(text)
            },
            Part03::Data { data, metadata } => Part {
                metadata,
                ..Part::data(data)
            },
            Part03::File { file, metadata } => {
                let content = match (file.bytes, file.uri) {
                    (Some(b), None) => PartContent::Raw(B64.decode(b.as_bytes()).map_err(|e| {
                        A2aError::params(format!("file.bytes is not valid base64: {e}"))
                    })?),
                    (None, Some(u)) => PartContent::Url(u),
                    _ => {
                        return Err(A2aError::params(
                            "a file part needs exactly one of `file.bytes` or `file.uri`",
                        ));
                    }
                };
                Part {
                    content,
                    filename: file.name,
                    media_type: file.mime_type,
                    metadata,
                }
            }
        })
    }
}

impl TryFrom<Message03> for Message {
    type Error = A2aError;
    fn try_from(m: Message03) -> Result<Message, A2aError> {
        Ok(Message {
            message_id: m.message_id,
            context_id: m.context_id,
            task_id: m.task_id,
            role: match m.role {
                Role03::User => Role::User,
                Role03::Agent => Role::Agent,
            },
            parts: m
                .parts
                .into_iter()
                .map(Part::try_from)
                .collect::<Result<_, _>>()?,
            metadata: m.metadata,
            extensions: m.extensions.unwrap_or_default(),
            reference_task_ids: m.reference_task_ids.unwrap_or_default(),
        })
    }
}

impl TryFrom<Status03> for TaskStatus {
    type Error = A2aError;
    fn try_from(s: Status03) -> Result<TaskStatus, A2aError> {
        Ok(TaskStatus {
            state: TaskState::parse(&s.state).ok_or_else(|| {
                A2aError::InvalidAgentResponse(format!("unknown task state `{}`", s.state))
            })?,
            message: s
                .message
                .map(|m| Message::try_from(m).map(Arc::new))
                .transpose()?,
            timestamp: match s.timestamp {
                Some(t) => chrono::DateTime::parse_from_rfc3339(&t)
                    .map(|t| t.with_timezone(&chrono::Utc))
                    .unwrap_or_else(|_| crate::protocol::now()),
                None => crate::protocol::now(),
            },
        })
    }
}

impl TryFrom<Artifact03> for Artifact {
    type Error = A2aError;
    fn try_from(a: Artifact03) -> Result<Artifact, A2aError> {
        Ok(Artifact {
            artifact_id: a.artifact_id,
            name: a.name,
            description: a.description,
            parts: a
                .parts
                .into_iter()
                .map(Part::try_from)
                .collect::<Result<_, _>>()?,
            metadata: a.metadata,
            extensions: a.extensions.unwrap_or_default(),
        })
    }
}

impl TryFrom<Task03> for Task {
    type Error = A2aError;
    fn try_from(t: Task03) -> Result<Task, A2aError> {
        Ok(Task {
            id: t.id,
            context_id: t.context_id,
            status: t.status.try_into()?,
            artifacts: t
                .artifacts
                .unwrap_or_default()
                .into_iter()
                .map(Artifact::try_from)
                .collect::<Result<_, _>>()?,
            history: t
                .history
                .unwrap_or_default()
                .into_iter()
                .map(|m| Message::try_from(m).map(Arc::new))
                .collect::<Result<_, _>>()?,
            metadata: t.metadata,
        })
    }
}

impl Result03 {
    /// Decodes a received result back into the model (client side).
    pub fn into_item(self) -> Result<StreamItem, A2aError> {
        let event = match self {
            Result03::Message(m) => return Ok(StreamItem::Message(m.try_into()?)),
            Result03::Task(t) => TaskEvent::Task(t.try_into()?),
            Result03::StatusUpdate(s) => TaskEvent::StatusUpdate(TaskStatusUpdateEvent {
                task_id: s.task_id,
                context_id: s.context_id,
                status: s.status.try_into()?,
                metadata: s.metadata,
            }),
            Result03::ArtifactUpdate(a) => TaskEvent::ArtifactUpdate(TaskArtifactUpdateEvent {
                task_id: a.task_id,
                context_id: a.context_id,
                artifact: Box::new(a.artifact.try_into()?),
                append: a.append.unwrap_or(false),
                last_chunk: a.last_chunk.unwrap_or(false),
                metadata: a.metadata,
            }),
        };
        Ok(StreamItem::event(0, event))
    }
}

/// Renders the 0.3 card (also served at `/.well-known/agent.json` for 0.1/0.2 clients).
pub fn agent_card(card: &AgentCard) -> Value {
    let mut v = json!({
        "name": card.name,
        "description": card.description,
        "version": card.version,
        "protocolVersion": "0.3.0",
        "url": card.url,
        "preferredTransport": "JSONRPC",
        "additionalInterfaces": [{"url": card.url, "transport": "JSONRPC"}],
        "capabilities": {
            "streaming": card.capabilities.streaming,
            "pushNotifications": card.capabilities.push_notifications,
        },
        "defaultInputModes": card.default_input_modes,
        "defaultOutputModes": card.default_output_modes,
        "skills": card.skills,
    });
    let obj = v.as_object_mut().expect("object");
    if let Some(p) = &card.provider {
        obj.insert(
            "provider".into(),
            json!({"organization": p.organization, "url": p.url}),
        );
    }
    if let Some(u) = &card.documentation_url {
        obj.insert("documentationUrl".into(), json!(u));
    }
    if let Some(u) = &card.icon_url {
        obj.insert("iconUrl".into(), json!(u));
    }
    v
}

//! A2A 0.1.0 (the `tasks/send` era): client-chosen task ids, `sessionId`, parts
//! discriminated by `type`, messages without ids, stream events keyed by `id`.

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::v03::FileContent;
use crate::protocol::request::{self, SendRequest};
use crate::protocol::{
    A2aError, Artifact, Message, Metadata, Part, Role, StreamItem, Task, TaskEvent, TaskStatus,
    timestamp,
};

#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum Part01 {
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
pub struct Message01 {
    pub role: super::v03::Role03,
    pub parts: Vec<Part01>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Metadata>,
}

#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Status01 {
    #[schemars(extend("enum" = ["submitted", "working", "input-required", "auth-required", "completed", "canceled", "failed", "rejected"]))]
    pub state: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<Message01>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Artifact01 {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub parts: Vec<Part01>,
    #[serde(default)]
    pub index: usize,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub append: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_chunk: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Metadata>,
}

#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Task01 {
    pub id: Arc<str>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_id: Option<Arc<str>>,
    pub status: Status01,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifacts: Option<Vec<Artifact01>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub history: Option<Vec<Message01>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Metadata>,
}

#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct StatusUpdate01 {
    pub id: Arc<str>,
    pub status: Status01,
    #[serde(rename = "final")]
    pub is_final: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Metadata>,
}

#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ArtifactUpdate01 {
    pub id: Arc<str>,
    pub artifact: Artifact01,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Metadata>,
}

/// A `tasks/sendSubscribe` item.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(untagged)]
pub enum Event01 {
    Status(StatusUpdate01),
    Artifact(ArtifactUpdate01),
}

/// `tasks/send` / `tasks/sendSubscribe` params.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct TaskSendParams {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_id: Option<Arc<str>>,
    pub message: Message01,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub push_notification: Option<super::push::PushNotificationConfig>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub history_length: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Metadata>,
}

impl TaskSendParams {
    pub fn into_request(self) -> Result<SendRequest, A2aError> {
        if self.id.trim().is_empty() {
            return Err(A2aError::params(
                "`id` (the client-chosen task id) must not be empty",
            ));
        }
        if self.id.contains('\0') {
            return Err(A2aError::params("`id` must not contain U+0000"));
        }
        let mut message: Message = self.message.try_into()?;
        message.context_id = self.session_id;
        Ok(SendRequest {
            message,
            blocking: true,
            history_length: request::history_length(self.history_length)?,
            accepted_output_modes: Vec::new(),
            metadata: self.metadata,
            push: self.push_notification.map(|c| {
                // 0.1 has one config per task, named by the task.
                let mut inline = c.into_inline();
                inline.id = None;
                inline
            }),
            client_task_id: Some(self.id),
        })
    }
}

// ---- model -> wire ----

pub fn part(p: &Part) -> Part01 {
    let metadata = p.metadata.clone();
    match super::v03::part(p) {
        super::v03::Part03::Text { text, .. } => Part01::Text { text, metadata },
        super::v03::Part03::File { file, .. } => Part01::File { file, metadata },
        super::v03::Part03::Data { data, .. } => Part01::Data { data, metadata },
    }
}

pub fn message(m: &Message) -> Message01 {
    Message01 {
        role: match m.role {
            Role::User => super::v03::Role03::User,
            Role::Agent => super::v03::Role03::Agent,
        },
        parts: m.parts.iter().map(part).collect(),
        metadata: m.metadata.clone(),
    }
}

pub fn status(s: &TaskStatus) -> Status01 {
    Status01 {
        state: s.state.kebab_name().to_string(),
        message: s.message.as_deref().map(message),
        timestamp: Some(timestamp::format(&s.timestamp)),
    }
}

pub fn artifact(a: &Artifact, index: usize, append: bool, last_chunk: bool) -> Artifact01 {
    Artifact01 {
        name: a.name.clone(),
        description: a.description.clone(),
        parts: a.parts.iter().map(part).collect(),
        index,
        append: append.then_some(true),
        last_chunk: last_chunk.then_some(true),
        metadata: a.metadata.clone(),
    }
}

/// The id a 0.1 client knows a task by (its own name, not the derived id).
fn shown(id: &Arc<str>) -> Arc<str> {
    let client = crate::protocol::alias::client_id(id);
    if client.len() == id.len() {
        id.clone()
    } else {
        client.into()
    }
}

pub fn task(t: &Task) -> Task01 {
    Task01 {
        id: shown(&t.id),
        session_id: Some(t.context_id.clone()),
        status: status(&t.status),
        artifacts: (!t.artifacts.is_empty()).then(|| {
            t.artifacts
                .iter()
                .enumerate()
                .map(|(i, a)| artifact(a, i, false, false))
                .collect()
        }),
        history: (!t.history.is_empty()).then(|| t.history.iter().map(|m| message(m)).collect()),
        metadata: t.metadata.clone(),
    }
}

/// Encodes one stream item. 0.1 streams carry only status and artifact events, so the
/// initial task snapshot becomes a status event. `artifact_ids` numbers artifacts in the
/// order the stream first saw them (0.1 addresses artifacts by index).
pub fn stream_item(item: &StreamItem, artifact_ids: &mut Vec<String>) -> Option<Event01> {
    let StreamItem::Event(e) = item else {
        // A bare message has no 0.1 form; the service never produces one for 0.1 calls.
        return None;
    };
    Some(match &e.event {
        TaskEvent::Task(t) => {
            artifact_ids.extend(t.artifacts.iter().map(|a| a.artifact_id.clone()));
            Event01::Status(StatusUpdate01 {
                id: shown(&t.id),
                status: status(&t.status),
                is_final: t.status.state.is_terminal() || t.status.state.is_interrupted(),
                metadata: None,
            })
        }
        TaskEvent::StatusUpdate(s) => Event01::Status(StatusUpdate01 {
            id: shown(&s.task_id),
            status: status(&s.status),
            is_final: s.status.state.is_terminal() || s.status.state.is_interrupted(),
            metadata: s.metadata.clone(),
        }),
        TaskEvent::ArtifactUpdate(a) => {
            let id = &a.artifact.artifact_id;
            let index = match artifact_ids.iter().position(|x| x == id) {
                Some(i) => i,
                None => {
                    artifact_ids.push(id.clone());
                    artifact_ids.len() - 1
                }
            };
            Event01::Artifact(ArtifactUpdate01 {
                id: shown(&a.task_id),
                artifact: artifact(&a.artifact, index, a.append, a.last_chunk),
                metadata: a.metadata.clone(),
            })
        }
        TaskEvent::UserMessage(_) => return None,
    })
}

// ---- wire -> model ----

impl TryFrom<Part01> for Part {
    type Error = A2aError;
    fn try_from(p: Part01) -> Result<Part, A2aError> {
        use super::v03::Part03;
        Part::try_from(match p {
            Part01::Text { text, metadata } => Part03::Text { text, metadata },
            Part01::File { file, metadata } => Part03::File { file, metadata },
            Part01::Data { data, metadata } => Part03::Data { data, metadata },
        })
    }
}

impl TryFrom<Message01> for Message {
    type Error = A2aError;
    fn try_from(m: Message01) -> Result<Message, A2aError> {
        let mut msg = Message::agent(
            m.parts
                .into_iter()
                .map(Part::try_from)
                .collect::<Result<_, _>>()?,
        );
        msg.role = match m.role {
            super::v03::Role03::User => Role::User,
            super::v03::Role03::Agent => Role::Agent,
        };
        msg.metadata = m.metadata;
        Ok(msg)
    }
}

impl Task01 {
    /// Decodes a received task (client side).
    pub fn into_task(self) -> Result<Task, A2aError> {
        let s = self.status;
        Ok(Task {
            id: self.id,
            context_id: self.session_id.unwrap_or_default(),
            status: super::v03::Status03 {
                state: s.state,
                message: None,
                timestamp: s.timestamp,
            }
            .try_into()
            .map(|mut st: TaskStatus| {
                st.message = s.message.and_then(|m| m.try_into().ok()).map(Arc::new);
                st
            })?,
            artifacts: self
                .artifacts
                .unwrap_or_default()
                .into_iter()
                .enumerate()
                .map(|(i, a)| {
                    Ok(Arc::new(Artifact {
                        artifact_id: format!("artifact-{i}"),
                        name: a.name,
                        description: a.description,
                        parts: a
                            .parts
                            .into_iter()
                            .map(Part::try_from)
                            .collect::<Result<_, _>>()?,
                        metadata: a.metadata,
                        extensions: Vec::new(),
                    }))
                })
                .collect::<Result<_, A2aError>>()?,
            history: self
                .history
                .unwrap_or_default()
                .into_iter()
                .map(|m| Message::try_from(m).map(Arc::new))
                .collect::<Result<_, _>>()?,
            metadata: self.metadata,
        })
    }
}

//! 0.3 wire -> model: the `TryFrom` conversions of received messages, tasks and parts, and
//! [`Result03::into_item`] for the client side.

use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;

use super::{Artifact03, Message03, Part03, Result03, Role03, Status03, Task03};
use crate::protocol::{
    A2aError, Artifact, Message, Part, PartContent, Role, StreamItem, Task,
    TaskArtifactUpdateEvent, TaskEvent, TaskState, TaskStatus, TaskStatusUpdateEvent,
};

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
                .map(|a| Artifact::try_from(a).map(Arc::new))
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
                artifact: Arc::new(a.artifact.try_into()?),
                append: a.append.unwrap_or(false),
                last_chunk: a.last_chunk.unwrap_or(false),
                metadata: a.metadata,
            }),
        };
        Ok(StreamItem::event(0, event))
    }
}

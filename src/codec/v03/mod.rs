//! A2A 0.3.0 JSON-RPC shapes: `kind` discriminators, kebab-case states, lowercase roles,
//! `final` on status updates, bare Task/Message results.
//!
//! The wire types are here; `encode` turns the model into them (and renders the 0.3 agent
//! card), `decode` turns them back into the model.

mod decode;
mod encode;
mod lenient;
pub mod proto_json;

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::protocol::request::{self, SendRequest};
use crate::protocol::{A2aError, Metadata};
pub use encode::{
    agent_card, artifact, card_v03_members, message, part, send_result, status, stream_item, task,
};
pub(crate) use encode::{card_shared_members, security_requirements, security_schemes};

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

// Deserialize is by hand (`lenient`): a missing `kind` is inferred. A plain comment: a
// doc comment would become the schema's description.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
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

// Deserialize is by hand (`lenient`): `kind` may be missing.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
#[serde(tag = "kind", rename = "message", rename_all = "camelCase")]
pub struct Message03 {
    pub message_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context_id: Option<Arc<str>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task_id: Option<Arc<str>>,
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
    pub id: Arc<str>,
    pub context_id: Arc<str>,
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
    pub task_id: Arc<str>,
    pub context_id: Arc<str>,
    pub status: Status03,
    #[serde(rename = "final")]
    pub is_final: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Metadata>,
}

#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(tag = "kind", rename = "artifact-update", rename_all = "camelCase")]
pub struct ArtifactUpdate03 {
    pub task_id: Arc<str>,
    pub context_id: Arc<str>,
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

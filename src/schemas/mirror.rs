//! Schema-only twins of shapes the codecs emit without a named pub type: the send result
//! unions (encoded through private borrowing enums) and the agent cards (rendered with
//! `json!`). Each carries the same serde attributes as what it mirrors, and the cards deny
//! unknown fields, so `tests/schemas.rs`, which validates real output against them,
//! notices when the renderers change.
// Only their schemas (and the tests) use these types.
#![allow(dead_code)]

use std::borrow::Cow;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::Serialize;

use crate::codec::v03;
use crate::protocol::card::{AgentProvider, AgentSkill};
use crate::protocol::{
    Message, Metadata, Part, Task, TaskArtifactUpdateEvent, TaskStatusUpdateEvent,
};

/// `Part` serializes by hand (one flat object with exactly one content member).
impl JsonSchema for Part {
    fn schema_name() -> Cow<'static, str> {
        "Part".into()
    }

    fn json_schema(g: &mut SchemaGenerator) -> Schema {
        let metadata = g.subschema_for::<Metadata>();
        json_schema!({
            "description": "One piece of a message or artifact: exactly one of `text`, `raw` (base64 bytes), `url` or `data`.",
            "type": "object",
            "properties": {
                "text": {"type": "string"},
                "raw": {"type": "string", "contentEncoding": "base64"},
                "url": {"type": "string"},
                "data": true,
                "filename": {"type": "string"},
                "mediaType": {"type": "string"},
                "metadata": metadata,
            },
            "oneOf": [
                {"required": ["text"]},
                {"required": ["raw"]},
                {"required": ["url"]},
                {"required": ["data"]},
            ],
        })
    }
}

/// 1.0 `SendMessage` result: `{"task": …}` or `{"message": …}` (as `v1::send_result`).
#[derive(Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum SendMessageResponse {
    Task(Task),
    Message(Message),
}

/// 1.0 stream item: exactly one member (as `v1::stream_item`).
#[derive(Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum StreamResponse {
    Task(Task),
    Message(Message),
    StatusUpdate(TaskStatusUpdateEvent),
    ArtifactUpdate(TaskArtifactUpdateEvent),
}

/// 0.3 `message/send` result: a bare Task or Message, told apart by `kind`.
#[derive(Serialize, JsonSchema)]
#[serde(untagged)]
pub enum SendResult03 {
    Task(v03::Task03),
    Message(v03::Message03),
}

/// An entry of the 0.3 `additionalInterfaces`.
#[derive(Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AgentInterface03 {
    pub url: String,
    pub transport: String,
}

#[derive(Serialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AgentCapabilities03 {
    pub streaming: bool,
    pub push_notifications: bool,
}

/// The card of `v03::agent_card`.
#[derive(Serialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AgentCard03 {
    pub name: String,
    pub description: String,
    pub version: String,
    #[schemars(extend("const" = "0.3.0"))]
    pub protocol_version: String,
    pub url: String,
    #[schemars(extend("const" = "JSONRPC"))]
    pub preferred_transport: String,
    pub additional_interfaces: Vec<AgentInterface03>,
    pub capabilities: AgentCapabilities03,
    pub default_input_modes: Vec<String>,
    pub default_output_modes: Vec<String>,
    pub skills: Vec<AgentSkill>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provider: Option<AgentProvider>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub documentation_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub icon_url: Option<String>,
    /// Set with `[card.extended]`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub supports_authenticated_extended_card: Option<bool>,
    /// The OpenAPI-shaped schemes and the requirements, with authentication configured.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub security_schemes: Option<serde_json::Map<String, serde_json::Value>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub security: Option<Vec<std::collections::BTreeMap<String, Vec<String>>>>,
}

/// An entry of the 1.0 `supportedInterfaces`.
#[derive(Serialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AgentInterfaceV1 {
    pub url: String,
    pub protocol_binding: String,
    pub protocol_version: String,
}

#[derive(Serialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AgentCapabilitiesV1 {
    pub streaming: bool,
    pub push_notifications: bool,
    pub extended_agent_card: bool,
}

/// The card of `v1::agent_card`: the 1.0 fields and, by default, the 0.3 ones side by side.
#[derive(Serialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AgentCardV1 {
    pub name: String,
    pub description: String,
    pub version: String,
    pub supported_interfaces: Vec<AgentInterfaceV1>,
    pub capabilities: AgentCapabilitiesV1,
    pub default_input_modes: Vec<String>,
    pub default_output_modes: Vec<String>,
    pub skills: Vec<AgentSkill>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provider: Option<AgentProvider>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub documentation_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub icon_url: Option<String>,
    /// 0.3 compatibility fields, all four present unless `[card] v03_fields = false`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(extend("const" = "0.3.0"))]
    pub protocol_version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(extend("const" = "JSONRPC"))]
    pub preferred_transport: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub additional_interfaces: Option<Vec<AgentInterface03>>,
    /// With authentication configured: the 1.0 `SecurityScheme` oneofs (each also with
    /// its 0.3 members when the 0.3 fields are on) and the requirements.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub security_schemes: Option<serde_json::Map<String, serde_json::Value>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub security_requirements: Option<Vec<serde_json::Value>>,
    /// The 0.3 requirements, beside the 1.0 ones when the 0.3 fields are on.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub security: Option<Vec<std::collections::BTreeMap<String, Vec<String>>>>,
}

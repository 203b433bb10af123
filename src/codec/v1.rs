//! A2A 1.0.1 (ProtoJSON): the internal model already has this shape, so this codec is the
//! request/response envelopes around it.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::protocol::card::AgentCard;
use crate::protocol::request::{self, ListTasksQuery, SendRequest, TaskPage};
use crate::protocol::{
    A2aError, Message, Metadata, SendResult, StreamItem, Task, TaskArtifactUpdateEvent, TaskEvent,
    TaskState, TaskStatusUpdateEvent,
};

/// `SendMessage` / `SendStreamingMessage` params.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SendMessageRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant: Option<String>,
    pub message: Message,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub configuration: Option<SendMessageConfiguration>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Metadata>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SendMessageConfiguration {
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        alias = "accepted_output_modes"
    )]
    pub accepted_output_modes: Vec<String>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        alias = "history_length"
    )]
    pub history_length: Option<i64>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        alias = "return_immediately"
    )]
    pub return_immediately: Option<bool>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        alias = "task_push_notification_config"
    )]
    pub task_push_notification_config: Option<super::push::TaskPushNotificationConfig>,
}

impl SendMessageRequest {
    pub fn into_request(self) -> Result<SendRequest, A2aError> {
        let cfg = self.configuration.unwrap_or_default();
        Ok(SendRequest {
            message: self.message,
            blocking: !cfg.return_immediately.unwrap_or(false),
            history_length: request::history_length(cfg.history_length)?,
            accepted_output_modes: cfg.accepted_output_modes,
            metadata: self.metadata,
            client_task_id: None,
            push: cfg
                .task_push_notification_config
                .map(|c| c.into_inline())
                .transpose()?,
        })
    }
}

/// `GetTask` params.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct GetTaskRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant: Option<String>,
    pub id: String,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        alias = "history_length"
    )]
    pub history_length: Option<i64>,
}

/// `CancelTask` / `SubscribeToTask` params.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct TaskIdRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant: Option<String>,
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Metadata>,
}

/// `ListTasks` params.
#[derive(Debug, Clone, Default, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ListTasksRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none", alias = "context_id")]
    pub context_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none", alias = "page_size")]
    pub page_size: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none", alias = "page_token")]
    pub page_token: Option<String>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        alias = "history_length"
    )]
    pub history_length: Option<i64>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        alias = "status_timestamp_after"
    )]
    pub status_timestamp_after: Option<String>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        alias = "include_artifacts"
    )]
    pub include_artifacts: Option<bool>,
}

impl ListTasksRequest {
    pub fn into_query(self) -> Result<ListTasksQuery, A2aError> {
        let page_size = request::page_size(
            self.page_size,
            request::DEFAULT_PAGE_SIZE,
            request::MAX_PAGE_SIZE,
        )?;
        let state = match self.status.as_deref() {
            // protobuf-ts clients (the JS SDK) send `UNRECOGNIZED` for an unset enum.
            None | Some("") | Some("TASK_STATE_UNSPECIFIED") | Some("UNRECOGNIZED") => None,
            Some(s) => Some(TaskState::parse(s).ok_or_else(|| {
                A2aError::InvalidParams(format!("status `{s}` is not a valid TaskState"))
            })?),
        };
        let status_timestamp_after = match self.status_timestamp_after.as_deref() {
            None | Some("") => None,
            Some(s) => Some(
                chrono::DateTime::parse_from_rfc3339(s)
                    .map_err(|e| {
                        A2aError::InvalidParams(format!(
                            "statusTimestampAfter `{s}` is not an RFC 3339 timestamp: {e}"
                        ))
                    })?
                    .with_timezone(&chrono::Utc),
            ),
        };
        Ok(ListTasksQuery {
            context_id: self.context_id.filter(|c| !c.is_empty()),
            state,
            page_size,
            page_token: self.page_token.filter(|t| !t.is_empty()),
            history_length: request::history_length(self.history_length)?,
            status_timestamp_after,
            include_artifacts: self.include_artifacts.unwrap_or(false),
        })
    }
}

/// `ListTasks` result.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ListTasksResponse {
    pub tasks: Vec<Task>,
    pub next_page_token: String,
    pub page_size: usize,
    pub total_size: usize,
}

impl ListTasksResponse {
    pub fn new(page: TaskPage, page_size: usize) -> Self {
        Self {
            tasks: page.tasks,
            next_page_token: page.next_page_token,
            page_size,
            total_size: page.total_size,
        }
    }
}

/// `SendMessage` result and each SSE item: exactly one member is set.
#[derive(Debug, Clone, Default, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct StreamResponse {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task: Option<Task>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<Message>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        alias = "status_update"
    )]
    pub status_update: Option<TaskStatusUpdateEvent>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        alias = "artifact_update"
    )]
    pub artifact_update: Option<TaskArtifactUpdateEvent>,
}

/// Borrowing twin of [`StreamResponse`] so the hot path serializes without cloning.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
enum StreamResponseRef<'a> {
    Task(&'a Task),
    Message(&'a Message),
    StatusUpdate(&'a TaskStatusUpdateEvent),
    ArtifactUpdate(&'a TaskArtifactUpdateEvent),
}

/// Encodes a send result as `{"task":…}` or `{"message":…}`.
pub fn send_result(result: &SendResult) -> super::Json {
    super::encode(&match result {
        SendResult::Task(t) => StreamResponseRef::Task(t),
        SendResult::Message(m) => StreamResponseRef::Message(m),
    })
}

/// Encodes one stream item; `None` for events that are not streamed.
pub fn stream_item(item: &StreamItem) -> Option<super::Json> {
    let r = match item {
        StreamItem::Message(m) => StreamResponseRef::Message(m),
        StreamItem::Event(e) => match &e.event {
            TaskEvent::Task(t) => StreamResponseRef::Task(t),
            TaskEvent::StatusUpdate(s) => StreamResponseRef::StatusUpdate(s),
            TaskEvent::ArtifactUpdate(a) => StreamResponseRef::ArtifactUpdate(a),
            TaskEvent::UserMessage(_) => return None,
        },
    };
    Some(super::encode(&r))
}

impl StreamResponse {
    /// Decodes a received item back into the model (client side).
    pub fn into_item(self) -> Result<StreamItem, A2aError> {
        let event = match (
            self.task,
            self.message,
            self.status_update,
            self.artifact_update,
        ) {
            (Some(t), None, None, None) => TaskEvent::Task(t),
            (None, Some(m), None, None) => return Ok(StreamItem::Message(m)),
            (None, None, Some(s), None) => TaskEvent::StatusUpdate(s),
            (None, None, None, Some(a)) => TaskEvent::ArtifactUpdate(a),
            _ => {
                return Err(A2aError::InvalidAgentResponse(
                    "a StreamResponse must have exactly one of task, message, statusUpdate, \
                     artifactUpdate"
                        .into(),
                ));
            }
        };
        Ok(StreamItem::event(0, event))
    }
}

/// Renders the card served at `/.well-known/agent-card.json`: the 1.0 members and, unless
/// `[card] v03_fields = false`, the 0.3 ones beside them, so clients of both versions read
/// the same document. Strict, it is exactly the 1.0 `AgentCard` (whose schema allows no
/// other member); the 0.3 interface stays listed in `supportedInterfaces` either way.
pub fn agent_card(card: &AgentCard) -> Value {
    let mut obj = super::v03::card_shared_members(card);
    let interfaces: Vec<Value> = card
        .interfaces
        .iter()
        .flat_map(|i| {
            i.versions.iter().map(|v| {
                serde_json::json!({"url": i.url, "protocolBinding": i.binding.as_str(), "protocolVersion": v})
            })
        })
        .collect();
    obj.insert("supportedInterfaces".into(), Value::Array(interfaces));
    obj.insert(
        "capabilities".into(),
        serde_json::json!({
            "streaming": card.capabilities.streaming,
            "pushNotifications": card.capabilities.push_notifications,
            "extendedAgentCard": card.capabilities.extended_agent_card,
        }),
    );
    if !card.security.is_empty() {
        obj.insert(
            "securitySchemes".into(),
            security_schemes(&card.security, card.v03_fields),
        );
        obj.insert(
            "securityRequirements".into(),
            Value::Array(
                super::v03::security_requirements(&card.security)
                    .into_iter()
                    .map(|(name, scopes)| serde_json::json!({"schemes": {name: {"list": scopes}}}))
                    .collect(),
            ),
        );
    }
    if card.v03_fields {
        obj.extend(super::v03::card_v03_members(card));
    }
    Value::Object(obj)
}

/// The 1.0 `securitySchemes` (one member of the `SecurityScheme` oneof each). `dual`: the
/// 0.3 members of each scheme too (`type`, `scheme`, `in`, ...), as a2a-python's
/// compatible card does, so a 0.3 client reading this card parses its schemes; a strict
/// 1.0 card has none of them.
fn security_schemes(sec: &crate::protocol::card::CardSecurity, dual: bool) -> Value {
    let mut v03 = match super::v03::security_schemes(sec) {
        Value::Object(m) => m,
        _ => serde_json::Map::new(),
    };
    let mut out = serde_json::Map::new();
    let mut add = |name: &str, member: Value| {
        let mut scheme = member.as_object().cloned().unwrap_or_default();
        if dual && let Some(Value::Object(old)) = v03.remove(name) {
            scheme.extend(old);
        }
        out.insert(name.into(), Value::Object(scheme));
    };
    match &sec.bearer {
        Some(Some(url)) => add(
            "oidc",
            serde_json::json!({"openIdConnectSecurityScheme": {"openIdConnectUrl": url}}),
        ),
        Some(None) => add(
            "bearer",
            serde_json::json!({"httpAuthSecurityScheme": {"scheme": "Bearer", "bearerFormat": "JWT"}}),
        ),
        None => {}
    }
    if let Some(h) = &sec.api_key_header {
        add(
            "apiKey",
            serde_json::json!({"apiKeySecurityScheme": {"location": "header", "name": h}}),
        );
    }
    if sec.mtls {
        add("mtls", serde_json::json!({"mtlsSecurityScheme": {}}));
    }
    Value::Object(out)
}

//! Model -> 0.3 wire: messages, tasks, results and stream items, and the 0.3 agent card.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use serde_json::{Map, Value, json};

use super::{
    Artifact03, ArtifactUpdate03, FileContent, Message03, Part03, Result03, Role03, Status03,
    StatusUpdate03, Task03,
};
use crate::protocol::card::{AgentCard, CardSecurity};
use crate::protocol::{
    Artifact, Message, Part, PartContent, Role, SendResult, StreamItem, Task, TaskEvent,
    TaskStatus, timestamp,
};

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
        artifacts: (!t.artifacts.is_empty())
            .then(|| t.artifacts.iter().map(|a| artifact(a)).collect()),
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

/// Renders the 0.3 card (also served at `/.well-known/agent.json` for 0.1/0.2 clients).
pub fn agent_card(card: &AgentCard) -> Value {
    let mut obj = card_shared_members(card);
    obj.extend(card_v03_members(card));
    obj.insert(
        "capabilities".into(),
        json!({
            "streaming": card.capabilities.streaming,
            "pushNotifications": card.capabilities.push_notifications,
        }),
    );
    if card.capabilities.extended_agent_card {
        obj.insert("supportsAuthenticatedExtendedCard".into(), json!(true));
    }
    if !card.security.is_empty() {
        obj.insert("securitySchemes".into(), security_schemes(&card.security));
    }
    Value::Object(obj)
}

/// The 0.3 (OpenAPI-shaped) `securitySchemes`; the names are the 1.0 card's.
pub(crate) fn security_schemes(sec: &CardSecurity) -> Value {
    let mut out = Map::new();
    match &sec.bearer {
        Some(Some(url)) => {
            out.insert(
                "oidc".into(),
                json!({"type": "openIdConnect", "openIdConnectUrl": url}),
            );
        }
        Some(None) => {
            out.insert(
                "bearer".into(),
                json!({"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}),
            );
        }
        None => {}
    }
    if let Some(h) = &sec.api_key_header {
        out.insert(
            "apiKey".into(),
            json!({"type": "apiKey", "in": "header", "name": h}),
        );
    }
    if sec.mtls {
        out.insert("mtls".into(), json!({"type": "mutualTLS"}));
    }
    Value::Object(out)
}

/// Each accepted scheme with the scopes it needs: any one of them suffices (the list is
/// an OR); only bearer tokens carry scopes.
pub(crate) fn security_requirements(sec: &CardSecurity) -> Vec<(&'static str, Vec<String>)> {
    let mut out = Vec::new();
    match &sec.bearer {
        Some(Some(_)) => out.push(("oidc", sec.required_scopes.clone())),
        Some(None) => out.push(("bearer", sec.required_scopes.clone())),
        None => {}
    }
    if sec.api_key_header.is_some() {
        out.push(("apiKey", Vec::new()));
    }
    if sec.mtls {
        out.push(("mtls", Vec::new()));
    }
    out
}

/// The card members 0.3 and 1.0 spell alike.
pub(crate) fn card_shared_members(card: &AgentCard) -> Map<String, Value> {
    let mut obj = Map::new();
    obj.insert("name".into(), json!(card.name));
    obj.insert("description".into(), json!(card.description));
    obj.insert("version".into(), json!(card.version));
    obj.insert("defaultInputModes".into(), json!(card.default_input_modes));
    obj.insert(
        "defaultOutputModes".into(),
        json!(card.default_output_modes),
    );
    obj.insert("skills".into(), json!(card.skills));
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
    obj
}

/// The members only 0.3 has: how a 0.3 client finds the endpoint. The 1.0 card carries
/// them too unless `[card] v03_fields = false` (`v1::agent_card`), so this is the one place
/// for every 0.3-only member, the 0.3 security requirements (`security`) included when
/// the card gets them.
pub fn card_v03_members(card: &AgentCard) -> Map<String, Value> {
    let mut obj = Map::new();
    obj.insert("protocolVersion".into(), json!("0.3.0"));
    // The interfaces that serve 0.3, in the card's order: the first is `url`.
    let v03: Vec<(&str, &str)> = card
        .interfaces
        .iter()
        .filter_map(|i| Some((i.v03_url.as_deref()?, i.binding.as_str())))
        .collect();
    let (url, transport) = v03.first().copied().unwrap_or((&card.url, "JSONRPC"));
    obj.insert("url".into(), json!(url));
    obj.insert("preferredTransport".into(), json!(transport));
    let additional: Vec<Value> = if v03.is_empty() {
        vec![json!({"url": url, "transport": transport})]
    } else {
        v03.iter()
            .map(|(url, transport)| json!({"url": url, "transport": transport}))
            .collect()
    };
    obj.insert("additionalInterfaces".into(), Value::Array(additional));
    if !card.security.is_empty() {
        let security: Vec<Value> = security_requirements(&card.security)
            .into_iter()
            .map(|(name, scopes)| json!({ name: scopes }))
            .collect();
        obj.insert("security".into(), Value::Array(security));
    }
    obj
}

//! The internal A2A model: one set of types every wire version converts to and from.
//!
//! Its serde form is A2A 1.0 ProtoJSON (camelCase fields, `TASK_STATE_*` / `ROLE_*` enums,
//! flat parts), because 1.0 is the normative, most expressive shape: the 1.0 codec is then
//! a thin wrapper and the stores can persist these types as they are.

use std::sync::Arc;

use chrono::{DateTime, Timelike, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::state::TaskState;

/// Free-form JSON object carried by `metadata` fields.
pub type Metadata = Map<String, Value>;

/// Who sent a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub enum Role {
    #[serde(rename = "ROLE_USER", alias = "user", alias = "USER")]
    User,
    #[serde(rename = "ROLE_AGENT", alias = "agent", alias = "AGENT")]
    Agent,
}

/// The content of a part: exactly one of text, inline bytes, a URL or structured data.
#[derive(Debug, Clone, PartialEq)]
pub enum PartContent {
    Text(String),
    /// Inline file bytes, base64 on the wire.
    Raw(Vec<u8>),
    /// A file by reference.
    Url(String),
    /// Any JSON value.
    Data(Value),
}

/// One piece of a message or artifact.
#[derive(Debug, Clone, PartialEq)]
pub struct Part {
    pub content: PartContent,
    pub filename: Option<String>,
    pub media_type: Option<String>,
    pub metadata: Option<Metadata>,
}

impl Part {
    /// A plain text part.
    pub fn text(text: impl Into<String>) -> Self {
        Self::new(PartContent::Text(text.into()))
    }

    /// A structured data part.
    pub fn data(value: Value) -> Self {
        Self::new(PartContent::Data(value))
    }

    pub fn new(content: PartContent) -> Self {
        Self {
            content,
            filename: None,
            media_type: None,
            metadata: None,
        }
    }

    /// The text of a text part.
    pub fn as_text(&self) -> Option<&str> {
        match &self.content {
            PartContent::Text(t) => Some(t),
            _ => None,
        }
    }
}

/// A message between user and agent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Message {
    #[serde(alias = "message_id")]
    pub message_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none", alias = "context_id")]
    pub context_id: Option<Arc<str>>,
    #[serde(default, skip_serializing_if = "Option::is_none", alias = "task_id")]
    pub task_id: Option<Arc<str>>,
    pub role: Role,
    pub parts: Vec<Part>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Metadata>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub extensions: Vec<String>,
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        alias = "reference_task_ids"
    )]
    pub reference_task_ids: Vec<String>,
}

impl Message {
    /// An agent message with a fresh id.
    pub fn agent(parts: Vec<Part>) -> Self {
        Self {
            message_id: uuid::Uuid::new_v4().to_string(),
            context_id: None,
            task_id: None,
            role: Role::Agent,
            parts,
            metadata: None,
            extensions: Vec::new(),
            reference_task_ids: Vec::new(),
        }
    }

    /// The concatenated text of all text parts.
    pub fn text(&self) -> String {
        self.parts
            .iter()
            .filter_map(Part::as_text)
            .collect::<Vec<_>>()
            .join("\n")
    }
}

/// The state of a task plus an optional message and the time it was set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct TaskStatus {
    pub state: TaskState,
    // Shared: the same message is also the task's latest history entry, and events,
    // snapshots and the store hold it without copying it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<Arc<Message>>,
    /// Optional on input (peers may omit it); always written.
    #[serde(with = "timestamp", default = "now")]
    #[schemars(with = "String", extend("format" = "date-time"))]
    pub timestamp: DateTime<Utc>,
}

impl TaskStatus {
    pub fn new(state: TaskState, message: Option<Message>) -> Self {
        Self {
            state,
            message: message.map(Arc::new),
            timestamp: now(),
        }
    }
}

/// An output of a task.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Artifact {
    #[serde(alias = "artifact_id")]
    pub artifact_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub parts: Vec<Part>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Metadata>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub extensions: Vec<String>,
}

/// A unit of work with its status, outputs and conversation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Task {
    // Task and context ids are shared (`Arc<str>`): a task's events, messages, log and
    // indexes all name it, and each of them holding its own copy was an allocation apiece.
    pub id: Arc<str>,
    #[serde(alias = "context_id")]
    pub context_id: Arc<str>,
    pub status: TaskStatus,
    // Shared with the artifact events that made them: the task and its event log hold one
    // copy, and cloning a task copies pointers.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub artifacts: Vec<Arc<Artifact>>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub history: Vec<Arc<Message>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Metadata>,
}

impl Task {
    /// Keeps only the `n` most recent history messages (`None` keeps all).
    pub fn truncate_history(&mut self, n: Option<usize>) {
        if let Some(n) = n {
            let len = self.history.len();
            if len > n {
                self.history.drain(..len - n);
            }
        }
    }
}

/// A change of a task's status.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct TaskStatusUpdateEvent {
    pub task_id: Arc<str>,
    pub context_id: Arc<str>,
    pub status: TaskStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Metadata>,
}

/// A new artifact, or a chunk of one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct TaskArtifactUpdateEvent {
    pub task_id: Arc<str>,
    pub context_id: Arc<str>,
    // Shared with the task it is applied to (see `Task::artifacts`); behind a pointer, it
    // also keeps this event, and every event in a task's log, small.
    pub artifact: Arc<Artifact>,
    /// Add these parts to the artifact with the same id instead of replacing it.
    #[serde(default)]
    pub append: bool,
    /// The last chunk of this artifact.
    #[serde(default)]
    pub last_chunk: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Metadata>,
}

/// Every change of a task, as stored (with a per-task sequence number) and as streamed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum TaskEvent {
    /// The task was created; carries its first snapshot.
    Task(Task),
    /// A user message was added to the history (a follow-up); not streamed.
    UserMessage(Arc<Message>),
    StatusUpdate(TaskStatusUpdateEvent),
    ArtifactUpdate(TaskArtifactUpdateEvent),
}

impl TaskEvent {
    /// The state this event moves the task to, if it changes the state.
    pub fn state(&self) -> Option<TaskState> {
        match self {
            TaskEvent::Task(t) => Some(t.status.state),
            TaskEvent::StatusUpdate(s) => Some(s.status.state),
            _ => None,
        }
    }

    /// Whether subscribers see this event on a stream.
    pub fn is_streamed(&self) -> bool {
        !matches!(self, TaskEvent::UserMessage(_))
    }
}

/// A stored event: the event and its position in the task's event log (1-based).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct SequencedEvent {
    pub seq: u64,
    pub event: TaskEvent,
}

/// What a streaming call yields: a task event, or a bare message reply. Events are shared:
/// every subscriber of a task streams the one copy the bus carries.
#[derive(Debug, Clone, PartialEq)]
pub enum StreamItem {
    Event(std::sync::Arc<SequencedEvent>),
    Message(Message),
}

impl StreamItem {
    pub fn event(seq: u64, event: TaskEvent) -> Self {
        StreamItem::Event(std::sync::Arc::new(SequencedEvent { seq, event }))
    }
}

/// The result of a send: a task, or a bare message when the agent answered without one.
#[derive(Debug, Clone, PartialEq)]
pub enum SendResult {
    Task(Task),
    Message(Message),
}

/// The current time, truncated to milliseconds (the precision the wire carries).
pub fn now() -> DateTime<Utc> {
    let t = Utc::now();
    // Truncated in place: a round trip through milliseconds since the epoch recomputed
    // the calendar date on every event.
    t.with_nanosecond(t.nanosecond() / 1_000_000 * 1_000_000)
        .unwrap_or(t)
}

/// RFC 3339 UTC timestamps with millisecond precision and a `Z` suffix.
pub mod timestamp {
    use std::cell::RefCell;

    use chrono::{DateTime, SecondsFormat, Utc};
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn format(t: &DateTime<Utc>) -> String {
        t.to_rfc3339_opts(SecondsFormat::Millis, true)
    }

    pub fn serialize<S: Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
        thread_local! {
            // The events of a task, and the tasks served in the same millisecond, share
            // their timestamp: chrono formats it once, not once per event.
            static LAST: RefCell<(DateTime<Utc>, String)> =
                RefCell::new((DateTime::UNIX_EPOCH, format(&DateTime::UNIX_EPOCH)));
        }
        LAST.with_borrow_mut(|(last, text)| {
            if last != t {
                *last = *t;
                *text = format(t);
            }
            s.serialize_str(text)
        })
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<DateTime<Utc>, D::Error> {
        let s = String::deserialize(d)?;
        DateTime::parse_from_rfc3339(&s)
            .map(|t| t.with_timezone(&Utc))
            .map_err(serde::de::Error::custom)
    }

    /// For optional timestamps in request parameters.
    pub mod option {
        use super::*;

        pub fn deserialize<'de, D: Deserializer<'de>>(
            d: D,
        ) -> Result<Option<DateTime<Utc>>, D::Error> {
            match Option::<String>::deserialize(d)? {
                None => Ok(None),
                Some(s) => DateTime::parse_from_rfc3339(&s)
                    .map(|t| Some(t.with_timezone(&Utc)))
                    .map_err(|e| {
                        serde::de::Error::custom(format!("not an RFC 3339 timestamp: {e}"))
                    }),
            }
        }
    }
}

impl Task {
    /// Applies one event to the task snapshot. The caller has checked the transition.
    pub fn apply(&mut self, event: &TaskEvent) {
        match event {
            TaskEvent::Task(t) => *self = t.clone(),
            TaskEvent::UserMessage(m) => self.history.push(m.clone()),
            TaskEvent::StatusUpdate(s) => {
                if let Some(m) = &s.status.message {
                    self.history.push(m.clone());
                }
                self.status = s.status.clone();
            }
            TaskEvent::ArtifactUpdate(a) => {
                let existing = self
                    .artifacts
                    .iter_mut()
                    .find(|x| x.artifact_id == a.artifact.artifact_id);
                match existing {
                    Some(x) if a.append => Arc::make_mut(x)
                        .parts
                        .extend(a.artifact.parts.iter().cloned()),
                    Some(x) => *x = a.artifact.clone(),
                    None => {
                        // Most tasks have one artifact: room for exactly one, not for four
                        // (600 bytes held as long as the task is).
                        if self.artifacts.capacity() == 0 {
                            self.artifacts.reserve_exact(1);
                        }
                        self.artifacts.push(a.artifact.clone())
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn now_is_truncated_to_whole_milliseconds() {
        for _ in 0..1000 {
            let t = now();
            assert_eq!(t.timestamp_subsec_nanos() % 1_000_000, 0, "{t:?}");
            assert_eq!(
                DateTime::from_timestamp_millis(t.timestamp_millis()),
                Some(t)
            );
            assert!((Utc::now() - t).num_milliseconds() < 1000);
        }
    }
}

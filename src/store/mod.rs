//! Task persistence. Every change of a task is an event with a per-task sequence number;
//! the task row carries the latest snapshot and a version for optimistic concurrency.
//! Every call is scoped by owner and tenant, so a caller never sees another's tasks.

mod memory;

use async_trait::async_trait;

pub use memory::MemoryStore;

use crate::protocol::request::{ListTasksQuery, TaskPage};
use crate::protocol::{SequencedEvent, Task, TaskEvent, Version};

/// Who is asking. Empty strings mean anonymous / the default tenant.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Scope {
    pub owner: String,
    pub tenant: String,
}

/// A stored task with its concurrency version and the sequence of its last event.
#[derive(Debug, Clone)]
pub struct TaskRecord {
    pub task: Task,
    pub version: u64,
    pub last_seq: u64,
    /// The wire version the task was created through (0.1 reads render it in 0.1 shape).
    pub origin: Version,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Another writer changed the task first (or the id exists on create): re-read, retry.
    #[error("concurrent modification")]
    Conflict,
    #[error("task not found")]
    NotFound,
    #[error("storage backend failed: {0}")]
    Backend(String),
}

/// Persistence of tasks and their event logs.
#[async_trait]
pub trait TaskStore: Send + Sync + 'static {
    /// Stores a new task and its first events (seq 1..). `Conflict` if the id is taken.
    async fn create(
        &self,
        scope: &Scope,
        origin: Version,
        task: &Task,
        events: &[TaskEvent],
    ) -> Result<Vec<SequencedEvent>, StoreError>;

    /// The task, if it exists in this scope.
    async fn get(&self, scope: &Scope, id: &str) -> Result<Option<TaskRecord>, StoreError>;

    /// Replaces the snapshot with `task` and appends `events`, in one step, if the stored
    /// version is still `expected_version`; `Conflict` otherwise.
    async fn commit(
        &self,
        scope: &Scope,
        id: &str,
        expected_version: u64,
        task: &Task,
        events: &[TaskEvent],
    ) -> Result<Vec<SequencedEvent>, StoreError>;

    /// Stored events with `seq > after`, in order.
    async fn events_after(
        &self,
        scope: &Scope,
        id: &str,
        after: u64,
    ) -> Result<Vec<SequencedEvent>, StoreError>;

    /// Tasks matching the query, newest status first, with cursor paging.
    async fn list(&self, scope: &Scope, query: &ListTasksQuery) -> Result<TaskPage, StoreError>;
}

/// Page tokens: the sort key of the last task on the page, opaque to clients.
pub mod cursor {
    use base64::Engine as _;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;

    pub fn encode(timestamp_millis: i64, id: &str) -> String {
        B64.encode(format!("{timestamp_millis}:{id}"))
    }

    pub fn decode(token: &str) -> Option<(i64, String)> {
        let raw = String::from_utf8(B64.decode(token).ok()?).ok()?;
        let (ts, id) = raw.split_once(':')?;
        Some((ts.parse().ok()?, id.to_string()))
    }
}

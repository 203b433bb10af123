//! Task persistence. Every change of a task is an event with a per-task sequence number;
//! the task row carries the latest snapshot and a version for optimistic concurrency.
//! Every call is scoped by owner and tenant, so a caller never sees another's tasks.

mod batch;
mod connect;
mod group_commit;
mod memory;
pub mod postgres;
mod push;
mod sql;
mod sql_push;
pub mod sqlite;

use std::sync::Arc;

use async_trait::async_trait;

pub use connect::{DbOptions, connect, migrate};
pub use memory::MemoryStore;
pub use postgres::PostgresStore;
pub use push::{Delivery, OutboxDepth, PushStore};
pub use sqlite::SqliteStore;

use crate::protocol::request::{ListTasksQuery, TaskPage};
use crate::protocol::{PushConfig, SequencedEvent, Task, TaskEvent, Version};

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
    /// The store cannot be reached now (connection refused or lost, no pooled connection
    /// within the acquire timeout, the database shutting down or busy): a retry later may
    /// succeed, unlike a statement the database refused (`Backend`).
    #[error("the task store cannot be reached: {0}")]
    Unavailable(String),
    /// The store could not be opened: a malformed URL, an unreachable database. The
    /// message names the URL without its password.
    #[error("{0}")]
    Connect(String),
    /// The schema could not be brought up to date (or the database is newer than this
    /// binary). The message names the URL without its password.
    #[error("{0}")]
    Migrate(String),
}

/// Persistence of tasks, their event logs and (through [`PushStore`]) their webhooks.
#[async_trait]
pub trait TaskStore: PushStore {
    /// Stores a new task, its first events (seq 1..) and the push configs it was created
    /// with (their notifications of these events included). `Conflict` if the id is taken.
    async fn create(
        &self,
        scope: &Scope,
        origin: Version,
        task: Task,
        events: Vec<TaskEvent>,
        push: &[PushConfig],
        lease: Option<Lease<'_>>,
    ) -> Result<Vec<Arc<SequencedEvent>>, StoreError>;

    /// The task, if it exists in this scope.
    async fn get(&self, scope: &Scope, id: &str) -> Result<Option<TaskRecord>, StoreError>;

    /// Replaces the snapshot with `task` and appends `events`, in one step, if the stored
    /// version is still `expected_version`; `Conflict` otherwise. The notifications of the
    /// events to the task's push configs go into the outbox in the same step.
    async fn commit(
        &self,
        scope: &Scope,
        id: &str,
        expected_version: u64,
        task: Task,
        events: Vec<TaskEvent>,
        lease: Option<Lease<'_>>,
    ) -> Result<Vec<Arc<SequencedEvent>>, StoreError>;

    /// Stored events with `seq > after`, in order.
    async fn events_after(
        &self,
        scope: &Scope,
        id: &str,
        after: u64,
    ) -> Result<Vec<Arc<SequencedEvent>>, StoreError>;

    /// Tasks matching the query, newest status first, with cursor paging.
    async fn list(&self, scope: &Scope, query: &ListTasksQuery) -> Result<TaskPage, StoreError>;

    /// The task a user message (by `messageId`) created or continued, so a retried
    /// request is recognised. Message ids are recorded by `create` and `commit` from the
    /// `Task` history and `UserMessage` events they store.
    async fn task_for_message(
        &self,
        scope: &Scope,
        message_id: &str,
    ) -> Result<Option<String>, StoreError>;

    /// Extends the leases of every active task `runner` holds.
    async fn heartbeat(&self, runner: &str, lease_until: i64) -> Result<(), StoreError>;

    /// Clears and returns up to `limit` leases that lapsed before `now` (their process
    /// died). Each lapsed lease is returned to exactly one caller.
    async fn take_expired_runs(
        &self,
        now: i64,
        limit: usize,
    ) -> Result<Vec<ExpiredRun>, StoreError>;

    /// Deletes terminal tasks (with their events) whose status is older than `before`
    /// (unix millis) and that have no notifications left to deliver; returns how many.
    async fn purge_terminal(&self, before: i64) -> Result<u64, StoreError>;

    /// Whether the store answers now (readiness); the memory store always does.
    async fn ping(&self) -> Result<(), StoreError> {
        Ok(())
    }
}

/// A task whose running server process stopped renewing its lease.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpiredRun {
    pub scope: Scope,
    pub task_id: String,
}

/// The lease a writer holds on the tasks it runs: stored with a task while it is active
/// (submitted or working), cleared when it settles.
#[derive(Debug, Clone, Copy)]
pub struct Lease<'a> {
    /// The server process running the agent; shared, as the memory store keeps it with
    /// every active task.
    pub runner: &'a Arc<str>,
    /// Unix millis; renewed by [`TaskStore::heartbeat`].
    pub until: i64,
}

/// Unix time in milliseconds: the clock of every stored timestamp (leases, outbox).
pub fn now_millis() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// Whether a task in `state` is being worked on, so its runner holds a lease.
pub fn holds_lease(state: crate::protocol::TaskState) -> bool {
    !state.is_terminal() && !state.is_interrupted()
}

/// Numbers `events` with the sequence numbers following `after`. Shared, because the
/// same events go to the store's log, the bus and every subscriber.
pub(crate) fn sequence(events: Vec<TaskEvent>, after: u64) -> Vec<Arc<SequencedEvent>> {
    (after + 1..)
        .zip(events)
        .map(|(seq, event)| Arc::new(SequencedEvent { seq, event }))
        .collect()
}

/// The ids of the user messages an event stores (for duplicate detection).
pub fn user_message_ids(event: &TaskEvent) -> impl Iterator<Item = &str> {
    use crate::protocol::Role;
    let (history, message): (&[Arc<crate::protocol::Message>], _) = match event {
        TaskEvent::Task(t) => (&t.history, None),
        TaskEvent::UserMessage(m) => (&[], Some(m.message_id.as_str())),
        _ => (&[], None),
    };
    history
        .iter()
        .filter(|m| m.role == Role::User)
        .map(|m| m.message_id.as_str())
        .chain(message)
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

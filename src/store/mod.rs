//! Task persistence. Every change of a task is an event with a per-task sequence number;
//! the task row carries the latest head (see `parts`) and a version for optimistic
//! concurrency.
//! Every call is scoped by owner and tenant, so a caller never sees another's tasks.

mod batch;
mod connect;
mod group_commit;
mod memory;
mod migrations;
pub(crate) mod parts;
pub mod postgres;
mod push;
mod sql;
mod sql_push;
pub mod sqlite;

use std::sync::Arc;

use async_trait::async_trait;

pub use connect::{DbOptions, connect, migrate};
pub use memory::MemoryStore;
pub use parts::{TaskView, head};
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
    ) -> Result<Vec<Arc<SequencedEvent>>, StoreError> {
        self.create_keyed(scope, origin, task, events, push, lease, None, None)
            .await
    }

    /// [`TaskStore::create`], recording `key` (the request's idempotency key) in the same
    /// step, so a crash never leaves the task without its key or the key without its task.
    /// `traceparent` (the writer's span, when traced) is stored with the outbox rows.
    #[allow(clippy::too_many_arguments)]
    async fn create_keyed(
        &self,
        scope: &Scope,
        origin: Version,
        task: Task,
        events: Vec<TaskEvent>,
        push: &[PushConfig],
        lease: Option<Lease<'_>>,
        key: Option<&KeyRecord>,
        traceparent: Option<&str>,
    ) -> Result<Vec<Arc<SequencedEvent>>, StoreError>;

    /// The whole task, if it exists in this scope.
    async fn get(&self, scope: &Scope, id: &str) -> Result<Option<TaskRecord>, StoreError> {
        self.get_view(scope, id, TaskView::FULL).await
    }

    /// The task cut down to `view`, if it exists in this scope: a store reads only the
    /// history and artifacts the view keeps.
    async fn get_view(
        &self,
        scope: &Scope,
        id: &str,
        view: TaskView,
    ) -> Result<Option<TaskRecord>, StoreError>;

    /// Appends `events` and stores `task`'s head (its status and metadata; the history
    /// and artifacts are the events', whatever `task` holds of them), in one step, if the
    /// stored version is still `expected_version`; `Conflict` otherwise. The notifications of the
    /// events to the task's push configs go into the outbox in the same step.
    async fn commit(
        &self,
        scope: &Scope,
        id: &str,
        expected_version: u64,
        task: Task,
        events: Vec<TaskEvent>,
        lease: Option<Lease<'_>>,
    ) -> Result<Vec<Arc<SequencedEvent>>, StoreError> {
        self.commit_keyed(scope, id, expected_version, task, events, lease, None, None)
            .await
    }

    /// [`TaskStore::commit`], recording `key` (a follow-up's idempotency key) in the same
    /// step; `traceparent` as in [`TaskStore::create_keyed`].
    #[allow(clippy::too_many_arguments)]
    async fn commit_keyed(
        &self,
        scope: &Scope,
        id: &str,
        expected_version: u64,
        task: Task,
        events: Vec<TaskEvent>,
        lease: Option<Lease<'_>>,
        key: Option<&KeyRecord>,
        traceparent: Option<&str>,
    ) -> Result<Vec<Arc<SequencedEvent>>, StoreError>;

    /// Stored events with `seq > after`, in order.
    async fn events_after(
        &self,
        scope: &Scope,
        id: &str,
        after: u64,
    ) -> Result<Vec<Arc<SequencedEvent>>, StoreError>;

    /// Tasks matching the query, newest status first, with cursor paging; each with the
    /// history (`history_length`) and artifacts (`include_artifacts`) the query asks for.
    async fn list(&self, scope: &Scope, query: &ListTasksQuery) -> Result<TaskPage, StoreError>;

    /// The record of idempotency key `key` of `agent` in `scope`, unless it expired at
    /// `now` (unix millis): what the key's first request answered.
    async fn idempotency_key(
        &self,
        scope: &Scope,
        agent: &str,
        key: &str,
        now: i64,
    ) -> Result<Option<KeyRecord>, StoreError>;

    /// Records a key on its own (a bare message answer has no task to record it with).
    /// A live record of the same key is kept: the first answer wins.
    async fn put_idempotency_key(&self, scope: &Scope, key: &KeyRecord) -> Result<(), StoreError>;

    /// Deletes the keys that expired at `now` (unix millis); returns how many.
    async fn purge_idempotency_keys(&self, now: i64) -> Result<u64, StoreError>;

    /// Extends the leases of every active task `runner` holds.
    async fn heartbeat(&self, runner: &str, lease_until: i64) -> Result<(), StoreError>;

    /// Ends every lease `runner` holds now, as if it had lapsed, so the next
    /// [`TaskStore::take_expired_runs`] of any process recovers those runs at once instead
    /// of after the lease time (a process shutting down, its agents stopped). Returns how
    /// many leases were released.
    async fn release_leases(&self, runner: &str) -> Result<u64, StoreError>;

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

    /// The database pool's connections now (`a2a_db_pool_connections`); `None` without a
    /// pool (the memory store).
    fn pool_stats(&self) -> Option<crate::metrics::PoolStats> {
        None
    }
}

/// An idempotency key's record: who sent it, the fingerprint of the request it came with,
/// and what that request answered. Keyed by (scope, agent, key).
#[derive(Debug, Clone, PartialEq)]
pub struct KeyRecord {
    /// The agent the request was for (one per process today).
    pub agent: String,
    pub key: String,
    /// See [`crate::protocol::Idempotency`].
    pub fingerprint: String,
    pub answer: KeyAnswer,
    /// Unix millis.
    pub created_at: i64,
    /// Unix millis; an expired record is no record, and the purge deletes it.
    pub expires_at: i64,
}

/// What a key's first request answered.
#[derive(Debug, Clone, PartialEq)]
pub enum KeyAnswer {
    /// The task it created or continued. Its answer began after event `after_seq`: 0 for
    /// a new task (the log from its start), else the follow-up's own commit (a snapshot as
    /// of that sequence number, then what followed).
    Task { task_id: String, after_seq: u64 },
    /// A bare message, no task.
    Message(crate::protocol::Message),
}

impl KeyAnswer {
    /// `(task_id, after_seq, reply JSON)` as the SQL stores keep it.
    pub(crate) fn columns(&self) -> (Option<&str>, i64, Option<String>) {
        match self {
            KeyAnswer::Task { task_id, after_seq } => (
                Some(task_id),
                i64::try_from(*after_seq).unwrap_or(i64::MAX),
                None,
            ),
            KeyAnswer::Message(m) => (
                None,
                0,
                Some(serde_json::to_string(m).expect("messages serialize")),
            ),
        }
    }

    /// The inverse of [`KeyAnswer::columns`].
    pub(crate) fn from_columns(
        task_id: Option<String>,
        after_seq: i64,
        reply: Option<&str>,
    ) -> Result<Self, StoreError> {
        match (task_id, reply) {
            (Some(task_id), _) => Ok(KeyAnswer::Task {
                task_id,
                after_seq: u64::try_from(after_seq).unwrap_or(0),
            }),
            (None, Some(json)) => serde_json::from_str(json)
                .map(KeyAnswer::Message)
                .map_err(|e| StoreError::Backend(format!("unreadable idempotent reply: {e}"))),
            (None, None) => Err(StoreError::Backend(
                "an idempotency key with neither a task nor a reply".into(),
            )),
        }
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

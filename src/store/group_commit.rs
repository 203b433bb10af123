//! Group commit for the SQL stores: task creations that arrive while a write transaction
//! is running are written together by the next one (see [`super::batch`]), so concurrent
//! sends share one commit (one WAL flush on PostgreSQL, one round of the write lock on
//! SQLite) and one multi-row `INSERT` per table instead of a transaction each.

use std::sync::Arc;

use serde_json::value::RawValue;

use super::batch::{Batcher, RunBatch, Runners};
use super::parts::EventMarks;
use super::{KeyRecord, Lease, Scope, StoreError, sequence};
use crate::protocol::{PushConfig, SequencedEvent, Task, TaskEvent, Version};

/// One task creation, owned and already serialized, waiting for a writer.
pub(crate) struct CreateJob {
    pub scope: Scope,
    pub origin: Version,
    pub task_id: String,
    pub context_id: String,
    pub state: &'static str,
    pub status_ts: i64,
    /// The task's head (see `parts`): its history and artifacts are its events'.
    pub task_json: Box<RawValue>,
    /// The history length after the events.
    pub messages: i64,
    /// `(seq, event, marks)` for each event, from 1.
    pub events: Vec<(i64, Box<RawValue>, EventMarks)>,
    /// The request's idempotency key, recorded with the task.
    pub key: Option<KeyRecord>,
    pub runner: Option<String>,
    pub lease_until: Option<i64>,
    /// Webhooks registered with the task.
    pub push: Option<Box<PushPart>>,
}

/// A creation's webhooks: the configs, and the task and events their notifications are
/// made of.
pub(crate) struct PushPart {
    pub configs: Vec<PushConfig>,
    pub task: Task,
    pub events: Vec<Arc<SequencedEvent>>,
    /// The creating span's `traceparent`, stored with the notifications.
    pub traceparent: Option<String>,
}

/// The creations queue of a SQL store; the answer says whether the task was inserted
/// (`false`: its id was taken).
pub(crate) type GroupCommit = Batcher<CreateJob, bool>;

/// Whether each job of a batch inserted its task, or the error that failed the batch.
pub(crate) type BatchResult = Result<Vec<bool>, StoreError>;

impl CreateJob {
    /// The job for `TaskStore::create`, and the sequenced events it returns on success.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        scope: &Scope,
        origin: Version,
        task: Task,
        events: Vec<TaskEvent>,
        push: &[PushConfig],
        lease: Option<Lease<'_>>,
        key: Option<&KeyRecord>,
        traceparent: Option<&str>,
    ) -> Result<(Self, Vec<Arc<SequencedEvent>>), StoreError> {
        let (marks, messages) = super::parts::marks(&events, 0);
        let seqd = sequence(events, 0);
        let mut serialized = Vec::with_capacity(seqd.len());
        for (e, m) in seqd.iter().zip(marks) {
            serialized.push((super::sql::to_i64(e.seq), raw(&e.event, &task.id)?, m));
        }
        let (runner, lease_until) = super::sql::lease_columns(&task, lease);
        let job = Self {
            scope: scope.clone(),
            origin,
            task_id: task.id.to_string(),
            context_id: task.context_id.to_string(),
            state: task.status.state.v1_name(),
            status_ts: task.status.timestamp.timestamp_millis(),
            task_json: raw(&super::head(&task), &task.id)?,
            messages: super::sql::to_i64(messages),
            events: serialized,
            key: key.cloned(),
            runner,
            lease_until,
            push: (!push.is_empty()).then(|| {
                Box::new(PushPart {
                    configs: push.to_vec(),
                    task,
                    events: seqd.clone(),
                    traceparent: traceparent.map(str::to_owned),
                })
            }),
        };
        Ok((job, seqd))
    }

    fn task_id(&self) -> &str {
        &self.task_id
    }
}

/// Writes `job` with whatever other creations are waiting; `Conflict` if the id is taken.
pub(crate) async fn create(
    group: &GroupCommit,
    job: CreateJob,
    writers: usize,
    write: impl FnOnce() -> RunBatch<CreateJob, bool>,
) -> Result<(), StoreError> {
    let runners = || Runners {
        count: writers,
        run: write(),
        key: Some(CreateJob::task_id),
    };
    match group.submit(job, runners).await? {
        true => Ok(()),
        false => Err(StoreError::Conflict),
    }
}

fn raw<T: serde::Serialize>(value: &T, task_id: &str) -> Result<Box<RawValue>, StoreError> {
    serde_json::value::to_raw_value(value)
        .map_err(|e| StoreError::Backend(format!("cannot serialize task {task_id}: {e}")))
}

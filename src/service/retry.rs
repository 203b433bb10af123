//! Retries: a send's `Idempotency-Key` is claimed in this process and looked up in the
//! store; a key already answered is answered again from its record, without running the
//! agent.

use std::sync::Arc;

use super::claims::{self, Claim, Keyed};
use super::cursor::EventCursor;
use super::run::Run;
use super::{Begun, Started, TaskService, now_millis, store_error};
use crate::protocol::{A2aError, Idempotency, SequencedEvent, Task, TaskEvent};
use crate::store::{KeyAnswer, KeyRecord, Scope};

impl TaskService {
    /// Claims `retry`'s key in this process, then looks it up: `Ok` with the claim for a
    /// key not seen yet, `Err` with the record of a key already answered.
    pub(super) async fn claim_key(
        &self,
        scope: &Scope,
        retry: Idempotency,
    ) -> Result<Result<Keyed, KeyRecord>, A2aError> {
        // Claimed before the lookup: of two requests with one key, the second waits here
        // until the first one's answer is stored, then finds it below.
        let claim = loop {
            match self.inner.claims.claim(scope, retry.key.as_str()) {
                Claim::Mine(guard) => break guard,
                Claim::Taken(rx) => claims::released(rx).await,
            }
        };
        let config = &self.inner.config;
        let now = now_millis();
        let found = self
            .inner
            .store
            .idempotency_key(scope, &config.agent_name, retry.key.as_str(), now)
            .await
            .map_err(store_error)?;
        match found {
            Some(r) if r.fingerprint != retry.fingerprint => Err(retry.mismatch()),
            Some(r) => Ok(Err(r)),
            None => Ok(Ok(Keyed {
                _claim: claim,
                agent: config.agent_name.clone(),
                key: retry.key.as_str().to_string(),
                fingerprint: retry.fingerprint,
                created_at: now,
                expires_at: now.saturating_add(config.idempotency_ttl.as_millis() as i64),
            })),
        }
    }

    /// A retry (its key is answered): the agent does not run again. A bare message comes
    /// back as it was; a task's answer is replayed from its first event (the task's
    /// creation, or the follow-up's own commit), then followed live.
    pub(super) async fn replay(
        &self,
        scope: &Scope,
        answered: KeyRecord,
    ) -> Result<Begun, A2aError> {
        let (task_id, after_seq) = match answered.answer {
            KeyAnswer::Message(m) => return Ok(Begun::Replied(m)),
            KeyAnswer::Task { task_id, after_seq } => (Arc::<str>::from(task_id), after_seq),
        };
        // Subscribe before reading, so nothing committed in between is missed.
        let sub = self.inner.bus.subscribe(&task_id);
        let events = match self.inner.store.events_after(scope, &task_id, 0).await {
            Ok(e) => e,
            Err(crate::store::StoreError::NotFound) => {
                return Err(A2aError::TaskNotFound(format!(
                    "task `{task_id}`, which Idempotency-Key `{}` answered, no longer exists",
                    answered.key
                )));
            }
            Err(e) => return Err(store_error(e)),
        };
        let (before, after): (Vec<_>, Vec<_>) =
            events.into_iter().partition(|e| e.seq <= after_seq);
        let cursor = EventCursor::new(
            sub,
            self.inner.store.clone(),
            scope.clone(),
            task_id.clone(),
            after_seq,
        )
        .with_backlog(after);
        // A follow-up's answer began with the task as of its commit: rebuilt from the log.
        let cursor = match snapshot_at(&before) {
            Some(task) if after_seq > 0 => cursor.with_first(SequencedEvent {
                seq: after_seq,
                event: TaskEvent::Task(task),
            }),
            _ => cursor,
        };
        Ok(Begun::Run(Started {
            task_id,
            cursor,
            reply: None,
            run: Run(None),
        }))
    }
}

/// The task as of the last of `events` (a task's log from its start), if they begin
/// with its creation.
fn snapshot_at(events: &[Arc<SequencedEvent>]) -> Option<Task> {
    let (first, rest) = events.split_first()?;
    let TaskEvent::Task(task) = &first.event else {
        return None;
    };
    let mut task = task.clone();
    for e in rest {
        task.apply(&e.event);
    }
    Some(task)
}

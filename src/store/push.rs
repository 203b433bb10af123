//! Persistence of push notification configs and of the outbox the delivery worker drains.
//!
//! The outbox rows themselves are written by [`TaskStore::create`](super::TaskStore) and
//! [`TaskStore::commit`](super::TaskStore), in the transaction of the events they carry:
//! one row per streamed event and 1.0 config, and one per commit and 0.x config (0.x
//! webhooks get the task as of that commit).

use async_trait::async_trait;

use super::{Scope, StoreError};
use crate::protocol::{PushAuth, PushConfig, SequencedEvent, TaskEvent, Version};

/// One notification to deliver, claimed by a worker.
#[derive(Debug, Clone, PartialEq)]
pub struct Delivery {
    /// Outbox row id: increasing in insertion order.
    pub id: i64,
    pub task_id: String,
    pub config_id: String,
    /// The event's sequence number in the task's log (with `task_id`, the stable event id).
    pub seq: u64,
    /// The config's wire version: the body shape.
    pub origin: Version,
    pub url: String,
    pub token: Option<String>,
    pub authentication: Option<PushAuth>,
    /// 1.0: the event; 0.x: `TaskEvent::Task` with the task as of the commit.
    pub payload: TaskEvent,
    /// Attempts made, this one included when claimed.
    pub attempts: u32,
    /// Unix millis when the event was written.
    pub created_at: i64,
    pub last_error: Option<String>,
    /// Unix millis when it was dead-lettered.
    pub dead_at: Option<i64>,
    /// The W3C `traceparent` of the write that queued it, when traced: its attempts
    /// continue that trace (and the webhook gets it) in whichever process delivers.
    pub traceparent: Option<String>,
}

impl Delivery {
    /// The id a receiver deduplicates on: the same for every retry of this event.
    pub fn event_id(&self) -> String {
        format!("{}:{}", self.task_id, self.seq)
    }
}

/// Rows in the outbox, by state.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OutboxDepth {
    pub pending: u64,
    pub dead: u64,
    /// Unix millis when the oldest pending notification was written (`None`: none pending).
    pub oldest_pending_at: Option<i64>,
}

/// Push configs and the delivery outbox.
#[async_trait]
pub trait PushStore: Send + Sync + 'static {
    /// Creates the config, or replaces the task's config with the same id.
    /// `NotFound` when the task does not exist in this scope.
    async fn put_push_config(&self, scope: &Scope, config: &PushConfig) -> Result<(), StoreError>;

    /// The config, `None` when the task has no config with this id; `NotFound` when the
    /// task does not exist in this scope.
    async fn get_push_config(
        &self,
        scope: &Scope,
        task_id: &str,
        id: &str,
    ) -> Result<Option<PushConfig>, StoreError>;

    /// Up to `limit` configs of the task with ids after `after`, ordered by id.
    async fn list_push_configs(
        &self,
        scope: &Scope,
        task_id: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<PushConfig>, StoreError>;

    /// Deletes the config and its undelivered notifications; `false` if it did not exist.
    async fn delete_push_config(
        &self,
        scope: &Scope,
        task_id: &str,
        id: &str,
    ) -> Result<bool, StoreError>;

    /// Claims up to `limit` due notifications until `claim_until`, each the oldest live
    /// one of its config (so a webhook receives in order), at most one per config.
    /// `attempts` counts this attempt. A claim that lapses (its process died) is claimed
    /// again.
    async fn claim_deliveries(
        &self,
        now: i64,
        claim_until: i64,
        limit: usize,
    ) -> Result<Vec<Delivery>, StoreError>;

    /// Claims the next due notification of the same config as `after`, if it is the head
    /// of that config's queue and nobody holds it.
    async fn claim_next_delivery(
        &self,
        after: &Delivery,
        now: i64,
        claim_until: i64,
    ) -> Result<Option<Delivery>, StoreError>;

    /// The notification reached its webhook: remove it.
    async fn complete_delivery(&self, id: i64) -> Result<(), StoreError>;

    /// The attempt failed: try again at `next_attempt_at`.
    async fn retry_delivery(
        &self,
        id: i64,
        next_attempt_at: i64,
        error: &str,
    ) -> Result<(), StoreError>;

    /// The notification exhausted its attempts or age: keep it as a dead letter.
    async fn dead_letter(&self, id: i64, now: i64, error: &str) -> Result<(), StoreError>;

    /// Dead letters, oldest first.
    async fn dead_letters(&self, limit: usize) -> Result<Vec<Delivery>, StoreError>;

    /// Puts dead letters (one, or all with `None`) back in the queue, due at `now`, with
    /// their attempts reset; returns how many.
    async fn requeue_dead_letters(&self, id: Option<i64>, now: i64) -> Result<u64, StoreError>;

    async fn outbox_depth(&self) -> Result<OutboxDepth, StoreError>;

    /// Notified whenever this store queues notifications, so the worker of this process
    /// need not wait for its next poll.
    fn outbox_signal(&self) -> std::sync::Arc<tokio::sync::Notify>;
}

/// Which outbox rows a commit writes for its events: `(event index, 1.0 only)` pairs, where
/// the last streamed event also carries the 0.x rows (0.x webhooks get one task per commit).
pub(crate) fn outbox_targets(events: &[std::sync::Arc<SequencedEvent>]) -> Vec<(usize, bool)> {
    let streamed: Vec<usize> = (0..events.len())
        .filter(|&i| events[i].event.is_streamed())
        .collect();
    let last = streamed.last().copied();
    streamed.into_iter().map(|i| (i, Some(i) != last)).collect()
}

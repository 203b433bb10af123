//! Follows one task's events in order, with no gap and no duplicate: live events come from
//! the bus, and whatever the bus skipped (lag, or publishes that overtook each other) is
//! read from the store by sequence number.

use std::collections::VecDeque;
use std::sync::Arc;

use tokio::sync::broadcast::error::RecvError;

use crate::events::{Published, Subscription};
use crate::protocol::{A2aError, SequencedEvent};
use crate::store::{Scope, TaskStore};

pub struct EventCursor {
    sub: Subscription,
    store: Arc<dyn TaskStore>,
    scope: Scope,
    task_id: Arc<str>,
    /// The sequence number of the last event handed out.
    last_seq: u64,
    backlog: VecDeque<Arc<SequencedEvent>>,
    /// Handed out before anything else (a snapshot at `last_seq`).
    first: Option<Arc<SequencedEvent>>,
}

impl EventCursor {
    /// `sub` must have been taken before `last_seq` was read from the store.
    pub fn new(
        sub: Subscription,
        store: Arc<dyn TaskStore>,
        scope: Scope,
        task_id: Arc<str>,
        last_seq: u64,
    ) -> Self {
        Self {
            sub,
            store,
            scope,
            task_id,
            last_seq,
            backlog: VecDeque::new(),
            first: None,
        }
    }

    /// Hands out `events` (read from the store after `sub` was taken, in order) before
    /// live ones: a replay of events already committed.
    pub fn with_backlog(mut self, events: Vec<Arc<SequencedEvent>>) -> Self {
        self.backlog.extend(events);
        self
    }

    /// Returns `first` before the events that follow it.
    pub fn with_first(mut self, first: SequencedEvent) -> Self {
        self.first = Some(Arc::new(first));
        self
    }

    /// The next event after the last one returned; `None` if the bus closed; the run's
    /// error if it ended without storing its end (no event would come).
    pub async fn next(&mut self) -> Result<Option<Arc<SequencedEvent>>, A2aError> {
        if let Some(f) = self.first.take() {
            return Ok(Some(f));
        }
        loop {
            if let Some(e) = self.backlog.pop_front() {
                if e.seq == self.last_seq + 1 {
                    self.last_seq = e.seq;
                    return Ok(Some(e));
                }
                continue;
            }
            match self.sub.rx.recv().await {
                Ok(Published::Event(e)) if e.seq <= self.last_seq => continue,
                Ok(Published::Event(e)) if e.seq == self.last_seq + 1 => {
                    self.last_seq = e.seq;
                    return Ok(Some(e));
                }
                Ok(Published::RunFailed(e)) => return Err((*e).clone()),
                // A gap: the events in between are in the store.
                Ok(Published::Event(_)) | Err(RecvError::Lagged(_)) => self.backfill().await?,
                Err(RecvError::Closed) => return Ok(None),
            }
        }
    }

    async fn backfill(&mut self) -> Result<(), A2aError> {
        let events = self
            .store
            .events_after(&self.scope, &self.task_id, self.last_seq)
            .await
            .map_err(super::store_error)?;
        self.backlog.extend(events);
        Ok(())
    }
}

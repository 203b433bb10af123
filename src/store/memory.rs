//! In-memory store: for tests and for running without a database.

use std::collections::HashMap;

use async_trait::async_trait;
use parking_lot::RwLock;

use super::{Scope, StoreError, TaskRecord, TaskStore, cursor};
use crate::protocol::request::{ListTasksQuery, TaskPage};
use crate::protocol::{SequencedEvent, Task, TaskEvent, Version};

struct Entry {
    scope: Scope,
    record: TaskRecord,
    events: Vec<SequencedEvent>,
}

/// Tasks and event logs in a map behind one lock; critical sections never await.
#[derive(Default)]
pub struct MemoryStore {
    tasks: RwLock<HashMap<String, Entry>>,
}

impl MemoryStore {
    pub fn new() -> Self {
        Self::default()
    }
}

fn sequence(events: &[TaskEvent], after: u64) -> Vec<SequencedEvent> {
    events
        .iter()
        .enumerate()
        .map(|(i, e)| SequencedEvent {
            seq: after + 1 + i as u64,
            event: e.clone(),
        })
        .collect()
}

#[async_trait]
impl TaskStore for MemoryStore {
    async fn create(
        &self,
        scope: &Scope,
        origin: Version,
        task: &Task,
        events: &[TaskEvent],
    ) -> Result<Vec<SequencedEvent>, StoreError> {
        let mut tasks = self.tasks.write();
        if tasks.contains_key(&task.id) {
            return Err(StoreError::Conflict);
        }
        let seqd = sequence(events, 0);
        let record = TaskRecord {
            task: task.clone(),
            version: 1,
            last_seq: seqd.len() as u64,
            origin,
        };
        tasks.insert(
            task.id.clone(),
            Entry {
                scope: scope.clone(),
                record,
                events: seqd.clone(),
            },
        );
        Ok(seqd)
    }

    async fn get(&self, scope: &Scope, id: &str) -> Result<Option<TaskRecord>, StoreError> {
        let tasks = self.tasks.read();
        Ok(tasks
            .get(id)
            .filter(|e| &e.scope == scope)
            .map(|e| e.record.clone()))
    }

    async fn commit(
        &self,
        scope: &Scope,
        id: &str,
        expected_version: u64,
        task: &Task,
        events: &[TaskEvent],
    ) -> Result<Vec<SequencedEvent>, StoreError> {
        let mut tasks = self.tasks.write();
        let entry = tasks
            .get_mut(id)
            .filter(|e| &e.scope == scope)
            .ok_or(StoreError::NotFound)?;
        if entry.record.version != expected_version {
            return Err(StoreError::Conflict);
        }
        let seqd = sequence(events, entry.record.last_seq);
        entry.record.task = task.clone();
        entry.record.version += 1;
        entry.record.last_seq += seqd.len() as u64;
        entry.events.extend(seqd.iter().cloned());
        Ok(seqd)
    }

    async fn events_after(
        &self,
        scope: &Scope,
        id: &str,
        after: u64,
    ) -> Result<Vec<SequencedEvent>, StoreError> {
        let tasks = self.tasks.read();
        let entry = tasks
            .get(id)
            .filter(|e| &e.scope == scope)
            .ok_or(StoreError::NotFound)?;
        // Sequence numbers are dense from 1, so the index is `seq - 1`.
        let start = (after as usize).min(entry.events.len());
        Ok(entry.events[start..].to_vec())
    }

    async fn list(&self, scope: &Scope, q: &ListTasksQuery) -> Result<TaskPage, StoreError> {
        let tasks = self.tasks.read();
        let mut matches: Vec<&Task> = tasks
            .values()
            .filter(|e| &e.scope == scope)
            .map(|e| &e.record.task)
            .filter(|t| q.context_id.as_ref().is_none_or(|c| &t.context_id == c))
            .filter(|t| q.state.is_none_or(|s| t.status.state == s))
            .filter(|t| {
                q.status_timestamp_after
                    .is_none_or(|after| t.status.timestamp >= after)
            })
            .collect();
        let total_size = matches.len();
        let key = |t: &Task| (t.status.timestamp.timestamp_millis(), t.id.clone());
        matches.sort_by_key(|t| std::cmp::Reverse(key(t)));
        let start = match q.page_token.as_deref().and_then(cursor::decode) {
            Some(after) => matches.partition_point(|t| key(t) >= after),
            None => 0,
        };
        let page: Vec<Task> = matches
            .iter()
            .skip(start)
            .take(q.page_size)
            .map(|t| (*t).clone())
            .collect();
        let next_page_token = match page.last() {
            Some(last) if start + page.len() < matches.len() => {
                cursor::encode(last.status.timestamp.timestamp_millis(), &last.id)
            }
            _ => String::new(),
        };
        Ok(TaskPage {
            tasks: page,
            next_page_token,
            total_size,
        })
    }
}

//! In-memory store: for tests and for running without a database.

use std::collections::HashMap;

use async_trait::async_trait;
use parking_lot::RwLock;

use super::{ExpiredRun, Lease, Scope, StoreError, TaskRecord, TaskStore, cursor, sequence};
use crate::protocol::request::{ListTasksQuery, TaskPage};
use crate::protocol::{SequencedEvent, Task, TaskEvent, Version};

#[derive(Default)]
struct State {
    tasks: HashMap<String, Entry>,
    /// (scope, messageId) -> task id.
    messages: HashMap<(Scope, String), String>,
}

struct Entry {
    scope: Scope,
    record: TaskRecord,
    events: Vec<SequencedEvent>,
    /// (runner, lease until) while the task is active.
    lease: Option<(String, i64)>,
}

/// Tasks and event logs in a map behind one lock; critical sections never await.
#[derive(Default)]
pub struct MemoryStore {
    state: RwLock<State>,
}

impl MemoryStore {
    pub fn new() -> Self {
        Self::default()
    }
}

fn lease_of(task: &Task, lease: Option<Lease<'_>>) -> Option<(String, i64)> {
    lease
        .filter(|_| super::holds_lease(task.status.state))
        .map(|l| (l.runner.to_string(), l.until))
}

fn record_messages(
    messages: &mut HashMap<(Scope, String), String>,
    scope: &Scope,
    task_id: &str,
    events: &[TaskEvent],
) {
    for id in events.iter().flat_map(super::user_message_ids) {
        messages
            .entry((scope.clone(), id.to_string()))
            .or_insert_with(|| task_id.to_string());
    }
}

#[async_trait]
impl TaskStore for MemoryStore {
    async fn create(
        &self,
        scope: &Scope,
        origin: Version,
        task: &Task,
        events: &[TaskEvent],
        lease: Option<Lease<'_>>,
    ) -> Result<Vec<SequencedEvent>, StoreError> {
        let mut state = self.state.write();
        let state = &mut *state;
        let tasks = &mut state.tasks;
        if tasks.contains_key(&task.id) {
            return Err(StoreError::Conflict);
        }
        let seqd = sequence(events, 0);
        record_messages(&mut state.messages, scope, &task.id, events);
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
                lease: lease_of(task, lease),
            },
        );
        Ok(seqd)
    }

    async fn get(&self, scope: &Scope, id: &str) -> Result<Option<TaskRecord>, StoreError> {
        let state = self.state.read();
        let tasks = &state.tasks;
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
        lease: Option<Lease<'_>>,
    ) -> Result<Vec<SequencedEvent>, StoreError> {
        let mut state = self.state.write();
        let state = &mut *state;
        let tasks = &mut state.tasks;
        let entry = tasks
            .get_mut(id)
            .filter(|e| &e.scope == scope)
            .ok_or(StoreError::NotFound)?;
        if entry.record.version != expected_version {
            return Err(StoreError::Conflict);
        }
        let seqd = sequence(events, entry.record.last_seq);
        record_messages(&mut state.messages, scope, id, events);
        entry.record.task = task.clone();
        entry.record.version += 1;
        entry.record.last_seq += seqd.len() as u64;
        entry.events.extend(seqd.iter().cloned());
        entry.lease = lease_of(task, lease);
        Ok(seqd)
    }

    async fn events_after(
        &self,
        scope: &Scope,
        id: &str,
        after: u64,
    ) -> Result<Vec<SequencedEvent>, StoreError> {
        let state = self.state.read();
        let tasks = &state.tasks;
        let entry = tasks
            .get(id)
            .filter(|e| &e.scope == scope)
            .ok_or(StoreError::NotFound)?;
        // Sequence numbers are dense from 1, so the index is `seq - 1`.
        let start = (after as usize).min(entry.events.len());
        Ok(entry.events[start..].to_vec())
    }

    async fn list(&self, scope: &Scope, q: &ListTasksQuery) -> Result<TaskPage, StoreError> {
        let state = self.state.read();
        let tasks = &state.tasks;
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

    async fn task_for_message(
        &self,
        scope: &Scope,
        message_id: &str,
    ) -> Result<Option<String>, StoreError> {
        let state = self.state.read();
        Ok(state
            .messages
            .get(&(scope.clone(), message_id.to_string()))
            .cloned())
    }

    async fn heartbeat(&self, runner: &str, lease_until: i64) -> Result<(), StoreError> {
        let mut state = self.state.write();
        for (r, until) in state.tasks.values_mut().filter_map(|e| e.lease.as_mut()) {
            if r == runner {
                *until = lease_until;
            }
        }
        Ok(())
    }

    async fn take_expired_runs(
        &self,
        now: i64,
        limit: usize,
    ) -> Result<Vec<ExpiredRun>, StoreError> {
        let mut state = self.state.write();
        Ok(state
            .tasks
            .iter_mut()
            .filter(|(_, e)| e.lease.as_ref().is_some_and(|(_, until)| *until < now))
            .take(limit)
            .map(|(id, e)| {
                e.lease = None;
                ExpiredRun {
                    scope: e.scope.clone(),
                    task_id: id.clone(),
                }
            })
            .collect())
    }

    async fn purge_terminal(&self, before: i64) -> Result<u64, StoreError> {
        let mut state = self.state.write();
        let doomed: std::collections::HashSet<String> = state
            .tasks
            .iter()
            .filter(|(_, e)| {
                let s = &e.record.task.status;
                s.state.is_terminal() && s.timestamp.timestamp_millis() < before
            })
            .map(|(id, _)| id.clone())
            .collect();
        state.tasks.retain(|id, _| !doomed.contains(id));
        state.messages.retain(|_, task| !doomed.contains(task));
        Ok(doomed.len() as u64)
    }
}

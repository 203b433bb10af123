//! In-memory store: for tests and for running without a database.

mod keys;
mod listing;
mod outbox;
mod retention;

use std::collections::{BTreeMap, HashMap, HashSet, hash_map};
use std::ops::Bound;
use std::sync::Arc;

use async_trait::async_trait;
use parking_lot::RwLock;

use super::push::outbox_targets;
use super::{
    Delivery, ExpiredRun, KeyRecord, Lease, OutboxDepth, PushStore, Scope, StoreError, TaskRecord,
    TaskStore, TaskView, now_millis, sequence,
};
use crate::protocol::request::{ListTasksQuery, TaskPage};
use crate::protocol::{PushConfig, SequencedEvent, Task, TaskEvent, Version};
use retention::{TerminalIndex, TerminalKey};

/// foldhash instead of SipHash: every send inserts into two maps that only grow, and
/// rehashing them on growth with SipHash was a tenth of the store's time.
type Map<K, V> = HashMap<K, V, foldhash::fast::RandomState>;
type Set<K> = HashSet<K, foldhash::fast::RandomState>;

#[derive(Default)]
struct State {
    /// Boxed: growing the map moves pointers, not whole entries.
    tasks: Map<Arc<str>, Box<Entry>>,
    /// Idempotency keys; only sends that carry one touch them.
    keys: keys::Keys,
    /// Notifications to deliver.
    outbox: outbox::Outbox,
    /// Ids of the tasks holding a lease, so heartbeats and recovery visit only active
    /// tasks, not every task kept in memory.
    leased: Set<Arc<str>>,
    /// Terminal tasks by the time of their final status, so the retention purge finds
    /// the old ones without visiting every task.
    terminal: TerminalIndex,
    /// Each scope's tasks in ListTasks order.
    listing: listing::Listing,
}

struct Entry {
    scope: Scope,
    record: TaskRecord,
    /// Shared with the bus and subscribers.
    events: Vec<Arc<SequencedEvent>>,
    /// (runner, lease until) while the task is active.
    lease: Option<(Arc<str>, i64)>,
    /// Push configs by id.
    push: BTreeMap<String, PushConfig>,
    /// The task's place in the terminal index, once it is terminal.
    terminal: Option<TerminalKey>,
    /// The task's place in the listing index, once listed.
    listed: Option<listing::ListKey>,
}

impl State {
    fn entry(&self, scope: &Scope, task_id: &str) -> Result<&Entry, StoreError> {
        self.tasks
            .get(task_id)
            .map(Box::as_ref)
            .filter(|e| &e.scope == scope)
            .ok_or(StoreError::NotFound)
    }
}

/// Queues the notifications of `events` (numbered from `first_seq`) to `configs`.
fn enqueue(
    outbox: &mut outbox::Outbox,
    configs: &[PushConfig],
    events: &[Arc<SequencedEvent>],
    task: &Task,
    now: i64,
    traceparent: Option<&str>,
) {
    for (i, v1_only) in outbox_targets(events) {
        for c in configs
            .iter()
            .filter(|c| !v1_only || c.origin == Version::V1)
        {
            let payload = match c.origin {
                Version::V1 => events[i].event.clone(),
                _ => TaskEvent::Task(task.clone()),
            };
            let delivery = Delivery {
                id: 0,
                task_id: task.id.to_string(),
                config_id: c.id.clone(),
                seq: events[i].seq,
                origin: c.origin,
                url: c.url.clone(),
                token: c.token.clone(),
                authentication: c.authentication.clone(),
                payload,
                attempts: 0,
                created_at: now,
                last_error: None,
                dead_at: None,
                traceparent: traceparent.map(str::to_owned),
            };
            outbox.push(delivery, now);
        }
    }
}

/// Tasks and event logs in a map behind one lock; critical sections never await.
#[derive(Default)]
pub struct MemoryStore {
    state: RwLock<State>,
    outbox_signal: std::sync::Arc<tokio::sync::Notify>,
}

impl MemoryStore {
    pub fn new() -> Self {
        Self::default()
    }
}

/// Keeps `leased` in step with task `id`, whose lease went from `had` to `has`. Only a
/// change touches the set: each lookup in a map of every task is a likely cache miss.
fn track_lease(leased: &mut Set<Arc<str>>, id: &Arc<str>, had: bool, has: bool) {
    match (had, has) {
        (false, true) => {
            leased.insert(id.clone());
        }
        (true, false) => {
            leased.remove(id);
        }
        _ => {}
    }
}

fn lease_of(task: &Task, lease: Option<Lease<'_>>) -> Option<(Arc<str>, i64)> {
    lease
        .filter(|_| super::holds_lease(task.status.state))
        .map(|l| (l.runner.clone(), l.until))
}

#[async_trait]
impl TaskStore for MemoryStore {
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
    ) -> Result<Vec<Arc<SequencedEvent>>, StoreError> {
        let seqd = sequence(events, 0);
        let mut state = self.state.write();
        let state = &mut *state;
        // One lookup for the check and the insert: in a map of every task, each is a
        // likely cache miss.
        let slot = match state.tasks.entry(task.id.clone()) {
            hash_map::Entry::Occupied(_) => return Err(StoreError::Conflict),
            hash_map::Entry::Vacant(slot) => slot,
        };
        if let Some(key) = key {
            state.keys.put(scope, key);
        }
        if !push.is_empty() {
            enqueue(
                &mut state.outbox,
                push,
                &seqd,
                &task,
                now_millis(),
                traceparent,
            );
            self.outbox_signal.notify_one();
        }
        let lease = lease_of(&task, lease);
        track_lease(&mut state.leased, &task.id, false, lease.is_some());
        let mut terminal = None;
        state.terminal.track(&mut terminal, &task);
        let mut listed = None;
        state.listing.track(scope, &mut listed, &task);
        let record = TaskRecord {
            task,
            version: 1,
            last_seq: seqd.len() as u64,
            origin,
        };
        // Room for the events a run usually commits next (a status, an artifact), so they
        // do not regrow the log one at a time.
        let mut events = Vec::with_capacity(seqd.len() + 2);
        events.extend(seqd.iter().cloned());
        slot.insert(Box::new(Entry {
            scope: scope.clone(),
            record,
            events,
            lease,
            push: push.iter().map(|c| (c.id.clone(), c.clone())).collect(),
            terminal,
            listed,
        }));
        Ok(seqd)
    }

    async fn get_view(
        &self,
        scope: &Scope,
        id: &str,
        view: TaskView,
    ) -> Result<Option<TaskRecord>, StoreError> {
        let state = self.state.read();
        let tasks = &state.tasks;
        Ok(tasks
            .get(id)
            .filter(|e| &e.scope == scope)
            .map(|e| TaskRecord {
                task: view.of(&e.record.task),
                ..e.record
            }))
    }

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
    ) -> Result<Vec<Arc<SequencedEvent>>, StoreError> {
        // The stored task takes the events' history and artifacts itself and only the
        // head of `task` (the caller's copy may hold part of the history): as the SQL
        // stores, and without copying the whole history per commit.
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
        if let Some(key) = key {
            state.keys.put(scope, key);
        }
        entry.record.version += 1;
        entry.record.last_seq += seqd.len() as u64;
        entry.events.extend(seqd.iter().cloned());
        let stored = &mut entry.record.task;
        for e in &seqd {
            stored.apply(&e.event);
        }
        let Task {
            context_id,
            status,
            metadata,
            ..
        } = task;
        (stored.context_id, stored.status, stored.metadata) = (context_id, status, metadata);
        let task = &entry.record.task;
        let had = entry.lease.is_some();
        entry.lease = lease_of(task, lease);
        track_lease(&mut state.leased, &task.id, had, entry.lease.is_some());
        if !entry.push.is_empty() {
            let configs: Vec<PushConfig> = entry.push.values().cloned().collect();
            enqueue(
                &mut state.outbox,
                &configs,
                &seqd,
                task,
                now_millis(),
                traceparent,
            );
            self.outbox_signal.notify_one();
        }
        state.terminal.track(&mut entry.terminal, task);
        state.listing.track(scope, &mut entry.listed, task);
        Ok(seqd)
    }

    async fn events_after(
        &self,
        scope: &Scope,
        id: &str,
        after: u64,
    ) -> Result<Vec<Arc<SequencedEvent>>, StoreError> {
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
        if !self.state.read().listing.kept {
            self.state.write().keep_listing();
        }
        Ok(self.state.read().list(scope, q))
    }

    async fn idempotency_key(
        &self,
        scope: &Scope,
        agent: &str,
        key: &str,
        now: i64,
    ) -> Result<Option<KeyRecord>, StoreError> {
        Ok(self.state.read().keys.get(scope, agent, key, now))
    }

    async fn put_idempotency_key(&self, scope: &Scope, key: &KeyRecord) -> Result<(), StoreError> {
        self.state.write().keys.put(scope, key);
        Ok(())
    }

    async fn purge_idempotency_keys(&self, now: i64) -> Result<u64, StoreError> {
        let mut purged = 0;
        loop {
            let (n, more) = self.state.write().keys.purge_batch(now);
            purged += n;
            if !more {
                return Ok(purged);
            }
            // Requests waiting on the lock go first.
            tokio::task::yield_now().await;
        }
    }

    async fn heartbeat(&self, runner: &str, lease_until: i64) -> Result<(), StoreError> {
        let mut state = self.state.write();
        let state = &mut *state;
        for id in &state.leased {
            if let Some((r, until)) = state.tasks.get_mut(id).and_then(|e| e.lease.as_mut())
                && **r == *runner
            {
                *until = lease_until;
            }
        }
        Ok(())
    }

    async fn release_leases(&self, runner: &str) -> Result<u64, StoreError> {
        let mut state = self.state.write();
        let state = &mut *state;
        let mut released = 0;
        for id in &state.leased {
            if let Some((r, until)) = state.tasks.get_mut(id).and_then(|e| e.lease.as_mut())
                && **r == *runner
                && *until > 0
            {
                // The epoch: lapsed for every clock.
                *until = 0;
                released += 1;
            }
        }
        Ok(released)
    }

    async fn take_expired_runs(
        &self,
        now: i64,
        limit: usize,
    ) -> Result<Vec<ExpiredRun>, StoreError> {
        let mut state = self.state.write();
        let state = &mut *state;
        let expired: Vec<Arc<str>> = state
            .leased
            .iter()
            .filter(|id| {
                state
                    .tasks
                    .get(*id)
                    .is_some_and(|e| e.lease.as_ref().is_some_and(|(_, until)| *until < now))
            })
            .take(limit)
            .cloned()
            .collect();
        Ok(expired
            .into_iter()
            .filter_map(|id| {
                state.leased.remove(&id);
                let e = state.tasks.get_mut(&id)?;
                e.lease = None;
                Some(ExpiredRun {
                    scope: e.scope.clone(),
                    task_id: id.to_string(),
                })
            })
            .collect())
    }

    async fn purge_terminal(&self, before: i64) -> Result<u64, StoreError> {
        let mut purged = 0;
        // Tasks still owed a notification stay; the next batch starts after them.
        let mut from = Bound::Unbounded;
        loop {
            let (entries, next) = self.purge_batch(before, from);
            purged += entries.len() as u64;
            // Freed outside the lock: dropping a task's records is most of the work.
            drop(entries);
            match next {
                Some(key) => from = Bound::Excluded(key),
                None => return Ok(purged),
            }
            // Requests waiting on the lock go first.
            tokio::task::yield_now().await;
        }
    }
}

#[async_trait]
impl PushStore for MemoryStore {
    async fn put_push_config(&self, scope: &Scope, config: &PushConfig) -> Result<(), StoreError> {
        let mut state = self.state.write();
        let entry = state
            .tasks
            .get_mut(config.task_id.as_str())
            .filter(|e| &e.scope == scope)
            .ok_or(StoreError::NotFound)?;
        entry.push.insert(config.id.clone(), config.clone());
        Ok(())
    }

    async fn get_push_config(
        &self,
        scope: &Scope,
        task_id: &str,
        id: &str,
    ) -> Result<Option<PushConfig>, StoreError> {
        let state = self.state.read();
        Ok(state.entry(scope, task_id)?.push.get(id).cloned())
    }

    async fn list_push_configs(
        &self,
        scope: &Scope,
        task_id: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<PushConfig>, StoreError> {
        let state = self.state.read();
        let push = &state.entry(scope, task_id)?.push;
        Ok(push
            .values()
            .filter(|c| after.is_none_or(|a| c.id.as_str() > a))
            .take(limit)
            .cloned()
            .collect())
    }

    async fn delete_push_config(
        &self,
        scope: &Scope,
        task_id: &str,
        id: &str,
    ) -> Result<bool, StoreError> {
        let mut state = self.state.write();
        let state = &mut *state;
        let entry = state
            .tasks
            .get_mut(task_id)
            .filter(|e| &e.scope == scope)
            .ok_or(StoreError::NotFound)?;
        let existed = entry.push.remove(id).is_some();
        state.outbox.remove_config(task_id, id);
        Ok(existed)
    }

    async fn claim_deliveries(
        &self,
        now: i64,
        claim_until: i64,
        limit: usize,
    ) -> Result<Vec<Delivery>, StoreError> {
        Ok(self
            .state
            .write()
            .outbox
            .claim_batch(now, claim_until, limit))
    }

    async fn claim_next_delivery(
        &self,
        after: &Delivery,
        now: i64,
        claim_until: i64,
    ) -> Result<Option<Delivery>, StoreError> {
        Ok(self
            .state
            .write()
            .outbox
            .claim_next(after, now, claim_until))
    }

    async fn complete_delivery(&self, id: i64) -> Result<(), StoreError> {
        self.state.write().outbox.complete(id);
        Ok(())
    }

    async fn retry_delivery(
        &self,
        id: i64,
        next_attempt_at: i64,
        error: &str,
    ) -> Result<(), StoreError> {
        self.state.write().outbox.retry(id, next_attempt_at, error);
        Ok(())
    }

    async fn dead_letter(&self, id: i64, now: i64, error: &str) -> Result<(), StoreError> {
        self.state.write().outbox.dead_letter(id, now, error);
        Ok(())
    }

    async fn dead_letters(&self, limit: usize) -> Result<Vec<Delivery>, StoreError> {
        Ok(self.state.read().outbox.dead_letters(limit))
    }

    async fn requeue_dead_letters(&self, id: Option<i64>, now: i64) -> Result<u64, StoreError> {
        let n = self.state.write().outbox.requeue(id, now);
        if n > 0 {
            self.outbox_signal.notify_one();
        }
        Ok(n)
    }

    async fn outbox_depth(&self) -> Result<OutboxDepth, StoreError> {
        Ok(self.state.read().outbox.depth())
    }

    fn outbox_signal(&self) -> std::sync::Arc<tokio::sync::Notify> {
        self.outbox_signal.clone()
    }
}

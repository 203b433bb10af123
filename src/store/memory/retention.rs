//! Retention in the memory store: terminal tasks indexed by the time of their final
//! status, and a purge that drops the old ones a batch at a time.

use std::collections::{BTreeMap, HashSet};
use std::ops::Bound;
use std::sync::Arc;

use super::{Entry, MemoryStore};
use crate::protocol::Task;

/// Tasks dropped per hold of the write lock by the retention purge: every send waits
/// while it holds the lock, and dropping one whole sweep at once (tens of thousands of
/// tasks) stalled the server for over 100 ms.
const PURGE_BATCH: usize = 256;

/// Where a terminal task sits in the index: the millisecond of its final status, then a
/// serial number that orders tasks finishing in the same millisecond.
pub(super) type TerminalKey = (i64, u64);

/// Terminal tasks by the time of their final status. Keyed by integers, not by task id:
/// tens of tasks finish in the same millisecond under load, and comparing their ids on
/// every insert was 3% of a streamed task's time.
///
/// Built on the first purge, not before: without retention nothing purges, and keeping
/// the index anyway cost every task an insert into a tree of every finished task.
#[derive(Default)]
pub(super) struct TerminalIndex {
    by_time: BTreeMap<TerminalKey, Arc<str>>,
    next: u64,
    /// Whether the index is kept (a purge has run).
    kept: bool,
}

impl TerminalIndex {
    /// Keeps the index in step with a task now in the state of `task`; `slot` is the
    /// task's current key, updated in place.
    pub(super) fn track(&mut self, slot: &mut Option<TerminalKey>, task: &Task) {
        if !self.kept {
            return;
        }
        let terminal = task.status.state.is_terminal();
        let millis = task.status.timestamp.timestamp_millis();
        if let Some(key) = *slot {
            if terminal && key.0 == millis {
                return;
            }
            self.by_time.remove(&key);
            *slot = None;
        }
        if terminal {
            let key = (millis, self.next);
            self.next += 1;
            self.by_time.insert(key, task.id.clone());
            *slot = Some(key);
        }
    }
}

impl MemoryStore {
    /// Removes up to [`PURGE_BATCH`] terminal tasks whose final status is older than
    /// `before`, starting after `from`. Returns them, and where the next batch starts
    /// (`None`: nothing older is left).
    pub(super) fn purge_batch(
        &self,
        before: i64,
        from: Bound<TerminalKey>,
    ) -> (Vec<Entry>, Option<TerminalKey>) {
        let mut state = self.state.write();
        let state = &mut *state;
        if !state.terminal.kept {
            // The first purge indexes the tasks kept so far, once.
            state.terminal.kept = true;
            for entry in state.tasks.values_mut() {
                state
                    .terminal
                    .track(&mut entry.terminal, &entry.record.task);
            }
        }
        let mut doomed = Vec::new();
        let mut last = None;
        for (key, id) in state
            .terminal
            .by_time
            .range((from, Bound::Excluded((before, 0))))
        {
            if doomed.len() == PURGE_BATCH {
                break;
            }
            if !state.outbox.has_live(id) {
                doomed.push(*key);
            }
            last = Some(*key);
        }
        let mut entries = Vec::with_capacity(doomed.len());
        // The purged ids, for dropping their queued notifications: only when any are queued.
        let has_outbox = !state.outbox.is_empty();
        let mut ids = HashSet::new();
        for key in &doomed {
            let Some(id) = state.terminal.by_time.remove(key) else {
                continue;
            };
            let Some(entry) = state.tasks.remove(&id) else {
                continue;
            };
            state.leased.remove(&id);
            state.listing.remove(&entry.scope, entry.listed, &id);
            entries.push(*entry);
            if has_outbox {
                ids.insert(id);
            }
        }
        if !ids.is_empty() {
            state.outbox.remove_tasks(&ids);
        }
        (entries, last)
    }
}

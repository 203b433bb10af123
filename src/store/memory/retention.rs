//! Retention in the memory store: terminal tasks indexed by the time of their final
//! status, and a purge that drops the old ones a batch at a time.

use std::collections::{BTreeSet, HashSet};
use std::ops::Bound;

use super::{Entry, MemoryStore};
use crate::protocol::Task;

/// Tasks dropped per hold of the write lock by the retention purge: every send waits
/// while it holds the lock, and dropping one whole sweep at once (tens of thousands of
/// tasks) stalled the server for over 100 ms.
const PURGE_BATCH: usize = 256;

/// Keeps `terminal` in step with a task going from `old` to `new`.
pub(super) fn track_terminal(
    terminal: &mut BTreeSet<(i64, String)>,
    old: Option<&Task>,
    new: &Task,
) {
    let key = |t: &Task| (t.status.timestamp.timestamp_millis(), t.id.clone());
    match old {
        Some(old) if old.status.state.is_terminal() => {
            if new.status.state.is_terminal() && old.status.timestamp == new.status.timestamp {
                return;
            }
            terminal.remove(&key(old));
        }
        _ => {}
    }
    if new.status.state.is_terminal() {
        terminal.insert(key(new));
    }
}

impl MemoryStore {
    /// Removes up to [`PURGE_BATCH`] terminal tasks whose final status is older than
    /// `before`, starting after `from`. Returns them, and where the next batch starts
    /// (`None`: nothing older is left).
    pub(super) fn purge_batch(
        &self,
        before: i64,
        from: Bound<(i64, String)>,
    ) -> (Vec<Entry>, Option<(i64, String)>) {
        let mut state = self.state.write();
        let state = &mut *state;
        let mut doomed = Vec::new();
        let mut last = None;
        for key in state
            .terminal
            .range((from, Bound::Excluded((before, String::new()))))
        {
            if doomed.len() == PURGE_BATCH {
                break;
            }
            if !state.outbox.has_live(&key.1) {
                doomed.push(key.clone());
            }
            last = Some(key);
        }
        let next = last.cloned();
        let mut entries = Vec::with_capacity(doomed.len());
        for key in &doomed {
            state.terminal.remove(key);
            let id = &key.1;
            let Some(entry) = state.tasks.remove(id) else {
                continue;
            };
            for e in &entry.events {
                for m in crate::store::user_message_ids(&e.event) {
                    let k = (entry.scope.clone(), m.to_string());
                    if state.messages.get(&k) == Some(id) {
                        state.messages.remove(&k);
                    }
                }
            }
            state.leased.remove(id);
            entries.push(*entry);
        }
        if !state.outbox.is_empty() && !doomed.is_empty() {
            let ids: HashSet<String> = doomed.into_iter().map(|(_, id)| id).collect();
            state.outbox.remove_tasks(&ids);
        }
        (entries, next)
    }
}

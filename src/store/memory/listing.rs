//! ListTasks in the memory store: each scope's tasks ordered by (status time, id), in
//! all and per state, so a page is a range of a tree and `totalSize` a tree's length
//! (issue 23: a page at a million tasks costs what it costs at a thousand).
//!
//! Built on the first ListTasks, not before, as the retention index is: a server that
//! never lists pays nothing per send; once built, every change keeps it in step.

use std::collections::BTreeSet;
use std::ops::Bound;
use std::sync::Arc;

use super::{Entry, Map, State};
use crate::protocol::request::{ListTasksQuery, TaskPage};
use crate::protocol::{Task, TaskState};
use crate::store::{Scope, TaskView, cursor};

/// Where a task sits in its scope's trees: its status time (unix millis) and state.
pub(super) type ListKey = (i64, TaskState);

type Ordered = BTreeSet<(i64, Arc<str>)>;

#[derive(Default)]
struct ScopeList {
    all: Ordered,
    by_state: Map<TaskState, Ordered>,
}

#[derive(Default)]
pub(super) struct Listing {
    scopes: Map<Scope, ScopeList>,
    /// Whether the index is kept (a ListTasks has run).
    pub(super) kept: bool,
}

fn key_of(task: &Task) -> ListKey {
    (task.status.timestamp.timestamp_millis(), task.status.state)
}

impl Listing {
    /// Keeps the index in step with `task` of `scope`; `slot` is where the task was
    /// (`None`: not listed yet), updated in place.
    pub(super) fn track(&mut self, scope: &Scope, slot: &mut Option<ListKey>, task: &Task) {
        if !self.kept {
            return;
        }
        let key = key_of(task);
        if *slot == Some(key) {
            return;
        }
        let list = match self.scopes.get_mut(scope) {
            Some(list) => list,
            None => self.scopes.entry(scope.clone()).or_default(),
        };
        if let Some((ts, state)) = slot.take() {
            let old = (ts, task.id.clone());
            list.all.remove(&old);
            if let Some(s) = list.by_state.get_mut(&state) {
                s.remove(&old);
            }
        }
        list.all.insert((key.0, task.id.clone()));
        list.by_state
            .entry(key.1)
            .or_default()
            .insert((key.0, task.id.clone()));
        *slot = Some(key);
    }

    /// Drops a task (purged) from the index.
    pub(super) fn remove(&mut self, scope: &Scope, slot: Option<ListKey>, id: &Arc<str>) {
        let (Some((ts, state)), Some(list)) = (slot, self.scopes.get_mut(scope)) else {
            return;
        };
        let old = (ts, id.clone());
        list.all.remove(&old);
        if let Some(s) = list.by_state.get_mut(&state) {
            s.remove(&old);
        }
    }
}

impl State {
    /// Builds the listing index on first use, from every task kept so far.
    pub(super) fn keep_listing(&mut self) {
        if self.listing.kept {
            return;
        }
        self.listing.kept = true;
        for entry in self.tasks.values_mut() {
            let Entry {
                scope,
                record,
                listed,
                ..
            } = &mut **entry;
            self.listing.track(scope, listed, &record.task);
        }
    }

    /// A page of `scope`'s tasks, newest status first (then id, descending).
    /// Needs [`State::keep_listing`] first.
    pub(super) fn list(&self, scope: &Scope, q: &ListTasksQuery) -> TaskPage {
        let empty = Ordered::new();
        let list = self.listing.scopes.get(scope);
        let tree = match (list, q.state) {
            (Some(l), Some(s)) => l.by_state.get(&s).unwrap_or(&empty),
            (Some(l), None) => &l.all,
            (None, _) => &empty,
        };
        // The trees order (ts, id) ascending: a page walks down from the cursor.
        let upper = match q.page_token.as_deref().and_then(cursor::decode) {
            Some((ts, id)) => Bound::Excluded((ts, Arc::<str>::from(id))),
            None => Bound::Unbounded,
        };
        let min_ts = q
            .status_timestamp_after
            .map(crate::store::sql::min_status_ts);
        let lower = match min_ts {
            Some(ts) => Bound::Included((ts, Arc::<str>::from(""))),
            None => Bound::Unbounded,
        };
        let tasks = &self.tasks;
        let matches = |(_, id): &&(i64, Arc<str>)| {
            let Some(e) = tasks.get(id) else { return false };
            q.context_id
                .as_ref()
                .is_none_or(|c| *e.record.task.context_id == **c)
        };
        // Without a context filter the tree's own length (or the range's) is the total.
        let total_size = match (&q.context_id, &lower) {
            (None, Bound::Unbounded) => tree.len(),
            _ => tree
                .range((lower.clone(), Bound::Unbounded))
                .filter(matches)
                .count(),
        };
        let view = TaskView {
            history: q.history_length,
            artifacts: q.include_artifacts,
        };
        let mut walk = tree.range((lower, upper)).rev().filter(matches);
        let page: Vec<Task> = walk
            .by_ref()
            .take(q.page_size)
            .filter_map(|(_, id)| tasks.get(id).map(|e| view.of(&e.record.task)))
            .collect();
        let next_page_token = match page.last() {
            Some(last) if walk.next().is_some() => {
                cursor::encode(last.status.timestamp.timestamp_millis(), &last.id)
            }
            _ => String::new(),
        };
        TaskPage {
            tasks: page,
            next_page_token,
            total_size,
        }
    }
}

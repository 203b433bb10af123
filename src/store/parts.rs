//! What a stored task is made of: a head (id, context, status, metadata: what a commit
//! changes) and the parts that only grow, its history and artifacts. The event log already
//! holds every message and artifact chunk once, so the SQL stores keep the head in the task
//! row and rebuild the parts a read asks for from the events that carry them (marked on
//! insert, see [`EventMarks`]): a commit writes the size of its change, never the task.

use std::sync::Arc;

use crate::protocol::{Message, Task, TaskEvent};

/// How much of a task a read returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TaskView {
    /// The newest `n` history messages; `None`: all of them.
    pub history: Option<usize>,
    pub artifacts: bool,
}

impl TaskView {
    /// The whole task.
    pub const FULL: TaskView = TaskView {
        history: None,
        artifacts: true,
    };
    /// Id, context, status and metadata only: what a commit needs to check a transition.
    pub const HEAD: TaskView = TaskView {
        history: Some(0),
        artifacts: false,
    };

    /// The view of a read that returns `history_length` messages and the artifacts.
    pub fn with_history(history: Option<usize>) -> TaskView {
        TaskView {
            history,
            artifacts: true,
        }
    }

    /// `task` cut down to this view, copying only what the view keeps.
    pub fn of(self, task: &Task) -> Task {
        let mut out = head(task);
        let len = task.history.len();
        let from = self.history.map_or(0, |n| len.saturating_sub(n));
        out.history = task.history[from..].to_vec();
        if self.artifacts {
            out.artifacts = task.artifacts.clone();
        }
        out
    }

    /// The history positions a read must fetch: those after this one (1-based), or
    /// `None` when it needs none. `messages` is the task's history length.
    pub(crate) fn history_after(self, messages: u64) -> Option<u64> {
        match self.history {
            Some(0) => None,
            Some(n) => Some(messages.saturating_sub(n as u64)),
            None => Some(0),
        }
    }
}

/// `task` without its history and artifacts: what the task row stores.
pub fn head(task: &Task) -> Task {
    Task {
        id: task.id.clone(),
        context_id: task.context_id.clone(),
        status: task.status.clone(),
        artifacts: Vec::new(),
        history: Vec::new(),
        metadata: task.metadata.clone(),
    }
}

/// How many history messages `event` adds.
pub(crate) fn messages_added(event: &TaskEvent) -> u64 {
    match event {
        TaskEvent::Task(t) => t.history.len() as u64,
        TaskEvent::UserMessage(_) => 1,
        TaskEvent::StatusUpdate(s) => u64::from(s.status.message.is_some()),
        TaskEvent::ArtifactUpdate(_) => 0,
    }
}

/// Whether `event` changes the artifacts.
pub(crate) fn touches_artifacts(event: &TaskEvent) -> bool {
    match event {
        TaskEvent::Task(t) => !t.artifacts.is_empty(),
        TaskEvent::ArtifactUpdate(_) => true,
        _ => false,
    }
}

/// The marks an event is stored with: `msgs`, the history length after it when it adds
/// messages (reads find the newest `n` by it), and `artifact` (1) when it changes the
/// artifacts. Both NULL otherwise, so the partial indexes skip the event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct EventMarks {
    pub msgs: Option<i64>,
    pub artifact: Option<i64>,
}

/// The marks of `events`, following a history of `messages` messages, and the history
/// length after them.
pub(crate) fn marks<'a>(
    events: impl IntoIterator<Item = &'a TaskEvent>,
    mut messages: u64,
) -> (Vec<EventMarks>, u64) {
    let marks = events
        .into_iter()
        .map(|e| {
            let added = messages_added(e);
            messages += added;
            EventMarks {
                msgs: (added > 0).then(|| i64::try_from(messages).unwrap_or(i64::MAX)),
                artifact: touches_artifacts(e).then_some(1),
            }
        })
        .collect();
    (marks, messages)
}

/// A stored event read back to rebuild parts: `msgs` set when it was read for its
/// messages, `None` when for its artifacts. Rows come in sequence order.
pub(crate) struct PartRow {
    pub msgs: Option<i64>,
    pub event: TaskEvent,
}

/// Fills `task` (a head) with the history after position `after` and the artifacts found
/// in `rows`.
pub(crate) fn rebuild(task: &mut Task, after: u64, rows: impl IntoIterator<Item = PartRow>) {
    for row in rows {
        match row.msgs {
            Some(end) => push_messages(&mut task.history, &row.event, end, after),
            None => apply_artifacts(task, &row.event),
        }
    }
}

/// The messages of `event` (whose last is history position `end`) after position `after`.
fn push_messages(history: &mut Vec<Arc<Message>>, event: &TaskEvent, end: i64, after: u64) {
    let end = u64::try_from(end).unwrap_or(0);
    match event {
        TaskEvent::Task(t) => {
            let first = (end + 1).saturating_sub(t.history.len() as u64).max(1);
            let skip = after.saturating_sub(first - 1) as usize;
            history.extend(t.history.iter().skip(skip).cloned());
        }
        TaskEvent::UserMessage(m) if end > after => history.push(m.clone()),
        TaskEvent::StatusUpdate(s) if end > after => history.extend(s.status.message.clone()),
        _ => {}
    }
}

fn apply_artifacts(task: &mut Task, event: &TaskEvent) {
    match event {
        TaskEvent::Task(t) => task.artifacts = t.artifacts.clone(),
        TaskEvent::ArtifactUpdate(_) => task.apply(event),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::{
        Artifact, Part, TaskArtifactUpdateEvent, TaskState, TaskStatus, TaskStatusUpdateEvent,
    };

    fn msg(text: &str) -> Arc<Message> {
        Arc::new(Message::agent(vec![Part::text(text)]))
    }

    fn status(state: TaskState, m: Option<Arc<Message>>) -> TaskEvent {
        TaskEvent::StatusUpdate(TaskStatusUpdateEvent {
            task_id: "t".into(),
            context_id: "c".into(),
            status: TaskStatus {
                state,
                message: m,
                timestamp: crate::protocol::now(),
            },
            metadata: None,
        })
    }

    fn artifact(id: &str, text: &str) -> Artifact {
        Artifact {
            artifact_id: id.into(),
            name: None,
            description: None,
            parts: vec![Part::text(text)],
            metadata: None,
            extensions: Vec::new(),
        }
    }

    fn chunk(id: &str, text: &str, append: bool) -> TaskEvent {
        let a = artifact(id, text);
        TaskEvent::ArtifactUpdate(TaskArtifactUpdateEvent {
            task_id: "t".into(),
            context_id: "c".into(),
            artifact: Arc::new(a),
            append,
            last_chunk: false,
            metadata: None,
        })
    }

    /// Every view rebuilt from marked events equals the view of the task folded from
    /// them, whatever the history length asked for.
    #[test]
    fn parts_rebuilt_from_marked_events_equal_the_folded_task() {
        let mut first = Task {
            id: "t".into(),
            context_id: "c".into(),
            status: TaskStatus {
                state: TaskState::Submitted,
                message: None,
                timestamp: crate::protocol::now(),
            },
            artifacts: Vec::new(),
            history: vec![msg("m1"), msg("m2")],
            metadata: None,
        };
        first.artifacts.push(Arc::new(artifact("a0", "zero")));
        let events = vec![
            TaskEvent::Task(first),
            status(TaskState::Working, None),
            chunk("x", "one ", false),
            TaskEvent::UserMessage(msg("m3")),
            chunk("x", "two", true),
            status(TaskState::InputRequired, Some(msg("m4"))),
            chunk("y", "other", false),
            chunk("y", "replaced", false),
            status(TaskState::Completed, Some(msg("m5"))),
        ];
        let (marks, messages) = marks(&events, 0);
        assert_eq!(messages, 5);
        let mut folded = match &events[0] {
            TaskEvent::Task(t) => t.clone(),
            _ => unreachable!(),
        };
        for e in &events[1..] {
            folded.apply(e);
        }
        for history in [None, Some(0), Some(1), Some(2), Some(3), Some(5), Some(9)] {
            for artifacts in [false, true] {
                let view = TaskView { history, artifacts };
                let after = view.history_after(messages);
                let mut rows = Vec::new();
                for (e, m) in events.iter().zip(&marks) {
                    if let (Some(after), Some(end)) = (after, m.msgs)
                        && end as u64 > after
                    {
                        rows.push(PartRow {
                            msgs: Some(end),
                            event: e.clone(),
                        });
                    }
                    if artifacts && m.artifact.is_some() {
                        rows.push(PartRow {
                            msgs: None,
                            event: e.clone(),
                        });
                    }
                }
                let mut got = head(&folded);
                rebuild(&mut got, after.unwrap_or(0), rows);
                assert_eq!(got, view.of(&folded), "{view:?}");
            }
        }
    }
}

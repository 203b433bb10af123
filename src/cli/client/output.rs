//! The readable output of the client subcommands: one line per stream event, a task's
//! lines, parts as text, and raw results on one line.

use serde_json::Value;
use serde_json::value::RawValue;

use crate::protocol::{Message, Part, PartContent, StreamItem, Task, TaskEvent};

/// Prints a raw result on one line, as received unless it spans several lines.
pub(super) fn print_raw(raw: &RawValue) {
    let text = raw.get();
    if text.contains('\n') {
        match serde_json::from_str::<Value>(text) {
            Ok(v) => println!("{v}"),
            Err(_) => println!("{}", text.replace('\n', " ")),
        }
    } else {
        println!("{text}");
    }
}

/// One readable line per stream event, e.g. `status working` or `artifact id: text`.
pub fn event_line(item: &StreamItem) -> String {
    match item {
        StreamItem::Message(m) => format!("message {}: {}", role(m), parts_text(&m.parts)),
        StreamItem::Event(e) => match &e.event {
            TaskEvent::Task(t) => format!("task {} {}", t.id, t.status.state.kebab_name()),
            TaskEvent::UserMessage(m) => format!("message {}: {}", role(m), parts_text(&m.parts)),
            TaskEvent::StatusUpdate(s) => {
                let mut line = format!("status {}", s.status.state.kebab_name());
                if let Some(m) = &s.status.message {
                    line.push_str(&format!(": {}", parts_text(&m.parts)));
                }
                line
            }
            TaskEvent::ArtifactUpdate(a) => {
                let flags = match (a.append, a.last_chunk) {
                    (true, true) => " (append, last chunk)",
                    (true, false) => " (append)",
                    _ => "",
                };
                format!(
                    "artifact {}{flags}: {}",
                    a.artifact.artifact_id,
                    parts_text(&a.artifact.parts)
                )
            }
        },
    }
}

fn role(m: &Message) -> &'static str {
    match m.role {
        crate::protocol::Role::User => "user",
        crate::protocol::Role::Agent => "agent",
    }
}

/// Parts on one line: text as is, data as JSON, files as a short description.
pub fn parts_text(parts: &[Part]) -> String {
    let one = |p: &Part| match &p.content {
        PartContent::Text(t) => t.replace('\n', " "),
        PartContent::Data(d) => d.to_string(),
        PartContent::Raw(b) => format!(
            "<file {}{}, {} bytes>",
            p.filename.as_deref().unwrap_or("(unnamed)"),
            p.media_type
                .as_deref()
                .map(|m| format!(" {m}"))
                .unwrap_or_default(),
            b.len()
        ),
        PartContent::Url(u) => format!("<file {u}>"),
    };
    parts.iter().map(one).collect::<Vec<_>>().join(" ")
}

/// The readable form of a task: id and state, context, status message, artifacts and (when
/// asked for) the history.
pub fn task_lines(t: &Task, with_history: bool) -> Vec<String> {
    let mut lines = vec![
        format!("task {} {}", t.id, t.status.state.kebab_name()),
        format!("context {}", t.context_id),
    ];
    if let Some(m) = &t.status.message {
        lines.push(format!("{}: {}", role(m), parts_text(&m.parts)));
    }
    for a in &t.artifacts {
        lines.push(format!(
            "artifact {}: {}",
            a.artifact_id,
            parts_text(&a.parts)
        ));
    }
    for m in t.history.iter().filter(|_| with_history) {
        lines.push(format!("history {}: {}", role(m), parts_text(&m.parts)));
    }
    lines
}

pub(super) fn print_task(t: &Task, with_history: bool) {
    for l in task_lines(t, with_history) {
        println!("{l}");
    }
}

pub(super) fn print_message(m: &Message) {
    println!("message {}", m.message_id);
    println!("{}: {}", role(m), parts_text(&m.parts));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::{
        Artifact, TaskArtifactUpdateEvent, TaskState, TaskStatus, TaskStatusUpdateEvent,
    };
    use std::sync::Arc;

    #[test]
    fn readable_lines() {
        let ev = |event| StreamItem::event(3, event);
        let status = TaskEvent::StatusUpdate(TaskStatusUpdateEvent {
            task_id: "t".into(),
            context_id: "c".into(),
            status: TaskStatus::new(TaskState::Working, None),
            metadata: None,
        });
        assert_eq!(event_line(&ev(status)), "status working");
        let artifact = TaskEvent::ArtifactUpdate(TaskArtifactUpdateEvent {
            task_id: "t".into(),
            context_id: "c".into(),
            artifact: Arc::new(Artifact {
                artifact_id: "text-artifact".into(),
                name: None,
                description: None,
                parts: vec![Part::text("Hello")],
                metadata: None,
                extensions: Vec::new(),
            }),
            append: false,
            last_chunk: true,
            metadata: None,
        });
        assert_eq!(event_line(&ev(artifact)), "artifact text-artifact: Hello");
        let file = Part {
            filename: Some("o.txt".into()),
            media_type: Some("text/plain".into()),
            ..Part::new(PartContent::Raw(vec![1, 2]))
        };
        assert_eq!(
            parts_text(&[file, Part::data(serde_json::json!({"a": 1}))]),
            "<file o.txt text/plain, 2 bytes> {\"a\":1}"
        );
    }
}

//! The behaviour contract conformance kits drive by the prefix of `message.messageId`.

use std::time::Duration;

use async_trait::async_trait;
use serde_json::json;

use super::{AgentError, AgentExecutor, EventSink, RequestContext};
use crate::protocol::{Artifact, Part, PartContent, TaskState};

/// How long `test-resubscribe-message-id` stays working.
const RESUBSCRIBE_HOLD: Duration = Duration::from_secs(4);

/// Drives tasks through the states conformance kits check (see the README's agent table).
#[derive(Default)]
pub struct ConformanceAgent;

fn artifact(id: &str, parts: Vec<Part>) -> Artifact {
    Artifact {
        artifact_id: id.to_string(),
        name: Some(id.to_string()),
        description: None,
        parts,
        metadata: None,
        extensions: Vec::new(),
    }
}

fn file_part(content: PartContent) -> Part {
    Part {
        filename: Some("output.txt".into()),
        media_type: Some("text/plain".into()),
        ..Part::new(content)
    }
}

/// The artifact each `tck-artifact-*` / `tck-stream-artifact-*` prefix produces.
fn artifact_for(kind: &str) -> Artifact {
    match kind {
        "file" => artifact(
            "file-artifact",
            vec![file_part(PartContent::Raw(b"Hello from TCK".to_vec()))],
        ),
        "file-url" => artifact(
            "file-url-artifact",
            vec![file_part(PartContent::Url(
                "https://example.com/output.txt".into(),
            ))],
        ),
        "data" => artifact(
            "data-artifact",
            vec![Part::data(json!({"key": "value", "count": 42}))],
        ),
        _ => artifact("text-artifact", vec![Part::text("Hello from TCK")]),
    }
}

#[async_trait]
impl AgentExecutor for ConformanceAgent {
    async fn execute(&self, ctx: RequestContext, sink: EventSink) -> Result<(), AgentError> {
        let id = ctx.message.message_id.as_str();
        let say = |text: &str| Some(sink.agent_message(vec![Part::text(text)]));

        if id.starts_with("tck-complete-task") {
            sink.status(TaskState::Completed, say("Hello from TCK"))
                .await?;
        } else if let Some(rest) = id.strip_prefix("tck-artifact-") {
            let kind = ["file-url", "file", "data", "text"]
                .into_iter()
                .find(|k| rest.starts_with(k))
                .unwrap_or("text");
            sink.status(TaskState::Working, None).await?;
            sink.artifact(artifact_for(kind), false, true).await?;
            sink.status(TaskState::Completed, None).await?;
        } else if id.starts_with("tck-message-response") {
            sink.reply(sink.agent_message(vec![Part::text("Hello from TCK")]))
                .await?;
        } else if id.starts_with("tck-input-required") {
            sink.status(TaskState::InputRequired, say("Please provide more input"))
                .await?;
        } else if id.starts_with("tck-reject-task") {
            return Err("task rejected by the conformance agent".into());
        } else if id.starts_with("tck-stream-002") {
            sink.status(TaskState::Completed, say("Hello from TCK"))
                .await?;
        } else if id.starts_with("tck-stream-artifact-chunked") {
            sink.status(TaskState::Working, None).await?;
            let chunks = ["Hello ", "from ", "TCK"];
            for (i, chunk) in chunks.iter().enumerate() {
                let a = artifact("chunked-artifact", vec![Part::text(*chunk)]);
                sink.artifact(a, i > 0, i == chunks.len() - 1).await?;
            }
            sink.status(TaskState::Completed, None).await?;
        } else if id.starts_with("tck-stream-") {
            let kind = if id.starts_with("tck-stream-artifact-file") {
                "file"
            } else {
                "text"
            };
            sink.status(TaskState::Working, None).await?;
            sink.artifact(artifact_for(kind), false, true).await?;
            sink.status(TaskState::Completed, say("Hello from TCK"))
                .await?;
        } else if id.starts_with("test-resubscribe-message-id") {
            sink.status(TaskState::Working, None).await?;
            tokio::select! {
                _ = tokio::time::sleep(RESUBSCRIBE_HOLD) => {}
                _ = ctx.cancel.cancelled() => return Ok(()),
            }
            sink.status(TaskState::Completed, say("Hello from TCK"))
                .await?;
        } else {
            let text = ctx.message.text();
            sink.status(TaskState::InputRequired, say(&text)).await?;
        }
        Ok(())
    }
}

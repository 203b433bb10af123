//! The default agent: answers with the user's text and completes the task.

use async_trait::async_trait;

use super::{AgentError, AgentExecutor, EventSink, RequestContext};
use crate::protocol::{Part, TaskState};

pub struct EchoAgent;

#[async_trait]
impl AgentExecutor for EchoAgent {
    async fn execute(&self, ctx: RequestContext, sink: EventSink) -> Result<(), AgentError> {
        let reply = sink.agent_message(vec![Part::text(ctx.message.text())]);
        sink.status(TaskState::Completed, Some(reply)).await?;
        Ok(())
    }

    /// Echoing again has no side effects.
    fn resumable(&self) -> bool {
        true
    }
}

//! The seam for agent authors: implement [`AgentExecutor`], emit events through the
//! [`EventSink`], and watch [`RequestContext::cancel`].

mod conformance;
mod echo;

use std::sync::Arc;

use async_trait::async_trait;
use tokio_util::sync::CancellationToken;

pub use crate::service::sink::{EventSink, SinkError};
pub use conformance::ConformanceAgent;
pub use echo::EchoAgent;

use crate::protocol::{Message, Metadata, Task};

/// Any error an agent returns; the task fails with its text as the status message.
pub type AgentError = Box<dyn std::error::Error + Send + Sync>;

/// What the agent is asked to do.
#[derive(Debug, Clone)]
pub struct RequestContext {
    /// The task this run belongs to (created when the agent emits its first task event).
    pub task_id: Arc<str>,
    pub context_id: Arc<str>,
    /// The user message that started this run (shared with the task's history).
    pub message: Arc<Message>,
    /// The task so far, when this message continues an existing task.
    pub task: Option<Task>,
    pub accepted_output_modes: Vec<String>,
    pub metadata: Option<Metadata>,
    /// Fired when a client cancels the task; stop promptly.
    pub cancel: CancellationToken,
}

/// An agent: turns a user message into status updates, artifacts or a reply.
#[async_trait]
pub trait AgentExecutor: Send + Sync + 'static {
    /// Runs the agent for one message. Returning leaves the task where the agent put it;
    /// an error fails the task.
    async fn execute(&self, ctx: RequestContext, sink: EventSink) -> Result<(), AgentError>;

    /// Whether a run interrupted by a server crash may simply run again (the agent is
    /// idempotent). When false, such a task is failed with a "server restarted" message.
    fn resumable(&self) -> bool {
        false
    }
}

/// Built-in agents, by the name `--agent` takes.
pub fn builtin(name: &str) -> Option<std::sync::Arc<dyn AgentExecutor>> {
    match name {
        "echo" => Some(std::sync::Arc::new(EchoAgent)),
        "conformance" => Some(std::sync::Arc::new(ConformanceAgent)),
        _ => None,
    }
}

/// Names accepted by [`builtin`].
pub const BUILTIN_AGENTS: &[&str] = &["echo", "conformance"];

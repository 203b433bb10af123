//! Version-independent requests, as the codecs decode them and the service executes them.

use chrono::{DateTime, Utc};

use super::model::{Message, Metadata};
use super::state::TaskState;

/// Send a message: create a task, continue one, or get a bare message back.
#[derive(Debug, Clone)]
pub struct SendRequest {
    pub message: Message,
    /// Wait for a terminal or interrupted state before answering.
    pub blocking: bool,
    pub history_length: Option<usize>,
    pub accepted_output_modes: Vec<String>,
    pub metadata: Option<Metadata>,
    /// 0.1 only: the client chose the task id; an unknown id creates the task.
    pub client_task_id: Option<String>,
    /// A webhook for the task, registered with the send.
    pub push: Option<super::push::InlinePushConfig>,
}

/// Filters and paging of `ListTasks`.
#[derive(Debug, Clone, Default)]
pub struct ListTasksQuery {
    pub context_id: Option<String>,
    pub state: Option<TaskState>,
    /// 1..=100, validated by the codec.
    pub page_size: usize,
    pub page_token: Option<String>,
    pub history_length: Option<usize>,
    pub status_timestamp_after: Option<DateTime<Utc>>,
    pub include_artifacts: bool,
}

/// One page of tasks.
#[derive(Debug, Clone)]
pub struct TaskPage {
    pub tasks: Vec<super::model::Task>,
    /// Empty on the last page.
    pub next_page_token: String,
    pub total_size: usize,
}

/// Default and maximum `pageSize` of `ListTasks`.
pub const DEFAULT_PAGE_SIZE: usize = 50;
pub const MAX_PAGE_SIZE: usize = 100;

/// Validates a wire `pageSize`: unset means `default`, else 1..=`max`. `ListTasks`'s
/// field is `optional int32` with minimum 1, so 0 is out of range, not "unset"; a caller
/// whose field is a plain proto3 `int32` (0 = unset) maps 0 to `None` first.
pub fn page_size(n: Option<i64>, default: usize, max: usize) -> Result<usize, super::A2aError> {
    match n {
        None => Ok(default),
        Some(n) if (1..=max as i64).contains(&n) => Ok(n as usize),
        Some(n) => Err(super::A2aError::InvalidParams(format!(
            "pageSize must be between 1 and {max} (got {n})"
        ))),
    }
}

/// Validates a wire `historyLength` (negative is an error).
pub fn history_length(n: Option<i64>) -> Result<Option<usize>, super::A2aError> {
    match n {
        Some(n) if n < 0 => Err(super::A2aError::InvalidParams(format!(
            "historyLength must not be negative (got {n})"
        ))),
        Some(n) => Ok(Some(n as usize)),
        None => Ok(None),
    }
}

//! Task states and the one table of allowed transitions.

use serde::{Deserialize, Serialize};

/// The lifecycle state of a task (1.0 spelling on the wire of the internal model).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
pub enum TaskState {
    #[serde(rename = "TASK_STATE_SUBMITTED")]
    Submitted,
    #[serde(rename = "TASK_STATE_WORKING")]
    Working,
    #[serde(rename = "TASK_STATE_INPUT_REQUIRED")]
    InputRequired,
    #[serde(rename = "TASK_STATE_AUTH_REQUIRED")]
    AuthRequired,
    #[serde(rename = "TASK_STATE_COMPLETED")]
    Completed,
    #[serde(rename = "TASK_STATE_CANCELED")]
    Canceled,
    #[serde(rename = "TASK_STATE_FAILED")]
    Failed,
    #[serde(rename = "TASK_STATE_REJECTED")]
    Rejected,
}

use TaskState::*;

/// Every allowed `(from, to)` pair. Terminal states have no way out; an interrupted task
/// resumes to `Working` when the input (or credentials) arrive.
const TRANSITIONS: &[(TaskState, &[TaskState])] = &[
    (
        Submitted,
        &[
            Working,
            InputRequired,
            AuthRequired,
            Completed,
            Canceled,
            Failed,
            Rejected,
        ],
    ),
    (
        Working,
        &[
            Working,
            InputRequired,
            AuthRequired,
            Completed,
            Canceled,
            Failed,
            Rejected,
        ],
    ),
    (
        InputRequired,
        &[Working, Completed, Canceled, Failed, Rejected],
    ),
    (
        AuthRequired,
        &[Working, Completed, Canceled, Failed, Rejected],
    ),
    (Completed, &[]),
    (Canceled, &[]),
    (Failed, &[]),
    (Rejected, &[]),
];

impl TaskState {
    /// All states, for parsing and listing.
    pub const ALL: [TaskState; 8] = [
        Submitted,
        Working,
        InputRequired,
        AuthRequired,
        Completed,
        Canceled,
        Failed,
        Rejected,
    ];

    /// Whether the task can move from `self` to `to`.
    pub fn can_transition_to(self, to: TaskState) -> bool {
        TRANSITIONS
            .iter()
            .find(|(from, _)| *from == self)
            .is_some_and(|(_, allowed)| allowed.contains(&to))
    }

    /// Completed, canceled, failed or rejected: the task never changes again.
    pub fn is_terminal(self) -> bool {
        matches!(self, Completed | Canceled | Failed | Rejected)
    }

    /// Waiting for the client: input-required or auth-required.
    pub fn is_interrupted(self) -> bool {
        matches!(self, InputRequired | AuthRequired)
    }

    /// The 1.0 wire name, e.g. `TASK_STATE_WORKING`.
    pub fn v1_name(self) -> &'static str {
        match self {
            Submitted => "TASK_STATE_SUBMITTED",
            Working => "TASK_STATE_WORKING",
            InputRequired => "TASK_STATE_INPUT_REQUIRED",
            AuthRequired => "TASK_STATE_AUTH_REQUIRED",
            Completed => "TASK_STATE_COMPLETED",
            Canceled => "TASK_STATE_CANCELED",
            Failed => "TASK_STATE_FAILED",
            Rejected => "TASK_STATE_REJECTED",
        }
    }

    /// The 0.x wire name, e.g. `input-required`.
    pub fn kebab_name(self) -> &'static str {
        match self {
            Submitted => "submitted",
            Working => "working",
            InputRequired => "input-required",
            AuthRequired => "auth-required",
            Completed => "completed",
            Canceled => "canceled",
            Failed => "failed",
            Rejected => "rejected",
        }
    }

    /// Parses either spelling (and the 0.3 proto's `TASK_STATE_CANCELLED`).
    pub fn parse(s: &str) -> Option<TaskState> {
        if s == "TASK_STATE_CANCELLED" {
            return Some(Canceled);
        }
        Self::ALL
            .into_iter()
            .find(|st| st.v1_name() == s || st.kebab_name() == s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terminal_states_have_no_exit() {
        for from in TaskState::ALL.into_iter().filter(|s| s.is_terminal()) {
            for to in TaskState::ALL {
                assert!(!from.can_transition_to(to), "{from:?} -> {to:?}");
            }
        }
    }

    #[test]
    fn interrupted_tasks_resume_to_working() {
        assert!(InputRequired.can_transition_to(Working));
        assert!(AuthRequired.can_transition_to(Working));
        assert!(!InputRequired.can_transition_to(Submitted));
    }

    #[test]
    fn every_state_has_a_row() {
        for s in TaskState::ALL {
            assert!(TRANSITIONS.iter().any(|(f, _)| *f == s));
            assert_eq!(TaskState::parse(s.v1_name()), Some(s));
            assert_eq!(TaskState::parse(s.kebab_name()), Some(s));
        }
    }
}

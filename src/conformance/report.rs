//! The conformance report: a table for people, JSON for machines.

use std::fmt::Write;

use serde::Serialize;

use super::probe::{Caps, Speaks};
use super::{Level, Outcome, Status};

/// Everything one run found.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub url: String,
    pub speaks: Speaks,
    pub capabilities: Caps,
    pub outcomes: Vec<Outcome>,
}

impl Report {
    pub fn count(&self, status: Status, level: Option<Level>) -> usize {
        self.outcomes
            .iter()
            .filter(|o| o.status == status && level.is_none_or(|l| o.level == l))
            .count()
    }

    pub fn must_failures(&self) -> usize {
        self.count(Status::Fail, Some(Level::Must))
    }

    /// Failed checks of any level.
    pub fn failures(&self) -> Vec<&Outcome> {
        self.outcomes
            .iter()
            .filter(|o| o.status == Status::Fail)
            .collect()
    }

    /// The outcome of check `id`.
    pub fn outcome(&self, id: &str) -> Option<&Outcome> {
        self.outcomes.iter().find(|o| o.id == id)
    }

    /// One line per check (`verbose` adds the statement of each), then the totals.
    pub fn table(&self, verbose: bool) -> String {
        let mut s = String::new();
        let _ = writeln!(s, "A2A conformance of {}", self.url);
        let _ = writeln!(
            s,
            "capabilities: streaming={} pushNotifications={} extendedAgentCard={}",
            self.capabilities.streaming,
            self.capabilities.push_notifications,
            self.capabilities.extended_agent_card
        );
        let _ = writeln!(s);
        let _ = writeln!(
            s,
            "{:<14} {:<6} {:<4} {:<7} reason",
            "id", "level", "ver", "result"
        );
        for o in &self.outcomes {
            let result = match o.status {
                Status::Pass => "pass",
                Status::Fail => "FAIL",
                Status::Skipped => "skipped",
            };
            let _ = writeln!(
                s,
                "{:<14} {:<6} {:<4} {:<7} {}",
                o.id,
                o.level.as_str(),
                o.version.as_str(),
                result,
                o.reason.as_deref().unwrap_or("")
            );
            if verbose {
                let _ = writeln!(s, "{:>34}{} ({} ms)", "", o.statement, o.millis);
            }
        }
        let _ = writeln!(s);
        for level in [Level::Must, Level::Should, Level::May] {
            let _ = writeln!(
                s,
                "{:<6} {} passed, {} failed, {} skipped",
                level.as_str(),
                self.count(Status::Pass, Some(level)),
                self.count(Status::Fail, Some(level)),
                self.count(Status::Skipped, Some(level)),
            );
        }
        s
    }
}

//! `a2a conformance URL`: checks any A2A server against the specification, one check per
//! requirement, for A2A 1.0.1, 0.3.0 and the legacy 0.1 family.
//!
//! The checks are the numbered "a conforming server MUST/SHOULD/MAY" statements of the
//! spec digest (ids `R<n>-<version>`) plus what the spec's method, model and push
//! sections imply (ids `E<n>-<version>`). They drive the server through the
//! `conformance` agent contract (behaviour chosen by the prefix of `message.messageId`),
//! talk raw HTTP where the transport itself is checked, and never trust the server: an
//! answer of the wrong shape fails the check with a message naming what was wrong.
//!
//! - [`probe`]: raw JSON-RPC / SSE calls and message builders.
//! - [`hooks`]: the webhook receiver push-delivery checks register.
//! - one file per area: [`card`], [`transport`], [`versioning`], [`v1`], [`v1_tasks`],
//!   [`v1_list`], [`v03`], [`v01`], [`streaming`], [`stream_tasks`], [`push`], [`push_v0`],
//!   [`push_delivery`], [`idempotency`], [`wild`] (what clients in the wild send).
//! - [`report`]: the table and the JSON report.

pub mod bindings;
pub mod card;
pub mod hooks;
pub mod idempotency;
pub mod probe;
pub mod push;
pub mod push_delivery;
pub mod push_v0;
pub mod report;
pub mod stream_tasks;
pub mod streaming;
pub mod transport;
pub mod v01;
pub mod v03;
pub mod v1;
pub mod v1_list;
pub mod v1_tasks;
pub mod versioning;
pub mod wild;

use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::Args;
use futures::StreamExt;
use futures::future::BoxFuture;
use serde::Serialize;
use serde_json::Value;

pub use probe::Ctx;
pub use report::Report;

/// How binding a requirement is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Level {
    #[serde(rename = "MUST")]
    Must,
    #[serde(rename = "SHOULD")]
    Should,
    #[serde(rename = "MAY")]
    May,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Must => "MUST",
            Level::Should => "SHOULD",
            Level::May => "MAY",
        }
    }
}

/// The protocol family a check exercises.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Ver {
    #[serde(rename = "1.0")]
    V1,
    #[serde(rename = "0.3")]
    V03,
    #[serde(rename = "0.1")]
    V01,
    /// Version-independent (the HTTP/JSON-RPC envelope).
    #[serde(rename = "all")]
    All,
}

impl Ver {
    pub fn as_str(self) -> &'static str {
        match self {
            Ver::V1 => "1.0",
            Ver::V03 => "0.3",
            Ver::V01 => "0.1",
            Ver::All => "all",
        }
    }
}

/// Why a check did not pass.
#[derive(Debug, Clone)]
pub enum Miss {
    Fail(String),
    Skip(String),
}

/// What a check function returns: `Ok` is a pass.
pub type Checked = Result<(), Miss>;

/// A failure with `msg`.
pub fn fail(msg: impl Into<String>) -> Miss {
    Miss::Fail(msg.into())
}

/// A skip with `reason`.
pub fn skip(reason: impl Into<String>) -> Miss {
    Miss::Skip(reason.into())
}

/// Fails the check with a formatted message unless `cond` holds.
#[macro_export]
macro_rules! ensure {
    ($cond:expr, $($msg:tt)+) => {
        if !$cond {
            return Err($crate::conformance::fail(format!($($msg)+)));
        }
    };
}

/// The signature every check has.
pub type CheckFn = for<'a> fn(&'a Ctx) -> BoxFuture<'a, Checked>;

/// One requirement and the code that checks it.
pub struct Check {
    pub id: &'static str,
    pub level: Level,
    pub ver: Ver,
    pub statement: &'static str,
    pub run: CheckFn,
}

/// Builds a [`Check`] from an `async fn(&Ctx) -> Checked`.
#[macro_export]
macro_rules! check {
    ($id:literal, $level:ident, $ver:ident, $statement:literal, $f:expr) => {
        $crate::conformance::Check {
            id: $id,
            level: $crate::conformance::Level::$level,
            ver: $crate::conformance::Ver::$ver,
            statement: $statement,
            run: |c| Box::pin(($f)(c)),
        }
    };
}

/// Every check, in report order.
pub fn all_checks() -> Vec<Check> {
    let mut v = Vec::new();
    v.extend(card::checks());
    v.extend(transport::checks());
    v.extend(bindings::checks());
    v.extend(versioning::checks());
    v.extend(v1::checks());
    v.extend(v1_tasks::checks());
    v.extend(v1_list::checks());
    v.extend(idempotency::checks());
    v.extend(v03::checks());
    v.extend(v01::checks());
    v.extend(streaming::checks());
    v.extend(stream_tasks::checks());
    v.extend(push::checks());
    v.extend(push_v0::checks());
    v.extend(push_delivery::checks());
    v.extend(wild::checks());
    v
}

/// The outcome of one check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Pass,
    Fail,
    Skipped,
}

/// One row of the report.
#[derive(Debug, Clone, Serialize)]
pub struct Outcome {
    pub id: &'static str,
    pub level: Level,
    pub version: Ver,
    pub status: Status,
    /// Why it failed or was skipped.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    pub statement: &'static str,
    pub millis: u64,
}

/// `a2a conformance` options.
#[derive(Debug, Clone, Args)]
pub struct ConformanceArgs {
    /// Base URL of the server (where `/.well-known/agent-card.json` is served).
    pub url: String,
    /// Print the report as JSON instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Run only checks whose id contains one of these comma-separated substrings
    /// (case-insensitive), e.g. `R55`, `-v1`, `R6,E1`.
    #[arg(long, value_name = "PATTERN")]
    pub only: Option<String>,
    /// Also list passing checks with their statements.
    #[arg(short, long)]
    pub verbose: bool,
    /// Checks run at once.
    #[arg(long, default_value_t = 4)]
    pub concurrency: usize,
    /// Longest a single check may take, in seconds.
    #[arg(long, default_value_t = 60)]
    pub check_timeout: u64,
}

/// Whether `id` is selected by an `--only` pattern.
pub fn selected(id: &str, only: Option<&str>) -> bool {
    let Some(only) = only else { return true };
    let id = id.to_ascii_lowercase();
    only.split(',')
        .map(|p| p.trim().to_ascii_lowercase())
        .any(|p| !p.is_empty() && id.contains(&p))
}

/// Runs the selected checks against `args.url` and returns the report.
pub async fn run_checks(args: &ConformanceArgs) -> anyhow::Result<Report> {
    let ctx = Ctx::connect(&args.url).await?;
    let checks: Vec<Check> = all_checks()
        .into_iter()
        .filter(|c| selected(c.id, args.only.as_deref()))
        .collect();
    let timeout = Duration::from_secs(args.check_timeout.max(1));
    let ctx = &ctx;
    let mut outcomes: Vec<(usize, Outcome)> = futures::stream::iter(checks.iter().enumerate())
        .map(|(i, c)| async move { (i, run_one(ctx, c, timeout).await) })
        .buffer_unordered(args.concurrency.max(1))
        .collect()
        .await;
    outcomes.sort_by_key(|(i, _)| *i);
    Ok(Report {
        url: args.url.clone(),
        speaks: ctx.speaks.clone(),
        capabilities: ctx.caps.clone(),
        outcomes: outcomes.into_iter().map(|(_, o)| o).collect(),
    })
}

async fn run_one(ctx: &Ctx, check: &Check, timeout: Duration) -> Outcome {
    let started = Instant::now();
    let result = match ctx.speaks.gate(check.ver) {
        Some(reason) => Err(Miss::Skip(reason)),
        None => match tokio::time::timeout(timeout, (check.run)(ctx)).await {
            Ok(r) => r,
            Err(_) => Err(fail(format!("no verdict within {} s", timeout.as_secs()))),
        },
    };
    let (status, reason) = match result {
        Ok(()) => (Status::Pass, None),
        Err(Miss::Fail(m)) => (Status::Fail, Some(m)),
        Err(Miss::Skip(m)) => (Status::Skipped, Some(m)),
    };
    Outcome {
        id: check.id,
        level: check.level,
        version: check.ver,
        status,
        reason,
        statement: check.statement,
        millis: started.elapsed().as_millis() as u64,
    }
}

/// `a2a conformance URL`: prints the report; exit status 1 on any MUST failure.
pub async fn run(args: ConformanceArgs) -> anyhow::Result<ExitCode> {
    let report = run_checks(&args).await?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", report.table(args.verbose));
    }
    Ok(if report.must_failures() > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// The markdown table of every check (for `conformance/README.md`).
pub fn checks_markdown() -> String {
    let mut s = String::from("| id | level | version | statement |\n|---|---|---|---|\n");
    for c in all_checks() {
        s.push_str(&format!(
            "| {} | {} | {} | {} |\n",
            c.id,
            c.level.as_str(),
            c.ver.as_str(),
            c.statement.replace('|', "\\|")
        ));
    }
    s
}

/// `value` as a short string for failure messages.
pub fn show(value: &Value) -> String {
    let s = value.to_string();
    if s.len() > 300 {
        let mut end = 300;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        format!("{}...", &s[..end])
    } else {
        s
    }
}

//! What the SQL backends (PostgreSQL, SQLite) share: the statements, the value
//! conversions, and the one `TaskStore` implementation, which [`sql_task_store!`] expands
//! for each backend's pool type.
//!
//! The statements are the same text for both dialects (`$n` placeholders work on SQLite
//! too); the dialect-specific ones (how a writing transaction begins, how expired runs
//! are taken) are passed to the macro. A macro rather than an impl generic over
//! `sqlx::Database`: sqlx's higher-ranked executor bounds do not survive `async_trait`'s
//! boxing in generic code.
//!
//! The statements and conversions are here; the macro is in `task_store`.

mod task_store;

use chrono::{DateTime, Utc};

use super::StoreError;
use crate::protocol::{TaskState, Version};

/// PostgreSQL: row locks and the compare-and-swap `UPDATE` order concurrent writers.
pub(super) const BEGIN_POSTGRES: &str = "BEGIN";

/// SQLite: take the write lock up front (waiting out the busy timeout) rather than
/// upgrading a read transaction, which fails at once when another writer got there first.
pub(super) const BEGIN_SQLITE: &str = "BEGIN IMMEDIATE";

/// Compare-and-swap on `version`: no row comes back when another writer won.
pub(super) const UPDATE_TASK: &str = "\
    UPDATE a2a_tasks \
    SET context_id = $1, state = $2, status_ts = $3, task = $4, updated_at = $5, \
        version = version + 1, last_seq = last_seq + $6, runner = $11, lease_until = $12 \
    WHERE id = $7 AND tenant = $8 AND owner = $9 AND version = $10 \
    RETURNING last_seq, push_configs";

/// Binds `$1`..`$12` of [`UPDATE_TASK`], in its order; PostgreSQL's one-statement commit
/// embeds the same `UPDATE` and binds it the same way.
macro_rules! bind_task_update {
    ($query:expr, $scope:expr, $id:expr, $expected_version:expr, $task:expr, $events:expr,
     $now:expr, $runner:expr, $lease_until:expr) => {
        $query
            .bind(&$task.context_id)
            .bind($task.status.state.v1_name())
            .bind($task.status.timestamp.timestamp_millis())
            .bind($crate::store::sql::JsonText($task))
            .bind($now)
            .bind($crate::store::sql::to_i64($events.len()))
            .bind($id)
            .bind(&$scope.tenant)
            .bind(&$scope.owner)
            .bind($crate::store::sql::to_i64($expected_version))
            .bind($runner)
            .bind($lease_until)
    };
}
pub(super) use bind_task_update;

/// A JSON document bound as its text. PostgreSQL gets a `json` parameter for its `json`
/// columns (migration 0005): `json` keeps the text as written, so every valid JSON string
/// is stored, `"\u0000"` included, which `jsonb` refuses (and parsing into `jsonb` cost
/// more than checking `json`). SQLite gets TEXT, as `sqlx::types::Json` binds it. Reads
/// decode with `sqlx::types::Json`, which accepts `json` columns.
pub(crate) struct JsonText<T>(pub T);

/// The OID of PostgreSQL's `json` type (fixed in `pg_type`), so binding needs no lookup.
const PG_JSON: sqlx::postgres::types::Oid = sqlx::postgres::types::Oid(114);

impl<T> sqlx::Type<sqlx::Postgres> for JsonText<T> {
    fn type_info() -> sqlx::postgres::PgTypeInfo {
        sqlx::postgres::PgTypeInfo::with_oid(PG_JSON)
    }
}

impl<T: serde::Serialize> sqlx::Encode<'_, sqlx::Postgres> for JsonText<T> {
    fn encode_by_ref(
        &self,
        buf: &mut <sqlx::Postgres as sqlx::Database>::ArgumentBuffer,
    ) -> Result<sqlx::encode::IsNull, sqlx::error::BoxDynError> {
        // `json`'s binary format is its text.
        serde_json::to_writer(&mut **buf, &self.0)?;
        Ok(sqlx::encode::IsNull::No)
    }
}

impl<T> sqlx::Type<sqlx::Sqlite> for JsonText<T> {
    fn type_info() -> sqlx::sqlite::SqliteTypeInfo {
        <&str as sqlx::Type<sqlx::Sqlite>>::type_info()
    }
}

impl<T: serde::Serialize> sqlx::Encode<'_, sqlx::Sqlite> for JsonText<T> {
    fn encode_by_ref(
        &self,
        buf: &mut <sqlx::Sqlite as sqlx::Database>::ArgumentBuffer,
    ) -> Result<sqlx::encode::IsNull, sqlx::error::BoxDynError> {
        sqlx::Encode::<sqlx::Sqlite>::encode(serde_json::to_string(&self.0)?, buf)
    }
}

pub(super) const TASK_EXISTS: &str =
    "SELECT 1 FROM a2a_tasks WHERE id = $1 AND tenant = $2 AND owner = $3";

pub(super) const INSERT_EVENT: &str =
    "INSERT INTO a2a_task_events (task_id, seq, event, created_at) VALUES ($1, $2, $3, $4)";

/// The first message wins: a retried message keeps pointing at its first task.
pub(super) const INSERT_MESSAGE_ID: &str = "\
    INSERT INTO a2a_message_ids (tenant, owner, message_id, task_id) VALUES ($1, $2, $3, $4) \
    ON CONFLICT (tenant, owner, message_id) DO NOTHING";

pub(super) const GET_TASK: &str = "\
    SELECT task, version, last_seq, origin FROM a2a_tasks \
    WHERE id = $1 AND tenant = $2 AND owner = $3";

/// One row with NULLs when the task exists without later events, none when it does not
/// exist (in this scope): existence and events in one statement.
pub(super) const EVENTS_AFTER: &str = "\
    SELECT e.seq, e.event FROM a2a_tasks t \
    LEFT JOIN a2a_task_events e ON e.task_id = t.id AND e.seq > $4 \
    WHERE t.id = $1 AND t.tenant = $2 AND t.owner = $3 \
    ORDER BY e.seq";

/// One message id to look up: `[tenant, owner, messageId]` in JSON.
#[derive(serde::Serialize)]
pub(crate) struct MessageLookup(pub(super) String, pub(super) String, pub(super) String);

/// Message-id lookups waiting to share a statement (see `batch`).
pub(crate) type MessageLookups = super::batch::Batcher<MessageLookup, Option<String>>;

/// Lookups running at once; each holds a pooled connection while it runs.
pub(super) const LOOKUP_RUNNERS: usize = 2;

/// Answers a batch of lookups from the rows `(tenant, owner, messageId, taskId)` found.
pub(super) fn match_lookups(
    jobs: &[MessageLookup],
    rows: Vec<(String, String, String, String)>,
) -> Vec<Option<String>> {
    let found: std::collections::HashMap<(String, String, String), String> = rows
        .into_iter()
        .map(|(tenant, owner, message_id, task_id)| ((tenant, owner, message_id), task_id))
        .collect();
    // `get`, not `remove`: two retries of one message in a batch both find its task.
    jobs.iter()
        .map(|MessageLookup(t, o, m)| found.get(&(t.clone(), o.clone(), m.clone())).cloned())
        .collect()
}

pub(super) const HEARTBEAT: &str = "UPDATE a2a_tasks SET lease_until = $1 WHERE runner = $2";

/// Lapsed leases (`$1` now, `$2` limit), cleared and returned as (tenant, owner, id).
/// PostgreSQL skips rows another process is taking, so several servers share the work.
pub(super) const TAKE_EXPIRED_RUNS_POSTGRES: &str = "\
    WITH lapsed AS ( \
        SELECT id FROM a2a_tasks WHERE runner IS NOT NULL AND lease_until < $1 \
        ORDER BY lease_until LIMIT $2 FOR UPDATE SKIP LOCKED) \
    UPDATE a2a_tasks t SET runner = NULL, lease_until = NULL FROM lapsed l WHERE t.id = l.id \
    RETURNING t.tenant, t.owner, t.id";

/// SQLite has one writer at a time, so the update is atomic as it stands.
pub(super) const TAKE_EXPIRED_RUNS_SQLITE: &str = "\
    UPDATE a2a_tasks SET runner = NULL, lease_until = NULL WHERE id IN ( \
        SELECT id FROM a2a_tasks WHERE runner IS NOT NULL AND lease_until < $1 \
        ORDER BY lease_until LIMIT $2) \
    RETURNING tenant, owner, id";

/// `(runner, lease_until)` to store with a task: a lease only while the task is active.
pub(super) fn lease_columns(
    task: &crate::protocol::Task,
    lease: Option<super::Lease<'_>>,
) -> (Option<String>, Option<i64>) {
    match lease {
        Some(l) if super::holds_lease(task.status.state) => {
            (Some(l.runner.to_string()), Some(l.until))
        }
        _ => (None, None),
    }
}

/// The states `purge_terminal` deletes, as stored in `a2a_tasks.state`.
pub(super) fn terminal_states() -> impl Iterator<Item = &'static str> {
    TaskState::ALL
        .into_iter()
        .filter(|s| s.is_terminal())
        .map(TaskState::v1_name)
}

pub(super) fn parse_origin(s: &str) -> Result<Version, StoreError> {
    [Version::V1, Version::V03, Version::V01]
        .into_iter()
        .find(|v| v.as_str() == s)
        .ok_or_else(|| StoreError::Backend(format!("unknown task origin `{s}` in the store")))
}

pub(super) fn backend(e: sqlx::Error) -> StoreError {
    if unreachable(&e) {
        StoreError::Unavailable(e.to_string())
    } else {
        StoreError::Backend(e.to_string())
    }
}

/// Whether `e` says the database cannot be reached now rather than that it refused the
/// statement: the connection failed or dropped, the pool had none to give, the server is
/// shutting down or out of connections (PostgreSQL classes 08, 57P01-03, 53300), or the
/// SQLite file stayed locked past the busy timeout.
fn unreachable(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Io(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(d) => {
            if let Some(pg) = d.try_downcast_ref::<sqlx::postgres::PgDatabaseError>() {
                let code = pg.code();
                code.starts_with("08") || matches!(code, "57P01" | "57P02" | "57P03" | "53300")
            } else if d.try_downcast_ref::<sqlx::sqlite::SqliteError>().is_some() {
                // Extended result codes keep the primary code in the low byte.
                let primary = d
                    .code()
                    .and_then(|c| c.parse::<i32>().ok())
                    .map(|c| c & 0xff);
                matches!(primary, Some(5 | 6)) // SQLITE_BUSY, SQLITE_LOCKED
            } else {
                false
            }
        }
        _ => false,
    }
}

/// Counts and sequence numbers are `u64` in the API, `BIGINT` in the database.
pub(super) fn to_i64(n: impl TryInto<i64>) -> i64 {
    n.try_into().unwrap_or(i64::MAX)
}

pub(super) fn to_u64(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

pub(super) use super::now_millis;

/// The smallest stored `status_ts` (whole milliseconds) at or after `after`: the filter
/// `status_ts >= min_status_ts(after)` keeps exactly the tasks whose (millisecond)
/// timestamp is `>= after`, as the memory store compares them.
pub(super) fn min_status_ts(after: DateTime<Utc>) -> i64 {
    let ms = after.timestamp_millis();
    if after.timestamp_subsec_nanos().is_multiple_of(1_000_000) {
        ms
    } else {
        ms.saturating_add(1)
    }
}

pub(super) use task_store::sql_task_store;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn min_status_ts_rounds_up_sub_milliseconds() {
        let t = DateTime::from_timestamp_millis(1_700_000_000_123).unwrap();
        assert_eq!(min_status_ts(t), 1_700_000_000_123);
        let t = t + chrono::Duration::microseconds(1);
        assert_eq!(min_status_ts(t), 1_700_000_000_124);
    }

    #[test]
    fn lookups_of_one_message_in_a_batch_all_find_its_task() {
        let key = || MessageLookup("t".into(), "o".into(), "m1".into());
        let jobs = [
            key(),
            MessageLookup("t".into(), "o".into(), "m2".into()),
            key(),
        ];
        let rows = vec![("t".into(), "o".into(), "m1".into(), "task-1".into())];
        assert_eq!(
            match_lookups(&jobs, rows),
            [Some("task-1".to_string()), None, Some("task-1".to_string())]
        );
    }

    #[test]
    fn a_database_out_of_reach_is_unavailable_and_a_refusal_is_not() {
        let refused = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
        for e in [
            sqlx::Error::Io(refused),
            sqlx::Error::PoolTimedOut,
            sqlx::Error::PoolClosed,
        ] {
            assert!(matches!(backend(e), StoreError::Unavailable(_)));
        }
        let e = sqlx::Error::Protocol("unexpected message".into());
        assert!(matches!(backend(e), StoreError::Backend(_)));
    }

    #[test]
    fn origins_round_trip() {
        for v in [Version::V1, Version::V03, Version::V01] {
            assert_eq!(parse_origin(v.as_str()).unwrap(), v);
        }
        assert!(parse_origin("9.9").is_err());
    }
}

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

/// Compare-and-swap on `version`: no row comes back when another writer won. The row
/// gets the task's head (`$4`) and the count of messages the events add (`$13`); the
/// history and artifacts stay in the events (see `parts`).
pub(super) const UPDATE_TASK: &str = "\
    UPDATE a2a_tasks \
    SET context_id = $1, state = $2, status_ts = $3, task = $4, updated_at = $5, \
        version = version + 1, last_seq = last_seq + $6, runner = $11, lease_until = $12, \
        messages = messages + $13 \
    WHERE id = $7 AND tenant = $8 AND owner = $9 AND version = $10 \
    RETURNING last_seq, push_configs, messages";

/// Binds `$1`..`$13` of [`UPDATE_TASK`], in its order; PostgreSQL's one-statement commit
/// embeds the same `UPDATE` and binds it the same way. `$added`: the messages the events
/// add to the history.
macro_rules! bind_task_update {
    ($query:expr, $scope:expr, $id:expr, $expected_version:expr, $task:expr, $events:expr,
     $now:expr, $runner:expr, $lease_until:expr, $added:expr) => {
        $query
            .bind(&$task.context_id)
            .bind($task.status.state.v1_name())
            .bind($task.status.timestamp.timestamp_millis())
            .bind($crate::store::sql::JsonText($crate::store::head($task)))
            .bind($now)
            .bind($crate::store::sql::to_i64($events.len()))
            .bind($id)
            .bind(&$scope.tenant)
            .bind(&$scope.owner)
            .bind($crate::store::sql::to_i64($expected_version))
            .bind($runner)
            .bind($lease_until)
            .bind($crate::store::sql::to_i64($added))
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

/// How `list` keeps its page query on the index that returns the page in order.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum ListPlan {
    /// PostgreSQL: the statements that open a transaction whose planner avoids sorts
    /// and table scans (the index scan is then the only plan left). JIT goes off with
    /// them: the penalty costs of disabled plans (the sort of the parts query still
    /// runs) pass every JIT threshold, and compiling took 38 ms per task listed.
    IndexOnly(&'static str),
    /// SQLite: `INDEXED BY` names the index.
    IndexedBy,
}

pub(super) const LIST_PLAN_POSTGRES: ListPlan = ListPlan::IndexOnly(
    "BEGIN READ ONLY; SET LOCAL enable_sort = off; SET LOCAL enable_seqscan = off; \
     SET LOCAL enable_bitmapscan = off; SET LOCAL jit = off",
);

/// The index whose order is the page's, for the query's equality filters.
pub(super) fn list_index(q: &crate::protocol::request::ListTasksQuery) -> &'static str {
    if q.context_id.is_some() {
        "a2a_tasks_context"
    } else if q.state.is_some() {
        "a2a_tasks_list_state"
    } else {
        "a2a_tasks_list"
    }
}

pub(super) const TASK_EXISTS: &str =
    "SELECT 1 FROM a2a_tasks WHERE id = $1 AND tenant = $2 AND owner = $3";

/// An event with its marks (`$5` msgs, `$6` artifact; see `parts::EventMarks`).
pub(super) const INSERT_EVENT: &str = "\
    INSERT INTO a2a_task_events (task_id, seq, event, created_at, msgs, artifact) \
    VALUES ($1, $2, $3, $4, $5, $6)";

/// Records an idempotency key (`$1`..`$10`, see [`bind_key`]). A live record of the key
/// stays (the first answer wins); an expired one is replaced.
pub(super) const UPSERT_KEY: &str = "\
    INSERT INTO a2a_idempotency_keys (tenant, owner, agent, key, fingerprint, task_id, \
                                      after_seq, reply, created_at, expires_at) \
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
    ON CONFLICT (tenant, owner, agent, key) DO UPDATE SET \
        fingerprint = excluded.fingerprint, task_id = excluded.task_id, \
        after_seq = excluded.after_seq, reply = excluded.reply, \
        created_at = excluded.created_at, expires_at = excluded.expires_at \
    WHERE a2a_idempotency_keys.expires_at <= excluded.created_at";

/// Binds `$1`..`$10` of [`UPSERT_KEY`].
macro_rules! bind_key {
    ($query:expr, $scope:expr, $key:expr) => {{
        let (task_id, after_seq, reply) = $key.answer.columns();
        $query
            .bind(&$scope.tenant)
            .bind(&$scope.owner)
            .bind(&$key.agent)
            .bind(&$key.key)
            .bind(&$key.fingerprint)
            .bind(task_id)
            .bind(after_seq)
            .bind(reply)
            .bind($key.created_at)
            .bind($key.expires_at)
    }};
}
pub(super) use bind_key;

/// Deletes up to `$2` keys expired at `$1`: in batches, so SQLite's one writer is not held
/// for a whole day of keys at once.
pub(super) const PURGE_KEYS: &str = "\
    DELETE FROM a2a_idempotency_keys WHERE (tenant, owner, agent, key) IN ( \
        SELECT tenant, owner, agent, key FROM a2a_idempotency_keys \
        WHERE expires_at <= $1 LIMIT $2)";

/// Keys deleted per purge statement.
pub(super) const PURGE_KEYS_BATCH: i64 = 1000;

pub(super) const GET_TASK: &str = "\
    SELECT task, version, last_seq, origin, messages FROM a2a_tasks \
    WHERE id = $1 AND tenant = $2 AND owner = $3";

/// A task read from its row, whose history and artifacts are still to be rebuilt.
pub(super) struct HeadRow {
    pub task: crate::protocol::Task,
    pub last_seq: i64,
    pub messages: i64,
}

/// The statement that reads the events rebuilding `heads` as `view` keeps them (one
/// `SELECT` per task and part, each a range of a partial index, joined by `UNION ALL`):
/// rows of `(task_id, seq, msgs, event)`, `msgs` NULL on the rows read for artifacts, in
/// no order ([`rebuild`] sorts them). `None` when the view needs no events. Events after
/// the row's `last_seq` (committed since the row was read) are left out.
///
/// Each part must be read along its partial index, or a read costs the task's whole log:
/// the primary key `(task_id, seq)` also serves `seq <= last_seq`, and SQLite took it
/// (and with an `ORDER BY`, PostgreSQL could too), which made a follow-up's cost grow
/// with the conversation. So `seq + 0` (no index serves it), no `ORDER BY`, and on SQLite
/// (`indexed_by`) the indexes named.
pub(super) fn parts_query<DB: sqlx::Database>(
    heads: &[HeadRow],
    view: super::TaskView,
    indexed_by: bool,
) -> Option<sqlx::QueryBuilder<DB>>
where
    for<'t> i64: sqlx::Encode<'t, DB> + sqlx::Type<DB>,
    for<'t> String: sqlx::Encode<'t, DB> + sqlx::Type<DB>,
{
    let mut qb = sqlx::QueryBuilder::<DB>::new("");
    let mut any = false;
    let mut union = |qb: &mut sqlx::QueryBuilder<DB>| {
        if std::mem::replace(&mut any, true) {
            qb.push(" UNION ALL ");
        }
    };
    for h in heads {
        let id = h.task.id.to_string();
        if let Some(after) = view.history_after(to_u64(h.messages)) {
            union(&mut qb);
            qb.push("SELECT task_id, seq, msgs, event FROM a2a_task_events")
                .push(if indexed_by {
                    " INDEXED BY a2a_task_events_messages"
                } else {
                    ""
                })
                .push(" WHERE task_id = ")
                .push_bind(id.clone())
                .push(" AND msgs > ")
                .push_bind(to_i64(after))
                .push(" AND seq + 0 <= ")
                .push_bind(h.last_seq);
        }
        if view.artifacts {
            union(&mut qb);
            qb.push("SELECT task_id, seq, CAST(NULL AS BIGINT), event FROM a2a_task_events")
                .push(if indexed_by {
                    " INDEXED BY a2a_task_events_artifacts"
                } else {
                    ""
                })
                .push(" WHERE artifact IS NOT NULL AND task_id = ")
                .push_bind(id)
                .push(" AND seq + 0 <= ")
                .push_bind(h.last_seq);
        }
    }
    any.then_some(qb)
}

/// A row of [`parts_query`].
pub(super) type PartsRow = (
    String,
    i64,
    Option<i64>,
    sqlx::types::Json<crate::protocol::TaskEvent>,
);

/// Rebuilds each of `heads` from the rows of its [`parts_query`].
pub(super) fn rebuild(
    heads: Vec<HeadRow>,
    view: super::TaskView,
    mut rows: Vec<PartsRow>,
) -> Vec<crate::protocol::Task> {
    // Stable: an event read for both parts keeps its history row first, as the parts
    // were read.
    rows.sort_by(|a, b| (&a.0, a.1).cmp(&(&b.0, b.1)));
    let mut by_task: std::collections::HashMap<String, Vec<super::parts::PartRow>> =
        std::collections::HashMap::new();
    for (task_id, _, msgs, event) in rows {
        by_task
            .entry(task_id)
            .or_default()
            .push(super::parts::PartRow {
                msgs,
                event: event.0,
            });
    }
    heads
        .into_iter()
        .map(|h| {
            let mut task = h.task;
            task.history.clear();
            task.artifacts.clear();
            let after = view.history_after(to_u64(h.messages)).unwrap_or(0);
            let rows = by_task.remove(&*task.id).unwrap_or_default();
            super::parts::rebuild(&mut task, after, rows);
            task
        })
        .collect()
}

/// One row with NULLs when the task exists without later events, none when it does not
/// exist (in this scope): existence and events in one statement.
pub(super) const EVENTS_AFTER: &str = "\
    SELECT e.seq, e.event FROM a2a_tasks t \
    LEFT JOIN a2a_task_events e ON e.task_id = t.id AND e.seq > $4 \
    WHERE t.id = $1 AND t.tenant = $2 AND t.owner = $3 \
    ORDER BY e.seq";

/// One idempotency key to look up, and the time its record must outlive.
pub(crate) struct KeyLookup {
    pub(super) tenant: String,
    pub(super) owner: String,
    pub(super) agent: String,
    pub(super) key: String,
    pub(super) now: i64,
}

/// Key lookups waiting to share a statement (see `batch`).
pub(crate) type KeyLookups = super::batch::Batcher<KeyLookup, Option<super::KeyRecord>>;

/// Lookups running at once; each holds a pooled connection while it runs.
pub(super) const LOOKUP_RUNNERS: usize = 2;

/// A row of the lookup statements: `(tenant, owner, agent, key, fingerprint, task_id,
/// after_seq, reply, created_at, expires_at)`.
pub(super) type KeyRow = (
    String,
    String,
    String,
    String,
    String,
    Option<String>,
    i64,
    Option<String>,
    i64,
    i64,
);

/// `$1` of the lookup statements: `[[tenant, owner, agent, key], ...]` in JSON.
pub(super) fn lookup_param(jobs: &[KeyLookup]) -> String {
    let keys: Vec<[&str; 4]> = jobs
        .iter()
        .map(|j| [&*j.tenant, &*j.owner, &*j.agent, &*j.key])
        .collect();
    serde_json::to_string(&keys).expect("strings serialize")
}

/// Answers a batch of lookups from the rows found; a record that expired is none.
pub(super) fn match_lookups(
    jobs: &[KeyLookup],
    rows: Vec<KeyRow>,
) -> Result<Vec<Option<super::KeyRecord>>, StoreError> {
    type Id = (String, String, String, String);
    let mut found: std::collections::HashMap<Id, super::KeyRecord> =
        std::collections::HashMap::with_capacity(rows.len());
    for (tenant, owner, agent, key, fingerprint, task_id, after_seq, reply, created, expires) in
        rows
    {
        let answer = super::KeyAnswer::from_columns(task_id, after_seq, reply.as_deref())?;
        let record = super::KeyRecord {
            agent: agent.clone(),
            key: key.clone(),
            fingerprint,
            answer,
            created_at: created,
            expires_at: expires,
        };
        found.insert((tenant, owner, agent, key), record);
    }
    // `get`, not `remove`: two retries of one key in a batch both find its record.
    Ok(jobs
        .iter()
        .map(|j| {
            let id = (
                j.tenant.clone(),
                j.owner.clone(),
                j.agent.clone(),
                j.key.clone(),
            );
            found.get(&id).filter(|r| r.expires_at > j.now).cloned()
        })
        .collect())
}

pub(super) const HEARTBEAT: &str = "UPDATE a2a_tasks SET lease_until = $1 WHERE runner = $2";

/// A lease ending at the epoch has lapsed for every clock; the runner stays, so recovery
/// (which looks for lapsed leases) finds the run.
pub(super) const RELEASE_LEASES: &str =
    "UPDATE a2a_tasks SET lease_until = 0 WHERE runner = $1 AND lease_until > 0";

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
    fn lookups_of_one_key_in_a_batch_all_find_it_unless_expired() {
        let job = |key: &str, now| KeyLookup {
            tenant: "t".into(),
            owner: "o".into(),
            agent: "a".into(),
            key: key.into(),
            now,
        };
        let jobs = [job("k1", 10), job("k2", 10), job("k1", 10), job("k1", 100)];
        let row = |key: &str| -> KeyRow {
            let (t, o, a) = ("t".into(), "o".into(), "a".into());
            (
                t,
                o,
                a,
                key.into(),
                "f".into(),
                Some("task-1".into()),
                0,
                None,
                0,
                50,
            )
        };
        let found = match_lookups(&jobs, vec![row("k1")]).unwrap();
        let task = |r: &Option<crate::store::KeyRecord>| r.as_ref().map(|r| r.answer.clone());
        let t1 = Some(crate::store::KeyAnswer::Task {
            task_id: "task-1".into(),
            after_seq: 0,
        });
        assert_eq!(
            found.iter().map(task).collect::<Vec<_>>(),
            [t1.clone(), None, t1, None]
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

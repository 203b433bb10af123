//! What the SQL backends (PostgreSQL, SQLite) share: the statements, the value
//! conversions, and the one `TaskStore` implementation, which [`sql_task_store!`] expands
//! for each backend's pool type.
//!
//! The statements are the same text for both dialects (`$n` placeholders work on SQLite
//! too); the dialect-specific ones (how a writing transaction begins, how expired runs
//! are taken) are passed to the macro. A macro rather than an impl generic over
//! `sqlx::Database`: sqlx's higher-ranked executor bounds do not survive `async_trait`'s
//! boxing in generic code.

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
            .bind(sqlx::types::Json($task))
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
    StoreError::Backend(e.to_string())
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

/// The `TaskStore` implementation of a SQL backend: `$store` is a struct with a
/// `pool: sqlx::Pool<$db>` field; `begin` starts a writing transaction, `migrator` is the
/// backend's schema, `take_expired` the statement of `take_expired_runs`.
macro_rules! sql_task_store {
    (
        $store:ty,
        $db:ty,
        begin = $begin:expr,
        migrator = $migrator:expr,
        take_expired = $take_expired:expr,
        lookup = $lookup:expr,
        writers = $writers:expr
    ) => {
        impl $store {
            /// The schema migrations of this backend.
            pub fn migrator() -> &'static sqlx::migrate::Migrator {
                &$migrator
            }

            pub fn pool(&self) -> &sqlx::Pool<$db> {
                &self.pool
            }

            /// Appends `events` after sequence number `after` and records their user
            /// message ids, inside the caller's transaction.
            async fn append(
                conn: &mut <$db as sqlx::Database>::Connection,
                scope: &$crate::store::Scope,
                task_id: &str,
                seqd: &[std::sync::Arc<$crate::protocol::SequencedEvent>],
                now: i64,
            ) -> Result<(), $crate::store::StoreError> {
                use $crate::store::sql::{INSERT_EVENT, INSERT_MESSAGE_ID, backend, to_i64};
                for e in seqd {
                    sqlx::query(INSERT_EVENT)
                        .bind(task_id)
                        .bind(to_i64(e.seq))
                        .bind(sqlx::types::Json(&e.event))
                        .bind(now)
                        .execute(&mut *conn)
                        .await
                        .map_err(backend)?;
                }
                for message_id in seqd
                    .iter()
                    .flat_map(|e| $crate::store::user_message_ids(&e.event))
                {
                    sqlx::query(INSERT_MESSAGE_ID)
                        .bind(&scope.tenant)
                        .bind(&scope.owner)
                        .bind(message_id)
                        .bind(task_id)
                        .execute(&mut *conn)
                        .await
                        .map_err(backend)?;
                }
                Ok(())
            }

            /// ` WHERE ...` of `list`: the scope and the query's filters, not the page.
            fn push_list_filters(
                qb: &mut sqlx::QueryBuilder<$db>,
                scope: &$crate::store::Scope,
                q: &$crate::protocol::request::ListTasksQuery,
            ) {
                qb.push(" WHERE tenant = ").push_bind(scope.tenant.clone());
                qb.push(" AND owner = ").push_bind(scope.owner.clone());
                if let Some(context_id) = &q.context_id {
                    qb.push(" AND context_id = ").push_bind(context_id.clone());
                }
                if let Some(state) = q.state {
                    qb.push(" AND state = ").push_bind(state.v1_name());
                }
                if let Some(after) = q.status_timestamp_after {
                    qb.push(" AND status_ts >= ")
                        .push_bind($crate::store::sql::min_status_ts(after));
                }
            }
        }

        #[async_trait::async_trait]
        impl $crate::store::TaskStore for $store {
            async fn create(
                &self,
                scope: &$crate::store::Scope,
                origin: $crate::protocol::Version,
                task: $crate::protocol::Task,
                events: Vec<$crate::protocol::TaskEvent>,
                push: &[$crate::protocol::PushConfig],
                lease: Option<$crate::store::Lease<'_>>,
            ) -> Result<
                Vec<std::sync::Arc<$crate::protocol::SequencedEvent>>,
                $crate::store::StoreError,
            > {
                use $crate::store::batch::RunBatch;
                use $crate::store::group_commit::{self, CreateJob};
                let (job, seqd) = CreateJob::new(scope, origin, task, events, push, lease)?;
                let write = || -> RunBatch<CreateJob, bool> {
                    let pool = self.writer.clone();
                    let signal = self.outbox_signal.clone();
                    std::sync::Arc::new(move |jobs: Vec<CreateJob>| {
                        let pool = pool.clone();
                        let signal = signal.clone();
                        Box::pin(async move {
                            let result = Self::write_batch(&pool, &jobs).await;
                            if result.is_ok() && jobs.iter().any(|j| j.push.is_some()) {
                                signal.notify_one();
                            }
                            (jobs, result)
                        })
                    })
                };
                group_commit::create(&self.group, job, $writers, write).await?;
                Ok(seqd)
            }

            async fn get(
                &self,
                scope: &$crate::store::Scope,
                id: &str,
            ) -> Result<Option<$crate::store::TaskRecord>, $crate::store::StoreError> {
                use $crate::store::sql::{GET_TASK, backend, parse_origin, to_u64};
                type Row = (sqlx::types::Json<$crate::protocol::Task>, i64, i64, String);
                let row: Option<Row> = sqlx::query_as(GET_TASK)
                    .bind(id)
                    .bind(&scope.tenant)
                    .bind(&scope.owner)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(backend)?;
                row.map(|(task, version, last_seq, origin)| {
                    Ok($crate::store::TaskRecord {
                        task: task.0,
                        version: to_u64(version),
                        last_seq: to_u64(last_seq),
                        origin: parse_origin(&origin)?,
                    })
                })
                .transpose()
            }

            async fn commit(
                &self,
                scope: &$crate::store::Scope,
                id: &str,
                expected_version: u64,
                task: $crate::protocol::Task,
                events: Vec<$crate::protocol::TaskEvent>,
                lease: Option<$crate::store::Lease<'_>>,
            ) -> Result<
                Vec<std::sync::Arc<$crate::protocol::SequencedEvent>>,
                $crate::store::StoreError,
            > {
                use $crate::store::StoreError;
                use $crate::store::sql::{
                    TASK_EXISTS, UPDATE_TASK, backend, bind_task_update, lease_columns, now_millis,
                    to_u64,
                };
                let now = now_millis();
                let (runner, lease_until) = lease_columns(&task, lease);
                if let Some(after) = self
                    .commit_in_one(
                        scope,
                        id,
                        expected_version,
                        &task,
                        &events,
                        (runner.as_deref(), lease_until),
                        now,
                    )
                    .await?
                {
                    return Ok($crate::store::sequence(events, after));
                }
                let mut tx = self.writer.begin_with($begin).await.map_err(backend)?;
                let updated: Option<(i64, i64)> = bind_task_update!(
                    sqlx::query_as(UPDATE_TASK),
                    scope,
                    id,
                    expected_version,
                    &task,
                    &events,
                    now,
                    runner,
                    lease_until
                )
                .fetch_optional(&mut *tx)
                .await
                .map_err(backend)?;
                let Some((last_seq, push_configs)) = updated else {
                    // Dropping `tx` rolls back (nothing was written).
                    let exists = sqlx::query(TASK_EXISTS)
                        .bind(id)
                        .bind(&scope.tenant)
                        .bind(&scope.owner)
                        .fetch_optional(&mut *tx)
                        .await
                        .map_err(backend)?
                        .is_some();
                    return Err(if exists {
                        StoreError::Conflict
                    } else {
                        StoreError::NotFound
                    });
                };
                let after = to_u64(last_seq) - events.len() as u64;
                let seqd = $crate::store::sequence(events, after);
                Self::append(&mut tx, scope, id, &seqd, now).await?;
                if push_configs > 0 {
                    Self::enqueue(&mut tx, &task, &seqd, now).await?;
                }
                tx.commit().await.map_err(backend)?;
                if push_configs > 0 {
                    self.outbox_signal.notify_one();
                }
                Ok(seqd)
            }

            async fn events_after(
                &self,
                scope: &$crate::store::Scope,
                id: &str,
                after: u64,
            ) -> Result<
                Vec<std::sync::Arc<$crate::protocol::SequencedEvent>>,
                $crate::store::StoreError,
            > {
                use $crate::store::sql::{EVENTS_AFTER, backend, to_i64, to_u64};
                type Row = (
                    Option<i64>,
                    Option<sqlx::types::Json<$crate::protocol::TaskEvent>>,
                );
                let rows: Vec<Row> = sqlx::query_as(EVENTS_AFTER)
                    .bind(id)
                    .bind(&scope.tenant)
                    .bind(&scope.owner)
                    .bind(to_i64(after))
                    .fetch_all(&self.pool)
                    .await
                    .map_err(backend)?;
                if rows.is_empty() {
                    return Err($crate::store::StoreError::NotFound);
                }
                Ok(rows
                    .into_iter()
                    .filter_map(|(seq, event)| {
                        Some(std::sync::Arc::new($crate::protocol::SequencedEvent {
                            seq: to_u64(seq?),
                            event: event?.0,
                        }))
                    })
                    .collect())
            }

            async fn list(
                &self,
                scope: &$crate::store::Scope,
                q: &$crate::protocol::request::ListTasksQuery,
            ) -> Result<$crate::protocol::request::TaskPage, $crate::store::StoreError> {
                use $crate::store::cursor;
                use $crate::store::sql::{backend, to_i64, to_u64};

                let mut count = sqlx::QueryBuilder::<$db>::new("SELECT COUNT(*) FROM a2a_tasks");
                Self::push_list_filters(&mut count, scope, q);
                let total_size: i64 = count
                    .build_query_scalar()
                    .fetch_one(&self.pool)
                    .await
                    .map_err(backend)?;

                let mut page = sqlx::QueryBuilder::<$db>::new("SELECT task FROM a2a_tasks");
                Self::push_list_filters(&mut page, scope, q);
                if let Some((ts, id)) = q.page_token.as_deref().and_then(cursor::decode) {
                    page.push(" AND (status_ts, id) < (")
                        .push_bind(ts)
                        .push(", ")
                        .push_bind(id)
                        .push(")");
                }
                // One row more than the page tells whether another page follows.
                page.push(" ORDER BY status_ts DESC, id DESC LIMIT ")
                    .push_bind(to_i64(q.page_size.saturating_add(1)));
                let rows: Vec<(sqlx::types::Json<$crate::protocol::Task>,)> = page
                    .build_query_as()
                    .fetch_all(&self.pool)
                    .await
                    .map_err(backend)?;
                let more = rows.len() > q.page_size;
                let tasks: Vec<$crate::protocol::Task> =
                    rows.into_iter().take(q.page_size).map(|(t,)| t.0).collect();
                let next_page_token = match tasks.last() {
                    Some(last) if more => {
                        cursor::encode(last.status.timestamp.timestamp_millis(), &last.id)
                    }
                    _ => String::new(),
                };
                Ok($crate::protocol::request::TaskPage {
                    tasks,
                    next_page_token,
                    total_size: to_u64(total_size) as usize,
                })
            }

            /// Lookups waiting together go to the database as one statement: one
            /// round trip and one executor run for many sends.
            async fn task_for_message(
                &self,
                scope: &$crate::store::Scope,
                message_id: &str,
            ) -> Result<Option<String>, $crate::store::StoreError> {
                use $crate::store::batch::{RunBatch, Runners};
                use $crate::store::sql::{LOOKUP_RUNNERS, MessageLookup, backend, match_lookups};
                let job = MessageLookup(
                    scope.tenant.clone(),
                    scope.owner.clone(),
                    message_id.to_string(),
                );
                let runners = || {
                    let pool = self.pool.clone();
                    let run: RunBatch<MessageLookup, Option<String>> =
                        std::sync::Arc::new(move |jobs: Vec<MessageLookup>| {
                            let pool = pool.clone();
                            Box::pin(async move {
                                let keys = serde_json::to_string(&jobs).expect("strings serialize");
                                let result = sqlx::query_as($lookup)
                                    .bind(keys)
                                    .fetch_all(&pool)
                                    .await
                                    .map(|rows| match_lookups(&jobs, rows))
                                    .map_err(backend);
                                (jobs, result)
                            })
                        });
                    Runners {
                        count: LOOKUP_RUNNERS,
                        run,
                        key: None,
                    }
                };
                self.lookups.submit(job, runners).await
            }

            async fn heartbeat(
                &self,
                runner: &str,
                lease_until: i64,
            ) -> Result<(), $crate::store::StoreError> {
                use $crate::store::sql::{HEARTBEAT, backend};
                sqlx::query(HEARTBEAT)
                    .bind(lease_until)
                    .bind(runner)
                    .execute(&self.writer)
                    .await
                    .map_err(backend)?;
                Ok(())
            }

            async fn take_expired_runs(
                &self,
                now: i64,
                limit: usize,
            ) -> Result<Vec<$crate::store::ExpiredRun>, $crate::store::StoreError> {
                use $crate::store::sql::{backend, to_i64};
                let rows: Vec<(String, String, String)> = sqlx::query_as($take_expired)
                    .bind(now)
                    .bind(to_i64(limit))
                    .fetch_all(&self.writer)
                    .await
                    .map_err(backend)?;
                Ok(rows
                    .into_iter()
                    .map(|(tenant, owner, task_id)| $crate::store::ExpiredRun {
                        scope: $crate::store::Scope { owner, tenant },
                        task_id,
                    })
                    .collect())
            }

            async fn purge_terminal(&self, before: i64) -> Result<u64, $crate::store::StoreError> {
                use $crate::store::sql::{backend, terminal_states};
                let mut qb =
                    sqlx::QueryBuilder::<$db>::new("DELETE FROM a2a_tasks WHERE status_ts < ");
                qb.push_bind(before).push(" AND state IN (");
                let mut states = qb.separated(", ");
                for state in terminal_states() {
                    states.push_bind(state);
                }
                // Undelivered notifications keep their task (and so themselves) alive.
                qb.push(
                    ") AND NOT EXISTS (SELECT 1 FROM a2a_push_outbox o \
                         WHERE o.task_id = a2a_tasks.id AND o.dead_at IS NULL)",
                );
                let done = qb.build().execute(&self.writer).await.map_err(backend)?;
                Ok(done.rows_affected())
            }
        }
    };
}

pub(super) use sql_task_store;

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
    fn origins_round_trip() {
        for v in [Version::V1, Version::V03, Version::V01] {
            assert_eq!(parse_origin(v.as_str()).unwrap(), v);
        }
        assert!(parse_origin("9.9").is_err());
    }
}

//! The SQL of push configs and the delivery outbox, shared by PostgreSQL and SQLite, and
//! the `PushStore` implementation [`sql_push_store!`] expands for each backend.

use super::StoreError;
use super::push::Delivery;
use crate::protocol::{PushAuth, TaskEvent};

/// Upsert by (task, id): the same id again replaces the config.
pub(super) const PUT_CONFIG: &str = "\
    INSERT INTO a2a_push_configs (task_id, id, url, token, authentication, origin, created_at) \
    VALUES ($1, $2, $3, $4, $5, $6, $7) \
    ON CONFLICT (task_id, id) DO UPDATE SET url = excluded.url, token = excluded.token, \
        authentication = excluded.authentication, origin = excluded.origin";

/// Keeps `a2a_tasks.push_configs` (which commits read to skip the outbox) exact.
pub(super) const COUNT_CONFIGS: &str = "\
    UPDATE a2a_tasks SET push_configs = \
        (SELECT COUNT(*) FROM a2a_push_configs WHERE task_id = $1) WHERE id = $1";

pub(super) const GET_CONFIG: &str = "\
    SELECT task_id, id, url, token, authentication, origin FROM a2a_push_configs \
    WHERE task_id = $1 AND id = $2";

pub(super) const LIST_CONFIGS: &str = "\
    SELECT task_id, id, url, token, authentication, origin FROM a2a_push_configs \
    WHERE task_id = $1 AND id > $2 ORDER BY id LIMIT $3";

pub(super) const DELETE_CONFIG: &str =
    "DELETE FROM a2a_push_configs WHERE task_id = $1 AND id = $2";

/// The outbox rows of one event: one per config of the task (`$6`: 0.x configs too, for
/// the commit's last streamed event). 1.0 configs get the event, 0.x ones the task; `$7`
/// is the writer's `traceparent` (NULL when not traced).
pub(super) const ENQUEUE: &str = "\
    INSERT INTO a2a_push_outbox (task_id, config_id, seq, origin, url, token, authentication, \
                                 payload, created_at, next_attempt_at, traceparent) \
    SELECT task_id, id, $2, origin, url, token, authentication, \
           CASE WHEN origin = '1.0' THEN $3 ELSE $4 END, $5, $5, $7 \
    FROM a2a_push_configs WHERE task_id = $1 AND (origin = '1.0' OR $6) \
    ORDER BY id";

pub(super) const DELIVERY_COLUMNS: &str = "id, task_id, config_id, seq, origin, url, token, \
    authentication, payload, attempts, created_at, last_error, dead_at, traceparent";

/// Due rows that head their config's queue (no older live row of the same config), so a
/// webhook receives in order. `{lock}` is `FOR UPDATE SKIP LOCKED` on PostgreSQL, where
/// several processes claim at once.
pub(super) fn claim_sql(lock: &str) -> String {
    format!(
        "UPDATE a2a_push_outbox SET claimed_until = $2, attempts = attempts + 1 \
         WHERE id IN ( \
             SELECT o.id FROM a2a_push_outbox o \
             WHERE o.dead_at IS NULL AND o.next_attempt_at <= $1 \
               AND (o.claimed_until IS NULL OR o.claimed_until < $1) \
               AND NOT EXISTS (SELECT 1 FROM a2a_push_outbox p \
                   WHERE p.task_id = o.task_id AND p.config_id = o.config_id \
                     AND p.dead_at IS NULL AND p.id < o.id) \
             ORDER BY o.next_attempt_at, o.id LIMIT $3 {lock}) \
         RETURNING {DELIVERY_COLUMNS}"
    )
}

/// The head of one config's queue, if due and unclaimed.
pub(super) static CLAIM_NEXT: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    format!(
        "UPDATE a2a_push_outbox SET claimed_until = $4, attempts = attempts + 1 \
         WHERE id = (SELECT MIN(id) FROM a2a_push_outbox \
                     WHERE task_id = $1 AND config_id = $2 AND dead_at IS NULL) \
           AND next_attempt_at <= $3 AND (claimed_until IS NULL OR claimed_until < $3) \
         RETURNING {DELIVERY_COLUMNS}"
    )
});

pub(super) const COMPLETE: &str = "DELETE FROM a2a_push_outbox WHERE id = $1";

pub(super) const RETRY: &str = "\
    UPDATE a2a_push_outbox SET claimed_until = NULL, next_attempt_at = $2, last_error = $3 \
    WHERE id = $1";

pub(super) const DEAD: &str = "\
    UPDATE a2a_push_outbox SET claimed_until = NULL, dead_at = $2, last_error = $3 \
    WHERE id = $1";

pub(super) static DEAD_LETTERS: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    format!(
        "SELECT {DELIVERY_COLUMNS} FROM a2a_push_outbox WHERE dead_at IS NOT NULL \
         ORDER BY dead_at, id LIMIT $1"
    )
});

pub(super) const REQUEUE: &str = "\
    UPDATE a2a_push_outbox SET dead_at = NULL, attempts = 0, next_attempt_at = $1, \
        claimed_until = NULL \
    WHERE dead_at IS NOT NULL AND ($2 IS NULL OR id = $2)";

pub(super) const DEPTH: &str = "\
    SELECT COUNT(*) FILTER (WHERE dead_at IS NULL), COUNT(*) FILTER (WHERE dead_at IS NOT NULL), \
    MIN(created_at) FILTER (WHERE dead_at IS NULL) \
    FROM a2a_push_outbox";

/// A config row: (task_id, id, url, token, authentication, origin).
pub(super) type ConfigRow = (
    String,
    String,
    String,
    Option<String>,
    Option<sqlx::types::Json<PushAuth>>,
    String,
);

pub(super) fn config_from_row(row: ConfigRow) -> Result<crate::protocol::PushConfig, StoreError> {
    let (task_id, id, url, token, authentication, origin) = row;
    Ok(crate::protocol::PushConfig {
        id,
        task_id,
        url,
        token,
        authentication: authentication.map(|a| a.0),
        origin: super::sql::parse_origin(&origin)?,
    })
}

/// An outbox row, in [`DELIVERY_COLUMNS`] order.
pub(super) type DeliveryRow = (
    i64,
    String,
    String,
    i64,
    String,
    String,
    Option<String>,
    Option<sqlx::types::Json<PushAuth>>,
    sqlx::types::Json<TaskEvent>,
    i64,
    i64,
    Option<String>,
    Option<i64>,
    Option<String>,
);

pub(super) fn delivery_from_row(row: DeliveryRow) -> Result<Delivery, StoreError> {
    let (
        id,
        task_id,
        config_id,
        seq,
        origin,
        url,
        token,
        auth,
        payload,
        attempts,
        created_at,
        last_error,
        dead_at,
        traceparent,
    ) = row;
    Ok(Delivery {
        id,
        task_id,
        config_id,
        seq: super::sql::to_u64(seq),
        origin: super::sql::parse_origin(&origin)?,
        url,
        token,
        authentication: auth.map(|a| a.0),
        payload: payload.0,
        attempts: u32::try_from(attempts).unwrap_or(u32::MAX),
        created_at,
        last_error,
        dead_at,
        traceparent,
    })
}

/// The `PushStore` implementation of a SQL backend (`$store` has `pool` and `writer`
/// pools of `$db`); `claim` is the statement of `claim_deliveries`.
macro_rules! sql_push_store {
    ($store:ty, $db:ty, begin = $begin:expr, claim = $claim:expr) => {
        impl $store {
            /// `NotFound` unless the task exists in this scope (inside `conn`'s transaction).
            async fn require_task(
                conn: &mut <$db as sqlx::Database>::Connection,
                scope: &$crate::store::Scope,
                task_id: &str,
            ) -> Result<(), $crate::store::StoreError> {
                use $crate::store::sql::{TASK_EXISTS, backend};
                sqlx::query(TASK_EXISTS)
                    .bind(task_id)
                    .bind(&scope.tenant)
                    .bind(&scope.owner)
                    .fetch_optional(&mut *conn)
                    .await
                    .map_err(backend)?
                    .map(|_| ())
                    .ok_or($crate::store::StoreError::NotFound)
            }

            /// Inserts (or replaces) `configs` and recounts the task's configs.
            async fn insert_configs(
                conn: &mut <$db as sqlx::Database>::Connection,
                task_id: &str,
                configs: &[$crate::protocol::PushConfig],
                now: i64,
            ) -> Result<(), $crate::store::StoreError> {
                use $crate::store::sql::backend;
                use $crate::store::sql_push::{COUNT_CONFIGS, PUT_CONFIG};
                for c in configs {
                    sqlx::query(PUT_CONFIG)
                        .bind(task_id)
                        .bind(&c.id)
                        .bind(&c.url)
                        .bind(&c.token)
                        .bind(c.authentication.as_ref().map($crate::store::sql::JsonText))
                        .bind(c.origin.as_str())
                        .bind(now)
                        .execute(&mut *conn)
                        .await
                        .map_err(backend)?;
                }
                sqlx::query(COUNT_CONFIGS)
                    .bind(task_id)
                    .execute(&mut *conn)
                    .await
                    .map_err(backend)?;
                Ok(())
            }

            /// For each created task among `jobs` that registered webhooks: its configs,
            /// and the notifications of its first events (inside the creating transaction).
            async fn register_webhooks(
                conn: &mut <$db as sqlx::Database>::Connection,
                jobs: &[&$crate::store::group_commit::CreateJob],
                now: i64,
            ) -> Result<(), $crate::store::StoreError> {
                for j in jobs {
                    if let Some(push) = &j.push {
                        Self::insert_configs(&mut *conn, &j.task_id, &push.configs, now).await?;
                        Self::enqueue(
                            &mut *conn,
                            &push.task,
                            &push.events,
                            now,
                            push.traceparent.as_deref(),
                        )
                        .await?;
                    }
                }
                Ok(())
            }

            /// Queues the notifications of `events` to the task's configs.
            async fn enqueue(
                conn: &mut <$db as sqlx::Database>::Connection,
                task: &$crate::protocol::Task,
                events: &[std::sync::Arc<$crate::protocol::SequencedEvent>],
                now: i64,
                traceparent: Option<&str>,
            ) -> Result<(), $crate::store::StoreError> {
                use $crate::store::sql::{backend, to_i64};
                use $crate::store::sql_push::ENQUEUE;
                let snapshot = $crate::protocol::TaskEvent::Task(task.clone());
                for (i, v1_only) in $crate::store::push::outbox_targets(events) {
                    sqlx::query(ENQUEUE)
                        .bind(&task.id)
                        .bind(to_i64(events[i].seq))
                        .bind($crate::store::sql::JsonText(&events[i].event))
                        .bind($crate::store::sql::JsonText(&snapshot))
                        .bind(now)
                        .bind(!v1_only)
                        .bind(traceparent)
                        .execute(&mut *conn)
                        .await
                        .map_err(backend)?;
                }
                Ok(())
            }
        }

        #[async_trait::async_trait]
        impl $crate::store::PushStore for $store {
            async fn put_push_config(
                &self,
                scope: &$crate::store::Scope,
                config: &$crate::protocol::PushConfig,
            ) -> Result<(), $crate::store::StoreError> {
                use $crate::store::sql::{backend, now_millis};
                let mut tx = self.writer.begin_with($begin).await.map_err(backend)?;
                Self::require_task(&mut tx, scope, &config.task_id).await?;
                Self::insert_configs(
                    &mut tx,
                    &config.task_id,
                    std::slice::from_ref(config),
                    now_millis(),
                )
                .await?;
                tx.commit().await.map_err(backend)
            }

            async fn get_push_config(
                &self,
                scope: &$crate::store::Scope,
                task_id: &str,
                id: &str,
            ) -> Result<Option<$crate::protocol::PushConfig>, $crate::store::StoreError> {
                use $crate::store::sql::backend;
                use $crate::store::sql_push::{ConfigRow, GET_CONFIG, config_from_row};
                let mut conn = self.pool.acquire().await.map_err(backend)?;
                Self::require_task(&mut conn, scope, task_id).await?;
                let row: Option<ConfigRow> = sqlx::query_as(GET_CONFIG)
                    .bind(task_id)
                    .bind(id)
                    .fetch_optional(&mut *conn)
                    .await
                    .map_err(backend)?;
                row.map(config_from_row).transpose()
            }

            async fn list_push_configs(
                &self,
                scope: &$crate::store::Scope,
                task_id: &str,
                after: Option<&str>,
                limit: usize,
            ) -> Result<Vec<$crate::protocol::PushConfig>, $crate::store::StoreError> {
                use $crate::store::sql::{backend, to_i64};
                use $crate::store::sql_push::{ConfigRow, LIST_CONFIGS, config_from_row};
                let mut conn = self.pool.acquire().await.map_err(backend)?;
                Self::require_task(&mut conn, scope, task_id).await?;
                let rows: Vec<ConfigRow> = sqlx::query_as(LIST_CONFIGS)
                    .bind(task_id)
                    .bind(after.unwrap_or(""))
                    .bind(to_i64(limit))
                    .fetch_all(&mut *conn)
                    .await
                    .map_err(backend)?;
                rows.into_iter().map(config_from_row).collect()
            }

            async fn delete_push_config(
                &self,
                scope: &$crate::store::Scope,
                task_id: &str,
                id: &str,
            ) -> Result<bool, $crate::store::StoreError> {
                use $crate::store::sql::backend;
                use $crate::store::sql_push::{COUNT_CONFIGS, DELETE_CONFIG};
                let mut tx = self.writer.begin_with($begin).await.map_err(backend)?;
                Self::require_task(&mut tx, scope, task_id).await?;
                let done = sqlx::query(DELETE_CONFIG)
                    .bind(task_id)
                    .bind(id)
                    .execute(&mut *tx)
                    .await
                    .map_err(backend)?;
                sqlx::query(COUNT_CONFIGS)
                    .bind(task_id)
                    .execute(&mut *tx)
                    .await
                    .map_err(backend)?;
                tx.commit().await.map_err(backend)?;
                Ok(done.rows_affected() > 0)
            }

            async fn claim_deliveries(
                &self,
                now: i64,
                claim_until: i64,
                limit: usize,
            ) -> Result<Vec<$crate::store::Delivery>, $crate::store::StoreError> {
                use $crate::store::sql::{backend, to_i64};
                use $crate::store::sql_push::{DeliveryRow, delivery_from_row};
                let sql: &str = &$claim;
                let rows: Vec<DeliveryRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
                    .bind(now)
                    .bind(claim_until)
                    .bind(to_i64(limit))
                    .fetch_all(&self.writer)
                    .await
                    .map_err(backend)?;
                let mut out: Vec<_> = rows
                    .into_iter()
                    .map(delivery_from_row)
                    .collect::<Result<_, _>>()?;
                out.sort_by_key(|d: &$crate::store::Delivery| d.id);
                Ok(out)
            }

            async fn claim_next_delivery(
                &self,
                after: &$crate::store::Delivery,
                now: i64,
                claim_until: i64,
            ) -> Result<Option<$crate::store::Delivery>, $crate::store::StoreError> {
                use $crate::store::sql::backend;
                use $crate::store::sql_push::{CLAIM_NEXT, DeliveryRow, delivery_from_row};
                let sql: &str = &CLAIM_NEXT;
                let row: Option<DeliveryRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
                    .bind(&after.task_id)
                    .bind(&after.config_id)
                    .bind(now)
                    .bind(claim_until)
                    .fetch_optional(&self.writer)
                    .await
                    .map_err(backend)?;
                row.map(delivery_from_row).transpose()
            }

            async fn complete_delivery(&self, id: i64) -> Result<(), $crate::store::StoreError> {
                use $crate::store::sql::backend;
                sqlx::query($crate::store::sql_push::COMPLETE)
                    .bind(id)
                    .execute(&self.writer)
                    .await
                    .map_err(backend)?;
                Ok(())
            }

            async fn retry_delivery(
                &self,
                id: i64,
                next_attempt_at: i64,
                error: &str,
            ) -> Result<(), $crate::store::StoreError> {
                use $crate::store::sql::backend;
                sqlx::query($crate::store::sql_push::RETRY)
                    .bind(id)
                    .bind(next_attempt_at)
                    .bind(error)
                    .execute(&self.writer)
                    .await
                    .map_err(backend)?;
                Ok(())
            }

            async fn dead_letter(
                &self,
                id: i64,
                now: i64,
                error: &str,
            ) -> Result<(), $crate::store::StoreError> {
                use $crate::store::sql::backend;
                sqlx::query($crate::store::sql_push::DEAD)
                    .bind(id)
                    .bind(now)
                    .bind(error)
                    .execute(&self.writer)
                    .await
                    .map_err(backend)?;
                Ok(())
            }

            async fn dead_letters(
                &self,
                limit: usize,
            ) -> Result<Vec<$crate::store::Delivery>, $crate::store::StoreError> {
                use $crate::store::sql::{backend, to_i64};
                use $crate::store::sql_push::{DEAD_LETTERS, DeliveryRow, delivery_from_row};
                let sql: &str = &DEAD_LETTERS;
                let rows: Vec<DeliveryRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
                    .bind(to_i64(limit))
                    .fetch_all(&self.pool)
                    .await
                    .map_err(backend)?;
                rows.into_iter().map(delivery_from_row).collect()
            }

            async fn requeue_dead_letters(
                &self,
                id: Option<i64>,
                now: i64,
            ) -> Result<u64, $crate::store::StoreError> {
                use $crate::store::sql::backend;
                let done = sqlx::query($crate::store::sql_push::REQUEUE)
                    .bind(now)
                    .bind(id)
                    .execute(&self.writer)
                    .await
                    .map_err(backend)?;
                self.outbox_signal.notify_one();
                Ok(done.rows_affected())
            }

            async fn outbox_depth(
                &self,
            ) -> Result<$crate::store::OutboxDepth, $crate::store::StoreError> {
                use $crate::store::sql::{backend, to_u64};
                let (pending, dead, oldest_pending_at): (i64, i64, Option<i64>) =
                    sqlx::query_as($crate::store::sql_push::DEPTH)
                        .fetch_one(&self.pool)
                        .await
                        .map_err(backend)?;
                Ok($crate::store::OutboxDepth {
                    pending: to_u64(pending),
                    dead: to_u64(dead),
                    oldest_pending_at,
                })
            }

            fn outbox_signal(&self) -> std::sync::Arc<tokio::sync::Notify> {
                self.outbox_signal.clone()
            }
        }
    };
}

pub(super) use sql_push_store;

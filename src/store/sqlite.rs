//! SQLite store: one database file, WAL journal, for a single server process; the
//! statements and the `TaskStore` implementation are shared with PostgreSQL (`sql/`).

use std::str::FromStr;
use std::time::Duration;

use sqlx::SqlitePool;
use sqlx::migrate::Migrator;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};

use super::connect::{connect_error, open_pool};
use super::migrations;
use super::sql::{BEGIN_SQLITE, TAKE_EXPIRED_RUNS_SQLITE, sql_task_store};
use super::sql_push::{claim_sql, sql_push_store};
use super::{DbOptions, StoreError};

/// Claims due notifications; SQLite has one writer, so the update is atomic as it stands.
static CLAIM: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| claim_sql(""));

static MIGRATOR: std::sync::LazyLock<Migrator> =
    std::sync::LazyLock::new(|| migrations::migrator(migrations::SQLITE));

/// How long a statement waits for the write lock when `statement_timeout` is zero.
const DEFAULT_BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// A task store in a SQLite database file.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
    /// SQLite has one writer at a time: one connection for writes queues them in the
    /// process instead of making them spin on the file lock's busy timeout.
    writer: SqlitePool,
    /// Wakes this process's push worker when a commit queues notifications.
    outbox_signal: std::sync::Arc<tokio::sync::Notify>,
    /// Concurrent task creations share transactions.
    group: std::sync::Arc<super::group_commit::GroupCommit>,
    /// Concurrent idempotency-key lookups share statements (one hop to the connection's
    /// thread for many sends).
    lookups: std::sync::Arc<super::sql::KeyLookups>,
}

impl SqliteStore {
    /// The reading pool's connections and the writer's, together.
    fn pools(&self) -> crate::metrics::PoolStats {
        let idle = |p: &SqlitePool| u32::try_from(p.num_idle()).unwrap_or(u32::MAX);
        crate::metrics::PoolStats {
            size: self.pool.size() + self.writer.size(),
            idle: idle(&self.pool).saturating_add(idle(&self.writer)),
        }
    }

    /// Opens `url` (`sqlite://PATH`), creating the file and its directory if missing,
    /// and brings the schema up to date. A statement waits up to `statement_timeout` for
    /// the write lock.
    pub async fn connect(url: &str, opts: &DbOptions) -> Result<Self, StoreError> {
        let busy_timeout = if opts.statement_timeout.is_zero() {
            DEFAULT_BUSY_TIMEOUT
        } else {
            opts.statement_timeout
        };
        let connect = SqliteConnectOptions::from_str(url)
            .map_err(|e| connect_error(url, e))?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(busy_timeout)
            .foreign_keys(true);
        if let Some(dir) = connect.get_filename().parent()
            && !dir.as_os_str().is_empty()
            && !dir.exists()
        {
            std::fs::create_dir_all(dir).map_err(|e| {
                StoreError::Connect(format!(
                    "cannot create the directory {} of the task store at {}: {e}",
                    dir.display(),
                    crate::config::redact(url)
                ))
            })?;
        }
        let pool = open_pool(url, connect.clone(), opts, &MIGRATOR).await?;
        let writer = sqlx::pool::PoolOptions::<sqlx::Sqlite>::new()
            .max_connections(1)
            .acquire_timeout(opts.acquire_timeout)
            .connect_with(connect)
            .await
            .map_err(|e| connect_error(url, e))?;
        Ok(Self {
            pool,
            writer,
            outbox_signal: Default::default(),
            group: Default::default(),
            lookups: Default::default(),
        })
    }
}

/// The records of many idempotency keys (`$1`: a JSON array of `[tenant, owner, agent,
/// key]`); an unused key has no row.
const KEY_LOOKUP: &str = "\
    SELECT k.tenant, k.owner, k.agent, k.key, k.fingerprint, k.task_id, k.after_seq, k.reply, \
           k.created_at, k.expires_at \
    FROM json_each($1) AS q CROSS JOIN a2a_idempotency_keys k \
    WHERE k.tenant = q.value ->> 0 AND k.owner = q.value ->> 1 \
      AND k.agent = q.value ->> 2 AND k.key = q.value ->> 3";

impl SqliteStore {
    /// One transaction for a group of creations (see `group_commit`): a multi-row
    /// `INSERT` per table, events and idempotency keys only for the tasks inserted.
    async fn write_batch(
        pool: &sqlx::SqlitePool,
        jobs: &[crate::store::group_commit::CreateJob],
    ) -> crate::store::group_commit::BatchResult {
        use crate::store::sql::{backend, now_millis, to_i64};
        use sqlx::types::Json;
        let now = now_millis();
        let mut tx = pool.begin_with(BEGIN_SQLITE).await.map_err(backend)?;
        let mut tasks = sqlx::QueryBuilder::<sqlx::Sqlite>::new(
            "INSERT INTO a2a_tasks (id, tenant, owner, context_id, state, status_ts, \
             origin, version, last_seq, task, created_at, updated_at, runner, \
             lease_until, messages) ",
        );
        tasks.push_values(jobs, |mut row, j| {
            row.push_bind(&j.task_id)
                .push_bind(&j.scope.tenant)
                .push_bind(&j.scope.owner)
                .push_bind(&j.context_id)
                .push_bind(j.state)
                .push_bind(j.status_ts)
                .push_bind(j.origin.as_str())
                .push("1")
                .push_bind(to_i64(j.events.len()))
                .push_bind(Json(&j.task_json))
                .push_bind(now)
                .push_bind(now)
                .push_bind(&j.runner)
                .push_bind(j.lease_until)
                .push_bind(j.messages);
        });
        tasks.push(" ON CONFLICT (id) DO NOTHING RETURNING id");
        let inserted: std::collections::HashSet<String> = tasks
            .build_query_scalar()
            .persistent(false)
            .fetch_all(&mut *tx)
            .await
            .map_err(backend)?
            .into_iter()
            .collect();
        let written: Vec<_> = jobs
            .iter()
            .filter(|j| inserted.contains(&j.task_id))
            .collect();
        let events = written.iter().flat_map(|j| {
            j.events
                .iter()
                .map(move |(seq, e, m)| (&j.task_id, seq, e, m))
        });
        if written.iter().any(|j| !j.events.is_empty()) {
            let mut insert = sqlx::QueryBuilder::<sqlx::Sqlite>::new(
                "INSERT INTO a2a_task_events (task_id, seq, event, created_at, msgs, artifact) ",
            );
            insert.push_values(events, |mut row, (task_id, seq, event, marks)| {
                row.push_bind(task_id)
                    .push_bind(*seq)
                    .push_bind(Json(event))
                    .push_bind(now)
                    .push_bind(marks.msgs)
                    .push_bind(marks.artifact);
            });
            insert
                .build()
                .persistent(false)
                .execute(&mut *tx)
                .await
                .map_err(backend)?;
        }
        // One statement per key: a multi-row upsert cannot name a key twice, and keys
        // are the exception (only sends that carry one).
        for j in &written {
            if let Some(key) = &j.key {
                crate::store::sql::bind_key!(
                    sqlx::query(crate::store::sql::UPSERT_KEY),
                    j.scope,
                    key
                )
                .execute(&mut *tx)
                .await
                .map_err(backend)?;
            }
        }
        Self::register_webhooks(&mut tx, &written, now).await?;
        tx.commit().await.map_err(backend)?;
        Ok(jobs.iter().map(|j| inserted.contains(&j.task_id)).collect())
    }
}

impl SqliteStore {
    /// PostgreSQL's one-statement commit saves round trips to a server; an embedded
    /// database has none to save, and SQLite has no `UPDATE` inside `WITH`.
    #[allow(clippy::too_many_arguments)]
    async fn commit_in_one(
        &self,
        _scope: &super::Scope,
        _id: &str,
        _expected_version: u64,
        _task: &crate::protocol::Task,
        _events: &[crate::protocol::TaskEvent],
        _lease: (Option<&str>, Option<i64>),
        _now: i64,
        _key: Option<&super::KeyRecord>,
        _marks: (&[super::parts::EventMarks], u64),
    ) -> Result<Option<u64>, StoreError> {
        Ok(None)
    }
}

sql_task_store!(
    SqliteStore,
    sqlx::Sqlite,
    begin = BEGIN_SQLITE,
    migrator = MIGRATOR,
    take_expired = TAKE_EXPIRED_RUNS_SQLITE,
    lookup = KEY_LOOKUP,
    // one writer: SQLite has one write connection
    writers = 1,
    // foreign keys cascade the purge to events
    purge_dependents = None,
    list_plan = super::sql::ListPlan::IndexedBy
);

sql_push_store!(
    SqliteStore,
    sqlx::Sqlite,
    begin = BEGIN_SQLITE,
    claim = CLAIM
);

//! PostgreSQL store: tasks, event logs, message ids and runs in `a2a_*` tables; the
//! statements and the `TaskStore` implementation are shared with SQLite (`sql.rs`).

use std::str::FromStr;

use sqlx::PgPool;
use sqlx::migrate::Migrator;
use sqlx::postgres::PgConnectOptions;

use super::connect::{connect_error, open_pool};
use super::sql::{BEGIN_POSTGRES, TAKE_EXPIRED_RUNS_POSTGRES, sql_task_store};
use super::sql_push::{claim_sql, sql_push_store};
use super::{DbOptions, StoreError};

/// Claims due notifications; rows another process is claiming are skipped.
static CLAIM: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| claim_sql("FOR UPDATE SKIP LOCKED"));

static MIGRATOR: Migrator = sqlx::migrate!("./migrations/postgres");

/// A task store in a PostgreSQL database; several server processes may share one.
#[derive(Debug, Clone)]
pub struct PostgresStore {
    pool: PgPool,
    /// Writes share the pool: row locks and the version check order them.
    writer: PgPool,
    /// Wakes this process's push worker when a commit queues notifications.
    outbox_signal: std::sync::Arc<tokio::sync::Notify>,
}

impl PostgresStore {
    /// Connects to `url` (`postgres://USER:PASSWORD@HOST:PORT/DB?...`) and brings the
    /// schema up to date.
    pub async fn connect(url: &str, opts: &DbOptions) -> Result<Self, StoreError> {
        let mut connect = PgConnectOptions::from_str(url).map_err(|e| connect_error(url, e))?;
        if !opts.statement_timeout.is_zero() {
            let millis = opts.statement_timeout.as_millis().to_string();
            connect = connect.options([("statement_timeout", millis)]);
        }
        let pool = open_pool(url, connect, opts, &MIGRATOR).await?;
        Ok(Self::from_pool(pool))
    }
}

sql_task_store!(
    PostgresStore,
    sqlx::Postgres,
    begin = BEGIN_POSTGRES,
    migrator = MIGRATOR,
    take_expired = TAKE_EXPIRED_RUNS_POSTGRES
);

sql_push_store!(
    PostgresStore,
    sqlx::Postgres,
    begin = BEGIN_POSTGRES,
    claim = CLAIM
);

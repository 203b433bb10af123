//! SQLite store: one database file, WAL journal, for a single server process; the
//! statements and the `TaskStore` implementation are shared with PostgreSQL (`sql.rs`).

use std::str::FromStr;
use std::time::Duration;

use sqlx::SqlitePool;
use sqlx::migrate::Migrator;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};

use super::connect::{connect_error, open_pool};
use super::sql::{BEGIN_SQLITE, TAKE_EXPIRED_RUNS_SQLITE, sql_task_store};
use super::sql_push::{claim_sql, sql_push_store};
use super::{DbOptions, StoreError};

/// Claims due notifications; SQLite has one writer, so the update is atomic as it stands.
static CLAIM: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| claim_sql(""));

static MIGRATOR: Migrator = sqlx::migrate!("./migrations/sqlite");

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
}

impl SqliteStore {
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
        })
    }
}

sql_task_store!(
    SqliteStore,
    sqlx::Sqlite,
    begin = BEGIN_SQLITE,
    migrator = MIGRATOR,
    take_expired = TAKE_EXPIRED_RUNS_SQLITE
);

sql_push_store!(
    SqliteStore,
    sqlx::Sqlite,
    begin = BEGIN_SQLITE,
    claim = CLAIM
);

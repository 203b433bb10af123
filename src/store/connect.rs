//! Opening a task store from its URL, and the errors that name the URL without its
//! password.

use std::sync::Arc;
use std::time::Duration;

use sqlx::migrate::{Migrate, MigrateError, Migrator};
use sqlx::pool::PoolOptions;
use sqlx::{Connection, Database, Pool};

use super::{MemoryStore, PostgresStore, SqliteStore, StoreError, TaskStore};
use crate::config::redact;

/// Pool and timeout settings of a SQL task store (the memory store ignores them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DbOptions {
    /// Connections in the pool.
    pub max_connections: u32,
    /// How long a caller waits for a pooled connection (and connecting at startup may take).
    pub acquire_timeout: Duration,
    /// PostgreSQL: the server cancels statements running longer (`statement_timeout`;
    /// zero: no limit). SQLite: how long a statement waits for the write lock.
    pub statement_timeout: Duration,
}

impl Default for DbOptions {
    fn default() -> Self {
        Self {
            max_connections: 10,
            acquire_timeout: Duration::from_secs(5),
            statement_timeout: Duration::from_secs(30),
        }
    }
}

enum Kind {
    Memory,
    Sqlite,
    Postgres,
}

fn kind(url: &str) -> Result<Kind, StoreError> {
    if url.starts_with("memory:") {
        Ok(Kind::Memory)
    } else if url.starts_with("sqlite:") {
        Ok(Kind::Sqlite)
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Kind::Postgres)
    } else {
        Err(StoreError::Connect(format!(
            "unsupported task store URL `{}`: use sqlite://PATH, postgres://USER@HOST/DB or memory:",
            redact(url)
        )))
    }
}

/// Opens the task store at `url`: `memory:` (nothing persists), `sqlite://PATH` (the file
/// and its directory are created if missing) or `postgres://...` / `postgresql://...`.
/// SQL stores are migrated to this binary's schema first.
pub async fn connect(url: &str, opts: &DbOptions) -> Result<Arc<dyn TaskStore>, StoreError> {
    Ok(match kind(url)? {
        Kind::Memory => Arc::new(MemoryStore::new()),
        Kind::Sqlite => Arc::new(SqliteStore::connect(url, opts).await?),
        Kind::Postgres => Arc::new(PostgresStore::connect(url, opts).await?),
    })
}

/// Brings the schema of the store at `url` up to date (`a2a migrate`); a no-op for
/// `memory:`.
pub async fn migrate(url: &str, opts: &DbOptions) -> Result<(), StoreError> {
    match kind(url)? {
        Kind::Memory => {}
        Kind::Sqlite => SqliteStore::connect(url, opts).await?.pool().close().await,
        Kind::Postgres => {
            PostgresStore::connect(url, opts)
                .await?
                .pool()
                .close()
                .await
        }
    }
    Ok(())
}

/// How long a pooled connection may sit idle before it is checked on its way out.
const IDLE_CHECK: Duration = Duration::from_secs(1);

/// Opens a pool on `url` and runs `migrator` on it. One plain connection comes first, so
/// that a failure reports its cause (connection refused, unknown database, ...) rather
/// than the pool's timeout.
pub(super) async fn open_pool<DB>(
    url: &str,
    connect: <DB::Connection as Connection>::Options,
    opts: &DbOptions,
    migrator: &Migrator,
) -> Result<Pool<DB>, StoreError>
where
    DB: Database,
    DB::Connection: Migrate,
{
    let probe = tokio::time::timeout(opts.acquire_timeout, DB::Connection::connect_with(&connect))
        .await
        .map_err(|_| {
            StoreError::Connect(format!(
                "cannot connect to the task store at {}: no answer within {:?}",
                redact(url),
                opts.acquire_timeout
            ))
        })?
        .map_err(|e| connect_error(url, e))?;
    let _ = probe.close().await;
    let pool = PoolOptions::<DB>::new()
        .max_connections(opts.max_connections)
        .acquire_timeout(opts.acquire_timeout)
        // sqlx checks every connection it hands out with a round trip of its own (a
        // Sync on PostgreSQL): one per statement, doubling a SendMessage's round trips
        // (issue 23). A connection back from a statement a moment ago is known to work;
        // only one that sat idle (the database may have gone away since) is checked.
        .test_before_acquire(false)
        .before_acquire(|conn, meta| {
            Box::pin(async move {
                if meta.idle_for >= IDLE_CHECK {
                    conn.ping().await?;
                }
                Ok(true)
            })
        })
        .connect_with(connect)
        .await
        .map_err(|e| connect_error(url, e))?;
    if let Err(e) = migrator.run(&pool).await {
        pool.close().await;
        return Err(migrate_error(url, e));
    }
    Ok(pool)
}

/// `cannot connect to the task store at URL: REASON`, the password redacted.
pub(super) fn connect_error(url: &str, e: sqlx::Error) -> StoreError {
    let reason = match &e {
        sqlx::Error::Configuration(e) => format!("malformed URL: {e}"),
        sqlx::Error::Io(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => {
            "connection refused".to_string()
        }
        sqlx::Error::Io(e) => e.to_string(),
        sqlx::Error::Tls(e) => format!("TLS failed: {e}"),
        sqlx::Error::Database(e) => e.message().to_string(),
        sqlx::Error::PoolTimedOut => "no connection within the acquire timeout".to_string(),
        e => e.to_string(),
    };
    StoreError::Connect(format!(
        "cannot connect to the task store at {}: {}",
        redact(url),
        scrub(&reason, url)
    ))
}

/// What went wrong migrating the store at `url`, the password redacted.
pub(super) fn migrate_error(url: &str, e: MigrateError) -> StoreError {
    let at = redact(url);
    let message = match e {
        MigrateError::VersionMissing(v) => format!(
            "the task store at {at} has schema migration {v}, which this a2a binary does not \
             know: the database was migrated by a newer a2a; upgrade a2a or use another database"
        ),
        MigrateError::VersionMismatch(v) => format!(
            "schema migration {v} of the task store at {at} differs from this a2a binary's \
             (it was changed after it was applied)"
        ),
        MigrateError::Dirty(v) => format!(
            "schema migration {v} of the task store at {at} failed part-way before; repair \
             the database by hand"
        ),
        // The connection dropped while migrating.
        MigrateError::Execute(e @ (sqlx::Error::PoolTimedOut | sqlx::Error::Io(_))) => {
            return connect_error(url, e);
        }
        e => format!("cannot migrate the task store at {at}: {e}"),
    };
    StoreError::Migrate(scrub(&message, url))
}

/// Removes the password of `url` from a driver message, should one quote it.
fn scrub(message: &str, url: &str) -> String {
    let password = url
        .split_once("://")
        .and_then(|(_, rest)| rest.rsplit_once('@'))
        .and_then(|(creds, _)| creds.split_once(':'))
        .map(|(_, password)| password)
        .filter(|p| !p.is_empty());
    match password {
        Some(p) => message.replace(p, "***"),
        None => message.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scrub_removes_the_password() {
        let url = "postgres://u:s3cret@h/db";
        assert_eq!(scrub("bad s3cret here", url), "bad *** here");
        assert_eq!(scrub("fine", "postgres://h/db"), "fine");
    }

    #[test]
    fn unknown_schemes_are_refused() {
        let e = kind("mysql://u:pw@h/db").err().unwrap().to_string();
        assert!(e.contains("mysql://u:***@h/db") && !e.contains("pw"), "{e}");
    }
}

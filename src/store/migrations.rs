//! The SQL migrations, embedded in the binary without `sqlx::migrate!`.
//!
//! The macro needs sqlx's `macros` feature, and with it a second, host-side build of
//! sqlx-core and both drivers (bundled SQLite's C code included) for the proc macro alone:
//! about a minute of a cold release build on two cores. `include_str!` embeds the same
//! files, and [`migrator`] builds the same [`Migrator`] the macro would (version and
//! description from the file name, checksum of the text), so databases migrated by either
//! agree. A test keeps each list equal to its directory.

use std::borrow::Cow;

use sqlx::SqlStr;
use sqlx::migrate::{Migration, MigrationType, Migrator};

/// `(file name, text)` of `migrations/<dir>/<file>`.
macro_rules! embed {
    ($dir:literal, $file:literal) => {
        (
            $file,
            include_str!(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/migrations/",
                $dir,
                "/",
                $file
            )),
        )
    };
}

/// One migration file: its name (`<version>_<description>.sql`) and its text.
pub(super) type Embedded = (&'static str, &'static str);

/// `migrations/postgres/`, in version order.
pub(super) const POSTGRES: &[Embedded] = &[
    embed!("postgres", "0001_init.sql"),
    embed!("postgres", "0002_push.sql"),
    embed!("postgres", "0003_no_event_foreign_keys.sql"),
    embed!("postgres", "0004_idempotency_keys.sql"),
    embed!("postgres", "0005_json_documents.sql"),
    embed!("postgres", "0006_outbox_traceparent.sql"),
    embed!("postgres", "0007_task_parts.sql"),
    embed!("postgres", "0008_task_counts.sql"),
];

/// `migrations/sqlite/`, in version order.
pub(super) const SQLITE: &[Embedded] = &[
    embed!("sqlite", "0001_init.sql"),
    embed!("sqlite", "0002_push.sql"),
    embed!("sqlite", "0004_idempotency_keys.sql"),
    embed!("sqlite", "0006_outbox_traceparent.sql"),
    embed!("sqlite", "0007_task_parts.sql"),
    embed!("sqlite", "0008_task_counts.sql"),
];

/// The migrator of `files`, as `sqlx::migrate!` builds it from their directory.
pub(super) fn migrator(files: &'static [Embedded]) -> Migrator {
    let migrations = files
        .iter()
        .map(|&(name, sql)| {
            let (version, rest) = name.split_once('_').expect("<version>_<description>.sql");
            let version = version.parse().expect("an integer migration version");
            let description = rest.trim_end_matches(".sql").replace('_', " ");
            let no_tx = sql.starts_with("-- no-transaction");
            Migration::new(
                version,
                Cow::Owned(description),
                MigrationType::Simple,
                SqlStr::from_static(sql),
                no_tx,
            )
        })
        .collect();
    Migrator::with_migrations(migrations)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A file added to a directory and not to its list would never run.
    #[test]
    fn embedded_lists_match_the_migration_directories() {
        for (dir, files) in [("postgres", POSTGRES), ("sqlite", SQLITE)] {
            let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("migrations")
                .join(dir);
            let mut on_disk: Vec<(String, String)> = std::fs::read_dir(&path)
                .unwrap()
                .map(|entry| entry.unwrap().path())
                .filter(|p| p.extension().is_some_and(|e| e == "sql"))
                .map(|p| {
                    let name = p.file_name().unwrap().to_string_lossy().into_owned();
                    (name, std::fs::read_to_string(&p).unwrap())
                })
                .collect();
            on_disk.sort();
            let embedded: Vec<(String, String)> = files
                .iter()
                .map(|&(n, s)| (n.to_owned(), s.to_owned()))
                .collect();
            assert_eq!(embedded, on_disk, "migrations/{dir}");
        }
    }

    /// Versions, descriptions and checksums as `Migrator::new` reads them from the files.
    #[tokio::test]
    async fn migrator_matches_sqlx_reading_the_directory() {
        for (dir, files) in [("postgres", POSTGRES), ("sqlite", SQLITE)] {
            let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("migrations")
                .join(dir);
            let read = Migrator::new(path).await.unwrap();
            let ours = migrator(files);
            let key = |m: &Migration| {
                (
                    m.version,
                    m.description.to_string(),
                    m.checksum.to_vec(),
                    m.no_tx,
                )
            };
            let read: Vec<_> = read.iter().map(key).collect();
            let ours: Vec<_> = ours.iter().map(key).collect();
            assert_eq!(ours, read, "migrations/{dir}");
        }
    }
}

//! The backends a store suite runs on: memory, SQLite (a file in a temporary directory)
//! and PostgreSQL (a fresh database per test from `A2A_TEST_POSTGRES_URL`; skipped with a
//! message when unset, failed under `CI=true`).

use std::sync::Arc;

use a2a_server::store::{self, DbOptions, TaskStore};

use super::TestDatabase;

/// A store for one test and whatever must outlive it (the SQLite directory, the Postgres
/// database, dropped after the store).
pub struct Harness {
    pub store: Arc<dyn TaskStore>,
    _dir: Option<tempfile::TempDir>,
    _db: Option<TestDatabase>,
}

pub async fn open(kind: &str) -> Option<Harness> {
    let opts = DbOptions::default();
    match kind {
        "memory" => Some(Harness {
            store: store::connect("memory:", &opts).await.unwrap(),
            _dir: None,
            _db: None,
        }),
        "sqlite" => {
            let dir = tempfile::tempdir().unwrap();
            let url = format!("sqlite://{}", dir.path().join("a2a.db").display());
            let store = store::connect(&url, &opts).await.unwrap();
            Some(Harness {
                store,
                _dir: Some(dir),
                _db: None,
            })
        }
        "postgres" => {
            let db = TestDatabase::create().await?;
            let store = store::connect(&db.url, &opts).await.unwrap();
            Some(Harness {
                store,
                _dir: None,
                _db: Some(db),
            })
        }
        _ => unreachable!("unknown backend {kind}"),
    }
}

/// `mod memory`, `mod sqlite` and `mod postgres`, each with one test per suite function.
#[allow(unused_macros)] // each test binary uses its own part of `support`
macro_rules! store_suite {
    ($($test:ident),* $(,)?) => {
        store_suite!(@backend memory, $($test),*);
        store_suite!(@backend sqlite, $($test),*);
        store_suite!(@backend postgres, $($test),*);
    };
    (@backend $backend:ident, $($test:ident),*) => {
        mod $backend {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $test() {
                    if let Some(h) = crate::support::stores::open(stringify!($backend)).await {
                        super::$test(h.store.clone()).await;
                    }
                }
            )*
        }
    };
}

#[allow(unused_imports)]
pub(crate) use store_suite;

/// A store for a test that runs the binary: its URL and whatever must live as long as it.
pub struct StoreUrl {
    pub url: String,
    pub _dir: Option<tempfile::TempDir>,
    pub _db: Option<TestDatabase>,
}

pub async fn store_url(kind: &str) -> Option<StoreUrl> {
    match kind {
        "memory" => Some(StoreUrl {
            url: "memory:".into(),
            _dir: None,
            _db: None,
        }),
        "sqlite" => {
            let dir = tempfile::tempdir().unwrap();
            let url = format!("sqlite://{}", dir.path().join("a2a.db").display());
            Some(StoreUrl {
                url,
                _dir: Some(dir),
                _db: None,
            })
        }
        "postgres" => {
            let db = TestDatabase::create().await?;
            Some(StoreUrl {
                url: db.url.clone(),
                _dir: None,
                _db: Some(db),
            })
        }
        _ => unreachable!(),
    }
}

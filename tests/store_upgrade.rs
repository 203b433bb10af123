//! Databases written by the release before task history left the task rows
//! (`tests/fixtures/store-v0.*`, made by `tests/fixtures/make_store_fixtures.sh`) open with
//! this store: the migration moves the history out, and every task reads back exactly as
//! the old row held it, in every view; the event logs, webhooks, outbox and idempotency
//! keys are untouched; the migrated tasks take new commits.

mod support;

use std::sync::Arc;

use a2a_server::protocol::request::ListTasksQuery;
use a2a_server::protocol::{Message, Part, Task, TaskEvent};
use a2a_server::store::{self, DbOptions, Scope, TaskStore, TaskView};
use serde_json::Value;

/// Every row of the tables the migration must not change, as text, per table.
const UNTOUCHED: &[&str] = &[
    "SELECT task_id, id, url, coalesce(token, ''), coalesce(CAST(authentication AS TEXT), ''), \
     origin, CAST(created_at AS TEXT) FROM a2a_push_configs ORDER BY task_id, id",
    "SELECT CAST(id AS TEXT), task_id, config_id, CAST(seq AS TEXT), origin, url, \
     coalesce(token, ''), CAST(payload AS TEXT), CAST(attempts AS TEXT), \
     CAST(next_attempt_at AS TEXT), coalesce(last_error, ''), coalesce(traceparent, '') \
     FROM a2a_push_outbox ORDER BY id",
    "SELECT tenant, owner, agent, key, fingerprint, coalesce(task_id, ''), \
     CAST(after_seq AS TEXT), CAST(expires_at AS TEXT) FROM a2a_idempotency_keys ORDER BY key",
    "SELECT task_id, CAST(seq AS TEXT), CAST(event AS TEXT) FROM a2a_task_events \
     ORDER BY task_id, seq",
];

const TASKS: &str = "SELECT tenant, owner, id, CAST(task AS TEXT), CAST(version AS TEXT), \
     CAST(last_seq AS TEXT), origin FROM a2a_tasks ORDER BY id";

type Rows = Vec<Vec<String>>;

/// What a database holds, read with plain SQL: the task rows, then [`UNTOUCHED`].
#[derive(Debug, PartialEq)]
struct Contents {
    tasks: Rows,
    untouched: Vec<Rows>,
}

/// `async fn $name(pool) -> Contents` for one backend's pool and row types.
macro_rules! read_contents {
    ($name:ident, $pool:ty, $row:ty) => {
        async fn $name(pool: $pool) -> Contents {
            async fn rows(pool: &$pool, sql: &'static str) -> Rows {
                use sqlx::Row as _;
                sqlx::query(sql)
                    .fetch_all(pool)
                    .await
                    .unwrap_or_else(|e| panic!("{sql}: {e}"))
                    .iter()
                    .map(|r: &$row| (0..r.len()).map(|i| r.get::<String, _>(i)).collect())
                    .collect()
            }
            let mut untouched = Vec::new();
            for sql in UNTOUCHED {
                untouched.push(rows(&pool, sql).await);
            }
            Contents {
                tasks: rows(&pool, TASKS).await,
                untouched,
            }
        }
    };
}

read_contents!(read_sqlite, sqlx::SqlitePool, sqlx::sqlite::SqliteRow);
read_contents!(read_postgres, sqlx::PgPool, sqlx::postgres::PgRow);

fn fixture(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn json(text: &str) -> Value {
    serde_json::from_str(text).unwrap()
}

/// The old rows' tasks, as this version reads them.
fn old_tasks(before: &Contents) -> Vec<(Scope, Task, u64, u64, String)> {
    before
        .tasks
        .iter()
        .map(|r| {
            let scope = Scope {
                tenant: r[0].clone(),
                owner: r[1].clone(),
            };
            let task: Task = serde_json::from_str(&r[3]).unwrap();
            (
                scope,
                task,
                r[4].parse().unwrap(),
                r[5].parse().unwrap(),
                r[6].clone(),
            )
        })
        .collect()
}

fn as_value(t: &Task) -> Value {
    serde_json::to_value(t).unwrap()
}

async fn check_upgraded(store: Arc<dyn TaskStore>, before: &Contents, after: &Contents) {
    let tasks = old_tasks(before);
    assert!(
        tasks.len() >= 10,
        "the fixture holds its tasks: {}",
        tasks.len()
    );
    assert!(
        tasks.iter().any(|(_, t, ..)| t.history.len() > 40),
        "a long history"
    );
    assert!(
        tasks.iter().any(|(_, t, ..)| !t.artifacts.is_empty()),
        "artifacts"
    );
    assert!(tasks.iter().any(|(.., o)| o == "0.1"), "a 0.1 task");
    assert_eq!(
        after.untouched, before.untouched,
        "events, webhooks, outbox, keys"
    );
    assert!(
        !after.untouched[1].is_empty(),
        "the fixture has undelivered notifications"
    );
    // The rows no longer hold the history or the artifacts.
    for r in &after.tasks {
        let row = json(&r[3]);
        assert!(
            row.get("history").is_none() && row.get("artifacts").is_none(),
            "history left in the row of {}: {row}",
            r[2]
        );
    }
    for (scope, old, version, last_seq, _) in &tasks {
        let got = store.get(scope, &old.id).await.unwrap().expect("readable");
        assert_eq!(as_value(&got.task), as_value(old), "task {}", old.id);
        assert_eq!((got.version, got.last_seq), (*version, *last_seq));
        for n in [0, 1, 2, 5, 1000] {
            let view = TaskView {
                history: Some(n),
                artifacts: n % 2 == 0,
            };
            let got = store.get_view(scope, &old.id, view).await.unwrap().unwrap();
            assert_eq!(as_value(&got.task), as_value(&view.of(old)), "{view:?}");
        }
        // The log replays to the same task.
        let events = store.events_after(scope, &old.id, 0).await.unwrap();
        assert_eq!(events.len() as u64, *last_seq);
        let TaskEvent::Task(first) = &events[0].event else {
            panic!("a log begins with its task");
        };
        let mut folded = first.clone();
        for e in &events[1..] {
            folded.apply(&e.event);
        }
        assert_eq!(as_value(&folded), as_value(old), "replay of {}", old.id);
    }
    // ListTasks returns every task of a scope, whole.
    let scope = &tasks[0].0;
    let page = store
        .list(
            scope,
            &ListTasksQuery {
                context_id: None,
                state: None,
                page_size: 100,
                page_token: None,
                history_length: None,
                status_timestamp_after: None,
                include_artifacts: true,
            },
        )
        .await
        .unwrap();
    let mine: Vec<&Task> = tasks
        .iter()
        .filter(|(s, ..)| s == scope)
        .map(|(_, t, ..)| t)
        .collect();
    assert_eq!(page.total_size, mine.len());
    for t in &page.tasks {
        let old = mine.iter().find(|o| o.id == t.id).expect("listed");
        assert_eq!(as_value(t), as_value(old));
    }
    // A migrated task takes a follow-up, appended after its old history.
    let (scope, long, version, ..) = tasks
        .iter()
        .max_by_key(|(_, t, ..)| t.history.len())
        .unwrap();
    let mut m = Message::agent(vec![Part::text("after the upgrade")]);
    m.task_id = Some(long.id.clone());
    let event = TaskEvent::UserMessage(Arc::new(m));
    let mut next = long.clone();
    next.apply(&event);
    store
        .commit(scope, &long.id, *version, next.clone(), vec![event], None)
        .await
        .unwrap();
    let got = store.get(scope, &long.id).await.unwrap().unwrap();
    assert_eq!(as_value(&got.task), as_value(&next));
    let got = store
        .get_view(scope, &long.id, TaskView::with_history(Some(2)))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(got.task.history, next.history[next.history.len() - 2..]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sqlite_database_of_the_previous_release_upgrades_intact() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a2a.db");
    std::fs::copy(fixture("store-v0.sqlite"), &path).unwrap();
    let url = format!("sqlite://{}", path.display());
    let read = read_sqlite;
    let before = read(sqlx::SqlitePool::connect(&url).await.unwrap()).await;
    let store = store::connect(&url, &DbOptions::default()).await.unwrap();
    let after = read(sqlx::SqlitePool::connect(&url).await.unwrap()).await;
    check_upgraded(store, &before, &after).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_postgres_database_of_the_previous_release_upgrades_intact() {
    let Some(db) = support::TestDatabase::create().await else {
        return;
    };
    let dump = std::fs::read_to_string(fixture("store-v0.postgres.sql")).unwrap();
    {
        use sqlx::Connection;
        let mut conn = sqlx::PgConnection::connect(&db.url).await.unwrap();
        // The fixture is ours (pg_dump of the fixture database), not input.
        sqlx::raw_sql(sqlx::AssertSqlSafe(dump))
            .execute(&mut conn)
            .await
            .expect("load the dump");
    }
    let read = read_postgres;
    let before = read(sqlx::PgPool::connect(&db.url).await.unwrap()).await;
    let store = store::connect(&db.url, &DbOptions::default())
        .await
        .unwrap();
    let after = read(sqlx::PgPool::connect(&db.url).await.unwrap()).await;
    check_upgraded(store, &before, &after).await;
}

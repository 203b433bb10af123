//! One `TaskStore` suite, run unchanged against every backend: memory, SQLite (a file in
//! a temporary directory) and PostgreSQL (a fresh database per test from
//! `A2A_TEST_POSTGRES_URL`; skipped with a message when unset, failed under `CI=true`).

mod support;

use std::collections::{BTreeSet, HashSet};
use std::sync::Arc;
use std::time::Duration;

use a2a_server::protocol::request::{ListTasksQuery, TaskPage};
use a2a_server::protocol::{
    Artifact, Message, Part, Role, SequencedEvent, Task, TaskArtifactUpdateEvent, TaskEvent,
    TaskState, TaskStatus, TaskStatusUpdateEvent, Version,
};
use a2a_server::store::{
    self, DbOptions, ExpiredRun, KeyAnswer, KeyRecord, Lease, Scope, StoreError, TaskStore,
};
use chrono::{DateTime, Utc};
use serde_json::json;
use support::TestDatabase;

// ---------------------------------------------------------------------------------------
// Backends

use support::stores::store_suite;

store_suite!(
    create_get_and_commit_number_events_densely,
    create_refuses_a_taken_id,
    stale_commit_conflicts_and_overwrites_nothing,
    racing_commits_have_one_winner,
    concurrent_writers_leave_a_dense_log,
    events_after_returns_the_tail_in_order,
    list_filters_and_orders_newest_first,
    list_pages_have_no_gaps_or_duplicates,
    list_pages_survive_inserts_between_pages,
    list_totals_follow_creations_state_changes_and_conflicts,
    scopes_are_isolated,
    idempotency_keys_keep_the_first_answer_per_scope_until_they_expire,
    idempotency_keys_are_written_with_their_task_or_not_at_all,
    expired_idempotency_keys_are_purged,
    leases_are_renewed_cleared_and_expire,
    expired_runs_go_to_exactly_one_caller,
    released_leases_are_recovered_at_once,
    purge_terminal_deletes_old_terminal_tasks_and_their_events,
    json_strings_with_nul_are_kept_exactly,
);

// ---------------------------------------------------------------------------------------
// Fixtures

fn scope(owner: &str, tenant: &str) -> Scope {
    Scope {
        owner: owner.into(),
        tenant: tenant.into(),
    }
}

fn at(millis: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(millis).unwrap()
}

fn message(id: &str, role: Role) -> Arc<Message> {
    Arc::new(Message {
        message_id: id.into(),
        context_id: None,
        task_id: None,
        role,
        parts: vec![Part::text(format!("text of {id}"))],
        metadata: None,
        extensions: Vec::new(),
        reference_task_ids: Vec::new(),
    })
}

fn task(id: &str, context: &str, state: TaskState, millis: i64) -> Task {
    Task {
        id: id.into(),
        context_id: context.into(),
        status: TaskStatus {
            state,
            message: None,
            timestamp: at(millis),
        },
        artifacts: Vec::new(),
        history: Vec::new(),
        metadata: None,
    }
}

fn status_update(t: &Task, tag: serde_json::Value) -> TaskEvent {
    TaskEvent::StatusUpdate(TaskStatusUpdateEvent {
        task_id: t.id.clone(),
        context_id: t.context_id.clone(),
        status: t.status.clone(),
        metadata: Some(serde_json::Map::from_iter([("tag".to_string(), tag)])),
    })
}

/// Creates `t` with its snapshot as the first event.
async fn create(store: &dyn TaskStore, s: &Scope, t: &Task) -> Vec<Arc<SequencedEvent>> {
    store
        .create(
            s,
            Version::V1,
            t.clone(),
            vec![TaskEvent::Task(t.clone())],
            &[],
            None,
        )
        .await
        .unwrap()
}

/// The agent of the key fixtures.
const AGENT: &str = "echo";

/// A key record for `key` answering `answer`, live from `created` for 1000 ms.
fn key_record(key: &str, answer: KeyAnswer, created: i64) -> KeyRecord {
    KeyRecord {
        agent: AGENT.into(),
        key: key.into(),
        fingerprint: format!("fp-{key}"),
        answer,
        created_at: created,
        expires_at: created + 1_000,
    }
}

fn task_answer(task_id: &str, after_seq: u64) -> KeyAnswer {
    KeyAnswer::Task {
        task_id: task_id.into(),
        after_seq,
    }
}

/// What `key` answered in `s`, looked up at `now`.
async fn key_answer(store: &dyn TaskStore, s: &Scope, key: &str, now: i64) -> Option<KeyAnswer> {
    store
        .idempotency_key(s, AGENT, key, now)
        .await
        .unwrap()
        .map(|r| r.answer)
}

fn seqs(events: &[Arc<SequencedEvent>]) -> Vec<u64> {
    events.iter().map(|e| e.seq).collect()
}

fn ids(tasks: &[Task]) -> Vec<String> {
    tasks.iter().map(|t| t.id.to_string()).collect()
}

fn query(page_size: usize) -> ListTasksQuery {
    ListTasksQuery {
        page_size,
        ..Default::default()
    }
}

/// Every page of `q`, following the page tokens.
async fn all_pages(store: &dyn TaskStore, s: &Scope, q: &ListTasksQuery) -> Vec<TaskPage> {
    let mut q = q.clone();
    let mut pages = Vec::new();
    loop {
        let page = store.list(s, &q).await.unwrap();
        let token = page.next_page_token.clone();
        pages.push(page);
        if token.is_empty() {
            return pages;
        }
        assert!(pages.len() < 100, "paging does not end");
        q.page_token = Some(token);
    }
}

// ---------------------------------------------------------------------------------------
// The suite

async fn create_get_and_commit_number_events_densely(store: Arc<dyn TaskStore>) {
    let s = scope("alice", "");
    let mut t = task("t1", "c1", TaskState::Submitted, 1_000);
    t.history.push(message("m1", Role::User));
    t.metadata = Some(serde_json::Map::from_iter([(
        "k".to_string(),
        json!({"b": 1, "a": [1.5, "x"]}),
    )]));
    let first = store
        .create(
            &s,
            Version::V03,
            t.clone(),
            vec![TaskEvent::Task(t.clone())],
            &[],
            None,
        )
        .await
        .unwrap();
    assert_eq!(seqs(&first), [1]);

    let rec = store.get(&s, "t1").await.unwrap().expect("stored");
    assert_eq!(
        (rec.version, rec.last_seq, rec.origin),
        (1, 1, Version::V03)
    );
    assert_eq!(rec.task, t);

    let mut t2 = t.clone();
    t2.status = TaskStatus {
        state: TaskState::Working,
        message: None,
        timestamp: at(2_000),
    };
    let artifact = TaskEvent::ArtifactUpdate(TaskArtifactUpdateEvent {
        task_id: "t1".into(),
        context_id: "c1".into(),
        artifact: Arc::new(Artifact {
            artifact_id: "a1".into(),
            name: Some("out".into()),
            description: None,
            parts: vec![Part::data(json!({"n": 1}))],
            metadata: None,
            extensions: Vec::new(),
        }),
        append: false,
        last_chunk: true,
        metadata: None,
    });
    t2.apply(&artifact);
    let events = [status_update(&t2, json!(1)), artifact];
    let second = store
        .commit(&s, "t1", 1, t2.clone(), events.to_vec(), None)
        .await
        .unwrap();
    assert_eq!(seqs(&second), [2, 3]);
    assert_eq!(second[0].event, events[0]);
    assert_eq!(second[1].event, events[1]);

    // A commit without events bumps the version, not the sequence.
    assert!(
        store
            .commit(&s, "t1", 2, t2.clone(), vec![], None)
            .await
            .unwrap()
            .is_empty()
    );
    let third = store
        .commit(
            &s,
            "t1",
            3,
            t2.clone(),
            vec![status_update(&t2, json!(2))],
            None,
        )
        .await
        .unwrap();
    assert_eq!(seqs(&third), [4]);

    let rec = store.get(&s, "t1").await.unwrap().unwrap();
    assert_eq!(
        (rec.version, rec.last_seq, rec.origin),
        (4, 4, Version::V03)
    );
    assert_eq!(rec.task, t2);
    let log = store.events_after(&s, "t1", 0).await.unwrap();
    assert_eq!(seqs(&log), [1, 2, 3, 4]);
    assert_eq!(log[0].event, TaskEvent::Task(t));

    assert!(matches!(
        store.commit(&s, "nope", 1, t2.clone(), vec![], None).await,
        Err(StoreError::NotFound)
    ));
    assert!(store.get(&s, "nope").await.unwrap().is_none());
}

async fn create_refuses_a_taken_id(store: Arc<dyn TaskStore>) {
    let s = scope("alice", "");
    let t = task("t1", "c1", TaskState::Submitted, 1_000);
    create(&*store, &s, &t).await;
    let mut other = task("t1", "c2", TaskState::Working, 2_000);
    other.history.push(message("m-other", Role::User));
    let again = store
        .create_keyed(
            &s,
            Version::V1,
            other.clone(),
            vec![TaskEvent::Task(other.clone())],
            &[],
            None,
            Some(&key_record("k-other", task_answer("t1", 0), 2_000)),
            None,
        )
        .await;
    assert!(matches!(again, Err(StoreError::Conflict)), "{again:?}");
    // Task ids are global: another scope cannot take it either.
    let elsewhere = store
        .create(
            &scope("bob", ""),
            Version::V1,
            other.clone(),
            vec![],
            &[],
            None,
        )
        .await;
    assert!(
        matches!(elsewhere, Err(StoreError::Conflict)),
        "{elsewhere:?}"
    );

    // Nothing of the refused creates was stored.
    let rec = store.get(&s, "t1").await.unwrap().unwrap();
    assert_eq!((rec.task, rec.version, rec.last_seq), (t, 1, 1));
    assert_eq!(seqs(&store.events_after(&s, "t1", 0).await.unwrap()), [1]);
    assert_eq!(key_answer(&*store, &s, "k-other", 2_000).await, None);
}

async fn stale_commit_conflicts_and_overwrites_nothing(store: Arc<dyn TaskStore>) {
    let s = scope("alice", "");
    let t = task("t1", "c1", TaskState::Submitted, 1_000);
    create(&*store, &s, &t).await;

    let winner = task("t1", "c1", TaskState::Working, 2_000);
    store
        .commit(
            &s,
            "t1",
            1,
            winner.clone(),
            vec![status_update(&winner, json!("winner"))],
            None,
        )
        .await
        .unwrap();
    let mut loser = task("t1", "c1", TaskState::Failed, 3_000);
    loser.history.push(message("m-loser", Role::User));
    let stale = store
        .commit_keyed(
            &s,
            "t1",
            1,
            loser.clone(),
            vec![TaskEvent::UserMessage(message("m-loser", Role::User))],
            None,
            Some(&key_record("k-loser", task_answer("t1", 3), 3_000)),
            None,
        )
        .await;
    assert!(matches!(stale, Err(StoreError::Conflict)), "{stale:?}");

    let rec = store.get(&s, "t1").await.unwrap().unwrap();
    assert_eq!(
        (rec.task, rec.version, rec.last_seq),
        (winner.clone(), 2, 2)
    );
    let log = store.events_after(&s, "t1", 0).await.unwrap();
    assert_eq!(log.len(), 2);
    assert_eq!(log[1].event, status_update(&winner, json!("winner")));
    assert_eq!(key_answer(&*store, &s, "k-loser", 3_000).await, None);
    // A version from the future conflicts too.
    assert!(matches!(
        store.commit(&s, "t1", 7, loser.clone(), vec![], None).await,
        Err(StoreError::Conflict)
    ));
}

async fn racing_commits_have_one_winner(store: Arc<dyn TaskStore>) {
    let s = scope("alice", "");
    for round in 0..10 {
        let id = format!("t{round}");
        create(&*store, &s, &task(&id, "c", TaskState::Submitted, 1_000)).await;
        let racers: Vec<_> = (0..2)
            .map(|who| {
                let (store, s, id) = (store.clone(), s.clone(), id.clone());
                tokio::spawn(async move {
                    let t = task(&id, "c", TaskState::Working, 2_000 + who);
                    let r = store
                        .commit(
                            &s,
                            &id,
                            1,
                            t.clone(),
                            vec![status_update(&t, json!(who))],
                            None,
                        )
                        .await;
                    (t, r)
                })
            })
            .collect();
        let mut results = Vec::new();
        for r in racers {
            results.push(r.await.unwrap());
        }
        let won: Vec<_> = results.iter().filter(|(_, r)| r.is_ok()).collect();
        let lost: Vec<_> = results.iter().filter(|(_, r)| r.is_err()).collect();
        assert_eq!(won.len(), 1, "round {round}: {results:?}");
        assert!(
            matches!(lost[0].1, Err(StoreError::Conflict)),
            "{:?}",
            lost[0].1
        );
        let rec = store.get(&s, &id).await.unwrap().unwrap();
        assert_eq!((&rec.task, rec.version, rec.last_seq), (&won[0].0, 2, 2));
    }
}

async fn concurrent_writers_leave_a_dense_log(store: Arc<dyn TaskStore>) {
    const WRITERS: u64 = 8;
    const EACH: u64 = 10;
    let s = scope("alice", "");
    create(&*store, &s, &task("t1", "c1", TaskState::Working, 1_000)).await;
    let writers: Vec<_> = (0..WRITERS)
        .map(|w| {
            let (store, s) = (store.clone(), s.clone());
            tokio::spawn(async move {
                let mut conflicts = 0u32;
                for n in 0..EACH {
                    loop {
                        let rec = store.get(&s, "t1").await.unwrap().unwrap();
                        let mut t = rec.task.clone();
                        let ev = status_update(&t, json!([w, n]));
                        t.apply(&ev);
                        match store
                            .commit(&s, "t1", rec.version, t.clone(), vec![ev], None)
                            .await
                        {
                            Ok(seqd) => {
                                assert_eq!(seqs(&seqd), [rec.last_seq + 1]);
                                break;
                            }
                            Err(StoreError::Conflict) => {
                                conflicts += 1;
                                assert!(conflicts < 10_000, "writer {w} starves");
                                tokio::task::yield_now().await;
                            }
                            Err(e) => panic!("writer {w}: {e}"),
                        }
                    }
                }
            })
        })
        .collect();
    for w in writers {
        w.await.unwrap();
    }
    let log = store.events_after(&s, "t1", 0).await.unwrap();
    assert_eq!(seqs(&log), (1..=1 + WRITERS * EACH).collect::<Vec<_>>());
    let tags: HashSet<String> = log[1..]
        .iter()
        .map(|e| match &e.event {
            TaskEvent::StatusUpdate(u) => u.metadata.as_ref().unwrap()["tag"].to_string(),
            other => panic!("unexpected {other:?}"),
        })
        .collect();
    assert_eq!(
        tags.len() as u64,
        WRITERS * EACH,
        "every write exactly once"
    );
    let rec = store.get(&s, "t1").await.unwrap().unwrap();
    assert_eq!(
        (rec.version, rec.last_seq),
        (1 + WRITERS * EACH, 1 + WRITERS * EACH)
    );
}

async fn events_after_returns_the_tail_in_order(store: Arc<dyn TaskStore>) {
    let s = scope("alice", "");
    let t = task("t1", "c1", TaskState::Working, 1_000);
    create(&*store, &s, &t).await;
    // Commit in chunks so the log spans several transactions.
    for chunk in 0..4 {
        let events: Vec<_> = (0..3)
            .map(|i| status_update(&t, json!([chunk, i])))
            .collect();
        // Version 1 after the create, one more per commit.
        store
            .commit(&s, "t1", 1 + chunk, t.clone(), events.to_vec(), None)
            .await
            .unwrap();
    }
    let all = store.events_after(&s, "t1", 0).await.unwrap();
    assert_eq!(seqs(&all), (1..=13).collect::<Vec<_>>());
    for after in [0, 1, 5, 12, 13, 14, 1_000] {
        let tail = store.events_after(&s, "t1", after).await.unwrap();
        let want: Vec<_> = all.iter().filter(|e| e.seq > after).cloned().collect();
        assert_eq!(tail, want, "after {after}");
    }
    assert_eq!(
        store.events_after(&s, "t1", u64::MAX).await.unwrap(),
        Vec::<Arc<SequencedEvent>>::new()
    );
    assert!(matches!(
        store.events_after(&s, "nope", 0).await,
        Err(StoreError::NotFound)
    ));
    // A task created without events has an empty log, not a missing one.
    store
        .create(
            &s,
            Version::V1,
            task("t2", "c1", TaskState::Submitted, 1).clone(),
            vec![],
            &[],
            None,
        )
        .await
        .unwrap();
    assert!(store.events_after(&s, "t2", 0).await.unwrap().is_empty());
}

async fn list_filters_and_orders_newest_first(store: Arc<dyn TaskStore>) {
    let s = scope("alice", "acme");
    use TaskState::*;
    let rows = [
        ("a", "c1", Working, 5_000),
        ("b", "c1", Completed, 5_000), // same timestamp as a and c: id decides, descending
        ("c", "c2", Working, 5_000),
        ("d", "c2", Failed, 1_000),
        ("e", "c1", Working, 9_000),
        ("B", "c1", Working, 5_000), // uppercase sorts before lowercase, byte-wise
        ("f", "c3", InputRequired, 3_000),
    ];
    for (id, c, st, ms) in rows {
        create(&*store, &s, &task(id, c, st, ms)).await;
    }
    // Another scope's tasks never show up.
    create(
        &*store,
        &scope("bob", "acme"),
        &task("z", "c1", Working, 99_000),
    )
    .await;

    let page = store.list(&s, &query(50)).await.unwrap();
    assert_eq!(ids(&page.tasks), ["e", "c", "b", "a", "B", "f", "d"]);
    assert_eq!((page.total_size, page.next_page_token.as_str()), (7, ""));

    let q = ListTasksQuery {
        context_id: Some("c1".into()),
        ..query(50)
    };
    let page = store.list(&s, &q).await.unwrap();
    assert_eq!(
        (ids(&page.tasks), page.total_size),
        (
            vec!["e", "b", "a", "B"]
                .into_iter()
                .map(String::from)
                .collect(),
            4
        )
    );

    let q = ListTasksQuery {
        state: Some(Working),
        ..query(50)
    };
    assert_eq!(
        ids(&store.list(&s, &q).await.unwrap().tasks),
        ["e", "c", "a", "B"]
    );

    let q = ListTasksQuery {
        context_id: Some("c2".into()),
        state: Some(Failed),
        ..query(50)
    };
    assert_eq!(ids(&store.list(&s, &q).await.unwrap().tasks), ["d"]);

    // statusTimestampAfter is inclusive.
    let q = ListTasksQuery {
        status_timestamp_after: Some(at(5_000)),
        ..query(50)
    };
    let page = store.list(&s, &q).await.unwrap();
    assert_eq!((ids(&page.tasks).len(), page.total_size), (5, 5));
    let q = ListTasksQuery {
        status_timestamp_after: Some(at(5_000) + chrono::Duration::microseconds(1)),
        ..query(50)
    };
    assert_eq!(ids(&store.list(&s, &q).await.unwrap().tasks), ["e"]);

    let q = ListTasksQuery {
        context_id: Some("none".into()),
        ..query(50)
    };
    let page = store.list(&s, &q).await.unwrap();
    assert!(page.tasks.is_empty() && page.total_size == 0 && page.next_page_token.is_empty());

    // The stored snapshot comes back whole.
    let q = ListTasksQuery {
        context_id: Some("c3".into()),
        ..query(50)
    };
    assert_eq!(
        store.list(&s, &q).await.unwrap().tasks,
        [task("f", "c3", InputRequired, 3_000)]
    );
}

async fn list_pages_have_no_gaps_or_duplicates(store: Arc<dyn TaskStore>) {
    let s = scope("alice", "");
    // 21 tasks over 7 timestamps: ties inside and across page boundaries.
    for i in 0..21 {
        let state = if i % 2 == 0 {
            TaskState::Working
        } else {
            TaskState::Completed
        };
        create(
            &*store,
            &s,
            &task(&format!("t{i:02}"), "c", state, 1_000 * (i % 7)),
        )
        .await;
    }
    let everything = store.list(&s, &query(100)).await.unwrap();
    assert_eq!(everything.tasks.len(), 21);

    for size in [1, 4, 7, 20, 21, 22] {
        let pages = all_pages(&*store, &s, &query(size)).await;
        assert_eq!(pages.len(), 21usize.div_ceil(size), "page size {size}");
        assert!(
            pages
                .iter()
                .all(|p| p.total_size == 21 && p.tasks.len() <= size)
        );
        let paged: Vec<Task> = pages.into_iter().flat_map(|p| p.tasks).collect();
        assert_eq!(ids(&paged), ids(&everything.tasks), "page size {size}");
    }

    // Filters hold on every page.
    let q = ListTasksQuery {
        state: Some(TaskState::Completed),
        ..query(3)
    };
    let pages = all_pages(&*store, &s, &q).await;
    assert!(pages.iter().all(|p| p.total_size == 10));
    let paged: Vec<Task> = pages.into_iter().flat_map(|p| p.tasks).collect();
    assert_eq!(paged.len(), 10);
    assert!(paged.iter().all(|t| t.status.state == TaskState::Completed));

    // An unreadable token starts from the beginning, as in the memory store.
    let q = ListTasksQuery {
        page_token: Some("!!not-a-token".into()),
        ..query(5)
    };
    assert_eq!(
        ids(&store.list(&s, &q).await.unwrap().tasks),
        ids(&everything.tasks[..5])
    );
}

/// `totalSize` comes from counters kept with the tasks (SQL) or from the listing index
/// (memory): a state change moves a task between the per-state totals, a refused creation
/// counts nothing, and the page order follows the new status time.
async fn list_totals_follow_creations_state_changes_and_conflicts(store: Arc<dyn TaskStore>) {
    use TaskState::*;
    let s = scope("alice", "t1");
    for (id, ms) in [("a", 1_000), ("b", 2_000), ("c", 3_000)] {
        create(&*store, &s, &task(id, "c", Working, ms)).await;
    }
    create(&*store, &scope("bob", "t1"), &task("z", "c", Working, 1)).await;
    let totals = |state: Option<TaskState>| {
        let store = store.clone();
        let s = s.clone();
        async move {
            let q = ListTasksQuery { state, ..query(2) };
            let page = store.list(&s, &q).await.unwrap();
            (page.total_size, ids(&page.tasks))
        }
    };
    assert_eq!(totals(None).await, (3, vec!["c".to_string(), "b".into()]));
    let again = store
        .create(
            &s,
            Version::V1,
            task("a", "c", Completed, 9),
            vec![],
            &[],
            None,
        )
        .await;
    assert!(matches!(again, Err(StoreError::Conflict)), "{again:?}");
    // `a` completes, and its new status makes it the newest.
    let done = task("a", "c", Completed, 10_000);
    let event = status_update(&done, serde_json::json!(1));
    store
        .commit(&s, "a", 1, done.clone(), vec![event], None)
        .await
        .unwrap();
    // A commit that keeps the state moves no counter.
    let event = status_update(&done, serde_json::json!(2));
    store
        .commit(&s, "a", 2, done, vec![event], None)
        .await
        .unwrap();
    assert_eq!(totals(None).await, (3, vec!["a".to_string(), "c".into()]));
    assert_eq!(
        totals(Some(Working)).await,
        (2, vec!["c".to_string(), "b".into()])
    );
    assert_eq!(totals(Some(Completed)).await, (1, vec!["a".to_string()]));
    assert_eq!(totals(Some(Failed)).await, (0, vec![]));
}

async fn list_pages_survive_inserts_between_pages(store: Arc<dyn TaskStore>) {
    let s = scope("alice", "");
    for i in 0..12 {
        create(
            &*store,
            &s,
            &task(&format!("t{i:02}"), "c", TaskState::Working, 10_000 + i),
        )
        .await;
    }
    let before = ids(&store.list(&s, &query(100)).await.unwrap().tasks);
    let mut q = query(5);
    let mut seen = Vec::new();
    let mut round = 0;
    loop {
        let page = store.list(&s, &q).await.unwrap();
        seen.extend(ids(&page.tasks));
        if page.next_page_token.is_empty() {
            break;
        }
        // Newer tasks land before the cursor (not seen), older ones after it (seen once).
        round += 1;
        create(
            &*store,
            &s,
            &task(&format!("new{round}"), "c", TaskState::Working, 50_000),
        )
        .await;
        create(
            &*store,
            &s,
            &task(&format!("old{round}"), "c", TaskState::Working, round),
        )
        .await;
        q.page_token = Some(page.next_page_token);
    }
    let unique: BTreeSet<_> = seen.iter().cloned().collect();
    assert_eq!(unique.len(), seen.len(), "duplicates: {seen:?}");
    for id in &before {
        assert!(unique.contains(id), "{id} missing from {seen:?}");
    }
    assert!(!unique.iter().any(|id| id.starts_with("new")), "{seen:?}");
    assert!(unique.iter().any(|id| id.starts_with("old")), "{seen:?}");
}

async fn scopes_are_isolated(store: Arc<dyn TaskStore>) {
    let home = scope("alice", "acme");
    let mut t = task("t1", "c1", TaskState::Working, 1_000);
    t.history.push(message("m1", Role::User));
    store
        .create_keyed(
            &home,
            Version::V1,
            t.clone(),
            vec![TaskEvent::Task(t.clone())],
            &[],
            None,
            Some(&key_record("k1", task_answer("t1", 0), 1_000)),
            None,
        )
        .await
        .unwrap();
    for other in [
        scope("bob", "acme"),
        scope("alice", "other"),
        scope("", ""),
        scope("alice", ""),
    ] {
        assert!(
            store.get(&other, "t1").await.unwrap().is_none(),
            "{other:?}"
        );
        assert!(matches!(
            store.events_after(&other, "t1", 0).await,
            Err(StoreError::NotFound)
        ));
        let r = store
            .commit(
                &other,
                "t1",
                1,
                t.clone(),
                vec![status_update(&t, json!(0))],
                None,
            )
            .await;
        assert!(matches!(r, Err(StoreError::NotFound)), "{other:?}: {r:?}");
        let page = store.list(&other, &query(10)).await.unwrap();
        assert!(page.tasks.is_empty() && page.total_size == 0, "{other:?}");
        assert_eq!(key_answer(&*store, &other, "k1", 1_000).await, None);
    }
    // The rejected commits left the task alone.
    let rec = store.get(&home, "t1").await.unwrap().unwrap();
    assert_eq!((rec.version, rec.last_seq), (1, 1));
    assert_eq!(
        key_answer(&*store, &home, "k1", 1_000).await,
        Some(task_answer("t1", 0))
    );
}

async fn idempotency_keys_keep_the_first_answer_per_scope_until_they_expire(
    store: Arc<dyn TaskStore>,
) {
    let s = scope("alice", "acme");
    let mut t1 = task("t1", "c1", TaskState::Working, 1_000);
    t1.history.push(message("m1", Role::User));
    let created = key_record("k1", task_answer("t1", 0), 1_000);
    store
        .create_keyed(
            &s,
            Version::V1,
            t1.clone(),
            vec![TaskEvent::Task(t1.clone())],
            &[],
            None,
            Some(&created),
            None,
        )
        .await
        .unwrap();
    let found = store.idempotency_key(&s, AGENT, "k1", 1_500).await.unwrap();
    assert_eq!(
        found.as_ref(),
        Some(&created),
        "the whole record comes back"
    );
    assert_eq!(key_answer(&*store, &s, "k9", 1_500).await, None);

    // A follow-up's key, written with its commit.
    let follow_up = message("m2", Role::User);
    t1.history.push(follow_up.clone());
    store
        .commit_keyed(
            &s,
            "t1",
            1,
            t1.clone(),
            vec![TaskEvent::UserMessage(follow_up)],
            None,
            Some(&key_record("k2", task_answer("t1", 2), 1_100)),
            None,
        )
        .await
        .unwrap();
    assert_eq!(
        key_answer(&*store, &s, "k2", 1_500).await,
        Some(task_answer("t1", 2))
    );
    // A task with webhooks commits in a transaction (its outbox rows): the key goes with it.
    let webhook = a2a_server::protocol::PushConfig {
        id: "hook".into(),
        task_id: "t1".into(),
        url: "http://127.0.0.1:9/hook".into(),
        token: None,
        authentication: None,
        origin: Version::V1,
    };
    store.put_push_config(&s, &webhook).await.unwrap();
    store
        .commit_keyed(
            &s,
            "t1",
            2,
            t1.clone(),
            vec![status_update(&t1, json!("with a webhook"))],
            None,
            Some(&key_record("k4", task_answer("t1", 3), 1_100)),
            None,
        )
        .await
        .unwrap();
    assert_eq!(
        key_answer(&*store, &s, "k4", 1_500).await,
        Some(task_answer("t1", 3))
    );

    // A bare message, on its own; its text survives the round trip exactly.
    let mut reply = (*message("r1", Role::Agent)).clone();
    reply.parts = vec![Part::text("a\u{0}b \"quoted\" é")];
    let answer = KeyAnswer::Message(reply);
    store
        .put_idempotency_key(&s, &key_record("k3", answer.clone(), 1_200))
        .await
        .unwrap();
    assert_eq!(
        key_answer(&*store, &s, "k3", 1_500).await,
        Some(answer.clone())
    );

    // The first answer wins while it lives.
    store
        .put_idempotency_key(&s, &key_record("k3", task_answer("t9", 0), 1_300))
        .await
        .unwrap();
    assert_eq!(key_answer(&*store, &s, "k3", 1_500).await, Some(answer));

    // The same key in another owner, tenant or agent is another key.
    for other in [scope("bob", "acme"), scope("alice", "other"), scope("", "")] {
        assert_eq!(
            key_answer(&*store, &other, "k1", 1_500).await,
            None,
            "{other:?}"
        );
        store
            .put_idempotency_key(&other, &key_record("k1", task_answer("t-other", 0), 1_500))
            .await
            .unwrap();
        assert_eq!(
            key_answer(&*store, &other, "k1", 1_500).await,
            Some(task_answer("t-other", 0))
        );
    }
    assert!(
        store
            .idempotency_key(&s, "another-agent", "k1", 1_500)
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(
        key_answer(&*store, &s, "k1", 1_500).await,
        Some(task_answer("t1", 0))
    );

    // Expired (1000 ms after creation), a key is no key, and a new answer replaces it.
    assert_eq!(
        key_answer(&*store, &s, "k1", 1_999).await,
        Some(task_answer("t1", 0))
    );
    assert_eq!(key_answer(&*store, &s, "k1", 2_000).await, None);
    store
        .put_idempotency_key(&s, &key_record("k1", task_answer("t2", 0), 2_000))
        .await
        .unwrap();
    assert_eq!(
        key_answer(&*store, &s, "k1", 2_500).await,
        Some(task_answer("t2", 0))
    );
}

async fn idempotency_keys_are_written_with_their_task_or_not_at_all(store: Arc<dyn TaskStore>) {
    let s = scope("alice", "");
    // Concurrent creations, some keyed: each key comes with its task, in one batch or not.
    let mut creations = Vec::new();
    for i in 0..40 {
        let store = store.clone();
        let s = s.clone();
        creations.push(tokio::spawn(async move {
            let t = task(&format!("t{i}"), "c", TaskState::Working, 1_000);
            let key =
                (i % 2 == 0).then(|| key_record(&format!("k{i}"), task_answer(&t.id, 0), 1_000));
            store
                .create_keyed(
                    &s,
                    Version::V1,
                    t.clone(),
                    vec![TaskEvent::Task(t)],
                    &[],
                    None,
                    key.as_ref(),
                    None,
                )
                .await
                .unwrap();
        }));
    }
    for c in creations {
        c.await.unwrap();
    }
    for i in 0..40 {
        let found = key_answer(&*store, &s, &format!("k{i}"), 1_000).await;
        let expected = (i % 2 == 0).then(|| task_answer(&format!("t{i}"), 0));
        assert_eq!(found, expected, "k{i}");
    }
}

async fn expired_idempotency_keys_are_purged(store: Arc<dyn TaskStore>) {
    let s = scope("alice", "");
    for (key, created) in [("old-1", 1_000), ("old-2", 1_500), ("live", 5_000)] {
        store
            .put_idempotency_key(&s, &key_record(key, task_answer("t", 0), created))
            .await
            .unwrap();
    }
    assert_eq!(store.purge_idempotency_keys(2_499).await.unwrap(), 1);
    assert_eq!(store.purge_idempotency_keys(2_500).await.unwrap(), 1);
    assert_eq!(store.purge_idempotency_keys(2_500).await.unwrap(), 0);
    // Gone from the store, not only hidden by the lookup's clock.
    assert_eq!(key_answer(&*store, &s, "old-1", 0).await, None);
    assert_eq!(key_answer(&*store, &s, "old-2", 0).await, None);
    assert_eq!(
        key_answer(&*store, &s, "live", 5_500).await,
        Some(task_answer("t", 0))
    );
    // A key recorded again after it expired outlives the purge of its first record.
    store
        .put_idempotency_key(&s, &key_record("live", task_answer("t2", 0), 6_000))
        .await
        .unwrap();
    assert_eq!(store.purge_idempotency_keys(6_500).await.unwrap(), 0);
    assert_eq!(
        key_answer(&*store, &s, "live", 6_500).await,
        Some(task_answer("t2", 0))
    );
    assert_eq!(store.purge_idempotency_keys(7_000).await.unwrap(), 1);
}

fn run(owner: &str, task_id: &str) -> ExpiredRun {
    ExpiredRun {
        scope: scope(owner, "acme"),
        task_id: task_id.into(),
    }
}

/// Creates `id` in `state` with `runner`'s lease until `until`.
async fn leased(
    store: &dyn TaskStore,
    s: &Scope,
    id: &str,
    state: TaskState,
    runner: &str,
    until: i64,
) {
    let t = task(id, "c", state, 1_000);
    let runner: Arc<str> = runner.into();
    let lease = Lease {
        runner: &runner,
        until,
    };
    store
        .create(
            s,
            Version::V1,
            t.clone(),
            vec![TaskEvent::Task(t.clone())],
            &[],
            Some(lease),
        )
        .await
        .unwrap();
}

async fn leases_are_renewed_cleared_and_expire(store: Arc<dyn TaskStore>) {
    let (a, b) = (scope("alice", "acme"), scope("bob", "acme"));
    leased(&*store, &a, "ta", TaskState::Working, "r1", 1_000).await;
    leased(&*store, &b, "tb", TaskState::Submitted, "r1", 1_000).await;
    leased(&*store, &a, "tc", TaskState::Working, "r2", 1_000).await;
    // Settled tasks hold no lease.
    leased(&*store, &a, "td", TaskState::InputRequired, "r2", 1_000).await;
    leased(&*store, &a, "te", TaskState::Completed, "r2", 1_000).await;
    store.heartbeat("r1", 5_000).await.unwrap();
    assert_eq!(
        store.take_expired_runs(1_000, 10).await.unwrap(),
        [],
        "lease_until < now"
    );
    assert_eq!(
        store.take_expired_runs(2_000, 10).await.unwrap(),
        [run("alice", "tc")]
    );
    assert_eq!(
        store.take_expired_runs(2_000, 10).await.unwrap(),
        [],
        "taken once"
    );

    // A commit that settles the task clears its lease; one that keeps it active renews it.
    let rec = store.get(&a, "ta").await.unwrap().unwrap();
    let mut done = rec.task.clone();
    done.status.state = TaskState::Completed;
    store
        .commit(
            &a,
            "ta",
            rec.version,
            done.clone(),
            vec![],
            Some(Lease {
                runner: &"r1".into(),
                until: 1,
            }),
        )
        .await
        .unwrap();
    let rec = store.get(&b, "tb").await.unwrap().unwrap();
    store
        .commit(
            &b,
            "tb",
            rec.version,
            rec.task.clone(),
            vec![],
            Some(Lease {
                runner: &"r3".into(),
                until: 7_000,
            }),
        )
        .await
        .unwrap();
    assert_eq!(store.take_expired_runs(6_000, 10).await.unwrap(), []);
    store.heartbeat("r1", 100).await.unwrap(); // r1 holds nothing any more
    assert_eq!(
        store.take_expired_runs(8_000, 10).await.unwrap(),
        [run("bob", "tb")]
    );

    // `limit` caps each take.
    for i in 0..5 {
        leased(
            &*store,
            &a,
            &format!("e{i}"),
            TaskState::Working,
            "r4",
            10 + i,
        )
        .await;
    }
    let first = store.take_expired_runs(1_000, 2).await.unwrap();
    let rest = store.take_expired_runs(1_000, 10).await.unwrap();
    assert_eq!((first.len(), rest.len()), (2, 3));
    let all: BTreeSet<_> = first
        .iter()
        .chain(&rest)
        .map(|r| r.task_id.clone())
        .collect();
    assert_eq!(all.len(), 5);
    assert_eq!(store.take_expired_runs(1_000, 0).await.unwrap(), []);
    assert_eq!(store.take_expired_runs(i64::MAX, 10).await.unwrap(), []);
}

async fn released_leases_are_recovered_at_once(store: Arc<dyn TaskStore>) {
    let (a, b) = (scope("alice", "acme"), scope("bob", "acme"));
    let far = i64::MAX / 2;
    leased(&*store, &a, "ra", TaskState::Working, "r1", far).await;
    leased(&*store, &b, "rb", TaskState::Submitted, "r1", far).await;
    leased(&*store, &a, "rc", TaskState::Working, "r2", far).await;
    // Settled tasks hold no lease, so there is nothing of theirs to release.
    leased(&*store, &a, "rd", TaskState::InputRequired, "r1", far).await;
    assert_eq!(store.take_expired_runs(1_000, 10).await.unwrap(), []);
    assert_eq!(store.release_leases("r1").await.unwrap(), 2);
    assert_eq!(
        store.release_leases("r1").await.unwrap(),
        0,
        "released once"
    );
    let taken: BTreeSet<_> = store
        .take_expired_runs(1, 10)
        .await
        .unwrap()
        .into_iter()
        .map(|r| (r.scope.owner, r.task_id))
        .collect();
    let want = [("alice", "ra"), ("bob", "rb")].map(|(o, t)| (o.to_string(), t.to_string()));
    assert_eq!(taken, BTreeSet::from(want), "any process recovers them now");
    // Another runner's lease is untouched.
    assert_eq!(store.take_expired_runs(far - 1, 10).await.unwrap(), []);
    assert_eq!(
        store.take_expired_runs(far + 1, 10).await.unwrap(),
        [run("alice", "rc")]
    );
}

async fn expired_runs_go_to_exactly_one_caller(store: Arc<dyn TaskStore>) {
    let s = scope("alice", "acme");
    for i in 0..60 {
        leased(
            &*store,
            &s,
            &format!("t{i:02}"),
            TaskState::Working,
            &format!("dead{}", i % 3),
            1_000,
        )
        .await;
    }
    let takers: Vec<_> = (0..4)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move {
                let mut mine = Vec::new();
                loop {
                    let got = store.take_expired_runs(2_000, 5).await.unwrap();
                    if got.is_empty() {
                        return mine;
                    }
                    mine.extend(got);
                }
            })
        })
        .collect();
    let mut taken = Vec::new();
    for t in takers {
        taken.extend(t.await.unwrap());
    }
    let unique: BTreeSet<_> = taken.iter().map(|r| r.task_id.clone()).collect();
    assert_eq!(
        (taken.len(), unique.len()),
        (60, 60),
        "each run exactly once"
    );
    assert!(taken.iter().all(|r| r.scope == s));
}

async fn purge_terminal_deletes_old_terminal_tasks_and_their_events(store: Arc<dyn TaskStore>) {
    let s = scope("alice", "");
    use TaskState::*;
    let rows = [
        ("done", Completed, 1_000),
        ("failed", Failed, 1_000),
        ("canceled", Canceled, 4_999),
        ("rejected", Rejected, 5_000), // not older than the cut-off
        ("working", Working, 1_000),
        ("waiting", InputRequired, 1_000),
        ("fresh", Completed, 10_000),
    ];
    for (id, st, ms) in rows {
        let mut t = task(id, "c", st, ms);
        t.history.push(message(&format!("m-{id}"), Role::User));
        create(&*store, &s, &t).await;
        store
            .commit(
                &s,
                id,
                1,
                t.clone(),
                vec![status_update(&t, json!(id))],
                None,
            )
            .await
            .unwrap();
    }
    assert_eq!(store.purge_terminal(5_000).await.unwrap(), 3);
    for gone in ["done", "failed", "canceled"] {
        assert!(store.get(&s, gone).await.unwrap().is_none(), "{gone}");
        assert!(matches!(
            store.events_after(&s, gone, 0).await,
            Err(StoreError::NotFound)
        ));
    }
    for kept in ["rejected", "working", "waiting", "fresh"] {
        assert_eq!(
            store.get(&s, kept).await.unwrap().unwrap().last_seq,
            2,
            "{kept}"
        );
        assert_eq!(
            seqs(&store.events_after(&s, kept, 0).await.unwrap()),
            [1, 2]
        );
    }
    assert_eq!(store.list(&s, &query(50)).await.unwrap().total_size, 4);
    // The purged id is free again, with a log from seq 1: the old events are gone.
    let again = task("done", "c", Working, 20_000);
    assert_eq!(seqs(&create(&*store, &s, &again).await), [1]);
    assert_eq!(store.events_after(&s, "done", 0).await.unwrap().len(), 1);
    assert_eq!(store.purge_terminal(5_000).await.unwrap(), 0);
}

/// Valid JSON that PostgreSQL's `jsonb` refuses: U+0000 (`"\u0000"`) in texts, metadata
/// keys and values, and webhook credentials. Every read gives back the same strings.
async fn json_strings_with_nul_are_kept_exactly(store: Arc<dyn TaskStore>) {
    use a2a_server::protocol::{PushAuth, PushConfig};
    let s = scope("alice", "");
    let nul = "a\u{0}b";
    let meta = || {
        Some(serde_json::Map::from_iter([(
            nul.to_string(),
            json!([nul, {nul: nul}]),
        )]))
    };
    let mut m = (*message("m-nul", Role::User)).clone();
    m.parts = vec![Part::text(nul), Part::data(json!({nul: nul}))];
    m.metadata = meta();
    // One task with a webhook (the transactional paths), one without (the one-statement
    // create and commit on PostgreSQL).
    for (id, push) in [("with-push", true), ("plain", false)] {
        let mut t = task(id, "c", TaskState::Submitted, 1_000);
        t.history.push(Arc::new(m.clone()));
        t.metadata = meta();
        let configs: Vec<PushConfig> = push
            .then(|| PushConfig {
                id: "hook".into(),
                task_id: id.into(),
                url: "http://127.0.0.1:9/hook".into(),
                token: None,
                authentication: Some(PushAuth {
                    schemes: vec!["Bearer".into()],
                    credentials: Some(nul.into()),
                }),
                origin: Version::V1,
            })
            .into_iter()
            .collect();
        store
            .create(
                &s,
                Version::V1,
                t.clone(),
                vec![TaskEvent::Task(t.clone())],
                &configs,
                None,
            )
            .await
            .unwrap();
        let mut done = t.clone();
        done.status = TaskStatus {
            state: TaskState::Completed,
            message: Some(Arc::new(m.clone())),
            timestamp: at(2_000),
        };
        // The status message joins the history, as the event's.
        done.history.push(Arc::new(m.clone()));
        let event = status_update(&done, json!(nul));
        store
            .commit(&s, id, 1, done.clone(), vec![event.clone()], None)
            .await
            .unwrap();

        assert_eq!(store.get(&s, id).await.unwrap().unwrap().task, done, "{id}");
        let log = store.events_after(&s, id, 0).await.unwrap();
        assert_eq!(log[0].event, TaskEvent::Task(t), "{id}");
        assert_eq!(log[1].event, event, "{id}");
        if push {
            let config = store.get_push_config(&s, id, "hook").await.unwrap();
            assert_eq!(config.as_ref(), configs.first(), "{id}");
        }
    }
    let listed = store.list(&s, &query(10)).await.unwrap().tasks;
    assert_eq!(listed.len(), 2);
    for t in &listed {
        assert_eq!(t.metadata, meta(), "{}", t.id);
        assert_eq!(t.history[0].parts, m.parts, "{}", t.id);
    }
    // The webhook's queue, one head at a time: the snapshot, then the completion.
    let now = store::now_millis() + 1_000;
    let first = store.claim_deliveries(now, now + 10_000, 10).await.unwrap();
    assert_eq!(first.len(), 1, "{first:?}");
    let creds = first[0]
        .authentication
        .as_ref()
        .unwrap()
        .credentials
        .as_deref();
    assert_eq!(creds, Some(nul));
    let TaskEvent::Task(snapshot) = &first[0].payload else {
        panic!("{:?}", first[0].payload)
    };
    assert_eq!(snapshot.metadata, meta());
    store.complete_delivery(first[0].id).await.unwrap();
    let second = store.claim_deliveries(now, now + 10_000, 10).await.unwrap();
    let TaskEvent::StatusUpdate(u) = &second[0].payload else {
        panic!("{:?}", second[0].payload)
    };
    assert_eq!(u.metadata.as_ref().unwrap()["tag"], json!(nul));
    assert_eq!(u.status.message.as_ref().unwrap().parts, m.parts);
}

// ---------------------------------------------------------------------------------------
// Opening stores

fn quick() -> DbOptions {
    DbOptions {
        acquire_timeout: Duration::from_secs(3),
        ..DbOptions::default()
    }
}

#[tokio::test]
async fn connect_reports_bad_urls_without_the_password() {
    for url in [
        "postgres://u:secret@127.0.0.1:notaport/x",
        "mysql://u:secret@127.0.0.1/x",
        "postgres://u:secret@127.0.0.1:5432/x?sslmode=bogus",
    ] {
        let err = match store::connect(url, &quick()).await {
            Err(e) => e,
            Ok(_) => panic!("{url} connected"),
        };
        let msg = err.to_string();
        assert!(matches!(err, StoreError::Connect(_)), "{url}: {err:?}");
        assert!(msg.contains("u:***@") && !msg.contains("secret"), "{msg}");
    }
}

#[tokio::test]
async fn connect_reports_an_unreachable_postgres_without_the_password() {
    let url = "postgres://u:secret@127.0.0.1:1/x";
    let started = std::time::Instant::now();
    let err = match store::connect(url, &quick()).await {
        Err(e) => e,
        Ok(_) => panic!("connected to port 1"),
    };
    let msg = err.to_string();
    assert!(matches!(err, StoreError::Connect(_)), "{err:?}");
    assert!(
        msg.starts_with("cannot connect to the task store at postgres://u:***@127.0.0.1:1/x: "),
        "{msg}"
    );
    assert!(!msg.contains("secret"), "{msg}");
    assert!(started.elapsed() < Duration::from_secs(10));
    // `a2a migrate` reports the same.
    let err = store::migrate(url, &quick()).await.unwrap_err().to_string();
    assert!(err.contains("u:***@") && !err.contains("secret"), "{err}");
}

#[tokio::test]
async fn sqlite_reopens_with_its_data_and_creates_its_directory() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!(
        "sqlite://{}",
        dir.path().join("nested/deeper/a2a.db").display()
    );
    let s = scope("alice", "");
    let mut t = task("t1", "c1", TaskState::Working, 1_000);
    t.history.push(message("m1", Role::User));
    {
        let store = store::connect(&url, &DbOptions::default()).await.unwrap();
        create(&*store, &s, &t).await;
        store
            .commit(
                &s,
                "t1",
                1,
                t.clone(),
                vec![status_update(&t, json!(1))],
                None,
            )
            .await
            .unwrap();
        let rec = store.get(&s, "t1").await.unwrap().unwrap();
        let lease = Lease {
            runner: &"r1".into(),
            until: 1_000,
        };
        store
            .commit(&s, "t1", rec.version, t.clone(), vec![], Some(lease))
            .await
            .unwrap();
    }
    store::migrate(&url, &DbOptions::default()).await.unwrap(); // idempotent
    let store = store::connect(&url, &DbOptions::default()).await.unwrap();
    let rec = store.get(&s, "t1").await.unwrap().unwrap();
    assert_eq!((rec.task, rec.version, rec.last_seq), (t, 3, 2));
    assert_eq!(
        seqs(&store.events_after(&s, "t1", 0).await.unwrap()),
        [1, 2]
    );
    assert_eq!(store.take_expired_runs(2_000, 10).await.unwrap().len(), 1);
    // Every connection runs in WAL mode, synchronous=NORMAL, with foreign keys.
    let sqlite = store::SqliteStore::connect(&url, &DbOptions::default())
        .await
        .unwrap();
    let pool = sqlite.pool();
    let journal: String = sqlx::query_scalar("PRAGMA journal_mode")
        .fetch_one(pool)
        .await
        .unwrap();
    let synchronous: i64 = sqlx::query_scalar("PRAGMA synchronous")
        .fetch_one(pool)
        .await
        .unwrap();
    let foreign_keys: i64 = sqlx::query_scalar("PRAGMA foreign_keys")
        .fetch_one(pool)
        .await
        .unwrap();
    assert_eq!((journal.as_str(), synchronous, foreign_keys), ("wal", 1, 1));
    store::migrate("memory:", &DbOptions::default())
        .await
        .unwrap();
}

/// A migration only a newer binary knows, as if one had migrated the database.
const FUTURE_MIGRATION: i64 = 99_990_001;
const RECORD_FUTURE_MIGRATION: &str = "\
    INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
    VALUES ($1, 'from the future', TRUE, $2, 0)";

/// Records [`FUTURE_MIGRATION`] as applied, then closes the pool.
async fn record_future_migration<DB: sqlx::Database>(pool: &sqlx::Pool<DB>)
where
    for<'c> &'c mut DB::Connection: sqlx::Executor<'c, Database = DB>,
    for<'q> i64: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> Vec<u8>: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    DB::Arguments: sqlx::IntoArguments<DB>,
{
    sqlx::query(RECORD_FUTURE_MIGRATION)
        .bind(FUTURE_MIGRATION)
        .bind(vec![0u8])
        .execute(pool)
        .await
        .unwrap();
    pool.close().await;
}

/// Opening and migrating the store at `url` (with a future migration) both fail, naming
/// the migration and the URL.
async fn assert_refuses_newer_schema(url: &str) {
    let opts = DbOptions::default();
    let errors = [
        store::connect(url, &opts).await.err(),
        store::migrate(url, &opts).await.err(),
    ];
    for err in errors {
        let err = err.expect("opened a database a newer binary migrated");
        let msg = err.to_string();
        assert!(matches!(err, StoreError::Migrate(_)), "{err:?}");
        assert!(msg.contains(&FUTURE_MIGRATION.to_string()), "{msg}");
        assert!(msg.contains(&a2a_server::config::redact(url)), "{msg}");
    }
}

#[tokio::test]
async fn sqlite_refuses_a_database_from_a_newer_binary() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("a2a.db").display());
    let store = store::SqliteStore::connect(&url, &DbOptions::default())
        .await
        .unwrap();
    record_future_migration(store.pool()).await;
    assert_refuses_newer_schema(&url).await;
}

#[tokio::test]
async fn postgres_refuses_a_database_from_a_newer_binary() {
    let Some(db) = TestDatabase::create().await else {
        return;
    };
    let store = store::PostgresStore::connect(&db.url, &DbOptions::default())
        .await
        .unwrap();
    record_future_migration(store.pool()).await;
    assert_refuses_newer_schema(&db.url).await;
}

#[tokio::test]
async fn postgres_reconnects_to_its_data_with_a_statement_timeout() {
    let Some(db) = TestDatabase::create().await else {
        return;
    };
    let s = scope("alice", "acme");
    let t = task("t1", "c1", TaskState::Working, 1_000);
    {
        let store = store::connect(&db.url, &DbOptions::default())
            .await
            .unwrap();
        create(&*store, &s, &t).await;
    }
    let opts = DbOptions {
        statement_timeout: Duration::from_millis(1_500),
        ..DbOptions::default()
    };
    let store = store::PostgresStore::connect(&db.url, &opts).await.unwrap();
    assert_eq!(store.get(&s, "t1").await.unwrap().unwrap().task, t);
    let timeout: String = sqlx::query_scalar("SHOW statement_timeout")
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(timeout, "1500ms");
}

/// Pooled connections are not checked on every use (that was a round trip per
/// statement), but one that sat idle is: connections the database dropped meanwhile (a
/// restart, an idle timeout) are replaced, and the next request succeeds.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_connections_dropped_while_idle_are_replaced() {
    use sqlx::Connection;
    let Some(db) = TestDatabase::create().await else {
        return;
    };
    let store = a2a_server::store::connect(&db.url, &Default::default())
        .await
        .unwrap();
    let s = scope("alice", "");
    create(&*store, &s, &task("t1", "c", TaskState::Working, 1_000)).await;
    tokio::time::sleep(Duration::from_millis(1_200)).await;
    let db_name = db.url.rsplit('/').next().unwrap().to_string();
    let mut admin = sqlx::PgConnection::connect(&db.url).await.unwrap();
    let killed: Vec<bool> = sqlx::query_scalar(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE datname = $1 AND pid <> pg_backend_pid()",
    )
    .bind(&db_name)
    .fetch_all(&mut admin)
    .await
    .unwrap();
    assert!(
        !killed.is_empty() && killed.iter().all(|k| *k),
        "{killed:?}"
    );
    admin.close().await.unwrap();
    for _ in 0..3 {
        let got = store.get(&s, "t1").await.unwrap().expect("the task");
        assert_eq!(got.version, 1);
    }
    drop(store);
}

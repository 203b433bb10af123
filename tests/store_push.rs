//! The push half of the store (configs and the delivery outbox), run unchanged against
//! every backend: memory, SQLite and PostgreSQL.

mod support;

use std::collections::HashSet;
use std::sync::Arc;

use a2a_server::protocol::{
    PushAuth, PushConfig, Task, TaskEvent, TaskState, TaskStatus, TaskStatusUpdateEvent, Version,
};
use a2a_server::store::{Delivery, OutboxDepth, Scope, StoreError, TaskStore};
use support::stores::store_suite;

store_suite!(
    configs_are_upserted_listed_by_id_and_scoped,
    commits_queue_one_notification_per_event_and_config,
    a_webhook_gets_its_notifications_one_at_a_time_in_order,
    retries_wait_their_turn_and_dead_letters_step_aside,
    lapsed_claims_are_claimed_again,
    concurrent_claimers_never_share_a_notification,
    deleting_a_config_drops_its_queue_and_purge_keeps_undelivered_tasks,
    purge_passes_over_an_undelivered_task_among_many_old_ones,
    notifications_keep_the_traceparent_of_their_write,
);

fn scope() -> Scope {
    Scope {
        owner: "alice".into(),
        tenant: String::new(),
    }
}

fn task(id: &str, state: TaskState) -> Task {
    Task {
        id: id.into(),
        context_id: "ctx".into(),
        status: TaskStatus::new(state, None),
        artifacts: Vec::new(),
        history: Vec::new(),
        metadata: None,
    }
}

fn config(task_id: &str, id: &str, origin: Version) -> PushConfig {
    PushConfig {
        id: id.into(),
        task_id: task_id.into(),
        url: format!("http://127.0.0.1:9/{id}"),
        token: Some(format!("tok-{id}")),
        authentication: Some(PushAuth {
            schemes: vec!["Bearer".into()],
            credentials: Some("secret".into()),
        }),
        origin,
    }
}

fn status(t: &Task, state: TaskState) -> TaskEvent {
    TaskEvent::StatusUpdate(TaskStatusUpdateEvent {
        task_id: t.id.clone(),
        context_id: t.context_id.clone(),
        status: TaskStatus::new(state, None),
        metadata: None,
    })
}

/// Creates a submitted task with `push` and moves it to `state` in a second commit.
async fn task_with(store: &dyn TaskStore, id: &str, push: &[PushConfig]) -> Task {
    let t = task(id, TaskState::Submitted);
    store
        .create(
            &scope(),
            Version::V1,
            t.clone(),
            vec![TaskEvent::Task(t.clone())],
            push,
            None,
        )
        .await
        .unwrap();
    t
}

async fn advance(store: &dyn TaskStore, t: &Task, states: &[TaskState]) {
    let record = store.get(&scope(), &t.id).await.unwrap().unwrap();
    let mut next = record.task.clone();
    let events: Vec<TaskEvent> = states.iter().map(|s| status(t, *s)).collect();
    for e in &events {
        next.apply(e);
    }
    store
        .commit(
            &scope(),
            &t.id,
            record.version,
            next.clone(),
            events.to_vec(),
            None,
        )
        .await
        .unwrap();
}

async fn claim(store: &dyn TaskStore, now: i64) -> Vec<Delivery> {
    store
        .claim_deliveries(now, now + 10_000, 100)
        .await
        .unwrap()
}

fn keys(ds: &[Delivery]) -> Vec<(String, String, u64)> {
    let mut k: Vec<_> = ds
        .iter()
        .map(|d| (d.task_id.clone(), d.config_id.clone(), d.seq))
        .collect();
    k.sort();
    k
}

async fn drain(store: &dyn TaskStore) -> Vec<Delivery> {
    let mut all = Vec::new();
    let now = chrono::Utc::now().timestamp_millis() + 1_000;
    loop {
        let batch = store
            .claim_deliveries(now, now + 10_000, 100)
            .await
            .unwrap();
        if batch.is_empty() {
            return all;
        }
        for d in batch {
            store.complete_delivery(d.id).await.unwrap();
            all.push(d);
        }
    }
}

async fn configs_are_upserted_listed_by_id_and_scoped(store: Arc<dyn TaskStore>) {
    let s = scope();
    task_with(&*store, "t1", &[]).await;
    for id in ["c", "a", "b"] {
        store
            .put_push_config(&s, &config("t1", id, Version::V1))
            .await
            .unwrap();
    }
    let mut replaced = config("t1", "b", Version::V03);
    replaced.url = "http://127.0.0.1:9/other".into();
    replaced.authentication = None;
    store.put_push_config(&s, &replaced).await.unwrap();
    assert_eq!(
        store.get_push_config(&s, "t1", "b").await.unwrap(),
        Some(replaced)
    );
    assert_eq!(
        store.get_push_config(&s, "t1", "a").await.unwrap(),
        Some(config("t1", "a", Version::V1)),
        "token and credentials round-trip"
    );
    assert_eq!(store.get_push_config(&s, "t1", "zz").await.unwrap(), None);
    let ids = |v: Vec<PushConfig>| v.into_iter().map(|c| c.id).collect::<Vec<_>>();
    assert_eq!(
        ids(store.list_push_configs(&s, "t1", None, 10).await.unwrap()),
        ["a", "b", "c"]
    );
    assert_eq!(
        ids(store
            .list_push_configs(&s, "t1", Some("a"), 1)
            .await
            .unwrap()),
        ["b"]
    );
    assert!(store.delete_push_config(&s, "t1", "a").await.unwrap());
    assert!(!store.delete_push_config(&s, "t1", "a").await.unwrap());
    // Unknown task, or another owner's: not found.
    let bob = Scope {
        owner: "bob".into(),
        tenant: String::new(),
    };
    for (sc, task) in [(&s, "nope"), (&bob, "t1")] {
        assert!(matches!(
            store
                .put_push_config(sc, &config(task, "x", Version::V1))
                .await,
            Err(StoreError::NotFound)
        ));
        assert!(matches!(
            store.get_push_config(sc, task, "b").await,
            Err(StoreError::NotFound)
        ));
        assert!(matches!(
            store.list_push_configs(sc, task, None, 5).await,
            Err(StoreError::NotFound)
        ));
        assert!(matches!(
            store.delete_push_config(sc, task, "b").await,
            Err(StoreError::NotFound)
        ));
    }
}

async fn commits_queue_one_notification_per_event_and_config(store: Arc<dyn TaskStore>) {
    // No configs: nothing queued.
    let quiet = task_with(&*store, "quiet", &[]).await;
    advance(&*store, &quiet, &[TaskState::Working]).await;
    assert_eq!(store.outbox_depth().await.unwrap(), OutboxDepth::default());

    let t = task_with(
        &*store,
        "loud",
        &[
            config("loud", "v1", Version::V1),
            config("loud", "v03", Version::V03),
        ],
    )
    .await;
    advance(&*store, &t, &[TaskState::Working, TaskState::Completed]).await;
    // 1.0: every event (3); 0.3: one per commit (2).
    let depth = store.outbox_depth().await.unwrap();
    assert_eq!(depth.pending, 5);
    let all = drain(&*store).await;
    // The oldest pending row is the first one written.
    let first_written = all.iter().map(|d| d.created_at).min();
    assert_eq!(depth.oldest_pending_at, first_written);
    assert_eq!(
        keys(&all),
        [
            ("loud".into(), "v03".into(), 1),
            ("loud".into(), "v03".into(), 3),
            ("loud".into(), "v1".into(), 1),
            ("loud".into(), "v1".into(), 2),
            ("loud".into(), "v1".into(), 3),
        ]
    );
    for d in &all {
        assert_eq!(d.url, format!("http://127.0.0.1:9/{}", d.config_id));
        assert_eq!(
            d.token.as_deref(),
            Some(format!("tok-{}", d.config_id).as_str())
        );
        assert_eq!(
            d.authentication.as_ref().unwrap().credentials.as_deref(),
            Some("secret")
        );
        assert_eq!(d.attempts, 1);
        match (d.origin, &d.payload) {
            // 0.x: the task as of the commit.
            (Version::V03, TaskEvent::Task(task)) if d.seq == 3 => {
                assert_eq!(task.status.state, TaskState::Completed)
            }
            (Version::V03, TaskEvent::Task(task)) => {
                assert_eq!(task.status.state, TaskState::Submitted)
            }
            (Version::V1, TaskEvent::Task(_)) => assert_eq!(d.seq, 1),
            (Version::V1, TaskEvent::StatusUpdate(u)) => assert_eq!(
                u.status.state,
                if d.seq == 2 {
                    TaskState::Working
                } else {
                    TaskState::Completed
                }
            ),
            other => panic!("unexpected payload {other:?}"),
        }
    }
    assert_eq!(store.outbox_depth().await.unwrap(), OutboxDepth::default());

    // A config added later gets what follows.
    let t2 = task_with(&*store, "later", &[]).await;
    store
        .put_push_config(&scope(), &config("later", "c", Version::V1))
        .await
        .unwrap();
    advance(&*store, &t2, &[TaskState::Working]).await;
    assert_eq!(
        keys(&drain(&*store).await),
        [("later".into(), "c".into(), 2)]
    );
}

async fn a_webhook_gets_its_notifications_one_at_a_time_in_order(store: Arc<dyn TaskStore>) {
    let t = task_with(
        &*store,
        "t",
        &[config("t", "a", Version::V1), config("t", "b", Version::V1)],
    )
    .await;
    advance(&*store, &t, &[TaskState::Working]).await;
    advance(&*store, &t, &[TaskState::Completed]).await;
    let now = chrono::Utc::now().timestamp_millis() + 1_000;
    // One head per config.
    let heads = claim(&*store, now).await;
    assert_eq!(
        keys(&heads),
        [("t".into(), "a".into(), 1), ("t".into(), "b".into(), 1)]
    );
    // Held heads block their queues.
    assert!(claim(&*store, now).await.is_empty());
    let a1 = heads.iter().find(|d| d.config_id == "a").unwrap();
    // The next of a config comes only after its head is done.
    assert_eq!(
        store
            .claim_next_delivery(a1, now, now + 10_000)
            .await
            .unwrap(),
        None
    );
    store.complete_delivery(a1.id).await.unwrap();
    let a2 = store
        .claim_next_delivery(a1, now, now + 10_000)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((a2.config_id.as_str(), a2.seq), ("a", 2));
    // Claimed by us: nobody else gets it.
    assert!(claim(&*store, now).await.is_empty());
    store.complete_delivery(a2.id).await.unwrap();
    let a3 = claim(&*store, now).await;
    assert_eq!(keys(&a3), [("t".into(), "a".into(), 3)]);
}

async fn retries_wait_their_turn_and_dead_letters_step_aside(store: Arc<dyn TaskStore>) {
    let t = task_with(&*store, "t", &[config("t", "a", Version::V1)]).await;
    advance(&*store, &t, &[TaskState::Working]).await;
    let now = chrono::Utc::now().timestamp_millis() + 1_000;
    let first = claim(&*store, now).await.remove(0);
    store
        .retry_delivery(first.id, now + 5_000, "webhook answered 500")
        .await
        .unwrap();
    // Not due yet, and the next one waits behind it.
    assert!(claim(&*store, now + 1_000).await.is_empty());
    let again = claim(&*store, now + 5_000).await.remove(0);
    assert_eq!((again.id, again.attempts), (first.id, 2));
    assert_eq!(again.last_error.as_deref(), Some("webhook answered 500"));
    store
        .dead_letter(again.id, now + 5_000, "gave up")
        .await
        .unwrap();
    // The dead letter no longer holds the queue.
    let next = claim(&*store, now + 5_000).await.remove(0);
    assert_eq!(next.seq, 2);
    store.complete_delivery(next.id).await.unwrap();
    let dead = store.dead_letters(10).await.unwrap();
    assert_eq!(dead.len(), 1);
    assert_eq!(
        (dead[0].id, dead[0].dead_at, dead[0].last_error.as_deref()),
        (first.id, Some(now + 5_000), Some("gave up"))
    );
    assert_eq!(
        store.outbox_depth().await.unwrap(),
        OutboxDepth {
            pending: 0,
            dead: 1,
            oldest_pending_at: None,
        }
    );
    assert_eq!(
        store
            .requeue_dead_letters(Some(first.id + 1000), now)
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        store.requeue_dead_letters(None, now + 6_000).await.unwrap(),
        1
    );
    let back = claim(&*store, now + 6_000).await.remove(0);
    assert_eq!((back.id, back.attempts), (first.id, 1));
    assert!(store.dead_letters(10).await.unwrap().is_empty());
}

async fn lapsed_claims_are_claimed_again(store: Arc<dyn TaskStore>) {
    task_with(&*store, "t", &[config("t", "a", Version::V1)]).await;
    let now = chrono::Utc::now().timestamp_millis() + 1_000;
    let d = store.claim_deliveries(now, now + 10_000, 10).await.unwrap();
    assert_eq!(d.len(), 1);
    assert!(
        store
            .claim_deliveries(now + 5_000, now + 15_000, 10)
            .await
            .unwrap()
            .is_empty()
    );
    // The claimer died: after its claim lapses the notification goes out again.
    let again = store
        .claim_deliveries(now + 10_001, now + 20_000, 10)
        .await
        .unwrap();
    assert_eq!((again[0].id, again[0].attempts), (d[0].id, 2));
}

async fn concurrent_claimers_never_share_a_notification(store: Arc<dyn TaskStore>) {
    for i in 0..40 {
        let id = format!("t{i}");
        task_with(&*store, &id, &[config(&id, "a", Version::V1)]).await;
    }
    let now = chrono::Utc::now().timestamp_millis() + 1_000;
    let mut handles = Vec::new();
    for _ in 0..4 {
        let store = store.clone();
        handles.push(tokio::spawn(async move {
            let mut mine = Vec::new();
            loop {
                let batch = store.claim_deliveries(now, now + 60_000, 3).await.unwrap();
                if batch.is_empty() {
                    return mine;
                }
                mine.extend(batch.into_iter().map(|d| d.id));
            }
        }));
    }
    let mut seen = HashSet::new();
    for h in handles {
        for id in h.await.unwrap() {
            assert!(seen.insert(id), "notification {id} claimed twice");
        }
    }
    assert_eq!(seen.len(), 40);
}

async fn deleting_a_config_drops_its_queue_and_purge_keeps_undelivered_tasks(
    store: Arc<dyn TaskStore>,
) {
    let s = scope();
    let t = task_with(
        &*store,
        "t",
        &[config("t", "a", Version::V1), config("t", "b", Version::V1)],
    )
    .await;
    advance(&*store, &t, &[TaskState::Completed]).await;
    assert!(store.delete_push_config(&s, "t", "a").await.unwrap());
    assert_eq!(store.outbox_depth().await.unwrap().pending, 2);
    // Terminal and old, but "b" still has notifications to deliver: kept.
    let future = chrono::Utc::now().timestamp_millis() + 60_000;
    assert_eq!(store.purge_terminal(future).await.unwrap(), 0);
    assert!(store.get(&s, "t").await.unwrap().is_some());
    let delivered = drain(&*store).await;
    assert!(delivered.iter().all(|d| d.config_id == "b"));
    assert_eq!(store.purge_terminal(future).await.unwrap(), 1);
    assert!(store.get(&s, "t").await.unwrap().is_none());
}

async fn purge_passes_over_an_undelivered_task_among_many_old_ones(store: Arc<dyn TaskStore>) {
    let s = scope();
    // More than one of the memory store's purge batches, with the task still owed a
    // notification in the middle of them.
    let mut ids = Vec::new();
    for i in 0..600 {
        if i == 300 {
            let owed = task_with(&*store, "owed", &[config("owed", "a", Version::V1)]).await;
            advance(&*store, &owed, &[TaskState::Completed]).await;
        }
        let t = task_with(&*store, &format!("t{i:03}"), &[]).await;
        advance(&*store, &t, &[TaskState::Completed]).await;
        ids.push(t.id);
    }
    let future = chrono::Utc::now().timestamp_millis() + 60_000;
    assert_eq!(store.purge_terminal(future).await.unwrap(), 600);
    for id in &ids {
        assert!(store.get(&s, id).await.unwrap().is_none(), "{id}");
    }
    assert!(store.get(&s, "owed").await.unwrap().is_some());
    let delivered = drain(&*store).await;
    assert!(!delivered.is_empty() && delivered.iter().all(|d| d.task_id == "owed"));
    assert_eq!(store.purge_terminal(future).await.unwrap(), 1);
    assert!(store.get(&s, "owed").await.unwrap().is_none());
}

/// The writer's `traceparent` is stored with each notification of its events (creation
/// and commit alike), so a delivery in any process continues the trace; none: NULL.
async fn notifications_keep_the_traceparent_of_their_write(store: Arc<dyn TaskStore>) {
    const AT_CREATE: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    const AT_COMMIT: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-b7ad6b7169203331-01";
    let t = task("traced", TaskState::Submitted);
    let push = [config("traced", "hook", Version::V1)];
    store
        .create_keyed(
            &scope(),
            Version::V1,
            t.clone(),
            vec![TaskEvent::Task(t.clone())],
            &push,
            None,
            None,
            Some(AT_CREATE),
        )
        .await
        .unwrap();
    let record = store.get(&scope(), &t.id).await.unwrap().unwrap();
    let event = status(&t, TaskState::Working);
    let mut next = record.task.clone();
    next.apply(&event);
    store
        .commit_keyed(
            &scope(),
            &t.id,
            record.version,
            next.clone(),
            vec![event],
            None,
            None,
            Some(AT_COMMIT),
        )
        .await
        .unwrap();
    advance(&*store, &next, &[TaskState::Completed]).await;
    let mut got: Vec<(u64, Option<String>)> = drain(&*store)
        .await
        .into_iter()
        .map(|d| (d.seq, d.traceparent))
        .collect();
    got.sort();
    assert_eq!(
        got,
        vec![
            (1, Some(AT_CREATE.to_string())),
            (2, Some(AT_COMMIT.to_string())),
            (3, None),
        ]
    );
}

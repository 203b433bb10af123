//! PostgreSQL store: tasks, event logs, idempotency keys and runs in `a2a_*` tables; the
//! statements and the `TaskStore` implementation are shared with SQLite (`sql/`).

use std::collections::HashSet;
use std::str::FromStr;
use std::sync::Arc;

use sqlx::PgPool;
use sqlx::migrate::Migrator;
use sqlx::postgres::PgConnectOptions;

use super::connect::{connect_error, open_pool};
use super::group_commit::{BatchResult, CreateJob};
use super::migrations;
use super::sql::{
    BEGIN_POSTGRES, TAKE_EXPIRED_RUNS_POSTGRES, backend, bind_task_update, now_millis,
    sql_task_store, to_i64,
};
use super::sql_push::{claim_sql, sql_push_store};
use super::{DbOptions, StoreError};

/// Claims due notifications; rows another process is claiming are skipped.
static CLAIM: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| claim_sql("FOR UPDATE SKIP LOCKED"));

static MIGRATOR: std::sync::LazyLock<Migrator> =
    std::sync::LazyLock::new(|| migrations::migrator(migrations::POSTGRES));

/// A task store in a PostgreSQL database; several server processes may share one.
#[derive(Debug, Clone)]
pub struct PostgresStore {
    pool: PgPool,
    /// Writes share the pool: row locks and the version check order them.
    writer: PgPool,
    /// Wakes this process's push worker when a commit queues notifications.
    outbox_signal: std::sync::Arc<tokio::sync::Notify>,
    /// Concurrent task creations share transactions.
    group: Arc<super::group_commit::GroupCommit>,
    /// Concurrent idempotency-key lookups share statements.
    lookups: Arc<super::sql::KeyLookups>,
}

impl PostgresStore {
    /// The pool's connections (`writer` is the same pool).
    fn pools(&self) -> crate::metrics::PoolStats {
        crate::metrics::PoolStats {
            size: self.pool.size(),
            idle: u32::try_from(self.pool.num_idle()).unwrap_or(u32::MAX),
        }
    }

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

    /// A store on a pool whose database already has the schema (run
    /// [`Self::migrator`] first).
    pub fn from_pool(pool: PgPool) -> Self {
        Self {
            writer: pool.clone(),
            pool,
            outbox_signal: Default::default(),
            group: Default::default(),
            lookups: Default::default(),
        }
    }
}

/// The records of many idempotency keys (`$1`: a JSON array of `[tenant, owner, agent,
/// key]`); an unused key has no row. Each key must be a primary-key probe. The planner
/// guesses 100 keys for `jsonb_array_elements`, and for that many it would rather hash the
/// whole table (a plain `LATERAL` subquery is flattened into that same join; a benchmark
/// showed it seq-scanning 35 M rows). `LIMIT 1` keeps the subquery apart, so it runs once
/// per key, where the index always wins.
const KEY_LOOKUP: &str = "\
    SELECT q->>0, q->>1, q->>2, q->>3, k.fingerprint, k.task_id, k.after_seq, k.reply, \
           k.created_at, k.expires_at \
    FROM jsonb_array_elements($1::jsonb) q \
    CROSS JOIN LATERAL ( \
        SELECT fingerprint, task_id, after_seq, reply, created_at, expires_at \
        FROM a2a_idempotency_keys \
        WHERE tenant = q->>0 AND owner = q->>1 AND agent = q->>2 AND key = q->>3 LIMIT 1) k";

/// The conflict clause of every key insert: a live record stays (the first answer wins),
/// an expired one is replaced.
macro_rules! on_key_conflict {
    () => {
        "ON CONFLICT (tenant, owner, agent, key) DO UPDATE SET \
            fingerprint = excluded.fingerprint, task_id = excluded.task_id, \
            after_seq = excluded.after_seq, reply = excluded.reply, \
            created_at = excluded.created_at, expires_at = excluded.expires_at \
         WHERE a2a_idempotency_keys.expires_at <= excluded.created_at"
    };
}

/// A group of creations in one statement (see `group_commit`): the rows come as arrays,
/// so the text never changes and is prepared once per connection; events and idempotency
/// keys are written only for the tasks inserted, and the inserted ids come back. A
/// creation's answer begins with its task, so its key's `after_seq` is 0.
const CREATE_TASKS: &str = concat!(
    "\
    WITH t AS ( \
        INSERT INTO a2a_tasks (id, tenant, owner, context_id, state, status_ts, origin, version, \
                               last_seq, task, created_at, updated_at, runner, lease_until, \
                               messages) \
        SELECT id, tenant, owner, context_id, state, status_ts, origin, 1, last_seq, \
               task::json, $12, $12, runner, lease_until, messages \
        FROM UNNEST($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::int8[], \
                    $7::text[], $8::int8[], $9::text[], $10::text[], $11::int8[], $24::int8[]) \
             AS j(id, tenant, owner, context_id, state, status_ts, origin, last_seq, task, \
                  runner, lease_until, messages) \
        ON CONFLICT (id) DO NOTHING \
        RETURNING id), \
    e AS ( \
        INSERT INTO a2a_task_events (task_id, seq, event, created_at, msgs, artifact) \
        SELECT v.task_id, v.seq, v.event::json, $12, v.msgs, v.artifact \
        FROM UNNEST($13::text[], $14::int8[], $15::text[], $25::int8[], $26::int8[]) \
             AS v(task_id, seq, event, msgs, artifact) \
        JOIN t ON t.id = v.task_id), \
    k AS ( \
        INSERT INTO a2a_idempotency_keys (tenant, owner, agent, key, fingerprint, task_id, \
                                          after_seq, reply, created_at, expires_at) \
        SELECT v.tenant, v.owner, v.agent, v.key, v.fingerprint, v.task_id, 0, NULL, \
               v.created_at, v.expires_at \
        FROM UNNEST($16::text[], $17::text[], $18::text[], $19::text[], $20::text[], \
                    $21::text[], $22::int8[], $23::int8[]) \
             AS v(tenant, owner, agent, key, fingerprint, task_id, created_at, expires_at) \
        JOIN t ON t.id = v.task_id ",
    on_key_conflict!(),
    ") \
    SELECT id FROM t"
);

/// The two common expressions of a one-statement commit: the compare-and-swap `UPDATE`
/// and the insert of its events.
macro_rules! commit_update_and_events {
    () => {
        "\
    WITH u AS ( \
        UPDATE a2a_tasks \
        SET context_id = $1, state = $2, status_ts = $3, task = $4, updated_at = $5, \
            version = version + 1, last_seq = last_seq + $6, runner = $11, lease_until = $12, \
            messages = messages + $13 \
        WHERE id = $7 AND tenant = $8 AND owner = $9 AND version = $10 AND push_configs = 0 \
        RETURNING last_seq, messages), \
    e AS ( \
        INSERT INTO a2a_task_events (task_id, seq, event, created_at, msgs, artifact) \
        SELECT $7, u.last_seq - $6 + v.n, v.event::json, $5, u.messages - $13 + v.msgs, \
               v.artifact \
        FROM u, UNNEST($14::text[], $15::int8[], $16::int8[]) WITH ORDINALITY \
             AS v(event, msgs, artifact, n)) "
    };
}

/// A commit as one statement in autocommit: the compare-and-swap `UPDATE` and its events,
/// one round trip and one statement to plan instead of four (`BEGIN`, `UPDATE`, `INSERT`,
/// `COMMIT`). Only for tasks without webhooks (their outbox rows need the task's configs):
/// no row back sends the caller to the transaction, which also tells a lost race from a
/// missing task.
const COMMIT_TASK: &str = concat!(commit_update_and_events!(), "SELECT last_seq FROM u");

/// [`COMMIT_TASK`] with a follow-up's idempotency key (`$17`..`$24`), written only if the
/// update was. A separate text, so a commit without a key plans no key insert at all.
const COMMIT_TASK_KEYED: &str = concat!(
    commit_update_and_events!(),
    ", \
    k AS ( \
        INSERT INTO a2a_idempotency_keys (tenant, owner, agent, key, fingerprint, task_id, \
                                          after_seq, reply, created_at, expires_at) \
        SELECT $8, $9, $17, $18, $19, $20, $21, $22, $23, $24 FROM u ",
    on_key_conflict!(),
    ") \
    SELECT last_seq FROM u"
);

impl PostgresStore {
    /// [`COMMIT_TASK`]: the sequence number the events follow, or `None` when the caller
    /// must take the transaction.
    #[allow(clippy::too_many_arguments)]
    async fn commit_in_one(
        &self,
        scope: &super::Scope,
        id: &str,
        expected_version: u64,
        task: &crate::protocol::Task,
        events: &[crate::protocol::TaskEvent],
        (runner, lease_until): (Option<&str>, Option<i64>),
        now: i64,
        key: Option<&super::KeyRecord>,
        (marks, added): (&[super::parts::EventMarks], u64),
    ) -> Result<Option<u64>, StoreError> {
        let json: Vec<String> = events
            .iter()
            .map(|e| serde_json::to_string(e).expect("events serialize"))
            .collect();
        let msgs: Vec<Option<i64>> = marks.iter().map(|m| m.msgs).collect();
        let artifact: Vec<Option<i64>> = marks.iter().map(|m| m.artifact).collect();
        let text = if key.is_some() {
            COMMIT_TASK_KEYED
        } else {
            COMMIT_TASK
        };
        let query = bind_task_update!(
            sqlx::query_scalar(text),
            scope,
            id,
            expected_version,
            task,
            events,
            now,
            runner,
            lease_until,
            added
        )
        .bind(json)
        .bind(msgs)
        .bind(artifact);
        let query = match key {
            Some(k) => {
                let (task_id, after_seq, reply) = k.answer.columns();
                query
                    .bind(&k.agent)
                    .bind(&k.key)
                    .bind(&k.fingerprint)
                    .bind(task_id)
                    .bind(after_seq)
                    .bind(reply)
                    .bind(k.created_at)
                    .bind(k.expires_at)
            }
            None => query,
        };
        let last_seq: Option<i64> = query.fetch_optional(&self.writer).await.map_err(backend)?;
        Ok(last_seq.map(|last| super::sql::to_u64(last) - events.len() as u64))
    }

    /// Writes a group of creations; one statement, in its own transaction unless some
    /// creation registers webhooks (their configs and outbox rows join the transaction).
    async fn write_batch(pool: &PgPool, jobs: &[CreateJob]) -> BatchResult {
        let now = now_millis();
        let mut tasks = TaskColumns::default();
        let mut events = EventColumns::default();
        let mut keys = KeyColumns::default();
        for j in jobs {
            tasks.push(j);
            for (seq, e, m) in &j.events {
                events.task_id.push(j.task_id.as_str());
                events.seq.push(*seq);
                events.event.push(e.get());
                events.msgs.push(m.msgs);
                events.artifact.push(m.artifact);
            }
            if let Some(k) = &j.key {
                keys.tenant.push(j.scope.tenant.as_str());
                keys.owner.push(j.scope.owner.as_str());
                keys.agent.push(k.agent.as_str());
                keys.key.push(k.key.as_str());
                keys.fingerprint.push(k.fingerprint.as_str());
                keys.task_id.push(j.task_id.as_str());
                keys.created_at.push(k.created_at);
                keys.expires_at.push(k.expires_at);
            }
        }
        let query = sqlx::query_scalar::<_, String>(CREATE_TASKS)
            .bind(tasks.id)
            .bind(tasks.tenant)
            .bind(tasks.owner)
            .bind(tasks.context_id)
            .bind(tasks.state)
            .bind(tasks.status_ts)
            .bind(tasks.origin)
            .bind(tasks.last_seq)
            .bind(tasks.task)
            .bind(tasks.runner)
            .bind(tasks.lease_until)
            .bind(now)
            .bind(events.task_id)
            .bind(events.seq)
            .bind(events.event)
            .bind(keys.tenant)
            .bind(keys.owner)
            .bind(keys.agent)
            .bind(keys.key)
            .bind(keys.fingerprint)
            .bind(keys.task_id)
            .bind(keys.created_at)
            .bind(keys.expires_at)
            .bind(tasks.messages)
            .bind(events.msgs)
            .bind(events.artifact);
        let inserted: HashSet<String> = if jobs.iter().any(|j| j.push.is_some()) {
            let mut tx = pool.begin().await.map_err(backend)?;
            let inserted: HashSet<String> = query
                .fetch_all(&mut *tx)
                .await
                .map_err(backend)?
                .into_iter()
                .collect();
            let created: Vec<&CreateJob> = jobs
                .iter()
                .filter(|j| inserted.contains(&j.task_id))
                .collect();
            Self::register_webhooks(&mut tx, &created, now).await?;
            tx.commit().await.map_err(backend)?;
            inserted
        } else {
            query
                .fetch_all(pool)
                .await
                .map_err(backend)?
                .into_iter()
                .collect()
        };
        Ok(jobs.iter().map(|j| inserted.contains(&j.task_id)).collect())
    }
}

/// The task rows of [`CREATE_TASKS`], a column each.
#[derive(Default)]
struct TaskColumns<'a> {
    id: Vec<&'a str>,
    tenant: Vec<&'a str>,
    owner: Vec<&'a str>,
    context_id: Vec<&'a str>,
    state: Vec<&'a str>,
    status_ts: Vec<i64>,
    origin: Vec<&'a str>,
    last_seq: Vec<i64>,
    task: Vec<&'a str>,
    runner: Vec<Option<&'a str>>,
    lease_until: Vec<Option<i64>>,
    messages: Vec<i64>,
}

impl<'a> TaskColumns<'a> {
    fn push(&mut self, j: &'a CreateJob) {
        self.id.push(&j.task_id);
        self.tenant.push(&j.scope.tenant);
        self.owner.push(&j.scope.owner);
        self.context_id.push(&j.context_id);
        self.state.push(j.state);
        self.status_ts.push(j.status_ts);
        self.origin.push(j.origin.as_str());
        self.last_seq.push(to_i64(j.events.len()));
        self.task.push(j.task_json.get());
        self.runner.push(j.runner.as_deref());
        self.lease_until.push(j.lease_until);
        self.messages.push(j.messages);
    }
}

#[derive(Default)]
struct EventColumns<'a> {
    task_id: Vec<&'a str>,
    seq: Vec<i64>,
    event: Vec<&'a str>,
    msgs: Vec<Option<i64>>,
    artifact: Vec<Option<i64>>,
}

/// The idempotency keys of [`CREATE_TASKS`], a column each.
#[derive(Default)]
struct KeyColumns<'a> {
    tenant: Vec<&'a str>,
    owner: Vec<&'a str>,
    agent: Vec<&'a str>,
    key: Vec<&'a str>,
    fingerprint: Vec<&'a str>,
    task_id: Vec<&'a str>,
    created_at: Vec<i64>,
    expires_at: Vec<i64>,
}

sql_task_store!(
    PostgresStore,
    sqlx::Postgres,
    begin = BEGIN_POSTGRES,
    migrator = MIGRATOR,
    take_expired = TAKE_EXPIRED_RUNS_POSTGRES,
    lookup = KEY_LOOKUP,
    // several writers, so one collects the next batch while another's commit is in flight
    writers = 3,
    purge_dependents = Some(PURGE_WITH_DEPENDENTS),
    list_plan = super::sql::LIST_PLAN_POSTGRES
);

/// The text around the purge's `DELETE FROM a2a_tasks ...`: the purged tasks' events go
/// with them, and the statement returns how many tasks it deleted. Foreign keys with
/// `ON DELETE CASCADE` did this until migration 0003; checking them on every insert cost
/// about a sixth of a SendMessage's throughput. Idempotency keys stay until they expire.
const PURGE_WITH_DEPENDENTS: (&str, &str) = (
    "WITH d AS (",
    " RETURNING id), \
     e AS (DELETE FROM a2a_task_events WHERE task_id IN (SELECT id FROM d)) \
     SELECT count(*) FROM d",
);

sql_push_store!(
    PostgresStore,
    sqlx::Postgres,
    begin = BEGIN_POSTGRES,
    claim = CLAIM
);

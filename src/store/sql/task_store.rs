//! [`sql_task_store!`]: the one `TaskStore` implementation of the SQL backends, expanded
//! for each backend's pool type with its dialect's statements. Items of the parent module
//! are named by `$crate::store::sql::` paths, as the expansion happens in the backends.

/// The `TaskStore` implementation of a SQL backend: `$store` is a struct with a
/// `pool: sqlx::Pool<$db>` field; `begin` starts a writing transaction, `migrator` is the
/// backend's schema, `take_expired` the statement of `take_expired_runs`.
macro_rules! sql_task_store {
    (
        $store:ty,
        $db:ty,
        begin = $begin:expr,
        migrator = $migrator:expr,
        take_expired = $take_expired:expr,
        lookup = $lookup:expr,
        writers = $writers:expr,
        purge_dependents = $purge_dependents:expr,
        list_plan = $list_plan:expr
    ) => {
        impl $store {
            /// The schema migrations of this backend.
            pub fn migrator() -> &'static sqlx::migrate::Migrator {
                &$migrator
            }

            pub fn pool(&self) -> &sqlx::Pool<$db> {
                &self.pool
            }

            /// Appends `events` after sequence number `after` and records `key`, inside
            /// the caller's transaction.
            async fn append(
                conn: &mut <$db as sqlx::Database>::Connection,
                scope: &$crate::store::Scope,
                task_id: &str,
                seqd: &[std::sync::Arc<$crate::protocol::SequencedEvent>],
                marks: &[$crate::store::parts::EventMarks],
                now: i64,
                key: Option<&$crate::store::KeyRecord>,
            ) -> Result<(), $crate::store::StoreError> {
                use $crate::store::sql::{INSERT_EVENT, UPSERT_KEY, backend, bind_key, to_i64};
                for (e, m) in seqd.iter().zip(marks) {
                    sqlx::query(INSERT_EVENT)
                        .bind(task_id)
                        .bind(to_i64(e.seq))
                        .bind($crate::store::sql::JsonText(&e.event))
                        .bind(now)
                        .bind(m.msgs)
                        .bind(m.artifact)
                        .execute(&mut *conn)
                        .await
                        .map_err(backend)?;
                }
                if let Some(key) = key {
                    bind_key!(sqlx::query(UPSERT_KEY), scope, key)
                        .execute(&mut *conn)
                        .await
                        .map_err(backend)?;
                }
                Ok(())
            }

            /// `heads` with the history and artifacts `view` keeps, read from their events.
            async fn with_parts(
                conn: &mut <$db as sqlx::Database>::Connection,
                heads: Vec<$crate::store::sql::HeadRow>,
                view: $crate::store::TaskView,
            ) -> Result<Vec<$crate::protocol::Task>, $crate::store::StoreError> {
                use $crate::store::sql::{ListPlan, PartsRow, backend, parts_query, rebuild};
                let indexed_by = matches!($list_plan, ListPlan::IndexedBy);
                let rows: Vec<PartsRow> = match parts_query::<$db>(&heads, view, indexed_by) {
                    Some(mut qb) => qb
                        .build_query_as()
                        .fetch_all(&mut *conn)
                        .await
                        .map_err(backend)?,
                    None => Vec::new(),
                };
                Ok(rebuild(heads, view, rows))
            }

            /// ` WHERE ...` of `list`: the scope and the query's filters, not the page.
            fn push_list_filters(
                qb: &mut sqlx::QueryBuilder<$db>,
                scope: &$crate::store::Scope,
                q: &$crate::protocol::request::ListTasksQuery,
            ) {
                qb.push(" WHERE tenant = ").push_bind(scope.tenant.clone());
                qb.push(" AND owner = ").push_bind(scope.owner.clone());
                if let Some(context_id) = &q.context_id {
                    qb.push(" AND context_id = ").push_bind(context_id.clone());
                }
                if let Some(state) = q.state {
                    qb.push(" AND state = ").push_bind(state.v1_name());
                }
                if let Some(after) = q.status_timestamp_after {
                    qb.push(" AND status_ts >= ")
                        .push_bind($crate::store::sql::min_status_ts(after));
                }
            }
        }

        #[async_trait::async_trait]
        impl $crate::store::TaskStore for $store {
            async fn create_keyed(
                &self,
                scope: &$crate::store::Scope,
                origin: $crate::protocol::Version,
                task: $crate::protocol::Task,
                events: Vec<$crate::protocol::TaskEvent>,
                push: &[$crate::protocol::PushConfig],
                lease: Option<$crate::store::Lease<'_>>,
                key: Option<&$crate::store::KeyRecord>,
                traceparent: Option<&str>,
            ) -> Result<
                Vec<std::sync::Arc<$crate::protocol::SequencedEvent>>,
                $crate::store::StoreError,
            > {
                use $crate::store::batch::RunBatch;
                use $crate::store::group_commit::{self, CreateJob};
                let (job, seqd) =
                    CreateJob::new(scope, origin, task, events, push, lease, key, traceparent)?;
                let write = || -> RunBatch<CreateJob, bool> {
                    let pool = self.writer.clone();
                    let signal = self.outbox_signal.clone();
                    std::sync::Arc::new(move |jobs: Vec<CreateJob>| {
                        let pool = pool.clone();
                        let signal = signal.clone();
                        Box::pin(async move {
                            let result = Self::write_batch(&pool, &jobs).await;
                            if result.is_ok() && jobs.iter().any(|j| j.push.is_some()) {
                                signal.notify_one();
                            }
                            (jobs, result)
                        })
                    })
                };
                group_commit::create(&self.group, job, $writers, write).await?;
                Ok(seqd)
            }

            async fn get_view(
                &self,
                scope: &$crate::store::Scope,
                id: &str,
                view: $crate::store::TaskView,
            ) -> Result<Option<$crate::store::TaskRecord>, $crate::store::StoreError> {
                use $crate::store::sql::{GET_TASK, HeadRow, backend, parse_origin, to_u64};
                type Row = (
                    sqlx::types::Json<$crate::protocol::Task>,
                    i64,
                    i64,
                    String,
                    i64,
                );
                // One connection for both statements.
                let mut conn = self.pool.acquire().await.map_err(backend)?;
                let row: Option<Row> = sqlx::query_as(GET_TASK)
                    .bind(id)
                    .bind(&scope.tenant)
                    .bind(&scope.owner)
                    .fetch_optional(&mut *conn)
                    .await
                    .map_err(backend)?;
                let Some((task, version, last_seq, origin, messages)) = row else {
                    return Ok(None);
                };
                let head = HeadRow {
                    task: task.0,
                    last_seq,
                    messages,
                };
                let task = Self::with_parts(&mut conn, vec![head], view)
                    .await?
                    .pop()
                    .expect("one task in, one out");
                Ok(Some($crate::store::TaskRecord {
                    task,
                    version: to_u64(version),
                    last_seq: to_u64(last_seq),
                    origin: parse_origin(&origin)?,
                }))
            }

            async fn commit_keyed(
                &self,
                scope: &$crate::store::Scope,
                id: &str,
                expected_version: u64,
                task: $crate::protocol::Task,
                events: Vec<$crate::protocol::TaskEvent>,
                lease: Option<$crate::store::Lease<'_>>,
                key: Option<&$crate::store::KeyRecord>,
                traceparent: Option<&str>,
            ) -> Result<
                Vec<std::sync::Arc<$crate::protocol::SequencedEvent>>,
                $crate::store::StoreError,
            > {
                use $crate::store::StoreError;
                use $crate::store::sql::{
                    TASK_EXISTS, UPDATE_TASK, backend, bind_task_update, lease_columns, now_millis,
                    to_u64,
                };
                let now = now_millis();
                let (runner, lease_until) = lease_columns(&task, lease);
                // The marks of the events relative to the history before them; the
                // stores add the stored history length.
                let (relative, added) = $crate::store::parts::marks(&events, 0);
                if let Some(after) = self
                    .commit_in_one(
                        scope,
                        id,
                        expected_version,
                        &task,
                        &events,
                        (runner.as_deref(), lease_until),
                        now,
                        key,
                        (&relative, added),
                    )
                    .await?
                {
                    return Ok($crate::store::sequence(events, after));
                }
                let mut tx = self.writer.begin_with($begin).await.map_err(backend)?;
                let updated: Option<(i64, i64, i64)> = bind_task_update!(
                    sqlx::query_as(UPDATE_TASK),
                    scope,
                    id,
                    expected_version,
                    &task,
                    &events,
                    now,
                    runner,
                    lease_until,
                    added
                )
                .fetch_optional(&mut *tx)
                .await
                .map_err(backend)?;
                let Some((last_seq, push_configs, messages)) = updated else {
                    // Dropping `tx` rolls back (nothing was written).
                    let exists = sqlx::query(TASK_EXISTS)
                        .bind(id)
                        .bind(&scope.tenant)
                        .bind(&scope.owner)
                        .fetch_optional(&mut *tx)
                        .await
                        .map_err(backend)?
                        .is_some();
                    return Err(if exists {
                        StoreError::Conflict
                    } else {
                        StoreError::NotFound
                    });
                };
                let after = to_u64(last_seq) - events.len() as u64;
                let (marks, _) =
                    $crate::store::parts::marks(&events, to_u64(messages).saturating_sub(added));
                let seqd = $crate::store::sequence(events, after);
                Self::append(&mut tx, scope, id, &seqd, &marks, now, key).await?;
                if push_configs > 0 {
                    // 0.x webhooks get the whole task: rebuilt from its events (those
                    // just written included), as `task` may hold only its head.
                    let head = $crate::store::sql::HeadRow {
                        task,
                        last_seq,
                        messages,
                    };
                    let full = Self::with_parts(&mut tx, vec![head], $crate::store::TaskView::FULL)
                        .await?
                        .pop()
                        .expect("one task in, one out");
                    Self::enqueue(&mut tx, &full, &seqd, now, traceparent).await?;
                }
                tx.commit().await.map_err(backend)?;
                if push_configs > 0 {
                    self.outbox_signal.notify_one();
                }
                Ok(seqd)
            }

            async fn events_after(
                &self,
                scope: &$crate::store::Scope,
                id: &str,
                after: u64,
            ) -> Result<
                Vec<std::sync::Arc<$crate::protocol::SequencedEvent>>,
                $crate::store::StoreError,
            > {
                use $crate::store::sql::{EVENTS_AFTER, backend, to_i64, to_u64};
                type Row = (
                    Option<i64>,
                    Option<sqlx::types::Json<$crate::protocol::TaskEvent>>,
                );
                let rows: Vec<Row> = sqlx::query_as(EVENTS_AFTER)
                    .bind(id)
                    .bind(&scope.tenant)
                    .bind(&scope.owner)
                    .bind(to_i64(after))
                    .fetch_all(&self.pool)
                    .await
                    .map_err(backend)?;
                if rows.is_empty() {
                    return Err($crate::store::StoreError::NotFound);
                }
                Ok(rows
                    .into_iter()
                    .filter_map(|(seq, event)| {
                        Some(std::sync::Arc::new($crate::protocol::SequencedEvent {
                            seq: to_u64(seq?),
                            event: event?.0,
                        }))
                    })
                    .collect())
            }

            async fn list(
                &self,
                scope: &$crate::store::Scope,
                q: &$crate::protocol::request::ListTasksQuery,
            ) -> Result<$crate::protocol::request::TaskPage, $crate::store::StoreError> {
                use $crate::store::cursor;
                use $crate::store::sql::{backend, to_i64, to_u64};

                use $crate::store::sql::ListPlan;
                let plan: ListPlan = $list_plan;
                // One snapshot for the total and the page. PostgreSQL's transaction
                // also keeps its planner from sorting or scanning the table, so the
                // order comes from the index whatever the statistics say (stale ones
                // made it sort every task of the caller).
                let begin = match plan {
                    ListPlan::IndexOnly(begin) => begin,
                    ListPlan::IndexedBy => "BEGIN",
                };
                let mut tx = self.pool.begin_with(begin).await.map_err(backend)?;
                let conn: &mut <$db as sqlx::Database>::Connection = &mut *tx;

                // The counters (migration 0008) answer the scope and a state; other
                // filters count their rows, along the index that serves them.
                let total_size: i64 = if q.context_id.is_none() && q.status_timestamp_after.is_none() {
                    let mut count = sqlx::QueryBuilder::<$db>::new(
                        "SELECT CAST(COALESCE(SUM(n), 0) AS BIGINT) FROM a2a_task_counts WHERE tenant = ",
                    );
                    count.push_bind(scope.tenant.clone()).push(" AND owner = ").push_bind(scope.owner.clone());
                    if let Some(state) = q.state {
                        count.push(" AND state = ").push_bind(state.v1_name());
                    }
                    count.build_query_scalar().fetch_one(&mut *conn).await.map_err(backend)?
                } else {
                    let mut count = sqlx::QueryBuilder::<$db>::new("SELECT COUNT(*) FROM a2a_tasks");
                    if plan == ListPlan::IndexedBy {
                        count.push(" INDEXED BY ").push($crate::store::sql::list_index(q));
                    }
                    Self::push_list_filters(&mut count, scope, q);
                    count.build_query_scalar().fetch_one(&mut *conn).await.map_err(backend)?
                };

                let mut page = sqlx::QueryBuilder::<$db>::new(
                    "SELECT task, last_seq, messages FROM a2a_tasks",
                );
                if plan == ListPlan::IndexedBy {
                    page.push(" INDEXED BY ").push($crate::store::sql::list_index(q));
                }
                Self::push_list_filters(&mut page, scope, q);
                if let Some((ts, id)) = q.page_token.as_deref().and_then(cursor::decode) {
                    page.push(" AND (status_ts, id) < (")
                        .push_bind(ts)
                        .push(", ")
                        .push_bind(id)
                        .push(")");
                }
                // One row more than the page tells whether another page follows.
                page.push(" ORDER BY status_ts DESC, id DESC LIMIT ")
                    .push_bind(to_i64(q.page_size.saturating_add(1)));
                let rows: Vec<(sqlx::types::Json<$crate::protocol::Task>, i64, i64)> = page
                    .build_query_as()
                    .fetch_all(&mut *conn)
                    .await
                    .map_err(backend)?;
                let more = rows.len() > q.page_size;
                let heads: Vec<$crate::store::sql::HeadRow> = rows
                    .into_iter()
                    .take(q.page_size)
                    .map(|(t, last_seq, messages)| $crate::store::sql::HeadRow {
                        task: t.0,
                        last_seq,
                        messages,
                    })
                    .collect();
                let view = $crate::store::TaskView {
                    history: q.history_length,
                    artifacts: q.include_artifacts,
                };
                let tasks = Self::with_parts(conn, heads, view).await?;
                // Read only: ending it either way releases the same snapshot.
                tx.commit().await.map_err(backend)?;
                let next_page_token = match tasks.last() {
                    Some(last) if more => {
                        cursor::encode(last.status.timestamp.timestamp_millis(), &last.id)
                    }
                    _ => String::new(),
                };
                Ok($crate::protocol::request::TaskPage {
                    tasks,
                    next_page_token,
                    total_size: to_u64(total_size) as usize,
                })
            }

            /// Lookups waiting together go to the database as one statement: one
            /// round trip and one executor run for many sends.
            async fn idempotency_key(
                &self,
                scope: &$crate::store::Scope,
                agent: &str,
                key: &str,
                now: i64,
            ) -> Result<Option<$crate::store::KeyRecord>, $crate::store::StoreError> {
                use $crate::store::batch::{RunBatch, Runners};
                use $crate::store::sql::{
                    KeyLookup, KeyRow, LOOKUP_RUNNERS, backend, lookup_param, match_lookups,
                };
                let job = KeyLookup {
                    tenant: scope.tenant.clone(),
                    owner: scope.owner.clone(),
                    agent: agent.to_string(),
                    key: key.to_string(),
                    now,
                };
                let runners = || {
                    let pool = self.pool.clone();
                    let run: RunBatch<KeyLookup, Option<$crate::store::KeyRecord>> =
                        std::sync::Arc::new(move |jobs: Vec<KeyLookup>| {
                            let pool = pool.clone();
                            Box::pin(async move {
                                let result = sqlx::query_as::<_, KeyRow>($lookup)
                                    .bind(lookup_param(&jobs))
                                    .fetch_all(&pool)
                                    .await
                                    .map_err(backend)
                                    .and_then(|rows| match_lookups(&jobs, rows));
                                (jobs, result)
                            })
                        });
                    Runners {
                        count: LOOKUP_RUNNERS,
                        run,
                        key: None,
                    }
                };
                self.lookups.submit(job, runners).await
            }

            async fn put_idempotency_key(
                &self,
                scope: &$crate::store::Scope,
                key: &$crate::store::KeyRecord,
            ) -> Result<(), $crate::store::StoreError> {
                use $crate::store::sql::{UPSERT_KEY, backend, bind_key};
                bind_key!(sqlx::query(UPSERT_KEY), scope, key)
                    .execute(&self.writer)
                    .await
                    .map_err(backend)?;
                Ok(())
            }

            async fn purge_idempotency_keys(
                &self,
                now: i64,
            ) -> Result<u64, $crate::store::StoreError> {
                use $crate::store::sql::{PURGE_KEYS, PURGE_KEYS_BATCH, backend};
                let mut purged = 0;
                loop {
                    let done = sqlx::query(PURGE_KEYS)
                        .bind(now)
                        .bind(PURGE_KEYS_BATCH)
                        .execute(&self.writer)
                        .await
                        .map_err(backend)?;
                    purged += done.rows_affected();
                    if done.rows_affected() < PURGE_KEYS_BATCH as u64 {
                        return Ok(purged);
                    }
                }
            }

            fn pool_stats(&self) -> Option<$crate::metrics::PoolStats> {
                Some(self.pools())
            }

            async fn ping(&self) -> Result<(), $crate::store::StoreError> {
                // On the reading pool: SQLite's one writer may be busy with a batch of
                // commits, which is load, not unreadiness.
                sqlx::query("SELECT 1")
                    .execute(&self.pool)
                    .await
                    .map_err($crate::store::sql::backend)?;
                Ok(())
            }

            async fn heartbeat(
                &self,
                runner: &str,
                lease_until: i64,
            ) -> Result<(), $crate::store::StoreError> {
                use $crate::store::sql::{HEARTBEAT, backend};
                sqlx::query(HEARTBEAT)
                    .bind(lease_until)
                    .bind(runner)
                    .execute(&self.writer)
                    .await
                    .map_err(backend)?;
                Ok(())
            }

            async fn release_leases(&self, runner: &str) -> Result<u64, $crate::store::StoreError> {
                use $crate::store::sql::{RELEASE_LEASES, backend};
                let done = sqlx::query(RELEASE_LEASES)
                    .bind(runner)
                    .execute(&self.writer)
                    .await
                    .map_err(backend)?;
                Ok(done.rows_affected())
            }

            async fn take_expired_runs(
                &self,
                now: i64,
                limit: usize,
            ) -> Result<Vec<$crate::store::ExpiredRun>, $crate::store::StoreError> {
                use $crate::store::sql::{backend, to_i64};
                let rows: Vec<(String, String, String)> = sqlx::query_as($take_expired)
                    .bind(now)
                    .bind(to_i64(limit))
                    .fetch_all(&self.writer)
                    .await
                    .map_err(backend)?;
                Ok(rows
                    .into_iter()
                    .map(|(tenant, owner, task_id)| $crate::store::ExpiredRun {
                        scope: $crate::store::Scope { owner, tenant },
                        task_id,
                    })
                    .collect())
            }

            async fn purge_terminal(&self, before: i64) -> Result<u64, $crate::store::StoreError> {
                use $crate::store::sql::{backend, terminal_states};
                // `$purge_dependents`: where the schema has no foreign keys from events to
                // tasks (Postgres), the text before and after the `DELETE`
                // that deletes them in the same statement and counts the tasks.
                let by_hand: Option<(&str, &str)> = $purge_dependents;
                let mut qb = sqlx::QueryBuilder::<$db>::new(by_hand.map_or("", |(open, _)| open));
                qb.push("DELETE FROM a2a_tasks WHERE status_ts < ");
                qb.push_bind(before).push(" AND state IN (");
                let mut states = qb.separated(", ");
                for state in terminal_states() {
                    states.push_bind(state);
                }
                // Undelivered notifications keep their task (and so themselves) alive.
                qb.push(
                    ") AND NOT EXISTS (SELECT 1 FROM a2a_push_outbox o \
                         WHERE o.task_id = a2a_tasks.id AND o.dead_at IS NULL)",
                );
                if let Some((_, close)) = by_hand {
                    qb.push(close);
                    let n: i64 = qb
                        .build_query_scalar()
                        .fetch_one(&self.writer)
                        .await
                        .map_err(backend)?;
                    return Ok(n as u64);
                }
                let done = qb.build().execute(&self.writer).await.map_err(backend)?;
                Ok(done.rows_affected())
            }
        }
    };
}

pub(in crate::store) use sql_task_store;

//! The task service: creates and continues tasks, runs the agent, waits for blocking
//! sends, cancels, lists and follows tasks. It knows nothing of HTTP or wire versions.

mod claims;
pub(crate) mod cursor;
mod jobs;
pub mod push;
mod retry;
mod run;
pub mod sink;

use std::collections::HashMap;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::Stream;
use parking_lot::Mutex;
use tokio::sync::oneshot;
use tokio_util::sync::CancellationToken;

use crate::agents::AgentExecutor;
use crate::events::EventBus;
use crate::metrics::{Metrics, StoreOp};
use crate::protocol::request::{ListTasksQuery, SendRequest, TaskPage};
use crate::protocol::{
    A2aError, Idempotency, Message, SendResult, SequencedEvent, StreamItem, Task, TaskEvent,
    TaskState, TaskStatus, TaskStatusUpdateEvent, Version,
};
pub(crate) use crate::store::now_millis;
use crate::store::{
    KeyAnswer, KeyRecord, Scope, StoreError, TaskRecord, TaskStore, cursor as page_cursor,
};
use cursor::EventCursor;
use run::{First, Run, first_outcome};

/// A stream of task events (or one bare message) for an SSE response.
pub type EventStream = Pin<Box<dyn Stream<Item = Result<StreamItem, A2aError>> + Send>>;

/// How many times a lost optimistic-concurrency race is retried before giving up.
const MAX_COMMIT_ATTEMPTS: usize = 64;

/// Tunables of the service.
#[derive(Debug, Clone)]
pub struct ServiceConfig {
    /// How long a canceled agent may run on before it is aborted.
    pub cancel_grace: Duration,
    /// A run's lease: a process that stops renewing it for this long is presumed dead and
    /// its runs are recovered by whichever process notices first.
    pub run_lease: Duration,
    /// Terminal tasks older than this are purged; `None` keeps them forever.
    pub retention: Option<Duration>,
    /// Accept webhooks on loopback and private networks (tests, local development).
    pub push_allow_private: bool,
    /// The agent's name: part of an idempotency key's scope (owner + tenant + agent).
    pub agent_name: String,
    /// How long an idempotency key is remembered; expired keys are purged.
    pub idempotency_ttl: Duration,
    /// Where tasks, agent runs and store operations are counted.
    pub metrics: Arc<Metrics>,
    /// Whether the anonymous scope keeps 0.1 client-chosen names as task ids: only when
    /// no authenticator is configured, so it is the only scope (see
    /// [`crate::protocol::alias::internal_id`]).
    pub plain_anonymous_ids: bool,
}

impl Default for ServiceConfig {
    fn default() -> Self {
        Self {
            cancel_grace: Duration::from_secs(5),
            run_lease: Duration::from_secs(15),
            retention: None,
            push_allow_private: false,
            agent_name: String::new(),
            idempotency_ttl: Duration::from_secs(24 * 3600),
            metrics: Arc::default(),
            plain_anonymous_ids: true,
        }
    }
}

/// Handle to the service; cheap to clone.
#[derive(Clone)]
pub struct TaskService {
    inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub store: Arc<dyn TaskStore>,
    pub bus: Arc<dyn EventBus>,
    agent: Arc<dyn AgentExecutor>,
    config: ServiceConfig,
    /// This process's identity as a runner of agents (the owner of run leases).
    runner_id: Arc<str>,
    /// Agents running in this process, by task id.
    running: Mutex<HashMap<Arc<str>, RunningAgent, foldhash::fast::RandomState>>,
    /// Idempotency keys being started in this process.
    claims: Arc<claims::Claims>,
    /// Tasks whose run ended while the store could not be reached, left active with a
    /// lease this process keeps renewing: the background jobs fail them once it answers.
    unsettled: Mutex<Vec<jobs::Unsettled>>,
    /// Set at shutdown, once the grace is over: stopped runs are left as they are (their
    /// leases released for another process), not failed.
    abandoning: std::sync::atomic::AtomicBool,
}

struct RunningAgent {
    cancel: CancellationToken,
    abort: futures::future::AbortHandle,
}

/// What a send begins with: a run to follow, or (a retry of a send answered with a bare
/// message) that message again.
enum Begun {
    Run(Started),
    Replied(Message),
}

/// Where a started run stands, for the caller that started it.
struct Started {
    task_id: Arc<str>,
    /// The cursor, positioned before the first event this caller should see.
    cursor: EventCursor,
    /// A bare message reply, for runs that create no task.
    reply: Option<oneshot::Receiver<Message>>,
    /// The agent's run, for the caller to drive while it waits (none for a retry).
    run: Run,
}

pub(crate) fn store_error(e: StoreError) -> A2aError {
    match e {
        StoreError::NotFound => A2aError::TaskNotFound("task not found".into()),
        e @ StoreError::Unavailable(_) => A2aError::Unavailable(e.to_string()),
        other => A2aError::Internal(other.to_string()),
    }
}

impl TaskService {
    pub fn new(
        store: Arc<dyn TaskStore>,
        bus: Arc<dyn EventBus>,
        agent: Arc<dyn AgentExecutor>,
        config: ServiceConfig,
    ) -> Self {
        let inner = Inner {
            store,
            bus,
            agent,
            config,
            runner_id: uuid::Uuid::new_v4().to_string().into(),
            running: Mutex::new(HashMap::default()),
            claims: Arc::default(),
            unsettled: Mutex::default(),
            abandoning: Default::default(),
        };
        Self {
            inner: Arc::new(inner),
        }
    }

    /// The store behind the service (operators' tools and tests read the outbox here).
    pub fn store(&self) -> &Arc<dyn TaskStore> {
        &self.inner.store
    }

    /// `SendMessage` / `message/send` / `tasks/send`. With `retry` (the request's
    /// idempotency key), a retry of an earlier request answers as that one did and does
    /// not run the agent again.
    pub async fn send(
        &self,
        scope: &Scope,
        origin: Version,
        req: SendRequest,
        retry: Option<Idempotency>,
    ) -> Result<SendResult, A2aError> {
        let history_length = req.history_length;
        let blocking = req.blocking;
        // The run is driven here while this call waits for its events: a run that ends
        // within the call (most blocking sends) needs no task of its own.
        let Started {
            task_id,
            mut cursor,
            reply,
            mut run,
        } = match self.start(scope, origin, req, retry).await? {
            Begun::Run(s) => s,
            Begun::Replied(m) => return Ok(SendResult::Message(m)),
        };
        let mut next = match reply {
            Some(rx) => match run.drive(first_outcome(rx, &mut cursor)).await? {
                First::Reply(m) => return Ok(SendResult::Message(m)),
                First::Event(e) => e,
            },
            None => run.drive(cursor.next()).await?,
        };
        // The events begin with a task snapshot, so applying them rebuilds the stored
        // task without reading it back.
        let mut task: Option<Task> = None;
        while let Some(event) = next {
            let settled = event
                .event
                .state()
                .is_some_and(|s| s.is_terminal() || s.is_interrupted());
            match (&mut task, &event.event) {
                (_, TaskEvent::Task(t)) => task = Some(t.clone()),
                (Some(t), e) => t.apply(e),
                (None, _) => {}
            }
            if settled {
                break;
            }
            if !blocking {
                // Answer with the latest stored state, not the first snapshot.
                task = None;
                break;
            }
            next = run.drive(cursor.next()).await?;
        }
        let mut task = match task {
            Some(t) => t,
            None => self.get(scope, &task_id, None).await?,
        };
        task.truncate_history(history_length);
        Ok(SendResult::Task(task))
    }

    /// `SendStreamingMessage` / `message/stream` / `tasks/sendSubscribe`: the task first,
    /// then its events, closing after a terminal or interrupted state. A retry (the same
    /// idempotency key) replays the first request's stream from its first event, then
    /// goes on live.
    pub async fn send_stream(
        &self,
        scope: &Scope,
        origin: Version,
        req: SendRequest,
        retry: Option<Idempotency>,
    ) -> Result<EventStream, A2aError> {
        let Started {
            mut cursor,
            reply,
            mut run,
            ..
        } = match self.start(scope, origin, req, retry).await? {
            Begun::Run(s) => s,
            Begun::Replied(m) => {
                return Ok(Box::pin(futures::stream::once(async move {
                    Ok(StreamItem::Message(m))
                })));
            }
        };
        Ok(Box::pin(async_stream::try_stream! {
            // The stream's first poll drives the run up to its first output, so the
            // response head and the first events can leave in one write.
            let first = match reply {
                // Whichever comes first decides the stream: a bare reply, or the task.
                Some(rx) => run.drive(first_outcome(rx, &mut cursor)).await?,
                None => First::Event(run.drive(cursor.next()).await?),
            };
            // Then the run goes on by itself: this stream is read only as fast as the
            // client reads, and the run must not wait on the slowest reader.
            run.detach();
            match first {
                First::Reply(m) => {
                    yield StreamItem::Message(m);
                    return;
                }
                First::Event(None) => return,
                First::Event(Some(e)) => {
                    let stop = ends_send_stream(&e);
                    yield StreamItem::Event(e);
                    if stop { return; }
                }
            }
            while let Some(e) = cursor.next().await? {
                let stop = ends_send_stream(&e);
                yield StreamItem::Event(e);
                if stop { break; }
            }
        }))
    }

    /// `GetTask` / `tasks/get`.
    pub async fn get(
        &self,
        scope: &Scope,
        id: &str,
        history_length: Option<usize>,
    ) -> Result<Task, A2aError> {
        let mut task = self.record(scope, id).await?.task;
        task.truncate_history(history_length);
        Ok(task)
    }

    /// The stored record, or `TaskNotFound` naming the id.
    pub async fn record(&self, scope: &Scope, id: &str) -> Result<TaskRecord, A2aError> {
        self.inner
            .store
            .get(scope, id)
            .await
            .map_err(store_error)?
            .ok_or_else(|| A2aError::TaskNotFound(format!("no task with id `{id}`")))
    }

    /// `ListTasks`.
    pub async fn list(&self, scope: &Scope, query: &ListTasksQuery) -> Result<TaskPage, A2aError> {
        if let Some(t) = &query.page_token
            && page_cursor::decode(t).is_none()
        {
            return Err(A2aError::InvalidParams(format!(
                "pageToken `{t}` is not valid"
            )));
        }
        let mut page = self
            .inner
            .store
            .list(scope, query)
            .await
            .map_err(store_error)?;
        for t in &mut page.tasks {
            t.truncate_history(query.history_length);
            if !query.include_artifacts {
                t.artifacts.clear();
            }
        }
        Ok(page)
    }

    /// `CancelTask` / `tasks/cancel`: records the canceled state, then stops the agent.
    pub async fn cancel(&self, scope: &Scope, id: &str) -> Result<Task, A2aError> {
        let task = self
            .inner
            .update(scope, id, |task| {
                if task.status.state.is_terminal() {
                    return Err(A2aError::TaskNotCancelable(format!(
                        "task `{id}` is already {}",
                        task.status.state.kebab_name()
                    )));
                }
                Ok(vec![status_event(task, TaskState::Canceled, None)])
            })
            .await?;
        self.inner.stop_agent(id);
        Ok(task)
    }

    /// `SubscribeToTask` / `tasks/resubscribe`: the current task (or, with `after`, the
    /// stored events after that sequence number), then live events until a terminal state.
    pub async fn subscribe(
        &self,
        scope: &Scope,
        id: &str,
        after: Option<u64>,
    ) -> Result<EventStream, A2aError> {
        let id: Arc<str> = id.into();
        // Subscribe before reading, so nothing committed in between is missed.
        let sub = self.inner.bus.subscribe(&id);
        let record = self.record(scope, &id).await?;
        if record.task.status.state.is_terminal() && after.is_none() {
            return Err(A2aError::UnsupportedOperation(format!(
                "task `{id}` is already {}; there is nothing to subscribe to",
                record.task.status.state.kebab_name()
            )));
        }
        let start = after.unwrap_or(record.last_seq).min(record.last_seq);
        let mut cursor = EventCursor::new(
            sub,
            self.inner.store.clone(),
            scope.clone(),
            id.clone(),
            start,
        );
        let snapshot = after.is_none().then(|| {
            Arc::new(SequencedEvent {
                seq: record.last_seq,
                event: TaskEvent::Task(record.task.clone()),
            })
        });
        let already_done = record.task.status.state.is_terminal();
        let backlog = match after {
            Some(a) => self
                .inner
                .store
                .events_after(scope, &id, a)
                .await
                .map_err(store_error)?,
            None => Vec::new(),
        };
        Ok(Box::pin(async_stream::try_stream! {
            if let Some(s) = snapshot {
                yield StreamItem::Event(s);
            }
            let mut last = start;
            for e in backlog {
                last = e.seq;
                let stop = e.event.state().is_some_and(TaskState::is_terminal);
                if e.event.is_streamed() { yield StreamItem::Event(e); }
                if stop { return; }
            }
            if already_done { return; }
            while let Some(e) = cursor.next().await? {
                if e.seq <= last { continue; }
                let stop = e.event.state().is_some_and(TaskState::is_terminal);
                if e.event.is_streamed() { yield StreamItem::Event(e); }
                if stop { break; }
            }
        }))
    }
}

impl Inner {
    /// Applies `f`'s events to the stored task under optimistic concurrency, retrying a
    /// lost race with a fresh read, then publishes them. Returns the new snapshot.
    pub(crate) async fn update<F>(&self, scope: &Scope, id: &str, f: F) -> Result<Task, A2aError>
    where
        F: FnMut(&Task) -> Result<Vec<TaskEvent>, A2aError>,
    {
        self.update_with_events(scope, id, None, f)
            .await
            .map(|(t, _)| t)
    }

    /// [`Inner::update`], also returning the task's last sequence number after the commit.
    /// `key` (a follow-up's idempotency key) is recorded with the commit.
    pub(crate) async fn update_with_events<F>(
        &self,
        scope: &Scope,
        id: &str,
        key: Option<&mut KeyRecord>,
        f: F,
    ) -> Result<(Task, u64), A2aError>
    where
        F: FnMut(&Task) -> Result<Vec<TaskEvent>, A2aError>,
    {
        self.update_from(scope, id, None, |_| true, key, f)
            .await
            .map(|c| (c.record.expect("kept").task, c.last_seq))
    }

    /// The update loop. `known` is the caller's copy of the stored record (an agent's sink
    /// keeps the one it last committed): the first attempt applies `f` to it without
    /// reading the store, and a stale copy only costs the compare-and-swap a retry.
    /// Returns the record as committed if `keep` wants it: the store takes the task itself,
    /// so keeping it costs a copy. `key` is recorded with the commit, its answer beginning
    /// after the commit's last event.
    pub(crate) async fn update_from<F>(
        &self,
        scope: &Scope,
        id: &str,
        mut known: Option<TaskRecord>,
        keep: fn(&Task) -> bool,
        mut key: Option<&mut KeyRecord>,
        mut f: F,
    ) -> Result<Committed, A2aError>
    where
        F: FnMut(&Task) -> Result<Vec<TaskEvent>, A2aError>,
    {
        let metrics = &self.config.metrics;
        for _ in 0..MAX_COMMIT_ATTEMPTS {
            let record = match known.take() {
                Some(r) => r,
                None => {
                    let started = Instant::now();
                    let got = self.store.get(scope, id).await;
                    metrics.store_op(StoreOp::Get, started);
                    got.map_err(store_error)?
                        .ok_or_else(|| A2aError::TaskNotFound(format!("no task with id `{id}`")))?
                }
            };
            let events = f(&record.task)?;
            let was_terminal = record.task.status.state.is_terminal();
            let mut task = record.task;
            for e in &events {
                task.apply(e);
            }
            let state = task.status.state;
            let kept = keep(&task).then(|| task.clone());
            if let Some(k) = key.as_deref_mut() {
                k.answer = KeyAnswer::Task {
                    task_id: id.to_string(),
                    after_seq: record.last_seq + events.len() as u64,
                };
            }
            let lease = Some(self.lease());
            // The writer's span (the current one), for the notifications of these events.
            let traceparent = crate::traces::current_traceparent();
            let started = Instant::now();
            let commit = self.store.commit_keyed(
                scope,
                id,
                record.version,
                task,
                events,
                lease,
                key.as_deref(),
                traceparent.as_deref(),
            );
            let committed =
                crate::traces::in_span(commit, || crate::traces::store_span("commit")).await;
            metrics.store_op(StoreOp::Commit, started);
            match committed {
                Ok(seqd) => {
                    if !was_terminal {
                        metrics.task_finished(state);
                    }
                    let last_seq = seqd.last().map_or(record.last_seq, |e| e.seq);
                    self.bus.publish(id, seqd);
                    return Ok(Committed {
                        state,
                        last_seq,
                        record: kept.map(|task| TaskRecord {
                            task,
                            version: record.version + 1,
                            last_seq,
                            origin: record.origin,
                        }),
                    });
                }
                Err(StoreError::Conflict) => continue,
                Err(e) => return Err(store_error(e)),
            }
        }
        Err(A2aError::Internal(format!(
            "task `{id}` is changing too fast; try again"
        )))
    }

    /// The lease this process writes with the tasks it works on.
    pub(crate) fn lease(&self) -> crate::store::Lease<'_> {
        crate::store::Lease {
            runner: &self.runner_id,
            until: now_millis() + self.config.run_lease.as_millis() as i64,
        }
    }

    /// Signals the agent running `id` and aborts it if it ignores the signal.
    fn stop_agent(&self, id: &str) {
        let running = self.running.lock();
        if let Some(r) = running.get(id) {
            r.cancel.cancel();
            let abort = r.abort.clone();
            let grace = self.config.cancel_grace;
            tokio::spawn(async move {
                tokio::time::sleep(grace).await;
                abort.abort();
            });
        }
    }
}

/// What [`Inner::update_from`] committed.
pub(crate) struct Committed {
    /// The task's state after the commit.
    pub state: TaskState,
    pub last_seq: u64,
    /// The record as committed, when the caller asked to keep it.
    pub record: Option<TaskRecord>,
}

fn status_event(task: &Task, state: TaskState, message: Option<Message>) -> TaskEvent {
    TaskEvent::StatusUpdate(TaskStatusUpdateEvent {
        task_id: task.id.clone(),
        context_id: task.context_id.clone(),
        status: TaskStatus::new(state, message),
        metadata: None,
    })
}

/// A send stream ends with the interaction cycle: terminal or interrupted.
fn ends_send_stream(e: &SequencedEvent) -> bool {
    e.event
        .state()
        .is_some_and(|s| s.is_terminal() || s.is_interrupted())
}

//! The task service: creates and continues tasks, runs the agent, waits for blocking
//! sends, cancels, lists and follows tasks. It knows nothing of HTTP or wire versions.

pub(crate) mod cursor;
pub mod sink;

use std::collections::HashMap;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use futures::Stream;
use parking_lot::Mutex;
use tokio::sync::oneshot;
use tokio_util::sync::CancellationToken;

use crate::agents::{AgentExecutor, RequestContext};
use crate::events::EventBus;
use crate::protocol::request::{ListTasksQuery, SendRequest, TaskPage};
use crate::protocol::{
    A2aError, Message, Role, SendResult, SequencedEvent, StreamItem, Task, TaskEvent, TaskState,
    TaskStatus, TaskStatusUpdateEvent, Version,
};
use crate::store::{Scope, StoreError, TaskRecord, TaskStore, cursor as page_cursor};
use cursor::EventCursor;
use sink::{EventSink, SinkInner};

/// A stream of task events (or one bare message) for an SSE response.
pub type EventStream = Pin<Box<dyn Stream<Item = Result<StreamItem, A2aError>> + Send>>;

/// How many times a lost optimistic-concurrency race is retried before giving up.
const MAX_COMMIT_ATTEMPTS: usize = 64;

/// Tunables of the service.
#[derive(Debug, Clone)]
pub struct ServiceConfig {
    /// How long a canceled agent may run on before it is aborted.
    pub cancel_grace: Duration,
}

impl Default for ServiceConfig {
    fn default() -> Self {
        Self {
            cancel_grace: Duration::from_secs(5),
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
    /// Agents running in this process, by task id.
    running: Mutex<HashMap<String, RunningAgent>>,
}

struct RunningAgent {
    cancel: CancellationToken,
    abort: tokio::task::AbortHandle,
}

/// Where a started run stands, for the caller that started it.
struct Started {
    task_id: String,
    /// The cursor, positioned before the first event this caller should see.
    cursor: EventCursor,
    /// A bare message reply, for runs that create no task.
    reply: Option<oneshot::Receiver<Message>>,
}

pub(crate) fn store_error(e: StoreError) -> A2aError {
    match e {
        StoreError::NotFound => A2aError::TaskNotFound("task not found".into()),
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
            running: Mutex::new(HashMap::new()),
        };
        Self {
            inner: Arc::new(inner),
        }
    }

    /// `SendMessage` / `message/send` / `tasks/send`.
    pub async fn send(
        &self,
        scope: &Scope,
        origin: Version,
        req: SendRequest,
    ) -> Result<SendResult, A2aError> {
        let history_length = req.history_length;
        let blocking = req.blocking;
        let mut started = self.start(scope, origin, req).await?;
        let mut next = match started.reply.take() {
            Some(rx) => match first_outcome(rx, &mut started.cursor).await? {
                First::Reply(m) => return Ok(SendResult::Message(m)),
                First::Event(e) => e,
            },
            None => started.cursor.next().await?,
        };
        while let Some(event) = next {
            let done = !blocking
                || event
                    .event
                    .state()
                    .is_some_and(|s| s.is_terminal() || s.is_interrupted());
            if done {
                break;
            }
            next = started.cursor.next().await?;
        }
        let mut task = self.get(scope, &started.task_id, history_length).await?;
        task.truncate_history(history_length);
        Ok(SendResult::Task(task))
    }

    /// `SendStreamingMessage` / `message/stream` / `tasks/sendSubscribe`: the task first,
    /// then its events, closing after a terminal or interrupted state.
    pub async fn send_stream(
        &self,
        scope: &Scope,
        origin: Version,
        req: SendRequest,
    ) -> Result<EventStream, A2aError> {
        let started = self.start(scope, origin, req).await?;
        let Started {
            mut cursor, reply, ..
        } = started;
        Ok(Box::pin(async_stream::try_stream! {
            if let Some(rx) = reply {
                // Whichever comes first decides the stream: a bare reply, or the task.
                match first_outcome(rx, &mut cursor).await? {
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
        // Subscribe before reading, so nothing committed in between is missed.
        let sub = self.inner.bus.subscribe(id);
        let record = self.record(scope, id).await?;
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
            id.to_string(),
            start,
        );
        let snapshot = after.is_none().then(|| SequencedEvent {
            seq: record.last_seq,
            event: TaskEvent::Task(record.task.clone()),
        });
        let already_done = record.task.status.state.is_terminal();
        let backlog = match after {
            Some(a) => self
                .inner
                .store
                .events_after(scope, id, a)
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

    /// Validates the message, resolves or prepares the task, and starts the agent.
    async fn start(
        &self,
        scope: &Scope,
        origin: Version,
        req: SendRequest,
    ) -> Result<Started, A2aError> {
        validate_user_message(&req.message)?;
        let existing_id = req
            .client_task_id
            .clone()
            .or_else(|| req.message.task_id.clone());
        let existing = match &existing_id {
            Some(id) => match self.inner.store.get(scope, id).await.map_err(store_error)? {
                Some(r) => Some(r),
                // 0.1 clients name new tasks themselves.
                None if req.client_task_id.is_some() => None,
                None => return Err(A2aError::TaskNotFound(format!("no task with id `{id}`"))),
            },
            None => None,
        };
        match existing {
            Some(record) => self.continue_task(scope, origin, record, req).await,
            None => self.new_task(scope, origin, existing_id, req).await,
        }
    }

    async fn new_task(
        &self,
        scope: &Scope,
        origin: Version,
        id: Option<String>,
        req: SendRequest,
    ) -> Result<Started, A2aError> {
        let task_id = id.unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
        let context_id = req
            .message
            .context_id
            .clone()
            .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
        let mut message = req.message.clone();
        message.task_id = Some(task_id.clone());
        message.context_id = Some(context_id.clone());
        let task = Task {
            id: task_id.clone(),
            context_id: context_id.clone(),
            status: TaskStatus::new(TaskState::Submitted, None),
            artifacts: Vec::new(),
            history: vec![message.clone()],
            metadata: req.metadata.clone(),
        };
        let sub = self.inner.bus.subscribe(&task_id);
        let cursor = EventCursor::new(
            sub,
            self.inner.store.clone(),
            scope.clone(),
            task_id.clone(),
            0,
        );
        let (tx, rx) = oneshot::channel();
        let ctx = self.context(task_id.clone(), context_id.clone(), message, None, &req);
        self.spawn(scope, origin, ctx, Some(task), Some(tx));
        Ok(Started {
            task_id,
            cursor,
            reply: Some(rx),
        })
    }

    async fn continue_task(
        &self,
        scope: &Scope,
        origin: Version,
        record: TaskRecord,
        req: SendRequest,
    ) -> Result<Started, A2aError> {
        let task_id = record.task.id.clone();
        if let Some(c) = &req.message.context_id
            && c != &record.task.context_id
        {
            return Err(A2aError::InvalidParams(format!(
                "message.contextId `{c}` does not match the context `{}` of task `{task_id}`",
                record.task.context_id
            )));
        }
        let mut message = req.message.clone();
        message.task_id = Some(task_id.clone());
        message.context_id = Some(record.task.context_id.clone());
        let sub = self.inner.bus.subscribe(&task_id);
        let user = TaskEvent::UserMessage(message.clone());
        let (task, events) = self
            .inner
            .update_with_events(scope, &task_id, |task| {
                let state = task.status.state;
                if !state.is_interrupted() {
                    return Err(A2aError::UnsupportedOperation(format!(
                        "task `{}` is {} and does not accept messages{}",
                        task.id,
                        state.kebab_name(),
                        if state.is_terminal() {
                            "; start a new task in the same context"
                        } else {
                            " until it asks for input"
                        }
                    )));
                }
                Ok(vec![
                    user.clone(),
                    status_event(task, TaskState::Working, None),
                ])
            })
            .await?;
        // The caller sees the task as of this commit first, then what follows.
        let last = events.last().map_or(0, |e| e.seq);
        let cursor = EventCursor::new(
            sub,
            self.inner.store.clone(),
            scope.clone(),
            task_id.clone(),
            last,
        );
        let ctx = self.context(
            task_id.clone(),
            task.context_id.clone(),
            message,
            Some(task.clone()),
            &req,
        );
        self.spawn(scope, origin, ctx, None, None);
        let snapshot = SequencedEvent {
            seq: last,
            event: TaskEvent::Task(task),
        };
        Ok(Started {
            task_id,
            cursor: cursor.with_first(snapshot),
            reply: None,
        })
    }

    fn context(
        &self,
        task_id: String,
        context_id: String,
        message: Message,
        task: Option<Task>,
        req: &SendRequest,
    ) -> RequestContext {
        RequestContext {
            task_id,
            context_id,
            message,
            task,
            accepted_output_modes: req.accepted_output_modes.clone(),
            metadata: req.metadata.clone(),
            cancel: CancellationToken::new(),
        }
    }

    /// Runs the agent on its own tokio task and makes sure the run ends in a defined state.
    fn spawn(
        &self,
        scope: &Scope,
        origin: Version,
        ctx: RequestContext,
        pending: Option<Task>,
        reply: Option<oneshot::Sender<Message>>,
    ) {
        let sink = EventSink {
            inner: Arc::new(SinkInner {
                service: self.inner.clone(),
                scope: scope.clone(),
                origin,
                task_id: ctx.task_id.clone(),
                context_id: ctx.context_id.clone(),
                pending: Mutex::new(pending),
                reply: Mutex::new(reply),
            }),
        };
        let inner = self.inner.clone();
        let task_id = ctx.task_id.clone();
        let cancel = ctx.cancel.clone();
        let agent = inner.agent.clone();
        let run = tokio::spawn(agent_run(agent, ctx, sink.clone()));
        inner.running.lock().insert(
            task_id.clone(),
            RunningAgent {
                cancel,
                abort: run.abort_handle(),
            },
        );
        tokio::spawn(async move {
            let outcome = run.await;
            inner.running.lock().remove(&task_id);
            let failure = match outcome {
                Ok(Ok(())) if sink.replied() => return,
                Ok(Ok(())) => {
                    "the agent returned without reaching a final or interrupted state".to_string()
                }
                Ok(Err(e)) => e.to_string(),
                Err(e) if e.is_cancelled() => "the agent was stopped".to_string(),
                Err(_) => "the agent panicked".to_string(),
            };
            let _ = sink.finish(failure).await;
        });
    }

    /// Number of agents running in this process.
    pub fn running_agents(&self) -> usize {
        self.inner.running.lock().len()
    }
}

async fn agent_run(
    agent: Arc<dyn AgentExecutor>,
    ctx: RequestContext,
    sink: EventSink,
) -> Result<(), crate::agents::AgentError> {
    agent.execute(ctx, sink).await
}

impl EventSink {
    /// After the agent stopped: a task left active is failed with `why`; a run that
    /// produced nothing at all creates its task as failed.
    async fn finish(&self, why: String) -> Result<(), sink::SinkError> {
        if self.task_created() {
            let record = self
                .inner
                .service
                .store
                .get(&self.inner.scope, &self.inner.task_id)
                .await;
            let state = record.ok().flatten().map(|r| r.task.status.state);
            if state.is_none_or(|s| s.is_terminal() || s.is_interrupted()) {
                return Ok(());
            }
        }
        let msg = self.agent_message(vec![crate::protocol::Part::text(why)]);
        self.status(TaskState::Failed, Some(msg)).await
    }
}

impl Inner {
    /// Applies `f`'s events to the stored task under optimistic concurrency, retrying a
    /// lost race with a fresh read, then publishes them. Returns the new snapshot.
    pub(crate) async fn update<F>(&self, scope: &Scope, id: &str, f: F) -> Result<Task, A2aError>
    where
        F: FnMut(&Task) -> Result<Vec<TaskEvent>, A2aError>,
    {
        self.update_with_events(scope, id, f).await.map(|(t, _)| t)
    }

    pub(crate) async fn update_with_events<F>(
        &self,
        scope: &Scope,
        id: &str,
        mut f: F,
    ) -> Result<(Task, Vec<SequencedEvent>), A2aError>
    where
        F: FnMut(&Task) -> Result<Vec<TaskEvent>, A2aError>,
    {
        for _ in 0..MAX_COMMIT_ATTEMPTS {
            let record = self
                .store
                .get(scope, id)
                .await
                .map_err(store_error)?
                .ok_or_else(|| A2aError::TaskNotFound(format!("no task with id `{id}`")))?;
            let events = f(&record.task)?;
            let mut task = record.task;
            for e in &events {
                task.apply(e);
            }
            match self
                .store
                .commit(scope, id, record.version, &task, &events)
                .await
            {
                Ok(seqd) => {
                    self.bus.publish(id, &seqd);
                    return Ok((task, seqd));
                }
                Err(StoreError::Conflict) => continue,
                Err(e) => return Err(store_error(e)),
            }
        }
        Err(A2aError::Internal(format!(
            "task `{id}` is changing too fast; try again"
        )))
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

fn status_event(task: &Task, state: TaskState, message: Option<Message>) -> TaskEvent {
    TaskEvent::StatusUpdate(TaskStatusUpdateEvent {
        task_id: task.id.clone(),
        context_id: task.context_id.clone(),
        status: TaskStatus::new(state, message),
        metadata: None,
    })
}

enum First {
    Reply(Message),
    Event(Option<SequencedEvent>),
}

/// Waits for a new run's first output: a bare message reply or its first task event.
async fn first_outcome(
    mut rx: oneshot::Receiver<Message>,
    cursor: &mut EventCursor,
) -> Result<First, A2aError> {
    tokio::select! {
        biased;
        m = &mut rx => match m {
            Ok(m) => Ok(First::Reply(m)),
            // The run made a task instead (the sender was dropped).
            Err(_) => Ok(First::Event(cursor.next().await?)),
        },
        e = cursor.next() => Ok(First::Event(e?)),
    }
}

/// A send stream ends with the interaction cycle: terminal or interrupted.
fn ends_send_stream(e: &SequencedEvent) -> bool {
    e.event
        .state()
        .is_some_and(|s| s.is_terminal() || s.is_interrupted())
}

fn validate_user_message(m: &Message) -> Result<(), A2aError> {
    if m.message_id.trim().is_empty() {
        return Err(A2aError::params("message.messageId must not be empty"));
    }
    if m.parts.is_empty() {
        return Err(A2aError::params(
            "message.parts must contain at least one part",
        ));
    }
    if m.role != Role::User {
        return Err(A2aError::params("message.role must be the user role"));
    }
    Ok(())
}

//! Starting runs: resolving the task a message belongs to, and running the agent on its
//! own tokio task under a lease, so a crashed process's runs can be found and recovered.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use futures::FutureExt;
use futures::future::{AbortHandle, Abortable, Aborted};

use parking_lot::Mutex;
use tokio::sync::oneshot;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use super::claims::Keyed;
use super::cursor::EventCursor;
use super::sink::{self, EventSink, Pending, SinkInner};
use super::{Begun, RunningAgent, Started, TaskService, status_event, store_error};
use crate::agents::{AgentExecutor, RequestContext};
use crate::protocol::alias;
use crate::protocol::request::SendRequest;
use crate::protocol::{
    A2aError, Idempotency, Message, Metadata, Role, SequencedEvent, Task, TaskEvent, TaskState,
    TaskStatus, Version,
};
use crate::store::{KeyAnswer, Scope, TaskRecord};

impl TaskService {
    /// Validates the message, resolves or prepares the task, and starts the agent; with
    /// an idempotency key already answered, answers as the first request did instead.
    pub(super) async fn start(
        &self,
        scope: &Scope,
        origin: Version,
        req: SendRequest,
        retry: Option<Idempotency>,
    ) -> Result<Begun, A2aError> {
        validate_user_message(&req.message)?;
        // The paths off the common one (a webhook to check, a retry, a follow-up message)
        // are boxed: inline, their state would make every send's future several KB larger,
        // and futures are moved by copying.
        if req.push.is_some() {
            Box::pin(self.check_inline_push(req.push.as_ref())).await?;
        }
        // No key, no deduplication: a reused messageId is just another message, and a
        // send without a key costs no claim and no lookup.
        let keyed = match retry {
            Some(retry) => match Box::pin(self.claim_key(scope, retry)).await? {
                Ok(keyed) => Some(keyed),
                Err(answered) => return Box::pin(self.replay(scope, answered)).await,
            },
            None => None,
        };
        // Every task a message refers to must be the caller's: an agent may read what
        // `referenceTaskIds` names, so another's (or no) task is refused as unknown.
        if !req.message.reference_task_ids.is_empty() {
            Box::pin(self.check_references(scope, &req.message.reference_task_ids)).await?;
        }
        let (existing_id, existing) = match (&req.client_task_id, &req.message.task_id) {
            // 0.1 clients name new tasks themselves: the name is an alias in the caller's
            // scope (see `crate::protocol::alias`), an unknown one creates the task.
            (Some(name), _) if alias::is_reserved(name) => {
                return Err(A2aError::InvalidParams(
                    "id: 0.1 task ids may not start with `a2a01.` (reserved for this server's ids)"
                        .into(),
                ));
            }
            (Some(name), _) => match self.resolve_v0(scope, name).await? {
                Some(r) => (Some(r.task.id.clone()), Some(r)),
                None => (
                    Some(Arc::from(alias::internal_id(
                        &scope.owner,
                        &scope.tenant,
                        name,
                        self.inner.config.plain_anonymous_ids,
                    ))),
                    None,
                ),
            },
            (None, Some(id)) => match self.inner.store.get(scope, id).await.map_err(store_error)? {
                Some(r) => (Some(id.clone()), Some(r)),
                None => return Err(A2aError::TaskNotFound(format!("no task with id `{id}`"))),
            },
            (None, None) => (None, None),
        };
        match existing {
            // The key is stored with the follow-up's commit; the claim ends with it.
            Some(record) => Box::pin(self.continue_task(scope, origin, record, req, keyed))
                .await
                .map(Begun::Run),
            None => Ok(Begun::Run(self.new_task(
                scope,
                origin,
                existing_id,
                req,
                keyed,
            ))),
        }
    }

    /// The task a 0.x request names `name`, in the caller's scope: a task with that id
    /// (any task of 1.0 or 0.3, and 0.1 tasks stored before aliases), else the 0.1 task
    /// the caller named so.
    pub async fn resolve_v0(
        &self,
        scope: &Scope,
        name: &str,
    ) -> Result<Option<TaskRecord>, A2aError> {
        let store = &self.inner.store;
        if let Some(r) = store.get(scope, name).await.map_err(store_error)? {
            return Ok(Some(r));
        }
        let derived = alias::internal_id(
            &scope.owner,
            &scope.tenant,
            name,
            self.inner.config.plain_anonymous_ids,
        );
        store.get(scope, &derived).await.map_err(store_error)
    }

    /// `TaskNotFound` for the first referenced id that is not a task of the caller's.
    async fn check_references(&self, scope: &Scope, ids: &[String]) -> Result<(), A2aError> {
        for id in ids {
            if self
                .inner
                .store
                .get(scope, id)
                .await
                .map_err(store_error)?
                .is_none()
            {
                return Err(A2aError::TaskNotFound(format!("no task with id `{id}`")));
            }
        }
        Ok(())
    }

    fn new_task(
        &self,
        scope: &Scope,
        origin: Version,
        id: Option<Arc<str>>,
        req: SendRequest,
        keyed: Option<Keyed>,
    ) -> Started {
        // Owned, so the message and the rest move into the task and the agent's context
        // instead of being copied.
        let SendRequest {
            mut message,
            accepted_output_modes,
            metadata,
            push,
            ..
        } = req;
        // Time-ordered ids (v7): a new task lands at the end of every index keyed by its
        // id instead of on a random page, which keeps SQL inserts cheap.
        let task_id = id.unwrap_or_else(new_id);
        let context_id = message.context_id.take().unwrap_or_else(new_id);
        message.task_id = Some(task_id.clone());
        message.context_id = Some(context_id.clone());
        // Kept as long as the task: decoding left room for four parts.
        message.parts.shrink_to_fit();
        // One message, shared by the task's history and the agent's context.
        let message = Arc::new(message);
        let task = Task {
            id: task_id.clone(),
            context_id: context_id.clone(),
            status: TaskStatus::new(TaskState::Submitted, None),
            artifacts: Vec::new(),
            history: vec![message.clone()],
            metadata: metadata.clone(),
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
        let push: Vec<_> = push
            .map(|p| p.for_task(&task_id, origin))
            .into_iter()
            .collect();
        let ctx = context(
            task_id.clone(),
            context_id,
            message,
            None,
            accepted_output_modes,
            metadata,
        );
        let run = self.run(scope, origin, ctx, Some((task, push, keyed)), Some(tx));
        Started {
            task_id,
            cursor,
            reply: Some(rx),
            run,
        }
    }

    async fn continue_task(
        &self,
        scope: &Scope,
        origin: Version,
        record: TaskRecord,
        req: SendRequest,
        keyed: Option<Keyed>,
    ) -> Result<Started, A2aError> {
        let task_id = record.task.id.clone();
        if let Some(push) = req.push {
            let config = push.for_task(&task_id, origin);
            self.inner
                .store
                .put_push_config(scope, &config)
                .await
                .map_err(store_error)?;
        }
        if let Some(c) = &req.message.context_id
            && c != &record.task.context_id
        {
            return Err(A2aError::InvalidParams(format!(
                "message.contextId `{c}` does not match the context `{}` of task `{task_id}`",
                record.task.context_id
            )));
        }
        let mut message = req.message;
        message.task_id = Some(task_id.clone());
        message.context_id = Some(record.task.context_id.clone());
        message.parts.shrink_to_fit();
        let sub = self.inner.bus.subscribe(&task_id);
        let message = Arc::new(message);
        let user = TaskEvent::UserMessage(message.clone());
        // The answer set by the commit (where it begins) replaces this placeholder.
        let mut key = keyed.as_ref().map(|k| {
            k.record(KeyAnswer::Task {
                task_id: task_id.to_string(),
                after_seq: 0,
            })
        });
        let (task, last) = self
            .inner
            .update_with_events(scope, &task_id, key.as_mut(), |task| {
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
        let cursor = EventCursor::new(
            sub,
            self.inner.store.clone(),
            scope.clone(),
            task_id.clone(),
            last,
        );
        let ctx = context(
            task_id.clone(),
            task.context_id.clone(),
            message,
            Some(task.clone()),
            req.accepted_output_modes,
            req.metadata,
        );
        let run = self.run(scope, origin, ctx, None, None);
        let snapshot = SequencedEvent {
            seq: last,
            event: TaskEvent::Task(task),
        };
        Ok(Started {
            task_id,
            cursor: cursor.with_first(snapshot),
            reply: None,
            run,
        })
    }

    /// Prepares the agent's run, which makes sure the run ends in a defined state. The
    /// caller drives it or detaches it onto its own tokio task.
    pub(super) fn run(
        &self,
        scope: &Scope,
        origin: Version,
        ctx: RequestContext,
        pending: Option<Pending>,
        reply: Option<oneshot::Sender<Message>>,
    ) -> Run {
        let sink = EventSink {
            inner: Arc::new(SinkInner {
                service: self.inner.clone(),
                scope: scope.clone(),
                origin,
                task_id: ctx.task_id.clone(),
                context_id: ctx.context_id.clone(),
                pending: Mutex::new(pending),
                reply: Mutex::new(reply),
                last_state: Mutex::new(None),
                current: Mutex::new(None),
                unstored: Mutex::new(None),
            }),
        };
        let inner = self.inner.clone();
        let task_id = ctx.task_id.clone();
        let cancel = ctx.cancel.clone();
        // A child of the call that started the run (the current span), carried by the run
        // itself: it continues the request's trace even when it outlives the request.
        // Not even made without an exporter (a span is dropped and checked on every path).
        let span = crate::traces::enabled().then(|| {
            tracing::info_span!(
                target: crate::traces::SPAN_TARGET,
                "invoke_agent",
                gen_ai.operation.name = "invoke_agent",
                a2a.task.id = &*ctx.task_id,
                gen_ai.conversation.id = &*ctx.context_id,
            )
        });
        if span.as_ref().is_some_and(|s| !s.is_disabled()) {
            // The call's span learns the ids it was about.
            let call = tracing::Span::current();
            call.record("a2a.task.id", &*ctx.task_id);
            call.record("gen_ai.conversation.id", &*ctx.context_id);
        }
        // One future runs the agent and then settles the run: the agent future is abortable
        // and panic-safe in place, instead of a second task watching a first.
        let (abort, registration) = AbortHandle::new_pair();
        // Boxed: the agent's future holds the whole request context, and the task's future
        // is moved several times before it first runs.
        let agent = Box::pin(agent_run(inner.agent.clone(), ctx, sink.clone()));
        let run = Abortable::new(AssertUnwindSafe(agent).catch_unwind(), registration);
        inner
            .running
            .lock()
            .insert(task_id.clone(), RunningAgent { cancel, abort });
        let settle = async move {
            let outcome = run.await;
            inner.running.lock().remove(&task_id);
            if outcome.is_err() && inner.abandoning.load(std::sync::atomic::Ordering::Acquire) {
                // Stopped by shutdown: the task stays active for whoever takes its lease.
                return;
            }
            let failure = match outcome {
                Ok(Ok(Ok(()))) if sink.replied() => None,
                Ok(Ok(Ok(()))) => {
                    Some("the agent returned without reaching a final or interrupted state".into())
                }
                Ok(Ok(Err(e))) => Some(e.to_string()),
                Ok(Err(_panic)) => Some("the agent panicked".into()),
                Err(Aborted) => Some("the agent was stopped".into()),
            };
            let Some(why) = failure else { return };
            match sink.finish(why.clone()).await {
                Ok(()) => {}
                // The task stays as it was, so no event will reach its waiters: the bus
                // tells them instead, and they answer with the store's error.
                Err(sink::SinkError::Store(e)) => {
                    tracing::error!(task_id = &*task_id, error = %e, run = why, "cannot store the end of the run");
                    // A stored task is left active: fail it once the store answers again.
                    let stored = sink.task_created() && sink.inner.unstored.lock().is_none();
                    if stored && matches!(e, A2aError::Unavailable(_)) {
                        inner.unsettled.lock().push(super::jobs::Unsettled {
                            scope: sink.inner.scope.clone(),
                            task_id: task_id.clone(),
                            why,
                        });
                    }
                    inner.bus.publish_failure(&task_id, e);
                }
                Err(e) => {
                    tracing::warn!(task_id = &*task_id, error = %e, "cannot record the end of the run")
                }
            }
        };
        // Not traced: no span to enter on every poll.
        match span {
            Some(span) if !span.is_disabled() => Run(Some(Box::pin(settle.instrument(span)))),
            _ => Run(Some(Box::pin(settle))),
        }
    }

    /// Number of agents running in this process.
    pub fn running_agents(&self) -> usize {
        self.inner.running.lock().len()
    }
}

/// An agent's run not yet handed to tokio. Its caller drives it while waiting for the
/// run's events, which saves a task spawn and a cross-task wake-up per event when the run
/// ends within the call. Dropped unfinished (the caller stopped waiting, or its client went
/// away), it is spawned: a run never depends on its caller staying.
pub(super) struct Run(pub(super) Option<std::pin::Pin<Box<dyn Future<Output = ()> + Send>>>);

impl Run {
    /// Awaits `fut` while driving the run (the run first, so its events are there to read).
    pub(super) async fn drive<T>(&mut self, fut: impl Future<Output = T>) -> T {
        let mut fut = std::pin::pin!(fut);
        std::future::poll_fn(|cx| {
            if let Some(run) = &mut self.0
                && run.as_mut().poll(cx).is_ready()
            {
                self.0 = None;
            }
            fut.as_mut().poll(cx)
        })
        .await
    }

    /// Hands the run to tokio now.
    pub(super) fn detach(self) {
        drop(self); // dropping an unfinished run spawns it
    }
}

impl Drop for Run {
    fn drop(&mut self) {
        if let Some(run) = self.0.take() {
            // Outside a runtime (it is gone), the run's lease lets recovery finish it.
            if let Ok(rt) = tokio::runtime::Handle::try_current() {
                rt.spawn(run);
            }
        }
    }
}

/// A time-ordered id (uuid v7), written straight into its shared string.
fn new_id() -> Arc<str> {
    let mut buf = uuid::Uuid::encode_buffer();
    Arc::from(&*uuid::Uuid::now_v7().hyphenated().encode_lower(&mut buf))
}

/// What the agent is told about its run, with a fresh cancellation token.
fn context(
    task_id: Arc<str>,
    context_id: Arc<str>,
    message: Arc<Message>,
    task: Option<Task>,
    accepted_output_modes: Vec<String>,
    metadata: Option<Metadata>,
) -> RequestContext {
    RequestContext {
        task_id,
        context_id,
        message,
        task,
        accepted_output_modes,
        metadata,
        cancel: CancellationToken::new(),
    }
}

async fn agent_run(
    agent: Arc<dyn AgentExecutor>,
    ctx: RequestContext,
    sink: EventSink,
) -> Result<(), crate::agents::AgentError> {
    // Observed on drop: an aborted run (past its cancel grace) is dropped, not finished.
    let _timer = sink
        .inner
        .service
        .config
        .metrics
        .agent_run_duration
        .start_timer();
    agent.execute(ctx, sink).await
}

impl EventSink {
    /// After the agent stopped: a task left active is failed with `why`; a run that
    /// produced nothing at all creates its task as failed.
    async fn finish(&self, why: String) -> Result<(), sink::SinkError> {
        if self.settled() {
            return Ok(());
        }
        if let Some(e) = self.inner.unstored.lock().clone() {
            // The task was never stored: there is nothing to record its end in.
            return Err(e.into());
        }
        if self.task_created() {
            let record = self
                .inner
                .service
                .store
                .get(&self.inner.scope, &self.inner.task_id)
                .await
                .map_err(store_error)?;
            let state = record.map(|r| r.task.status.state);
            if state.is_none_or(|s| s.is_terminal() || s.is_interrupted()) {
                return Ok(());
            }
        }
        let msg = self.agent_message(vec![crate::protocol::Part::text(why)]);
        self.status(TaskState::Failed, Some(msg)).await
    }
}

pub(super) enum First {
    Reply(Message),
    Event(Option<Arc<SequencedEvent>>),
}

/// Waits for a new run's first output: a bare message reply or its first task event.
pub(super) async fn first_outcome(
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
    // Ids are stored as text, and PostgreSQL's text holds no NUL (texts and metadata are
    // JSON, which keeps them): refused alike on every store.
    let ids = [
        ("messageId", Some(m.message_id.as_str())),
        ("contextId", m.context_id.as_deref()),
        ("taskId", m.task_id.as_deref()),
    ];
    if let Some((name, _)) = ids
        .iter()
        .find(|(_, id)| id.is_some_and(|id| id.contains('\0')))
    {
        return Err(A2aError::InvalidParams(format!(
            "message.{name} must not contain U+0000"
        )));
    }
    Ok(())
}

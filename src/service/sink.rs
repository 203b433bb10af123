//! The event sink an agent writes to. Each emit checks the transition against the state
//! table, commits the event (creating the task on its first event), then publishes it.

use std::sync::Arc;

use parking_lot::Mutex;
use tokio::sync::oneshot;

use super::Inner;
use super::claims::Keyed;
use crate::protocol::{
    A2aError, Artifact, Message, Part, PushConfig, Role, Task, TaskArtifactUpdateEvent, TaskEvent,
    TaskState, TaskStatus, TaskStatusUpdateEvent, Version,
};
use crate::store::{Scope, TaskRecord};

/// Why an emit was refused.
#[derive(Debug, thiserror::Error)]
pub enum SinkError {
    /// The task is terminal (for example canceled): the agent should stop.
    #[error("task {0} is closed: {1}")]
    Closed(String, String),
    /// A bare message reply after task events, or a second reply.
    #[error("invalid agent response: {0}")]
    Invalid(String),
    #[error(transparent)]
    Store(#[from] A2aError),
}

/// A new task not yet stored: its snapshot, its webhooks, and the request's idempotency
/// key with its claim (released once the task is stored).
pub(super) type Pending = (Task, Vec<PushConfig>, Option<Keyed>);

/// Where an agent sends its status updates, artifacts and replies. Cheap to clone.
#[derive(Clone)]
pub struct EventSink {
    pub(super) inner: Arc<SinkInner>,
}

pub(super) struct SinkInner {
    pub service: Arc<Inner>,
    pub scope: Scope,
    pub origin: Version,
    pub task_id: Arc<str>,
    pub context_id: Arc<str>,
    /// The snapshot (and webhooks) to create on the first task event; `None` once the
    /// task exists.
    pub pending: Mutex<Option<Pending>>,
    /// Where a bare message reply goes; taken by the first reply or task event.
    pub reply: Mutex<Option<oneshot::Sender<Message>>>,
    /// The last state this sink committed, so the end of a run rarely needs a read.
    pub last_state: Mutex<Option<TaskState>>,
    /// The record as this sink last committed it: the next emit starts from it instead of
    /// reading the store (a concurrent writer, such as a cancel, makes it retry).
    pub current: Mutex<Option<TaskRecord>>,
    /// Why the store refused to create the task: the run's end cannot be stored either,
    /// and its waiters are told this instead.
    pub unstored: Mutex<Option<A2aError>>,
}

impl EventSink {
    pub fn task_id(&self) -> &str {
        &self.inner.task_id
    }

    pub fn context_id(&self) -> &str {
        &self.inner.context_id
    }

    /// An agent message addressed to this task and context.
    pub fn agent_message(&self, parts: Vec<Part>) -> Message {
        let mut m = Message::agent(parts);
        m.role = Role::Agent;
        m.context_id = Some(self.inner.context_id.clone());
        m.task_id = Some(self.inner.task_id.clone());
        m
    }

    /// Moves the task to `state`, with an optional agent message.
    pub async fn status(
        &self,
        state: TaskState,
        message: Option<Message>,
    ) -> Result<(), SinkError> {
        self.emit(TaskEvent::StatusUpdate(TaskStatusUpdateEvent {
            task_id: self.inner.task_id.clone(),
            context_id: self.inner.context_id.clone(),
            status: TaskStatus::new(state, message),
            metadata: None,
        }))
        .await
    }

    /// Adds an artifact, or a chunk of one (`append`), `last_chunk` marking its end.
    pub async fn artifact(
        &self,
        artifact: Artifact,
        append: bool,
        last_chunk: bool,
    ) -> Result<(), SinkError> {
        self.emit(TaskEvent::ArtifactUpdate(TaskArtifactUpdateEvent {
            task_id: self.inner.task_id.clone(),
            context_id: self.inner.context_id.clone(),
            artifact: Arc::new(artifact),
            append,
            last_chunk,
            metadata: None,
        }))
        .await
    }

    /// Answers with a bare message and no task. Only valid as the first and only output
    /// of a run that did not continue an existing task.
    pub async fn reply(&self, mut message: Message) -> Result<(), SinkError> {
        if self.inner.pending.lock().is_none() {
            return Err(SinkError::Invalid(
                "a bare message reply cannot follow task events".into(),
            ));
        }
        let tx = self.inner.reply.lock().take();
        let tx = tx.ok_or_else(|| SinkError::Invalid("only one reply is allowed".into()))?;
        message.task_id = None;
        message.context_id = Some(self.inner.context_id.clone());
        // Recorded before it is answered, so a retry of the request gets this message
        // instead of running the agent again; the claim is held until the run ends.
        let key = self.inner.pending.lock().as_ref().and_then(|(_, _, k)| {
            k.as_ref()
                .map(|k| k.record(crate::store::KeyAnswer::Message(message.clone())))
        });
        if let Some(key) = key
            && let Err(e) = self
                .inner
                .service
                .store
                .put_idempotency_key(&self.inner.scope, &key)
                .await
        {
            // The answer stands; only a retry of it would run the agent again.
            tracing::warn!(error = %e, key = key.key, "cannot record an idempotency key");
        }
        let _ = tx.send(message);
        Ok(())
    }

    /// Commits one event: creates the task on the first one, else appends with the
    /// transition checked under optimistic concurrency.
    pub(super) async fn emit(&self, event: TaskEvent) -> Result<(), SinkError> {
        let inner = &self.inner;
        // A run that already replied with a bare message has no task to add events to.
        if inner.reply.lock().is_none() && inner.pending.lock().is_some() {
            return Err(SinkError::Invalid(
                "task events cannot follow a bare message reply".into(),
            ));
        }
        let pending = inner.pending.lock().take();
        if let Some((mut task, push, keyed)) = pending {
            if let Some(to) = event.state()
                && !task.status.state.can_transition_to(to)
            {
                let why = format!("no transition from {:?} to {to:?}", task.status.state);
                // Still to create, and still free to reply: the end of the run creates it
                // failed, so its waiters see it.
                *inner.pending.lock() = Some((task, push, keyed));
                return Err(SinkError::Invalid(why));
            }
            inner.reply.lock().take();
            let created = TaskEvent::Task(task.clone());
            task.apply(&event);
            let state = task.status.state;
            // The copy the next emit starts from; a terminal task takes no more events.
            let keep = (!state.is_terminal()).then(|| task.clone());
            // A new task's answer begins with the task itself.
            let key = keyed.as_ref().map(|k| {
                k.record(crate::store::KeyAnswer::Task {
                    task_id: task.id.to_string(),
                    after_seq: 0,
                })
            });
            let metrics = &inner.service.config.metrics;
            // The run's span (the current one): its webhooks' attempts continue its trace.
            let traceparent = if push.is_empty() {
                None
            } else {
                crate::traces::current_traceparent()
            };
            let started = std::time::Instant::now();
            let create = inner.service.store.create_keyed(
                &inner.scope,
                inner.origin,
                task,
                vec![created, event],
                &push,
                Some(inner.service.lease()),
                key.as_ref(),
                traceparent.as_deref(),
            );
            let created =
                crate::traces::in_span(create, || crate::traces::store_span("create")).await;
            metrics.store_op(crate::metrics::StoreOp::Create, started);
            let events = created.map_err(|e| {
                let e = super::store_error(e);
                *inner.unstored.lock() = Some(e.clone());
                e
            })?;
            metrics.task_created();
            metrics.task_finished(state);
            // The key is stored now: a request waiting on it can find the task.
            drop(keyed);
            let last_seq = events.len() as u64;
            inner.service.bus.publish(&inner.task_id, events);
            *inner.last_state.lock() = Some(state);
            *inner.current.lock() = keep.map(|task| TaskRecord {
                task,
                version: 1,
                last_seq,
                origin: inner.origin,
            });
            return Ok(());
        }
        let known = inner.current.lock().take();
        // Boxed: the update loop's state (two task records) would otherwise sit inline in
        // every emit, status and agent future, and be copied whole each time one moves.
        let result = Box::pin(inner.service.update_from(
            &inner.scope,
            &inner.task_id,
            known,
            // A commit checks the transition on the head alone.
            crate::store::TaskView::HEAD,
            // A terminal task takes no more events: nothing to start the next emit from.
            |task| !task.status.state.is_terminal(),
            None,
            |task| {
                if let Some(to) = event.state() {
                    if !task.status.state.can_transition_to(to) {
                        return Err(A2aError::UnsupportedOperation(format!(
                            "task is {}",
                            task.status.state.kebab_name()
                        )));
                    }
                } else if task.status.state.is_terminal() {
                    return Err(A2aError::UnsupportedOperation(format!(
                        "task is {}",
                        task.status.state.kebab_name()
                    )));
                }
                Ok(vec![event.clone()])
            },
        ))
        .await;
        match result {
            Ok(committed) => {
                *inner.last_state.lock() = Some(committed.state);
                *inner.current.lock() = committed.record;
                Ok(())
            }
            Err(A2aError::UnsupportedOperation(why)) => {
                Err(SinkError::Closed(inner.task_id.to_string(), why))
            }
            Err(e) => Err(SinkError::Store(e)),
        }
    }

    /// Whether the run produced a task (or is still free to reply with a message).
    pub(super) fn task_created(&self) -> bool {
        self.inner.pending.lock().is_none()
    }

    /// Whether this sink's last commit left the task terminal or interrupted.
    pub(super) fn settled(&self) -> bool {
        self.inner
            .last_state
            .lock()
            .is_some_and(|s| s.is_terminal() || s.is_interrupted())
    }

    pub(super) fn replied(&self) -> bool {
        self.inner.reply.lock().is_none() && self.inner.pending.lock().is_some()
    }
}

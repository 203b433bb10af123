//! Background jobs: renewing this process's run leases, recovering runs whose process
//! died (their lease expired), purging old terminal tasks and expired idempotency keys;
//! and at shutdown, releasing the leases of the runs this process stops.

use std::sync::Arc;
use std::time::Duration;

use tokio::time::{MissedTickBehavior, interval};
use tokio_util::sync::CancellationToken;

use super::{TaskService, now_millis, status_event};
use crate::agents::RequestContext;
use crate::protocol::{A2aError, Message, Part, Role, TaskState};
use crate::store::{ExpiredRun, Scope};

/// A run that ended without storing its end, for [`TaskService::settle_unsettled`].
pub(super) struct Unsettled {
    pub scope: Scope,
    pub task_id: Arc<str>,
    /// Why the run ended.
    pub why: String,
}

/// Expired runs taken per store round trip.
const RECOVERY_BATCH: usize = 100;

/// The status message of a task whose run was lost.
pub const RESTARTED: &str = "the server restarted while this task was running; it did not finish";

impl TaskService {
    /// Runs the background jobs until `shutdown` fires. Recovery runs once at once, so
    /// runs lost in a crash are found at start-up (as soon as their lease has expired).
    pub async fn run_background(self, shutdown: CancellationToken) {
        let lease = self.inner.config.run_lease;
        let mut renew = interval((lease / 3).max(Duration::from_millis(100)));
        let mut recover = interval((lease / 2).max(Duration::from_millis(100)));
        let retention = self.inner.config.retention;
        let purge_every = retention
            .map(|r| (r / 4).clamp(Duration::from_secs(1), Duration::from_secs(60)))
            .unwrap_or(Duration::from_secs(3600));
        let mut purge = interval(purge_every);
        let ttl = self.inner.config.idempotency_ttl;
        let mut purge_keys =
            interval((ttl / 4).clamp(Duration::from_secs(1), Duration::from_secs(60)));
        for t in [&mut renew, &mut recover, &mut purge, &mut purge_keys] {
            t.set_missed_tick_behavior(MissedTickBehavior::Delay);
        }
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => break,
                _ = renew.tick() => self.renew_leases().await,
                _ = recover.tick() => {
                    self.settle_unsettled().await;
                    self.recover_expired_runs().await;
                }
                _ = purge.tick(), if retention.is_some() => {
                    self.purge(retention.unwrap_or_default()).await;
                }
                _ = purge_keys.tick() => self.purge_keys().await,
            }
        }
    }

    async fn renew_leases(&self) {
        let until = now_millis() + self.inner.config.run_lease.as_millis() as i64;
        if let Err(e) = self
            .inner
            .store
            .heartbeat(&self.inner.runner_id, until)
            .await
        {
            tracing::warn!(error = %e, "cannot renew run leases");
        }
    }

    /// Recovers every run whose lease expired; returns how many were recovered.
    pub async fn recover_expired_runs(&self) -> usize {
        let mut recovered = 0;
        loop {
            let runs = match self
                .inner
                .store
                .take_expired_runs(now_millis(), RECOVERY_BATCH)
                .await
            {
                Ok(r) => r,
                Err(e) => {
                    tracing::warn!(error = %e, "cannot read expired runs");
                    return recovered;
                }
            };
            if runs.is_empty() {
                return recovered;
            }
            for run in runs {
                if self.recover(run).await {
                    recovered += 1;
                }
            }
        }
    }

    /// Moves a lost run's task to a defined state: runs it again if the agent is
    /// resumable, else fails it with [`RESTARTED`].
    async fn recover(&self, run: ExpiredRun) -> bool {
        // A lease of our own that lapsed (the store was unreachable) while the agent
        // still runs here is not lost.
        if self.inner.running.lock().contains_key(run.task_id.as_str()) {
            return false;
        }
        let record = match self.inner.store.get(&run.scope, &run.task_id).await {
            Ok(Some(r)) => r,
            // The run died before its task was created: nothing to recover.
            Ok(None) => return false,
            Err(e) => {
                tracing::warn!(task_id = run.task_id, error = %e, "cannot read a lost run's task");
                return false;
            }
        };
        let task = record.task;
        let state = task.status.state;
        if state.is_terminal() || state.is_interrupted() {
            return false;
        }
        let last_user = task
            .history
            .iter()
            .rev()
            .find(|m| m.role == Role::User)
            .cloned();
        if let (true, Some(message)) = (self.inner.agent.resumable(), last_user) {
            tracing::info!(task_id = &*task.id, "re-running a task lost in a restart");
            let ctx = RequestContext {
                task_id: task.id.clone(),
                context_id: task.context_id.clone(),
                message,
                task: Some(task.clone()),
                accepted_output_modes: Vec::new(),
                metadata: task.metadata.clone(),
                cancel: CancellationToken::new(),
            };
            self.run(&run.scope, record.origin, ctx, None, None)
                .detach();
            return true;
        }
        tracing::info!(task_id = &*task.id, "failing a task lost in a restart");
        let mut message = Message::agent(vec![Part::text(RESTARTED)]);
        message.task_id = Some(task.id.clone());
        message.context_id = Some(task.context_id.clone());
        let result = self
            .inner
            .update(&run.scope, &task.id, |t| {
                let s = t.status.state;
                if s.is_terminal() || s.is_interrupted() {
                    return Err(A2aError::UnsupportedOperation("already settled".into()));
                }
                Ok(vec![status_event(
                    t,
                    TaskState::Failed,
                    Some(message.clone()),
                )])
            })
            .await;
        result.is_ok()
    }

    /// Fails the tasks whose run could not store its end; those the store still cannot
    /// be reached for wait for the next round.
    async fn settle_unsettled(&self) {
        let runs = std::mem::take(&mut *self.inner.unsettled.lock());
        for run in runs {
            let mut message = Message::agent(vec![Part::text(run.why.clone())]);
            message.task_id = Some(run.task_id.clone());
            let result = self
                .inner
                .update(&run.scope, &run.task_id, |t| {
                    let s = t.status.state;
                    if s.is_terminal() || s.is_interrupted() {
                        return Err(A2aError::UnsupportedOperation("already settled".into()));
                    }
                    message.context_id = Some(t.context_id.clone());
                    Ok(vec![status_event(
                        t,
                        TaskState::Failed,
                        Some(message.clone()),
                    )])
                })
                .await;
            match result {
                Ok(_) => tracing::info!(task_id = &*run.task_id, "stored the end of a run"),
                Err(A2aError::Unavailable(_)) => self.inner.unsettled.lock().push(run),
                Err(A2aError::UnsupportedOperation(_) | A2aError::TaskNotFound(_)) => {}
                Err(e) => {
                    tracing::warn!(task_id = &*run.task_id, error = %e, "cannot store the end of a run")
                }
            }
        }
    }

    /// Waits until no agent runs in this process.
    pub async fn runs_finished(&self) {
        while self.running_agents() > 0 {
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }

    /// Shutdown, after the grace: stops the agents still running without settling their
    /// tasks, then releases this process's leases, so another process (or this one
    /// restarted) recovers those runs at once instead of after `run_lease_secs`. Call it
    /// after the background jobs stopped: a heartbeat would renew the leases again.
    pub async fn abandon_runs(&self) {
        use std::sync::atomic::Ordering;
        self.inner.abandoning.store(true, Ordering::Release);
        let stopped: Vec<_> = self
            .inner
            .running
            .lock()
            .values()
            .map(|r| r.abort.clone())
            .collect();
        for abort in &stopped {
            abort.abort();
        }
        // Aborted runs leave the table at their next poll; give them a moment to.
        let _ = tokio::time::timeout(std::time::Duration::from_secs(1), self.runs_finished()).await;
        match self.inner.store.release_leases(&self.inner.runner_id).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(
                released = n,
                stopped = stopped.len(),
                "released the leases of unfinished runs"
            ),
            Err(e) => {
                tracing::warn!(error = %e, "cannot release run leases; they lapse after run_lease_secs")
            }
        }
    }

    /// Deletes the idempotency keys past their TTL.
    async fn purge_keys(&self) {
        match self.inner.store.purge_idempotency_keys(now_millis()).await {
            Ok(0) => {}
            Ok(n) => tracing::debug!(purged = n, "purged expired idempotency keys"),
            Err(e) => tracing::warn!(error = %e, "cannot purge expired idempotency keys"),
        }
    }

    async fn purge(&self, retention: Duration) {
        let before = now_millis() - retention.as_millis() as i64;
        match self.inner.store.purge_terminal(before).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(purged = n, "purged terminal tasks past retention"),
            Err(e) => tracing::warn!(error = %e, "cannot purge old tasks"),
        }
    }
}

//! The event bus: how committed task events reach subscribers. In-process broadcast now;
//! the trait is the seam for a Redis-backed bus shared by several replicas.
//!
//! The bus is a wake-up path, not the source of truth: a subscriber that lags or sees a
//! gap in sequence numbers reads the missing events from the store (see `service::cursor`).
//! The one thing it carries that the store does not have is a run's failure to store its
//! end: no event will follow, and the subscribers must not wait for one.

use std::collections::HashMap;
use std::sync::Arc;

use parking_lot::Mutex;
use tokio::sync::broadcast;

use crate::protocol::{A2aError, SequencedEvent};

/// Per-task channel capacity; a subscriber further behind than this backfills from the store.
/// Small, because every send subscribes (a new channel per task) and the slots are
/// allocated up front; a run publishes a few events at a time.
const CHANNEL_CAPACITY: usize = 16;

/// Broadcast channels by task id; foldhash, as every send inserts and removes one.
type Channels = HashMap<Arc<str>, broadcast::Sender<Published>, foldhash::fast::RandomState>;

/// What a task's channel carries.
#[derive(Debug, Clone)]
pub enum Published {
    /// An event committed to the store.
    Event(Arc<SequencedEvent>),
    /// The task's run ended and could not store its end (the store failed), so the task
    /// stays as it was and no event will follow: whoever waits for one answers this.
    RunFailed(Arc<A2aError>),
}

/// Publishes committed events and hands out per-task subscriptions.
pub trait EventBus: Send + Sync + 'static {
    /// Publishes events already committed to the store, in sequence order; shared, not
    /// copied (a task snapshot is the largest thing on the hot path).
    fn publish(&self, task_id: &str, events: Vec<Arc<SequencedEvent>>);
    /// Tells the task's subscribers that its run failed with `error` it could not store.
    fn publish_failure(&self, task_id: &str, error: A2aError);
    /// Subscribes to a task's future events.
    fn subscribe(&self, task_id: &Arc<str>) -> Subscription;
}

/// A live subscription to one task's events.
pub struct Subscription {
    pub rx: broadcast::Receiver<Published>,
    _guard: Option<Box<dyn Send + Sync>>,
}

/// In-process bus: one broadcast channel per task with subscribers.
#[derive(Default, Clone)]
pub struct LocalBus {
    channels: Arc<Mutex<Channels>>,
}

impl LocalBus {
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of tasks with live subscribers (for tests and metrics).
    pub fn active_channels(&self) -> usize {
        self.channels.lock().len()
    }
}

impl EventBus for LocalBus {
    fn publish(&self, task_id: &str, events: Vec<Arc<SequencedEvent>>) {
        let channels = self.channels.lock();
        // No channel means no subscriber: nothing to do.
        if let Some(tx) = channels.get(task_id) {
            for e in events {
                let _ = tx.send(Published::Event(e));
            }
        }
    }

    fn publish_failure(&self, task_id: &str, error: A2aError) {
        if let Some(tx) = self.channels.lock().get(task_id) {
            let _ = tx.send(Published::RunFailed(Arc::new(error)));
        }
    }

    fn subscribe(&self, task_id: &Arc<str>) -> Subscription {
        let rx = self
            .channels
            .lock()
            .entry(task_id.clone())
            .or_insert_with(|| broadcast::channel(CHANNEL_CAPACITY).0)
            .subscribe();
        let guard = ChannelGuard {
            channels: self.channels.clone(),
            task_id: task_id.clone(),
        };
        Subscription {
            rx,
            _guard: Some(Box::new(guard)),
        }
    }
}

/// Drops the task's channel when its last subscriber goes away.
struct ChannelGuard {
    channels: Arc<Mutex<Channels>>,
    task_id: Arc<str>,
}

impl Drop for ChannelGuard {
    fn drop(&mut self) {
        let mut channels = self.channels.lock();
        // Fields drop in declaration order, so this subscription's receiver is gone already.
        if channels
            .get(&self.task_id)
            .is_some_and(|tx| tx.receiver_count() == 0)
        {
            channels.remove(&self.task_id);
        }
    }
}

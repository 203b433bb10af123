//! The event bus: how committed task events reach subscribers. In-process broadcast now;
//! the trait is the seam for a Redis-backed bus shared by several replicas.
//!
//! The bus is a wake-up path, not the source of truth: a subscriber that lags or sees a
//! gap in sequence numbers reads the missing events from the store (see `service::cursor`).

use std::collections::HashMap;
use std::sync::Arc;

use parking_lot::Mutex;
use tokio::sync::broadcast;

use crate::protocol::SequencedEvent;

/// Per-task channel capacity; a subscriber further behind than this backfills from the store.
/// Small, because every send subscribes (a new channel per task) and the slots are
/// allocated up front; a run publishes a few events at a time.
const CHANNEL_CAPACITY: usize = 16;

/// Broadcast channels by task id; foldhash, as every send inserts and removes one.
type Channels =
    HashMap<Arc<str>, broadcast::Sender<Arc<SequencedEvent>>, foldhash::fast::RandomState>;

/// Publishes committed events and hands out per-task subscriptions.
pub trait EventBus: Send + Sync + 'static {
    /// Publishes events already committed to the store, in sequence order; shared, not
    /// copied (a task snapshot is the largest thing on the hot path).
    fn publish(&self, task_id: &str, events: Vec<Arc<SequencedEvent>>);
    /// Subscribes to a task's future events.
    fn subscribe(&self, task_id: &Arc<str>) -> Subscription;
}

/// A live subscription to one task's events.
pub struct Subscription {
    pub rx: broadcast::Receiver<Arc<SequencedEvent>>,
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
                let _ = tx.send(e);
            }
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

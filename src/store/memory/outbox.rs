//! The memory store's push outbox: rows in insertion order, plus an index of each webhook
//! config's live rows, so claiming costs a lookup instead of a scan of the whole backlog
//! (under load the backlog runs to thousands of rows, and a scan per delivery made
//! delivery quadratic).

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::Arc;

use crate::store::{Delivery, OutboxDepth};

struct Row {
    delivery: Delivery,
    next_attempt_at: i64,
    claimed_until: Option<i64>,
}

impl Row {
    fn claimable(&self, now: i64) -> bool {
        self.delivery.dead_at.is_none()
            && self.next_attempt_at <= now
            && self.claimed_until.is_none_or(|c| c < now)
    }

    fn claim(&mut self, claim_until: i64) -> Delivery {
        self.claimed_until = Some(claim_until);
        self.delivery.attempts += 1;
        self.delivery.clone()
    }
}

#[derive(Default)]
pub(super) struct Outbox {
    /// Every row, dead letters included, by id (insertion order).
    rows: BTreeMap<i64, Row>,
    next_id: i64,
    queues: Queues,
}

/// The live (not dead-lettered) rows of each config, in order. Apart from `rows`, so a row
/// can be linked or unlinked while borrowed.
#[derive(Default)]
struct Queues {
    /// Row ids by task, then config: each config's queue.
    by_config: HashMap<String, HashMap<String, BTreeSet<i64>>>,
    /// The first id of every non-empty queue: the only rows that may go out, since a
    /// config's notifications are delivered in order.
    heads: BTreeSet<i64>,
}

impl Outbox {
    /// Appends a notification; its id is assigned here.
    pub fn push(&mut self, mut delivery: Delivery, now: i64) {
        self.next_id += 1;
        delivery.id = self.next_id;
        self.queues.link(&delivery);
        self.rows.insert(
            delivery.id,
            Row {
                delivery,
                next_attempt_at: now,
                claimed_until: None,
            },
        );
    }

    /// Claims up to `limit` due rows, each the oldest live row of its config.
    pub fn claim_batch(&mut self, now: i64, claim_until: i64, limit: usize) -> Vec<Delivery> {
        let ids: Vec<i64> = self
            .queues
            .heads
            .iter()
            .filter(|id| self.rows[id].claimable(now))
            .take(limit)
            .copied()
            .collect();
        ids.into_iter()
            .map(|id| {
                self.rows
                    .get_mut(&id)
                    .expect("heads are rows")
                    .claim(claim_until)
            })
            .collect()
    }

    /// Claims the row that follows `after` in its config's queue, if it is due.
    pub fn claim_next(&mut self, after: &Delivery, now: i64, claim_until: i64) -> Option<Delivery> {
        let id = *self
            .queues
            .by_config
            .get(&after.task_id)?
            .get(&after.config_id)?
            .first()?;
        let row = self.rows.get_mut(&id).expect("queued ids are rows");
        row.claimable(now).then(|| row.claim(claim_until))
    }

    pub fn complete(&mut self, id: i64) {
        if let Some(row) = self.rows.remove(&id) {
            self.queues.unlink(&row.delivery);
        }
    }

    pub fn retry(&mut self, id: i64, next_attempt_at: i64, error: &str) {
        if let Some(row) = self.rows.get_mut(&id) {
            row.next_attempt_at = next_attempt_at;
            row.claimed_until = None;
            row.delivery.last_error = Some(error.to_string());
        }
    }

    pub fn dead_letter(&mut self, id: i64, now: i64, error: &str) {
        let Some(row) = self.rows.get_mut(&id) else {
            return;
        };
        row.claimed_until = None;
        row.delivery.dead_at = Some(now);
        row.delivery.last_error = Some(error.to_string());
        self.queues.unlink(&row.delivery);
    }

    /// The oldest dead letters first.
    pub fn dead_letters(&self, limit: usize) -> Vec<Delivery> {
        let mut dead: Vec<Delivery> = self
            .rows
            .values()
            .filter(|r| r.delivery.dead_at.is_some())
            .map(|r| r.delivery.clone())
            .collect();
        dead.sort_by_key(|d| (d.dead_at, d.id));
        dead.truncate(limit);
        dead
    }

    /// Makes dead letters (all, or the one with `id`) due again; returns how many.
    pub fn requeue(&mut self, id: Option<i64>, now: i64) -> u64 {
        let mut revived = 0;
        for row in self.rows.values_mut() {
            if row.delivery.dead_at.is_some() && id.is_none_or(|i| i == row.delivery.id) {
                row.delivery.dead_at = None;
                row.delivery.attempts = 0;
                row.next_attempt_at = now;
                row.claimed_until = None;
                self.queues.link(&row.delivery);
                revived += 1;
            }
        }
        revived
    }

    pub fn depth(&self) -> OutboxDepth {
        let pending = self
            .queues
            .by_config
            .values()
            .flat_map(|c| c.values())
            .map(BTreeSet::len)
            .sum::<usize>();
        // Ids grow in insertion order: the smallest queue head is the oldest live row.
        let oldest_pending_at = self
            .queues
            .heads
            .first()
            .and_then(|id| self.rows.get(id))
            .map(|r| r.delivery.created_at);
        OutboxDepth {
            pending: pending as u64,
            dead: (self.rows.len() - pending) as u64,
            oldest_pending_at,
        }
    }

    /// Drops a config's rows, dead letters included.
    pub fn remove_config(&mut self, task_id: &str, config_id: &str) {
        self.rows
            .retain(|_, r| !(r.delivery.task_id == task_id && r.delivery.config_id == config_id));
        self.queues
            .drop_where(|t, c| t == task_id && c == config_id);
    }

    /// Drops every row of the given tasks.
    pub fn remove_tasks(&mut self, tasks: &HashSet<Arc<str>>) {
        self.rows
            .retain(|_, r| !tasks.contains(r.delivery.task_id.as_str()));
        self.queues.drop_where(|t, _| tasks.contains(t));
    }

    /// Whether no row is kept at all, live or dead.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Whether any live notification of `task_id` waits.
    pub fn has_live(&self, task_id: &str) -> bool {
        self.queues.by_config.contains_key(task_id)
    }
}

impl Queues {
    /// Adds a live row to its config's queue.
    fn link(&mut self, d: &Delivery) {
        let queue = self
            .by_config
            .entry(d.task_id.clone())
            .or_default()
            .entry(d.config_id.clone())
            .or_default();
        let old_head = queue.first().copied();
        queue.insert(d.id);
        if old_head.is_none_or(|h| d.id < h) {
            if let Some(h) = old_head {
                self.heads.remove(&h);
            }
            self.heads.insert(d.id);
        }
    }

    /// Takes a row out of its config's queue (delivered, dead-lettered or deleted).
    fn unlink(&mut self, d: &Delivery) {
        let Some(configs) = self.by_config.get_mut(&d.task_id) else {
            return;
        };
        let Some(queue) = configs.get_mut(&d.config_id) else {
            return;
        };
        if !queue.remove(&d.id) {
            return;
        }
        if self.heads.remove(&d.id)
            && let Some(&next) = queue.first()
        {
            self.heads.insert(next);
        }
        if queue.is_empty() {
            configs.remove(&d.config_id);
            if configs.is_empty() {
                self.by_config.remove(&d.task_id);
            }
        }
    }

    /// Drops the queues of the (task, config) pairs `doomed` names.
    fn drop_where(&mut self, doomed: impl Fn(&str, &str) -> bool) {
        let heads = &mut self.heads;
        self.by_config.retain(|task, configs| {
            configs.retain(|config, queue| {
                if doomed(task, config) {
                    if let Some(h) = queue.first() {
                        heads.remove(h);
                    }
                    false
                } else {
                    true
                }
            });
            !configs.is_empty()
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::{TaskEvent, TaskState, TaskStatus, TaskStatusUpdateEvent, Version};

    fn delivery(task: &str, config: &str) -> Delivery {
        Delivery {
            id: 0,
            task_id: task.into(),
            config_id: config.into(),
            seq: 1,
            origin: Version::V1,
            url: "http://127.0.0.1/hook".into(),
            token: None,
            authentication: None,
            payload: TaskEvent::StatusUpdate(TaskStatusUpdateEvent {
                task_id: task.into(),
                context_id: "c".into(),
                status: TaskStatus::new(TaskState::Working, None),
                metadata: None,
            }),
            attempts: 0,
            created_at: 0,
            last_error: None,
            dead_at: None,
            traceparent: None,
        }
    }

    fn ids(ds: &[Delivery]) -> Vec<i64> {
        ds.iter().map(|d| d.id).collect()
    }

    #[test]
    fn each_config_goes_in_order_through_dead_letters_and_requeues() {
        let mut o = Outbox::default();
        for (t, c) in [
            ("t1", "a"),
            ("t1", "a"),
            ("t2", "b"),
            ("t1", "a"),
            ("t2", "b"),
        ] {
            o.push(delivery(t, c), 0);
        }
        // Only the oldest row of each config goes out, and a claimed one is not re-claimed.
        let first = o.claim_batch(0, 1000, 10);
        assert_eq!(ids(&first), vec![1, 3]);
        assert!(o.claim_batch(0, 100, 10).is_empty());
        // Delivered: the next of the same config follows.
        o.complete(1);
        let next = o
            .claim_next(&first[0], 0, 100)
            .expect("row 2 follows row 1");
        assert_eq!(next.id, 2);
        // Dead-lettered: the config moves on to row 4, and the dead letter is kept.
        o.dead_letter(2, 5, "gone");
        assert_eq!(o.claim_next(&next, 10, 100).map(|d| d.id), Some(4));
        assert_eq!(ids(&o.dead_letters(10)), vec![2]);
        let depth = o.depth();
        assert_eq!((depth.pending, depth.dead), (3, 1));
        // Requeued: row 2 is the oldest live row of its config again, so it is the head.
        o.complete(4);
        assert_eq!(o.requeue(Some(2), 200), 1);
        assert_eq!(ids(&o.claim_batch(200, 300, 10)), vec![2]);
        // A deleted config takes its queue with it; the other config is untouched.
        o.remove_config("t1", "a");
        assert!(!o.has_live("t1"));
        o.complete(3);
        assert_eq!(ids(&o.claim_batch(400, 500, 10)), vec![5]);
    }
}

//! Idempotency keys this process is starting. A request whose `Idempotency-Key` is already
//! being started here waits until the first one's task (and key) is in the store, or its
//! run ended without one, then answers from the key's record instead of running the agent
//! a second time: a client that retries while a slow agent has not yet produced its task
//! gets the same task, as it would later.
//!
//! Per process: replicas sharing a database each guard their own requests (across
//! replicas, the first key recorded wins and later retries follow it).

use std::collections::HashMap;
use std::hash::BuildHasher;
use std::sync::Arc;

use parking_lot::Mutex;
use tokio::sync::watch;

use crate::store::{KeyAnswer, KeyRecord, Scope};

/// A claim is keyed by the 64-bit hash of (scope, idempotency key), so claiming copies
/// nothing. Two keys whose hashes collide only wait on each other, each then doing its own
/// lookup: a delay once in 2^64, never a wrong answer. (The agent, the third part of a
/// key's scope, is the same for every claim of a process.)
type Key = u64;

/// The claimed keys. A claim's value is created by the first request that waits on it,
/// so an unclaimed key (nearly every one) costs one insert and one remove.
#[derive(Default)]
pub(super) struct Claims {
    claimed: Mutex<HashMap<Key, Option<watch::Sender<()>>, foldhash::fast::RandomState>>,
    hasher: foldhash::quality::RandomState,
}

pub(super) enum Claim {
    /// This request starts the message; the guard releases it.
    Mine(ClaimGuard),
    /// Another request is starting it: resolves once that one released its claim.
    Taken(watch::Receiver<()>),
}

impl Claims {
    pub(super) fn claim(self: &Arc<Self>, scope: &Scope, idempotency_key: &str) -> Claim {
        let key = self.hasher.hash_one((scope, idempotency_key));
        let mut map = self.claimed.lock();
        if let Some(waiters) = map.get_mut(&key) {
            return Claim::Taken(
                waiters
                    .get_or_insert_with(|| watch::channel(()).0)
                    .subscribe(),
            );
        }
        map.insert(key, None);
        Claim::Mine(ClaimGuard {
            claims: self.clone(),
            key,
        })
    }
}

/// Holds a key until dropped: once its task is stored, or its run is over.
pub(super) struct ClaimGuard {
    claims: Arc<Claims>,
    key: Key,
}

impl Drop for ClaimGuard {
    fn drop(&mut self) {
        // Dropping the sender (if anyone waits) closes the channel, which wakes them; it is
        // dropped after the lock is released, so the woken do not wait on it.
        let waiters = self.claims.claimed.lock().remove(&self.key);
        drop(waiters);
    }
}

/// A send's idempotency key while the send starts: its claim, and what goes into the
/// key's record when the answer is stored.
pub(super) struct Keyed {
    /// Released when this is dropped.
    pub _claim: ClaimGuard,
    pub agent: String,
    pub key: String,
    pub fingerprint: String,
    pub created_at: i64,
    pub expires_at: i64,
}

impl Keyed {
    /// The record of this key answering `answer`.
    pub(super) fn record(&self, answer: KeyAnswer) -> KeyRecord {
        KeyRecord {
            agent: self.agent.clone(),
            key: self.key.clone(),
            fingerprint: self.fingerprint.clone(),
            answer,
            created_at: self.created_at,
            expires_at: self.expires_at,
        }
    }
}

/// Waits until the claim behind `rx` is released.
pub(super) async fn released(mut rx: watch::Receiver<()>) {
    // Nothing is ever sent: `changed` returns when the sender is dropped.
    let _ = rx.changed().await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_second_claim_waits_for_the_first_to_be_released() {
        let claims = Arc::new(Claims::default());
        let scope = Scope::default();
        let Claim::Mine(first) = claims.claim(&scope, "m-1") else {
            panic!("the first claim is taken");
        };
        let Claim::Taken(rx) = claims.claim(&scope, "m-1") else {
            panic!("a second claim of the same message was granted");
        };
        assert!(matches!(claims.claim(&scope, "m-2"), Claim::Mine(_)));
        let wait =
            |ms| tokio::time::timeout(std::time::Duration::from_millis(ms), released(rx.clone()));
        assert!(wait(50).await.is_err(), "released while the claim is held");
        drop(first);
        wait(5000)
            .await
            .expect("the waiter wakes when the guard drops");
        assert!(matches!(claims.claim(&scope, "m-1"), Claim::Mine(_)));
    }
}

//! Idempotency keys in the memory store, with their expiry order.

use std::collections::VecDeque;
use std::sync::Arc;

use super::Map;
use crate::store::{KeyRecord, Scope};

/// Keys purged per hold of the write lock (every send waits while the purge holds it).
const PURGE_BATCH: usize = 1024;

#[derive(Debug)]
struct KeyId {
    tenant: String,
    owner: String,
    agent: String,
    key: String,
}

/// A key's four parts, borrowed: lookups compare and hash these, so a send's lookup copies
/// none of them into a `KeyId`.
trait Parts {
    fn parts(&self) -> [&str; 4];
}

impl Parts for KeyId {
    fn parts(&self) -> [&str; 4] {
        [&self.tenant, &self.owner, &self.agent, &self.key]
    }
}

impl Parts for [&str; 4] {
    fn parts(&self) -> [&str; 4] {
        *self
    }
}

impl PartialEq for dyn Parts + '_ {
    fn eq(&self, other: &Self) -> bool {
        self.parts() == other.parts()
    }
}

impl Eq for dyn Parts + '_ {}

impl std::hash::Hash for dyn Parts + '_ {
    fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
        self.parts().hash(h);
    }
}

impl<'a> std::borrow::Borrow<dyn Parts + 'a> for Arc<KeyId> {
    fn borrow(&self) -> &(dyn Parts + 'a) {
        &**self
    }
}

impl PartialEq for KeyId {
    fn eq(&self, other: &Self) -> bool {
        self.parts() == other.parts()
    }
}

impl Eq for KeyId {}

impl std::hash::Hash for KeyId {
    // As `dyn Parts` hashes, which `Borrow` requires.
    fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
        self.parts().hash(h);
    }
}

impl KeyId {
    fn new(scope: &Scope, agent: &str, key: &str) -> Self {
        Self {
            tenant: scope.tenant.clone(),
            owner: scope.owner.clone(),
            agent: agent.to_string(),
            key: key.to_string(),
        }
    }
}

/// The records, and their ids in the order they expire. Every key lives as long (the
/// service's one TTL), so insertion order is expiry order and a queue replaces a tree.
#[derive(Default)]
pub(super) struct Keys {
    records: Map<Arc<KeyId>, KeyRecord>,
    expiry: VecDeque<(i64, Arc<KeyId>)>,
}

impl Keys {
    pub(super) fn get(&self, scope: &Scope, agent: &str, key: &str, now: i64) -> Option<KeyRecord> {
        if self.records.is_empty() {
            return None;
        }
        let parts = [scope.tenant.as_str(), &scope.owner, agent, key];
        self.records
            .get(&parts as &dyn Parts)
            .filter(|r| r.expires_at > now)
            .cloned()
    }

    /// Records `rec` unless a live record of the key is there: the first answer wins.
    pub(super) fn put(&mut self, scope: &Scope, rec: &KeyRecord) {
        let parts = [scope.tenant.as_str(), &scope.owner, &rec.agent, &rec.key];
        if let Some(old) = self.records.get(&parts as &dyn Parts)
            && old.expires_at > rec.created_at
        {
            return;
        }
        let id = Arc::new(KeyId::new(scope, &rec.agent, &rec.key));
        self.expiry.push_back((rec.expires_at, id.clone()));
        self.records.insert(id, rec.clone());
    }

    /// Removes up to a batch of records expired at `now`; returns how many were removed
    /// and whether more may be left.
    pub(super) fn purge_batch(&mut self, now: i64) -> (u64, bool) {
        let mut purged = 0;
        for _ in 0..PURGE_BATCH {
            match self.expiry.front() {
                Some((at, _)) if *at <= now => {}
                _ => return (purged, false),
            }
            let (at, id) = self.expiry.pop_front().expect("peeked");
            // A key recorded again after it expired has a later entry of its own.
            if self.records.get(&id).is_some_and(|r| r.expires_at == at) {
                self.records.remove(&id);
                purged += 1;
            }
        }
        (purged, true)
    }
}

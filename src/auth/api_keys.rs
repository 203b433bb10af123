//! API keys from a file of SHA-256 digests: the server never holds a key itself, so the file
//! can be read by people who must not call as its owners.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Weak};
use std::time::{Duration, SystemTime};

use http::HeaderMap;
use parking_lot::RwLock;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::{ApiKeysConfig, Principal, Refusal, Scheme};
use crate::store::Scope;

/// How often the file is checked for changes: a deleted line stops working within this.
const RELOAD_EVERY: Duration = Duration::from_secs(1);

/// The API keys of the key file, re-read when it changes.
#[derive(Clone)]
pub struct ApiKeys(Arc<Shared>);

struct Shared {
    file: PathBuf,
    header: http::HeaderName,
    /// The header as configured (`HeaderName` is lower case), for messages.
    header_name: String,
    table: RwLock<Table>,
}

#[derive(Default)]
struct Table {
    /// Keyed by the first half of each digest; the whole digest is then compared in
    /// constant time, so timing reveals at most a digest prefix (no help finding a key).
    keys: HashMap<[u8; 16], Entry>,
    /// What the file looked like when read (modification time and length).
    stamp: Option<(SystemTime, u64)>,
}

#[derive(Debug)]
struct Entry {
    digest: [u8; 32],
    scope: Scope,
}

impl ApiKeys {
    /// Reads the file (an unreadable file or a bad line is a start-up error) and starts a
    /// task that re-reads it when it changes.
    pub fn open(config: &ApiKeysConfig) -> anyhow::Result<Self> {
        let header = http::HeaderName::try_from(config.header.as_str()).map_err(|_| {
            anyhow::anyhow!(
                "auth.api_keys.header `{}` is not a header name",
                config.header
            )
        })?;
        let table = read(&config.file).map_err(|e| anyhow::anyhow!("auth.api_keys.file: {e}"))?;
        let keys = Self(Arc::new(Shared {
            file: config.file.clone(),
            header,
            header_name: config.header.clone(),
            table: RwLock::new(table),
        }));
        tokio::spawn(watch(Arc::downgrade(&keys.0)));
        Ok(keys)
    }

    pub fn header(&self) -> &str {
        &self.0.header_name
    }

    /// The key's principal; `None` when the request has no key header.
    pub(super) fn authenticate(&self, headers: &HeaderMap) -> Result<Option<Principal>, Refusal> {
        let mut values = headers.get_all(&self.0.header).iter();
        let Some(value) = values.next() else {
            return Ok(None);
        };
        let invalid = |reason: &str| Refusal::Invalid {
            scheme: Scheme::ApiKey,
            reason: reason.into(),
        };
        if values.next().is_some() {
            return Err(invalid(&format!(
                "more than one `{}` header",
                self.0.header_name
            )));
        }
        let digest: [u8; 32] = Sha256::digest(value.as_bytes()).into();
        let table = self.0.table.read();
        let prefix: [u8; 16] = digest[..16].try_into().expect("32-byte digest");
        match table.keys.get(&prefix) {
            Some(e) if bool::from(e.digest.ct_eq(&digest)) => Ok(Some(Principal {
                scope: e.scope.clone(),
                scopes: Vec::new(),
                scheme: Scheme::ApiKey,
                expires_at: None,
            })),
            _ => Err(invalid("unknown API key")),
        }
    }
}

/// Re-reads the file when its modification time or length changes, until the keys are
/// dropped. A file that disappears or cannot be read revokes every key (fail closed).
async fn watch(keys: Weak<Shared>) {
    let mut tick = tokio::time::interval(RELOAD_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let Some(keys) = keys.upgrade() else { return };
        let stamp = stamp(&keys.file).ok();
        if stamp.is_some() && stamp == keys.table.read().stamp {
            continue;
        }
        match read(&keys.file) {
            Ok(table) => {
                tracing::info!(file = %keys.file.display(), keys = table.keys.len(), "API keys reloaded");
                *keys.table.write() = table;
            }
            Err(e) => {
                let mut table = keys.table.write();
                if table.stamp.is_some() || !table.keys.is_empty() {
                    tracing::error!(file = %keys.file.display(), error = %e, "API key file unreadable: every key refused until it is fixed");
                }
                *table = Table::default();
            }
        }
    }
}

fn stamp(file: &Path) -> std::io::Result<(SystemTime, u64)> {
    let meta = std::fs::metadata(file)?;
    Ok((meta.modified()?, meta.len()))
}

fn read(file: &Path) -> anyhow::Result<Table> {
    let stamp = stamp(file).map_err(|e| anyhow::anyhow!("cannot read {}: {e}", file.display()))?;
    let text = std::fs::read_to_string(file)
        .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", file.display()))?;
    let mut keys = HashMap::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        let entry =
            parse_line(line).map_err(|e| anyhow::anyhow!("{}:{}: {e}", file.display(), n + 1))?;
        let prefix: [u8; 16] = entry.digest[..16].try_into().expect("32-byte digest");
        keys.insert(prefix, entry);
    }
    Ok(Table {
        keys,
        stamp: Some(stamp),
    })
}

/// `<sha256 hex> <owner> [tenant]`.
fn parse_line(line: &str) -> Result<Entry, String> {
    let mut fields = line.split_whitespace();
    let (Some(hex_digest), Some(owner)) = (fields.next(), fields.next()) else {
        return Err("expected `<sha256 hex of the key> <owner> [tenant]`".into());
    };
    let tenant = fields.next().unwrap_or("");
    if fields.next().is_some() {
        return Err("more than three fields (`<sha256 hex> <owner> [tenant]`)".into());
    }
    let mut digest = [0u8; 32];
    hex::decode_to_slice(hex_digest, &mut digest).map_err(|_| {
        "the first field is not a SHA-256 digest in hex (64 characters)".to_string()
    })?;
    Ok(Entry {
        digest,
        scope: Scope {
            owner: format!("apikey:{owner}"),
            tenant: tenant.into(),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_parse_with_and_without_tenant() {
        let d = "a".repeat(64);
        let e = parse_line(&format!("{d} alice")).unwrap();
        assert_eq!(e.scope.owner, "apikey:alice");
        assert_eq!(e.scope.tenant, "");
        let e = parse_line(&format!("{d} bob acme")).unwrap();
        assert_eq!(e.scope.tenant, "acme");
        assert!(parse_line("abc alice").unwrap_err().contains("SHA-256"));
        assert!(parse_line(&d).is_err());
        assert!(parse_line(&format!("{d} a b c")).is_err());
    }
}

//! The keys that sign push-notification JWTs, and the JWKS that publishes them.
//!
//! [`SigningKeys`] holds the current private key (ES256 or RS256) and the public keys of
//! earlier keys that are still published. Two ways in:
//!
//! - configuration: [`SigningKeys::from_pem_file`] with a PKCS#8 private key PEM (EC P-256
//!   → ES256, RSA ≥ 2048 bits → RS256; PKCS#1 `RSA PRIVATE KEY` is accepted too). Its
//!   `kid` is the RFC 7638 SHA-256 JWK thumbprint unless configured. Keys used before can be
//!   kept published with [`SigningKeys::with_previous_key_pem`] (private or public PEM).
//! - [`SigningKeys::load_or_generate`]: on first start generates an ES256 key and writes it
//!   to `DIR/push-signing-key.pem` (mode 0600, directory 0700); later starts reuse it.
//!   Several processes starting at once agree on one key (the file is created atomically,
//!   the loser reads the winner's key).
//!
//! Rotation: [`SigningKeys::rotate`] makes a new ES256 key current and keeps publishing the
//! old public key until `now + token lifetime + ROTATION_GRACE` (the grace covers the
//! verifiers' clock-skew leeway), after which [`SigningKeys::jwks`] leaves it out. With a
//! key directory, rotation is persisted: the new key replaces the key file and the retiring
//! public keys go to `DIR/push-signing-keys-retired.json`, so a restart keeps publishing
//! them. With configured PEM files, rotation is the operator's: configure the new file as
//! current and the old one as previous (a `rotate` call then only lasts until restart).
//!
//! `SigningKeys` is shared (`Arc<SigningKeys>`) by the signer and the JWKS endpoint; it
//! locks internally.
//!
//! One key ([`SigningKey`]: PEM parsing, generation, its JWK and signer) lives in
//! `signing_key`, the atomic writes of the key directory's files in `files`; this module
//! holds the set of published keys and its rotation.

mod files;
mod signing_key;
#[cfg(test)]
mod tests;

use std::fs;
use std::io;
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use jsonwebtoken::Algorithm;
use parking_lot::RwLock;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use files::{create_exclusive, replace_file};
pub use signing_key::SigningKey;
use signing_key::{generate_pem, public_jwk_from_pem};

/// Lifetime of a notification JWT unless configured.
pub const DEFAULT_TOKEN_LIFETIME: Duration = Duration::from_secs(5 * 60);

/// Extra time a rotated-out key stays published after its last token's expiry.
pub const ROTATION_GRACE: Duration = Duration::from_secs(60);

/// The private key file inside a key directory.
pub const KEY_FILE: &str = "push-signing-key.pem";

/// The retiring public keys inside a key directory.
pub const RETIRED_FILE: &str = "push-signing-keys-retired.json";

/// A JWS algorithm a signing key uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum SigningAlgorithm {
    ES256,
    RS256,
}

impl SigningAlgorithm {
    /// The `alg` value.
    pub fn as_str(self) -> &'static str {
        match self {
            SigningAlgorithm::ES256 => "ES256",
            SigningAlgorithm::RS256 => "RS256",
        }
    }

    /// The jsonwebtoken algorithm.
    pub fn jwt(self) -> Algorithm {
        match self {
            SigningAlgorithm::ES256 => Algorithm::ES256,
            SigningAlgorithm::RS256 => Algorithm::RS256,
        }
    }
}

/// Why a key could not be loaded, generated or stored.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("{0}")]
    Invalid(String),
    #[error("key generation failed")]
    Generate,
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> KeyError + '_ {
    move |source| KeyError::Io {
        path: path.to_owned(),
        source,
    }
}

/// A public key still published, until `retire_after` (`None`: as long as configured).
#[derive(Debug, Clone, Serialize, Deserialize)]
struct PublishedKey {
    jwk: Value,
    retire_after: Option<DateTime<Utc>>,
}

impl PublishedKey {
    fn kid(&self) -> Option<&str> {
        self.jwk.get("kid").and_then(Value::as_str)
    }

    fn live(&self, now: DateTime<Utc>) -> bool {
        self.retire_after.is_none_or(|t| now < t)
    }
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct RetiredFile {
    keys: Vec<PublishedKey>,
}

struct State {
    current: Arc<SigningKey>,
    previous: Vec<PublishedKey>,
}

/// The current signing key and the earlier public keys still published.
pub struct SigningKeys {
    state: RwLock<State>,
    token_lifetime: Duration,
    dir: Option<PathBuf>,
}

impl std::fmt::Debug for SigningKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = self.state.read();
        f.debug_struct("SigningKeys")
            .field("current", &state.current)
            .field("previous", &state.previous.len())
            .field("token_lifetime", &self.token_lifetime)
            .field("dir", &self.dir)
            .finish()
    }
}

impl SigningKeys {
    /// Keys with `current` and nothing else published; in memory only.
    pub fn new(current: SigningKey) -> Self {
        SigningKeys {
            state: RwLock::new(State {
                current: Arc::new(current),
                previous: Vec::new(),
            }),
            token_lifetime: DEFAULT_TOKEN_LIFETIME,
            dir: None,
        }
    }

    /// The current key from a configured private key PEM file, `kid` as configured or the
    /// RFC 7638 thumbprint.
    pub fn from_pem_file(path: &Path, kid: Option<&str>) -> Result<Self, KeyError> {
        let pem = fs::read(path).map_err(io_err(path))?;
        let key = SigningKey::from_pem(&pem, kid).map_err(|e| match e {
            KeyError::Invalid(msg) => KeyError::Invalid(format!("{}: {msg}", path.display())),
            other => other,
        })?;
        Ok(SigningKeys::new(key))
    }

    /// Keeps publishing an earlier key (a private or public key PEM) until `retire_after`,
    /// or as long as it is configured when `None`.
    pub fn with_previous_key_pem(
        self,
        pem: &[u8],
        kid: Option<&str>,
        retire_after: Option<DateTime<Utc>>,
    ) -> Result<Self, KeyError> {
        let (_, jwk) = public_jwk_from_pem(pem, kid)?;
        self.state
            .write()
            .previous
            .push(PublishedKey { jwk, retire_after });
        Ok(self)
    }

    /// Sets the notification token lifetime (default [`DEFAULT_TOKEN_LIFETIME`]).
    pub fn with_token_lifetime(mut self, lifetime: Duration) -> Self {
        self.token_lifetime = lifetime;
        self
    }

    /// Loads the key persisted in `dir`, or generates an ES256 key and persists it there
    /// (file mode 0600, directory created with mode 0700). Retired public keys persisted by
    /// an earlier [`rotate`](Self::rotate) that have not passed their retire time are
    /// published again.
    pub fn load_or_generate(dir: &Path) -> Result<Self, KeyError> {
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(io_err(dir))?;
        let path = dir.join(KEY_FILE);
        let pem = match fs::read(&path) {
            Ok(pem) => {
                warn_if_readable_by_others(&path);
                pem
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                let pem = generate_pem(SigningAlgorithm::ES256)?;
                match create_exclusive(&path, pem.as_bytes()) {
                    Ok(()) => {
                        tracing::info!(path = %path.display(), "generated a push signing key");
                        pem.into_bytes()
                    }
                    // Another process created it first: use that one.
                    Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                        fs::read(&path).map_err(io_err(&path))?
                    }
                    Err(e) => return Err(io_err(&path)(e)),
                }
            }
            Err(e) => return Err(io_err(&path)(e)),
        };
        let key = SigningKey::from_pem(&pem, None).map_err(|e| match e {
            KeyError::Invalid(msg) => KeyError::Invalid(format!("{}: {msg}", path.display())),
            other => other,
        })?;
        let now = Utc::now();
        let previous = read_retired(dir)?
            .keys
            .into_iter()
            .filter(|k| k.live(now) && k.kid() != Some(key.kid()))
            .collect();
        Ok(SigningKeys {
            state: RwLock::new(State {
                current: Arc::new(key),
                previous,
            }),
            token_lifetime: DEFAULT_TOKEN_LIFETIME,
            dir: Some(dir.to_owned()),
        })
    }

    /// How long a notification token is valid.
    pub fn token_lifetime(&self) -> Duration {
        self.token_lifetime
    }

    /// The key that signs now.
    pub fn current(&self) -> Arc<SigningKey> {
        self.state.read().current.clone()
    }

    /// Makes a new ES256 key current; the old public key stays published until
    /// `now + token lifetime + ROTATION_GRACE`. Persisted when the keys live in a
    /// directory. Returns the new kid.
    pub fn rotate(&self, now: DateTime<Utc>) -> Result<String, KeyError> {
        let pem = generate_pem(SigningAlgorithm::ES256)?;
        let key = SigningKey::from_pem(pem.as_bytes(), None)?;
        let retire_after = now
            + chrono::Duration::from_std(self.token_lifetime + ROTATION_GRACE)
                .unwrap_or(chrono::Duration::MAX);
        let mut state = self.state.write();
        let mut previous: Vec<PublishedKey> = state
            .previous
            .iter()
            .filter(|k| k.live(now))
            .cloned()
            .collect();
        previous.push(PublishedKey {
            jwk: state.current.public_jwk().clone(),
            retire_after: Some(retire_after),
        });
        if let Some(dir) = &self.dir {
            // Retired keys first: a crash in between leaves the old key current and also
            // listed as retired, which is harmless.
            let retired = RetiredFile {
                keys: previous
                    .iter()
                    .filter(|k| k.retire_after.is_some())
                    .cloned()
                    .collect(),
            };
            let json = serde_json::to_vec_pretty(&retired)
                .map_err(|e| KeyError::Invalid(format!("cannot serialize retired keys: {e}")))?;
            replace_file(&dir.join(RETIRED_FILE), &json, 0o644)?;
            replace_file(&dir.join(KEY_FILE), pem.as_bytes(), 0o600)?;
        }
        let kid = key.kid().to_owned();
        state.current = Arc::new(key);
        state.previous = previous;
        Ok(kid)
    }

    /// Forgets published keys whose retire time has passed.
    pub fn prune(&self, now: DateTime<Utc>) {
        self.state.write().previous.retain(|k| k.live(now));
    }

    /// The JWKS document: `{"keys": [current, earlier keys not yet retired]}`.
    pub fn jwks(&self, now: DateTime<Utc>) -> Value {
        let state = self.state.read();
        let mut keys = vec![state.current.public_jwk().clone()];
        let mut kids = vec![state.current.kid().to_owned()];
        for key in state.previous.iter().filter(|k| k.live(now)) {
            let kid = key.kid().unwrap_or_default().to_owned();
            if !kids.contains(&kid) {
                keys.push(key.jwk.clone());
                kids.push(kid);
            }
        }
        json!({ "keys": keys })
    }
}

fn read_retired(dir: &Path) -> Result<RetiredFile, KeyError> {
    let path = dir.join(RETIRED_FILE);
    match fs::read(&path) {
        Ok(bytes) => serde_json::from_slice(&bytes)
            .map_err(|e| KeyError::Invalid(format!("{}: {e}", path.display()))),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(RetiredFile::default()),
        Err(e) => Err(io_err(&path)(e)),
    }
}

fn warn_if_readable_by_others(path: &Path) {
    if let Ok(meta) = fs::metadata(path)
        && meta.permissions().mode() & 0o077 != 0
    {
        tracing::warn!(
            path = %path.display(),
            mode = format!("{:o}", meta.permissions().mode() & 0o777),
            "the push signing key is readable by other users; chmod 600 it"
        );
    }
}

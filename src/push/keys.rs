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

use std::fs;
use std::io::{self, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use chrono::{DateTime, Utc};
use jsonwebtoken::jwk::{Jwk, PublicKeyUse, ThumbprintHash};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey};
use parking_lot::RwLock;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

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

/// A private signing key with its `kid`, algorithm and public JWK.
pub struct SigningKey {
    kid: String,
    algorithm: SigningAlgorithm,
    pair: KeyPair,
    jwk: Value,
}

/// The private key, parsed and checked once. `jsonwebtoken::encode` parses and checks the
/// key anew for every token, which was a quarter of a push delivery's CPU with ES256.
enum KeyPair {
    Ec(aws_lc_rs::signature::EcdsaKeyPair),
    Rsa(aws_lc_rs::signature::RsaKeyPair),
}

impl KeyPair {
    /// `der` as jsonwebtoken's `EncodingKey` holds it (PKCS#8 for EC, PKCS#1 or PKCS#8 for
    /// RSA), parsed as its aws-lc-rs signers do.
    fn new(algorithm: SigningAlgorithm, der: &[u8]) -> Result<Self, String> {
        use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, RsaKeyPair};
        match algorithm {
            SigningAlgorithm::ES256 => {
                EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, der)
                    .map(KeyPair::Ec)
                    .map_err(|e| e.to_string())
            }
            SigningAlgorithm::RS256 => RsaKeyPair::from_der(der)
                .map(KeyPair::Rsa)
                .map_err(|e| e.to_string()),
        }
    }

    /// The JWS signature of `message` (ES256: fixed-size r||s; RS256: PKCS#1 v1.5 SHA-256).
    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, aws_lc_rs::error::Unspecified> {
        let rng = aws_lc_rs::rand::SystemRandom::new();
        match self {
            KeyPair::Ec(pair) => Ok(pair.sign(&rng, message)?.as_ref().to_vec()),
            KeyPair::Rsa(pair) => {
                let mut signature = vec![0; pair.public_modulus_len()];
                pair.sign(
                    &aws_lc_rs::signature::RSA_PKCS1_SHA256,
                    &rng,
                    message,
                    &mut signature,
                )?;
                Ok(signature)
            }
        }
    }
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("kid", &self.kid)
            .field("algorithm", &self.algorithm)
            .finish_non_exhaustive()
    }
}

impl SigningKey {
    /// Loads a private key PEM (PKCS#8 EC P-256 or RSA, or PKCS#1 RSA). Without `kid`,
    /// the kid is the key's RFC 7638 SHA-256 thumbprint (base64url).
    pub fn from_pem(pem: &[u8], kid: Option<&str>) -> Result<Self, KeyError> {
        let text = String::from_utf8_lossy(pem);
        if text.contains("-----BEGIN EC PRIVATE KEY-----") {
            return Err(KeyError::Invalid(
                "EC key is in SEC1 form (BEGIN EC PRIVATE KEY); convert it to PKCS#8 with \
                 `openssl pkcs8 -topk8 -nocrypt -in KEY -out KEY.pk8.pem`"
                    .into(),
            ));
        }
        if text.contains("-----BEGIN ENCRYPTED PRIVATE KEY-----") {
            return Err(KeyError::Invalid(
                "encrypted private keys are not supported; store it unencrypted with mode 0600"
                    .into(),
            ));
        }
        if !text.contains("PRIVATE KEY-----") {
            return Err(KeyError::Invalid(
                "not a private key PEM (expected BEGIN PRIVATE KEY or BEGIN RSA PRIVATE KEY)"
                    .into(),
            ));
        }
        let (encoding, algorithm) = if let Ok(key) = EncodingKey::from_ec_pem(pem) {
            (key, SigningAlgorithm::ES256)
        } else if let Ok(key) = EncodingKey::from_rsa_pem(pem) {
            (key, SigningAlgorithm::RS256)
        } else {
            return Err(KeyError::Invalid(
                "unsupported private key: expected an EC P-256 (ES256) or RSA (RS256) key".into(),
            ));
        };
        let jwk = Jwk::from_encoding_key(&encoding, algorithm.jwt()).map_err(|e| {
            let need = match algorithm {
                SigningAlgorithm::ES256 => "EC keys must be on P-256",
                SigningAlgorithm::RS256 => "RSA keys need at least 2048 bits",
            };
            KeyError::Invalid(format!(
                "unsupported {} key ({need}): {e}",
                algorithm.as_str()
            ))
        })?;
        // Catch what only shows when signing (an RSA key under 2048 bits, say) now.
        let cannot_sign = |e: String| {
            KeyError::Invalid(format!(
                "the {} key cannot sign (RSA keys need at least 2048 bits): {e}",
                algorithm.as_str()
            ))
        };
        let pair = KeyPair::new(algorithm, encoding.as_bytes()).map_err(cannot_sign)?;
        pair.sign(b"probe")
            .map_err(|e| cannot_sign(e.to_string()))?;
        let (kid, jwk) = finish_jwk(jwk, kid)?;
        Ok(SigningKey {
            kid,
            algorithm,
            pair,
            jwk,
        })
    }

    /// Generates a new key (ES256: P-256; RS256: 2048 bits).
    pub fn generate(algorithm: SigningAlgorithm) -> Result<Self, KeyError> {
        SigningKey::from_pem(generate_pem(algorithm)?.as_bytes(), None)
    }

    pub fn kid(&self) -> &str {
        &self.kid
    }

    pub fn algorithm(&self) -> SigningAlgorithm {
        self.algorithm
    }

    /// The public JWK: `kty`, `crv`/`x`/`y` or `n`/`e`, `kid`, `alg`, `use: "sig"`.
    pub fn public_jwk(&self) -> &Value {
        &self.jwk
    }

    /// The JWS signature of `message` with this key.
    pub(crate) fn sign(&self, message: &[u8]) -> Result<Vec<u8>, aws_lc_rs::error::Unspecified> {
        self.pair.sign(message)
    }
}

/// Sets `kid` (given, or the thumbprint) and `use` on a public JWK and serializes it.
fn finish_jwk(mut jwk: Jwk, kid: Option<&str>) -> Result<(String, Value), KeyError> {
    let kid = match kid {
        Some(kid) if !kid.is_empty() => kid.to_owned(),
        _ => jwk
            .thumbprint(ThumbprintHash::SHA256)
            .map_err(|e| KeyError::Invalid(format!("cannot compute the key thumbprint: {e}")))?,
    };
    jwk.common.key_id = Some(kid.clone());
    jwk.common.public_key_use = Some(PublicKeyUse::Signature);
    let value = serde_json::to_value(&jwk)
        .map_err(|e| KeyError::Invalid(format!("cannot serialize the JWK: {e}")))?;
    Ok((kid, value))
}

/// The public JWK of a private or public key PEM (for keys kept published after rotation).
fn public_jwk_from_pem(pem: &[u8], kid: Option<&str>) -> Result<(String, Value), KeyError> {
    let text = String::from_utf8_lossy(pem);
    if text.contains("PRIVATE KEY-----") {
        let key = SigningKey::from_pem(pem, kid)?;
        return Ok((key.kid, key.jwk));
    }
    let jwk = if let Ok(key) = DecodingKey::from_ec_pem(pem) {
        Jwk::from_decoding_key(&key, Some(Algorithm::ES256))
    } else if let Ok(key) = DecodingKey::from_rsa_pem(pem) {
        Jwk::from_decoding_key(&key, Some(Algorithm::RS256))
    } else {
        return Err(KeyError::Invalid(
            "unsupported public key PEM: expected EC P-256 or RSA".into(),
        ));
    }
    .map_err(|e| KeyError::Invalid(format!("unsupported public key: {e}")))?;
    finish_jwk(jwk, kid)
}

fn generate_pem(algorithm: SigningAlgorithm) -> Result<String, KeyError> {
    use aws_lc_rs::encoding::AsDer;
    let der: Vec<u8> = match algorithm {
        SigningAlgorithm::ES256 => {
            let rng = aws_lc_rs::rand::SystemRandom::new();
            aws_lc_rs::signature::EcdsaKeyPair::generate_pkcs8(
                &aws_lc_rs::signature::ECDSA_P256_SHA256_FIXED_SIGNING,
                &rng,
            )
            .map_err(|_| KeyError::Generate)?
            .as_ref()
            .to_vec()
        }
        SigningAlgorithm::RS256 => {
            let pair = aws_lc_rs::rsa::KeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048)
                .map_err(|_| KeyError::Generate)?;
            let der: aws_lc_rs::encoding::Pkcs8V1Der<'static> =
                pair.as_der().map_err(|_| KeyError::Generate)?;
            der.as_ref().to_vec()
        }
    };
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let mut pem = String::from("-----BEGIN PRIVATE KEY-----\n");
    for line in b64.as_bytes().chunks(64) {
        pem.push_str(std::str::from_utf8(line).expect("base64 is ASCII"));
        pem.push('\n');
    }
    pem.push_str("-----END PRIVATE KEY-----\n");
    Ok(pem)
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
            jwk: state.current.jwk.clone(),
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
        let kid = key.kid.clone();
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
        let mut keys = vec![state.current.jwk.clone()];
        let mut kids = vec![state.current.kid.clone()];
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

/// A temporary file next to `path`, written and synced, with `mode`.
fn write_temp(path: &Path, contents: &[u8], mode: u32) -> Result<PathBuf, KeyError> {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("key");
    let tmp = path.with_file_name(format!(".{name}.{}.tmp", uuid::Uuid::new_v4().simple()));
    let mut file = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(&tmp)
        .map_err(io_err(&tmp))?;
    let written = file.write_all(contents).and_then(|()| file.sync_all());
    if let Err(e) = written {
        let _ = fs::remove_file(&tmp);
        return Err(io_err(&tmp)(e));
    }
    Ok(tmp)
}

/// Creates `path` with `contents` (mode 0600) atomically; `AlreadyExists` if it exists.
fn create_exclusive(path: &Path, contents: &[u8]) -> io::Result<()> {
    let tmp = write_temp(path, contents, 0o600).map_err(|e| match e {
        KeyError::Io { source, .. } => source,
        other => io::Error::other(other.to_string()),
    })?;
    let linked = fs::hard_link(&tmp, path);
    let _ = fs::remove_file(&tmp);
    linked?;
    sync_dir(path);
    Ok(())
}

/// Replaces `path` with `contents` atomically (write a temporary file, rename).
fn replace_file(path: &Path, contents: &[u8], mode: u32) -> Result<(), KeyError> {
    let tmp = write_temp(path, contents, mode)?;
    if let Err(e) = fs::rename(&tmp, path) {
        let _ = fs::remove_file(&tmp);
        return Err(io_err(path)(e));
    }
    sync_dir(path);
    Ok(())
}

fn sync_dir(path: &Path) {
    if let Some(dir) = path.parent()
        && let Ok(d) = fs::File::open(dir)
    {
        let _ = d.sync_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000 + secs, 0).unwrap()
    }

    fn kids(jwks: &Value) -> Vec<String> {
        jwks["keys"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k["kid"].as_str().unwrap().to_owned())
            .collect()
    }

    #[test]
    fn es256_jwk_shape_and_thumbprint_kid() {
        let key = SigningKey::generate(SigningAlgorithm::ES256).unwrap();
        let jwk = key.public_jwk();
        assert_eq!(jwk["kty"], "EC");
        assert_eq!(jwk["crv"], "P-256");
        assert_eq!(jwk["alg"], "ES256");
        assert_eq!(jwk["use"], "sig");
        assert_eq!(jwk["kid"], key.kid());
        assert!(jwk.get("d").is_none(), "no private part");
        // RFC 7638: SHA-256 of the required members in lexicographic order, base64url.
        let canonical = format!(
            r#"{{"crv":"P-256","kty":"EC","x":"{}","y":"{}"}}"#,
            jwk["x"].as_str().unwrap(),
            jwk["y"].as_str().unwrap()
        );
        use sha2::Digest;
        let expected = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(sha2::Sha256::digest(canonical.as_bytes()));
        assert_eq!(key.kid(), expected);
    }

    #[test]
    fn rs256_jwk_shape() {
        let key = SigningKey::generate(SigningAlgorithm::RS256).unwrap();
        let jwk = key.public_jwk();
        assert_eq!(jwk["kty"], "RSA");
        assert_eq!(jwk["alg"], "RS256");
        assert_eq!(jwk["e"], "AQAB");
        assert!(jwk["n"].as_str().unwrap().len() > 300);
        assert_eq!(key.algorithm(), SigningAlgorithm::RS256);
    }

    /// A throwaway 1024-bit RSA key (`openssl genpkey -algorithm RSA -pkeyopt
    /// rsa_keygen_bits:1024`): too short to sign with.
    const RSA_1024: &str = "\
-----BEGIN PRIVATE KEY-----\n\
MIICdwIBADANBgkqhkiG9w0BAQEFAASCAmEwggJdAgEAAoGBAOi6h1A9a7sQ4m8J\n\
byd43wunWg7OU9veToU/HZFq8zZDFdAu/L6eOIOZFd36liE27aaYi/l1k3xBEhvb\n\
BE5yQrCGZqDD0BhvfkZ1RpQ50W8Ln2OKob1s9gCMLEe5+7GwZkmsYh6naJ3A3gk8\n\
R2HJKJD9+MHn9zMWjWvJuSWXppyPAgMBAAECgYB/8yU3sT0McMD86QPqgKKoJo71\n\
uuwR4ovq6ANakqE6gPF6LosYRaauezixfPaTNj68K/ww3zqBwsiw9d3NPzZ4CDgv\n\
AmuYPM6ZMoyOrRxZ/e/NzIE8hvo6ktGTRo0TvDKy56Mwj5qi6qr32A5Pe/H11ywT\n\
JJeOSAGiBSbSLfi1uQJBAPuZQqAAB3Cke1sT8da/3VdQ30pe01n66jvqS7gUhM7T\n\
soK8da8+P0NiV7Iz0ojc2zJVNMLws0zu9093BFDZeeMCQQDszMMebhOmYWuo8FfY\n\
AJ2sl5YTQ+UFXo9sxN81woaWOmqyfuagw/1TxUTpND0bx6/KciJGENSqu/KXvPHN\n\
b0JlAkAUwfVEPBxhB8EBp6iZPiUl0g9KFH69er0eilsK6e53HfIpZSEUfz868P8p\n\
PatODWKsSWlb9/3jCAgxbzFU9kxfAkEA1RUomxBYlEZj14B2u4NKXw2E2U8mHd/K\n\
VgkOBlVGQJbOflJc+9uA8Mm5ydPdDUtyL0zm9H+erwgzM0GtoLv2VQJBAKjyFVEO\n\
Qxf0RXbZaDpY2KZGS7howLj9FKLlRGVKzps4G4UUytZHXhipA1FQ7+QS7aeazr8H\n\
nye8NQh1ZvLqMgc=\n\
-----END PRIVATE KEY-----\n";

    #[test]
    fn short_rsa_keys_are_refused_at_load() {
        let e = SigningKey::from_pem(RSA_1024.as_bytes(), None).unwrap_err();
        assert!(e.to_string().contains("at least 2048 bits"), "{e}");
    }

    #[test]
    fn pem_file_with_and_without_kid() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k.pem");
        fs::write(&path, generate_pem(SigningAlgorithm::ES256).unwrap()).unwrap();
        let derived = SigningKeys::from_pem_file(&path, None).unwrap();
        let named = SigningKeys::from_pem_file(&path, Some("key-2026")).unwrap();
        assert_eq!(named.current().kid(), "key-2026");
        assert_eq!(derived.current().kid().len(), 43);

        fs::write(
            &path,
            "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n",
        )
        .unwrap();
        let err = SigningKeys::from_pem_file(&path, None).unwrap_err();
        assert!(err.to_string().contains("not a private key"), "{err}");
        let err = SigningKey::from_pem(b"-----BEGIN EC PRIVATE KEY-----\n", None).unwrap_err();
        assert!(err.to_string().contains("PKCS#8"), "{err}");
    }

    #[test]
    fn persisted_key_is_reused_with_0600() {
        let dir = tempfile::tempdir().unwrap();
        let keydir = dir.path().join("keys");
        let first = SigningKeys::load_or_generate(&keydir).unwrap();
        let mode = fs::metadata(keydir.join(KEY_FILE))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        let dir_mode = fs::metadata(&keydir).unwrap().permissions().mode();
        assert_eq!(dir_mode & 0o777, 0o700);
        let second = SigningKeys::load_or_generate(&keydir).unwrap();
        assert_eq!(first.current().kid(), second.current().kid());
        assert_eq!(second.current().algorithm(), SigningAlgorithm::ES256);
        // No stray temporary files.
        let names: Vec<_> = fs::read_dir(&keydir)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from(KEY_FILE)]);
    }

    #[test]
    fn rotation_keeps_old_key_until_retire_time() {
        let keys = SigningKeys::new(SigningKey::generate(SigningAlgorithm::ES256).unwrap());
        let old = keys.current().kid().to_owned();
        let new = keys.rotate(at(0)).unwrap();
        assert_ne!(old, new);
        assert_eq!(keys.current().kid(), new);
        let retire = (DEFAULT_TOKEN_LIFETIME + ROTATION_GRACE).as_secs() as i64;
        assert_eq!(kids(&keys.jwks(at(0))), vec![new.clone(), old.clone()]);
        assert_eq!(kids(&keys.jwks(at(retire - 1))), vec![new.clone(), old]);
        assert_eq!(kids(&keys.jwks(at(retire))), vec![new.clone()]);
        keys.prune(at(retire));
        assert_eq!(kids(&keys.jwks(at(0))), vec![new]);
    }

    #[test]
    fn rotation_is_persisted() {
        let dir = tempfile::tempdir().unwrap();
        let keys = SigningKeys::load_or_generate(dir.path()).unwrap();
        let old = keys.current().kid().to_owned();
        let now = Utc::now();
        let new = keys.rotate(now).unwrap();
        let reloaded = SigningKeys::load_or_generate(dir.path()).unwrap();
        assert_eq!(reloaded.current().kid(), new);
        assert_eq!(kids(&reloaded.jwks(now)), vec![new.clone(), old]);
        let later = now + chrono::Duration::hours(1);
        assert_eq!(kids(&reloaded.jwks(later)), vec![new]);
        let mode = fs::metadata(dir.path().join(KEY_FILE))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    #[test]
    fn configured_previous_key_stays_published() {
        let current = SigningKey::generate(SigningAlgorithm::ES256).unwrap();
        let old_pem = generate_pem(SigningAlgorithm::RS256).unwrap();
        let keys = SigningKeys::new(current)
            .with_previous_key_pem(old_pem.as_bytes(), Some("old"), None)
            .unwrap()
            .with_previous_key_pem(old_pem.as_bytes(), Some("older"), Some(at(10)))
            .unwrap();
        let jwks = keys.jwks(at(0));
        assert_eq!(jwks["keys"].as_array().unwrap().len(), 3);
        assert_eq!(jwks["keys"][1]["kid"], "old");
        assert_eq!(jwks["keys"][1]["kty"], "RSA");
        assert!(jwks["keys"][1].get("d").is_none());
        assert_eq!(keys.jwks(at(10))["keys"].as_array().unwrap().len(), 2);
    }
}

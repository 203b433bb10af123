//! Unit tests of the signing keys: JWK shapes, PEM loading, persistence and rotation.

use std::fs;
use std::os::unix::fs::PermissionsExt;

use base64::Engine as _;
use chrono::{DateTime, Utc};
use serde_json::Value;

use super::signing_key::generate_pem;
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

//! Retry safety: the `Idempotency-Key` a client sends with a request (IETF httpapi draft
//! "The Idempotency-Key HTTP Header Field"), and the fingerprint that tells a retry of a
//! request from another request under the same key. Transport-neutral: the JSON-RPC
//! endpoint reads the HTTP header, REST will read the same header and gRPC the
//! `idempotency-key` metadata, and all of them parse it here.

use std::fmt::Write as _;

use sha2::{Digest, Sha256};

use super::A2aError;

/// The header's name, as clients write it.
pub const HEADER: &str = "Idempotency-Key";

/// Longest key accepted: keys are stored, and a UUID (what clients send) is 36 bytes.
pub const MAX_LEN: usize = 255;

/// A valid idempotency key.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    /// Reads a header value: a token (`8e03978e-...`), or a quoted string as the draft
    /// writes it (`"8e03978e-..."`, a structured-field string). Anything else, empty
    /// included, is -32602 naming the header.
    pub fn parse(raw: &[u8]) -> Result<Self, A2aError> {
        let bad = |why: &str| {
            A2aError::InvalidParams(format!(
                "the {HEADER} header {why}; send a token or a quoted string such as \"{}\"",
                "8e03978e-40d5-43e8-bc93-6894a57f9324"
            ))
        };
        let raw = raw.trim_ascii();
        let key = match raw {
            [] => return Err(bad("is empty")),
            [b'"', inner @ .., b'"'] => {
                unquote(inner).ok_or_else(|| bad("is not a valid quoted string"))?
            }
            _ if raw.iter().all(|&b| is_tchar(b)) => {
                String::from_utf8(raw.to_vec()).expect("tchars are ASCII")
            }
            _ => return Err(bad("is not a token")),
        };
        if key.is_empty() {
            return Err(bad("is empty"));
        }
        if key.len() > MAX_LEN {
            return Err(bad(&format!("is longer than {MAX_LEN} bytes")));
        }
        Ok(Self(key))
    }

    /// The key of a request from its header (or metadata) values: none without one, an
    /// error for an invalid one or for more than one.
    pub fn from_values<'a>(
        mut values: impl Iterator<Item = &'a [u8]>,
    ) -> Result<Option<Self>, A2aError> {
        let Some(first) = values.next() else {
            return Ok(None);
        };
        if values.next().is_some() {
            return Err(A2aError::InvalidParams(format!(
                "the {HEADER} header is given more than once; send one key per request"
            )));
        }
        Self::parse(first).map(Some)
    }

    /// A fresh random key (clients send one per send).
    pub fn random() -> Self {
        Self(uuid::Uuid::new_v4().to_string())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for IdempotencyKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// The characters of an HTTP token (RFC 9110), and `:` and `/` as a structured-field
/// token allows them.
fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~:/".contains(&b)
}

/// The text of a structured-field string without its quotes: printable ASCII, with `\"`
/// and `\\` the only escapes.
fn unquote(inner: &[u8]) -> Option<String> {
    let mut out = String::with_capacity(inner.len());
    let mut bytes = inner.iter();
    while let Some(&b) = bytes.next() {
        match b {
            b'\\' => match bytes.next() {
                Some(&e @ (b'"' | b'\\')) => out.push(e as char),
                _ => return None,
            },
            b'"' => return None,
            0x20..=0x7e => out.push(b as char),
            _ => return None,
        }
    }
    Some(out)
}

/// A key with the fingerprint of the request it came with: the same key with another
/// fingerprint is another request, which is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Idempotency {
    pub key: IdempotencyKey,
    /// SHA-256 (hex) of the method and the canonical JSON of the params.
    pub fingerprint: String,
}

impl Idempotency {
    /// The request `method` with `params` (raw JSON, as received) under `key`. The params
    /// are canonicalized (object members sorted, no insignificant whitespace), so a retry
    /// that serializes them differently is still the same request; the JSON-RPC `id` is
    /// not part of it.
    pub fn new(key: IdempotencyKey, method: &str, params: Option<&str>) -> Self {
        let mut text = Vec::with_capacity(params.map_or(0, str::len) + method.len() + 1);
        text.extend_from_slice(method.as_bytes());
        text.push(0);
        match params.map(serde_json::from_str::<serde_json::Value>) {
            Some(Ok(v)) => canonical(&v, &mut text),
            // Unparseable params fail decoding before anything is deduplicated; the text
            // keeps the fingerprint defined.
            Some(Err(_)) => text.extend_from_slice(params.unwrap_or_default().as_bytes()),
            None => text.extend_from_slice(b"null"),
        }
        let mut fingerprint = String::with_capacity(64);
        for b in Sha256::digest(&text) {
            let _ = write!(fingerprint, "{b:02x}");
        }
        Self { key, fingerprint }
    }

    /// The error for a key reused with a different request (HTTP 422 on REST).
    pub fn mismatch(&self) -> A2aError {
        A2aError::IdempotencyKeyReused(format!(
            "{HEADER} `{}` was already used for a different request; send a new key for a new request",
            self.key
        ))
    }
}

/// Writes `v` as canonical JSON to `out`: members sorted by key, whatever order the
/// client (or serde_json's map type) keeps them in, and no whitespace.
fn canonical(v: &serde_json::Value, out: &mut Vec<u8>) {
    use serde_json::Value;
    match v {
        Value::Object(m) => {
            let mut members: Vec<_> = m.iter().collect();
            members.sort_unstable_by(|a, b| a.0.cmp(b.0));
            out.push(b'{');
            for (i, (k, v)) in members.into_iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                serde_json::to_writer(&mut *out, k).expect("strings serialize");
                out.push(b':');
                canonical(v, out);
            }
            out.push(b'}');
        }
        Value::Array(a) => {
            out.push(b'[');
            for (i, v) in a.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                canonical(v, out);
            }
            out.push(b']');
        }
        scalar => serde_json::to_writer(&mut *out, scalar).expect("scalars serialize"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_and_quoted_strings_are_keys() {
        for (raw, key) in [
            (
                "8e03978e-40d5-43e8-bc93-6894a57f9324",
                "8e03978e-40d5-43e8-bc93-6894a57f9324",
            ),
            ("\"8e03978e-40d5\"", "8e03978e-40d5"),
            ("  abc  ", "abc"),
            (r#""a \"b\" c""#, r#"a "b" c"#),
            ("a:b/c", "a:b/c"),
        ] {
            assert_eq!(
                IdempotencyKey::parse(raw.as_bytes()).unwrap().as_str(),
                key,
                "{raw}"
            );
        }
    }

    #[test]
    fn empty_and_malformed_values_name_the_header() {
        let long = "k".repeat(MAX_LEN + 1);
        for raw in [
            "",
            "  ",
            "\"\"",
            "a b",
            "\"open",
            "\"a\\nb\"",
            "é",
            "a,b",
            long.as_str(),
        ] {
            let e = IdempotencyKey::parse(raw.as_bytes()).unwrap_err();
            assert_eq!(e.code(), -32602, "{raw}");
            assert!(e.to_string().contains(HEADER), "{raw}: {e}");
        }
    }

    #[test]
    fn the_fingerprint_is_sha256_of_the_method_a_nul_and_the_canonical_params() {
        // Pinned: stored keys must still match after an upgrade.
        let key = IdempotencyKey::parse(b"k").unwrap();
        let f = Idempotency::new(
            key,
            "SendMessage",
            Some(r#"{ "b": [true, null, "x"], "a": 1 }"#),
        );
        assert_eq!(
            f.fingerprint,
            "8a9c4560efb38ff874558a2779e971445049a738c50c63ecdfc29d9205ac6ee3"
        );
    }

    #[test]
    fn a_request_has_at_most_one_key() {
        assert_eq!(
            IdempotencyKey::from_values(std::iter::empty()).unwrap(),
            None
        );
        let one = IdempotencyKey::from_values([&b"k"[..]].into_iter()).unwrap();
        assert_eq!(one.unwrap().as_str(), "k");
        let two = IdempotencyKey::from_values([&b"k"[..], &b"k"[..]].into_iter());
        assert!(two.unwrap_err().to_string().contains("more than once"));
    }

    #[test]
    fn fingerprints_ignore_member_order_and_whitespace_but_not_values_or_methods() {
        let key = || IdempotencyKey::parse(b"k").unwrap();
        let a = Idempotency::new(
            key(),
            "SendMessage",
            Some(r#"{"a":1,"b":{"y":[1,2],"x":"t"}}"#),
        );
        let b = Idempotency::new(
            key(),
            "SendMessage",
            Some(r#"{ "b": {"x":"t","y":[1, 2]}, "a": 1 }"#),
        );
        assert_eq!(a, b);
        let c = Idempotency::new(
            key(),
            "SendMessage",
            Some(r#"{"a":2,"b":{"y":[1,2],"x":"t"}}"#),
        );
        assert_ne!(a.fingerprint, c.fingerprint);
        let d = Idempotency::new(
            key(),
            "SendStreamingMessage",
            Some(r#"{"a":1,"b":{"y":[1,2],"x":"t"}}"#),
        );
        assert_ne!(a.fingerprint, d.fingerprint);
        assert_eq!(a.mismatch().code(), -32602);
    }
}

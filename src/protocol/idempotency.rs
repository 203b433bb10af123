//! Retry safety: the `Idempotency-Key` a client sends with a request (IETF httpapi draft
//! "The Idempotency-Key HTTP Header Field"), and the fingerprint that tells a retry of a
//! request from another request under the same key. Transport-neutral: the JSON-RPC
//! endpoint reads the HTTP header, REST will read the same header and gRPC the
//! `idempotency-key` metadata, and all of them parse it here.

use xxhash_rust::xxh3::xxh3_128_with_seed;

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
    TCHAR[usize::from(b)]
}

/// [`is_tchar`] as a table: every send's key is checked byte by byte.
static TCHAR: [bool; 256] = {
    let mut t = [false; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        t[b] = c.is_ascii_alphanumeric()
            || matches!(
                c,
                b'!' | b'#'
                    | b'$'
                    | b'%'
                    | b'&'
                    | b'\''
                    | b'*'
                    | b'+'
                    | b'-'
                    | b'.'
                    | b'^'
                    | b'_'
                    | b'`'
                    | b'|'
                    | b'~'
                    | b':'
                    | b'/'
            );
        b += 1;
    }
    t
};

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
    /// 128-bit XXH3 (hex) of the method and the structure of the params.
    pub fingerprint: String,
}

impl Idempotency {
    /// The request `method` with `params` (raw JSON, as received) under `key`. The params
    /// are hashed as a JSON value, in one pass: object members in any order and any
    /// whitespace give the same fingerprint, so a retry that serializes them differently is
    /// still the same request; the JSON-RPC `id` is not part of it.
    ///
    /// Not a cryptographic hash: a key is scoped to its owner, so a collision could only
    /// ever hand a caller its own earlier answer. XXH3 is a frozen format, so stored
    /// fingerprints stay valid across upgrades. Sorting members into canonical JSON and
    /// hashing that with SHA-256 cost 26k instructions per SendMessage, half a send.
    pub fn new(key: IdempotencyKey, method: &str, params: Option<&str>) -> Self {
        let params = match params {
            None => NULL,
            Some(raw) => {
                let mut de = serde_json::Deserializer::from_str(raw);
                match serde::de::DeserializeSeed::deserialize(ValueHash, &mut de)
                    .and_then(|h| de.end().map(|()| h))
                {
                    Ok(h) => h,
                    // Not JSON (the codec refuses it anyway): its bytes.
                    Err(_) => tagged(b'r', raw.as_bytes()),
                }
            }
        };
        let h = pair(b'm', tagged(b'm', method.as_bytes()), params);
        // Hex by hand: `{:032x}` of a u128 goes through the formatting machinery.
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let fingerprint = h
            .to_be_bytes()
            .iter()
            .flat_map(|b| [HEX[usize::from(b >> 4)], HEX[usize::from(b & 15)]])
            .map(char::from)
            .collect();
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

const NULL: u128 = 0x6e75_6c6c;

/// The hash of a scalar: its bytes, seeded by its kind's tag. One-shot hashes only: a
/// streaming `Xxh3` costs more to set up than these short inputs cost to hash.
fn tagged(tag: u8, bytes: &[u8]) -> u128 {
    xxh3_128_with_seed(bytes, u64::from(tag))
}

/// Two hashes as one, in order.
fn pair(seed: u8, a: u128, b: u128) -> u128 {
    let mut both = [0u8; 32];
    both[..16].copy_from_slice(&a.to_le_bytes());
    both[16..].copy_from_slice(&b.to_le_bytes());
    xxh3_128_with_seed(&both, u64::from(seed))
}

/// Hashes one JSON value as serde_json reads it. Arrays hash their elements in order;
/// objects combine their members' hashes by wrapping addition, so member order does not
/// matter; strings are hashed decoded, so escapes do not either.
struct ValueHash;

impl<'de> serde::de::DeserializeSeed<'de> for ValueHash {
    type Value = u128;

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<u128, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> serde::de::Visitor<'de> for ValueHash {
    type Value = u128;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_unit<E>(self) -> Result<u128, E> {
        Ok(NULL)
    }

    fn visit_bool<E>(self, v: bool) -> Result<u128, E> {
        Ok(tagged(b'b', &[v as u8]))
    }

    fn visit_i64<E>(self, v: i64) -> Result<u128, E> {
        Ok(tagged(b'i', &i128::from(v).to_le_bytes()))
    }

    fn visit_u64<E>(self, v: u64) -> Result<u128, E> {
        Ok(tagged(b'i', &i128::from(v).to_le_bytes()))
    }

    fn visit_f64<E>(self, v: f64) -> Result<u128, E> {
        Ok(tagged(b'f', &v.to_bits().to_le_bytes()))
    }

    fn visit_str<E>(self, v: &str) -> Result<u128, E> {
        Ok(tagged(b's', v.as_bytes()))
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<u128, A::Error> {
        let mut h = tagged(b'[', &[]);
        while let Some(e) = seq.next_element_seed(ValueHash)? {
            h = pair(b'[', h, e);
        }
        Ok(h)
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<u128, A::Error> {
        let (mut sum, mut n) = (0u128, 0u64);
        while let Some(k) = map.next_key_seed(ValueHash)? {
            let v = map.next_value_seed(ValueHash)?;
            sum = sum.wrapping_add(pair(b':', k, v));
            n += 1;
        }
        Ok(pair(b'{', u128::from(n), sum))
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
    fn the_fingerprint_is_xxh3_of_the_method_and_the_params_value() {
        // Pinned: stored keys must still match after an upgrade.
        let key = IdempotencyKey::parse(b"k").unwrap();
        let f = Idempotency::new(
            key,
            "SendMessage",
            Some(r#"{ "b": [true, null, "x"], "a": 1 }"#),
        );
        assert_eq!(f.fingerprint, "b882c9f7e3db592689740d799b628512");
    }

    #[test]
    fn fingerprints_follow_values_not_spelling() {
        let f = |p: &str| {
            Idempotency::new(IdempotencyKey::random(), "SendMessage", Some(p)).fingerprint
        };
        // Escapes are read, not compared as written.
        assert_eq!(f(r#"{"t":"\u0041b"}"#), f(r#"{"t":"Ab"}"#));
        // Values stay with their members, arrays keep their order, types count.
        assert_ne!(f(r#"{"a":1,"b":2}"#), f(r#"{"a":2,"b":1}"#));
        assert_ne!(f("[1,2]"), f("[2,1]"));
        assert_ne!(f(r#"{"a":"1"}"#), f(r#"{"a":1}"#));
        assert_ne!(f(r#"{"a":{}}"#), f(r#"{"a":[]}"#));
        assert_ne!(f(r#"{"a":1}"#), f(r#"{"a":1,"a":1}"#));
        // Not JSON: its bytes, never the same as a JSON value's.
        assert_ne!(f(r#"{"a":1"#), f(r#"{"a":1}"#));
        assert_ne!(f(r#"{"a":1} x"#), f(r#"{"a":1}"#));
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

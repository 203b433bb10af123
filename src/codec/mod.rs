//! One codec per wire version: serde types shaped exactly like that version's JSON and
//! conversions to and from the internal model. Version quirks live only here.

pub mod push;
pub mod v01;
pub mod v03;
pub mod v1;

use serde::de::DeserializeOwned;

use crate::protocol::A2aError;
pub use crate::protocol::Version;

/// Decodes JSON-RPC params into a wire type, naming the offending field on failure.
pub fn decode<T: DeserializeOwned>(params: Option<&str>) -> Result<T, A2aError> {
    let raw = params.unwrap_or("{}");
    serde_json::from_str(raw).map_err(|e| A2aError::InvalidParams(describe_serde_error(&e)))
}

/// serde says "missing field `message` at line 1 column 40"; clients need the field, not
/// the column.
fn describe_serde_error(e: &serde_json::Error) -> String {
    let s = e.to_string();
    match s.find(" at line ") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}

/// JSON text this server serialized itself, valid by construction: written out as is,
/// where a `RawValue` would be parsed again to prove it is JSON.
#[derive(Debug, Clone, PartialEq)]
pub struct Json(String);

impl Json {
    pub fn null() -> Self {
        Self("null".into())
    }

    pub fn get(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

/// Serializes a result. Our own types always serialize. sonic-rs, not serde_json: its
/// SIMD string escaping took a tenth off a streamed task's instructions, where serde_json
/// tests every byte of every key and value against a table.
pub fn encode<T: serde::Serialize>(value: &T) -> Json {
    // Room for a typical task or event up front: growing from 128 bytes took several
    // reallocations per response.
    let mut out = Vec::with_capacity(1024);
    sonic_rs::to_writer(&mut out, value).expect("wire types serialize");
    // SAFETY: sonic-rs writes only valid UTF-8 (its `to_string` relies on the same
    // guarantee); checking it again cost a streamed task 800 instructions.
    Json(unsafe { String::from_utf8_unchecked(out) })
}

//! One codec per wire version: serde types shaped exactly like that version's JSON and
//! conversions to and from the internal model. Version quirks live only here.

pub mod push;
pub mod v01;
pub mod v03;
pub mod v1;

use serde::de::DeserializeOwned;
use serde_json::value::RawValue;

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

/// Serializes a response body. Our own types always serialize.
pub fn encode<T: serde::Serialize>(value: &T) -> Box<RawValue> {
    serde_json::value::to_raw_value(value).expect("wire types serialize")
}

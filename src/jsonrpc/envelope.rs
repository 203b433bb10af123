//! Parsing the JSON-RPC 2.0 envelope, with the codes the spec assigns to each failure.

use jsonrpsee::types::Id;
use serde::Deserialize;
use serde_json::value::RawValue;

use crate::protocol::A2aError;

/// A request whose envelope is valid; `params` is left raw for the method's codec.
#[derive(Debug)]
pub struct Request<'a> {
    pub id: Id<'a>,
    pub method: &'a str,
    pub params: Option<&'a RawValue>,
}

#[derive(Deserialize)]
struct Raw<'a> {
    #[serde(borrow)]
    jsonrpc: Option<&'a RawValue>,
    #[serde(borrow)]
    id: Option<&'a RawValue>,
    #[serde(borrow)]
    method: Option<&'a RawValue>,
    #[serde(borrow)]
    params: Option<&'a RawValue>,
}

/// A failed parse: the error and the request id, when it could be read.
#[derive(Debug)]
pub struct Rejected<'a> {
    pub id: Id<'a>,
    pub error: A2aError,
}

fn reject<'a>(id: Id<'a>, msg: impl Into<String>) -> Rejected<'a> {
    Rejected {
        id,
        error: A2aError::InvalidRequest(msg.into()),
    }
}

/// An id by its first byte. jsonrpsee's `Id` deserializer is untagged: it buffers the
/// value and tries each variant in turn, building (and dropping) an error message for every
/// miss, which cost more than the rest of the envelope.
fn parse_id(raw: &str) -> Result<Id<'_>, ()> {
    match raw.as_bytes().first() {
        Some(b'"') => serde_json::from_str(raw).map(Id::Str).map_err(drop),
        Some(b'0'..=b'9') => serde_json::from_str(raw).map(Id::Number).map_err(drop),
        _ if raw == "null" => Ok(Id::Null),
        _ => Err(()),
    }
}

/// Parses a request body: invalid JSON is -32700, anything else malformed is -32600.
pub fn parse(body: &[u8]) -> Result<Request<'_>, Rejected<'_>> {
    let first = body.iter().find(|b| !b.is_ascii_whitespace());
    // Only an object is a request: serde would also fill `Raw` from a JSON array, by
    // position, and take `["2.0", 1, "tasks/get", {..}]` for one.
    let raw = match first {
        Some(b'{') => serde_json::from_slice::<Raw<'_>>(body).ok(),
        _ => None,
    };
    let Some(raw) = raw else {
        let error = match serde_json::from_slice::<serde::de::IgnoredAny>(body) {
            Err(e) => A2aError::Parse(e.to_string()),
            Ok(_) if first == Some(&b'[') => {
                A2aError::InvalidRequest("batch requests are not supported by A2A".into())
            }
            Ok(_) => A2aError::InvalidRequest("the body must be a JSON-RPC request object".into()),
        };
        return Err(Rejected {
            id: Id::Null,
            error,
        });
    };
    let id = match raw.id.map(|r| parse_id(r.get())) {
        Some(Ok(id)) => id,
        // A2A has no notifications: a request without an id (or with `null`) is checked
        // and answered like any other, with `"id": null`, as the official SDKs do.
        None => Id::Null,
        Some(Err(_)) => {
            return Err(reject(
                Id::Null,
                "`id` must be a string or a non-negative integer",
            ));
        }
    };
    if raw.jsonrpc.map(RawValue::get) != Some("\"2.0\"") {
        return Err(reject(id, "`jsonrpc` must be \"2.0\""));
    }
    let method = match raw.method.map(|m| serde_json::from_str::<&str>(m.get())) {
        Some(Ok(m)) => m,
        Some(Err(_)) => return Err(reject(id, "`method` must be a string without escapes")),
        None => return Err(reject(id, "`method` is required")),
    };
    let params = match raw.params {
        Some(p) if p.get() == "null" => None,
        Some(p) if !p.get().starts_with('{') => {
            return Err(reject(id, "`params` must be an object"));
        }
        p => p,
    };
    Ok(Request { id, method, params })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_json_is_parse_error_with_null_id() {
        let e = parse(b"{not json").unwrap_err();
        assert_eq!(e.error.code(), -32700);
        assert_eq!(e.id, Id::Null);
    }

    #[test]
    fn batches_are_invalid_requests() {
        assert_eq!(parse(b"[{}]").unwrap_err().error.code(), -32600);
    }

    #[test]
    fn positional_arrays_are_not_requests() {
        let e = parse(br#"["2.0", 1, "tasks/get", {"id": "x"}]"#).unwrap_err();
        assert_eq!(e.error.code(), -32600);
        assert_eq!(e.id, Id::Null);
    }

    #[test]
    fn wrong_jsonrpc_version_keeps_the_id() {
        let e = parse(br#"{"jsonrpc":"1.0","id":"a","method":"x"}"#).unwrap_err();
        assert_eq!(e.error.code(), -32600);
        assert_eq!(e.id, Id::Str("a".into()));
    }

    #[test]
    fn array_params_are_invalid() {
        let e = parse(br#"{"jsonrpc":"2.0","id":1,"method":"x","params":[1]}"#).unwrap_err();
        assert_eq!(e.error.code(), -32600);
    }

    #[test]
    fn ids_keep_their_type_and_bad_ids_are_rejected() {
        let r = parse(br#"{"jsonrpc":"2.0","id":"a\"b","method":"x"}"#).unwrap();
        assert_eq!(r.id, Id::Str("a\"b".into()));
        let r = parse(br#"{"jsonrpc":"2.0","id":18446744073709551615,"method":"x"}"#).unwrap();
        assert_eq!(r.id, Id::Number(u64::MAX));
        for bad in ["-1", "1.5", "true", "{}", "[1]"] {
            let body = format!(r#"{{"jsonrpc":"2.0","id":{bad},"method":"x"}}"#);
            let e = parse(body.as_bytes()).unwrap_err();
            assert_eq!(e.error.code(), -32600, "id {bad}");
            assert_eq!(e.id, Id::Null, "id {bad}");
        }
    }

    #[test]
    fn a_missing_or_null_id_is_a_request_answered_with_id_null() {
        for body in [
            &br#"{"jsonrpc":"2.0","method":"GetTask","params":{"id":"t"}}"#[..],
            br#"{"jsonrpc":"2.0","id":null,"method":"GetTask"}"#,
        ] {
            let r = parse(body).unwrap();
            assert_eq!(r.id, Id::Null);
            assert_eq!(r.method, "GetTask");
        }
    }

    #[test]
    fn valid_request_parses() {
        let r =
            parse(br#"{"jsonrpc":"2.0","id":7,"method":"GetTask","params":{"id":"t"}}"#).unwrap();
        assert_eq!(r.id, Id::Number(7));
        assert_eq!(r.method, "GetTask");
        assert_eq!(r.params.unwrap().get(), r#"{"id":"t"}"#);
    }
}

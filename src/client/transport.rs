//! Which binding the client speaks, and the HTTP+JSON one: a 1.0 call (method and
//! params, as JSON-RPC would carry them) becomes a route, its query and its body; the
//! answer is the bare result, an error a `google.rpc.Status`.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use super::error::{ClientError, excerpt};
use super::wire::RpcCall;

/// A transport binding of A2A.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Transport {
    /// JSON-RPC 2.0 over HTTP, SSE for streams.
    #[default]
    #[value(name = "jsonrpc")]
    JsonRpc,
    /// HTTP+JSON (REST), A2A 1.0 only.
    #[value(name = "rest")]
    Rest,
    /// gRPC.
    #[value(name = "grpc")]
    Grpc,
}

impl Transport {
    /// The 1.0 card's `protocolBinding`.
    pub fn binding(self) -> &'static str {
        match self {
            Transport::JsonRpc => "JSONRPC",
            Transport::Rest => "HTTP+JSON",
            Transport::Grpc => "GRPC",
        }
    }

    pub fn from_binding(b: &str) -> Option<Self> {
        [Transport::JsonRpc, Transport::Rest, Transport::Grpc]
            .into_iter()
            .find(|t| t.binding().eq_ignore_ascii_case(b))
    }
}

/// What a path segment escapes: everything but unreserved characters, so an id with `/`
/// or `:` stays one segment and is never read as a verb.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// A REST request, before the base URL.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct RestRequest {
    pub method: reqwest::Method,
    pub path: String,
    pub query: Vec<(String, String)>,
    pub body: Option<Value>,
}

fn seg(s: &str) -> String {
    utf8_percent_encode(s, SEGMENT).to_string()
}

/// The route of a 1.0 call.
pub(crate) fn rest_request(call: &RpcCall) -> Result<RestRequest, ClientError> {
    use reqwest::Method;
    let mut params: Map<String, Value> = match &call.params {
        Value::Object(m) => m.clone(),
        _ => Map::new(),
    };
    let mut take = |k: &str| -> Result<String, ClientError> {
        match params.remove(k) {
            Some(Value::String(s)) => Ok(s),
            _ => Err(ClientError::Unsupported(format!(
                "{} needs `{k}` for its HTTP+JSON path",
                call.method
            ))),
        }
    };
    let (method, path, body) = match call.method {
        "SendMessage" => (Method::POST, "/message:send".to_string(), true),
        "SendStreamingMessage" => (Method::POST, "/message:stream".to_string(), true),
        "GetTask" => (Method::GET, format!("/tasks/{}", seg(&take("id")?)), false),
        "ListTasks" => (Method::GET, "/tasks".to_string(), false),
        "CancelTask" => (
            Method::POST,
            format!("/tasks/{}:cancel", seg(&take("id")?)),
            true,
        ),
        "SubscribeToTask" => (
            Method::POST,
            format!("/tasks/{}:subscribe", seg(&take("id")?)),
            true,
        ),
        "CreateTaskPushNotificationConfig" => (
            Method::POST,
            format!("/tasks/{}/pushNotificationConfigs", seg(&take("taskId")?)),
            true,
        ),
        "ListTaskPushNotificationConfigs" => (
            Method::GET,
            format!("/tasks/{}/pushNotificationConfigs", seg(&take("taskId")?)),
            false,
        ),
        m @ ("GetTaskPushNotificationConfig" | "DeleteTaskPushNotificationConfig") => {
            let task = take("taskId")?;
            let id = take("id")?;
            let method = if m.starts_with("Get") {
                Method::GET
            } else {
                Method::DELETE
            };
            let path = format!("/tasks/{}/pushNotificationConfigs/{}", seg(&task), seg(&id));
            (method, path, false)
        }
        "GetExtendedAgentCard" => (Method::GET, "/extendedAgentCard".to_string(), false),
        other => {
            return Err(ClientError::Unsupported(format!(
                "`{other}` has no HTTP+JSON route (REST speaks A2A 1.0 only)"
            )));
        }
    };
    let (query, body) = if body {
        (Vec::new(), Some(Value::Object(params)))
    } else {
        let query = params
            .into_iter()
            .filter(|(_, v)| !v.is_null())
            .map(|(k, v)| match v {
                Value::String(s) => (k, s),
                other => (k, other.to_string()),
            })
            .collect();
        (query, None)
    };
    Ok(RestRequest {
        method,
        path,
        query,
        body,
    })
}

/// A REST answer: the bare result on success, else the Status body as an error.
pub(crate) fn rest_answer(
    status: reqwest::StatusCode,
    text: &str,
    url: &str,
) -> Result<Box<RawValue>, ClientError> {
    if status.is_success() {
        let text = if text.trim().is_empty() { "{}" } else { text };
        return RawValue::from_string(text.to_string()).map_err(|e| ClientError::Decode {
            what: "HTTP+JSON response".into(),
            detail: format!("{e}: {}", excerpt(text)),
        });
    }
    Err(status_error(text).unwrap_or_else(|| ClientError::Http {
        status: status.as_u16(),
        url: url.to_string(),
        body: excerpt(text),
    }))
}

/// A `google.rpc.Status` body (`{"error":{code,status,message,details}}`) as the error it
/// carries: the JSON-RPC code of its A2A reason, so callers match codes whatever the
/// transport. `None` if the text is no such body.
pub(crate) fn status_error(text: &str) -> Option<ClientError> {
    let v: Value = serde_json::from_str(text).ok()?;
    let e = v.get("error")?.as_object()?;
    let http = e.get("code")?.as_i64()?;
    let reason = e
        .get("details")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .find_map(|d| d.get("reason").and_then(Value::as_str));
    let code = match reason {
        Some("TASK_NOT_FOUND") => -32001,
        Some("TASK_NOT_CANCELABLE") => -32002,
        Some("PUSH_NOTIFICATION_NOT_SUPPORTED") => -32003,
        Some("UNSUPPORTED_OPERATION") => -32004,
        Some("CONTENT_TYPE_NOT_SUPPORTED") => -32005,
        Some("INVALID_AGENT_RESPONSE") => -32006,
        Some("EXTENDED_AGENT_CARD_NOT_CONFIGURED") => -32007,
        Some("EXTENSION_SUPPORT_REQUIRED") => -32008,
        Some("VERSION_NOT_SUPPORTED") => -32009,
        _ => match http {
            400 => -32602,
            401 => -31401,
            403 => -31403,
            404 => -32601,
            429 => -32029,
            _ => -32603,
        },
    };
    Some(ClientError::JsonRpc {
        code,
        message: e
            .get("message")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string(),
        data: Some(Value::Object(e.clone())),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn calls_become_routes() {
        let r = rest_request(&RpcCall {
            method: "GetTask",
            params: json!({"id": "a/b:c", "historyLength": 2}),
        })
        .unwrap();
        assert_eq!(r.path, "/tasks/a%2Fb%3Ac");
        assert_eq!(r.query, vec![("historyLength".into(), "2".into())]);
        let r = rest_request(&RpcCall {
            method: "CancelTask",
            params: json!({"id": "t"}),
        })
        .unwrap();
        assert_eq!(
            (r.path.as_str(), r.body),
            ("/tasks/t:cancel", Some(json!({})))
        );
        assert!(
            rest_request(&RpcCall {
                method: "message/send",
                params: json!({})
            })
            .is_err()
        );
    }

    #[test]
    fn status_bodies_are_errors_with_the_a2a_code() {
        let body = r#"{"error":{"code":404,"status":"NOT_FOUND","message":"no task","details":[{"reason":"TASK_NOT_FOUND"}]}}"#;
        let e = rest_answer(reqwest::StatusCode::NOT_FOUND, body, "u").unwrap_err();
        assert_eq!(e.rpc_code(), Some(-32001));
    }
}

//! Request bodies (templates with the per-request values spliced in, so no JSON is built
//! per request) and cheap checks of the answers, for A2A 1.0 and 0.3.

use bytes::Bytes;
use serde::Deserialize;
use serde::de::IgnoredAny;
use serde_json::value::RawValue;
use serde_json::{Value, json};

use super::stats::Failure;
use crate::protocol::Version;

/// A JSON-RPC request body (or an HTTP+JSON one: the params alone) with numbered holes
/// for per-request values.
#[derive(Debug, Clone)]
pub struct Template {
    /// Literal text around the holes: `parts[0] hole parts[1] hole ... parts[n]`.
    parts: Vec<String>,
    /// Which value fills each hole, in text order (serialization may reorder keys).
    order: Vec<usize>,
    /// HTTP+JSON: the body is the params and the answer the bare result.
    bare: bool,
}

/// How a hole looks once serialized: `\u0001<n>\u0002`.
const OPEN: &str = "\\u0001";
const CLOSE: &str = "\\u0002";

impl Template {
    /// `params` holds [`hole`]s where per-request values go (each spliced raw into a JSON
    /// string, so values must need no escaping).
    pub fn new(method: &str, params: Value) -> Template {
        let body = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params});
        Self::of(&body, false)
    }

    /// An HTTP+JSON body: `params` as is.
    pub fn bare(params: Value) -> Template {
        Self::of(&params, true)
    }

    /// The result an answer to this template's request carries: the JSON-RPC envelope's,
    /// or (HTTP+JSON) the body itself, whose error event is a `google.rpc.Status`.
    pub fn result<'a>(&self, body: &'a [u8]) -> Result<&'a RawValue, Failure> {
        if !self.bare {
            return result(body);
        }
        #[derive(Deserialize)]
        struct Status {
            error: Option<StatusError>,
        }
        #[derive(Deserialize)]
        struct StatusError {
            code: u16,
        }
        if let Ok(Status { error: Some(e) }) = serde_json::from_slice::<Status>(body) {
            return Err(Failure::Http(e.code));
        }
        serde_json::from_slice(body)
            .map_err(|e| Failure::Invalid(format!("not a JSON answer ({e})")))
    }

    fn of(body: &Value, bare: bool) -> Template {
        let full = serde_json::to_string(body).expect("JSON serializes");
        let mut text = full.as_str();
        let mut parts = Vec::new();
        let mut order = Vec::new();
        while let Some(i) = text.find(OPEN) {
            let rest = &text[i + OPEN.len()..];
            let j = rest.find(CLOSE).expect("a hole is closed");
            order.push(rest[..j].parse().expect("a hole is numbered"));
            parts.push(text[..i].to_string());
            text = &rest[j + CLOSE.len()..];
        }
        parts.push(text.to_string());
        Template { parts, order, bare }
    }

    pub fn holes(&self) -> usize {
        self.order.len()
    }

    pub fn render(&self, values: &[&str]) -> Bytes {
        let len = self.parts.iter().map(String::len).sum::<usize>()
            + self.order.iter().map(|&i| values[i].len()).sum::<usize>();
        let mut out = Vec::with_capacity(len);
        for (k, p) in self.parts.iter().enumerate() {
            out.extend_from_slice(p.as_bytes());
            if let Some(&i) = self.order.get(k) {
                out.extend_from_slice(values[i].as_bytes());
            }
        }
        Bytes::from(out)
    }
}

/// The placeholder for per-request value number `n` in template params.
pub fn hole(n: usize) -> Value {
    Value::String(format!("\u{1}{n}\u{2}"))
}

/// A user message in the shape of `version`; `message_id` and `text` may be [`hole`]s.
pub fn message(version: Version, message_id: Value, text: Value, task: Option<&str>) -> Value {
    let mut m = match version {
        Version::V1 => json!({
            "messageId": message_id, "role": "ROLE_USER", "parts": [{"text": text}],
        }),
        _ => json!({
            "kind": "message", "messageId": message_id, "role": "user",
            "parts": [{"kind": "text", "text": text}],
        }),
    };
    if let Some(t) = task {
        m["taskId"] = json!(t);
    }
    m
}

/// `SendMessage` / `message/send` (or the streaming twin). Hole 0 is the message id; `text` may be hole 1.
pub fn send(version: Version, streaming: bool, text: Value, task: Option<&str>) -> Template {
    let params = json!({"message": message(version, hole(0), text, task)});
    Template::new(send_method(version, streaming), params)
}

/// An HTTP+JSON `message:send` / `message:stream` body (1.0). Hole 0 is the message id.
pub fn rest_send(text: Value) -> Template {
    Template::bare(json!({"message": message(Version::V1, hole(0), text, None)}))
}

pub fn send_method(version: Version, streaming: bool) -> &'static str {
    match (version, streaming) {
        (Version::V1, false) => "SendMessage",
        (Version::V1, true) => "SendStreamingMessage",
        (_, false) => "message/send",
        (_, true) => "message/stream",
    }
}

/// A send whose configuration registers a webhook: holes are the message id, then the
/// notification token.
pub fn send_with_push(version: Version, text: &str, push_url: &str) -> Template {
    let config = json!({"url": push_url, "token": hole(1)});
    let configuration = match version {
        Version::V1 => json!({"taskPushNotificationConfig": config}),
        _ => json!({"pushNotificationConfig": config}),
    };
    let params = json!({
        "message": message(version, hole(0), json!(text), None),
        "configuration": configuration,
    });
    Template::new(send_method(version, false), params)
}

/// `GetTask` / `tasks/get` of one task: no holes.
pub fn get(version: Version, task_id: &str) -> Template {
    let method = if version == Version::V1 {
        "GetTask"
    } else {
        "tasks/get"
    };
    Template::new(method, json!({"id": task_id}))
}

/// `SubscribeToTask` / `tasks/resubscribe`: no holes.
pub fn subscribe(version: Version, task_id: &str) -> Template {
    let method = if version == Version::V1 {
        "SubscribeToTask"
    } else {
        "tasks/resubscribe"
    };
    Template::new(method, json!({"id": task_id}))
}

#[derive(Deserialize)]
struct Envelope<'a> {
    #[serde(borrow, default)]
    result: Option<&'a RawValue>,
    #[serde(default)]
    error: Option<RpcError>,
}

#[derive(Deserialize)]
struct RpcError {
    code: i64,
}

/// The `result` of a JSON-RPC response, or the failure it stands for.
pub fn result(body: &[u8]) -> Result<&RawValue, Failure> {
    let env: Envelope = serde_json::from_slice(body)
        .map_err(|e| Failure::Invalid(format!("not a JSON-RPC response ({e})")))?;
    if let Some(e) = env.error {
        return Err(Failure::JsonRpc(e.code));
    }
    env.result
        .ok_or_else(|| Failure::Invalid("no result and no error".into()))
}

#[derive(Deserialize)]
struct StatusPeek {
    state: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct TaskPeek {
    id: String,
    #[serde(default)]
    context_id: String,
    status: StatusPeek,
}

/// A send result of either version: 1.0 `{task}` / `{message}`, 0.3 by `kind`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SendPeek {
    task: Option<TaskPeek>,
    message: Option<IgnoredAny>,
    kind: Option<String>,
    id: Option<String>,
    #[serde(default)]
    context_id: String,
    status: Option<StatusPeek>,
}

/// What a send answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendOutcome {
    Task {
        id: String,
        context_id: String,
        /// Normalised to the 0.3 spelling: `completed`, `input-required`...
        state: String,
    },
    Message,
}

/// `TASK_STATE_INPUT_REQUIRED` -> `input-required`; 0.3 names pass through.
pub fn state_name(s: &str) -> String {
    match s.strip_prefix("TASK_STATE_") {
        Some(rest) => rest.to_ascii_lowercase().replace('_', "-"),
        None => s.to_string(),
    }
}

pub fn send_outcome(result: &RawValue) -> Result<SendOutcome, Failure> {
    let p: SendPeek = serde_json::from_str(result.get())
        .map_err(|e| Failure::Invalid(format!("not a send result ({e})")))?;
    if let Some(t) = p.task {
        return Ok(SendOutcome::Task {
            id: t.id,
            context_id: t.context_id,
            state: state_name(&t.status.state),
        });
    }
    if p.message.is_some() || p.kind.as_deref() == Some("message") {
        return Ok(SendOutcome::Message);
    }
    match (p.kind.as_deref(), p.id, p.status) {
        (Some("task"), Some(id), Some(status)) => Ok(SendOutcome::Task {
            id,
            context_id: p.context_id,
            state: state_name(&status.state),
        }),
        _ => Err(Failure::Invalid("neither a task nor a message".into())),
    }
}

/// A `GetTask` result: any task (1.0 bare task, 0.3 `kind: task`).
pub fn task_result(result: &RawValue) -> Result<(), Failure> {
    #[derive(Deserialize)]
    struct Peek {
        #[allow(dead_code)]
        id: IgnoredAny,
        #[allow(dead_code)]
        status: IgnoredAny,
    }
    serde_json::from_str::<Peek>(result.get())
        .map(|_| ())
        .map_err(|e| Failure::Invalid(format!("not a task ({e})")))
}

/// The marker the subscribe scenario puts in its messages' text: `bench-t=<ns>;`.
pub const MARK: &[u8] = b"bench-t=";

pub fn mark(ns: u64) -> String {
    format!("bench-t={ns};")
}

/// The largest mark in `data`, if any.
pub fn find_mark(data: &[u8]) -> Option<u64> {
    let mut best = None;
    let mut rest = data;
    while let Some(i) = rest.windows(MARK.len()).position(|w| w == MARK) {
        rest = &rest[i + MARK.len()..];
        let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
        if let Some(n) = std::str::from_utf8(&rest[..digits])
            .ok()
            .and_then(|s| s.parse::<u64>().ok())
        {
            best = best.max(Some(n));
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn template_splices_values_into_valid_json() {
        let t = send(Version::V1, false, json!("hi"), None);
        assert_eq!(t.holes(), 1);
        let v: Value = serde_json::from_slice(&t.render(&["m-1"])).unwrap();
        assert_eq!(v["method"], "SendMessage");
        assert_eq!(v["params"]["message"]["messageId"], "m-1");
        assert_eq!(v["params"]["message"]["role"], "ROLE_USER");

        let t = send_with_push(Version::V03, "hi", "http://127.0.0.1:1/hook");
        assert_eq!(t.holes(), 2);
        let v: Value = serde_json::from_slice(&t.render(&["m-2", "tok"])).unwrap();
        assert_eq!(v["method"], "message/send");
        assert_eq!(v["params"]["message"]["kind"], "message");
        assert_eq!(v["params"]["message"]["messageId"], "m-2");
        assert_eq!(
            v["params"]["configuration"]["pushNotificationConfig"]["token"],
            "tok"
        );
        let v: Value = serde_json::from_slice(
            &send(Version::V03, true, hole(1), Some("t1")).render(&["a", "b"]),
        )
        .unwrap();
        assert_eq!(v["method"], "message/stream");
        assert_eq!(v["params"]["message"]["taskId"], "t1");
        assert_eq!(v["params"]["message"]["parts"][0]["text"], "b");
    }

    #[test]
    fn send_outcomes_of_both_versions() {
        let r = |s: &str| send_outcome(&RawValue::from_string(s.into()).unwrap());
        assert_eq!(
            r(r#"{"task":{"id":"t","contextId":"c","status":{"state":"TASK_STATE_COMPLETED"}}}"#),
            Ok(SendOutcome::Task {
                id: "t".into(),
                context_id: "c".into(),
                state: "completed".into()
            })
        );
        assert_eq!(
            r(r#"{"message":{"messageId":"m"}}"#),
            Ok(SendOutcome::Message)
        );
        assert_eq!(
            r(r#"{"kind":"task","id":"t","contextId":"c","status":{"state":"input-required"}}"#)
                .unwrap(),
            SendOutcome::Task {
                id: "t".into(),
                context_id: "c".into(),
                state: "input-required".into()
            }
        );
        assert_eq!(
            r(r#"{"kind":"message","messageId":"m"}"#),
            Ok(SendOutcome::Message)
        );
        assert!(r(r#"{"foo":1}"#).is_err());
    }

    #[test]
    fn envelopes_and_marks() {
        assert_eq!(
            result(br#"{"jsonrpc":"2.0","id":1,"error":{"code":-32003,"message":"no"}}"#)
                .unwrap_err(),
            Failure::JsonRpc(-32003)
        );
        assert_eq!(
            result(br#"{"id":1,"result":{"a":1}}"#).unwrap().get(),
            r#"{"a":1}"#
        );
        assert!(matches!(result(b"<html>"), Err(Failure::Invalid(_))));
        assert_eq!(find_mark(b"x bench-t=12; y bench-t=7;"), Some(12));
        assert_eq!(find_mark(b"nothing"), None);
        assert_eq!(state_name("TASK_STATE_INPUT_REQUIRED"), "input-required");
    }
}

//! HTTP+JSON requests as A2A calls: the route (method and path below the REST base, with
//! the optional `/{tenant}` prefix), then the JSON-RPC `params` that the same call would
//! carry, built from the path, the query string and the body. Pure: no I/O, fuzzed.
//!
//! The `:verb` of `/tasks/{id}:cancel` is split off the RAW path segment, before
//! percent-decoding, so an id spelled `a%3Acancel` is the task `a:cancel`, not a cancel.

use http::Method;
use percent_encoding::percent_decode_str;
use serde_json::{Map, Value};

use crate::protocol::A2aError;

/// What a request asks for, once routed.
#[derive(Debug, Clone, PartialEq)]
pub struct Routed {
    /// The 1.0 method name (the JSON-RPC method of the same call).
    pub method: &'static str,
    /// The tenant of the `/{tenant}` prefix.
    pub tenant: Option<String>,
    /// The path's task id (`{id}` or `{task_id}`).
    pub task_id: Option<String>,
    /// The path's push config id.
    pub config_id: Option<String>,
}

/// Why a request routes nowhere.
#[derive(Debug, Clone, PartialEq)]
pub enum RouteError {
    /// No route has this path.
    NotFound,
    /// The path exists, with other methods (the `Allow` header).
    MethodNotAllowed(&'static str),
    /// A path segment is not valid percent-encoded UTF-8.
    BadSegment,
}

/// Routes `path` (what follows the REST base, starting with `/`). A route without a
/// tenant is tried first, so a tenant named like a route's first segment (`tasks`,
/// `message:send`, `extendedAgentCard`) or `v1` (the 0.3 routes) cannot be addressed.
pub fn route(method: &Method, path: &str) -> Result<Routed, RouteError> {
    let raw: Vec<&str> = path.strip_prefix('/').unwrap_or(path).split('/').collect();
    match route_in(method, &raw, None) {
        Err(RouteError::NotFound) if raw.len() >= 2 && !raw[0].is_empty() => {
            let tenant = decode_segment(raw[0])?;
            route_in(method, &raw[1..], Some(tenant))
        }
        other => other,
    }
}

pub(super) fn decode_segment(s: &str) -> Result<String, RouteError> {
    percent_decode_str(s)
        .decode_utf8()
        .map(|c| c.into_owned())
        .map_err(|_| RouteError::BadSegment)
}

fn route_in(method: &Method, segs: &[&str], tenant: Option<String>) -> Result<Routed, RouteError> {
    let routed = |name: &'static str, task: Option<&str>, config: Option<&str>| {
        Ok(Routed {
            method: name,
            tenant: tenant.clone(),
            task_id: task.map(decode_segment).transpose()?,
            config_id: config.map(decode_segment).transpose()?,
        })
    };
    let is = |m: Method| *method == m;
    match segs {
        ["message:send"] if is(Method::POST) => routed("SendMessage", None, None),
        ["message:stream"] if is(Method::POST) => routed("SendStreamingMessage", None, None),
        ["message:send" | "message:stream"] => Err(RouteError::MethodNotAllowed("POST")),
        ["tasks"] if is(Method::GET) => routed("ListTasks", None, None),
        ["tasks"] => Err(RouteError::MethodNotAllowed("GET")),
        ["extendedAgentCard"] if is(Method::GET) => routed("GetExtendedAgentCard", None, None),
        ["extendedAgentCard"] => Err(RouteError::MethodNotAllowed("GET")),
        ["tasks", x] if !x.is_empty() => match x.rsplit_once(':') {
            Some((id, "cancel")) if !id.is_empty() => match *method {
                Method::POST => routed("CancelTask", Some(id), None),
                _ => Err(RouteError::MethodNotAllowed("POST")),
            },
            // GET in the proto, POST in the spec's prose and the kit: both.
            Some((id, "subscribe")) if !id.is_empty() => match *method {
                Method::GET | Method::POST => routed("SubscribeToTask", Some(id), None),
                _ => Err(RouteError::MethodNotAllowed("GET, POST")),
            },
            _ if is(Method::GET) => routed("GetTask", Some(x), None),
            _ => Err(RouteError::MethodNotAllowed("GET")),
        },
        ["tasks", t, "pushNotificationConfigs"] if !t.is_empty() => match *method {
            Method::POST => routed("CreateTaskPushNotificationConfig", Some(t), None),
            Method::GET => routed("ListTaskPushNotificationConfigs", Some(t), None),
            _ => Err(RouteError::MethodNotAllowed("GET, POST")),
        },
        ["tasks", t, "pushNotificationConfigs", c] if !t.is_empty() && !c.is_empty() => {
            match *method {
                Method::GET => routed("GetTaskPushNotificationConfig", Some(t), Some(c)),
                Method::DELETE => routed("DeleteTaskPushNotificationConfig", Some(t), Some(c)),
                _ => Err(RouteError::MethodNotAllowed("GET, DELETE")),
            }
        }
        _ => Err(RouteError::NotFound),
    }
}

/// The kind of a query parameter's value.
#[derive(Clone, Copy)]
enum Kind {
    Str,
    Int,
    Bool,
}

/// The query parameters (camelCase, as ProtoJSON names them; the proto names too) each
/// GET route takes: the request message's fields that are not in the path.
fn query_fields(method: &str) -> &'static [(&'static str, &'static str, Kind)] {
    use Kind::*;
    match method {
        "GetTask" => &[
            ("historyLength", "history_length", Int),
            ("tenant", "tenant", Str),
        ],
        "ListTasks" => &[
            ("contextId", "context_id", Str),
            ("status", "status", Str),
            ("pageSize", "page_size", Int),
            ("pageToken", "page_token", Str),
            ("historyLength", "history_length", Int),
            ("statusTimestampAfter", "status_timestamp_after", Str),
            ("includeArtifacts", "include_artifacts", Bool),
            ("tenant", "tenant", Str),
        ],
        "ListTaskPushNotificationConfigs" => &[
            ("pageSize", "page_size", Int),
            ("pageToken", "page_token", Str),
            ("tenant", "tenant", Str),
        ],
        "SubscribeToTask"
        | "GetTaskPushNotificationConfig"
        | "DeleteTaskPushNotificationConfig"
        | "GetExtendedAgentCard"
        | "CancelTask"
        | "SendMessage"
        | "SendStreamingMessage"
        | "CreateTaskPushNotificationConfig" => &[("tenant", "tenant", Str)],
        _ => &[],
    }
}

/// Whether the route takes a body (the others take their fields in the path and query).
fn takes_body(method: &str) -> bool {
    matches!(
        method,
        "SendMessage"
            | "SendStreamingMessage"
            | "CancelTask"
            | "SubscribeToTask"
            | "CreateTaskPushNotificationConfig"
    )
}

/// The params of the call `r` names: the body's members, the query's, then the path's
/// (which must agree with the body's where both name one).
pub fn params(r: &Routed, query: Option<&str>, body: &[u8]) -> Result<String, A2aError> {
    let mut obj = body_object(r.method, body)?;
    if let Some(q) = query {
        let fields = query_fields(r.method);
        for (k, v) in url::form_urlencoded::parse(q.as_bytes()) {
            if k.eq_ignore_ascii_case("A2A-Version") {
                continue;
            }
            // Unrecognized fields are ignored (spec 1.0 §5.7, the kit's DM-SERIAL-005).
            let Some((name, _, kind)) = fields.iter().find(|(c, p, _)| k == *c || k == *p) else {
                continue;
            };
            obj.insert((*name).into(), query_value(name, &v, *kind)?);
        }
    }
    let id_member = match r.method {
        "CreateTaskPushNotificationConfig"
        | "ListTaskPushNotificationConfigs"
        | "GetTaskPushNotificationConfig"
        | "DeleteTaskPushNotificationConfig" => "taskId",
        _ => "id",
    };
    if let Some(t) = &r.task_id {
        if id_member == "taskId" {
            // The proto name too: one of the two, the path's.
            same_or_absent(&mut obj, "task_id", t)?;
        }
        set_path_member(&mut obj, id_member, t)?;
    }
    if let Some(c) = &r.config_id {
        set_path_member(&mut obj, "id", c)?;
    }
    if let Some(t) = &r.tenant {
        set_path_member(&mut obj, "tenant", t)?;
    }
    Ok(Value::Object(obj).to_string())
}

fn same_or_absent(obj: &mut Map<String, Value>, key: &str, path: &str) -> Result<(), A2aError> {
    match obj.remove(key) {
        Some(Value::String(s)) if s == path => Ok(()),
        None => Ok(()),
        Some(_) => Err(A2aError::InvalidParams(format!(
            "the body's `{key}` differs from the path's"
        ))),
    }
}

/// Puts a path field in the params; a body naming it otherwise is refused (for the
/// tenant, as Java's SDK does: which one would the caller mean?).
fn set_path_member(obj: &mut Map<String, Value>, key: &str, path: &str) -> Result<(), A2aError> {
    same_or_absent(obj, key, path)?;
    obj.insert(key.into(), Value::String(path.into()));
    Ok(())
}

fn query_value(name: &str, v: &str, kind: Kind) -> Result<Value, A2aError> {
    let bad = |what: &str| {
        A2aError::InvalidParams(format!(
            "query parameter `{name}` must be {what}, not `{v}`"
        ))
    };
    Ok(match kind {
        Kind::Str => Value::String(v.into()),
        Kind::Int => Value::from(v.trim().parse::<i64>().map_err(|_| bad("an integer"))?),
        Kind::Bool => match v {
            "true" | "1" => Value::Bool(true),
            "false" | "0" => Value::Bool(false),
            _ => return Err(bad("`true` or `false`")),
        },
    })
}

/// The body as a JSON object: empty, `null` and `{}` are the empty one (clients send each
/// on `:cancel` and `:subscribe`).
fn body_object(method: &str, body: &[u8]) -> Result<Map<String, Value>, A2aError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Map::new());
    }
    if !takes_body(method) {
        return Err(A2aError::InvalidRequest(format!(
            "{method} takes no request body (its fields go in the path and the query string)"
        )));
    }
    let value: Value = serde_json::from_slice(body)
        .map_err(|e| A2aError::Parse(format!("the request body is not JSON: {e}")))?;
    let obj = match value {
        Value::Object(o) => o,
        Value::Null => return Ok(Map::new()),
        other => {
            return Err(A2aError::InvalidParams(format!(
                "the request body must be a JSON object, not {}",
                json_kind(&other)
            )));
        }
    };
    // Unknown members go on to the codec, which ignores them (spec 1.0 §5.7).
    Ok(obj)
}

fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// For the fuzz target: `METHOD PATH[?QUERY]` on the first line, the body after it.
/// Routing and params building never panic, and what they build is a JSON object.
pub fn fuzz_decode(data: &[u8]) {
    let (head, body) = match data.iter().position(|&b| b == b'\n') {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &[][..]),
    };
    let Ok(head) = std::str::from_utf8(head) else {
        return;
    };
    let (method, target) = head.split_once(' ').unwrap_or((head, "/"));
    let Ok(method) = Method::from_bytes(method.as_bytes()) else {
        return;
    };
    let (path, query) = match target.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (target, None),
    };
    // As `serve` splits them: the 0.3 routes under `/v1`, the 1.0 ones elsewhere.
    let built = match super::v03::strip(path) {
        Some(p) => super::v03::route(&method, p)
            .ok()
            .map(|r| super::v03::params(&r, query, body)),
        None => route(&method, path).ok().map(|r| params(&r, query, body)),
    };
    if let Some(Ok(p)) = built {
        let v: Value = serde_json::from_str(&p).expect("params are JSON");
        assert!(v.is_object(), "params are an object: {p}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get(path: &str) -> Result<Routed, RouteError> {
        route(&Method::GET, path)
    }

    fn post(path: &str) -> Result<Routed, RouteError> {
        route(&Method::POST, path)
    }

    #[test]
    fn routes_and_verbs() {
        assert_eq!(post("/message:send").unwrap().method, "SendMessage");
        assert_eq!(get("/tasks/abc").unwrap().task_id.as_deref(), Some("abc"));
        let c = post("/tasks/abc:cancel").unwrap();
        assert_eq!(
            (c.method, c.task_id.as_deref()),
            ("CancelTask", Some("abc"))
        );
        assert_eq!(
            get("/tasks/abc:subscribe").unwrap().method,
            "SubscribeToTask"
        );
        assert_eq!(
            post("/tasks/abc:subscribe").unwrap().method,
            "SubscribeToTask"
        );
        assert_eq!(
            route(&Method::DELETE, "/tasks/t/pushNotificationConfigs/c")
                .unwrap()
                .config_id
                .as_deref(),
            Some("c")
        );
    }

    #[test]
    fn the_verb_is_split_on_the_raw_segment() {
        let r = get("/tasks/a%3Acancel").unwrap();
        assert_eq!(
            (r.method, r.task_id.as_deref()),
            ("GetTask", Some("a:cancel"))
        );
        assert_eq!(
            post("/tasks/a%3Acancel"),
            Err(RouteError::MethodNotAllowed("GET"))
        );
    }

    #[test]
    fn tenant_prefix() {
        let r = post("/acme/message:send").unwrap();
        assert_eq!(
            (r.method, r.tenant.as_deref()),
            ("SendMessage", Some("acme"))
        );
        let r = get("/acme/tasks/x").unwrap();
        assert_eq!(
            (r.tenant.as_deref(), r.task_id.as_deref()),
            (Some("acme"), Some("x"))
        );
        // A route without a tenant wins: `tasks` cannot be a tenant.
        assert_eq!(get("/tasks/tasks").unwrap().method, "GetTask");
        assert_eq!(get("/a/b/c"), Err(RouteError::NotFound));
        assert_eq!(get("/"), Err(RouteError::NotFound));
    }

    #[test]
    fn params_merge_path_query_body() {
        let r = get("/t1/tasks/x").unwrap();
        let p: Value = serde_json::from_str(
            &params(&r, Some("historyLength=2&A2A-Version=1.0"), b"").unwrap(),
        )
        .unwrap();
        assert_eq!(
            p,
            serde_json::json!({"id": "x", "historyLength": 2, "tenant": "t1"})
        );
        // Unrecognized fields are ignored.
        assert_eq!(
            params(&r, Some("bogus=1"), b"").unwrap(),
            r#"{"id":"x","tenant":"t1"}"#
        );
        let e = params(&r, Some("historyLength=two"), b"").unwrap_err();
        assert!(e.to_string().contains("historyLength"), "{e}");
    }

    #[test]
    fn fuzz_entry_takes_any_bytes() {
        fuzz_decode(b"POST /t/tasks/x:cancel?tenant=t\n{\"id\":\"x\"}");
        fuzz_decode(b"GET /tasks/%ff");
        fuzz_decode(
            b"POST /v1/message:send\n{\"request\":{\"role\":1,\"content\":[{\"data\":5}]}}",
        );
        fuzz_decode(b"POST /v1/tasks/t/pushNotificationConfigs\n{\"config\":{\"pushNotificationConfig\":[]}}");
        fuzz_decode(b"GET /v1/tasks/t?historyLength=9999999999999999999999");
        fuzz_decode(b"\xff\xfe");
        fuzz_decode(b"");
    }

    #[test]
    fn bodies() {
        let r = post("/message:send").unwrap();
        assert!(params(&r, None, br#"{"message":{},"extra":1}"#).is_ok());
        assert_eq!(params(&r, None, b"{").unwrap_err().code(), -32700);
        assert_eq!(params(&r, None, b"[1]").unwrap_err().code(), -32602);
        let c = post("/tasks/x:cancel").unwrap();
        for body in [&b""[..], b"null", b"{}", b"  "] {
            assert_eq!(params(&c, None, body).unwrap(), r#"{"id":"x"}"#);
        }
        let e = params(&c, None, br#"{"id":"y"}"#).unwrap_err();
        assert!(e.to_string().contains("`id`"), "{e}");
        let p = post("/tasks/t/pushNotificationConfigs").unwrap();
        let v: Value =
            serde_json::from_str(&params(&p, None, br#"{"url":"https://x/h"}"#).unwrap()).unwrap();
        assert_eq!(v, serde_json::json!({"taskId": "t", "url": "https://x/h"}));
    }
}

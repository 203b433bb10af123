//! The HTTP+JSON binding of A2A 0.3 (`/v1/…` below the REST base): each route is a 0.3
//! JSON-RPC method whose params are built from the path, the query and a 0.3 ProtoJSON
//! body ([`proto_json`]), and whose result goes back out as 0.3 ProtoJSON.
//!
//! Below the REST base, not at the root: `/v1/tasks/…` at the root would sit beside the
//! legacy JSON-RPC paths and mounted agents. A 1.0 tenant named `v1` is therefore not
//! addressable (see `decode::route`). The card names this base with a trailing `/`
//! because the 0.3 kit joins `v1/…` onto it with `urljoin`.

use http::Method;
use serde_json::{Value, json};

use super::decode::{RouteError, Routed, decode_segment};
use crate::codec::v03::proto_json;
use crate::codec::{self, Json};
use crate::protocol::A2aError;

/// The 0.3 routes' first segment.
pub const PREFIX: &str = "/v1";

/// What follows [`PREFIX`] when `path` (below the REST base) is a 0.3 route.
pub fn strip(path: &str) -> Option<&str> {
    path.strip_prefix(PREFIX)
        .filter(|rest| rest.is_empty() || rest.starts_with('/'))
}

/// The routes, for the error that names them.
pub const ROUTES: &str = "/v1/message:send, /v1/message:stream, /v1/tasks/{id}[:cancel|:subscribe], \
     /v1/tasks/{id}/pushNotificationConfigs[/{configId}] and /v1/card";

/// Routes `path` (what follows [`PREFIX`]) to its 0.3 method. There is no tenant in 0.3.
pub fn route(method: &Method, path: &str) -> Result<Routed, RouteError> {
    let segs: Vec<&str> = path.strip_prefix('/').unwrap_or(path).split('/').collect();
    let routed = |name: &'static str, task: Option<&str>, config: Option<&str>| {
        Ok(Routed {
            method: name,
            tenant: None,
            task_id: task.map(decode_segment).transpose()?,
            config_id: config.map(decode_segment).transpose()?,
        })
    };
    let is = |m: Method| *method == m;
    match segs.as_slice() {
        ["message:send"] if is(Method::POST) => routed("message/send", None, None),
        ["message:stream"] if is(Method::POST) => routed("message/stream", None, None),
        ["message:send" | "message:stream"] => Err(RouteError::MethodNotAllowed("POST")),
        ["card"] if is(Method::GET) => routed("agent/getAuthenticatedExtendedCard", None, None),
        ["card"] => Err(RouteError::MethodNotAllowed("GET")),
        ["tasks", x] if !x.is_empty() => match x.rsplit_once(':') {
            Some((id, "cancel")) if !id.is_empty() => match *method {
                Method::POST => routed("tasks/cancel", Some(id), None),
                _ => Err(RouteError::MethodNotAllowed("POST")),
            },
            // GET in the proto, POST in the spec's table and the 0.3 kit: both.
            Some((id, "subscribe")) if !id.is_empty() => match *method {
                Method::GET | Method::POST => routed("tasks/resubscribe", Some(id), None),
                _ => Err(RouteError::MethodNotAllowed("GET, POST")),
            },
            _ if is(Method::GET) => routed("tasks/get", Some(x), None),
            _ => Err(RouteError::MethodNotAllowed("GET")),
        },
        ["tasks", t, "pushNotificationConfigs"] if !t.is_empty() => match *method {
            Method::POST => routed("tasks/pushNotificationConfig/set", Some(t), None),
            Method::GET => routed("tasks/pushNotificationConfig/list", Some(t), None),
            _ => Err(RouteError::MethodNotAllowed("GET, POST")),
        },
        ["tasks", t, "pushNotificationConfigs", c] if !t.is_empty() && !c.is_empty() => {
            match *method {
                Method::GET => routed("tasks/pushNotificationConfig/get", Some(t), Some(c)),
                Method::DELETE => routed("tasks/pushNotificationConfig/delete", Some(t), Some(c)),
                _ => Err(RouteError::MethodNotAllowed("GET, DELETE")),
            }
        }
        _ => Err(RouteError::NotFound),
    }
}

/// The 0.3 JSON-RPC params of the call `r` names.
pub fn params(r: &Routed, query: Option<&str>, body: &[u8]) -> Result<String, A2aError> {
    let task = r.task_id.as_deref().unwrap_or("");
    let params = match r.method {
        "message/send" | "message/stream" => proto_json::send_params(&body_value(body)?)?,
        "tasks/pushNotificationConfig/set" => {
            proto_json::create_push_params(task, &body_value(body)?)?
        }
        "tasks/get" => {
            let mut p = json!({ "id": task });
            for (k, v) in url::form_urlencoded::parse(query.unwrap_or("").as_bytes()) {
                if k == "historyLength" || k == "history_length" {
                    let n: i64 = v.trim().parse().map_err(|_| {
                        A2aError::InvalidParams(format!(
                            "query parameter `historyLength` must be an integer, not `{v}`"
                        ))
                    })?;
                    p["historyLength"] = n.into();
                }
            }
            p
        }
        "tasks/pushNotificationConfig/get" | "tasks/pushNotificationConfig/delete" => {
            json!({ "id": task, "pushNotificationConfigId": r.config_id })
        }
        "agent/getAuthenticatedExtendedCard" => json!({}),
        // Cancel, resubscribe, list: the task alone (a body such as the SDK's
        // `{"name": "tasks/…"}` says nothing the path does not).
        _ => json!({ "id": task }),
    };
    Ok(params.to_string())
}

fn body_value(body: &[u8]) -> Result<Value, A2aError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(json!({}));
    }
    serde_json::from_slice(body)
        .map_err(|e| A2aError::Parse(format!("the request body is not JSON: {e}")))
}

/// The 0.3 ProtoJSON answer of `method` for its JSON-RPC `result`.
pub fn result_out(method: &str, result: &Json) -> Json {
    let Ok(v) = serde_json::from_str::<Value>(result.get()) else {
        return result.clone();
    };
    let out = match method {
        "message/send" => proto_json::send_result_out(&v),
        "tasks/get" | "tasks/cancel" => proto_json::task_out(&v),
        "tasks/pushNotificationConfig/set" | "tasks/pushNotificationConfig/get" => {
            proto_json::push_config_out(&v)
        }
        "tasks/pushNotificationConfig/list" => proto_json::push_config_list_out(&v),
        "agent/getAuthenticatedExtendedCard" => proto_json::card_out(&v),
        // Delete answers `google.protobuf.Empty`.
        _ => json!({}),
    };
    codec::encode(&out)
}

/// One event of a 0.3 stream as a `StreamResponse`.
pub fn stream_item_out(item: &Json) -> Json {
    match serde_json::from_str::<Value>(item.get()) {
        Ok(v) => codec::encode(&proto_json::stream_item_out(&v)),
        Err(_) => item.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get(p: &str) -> Result<Routed, RouteError> {
        route(&Method::GET, p)
    }
    fn post(p: &str) -> Result<Routed, RouteError> {
        route(&Method::POST, p)
    }

    #[test]
    fn routes_name_their_0_3_methods() {
        assert_eq!(post("/message:send").unwrap().method, "message/send");
        assert_eq!(post("/message:stream").unwrap().method, "message/stream");
        assert_eq!(
            get("/card").unwrap().method,
            "agent/getAuthenticatedExtendedCard"
        );
        let cancel = post("/tasks/a%3Ab:cancel").unwrap();
        assert_eq!(
            (cancel.method, cancel.task_id.as_deref()),
            ("tasks/cancel", Some("a:b"))
        );
        assert_eq!(
            get("/tasks/t:subscribe").unwrap().method,
            "tasks/resubscribe"
        );
        assert_eq!(
            post("/tasks/t:subscribe").unwrap().method,
            "tasks/resubscribe"
        );
        assert_eq!(get("/tasks/a%3Acancel").unwrap().method, "tasks/get");
        let del = route(&Method::DELETE, "/tasks/t/pushNotificationConfigs/c").unwrap();
        assert_eq!(
            (del.method, del.config_id.as_deref()),
            ("tasks/pushNotificationConfig/delete", Some("c"))
        );
        assert_eq!(get("/tasks"), Err(RouteError::NotFound));
        assert_eq!(
            get("/message:send"),
            Err(RouteError::MethodNotAllowed("POST"))
        );
        assert_eq!(strip("/v1/card"), Some("/card"));
        assert_eq!(strip("/v1x/card"), None);
    }

    #[test]
    fn params_come_from_the_path_the_query_and_the_body() {
        let r = get("/tasks/t1").unwrap();
        let p = |r: &Routed, q, b: &[u8]| {
            serde_json::from_str::<Value>(&params(r, q, b).unwrap()).unwrap()
        };
        assert_eq!(
            p(&r, Some("historyLength=2"), b""),
            json!({"id": "t1", "historyLength": 2})
        );
        assert!(matches!(
            params(&r, Some("historyLength=x"), b""),
            Err(A2aError::InvalidParams(_))
        ));
        let r = post("/tasks/t1:cancel").unwrap();
        assert_eq!(p(&r, None, br#"{"name":"tasks/t1"}"#), json!({"id": "t1"}));
        let r = post("/message:send").unwrap();
        assert!(matches!(params(&r, None, b"{"), Err(A2aError::Parse(_))));
    }
}

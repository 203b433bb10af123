//! The bodies of the 0.3 HTTP+JSON binding: the 0.3 proto's messages in ProtoJSON
//! (`content` for parts, `TASK_STATE_CANCELLED`, `ROLE_USER`, `{"task":…}` or
//! `{"message":…}` around a send result), translated to and from the 0.3 JSON-RPC shapes
//! the 0.3 handlers speak, so that the route reaches the same handler as `message/send`.
//!
//! Requests accept the proto names and their lowerCamelCase JSON names alike (the 0.3 kit
//! sends `message_id`, the official SDK `messageId`) and ignore members the proto does not
//! have. Responses carry only members of the proto: the official 0.3 SDK parses them with
//! `ParseDict`, which refuses any other.

use serde_json::{Map, Value, json};

use crate::protocol::A2aError;

mod card;
pub use card::card_out;

fn bad(what: String) -> A2aError {
    A2aError::InvalidParams(what)
}

/// The member `camel` (or its proto name `snake`) of `obj`, unless null.
fn member<'a>(obj: &'a Map<String, Value>, camel: &str, snake: &str) -> Option<&'a Value> {
    obj.get(camel)
        .or_else(|| obj.get(snake))
        .filter(|v| !v.is_null())
}

fn object<'a>(v: &'a Value, what: &str) -> Result<&'a Map<String, Value>, A2aError> {
    v.as_object()
        .ok_or_else(|| bad(format!("`{what}` must be an object")))
}

/// Copies the members named (camelCase, proto name) from `from` to `to` under their
/// camelCase name, as they are.
fn copy(from: &Map<String, Value>, to: &mut Map<String, Value>, names: &[(&str, &str)]) {
    for (camel, snake) in names {
        if let Some(v) = member(from, camel, snake) {
            to.insert((*camel).into(), v.clone());
        }
    }
}

/// `SendMessageRequest` → the `message/send` params.
pub fn send_params(body: &Value) -> Result<Value, A2aError> {
    let body = object(body, "SendMessageRequest")?;
    let msg =
        member(body, "message", "request").ok_or_else(|| bad("`message` is required".into()))?;
    let mut out = Map::new();
    out.insert("message".into(), message_in(msg)?);
    if let Some(c) = member(body, "configuration", "configuration") {
        let c = object(c, "configuration")?;
        let mut cfg = Map::new();
        copy(
            c,
            &mut cfg,
            &[
                ("acceptedOutputModes", "accepted_output_modes"),
                ("historyLength", "history_length"),
            ],
        );
        if let Some(p) = member(c, "pushNotification", "push_notification") {
            cfg.insert("pushNotificationConfig".into(), push_config_in(p)?);
        }
        // proto3: an absent `blocking` is false, as the official 0.3 server reads it.
        let blocking = member(c, "blocking", "blocking")
            .map(|b| {
                b.as_bool()
                    .ok_or_else(|| bad("`blocking` must be a boolean".into()))
            })
            .transpose()?
            .unwrap_or(false);
        cfg.insert("blocking".into(), Value::Bool(blocking));
        out.insert("configuration".into(), Value::Object(cfg));
    }
    copy(body, &mut out, &[("metadata", "metadata")]);
    Ok(Value::Object(out))
}

fn message_in(v: &Value) -> Result<Value, A2aError> {
    let m = object(v, "message")?;
    let mut out = Map::new();
    out.insert("kind".into(), json!("message"));
    copy(
        m,
        &mut out,
        &[
            ("messageId", "message_id"),
            ("contextId", "context_id"),
            ("taskId", "task_id"),
            ("metadata", "metadata"),
            ("extensions", "extensions"),
        ],
    );
    let role = match member(m, "role", "role") {
        Some(r) if r == "ROLE_USER" || r == 1 => "user",
        Some(r) if r == "ROLE_AGENT" || r == 2 => "agent",
        Some(r) => {
            return Err(bad(format!(
                "`message.role` must be `ROLE_USER` or `ROLE_AGENT`, not {r}"
            )));
        }
        None => return Err(bad("`message.role` is required".into())),
    };
    out.insert("role".into(), json!(role));
    let parts = match member(m, "content", "content") {
        Some(Value::Array(parts)) => parts.iter().map(part_in).collect::<Result<_, _>>()?,
        Some(_) => return Err(bad("`message.content` must be an array of parts".into())),
        None => Vec::new(),
    };
    out.insert("parts".into(), Value::Array(parts));
    Ok(Value::Object(out))
}

fn part_in(v: &Value) -> Result<Value, A2aError> {
    let p = object(v, "part")?;
    if let Some(t) = member(p, "text", "text") {
        return Ok(json!({"kind": "text", "text": t}));
    }
    if let Some(f) = member(p, "file", "file") {
        let f = object(f, "file")?;
        let mut file = Map::new();
        copy(f, &mut file, &[("mimeType", "mime_type")]);
        if let Some(u) = member(f, "fileWithUri", "file_with_uri") {
            file.insert("uri".into(), u.clone());
        } else if let Some(b) = member(f, "fileWithBytes", "file_with_bytes") {
            file.insert("bytes".into(), b.clone());
        } else {
            return Err(bad(
                "a file part needs `fileWithUri` or `fileWithBytes`".into()
            ));
        }
        return Ok(json!({"kind": "file", "file": file}));
    }
    if let Some(d) = member(p, "data", "data") {
        let data = object(d, "data")?.get("data").cloned().unwrap_or(json!({}));
        return Ok(json!({"kind": "data", "data": data}));
    }
    Err(bad("a part needs `text`, `file` or `data`".into()))
}

/// `PushNotificationConfig` → the 0.3 JSON-RPC one.
fn push_config_in(v: &Value) -> Result<Value, A2aError> {
    let c = object(v, "pushNotificationConfig")?;
    let mut out = Map::new();
    copy(
        c,
        &mut out,
        &[("id", "id"), ("url", "url"), ("token", "token")],
    );
    if let Some(a) = member(c, "authentication", "authentication") {
        let a = object(a, "authentication")?;
        let mut auth = Map::new();
        copy(
            a,
            &mut auth,
            &[("schemes", "schemes"), ("credentials", "credentials")],
        );
        out.insert("authentication".into(), Value::Object(auth));
    }
    Ok(Value::Object(out))
}

/// The body of `POST /v1/tasks/{id}/pushNotificationConfigs` → the
/// `tasks/pushNotificationConfig/set` params. What the 0.3 kit and SDK send is the
/// `CreateTaskPushNotificationConfigRequest` (`{parent, configId, config: {name,
/// pushNotificationConfig}}`); a bare `TaskPushNotificationConfig` or
/// `PushNotificationConfig` is taken too (the proto's `body: "config"`).
pub fn create_push_params(task_id: &str, body: &Value) -> Result<Value, A2aError> {
    let b = object(body, "CreateTaskPushNotificationConfigRequest")?;
    let tpnc = member(b, "config", "config").unwrap_or(body);
    let t = object(tpnc, "config")?;
    let pnc = member(t, "pushNotificationConfig", "push_notification_config").unwrap_or(tpnc);
    let mut config = push_config_in(pnc)?;
    let id = config.get("id").and_then(Value::as_str).unwrap_or("");
    if id.is_empty()
        && let Some(cid) = member(b, "configId", "config_id").filter(|c| *c != "")
    {
        config["id"] = cid.clone();
    }
    Ok(json!({"taskId": task_id, "pushNotificationConfig": config}))
}

/// A `message/send` result → `SendMessageResponse`.
pub fn send_result_out(v: &Value) -> Value {
    match v["kind"].as_str() {
        Some("message") => json!({"message": message_out(v)}),
        _ => json!({"task": task_out(v)}),
    }
}

/// A `message/stream` or `tasks/resubscribe` event → `StreamResponse`.
pub fn stream_item_out(v: &Value) -> Value {
    match v["kind"].as_str() {
        Some("message") => json!({"message": message_out(v)}),
        Some("status-update") => {
            let mut o = Map::new();
            copy_out(v, &mut o, &["taskId", "contextId", "metadata"]);
            o.insert("status".into(), status_out(&v["status"]));
            if v["final"] == true {
                o.insert("final".into(), json!(true));
            }
            json!({"statusUpdate": o})
        }
        Some("artifact-update") => {
            let mut o = Map::new();
            copy_out(v, &mut o, &["taskId", "contextId", "metadata"]);
            o.insert("artifact".into(), artifact_out(&v["artifact"]));
            for flag in ["append", "lastChunk"] {
                if v[flag] == true {
                    o.insert(flag.into(), json!(true));
                }
            }
            json!({"artifactUpdate": o})
        }
        _ => json!({"task": task_out(v)}),
    }
}

pub(super) fn copy_out(v: &Value, to: &mut Map<String, Value>, names: &[&str]) {
    for n in names {
        if let Some(x) = v.get(*n).filter(|x| !x.is_null()) {
            to.insert((*n).into(), x.clone());
        }
    }
}

/// A 0.3 Task → the proto's `Task`.
pub fn task_out(v: &Value) -> Value {
    let mut o = Map::new();
    copy_out(v, &mut o, &["id", "contextId", "metadata"]);
    o.insert("status".into(), status_out(&v["status"]));
    for (key, f) in [
        ("artifacts", artifact_out as fn(&Value) -> Value),
        ("history", message_out),
    ] {
        if let Some(items) = v[key].as_array().filter(|a| !a.is_empty()) {
            o.insert(key.into(), items.iter().map(f).collect());
        }
    }
    Value::Object(o)
}

fn status_out(v: &Value) -> Value {
    let mut o = Map::new();
    o.insert("state".into(), json!(state_out(v["state"].as_str())));
    if v["message"].is_object() {
        o.insert("message".into(), message_out(&v["message"]));
    }
    copy_out(v, &mut o, &["timestamp"]);
    Value::Object(o)
}

/// The 0.3 kebab-case state → its proto enum name.
fn state_out(s: Option<&str>) -> &'static str {
    match s {
        Some("submitted") => "TASK_STATE_SUBMITTED",
        Some("working") => "TASK_STATE_WORKING",
        Some("input-required") => "TASK_STATE_INPUT_REQUIRED",
        Some("completed") => "TASK_STATE_COMPLETED",
        Some("canceled") => "TASK_STATE_CANCELLED",
        Some("failed") => "TASK_STATE_FAILED",
        Some("rejected") => "TASK_STATE_REJECTED",
        Some("auth-required") => "TASK_STATE_AUTH_REQUIRED",
        _ => "TASK_STATE_UNSPECIFIED",
    }
}

fn message_out(v: &Value) -> Value {
    let mut o = Map::new();
    copy_out(
        v,
        &mut o,
        &["messageId", "contextId", "taskId", "metadata", "extensions"],
    );
    let role = match v["role"].as_str() {
        Some("agent") => "ROLE_AGENT",
        Some("user") => "ROLE_USER",
        _ => "ROLE_UNSPECIFIED",
    };
    o.insert("role".into(), json!(role));
    o.insert("content".into(), parts_out(&v["parts"]));
    Value::Object(o)
}

fn artifact_out(v: &Value) -> Value {
    let mut o = Map::new();
    copy_out(
        v,
        &mut o,
        &[
            "artifactId",
            "name",
            "description",
            "metadata",
            "extensions",
        ],
    );
    o.insert("parts".into(), parts_out(&v["parts"]));
    Value::Object(o)
}

/// The proto's `Part` has no metadata, and its file no name: those are dropped.
fn parts_out(v: &Value) -> Value {
    let parts = v.as_array().map(Vec::as_slice).unwrap_or_default();
    parts
        .iter()
        .map(|p| match p["kind"].as_str() {
            Some("file") => {
                let f = &p["file"];
                let mut file = Map::new();
                copy_out(f, &mut file, &["mimeType"]);
                if let Some(u) = f.get("uri").filter(|u| !u.is_null()) {
                    file.insert("fileWithUri".into(), u.clone());
                } else if let Some(b) = f.get("bytes").filter(|b| !b.is_null()) {
                    file.insert("fileWithBytes".into(), b.clone());
                }
                json!({"file": file})
            }
            Some("data") => json!({"data": {"data": p["data"]}}),
            _ => json!({"text": p["text"]}),
        })
        .collect()
}

/// A 0.3 `TaskPushNotificationConfig` → the proto's (`name` the resource path).
pub fn push_config_out(v: &Value) -> Value {
    let c = &v["pushNotificationConfig"];
    let mut pnc = Map::new();
    copy_out(c, &mut pnc, &["id", "url", "token"]);
    if c["authentication"].is_object() {
        let mut auth = Map::new();
        copy_out(&c["authentication"], &mut auth, &["schemes", "credentials"]);
        pnc.insert("authentication".into(), Value::Object(auth));
    }
    json!({
        "name": format!(
            "tasks/{}/pushNotificationConfigs/{}",
            v["taskId"].as_str().unwrap_or(""),
            c["id"].as_str().unwrap_or("")
        ),
        "pushNotificationConfig": pnc,
    })
}

/// A `tasks/pushNotificationConfig/list` result → `ListTaskPushNotificationConfigResponse`.
pub fn push_config_list_out(v: &Value) -> Value {
    let configs: Vec<Value> = v
        .as_array()
        .map(|a| a.iter().map(push_config_out).collect())
        .unwrap_or_default();
    json!({ "configs": configs })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_send_request_in_either_spelling_becomes_message_send_params() {
        for body in [
            json!({"message": {"messageId": "m1", "role": "ROLE_USER",
                "content": [{"text": "hi"}, {"file": {"fileWithUri": "https://x/f", "mimeType": "text/plain"}},
                            {"data": {"data": {"a": 1}}}]},
                "configuration": {"acceptedOutputModes": ["text/plain"], "blocking": true}}),
            json!({"request": {"message_id": "m1", "role": "ROLE_USER",
                "content": [{"text": "hi"}, {"file": {"file_with_uri": "https://x/f", "mime_type": "text/plain"}},
                            {"data": {"data": {"a": 1}}}]},
                "configuration": {"accepted_output_modes": ["text/plain"], "blocking": true},
                "unknown": 1}),
        ] {
            assert_eq!(
                send_params(&body).unwrap(),
                json!({
                    "message": {"kind": "message", "messageId": "m1", "role": "user", "parts": [
                        {"kind": "text", "text": "hi"},
                        {"kind": "file", "file": {"uri": "https://x/f", "mimeType": "text/plain"}},
                        {"kind": "data", "data": {"a": 1}},
                    ]},
                    "configuration": {"acceptedOutputModes": ["text/plain"], "blocking": true},
                }),
                "{body}"
            );
        }
    }

    #[test]
    fn bad_send_requests_are_invalid_params_naming_the_member() {
        for (body, says) in [
            (json!({}), "`message` is required"),
            (json!({"message": {"messageId": "m"}}), "`message.role`"),
            (
                json!({"message": {"role": "user", "content": []}}),
                "ROLE_USER",
            ),
            (
                json!({"message": {"role": "ROLE_USER", "content": [{}]}}),
                "`text`, `file` or `data`",
            ),
            (json!([1]), "must be an object"),
        ] {
            let e = send_params(&body).unwrap_err();
            assert!(matches!(e, A2aError::InvalidParams(_)), "{body}: {e:?}");
            assert!(e.to_string().contains(says), "{body}: {e}");
        }
    }

    #[test]
    fn results_carry_only_proto_members_with_proto_enums() {
        let task = json!({"kind": "task", "id": "t", "contextId": "c",
            "status": {"state": "canceled", "timestamp": "2026-01-01T00:00:00Z",
                "message": {"kind": "message", "messageId": "a", "role": "agent",
                    "parts": [{"kind": "text", "text": "bye", "metadata": {"x": 1}}]}},
            "artifacts": [{"artifactId": "r", "parts": [{"kind": "file", "file": {"name": "n", "bytes": "QQ=="}}]}],
            "history": []});
        assert_eq!(
            send_result_out(&task),
            json!({"task": {"id": "t", "contextId": "c",
                "status": {"state": "TASK_STATE_CANCELLED", "timestamp": "2026-01-01T00:00:00Z",
                    "message": {"messageId": "a", "role": "ROLE_AGENT", "content": [{"text": "bye"}]}},
                "artifacts": [{"artifactId": "r", "parts": [{"file": {"fileWithBytes": "QQ=="}}]}]}})
        );
        let update = json!({"kind": "status-update", "taskId": "t", "contextId": "c",
            "status": {"state": "completed"}, "final": true});
        assert_eq!(
            stream_item_out(&update),
            json!({"statusUpdate": {"taskId": "t", "contextId": "c",
                "status": {"state": "TASK_STATE_COMPLETED"}, "final": true}})
        );
    }

    #[test]
    fn push_configs_round_trip_through_the_resource_name() {
        let body = json!({"parent": "tasks/t", "configId": "c1",
            "config": {"name": "tasks/t/pushNotificationConfigs/c1",
                "pushNotificationConfig": {"url": "https://h/x", "token": "k",
                    "authentication": {"schemes": ["Bearer"], "credentials": "s"}}}});
        let params = create_push_params("t", &body).unwrap();
        assert_eq!(
            params,
            json!({"taskId": "t", "pushNotificationConfig": {"id": "c1", "url": "https://h/x",
                "token": "k", "authentication": {"schemes": ["Bearer"], "credentials": "s"}}})
        );
        assert_eq!(
            push_config_out(&params)["name"],
            "tasks/t/pushNotificationConfigs/c1"
        );
        let bare = create_push_params("t", &json!({"url": "https://h/y"})).unwrap();
        assert_eq!(
            bare["pushNotificationConfig"],
            json!({"url": "https://h/y"})
        );
    }
}

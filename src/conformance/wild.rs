//! What clients in the wild send beside the spec's examples: JSON-RPC requests without an
//! `id`, the legacy `tasks/send`-era paths, and 0.3 messages and parts without `kind`.

use serde_json::{Value, json};

use super::probe::{Reply, VERSION_HEADER, mid, msg_v01, msg_v1, msg_v03};
use super::{Check, Checked, Ctx, Miss, Ver, fail, skip};
use crate::{check, ensure};

pub fn checks() -> Vec<Check> {
    vec![
        check!(
            "E05",
            Should,
            All,
            "A request without an id (or with id null) is checked like any other (-32601 for an unknown method, -32602 for bad params) and a valid one is answered with id null.",
            no_id
        ),
        check!(
            "E06",
            May,
            All,
            "The legacy paths {url}/tasks/send, {url}/a2a/tasks/send and {url}/a2a, when served, answer JSON-RPC like the endpoint, every version.",
            legacy_paths
        ),
        check!(
            "E07",
            Should,
            V03,
            "message/send reads a message and parts without kind by the member present (text, file, data); a part with none of them yields -32602.",
            kindless_v03
        ),
    ]
}

/// Posts `body` to `url` with the version header of `ver`.
async fn post(c: &Ctx, url: &str, ver: Ver, body: &Value) -> Result<Reply, Miss> {
    let mut headers = vec![("content-type", "application/json")];
    if ver == Ver::V1 {
        headers.push((VERSION_HEADER, "1.0"));
    }
    c.post_raw(url, body.to_string().into_bytes(), &headers)
        .await
}

/// Fails unless the answer carries `"id": null`.
fn id_is_null(r: &Reply, what: &str) -> Checked {
    let id = r.json.as_ref().and_then(|v| v.get("id"));
    ensure!(
        id == Some(&Value::Null),
        "{what}: id {id:?}, not null, in {}",
        r.describe()
    );
    Ok(())
}

async fn no_id(c: &Ctx) -> Checked {
    let cases = [
        (
            Ver::V1,
            "SendMessage",
            "GetTask",
            msg_v1("tck-message-response"),
        ),
        (
            Ver::V03,
            "message/send",
            "tasks/get",
            msg_v03("tck-message-response"),
        ),
    ];
    for (ver, send, get, msg) in cases {
        if c.speaks.gate(ver).is_some() {
            continue;
        }
        let v = ver.as_str();
        // Without the member, and with `null`.
        for id in [None, Some(Value::Null)] {
            let with_id = |mut body: Value| {
                if let Some(id) = &id {
                    body["id"] = id.clone();
                }
                body
            };
            let unknown = with_id(json!({"jsonrpc": "2.0", "method": "NoSuchMethod/really"}));
            let r = post(c, c.endpoint(ver), ver, &unknown).await?;
            r.expect_error(&[-32601], &format!("{v} unknown method without id"))?;
            id_is_null(&r, "unknown method")?;
            let bad = with_id(json!({"jsonrpc": "2.0", "method": get, "params": {}}));
            let r = post(c, c.endpoint(ver), ver, &bad).await?;
            r.expect_error(
                &[-32602],
                &format!("{v} {get} without a task id nor a request id"),
            )?;
            id_is_null(&r, get)?;
            let ok = with_id(
                json!({"jsonrpc": "2.0", "method": send, "params": {"message": msg.clone()}}),
            );
            let r = post(c, c.endpoint(ver), ver, &ok).await?;
            r.result()
                .map_err(|m| fail(format!("{v} {send} without id: {}", miss_text(m))))?;
            id_is_null(&r, send)?;
        }
    }
    Ok(())
}

fn miss_text(m: Miss) -> String {
    match m {
        Miss::Fail(s) | Miss::Skip(s) => s,
    }
}

const LEGACY_PATHS: [&str; 3] = ["/tasks/send", "/a2a/tasks/send", "/a2a"];

/// One successful call per version the server speaks, as `(version, body)`.
fn legacy_calls(c: &Ctx) -> Vec<(Ver, Value)> {
    let mut calls = Vec::new();
    if c.speaks.v1.is_ok() {
        let m = msg_v1("tck-message-response");
        calls.push((Ver::V1, c.body("SendMessage", json!({"message": m}))));
    }
    if c.speaks.v03.is_ok() {
        let m = msg_v03("tck-message-response");
        calls.push((Ver::V03, c.body("message/send", json!({"message": m}))));
    }
    if c.speaks.v01.is_ok() {
        let p = json!({"id": uuid::Uuid::new_v4().to_string(), "message": msg_v01("tck-complete-task")});
        calls.push((Ver::V01, c.body("tasks/send", p)));
    }
    calls
}

async fn legacy_paths(c: &Ctx) -> Checked {
    // Legacy clients append the paths to the card's url.
    let base = c.endpoint(Ver::V03).trim_end_matches('/');
    let mut missing = Vec::new();
    for path in LEGACY_PATHS {
        let url = format!("{base}{path}");
        for (ver, body) in legacy_calls(c) {
            let r = post(c, &url, ver, &body).await?;
            if r.status == 404 || r.status == 405 {
                missing.push(format!("{path} (HTTP {})", r.status));
                break;
            }
            let what = format!("{} {} at {path}", ver.as_str(), body["method"]);
            r.result()
                .map_err(|m| fail(format!("{what}: {}", miss_text(m))))?;
            ensure!(
                r.json.as_ref().and_then(|v| v.get("id")) == Some(&body["id"]),
                "{what}: the id is not echoed in {}",
                r.describe()
            );
        }
    }
    match missing.len() {
        0 => Ok(()),
        n if n == LEGACY_PATHS.len() => Err(skip("the server serves none of the legacy paths")),
        _ => Err(fail(format!(
            "some legacy paths are served, these not: {}",
            missing.join(", ")
        ))),
    }
}

async fn kindless_v03(c: &Ctx) -> Checked {
    let id = mid("tck-complete-task");
    let message = json!({"role": "user", "messageId": id, "parts": [
        {"text": "hi"},
        {"data": {"a": 1}},
        {"file": {"uri": "https://example.com/x.txt", "mimeType": "text/plain"}},
    ]});
    let r = c
        .rpc(Ver::V03, "message/send", json!({"message": message}))
        .await?;
    let task = r.result()?;
    ensure!(
        task["kind"] == "task",
        "a message without kind got {}",
        r.describe()
    );
    let r = c
        .rpc(Ver::V03, "tasks/get", json!({"id": task["id"]}))
        .await?;
    let history = r.result()?["history"].as_array().cloned();
    let sent = history
        .into_iter()
        .flatten()
        .find(|m| m["messageId"] == id.as_str())
        .ok_or_else(|| fail(format!("the task's history lacks message {id}")))?;
    let kinds: Vec<&Value> = sent["parts"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|p| &p["kind"])
        .collect();
    ensure!(
        kinds == [&json!("text"), &json!("data"), &json!("file")],
        "the parts were read as {kinds:?}, not text, data, file"
    );
    let empty = json!({"role": "user", "messageId": mid("tck-complete-task"),
                       "parts": [{"metadata": {"x": 1}}]});
    let r = c
        .rpc(Ver::V03, "message/send", json!({"message": empty}))
        .await?;
    r.expect_error(&[-32602], "a part with none of text, file, data")
}

//! The HTTP + JSON-RPC envelope: parse errors, invalid requests, ids, content types,
//! limits, batches, and 1.0 version negotiation (`A2A-Version`, `A2A-Extensions`).

use serde_json::{Value, json};

use super::probe::{Reply, VERSION_HEADER, msg_v1, msg_v03};
use super::{Check, Checked, Ctx, Ver, fail};
use crate::{check, ensure};

pub fn checks() -> Vec<Check> {
    vec![
        check!(
            "R09",
            Must,
            All,
            "A body that is not valid JSON yields -32700 with id null.",
            parse_error
        ),
        check!(
            "R10",
            Must,
            All,
            "Valid JSON that is not a JSON-RPC request (wrong or missing jsonrpc, no method, non-object params) yields -32600.",
            invalid_request
        ),
        check!(
            "R11",
            Must,
            All,
            "An unknown method yields -32601 with the request's id echoed.",
            unknown_method
        ),
        check!(
            "R12-v1",
            Must,
            V1,
            "Every 1.0 response echoes the request id with the same JSON type.",
            |c| ids_echoed(c, Ver::V1)
        ),
        check!(
            "R12-v03",
            Must,
            V03,
            "Every 0.3 response echoes the request id with the same JSON type.",
            |c| ids_echoed(c, Ver::V03)
        ),
        check!(
            "R12-v01",
            Must,
            V01,
            "Every 0.1 response echoes the request id with the same JSON type.",
            |c| ids_echoed(c, Ver::V01)
        ),
        check!(
            "R13-v1",
            Must,
            V1,
            "A 1.0 response has jsonrpc \"2.0\" and exactly one of result/error.",
            |c| envelope_shape(c, Ver::V1)
        ),
        check!(
            "R13-v03",
            Must,
            V03,
            "A 0.3 response has jsonrpc \"2.0\" and exactly one of result/error.",
            |c| envelope_shape(c, Ver::V03)
        ),
        check!(
            "R13-v01",
            Must,
            V01,
            "A 0.1 response has jsonrpc \"2.0\" and exactly one of result/error.",
            |c| envelope_shape(c, Ver::V01)
        ),
        check!(
            "R14-v1",
            Must,
            V1,
            "Non-streaming 1.0 responses use Content-Type application/json.",
            |c| json_content_type(c, Ver::V1)
        ),
        check!(
            "R14-v03",
            Must,
            V03,
            "Non-streaming 0.3 responses use Content-Type application/json.",
            |c| json_content_type(c, Ver::V03)
        ),
        check!(
            "R14-v01",
            Must,
            V01,
            "Non-streaming 0.1 responses use Content-Type application/json.",
            |c| json_content_type(c, Ver::V01)
        ),
        check!(
            "E02",
            Should,
            All,
            "A request with a non-JSON Content-Type (text/plain) is refused with HTTP 415 and -32005.",
            content_type_refused
        ),
        check!(
            "E03",
            Should,
            All,
            "An oversized body (8 MiB) is refused with HTTP 413 before it is parsed.",
            body_limit
        ),
        check!(
            "E04",
            Should,
            All,
            "A JSON-RPC batch (A2A defines none) is refused with one -32600 error.",
            batch_refused
        ),
    ]
}

/// Both header styles, for checks that hold for every version.
const STYLES: [Ver; 2] = [Ver::V1, Ver::V03];

async fn post_text(c: &Ctx, ver: Ver, body: &str) -> Result<Reply, super::Miss> {
    let mut headers = vec![("content-type", "application/json")];
    if ver == Ver::V1 {
        headers.push((VERSION_HEADER, "1.0"));
    }
    c.post_raw(c.endpoint(ver), body.as_bytes().to_vec(), &headers)
        .await
}

async fn parse_error(c: &Ctx) -> Checked {
    for ver in STYLES {
        let r = post_text(c, ver, r#"{"jsonrpc": "2.0", "id": 1, "method": "#).await?;
        r.expect_error(&[-32700], "truncated JSON")?;
        let id = r.json.as_ref().and_then(|v| v.get("id"));
        ensure!(id == Some(&Value::Null), "id is {:?}, not null", id);
    }
    Ok(())
}

async fn invalid_request(c: &Ctx) -> Checked {
    let cases = [
        (
            "jsonrpc 1.0",
            json!({"jsonrpc": "1.0", "id": 1, "method": "tasks/get", "params": {"id": "x"}}),
        ),
        (
            "no jsonrpc",
            json!({"id": 1, "method": "tasks/get", "params": {"id": "x"}}),
        ),
        (
            "no method",
            json!({"jsonrpc": "2.0", "id": 1, "params": {"id": "x"}}),
        ),
        (
            "params is a string",
            json!({"jsonrpc": "2.0", "id": 1, "method": "tasks/get", "params": "x"}),
        ),
        ("a bare number", json!(42)),
    ];
    for (what, body) in cases {
        let r = post_text(c, Ver::V03, &body.to_string()).await?;
        r.expect_error(&[-32600], what)?;
    }
    let body = json!({"jsonrpc": "2.0", "id": 1, "params": {"id": "x"}});
    let r = post_text(c, Ver::V1, &body.to_string()).await?;
    r.expect_error(&[-32600], "no method (with A2A-Version: 1.0)")
}

async fn unknown_method(c: &Ctx) -> Checked {
    for (ver, id) in [(Ver::V1, json!("u-1")), (Ver::V03, json!(77))] {
        let body =
            json!({"jsonrpc": "2.0", "id": id, "method": "NoSuchMethod/really", "params": {}});
        let r = c.post_json(ver, &body, &[]).await?;
        r.expect_error(&[-32601], "unknown method")?;
        let got = r.json.as_ref().and_then(|v| v.get("id"));
        ensure!(got == Some(&id), "id {id} came back as {:?}", got);
    }
    Ok(())
}

/// A successful and a failing call of `ver`, each with a string and a numeric id.
async fn samples(c: &Ctx, ver: Ver) -> Result<Vec<(Value, Reply)>, super::Miss> {
    let (ok_method, ok_params, err_method) = match ver {
        Ver::V1 => (
            "SendMessage",
            json!({"message": msg_v1("tck-message-response")}),
            "GetTask",
        ),
        Ver::V03 => (
            "message/send",
            json!({"message": msg_v03("tck-message-response")}),
            "tasks/get",
        ),
        _ => (
            "tasks/send",
            json!({"id": uuid::Uuid::new_v4().to_string(), "message": super::probe::msg_v01("tck-complete-task")}),
            "tasks/get",
        ),
    };
    let mut out = Vec::new();
    for id in [json!("conf-id-1"), json!(4242)] {
        for (method, params) in [
            (ok_method, ok_params.clone()),
            (err_method, json!({"id": "no-such-task"})),
        ] {
            let mut params = params;
            if ver == Ver::V01 && method == "tasks/send" {
                params["id"] = json!(uuid::Uuid::new_v4().to_string());
            }
            let body = json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params});
            out.push((id.clone(), c.post_json(ver, &body, &[]).await?));
        }
    }
    Ok(out)
}

async fn ids_echoed(c: &Ctx, ver: Ver) -> Checked {
    for (id, r) in samples(c, ver).await? {
        let got = r.json.as_ref().and_then(|v| v.get("id"));
        ensure!(
            got == Some(&id),
            "sent id {id}, got back {:?} in {}",
            got,
            r.describe()
        );
    }
    Ok(())
}

async fn envelope_shape(c: &Ctx, ver: Ver) -> Checked {
    let mut saw = (false, false);
    for (_, r) in samples(c, ver).await? {
        let v = r.json.as_ref().ok_or_else(|| fail(r.describe()))?;
        ensure!(
            v["jsonrpc"] == "2.0",
            "jsonrpc is {} in {}",
            v["jsonrpc"],
            r.describe()
        );
        let (has_result, has_error) = (v.get("result").is_some(), v.get("error").is_some());
        ensure!(
            has_result != has_error,
            "not exactly one of result/error: {}",
            r.describe()
        );
        if let Some(e) = v.get("error") {
            ensure!(
                e["code"].is_i64() && e["message"].is_string(),
                "error without integer code and string message: {}",
                r.describe()
            );
        }
        saw = (saw.0 || has_result, saw.1 || has_error);
    }
    ensure!(
        saw.0,
        "no sample call succeeded (nothing to check results on)"
    );
    ensure!(saw.1, "no sample call failed (nothing to check errors on)");
    Ok(())
}

async fn json_content_type(c: &Ctx, ver: Ver) -> Checked {
    for (_, r) in samples(c, ver).await? {
        let ct = r.header("content-type").unwrap_or_default();
        ensure!(
            ct.to_ascii_lowercase().starts_with("application/json"),
            "Content-Type `{ct}` on {}",
            r.describe()
        );
    }
    Ok(())
}

async fn content_type_refused(c: &Ctx) -> Checked {
    let body = c.body("GetTask", json!({"id": "no-such-task"}));
    let r = c
        .post_raw(
            &c.endpoint_v1,
            body.to_string().into_bytes(),
            &[("content-type", "text/plain"), (VERSION_HEADER, "1.0")],
        )
        .await?;
    ensure!(
        r.status == 415,
        "HTTP {} (not 415): {}",
        r.status,
        r.describe()
    );
    r.expect_error(&[-32005], "text/plain request")
}

async fn body_limit(c: &Ctx) -> Checked {
    let pad = "x".repeat(8 << 20);
    let mut msg = msg_v1("tck-complete-task");
    msg["parts"][0]["text"] = json!(pad);
    let body = c.body("SendMessage", json!({"message": msg}));
    let url = url::Url::parse(&c.endpoint_v1).map_err(|e| fail(format!("endpoint: {e}")))?;
    if url.scheme() != "http" {
        // Over TLS, go through reqwest (a server closing early may look like no answer).
        let r = c.post_json(Ver::V1, &body, &[]).await?;
        ensure!(r.status == 413, "an 8 MiB body got {}", r.describe());
        return Ok(());
    }
    let status = upload_status(&url, body.to_string().into_bytes()).await?;
    ensure!(status == 413, "an 8 MiB body got HTTP {status}");
    Ok(())
}

/// POSTs `body` over a plain TCP connection while reading the answer, so a server that
/// answers 413 and closes before the upload ends is still heard.
async fn upload_status(url: &url::Url, body: Vec<u8>) -> Result<u16, super::Miss> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let host = url.host_str().unwrap_or("127.0.0.1");
    let port = url.port_or_known_default().unwrap_or(80);
    let stream = tokio::net::TcpStream::connect((host, port))
        .await
        .map_err(|e| fail(format!("connect {host}:{port}: {e}")))?;
    let (mut rd, mut wr) = stream.into_split();
    let head = format!(
        "POST {} HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: application/json\r\n\
         {VERSION_HEADER}: 1.0\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        url.path(),
        body.len()
    );
    let upload = tokio::spawn(async move {
        // Write errors are expected once the server has answered and closed.
        let _ = wr.write_all(head.as_bytes()).await;
        let _ = wr.write_all(&body).await;
        wr
    });
    let mut buf = [0u8; 64];
    let mut got = 0;
    let read = async {
        while got < 12 {
            match rd.read(&mut buf[got..]).await {
                Ok(0) | Err(_) => break,
                Ok(n) => got += n,
            }
        }
    };
    let timed_out = tokio::time::timeout(std::time::Duration::from_secs(30), read)
        .await
        .is_err();
    upload.abort();
    let line = String::from_utf8_lossy(&buf[..got]).into_owned();
    let status = line.get(9..12).and_then(|s| s.parse::<u16>().ok());
    match status {
        Some(s) if line.starts_with("HTTP/1.") => Ok(s),
        _ if timed_out => Err(fail("no answer to an 8 MiB body within 30 s")),
        _ => Err(fail(format!(
            "no HTTP status line in answer to an 8 MiB body: {line:?}"
        ))),
    }
}

async fn batch_refused(c: &Ctx) -> Checked {
    let one = c.body("GetTask", json!({"id": "no-such-task"}));
    let r = c.post_json(Ver::V1, &json!([one]), &[]).await?;
    ensure!(
        r.json.as_ref().is_some_and(Value::is_object),
        "the batch got {} (not one error object)",
        r.describe()
    );
    r.expect_error(&[-32600], "a batch")
}

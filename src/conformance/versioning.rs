//! 1.0 version negotiation and extensions: `A2A-Version` (header, query, patch, absent,
//! unsupported), `A2A-Extensions`, and 1.0 error details.

use serde_json::json;

use super::probe::{VERSION_HEADER, msg_v1, msg_v03};
use super::{Check, Checked, Ctx, Ver, fail, skip};
use crate::{check, ensure};

pub fn checks() -> Vec<Check> {
    vec![
        check!(
            "R16-v1",
            Should,
            V1,
            "A2A errors carry a google.rpc.ErrorInfo (reason, domain a2a-protocol.org) in error.data.",
            error_info
        ),
        check!(
            "R17-v1",
            Must,
            V1,
            "A 0.3 method name sent with A2A-Version: 1.0 yields -32601.",
            old_method_with_header
        ),
        check!(
            "R18-v1",
            Must,
            V1,
            "A request with A2A-Version: 1.0 is processed with 1.0 semantics.",
            header_selects_v1
        ),
        check!(
            "R19-v1",
            Must,
            V1,
            "An unsupported A2A-Version (0.5) yields -32009.",
            unsupported_version
        ),
        check!(
            "R20-v1",
            Must,
            V1,
            "A request without A2A-Version is treated as 0.3 (0.3 semantics, or -32009 from a 1.0-only server).",
            no_header_means_v03
        ),
        check!(
            "R21-v1",
            Must,
            V1,
            "A2A-Version: 1.0.7 (with a patch) is treated as 1.0.",
            patch_ignored
        ),
        check!(
            "R22-v1",
            Should,
            V1,
            "A2A-Version given as query parameter is honoured like the header.",
            version_query_param
        ),
        check!(
            "R23-v1",
            Must,
            V1,
            "A request that does not activate an extension the card marks required yields -32008.",
            required_extension
        ),
        check!(
            "R24-v1",
            Should,
            V1,
            "An unsupported optional extension in A2A-Extensions is ignored.",
            unknown_extension_ignored
        ),
    ]
}
async fn error_info(c: &Ctx) -> Checked {
    let r = c
        .rpc(Ver::V1, "GetTask", json!({"id": "no-such-task"}))
        .await?;
    r.expect_error(&[-32001], "GetTask of an unknown id")?;
    let data = &r
        .json
        .as_ref()
        .map(|v| v["error"]["data"].clone())
        .unwrap_or_default();
    let info = data.as_array().and_then(|a| {
        a.iter()
            .find(|d| d["@type"] == "type.googleapis.com/google.rpc.ErrorInfo")
    });
    let info = info.ok_or_else(|| fail(format!("error.data has no ErrorInfo: {data}")))?;
    ensure!(
        info["reason"] == "TASK_NOT_FOUND",
        "reason is {}",
        info["reason"]
    );
    ensure!(
        info["domain"] == "a2a-protocol.org",
        "domain is {}",
        info["domain"]
    );
    Ok(())
}

async fn old_method_with_header(c: &Ctx) -> Checked {
    let r = c
        .rpc(
            Ver::V1,
            "message/send",
            json!({"message": msg_v03("tck-complete-task")}),
        )
        .await?;
    r.expect_error(&[-32601], "message/send with A2A-Version: 1.0")
}

async fn header_selects_v1(c: &Ctx) -> Checked {
    let r = c
        .rpc(
            Ver::V1,
            "SendMessage",
            json!({"message": msg_v1("tck-complete-task")}),
        )
        .await?;
    let task = r
        .result()?
        .get("task")
        .ok_or_else(|| fail(format!("no result.task: {}", r.describe())))?;
    let state = task["status"]["state"].as_str().unwrap_or_default();
    ensure!(
        state.starts_with("TASK_STATE_"),
        "state `{state}` is not a 1.0 enum name"
    );
    Ok(())
}

async fn unsupported_version(c: &Ctx) -> Checked {
    let body = c.body("GetTask", json!({"id": "x"}));
    let r = c
        .post_json(Ver::V03, &body, &[(VERSION_HEADER, "0.5")])
        .await?;
    r.expect_error(&[-32009], "A2A-Version: 0.5")
}

async fn no_header_means_v03(c: &Ctx) -> Checked {
    let r = c
        .rpc(
            Ver::V03,
            "message/send",
            json!({"message": msg_v03("tck-complete-task")}),
        )
        .await?;
    if c.speaks.v03.is_err() {
        return r.expect_error(&[-32009], "a 1.0-only server answering a header-less call");
    }
    let res = r.result()?;
    ensure!(
        res["kind"] == "task",
        "no 0.3 Task (kind task): {}",
        r.describe()
    );
    Ok(())
}

async fn patch_ignored(c: &Ctx) -> Checked {
    let body = c.body("GetTask", json!({"id": "no-such-task"}));
    let r = c
        .post_json(Ver::V03, &body, &[(VERSION_HEADER, "1.0.7")])
        .await?;
    r.expect_error(&[-32001], "GetTask with A2A-Version: 1.0.7")
}

async fn version_query_param(c: &Ctx) -> Checked {
    let sep = if c.endpoint_v1.contains('?') {
        '&'
    } else {
        '?'
    };
    let url = format!("{}{sep}A2A-Version=1.0", c.endpoint_v1);
    let body = c.body("GetTask", json!({"id": "no-such-task"}));
    let r = c
        .post_raw(
            &url,
            body.to_string().into_bytes(),
            &[("content-type", "application/json")],
        )
        .await?;
    r.expect_error(&[-32001], "GetTask with ?A2A-Version=1.0")
}

async fn required_extension(c: &Ctx) -> Checked {
    let card = c.card()?;
    let required = card["capabilities"]["extensions"]
        .as_array()
        .and_then(|a| a.iter().find(|e| e["required"] == true).cloned());
    let Some(ext) = required else {
        return Err(skip("the card declares no required extension"));
    };
    let r = c
        .rpc(
            Ver::V1,
            "SendMessage",
            json!({"message": msg_v1("tck-complete-task")}),
        )
        .await?;
    r.expect_error(
        &[-32008],
        &format!("SendMessage without required extension {}", ext["uri"]),
    )
}

async fn unknown_extension_ignored(c: &Ctx) -> Checked {
    let body = c.body(
        "SendMessage",
        json!({"message": msg_v1("tck-complete-task")}),
    );
    let r = c
        .post_json(
            Ver::V1,
            &body,
            &[("A2A-Extensions", "urn:a2a-conformance:no-such-extension")],
        )
        .await?;
    r.result()?;
    Ok(())
}

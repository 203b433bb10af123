//! 1.0 `ListTasks`: visibility, order, paging, filters, artifacts.
//!
//! Each check makes its own tasks in a fresh context and filters by it, so other checks
//! running at the same time do not disturb the data set.

use std::collections::HashSet;

use serde_json::{Value, json};

use super::probe::msg_v1;
use super::v1::{s, send, task_of};
use super::{Check, Checked, Ctx, Miss, Ver, fail};
use crate::{check, ensure};

pub fn checks() -> Vec<Check> {
    vec![
        check!(
            "R47-v1",
            Must,
            V1,
            "ListTasks returns tasks newest status timestamp first, with nextPageToken (\"\" on the last page), pageSize and totalSize.",
            list_shape
        ),
        check!(
            "R48-v1",
            Must,
            V1,
            "ListTasks without pageSize returns at most 50 tasks.",
            default_page
        ),
        check!(
            "R48b-v1",
            Should,
            V1,
            "A pageSize outside 1..100 (150) is rejected with -32602 (or clamped to at most 100).",
            page_size_bounds
        ),
        check!(
            "R48c-v1",
            Should,
            V1,
            "A pageSize of 0 or below is rejected with -32602 (the minimum is 1; 0 does not mean unset).",
            page_size_minimum
        ),
        check!(
            "R49-v1",
            Must,
            V1,
            "Paging with pageToken yields every task exactly once.",
            paging
        ),
        check!(
            "R50-v1",
            Must,
            V1,
            "Without includeArtifacts: true, listed tasks have no artifacts field.",
            no_artifacts
        ),
        check!(
            "R51-v1",
            Must,
            V1,
            "The contextId, status and statusTimestampAfter filters apply; an invalid status yields -32602.",
            filters
        ),
    ]
}

/// `n` tasks made one after another in a fresh context with message prefix `prefix`.
async fn tasks_in_context(c: &Ctx, n: usize, prefix: &str) -> Result<(String, Vec<Value>), Miss> {
    let ctx_id = uuid::Uuid::new_v4().to_string();
    let mut out = Vec::new();
    for _ in 0..n {
        let mut m = msg_v1(prefix);
        m["contextId"] = json!(ctx_id);
        out.push(task_of(&send(c, m, None).await?)?);
    }
    Ok((ctx_id, out))
}

async fn list(c: &Ctx, params: Value) -> Result<Value, Miss> {
    let r = c.rpc(Ver::V1, "ListTasks", params).await?;
    let res = r.result()?;
    ensure!(res["tasks"].is_array(), "no tasks array: {}", r.describe());
    Ok(res.clone())
}

fn ids(list: &Value) -> Vec<String> {
    list["tasks"]
        .as_array()
        .map(|a| a.iter().map(|t| s(t, "id")).collect())
        .unwrap_or_default()
}

async fn list_shape(c: &Ctx) -> Checked {
    let (ctx_id, made) = tasks_in_context(c, 3, "tck-complete-task").await?;
    let res = list(c, json!({"contextId": ctx_id})).await?;
    let got = ids(&res);
    ensure!(
        got.len() == made.len(),
        "listed {} of the {} tasks in the context",
        got.len(),
        made.len()
    );
    ensure!(
        res["nextPageToken"] == "",
        "nextPageToken on the only page is {}",
        res["nextPageToken"]
    );
    ensure!(res["pageSize"].is_number(), "no pageSize: {res}");
    ensure!(
        res["totalSize"] == json!(made.len()),
        "totalSize {} for {} tasks",
        res["totalSize"],
        made.len()
    );
    let stamps: Vec<String> = res["tasks"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|t| {
            t["status"]["timestamp"]
                .as_str()
                .unwrap_or_default()
                .to_string()
        })
        .collect();
    let parsed: Vec<_> = stamps
        .iter()
        .map(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
        .collect();
    ensure!(
        parsed.iter().all(Option::is_some),
        "status timestamps missing or invalid: {stamps:?}"
    );
    ensure!(
        parsed.windows(2).all(|w| w[0] >= w[1]),
        "not newest first: {stamps:?}"
    );
    Ok(())
}

async fn default_page(c: &Ctx) -> Checked {
    let (ctx_id, _) = tasks_in_context(c, 51, "tck-complete-task").await?;
    let res = list(c, json!({"contextId": ctx_id})).await?;
    let n = ids(&res).len();
    ensure!(n <= 50, "returned {n} tasks without pageSize");
    ensure!(
        res["nextPageToken"].as_str().is_some_and(|t| !t.is_empty()),
        "51 tasks in one page of {n} but nextPageToken is {}",
        res["nextPageToken"]
    );
    Ok(())
}

async fn page_size_bounds(c: &Ctx) -> Checked {
    let r = c
        .rpc(Ver::V1, "ListTasks", json!({"pageSize": 150}))
        .await?;
    if r.error_code() == Some(-32602) {
        return Ok(());
    }
    let res = r.result()?;
    let n = res["tasks"].as_array().map_or(0, Vec::len);
    ensure!(
        n <= 100 && res["pageSize"].as_i64().is_some_and(|p| p <= 100),
        "pageSize 150 neither refused nor clamped: pageSize {}, {n} tasks",
        res["pageSize"]
    );
    Ok(())
}

async fn page_size_minimum(c: &Ctx) -> Checked {
    for n in [0, -1] {
        let r = c.rpc(Ver::V1, "ListTasks", json!({"pageSize": n})).await?;
        r.expect_error(&[-32602], &format!("ListTasks with pageSize {n}"))?;
    }
    Ok(())
}

async fn paging(c: &Ctx) -> Checked {
    let (ctx_id, made) = tasks_in_context(c, 5, "tck-complete-task").await?;
    let mut seen = Vec::new();
    let mut token = String::new();
    for _ in 0..10 {
        let mut p = json!({"contextId": ctx_id, "pageSize": 2});
        if !token.is_empty() {
            p["pageToken"] = json!(token);
        }
        let res = list(c, p).await?;
        let page = ids(&res);
        ensure!(page.len() <= 2, "a page of size 2 held {}", page.len());
        seen.extend(page);
        token = res["nextPageToken"]
            .as_str()
            .ok_or_else(|| fail(format!("no nextPageToken: {res}")))?
            .to_string();
        if token.is_empty() {
            break;
        }
    }
    let unique: HashSet<&String> = seen.iter().collect();
    ensure!(
        unique.len() == seen.len(),
        "duplicates across pages: {seen:?}"
    );
    let want: HashSet<String> = made.iter().map(|t| s(t, "id")).collect();
    let got: HashSet<String> = seen.into_iter().collect();
    ensure!(
        got == want,
        "paged through {} tasks, made {}",
        got.len(),
        want.len()
    );
    Ok(())
}

async fn no_artifacts(c: &Ctx) -> Checked {
    let (ctx_id, _) = tasks_in_context(c, 1, "tck-artifact-text").await?;
    let res = list(c, json!({"contextId": ctx_id})).await?;
    for t in res["tasks"].as_array().into_iter().flatten() {
        ensure!(
            t.get("artifacts").is_none(),
            "artifacts listed without includeArtifacts: {}",
            t["artifacts"]
        );
    }
    Ok(())
}

async fn filters(c: &Ctx) -> Checked {
    let (ctx_id, done) = tasks_in_context(c, 1, "tck-complete-task").await?;
    let mut m = msg_v1("tck-input-required");
    m["contextId"] = json!(ctx_id);
    task_of(&send(c, m, None).await?)?;
    let res = list(
        c,
        json!({"contextId": ctx_id, "status": "TASK_STATE_COMPLETED"}),
    )
    .await?;
    ensure!(
        ids(&res) == vec![s(&done[0], "id")],
        "status filter returned {:?}",
        ids(&res)
    );
    let res = list(
        c,
        json!({"contextId": ctx_id, "statusTimestampAfter": "2999-01-01T00:00:00Z"}),
    )
    .await?;
    ensure!(
        ids(&res).is_empty(),
        "statusTimestampAfter 2999 returned {:?}",
        ids(&res)
    );
    let res = list(
        c,
        json!({"contextId": ctx_id, "statusTimestampAfter": "2000-01-01T00:00:00Z"}),
    )
    .await?;
    ensure!(
        ids(&res).len() == 2,
        "statusTimestampAfter 2000 returned {:?}",
        ids(&res)
    );
    let r = c
        .rpc(
            Ver::V1,
            "ListTasks",
            json!({"status": "TASK_STATE_NO_SUCH_STATE"}),
        )
        .await?;
    r.expect_error(&[-32602], "an invalid status filter")
}

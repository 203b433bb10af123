//! 1.0: every task method on A's live (input-required) and terminal tasks, by each of the
//! others; the `tenant` field naming another tenant; listings.

use serde_json::{Value, json};

use crate::harness::{Made, OTHERS, Probe, Server, V, Who, assert_no_secrets, msg_v1, random_id};
use crate::webhook::Receiver;

every_store!(every_method_refuses_others);
every_store!(tenant_field_naming_another_tenant);
every_store!(listings_show_only_own_tasks);

/// A's two tasks (live and terminal) with a webhook on the live one, and what must never
/// reach another caller.
struct Owned {
    live: Made,
    done: Made,
    secrets: Vec<String>,
    _hook: Receiver,
}

async fn a_owns(s: &Server) -> Owned {
    let text = format!("alice-secret-{}", uuid::Uuid::new_v4());
    let live = s.send_v1(Who::A, "m", &text).await;
    let done = s.send_v1(Who::A, "tck-complete-task", &text).await;
    let hook = Receiver::start().await;
    let url = hook.url("/alice-hook");
    let r = s
        .rpc(
            Who::A,
            V::V1,
            "CreateTaskPushNotificationConfig",
            json!({"taskId": live.id, "id": "a-hook", "url": url, "token": "alice-token"}),
        )
        .await;
    assert_eq!(r.result()["id"], "a-hook", "{:?}", r.body);
    let secrets = vec![
        live.id.clone(),
        done.id.clone(),
        live.context.clone(),
        done.context.clone(),
        text,
        url,
        "alice-token".into(),
    ];
    Owned {
        live,
        done,
        secrets,
        _hook: hook,
    }
}

fn with_task(message: Value, task_id: &str) -> Value {
    let mut m = message;
    m["taskId"] = json!(task_id);
    json!({ "message": m })
}

type Params = Box<dyn Fn(&str) -> Value>;

/// The id-taking calls of 1.0, as (method, params for an id, extra headers), with
/// `tenant` set in the params when given.
fn calls(tenant: Option<&str>) -> Vec<Probe<Params>> {
    let tenant = tenant.map(str::to_string);
    let mut out: Vec<Probe<Params>> = Vec::new();
    let mut add = |method: &'static str, headers: crate::harness::Headers, f: fn(&str) -> Value| {
        let tenant = tenant.clone();
        let params: Params = Box::new(move |id: &str| {
            let mut v = f(id);
            if let Some(t) = &tenant {
                v["tenant"] = json!(t);
            }
            v
        });
        out.push((method, params, headers));
    };
    add("GetTask", vec![], |id| json!({"id": id}));
    add("CancelTask", vec![], |id| json!({"id": id}));
    add("SubscribeToTask", vec![], |id| json!({"id": id}));
    add(
        "SubscribeToTask",
        vec![("Last-Event-ID", "1")],
        |id| json!({"id": id}),
    );
    add("SendMessage", vec![], |id| {
        with_task(msg_v1("m", "b follows up"), id)
    });
    add("SendStreamingMessage", vec![], |id| {
        with_task(msg_v1("m", "b streams"), id)
    });
    add("SendMessage", vec![], refers);
    add("SendStreamingMessage", vec![], refers);
    add(
        "CreateTaskPushNotificationConfig",
        vec![],
        |id| json!({"taskId": id, "id": "b-hook", "url": "http://127.0.0.1:9/b"}),
    );
    add(
        "CreateTaskPushNotificationConfig",
        vec![],
        |id| json!({"taskId": id, "id": "a-hook", "url": "http://127.0.0.1:9/b"}),
    );
    add(
        "GetTaskPushNotificationConfig",
        vec![],
        |id| json!({"taskId": id, "id": "a-hook"}),
    );
    add(
        "ListTaskPushNotificationConfigs",
        vec![],
        |id| json!({"taskId": id}),
    );
    add(
        "DeleteTaskPushNotificationConfig",
        vec![],
        |id| json!({"taskId": id, "id": "a-hook"}),
    );
    out
}

/// A new message whose `referenceTaskIds` names `id`.
fn refers(id: &str) -> Value {
    let mut m = msg_v1("m", "b refers");
    m["referenceTaskIds"] = json!([id]);
    json!({ "message": m })
}

/// A's task and push config after the others' attempts: as A left them.
async fn a_unchanged(s: &Server, o: &Owned, live_before: &(String, usize)) {
    assert_eq!(
        &s.state_of(Who::A, &o.live.id).await,
        live_before,
        "{}",
        s.kind
    );
    assert_eq!(
        s.state_of(Who::A, &o.done.id).await.0,
        "TASK_STATE_COMPLETED"
    );
    let r = s
        .rpc(
            Who::A,
            V::V1,
            "ListTaskPushNotificationConfigs",
            json!({"taskId": o.live.id}),
        )
        .await;
    let configs = r.result()["configs"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let ids: Vec<_> = configs.iter().map(|c| c["id"].clone()).collect();
    assert_eq!(ids, vec![json!("a-hook")], "{}: {:?}", s.kind, r.body);
    assert!(
        configs[0]["url"].as_str().unwrap().ends_with("/alice-hook"),
        "{configs:?}"
    );
}

async fn every_method_refuses_others(s: &Server) {
    let o = a_owns(s).await;
    let secrets: Vec<&str> = o.secrets.iter().map(String::as_str).collect();
    let before = s.state_of(Who::A, &o.live.id).await;
    assert_eq!(before.0, "TASK_STATE_INPUT_REQUIRED");
    // Positive controls: A itself reaches both tasks (a refusal of everyone would pass
    // the comparisons below).
    let sub = s
        .rpc(Who::A, V::V1, "SubscribeToTask", json!({"id": o.live.id}))
        .await;
    assert!(sub.sse, "{}: {:?}", s.kind, sub.body);
    assert_eq!(
        sub.result()["task"]["id"],
        o.live.id.as_str(),
        "{:?}",
        sub.body
    );
    let replay = s
        .rpc_with(
            Who::A,
            V::V1,
            "SubscribeToTask",
            json!({"id": o.done.id}),
            &[("Last-Event-ID", "0")],
        )
        .await;
    assert!(replay.sse, "{}: {:?}", s.kind, replay.body);
    let got = s
        .rpc(
            Who::A,
            V::V1,
            "GetTaskPushNotificationConfig",
            json!({"taskId": o.live.id, "id": "a-hook"}),
        )
        .await;
    assert_eq!(got.result()["id"], "a-hook", "{:?}", got.body);

    for who in OTHERS {
        for target in [&o.live, &o.done] {
            for (method, params, headers) in calls(None) {
                s.assert_unknown(
                    who,
                    V::V1,
                    method,
                    &target.id,
                    &random_id(),
                    &*params,
                    &headers,
                    &secrets,
                )
                .await;
            }
        }
    }
    a_unchanged(s, &o, &before).await;
}

async fn tenant_field_naming_another_tenant(s: &Server) {
    let o = a_owns(s).await;
    let secrets: Vec<&str> = o.secrets.iter().map(String::as_str).collect();
    let before = s.state_of(Who::A, &o.live.id).await;
    // T2 has tasks of its own, so tenant t2 is not empty.
    s.send_v1(Who::T2, "m", "alice in t2").await;
    // A naming its own tenant explicitly is A's scope.
    let own = s
        .rpc(
            Who::A,
            V::V1,
            "GetTask",
            json!({"id": o.live.id, "tenant": "t1"}),
        )
        .await;
    assert_eq!(own.result()["id"], o.live.id.as_str(), "{:?}", own.body);
    // A's tasks asked for in tenant t2 (A is alice of t1), and by alice of t2 in tenant
    // t1 (the same owner name, the tenant A's tasks live in), and by B and anonymous in
    // t2: each answers as an unknown id in the caller's own tenant.
    let cases = [
        (Who::A, "t2"),
        (Who::T2, "t1"),
        (Who::B, "t2"),
        (Who::Anon, "t1"),
    ];
    for (who, tenant) in cases {
        let foreign = calls(Some(tenant));
        let plain = calls(None);
        for ((method, fparams, headers), (_, mparams, _)) in foreign.iter().zip(&plain) {
            for target in [&o.live, &o.done] {
                // As an unknown id in that tenant...
                let missing = random_id();
                s.assert_unknown(
                    who,
                    V::V1,
                    method,
                    &target.id,
                    &missing,
                    &**fparams,
                    headers,
                    &secrets,
                )
                .await;
                // ...and, for calls on a task, as an unknown id in the caller's own. (A
                // new message whose references are in another tenant is refused for the
                // tenant, `no task in tenant`, whatever it references.)
                let refers = fparams("x")["message"].get("referenceTaskIds").is_some();
                if !refers {
                    s.assert_same(
                        who,
                        V::V1,
                        method,
                        (&target.id, fparams(&target.id)),
                        (&missing, mparams(&missing)),
                        headers,
                        &secrets,
                    )
                    .await;
                }
            }
        }
        // A send into another tenant that names no task, and a listing there: refused
        // the same whether or not the tenant exists.
        for method in ["SendMessage", "ListTasks"] {
            let params = |t: &str| match method {
                "ListTasks" => json!({"tenant": t}),
                _ => json!({"tenant": t, "message": msg_v1("m", "into another tenant")}),
            };
            let nowhere = format!("t-{}", uuid::Uuid::new_v4().simple());
            let f = s.rpc(who, V::V1, method, params(tenant)).await;
            let m = s.rpc(who, V::V1, method, params(&nowhere)).await;
            assert_eq!(
                f.code(),
                Some(-32001),
                "{} {who:?} {method}: {:?}",
                s.kind,
                f.body
            );
            assert_eq!(
                crate::harness::shape(&f.body, tenant),
                crate::harness::shape(&m.body, &nowhere),
                "{} {who:?} {method}",
                s.kind
            );
            assert_no_secrets(method, &f.body, tenant, &secrets);
        }
    }
    a_unchanged(s, &o, &before).await;
}

fn ids(page: &Value) -> Vec<String> {
    page["tasks"]
        .as_array()
        .unwrap_or_else(|| panic!("a task list: {page}"))
        .iter()
        .map(|t| t["id"].as_str().unwrap().to_string())
        .collect()
}

async fn listings_show_only_own_tasks(s: &Server) {
    let o = a_owns(s).await;
    // B's own task is in A's context, by B's choice: that id may show in B's listing.
    let list_secrets: Vec<&str> = o
        .secrets
        .iter()
        .filter(|x| **x != o.live.context)
        .map(String::as_str)
        .collect();
    // Each other caller has one task of its own, input-required like A's live one; B's is
    // in A's context (a context id is not a key to another's tasks).
    let mut own = Vec::new();
    for who in OTHERS {
        let mut m = msg_v1("m", "own task");
        if who == Who::B {
            m["contextId"] = json!(o.live.context);
        }
        let r = s
            .rpc(who, V::V1, "SendMessage", json!({"message": m}))
            .await;
        own.push((who, r.result()["task"]["id"].as_str().unwrap().to_string()));
    }
    // A sees exactly its own two, counted as two; its first page's token is B's probe.
    let all = s.rpc(Who::A, V::V1, "ListTasks", json!({})).await;
    let mut mine = ids(all.result());
    mine.sort();
    let mut expect = vec![o.live.id.clone(), o.done.id.clone()];
    expect.sort();
    assert_eq!(mine, expect, "{}: {:?}", s.kind, all.body);
    assert_eq!(all.result()["totalSize"], 2, "{:?}", all.body);
    let ctx = s
        .rpc(
            Who::A,
            V::V1,
            "ListTasks",
            json!({"contextId": o.live.context}),
        )
        .await;
    assert_eq!(ids(ctx.result()), vec![o.live.id.clone()], "{:?}", ctx.body);
    let first = s
        .rpc(Who::A, V::V1, "ListTasks", json!({"pageSize": 1}))
        .await;
    let token = first.result()["nextPageToken"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(!token.is_empty(), "{:?}", first.body);

    for (who, their) in &own {
        let queries = [
            json!({}),
            json!({"contextId": o.live.context}),
            json!({"contextId": o.done.context}),
            json!({"status": "TASK_STATE_INPUT_REQUIRED"}),
            json!({"status": "TASK_STATE_COMPLETED"}),
            json!({"pageToken": token}),
            json!({"pageSize": 1}),
            json!({"includeArtifacts": true, "historyLength": 10}),
        ];
        for q in queries {
            let r = s.rpc(*who, V::V1, "ListTasks", q.clone()).await;
            let what = format!("{} {who:?} ListTasks {q}", s.kind);
            let page = r.result();
            let got = ids(page);
            assert!(got.iter().all(|id| id == their), "{what}: {:?}", r.body);
            // Each of them owns one task; A's two would make it more.
            assert!(
                page["totalSize"].as_u64().unwrap() <= 1,
                "{what}: {:?}",
                r.body
            );
            assert_no_secrets(&what, &r.body, "\u{0}", &list_secrets);
        }
        // Its own task is listed (the listing works; it is just scoped).
        let r = s.rpc(*who, V::V1, "ListTasks", json!({})).await;
        assert_eq!(ids(r.result()), vec![their.clone()], "{} {who:?}", s.kind);
        assert_eq!(r.result()["totalSize"], 1);
    }
    // B's task in A's context is not A's: A's listing of that context is still one task.
    let ctx = s
        .rpc(
            Who::A,
            V::V1,
            "ListTasks",
            json!({"contextId": o.live.context}),
        )
        .await;
    assert_eq!(ids(ctx.result()), vec![o.live.id.clone()], "{:?}", ctx.body);
    assert_eq!(ctx.result()["totalSize"], 1);
}

every_store!(idempotency_keys_are_per_caller);

/// The same `Idempotency-Key` and the very same request from another caller is that
/// caller's first request: a task of its own, not a replay of A's answer.
async fn idempotency_keys_are_per_caller(s: &Server) {
    for method in ["SendMessage", "SendStreamingMessage"] {
        let key = format!("key-{}", uuid::Uuid::new_v4());
        let text = format!("alice-secret-{}", uuid::Uuid::new_v4());
        let params = json!({"message": msg_v1("m", &text)});
        let headers = [("Idempotency-Key", key.as_str())];
        let a = s
            .rpc_with(Who::A, V::V1, method, params.clone(), &headers)
            .await;
        let a_task = a.result()["task"].clone();
        let a_id = a_task["id"].as_str().unwrap().to_string();
        let a_ctx = a_task["contextId"].as_str().unwrap().to_string();
        // A's retry replays A's task (the key works).
        let again = s
            .rpc_with(Who::A, V::V1, method, params.clone(), &headers)
            .await;
        assert_eq!(
            again.result()["task"]["id"],
            a_id.as_str(),
            "{:?}",
            again.body
        );
        for who in OTHERS {
            let r = s
                .rpc_with(who, V::V1, method, params.clone(), &headers)
                .await;
            let what = format!("{} {who:?} {method} with A's key", s.kind);
            assert!(r.result()["task"]["id"].is_string(), "{what}: {:?}", r.body);
            assert_no_secrets(&what, &r.body, "\u{0}", &[&a_id, &a_ctx]);
        }
        assert_eq!(s.state_of(Who::A, &a_id).await.1, 2, "{}", s.kind);
    }
}

//! A2A 1.0.1: every response checked against `shared/spec/v1.0.1/a2a.proto`.

use serde_json::{Value, json};

use crate::helpers::{TestApp, V, msg_v1, spawn_with};
use crate::proto::Proto;
use crate::{check_ours, get_json, push_enabled, spec_dir};

/// Members our card serves beside the 1.0 ones, for 0.3 clients reading the same document.
const CARD_V03_FIELDS: &[(&str, &str)] = &[
    ("AgentCard", "protocolVersion"),
    ("AgentCard", "url"),
    ("AgentCard", "preferredTransport"),
    ("AgentCard", "additionalInterfaces"),
];

struct Ctx {
    app: TestApp,
    proto: Proto,
    checked: std::cell::Cell<usize>,
}

impl Ctx {
    fn check(&self, ty: &str, value: &Value) {
        let errors = self.proto.check(ty, value, CARD_V03_FIELDS);
        assert!(
            errors.is_empty(),
            "{value}\nis not a valid 1.0.1 {ty}:\n  {}",
            errors.join("\n  ")
        );
        self.checked.set(self.checked.get() + 1);
    }

    /// A unary call that must succeed; checks the envelope and the result as `ty`.
    async fn ok(&self, method: &str, params: Value, ty: &str, ours: Option<&str>) -> Value {
        let r = self.app.call(V::V1, method, params).await;
        assert_eq!(r["jsonrpc"], "2.0");
        assert_eq!(r["id"], 1);
        assert!(r.get("error").is_none(), "{method}: {r}");
        self.check(ty, &r["result"]);
        if let Some(file) = ours {
            check_ours(file, &r["result"]);
        }
        r["result"].clone()
    }

    async fn stream(&self, method: &str, params: Value, ours: &str) -> Vec<Value> {
        let events = self.app.stream(V::V1, method, params).await;
        assert!(!events.is_empty(), "{method}: empty stream");
        events
            .into_iter()
            .map(|(_, e)| {
                assert_eq!(e["id"], "stream-1");
                assert!(e.get("error").is_none(), "{method}: {e}");
                self.check("StreamResponse", &e["result"]);
                check_ours(ours, &e["result"]);
                e["result"].clone()
            })
            .collect()
    }
}

#[tokio::test]
async fn every_v1_response_has_the_proto_required_fields_and_enum_names() {
    let Some(dir) = spec_dir() else { return };
    let text = std::fs::read_to_string(dir.join("v1.0.1/a2a.proto")).expect("proto readable");
    let c = Ctx {
        // Loopback webhooks allowed: the push configs name 127.0.0.1.
        app: spawn_with(|c| c.push_allow_private_networks = true).await,
        proto: Proto::parse(&text),
        checked: Default::default(),
    };

    c.check(
        "AgentCard",
        &get_json(&c.app, "/.well-known/agent-card.json").await,
    );

    let send = |prefix: &str| json!({"message": msg_v1(prefix)});
    let ours = Some("1.0.1/SendMessage.result.json");
    let done = c
        .ok(
            "SendMessage",
            send("tck-complete-task"),
            "SendMessageResponse",
            ours,
        )
        .await;
    assert_eq!(done["task"]["status"]["state"], "TASK_STATE_COMPLETED");
    let reply = c
        .ok(
            "SendMessage",
            send("tck-message-response"),
            "SendMessageResponse",
            ours,
        )
        .await;
    assert_eq!(reply["message"]["role"], "ROLE_AGENT");
    for kind in ["text", "file", "file-url", "data"] {
        let r = c
            .ok(
                "SendMessage",
                send(&format!("tck-artifact-{kind}")),
                "SendMessageResponse",
                ours,
            )
            .await;
        assert!(r["task"]["artifacts"][0]["parts"][0].is_object(), "{r}");
    }
    c.ok(
        "SendMessage",
        send("tck-reject-task"),
        "SendMessageResponse",
        ours,
    )
    .await;
    let waiting = c
        .ok(
            "SendMessage",
            send("tck-input-required"),
            "SendMessageResponse",
            ours,
        )
        .await;
    let task_id = waiting["task"]["id"].as_str().unwrap().to_string();

    for params in [
        json!({"id": task_id}),
        json!({"id": task_id, "historyLength": 0}),
    ] {
        c.ok("GetTask", params, "Task", Some("1.0.1/GetTask.result.json"))
            .await;
    }
    for params in [
        json!({}),
        json!({"pageSize": 2, "includeArtifacts": true}),
        json!({"status": "TASK_STATE_COMPLETED", "historyLength": 1}),
    ] {
        let page = c
            .ok(
                "ListTasks",
                params,
                "ListTasksResponse",
                Some("1.0.1/ListTasks.result.json"),
            )
            .await;
        assert!(!page["tasks"].as_array().unwrap().is_empty(), "{page}");
    }

    for prefix in [
        "tck-stream-001",
        "tck-stream-artifact-chunked",
        "tck-message-response",
    ] {
        c.stream(
            "SendStreamingMessage",
            send(prefix),
            "1.0.1/SendStreamingMessage.stream-item.json",
        )
        .await;
    }

    let running = c
        .ok(
            "SendMessage",
            json!({"message": msg_v1("test-resubscribe-message-id"),
                   "configuration": {"returnImmediately": true}}),
            "SendMessageResponse",
            ours,
        )
        .await;
    let events = c
        .stream(
            "SubscribeToTask",
            json!({"id": running["task"]["id"]}),
            "1.0.1/SubscribeToTask.stream-item.json",
        )
        .await;
    assert!(events[0].get("task").is_some(), "first event is the task");
    assert_eq!(
        events.last().unwrap()["statusUpdate"]["status"]["state"],
        "TASK_STATE_COMPLETED"
    );

    let canceled = c
        .ok(
            "CancelTask",
            json!({"id": task_id}),
            "Task",
            Some("1.0.1/CancelTask.result.json"),
        )
        .await;
    assert_eq!(canceled["status"]["state"], "TASK_STATE_CANCELED");

    if push_enabled(&c.app).await {
        push_config_methods(&c).await;
    }
    eprintln!("1.0.1: {} responses and events valid", c.checked.get());
}

/// The push-config methods, on a task that stays input-required (no notification due).
async fn push_config_methods(c: &Ctx) {
    let waiting = c
        .ok(
            "SendMessage",
            json!({"message": msg_v1("tck-input-required")}),
            "SendMessageResponse",
            None,
        )
        .await;
    let task_id = waiting["task"]["id"].clone();
    let created = c
        .ok(
            "CreateTaskPushNotificationConfig",
            json!({"taskId": task_id, "url": "http://127.0.0.1:9/a2a", "token": "secret"}),
            "TaskPushNotificationConfig",
            None,
        )
        .await;
    let id = created["id"].clone();
    c.ok(
        "GetTaskPushNotificationConfig",
        json!({"taskId": task_id, "id": id}),
        "TaskPushNotificationConfig",
        None,
    )
    .await;
    c.ok(
        "ListTaskPushNotificationConfigs",
        json!({"taskId": task_id}),
        "ListTaskPushNotificationConfigsResponse",
        None,
    )
    .await;
    let r = c
        .app
        .call(
            V::V1,
            "DeleteTaskPushNotificationConfig",
            json!({"taskId": task_id, "id": id}),
        )
        .await;
    assert!(r.get("error").is_none(), "{r}");
    // google.protobuf.Empty: `{}` (or null from servers that answer nothing).
    assert!(r["result"].is_null() || r["result"] == json!({}), "{r}");
}

/// A validator for definition `title` of the 1.0.1 JSON Schema bundle (`a2a.json`, built
/// from the proto). The bundle's `$ref`s name per-message files
/// (`lf.a2a.v1.AgentSkill.jsonschema.json`) that are not in it, and its definitions are keyed
/// by title (`Agent Skill`): the references are pointed at those definitions here, as the
/// official kit's validator does. Every object keeps its `additionalProperties: false`.
fn bundle_validator(dir: &std::path::Path, title: &str) -> jsonschema::Validator {
    fn relink(v: &mut Value) {
        match v {
            Value::Object(o) => {
                // Only the document root may name the draft.
                o.remove("$schema");
                if let Some(Value::String(r)) = o.get_mut("$ref") {
                    let name = r
                        .trim_start_matches("lf.")
                        .trim_start_matches("a2a.v1.")
                        .trim_start_matches("google.protobuf.")
                        .trim_end_matches(".jsonschema.json")
                        .to_string();
                    *r = format!("#/definitions/{name}");
                }
                o.values_mut().for_each(relink);
            }
            Value::Array(a) => a.iter_mut().for_each(relink),
            _ => {}
        }
    }
    let text = std::fs::read_to_string(dir.join("v1.0.1/a2a.json")).expect("a2a.json readable");
    let doc: Value = serde_json::from_str(&text).expect("a2a.json is JSON");
    let mut defs = serde_json::Map::new();
    for (name, def) in doc["definitions"].as_object().expect("definitions") {
        defs.insert(name.replace(' ', ""), def.clone());
    }
    let mut defs = Value::Object(defs);
    relink(&mut defs);
    let key = title.replace(' ', "");
    assert!(
        defs.get(&key).is_some(),
        "a2a.json has no definition {title}"
    );
    let schema = json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "definitions": defs,
        "$ref": format!("#/definitions/{key}"),
    });
    jsonschema::options()
        .with_draft(jsonschema::Draft::Draft202012)
        .build(&schema)
        .unwrap_or_else(|e| panic!("a2a.json compiles: {e}"))
}

fn schema_errors(validator: &jsonschema::Validator, value: &Value) -> Vec<String> {
    validator
        .iter_errors(value)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect()
}

#[tokio::test]
async fn strict_card_is_exactly_a_v1_agent_card_and_the_default_one_adds_the_v03_members() {
    let Some(dir) = spec_dir() else { return };
    let schema = bundle_validator(&dir, "Agent Card");
    let text = std::fs::read_to_string(dir.join("v1.0.1/a2a.proto")).expect("proto readable");
    let proto = Proto::parse(&text);

    let strict = spawn_with(|c| {
        c.card.v03_fields = false;
        c.card.provider_organization = Some("Acme".into());
        c.card.provider_url = Some("https://acme.example".into());
        c.card.documentation_url = Some("https://acme.example/docs".into());
    })
    .await;
    let card = get_json(&strict, "/.well-known/agent-card.json").await;
    let errors = schema_errors(&schema, &card);
    assert!(
        errors.is_empty(),
        "{card}\nis not a strict 1.0.1 Agent Card:\n  {}",
        errors.join("\n  ")
    );
    let errors = proto.check("AgentCard", &card, &[]);
    assert!(errors.is_empty(), "{card}\n  {}", errors.join("\n  "));
    check_ours("1.0.1/agent-card.json", &card);

    // The default card is the 1.0 one plus exactly the 0.3 members, which a strict
    // validator refuses: the check above does forbid members beyond 1.0's.
    let dual = spawn_with(|_| {}).await;
    let card = get_json(&dual, "/.well-known/agent-card.json").await;
    check_ours("1.0.1/agent-card.json", &card);
    let mut refused: Vec<String> = schema_errors(&schema, &card);
    refused.sort();
    assert_eq!(refused.len(), 1, "{refused:?}");
    for (_, member) in CARD_V03_FIELDS {
        assert!(
            refused[0].contains(member),
            "{member} not refused: {refused:?}"
        );
    }
    let mut card = card;
    for (_, member) in CARD_V03_FIELDS {
        card.as_object_mut().unwrap().remove(*member);
    }
    let errors = schema_errors(&schema, &card);
    assert!(errors.is_empty(), "{card}\n  {}", errors.join("\n  "));
    // The references resolve: members nested in a referenced message are checked too.
    for path in ["/skills/0", "/capabilities", "/supportedInterfaces/0"] {
        let mut bad = card.clone();
        bad.pointer_mut(path).unwrap()["notInV1"] = json!(1);
        assert_eq!(schema_errors(&schema, &bad).len(), 1, "{path}");
    }
}

/// With API keys and bearer tokens configured, the strict card's `securitySchemes` and
/// `securityRequirements` are the 1.0 shapes the spec's Agent Card schema and proto want.
#[tokio::test]
async fn strict_card_with_authentication_declares_1_0_security_schemes() {
    let Some(dir) = spec_dir() else { return };
    let schema = bundle_validator(&dir, "Agent Card");
    let text = std::fs::read_to_string(dir.join("v1.0.1/a2a.proto")).expect("proto readable");
    let proto = Proto::parse(&text);
    let keys = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(keys.path(), format!("{} alice\n", "ab".repeat(32))).unwrap();
    let path = keys.path().to_path_buf();
    let strict = spawn_with(move |c| {
        c.card.v03_fields = false;
        c.auth.required_scopes = vec!["a2a.invoke".into()];
        c.auth.api_keys = Some(a2a_server::auth::ApiKeysConfig {
            file: path,
            header: "X-API-Key".into(),
        });
        c.auth.jwt = vec![a2a_server::auth::JwtConfig {
            issuer: "https://idp.example".into(),
            audience: vec!["a2a".into()],
            jwks_url: Some("http://127.0.0.1:9/jwks.json".into()),
            algorithms: vec!["RS256".into()],
            secret: None,
            owner_claim: "sub".into(),
            tenant_claim: None,
            scopes_claim: "scope".into(),
            leeway_secs: a2a_server::auth::LEEWAY_SECS,
        }];
    })
    .await;
    let card = get_json(&strict, "/.well-known/agent-card.json").await;
    let errors = schema_errors(&schema, &card);
    assert!(errors.is_empty(), "{card}\n  {}", errors.join("\n  "));
    let errors = proto.check("AgentCard", &card, &[]);
    assert!(errors.is_empty(), "{card}\n  {}", errors.join("\n  "));
    check_ours("1.0.1/agent-card.json", &card);
    assert_eq!(
        card["securitySchemes"],
        json!({
            "bearer": {"httpAuthSecurityScheme": {"scheme": "Bearer", "bearerFormat": "JWT"}},
            "apiKey": {"apiKeySecurityScheme": {"location": "header", "name": "X-API-Key"}},
        })
    );
    assert_eq!(
        card["securityRequirements"],
        json!([{"schemes": {"bearer": {"list": ["a2a.invoke"]}}}, {"schemes": {"apiKey": {"list": []}}}])
    );
}

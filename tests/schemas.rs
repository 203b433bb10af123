//! The checked-in `schemas/` must be what the code generates, and what the code emits
//! must validate against them.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use a2a_server::codec::{v1, v03};
use a2a_server::config::{Config, Overrides};
use a2a_server::protocol::card::{AgentCard, AgentProvider, AgentSkill};
use serde_json::Value;

const REGENERATE: &str = "run `cargo run -- schemas --out schemas/` and commit the result";

fn schemas_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("schemas")
}

/// Every `*.json` under `dir`, as paths relative to it with `/` separators.
fn json_files(dir: &Path, prefix: &str, out: &mut BTreeSet<String>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries {
        let e = e.expect("readable dir entry");
        let name = e.file_name().to_string_lossy().into_owned();
        let rel = format!("{prefix}{name}");
        if e.file_type().expect("file type").is_dir() {
            json_files(&e.path(), &format!("{rel}/"), out);
        } else if name.ends_with(".json") {
            out.insert(rel);
        }
    }
}

#[test]
fn checked_in_schemas_match_the_code() {
    let dir = schemas_dir();
    let generated = a2a_server::schemas::all();
    let mut problems = Vec::new();
    for f in &generated {
        match std::fs::read_to_string(dir.join(&f.path)) {
            Ok(on_disk) if on_disk == f.render() => {}
            Ok(_) => problems.push(format!("schemas/{} differs from the code", f.path)),
            Err(_) => problems.push(format!("schemas/{} is missing", f.path)),
        }
    }
    let expected: BTreeSet<String> = generated.iter().map(|f| f.path.clone()).collect();
    let mut on_disk = BTreeSet::new();
    json_files(&dir, "", &mut on_disk);
    for stale in on_disk.difference(&expected) {
        problems.push(format!(
            "schemas/{stale} is no longer generated (delete it)"
        ));
    }
    assert!(
        problems.is_empty(),
        "the checked-in JSON Schemas drifted from the wire types:\n  {}\n{REGENERATE}",
        problems.join("\n  ")
    );
}

#[test]
fn every_version_covers_every_method() {
    let paths: BTreeSet<String> = a2a_server::schemas::all()
        .into_iter()
        .map(|f| f.path)
        .collect();
    let want = [
        "1.0.1/SendMessage.params.json",
        "1.0.1/SendMessage.result.json",
        "1.0.1/SendStreamingMessage.stream-item.json",
        "1.0.1/GetTask.result.json",
        "1.0.1/ListTasks.params.json",
        "1.0.1/ListTasks.result.json",
        "1.0.1/CancelTask.result.json",
        "1.0.1/SubscribeToTask.stream-item.json",
        "1.0.1/agent-card.json",
        "0.3.0/message-send.result.json",
        "0.3.0/message-stream.stream-item.json",
        "0.3.0/tasks-get.result.json",
        "0.3.0/tasks-cancel.result.json",
        "0.3.0/tasks-resubscribe.stream-item.json",
        "0.3.0/agent-card.json",
        "0.1.0/tasks-send.params.json",
        "0.1.0/tasks-sendSubscribe.stream-item.json",
        "0.1.0/tasks-get.result.json",
        "0.1.0/tasks-cancel.result.json",
        "0.1.0/tasks-resubscribe.stream-item.json",
        "0.1.0/agent-card.json",
    ];
    for w in want {
        assert!(paths.contains(w), "no schema {w}");
    }
}

fn validate(schema_path: &str, instance: &Value) {
    let text = std::fs::read_to_string(schemas_dir().join(schema_path))
        .unwrap_or_else(|e| panic!("schemas/{schema_path}: {e}; {REGENERATE}"));
    let schema: Value = serde_json::from_str(&text).expect("schema is JSON");
    let validator = jsonschema::validator_for(&schema).expect("schema compiles");
    let errors: Vec<String> = validator
        .iter_errors(instance)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "{instance} does not match schemas/{schema_path}:\n  {}",
        errors.join("\n  ")
    );
}

/// The cards are rendered with `json!`, so their schemas are hand-kept twins that deny
/// unknown fields: a renderer change that the twin misses fails here.
#[test]
fn rendered_agent_cards_match_their_schemas() {
    let config = Config::load(None, Overrides::default()).expect("default config");
    let mut card = config.agent_card("http://127.0.0.1:8000");
    for with_optionals in [false, true] {
        if with_optionals {
            card.provider = Some(AgentProvider {
                organization: "Example".into(),
                url: "https://example.org".into(),
            });
            card.documentation_url = Some("https://example.org/docs".into());
            card.icon_url = Some("https://example.org/icon.png".into());
            card.skills.push(AgentSkill {
                id: "s".into(),
                name: "S".into(),
                description: "d".into(),
                tags: vec!["t".into()],
                examples: vec!["e".into()],
                input_modes: vec!["text/plain".into()],
                output_modes: vec!["text/plain".into()],
            });
        }
        validate("1.0.1/agent-card.json", &v1::agent_card(&card));
        let strict = AgentCard {
            v03_fields: false,
            ..card.clone()
        };
        validate("1.0.1/agent-card.json", &v1::agent_card(&strict));
        validate("0.3.0/agent-card.json", &v03::agent_card(&card));
        validate("0.1.0/agent-card.json", &v03::agent_card(&card));
    }
    // With authentication and an extended card: every card still matches its twin.
    card.capabilities.extended_agent_card = true;
    for bearer in [
        None,
        Some("https://idp.example/.well-known/openid-configuration".into()),
    ] {
        card.security = a2a_server::protocol::card::CardSecurity {
            bearer: Some(bearer),
            api_key_header: Some("X-API-Key".into()),
            mtls: false,
            required_scopes: vec!["a2a.invoke".into()],
        };
        validate("1.0.1/agent-card.json", &v1::agent_card(&card));
        let strict = AgentCard {
            v03_fields: false,
            ..card.clone()
        };
        validate("1.0.1/agent-card.json", &v1::agent_card(&strict));
        validate("0.3.0/agent-card.json", &v03::agent_card(&card));
    }
}

#[test]
fn schemas_reject_what_we_never_emit() {
    let task = serde_json::json!({
        "id": "t", "contextId": "c",
        "status": {"state": "TASK_STATE_WORKING", "timestamp": "2026-01-01T00:00:00.000Z"},
    });
    validate("1.0.1/GetTask.result.json", &task);
    let schema: Value = serde_json::from_str(
        &std::fs::read_to_string(schemas_dir().join("1.0.1/GetTask.result.json")).unwrap(),
    )
    .unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let mut bad = task.clone();
    bad["status"]["state"] = "working".into();
    assert!(
        !validator.is_valid(&bad),
        "0.3 state spelling in a 1.0 task"
    );
    let mut bad = task.clone();
    bad["status"]["message"] = Value::Null;
    assert!(!validator.is_valid(&bad), "null for an omitted optional");
    let mut bad = task;
    bad["artifacts"] =
        serde_json::json!([{"artifactId": "a", "parts": [{"text": "x", "url": "u"}]}]);
    assert!(!validator.is_valid(&bad), "a part with two contents");
}

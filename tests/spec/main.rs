//! Every method of every version, sent to the real server, with each response and each
//! SSE event checked against the normative spec files in `../shared/spec`: the JSON
//! Schemas of 0.3.0 and 0.1.0, and for 1.0.1 the REQUIRED fields, oneofs and enum names
//! of `a2a.proto`. Results are also checked against our own `schemas/`.
//!
//! The folder is `A2A_SPEC_DIR` when set (a checkout elsewhere), else `../shared/spec`
//! beside the checkout. Without it the tests skip with a message, except under `CI=true`,
//! where they fail.

#[allow(dead_code)] // this binary uses part of the API tests' harness
#[path = "../api/helpers.rs"]
mod helpers;
mod proto;
mod v01;
mod v03;
mod v1;

use std::path::{Path, PathBuf};

use serde_json::{Value, json};

/// The spec folder, or `None` (after saying why) when it is not there outside CI.
pub fn spec_dir() -> Option<PathBuf> {
    let dir = match std::env::var_os("A2A_SPEC_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/spec"),
    };
    if dir.join("v1.0.1/a2a.proto").exists() {
        return Some(dir);
    }
    let msg = format!(
        "the normative spec files are not at {} (set A2A_SPEC_DIR, or put `shared/spec` beside the checkout)",
        dir.display()
    );
    let ci = std::env::var("CI").is_ok_and(|v| v == "true" || v == "1");
    if ci {
        panic!("{msg}; CI=true: the spec validation must run");
    }
    eprintln!("skipping: {msg}");
    None
}

fn read_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Validates values against named definitions of one JSON Schema document.
pub struct SpecSchema {
    doc: Value,
    /// `definitions` (0.3.0) or `$defs` (0.1.0).
    defs_key: &'static str,
    name: &'static str,
    /// How many validations passed, to report coverage.
    pub checked: std::cell::Cell<usize>,
}

impl SpecSchema {
    pub fn load(dir: &Path, version: &'static str) -> SpecSchema {
        let doc = read_json(&dir.join(version).join("a2a.json"));
        let defs_key = if doc.get("definitions").is_some() {
            "definitions"
        } else {
            "$defs"
        };
        SpecSchema {
            doc,
            defs_key,
            name: version,
            checked: Default::default(),
        }
    }

    /// The `code` constant of an error definition.
    pub fn code_of(&self, def: &str) -> Value {
        self.doc[self.defs_key][def]["properties"]["code"]["const"].clone()
    }

    /// Fails the test unless `value` is valid against definition `def`.
    pub fn check(&self, def: &str, value: &Value) {
        let mut doc = self.doc.clone();
        assert!(
            doc[self.defs_key].get(def).is_some(),
            "{} has no definition {def}",
            self.name
        );
        let obj = doc.as_object_mut().expect("schema object");
        obj.insert(
            "allOf".into(),
            json!([{"$ref": format!("#/{}/{def}", self.defs_key)}]),
        );
        let validator = jsonschema::options()
            .with_draft(jsonschema::Draft::Draft7)
            .build(&doc)
            .unwrap_or_else(|e| panic!("{} compiles: {e}", self.name));
        let errors: Vec<String> = validator
            .iter_errors(value)
            .map(|e| format!("{e} at {}", e.instance_path()))
            .collect();
        assert!(
            errors.is_empty(),
            "{value}\nis not a valid {}#{def}:\n  {}",
            self.name,
            errors.join("\n  ")
        );
        self.checked.set(self.checked.get() + 1);
    }
}

/// Validates a value against one of our own `schemas/` files.
pub fn check_ours(file: &str, value: &Value) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("schemas")
        .join(file);
    let validator = jsonschema::validator_for(&read_json(&path)).expect("our schema compiles");
    let errors: Vec<String> = validator
        .iter_errors(value)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "{value}\nis not valid against schemas/{file}:\n  {}",
        errors.join("\n  ")
    );
}

/// GETs a JSON document (the agent cards).
pub async fn get_json(app: &helpers::TestApp, path: &str) -> Value {
    let resp = app
        .http
        .get(format!("{}{path}", app.url))
        .send()
        .await
        .expect("GET sent");
    assert_eq!(resp.status(), 200, "GET {path}");
    resp.json().await.expect("JSON body")
}

/// A JSON-RPC request with an id but no A2A-Version header (0.3 and 0.1).
pub async fn post_legacy(app: &helpers::TestApp, method: &str, params: Value) -> Value {
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params});
    app.post_raw(body.to_string(), "application/json").await.1
}

/// Whether the server's card announces push notifications (the push methods are checked
/// only then).
pub async fn push_enabled(app: &helpers::TestApp) -> bool {
    let card = get_json(app, "/.well-known/agent-card.json").await;
    let on = card["capabilities"]["pushNotifications"] == true;
    if !on {
        eprintln!("capabilities.pushNotifications is false: push-config methods not validated");
    }
    on
}

//! Corrections to what `schemars` generates, where it does not follow serde exactly or
//! describes more than we emit.

use serde_json::{Map, Value};

/// 0.3 structs carry `#[serde(tag = "kind", rename = "task")]`: serde writes the
/// `kind` member, but schemars leaves it out of the schema and only sets the title (and
/// the definition name) to the rename. These are the structs tagged that way.
const KIND_TAGGED: &[&str] = &["task", "message", "status-update", "artifact-update"];

/// Adds the `kind` member (a required constant) to every struct tagged as above: the
/// root (named by its `title`) and the definitions (named by their `$defs` key).
pub fn add_kind_tags(v: &mut Value) {
    let Value::Object(root) = v else { return };
    if let Some(kind) = root.get("title").and_then(Value::as_str).map(str::to_owned) {
        add_kind(root, &kind);
    }
    if let Some(Value::Object(defs)) = root.get_mut("$defs") {
        for (name, def) in defs.iter_mut() {
            if let Value::Object(def) = def {
                add_kind(def, name);
            }
        }
    }
}

fn add_kind(obj: &mut Map<String, Value>, kind: &str) {
    if !KIND_TAGGED.contains(&kind) {
        return;
    }
    let Some(Value::Object(props)) = obj.get_mut("properties") else {
        return;
    };
    if props.contains_key("kind") {
        return;
    }
    props.insert(
        "kind".into(),
        serde_json::json!({"type": "string", "const": kind}),
    );
    if let Some(Value::Array(req)) = obj.get_mut("required") {
        req.insert(0, Value::String("kind".into()));
    }
}

/// Removes `default` keywords: serde defaults mean "may be absent", which `required`
/// already says, and some (the status timestamp's `now()`) would change on every run.
pub fn strip_defaults(v: &mut Value) {
    walk(v, &mut |obj| {
        obj.remove("default");
    });
}

/// In schemas of what we emit, an optional member is left out rather than written as
/// `null` (every `Option` field is `skip_serializing_if = "Option::is_none"`), so the
/// `null` schemars allows for `Option<T>` is removed from non-required members.
pub fn drop_null_from_optionals(v: &mut Value) {
    walk(v, &mut |obj| {
        let required: Vec<String> = match obj.get("required") {
            Some(Value::Array(r)) => r
                .iter()
                .filter_map(|x| x.as_str().map(str::to_owned))
                .collect(),
            _ => Vec::new(),
        };
        let Some(Value::Object(props)) = obj.get_mut("properties") else {
            return;
        };
        for (name, prop) in props.iter_mut() {
            if !required.contains(name) {
                drop_null(prop);
            }
        }
    });
}

fn drop_null(prop: &mut Value) {
    let Value::Object(p) = prop else { return };
    if let Some(Value::Array(types)) = p.get_mut("type") {
        types.retain(|t| t != "null");
        if types.len() == 1 {
            let t = types.pop().expect("one type");
            p.insert("type".into(), t);
        }
    }
    if let Some(Value::Array(any)) = p.get_mut("anyOf") {
        any.retain(|s| s.get("type").and_then(Value::as_str) != Some("null"));
        if any.len() == 1 {
            let Some(Value::Object(only)) = any.pop() else {
                return;
            };
            p.remove("anyOf");
            for (k, v) in only {
                p.entry(k).or_insert(v);
            }
        }
    }
}

/// Calls `f` on every schema object (not on the name maps of `properties` / `$defs`).
fn walk(v: &mut Value, f: &mut impl FnMut(&mut Map<String, Value>)) {
    match v {
        Value::Object(obj) => {
            f(obj);
            for (k, child) in obj.iter_mut() {
                match (k.as_str(), child) {
                    ("properties" | "$defs", Value::Object(named)) => {
                        named.values_mut().for_each(|s| walk(s, f))
                    }
                    (_, child) => walk(child, f),
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|s| walk(s, f)),
        _ => {}
    }
}

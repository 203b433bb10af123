//! A small reader of the normative 1.0.1 `a2a.proto` and a checker of ProtoJSON values
//! against it: fields marked `(google.api.field_behavior) = REQUIRED` are present, no
//! member is unknown, oneofs hold exactly one member, enums use the proto names, and
//! each value has its field's JSON type.

use std::collections::HashMap;

use serde_json::Value;

#[derive(Debug, Clone)]
pub struct Field {
    pub json_name: String,
    pub ty: String,
    pub repeated: bool,
    /// `map<K, V>`: the value type in `ty`.
    pub map: bool,
    pub required: bool,
    pub oneof: Option<String>,
}

#[derive(Debug, Default)]
pub struct Proto {
    pub messages: HashMap<String, Vec<Field>>,
    pub enums: HashMap<String, Vec<String>>,
}

/// `message_id` → `messageId`, as ProtoJSON names fields.
fn camel(name: &str) -> String {
    let mut out = String::new();
    let mut upper = false;
    for c in name.chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

fn strip_comments(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while !rest.is_empty() {
        if let Some(r) = rest.strip_prefix("//") {
            rest = r.find('\n').map_or("", |i| &r[i..]);
        } else if let Some(r) = rest.strip_prefix("/*") {
            rest = r.find("*/").map_or("", |i| &r[i + 2..]);
        } else if rest.starts_with('"') {
            let end = rest[1..].find('"').map_or(rest.len(), |i| i + 2);
            out.push_str(&rest[..end]);
            rest = &rest[end..];
        } else {
            let c = rest.chars().next().expect("non-empty");
            out.push(c);
            rest = &rest[c.len_utf8()..];
        }
    }
    out
}

fn tokenize(text: &str) -> Vec<String> {
    let mut tokens = Vec::new();
    let mut cur = String::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c.is_alphanumeric() || c == '_' || c == '.' {
            cur.push(c);
            continue;
        }
        if !cur.is_empty() {
            tokens.push(std::mem::take(&mut cur));
        }
        if c == '"' {
            let mut s = String::from('"');
            for d in chars.by_ref() {
                s.push(d);
                if d == '"' {
                    break;
                }
            }
            tokens.push(s);
        } else if !c.is_whitespace() {
            tokens.push(c.to_string());
        }
    }
    if !cur.is_empty() {
        tokens.push(cur);
    }
    tokens
}

struct Parser {
    t: Vec<String>,
    i: usize,
}

impl Parser {
    fn peek(&self) -> &str {
        self.t.get(self.i).map_or("", String::as_str)
    }

    fn next(&mut self) -> String {
        let s = self.peek().to_string();
        self.i += 1;
        s
    }

    fn expect(&mut self, tok: &str) {
        let got = self.next();
        assert_eq!(got, tok, "proto parse error near token {}", self.i);
    }

    /// Skips to just past the `;` ending a statement, or past a `{ … }` block.
    fn skip_statement(&mut self) {
        while self.i < self.t.len() {
            match self.next().as_str() {
                ";" => return,
                "{" => {
                    self.skip_block();
                    return;
                }
                _ => {}
            }
        }
    }

    /// Skips past the `}` matching an already consumed `{`.
    fn skip_block(&mut self) {
        let mut depth = 1;
        while depth > 0 && self.i < self.t.len() {
            match self.next().as_str() {
                "{" => depth += 1,
                "}" => depth -= 1,
                _ => {}
            }
        }
    }

    fn parse_enum(&mut self, proto: &mut Proto) {
        let name = self.next();
        self.expect("{");
        let mut values = Vec::new();
        while self.peek() != "}" {
            let tok = self.next();
            if tok == "option" || tok == "reserved" {
                self.skip_statement();
                continue;
            }
            values.push(tok);
            self.skip_statement();
        }
        self.expect("}");
        proto.enums.insert(name, values);
    }

    fn parse_message(&mut self, proto: &mut Proto) {
        let name = self.next();
        self.expect("{");
        let mut fields = Vec::new();
        self.parse_fields(proto, &mut fields, None);
        proto.messages.insert(name, fields);
    }

    /// Reads fields up to and including the closing `}`.
    fn parse_fields(&mut self, proto: &mut Proto, fields: &mut Vec<Field>, oneof: Option<&str>) {
        loop {
            match self.peek() {
                "}" => {
                    self.next();
                    return;
                }
                "" => panic!("unterminated message"),
                "message" => {
                    self.next();
                    self.parse_message(proto);
                }
                "enum" => {
                    self.next();
                    self.parse_enum(proto);
                }
                "oneof" => {
                    self.next();
                    let group = self.next();
                    self.expect("{");
                    self.parse_fields(proto, fields, Some(&group));
                }
                "option" | "reserved" | "extensions" => self.skip_statement(),
                _ => fields.push(self.parse_field(oneof)),
            }
        }
    }

    fn parse_field(&mut self, oneof: Option<&str>) -> Field {
        let mut repeated = false;
        if matches!(self.peek(), "repeated" | "optional") {
            repeated = self.next() == "repeated";
        }
        let (ty, map) = if self.peek() == "map" {
            self.next();
            self.expect("<");
            self.next();
            self.expect(",");
            let v = self.next();
            self.expect(">");
            (v, true)
        } else {
            (self.next(), false)
        };
        let name = self.next();
        self.expect("=");
        self.next();
        let mut required = false;
        if self.peek() == "[" {
            while self.peek() != "]" {
                if self.next() == "REQUIRED" {
                    required = true;
                }
            }
            self.next();
        }
        self.expect(";");
        Field {
            json_name: camel(&name),
            ty,
            repeated,
            map,
            required,
            oneof: oneof.map(str::to_owned),
        }
    }
}

impl Proto {
    pub fn parse(text: &str) -> Proto {
        let mut p = Parser {
            t: tokenize(&strip_comments(text)),
            i: 0,
        };
        let mut proto = Proto::default();
        while p.i < p.t.len() {
            match p.next().as_str() {
                "message" => p.parse_message(&mut proto),
                "enum" => p.parse_enum(&mut proto),
                _ => p.skip_statement(),
            }
        }
        proto
    }

    /// Checks `value` as the ProtoJSON of message `ty`; returns every violation, each
    /// with its JSON path. `extra` lists members tolerated on top of the proto's (per
    /// message name), such as the 0.3 fields our card carries beside the 1.0 ones.
    pub fn check(&self, ty: &str, value: &Value, extra: &[(&str, &str)]) -> Vec<String> {
        let mut errors = Vec::new();
        self.check_message(ty, value, "$", extra, &mut errors);
        errors
    }

    fn check_message(
        &self,
        ty: &str,
        value: &Value,
        path: &str,
        extra: &[(&str, &str)],
        errors: &mut Vec<String>,
    ) {
        let Some(fields) = self.messages.get(ty) else {
            errors.push(format!("{path}: unknown message type {ty}"));
            return;
        };
        let Value::Object(obj) = value else {
            errors.push(format!("{path}: {ty} must be an object, got {value}"));
            return;
        };
        for f in fields.iter().filter(|f| f.required) {
            if !obj.contains_key(&f.json_name) {
                errors.push(format!(
                    "{path}: {ty}.{} is REQUIRED but absent",
                    f.json_name
                ));
            }
        }
        let mut oneofs: HashMap<&str, Vec<&str>> = HashMap::new();
        for f in fields {
            if let Some(g) = &f.oneof {
                oneofs.entry(g).or_default();
                if obj.contains_key(&f.json_name) {
                    oneofs
                        .get_mut(g.as_str())
                        .expect("entry")
                        .push(&f.json_name);
                }
            }
        }
        for (group, set) in oneofs {
            if set.len() != 1 {
                errors.push(format!(
                    "{path}: {ty}.{group} must have exactly one member, has {set:?}"
                ));
            }
        }
        for (key, v) in obj {
            let p = format!("{path}.{key}");
            match fields.iter().find(|f| &f.json_name == key) {
                Some(f) => self.check_field(f, v, &p, extra, errors),
                None if extra.contains(&(ty, key.as_str())) => {}
                None => errors.push(format!("{p}: {ty} has no field `{key}`")),
            }
        }
    }

    fn check_field(
        &self,
        f: &Field,
        v: &Value,
        path: &str,
        extra: &[(&str, &str)],
        errors: &mut Vec<String>,
    ) {
        if f.repeated || f.map {
            let items: Vec<(String, &Value)> = match (v, f.map) {
                (Value::Array(a), false) => a
                    .iter()
                    .enumerate()
                    .map(|(i, x)| (format!("{path}[{i}]"), x))
                    .collect(),
                (Value::Object(o), true) => {
                    o.iter().map(|(k, x)| (format!("{path}.{k}"), x)).collect()
                }
                _ => {
                    errors.push(format!(
                        "{path}: expected a {}, got {v}",
                        if f.map { "map" } else { "list" }
                    ));
                    return;
                }
            };
            for (p, x) in items {
                self.check_single(&f.ty, x, &p, extra, errors);
            }
        } else {
            self.check_single(&f.ty, v, path, extra, errors);
        }
    }

    fn check_single(
        &self,
        ty: &str,
        v: &Value,
        path: &str,
        extra: &[(&str, &str)],
        errors: &mut Vec<String>,
    ) {
        let ok = match ty {
            "string" | "bytes" => v.is_string(),
            "bool" => v.is_boolean(),
            "int32" | "uint32" | "sint32" | "fixed32" | "float" | "double" => v.is_number(),
            // ProtoJSON may write 64-bit integers as strings.
            "int64" | "uint64" | "sint64" | "fixed64" => v.is_number() || v.is_string(),
            "google.protobuf.Timestamp" => v.as_str().is_some_and(|s| {
                s.ends_with('Z') && chrono::DateTime::parse_from_rfc3339(s).is_ok()
            }),
            "google.protobuf.Struct" => v.is_object(),
            "google.protobuf.Value" => true,
            _ => {
                let short = ty.rsplit('.').next().expect("non-empty");
                if let Some(values) = self.enums.get(short) {
                    let ok = v.as_str().is_some_and(|s| values.iter().any(|x| x == s));
                    if !ok {
                        errors.push(format!("{path}: {v} is not a {short} name ({values:?})"));
                    }
                    return;
                }
                self.check_message(short, v, path, extra, errors);
                return;
            }
        };
        if !ok {
            errors.push(format!("{path}: {v} is not a valid {ty}"));
        }
    }
}

#[test]
fn the_proto_reader_sees_required_fields_oneofs_and_enums() {
    let Some(dir) = super::spec_dir() else { return };
    let proto = Proto::parse(&std::fs::read_to_string(dir.join("v1.0.1/a2a.proto")).unwrap());
    let task = &proto.messages["Task"];
    let id = task.iter().find(|f| f.json_name == "id").unwrap();
    assert!(id.required);
    assert!(
        !task
            .iter()
            .find(|f| f.json_name == "contextId")
            .unwrap()
            .required
    );
    let part = &proto.messages["Part"];
    assert_eq!(
        part.iter()
            .filter(|f| f.oneof.as_deref() == Some("content"))
            .count(),
        4
    );
    assert!(proto.enums["TaskState"].contains(&"TASK_STATE_INPUT_REQUIRED".to_string()));
    assert!(
        proto.messages["AgentCard"]
            .iter()
            .any(|f| f.json_name == "securitySchemes" && f.map)
    );
    // And the checker refuses what it should.
    let bad = serde_json::json!({"id": "t", "status": {"state": "working"}, "kind": "task"});
    let errors = proto.check("Task", &bad, &[]);
    assert!(
        errors.iter().any(|e| e.contains("not a TaskState")),
        "{errors:?}"
    );
    assert!(
        errors.iter().any(|e| e.contains("no field `kind`")),
        "{errors:?}"
    );
    let errors = proto.check(
        "Message",
        &serde_json::json!({"role": "ROLE_USER", "parts": [{}]}),
        &[],
    );
    assert!(
        errors.iter().any(|e| e.contains("messageId is REQUIRED")),
        "{errors:?}"
    );
    assert!(
        errors.iter().any(|e| e.contains("exactly one member")),
        "{errors:?}"
    );
}

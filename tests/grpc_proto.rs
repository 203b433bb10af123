//! Our protos (proto/) against the specification's (`../shared/spec`, or `A2A_SPEC_DIR`):
//! the same package, messages, fields (label, type, name, number), enum values and RPCs,
//! so drift from the wire contract is caught. Skips with a message where the spec is absent.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Our file and the spec's, per version.
const PAIRS: &[(&str, &str)] = &[
    ("proto/lf/a2a/v1/a2a.proto", "v1.0.1/a2a.proto"),
    ("proto/a2a/v1/a2a.proto", "v0.3.0/a2a.proto"),
];

fn spec_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("A2A_SPEC_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/spec"));
    if dir.join(PAIRS[0].1).exists() {
        return Some(dir);
    }
    let msg = format!(
        "the A2A spec protos are not at {} (set A2A_SPEC_DIR)",
        dir.display()
    );
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("{msg} (CI=true: the check must run)");
    }
    eprintln!("skipping: {msg}");
    None
}

/// Every definition of a proto file that is part of the wire: `package`, `Msg.field`
/// (label, type, number), `Enum.VALUE` (number), `Service.Rpc` (request and response).
fn wire(text: &str) -> BTreeMap<String, String> {
    let stripped: String = text
        .lines()
        .map(|l| l.split("//").next().unwrap_or(""))
        .collect::<Vec<_>>()
        .join("\n");
    let mut spaced = String::new();
    for ch in stripped.chars() {
        if "{}();=[]<>,".contains(ch) {
            spaced.push(' ');
            spaced.push(ch);
            spaced.push(' ');
        } else {
            spaced.push(ch);
        }
    }
    let toks: Vec<&str> = spaced.split_whitespace().collect();
    let mut out = BTreeMap::new();
    // (kind, name) of the open blocks.
    let mut scopes: Vec<(&str, String)> = Vec::new();
    let scope_name = |scopes: &[(&str, String)]| {
        scopes
            .iter()
            .filter(|(k, _)| *k != "oneof")
            .map(|(_, n)| n.as_str())
            .collect::<Vec<_>>()
            .join(".")
    };
    let mut i = 0;
    // Skips to just past the `;` ending a statement, over any `[...]`.
    let skip_statement = |i: &mut usize| {
        while toks[*i] != ";" {
            *i += 1;
        }
        *i += 1;
    };
    while i < toks.len() {
        match toks[i] {
            "syntax" | "import" | "option" | "reserved" => skip_statement(&mut i),
            "package" => {
                out.insert("package".into(), toks[i + 1].into());
                skip_statement(&mut i);
            }
            kind @ ("message" | "enum" | "service" | "oneof") => {
                scopes.push((kind, toks[i + 1].to_string()));
                i += 3; // name {
            }
            "}" => {
                scopes.pop();
                i += 1;
            }
            "rpc" => {
                // rpc Name ( [stream] Req ) returns ( [stream] Res ) ; or { options }
                let name = toks[i + 1];
                let mut j = i + 2;
                let mut sig = Vec::new();
                while toks[j] != ";" && toks[j] != "{" {
                    sig.push(toks[j]);
                    j += 1;
                }
                if toks[j] == "{" {
                    let mut depth = 0;
                    loop {
                        match toks[j] {
                            "{" => depth += 1,
                            "}" => depth -= 1,
                            _ => {}
                        }
                        j += 1;
                        if depth == 0 {
                            break;
                        }
                    }
                } else {
                    j += 1;
                }
                let key = format!("{}.{name}", scope_name(&scopes));
                out.insert(key, sig.join(" "));
                i = j;
            }
            _ => {
                let start = i;
                while toks[i] != "=" {
                    i += 1;
                }
                let head = &toks[start..i];
                let number = toks[i + 1];
                skip_statement(&mut i);
                let in_enum = scopes.last().is_some_and(|(k, _)| *k == "enum");
                let (name, def) = if in_enum {
                    (head[0].to_string(), number.to_string())
                } else {
                    let name = head[head.len() - 1];
                    let ty = head[..head.len() - 1].join(" ");
                    (name.to_string(), format!("{ty} = {number}"))
                };
                out.insert(format!("{}.{name}", scope_name(&scopes)), def);
            }
        }
    }
    out
}

#[test]
fn our_protos_match_the_specification() {
    let Some(spec) = spec_dir() else { return };
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for (ours, theirs) in PAIRS {
        let ours_text = std::fs::read_to_string(root.join(ours)).unwrap();
        let theirs_text = std::fs::read_to_string(spec.join(theirs)).unwrap();
        let (a, b) = (wire(&ours_text), wire(&theirs_text));
        assert!(a.len() > 100, "{ours}: parsed only {} definitions", a.len());
        let mut diffs = Vec::new();
        for (k, v) in &b {
            match a.get(k) {
                None => diffs.push(format!("missing in {ours}: {k} ({v})")),
                Some(w) if w != v => diffs.push(format!("{k}: ours `{w}`, spec `{v}`")),
                _ => {}
            }
        }
        for k in a.keys().filter(|k| !b.contains_key(*k)) {
            diffs.push(format!("not in the spec: {k}"));
        }
        assert!(
            diffs.is_empty(),
            "{ours} vs {theirs}:\n{}",
            diffs.join("\n")
        );
    }
}

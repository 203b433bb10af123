//! Checks of the Helm chart in `helm/a2a-server` against the server, without helm (no YAML
//! parser either: the checks read the files line by line).
//!
//! - the `A2A_*` variables the chart names are settings the server knows (`FIELDS` and
//!   `CardConfig` in src/config.rs), and the chart's `config` / `card` key lists are
//!   exactly the server's;
//! - the probe and ServiceMonitor paths are routes of src/transport/http.rs;
//! - the container port, uid, data directory and shutdown grace agree with the Dockerfile
//!   and src/startup.rs;
//! - the `OTEL_*` variables are the SDK's standard ones, set only with `otel.endpoint`;
//!   `logFormat` is the server's `log_format`;
//! - the HorizontalPodAutoscaler is off by default, scales the Deployment (which then has
//!   no `replicas`) and is refused with a store that cannot be shared;
//! - Chart.yaml is a v2 chart whose appVersion is this crate's version;
//! - every template's `{{ }}` actions are closed and its blocks balanced, every included
//!   template is defined, and every `.Values` path it reads is in values.yaml.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn chart() -> PathBuf {
    repo().join("helm/a2a-server")
}

fn read(path: &Path) -> String {
    fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// The chart's template files (name, text), sorted by name.
fn templates() -> Vec<(String, String)> {
    let dir = chart().join("templates");
    let mut files: Vec<(String, String)> = fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .map(|entry| {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            (name, read(&path))
        })
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no templates in {}", dir.display());
    files
}

fn template(name: &str) -> String {
    read(&chart().join("templates").join(name))
}

/// The text between `start` and the next `end` after it.
fn between<'a>(text: &'a str, start: &str, end: &str) -> &'a str {
    let from = text
        .find(start)
        .unwrap_or_else(|| panic!("`{start}` not found"))
        + start.len();
    let len = text[from..]
        .find(end)
        .unwrap_or_else(|| panic!("`{end}` not found after `{start}`"));
    &text[from..from + len]
}

/// The top-level configuration keys of the server: `FIELDS` in src/config.rs.
fn server_fields() -> Vec<String> {
    let source = read(&repo().join("src/config.rs"));
    let list = between(&source, "const FIELDS: &[&str] = &[", "];");
    let fields: Vec<String> = list
        .split(',')
        .map(|item| item.trim().trim_matches('"').to_string())
        .filter(|item| !item.is_empty())
        .collect();
    assert!(
        fields.len() > 10 && fields.iter().any(|f| f == "store"),
        "could not read FIELDS from src/config.rs: {fields:?}"
    );
    fields
}

/// The agent card keys of the server: the fields of `CardConfig` in src/config.rs.
fn server_card_fields() -> Vec<String> {
    let source = read(&repo().join("src/config.rs"));
    let body = between(&source, "pub struct CardConfig {", "\n}");
    let fields: Vec<String> = body
        .lines()
        .filter_map(|line| line.trim().strip_prefix("pub "))
        .filter_map(|rest| rest.split_once(':'))
        .map(|(name, _)| name.trim().to_string())
        .collect();
    assert!(
        fields.iter().any(|f| f == "name") && fields.iter().any(|f| f == "skills"),
        "could not read CardConfig from src/config.rs: {fields:?}"
    );
    fields
}

/// The lines of `{{- define "NAME" -}}` ... `{{- end }}` in _helpers.tpl.
fn define_lines(name: &str) -> Vec<String> {
    let helpers = template("_helpers.tpl");
    let body = between(
        &helpers,
        &format!("{{{{- define \"{name}\" -}}}}"),
        "{{- end }}",
    );
    body.lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .map(String::from)
        .collect()
}

/// Every environment variable name the server reads as a setting.
fn known_env_names() -> BTreeSet<String> {
    let mut names: BTreeSet<String> = server_fields()
        .iter()
        .filter(|f| f.as_str() != "card")
        .map(|f| format!("A2A_{}", f.to_uppercase()))
        .collect();
    names.insert("A2A_DATABASE_URL".into());
    names.insert("A2A_CONFIG".into());
    for field in server_card_fields() {
        names.insert(format!("A2A_CARD__{}", field.to_uppercase()));
    }
    names
}

/// The `A2A_...` words of `text`, with their line numbers.
fn a2a_words(text: &str) -> Vec<(usize, String)> {
    let mut words = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let mut rest = line;
        while let Some(at) = rest.find("A2A_") {
            let before = rest[..at].chars().next_back();
            let word: String = rest[at..]
                .chars()
                .take_while(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || *c == '_')
                .collect();
            if !before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_') {
                words.push((n + 1, word.clone()));
            }
            rest = &rest[at + word.len()..];
        }
    }
    words
}

#[test]
fn chart_metadata_is_a_v2_chart_of_this_version() {
    let chart_yaml = read(&chart().join("Chart.yaml"));
    let field = |key: &str| {
        chart_yaml
            .lines()
            .find_map(|line| line.strip_prefix(&format!("{key}:")))
            .map(|v| v.trim().trim_matches('"').to_string())
            .unwrap_or_else(|| panic!("Chart.yaml has no {key}"))
    };
    assert_eq!(field("apiVersion"), "v2");
    assert_eq!(field("name"), "a2a-server");
    let version = field("version");
    let parts: Vec<&str> = version
        .split(['-', '+'])
        .next()
        .unwrap()
        .split('.')
        .collect();
    assert!(
        parts.len() == 3 && parts.iter().all(|p| p.parse::<u64>().is_ok()),
        "Chart.yaml version `{version}` is not SemVer"
    );
    assert_eq!(
        field("appVersion"),
        env!("CARGO_PKG_VERSION"),
        "Chart.yaml appVersion (the default image tag) differs from the crate version"
    );
}

#[test]
fn chart_has_its_files() {
    for file in [
        "Chart.yaml",
        "values.yaml",
        "README.md",
        "templates/_helpers.tpl",
        "templates/deployment.yaml",
        "templates/service.yaml",
        "templates/pvc.yaml",
        "templates/ingress.yaml",
        "templates/servicemonitor.yaml",
        "templates/pdb.yaml",
        "templates/hpa.yaml",
        "templates/serviceaccount.yaml",
        "templates/configmap.yaml",
        "templates/NOTES.txt",
    ] {
        assert!(
            chart().join(file).is_file(),
            "helm/a2a-server/{file} is missing"
        );
    }
}

/// Checks one template's actions: every `{{` closed by `}}` before the next `{{`, trim
/// markers followed (or preceded) by a space, comments closed, and the blocks
/// (`if`/`range`/`with`/`define`/`block`) matched by `end`s, with `else` only inside them.
fn check_actions(text: &str) -> Result<(), String> {
    let line_of = |offset: usize| text[..offset].matches('\n').count() + 1;
    let mut blocks: Vec<(String, usize)> = Vec::new();
    let mut pos = 0;
    while let Some(found) = text[pos..].find("{{") {
        let open = pos + found;
        if let Some(stray) = text[pos..open].find("}}") {
            return Err(format!(
                "line {}: `}}}}` without `{{{{`",
                line_of(pos + stray)
            ));
        }
        let line = line_of(open);
        // Find the closing `}}`, skipping string literals.
        let body_start = open + 2;
        let bytes = text.as_bytes();
        let mut i = body_start;
        let close = loop {
            match bytes.get(i) {
                None => return Err(format!("line {line}: `{{{{` is never closed")),
                Some(b'"') => {
                    i += 1;
                    while bytes.get(i).is_some_and(|&b| b != b'"' && b != b'\n') {
                        i += if bytes[i] == b'\\' { 2 } else { 1 };
                    }
                    if bytes.get(i) != Some(&b'"') {
                        return Err(format!("line {line}: unterminated string in an action"));
                    }
                    i += 1;
                }
                Some(b'`') => {
                    i += 1 + text[i + 1..]
                        .find('`')
                        .ok_or(format!("line {line}: unterminated raw string"))?;
                    i += 1;
                }
                Some(b'{') if bytes.get(i + 1) == Some(&b'{') => {
                    return Err(format!("line {line}: `{{{{` opened inside an action"));
                }
                Some(b'}') if bytes.get(i + 1) == Some(&b'}') => break i,
                Some(_) => i += 1,
            }
        };
        let mut action = &text[body_start..close];
        if let Some(rest) = action.strip_prefix('-') {
            if !rest.starts_with([' ', '\t', '\n']) {
                return Err(format!("line {line}: `{{{{-` must be followed by a space"));
            }
            action = rest;
        }
        if let Some(rest) = action.strip_suffix('-') {
            if !rest.ends_with([' ', '\t', '\n']) {
                return Err(format!("line {line}: `-}}}}` must follow a space"));
            }
            action = rest;
        }
        let action = action.trim();
        if action.starts_with("/*") {
            if !action.ends_with("*/") {
                return Err(format!(
                    "line {line}: a comment must end with `*/` at `}}}}`"
                ));
            }
        } else {
            let mut words = action.split_whitespace();
            let keyword = words.next().unwrap_or_default();
            match keyword {
                "" => return Err(format!("line {line}: empty action")),
                "if" | "range" | "with" | "define" | "block" => {
                    if keyword == "define" && !blocks.is_empty() {
                        return Err(format!("line {line}: `define` inside a block"));
                    }
                    blocks.push((keyword.to_string(), line));
                }
                "else" => {
                    let Some((open_kw, _)) = blocks.last() else {
                        return Err(format!("line {line}: `else` outside a block"));
                    };
                    let chained = words.next();
                    let fits = match open_kw.as_str() {
                        "if" => matches!(chained, None | Some("if")),
                        "with" => matches!(chained, None | Some("with")),
                        "range" => chained.is_none(),
                        _ => false,
                    };
                    if !fits {
                        return Err(format!("line {line}: `{action}` inside `{open_kw}`"));
                    }
                }
                // The guard closes the innermost block; none open is an error.
                "end" if blocks.pop().is_none() => {
                    return Err(format!("line {line}: `end` without a block"));
                }
                _ => {}
            }
        }
        pos = close + 2;
    }
    if let Some(stray) = text[pos..].find("}}") {
        return Err(format!(
            "line {}: `}}}}` without `{{{{`",
            line_of(pos + stray)
        ));
    }
    if let Some((keyword, line)) = blocks.last() {
        return Err(format!("line {line}: `{keyword}` is never ended"));
    }
    Ok(())
}

#[test]
fn template_actions_are_closed_and_blocks_balanced() {
    for (name, text) in templates() {
        if let Err(e) = check_actions(&text) {
            panic!("templates/{name}: {e}");
        }
    }
}

#[test]
fn the_action_checker_catches_mistakes() {
    assert!(check_actions("{{- if .a }}x{{- else if .b }}y{{- else }}z{{- end }}").is_ok());
    assert!(check_actions("{{ printf \"}}\" }}").is_ok());
    assert!(check_actions("{{- /* note */}}").is_ok());
    for bad in [
        "{{- if .a }}x",
        "{{- end }}",
        "{{ .a }",
        "{{ .a }} }}",
        "{{-if .a }}{{ end }}",
        "{{- range .a }}{{ else if .b }}{{ end }}",
        "{{- if .a }}{{- define \"x\" }}{{ end }}{{ end }}",
        "{{ .a {{ .b }}",
        "{{ printf \"x }}",
    ] {
        assert!(check_actions(bad).is_err(), "not caught: {bad}");
    }
}

#[test]
fn included_templates_are_defined() {
    let all: String = templates().into_iter().map(|(_, text)| text).collect();
    let quoted_after = |marker: &str| -> BTreeSet<String> {
        all.match_indices(marker)
            .map(|(at, _)| {
                let rest = &all[at + marker.len()..];
                rest[..rest.find('"').unwrap()].to_string()
            })
            .collect()
    };
    let defined = quoted_after("define \"");
    let used: BTreeSet<String> = quoted_after("include \"")
        .union(&quoted_after("template \""))
        .cloned()
        .collect();
    let missing: Vec<&String> = used.difference(&defined).collect();
    assert!(missing.is_empty(), "included but not defined: {missing:?}");
    for file in quoted_after("$.Template.BasePath \"/") {
        assert!(
            chart().join("templates").join(&file).is_file(),
            "templates/{file} is included but missing"
        );
    }
}

#[test]
fn env_vars_named_by_the_chart_are_server_settings() {
    let known = known_env_names();
    let mut files: Vec<(String, String)> = templates()
        .into_iter()
        .map(|(name, text)| (format!("templates/{name}"), text))
        .collect();
    for file in ["values.yaml", "README.md", "Chart.yaml"] {
        files.push((file.to_string(), read(&chart().join(file))));
    }
    let mut seen = 0;
    for (file, text) in &files {
        for (line, word) in a2a_words(text) {
            // `A2A_` and `A2A_CARD__` alone are prefixes (`printf "A2A_%s"`, `A2A_<KEY>`);
            // the key lists behind them are checked against the server below.
            if word.ends_with('_') {
                continue;
            }
            seen += 1;
            assert!(
                known.contains(&word),
                "{file}:{line}: {word} is not a setting of the server (src/config.rs FIELDS / CardConfig)"
            );
        }
    }
    assert!(seen > 5, "found only {seen} A2A_ variables in the chart");
}

#[test]
fn chart_key_lists_are_the_servers() {
    let config = define_lines("a2a-server.configKeys");
    let managed = define_lines("a2a-server.managedKeys");
    let toml = define_lines("a2a-server.tomlKeys");
    let mut chart_keys: Vec<String> = config
        .iter()
        .chain(&managed)
        .chain(&toml)
        .cloned()
        .collect();
    let count = chart_keys.len();
    chart_keys.sort();
    chart_keys.dedup();
    assert_eq!(
        count,
        chart_keys.len(),
        "a key is listed twice in _helpers.tpl"
    );
    let mut fields = server_fields();
    fields.sort();
    assert_eq!(
        chart_keys, fields,
        "a2a-server.configKeys + managedKeys + tomlKeys in _helpers.tpl must be exactly FIELDS of src/config.rs"
    );

    let mut card: Vec<String> = define_lines("a2a-server.cardKeys");
    card.extend(define_lines("a2a-server.cardListKeys"));
    card.extend(define_lines("a2a-server.cardBoolKeys"));
    card.push("skills".into()); // a list of tables: configToml only
    card.sort();
    let mut card_fields = server_card_fields();
    card_fields.sort();
    assert_eq!(
        card, card_fields,
        "a2a-server.cardKeys + cardListKeys + cardBoolKeys + skills must be exactly the fields of CardConfig"
    );

    // The values.yaml `card` section offers the same fields.
    let values = read(&chart().join("values.yaml"));
    let section = between(&values, "\ncard:\n", "\n\n");
    for field in card.iter().filter(|f| f.as_str() != "skills") {
        assert!(
            section.contains(&format!("  {field}:")),
            "values.yaml card has no {field}"
        );
    }
}

#[test]
fn the_deployment_sets_the_settings_the_chart_manages() {
    let deployment = template("deployment.yaml");
    for key in define_lines("a2a-server.managedKeys") {
        if key == "card" {
            assert!(deployment.contains("include \"a2a-server.cardEnv\""));
            continue;
        }
        // `store` goes by its documented name.
        let env = match key.as_str() {
            "store" => "DATABASE_URL".to_string(),
            other => other.to_uppercase(),
        };
        let name = format!("- name: A2A_{env}");
        assert!(
            deployment.contains(&name),
            "deployment.yaml never sets {name}"
        );
    }
    assert!(deployment.contains("include \"a2a-server.configEnv\""));
    assert!(deployment.contains("{{- include \"a2a-server.validate\" . }}"));
    // Service links would add A2A_<SERVICE>_* variables: noise the server has to ignore.
    assert!(deployment.contains("enableServiceLinks: false"));

    let helpers = template("_helpers.tpl");
    let validate = &helpers[helpers
        .find("define \"a2a-server.validate\"")
        .expect("a2a-server.validate is defined")..];
    assert!(
        validate.contains("(gt $replicas 1) (eq $store \"sqlite\")") && validate.contains("fail"),
        "the validation must fail replicaCount > 1 with the SQLite store"
    );
}

/// The values of `field:` in the blocks of values.yaml's top-level keys ending in `Probe`.
fn probe_fields(values: &str, field: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut in_probe = false;
    for line in values.lines() {
        if !line.starts_with([' ', '#']) && !line.is_empty() {
            in_probe = line.split(':').next().unwrap().ends_with("Probe");
        }
        if in_probe && let Some(value) = line.trim().strip_prefix(&format!("{field}:")) {
            found.push(value.trim().trim_matches('"').to_string());
        }
    }
    found
}

#[test]
fn probe_and_metrics_paths_are_routes() {
    // The router lives in routes.rs (POST / is served in http.rs).
    let http = read(&repo().join("src/transport/routes.rs"));
    let routes: BTreeSet<String> = http
        .match_indices(".route(")
        .map(|(at, _)| {
            let rest = http[at + ".route(".len()..].trim_start();
            let rest = rest.strip_prefix('"').expect("route path literal");
            rest[..rest.find('"').unwrap()].to_string()
        })
        .collect();
    assert!(routes.contains("/metrics"), "routes: {routes:?}");

    let values = read(&chart().join("values.yaml"));
    let mut paths = probe_fields(&values, "path");
    assert_eq!(
        paths.len(),
        3,
        "startup, liveness and readiness probes: {paths:?}"
    );
    for line in template("servicemonitor.yaml").lines() {
        if let Some(path) = line.trim().strip_prefix("path:") {
            paths.push(path.trim().to_string());
        }
    }
    for path in &paths {
        assert!(
            routes.contains(path),
            "{path} is not a route of src/transport/http.rs"
        );
    }
    // The probes use the container port by its name, `admin` when the operations routes
    // moved there (the server then answers 404 for them on `http`).
    let deployment = template("deployment.yaml");
    assert!(deployment.contains("- name: http\n              containerPort:"));
    assert!(
        deployment
            .contains("- name: admin\n              containerPort: {{ int .Values.adminPort }}")
    );
    assert!(deployment.contains("printf \"0.0.0.0:%d\" (int .Values.adminPort)"));
    let ports = probe_fields(&values, "port");
    assert!(
        ports.len() == 3 && ports.iter().all(|p| p == "http"),
        "probe ports: {ports:?}"
    );
    assert_eq!(
        deployment.matches("include \"a2a-server.probe\"").count(),
        3,
        "every probe goes through a2a-server.probe"
    );
    let helpers = template("_helpers.tpl");
    let probe = between(
        &helpers,
        "define \"a2a-server.probe\"",
        "{{- end }}\n{{- toYaml",
    );
    assert!(
        probe.contains("adminPort") && probe.contains("\"port\" \"admin\""),
        "a2a-server.probe moves httpGet probes to the admin port: {probe}"
    );
    assert!(
        template("servicemonitor.yaml")
            .contains("ternary \"admin\" \"http\" (gt (int $.Values.adminPort) 0)"),
        "the ServiceMonitor scrapes the admin port when it is set"
    );
    assert!(template("service.yaml").contains("targetPort: admin"));
    let admin_port: u16 = top_value(&values, "adminPort").parse().unwrap();
    let container_port: u16 = top_value(&values, "containerPort").parse().unwrap();
    assert_ne!(admin_port, container_port, "adminPort vs containerPort");
}

/// The value of a top-level `key:` of values.yaml.
fn top_value(values: &str, key: &str) -> String {
    values
        .lines()
        .find_map(|line| line.strip_prefix(&format!("{key}:")))
        .map(|v| v.trim().to_string())
        .unwrap_or_else(|| panic!("values.yaml has no {key}"))
}

#[test]
fn port_user_data_dir_and_grace_match_the_image_and_server() {
    let dockerfile = read(&repo().join("Dockerfile"));
    let values = read(&chart().join("values.yaml"));

    let listen = dockerfile
        .lines()
        .find_map(|l| l.strip_prefix("ENV A2A_LISTEN="))
        .expect("Dockerfile sets A2A_LISTEN");
    let image_port = listen.rsplit(':').next().unwrap().trim();
    let exposed = dockerfile
        .lines()
        .find_map(|l| l.strip_prefix("EXPOSE "))
        .expect("Dockerfile EXPOSEs a port")
        .trim();
    let chart_port = top_value(&values, "containerPort");
    assert_eq!(
        chart_port, image_port,
        "containerPort vs the image's A2A_LISTEN"
    );
    assert_eq!(chart_port, exposed, "containerPort vs the image's EXPOSE");
    let deployment = template("deployment.yaml");
    assert!(deployment.contains("containerPort: {{ int .Values.containerPort }}"));
    assert!(deployment.contains("printf \"0.0.0.0:%d\" (int .Values.containerPort)"));

    let uid = between(&dockerfile, "--uid ", " ").trim();
    let run_as: Vec<&str> = values
        .lines()
        .filter_map(|l| l.trim().strip_prefix("runAsUser:"))
        .map(str::trim)
        .collect();
    assert!(!run_as.is_empty(), "values.yaml sets no runAsUser");
    assert!(
        run_as.iter().all(|u| *u == uid),
        "runAsUser {run_as:?} vs the image's uid {uid}"
    );

    // The data volume is the server's default ./data under the image's WORKDIR.
    let workdir = dockerfile
        .lines()
        .rev()
        .find_map(|l| l.strip_prefix("WORKDIR "))
        .expect("Dockerfile WORKDIR")
        .trim();
    assert_eq!(
        define_lines("a2a-server.dataDir"),
        [format!("{workdir}/data")]
    );

    // The pod's grace period covers the server's shutdown: the delay, the drain's grace
    // and a margin for stopping the jobs and releasing leases, as the chart's validation
    // demands.
    let shutdown = between(&values, "\nshutdown:\n", "\n\n");
    let seconds = |key: &str| -> u64 {
        shutdown
            .lines()
            .find_map(|l| l.trim().strip_prefix(&format!("{key}:")))
            .unwrap_or_else(|| panic!("values.yaml shutdown.{key}"))
            .trim()
            .parse()
            .unwrap()
    };
    let (delay, drain) = (seconds("delaySeconds"), seconds("graceSeconds"));
    let grace: u64 = top_value(&values, "terminationGracePeriodSeconds")
        .parse()
        .unwrap();
    assert!(
        grace >= delay + drain + 5,
        "terminationGracePeriodSeconds {grace} must cover shutdown.delaySeconds {delay} s + \
         shutdown.graceSeconds {drain} s + 5 s"
    );
    let helpers = template("_helpers.tpl");
    assert!(
        helpers.contains(
            "add (int .Values.shutdown.delaySeconds) (int .Values.shutdown.graceSeconds) 5"
        ),
        "the chart's validation refuses a shorter terminationGracePeriodSeconds"
    );
    // The chart's settings are the server's: same meaning, passed by name.
    let deployment = template("deployment.yaml");
    for (env, value) in [
        ("A2A_SHUTDOWN_DELAY_SECS", "shutdown.delaySeconds"),
        ("A2A_SHUTDOWN_GRACE_SECS", "shutdown.graceSeconds"),
    ] {
        assert!(
            deployment.contains(&format!(
                "- name: {env}\n              value: {{{{ int .Values.{value} | quote }}}}"
            )),
            "deployment.yaml passes {value} as {env}"
        );
    }
    // The image probes itself and stops on SIGTERM, which starts that shutdown.
    assert!(
        dockerfile.contains("CMD [\"a2a\", \"health\"]"),
        "HEALTHCHECK"
    );
    assert!(dockerfile.contains("\nSTOPSIGNAL SIGTERM\n"));
}

/// The key paths of values.yaml's mappings (`store.postgres.existingSecret`), from the
/// indentation. Keys inside list items and block scalars are not followed.
fn value_paths(values: &str) -> BTreeSet<String> {
    let mut paths = BTreeSet::new();
    // (indent, key); an empty key marks a list item.
    let mut stack: Vec<(usize, String)> = Vec::new();
    let mut block_scalar: Option<usize> = None;
    for line in values.lines() {
        let trimmed = line.trim_start();
        let indent = line.len() - trimmed.len();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        if let Some(at) = block_scalar {
            if indent > at {
                continue;
            }
            block_scalar = None;
        }
        while stack.last().is_some_and(|(i, _)| *i >= indent) {
            stack.pop();
        }
        if trimmed.starts_with('-') {
            stack.push((indent, String::new()));
            continue;
        }
        let Some((key, value)) = trimmed.split_once(':') else {
            continue;
        };
        if !key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        {
            continue;
        }
        if stack.iter().all(|(_, k)| !k.is_empty()) {
            let mut path: Vec<&str> = stack.iter().map(|(_, k)| k.as_str()).collect();
            path.push(key);
            paths.insert(path.join("."));
        }
        if value.trim_start().starts_with(['|', '>']) {
            block_scalar = Some(indent);
        }
        stack.push((indent, key.to_string()));
    }
    paths
}

#[test]
fn values_read_by_the_templates_are_in_values_yaml() {
    let defined = value_paths(&read(&chart().join("values.yaml")));
    assert!(
        defined.contains("store.postgres.existingSecret"),
        "{defined:?}"
    );
    assert!(
        !defined.contains("ingress.hosts.paths"),
        "keys in lists are skipped"
    );
    for (name, text) in templates() {
        for (at, _) in text.match_indices(".Values.") {
            let path: String = text[at + ".Values.".len()..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '.')
                .collect();
            let path = path.trim_end_matches('.');
            assert!(
                defined.contains(path),
                "templates/{name} reads .Values.{path}, which values.yaml does not define"
            );
        }
    }
}

#[test]
fn readme_documents_every_top_level_value() {
    let values = read(&chart().join("values.yaml"));
    let readme = read(&chart().join("README.md"));
    for line in values.lines() {
        if line.starts_with([' ', '#', '-']) || line.is_empty() {
            continue;
        }
        let key = line.split(':').next().unwrap();
        assert!(
            readme.contains(&format!("`{key}`")) || readme.contains(&format!("`{key}.")),
            "helm/a2a-server/README.md does not document `{key}`"
        );
    }
}

#[test]
fn values_hold_no_credentials() {
    let values = read(&chart().join("values.yaml"));
    for (n, line) in values.lines().enumerate() {
        let content = line.split(" #").next().unwrap();
        if content.trim_start().starts_with('#') {
            continue;
        }
        if let Some((_, rest)) = content.split_once("://") {
            let authority = rest.split('/').next().unwrap();
            assert!(
                !authority.contains('@'),
                "values.yaml:{}: a URL with credentials",
                n + 1
            );
        }
        if let Some((key, value)) = content.split_once(':') {
            let value = value.trim().trim_matches('"');
            assert!(
                !key.to_lowercase().contains("password") || value.is_empty(),
                "values.yaml:{}: a password in the values",
                n + 1
            );
        }
    }
}

/// The `OTEL_...` words of `text`.
fn otel_words(text: &str) -> BTreeSet<String> {
    text.match_indices("OTEL_")
        .map(|(at, _)| {
            text[at..]
                .chars()
                .take_while(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || *c == '_')
                .collect()
        })
        .collect()
}

#[test]
fn otel_variables_are_standard_and_set_only_with_an_endpoint() {
    // The variables of the OpenTelemetry SDK specification that the server reads (issue 21).
    let standard: BTreeSet<&str> = [
        "OTEL_EXPORTER_OTLP_ENDPOINT",
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
        "OTEL_EXPORTER_OTLP_PROTOCOL",
        "OTEL_EXPORTER_OTLP_HEADERS",
        "OTEL_SERVICE_NAME",
        "OTEL_RESOURCE_ATTRIBUTES",
        "OTEL_TRACES_SAMPLER",
        "OTEL_TRACES_SAMPLER_ARG",
        "OTEL_SDK_DISABLED",
    ]
    .into();
    let mut files: Vec<(String, String)> = templates()
        .into_iter()
        .map(|(name, text)| (format!("templates/{name}"), text))
        .collect();
    for file in ["values.yaml", "README.md"] {
        files.push((file.to_string(), read(&chart().join(file))));
    }
    let mut seen = BTreeSet::new();
    for (file, text) in &files {
        // `OTEL_` alone is the prefix (`OTEL_*` in prose).
        for word in otel_words(text).into_iter().filter(|w| !w.ends_with('_')) {
            assert!(
                standard.contains(word.as_str()),
                "{file}: {word} is not a standard OTEL_ variable the server reads"
            );
            seen.insert(word);
        }
    }
    assert!(seen.len() >= 6, "OTEL_ variables in the chart: {seen:?}");
    let env = between(
        &template("_helpers.tpl"),
        "{{- define \"a2a-server.otelEnv\" -}}",
        "\n{{- end }}\n{{- end }}\n{{- end }}",
    )
    .to_string();
    for name in [
        "OTEL_EXPORTER_OTLP_ENDPOINT",
        "OTEL_EXPORTER_OTLP_PROTOCOL",
        "OTEL_SERVICE_NAME",
        "OTEL_RESOURCE_ATTRIBUTES",
        "OTEL_TRACES_SAMPLER",
        "OTEL_TRACES_SAMPLER_ARG",
    ] {
        assert!(
            env.contains(&format!("- name: {name}\n")),
            "a2a-server.otelEnv sets {name}"
        );
    }
    // No endpoint, no variable: the server then installs no exporter at all.
    assert!(
        env.trim_start()
            .starts_with("{{- with .Values.otel }}\n{{- if .endpoint }}"),
        "a2a-server.otelEnv sets nothing without otel.endpoint: {env}"
    );
    let values = read(&chart().join("values.yaml"));
    let otel = between(&values, "\notel:\n", "\n\n");
    assert!(
        otel.lines().any(|l| l.trim() == "endpoint: \"\""),
        "otel.endpoint is empty by default"
    );
    // $(K8S_POD_NAME) only expands when that variable comes first.
    let pod = env.find("- name: K8S_POD_NAME").expect("K8S_POD_NAME");
    assert!(pod < env.find("- name: OTEL_RESOURCE_ATTRIBUTES").unwrap());
    assert!(env.contains("k8s.pod.name=$(K8S_POD_NAME)"));
    let deployment = template("deployment.yaml");
    assert!(deployment.contains("include \"a2a-server.otelEnv\""));

    // logFormat is the server's log_format (A2A_LOG_FORMAT), one of its two formats.
    assert!(
        deployment.contains("{{- with .Values.logFormat }}\n            - name: A2A_LOG_FORMAT\n")
    );
    let format = top_value(&values, "logFormat");
    assert!(
        ["json", "text", "\"\""].contains(&format.as_str()),
        "{format}"
    );
    let config = read(&repo().join("src/config.rs"));
    assert!(config.contains("pub log_format: Option<LogFormat>"));
    assert!(define_lines("a2a-server.managedKeys").contains(&"log_format".to_string()));
}

#[test]
fn autoscaler_is_off_by_default_and_needs_a_shared_store() {
    let values = read(&chart().join("values.yaml"));
    let autoscaling = between(&values, "\nautoscaling:\n", "\n\n");
    let value = |key: &str| -> String {
        autoscaling
            .lines()
            .find_map(|l| l.trim().strip_prefix(&format!("{key}:")))
            .unwrap_or_else(|| panic!("values.yaml autoscaling.{key}"))
            .trim()
            .to_string()
    };
    assert_eq!(value("enabled"), "false", "the HPA is off by default");
    let (min, max): (u32, u32) = (
        value("minReplicas").parse().unwrap(),
        value("maxReplicas").parse().unwrap(),
    );
    assert!(1 <= min && min <= max, "{min}..{max}");
    // A CPU target is a percentage of the CPU request, which the defaults set.
    assert!(
        value("targetCPUUtilizationPercentage")
            .parse::<u32>()
            .is_ok()
    );
    let resources = between(&values, "\nresources:\n", "\n\n");
    assert!(resources.contains("requests:") && resources.contains("cpu:"));

    let hpa = template("hpa.yaml");
    assert!(hpa.starts_with("{{- with .Values.autoscaling }}\n{{- if .enabled }}\n"));
    assert!(hpa.contains("apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\n"));
    assert!(hpa.contains(
        "scaleTargetRef:\n    apiVersion: apps/v1\n    kind: Deployment\n    name: {{ include \"a2a-server.fullname\" $ }}"
    ));
    for field in ["minReplicas", "maxReplicas"] {
        assert!(hpa.contains(&format!("{field}: {{{{ int .{field} }}}}")));
    }
    // The HPA owns the replica count: the Deployment must not reset it on every upgrade.
    let deployment = template("deployment.yaml");
    assert!(deployment.contains(
        "{{- if not .Values.autoscaling.enabled }}\n  replicas: {{ int .Values.replicaCount }}\n  {{- end }}"
    ));
    assert!(deployment.contains("{{- $fullname := include \"a2a-server.fullname\" . }}"));
    assert!(deployment.contains("kind: Deployment\nmetadata:\n  name: {{ $fullname }}\n"));
    // With the HPA, its maximum is what the single-pod checks hold against the store.
    let helpers = template("_helpers.tpl");
    let validate = &helpers[helpers.find("define \"a2a-server.validate\"").unwrap()..];
    assert!(validate.contains("{{- $replicas = int .maxReplicas }}"));
    let uses = validate
        .find("(gt $replicas 1) (eq $store \"sqlite\")")
        .unwrap();
    assert!(validate.find("$replicas = int .maxReplicas").unwrap() < uses);
}

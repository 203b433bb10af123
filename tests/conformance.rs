//! The conformance runner against real servers: ours in both CI configurations (every
//! check must pass or skip), and the official Python SDK server (the runner must finish
//! and report that server's known gaps).

mod support;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use a2a_server::conformance::{ConformanceArgs, Report, Status, run_checks};
use support::ServerProcess;

fn args(url: &str) -> ConformanceArgs {
    ConformanceArgs {
        url: url.to_string(),
        json: false,
        only: None,
        verbose: false,
        concurrency: 4,
        check_timeout: 60,
    }
}

async fn run(url: &str) -> Report {
    let report = run_checks(&args(url)).await.expect("the runner starts");
    println!("{}", report.table(false));
    report
}

fn status(report: &Report, id: &str) -> Status {
    report
        .outcome(id)
        .unwrap_or_else(|| panic!("no check {id}"))
        .status
}

fn assert_no_failures(report: &Report) {
    let failed: Vec<String> = report
        .failures()
        .iter()
        .map(|o| {
            format!(
                "{} {}: {}",
                o.id,
                o.level.as_str(),
                o.reason.as_deref().unwrap_or("")
            )
        })
        .collect();
    assert!(
        failed.is_empty(),
        "conformance failures:\n{}",
        failed.join("\n")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn our_server_passes_every_check_with_streaming_and_push_declared() {
    // The private-networks switch lets the runner's 127.0.0.1 webhook receiver be
    // registered; servers without push support ignore both variables.
    let server = ServerProcess::start(
        &["--store", "memory:"],
        &[
            ("A2A_STREAMING", "true"),
            ("A2A_PUSH_NOTIFICATIONS", "true"),
            ("A2A_PUSH_ALLOW_PRIVATE_NETWORKS", "true"),
        ],
    );
    let report = run(&server.url).await;
    assert_no_failures(&report);
    assert!(report.capabilities.streaming);
    // R48c/E05-E07: pageSize 0, no id, legacy paths, 0.3 without kind (issue 19).
    for id in [
        "R56-v1", "R58-v1", "R63-v1", "R79-v01", "R62-v03", "R48c-v1", "E05", "E06", "E07",
    ] {
        assert_eq!(status(&report, id), Status::Pass, "{id} must run and pass");
    }
    let push = if report.capabilities.push_notifications {
        assert_eq!(status(&report, "R74b-v1"), Status::Pass, "R74b-v1");
        "R72-v1"
    } else {
        "R66-v1"
    };
    assert_eq!(
        status(&report, push),
        Status::Pass,
        "{push} must run and pass"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn our_server_passes_every_check_with_streaming_and_push_off() {
    let server = ServerProcess::start(
        &["--store", "memory:"],
        &[
            ("A2A_STREAMING", "false"),
            ("A2A_PUSH_NOTIFICATIONS", "false"),
        ],
    );
    let report = run(&server.url).await;
    assert_no_failures(&report);
    assert!(!report.capabilities.streaming && !report.capabilities.push_notifications);
    // The "not supported" answers are checked, not skipped.
    for id in [
        "R55-v1", "R55-v03", "R55-v01", "R66-v1", "R66-v03", "R66-v01", "E06",
    ] {
        assert_eq!(status(&report, id), Status::Pass, "{id} must run and pass");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn our_server_without_private_networks_refuses_blocked_webhooks_but_not_unresolvable_names() {
    let server = ServerProcess::start(
        &["--store", "memory:"],
        &[
            ("A2A_PUSH_NOTIFICATIONS", "true"),
            ("A2A_PUSH_ALLOW_PRIVATE_NETWORKS", "false"),
        ],
    );
    let mut a = args(&server.url);
    a.only = Some("R74".into());
    let report = run_checks(&a).await.expect("the runner starts");
    println!("{}", report.table(false));
    assert_no_failures(&report);
    for id in ["R74", "R74b-v1"] {
        assert_eq!(status(&report, id), Status::Pass, "{id} must run and pass");
    }
}

/// The official a2a-sdk 1.x server (`tests/interop/py_server_v1.py`), killed on drop.
struct PyServer {
    child: Child,
    url: String,
}

impl Drop for PyServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    l.local_addr().expect("local addr").port()
}

fn start_py_server(python: &Path, extra: &[&str]) -> PyServer {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/interop/py_server_v1.py");
    let port = free_port();
    let mut child = Command::new(python)
        .arg(script)
        .args(["--port", &port.to_string()])
        .args(extra)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start py_server_v1.py");
    let stdout = child.stdout.take().expect("piped stdout");
    let server = PyServer {
        child,
        url: format!("http://127.0.0.1:{port}"),
    };
    // The script prints its URL before uvicorn binds; then wait for the port to accept.
    let mut line = String::new();
    let _ = BufReader::new(stdout).read_line(&mut line);
    for _ in 0..150 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return server;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!(
        "py_server_v1.py did not listen on {} within 15 s",
        server.url
    );
}

/// The a2a-sdk 1.x interpreter, or `None` (after saying why) when it is not installed.
fn python_v1() -> Option<std::path::PathBuf> {
    let python = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/interop/.venv-v1/bin/python");
    if python.exists() {
        return Some(python);
    }
    let msg =
        "a2a-sdk 1.x is not installed at tests/interop/.venv-v1; run `bash .ci/setup-interop.sh`";
    if support::in_ci() {
        panic!("{msg} (CI=true: interop tests must run)");
    }
    eprintln!("skipping: {msg}");
    None
}

#[tokio::test(flavor = "multi_thread")]
async fn official_python_server_runs_to_completion_and_shows_its_known_gaps() {
    let Some(python) = python_v1() else { return };
    let server = start_py_server(&python, &[]);
    let report = run(&server.url).await;
    let timed_out: Vec<&str> = report
        .outcomes
        .iter()
        .filter(|o| {
            o.reason
                .as_deref()
                .is_some_and(|r| r.contains("no verdict within"))
        })
        .map(|o| o.id)
        .collect();
    assert!(
        timed_out.is_empty(),
        "checks that never finished: {timed_out:?}"
    );
    // Known gaps of a2a-sdk 1.3.0, each a check that must be able to fail.
    let gaps = [
        ("R07a-v1", "Cache-Control"), // the card has no Cache-Control
        ("E02", "415"),               // a text/plain body is processed, not refused
        ("R17-v1", "-32603"),         // message/send with A2A-Version 1.0: -32603, not -32601
        ("R15-v03", "-32600"),        // 0.3 params errors come back as -32600
    ];
    for (id, why) in gaps {
        let o = report
            .outcome(id)
            .unwrap_or_else(|| panic!("no check {id}"));
        assert_eq!(
            o.status,
            Status::Fail,
            "{id} should fail on the Python server"
        );
        let reason = o.reason.as_deref().unwrap_or_default();
        assert!(
            reason.contains(why),
            "{id} failed for another reason: {reason}"
        );
    }
    // What it does implement passes, and it does not speak 0.1.
    for id in ["R25-v1", "R26-v03", "R58-v1", "R62-v1", "R63-v1", "R42-v1"] {
        assert_eq!(
            status(&report, id),
            Status::Pass,
            "{id} should pass on the Python server"
        );
    }
    assert_eq!(status(&report, "R78-v01"), Status::Skipped);
    assert!(report.must_failures() > 0);
}

/// `conformance/README.md` lists every check; `UPDATE_CONFORMANCE_README=1` rewrites it.
#[test]
fn readme_lists_every_check() {
    const BEGIN: &str = "<!-- checks:begin -->\n";
    const END: &str = "<!-- checks:end -->";
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("conformance/README.md");
    let text = std::fs::read_to_string(&path).expect("conformance/README.md exists");
    let (head, rest) = text
        .split_once(BEGIN)
        .expect("the README has the begin marker");
    let (_, tail) = rest.split_once(END).expect("the README has the end marker");
    let want = format!(
        "{head}{BEGIN}{}{END}{tail}",
        a2a_server::conformance::checks_markdown()
    );
    if std::env::var("UPDATE_CONFORMANCE_README").is_ok() {
        std::fs::write(&path, &want).expect("write the README");
        return;
    }
    assert!(
        text == want,
        "conformance/README.md is out of date; run \
         UPDATE_CONFORMANCE_README=1 cargo test --test conformance readme"
    );
}

/// The push checks against a real implementation (the Python SDK's sender and config
/// store): they pass where it follows the spec and fail where it does not.
#[tokio::test(flavor = "multi_thread")]
async fn push_checks_pass_and_fail_against_the_python_sdk_push_implementation() {
    let Some(python) = python_v1() else { return };
    let server = start_py_server(&python, &["--push"]);
    let mut a = args(&server.url);
    a.only = Some("R66,R67,R68,R69,R70,R71,R72,R73,R74,R75".into());
    let report = run_checks(&a).await.expect("the runner starts");
    println!("{}", report.table(false));
    assert!(report.capabilities.push_notifications);
    for id in [
        "R67-v1", "R68-v1", "R69-v1", "R70-v1", "R71-v1", "R73-v1", "R75-v1",
    ] {
        assert_eq!(status(&report, id), Status::Pass, "{id} should pass");
    }
    // a2a-sdk 1.3.0 posts 1.0 webhooks as application/json, not application/a2a+json.
    let o = report.outcome("R72-v1").expect("R72-v1 ran");
    assert_eq!(o.status, Status::Fail);
    assert!(
        o.reason
            .as_deref()
            .unwrap_or_default()
            .contains("Content-Type")
    );
}

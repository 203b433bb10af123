//! Shared by the test binaries that run the real `a2a` binary or need a real database.
#![allow(dead_code)] // each test binary uses its own part of this module

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

pub mod app;
pub mod idp;
pub mod proxy;
pub mod stores;

pub const BIN: &str = env!("CARGO_BIN_EXE_a2a");

/// `a2a serve` as a child process, killed (SIGKILL) on drop.
pub struct ServerProcess {
    pub child: Child,
    pub url: String,
    /// The operations listener, when `A2A_ADMIN_LISTEN` is set.
    pub admin_url: Option<String>,
}

impl ServerProcess {
    /// Starts `a2a serve --listen 127.0.0.1:0 --agent conformance ARGS...` with `envs`, and
    /// waits for its `listening on` line.
    pub fn start(args: &[&str], envs: &[(&str, &str)]) -> ServerProcess {
        Self::spawn(args, envs, None)
    }

    /// [`ServerProcess::start`], with every line the server writes to stderr (its log,
    /// through a pipe: not a terminal), and to stdout after its `listening on` line,
    /// collected into the returned [`Logs`].
    pub fn start_logged(args: &[&str], envs: &[(&str, &str)]) -> (ServerProcess, Logs) {
        let logs = Logs::default();
        (Self::spawn(args, envs, Some(logs.clone())), logs)
    }

    fn spawn(args: &[&str], envs: &[(&str, &str)], logs: Option<Logs>) -> ServerProcess {
        let mut cmd = Command::new(BIN);
        cmd.args(["serve", "--listen", "127.0.0.1:0", "--agent", "conformance"])
            .args(args)
            .env_remove("A2A_CONFIG")
            .env_remove("A2A_PUBLIC_URL")
            .env_remove("A2A_DATABASE_URL")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(if logs.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            });
        for (k, v) in envs {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("spawn a2a serve");
        if let (Some(logs), Some(stderr)) = (logs.clone(), child.stderr.take()) {
            thread::spawn(move || {
                for line in BufReader::new(stderr).lines() {
                    let Ok(line) = line else { return };
                    logs.0.lock().unwrap().push(line);
                }
            });
        }
        let stdout = child.stdout.take().expect("piped stdout");
        let out_logs = logs.clone();
        let (tx, rx) = mpsc::channel();
        thread::spawn(move || {
            let mut lines = BufReader::new(stdout).lines();
            let mut admin = None;
            for line in lines.by_ref() {
                let Ok(line) = line else { return };
                let url = |u: &str| u.trim_end_matches('/').to_string();
                // Printed before the public line.
                if let Some(u) = line.trim().strip_prefix("admin listening on ") {
                    admin = Some(url(u));
                } else if let Some(u) = line.trim().strip_prefix("listening on ") {
                    let _ = tx.send((url(u), admin.take()));
                    break;
                }
            }
            // Keep draining so the server never blocks on a full pipe.
            for line in lines {
                if let (Some(logs), Ok(line)) = (&out_logs, line) {
                    logs.0.lock().unwrap().push(line);
                }
            }
        });
        let (url, admin_url) = rx
            .recv_timeout(Duration::from_secs(30))
            .expect("the server prints `listening on http://...` within 30 s");
        ServerProcess {
            child,
            url,
            admin_url,
        }
    }

    /// Sends SIGTERM, as Kubernetes and `docker stop` do.
    pub fn terminate(&self) {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -TERM failed");
    }

    /// Waits up to `limit` for the process to exit; its status, or `None` if it still runs.
    pub fn wait_exit(&mut self, limit: Duration) -> Option<std::process::ExitStatus> {
        let deadline = std::time::Instant::now() + limit;
        loop {
            if let Some(s) = self.child.try_wait().expect("try_wait") {
                return Some(s);
            }
            if std::time::Instant::now() > deadline {
                return None;
            }
            thread::sleep(Duration::from_millis(20));
        }
    }

    /// Kills the process with SIGKILL, as a crash would.
    pub fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The stderr lines of a [`ServerProcess::start_logged`] server so far.
#[derive(Clone, Default)]
pub struct Logs(std::sync::Arc<std::sync::Mutex<Vec<String>>>);

impl Logs {
    pub fn lines(&self) -> Vec<String> {
        self.0.lock().unwrap().clone()
    }

    /// Waits (up to 10 s) until some line satisfies `f`, then returns all lines.
    pub fn wait_for(&self, what: &str, f: impl Fn(&str) -> bool) -> Vec<String> {
        for _ in 0..200 {
            let lines = self.lines();
            if lines.iter().any(|l| f(l)) {
                return lines;
            }
            thread::sleep(Duration::from_millis(50));
        }
        panic!(
            "no log line {what} within 10 s; the log:\n{}",
            self.lines().join("\n")
        );
    }
}

/// Whether the run is in CI, where every service-backed test must run.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

/// The admin URL of the test Postgres: `A2A_TEST_POSTGRES_URL`. Outside CI an unset
/// variable skips the test (with a message); in CI it fails it.
pub fn postgres_admin_url() -> Option<String> {
    match std::env::var("A2A_TEST_POSTGRES_URL") {
        Ok(u) if !u.is_empty() => Some(u),
        _ if in_ci() => {
            panic!("CI=true but A2A_TEST_POSTGRES_URL is not set; Postgres tests must run in CI")
        }
        _ => {
            eprintln!(
                "skipping: set A2A_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/postgres \
                 to run the Postgres tests"
            );
            None
        }
    }
}

/// A fresh Postgres database for one test, dropped afterwards.
pub struct TestDatabase {
    pub url: String,
    admin: String,
    name: String,
}

impl TestDatabase {
    /// `None` when Postgres tests are skipped (see [`postgres_admin_url`]).
    pub async fn create() -> Option<TestDatabase> {
        use sqlx::Connection;
        let admin = postgres_admin_url()?;
        let name = format!("a2a_test_{}", uuid::Uuid::new_v4().simple());
        let mut conn = sqlx::PgConnection::connect(&admin)
            .await
            .unwrap_or_else(|e| panic!("cannot reach the test Postgres at {admin}: {e}"));
        // The name is ours (a UUID), not input.
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut conn)
            .await
            .expect("create the test database");
        let base = admin.rsplit_once('/').map_or(admin.as_str(), |(b, _)| b);
        Some(TestDatabase {
            url: format!("{base}/{name}"),
            admin,
            name,
        })
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let (admin, name) = (self.admin.clone(), self.name.clone());
        // Drop runs outside any runtime guarantee: use a thread with its own.
        let _ = thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()?;
            rt.block_on(async {
                use sqlx::Connection;
                let mut conn = sqlx::PgConnection::connect(&admin).await.ok()?;
                sqlx::query(sqlx::AssertSqlSafe(format!(
                    "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                )))
                .execute(&mut conn)
                .await
                .ok()
            })
        })
        .join();
    }
}

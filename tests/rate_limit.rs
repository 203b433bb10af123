//! Rate limits: the burst, then 429 with `Retry-After` and a JSON-RPC error; client IPs
//! from `X-Forwarded-For` only through trusted proxies; one budget shared by two server
//! processes through Redis; a Redis that goes away mid-test (local buckets take over) and
//! comes back.
//!
//! The Redis tests run their own `redis-server` on a free port (never the shared service,
//! which they must not stop); without the binary they skip, with `CI=true` they fail. The
//! test against the shared service needs `A2A_TEST_REDIS_URL`.

mod support;

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use a2a_server::config::{Config, RateLimitConfig};
use serde_json::{Value, json};
use support::ServerProcess;
use support::app::start;

const RATE_LIMITED: i64 = -32029;

fn config(per_second: u32, burst: u32, tweak: impl FnOnce(&mut Config)) -> Config {
    support::app::config(|c| {
        c.rate_limit = Some(RateLimitConfig {
            per_second,
            burst: Some(burst),
        });
        tweak(c);
    })
}

/// A GetTask of a task that does not exist: cheap, and answered (-32001) when allowed.
async fn call(
    http: &reqwest::Client,
    url: &str,
    id: u64,
    xff: Option<&str>,
) -> (u16, Value, Option<String>) {
    let headers: Vec<(&str, &str)> = xff.map(|x| ("X-Forwarded-For", x)).into_iter().collect();
    call_as(http, url, id, &headers).await
}

/// [`call`] with any headers (credentials, `X-Forwarded-For`).
async fn call_as(
    http: &reqwest::Client,
    url: &str,
    id: u64,
    headers: &[(&str, &str)],
) -> (u16, Value, Option<String>) {
    let params = json!({"id": "no-such-task"});
    let a = support::app::rpc(http, url, Some("1.0"), id, "GetTask", params, headers).await;
    let retry = a
        .headers
        .get("retry-after")
        .map(|v| v.to_str().unwrap().to_string());
    (a.status, a.body, retry)
}

fn allowed(status: u16, body: &Value) -> bool {
    status == 200 && body["error"]["code"] == -32001
}

#[tokio::test]
async fn after_the_burst_429_with_retry_after_and_a_jsonrpc_error() {
    let server = start(config(1, 3, |_| {})).await;
    let http = reqwest::Client::new();
    for id in 1..=3 {
        let (status, body, _) = call(&http, &server.url, id, None).await;
        assert!(
            allowed(status, &body),
            "call {id} within the burst: {status} {body}"
        );
    }
    let (status, body, retry) = call(&http, &server.url, 77, None).await;
    assert_eq!(status, 429, "{body}");
    let secs: u64 = retry.expect("Retry-After").parse().expect("whole seconds");
    assert!(secs >= 1, "Retry-After {secs}");
    assert_eq!(body["jsonrpc"], "2.0");
    assert_eq!(body["id"], 77, "the id is echoed: {body}");
    assert_eq!(body["error"]["code"], RATE_LIMITED);
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("rate limit"),
        "{body}"
    );
    // An unparseable body still gets the JSON-RPC error, with a null id.
    let resp = http
        .post(format!("{}/", server.url))
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 429);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(
        (body["id"].clone(), body["error"]["code"].clone()),
        (Value::Null, json!(RATE_LIMITED))
    );
    // Counted for Prometheus.
    let metrics = http
        .get(format!("{}/metrics", server.url))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(metrics.contains("a2a_rate_limited_total 2"), "{metrics}");
    // The card and health routes are not JSON-RPC calls and are not limited.
    let card = http
        .get(format!("{}/.well-known/agent-card.json", server.url))
        .send()
        .await
        .unwrap();
    assert_eq!(card.status(), 200);
}

#[tokio::test]
async fn x_forwarded_for_is_believed_only_from_trusted_proxies() {
    let http = reqwest::Client::new();
    // Untrusted peer: every XFF value is the same caller, the peer.
    let server = start(config(1, 2, |_| {})).await;
    for (id, xff) in [(1, "1.1.1.1"), (2, "2.2.2.2")] {
        let (status, body, _) = call(&http, &server.url, id, Some(xff)).await;
        assert!(allowed(status, &body), "{status} {body}");
    }
    let (status, _, _) = call(&http, &server.url, 3, Some("3.3.3.3")).await;
    assert_eq!(status, 429, "a spoofed X-Forwarded-For opens no new bucket");

    // The test's loopback address as the trusted proxy: one bucket per forwarded client.
    let server = start(config(1, 2, |c| {
        c.auth.trusted_proxies = vec!["127.0.0.0/8".into()];
    }))
    .await;
    for id in 1..=2 {
        let (status, body, _) = call(&http, &server.url, id, Some("1.1.1.1")).await;
        assert!(allowed(status, &body), "{status} {body}");
    }
    let (status, _, _) = call(&http, &server.url, 3, Some("1.1.1.1")).await;
    assert_eq!(status, 429, "1.1.1.1 used its burst");
    let (status, body, _) = call(&http, &server.url, 4, Some("2.2.2.2")).await;
    assert!(
        allowed(status, &body),
        "2.2.2.2 has its own bucket: {status} {body}"
    );
    // The right-most untrusted hop is the client: 1.1.1.1 forwarded by another proxy hop.
    let (status, _, _) = call(&http, &server.url, 5, Some("9.9.9.9, 1.1.1.1, 127.0.0.5")).await;
    assert_eq!(status, 429, "still 1.1.1.1's bucket");
}

#[tokio::test]
async fn owners_behind_one_address_have_their_own_buckets_and_anonymous_callers_the_ips() {
    use sha2::{Digest, Sha256};
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("api-keys");
    let (alice, bob) = ("a2a_alice_rate_0123456789", "a2a_bob_rate_9876543210");
    let line = |key: &str, owner: &str| {
        format!("{} {owner}\n", hex::encode(Sha256::digest(key.as_bytes())))
    };
    std::fs::write(&file, line(alice, "alice") + &line(bob, "bob")).unwrap();
    let server = start(config(1, 2, |c| {
        c.auth.allow_anonymous = true;
        c.auth.api_keys = Some(a2a_server::auth::ApiKeysConfig {
            file: file.clone(),
            header: "X-API-Key".into(),
        });
    }))
    .await;
    let (http, url) = (reqwest::Client::new(), server.url.as_str());
    let as_alice = [("X-API-Key", alice)];
    let as_bob = [("X-API-Key", bob)];
    // Alice uses her burst from 127.0.0.1.
    for id in 1..=2 {
        let (status, body, _) = call_as(&http, url, id, &as_alice).await;
        assert!(allowed(status, &body), "alice {id}: {status} {body}");
    }
    let (status, _, retry) = call_as(&http, url, 3, &as_alice).await;
    assert_eq!(status, 429, "alice is over her limit");
    assert!(retry.is_some());
    // Bob, from the same address, has his own bucket.
    for id in 4..=5 {
        let (status, body, _) = call_as(&http, url, id, &as_bob).await;
        assert!(allowed(status, &body), "bob {id}: {status} {body}");
    }
    // Anonymous callers from that address: the address's bucket, untouched so far.
    for id in 6..=7 {
        let (status, body, _) = call_as(&http, url, id, &[]).await;
        assert!(allowed(status, &body), "anonymous {id}: {status} {body}");
    }
    assert_eq!(call_as(&http, url, 8, &[]).await.0, 429, "the IP's burst");
    assert_eq!(call_as(&http, url, 9, &as_bob).await.0, 429, "bob's burst");
    // A wrong key is charged to the address's bucket (already empty), not to an owner's.
    let (status, _, _) = call_as(&http, url, 10, &[("X-API-Key", "a2a_wrong")]).await;
    assert_eq!(status, 429);
}

/// A `redis-server` of the test's own on a free port, killed on drop.
struct OwnRedis {
    child: Child,
    port: u16,
}

impl OwnRedis {
    /// `None` (after saying why) when `redis-server` is not installed and CI is not set.
    fn start() -> Option<OwnRedis> {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        Self::start_on(port)
    }

    fn start_on(port: u16) -> Option<OwnRedis> {
        let child = Command::new("redis-server")
            .args(["--bind", "127.0.0.1", "--port", &port.to_string()])
            .args(["--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn();
        let child = match child {
            Ok(c) => c,
            Err(e) if std::env::var("CI").is_ok_and(|v| v == "true") => {
                panic!("CI=true and redis-server cannot run: {e}")
            }
            Err(e) => {
                eprintln!("skipped: redis-server cannot run ({e}); install redis-server");
                return None;
            }
        };
        let redis = OwnRedis { child, port };
        let deadline = Instant::now() + Duration::from_secs(10);
        while redis.cli(&["ping"]) != "PONG" {
            assert!(Instant::now() < deadline, "redis-server did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        Some(redis)
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    fn cli(&self, args: &[&str]) -> String {
        Command::new("redis-cli")
            .args(["-p", &self.port.to_string()])
            .args(args)
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
            .unwrap_or_default()
    }

    fn stop(mut self) -> u16 {
        let _ = self.child.kill();
        let _ = self.child.wait();
        self.port
    }
}

impl Drop for OwnRedis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `/readyz`'s `redis` check once it is `status` (bounded wait), with the whole body.
async fn wait_redis_check(http: &reqwest::Client, url: &str, status: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let resp = http.get(format!("{url}/readyz")).send().await.unwrap();
        let code = resp.status().as_u16();
        let body: Value = resp.json().await.unwrap();
        if body["checks"]["redis"]["status"] == status {
            assert_eq!(code, 200, "Redis is optional: {body}");
            return body;
        }
        assert!(
            Instant::now() < deadline,
            "redis never became {status}: {body}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_share_one_budget_through_redis() {
    let Some(redis) = OwnRedis::start() else {
        return;
    };
    let env = [
        ("A2A_REDIS_URL", redis.url()),
        ("A2A_RATE_LIMIT__PER_SECOND", "1".to_string()),
        ("A2A_RATE_LIMIT__BURST", "4".to_string()),
        ("A2A_STORE", "memory:".to_string()),
    ];
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let a = ServerProcess::start(&[], &env);
    let b = ServerProcess::start(&[], &env);
    let http = reqwest::Client::new();
    for s in [&a, &b] {
        wait_redis_check(&http, &s.url, "ok").await;
    }
    let started = Instant::now();
    let (mut ok, mut limited) = ([0u32; 2], [0u32; 2]);
    for i in 0..16u64 {
        let which = (i % 2) as usize;
        let url = if which == 0 { &a.url } else { &b.url };
        let (status, body, _) = call(&http, url, i, None).await;
        match status {
            429 => limited[which] += 1,
            _ if allowed(status, &body) => ok[which] += 1,
            _ => panic!("unexpected answer {status} {body}"),
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    let total = ok[0] + ok[1];
    // One bucket of 4, refilled at 1/s while the calls ran; two local buckets would have
    // allowed 8 at once.
    let budget = 4 + elapsed.ceil() as u32;
    assert!(
        total >= 4 && total <= budget,
        "{ok:?} allowed in {elapsed:.2}s, budget {budget}"
    );
    assert!(
        limited[0] > 0 && limited[1] > 0,
        "both processes refuse: {limited:?}"
    );
    assert!(redis.cli(&["exists", "a2a:ratelimit:ip:127.0.0.1"]) == "1");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redis_cut_mid_test_falls_back_to_local_buckets_and_recovers() {
    let Some(redis) = OwnRedis::start() else {
        return;
    };
    let server = start(config(1, 3, |c| c.redis_url = Some(redis.url()))).await;
    let http = reqwest::Client::new();
    wait_redis_check(&http, &server.url, "ok").await;
    for id in 1..=3 {
        let (status, body, _) = call(&http, &server.url, id, None).await;
        assert!(allowed(status, &body), "{status} {body}");
    }
    assert_eq!(call(&http, &server.url, 4, None).await.0, 429);
    assert_eq!(redis.cli(&["exists", "a2a:ratelimit:ip:127.0.0.1"]), "1");

    // Redis goes away: the calls are decided by this process's own (full) bucket.
    let port = redis.stop();
    for id in 5..=7 {
        let (status, body, _) = call(&http, &server.url, id, None).await;
        assert!(
            allowed(status, &body),
            "served while Redis is down: {status} {body}"
        );
    }
    assert_eq!(
        call(&http, &server.url, 8, None).await.0,
        429,
        "still limited"
    );
    let body = wait_redis_check(&http, &server.url, "failing").await;
    assert_eq!(body["status"], "degraded", "{body}");

    // Redis is back (empty): the shared bucket decides again.
    let redis = OwnRedis::start_on(port).expect("redis-server restarts");
    wait_redis_check(&http, &server.url, "ok").await;
    let deadline = Instant::now() + Duration::from_secs(15);
    while redis.cli(&["exists", "a2a:ratelimit:ip:127.0.0.1"]) != "1" {
        // Calls go to Redis again once its backoff is over.
        let _ = call(&http, &server.url, 9, None).await;
        assert!(
            Instant::now() < deadline,
            "the limiter never used Redis again"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn the_shared_redis_service_limits_and_reports_ready() {
    let Ok(url) = std::env::var("A2A_TEST_REDIS_URL") else {
        assert!(
            std::env::var("CI").map_or(true, |v| v != "true"),
            "CI=true needs A2A_TEST_REDIS_URL"
        );
        eprintln!("skipped: set A2A_TEST_REDIS_URL (e.g. redis://127.0.0.1:6379)");
        return;
    };
    let server = start(config(1, 2, |c| {
        c.redis_url = Some(url);
        c.auth.trusted_proxies = vec!["127.0.0.0/8".into()];
    }))
    .await;
    let http = reqwest::Client::new();
    wait_redis_check(&http, &server.url, "ok").await;
    // A client address of this run only (TEST-NET-2 and a random host), so runs and other
    // tests sharing the service never share a bucket.
    let n = uuid::Uuid::new_v4().as_bytes()[0];
    let client = format!("198.51.100.{n}");
    let key = format!("a2a:ratelimit:ip:{client}");
    let mut statuses = Vec::new();
    for id in 1..=3 {
        statuses.push(call(&http, &server.url, id, Some(&client)).await.0);
    }
    assert_eq!(statuses, [200, 200, 429], "burst of 2 through {key}");
}

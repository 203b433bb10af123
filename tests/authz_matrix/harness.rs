//! One real server per store and test module (in this process, on a real socket, with
//! real API keys and HS256 JWTs), four callers, and the comparison every refusal must pass:
//! the same HTTP status and the same JSON-RPC error object as for an id that does not
//! exist (the id substituted), with nothing of the owner's in it.

use std::time::Duration;

use a2a_server::config::{Config, Overrides};
use a2a_server::service::TaskService;
use a2a_server::startup::Application;
use futures::StreamExt;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::support::stores::{StoreUrl, store_url};

const KEY_A: &str = "a2a_alice_t1_0123456789abcdef0123";
const KEY_T2: &str = "a2a_alice_t2_fedcba9876543210fedc";
const ISSUER: &str = "https://idp.authz.test";
const AUDIENCE: &str = "a2a-authz";
const SECRET: &str = "authz-matrix-hs256-secret-of-at-least-32-bytes";

/// The callers: `A` (API key, owner alice, tenant t1) owns what the others probe;
/// `B` (a bearer JWT, owner bob, the same tenant t1); `T2` (API key, the same owner
/// alice, tenant t2); `Anon` (no credentials, `allow_anonymous`: the empty scope).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Who {
    A,
    B,
    T2,
    Anon,
}

/// Everyone who must not reach A's tasks.
pub const OTHERS: [Who; 3] = [Who::B, Who::T2, Who::Anon];

/// The wire version a call speaks: 1.0 sends `A2A-Version: 1.0`; 0.3 and 0.1 send no
/// header and are told apart by method name.
#[derive(Debug, Clone, Copy)]
pub enum V {
    V1,
    Legacy,
}

/// Extra request headers of a call (`Last-Event-ID`).
pub type Headers = Vec<(&'static str, &'static str)>;

/// One probe of a matrix: the method, its params for a task id, its extra headers.
pub type Probe<P> = (&'static str, P, Headers);

/// A JSON-RPC answer: a JSON body, or the first event of an SSE stream.
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    pub sse: bool,
    pub body: Value,
}

impl Answer {
    pub fn result(&self) -> &Value {
        &self.body["result"]
    }

    pub fn code(&self) -> Option<i64> {
        self.body["error"]["code"].as_i64()
    }
}

pub struct Server {
    pub url: String,
    pub service: TaskService,
    pub kind: &'static str,
    http: reqwest::Client,
    bearer_b: String,
    _shutdown: tokio::sync::oneshot::Sender<()>,
    _store: StoreUrl,
    _dir: tempfile::TempDir,
}

fn key_line(key: &str, owner: &str, tenant: &str) -> String {
    format!(
        "{} {owner} {tenant}\n",
        hex::encode(Sha256::digest(key.as_bytes()))
    )
}

fn bearer(sub: &str, tenant: &str) -> String {
    let exp = chrono::Utc::now().timestamp() + 3600;
    let claims = json!({"iss": ISSUER, "aud": AUDIENCE, "sub": sub, "tenant": tenant, "exp": exp});
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(SECRET.as_bytes()),
    )
    .unwrap()
}

/// The server on store `kind`; `None` when that store is skipped (Postgres without
/// `A2A_TEST_POSTGRES_URL`, outside CI).
pub async fn start(kind: &'static str) -> Option<Server> {
    let store = store_url(kind).await?;
    let dir = tempfile::tempdir().unwrap();
    let keys = dir.path().join("api-keys");
    std::fs::write(
        &keys,
        key_line(KEY_A, "alice", "t1") + &key_line(KEY_T2, "alice", "t2"),
    )
    .unwrap();
    let toml = dir.path().join("a2a.toml");
    std::fs::write(
        &toml,
        format!(
            "[auth]\nallow_anonymous = true\n\
             [auth.api_keys]\nfile = {keys:?}\n\
             [[auth.jwt]]\nissuer = {ISSUER:?}\naudience = [{AUDIENCE:?}]\n\
             algorithms = [\"HS256\"]\nsecret = {SECRET:?}\ntenant_claim = \"tenant\"\n",
            keys = keys.display().to_string(),
        ),
    )
    .unwrap();
    let config = Config::load(
        Some(toml),
        Overrides {
            listen: Some("127.0.0.1:0".parse().unwrap()),
            agent: Some("conformance".into()),
            store: Some(store.url.clone()),
            streaming: Some(true),
            push_notifications: Some(true),
            push_allow_private_networks: Some(true),
            ..Default::default()
        },
    )
    .expect("config loads");
    let app = Application::build(config).await.expect("server builds");
    let url = format!("http://{}", app.addr());
    let service = app.service().clone();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(app.run_until(async move {
        let _ = rx.await;
    }));
    Some(Server {
        url,
        service,
        kind,
        http: reqwest::Client::new(),
        bearer_b: bearer("bob", "t1"),
        _shutdown: tx,
        _store: store,
        _dir: dir,
    })
}

impl Server {
    pub async fn rpc(&self, who: Who, v: V, method: &str, params: Value) -> Answer {
        self.rpc_with(who, v, method, params, &[]).await
    }

    /// One call; a streamed answer is read up to its first event (enough for a refusal,
    /// which is never streamed, and for a subscription's first snapshot).
    pub async fn rpc_with(
        &self,
        who: Who,
        v: V,
        method: &str,
        params: Value,
        headers: &[(&str, &str)],
    ) -> Answer {
        let mut rb = self
            .http
            .post(format!("{}/", self.url))
            .json(&json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}));
        rb = match who {
            Who::A => rb.header("X-API-Key", KEY_A),
            Who::T2 => rb.header("X-API-Key", KEY_T2),
            Who::B => rb.bearer_auth(&self.bearer_b),
            Who::Anon => rb,
        };
        if matches!(v, V::V1) {
            rb = rb.header("A2A-Version", "1.0");
        }
        for (k, val) in headers {
            rb = rb.header(*k, *val);
        }
        let resp = rb.send().await.expect("the server answers");
        let status = resp.status().as_u16();
        let sse = resp
            .headers()
            .get("content-type")
            .and_then(|c| c.to_str().ok())
            .is_some_and(|c| c.starts_with("text/event-stream"));
        if !sse {
            let text = resp.text().await.unwrap();
            let body = serde_json::from_str(&text)
                .unwrap_or_else(|e| panic!("{method}: a JSON body ({e}): {text}"));
            return Answer { status, sse, body };
        }
        let mut events = eventsource_stream::EventStream::new(resp.bytes_stream());
        // A guard against a hung stream, not a timed assertion.
        let first = tokio::time::timeout(Duration::from_secs(20), events.next())
            .await
            .unwrap_or_else(|_| panic!("{method}: no SSE event within 20 s"))
            .unwrap_or_else(|| panic!("{method}: the stream ended without an event"))
            .expect("a well-formed SSE event");
        let body = serde_json::from_str(&first.data).expect("SSE data is JSON");
        Answer { status, sse, body }
    }

    /// Asserts that `who` calling `method` with `params(foreign)` is refused exactly as
    /// with `params(missing)` (an id nobody has): -32001, the same HTTP status, the same
    /// error object with the id substituted, streamed or not alike, and none of `secrets`
    /// anywhere.
    #[allow(clippy::too_many_arguments)]
    pub async fn assert_unknown(
        &self,
        who: Who,
        v: V,
        method: &str,
        foreign: &str,
        missing: &str,
        params: impl Fn(&str) -> Value,
        headers: &[(&str, &str)],
        secrets: &[&str],
    ) {
        self.assert_same(
            who,
            v,
            method,
            (foreign, params(foreign)),
            (missing, params(missing)),
            headers,
            secrets,
        )
        .await;
    }

    /// [`Server::assert_unknown`] with the two calls' params given: the foreign call (its
    /// id and params) against a call naming an unknown id in the caller's own scope.
    #[allow(clippy::too_many_arguments)]
    pub async fn assert_same(
        &self,
        who: Who,
        v: V,
        method: &str,
        (foreign, fparams): (&str, Value),
        (missing, mparams): (&str, Value),
        headers: &[(&str, &str)],
        secrets: &[&str],
    ) {
        let f = self.rpc_with(who, v, method, fparams, headers).await;
        let m = self.rpc_with(who, v, method, mparams, headers).await;
        let what = format!("{} {who:?} {method} {foreign}", self.kind);
        assert_eq!(f.code(), Some(-32001), "{what}: {:?}", f.body);
        // 0.x streaming methods answer errors as an SSE event: as for an unknown id.
        assert_eq!(
            f.sse, m.sse,
            "{what}: refused as a stream, or not, unlike an unknown id"
        );
        assert_eq!(f.status, m.status, "{what}: HTTP status");
        assert_eq!(
            shape(&f.body, foreign),
            shape(&m.body, missing),
            "{what}: the refusal differs from an unknown id's"
        );
        assert_no_secrets(&what, &f.body, foreign, secrets);
    }
}

/// The answer without the envelope's id, with `id` replaced by a placeholder.
pub fn shape(body: &Value, id: &str) -> String {
    let mut b = body.clone();
    if let Some(o) = b.as_object_mut() {
        o.remove("id");
    }
    b.to_string().replace(id, "<id>")
}

/// `body` names none of `secrets` (after the id the caller itself sent is cut out).
pub fn assert_no_secrets(what: &str, body: &Value, asked: &str, secrets: &[&str]) {
    let text = body.to_string().replace(asked, "<id>");
    for s in secrets {
        assert!(
            !text.contains(s),
            "{what}: the answer reveals `{s}`: {text}"
        );
    }
}

/// A fresh id that names nothing (the comparison's "missing" side).
pub fn random_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// A 1.0 user message (the conformance agent echoes `text` and waits for input unless
/// `message_id` starts with one of its prefixes, e.g. `tck-complete-task`).
pub fn msg_v1(message_id: &str, text: &str) -> Value {
    json!({"messageId": format!("{message_id}-{}", uuid::Uuid::new_v4()), "role": "ROLE_USER", "parts": [{"text": text}]})
}

pub fn msg_v03(message_id: &str, text: &str) -> Value {
    json!({"kind": "message", "messageId": format!("{message_id}-{}", uuid::Uuid::new_v4()), "role": "user", "parts": [{"kind": "text", "text": text}]})
}

pub fn msg_v01(text: &str) -> Value {
    json!({"role": "user", "parts": [{"type": "text", "text": text}]})
}

/// A task A (or anyone) created, with what must never show up in another's answers.
#[derive(Debug, Clone)]
pub struct Made {
    pub id: String,
    pub context: String,
}

impl Server {
    /// `who` sends a 1.0 message; the task it made.
    pub async fn send_v1(&self, who: Who, message_id: &str, text: &str) -> Made {
        let r = self
            .rpc(
                who,
                V::V1,
                "SendMessage",
                json!({"message": msg_v1(message_id, text)}),
            )
            .await;
        let t = &r.result()["task"];
        assert!(t["id"].is_string(), "{}: {:?}", self.kind, r.body);
        Made {
            id: t["id"].as_str().unwrap().into(),
            context: t["contextId"].as_str().unwrap().into(),
        }
    }

    /// `who` sends a 0.3 message; the task it made.
    pub async fn send_v03(&self, who: Who, message_id: &str, text: &str) -> Made {
        let r = self
            .rpc(
                who,
                V::Legacy,
                "message/send",
                json!({"message": msg_v03(message_id, text)}),
            )
            .await;
        let t = r.result();
        assert_eq!(t["kind"], "task", "{}: {:?}", self.kind, r.body);
        Made {
            id: t["id"].as_str().unwrap().into(),
            context: t["contextId"].as_str().unwrap().into(),
        }
    }

    /// The task as `who` reads it through 1.0 (`None`: -32001).
    pub async fn get_v1(&self, who: Who, id: &str) -> Option<Value> {
        let r = self
            .rpc(
                who,
                V::V1,
                "GetTask",
                json!({"id": id, "historyLength": 100}),
            )
            .await;
        match r.code() {
            Some(-32001) => None,
            None => Some(r.result().clone()),
            Some(c) => panic!("{}: GetTask {id}: code {c}: {:?}", self.kind, r.body),
        }
    }

    /// The state of A's task as A reads it, and how many messages its history holds.
    pub async fn state_of(&self, who: Who, id: &str) -> (String, usize) {
        let t = self
            .get_v1(who, id)
            .await
            .unwrap_or_else(|| panic!("{}: {who:?} can read its task {id}", self.kind));
        (
            t["status"]["state"].as_str().unwrap().into(),
            t["history"].as_array().map_or(0, Vec::len),
        )
    }
}

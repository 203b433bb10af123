//! The server inside the test's own process (`Application`), for tests that set `Config`
//! fields directly (TLS, rate limits, auth) instead of writing a TOML file; and one
//! JSON-RPC call helper for any server.

use a2a_server::config::{Config, Overrides};
use a2a_server::startup::Application;
use serde_json::{Value, json};

/// The defaults of `a2a serve` on 127.0.0.1:0 with the conformance agent and the memory
/// store, then `tweak`.
pub fn config(tweak: impl FnOnce(&mut Config)) -> Config {
    let mut config = Config::load(
        None,
        Overrides {
            listen: Some("127.0.0.1:0".parse().unwrap()),
            agent: Some("conformance".into()),
            store: Some("memory:".into()),
            ..Default::default()
        },
    )
    .unwrap();
    tweak(&mut config);
    config
}

/// A running in-process server; stopped when dropped.
pub struct App {
    /// `http://` or `https://` and the bound address.
    pub url: String,
    /// The operations listener, when `admin_listen` is set.
    pub admin: Option<String>,
    _stop: tokio::sync::oneshot::Sender<()>,
}

pub async fn start(config: Config) -> App {
    let app = Application::build(config).await.expect("server builds");
    let url = format!("{}://{}", app.scheme(), app.addr());
    let admin = app.admin_addr().map(|a| format!("http://{a}"));
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(app.run_until(async move {
        let _ = rx.await;
    }));
    App {
        url,
        admin,
        _stop: tx,
    }
}

/// The answer to one JSON-RPC POST: status, headers and the JSON body.
pub struct Answer {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
}

/// POSTs `method` with `params` (id `id`) to `{url}/`, with `A2A-Version: version` when
/// given and the extra `headers`.
pub async fn rpc(
    http: &reqwest::Client,
    url: &str,
    version: Option<&str>,
    id: u64,
    method: &str,
    params: Value,
    headers: &[(&str, &str)],
) -> Answer {
    let mut req = http
        .post(format!("{url}/"))
        .json(&json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
    if let Some(v) = version {
        req = req.header("A2A-Version", v);
    }
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let resp = req.send().await.expect("request sent");
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let body = resp.json().await.expect("a JSON body");
    Answer {
        status,
        headers,
        body,
    }
}

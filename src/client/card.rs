//! Agent card discovery: where the card lives and which endpoint it names.

use serde_json::Value;

use super::ClientError;
use super::error::excerpt;
use crate::protocol::Version;

/// Fetches the agent card: `{base}/.well-known/agent-card.json`, falling back to the
/// pre-0.3 `{base}/.well-known/agent.json`. A `base_url` ending in `.json` is fetched as is.
pub async fn fetch_card_with(http: &reqwest::Client, base_url: &str) -> Result<Value, ClientError> {
    let base = base_url.trim_end_matches('/');
    let urls: Vec<String> = if base.ends_with(".json") {
        vec![base.to_string()]
    } else {
        vec![
            format!("{base}/.well-known/agent-card.json"),
            format!("{base}/.well-known/agent.json"),
        ]
    };
    let mut first_err = None;
    for url in &urls {
        match get_json(http, url).await {
            Ok(v) => return Ok(v),
            Err(e) => {
                first_err.get_or_insert(e);
            }
        }
    }
    Err(first_err.expect("at least one URL was tried"))
}

async fn get_json(http: &reqwest::Client, url: &str) -> Result<Value, ClientError> {
    let request = http
        .get(url)
        .header(reqwest::header::ACCEPT, "application/json");
    let (status, text) = super::send_text(request, url).await?;
    if !status.is_success() {
        return Err(ClientError::Http {
            status: status.as_u16(),
            url: url.into(),
            body: excerpt(&text),
        });
    }
    serde_json::from_str(&text).map_err(|e| ClientError::Decode {
        what: format!("agent card at {url}"),
        detail: e.to_string(),
    })
}

/// The transport of the card's first interface (its preferred one): JSON-RPC when it
/// lists none we know.
pub fn preferred_transport(card: &Value) -> super::Transport {
    card["supportedInterfaces"]
        .as_array()
        .and_then(|ifaces| {
            ifaces.iter().find_map(|i| {
                super::Transport::from_binding(i["protocolBinding"].as_str().unwrap_or(""))
            })
        })
        .unwrap_or_default()
}

/// The URL a card announces for `transport` and `version` (JSON-RPC: [`jsonrpc_endpoint`];
/// the others: their first `supportedInterfaces` entry of that version).
pub fn interface_endpoint(
    card: &Value,
    version: Version,
    transport: super::Transport,
    base_url: &str,
) -> Option<String> {
    if transport == super::Transport::JsonRpc {
        return jsonrpc_endpoint(card, version, base_url);
    }
    let wanted = version.as_str();
    let url = card["supportedInterfaces"].as_array()?.iter().find(|i| {
        i["protocolBinding"]
            .as_str()
            .is_some_and(|b| b.eq_ignore_ascii_case(transport.binding()))
            && i["protocolVersion"]
                .as_str()
                .is_some_and(|v| v == wanted || v.starts_with(&format!("{wanted}.")))
    })?["url"]
        .as_str()?;
    if transport == super::Transport::Grpc {
        return Some(url.to_string());
    }
    resolve_url(base_url, url)
}

/// The JSON-RPC endpoint a card announces for `version`: for 1.0 the `supportedInterfaces`
/// entry with `protocolBinding: JSONRPC` and that `protocolVersion`, else (and as fallback)
/// the 0.x `url`. Relative URLs are resolved against `base_url`.
pub fn jsonrpc_endpoint(card: &Value, version: Version, base_url: &str) -> Option<String> {
    let wanted = version.as_str();
    let from_interfaces = card["supportedInterfaces"].as_array().and_then(|ifaces| {
        let jsonrpc = |i: &&Value| {
            i["protocolBinding"]
                .as_str()
                .is_some_and(|b| b.eq_ignore_ascii_case("JSONRPC"))
        };
        let matches_version = |i: &&Value| {
            i["protocolVersion"]
                .as_str()
                .is_some_and(|v| v == wanted || v.starts_with(&format!("{wanted}.")))
        };
        let exact = ifaces.iter().filter(jsonrpc).find(matches_version);
        // A 1.0 client may use any JSON-RPC interface if none names its version.
        let any = (version == Version::V1)
            .then(|| ifaces.iter().find(jsonrpc))
            .flatten();
        exact.or(any)?["url"].as_str()
    });
    let url = match version {
        Version::V1 => from_interfaces.or_else(|| card["url"].as_str()),
        _ => card["url"].as_str().or(from_interfaces),
    }?;
    resolve_url(base_url, url)
}

fn resolve_url(base_url: &str, url: &str) -> Option<String> {
    match reqwest::Url::parse(url) {
        Ok(u) => Some(u.to_string()),
        Err(_) => {
            let base = reqwest::Url::parse(&format!("{}/", base_url.trim_end_matches('/'))).ok()?;
            base.join(url).ok().map(|u| u.to_string())
        }
    }
}

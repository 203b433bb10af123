//! Discovery: where the agent card lives, what it must hold, how it is cached.

use base64::Engine;
use serde_json::Value;

use super::{Check, Checked, Ctx, Miss, fail, skip};
use crate::{check, ensure};

pub fn checks() -> Vec<Check> {
    vec![
        check!(
            "R01-v1",
            Must,
            V1,
            "The agent card is served at GET /.well-known/agent-card.json as a JSON object with Content-Type application/json.",
            card_served
        ),
        check!(
            "R01-v01",
            Must,
            V01,
            "0.1/0.2 clients find the card at GET /.well-known/agent.json.",
            legacy_card_served
        ),
        check!(
            "R02-v1",
            Must,
            V1,
            "The card has non-empty name, description, version, supportedInterfaces, capabilities, defaultInputModes, defaultOutputModes, skills.",
            required_fields
        ),
        check!(
            "R03-v1",
            Must,
            V1,
            "Every supportedInterfaces entry has url, protocolBinding, protocolVersion; the JSON-RPC entry uses protocolBinding JSONRPC and a Major.Minor version.",
            interfaces
        ),
        check!(
            "R04-v03",
            Must,
            V03,
            "A 0.3 card has protocolVersion and url.",
            v03_fields
        ),
        check!(
            "R04b-v03",
            Should,
            V03,
            "A 0.3 card names preferredTransport JSONRPC for its url, and additionalInterfaces includes that url/transport pair.",
            v03_transport
        ),
        check!(
            "R05-v1",
            Must,
            V1,
            "The card has no kind, supportsAuthenticatedExtendedCard or stateTransitionHistory; extendedAgentCard lives in capabilities.",
            no_legacy_fields
        ),
        check!(
            "R06-v1",
            Must,
            V1,
            "Each securitySchemes value has exactly one of apiKeySecurityScheme, httpAuthSecurityScheme, oauth2SecurityScheme, openIdConnectSecurityScheme, mtlsSecurityScheme.",
            security_schemes
        ),
        check!(
            "E01-v1",
            Must,
            V1,
            "Each skill has id, name, description and tags.",
            skills
        ),
        check!(
            "R07a-v1",
            Should,
            V1,
            "The card response carries Cache-Control with max-age.",
            cache_control
        ),
        check!(
            "R07b-v1",
            Should,
            V1,
            "The card response carries an ETag.",
            etag
        ),
        check!(
            "R07c-v1",
            Should,
            V1,
            "A conditional GET with the card's ETag in If-None-Match gets HTTP 304.",
            not_modified
        ),
        check!(
            "R08-v1",
            Must,
            V1,
            "Each card signature is a JWS whose protected header names alg and kid.",
            signatures
        ),
    ]
}

fn card_url(c: &Ctx, name: &str) -> String {
    format!("{}/.well-known/{name}", c.base)
}

async fn card_served(c: &Ctx) -> Checked {
    let r = c.get(&card_url(c, "agent-card.json"), &[]).await?;
    ensure!(r.status == 200, "GET agent-card.json: {}", r.describe());
    let ct = r.header("content-type").unwrap_or_default();
    ensure!(
        ct.starts_with("application/json"),
        "Content-Type is `{ct}`, not application/json"
    );
    ensure!(
        r.json.as_ref().is_some_and(Value::is_object),
        "the card is not a JSON object: {}",
        r.describe()
    );
    Ok(())
}

async fn legacy_card_served(c: &Ctx) -> Checked {
    let r = c.get(&card_url(c, "agent.json"), &[]).await?;
    ensure!(r.status == 200, "GET agent.json: {}", r.describe());
    let card = r.json.as_ref().filter(|v| v.is_object());
    ensure!(card.is_some(), "not a JSON object: {}", r.describe());
    ensure!(
        card.is_some_and(|v| v["name"].is_string() && v["url"].is_string()),
        "the 0.x card lacks name or url: {}",
        r.describe()
    );
    Ok(())
}

fn non_empty(v: &Value) -> bool {
    match v {
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => !a.is_empty(),
        Value::Object(_) => true,
        _ => false,
    }
}

async fn required_fields(c: &Ctx) -> Checked {
    let card = c.card()?;
    let missing: Vec<&str> = [
        "name",
        "description",
        "version",
        "supportedInterfaces",
        "capabilities",
        "defaultInputModes",
        "defaultOutputModes",
        "skills",
    ]
    .into_iter()
    .filter(|k| !non_empty(&card[*k]))
    .collect();
    ensure!(
        missing.is_empty(),
        "missing or empty: {}",
        missing.join(", ")
    );
    Ok(())
}

async fn interfaces(c: &Ctx) -> Checked {
    let card = c.card()?;
    let list = card["supportedInterfaces"]
        .as_array()
        .ok_or_else(|| fail("supportedInterfaces is not an array"))?;
    for (i, iface) in list.iter().enumerate() {
        for k in ["url", "protocolBinding", "protocolVersion"] {
            ensure!(
                iface[k].as_str().is_some_and(|s| !s.is_empty()),
                "supportedInterfaces[{i}] has no {k}: {iface}"
            );
        }
    }
    let jsonrpc: Vec<&Value> = list
        .iter()
        .filter(|i| i["protocolBinding"] == "JSONRPC")
        .collect();
    ensure!(!jsonrpc.is_empty(), "no entry with protocolBinding JSONRPC");
    for i in jsonrpc {
        let v = i["protocolVersion"].as_str().unwrap_or_default();
        let parts: Vec<&str> = v.split('.').collect();
        ensure!(
            parts.len() == 2 && parts.iter().all(|p| p.parse::<u32>().is_ok()),
            "JSONRPC protocolVersion `{v}` is not Major.Minor"
        );
    }
    Ok(())
}

/// The card a 0.3 client reads: agent-card.json, unless that is a strict 1.0 card (none of
/// the 0.3 members, as a 1.0 validator wants); then the 0.x card at agent.json.
async fn v03_card(c: &Ctx) -> Result<Value, Miss> {
    let card = c.card()?;
    let has_v03 = ["protocolVersion", "url", "preferredTransport"]
        .iter()
        .any(|k| card.get(*k).is_some());
    if has_v03 || card.get("supportedInterfaces").is_none() {
        return Ok(card.clone());
    }
    let r = c.get(&card_url(c, "agent.json"), &[]).await?;
    match r.json {
        Some(v) if r.status == 200 && v.is_object() => Ok(v),
        _ => Err(fail(format!(
            "agent-card.json is a strict 1.0 card and agent.json serves no 0.x card: {}",
            r.describe()
        ))),
    }
}

async fn v03_fields(c: &Ctx) -> Checked {
    let card = &v03_card(c).await?;
    ensure!(
        card["protocolVersion"]
            .as_str()
            .is_some_and(|s| !s.is_empty()),
        "no protocolVersion"
    );
    let url = card["url"].as_str().unwrap_or_default();
    ensure!(
        url::Url::parse(url).is_ok(),
        "url `{url}` is not an absolute URL"
    );
    Ok(())
}

async fn v03_transport(c: &Ctx) -> Checked {
    let card = &v03_card(c).await?;
    let pt = card["preferredTransport"].as_str();
    ensure!(
        pt == Some("JSONRPC"),
        "preferredTransport is {:?}, not JSONRPC",
        pt
    );
    let url = card["url"].clone();
    let listed = card["additionalInterfaces"].as_array().is_some_and(|a| {
        a.iter()
            .any(|i| i["url"] == url && i["transport"] == "JSONRPC")
    });
    ensure!(
        listed,
        "additionalInterfaces lacks {{url: {url}, transport: JSONRPC}}"
    );
    Ok(())
}

async fn no_legacy_fields(c: &Ctx) -> Checked {
    let card = c.card()?;
    for k in [
        "kind",
        "supportsAuthenticatedExtendedCard",
        "stateTransitionHistory",
    ] {
        ensure!(card.get(k).is_none(), "the card has `{k}`");
    }
    ensure!(
        card["capabilities"].get("stateTransitionHistory").is_none(),
        "capabilities has `stateTransitionHistory`"
    );
    Ok(())
}

const SCHEME_KINDS: [&str; 5] = [
    "apiKeySecurityScheme",
    "httpAuthSecurityScheme",
    "oauth2SecurityScheme",
    "openIdConnectSecurityScheme",
    "mtlsSecurityScheme",
];

async fn security_schemes(c: &Ctx) -> Checked {
    let card = c.card()?;
    let Some(schemes) = card.get("securitySchemes") else {
        return Err(skip("the card declares no securitySchemes"));
    };
    let schemes = schemes
        .as_object()
        .ok_or_else(|| fail("securitySchemes is not an object"))?;
    for (name, s) in schemes {
        let n = SCHEME_KINDS.iter().filter(|k| s.get(**k).is_some()).count();
        ensure!(n == 1, "securitySchemes.{name} has {n} scheme members: {s}");
    }
    Ok(())
}

async fn skills(c: &Ctx) -> Checked {
    let card = c.card()?;
    let skills = card["skills"]
        .as_array()
        .ok_or_else(|| fail("skills is not an array"))?;
    for (i, s) in skills.iter().enumerate() {
        for k in ["id", "name", "description"] {
            ensure!(s[k].is_string(), "skills[{i}] has no {k}");
        }
        ensure!(s["tags"].is_array(), "skills[{i}] has no tags array");
    }
    Ok(())
}

async fn cache_control(c: &Ctx) -> Checked {
    let r = c.get(&card_url(c, "agent-card.json"), &[]).await?;
    let cc = r.header("cache-control");
    ensure!(cc.is_some(), "no Cache-Control header");
    ensure!(
        cc.is_some_and(|v| v.to_ascii_lowercase().contains("max-age")),
        "Cache-Control `{}` has no max-age",
        cc.unwrap_or_default()
    );
    Ok(())
}

async fn etag(c: &Ctx) -> Checked {
    let r = c.get(&card_url(c, "agent-card.json"), &[]).await?;
    ensure!(r.header("etag").is_some(), "no ETag header");
    Ok(())
}

async fn not_modified(c: &Ctx) -> Checked {
    let url = card_url(c, "agent-card.json");
    let r = c.get(&url, &[]).await?;
    let Some(tag) = r.header("etag").map(str::to_string) else {
        return Err(fail("no ETag to send back in If-None-Match"));
    };
    let again = c.get(&url, &[("if-none-match", &tag)]).await?;
    ensure!(
        again.status == 304,
        "If-None-Match {tag} answered HTTP {}",
        again.status
    );
    Ok(())
}

async fn signatures(c: &Ctx) -> Checked {
    let card = c.card()?;
    let Some(sigs) = card.get("signatures") else {
        return Err(skip("the card is not signed"));
    };
    let sigs = sigs
        .as_array()
        .ok_or_else(|| fail("signatures is not an array"))?;
    for (i, s) in sigs.iter().enumerate() {
        let protected = s["protected"].as_str().unwrap_or_default();
        let header = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(protected.trim_end_matches('='))
            .ok()
            .and_then(|b| serde_json::from_slice::<Value>(&b).ok())
            .ok_or_else(|| fail(format!("signatures[{i}].protected is not base64url JSON")))?;
        ensure!(
            header["alg"].is_string(),
            "signatures[{i}] header has no alg"
        );
        ensure!(
            header["kid"].is_string(),
            "signatures[{i}] header has no kid"
        );
        ensure!(
            s["signature"].as_str().is_some_and(|v| !v.is_empty()),
            "signatures[{i}] has no signature"
        );
    }
    // Verifying the signature itself needs the signer's key (`jku` or out of band).
    Err(skip(
        "signature headers are well-formed; cryptographic verification is not implemented",
    ))
}

use serde_json::Value;

use crate::helpers::spawn_app;

async fn get_card(
    app: &crate::helpers::TestApp,
    path: &str,
) -> (reqwest::header::HeaderMap, Value) {
    let resp = app
        .http
        .get(format!("{}{path}", app.url))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let headers = resp.headers().clone();
    (headers, resp.json().await.unwrap())
}

#[tokio::test]
async fn agent_card_serves_v1_and_v03_fields_side_by_side() {
    let app = spawn_app().await;
    let (headers, card) = get_card(&app, "/.well-known/agent-card.json").await;
    assert!(
        headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json")
    );
    for field in [
        "name",
        "description",
        "version",
        "capabilities",
        "defaultInputModes",
        "defaultOutputModes",
        "skills",
    ] {
        assert!(card.get(field).is_some(), "missing {field}");
    }
    let ifaces: Vec<(String, String, String)> = card["supportedInterfaces"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            let s = |k: &str| i[k].as_str().unwrap().to_string();
            (s("protocolBinding"), s("protocolVersion"), s("url"))
        })
        .collect();
    // JSON-RPC first (both versions), then HTTP+JSON (both) under /rest, then gRPC
    // (both) on the same port as a bare host:port.
    let url = |p: &str| format!("{}{p}", app.url);
    let authority = app.url.trim_start_matches("http://").to_string();
    assert_eq!(
        ifaces,
        [
            ("JSONRPC".into(), "1.0".into(), url("/")),
            ("JSONRPC".into(), "0.3".into(), url("/")),
            ("HTTP+JSON".into(), "1.0".into(), url("/rest")),
            ("HTTP+JSON".into(), "0.3".into(), url("/rest")),
            ("GRPC".into(), "1.0".into(), authority.clone()),
            ("GRPC".into(), "0.3".into(), authority.clone()),
        ]
    );
    // 0.3 fields for 0.3 clients reading the same path: JSON-RPC preferred, HTTP+JSON
    // beside it with a trailing `/` (the 0.3 kit `urljoin`s `v1/…` onto it), gRPC with a
    // scheme.
    assert_eq!(
        card["additionalInterfaces"],
        serde_json::json!([
            {"url": url("/"), "transport": "JSONRPC"},
            {"url": url("/rest/"), "transport": "HTTP+JSON"},
            {"url": format!("grpc://{authority}"), "transport": "GRPC"},
        ])
    );
    assert_eq!(card["protocolVersion"], "0.3.0");
    assert_eq!(card["url"], format!("{}/", app.url));
    assert_eq!(card["preferredTransport"], "JSONRPC");
    // 1.0 forbids these.
    for banned in ["kind", "supportsAuthenticatedExtendedCard"] {
        assert!(card.get(banned).is_none(), "{banned} present");
    }
    assert!(card["capabilities"].get("stateTransitionHistory").is_none());
    assert_eq!(card["capabilities"]["streaming"], true);
    assert_eq!(card["capabilities"]["pushNotifications"], true);
    assert!(!card["skills"].as_array().unwrap().is_empty());
}

#[tokio::test]
async fn with_v03_fields_off_the_card_has_only_v1_members_and_agent_json_keeps_the_0x_shape() {
    let dual = spawn_app().await;
    let strict = crate::helpers::spawn_with(|c| c.card.v03_fields = false).await;
    let (_, card) = get_card(&strict, "/.well-known/agent-card.json").await;
    let v03_only = [
        "protocolVersion",
        "url",
        "preferredTransport",
        "additionalInterfaces",
    ];
    for member in v03_only {
        assert!(card.get(member).is_none(), "{member} present: {card}");
    }
    // Otherwise the same document: 0.3 stays listed as an interface.
    let (_, mut full) = get_card(&dual, "/.well-known/agent-card.json").await;
    for member in v03_only {
        assert!(full.get(member).is_some(), "{member} missing by default");
        full.as_object_mut().unwrap().remove(member);
    }
    let same_url = |mut v: Value, url: &str| {
        for i in v["supportedInterfaces"].as_array_mut().unwrap() {
            let u = i["url"].as_str().unwrap();
            // gRPC's is the bare host:port.
            let base = if i["protocolBinding"] == "GRPC" {
                url.trim_start_matches("http://")
            } else {
                url
            };
            assert!(u.starts_with(base), "{u}");
            i["url"] = u.replacen(base, "URL", 1).into();
        }
        v
    };
    assert_eq!(same_url(card, &strict.url), same_url(full, &dual.url));
    let (_, legacy) = get_card(&strict, "/.well-known/agent.json").await;
    assert_eq!(legacy["url"], format!("{}/", strict.url));
    assert_eq!(legacy["protocolVersion"], "0.3.0");
    assert!(legacy.get("supportedInterfaces").is_none());
}

#[tokio::test]
async fn legacy_agent_json_has_the_fields_0x_clients_require() {
    let app = spawn_app().await;
    let (_, card) = get_card(&app, "/.well-known/agent.json").await;
    for field in [
        "name",
        "url",
        "version",
        "capabilities",
        "skills",
        "protocolVersion",
    ] {
        assert!(card.get(field).is_some(), "missing {field}");
    }
    assert!(card.get("supportedInterfaces").is_none());
}

#[tokio::test]
async fn agent_card_is_cacheable_and_revalidates_with_304() {
    let app = spawn_app().await;
    let (headers, _) = get_card(&app, "/.well-known/agent-card.json").await;
    let cc = headers["cache-control"].to_str().unwrap();
    assert!(cc.contains("max-age="), "{cc}");
    assert!(headers.contains_key("last-modified"));
    let etag = headers["etag"].to_str().unwrap().to_string();
    let resp = app
        .http
        .get(format!("{}/.well-known/agent-card.json", app.url))
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 304);
    assert_eq!(resp.headers()["etag"].to_str().unwrap(), etag);
    let resp = app
        .http
        .get(format!("{}/.well-known/agent-card.json", app.url))
        .header("if-none-match", "\"something-else\"")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
}

#[tokio::test]
async fn card_fields_come_from_configuration() {
    let app = crate::helpers::spawn_with(|c| {
        c.card.name = "Configured".into();
        c.card.provider_organization = Some("Acme".into());
        c.card.provider_url = Some("https://acme.example".into());
        c.public_url = Some("https://agents.acme.example".into());
    })
    .await;
    let (_, card) = get_card(&app, "/.well-known/agent-card.json").await;
    assert_eq!(card["name"], "Configured");
    assert_eq!(card["provider"]["organization"], "Acme");
    assert_eq!(
        card["supportedInterfaces"][0]["url"],
        "https://agents.acme.example/"
    );
}

#[tokio::test]
async fn unknown_paths_get_a_json_404() {
    let app = spawn_app().await;
    let resp = app
        .http
        .get(format!("{}/nope", app.url))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 404);
    assert!(
        resp.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json")
    );
}

//! The 0.3 card as `a2a.v1.AgentCard`: read from the JSON `/.well-known/agent.json`
//! serves, so both say the same.

use serde_json::Value;

use crate::grpc::v03 as pb;

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

fn string(v: &Value) -> String {
    v.as_str().unwrap_or_default().to_string()
}

fn scheme(s: &Value) -> Option<pb::SecurityScheme> {
    use pb::security_scheme::Scheme;
    let description = string(&s["description"]);
    let scheme = match s["type"].as_str()? {
        "apiKey" => Scheme::ApiKeySecurityScheme(pb::ApiKeySecurityScheme {
            description,
            location: string(&s["in"]),
            name: string(&s["name"]),
        }),
        "http" => Scheme::HttpAuthSecurityScheme(pb::HttpAuthSecurityScheme {
            description,
            scheme: string(&s["scheme"]),
            bearer_format: string(&s["bearerFormat"]),
        }),
        "openIdConnect" => Scheme::OpenIdConnectSecurityScheme(pb::OpenIdConnectSecurityScheme {
            description,
            open_id_connect_url: string(&s["openIdConnectUrl"]),
        }),
        "mutualTLS" => Scheme::MtlsSecurityScheme(pb::MutualTlsSecurityScheme { description }),
        _ => return None,
    };
    Some(pb::SecurityScheme {
        scheme: Some(scheme),
    })
}

/// The 0.3 card (as `/.well-known/agent.json` serves it) as the 0.3 `AgentCard`.
pub(super) fn card(c: &Value) -> pb::AgentCard {
    let skills = c["skills"].as_array().cloned().unwrap_or_default();
    pb::AgentCard {
        protocol_version: string(&c["protocolVersion"]),
        name: string(&c["name"]),
        description: string(&c["description"]),
        url: string(&c["url"]),
        preferred_transport: string(&c["preferredTransport"]),
        additional_interfaces: c["additionalInterfaces"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|i| pb::AgentInterface {
                url: string(&i["url"]),
                transport: string(&i["transport"]),
            })
            .collect(),
        provider: c.get("provider").map(|p| pb::AgentProvider {
            url: string(&p["url"]),
            organization: string(&p["organization"]),
        }),
        version: string(&c["version"]),
        documentation_url: string(&c["documentationUrl"]),
        capabilities: Some(pb::AgentCapabilities {
            streaming: c["capabilities"]["streaming"].as_bool().unwrap_or(false),
            push_notifications: c["capabilities"]["pushNotifications"]
                .as_bool()
                .unwrap_or(false),
            extensions: Vec::new(),
        }),
        security_schemes: c["securitySchemes"]
            .as_object()
            .into_iter()
            .flatten()
            .filter_map(|(k, s)| Some((k.clone(), scheme(s)?)))
            .collect(),
        security: c["security"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_object)
            .map(|req| pb::Security {
                schemes: req
                    .iter()
                    .map(|(k, v)| (k.clone(), pb::StringList { list: strings(v) }))
                    .collect(),
            })
            .collect(),
        default_input_modes: strings(&c["defaultInputModes"]),
        default_output_modes: strings(&c["defaultOutputModes"]),
        skills: skills
            .iter()
            .map(|s| pb::AgentSkill {
                id: string(&s["id"]),
                name: string(&s["name"]),
                description: string(&s["description"]),
                tags: strings(&s["tags"]),
                examples: strings(&s["examples"]),
                input_modes: strings(&s["inputModes"]),
                output_modes: strings(&s["outputModes"]),
                security: Vec::new(),
            })
            .collect(),
        supports_authenticated_extended_card: c["supportsAuthenticatedExtendedCard"]
            .as_bool()
            .unwrap_or(false),
        signatures: Vec::new(),
    }
}

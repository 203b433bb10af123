//! The 0.3 agent card in the 0.3 proto's ProtoJSON (`GET /v1/card`).

use serde_json::{Map, Value, json};

use super::copy_out;

/// The 0.3 agent card → the proto's `AgentCard`: the members it has, the security
/// schemes in the proto's oneof form.
pub fn card_out(v: &Value) -> Value {
    let mut o = Map::new();
    copy_out(
        v,
        &mut o,
        &[
            "protocolVersion",
            "name",
            "description",
            "url",
            "preferredTransport",
            "additionalInterfaces",
            "provider",
            "version",
            "documentationUrl",
            "defaultInputModes",
            "defaultOutputModes",
            "supportsAuthenticatedExtendedCard",
            "iconUrl",
        ],
    );
    let caps = &v["capabilities"];
    let mut c = Map::new();
    copy_out(
        caps,
        &mut c,
        &["streaming", "pushNotifications", "extensions"],
    );
    o.insert("capabilities".into(), Value::Object(c));
    if let Some(skills) = v["skills"].as_array() {
        let skills: Vec<Value> = skills
            .iter()
            .map(|s| {
                let mut k = Map::new();
                copy_out(
                    s,
                    &mut k,
                    &[
                        "id",
                        "name",
                        "description",
                        "tags",
                        "examples",
                        "inputModes",
                        "outputModes",
                    ],
                );
                Value::Object(k)
            })
            .collect();
        o.insert("skills".into(), skills.into());
    }
    if let Some(schemes) = v["securitySchemes"].as_object() {
        let schemes: Map<String, Value> = schemes
            .iter()
            .filter_map(|(name, s)| Some((name.clone(), scheme_out(s)?)))
            .collect();
        o.insert("securitySchemes".into(), Value::Object(schemes));
    }
    if let Some(reqs) = v["security"].as_array() {
        // `[{name: [scopes]}]` → `[{schemes: {name: {list: [scopes]}}}]`.
        let reqs: Vec<Value> = reqs
            .iter()
            .filter_map(Value::as_object)
            .map(|r| {
                let schemes: Map<String, Value> = r
                    .iter()
                    .map(|(k, scopes)| (k.clone(), json!({"list": scopes})))
                    .collect();
                json!({ "schemes": schemes })
            })
            .collect();
        o.insert("security".into(), reqs.into());
    }
    Value::Object(o)
}

/// A 0.3 security scheme (`{"type": "http", …}`) → the proto's oneof member.
fn scheme_out(s: &Value) -> Option<Value> {
    let mut o = Map::new();
    let (member, fields): (&str, &[&str]) = match s["type"].as_str()? {
        "apiKey" => ("apiKeySecurityScheme", &["description", "location", "name"]),
        "http" => (
            "httpAuthSecurityScheme",
            &["description", "scheme", "bearerFormat"],
        ),
        "oauth2" => ("oauth2SecurityScheme", &["description", "flows"]),
        "openIdConnect" => (
            "openIdConnectSecurityScheme",
            &["description", "openIdConnectUrl"],
        ),
        "mutualTLS" => ("mtlsSecurityScheme", &["description"]),
        _ => return None,
    };
    copy_out(s, &mut o, fields);
    // The JSON's `in` is the proto's `location`.
    if member == "apiKeySecurityScheme"
        && let Some(loc) = s.get("in")
    {
        o.insert("location".into(), loc.clone());
    }
    Some(json!({ member: o }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_card_keeps_proto_members_and_puts_schemes_in_the_oneof() {
        let card = json!({
            "protocolVersion": "0.3.0", "name": "n", "url": "http://h/", "kind": "agent-card",
            "capabilities": {"streaming": true, "stateTransitionHistory": false},
            "skills": [{"id": "s", "name": "S", "tags": [], "security": []}],
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "Bearer", "bearerFormat": "JWT"},
                "key": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
                "odd": {"type": "unheard-of"},
            },
            "security": [{"bearer": []}, {"key": ["read"]}],
        });
        assert_eq!(
            card_out(&card),
            json!({
                "protocolVersion": "0.3.0", "name": "n", "url": "http://h/",
                "capabilities": {"streaming": true},
                "skills": [{"id": "s", "name": "S", "tags": []}],
                "securitySchemes": {
                    "bearer": {"httpAuthSecurityScheme": {"scheme": "Bearer", "bearerFormat": "JWT"}},
                    "key": {"apiKeySecurityScheme": {"location": "header", "name": "X-API-Key"}},
                },
                "security": [
                    {"schemes": {"bearer": {"list": []}}},
                    {"schemes": {"key": {"list": ["read"]}}},
                ],
            })
        );
    }
}

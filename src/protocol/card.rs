//! The agent card as the server knows it. The codecs render it per wire version; the
//! `[card]` section of the configuration deserializes straight into it.

use serde::{Deserialize, Serialize};

/// Who runs the agent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct AgentProvider {
    pub organization: String,
    pub url: String,
}

/// One thing the agent can do.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AgentSkill {
    pub id: String,
    pub name: String,
    pub description: String,
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub examples: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub input_modes: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub output_modes: Vec<String>,
}

/// Optional features; only what this server really does is declared true.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AgentCapabilities {
    pub streaming: bool,
    pub push_notifications: bool,
    pub extended_agent_card: bool,
}

/// The security schemes a card declares: what the server's authenticators accept.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct CardSecurity {
    /// Bearer JWTs; `Some(url)` inside when the issuer is found by OIDC discovery (the
    /// card then names its discovery document).
    pub bearer: Option<Option<String>>,
    /// The header of API keys.
    pub api_key_header: Option<String>,
    /// Client certificates.
    pub mtls: bool,
    /// Scopes a bearer token must grant.
    pub required_scopes: Vec<String>,
}

impl CardSecurity {
    pub fn is_empty(&self) -> bool {
        self.bearer.is_none() && self.api_key_header.is_none() && !self.mtls
    }
}

/// `[card.extended]`: what the extended card adds for authenticated callers.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ExtendedCard {
    /// Replaces the public description.
    #[serde(default)]
    pub description: Option<String>,
    /// Skills listed after the public ones.
    #[serde(default)]
    pub skills: Vec<AgentSkill>,
}

/// Where the HTTP+JSON routes live, below the JSON-RPC endpoint's url (see
/// `transport::rest`).
pub const REST_PATH: &str = "/rest";

/// A transport binding of A2A; the 1.0 `protocolBinding` and the 0.3 `transport` spell it
/// alike.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub enum ProtocolBinding {
    #[serde(rename = "JSONRPC")]
    JsonRpc,
    #[serde(rename = "HTTP+JSON")]
    HttpJson,
    #[serde(rename = "GRPC")]
    Grpc,
}

impl ProtocolBinding {
    pub fn as_str(self) -> &'static str {
        match self {
            ProtocolBinding::JsonRpc => "JSONRPC",
            ProtocolBinding::HttpJson => "HTTP+JSON",
            ProtocolBinding::Grpc => "GRPC",
        }
    }
}

/// One interface the card lists, in preference order (the first is what clients use by
/// default).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AgentInterface {
    pub binding: ProtocolBinding,
    /// As 1.0's `supportedInterfaces` lists it (gRPC: a bare `host:port`, as the kit needs).
    pub url: String,
    /// The A2A versions served there ("1.0", "0.3"): one `supportedInterfaces` entry each.
    pub versions: Vec<String>,
    /// Where 0.3 clients find it (`additionalInterfaces`: a URL with a scheme); `None`
    /// when it serves no 0.3.
    pub v03_url: Option<String>,
}

impl AgentInterface {
    /// JSON-RPC, 1.0 and 0.3, at the card's url.
    pub fn jsonrpc(url: &str) -> Self {
        Self {
            binding: ProtocolBinding::JsonRpc,
            url: url.into(),
            versions: vec!["1.0".into(), "0.3".into()],
            v03_url: Some(url.into()),
        }
    }

    /// HTTP+JSON below the JSON-RPC url `url`: 1.0 there, 0.3 at its `v1/`. The 0.3 url
    /// ends in `/`: the 0.3 kit `urljoin`s `v1/…` onto it, which would drop a last segment
    /// without one (the SDKs append `/v1/…` either way).
    pub fn rest(url: &str) -> Self {
        let base = format!("{}{REST_PATH}", url.trim_end_matches('/'));
        Self {
            binding: ProtocolBinding::HttpJson,
            v03_url: Some(format!("{base}/")),
            url: base,
            versions: vec!["1.0".into(), "0.3".into()],
        }
    }

    /// gRPC at `authority` (`host:port`): `lf.a2a.v1.A2AService` (1.0) and
    /// `a2a.v1.A2AService` (0.3), which 0.3 clients find as `grpc://host:port` (the 0.3
    /// kit's client needs a scheme to parse the URL).
    pub fn grpc(authority: &str) -> Self {
        Self {
            binding: ProtocolBinding::Grpc,
            url: authority.into(),
            versions: vec!["1.0".into(), "0.3".into()],
            v03_url: Some(format!("grpc://{authority}")),
        }
    }
}

/// Everything needed to render the card in every version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AgentCard {
    pub name: String,
    pub description: String,
    /// The agent's own version.
    pub version: String,
    /// The JSON-RPC endpoint clients post to.
    pub url: String,
    /// Every transport, in preference order: JSON-RPC first.
    #[serde(default)]
    pub interfaces: Vec<AgentInterface>,
    pub provider: Option<AgentProvider>,
    pub documentation_url: Option<String>,
    pub icon_url: Option<String>,
    pub capabilities: AgentCapabilities,
    pub default_input_modes: Vec<String>,
    pub default_output_modes: Vec<String>,
    pub skills: Vec<AgentSkill>,
    /// Whether the 1.0 card also carries the 0.3 members (`[card] v03_fields`): 0.3
    /// clients reading `/.well-known/agent-card.json` need them, a strict 1.0 reader (the
    /// 1.0 schema allows no other member) refuses them.
    pub v03_fields: bool,
    /// The schemes callers authenticate with (empty: none, the card declares nothing).
    #[serde(default)]
    pub security: CardSecurity,
}

impl AgentCard {
    /// The extended card: the public one with `[card.extended]` applied.
    pub fn extended(&self, ext: &ExtendedCard) -> AgentCard {
        let mut card = self.clone();
        if let Some(d) = &ext.description {
            card.description = d.clone();
        }
        card.skills.extend(ext.skills.iter().cloned());
        card
    }
}

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
    /// Where the gRPC services are (`host:port`), when served.
    #[serde(default, skip)]
    #[schemars(skip)]
    pub grpc: Option<String>,
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

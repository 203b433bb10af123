//! Push notification configs: where a task's events are POSTed, version-independent.

use super::Version;

/// How the server authenticates to a webhook: `Authorization: <scheme> <credentials>`.
/// 1.0 names one scheme; 0.x lists several, the first one with credentials is used.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PushAuth {
    pub schemes: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credentials: Option<String>,
}

impl PushAuth {
    /// The `Authorization` header value, when the config brings credentials.
    pub fn header_value(&self) -> Option<String> {
        let credentials = self.credentials.as_deref().filter(|c| !c.is_empty())?;
        let scheme = self.schemes.first().map_or("Bearer", String::as_str);
        Some(format!("{scheme} {credentials}"))
    }
}

/// A webhook registered for a task.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushConfig {
    /// Unique within the task; defaults to the task id (as the official SDKs do).
    pub id: String,
    pub task_id: String,
    pub url: String,
    /// Echoed in `X-A2A-Notification-Token` so the receiver can check relevance.
    pub token: Option<String>,
    pub authentication: Option<PushAuth>,
    /// The wire version the config was registered through: it decides the body shape
    /// (1.0: a `StreamResponse` per event; 0.x: the task).
    pub origin: Version,
}

/// A config as a send request carries it inline: no task yet, perhaps no id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InlinePushConfig {
    pub id: Option<String>,
    pub url: String,
    pub token: Option<String>,
    pub authentication: Option<PushAuth>,
}

impl InlinePushConfig {
    pub fn for_task(self, task_id: &str, origin: Version) -> PushConfig {
        PushConfig {
            id: self
                .id
                .filter(|i| !i.is_empty())
                .unwrap_or_else(|| task_id.to_string()),
            task_id: task_id.to_string(),
            url: self.url,
            token: self.token.filter(|t| !t.is_empty()),
            authentication: self.authentication,
            origin,
        }
    }
}

/// A page of a task's push configs, ordered by id.
#[derive(Debug, Clone, Default)]
pub struct PushConfigPage {
    pub configs: Vec<PushConfig>,
    /// Empty on the last page.
    pub next_page_token: String,
}

//! Push notification config shapes of every version, and the notification bodies.
//!
//! 1.0 has one flat `TaskPushNotificationConfig` with `authentication.scheme`; 0.3 wraps a
//! `PushNotificationConfig` (with `authentication.schemes[]`) in `{taskId, …}`; 0.1 wraps
//! it in `{id: taskId, …}`. Credentials are write-only: responses leave them out.

use serde::{Deserialize, Serialize};

use crate::protocol::{
    A2aError, InlinePushConfig, Metadata, PushAuth, PushConfig, StreamItem, TaskEvent, Version,
};

// ---- 1.0 ----

/// 1.0 `AuthenticationInfo`.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct AuthenticationInfo {
    pub scheme: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credentials: Option<String>,
}

/// 1.0 `TaskPushNotificationConfig`: create params, get/list results, inline config.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct TaskPushNotificationConfig {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none", alias = "task_id")]
    pub task_id: Option<String>,
    pub url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authentication: Option<AuthenticationInfo>,
}

impl TaskPushNotificationConfig {
    pub fn into_inline(self) -> Result<InlinePushConfig, A2aError> {
        let authentication = match self.authentication {
            Some(a) if a.scheme.trim().is_empty() => {
                return Err(A2aError::params(
                    "authentication.scheme must name an HTTP authentication scheme (Bearer, Basic, …)",
                ));
            }
            Some(a) => Some(PushAuth {
                schemes: vec![a.scheme],
                credentials: a.credentials,
            }),
            None => None,
        };
        Ok(InlinePushConfig {
            id: self.id,
            url: self.url,
            token: self.token,
            authentication,
        })
    }

    /// `CreateTaskPushNotificationConfig`: the task id is required.
    pub fn into_config(self) -> Result<PushConfig, A2aError> {
        let task_id = self
            .task_id
            .clone()
            .filter(|t| !t.is_empty())
            .ok_or_else(|| A2aError::params("missing field `taskId`"))?;
        Ok(self.into_inline()?.for_task(&task_id, Version::V1))
    }

    pub fn from_config(c: &PushConfig) -> Self {
        TaskPushNotificationConfig {
            tenant: None,
            id: Some(c.id.clone()),
            task_id: Some(c.task_id.clone()),
            url: c.url.clone(),
            token: c.token.clone(),
            authentication: c.authentication.as_ref().map(|a| AuthenticationInfo {
                scheme: a.schemes.first().cloned().unwrap_or_default(),
                credentials: None,
            }),
        }
    }
}

/// `GetTaskPushNotificationConfig` / `DeleteTaskPushNotificationConfig` params.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PushConfigIdRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant: Option<String>,
    #[serde(alias = "task_id")]
    pub task_id: String,
    pub id: String,
}

/// `ListTaskPushNotificationConfigs` params.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ListPushConfigsRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant: Option<String>,
    #[serde(alias = "task_id")]
    pub task_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none", alias = "page_size")]
    pub page_size: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none", alias = "page_token")]
    pub page_token: Option<String>,
}

/// `ListTaskPushNotificationConfigs` result.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ListPushConfigsResponse {
    // ProtoJSON servers (the official SDKs) omit empty lists and strings.
    #[serde(default)]
    pub configs: Vec<TaskPushNotificationConfig>,
    #[serde(default)]
    pub next_page_token: String,
}

// ---- 0.3 and 0.1 ----

/// 0.x `PushNotificationAuthenticationInfo` / `AuthenticationInfo`.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct AuthenticationInfoLegacy {
    pub schemes: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credentials: Option<String>,
}

/// 0.x `PushNotificationConfig` (0.1 has no `id`).
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct PushNotificationConfig {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    pub url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authentication: Option<AuthenticationInfoLegacy>,
}

impl PushNotificationConfig {
    pub fn into_inline(self) -> InlinePushConfig {
        InlinePushConfig {
            id: self.id,
            url: self.url,
            token: self.token,
            authentication: self.authentication.map(|a| PushAuth {
                schemes: a.schemes,
                credentials: a.credentials,
            }),
        }
    }

    fn from_config(c: &PushConfig, with_id: bool) -> Self {
        PushNotificationConfig {
            id: with_id.then(|| c.id.clone()),
            url: c.url.clone(),
            token: c.token.clone(),
            authentication: c.authentication.as_ref().map(|a| AuthenticationInfoLegacy {
                schemes: a.schemes.clone(),
                credentials: None,
            }),
        }
    }
}

/// 0.3 `TaskPushNotificationConfig`: `tasks/pushNotificationConfig/set` params and result.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct TaskPushNotificationConfig03 {
    pub task_id: String,
    pub push_notification_config: PushNotificationConfig,
}

impl TaskPushNotificationConfig03 {
    pub fn into_config(self) -> PushConfig {
        self.push_notification_config
            .into_inline()
            .for_task(&self.task_id, Version::V03)
    }

    pub fn from_config(c: &PushConfig) -> Self {
        TaskPushNotificationConfig03 {
            task_id: c.task_id.clone(),
            push_notification_config: PushNotificationConfig::from_config(c, true),
        }
    }
}

/// `tasks/pushNotificationConfig/get|list|delete` params (`id` is the task id).
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PushConfigParams03 {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub push_notification_config_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Metadata>,
}

/// 0.1 `TaskPushNotificationConfig`: `{id: taskId, pushNotificationConfig}`.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct TaskPushNotificationConfig01 {
    pub id: String,
    pub push_notification_config: PushNotificationConfig,
}

impl TaskPushNotificationConfig01 {
    /// 0.1 has one config per task: its id is the task id.
    pub fn into_config(self) -> PushConfig {
        let mut inline = self.push_notification_config.into_inline();
        inline.id = None;
        inline.for_task(&self.id, Version::V01)
    }

    pub fn from_config(c: &PushConfig) -> Self {
        TaskPushNotificationConfig01 {
            id: crate::protocol::alias::client_id(&c.task_id).to_string(),
            push_notification_config: PushNotificationConfig::from_config(c, false),
        }
    }
}

// ---- notification bodies ----

/// The body and `Content-Type` of a notification: 1.0 POSTs the event as a
/// `StreamResponse`, 0.x the task (as the 0.x SDKs send it).
pub fn notification_body(origin: Version, payload: &TaskEvent) -> (super::Json, &'static str) {
    match (origin, payload) {
        (Version::V03, TaskEvent::Task(t)) => {
            (super::encode(&super::v03::task(t)), "application/json")
        }
        (Version::V01, TaskEvent::Task(t)) => {
            (super::encode(&super::v01::task(t)), "application/json")
        }
        (_, event) => {
            let item = StreamItem::event(0, event.clone());
            let body = super::v1::stream_item(&item)
                .unwrap_or_else(|| super::encode(&serde_json::json!({})));
            (body, "application/a2a+json")
        }
    }
}

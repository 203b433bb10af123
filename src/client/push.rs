//! Push notification config calls of every version: 1.0 create/get/list/delete, 0.3
//! set/get/list/delete, 0.1 set/get. Results come back as the version-independent
//! [`PushConfig`].

use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use super::wire::RpcCall;
use super::{A2aClient, ClientError};
use crate::codec::push::{
    AuthenticationInfo, AuthenticationInfoLegacy, ListPushConfigsResponse, PushNotificationConfig,
    TaskPushNotificationConfig, TaskPushNotificationConfig01, TaskPushNotificationConfig03,
};
use crate::protocol::{PushConfig, Version};

fn to_value<T: serde::Serialize>(v: &T) -> Value {
    serde_json::to_value(v).expect("wire types serialize")
}

fn decode<T: DeserializeOwned>(what: &str, raw: &str) -> Result<T, ClientError> {
    serde_json::from_str(raw).map_err(|e| ClientError::Decode {
        what: what.into(),
        detail: e.to_string(),
    })
}

fn unsupported(what: &str, v: Version) -> ClientError {
    ClientError::Unsupported(format!("A2A {} has no {what}", v.as_str()))
}

fn legacy_config(c: &PushConfig, with_id: bool) -> PushNotificationConfig {
    PushNotificationConfig {
        id: with_id.then(|| c.id.clone()),
        url: c.url.clone(),
        token: c.token.clone(),
        authentication: c.authentication.as_ref().map(|a| AuthenticationInfoLegacy {
            schemes: a.schemes.clone(),
            credentials: a.credentials.clone(),
        }),
    }
}

fn from_v1(c: TaskPushNotificationConfig) -> Result<PushConfig, ClientError> {
    c.into_config().map_err(|e| ClientError::Decode {
        what: "push notification config".into(),
        detail: e.to_string(),
    })
}

impl A2aClient {
    /// Registers (or replaces, by id) a webhook for a task; returns it as the server
    /// stored it (credentials are usually left out).
    pub async fn set_push_config(&self, config: &PushConfig) -> Result<PushConfig, ClientError> {
        let v = self.version();
        let call = match v {
            Version::V1 => RpcCall {
                method: "CreateTaskPushNotificationConfig",
                params: to_value(&TaskPushNotificationConfig {
                    tenant: None,
                    id: (!config.id.is_empty()).then(|| config.id.clone()),
                    task_id: Some(config.task_id.clone()),
                    url: config.url.clone(),
                    token: config.token.clone(),
                    authentication: config.authentication.as_ref().map(|a| AuthenticationInfo {
                        scheme: a.schemes.first().cloned().unwrap_or_default(),
                        credentials: a.credentials.clone(),
                    }),
                }),
            },
            Version::V03 => RpcCall {
                method: "tasks/pushNotificationConfig/set",
                params: to_value(&TaskPushNotificationConfig03 {
                    task_id: config.task_id.clone(),
                    push_notification_config: legacy_config(config, !config.id.is_empty()),
                }),
            },
            Version::V01 => RpcCall {
                method: "tasks/pushNotification/set",
                params: to_value(&TaskPushNotificationConfig01 {
                    id: config.task_id.clone(),
                    push_notification_config: legacy_config(config, false),
                }),
            },
        };
        let raw = self.call(&call).await?;
        self.decode_config(raw.get())
    }

    /// A webhook of a task by id; `None` asks 0.x servers for the task's default one.
    pub async fn get_push_config(
        &self,
        task_id: &str,
        id: Option<&str>,
    ) -> Result<PushConfig, ClientError> {
        let v = self.version();
        let call = match (v, id) {
            (Version::V1, Some(id)) => RpcCall {
                method: "GetTaskPushNotificationConfig",
                params: json!({"taskId": task_id, "id": id}),
            },
            (Version::V1, None) => return Err(unsupported("default push config", v)),
            (Version::V03, _) => RpcCall {
                method: "tasks/pushNotificationConfig/get",
                params: match id {
                    Some(id) => json!({"id": task_id, "pushNotificationConfigId": id}),
                    None => json!({"id": task_id}),
                },
            },
            (Version::V01, _) => RpcCall {
                method: "tasks/pushNotification/get",
                params: json!({"id": task_id}),
            },
        };
        let raw = self.call(&call).await?;
        self.decode_config(raw.get())
    }

    /// Every webhook of a task (1.0 and 0.3; 1.0 pages are followed).
    pub async fn list_push_configs(&self, task_id: &str) -> Result<Vec<PushConfig>, ClientError> {
        match self.version() {
            Version::V1 => {
                let mut out = Vec::new();
                let mut token = String::new();
                loop {
                    let call = RpcCall {
                        method: "ListTaskPushNotificationConfigs",
                        params: json!({"taskId": task_id, "pageToken": token}),
                    };
                    let raw = self.call(&call).await?;
                    let page: ListPushConfigsResponse = decode("push config list", raw.get())?;
                    for c in page.configs {
                        out.push(from_v1(c)?);
                    }
                    if page.next_page_token.is_empty() || page.next_page_token == token {
                        return Ok(out);
                    }
                    token = page.next_page_token;
                }
            }
            Version::V03 => {
                let call = RpcCall {
                    method: "tasks/pushNotificationConfig/list",
                    params: json!({"id": task_id}),
                };
                let raw = self.call(&call).await?;
                let list: Vec<TaskPushNotificationConfig03> =
                    decode("push config list", raw.get())?;
                Ok(list.into_iter().map(|c| c.into_config()).collect())
            }
            v @ Version::V01 => Err(unsupported("list of push configs", v)),
        }
    }

    /// Deletes a webhook of a task (1.0 and 0.3).
    pub async fn delete_push_config(&self, task_id: &str, id: &str) -> Result<(), ClientError> {
        let call = match self.version() {
            Version::V1 => RpcCall {
                method: "DeleteTaskPushNotificationConfig",
                params: json!({"taskId": task_id, "id": id}),
            },
            Version::V03 => RpcCall {
                method: "tasks/pushNotificationConfig/delete",
                params: json!({"id": task_id, "pushNotificationConfigId": id}),
            },
            v @ Version::V01 => return Err(unsupported("push config delete", v)),
        };
        match self.call(&call).await {
            Ok(_) => Ok(()),
            // The official Python SDK (a2a-sdk 1.3, 0.3 compat) answers a 0.3 delete with
            // neither `result` nor `error`; the config is gone all the same.
            Err(ClientError::Decode { detail, .. }) if detail.starts_with("neither `result`") => {
                Ok(())
            }
            Err(e) => Err(e),
        }
    }

    fn decode_config(&self, raw: &str) -> Result<PushConfig, ClientError> {
        match self.version() {
            Version::V1 => from_v1(decode("push notification config", raw)?),
            Version::V03 => Ok(decode::<TaskPushNotificationConfig03>(
                "push notification config",
                raw,
            )?
            .into_config()),
            Version::V01 => Ok(decode::<TaskPushNotificationConfig01>(
                "push notification config",
                raw,
            )?
            .into_config()),
        }
    }
}

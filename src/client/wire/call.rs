//! Building each version's JSON-RPC request (method and params) from the client's options.

use std::sync::Arc;

use serde_json::Value;

use crate::client::{ClientError, ListOptions, SendOptions};
use crate::codec::{v01, v1, v03};
use crate::protocol::{Message, Role, Version};

/// A JSON-RPC method and its params, before the envelope is added.
#[derive(Debug, Clone, PartialEq)]
pub struct RpcCall {
    pub method: &'static str,
    pub params: Value,
}

fn to_value<T: serde::Serialize>(v: &T) -> Value {
    serde_json::to_value(v).expect("wire types serialize")
}

fn fresh_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// The user message of a send: a fresh `messageId` unless the caller chose one.
pub fn user_message(opts: &SendOptions) -> Message {
    Message {
        message_id: opts.message_id.clone().unwrap_or_else(fresh_id),
        context_id: opts.context_id.as_deref().map(Arc::from),
        task_id: opts.task_id.as_deref().map(Arc::from),
        role: Role::User,
        parts: opts.parts.clone(),
        metadata: opts.message_metadata.clone(),
        extensions: Vec::new(),
        reference_task_ids: Vec::new(),
    }
}

/// `SendMessage` / `message/send` / `tasks/send` (or their streaming twins).
pub fn send_call(version: Version, opts: &SendOptions, streaming: bool) -> RpcCall {
    let message = user_message(opts);
    let history_length = opts.history_length.map(i64::from);
    match version {
        Version::V1 => {
            let configuration = v1::SendMessageConfiguration {
                accepted_output_modes: opts.accepted_output_modes.clone(),
                history_length,
                return_immediately: (opts.no_wait && !streaming).then_some(true),
                task_push_notification_config: None,
            };
            let has_cfg = !configuration.accepted_output_modes.is_empty()
                || configuration.history_length.is_some()
                || configuration.return_immediately.is_some();
            let params = v1::SendMessageRequest {
                tenant: None,
                message,
                configuration: has_cfg.then_some(configuration),
                metadata: opts.metadata.clone(),
            };
            RpcCall {
                method: if streaming {
                    "SendStreamingMessage"
                } else {
                    "SendMessage"
                },
                params: to_value(&params),
            }
        }
        Version::V03 => {
            let configuration = v03::MessageSendConfiguration {
                accepted_output_modes: (!opts.accepted_output_modes.is_empty())
                    .then(|| opts.accepted_output_modes.clone()),
                history_length,
                push_notification_config: None,
                blocking: (opts.no_wait && !streaming).then_some(false),
            };
            let has_cfg = configuration.accepted_output_modes.is_some()
                || configuration.history_length.is_some()
                || configuration.blocking.is_some();
            let params = v03::MessageSendParams {
                message: v03::message(&message),
                configuration: has_cfg.then_some(configuration),
                metadata: opts.metadata.clone(),
            };
            RpcCall {
                method: if streaming {
                    "message/stream"
                } else {
                    "message/send"
                },
                params: to_value(&params),
            }
        }
        Version::V01 => {
            // 0.1: the client names the task and the session; messages carry no id.
            let params = v01::TaskSendParams {
                id: opts.task_id.clone().unwrap_or_else(fresh_id),
                session_id: Some(opts.context_id.clone().unwrap_or_else(fresh_id).into()),
                message: v01::message(&message),
                push_notification: None,
                history_length,
                metadata: opts.metadata.clone(),
            };
            RpcCall {
                method: if streaming {
                    "tasks/sendSubscribe"
                } else {
                    "tasks/send"
                },
                params: to_value(&params),
            }
        }
    }
}

/// `GetTask` / `tasks/get`.
pub fn get_call(version: Version, task_id: &str, history_length: Option<u32>) -> RpcCall {
    let history_length = history_length.map(i64::from);
    match version {
        Version::V1 => RpcCall {
            method: "GetTask",
            params: to_value(&v1::GetTaskRequest {
                tenant: None,
                id: task_id.to_string(),
                history_length,
            }),
        },
        Version::V03 | Version::V01 => RpcCall {
            method: "tasks/get",
            params: to_value(&v03::TaskQueryParams {
                id: task_id.to_string(),
                history_length,
                metadata: None,
            }),
        },
    }
}

fn task_id_call(
    version: Version,
    task_id: &str,
    v1_method: &'static str,
    legacy: &'static str,
) -> RpcCall {
    match version {
        Version::V1 => RpcCall {
            method: v1_method,
            params: to_value(&v1::TaskIdRequest {
                tenant: None,
                id: task_id.to_string(),
                metadata: None,
            }),
        },
        Version::V03 | Version::V01 => RpcCall {
            method: legacy,
            params: to_value(&v03::TaskIdParams {
                id: task_id.to_string(),
                metadata: None,
            }),
        },
    }
}

/// `CancelTask` / `tasks/cancel`.
pub fn cancel_call(version: Version, task_id: &str) -> RpcCall {
    task_id_call(version, task_id, "CancelTask", "tasks/cancel")
}

/// `SubscribeToTask` / `tasks/resubscribe`.
pub fn subscribe_call(version: Version, task_id: &str) -> RpcCall {
    task_id_call(version, task_id, "SubscribeToTask", "tasks/resubscribe")
}

/// `ListTasks` (1.0 only: 0.3 and 0.1 have no JSON-RPC method to list tasks).
pub fn list_call(version: Version, opts: &ListOptions) -> Result<RpcCall, ClientError> {
    if version != Version::V1 {
        return Err(ClientError::Unsupported(format!(
            "listing tasks needs A2A 1.0 (`ListTasks`); A2A {} has no JSON-RPC method for it",
            version.as_str()
        )));
    }
    let params = v1::ListTasksRequest {
        tenant: None,
        context_id: opts.context_id.clone(),
        status: opts.status.map(|s| s.v1_name().to_string()),
        page_size: opts.page_size.map(i64::from),
        page_token: opts.page_token.clone(),
        history_length: opts.history_length.map(i64::from),
        status_timestamp_after: opts.status_timestamp_after.clone(),
        include_artifacts: opts.include_artifacts.then_some(true),
    };
    Ok(RpcCall {
        method: "ListTasks",
        params: to_value(&params),
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::protocol::TaskState;

    fn opts() -> SendOptions {
        SendOptions {
            message_id: Some("m1".into()),
            ..SendOptions::text("hi")
        }
    }

    #[test]
    fn v1_send_uses_pascal_case_and_proto_json() {
        let c = send_call(
            Version::V1,
            &SendOptions {
                no_wait: true,
                ..opts()
            },
            false,
        );
        assert_eq!(c.method, "SendMessage");
        assert_eq!(
            c.params,
            json!({
                "message": {"messageId": "m1", "role": "ROLE_USER", "parts": [{"text": "hi"}]},
                "configuration": {"returnImmediately": true},
            })
        );
        assert_eq!(
            send_call(Version::V1, &opts(), true).method,
            "SendStreamingMessage"
        );
        assert!(
            send_call(Version::V1, &opts(), false)
                .params
                .get("configuration")
                .is_none()
        );
    }

    #[test]
    fn v03_send_has_kinds_and_blocking_false() {
        let c = send_call(
            Version::V03,
            &SendOptions {
                no_wait: true,
                history_length: Some(2),
                ..opts()
            },
            false,
        );
        assert_eq!(c.method, "message/send");
        assert_eq!(
            c.params,
            json!({
                "message": {"kind": "message", "messageId": "m1", "role": "user",
                            "parts": [{"kind": "text", "text": "hi"}]},
                "configuration": {"historyLength": 2, "blocking": false},
            })
        );
        assert_eq!(
            send_call(Version::V03, &opts(), true).method,
            "message/stream"
        );
    }

    #[test]
    fn v01_send_names_task_and_session() {
        let c = send_call(Version::V01, &opts(), false);
        assert_eq!(c.method, "tasks/send");
        assert!(!c.params["id"].as_str().unwrap().is_empty());
        assert!(!c.params["sessionId"].as_str().unwrap().is_empty());
        assert_eq!(
            c.params["message"],
            json!({"role": "user", "parts": [{"type": "text", "text": "hi"}]})
        );
        let c = send_call(
            Version::V01,
            &SendOptions {
                task_id: Some("t".into()),
                context_id: Some("s".into()),
                ..opts()
            },
            true,
        );
        assert_eq!(c.method, "tasks/sendSubscribe");
        assert_eq!(
            (c.params["id"].as_str(), c.params["sessionId"].as_str()),
            (Some("t"), Some("s"))
        );
    }

    #[test]
    fn fresh_message_ids() {
        let a = send_call(Version::V1, &SendOptions::text("x"), false);
        let b = send_call(Version::V1, &SendOptions::text("x"), false);
        assert_ne!(
            a.params["message"]["messageId"],
            b.params["message"]["messageId"]
        );
    }

    #[test]
    fn task_calls_per_version() {
        assert_eq!(get_call(Version::V1, "t", Some(3)).method, "GetTask");
        assert_eq!(
            get_call(Version::V1, "t", Some(3)).params,
            json!({"id": "t", "historyLength": 3})
        );
        assert_eq!(get_call(Version::V03, "t", None).method, "tasks/get");
        assert_eq!(cancel_call(Version::V1, "t").method, "CancelTask");
        assert_eq!(cancel_call(Version::V01, "t").params, json!({"id": "t"}));
        assert_eq!(subscribe_call(Version::V1, "t").method, "SubscribeToTask");
        assert_eq!(
            subscribe_call(Version::V03, "t").method,
            "tasks/resubscribe"
        );
    }

    #[test]
    fn list_is_v1_only() {
        let o = ListOptions {
            status: Some(TaskState::InputRequired),
            page_size: Some(5),
            include_artifacts: true,
            ..Default::default()
        };
        let c = list_call(Version::V1, &o).unwrap();
        assert_eq!(
            c.params,
            json!({"status": "TASK_STATE_INPUT_REQUIRED", "pageSize": 5, "includeArtifacts": true})
        );
        assert!(matches!(
            list_call(Version::V03, &o),
            Err(ClientError::Unsupported(_))
        ));
    }
}

//! The client's gRPC transport: `lf.a2a.v1.A2AService` (A2A 1.0) over h2c. Each call of
//! the client is the RPC of the same name; its params and result are the RPC's messages
//! as ProtoJSON (pbjson), which is what the 1.0 JSON-RPC wire carries, so everything
//! above `A2aClient::call` is the same for both transports.

use futures::{Stream, StreamExt};
use serde_json::value::RawValue;
use tonic::transport::Channel;
use tonic::{Request, Status};
use tonic_types::StatusExt;

use super::ClientError;
use super::wire::RpcCall;
use crate::grpc::v1 as pb;
use pb::a2a_service_client::A2aServiceClient;

/// A channel to one gRPC endpoint; cheap to clone (calls share its HTTP/2 connection).
#[derive(Debug, Clone)]
pub(super) struct GrpcLink {
    client: A2aServiceClient<Channel>,
}

impl GrpcLink {
    /// A link to `authority` (the card's bare `host:port`, or with a `grpc://`/`http://`
    /// scheme); connects on first use. `None` if it is no authority.
    pub(super) fn new(authority: &str) -> Option<Self> {
        let authority = authority
            .trim_start_matches("grpc://")
            .trim_start_matches("http://")
            .trim_end_matches('/');
        let channel = Channel::from_shared(format!("http://{authority}"))
            .ok()?
            .connect_lazy();
        Some(Self {
            client: A2aServiceClient::new(channel),
        })
    }

    fn request<T>(
        &self,
        msg: T,
        headers: &http::HeaderMap,
        idempotency_key: Option<&str>,
    ) -> Request<T> {
        let mut r = Request::new(msg);
        *r.metadata_mut() = tonic::metadata::MetadataMap::from_headers(headers.clone());
        r.metadata_mut().insert(
            "a2a-version",
            tonic::metadata::MetadataValue::from_static("1.0"),
        );
        if let Some(k) = idempotency_key.and_then(|k| k.parse().ok()) {
            r.metadata_mut().insert("idempotency-key", k);
        }
        r
    }

    /// One unary call; its result as the JSON-RPC result would be.
    pub(super) async fn call(
        &self,
        call: &RpcCall,
        headers: &http::HeaderMap,
        idempotency_key: Option<&str>,
    ) -> Result<Box<RawValue>, ClientError> {
        let mut c = self.client.clone();
        macro_rules! rpc {
            ($f:ident) => {{
                let req = self.request(params(call)?, headers, idempotency_key);
                let r = c.$f(req).await.map_err(status_error)?;
                to_raw(&r.into_inner())
            }};
        }
        match call.method {
            "SendMessage" => rpc!(send_message),
            "GetTask" => rpc!(get_task),
            "ListTasks" => {
                let req = self.request(params(call)?, headers, idempotency_key);
                let r = c.list_tasks(req).await.map_err(status_error)?;
                // ProtoJSON leaves out empty and zero members; the 1.0 result has them all.
                let mut v = serde_json::to_value(r.into_inner()).map_err(decode_error)?;
                if let Some(o) = v.as_object_mut() {
                    for (k, d) in [
                        ("tasks", serde_json::json!([])),
                        ("nextPageToken", serde_json::json!("")),
                        ("pageSize", serde_json::json!(0)),
                        ("totalSize", serde_json::json!(0)),
                    ] {
                        o.entry(k).or_insert(d);
                    }
                }
                to_raw(&v)
            }
            "CancelTask" => rpc!(cancel_task),
            "CreateTaskPushNotificationConfig" => rpc!(create_task_push_notification_config),
            "GetTaskPushNotificationConfig" => rpc!(get_task_push_notification_config),
            "ListTaskPushNotificationConfigs" => rpc!(list_task_push_notification_configs),
            "DeleteTaskPushNotificationConfig" => rpc!(delete_task_push_notification_config),
            "GetExtendedAgentCard" => rpc!(get_extended_agent_card),
            other => Err(ClientError::Unsupported(format!(
                "`{other}` is not a unary A2A 1.0 gRPC method"
            ))),
        }
    }

    /// A server stream; each item as the JSON-RPC stream's result would be.
    pub(super) async fn stream(
        &self,
        call: &RpcCall,
        headers: &http::HeaderMap,
        idempotency_key: Option<&str>,
    ) -> Result<impl Stream<Item = Result<Box<RawValue>, ClientError>> + use<>, ClientError> {
        let mut c = self.client.clone();
        let stream = match call.method {
            "SendStreamingMessage" => {
                let msg = params::<pb::SendMessageRequest>(call)?;
                let req = self.request(msg, headers, idempotency_key);
                c.send_streaming_message(req).await
            }
            "SubscribeToTask" => {
                let msg = params::<pb::SubscribeToTaskRequest>(call)?;
                let req = self.request(msg, headers, None);
                c.subscribe_to_task(req).await
            }
            other => {
                return Err(ClientError::Unsupported(format!(
                    "`{other}` is not a streaming A2A 1.0 gRPC method"
                )));
            }
        }
        .map_err(status_error)?
        .into_inner();
        Ok(stream.map(|item| item.map_err(status_error).and_then(|r| to_raw(&r))))
    }
}

fn params<T: serde::de::DeserializeOwned>(call: &RpcCall) -> Result<T, ClientError> {
    serde_json::from_value(call.params.clone()).map_err(|e| ClientError::Decode {
        what: format!("{} params as its gRPC message", call.method),
        detail: e.to_string(),
    })
}

fn to_raw<T: serde::Serialize>(m: &T) -> Result<Box<RawValue>, ClientError> {
    serde_json::value::to_raw_value(m).map_err(decode_error)
}

fn decode_error(e: serde_json::Error) -> ClientError {
    ClientError::Decode {
        what: "gRPC response".into(),
        detail: e.to_string(),
    }
}

/// A status as the JSON-RPC error of the same failure: the code from our servers'
/// `ErrorInfo` metadata (`code`), else from the A2A reason, else -32603; `data` carries the
/// ErrorInfo as a 1.0 JSON-RPC error does.
fn status_error(s: Status) -> ClientError {
    let info = s.get_details_error_info();
    let code = info
        .as_ref()
        .and_then(|i| i.metadata.get("code")?.parse().ok())
        .or_else(|| info.as_ref().and_then(|i| reason_code(&i.reason)))
        .unwrap_or(-32603);
    let data = info.map(|i| {
        serde_json::json!([{
            "@type": "type.googleapis.com/google.rpc.ErrorInfo",
            "reason": i.reason,
            "domain": i.domain,
            "metadata": i.metadata,
        }])
    });
    ClientError::JsonRpc {
        code,
        message: format!("gRPC {:?}: {}", s.code(), s.message()),
        data,
    }
}

fn reason_code(reason: &str) -> Option<i64> {
    Some(match reason {
        "TASK_NOT_FOUND" => -32001,
        "TASK_NOT_CANCELABLE" => -32002,
        "PUSH_NOTIFICATION_NOT_SUPPORTED" => -32003,
        "UNSUPPORTED_OPERATION" => -32004,
        "CONTENT_TYPE_NOT_SUPPORTED" => -32005,
        "INVALID_AGENT_RESPONSE" => -32006,
        "EXTENDED_AGENT_CARD_NOT_CONFIGURED" => -32007,
        "EXTENSION_SUPPORT_REQUIRED" => -32008,
        "VERSION_NOT_SUPPORTED" => -32009,
        _ => return None,
    })
}

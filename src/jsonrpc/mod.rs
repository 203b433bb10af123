//! JSON-RPC: the envelope, the method table, and the jsonrpsee [`RpcModule`] that
//! dispatches every method of every version.
//!
//! jsonrpsee's HTTP transport is not used: it has no SSE, and its own error codes
//! -32005..-32009 mean something else in A2A. The HTTP layer parses the envelope, enforces
//! limits, picks the version, then calls the method's callback in the module directly.

pub mod envelope;
pub mod error;
mod fuzz;
mod handlers;
pub mod methods;
mod push;

use std::pin::Pin;
use std::sync::Arc;

use futures::Stream;
use jsonrpsee::types::{ErrorObjectOwned, Id, Params};
use jsonrpsee::{ConnectionId, Extensions, MethodCallback, RpcModule};
use parking_lot::Mutex;
use serde_json::value::RawValue;

use crate::protocol::card::AgentCard;
use crate::protocol::{A2aError, Version};
use crate::service::TaskService;
use crate::store::Scope;

pub use fuzz::fuzz_decode;

/// What every method handler can reach.
pub struct Ctx {
    pub service: TaskService,
    pub card: AgentCard,
}

/// Per-call context the HTTP layer puts into the method's extensions.
#[derive(Clone)]
pub struct Call {
    pub version: Version,
    pub scope: Scope,
    /// The SSE `Last-Event-ID` of a reconnecting subscriber.
    pub last_event_id: Option<u64>,
    pub stream: StreamSlot,
}

/// One SSE event: its `id:` (the task event sequence) and the JSON-RPC result or error.
pub struct SseItem {
    pub id: Option<u64>,
    pub result: Result<Box<RawValue>, A2aError>,
}

pub type SseStream = Pin<Box<dyn Stream<Item = SseItem> + Send>>;

/// Where a streaming method leaves its stream for the HTTP layer to write as SSE.
#[derive(Clone, Default)]
pub struct StreamSlot(Arc<Mutex<Option<SseStream>>>);

impl StreamSlot {
    pub fn set(&self, s: SseStream) {
        *self.0.lock() = Some(s);
    }

    pub fn take(&self) -> Option<SseStream> {
        self.0.lock().take()
    }
}

/// What a dispatched call produced.
pub enum Outcome {
    /// A complete JSON-RPC response.
    Response(Box<RawValue>),
    /// A stream of results for the request `id`.
    Stream {
        id: Id<'static>,
        version: Version,
        stream: SseStream,
    },
    /// An error response to a 0.x streaming call, which 0.x clients expect as one SSE
    /// event (the 0.3 Python SDK refuses a JSON body there).
    StreamError(Box<RawValue>),
}

macro_rules! register {
    ($module:ident, $($name:literal => $handler:path),+ $(,)?) => {
        $(
            $module
                .register_async_method($name, |params: Params<'static>, ctx: Arc<Ctx>, ext: Extensions| async move {
                    let call = ext.get::<Call>().expect("the dispatcher always sets Call");
                    $handler(&ctx, call, params.as_str())
                        .await
                        .map_err(|e| error::error_object(&e, call.version))
                })
                .expect("method names are unique");
        )+
    };
}

/// Builds the dispatcher: every method of the table, by name.
pub fn module(ctx: Ctx) -> RpcModule<Ctx> {
    let mut m = RpcModule::new(ctx);
    register!(m,
        "SendMessage" => handlers::send_message,
        "SendStreamingMessage" => handlers::send_streaming_message,
        "GetTask" => handlers::get_task,
        "ListTasks" => handlers::list_tasks,
        "CancelTask" => handlers::cancel_task,
        "SubscribeToTask" => handlers::subscribe_to_task,
        "CreateTaskPushNotificationConfig" => push::create,
        "GetTaskPushNotificationConfig" => push::get,
        "ListTaskPushNotificationConfigs" => push::list,
        "DeleteTaskPushNotificationConfig" => push::delete,
        "GetExtendedAgentCard" => handlers::extended_card,
        "message/send" => handlers::message_send,
        "message/stream" => handlers::message_stream,
        "tasks/pushNotificationConfig/set" => push::set_v03,
        "tasks/pushNotificationConfig/get" => push::get_v03,
        "tasks/pushNotificationConfig/list" => push::list_v03,
        "tasks/pushNotificationConfig/delete" => push::delete_v03,
        "agent/getAuthenticatedExtendedCard" => handlers::authenticated_extended_card,
        "tasks/get" => handlers::tasks_get,
        "tasks/cancel" => handlers::tasks_cancel,
        "tasks/resubscribe" => handlers::tasks_resubscribe,
        "tasks/send" => handlers::tasks_send,
        "tasks/sendSubscribe" => handlers::tasks_send_subscribe,
        "tasks/pushNotification/set" => push::set_v01,
        "tasks/pushNotification/get" => push::get_v01,
    );
    debug_assert_eq!(m.method_names().count(), methods::METHODS.len());
    m
}

/// Serializes an error response for `id`.
pub fn error_response(id: Id<'_>, err: &A2aError, version: Version) -> Box<RawValue> {
    jsonrpsee::MethodResponse::error(id, error::error_object(err, version)).into_json()
}

/// Runs one parsed request through the module.
pub async fn dispatch(
    module: &RpcModule<Ctx>,
    req: envelope::Request<'_>,
    version_header: Option<&str>,
    scope: Scope,
    last_event_id: Option<u64>,
) -> Outcome {
    let id = req.id.into_owned();
    let (version, spec) = match methods::resolve(version_header, req.method) {
        Ok(v) => v,
        Err(e) => {
            let version = if version_header.is_some() {
                Version::V1
            } else {
                Version::V03
            };
            return Outcome::Response(error_response(id, &e, version));
        }
    };
    let Some(MethodCallback::Async(callback)) = module.method(spec.name) else {
        let e = A2aError::Internal(format!("method `{}` is not registered", spec.name));
        return Outcome::Response(error_response(id, &e, version));
    };
    let slot = StreamSlot::default();
    let mut ext = Extensions::new();
    ext.insert(Call {
        version,
        scope,
        last_event_id,
        stream: slot.clone(),
    });
    let params = Params::new(req.params.map(RawValue::get)).into_owned();
    let response = callback(id.clone(), params, ConnectionId(0), usize::MAX, ext).await;
    match slot.take() {
        Some(stream) if response.is_success() => Outcome::Stream {
            id,
            version,
            stream,
        },
        _ if spec.streaming && version != Version::V1 => Outcome::StreamError(response.into_json()),
        _ => Outcome::Response(response.into_json()),
    }
}

/// The JSON-RPC error object of `err` (for SSE error events).
pub fn error_object(err: &A2aError, version: Version) -> ErrorObjectOwned {
    error::error_object(err, version)
}

//! JSON-RPC: the envelope, the method table, and the [`Module`] that dispatches every
//! method of every version.
//!
//! Only jsonrpsee's types are used: its HTTP transport has no SSE and its own error codes
//! -32005..-32009 mean something else in A2A, and its `RpcModule` serializes every result a
//! second time and re-parses the whole response to validate it. The HTTP layer parses the
//! envelope, enforces limits, picks the version, then calls the method's handler here.

pub mod envelope;
pub mod error;
pub(crate) mod fuzz;
mod handlers;
pub mod methods;
mod push;

use std::pin::Pin;
use std::sync::Arc;

use futures::Stream;
use jsonrpsee::types::{ErrorObjectOwned, Id};
use parking_lot::Mutex;
use serde_json::value::RawValue;

use crate::auth::Principal;
use crate::codec::Json;
use crate::metrics::CallOutcome;
use crate::protocol::card::AgentCard;
use crate::protocol::limits::RequestLimits;
use crate::protocol::{A2aError, Idempotency, IdempotencyKey, Version};
use crate::service::TaskService;
use crate::store::Scope;

pub use fuzz::fuzz_decode;

/// What every method handler can reach.
pub struct Ctx {
    pub service: TaskService,
    pub card: AgentCard,
    /// The extended card (`[card.extended]`), for authenticated callers.
    pub extended: Option<AgentCard>,
    /// Nesting, string, part and metadata limits of every call.
    pub limits: RequestLimits,
}

/// Per-call context the dispatcher hands to the method's handler.
pub struct Call {
    pub version: Version,
    /// Who is calling; task operations run in its scope.
    pub principal: Principal,
    /// The SSE `Last-Event-ID` of a reconnecting subscriber.
    pub last_event_id: Option<u64>,
    /// The request's `Idempotency-Key` with the fingerprint of this call (sends use it).
    pub idempotency: Option<Idempotency>,
    pub stream: StreamSlot,
    /// The task the call is about, once a handler knows it (for the request log).
    pub task_id: TaskIdSlot,
}

impl Call {
    /// The caller's owner and tenant: every task operation runs in it.
    pub fn scope(&self) -> &Scope {
        &self.principal.scope
    }

    /// Whether a 1.0 request's `tenant` is the caller's own (absent or empty: it is).
    pub fn own_tenant(&self, tenant: Option<&str>) -> bool {
        tenant.is_none_or(|t| t.is_empty() || t == self.principal.scope.tenant)
    }

    /// The scope a 1.0 call naming `tenant` runs in: the caller's for its own tenant,
    /// else one that owns nothing, so the call answers exactly as for a task that does
    /// not exist (the same code and message, after the same store read), whatever is in
    /// the tenant named.
    pub fn scope_in(&self, tenant: Option<&str>) -> std::borrow::Cow<'_, Scope> {
        if self.own_tenant(tenant) {
            std::borrow::Cow::Borrowed(self.scope())
        } else {
            // Every authenticator's owner has a scheme prefix (`apikey:`, `jwt:`...) or is
            // empty (anonymous): none is this.
            std::borrow::Cow::Owned(Scope {
                owner: "!no-owner".into(),
                tenant: String::new(),
            })
        }
    }

    /// `TaskNotFound` for a call into a tenant that is not the caller's and that names no
    /// task (a new send, a listing).
    pub fn check_tenant(&self, tenant: Option<&str>) -> Result<(), A2aError> {
        match tenant {
            Some(t) if !self.own_tenant(tenant) => {
                Err(A2aError::TaskNotFound(format!("no task in tenant `{t}`")))
            }
            _ => Ok(()),
        }
    }
}

/// Where a handler notes the id of the task its call created or named.
#[derive(Default)]
pub struct TaskIdSlot(Mutex<Option<Arc<str>>>);

impl TaskIdSlot {
    pub fn set(&self, id: impl Into<Arc<str>>) {
        *self.0.lock() = Some(id.into());
    }

    fn take(&self) -> Option<Arc<str>> {
        self.0.lock().take()
    }
}

/// What the transport logs and counts about a dispatched call; filled in by [`dispatch`].
#[derive(Debug, Clone)]
pub struct CallInfo {
    /// The method's entry in the table; `None` for an unknown method.
    pub method: Option<&'static methods::MethodSpec>,
    /// The version the call was served as; `None` when none could be chosen.
    pub version: Option<Version>,
    pub outcome: CallOutcome,
    /// The JSON-RPC error code of an error answer.
    pub error_code: Option<i32>,
    pub task_id: Option<Arc<str>>,
}

impl Default for CallInfo {
    fn default() -> Self {
        Self {
            method: None,
            version: None,
            outcome: CallOutcome::Ok,
            error_code: None,
            task_id: None,
        }
    }
}

impl CallInfo {
    /// Notes an error answer to the call.
    pub fn failed(&mut self, e: &A2aError, version: Version) {
        self.outcome = if matches!(e, A2aError::Unavailable(_)) {
            CallOutcome::Unavailable
        } else {
            CallOutcome::Error
        };
        self.error_code = Some(error::error_object(e, version).code());
    }
}

/// One SSE event: its `id:` (the task event sequence) and the JSON-RPC result or error.
pub struct SseItem {
    pub id: Option<u64>,
    pub result: Result<Json, A2aError>,
}

pub type SseStream = Pin<Box<dyn Stream<Item = SseItem> + Send>>;

/// Where a streaming method leaves its stream for the HTTP layer to write as SSE.
#[derive(Default)]
pub struct StreamSlot(Mutex<Option<SseStream>>);

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
    Response(String),
    /// A stream of results for the request `id`.
    Stream {
        id: Id<'static>,
        version: Version,
        stream: SseStream,
    },
    /// An error response to a 0.x streaming call, which 0.x clients expect as one SSE
    /// event (the 0.3 Python SDK refuses a JSON body there).
    StreamError(String),
    /// The error response of a call that failed because the service cannot serve it now
    /// (the task store cannot be reached): a retry later may succeed, so HTTP answers 503
    /// with `Retry-After`. `sse`: as one SSE event, as for `StreamError`.
    Unavailable { body: String, sse: bool },
}

/// The method handlers by name, behind the context they share.
pub struct Module {
    ctx: Ctx,
}

macro_rules! methods {
    ($($name:literal => $handler:path),+ $(,)?) => {
        /// Every name [`Module::call`] answers.
        const HANDLED: &[&str] = &[$($name),+];

        impl Module {
            /// Runs the handler of `name`; `None` if no handler has that name. Each handler's
            /// future is boxed: inline, every call's future would be as large as the largest
            /// handler's (several KB), copied whole each time it moves.
            async fn call(&self, name: &str, call: &Call, params: Option<&str>) -> Option<Reply> {
                Some(match name {
                    $($name => Box::pin($handler(&self.ctx, call, params)).await,)+
                    _ => return None,
                })
            }
        }
    };
}

/// What every method handler answers: its result, already serialized, or an error.
type Reply = Result<Json, A2aError>;

methods! {
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
}

impl Module {
    /// Whether `[card.extended]` is configured (the extended-card methods then need
    /// credentials; without it they answer "not configured" to everyone alike).
    pub fn has_extended_card(&self) -> bool {
        self.ctx.extended.is_some()
    }
}

/// Builds the dispatcher: every method of the table, by name.
pub fn module(ctx: Ctx) -> Module {
    debug_assert!(
        HANDLED.len() == methods::METHODS.len()
            && methods::METHODS.iter().all(|m| HANDLED.contains(&m.name)),
        "every method of the table has exactly one handler"
    );
    Module { ctx }
}

/// `{"jsonrpc":"2.0","id":…,"result":…}`, written in one pass (the same bytes and member
/// order jsonrpsee writes).
pub fn success_response(id: &Id<'_>, result: &Json) -> String {
    let mut out = String::with_capacity(result.get().len() + 64);
    push_success_response(&mut out, id, result);
    out
}

/// [`success_response`], appended to `out` (an SSE event writes it after its `data:`).
pub fn push_success_response(out: &mut String, id: &Id<'_>, result: &Json) {
    out.push_str(r#"{"jsonrpc":"2.0","id":"#);
    push_id(out, id);
    out.push_str(r#","result":"#);
    out.push_str(result.get());
    out.push('}');
}

/// Appends `id` as JSON.
fn push_id(out: &mut String, id: &Id<'_>) {
    match id {
        Id::Number(n) => out.push_str(itoa::Buffer::new().format(*n)),
        Id::Null => out.push_str("null"),
        Id::Str(_) => out.push_str(&serde_json::to_string(id).expect("ids serialize")),
    }
}

/// Serializes an error response for `id`.
pub fn error_response(id: Id<'_>, err: &A2aError, version: Version) -> String {
    let json: Box<str> = jsonrpsee::MethodResponse::error(id, error::error_object(err, version))
        .into_json()
        .into();
    json.into()
}

/// Runs one parsed request through the module. `idempotency_key` is the request's
/// `Idempotency-Key`, as [`IdempotencyKey::from_values`] read it (an invalid one is
/// answered here, with the request's id). `info` is filled in for the request log and
/// metrics.
pub async fn dispatch(
    module: &Module,
    req: envelope::Request<'_>,
    version_header: Option<&str>,
    principal: Principal,
    last_event_id: Option<u64>,
    idempotency_key: Result<Option<IdempotencyKey>, A2aError>,
    info: &mut CallInfo,
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
            // A known name asked for in another version still counts under its name.
            info.method = methods::lookup(req.method);
            info.failed(&e, version);
            return Outcome::Response(error_response(id, &e, version));
        }
    };
    info.method = Some(spec);
    info.version = Some(version);
    let params = req.params.map(RawValue::get);
    let args = Invocation {
        spec,
        version,
        principal,
        last_event_id,
        idempotency_key,
    };
    match invoke(module, args, params, info).await {
        Ok(Invoked::Stream(stream)) => Outcome::Stream {
            id,
            version,
            stream,
        },
        Ok(Invoked::Value(result)) => unary_outcome(spec, version, success_response(&id, &result)),
        Err(e) => {
            let body = error_response(id, &e, version);
            if let A2aError::Unavailable(_) = e {
                let sse = spec.streaming && version != Version::V1;
                return Outcome::Unavailable { body, sse };
            }
            unary_outcome(spec, version, body)
        }
    }
}

/// What a transport hands [`invoke`] besides the params: the method (already resolved
/// for the call's version) and who is calling.
pub struct Invocation {
    pub spec: &'static methods::MethodSpec,
    pub version: Version,
    pub principal: Principal,
    /// The SSE `Last-Event-ID` of a reconnecting subscriber.
    pub last_event_id: Option<u64>,
    /// The request's `Idempotency-Key`, as [`IdempotencyKey::from_values`] read it.
    pub idempotency_key: Result<Option<IdempotencyKey>, A2aError>,
}

/// What a method answered: its result, or (a streaming method) its stream.
pub enum Invoked {
    Value(Json),
    Stream(SseStream),
}

/// Runs one method with its params (JSON, as that version's JSON-RPC `params`): the one
/// call path of every transport, so the request limits, idempotency, handlers and scope are
/// the same whether the call came as JSON-RPC or REST. Fills in `info` (an error answer
/// too).
pub async fn invoke(
    module: &Module,
    args: Invocation,
    params: Option<&str>,
    info: &mut CallInfo,
) -> Result<Invoked, A2aError> {
    let (spec, version) = (args.spec, args.version);
    info.method = Some(spec);
    info.version = Some(version);
    let result = invoke_inner(module, args, params, info).await;
    if let Err(e) = &result {
        error::log_server_error(e, spec.name);
        info.failed(e, version);
    }
    result
}

async fn invoke_inner(
    module: &Module,
    args: Invocation,
    params: Option<&str>,
    info: &mut CallInfo,
) -> Result<Invoked, A2aError> {
    let Invocation {
        spec,
        version,
        principal,
        last_event_id,
        idempotency_key,
    } = args;
    // The same method with the same params is the same request, whatever its `id`.
    let idempotency = idempotency_key?.map(|k| Idempotency::new(k, spec.name, params));
    // Before decoding: the params parsed once as the envelope's raw value, so this is the
    // only pass over them before the codec's.
    if let Some(p) = params {
        module.ctx.limits.check_json(p.as_bytes())?;
    }
    let call = Call {
        version,
        principal,
        last_event_id,
        idempotency,
        stream: StreamSlot::default(),
        task_id: TaskIdSlot::default(),
    };
    let Some(reply) = module.call(spec.name, &call, params).await else {
        return Err(A2aError::Internal(format!(
            "method `{}` is not registered",
            spec.name
        )));
    };
    info.task_id = call.task_id.take();
    let result = reply?;
    Ok(match call.stream.take() {
        Some(stream) => Invoked::Stream(stream),
        None => Invoked::Value(result),
    })
}

/// What a call of another transport (gRPC) produced: its result, or its stream of results.
pub enum Served {
    Result(Json),
    Stream(SseStream),
}

/// Runs one call of another transport through the same handlers, limits and scope as a
/// JSON-RPC call: `spec` is the method, `version` the one the transport chose, `params`
/// the method's params as the version's JSON codec reads them. `info` is filled in as
/// [`dispatch`] fills it.
pub async fn call_method(
    module: &Module,
    spec: &'static methods::MethodSpec,
    version: Version,
    params: Option<&str>,
    principal: Principal,
    idempotency_key: Result<Option<IdempotencyKey>, A2aError>,
    info: &mut CallInfo,
) -> Result<Served, A2aError> {
    info.method = Some(spec);
    info.version = Some(version);
    let checked = idempotency_key.and_then(|key| {
        if let Some(p) = params {
            module.ctx.limits.check_json(p.as_bytes())?;
        }
        Ok(key.map(|k| Idempotency::new(k, spec.name, params)))
    });
    let idempotency = match checked {
        Ok(i) => i,
        Err(e) => {
            info.failed(&e, version);
            return Err(e);
        }
    };
    let call = Call {
        version,
        principal,
        last_event_id: None,
        idempotency,
        stream: StreamSlot::default(),
        task_id: TaskIdSlot::default(),
    };
    let reply = match module.call(spec.name, &call, params).await {
        Some(r) => r,
        None => Err(A2aError::Internal(format!(
            "method `{}` is not registered",
            spec.name
        ))),
    };
    info.task_id = call.task_id.take();
    match reply {
        Ok(result) => Ok(match call.stream.take() {
            Some(stream) => Served::Stream(stream),
            None => Served::Result(result),
        }),
        Err(e) => {
            error::log_server_error(&e, spec.name);
            info.failed(&e, version);
            Err(e)
        }
    }
}

/// A call's answer that is not a stream: to a 0.x streaming call it goes as one SSE event.
fn unary_outcome(spec: &methods::MethodSpec, version: Version, body: String) -> Outcome {
    if spec.streaming && version != Version::V1 {
        Outcome::StreamError(body)
    } else {
        Outcome::Response(body)
    }
}

/// The JSON-RPC error object of `err` (for SSE error events).
pub fn error_object(err: &A2aError, version: Version) -> ErrorObjectOwned {
    error::error_object(err, version)
}

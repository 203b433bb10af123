//! One handler per method: decode the params with the version's codec, call the service,
//! encode the result. Streaming handlers hand their stream to the HTTP layer.

use futures::StreamExt;

use super::{Call, Ctx, SseItem};
use crate::codec::{self, Json, decode, encode, v01, v1, v03};
use crate::protocol::request::SendRequest;
use crate::protocol::{A2aError, SendResult, StreamItem, Task, TaskState, TaskStatus, Version};
use crate::service::EventStream;

use super::Reply;

/// Notes the task a send created or continued, for the request log.
fn note_task(call: &Call, result: &SendResult) {
    if let SendResult::Task(t) = result {
        call.task_id.set(t.id.clone());
    }
}

fn require_streaming(ctx: &Ctx) -> Result<(), A2aError> {
    if ctx.card.capabilities.streaming {
        Ok(())
    } else {
        Err(A2aError::UnsupportedOperation(
            "streaming is not supported by this agent (capabilities.streaming is false)".into(),
        ))
    }
}

/// A send within the request limits; one that registers a webhook needs push
/// notifications on.
fn check_send(ctx: &Ctx, req: SendRequest) -> Result<SendRequest, A2aError> {
    ctx.limits.check_send(&req)?;
    if req.push.is_some() && !ctx.card.capabilities.push_notifications {
        return Err(A2aError::PushNotificationNotSupported);
    }
    Ok(req)
}

// ---- 1.0 ----

/// A 1.0 send's params, refused as the unknown task they name (or as an unknown tenant)
/// when their `tenant` is not the caller's.
fn v1_send(call: &Call, params: Option<&str>) -> Result<SendRequest, A2aError> {
    let wire = decode::<v1::SendMessageRequest>(params)?;
    if !call.own_tenant(wire.tenant.as_deref()) {
        return Err(match &wire.message.task_id {
            Some(id) => A2aError::TaskNotFound(format!("no task with id `{id}`")),
            None => call.check_tenant(wire.tenant.as_deref()).unwrap_err(),
        });
    }
    wire.into_request()
}

pub async fn send_message(ctx: &Ctx, call: &Call, params: Option<&str>) -> Reply {
    let req = check_send(ctx, v1_send(call, params)?)?;
    let result = ctx
        .service
        .send(call.scope(), Version::V1, req, call.idempotency.clone())
        .await?;
    note_task(call, &result);
    Ok(v1::send_result(&result))
}

pub async fn send_streaming_message(ctx: &Ctx, call: &Call, params: Option<&str>) -> Reply {
    require_streaming(ctx)?;
    let req = check_send(ctx, v1_send(call, params)?)?;
    let stream = ctx
        .service
        .send_stream(call.scope(), Version::V1, req, call.idempotency.clone())
        .await?;
    call.stream.set(encode_v1(stream));
    Ok(Json::null())
}

pub async fn get_task(ctx: &Ctx, call: &Call, params: Option<&str>) -> Reply {
    let req = decode::<v1::GetTaskRequest>(params)?;
    call.task_id.set(req.id.as_str());
    let history = crate::protocol::request::history_length(req.history_length)?;
    Ok(encode(
        &ctx.service
            .get(&call.scope_in(req.tenant.as_deref()), &req.id, history)
            .await?,
    ))
}

pub async fn list_tasks(ctx: &Ctx, call: &Call, params: Option<&str>) -> Reply {
    let wire = decode::<v1::ListTasksRequest>(params)?;
    call.check_tenant(wire.tenant.as_deref())?;
    let query = wire.into_query()?;
    let page = ctx.service.list(call.scope(), &query).await?;
    Ok(encode(&v1::ListTasksResponse::new(page, query.page_size)))
}

pub async fn cancel_task(ctx: &Ctx, call: &Call, params: Option<&str>) -> Reply {
    let req = decode::<v1::TaskIdRequest>(params)?;
    call.task_id.set(req.id.as_str());
    let scope = call.scope_in(req.tenant.as_deref());
    Ok(encode(&ctx.service.cancel(&scope, &req.id).await?))
}

pub async fn subscribe_to_task(ctx: &Ctx, call: &Call, params: Option<&str>) -> Reply {
    require_streaming(ctx)?;
    let req = decode::<v1::TaskIdRequest>(params)?;
    let stream = ctx
        .service
        .subscribe(
            &call.scope_in(req.tenant.as_deref()),
            &req.id,
            call.last_event_id,
        )
        .await?;
    call.stream.set(encode_v1(stream));
    Ok(Json::null())
}

pub async fn extended_card(ctx: &Ctx, call: &Call, _params: Option<&str>) -> Reply {
    let Some(card) = &ctx.extended else {
        return Err(A2aError::UnsupportedOperation(
            "this agent has no extended agent card (capabilities.extendedAgentCard is false)"
                .into(),
        ));
    };
    require_authenticated(call)?;
    // The result is the 1.0 AgentCard, which allows no 0.3 members.
    let strict = crate::protocol::card::AgentCard {
        v03_fields: false,
        ..card.clone()
    };
    Ok(encode(&v1::agent_card(&strict)))
}

pub async fn authenticated_extended_card(ctx: &Ctx, call: &Call, _: Option<&str>) -> Reply {
    let Some(card) = &ctx.extended else {
        return Err(A2aError::ExtendedAgentCardNotConfigured);
    };
    require_authenticated(call)?;
    Ok(encode(&v03::agent_card(card)))
}

/// The extended card is for authenticated callers only (the HTTP layer refuses anonymous
/// ones with 401 before dispatch; this holds whatever the transport).
fn require_authenticated(call: &Call) -> Result<(), A2aError> {
    if call.principal.is_authenticated() {
        Ok(())
    } else {
        Err(A2aError::Unauthenticated(
            "the extended agent card is served to authenticated callers only".into(),
        ))
    }
}

fn encode_v1(stream: EventStream) -> super::SseStream {
    Box::pin(stream.filter_map(|item| async move {
        match item {
            Ok(item) => {
                let seq = seq_of(&item);
                v1::stream_item(&item).map(|r| SseItem {
                    id: seq,
                    result: Ok(r),
                })
            }
            Err(e) => Some(SseItem {
                id: None,
                result: Err(e),
            }),
        }
    }))
}

fn seq_of(item: &StreamItem) -> Option<u64> {
    match item {
        StreamItem::Event(e) => Some(e.seq),
        StreamItem::Message(_) => None,
    }
}

// ---- 0.3 ----

pub async fn message_send(ctx: &Ctx, call: &Call, params: Option<&str>) -> Reply {
    let req = check_send(
        ctx,
        decode::<v03::MessageSendParams>(params)?.into_request()?,
    )?;
    let result = ctx
        .service
        .send(call.scope(), Version::V03, req, call.idempotency.clone())
        .await?;
    note_task(call, &result);
    Ok(encode(&v03::send_result(&result)))
}

pub async fn message_stream(ctx: &Ctx, call: &Call, params: Option<&str>) -> Reply {
    require_streaming(ctx)?;
    let req = check_send(
        ctx,
        decode::<v03::MessageSendParams>(params)?.into_request()?,
    )?;
    let stream = ctx
        .service
        .send_stream(call.scope(), Version::V03, req, call.idempotency.clone())
        .await?;
    call.stream.set(encode_v03(stream, true));
    Ok(Json::null())
}

fn encode_v03(stream: EventStream, interrupted_is_final: bool) -> super::SseStream {
    Box::pin(stream.filter_map(move |item| async move {
        match item {
            Ok(item) => v03::stream_item(&item, interrupted_is_final).map(|r| SseItem {
                id: seq_of(&item),
                result: Ok(encode(&r)),
            }),
            Err(e) => Some(SseItem {
                id: None,
                result: Err(e),
            }),
        }
    }))
}

// ---- 0.3 and 0.1 share these names; a task answers in the shape of its origin ----

pub async fn tasks_get(ctx: &Ctx, call: &Call, params: Option<&str>) -> Reply {
    let req = decode::<v03::TaskQueryParams>(params)?;
    call.task_id.set(req.id.as_str());
    let history = crate::protocol::request::history_length(req.history_length)?;
    let view = crate::store::TaskView::with_history(history);
    let record = legacy_record(ctx, call, &req.id, view).await?;
    Ok(encode_task_legacy(&record.task, record.origin))
}

/// The task a 0.x call names, in the caller's scope (a 0.1 name is an alias there).
pub(super) async fn legacy_record(
    ctx: &Ctx,
    call: &Call,
    id: &str,
    view: crate::store::TaskView,
) -> Result<crate::store::TaskRecord, A2aError> {
    ctx.service
        .resolve_v0(call.scope(), id, view)
        .await?
        .ok_or_else(|| A2aError::TaskNotFound(format!("no task with id `{id}`")))
}

pub async fn tasks_cancel(ctx: &Ctx, call: &Call, params: Option<&str>) -> Reply {
    let req = decode::<v03::TaskIdParams>(params)?;
    call.task_id.set(req.id.as_str());
    let record = legacy_record(ctx, call, &req.id, crate::store::TaskView::HEAD).await?;
    let task = ctx.service.cancel(call.scope(), &record.task.id).await?;
    Ok(encode_task_legacy(&task, record.origin))
}

pub async fn tasks_resubscribe(ctx: &Ctx, call: &Call, params: Option<&str>) -> Reply {
    require_streaming(ctx)?;
    let req = decode::<v03::TaskIdParams>(params)?;
    let record = legacy_record(ctx, call, &req.id, crate::store::TaskView::HEAD).await?;
    let stream = ctx
        .service
        .subscribe(call.scope(), &record.task.id, call.last_event_id)
        .await?;
    call.stream.set(match record.origin {
        Version::V01 => encode_v01(stream),
        _ => encode_v03(stream, false),
    });
    Ok(Json::null())
}

pub(super) fn encode_task_legacy(task: &Task, origin: Version) -> Json {
    match origin {
        Version::V01 => encode(&v01::task(task)),
        _ => encode(&v03::task(task)),
    }
}

// ---- 0.1 ----

pub async fn tasks_send(ctx: &Ctx, call: &Call, params: Option<&str>) -> Reply {
    let req = check_send(ctx, decode::<v01::TaskSendParams>(params)?.into_request()?)?;
    let id = req.client_task_id.clone().unwrap_or_default();
    let context = req.message.context_id.clone();
    let task = match ctx
        .service
        .send(call.scope(), Version::V01, req, call.idempotency.clone())
        .await?
    {
        SendResult::Task(t) => t,
        // 0.1 has no bare message results: present the reply as a completed task.
        SendResult::Message(m) => Task {
            id: id.into(),
            context_id: context.or_else(|| m.context_id.clone()).unwrap_or_default(),
            status: TaskStatus::new(TaskState::Completed, Some(m)),
            artifacts: Vec::new(),
            history: Vec::new(),
            metadata: None,
        },
    };
    call.task_id.set(task.id.clone());
    Ok(encode(&v01::task(&task)))
}

pub async fn tasks_send_subscribe(ctx: &Ctx, call: &Call, params: Option<&str>) -> Reply {
    require_streaming(ctx)?;
    let req = check_send(ctx, decode::<v01::TaskSendParams>(params)?.into_request()?)?;
    let stream = ctx
        .service
        .send_stream(call.scope(), Version::V01, req, call.idempotency.clone())
        .await?;
    call.stream.set(encode_v01(stream));
    Ok(Json::null())
}

fn encode_v01(stream: EventStream) -> super::SseStream {
    let mut artifact_ids = Vec::new();
    Box::pin(stream.filter_map(move |item| {
        let out = match item {
            Ok(item) => v01::stream_item(&item, &mut artifact_ids).map(|r| SseItem {
                id: seq_of(&item),
                result: Ok(codec::encode(&r)),
            }),
            Err(e) => Some(SseItem {
                id: None,
                result: Err(e),
            }),
        };
        std::future::ready(out)
    }))
}

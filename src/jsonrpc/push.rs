//! The push notification config methods of every version. Each answers -32003 when the
//! card does not declare `pushNotifications`.

use super::{Call, Ctx};
use crate::codec::push::{
    ListPushConfigsRequest, ListPushConfigsResponse, PushConfigIdRequest, PushConfigParams03,
    TaskPushNotificationConfig, TaskPushNotificationConfig01, TaskPushNotificationConfig03,
};
use crate::codec::{decode, encode, v03};
use crate::protocol::A2aError;
use crate::protocol::request::page_size;
use crate::service::push::{DEFAULT_CONFIG_PAGE, MAX_CONFIG_PAGE};

use super::Reply;

fn require_push(ctx: &Ctx) -> Result<(), A2aError> {
    if ctx.card.capabilities.push_notifications {
        Ok(())
    } else {
        Err(A2aError::PushNotificationNotSupported)
    }
}

// ---- 1.0 ----

pub async fn create(ctx: &Ctx, call: &Call, params: Option<&str>) -> Reply {
    require_push(ctx)?;
    let wire = decode::<TaskPushNotificationConfig>(params)?;
    let tenant = wire.tenant.clone();
    let config = wire.into_config()?;
    let saved = ctx
        .service
        .set_push_config(&call.scope_in(tenant.as_deref()), config)
        .await?;
    Ok(encode(&TaskPushNotificationConfig::from_config(&saved)))
}

pub async fn get(ctx: &Ctx, call: &Call, params: Option<&str>) -> Reply {
    require_push(ctx)?;
    let req = decode::<PushConfigIdRequest>(params)?;
    let config = ctx
        .service
        .get_push_config(
            &call.scope_in(req.tenant.as_deref()),
            &req.task_id,
            Some(&req.id),
        )
        .await?;
    Ok(encode(&TaskPushNotificationConfig::from_config(&config)))
}

pub async fn list(ctx: &Ctx, call: &Call, params: Option<&str>) -> Reply {
    require_push(ctx)?;
    let req = decode::<ListPushConfigsRequest>(params)?;
    // A plain proto3 `int32` here: 0 means unset.
    let size = req.page_size.filter(|&n| n != 0);
    let page_size = page_size(size, DEFAULT_CONFIG_PAGE, MAX_CONFIG_PAGE)?;
    let page = ctx
        .service
        .list_push_configs(
            &call.scope_in(req.tenant.as_deref()),
            &req.task_id,
            page_size,
            req.page_token.as_deref(),
        )
        .await?;
    Ok(encode(&ListPushConfigsResponse {
        configs: page
            .configs
            .iter()
            .map(TaskPushNotificationConfig::from_config)
            .collect(),
        next_page_token: page.next_page_token,
    }))
}

pub async fn delete(ctx: &Ctx, call: &Call, params: Option<&str>) -> Reply {
    require_push(ctx)?;
    let req = decode::<PushConfigIdRequest>(params)?;
    ctx.service
        .delete_push_config(&call.scope_in(req.tenant.as_deref()), &req.task_id, &req.id)
        .await?;
    Ok(encode(&serde_json::json!({})))
}

// ---- 0.3 ----

pub async fn set_v03(ctx: &Ctx, call: &Call, params: Option<&str>) -> Reply {
    require_push(ctx)?;
    let config = decode::<TaskPushNotificationConfig03>(params)?.into_config();
    let saved = ctx.service.set_push_config(call.scope(), config).await?;
    Ok(encode(&TaskPushNotificationConfig03::from_config(&saved)))
}

pub async fn get_v03(ctx: &Ctx, call: &Call, params: Option<&str>) -> Reply {
    require_push(ctx)?;
    let req = decode::<PushConfigParams03>(params)?;
    let config = ctx
        .service
        .get_push_config(
            call.scope(),
            &req.id,
            req.push_notification_config_id.as_deref(),
        )
        .await?;
    Ok(encode(&TaskPushNotificationConfig03::from_config(&config)))
}

pub async fn list_v03(ctx: &Ctx, call: &Call, params: Option<&str>) -> Reply {
    require_push(ctx)?;
    let req = decode::<PushConfigParams03>(params)?;
    let page = ctx
        .service
        .list_push_configs(call.scope(), &req.id, MAX_CONFIG_PAGE, None)
        .await?;
    let configs: Vec<_> = page
        .configs
        .iter()
        .map(TaskPushNotificationConfig03::from_config)
        .collect();
    Ok(encode(&configs))
}

pub async fn delete_v03(ctx: &Ctx, call: &Call, params: Option<&str>) -> Reply {
    require_push(ctx)?;
    let req = decode::<PushConfigParams03>(params)?;
    let id = req
        .push_notification_config_id
        .ok_or_else(|| A2aError::params("missing field `pushNotificationConfigId`"))?;
    ctx.service
        .delete_push_config(call.scope(), &req.id, &id)
        .await?;
    Ok(encode(&serde_json::Value::Null))
}

// ---- 0.1 ----

pub async fn set_v01(ctx: &Ctx, call: &Call, params: Option<&str>) -> Reply {
    require_push(ctx)?;
    let mut params = decode::<TaskPushNotificationConfig01>(params)?;
    // The client's name for the task, resolved in its scope to the task's id.
    params.id = super::handlers::legacy_record(ctx, call, &params.id, crate::store::TaskView::HEAD)
        .await?
        .task
        .id
        .to_string();
    let config = params.into_config();
    let saved = ctx.service.set_push_config(call.scope(), config).await?;
    Ok(encode(&TaskPushNotificationConfig01::from_config(&saved)))
}

pub async fn get_v01(ctx: &Ctx, call: &Call, params: Option<&str>) -> Reply {
    require_push(ctx)?;
    let req = decode::<v03::TaskIdParams>(params)?;
    let task_id = super::handlers::legacy_record(ctx, call, &req.id, crate::store::TaskView::HEAD)
        .await?
        .task
        .id;
    let config = ctx
        .service
        .get_push_config(call.scope(), &task_id, None)
        .await?;
    Ok(encode(&TaskPushNotificationConfig01::from_config(&config)))
}

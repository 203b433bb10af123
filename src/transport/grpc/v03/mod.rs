//! `a2a.v1.A2AService`: A2A 0.3 over gRPC, each RPC the 0.3 JSON-RPC method it maps to
//! (`TaskSubscription` is `tasks/resubscribe`), so 0.3 semantics (`final` on status
//! updates, the 0.3 push config shape) come from the same handlers.

mod card;
pub(in crate::transport::grpc) mod convert;

use tonic::{Request, Response, Status};

use super::call::{GrpcStream, JsonRequest, internal, streaming_json, unary_json};
use super::status::status;
use crate::grpc::v03::{self as pb, a2a_service_server::A2aService};
use crate::jsonrpc::methods::{self, MethodSpec};
use crate::protocol::{A2aError, Version};
use crate::transport::http::AppState;

pub(super) struct V03(pub(super) AppState);

fn spec(name: &str) -> &'static MethodSpec {
    methods::lookup(name).expect("every 0.3 RPC is a method of the table")
}

fn params<Q>(req: Request<Q>, f: impl FnOnce(Q) -> Result<String, A2aError>) -> JsonRequest {
    req.map(f)
}

fn answer<R>(r: Result<R, A2aError>) -> Result<Response<R>, Status> {
    r.map(Response::new).map_err(|e| status(&e))
}

fn stream_item(json: &str) -> Result<pb::StreamResponse, Status> {
    convert::stream_response(json).map_err(|e| status(&e))
}

impl V03 {
    async fn call(&self, method: &str, req: JsonRequest) -> Result<String, Status> {
        let json = unary_json(&self.0, spec(method), Version::V03, req).await?;
        Ok(json.into_string())
    }
}

#[tonic::async_trait]
impl A2aService for V03 {
    type SendStreamingMessageStream = GrpcStream<pb::StreamResponse>;
    type TaskSubscriptionStream = GrpcStream<pb::StreamResponse>;

    async fn send_message(
        &self,
        req: Request<pb::SendMessageRequest>,
    ) -> Result<Response<pb::SendMessageResponse>, Status> {
        let json = self
            .call("message/send", params(req, convert::send_params))
            .await?;
        answer(convert::send_response(&json))
    }

    async fn send_streaming_message(
        &self,
        req: Request<pb::SendMessageRequest>,
    ) -> Result<Response<Self::SendStreamingMessageStream>, Status> {
        let req = params(req, convert::send_params);
        streaming_json(
            &self.0,
            spec("message/stream"),
            Version::V03,
            req,
            stream_item,
        )
        .await
        .map(Response::new)
    }

    async fn get_task(
        &self,
        req: Request<pb::GetTaskRequest>,
    ) -> Result<Response<pb::Task>, Status> {
        let json = self
            .call("tasks/get", params(req, convert::get_params))
            .await?;
        answer(convert::task(&json))
    }

    async fn cancel_task(
        &self,
        req: Request<pb::CancelTaskRequest>,
    ) -> Result<Response<pb::Task>, Status> {
        let req = params(req, |r| convert::id_params(&r.name));
        let json = self.call("tasks/cancel", req).await?;
        answer(convert::task(&json))
    }

    async fn task_subscription(
        &self,
        req: Request<pb::TaskSubscriptionRequest>,
    ) -> Result<Response<Self::TaskSubscriptionStream>, Status> {
        let req = params(req, |r| convert::id_params(&r.name));
        streaming_json(
            &self.0,
            spec("tasks/resubscribe"),
            Version::V03,
            req,
            stream_item,
        )
        .await
        .map(Response::new)
    }

    async fn create_task_push_notification_config(
        &self,
        req: Request<pb::CreateTaskPushNotificationConfigRequest>,
    ) -> Result<Response<pb::TaskPushNotificationConfig>, Status> {
        let req = params(req, convert::create_config_params);
        let json = self.call("tasks/pushNotificationConfig/set", req).await?;
        answer(convert::config(&json))
    }

    async fn get_task_push_notification_config(
        &self,
        req: Request<pb::GetTaskPushNotificationConfigRequest>,
    ) -> Result<Response<pb::TaskPushNotificationConfig>, Status> {
        let req = params(req, |r| convert::config_params(&r.name));
        let json = self.call("tasks/pushNotificationConfig/get", req).await?;
        answer(convert::config(&json))
    }

    async fn list_task_push_notification_config(
        &self,
        req: Request<pb::ListTaskPushNotificationConfigRequest>,
    ) -> Result<Response<pb::ListTaskPushNotificationConfigResponse>, Status> {
        let req = params(req, |r| convert::id_params(&r.parent));
        let json = self.call("tasks/pushNotificationConfig/list", req).await?;
        answer(convert::configs(&json))
    }

    async fn delete_task_push_notification_config(
        &self,
        req: Request<pb::DeleteTaskPushNotificationConfigRequest>,
    ) -> Result<Response<pbjson_types::Empty>, Status> {
        let req = params(req, |r| convert::config_params(&r.name));
        self.call("tasks/pushNotificationConfig/delete", req)
            .await?;
        Ok(Response::new(pbjson_types::Empty {}))
    }

    /// The public 0.3 card, as `/.well-known/agent.json` serves it.
    async fn get_agent_card(
        &self,
        _req: Request<pb::GetAgentCardRequest>,
    ) -> Result<Response<pb::AgentCard>, Status> {
        let card: serde_json::Value = serde_json::from_slice(self.0.0.card_v03.body())
            .map_err(|e| internal(&format!("the 0.3 card: {e}")))?;
        Ok(Response::new(card::card(&card)))
    }
}

//! `lf.a2a.v1.A2AService`: A2A 1.0 over gRPC, each RPC the JSON-RPC method of its name.

use tonic::{Request, Response, Status};

use super::call::{GrpcStream, streaming, unary};
use crate::grpc::v1::{self as pb, a2a_service_server::A2aService};
use crate::jsonrpc::methods::{self, MethodSpec};
use crate::protocol::Version;
use crate::transport::http::AppState;

pub(super) struct V1(pub(super) AppState);

fn spec(name: &str) -> &'static MethodSpec {
    methods::lookup(name).expect("every 1.0 RPC is a method of the table")
}

#[tonic::async_trait]
impl A2aService for V1 {
    type SendStreamingMessageStream = GrpcStream<pb::StreamResponse>;
    type SubscribeToTaskStream = GrpcStream<pb::StreamResponse>;

    async fn send_message(
        &self,
        req: Request<pb::SendMessageRequest>,
    ) -> Result<Response<pb::SendMessageResponse>, Status> {
        unary(&self.0, spec("SendMessage"), Version::V1, req)
            .await
            .map(Response::new)
    }

    async fn get_task(
        &self,
        req: Request<pb::GetTaskRequest>,
    ) -> Result<Response<pb::Task>, Status> {
        unary(&self.0, spec("GetTask"), Version::V1, req)
            .await
            .map(Response::new)
    }

    async fn list_tasks(
        &self,
        req: Request<pb::ListTasksRequest>,
    ) -> Result<Response<pb::ListTasksResponse>, Status> {
        unary(&self.0, spec("ListTasks"), Version::V1, req)
            .await
            .map(Response::new)
    }

    async fn cancel_task(
        &self,
        req: Request<pb::CancelTaskRequest>,
    ) -> Result<Response<pb::Task>, Status> {
        unary(&self.0, spec("CancelTask"), Version::V1, req)
            .await
            .map(Response::new)
    }

    async fn create_task_push_notification_config(
        &self,
        req: Request<pb::TaskPushNotificationConfig>,
    ) -> Result<Response<pb::TaskPushNotificationConfig>, Status> {
        unary(
            &self.0,
            spec("CreateTaskPushNotificationConfig"),
            Version::V1,
            req,
        )
        .await
        .map(Response::new)
    }

    async fn get_task_push_notification_config(
        &self,
        req: Request<pb::GetTaskPushNotificationConfigRequest>,
    ) -> Result<Response<pb::TaskPushNotificationConfig>, Status> {
        unary(
            &self.0,
            spec("GetTaskPushNotificationConfig"),
            Version::V1,
            req,
        )
        .await
        .map(Response::new)
    }

    async fn list_task_push_notification_configs(
        &self,
        req: Request<pb::ListTaskPushNotificationConfigsRequest>,
    ) -> Result<Response<pb::ListTaskPushNotificationConfigsResponse>, Status> {
        unary(
            &self.0,
            spec("ListTaskPushNotificationConfigs"),
            Version::V1,
            req,
        )
        .await
        .map(Response::new)
    }

    async fn get_extended_agent_card(
        &self,
        req: Request<pb::GetExtendedAgentCardRequest>,
    ) -> Result<Response<pb::AgentCard>, Status> {
        unary(&self.0, spec("GetExtendedAgentCard"), Version::V1, req)
            .await
            .map(Response::new)
    }

    async fn delete_task_push_notification_config(
        &self,
        req: Request<pb::DeleteTaskPushNotificationConfigRequest>,
    ) -> Result<Response<pbjson_types::Empty>, Status> {
        let spec = spec("DeleteTaskPushNotificationConfig");
        unary::<_, serde::de::IgnoredAny>(&self.0, spec, Version::V1, req).await?;
        Ok(Response::new(pbjson_types::Empty {}))
    }

    async fn send_streaming_message(
        &self,
        req: Request<pb::SendMessageRequest>,
    ) -> Result<Response<Self::SendStreamingMessageStream>, Status> {
        let spec = spec("SendStreamingMessage");
        streaming(&self.0, spec, Version::V1, req)
            .await
            .map(Response::new)
    }

    async fn subscribe_to_task(
        &self,
        req: Request<pb::SubscribeToTaskRequest>,
    ) -> Result<Response<Self::SubscribeToTaskStream>, Status> {
        let spec = spec("SubscribeToTask");
        streaming(&self.0, spec, Version::V1, req)
            .await
            .map(Response::new)
    }
}

//! An I/O-free entry point for fuzzing request decoding: the envelope, version
//! selection and every method's params decoder, exactly as the handlers run them.

use super::{envelope, error, methods};
use crate::codec::{decode, push, v01, v1, v03};
use crate::protocol::request::history_length;
use crate::protocol::{A2aError, Version};

/// Decodes `body` as a request the way the server would, then feeds its params through
/// the decoder of every method of every version (not only the one it names), and the
/// failures through the error mapping. Must never panic, whatever the bytes.
pub fn fuzz_decode(body: &[u8]) {
    let req = match envelope::parse(body) {
        Ok(req) => req,
        Err(rejected) => {
            let _ = error::error_object(&rejected.error, Version::V03);
            return;
        }
    };
    // The header as clients send it, or odd values a client could send.
    for header in [
        None,
        Some("1.0"),
        Some("1.0.7"),
        Some("0.3"),
        Some(req.method),
    ] {
        if let Err(e) = methods::resolve(header, req.method) {
            let _ = error::error_object(&e, Version::V1);
        }
    }
    let params = req.params.map(|p| p.get());
    for spec in methods::METHODS {
        if let Err(e) = decode_params(spec.name, params) {
            let _ = error::error_object(&e, Version::V01);
        }
    }
}

/// The params decoding (and validation) of each handler, without the service call.
pub(crate) fn decode_params(method: &str, params: Option<&str>) -> Result<(), A2aError> {
    match method {
        "SendMessage" | "SendStreamingMessage" => {
            decode::<v1::SendMessageRequest>(params)?.into_request()?;
        }
        "GetTask" => {
            history_length(decode::<v1::GetTaskRequest>(params)?.history_length)?;
        }
        "ListTasks" => {
            decode::<v1::ListTasksRequest>(params)?.into_query()?;
        }
        "CancelTask" | "SubscribeToTask" => {
            decode::<v1::TaskIdRequest>(params)?;
        }
        "message/send" | "message/stream" => {
            decode::<v03::MessageSendParams>(params)?.into_request()?;
        }
        "tasks/get" => {
            history_length(decode::<v03::TaskQueryParams>(params)?.history_length)?;
        }
        "tasks/cancel" | "tasks/resubscribe" => {
            decode::<v03::TaskIdParams>(params)?;
        }
        "tasks/send" | "tasks/sendSubscribe" => {
            decode::<v01::TaskSendParams>(params)?.into_request()?;
        }
        "CreateTaskPushNotificationConfig" => {
            decode::<push::TaskPushNotificationConfig>(params)?.into_config()?;
        }
        "GetTaskPushNotificationConfig" | "DeleteTaskPushNotificationConfig" => {
            decode::<push::PushConfigIdRequest>(params)?;
        }
        "ListTaskPushNotificationConfigs" => {
            decode::<push::ListPushConfigsRequest>(params)?;
        }
        "tasks/pushNotificationConfig/set" => {
            decode::<push::TaskPushNotificationConfig03>(params)?.into_config();
        }
        "tasks/pushNotificationConfig/get"
        | "tasks/pushNotificationConfig/list"
        | "tasks/pushNotificationConfig/delete" => {
            decode::<push::PushConfigParams03>(params)?;
        }
        "tasks/pushNotification/set" => {
            decode::<push::TaskPushNotificationConfig01>(params)?.into_config();
        }
        "tasks/pushNotification/get" => {
            decode::<v03::TaskIdParams>(params)?;
        }
        // The extended-card methods take no params of their own.
        _ => {
            decode::<serde_json::Value>(params)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_requests_of_every_version_without_panicking() {
        for body in [
            &br#"{"jsonrpc":"2.0","id":1,"method":"SendMessage","params":{"message":{"messageId":"m","role":"ROLE_USER","parts":[{"text":"hi"}]}}}"#[..],
            br#"{"jsonrpc":"2.0","id":"a","method":"tasks/send","params":{"id":"t","message":{"role":"user","parts":[{"type":"text","text":"hi"}]}}}"#,
            br#"{"jsonrpc":"2.0","id":2,"method":"ListTasks","params":{"pageSize":-1,"statusTimestampAfter":"x"}}"#,
            b"{not json",
            b"",
        ] {
            fuzz_decode(body);
        }
    }
}

//! An I/O-free entry point for fuzzing the gRPC request decoding: the first byte picks a
//! request message of either service, the rest is its protobuf encoding. What decodes
//! goes on as the server takes it: 1.0 messages as their ProtoJSON, 0.3 ones through the
//! mapping to 0.3 params, then the params decoder of the method they reach. Must never
//! panic, whatever the bytes.

use prost::Message;

use super::v03::convert;
use crate::grpc::{v1 as pb, v03 as pb03};
use crate::jsonrpc::fuzz::decode_params;

fn v1<M: Message + Default + serde::Serialize>(bytes: &[u8], method: &str) {
    let Ok(m) = M::decode(bytes) else { return };
    let json = serde_json::to_string(&m).expect("a decoded message has ProtoJSON");
    let _ = decode_params(method, Some(&json));
}

fn v03<M: Message + Default>(
    bytes: &[u8],
    method: &str,
    params: fn(M) -> Result<String, crate::protocol::A2aError>,
) {
    let Ok(m) = M::decode(bytes) else { return };
    if let Ok(json) = params(m) {
        let v: serde_json::Value = serde_json::from_str(&json).expect("params are JSON");
        assert!(v.is_object(), "params are an object: {json}");
        let _ = decode_params(method, Some(&json));
    }
}

pub fn fuzz_decode(data: &[u8]) {
    let Some((&which, bytes)) = data.split_first() else {
        return;
    };
    match which % 12 {
        0 => v1::<pb::SendMessageRequest>(bytes, "SendMessage"),
        1 => v1::<pb::GetTaskRequest>(bytes, "GetTask"),
        2 => v1::<pb::ListTasksRequest>(bytes, "ListTasks"),
        3 => v1::<pb::CancelTaskRequest>(bytes, "CancelTask"),
        4 => v1::<pb::TaskPushNotificationConfig>(bytes, "CreateTaskPushNotificationConfig"),
        5 => v1::<pb::ListTaskPushNotificationConfigsRequest>(
            bytes,
            "ListTaskPushNotificationConfigs",
        ),
        6 => v03::<pb03::SendMessageRequest>(bytes, "message/send", convert::send_params),
        7 => v03::<pb03::GetTaskRequest>(bytes, "tasks/get", convert::get_params),
        8 => v03::<pb03::CancelTaskRequest>(bytes, "tasks/cancel", |r| convert::id_params(&r.name)),
        9 => v03::<pb03::CreateTaskPushNotificationConfigRequest>(
            bytes,
            "tasks/pushNotificationConfig/set",
            convert::create_config_params,
        ),
        10 => v03::<pb03::GetTaskPushNotificationConfigRequest>(
            bytes,
            "tasks/pushNotificationConfig/get",
            |r| convert::config_params(&r.name),
        ),
        _ => v1::<pb::DeleteTaskPushNotificationConfigRequest>(
            bytes,
            "DeleteTaskPushNotificationConfig",
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fuzz_entry_takes_any_bytes() {
        let send = pb03::SendMessageRequest {
            request: Some(pb03::Message {
                message_id: "m".into(),
                role: 1,
                content: vec![pb03::Part {
                    part: Some(pb03::part::Part::Text("hi".into())),
                }],
                ..Default::default()
            }),
            ..Default::default()
        };
        let mut data = vec![6u8];
        data.extend(send.encode_to_vec());
        fuzz_decode(&data);
        for which in 0..12u8 {
            fuzz_decode(&[which, 0x0a, 0x02, 0xff, 0xfe]);
            fuzz_decode(&[which]);
        }
        fuzz_decode(b"");
    }
}

//! The gRPC requests of `a2a bench --transport grpc`: `SendMessage` and
//! `SendStreamingMessage` of `lf.a2a.v1.A2AService`, framed by hand on the HTTP/2
//! connection of [`Conn::grpc_call`] (the same lean client as the JSON-RPC rows: no
//! channel, no codec layers), answers decoded with prost.

use bytes::{Buf, BufMut, Bytes, BytesMut};
use http::HeaderMap;
use http_body_util::BodyExt;
use prost::Message as _;

use super::conn::Conn;
use super::stats::Failure;
use super::wire::SendOutcome;
use crate::grpc::v1 as pb;

/// The RPC paths.
pub const SEND: &str = "/lf.a2a.v1.A2AService/SendMessage";
pub const STREAM: &str = "/lf.a2a.v1.A2AService/SendStreamingMessage";

/// A `SendMessageRequest` with one text part, as a gRPC frame.
pub fn send_request(message_id: &str, text: &str) -> Bytes {
    let req = pb::SendMessageRequest {
        message: Some(pb::Message {
            message_id: message_id.to_string(),
            role: pb::Role::User as i32,
            parts: vec![pb::Part {
                content: Some(pb::part::Content::Text(text.to_string())),
                ..Default::default()
            }],
            ..Default::default()
        }),
        ..Default::default()
    };
    let len = req.encoded_len();
    let mut buf = BytesMut::with_capacity(5 + len);
    buf.put_u8(0);
    buf.put_u32(len as u32);
    req.encode(&mut buf).expect("the buffer has room");
    buf.freeze()
}

/// Takes the complete messages off the front of `buf`.
fn frames(
    buf: &mut BytesMut,
    mut each: impl FnMut(Bytes) -> Result<(), Failure>,
) -> Result<(), Failure> {
    while buf.len() >= 5 {
        if buf[0] != 0 {
            return Err(Failure::Invalid("a compressed gRPC message".into()));
        }
        let len = u32::from_be_bytes([buf[1], buf[2], buf[3], buf[4]]) as usize;
        if buf.len() < 5 + len {
            break;
        }
        buf.advance(5);
        each(buf.split_to(len).freeze())?;
    }
    Ok(())
}

/// `grpc-status` of the trailers (or of a trailers-only answer's head): 0 or a failure.
fn status(head: &HeaderMap, trailers: Option<&HeaderMap>) -> Result<(), Failure> {
    let code = trailers
        .and_then(|t| t.get("grpc-status"))
        .or_else(|| head.get("grpc-status"))
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<i64>().ok());
    match code {
        Some(0) => Ok(()),
        Some(c) => Err(Failure::Invalid(format!("gRPC status {c}"))),
        None => Err(Failure::Transport(
            "a gRPC answer without grpc-status".into(),
        )),
    }
}

fn outcome(r: pb::SendMessageResponse) -> Result<SendOutcome, Failure> {
    match r.payload {
        Some(pb::send_message_response::Payload::Message(_)) => Ok(SendOutcome::Message),
        Some(pb::send_message_response::Payload::Task(t)) => {
            let state = t.status.map(|s| s.state()).unwrap_or_default();
            Ok(SendOutcome::Task {
                id: t.id,
                context_id: t.context_id,
                state: super::wire::state_name(state.as_str_name()),
            })
        }
        None => Err(Failure::Invalid(
            "a SendMessageResponse without payload".into(),
        )),
    }
}

/// One `SendMessage`; its outcome.
pub async fn send(conn: &mut Conn, body: Bytes, key: Option<&str>) -> Result<SendOutcome, Failure> {
    let resp = conn.grpc_call(body, key).await?;
    let (head, body) = resp.into_parts();
    if !head.status.is_success() {
        return Err(Failure::Http(head.status.as_u16()));
    }
    let all = body
        .collect()
        .await
        .map_err(|e| Failure::Transport(e.to_string()))?;
    let trailers = all.trailers().cloned();
    status(&head.headers, trailers.as_ref())?;
    let mut buf = BytesMut::from(all.to_bytes());
    let mut out = None;
    frames(&mut buf, |m| {
        let r = pb::SendMessageResponse::decode(m)
            .map_err(|e| Failure::Invalid(format!("SendMessageResponse: {e}")))?;
        out = Some(outcome(r)?);
        Ok(())
    })?;
    out.ok_or_else(|| Failure::Invalid("no SendMessageResponse".into()))
}

/// One `SendStreamingMessage` read to its end: the events and when the first came.
pub async fn stream(
    conn: &mut Conn,
    body: Bytes,
    key: Option<&str>,
    t0: std::time::Instant,
) -> Result<(u64, Option<std::time::Duration>), Failure> {
    let resp = conn.grpc_call(body, key).await?;
    let (head, mut body) = resp.into_parts();
    if !head.status.is_success() {
        return Err(Failure::Http(head.status.as_u16()));
    }
    let mut buf = BytesMut::new();
    let (mut events, mut first) = (0u64, None);
    let mut trailers = None;
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| Failure::Transport(e.to_string()))?;
        match frame.into_data() {
            Ok(data) => {
                buf.extend_from_slice(&data);
                frames(&mut buf, |m| {
                    pb::StreamResponse::decode(m)
                        .map_err(|e| Failure::Invalid(format!("StreamResponse: {e}")))?;
                    first.get_or_insert_with(|| t0.elapsed());
                    events += 1;
                    Ok(())
                })?;
            }
            Err(frame) => trailers = frame.into_trailers().ok(),
        }
    }
    status(&head.headers, trailers.as_ref())?;
    if events == 0 {
        return Err(Failure::Invalid("a stream without events".into()));
    }
    Ok((events, first))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_split_and_wait_for_the_rest() {
        let one = send_request("m-1", "hi");
        let mut buf = BytesMut::new();
        buf.extend_from_slice(&one);
        buf.extend_from_slice(&one[..3]);
        let mut n = 0;
        frames(&mut buf, |m| {
            let r = pb::SendMessageRequest::decode(m).unwrap();
            assert_eq!(r.message.unwrap().message_id, "m-1");
            n += 1;
            Ok(())
        })
        .unwrap();
        assert_eq!((n, buf.len()), (1, 3));
    }
}

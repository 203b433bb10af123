//! SSE: framing, ordering, ids, subscribers, stream end.

use serde_json::{Value, json};

use crate::helpers::{V, msg_v1, spawn_app};

fn results(events: &[(Option<u64>, Value)]) -> Vec<&Value> {
    events.iter().map(|(_, e)| &e["result"]).collect()
}

#[tokio::test]
async fn send_streaming_message_streams_task_then_events_then_closes() {
    let app = spawn_app().await;
    let events = app
        .stream(
            V::V1,
            "SendStreamingMessage",
            json!({"message": msg_v1("tck-stream-001")}),
        )
        .await;
    for (_, e) in &events {
        assert_eq!(e["jsonrpc"], "2.0");
        assert_eq!(e["id"], "stream-1", "every event carries the request id");
        let r = e["result"].as_object().unwrap();
        assert_eq!(
            r.len(),
            1,
            "exactly one of task/message/statusUpdate/artifactUpdate: {e}"
        );
    }
    let r = results(&events);
    assert_eq!(r.len(), 4, "{events:?}");
    let task = &r[0]["task"];
    assert_eq!(task["status"]["state"], "TASK_STATE_SUBMITTED");
    assert_eq!(
        r[1]["statusUpdate"]["status"]["state"],
        "TASK_STATE_WORKING"
    );
    assert_eq!(
        r[2]["artifactUpdate"]["artifact"]["parts"][0]["text"],
        "Stream hello from TCK"
    );
    assert_eq!(
        r[3]["statusUpdate"]["status"]["state"],
        "TASK_STATE_COMPLETED"
    );
    for e in &r[1..] {
        let ev = e.as_object().unwrap().values().next().unwrap();
        assert_eq!(ev["taskId"], task["id"]);
        assert_eq!(ev["contextId"], task["contextId"]);
        assert!(ev.get("final").is_none(), "1.0 has no final");
    }
    let ids: Vec<u64> = events.iter().map(|(id, _)| id.unwrap()).collect();
    assert_eq!(ids, [1, 2, 3, 4], "SSE ids are the task's event sequence");
}

#[tokio::test]
async fn chunked_artifacts_stream_as_appends_ending_with_last_chunk() {
    let app = spawn_app().await;
    let events = app
        .stream(
            V::V1,
            "SendStreamingMessage",
            json!({"message": msg_v1("tck-stream-artifact-chunked")}),
        )
        .await;
    let chunks: Vec<&Value> = results(&events)
        .into_iter()
        .filter_map(|r| r.get("artifactUpdate"))
        .collect();
    // The kit's scenario: a chunk "chunk-1 ", then a final chunk "chunk-2".
    assert_eq!(chunks.len(), 2, "{events:?}");
    assert_eq!(chunks[0]["append"], false);
    assert!(chunks[1..].iter().all(|c| c["append"] == true));
    assert!(
        chunks[..chunks.len() - 1]
            .iter()
            .all(|c| c["lastChunk"] == false)
    );
    assert_eq!(chunks.last().unwrap()["lastChunk"], true);
    let text: String = chunks
        .iter()
        .map(|c| c["artifact"]["parts"][0]["text"].as_str().unwrap())
        .collect();
    let task_id = results(&events)[0]["task"]["id"].clone();
    let stored = app.ok(V::V1, "GetTask", json!({"id": task_id})).await;
    assert_eq!(
        stored["artifacts"][0]["parts"].as_array().unwrap().len(),
        chunks.len()
    );
    let joined: String = stored["artifacts"][0]["parts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["text"].as_str().unwrap())
        .collect();
    assert_eq!(text, "chunk-1 chunk-2");
    assert_eq!(
        joined, text,
        "the stored artifact is the concatenation of the chunks"
    );
}

#[tokio::test]
async fn message_reply_streams_one_message_and_closes() {
    let app = spawn_app().await;
    let events = app
        .stream(
            V::V1,
            "SendStreamingMessage",
            json!({"message": msg_v1("tck-message-response")}),
        )
        .await;
    assert_eq!(events.len(), 1);
    assert_eq!(
        events[0].1["result"]["message"]["parts"][0]["text"],
        "Direct message response"
    );
}

#[tokio::test]
async fn send_stream_closes_at_input_required() {
    let app = spawn_app().await;
    let events = app
        .stream(
            V::V1,
            "SendStreamingMessage",
            json!({"message": msg_v1("tck-input-required")}),
        )
        .await;
    let last = &events.last().unwrap().1["result"];
    assert_eq!(
        last["statusUpdate"]["status"]["state"],
        "TASK_STATE_INPUT_REQUIRED"
    );
}

#[tokio::test]
async fn send_stream_errors_before_streaming_are_plain_json() {
    let app = spawn_app().await;
    let mut m = msg_v1("x");
    m["taskId"] = json!("nope");
    let r = app
        .call(V::V1, "SendStreamingMessage", json!({"message": m}))
        .await;
    assert_eq!(r["error"]["code"], -32001);
}

async fn start_long_task(app: &crate::helpers::TestApp) -> Value {
    let r = app
        .ok(
            V::V1,
            "SendMessage",
            json!({"message": msg_v1("test-resubscribe-message-id"), "configuration": {"returnImmediately": true}}),
        )
        .await;
    r["task"]["id"].clone()
}

#[tokio::test]
async fn subscribers_get_the_task_first_then_identical_events() {
    let app = spawn_app().await;
    let id = start_long_task(&app).await;
    let a = app.stream(V::V1, "SubscribeToTask", json!({"id": id}));
    let b = app.stream(V::V1, "SubscribeToTask", json!({"id": id}));
    let (a, b) = tokio::join!(a, b);
    for events in [&a, &b] {
        let r = results(events);
        assert_eq!(r[0]["task"]["id"], id, "first event is the task");
        assert_eq!(
            r.last().unwrap()["statusUpdate"]["status"]["state"],
            "TASK_STATE_COMPLETED"
        );
    }
    let strip = |v: &Vec<(Option<u64>, Value)>| v.iter().skip(1).cloned().collect::<Vec<_>>();
    assert_eq!(strip(&a), strip(&b), "both subscribers see the same events");
    let ids: Vec<u64> = a.iter().map(|(i, _)| i.unwrap()).collect();
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "ids increase: {ids:?}");
}

#[tokio::test]
async fn closing_one_subscriber_does_not_affect_another() {
    let app = spawn_app().await;
    let id = start_long_task(&app).await;
    let first = app
        .stream_with(
            app.stream_request(V::V1, "SubscribeToTask", json!({"id": id})),
            1,
        )
        .await;
    assert_eq!(first.len(), 1);
    let rest = app
        .stream(V::V1, "SubscribeToTask", json!({"id": id}))
        .await;
    assert_eq!(
        rest.last().unwrap().1["result"]["statusUpdate"]["status"]["state"],
        "TASK_STATE_COMPLETED"
    );
}

#[tokio::test]
async fn subscribe_with_last_event_id_replays_only_later_events() {
    let app = spawn_app().await;
    let id = start_long_task(&app).await;
    let full = app
        .stream(V::V1, "SubscribeToTask", json!({"id": id}))
        .await;
    let last_seq = full.last().unwrap().0.unwrap();
    // The task is now terminal: a plain subscribe is refused, a resume replays the tail.
    app.err(V::V1, "SubscribeToTask", json!({"id": id}), -32004)
        .await;
    let resumed = app
        .stream_with(
            app.stream_request(V::V1, "SubscribeToTask", json!({"id": id}))
                .header("Last-Event-ID", "1"),
            usize::MAX,
        )
        .await;
    let ids: Vec<u64> = resumed.iter().map(|(i, _)| i.unwrap()).collect();
    assert_eq!(ids, (2..=last_seq).collect::<Vec<_>>());
}

#[tokio::test]
async fn subscribe_to_unknown_task_is_task_not_found() {
    let app = spawn_app().await;
    app.err(V::V1, "SubscribeToTask", json!({"id": "nope"}), -32001)
        .await;
}

#[tokio::test]
async fn v03_stream_marks_only_the_last_status_final() {
    let app = spawn_app().await;
    let events = app
        .stream(
            V::Legacy,
            "message/stream",
            json!({"message": crate::helpers::msg_v03("tck-stream-001")}),
        )
        .await;
    let r = results(&events);
    assert_eq!(r[0]["kind"], "task");
    let statuses: Vec<&&Value> = r.iter().filter(|e| e["kind"] == "status-update").collect();
    assert!(
        statuses[..statuses.len() - 1]
            .iter()
            .all(|s| s["final"] == false)
    );
    assert_eq!(statuses.last().unwrap()["final"], true);
    assert_eq!(statuses.last().unwrap()["status"]["state"], "completed");
}

//! The `conformance` agent against the official TCK's scenarios
//! (`scenarios/*.feature`): texts, parts, states and timings, over the wire.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::helpers::{V, msg_v1, spawn_app};

/// The results of a 1.0 stream, by their one member: `("statusUpdate", {...})`.
fn kinds(events: &[(Option<u64>, Value)]) -> Vec<(String, Value)> {
    events
        .iter()
        .map(|(_, e)| {
            let (k, v) = e["result"].as_object().unwrap().iter().next().unwrap();
            (k.clone(), v.clone())
        })
        .collect()
}

#[tokio::test]
async fn streaming_scenarios_stream_working_the_kits_artifact_then_completed() {
    let app = spawn_app().await;
    for (prefix, text) in [
        ("tck-stream-001", "Stream hello from TCK"),
        ("tck-stream-003", "Stream task lifecycle"),
        ("tck-stream-ordering-001", "Ordered output"),
        ("tck-stream-artifact-text", "Streamed text content"),
    ] {
        let events = app
            .stream(
                V::V1,
                "SendStreamingMessage",
                json!({"message": msg_v1(prefix)}),
            )
            .await;
        let ev = kinds(&events);
        let names: Vec<&str> = ev.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(
            names,
            ["task", "statusUpdate", "artifactUpdate", "statusUpdate"],
            "{prefix}"
        );
        assert_eq!(ev[1].1["status"]["state"], "TASK_STATE_WORKING", "{prefix}");
        assert_eq!(
            ev[2].1["artifact"]["parts"],
            json!([{"text": text}]),
            "{prefix}"
        );
        assert_eq!(
            ev[3].1["status"]["state"], "TASK_STATE_COMPLETED",
            "{prefix}"
        );
    }
}

#[tokio::test]
async fn stream_artifact_file_streams_the_kits_file_part() {
    let app = spawn_app().await;
    let events = app
        .stream(
            V::V1,
            "SendStreamingMessage",
            json!({"message": msg_v1("tck-stream-artifact-file")}),
        )
        .await;
    let ev = kinds(&events);
    assert_eq!(ev[1].1["status"]["state"], "TASK_STATE_WORKING");
    assert_eq!(
        ev[2].1["artifact"]["parts"],
        json!([{"raw": "dGNr", "filename": "output.txt", "mediaType": "text/plain"}])
    );
    assert_eq!(ev[3].1["status"]["state"], "TASK_STATE_COMPLETED");
}

#[tokio::test]
async fn stream_002_only_completes() {
    let app = spawn_app().await;
    let events = app
        .stream(
            V::V1,
            "SendStreamingMessage",
            json!({"message": msg_v1("tck-stream-002")}),
        )
        .await;
    let ev = kinds(&events);
    let names: Vec<&str> = ev.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(names, ["task", "statusUpdate"]);
    assert_eq!(ev[1].1["status"]["state"], "TASK_STATE_COMPLETED");
}

#[tokio::test]
async fn input_required_and_reject_end_as_the_kit_says() {
    let app = spawn_app().await;
    let r = app
        .ok(
            V::V1,
            "SendMessage",
            json!({"message": msg_v1("tck-input-required")}),
        )
        .await;
    assert_eq!(r["task"]["status"]["state"], "TASK_STATE_INPUT_REQUIRED");
    let r = app
        .ok(
            V::V1,
            "SendMessage",
            json!({"message": msg_v1("tck-reject-task")}),
        )
        .await;
    let status = &r["task"]["status"];
    assert_eq!(status["state"], "TASK_STATE_FAILED");
    assert_eq!(status["message"]["parts"][0]["text"], "rejected");
}

#[tokio::test]
async fn an_unprefixed_message_still_waits_in_input_required_with_its_echo() {
    let app = spawn_app().await;
    let r = app
        .ok(
            V::V1,
            "SendMessage",
            json!({"message": msg_v1("interop-echo")}),
        )
        .await;
    let status = &r["task"]["status"];
    assert_eq!(status["state"], "TASK_STATE_INPUT_REQUIRED");
    assert_eq!(status["message"]["parts"][0]["text"], "hello");
}

#[tokio::test]
async fn resubscribe_task_stays_working_for_twice_the_kits_streaming_timeout() {
    let app = spawn_app().await;
    let started = Instant::now();
    let events = app
        .stream(
            V::V1,
            "SendStreamingMessage",
            json!({"message": msg_v1("test-resubscribe-message-id")}),
        )
        .await;
    let took = started.elapsed();
    let ev = kinds(&events);
    assert_eq!(ev[1].1["status"]["state"], "TASK_STATE_WORKING");
    assert_eq!(
        ev.last().unwrap().1["status"]["state"],
        "TASK_STATE_COMPLETED"
    );
    assert!(
        took >= Duration::from_secs(4) && took < Duration::from_secs(8),
        "held {took:?}"
    );
}

//! Tasks stored before 0.1 aliases existed: their id is the client's name itself, in the
//! scope that sent it (the old `tasks/send` stored exactly that). They are written here
//! through the store API as the old code did, then probed over the wire.

use std::sync::Arc;

use a2a_server::protocol::{Message, Part, Role, Task, TaskEvent, TaskState, TaskStatus, Version};
use a2a_server::store::Scope;
use serde_json::{Value, json};

use crate::harness::{Server, V, Who, msg_v01};

every_store!(tasks_stored_before_aliases_stay_their_owners);

/// Stores an input-required 0.1 task with id `name` in `scope`, as the code before
/// aliases did, with `text` as its one message.
async fn legacy_task(s: &Server, scope: &Scope, name: &str, text: &str) {
    let message = Message {
        message_id: uuid::Uuid::new_v4().to_string(),
        context_id: Some(Arc::from(format!("ctx-{name}"))),
        task_id: Some(Arc::from(name)),
        role: Role::User,
        parts: vec![Part::text(text)],
        metadata: None,
        extensions: Vec::new(),
        reference_task_ids: Vec::new(),
    };
    let task = Task {
        id: Arc::from(name),
        context_id: Arc::from(format!("ctx-{name}")),
        status: TaskStatus::new(TaskState::InputRequired, None),
        artifacts: Vec::new(),
        history: vec![Arc::new(message)],
        metadata: None,
    };
    s.service
        .store()
        .create(
            scope,
            Version::V01,
            task.clone(),
            vec![TaskEvent::Task(task)],
            &[],
            None,
        )
        .await
        .expect("the legacy task is stored");
}

fn texts(v: &Value) -> String {
    format!("{} {}", v["history"], v["status"]["message"])
}

type Params = fn(&str) -> Value;

/// The calls that name a task by id, over every version.
fn probes() -> Vec<(V, &'static str, Params)> {
    vec![
        (
            V::Legacy,
            "tasks/get",
            |id| json!({"id": id, "historyLength": 10}),
        ),
        (V::Legacy, "tasks/cancel", |id| json!({"id": id})),
        (V::Legacy, "tasks/resubscribe", |id| json!({"id": id})),
        (
            V::Legacy,
            "tasks/pushNotification/get",
            |id| json!({"id": id}),
        ),
        (
            V::Legacy,
            "tasks/pushNotificationConfig/list",
            |id| json!({"id": id}),
        ),
        (V::V1, "GetTask", |id| json!({"id": id})),
        (V::V1, "CancelTask", |id| json!({"id": id})),
        (V::V1, "SubscribeToTask", |id| json!({"id": id})),
    ]
}

async fn tasks_stored_before_aliases_stay_their_owners(s: &Server) {
    let anon_name = format!("legacy-anon-{}", uuid::Uuid::new_v4());
    let a_name = format!("legacy-alice-{}", uuid::Uuid::new_v4());
    let anon_text = format!("anonymous legacy {}", uuid::Uuid::new_v4());
    let a_text = format!("alice legacy {}", uuid::Uuid::new_v4());
    legacy_task(s, &Scope::default(), &anon_name, &anon_text).await;
    let alice = Scope {
        owner: "apikey:alice".into(),
        tenant: "t1".into(),
    };
    legacy_task(s, &alice, &a_name, &a_text).await;

    // Each stays readable by its scope, by the name, through 0.1 and 1.0.
    for (who, name, text) in [
        (Who::Anon, &anon_name, &anon_text),
        (Who::A, &a_name, &a_text),
    ] {
        let r = s
            .rpc(
                who,
                V::Legacy,
                "tasks/get",
                json!({"id": name, "historyLength": 10}),
            )
            .await;
        assert_eq!(
            r.result()["id"],
            name.as_str(),
            "{} {who:?}: {:?}",
            s.kind,
            r.body
        );
        assert!(texts(r.result()).contains(text.as_str()), "{:?}", r.body);
        let t = s.get_v1(who, name).await.expect("readable through 1.0");
        assert!(t.to_string().contains(text.as_str()), "{t}");
    }
    // Nobody else reaches either by its raw id, on any version.
    let secrets = [anon_text.as_str(), a_text.as_str()];
    for (name, others) in [
        (&anon_name, [Who::A, Who::B, Who::T2]),
        (&a_name, [Who::B, Who::T2, Who::Anon]),
    ] {
        for who in others {
            for (v, method, params) in probes() {
                let missing = format!("legacy-{}", uuid::Uuid::new_v4());
                s.assert_unknown(who, v, method, name, &missing, params, &[], &secrets)
                    .await;
            }
        }
    }
    // Choosing a legacy task's name starts one's own task: no error, nothing of the
    // other's, and the legacy task is left as it was.
    for (who, name, theirs) in [
        (Who::A, &anon_name, &anon_text),
        (Who::B, &anon_name, &anon_text),
        (Who::Anon, &a_name, &a_text),
        (Who::B, &a_name, &a_text),
    ] {
        let mine = format!("{who:?} takes the name {}", uuid::Uuid::new_v4());
        let r = s
            .rpc(
                who,
                V::Legacy,
                "tasks/send",
                json!({"id": name, "message": msg_v01(&mine)}),
            )
            .await;
        let what = format!("{} {who:?} tasks/send {name}", s.kind);
        assert_eq!(r.result()["id"], name.as_str(), "{what}: {:?}", r.body);
        assert!(
            !r.body.to_string().contains(theirs.as_str()),
            "{what}: {:?}",
            r.body
        );
    }
    for (who, name, text) in [
        (Who::Anon, &anon_name, &anon_text),
        (Who::A, &a_name, &a_text),
    ] {
        let r = s
            .rpc(
                who,
                V::Legacy,
                "tasks/get",
                json!({"id": name, "historyLength": 10}),
            )
            .await;
        let history = r.result()["history"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        assert_eq!(history.len(), 1, "{} {who:?}: {:?}", s.kind, r.body);
        assert!(texts(r.result()).contains(text.as_str()), "{:?}", r.body);
    }
    // And their owners still continue them by name.
    let r = s
        .rpc(
            Who::A,
            V::Legacy,
            "tasks/send",
            json!({"id": a_name, "message": msg_v01("alice again")}),
        )
        .await;
    assert!(
        texts(r.result()).contains("alice again"),
        "{} {:?}",
        s.kind,
        r.body
    );
    let t = s.get_v1(Who::A, &a_name).await.unwrap();
    assert!(t.to_string().contains(a_text.as_str()), "{t}");
}

//! JSON Schemas of the wire types, generated from the codec types with `schemars`.
//!
//! `a2a schemas --out schemas/` writes them; `tests/schemas.rs` regenerates them in
//! memory and fails when the checked-in files drift from the code. Params are described
//! as we accept them (serde's deserialize contract), results and stream items as we emit
//! them (the serialize contract), so a field we always write is `required`.

mod mirror;
mod tidy;

use std::path::Path;

use schemars::JsonSchema;
use schemars::generate::SchemaSettings;
use serde_json::Value;

use crate::codec::{push, v01, v1, v03};
use crate::protocol::Task;

/// One generated schema file: its path relative to the output directory and its body.
#[derive(Debug, Clone)]
pub struct SchemaFile {
    /// `<version>/<name>.json`, e.g. `0.3.0/tasks-get.result.json`.
    pub path: String,
    pub schema: Value,
}

impl SchemaFile {
    /// The file's exact bytes: pretty JSON and a final newline, so diffs stay readable.
    pub fn render(&self) -> String {
        let mut s = serde_json::to_string_pretty(&self.schema).expect("schemas serialize");
        s.push('\n');
        s
    }
}

/// What a schema describes, which picks the serde contract it is generated for.
#[derive(Clone, Copy)]
enum Role {
    Params,
    Result,
    StreamItem,
    Card,
}

impl Role {
    fn suffix(self) -> &'static str {
        match self {
            Role::Params => "params",
            Role::Result => "result",
            Role::StreamItem => "stream-item",
            Role::Card => "",
        }
    }

    fn what(self) -> &'static str {
        match self {
            Role::Params => "params",
            Role::Result => "result",
            Role::StreamItem => "SSE event result",
            Role::Card => "agent card",
        }
    }
}

fn schema_for<T: JsonSchema>(role: Role) -> Value {
    let settings = SchemaSettings::draft2020_12();
    let settings = match role {
        Role::Params => settings.for_deserialize(),
        // Every optional field we write is skipped when empty, never written as `null`.
        _ => settings.for_serialize(),
    };
    let mut schema = settings
        .into_generator()
        .into_root_schema_for::<T>()
        .to_value();
    tidy::add_kind_tags(&mut schema);
    tidy::strip_defaults(&mut schema);
    if !matches!(role, Role::Params) {
        tidy::drop_null_from_optionals(&mut schema);
    }
    schema
}

struct Builder {
    files: Vec<SchemaFile>,
}

impl Builder {
    /// Adds the schema of `T` for `method` (or the agent card when `method` is empty).
    fn add<T: JsonSchema>(&mut self, version: &str, method: &str, role: Role) {
        let mut schema = schema_for::<T>(role);
        let (name, description) = if method.is_empty() {
            (
                "agent-card".to_string(),
                format!("A2A {version} agent card, as this server serves it"),
            )
        } else {
            (
                format!("{}.{}", method.replace('/', "-"), role.suffix()),
                format!("A2A {version} `{method}` {}", role.what()),
            )
        };
        let obj = schema.as_object_mut().expect("root schemas are objects");
        obj.insert("description".into(), Value::String(description));
        self.files.push(SchemaFile {
            path: format!("{version}/{name}.json"),
            schema,
        });
    }
}

/// Every schema file, in a stable order.
pub fn all() -> Vec<SchemaFile> {
    let mut b = Builder { files: Vec::new() };

    let v = "1.0.1";
    b.add::<v1::SendMessageRequest>(v, "SendMessage", Role::Params);
    b.add::<mirror::SendMessageResponse>(v, "SendMessage", Role::Result);
    b.add::<v1::SendMessageRequest>(v, "SendStreamingMessage", Role::Params);
    b.add::<mirror::StreamResponse>(v, "SendStreamingMessage", Role::StreamItem);
    b.add::<v1::GetTaskRequest>(v, "GetTask", Role::Params);
    b.add::<Task>(v, "GetTask", Role::Result);
    b.add::<v1::ListTasksRequest>(v, "ListTasks", Role::Params);
    b.add::<v1::ListTasksResponse>(v, "ListTasks", Role::Result);
    b.add::<v1::TaskIdRequest>(v, "CancelTask", Role::Params);
    b.add::<Task>(v, "CancelTask", Role::Result);
    b.add::<v1::TaskIdRequest>(v, "SubscribeToTask", Role::Params);
    b.add::<mirror::StreamResponse>(v, "SubscribeToTask", Role::StreamItem);
    b.add::<push::TaskPushNotificationConfig>(v, "CreateTaskPushNotificationConfig", Role::Params);
    b.add::<push::TaskPushNotificationConfig>(v, "CreateTaskPushNotificationConfig", Role::Result);
    b.add::<push::PushConfigIdRequest>(v, "GetTaskPushNotificationConfig", Role::Params);
    b.add::<push::TaskPushNotificationConfig>(v, "GetTaskPushNotificationConfig", Role::Result);
    b.add::<push::ListPushConfigsRequest>(v, "ListTaskPushNotificationConfigs", Role::Params);
    b.add::<push::ListPushConfigsResponse>(v, "ListTaskPushNotificationConfigs", Role::Result);
    b.add::<push::PushConfigIdRequest>(v, "DeleteTaskPushNotificationConfig", Role::Params);
    b.add::<mirror::AgentCardV1>(v, "", Role::Card);

    let v = "0.3.0";
    b.add::<v03::MessageSendParams>(v, "message/send", Role::Params);
    b.add::<mirror::SendResult03>(v, "message/send", Role::Result);
    b.add::<v03::MessageSendParams>(v, "message/stream", Role::Params);
    b.add::<v03::Result03>(v, "message/stream", Role::StreamItem);
    b.add::<v03::TaskQueryParams>(v, "tasks/get", Role::Params);
    b.add::<v03::Task03>(v, "tasks/get", Role::Result);
    b.add::<v03::TaskIdParams>(v, "tasks/cancel", Role::Params);
    b.add::<v03::Task03>(v, "tasks/cancel", Role::Result);
    b.add::<v03::TaskIdParams>(v, "tasks/resubscribe", Role::Params);
    b.add::<v03::Result03>(v, "tasks/resubscribe", Role::StreamItem);
    b.add::<push::TaskPushNotificationConfig03>(
        v,
        "tasks/pushNotificationConfig/set",
        Role::Params,
    );
    b.add::<push::TaskPushNotificationConfig03>(
        v,
        "tasks/pushNotificationConfig/set",
        Role::Result,
    );
    b.add::<push::PushConfigParams03>(v, "tasks/pushNotificationConfig/get", Role::Params);
    b.add::<push::TaskPushNotificationConfig03>(
        v,
        "tasks/pushNotificationConfig/get",
        Role::Result,
    );
    b.add::<push::PushConfigParams03>(v, "tasks/pushNotificationConfig/list", Role::Params);
    b.add::<Vec<push::TaskPushNotificationConfig03>>(
        v,
        "tasks/pushNotificationConfig/list",
        Role::Result,
    );
    b.add::<push::PushConfigParams03>(v, "tasks/pushNotificationConfig/delete", Role::Params);
    b.add::<mirror::AgentCard03>(v, "", Role::Card);

    let v = "0.1.0";
    b.add::<v01::TaskSendParams>(v, "tasks/send", Role::Params);
    b.add::<v01::Task01>(v, "tasks/send", Role::Result);
    b.add::<v01::TaskSendParams>(v, "tasks/sendSubscribe", Role::Params);
    b.add::<v01::Event01>(v, "tasks/sendSubscribe", Role::StreamItem);
    b.add::<v03::TaskQueryParams>(v, "tasks/get", Role::Params);
    b.add::<v01::Task01>(v, "tasks/get", Role::Result);
    b.add::<v03::TaskIdParams>(v, "tasks/cancel", Role::Params);
    b.add::<v01::Task01>(v, "tasks/cancel", Role::Result);
    b.add::<v03::TaskIdParams>(v, "tasks/resubscribe", Role::Params);
    b.add::<v01::Event01>(v, "tasks/resubscribe", Role::StreamItem);
    b.add::<push::TaskPushNotificationConfig01>(v, "tasks/pushNotification/set", Role::Params);
    b.add::<push::TaskPushNotificationConfig01>(v, "tasks/pushNotification/set", Role::Result);
    b.add::<v03::TaskIdParams>(v, "tasks/pushNotification/get", Role::Params);
    b.add::<push::TaskPushNotificationConfig01>(v, "tasks/pushNotification/get", Role::Result);
    // `/.well-known/agent.json` serves the 0.3 shape to 0.1 and 0.2 clients too.
    b.add::<mirror::AgentCard03>(v, "", Role::Card);

    b.files
}

/// Writes every schema under `dir`, replacing what is there; returns the file count.
pub fn write_all(dir: &Path) -> std::io::Result<usize> {
    let files = all();
    for f in &files {
        let path = dir.join(&f.path);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(path, f.render())?;
    }
    Ok(files.len())
}

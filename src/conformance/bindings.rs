//! Agreement of the bindings: the same 1.0 calls over every binding the card declares
//! (JSON-RPC, HTTP+JSON, gRPC) give the same answers, made with the client of
//! `crate::client` over each.

use crate::client::{A2aClient, SendOptions, Transport};
use crate::protocol::{SendResult, Task, Version};

use super::{Check, Checked, Ctx, fail, skip};
use crate::{check, ensure};

pub fn checks() -> Vec<Check> {
    vec![
        check!(
            "X01",
            Must,
            V1,
            "A task sent over any declared binding reads the same (id, context, state, history, artifacts) over every other, and each binding answers the same send alike.",
            tasks_agree
        ),
        check!(
            "X02",
            Must,
            V1,
            "An unknown task answers TaskNotFound (-32001) over every declared binding.",
            errors_agree
        ),
    ]
}

/// A 1.0 client for each binding the card declares, in JSON-RPC, HTTP+JSON, gRPC order;
/// a skip unless there are two.
fn clients(c: &Ctx) -> Result<Vec<A2aClient>, super::Miss> {
    let card = c.card.as_ref().map_err(|e| skip(format!("no card: {e}")))?;
    let clients: Vec<A2aClient> = [Transport::JsonRpc, Transport::Rest, Transport::Grpc]
        .into_iter()
        .filter_map(|t| {
            let url = crate::client::interface_endpoint(card, Version::V1, t, &c.base)?;
            Some(A2aClient::with_http(c.http.clone(), url, Version::V1).with_transport(t))
        })
        .collect();
    if clients.len() < 2 {
        return Err(skip("the card declares fewer than two 1.0 bindings"));
    }
    Ok(clients)
}

fn name(c: &A2aClient) -> &'static str {
    c.transport().binding()
}

/// What must agree of a task, read over one binding.
fn shape(t: &Task) -> (String, String, String, usize, usize) {
    (
        t.id.to_string(),
        t.context_id.to_string(),
        t.status.state.kebab_name().to_string(),
        t.history.len(),
        t.artifacts.len(),
    )
}

async fn tasks_agree(c: &Ctx) -> Checked {
    let clients = clients(c)?;
    let mut answers = Vec::new();
    for sender in &clients {
        let opts = SendOptions {
            message_id: Some(format!("conformance-bindings-{}", uuid::Uuid::new_v4())),
            ..SendOptions::text("hello")
        };
        let result = sender
            .send(&opts)
            .await
            .map_err(|e| fail(format!("SendMessage over {}: {e}", name(sender))))?;
        let task = match result {
            SendResult::Task(t) => t,
            SendResult::Message(_) => {
                answers.push((name(sender), "a message".to_string()));
                continue;
            }
        };
        answers.push((
            name(sender),
            format!("a task, {}", task.status.state.kebab_name()),
        ));
        for reader in &clients {
            let read = reader.get(&task.id, None).await.map_err(|e| {
                fail(format!(
                    "the task sent over {} read over {}: {e}",
                    name(sender),
                    name(reader)
                ))
            })?;
            ensure!(
                shape(&read) == shape(&task),
                "the task sent over {} reads differently over {}: {:?} vs {:?}",
                name(sender),
                name(reader),
                shape(&read),
                shape(&task)
            );
        }
    }
    let first = &answers[0].1;
    ensure!(
        answers.iter().all(|(_, a)| a == first),
        "the same send answered differently: {answers:?}"
    );
    Ok(())
}

async fn errors_agree(c: &Ctx) -> Checked {
    let clients = clients(c)?;
    let id = format!("conformance-no-such-task-{}", uuid::Uuid::new_v4());
    for client in &clients {
        match client.get(&id, None).await {
            Ok(_) => {
                return Err(fail(format!(
                    "GetTask of an unknown id over {} answered a task",
                    name(client)
                )));
            }
            Err(e) => ensure!(
                e.rpc_code() == Some(-32001),
                "GetTask of an unknown id over {}: {e} (wanted -32001)",
                name(client)
            ),
        }
    }
    Ok(())
}

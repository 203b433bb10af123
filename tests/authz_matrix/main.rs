//! The authorization matrix (issue 20 point 2): on the memory, SQLite and Postgres
//! stores, every task method of 1.0, 0.3 and 0.1 called by another owner of the same
//! tenant (a bearer JWT), by the same owner in another tenant (an API key) and by the
//! anonymous caller on a task of owner A (an API key) answers -32001 exactly as an id that
//! does not exist; listings show only one's own tasks; 0.1 chosen ids are per scope;
//! webhooks hear only their own task; tasks stored before 0.1 aliases stay their owner's.
//!
//! One server per store and module; the modules' tests run in parallel.

#[path = "../support/mod.rs"]
mod support;
#[path = "../support/webhook.rs"]
mod webhook;

/// `mod $name { memory, sqlite, postgres }`: one test per store, each running `$name(kind)`
/// against its own server (Postgres skips without `A2A_TEST_POSTGRES_URL`, fails in CI).
macro_rules! every_store {
    ($name:ident) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn memory() {
                if let Some(s) = crate::harness::start("memory").await {
                    super::$name(&s).await;
                }
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                if let Some(s) = crate::harness::start("sqlite").await {
                    super::$name(&s).await;
                }
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                if let Some(s) = crate::harness::start("postgres").await {
                    super::$name(&s).await;
                }
            }
        }
    };
}

mod harness;
mod legacy;
mod push;
mod v0;
mod v1;

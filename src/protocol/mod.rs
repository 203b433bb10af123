//! A2A protocol types with no I/O: the internal model, task states, errors and the
//! agent card, shared by the server, the stores, the codecs and the client.

pub mod alias;
pub mod card;
pub mod error;
pub mod idempotency;
pub mod limits;
pub mod model;
mod part;
pub mod push;
pub mod request;
pub mod state;
mod version;

pub use error::A2aError;
pub use idempotency::{Idempotency, IdempotencyKey};
pub use model::*;
pub use push::{InlinePushConfig, PushAuth, PushConfig, PushConfigPage};
pub use state::TaskState;
pub use version::Version;

//! Pure, I/O-free halves of the client: building each version's JSON-RPC request and
//! decoding each version's results into the internal model with the codecs.
//!
//! `call` builds the requests, `decode` reads the results.

mod call;
mod decode;

pub use call::{RpcCall, cancel_call, get_call, list_call, send_call, subscribe_call};
pub use decode::{DecodedItem, decode_list, decode_send, decode_stream_item, decode_task};

//! A2A client (placeholder until the client lands).

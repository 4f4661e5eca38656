//! Fan-out: one message, encoded once, queued on many connections in one call.
//!
//! The payload is reference-counted (`Bytes`), so each member costs a queue
//! push and a wake-up of its session, never a copy. Every member keeps its own
//! bounded queue: a member whose queue is full is closed with 1013 and counted
//! by its session (`ws_slow_consumers`), exactly as a single send would.

use bytes::Bytes;
use tokio_tungstenite::tungstenite::protocol::frame::Utf8Bytes;
use tokio_tungstenite::tungstenite::Message;

use super::{SendError, WsConnection};

/// A message ready to go to many connections.
#[derive(Debug, Clone)]
pub enum Shared {
    Text(Utf8Bytes),
    Binary(Bytes),
}

impl Shared {
    pub fn text(text: String) -> Self {
        Shared::Text(Utf8Bytes::from(text))
    }

    pub fn binary(data: Bytes) -> Self {
        Shared::Binary(data)
    }

    fn message(&self) -> Message {
        match self {
            Shared::Text(t) => Message::Text(t.clone()),
            Shared::Binary(b) => Message::Binary(b.clone()),
        }
    }
}

/// Queues `message` on every connection; returns the position and error of
/// each one that did not take it (closed, or closed now as a slow consumer).
pub fn broadcast<'a>(
    connections: impl IntoIterator<Item = &'a WsConnection>,
    message: &Shared,
) -> Vec<(usize, SendError)> {
    connections
        .into_iter()
        .enumerate()
        .filter_map(|(i, conn)| conn.queue(message.message()).err().map(|e| (i, e)))
        .collect()
}

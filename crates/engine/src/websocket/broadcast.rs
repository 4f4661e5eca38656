//! Fan-out: one message, encoded once, queued on many connections in one call.
//!
//! The payload is reference-counted (`Bytes`), so each member costs a queue
//! push, never a copy; the sessions are woken together from the network thread. Every member keeps its own
//! bounded queue: a member whose queue is full is closed with 1013 and counted
//! by its session (`ws_slow_consumers`), exactly as a single send would.

use bytes::Bytes;
use tokio_tungstenite::tungstenite::protocol::frame::Utf8Bytes;
use tokio_tungstenite::tungstenite::Message;

use super::session::Wakeups;
use super::{SendError, WsConnection};

/// A message ready to go to one connection or many (a clone shares the payload).
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

    pub(super) fn into_message(self) -> Message {
        match self {
            Shared::Text(t) => Message::Text(t),
            Shared::Binary(b) => Message::Binary(b),
        }
    }
}

/// Queues `message` on every connection; returns the position and error of
/// each one that did not take it (closed, or closed now as a slow consumer).
///
/// Every message is queued here, in order with the caller's other sends; the
/// sessions that were waiting are then woken together, by one task on the
/// network thread (one cross-thread wake-up per call, not one per member).
pub fn broadcast<'a>(
    connections: impl IntoIterator<Item = &'a WsConnection>,
    message: &Shared,
) -> Vec<(usize, SendError)> {
    let mut wakeups = Wakeups::default();
    let failed = connections
        .into_iter()
        .enumerate()
        .filter_map(|(i, conn)| {
            conn.send_deferred(message.clone(), &mut wakeups)
                .err()
                .map(|e| (i, e))
        })
        .collect();
    wakeups.wake();
    failed
}

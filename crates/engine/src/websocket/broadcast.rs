//! Fan-out: one message, encoded once, queued on many connections in one call.
//!
//! The message is encoded once as a frame (reference-counted), so
//! each member costs a queue push, never a copy or another encoding; the
//! sessions are woken together from the network thread. Every member keeps its
//! own bounded queue: a member whose queue is full is closed with 1013 and
//! counted by its session (`ws_slow_consumers`), exactly as a single send would.

use std::borrow::Borrow;
use std::sync::Arc;

use super::session::Wakeups;
use super::{SendError, WsConnection};

pub(super) const FIN: u8 = 0x80;
/// RSV1: the payload is compressed (permessage-deflate).
pub(super) const COMPRESSED: u8 = 0x40;
const OP_TEXT: u8 = 0x1;
const OP_BINARY: u8 = 0x2;
/// First byte, length byte, and a 64-bit length (RFC 6455 §5.2).
const MAX_HEADER: usize = 10;

/// A message encoded once as the frame a server sends (final, unmasked, no
/// extension bits): a clone shares the bytes, so a fan-out writes the same
/// frame to every member and a session writes it without encoding it again.
///
/// One allocation holds the count and the frame: a `Bytes` made from a `Vec`
/// took two (the buffer and, when the length was not the capacity, or on the
/// first clone, its shared header), each freed on another thread than the
/// one that allocated it.
#[derive(Debug, Clone)]
pub struct Shared {
    frame: Arc<[u8]>,
    /// Where the payload starts, after the 2 to 10 header bytes.
    payload_at: usize,
}

impl Shared {
    pub fn text(text: &str) -> Self {
        Self::encode(FIN | OP_TEXT, text.as_bytes())
    }

    pub fn binary(data: &[u8]) -> Self {
        Self::encode(FIN | OP_BINARY, data)
    }

    /// A final frame: `first` is its first byte (FIN, RSV bits, opcode).
    pub(super) fn encode(first: u8, payload: &[u8]) -> Self {
        let mut header = [0u8; MAX_HEADER];
        let payload_at = write_header(&mut header, first, payload.len());
        let mut frame = Arc::<[u8]>::new_uninit_slice(payload_at + payload.len());
        let bytes = Arc::get_mut(&mut frame).expect("not shared yet");
        bytes[..payload_at].write_copy_of_slice(&header[..payload_at]);
        bytes[payload_at..].write_copy_of_slice(payload);
        Shared {
            // SAFETY: both writes above cover the whole slice.
            frame: unsafe { frame.assume_init() },
            payload_at,
        }
    }

    /// The whole frame, as it goes on the wire.
    pub(crate) fn frame(&self) -> &[u8] {
        &self.frame
    }

    pub(super) fn payload(&self) -> &[u8] {
        &self.frame[self.payload_at..]
    }

    pub(super) fn opcode(&self) -> u8 {
        self.frame[0] & 0x0f
    }
}

/// Writes a server frame's header into `out` and returns its length: `first`
/// (FIN, RSV bits, opcode), then the payload length in the shortest of its
/// three forms (no mask: server to client).
fn write_header(out: &mut [u8; MAX_HEADER], first: u8, len: usize) -> usize {
    out[0] = first;
    match len {
        0..=125 => {
            out[1] = len as u8;
            2
        }
        126..=0xffff => {
            out[1] = 126;
            out[2..4].copy_from_slice(&(len as u16).to_be_bytes());
            4
        }
        _ => {
            out[1] = 127;
            out[2..10].copy_from_slice(&(len as u64).to_be_bytes());
            10
        }
    }
}

/// Queues `message` on every connection; returns the position and error of
/// each one that did not take it (closed, or closed now as a slow consumer).
///
/// Every message is queued here, in order with the caller's other sends; the
/// sessions that were waiting are then woken together, by one task on the
/// network thread (one cross-thread wake-up per call, not one per member).
pub fn broadcast<C: Borrow<WsConnection>>(
    connections: impl IntoIterator<Item = C>,
    message: &Shared,
) -> Vec<(usize, SendError)> {
    let mut wakeups = Wakeups::default();
    let failed = connections
        .into_iter()
        .enumerate()
        .filter_map(|(i, conn)| {
            conn.borrow()
                .send_deferred(message.clone(), &mut wakeups)
                .err()
                .map(|e| (i, e))
        })
        .collect();
    wakeups.wake();
    failed
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio_tungstenite::tungstenite::protocol::frame::coding::{Data, OpCode};
    use tokio_tungstenite::tungstenite::protocol::frame::Frame;

    /// Our frames are byte for byte tungstenite's, at every length boundary.
    #[test]
    fn frames_are_encoded_as_tungstenite_encodes_them() {
        for len in [0, 1, 125, 126, 127, 0xffff, 0x10000, 70_000] {
            let payload = vec![b'x'; len];
            for (ours, opcode) in [
                (
                    Shared::text(std::str::from_utf8(&payload).unwrap()),
                    Data::Text,
                ),
                (Shared::binary(&payload), Data::Binary),
            ] {
                let mut theirs = Vec::new();
                Frame::message(payload.clone(), OpCode::Data(opcode), true)
                    .format(&mut theirs)
                    .unwrap();
                assert_eq!(ours.frame(), &theirs[..], "length {len}");
                assert_eq!(ours.payload(), &payload[..]);
            }
        }
    }
}

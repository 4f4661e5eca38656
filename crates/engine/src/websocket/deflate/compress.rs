//! Compressing one outgoing message (no context kept between messages).

use std::cell::RefCell;

use flate2::{Compress, Compression, FlushCompress};

use crate::websocket::broadcast::{COMPRESSED, FIN};
use crate::websocket::Shared;

/// Smaller messages go out as they are: deflate rarely shrinks them, and
/// each compression costs a reset and a flush.
const MIN_SIZE: usize = 128;

/// What every sync flush ends with; RFC 7692 §7.2.1 drops it from the wire.
const SYNC_TAIL: [u8; 4] = [0, 0, 0xff, 0xff];

thread_local! {
    // One compressor per tokio thread: with server_no_context_takeover no
    // state survives a message, and a compressor holds ~300 KiB.
    static COMPRESSOR: RefCell<Compress> = RefCell::new(Compress::new(Compression::fast(), false));
}

/// `message` as a compressed frame (RSV1 set), or None when it is small or
/// does not shrink (it then goes out as it is).
pub fn compress(message: &Shared) -> Option<Shared> {
    let payload = message.payload();
    if payload.len() < MIN_SIZE {
        return None;
    }
    let body = COMPRESSOR.with(|compressor| deflate(&mut compressor.borrow_mut(), payload))?;
    (body.len() < payload.len()).then(|| Shared::encode(FIN | COMPRESSED | message.opcode(), &body))
}

fn deflate(compressor: &mut Compress, payload: &[u8]) -> Option<Vec<u8>> {
    compressor.reset();
    let mut out = Vec::with_capacity(payload.len() / 2 + 64);
    let mut consumed = 0;
    loop {
        if out.len() == out.capacity() {
            out.reserve(out.capacity().max(1024));
        }
        let before = compressor.total_in();
        compressor
            .compress_vec(&payload[consumed..], &mut out, FlushCompress::Sync)
            .ok()?;
        consumed += (compressor.total_in() - before) as usize;
        // Done when all input is in and the flush did not run out of room.
        if consumed == payload.len() && out.len() < out.capacity() {
            break;
        }
    }
    if out.ends_with(&SYNC_TAIL) {
        out.truncate(out.len() - SYNC_TAIL.len());
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::{Decompress, FlushDecompress};

    fn inflate(body: &[u8]) -> Vec<u8> {
        let mut input = body.to_vec();
        input.extend_from_slice(&SYNC_TAIL);
        let mut out = Vec::with_capacity(1 << 20);
        Decompress::new(false)
            .decompress_vec(&input, &mut out, FlushDecompress::Sync)
            .unwrap();
        out
    }

    #[test]
    fn a_large_text_is_compressed_and_inflates_back() {
        let text = "hello hyperdjango ".repeat(1000);
        let frame = compress(&Shared::text(&text)).expect("compressed");
        assert_eq!(frame.frame()[0], FIN | COMPRESSED | 0x1);
        assert!(frame.payload().len() < text.len() / 10);
        assert_eq!(inflate(frame.payload()), text.as_bytes());
        // The next message starts from a fresh context.
        let again = compress(&Shared::text(&text)).expect("compressed");
        assert_eq!(again.frame(), frame.frame());
    }

    #[test]
    fn small_or_random_messages_go_as_they_are() {
        assert!(compress(&Shared::text("short")).is_none());
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let noise: Vec<u8> = (0..4096)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                (state >> 24) as u8
            })
            .collect();
        assert!(compress(&Shared::binary(&noise)).is_none());
    }
}

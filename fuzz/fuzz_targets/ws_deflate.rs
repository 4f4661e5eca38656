//! permessage-deflate on incoming WebSocket frames, and the compressor of
//! outgoing messages.
//!
//! - Arbitrary wire bytes through `InflatingStream` never panic (a plain frame
//!   over the limit passes through: tungstenite refuses it from its header).
//! - Messages a client compresses with context takeover, split into fragments
//!   with control frames in between, come out as exactly the plain messages.
//! - `compress` output inflates back to the message.

#![no_main]

use std::io::Cursor;

use arbitrary::Arbitrary;
use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress};
use hyperdjango_engine::fuzzing::{compress, wire_frame, InflatingStream, Shared};
use libfuzzer_sys::fuzz_target;
use tokio::io::AsyncReadExt;
use tokio_tungstenite::tungstenite::protocol::frame::FrameHeader;

const LIMIT: usize = 4096;
/// The server's default socket read size (WsConfig's read_buffer_size).
const READ_CHUNK: usize = 8 * 1024;
const SYNC_TAIL: [u8; 4] = [0, 0, 0xff, 0xff];

#[derive(Arbitrary, Debug)]
struct ClientMessage {
    payload: Vec<u8>,
    binary: bool,
    compressed: bool,
    /// Fragment sizes (each at least one byte); the rest is the last fragment.
    cuts: Vec<u8>,
    /// A ping before each fragment whose bit is set.
    pings: u8,
}

#[derive(Arbitrary, Debug)]
enum Input {
    Wire(Vec<u8>),
    Messages(Vec<ClientMessage>),
    Outgoing(Vec<u8>, bool),
}

fn masked_frame(first: u8, payload: &[u8], out: &mut Vec<u8>) {
    let mask = [0x37, 0xfa, 0x21, 0x3d];
    out.push(first);
    match payload.len() {
        n if n < 126 => out.push(0x80 | n as u8),
        n if n < 65536 => {
            out.push(0x80 | 126);
            out.extend_from_slice(&(n as u16).to_be_bytes());
        }
        n => {
            out.push(0x80 | 127);
            out.extend_from_slice(&(n as u64).to_be_bytes());
        }
    }
    out.extend_from_slice(&mask);
    out.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i & 3]));
}

/// The frames of the output: (header, payload) each, or None when they do not parse.
fn frames(mut bytes: &[u8]) -> Vec<(FrameHeader, Vec<u8>)> {
    let mut out = Vec::new();
    while !bytes.is_empty() {
        let mut cursor = Cursor::new(bytes);
        let Ok(Some((header, length))) = FrameHeader::parse(&mut cursor) else { break };
        let start = cursor.position() as usize;
        let Some(end) = usize::try_from(length).ok().and_then(|n| start.checked_add(n)) else { break };
        if end > bytes.len() {
            break;
        }
        let mut payload = bytes[start..end].to_vec();
        if let Some(mask) = header.mask {
            for (i, b) in payload.iter_mut().enumerate() {
                *b ^= mask[i & 3];
            }
        }
        out.push((header, payload));
        bytes = &bytes[end..];
    }
    out
}

fn read_through(wire: Vec<u8>) -> Vec<u8> {
    let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
    runtime.block_on(async {
        let mut stream = InflatingStream::new(Cursor::new(wire), true, LIMIT, READ_CHUNK);
        let mut out = Vec::new();
        stream.read_to_end(&mut out).await.expect("reading from memory");
        out
    })
}

fn messages(list: Vec<ClientMessage>) {
    let mut deflater = Compress::new(Compression::fast(), false);
    let mut wire = Vec::new();
    let mut expected = Vec::new();
    for m in list.into_iter().take(8) {
        let mut payload = m.payload;
        // Half the limit, so that even incompressible data stays under it once deflated.
        payload.truncate(LIMIT / 2);
        let body = if m.compressed {
            let mut body = Vec::with_capacity(payload.len() * 2 + 64);
            deflater.compress_vec(&payload, &mut body, FlushCompress::Sync).unwrap();
            assert!(body.ends_with(&SYNC_TAIL));
            body.truncate(body.len() - SYNC_TAIL.len());
            body
        } else {
            payload.clone()
        };
        let mut pieces = Vec::new();
        let mut rest = &body[..];
        for cut in m.cuts.iter().take(6) {
            let n = usize::from(*cut).max(1).min(rest.len());
            if n == rest.len() {
                break;
            }
            pieces.push(&rest[..n]);
            rest = &rest[n..];
        }
        pieces.push(rest);
        let opcode = if m.binary { 0x2 } else { 0x1 };
        let last = pieces.len() - 1;
        for (i, piece) in pieces.iter().enumerate() {
            if m.pings & (1 << (i % 8)) != 0 {
                masked_frame(0x80 | 0x9, b"ping", &mut wire);
                expected.push((0x9, b"ping".to_vec()));
            }
            let fin = if i == last { 0x80 } else { 0 };
            let rsv1 = if i == 0 && m.compressed { 0x40 } else { 0 };
            masked_frame(fin | rsv1 | if i == 0 { opcode } else { 0 }, piece, &mut wire);
            if !m.compressed {
                expected.push((if i == 0 { opcode } else { 0 }, piece.to_vec()));
            }
        }
        if m.compressed {
            expected.push((opcode, payload));
        }
    }
    // Every message is within the limit: all of it comes out.
    let got: Vec<(u8, Vec<u8>)> = frames(&read_through(wire))
        .into_iter()
        .map(|(h, p)| {
            assert!(!h.rsv1, "a frame still marked compressed");
            (u8::from(h.opcode), p)
        })
        .collect();
    assert_eq!(got, expected);
}

fn outgoing(payload: Vec<u8>, binary: bool) {
    let message = if binary {
        Shared::binary(&payload)
    } else {
        match std::str::from_utf8(&payload) {
            Ok(text) => Shared::text(text),
            Err(_) => return,
        }
    };
    let opcode = if binary { 0x2 } else { 0x1 };
    // The frame that goes out: compressed (RSV1) when that shrinks it, else the message as it is.
    let (frame, compressed) = match compress(&message) {
        Some(shrunk) => (wire_frame(&shrunk).to_vec(), true),
        None => (wire_frame(&message).to_vec(), false),
    };
    let parsed = frames(&frame);
    assert_eq!(parsed.len(), 1, "one message, one frame");
    let (header, body) = &parsed[0];
    assert!(header.is_final && header.mask.is_none());
    assert_eq!(u8::from(header.opcode), opcode);
    assert_eq!(header.rsv1, compressed);
    if compressed {
        assert!(body.len() < payload.len(), "compressed only when it shrinks");
        let mut input = body.clone();
        input.extend_from_slice(&SYNC_TAIL);
        let mut plain = Vec::with_capacity(payload.len() + 64);
        Decompress::new(false).decompress_vec(&input, &mut plain, FlushDecompress::Sync).unwrap();
        assert_eq!(plain, payload, "a compressed message does not inflate back");
    } else {
        assert_eq!(body, &payload);
    }
}

fuzz_target!(|input: Input| {
    match input {
        Input::Wire(bytes) => {
            frames(&read_through(bytes));
        }
        Input::Messages(list) => messages(list),
        Input::Outgoing(payload, binary) => outgoing(payload, binary),
    }
});

//! The socket as tungstenite sees it: incoming compressed messages (when
//! permessage-deflate is on) arrive inflated, as one plain frame each; the
//! session's own encoded data frames are written ahead of tungstenite's.

use std::io::{self, Cursor};
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use bytes::{Buf, BytesMut};
use flate2::{Decompress, FlushDecompress, Status};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio_tungstenite::tungstenite::protocol::frame::coding::{Data, OpCode};
use tokio_tungstenite::tungstenite::protocol::frame::FrameHeader;
use tokio_util::io::poll_read_buf;

const SYNC_TAIL: [u8; 4] = [0, 0, 0xff, 0xff];
/// A masked empty binary frame with RSV2 set: tungstenite fails the
/// connection with 1002 on it, which is what a broken compressed message deserves.
const PROTOCOL_ERROR: [u8; 6] = [0x80 | 0x20 | 0x2, 0x80, 0, 0, 0, 0];

/// A compressed message being reassembled from its frames.
struct Compressed {
    opcode: Data,
    body: Vec<u8>,
}

/// Wraps the upgraded socket. Writes pass straight through; reads are parsed
/// into frames when permessage-deflate was negotiated (and passed through
/// otherwise, or after an error tungstenite is to report).
///
/// Either way the socket is read into `raw`, `read_chunk` bytes at most, and
/// tungstenite is served from there: tungstenite zero-fills the buffer it
/// reads into before every read attempt, most of which find nothing (an echo
/// makes two or three), so the session gives it a small one (see
/// `TUNGSTENITE_READ` in `session.rs`), and this buffer, never zero-filled,
/// keeps reading the socket in large chunks.
pub struct InflatingStream<S> {
    inner: S,
    /// Read from `inner`: not yet a whole frame, or (passing through) not yet taken by tungstenite.
    raw: BytesMut,
    read_chunk: usize,
    /// Frames ready for tungstenite.
    ready: BytesMut,
    message: Option<Compressed>,
    /// A plain message's fragments are being passed through.
    plain_fragmented: bool,
    inflater: Option<Decompress>,
    max_message_size: usize,
    passthrough: bool,
    /// Data frames the session encoded itself ([`queue_frame`](Self::queue_frame)),
    /// not yet taken by the socket; `out_written` bytes of it were.
    out: Vec<u8>,
    out_written: usize,
}

/// A write buffer larger than this (a large message passed through it) is
/// not kept once written.
const KEEP_OUT: usize = 16 * 1024;

impl<S> InflatingStream<S> {
    /// Inflates compressed messages when `deflate`; up to `max_message_size` bytes each.
    /// Reads the socket `read_chunk` bytes at most at a time.
    pub fn new(inner: S, deflate: bool, max_message_size: usize, read_chunk: usize) -> Self {
        InflatingStream {
            inner,
            raw: BytesMut::new(),
            read_chunk: read_chunk.max(1),
            ready: BytesMut::new(),
            message: None,
            plain_fragmented: false,
            inflater: None,
            max_message_size,
            passthrough: !deflate,
            out: Vec::new(),
            out_written: 0,
        }
    }

    /// Appends a whole frame to write with the next flush. Whatever tungstenite
    /// writes afterwards (a pong, a close frame) goes after it; the caller has
    /// flushed tungstenite first, so no frame of tungstenite's is half written.
    pub fn queue_frame(&mut self, frame: &[u8]) {
        self.out.extend_from_slice(frame);
    }

    /// Bytes queued and not yet written.
    pub fn queued(&self) -> usize {
        self.out.len() - self.out_written
    }

    /// Handles the first whole frame of `raw`; false when more bytes are needed.
    fn process(&mut self) -> bool {
        let mut cursor = Cursor::new(&self.raw[..]);
        let (header, length) = match FrameHeader::parse(&mut cursor) {
            Ok(Some(parsed)) => parsed,
            Ok(None) => return false,
            Err(_) => return self.hand_over(),
        };
        if length > self.max_message_size as u64 {
            return self.hand_over(); // tungstenite refuses it from the header: 1009
        }
        let start = cursor.position() as usize;
        let end = start + length as usize;
        if self.raw.len() < end {
            self.raw.reserve(end - self.raw.len());
            return false;
        }
        let data = match header.opcode {
            OpCode::Data(data) => Some(data),
            OpCode::Control(_) => None,
        };
        let plain_bits = !header.rsv2 && !header.rsv3;
        match (data, self.message.is_some()) {
            (Some(Data::Text | Data::Binary), false)
                if header.rsv1 && plain_bits && !self.plain_fragmented =>
            {
                self.message = Some(Compressed {
                    opcode: data.expect("data"),
                    body: Vec::new(),
                });
                self.take_compressed(&header, start, end)
            }
            (Some(Data::Continue), true) if !header.rsv1 && plain_bits => {
                self.take_compressed(&header, start, end)
            }
            // Any other data frame inside a compressed message breaks it.
            (Some(_), true) => self.fail(),
            (data, _) => {
                if data.is_some() {
                    self.plain_fragmented = !header.is_final;
                }
                let frame = self.raw.split_to(end);
                self.ready.unsplit(frame);
                true
            }
        }
    }

    fn take_compressed(&mut self, header: &FrameHeader, start: usize, end: usize) -> bool {
        let frame = self.raw.split_to(end);
        let message = self.message.as_mut().expect("a compressed message");
        let offset = message.body.len();
        message.body.extend_from_slice(&frame[start..]);
        if let Some(mask) = header.mask {
            for (i, byte) in message.body[offset..].iter_mut().enumerate() {
                *byte ^= mask[i & 3];
            }
        }
        if message.body.len() > self.max_message_size {
            let opcode = message.opcode;
            return self.oversized(opcode);
        }
        if !header.is_final {
            return true;
        }
        let Compressed { opcode, body } = self.message.take().expect("a compressed message");
        match self.inflate(&body) {
            Inflated::Message(plain) => {
                let header = FrameHeader {
                    opcode: OpCode::Data(opcode),
                    mask: Some([0; 4]),
                    ..FrameHeader::default()
                };
                let mut head = Vec::with_capacity(14);
                header
                    .format(plain.len() as u64, &mut head)
                    .expect("writing to a Vec");
                self.ready.extend_from_slice(&head);
                self.ready.extend_from_slice(&plain);
                true
            }
            Inflated::TooLarge => self.oversized(opcode),
            Inflated::Broken => self.fail(),
        }
    }

    fn inflate(&mut self, body: &[u8]) -> Inflated {
        let limit = self.max_message_size;
        let inflater = self.inflater.get_or_insert_with(|| Decompress::new(false));
        let mut out = Vec::with_capacity((body.len() * 4).max(64).min(limit + 1));
        for input in [body, &SYNC_TAIL[..]] {
            let mut consumed = 0;
            loop {
                if out.len() == out.capacity() {
                    if out.len() > limit {
                        return Inflated::TooLarge;
                    }
                    out.reserve_exact(out.len().max(1024).min(limit + 1 - out.len()));
                }
                let (before_in, before_out) = (inflater.total_in(), inflater.total_out());
                let status = match inflater.decompress_vec(
                    &input[consumed..],
                    &mut out,
                    FlushDecompress::Sync,
                ) {
                    Ok(status) => status,
                    Err(_) => return Inflated::Broken,
                };
                consumed += (inflater.total_in() - before_in) as usize;
                if status == Status::StreamEnd {
                    // The client ended its deflate stream (BFINAL): the next message starts a new one.
                    inflater.reset(false);
                    return if out.len() > limit {
                        Inflated::TooLarge
                    } else {
                        Inflated::Message(out)
                    };
                }
                let progress =
                    inflater.total_in() != before_in || inflater.total_out() != before_out;
                if consumed == input.len() && out.len() < out.capacity() {
                    break;
                }
                if !progress && out.len() < out.capacity() {
                    return Inflated::Broken;
                }
            }
        }
        if out.len() > limit {
            Inflated::TooLarge
        } else {
            Inflated::Message(out)
        }
    }

    /// A frame header announcing one byte over the limit: tungstenite closes with 1009.
    fn oversized(&mut self, opcode: Data) -> bool {
        let header = FrameHeader {
            opcode: OpCode::Data(opcode),
            mask: Some([0; 4]),
            ..FrameHeader::default()
        };
        let mut head = Vec::with_capacity(14);
        header
            .format(self.max_message_size as u64 + 1, &mut head)
            .expect("writing to a Vec");
        self.ready.extend_from_slice(&head);
        self.message = None;
        self.passthrough = true;
        true
    }

    fn fail(&mut self) -> bool {
        self.ready.extend_from_slice(&PROTOCOL_ERROR);
        self.message = None;
        self.passthrough = true;
        true
    }

    /// From here on bytes pass unchanged; tungstenite finds what is wrong with them.
    fn hand_over(&mut self) -> bool {
        self.passthrough = true;
        true
    }
}

enum Inflated {
    Message(Vec<u8>),
    TooLarge,
    Broken,
}

impl<S: AsyncRead + Unpin> AsyncRead for InflatingStream<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        loop {
            if !this.ready.is_empty() {
                let n = buf.remaining().min(this.ready.len());
                buf.put_slice(&this.ready.split_to(n));
                return Poll::Ready(Ok(()));
            }
            if this.passthrough {
                if this.raw.is_empty() {
                    this.raw.reserve(this.read_chunk);
                    if ready!(poll_read_buf(Pin::new(&mut this.inner), cx, &mut this.raw))? == 0 {
                        return Poll::Ready(Ok(())); // the end
                    }
                }
                let n = buf.remaining().min(this.raw.len());
                buf.put_slice(&this.raw[..n]);
                this.raw.advance(n);
                return Poll::Ready(Ok(()));
            }
            if this.process() {
                continue;
            }
            this.raw.reserve(this.read_chunk);
            if ready!(poll_read_buf(Pin::new(&mut this.inner), cx, &mut this.raw))? == 0 {
                // The peer is gone: what is left is an incomplete frame, and then the end.
                this.passthrough = true;
            }
        }
    }
}

impl<S: AsyncWrite + Unpin> InflatingStream<S> {
    /// Writes the queued frames; every write of tungstenite's waits for them.
    fn poll_write_queued(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while self.out_written < self.out.len() {
            let n =
                ready!(Pin::new(&mut self.inner).poll_write(cx, &self.out[self.out_written..]))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            self.out_written += n;
        }
        self.out_written = 0;
        if self.out.capacity() > KEEP_OUT {
            self.out = Vec::new();
        } else {
            self.out.clear();
        }
        Poll::Ready(Ok(()))
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for InflatingStream<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        ready!(this.poll_write_queued(cx))?;
        Pin::new(&mut this.inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        ready!(this.poll_write_queued(cx))?;
        Pin::new(&mut this.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        ready!(this.poll_write_queued(cx))?;
        Pin::new(&mut this.inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        ready!(this.poll_write_queued(cx))?;
        Pin::new(&mut this.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::{Compress, Compression, FlushCompress};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    fn masked_frame(first: u8, payload: &[u8]) -> Vec<u8> {
        let mask = [1, 2, 3, 4];
        let mut frame = vec![first];
        match payload.len() {
            n if n < 126 => frame.push(0x80 | n as u8),
            n if n < 65536 => {
                frame.push(0x80 | 126);
                frame.extend_from_slice(&(n as u16).to_be_bytes());
            }
            n => {
                frame.push(0x80 | 127);
                frame.extend_from_slice(&(n as u64).to_be_bytes());
            }
        }
        frame.extend_from_slice(&mask);
        frame.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i & 3]));
        frame
    }

    fn deflated(data: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(data.len() + 64);
        Compress::new(Compression::default(), false)
            .compress_vec(data, &mut out, FlushCompress::Sync)
            .unwrap();
        assert!(out.ends_with(&SYNC_TAIL));
        out.truncate(out.len() - 4);
        out
    }

    async fn read_all(wire: Vec<u8>, max: usize) -> Vec<u8> {
        let mut stream = InflatingStream::new(Cursor::new(wire), true, max, 8 * 1024);
        let mut out = Vec::new();
        stream.read_to_end(&mut out).await.unwrap();
        out
    }

    #[tokio::test]
    async fn a_compressed_message_becomes_one_plain_frame() {
        let text = "compress me ".repeat(100);
        let out = read_all(
            masked_frame(0x80 | 0x40 | 0x1, &deflated(text.as_bytes())),
            1 << 20,
        )
        .await;
        let (header, length) = FrameHeader::parse(&mut Cursor::new(&out)).unwrap().unwrap();
        assert!(!header.rsv1 && header.is_final && header.opcode == OpCode::Data(Data::Text));
        assert_eq!(length as usize, text.len());
        assert!(out.ends_with(text.as_bytes()));
    }

    #[tokio::test]
    async fn fragments_and_interleaved_control_frames() {
        let body = deflated(&b"x".repeat(5000));
        let (a, b) = body.split_at(body.len() / 2);
        let mut wire = masked_frame(0x40 | 0x2, a); // first fragment, RSV1
        let ping = masked_frame(0x80 | 0x9, b"hi");
        wire.extend_from_slice(&ping);
        wire.extend(masked_frame(0x80, b)); // final continuation
        let plain = masked_frame(0x82, b"plain");
        wire.extend_from_slice(&plain);
        let out = read_all(wire, 1 << 20).await;
        assert!(out.starts_with(&ping));
        assert!(out.ends_with(&plain));
        assert_eq!(out.len(), ping.len() + 2 + 2 + 4 + 5000 + plain.len());
    }

    #[tokio::test]
    async fn a_message_inflating_past_the_limit_announces_an_oversized_frame() {
        let out = read_all(
            masked_frame(0x80 | 0x40 | 0x2, &deflated(&vec![0u8; 100_000])),
            1000,
        )
        .await;
        let (_, length) = FrameHeader::parse(&mut Cursor::new(&out)).unwrap().unwrap();
        assert_eq!(length, 1001);
        assert!(out.len() < 20);
    }

    #[tokio::test]
    async fn compressed_fragments_over_the_limit_stop_before_inflating() {
        let mut wire = masked_frame(0x40 | 0x2, &[0; 600]); // RSV1, binary, not final
        wire.extend(masked_frame(0x00, &[0; 600])); // continuation: 1,200 compressed bytes > 1,000
        wire.extend(masked_frame(0x80, &[0; 10])); // never looked at
        let out = read_all(wire, 1000).await;
        let (_, length) = FrameHeader::parse(&mut Cursor::new(&out)).unwrap().unwrap();
        assert_eq!(length, 1001);
    }

    #[tokio::test]
    async fn a_data_frame_inside_a_compressed_message_is_a_protocol_error() {
        let mut wire = masked_frame(0x40 | 0x1, &deflated(b"part")); // RSV1, text, not final
        wire.extend(masked_frame(
            0x81,
            b"a new message before the end of the last",
        ));
        assert!(read_all(wire, 1000).await.starts_with(&PROTOCOL_ERROR)); // what follows is never read
    }

    #[tokio::test]
    async fn garbage_is_a_protocol_error_and_plain_streams_pass_unchanged() {
        let out = read_all(masked_frame(0x80 | 0x40 | 0x1, &[0xff; 16]), 1000).await;
        assert_eq!(out, PROTOCOL_ERROR);
        let wire = masked_frame(0x81, b"plain");
        let mut stream = InflatingStream::new(Cursor::new(wire.clone()), false, 1000, 8 * 1024);
        let mut out = Vec::new();
        stream.read_to_end(&mut out).await.unwrap();
        assert_eq!(out, wire);
    }

    #[tokio::test]
    async fn passing_through_reads_the_socket_in_chunks_and_serves_small_reads() {
        let wire: Vec<u8> = (0..5000u32).map(|i| i as u8).collect();
        let mut stream = InflatingStream::new(Cursor::new(wire.clone()), false, 1 << 20, 8 * 1024);
        let mut buf = [0u8; 1024];
        let n = stream.read(&mut buf).await.unwrap();
        assert_eq!(&buf[..n], &wire[..1024]);
        // One read of the socket took it all; the rest is served from the buffer.
        assert_eq!(stream.inner.position(), 5000);
        let mut out = buf[..n].to_vec();
        stream.read_to_end(&mut out).await.unwrap();
        assert_eq!(out, wire);
    }

    #[tokio::test]
    async fn queued_frames_are_written_whole_before_anything_written_after_them() {
        // A pipe that holds at most 3 bytes: every write is partial.
        let (socket, mut peer) = tokio::io::duplex(3);
        let mut stream = InflatingStream::new(socket, false, 1000, 1024);
        let writing = async move {
            stream.queue_frame(b"first frame");
            stream.queue_frame(b", second");
            assert_eq!(stream.queued(), 19);
            stream.write_all(b"; tungstenite's").await.unwrap();
            assert_eq!(stream.queued(), 0);
            stream.queue_frame(b"; last");
            stream.shutdown().await.unwrap();
        };
        let mut got = Vec::new();
        let ((), read) = tokio::join!(writing, peer.read_to_end(&mut got));
        read.unwrap();
        assert_eq!(got, b"first frame, second; tungstenite's; last");
    }
}

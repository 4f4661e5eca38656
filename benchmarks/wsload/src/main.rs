//! wsload: a WebSocket load client for benchmarks/ws_bench.py, on one thread.
//!
//!     wsload echo URL CONNECTIONS SECONDS SIZE
//!         CONNECTIONS clients each send a SIZE-byte text message and wait for
//!         its echo, over and over, for SECONDS (after a 1 s warm-up).
//!     wsload fanout URL SUBSCRIBERS SECONDS SIZE WINDOW
//!         SUBSCRIBERS clients connect to URL; one more connects to URL?pub=1
//!         and publishes SIZE-byte messages, keeping at most WINDOW broadcasts
//!         that have not yet reached every subscriber. Subscribers count frames
//!         in the raw bytes (see `subscribe_raw`), the cheapest possible reader.
//!
//! Prints `start` and `stop` lines around the measured part, then one JSON
//! line: messages (round trips, or deliveries to subscribers), seconds,
//! messages per second, and for echo the median and p99 round trip in µs.

use std::cell::Cell;
use std::rc::Rc;
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::Notify;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{connect_async, MaybeTlsStream, WebSocketStream};

type Ws = WebSocketStream<MaybeTlsStream<tokio::net::TcpStream>>;

fn usage() -> ! {
    eprintln!("usage: wsload echo URL CONNECTIONS SECONDS SIZE | wsload fanout URL SUBSCRIBERS SECONDS SIZE WINDOW");
    std::process::exit(2)
}

fn arg<T: std::str::FromStr>(args: &[String], i: usize) -> T {
    args.get(i).and_then(|a| a.parse().ok()).unwrap_or_else(|| usage())
}

async fn open(url: &str) -> Ws {
    let mut tries = 0;
    loop {
        match connect_async(url).await {
            Ok((ws, _)) => return ws,
            // A burst of 1,000 connects may overflow a small accept backlog: try again.
            Err(e) if tries < 20 => {
                tries += 1;
                eprintln!("wsload: connect failed ({e}), retrying");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Err(e) => panic!("wsload: cannot connect to {url}: {e}"),
        }
    }
}

/// Tells ws_bench.py where the measured part begins and ends (it samples CPU times there).
fn mark(what: &str) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{what}");
    let _ = out.flush();
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime");
    let local = tokio::task::LocalSet::new();
    match args.get(1).map(String::as_str) {
        Some("echo") => local.block_on(&runtime, echo(arg(&args, 2), arg(&args, 3), arg(&args, 4), arg(&args, 5))),
        Some("fanout") => {
            local.block_on(&runtime, fanout(arg(&args, 2), arg(&args, 3), arg(&args, 4), arg(&args, 5), arg(&args, 6)))
        }
        _ => usage(),
    }
}

async fn echo(url: String, connections: usize, seconds: f64, size: usize) {
    let payload = "x".repeat(size);
    let warmup = Instant::now() + Duration::from_secs(1);
    let end = warmup + Duration::from_secs_f64(seconds);
    let mut clients = Vec::new();
    for _ in 0..connections {
        let ws = open(&url).await;
        let payload = payload.clone();
        clients.push(tokio::task::spawn_local(async move {
            let mut ws = ws;
            let mut samples = Vec::new();
            loop {
                let sent = Instant::now();
                if sent >= end {
                    break;
                }
                ws.send(Message::text(payload.clone())).await.expect("send");
                match ws.next().await {
                    Some(Ok(Message::Text(t))) if t.len() == payload.len() => {}
                    other => panic!("wsload: expected the echo, got {other:?}"),
                }
                if sent >= warmup {
                    samples.push(sent.elapsed().as_micros() as u64);
                }
            }
            let _ = ws.close(None).await;
            samples
        }));
    }
    let marks = tokio::task::spawn_local(async move {
        tokio::time::sleep_until(warmup.into()).await;
        mark("start");
        tokio::time::sleep_until(end.into()).await;
        mark("stop");
    });
    let mut samples = Vec::new();
    for client in clients {
        samples.extend(client.await.expect("a client"));
    }
    // The clients stop at `end` too: without this wait the process could end before
    // "stop" is printed (ws_bench then reported the run as failed).
    marks.await.expect("the marks");
    samples.sort_unstable();
    let at = |q: f64| samples.get(((samples.len() as f64 * q) as usize).min(samples.len().saturating_sub(1))).copied().unwrap_or(0);
    println!(
        "{{\"messages\": {}, \"seconds\": {seconds}, \"per_second\": {:.0}, \"p50_us\": {}, \"p99_us\": {}}}",
        samples.len(),
        samples.len() as f64 / seconds,
        at(0.5),
        at(0.99)
    );
}

async fn fanout(url: String, subscribers: usize, seconds: f64, size: usize, window: u64) {
    let delivered = Rc::new(Cell::new(0u64));
    let progress = Rc::new(Notify::new());
    let mut subs = Vec::new();
    for _ in 0..subscribers {
        let (stream, early) = subscribe_raw(&url).await;
        let (delivered, progress) = (delivered.clone(), progress.clone());
        subs.push(tokio::task::spawn_local(async move {
            let (mut read, mut write) = stream.into_split();
            let mut frames = FrameCounter::default();
            let mut buf = vec![0u8; 64 * 1024];
            let mut filled = early.len();
            buf[..filled].copy_from_slice(&early);
            loop {
                let (messages, pong) = frames.feed(&buf[..filled]);
                if messages > 0 {
                    delivered.set(delivered.get() + messages);
                    progress.notify_one();
                }
                if let Some(pong) = pong {
                    if write.write_all(&pong).await.is_err() {
                        break;
                    }
                }
                if frames.closed {
                    break;
                }
                match read.read(&mut buf).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => filled = n,
                }
            }
        }));
    }
    let separator = if url.contains('?') { '&' } else { '?' };
    let ws = open(&format!("{url}{separator}pub=1")).await;
    let total = subscribers as u64;
    let mut publisher = Publisher { ws, sent: 0, delivered: delivered.clone(), progress, total, window, size };
    publisher.run(Instant::now() + Duration::from_secs(1)).await; // warm-up
    mark("start");
    let started = Instant::now();
    let messages = publisher.run(started + Duration::from_secs_f64(seconds)).await;
    let elapsed = started.elapsed().as_secs_f64();
    mark("stop");
    let complete = delivered.get() == publisher.sent * total;
    println!(
        "{{\"messages\": {messages}, \"seconds\": {elapsed:.3}, \"per_second\": {:.0}, \"broadcasts_per_second\": {:.1}, \"complete\": {complete}}}",
        messages as f64 / elapsed,
        messages as f64 / elapsed / total as f64
    );
    let _ = publisher.ws.close(None).await;
    for sub in subs {
        sub.abort();
    }
}

struct Publisher {
    ws: Ws,
    sent: u64,
    delivered: Rc<Cell<u64>>,
    progress: Rc<Notify>,
    total: u64,
    window: u64,
    size: usize,
}

impl Publisher {
    /// Publishes until `until`, then waits for what is in flight; returns the deliveries counted meanwhile.
    async fn run(&mut self, until: Instant) -> u64 {
        let start = self.delivered.get();
        while Instant::now() < until {
            // A broadcast only counts once every subscriber has it, so the
            // publisher stays at most `window` messages ahead of the server.
            while self.sent - self.delivered.get() / self.total < self.window {
                let mut body = format!("{} ", self.sent);
                body.extend(std::iter::repeat_n('x', self.size.saturating_sub(body.len())));
                self.ws.send(Message::text(body)).await.expect("publish");
                self.sent += 1;
            }
            let _ = tokio::time::timeout(Duration::from_millis(100), self.progress.notified()).await;
        }
        let deadline = Instant::now() + Duration::from_secs(30);
        while self.delivered.get() < self.sent * self.total && Instant::now() < deadline {
            let _ = tokio::time::timeout(Duration::from_millis(100), self.progress.notified()).await;
        }
        self.delivered.get() - start
    }
}

/// Opens a subscriber with a hand-written handshake: subscribers only count
/// messages, so they skip over frames in the raw bytes instead of building
/// messages, and 1,000 of them cost the client little next to the server.
/// Returns the socket and whatever arrived after the 101's head.
async fn subscribe_raw(url: &str) -> (tokio::net::TcpStream, Vec<u8>) {
    let rest = url.strip_prefix("ws://").expect("a ws:// URL");
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let mut tries = 0;
    let mut stream = loop {
        match tokio::net::TcpStream::connect(authority).await {
            Ok(stream) => break stream,
            Err(e) if tries < 20 => {
                tries += 1;
                eprintln!("wsload: connect failed ({e}), retrying");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Err(e) => panic!("wsload: cannot connect to {authority}: {e}"),
        }
    };
    stream.set_nodelay(true).expect("TCP_NODELAY");
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: {authority}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).await.expect("send the handshake");
    let mut head = Vec::new();
    let mut buf = [0u8; 4096];
    let end = loop {
        let n = stream.read(&mut buf).await.expect("read the handshake");
        assert!(n > 0, "wsload: the server hung up during the handshake");
        head.extend_from_slice(&buf[..n]);
        if let Some(at) = head.windows(4).position(|w| w == b"\r\n\r\n") {
            break at + 4;
        }
    };
    assert!(head.starts_with(b"HTTP/1.1 101"), "wsload: upgrade refused: {}", String::from_utf8_lossy(&head));
    (stream, head.split_off(end))
}

/// Counts the data messages in a server's byte stream (frames unmasked),
/// answering pings and noticing a close.
#[derive(Default)]
struct FrameCounter {
    /// Bytes of a header not complete yet.
    head: Vec<u8>,
    /// Payload bytes of the current frame still to come.
    skip: u64,
    /// The current frame is a ping: its payload, for the pong.
    ping: Option<Vec<u8>>,
    closed: bool,
}

impl FrameCounter {
    /// The messages that ended in `data`, and a pong to send if a ping ended in it.
    fn feed(&mut self, mut data: &[u8]) -> (u64, Option<Vec<u8>>) {
        let (mut messages, mut pong) = (0, None);
        while !data.is_empty() {
            if self.skip > 0 {
                let n = self.skip.min(data.len() as u64) as usize;
                if let Some(ping) = &mut self.ping {
                    ping.extend_from_slice(&data[..n]);
                }
                self.skip -= n as u64;
                data = &data[n..];
            } else {
                let take = (14 - self.head.len()).min(data.len());
                let before = self.head.len();
                self.head.extend_from_slice(&data[..take]);
                let Some((header_len, payload_len)) = header(&self.head) else {
                    data = &data[take..];
                    continue;
                };
                data = &data[header_len - before..];
                let first = self.head[0];
                self.head.clear();
                self.skip = payload_len;
                self.ping = None;
                match first & 0x0F {
                    0x0 | 0x1 | 0x2 if first & 0x80 != 0 => messages += 1,
                    0x8 => self.closed = true,
                    0x9 => self.ping = Some(Vec::new()),
                    _ => {}
                }
            }
            if self.skip == 0 {
                if let Some(payload) = self.ping.take() {
                    let mut frame = vec![0x8A, 0x80 | payload.len() as u8, 0, 0, 0, 0]; // masked with a zero key
                    frame.extend_from_slice(&payload);
                    pong = Some(frame);
                }
            }
        }
        (messages, pong)
    }
}

/// (header length, payload length) of an unmasked frame header, once complete.
fn header(bytes: &[u8]) -> Option<(usize, u64)> {
    let len = *bytes.get(1)? & 0x7F;
    match len {
        126 => Some((4, u16::from_be_bytes(bytes.get(2..4)?.try_into().ok()?) as u64)),
        127 => Some((10, u64::from_be_bytes(bytes.get(2..10)?.try_into().ok()?))),
        n => Some((2, n as u64)),
    }
}

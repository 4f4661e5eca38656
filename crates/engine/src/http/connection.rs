//! One client connection: hyper's HTTP/1.1 state machine plus the timers
//! hyper does not have (408 for a slow header section, idle keep-alive).

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicU8, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::sync::{watch, OwnedSemaphorePermit};

use super::raw_head::{HeadScanner, Refused};
use super::service::{respond, PermitSlot, Shared};
use super::stats::ServerStats;
use super::Handler;

const IDLE: u8 = 0;
const READING_HEAD: u8 = 1;
const IN_FLIGHT: u8 = 2;

/// Where a connection is in its request cycle, and since when.
pub(crate) struct Activity {
    phase: AtomicU8,
    in_flight: AtomicU64,
    since_ms: AtomicU64,
    epoch: Instant,
    timed_out: AtomicBool,
}

impl Activity {
    fn new() -> Self {
        Activity {
            // A client that connects and sends nothing is a slow header section.
            phase: AtomicU8::new(READING_HEAD),
            in_flight: AtomicU64::new(0),
            since_ms: AtomicU64::new(0),
            epoch: Instant::now(),
            timed_out: AtomicBool::new(false),
        }
    }

    fn now_ms(&self) -> u64 {
        self.epoch.elapsed().as_millis() as u64
    }

    fn set(&self, phase: u8) {
        self.since_ms.store(self.now_ms(), Ordering::Relaxed);
        self.phase.store(phase, Ordering::Release);
    }

    pub(crate) fn request_started(&self) {
        self.in_flight.fetch_add(1, Ordering::AcqRel);
        self.set(IN_FLIGHT);
    }

    pub(crate) fn response_finished(&self) {
        if self.in_flight.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.set(IDLE);
        }
    }

    fn bytes_read(&self) {
        if self.phase.load(Ordering::Acquire) == IDLE {
            self.set(READING_HEAD);
        }
    }

    /// What the watchdog should do now, or when to look again.
    fn verdict(&self, header_timeout: Duration, keepalive: Duration) -> Verdict {
        let phase = self.phase.load(Ordering::Acquire);
        let limit = match phase {
            IDLE => keepalive,
            READING_HEAD => header_timeout,
            _ => return Verdict::CheckAfter(header_timeout.min(keepalive)),
        };
        let elapsed = Duration::from_millis(self.now_ms().saturating_sub(self.since_ms.load(Ordering::Relaxed)));
        if elapsed < limit {
            // Phase changes do not wake the watchdog, so never sleep past the
            // shorter timer: a connection that reads its head (header
            // timeout) and then goes idle must still close on the keep-alive
            // timer, not when the header timer would have fired.
            Verdict::CheckAfter((limit - elapsed).min(header_timeout.min(keepalive)))
        } else if phase == IDLE {
            Verdict::CloseIdle
        } else {
            Verdict::HeaderTimeout
        }
    }
}

enum Verdict {
    CheckAfter(Duration),
    CloseIdle,
    HeaderTimeout,
}

/// The socket as hyper sees it: reads mark activity, and once `timed_out` is
/// set the next read sends 408 and reports end of stream so hyper closes. A
/// head that [`HeadScanner`] refuses (bare LF, Transfer-Encoding with
/// Content-Length) ends the same way, with a 400.
struct TrackedIo {
    stream: TcpStream,
    activity: Arc<Activity>,
    scanner: HeadScanner,
    refused: bool,
    stats: Arc<ServerStats>,
}

const TIMEOUT_RESPONSE: &[u8] =
    b"HTTP/1.1 408 Request Timeout\r\nconnection: close\r\ncontent-length: 0\r\n\r\n";
/// The 400 for a head [`HeadScanner`] refused; hyper never saw it.
fn refusal(Refused(detail): Refused) -> Vec<u8> {
    let body = format!("{{\"detail\":\"{detail}\"}}");
    format!(
        "HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

impl AsyncRead for TrackedIo {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        if self.activity.timed_out.load(Ordering::Acquire) {
            // Best effort: the response is tiny and the send buffer is empty
            // while a request head is being read.
            let _ = self.stream.try_write(TIMEOUT_RESPONSE);
            return Poll::Ready(Ok(()));
        }
        if self.refused {
            return Poll::Ready(Ok(()));
        }
        let before = buf.filled().len();
        let res = Pin::new(&mut self.stream).poll_read(cx, buf);
        if matches!(res, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.activity.bytes_read();
            let this = &mut *self;
            if let Err(refused) = this.scanner.scan(&buf.filled()[before..]) {
                this.refused = true;
                this.stats.bad_requests.fetch_add(1, Ordering::Relaxed);
                // Only between requests: a response being written must not be interleaved.
                if this.activity.in_flight.load(Ordering::Acquire) == 0 {
                    let _ = this.stream.try_write(&refusal(refused));
                }
                buf.set_filled(before); // hyper never sees the head: end of stream, it closes
            }
        }
        res
    }
}

impl AsyncWrite for TrackedIo {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}

/// Serves one connection until the client leaves, a timer fires, or shutdown
/// (`graceful` finishes in-flight requests; `force` drops the connection).
pub(crate) async fn serve_connection<H: Handler>(
    stream: TcpStream,
    peer: SocketAddr,
    shared: Arc<Shared<H>>,
    permit: OwnedSemaphorePermit,
    mut graceful: watch::Receiver<bool>,
    mut force: watch::Receiver<bool>,
) {
    let activity = Arc::new(Activity::new());
    let io = TokioIo::new(TrackedIo {
        stream,
        activity: activity.clone(),
        scanner: HeadScanner::new(shared.config.max_header_size),
        refused: false,
        stats: shared.stats.clone(),
    });
    let service = {
        let shared = shared.clone();
        let activity = activity.clone();
        // A WebSocket session takes the permit over: it still counts against
        // max_connections after this task ends.
        let slot: PermitSlot = Arc::new(std::sync::Mutex::new(Some(permit)));
        service_fn(move |req| respond(shared.clone(), activity.clone(), slot.clone(), peer, req))
    };
    // Not `pipeline_flush(true)`: with it hyper skips flushing while its read
    // buffer holds unparsed bytes, so a response waits behind an incomplete
    // pipelined request or a stray CRLF, and the 400/431 for a bad head is
    // never sent at all. `max_buf_size` cannot go below 8 KiB, so the head
    // limit is enforced with `max_header_size`.
    let conn = http1::Builder::new()
        .keep_alive(true)
        .max_buf_size(shared.config.max_header_size.max(8192))
        .max_header_size(shared.config.max_header_size)
        .serve_connection(io, service)
        .with_upgrades();
    let mut conn = std::pin::pin!(conn);
    let config = &shared.config;
    let mut shutting_down = *graceful.borrow();
    if shutting_down {
        conn.as_mut().graceful_shutdown();
    }
    loop {
        let wait = match activity.verdict(config.header_timeout, config.keepalive_timeout) {
            Verdict::CheckAfter(d) => d,
            Verdict::CloseIdle => return,
            Verdict::HeaderTimeout => {
                shared.stats.timeouts.fetch_add(1, Ordering::Relaxed);
                activity.timed_out.store(true, Ordering::Release);
                // hyper reads again on the next poll, sees the end, and closes.
                let _ = tokio::time::timeout(Duration::from_secs(1), conn.as_mut()).await;
                return;
            }
        };
        tokio::select! {
            _ = conn.as_mut() => return,
            _ = tokio::time::sleep(wait) => {}
            _ = graceful.changed(), if !shutting_down => {
                shutting_down = true;
                conn.as_mut().graceful_shutdown();
            }
            _ = force.changed() => return,
        }
    }
}


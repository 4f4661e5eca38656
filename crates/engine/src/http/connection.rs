//! One client connection: hyper's HTTP/1.1 state machine plus the timers
//! hyper does not have (408 for a slow header section, idle keep-alive).
//!
//! A keep-alive connection idle for [`PARK_AFTER`] is *parked*: hyper's state
//! (two 8 KiB buffers, the dispatcher) is dropped and only the socket is
//! watched; the client's next request builds it again. An idle connection
//! then costs the socket and about 2 KiB (this task and its socket
//! registration).

use std::io;
use std::net::SocketAddr;
use std::pin::{pin, Pin};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicU8, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::Bytes;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::sync::{watch, OwnedSemaphorePermit};

use super::memory_release;
use super::raw_head::{HeadScanner, Refused};
use super::service::{respond, PermitSlot, Shared};
use super::stats::ServerStats;
use super::woken::{WakeFlag, Woken};
use super::{Handler, ServerConfig};

/// How long a keep-alive connection waits idle before it is parked (see the module docs).
const PARK_AFTER: Duration = Duration::from_secs(1);

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
    /// Set by the watchdog: the next read, if it would wait, ends hyper's connection.
    park_requested: AtomicBool,
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
            park_requested: AtomicBool::new(false),
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
        // No clock read: `verdict` never times an in-flight connection.
        self.phase.store(IN_FLIGHT, Ordering::Release);
    }

    pub(crate) fn response_finished(&self) {
        if self.in_flight.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.set(IDLE);
        }
    }

    fn is_idle(&self) -> bool {
        self.phase.load(Ordering::Acquire) == IDLE && self.in_flight.load(Ordering::Acquire) == 0
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
            // Phase changes do not wake the watchdog: looking again within
            // PARK_AFTER parks a connection that goes idle within twice that.
            _ => return Verdict::CheckAfter(header_timeout.min(keepalive).min(PARK_AFTER)),
        };
        let elapsed = Duration::from_millis(
            self.now_ms()
                .saturating_sub(self.since_ms.load(Ordering::Relaxed)),
        );
        if elapsed < limit {
            // Phase changes do not wake the watchdog, so never sleep past the
            // shorter timer: a connection that reads its head (header
            // timeout) and then goes idle must still close on the keep-alive
            // timer, not when the header timer would have fired.
            let mut wait = (limit - elapsed).min(header_timeout.min(keepalive));
            if !self.park_requested.load(Ordering::Acquire) {
                if phase == IDLE && elapsed >= PARK_AFTER {
                    return Verdict::Park;
                }
                wait = wait.min(if phase == IDLE {
                    PARK_AFTER - elapsed
                } else {
                    PARK_AFTER
                });
            }
            Verdict::CheckAfter(wait)
        } else if phase == IDLE {
            Verdict::CloseIdle
        } else {
            Verdict::HeaderTimeout
        }
    }
}

enum Verdict {
    CheckAfter(Duration),
    Park,
    CloseIdle,
    HeaderTimeout,
}

/// The socket as hyper sees it: reads mark activity, and once `timed_out` is
/// set the next read sends 408 and reports end of stream so hyper closes. A
/// head that [`HeadScanner`] refuses (bare LF, Transfer-Encoding with
/// Content-Length) ends the same way, with a 400. A park request ends it the
/// same way too (`parked`), but only between requests and when the socket has
/// nothing to read, and without shutting the socket down.
struct TrackedIo {
    stream: TcpStream,
    activity: Arc<Activity>,
    scanner: HeadScanner,
    refused: bool,
    parked: bool,
    /// Bytes hyper had read but not parsed when it was parked, read again first.
    unread: Bytes,
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
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        if self.activity.timed_out.load(Ordering::Acquire) {
            // Best effort: the response is tiny and the send buffer is empty
            // while a request head is being read.
            let _ = self.stream.try_write(TIMEOUT_RESPONSE);
            return Poll::Ready(Ok(()));
        }
        if self.refused {
            return Poll::Ready(Ok(()));
        }
        if !self.unread.is_empty() {
            let n = self.unread.len().min(buf.remaining());
            buf.put_slice(&self.unread.split_to(n)); // scanned when first read
            return Poll::Ready(Ok(()));
        }
        if self.activity.park_requested.load(Ordering::Acquire)
            && self.activity.is_idle()
            && self.scanner.between_requests()
        {
            if self.stream.poll_read_ready(cx).is_pending() {
                self.parked = true;
                return Poll::Ready(Ok(())); // end of stream: hyper finishes, and is dropped
            }
            self.activity.park_requested.store(false, Ordering::Release); // the client is back
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
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
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
        if self.parked {
            return Poll::Ready(Ok(())); // hyper is done, the connection is not
        }
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
    let mut io = TrackedIo {
        stream,
        activity: activity.clone(),
        scanner: HeadScanner::new(shared.config.max_header_size),
        refused: false,
        parked: false,
        unread: Bytes::new(),
        stats: shared.stats.clone(),
    };
    let mut service = {
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
    let mut builder = http1::Builder::new();
    builder
        .keep_alive(true)
        .max_buf_size(shared.config.max_header_size.max(8192))
        .max_header_size(shared.config.max_header_size);
    let config = &shared.config;
    let mut shutting_down = *graceful.borrow();
    let signal_woken = Arc::new(WakeFlag::default());
    loop {
        // Boxed: while parked, the task keeps a pointer, not hyper's state.
        let mut conn = Box::new(
            builder
                .serve_connection(TokioIo::new(io), service)
                .with_upgrades(),
        );
        if shutting_down {
            Pin::new(&mut *conn).graceful_shutdown();
        }
        let finished = loop {
            let wait = match activity.verdict(config.header_timeout, config.keepalive_timeout) {
                Verdict::CheckAfter(d) => d,
                Verdict::Park => {
                    // hyper reads again when polled below, and parks if the socket is quiet.
                    // If the client is back instead, its request needs the usual looks
                    // (header timer, parking once idle again) from the next verdict on.
                    activity.park_requested.store(true, Ordering::Release);
                    config
                        .header_timeout
                        .min(config.keepalive_timeout)
                        .min(PARK_AFTER)
                }
                Verdict::CloseIdle => return,
                Verdict::HeaderTimeout => {
                    shared.stats.timeouts.fetch_add(1, Ordering::Relaxed);
                    activity.timed_out.store(true, Ordering::Release);
                    // hyper reads again on the next poll, sees the end, and closes.
                    let _ = tokio::time::timeout(Duration::from_secs(1), &mut *conn).await;
                    return;
                }
            };
            // Polled only when its timer or a signal fired, not on every read and response.
            let next = pin!(next_signal(wait, &mut graceful, &mut force, shutting_down));
            let signal = Woken::new(next, &signal_woken);
            tokio::select! {
                result = &mut *conn => break result,
                signal = signal => match signal {
                    Signal::Tick => {}
                    Signal::Graceful => {
                        shutting_down = true;
                        Pin::new(&mut *conn).graceful_shutdown();
                    }
                    Signal::Force => return,
                },
            }
        };
        // Done: the client left, an error, an upgrade (the session owns the
        // socket now), or parked.
        let Some(http1::Parts {
            io: hyper_io,
            read_buf,
            service: idle_service,
            ..
        }) = finished.ok().and_then(|()| conn.into_parts())
        else {
            return;
        };
        io = hyper_io.into_inner();
        if !io.parked {
            return;
        }
        memory_release::connection_parked();
        io.parked = false;
        io.unread = unpinned(read_buf);
        io.scanner.release_memory();
        service = idle_service;
        if io.unread.is_empty() {
            let parked = &shared.stats.connections_parked;
            parked.fetch_add(1, Ordering::Relaxed);
            let client_back =
                wait_while_parked(&io.stream, &activity, config, &mut graceful, &mut force).await;
            parked.fetch_sub(1, Ordering::Relaxed);
            if !client_back {
                return;
            }
        }
        activity.park_requested.store(false, Ordering::Release);
    }
}

/// What ended a connection's wait besides hyper finishing.
enum Signal {
    /// The timer: time to look at the connection's activity again.
    Tick,
    Graceful,
    Force,
}

/// The first of: `wait` elapsed, graceful shutdown (unless it is already under
/// way), forced shutdown.
async fn next_signal(
    wait: Duration,
    graceful: &mut watch::Receiver<bool>,
    force: &mut watch::Receiver<bool>,
    shutting_down: bool,
) -> Signal {
    tokio::select! {
        _ = tokio::time::sleep(wait) => Signal::Tick,
        _ = graceful.changed(), if !shutting_down => Signal::Graceful,
        _ = force.changed() => Signal::Force,
    }
}

/// The bytes of `read_buf` in an allocation of their own. hyper's read buffer
/// (8 KiB or more) stays allocated as long as any slice of it is alive, even an
/// empty one: kept while the connection is parked, it would cost 8 KiB per idle
/// connection.
fn unpinned(read_buf: Bytes) -> Bytes {
    Bytes::copy_from_slice(&read_buf)
}

/// Waits until a parked connection's client sends something (true), or the
/// keep-alive timer or a shutdown closes it (false).
async fn wait_while_parked(
    stream: &TcpStream,
    activity: &Activity,
    config: &ServerConfig,
    graceful: &mut watch::Receiver<bool>,
    force: &mut watch::Receiver<bool>,
) -> bool {
    loop {
        let wait = match activity.verdict(config.header_timeout, config.keepalive_timeout) {
            Verdict::CheckAfter(d) => d,
            _ => return false, // idle too long (nothing else happens to an idle connection)
        };
        tokio::select! {
            _ = stream.readable() => return true,
            _ = tokio::time::sleep(wait) => {}
            _ = graceful.changed() => return false, // an idle connection closes at once on shutdown
            _ = force.changed() => return false,
        }
    }
}

//! From a hyper request to a hyper response: path decoding, routing, body
//! limits, the handler call, and the response body.

use std::convert::Infallible;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::header::{HeaderValue, CONNECTION, CONTENT_LENGTH, CONTENT_TYPE, HOST, LOCATION, SERVER};
use http::{Method, Request, Response, StatusCode};
use http_body::{Body, Frame, SizeHint};
use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use tokio::sync::mpsc;
use tokio_util::io::ReaderStream;

use super::body::RequestBody;
use super::connection::Activity;
use super::exchange::{HttpRequest, Reply, ReplyBody};
use super::stats::ServerStats;
use super::{Handler, ServerConfig};
use crate::router::{decode_path, PathError, RouteMatch, Router, WEBSOCKET};
use crate::websocket::{negotiate, upgrade_of, HandshakeError, WsUpgrade};
use hyper::upgrade::OnUpgrade;

/// What every connection of a server shares.
pub(crate) struct Shared<H> {
    pub config: ServerConfig,
    pub router: Arc<Router>,
    pub handler: Arc<H>,
    pub stats: Arc<ServerStats>,
    pub server_header: HeaderValue,
    /// WebSocket sessions outlive their connection task; shutdown waits for them too.
    pub sessions: tokio_util::task::TaskTracker,
    pub graceful: tokio::sync::watch::Receiver<bool>,
}

/// The connection's `max_connections` permit, which a WebSocket session takes over.
pub(crate) type PermitSlot = Arc<std::sync::Mutex<Option<tokio::sync::OwnedSemaphorePermit>>>;

pub(crate) async fn respond<H: Handler>(
    shared: Arc<Shared<H>>,
    activity: Arc<Activity>,
    slot: PermitSlot,
    peer: SocketAddr,
    req: Request<Incoming>,
) -> Result<Response<ResponseBody>, Infallible> {
    activity.request_started();
    let guard = FinishGuard(activity);
    shared.stats.requests.fetch_add(1, Ordering::Relaxed);
    let (reply, close) = match prepare(&shared, &slot, peer, req).await {
        Ok(request) => (shared.handler.handle(request).await, false),
        Err(rejection) => rejection,
    };
    // Taken apart here rather than in a future of its own: only a file body
    // has an `.await` (opening the file), and nothing else is moved into one.
    let Reply {
        mut status,
        mut headers,
        body,
    } = reply;
    let kind = match body {
        ReplyBody::Full(bytes) => Kind::Full(Some(bytes)),
        ReplyBody::Stream(rx) => Kind::Stream(rx),
        ReplyBody::File { path, offset, len } => match file_body(&path, offset, len).await {
            Ok(kind) => kind,
            Err(failed) => {
                let reply = error_reply(failed, "the file could not be opened");
                (status, headers) = (reply.status, reply.headers);
                match reply.body {
                    ReplyBody::Full(bytes) => Kind::Full(Some(bytes)),
                    _ => Kind::Full(None),
                }
            }
        },
    };
    let mut response = Response::new(ResponseBody {
        kind,
        _guard: guard,
    });
    *response.status_mut() = status;
    *response.headers_mut() = headers;
    let headers = response.headers_mut();
    // One lookup, not a `contains_key` and then an `insert`.
    headers
        .entry(SERVER)
        .or_insert_with(|| shared.server_header.clone());
    if close {
        headers.insert(CONNECTION, HeaderValue::from_static("close"));
    }
    Ok(response)
}

/// A reply the server gives itself, and whether the connection must close
/// (the body was not read to its end).
type Rejection = (Reply, bool);

fn error_reply(status: StatusCode, detail: &str) -> Reply {
    let body = format!("{{\"detail\":{}}}", json_string(detail));
    let mut reply = Reply::full(status, body);
    reply
        .headers
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    reply
}

fn json_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

async fn prepare<H>(
    shared: &Shared<H>,
    slot: &PermitSlot,
    peer: SocketAddr,
    req: Request<Incoming>,
) -> Result<Box<HttpRequest>, Rejection> {
    let (mut parts, body) = req.into_parts();
    let stats = &shared.stats;
    if let Err(reason) = check_framing(&parts.headers) {
        stats.bad_requests.fetch_add(1, Ordering::Relaxed);
        return Err((error_reply(StatusCode::BAD_REQUEST, reason), true));
    }
    if let Some(allowed) = &shared.config.allowed_hosts {
        let host = parts
            .headers
            .get(HOST)
            .and_then(|v| v.to_str().ok())
            .or_else(|| parts.uri.authority().map(|a| a.as_str()));
        if !host.is_some_and(|h| super::host_allowed(h, allowed)) {
            stats.bad_requests.fetch_add(1, Ordering::Relaxed);
            return Err((
                error_reply(StatusCode::BAD_REQUEST, "Bad Request (invalid Host header)"),
                body_pending(&parts.headers),
            ));
        }
    }
    let upgrade = match upgrade_of(&parts.method, &parts.headers) {
        None => None,
        Some(Err(HandshakeError::UnsupportedVersion)) => {
            stats.bad_requests.fetch_add(1, Ordering::Relaxed);
            let mut reply = error_reply(
                StatusCode::UPGRADE_REQUIRED,
                "only WebSocket version 13 is supported",
            );
            reply
                .headers
                .insert("sec-websocket-version", HeaderValue::from_static("13"));
            return Err((reply, body_pending(&parts.headers)));
        }
        Some(Err(HandshakeError::BadKey)) => {
            stats.bad_requests.fetch_add(1, Ordering::Relaxed);
            return Err((
                error_reply(
                    StatusCode::BAD_REQUEST,
                    "a WebSocket handshake needs a valid Sec-WebSocket-Key",
                ),
                true,
            ));
        }
        Some(Ok(_))
            if !origin_allowed(&shared.config.websocket.allowed_origins, &parts.headers) =>
        {
            return Err((
                error_reply(
                    StatusCode::FORBIDDEN,
                    "this Origin may not open WebSockets here",
                ),
                body_pending(&parts.headers),
            ));
        }
        Some(Ok((key, protocols))) => parts.extensions.remove::<OnUpgrade>().map(|on_upgrade| {
            Box::new(WsUpgrade {
                on_upgrade,
                key,
                protocols,
                deflate: if shared.config.websocket.compression {
                    negotiate(
                        parts
                            .headers
                            .get_all("sec-websocket-extensions")
                            .iter()
                            .filter_map(|v| v.to_str().ok()),
                    )
                } else {
                    None
                },
                config: shared.config.websocket.clone(),
                stats: shared.stats.clone(),
                tracker: shared.sessions.clone(),
                shutdown: shared.graceful.clone(),
                runtime: tokio::runtime::Handle::current(),
                permit: slot.clone(),
            })
        }),
    };
    let raw_path = parts.uri.path().to_string();
    let query = parts.uri.query().map(str::to_string);
    let path = match decode_path(&raw_path) {
        Ok(p) => p,
        Err(e) => {
            stats.bad_requests.fetch_add(1, Ordering::Relaxed);
            // The body of a path that is not UTF-8 is not worth reading: close.
            let close = e == PathError::NotUtf8 || body_pending(&parts.headers);
            return Err((error_reply(StatusCode::BAD_REQUEST, e.detail()), close));
        }
    };
    let method = if upgrade.is_some() {
        WEBSOCKET
    } else {
        parts.method.as_str()
    };
    let route = shared.router.lookup(method, &path, query.as_deref());
    if upgrade.is_some() && !matches!(route, RouteMatch::Found { .. }) {
        return Err((
            error_reply(StatusCode::NOT_FOUND, "no WebSocket endpoint at this path"),
            body_pending(&parts.headers),
        ));
    }
    // With `redirects_in_python` the redirect goes through the app's middleware (so
    // CORS and security headers are on it too): Python answers from `PendingRequest.redirect`.
    match &route {
        RouteMatch::Redirect { location } if !shared.config.redirects_in_python => {
            let status = if parts.method == Method::GET || parts.method == Method::HEAD {
                StatusCode::MOVED_PERMANENTLY
            } else {
                StatusCode::PERMANENT_REDIRECT
            };
            let mut reply = Reply::full(status, Bytes::new());
            if let Ok(value) = HeaderValue::from_str(location) {
                reply.headers.insert(LOCATION, value);
            }
            // The body, if any, was not read: the connection cannot be reused.
            return Err((reply, body_pending(&parts.headers)));
        }
        _ => {}
    }
    let max = shared.config.max_body_size;
    let declared = parts
        .headers
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|len| len > max as u64) {
        stats.too_large.fetch_add(1, Ordering::Relaxed);
        return Err((too_large(max), true));
    }
    let (body, body_stream) = if shared.config.stream_bodies {
        // ASGI and WSGI apps pull the body themselves, chunk by chunk (http/body.rs).
        let counted =
            RequestBody::new(body, max, shared.config.header_timeout).counting(stats.clone());
        (Bytes::new(), Some(counted))
    } else if body.is_end_stream() {
        // A GET has no body: no timer to register and cancel, nothing to collect.
        (Bytes::new(), None)
    } else {
        (
            read_body(stats, body, max, shared.config.header_timeout).await?,
            None,
        )
    };
    Ok(Box::new(HttpRequest {
        method: parts.method,
        path,
        raw_path,
        query,
        version: parts.version,
        headers: parts.headers,
        body,
        body_stream,
        peer,
        route,
        upgrade,
    }))
}

/// A whole body, within `max` bytes and `timeout`.
async fn read_body(
    stats: &ServerStats,
    body: Incoming,
    max: usize,
    timeout: std::time::Duration,
) -> Result<Bytes, Rejection> {
    match tokio::time::timeout(timeout, Limited::new(body, max).collect()).await {
        Ok(Ok(collected)) => Ok(collected.to_bytes()),
        Ok(Err(e))
            if e.downcast_ref::<http_body_util::LengthLimitError>()
                .is_some() =>
        {
            stats.too_large.fetch_add(1, Ordering::Relaxed);
            Err((too_large(max), true))
        }
        Ok(Err(_)) => {
            stats.bad_requests.fetch_add(1, Ordering::Relaxed);
            Err((
                error_reply(StatusCode::BAD_REQUEST, "malformed request body"),
                true,
            ))
        }
        Err(_) => {
            stats.timeouts.fetch_add(1, Ordering::Relaxed);
            Err((
                error_reply(
                    StatusCode::REQUEST_TIMEOUT,
                    "the request body took too long",
                ),
                true,
            ))
        }
    }
}

/// No list allows every origin; with one, a browser's `Origin` must be in it
/// (clients that send none, which are not browsers, are let through).
fn origin_allowed(allowed: &Option<Vec<String>>, headers: &http::HeaderMap) -> bool {
    let (Some(allowed), Some(origin)) = (allowed, headers.get(http::header::ORIGIN)) else {
        return true;
    };
    let origin = origin.to_str().unwrap_or("");
    allowed
        .iter()
        .any(|a| a == "*" || a.eq_ignore_ascii_case(origin))
}

/// Refuses a Transfer-Encoding other than plain `chunked` (RFC 9112 §6.1): hyper
/// takes `gzip, chunked` as chunked, and the view would get the body still
/// gzipped. (Two Content-Lengths hyper refuses; Transfer-Encoding together with
/// Content-Length, which hyper hides, `raw_head` refuses.)
fn check_framing(headers: &http::HeaderMap) -> Result<(), &'static str> {
    let mut codings = headers
        .get_all(http::header::TRANSFER_ENCODING)
        .iter()
        .peekable();
    if codings.peek().is_none() {
        return Ok(());
    }
    let only_chunked = codings
        .flat_map(|v| v.as_bytes().split(|&b| b == b','))
        .map(|c| c.trim_ascii())
        .filter(|c| !c.is_empty())
        .map(|c| c.eq_ignore_ascii_case(b"chunked"))
        .collect::<Vec<_>>()
        == [true];
    if only_chunked {
        Ok(())
    } else {
        Err("the only Transfer-Encoding accepted is chunked")
    }
}

fn body_pending(headers: &http::HeaderMap) -> bool {
    headers.contains_key(http::header::TRANSFER_ENCODING)
        || headers
            .get(CONTENT_LENGTH)
            .is_some_and(|v| v.as_bytes() != b"0")
}

fn too_large(max: usize) -> Reply {
    error_reply(
        StatusCode::PAYLOAD_TOO_LARGE,
        &format!("the request body is larger than the limit of {max} bytes"),
    )
}

/// The body of a file reply, or the status to answer when it cannot be opened.
async fn file_body(path: &std::path::Path, offset: u64, len: u64) -> Result<Kind, StatusCode> {
    match open_at(path, offset).await {
        Ok(file) => Ok(Kind::File {
            stream: ReaderStream::with_capacity(
                tokio::io::AsyncReadExt::take(file, len),
                64 * 1024,
            ),
            remaining: len,
        }),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Err(StatusCode::NOT_FOUND),
        Err(_) => Err(StatusCode::INTERNAL_SERVER_ERROR),
    }
}

/// Marks the response finished when hyper drops its body, whether it was
/// written in full or the client went away.
struct FinishGuard(Arc<Activity>);

impl Drop for FinishGuard {
    fn drop(&mut self) {
        self.0.response_finished();
    }
}

enum Kind {
    Full(Option<Bytes>),
    Stream(mpsc::Receiver<io::Result<Bytes>>),
    File {
        stream: ReaderStream<tokio::io::Take<tokio::fs::File>>,
        remaining: u64,
    },
}

/// The body type of every response the server writes.
pub struct ResponseBody {
    kind: Kind,
    _guard: FinishGuard,
}

impl Body for ResponseBody {
    type Data = Bytes;
    type Error = io::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, io::Error>>> {
        match &mut self.kind {
            Kind::Full(bytes) => Poll::Ready(
                bytes
                    .take()
                    .filter(|b| !b.is_empty())
                    .map(|b| Ok(Frame::data(b))),
            ),
            Kind::Stream(rx) => rx
                .poll_recv(cx)
                .map(|chunk| chunk.map(|b| b.map(Frame::data))),
            Kind::File { stream, remaining } => {
                match futures_util::ready!(futures_util::Stream::poll_next(Pin::new(stream), cx)) {
                    Some(Ok(chunk)) => {
                        *remaining = remaining.saturating_sub(chunk.len() as u64);
                        Poll::Ready(Some(Ok(Frame::data(chunk))))
                    }
                    Some(Err(e)) => Poll::Ready(Some(Err(e))),
                    None if *remaining > 0 => Poll::Ready(Some(Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        "the file shrank while it was being sent",
                    )))),
                    None => Poll::Ready(None),
                }
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        match &self.kind {
            Kind::Full(bytes) => bytes.as_ref().is_none_or(|b| b.is_empty()),
            Kind::Stream(_) => false,
            Kind::File { remaining, .. } => *remaining == 0,
        }
    }

    fn size_hint(&self) -> SizeHint {
        match &self.kind {
            Kind::Full(bytes) => SizeHint::with_exact(bytes.as_ref().map_or(0, |b| b.len() as u64)),
            Kind::Stream(_) => SizeHint::default(),
            Kind::File { remaining, .. } => SizeHint::with_exact(*remaining),
        }
    }
}

/// The file at `path`, positioned at `offset`.
async fn open_at(path: &std::path::Path, offset: u64) -> io::Result<tokio::fs::File> {
    let mut file = tokio::fs::File::open(path).await?;
    if offset > 0 {
        tokio::io::AsyncSeekExt::seek(&mut file, io::SeekFrom::Start(offset)).await?;
    }
    Ok(file)
}

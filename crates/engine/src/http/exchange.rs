//! What the server hands to a [`Handler`] and what it expects back.

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;

use bytes::Bytes;
use http::{HeaderMap, Method, StatusCode, Version};
use tokio::sync::mpsc;

use super::body::RequestBody;
use crate::router::RouteMatch;
use crate::websocket::WsUpgrade;

/// A request whose head is parsed and routed, and whose body is read in full
/// (or left to the handler to pull, with `ServerConfig::stream_bodies`).
#[derive(Debug)]
pub struct HttpRequest {
    pub method: Method,
    /// The percent-decoded path the router matched.
    pub path: String,
    /// The path as sent, still encoded.
    pub raw_path: String,
    /// The query string without `?` (still encoded), if any.
    pub query: Option<String>,
    pub version: Version,
    pub headers: HeaderMap,
    /// Empty when the server streams bodies (`ServerConfig::stream_bodies`).
    pub body: Bytes,
    /// The unread body, when the server streams bodies.
    pub body_stream: Option<RequestBody>,
    pub peer: SocketAddr,
    /// `Found`, `NotFound` or `MethodNotAllowed`; redirects never reach a handler.
    pub route: RouteMatch,
    /// Set for a WebSocket upgrade request (routed with the `WEBSOCKET`
    /// method): accept it, or answer with any other reply to refuse it.
    /// Boxed: it is a few hundred bytes that nearly every request lacks, and a
    /// request is moved several times on its way to the handler.
    pub upgrade: Option<Box<WsUpgrade>>,
}

/// The body of a [`Reply`].
#[derive(Debug)]
pub enum ReplyBody {
    Full(Bytes),
    /// Chunks as they are produced; the stream ends when the sender is dropped.
    /// An `Err` item aborts the response: the connection is closed without the
    /// final chunk, so the client sees an incomplete body rather than a short one.
    Stream(mpsc::Receiver<std::io::Result<Bytes>>),
    /// `len` bytes of a file from `offset` on, read from disk by the server.
    File {
        path: PathBuf,
        offset: u64,
        len: u64,
    },
}

/// A response from a handler.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: ReplyBody,
}

impl Reply {
    /// A reply with a full body and no headers.
    pub fn full(status: StatusCode, body: impl Into<Bytes>) -> Self {
        Reply {
            status,
            headers: HeaderMap::new(),
            body: ReplyBody::Full(body.into()),
        }
    }
}

/// Answers routed requests. The server owns everything before (parsing,
/// limits, routing, body) and after (writing, keep-alive).
///
/// The request comes boxed: it is a few hundred bytes, and the server's
/// future and the handler's (and a bridge's queue after them) move a pointer
/// instead of copying it at every `.await` it crosses.
pub trait Handler: Send + Sync + 'static {
    fn handle(&self, request: Box<HttpRequest>) -> impl Future<Output = Reply> + Send;
}

//! `hyperdjango._core.PendingRequest`: one request waiting for its reply.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http::{Method, StatusCode, Version};
use hyperdjango_engine::http::{HttpRequest, Reply, ReplyBody};
use hyperdjango_engine::router::RouteMatch;
use pyo3::exceptions::{PyRuntimeError, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyList, PyString, PyTuple, PyType};
use pyo3::{ffi, intern};
use tokio::sync::{mpsc, oneshot};

use tokio_util::sync::CancellationToken;

use crate::convert::{headers_from_py, headers_to_py, param_to_py};
use crate::request_body::BodySlot;
use crate::server::Exchange;
use crate::websocket::WebSocketConnection;
use hyperdjango_engine::websocket::WsUpgrade;

/// A routed request with its body read in full. Answer it exactly once with
/// `respond`, `respond_stream` or `respond_file`; dropping it unanswered
/// sends the client a 500.
#[pyclass(module = "hyperdjango._core", frozen)]
pub struct PendingRequest {
    request: Box<HttpRequest>,
    reply: Mutex<Option<oneshot::Sender<Reply>>>,
    upgrade: Mutex<Option<Box<WsUpgrade>>>,
    is_websocket: bool,
    body_stream: Option<BodySlot>,
    gone: CancellationToken,
}

impl PendingRequest {
    pub(crate) fn new(exchange: Exchange) -> Self {
        let Exchange {
            mut request,
            reply,
            gone,
        } = exchange;
        let upgrade = request.upgrade.take();
        PendingRequest {
            body_stream: request
                .body_stream
                .take()
                .map(|body| Arc::new(tokio::sync::Mutex::new(Some(body)))),
            gone,
            request,
            reply: Mutex::new(Some(reply)),
            is_websocket: upgrade.is_some(),
            upgrade: Mutex::new(upgrade),
        }
    }

    pub(crate) fn header_map(&self) -> &http::HeaderMap {
        &self.request.headers
    }

    pub(crate) fn body_slot(&self) -> Option<BodySlot> {
        self.body_stream.clone()
    }

    pub(crate) fn gone_token(&self) -> CancellationToken {
        self.gone.clone()
    }

    fn send(&self, reply: Reply) -> PyResult<bool> {
        let sender = self
            .reply
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
            .ok_or_else(|| PyRuntimeError::new_err("this request has already been answered"))?;
        // An error means the client went away; the caller decides whether that matters.
        Ok(sender.send(reply).is_ok())
    }
}

fn status_of(status: u16) -> PyResult<StatusCode> {
    StatusCode::from_u16(status)
        .map_err(|_| PyValueError::new_err(format!("invalid HTTP status {status}")))
}

/// `object.__new__(cls)` through the slot itself: no bound `__new__` looked up
/// and called with an argument tuple. Only for classes that inherit object's
/// `tp_new` (any other layout needs its own `__new__`), as `object.__new__` checks.
fn bare_instance<'py>(cls: &Bound<'py, PyType>) -> PyResult<Bound<'py, PyAny>> {
    let py = cls.py();
    // SAFETY: `PyType_GetSlot` accepts static types since 3.10 (abi3-py311 here);
    // a non-null `Py_tp_new` slot is a `newfunc`.
    unsafe {
        let object_new = ffi::PyType_GetSlot(
            std::ptr::addr_of_mut!(ffi::PyBaseObject_Type),
            ffi::Py_tp_new,
        );
        if object_new.is_null()
            || ffi::PyType_GetSlot(cls.as_type_ptr(), ffi::Py_tp_new) != object_new
        {
            return Err(PyTypeError::new_err(format!(
                "{} has its own __new__: PendingRequest.request builds plain classes only",
                cls.name()?
            )));
        }
        let object_new: ffi::newfunc = std::mem::transmute(object_new);
        let args = PyTuple::empty(py);
        Bound::from_owned_ptr_or_err(
            py,
            object_new(cls.as_type_ptr(), args.as_ptr(), std::ptr::null_mut()),
        )
    }
}

#[pymethods]
impl PendingRequest {
    /// What `cls(self, app, route)` makes for the framework's `Request` (its
    /// `_raw`, `app`, `route`, `method` and `path`), in one call per request instead
    /// of a class call into a Python `__init__` plus the `route_id`, `method` and
    /// `path` getters (each a PyO3 getter call from Python). `route` is the matched
    /// one of `routes`, None when nothing matched or the id is past them (a mount's
    /// WebSocket route).
    fn request<'py>(
        slf: &Bound<'py, Self>,
        cls: &Bound<'py, PyType>,
        app: &Bound<'py, PyAny>,
        routes: &Bound<'py, PyList>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let py = slf.py();
        let this = slf.get();
        let route = match this.request.route {
            RouteMatch::Found { route_id, .. } if route_id < routes.len() => {
                routes.get_item(route_id)?
            }
            _ => py.None().into_bound(py),
        };
        let request = bare_instance(cls)?;
        // Set one by one, as `__init__` does: the instance keeps its attributes
        // inline, not in a `__dict__` made for it (which costs as much to fill).
        request.setattr(intern!(py, "_raw"), slf)?;
        request.setattr(intern!(py, "app"), app)?;
        request.setattr(intern!(py, "route"), route)?;
        request.setattr(intern!(py, "method"), this.method(py))?;
        request.setattr(intern!(py, "path"), PyString::new(py, &this.request.path))?;
        Ok(request)
    }

    /// The method; the common ones are interned strings, not made per request.
    #[getter]
    fn method<'py>(&self, py: Python<'py>) -> Bound<'py, PyString> {
        let method = &self.request.method;
        match *method {
            Method::GET => intern!(py, "GET").clone(),
            Method::POST => intern!(py, "POST").clone(),
            Method::HEAD => intern!(py, "HEAD").clone(),
            Method::PUT => intern!(py, "PUT").clone(),
            Method::PATCH => intern!(py, "PATCH").clone(),
            Method::DELETE => intern!(py, "DELETE").clone(),
            Method::OPTIONS => intern!(py, "OPTIONS").clone(),
            _ => PyString::new(py, method.as_str()),
        }
    }

    /// The percent-decoded path.
    #[getter]
    fn path(&self) -> &str {
        &self.request.path
    }

    #[getter]
    fn raw_path(&self) -> &str {
        &self.request.raw_path
    }

    /// The query string without `?`, still percent-encoded ("" when absent).
    #[getter]
    fn query_string(&self) -> &str {
        self.request.query.as_deref().unwrap_or("")
    }

    #[getter]
    fn http_version(&self) -> &'static str {
        match self.request.version {
            Version::HTTP_10 => "1.0",
            Version::HTTP_2 => "2",
            _ => "1.1",
        }
    }

    /// `[(name, value), ...]` with lower-case names, in the order received.
    #[getter]
    fn headers<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        headers_to_py(py, &self.request.headers)
    }

    #[getter]
    fn body<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, &self.request.body)
    }

    /// `(host, port)` of the peer.
    #[getter]
    fn client(&self) -> (String, u16) {
        let peer = self.request.peer;
        (peer.ip().to_string(), peer.port())
    }

    /// The matched route's id, or None for 404 and 405.
    #[getter]
    fn route_id(&self) -> Option<usize> {
        match &self.request.route {
            RouteMatch::Found { route_id, .. } => Some(*route_id),
            _ => None,
        }
    }

    /// Converted path parameters (`int`, `str` or `uuid.UUID`).
    #[getter]
    fn params<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let dict = PyDict::new(py);
        if let RouteMatch::Found { params, .. } = &self.request.route {
            for (name, value) in params {
                dict.set_item(name, param_to_py(py, value)?)?;
            }
        }
        Ok(dict)
    }

    /// The methods the path accepts when the method did not match, else None.
    #[getter]
    fn allow(&self) -> Option<Vec<String>> {
        match &self.request.route {
            RouteMatch::MethodNotAllowed { allow } => Some(allow.clone()),
            _ => None,
        }
    }

    /// Where a trailing-slash redirect goes, when the server hands redirects to Python
    /// (`redirects_in_python`), else None.
    #[getter]
    fn redirect(&self) -> Option<String> {
        match &self.request.route {
            RouteMatch::Redirect { location } => Some(location.clone()),
            _ => None,
        }
    }

    /// Whether this is a WebSocket upgrade request (routed to a WEBSOCKET route).
    #[getter]
    fn is_websocket(&self) -> bool {
        self.is_websocket
    }

    /// The subprotocols a WebSocket client offered, in its order of preference.
    #[getter]
    fn subprotocols(&self) -> Vec<String> {
        self.upgrade
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .as_ref()
            .map(|u| u.protocols().to_vec())
            .unwrap_or_default()
    }

    /// Accepts a WebSocket upgrade (101, with `subprotocol` if given: it must be
    /// one the client offered). Answering with `respond` instead refuses it.
    #[pyo3(signature = (subprotocol = None))]
    fn accept_websocket(&self, subprotocol: Option<String>) -> PyResult<WebSocketConnection> {
        let upgrade = self
            .upgrade
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
            .ok_or_else(|| {
                PyRuntimeError::new_err(
                    "this request is not a WebSocket upgrade, or it was already accepted",
                )
            })?;
        let (reply, conn) = upgrade
            .accept(subprotocol.as_deref())
            .map_err(PyValueError::new_err)?;
        self.send(reply)?;
        Ok(WebSocketConnection::new(conn))
    }

    /// Whether `respond*` has been called.
    #[getter]
    fn answered(&self) -> bool {
        self.reply
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .is_none()
    }

    /// Sends a complete response. Returns False if the client is gone.
    fn respond(&self, status: u16, headers: &Bound<'_, PyAny>, body: &[u8]) -> PyResult<bool> {
        self.send(Reply {
            status: status_of(status)?,
            headers: headers_from_py(headers)?,
            body: ReplyBody::Full(Bytes::copy_from_slice(body)),
        })
    }

    /// Sends the head now; the body follows through the returned sender, which
    /// holds at most `capacity` chunks in flight.
    #[pyo3(signature = (status, headers, capacity = 16))]
    fn respond_stream(
        &self,
        status: u16,
        headers: &Bound<'_, PyAny>,
        capacity: usize,
    ) -> PyResult<StreamSender> {
        // One slot more than the chunks may use, reserved up front for `abort`'s error.
        let (tx, rx) = mpsc::channel(capacity.max(1) + 1);
        let abort_slot = tx
            .clone()
            .try_reserve_owned()
            .map_err(|_| PyRuntimeError::new_err("a new stream channel is full"))?;
        self.send(Reply {
            status: status_of(status)?,
            headers: headers_from_py(headers)?,
            body: ReplyBody::Stream(rx),
        })?;
        Ok(StreamSender {
            tx: Mutex::new(Some(Open { tx, abort_slot })),
        })
    }

    /// Sends `length` bytes of the file at `path` from `offset` on, read by the server.
    #[pyo3(signature = (status, headers, path, length, offset = 0))]
    fn respond_file(
        &self,
        status: u16,
        headers: &Bound<'_, PyAny>,
        path: PathBuf,
        length: u64,
        offset: u64,
    ) -> PyResult<bool> {
        self.send(Reply {
            status: status_of(status)?,
            headers: headers_from_py(headers)?,
            body: ReplyBody::File {
                path,
                offset,
                len: length,
            },
        })
    }
}

/// The body of a streamed response, chunk by chunk.
#[pyclass(module = "hyperdjango._core", frozen)]
pub struct StreamSender {
    tx: Mutex<Option<Open>>,
}

type Chunk = std::io::Result<Bytes>;

/// A stream still being written: the chunks' sender, and the slot kept for an abort.
struct Open {
    tx: mpsc::Sender<Chunk>,
    abort_slot: mpsc::OwnedPermit<Chunk>,
}

/// What `StreamSender.try_send` reports.
const SENT: u8 = 0;
const FULL: u8 = 1;
const CLOSED: u8 = 2;

impl StreamSender {
    fn sender(&self) -> Option<mpsc::Sender<Chunk>> {
        self.tx
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .as_ref()
            .map(|open| open.tx.clone())
    }
}

#[pymethods]
impl StreamSender {
    /// 0: queued; 1: the buffer is full, try `send_blocking`; 2: the client is gone.
    fn try_send(&self, chunk: &[u8]) -> u8 {
        let Some(tx) = self.sender() else {
            return CLOSED;
        };
        match tx.try_send(Ok(Bytes::copy_from_slice(chunk))) {
            Ok(()) => SENT,
            Err(mpsc::error::TrySendError::Full(_)) => FULL,
            Err(mpsc::error::TrySendError::Closed(_)) => CLOSED,
        }
    }

    /// Waits, without the GIL, until the chunk is queued; False if the client is gone.
    /// Call it from a worker thread, never from the event loop.
    fn send_blocking(&self, py: Python<'_>, chunk: &[u8]) -> bool {
        let Some(tx) = self.sender() else {
            return false;
        };
        let chunk = Ok(Bytes::copy_from_slice(chunk));
        py.detach(|| tx.blocking_send(chunk).is_ok())
    }

    /// Ends the body.
    fn close(&self) {
        self.tx.lock().unwrap_or_else(|e| e.into_inner()).take();
    }

    /// Ends the body as failed: the server cuts the connection instead of
    /// writing the last chunk, so the client cannot take a truncated body for
    /// a complete one. Never blocks; later sends report the client gone.
    fn abort(&self) {
        let Some(open) = self.tx.lock().unwrap_or_else(|e| e.into_inner()).take() else {
            return;
        };
        // The reserved slot takes the error behind the queued chunks even when the
        // client reads slowly and the buffer is full: no waiting, no thread.
        open.abort_slot
            .send(Err(std::io::Error::other("the response stream failed")));
    }
}

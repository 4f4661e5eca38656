//! `hyperdjango._core.WebSocketConnection`: an accepted WebSocket seen from the loop.
//!
//! Sends go synchronously into the engine's bounded queue (no waiting, no
//! round trip). A receive takes a message already read if there is one;
//! otherwise it returns a `RustFuture` that the session finishes through the
//! loop's `LoopBridge` when it reads the next message, so messages wake the
//! loop once per batch.

use std::borrow::Borrow;
use std::sync::Arc;
use std::task::Poll;

use hyperdjango_engine::websocket::{Incoming, SendError, Shared, Wakeups, WsConnection};
use pyo3::exceptions::{PyBaseException, PyTypeError};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyList, PyString};

use crate::awaitable::{am_send, Step};
use crate::completion::{LoopBridge, Outcome, RustFuture};

/// One accepted WebSocket. A data message is its payload, a `str` (text) or
/// `bytes` (binary); the end is a `(kind, reason, code)` tuple: `("close",
/// reason, code)` when the peer closed or the connection ended, `("gone",
/// None, code)` after that. Not a tuple per message: building it (with a new
/// "text" str) and unpacking it in Python cost ~700 instructions per echo.
#[pyclass(module = "hyperdjango._core", frozen)]
pub struct WebSocketConnection {
    conn: Arc<WsConnection>,
}

impl WebSocketConnection {
    pub(crate) fn new(conn: WsConnection) -> Self {
        WebSocketConnection {
            conn: Arc::new(conn),
        }
    }

    /// Queues `message` (a str or bytes), encoded by `encode`.
    fn send(
        &self,
        message: &Bound<'_, PyAny>,
        encode: impl FnOnce() -> PyResult<Shared>,
        bridge: Option<&Bound<'_, LoopBridge>>,
    ) -> PyResult<u16> {
        let sent = match bridge {
            Some(bridge) => {
                LoopBridge::deferring_send(bridge, message, encode, |frame, wakeups| {
                    self.conn.send_deferred(frame, wakeups)
                })?
            }
            None => self.conn.send_deferred(encode()?, &mut Wakeups::default()),
        };
        Ok(send_result(sent))
    }
}

fn gone_code(conn: &WsConnection) -> u16 {
    conn.close_code().unwrap_or(1006)
}

fn message_to_py<'py>(
    py: Python<'py>,
    message: Option<Incoming>,
    gone: u16,
) -> PyResult<Bound<'py, PyAny>> {
    Ok(match message {
        Some(Incoming::Text(t)) => PyString::new(py, &t).into_any(),
        Some(Incoming::Binary(b)) => PyBytes::new(py, &b).into_any(),
        Some(Incoming::Close { code, reason }) => ("close", PyString::new(py, &reason), code)
            .into_pyobject(py)?
            .into_any(),
        None => ("gone", py.None(), gone).into_pyobject(py)?.into_any(),
    })
}

fn error_code(error: SendError) -> u16 {
    match error {
        SendError::Closed(code) => code,
        SendError::SlowConsumer => 1013,
    }
}

fn send_result(result: Result<(), SendError>) -> u16 {
    result.err().map_or(0, error_code)
}

/// Queues one message (a str goes as text, bytes as binary) on every
/// connection in one call; the message is encoded once and shared, not
/// copied. Returns `(position, close_code)` for each connection that did not
/// take it (1013: its queue was full; it is closing as a slow consumer).
///
/// The GIL is held throughout (a queue push per connection): the connections
/// are borrowed from their Python objects, not cloned to be used without it.
#[pyfunction]
pub fn ws_broadcast(
    connections: &Bound<'_, PyList>,
    message: &Bound<'_, PyAny>,
) -> PyResult<Vec<(usize, u16)>> {
    let shared = if let Ok(text) = message.cast::<PyString>() {
        Shared::text(text.to_str()?)
    } else if let Ok(data) = message.cast::<PyBytes>() {
        Shared::binary(data.as_bytes())
    } else {
        return Err(PyTypeError::new_err(
            "a broadcast message is str (text) or bytes (binary)",
        ));
    };
    // All checked before any is queued on.
    let mut members = Vec::with_capacity(connections.len());
    for item in connections.iter() {
        members.push(Member(item.cast_into::<WebSocketConnection>()?));
    }
    Ok(hyperdjango_engine::websocket::broadcast(members, &shared)
        .into_iter()
        .map(|(i, e)| (i, error_code(e)))
        .collect())
}

/// A connection of `ws_broadcast`'s list.
struct Member<'py>(Bound<'py, WebSocketConnection>);

impl Borrow<WsConnection> for Member<'_> {
    fn borrow(&self) -> &WsConnection {
        &self.0.get().conn
    }
}

#[pymethods]
impl WebSocketConnection {
    /// Queues a text message: 0, or the close code if the connection is closed
    /// (1013: the queue was full, the client reads too slowly; it is closing).
    /// With the loop's `bridge`, the session is woken at the end of the loop
    /// iteration with those of the iteration's other sends, and the same str
    /// sent again in the iteration (to other connections) is not encoded again.
    #[pyo3(signature = (text, bridge = None))]
    fn send_text(
        &self,
        text: &Bound<'_, PyString>,
        bridge: Option<&Bound<'_, LoopBridge>>,
    ) -> PyResult<u16> {
        self.send(text.as_any(), || Ok(Shared::text(text.to_str()?)), bridge)
    }

    /// Queues a binary message; as `send_text`.
    #[pyo3(signature = (data, bridge = None))]
    fn send_bytes(
        &self,
        data: &Bound<'_, PyBytes>,
        bridge: Option<&Bound<'_, LoopBridge>>,
    ) -> PyResult<u16> {
        self.send(
            data.as_any(),
            || Ok(Shared::binary(data.as_bytes())),
            bridge,
        )
    }

    /// Starts the close handshake; never waits.
    #[pyo3(signature = (code = 1000, reason = String::new()))]
    fn close(&self, code: u16, reason: String) {
        self.conn.close(code, reason);
    }

    /// A message already received, or None when none is waiting.
    fn try_receive<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        match self.conn.try_recv() {
            Poll::Pending => Ok(None),
            Poll::Ready(m) => message_to_py(py, m, gone_code(&self.conn)).map(Some),
        }
    }

    /// Awaitable of the next message, finished on `bridge`'s loop. No task
    /// waits for it: the session hands the message to it on the session's
    /// own tokio thread, and the loop is woken from there.
    fn receive<'py>(&self, bridge: &Bound<'py, LoopBridge>) -> PyResult<Bound<'py, RustFuture>> {
        // What waits in the connection's queue holds it weakly: a strong
        // reference there would keep the queue alive from inside itself.
        let conn = Arc::downgrade(&self.conn);
        // Dropped uncalled (the server stopped): the connection is over, going
        // away (1001) unless it had closed already.
        let abandoned = Box::new(move |py: Python<'_>| {
            let gone = conn.upgrade().and_then(|c| c.close_code()).unwrap_or(1001);
            Ok(message_to_py(py, None, gone)?.unbind())
        }) as Outcome;
        let (future, completer) = LoopBridge::completer(bridge, abandoned)?;
        let conn = Arc::downgrade(&self.conn);
        let waiting = self.conn.recv_with(Box::new(move |message| {
            let gone = conn.upgrade().map_or(1006, |c| gone_code(&c));
            let outcome =
                Box::new(move |py: Python<'_>| Ok(message_to_py(py, message, gone)?.unbind()))
                    as Outcome;
            // Called by the session in the middle of its turn: the outcome goes to the
            // loop after the turn (a task of its own), as it did when a task waited for
            // it. Sent at once, it woke a sleeping loop once per echo where the later
            // send finds it awake half the time (context switches per echo 0.49 -> 1.0,
            // ws_bench --counts).
            match tokio::runtime::Handle::try_current() {
                Ok(runtime) => drop(runtime.spawn(async move { completer.finish(outcome) })),
                Err(_) => completer.finish(outcome),
            }
        }));
        if let Some(id) = waiting {
            let conn = Arc::downgrade(&self.conn);
            LoopBridge::on_cancel(
                &future,
                Box::new(move || {
                    if let Some(conn) = conn.upgrade() {
                        conn.withdraw(id);
                    }
                }),
            );
        }
        Ok(future)
    }

    /// The close code once closed or closing, else None.
    #[getter]
    fn close_code(&self) -> Option<u16> {
        self.conn.close_code()
    }
}

/// What a send that was queued returns: an awaitable that is already
/// finished (no coroutine per send). It is also a coroutine by protocol
/// (`__await__`, `send`, `throw`, `close`), so `asyncio.create_task`,
/// `gather` and `TaskGroup.create_task` take it. Stateless: one instance
/// (`hyperdjango.websockets`' `SENT`) serves every send.
#[pyclass(module = "hyperdjango._core", frozen)]
pub struct Sent;

impl Sent {
    /// Every step finishes, with None; what is sent is ignored.
    fn step(slf: &Bound<'_, Self>, _value: &Bound<'_, PyAny>) -> PyResult<Step> {
        Ok(Step::Return(slf.py().None()))
    }
}

am_send!(Sent, Sent::step);

#[pymethods]
impl Sent {
    #[new]
    fn new() -> Self {
        Sent
    }

    fn __await__(slf: Bound<'_, Self>) -> Bound<'_, Self> {
        slf
    }

    fn __iter__(slf: Bound<'_, Self>) -> Bound<'_, Self> {
        slf
    }

    /// Finished at once: the result is None.
    fn __next__(&self) -> Option<()> {
        None
    }

    /// As `__next__`: finished, with None.
    fn send(slf: &Bound<'_, Self>, value: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        Self::step(slf, value)?.into_next()
    }

    /// Raises what is thrown in (a task cancelled before it ran, say).
    #[pyo3(signature = (typ, value = None, _traceback = None))]
    fn throw(
        &self,
        typ: &Bound<'_, PyAny>,
        value: Option<&Bound<'_, PyAny>>,
        _traceback: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<()> {
        match value {
            Some(v) if !v.is_none() && v.is_instance_of::<PyBaseException>() => {
                Err(PyErr::from_value(v.clone()))
            }
            Some(v) if !v.is_none() => Err(PyErr::from_value(typ.call1((v,))?)),
            _ => Err(PyErr::from_value(typ.clone())),
        }
    }

    fn close(&self) {}
}

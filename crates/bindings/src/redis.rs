//! `hyperdjango._core.RedisSubscriber` and `RedisCommands`: the Redis channel layer's
//! connections, driven by the engine.
//!
//! The subscriber's messages go from the connection's tokio task into the engine's
//! bounded loop queue, which the loop drains (see `crate::subscription`).

use std::sync::Arc;

use hyperdjango_engine::bridge::LoopWaker;
use hyperdjango_engine::redis::{
    RedisCommands as EngineCommands, RedisFailure, RedisSubscriber as EngineSubscriber, RedisValue,
    SubscriberEvent,
};
use pyo3::create_exception;
use pyo3::exceptions::{PyConnectionError, PyException, PyOSError, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyInt, PyList, PyString, PyTuple};

use crate::completion::{LoopBridge, Outcome, RustFuture};
use crate::subscription::Subscription;

create_exception!(
    _core,
    RedisError,
    PyException,
    "An error reply of the Redis server to one command (``WRONGTYPE ...``, ``NOSCRIPT ...``)."
);

/// Events waiting for the loop; past this the subscriber drops (and counts) messages.
const DEFAULT_CAPACITY: usize = 8192;

pub(crate) fn failure_to_py(failure: &RedisFailure) -> PyErr {
    if failure.unreachable {
        PyConnectionError::new_err(failure.message.clone())
    } else {
        PyValueError::new_err(failure.message.clone())
    }
}

/// A dedicated pub/sub connection; see `hyperdjango.channels.redis`.
#[pyclass(module = "hyperdjango._core", frozen)]
pub struct RedisSubscriber {
    sub: Subscription<EngineSubscriber, SubscriberEvent>,
}

#[pymethods]
impl RedisSubscriber {
    /// A future of a subscriber connected to `url` as `name` (`CLIENT SETNAME`);
    /// `capacity` bounds its queue of messages.
    #[staticmethod]
    #[pyo3(signature = (bridge, url, name, capacity = DEFAULT_CAPACITY))]
    fn connect<'py>(
        bridge: &Bound<'py, LoopBridge>,
        url: String,
        name: String,
        capacity: usize,
    ) -> PyResult<Bound<'py, RustFuture>> {
        let waker = Arc::new(LoopWaker::new().map_err(|e| {
            PyOSError::new_err(format!("cannot create the subscriber's eventfd: {e}"))
        })?);
        // Nothing is waiting yet: the first event must wake the loop.
        waker.arm();
        LoopBridge::spawn(bridge, async move {
            let result = EngineSubscriber::connect(&url, &name, capacity, waker.clone()).await;
            Box::new(move |py: Python<'_>| match result {
                Ok((subscriber, receiver)) => Ok(Py::new(
                    py,
                    RedisSubscriber {
                        sub: Subscription::new(subscriber, waker, receiver),
                    },
                )?
                .into_any()),
                Err(e) => Err(failure_to_py(&e)),
            }) as Outcome
        })
    }

    /// The eventfd that becomes readable when events are waiting.
    fn fileno(&self) -> i32 {
        self.sub.fileno()
    }

    /// Up to `max` waiting events, oldest first: `(channel, payload)` for a message;
    /// `(None, "lost", reason)`, `(None, "reconnected", downtime_seconds)` and
    /// `(None, "overflow", dropped)` for what happened to the subscription. Fewer
    /// than `max` means the queue is empty and the fd is re-armed.
    #[pyo3(signature = (max = 256))]
    fn drain<'py>(&self, py: Python<'py>, max: usize) -> PyResult<Bound<'py, PyList>> {
        self.sub.drain(py, max, |event| match event {
            SubscriberEvent::Message { channel, payload } => PyTuple::new(
                py,
                [
                    PyString::new(py, &channel).into_any(),
                    PyBytes::new(py, &payload).into_any(),
                ],
            ),
            SubscriberEvent::Lost { reason } => (py.None(), "lost", reason).into_pyobject(py),
            SubscriberEvent::Reconnected { downtime, .. } => {
                (py.None(), "reconnected", downtime.as_secs_f64()).into_pyobject(py)
            }
            SubscriberEvent::Overflow { dropped } => {
                (py.None(), "overflow", dropped).into_pyobject(py)
            }
        })
    }

    /// SUBSCRIBE to `channel` (idempotent).
    fn subscribe<'py>(
        &self,
        bridge: &Bound<'py, LoopBridge>,
        channel: String,
    ) -> PyResult<Bound<'py, RustFuture>> {
        self.sub.join(bridge, channel)
    }

    /// UNSUBSCRIBE from `channel`: nothing more from it is delivered.
    fn unsubscribe<'py>(
        &self,
        bridge: &Bound<'py, LoopBridge>,
        channel: String,
    ) -> PyResult<Bound<'py, RustFuture>> {
        self.sub.leave(bridge, channel)
    }

    /// Closes the connection (idempotent).
    fn close<'py>(&self, bridge: &Bound<'py, LoopBridge>) -> PyResult<Bound<'py, RustFuture>> {
        self.sub.close(bridge)
    }

    /// The channels subscribed to, sorted.
    fn channels(&self) -> Vec<String> {
        self.sub.channels()
    }

    /// Whether the connection is up (False while reconnecting and once closed).
    #[getter]
    fn connected(&self) -> bool {
        self.sub.connected()
    }

    /// Counters: delivered, dropped (the queue was full), reconnects,
    /// dropped_unsubscribed, queued (events waiting for the loop now).
    fn stats<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let s = self.sub.connection().stats();
        let d = PyDict::new(py);
        d.set_item("delivered", s.delivered)?;
        d.set_item("dropped", s.dropped)?;
        d.set_item("reconnects", s.reconnects)?;
        d.set_item("dropped_unsubscribed", s.dropped_unsubscribed)?;
        d.set_item("queued", self.sub.queued())?;
        Ok(d)
    }
}

/// Pipelined commands on one connection; see `hyperdjango.channels.redis`.
#[pyclass(module = "hyperdjango._core", frozen)]
pub struct RedisCommands {
    inner: Arc<EngineCommands>,
}

/// One command's parts as bytes: bytes as they are, str as UTF-8, int in decimal.
fn command_from_py(command: &Bound<'_, PyAny>) -> PyResult<Vec<Vec<u8>>> {
    let mut parts = Vec::new();
    for part in command.try_iter()? {
        let part = part?;
        if let Ok(bytes) = part.cast::<PyBytes>() {
            parts.push(bytes.as_bytes().to_vec());
        } else if let Ok(text) = part.cast::<PyString>() {
            parts.push(text.to_str()?.as_bytes().to_vec());
        } else if part.is_instance_of::<PyInt>() {
            parts.push(part.extract::<i64>()?.to_string().into_bytes());
        } else {
            return Err(PyTypeError::new_err(format!(
                "a Redis command argument is bytes, str or int, not {}",
                part.get_type().name()?
            )));
        }
    }
    Ok(parts)
}

fn reply_to_py(py: Python<'_>, value: RedisValue) -> PyResult<Py<PyAny>> {
    Ok(match value {
        RedisValue::Nil => py.None(),
        RedisValue::Int(n) => n.into_pyobject(py)?.into_any().unbind(),
        RedisValue::BulkString(bytes) => PyBytes::new(py, &bytes).into_any().unbind(),
        RedisValue::SimpleString(text) => PyString::new(py, &text).into_any().unbind(),
        RedisValue::Okay => true.into_pyobject(py)?.to_owned().into_any().unbind(),
        RedisValue::Array(items) | RedisValue::Set(items) => {
            let items = items
                .into_iter()
                .map(|item| reply_to_py(py, item))
                .collect::<PyResult<Vec<_>>>()?;
            PyList::new(py, items)?.into_any().unbind()
        }
        RedisValue::ServerError(err) => RedisError::new_err(err.to_string())
            .into_value(py)
            .into_any(),
        other => PyString::new(py, &format!("{other:?}")).into_any().unbind(),
    })
}

#[pymethods]
impl RedisCommands {
    /// Commands for `url`, on a connection named `name` opened on first use.
    #[new]
    fn new(url: &str, name: &str) -> PyResult<Self> {
        Ok(RedisCommands {
            inner: Arc::new(EngineCommands::new(url, name).map_err(|e| failure_to_py(&e))?),
        })
    }

    /// A future of the SHA1 of `source`, loaded now and on every later connection.
    fn load_script<'py>(
        &self,
        bridge: &Bound<'py, LoopBridge>,
        source: String,
    ) -> PyResult<Bound<'py, RustFuture>> {
        let inner = self.inner.clone();
        LoopBridge::spawn(bridge, async move {
            let result = inner.load_script(&source).await;
            Box::new(move |py: Python<'_>| match result {
                Ok(sha) => Ok(PyString::new(py, &sha).into_any().unbind()),
                Err(e) => Err(failure_to_py(&e)),
            }) as Outcome
        })
    }

    /// A future of one reply per command (an error reply as a `RedisError` in its
    /// place), sent in one write; ConnectionError when Redis cannot be reached.
    fn pipeline<'py>(
        &self,
        bridge: &Bound<'py, LoopBridge>,
        commands: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, RustFuture>> {
        let commands = commands
            .try_iter()?
            .map(|command| command_from_py(&command?))
            .collect::<PyResult<Vec<_>>>()?;
        let inner = self.inner.clone();
        LoopBridge::spawn(bridge, async move {
            let result = inner.pipeline(&commands).await;
            Box::new(move |py: Python<'_>| match result {
                Ok(replies) => {
                    let replies = replies
                        .into_iter()
                        .map(|reply| reply_to_py(py, reply))
                        .collect::<PyResult<Vec<_>>>()?;
                    Ok(PyList::new(py, replies)?.into_any().unbind())
                }
                Err(e) => Err(failure_to_py(&e)),
            }) as Outcome
        })
    }

    /// Drops the connection; a later call opens a new one.
    fn close(&self) {
        self.inner.close();
    }
}

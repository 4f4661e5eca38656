//! `hyperdjango._core.Listener`: LISTEN/NOTIFY events handed to the event loop in batches.
//!
//! The engine's [`PgListener`] puts events into a bounded tokio queue; a small
//! tokio task moves them into a [`loop_queue`] that the loop drains (see
//! `crate::subscription`). Both queues are bounded: a loop that does not drain
//! makes the forwarding task wait, which makes the listener stop reading its
//! connection (never dropping).

use std::sync::Arc;

use hyperdjango_engine::bridge::{loop_queue, LoopWaker};
use hyperdjango_engine::db::postgres::{ListenerEvent, PgListener};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyTuple};

use crate::completion::{runtime, LoopBridge, RustFuture};
use crate::subscription::Subscription;

/// Events waiting for the loop; more make the forwarding task wait.
const LOOP_QUEUE_CAPACITY: usize = 1024;

/// A dedicated PostgreSQL connection that LISTENs; see `hyperdjango.database.Listener`.
#[pyclass(module = "hyperdjango._core", frozen)]
pub struct Listener {
    sub: Subscription<PgListener, ListenerEvent>,
}

impl Listener {
    /// Wraps a connected listener and starts moving its events to the loop queue.
    pub(crate) fn start(
        listener: PgListener,
        mut events: tokio::sync::mpsc::Receiver<ListenerEvent>,
    ) -> std::io::Result<Listener> {
        let waker = Arc::new(LoopWaker::new()?);
        let (sender, receiver) = loop_queue(LOOP_QUEUE_CAPACITY, waker.clone());
        // Nothing is waiting yet: the first event must wake the loop.
        waker.arm();
        runtime().spawn(async move {
            while let Some(event) = events.recv().await {
                if sender.send(event).await.is_err() {
                    break; // the Python object is gone
                }
            }
        });
        Ok(Listener {
            sub: Subscription::new(listener, waker, receiver),
        })
    }
}

#[pymethods]
impl Listener {
    /// The eventfd that becomes readable when events are waiting.
    fn fileno(&self) -> i32 {
        self.sub.fileno()
    }

    /// Up to `max` waiting events, oldest first: `(channel, payload, process_id)`
    /// for a notification, `(None, reason, downtime_seconds)` for a reconnect.
    /// Fewer than `max` means the queue is empty and the fd is re-armed.
    #[pyo3(signature = (max = 256))]
    fn drain<'py>(&self, py: Python<'py>, max: usize) -> PyResult<Bound<'py, PyList>> {
        self.sub.drain(py, max, |event| match event {
            ListenerEvent::Notification(n) => PyTuple::new(
                py,
                [
                    n.channel.into_pyobject(py)?.into_any(),
                    n.payload.into_pyobject(py)?.into_any(),
                    n.process_id.into_pyobject(py)?.into_any(),
                ],
            ),
            ListenerEvent::Reconnected {
                reason, downtime, ..
            } => PyTuple::new(
                py,
                [
                    py.None().into_bound(py),
                    reason.into_pyobject(py)?.into_any(),
                    downtime.as_secs_f64().into_pyobject(py)?.into_any(),
                ],
            ),
        })
    }

    /// LISTEN on `channel` (idempotent).
    fn listen<'py>(
        &self,
        bridge: &Bound<'py, LoopBridge>,
        channel: String,
    ) -> PyResult<Bound<'py, RustFuture>> {
        self.sub.join(bridge, channel)
    }

    /// UNLISTEN `channel`: nothing more from it is delivered.
    fn unlisten<'py>(
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

    /// The channels listened to, sorted.
    fn channels(&self) -> Vec<String> {
        self.sub.channels()
    }

    /// Whether the connection is up (False while reconnecting and once closed).
    #[getter]
    fn connected(&self) -> bool {
        self.sub.connected()
    }

    /// Counters: delivered, stalls (times the reader waited for room), reconnects,
    /// dropped_unlistened, queued (events waiting for the loop now).
    fn stats<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let s = self.sub.connection().stats();
        let d = PyDict::new(py);
        d.set_item("delivered", s.delivered)?;
        d.set_item("stalls", s.stalls)?;
        d.set_item("reconnects", s.reconnects)?;
        d.set_item("dropped_unlistened", s.dropped_unlistened)?;
        d.set_item("queued", self.sub.queued())?;
        Ok(d)
    }
}

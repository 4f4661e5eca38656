//! `hyperdjango._core.Listener`: LISTEN/NOTIFY events handed to the event loop in batches.
//!
//! The engine's [`PgListener`] puts events into a bounded tokio queue; a small
//! tokio task moves them into a [`loop_queue`] whose eventfd the loop watches
//! (`loop.add_reader(listener.fileno(), ...)`), so a burst of notifications
//! wakes the loop once and `drain` hands them over as one list. Both queues
//! are bounded: a loop that does not drain makes the forwarding task wait,
//! which makes the listener stop reading its connection (never dropping).
//! The tokio threads never take the GIL.

use std::sync::{Arc, Mutex};

use hyperdjango_engine::bridge::{loop_queue, LoopReceiver, LoopWaker};
use hyperdjango_engine::db::postgres::{ListenerEvent, PgListener};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyTuple};

use super::errors;
use crate::completion::{runtime, LoopBridge, Outcome, RustFuture};

/// Events waiting for the loop; more make the forwarding task wait.
const LOOP_QUEUE_CAPACITY: usize = 1024;

/// A dedicated PostgreSQL connection that LISTENs; see `hyperdjango.database.Listener`.
#[pyclass(module = "hyperdjango._core", frozen)]
pub struct Listener {
    inner: Arc<PgListener>,
    waker: Arc<LoopWaker>,
    receiver: Mutex<LoopReceiver<ListenerEvent>>,
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
            inner: Arc::new(listener),
            waker,
            receiver: Mutex::new(receiver),
        })
    }
}

fn none_outcome(result: Result<(), hyperdjango_engine::db::DbError>) -> Outcome {
    Box::new(move |py| {
        result
            .map(|()| py.None())
            .map_err(|e| errors::to_py(py, &e))
    })
}

#[pymethods]
impl Listener {
    /// The eventfd that becomes readable when events are waiting.
    fn fileno(&self) -> i32 {
        self.waker.fd()
    }

    /// Up to `max` waiting events, oldest first: `(channel, payload, process_id)`
    /// for a notification, `(None, reason, downtime_seconds)` for a reconnect.
    /// Fewer than `max` means the queue is empty and the fd is re-armed.
    #[pyo3(signature = (max = 256))]
    fn drain<'py>(&self, py: Python<'py>, max: usize) -> PyResult<Bound<'py, PyList>> {
        self.waker.take();
        let batch = self
            .receiver
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .drain(max.max(1));
        let list = PyList::empty(py);
        for event in batch {
            let item = match event {
                ListenerEvent::Notification(n) => PyTuple::new(
                    py,
                    [
                        n.channel.into_pyobject(py)?.into_any(),
                        n.payload.into_pyobject(py)?.into_any(),
                        n.process_id.into_pyobject(py)?.into_any(),
                    ],
                )?,
                ListenerEvent::Reconnected {
                    reason, downtime, ..
                } => PyTuple::new(
                    py,
                    [
                        py.None().into_bound(py),
                        reason.into_pyobject(py)?.into_any(),
                        downtime.as_secs_f64().into_pyobject(py)?.into_any(),
                    ],
                )?,
            };
            list.append(item)?;
        }
        Ok(list)
    }

    /// LISTEN on `channel` (idempotent).
    fn listen<'py>(
        &self,
        bridge: &Bound<'py, LoopBridge>,
        channel: String,
    ) -> PyResult<Bound<'py, RustFuture>> {
        let inner = self.inner.clone();
        LoopBridge::spawn(
            bridge,
            async move { none_outcome(inner.listen(&channel).await) },
        )
    }

    /// UNLISTEN `channel`: nothing more from it is delivered.
    fn unlisten<'py>(
        &self,
        bridge: &Bound<'py, LoopBridge>,
        channel: String,
    ) -> PyResult<Bound<'py, RustFuture>> {
        let inner = self.inner.clone();
        LoopBridge::spawn(bridge, async move {
            none_outcome(inner.unlisten(&channel).await)
        })
    }

    /// Closes the connection (idempotent).
    fn close<'py>(&self, bridge: &Bound<'py, LoopBridge>) -> PyResult<Bound<'py, RustFuture>> {
        let inner = self.inner.clone();
        LoopBridge::spawn(bridge, async move {
            inner.close().await;
            none_outcome(Ok(()))
        })
    }

    /// The channels listened to, sorted.
    fn channels(&self) -> Vec<String> {
        self.inner.channels()
    }

    /// Whether the connection is up (False while reconnecting and once closed).
    #[getter]
    fn connected(&self) -> bool {
        self.inner.is_connected()
    }

    /// Counters: delivered, stalls (times the reader waited for room), reconnects,
    /// dropped_unlistened, queued (events waiting for the loop now).
    fn stats<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let s = self.inner.stats();
        let d = PyDict::new(py);
        d.set_item("delivered", s.delivered)?;
        d.set_item("stalls", s.stalls)?;
        d.set_item("reconnects", s.reconnects)?;
        d.set_item("dropped_unlistened", s.dropped_unlistened)?;
        d.set_item(
            "queued",
            self.receiver
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .len(),
        )?;
        Ok(d)
    }
}

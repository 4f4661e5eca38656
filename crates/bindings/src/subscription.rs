//! What `Listener` (LISTEN/NOTIFY) and `RedisSubscriber` (SUBSCRIBE) share: an engine
//! connection subscribed to named channels, and the bounded loop queue its events wait in.
//!
//! The queue's eventfd is what the loop watches (`loop.add_reader(sub.fileno(), ...)`), so
//! a burst of events wakes the loop once and `drain` hands them over as one list. The
//! tokio threads never take the GIL.

use std::future::Future;
use std::sync::{Arc, Mutex};

use hyperdjango_engine::bridge::{LoopReceiver, LoopWaker};
use hyperdjango_engine::db::postgres::PgListener;
use hyperdjango_engine::db::DbError;
use hyperdjango_engine::redis::{RedisFailure, RedisSubscriber};
use pyo3::prelude::*;
use pyo3::types::{PyList, PyTuple};

use crate::completion::{LoopBridge, Outcome, RustFuture};
use crate::db::errors;
use crate::redis::failure_to_py;

/// An engine connection that joins and leaves named channels.
pub(crate) trait ChannelConnection: Send + Sync + 'static {
    type Error: Send + 'static;

    /// Joins `channel` (idempotent).
    fn join(
        self: Arc<Self>,
        channel: String,
    ) -> impl Future<Output = Result<(), Self::Error>> + Send;
    /// Leaves `channel`: nothing more from it is delivered.
    fn leave(
        self: Arc<Self>,
        channel: String,
    ) -> impl Future<Output = Result<(), Self::Error>> + Send;
    /// Closes the connection (idempotent).
    fn shut(self: Arc<Self>) -> impl Future<Output = ()> + Send;
    /// The channels joined, sorted.
    fn joined(&self) -> Vec<String>;
    /// Whether the connection is up (false while reconnecting and once closed).
    fn is_up(&self) -> bool;
    fn error_to_py(py: Python<'_>, error: &Self::Error) -> PyErr;
}

/// The trait for an engine connection whose join and leave are named `$join`/`$leave`.
macro_rules! channel_connection {
    ($type:ty, $error:ty, $join:ident, $leave:ident, $to_py:expr) => {
        impl ChannelConnection for $type {
            type Error = $error;

            async fn join(self: Arc<Self>, channel: String) -> Result<(), $error> {
                self.$join(&channel).await
            }

            async fn leave(self: Arc<Self>, channel: String) -> Result<(), $error> {
                self.$leave(&channel).await
            }

            async fn shut(self: Arc<Self>) {
                self.close().await
            }

            fn joined(&self) -> Vec<String> {
                self.channels()
            }

            fn is_up(&self) -> bool {
                self.is_connected()
            }

            fn error_to_py(py: Python<'_>, error: &$error) -> PyErr {
                $to_py(py, error)
            }
        }
    };
}

channel_connection!(PgListener, DbError, listen, unlisten, errors::to_py);
channel_connection!(
    RedisSubscriber,
    RedisFailure,
    subscribe,
    unsubscribe,
    |_py, error| failure_to_py(error)
);

/// A subscribed connection and the queue of events `E` it feeds the loop.
pub(crate) struct Subscription<C, E> {
    connection: Arc<C>,
    waker: Arc<LoopWaker>,
    queue: Mutex<LoopReceiver<E>>,
}

impl<C: ChannelConnection, E> Subscription<C, E> {
    pub(crate) fn new(connection: C, waker: Arc<LoopWaker>, queue: LoopReceiver<E>) -> Self {
        Subscription {
            connection: Arc::new(connection),
            waker,
            queue: Mutex::new(queue),
        }
    }

    pub(crate) fn connection(&self) -> &C {
        &self.connection
    }

    /// The eventfd that becomes readable when events are waiting.
    pub(crate) fn fileno(&self) -> i32 {
        self.waker.fd()
    }

    /// Up to `max` waiting events, oldest first, each made a tuple by `item`. Fewer
    /// than `max` means the queue is empty and the fd is re-armed.
    pub(crate) fn drain<'py>(
        &self,
        py: Python<'py>,
        max: usize,
        mut item: impl FnMut(E) -> PyResult<Bound<'py, PyTuple>>,
    ) -> PyResult<Bound<'py, PyList>> {
        self.waker.take();
        let batch = self
            .queue
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .drain(max.max(1));
        let items = batch
            .into_iter()
            .map(&mut item)
            .collect::<PyResult<Vec<_>>>()?;
        PyList::new(py, items)
    }

    /// Events waiting for the loop now.
    pub(crate) fn queued(&self) -> usize {
        self.queue.lock().unwrap_or_else(|e| e.into_inner()).len()
    }

    pub(crate) fn join<'py>(
        &self,
        bridge: &Bound<'py, LoopBridge>,
        channel: String,
    ) -> PyResult<Bound<'py, RustFuture>> {
        let work = self.connection.clone().join(channel);
        LoopBridge::spawn(bridge, async move { none_outcome::<C>(work.await) })
    }

    pub(crate) fn leave<'py>(
        &self,
        bridge: &Bound<'py, LoopBridge>,
        channel: String,
    ) -> PyResult<Bound<'py, RustFuture>> {
        let work = self.connection.clone().leave(channel);
        LoopBridge::spawn(bridge, async move { none_outcome::<C>(work.await) })
    }

    pub(crate) fn close<'py>(
        &self,
        bridge: &Bound<'py, LoopBridge>,
    ) -> PyResult<Bound<'py, RustFuture>> {
        let work = self.connection.clone().shut();
        LoopBridge::spawn(bridge, async move {
            work.await;
            none_outcome::<C>(Ok(()))
        })
    }

    pub(crate) fn channels(&self) -> Vec<String> {
        self.connection.joined()
    }

    pub(crate) fn connected(&self) -> bool {
        self.connection.is_up()
    }
}

fn none_outcome<C: ChannelConnection>(result: Result<(), C::Error>) -> Outcome {
    Box::new(move |py| {
        result
            .map(|()| py.None())
            .map_err(|e| C::error_to_py(py, &e))
    })
}

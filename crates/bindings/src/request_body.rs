//! What ASGI and WSGI apps need from a `PendingRequest` beyond what a HyperApp
//! uses: the body pulled chunk by chunk (`receive`, `wsgi.input`), the client
//! going away (`http.disconnect`) and the headers as bytes (the ASGI scope).
//!
//! Only servers started with `stream_bodies=True` leave the body unread
//! (`crates/engine/src/http/body.rs`). Nothing is read from the socket before
//! the app asks, so the client is held back by TCP instead of the body
//! piling up in memory.

use std::sync::Arc;

use hyperdjango_engine::http::{BodyError, RequestBody};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyList, PyString, PyTuple};
use tokio::sync::Mutex;
use tokio_util::sync::CancellationToken;

use crate::completion::{runtime, LoopBridge, Outcome, RustFuture};
use crate::request::PendingRequest;

/// The unread body of one request; shared so a read can run on tokio.
pub(crate) type BodySlot = Arc<Mutex<Option<RequestBody>>>;

/// Reads the next chunk: `Ok((chunk, more))` (`more` is false with the last
/// chunk, or an empty one at the end) or the error.
async fn next_chunk(slot: BodySlot) -> Result<(bytes::Bytes, bool), BodyError> {
    let mut body = slot.lock_owned().await;
    match body.as_mut() {
        Some(body) => {
            let chunk = body.next_chunk().await?.unwrap_or_default();
            Ok((chunk, !body.is_done()))
        }
        None => Ok((bytes::Bytes::new(), false)),
    }
}

/// `(0, bytes, more)` for a chunk or `(status, detail, False)`.
fn chunk_to_py<'py>(
    py: Python<'py>,
    chunk: Result<(bytes::Bytes, bool), BodyError>,
) -> PyResult<Bound<'py, PyTuple>> {
    match chunk {
        Ok((data, more)) => (0u16, PyBytes::new(py, &data), more).into_pyobject(py),
        Err(e) => (e.status(), PyString::new(py, &e.detail()), false).into_pyobject(py),
    }
}

#[pymethods]
impl PendingRequest {
    /// Whether the body is left to `receive_body`/`read_body_blocking`
    /// (a server started with `stream_bodies=True`).
    #[getter]
    fn body_streamed(&self) -> bool {
        self.body_slot().is_some()
    }

    /// Awaitable of the next body chunk, finished on `bridge`'s loop:
    /// `(0, bytes, more)` (`more` false with the last chunk), or
    /// `(status, detail, False)` when the body is too large (413), malformed
    /// (400) or too slow (408).
    fn receive_body<'py>(
        &self,
        bridge: &Bound<'py, LoopBridge>,
    ) -> PyResult<Bound<'py, RustFuture>> {
        let slot = self.body_slot().unwrap_or_default();
        LoopBridge::spawn(bridge, async move {
            let chunk = next_chunk(slot).await;
            Box::new(move |py: Python<'_>| Ok(chunk_to_py(py, chunk)?.into_any().unbind()))
                as Outcome
        })
    }

    /// `receive_body` for a worker thread: waits without the GIL. Never call it on the loop.
    fn read_body_blocking<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        let slot = self.body_slot().unwrap_or_default();
        let chunk = py.detach(|| runtime().block_on(next_chunk(slot)));
        chunk_to_py(py, chunk)
    }

    /// Awaitable finished (with None) when the client goes away before the
    /// request is answered. Cancel it once the response is complete.
    fn disconnected<'py>(
        &self,
        bridge: &Bound<'py, LoopBridge>,
    ) -> PyResult<Bound<'py, RustFuture>> {
        let gone: CancellationToken = self.gone_token();
        LoopBridge::spawn(bridge, async move {
            gone.cancelled().await;
            Box::new(|py: Python<'_>| Ok(py.None())) as Outcome
        })
    }

    /// Whether the body has been read to its end (true from the start for a
    /// request without one): no `receive_body` round trip is needed.
    #[getter]
    fn body_complete(&self) -> bool {
        match self.body_slot() {
            None => true,
            Some(slot) => slot
                .try_lock()
                .map(|body| body.as_ref().is_none_or(RequestBody::is_done))
                .unwrap_or(false),
        }
    }

    /// `[(name, value), ...]` as bytes, in the order received (ASGI's `headers`):
    /// no decoding to str and back.
    #[getter]
    fn header_bytes<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let list = PyList::empty(py);
        for (name, value) in self.header_map() {
            list.append((
                PyBytes::new(py, name.as_str().as_bytes()),
                PyBytes::new(py, value.as_bytes()),
            ))?;
        }
        Ok(list)
    }

    /// Whether the client went away before the request was answered.
    #[getter]
    fn is_disconnected(&self) -> bool {
        self.gone_token().is_cancelled()
    }
}

//! The stream form of a render: a thread renders into a bounded channel of chunks
//! that Python iterates; a reader that goes away stops the render.

use std::io::{self, Write};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::{Arc, Mutex, RwLock};

use hyperdjango_templates::{Engine, TemplateError, Value};
use pyo3::create_exception;
use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use pyo3::types::PyBytes;

create_exception!(
    _core,
    StreamsFull,
    PyRuntimeError,
    "Too many streamed renders run at once; the request should be answered 503."
);

/// Chunks rendered ahead of the reader.
const AHEAD: usize = 4;

/// Streamed renders running at once (one thread each); more are refused, not queued.
pub(crate) const MAX_STREAMS: usize = 256;
static RUNNING: AtomicUsize = AtomicUsize::new(0);
static REFUSED: AtomicU64 = AtomicU64::new(0);

/// `(running, refused)`: streamed renders now, and those refused since start.
pub(crate) fn stats() -> (usize, u64) {
    (
        RUNNING.load(Ordering::Relaxed),
        REFUSED.load(Ordering::Relaxed),
    )
}

/// A slot among the MAX_STREAMS; freed when the render thread ends.
struct Slot;

impl Slot {
    fn take() -> Option<Slot> {
        RUNNING
            .fetch_update(Ordering::AcqRel, Ordering::Relaxed, |n| {
                (n < MAX_STREAMS).then_some(n + 1)
            })
            .ok()
            .map(|_| Slot)
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        RUNNING.fetch_sub(1, Ordering::AcqRel);
    }
}

type Chunk = Result<Vec<u8>, Box<TemplateError>>;

/// An iterator of rendered byte chunks (`for chunk in stream`), rendered on a thread.
#[pyclass(module = "hyperdjango._core", frozen)]
pub struct TemplateStream {
    chunks: Mutex<Receiver<Chunk>>,
}

struct ChunkWriter {
    tx: SyncSender<Chunk>,
    buffer: Vec<u8>,
    size: usize,
}

impl ChunkWriter {
    fn send(&mut self) -> io::Result<()> {
        if self.buffer.is_empty() {
            return Ok(());
        }
        let chunk = std::mem::replace(&mut self.buffer, Vec::with_capacity(self.size));
        self.tx
            .send(Ok(chunk))
            .map_err(|_| io::Error::new(io::ErrorKind::BrokenPipe, "the reader went away"))
    }
}

impl Write for ChunkWriter {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.buffer.extend_from_slice(data);
        if self.buffer.len() >= self.size {
            self.send()?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl TemplateStream {
    pub(crate) fn start(
        engine: Arc<RwLock<Engine>>,
        name: String,
        context: Value,
        size: usize,
    ) -> PyResult<Self> {
        let Some(slot) = Slot::take() else {
            REFUSED.fetch_add(1, Ordering::Relaxed);
            return Err(StreamsFull::new_err(format!(
                "{MAX_STREAMS} streamed renders are running already"
            )));
        };
        let (tx, rx) = sync_channel(AHEAD);
        let size = size.max(1);
        std::thread::Builder::new()
            .name("hyperdjango-template-stream".into())
            .spawn(move || {
                let _slot = slot;
                let mut writer = ChunkWriter {
                    tx: tx.clone(),
                    buffer: Vec::with_capacity(size),
                    size,
                };
                let engine = engine.read().unwrap_or_else(|e| e.into_inner());
                // A panic must reach the reader as an error: a thread that just ended
                // would look like the end of the page, and a cut page like a whole one.
                let rendered = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    engine.render_to(&name, &context, &mut writer)
                }))
                .unwrap_or_else(|_| {
                    Err(Box::new(TemplateError::internal(
                        &name,
                        "the render panicked",
                    )))
                });
                match rendered {
                    Ok(()) => {
                        let _ = writer.send();
                    }
                    // A render error goes to the reader; a gone reader needs no word.
                    Err(e) => {
                        let _ = tx.send(Err(e));
                    }
                }
            })
            .map_err(|e| {
                pyo3::exceptions::PyRuntimeError::new_err(format!(
                    "could not start a render thread: {e}"
                ))
            })?;
        Ok(TemplateStream {
            chunks: Mutex::new(rx),
        })
    }
}

#[pymethods]
impl TemplateStream {
    fn __iter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    /// The next chunk; waits for it without the GIL. Call it off the event loop.
    fn __next__<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyBytes>>> {
        let next = py.detach(|| self.chunks.lock().unwrap_or_else(|e| e.into_inner()).recv());
        match next {
            Ok(Ok(chunk)) => Ok(Some(PyBytes::new(py, &chunk))),
            Ok(Err(e)) => Err(super::raise(py, e)),
            Err(_) => Ok(None),
        }
    }
}

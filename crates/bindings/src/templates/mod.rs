//! `_core.TemplateEngine`: the template engine (crates/templates) for Python.
//! The context is converted once on the calling thread; the render itself runs
//! without the GIL, which only Python filters, tests and globals take back.

mod stream;
mod values;

use std::path::PathBuf;
use std::sync::{Arc, RwLock, RwLockReadGuard};

use hyperdjango_templates::{Engine, EngineConfig, Kwargs, Rest, Value};
use pyo3::create_exception;
use pyo3::exceptions::PyException;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyList};

pub(crate) use stream::{StreamsFull, TemplateStream};

create_exception!(
    _core,
    TemplateError,
    PyException,
    "A template failed to compile or render; `template`, `line`, `column`, `kind` and `source_lines` say where."
);

/// Raises the engine's error as a Python `TemplateError` with its place as attributes.
pub(crate) fn raise(py: Python<'_>, error: Box<hyperdjango_templates::TemplateError>) -> PyErr {
    let err = TemplateError::new_err(error.to_string());
    let value = err.value(py);
    let excerpt = error
        .excerpt
        .iter()
        .map(|(n, text)| (*n, text.as_str()))
        .collect::<Vec<_>>();
    // Setting attributes on a fresh exception object cannot fail in practice;
    // if it did, the message above still names the place.
    let _ = value.setattr("template", error.name.as_deref());
    let _ = value.setattr("line", error.line);
    let _ = value.setattr("column", error.column);
    let _ = value.setattr("kind", error.kind.as_str());
    let _ = value.setattr("message", error.message.as_str());
    let _ = PyList::new(py, excerpt).and_then(|lines| value.setattr("source_lines", lines));
    err
}

/// A template environment: folders searched in order, compiled templates cached.
#[pyclass(module = "hyperdjango._core", frozen)]
pub struct TemplateEngine {
    engine: Arc<RwLock<Engine>>,
}

impl TemplateEngine {
    fn read(&self) -> RwLockReadGuard<'_, Engine> {
        self.engine.read().unwrap_or_else(|e| e.into_inner())
    }

    /// Changes the environment. Waits for running renders without the GIL, since
    /// a render may be waiting for the GIL to call a Python filter.
    fn configure(&self, py: Python<'_>, change: impl FnOnce(&mut Engine) + Send) {
        py.detach(|| change(&mut self.engine.write().unwrap_or_else(|e| e.into_inner())));
    }
}

#[pymethods]
impl TemplateEngine {
    #[new]
    #[pyo3(signature = (dirs, reload = false, strict_undefined = false))]
    fn new(dirs: Vec<PathBuf>, reload: bool, strict_undefined: bool) -> TemplateEngine {
        let engine = Engine::new(EngineConfig {
            dirs,
            reload,
            strict_undefined,
        });
        TemplateEngine {
            engine: Arc::new(RwLock::new(engine)),
        }
    }

    /// Renders the template `name` with `context` (a dict; its `Lazy` values computed
    /// only if the template reads them) to a str.
    fn render(&self, py: Python<'_>, name: &str, context: &Bound<'_, PyAny>) -> PyResult<String> {
        let context = values::context_value(context)?;
        py.detach(|| self.read().render(name, &context))
            .map_err(|e| raise(py, e))
    }

    /// `render`, as UTF-8 bytes: a response body is sent as bytes, so the page is never
    /// decoded into a str and encoded back.
    fn render_bytes<'py>(
        &self,
        py: Python<'py>,
        name: &str,
        context: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyBytes>> {
        let context = values::context_value(context)?;
        let page = py
            .detach(|| self.read().render(name, &context))
            .map_err(|e| raise(py, e))?;
        Ok(PyBytes::new(py, page.as_bytes()))
    }

    /// Renders `source` (a template as text; `name` chooses autoescape and names errors).
    fn render_string(
        &self,
        py: Python<'_>,
        name: &str,
        source: &str,
        context: &Bound<'_, PyAny>,
    ) -> PyResult<String> {
        let context = values::context_value(context)?;
        py.detach(|| self.read().render_str(name, source, &context))
            .map_err(|e| raise(py, e))
    }

    /// Renders `name` on a thread of its own, as an iterator of byte chunks of about
    /// `chunk_size` bytes; at most a few chunks wait unread.
    #[pyo3(signature = (name, context, chunk_size = 16384))]
    fn stream(
        &self,
        name: String,
        context: &Bound<'_, PyAny>,
        chunk_size: usize,
    ) -> PyResult<TemplateStream> {
        let context = values::to_value(context)?;
        TemplateStream::start(self.engine.clone(), name, context, chunk_size)
    }

    /// Registers a Python filter: `{{ value|name(args) }}` calls `function(value, *args)`.
    fn add_filter(&self, py: Python<'_>, name: String, function: Py<PyAny>) {
        self.configure(py, move |engine| {
            engine.env_mut().add_filter(
                name,
                move |value: Value, args: Rest<Value>, kwargs: Kwargs| {
                    let mut all = vec![value];
                    all.extend(args.0);
                    values::call(&function, &all, &kwargs)
                },
            )
        });
    }

    /// Registers a Python test: `{% if value is name(args) %}` calls `function(value, *args)`.
    fn add_test(&self, py: Python<'_>, name: String, function: Py<PyAny>) {
        self.configure(py, move |engine| {
            engine.env_mut().add_test(
                name,
                move |value: Value, args: Rest<Value>, kwargs: Kwargs| {
                    let mut all = vec![value];
                    all.extend(args.0);
                    values::call(&function, &all, &kwargs).map(|v| v.is_true())
                },
            )
        });
    }

    /// Makes `value` available in every template as `name` (a callable stays a Python call).
    fn add_global(&self, py: Python<'_>, name: String, value: &Bound<'_, PyAny>) -> PyResult<()> {
        let value = values::to_value(value)?;
        self.configure(py, move |engine| engine.env_mut().add_global(name, value));
        Ok(())
    }

    /// `{"running": n, "refused": m}`: streamed renders running now, and refused since start
    /// (at most `MAX_STREAMS` run at once).
    #[staticmethod]
    fn stream_stats() -> std::collections::HashMap<&'static str, u64> {
        let (running, refused) = stream::stats();
        [
            ("running", running as u64),
            ("refused", refused),
            ("max", stream::MAX_STREAMS as u64),
        ]
        .into()
    }

    /// Forgets the compiled templates; the next render reads the files again.
    fn clear_cache(&self, py: Python<'_>) {
        self.configure(py, Engine::clear_cache);
    }
}

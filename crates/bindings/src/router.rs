//! `hyperdjango._core.Router`: the route table, built from Python at start-up.

use std::sync::{Arc, Mutex};

use hyperdjango_engine::router::{self as engine, RouteMatch};
use pyo3::exceptions::{PyKeyError, PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyTuple};

use crate::convert::param_to_py;

enum State {
    // Boxed: the table being built is large and the frozen state is one pointer.
    Building(Box<engine::Router>),
    Frozen(Arc<engine::Router>),
}

/// The route table. Routes are added while the app is being defined; a
/// server freezes the table when it starts.
#[pyclass(module = "hyperdjango._core", frozen)]
pub struct Router {
    state: Mutex<State>,
}

impl Router {
    /// The table as a server needs it; no route can be added afterwards.
    pub(crate) fn freeze(&self) -> Arc<engine::Router> {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        if let State::Building(router) = &mut *state {
            let router = std::mem::take(router);
            *state = State::Frozen(Arc::new(*router));
        }
        match &*state {
            State::Frozen(router) => router.clone(),
            State::Building(_) => unreachable!("frozen just above"),
        }
    }

    fn with<R>(&self, f: impl FnOnce(&engine::Router) -> R) -> R {
        let state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        match &*state {
            State::Building(router) => f(router),
            State::Frozen(router) => f(router),
        }
    }
}

#[pymethods]
impl Router {
    #[new]
    #[pyo3(signature = (redirect_slashes = true))]
    fn new(redirect_slashes: bool) -> Self {
        Router {
            state: Mutex::new(State::Building(Box::new(engine::Router::new(
                redirect_slashes,
            )))),
        }
    }

    /// Adds a route; returns its id. Raises ValueError for a bad pattern or a conflict.
    #[pyo3(signature = (pattern, methods, name = None))]
    fn add(&self, pattern: &str, methods: Vec<String>, name: Option<&str>) -> PyResult<usize> {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        match &mut *state {
            State::Building(router) => {
                let methods: Vec<&str> = methods.iter().map(String::as_str).collect();
                router
                    .add(pattern, &methods, name)
                    .map_err(|e| PyValueError::new_err(e.to_string()))
            }
            State::Frozen(_) => Err(PyRuntimeError::new_err(
                "routes cannot be added once the server has started",
            )),
        }
    }

    /// Builds the path of a named route.
    fn url_for(&self, name: &str, params: Vec<(String, String)>) -> PyResult<String> {
        self.with(|r| r.url_for(name, &params))
            .map_err(|e| match e {
                engine::RouterError::UnknownName { .. } => PyKeyError::new_err(e.to_string()),
                _ => PyValueError::new_err(e.to_string()),
            })
    }

    /// Every route as (pattern, methods, name), in the order they were added.
    fn routes<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let rows: Vec<(String, Vec<String>, Option<String>)> = self.with(|r| {
            r.routes()
                .map(|info| {
                    (
                        info.pattern.clone(),
                        info.methods.clone(),
                        info.name.clone(),
                    )
                })
                .collect()
        });
        PyList::new(py, rows)
    }

    /// Matches like the server does: `("found", route_id, params)`,
    /// `("not_found",)`, `("method_not_allowed", allow)` or `("redirect", location)`.
    #[pyo3(signature = (method, path, query = None))]
    fn lookup<'py>(
        &self,
        py: Python<'py>,
        method: &str,
        path: &str,
        query: Option<&str>,
    ) -> PyResult<Bound<'py, PyTuple>> {
        match self.with(|r| r.lookup(method, path, query)) {
            RouteMatch::Found { route_id, params } => {
                let dict = PyDict::new(py);
                for (name, value) in &params {
                    dict.set_item(name, param_to_py(py, value)?)?;
                }
                PyTuple::new(
                    py,
                    [
                        "found".into_pyobject(py)?.into_any(),
                        route_id.into_pyobject(py)?.into_any(),
                        dict.into_any(),
                    ],
                )
            }
            RouteMatch::NotFound => PyTuple::new(py, ["not_found"]),
            RouteMatch::MethodNotAllowed { allow } => PyTuple::new(
                py,
                [
                    "method_not_allowed".into_pyobject(py)?.into_any(),
                    PyList::new(py, allow)?.into_any(),
                ],
            ),
            RouteMatch::Redirect { location } => PyTuple::new(py, ["redirect", location.as_str()]),
        }
    }
}

//! Database errors as the Python exceptions of `hyperdjango.database.errors`.

use hyperdjango_engine::db::{DbError, ErrorKind};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::PyModule;

static MODULE: PyOnceLock<Py<PyModule>> = PyOnceLock::new();

fn class_name(kind: ErrorKind) -> &'static str {
    match kind {
        ErrorKind::Integrity => "IntegrityError",
        ErrorKind::Data => "DataError",
        ErrorKind::Programming => "ProgrammingError",
        ErrorKind::Operational => "OperationalError",
        ErrorKind::PoolTimeout => "PoolTimeout",
        ErrorKind::Cancelled => "QueryCancelled",
        ErrorKind::Database => "DatabaseError",
        ErrorKind::Interface => "InterfaceError",
    }
}

fn build(py: Python<'_>, err: &DbError) -> PyResult<PyErr> {
    let module = MODULE.get_or_try_init(py, || {
        Ok::<_, PyErr>(py.import("hyperdjango.database.errors")?.unbind())
    })?;
    let class = module.bind(py).getattr(class_name(err.kind))?;
    let instance = class.call1((err.to_string(),))?;
    instance.setattr("sqlstate", err.sqlstate.as_deref())?;
    instance.setattr("constraint_name", err.constraint.as_deref())?;
    instance.setattr("detail", err.detail.as_deref())?;
    instance.setattr("hint", err.hint.as_deref())?;
    instance.setattr("sql", err.sql.as_deref())?;
    // The engine's own rule (the one its retries follow), so that Python's cannot drift.
    instance.setattr("connection_lost", err.is_connection_loss())?;
    Ok(PyErr::from_value(instance))
}

/// The Python exception for a driver error (its class chosen by the error's kind).
pub(crate) fn to_py(py: Python<'_>, err: &DbError) -> PyErr {
    build(py, err).unwrap_or_else(|import_failed| import_failed)
}

/// A `DataError` raised before anything reaches the database (a value that cannot be sent).
pub(crate) fn data_error(py: Python<'_>, message: String) -> PyErr {
    to_py(py, &DbError::new(ErrorKind::Data, message))
}

//! `hyperdjango._core.Row`: one result row, by name, index or attribute.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use pyo3::exceptions::{PyAttributeError, PyIndexError, PyKeyError, PyTypeError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PySlice, PyString, PyTuple, PyType};

use super::instances::Allocator;

/// The column names of a result, shared by all its rows.
pub(crate) struct Columns {
    pub names: Py<PyTuple>,
    pub index: Py<PyDict>,
}

/// The `Columns` of recent results, by their names: a statement run again (the common
/// case: a prepared statement's rows share one `Arc` of names) reuses its tuple and index
/// instead of building them per result. Emptied when full (distinct column lists are few).
static RECENT: Mutex<Option<ColumnsByNames>> = Mutex::new(None);

/// Looked up for every result: foldhash, not SipHash.
type ColumnsByNames = HashMap<Arc<[String]>, Arc<Columns>, foldhash::fast::RandomState>;

/// At most this many column lists are remembered.
const RECENT_CAPACITY: usize = 256;

impl Columns {
    /// The `Columns` of a result with these names (shared with earlier results of the same names).
    pub(crate) fn of(py: Python<'_>, names: &Arc<[String]>) -> PyResult<Arc<Columns>> {
        let known = RECENT
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .as_ref()
            .and_then(|recent| recent.get(names).cloned());
        if let Some(columns) = known {
            return Ok(columns);
        }
        // Built without the lock held: building calls into Python.
        let columns = Columns::new(py, names)?;
        let mut recent = RECENT.lock().unwrap_or_else(|e| e.into_inner());
        let recent = recent.get_or_insert_with(HashMap::default);
        if recent.len() >= RECENT_CAPACITY {
            recent.clear();
        }
        recent.insert(names.clone(), columns.clone());
        Ok(columns)
    }

    fn new(py: Python<'_>, names: &[String]) -> PyResult<Arc<Columns>> {
        let index = PyDict::new(py);
        // The first of two equal names wins, as in asyncpg and psycopg.
        for (i, name) in names.iter().enumerate().rev() {
            index.set_item(name, i)?;
        }
        Ok(Arc::new(Columns {
            names: PyTuple::new(py, names)?.unbind(),
            index: index.unbind(),
        }))
    }
}

/// A row: `row["name"]`, `row[0]`, `row.name`, `dict(row)`, `len(row)`;
/// iterating gives the values in column order, like a tuple.
#[pyclass(module = "hyperdjango._core", frozen, sequence)]
pub struct Row {
    columns: Arc<Columns>,
    values: Py<PyTuple>,
}

impl Row {
    pub(crate) fn new(columns: Arc<Columns>, values: Py<PyTuple>) -> Self {
        Row { columns, values }
    }

    fn position(&self, py: Python<'_>, name: &Bound<'_, PyString>) -> PyResult<Option<usize>> {
        match self.columns.index.bind(py).get_item(name)? {
            Some(i) => Ok(Some(i.extract()?)),
            None => Ok(None),
        }
    }
}

#[pymethods]
impl Row {
    fn __getitem__<'py>(
        &self,
        py: Python<'py>,
        key: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let values = self.values.bind(py);
        if let Ok(name) = key.cast::<PyString>() {
            return match self.position(py, name)? {
                Some(i) => values.get_item(i),
                None => Err(PyKeyError::new_err(format!(
                    "no column {name:?}; the columns are {}",
                    self.columns.names.bind(py).repr()?
                ))),
            };
        }
        if key.is_instance_of::<PySlice>() {
            return values.as_any().get_item(key);
        }
        let index: isize = key
            .extract()
            .map_err(|_| PyTypeError::new_err("a row is indexed by column name or position"))?;
        let len = values.len() as isize;
        let i = if index < 0 { index + len } else { index };
        if i < 0 || i >= len {
            return Err(PyIndexError::new_err("row index out of range"));
        }
        values.get_item(i as usize)
    }

    fn __getattr__<'py>(
        &self,
        py: Python<'py>,
        name: &Bound<'py, PyString>,
    ) -> PyResult<Bound<'py, PyAny>> {
        match self.position(py, name)? {
            Some(i) => self.values.bind(py).get_item(i),
            None => Err(PyAttributeError::new_err(format!(
                "the row has no column {name:?}"
            ))),
        }
    }

    fn __len__(&self, py: Python<'_>) -> usize {
        self.values.bind(py).len()
    }

    fn __iter__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        Ok(self.values.bind(py).as_any().try_iter()?.into_any())
    }

    fn __contains__(&self, py: Python<'_>, name: &Bound<'_, PyAny>) -> PyResult<bool> {
        self.columns.index.bind(py).contains(name)
    }

    /// The column names, so `dict(row)` works.
    fn keys<'py>(&self, py: Python<'py>) -> Bound<'py, PyTuple> {
        self.columns.names.bind(py).clone()
    }

    fn values<'py>(&self, py: Python<'py>) -> Bound<'py, PyTuple> {
        self.values.bind(py).clone()
    }

    fn items<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let names = self.columns.names.bind(py);
        let pairs = names
            .iter()
            .zip(self.values.bind(py).iter())
            .map(|(k, v)| PyTuple::new(py, [k, v]))
            .collect::<PyResult<Vec<_>>>()?;
        PyList::new(py, pairs)
    }

    #[pyo3(signature = (name, default = None))]
    fn get<'py>(
        &self,
        py: Python<'py>,
        name: &Bound<'py, PyString>,
        default: Option<Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        match self.position(py, name)? {
            Some(i) => self.values.bind(py).get_item(i),
            None => Ok(default.unwrap_or_else(|| py.None().into_bound(py))),
        }
    }

    fn __eq__(&self, py: Python<'_>, other: &Bound<'_, PyAny>) -> PyResult<bool> {
        if let Ok(row) = other.cast::<Row>() {
            let row = row.get();
            return Ok(self.columns.names.bind(py).eq(row.columns.names.bind(py))?
                && self.values.bind(py).eq(row.values.bind(py))?);
        }
        // A row equals the tuple of its values, as asyncpg's Record does.
        self.values.bind(py).eq(other)
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        let parts = self
            .columns
            .names
            .bind(py)
            .iter()
            .zip(self.values.bind(py).iter())
            .map(|(k, v)| Ok(format!("{}={}", k.str()?, v.repr()?)))
            .collect::<PyResult<Vec<_>>>()?;
        Ok(format!("<Row {}>", parts.join(" ")))
    }
}

/// Instances of `cls` from `rows`, as the ORM loads them: `object.__new__(cls)`
/// whose `__dict__` maps `names` to the row's first values, then holds `extra`.
/// No `__init__`, no validation: a row read from the database is trusted. Done
/// here because it runs once per row of every ORM query (3x faster than Python).
#[pyfunction]
pub(crate) fn instances_from_rows<'py>(
    py: Python<'py>,
    rows: &Bound<'py, PyAny>,
    cls: &Bound<'py, PyType>,
    names: &Bound<'py, PyTuple>,
    extra: &Bound<'py, PyDict>,
) -> PyResult<Bound<'py, PyList>> {
    let alloc = Allocator::of(cls);
    let out = PyList::empty(py);
    for row in rows.try_iter()? {
        let row = row?;
        let row = row.cast::<Row>()?;
        let values = row.get().values.bind(py);
        let dict = PyDict::new(py);
        for (name, value) in names.iter().zip(values.iter()) {
            dict.set_item(name, value)?;
        }
        dict.update(extra.as_mapping())?;
        out.append(alloc.new_with_dict(&dict)?)?;
    }
    Ok(out)
}

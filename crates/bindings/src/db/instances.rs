//! Model instances straight from database rows, as the ORM loads them.
//!
//! An instance is `object.__new__(cls)` whose `__dict__` maps the field names
//! to the row's values (after the few conversions a backend needs), then holds
//! the reader's `extra` items: no `__init__`, no validation (a row read from
//! the database is trusted), no `Row` object in between, and no Python loop
//! per row. Done here because it runs once per row of every ORM query.

use std::ffi::c_void;

use hyperdjango_engine::db::{Rows, Value};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyTuple, PyType};
use pyo3::{ffi, intern};

use super::values::value_to_py;

/// How a compiled ORM query's rows become instances: the class, the names of
/// the first columns, the items every instance also gets, and a converter per
/// column that needs one (`(index, callable)`), applied to the driver's value.
#[pyclass(module = "hyperdjango._core", frozen)]
pub struct InstanceReader {
    cls: Py<PyType>,
    names: Py<PyTuple>,
    /// Every name (mapped to None) then the extra items: each instance's `__dict__`
    /// starts as a copy of it, so filling it in replaces values and never grows it.
    template: Py<PyDict>,
    /// One entry per name: the converter of that column, if any.
    converters: Vec<Option<Py<PyAny>>>,
}

#[pymethods]
impl InstanceReader {
    #[new]
    fn new(
        cls: Bound<'_, PyType>,
        names: Bound<'_, PyTuple>,
        extra: Bound<'_, PyDict>,
        converters: Vec<(usize, Bound<'_, PyAny>)>,
    ) -> PyResult<Self> {
        let mut by_column: Vec<Option<Py<PyAny>>> = (0..names.len()).map(|_| None).collect();
        for (index, convert) in converters {
            let slot = by_column.get_mut(index).ok_or_else(|| {
                PyValueError::new_err(format!(
                    "converter index {index} is past the {} names",
                    names.len()
                ))
            })?;
            *slot = Some(convert.unbind());
        }
        let template = PyDict::new(cls.py());
        for name in names.iter() {
            template.set_item(name, cls.py().None())?;
        }
        template.update(extra.as_mapping())?;
        Ok(InstanceReader {
            cls: cls.unbind(),
            names: names.unbind(),
            template: template.unbind(),
            converters: by_column,
        })
    }

    /// The instances of `rows` (`Row`s, or anything whose items are the values):
    /// for readers of rows already fetched (a cursor's chunks).
    fn __call__<'py>(
        &self,
        py: Python<'py>,
        rows: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyList>> {
        let out = PyList::empty(py);
        let alloc = Allocator::of(self.cls.bind(py));
        for row in rows.try_iter()? {
            let values = row?.try_iter()?.collect::<PyResult<Vec<_>>>()?;
            out.append(self.instance(py, &alloc, values)?)?;
        }
        Ok(out)
    }
}

impl InstanceReader {
    /// The instances of a fetched result, decoded from the driver's values.
    pub(crate) fn read<'py>(&self, py: Python<'py>, rows: Rows) -> PyResult<Bound<'py, PyList>> {
        let out = PyList::empty(py);
        let alloc = Allocator::of(self.cls.bind(py));
        for row in &rows.rows {
            out.append(self.decoded(py, &alloc, row)?)?;
        }
        Ok(out)
    }

    /// The instance of a fetched result's first row, or None when it has no row
    /// (`get()` and `first()`: one instance, no list around it).
    pub(crate) fn read_first<'py>(
        &self,
        py: Python<'py>,
        rows: &Rows,
    ) -> PyResult<Option<Bound<'py, PyAny>>> {
        match rows.rows.first() {
            Some(row) => Ok(Some(self.decoded(
                py,
                &Allocator::of(self.cls.bind(py)),
                row,
            )?)),
            None => Ok(None),
        }
    }

    /// The instance of one row of the driver's values.
    fn decoded<'py>(
        &self,
        py: Python<'py>,
        alloc: &Allocator<'py>,
        row: &[Value],
    ) -> PyResult<Bound<'py, PyAny>> {
        let values = row
            .iter()
            .take(self.converters.len())
            .map(|v| value_to_py(py, v))
            .collect::<PyResult<Vec<_>>>()?;
        self.instance(py, alloc, values)
    }

    fn instance<'py>(
        &self,
        py: Python<'py>,
        alloc: &Allocator<'py>,
        values: Vec<Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let names = self.names.bind(py);
        if values.len() < names.len() {
            return Err(PyValueError::new_err(format!(
                "a row of {} values for the {} fields {}",
                values.len(),
                names.len(),
                names.repr()?
            )));
        }
        let dict = self.template.bind(py).copy()?;
        for ((name, value), convert) in names.iter().zip(values).zip(&self.converters) {
            match convert {
                Some(convert) => dict.set_item(name, convert.bind(py).call1((value,))?)?,
                None => dict.set_item(name, value)?,
            }
        }
        alloc.new_with_dict(&dict)
    }
}

/// `object.__new__(cls)` for an instance whose whole `__dict__` is set next, found
/// once per result.
///
/// `object.__new__` calls the class's `tp_alloc`, then (3.11+) gives the object the
/// inline attribute values a key-sharing `__dict__` starts from; setting the whole
/// `__dict__` then turns those values into a dict and throws it away. Calling
/// `tp_alloc` alone leaves the object as one whose `__dict__` has been replaced, and
/// costs no Python call (no argument tuple, no lookup of `__new__`).
pub(crate) struct Allocator<'py> {
    cls: Bound<'py, PyType>,
    /// None for a class `object.__new__` refuses (an abstract class): it is called then, to
    /// raise its own TypeError.
    alloc: Option<ffi::allocfunc>,
}

impl<'py> Allocator<'py> {
    pub(crate) fn of(cls: &Bound<'py, PyType>) -> Self {
        let ty = cls.as_type_ptr();
        let alloc = unsafe {
            if ffi::PyType_GetFlags(ty) & ffi::Py_TPFLAGS_IS_ABSTRACT != 0 {
                None
            } else {
                let slot = ffi::PyType_GetSlot(ty, ffi::Py_tp_alloc);
                // Every type has one (`PyType_Ready` inherits `PyType_GenericAlloc`).
                (!slot.is_null()).then(|| std::mem::transmute::<*mut c_void, ffi::allocfunc>(slot))
            }
        };
        Allocator {
            cls: cls.clone(),
            alloc,
        }
    }

    /// A new instance of the class with `dict` as its `__dict__`.
    pub(crate) fn new_with_dict(&self, dict: &Bound<'py, PyDict>) -> PyResult<Bound<'py, PyAny>> {
        let py = self.cls.py();
        let obj = match self.alloc {
            Some(alloc) => unsafe {
                Bound::from_owned_ptr_or_err(py, alloc(self.cls.as_type_ptr(), 0))?
            },
            None => py
                .get_type::<PyAny>()
                .getattr(intern!(py, "__new__"))?
                .call1((&self.cls,))?,
        };
        // What `obj.__dict__ = dict` does, without looking the descriptor up.
        let status = unsafe {
            ffi::PyObject_GenericSetDict(
                obj.as_ptr(),
                dict.as_ptr(),
                std::ptr::null_mut::<c_void>(),
            )
        };
        if status != 0 {
            return Err(PyErr::fetch(py));
        }
        Ok(obj)
    }
}

//! Python objects ↔ database [`Value`]s, and result rows → [`Row`]s.
//!
//! Conversions to Python happen once, on the loop thread, after the rows were
//! collected in full by the driver.

use std::sync::Arc;

use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, NaiveTime, Timelike, Utc};
use hyperdjango_engine::db::{Rows, Value};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{
    PyBool, PyByteArray, PyBytes, PyDict, PyFloat, PyInt, PyList, PyMemoryView, PyString, PyTuple,
    PyType,
};

use super::errors::data_error;
use super::row::{Columns, Row};

/// Python types and functions, imported once.
struct Types {
    decimal: Py<PyType>,
    date: Py<PyType>,
    time: Py<PyType>,
    datetime: Py<PyType>,
    timedelta: Py<PyType>,
    uuid: Py<PyType>,
    utc: Py<PyAny>,
    json_dumps: Py<PyAny>,
    json_loads: Py<PyAny>,
}

static TYPES: PyOnceLock<Types> = PyOnceLock::new();

fn types(py: Python<'_>) -> PyResult<&Types> {
    TYPES.get_or_try_init(py, || {
        let dt = py.import("datetime")?;
        let orjson = py.import("orjson")?;
        Ok::<_, PyErr>(Types {
            decimal: py
                .import("decimal")?
                .getattr("Decimal")?
                .cast_into()?
                .unbind(),
            date: dt.getattr("date")?.cast_into()?.unbind(),
            time: dt.getattr("time")?.cast_into()?.unbind(),
            datetime: dt.getattr("datetime")?.cast_into()?.unbind(),
            timedelta: dt.getattr("timedelta")?.cast_into()?.unbind(),
            uuid: py.import("uuid")?.getattr("UUID")?.cast_into()?.unbind(),
            utc: dt.getattr("timezone")?.getattr("utc")?.unbind(),
            // Refuses (DataError) what JSON cannot hold as it is: NaN, infinities, U+0000.
            json_dumps: py
                .import("hyperdjango.database.json_values")?
                .getattr("dumps")?
                .unbind(),
            json_loads: orjson.getattr("loads")?.unbind(),
        })
    })
}

/// Converts query parameters.
pub(crate) fn params_from_py(params: &Bound<'_, PyAny>) -> PyResult<Vec<Value>> {
    // A tuple (`*params`, every statement) or a list is read in place: the generic
    // iterator asks for `__length_hint__` by name, a third of a conversion's cost.
    if let Ok(tuple) = params.cast::<PyTuple>() {
        return tuple.iter_borrowed().map(|p| value_from_py(&p)).collect();
    }
    if let Ok(list) = params.cast::<PyList>() {
        return list.iter().map(|p| value_from_py(&p)).collect();
    }
    params.try_iter()?.map(|p| value_from_py(&p?)).collect()
}

/// Converts one Python value; unsupported types are a TypeError naming the type.
pub(crate) fn value_from_py(obj: &Bound<'_, PyAny>) -> PyResult<Value> {
    let py = obj.py();
    if obj.is_none() {
        return Ok(Value::Null);
    }
    if let Ok(b) = obj.cast::<PyBool>() {
        return Ok(Value::Bool(b.is_true()));
    }
    if obj.is_instance_of::<PyInt>() {
        return obj.extract::<i64>().map(Value::Int).map_err(|_| {
            data_error(
                py,
                format!(
                    "integer {} does not fit in 64 bits",
                    obj.str().map(|s| s.to_string()).unwrap_or_default()
                ),
            )
        });
    }
    if let Ok(f) = obj.cast::<PyFloat>() {
        return Ok(Value::Float(f.value()));
    }
    if let Ok(s) = obj.cast::<PyString>() {
        let text = s.to_str()?;
        // PostgreSQL cannot store U+0000 in text (SQLSTATE 22021) and SQLite can: refusing it
        // here gives both backends the same answer, before anything is sent.
        if text.contains('\0') {
            return Err(data_error(py, "a text value contains a NUL character (\\x00), which databases cannot store in text; send it as bytes or remove it".into()));
        }
        return Ok(Value::Text(text.to_string()));
    }
    if let Ok(b) = obj.cast::<PyBytes>() {
        return Ok(Value::Bytes(b.as_bytes().to_vec()));
    }
    if obj.is_instance_of::<PyByteArray>() || obj.is_instance_of::<PyMemoryView>() {
        let copy = py.get_type::<PyBytes>().call1((obj,))?;
        return Ok(Value::Bytes(copy.cast::<PyBytes>()?.as_bytes().to_vec()));
    }
    let t = types(py)?;
    if obj.is_instance(t.decimal.bind(py))? {
        if !obj.call_method0("is_finite")?.is_truthy()? {
            return match obj.str()?.to_str()? {
                "NaN" | "sNaN" | "-NaN" => Ok(Value::Decimal("NaN".into())),
                _ => Err(data_error(
                    py,
                    "infinite Decimal values cannot be stored".into(),
                )),
            };
        }
        // Plain notation, never exponent: "1E+3" becomes "1000".
        let text: String = obj.call_method1("__format__", ("f",))?.extract()?;
        return Ok(Value::Decimal(text));
    }
    if obj.is_instance(t.datetime.bind(py))? {
        if obj.getattr("tzinfo")?.is_none() {
            return Ok(Value::DateTime(naive_datetime(obj)?));
        }
        let utc = obj.call_method1("astimezone", (t.utc.bind(py),))?;
        let naive = naive_datetime(&utc)?;
        return Ok(Value::DateTimeTz(
            DateTime::<Utc>::from_naive_utc_and_offset(naive, Utc),
        ));
    }
    if obj.is_instance(t.date.bind(py))? {
        return Ok(Value::Date(naive_date(obj)?));
    }
    if obj.is_instance(t.time.bind(py))? {
        return Ok(Value::Time(naive_time(obj)?));
    }
    if obj.is_instance(t.timedelta.bind(py))? {
        let days: i64 = obj.getattr("days")?.extract()?;
        let seconds: i64 = obj.getattr("seconds")?.extract()?;
        let micros: i64 = obj.getattr("microseconds")?.extract()?;
        // Python's timedelta reaches ±10^9 days, ~9000 times what 64 bits of microseconds hold.
        return days
            .checked_mul(86_400_000_000)
            .and_then(|us| us.checked_add(seconds * 1_000_000 + micros))
            .map(Value::Interval)
            .ok_or_else(|| {
                data_error(py, format!("timedelta of {days} days does not fit in an interval (at most ±106751991 days)"))
            });
    }
    if obj.is_instance(t.uuid.bind(py))? {
        let int: u128 = obj.getattr("int")?.extract()?;
        return Ok(Value::Uuid(uuid::Uuid::from_u128(int)));
    }
    if obj.is_instance_of::<PyDict>() {
        let text: Vec<u8> = t.json_dumps.bind(py).call1((obj,))?.extract()?;
        return Ok(Value::Json(String::from_utf8_lossy(&text).into_owned()));
    }
    if obj.is_instance_of::<PyList>() || obj.is_instance_of::<PyTuple>() {
        return obj
            .try_iter()?
            .map(|item| value_from_py(&item?))
            .collect::<PyResult<_>>()
            .map(Value::Array);
    }
    Err(PyTypeError::new_err(format!(
        "cannot send a value of type {} to the database; use None, bool, int, float, Decimal, str, \
         bytes, date, time, datetime, timedelta, UUID, dict or list",
        obj.get_type().name()?
    )))
}

fn naive_date(obj: &Bound<'_, PyAny>) -> PyResult<NaiveDate> {
    let (y, m, d): (i32, u32, u32) = (
        obj.getattr("year")?.extract()?,
        obj.getattr("month")?.extract()?,
        obj.getattr("day")?.extract()?,
    );
    NaiveDate::from_ymd_opt(y, m, d)
        .ok_or_else(|| data_error(obj.py(), format!("invalid date {y}-{m}-{d}")))
}

fn naive_time(obj: &Bound<'_, PyAny>) -> PyResult<NaiveTime> {
    let h: u32 = obj.getattr("hour")?.extract()?;
    let mi: u32 = obj.getattr("minute")?.extract()?;
    let s: u32 = obj.getattr("second")?.extract()?;
    let us: u32 = obj.getattr("microsecond")?.extract()?;
    NaiveTime::from_hms_micro_opt(h, mi, s, us)
        .ok_or_else(|| data_error(obj.py(), "invalid time".into()))
}

fn naive_datetime(obj: &Bound<'_, PyAny>) -> PyResult<NaiveDateTime> {
    Ok(NaiveDateTime::new(naive_date(obj)?, naive_time(obj)?))
}

/// Converts one database value to Python.
pub(crate) fn value_to_py<'py>(py: Python<'py>, value: &Value) -> PyResult<Bound<'py, PyAny>> {
    Ok(match value {
        Value::Null => py.None().into_bound(py),
        Value::Bool(b) => PyBool::new(py, *b).to_owned().into_any(),
        Value::Int(i) => i.into_pyobject(py)?.into_any(),
        Value::Float(f) => PyFloat::new(py, *f).into_any(),
        Value::Text(s) => PyString::new(py, s).into_any(),
        Value::Bytes(b) => PyBytes::new(py, b).into_any(),
        other => {
            let t = types(py)?;
            match other {
                Value::Decimal(d) => t.decimal.bind(py).call1((d.as_str(),))?,
                Value::Date(d) => t.date.bind(py).call1((d.year(), d.month(), d.day()))?,
                Value::Time(tm) => t.time.bind(py).call1((
                    tm.hour(),
                    tm.minute(),
                    tm.second(),
                    tm.nanosecond() / 1000,
                ))?,
                Value::DateTime(dt) => datetime_to_py(py, t, dt, None)?,
                Value::DateTimeTz(dt) => {
                    datetime_to_py(py, t, &dt.naive_utc(), Some(t.utc.bind(py)))?
                }
                Value::Interval(us) => {
                    let kwargs = PyDict::new(py);
                    kwargs.set_item("microseconds", *us)?;
                    t.timedelta.bind(py).call((), Some(&kwargs))?
                }
                Value::Uuid(u) => {
                    let kwargs = PyDict::new(py);
                    kwargs.set_item("int", u.as_u128())?;
                    t.uuid.bind(py).call((), Some(&kwargs))?
                }
                Value::Json(text) => t.json_loads.bind(py).call1((text.as_str(),))?,
                Value::Array(items) => {
                    let list = PyList::empty(py);
                    for item in items {
                        list.append(value_to_py(py, item)?)?;
                    }
                    list.into_any()
                }
                _ => unreachable!("simple values are handled above"),
            }
        }
    })
}

fn datetime_to_py<'py>(
    py: Python<'py>,
    t: &Types,
    dt: &NaiveDateTime,
    tz: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyAny>> {
    let args = (
        dt.year(),
        dt.month(),
        dt.day(),
        dt.hour(),
        dt.minute(),
        dt.second(),
        dt.nanosecond() / 1000,
    );
    match tz {
        Some(tz) => {
            let kwargs = PyDict::new(py);
            kwargs.set_item("tzinfo", tz)?;
            t.datetime.bind(py).call(args, Some(&kwargs))
        }
        None => t.datetime.bind(py).call1(args),
    }
}

/// Every row of a result as a list of [`Row`]s.
pub(crate) fn rows_to_py<'py>(py: Python<'py>, rows: Rows) -> PyResult<Bound<'py, PyList>> {
    let columns = Columns::of(py, &rows.columns)?;
    let list = PyList::empty(py);
    for row in rows.rows {
        list.append(row_to_py(py, &columns, row)?)?;
    }
    Ok(list)
}

pub(crate) fn row_to_py<'py>(
    py: Python<'py>,
    columns: &Arc<Columns>,
    row: Vec<Value>,
) -> PyResult<Bound<'py, Row>> {
    let values = row
        .iter()
        .map(|v| value_to_py(py, v))
        .collect::<PyResult<Vec<_>>>()?;
    Bound::new(
        py,
        Row::new(columns.clone(), PyTuple::new(py, values)?.unbind()),
    )
}

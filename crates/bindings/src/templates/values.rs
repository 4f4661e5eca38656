//! Python context values → template values, once, before a render; and back, for
//! the arguments of filters, tests and globals written in Python.

use chrono::{FixedOffset, NaiveDate, NaiveTime};
use hyperdjango_templates::{Error, ErrorKind, Kwargs, Moment, Record, Rest, Value};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{
    PyBool, PyBytes, PyDict, PyFloat, PyFrozenSet, PyInt, PyList, PySet, PyString, PyTuple, PyType,
};

static DATETIME: PyOnceLock<Py<PyType>> = PyOnceLock::new();
static DATE: PyOnceLock<Py<PyType>> = PyOnceLock::new();
static TIME: PyOnceLock<Py<PyType>> = PyOnceLock::new();
static TIMEZONE: PyOnceLock<Py<PyType>> = PyOnceLock::new();
static TIMEDELTA: PyOnceLock<Py<PyType>> = PyOnceLock::new();
static MARKUP: PyOnceLock<Py<PyType>> = PyOnceLock::new();
static RELATED_NOT_LOADED: PyOnceLock<Py<PyType>> = PyOnceLock::new();

/// Deeper than this, the context is taken to be cyclic.
const MAX_DEPTH: usize = 64;

/// The template value of a Python object.
///
/// `None`, bools, ints, floats, str, bytes; `Markup` (anything with `__html__`) as
/// safe text; dicts and other mappings; lists, tuples, sets and other iterables;
/// `datetime`/`date`/`time`; model instances (their loaded fields, `pk`, and loaded
/// relations; an unloaded one raises `RelatedNotLoaded`'s message when touched);
/// dataclasses and other objects (public attributes, printed with `str()`);
/// callables (called with the GIL). Anything else (Decimal, UUID, Enum) prints as `str()`.
pub(crate) fn to_value(obj: &Bound<'_, PyAny>) -> PyResult<Value> {
    convert(obj, 0)
}

fn convert(obj: &Bound<'_, PyAny>, depth: usize) -> PyResult<Value> {
    if depth > MAX_DEPTH {
        return Err(PyTypeError::new_err(
            "the template context nests too deep (a cycle?)",
        ));
    }
    let py = obj.py();
    if obj.is_none() {
        return Ok(Value::from(()));
    }
    if obj.is_exact_instance_of::<PyString>() {
        return Ok(Value::from(obj.cast::<PyString>()?.to_str()?));
    }
    if obj.is_instance_of::<PyBool>() {
        return Ok(Value::from(obj.is_truthy()?));
    }
    if obj.is_instance_of::<PyInt>() {
        return Ok(match obj.extract::<i64>() {
            Ok(i) => Value::from(i),
            Err(_) => match obj.extract::<i128>() {
                Ok(i) => Value::from(i),
                Err(_) => Value::from(obj.str()?.to_str()?),
            },
        });
    }
    if obj.is_instance_of::<PyFloat>() {
        return Ok(Value::from(obj.extract::<f64>()?));
    }
    if obj.hasattr(pyo3::intern!(py, "__template__"))? {
        // An object that shows itself as HTML and offers parts (a form, a bound field).
        let parts = obj
            .call_method0(pyo3::intern!(py, "__template__"))?
            .cast_into::<PyDict>()?;
        let mut entries = Vec::with_capacity(parts.len());
        for (k, v) in parts.iter() {
            entries.push((k.extract::<String>()?, convert(&v, depth + 1)?));
        }
        let html: String = obj.call_method0(pyo3::intern!(py, "__html__"))?.extract()?;
        return Ok(Record::value(entries, html, true));
    }
    if obj.hasattr(pyo3::intern!(py, "__html__"))? {
        let html = obj.call_method0(pyo3::intern!(py, "__html__"))?;
        return Ok(Value::from_safe_string(html.extract()?));
    }
    if obj.is_instance_of::<PyString>() {
        return Ok(Value::from(obj.cast::<PyString>()?.to_str()?));
    }
    if let Ok(bytes) = obj.cast::<PyBytes>() {
        return Ok(Value::from_bytes(bytes.as_bytes().to_vec()));
    }
    if let Ok(dict) = obj.cast::<PyDict>() {
        let mut pairs = Vec::with_capacity(dict.len());
        for (k, v) in dict.iter() {
            pairs.push((convert(&k, depth + 1)?, convert(&v, depth + 1)?));
        }
        return Ok(Value::from_pairs(pairs));
    }
    if obj.is_instance_of::<PyList>() || obj.is_instance_of::<PyTuple>() {
        return sequence(obj, depth);
    }
    if let Some(moment) = moment(obj)? {
        return Ok(moment.into_value());
    }
    let cls = obj.get_type();
    if cls.hasattr(pyo3::intern!(py, "_meta"))? && obj.hasattr(pyo3::intern!(py, "to_dict"))? {
        return model(obj, depth);
    }
    if cls.hasattr(pyo3::intern!(py, "__dataclass_fields__"))? {
        let fields = cls.getattr(pyo3::intern!(py, "__dataclass_fields__"))?;
        let mut entries = Vec::new();
        for name in fields.try_iter()? {
            let name = name?;
            let value = obj.getattr(name.cast::<PyString>()?)?;
            entries.push((name.extract::<String>()?, convert(&value, depth + 1)?));
        }
        return Ok(record(obj, entries));
    }
    if obj.is_instance_of::<PySet>() || obj.is_instance_of::<PyFrozenSet>() {
        return sequence(obj, depth);
    }
    if obj.hasattr(pyo3::intern!(py, "keys"))? && obj.hasattr(pyo3::intern!(py, "__getitem__"))? {
        let mut pairs = Vec::new();
        for key in obj.call_method0(pyo3::intern!(py, "keys"))?.try_iter()? {
            let key = key?;
            let value = obj.get_item(&key)?;
            pairs.push((convert(&key, depth + 1)?, convert(&value, depth + 1)?));
        }
        return Ok(Value::from_pairs(pairs));
    }
    if obj.is_callable() {
        return Ok(function(obj.clone().unbind()));
    }
    if obj.hasattr(pyo3::intern!(py, "__iter__"))? {
        return sequence(obj, depth);
    }
    if obj.hasattr(pyo3::intern!(py, "__aiter__"))?
        || obj.hasattr(pyo3::intern!(py, "__await__"))?
    {
        return Err(PyTypeError::new_err(format!(
            "{} is not loaded: await it before rendering (e.g. `products = await Product.objects.all()`); \
             a template never queries the database",
            cls.name()?
        )));
    }
    if obj.hasattr(pyo3::intern!(py, "__dict__"))? && !obj.is_instance_of::<PyType>() {
        let attributes = obj
            .getattr(pyo3::intern!(py, "__dict__"))?
            .cast_into::<PyDict>()?;
        let mut entries = Vec::new();
        for (k, v) in attributes.iter() {
            let Ok(name) = k.extract::<String>() else {
                continue;
            };
            if !name.starts_with('_') {
                entries.push((name, convert(&v, depth + 1)?));
            }
        }
        declared(obj, &mut entries, depth)?;
        return Ok(record(obj, entries));
    }
    // Decimal, UUID, Enum, ...: their text.
    Ok(Value::from(obj.str()?.to_str()?))
}

/// An object's named values, printed as its `str()`.
fn record(obj: &Bound<'_, PyAny>, entries: Vec<(String, Value)>) -> Value {
    let text = obj.str().map(|s| s.to_string()).unwrap_or_default();
    Record::value(entries, text, false)
}

fn sequence(obj: &Bound<'_, PyAny>, depth: usize) -> PyResult<Value> {
    let mut items = Vec::new();
    for item in obj.try_iter()? {
        items.push(convert(&item?, depth + 1)?);
    }
    Ok(Value::from(items))
}

fn moment(obj: &Bound<'_, PyAny>) -> PyResult<Option<Moment>> {
    let py = obj.py();
    let int = |name: &str| -> PyResult<u32> { obj.getattr(name)?.extract() };
    let time = || -> PyResult<NaiveTime> {
        NaiveTime::from_hms_micro_opt(
            int("hour")?,
            int("minute")?,
            int("second")?,
            int("microsecond")?,
        )
        .ok_or_else(|| PyTypeError::new_err("time out of range"))
    };
    let date = || -> PyResult<NaiveDate> {
        NaiveDate::from_ymd_opt(obj.getattr("year")?.extract()?, int("month")?, int("day")?)
            .ok_or_else(|| PyTypeError::new_err("date out of range"))
    };
    if obj.is_instance(DATETIME.import(py, "datetime", "datetime")?)? {
        let offset = obj.call_method0("utcoffset")?;
        let offset = if offset.is_none() {
            None
        } else {
            let seconds: f64 = offset.call_method0("total_seconds")?.extract()?;
            FixedOffset::east_opt(seconds as i32)
        };
        return Ok(Some(Moment::DateTime(date()?.and_time(time()?), offset)));
    }
    if obj.is_instance(DATE.import(py, "datetime", "date")?)? {
        return Ok(Some(Moment::Date(date()?)));
    }
    if obj.is_instance(TIME.import(py, "datetime", "time")?)? {
        return Ok(Some(Moment::Time(time()?)));
    }
    Ok(None)
}

/// A model instance: loaded fields (and `to_attr` prefetches, annotations), `pk`,
/// and each relation as loaded or as the error that reading it raises.
fn model(obj: &Bound<'_, PyAny>, depth: usize) -> PyResult<Value> {
    let py = obj.py();
    let attributes = obj
        .getattr(pyo3::intern!(py, "__dict__"))?
        .cast_into::<PyDict>()?;
    let mut entries = Vec::with_capacity(attributes.len() + 1);
    for (k, v) in attributes.iter() {
        let Ok(name) = k.extract::<String>() else {
            continue;
        };
        if !name.starts_with('_') {
            entries.push((name, convert(&v, depth + 1)?));
        }
    }
    entries.push((
        "pk".to_owned(),
        convert(&obj.getattr(pyo3::intern!(py, "pk"))?, depth + 1)?,
    ));
    let meta = obj.getattr(pyo3::intern!(py, "_meta"))?;
    let not_loaded =
        RELATED_NOT_LOADED.import(py, "hyperdjango.orm.exceptions", "RelatedNotLoaded")?;
    let relations = meta
        .getattr(pyo3::intern!(py, "relations"))?
        .cast_into::<PyDict>()?;
    for (name, relation) in relations.iter() {
        let name: String = name.extract()?;
        if relation.getattr(pyo3::intern!(py, "multi"))?.is_truthy()? {
            // Rows of a reverse or many-to-many relation are loaded by prefetch_related.
            let value = match attributes.get_item(format!("_pf_{name}"))? {
                Some(rows) => convert(&rows, depth + 1)?,
                None => Value::from(Error::new(
                    ErrorKind::InvalidOperation,
                    format!(
                        "{}.{name} is not loaded (reading it would query the database): use .prefetch_related('{name}')",
                        obj.get_type().name()?
                    ),
                )),
            };
            entries.push((name, value));
            continue;
        }
        let value = match obj.getattr(name.as_str()) {
            Ok(related) => convert(&related, depth + 1)?,
            Err(e) if e.is_instance(py, not_loaded) => Value::from(Error::new(
                ErrorKind::InvalidOperation,
                e.value(py).str()?.to_string(),
            )),
            Err(e) => return Err(e),
        };
        entries.push((name, value));
    }
    declared(obj, &mut entries, depth)?;
    Ok(record(obj, entries))
}

/// The class-level names a class offers to templates besides its instance's `__dict__`
/// (`__template_attrs__`: class attributes and properties such as `user.is_authenticated`),
/// read once per conversion; a name already present keeps the instance's value.
fn declared(
    obj: &Bound<'_, PyAny>,
    entries: &mut Vec<(String, Value)>,
    depth: usize,
) -> PyResult<()> {
    let py = obj.py();
    let Ok(names) = obj
        .get_type()
        .getattr(pyo3::intern!(py, "__template_attrs__"))
    else {
        return Ok(());
    };
    for name in names.try_iter()? {
        let name: String = name?.extract()?;
        if entries.iter().any(|(present, _)| *present == name) {
            continue;
        }
        let value = obj.getattr(name.as_str())?;
        entries.push((name, convert(&value, depth + 1)?));
    }
    Ok(())
}

/// A Python callable as a template function; calling it takes the GIL.
pub(crate) fn function(callable: Py<PyAny>) -> Value {
    Value::from_function(move |args: Rest<Value>, kwargs: Kwargs| call(&callable, &args.0, &kwargs))
}

/// Calls a Python callable with template arguments and converts the result.
pub(crate) fn call(callable: &Py<PyAny>, args: &[Value], kwargs: &Kwargs) -> Result<Value, Error> {
    let mut named = Vec::new();
    for key in kwargs.args() {
        named.push((key.to_owned(), kwargs.get::<Value>(key)?));
    }
    Python::attach(|py| {
        let result = (|| -> PyResult<Value> {
            let positional = args
                .iter()
                .map(|v| to_py(py, v))
                .collect::<PyResult<Vec<_>>>()?;
            let keywords = PyDict::new(py);
            for (key, value) in &named {
                keywords.set_item(key, to_py(py, value)?)?;
            }
            let result = callable
                .bind(py)
                .call(PyTuple::new(py, positional)?, Some(&keywords))?;
            to_value(&result)
        })();
        result.map_err(|e| {
            let name = callable
                .bind(py)
                .getattr("__name__")
                .map(|n| n.to_string())
                .unwrap_or_default();
            Error::new(ErrorKind::InvalidOperation, format!("{name}() raised {e}"))
        })
    })
}

/// The Python object of a template value (for Python filters, tests and globals).
pub(crate) fn to_py<'py>(py: Python<'py>, value: &Value) -> PyResult<Bound<'py, PyAny>> {
    use hyperdjango_templates::ValueKind;
    Ok(match value.kind() {
        ValueKind::Undefined | ValueKind::None => py.None().into_bound(py),
        ValueKind::Bool => PyBool::new(py, value.is_true()).to_owned().into_any(),
        ValueKind::Number => {
            if let Some(i) = value.as_i64() {
                i.into_pyobject(py)?.into_any()
            } else if let Ok(i) = i128::try_from(value.clone()) {
                i.into_pyobject(py)?.into_any()
            } else {
                f64::try_from(value.clone())
                    .unwrap_or(f64::NAN)
                    .into_pyobject(py)?
                    .into_any()
            }
        }
        ValueKind::String if value.is_safe() => MARKUP
            .import(py, "markupsafe", "Markup")?
            .call1((value.as_str().unwrap_or_default(),))?,
        ValueKind::String => PyString::new(py, value.as_str().unwrap_or_default()).into_any(),
        ValueKind::Bytes => PyBytes::new(py, value.as_bytes().unwrap_or_default()).into_any(),
        ValueKind::Seq | ValueKind::Iterable => {
            let list = PyList::empty(py);
            for item in value
                .try_iter()
                .map_err(|e| PyTypeError::new_err(e.to_string()))?
            {
                list.append(to_py(py, &item)?)?;
            }
            list.into_any()
        }
        ValueKind::Map => {
            if let Some(moment) = value.downcast_object_ref::<Moment>() {
                return moment_to_py(py, moment);
            }
            let dict = PyDict::new(py);
            for key in value
                .try_iter()
                .map_err(|e| PyTypeError::new_err(e.to_string()))?
            {
                let item = value
                    .get_item(&key)
                    .map_err(|e| PyTypeError::new_err(e.to_string()))?;
                dict.set_item(to_py(py, &key)?, to_py(py, &item)?)?;
            }
            dict.into_any()
        }
        _ => match value.downcast_object_ref::<Moment>() {
            Some(moment) => moment_to_py(py, moment)?,
            None => PyString::new(py, &value.to_string()).into_any(),
        },
    })
}

fn moment_to_py<'py>(py: Python<'py>, moment: &Moment) -> PyResult<Bound<'py, PyAny>> {
    use chrono::{Datelike, Timelike};
    let time_args = |t: NaiveTime| (t.hour(), t.minute(), t.second(), t.nanosecond() / 1000);
    Ok(match *moment {
        Moment::DateTime(dt, offset) => {
            let (h, m, s, us) = time_args(dt.time());
            let tz = match offset {
                Some(offset) => {
                    let delta = TIMEDELTA
                        .import(py, "datetime", "timedelta")?
                        .call1((0, offset.local_minus_utc()))?;
                    TIMEZONE
                        .import(py, "datetime", "timezone")?
                        .call1((delta,))?
                }
                None => py.None().into_bound(py),
            };
            DATETIME.import(py, "datetime", "datetime")?.call1((
                dt.year(),
                dt.month(),
                dt.day(),
                h,
                m,
                s,
                us,
                tz,
            ))?
        }
        Moment::Date(d) => {
            DATE.import(py, "datetime", "date")?
                .call1((d.year(), d.month(), d.day()))?
        }
        Moment::Time(t) => TIME.import(py, "datetime", "time")?.call1(time_args(t))?,
    })
}

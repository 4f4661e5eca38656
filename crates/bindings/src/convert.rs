//! Conversions between engine values and Python objects.

use std::borrow::Cow;

use http::header::{HeaderMap, HeaderName, HeaderValue, CONTENT_TYPE};
use hyperdjango_engine::router::ParamValue;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{IntoPyDict, PyBytes, PyList, PyString, PyTuple, PyType};

static UUID: PyOnceLock<Py<PyType>> = PyOnceLock::new();

/// A converted path parameter: `int`, `str` or `uuid.UUID`.
pub(crate) fn param_to_py<'py>(py: Python<'py>, value: &ParamValue) -> PyResult<Bound<'py, PyAny>> {
    Ok(match value {
        ParamValue::Int(i) => i.into_pyobject(py)?.into_any(),
        ParamValue::Str(s) => PyString::new(py, s).into_any(),
        ParamValue::Uuid(u) => UUID
            .import(py, "uuid", "UUID")?
            .call((), Some(&[("int", u.as_u128())].into_py_dict(py)?))?,
    })
}

/// Request headers as a list of `(name, value)` str pairs; names are lower
/// case, values decoded as Latin-1 (what HTTP allows on the wire).
pub(crate) fn headers_to_py<'py>(
    py: Python<'py>,
    headers: &HeaderMap,
) -> PyResult<Bound<'py, PyList>> {
    let list = PyList::empty(py);
    for (name, value) in headers {
        let value: String = value.as_bytes().iter().map(|&b| b as char).collect();
        list.append(PyTuple::new(py, [name.as_str(), value.as_str()])?)?;
    }
    Ok(list)
}

/// Response headers from Python `(name, value)` pairs of str or bytes.
pub(crate) fn headers_from_py(pairs: &Bound<'_, PyAny>) -> PyResult<HeaderMap> {
    // Sized up front (one more for the `server` header the engine adds): no
    // regrowth while the pairs go in.
    let mut map = HeaderMap::with_capacity(pairs.len().unwrap_or(0) + 1);
    // A list or a tuple (what the framework passes) is indexed, without an iterator object.
    if let Ok(list) = pairs.cast::<PyList>() {
        for item in list.iter() {
            append_pair(&mut map, &item)?;
        }
    } else if let Ok(tuple) = pairs.cast::<PyTuple>() {
        for item in tuple.iter() {
            append_pair(&mut map, &item)?;
        }
    } else {
        for item in pairs.try_iter()? {
            append_pair(&mut map, &item?)?;
        }
    }
    Ok(map)
}

fn append_pair(map: &mut HeaderMap, pair: &Bound<'_, PyAny>) -> PyResult<()> {
    let (name, value): (Bound<'_, PyAny>, Bound<'_, PyAny>) = pair.extract()?;
    let name = header_name(&bytes_of(&name)?)
        .map_err(|_| PyValueError::new_err(format!("invalid header name {name}")))?;
    let value = header_value(&bytes_of(&value)?).map_err(|_| {
        PyValueError::new_err(format!(
            "invalid value for header {name}: control characters are not allowed"
        ))
    })?;
    map.append(name, value);
    Ok(())
}

/// A header name; `content-type`, which nearly every response carries, is the
/// constant itself rather than parsed (the same name `from_bytes` would give).
fn header_name(bytes: &[u8]) -> Result<HeaderName, http::header::InvalidHeaderName> {
    match bytes {
        b"content-type" => Ok(CONTENT_TYPE),
        _ => HeaderName::from_bytes(bytes),
    }
}

static JSON: HeaderValue = HeaderValue::from_static("application/json");
static TEXT: HeaderValue = HeaderValue::from_static("text/plain; charset=utf-8");
static HTML: HeaderValue = HeaderValue::from_static("text/html; charset=utf-8");

/// A header value; the content types the framework's responses carry are
/// static values, checked at compile time and cloned without allocating or
/// copying; any other value is checked and copied.
fn header_value(bytes: &[u8]) -> Result<HeaderValue, http::header::InvalidHeaderValue> {
    Ok(match bytes {
        b"application/json" => JSON.clone(),
        b"text/plain; charset=utf-8" => TEXT.clone(),
        b"text/html; charset=utf-8" => HTML.clone(),
        _ => return HeaderValue::from_bytes(bytes),
    })
}

fn bytes_of<'a>(obj: &'a Bound<'_, PyAny>) -> PyResult<Cow<'a, [u8]>> {
    if let Ok(s) = obj.cast::<PyString>() {
        let s = s.to_str()?;
        // ASCII (nearly every header) is its own Latin-1: borrowed, not copied char by char.
        if s.is_ascii() {
            return Ok(Cow::Borrowed(s.as_bytes()));
        }
        // Latin-1, as HTTP headers are; anything wider is an error, not mojibake.
        s.chars()
            .map(|c| {
                u8::try_from(c as u32)
                    .map_err(|_| PyValueError::new_err(format!("header text {s:?} is not Latin-1")))
            })
            .collect::<PyResult<Vec<u8>>>()
            .map(Cow::Owned)
    } else {
        Ok(Cow::Borrowed(obj.cast::<PyBytes>()?.as_bytes()))
    }
}

//! Python context values → template values, once, before a render; and back, for
//! the arguments of filters, tests and globals written in Python.

use chrono::{FixedOffset, NaiveDate, NaiveTime};
use std::rc::Rc;

use hyperdjango_templates::{
    Compute, Error, ErrorKind, Kwargs, Moment, Record, RenderContext, Rest, Value,
};
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
static LAZY: PyOnceLock<Py<PyType>> = PyOnceLock::new();
static METHOD: PyOnceLock<Py<PyType>> = PyOnceLock::new();
static BUILTIN: PyOnceLock<Py<PyType>> = PyOnceLock::new();
static FUNCTION: PyOnceLock<Py<PyType>> = PyOnceLock::new();

/// Deeper than this, the context is taken to be cyclic.
const MAX_DEPTH: usize = 64;

/// The root context of a render: a dict's values converted, except the values the
/// context processors wrap in `hyperdjango.templates.context.Lazy`, which are
/// computed (with the GIL) only if the template reads them.
pub(crate) fn context_value(obj: &Bound<'_, PyAny>) -> PyResult<Value> {
    let Ok(dict) = obj.cast::<PyDict>() else {
        return to_value(obj);
    };
    let py = obj.py();
    let lazy_type = LAZY.import(py, "hyperdjango.templates.context", "Lazy")?;
    let mut converter = Converter::default();
    let mut pairs = Vec::with_capacity(dict.len());
    let mut lazy: Vec<(String, Compute)> = Vec::new();
    for (k, v) in dict.iter() {
        if v.get_type().is(lazy_type) {
            let name: String = k.extract()?;
            let compute = v.getattr(pyo3::intern!(py, "compute"))?.unbind();
            lazy.push((
                name.clone(),
                Box::new(move || compute_lazy(&compute, &name)),
            ));
        } else {
            pairs.push((converter.convert(&k, 1)?, converter.convert(&v, 1)?));
        }
    }
    Ok(RenderContext::value(Value::from_pairs(pairs), lazy))
}

/// A lazy context value, computed: its function called with the GIL, the result converted.
fn compute_lazy(compute: &Py<PyAny>, name: &str) -> Value {
    Python::attach(
        |py| match compute.bind(py).call0().and_then(|v| to_value(&v)) {
            Ok(value) => value,
            Err(e) => Value::from(Error::new(
                ErrorKind::InvalidOperation,
                format!("computing the context value {name} raised {e}"),
            )),
        },
    )
}

/// The template value of a Python object.
///
/// `None`, bools, ints, floats, str, bytes; `Markup` (anything with `__html__`) as
/// safe text; dicts and other mappings; lists, tuples, sets and other iterables;
/// `datetime`/`date`/`time`; model instances (their loaded fields, `pk`, and loaded
/// relations; an unloaded one raises `RelatedNotLoaded`'s message when touched);
/// dataclasses and other objects (public attributes, printed with `str()`, asked
/// only when the object itself is printed); callables (called with the GIL).
/// Anything else (Decimal, UUID, Enum) prints as `str()`.
pub(crate) fn to_value(obj: &Bound<'_, PyAny>) -> PyResult<Value> {
    Converter::default().convert(obj, 0)
}

/// What a Python type is to a template. Found with `hasattr`s, each of which raises
/// and catches an AttributeError inside Python when the answer is no: asked once per
/// type and conversion, not once per row.
#[derive(Clone)]
enum Kind {
    /// `__template__`: parts, and `__html__` to print (a form, a bound field).
    Parts,
    /// `__html__`: safe text (Markup).
    Html,
    Str,
    Bytes,
    Dict,
    Sequence,
    Moment,
    Model(Rc<ModelPlan>),
    Dataclass(Rc<Vec<Py<PyString>>>),
    Set,
    Mapping,
    Callable,
    Iterable,
    Awaitable,
    /// Public attributes of `__dict__`, and the class's `__template_attrs__`.
    Attributes(Rc<Vec<String>>),
    /// Printed as `str()`.
    Text,
    /// A `Lazy` below the root of the context: computed now.
    Lazy,
}

/// What a model class offers, read once: its key's field, its relations (name, and
/// whether it holds several rows), its `__template_attrs__`.
struct ModelPlan {
    pk: Option<String>,
    relations: Vec<(String, bool)>,
    declared: Vec<String>,
}

/// One conversion (a render's context): remembers the kind of each type it met.
#[derive(Default)]
struct Converter {
    kinds: Vec<(usize, Kind)>,
}

impl Converter {
    fn convert(&mut self, obj: &Bound<'_, PyAny>, depth: usize) -> PyResult<Value> {
        if depth > MAX_DEPTH {
            return Err(PyTypeError::new_err(
                "the template context nests too deep (a cycle?)",
            ));
        }
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
        let py = obj.py();
        match self.kind(obj)? {
            Kind::Parts => {
                let parts = obj
                    .call_method0(pyo3::intern!(py, "__template__"))?
                    .cast_into::<PyDict>()?;
                let mut entries = Vec::with_capacity(parts.len());
                for (k, v) in parts.iter() {
                    entries.push((k.extract::<String>()?, self.convert(&v, depth + 1)?));
                }
                let html: String = obj.call_method0(pyo3::intern!(py, "__html__"))?.extract()?;
                Ok(Record::value(entries, html, true))
            }
            Kind::Html => {
                let html = obj.call_method0(pyo3::intern!(py, "__html__"))?;
                Ok(Value::from_safe_string(html.extract()?))
            }
            Kind::Str => Ok(Value::from(obj.cast::<PyString>()?.to_str()?)),
            Kind::Bytes => Ok(Value::from_bytes(obj.cast::<PyBytes>()?.as_bytes().to_vec())),
            Kind::Dict => {
                let dict = obj.cast::<PyDict>()?;
                let mut pairs = Vec::with_capacity(dict.len());
                for (k, v) in dict.iter() {
                    pairs.push((self.convert(&k, depth + 1)?, self.convert(&v, depth + 1)?));
                }
                Ok(Value::from_pairs(pairs))
            }
            Kind::Sequence | Kind::Set | Kind::Iterable => self.sequence(obj, depth),
            Kind::Moment => match moment(obj)? {
                Some(moment) => Ok(moment.into_value()),
                None => Ok(Value::from(obj.str()?.to_str()?)),
            },
            Kind::Model(plan) => self.model(obj, &plan, depth),
            Kind::Dataclass(fields) => {
                let mut entries = Vec::with_capacity(fields.len());
                for name in fields.iter() {
                    let value = obj.getattr(name.bind(py))?;
                    entries.push((name.bind(py).to_str()?.to_owned(), self.convert(&value, depth + 1)?));
                }
                Ok(record(obj, entries))
            }
            Kind::Mapping => {
                let mut pairs = Vec::new();
                for key in obj.call_method0(pyo3::intern!(py, "keys"))?.try_iter()? {
                    let key = key?;
                    let value = obj.get_item(&key)?;
                    pairs.push((self.convert(&key, depth + 1)?, self.convert(&value, depth + 1)?));
                }
                Ok(Value::from_pairs(pairs))
            }
            Kind::Callable => Ok(function(obj.clone().unbind())),
            Kind::Awaitable => Err(PyTypeError::new_err(format!(
                "{} is not loaded: await it before rendering (e.g. `products = await Product.objects.all()`); \
                 a template never queries the database",
                obj.get_type().name()?
            ))),
            Kind::Attributes(declared) => {
                let attributes = obj
                    .getattr(pyo3::intern!(py, "__dict__"))?
                    .cast_into::<PyDict>()?;
                let mut entries = self.public(&attributes, depth)?;
                self.declared(obj, &declared, &mut entries, depth)?;
                Ok(record(obj, entries))
            }
            Kind::Text => Ok(Value::from(obj.str()?.to_str()?)),
            Kind::Lazy => {
                let value = obj.getattr(pyo3::intern!(py, "compute"))?.call0()?;
                self.convert(&value, depth + 1)
            }
        }
    }

    /// The kind of `obj`'s type: remembered for this conversion, else found out.
    fn kind(&mut self, obj: &Bound<'_, PyAny>) -> PyResult<Kind> {
        let cls = obj.get_type();
        let key = cls.as_ptr() as usize;
        if let Some((_, kind)) = self.kinds.iter().find(|(k, _)| *k == key) {
            return Ok(kind.clone());
        }
        let kind = find_kind(obj, &cls)?;
        self.kinds.push((key, kind.clone()));
        Ok(kind)
    }

    fn sequence(&mut self, obj: &Bound<'_, PyAny>, depth: usize) -> PyResult<Value> {
        let mut items = Vec::new();
        for item in obj.try_iter()? {
            items.push(self.convert(&item?, depth + 1)?);
        }
        Ok(Value::from(items))
    }

    /// The public entries (no leading `_`) of an instance's `__dict__`.
    fn public(
        &mut self,
        attributes: &Bound<'_, PyDict>,
        depth: usize,
    ) -> PyResult<Vec<(String, Value)>> {
        let mut entries = Vec::with_capacity(attributes.len() + 1);
        for (k, v) in attributes.iter() {
            let Ok(name) = k.cast::<PyString>() else {
                continue;
            };
            let name = name.to_str()?;
            if !name.starts_with('_') {
                entries.push((name.to_owned(), self.convert(&v, depth + 1)?));
            }
        }
        Ok(entries)
    }

    /// A model instance: loaded fields (and `to_attr` prefetches, annotations), `pk`,
    /// and each relation as loaded or as the error that reading it raises.
    fn model(&mut self, obj: &Bound<'_, PyAny>, plan: &ModelPlan, depth: usize) -> PyResult<Value> {
        let py = obj.py();
        let attributes = obj
            .getattr(pyo3::intern!(py, "__dict__"))?
            .cast_into::<PyDict>()?;
        let mut entries = self.public(&attributes, depth)?;
        let pk = match &plan.pk {
            // Model.pk reads the key's field from __dict__: converted above already.
            Some(field) => entries
                .iter()
                .find(|(name, _)| name == field)
                .map(|(_, value)| value.clone())
                .unwrap_or_else(|| Value::from(())),
            None => self.convert(&obj.getattr(pyo3::intern!(py, "pk"))?, depth + 1)?,
        };
        entries.push(("pk".to_owned(), pk));
        for (name, multi) in &plan.relations {
            let value = if *multi {
                // Rows of a reverse or many-to-many relation are loaded by prefetch_related.
                match attributes.get_item(format!("_pf_{name}"))? {
                    Some(rows) => self.convert(&rows, depth + 1)?,
                    None => Value::from(Error::new(
                        ErrorKind::InvalidOperation,
                        format!(
                            "{}.{name} is not loaded (reading it would query the database): use .prefetch_related('{name}')",
                            obj.get_type().name()?
                        ),
                    )),
                }
            } else {
                let not_loaded = RELATED_NOT_LOADED.import(
                    py,
                    "hyperdjango.orm.exceptions",
                    "RelatedNotLoaded",
                )?;
                match obj.getattr(name.as_str()) {
                    Ok(related) => self.convert(&related, depth + 1)?,
                    Err(e) if e.is_instance(py, not_loaded) => Value::from(Error::new(
                        ErrorKind::InvalidOperation,
                        e.value(py).str()?.to_string(),
                    )),
                    Err(e) => return Err(e),
                }
            };
            entries.push((name.clone(), value));
        }
        self.declared(obj, &plan.declared, &mut entries, depth)?;
        Ok(record(obj, entries))
    }

    /// The class-level names a class offers to templates besides its instance's
    /// `__dict__` (`__template_attrs__`: class attributes and properties such as
    /// `user.is_authenticated`); a name already present keeps the instance's value.
    fn declared(
        &mut self,
        obj: &Bound<'_, PyAny>,
        names: &[String],
        entries: &mut Vec<(String, Value)>,
        depth: usize,
    ) -> PyResult<()> {
        for name in names {
            if entries.iter().any(|(present, _)| present == name) {
                continue;
            }
            let value = obj.getattr(name.as_str())?;
            entries.push((name.clone(), self.convert(&value, depth + 1)?));
        }
        Ok(())
    }
}

/// The kind of `obj` (of type `cls`), asked in the order the checks must run.
fn find_kind(obj: &Bound<'_, PyAny>, cls: &Bound<'_, PyType>) -> PyResult<Kind> {
    let py = obj.py();
    // Builtin containers and functions offer no `__html__`: no need to ask.
    if obj.is_exact_instance_of::<PyList>() || obj.is_exact_instance_of::<PyTuple>() {
        return Ok(Kind::Sequence);
    }
    if obj.is_exact_instance_of::<PyDict>() {
        return Ok(Kind::Dict);
    }
    if cls.is(METHOD.import(py, "types", "MethodType")?)
        || cls.is(BUILTIN.import(py, "types", "BuiltinFunctionType")?)
        || cls.is(FUNCTION.import(py, "types", "FunctionType")?)
    {
        return Ok(Kind::Callable);
    }
    if cls.is(LAZY.import(py, "hyperdjango.templates.context", "Lazy")?) {
        return Ok(Kind::Lazy);
    }
    let attributes = ClassAttributes::of(obj, cls)?;
    let has = |name: &Bound<'_, PyString>| attributes.has(name);
    if has(pyo3::intern!(py, "__template__"))? {
        return Ok(Kind::Parts);
    }
    if has(pyo3::intern!(py, "__html__"))? {
        return Ok(Kind::Html);
    }
    if obj.is_instance_of::<PyString>() {
        return Ok(Kind::Str);
    }
    if obj.is_instance_of::<PyBytes>() {
        return Ok(Kind::Bytes);
    }
    if obj.is_instance_of::<PyDict>() {
        return Ok(Kind::Dict);
    }
    if obj.is_instance_of::<PyList>() || obj.is_instance_of::<PyTuple>() {
        return Ok(Kind::Sequence);
    }
    if is_moment(obj)? {
        return Ok(Kind::Moment);
    }
    if has(pyo3::intern!(py, "_meta"))? && has(pyo3::intern!(py, "to_dict"))? {
        return Ok(Kind::Model(Rc::new(model_plan(obj)?)));
    }
    if has(pyo3::intern!(py, "__dataclass_fields__"))? {
        let mut fields = Vec::new();
        for name in cls
            .getattr(pyo3::intern!(py, "__dataclass_fields__"))?
            .try_iter()?
        {
            fields.push(name?.cast_into::<PyString>()?.unbind());
        }
        return Ok(Kind::Dataclass(Rc::new(fields)));
    }
    if obj.is_instance_of::<PySet>() || obj.is_instance_of::<PyFrozenSet>() {
        return Ok(Kind::Set);
    }
    if has(pyo3::intern!(py, "keys"))? && has(pyo3::intern!(py, "__getitem__"))? {
        return Ok(Kind::Mapping);
    }
    if obj.is_callable() {
        return Ok(Kind::Callable);
    }
    if has(pyo3::intern!(py, "__iter__"))? {
        return Ok(Kind::Iterable);
    }
    if has(pyo3::intern!(py, "__aiter__"))? || has(pyo3::intern!(py, "__await__"))? {
        return Ok(Kind::Awaitable);
    }
    if has(pyo3::intern!(py, "__dict__"))? && !obj.is_instance_of::<PyType>() {
        return Ok(Kind::Attributes(Rc::new(declared_names(cls)?)));
    }
    // Decimal, UUID, Enum, ...: their text.
    Ok(Kind::Text)
}

/// Whether an object has an attribute, answered from its class's dicts along the MRO:
/// `hasattr` raises (and formats) an AttributeError inside Python for every no. A
/// class with `__getattr__` (a proxy) is asked through the object, the slow way.
struct ClassAttributes<'a, 'py> {
    obj: &'a Bound<'py, PyAny>,
    dicts: Vec<Bound<'py, PyAny>>,
    dynamic: bool,
}

impl<'a, 'py> ClassAttributes<'a, 'py> {
    fn of(obj: &'a Bound<'py, PyAny>, cls: &Bound<'py, PyType>) -> PyResult<Self> {
        let py = obj.py();
        let mut dicts = Vec::new();
        for base in cls.mro().iter() {
            dicts.push(base.getattr(pyo3::intern!(py, "__dict__"))?);
        }
        let mut attributes = ClassAttributes {
            obj,
            dicts,
            dynamic: false,
        };
        attributes.dynamic = attributes.in_classes(pyo3::intern!(py, "__getattr__"))?;
        Ok(attributes)
    }

    fn in_classes(&self, name: &Bound<'py, PyString>) -> PyResult<bool> {
        for dict in &self.dicts {
            if dict.contains(name)? {
                return Ok(true);
            }
        }
        Ok(false)
    }

    fn has(&self, name: &Bound<'py, PyString>) -> PyResult<bool> {
        Ok(self.in_classes(name)? || (self.dynamic && self.obj.hasattr(name)?))
    }
}

/// A model class's plan (see [`ModelPlan`]).
fn model_plan(obj: &Bound<'_, PyAny>) -> PyResult<ModelPlan> {
    let py = obj.py();
    let meta = obj.getattr(pyo3::intern!(py, "_meta"))?;
    let pk = match meta.getattr(pyo3::intern!(py, "pk")) {
        Ok(field) if !field.is_none() => Some(field.getattr(pyo3::intern!(py, "name"))?.extract()?),
        _ => None,
    };
    let mut relations = Vec::new();
    let declared = meta
        .getattr(pyo3::intern!(py, "relations"))?
        .cast_into::<PyDict>()?;
    for (name, relation) in declared.iter() {
        let multi = relation.getattr(pyo3::intern!(py, "multi"))?.is_truthy()?;
        relations.push((name.extract()?, multi));
    }
    Ok(ModelPlan {
        pk,
        relations,
        declared: declared_names(&obj.get_type())?,
    })
}

/// A class's `__template_attrs__` (none when it has no such attribute).
fn declared_names(cls: &Bound<'_, PyType>) -> PyResult<Vec<String>> {
    let Ok(names) = cls.getattr(pyo3::intern!(cls.py(), "__template_attrs__")) else {
        return Ok(Vec::new());
    };
    names.try_iter()?.map(|name| name?.extract()).collect()
}

/// An object's named values, printed as its `str()`, asked for (with the GIL) only if
/// the template prints the object itself.
fn record(obj: &Bound<'_, PyAny>, entries: Vec<(String, Value)>) -> Value {
    let obj = obj.clone().unbind();
    Record::printed_later(entries, move || {
        Python::attach(|py| {
            obj.bind(py)
                .str()
                .map(|s| s.to_string())
                .unwrap_or_default()
        })
    })
}

fn is_moment(obj: &Bound<'_, PyAny>) -> PyResult<bool> {
    let py = obj.py();
    Ok(
        obj.is_instance(DATETIME.import(py, "datetime", "datetime")?)?
            || obj.is_instance(DATE.import(py, "datetime", "date")?)?
            || obj.is_instance(TIME.import(py, "datetime", "time")?)?,
    )
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

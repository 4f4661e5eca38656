//! Values going to and coming from a database.

use std::sync::Arc;

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, Utc};

use super::{DbError, ErrorKind};

/// One parameter or one column value.
///
/// The bindings build these from Python objects and turn them back; each
/// backend encodes them for the type the server expects (PostgreSQL) or the
/// column's declared type (SQLite).
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    /// An exact decimal in its canonical text form (`"-12.3400"`), any precision.
    Decimal(String),
    Text(String),
    Bytes(Vec<u8>),
    Date(NaiveDate),
    Time(NaiveTime),
    /// A datetime without a time zone (PostgreSQL `timestamp`).
    DateTime(NaiveDateTime),
    /// An aware datetime, normalised to UTC (PostgreSQL `timestamptz`).
    DateTimeTz(DateTime<Utc>),
    /// A duration in microseconds (Python `timedelta`, PostgreSQL `interval`).
    Interval(i64),
    Uuid(uuid::Uuid),
    /// A JSON document as text (objects come this way from Python).
    Json(String),
    /// A list: a PostgreSQL array, or a JSON array when the target is json/jsonb
    /// (and always on SQLite).
    Array(Vec<Value>),
}

impl Value {
    /// JSON text for this value (for json/jsonb targets and SQLite lists); a Data
    /// error for a NaN or infinite float, which JSON cannot spell (written as `null`
    /// it would come back as another value; the ORM's JSON path refuses them too).
    pub fn to_json(&self) -> Result<String, DbError> {
        let mut out = String::new();
        self.write_json(&mut out)?;
        Ok(out)
    }

    fn write_json(&self, out: &mut String) -> Result<(), DbError> {
        use std::fmt::Write;
        match self {
            Value::Null => out.push_str("null"),
            Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Value::Int(i) => {
                let _ = write!(out, "{i}");
            }
            Value::Float(f) if f.is_finite() => {
                let _ = write!(out, "{f:?}");
            }
            Value::Float(f) => {
                return Err(DbError::new(
                    ErrorKind::Data,
                    format!(
                        "NaN and infinite floats cannot be stored in JSON (it has no spelling for them): found {}",
                        f.to_string().to_lowercase()
                    ),
                ))
            }
            Value::Decimal(d) => write_json_string(out, d),
            Value::Text(s) => write_json_string(out, s),
            Value::Bytes(b) => write_json_string(out, &String::from_utf8_lossy(b)),
            Value::Date(d) => write_json_string(out, &d.format("%Y-%m-%d").to_string()),
            Value::Time(t) => write_json_string(out, &t.format("%H:%M:%S%.f").to_string()),
            Value::DateTime(dt) => {
                write_json_string(out, &dt.format("%Y-%m-%dT%H:%M:%S%.f").to_string())
            }
            Value::DateTimeTz(dt) => {
                write_json_string(out, &dt.format("%Y-%m-%dT%H:%M:%S%.f+00:00").to_string())
            }
            Value::Interval(us) => {
                let _ = write!(out, "{}", *us as f64 / 1e6);
            }
            Value::Uuid(u) => write_json_string(out, &u.hyphenated().to_string()),
            Value::Json(j) => out.push_str(j),
            Value::Array(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    item.write_json(out)?;
                }
                out.push(']');
            }
        }
        Ok(())
    }
}

/// `NaN`, `Infinity` or `-Infinity`, as both PostgreSQL's numeric and
/// Python's `Decimal` spell a float without digits; `None` for a finite one.
pub(crate) fn non_finite_float_text(f: f64) -> Option<&'static str> {
    if f.is_nan() {
        Some("NaN")
    } else if f.is_infinite() {
        Some(if f > 0.0 { "Infinity" } else { "-Infinity" })
    } else {
        None
    }
}

fn write_json_string(out: &mut String, s: &str) {
    use std::fmt::Write;
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// The result of a statement: column names, every row, and the affected-row count.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Rows {
    pub columns: Arc<[String]>,
    pub rows: Vec<Vec<Value>>,
    /// Rows inserted/updated/deleted (or returned, for a SELECT).
    pub affected: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arrays_become_json_with_embedded_documents() {
        let v = Value::Array(vec![
            Value::Int(1),
            Value::Text("a\"b".into()),
            Value::Json("{\"k\":[1,2]}".into()),
            Value::Null,
        ]);
        assert_eq!(v.to_json().unwrap(), r#"[1,"a\"b",{"k":[1,2]},null]"#);
    }

    #[test]
    fn a_nan_or_infinite_float_in_json_is_a_data_error_not_null() {
        for f in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
            let nested = Value::Array(vec![Value::Int(1), Value::Array(vec![Value::Float(f)])]);
            let err = nested.to_json().unwrap_err();
            assert_eq!(err.kind, ErrorKind::Data);
            assert!(
                err.message.contains("cannot be stored in JSON"),
                "{}",
                err.message
            );
        }
        assert!(err_text(f64::NEG_INFINITY).ends_with("found -inf"));
        assert!(err_text(f64::NAN).ends_with("found nan"));
    }

    fn err_text(f: f64) -> String {
        Value::Float(f).to_json().unwrap_err().message
    }
}

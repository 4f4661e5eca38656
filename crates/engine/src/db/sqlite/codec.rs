//! [`Value`] ↔ SQLite storage classes.
//!
//! Binding (SQLite has five storage classes; richer values become text):
//!
//! | Value | stored as |
//! |---|---|
//! | `Null`, `Int`, `Float`, `Text`, `Bytes` | NULL, INTEGER, REAL, TEXT, BLOB |
//! | `Bool` | INTEGER 0/1 |
//! | `Decimal` | a number when that loses no digit (INTEGER when integral and within 64 bits, else REAL with at most 15 significant digits), else TEXT, canonical text. A bound parameter has no affinity, so as TEXT it would sort above every number in a comparison with an expression (`price - 1 > ?`). A column whose declared type has NUMERIC affinity (`DECIMAL(10,2)`, `NUMERIC`) stores INTEGER or REAL, losing digits beyond a double; declare `DECIMAL_TEXT` (TEXT affinity, still read as `Decimal`) to keep every digit |
//! | `Date` | TEXT `YYYY-MM-DD` |
//! | `Time` | TEXT `HH:MM:SS[.ffffff]` |
//! | `DateTime` | TEXT `YYYY-MM-DD HH:MM:SS[.ffffff]` |
//! | `DateTimeTz` | TEXT `YYYY-MM-DD HH:MM:SS[.ffffff]+00:00` |
//! | `Interval` | INTEGER microseconds |
//! | `Uuid` | TEXT, hyphenated |
//! | `Json` | TEXT |
//! | `Array` | TEXT, JSON ([`Value::to_json`]) |
//!
//! Reading: a result column is typed by its declared type
//! (`sqlite3_column_decltype`, case-insensitive), checked in this order:
//! contains `BOOL` → Bool; `DECIMAL` or `NUMERIC` → Decimal; `DATETIME` or
//! `TIMESTAMP` → DateTime (DateTimeTz, normalised to UTC, when the text has an
//! offset); `DATE` → Date; `TIME` → Time; `UUID` → Uuid; `JSON` → Json;
//! `INTERVAL` or `DURATION` → Interval; `INT` → Int; `REAL`/`FLOA`/`DOUB` →
//! Float; `BLOB` → Bytes; anything else, and columns without a declared type
//! (expressions), take the storage class as is. NULL is always `Null`. A
//! value that does not fit its declared type is a Data error naming the
//! column and the value. The columns are read once a statement has stepped (a
//! statement prepared before a schema change describes its new columns only
//! then), and each connection keeps them per statement ([`ColumnCache`]).

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, Timelike, Utc};
use rusqlite::types::{ToSqlOutput, ValueRef};
use rusqlite::Statement;

use super::errors::map_error;
use crate::db::value::non_finite_float_text;
use crate::db::{DbError, ErrorKind, Value};

/// Binds `params` to `?1..?n` of `stmt`, checking the count first.
pub fn bind_params(stmt: &mut Statement<'_>, params: &[Value]) -> Result<(), DbError> {
    let expected = stmt.parameter_count();
    if expected != params.len() {
        return Err(DbError::parameter_count(expected, params.len()));
    }
    for (i, value) in params.iter().enumerate() {
        stmt.raw_bind_parameter(i + 1, to_sql(value)?)
            .map_err(|e| map_error(e, None))?;
    }
    Ok(())
}

fn to_sql(value: &Value) -> Result<ToSqlOutput<'_>, DbError> {
    use rusqlite::types::Value as Owned;
    Ok(match value {
        Value::Null => ToSqlOutput::Borrowed(ValueRef::Null),
        Value::Bool(b) => ToSqlOutput::Owned(Owned::Integer(*b as i64)),
        Value::Int(i) => ToSqlOutput::Owned(Owned::Integer(*i)),
        Value::Float(f) => ToSqlOutput::Owned(Owned::Real(*f)),
        Value::Decimal(d) => decimal_to_sql(d),
        Value::Text(s) => ToSqlOutput::Borrowed(ValueRef::Text(s.as_bytes())),
        Value::Bytes(b) => ToSqlOutput::Borrowed(ValueRef::Blob(b)),
        Value::Date(d) => ToSqlOutput::Owned(Owned::Text(format_date(d))),
        Value::Time(t) => ToSqlOutput::Owned(Owned::Text(format_time(t))),
        Value::DateTime(dt) => ToSqlOutput::Owned(Owned::Text(format_datetime(dt))),
        Value::DateTimeTz(dt) => {
            let mut text = format_datetime(&dt.naive_utc());
            text.push_str("+00:00");
            ToSqlOutput::Owned(Owned::Text(text))
        }
        Value::Interval(us) => ToSqlOutput::Owned(Owned::Integer(*us)),
        Value::Uuid(u) => ToSqlOutput::Owned(Owned::Text(u.hyphenated().to_string())),
        Value::Json(j) => ToSqlOutput::Borrowed(ValueRef::Text(j.as_bytes())),
        Value::Array(_) => ToSqlOutput::Owned(Owned::Text(value.to_json()?)),
    })
}

fn format_date(d: &NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

fn format_time(t: &NaiveTime) -> String {
    let micros = (t.nanosecond() % 1_000_000_000) / 1000;
    if micros == 0 {
        t.format("%H:%M:%S").to_string()
    } else {
        format!("{}.{micros:06}", t.format("%H:%M:%S"))
    }
}

fn format_datetime(dt: &NaiveDateTime) -> String {
    format!("{} {}", format_date(&dt.date()), format_time(&dt.time()))
}

/// How a result column's values are read, from its declared type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnType {
    /// No declared type or an unknown one: the storage class decides.
    Storage,
    Bool,
    Decimal,
    DateTime,
    Date,
    Time,
    Uuid,
    Json,
    Interval,
    Int,
    Float,
    Bytes,
}

impl ColumnType {
    pub fn from_decl(decl: Option<&str>) -> ColumnType {
        let Some(decl) = decl else {
            return ColumnType::Storage;
        };
        let d = decl.to_ascii_uppercase();
        let has = |s: &str| d.contains(s);
        if has("BOOL") {
            ColumnType::Bool
        } else if has("DECIMAL") || has("NUMERIC") {
            ColumnType::Decimal
        } else if has("DATETIME") || has("TIMESTAMP") {
            ColumnType::DateTime
        } else if has("DATE") {
            ColumnType::Date
        } else if has("TIME") {
            ColumnType::Time
        } else if has("UUID") {
            ColumnType::Uuid
        } else if has("JSON") {
            ColumnType::Json
        } else if has("INTERVAL") || has("DURATION") {
            ColumnType::Interval
        } else if has("INT") {
            ColumnType::Int
        } else if has("REAL") || has("FLOA") || has("DOUB") {
            ColumnType::Float
        } else if has("BLOB") {
            ColumnType::Bytes
        } else {
            ColumnType::Storage
        }
    }
}

/// Names and read types of a prepared statement's result columns.
pub(crate) struct ColumnSet {
    pub names: Arc<[String]>,
    pub types: Vec<ColumnType>,
    /// The declared types the read types come from, to see that a cached set still fits.
    decls: Vec<Option<Box<str>>>,
}

impl ColumnSet {
    pub(crate) fn of(stmt: &Statement<'_>) -> ColumnSet {
        Self::from_columns(&stmt.columns())
    }

    fn from_columns(columns: &[rusqlite::Column<'_>]) -> ColumnSet {
        let mut names = Vec::with_capacity(columns.len());
        let mut types = Vec::with_capacity(columns.len());
        let mut decls = Vec::with_capacity(columns.len());
        for column in columns {
            names.push(column.name().to_string());
            types.push(ColumnType::from_decl(column.decl_type()));
            decls.push(column.decl_type().map(Box::from));
        }
        ColumnSet {
            names: names.into(),
            types,
            decls,
        }
    }

    /// Whether `columns` have this set's names and declared types.
    fn describes(&self, columns: &[rusqlite::Column<'_>]) -> bool {
        columns.len() == self.names.len()
            && columns
                .iter()
                .zip(self.names.iter().zip(&self.decls))
                .all(|(c, (name, decl))| c.name() == name && c.decl_type() == decl.as_deref())
    }

    /// Reads one row.
    pub(crate) fn read_row(&self, row: &rusqlite::Row<'_>) -> Result<Vec<Value>, DbError> {
        let mut out = Vec::with_capacity(self.types.len());
        for (i, ty) in self.types.iter().enumerate() {
            let raw = row.get_ref(i).map_err(|e| map_error(e, None))?;
            out.push(read_value(raw, *ty).map_err(|why| self.data_error(i, raw, &why))?);
        }
        Ok(out)
    }

    /// Reads up to `max` rows of a running statement, stopping early at its
    /// end or at the first error; a stepping error names `sql` when given.
    pub(crate) fn read_chunk(
        &self,
        rows: &mut rusqlite::Rows<'_>,
        max: usize,
        sql: Option<&str>,
    ) -> Chunk {
        // Capped: a huge chunk size must not allocate before the rows exist.
        let mut chunk = Chunk {
            rows: Vec::with_capacity(max.min(4096)),
            finished: false,
            failure: None,
        };
        while chunk.rows.len() < max {
            match rows.next() {
                Ok(Some(row)) => match self.read_row(row) {
                    Ok(values) => chunk.rows.push(values),
                    Err(e) => {
                        chunk.failure = Some(e);
                        break;
                    }
                },
                Ok(None) => {
                    chunk.finished = true;
                    break;
                }
                Err(e) => {
                    chunk.failure = Some(map_error(e, sql));
                    break;
                }
            }
        }
        chunk
    }

    fn data_error(&self, index: usize, raw: ValueRef<'_>, why: &str) -> DbError {
        let shown = match raw {
            ValueRef::Null => "NULL".to_string(),
            ValueRef::Integer(i) => i.to_string(),
            ValueRef::Real(f) => format!("{f:?}"),
            ValueRef::Text(t) => {
                let text = String::from_utf8_lossy(t);
                if text.chars().count() > 80 {
                    format!("{:?}...", text.chars().take(80).collect::<String>())
                } else {
                    format!("{text:?}")
                }
            }
            ValueRef::Blob(b) => format!("<{} byte blob>", b.len()),
        };
        DbError::new(
            ErrorKind::Data,
            format!(
                "column {:?}: cannot read {shown} as {:?}: {why}",
                self.names[index], self.types[index]
            ),
        )
    }
}

/// The column sets of one connection's statements, by SQL: working a set out allocates
/// every name and classifies every declared type, which a statement run again (an ORM
/// query of a shape seen before) need not repeat. A schema change re-prepares a statement
/// with perhaps other columns, so a cached set is used only while the statement still
/// has its names and declared types (compared, not allocated).
pub(crate) struct ColumnCache {
    sets: RefCell<HashMap<Box<str>, Arc<ColumnSet>>>,
    capacity: usize,
}

impl ColumnCache {
    /// A cache of at most `capacity` sets (the connection's statement cache size: a
    /// statement past that is prepared again anyway).
    pub(crate) fn new(capacity: usize) -> ColumnCache {
        ColumnCache {
            sets: RefCell::new(HashMap::new()),
            capacity,
        }
    }

    /// The column set of `stmt`, prepared from `sql`.
    pub(crate) fn of(&self, sql: &str, stmt: &Statement<'_>) -> Arc<ColumnSet> {
        let columns = stmt.columns();
        if let Some(set) = self.sets.borrow().get(sql) {
            if set.describes(&columns) {
                return set.clone();
            }
        }
        let set = Arc::new(ColumnSet::from_columns(&columns));
        let mut sets = self.sets.borrow_mut();
        if sets.len() >= self.capacity && !sets.contains_key(sql) {
            sets.clear(); // rare: more distinct statements than the statement cache keeps
        }
        sets.insert(sql.into(), set.clone());
        set
    }
}

/// What [`ColumnSet::read_chunk`] read.
pub(crate) struct Chunk {
    pub rows: Vec<Vec<Value>>,
    /// The statement has no rows left.
    pub finished: bool,
    /// Reading stopped at this error; `rows` holds the rows read before it.
    pub failure: Option<DbError>,
}

fn text(t: &[u8]) -> Result<&str, String> {
    std::str::from_utf8(t).map_err(|_| "the text is not valid UTF-8".to_string())
}

/// One column value by its column's read type; `Err` says why it does not fit.
pub fn read_value(raw: ValueRef<'_>, ty: ColumnType) -> Result<Value, String> {
    if let ValueRef::Null = raw {
        return Ok(Value::Null);
    }
    let wrong = || Err("unexpected storage class".to_string());
    Ok(match ty {
        ColumnType::Storage => match raw {
            ValueRef::Integer(i) => Value::Int(i),
            ValueRef::Real(f) => Value::Float(f),
            ValueRef::Text(t) => Value::Text(text(t)?.to_string()),
            ValueRef::Blob(b) => Value::Bytes(b.to_vec()),
            ValueRef::Null => Value::Null,
        },
        ColumnType::Bool => match raw {
            ValueRef::Integer(i) => Value::Bool(i != 0),
            ValueRef::Real(f) => Value::Bool(f != 0.0),
            ValueRef::Text(t) => match text(t)?.trim().to_ascii_lowercase().as_str() {
                "1" | "t" | "true" | "y" | "yes" | "on" => Value::Bool(true),
                "0" | "f" | "false" | "n" | "no" | "off" => Value::Bool(false),
                _ => return Err("not a boolean".into()),
            },
            _ => return wrong(),
        },
        ColumnType::Decimal => match raw {
            ValueRef::Integer(i) => Value::Decimal(i.to_string()),
            ValueRef::Real(f) => Value::Decimal(float_to_decimal(f)),
            ValueRef::Text(t) => {
                let s = text(t)?.trim();
                if !is_decimal_text(s) {
                    return Err("not a decimal number".into());
                }
                Value::Decimal(s.to_string())
            }
            _ => return wrong(),
        },
        ColumnType::DateTime => match raw {
            ValueRef::Text(t) => parse_datetime(text(t)?)?,
            _ => return wrong(),
        },
        ColumnType::Date => match raw {
            ValueRef::Text(t) => Value::Date(
                NaiveDate::parse_from_str(text(t)?.trim(), "%Y-%m-%d")
                    .map_err(|_| "not a YYYY-MM-DD date".to_string())?,
            ),
            _ => return wrong(),
        },
        ColumnType::Time => match raw {
            ValueRef::Text(t) => Value::Time(parse_time(text(t)?.trim())?),
            _ => return wrong(),
        },
        ColumnType::Uuid => match raw {
            ValueRef::Text(t) => {
                Value::Uuid(uuid::Uuid::parse_str(text(t)?.trim()).map_err(|e| e.to_string())?)
            }
            ValueRef::Blob(b) => Value::Uuid(uuid::Uuid::from_slice(b).map_err(|e| e.to_string())?),
            _ => return wrong(),
        },
        ColumnType::Json => match raw {
            ValueRef::Text(t) => Value::Json(text(t)?.to_string()),
            ValueRef::Integer(i) => Value::Json(i.to_string()),
            ValueRef::Real(f) if f.is_finite() => Value::Json(format!("{f:?}")),
            _ => return wrong(),
        },
        ColumnType::Interval => match raw {
            ValueRef::Integer(i) => Value::Interval(i),
            ValueRef::Real(f) if f.fract() == 0.0 && f.abs() < 9.2e18 => Value::Interval(f as i64),
            ValueRef::Text(t) => Value::Interval(
                text(t)?
                    .trim()
                    .parse()
                    .map_err(|_| "not a whole number of microseconds".to_string())?,
            ),
            _ => return wrong(),
        },
        ColumnType::Int => match raw {
            ValueRef::Integer(i) => Value::Int(i),
            ValueRef::Real(f) if f.fract() == 0.0 && f.abs() < 9.2e18 => Value::Int(f as i64),
            ValueRef::Text(t) => Value::Int(
                text(t)?
                    .trim()
                    .parse()
                    .map_err(|_| "not an integer".to_string())?,
            ),
            _ => return Err("not an integer".into()),
        },
        ColumnType::Float => match raw {
            ValueRef::Integer(i) => Value::Float(i as f64),
            ValueRef::Real(f) => Value::Float(f),
            ValueRef::Text(t) => Value::Float(
                text(t)?
                    .trim()
                    .parse()
                    .map_err(|_| "not a number".to_string())?,
            ),
            _ => return wrong(),
        },
        ColumnType::Bytes => match raw {
            ValueRef::Blob(b) => Value::Bytes(b.to_vec()),
            ValueRef::Text(t) => Value::Bytes(t.to_vec()),
            _ => return wrong(),
        },
    })
}

/// The shortest decimal text that reads back as `f`: plain digits, never an
/// exponent nor the `.0` of an integral value (`3.0` → `3`, as Python's `Decimal(3.0)`).
/// A Decimal's canonical text (`[-]digits[.digits]`, or `NaN`) as a number when no digit is
/// lost, so that comparisons with numeric expressions compare numbers; else as text, which
/// a `DECIMAL_TEXT` column keeps exactly.
fn decimal_to_sql(d: &str) -> ToSqlOutput<'_> {
    use rusqlite::types::Value as Owned;
    if let Ok(i) = d.parse::<i64>() {
        return ToSqlOutput::Owned(Owned::Integer(i));
    }
    let digits = d.strip_prefix('-').unwrap_or(d);
    let plain = !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit() || b == b'.');
    // 15 significant digits come back unchanged from a double (DBL_DIG), however SQLite prints it.
    let significant = digits.replace('.', "").trim_matches('0').len();
    if plain && significant <= 15 {
        if let Ok(f) = d.parse::<f64>() {
            return ToSqlOutput::Owned(Owned::Real(f));
        }
    }
    ToSqlOutput::Borrowed(ValueRef::Text(d.as_bytes()))
}

fn float_to_decimal(f: f64) -> String {
    non_finite_float_text(f).map_or_else(|| format!("{f}"), str::to_string)
}

/// `[+-]digits[.digits][e[+-]digits]`, or NaN / Infinity as Python's `Decimal` accepts.
fn is_decimal_text(s: &str) -> bool {
    let body = s.strip_prefix(['+', '-']).unwrap_or(s);
    let lower = body.to_ascii_lowercase();
    if matches!(lower.as_str(), "nan" | "inf" | "infinity" | "snan") {
        return true;
    }
    let (mantissa, exponent) = match lower.split_once('e') {
        Some((m, e)) => (m, Some(e)),
        None => (lower.as_str(), None),
    };
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let digits = |p: &str| p.bytes().all(|b| b.is_ascii_digit());
    if int.is_empty() && frac.is_empty() || !digits(int) || !digits(frac) {
        return false;
    }
    match exponent {
        None => true,
        Some(e) => {
            let e = e.strip_prefix(['+', '-']).unwrap_or(e);
            !e.is_empty() && digits(e)
        }
    }
}

fn parse_time(s: &str) -> Result<NaiveTime, String> {
    NaiveTime::parse_from_str(s, "%H:%M:%S%.f")
        .or_else(|_| NaiveTime::parse_from_str(s, "%H:%M"))
        .map_err(|_| "not an HH:MM[:SS[.ffffff]] time".to_string())
}

/// `YYYY-MM-DD[( |T)HH:MM[:SS[.f]]][Z|±HH[:MM]]`: naive, or UTC when an offset is given.
fn parse_datetime(s: &str) -> Result<Value, String> {
    let bad = || "not a YYYY-MM-DD HH:MM:SS[.ffffff][±HH:MM] datetime".to_string();
    let s = s.trim();
    if s.len() < 10 || !s.is_char_boundary(10) {
        return Err(bad());
    }
    let date = NaiveDate::parse_from_str(&s[..10], "%Y-%m-%d").map_err(|_| bad())?;
    let rest = &s[10..];
    if rest.is_empty() {
        return Ok(Value::DateTime(date.and_time(NaiveTime::MIN)));
    }
    let rest = rest.strip_prefix([' ', 'T', 't']).ok_or_else(bad)?;
    let (time_text, offset_text) = match rest.find(['+', '-', 'Z', 'z']) {
        Some(at) => (rest[..at].trim_end(), Some(&rest[at..])),
        None => (rest, None),
    };
    let time = parse_time(time_text).map_err(|_| bad())?;
    let naive = date.and_time(time);
    match offset_text {
        None => Ok(Value::DateTime(naive)),
        Some(offset) => {
            let offset = parse_offset(offset).ok_or_else(bad)?;
            let aware: DateTime<FixedOffset> =
                naive.and_local_timezone(offset).single().ok_or_else(bad)?;
            Ok(Value::DateTimeTz(aware.with_timezone(&Utc)))
        }
    }
}

/// `Z`, `±HH`, `±HHMM`, `±HH:MM`.
fn parse_offset(s: &str) -> Option<FixedOffset> {
    if s.eq_ignore_ascii_case("z") {
        return FixedOffset::east_opt(0);
    }
    let sign = match s.as_bytes().first()? {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let digits: String = s[1..].chars().filter(|c| *c != ':').collect();
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let (h, m) = match digits.len() {
        2 => (digits.parse::<i32>().ok()?, 0),
        4 => (
            digits[..2].parse::<i32>().ok()?,
            digits[2..].parse::<i32>().ok()?,
        ),
        _ => return None,
    };
    if h > 23 || m > 59 {
        return None;
    }
    FixedOffset::east_opt(sign * (h * 3600 + m * 60))
}

#[cfg(test)]
mod tests {
    #[test]
    fn decimals_are_bound_as_numbers_when_no_digit_is_lost() {
        use rusqlite::types::Value as Owned;
        let bound = |d: &str| match super::decimal_to_sql(d) {
            ToSqlOutput::Owned(v) => v,
            ToSqlOutput::Borrowed(ValueRef::Text(t)) => {
                Owned::Text(String::from_utf8(t.to_vec()).unwrap())
            }
            _ => unreachable!(),
        };
        assert_eq!(bound("10"), Owned::Integer(10));
        assert_eq!(bound("-7"), Owned::Integer(-7));
        assert_eq!(bound("10.50"), Owned::Real(10.5));
        assert_eq!(bound("0.0001"), Owned::Real(0.0001));
        assert_eq!(
            bound("123456789012345.6"),
            Owned::Text("123456789012345.6".into())
        );
        assert_eq!(
            bound("12345678901234567890"),
            Owned::Text("12345678901234567890".into())
        );
        assert_eq!(bound("NaN"), Owned::Text("NaN".into()));
    }

    use super::*;

    #[test]
    fn declared_types() {
        assert_eq!(ColumnType::from_decl(Some("boolean")), ColumnType::Bool);
        assert_eq!(
            ColumnType::from_decl(Some("DECIMAL(10, 2)")),
            ColumnType::Decimal
        );
        assert_eq!(
            ColumnType::from_decl(Some("decimal_text")),
            ColumnType::Decimal
        );
        assert_eq!(
            ColumnType::from_decl(Some("datetime")),
            ColumnType::DateTime
        );
        assert_eq!(
            ColumnType::from_decl(Some("TIMESTAMP WITH TIME ZONE")),
            ColumnType::DateTime
        );
        assert_eq!(ColumnType::from_decl(Some("date")), ColumnType::Date);
        assert_eq!(ColumnType::from_decl(Some("time")), ColumnType::Time);
        assert_eq!(ColumnType::from_decl(Some("uuid")), ColumnType::Uuid);
        assert_eq!(ColumnType::from_decl(Some("JSONB")), ColumnType::Json);
        assert_eq!(
            ColumnType::from_decl(Some("interval")),
            ColumnType::Interval
        );
        assert_eq!(ColumnType::from_decl(Some("BIGINT")), ColumnType::Int);
        assert_eq!(
            ColumnType::from_decl(Some("double precision")),
            ColumnType::Float
        );
        assert_eq!(ColumnType::from_decl(Some("blob")), ColumnType::Bytes);
        assert_eq!(
            ColumnType::from_decl(Some("varchar(20)")),
            ColumnType::Storage
        );
        assert_eq!(ColumnType::from_decl(None), ColumnType::Storage);
    }

    #[test]
    fn datetimes_parse_with_and_without_offsets() {
        let v = parse_datetime("2024-05-06 07:08:09.123456").unwrap();
        assert_eq!(format!("{v:?}"), "DateTime(2024-05-06T07:08:09.123456)");
        let v = parse_datetime("2024-05-06T07:08:09+02:00").unwrap();
        assert_eq!(format!("{v:?}"), "DateTimeTz(2024-05-06T05:08:09Z)");
        let v = parse_datetime("2024-05-06 07:08Z").unwrap();
        assert_eq!(format!("{v:?}"), "DateTimeTz(2024-05-06T07:08:00Z)");
        let v = parse_datetime("2024-05-06 23:30:00-0130").unwrap();
        assert_eq!(format!("{v:?}"), "DateTimeTz(2024-05-07T01:00:00Z)");
        assert!(parse_datetime("2024-05-06 nope").is_err());
        assert!(parse_datetime("2024-05-06 10:00:00+25:00").is_err());
        assert!(parse_datetime("é").is_err());
    }

    #[test]
    fn decimals() {
        for ok in ["1", "-1.50", "+.5", "1e10", "1.2E-3", "NaN", "-Infinity"] {
            assert!(is_decimal_text(ok), "{ok}");
        }
        for bad in ["", ".", "1.2.3", "abc", "1e", "--1", "1 2"] {
            assert!(!is_decimal_text(bad), "{bad}");
        }
        assert_eq!(float_to_decimal(12.34), "12.34");
        assert_eq!(float_to_decimal(0.1 + 0.2), "0.30000000000000004");
        assert_eq!(float_to_decimal(3.0), "3");
    }

    #[test]
    fn times_format_micros_only_when_present() {
        let t = NaiveTime::from_hms_micro_opt(1, 2, 3, 0).unwrap();
        assert_eq!(format_time(&t), "01:02:03");
        let t = NaiveTime::from_hms_micro_opt(1, 2, 3, 450).unwrap();
        assert_eq!(format_time(&t), "01:02:03.000450");
    }
}

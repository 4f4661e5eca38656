//! [`Value`] ↔ PostgreSQL's binary wire format.
//!
//! Encoding follows the type the server declared for each parameter when the
//! statement was prepared, so one `Value` kind can go to several column types:
//!
//! | value | accepted parameter types |
//! |---|---|
//! | `Bool` | bool; text-like (`true`/`false`) |
//! | `Int` | int2, int4, int8 (range-checked: a Data error, SQLSTATE 22003), oid and the reg* types, float4, float8, numeric, money (cents), json/jsonb, text-like |
//! | `Float` | float4, float8, numeric (NaN and ±Infinity included), int2/4/8 when integral, json/jsonb, text-like |
//! | `Decimal` | numeric (arbitrary precision, written digit by digit), float4/8, int2/4/8 when integral, text-like |
//! | `Text` | text, varchar, bpchar, name, unknown, citext, xml, `"char"`, enums, json/jsonb (the text **is** the document, as in asyncpg), numeric and uuid (parsed) |
//! | `Bytes` | bytea |
//! | `Date`, `Time` | date; time, timetz (offset 0); text-like |
//! | `DateTime` | timestamp; timestamptz (the naive value is taken as UTC); text-like |
//! | `DateTimeTz` | timestamptz; timestamp (its UTC wall time); text-like |
//! | `Interval` (µs) | interval, written as days + microseconds like Python's `timedelta` (months 0) |
//! | `Uuid` | uuid, text-like |
//! | `Json` | json, jsonb (version byte 1), text-like |
//! | `Array` | any PostgreSQL array (nested lists become multidimensional arrays), json/jsonb |
//!
//! An array of json/jsonb is one-dimensional on the way in: a nested list is a JSON
//! array, which is a value of the member type, so it is an element, never a
//! dimension. A multidimensional json[] read back (nested `Array`s) is therefore
//! written as one dimension of JSON arrays; PostgreSQL cannot tell the two apart
//! from a list either, and asyncpg makes the opposite choice (no JSON arrays).
//! | `Null` | anything |
//!
//! "Text-like" is text, varchar, bpchar, name, unknown and citext: a parameter
//! whose type the server could not infer (`SELECT $1`) is text.
//! Domains encode and decode as their base type.
//!
//! Decoding is by the column's type: bool; int2/int4/int8, oid, xid, cid and
//! the reg* types → `Int`; float4/8 → `Float`; numeric → `Decimal` in
//! PostgreSQL's own text form (`"12.3400"`, `"NaN"`, `"Infinity"`); money →
//! `Decimal` with two places; text, varchar, bpchar, name, citext, xml,
//! `"char"`, enums, unknown, inet/cidr, macaddr, pg_lsn, timetz → `Text`;
//! bytea → `Bytes`; date, time, timestamp, timestamptz → `Date`, `Time`,
//! `DateTime`, `DateTimeTz`; interval → `Interval` in microseconds with a month
//! counted as 30 days and a day as 24 hours (what Python's `timedelta` can
//! hold); uuid; json/jsonb → `Json` text; void → `Null`; arrays of any of these
//! → `Array` (nested for several dimensions). `infinity` dates and timestamps
//! are a Data error (no Python value holds them). Any other type (ranges,
//! composites, geometric types, ...) is an Interface error naming the type:
//! cast such columns in SQL (`col::text`).

use std::fmt::{self, Write as _};

use bytes::{BufMut, BytesMut};
use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, TimeDelta, Timelike, Utc};
use tokio_postgres::types::{to_sql_checked, FromSql, IsNull, Kind, ToSql, Type};

use crate::db::value::non_finite_float_text;
use crate::db::{DbError, ErrorKind, Value};

// OIDs of the built-in types handled here (stable across PostgreSQL versions).
mod oid {
    pub const BOOL: u32 = 16;
    pub const BYTEA: u32 = 17;
    pub const CHAR: u32 = 18;
    pub const NAME: u32 = 19;
    pub const INT8: u32 = 20;
    pub const INT2: u32 = 21;
    pub const REGPROC: u32 = 24;
    pub const TEXT: u32 = 25;
    pub const OID: u32 = 26;
    pub const XID: u32 = 28;
    pub const CID: u32 = 29;
    pub const INT4: u32 = 23;
    pub const JSON: u32 = 114;
    pub const XML: u32 = 142;
    pub const CIDR: u32 = 650;
    pub const FLOAT4: u32 = 700;
    pub const FLOAT8: u32 = 701;
    pub const UNKNOWN: u32 = 705;
    pub const MACADDR8: u32 = 774;
    pub const MONEY: u32 = 790;
    pub const MACADDR: u32 = 829;
    pub const INET: u32 = 869;
    pub const BPCHAR: u32 = 1042;
    pub const VARCHAR: u32 = 1043;
    pub const DATE: u32 = 1082;
    pub const TIME: u32 = 1083;
    pub const TIMESTAMP: u32 = 1114;
    pub const TIMESTAMPTZ: u32 = 1184;
    pub const INTERVAL: u32 = 1186;
    pub const TIMETZ: u32 = 1266;
    pub const NUMERIC: u32 = 1700;
    pub const REGPROCEDURE: u32 = 2202;
    pub const REGOPER: u32 = 2203;
    pub const REGOPERATOR: u32 = 2204;
    pub const REGCLASS: u32 = 2205;
    pub const REGTYPE: u32 = 2206;
    pub const VOID: u32 = 2278;
    pub const UUID: u32 = 2950;
    pub const PG_LSN: u32 = 3220;
    pub const REGCONFIG: u32 = 3734;
    pub const REGDICTIONARY: u32 = 3769;
    pub const JSONB: u32 = 3802;
    pub const REGNAMESPACE: u32 = 4089;
    pub const REGROLE: u32 = 4096;
    pub const REGCOLLATION: u32 = 4191;
    pub const XID8: u32 = 5069;

    /// The types whose binary form is a 4-byte unsigned integer: oid, xid,
    /// cid and the reg* aliases of oid.
    pub const UINT32_TYPES: [u32; 14] = [
        OID,
        REGPROC,
        XID,
        CID,
        REGPROCEDURE,
        REGOPER,
        REGOPERATOR,
        REGCLASS,
        REGTYPE,
        REGCONFIG,
        REGDICTIONARY,
        REGNAMESPACE,
        REGROLE,
        REGCOLLATION,
    ];
}

const USECS_PER_DAY: i64 = 86_400_000_000;
/// PostgreSQL's limits for numeric: digits before and after the point.
const NUMERIC_MAX_INT_DIGITS: i64 = 131_072;
const NUMERIC_MAX_DSCALE: i64 = 0x3FFF;
const NUMERIC_POS: u16 = 0x0000;
const NUMERIC_NEG: u16 = 0x4000;
const NUMERIC_NAN: u16 = 0xC000;
const NUMERIC_PINF: u16 = 0xD000;
const NUMERIC_NINF: u16 = 0xF000;
const MAX_ARRAY_DIMS: usize = 6;

fn pg_epoch_date() -> NaiveDate {
    NaiveDate::from_ymd_opt(2000, 1, 1).unwrap_or(NaiveDate::MIN)
}

fn pg_epoch() -> NaiveDateTime {
    pg_epoch_date().and_time(NaiveTime::MIN)
}

fn interface(message: impl Into<String>) -> DbError {
    DbError::new(ErrorKind::Interface, message)
}

fn out_of_range(message: impl Into<String>) -> DbError {
    DbError::from_sqlstate("22003", message)
}

pub(crate) fn kind_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "None",
        Value::Bool(_) => "a bool",
        Value::Int(_) => "an int",
        Value::Float(_) => "a float",
        Value::Decimal(_) => "a decimal",
        Value::Text(_) => "a str",
        Value::Bytes(_) => "bytes",
        Value::Date(_) => "a date",
        Value::Time(_) => "a time",
        Value::DateTime(_) => "a naive datetime",
        Value::DateTimeTz(_) => "an aware datetime",
        Value::Interval(_) => "a timedelta",
        Value::Uuid(_) => "a UUID",
        Value::Json(_) => "a JSON document",
        Value::Array(_) => "a list",
    }
}

/// How the hint of a value the type does not take begins: advice for a statement's
/// parameter, which COPY (no SQL to cast in) replaces with its own (copy.rs).
const CAST_HINT: &str = "cast the parameter in SQL";

fn with_cast_hint(mut err: DbError, ty: &Type) -> DbError {
    err.hint = Some(format!(
        "{CAST_HINT} (e.g. $1::text::{}), or pass a matching value",
        ty.name()
    ));
    err
}

fn mismatch(value: &Value, ty: &Type) -> DbError {
    with_cast_hint(
        interface(format!(
            "cannot bind {} to a parameter of type {}",
            kind_name(value),
            ty.name()
        )),
        ty,
    )
}

fn unbindable(ty: &Type) -> DbError {
    with_cast_hint(
        interface(format!(
            "cannot bind parameters of PostgreSQL type {} (oid {})",
            ty.name(),
            ty.oid()
        )),
        ty,
    )
}

/// Whether `e` says the value does not fit the type (the hint advises a cast).
pub(crate) fn is_type_mismatch(e: &DbError) -> bool {
    e.hint
        .as_deref()
        .is_some_and(|hint| hint.starts_with(CAST_HINT))
}

fn is_text_like(ty: &Type) -> bool {
    matches!(
        ty.oid(),
        oid::TEXT | oid::VARCHAR | oid::BPCHAR | oid::NAME | oid::UNKNOWN
    ) || (matches!(ty.kind(), Kind::Simple) && ty.name() == "citext")
}

fn is_json(ty: &Type) -> bool {
    match ty.kind() {
        Kind::Domain(inner) => is_json(inner),
        _ => matches!(ty.oid(), oid::JSON | oid::JSONB),
    }
}

/// One parameter as tokio-postgres sees it; errors name the `$N` placeholder.
pub(crate) struct Param<'a> {
    pub value: &'a Value,
    pub index: usize,
}

impl fmt::Debug for Param<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "${}={:?}", self.index + 1, self.value)
    }
}

/// How the message of an error binding a parameter starts (`parameter $2: ...`).
const PARAM_ERROR_PREFIX: &str = "parameter $";

/// Whether `e` is ours, from binding a value to a prepared parameter's type
/// (nothing was sent to the server).
pub(crate) fn is_param_error(e: &DbError) -> bool {
    e.message.starts_with(PARAM_ERROR_PREFIX)
}

impl ToSql for Param<'_> {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut BytesMut,
    ) -> Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        encode(self.value, ty, out).map_err(|mut e| {
            e.message = format!("{PARAM_ERROR_PREFIX}{}: {}", self.index + 1, e.message);
            Box::new(e) as Box<dyn std::error::Error + Sync + Send>
        })
    }

    fn accepts(_ty: &Type) -> bool {
        true
    }

    to_sql_checked!();
}

/// The parameters of one statement, for `query_raw`/`execute_raw`.
pub(crate) fn params(values: &[Value]) -> impl ExactSizeIterator<Item = Param<'_>> {
    values
        .iter()
        .enumerate()
        .map(|(index, value)| Param { value, index })
}

/// A column's raw bytes, decoded afterwards with [`decode`].
pub(crate) struct RawColumn<'a>(pub Option<&'a [u8]>);

impl<'a> FromSql<'a> for RawColumn<'a> {
    fn from_sql(
        _ty: &Type,
        raw: &'a [u8],
    ) -> Result<Self, Box<dyn std::error::Error + Sync + Send>> {
        Ok(RawColumn(Some(raw)))
    }

    fn from_sql_null(_ty: &Type) -> Result<Self, Box<dyn std::error::Error + Sync + Send>> {
        Ok(RawColumn(None))
    }

    fn accepts(_ty: &Type) -> bool {
        true
    }
}

// ---------------------------------------------------------------------------
// Encoding

/// Writes `value` in the binary format of `ty`.
pub fn encode(value: &Value, ty: &Type, out: &mut BytesMut) -> Result<IsNull, DbError> {
    if matches!(value, Value::Null) {
        return Ok(IsNull::Yes);
    }
    match ty.kind() {
        Kind::Domain(inner) => return encode(value, inner, out),
        Kind::Array(member) => {
            return match value {
                Value::Array(items) => encode_array(items, member, out).map(|_| IsNull::No),
                _ => Err(mismatch(value, ty)),
            }
        }
        Kind::Enum(_) => {
            return match value {
                Value::Text(s) => {
                    out.put_slice(s.as_bytes());
                    Ok(IsNull::No)
                }
                _ => Err(mismatch(value, ty)),
            }
        }
        Kind::Simple | Kind::Pseudo => {}
        _ => return Err(unbindable(ty)),
    }

    if is_text_like(ty) {
        return match text_repr(value) {
            Some(s) => {
                out.put_slice(s.as_bytes());
                Ok(IsNull::No)
            }
            None => Err(mismatch(value, ty)),
        };
    }

    match ty.oid() {
        oid::BOOL => match value {
            Value::Bool(b) => out.put_u8(*b as u8),
            _ => return Err(mismatch(value, ty)),
        },
        oid::INT2 => {
            let i = integer_of(value, ty)?;
            let v = i16::try_from(i).map_err(|_| {
                out_of_range(format!(
                    "value {i} is out of range for type smallint (int2)"
                ))
            })?;
            out.put_i16(v);
        }
        oid::INT4 => {
            let i = integer_of(value, ty)?;
            let v = i32::try_from(i).map_err(|_| {
                out_of_range(format!("value {i} is out of range for type integer (int4)"))
            })?;
            out.put_i32(v);
        }
        oid::INT8 => out.put_i64(integer_of(value, ty)?),
        o if oid::UINT32_TYPES.contains(&o) => {
            let i = integer_of(value, ty)?;
            let v = u32::try_from(i).map_err(|_| {
                out_of_range(format!("value {i} is out of range for type {}", ty.name()))
            })?;
            out.put_u32(v);
        }
        oid::XID8 => {
            let i = integer_of(value, ty)?;
            let v = u64::try_from(i)
                .map_err(|_| out_of_range(format!("value {i} is out of range for type xid8")))?;
            out.put_u64(v);
        }
        oid::MONEY => match value {
            Value::Int(i) => out.put_i64(*i),
            _ => return Err(mismatch(value, ty)),
        },
        oid::FLOAT4 => out.put_f32(float_of(value, ty)? as f32),
        oid::FLOAT8 => out.put_f64(float_of(value, ty)?),
        oid::NUMERIC => match value {
            Value::Int(i) => encode_numeric(&i.to_string(), out)?,
            Value::Float(f) => encode_numeric(&float_text(*f), out)?,
            Value::Decimal(s) | Value::Text(s) => encode_numeric(s, out)?,
            _ => return Err(mismatch(value, ty)),
        },
        oid::CHAR => match value {
            Value::Text(s) if s.len() <= 1 => out.put_slice(s.as_bytes()),
            Value::Text(_) => {
                return Err(interface(
                    "a \"char\" parameter takes a single ASCII character",
                ))
            }
            _ => return Err(mismatch(value, ty)),
        },
        oid::XML => match value {
            Value::Text(s) => out.put_slice(s.as_bytes()),
            _ => return Err(mismatch(value, ty)),
        },
        oid::BYTEA => match value {
            Value::Bytes(b) => out.put_slice(b),
            _ => return Err(mismatch(value, ty)),
        },
        oid::JSON | oid::JSONB => {
            if ty.oid() == oid::JSONB {
                out.put_u8(1);
            }
            match value {
                Value::Json(s) | Value::Text(s) => out.put_slice(s.as_bytes()),
                Value::Bytes(_) => return Err(mismatch(value, ty)),
                other => out.put_slice(other.to_json()?.as_bytes()),
            }
        }
        oid::DATE => match value {
            Value::Date(d) => out.put_i32(date_to_days(*d)?),
            _ => return Err(mismatch(value, ty)),
        },
        oid::TIME => match value {
            Value::Time(t) => out.put_i64(time_to_micros(*t)),
            _ => return Err(mismatch(value, ty)),
        },
        oid::TIMETZ => match value {
            Value::Time(t) => {
                out.put_i64(time_to_micros(*t));
                out.put_i32(0);
            }
            _ => return Err(mismatch(value, ty)),
        },
        oid::TIMESTAMP | oid::TIMESTAMPTZ => match value {
            Value::DateTime(dt) => out.put_i64(datetime_to_micros(*dt)?),
            Value::DateTimeTz(dt) => out.put_i64(datetime_to_micros(dt.naive_utc())?),
            _ => return Err(mismatch(value, ty)),
        },
        oid::INTERVAL => match value {
            Value::Interval(us) => {
                let days = us.div_euclid(USECS_PER_DAY);
                let micros = us.rem_euclid(USECS_PER_DAY);
                let days =
                    i32::try_from(days).map_err(|_| out_of_range("interval out of range"))?;
                out.put_i64(micros);
                out.put_i32(days);
                out.put_i32(0);
            }
            _ => return Err(mismatch(value, ty)),
        },
        oid::UUID => match value {
            Value::Uuid(u) => out.put_slice(u.as_bytes()),
            Value::Text(s) => {
                let u = uuid::Uuid::parse_str(s.trim()).map_err(|_| {
                    DbError::from_sqlstate(
                        "22P02",
                        format!("invalid input syntax for type uuid: {s:?}"),
                    )
                })?;
                out.put_slice(u.as_bytes());
            }
            _ => return Err(mismatch(value, ty)),
        },
        _ => return Err(unbindable(ty)),
    }
    Ok(IsNull::No)
}

/// The text PostgreSQL would parse for a scalar, for text-like targets.
fn text_repr(value: &Value) -> Option<std::borrow::Cow<'_, str>> {
    use std::borrow::Cow;
    Some(match value {
        Value::Bool(b) => Cow::Borrowed(if *b { "true" } else { "false" }),
        Value::Int(i) => Cow::Owned(i.to_string()),
        Value::Float(f) => Cow::Owned(float_text(*f)),
        Value::Decimal(s) | Value::Text(s) | Value::Json(s) => Cow::Borrowed(s.as_str()),
        Value::Date(d) => Cow::Owned(d.format("%Y-%m-%d").to_string()),
        Value::Time(t) => Cow::Owned(t.format("%H:%M:%S%.f").to_string()),
        Value::DateTime(dt) => Cow::Owned(dt.format("%Y-%m-%d %H:%M:%S%.f").to_string()),
        Value::DateTimeTz(dt) => Cow::Owned(dt.format("%Y-%m-%d %H:%M:%S%.f+00:00").to_string()),
        Value::Uuid(u) => Cow::Owned(u.hyphenated().to_string()),
        Value::Null | Value::Bytes(_) | Value::Interval(_) | Value::Array(_) => return None,
    })
}

/// A float as text for numeric and text-like targets: finite values in Rust's
/// shortest round-trip form, which keeps the `.0` of an integral value
/// (`1.0`, as Python's `str` writes it), so a numeric gets that scale.
fn float_text(f: f64) -> String {
    non_finite_float_text(f).map_or_else(|| format!("{f:?}"), str::to_string)
}

fn integer_of(value: &Value, ty: &Type) -> Result<i64, DbError> {
    match value {
        Value::Int(i) => Ok(*i),
        Value::Float(f) if f.fract() == 0.0 && f.is_finite() => {
            if *f >= -9.223_372_036_854_776e18 && *f < 9.223_372_036_854_776e18 {
                Ok(*f as i64)
            } else {
                Err(out_of_range(format!(
                    "value {f} is out of range for type {}",
                    ty.name()
                )))
            }
        }
        Value::Float(f) => Err(DbError::from_sqlstate(
            "22P02",
            format!(
                "cannot bind the non-integral float {f} to a parameter of type {}",
                ty.name()
            ),
        )),
        Value::Decimal(s) => decimal_to_i64(s, ty),
        _ => Err(mismatch(value, ty)),
    }
}

fn decimal_to_i64(s: &str, ty: &Type) -> Result<i64, DbError> {
    match parse_decimal(s)? {
        Decimal::Number {
            negative,
            digits,
            point,
            ..
        } => {
            if (point as i128) < digits.len() as i128 {
                return Err(DbError::from_sqlstate(
                    "22P02",
                    format!(
                        "cannot bind the non-integral decimal {s} to a parameter of type {}",
                        ty.name()
                    ),
                ));
            }
            if point > 19 {
                return Err(out_of_range(format!(
                    "value {s} is out of range for type {}",
                    ty.name()
                )));
            }
            let mut acc: i128 = 0;
            for i in 0..point as usize {
                acc = acc * 10 + digits.get(i).copied().unwrap_or(0) as i128;
            }
            if negative {
                acc = -acc;
            }
            i64::try_from(acc).map_err(|_| {
                out_of_range(format!("value {s} is out of range for type {}", ty.name()))
            })
        }
        _ => Err(out_of_range(format!(
            "value {s} cannot be bound to a parameter of type {}",
            ty.name()
        ))),
    }
}

fn float_of(value: &Value, ty: &Type) -> Result<f64, DbError> {
    match value {
        Value::Float(f) => Ok(*f),
        Value::Int(i) => Ok(*i as f64),
        Value::Decimal(s) => {
            let t = s.trim();
            match t.to_ascii_lowercase().as_str() {
                "nan" | "+nan" | "-nan" => Ok(f64::NAN),
                "inf" | "+inf" | "infinity" | "+infinity" => Ok(f64::INFINITY),
                "-inf" | "-infinity" => Ok(f64::NEG_INFINITY),
                _ => t
                    .parse::<f64>()
                    .map_err(|_| DbError::from_sqlstate("22P02", format!("invalid decimal {s:?}"))),
            }
        }
        _ => Err(mismatch(value, ty)),
    }
}

fn date_to_days(d: NaiveDate) -> Result<i32, DbError> {
    let days = d.signed_duration_since(pg_epoch_date()).num_days();
    i32::try_from(days).map_err(|_| out_of_range("date out of range"))
}

fn time_to_micros(t: NaiveTime) -> i64 {
    // A leap second (nanosecond >= 1e9) is folded into the last microsecond.
    let micros = (t.nanosecond() / 1000).min(999_999) as i64;
    t.num_seconds_from_midnight() as i64 * 1_000_000 + micros
}

fn datetime_to_micros(dt: NaiveDateTime) -> Result<i64, DbError> {
    dt.signed_duration_since(pg_epoch())
        .num_microseconds()
        .ok_or_else(|| out_of_range("timestamp out of range"))
}

/// A parsed decimal: `0.d1 d2 d3... × 10^point`, `dscale` digits shown after the point.
#[derive(Debug, PartialEq)]
pub(crate) enum Decimal {
    NaN,
    Infinity {
        negative: bool,
    },
    Number {
        negative: bool,
        digits: Vec<u8>,
        point: i64,
        dscale: i64,
    },
}

/// Parses `-12.3400`, `1E+3`, `.5`, `NaN`, `Infinity`, ... (the forms of Python's `str(Decimal)`).
pub(crate) fn parse_decimal(text: &str) -> Result<Decimal, DbError> {
    let invalid = || {
        DbError::from_sqlstate(
            "22P02",
            format!("invalid input syntax for type numeric: {text:?}"),
        )
    };
    let s = text.trim();
    let (negative, body) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    match body.to_ascii_lowercase().as_str() {
        "nan" => return Ok(Decimal::NaN),
        "inf" | "infinity" => return Ok(Decimal::Infinity { negative }),
        _ => {}
    }
    let bytes = body.as_bytes();
    let mut i = 0;
    let mut digits: Vec<u8> = Vec::with_capacity(bytes.len());
    let mut int_len: i64 = 0;
    let mut frac_len: i64 = 0;
    while i < bytes.len() && bytes[i].is_ascii_digit() {
        digits.push(bytes[i] - b'0');
        int_len += 1;
        i += 1;
    }
    if i < bytes.len() && bytes[i] == b'.' {
        i += 1;
        while i < bytes.len() && bytes[i].is_ascii_digit() {
            digits.push(bytes[i] - b'0');
            frac_len += 1;
            i += 1;
        }
    }
    if digits.is_empty() {
        return Err(invalid());
    }
    let mut exp: i64 = 0;
    if i < bytes.len() && (bytes[i] == b'e' || bytes[i] == b'E') {
        i += 1;
        let mut exp_negative = false;
        if i < bytes.len() && (bytes[i] == b'+' || bytes[i] == b'-') {
            exp_negative = bytes[i] == b'-';
            i += 1;
        }
        let start = i;
        while i < bytes.len() && bytes[i].is_ascii_digit() {
            i += 1;
        }
        if start == i {
            return Err(invalid());
        }
        let e: i64 = body[start..i]
            .parse()
            .ok()
            .filter(|e: &i64| *e <= 1_000_000_000)
            .ok_or_else(|| out_of_range(format!("numeric exponent out of range: {text:?}")))?;
        exp = if exp_negative { -e } else { e };
    }
    if i != bytes.len() {
        return Err(invalid());
    }
    let mut point = int_len + exp;
    let dscale = (frac_len - exp).max(0);
    // Normalise: no leading or trailing zero digits (the point moves with the leading ones).
    let lead = digits.iter().take_while(|d| **d == 0).count();
    digits.drain(..lead);
    point -= lead as i64;
    while digits.last() == Some(&0) {
        digits.pop();
    }
    if digits.is_empty() {
        point = 0;
    }
    Ok(Decimal::Number {
        negative: negative && !digits.is_empty(),
        digits,
        point,
        dscale,
    })
}

/// Writes a decimal in PostgreSQL's binary numeric format: ndigits, weight,
/// sign, dscale, then base-10000 digits, most significant first.
pub(crate) fn encode_numeric(text: &str, out: &mut BytesMut) -> Result<(), DbError> {
    let (negative, digits, point, dscale) = match parse_decimal(text)? {
        Decimal::NaN => {
            out.put_slice(&[0, 0, 0, 0]);
            out.put_u16(NUMERIC_NAN);
            out.put_u16(0);
            return Ok(());
        }
        Decimal::Infinity { negative } => {
            out.put_slice(&[0, 0, 0, 0]);
            out.put_u16(if negative { NUMERIC_NINF } else { NUMERIC_PINF });
            out.put_u16(0);
            return Ok(());
        }
        Decimal::Number {
            negative,
            digits,
            point,
            dscale,
        } => (negative, digits, point, dscale),
    };
    if dscale > NUMERIC_MAX_DSCALE {
        return Err(out_of_range(format!(
            "numeric value {text:?} has more than {NUMERIC_MAX_DSCALE} digits after the decimal point"
        )));
    }
    if digits.is_empty() {
        out.put_u16(0);
        out.put_i16(0);
        out.put_u16(NUMERIC_POS);
        out.put_u16(dscale as u16);
        return Ok(());
    }
    if point > NUMERIC_MAX_INT_DIGITS {
        return Err(out_of_range(format!(
            "numeric value {text:?} has more than {NUMERIC_MAX_INT_DIGITS} digits before the decimal point"
        )));
    }
    // Digit i (0-based) has the decimal exponent point-1-i; base-10000 group floor(e/4).
    let first_weight = (point - 1).div_euclid(4);
    let last_weight = (point - digits.len() as i64).div_euclid(4);
    let ndigits = (first_weight - last_weight + 1) as usize;
    let mut groups = vec![0u16; ndigits];
    for (i, d) in digits.iter().enumerate() {
        let e = point - 1 - i as i64;
        let group = (first_weight - e.div_euclid(4)) as usize;
        groups[group] += (*d as u16) * 10u16.pow(e.rem_euclid(4) as u32);
    }
    while groups.last() == Some(&0) {
        groups.pop();
    }
    let weight =
        i16::try_from(first_weight).map_err(|_| out_of_range("numeric value out of range"))?;
    let ndigits =
        u16::try_from(groups.len()).map_err(|_| out_of_range("numeric value out of range"))?;
    out.reserve(8 + 2 * groups.len());
    out.put_u16(ndigits);
    out.put_i16(weight);
    out.put_u16(if negative { NUMERIC_NEG } else { NUMERIC_POS });
    out.put_u16(dscale as u16);
    for g in groups {
        out.put_u16(g);
    }
    Ok(())
}

fn encode_array(items: &[Value], member: &Type, out: &mut BytesMut) -> Result<(), DbError> {
    let json_member = is_json(member);
    let mut dims: Vec<usize> = Vec::new();
    let mut leaves: Vec<&Value> = Vec::new();
    let mut leaf_depth = None;
    flatten(
        items,
        0,
        json_member,
        &mut dims,
        &mut leaves,
        &mut leaf_depth,
    )?;
    if dims.contains(&0) {
        // Empty (in any dimension): PostgreSQL's empty array has no dimensions.
        out.put_i32(0);
        out.put_i32(0);
        out.put_u32(member.oid());
        return Ok(());
    }
    let has_null = leaves.iter().any(|v| matches!(v, Value::Null));
    out.put_i32(dims.len() as i32);
    out.put_i32(has_null as i32);
    out.put_u32(member.oid());
    for d in &dims {
        let len = i32::try_from(*d).map_err(|_| out_of_range("array too large"))?;
        out.put_i32(len);
        out.put_i32(1);
    }
    for leaf in leaves {
        let at = out.len();
        out.put_i32(0);
        match encode(leaf, member, out)? {
            IsNull::Yes => {
                out.truncate(at);
                out.put_i32(-1);
            }
            IsNull::No => {
                let len = i32::try_from(out.len() - at - 4)
                    .map_err(|_| out_of_range("array element too large"))?;
                out[at..at + 4].copy_from_slice(&len.to_be_bytes());
            }
        }
    }
    Ok(())
}

fn flatten<'a>(
    items: &'a [Value],
    depth: usize,
    json_member: bool,
    dims: &mut Vec<usize>,
    leaves: &mut Vec<&'a Value>,
    leaf_depth: &mut Option<usize>,
) -> Result<(), DbError> {
    let ragged = || {
        DbError::from_sqlstate(
            "2202E",
            "multidimensional arrays must have sub-lists of matching lengths and depths",
        )
    };
    if dims.len() == depth {
        dims.push(items.len());
    } else if dims.get(depth) != Some(&items.len()) {
        return Err(ragged());
    }
    let nested = !json_member && matches!(items.first(), Some(Value::Array(_)));
    if nested {
        if depth + 1 >= MAX_ARRAY_DIMS {
            return Err(out_of_range(format!(
                "arrays have at most {MAX_ARRAY_DIMS} dimensions"
            )));
        }
        for item in items {
            match item {
                Value::Array(inner) => {
                    flatten(inner, depth + 1, json_member, dims, leaves, leaf_depth)?
                }
                _ => return Err(ragged()),
            }
        }
    } else {
        if items.is_empty() {
            return Ok(());
        }
        match leaf_depth {
            Some(d) if *d != depth => return Err(ragged()),
            _ => *leaf_depth = Some(depth),
        }
        if dims.len() != depth + 1 {
            return Err(ragged());
        }
        for item in items {
            if !json_member && matches!(item, Value::Array(_)) {
                return Err(ragged());
            }
            leaves.push(item);
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// Decoding

struct Reader<'a> {
    buf: &'a [u8],
    ty: &'a Type,
}

impl<'a> Reader<'a> {
    fn bytes(&mut self, n: usize) -> Result<&'a [u8], DbError> {
        if self.buf.len() < n {
            return Err(interface(format!(
                "truncated binary value for PostgreSQL type {}",
                self.ty.name()
            )));
        }
        let (head, rest) = self.buf.split_at(n);
        self.buf = rest;
        Ok(head)
    }
    fn array<const N: usize>(&mut self) -> Result<[u8; N], DbError> {
        let b = self.bytes(N)?;
        let mut a = [0u8; N];
        a.copy_from_slice(b);
        Ok(a)
    }
    fn u8(&mut self) -> Result<u8, DbError> {
        Ok(self.array::<1>()?[0])
    }
    fn i16(&mut self) -> Result<i16, DbError> {
        Ok(i16::from_be_bytes(self.array()?))
    }
    fn u16(&mut self) -> Result<u16, DbError> {
        Ok(u16::from_be_bytes(self.array()?))
    }
    fn i32(&mut self) -> Result<i32, DbError> {
        Ok(i32::from_be_bytes(self.array()?))
    }
    fn u32(&mut self) -> Result<u32, DbError> {
        Ok(u32::from_be_bytes(self.array()?))
    }
    fn i64(&mut self) -> Result<i64, DbError> {
        Ok(i64::from_be_bytes(self.array()?))
    }
    fn u64(&mut self) -> Result<u64, DbError> {
        Ok(u64::from_be_bytes(self.array()?))
    }
    fn finish(&self) -> Result<(), DbError> {
        if self.buf.is_empty() {
            Ok(())
        } else {
            Err(interface(format!(
                "trailing bytes in a binary value of PostgreSQL type {}",
                self.ty.name()
            )))
        }
    }
}

fn text_of(raw: &[u8], ty: &Type) -> Result<String, DbError> {
    String::from_utf8(raw.to_vec()).map_err(|_| {
        interface(format!(
            "a value of PostgreSQL type {} is not valid UTF-8",
            ty.name()
        ))
    })
}

fn unsupported(ty: &Type) -> DbError {
    interface(format!(
        "cannot decode a column of PostgreSQL type {} (oid {}); cast it in SQL, e.g. col::text",
        ty.name(),
        ty.oid()
    ))
}

/// Turns one column value (`None` is SQL NULL) into a [`Value`].
pub fn decode(ty: &Type, raw: Option<&[u8]>) -> Result<Value, DbError> {
    let Some(raw) = raw else {
        return Ok(Value::Null);
    };
    match ty.kind() {
        Kind::Domain(inner) => return decode(inner, Some(raw)),
        Kind::Array(member) => return decode_array(member, ty, raw),
        Kind::Enum(_) => return Ok(Value::Text(text_of(raw, ty)?)),
        Kind::Simple | Kind::Pseudo => {}
        _ => return Err(unsupported(ty)),
    }
    let mut r = Reader { buf: raw, ty };
    let value = match ty.oid() {
        oid::BOOL => Value::Bool(r.u8()? != 0),
        oid::INT2 => Value::Int(r.i16()? as i64),
        oid::INT4 => Value::Int(r.i32()? as i64),
        oid::INT8 => Value::Int(r.i64()?),
        o if oid::UINT32_TYPES.contains(&o) => Value::Int(r.u32()? as i64),
        oid::XID8 => {
            let v = r.u64()?;
            Value::Int(i64::try_from(v).map_err(|_| {
                out_of_range(format!("xid8 value {v} does not fit in 64-bit signed"))
            })?)
        }
        oid::FLOAT4 => Value::Float(f32::from_be_bytes(r.array()?) as f64),
        oid::FLOAT8 => Value::Float(f64::from_be_bytes(r.array()?)),
        oid::NUMERIC => return decode_numeric(raw, ty).map(Value::Decimal),
        oid::MONEY => {
            let cents = r.i64()? as i128;
            let sign = if cents < 0 { "-" } else { "" };
            let abs = cents.abs();
            Value::Decimal(format!("{sign}{}.{:02}", abs / 100, abs % 100))
        }
        oid::TEXT
        | oid::VARCHAR
        | oid::BPCHAR
        | oid::NAME
        | oid::UNKNOWN
        | oid::XML
        | oid::CHAR => return Ok(Value::Text(text_of(raw, ty)?)),
        oid::BYTEA => return Ok(Value::Bytes(raw.to_vec())),
        oid::JSON => return Ok(Value::Json(text_of(raw, ty)?)),
        oid::JSONB => {
            let version = r.u8()?;
            if version != 1 {
                return Err(interface(format!(
                    "unsupported jsonb format version {version}"
                )));
            }
            return Ok(Value::Json(text_of(r.buf, ty)?));
        }
        oid::DATE => {
            let days = r.i32()?;
            if days == i32::MAX || days == i32::MIN {
                return Err(DbError::new(
                    ErrorKind::Data,
                    "date 'infinity' cannot be represented; filter or cast it in SQL",
                ));
            }
            Value::Date(
                pg_epoch_date()
                    .checked_add_signed(TimeDelta::days(days as i64))
                    .ok_or_else(|| {
                        DbError::new(
                            ErrorKind::Data,
                            format!("date out of range ({days} days from 2000-01-01)"),
                        )
                    })?,
            )
        }
        oid::TIME => Value::Time(micros_to_time(r.i64()?)?),
        oid::TIMETZ => {
            let t = micros_to_time(r.i64()?)?;
            let west = r.i32()?;
            let east = -(west as i64);
            let sign = if east < 0 { '-' } else { '+' };
            let abs = east.abs();
            let mut s = t.format("%H:%M:%S%.f").to_string();
            let _ = write!(s, "{sign}{:02}:{:02}", abs / 3600, (abs % 3600) / 60);
            if abs % 60 != 0 {
                let _ = write!(s, ":{:02}", abs % 60);
            }
            Value::Text(s)
        }
        oid::TIMESTAMP => Value::DateTime(micros_to_datetime(r.i64()?)?),
        oid::TIMESTAMPTZ => Value::DateTimeTz(DateTime::<Utc>::from_naive_utc_and_offset(
            micros_to_datetime(r.i64()?)?,
            Utc,
        )),
        oid::INTERVAL => {
            let micros = r.i64()?;
            let days = r.i32()? as i64;
            let months = r.i32()? as i64;
            // In 128 bits: whole days may pass i64::MIN when the microseconds bring the sum back.
            let total =
                i128::from(months * 30 + days) * i128::from(USECS_PER_DAY) + i128::from(micros);
            Value::Interval(i64::try_from(total).map_err(|_| {
                DbError::new(
                    ErrorKind::Data,
                    "interval out of range for a microsecond count",
                )
            })?)
        }
        oid::UUID => Value::Uuid(uuid::Uuid::from_bytes(r.array()?)),
        oid::VOID => return Ok(Value::Null),
        oid::INET | oid::CIDR => Value::Text(decode_inet(&mut r, ty.oid() == oid::CIDR)?),
        oid::MACADDR | oid::MACADDR8 => {
            let n = if ty.oid() == oid::MACADDR { 6 } else { 8 };
            let b = r.bytes(n)?;
            Value::Text(
                b.iter()
                    .map(|x| format!("{x:02x}"))
                    .collect::<Vec<_>>()
                    .join(":"),
            )
        }
        oid::PG_LSN => {
            let v = r.u64()?;
            Value::Text(format!("{:X}/{:X}", v >> 32, v & 0xFFFF_FFFF))
        }
        _ if ty.name() == "citext" => return Ok(Value::Text(text_of(raw, ty)?)),
        _ => return Err(unsupported(ty)),
    };
    r.finish()?;
    Ok(value)
}

fn micros_to_time(us: i64) -> Result<NaiveTime, DbError> {
    if !(0..USECS_PER_DAY).contains(&us) {
        return Err(DbError::new(
            ErrorKind::Data,
            "time 24:00:00 cannot be represented",
        ));
    }
    let secs = (us / 1_000_000) as u32;
    let nanos = ((us % 1_000_000) * 1000) as u32;
    NaiveTime::from_num_seconds_from_midnight_opt(secs, nanos)
        .ok_or_else(|| DbError::new(ErrorKind::Data, "time out of range"))
}

fn micros_to_datetime(us: i64) -> Result<NaiveDateTime, DbError> {
    if us == i64::MAX || us == i64::MIN {
        return Err(DbError::new(
            ErrorKind::Data,
            "timestamp 'infinity' cannot be represented; filter or cast it in SQL",
        ));
    }
    pg_epoch()
        .checked_add_signed(TimeDelta::microseconds(us))
        .ok_or_else(|| DbError::new(ErrorKind::Data, "timestamp out of range"))
}

fn decode_inet(r: &mut Reader<'_>, cidr: bool) -> Result<String, DbError> {
    let family = r.u8()?;
    let bits = r.u8()?;
    let _is_cidr = r.u8()?;
    let n = r.u8()? as usize;
    let addr = r.bytes(n)?;
    let (ip, max): (std::net::IpAddr, u8) = match (family, n) {
        (2, 4) => (
            std::net::Ipv4Addr::new(addr[0], addr[1], addr[2], addr[3]).into(),
            32,
        ),
        (3, 16) => {
            let mut a = [0u8; 16];
            a.copy_from_slice(addr);
            (std::net::Ipv6Addr::from(a).into(), 128)
        }
        _ => return Err(interface("invalid binary inet value")),
    };
    Ok(if cidr || bits != max {
        format!("{ip}/{bits}")
    } else {
        ip.to_string()
    })
}

/// PostgreSQL's binary numeric to its canonical text (`-12.3400`, `NaN`, `Infinity`).
pub(crate) fn decode_numeric(raw: &[u8], ty: &Type) -> Result<String, DbError> {
    let mut r = Reader { buf: raw, ty };
    let ndigits = r.u16()? as usize;
    let weight = r.i16()? as i64;
    let sign = r.u16()?;
    let dscale = r.u16()? as usize;
    match sign {
        NUMERIC_NAN => return Ok("NaN".into()),
        NUMERIC_PINF => return Ok("Infinity".into()),
        NUMERIC_NINF => return Ok("-Infinity".into()),
        NUMERIC_POS | NUMERIC_NEG => {}
        other => return Err(interface(format!("invalid numeric sign 0x{other:04x}"))),
    }
    let mut digits = Vec::with_capacity(ndigits);
    for _ in 0..ndigits {
        let d = r.u16()?;
        if d > 9999 {
            return Err(interface("invalid numeric digit"));
        }
        digits.push(d);
    }
    r.finish()?;
    let mut s = String::with_capacity(ndigits * 4 + dscale + 3);
    // PostgreSQL sends no leading zero groups, but bytes that do must still read canonically.
    for i in 0..=weight {
        let d = digits.get(i as usize).copied().unwrap_or(0);
        if !s.is_empty() {
            let _ = write!(s, "{d:04}");
        } else if d != 0 {
            let _ = write!(s, "{d}");
        }
    }
    if s.is_empty() {
        s.push('0');
    }
    if dscale > 0 {
        s.push('.');
        let mut frac = String::with_capacity(dscale + 4);
        let mut i = weight + 1;
        while frac.len() < dscale {
            let d = if i >= 0 {
                digits.get(i as usize).copied().unwrap_or(0)
            } else {
                0
            };
            let _ = write!(frac, "{d:04}");
            i += 1;
        }
        frac.truncate(dscale);
        s.push_str(&frac);
    }
    // The sign of what is shown: digits past dscale are not, and there is no negative zero.
    if sign == NUMERIC_NEG && s.bytes().any(|b| matches!(b, b'1'..=b'9')) {
        s.insert(0, '-');
    }
    Ok(s)
}

fn decode_array(member: &Type, ty: &Type, raw: &[u8]) -> Result<Value, DbError> {
    let mut r = Reader { buf: raw, ty };
    let ndim = r.i32()?;
    let _flags = r.i32()?;
    let _elem_oid = r.u32()?;
    if ndim == 0 {
        r.finish()?;
        return Ok(Value::Array(Vec::new()));
    }
    if ndim < 0 || ndim as usize > MAX_ARRAY_DIMS {
        return Err(interface(format!("invalid array dimension count {ndim}")));
    }
    let mut dims = Vec::with_capacity(ndim as usize);
    let mut total: usize = 1;
    for _ in 0..ndim {
        let len = r.i32()?;
        let _lower = r.i32()?;
        if len < 0 {
            return Err(interface("invalid array dimension"));
        }
        dims.push(len as usize);
        total = total
            .checked_mul(len as usize)
            .ok_or_else(|| interface("array too large"))?;
    }
    // No elements is the empty array, whatever the dimensions say (PostgreSQL has no
    // zero-length dimension); building [[], [], ...] for 2^31 × 0 would exhaust memory.
    if total == 0 {
        r.finish()?;
        return Ok(Value::Array(Vec::new()));
    }
    // Every element takes at least its 4-byte length: bound the allocation by the data.
    if total > r.buf.len() / 4 {
        return Err(interface("truncated binary array"));
    }
    let mut leaves = Vec::with_capacity(total);
    for _ in 0..total {
        let len = r.i32()?;
        if len < 0 {
            leaves.push(Value::Null);
        } else {
            let bytes = r.bytes(len as usize)?;
            leaves.push(decode(member, Some(bytes))?);
        }
    }
    r.finish()?;
    let mut it = leaves.into_iter();
    Ok(build_nested(&dims, &mut it))
}

fn build_nested(dims: &[usize], leaves: &mut std::vec::IntoIter<Value>) -> Value {
    match dims.split_first() {
        Some((n, [])) => Value::Array(leaves.take(*n).collect()),
        Some((n, rest)) => Value::Array((0..*n).map(|_| build_nested(rest, leaves)).collect()),
        None => Value::Array(Vec::new()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_arrays_take_nested_lists_as_elements() {
        let json_array = Type::from_oid(199).unwrap();
        // Two dimensions of one element each, as PostgreSQL sends '{{1},{2}}'::json[].
        let mut raw = BytesMut::new();
        for word in [2, 0, oid::JSON as i32, 2, 1, 1, 1] {
            raw.put_i32(word);
        }
        for doc in ["1", "2"] {
            raw.put_i32(doc.len() as i32);
            raw.put_slice(doc.as_bytes());
        }
        let read = decode(&json_array, Some(&raw)).unwrap();
        let row = |doc: &str| Value::Array(vec![Value::Json(doc.into())]);
        assert_eq!(read, Value::Array(vec![row("1"), row("2")]));
        // Written back, each row is one JSON array element of a one-dimensional array.
        let mut out = BytesMut::new();
        encode(&read, &json_array, &mut out).unwrap();
        let again = decode(&json_array, Some(&out)).unwrap();
        assert_eq!(
            again,
            Value::Array(vec![Value::Json("[1]".into()), Value::Json("[2]".into())])
        );
    }

    fn roundtrip_numeric(s: &str) -> String {
        let mut b = BytesMut::new();
        encode_numeric(s, &mut b).unwrap();
        decode_numeric(&b, &Type::NUMERIC).unwrap()
    }

    #[test]
    fn numeric_round_trips() {
        for (input, expected) in [
            ("0", "0"),
            ("0.00", "0.00"),
            ("-0.00", "0.00"),
            ("12.3400", "12.3400"),
            ("-12.34", "-12.34"),
            (
                "123456789012345678901234567890.123456789",
                "123456789012345678901234567890.123456789",
            ),
            ("-0.000000001", "-0.000000001"),
            ("10000", "10000"),
            ("1E+3", "1000"),
            ("1.5E+5", "150000"),
            ("1E-3", "0.001"),
            ("1.2300E1", "12.300"),
            (".5", "0.5"),
            ("5.", "5"),
            ("+7", "7"),
            ("00012.50", "12.50"),
            ("9999.9999", "9999.9999"),
            ("100000000.00000001", "100000000.00000001"),
            ("NaN", "NaN"),
            ("-Infinity", "-Infinity"),
            ("inf", "Infinity"),
        ] {
            assert_eq!(roundtrip_numeric(input), expected, "{input}");
        }
    }

    /// Found by the pg_decode fuzz target: a leading zero digit group was printed ("000720...").
    #[test]
    fn non_canonical_numerics_decode_to_canonical_text() {
        let numeric = |weight: i16, sign: u16, dscale: u16, digits: &[u16]| {
            let mut b = BytesMut::new();
            b.put_u16(digits.len() as u16);
            b.put_i16(weight);
            b.put_u16(sign);
            b.put_u16(dscale);
            digits.iter().for_each(|d| b.put_u16(*d));
            decode_numeric(&b, &Type::NUMERIC).unwrap()
        };
        assert_eq!(numeric(5, NUMERIC_POS, 0, &[0, 72]), "720000000000000000");
        assert_eq!(numeric(1, NUMERIC_NEG, 0, &[0, 0]), "0");
        // Digits past dscale are not shown, and neither is the sign of what rounds to zero.
        assert_eq!(numeric(-1, NUMERIC_NEG, 2, &[0, 5]), "0.00");
        assert_eq!(numeric(0, NUMERIC_NEG, 1, &[3, 5000]), "-3.5");
    }

    /// Found by the value_encode fuzz target: an interval near i64::MIN microseconds encoded
    /// (days rounded down, positive microseconds) but did not decode.
    #[test]
    fn every_encodable_interval_decodes() {
        for us in [
            i64::MIN,
            i64::MIN + 24,
            -9_223_372_036_854_775_784,
            i64::MAX,
            -1,
            0,
        ] {
            let mut b = BytesMut::new();
            encode(&Value::Interval(us), &Type::INTERVAL, &mut b).unwrap();
            assert_eq!(
                decode(&Type::INTERVAL, Some(&b)).unwrap(),
                Value::Interval(us)
            );
        }
    }

    /// Found by the pg_decode fuzz target: dimensions [6, 0] decoded as six empty lists.
    #[test]
    fn an_array_without_elements_is_empty_whatever_its_dimensions() {
        let array = |dims: &[i32]| {
            let mut b = BytesMut::new();
            b.put_i32(dims.len() as i32);
            b.put_i32(0);
            b.put_u32(23);
            dims.iter().for_each(|d| {
                b.put_i32(*d);
                b.put_i32(1);
            });
            decode(&Type::INT4_ARRAY, Some(&b)).unwrap()
        };
        assert_eq!(array(&[6, 0]), Value::Array(vec![]));
        assert_eq!(array(&[i32::MAX, 0, 3]), Value::Array(vec![]));
    }

    #[test]
    fn numeric_wire_format() {
        let mut b = BytesMut::new();
        encode_numeric("12.3400", &mut b).unwrap();
        // ndigits 2, weight 0, sign +, dscale 4, digits 12 and 3400
        assert_eq!(&b[..], &[0, 2, 0, 0, 0, 0, 0, 4, 0, 12, 0x0D, 0x48]);
    }

    #[test]
    fn numeric_rejects_garbage() {
        for bad in [
            "",
            "-",
            "1.2.3",
            "abc",
            "1e",
            "1e+",
            "12x",
            "1E+99999999999",
        ] {
            assert!(encode_numeric(bad, &mut BytesMut::new()).is_err(), "{bad}");
        }
        assert!(encode_numeric("1E+200000", &mut BytesMut::new()).is_err());
        assert!(encode_numeric("1E-20000", &mut BytesMut::new()).is_err());
    }

    #[test]
    fn int_overflow_is_a_data_error() {
        let err = encode(&Value::Int(70000), &Type::INT2, &mut BytesMut::new())
            .err()
            .expect("error");
        assert_eq!(err.kind, ErrorKind::Data);
        assert!(err.message.contains("smallint"), "{}", err.message);
        let err = encode(&Value::Int(1 << 40), &Type::INT4, &mut BytesMut::new())
            .err()
            .expect("error");
        assert_eq!(err.kind, ErrorKind::Data);
    }

    #[test]
    fn arrays_round_trip() {
        let v = Value::Array(vec![
            Value::Array(vec![Value::Int(1), Value::Null]),
            Value::Array(vec![Value::Int(3), Value::Int(4)]),
        ]);
        let mut b = BytesMut::new();
        encode(&v, &Type::INT4_ARRAY, &mut b).unwrap();
        assert_eq!(decode(&Type::INT4_ARRAY, Some(&b)).unwrap(), v);
        let ragged = Value::Array(vec![Value::Array(vec![Value::Int(1)]), Value::Int(2)]);
        assert!(encode(&ragged, &Type::INT4_ARRAY, &mut BytesMut::new()).is_err());
        let ragged = Value::Array(vec![
            Value::Array(vec![Value::Int(1)]),
            Value::Array(vec![]),
        ]);
        assert!(encode(&ragged, &Type::INT4_ARRAY, &mut BytesMut::new()).is_err());
    }

    #[test]
    fn decoding_garbage_does_not_panic() {
        for ty in [
            Type::NUMERIC,
            Type::INT4_ARRAY,
            Type::TIMESTAMP,
            Type::INET,
            Type::JSONB,
            Type::INTERVAL,
        ] {
            for raw in [
                &[][..],
                &[1],
                &[
                    0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 23, 0x7f, 0xff, 0xff, 0xff, 0, 0, 0, 1,
                ],
            ] {
                let _ = decode(&ty, Some(raw));
            }
        }
    }
}

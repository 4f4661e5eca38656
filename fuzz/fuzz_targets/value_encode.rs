//! The values the bindings build from Python objects (`db::Value`), encoded
//! for PostgreSQL's binary format and bound into SQLite, then read back.
//!
//! The Python → `Value` step itself lives in the PyO3 crate; this target
//! drives the pure-Rust encoding it hands those values to. Encoding into any
//! type never panics; each kind round-trips through its own column type on
//! both backends.

#![no_main]

use std::sync::OnceLock;

use arbitrary::Arbitrary;
use bytes::BytesMut;
use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, Utc};
use hyperdjango_engine::db::Value;
use hyperdjango_engine::fuzzing::{pg_decode, pg_encode, sqlite_bind_params, sqlite_read_value, SqliteColumnType};
use libfuzzer_sys::fuzz_target;
use tokio_postgres::types::{IsNull, Type};

/// A value as Python can give it (dates in years 1..=9999, microseconds, no NUL in text).
#[derive(Arbitrary, Debug)]
enum PyValue {
    Bool(bool),
    Int(i64),
    Float(f64),
    /// Sign, integer digits, fraction digits (as `format(Decimal, "f")` writes them).
    Decimal(bool, Vec<u8>, Vec<u8>),
    Text(String),
    Bytes(Vec<u8>),
    Date(u32),
    Time(u32, u32),
    DateTime(u32, u32, u32),
    DateTimeTz(u32, u32, u32),
    Interval(i64),
    Uuid(u128),
    Json(String),
    Ints(Vec<Option<i64>>),
}

const PY_DAYS: u32 = 3_652_059; // date(1, 1, 1) .. date(9999, 12, 31)

fn date(days: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(1, 1, 1).unwrap() + chrono::TimeDelta::days(i64::from(days % PY_DAYS))
}

fn time(secs: u32, micros: u32) -> NaiveTime {
    NaiveTime::from_num_seconds_from_midnight_opt(secs % 86_400, (micros % 1_000_000) * 1000).unwrap()
}

fn digits(raw: &[u8]) -> String {
    raw.iter().take(40).map(|d| char::from(b'0' + d % 10)).collect()
}

impl PyValue {
    fn value(self) -> Value {
        match self {
            PyValue::Bool(b) => Value::Bool(b),
            PyValue::Int(i) => Value::Int(i),
            PyValue::Float(f) => Value::Float(f),
            PyValue::Decimal(negative, int, frac) => {
                let int = digits(&int);
                let int = int.trim_start_matches('0');
                let mut text = if int.is_empty() { "0".to_string() } else { int.to_string() };
                let frac = digits(&frac);
                if !frac.is_empty() {
                    text = format!("{text}.{frac}");
                }
                // PostgreSQL has no negative zero, and Python writes one only for -0.
                if negative && text.bytes().any(|b| (b'1'..=b'9').contains(&b)) {
                    text.insert(0, '-');
                }
                Value::Decimal(text)
            }
            PyValue::Text(s) => Value::Text(s.replace('\0', "")),
            PyValue::Bytes(b) => Value::Bytes(b),
            PyValue::Date(d) => Value::Date(date(d)),
            PyValue::Time(s, us) => Value::Time(time(s, us)),
            PyValue::DateTime(d, s, us) => Value::DateTime(NaiveDateTime::new(date(d), time(s, us))),
            PyValue::DateTimeTz(d, s, us) => {
                Value::DateTimeTz(DateTime::<Utc>::from_naive_utc_and_offset(NaiveDateTime::new(date(d), time(s, us)), Utc))
            }
            PyValue::Interval(us) => Value::Interval(us),
            PyValue::Uuid(u) => Value::Uuid(uuid::Uuid::from_u128(u)),
            // The bindings make JSON documents from dicts only: always an object.
            PyValue::Json(s) => {
                let text = Value::Text(s.replace('\0', "")).to_json().expect("text always has a JSON spelling");
                Value::Json(format!("{{\"k\":{text}}}"))
            }
            PyValue::Ints(items) => Value::Array(items.into_iter().map(|i| i.map_or(Value::Null, Value::Int)).collect()),
        }
    }
}

/// The PostgreSQL type and SQLite declared type a value kind is stored in.
fn home(value: &Value) -> (Type, &'static str) {
    match value {
        Value::Bool(_) => (Type::BOOL, "BOOL"),
        Value::Int(_) => (Type::INT8, "INTEGER"),
        Value::Float(_) => (Type::FLOAT8, "REAL"),
        Value::Decimal(_) => (Type::NUMERIC, "DECIMAL"),
        Value::Text(_) => (Type::TEXT, "TEXT"),
        Value::Bytes(_) => (Type::BYTEA, "BLOB"),
        Value::Date(_) => (Type::DATE, "DATE"),
        Value::Time(_) => (Type::TIME, "TIME"),
        Value::DateTime(_) => (Type::TIMESTAMP, "DATETIME"),
        Value::DateTimeTz(_) => (Type::TIMESTAMPTZ, "DATETIME"),
        Value::Interval(_) => (Type::INTERVAL, "INTERVAL"),
        Value::Uuid(_) => (Type::UUID, "UUID"),
        Value::Json(_) => (Type::JSONB, "JSON"),
        Value::Array(_) => (Type::INT8_ARRAY, "JSON"),
        Value::Null => (Type::TEXT, "TEXT"),
    }
}

fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Float(x), Value::Float(y)) => x.to_bits() == y.to_bits() || (x.is_nan() && y.is_nan()),
        _ => a == b,
    }
}

fn pg_types() -> &'static [Type] {
    static TYPES: OnceLock<Vec<Type>> = OnceLock::new();
    TYPES.get_or_init(|| (0..8000).filter_map(Type::from_oid).collect())
}

thread_local! {
    static SQLITE: rusqlite::Connection = rusqlite::Connection::open_in_memory().unwrap();
}

fn sqlite_round_trip(value: &Value, decl: &str) -> Value {
    SQLITE.with(|conn| {
        conn.execute_batch(&format!("DROP TABLE IF EXISTS v; CREATE TABLE v (x {decl})")).unwrap();
        let mut insert = conn.prepare("INSERT INTO v VALUES (?1)").unwrap();
        sqlite_bind_params(&mut insert, std::slice::from_ref(value)).expect("binding one value");
        insert.raw_execute().unwrap();
        let mut select = conn.prepare("SELECT x FROM v").unwrap();
        let ty = SqliteColumnType::from_decl(select.columns()[0].decl_type());
        let mut rows = select.raw_query();
        let row = rows.next().unwrap().expect("the row just inserted");
        sqlite_read_value(row.get_ref(0).unwrap(), ty).unwrap_or_else(|e| panic!("{value:?} in a {decl} column reads back as: {e}"))
    })
}

fuzz_target!(|input: (PyValue, u16)| {
    let (py, other) = input;
    let value = py.value();
    let types = pg_types();
    let _ = pg_encode(&value, &types[usize::from(other) % types.len()], &mut BytesMut::new());

    let (pg_type, decl) = home(&value);
    let mut wire = BytesMut::new();
    match pg_encode(&value, &pg_type, &mut wire) {
        Ok(IsNull::No) => {
            let back = pg_decode(&pg_type, Some(&wire)).unwrap_or_else(|e| panic!("{value:?} as {pg_type} does not decode: {e}"));
            assert!(same(&back, &value), "PostgreSQL {pg_type}: {value:?} came back as {back:?}");
        }
        Ok(IsNull::Yes) => panic!("{value:?} sent as NULL"),
        // Out of the type's range (a Data error), as the server would say.
        Err(e) => assert!(matches!(value, Value::Interval(_) | Value::Float(_)), "{value:?} cannot be sent as {pg_type}: {e}"),
    }

    let back = sqlite_round_trip(&value, decl);
    let expected = match &value {
        // SQLite lists are JSON text; Decimals with few digits are stored as REAL (read back shortest).
        // (Lists here hold ints only: always a JSON spelling.)
        Value::Array(_) => Value::Json(value.to_json().expect("a list of ints is JSON")),
        Value::Decimal(_) => return,
        // SQLite stores a NaN REAL as NULL (under Django too; docs/orm.md), and an integral
        // REAL as an integer, so -0.0 reads back as 0.0.
        Value::Float(f) if f.is_nan() => Value::Null,
        Value::Float(f) if *f == 0.0 => Value::Float(0.0),
        _ => value.clone(),
    };
    assert!(same(&back, &expected), "SQLite {decl}: {value:?} came back as {back:?}");
});

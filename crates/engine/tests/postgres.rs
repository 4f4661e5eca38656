//! The PostgreSQL driver against a real server.
//!
//! The server comes from `HYPERDJANGO_PG_URL` (default
//! `postgres://postgres@127.0.0.1:5432/test`). When it cannot be reached the
//! tests print why and pass, unless `HYPERDJANGO_REQUIRE_PG` is set: then they
//! fail. Each test works in a schema of its own (`hdj_t_<pid>_<n>`), dropped
//! at the end even when the test fails, and bounds every wait so a bug is a
//! failure, never a hang.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use chrono::{NaiveDate, NaiveTime, TimeZone, Utc};
use hyperdjango_engine::db::postgres::{PgConfig, PgDatabase};
use hyperdjango_engine::db::{DbError, ErrorKind, Isolation, Value};
use tokio::time::timeout;

const LIMIT: Duration = Duration::from_secs(20);

fn base_url() -> String {
    std::env::var("HYPERDJANGO_PG_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

fn url(options: &str) -> String {
    let base = base_url();
    if options.is_empty() {
        base
    } else if base.contains('?') {
        format!("{base}&{options}")
    } else {
        format!("{base}?{options}")
    }
}

static COUNTER: AtomicUsize = AtomicUsize::new(0);

fn unique(prefix: &str) -> String {
    format!(
        "{prefix}_{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

async fn connect(options: &str) -> Option<PgDatabase> {
    let config = PgConfig::from_url(&url(options)).expect("test URL parses");
    match timeout(LIMIT, PgDatabase::connect(config)).await {
        Ok(Ok(db)) => Some(db),
        Ok(Err(e)) => skip_or_fail(&e.to_string()),
        Err(_) => skip_or_fail("connect timed out"),
    }
}

fn skip_or_fail(why: &str) -> Option<PgDatabase> {
    if std::env::var_os("HYPERDJANGO_REQUIRE_PG").is_some() {
        panic!("PostgreSQL is required (HYPERDJANGO_REQUIRE_PG is set) but unreachable: {why}");
    }
    eprintln!("skipping: PostgreSQL unreachable at {}: {why}", base_url());
    None
}

/// A schema for one test; dropped on drop (also when the test panics).
struct Schema {
    name: String,
}

impl Schema {
    async fn create(db: &PgDatabase) -> Schema {
        let name = unique("hdj_t");
        db.execute(&format!("CREATE SCHEMA {name}"), vec![])
            .await
            .expect("create schema");
        Schema { name }
    }

    fn t(&self, table: &str) -> String {
        format!("{}.{table}", self.name)
    }
}

impl Drop for Schema {
    fn drop(&mut self) {
        let name = self.name.clone();
        // A runtime of its own: this may run while the test's runtime unwinds.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            rt.block_on(async move {
                let mut config = PgConfig::from_url(&url("")).expect("url");
                config.acquire_timeout = Duration::from_secs(5);
                if let Ok(db) = PgDatabase::connect(config).await {
                    let _ = db
                        .execute(&format!("DROP SCHEMA IF EXISTS {name} CASCADE"), vec![])
                        .await;
                    db.close().await;
                }
            });
        })
        .join();
    }
}

macro_rules! db {
    ($options:expr) => {
        match connect($options).await {
            Some(db) => db,
            None => return,
        }
    };
}

async fn bounded<T>(what: &str, fut: impl std::future::Future<Output = T>) -> T {
    timeout(LIMIT, fut)
        .await
        .unwrap_or_else(|_| panic!("{what} did not finish within {LIMIT:?}"))
}

fn one(rows: &hyperdjango_engine::db::Rows) -> &Value {
    &rows.rows[0][0]
}

async fn scalar(db: &PgDatabase, sql: &str, params: Vec<Value>) -> Value {
    let rows = bounded(sql, db.query(sql, params))
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    one(&rows).clone()
}

fn text(s: &str) -> Value {
    Value::Text(s.to_string())
}

fn dec(s: &str) -> Value {
    Value::Decimal(s.to_string())
}

// ---------------------------------------------------------------------------
// Types

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_type_round_trips_through_a_table() {
    let db = db!("max_size=2&application_name=hdj_types");
    let s = Schema::create(&db).await;
    let t = s.t("every_type");
    bounded(
        "create",
        db.execute(
            &format!(
                "CREATE TABLE {t} (
                    id serial PRIMARY KEY,
                    b bool, i2 int2, i4 int4, i8 int8, f4 float4, f8 float8, n numeric, n2 numeric(10,4),
                    tx text, vc varchar(20), bc char(5), nm name, by bytea,
                    d date, tm time, ts timestamp, tz timestamptz, iv interval, u uuid,
                    j json, jb jsonb,
                    ai int4[], at text[], a2 int8[], an numeric[], ajb jsonb[], ats timestamptz[], au uuid[]
                )"
            ),
            vec![],
        ),
    )
    .await
    .unwrap();

    let aware = Utc.with_ymd_and_hms(2024, 2, 29, 23, 59, 58).unwrap()
        + chrono::Duration::microseconds(123_456);
    let naive = NaiveDate::from_ymd_opt(1999, 12, 31)
        .unwrap()
        .and_hms_micro_opt(1, 2, 3, 4)
        .unwrap();
    let uuid = uuid::Uuid::parse_str("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11").unwrap();
    let row = vec![
        Value::Bool(true),
        Value::Int(-32768),
        Value::Int(2_147_483_647),
        Value::Int(i64::MIN),
        Value::Float(1.5),
        Value::Float(-2.25e-300),
        dec("123456789012345678901234567890.123456789"),
        dec("-12.3400"),
        text("héllo 'world' \u{1F600}"),
        text("varchar"),
        text("ab"),
        text("a_name"),
        Value::Bytes(vec![0, 1, 2, 255, 0]),
        Value::Date(NaiveDate::from_ymd_opt(1970, 1, 1).unwrap()),
        Value::Time(NaiveTime::from_hms_micro_opt(23, 59, 59, 999_999).unwrap()),
        Value::DateTime(naive),
        Value::DateTimeTz(aware),
        Value::Interval(-(86_400_000_000 * 3 + 1_000_001)),
        Value::Uuid(uuid),
        Value::Json(r#"{"a": [1, 2, {"b": null}], "c": "d"}"#.into()),
        Value::Json(r#"{"k": "v", "n": 1.5}"#.into()),
        Value::Array(vec![Value::Int(1), Value::Null, Value::Int(3)]),
        Value::Array(vec![text("x"), text("y,z"), text("\"q\""), Value::Null]),
        Value::Array(vec![
            Value::Array(vec![Value::Int(1), Value::Int(2), Value::Int(3)]),
            Value::Array(vec![Value::Int(4), Value::Int(5), Value::Int(6)]),
        ]),
        Value::Array(vec![dec("0"), dec("-0.001"), dec("10000"), dec("NaN")]),
        Value::Array(vec![
            Value::Json("{\"a\": 1}".into()),
            Value::Array(vec![Value::Int(1), Value::Int(2)]),
        ]),
        Value::Array(vec![Value::DateTimeTz(aware)]),
        Value::Array(vec![Value::Uuid(uuid), Value::Null]),
    ];
    let columns =
        "b,i2,i4,i8,f4,f8,n,n2,tx,vc,bc,nm,by,d,tm,ts,tz,iv,u,j,jb,ai,at,a2,an,ajb,ats,au";
    let placeholders: Vec<String> = (1..=row.len()).map(|i| format!("${i}")).collect();
    let insert = format!(
        "INSERT INTO {t} ({columns}) VALUES ({}) RETURNING id",
        placeholders.join(",")
    );
    let inserted = bounded("insert", db.query(&insert, row.clone()))
        .await
        .unwrap();
    assert_eq!(inserted.affected, 1);
    let id = one(&inserted).clone();
    // All NULLs.
    let nulls = vec![Value::Null; row.len()];
    let null_id = one(&bounded("insert nulls", db.query(&insert, nulls))
        .await
        .unwrap())
    .clone();

    let select = format!("SELECT {columns} FROM {t} WHERE id = $1");
    let got = bounded("select", db.query(&select, vec![id]))
        .await
        .unwrap();
    assert_eq!(got.columns.join(","), columns);
    let got = &got.rows[0];
    let mut expected = row.clone();
    expected[10] = text("ab   "); // char(5) pads
    expected[19] = Value::Json(r#"{"a": [1, 2, {"b": null}], "c": "d"}"#.into()); // json keeps text
    expected[20] = Value::Json(r#"{"k": "v", "n": 1.5}"#.into());
    expected[25] = Value::Array(vec![
        Value::Json("{\"a\": 1}".into()),
        Value::Json("[1, 2]".into()),
    ]);
    for (i, name) in columns.split(',').enumerate() {
        assert_eq!(got[i], expected[i], "column {name}");
    }
    let got = bounded("select nulls", db.query(&select, vec![null_id]))
        .await
        .unwrap();
    assert!(
        got.rows[0].iter().all(|v| *v == Value::Null),
        "{:?}",
        got.rows[0]
    );
    db.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scalar_encodings_and_decodings() {
    let db = db!("max_size=1&application_name=hdj_scalars");
    // numerics: big, negative, zero, scale kept, special values
    for (input, expected) in [
        (
            "123456789012345678901234567890.123456789",
            "123456789012345678901234567890.123456789",
        ),
        (
            "-123456789012345678901234567890.000000001",
            "-123456789012345678901234567890.000000001",
        ),
        ("0", "0"),
        ("0.000", "0.000"),
        ("-0.5", "-0.5"),
        ("12.3400", "12.3400"),
        ("1E+5", "100000"),
        ("0.0000000000000000000001", "0.0000000000000000000001"),
        ("NaN", "NaN"),
        ("Infinity", "Infinity"),
    ] {
        assert_eq!(
            scalar(&db, "SELECT $1::numeric", vec![dec(input)]).await,
            dec(expected),
            "{input}"
        );
    }
    // numeric computed by the server, checked against its own text output
    let n = scalar(&db, "SELECT (2::numeric ^ 200) / 7", vec![]).await;
    let t = scalar(&db, "SELECT ((2::numeric ^ 200) / 7)::text", vec![]).await;
    assert_eq!(
        n,
        dec(match &t {
            Value::Text(s) => s,
            _ => unreachable!(),
        })
    );
    assert_eq!(
        scalar(&db, "SELECT $1::numeric * 2", vec![Value::Int(21)]).await,
        dec("42")
    );
    assert_eq!(
        scalar(&db, "SELECT $1::numeric", vec![Value::Float(0.1)]).await,
        dec("0.1")
    );
    // ints into every integer type, float, numeric and text
    assert_eq!(
        scalar(&db, "SELECT $1::int2 + 1", vec![Value::Int(5)]).await,
        Value::Int(6)
    );
    assert_eq!(
        scalar(&db, "SELECT $1::float8", vec![Value::Int(3)]).await,
        Value::Float(3.0)
    );
    assert_eq!(
        scalar(&db, "SELECT $1::float4", vec![Value::Float(0.5)]).await,
        Value::Float(0.5)
    );
    assert_eq!(
        scalar(&db, "SELECT $1", vec![Value::Int(7)]).await,
        text("7")
    );
    assert_eq!(
        scalar(&db, "SELECT $1::int8", vec![dec("12.000")]).await,
        Value::Int(12)
    );
    assert_eq!(
        scalar(&db, "SELECT $1::oid", vec![Value::Int(26)]).await,
        Value::Int(26)
    );
    assert_eq!(
        scalar(&db, "SELECT 'pg_class'::regclass::oid", vec![]).await,
        Value::Int(1259)
    );
    // overflow is a Data error, not a panic, and the connection stays usable
    for (sql, v) in [
        ("SELECT $1::int2", 40_000i64),
        ("SELECT $1::int4", 1 << 40),
        ("SELECT $1::oid", -1),
    ] {
        let err = db.query(sql, vec![Value::Int(v)]).await.unwrap_err();
        assert_eq!(err.kind, ErrorKind::Data, "{sql}: {err}");
        assert!(
            err.message.contains("out of range") && err.message.contains("$1"),
            "{}",
            err.message
        );
    }
    let err = db
        .query("SELECT $1::int4", vec![Value::Float(1.5)])
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Data);
    // wrong kinds and counts are Interface errors
    let err = db
        .query("SELECT $1::date", vec![text("2024-01-01")])
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Interface);
    assert!(err.message.contains("date"), "{}", err.message);
    let err = db
        .query("SELECT $1::int, $2::int", vec![Value::Int(1)])
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Interface);
    // text-likes
    assert_eq!(
        scalar(&db, "SELECT $1::varchar || '!'", vec![text("hi")]).await,
        text("hi!")
    );
    assert_eq!(
        scalar(&db, "SELECT $1::text", vec![Value::Bool(true)]).await,
        text("true")
    );
    assert_eq!(scalar(&db, "SELECT 'x'::\"char\"", vec![]).await, text("x"));
    assert_eq!(
        scalar(
            &db,
            "SELECT $1::uuid",
            vec![text("A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11")]
        )
        .await,
        Value::Uuid(uuid::Uuid::parse_str("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11").unwrap())
    );
    // dates and times
    let aware = Utc.with_ymd_and_hms(2030, 6, 1, 12, 0, 0).unwrap();
    assert_eq!(
        scalar(
            &db,
            "SELECT $1::timestamptz",
            vec![Value::DateTimeTz(aware)]
        )
        .await,
        Value::DateTimeTz(aware)
    );
    assert_eq!(
        scalar(&db, "SELECT '2030-06-01 14:00:00+02'::timestamptz", vec![]).await,
        Value::DateTimeTz(aware)
    );
    assert_eq!(
        scalar(&db, "SELECT $1::timestamp", vec![Value::DateTimeTz(aware)]).await,
        Value::DateTime(aware.naive_utc())
    );
    let old = NaiveDate::from_ymd_opt(1, 1, 1)
        .unwrap()
        .and_hms_opt(0, 0, 0)
        .unwrap();
    assert_eq!(
        scalar(&db, "SELECT $1::timestamp", vec![Value::DateTime(old)]).await,
        Value::DateTime(old)
    );
    let err = db
        .query("SELECT 'infinity'::timestamp", vec![])
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Data);
    // intervals: days and microseconds both ways; months folded as 30 days
    let day = 86_400_000_000i64;
    assert_eq!(
        scalar(&db, "SELECT $1::interval", vec![Value::Interval(day + 5)]).await,
        Value::Interval(day + 5)
    );
    assert_eq!(
        scalar(
            &db,
            "SELECT $1::interval = '1 day 5 microseconds'",
            vec![Value::Interval(day + 5)]
        )
        .await,
        Value::Bool(true)
    );
    assert_eq!(
        scalar(&db, "SELECT $1::interval", vec![Value::Interval(-1)]).await,
        Value::Interval(-1)
    );
    assert_eq!(
        scalar(&db, "SELECT '1 mon 2 days 00:00:03'::interval", vec![]).await,
        Value::Interval(32 * day + 3_000_000)
    );
    // json and jsonb
    assert_eq!(
        scalar(
            &db,
            "SELECT $1::jsonb -> 'a'",
            vec![Value::Json(r#"{"a": {"b": [1, true, null]}}"#.into())]
        )
        .await,
        Value::Json(r#"{"b": [1, true, null]}"#.into())
    );
    assert_eq!(
        scalar(
            &db,
            "SELECT $1::jsonb",
            vec![Value::Array(vec![Value::Int(1), text("two"), Value::Null])]
        )
        .await,
        Value::Json(r#"[1, "two", null]"#.into())
    );
    assert_eq!(
        scalar(&db, "SELECT $1::json", vec![Value::Int(5)]).await,
        Value::Json("5".into())
    );
    assert_eq!(
        scalar(&db, "SELECT jsonb_typeof($1)", vec![text("[1]")]).await,
        text("array")
    );
    // arrays: empty, nested, of nulls; json arrays
    assert_eq!(
        scalar(&db, "SELECT $1::int[]", vec![Value::Array(vec![])]).await,
        Value::Array(vec![])
    );
    assert_eq!(
        scalar(&db, "SELECT '{}'::text[]", vec![]).await,
        Value::Array(vec![])
    );
    assert_eq!(
        scalar(
            &db,
            "SELECT array_length($1::int8[], 1)",
            vec![Value::Array(vec![Value::Null, Value::Null])]
        )
        .await,
        Value::Int(2)
    );
    assert_eq!(
        scalar(&db, "SELECT ARRAY[[1.5, 2], [3, 4]]::numeric[]", vec![]).await,
        Value::Array(vec![
            Value::Array(vec![dec("1.5"), dec("2")]),
            Value::Array(vec![dec("3"), dec("4")]),
        ])
    );
    assert_eq!(
        scalar(&db, "SELECT ARRAY['2020-01-02'::date, NULL]", vec![]).await,
        Value::Array(vec![
            Value::Date(NaiveDate::from_ymd_opt(2020, 1, 2).unwrap()),
            Value::Null
        ])
    );
    let err = db
        .query(
            "SELECT $1::int[]",
            vec![Value::Array(vec![
                Value::Array(vec![Value::Int(1)]),
                Value::Int(2),
            ])],
        )
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Data);
    // other decodings
    assert_eq!(scalar(&db, "SELECT pg_sleep(0)", vec![]).await, Value::Null);
    assert_eq!(
        scalar(&db, "SELECT '10.0.0.0/8'::cidr", vec![]).await,
        text("10.0.0.0/8")
    );
    assert_eq!(
        scalar(&db, "SELECT '10.1.2.3'::inet", vec![]).await,
        text("10.1.2.3")
    );
    assert_eq!(
        scalar(&db, "SELECT 12.5::money", vec![]).await,
        dec("12.50")
    );
    assert_eq!(
        scalar(&db, "SELECT '12:30:00+02'::timetz", vec![]).await,
        text("12:30:00+02:00")
    );
    // a type with no decoder names the type
    let err = db.query("SELECT point(1, 2)", vec![]).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::Interface);
    assert!(err.message.contains("point"), "{}", err.message);
    // enums and domains
    let s = Schema::create(&db).await;
    db.execute(
        &format!("CREATE TYPE {}.mood AS ENUM ('sad', 'happy')", s.name),
        vec![],
    )
    .await
    .unwrap();
    db.execute(
        &format!("CREATE DOMAIN {}.posint AS int4 CHECK (VALUE > 0)", s.name),
        vec![],
    )
    .await
    .unwrap();
    assert_eq!(
        scalar(
            &db,
            &format!("SELECT $1::{}.mood", s.name),
            vec![text("happy")]
        )
        .await,
        text("happy")
    );
    assert_eq!(
        scalar(
            &db,
            &format!("SELECT $1::{}.posint", s.name),
            vec![Value::Int(3)]
        )
        .await,
        Value::Int(3)
    );
    let err = db
        .query(
            &format!("SELECT $1::{}.posint", s.name),
            vec![Value::Int(-3)],
        )
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Integrity);
    // still usable
    assert_eq!(scalar(&db, "SELECT 1", vec![]).await, Value::Int(1));
    db.close().await;
}

// ---------------------------------------------------------------------------
// Errors

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_errors_map_to_kinds_and_the_connection_survives() {
    let db = db!("max_size=1&application_name=hdj_errors");
    let s = Schema::create(&db).await;
    let t = s.t("uniq");
    db.execute(
        &format!("CREATE TABLE {t} (id int CONSTRAINT uniq_id_key UNIQUE)"),
        vec![],
    )
    .await
    .unwrap();
    db.execute(&format!("INSERT INTO {t} VALUES ($1)"), vec![Value::Int(1)])
        .await
        .unwrap();

    let insert = format!("INSERT INTO {t} VALUES ($1)");
    let err = db.execute(&insert, vec![Value::Int(1)]).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::Integrity, "{err}");
    assert_eq!(err.sqlstate.as_deref(), Some("23505"));
    assert_eq!(err.constraint.as_deref(), Some("uniq_id_key"));
    assert!(
        err.detail.as_deref().unwrap_or("").contains("(id)=(1)"),
        "{:?}",
        err.detail
    );
    assert_eq!(err.sql.as_deref(), Some(insert.as_str()));
    assert_eq!(scalar(&db, "SELECT 1", vec![]).await, Value::Int(1));

    let err = db.query("SELEC 1", vec![]).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::Programming, "{err}");
    assert_eq!(err.sqlstate.as_deref(), Some("42601"));
    assert_eq!(scalar(&db, "SELECT 2", vec![]).await, Value::Int(2));

    let err = db
        .query("SELECT 1 / $1::int", vec![Value::Int(0)])
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Data, "{err}");
    assert_eq!(err.sqlstate.as_deref(), Some("22012"));
    assert_eq!(scalar(&db, "SELECT 3", vec![]).await, Value::Int(3));

    let err = db
        .query("SELECT * FROM no_such_table_hdj", vec![])
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Programming);
    assert_eq!(err.sqlstate.as_deref(), Some("42P01"));

    let err = db.query("SELECT 'x'::int", vec![]).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::Data);
    let err = db
        .query(
            "DO $$ BEGIN RAISE EXCEPTION 'boom' USING HINT = 'try again'; END $$",
            vec![],
        )
        .await
        .unwrap_err();
    assert_eq!(err.hint.as_deref(), Some("try again"));
    assert_eq!(scalar(&db, "SELECT 4", vec![]).await, Value::Int(4));
    db.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn statement_timeout_applies_per_session() {
    let db = db!("max_size=1&statement_timeout=100&application_name=hdj_stmt_timeout");
    let started = Instant::now();
    let err = bounded("slow query", db.query("SELECT pg_sleep(3)", vec![]))
        .await
        .unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(2));
    assert_eq!(err.sqlstate.as_deref(), Some("57014"));
    assert_eq!(err.kind, ErrorKind::Operational);
    assert_eq!(
        scalar(&db, "SHOW statement_timeout", vec![]).await,
        text("100ms")
    );
    db.close().await;
}

// ---------------------------------------------------------------------------
// Pool

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pool_exhaustion_times_out() {
    let db = db!("min_size=1&max_size=1&acquire_timeout=0.5&application_name=hdj_exhaust");
    let tx = bounded("begin", db.begin(None, false)).await.unwrap();
    let started = Instant::now();
    let err = bounded("query", db.query("SELECT 1", vec![]))
        .await
        .unwrap_err();
    let waited = started.elapsed();
    assert_eq!(err.kind, ErrorKind::PoolTimeout, "{err}");
    assert!(err.message.contains("max_size=1"), "{}", err.message);
    assert!(
        waited >= Duration::from_millis(450) && waited < Duration::from_secs(2),
        "{waited:?}"
    );
    let err = bounded("begin", db.begin(None, false)).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::PoolTimeout);
    assert_eq!(db.stats().timeouts, 2);
    tx.rollback().await.unwrap();
    assert_eq!(scalar(&db, "SELECT 1", vec![]).await, Value::Int(1));
    db.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_queries_pipeline_on_one_connection() {
    let db = db!("min_size=1&max_size=1&application_name=hdj_pipelining");
    let tasks: Vec<_> = (0..20)
        .map(|i| {
            let db = db.clone();
            tokio::spawn(async move {
                db.query("SELECT pg_backend_pid(), $1::int * 2", vec![Value::Int(i)])
                    .await
            })
        })
        .collect();
    let mut pids = std::collections::HashSet::new();
    for (i, task) in tasks.into_iter().enumerate() {
        let rows = bounded("task", task).await.unwrap().unwrap();
        assert_eq!(rows.rows[0][1], Value::Int(i as i64 * 2));
        pids.insert(format!("{:?}", rows.rows[0][0]));
    }
    assert_eq!(pids.len(), 1);
    let stats = db.stats();
    assert_eq!(stats.size, 1);
    assert_eq!(stats.in_flight, 0);
    db.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_connection_makes_the_pool_grow() {
    let db = db!("min_size=1&max_size=3&max_in_flight=2&application_name=hdj_grow");
    let tasks: Vec<_> = (0..6)
        .map(|_| {
            let db = db.clone();
            tokio::spawn(async move {
                db.query("SELECT pg_backend_pid() FROM pg_sleep(0.3)", vec![])
                    .await
            })
        })
        .collect();
    let mut pids = std::collections::HashSet::new();
    for task in tasks {
        let rows = bounded("task", task).await.unwrap().unwrap();
        pids.insert(format!("{:?}", rows.rows[0][0]));
    }
    assert_eq!(
        pids.len(),
        3,
        "six requests with two per connection need three connections"
    );
    assert_eq!(db.stats().size, 3);
    db.close().await;
}

/// Many more callers than room, of every kind (shared statements, weighted
/// pipelines, exclusive execute_many and transactions, callers giving up while
/// they wait): a release wakes one waiter at a time, so a wake-up lost on the
/// way (a woken caller that leaves, room that nobody is told about) leaves
/// callers waiting until their acquire timeout, and this fails.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crowded_pool_serves_every_waiter() {
    let db =
        db!("min_size=1&max_size=2&max_in_flight=2&acquire_timeout=15&application_name=hdj_crowd");
    for round in 0..3 {
        let tasks: Vec<_> = (0..300i64)
            .map(|i| {
                let db = db.clone();
                tokio::spawn(async move {
                    let n = Value::Int(i);
                    match i % 6 {
                        0 | 1 => db.query("SELECT $1::int8", vec![n]).await.map(|_| ()),
                        2 => db
                            .pipeline(vec![
                                ("SELECT $1::int8".to_string(), vec![n.clone()]),
                                ("SELECT $1::int8".to_string(), vec![n.clone()]),
                                ("SELECT $1::int8".to_string(), vec![n]),
                            ])
                            .await
                            .map(|_| ()),
                        3 => db
                            .execute_many("SELECT $1::int8", vec![vec![n.clone()], vec![n]])
                            .await
                            .map(|_| ()),
                        4 => {
                            let tx = db.begin(None, false).await?;
                            tx.query("SELECT $1::int8", vec![n]).await?;
                            tx.commit().await
                        }
                        _ => {
                            // Gives up while waiting (or running): its place must pass on.
                            let _ = timeout(
                                Duration::from_micros(200 + 37 * i as u64),
                                db.query("SELECT $1::int8", vec![n]),
                            )
                            .await;
                            Ok(())
                        }
                    }
                })
            })
            .collect();
        for (i, task) in tasks.into_iter().enumerate() {
            bounded("crowded caller", task)
                .await
                .unwrap()
                .unwrap_or_else(|e| panic!("round {round}, caller {i}: {e}"));
        }
    }
    let stats = db.stats();
    assert_eq!(stats.timeouts, 0);
    assert_eq!((stats.waiting, stats.exclusive), (0, 0));
    bounded("settle", async {
        while db.stats().in_flight > 0 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await;
    assert_eq!(scalar(&db, "SELECT 7", vec![]).await, Value::Int(7));
    db.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pipeline_keeps_order_and_isolates_failures() {
    let db = db!("max_size=1&application_name=hdj_pipeline");
    let s = Schema::create(&db).await;
    let t = s.t("p");
    db.execute(&format!("CREATE TABLE {t} (v int)"), vec![])
        .await
        .unwrap();
    let stmts = vec![
        ("SELECT $1::int AS a".to_string(), vec![Value::Int(1)]),
        (format!("INSERT INTO {t} VALUES (1), (2)"), vec![]),
        ("SELECT 1 / $1::int".to_string(), vec![Value::Int(0)]),
        ("SELEKT nonsense".to_string(), vec![]),
        ("SELECT $1::int AS a".to_string(), vec![Value::Int(5)]),
        (format!("SELECT count(*) FROM {t}"), vec![]),
    ];
    let results = bounded("pipeline", db.pipeline(stmts)).await.unwrap();
    assert_eq!(results.len(), 6);
    assert_eq!(results[0].as_ref().unwrap().rows, vec![vec![Value::Int(1)]]);
    assert_eq!(&*results[0].as_ref().unwrap().columns, &["a".to_string()]);
    assert_eq!(results[1].as_ref().unwrap().affected, 2);
    assert_eq!(results[2].as_ref().unwrap_err().kind, ErrorKind::Data);
    assert_eq!(
        results[3].as_ref().unwrap_err().kind,
        ErrorKind::Programming
    );
    assert_eq!(results[4].as_ref().unwrap().rows, vec![vec![Value::Int(5)]]);
    assert_eq!(results[5].as_ref().unwrap().rows, vec![vec![Value::Int(2)]]);
    assert!(db.pipeline(vec![]).await.unwrap().is_empty());
    db.close().await;
}

/// BEGIN, the rows and COMMIT leave together: a row that fails in the chunk
/// that carries the COMMIT (past the first 256) still undoes every row, the
/// error names that row, and the connection goes back to the pool usable.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn execute_many_undoes_everything_when_a_late_row_fails() {
    let db = db!("min_size=1&max_size=1&application_name=hdj_many_late");
    let s = Schema::create(&db).await;
    let t = s.t("late");
    db.execute(&format!("CREATE TABLE {t} (id int PRIMARY KEY)"), vec![])
        .await
        .unwrap();
    let insert = format!("INSERT INTO {t} VALUES ($1)");
    let mut rows: Vec<Vec<Value>> = (0..600).map(|i| vec![Value::Int(i)]).collect();
    rows.push(vec![Value::Int(3)]);
    rows.push(vec![Value::Int(9999)]);
    let err = bounded("many", db.execute_many(&insert, rows))
        .await
        .unwrap_err();
    assert_eq!(err.sqlstate.as_deref(), Some("23505"), "{err}");
    assert!(
        err.message.starts_with("parameter row 600: "),
        "{}",
        err.message
    );
    assert_eq!(
        scalar(&db, &format!("SELECT count(*) FROM {t}"), vec![]).await,
        Value::Int(0)
    );
    // the same connection, outside any transaction, takes the next batch
    let rows: Vec<Vec<Value>> = (0..600).map(|i| vec![Value::Int(i)]).collect();
    assert_eq!(
        bounded("many", db.execute_many(&insert, rows))
            .await
            .unwrap(),
        600
    );
    assert_eq!(
        scalar(&db, "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'hdj_many_late' AND state LIKE 'idle in%'", vec![]).await,
        Value::Int(0)
    );
    assert_eq!(db.stats().size, 1);
    db.close().await;
}

/// A failure only COMMIT finds (a deferred constraint) is the error, and
/// nothing of the batch stays.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn execute_many_reports_a_failed_commit() {
    let db = db!("min_size=1&max_size=1&application_name=hdj_many_commit");
    let s = Schema::create(&db).await;
    let t = s.t("deferred");
    db.execute(
        &format!("CREATE TABLE {t} (id int, UNIQUE (id) DEFERRABLE INITIALLY DEFERRED)"),
        vec![],
    )
    .await
    .unwrap();
    let insert = format!("INSERT INTO {t} VALUES ($1)");
    let err = bounded(
        "many",
        db.execute_many(&insert, vec![vec![Value::Int(1)], vec![Value::Int(1)]]),
    )
    .await
    .unwrap_err();
    assert_eq!(err.sqlstate.as_deref(), Some("23505"), "{err}");
    assert_eq!(
        scalar(&db, &format!("SELECT count(*) FROM {t}"), vec![]).await,
        Value::Int(0)
    );
    db.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn execute_many_is_atomic() {
    let db = db!("max_size=2&application_name=hdj_many");
    let s = Schema::create(&db).await;
    let t = s.t("many");
    db.execute(
        &format!("CREATE TABLE {t} (id int PRIMARY KEY, name text)"),
        vec![],
    )
    .await
    .unwrap();
    let rows: Vec<Vec<Value>> = (0..1000)
        .map(|i| vec![Value::Int(i), text(&format!("n{i}"))])
        .collect();
    let insert = format!("INSERT INTO {t} VALUES ($1, $2)");
    assert_eq!(
        bounded("many", db.execute_many(&insert, rows))
            .await
            .unwrap(),
        1000
    );
    assert_eq!(
        scalar(&db, &format!("SELECT count(*) FROM {t}"), vec![]).await,
        Value::Int(1000)
    );
    // a duplicate in the middle: nothing of the batch stays
    let rows = vec![
        vec![Value::Int(5000), text("a")],
        vec![Value::Int(5), text("dup")],
        vec![Value::Int(5001), text("b")],
    ];
    let err = bounded("many", db.execute_many(&insert, rows))
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Integrity);
    assert_eq!(err.sqlstate.as_deref(), Some("23505"));
    assert!(
        err.message.starts_with("parameter row 1: "),
        "{}",
        err.message
    );
    assert_eq!(
        scalar(&db, &format!("SELECT count(*) FROM {t}"), vec![]).await,
        Value::Int(1000)
    );
    assert_eq!(db.execute_many(&insert, vec![]).await.unwrap(), 0);
    // the update count
    assert_eq!(
        db.execute(
            &format!("UPDATE {t} SET name = 'x' WHERE id < $1"),
            vec![Value::Int(10)]
        )
        .await
        .unwrap(),
        10
    );
    assert_eq!(db.stats().exclusive, 0);
    db.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stale_cached_plans_are_prepared_again() {
    let db = db!("max_size=1&application_name=hdj_stale");
    let s = Schema::create(&db).await;
    let t = s.t("stale");
    db.execute(&format!("CREATE TABLE {t} (a int)"), vec![])
        .await
        .unwrap();
    db.execute(&format!("INSERT INTO {t} VALUES (1)"), vec![])
        .await
        .unwrap();
    let select = format!("SELECT * FROM {t}");
    assert_eq!(
        db.query(&select, vec![]).await.unwrap().rows,
        vec![vec![Value::Int(1)]]
    );
    db.execute(
        &format!("ALTER TABLE {t} ADD COLUMN b text DEFAULT 'x'"),
        vec![],
    )
    .await
    .unwrap();
    let rows = db.query(&select, vec![]).await.unwrap();
    assert_eq!(rows.rows, vec![vec![Value::Int(1), text("x")]]);
    assert_eq!(rows.columns.len(), 2);
    db.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_column_type_change_reprepares_cached_statements() {
    let db = db!("max_size=1&application_name=hdj_alter_type");
    let s = Schema::create(&db).await;
    let t = s.t("alter_type");
    db.execute(&format!("CREATE TABLE {t} (n int, code text)"), vec![])
        .await
        .unwrap();
    let insert = format!("INSERT INTO {t} (n, code) VALUES ($1, $2)");
    let count = format!("SELECT count(*) FROM {t} WHERE n = $1");
    db.execute(&insert, vec![Value::Int(1), text("1")])
        .await
        .unwrap();
    assert_eq!(
        scalar(&db, &count, vec![Value::Int(1)]).await,
        Value::Int(1)
    );

    // In a transaction, where a failed statement cannot be retried: the
    // cache must already be empty when the statements run again.
    let tx = bounded("begin", db.begin(None, false)).await.unwrap();
    tx.execute(
        &format!("ALTER TABLE {t} ALTER COLUMN n TYPE bigint"),
        vec![],
    )
    .await
    .unwrap();
    tx.execute(
        &format!("ALTER TABLE {t} ALTER COLUMN code TYPE integer USING code::integer"),
        vec![],
    )
    .await
    .unwrap();
    // Only valid for the new types: 5e9 overflows an int4 parameter, and the
    // statement prepared with a text $2 no longer fits an integer column.
    let big = Value::Int(5_000_000_000);
    tx.execute(&insert, vec![big.clone(), Value::Int(7)])
        .await
        .unwrap();
    assert_eq!(
        one(&tx.query(&count, vec![big.clone()]).await.unwrap()),
        &Value::Int(1)
    );
    tx.commit().await.unwrap();
    db.execute(&insert, vec![big.clone(), Value::Int(8)])
        .await
        .unwrap();
    assert_eq!(scalar(&db, &count, vec![big]).await, Value::Int(2));
    db.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ddl_in_a_transaction_reaches_statements_cached_on_other_connections() {
    let db = db!("max_size=2&application_name=hdj_alter_in_tx");
    let s = Schema::create(&db).await;
    let t = s.t("alter_in_tx");
    db.execute(&format!("CREATE TABLE {t} (n int)"), vec![])
        .await
        .unwrap();
    let insert = format!("INSERT INTO {t} (n) VALUES ($1)");

    let tx = bounded("begin", db.begin(None, false)).await.unwrap();
    // The transaction holds one connection: this caches `insert` on the other.
    db.execute(&insert, vec![Value::Int(1)]).await.unwrap();
    tx.execute(
        &format!("ALTER TABLE {t} ALTER COLUMN n TYPE bigint"),
        vec![],
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();

    // Both connections run `insert` again, in transactions (so a stale
    // statement would fail rather than be retried).
    let big = Value::Int(5_000_000_000);
    let (a, b) = (
        bounded("begin", db.begin(None, false)).await.unwrap(),
        bounded("begin", db.begin(None, false)).await.unwrap(),
    );
    a.execute(&insert, vec![big.clone()]).await.unwrap();
    b.execute(&insert, vec![big.clone()]).await.unwrap();
    a.commit().await.unwrap();
    b.commit().await.unwrap();
    assert_eq!(db.stats().opened, 2);
    assert_eq!(
        scalar(
            &db,
            &format!("SELECT count(*) FROM {t} WHERE n = $1"),
            vec![big]
        )
        .await,
        Value::Int(2)
    );
    db.close().await;
}

/// A pool whose `search_path` is `first, second`, to shadow tables.
async fn shadowing_pool(first: &str, second: &str, name: &str) -> Option<PgDatabase> {
    connect(&format!(
        "max_size=2&application_name={name}&options=-c+search_path%3D{first}%2C{second}"
    ))
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_table_created_in_a_transaction_reaches_statements_prepared_before_its_commit() {
    let admin = db!("application_name=hdj_shadow_admin");
    let (first, second) = (Schema::create(&admin).await, Schema::create(&admin).await);
    admin
        .execute(
            &format!("CREATE TABLE {} AS SELECT 'old' AS v", second.t("t")),
            vec![],
        )
        .await
        .unwrap();
    let Some(db) = shadowing_pool(&first.name, &second.name, "hdj_shadow").await else {
        return;
    };

    let tx = bounded("begin", db.begin(None, false)).await.unwrap();
    tx.execute(
        &format!("CREATE TABLE {} AS SELECT 'new' AS v", first.t("t")),
        vec![],
    )
    .await
    .unwrap();
    // Prepared on the other connection after the CREATE, before its commit:
    // `t` still resolves to the second schema's table.
    assert_eq!(scalar(&db, "SELECT v FROM t", vec![]).await, text("old"));
    tx.commit().await.unwrap();

    let (a, b) = (
        bounded("begin", db.begin(None, false)).await.unwrap(),
        bounded("begin", db.begin(None, false)).await.unwrap(),
    );
    assert_eq!(
        one(&a.query("SELECT v FROM t", vec![]).await.unwrap()),
        &text("new")
    );
    assert_eq!(
        one(&b.query("SELECT v FROM t", vec![]).await.unwrap()),
        &text("new")
    );
    a.commit().await.unwrap();
    b.commit().await.unwrap();
    assert_eq!(db.stats().opened, 2);
    db.close().await;
    admin.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clear_statement_cache_catches_up_with_another_pools_ddl() {
    let admin = db!("application_name=hdj_clear_admin");
    let (first, second) = (Schema::create(&admin).await, Schema::create(&admin).await);
    admin
        .execute(
            &format!("CREATE TABLE {} AS SELECT 'old' AS v", second.t("t")),
            vec![],
        )
        .await
        .unwrap();
    let Some(db) = shadowing_pool(&first.name, &second.name, "hdj_clear").await else {
        return;
    };
    assert_eq!(scalar(&db, "SELECT v FROM t", vec![]).await, text("old"));

    admin
        .execute(
            &format!("CREATE TABLE {} AS SELECT 'new' AS v", first.t("t")),
            vec![],
        )
        .await
        .unwrap();
    // The server keeps the cached statement on the table it resolved.
    assert_eq!(scalar(&db, "SELECT v FROM t", vec![]).await, text("old"));
    db.clear_statement_cache();
    assert_eq!(scalar(&db, "SELECT v FROM t", vec![]).await, text("new"));
    db.close().await;
    admin.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parameter_types_changed_by_another_pool_are_prepared_again() {
    let admin = db!("application_name=hdj_param_admin");
    let db = db!("max_size=1&application_name=hdj_param");
    let s = Schema::create(&admin).await;
    let t = s.t("param_types");
    admin
        .execute(&format!("CREATE TABLE {t} (n int, code text)"), vec![])
        .await
        .unwrap();
    let insert_n = format!("INSERT INTO {t} (n) VALUES ($1)");
    let insert_code = format!("INSERT INTO {t} (code) VALUES ($1)");
    db.execute(&insert_n, vec![Value::Int(1)]).await.unwrap();
    db.execute(&insert_code, vec![text("2")]).await.unwrap();

    admin
        .execute(
            &format!("ALTER TABLE {t} ALTER COLUMN n TYPE bigint"),
            vec![],
        )
        .await
        .unwrap();
    admin
        .execute(
            &format!("ALTER TABLE {t} ALTER COLUMN code TYPE integer USING code::integer"),
            vec![],
        )
        .await
        .unwrap();
    // Refused by the codec for the old int4 parameter, then prepared again.
    db.execute(&insert_n, vec![Value::Int(5_000_000_000)])
        .await
        .unwrap();
    // Refused by the server (42804: the column is integer, $1 text), then prepared again.
    db.execute(&insert_code, vec![Value::Int(7)]).await.unwrap();
    assert_eq!(
        scalar(&db, &format!("SELECT sum(n) + sum(code) FROM {t}"), vec![]).await,
        dec("5000000010")
    );
    // A value that fits neither the old nor the new type is still an error.
    let err = db.execute(&insert_n, vec![text("x")]).await.unwrap_err();
    assert!(err.message.contains("parameter $1"), "{err}");
    db.close().await;
    admin.close().await;
}

// ---------------------------------------------------------------------------
// Transactions

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transactions_commit_roll_back_and_use_savepoints() {
    let db = db!("max_size=2&application_name=hdj_tx");
    let s = Schema::create(&db).await;
    let t = s.t("tx");
    db.execute(&format!("CREATE TABLE {t} (v int PRIMARY KEY)"), vec![])
        .await
        .unwrap();
    let insert = format!("INSERT INTO {t} VALUES ($1)");
    let count = format!("SELECT count(*) FROM {t}");

    // commit
    let tx = db
        .begin(Some(Isolation::RepeatableRead), false)
        .await
        .unwrap();
    assert_eq!(tx.execute(&insert, vec![Value::Int(1)]).await.unwrap(), 1);
    assert_eq!(
        one(&tx
            .query("SHOW transaction_isolation", vec![])
            .await
            .unwrap()),
        &text("repeatable read")
    );
    assert_eq!(
        scalar(&db, &count, vec![]).await,
        Value::Int(0),
        "not visible before commit"
    );
    tx.commit().await.unwrap();
    assert_eq!(scalar(&db, &count, vec![]).await, Value::Int(1));
    let err = tx.query("SELECT 1", vec![]).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::Interface);
    assert_eq!(tx.commit().await.unwrap_err().kind, ErrorKind::Interface);
    assert_eq!(tx.rollback().await.unwrap_err().kind, ErrorKind::Interface);

    // rollback
    let tx = db.begin(None, false).await.unwrap();
    tx.execute(&insert, vec![Value::Int(2)]).await.unwrap();
    tx.rollback().await.unwrap();
    assert_eq!(scalar(&db, &count, vec![]).await, Value::Int(1));

    // savepoints: rolling back to one keeps the outer work, and repairs a failed statement
    let tx = db.begin(None, false).await.unwrap();
    tx.execute(&insert, vec![Value::Int(3)]).await.unwrap();
    tx.savepoint("sp 1").await.unwrap();
    tx.execute(&insert, vec![Value::Int(4)]).await.unwrap();
    let err = tx.execute(&insert, vec![Value::Int(1)]).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::Integrity);
    let err = tx.query("SELECT 1", vec![]).await.unwrap_err();
    assert_eq!(err.sqlstate.as_deref(), Some("25P02"));
    tx.rollback_to("sp 1").await.unwrap();
    tx.savepoint("sp2").await.unwrap();
    tx.execute(&insert, vec![Value::Int(5)]).await.unwrap();
    tx.release("sp2").await.unwrap();
    assert_eq!(
        tx.execute_many(&insert, vec![vec![Value::Int(6)], vec![Value::Int(7)]])
            .await
            .unwrap(),
        2
    );
    let piped = tx.pipeline(vec![(count.clone(), vec![])]).await.unwrap();
    assert_eq!(piped[0].as_ref().unwrap().rows, vec![vec![Value::Int(5)]]);
    tx.commit().await.unwrap();
    let rows = db
        .query(&format!("SELECT v FROM {t} ORDER BY v"), vec![])
        .await
        .unwrap();
    assert_eq!(
        rows.rows,
        vec![
            vec![Value::Int(1)],
            vec![Value::Int(3)],
            vec![Value::Int(5)],
            vec![Value::Int(6)],
            vec![Value::Int(7)]
        ]
    );

    // commit of an aborted transaction is an error, not a silent rollback
    let tx = db.begin(None, false).await.unwrap();
    tx.execute(&insert, vec![Value::Int(8)]).await.unwrap();
    assert!(tx.execute(&insert, vec![Value::Int(1)]).await.is_err());
    let err = tx.commit().await.unwrap_err();
    assert_eq!(err.sqlstate.as_deref(), Some("25P02"));
    assert_eq!(scalar(&db, &count, vec![]).await, Value::Int(5));

    // read-only
    let tx = db.begin(None, true).await.unwrap();
    let err = tx.execute(&insert, vec![Value::Int(9)]).await.unwrap_err();
    assert_eq!(err.sqlstate.as_deref(), Some("25006"));
    tx.rollback().await.unwrap();

    // an encoding error happens before anything is sent: the transaction goes on
    let tx = db.begin(None, false).await.unwrap();
    let err = tx
        .execute(
            &format!("INSERT INTO {t} VALUES ($1::int2)"),
            vec![Value::Int(100_000)],
        )
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Data);
    tx.execute(&insert, vec![Value::Int(10)]).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(scalar(&db, &count, vec![]).await, Value::Int(6));

    let stats = db.stats();
    assert_eq!(stats.exclusive, 0, "{stats:?}");
    db.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_transaction_rolls_back_and_frees_its_connection() {
    let db = db!("min_size=1&max_size=1&acquire_timeout=5&application_name=hdj_tx_drop");
    let s = Schema::create(&db).await;
    let t = s.t("dropped");
    db.execute(&format!("CREATE TABLE {t} (v int)"), vec![])
        .await
        .unwrap();
    {
        let tx = db.begin(None, false).await.unwrap();
        tx.execute(&format!("INSERT INTO {t} VALUES (1)"), vec![])
            .await
            .unwrap();
        // also leave an in-transaction cursor open
        let _cursor = tx
            .cursor("SELECT generate_series(1, 10)", vec![], 2)
            .await
            .unwrap();
    }
    // max_size=1: this only runs once the connection came back (or was replaced)
    assert_eq!(
        scalar(&db, &format!("SELECT count(*) FROM {t}"), vec![]).await,
        Value::Int(0)
    );
    assert_eq!(
        scalar(
            &db,
            "SELECT pg_current_xact_id_if_assigned() IS NULL",
            vec![]
        )
        .await,
        Value::Bool(true),
        "not inside the dropped transaction"
    );
    // an aborted transaction dropped
    {
        let tx = db.begin(None, false).await.unwrap();
        assert!(tx.query("SELECT 1/0", vec![]).await.is_err());
    }
    assert_eq!(scalar(&db, "SELECT 1", vec![]).await, Value::Int(1));
    let stats = db.stats();
    assert_eq!((stats.size, stats.exclusive), (1, 0), "{stats:?}");
    db.close().await;
}

// ---------------------------------------------------------------------------
// Cursors

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cursors_fetch_in_chunks() {
    let db = db!("max_size=2&application_name=hdj_cursor");
    let mut cursor = db
        .cursor(
            "SELECT g, g::text AS s FROM generate_series(1, $1::int) AS g",
            vec![Value::Int(100_000)],
            1000,
        )
        .await
        .unwrap();
    assert_eq!(db.stats().exclusive, 1);
    let mut chunks = 0;
    let mut total = 0i64;
    let mut seen = 0usize;
    while let Some(rows) = bounded("fetch", cursor.fetch()).await.unwrap() {
        chunks += 1;
        assert!(rows.rows.len() <= 1000);
        assert_eq!(&*rows.columns, &["g".to_string(), "s".to_string()]);
        for row in &rows.rows {
            if let Value::Int(g) = row[0] {
                total += g;
            }
            seen += 1;
        }
    }
    assert_eq!(seen, 100_000);
    assert_eq!(total, 100_000 * 100_001 / 2);
    assert!((100..=101).contains(&chunks), "{chunks}");
    assert!(cursor.fetch().await.unwrap().is_none());
    assert_eq!(
        db.stats().exclusive,
        0,
        "the exhausted cursor gave its connection back"
    );

    // an uneven tail, then close() early on another
    let mut cursor = db
        .cursor("SELECT generate_series(1, 25)", vec![], 10)
        .await
        .unwrap();
    let sizes: Vec<usize> = {
        let mut v = Vec::new();
        while let Some(r) = cursor.fetch().await.unwrap() {
            v.push(r.rows.len());
        }
        v
    };
    assert_eq!(sizes, vec![10, 10, 5]);
    let mut cursor = db
        .cursor("SELECT generate_series(1, 25)", vec![], 10)
        .await
        .unwrap();
    assert_eq!(cursor.fetch().await.unwrap().unwrap().rows.len(), 10);
    cursor.close().await;
    assert_eq!(db.stats().exclusive, 0);

    // a bad query fails at open and gives the connection back
    let err = db
        .cursor("SELECT * FROM no_such_table_hdj", vec![], 10)
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Programming);

    // inside a transaction
    let tx = db.begin(None, false).await.unwrap();
    let mut c = tx
        .cursor("SELECT generate_series(1, 5)", vec![], 2)
        .await
        .unwrap();
    let mut n = 0;
    while let Some(r) = c.fetch().await.unwrap() {
        n += r.rows.len();
    }
    assert_eq!(n, 5);
    assert_eq!(
        one(&tx.query("SELECT 7", vec![]).await.unwrap()),
        &Value::Int(7)
    );
    tx.commit().await.unwrap();
    // dropped unfinished
    drop(
        db.cursor("SELECT generate_series(1, 25)", vec![], 10)
            .await
            .unwrap(),
    );
    for _ in 0..100 {
        if db.stats().exclusive == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(db.stats().exclusive, 0);
    db.close().await;
}

// ---------------------------------------------------------------------------
// Cancellation

async fn sleeping_backends(app: &str) -> i64 {
    let db = connect("max_size=1").await.expect("monitor connection");
    let v = scalar(
        &db,
        "SELECT count(*) FROM pg_stat_activity WHERE application_name = $1 AND query LIKE '%pg_sleep%' AND state = 'active'",
        vec![text(app)],
    )
    .await;
    db.close().await;
    match v {
        Value::Int(n) => n,
        other => panic!("{other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropping_a_query_cancels_it_on_the_server() {
    let app = unique("hdj_cancel");
    let db = db!(&format!("min_size=1&max_size=1&application_name={app}"));
    let slow = timeout(
        Duration::from_millis(100),
        db.query("SELECT pg_sleep(10)", vec![]),
    )
    .await;
    assert!(slow.is_err(), "the sleep should still be running");
    let started = Instant::now();
    assert_eq!(
        bounded("follow-up", db.query("SELECT 1", vec![]))
            .await
            .unwrap()
            .rows[0][0],
        Value::Int(1)
    );
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(sleeping_backends(&app).await, 0);

    // in a transaction: the statement is cancelled, the transaction can roll back
    let tx = db.begin(None, false).await.unwrap();
    assert!(timeout(
        Duration::from_millis(100),
        tx.query("SELECT pg_sleep(10)", vec![])
    )
    .await
    .is_err());
    let started = Instant::now();
    let err = bounded("after cancel", tx.query("SELECT 1", vec![]))
        .await
        .unwrap_err();
    assert_eq!(err.sqlstate.as_deref(), Some("25P02"));
    tx.rollback().await.unwrap();
    assert!(started.elapsed() < Duration::from_secs(2));

    // a cancelled request queued behind others does not cancel them
    let tasks: Vec<_> = (0..5)
        .map(|_| {
            let db = db.clone();
            tokio::spawn(async move { db.query("SELECT pg_sleep(0.1), 1", vec![]).await })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(20)).await;
    assert!(timeout(
        Duration::from_millis(50),
        db.query("SELECT pg_sleep(10)", vec![])
    )
    .await
    .is_err());
    for task in tasks {
        bounded("neighbour", task)
            .await
            .unwrap()
            .expect("neighbour not cancelled");
    }
    let started = Instant::now();
    bounded("follow-up", db.query("SELECT 1", vec![]))
        .await
        .unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(sleeping_backends(&app).await, 0);
    db.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancels_never_hurt_neighbours_on_a_shared_connection() {
    let app = unique("hdj_cancel_stress");
    let db = db!(&format!("min_size=1&max_size=1&application_name={app}"));
    let started = Instant::now();
    for round in 0..15i64 {
        let tasks: Vec<_> = (0..8i64)
            .map(|i| {
                let db = db.clone();
                tokio::spawn(async move {
                    db.query("SELECT $1::int8", vec![Value::Int(round * 100 + i)])
                        .await
                })
            })
            .collect();
        let drop_after = Duration::from_millis((round as u64 * 7) % 30);
        let _ = timeout(drop_after, db.query("SELECT pg_sleep(10)", vec![])).await;
        for (i, task) in tasks.into_iter().enumerate() {
            let rows = bounded("neighbour", task)
                .await
                .unwrap()
                .expect("a neighbour must not be cancelled");
            assert_eq!(rows.rows[0][0], Value::Int(round * 100 + i as i64));
        }
    }
    bounded("after", db.query("SELECT 1", vec![]))
        .await
        .unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(sleeping_backends(&app).await, 0);
    db.close().await;
}

// ---------------------------------------------------------------------------
// Resilience

async fn terminate(app: &str) -> i64 {
    let monitor = connect("max_size=1").await.expect("monitor connection");
    let n = scalar(
        &monitor,
        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = $1",
        vec![text(app)],
    )
    .await;
    monitor.close().await;
    match n {
        Value::Int(n) => n,
        other => panic!("{other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_killed_by_the_server_are_replaced() {
    let app = unique("hdj_restart");
    let db = db!(&format!(
        "min_size=2&max_size=3&acquire_timeout=5&application_name={app}"
    ));
    // warm the statement caches
    for _ in 0..4 {
        db.query("SELECT $1::int + 1", vec![Value::Int(1)])
            .await
            .unwrap();
    }
    assert!(terminate(&app).await >= 2);
    tokio::time::sleep(Duration::from_millis(50)).await;

    // the next query, or the one after, succeeds; none hangs
    let first = bounded(
        "first after kill",
        db.query("SELECT $1::int + 1", vec![Value::Int(1)]),
    )
    .await;
    if let Err(e) = &first {
        assert_eq!(e.kind, ErrorKind::Operational, "{e}");
    }
    let second = bounded(
        "second after kill",
        db.query("SELECT $1::int + 1", vec![Value::Int(1)]),
    )
    .await;
    assert_eq!(second.unwrap().rows[0][0], Value::Int(2));
    assert!(db.stats().reconnects >= 1, "{:?}", db.stats());

    // killed while idle without any pause, many callers at once
    assert!(terminate(&app).await >= 1);
    let tasks: Vec<_> = (0..10)
        .map(|_| {
            let db = db.clone();
            tokio::spawn(async move { db.query("SELECT 1", vec![]).await })
        })
        .collect();
    for task in tasks {
        let _ = bounded("after kill", task).await.unwrap();
    }
    assert_eq!(
        bounded("then", db.query("SELECT 1", vec![]))
            .await
            .unwrap()
            .rows[0][0],
        Value::Int(1)
    );

    // killed in the middle of a statement: fails fast, the next works
    let app2 = app.clone();
    let killer = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(200)).await;
        terminate(&app2).await
    });
    let started = Instant::now();
    let err = bounded(
        "killed mid-statement",
        db.query("SELECT pg_sleep(5)", vec![]),
    )
    .await
    .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Operational, "{err}");
    assert!(started.elapsed() < Duration::from_secs(3));
    killer.await.unwrap();
    assert_eq!(
        bounded("after", db.query("SELECT 1", vec![]))
            .await
            .unwrap()
            .rows[0][0],
        Value::Int(1)
    );

    // transactions too: begin replaces a dead connection
    terminate(&app).await;
    tokio::time::sleep(Duration::from_millis(50)).await;
    let tx = bounded("begin after kill", db.begin(None, false))
        .await
        .unwrap();
    tx.rollback().await.unwrap();
    db.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_connections_are_checked_before_use() {
    let app = unique("hdj_ping");
    let db = db!(&format!(
        "min_size=1&max_size=1&health_check_idle=0&application_name={app}"
    ));
    db.query("SELECT 1", vec![]).await.unwrap();
    assert_eq!(terminate(&app).await, 1);
    // no pause: the ping on checkout finds the dead connection, the query gets a new one
    assert_eq!(
        bounded("after kill", db.query("SELECT 1", vec![]))
            .await
            .unwrap()
            .rows[0][0],
        Value::Int(1)
    );
    assert_eq!(db.stats().opened, 2);
    db.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn old_connections_are_replaced() {
    let db = db!("min_size=1&max_size=1&max_lifetime=0.3&application_name=hdj_lifetime");
    let pid = scalar(&db, "SELECT pg_backend_pid()", vec![]).await;
    assert_eq!(scalar(&db, "SELECT pg_backend_pid()", vec![]).await, pid);
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_ne!(scalar(&db, "SELECT pg_backend_pid()", vec![]).await, pid);
    assert_eq!(db.stats().size, 1);
    db.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn closed_pool_refuses_work() {
    let db = db!("max_size=1");
    db.close().await;
    let err: DbError = db.query("SELECT 1", vec![]).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::Interface);
    assert_eq!(db.stats().size, 0);
}

#[tokio::test]
async fn unreachable_server_is_an_operational_error() {
    let config =
        PgConfig::from_url("postgres://postgres@127.0.0.1:1/test?acquire_timeout=2").unwrap();
    let err = PgDatabase::connect(config).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::Operational, "{err}");
    assert!(err.message.contains("127.0.0.1:1"), "{}", err.message);
}

#[test]
fn handles_are_send_and_sync() {
    fn is<T: Send + Sync>() {}
    is::<PgDatabase>();
    is::<hyperdjango_engine::db::postgres::PgTransaction>();
    fn is_send<T: Send>() {}
    is_send::<hyperdjango_engine::db::postgres::PgCursor>();
}

//! The SQLite driver end to end: temp database files (removed afterwards) and `:memory:`.
//!
//! Every wait is bounded, so a hang is a failure, not a stuck test run.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use chrono::{NaiveDate, NaiveTime, TimeZone, Utc};
use hyperdjango_engine::db::sqlite::{SqliteConfig, SqliteDatabase, SqliteTarget};
use hyperdjango_engine::db::{ErrorKind, Value};
use tokio::time::timeout;

const LIMIT: Duration = Duration::from_secs(20);

/// A database file under the temp dir, removed (with -wal and -shm) on drop.
struct TempDb {
    path: PathBuf,
}

impl TempDb {
    fn new(tag: &str) -> TempDb {
        static N: AtomicU64 = AtomicU64::new(0);
        let n = N.fetch_add(1, Ordering::Relaxed);
        let path = std::env::temp_dir().join(format!(
            "hyperdjango-sqlite-{tag}-{}-{n}.db",
            std::process::id()
        ));
        let db = TempDb { path };
        db.remove();
        db
    }

    fn url(&self, query: &str) -> String {
        // An absolute path: four slashes.
        format!("sqlite:///{}{}", self.path.display(), query)
    }

    fn remove(&self) {
        for suffix in ["", "-wal", "-shm", "-journal"] {
            let mut p = self.path.clone().into_os_string();
            p.push(suffix);
            let _ = std::fs::remove_file(p);
        }
    }
}

impl Drop for TempDb {
    fn drop(&mut self) {
        self.remove();
    }
}

async fn open(tmp: &TempDb) -> SqliteDatabase {
    let config = SqliteConfig::from_url(&tmp.url("")).unwrap();
    assert_eq!(config.target, SqliteTarget::File(tmp.path.clone()));
    SqliteDatabase::connect(config).await.unwrap()
}

async fn memory() -> SqliteDatabase {
    SqliteDatabase::connect(SqliteConfig::from_url("sqlite://:memory:").unwrap())
        .await
        .unwrap()
}

fn int(rows: &hyperdjango_engine::db::Rows) -> i64 {
    match rows.rows[0][0] {
        Value::Int(i) => i,
        ref other => panic!("expected an integer, got {other:?}"),
    }
}

async fn count(db: &SqliteDatabase, table: &str) -> i64 {
    int(&db
        .query(&format!("SELECT count(*) FROM {table}"), vec![])
        .await
        .unwrap())
}

const ALL_TYPES: &str = "CREATE TABLE v (
    id INTEGER PRIMARY KEY,
    b BOOLEAN, i BIGINT, f DOUBLE PRECISION, d DECIMAL(10, 2), big DECIMAL_TEXT, t VARCHAR(50),
    y BLOB, da DATE, ti TIME, ts DATETIME, tz TIMESTAMP, iv INTERVAL, u UUID, j JSON, a JSON)";

fn sample_values() -> Vec<Value> {
    vec![
        Value::Bool(true),
        Value::Int(-9_000_000_000_000_000_000),
        Value::Float(1.5e-7),
        Value::Decimal("-12.34".into()),
        Value::Decimal("12345678901234567890.123456789012345".into()),
        Value::Text("héllo 'quoted' $1".into()),
        Value::Bytes(vec![0, 1, 2, 255]),
        Value::Date(NaiveDate::from_ymd_opt(2024, 2, 29).unwrap()),
        Value::Time(NaiveTime::from_hms_micro_opt(23, 59, 58, 123_456).unwrap()),
        Value::DateTime(
            NaiveDate::from_ymd_opt(2001, 9, 9)
                .unwrap()
                .and_hms_micro_opt(1, 46, 40, 5)
                .unwrap(),
        ),
        Value::DateTimeTz(Utc.with_ymd_and_hms(2030, 1, 2, 3, 4, 5).unwrap()),
        Value::Interval(-86_400_000_001),
        Value::Uuid("67e55044-10b1-426f-9247-bb680e5fe0c8".parse().unwrap()),
        Value::Json(r#"{"k": [1, 2, {"x": null}]}"#.into()),
        Value::Array(vec![
            Value::Int(1),
            Value::Text("a".into()),
            Value::Null,
            Value::Bool(false),
        ]),
    ]
}

async fn round_trip(db: &SqliteDatabase) {
    db.execute(ALL_TYPES, vec![]).await.unwrap();
    let insert = "INSERT INTO v (b, i, f, d, big, t, y, da, ti, ts, tz, iv, u, j, a)
                  VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)";
    let values = sample_values();
    assert_eq!(db.execute(insert, values.clone()).await.unwrap(), 1);
    assert_eq!(db.execute(insert, vec![Value::Null; 15]).await.unwrap(), 1);
    // A second row with the other booleans and times without fractions.
    let mut second = values.clone();
    second[0] = Value::Bool(false);
    second[8] = Value::Time(NaiveTime::from_hms_opt(7, 0, 0).unwrap());
    second[3] = Value::Decimal("10.00".into());
    db.execute(insert, second).await.unwrap();

    let rows = db
        .query(
            "SELECT b, i, f, d, big, t, y, da, ti, ts, tz, iv, u, j, a FROM v ORDER BY id",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(
        &rows.columns[..3],
        &["b".to_string(), "i".to_string(), "f".to_string()]
    );
    assert_eq!(rows.affected, 3);
    let mut expected = values.clone();
    // Arrays are stored as JSON text and come back from a JSON column as JSON.
    expected[14] = Value::Json(r#"[1,"a",null,false]"#.into());
    assert_eq!(rows.rows[0], expected);
    assert_eq!(rows.rows[1], vec![Value::Null; 15]);
    assert_eq!(rows.rows[2][0], Value::Bool(false));
    assert_eq!(
        rows.rows[2][8],
        Value::Time(NaiveTime::from_hms_opt(7, 0, 0).unwrap())
    );
    // NUMERIC affinity turned "10.00" into the integer 10.
    assert_eq!(rows.rows[2][3], Value::Decimal("10".into()));

    // How the richer values are stored.
    let stored = db
        .query("SELECT typeof(d), CAST(d AS TEXT), CAST(ti AS TEXT), CAST(ts AS TEXT), CAST(tz AS TEXT), typeof(iv), CAST(u AS TEXT), typeof(y), CAST(a AS TEXT) FROM v WHERE id = 1", vec![])
        .await
        .unwrap();
    let texts: Vec<String> = stored.rows[0]
        .iter()
        .map(|v| match v {
            Value::Text(s) => s.clone(),
            Value::Float(f) => f.to_string(),
            Value::Decimal(s) | Value::Json(s) => s.clone(),
            other => format!("{other:?}"),
        })
        .collect();
    assert_eq!(
        texts,
        [
            "real",
            "-12.34",
            "23:59:58.123456",
            "2001-09-09 01:46:40.000005",
            "2030-01-02 03:04:05+00:00",
            "integer",
            "67e55044-10b1-426f-9247-bb680e5fe0c8",
            "blob",
            r#"[1,"a",null,false]"#,
        ]
    );

    // Expressions have no declared type: the storage class decides.
    let rows = db
        .query("SELECT 1 + 1, 2.5, 'x', x'00', NULL", vec![])
        .await
        .unwrap();
    assert_eq!(
        rows.rows[0],
        vec![
            Value::Int(2),
            Value::Float(2.5),
            Value::Text("x".into()),
            Value::Bytes(vec![0]),
            Value::Null
        ]
    );

    // Text written by hand: offsets normalised to UTC, 32-hex UUIDs, text booleans.
    db.execute(
        "INSERT INTO v (id, b, tz, ts, u) VALUES (100, 'true', '2024-05-06T07:08:09.5+02:00', '2024-05-06 07:08:09Z',
         '67e5504410b1426f9247bb680e5fe0c8')",
        vec![],
    )
    .await
    .unwrap();
    let rows = db
        .query("SELECT b, tz, ts, u FROM v WHERE id = 100", vec![])
        .await
        .unwrap();
    assert_eq!(
        rows.rows[0],
        vec![
            Value::Bool(true),
            Value::DateTimeTz(
                Utc.with_ymd_and_hms(2024, 5, 6, 5, 8, 9).unwrap()
                    + chrono::Duration::milliseconds(500)
            ),
            Value::DateTimeTz(Utc.with_ymd_and_hms(2024, 5, 6, 7, 8, 9).unwrap()),
            Value::Uuid("67e55044-10b1-426f-9247-bb680e5fe0c8".parse().unwrap()),
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_value_round_trips_on_a_file() {
    let tmp = TempDb::new("values");
    let db = open(&tmp).await;
    timeout(LIMIT, round_trip(&db)).await.unwrap();
    db.close().await;
}

#[tokio::test]
async fn every_value_round_trips_in_memory() {
    let db = memory().await;
    assert_eq!(db.stats().readers, 0);
    timeout(LIMIT, round_trip(&db)).await.unwrap();
    db.close().await;
}

#[tokio::test]
async fn values_that_do_not_fit_their_declared_type_are_data_errors() {
    let db = memory().await;
    db.execute(
        "CREATE TABLE t (id INTEGER PRIMARY KEY, born DATE, flag BOOLEAN, n INTEGER)",
        vec![],
    )
    .await
    .unwrap();
    db.execute("INSERT INTO t (born) VALUES ('not a date')", vec![])
        .await
        .unwrap();
    let err = db.query("SELECT born FROM t", vec![]).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::Data);
    assert!(
        err.message.contains("\"born\"") && err.message.contains("not a date"),
        "{}",
        err.message
    );
    db.execute("UPDATE t SET born = NULL, flag = 'maybe'", vec![])
        .await
        .unwrap();
    let err = db.query("SELECT flag FROM t", vec![]).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::Data);
    assert!(err.message.contains("flag"), "{}", err.message);
    db.execute("UPDATE t SET flag = NULL, n = 'abc'", vec![])
        .await
        .unwrap();
    assert_eq!(
        db.query("SELECT n FROM t", vec![]).await.unwrap_err().kind,
        ErrorKind::Data
    );
    // The database is fine afterwards.
    assert_eq!(count(&db, "t").await, 1);
}

#[tokio::test]
async fn placeholders_are_numbered_like_postgres() {
    let db = memory().await;
    let rows = db
        .query(
            "SELECT $2, $1",
            vec![Value::Text("a".into()), Value::Text("b".into())],
        )
        .await
        .unwrap();
    assert_eq!(
        rows.rows[0],
        vec![Value::Text("b".into()), Value::Text("a".into())]
    );

    let rows = db
        .query(
            "SELECT '$1', $1, \"$1\" FROM (SELECT 7 AS \"$1\") -- $2\n",
            vec![Value::Int(5)],
        )
        .await
        .unwrap();
    assert_eq!(
        rows.rows[0],
        vec![Value::Text("$1".into()), Value::Int(5), Value::Int(7)]
    );

    let rows = db
        .query(
            "SELECT $1 + $1, $1 * $2 /* $3 */",
            vec![Value::Int(3), Value::Int(4)],
        )
        .await
        .unwrap();
    assert_eq!(rows.rows[0], vec![Value::Int(6), Value::Int(12)]);
}

#[tokio::test]
async fn parameter_count_mismatch_is_an_interface_error() {
    let db = memory().await;
    let err = db
        .query("SELECT $1, $2", vec![Value::Int(1)])
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Interface);
    assert!(
        err.message.contains("2 parameters") && err.message.contains("1 were given"),
        "{}",
        err.message
    );
    assert_eq!(err.sql.as_deref(), Some("SELECT $1, $2"));
    let err = db.query("SELECT 1", vec![Value::Int(1)]).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::Interface);
    let err = db
        .execute("SELECT '$1'", vec![Value::Int(1)])
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Interface);
    let err = db.query("SELECT $0", vec![]).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::Interface);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_map_to_kinds_and_the_database_stays_usable() {
    let tmp = TempDb::new("errors");
    let db = open(&tmp).await;
    db.execute(
        "CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT UNIQUE NOT NULL, age INTEGER CHECK (age >= 0))",
        vec![],
    )
    .await
    .unwrap();
    db.execute(
        "INSERT INTO users (email) VALUES ($1)",
        vec![Value::Text("a@x".into())],
    )
    .await
    .unwrap();

    let err = db
        .execute(
            "INSERT INTO users (email) VALUES ($1)",
            vec![Value::Text("a@x".into())],
        )
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Integrity);
    assert_eq!(err.constraint.as_deref(), Some("users.email"));
    assert!(
        err.message.contains("UNIQUE constraint failed")
            && err.message.contains("SQLITE_CONSTRAINT_UNIQUE")
    );
    assert_eq!(err.sqlstate, None);

    let err = db
        .execute("INSERT INTO users (email) VALUES (NULL)", vec![])
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Integrity);
    assert_eq!(err.constraint.as_deref(), Some("users.email"));
    let err = db
        .execute("INSERT INTO users (email, age) VALUES ('b', -1)", vec![])
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Integrity);

    for bad in [
        "SELEC 1",
        "SELECT * FROM missing",
        "SELECT nope FROM users",
        "INSERT INTO missing VALUES (1)",
    ] {
        let err = db.query(bad, vec![]).await.unwrap_err();
        assert_eq!(err.kind, ErrorKind::Programming, "{bad}: {err}");
        assert_eq!(err.sql.as_deref(), Some(bad));
    }
    let err = db.query("SELECT 1; SELECT 2", vec![]).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::Programming);

    // Readers and the writer still work.
    db.execute("INSERT INTO users (email) VALUES ('c@x')", vec![])
        .await
        .unwrap();
    assert_eq!(count(&db, "users").await, 2);
    let stats = db.stats();
    assert!(stats.errors >= 8, "{stats:?}");
    db.close().await;
}

#[tokio::test]
async fn foreign_keys_are_enforced() {
    let db = memory().await;
    db.execute("CREATE TABLE parent (id INTEGER PRIMARY KEY)", vec![])
        .await
        .unwrap();
    db.execute("CREATE TABLE child (id INTEGER PRIMARY KEY, parent_id INTEGER NOT NULL REFERENCES parent(id))", vec![])
        .await
        .unwrap();
    let err = db
        .execute("INSERT INTO child (parent_id) VALUES (42)", vec![])
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Integrity);
    assert!(err.message.contains("FOREIGN KEY"), "{}", err.message);
    db.execute("INSERT INTO parent (id) VALUES (42)", vec![])
        .await
        .unwrap();
    db.execute("INSERT INTO child (parent_id) VALUES (42)", vec![])
        .await
        .unwrap();
    assert_eq!(
        db.execute("DELETE FROM parent", vec![])
            .await
            .unwrap_err()
            .kind,
        ErrorKind::Integrity
    );

    // On a file database too (every connection turns them on).
    let tmp = TempDb::new("fk");
    let db = open(&tmp).await;
    let rows = db.query("PRAGMA foreign_keys", vec![]).await.unwrap();
    assert_eq!(rows.rows[0][0], Value::Int(1));
    let rows = db.query("PRAGMA journal_mode", vec![]).await.unwrap();
    assert_eq!(rows.rows[0][0], Value::Text("wal".into()));
    db.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readers_see_the_committed_state_while_a_transaction_writes() {
    let tmp = TempDb::new("wal");
    let db = open(&tmp).await;
    db.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)", vec![])
        .await
        .unwrap();
    db.execute("INSERT INTO t (v) VALUES ('committed')", vec![])
        .await
        .unwrap();

    let tx = db.begin(None, false).await.unwrap();
    assert!(db.stats().in_transaction);
    tx.execute("INSERT INTO t (v) VALUES ('pending')", vec![])
        .await
        .unwrap();
    assert_eq!(
        int(&tx.query("SELECT count(*) FROM t", vec![]).await.unwrap()),
        2
    );

    // Many concurrent reads, none blocked by the writer's transaction.
    let mut reads = Vec::new();
    for _ in 0..16 {
        let db = db.clone();
        reads.push(tokio::spawn(async move { count(&db, "t").await }));
    }
    for read in reads {
        assert_eq!(timeout(LIMIT, read).await.unwrap().unwrap(), 1);
    }
    tx.commit().await.unwrap();
    assert!(!db.stats().in_transaction);
    assert_eq!(count(&db, "t").await, 2);

    // A read-only transaction keeps one snapshot and leaves the writer free.
    let ro = db.begin(None, true).await.unwrap();
    assert!(ro.is_read_only());
    assert_eq!(
        int(&ro.query("SELECT count(*) FROM t", vec![]).await.unwrap()),
        2
    );
    timeout(
        LIMIT,
        db.execute("INSERT INTO t (v) VALUES ('later')", vec![]),
    )
    .await
    .unwrap()
    .unwrap();
    assert_eq!(
        int(&ro.query("SELECT count(*) FROM t", vec![]).await.unwrap()),
        2
    );
    let err = ro
        .execute("INSERT INTO t (v) VALUES ('no')", vec![])
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Operational, "{err}");
    ro.commit().await.unwrap();
    assert_eq!(count(&db, "t").await, 3);

    // Statements that start like reads but write are forwarded to the writer.
    let n = db
        .execute(
            "WITH x(v) AS (VALUES ('cte')) INSERT INTO t (v) SELECT v FROM x",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(n, 1);
    assert_eq!(count(&db, "t").await, 4);
    db.close().await;
}

async fn transaction_semantics(db: &SqliteDatabase) {
    db.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)", vec![])
        .await
        .unwrap();

    let tx = db.begin(None, false).await.unwrap();
    tx.execute("INSERT INTO t (v) VALUES ('outer')", vec![])
        .await
        .unwrap();
    tx.savepoint("sp").await.unwrap();
    tx.execute("INSERT INTO t (v) VALUES ('inner')", vec![])
        .await
        .unwrap();
    assert_eq!(
        int(&tx.query("SELECT count(*) FROM t", vec![]).await.unwrap()),
        2
    );
    tx.rollback_to("sp").await.unwrap();
    tx.release("sp").await.unwrap();
    tx.savepoint("we\"ird name").await.unwrap();
    tx.execute("INSERT INTO t (v) VALUES ('kept')", vec![])
        .await
        .unwrap();
    tx.release("we\"ird name").await.unwrap();
    tx.commit().await.unwrap();
    let rows = db
        .query("SELECT v FROM t ORDER BY id", vec![])
        .await
        .unwrap();
    assert_eq!(
        rows.rows,
        vec![
            vec![Value::Text("outer".into())],
            vec![Value::Text("kept".into())]
        ]
    );

    // Finished transactions refuse further calls.
    assert_eq!(
        tx.execute("SELECT 1", vec![]).await.unwrap_err().kind,
        ErrorKind::Interface
    );
    assert_eq!(tx.commit().await.unwrap_err().kind, ErrorKind::Interface);
    assert_eq!(tx.rollback().await.unwrap_err().kind, ErrorKind::Interface);

    let tx = db
        .begin(Some(hyperdjango_engine::db::Isolation::Serializable), false)
        .await
        .unwrap();
    tx.execute("DELETE FROM t", vec![]).await.unwrap();
    tx.rollback().await.unwrap();
    assert_eq!(
        tx.savepoint("x").await.unwrap_err().kind,
        ErrorKind::Interface
    );
    assert_eq!(count(db, "t").await, 2);

    // An error inside a transaction leaves it usable; savepoint errors are reported.
    let tx = db.begin(None, false).await.unwrap();
    assert_eq!(
        tx.execute("INSERT INTO t (id, v) VALUES (1, 'dup')", vec![])
            .await
            .unwrap_err()
            .kind,
        ErrorKind::Integrity
    );
    assert_eq!(
        tx.rollback_to("never").await.unwrap_err().kind,
        ErrorKind::Programming
    );
    tx.execute("INSERT INTO t (v) VALUES ('after error')", vec![])
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(count(db, "t").await, 3);

    // Dropping an unfinished transaction rolls it back and frees the writer.
    let tx = db.begin(None, false).await.unwrap();
    tx.execute("INSERT INTO t (v) VALUES ('dropped')", vec![])
        .await
        .unwrap();
    drop(tx);
    timeout(
        LIMIT,
        db.execute("INSERT INTO t (v) VALUES ('next')", vec![]),
    )
    .await
    .unwrap()
    .unwrap();
    let rows = db
        .query("SELECT count(*) FROM t WHERE v = 'dropped'", vec![])
        .await
        .unwrap();
    assert_eq!(int(&rows), 0);
    assert_eq!(count(db, "t").await, 4);

    // A second writer queues behind an open transaction.
    let tx = db.begin(None, false).await.unwrap();
    let waiting = {
        let db = db.clone();
        tokio::spawn(async move {
            db.execute("INSERT INTO t (v) VALUES ('queued')", vec![])
                .await
        })
    };
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(!waiting.is_finished());
    tx.execute("INSERT INTO t (v) VALUES ('first')", vec![])
        .await
        .unwrap();
    tx.commit().await.unwrap();
    timeout(LIMIT, waiting).await.unwrap().unwrap().unwrap();
    let rows = db
        .query("SELECT v FROM t ORDER BY id DESC LIMIT 2", vec![])
        .await
        .unwrap();
    assert_eq!(
        rows.rows,
        vec![
            vec![Value::Text("queued".into())],
            vec![Value::Text("first".into())]
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transactions_commit_roll_back_and_nest_with_savepoints() {
    let tmp = TempDb::new("tx");
    let db = open(&tmp).await;
    timeout(LIMIT, transaction_semantics(&db)).await.unwrap();
    db.close().await;
    let db = memory().await;
    timeout(LIMIT, transaction_semantics(&db)).await.unwrap();
}

#[tokio::test]
async fn a_failed_commit_ends_the_transaction() {
    let db = memory().await;
    db.execute("CREATE TABLE p (id INTEGER PRIMARY KEY)", vec![])
        .await
        .unwrap();
    db.execute(
        "CREATE TABLE c (p INTEGER REFERENCES p(id) DEFERRABLE INITIALLY DEFERRED)",
        vec![],
    )
    .await
    .unwrap();
    let tx = db.begin(None, false).await.unwrap();
    tx.execute("INSERT INTO c VALUES (1)", vec![])
        .await
        .unwrap();
    let err = tx.commit().await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::Integrity);
    assert_eq!(count(&db, "c").await, 0);
    timeout(LIMIT, db.execute("INSERT INTO p VALUES (1)", vec![]))
        .await
        .unwrap()
        .unwrap();
}

async fn pipelines(db: &SqliteDatabase) {
    db.execute(
        "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT UNIQUE)",
        vec![],
    )
    .await
    .unwrap();
    let results = db
        .pipeline(vec![
            (
                "INSERT INTO t (v) VALUES ($1)".into(),
                vec![Value::Text("a".into())],
            ),
            (
                "INSERT INTO t (v) VALUES ($1)".into(),
                vec![Value::Text("a".into())],
            ),
            ("SELEC broken".into(), vec![]),
            (
                "INSERT INTO t (v) VALUES ($1) RETURNING id".into(),
                vec![Value::Text("b".into())],
            ),
            ("SELECT v FROM t ORDER BY id".into(), vec![]),
        ])
        .await
        .unwrap();
    assert_eq!(results.len(), 5);
    assert_eq!(results[0].as_ref().unwrap().affected, 1);
    assert_eq!(results[1].as_ref().unwrap_err().kind, ErrorKind::Integrity);
    assert_eq!(
        results[2].as_ref().unwrap_err().kind,
        ErrorKind::Programming
    );
    assert_eq!(results[3].as_ref().unwrap().rows, vec![vec![Value::Int(2)]]);
    assert_eq!(results[3].as_ref().unwrap().affected, 1);
    assert_eq!(
        results[4].as_ref().unwrap().rows,
        vec![vec![Value::Text("a".into())], vec![Value::Text("b".into())]]
    );

    // Reads only: on a reader.
    let results = db
        .pipeline(vec![
            ("SELECT count(*) FROM t".into(), vec![]),
            ("SELECT $1".into(), vec![]),
            ("SELECT $1".into(), vec![Value::Int(9)]),
        ])
        .await
        .unwrap();
    assert_eq!(results[0].as_ref().unwrap().rows[0][0], Value::Int(2));
    assert_eq!(results[1].as_ref().unwrap_err().kind, ErrorKind::Interface);
    assert_eq!(results[2].as_ref().unwrap().rows[0][0], Value::Int(9));

    // Inside a transaction.
    let tx = db.begin(None, false).await.unwrap();
    let results = tx
        .pipeline(vec![
            ("INSERT INTO t (v) VALUES ('c')".into(), vec![]),
            ("INSERT INTO t (v) VALUES ('c')".into(), vec![]),
            ("SELECT count(*) FROM t".into(), vec![]),
        ])
        .await
        .unwrap();
    assert!(results[1].is_err());
    assert_eq!(results[2].as_ref().unwrap().rows[0][0], Value::Int(3));
    tx.rollback().await.unwrap();
    assert_eq!(count(db, "t").await, 2);
    assert!(db.pipeline(vec![]).await.unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pipelines_keep_going_past_failures() {
    let tmp = TempDb::new("pipeline");
    let db = open(&tmp).await;
    timeout(LIMIT, pipelines(&db)).await.unwrap();
    db.close().await;
    let db = memory().await;
    timeout(LIMIT, pipelines(&db)).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn execute_many_is_all_or_nothing() {
    let tmp = TempDb::new("many");
    let db = open(&tmp).await;
    db.execute(
        "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT UNIQUE, n INTEGER)",
        vec![],
    )
    .await
    .unwrap();
    let rows: Vec<Vec<Value>> = (0..1000)
        .map(|i| vec![Value::Text(format!("v{i}")), Value::Int(i)])
        .collect();
    let n = timeout(
        LIMIT,
        db.execute_many("INSERT INTO t (v, n) VALUES ($1, $2)", rows),
    )
    .await
    .unwrap()
    .unwrap();
    assert_eq!(n, 1000);
    assert_eq!(count(&db, "t").await, 1000);
    assert_eq!(
        db.execute_many(
            "UPDATE t SET n = n + 1 WHERE n < $1",
            vec![vec![Value::Int(10)], vec![Value::Int(5)]]
        )
        .await
        .unwrap(),
        14
    );

    // A duplicate in the middle: nothing of the batch stays.
    let rows: Vec<Vec<Value>> = (0..10)
        .map(|i| {
            vec![
                Value::Text(if i == 5 {
                    "v1".into()
                } else {
                    format!("new{i}")
                }),
                Value::Int(i),
            ]
        })
        .collect();
    let err = db
        .execute_many("INSERT INTO t (v, n) VALUES ($1, $2)", rows.clone())
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Integrity);
    assert!(err.message.contains("parameter row 5"), "{}", err.message);
    assert_eq!(count(&db, "t").await, 1000);
    let err = db
        .execute_many(
            "INSERT INTO t (v, n) VALUES ($1, $2)",
            vec![vec![Value::Int(1)]],
        )
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Interface);
    assert_eq!(
        db.execute_many("INSERT INTO t (v) VALUES ($1)", vec![])
            .await
            .unwrap(),
        0
    );

    // Inside a transaction: a savepoint, so the transaction survives the failure.
    let tx = db.begin(None, false).await.unwrap();
    tx.execute("INSERT INTO t (v) VALUES ('tx')", vec![])
        .await
        .unwrap();
    assert!(tx
        .execute_many("INSERT INTO t (v, n) VALUES ($1, $2)", rows)
        .await
        .is_err());
    assert_eq!(
        tx.execute_many(
            "INSERT INTO t (v) VALUES ($1)",
            vec![
                vec![Value::Text("m1".into())],
                vec![Value::Text("m2".into())]
            ]
        )
        .await
        .unwrap(),
        2
    );
    tx.commit().await.unwrap();
    assert_eq!(count(&db, "t").await, 1003);
    db.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cursors_stream_200k_rows_in_chunks() {
    let tmp = TempDb::new("cursor");
    let db = open(&tmp).await;
    db.execute(
        "CREATE TABLE big (id INTEGER PRIMARY KEY, label TEXT, at DATE)",
        vec![],
    )
    .await
    .unwrap();
    let n = timeout(
        LIMIT,
        db.execute(
            "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < $1)
             INSERT INTO big (id, label, at) SELECT x, 'row ' || x, '2024-01-01' FROM c",
            vec![Value::Int(200_000)],
        ),
    )
    .await
    .unwrap()
    .unwrap();
    assert_eq!(n, 200_000);

    let mut cursor = db
        .cursor(
            "SELECT id, label, at FROM big WHERE id > $1 ORDER BY id",
            vec![Value::Int(0)],
            5000,
        )
        .await
        .unwrap();
    assert_eq!(
        &cursor.columns()[..],
        &["id".to_string(), "label".to_string(), "at".to_string()]
    );
    assert_eq!(db.stats().open_cursors, 1);
    let (mut seen, mut chunks, mut sum) = (0i64, 0, 0i64);
    while let Some(chunk) = timeout(LIMIT, cursor.fetch()).await.unwrap().unwrap() {
        assert!(!chunk.rows.is_empty() && chunk.rows.len() <= 5000);
        chunks += 1;
        for row in &chunk.rows {
            seen += 1;
            let Value::Int(id) = row[0] else {
                panic!("{row:?}")
            };
            assert_eq!(id, seen);
            sum += id;
        }
        assert_eq!(
            chunk.rows[0][2],
            Value::Date(NaiveDate::from_ymd_opt(2024, 1, 1).unwrap())
        );
        // Writes go on while the cursor is open (its own connection and snapshot).
        if chunks == 3 {
            db.execute(
                "INSERT INTO big (id, label) VALUES (300000, 'late')",
                vec![],
            )
            .await
            .unwrap();
        }
    }
    assert_eq!(seen, 200_000);
    assert_eq!(chunks, 40);
    assert_eq!(sum, 200_000 * 200_001 / 2);
    assert!(cursor.fetch().await.unwrap().is_none());
    cursor.close().await;

    // Closing early stops the thread; the open-cursor count drops.
    let mut cursor = db.cursor("SELECT * FROM big", vec![], 100).await.unwrap();
    assert_eq!(cursor.fetch().await.unwrap().unwrap().rows.len(), 100);
    cursor.close().await;
    let stop = std::time::Instant::now();
    while db.stats().open_cursors != 0 {
        assert!(stop.elapsed() < LIMIT);
        tokio::time::sleep(Duration::from_millis(10)).await;
    }

    // Errors surface at open time.
    assert_eq!(
        db.cursor("SELECT * FROM nope", vec![], 10)
            .await
            .unwrap_err()
            .kind,
        ErrorKind::Programming
    );
    assert_eq!(
        db.cursor("SELECT $1", vec![], 10).await.unwrap_err().kind,
        ErrorKind::Interface
    );
    assert_eq!(
        db.cursor("SELECT 1", vec![], 0).await.unwrap_err().kind,
        ErrorKind::Interface
    );

    // A cursor over a writing statement runs on the writer.
    let mut cursor = db
        .cursor("DELETE FROM big WHERE id > 199990 RETURNING id", vec![], 4)
        .await
        .unwrap();
    let mut deleted = 0;
    while let Some(chunk) = cursor.fetch().await.unwrap() {
        deleted += chunk.rows.len();
    }
    assert_eq!(deleted, 11);
    assert_eq!(count(&db, "big").await, 199_990);

    // Inside a transaction: the cursor sees the transaction's rows and
    // interleaves with its writes.
    let tx = db.begin(None, false).await.unwrap();
    tx.execute("UPDATE big SET label = 'changed' WHERE id <= 10", vec![])
        .await
        .unwrap();
    let mut cursor = tx
        .cursor("SELECT id, label FROM big ORDER BY id", vec![], 1000)
        .await
        .unwrap();
    let first = cursor.fetch().await.unwrap().unwrap();
    assert_eq!(first.rows[0][1], Value::Text("changed".into()));
    tx.execute("DELETE FROM big WHERE id = 150000", vec![])
        .await
        .unwrap();
    let mut total = first.rows.len();
    while let Some(chunk) = cursor.fetch().await.unwrap() {
        total += chunk.rows.len();
    }
    assert!(total == 199_990 || total == 199_989, "{total}");
    // A cursor still open when the transaction ends is closed with it.
    let mut open_cursor = tx.cursor("SELECT id FROM big", vec![], 10).await.unwrap();
    assert!(open_cursor.fetch().await.unwrap().is_some());
    tx.commit().await.unwrap();
    assert_eq!(
        open_cursor.fetch().await.unwrap_err().kind,
        ErrorKind::Interface
    );
    assert_eq!(count(&db, "big").await, 199_989);
    drop(open_cursor);
    db.close().await;
}

#[tokio::test]
async fn cursors_work_in_memory() {
    let db = memory().await;
    db.execute("CREATE TABLE t (id INTEGER PRIMARY KEY)", vec![])
        .await
        .unwrap();
    db.execute(
        "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 2500) INSERT INTO t SELECT x FROM c",
        vec![],
    )
    .await
    .unwrap();
    let mut cursor = db
        .cursor("SELECT id FROM t ORDER BY id", vec![], 1000)
        .await
        .unwrap();
    let mut sizes = Vec::new();
    while let Some(chunk) = timeout(LIMIT, cursor.fetch()).await.unwrap().unwrap() {
        sizes.push(chunk.rows.len());
        // Other work interleaves with the held cursor.
        assert_eq!(count(&db, "t").await, 2500);
    }
    assert_eq!(sizes, [1000, 1000, 500]);
    // Dropping a cursor mid-way frees its statement.
    let mut cursor = db.cursor("SELECT id FROM t", vec![], 10).await.unwrap();
    cursor.fetch().await.unwrap();
    assert_eq!(db.stats().open_cursors, 1);
    drop(cursor);
    assert_eq!(count(&db, "t").await, 2500);
    assert_eq!(db.stats().open_cursors, 0);
}

const FOREVER: &str =
    "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c";

#[tokio::test]
async fn dropping_a_query_interrupts_it() {
    // In memory everything runs on one thread: without the interrupt the
    // next query would wait forever.
    let db = memory().await;
    assert!(
        timeout(Duration::from_millis(200), db.query(FOREVER, vec![]))
            .await
            .is_err()
    );
    let rows = timeout(LIMIT, db.query("SELECT 1", vec![]))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(rows.rows[0][0], Value::Int(1));
    assert_eq!(db.stats().interrupted, 1);

    // A file database with one reader, and a cancelled long write.
    let tmp = TempDb::new("cancel");
    let db = SqliteDatabase::connect(
        SqliteConfig::from_url(&tmp.url("?readers=1&busy_timeout=100")).unwrap(),
    )
    .await
    .unwrap();
    assert_eq!(db.stats().readers, 1);
    db.execute("CREATE TABLE t (x INTEGER)", vec![])
        .await
        .unwrap();
    assert!(
        timeout(Duration::from_millis(200), db.query(FOREVER, vec![]))
            .await
            .is_err()
    );
    assert_eq!(
        int(&timeout(LIMIT, db.query("SELECT 2", vec![]))
            .await
            .unwrap()
            .unwrap()),
        2
    );
    let write = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) INSERT INTO t SELECT x FROM c";
    assert!(
        timeout(Duration::from_millis(200), db.execute(write, vec![]))
            .await
            .is_err()
    );
    timeout(LIMIT, db.execute("INSERT INTO t VALUES (1)", vec![]))
        .await
        .unwrap()
        .unwrap();
    // The interrupted insert was rolled back as a whole.
    assert_eq!(count(&db, "t").await, 1);
    assert_eq!(db.stats().interrupted, 2);

    // Interrupting a statement inside a transaction ends the transaction.
    let tx = db.begin(None, false).await.unwrap();
    tx.execute("INSERT INTO t VALUES (2)", vec![])
        .await
        .unwrap();
    assert!(
        timeout(Duration::from_millis(200), tx.execute(write, vec![]))
            .await
            .is_err()
    );
    let err = timeout(LIMIT, tx.execute("INSERT INTO t VALUES (3)", vec![]))
        .await
        .unwrap()
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Operational);
    tx.rollback().await.unwrap();
    timeout(LIMIT, db.execute("INSERT INTO t VALUES (4)", vec![]))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(count(&db, "t").await, 2);
    db.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_tasks_share_one_database() {
    let tmp = TempDb::new("concurrent");
    let db = open(&tmp).await;
    db.execute(
        "CREATE TABLE t (id INTEGER PRIMARY KEY, who INTEGER)",
        vec![],
    )
    .await
    .unwrap();
    let mut tasks = Vec::new();
    for who in 0..8 {
        let db = db.clone();
        tasks.push(tokio::spawn(async move {
            for _ in 0..50 {
                db.execute("INSERT INTO t (who) VALUES ($1)", vec![Value::Int(who)])
                    .await
                    .unwrap();
                db.query(
                    "SELECT count(*) FROM t WHERE who = $1",
                    vec![Value::Int(who)],
                )
                .await
                .unwrap();
            }
        }));
    }
    for task in tasks {
        timeout(LIMIT, task).await.unwrap().unwrap();
    }
    assert_eq!(count(&db, "t").await, 400);
    // Queue counts drop just after each answer is sent.
    let stop = std::time::Instant::now();
    let stats = loop {
        let stats = db.stats();
        if (stats.writer_queue, stats.reader_queue, stats.open_cursors) == (0, 0, 0)
            || stop.elapsed() > LIMIT
        {
            break stats;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    };
    assert_eq!(
        (stats.writer_queue, stats.reader_queue, stats.open_cursors),
        (0, 0, 0)
    );
    assert!(stats.statements >= 801);
    db.close().await;
    assert!(db.stats().closed);
    assert_eq!(
        db.query("SELECT 1", vec![]).await.unwrap_err().kind,
        ErrorKind::Interface
    );
    db.close().await;

    // The data is on disk: reopen and read.
    let db = open(&tmp).await;
    assert_eq!(count(&db, "t").await, 400);
    db.close().await;
}

#[tokio::test]
async fn bad_paths_fail_to_connect() {
    let config = SqliteConfig::from_url("sqlite:////nonexistent-dir-hyperdjango/x/y.db").unwrap();
    let err = SqliteDatabase::connect(config).await.err().unwrap();
    assert_eq!(err.kind, ErrorKind::Operational);
    assert!(err.message.contains("y.db"), "{}", err.message);
}

#[tokio::test]
async fn read_only_transactions_in_memory_use_the_writer_under_query_only() {
    let db = memory().await;
    db.execute("CREATE TABLE t (x INTEGER)", vec![])
        .await
        .unwrap();
    db.execute("INSERT INTO t VALUES (1)", vec![])
        .await
        .unwrap();
    let ro = db.begin(None, true).await.unwrap();
    assert_eq!(
        int(&ro.query("SELECT count(*) FROM t", vec![]).await.unwrap()),
        1
    );
    let err = ro
        .execute("INSERT INTO t VALUES (2)", vec![])
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Operational, "{err}");
    assert!(err.message.contains("readonly"), "{}", err.message);
    ro.commit().await.unwrap();
    // query_only is off again for ordinary writes.
    db.execute("INSERT INTO t VALUES (3)", vec![])
        .await
        .unwrap();
    assert_eq!(count(&db, "t").await, 2);
    // And read-write transactions work after it.
    let tx = db.begin(None, false).await.unwrap();
    tx.execute("INSERT INTO t VALUES (4)", vec![])
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(count(&db, "t").await, 3);
}

/// Result column sets are cached per statement: a table made again with other columns
/// under the same SQL is read with its new names and declared types, on every connection.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_statement_run_again_reads_the_columns_the_schema_now_declares() {
    let tmp = TempDb::new("schema");
    let db = open(&tmp).await;
    let day = NaiveDate::from_ymd_opt(2024, 1, 2).unwrap();
    db.execute("CREATE TABLE s (a DATE)", vec![]).await.unwrap();
    db.execute("INSERT INTO s VALUES ('2024-01-02')", vec![])
        .await
        .unwrap();
    for _ in 0..4 {
        let rows = db.query("SELECT * FROM s", vec![]).await.unwrap();
        assert_eq!(&rows.columns[..], ["a".to_string()]);
        assert_eq!(rows.rows, vec![vec![Value::Date(day)]]);
    }
    db.execute("DROP TABLE s", vec![]).await.unwrap();
    db.execute("CREATE TABLE s (a TEXT, b INTEGER)", vec![])
        .await
        .unwrap();
    db.execute("INSERT INTO s VALUES ('2024-01-02', 7)", vec![])
        .await
        .unwrap();
    for _ in 0..4 {
        let rows = db.query("SELECT * FROM s", vec![]).await.unwrap();
        assert_eq!(&rows.columns[..], ["a".to_string(), "b".to_string()]);
        assert_eq!(
            rows.rows,
            vec![vec![Value::Text("2024-01-02".into()), Value::Int(7)]]
        );
    }
    db.close().await;
}

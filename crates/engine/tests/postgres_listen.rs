//! LISTEN/NOTIFY against a real server (`HYPERDJANGO_PG_URL`, default
//! `postgres://postgres@127.0.0.1:5432/test`). When the server cannot be
//! reached the tests print why and pass, unless `HYPERDJANGO_REQUIRE_PG` is
//! set. Channel names are unique per test; every wait is bounded.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use hyperdjango_engine::db::postgres::{
    ListenerEvent, Notification, PgConfig, PgDatabase, MAX_PAYLOAD_BYTES,
};
use hyperdjango_engine::db::{ErrorKind, Value};
use tokio::sync::mpsc::Receiver;
use tokio::time::timeout;

const LIMIT: Duration = Duration::from_secs(20);

fn url(options: &str) -> String {
    let base = std::env::var("HYPERDJANGO_PG_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
    let sep = if base.contains('?') { '&' } else { '?' };
    if options.is_empty() {
        base
    } else {
        format!("{base}{sep}{options}")
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
        other => {
            let why = match other {
                Ok(Err(e)) => e.to_string(),
                _ => "connect timed out".into(),
            };
            if std::env::var_os("HYPERDJANGO_REQUIRE_PG").is_some() {
                panic!("PostgreSQL is required but unreachable: {why}");
            }
            eprintln!("skipping: PostgreSQL unreachable: {why}");
            None
        }
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

async fn next(rx: &mut Receiver<ListenerEvent>) -> ListenerEvent {
    timeout(LIMIT, rx.recv())
        .await
        .expect("no event within the limit")
        .expect("the listener ended")
}

async fn next_notification(rx: &mut Receiver<ListenerEvent>) -> Notification {
    match next(rx).await {
        ListenerEvent::Notification(n) => n,
        other => panic!("expected a notification, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notifications_arrive_in_order_with_their_payloads() {
    let db = db!("max_size=2");
    let (listener, mut rx) = db.listener(16).await.unwrap();
    let (a, b) = (unique("hdj_a"), unique("Hdj Mixed \"quoted\""));
    listener.listen(&a).await.unwrap();
    listener.listen(&b).await.unwrap();
    listener.listen(&a).await.unwrap(); // idempotent
    assert_eq!(listener.channels().len(), 2);

    // sequential sends from one task: the server keeps their order
    for i in 0..200 {
        let channel = if i % 3 == 0 { &b } else { &a };
        db.notify(channel, &format!("m{i}")).await.unwrap();
    }
    let my_pid = db.query("SELECT pg_backend_pid()", vec![]).await.unwrap();
    for i in 0..200 {
        let n = next_notification(&mut rx).await;
        assert_eq!(n.payload, format!("m{i}"));
        assert_eq!(n.channel, if i % 3 == 0 { b.clone() } else { a.clone() });
        if i == 199 {
            // one pool connection did all the sending (max_size=2 but sequential)
            assert!(matches!(my_pid.rows[0][0], Value::Int(_)));
            assert!(n.process_id > 0);
        }
    }
    // 200 events through a queue of 16: the reader waited for room, and said so
    assert!(listener.stats().stalls > 0, "{:?}", listener.stats());
    assert_eq!(listener.stats().delivered, 200);

    // a notification in a transaction is delivered at commit, not before
    let tx = db.begin(None, false).await.unwrap();
    tx.query(
        "SELECT pg_notify($1, 'in-tx')",
        vec![Value::Text(a.clone())],
    )
    .await
    .unwrap();
    assert!(timeout(Duration::from_millis(200), rx.recv())
        .await
        .is_err());
    tx.commit().await.unwrap();
    assert_eq!(next_notification(&mut rx).await.payload, "in-tx");

    listener.close().await;
    assert!(
        timeout(LIMIT, rx.recv()).await.unwrap().is_none(),
        "the receiver ends after close"
    );
    assert!(listener.listen(&a).await.is_err());
    db.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn payload_limit() {
    let db = db!("max_size=1");
    let (listener, mut rx) = db.listener(4).await.unwrap();
    let ch = unique("hdj_big");
    listener.listen(&ch).await.unwrap();
    let biggest = "é".repeat((MAX_PAYLOAD_BYTES - 1) / 2) + "x"; // 7999 bytes, multi-byte text
    assert_eq!(biggest.len(), MAX_PAYLOAD_BYTES - 1);
    db.notify(&ch, &biggest).await.unwrap();
    assert_eq!(next_notification(&mut rx).await.payload, biggest);

    let too_long = "x".repeat(MAX_PAYLOAD_BYTES);
    let err = db.notify(&ch, &too_long).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::Data, "{err}");
    assert!(err.message.contains("8000"), "{err}");
    assert!(err.message.contains("too long"), "{err}");

    for bad in ["", &"c".repeat(64)] {
        assert_eq!(
            db.notify(bad, "x").await.unwrap_err().kind,
            ErrorKind::Interface
        );
        assert_eq!(
            listener.listen(bad).await.unwrap_err().kind,
            ErrorKind::Interface
        );
    }
    // the pool connection and the listener are fine after the errors
    db.notify(&ch, "after").await.unwrap();
    assert_eq!(next_notification(&mut rx).await.payload, "after");
    listener.close().await;
    db.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unlisten_stops_delivery() {
    let db = db!("max_size=1");
    let (listener, mut rx) = db.listener(64).await.unwrap();
    let (a, b) = (unique("hdj_u"), unique("hdj_keep"));
    listener.listen(&a).await.unwrap();
    listener.listen(&b).await.unwrap();
    db.notify(&a, "1").await.unwrap();
    assert_eq!(next_notification(&mut rx).await.payload, "1");
    listener.unlisten(&a).await.unwrap();
    listener.unlisten(&a).await.unwrap(); // idempotent
    db.notify(&a, "2").await.unwrap();
    db.notify(&b, "3").await.unwrap();
    let n = next_notification(&mut rx).await;
    assert_eq!((n.channel.as_str(), n.payload.as_str()), (b.as_str(), "3"));
    assert!(timeout(Duration::from_millis(200), rx.recv())
        .await
        .is_err());
    assert_eq!(listener.channels(), vec![b.clone()]);
    listener.close().await;
    db.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_listener_survives_pg_terminate_backend() {
    let app = unique("hdj_listen_kill");
    let db = db!(&format!("max_size=2&application_name={app}"));
    let monitor = db!("max_size=1");
    let (listener, mut rx) = db.listener(64).await.unwrap();
    let ch = unique("hdj_k");
    listener.listen(&ch).await.unwrap();
    db.notify(&ch, "before").await.unwrap();
    assert_eq!(next_notification(&mut rx).await.payload, "before");

    // the listener's connection has the pool's application_name: kill every session of the
    // app (the pool reconnects on its own)
    let killed = monitor
        .query(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = $1",
            vec![Value::Text(app.clone())],
        )
        .await
        .unwrap();
    assert!(
        matches!(killed.rows[0][0], Value::Int(n) if n >= 1),
        "{killed:?}"
    );

    match next(&mut rx).await {
        ListenerEvent::Reconnected { reason, .. } => assert!(!reason.is_empty()),
        other => panic!("expected Reconnected, got {other:?}"),
    }
    assert_eq!(listener.stats().reconnects, 1);
    assert!(listener.is_connected());
    assert_eq!(listener.channels(), vec![ch.clone()]);

    // the pool may need one try to notice its own dead connection
    let mut sent = false;
    for _ in 0..3 {
        if db.notify(&ch, "after").await.is_ok() {
            sent = true;
            break;
        }
    }
    assert!(sent);
    assert_eq!(next_notification(&mut rx).await.payload, "after");

    // a channel added after the reconnect works as well
    let ch2 = unique("hdj_k2");
    listener.listen(&ch2).await.unwrap();
    db.notify(&ch2, "second").await.unwrap();
    assert_eq!(next_notification(&mut rx).await.payload, "second");
    listener.close().await;
    db.close().await;
    monitor.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropping_the_receiver_ends_the_listener() {
    let db = db!("max_size=1");
    let (listener, rx) = db.listener(1).await.unwrap();
    let ch = unique("hdj_drop");
    listener.listen(&ch).await.unwrap();
    drop(rx);
    db.notify(&ch, "x").await.unwrap();
    timeout(LIMIT, listener.close())
        .await
        .expect("close returns");
    db.close().await;
}

#[tokio::test]
async fn sqlite_refuses_listen_and_notify() {
    let db = hyperdjango_engine::db::Database::connect("sqlite://:memory:")
        .await
        .unwrap();
    let err = db.notify("c", "x").await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::Interface);
    assert!(
        err.message
            .contains("LISTEN/NOTIFY is a PostgreSQL feature"),
        "{err}"
    );
    assert_eq!(db.listener(8).await.unwrap_err().kind, ErrorKind::Interface);
    db.close().await;
}

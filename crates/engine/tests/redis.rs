//! The Redis subscriber and pipelined commands against a real server (`REDIS_URL`,
//! default `redis://127.0.0.1:6379/0`). When the server cannot be reached the tests
//! print why and pass, unless `HYPERDJANGO_REQUIRE_REDIS` is set. Channel and key
//! names are unique per test; every wait is bounded.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use std::sync::Arc;

use hyperdjango_engine::bridge::{LoopReceiver, LoopWaker};
use hyperdjango_engine::redis::{RedisCommands, RedisSubscriber, RedisValue, SubscriberEvent};
use tokio::time::timeout;

const LIMIT: Duration = Duration::from_secs(20);

fn url() -> String {
    std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379/0".into())
}

static COUNTER: AtomicUsize = AtomicUsize::new(0);

fn unique(prefix: &str) -> String {
    format!(
        "{prefix}:{}:{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

fn cmd(parts: &[&str]) -> Vec<Vec<u8>> {
    parts.iter().map(|p| p.as_bytes().to_vec()).collect()
}

/// A command connection, or None (the test passes) when Redis is not there and not required.
async fn commands(name: &str) -> Option<RedisCommands> {
    let commands = RedisCommands::new(&url(), name).expect("the URL parses");
    match timeout(LIMIT, commands.pipeline(&[cmd(&["PING"])])).await {
        Ok(Ok(_)) => Some(commands),
        other => {
            if std::env::var_os("HYPERDJANGO_REQUIRE_REDIS").is_some() {
                panic!("Redis is required but unreachable: {other:?}");
            }
            eprintln!("skipping: Redis unreachable: {other:?}");
            None
        }
    }
}

fn waker() -> Arc<LoopWaker> {
    Arc::new(LoopWaker::new().unwrap())
}

async fn next(rx: &mut LoopReceiver<SubscriberEvent>) -> SubscriberEvent {
    timeout(LIMIT, rx.recv())
        .await
        .expect("no event within the limit")
        .expect("the subscriber ended")
}

/// `CLIENT LIST` as text (a verbatim string in RESP3).
async fn client_list(commands: &RedisCommands) -> String {
    let reply = commands
        .pipeline(&[cmd(&["CLIENT", "LIST"])])
        .await
        .unwrap();
    match &reply[0] {
        RedisValue::VerbatimString { text, .. } => text.clone(),
        RedisValue::BulkString(bytes) => String::from_utf8_lossy(bytes).into_owned(),
        other => panic!("{other:?}"),
    }
}

fn publish(channel: &str, payload: &str) -> Vec<Vec<u8>> {
    cmd(&["PUBLISH", channel, payload])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_arrive_in_order_until_unsubscribed() {
    let name = unique("hd-sub");
    let Some(commands) = commands(&unique("hd-cmd")).await else {
        return;
    };
    let (subscriber, mut rx) = RedisSubscriber::connect(&url(), &name, 1000, waker())
        .await
        .unwrap();
    let (a, b) = (unique("a"), unique("b"));
    subscriber.subscribe(&a).await.unwrap();
    subscriber.subscribe(&b).await.unwrap();
    subscriber.subscribe(&a).await.unwrap(); // idempotent
    assert_eq!(subscriber.channels().len(), 2);

    let sent: Vec<_> = (0..100)
        .map(|i| publish(if i % 3 == 0 { &b } else { &a }, &format!("m{i}")))
        .collect();
    commands.pipeline(&sent).await.unwrap();
    for i in 0..100 {
        let expected_channel = if i % 3 == 0 { &b } else { &a };
        assert_eq!(
            next(&mut rx).await,
            SubscriberEvent::Message {
                channel: expected_channel.clone(),
                payload: format!("m{i}").into_bytes()
            }
        );
    }
    assert_eq!(subscriber.stats().delivered, 100);

    // The connection carries its name, for CLIENT LIST.
    assert!(client_list(&commands)
        .await
        .contains(&format!("name={name} ")));

    subscriber.unsubscribe(&a).await.unwrap();
    commands
        .pipeline(&[publish(&a, "gone"), publish(&b, "kept")])
        .await
        .unwrap();
    assert_eq!(
        next(&mut rx).await,
        SubscriberEvent::Message {
            channel: b.clone(),
            payload: b"kept".to_vec()
        }
    );
    subscriber.close().await;
    assert!(!subscriber.is_connected());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_queue_drops_counts_and_reports_the_gap_in_place() {
    let Some(commands) = commands(&unique("hd-cmd")).await else {
        return;
    };
    let (subscriber, mut rx) = RedisSubscriber::connect(&url(), &unique("hd-sub"), 4, waker())
        .await
        .unwrap();
    let channel = unique("full");
    subscriber.subscribe(&channel).await.unwrap();
    let sent: Vec<_> = (0..50)
        .map(|i| publish(&channel, &format!("{i}")))
        .collect();
    commands.pipeline(&sent).await.unwrap();
    // Nothing is read until all 51 reached the subscriber: 4 fit, the rest are dropped.
    commands
        .pipeline(&[publish(&channel, "marker")])
        .await
        .unwrap();
    timeout(LIMIT, async {
        while subscriber.stats().dropped < 47 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await
    .expect("the drops were counted");
    let mut events = Vec::new();
    for _ in 0..4 {
        events.push(next(&mut rx).await);
    }
    let after_room = next(&mut rx).await;
    assert!(
        after_room == SubscriberEvent::Overflow { dropped: 47 },
        "{after_room:?}"
    );
    let first: Vec<_> = (0..4)
        .map(|i| SubscriberEvent::Message {
            channel: channel.clone(),
            payload: format!("{i}").into_bytes(),
        })
        .collect();
    assert_eq!(events, first);
    assert_eq!(subscriber.stats().delivered, 4);
    assert_eq!(subscriber.stats().dropped, 47);
    // Later messages come after the report.
    commands
        .pipeline(&[publish(&channel, "next")])
        .await
        .unwrap();
    assert_eq!(
        next(&mut rx).await,
        SubscriberEvent::Message {
            channel: channel.clone(),
            payload: b"next".to_vec()
        }
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_connection_is_reported_and_subscribed_again() {
    let Some(commands) = commands(&unique("hd-cmd")).await else {
        return;
    };
    let name = unique("hd-killed");
    let (subscriber, mut rx) = RedisSubscriber::connect(&url(), &name, 100, waker())
        .await
        .unwrap();
    let channel = unique("kill");
    subscriber.subscribe(&channel).await.unwrap();
    // Ours only, by id: other clients may share the server.
    let list = client_list(&commands).await;
    let line = list
        .lines()
        .find(|line| line.contains(&format!(" name={name} ")))
        .expect("the subscriber is listed");
    let id = line
        .split(' ')
        .find_map(|field| field.strip_prefix("id="))
        .unwrap();
    let killed = commands
        .pipeline(&[cmd(&["CLIENT", "KILL", "ID", id])])
        .await
        .unwrap();
    assert_eq!(killed, vec![RedisValue::Int(1)]);
    assert!(matches!(next(&mut rx).await, SubscriberEvent::Lost { .. }));
    assert!(matches!(
        next(&mut rx).await,
        SubscriberEvent::Reconnected { .. }
    ));
    assert_eq!(subscriber.stats().reconnects, 1);
    commands
        .pipeline(&[publish(&channel, "after")])
        .await
        .unwrap();
    assert_eq!(
        next(&mut rx).await,
        SubscriberEvent::Message {
            channel,
            payload: b"after".to_vec()
        }
    );
    assert!(subscriber.is_connected());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pipelines_answer_per_command_and_run_loaded_scripts() {
    let Some(commands) = commands(&unique("hd-cmd")).await else {
        return;
    };
    let key = unique("hd-key");
    let sha = commands
        .load_script("return redis.call('INCR', KEYS[1])")
        .await
        .unwrap();
    let replies = commands
        .pipeline(&[
            cmd(&["SET", &key, "text"]),
            cmd(&["HSET", &key, "f", "v"]), // WRONGTYPE: fails alone
            cmd(&["DEL", &key]),
            cmd(&["EVALSHA", &sha, "1", &key]),
        ])
        .await
        .unwrap();
    assert_eq!(replies[0], RedisValue::Okay);
    assert!(matches!(&replies[1], RedisValue::ServerError(e) if e.code() == "WRONGTYPE"));
    assert_eq!(replies[2], RedisValue::Int(1));
    assert_eq!(replies[3], RedisValue::Int(1));
    commands.pipeline(&[cmd(&["DEL", &key])]).await.unwrap();
}

#[tokio::test]
async fn an_unreachable_server_is_said_to_be_unreachable() {
    let commands = RedisCommands::new("redis://127.0.0.1:1/0", "hd-nowhere").unwrap();
    let err = commands.pipeline(&[cmd(&["PING"])]).await.unwrap_err();
    assert!(err.unreachable, "{err:?}");
    let Err(err) =
        RedisSubscriber::connect("redis://127.0.0.1:1/0", "hd-nowhere", 1, waker()).await
    else {
        panic!("connected to nothing")
    };
    assert!(err.unreachable, "{err:?}");
    let err = RedisCommands::new("http://example/", "x").unwrap_err();
    assert!(!err.unreachable && err.message.contains("invalid Redis URL"));
}

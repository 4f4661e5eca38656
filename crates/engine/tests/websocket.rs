//! WebSocket sessions end to end: the server on 127.0.0.1:0, tokio-tungstenite
//! as the client, every wait bounded.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;

use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use http::StatusCode;
use hyperdjango_engine::http::{Handler, HttpRequest, Reply, Server, ServerConfig};
use hyperdjango_engine::router::{ParamValue, RouteMatch, Router, WEBSOCKET};
use hyperdjango_engine::websocket::{Incoming, SendError, Shared, Wakeups, WsConfig};
use tokio::time::timeout;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{connect_async, connect_async_with_config};

const LIMIT: Duration = Duration::from_secs(5);

const ECHO: usize = 0;
const FLOOD: usize = 1;
const ROOM: usize = 2;
const DEFERRED: usize = 3;

struct App;

impl Handler for App {
    async fn handle(&self, mut request: Box<HttpRequest>) -> Reply {
        let RouteMatch::Found { route_id, params } = &request.route else {
            return Reply::full(StatusCode::NOT_FOUND, "");
        };
        let Some(upgrade) = request.upgrade.take() else {
            return Reply::full(StatusCode::OK, "plain http");
        };
        if request.headers.contains_key("x-reject") {
            return Reply::full(StatusCode::FORBIDDEN, "no");
        }
        let protocol = upgrade.protocols().iter().find(|p| *p == "chat").cloned();
        let (reply, conn) = upgrade.accept(protocol.as_deref()).unwrap();
        let route_id = *route_id;
        let room = match params.first() {
            Some((_, ParamValue::Str(s))) => s.clone(),
            _ => String::new(),
        };
        tokio::spawn(async move {
            match route_id {
                ECHO => {
                    while let Some(m) = conn.recv().await {
                        match m {
                            Incoming::Text(t) if t == "close-me" => {
                                conn.close(4000, "asked".into())
                            }
                            Incoming::Text(t) => drop(conn.send_text(&t)),
                            Incoming::Binary(b) => drop(conn.send_binary(&b)),
                            Incoming::Close { .. } => break,
                        }
                    }
                }
                FLOOD => {
                    let chunk = Bytes::from(vec![7u8; 64 * 1024]);
                    for _ in 0..100_000 {
                        match conn.send_binary(&chunk) {
                            Ok(()) => tokio::task::yield_now().await,
                            Err(e) => {
                                assert_eq!(e, SendError::SlowConsumer);
                                break;
                            }
                        }
                    }
                    while conn.recv().await.is_some() {}
                }
                DEFERRED => {
                    // Each message comes back twice, its session's wake-up left to a
                    // `Wakeups` that is woken ("wake") or merely dropped (anything else).
                    while let Some(Incoming::Text(t)) = conn.recv().await {
                        let mut wakeups = Wakeups::default();
                        for _ in 0..2 {
                            conn.send_deferred(Shared::text(&t), &mut wakeups).unwrap();
                        }
                        if t == "wake" {
                            wakeups.wake();
                        }
                    }
                }
                _ => {
                    conn.send_text(&format!("room {room}")).unwrap();
                    while conn.recv().await.is_some() {}
                }
            }
        });
        reply
    }
}

async fn start(ws: WsConfig) -> Server {
    start_with(ServerConfig {
        websocket: ws,
        ..ServerConfig::default()
    })
    .await
}

async fn start_with(config: ServerConfig) -> Server {
    let mut r = Router::new(true);
    assert_eq!(r.add("/echo", &[WEBSOCKET], None).unwrap(), ECHO);
    assert_eq!(r.add("/flood", &[WEBSOCKET], None).unwrap(), FLOOD);
    assert_eq!(
        r.add("/room/{name}", &[WEBSOCKET, "GET"], None).unwrap(),
        ROOM
    );
    assert_eq!(r.add("/deferred", &[WEBSOCKET], None).unwrap(), DEFERRED);
    let config = ServerConfig {
        port: 0,
        reuse_port: false,
        ..config
    };
    Server::start(config, Arc::new(r), Arc::new(App))
        .await
        .unwrap()
}

fn url(server: &Server, path: &str) -> String {
    format!("ws://{}{path}", server.local_addr())
}

async fn next(
    ws: &mut (impl StreamExt<Item = Result<Message, tokio_tungstenite::tungstenite::Error>> + Unpin),
) -> Message {
    timeout(LIMIT, ws.next())
        .await
        .expect("a message in time")
        .expect("not ended")
        .expect("no error")
}

#[tokio::test]
async fn text_and_binary_messages_echo() {
    let server = start(WsConfig::default()).await;
    let (mut ws, _) = connect_async(url(&server, "/echo")).await.unwrap();
    ws.send(Message::text("hello")).await.unwrap();
    assert_eq!(next(&mut ws).await, Message::text("hello"));
    ws.send(Message::binary(vec![0u8, 1, 2, 255]))
        .await
        .unwrap();
    assert_eq!(next(&mut ws).await, Message::binary(vec![0u8, 1, 2, 255]));
    let big = "x".repeat(900 * 1024);
    ws.send(Message::text(big.clone())).await.unwrap();
    assert_eq!(next(&mut ws).await, Message::text(big));
    ws.close(None).await.unwrap();
    assert_eq!(
        server.stats().ws_messages_received.load(Ordering::Relaxed),
        3
    );
}

/// A deferred send's wake-up is never lost: the session that waits for it is woken
/// when the `Wakeups` are, or when they are dropped unwoken (well before the keepalive
/// tick, 10 s with the default config, would find the messages).
#[tokio::test]
async fn deferred_sends_reach_the_peer_woken_or_dropped() {
    let server = start(WsConfig::default()).await;
    let (mut ws, _) = connect_async(url(&server, "/deferred")).await.unwrap();
    for word in ["wake", "drop", "wake", "drop"] {
        ws.send(Message::text(word)).await.unwrap();
        assert_eq!(next(&mut ws).await, Message::text(word));
        assert_eq!(next(&mut ws).await, Message::text(word));
    }
    ws.close(None).await.unwrap();
}

#[tokio::test]
async fn a_ping_is_answered_with_a_pong() {
    let server = start(WsConfig::default()).await;
    let (mut ws, _) = connect_async(url(&server, "/echo")).await.unwrap();
    ws.send(Message::Ping(Bytes::from_static(b"are you there")))
        .await
        .unwrap();
    assert_eq!(
        next(&mut ws).await,
        Message::Pong(Bytes::from_static(b"are you there"))
    );
}

#[tokio::test]
async fn a_handler_close_sends_its_code() {
    let server = start(WsConfig::default()).await;
    let (mut ws, _) = connect_async(url(&server, "/echo")).await.unwrap();
    ws.send(Message::text("close-me")).await.unwrap();
    match next(&mut ws).await {
        Message::Close(Some(frame)) => {
            assert_eq!(frame.code, CloseCode::from(4000));
            assert_eq!(frame.reason.as_str(), "asked");
        }
        other => panic!("expected a close frame, got {other:?}"),
    }
}

#[tokio::test]
async fn an_oversized_message_closes_with_1009() {
    let server = start(WsConfig {
        max_message_size: 1000,
        ..WsConfig::default()
    })
    .await;
    let (mut ws, _) = connect_async(url(&server, "/echo")).await.unwrap();
    ws.send(Message::binary(vec![1u8; 2000])).await.unwrap();
    match next(&mut ws).await {
        Message::Close(Some(frame)) => assert_eq!(frame.code, CloseCode::Size),
        other => panic!("expected 1009, got {other:?}"),
    }
    assert_eq!(server.stats().ws_too_large.load(Ordering::Relaxed), 1);
}

#[tokio::test]
async fn a_consumer_that_does_not_read_is_closed_with_1013() {
    let server = start(WsConfig {
        send_queue: 8,
        ..WsConfig::default()
    })
    .await;
    let (mut ws, _) = connect_async(url(&server, "/flood")).await.unwrap();
    let deadline = tokio::time::Instant::now() + LIMIT;
    while server.stats().ws_slow_consumers.load(Ordering::Relaxed) == 0 {
        assert!(tokio::time::Instant::now() < deadline, "no 1013 in time");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // Reading now drains what was in flight, then the close frame.
    loop {
        match timeout(LIMIT, ws.next()).await.expect("in time") {
            Some(Ok(Message::Close(Some(frame)))) => {
                assert_eq!(frame.code, CloseCode::Again);
                break;
            }
            Some(Ok(_)) => continue,
            other => panic!("expected 1013, got {other:?}"),
        }
    }
}

#[tokio::test]
async fn a_silent_peer_is_closed_as_dead() {
    let config = WsConfig {
        ping_interval: Duration::from_millis(100),
        ping_timeout: Duration::from_millis(200),
        ..WsConfig::default()
    };
    let server = start(config).await;
    // A raw client that completes the handshake and then never answers pings.
    let (ws, _) = connect_async(url(&server, "/echo")).await.unwrap();
    let deadline = tokio::time::Instant::now() + LIMIT;
    while server.stats().ws_dead_peers.load(Ordering::Relaxed) == 0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the dead peer was not noticed"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    drop(ws);
}

#[tokio::test]
async fn a_peer_that_answers_pings_stays_connected() {
    let config = WsConfig {
        ping_interval: Duration::from_millis(100),
        ping_timeout: Duration::from_millis(400),
        ..WsConfig::default()
    };
    let server = start(config).await;
    let (mut ws, _) = connect_async(url(&server, "/echo")).await.unwrap();
    // Reading answers the server's pings (tungstenite replies on read); several
    // ping rounds pass, and a busy machine still answers within the timeout.
    let quiet = timeout(Duration::from_millis(1200), async {
        loop {
            match ws.next().await {
                Some(Ok(Message::Ping(_))) => continue,
                other => return other,
            }
        }
    })
    .await;
    assert!(
        quiet.is_err(),
        "the connection should have stayed open: {quiet:?}"
    );
    assert_eq!(server.stats().ws_dead_peers.load(Ordering::Relaxed), 0);
    ws.send(Message::text("still here")).await.unwrap();
    loop {
        match next(&mut ws).await {
            Message::Ping(_) => continue,
            m => break assert_eq!(m, Message::text("still here")),
        }
    }
}

#[tokio::test]
async fn subprotocols_are_negotiated_among_those_offered() {
    let server = start(WsConfig::default()).await;
    let mut request = url(&server, "/echo").into_client_request().unwrap();
    request
        .headers_mut()
        .insert("sec-websocket-protocol", "other, chat".parse().unwrap());
    let (_, response) = connect_async(request).await.unwrap();
    assert_eq!(response.headers()["sec-websocket-protocol"], "chat");
}

#[tokio::test]
async fn a_handler_can_reject_the_upgrade() {
    let server = start(WsConfig::default()).await;
    let mut request = url(&server, "/echo").into_client_request().unwrap();
    request
        .headers_mut()
        .insert("x-reject", "1".parse().unwrap());
    match connect_async(request).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            assert_eq!(response.status(), 403)
        }
        other => panic!("expected 403, got {:?}", other.map(|(_, r)| r.status())),
    }
}

#[tokio::test]
async fn an_unknown_path_is_404_and_plain_http_still_works() {
    let server = start(WsConfig::default()).await;
    match connect_async(url(&server, "/nowhere")).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            assert_eq!(response.status(), 404)
        }
        other => panic!("expected 404, got {:?}", other.map(|(_, r)| r.status())),
    }
    let (mut ws, _) = connect_async(url(&server, "/room/lobby")).await.unwrap();
    assert_eq!(next(&mut ws).await, Message::text("room lobby"));
}

#[tokio::test]
async fn fragmented_messages_are_reassembled() {
    use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
    let server = start(WsConfig::default()).await;
    // One text message in two frames, the split inside a multi-byte character.
    let (mut ws, _) = connect_async_with_config(
        url(&server, "/echo"),
        Some(WebSocketConfig::default()),
        false,
    )
    .await
    .unwrap();
    let text = format!("{}é{}", "a".repeat(999), "fragment ".repeat(500));
    ws.send(Message::Frame(
        tokio_tungstenite::tungstenite::protocol::frame::Frame::message(
            text.as_bytes()[..1000].to_vec(),
            tokio_tungstenite::tungstenite::protocol::frame::coding::OpCode::Data(
                tokio_tungstenite::tungstenite::protocol::frame::coding::Data::Text,
            ),
            false,
        ),
    ))
    .await
    .unwrap();
    ws.send(Message::Frame(
        tokio_tungstenite::tungstenite::protocol::frame::Frame::message(
            text.as_bytes()[1000..].to_vec(),
            tokio_tungstenite::tungstenite::protocol::frame::coding::OpCode::Data(
                tokio_tungstenite::tungstenite::protocol::frame::coding::Data::Continue,
            ),
            true,
        ),
    ))
    .await
    .unwrap();
    assert_eq!(next(&mut ws).await, Message::text(text));
}

#[tokio::test]
async fn an_abrupt_disconnect_reaches_the_handler_as_1006() {
    let server = start(WsConfig::default()).await;
    let (ws, _) = connect_async(url(&server, "/echo")).await.unwrap();
    drop(ws); // no close frame: the TCP connection just ends
    let deadline = tokio::time::Instant::now() + LIMIT;
    while server.stats().ws_active.load(Ordering::Relaxed) != 0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the session did not end"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let _ = Poll::<()>::Pending;
}

#[tokio::test]
async fn graceful_shutdown_closes_sessions_with_1001() {
    let server = start(WsConfig::default()).await;
    let (mut ws, _) = connect_async(url(&server, "/echo")).await.unwrap();
    let closing = tokio::spawn(async move {
        match next(&mut ws).await {
            Message::Close(Some(frame)) => frame.code,
            other => panic!("expected a close frame, got {other:?}"),
        }
    });
    assert!(server.shutdown(LIMIT).await);
    assert_eq!(
        timeout(LIMIT, closing).await.unwrap().unwrap(),
        CloseCode::Away
    );
}

#[tokio::test]
async fn an_origin_outside_the_allowed_list_is_refused() {
    let server = start(WsConfig {
        allowed_origins: Some(vec!["https://good.example".into()]),
        ..WsConfig::default()
    })
    .await;
    let mut request = url(&server, "/echo").into_client_request().unwrap();
    request
        .headers_mut()
        .insert("origin", "https://evil.example".parse().unwrap());
    match connect_async(request).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            assert_eq!(response.status(), 403)
        }
        other => panic!("expected 403, got {:?}", other.map(|(_, r)| r.status())),
    }
    let mut request = url(&server, "/echo").into_client_request().unwrap();
    request
        .headers_mut()
        .insert("origin", "https://good.example".parse().unwrap());
    assert!(connect_async(request).await.is_ok());
    // No Origin at all: not a browser, let through.
    assert!(connect_async(url(&server, "/echo")).await.is_ok());
}

#[tokio::test]
async fn an_open_session_counts_against_max_connections() {
    let server = start_with(ServerConfig {
        max_connections: 1,
        ..ServerConfig::default()
    })
    .await;
    let (mut first, _) = connect_async(url(&server, "/echo")).await.unwrap();
    first.send(Message::text("hi")).await.unwrap();
    assert_eq!(next(&mut first).await, Message::text("hi"));
    let second = timeout(
        Duration::from_millis(300),
        connect_async(url(&server, "/echo")),
    )
    .await;
    assert!(
        second.is_err(),
        "a second connection was served while the session held the only slot"
    );
    first.close(None).await.unwrap();
    drop(first);
    let (mut second, _) = timeout(LIMIT, connect_async(url(&server, "/echo")))
        .await
        .unwrap()
        .unwrap();
    second.send(Message::text("now")).await.unwrap();
    assert_eq!(next(&mut second).await, Message::text("now"));
}

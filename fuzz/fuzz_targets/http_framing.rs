//! Arbitrary bytes on one connection to a real server (loopback): request
//! heads, chunked and Content-Length bodies, pipelining, limits, upgrades.
//!
//! The server must answer or close within the timeout (never hang), never
//! answer 5xx (the handler cannot fail, so a 5xx is the server's own bug), and
//! every answer must start with a status line. Panics on server threads
//! abort the process (libFuzzer's panic hook), so they are found too.

#![no_main]

use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use hyperdjango_engine::http::{Handler, HttpRequest, Reply, Server, ServerConfig};
use hyperdjango_engine::router::{RouteMatch, Router, WEBSOCKET};
use http::StatusCode;
use libfuzzer_sys::fuzz_target;

/// Answers with what the server made of the request, never with the path
/// itself, so a status line in a response is always the server's.
struct Describe;

impl Handler for Describe {
    async fn handle(&self, request: Box<HttpRequest>) -> Reply {
        if request.upgrade.is_some() {
            return Reply::full(StatusCode::FORBIDDEN, "no websockets here");
        }
        let status = match request.route {
            RouteMatch::Found { .. } => StatusCode::OK,
            RouteMatch::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            _ => StatusCode::NOT_FOUND,
        };
        Reply::full(status, format!("{} bytes", request.body.len()))
    }
}

fn server() -> SocketAddr {
    static ADDR: OnceLock<SocketAddr> = OnceLock::new();
    *ADDR.get_or_init(|| {
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        let mut router = Router::new(true);
        router.add("/", &["GET", "POST"], None).unwrap();
        router.add("/items/{id:int}", &["GET", "PUT", "DELETE"], None).unwrap();
        router.add("/u/{key:uuid}/{slug:slug}/", &["GET"], None).unwrap();
        router.add("/files/{rest:path}", &["GET", "POST"], None).unwrap();
        router.add("/ws", &[WEBSOCKET], None).unwrap();
        let config = ServerConfig {
            port: 0,
            reuse_port: false,
            max_body_size: 4096,
            max_header_size: 8192,
            header_timeout: Duration::from_secs(5),
            keepalive_timeout: Duration::from_secs(5),
            ..ServerConfig::default()
        };
        let server = runtime
            .block_on(Server::start(config, Arc::new(router), Arc::new(Describe)))
            .expect("the fuzz server starts");
        let addr = server.local_addr();
        // The server and its runtime live as long as the process.
        std::mem::forget(server);
        std::mem::forget(runtime);
        addr
    })
}

fuzz_target!(|data: &[u8]| {
    let mut stream = TcpStream::connect(server()).expect("connect to the fuzz server");
    stream.set_read_timeout(Some(Duration::from_secs(15))).unwrap();
    // The server may refuse and close before reading everything: not a failure.
    let _ = stream.write_all(data);
    let _ = stream.shutdown(Shutdown::Write);
    let mut answer = Vec::new();
    if let Err(e) = stream.read_to_end(&mut answer) {
        match e.kind() {
            ErrorKind::WouldBlock | ErrorKind::TimedOut => {
                panic!("the server neither answered nor closed within 15 s ({} bytes so far)", answer.len())
            }
            _ => return, // reset by the server after a refusal
        }
    }
    if answer.is_empty() {
        return;
    }
    // HTTP/1.0 requests are answered in HTTP/1.0.
    assert!(answer.starts_with(b"HTTP/1."), "not a status line: {:?}", String::from_utf8_lossy(&answer[..answer.len().min(64)]));
    assert!(
        !answer.windows(10).any(|w| w.starts_with(b"HTTP/1.") && w[8] == b' ' && w[9] == b'5'),
        "a 5xx answer: {:?}",
        String::from_utf8_lossy(&answer)
    );
});

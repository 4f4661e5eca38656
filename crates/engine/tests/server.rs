//! The HTTP server end to end: real TCP sockets, raw bytes in, raw bytes out.
//!
//! Every test starts its own server on 127.0.0.1:0 with short timers, talks
//! to it with a plain `TcpStream`, and bounds every read so a failure is an
//! assertion, never a hang.

use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::header::{HeaderValue, ALLOW, CONTENT_TYPE};
use http::StatusCode;
use hyperdjango_engine::http::{Handler, HttpRequest, Reply, ReplyBody, Server, ServerConfig};
use hyperdjango_engine::router::{ParamValue, RouteMatch, Router};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio::time::{sleep, timeout};

/// How long any single expected response may take to arrive.
const READ_LIMIT: Duration = Duration::from_secs(2);

// Route ids, in the order `router()` adds them.
const ECHO: usize = 0;
const ITEMS: usize = 1;
const FILES: usize = 2;
const SLOW: usize = 3;
const STUCK: usize = 4;
const STREAM: usize = 5;
const SUBMIT: usize = 6;

/// How long `/slow` takes.
const SLOW_FOR: Duration = Duration::from_millis(500);

fn router() -> Arc<Router> {
    let mut r = Router::new(true);
    assert_eq!(r.add("/echo", &["GET", "POST"], None).unwrap(), ECHO);
    assert_eq!(r.add("/items", &["GET"], None).unwrap(), ITEMS);
    assert_eq!(r.add("/files/{name}", &["GET"], None).unwrap(), FILES);
    assert_eq!(r.add("/slow", &["GET"], None).unwrap(), SLOW);
    assert_eq!(r.add("/stuck", &["GET"], None).unwrap(), STUCK);
    assert_eq!(r.add("/stream", &["GET"], None).unwrap(), STREAM);
    assert_eq!(r.add("/submit", &["POST", "PUT"], None).unwrap(), SUBMIT);
    Arc::new(r)
}

/// Answers every routed request with a body that says what the server handed it.
struct Echo;

fn describe(request: &HttpRequest, route_id: usize, params: &[(String, ParamValue)]) -> String {
    let params: Vec<String> = params
        .iter()
        .map(|(name, value)| match value {
            ParamValue::Str(s) => format!("{name}={s}"),
            ParamValue::Int(i) => format!("{name}={i}"),
            ParamValue::Uuid(u) => format!("{name}={u}"),
        })
        .collect();
    format!(
        "route={route_id} path={} query={} params=[{}] body={}",
        request.path,
        request.query.as_deref().unwrap_or(""),
        params.join(","),
        String::from_utf8_lossy(&request.body)
    )
}

impl Handler for Echo {
    async fn handle(&self, request: Box<HttpRequest>) -> Reply {
        match &request.route {
            RouteMatch::Found { route_id, params } => match *route_id {
                SLOW => {
                    sleep(SLOW_FOR).await;
                    Reply::full(StatusCode::OK, "slow done")
                }
                STUCK => {
                    sleep(Duration::from_secs(30)).await;
                    Reply::full(StatusCode::OK, "stuck done")
                }
                STREAM => {
                    let (tx, rx) = mpsc::channel(4);
                    tokio::spawn(async move {
                        for chunk in ["one,", "two,", "three"] {
                            if tx
                                .send(Ok(Bytes::from_static(chunk.as_bytes())))
                                .await
                                .is_err()
                            {
                                return;
                            }
                            sleep(Duration::from_millis(20)).await;
                        }
                    });
                    Reply {
                        status: StatusCode::OK,
                        headers: Default::default(),
                        body: ReplyBody::Stream(rx),
                    }
                }
                id => {
                    let mut reply = Reply::full(StatusCode::OK, describe(&request, id, params));
                    reply
                        .headers
                        .insert(CONTENT_TYPE, HeaderValue::from_static("text/plain"));
                    reply
                }
            },
            RouteMatch::NotFound => Reply::full(StatusCode::NOT_FOUND, "not found"),
            RouteMatch::MethodNotAllowed { allow } => {
                let mut reply = Reply::full(StatusCode::METHOD_NOT_ALLOWED, "method not allowed");
                reply
                    .headers
                    .insert(ALLOW, HeaderValue::from_str(&allow.join(", ")).unwrap());
                reply
            }
            RouteMatch::Redirect { .. } => Reply::full(
                StatusCode::INTERNAL_SERVER_ERROR,
                "a redirect reached the handler",
            ),
        }
    }
}

/// Settings for tests: an ephemeral port and timers long enough not to fire
/// unless a test shortens them.
fn config() -> ServerConfig {
    ServerConfig {
        host: "127.0.0.1".to_string(),
        port: 0,
        reuse_port: false,
        max_body_size: 1024,
        max_header_size: 8192,
        header_timeout: Duration::from_secs(5),
        keepalive_timeout: Duration::from_secs(5),
        ..ServerConfig::default()
    }
}

async fn start(config: ServerConfig) -> (Server, SocketAddr) {
    let server = Server::start(config, router(), Arc::new(Echo))
        .await
        .expect("the server starts");
    let addr = server.local_addr();
    assert_ne!(addr.port(), 0);
    (server, addr)
}

/// Waits (bounded) until the server has begun `n` requests, so a test knows its
/// request is in the handler.
async fn wait_for_requests(server: &Server, n: u64) {
    let deadline = Instant::now() + READ_LIMIT;
    while server.stats().requests.load(Ordering::Relaxed) < n {
        assert!(
            Instant::now() < deadline,
            "the server never began request {n}"
        );
        sleep(Duration::from_millis(5)).await;
    }
}

#[derive(Debug)]
struct Response {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    /// How many chunks a chunked body came in (0 when not chunked).
    chunks: usize,
}

impl Response {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Parses one response from the front of `buf`: `Ok(None)` if more bytes are
/// needed, `Ok(Some((response, consumed)))` once it is whole.
fn parse_response(buf: &[u8], head_only: bool) -> Result<Option<(Response, usize)>, String> {
    let Some(head_end) = find(buf, b"\r\n\r\n") else {
        if buf.len() >= 5 && !buf.starts_with(b"HTTP/") {
            return Err("the response does not start with HTTP/".into());
        }
        return Ok(None);
    };
    let head = std::str::from_utf8(&buf[..head_end]).map_err(|e| e.to_string())?;
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let mut parts = status_line.splitn(3, ' ');
    let version = parts.next().unwrap_or_default();
    if !version.starts_with("HTTP/1.") {
        return Err(format!("bad status line {status_line:?}"));
    }
    let status: u16 = parts
        .next()
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| format!("bad status line {status_line:?}"))?;
    let mut headers = Vec::new();
    for line in lines {
        let (name, value) = line
            .split_once(':')
            .ok_or_else(|| format!("bad header line {line:?}"))?;
        headers.push((name.trim().to_string(), value.trim().to_string()));
    }
    let mut response = Response {
        status,
        headers,
        body: Vec::new(),
        chunks: 0,
    };
    let mut at = head_end + 4;
    if head_only || status < 200 || status == 204 || status == 304 {
        return Ok(Some((response, at)));
    }
    let chunked = response
        .header("transfer-encoding")
        .is_some_and(|v| v.eq_ignore_ascii_case("chunked"));
    if chunked {
        loop {
            let Some(line_end) = find(&buf[at..], b"\r\n") else {
                return Ok(None);
            };
            let size_text =
                std::str::from_utf8(&buf[at..at + line_end]).map_err(|e| e.to_string())?;
            let size = usize::from_str_radix(size_text.split(';').next().unwrap_or("").trim(), 16)
                .map_err(|_| format!("bad chunk size line {size_text:?}"))?;
            let data_start = at + line_end + 2;
            if size == 0 {
                // No trailers are expected: the body ends with an empty line.
                if buf.len() < data_start + 2 {
                    return Ok(None);
                }
                if &buf[data_start..data_start + 2] != b"\r\n" {
                    return Err("trailers or garbage after the last chunk".into());
                }
                return Ok(Some((response, data_start + 2)));
            }
            if buf.len() < data_start + size + 2 {
                return Ok(None);
            }
            response
                .body
                .extend_from_slice(&buf[data_start..data_start + size]);
            response.chunks += 1;
            if &buf[data_start + size..data_start + size + 2] != b"\r\n" {
                return Err("a chunk is not followed by CRLF".into());
            }
            at = data_start + size + 2;
        }
    }
    let len: usize = match response.header("content-length") {
        Some(v) => v.parse().map_err(|_| format!("bad content-length {v:?}"))?,
        None => 0,
    };
    if buf.len() < at + len {
        return Ok(None);
    }
    response.body.extend_from_slice(&buf[at..at + len]);
    at += len;
    Ok(Some((response, at)))
}

/// A raw HTTP/1.1 client: bytes out, responses parsed from whatever comes back.
struct Client {
    stream: TcpStream,
    /// Bytes read but not yet parsed (the start of a pipelined response).
    buf: Vec<u8>,
}

impl Client {
    async fn connect(addr: SocketAddr) -> Client {
        let stream = timeout(READ_LIMIT, TcpStream::connect(addr))
            .await
            .expect("connect timed out")
            .expect("connect failed");
        Client {
            stream,
            buf: Vec::new(),
        }
    }

    async fn send(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).await.expect("write failed");
    }

    /// Reads until one whole response is buffered; panics on EOF or garbage.
    /// Cancel-safe: bytes read stay in `buf` if the future is dropped.
    async fn read_response(&mut self, head_only: bool) -> Response {
        loop {
            match parse_response(&self.buf, head_only) {
                Ok(Some((response, consumed))) => {
                    self.buf.drain(..consumed);
                    return response;
                }
                Ok(None) => {}
                Err(e) => panic!("{e}; bytes: {:?}", String::from_utf8_lossy(&self.buf)),
            }
            let mut chunk = [0u8; 16 * 1024];
            let n = match self.stream.read(&mut chunk).await {
                Ok(n) => n,
                Err(e) => panic!(
                    "read failed ({e}); bytes so far: {:?}",
                    String::from_utf8_lossy(&self.buf)
                ),
            };
            if n == 0 {
                panic!(
                    "the connection closed before a whole response; bytes: {:?}",
                    String::from_utf8_lossy(&self.buf)
                );
            }
            self.buf.extend_from_slice(&chunk[..n]);
        }
    }

    /// The next response, within [`READ_LIMIT`].
    async fn response(&mut self) -> Response {
        timeout(READ_LIMIT, self.read_response(false))
            .await
            .expect("no response within the read limit")
    }

    /// The head of the next response (for HEAD requests, which have no body).
    async fn response_head(&mut self) -> Response {
        timeout(READ_LIMIT, self.read_response(true))
            .await
            .expect("no response head within the read limit")
    }

    /// The next response if one arrives within `limit`.
    async fn response_within(&mut self, limit: Duration) -> Option<Response> {
        timeout(limit, self.read_response(false)).await.ok()
    }

    /// Asserts the server closes the connection within `limit` without sending
    /// anything more; returns how long that took. A reset counts as closed.
    async fn expect_closed(&mut self, limit: Duration) -> Duration {
        let started = Instant::now();
        let mut chunk = [0u8; 1024];
        match timeout(limit, self.stream.read(&mut chunk)).await {
            Ok(Ok(0)) | Ok(Err(_)) => started.elapsed(),
            Ok(Ok(n)) => panic!(
                "expected the connection to close, got {:?}",
                String::from_utf8_lossy(&chunk[..n])
            ),
            Err(_) => panic!("the connection was still open after {limit:?}"),
        }
    }
}

fn get(path: &str) -> Vec<u8> {
    format!("GET {path} HTTP/1.1\r\nHost: test\r\n\r\n").into_bytes()
}

fn post(path: &str, body: &str) -> Vec<u8> {
    format!(
        "POST {path} HTTP/1.1\r\nHost: test\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

// 1. Keep-alive and the headers the server always sets.

#[tokio::test]
async fn keep_alive_serves_two_requests_on_one_connection() {
    let (_server, addr) = start(config()).await;
    let mut client = Client::connect(addr).await;

    client.send(&get("/echo?n=1")).await;
    let first = client.response().await;
    assert_eq!(first.status, 200, "{first:?}");
    assert_eq!(first.text(), "route=0 path=/echo query=n=1 params=[] body=");
    assert_eq!(
        first.header("connection"),
        None,
        "keep-alive must not announce close: {first:?}"
    );

    client.send(&post("/echo", "second")).await;
    let second = client.response().await;
    assert_eq!(second.status, 200, "{second:?}");
    assert_eq!(
        second.text(),
        "route=0 path=/echo query= params=[] body=second"
    );
}

#[tokio::test]
async fn responses_carry_server_date_and_content_length() {
    let (_server, addr) = start(config()).await;
    let mut client = Client::connect(addr).await;
    client.send(&get("/items")).await;
    let response = client.response().await;
    assert_eq!(response.status, 200);
    assert_eq!(response.header("server"), Some("hyperdjango"));
    let date = response.header("date").expect("a Date header");
    assert!(date.ends_with(" GMT"), "{date:?}");
    assert_eq!(
        response.header("content-length"),
        Some(response.body.len().to_string().as_str())
    );
    assert_eq!(response.header("transfer-encoding"), None);
    assert_eq!(
        response.text(),
        "route=1 path=/items query= params=[] body="
    );
}

// 2. Pipelining.

#[tokio::test]
async fn pipelined_requests_are_answered_in_order() {
    let (_server, addr) = start(config()).await;
    let mut client = Client::connect(addr).await;
    let mut batch = get("/echo?n=1");
    batch.extend(post("/echo", "two"));
    batch.extend(get("/files/three"));
    batch.extend(get("/echo?n=4"));
    client.send(&batch).await;

    let bodies = [
        "route=0 path=/echo query=n=1 params=[] body=",
        "route=0 path=/echo query= params=[] body=two",
        "route=2 path=/files/three query= params=[name=three] body=",
        "route=0 path=/echo query=n=4 params=[] body=",
    ];
    for expected in bodies {
        let response = client.response().await;
        assert_eq!(response.status, 200, "{response:?}");
        assert_eq!(response.text(), expected);
    }
}

#[tokio::test]
async fn response_is_sent_while_the_next_pipelined_request_is_incomplete() {
    let (_server, addr) = start(config()).await;
    let mut client = Client::connect(addr).await;
    let mut batch = get("/echo?n=1");
    batch.extend_from_slice(b"GET /echo?n=2 HTTP/1.1\r\nHo");
    client.send(&batch).await;
    // The first response must not wait for the rest of the second request.
    let first = client.response().await;
    assert_eq!(first.text(), "route=0 path=/echo query=n=1 params=[] body=");
    client.send(b"st: test\r\n\r\n").await;
    let second = client.response().await;
    assert_eq!(
        second.text(),
        "route=0 path=/echo query=n=2 params=[] body="
    );
}

#[tokio::test]
async fn extra_crlf_after_a_request_body_does_not_hold_the_response() {
    let (_server, addr) = start(config()).await;
    let mut client = Client::connect(addr).await;
    // Some old clients send a stray CRLF after a POST body.
    let mut request = post("/echo", "data");
    request.extend_from_slice(b"\r\n");
    client.send(&request).await;
    let response = client.response().await;
    assert_eq!(response.status, 200, "{response:?}");
    assert_eq!(
        response.text(),
        "route=0 path=/echo query= params=[] body=data"
    );
}

// 3. Chunked bodies both ways.

#[tokio::test]
async fn chunked_request_body_is_received_whole() {
    let (_server, addr) = start(config()).await;
    let mut client = Client::connect(addr).await;
    client
        .send(b"POST /echo HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n")
        .await;
    sleep(Duration::from_millis(30)).await;
    client.send(b"6\r\n world\r\n").await;
    sleep(Duration::from_millis(30)).await;
    client.send(b"0\r\n\r\n").await;
    let response = client.response().await;
    assert_eq!(response.status, 200, "{response:?}");
    assert_eq!(
        response.text(),
        "route=0 path=/echo query= params=[] body=hello world"
    );
}

#[tokio::test]
async fn streamed_reply_is_sent_chunked() {
    let (_server, addr) = start(config()).await;
    let mut client = Client::connect(addr).await;
    client.send(&get("/stream")).await;
    let response = client.response().await;
    assert_eq!(response.status, 200, "{response:?}");
    assert_eq!(response.header("transfer-encoding"), Some("chunked"));
    assert_eq!(response.header("content-length"), None);
    assert_eq!(response.text(), "one,two,three");
    assert_eq!(response.chunks, 3, "each chunk is sent as it is produced");

    // The connection is still usable after a chunked reply.
    client.send(&get("/items")).await;
    assert_eq!(client.response().await.status, 200);
}

// 4. HEAD.

#[tokio::test]
async fn head_on_a_get_route_sends_headers_without_body() {
    let (_server, addr) = start(config()).await;
    let mut client = Client::connect(addr).await;
    let expected_len = "route=1 path=/items query= params=[] body="
        .len()
        .to_string();

    // A GET right behind the HEAD: its status line must follow the HEAD's
    // header section directly, which it cannot if a body was sent.
    let mut batch = b"HEAD /items HTTP/1.1\r\nHost: test\r\n\r\n".to_vec();
    batch.extend(get("/items"));
    client.send(&batch).await;

    let head = client.response_head().await;
    assert_eq!(head.status, 200, "{head:?}");
    assert_eq!(head.header("content-length"), Some(expected_len.as_str()));
    let next = client.response().await;
    assert_eq!(next.status, 200, "{next:?}");
    assert_eq!(next.header("content-length"), Some(expected_len.as_str()));
    assert_eq!(next.text(), "route=1 path=/items query= params=[] body=");
}

// 5, 6. Body limits.

#[tokio::test]
async fn declared_body_over_limit_is_413_before_it_is_sent() {
    let (server, addr) = start(config()).await;
    let mut client = Client::connect(addr).await;
    // The body is never sent: the 413 must come from the head alone.
    client
        .send(b"POST /echo HTTP/1.1\r\nHost: test\r\nContent-Length: 1000000\r\n\r\n")
        .await;
    let response = client.response().await;
    assert_eq!(response.status, 413, "{response:?}");
    assert_eq!(response.header("connection"), Some("close"));
    assert_eq!(response.header("server"), Some("hyperdjango"));
    client.expect_closed(READ_LIMIT).await;
    assert_eq!(server.stats().too_large.load(Ordering::Relaxed), 1);
}

#[tokio::test]
async fn chunked_body_over_limit_is_413() {
    let (_server, addr) = start(ServerConfig {
        max_body_size: 16,
        ..config()
    })
    .await;
    let mut client = Client::connect(addr).await;
    client
        .send(b"POST /echo HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: chunked\r\n\r\na\r\n0123456789\r\na\r\n0123456789\r\n0\r\n\r\n")
        .await;
    let response = client.response().await;
    assert_eq!(response.status, 413, "{response:?}");
    assert_eq!(response.header("connection"), Some("close"));
    client.expect_closed(READ_LIMIT).await;
}

#[tokio::test]
async fn chunked_body_at_the_limit_is_accepted() {
    let (_server, addr) = start(ServerConfig {
        max_body_size: 16,
        ..config()
    })
    .await;
    let mut client = Client::connect(addr).await;
    client
        .send(b"POST /echo HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: chunked\r\n\r\n8\r\n01234567\r\n8\r\n89abcdef\r\n0\r\n\r\n")
        .await;
    let response = client.response().await;
    assert_eq!(response.status, 200, "{response:?}");
    assert_eq!(
        response.text(),
        "route=0 path=/echo query= params=[] body=0123456789abcdef"
    );
}

// 7. Header section limit.

fn request_with_header_of(len: usize) -> Vec<u8> {
    format!(
        "GET /items HTTP/1.1\r\nHost: test\r\nX-Filler: {}\r\n\r\n",
        "a".repeat(len)
    )
    .into_bytes()
}

#[tokio::test]
async fn header_section_over_max_header_size_is_431() {
    // A limit below hyper's smallest read buffer (8 KiB) must still hold.
    let (_server, addr) = start(ServerConfig {
        max_header_size: 2048,
        ..config()
    })
    .await;
    let mut client = Client::connect(addr).await;
    client.send(&request_with_header_of(3000)).await;
    let response = client.response().await;
    assert_eq!(response.status, 431, "{response:?}");
    client.expect_closed(READ_LIMIT).await;
}

#[tokio::test]
async fn header_section_under_max_header_size_is_served() {
    let (_server, addr) = start(ServerConfig {
        max_header_size: 2048,
        ..config()
    })
    .await;
    let mut client = Client::connect(addr).await;
    client.send(&request_with_header_of(1500)).await;
    let response = client.response().await;
    assert_eq!(response.status, 200, "{response:?}");
}

#[tokio::test]
async fn header_section_far_over_the_read_buffer_is_431() {
    let (_server, addr) = start(ServerConfig {
        max_header_size: 8192,
        ..config()
    })
    .await;
    let mut client = Client::connect(addr).await;
    client.send(&request_with_header_of(12_000)).await;
    let response = client.response().await;
    assert_eq!(response.status, 431, "{response:?}");
}

// 8. Malformed requests.

#[tokio::test]
async fn malformed_request_line_is_400() {
    let (_server, addr) = start(config()).await;
    let mut client = Client::connect(addr).await;
    client.send(b"GARBAGE\r\n\r\n").await;
    let response = client.response().await;
    assert_eq!(response.status, 400, "{response:?}");
    client.expect_closed(READ_LIMIT).await;
}

// 9. Slow header sections.

#[tokio::test]
async fn stalled_header_section_gets_408_and_close() {
    let (server, addr) = start(ServerConfig {
        header_timeout: Duration::from_millis(300),
        ..config()
    })
    .await;
    let mut client = Client::connect(addr).await;
    let started = Instant::now();
    client
        .send(b"GET /items HTTP/1.1\r\nHost: test\r\nX-Partial: abc")
        .await;
    let response = client.response().await;
    let waited = started.elapsed();
    assert_eq!(response.status, 408, "{response:?}");
    assert!(
        waited >= Duration::from_millis(250),
        "408 after only {waited:?}"
    );
    assert!(
        waited < Duration::from_millis(1500),
        "408 only after {waited:?}"
    );
    client.expect_closed(READ_LIMIT).await;
    assert_eq!(server.stats().timeouts.load(Ordering::Relaxed), 1);
}

#[tokio::test]
async fn trickled_header_bytes_do_not_extend_the_header_timeout() {
    let (_server, addr) = start(ServerConfig {
        header_timeout: Duration::from_millis(300),
        ..config()
    })
    .await;
    let mut client = Client::connect(addr).await;
    let started = Instant::now();
    client
        .send(b"GET /items HTTP/1.1\r\nHost: test\r\nX-Partial: ")
        .await;
    // One byte every 50 ms: an idle timer would never fire, a header timer must.
    let mut received = Vec::new();
    let mut chunk = [0u8; 1024];
    loop {
        assert!(
            started.elapsed() < Duration::from_millis(1500),
            "no 408 while trickling"
        );
        tokio::select! {
            read = client.stream.read(&mut chunk) => match read {
                Ok(n) if n > 0 => received.extend_from_slice(&chunk[..n]),
                _ => break,
            },
            _ = sleep(Duration::from_millis(50)) => {
                // The server may already have closed; its answer is what matters.
                let _ = client.stream.write_all(b"a").await;
            }
        }
    }
    let waited = started.elapsed();
    let text = String::from_utf8_lossy(&received);
    assert!(text.starts_with("HTTP/1.1 408 "), "{text:?}");
    assert!(
        waited >= Duration::from_millis(250),
        "408 after only {waited:?}"
    );
}

// 10. Idle keep-alive.

#[tokio::test]
async fn idle_keep_alive_connection_is_closed_after_keepalive_timeout() {
    let (_server, addr) = start(ServerConfig {
        keepalive_timeout: Duration::from_millis(300),
        ..config()
    })
    .await;
    let mut client = Client::connect(addr).await;
    client.send(&get("/items")).await;
    assert_eq!(client.response().await.status, 200);
    let idle = client.expect_closed(Duration::from_millis(1500)).await;
    assert!(
        idle >= Duration::from_millis(200),
        "closed after only {idle:?}"
    );
}

/// Waits (bounded by `limit`) until `n` connections are parked; whether they were.
async fn parked_within(server: &Server, n: u64, limit: Duration) -> bool {
    let deadline = Instant::now() + limit;
    while server.stats().connections_parked.load(Ordering::Relaxed) != n {
        if Instant::now() >= deadline {
            return false;
        }
        sleep(Duration::from_millis(20)).await;
    }
    true
}

#[tokio::test]
async fn keep_alive_connection_parks_again_after_each_request() {
    // Timers far longer than parking takes (1 s idle): a connection served again
    // after parking must park again once idle, not when a timer next looks.
    let timers = Duration::from_secs(60);
    let (server, addr) = start(ServerConfig {
        header_timeout: timers,
        keepalive_timeout: timers,
        ..config()
    })
    .await;
    let mut client = Client::connect(addr).await;
    for round in 1..=3 {
        client.send(&get("/items")).await;
        assert_eq!(client.response().await.status, 200, "round {round}");
        assert!(
            parked_within(&server, 1, timers / 4).await,
            "round {round}: the idle connection was not parked"
        );
    }
}

// 11. Path decoding.

#[tokio::test]
async fn percent_encoded_path_is_decoded_before_routing() {
    let (_server, addr) = start(config()).await;
    let mut client = Client::connect(addr).await;
    client.send(&get("/files/a%20b")).await;
    let response = client.response().await;
    assert_eq!(response.status, 200, "{response:?}");
    assert_eq!(
        response.text(),
        "route=2 path=/files/a b query= params=[name=a b] body="
    );
}

#[tokio::test]
async fn invalid_utf8_in_path_is_400() {
    let (server, addr) = start(config()).await;
    let mut client = Client::connect(addr).await;
    client.send(&get("/files/%FF%FE")).await;
    let response = client.response().await;
    assert_eq!(response.status, 400, "{response:?}");
    assert_eq!(response.header("server"), Some("hyperdjango"));
    assert_eq!(server.stats().bad_requests.load(Ordering::Relaxed), 1);
}

// 12. Routing outcomes.

#[tokio::test]
async fn trailing_slash_is_redirected_with_301() {
    let (_server, addr) = start(config()).await;
    let mut client = Client::connect(addr).await;
    client.send(&get("/items/")).await;
    let response = client.response().await;
    assert_eq!(response.status, 301, "{response:?}");
    assert_eq!(response.header("location"), Some("/items"));
    // A GET without a body leaves the connection reusable.
    client.send(&get("/items")).await;
    assert_eq!(client.response().await.status, 200);
}

#[tokio::test]
async fn unknown_path_reaches_the_handler_as_not_found() {
    let (_server, addr) = start(config()).await;
    let mut client = Client::connect(addr).await;
    client.send(&get("/nowhere")).await;
    let response = client.response().await;
    assert_eq!(response.status, 404, "{response:?}");
    assert_eq!(response.text(), "not found");
}

#[tokio::test]
async fn wrong_method_reaches_the_handler_with_allowed_methods() {
    let (_server, addr) = start(config()).await;
    let mut client = Client::connect(addr).await;
    client.send(&get("/submit")).await;
    let response = client.response().await;
    assert_eq!(response.status, 405, "{response:?}");
    assert_eq!(response.header("allow"), Some("POST, PUT"));
}

// 13, 14. Shutdown.

#[tokio::test]
async fn graceful_shutdown_finishes_in_flight_request_then_refuses_connections() {
    let (server, addr) = start(config()).await;
    let mut client = Client::connect(addr).await;
    client.send(&get("/slow")).await;
    wait_for_requests(&server, 1).await;

    let started = Instant::now();
    let (finished, response) =
        tokio::join!(server.shutdown(Duration::from_secs(5)), client.response());
    assert!(finished, "shutdown did not finish within its grace");
    assert_eq!(response.status, 200, "{response:?}");
    assert_eq!(response.text(), "slow done");
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "shutdown took {:?}",
        started.elapsed()
    );
    client.expect_closed(READ_LIMIT).await;

    let refused = timeout(READ_LIMIT, TcpStream::connect(addr))
        .await
        .expect("connect hung");
    assert!(
        refused.is_err(),
        "a new connection was accepted after shutdown"
    );
}

#[tokio::test]
async fn shutdown_with_short_grace_reports_unfinished_and_returns() {
    let (server, addr) = start(config()).await;
    let mut client = Client::connect(addr).await;
    client.send(&get("/stuck")).await;
    wait_for_requests(&server, 1).await;

    let started = Instant::now();
    let finished = timeout(READ_LIMIT, server.shutdown(Duration::from_millis(100)))
        .await
        .expect("shutdown hung past its grace");
    assert!(!finished, "shutdown claimed the stuck request finished");
    assert!(started.elapsed() >= Duration::from_millis(90));
    // The stuck request's connection is dropped, not answered.
    client.expect_closed(READ_LIMIT).await;
}

#[tokio::test]
async fn shutdown_closes_idle_keep_alive_connections_at_once() {
    let (server, addr) = start(config()).await;
    let mut client = Client::connect(addr).await;
    client.send(&get("/items")).await;
    assert_eq!(client.response().await.status, 200);

    let finished = timeout(READ_LIMIT, server.shutdown(Duration::from_secs(5)))
        .await
        .expect("shutdown hung");
    assert!(finished);
    client.expect_closed(Duration::from_millis(500)).await;
}

// 15. Connection limit.

#[tokio::test]
async fn max_connections_holds_the_next_client_until_one_closes() {
    let (_server, addr) = start(ServerConfig {
        max_connections: 1,
        ..config()
    })
    .await;
    let mut first = Client::connect(addr).await;
    first.send(&get("/items")).await;
    assert_eq!(first.response().await.status, 200);

    // The kernel completes the handshake (backlog), but nobody serves it.
    let mut second = Client::connect(addr).await;
    second.send(&get("/echo?who=second")).await;
    if let Some(early) = second.response_within(Duration::from_millis(300)).await {
        panic!("the second connection was served while the first was open: {early:?}");
    }

    // The first connection is still served meanwhile.
    first.send(&get("/items")).await;
    assert_eq!(first.response().await.status, 200);

    drop(first);
    let response = second.response().await;
    assert_eq!(response.status, 200, "{response:?}");
    assert_eq!(
        response.text(),
        "route=0 path=/echo query=who=second params=[] body="
    );
}

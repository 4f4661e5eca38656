//! te-reference: the TechEmpower workloads of benchmarks/run.py on plain hyper +
//! tokio-postgres, on ONE thread (a current-thread runtime), as the physical
//! reference: what the machine does with no Python at all.
//!
//!     DATABASE_URL=postgres://... te-reference PORT
//!
//! Routes: /plaintext, /json, /db, /queries?queries=N, /updates?queries=N,
//! /fortunes; the same answers as every other server of run.py (run.py checks).

use std::cell::Cell;
use std::convert::Infallible;
use std::fmt::Write;
use std::rc::Rc;

use bytes::Bytes;
use futures_util::future::try_join_all;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::header::{HeaderValue, CONTENT_TYPE, SERVER};
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio_postgres::{Client, NoTls, Statement};

/// Connections to PostgreSQL; requests take them in turn (tokio-postgres
/// pipelines the statements of concurrent requests on one connection).
const DB_CONNECTIONS: usize = 4;
const WORLD_ROWS: i32 = 10_000;
const EXTRA_FORTUNE: &str = "Additional fortune added at request time.";
const UPDATE_WORLDS: &str = "UPDATE world SET randomnumber = v.n \
     FROM (SELECT unnest($1::int4[]) AS id, unnest($2::int4[]) AS n ORDER BY 1) AS v WHERE world.id = v.id";

struct Db {
    client: Client,
    world: Statement,
    fortunes: Statement,
    update: Statement,
}

struct State {
    dbs: Vec<Db>,
    next_db: Cell<usize>,
    rng: Cell<u64>,
}

impl State {
    fn db(&self) -> &Db {
        let i = self.next_db.get();
        self.next_db.set((i + 1) % self.dbs.len());
        &self.dbs[i]
    }

    /// 1..=10000 from a xorshift64 generator: uniform enough for picking rows.
    fn random_id(&self) -> i32 {
        let mut x = self.rng.get();
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.rng.set(x);
        (x % WORLD_ROWS as u64) as i32 + 1
    }
}

type Answer = Result<Response<Full<Bytes>>, tokio_postgres::Error>;

fn respond(content_type: &'static str, body: impl Into<Bytes>) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(body.into()));
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(SERVER, HeaderValue::from_static("te-reference"));
    response
}

/// TechEmpower's rule: `queries` parsed as an integer, clamped to 1..=500, 1 when absent or bad.
fn query_count(query: Option<&str>) -> usize {
    let value = query
        .unwrap_or("")
        .split('&')
        .find_map(|pair| pair.strip_prefix("queries="))
        .and_then(|v| v.parse::<i64>().ok())
        .unwrap_or(1);
    value.clamp(1, 500) as usize
}

fn world_json(out: &mut String, id: i32, number: i32) {
    let _ = write!(out, "{{\"id\":{id},\"randomNumber\":{number}}}");
}

fn escape_into(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
}

async fn read_worlds(
    state: &State,
    count: usize,
) -> Result<Vec<(i32, i32)>, tokio_postgres::Error> {
    let db = state.db();
    let ids: Vec<i32> = (0..count).map(|_| state.random_id()).collect();
    let rows = try_join_all(
        ids.iter()
            .map(|id| async move { db.client.query_one(&db.world, &[id]).await }),
    )
    .await?;
    Ok(rows.iter().map(|row| (row.get(0), row.get(1))).collect())
}

async fn route(state: Rc<State>, request: Request<Incoming>) -> Answer {
    let uri = request.uri();
    Ok(match uri.path() {
        "/plaintext" => respond("text/plain; charset=utf-8", "Hello, World!"),
        "/json" => respond("application/json", r#"{"message":"Hello, World!"}"#),
        "/db" => {
            let (id, number) = read_worlds(&state, 1).await?[0];
            let mut body = String::with_capacity(40);
            world_json(&mut body, id, number);
            respond("application/json", body)
        }
        "/queries" => {
            let worlds = read_worlds(&state, query_count(uri.query())).await?;
            respond("application/json", worlds_json(&worlds))
        }
        "/updates" => {
            let mut worlds = read_worlds(&state, query_count(uri.query())).await?;
            for world in worlds.iter_mut() {
                world.1 = state.random_id();
            }
            // One statement (one commit, like the peers' one transaction), rows in id order so
            // that concurrent requests lock them in one order (no deadlock).
            let mut sorted = worlds.clone();
            sorted.sort_unstable();
            let ids: Vec<i32> = sorted.iter().map(|w| w.0).collect();
            let numbers: Vec<i32> = sorted.iter().map(|w| w.1).collect();
            let db = state.db();
            db.client.execute(&db.update, &[&ids, &numbers]).await?;
            respond("application/json", worlds_json(&worlds))
        }
        "/fortunes" => {
            let db = state.db();
            let rows = db.client.query(&db.fortunes, &[]).await?;
            let mut fortunes: Vec<(i32, String)> =
                rows.iter().map(|row| (row.get(0), row.get(1))).collect();
            fortunes.push((0, EXTRA_FORTUNE.to_owned()));
            fortunes.sort_by(|a, b| a.1.cmp(&b.1));
            let mut page = String::with_capacity(1400);
            page.push_str("<!DOCTYPE html><html><head><title>Fortunes</title></head><body><table><tr><th>id</th><th>message</th></tr>");
            for (id, message) in &fortunes {
                let _ = write!(page, "<tr><td>{id}</td><td>");
                escape_into(&mut page, message);
                page.push_str("</td></tr>");
            }
            page.push_str("</table></body></html>");
            respond("text/html; charset=utf-8", page)
        }
        _ => {
            let mut response = respond("text/plain; charset=utf-8", "Not Found");
            *response.status_mut() = StatusCode::NOT_FOUND;
            response
        }
    })
}

fn worlds_json(worlds: &[(i32, i32)]) -> String {
    let mut body = String::with_capacity(32 * worlds.len() + 2);
    body.push('[');
    for (i, (id, number)) in worlds.iter().enumerate() {
        if i > 0 {
            body.push(',');
        }
        world_json(&mut body, *id, *number);
    }
    body.push(']');
    body
}

async fn connect(url: &str) -> Result<Db, tokio_postgres::Error> {
    let (client, connection) = tokio_postgres::connect(url, NoTls).await?;
    tokio::task::spawn_local(async move {
        if let Err(error) = connection.await {
            eprintln!("te-reference: database connection ended: {error}");
        }
    });
    Ok(Db {
        world: client
            .prepare("SELECT id, randomnumber FROM world WHERE id = $1")
            .await?,
        fortunes: client.prepare("SELECT id, message FROM fortune").await?,
        update: client.prepare(UPDATE_WORLDS).await?,
        client,
    })
}

async fn serve(port: u16, url: String) -> Result<(), Box<dyn std::error::Error>> {
    let mut dbs = Vec::with_capacity(DB_CONNECTIONS);
    for _ in 0..DB_CONNECTIONS {
        dbs.push(connect(&url).await?);
    }
    let state = Rc::new(State {
        dbs,
        next_db: Cell::new(0),
        rng: Cell::new(0x9E37_79B9_7F4A_7C15),
    });
    let listener = TcpListener::bind(("127.0.0.1", port)).await?;
    loop {
        let (stream, _) = listener.accept().await?;
        let _ = stream.set_nodelay(true);
        let state = state.clone();
        tokio::task::spawn_local(async move {
            let service = service_fn(move |request| {
                let state = state.clone();
                async move {
                    Ok::<_, Infallible>(route(state, request).await.unwrap_or_else(|error| {
                        eprintln!("te-reference: {error}");
                        let mut response = respond("text/plain; charset=utf-8", "database error");
                        *response.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
                        response
                    }))
                }
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

fn main() {
    let port: u16 = std::env::args()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| {
            eprintln!("usage: DATABASE_URL=postgres://... te-reference PORT");
            std::process::exit(2)
        });
    let url = std::env::var("DATABASE_URL").unwrap_or_else(|_| {
        eprintln!("te-reference: set DATABASE_URL");
        std::process::exit(2)
    });
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let local = tokio::task::LocalSet::new();
    if let Err(error) = local.block_on(&runtime, serve(port, url)) {
        eprintln!("te-reference: {error}");
        std::process::exit(1);
    }
}

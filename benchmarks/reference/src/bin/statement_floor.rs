//! statement_floor: tokio-postgres alone, the floor of db_statement_cost.py's per-statement
//! count. One connection, one thread (the client and its connection task on one
//! current-thread runtime, as on hyperdjango's database thread), the same statement as
//! db_statement_cost.py: batches of 20 `SELECT id, randomnumber FROM world WHERE id = $1`,
//! joined (`gather`) or awaited one at a time (`sequential`), each read to the end with
//! `query_raw` and its two columns decoded.
//!
//!     valgrind --tool=callgrind statement_floor URL gather|sequential BATCHES
//!
//! Run under callgrind with BATCHES and 3 x BATCHES: the difference over the extra
//! statements is what one statement costs tokio-postgres and tokio.

use futures_util::future::join_all;
use futures_util::TryStreamExt;
use tokio_postgres::{Client, NoTls, Statement};

const WIDTH: i32 = 20;
const WARMUP: i32 = 20;
const WORLD_ROWS: i32 = 10_000;

async fn one(client: &Client, stmt: &Statement, id: i32) -> (i32, i32) {
    let rows: Vec<_> = client
        .query_raw(stmt, [id])
        .await
        .expect("query")
        .try_collect()
        .await
        .expect("rows");
    let row = rows.first().expect("a world row");
    (row.get(0), row.get(1))
}

async fn run(url: &str, gather: bool, batches: i32) {
    let (client, connection) = tokio_postgres::connect(url, NoTls).await.expect("connect");
    tokio::spawn(async move {
        let _ = connection.await;
    });
    let stmt = client
        .prepare("SELECT id, randomnumber FROM world WHERE id = $1")
        .await
        .expect("prepare");
    for n in 0..WARMUP + batches {
        let ids = (0..WIDTH).map(|i| (n * WIDTH + i) % WORLD_ROWS + 1);
        if gather {
            join_all(ids.map(|id| one(&client, &stmt, id))).await;
        } else {
            for id in ids {
                one(&client, &stmt, id).await;
            }
        }
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (Some(url), Some(mode), Some(batches)) = (args.get(1), args.get(2), args.get(3)) else {
        eprintln!("usage: statement_floor URL gather|sequential BATCHES");
        std::process::exit(2)
    };
    let batches: i32 = batches.parse().expect("BATCHES is a number");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    runtime.block_on(run(url, mode == "gather", batches));
}

//! The PostgreSQL driver: a pool of tokio-postgres connections speaking the
//! binary protocol, with [`Value`] parameters and fully collected [`Rows`].
//!
//! - `query`, `execute` and `pipeline` run on *shared* connections:
//!   concurrent callers' requests are pipelined on one connection (up to
//!   `max_in_flight_per_connection`) before another connection is opened.
//! - `begin`, `cursor` and `execute_many` take a connection exclusively.
//! - Every statement is prepared once per connection and cached (LRU,
//!   `statement_cache_size`); a statement whose cached plan no longer fits the
//!   schema is re-prepared and run again once (outside transactions). DDL
//!   (ALTER, CREATE, DROP) run through the pool empties every connection's
//!   cache, after it runs and again when its transaction ends; DDL from other
//!   processes calls for [`PgDatabase::clear_statement_cache`].
//! - Dropping the future of any query method cancels the statement on the
//!   server (see [`pool`] for how the cancel is aimed at the right request);
//!   the connection stays usable.
//! - A connection the server closed is dropped and replaced on demand: a
//!   statement on it fails fast with an Operational error, the next gets a
//!   fresh connection (a failure while *preparing* is retried at once, since
//!   nothing ran).
//!
//! All futures are `Send`; the pool must be created inside a tokio runtime,
//! whose handle it keeps for its background tasks.

// DbError is the shared vocabulary (with the server's fields); boxing it is not worth the churn.
#![allow(clippy::result_large_err)]

pub(crate) mod codec;
mod config;
mod copy;
mod cursor;
mod listener;
mod pool;
mod schema_epoch;
mod transaction;

use futures_util::future::OptionFuture;
use std::sync::Arc;

pub use config::PgConfig;
pub use cursor::PgCursor;
pub use listener::{ListenerEvent, ListenerStats, Notification, PgListener, MAX_PAYLOAD_BYTES};
pub use pool::PoolStats;
pub use transaction::PgTransaction;

use crate::db::{DbError, ErrorKind, Isolation, Rows, Value};
use pool::{cancelled_error, join_ordered, run_op, Conn, PoolInner, Prepared, ReqCtl};

/// Rows of `execute_many` pipelined at once.
const MANY_CHUNK: usize = 256;

/// A pool of PostgreSQL connections. Cheap to clone (shared state).
#[derive(Clone)]
pub struct PgDatabase {
    pool: Arc<PoolInner>,
}

impl std::fmt::Debug for PgDatabase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgDatabase")
            .field("config", &self.pool.config)
            .field("stats", &self.stats())
            .finish()
    }
}

impl PgDatabase {
    /// Opens `min_size` connections (all must succeed). Call inside a tokio runtime.
    pub async fn connect(config: PgConfig) -> Result<PgDatabase, DbError> {
        config.validate()?;
        let rt = tokio::runtime::Handle::try_current().map_err(|_| {
            DbError::new(
                ErrorKind::Interface,
                "PgDatabase::connect must run inside a tokio runtime",
            )
        })?;
        let pool = PoolInner::new(config, rt);
        pool.fill().await?;
        Ok(PgDatabase { pool })
    }

    /// Closes idle connections, stops handing out new ones, and waits (at most
    /// the acquire timeout) for requests in flight. Later calls fail with an
    /// Interface error; open transactions and cursors close their connection
    /// when they finish.
    pub async fn close(&self) {
        self.pool.close().await
    }

    /// Runs one statement and returns its rows.
    pub async fn query(&self, sql: &str, params: Vec<Value>) -> Result<Rows, DbError> {
        let pool = self.pool.clone();
        let sql = sql.to_string();
        run_op(&self.pool.rt, move |ctl| async move {
            shared_statement(pool, ctl, sql, params, true).await
        })
        .await
    }

    /// Runs one statement and returns the number of rows it affected.
    pub async fn execute(&self, sql: &str, params: Vec<Value>) -> Result<u64, DbError> {
        let pool = self.pool.clone();
        let sql = sql.to_string();
        run_op(&self.pool.rt, move |ctl| async move {
            shared_statement(pool, ctl, sql, params, false).await
        })
        .await
        .map(|rows| rows.affected)
    }

    /// Runs one statement once per parameter row, pipelined, inside one
    /// transaction on one connection: all rows or none. BEGIN, the rows and
    /// COMMIT go out in one write (one round trip when the statement is
    /// already prepared on the connection). Returns the total of affected
    /// rows; the first failing row's error otherwise (naming the row).
    pub async fn execute_many(&self, sql: &str, rows: Vec<Vec<Value>>) -> Result<u64, DbError> {
        if rows.is_empty() {
            return Ok(0);
        }
        let pool = self.pool.clone();
        let sql = sql.to_string();
        run_op(&self.pool.rt, move |ctl| async move {
            execute_many_in_own_transaction(&pool, &ctl, &sql, &rows)
                .await
                .map_err(|e| e.with_sql(&sql))
        })
        .await
    }

    /// Loads `rows` into `table` with one binary `COPY ... FROM STDIN`, in a
    /// transaction of its own on a connection of its own: all rows or none.
    /// Returns the number of rows loaded. Each row holds one value per column,
    /// encoded for the column's type as a parameter would be.
    pub async fn copy_in(
        &self,
        table: &str,
        columns: Vec<String>,
        rows: Vec<Vec<Value>>,
    ) -> Result<u64, DbError> {
        if rows.is_empty() {
            return Ok(0);
        }
        let pool = self.pool.clone();
        let table = table.to_string();
        run_op(&self.pool.rt, move |ctl| async move {
            in_own_transaction(&pool, &ctl, |conn, ctl| async move {
                copy::copy_rows(&conn, &ctl, &table, &columns, &rows).await
            })
            .await
        })
        .await
    }

    /// Sends every statement in one round trip on one connection. Each entry
    /// gets its own result, in order; a failing statement does not stop the
    /// others (each is its own implicit transaction). The outer error is only
    /// for getting a connection.
    pub async fn pipeline(
        &self,
        stmts: Vec<(String, Vec<Value>)>,
    ) -> Result<Vec<Result<Rows, DbError>>, DbError> {
        if stmts.is_empty() {
            return Ok(Vec::new());
        }
        let pool = self.pool.clone();
        run_op(&self.pool.rt, move |ctl| async move {
            let lease = pool.acquire_shared(&ctl, stmts.len()).await?;
            let results = run_pipeline(&lease.conn, &ctl, &stmts).await;
            for r in &results {
                if let Err(e) = r {
                    lease.conn.note_error(e);
                }
            }
            Ok(results)
        })
        .await
    }

    /// Starts a transaction on a connection of its own.
    pub async fn begin(
        &self,
        isolation: Option<Isolation>,
        read_only: bool,
    ) -> Result<PgTransaction, DbError> {
        let mut sql = String::from("BEGIN");
        if let Some(level) = isolation {
            sql.push_str(" ISOLATION LEVEL ");
            sql.push_str(level.sql());
        }
        if read_only {
            sql.push_str(" READ ONLY");
        }
        let pool = self.pool.clone();
        let lease = run_op(&self.pool.rt, move |ctl| async move {
            begin_on_fresh(&pool, &ctl, &sql).await
        })
        .await?;
        Ok(PgTransaction::new(self.pool.clone(), lease))
    }

    /// A server-side cursor over `sql`, in a transaction of its own on a
    /// connection of its own; `fetch` returns `chunk_size` rows at a time.
    pub async fn cursor(
        &self,
        sql: &str,
        params: Vec<Value>,
        chunk_size: u32,
    ) -> Result<PgCursor, DbError> {
        let pool = self.pool.clone();
        let lease = run_op(&self.pool.rt, move |ctl| async move {
            begin_on_fresh(&pool, &ctl, "BEGIN").await
        })
        .await?;
        let tx = PgTransaction::new(self.pool.clone(), lease);
        PgCursor::open(tx.into_shared(), true, sql, params, chunk_size).await
    }

    /// Sends a notification (`SELECT pg_notify($1, $2)` on a shared
    /// connection). Inside a transaction use `pg_notify` there instead: the
    /// server delivers it at commit. A payload of 8000 bytes or more is a Data
    /// error naming the limit.
    pub async fn notify(&self, channel: &str, payload: &str) -> Result<(), DbError> {
        listener::check_channel(channel)?;
        self.query(
            "SELECT pg_notify($1, $2)",
            vec![
                Value::Text(channel.to_string()),
                Value::Text(payload.to_string()),
            ],
        )
        .await
        .map(|_| ())
        .map_err(|e| listener::explain_notify_error(e, payload))
    }

    /// A [`PgListener`] on a dedicated connection (same server and options as
    /// the pool, not counted in it) and the receiver of its events, holding at
    /// most `capacity` of them.
    pub async fn listener(
        &self,
        capacity: usize,
    ) -> Result<(PgListener, tokio::sync::mpsc::Receiver<ListenerEvent>), DbError> {
        PgListener::connect_on(self.pool.config.clone(), capacity, self.pool.rt.clone()).await
    }

    /// Forgets every connection's prepared statements (each connection drops
    /// its own at its next statement), for schema changes this pool did not
    /// run itself: another process's migration, DDL inside a function or a
    /// `DO` block. DDL sent through the pool does this on its own.
    pub fn clear_statement_cache(&self) {
        self.pool.schema.bump();
    }

    /// A snapshot of the pool's counters.
    pub fn stats(&self) -> PoolStats {
        self.pool.stats()
    }

    /// The configuration this pool was opened with.
    pub fn config(&self) -> &PgConfig {
        &self.pool.config
    }
}

/// `body` in a transaction of its own on an exclusive connection: COMMIT when it
/// succeeds, ROLLBACK otherwise. A connection whose COMMIT or ROLLBACK fails is in
/// an unknown state: it is not released, so the lease closes it.
async fn in_own_transaction<T, Fut>(
    pool: &Arc<PoolInner>,
    ctl: &Arc<ReqCtl>,
    body: impl FnOnce(Arc<Conn>, Arc<ReqCtl>) -> Fut,
) -> Result<T, DbError>
where
    Fut: std::future::Future<Output = Result<T, DbError>>,
{
    let lease = begin_on_fresh(pool, ctl, "BEGIN").await?;
    let conn = lease.conn.clone();
    let result = body(conn.clone(), ctl.clone()).await;
    let end = if result.is_ok() { "COMMIT" } else { "ROLLBACK" };
    match (conn.simple(None, end).await, result) {
        (Ok(()), result) => {
            lease.release();
            result
        }
        (Err(e), Ok(_)) => Err(e),
        (Err(_), Err(e)) => Err(e),
    }
}

/// An exclusive connection with `begin_sql` run on it; a connection that turns
/// out to be dead is replaced once.
async fn begin_on_fresh(
    pool: &Arc<PoolInner>,
    ctl: &ReqCtl,
    begin_sql: &str,
) -> Result<pool::ExclusiveLease, DbError> {
    let mut attempts = 0;
    loop {
        let lease = pool.acquire_exclusive(ctl).await?;
        match lease.conn.simple(Some(ctl), begin_sql).await {
            Ok(()) if ctl.is_cancelled() => {
                // Nobody is waiting for this transaction any more.
                lease.rollback_and_release().await;
                return Err(cancelled_error());
            }
            Ok(()) => return Ok(lease),
            Err(e) if e.is_connection_loss() && attempts == 0 => attempts += 1,
            Err(e) => return Err(e),
        }
    }
}

/// One statement on a shared connection, with the retries that are safe there:
/// a failure while preparing on a lost connection, a stale cached plan, and a
/// cancel that was meant for another request.
async fn shared_statement(
    pool: Arc<PoolInner>,
    ctl: Arc<ReqCtl>,
    sql: String,
    params: Vec<Value>,
    want_rows: bool,
) -> Result<Rows, DbError> {
    let mut lost_retries = 0;
    let mut cancel_retries = 0;
    let mut replanned = false;
    loop {
        let lease = pool.acquire_shared(&ctl, 1).await?;
        let conn = &lease.conn;
        let started = conn.cancel_mark();
        let prepared = match conn.prepare(&sql).await {
            Ok(p) => p,
            Err(e) => {
                conn.note_error(&e);
                if e.is_connection_loss() && lost_retries < 2 && !ctl.is_cancelled() {
                    lost_retries += 1;
                    continue;
                }
                if collateral_cancel(conn, &ctl, &e, started) && cancel_retries < 2 {
                    cancel_retries += 1;
                    continue;
                }
                return Err(e);
            }
        };
        if ctl.is_cancelled() {
            return Err(cancelled_error());
        }
        match conn
            .run_statement(&ctl, &prepared, &params, want_rows)
            .await
        {
            Ok(rows) => return Ok(rows),
            Err(e) => {
                let e = e.with_sql(&sql);
                if conn.evict_if_stale(&sql, &e) && !replanned {
                    replanned = true;
                    continue;
                }
                if collateral_cancel(conn, &ctl, &e, started) && cancel_retries < 2 {
                    cancel_retries += 1;
                    continue;
                }
                conn.note_error(&e);
                return Err(e);
            }
        }
    }
}

/// A statement cancelled by a cancel request that was meant for another
/// request on the same connection (the cancel protocol is racy).
fn collateral_cancel(conn: &Conn, ctl: &ReqCtl, e: &DbError, started_ms: u64) -> bool {
    e.sqlstate.as_deref() == Some("57014")
        && !ctl.is_cancelled()
        && conn.cancel_sent_since(started_ms)
}

/// Runs every statement pipelined on `conn`: prepares (one round trip for the
/// ones not cached) then executes (one round trip).
async fn run_pipeline(
    conn: &Arc<Conn>,
    ctl: &ReqCtl,
    stmts: &[(String, Vec<Value>)],
) -> Vec<Result<Rows, DbError>> {
    let sqls: Vec<&str> = stmts.iter().map(|(s, _)| s.as_str()).collect();
    let prepared = conn.prepare_many(&sqls).await;
    let mut futs = Vec::with_capacity(stmts.len());
    for ((sql, params), p) in stmts.iter().zip(prepared) {
        futs.push(async move {
            match p {
                Ok(p) => conn
                    .query_rows(&p, params)
                    .await
                    .map_err(|e| e.with_sql(sql)),
                Err(e) => Err(e),
            }
        });
    }
    let results = conn.tracked(Some(ctl), join_ordered(futs)).await;
    for ((sql, _), r) in stmts.iter().zip(&results) {
        if let Err(e) = r {
            conn.evict_if_stale(sql, e);
        }
    }
    results
}

/// `execute` once per row, pipelined in chunks; stops at the first error.
async fn execute_rows(
    conn: &Arc<Conn>,
    ctl: &ReqCtl,
    p: &Prepared,
    rows: &[Vec<Value>],
) -> Result<u64, DbError> {
    let mut total = 0u64;
    for (i, chunk) in rows.chunks(MANY_CHUNK).enumerate() {
        let futs: Vec<_> = chunk
            .iter()
            .map(|params| conn.execute_stmt(p, params))
            .collect();
        let results = conn.tracked(Some(ctl), join_ordered(futs)).await;
        total += sum_affected(results, i * MANY_CHUNK)?;
        if ctl.is_cancelled() {
            return Err(cancelled_error());
        }
    }
    Ok(total)
}

/// The total of one chunk's affected rows, or the first failing row's error
/// naming that row, counted from 0 as on SQLite (`first`: the chunk's first row).
fn sum_affected(results: Vec<Result<u64, DbError>>, first: usize) -> Result<u64, DbError> {
    let mut total = 0u64;
    for (i, r) in results.into_iter().enumerate() {
        match r {
            Ok(n) => total += n,
            Err(mut e) => {
                e.message = format!("parameter row {}: {}", first + i, e.message);
                return Err(e);
            }
        }
    }
    Ok(total)
}

/// `execute_many` outside a transaction: on an exclusive connection, BEGIN is
/// pipelined with the first chunk of rows and COMMIT with the last (one write
/// and one round trip for up to [`MANY_CHUNK`] rows). A failing row aborts the
/// transaction on the server, so the COMMIT sent behind it rolls back (and a
/// ROLLBACK ends a batch that failed in an earlier chunk). A connection found
/// dead before anything was written is replaced once; once the rows are
/// written nothing is re-run, since the COMMIT may have been carried out.
async fn execute_many_in_own_transaction(
    pool: &Arc<PoolInner>,
    ctl: &ReqCtl,
    sql: &str,
    rows: &[Vec<Value>],
) -> Result<u64, DbError> {
    let mut attempts = 0;
    let (lease, p) = loop {
        let lease = pool.acquire_exclusive(ctl).await?;
        let prepared = match lease.conn.prepare(sql).await {
            Ok(p) if !lease.conn.is_dead() => Ok(p),
            Ok(_) => Err(DbError::new(
                ErrorKind::Operational,
                "the connection to the server was closed",
            )),
            Err(e) => Err(e),
        };
        match prepared {
            Ok(p) => break (lease, p),
            Err(e) => {
                lease.conn.note_error(&e);
                if e.is_connection_loss() && attempts == 0 && !ctl.is_cancelled() {
                    attempts += 1;
                    continue;
                }
                // Nothing ran: the connection is clean unless it is lost.
                lease.release();
                return Err(e);
            }
        }
    };
    if ctl.is_cancelled() {
        lease.release();
        return Err(cancelled_error());
    }
    let conn = lease.conn.clone();
    let chunks: Vec<&[Vec<Value>]> = rows.chunks(MANY_CHUNK).collect();
    let last = chunks.len() - 1;
    let mut total = 0u64;
    conn.transaction_boundary("BEGIN");
    for (i, chunk) in chunks.into_iter().enumerate() {
        let begin = (i == 0).then(|| conn.client.batch_execute("BEGIN"));
        let rows_sent: Vec<_> = chunk
            .iter()
            .map(|params| conn.execute_stmt(&p, params))
            .collect();
        let commit = (i == last).then(|| conn.client.batch_execute("COMMIT"));
        let (begun, results, committed) = conn
            .tracked(
                Some(ctl),
                futures_util::future::join3(
                    OptionFuture::from(begin),
                    join_ordered(rows_sent),
                    OptionFuture::from(commit),
                ),
            )
            .await;
        if let Some(Err(e)) = begun {
            // The rows may have run outside a transaction: never reuse this connection.
            let e = pool::map_error(e, Some("BEGIN"));
            conn.mark_broken();
            return Err(e);
        }
        let rows_result = sum_affected(results, i * MANY_CHUNK);
        if let Err(e) = &rows_result {
            conn.note_error(e);
            conn.evict_if_stale(sql, e);
        }
        match committed {
            Some(Ok(())) => {
                // After a failed row the server rolled back at this COMMIT.
                conn.transaction_boundary("COMMIT");
                lease.release();
                return rows_result.map(|n| total + n);
            }
            Some(Err(e)) => {
                // A failed COMMIT (a deferred constraint, a serialization
                // failure) ends the transaction; the lease closes the
                // connection rather than trust its state.
                conn.transaction_boundary("ROLLBACK");
                let e = pool::map_error(e, Some("COMMIT"));
                conn.note_error(&e);
                return Err(rows_result.err().unwrap_or(e));
            }
            None => match rows_result {
                Ok(n) if !ctl.is_cancelled() => total += n,
                outcome => {
                    let err = outcome.err().unwrap_or_else(cancelled_error);
                    lease.rollback_and_release().await;
                    return Err(err);
                }
            },
        }
    }
    unreachable!("the last chunk carries the COMMIT")
}

//! The SQLite driver (rusqlite, bundled SQLite), with the PostgreSQL driver's API shape.
//!
//! # Threads
//! One **writer** connection and a few **reader** connections (default 4),
//! each on its own std thread (`threads.rs`). Calls send a job over a channel
//! and await a tokio oneshot: tokio threads never block on SQLite. File
//! databases run in WAL mode (readers see the last committed state while a
//! write is in progress) with `synchronous=NORMAL`, `foreign_keys=ON`, and a
//! `busy_timeout` (default 5 s) for locks held by other processes.
//!
//! # Routing (outside transactions)
//! A cheap keyword check (`sql.rs`, `is_read_statement`): `SELECT`, `WITH`,
//! `VALUES`, `EXPLAIN` and introspection PRAGMAs go to the least busy
//! reader; everything else to the writer. The reader prepares the statement
//! and forwards it to the writer when `sqlite3_stmt_readonly` says it writes
//! (`WITH ... INSERT`), and readers run `PRAGMA query_only=ON` besides.
//!
//! # `sqlite://:memory:`
//! One in-memory database per [`SqliteDatabase`] on the writer connection
//! alone: no readers (a separate `:memory:` connection would be a different,
//! empty database, and a shared-cache in-memory database has table-level
//! locks instead of WAL snapshots, so readers would fail with
//! `SQLITE_LOCKED` during writes). Everything, read-only transactions and
//! cursors included, runs on that one thread. `?readers=0` on a file does
//! the same.
//!
//! # Placeholders
//! `$1, $2, ...` as on PostgreSQL, rewritten to SQLite's `?1, ?2, ...`
//! outside literals, quoted identifiers and comments (`sql.rs`). A parameter
//! count that differs from the statement's is an Interface error.
//!
//! # Values
//! See `codec.rs`: how each [`Value`] is stored, and how result columns are
//! read by their declared type.
//!
//! # Transactions
//! [`SqliteDatabase::begin`]: read-write → `BEGIN IMMEDIATE` on the writer,
//! which it holds until commit/rollback (other writes queue behind it: do not
//! await a write through the database handle while holding a transaction on
//! the same database: it waits for the transaction). Read-only → `BEGIN` on a
//! reader (one snapshot, writer left free; on the writer with
//! `query_only` for in-memory databases). SQLite transactions are always
//! serializable, so `isolation` is accepted and ignored.
//!
//! # Cursors
//! See `cursor.rs`. Reads outside a transaction on a file database stream
//! from a dedicated thread with its own read-only connection through a
//! bounded channel (memory stays at about two chunks; the reader pool stays
//! free; one thread per open cursor). Cursors in a transaction, in memory,
//! with `readers=0`, or over writing statements (`... RETURNING`) are held
//! by the owning connection thread, which steps the statement one chunk per
//! `fetch` between its other jobs; a transaction's cursors close with it.
//!
//! # Counts
//! `execute` returns the rows changed by the statement itself
//! (`sqlite3_changes`, only when it changed something), else the rows it
//! returned (a SELECT), else 0. `Rows::affected` follows the same rule.
//!
//! # Cancellation
//! Dropping a call's future before it completes skips the job if it is still
//! queued, or interrupts it (`sqlite3_interrupt`) if it is running; the
//! connection stays usable. Inside a transaction an interrupted write rolls
//! the whole transaction back (SQLite's rule); later calls on it fail.

// `DbError` is the shared error type (about 150 bytes); errors are the cold path.
#![allow(clippy::result_large_err)]

pub(crate) mod codec;
mod config;
mod cursor;
mod errors;
mod functions;
pub(crate) mod sql;
mod text_functions;
mod threads;
mod transaction;
mod zone_functions;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::channel;
use std::sync::{Arc, Mutex};

use tokio::sync::oneshot;

pub use config::{SqliteConfig, SqliteTarget, DEFAULT_BUSY_TIMEOUT, DEFAULT_READERS, MAX_READERS};
pub use cursor::SqliteCursor;
pub use transaction::SqliteTransaction;

use threads::{call, closed_error, open_connection, Job, Lane, Role, Shared, Worker};

use crate::db::{lock, DbError, ErrorKind, Isolation, Rows, Value};

/// Counters and queue depths, for metrics and tests.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SqliteStats {
    /// Reader connections (0 for in-memory databases).
    pub readers: usize,
    /// Jobs queued or running on the writer (an open transaction counts as one).
    pub writer_queue: usize,
    /// Jobs queued or running on all readers.
    pub reader_queue: usize,
    /// A read-write transaction holds the writer.
    pub in_transaction: bool,
    pub open_cursors: usize,
    /// Statements run (each statement of a pipeline counts).
    pub statements: u64,
    pub errors: u64,
    /// Statements interrupted because their caller went away.
    pub interrupted: u64,
    pub closed: bool,
}

/// A SQLite database: one writer and `readers` reader connections on their
/// own threads. Cheap to clone (shared).
#[derive(Clone)]
pub struct SqliteDatabase {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for SqliteDatabase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteDatabase")
            .field("config", &self.inner.config)
            .field("stats", &self.stats())
            .finish()
    }
}

struct Inner {
    config: SqliteConfig,
    writer: Lane,
    readers: Vec<Lane>,
    shared: Arc<Shared>,
    closed: AtomicBool,
    /// Taken by the first `close`.
    exits: Mutex<Option<Exits>>,
}

/// One receiver per thread, answered when the thread ends.
struct Exits {
    readers: Vec<oneshot::Receiver<()>>,
    writer: oneshot::Receiver<()>,
}

/// Starts a connection thread; resolves once its connection is open.
async fn spawn_thread(
    config: &SqliteConfig,
    role: Role,
    shared: &Arc<Shared>,
    writer: Option<Lane>,
    index: usize,
) -> Result<(Lane, oneshot::Receiver<()>), DbError> {
    let (tx, rx) = channel();
    let lane = Lane::new(tx);
    let pending = lane.pending.clone();
    let (ready_tx, ready) = oneshot::channel();
    let (exit_tx, exit) = oneshot::channel();
    let config = config.clone();
    let shared = shared.clone();
    let name = match role {
        Role::Writer => "hyperdjango-sqlite-writer".to_string(),
        Role::Reader => format!("hyperdjango-sqlite-reader-{index}"),
    };
    std::thread::Builder::new()
        .name(name)
        .spawn(move || {
            let conn = match open_connection(&config, role) {
                Ok(conn) => conn,
                Err(e) => {
                    let _ = ready_tx.send(Err(e));
                    return;
                }
            };
            let worker = Worker::new(conn, role, shared, writer);
            if ready_tx.send(Ok(())).is_err() {
                return;
            }
            worker.run(rx, &pending);
            drop(worker);
            let _ = exit_tx.send(());
        })
        .map_err(|e| {
            DbError::new(
                ErrorKind::Operational,
                format!("cannot start a SQLite thread: {e}"),
            )
        })?;
    match ready.await {
        Ok(Ok(())) => Ok((lane, exit)),
        Ok(Err(e)) => Err(e),
        Err(_) => Err(DbError::new(
            ErrorKind::Operational,
            "a SQLite thread ended while opening its connection",
        )),
    }
}

pub(crate) fn check_chunk_size(chunk_size: u32) -> Result<usize, DbError> {
    if chunk_size == 0 {
        Err(DbError::new(
            ErrorKind::Interface,
            "chunk_size must be at least 1",
        ))
    } else {
        Ok(chunk_size as usize)
    }
}

impl SqliteDatabase {
    /// Opens the writer (creating the file and switching it to WAL), then the readers.
    pub async fn connect(config: SqliteConfig) -> Result<SqliteDatabase, DbError> {
        let mut config = config;
        if config.target == SqliteTarget::Memory {
            config.readers = 0;
        }
        config.readers = config.readers.min(MAX_READERS);
        let shared = Arc::new(Shared::default());
        let (writer, writer_exit) = spawn_thread(&config, Role::Writer, &shared, None, 0).await?;
        let mut readers = Vec::with_capacity(config.readers);
        let mut reader_exits = Vec::with_capacity(config.readers);
        for i in 0..config.readers {
            // On failure the lanes drop here and the started threads end.
            let (lane, exit) =
                spawn_thread(&config, Role::Reader, &shared, Some(writer.clone()), i).await?;
            readers.push(lane);
            reader_exits.push(exit);
        }
        Ok(SqliteDatabase {
            inner: Arc::new(Inner {
                config,
                writer,
                readers,
                shared,
                closed: AtomicBool::new(false),
                exits: Mutex::new(Some(Exits {
                    readers: reader_exits,
                    writer: writer_exit,
                })),
            }),
        })
    }

    /// The settings in use (readers forced to 0 in memory).
    pub fn config(&self) -> &SqliteConfig {
        &self.inner.config
    }

    /// Refuses new work, lets the threads finish their queued jobs, and waits
    /// for them to end (readers first, then the writer). An open transaction
    /// is waited for too.
    pub async fn close(&self) {
        self.inner.closed.store(true, Ordering::Release);
        let exits = lock(&self.inner.exits).take();
        let Some(Exits {
            readers: reader_exits,
            writer: writer_exit,
        }) = exits
        else {
            return;
        };
        for lane in &self.inner.readers {
            let _ = lane.send(Job::Stop);
        }
        for exit in reader_exits {
            let _ = exit.await;
        }
        let _ = self.inner.writer.send(Job::Stop);
        let _ = writer_exit.await;
    }

    fn check_open(&self) -> Result<(), DbError> {
        if self.inner.closed.load(Ordering::Acquire) {
            Err(closed_error())
        } else {
            Ok(())
        }
    }

    /// The least busy reader, or the writer when there are none.
    fn reader(&self) -> &Lane {
        self.inner
            .readers
            .iter()
            .min_by_key(|lane| lane.pending.load(Ordering::Relaxed))
            .unwrap_or(&self.inner.writer)
    }

    fn lane_for(&self, sql: &str) -> &Lane {
        if !self.inner.readers.is_empty() && sql::is_read_statement(sql) {
            self.reader()
        } else {
            &self.inner.writer
        }
    }

    async fn run(&self, sql: &str, params: Vec<Value>, want_rows: bool) -> Result<Rows, DbError> {
        self.check_open()?;
        let lane = self.lane_for(sql);
        let sql = sql.to_string();
        call(lane, closed_error, |ticket, reply| Job::Run {
            sql,
            params,
            want_rows,
            ticket,
            reply,
        })
        .await
    }

    /// Runs one statement and collects its rows.
    pub async fn query(&self, sql: &str, params: Vec<Value>) -> Result<Rows, DbError> {
        self.run(sql, params, true).await
    }

    /// Runs one statement; the rows changed (or returned, for a query).
    pub async fn execute(&self, sql: &str, params: Vec<Value>) -> Result<u64, DbError> {
        Ok(self.run(sql, params, false).await?.affected)
    }

    /// Runs `sql` once per parameter row in one transaction on the writer
    /// (one prepared statement): all rows or none. Returns the total changed.
    pub async fn execute_many(&self, sql: &str, rows: Vec<Vec<Value>>) -> Result<u64, DbError> {
        self.check_open()?;
        let sql = sql.to_string();
        call(&self.inner.writer, closed_error, |ticket, reply| {
            Job::Many {
                sql,
                rows,
                ticket,
                reply,
            }
        })
        .await
    }

    /// Runs the statements as one job, each in autocommit mode: each result
    /// in order, failures do not stop the others. All reads → a reader;
    /// otherwise the writer.
    pub async fn pipeline(
        &self,
        stmts: Vec<(String, Vec<Value>)>,
    ) -> Result<Vec<Result<Rows, DbError>>, DbError> {
        self.check_open()?;
        if stmts.is_empty() {
            return Ok(Vec::new());
        }
        let all_reads = !self.inner.readers.is_empty()
            && stmts.iter().all(|(sql, _)| sql::is_read_statement(sql));
        let lane = if all_reads {
            self.reader()
        } else {
            &self.inner.writer
        };
        call(lane, closed_error, |ticket, reply| Job::Pipeline {
            stmts,
            ticket,
            reply,
        })
        .await
    }

    /// Starts a transaction: read-write → `BEGIN IMMEDIATE` on the writer
    /// (held until commit/rollback); read-only → `BEGIN` on the least busy
    /// reader (on the writer, under `query_only`, without readers).
    /// `isolation` is accepted and ignored: SQLite is always serializable.
    pub async fn begin(
        &self,
        isolation: Option<Isolation>,
        read_only: bool,
    ) -> Result<SqliteTransaction, DbError> {
        let _ = isolation;
        self.check_open()?;
        let lane = if read_only {
            self.reader()
        } else {
            &self.inner.writer
        };
        let tx = call(lane, closed_error, |ticket, reply| Job::Begin {
            read_only,
            ticket,
            reply,
        })
        .await?;
        Ok(SqliteTransaction::new(Lane::new(tx), read_only))
    }

    /// A cursor reading `chunk_size` rows per `fetch`. Reads on a file
    /// database stream from a dedicated thread and connection; otherwise the
    /// writer holds the statement between fetches (see the module docs).
    pub async fn cursor(
        &self,
        sql: &str,
        params: Vec<Value>,
        chunk_size: u32,
    ) -> Result<SqliteCursor, DbError> {
        self.check_open()?;
        let chunk = check_chunk_size(chunk_size)?;
        if !self.inner.readers.is_empty() && sql::is_read_statement(sql) {
            if let Some(cursor) = SqliteCursor::open_streamed(
                &self.inner.config,
                &self.inner.shared,
                sql,
                params.clone(),
                chunk,
            )
            .await?
            {
                return Ok(cursor);
            }
        }
        SqliteCursor::open_held(&self.inner.writer, sql, params, chunk, false, closed_error).await
    }

    pub fn stats(&self) -> SqliteStats {
        let shared = &self.inner.shared;
        SqliteStats {
            readers: self.inner.readers.len(),
            writer_queue: self.inner.writer.pending.load(Ordering::Relaxed),
            reader_queue: self
                .inner
                .readers
                .iter()
                .map(|l| l.pending.load(Ordering::Relaxed))
                .sum(),
            in_transaction: shared.in_transaction.load(Ordering::Relaxed),
            open_cursors: shared.open_cursors.load(Ordering::Relaxed),
            statements: shared.statements.load(Ordering::Relaxed),
            errors: shared.errors.load(Ordering::Relaxed),
            interrupted: shared.interrupted.load(Ordering::Relaxed),
            closed: self.inner.closed.load(Ordering::Relaxed),
        }
    }
}

//! Connection threads: each SQLite connection lives on its own std thread and
//! takes [`Job`]s from a channel; answers go back through tokio oneshots, so
//! tokio threads never block on SQLite.
//!
//! A thread's main loop runs jobs one after another. `Begin` turns the thread
//! over to a transaction: it opens a private job channel for the
//! [`SqliteTransaction`](super::SqliteTransaction) and serves only that
//! channel until commit, rollback or abandonment, so everything else sent to
//! the thread waits in its queue.
//!
//! Cancellation: every job carries a [`Ticket`]. A caller whose future is
//! dropped cancels the ticket: a job still queued is skipped, a running one is
//! interrupted with `sqlite3_interrupt` (the handle is only used while the
//! ticket's job is the one running, under the ticket's lock).

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::{Arc, Mutex};

use rusqlite::{Connection, InterruptHandle, OpenFlags, Statement};
use tokio::sync::oneshot;

use super::codec::{bind_params, ColumnCache, ColumnSet};
use super::config::{SqliteConfig, SqliteTarget};
use super::errors::map_error;
use super::sql::translate_placeholders;
use crate::db::{lock, quote_identifier, DbError, ErrorKind, Rows, Value};

pub(crate) type Reply<T> = oneshot::Sender<Result<T, DbError>>;

/// Work for a connection thread.
pub(crate) enum Job {
    /// One statement; rows are collected when `want_rows`, else only counted.
    Run {
        sql: String,
        params: Vec<Value>,
        want_rows: bool,
        ticket: Ticket,
        reply: Reply<Rows>,
    },
    /// One statement for many parameter rows, atomically.
    Many {
        sql: String,
        rows: Vec<Vec<Value>>,
        ticket: Ticket,
        reply: Reply<u64>,
    },
    /// Several statements, each with its own result.
    Pipeline {
        stmts: Vec<(String, Vec<Value>)>,
        ticket: Ticket,
        reply: Reply<Vec<Result<Rows, DbError>>>,
    },
    /// Start a transaction and serve it (main loop only).
    Begin {
        read_only: bool,
        ticket: Ticket,
        reply: Reply<Sender<Job>>,
    },
    /// Prepare a statement that this thread keeps for [`Job::Fetch`].
    OpenCursor {
        sql: String,
        params: Vec<Value>,
        ticket: Ticket,
        reply: Reply<(u64, Arc<[String]>)>,
    },
    /// The next chunk and whether the cursor is exhausted (and dropped) after it.
    Fetch {
        id: u64,
        max: usize,
        ticket: Ticket,
        reply: Reply<(Option<Rows>, bool)>,
    },
    CloseCursor {
        id: u64,
        done: Option<oneshot::Sender<()>>,
    },
    /// Transaction control (transaction channels only).
    Control { op: TxOp, reply: Reply<()> },
    /// The transaction handle was dropped unfinished: roll back.
    Abandon,
    /// Finish the queued jobs, then end the thread.
    Stop,
}

pub(crate) enum TxOp {
    Commit,
    Rollback,
    Savepoint(String),
    Release(String),
    RollbackTo(String),
}

/// Counters shared by a database's threads.
#[derive(Default)]
pub(crate) struct Shared {
    pub statements: AtomicU64,
    pub errors: AtomicU64,
    pub interrupted: AtomicU64,
    pub open_cursors: AtomicUsize,
    pub in_transaction: AtomicBool,
    pub next_cursor: AtomicU64,
}

/// A job channel and the count of its jobs queued or running.
#[derive(Clone)]
pub(crate) struct Lane {
    pub tx: Sender<Job>,
    pub pending: Arc<AtomicUsize>,
}

impl Lane {
    pub(crate) fn new(tx: Sender<Job>) -> Lane {
        Lane {
            tx,
            pending: Arc::new(AtomicUsize::new(0)),
        }
    }

    /// Queues `job`; gives it back when the thread is gone.
    pub(crate) fn send(&self, job: Job) -> Result<(), Job> {
        self.pending.fetch_add(1, Ordering::Relaxed);
        self.tx.send(job).map_err(|e| {
            self.pending.fetch_sub(1, Ordering::Relaxed);
            e.0
        })
    }
}

#[derive(Default)]
struct TicketState {
    cancelled: bool,
    running: Option<Arc<InterruptHandle>>,
}

/// The cancellation link between a caller and its job.
#[derive(Clone, Default)]
pub(crate) struct Ticket(Arc<Mutex<TicketState>>);

impl Ticket {
    /// Marks the job as running on the connection behind `handle`; false when
    /// the caller has already gone.
    fn start(&self, handle: &Arc<InterruptHandle>) -> bool {
        let mut state = lock(&self.0);
        if state.cancelled {
            return false;
        }
        state.running = Some(handle.clone());
        true
    }

    fn finish(&self) {
        lock(&self.0).running = None;
    }

    fn is_cancelled(&self) -> bool {
        lock(&self.0).cancelled
    }

    /// The caller went away: skip the job, or interrupt it if it is running.
    pub(crate) fn cancel(&self) {
        let mut state = lock(&self.0);
        state.cancelled = true;
        if let Some(handle) = state.running.take() {
            handle.interrupt();
        }
    }
}

/// Cancels its ticket when dropped before [`CancelOnDrop::disarm`].
pub(crate) struct CancelOnDrop(Option<Ticket>);

impl CancelOnDrop {
    pub(crate) fn new(ticket: Ticket) -> Self {
        CancelOnDrop(Some(ticket))
    }
    pub(crate) fn disarm(mut self) {
        self.0 = None;
    }
}

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        if let Some(ticket) = self.0.take() {
            ticket.cancel();
        }
    }
}

pub(crate) fn closed_error() -> DbError {
    DbError::new(ErrorKind::Interface, "the SQLite database is closed")
}

/// Sends a job built around a fresh ticket and reply channel, and waits for
/// the answer; dropping the returned future cancels the job.
pub(crate) async fn call<T>(
    lane: &Lane,
    gone: impl FnOnce() -> DbError,
    make: impl FnOnce(Ticket, Reply<T>) -> Job,
) -> Result<T, DbError> {
    let ticket = Ticket::default();
    let (reply, answer) = oneshot::channel();
    if lane.send(make(ticket.clone(), reply)).is_err() {
        return Err(gone());
    }
    let guard = CancelOnDrop::new(ticket);
    let out = answer.await;
    guard.disarm();
    out.unwrap_or_else(|_| Err(gone()))
}

/// Which connection a thread owns.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Role {
    Writer,
    Reader,
}

/// Opens and configures a connection: WAL (file databases, writer), busy
/// timeout, foreign keys, synchronous=NORMAL; readers run `query_only`.
pub(crate) fn open_connection(config: &SqliteConfig, role: Role) -> Result<Connection, DbError> {
    let conn = match (&config.target, role) {
        (SqliteTarget::Memory, _) => Connection::open_in_memory(),
        (SqliteTarget::File(path), Role::Writer) => Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE
                | OpenFlags::SQLITE_OPEN_CREATE
                | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        ),
        (SqliteTarget::File(path), Role::Reader) => Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        ),
    }
    .map_err(|e| {
        let mut err = map_error(e, None);
        if let SqliteTarget::File(path) = &config.target {
            err.message = format!("cannot open {}: {}", path.display(), err.message);
        }
        err.kind = ErrorKind::Operational;
        err
    })?;
    let setup = || -> rusqlite::Result<()> {
        conn.busy_timeout(config.busy_timeout)?;
        if role == Role::Writer && matches!(config.target, SqliteTarget::File(_)) {
            let _mode: String = conn.query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))?;
        }
        conn.execute_batch("PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;")?;
        if role == Role::Reader {
            conn.execute_batch("PRAGMA query_only=ON;")?;
        }
        super::functions::register(&conn)?;
        conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE_CAPACITY);
        Ok(())
    };
    setup().map_err(|e| map_error(e, None))?;
    Ok(conn)
}

/// One statement the thread keeps open for a cursor, stepped chunk by chunk.
struct HeldCursor<'c> {
    stmt: Statement<'c>,
    columns: ColumnSet,
    _count: CursorCount,
}

/// Counts an open cursor in [`Shared::open_cursors`] while alive.
pub(crate) struct CursorCount(Arc<Shared>);

impl CursorCount {
    pub(crate) fn new(shared: &Arc<Shared>) -> Self {
        shared.open_cursors.fetch_add(1, Ordering::Relaxed);
        CursorCount(shared.clone())
    }
}

impl Drop for CursorCount {
    fn drop(&mut self) {
        self.0.open_cursors.fetch_sub(1, Ordering::Relaxed);
    }
}

type Cursors<'c> = HashMap<u64, HeldCursor<'c>>;

/// Prepared statements each connection keeps (and result column sets, [`ColumnCache`]).
const STATEMENT_CACHE_CAPACITY: usize = 128;

/// A connection thread.
pub(crate) struct Worker {
    pub conn: Connection,
    /// The result columns of the statements `conn` caches.
    column_sets: ColumnCache,
    pub interrupt: Arc<InterruptHandle>,
    pub role: Role,
    pub shared: Arc<Shared>,
    /// Where a reader sends statements that turn out to write.
    pub writer: Option<Lane>,
}

impl Worker {
    pub(crate) fn new(
        conn: Connection,
        role: Role,
        shared: Arc<Shared>,
        writer: Option<Lane>,
    ) -> Worker {
        let interrupt = Arc::new(conn.get_interrupt_handle());
        Worker {
            conn,
            column_sets: ColumnCache::new(STATEMENT_CACHE_CAPACITY),
            interrupt,
            role,
            shared,
            writer,
        }
    }

    /// The main loop: jobs until `Stop` or until every sender is gone.
    pub(crate) fn run(&self, rx: Receiver<Job>, pending: &AtomicUsize) {
        let mut cursors = Cursors::new();
        while let Ok(job) = rx.recv() {
            let stop = matches!(job, Job::Stop);
            match job {
                Job::Begin {
                    read_only,
                    ticket,
                    reply,
                } => self.begin(read_only, ticket, reply),
                job => self.common(job, &mut cursors, self.role == Role::Reader),
            }
            pending.fetch_sub(1, Ordering::Relaxed);
            if stop {
                break;
            }
        }
    }

    /// Jobs valid both in the main loop and in a transaction, and the error
    /// answers to `Begin` and `Control` where neither loop takes them. With
    /// `forward_writes`, statements SQLite does not call read-only go to the writer.
    fn common<'c>(&'c self, job: Job, cursors: &mut Cursors<'c>, forward_writes: bool) {
        match job {
            Job::Run {
                sql,
                params,
                want_rows,
                ticket,
                reply,
            } => {
                if !ticket.start(&self.interrupt) {
                    return;
                }
                if forward_writes && !self.is_readonly(&sql) {
                    ticket.finish();
                    return self.forward(Job::Run {
                        sql,
                        params,
                        want_rows,
                        ticket,
                        reply,
                    });
                }
                let result = self.run_sql(&sql, &params, want_rows);
                self.done(&ticket, reply, result);
            }
            Job::Pipeline {
                stmts,
                ticket,
                reply,
            } => {
                if !ticket.start(&self.interrupt) {
                    return;
                }
                if forward_writes && !stmts.iter().all(|(sql, _)| self.is_readonly(sql)) {
                    ticket.finish();
                    return self.forward(Job::Pipeline {
                        stmts,
                        ticket,
                        reply,
                    });
                }
                let results: Vec<_> = stmts
                    .iter()
                    .map(|(sql, params)| {
                        let r = self.run_sql(sql, params, true);
                        self.count(&r, &ticket);
                        r
                    })
                    .collect();
                ticket.finish();
                let _ = reply.send(Ok(results));
            }
            Job::Many {
                sql,
                rows,
                ticket,
                reply,
            } => {
                if !ticket.start(&self.interrupt) {
                    return;
                }
                let result = self.execute_many(&sql, &rows);
                self.done(&ticket, reply, result);
            }
            Job::OpenCursor {
                sql,
                params,
                ticket,
                reply,
            } => {
                if !ticket.start(&self.interrupt) {
                    return;
                }
                let result = self.open_cursor(&sql, &params, cursors);
                self.done(&ticket, reply, result);
            }
            Job::Fetch {
                id,
                max,
                ticket,
                reply,
            } => {
                if !ticket.start(&self.interrupt) {
                    cursors.remove(&id);
                    return;
                }
                let result = fetch(cursors, id, max);
                self.done(&ticket, reply, result);
            }
            Job::CloseCursor { id, done } => {
                cursors.remove(&id);
                if let Some(done) = done {
                    let _ = done.send(());
                }
            }
            Job::Begin { reply, .. } => {
                let _ = reply.send(Err(DbError::new(
                    ErrorKind::Interface,
                    "a transaction is already active here: use a savepoint to nest",
                )));
            }
            Job::Control { reply, .. } => {
                let _ = reply.send(Err(DbError::new(
                    ErrorKind::Interface,
                    "no transaction is active",
                )));
            }
            Job::Stop | Job::Abandon => {}
        }
    }

    fn forward(&self, job: Job) {
        let writer = self.writer.as_ref().expect("readers have a writer lane");
        if let Err(job) = writer.send(job) {
            match job {
                Job::Run { reply, .. } => {
                    let _ = reply.send(Err(closed_error()));
                }
                Job::Pipeline { reply, .. } => {
                    let _ = reply.send(Err(closed_error()));
                }
                _ => {}
            }
        }
    }

    /// Whether SQLite calls the statement read-only (unparseable ones stay
    /// here so the reader reports the error).
    fn is_readonly(&self, sql: &str) -> bool {
        let Ok(translated) = translate_placeholders(sql) else {
            return true;
        };
        match self.conn.prepare_cached(&translated) {
            Ok(stmt) => stmt.readonly(),
            Err(_) => true,
        }
    }

    fn count<T>(&self, result: &Result<T, DbError>, ticket: &Ticket) {
        self.shared.statements.fetch_add(1, Ordering::Relaxed);
        if let Err(e) = result {
            self.shared.errors.fetch_add(1, Ordering::Relaxed);
            if e.kind == ErrorKind::Cancelled && ticket.is_cancelled() {
                self.shared.interrupted.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    fn done<T>(&self, ticket: &Ticket, reply: Reply<T>, result: Result<T, DbError>) {
        ticket.finish();
        self.count(&result, ticket);
        let _ = reply.send(result);
    }

    fn run_sql(&self, sql: &str, params: &[Value], want_rows: bool) -> Result<Rows, DbError> {
        let translated = translate_placeholders(sql).map_err(|e| e.with_sql(sql))?;
        let mut stmt = self
            .conn
            .prepare_cached(&translated)
            .map_err(|e| map_error(e, Some(sql)))?;
        self.step_all(&mut stmt, &translated, params, want_rows)
            .map_err(|e| e.with_sql(sql))
    }

    /// Binds and runs a prepared statement (of `translated`) to the end.
    fn step_all(
        &self,
        stmt: &mut Statement<'_>,
        translated: &str,
        params: &[Value],
        want_rows: bool,
    ) -> Result<Rows, DbError> {
        bind_params(stmt, params)?;
        let before = self.conn.total_changes();
        let mut out = Vec::new();
        let mut returned = 0u64;
        // The columns are read once the statement has stepped: a cached statement whose
        // tables changed since is prepared again by its first step, and only then
        // describes the columns it returns.
        let mut columns: Option<Arc<ColumnSet>> = None;
        {
            let mut rows = stmt.raw_query();
            while let Some(row) = rows.next().map_err(|e| map_error(e, None))? {
                returned += 1;
                if want_rows {
                    let set = columns
                        .get_or_insert_with(|| self.column_sets.of(translated, row.as_ref()));
                    out.push(set.read_row(row)?);
                }
            }
        }
        let columns = columns.unwrap_or_else(|| self.column_sets.of(translated, stmt));
        // `changes()` keeps the count of the last INSERT/UPDATE/DELETE: only
        // trust it when this statement changed something.
        let affected = if self.conn.total_changes() != before {
            self.conn.changes()
        } else {
            returned
        };
        Ok(Rows {
            columns: columns.names.clone(),
            rows: out,
            affected,
        })
    }

    /// One statement over many parameter rows: its own transaction in
    /// autocommit mode, a savepoint inside a transaction; all or nothing.
    fn execute_many(&self, sql: &str, rows: &[Vec<Value>]) -> Result<u64, DbError> {
        if rows.is_empty() {
            return Ok(0);
        }
        let translated = translate_placeholders(sql).map_err(|e| e.with_sql(sql))?;
        let outer = self.conn.is_autocommit();
        let (begin, commit, undo) = if outer {
            ("BEGIN IMMEDIATE", "COMMIT", "ROLLBACK")
        } else {
            (
                "SAVEPOINT hyperdjango_many",
                "RELEASE hyperdjango_many",
                "ROLLBACK TO hyperdjango_many; RELEASE hyperdjango_many",
            )
        };
        self.conn
            .execute_batch(begin)
            .map_err(|e| map_error(e, Some(sql)))?;
        let result = (|| {
            let mut stmt = self
                .conn
                .prepare_cached(&translated)
                .map_err(|e| map_error(e, Some(sql)))?;
            let mut total = 0u64;
            for (i, params) in rows.iter().enumerate() {
                let done = self
                    .step_all(&mut stmt, &translated, params, false)
                    .map_err(|mut e| {
                        e.message = format!("parameter row {i}: {}", e.message);
                        e.with_sql(sql)
                    })?;
                total += done.affected;
            }
            Ok(total)
        })();
        match result {
            Ok(total) => match self.conn.execute_batch(commit) {
                Ok(()) => Ok(total),
                Err(e) => {
                    if outer && !self.conn.is_autocommit() {
                        let _ = self.conn.execute_batch("ROLLBACK");
                    }
                    Err(map_error(e, Some(sql)))
                }
            },
            Err(e) => {
                if !self.conn.is_autocommit() {
                    let _ = self.conn.execute_batch(undo);
                }
                Err(e)
            }
        }
    }

    fn open_cursor<'c>(
        &'c self,
        sql: &str,
        params: &[Value],
        cursors: &mut Cursors<'c>,
    ) -> Result<(u64, Arc<[String]>), DbError> {
        let translated = translate_placeholders(sql).map_err(|e| e.with_sql(sql))?;
        // Not the statement cache: this statement stays mid-step between jobs.
        let mut stmt = self
            .conn
            .prepare(&translated)
            .map_err(|e| map_error(e, Some(sql)))?;
        bind_params(&mut stmt, params).map_err(|e| e.with_sql(sql))?;
        let columns = ColumnSet::of(&stmt);
        let names = columns.names.clone();
        let id = self.shared.next_cursor.fetch_add(1, Ordering::Relaxed) + 1;
        cursors.insert(
            id,
            HeldCursor {
                stmt,
                columns,
                _count: CursorCount::new(&self.shared),
            },
        );
        Ok((id, names))
    }

    /// Starts a transaction and serves it until it ends.
    fn begin(&self, read_only: bool, ticket: Ticket, reply: Reply<Sender<Job>>) {
        if !ticket.start(&self.interrupt) {
            return;
        }
        // Readers run `query_only` already; a read-only transaction on the
        // writer (in-memory databases, readers=0) switches it on for its span.
        let guard_writer = read_only && self.role == Role::Writer;
        let sql = match (self.role, read_only) {
            (Role::Writer, false) => "BEGIN IMMEDIATE",
            (Role::Writer, true) => "PRAGMA query_only=ON; BEGIN",
            (Role::Reader, _) => "BEGIN",
        };
        let started = self.conn.execute_batch(sql);
        ticket.finish();
        let reset = || {
            if guard_writer {
                let _ = self.conn.execute_batch("PRAGMA query_only=OFF");
            }
        };
        if let Err(e) = started {
            if !self.conn.is_autocommit() {
                let _ = self.conn.execute_batch("ROLLBACK");
            }
            reset();
            let _ = reply.send(Err(map_error(e, None)));
            return;
        }
        let (tx, rx) = channel();
        let holds_writer = self.role == Role::Writer && !read_only;
        if holds_writer {
            self.shared.in_transaction.store(true, Ordering::Relaxed);
        }
        if reply.send(Ok(tx)).is_err() {
            // The caller went away before getting the transaction.
            let _ = self.conn.execute_batch("ROLLBACK");
            self.shared.in_transaction.store(false, Ordering::Relaxed);
            reset();
            return;
        }
        self.serve_transaction(rx, holds_writer);
        if holds_writer {
            self.shared.in_transaction.store(false, Ordering::Relaxed);
        }
        reset();
    }

    /// Serves one transaction's channel until it ends. The channel's receiver
    /// is dropped on return, so later calls on the handle fail.
    fn serve_transaction(&self, rx: Receiver<Job>, holds_writer: bool) {
        let mut cursors = Cursors::new();
        loop {
            let Ok(job) = rx.recv() else {
                // Every handle is gone without commit: roll back.
                cursors.clear();
                self.rollback_quietly();
                return;
            };
            match job {
                Job::Abandon => {
                    cursors.clear();
                    self.rollback_quietly();
                    return;
                }
                Job::Control { op, reply } => {
                    let ends = matches!(op, TxOp::Commit | TxOp::Rollback);
                    if ends {
                        // Finalize open cursors first: COMMIT/ROLLBACK with
                        // statements mid-step would abort or fail them anyway.
                        cursors.clear();
                    }
                    let result = self.control(op);
                    if ends {
                        if !self.conn.is_autocommit() {
                            // A failed COMMIT (e.g. a deferred foreign key) ends
                            // the transaction too, as on PostgreSQL.
                            self.rollback_quietly();
                        }
                        if holds_writer {
                            // Before the answer, so the caller sees it cleared.
                            self.shared.in_transaction.store(false, Ordering::Relaxed);
                        }
                        let _ = reply.send(result);
                        return;
                    }
                    let _ = reply.send(result);
                }
                job => self.common(job, &mut cursors, false),
            }
            if self.conn.is_autocommit() {
                // SQLite rolled the transaction back itself (interrupt, full
                // disk, ...) or the caller ran COMMIT/ROLLBACK as SQL.
                return;
            }
        }
    }

    fn control(&self, op: TxOp) -> Result<(), DbError> {
        let sql = match &op {
            TxOp::Commit => "COMMIT".to_string(),
            TxOp::Rollback => "ROLLBACK".to_string(),
            TxOp::Savepoint(name) => format!("SAVEPOINT {}", quote_identifier(name)),
            TxOp::Release(name) => format!("RELEASE SAVEPOINT {}", quote_identifier(name)),
            TxOp::RollbackTo(name) => format!("ROLLBACK TO SAVEPOINT {}", quote_identifier(name)),
        };
        let result = self
            .conn
            .execute_batch(&sql)
            .map_err(|e| map_error(e, Some(&sql)));
        self.shared.statements.fetch_add(1, Ordering::Relaxed);
        if result.is_err() {
            self.shared.errors.fetch_add(1, Ordering::Relaxed);
        }
        result
    }

    fn rollback_quietly(&self) {
        if !self.conn.is_autocommit() {
            let _ = self.conn.execute_batch("ROLLBACK");
        }
    }
}

/// The next chunk of a held cursor (`None` when no rows are left) and
/// whether it is exhausted. The cursor is dropped (finalized) when it ends or fails.
fn fetch(cursors: &mut Cursors<'_>, id: u64, max: usize) -> Result<(Option<Rows>, bool), DbError> {
    let Some(cursor) = cursors.get_mut(&id) else {
        return Err(DbError::new(ErrorKind::Interface, "the cursor is closed"));
    };
    let read = {
        let mut rows = cursor.stmt.raw_query();
        let read = cursor.columns.read_chunk(&mut rows, max, None);
        if !read.finished && read.failure.is_none() {
            // Dropping `Rows` would reset the statement; forgetting it (it
            // owns no memory) leaves the statement mid-step for the next
            // fetch, whose fresh `Rows` continues from there.
            std::mem::forget(rows);
        }
        read
    };
    let columns = cursor.columns.names.clone();
    if read.finished || read.failure.is_some() {
        cursors.remove(&id);
    }
    if let Some(e) = read.failure {
        return Err(e);
    }
    if read.rows.is_empty() {
        return Ok((None, true));
    }
    let affected = read.rows.len() as u64;
    Ok((
        Some(Rows {
            columns,
            rows: read.rows,
            affected,
        }),
        read.finished,
    ))
}

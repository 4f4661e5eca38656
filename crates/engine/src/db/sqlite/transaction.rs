//! Transactions: a connection thread turned over to one handle.

use std::sync::atomic::{AtomicBool, Ordering};

use super::cursor::SqliteCursor;
use super::threads::{call, Job, Lane, TxOp};
use crate::db::{DbError, ErrorKind, Rows, Value};

/// An open transaction.
///
/// A read-write transaction holds the writer thread (`BEGIN IMMEDIATE`): its
/// calls run one after another on it, and every other write queues until
/// `commit`/`rollback`. A read-only one holds a reader thread (`BEGIN`, one
/// snapshot for its whole span) and leaves the writer free.
///
/// After `commit` or `rollback`, calls fail with an Interface error. Dropping
/// an unfinished transaction rolls it back and frees the connection. When
/// SQLite itself ends the transaction (a cancelled statement inside it is
/// interrupted, which rolls the transaction back; a full disk; `COMMIT` run
/// as SQL), later calls fail with an Operational error.
pub struct SqliteTransaction {
    lane: Lane,
    finished: AtomicBool,
    read_only: bool,
}

fn already_finished() -> DbError {
    DbError::new(
        ErrorKind::Interface,
        "the transaction is already committed or rolled back",
    )
}

fn ended() -> DbError {
    DbError::new(
        ErrorKind::Operational,
        "the transaction is no longer active: SQLite rolled it back after an error or an interrupted statement",
    )
}

impl SqliteTransaction {
    pub(crate) fn new(lane: Lane, read_only: bool) -> Self {
        SqliteTransaction {
            lane,
            finished: AtomicBool::new(false),
            read_only,
        }
    }

    /// Whether this is a read-only transaction (on a reader connection).
    pub fn is_read_only(&self) -> bool {
        self.read_only
    }

    fn check(&self) -> Result<(), DbError> {
        if self.finished.load(Ordering::Acquire) {
            Err(already_finished())
        } else {
            Ok(())
        }
    }

    pub async fn query(&self, sql: &str, params: Vec<Value>) -> Result<Rows, DbError> {
        self.check()?;
        let sql = sql.to_string();
        call(&self.lane, ended, |ticket, reply| Job::Run {
            sql,
            params,
            want_rows: true,
            ticket,
            reply,
        })
        .await
    }

    pub async fn execute(&self, sql: &str, params: Vec<Value>) -> Result<u64, DbError> {
        self.check()?;
        let sql = sql.to_string();
        let rows = call(&self.lane, ended, |ticket, reply| Job::Run {
            sql,
            params,
            want_rows: false,
            ticket,
            reply,
        })
        .await?;
        Ok(rows.affected)
    }

    /// Runs `sql` once per parameter row inside a savepoint: all rows or none
    /// (a failure leaves the transaction usable, without the batch).
    pub async fn execute_many(&self, sql: &str, rows: Vec<Vec<Value>>) -> Result<u64, DbError> {
        self.check()?;
        let sql = sql.to_string();
        call(&self.lane, ended, |ticket, reply| Job::Many {
            sql,
            rows,
            ticket,
            reply,
        })
        .await
    }

    /// Each statement's own result, in order; a failing statement is undone
    /// by SQLite (statement-level) and does not stop the others or end the
    /// transaction.
    pub async fn pipeline(
        &self,
        stmts: Vec<(String, Vec<Value>)>,
    ) -> Result<Vec<Result<Rows, DbError>>, DbError> {
        self.check()?;
        call(&self.lane, ended, |ticket, reply| Job::Pipeline {
            stmts,
            ticket,
            reply,
        })
        .await
    }

    /// A cursor inside the transaction (it sees the transaction's own
    /// changes; it closes when the transaction ends).
    pub async fn cursor(
        &self,
        sql: &str,
        params: Vec<Value>,
        chunk_size: u32,
    ) -> Result<SqliteCursor, DbError> {
        self.check()?;
        let chunk = super::check_chunk_size(chunk_size)?;
        SqliteCursor::open_held(&self.lane, sql, params, chunk, true, ended).await
    }

    pub async fn savepoint(&self, name: &str) -> Result<(), DbError> {
        self.control(TxOp::Savepoint(name.to_string())).await
    }

    pub async fn release(&self, name: &str) -> Result<(), DbError> {
        self.control(TxOp::Release(name.to_string())).await
    }

    pub async fn rollback_to(&self, name: &str) -> Result<(), DbError> {
        self.control(TxOp::RollbackTo(name.to_string())).await
    }

    /// Commits. A failed commit (e.g. a deferred foreign key) rolls back and
    /// ends the transaction as well.
    pub async fn commit(&self) -> Result<(), DbError> {
        self.finish(TxOp::Commit).await
    }

    pub async fn rollback(&self) -> Result<(), DbError> {
        match self.finish(TxOp::Rollback).await {
            // Already rolled back by SQLite: nothing left to undo.
            Err(e) if e.kind == ErrorKind::Operational && e.message == ended().message => Ok(()),
            other => other,
        }
    }

    async fn control(&self, op: TxOp) -> Result<(), DbError> {
        self.check()?;
        self.send_control(op).await
    }

    async fn finish(&self, op: TxOp) -> Result<(), DbError> {
        if self.finished.swap(true, Ordering::AcqRel) {
            return Err(already_finished());
        }
        self.send_control(op).await
    }

    /// Control jobs are not cancellable: once sent they run even if the
    /// caller goes away.
    async fn send_control(&self, op: TxOp) -> Result<(), DbError> {
        let (reply, answer) = tokio::sync::oneshot::channel();
        self.lane
            .send(Job::Control { op, reply })
            .map_err(|_| ended())?;
        answer.await.unwrap_or_else(|_| Err(ended()))
    }
}

impl std::fmt::Debug for SqliteTransaction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteTransaction")
            .field("read_only", &self.read_only)
            .field("finished", &self.finished.load(Ordering::Relaxed))
            .finish()
    }
}

impl Drop for SqliteTransaction {
    fn drop(&mut self) {
        if !self.finished.load(Ordering::Acquire) {
            let _ = self.lane.send(Job::Abandon);
        }
    }
}

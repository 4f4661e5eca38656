//! Cursors: results handed over in chunks, never collected whole.
//!
//! Two kinds:
//! - **streamed** (reads outside a transaction on a file database): a
//!   dedicated thread opens its own read-only connection, steps the statement
//!   and sends chunks through a bounded channel (one chunk in flight), so at
//!   most about two chunks exist at a time and the reader pool stays free.
//! - **held** (inside a transaction, on in-memory databases or readers=0, and
//!   for statements that write): the connection thread that owns the
//!   transaction or the writer keeps the prepared statement mid-step and
//!   answers each `fetch` with the next chunk, between its other jobs.

use std::sync::Arc;

use rusqlite::InterruptHandle;
use tokio::sync::{mpsc, oneshot};

use super::codec::{bind_params, ColumnSet};
use super::config::SqliteConfig;
use super::errors::map_error;
use super::sql::translate_placeholders;
use super::threads::{call, open_connection, CursorCount, Job, Lane, Role, Shared};
use crate::db::{DbError, ErrorKind, Rows, Value};

/// A result set read in chunks of `chunk_size` rows.
pub struct SqliteCursor {
    kind: Kind,
    columns: Arc<[String]>,
    finished: bool,
}

enum Kind {
    Streamed {
        chunks: mpsc::Receiver<Result<Rows, DbError>>,
        interrupt: Arc<InterruptHandle>,
    },
    Held {
        lane: Lane,
        id: u64,
        chunk: usize,
        in_transaction: bool,
    },
}

/// What the streaming thread reports once the statement is prepared.
pub(crate) enum StreamStart {
    Ready(Arc<[String]>, Arc<InterruptHandle>),
    /// SQLite says the statement writes: run it as a held cursor on the writer.
    Writes,
}

impl SqliteCursor {
    /// The result's column names.
    pub fn columns(&self) -> &Arc<[String]> {
        &self.columns
    }

    /// The next chunk (at most `chunk_size` rows, never empty), or `None` at the end.
    ///
    /// Cancelling a `fetch` of a held cursor interrupts it and closes the cursor.
    pub async fn fetch(&mut self) -> Result<Option<Rows>, DbError> {
        if self.finished {
            return Ok(None);
        }
        let (result, exhausted) = match &mut self.kind {
            Kind::Streamed { chunks, .. } => match chunks.recv().await {
                Some(Ok(rows)) => (Ok(Some(rows)), false),
                Some(Err(e)) => (Err(e), true),
                None => (Ok(None), true),
            },
            Kind::Held {
                lane,
                id,
                chunk,
                in_transaction,
            } => {
                let (id, max, in_tx) = (*id, *chunk, *in_transaction);
                match call(
                    lane,
                    move || gone_error(in_tx),
                    |ticket, reply| Job::Fetch {
                        id,
                        max,
                        ticket,
                        reply,
                    },
                )
                .await
                {
                    Ok((rows, exhausted)) => (Ok(rows), exhausted),
                    Err(e) => (Err(e), true),
                }
            }
        };
        if exhausted || !matches!(result, Ok(Some(_))) {
            self.finished = true;
        }
        result
    }

    /// Stops the cursor and frees its statement (and its thread or snapshot).
    pub async fn close(mut self) {
        if self.finished {
            return;
        }
        self.finished = true;
        match &self.kind {
            Kind::Streamed { interrupt, .. } => interrupt.interrupt(),
            Kind::Held { lane, id, .. } => {
                let (done, wait) = oneshot::channel();
                if lane
                    .send(Job::CloseCursor {
                        id: *id,
                        done: Some(done),
                    })
                    .is_ok()
                {
                    let _ = wait.await;
                }
            }
        }
    }

    pub(crate) fn held(
        lane: Lane,
        id: u64,
        columns: Arc<[String]>,
        chunk: usize,
        in_transaction: bool,
    ) -> Self {
        SqliteCursor {
            kind: Kind::Held {
                lane,
                id,
                chunk,
                in_transaction,
            },
            columns,
            finished: false,
        }
    }

    /// Opens a held cursor on `lane` (the writer or a transaction's channel).
    pub(crate) async fn open_held(
        lane: &Lane,
        sql: &str,
        params: Vec<Value>,
        chunk: usize,
        in_transaction: bool,
        gone: impl FnOnce() -> DbError,
    ) -> Result<SqliteCursor, DbError> {
        let sql = sql.to_string();
        let (id, columns) = call(lane, gone, |ticket, reply| Job::OpenCursor {
            sql,
            params,
            ticket,
            reply,
        })
        .await?;
        Ok(SqliteCursor::held(
            lane.clone(),
            id,
            columns,
            chunk,
            in_transaction,
        ))
    }

    /// Starts a streaming thread; `Ok(None)` when the statement writes.
    pub(crate) async fn open_streamed(
        config: &SqliteConfig,
        shared: &Arc<Shared>,
        sql: &str,
        params: Vec<Value>,
        chunk: usize,
    ) -> Result<Option<SqliteCursor>, DbError> {
        let (started_tx, started) = oneshot::channel();
        let (chunks_tx, chunks) = mpsc::channel(1);
        let config = config.clone();
        let shared = shared.clone();
        let sql = sql.to_string();
        std::thread::Builder::new()
            .name("hyperdjango-sqlite-cursor".into())
            .spawn(move || stream(config, shared, sql, params, chunk, started_tx, chunks_tx))
            .map_err(|e| {
                DbError::new(
                    ErrorKind::Operational,
                    format!("cannot start a cursor thread: {e}"),
                )
            })?;
        match started.await {
            Ok(Ok(StreamStart::Ready(columns, interrupt))) => Ok(Some(SqliteCursor {
                kind: Kind::Streamed { chunks, interrupt },
                columns,
                finished: false,
            })),
            Ok(Ok(StreamStart::Writes)) => Ok(None),
            Ok(Err(e)) => Err(e),
            Err(_) => Err(DbError::new(
                ErrorKind::Operational,
                "the cursor thread ended unexpectedly",
            )),
        }
    }
}

impl std::fmt::Debug for SqliteCursor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = match self.kind {
            Kind::Streamed { .. } => "streamed",
            Kind::Held { .. } => "held",
        };
        f.debug_struct("SqliteCursor")
            .field("kind", &kind)
            .field("columns", &self.columns)
            .field("finished", &self.finished)
            .finish()
    }
}

fn gone_error(in_transaction: bool) -> DbError {
    if in_transaction {
        DbError::new(ErrorKind::Interface, "the cursor's transaction has ended")
    } else {
        super::threads::closed_error()
    }
}

impl Drop for SqliteCursor {
    fn drop(&mut self) {
        if self.finished {
            return;
        }
        match &self.kind {
            // The thread stops at its next step or send.
            Kind::Streamed { interrupt, .. } => interrupt.interrupt(),
            Kind::Held { lane, id, .. } => {
                let _ = lane.send(Job::CloseCursor {
                    id: *id,
                    done: None,
                });
            }
        }
    }
}

/// The streaming thread: its own read-only connection, one statement, chunks
/// sent until the end, an error, or the receiver going away.
fn stream(
    config: SqliteConfig,
    shared: Arc<Shared>,
    sql: String,
    params: Vec<Value>,
    chunk: usize,
    started: oneshot::Sender<Result<StreamStart, DbError>>,
    chunks: mpsc::Sender<Result<Rows, DbError>>,
) {
    let conn = match open_connection(&config, Role::Reader) {
        Ok(conn) => conn,
        Err(e) => {
            let _ = started.send(Err(e));
            return;
        }
    };
    let interrupt = Arc::new(conn.get_interrupt_handle());
    let prepared = (|| {
        let translated = translate_placeholders(&sql).map_err(|e| e.with_sql(&sql))?;
        let mut stmt = conn
            .prepare(&translated)
            .map_err(|e| map_error(e, Some(&sql)))?;
        if !stmt.readonly() {
            return Ok(None);
        }
        bind_params(&mut stmt, &params).map_err(|e| e.with_sql(&sql))?;
        Ok(Some(stmt))
    })();
    let mut stmt = match prepared {
        Ok(Some(stmt)) => stmt,
        Ok(None) => {
            let _ = started.send(Ok(StreamStart::Writes));
            return;
        }
        Err(e) => {
            let _ = started.send(Err(e));
            return;
        }
    };
    let columns = ColumnSet::of(&stmt);
    let _count = CursorCount::new(&shared);
    if started
        .send(Ok(StreamStart::Ready(columns.names.clone(), interrupt)))
        .is_err()
    {
        return;
    }
    let mut rows = stmt.raw_query();
    loop {
        let read = columns.read_chunk(&mut rows, chunk, Some(&sql));
        if !read.rows.is_empty() {
            let affected = read.rows.len() as u64;
            let batch = Rows {
                columns: columns.names.clone(),
                rows: read.rows,
                affected,
            };
            if chunks.blocking_send(Ok(batch)).is_err() {
                return;
            }
        }
        if let Some(e) = read.failure {
            let _ = chunks.blocking_send(Err(e));
            return;
        }
        if read.finished {
            return;
        }
    }
}

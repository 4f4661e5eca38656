//! Transactions on an exclusive connection.
//!
//! Statements of one transaction run one after another (a tokio mutex), never
//! pipelined concurrently. Dropping an unfinished [`PgTransaction`] rolls it
//! back in the background; a connection whose state is unknown (the rollback
//! failed, the connection was lost) is closed, never returned to the pool.

use std::future::Future;
use std::sync::Arc;

use tokio::sync::{Mutex as AsyncMutex, OwnedMutexGuard};

use super::cursor::PgCursor;
use super::pool::{cancelled_error, run_op, Conn, ExclusiveLease, PoolInner, ReqCtl};
use super::{execute_rows, run_pipeline};
use crate::db::{quote_identifier, DbError, ErrorKind, Rows, Value};

pub(crate) struct TxState {
    lease: Option<ExclusiveLease>,
    finished: Option<&'static str>,
    /// A statement failed since the last `rollback_to`: the transaction may be aborted.
    maybe_aborted: bool,
}

impl TxState {
    fn conn(&self) -> Result<Arc<Conn>, DbError> {
        if let Some(how) = self.finished {
            return Err(DbError::new(
                ErrorKind::Interface,
                format!("the transaction is already {how}"),
            ));
        }
        match &self.lease {
            Some(lease) => Ok(lease.conn.clone()),
            None => Err(DbError::new(
                ErrorKind::Interface,
                "the transaction has no connection",
            )),
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum End {
    Commit,
    Rollback,
    /// Commit unless a statement failed (then roll back quietly): for cursors.
    CommitIfClean,
}

/// What a transaction and the cursors opened in it share.
pub(crate) struct TxShared {
    pub pool: Arc<PoolInner>,
    state: Arc<AsyncMutex<TxState>>,
}

impl TxShared {
    /// Runs `f` with the transaction's state locked (after any statement
    /// before it) and its connection. A caller that gives up while waiting
    /// for the lock gets a Cancelled error and `f` never runs.
    async fn locked<T, F, Fut>(&self, f: F) -> Result<T, DbError>
    where
        F: FnOnce(OwnedMutexGuard<TxState>, Arc<Conn>, Arc<ReqCtl>) -> Fut + Send + 'static,
        Fut: Future<Output = Result<T, DbError>> + Send + 'static,
        T: Send + 'static,
    {
        let state = self.state.clone();
        run_op(&self.pool.rt, move |ctl| async move {
            let st = tokio::select! {
                biased;
                guard = state.lock_owned() => guard,
                _ = ctl.cancelled() => return Err(cancelled_error()),
            };
            let conn = st.conn()?;
            f(st, conn, ctl).await
        })
        .await
    }

    /// Runs `f` on the transaction's connection, after any statement before it.
    pub(crate) async fn run<T, F, Fut>(&self, f: F) -> Result<T, DbError>
    where
        F: FnOnce(Arc<Conn>, Arc<ReqCtl>) -> Fut + Send + 'static,
        Fut: Future<Output = Result<T, DbError>> + Send + 'static,
        T: Send + 'static,
    {
        self.locked(move |mut st, conn, ctl| async move {
            let result = f(conn.clone(), ctl).await;
            if let Err(e) = &result {
                st.maybe_aborted = true;
                conn.note_error(e);
            }
            result
        })
        .await
    }

    /// One statement: its rows, or (`want_rows` false) just the affected count.
    async fn statement(
        &self,
        sql: &str,
        params: Vec<Value>,
        want_rows: bool,
    ) -> Result<Rows, DbError> {
        let sql = sql.to_string();
        self.run(move |conn, ctl| async move {
            let result = async {
                let p = conn.prepare(&sql).await?;
                conn.run_statement(&ctl, &p, &params, want_rows).await
            }
            .await
            .map_err(|e| e.with_sql(&sql));
            if let Err(e) = &result {
                // It cannot be retried here (the transaction is aborted); the
                // next use prepares it again.
                conn.evict_if_stale(&sql, e);
            }
            result
        })
        .await
    }

    /// A parameterless statement in the simple protocol (SAVEPOINT, CLOSE ...).
    pub(crate) async fn simple(&self, sql: String, clears_abort: bool) -> Result<(), DbError> {
        self.locked(move |mut st, conn, ctl| async move {
            match conn.simple(Some(&ctl), &sql).await {
                Ok(()) => {
                    if clears_abort {
                        st.maybe_aborted = false;
                    }
                    Ok(())
                }
                Err(e) => {
                    st.maybe_aborted = true;
                    Err(e)
                }
            }
        })
        .await
    }

    /// Commits or rolls back, then returns the connection to the pool (or
    /// closes it if its state is unknown). Not cancelled by dropping the future.
    pub(crate) async fn end(&self, end: End) -> Result<(), DbError> {
        let state = self.state.clone();
        run_op(&self.pool.rt, move |_ctl| async move {
            let mut st = state.lock_owned().await;
            st.conn()?;
            let Some(lease) = st.lease.take() else {
                return Err(DbError::new(ErrorKind::Interface, "the transaction has no connection"));
            };
            let conn = lease.conn.clone();
            let mut end = end;
            if st.maybe_aborted && end != End::Rollback {
                // COMMIT in an aborted transaction silently rolls back: find out first.
                match conn.simple(None, "SELECT 1").await {
                    Err(e) if e.sqlstate.as_deref() == Some("25P02") => {
                        if end == End::CommitIfClean {
                            end = End::Rollback;
                        } else {
                            st.finished = Some("rolled back");
                            lease.rollback_and_release().await;
                            return Err(DbError::from_sqlstate(
                                "25P02",
                                "the transaction was aborted by an earlier error and has been rolled back, not committed",
                            ));
                        }
                    }
                    Err(e) if e.is_connection_loss() => {
                        st.finished = Some("rolled back");
                        return Err(e);
                    }
                    _ => {}
                }
            }
            let (sql, how) = match end {
                End::Rollback => ("ROLLBACK", "rolled back"),
                End::Commit | End::CommitIfClean => ("COMMIT", "committed"),
            };
            st.finished = Some(how);
            match conn.simple(None, sql).await {
                Ok(()) => {
                    lease.release();
                    Ok(())
                }
                Err(e) => {
                    // A failed COMMIT ends the transaction; make sure before reuse.
                    st.finished = Some("rolled back");
                    if !e.is_connection_loss() {
                        lease.rollback_and_release().await;
                    }
                    Err(e)
                }
            }
        })
        .await
    }

    /// Rolls back in the background (for drops).
    pub(crate) fn rollback_in_background(&self) {
        let state = self.state.clone();
        self.pool.rt.spawn(async move {
            let mut st = state.lock_owned().await;
            if st.finished.is_some() {
                return;
            }
            st.finished = Some("rolled back");
            if let Some(lease) = st.lease.take() {
                if !lease.conn.is_dead() {
                    lease.rollback_and_release().await;
                }
            }
        });
    }
}

/// A savepoint name quoted for SQL; PostgreSQL rejects an empty identifier and
/// the protocol cannot carry a NUL, so both are refused here with a clear error.
fn savepoint_identifier(name: &str) -> Result<String, DbError> {
    if name.is_empty() || name.contains('\0') {
        return Err(DbError::new(
            ErrorKind::Interface,
            format!("invalid savepoint name {name:?}"),
        ));
    }
    Ok(quote_identifier(name))
}

/// A transaction on a connection of its own. Methods take `&self` and run one
/// after another; `commit`/`rollback` end it (later calls are Interface errors);
/// dropping it unfinished rolls it back.
pub struct PgTransaction {
    shared: Arc<TxShared>,
    rollback_on_drop: bool,
}

impl std::fmt::Debug for PgTransaction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgTransaction").finish_non_exhaustive()
    }
}

impl PgTransaction {
    pub(crate) fn new(pool: Arc<PoolInner>, lease: ExclusiveLease) -> Self {
        let state = TxState {
            lease: Some(lease),
            finished: None,
            maybe_aborted: false,
        };
        PgTransaction {
            shared: Arc::new(TxShared {
                pool,
                state: Arc::new(AsyncMutex::new(state)),
            }),
            rollback_on_drop: true,
        }
    }

    /// Hands the transaction to a cursor that owns it.
    pub(crate) fn into_shared(mut self) -> Arc<TxShared> {
        self.rollback_on_drop = false;
        self.shared.clone()
    }

    pub async fn query(&self, sql: &str, params: Vec<Value>) -> Result<Rows, DbError> {
        self.shared.statement(sql, params, true).await
    }

    pub async fn execute(&self, sql: &str, params: Vec<Value>) -> Result<u64, DbError> {
        self.shared
            .statement(sql, params, false)
            .await
            .map(|r| r.affected)
    }

    /// One statement per parameter row, pipelined; the first failing row's error
    /// (the transaction is then aborted, as for any failed statement).
    pub async fn execute_many(&self, sql: &str, rows: Vec<Vec<Value>>) -> Result<u64, DbError> {
        if rows.is_empty() {
            return Ok(0);
        }
        let sql = sql.to_string();
        self.shared
            .run(move |conn, ctl| async move {
                let p = conn.prepare(&sql).await?;
                execute_rows(&conn, &ctl, &p, &rows)
                    .await
                    .map_err(|e| e.with_sql(&sql))
            })
            .await
    }

    /// `COPY table (columns) FROM STDIN` (binary) of `rows`, in this transaction.
    pub async fn copy_in(
        &self,
        table: &str,
        columns: Vec<String>,
        rows: Vec<Vec<Value>>,
    ) -> Result<u64, DbError> {
        if rows.is_empty() {
            return Ok(0);
        }
        let table = table.to_string();
        self.shared
            .run(move |conn, ctl| async move {
                super::copy::copy_rows(&conn, &ctl, &table, &columns, &rows).await
            })
            .await
    }

    /// All statements in one round trip, each with its own result. Inside a
    /// transaction a failed statement aborts it, so the ones after it fail too.
    pub async fn pipeline(
        &self,
        stmts: Vec<(String, Vec<Value>)>,
    ) -> Result<Vec<Result<Rows, DbError>>, DbError> {
        if stmts.is_empty() {
            return Ok(Vec::new());
        }
        self.shared
            .locked(move |mut st, conn, ctl| async move {
                let results = run_pipeline(&conn, &ctl, &stmts).await;
                for r in &results {
                    if let Err(e) = r {
                        st.maybe_aborted = true;
                        conn.note_error(e);
                    }
                }
                Ok(results)
            })
            .await
    }

    /// A server-side cursor inside this transaction (closed when exhausted,
    /// closed, dropped, or when the transaction ends).
    pub async fn cursor(
        &self,
        sql: &str,
        params: Vec<Value>,
        chunk_size: u32,
    ) -> Result<PgCursor, DbError> {
        PgCursor::open(self.shared.clone(), false, sql, params, chunk_size).await
    }

    pub async fn savepoint(&self, name: &str) -> Result<(), DbError> {
        self.shared
            .simple(format!("SAVEPOINT {}", savepoint_identifier(name)?), false)
            .await
    }

    pub async fn release(&self, name: &str) -> Result<(), DbError> {
        self.shared
            .simple(
                format!("RELEASE SAVEPOINT {}", savepoint_identifier(name)?),
                false,
            )
            .await
    }

    /// Undoes the work since the savepoint; the transaction is usable again
    /// after a failed statement.
    pub async fn rollback_to(&self, name: &str) -> Result<(), DbError> {
        self.shared
            .simple(
                format!("ROLLBACK TO SAVEPOINT {}", savepoint_identifier(name)?),
                true,
            )
            .await
    }

    /// Commits. If a statement failed and left the transaction aborted (and no
    /// `rollback_to` repaired it), the transaction is rolled back and this
    /// returns an error with SQLSTATE 25P02 instead of committing silently nothing.
    pub async fn commit(&self) -> Result<(), DbError> {
        self.shared.end(End::Commit).await
    }

    pub async fn rollback(&self) -> Result<(), DbError> {
        self.shared.end(End::Rollback).await
    }
}

impl Drop for PgTransaction {
    fn drop(&mut self) {
        if self.rollback_on_drop {
            self.shared.rollback_in_background();
        }
    }
}

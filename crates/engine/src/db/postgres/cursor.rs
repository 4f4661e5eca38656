//! Server-side cursors: `DECLARE ... NO SCROLL CURSOR`, then `FETCH FORWARD n`
//! per [`PgCursor::fetch`], so memory stays at one chunk whatever the result size.

use std::sync::Arc;

use super::pool::Prepared;
use super::transaction::{End, TxShared};
use crate::db::{DbError, Rows, Value};

/// A server-side cursor, in a transaction of its own (from
/// `PgDatabase::cursor`) or inside a `PgTransaction`.
///
/// `fetch` returns up to `chunk_size` rows, then `None` once exhausted. The
/// cursor closes itself when exhausted (its own transaction is committed and
/// its connection returned); `close` or dropping it closes it earlier.
pub struct PgCursor {
    tx: Arc<TxShared>,
    owns_tx: bool,
    name: String,
    fetch: Option<Prepared>,
    chunk_size: u32,
    done: bool,
}

impl std::fmt::Debug for PgCursor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgCursor")
            .field("name", &self.name)
            .field("chunk_size", &self.chunk_size)
            .field("done", &self.done)
            .finish()
    }
}

impl PgCursor {
    pub(crate) async fn open(
        tx: Arc<TxShared>,
        owns_tx: bool,
        sql: &str,
        params: Vec<Value>,
        chunk_size: u32,
    ) -> Result<PgCursor, DbError> {
        let chunk_size = chunk_size.max(1);
        let seq = tx
            .pool
            .cursor_seq
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let name = format!("hdj_cursor_{seq}");
        let body = sql.trim_end().trim_end_matches(';');
        let declare = format!("DECLARE {name} NO SCROLL CURSOR FOR {body}");
        let fetch_sql = format!("FETCH FORWARD {chunk_size} FROM {name}");
        let original = sql.to_string();
        let opened = tx
            .run(move |conn, ctl| async move {
                let declared = async {
                    let p = conn.prepare_uncached(&declare).await?;
                    conn.tracked(Some(&ctl), conn.execute_stmt(&p, &params))
                        .await
                }
                .await;
                declared.map_err(|mut e| {
                    e.sql = Some(original);
                    e
                })?;
                conn.prepare_uncached(&fetch_sql).await
            })
            .await;
        match opened {
            Ok(fetch) => Ok(PgCursor {
                tx,
                owns_tx,
                name,
                fetch: Some(fetch),
                chunk_size,
                done: false,
            }),
            Err(e) => {
                if owns_tx {
                    tx.rollback_in_background();
                }
                Err(e)
            }
        }
    }

    /// The next chunk of rows, or `None` when the cursor is exhausted.
    pub async fn fetch(&mut self) -> Result<Option<Rows>, DbError> {
        if self.done {
            return Ok(None);
        }
        let Some(fetch) = self.fetch.clone() else {
            return Ok(None);
        };
        let chunk = self.chunk_size as usize;
        let rows = self
            .tx
            .run(move |conn, ctl| async move {
                conn.tracked(Some(&ctl), conn.query_rows(&fetch, &[])).await
            })
            .await?;
        if rows.rows.len() < chunk {
            self.finish().await;
        }
        if rows.rows.is_empty() {
            Ok(None)
        } else {
            Ok(Some(rows))
        }
    }

    /// Closes the cursor (and ends its own transaction).
    pub async fn close(mut self) {
        if !self.done {
            self.finish().await;
        }
    }

    async fn finish(&mut self) {
        self.done = true;
        self.fetch = None;
        if self.owns_tx {
            let _ = self.tx.end(End::CommitIfClean).await;
        } else {
            let _ = self.tx.simple(format!("CLOSE {}", self.name), false).await;
        }
    }
}

impl Drop for PgCursor {
    fn drop(&mut self) {
        if self.done {
            return;
        }
        if self.owns_tx {
            self.tx.rollback_in_background();
        } else {
            let tx = self.tx.clone();
            let name = std::mem::take(&mut self.name);
            self.tx.pool.rt.spawn(async move {
                let _ = tx.simple(format!("CLOSE {name}"), false).await;
            });
        }
    }
}

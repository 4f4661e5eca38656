//! Database drivers: PostgreSQL (tokio-postgres) and SQLite (rusqlite), one vocabulary.
//!
//! Both backends take parameters as [`Value`]s bound to `$1, $2, ...`
//! placeholders (never interpolated), collect result rows fully in Rust as
//! [`Rows`], and report failures as [`DbError`] with the SQLSTATE when the
//! server gave one. Each backend module has the same shape: `config.rs`,
//! `pool.rs` (or `threads.rs`), `codec.rs`, `transaction.rs`, `cursor.rs`.

// `DbError` carries the server's whole diagnostic (SQLSTATE, constraint, detail, hint, SQL)
// and is built only on the error path: a boxed error would cost an allocation per failure
// and a change to every driver signature for no gain on the rows' path.
#![allow(clippy::result_large_err)]

mod backend;
mod error;
pub mod postgres;
pub mod sqlite;
mod value;

pub use backend::{
    backend_of, listen_not_supported, Cursor, Database, PipelineResults, Transaction,
};
pub use error::{DbError, ErrorKind};
pub use value::{Rows, Value};

use std::sync::{Mutex, MutexGuard};

/// Locks `m`, ignoring poisoning: one caller panicking while it held the lock
/// must not make the database unusable for every caller after it.
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// `name` as a double-quoted SQL identifier (PostgreSQL and SQLite quote alike).
pub(crate) fn quote_identifier(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// Transaction isolation levels (PostgreSQL's names; SQLite is always serializable).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Isolation {
    ReadUncommitted,
    ReadCommitted,
    RepeatableRead,
    Serializable,
}

impl Isolation {
    /// Parses `"read committed"`, `"repeatable_read"`, `"SERIALIZABLE"`, ...
    pub fn parse(name: &str) -> Option<Self> {
        let norm: String = name
            .chars()
            .map(|c| {
                if c == '_' || c == '-' {
                    ' '
                } else {
                    c.to_ascii_lowercase()
                }
            })
            .collect();
        Some(match norm.trim() {
            "read uncommitted" => Isolation::ReadUncommitted,
            "read committed" => Isolation::ReadCommitted,
            "repeatable read" => Isolation::RepeatableRead,
            "serializable" => Isolation::Serializable,
            _ => return None,
        })
    }

    /// The SQL spelling, as in `BEGIN ISOLATION LEVEL <sql>`.
    pub fn sql(self) -> &'static str {
        match self {
            Isolation::ReadUncommitted => "READ UNCOMMITTED",
            Isolation::ReadCommitted => "READ COMMITTED",
            Isolation::RepeatableRead => "REPEATABLE READ",
            Isolation::Serializable => "SERIALIZABLE",
        }
    }
}

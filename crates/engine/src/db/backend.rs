//! One database handle over either backend, chosen by the URL's scheme.

use super::postgres::{ListenerEvent, PgConfig, PgCursor, PgDatabase, PgListener, PgTransaction};
use super::sqlite::{SqliteConfig, SqliteCursor, SqliteDatabase, SqliteTransaction};
use super::{DbError, ErrorKind, Isolation, Rows, Value};

/// A connected database: PostgreSQL or SQLite.
#[derive(Clone)]
pub enum Database {
    Postgres(PgDatabase),
    Sqlite(SqliteDatabase),
}

/// A transaction holding one connection until commit or rollback.
pub enum Transaction {
    Postgres(PgTransaction),
    Sqlite(SqliteTransaction),
}

/// A server-side cursor (PostgreSQL) or a streaming statement (SQLite).
pub enum Cursor {
    Postgres(PgCursor),
    Sqlite(SqliteCursor),
}

/// The results of a pipeline: one entry per statement, in order.
pub type PipelineResults = Vec<Result<Rows, DbError>>;

/// Which backend a URL names.
pub fn backend_of(url: &str) -> Result<&'static str, DbError> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok("postgresql")
    } else if url.starts_with("sqlite:") {
        Ok("sqlite")
    } else {
        Err(DbError::new(
            ErrorKind::Interface,
            format!(
                "unsupported database URL {url:?}: use postgres://, postgresql:// or sqlite://"
            ),
        ))
    }
}

/// Calls the same method on whichever backend `$self` holds.
macro_rules! dispatch {
    ($self:expr, $enum:ident, $inner:ident => $call:expr) => {
        match $self {
            $enum::Postgres($inner) => $call,
            $enum::Sqlite($inner) => $call,
        }
    };
}

/// The statement methods `Database` and `Transaction` both have, each calling its
/// backend's own.
macro_rules! statement_methods {
    ($enum:ident, $inner:ident) => {
        pub async fn query(&self, sql: &str, params: Vec<Value>) -> Result<Rows, DbError> {
            dispatch!(self, $enum, $inner => $inner.query(sql, params).await)
        }

        pub async fn execute(&self, sql: &str, params: Vec<Value>) -> Result<u64, DbError> {
            dispatch!(self, $enum, $inner => $inner.execute(sql, params).await)
        }

        pub async fn execute_many(&self, sql: &str, rows: Vec<Vec<Value>>) -> Result<u64, DbError> {
            dispatch!(self, $enum, $inner => $inner.execute_many(sql, rows).await)
        }

        /// Binary `COPY table (columns) FROM STDIN` of `rows` (PostgreSQL); an Interface
        /// error on SQLite.
        pub async fn copy_in(
            &self,
            table: &str,
            columns: Vec<String>,
            rows: Vec<Vec<Value>>,
        ) -> Result<u64, DbError> {
            match self {
                $enum::Postgres($inner) => $inner.copy_in(table, columns, rows).await,
                $enum::Sqlite(_) => Err(copy_not_supported("SQLite")),
            }
        }

        pub async fn pipeline(
            &self,
            stmts: Vec<(String, Vec<Value>)>,
        ) -> Result<PipelineResults, DbError> {
            dispatch!(self, $enum, $inner => $inner.pipeline(stmts).await)
        }

        pub async fn cursor(
            &self,
            sql: &str,
            params: Vec<Value>,
            chunk_size: u32,
        ) -> Result<Cursor, DbError> {
            match self {
                $enum::Postgres($inner) => $inner
                    .cursor(sql, params, chunk_size)
                    .await
                    .map(Cursor::Postgres),
                $enum::Sqlite($inner) => $inner
                    .cursor(sql, params, chunk_size)
                    .await
                    .map(Cursor::Sqlite),
            }
        }
    };
}

impl Database {
    /// Connects to `postgres://...`, `postgresql://...` or `sqlite://...`.
    pub async fn connect(url: &str) -> Result<Database, DbError> {
        match backend_of(url)? {
            "postgresql" => Ok(Database::Postgres(
                PgDatabase::connect(PgConfig::from_url(url)?).await?,
            )),
            _ => Ok(Database::Sqlite(
                SqliteDatabase::connect(SqliteConfig::from_url(url)?).await?,
            )),
        }
    }

    pub fn vendor(&self) -> &'static str {
        match self {
            Database::Postgres(_) => "postgresql",
            Database::Sqlite(_) => "sqlite",
        }
    }

    pub async fn close(&self) {
        dispatch!(self, Database, db => db.close().await)
    }

    /// Forgets cached prepared statements after a schema change made elsewhere
    /// (see [`PgDatabase::clear_statement_cache`]). SQLite needs nothing: it
    /// re-prepares a statement itself when the schema changed under it.
    pub fn clear_statement_cache(&self) {
        if let Database::Postgres(db) = self {
            db.clear_statement_cache();
        }
    }

    statement_methods!(Database, db);

    pub async fn begin(
        &self,
        isolation: Option<Isolation>,
        read_only: bool,
    ) -> Result<Transaction, DbError> {
        match self {
            Database::Postgres(db) => db
                .begin(isolation, read_only)
                .await
                .map(Transaction::Postgres),
            Database::Sqlite(db) => db
                .begin(isolation, read_only)
                .await
                .map(Transaction::Sqlite),
        }
    }
}

/// The error of LISTEN/NOTIFY on a backend that has none.
pub fn listen_not_supported(vendor: &str) -> DbError {
    DbError::new(
        ErrorKind::Interface,
        format!("LISTEN/NOTIFY is a PostgreSQL feature; this database is {vendor}, which has no equivalent"),
    )
}

/// The error of `copy_in` on a backend without COPY.
fn copy_not_supported(vendor: &str) -> DbError {
    DbError::new(
        ErrorKind::Interface,
        format!("copy_in is PostgreSQL's COPY; this database is {vendor}: insert the rows with execute_many"),
    )
}

impl Database {
    /// `pg_notify(channel, payload)`; an Interface error on SQLite.
    pub async fn notify(&self, channel: &str, payload: &str) -> Result<(), DbError> {
        match self {
            Database::Postgres(db) => db.notify(channel, payload).await,
            Database::Sqlite(_) => Err(listen_not_supported("SQLite")),
        }
    }

    /// A listener on a dedicated connection (PostgreSQL); an Interface error on SQLite.
    pub async fn listener(
        &self,
        capacity: usize,
    ) -> Result<(PgListener, tokio::sync::mpsc::Receiver<ListenerEvent>), DbError> {
        match self {
            Database::Postgres(db) => db.listener(capacity).await,
            Database::Sqlite(_) => Err(listen_not_supported("SQLite")),
        }
    }
}

impl Transaction {
    statement_methods!(Transaction, tx);

    pub async fn savepoint(&self, name: &str) -> Result<(), DbError> {
        dispatch!(self, Transaction, tx => tx.savepoint(name).await)
    }

    pub async fn release(&self, name: &str) -> Result<(), DbError> {
        dispatch!(self, Transaction, tx => tx.release(name).await)
    }

    pub async fn rollback_to(&self, name: &str) -> Result<(), DbError> {
        dispatch!(self, Transaction, tx => tx.rollback_to(name).await)
    }

    pub async fn commit(&self) -> Result<(), DbError> {
        dispatch!(self, Transaction, tx => tx.commit().await)
    }

    pub async fn rollback(&self) -> Result<(), DbError> {
        dispatch!(self, Transaction, tx => tx.rollback().await)
    }
}

impl Cursor {
    /// The next chunk of rows; `None` once the result is exhausted.
    pub async fn fetch(&mut self) -> Result<Option<Rows>, DbError> {
        dispatch!(self, Cursor, c => c.fetch().await)
    }

    pub async fn close(self) {
        dispatch!(self, Cursor, c => c.close().await)
    }
}

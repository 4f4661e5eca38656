//! `hyperdjango._core.Database`, `Transaction` and `Cursor`.
//!
//! Every method takes the caller's `LoopBridge` and returns a `RustFuture`:
//! the work runs on tokio, the rows are collected there in full, and they
//! become Python objects once, on the loop thread. A statement's arguments that
//! cannot be converted fail the future (raised at `await`, as from a coroutine).

use std::sync::Arc;

use hyperdjango_engine::db::{self, DbError, ErrorKind, Isolation, Rows, Value};
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyBool, PyList, PyString, PyTuple, PyType};
use tokio::sync::Mutex as AsyncMutex;

use super::errors;
use super::instances::InstanceReader;
use super::listener::Listener;
use super::row::Columns;
use super::values::{params_from_py, row_to_py, rows_to_py, value_to_py};
use crate::completion::{LoopBridge, Outcome, RustFuture};

/// Where statements go: the database's shared connections, or one transaction.
#[derive(Clone)]
enum Target {
    Pool { url: Arc<str>, handle: Handle },
    Transaction(Arc<db::Transaction>),
}

impl Target {
    async fn query(&self, sql: &str, params: Vec<Value>) -> Result<Rows, DbError> {
        match self {
            Target::Pool { url, handle } => connected(url, handle).await?.query(sql, params).await,
            Target::Transaction(tx) => tx.query(sql, params).await,
        }
    }

    async fn execute(&self, sql: &str, params: Vec<Value>) -> Result<u64, DbError> {
        match self {
            Target::Pool { url, handle } => {
                connected(url, handle).await?.execute(sql, params).await
            }
            Target::Transaction(tx) => tx.execute(sql, params).await,
        }
    }

    async fn execute_many(&self, sql: &str, rows: Vec<Vec<Value>>) -> Result<u64, DbError> {
        match self {
            Target::Pool { url, handle } => {
                connected(url, handle).await?.execute_many(sql, rows).await
            }
            Target::Transaction(tx) => tx.execute_many(sql, rows).await,
        }
    }

    async fn copy_in(
        &self,
        table: &str,
        columns: Vec<String>,
        rows: Vec<Vec<Value>>,
    ) -> Result<u64, DbError> {
        match self {
            Target::Pool { url, handle } => {
                connected(url, handle)
                    .await?
                    .copy_in(table, columns, rows)
                    .await
            }
            Target::Transaction(tx) => tx.copy_in(table, columns, rows).await,
        }
    }

    async fn pipeline(
        &self,
        stmts: Vec<(String, Vec<Value>)>,
    ) -> Result<db::PipelineResults, DbError> {
        match self {
            Target::Pool { url, handle } => connected(url, handle).await?.pipeline(stmts).await,
            Target::Transaction(tx) => tx.pipeline(stmts).await,
        }
    }

    async fn cursor(
        &self,
        sql: &str,
        params: Vec<Value>,
        chunk: u32,
    ) -> Result<db::Cursor, DbError> {
        match self {
            Target::Pool { url, handle } => {
                connected(url, handle)
                    .await?
                    .cursor(sql, params, chunk)
                    .await
            }
            Target::Transaction(tx) => tx.cursor(sql, params, chunk).await,
        }
    }
}

/// The connected database, or none before the first use and after `close()`.
type Handle = Arc<AsyncMutex<Option<db::Database>>>;

/// The database, connected on first use (`connect()` is idempotent). The lock
/// is held only to connect or to clone the handle, never during a statement.
async fn connected(url: &str, handle: &Handle) -> Result<db::Database, DbError> {
    // Every statement asks: when connected and nobody holds the lock, no waiting future.
    if let Ok(guard) = handle.try_lock() {
        if let Some(db) = &*guard {
            return Ok(db.clone());
        }
    }
    let mut guard = handle.lock().await;
    if let Some(db) = &*guard {
        return Ok(db.clone());
    }
    // Boxed: connecting happens once, and its future would make every statement's larger.
    let db = Box::pin(db::Database::connect(url)).await?;
    *guard = Some(db.clone());
    Ok(db)
}

/// What a finished statement becomes in Python.
enum Shape {
    /// `list[Row]`
    All,
    /// `Row | None`
    One,
    /// the first column of the first row, or None
    Val,
    /// whether there is a row
    Exists,
    /// `list[Model]`: the rows read into instances by the ORM's reader
    Instances(Py<InstanceReader>),
    /// `Model | None`: the first row read into an instance (`get()`, `first()`); with
    /// `several`, `(make_error, *args)`, more than one row fails with `make_error(*args)`
    Instance {
        reader: Py<InstanceReader>,
        several: Option<Py<PyTuple>>,
    },
}

impl Shape {
    /// `Shape::Instance`, `several` checked.
    fn instance(
        py: Python<'_>,
        reader: Py<InstanceReader>,
        several: Option<Py<PyTuple>>,
    ) -> PyResult<Shape> {
        if several.as_ref().is_some_and(|s| s.bind(py).is_empty()) {
            return Err(pyo3::exceptions::PyValueError::new_err(
                "several is (make_error, *args) or None",
            ));
        }
        Ok(Shape::Instance { reader, several })
    }
}

fn rows_outcome(result: Result<Rows, DbError>, shape: Shape) -> Outcome {
    Box::new(move |py| match result {
        Err(err) => Err(errors::to_py(py, &err)),
        Ok(rows) => match shape {
            Shape::All => Ok(rows_to_py(py, rows)?.into_any().unbind()),
            // The first row alone: no list made around it.
            Shape::One => Ok(match rows.rows.into_iter().next() {
                Some(row) => row_to_py(py, &Columns::of(py, &rows.columns)?, row)?
                    .into_any()
                    .unbind(),
                None => py.None(),
            }),
            Shape::Instances(reader) => Ok(reader.get().read(py, rows)?.into_any().unbind()),
            Shape::Instance { reader, several } => match several {
                Some(several) if rows.rows.len() > 1 => Err(made_error(several.bind(py))),
                _ => Ok(match reader.get().read_first(py, &rows)? {
                    Some(instance) => instance.unbind(),
                    None => py.None(),
                }),
            },
            Shape::Exists => Ok(PyBool::new(py, !rows.rows.is_empty())
                .to_owned()
                .into_any()
                .unbind()),
            Shape::Val => Ok(
                match rows
                    .rows
                    .into_iter()
                    .next()
                    .and_then(|r| r.into_iter().next())
                {
                    Some(v) => value_to_py(py, &v)?.unbind(),
                    None => py.None(),
                },
            ),
        },
    })
}

/// The exception `(make_error, *args)` makes (or the error making it raised).
fn made_error(several: &Bound<'_, PyTuple>) -> PyErr {
    let made = several
        .get_item(0)
        .and_then(|make| make.call1(several.get_slice(1, several.len())));
    match made {
        Ok(exception) => PyErr::from_value(exception),
        Err(err) => err,
    }
}

fn unit_outcome(result: Result<(), DbError>) -> Outcome {
    Box::new(move |py| {
        result
            .map(|()| py.None())
            .map_err(|e| errors::to_py(py, &e))
    })
}

fn count_outcome(result: Result<u64, DbError>) -> Outcome {
    Box::new(move |py| match result {
        Ok(n) => Ok(n.into_pyobject(py)?.into_any().unbind()),
        Err(e) => Err(errors::to_py(py, &e)),
    })
}

fn pipeline_outcome(result: Result<db::PipelineResults, DbError>) -> Outcome {
    Box::new(move |py| {
        let results = result.map_err(|e| errors::to_py(py, &e))?;
        let list = PyList::empty(py);
        for entry in results {
            match entry {
                Ok(rows) => list.append(rows_to_py(py, rows)?)?,
                // As gather(..., return_exceptions=True): the exception instance.
                Err(err) => list.append(errors::to_py(py, &err).into_value(py))?,
            }
        }
        Ok(list.into_any().unbind())
    })
}

/// Parameter rows (an iterable of parameter sequences) as values.
fn param_rows_from_py(rows: &Bound<'_, PyAny>) -> PyResult<Vec<Vec<Value>>> {
    rows.try_iter()?.map(|r| params_from_py(&r?)).collect()
}

fn statements_from_py(statements: &Bound<'_, PyAny>) -> PyResult<Vec<(String, Vec<Value>)>> {
    statements
        .try_iter()?
        .map(|item| {
            let item = item?;
            if let Ok(sql) = item.extract::<String>() {
                return Ok((sql, Vec::new()));
            }
            let (sql, params): (String, Bound<'_, PyAny>) = item.extract()?;
            Ok((sql, params_from_py(&params)?))
        })
        .collect()
}

/// The statement methods shared by `Database` and `Transaction`.
macro_rules! statement_methods {
    ($ty:ty) => {
        #[pymethods]
        impl $ty {
            /// Every row: `list[Row]`.
            fn query<'py>(
                &self,
                bridge: &Bound<'py, LoopBridge>,
                sql: String,
                params: &Bound<'py, PyAny>,
            ) -> PyResult<Bound<'py, RustFuture>> {
                self.rows(bridge, sql, params, Shape::All)
            }

            /// The first row, or None.
            fn query_one<'py>(
                &self,
                bridge: &Bound<'py, LoopBridge>,
                sql: String,
                params: &Bound<'py, PyAny>,
            ) -> PyResult<Bound<'py, RustFuture>> {
                self.rows(bridge, sql, params, Shape::One)
            }

            /// The first column of the first row, or None.
            fn query_val<'py>(
                &self,
                bridge: &Bound<'py, LoopBridge>,
                sql: String,
                params: &Bound<'py, PyAny>,
            ) -> PyResult<Bound<'py, RustFuture>> {
                self.rows(bridge, sql, params, Shape::Val)
            }

            /// Whether the statement returns a row.
            fn query_exists<'py>(
                &self,
                bridge: &Bound<'py, LoopBridge>,
                sql: String,
                params: &Bound<'py, PyAny>,
            ) -> PyResult<Bound<'py, RustFuture>> {
                self.rows(bridge, sql, params, Shape::Exists)
            }

            /// Every row as a model instance, read by `reader` (the ORM's fast path).
            fn query_instances<'py>(
                &self,
                bridge: &Bound<'py, LoopBridge>,
                reader: Py<InstanceReader>,
                sql: String,
                params: &Bound<'py, PyAny>,
            ) -> PyResult<Bound<'py, RustFuture>> {
                self.rows(bridge, sql, params, Shape::Instances(reader))
            }

            /// The first row as a model instance read by `reader`, or None (`get()`,
            /// `first()`); with `several` (`(make_error, *args)`), more than one row
            /// fails with the exception `make_error(*args)` returns.
            #[pyo3(signature = (bridge, reader, several, sql, params))]
            fn query_instance<'py>(
                &self,
                bridge: &Bound<'py, LoopBridge>,
                reader: Py<InstanceReader>,
                several: Option<Py<PyTuple>>,
                sql: String,
                params: &Bound<'py, PyAny>,
            ) -> PyResult<Bound<'py, RustFuture>> {
                let shape = Shape::instance(bridge.py(), reader, several)?;
                self.rows(bridge, sql, params, shape)
            }

            /// The number of rows affected.
            fn execute<'py>(
                &self,
                bridge: &Bound<'py, LoopBridge>,
                sql: String,
                params: &Bound<'py, PyAny>,
            ) -> PyResult<Bound<'py, RustFuture>> {
                let started = params_from_py(params).and_then(|params| {
                    let target = self.target();
                    LoopBridge::spawn_batched(bridge, async move {
                        // Boxed when polled: see `rows`.
                        let executed = Box::pin(target.execute(&sql, params)).await;
                        count_outcome(executed.map_err(|e| e.with_sql(&sql)))
                    })
                });
                LoopBridge::or_failed(bridge, started)
            }

            /// One statement for many parameter rows; the total affected.
            fn execute_many<'py>(
                &self,
                bridge: &Bound<'py, LoopBridge>,
                sql: String,
                rows: &Bound<'py, PyAny>,
            ) -> PyResult<Bound<'py, RustFuture>> {
                let started = param_rows_from_py(rows).and_then(|rows| {
                    let target = self.target();
                    LoopBridge::spawn(bridge, async move {
                        count_outcome(
                            target
                                .execute_many(&sql, rows)
                                .await
                                .map_err(|e| e.with_sql(&sql)),
                        )
                    })
                });
                LoopBridge::or_failed(bridge, started)
            }

            /// Binary `COPY table (columns) FROM STDIN` of `rows` (PostgreSQL); the rows loaded.
            fn copy_in<'py>(
                &self,
                bridge: &Bound<'py, LoopBridge>,
                table: String,
                columns: Vec<String>,
                rows: &Bound<'py, PyAny>,
            ) -> PyResult<Bound<'py, RustFuture>> {
                let started = param_rows_from_py(rows).and_then(|rows| {
                    let target = self.target();
                    LoopBridge::spawn(bridge, async move {
                        count_outcome(target.copy_in(&table, columns, rows).await)
                    })
                });
                LoopBridge::or_failed(bridge, started)
            }

            /// Statements `(sql, params)` (or plain strings) in one round trip; each
            /// entry is that statement's rows or its exception.
            fn pipeline<'py>(
                &self,
                bridge: &Bound<'py, LoopBridge>,
                statements: &Bound<'py, PyAny>,
            ) -> PyResult<Bound<'py, RustFuture>> {
                let started = statements_from_py(statements).and_then(|statements| {
                    let target = self.target();
                    LoopBridge::spawn_batched(bridge, async move {
                        pipeline_outcome(target.pipeline(statements).await)
                    })
                });
                LoopBridge::or_failed(bridge, started)
            }

            /// A cursor streaming `chunk_size` rows at a time.
            fn cursor<'py>(
                &self,
                bridge: &Bound<'py, LoopBridge>,
                sql: String,
                params: &Bound<'py, PyAny>,
                chunk_size: u32,
            ) -> PyResult<Bound<'py, RustFuture>> {
                let started = params_from_py(params).and_then(|params| {
                    let target = self.target();
                    LoopBridge::spawn(bridge, async move {
                        let result = target
                            .cursor(&sql, params, chunk_size.max(1))
                            .await
                            .map_err(|e| e.with_sql(&sql));
                        Box::new(move |py: Python<'_>| match result {
                            Ok(cursor) => Ok(Py::new(
                                py,
                                Cursor {
                                    inner: Arc::new(AsyncMutex::new(Some(cursor))),
                                },
                            )?
                            .into_any()),
                            Err(e) => Err(errors::to_py(py, &e)),
                        }) as Outcome
                    })
                });
                LoopBridge::or_failed(bridge, started)
            }
        }

        impl $ty {
            fn rows<'py>(
                &self,
                bridge: &Bound<'py, LoopBridge>,
                sql: String,
                params: &Bound<'py, PyAny>,
                shape: Shape,
            ) -> PyResult<Bound<'py, RustFuture>> {
                self.target().rows(bridge, sql, params, shape)
            }
        }
    };
}

impl Target {
    /// The statement started on `bridge`'s loop, its rows read as `shape` says.
    fn rows<'py>(
        self,
        bridge: &Bound<'py, LoopBridge>,
        sql: String,
        params: &Bound<'py, PyAny>,
        shape: Shape,
    ) -> PyResult<Bound<'py, RustFuture>> {
        let started = params_from_py(params).and_then(|params| {
            LoopBridge::spawn_batched(bridge, async move {
                // The statement's future is kilobytes, and this work is moved several
                // times on the loop thread before it runs (wrapped, made abortable,
                // queued): boxed when first polled, on tokio, it makes the work small.
                let rows = Box::pin(self.query(&sql, params)).await;
                rows_outcome(rows.map_err(|e| e.with_sql(&sql)), shape)
            })
        });
        LoopBridge::or_failed(bridge, started)
    }
}

/// A database URL and its connections.
#[pyclass(module = "hyperdjango._core", frozen)]
pub struct Database {
    url: Arc<str>,
    handle: Handle,
    vendor: &'static str,
    /// The `ContextVar` holding the caller's `atomic()` block state (its `core` is the
    /// block's `Transaction`), or None: read where a statement starts, to pick its target.
    transaction: Option<Py<PyAny>>,
}

impl Database {
    fn target(&self) -> Target {
        Target::Pool {
            url: self.url.clone(),
            handle: self.handle.clone(),
        }
    }

    /// The transaction of the caller's `atomic()` block, if it is in one.
    fn transaction<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, Transaction>>> {
        let Some(var) = &self.transaction else {
            return Ok(None);
        };
        let state = var.bind(py).call_method0(intern!(py, "get"))?;
        if state.is_none() {
            return Ok(None);
        }
        Ok(Some(
            state
                .getattr(intern!(py, "core"))?
                .cast_into::<Transaction>()?,
        ))
    }

    /// Where the caller's statements go: its transaction, else the pool.
    fn current_target(&self, py: Python<'_>) -> PyResult<Target> {
        Ok(match self.transaction(py)? {
            Some(tx) => tx.get().target(),
            None => self.target(),
        })
    }
}

statement_methods!(Database);

#[pymethods]
impl Database {
    #[new]
    #[pyo3(signature = (url, transaction = None))]
    fn new(url: String, transaction: Option<Py<PyAny>>) -> PyResult<Self> {
        let vendor =
            db::backend_of(&url).map_err(|e| pyo3::exceptions::PyValueError::new_err(e.message))?;
        Ok(Database {
            url: url.into(),
            handle: Arc::new(AsyncMutex::new(None)),
            vendor,
            transaction,
        })
    }

    /// Where the caller's statements go: the `Transaction` of its `atomic()` block, else
    /// this database (its pool).
    fn current<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyAny>> {
        Ok(match slf.get().transaction(slf.py())? {
            Some(tx) => tx.into_any(),
            None => slf.clone().into_any(),
        })
    }

    /// `"postgresql"` or `"sqlite"`.
    #[getter]
    fn vendor(&self) -> &'static str {
        self.vendor
    }

    #[getter]
    fn connected(&self) -> bool {
        self.handle
            .try_lock()
            .map(|db| db.is_some())
            .unwrap_or(true)
    }

    /// Opens the pool (idempotent).
    fn connect<'py>(&self, bridge: &Bound<'py, LoopBridge>) -> PyResult<Bound<'py, RustFuture>> {
        let (url, handle) = (self.url.clone(), self.handle.clone());
        LoopBridge::spawn(bridge, async move {
            unit_outcome(connected(&url, &handle).await.map(|_| ()))
        })
    }

    /// Closes every connection; the next statement connects again.
    fn close<'py>(&self, bridge: &Bound<'py, LoopBridge>) -> PyResult<Bound<'py, RustFuture>> {
        let handle = self.handle.clone();
        LoopBridge::spawn(bridge, async move {
            let db = handle.lock().await.take();
            if let Some(db) = db {
                db.close().await;
            }
            unit_outcome(Ok(()))
        })
    }

    /// Forgets the pool's cached prepared statements, after DDL run elsewhere.
    /// Not connected yet: nothing is cached, nothing to do.
    fn clear_statement_cache<'py>(
        &self,
        bridge: &Bound<'py, LoopBridge>,
    ) -> PyResult<Bound<'py, RustFuture>> {
        let handle = self.handle.clone();
        LoopBridge::spawn(bridge, async move {
            if let Some(db) = &*handle.lock().await {
                db.clear_statement_cache();
            }
            unit_outcome(Ok(()))
        })
    }

    /// `pg_notify(channel, payload)` on a shared connection (PostgreSQL only).
    fn notify<'py>(
        &self,
        bridge: &Bound<'py, LoopBridge>,
        channel: String,
        payload: String,
    ) -> PyResult<Bound<'py, RustFuture>> {
        let (url, handle) = (self.url.clone(), self.handle.clone());
        LoopBridge::spawn(bridge, async move {
            let result = match connected(&url, &handle).await {
                Ok(db) => db.notify(&channel, &payload).await,
                Err(e) => Err(e),
            };
            unit_outcome(result)
        })
    }

    /// A future of a :class:`Listener` on a dedicated connection (PostgreSQL
    /// only); `capacity` bounds the engine's event queue.
    #[pyo3(signature = (bridge, capacity = 1024))]
    fn listener<'py>(
        &self,
        bridge: &Bound<'py, LoopBridge>,
        capacity: usize,
    ) -> PyResult<Bound<'py, RustFuture>> {
        let (url, handle) = (self.url.clone(), self.handle.clone());
        LoopBridge::spawn(bridge, async move {
            let result = match connected(&url, &handle).await {
                Ok(db) => db.listener(capacity).await,
                Err(e) => Err(e),
            };
            let result = match result {
                Ok((listener, events)) => Listener::start(listener, events).map_err(|e| {
                    DbError::new(
                        ErrorKind::Interface,
                        format!("cannot create the listener's eventfd: {e}"),
                    )
                }),
                Err(e) => Err(e),
            };
            Box::new(move |py: Python<'_>| match result {
                Ok(listener) => Ok(Py::new(py, listener)?.into_any()),
                Err(e) => Err(errors::to_py(py, &e)),
            }) as Outcome
        })
    }

    /// Starts a transaction on a connection of its own.
    #[pyo3(signature = (bridge, isolation = None, read_only = false))]
    fn begin<'py>(
        &self,
        bridge: &Bound<'py, LoopBridge>,
        isolation: Option<&str>,
        read_only: bool,
    ) -> PyResult<Bound<'py, RustFuture>> {
        let isolation = match isolation {
            None => None,
            Some(name) => Some(Isolation::parse(name).ok_or_else(|| {
                pyo3::exceptions::PyValueError::new_err(format!(
                    "unknown isolation level {name:?}: use read_uncommitted, read_committed, repeatable_read or serializable"
                ))
            })?),
        };
        let (url, handle) = (self.url.clone(), self.handle.clone());
        LoopBridge::spawn(bridge, async move {
            let result = match connected(&url, &handle).await {
                Ok(db) => db.begin(isolation, read_only).await,
                Err(e) => Err(e),
            };
            Box::new(move |py: Python<'_>| match result {
                Ok(tx) => Ok(Py::new(
                    py,
                    Transaction {
                        inner: Arc::new(tx),
                    },
                )?
                .into_any()),
                Err(e) => Err(errors::to_py(py, &e)),
            }) as Outcome
        })
    }
}

/// A transaction: statements run on its connection, one after another.
#[pyclass(module = "hyperdjango._core", frozen)]
pub struct Transaction {
    inner: Arc<db::Transaction>,
}

impl Transaction {
    fn target(&self) -> Target {
        Target::Transaction(self.inner.clone())
    }

    fn control<'py>(
        &self,
        bridge: &Bound<'py, LoopBridge>,
        op: Control,
        name: String,
    ) -> PyResult<Bound<'py, RustFuture>> {
        let tx = self.inner.clone();
        LoopBridge::spawn(bridge, async move {
            let result = match op {
                Control::Savepoint => tx.savepoint(&name).await,
                Control::Release => tx.release(&name).await,
                Control::RollbackTo => tx.rollback_to(&name).await,
                Control::Commit => tx.commit().await,
                Control::Rollback => tx.rollback().await,
            };
            unit_outcome(result)
        })
    }
}

#[derive(Clone, Copy)]
enum Control {
    Savepoint,
    Release,
    RollbackTo,
    Commit,
    Rollback,
}

statement_methods!(Transaction);

#[pymethods]
impl Transaction {
    fn savepoint<'py>(
        &self,
        bridge: &Bound<'py, LoopBridge>,
        name: String,
    ) -> PyResult<Bound<'py, RustFuture>> {
        self.control(bridge, Control::Savepoint, name)
    }

    fn release<'py>(
        &self,
        bridge: &Bound<'py, LoopBridge>,
        name: String,
    ) -> PyResult<Bound<'py, RustFuture>> {
        self.control(bridge, Control::Release, name)
    }

    fn rollback_to<'py>(
        &self,
        bridge: &Bound<'py, LoopBridge>,
        name: String,
    ) -> PyResult<Bound<'py, RustFuture>> {
        self.control(bridge, Control::RollbackTo, name)
    }

    fn commit<'py>(&self, bridge: &Bound<'py, LoopBridge>) -> PyResult<Bound<'py, RustFuture>> {
        self.control(bridge, Control::Commit, String::new())
    }

    fn rollback<'py>(&self, bridge: &Bound<'py, LoopBridge>) -> PyResult<Bound<'py, RustFuture>> {
        self.control(bridge, Control::Rollback, String::new())
    }
}

/// Rows streamed in chunks; `fetch` gives `list[Row]` or None at the end.
#[pyclass(module = "hyperdjango._core", frozen)]
pub struct Cursor {
    inner: Arc<AsyncMutex<Option<db::Cursor>>>,
}

#[pymethods]
impl Cursor {
    fn fetch<'py>(&self, bridge: &Bound<'py, LoopBridge>) -> PyResult<Bound<'py, RustFuture>> {
        let inner = self.inner.clone();
        LoopBridge::spawn(bridge, async move {
            let mut guard = inner.lock().await;
            let result = match guard.as_mut() {
                Some(cursor) => cursor.fetch().await,
                None => Err(DbError::new(ErrorKind::Interface, "the cursor is closed")),
            };
            Box::new(move |py: Python<'_>| match result {
                Ok(Some(rows)) => Ok(rows_to_py(py, rows)?.into_any().unbind()),
                Ok(None) => Ok(py.None()),
                Err(e) => Err(errors::to_py(py, &e)),
            }) as Outcome
        })
    }

    fn close<'py>(&self, bridge: &Bound<'py, LoopBridge>) -> PyResult<Bound<'py, RustFuture>> {
        let inner = self.inner.clone();
        LoopBridge::spawn(bridge, async move {
            if let Some(cursor) = inner.lock().await.take() {
                cursor.close().await;
            }
            unit_outcome(Ok(()))
        })
    }
}

/// `hyperdjango.database.connection.Database`: what a `PlannedRead` starts on directly.
static DATABASE_CLASS: PyOnceLock<Py<PyType>> = PyOnceLock::new();

/// One compiled read of the ORM (its SQL, and the reader of its rows when they are the
/// model's own columns): the one place the ORM's planned reads start their statement.
///
/// Given a `Database` and the parameters in a running loop, it starts the statement on the
/// driver at once, in the caller's `atomic()` transaction if any (`Database.current`), and
/// returns the driver's future: no Python frame before the driver. Outside a running loop,
/// or given an object that is not a `Database` (a proxy counting its statements), it calls
/// that object's public method instead (`query_instances`, `query_instance`, `query_val`,
/// `query_exists`) and returns what it returns.
#[pyclass(module = "hyperdjango._core", frozen)]
pub struct PlannedRead {
    sql: Py<PyString>,
    text: String,
    reader: Option<Py<InstanceReader>>,
}

impl PlannedRead {
    fn reader(&self, py: Python<'_>) -> PyResult<Py<InstanceReader>> {
        match &self.reader {
            Some(reader) => Ok(reader.clone_ref(py)),
            None => Err(pyo3::exceptions::PyTypeError::new_err(
                "this read has no InstanceReader: its rows are not instances",
            )),
        }
    }

    /// The statement started as `shape` says, or `db`'s public `method` for it.
    fn start<'py>(
        &self,
        db: &Bound<'py, PyAny>,
        params: &Bound<'py, PyAny>,
        shape: Shape,
        method: &Bound<'py, PyString>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let py = db.py();
        if db.is_instance(DATABASE_CLASS.import(
            py,
            "hyperdjango.database.connection",
            "Database",
        )?)? {
            if let Some(bridge) = LoopBridge::running(py)? {
                let core = db.getattr(intern!(py, "_core"))?.cast_into::<Database>()?;
                let target = core.get().current_target(py)?;
                return Ok(target
                    .rows(&bridge, self.text.clone(), params, shape)?
                    .into_any());
            }
        }
        // `method`'s arguments before the SQL.
        let mut args = match shape {
            Shape::Instances(reader) => vec![reader.into_any()],
            Shape::Instance { reader, several } => {
                vec![
                    reader.into_any(),
                    several.map_or_else(|| py.None(), Py::into_any),
                ]
            }
            _ => Vec::new(),
        };
        args.push(self.sql.clone_ref(py).into_any());
        for param in params.try_iter()? {
            args.push(param?.unbind());
        }
        db.call_method1(method, PyTuple::new(py, args)?)
    }
}

#[pymethods]
impl PlannedRead {
    #[new]
    #[pyo3(signature = (sql, reader = None))]
    fn new(sql: Bound<'_, PyString>, reader: Option<Py<InstanceReader>>) -> PyResult<Self> {
        Ok(PlannedRead {
            text: sql.to_str()?.to_owned(),
            sql: sql.unbind(),
            reader,
        })
    }

    /// Every row read into an instance: `list[Model]`.
    fn rows<'py>(
        &self,
        db: &Bound<'py, PyAny>,
        params: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let reader = self.reader(db.py())?;
        self.start(
            db,
            params,
            Shape::Instances(reader),
            intern!(db.py(), "query_instances"),
        )
    }

    /// The first row read into an instance, or None; with `several` (`(make_error, *args)`),
    /// more than one row fails with the exception `make_error(*args)` returns.
    #[pyo3(signature = (db, params, several))]
    fn first<'py>(
        &self,
        db: &Bound<'py, PyAny>,
        params: &Bound<'py, PyAny>,
        several: Option<Py<PyTuple>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let py = db.py();
        let shape = Shape::instance(py, self.reader(py)?, several)?;
        self.start(db, params, shape, intern!(db.py(), "query_instance"))
    }

    /// The first column of the first row, or None (`count()`).
    fn value<'py>(
        &self,
        db: &Bound<'py, PyAny>,
        params: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.start(db, params, Shape::Val, intern!(db.py(), "query_val"))
    }

    /// Whether there is a row (`exists()`).
    fn exists<'py>(
        &self,
        db: &Bound<'py, PyAny>,
        params: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.start(db, params, Shape::Exists, intern!(db.py(), "query_exists"))
    }
}

//! Connections, the pool, and server-side cancellation.
//!
//! A [`Conn`] wraps one tokio-postgres client. Shared work (`query`,
//! `execute`, `pipeline`) is pipelined on a connection up to
//! `max_in_flight_per_connection` requests; exclusive work (transactions,
//! cursors, `execute_many`) takes a connection with nothing in flight out of
//! sharing until it is returned.
//!
//! Every request sent on a connection gets a ticket in the order it was sent
//! (the ticket is taken and the request written in the same poll, under one
//! lock). The server answers requests strictly in that order, so the oldest
//! unfinished ticket is the one the server is working on. When a caller drops
//! a request, its cancel is sent as soon as that request is the oldest one —
//! never while an innocent request ahead of it is running. Cancellation is
//! still racy at the edges (the request may finish just before the cancel
//! lands); a shared-connection statement hit by a cancel meant for another
//! request is retried (it was rolled back: shared connections are autocommit).

use std::collections::{HashMap, VecDeque};
use std::future::{poll_fn, Future};
use std::panic::AssertUnwindSafe;
use std::pin::{pin, Pin};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::Poll;
use std::time::{Duration, Instant};

use futures_util::future::{CatchUnwind, FutureExt};
use tokio::runtime::Handle;
use tokio::sync::Notify;
use tokio_postgres::{CancelToken, Client, NoTls, Statement};

use super::codec;
use super::config::PgConfig;
use super::schema_epoch::{changes_schema, SchemaEpoch};
use crate::db::{lock, DbError, ErrorKind, Rows, Value};

/// How long a cancel request may take before it is given up.
const CANCEL_TIMEOUT: Duration = Duration::from_secs(5);
/// How long cancel requests are repeated for a statement that keeps running.
const CANCEL_GIVE_UP: Duration = Duration::from_secs(10);
/// How long a health check (an empty Sync round trip) may take.
const PING_TIMEOUT: Duration = Duration::from_secs(5);

// ---------------------------------------------------------------------------
// Errors

/// Turns a tokio-postgres error into ours, with the server's fields.
pub(crate) fn map_error(e: tokio_postgres::Error, sql: Option<&str>) -> DbError {
    let mut err = if let Some(db) = e.as_db_error() {
        let mut d = DbError::from_sqlstate(db.code().code(), db.message());
        d.detail = db.detail().map(str::to_string);
        d.hint = db.hint().map(str::to_string);
        d.constraint = db.constraint().map(str::to_string);
        d
    } else if let Some(ours) =
        std::error::Error::source(&e).and_then(|s| s.downcast_ref::<DbError>())
    {
        ours.clone()
    } else if e.is_closed() {
        DbError::new(
            ErrorKind::Operational,
            "the connection to the server was closed",
        )
    } else {
        let mut message = e.to_string();
        if message.starts_with("expected ") && message.contains(" parameters but got ") {
            return DbError::new(ErrorKind::Interface, message);
        }
        if let Some(source) = std::error::Error::source(&e) {
            message = format!("{message}: {source}");
        }
        DbError::new(ErrorKind::Operational, message)
    };
    if let Some(sql) = sql {
        err = err.with_sql(sql);
    }
    err
}

/// A prepared statement that no longer fits the schema (changed by another
/// process: this pool's own DDL empties the caches), or that the session lost.
/// Besides "cached plan must not change result type", the parameter types it
/// was prepared with may no longer fit: the server's re-analysis of the
/// statement then fails with 42804 (`column "c" is of type integer but
/// expression is of type text`) or 42883 (`operator does not exist: integer =
/// text`), or our codec refuses the value for the old type before sending.
fn is_stale_statement(e: &DbError) -> bool {
    match e.sqlstate.as_deref() {
        Some("0A000") => e.message.contains("cached plan"),
        Some("26000" | "42804" | "42883") => true,
        _ => codec::is_param_error(e),
    }
}

pub(crate) fn cancelled_error() -> DbError {
    DbError::new(ErrorKind::Cancelled, "the query was cancelled")
}

// ---------------------------------------------------------------------------
// Requests and their cancellation

/// Ties a running request to its caller: the caller's future dropping cancels it.
/// A flag and a `Notify` (no allocation of its own: a statement makes one of these).
pub(crate) struct ReqCtl {
    cancelled: AtomicBool,
    /// Wakes [`ReqCtl::cancelled`] when the caller gives up.
    gave_up: Notify,
    current: Mutex<Option<(Arc<Conn>, u64)>>,
}

impl ReqCtl {
    pub fn new() -> Self {
        ReqCtl {
            cancelled: AtomicBool::new(false),
            gave_up: Notify::new(),
            current: Mutex::new(None),
        }
    }

    pub fn is_cancelled(&self) -> bool {
        self.cancelled.load(Ordering::Acquire)
    }

    pub async fn cancelled(&self) {
        loop {
            let notified = self.gave_up.notified();
            let mut notified = pin!(notified);
            // Registered before the flag is read: a cancel after the read wakes us.
            notified.as_mut().enable();
            if self.is_cancelled() {
                return;
            }
            notified.await;
        }
    }

    /// The caller gave up: stop waiting, and cancel the request on the server.
    pub fn cancel(&self) {
        self.cancelled.store(true, Ordering::Release);
        self.gave_up.notify_waiters();
        let current = lock(&self.current).clone();
        if let Some((conn, ticket)) = current {
            conn.cancel_ticket(ticket);
        }
    }

    fn set(&self, conn: &Arc<Conn>, ticket: u64) {
        let mut cur = lock(&self.current);
        *cur = Some((conn.clone(), ticket));
        if self.is_cancelled() {
            drop(cur);
            conn.cancel_ticket(ticket);
        }
    }

    fn clear(&self) {
        *lock(&self.current) = None;
    }
}

/// Runs `op` in the caller's task (no task of its own, no join handle to wake: a
/// statement costs one allocation here). A caller that drops it before it finished
/// cancels the request, and the rest of `op` moves to a task of its own and runs to
/// the end (after the server-side cancel) before giving its connection back, so no
/// half-read response is left behind. A panic in `op` becomes an Interface error.
pub(crate) async fn run_op<T, F>(
    rt: &Handle,
    op: impl FnOnce(Arc<ReqCtl>) -> F,
) -> Result<T, DbError>
where
    F: Future<Output = Result<T, DbError>> + Send + 'static,
    T: Send + 'static,
{
    let ctl = Arc::new(ReqCtl::new());
    let mut running = FinishOnDrop {
        op: Some(Box::pin(AssertUnwindSafe(op(ctl.clone())).catch_unwind())),
        ctl,
        rt,
    };
    let out = poll_fn(|cx| running.poll_op(cx)).await;
    out.unwrap_or_else(|panic| {
        Err(DbError::new(
            ErrorKind::Interface,
            format!("the database task failed: {}", panic_message(&panic)),
        ))
    })
}

type RunningOp<T> = Pin<Box<CatchUnwind<AssertUnwindSafe<T>>>>;

/// An operation [`run_op`] is polling; dropped unfinished, it cancels the request
/// and finishes in a task of its own.
struct FinishOnDrop<'a, F: Future<Output: Send> + Send + 'static> {
    op: Option<RunningOp<F>>,
    ctl: Arc<ReqCtl>,
    rt: &'a Handle,
}

impl<F: Future<Output: Send> + Send + 'static> FinishOnDrop<'_, F> {
    fn poll_op(&mut self, cx: &mut std::task::Context<'_>) -> Poll<std::thread::Result<F::Output>> {
        let Some(op) = self.op.as_mut() else {
            unreachable!("run_op polls its operation only until it finished")
        };
        let out = op.as_mut().poll(cx);
        if out.is_ready() {
            self.op = None;
        }
        out
    }
}

impl<F: Future<Output: Send> + Send + 'static> Drop for FinishOnDrop<'_, F> {
    fn drop(&mut self) {
        if let Some(op) = self.op.take() {
            self.ctl.cancel();
            self.rt.spawn(op);
        }
    }
}

fn panic_message(panic: &(dyn std::any::Any + Send)) -> &str {
    panic
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| panic.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("panicked")
}

/// Whether a request in flight is to be cancelled.
#[derive(Clone, Copy, PartialEq, Eq)]
enum CancelState {
    None,
    /// Dropped by its caller, waiting to become the oldest to be cancelled.
    Pending,
    /// Cancel already sent.
    Fired,
}

/// The requests in flight on a connection, oldest first. Tickets are handed out in
/// increasing order and requests mostly finish in that order, so this stays sorted
/// and a finished request is found at the front, with no allocation per request.
#[derive(Default)]
struct ReqQueue {
    next: u64,
    in_flight: VecDeque<(u64, CancelState)>,
}

impl ReqQueue {
    fn position(&self, ticket: u64) -> Option<usize> {
        self.in_flight.binary_search_by_key(&ticket, |e| e.0).ok()
    }

    fn oldest(&self) -> Option<u64> {
        self.in_flight.front().map(|e| e.0)
    }
}

/// Retires a request's ticket when it finishes, or when its future is dropped
/// (a timed-out ping, a runtime shutting down).
struct TicketGuard<'a> {
    conn: &'a Arc<Conn>,
    ctl: Option<&'a ReqCtl>,
    ticket: Option<u64>,
}

impl TicketGuard<'_> {
    /// Returns whether a cancel was sent for the request.
    fn finish(&mut self) -> bool {
        match self.ticket.take() {
            Some(t) => {
                if let Some(ctl) = self.ctl {
                    ctl.clear();
                }
                self.conn.finish(t)
            }
            None => false,
        }
    }
}

impl Drop for TicketGuard<'_> {
    fn drop(&mut self) {
        self.finish();
    }
}

// ---------------------------------------------------------------------------
// Prepared-statement cache

#[derive(Clone)]
pub(crate) struct Prepared {
    pub stmt: Statement,
    pub columns: Arc<[String]>,
    /// Running it may change other statements' types (see [`changes_schema`]).
    changes_schema: bool,
}

impl Prepared {
    fn new(stmt: Statement, sql: &str) -> Self {
        let columns: Arc<[String]> = stmt
            .columns()
            .iter()
            .map(|c| c.name().to_string())
            .collect();
        Prepared {
            stmt,
            columns,
            changes_schema: changes_schema(sql),
        }
    }
}

struct StmtCache {
    /// Looked up by every statement: foldhash, not SipHash (the SQL is the application's).
    map: HashMap<Arc<str>, (Prepared, u64), foldhash::fast::RandomState>,
    tick: u64,
    capacity: usize,
    /// The pool's schema epoch these statements were prepared under.
    epoch: u64,
}

impl StmtCache {
    fn new(capacity: usize, epoch: u64) -> Self {
        StmtCache {
            map: HashMap::default(),
            tick: 0,
            capacity,
            epoch,
        }
    }

    /// Forgets every statement when the schema epoch moved since they were prepared.
    fn sync(&mut self, epoch: u64) {
        if self.epoch != epoch {
            // Dropping the last handles closes the statements on the server.
            self.map.clear();
            self.epoch = epoch;
        }
    }

    fn get(&mut self, sql: &str, epoch: u64) -> Option<Prepared> {
        self.sync(epoch);
        self.tick += 1;
        let tick = self.tick;
        self.map.get_mut(sql).map(|(p, used)| {
            *used = tick;
            p.clone()
        })
    }

    /// Caches `p`, prepared under epoch `prepared_under`, unless the schema
    /// changed meanwhile (`now`): it may have been parsed against the old one.
    fn insert(&mut self, sql: &str, p: Prepared, prepared_under: u64, now: u64) {
        self.sync(now);
        if self.capacity == 0 || prepared_under != now {
            return;
        }
        self.tick += 1;
        if self.map.len() >= self.capacity && !self.map.contains_key(sql) {
            let oldest = self
                .map
                .iter()
                .min_by_key(|(_, (_, used))| *used)
                .map(|(k, _)| k.clone());
            if let Some(k) = oldest {
                // Dropping the last handle closes the statement on the server.
                self.map.remove(&k);
            }
        }
        self.map.insert(Arc::from(sql), (p, self.tick));
    }
}

// ---------------------------------------------------------------------------
// One connection

pub(crate) struct Conn {
    pub id: u64,
    pub client: Client,
    cancel_token: CancelToken,
    created: Instant,
    stmts: Mutex<StmtCache>,
    /// The pool's schema epoch, shared by all its connections.
    schema: SchemaEpoch,
    /// Schema-changing SQL ran since the last BEGIN: ending (or losing) the
    /// transaction commits or reverts it, which other connections must learn.
    schema_dirty: AtomicBool,
    queue: Mutex<ReqQueue>,
    /// Milliseconds (pool clock) when a cancel was last sent; 0 = never.
    last_cancel_ms: AtomicU64,
    cancels_outstanding: AtomicUsize,
    cancel_done: Notify,
    /// Woken whenever a request on this connection finishes.
    request_finished: Notify,
    broken: AtomicBool,
    rt: Handle,
    clock: Instant,
}

impl Conn {
    pub fn is_dead(&self) -> bool {
        self.broken.load(Ordering::Relaxed) || self.client.is_closed()
    }

    pub fn mark_broken(&self) {
        self.broken.store(true, Ordering::Relaxed);
    }

    /// Marks the connection unusable after an error that lost it.
    pub fn note_error(&self, e: &DbError) {
        if e.is_connection_loss() || self.client.is_closed() {
            self.mark_broken();
        }
    }

    fn now_ms(&self) -> u64 {
        self.clock.elapsed().as_millis() as u64 + 1
    }

    /// Whether a cancel went out on this connection since `mark` (from [`Conn::cancel_mark`]),
    /// or up to a second before it.
    pub fn cancel_sent_since(&self, mark: u64) -> bool {
        let last = self.last_cancel_ms.load(Ordering::Relaxed);
        last != 0 && last + 1000 >= mark
    }

    /// The moment [`Conn::cancel_sent_since`] compares with: the pool clock, read only when
    /// a cancel was ever sent here (0 otherwise: any cancel seen later was sent after it).
    pub fn cancel_mark(&self) -> u64 {
        if self.last_cancel_ms.load(Ordering::Relaxed) == 0 {
            0
        } else {
            self.now_ms()
        }
    }

    /// Runs one request (or a batch sent in one poll) with a ticket, so that the
    /// caller dropping it cancels it on the server at the right moment.
    pub async fn tracked<F: Future>(self: &Arc<Self>, ctl: Option<&ReqCtl>, fut: F) -> F::Output {
        let mut fut = pin!(fut);
        let mut guard = TicketGuard {
            conn: self,
            ctl,
            ticket: None,
        };
        let out = poll_fn(|cx| {
            if guard.ticket.is_some() {
                return fut.as_mut().poll(cx);
            }
            let (t, r) = {
                let mut q = lock(&self.queue);
                let t = q.next;
                q.next += 1;
                q.in_flight.push_back((t, CancelState::None));
                // The first poll writes the request to the client's queue: the
                // ticket order is the order on the wire.
                (t, fut.as_mut().poll(cx))
            };
            guard.ticket = Some(t);
            if let Some(ctl) = ctl {
                ctl.set(self, t);
            }
            r
        })
        .await;
        if guard.finish() {
            // Keep the connection until the cancel has been delivered, so it
            // cannot land on the next statement sent here.
            let wait = async {
                loop {
                    let notified = self.cancel_done.notified();
                    let mut notified = pin!(notified);
                    notified.as_mut().enable();
                    if self.cancels_outstanding.load(Ordering::Acquire) == 0 {
                        break;
                    }
                    notified.await;
                }
            };
            let _ = tokio::time::timeout(CANCEL_TIMEOUT, wait).await;
        }
        out
    }

    /// Request `ticket` is done; returns whether a cancel was sent for it.
    fn finish(self: &Arc<Self>, ticket: u64) -> bool {
        let mut q = lock(&self.queue);
        let fired = match q.position(ticket).and_then(|i| q.in_flight.remove(i)) {
            Some((_, state)) => state == CancelState::Fired,
            None => false,
        };
        let mut next = None;
        if let Some(head) = q.in_flight.front_mut() {
            if head.1 == CancelState::Pending {
                head.1 = CancelState::Fired;
                self.cancels_outstanding.fetch_add(1, Ordering::AcqRel);
                next = Some(head.0);
            }
        }
        drop(q);
        if fired {
            // Only the task repeating this request's cancel waits for it to end.
            self.request_finished.notify_waiters();
        }
        if let Some(head) = next {
            self.spawn_cancel(head);
        }
        fired
    }

    fn cancel_ticket(self: &Arc<Self>, ticket: u64) {
        let mut q = lock(&self.queue);
        let Some(i) = q.position(ticket) else {
            return;
        };
        if q.in_flight[i].1 == CancelState::Fired {
            return;
        }
        if i == 0 {
            q.in_flight[i].1 = CancelState::Fired;
            // Counted under the lock: `finish` of this ticket then waits for it.
            self.cancels_outstanding.fetch_add(1, Ordering::AcqRel);
            drop(q);
            self.spawn_cancel(ticket);
        } else {
            q.in_flight[i].1 = CancelState::Pending;
        }
    }

    /// Sends cancel requests for `ticket` (the oldest request in flight) until it
    /// finishes. A cancel that reaches the server while it is between two
    /// protocol messages of the statement is ignored by PostgreSQL, hence the
    /// repeats (50 ms, 100 ms, ... up to 1 s apart, for at most 10 s).
    /// `cancels_outstanding` was already incremented for the first send.
    fn spawn_cancel(self: &Arc<Self>, ticket: u64) {
        let me = self.clone();
        self.rt.spawn(async move {
            let started = Instant::now();
            let mut delay = Duration::from_millis(50);
            loop {
                me.last_cancel_ms.store(me.now_ms(), Ordering::Relaxed);
                let _ =
                    tokio::time::timeout(CANCEL_TIMEOUT, me.cancel_token.cancel_query(NoTls)).await;
                let finished = me.request_finished.notified();
                let mut finished = pin!(finished);
                finished.as_mut().enable();
                me.cancels_outstanding.fetch_sub(1, Ordering::AcqRel);
                me.cancel_done.notify_waiters();
                if started.elapsed() > CANCEL_GIVE_UP {
                    break;
                }
                let _ = tokio::time::timeout(delay, finished).await;
                delay = (delay * 2).min(Duration::from_secs(1));
                let q = lock(&me.queue);
                if q.oldest() != Some(ticket) {
                    break;
                }
                me.cancels_outstanding.fetch_add(1, Ordering::AcqRel);
            }
        });
    }

    /// A cached prepared statement, or a fresh one (then cached).
    pub async fn prepare(self: &Arc<Self>, sql: &str) -> Result<Prepared, DbError> {
        let epoch = self.schema.current();
        if let Some(p) = lock(&self.stmts).get(sql, epoch) {
            return Ok(p);
        }
        // Boxed: preparing is rare, and its future would make every statement's larger.
        let p = Box::pin(self.prepare_uncached(sql)).await?;
        lock(&self.stmts).insert(sql, p.clone(), epoch, self.schema.current());
        Ok(p)
    }

    /// `p` ran (or failed): if it was DDL, every connection's cache may be stale.
    fn ran(&self, p: &Prepared) {
        if p.changes_schema {
            self.schema_dirty.store(true, Ordering::Relaxed);
            self.schema.bump();
        }
    }

    pub async fn prepare_uncached(self: &Arc<Self>, sql: &str) -> Result<Prepared, DbError> {
        // Not cancellable: parsing is quick, and a cancel aimed at it would
        // mostly land on the next request; a dropped caller stops after it.
        let stmt = self
            .tracked(None, self.client.prepare(sql))
            .await
            .map_err(|e| map_error(e, Some(sql)))?;
        Ok(Prepared::new(stmt, sql))
    }

    /// Prepares several statements in one round trip (cached ones are not sent again).
    pub async fn prepare_many(self: &Arc<Self>, sqls: &[&str]) -> Vec<Result<Prepared, DbError>> {
        let mut results: Vec<Option<Result<Prepared, DbError>>> = Vec::with_capacity(sqls.len());
        let mut missing: Vec<&str> = Vec::new();
        let epoch = self.schema.current();
        {
            let mut cache = lock(&self.stmts);
            for sql in sqls {
                match cache.get(sql, epoch) {
                    Some(p) => results.push(Some(Ok(p))),
                    None => {
                        if !missing.contains(sql) {
                            missing.push(sql);
                        }
                        results.push(None);
                    }
                }
            }
        }
        if !missing.is_empty() {
            let futs: Vec<_> = missing.iter().map(|sql| self.client.prepare(sql)).collect();
            let prepared = self.tracked(None, join_ordered(futs)).await;
            let mut by_sql: HashMap<&str, Result<Prepared, DbError>> = HashMap::new();
            let now = self.schema.current();
            for (sql, r) in missing.iter().zip(prepared) {
                let r = r
                    .map(|stmt| Prepared::new(stmt, sql))
                    .map_err(|e| map_error(e, Some(sql)));
                if let Ok(p) = &r {
                    lock(&self.stmts).insert(sql, p.clone(), epoch, now);
                }
                by_sql.insert(sql, r);
            }
            for (slot, sql) in results.iter_mut().zip(sqls) {
                if slot.is_none() {
                    *slot = by_sql.get(sql).cloned();
                }
            }
        }
        results
            .into_iter()
            .zip(sqls)
            .map(|(r, sql)| {
                r.unwrap_or_else(|| {
                    Err(
                        DbError::new(ErrorKind::Interface, "statement was not prepared")
                            .with_sql(sql),
                    )
                })
            })
            .collect()
    }

    /// Drops `sql`'s cached statement when `e` says its plan no longer fits
    /// or the session lost it, so that its next use prepares it again;
    /// returns whether it did.
    pub fn evict_if_stale(&self, sql: &str, e: &DbError) -> bool {
        let stale = is_stale_statement(e);
        if stale {
            lock(&self.stmts).map.remove(sql);
        }
        stale
    }

    /// The rows of one prepared statement, collected fully (a future to be run under [`Conn::tracked`]).
    pub async fn query_rows(&self, p: &Prepared, params: &[Value]) -> Result<Rows, DbError> {
        let rows = self.collect_rows(p, params).await;
        self.ran(p);
        rows
    }

    async fn collect_rows(&self, p: &Prepared, params: &[Value]) -> Result<Rows, DbError> {
        check_param_count(p, params)?;
        let stream = self
            .client
            .query_raw(&p.stmt, codec::params(params))
            .await
            .map_err(|e| map_error(e, None))?;
        let mut stream = pin!(stream);
        let columns = p.stmt.columns();
        let mut rows = Vec::new();
        let mut decode_error = None;
        loop {
            let next = poll_fn(|cx| futures_util::Stream::poll_next(stream.as_mut(), cx)).await;
            let row = match next {
                None => break,
                Some(Ok(row)) => row,
                Some(Err(e)) => return Err(map_error(e, None)),
            };
            if decode_error.is_some() {
                continue; // keep reading: the response must be consumed to the end
            }
            let mut values = Vec::with_capacity(columns.len());
            for (i, col) in columns.iter().enumerate() {
                let decoded = row
                    .try_get::<_, codec::RawColumn<'_>>(i)
                    .map_err(|e| map_error(e, None))
                    .and_then(|raw| codec::decode(col.type_(), raw.0))
                    .map_err(|mut e| {
                        e.message = format!("column {:?}: {}", col.name(), e.message);
                        e
                    });
                match decoded {
                    Ok(v) => values.push(v),
                    Err(e) => {
                        decode_error = Some(e);
                        break;
                    }
                }
            }
            if decode_error.is_none() {
                rows.push(values);
            } else {
                rows = Vec::new();
            }
        }
        if let Some(e) = decode_error {
            return Err(e);
        }
        let affected = stream.rows_affected().unwrap_or(rows.len() as u64);
        Ok(Rows {
            columns: p.columns.clone(),
            rows,
            affected,
        })
    }

    pub async fn execute_stmt(&self, p: &Prepared, params: &[Value]) -> Result<u64, DbError> {
        check_param_count(p, params)?;
        let affected = self
            .client
            .execute_raw(&p.stmt, codec::params(params))
            .await
            .map_err(|e| map_error(e, None));
        self.ran(p);
        affected
    }

    /// One prepared statement under [`Conn::tracked`]: its rows, or (`want_rows`
    /// false) only the affected count, no rows read.
    pub async fn run_statement(
        self: &Arc<Self>,
        ctl: &ReqCtl,
        p: &Prepared,
        params: &[Value],
        want_rows: bool,
    ) -> Result<Rows, DbError> {
        if want_rows {
            self.tracked(Some(ctl), self.query_rows(p, params)).await
        } else {
            let affected = self
                .tracked(Some(ctl), self.execute_stmt(p, params))
                .await?;
            Ok(Rows {
                columns: Arc::from(Vec::new()),
                rows: Vec::new(),
                affected,
            })
        }
    }

    /// A statement without parameters or results, in the simple protocol (BEGIN, COMMIT, SAVEPOINT ...).
    /// Only the driver's own fixed statements go through here, never user SQL.
    pub async fn simple(self: &Arc<Self>, ctl: Option<&ReqCtl>, sql: &str) -> Result<(), DbError> {
        let r = self
            .tracked(ctl, self.client.batch_execute(sql))
            .await
            .map_err(|e| map_error(e, Some(sql)));
        if let Err(e) = &r {
            self.note_error(e);
        }
        self.transaction_boundary(sql);
        r
    }

    /// Tracks DDL across transaction boundaries: a COMMIT publishes it to
    /// connections that prepared statements while it was uncommitted, a
    /// ROLLBACK (to a savepoint or not) reverts it; either way their cached
    /// statements no longer fit.
    pub(crate) fn transaction_boundary(&self, sql: &str) {
        if sql.starts_with("BEGIN") {
            self.schema_dirty.store(false, Ordering::Relaxed);
        } else if (sql.starts_with("COMMIT") || sql.starts_with("ROLLBACK"))
            && self.schema_dirty.load(Ordering::Relaxed)
        {
            self.schema.bump();
            if !sql.starts_with("ROLLBACK TO") {
                self.schema_dirty.store(false, Ordering::Relaxed);
            }
        }
    }

    /// A cheap round trip; false if the connection is unusable.
    async fn ping(self: &Arc<Self>) -> bool {
        matches!(
            tokio::time::timeout(
                PING_TIMEOUT,
                self.tracked(None, self.client.check_connection())
            )
            .await,
            Ok(Ok(()))
        )
    }
}

impl Drop for Conn {
    fn drop(&mut self) {
        // Closing the connection rolls back the transaction its DDL ran in.
        if *self.schema_dirty.get_mut() {
            self.schema.bump();
        }
    }
}

fn check_param_count(p: &Prepared, params: &[Value]) -> Result<(), DbError> {
    let expected = p.stmt.params().len();
    if expected != params.len() {
        return Err(DbError::parameter_count(expected, params.len()));
    }
    Ok(())
}

/// Polls every future in order on each wake-up: their first polls together send
/// all their requests back to back (one round trip).
pub(crate) async fn join_ordered<F: Future>(futs: Vec<F>) -> Vec<F::Output> {
    let mut futs: Vec<std::pin::Pin<Box<F>>> = futs.into_iter().map(Box::pin).collect();
    let mut outs: Vec<Option<F::Output>> = futs.iter().map(|_| None).collect();
    let mut remaining = futs.len();
    poll_fn(|cx| {
        for (fut, out) in futs.iter_mut().zip(outs.iter_mut()) {
            if out.is_none() {
                if let Poll::Ready(v) = fut.as_mut().poll(cx) {
                    *out = Some(v);
                    remaining -= 1;
                }
            }
        }
        if remaining == 0 {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    })
    .await;
    outs.into_iter().flatten().collect()
}

// ---------------------------------------------------------------------------
// The pool

/// A snapshot of the pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PoolStats {
    /// Open connections.
    pub size: usize,
    /// Connections with nothing in flight and not checked out.
    pub idle: usize,
    /// Connections busy: requests in flight, or checked out exclusively.
    pub in_use: usize,
    /// Connections checked out exclusively (transactions, cursors, execute_many).
    pub exclusive: usize,
    /// Connections being opened.
    pub opening: usize,
    /// Requests in flight on shared connections.
    pub in_flight: usize,
    /// Callers waiting for a connection.
    pub waiting: usize,
    /// Acquisitions that gave up after `acquire_timeout`.
    pub timeouts: u64,
    /// Dead connections (closed by the server or the network) found and dropped;
    /// each is replaced by a new connection when one is needed.
    pub reconnects: u64,
    /// Connections opened since the pool started.
    pub opened: u64,
}

struct Slot {
    conn: Arc<Conn>,
    in_flight: usize,
    exclusive: bool,
    reserved: bool,
    retiring: bool,
    idle_since: Instant,
    /// The pool's `suspect_epoch` when this connection last proved alive.
    verified: u64,
}

#[derive(Default)]
struct PoolState {
    slots: Vec<Slot>,
    opening: usize,
    closed: bool,
    exclusive_waiters: usize,
    /// Callers of `acquire_shared` that had to wait and are not served yet.
    shared_waiters: usize,
    /// Bumped whenever a dead connection is found: the server may have been
    /// restarted, so idle connections are pinged before their next use.
    suspect_epoch: u64,
}

pub(crate) struct PoolInner {
    pub config: PgConfig,
    tokio_config: tokio_postgres::Config,
    state: Mutex<PoolState>,
    /// Wakes one caller waiting for shared room (see [`PoolInner::wake`]).
    shared_ready: Notify,
    /// Wakes one caller waiting for an exclusive connection.
    exclusive_ready: Notify,
    /// Wakes `close` whenever a connection is given back.
    drained: Notify,
    pub rt: Handle,
    clock: Instant,
    next_id: AtomicU64,
    waiting: AtomicUsize,
    timeouts: AtomicU64,
    reconnects: AtomicU64,
    opened: AtomicU64,
    pub cursor_seq: AtomicU64,
    /// Bumped after DDL and by `clear_statement_cache`: empties every connection's statement cache.
    pub schema: SchemaEpoch,
}

enum Step {
    /// A connection, and whether to ping it first (with the epoch to record).
    Got(Arc<Conn>, Option<u64>),
    Open,
    Wait,
}

/// What a checkout takes from the pool.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Claim {
    /// Room for `weight` requests pipelined next to other callers' requests.
    Shared { weight: usize },
    /// A whole connection with nothing in flight.
    Exclusive,
}

impl Claim {
    /// The slot to take, if one fits: for shared work the least loaded one
    /// with room (never one reserved to drain), for exclusive work an idle
    /// one, preferring one that was reserved and has drained.
    fn pick(self, slots: &[Slot], max_in_flight: usize) -> Option<usize> {
        let open = slots
            .iter()
            .enumerate()
            .filter(|(_, s)| !s.exclusive && !s.retiring);
        let picked = match self {
            Claim::Shared { weight } => open
                .filter(|(_, s)| !s.reserved && s.in_flight + weight <= max_in_flight)
                .min_by_key(|(_, s)| s.in_flight),
            Claim::Exclusive => open
                .filter(|(_, s)| s.in_flight == 0)
                .max_by_key(|(_, s)| s.reserved),
        };
        picked.map(|(i, _)| i)
    }

    fn take(self, slot: &mut Slot) {
        match self {
            Claim::Shared { weight } => slot.in_flight += weight,
            Claim::Exclusive => {
                slot.exclusive = true;
                slot.reserved = false;
            }
        }
    }

    /// `in_flight` and `exclusive` of the slot of a connection opened for this claim.
    fn new_slot(self) -> (usize, bool) {
        match self {
            Claim::Shared { weight } => (weight, false),
            Claim::Exclusive => (0, true),
        }
    }
}

/// Keeps one busy connection per exclusive waiter from taking new shared
/// work, so that it drains for the waiter instead of the waiter waiting for
/// shared traffic to stop.
fn reserve_to_drain(st: &mut PoolState) {
    let reserved = st.slots.iter().filter(|s| s.reserved).count();
    if reserved < st.exclusive_waiters {
        if let Some(s) = st
            .slots
            .iter_mut()
            .filter(|s| !s.exclusive && !s.reserved && !s.retiring)
            .min_by_key(|s| s.in_flight)
        {
            s.reserved = true;
        }
    }
}

/// A shared checkout: requests may be pipelined with other callers'.
pub(crate) struct SharedLease {
    pool: Arc<PoolInner>,
    pub conn: Arc<Conn>,
    weight: usize,
}

impl Drop for SharedLease {
    fn drop(&mut self) {
        self.pool.release(&self.conn, self.weight, None);
    }
}

/// An exclusive checkout. Dropped without [`ExclusiveLease::release`], the
/// connection is closed rather than returned (it may be inside a transaction).
pub(crate) struct ExclusiveLease {
    pool: Arc<PoolInner>,
    pub conn: Arc<Conn>,
    clean: bool,
}

impl ExclusiveLease {
    /// Returns the connection to the pool: it is idle and outside any transaction.
    pub fn release(mut self) {
        self.clean = true;
    }

    /// Ends whatever transaction is open and returns the connection to the
    /// pool; when the ROLLBACK fails the connection's state is unknown and
    /// dropping the lease closes it instead.
    pub async fn rollback_and_release(self) {
        if self.conn.simple(None, "ROLLBACK").await.is_ok() {
            self.release();
        }
    }
}

impl Drop for ExclusiveLease {
    fn drop(&mut self) {
        self.pool.release(&self.conn, 0, Some(self.clean));
    }
}

struct OpeningGuard<'a>(&'a PoolInner, bool);

impl Drop for OpeningGuard<'_> {
    fn drop(&mut self) {
        if !self.1 {
            let mut st = lock(&self.0.state);
            st.opening -= 1;
            // Room to open a connection again.
            self.0.wake(&st);
        }
    }
}

struct ExclusiveWaiter<'a>(&'a PoolInner);

impl Drop for ExclusiveWaiter<'_> {
    fn drop(&mut self) {
        let mut st = lock(&self.0.state);
        st.exclusive_waiters -= 1;
        let mut reserved = st.slots.iter().filter(|s| s.reserved).count();
        while reserved > st.exclusive_waiters {
            if let Some(s) = st
                .slots
                .iter_mut()
                .filter(|s| s.reserved)
                .max_by_key(|s| s.in_flight)
            {
                s.reserved = false;
            }
            reserved -= 1;
        }
        // Unreserved slots take shared work again.
        self.0.wake(&st);
    }
}

/// Counts an acquiring caller among the shared waiters while it waits (exclusive
/// callers are counted for their whole acquisition by [`ExclusiveWaiter`]), so
/// that releases wake only when someone waits.
struct WaitCount<'a> {
    pool: &'a PoolInner,
    claim: Claim,
    counted: bool,
}

impl WaitCount<'_> {
    fn count(&mut self, st: &mut PoolState) {
        if !self.counted && self.claim != Claim::Exclusive {
            st.shared_waiters += 1;
            self.counted = true;
        }
    }

    fn uncount(&mut self, st: &mut PoolState) {
        if self.counted {
            st.shared_waiters -= 1;
            self.counted = false;
        }
    }
}

impl Drop for WaitCount<'_> {
    fn drop(&mut self) {
        if self.counted {
            // Gave up waiting (timeout, cancel): a wake-up it took goes to the next.
            let mut st = lock(&self.pool.state);
            self.uncount(&mut st);
            self.pool.wake(&st);
        }
    }
}

impl PoolInner {
    pub fn new(config: PgConfig, rt: Handle) -> Arc<Self> {
        let tokio_config = config.to_tokio();
        Arc::new(PoolInner {
            config,
            tokio_config,
            state: Mutex::new(PoolState::default()),
            shared_ready: Notify::new(),
            exclusive_ready: Notify::new(),
            drained: Notify::new(),
            rt,
            clock: Instant::now(),
            next_id: AtomicU64::new(1),
            waiting: AtomicUsize::new(0),
            timeouts: AtomicU64::new(0),
            reconnects: AtomicU64::new(0),
            opened: AtomicU64::new(0),
            cursor_seq: AtomicU64::new(1),
            schema: SchemaEpoch::default(),
        })
    }

    /// Opens `min_size` connections.
    pub async fn fill(self: &Arc<Self>) -> Result<(), DbError> {
        let deadline = tokio::time::Instant::now() + self.config.acquire_timeout;
        let n = self.config.min_size;
        lock(&self.state).opening += n;
        let results = join_ordered((0..n).map(|_| self.open(deadline)).collect()).await;
        let mut st = lock(&self.state);
        st.opening -= n;
        let mut first_err = None;
        let epoch = st.suspect_epoch;
        for r in results {
            match r {
                Ok(conn) => st.slots.push(Slot {
                    conn,
                    in_flight: 0,
                    exclusive: false,
                    reserved: false,
                    retiring: false,
                    idle_since: Instant::now(),
                    verified: epoch,
                }),
                Err(e) => first_err = first_err.or(Some(e)),
            }
        }
        match first_err {
            Some(e) => {
                st.slots.clear();
                st.closed = true;
                Err(e)
            }
            None => Ok(()),
        }
    }

    async fn open(&self, deadline: tokio::time::Instant) -> Result<Arc<Conn>, DbError> {
        let c = &self.config;
        let target = if c.host.starts_with('/') {
            format!("socket {}/.s.PGSQL.{}", c.host, c.port)
        } else {
            format!("{}:{}", c.host, c.port)
        };
        let connected = tokio::time::timeout_at(deadline, self.tokio_config.connect(NoTls)).await;
        let (client, connection) = match connected {
            Err(_) => {
                return Err(DbError::new(
                    ErrorKind::Operational,
                    format!("timed out connecting to PostgreSQL at {target}"),
                ))
            }
            Ok(Err(e)) => {
                // Refused, unreachable, or rejected at startup (authentication,
                // unknown database, too many connections): all Operational,
                // the server's SQLSTATE kept when there is one.
                let mut err = map_error(e, None);
                err.kind = ErrorKind::Operational;
                err.message = format!(
                    "could not connect to PostgreSQL at {target}: {}",
                    err.message
                );
                return Err(err);
            }
            Ok(Ok(pair)) => pair,
        };
        self.rt.spawn(async move {
            let _ = connection.await;
        });
        self.opened.fetch_add(1, Ordering::Relaxed);
        let cancel_token = client.cancel_token();
        Ok(Arc::new(Conn {
            id: self.next_id.fetch_add(1, Ordering::Relaxed),
            client,
            cancel_token,
            created: Instant::now(),
            stmts: Mutex::new(StmtCache::new(
                c.statement_cache_size,
                self.schema.current(),
            )),
            schema: self.schema.clone(),
            schema_dirty: AtomicBool::new(false),
            queue: Mutex::new(ReqQueue::default()),
            last_cancel_ms: AtomicU64::new(0),
            cancels_outstanding: AtomicUsize::new(0),
            cancel_done: Notify::new(),
            request_finished: Notify::new(),
            broken: AtomicBool::new(false),
            rt: self.rt.clone(),
            clock: self.clock,
        }))
    }

    /// Drops dead connections and retires old ones.
    fn prune(&self, st: &mut PoolState, now: Instant) {
        let max_lifetime = self.config.max_lifetime;
        let mut dead = 0;
        st.slots.retain_mut(|s| {
            if s.conn.is_dead() {
                dead += 1;
                return false;
            }
            if !s.retiring && now.saturating_duration_since(s.conn.created) >= max_lifetime {
                s.retiring = true;
            }
            !(s.retiring && s.in_flight == 0 && !s.exclusive)
        });
        if dead > 0 {
            self.reconnects.fetch_add(dead, Ordering::Relaxed);
            st.suspect_epoch += 1;
        }
    }

    /// Whether an idle connection should be pinged before use: idle for long,
    /// or a connection died since it last proved alive.
    fn needs_ping(&self, s: &Slot, epoch: u64, now: Instant) -> Option<u64> {
        let stale = || {
            s.verified < epoch
                || now.saturating_duration_since(s.idle_since) > self.config.health_check_idle
        };
        (s.in_flight == 0 && stale()).then_some(epoch)
    }

    fn mark_verified(&self, conn: &Conn, epoch: u64) {
        let mut st = lock(&self.state);
        if let Some(s) = st.slots.iter_mut().find(|s| s.conn.id == conn.id) {
            s.verified = s.verified.max(epoch);
        }
    }

    fn closed_error() -> DbError {
        DbError::new(ErrorKind::Interface, "the connection pool is closed")
    }

    fn timeout_error(&self) -> DbError {
        self.timeouts.fetch_add(1, Ordering::Relaxed);
        let st = lock(&self.state);
        let exclusive = st.slots.iter().filter(|s| s.exclusive).count();
        let in_flight: usize = st.slots.iter().map(|s| s.in_flight).sum();
        DbError::new(
            ErrorKind::PoolTimeout,
            format!(
                "no PostgreSQL connection available within {:?} (pool max_size={}, {} open, {} checked out for transactions/cursors, {} requests in flight, max {} per connection); raise max_size or acquire_timeout, or finish transactions sooner",
                self.config.acquire_timeout,
                self.config.max_size,
                st.slots.len(),
                exclusive,
                in_flight,
                self.config.max_in_flight_per_connection
            ),
        )
    }

    fn add_slot(&self, conn: Arc<Conn>, in_flight: usize, exclusive: bool) -> Result<(), DbError> {
        let mut st = lock(&self.state);
        st.opening -= 1;
        if st.closed {
            return Err(Self::closed_error());
        }
        let verified = st.suspect_epoch;
        st.slots.push(Slot {
            conn,
            in_flight,
            exclusive,
            reserved: false,
            retiring: false,
            idle_since: Instant::now(),
            verified,
        });
        Ok(())
    }

    async fn wait(
        &self,
        notified: std::pin::Pin<&mut tokio::sync::futures::Notified<'_>>,
        deadline: tokio::time::Instant,
        ctl: &ReqCtl,
    ) -> Result<(), DbError> {
        self.waiting.fetch_add(1, Ordering::Relaxed);
        let r = tokio::select! {
            _ = notified => Ok(()),
            _ = tokio::time::sleep_until(deadline) => Err(None),
            _ = ctl.cancelled() => Err(Some(cancelled_error())),
        };
        self.waiting.fetch_sub(1, Ordering::Relaxed);
        match r {
            Ok(()) => Ok(()),
            Err(Some(e)) => Err(e),
            Err(None) => Err(self.timeout_error()),
        }
    }

    /// A connection for shared, pipelined work, counted as `weight` requests in flight.
    pub async fn acquire_shared(
        self: &Arc<Self>,
        ctl: &ReqCtl,
        weight: usize,
    ) -> Result<SharedLease, DbError> {
        let weight = weight.clamp(1, self.config.max_in_flight_per_connection);
        self.acquire(ctl, Claim::Shared { weight }, |conn| SharedLease {
            pool: self.clone(),
            conn,
            weight,
        })
        .await
    }

    /// A connection with nothing in flight, taken out of sharing until released.
    pub async fn acquire_exclusive(
        self: &Arc<Self>,
        ctl: &ReqCtl,
    ) -> Result<ExclusiveLease, DbError> {
        lock(&self.state).exclusive_waiters += 1;
        let _waiter = ExclusiveWaiter(self);
        self.acquire(ctl, Claim::Exclusive, |conn| ExclusiveLease {
            pool: self.clone(),
            conn,
            clean: false,
        })
        .await
    }

    /// Takes a slot for `claim` (pinging it first when it may be stale), or
    /// opens a connection while the pool is below `max_size`, or waits for a
    /// release; `lease` wraps the connection so that dropping it gives the slot back.
    async fn acquire<L>(
        self: &Arc<Self>,
        ctl: &ReqCtl,
        claim: Claim,
        lease: impl Fn(Arc<Conn>) -> L,
    ) -> Result<L, DbError> {
        // Read from the clock only when needed: a caller served at once never looks at it.
        let mut deadline = None;
        let mut deadline = || {
            *deadline
                .get_or_insert_with(|| tokio::time::Instant::now() + self.config.acquire_timeout)
        };
        let mut waited = WaitCount {
            pool: self,
            claim,
            counted: false,
        };
        let ready = match claim {
            Claim::Shared { .. } => &self.shared_ready,
            Claim::Exclusive => &self.exclusive_ready,
        };
        loop {
            let notified = ready.notified();
            let mut notified = pin!(notified);
            let mut step = self.step(claim, &mut waited)?;
            if matches!(step, Step::Wait) {
                // Registered before the state is read again: a release after that read
                // wakes us. (Registering costs two locks, so only a caller that waits does.)
                notified.as_mut().enable();
                step = self.step(claim, &mut waited)?;
            }
            match step {
                Step::Got(conn, ping) => {
                    // Leased before the ping: a failed or abandoned ping gives the slot back.
                    let lease = lease(conn.clone());
                    if let Some(epoch) = ping {
                        if !Box::pin(conn.ping()).await {
                            conn.mark_broken();
                            continue;
                        }
                        self.mark_verified(&conn, epoch);
                    }
                    return Ok(lease);
                }
                Step::Open => {
                    let mut guard = OpeningGuard(self, false);
                    // Boxed: connecting is rare, and its future is kilobytes that every
                    // statement's future would carry.
                    let conn = Box::pin(self.open(deadline())).await?;
                    guard.1 = true;
                    let (in_flight, exclusive) = claim.new_slot();
                    self.add_slot(conn.clone(), in_flight, exclusive)?;
                    return Ok(lease(conn));
                }
                Step::Wait => self.wait(notified, deadline(), ctl).await?,
            }
        }
    }

    /// Under the pool's lock: takes a slot for `claim`, or room to open a connection,
    /// or counts the caller among the waiters.
    fn step(&self, claim: Claim, waited: &mut WaitCount<'_>) -> Result<Step, DbError> {
        let mut st = lock(&self.state);
        if st.closed {
            return Err(Self::closed_error());
        }
        let now = Instant::now();
        self.prune(&mut st, now);
        let epoch = st.suspect_epoch;
        let step = if let Some(i) = claim.pick(&st.slots, self.config.max_in_flight_per_connection)
        {
            let ping = self.needs_ping(&st.slots[i], epoch, now);
            let s = &mut st.slots[i];
            claim.take(s);
            Step::Got(s.conn.clone(), ping)
        } else if st.slots.len() + st.opening < self.config.max_size {
            st.opening += 1;
            Step::Open
        } else {
            if claim == Claim::Exclusive {
                reserve_to_drain(&mut st);
            }
            waited.count(&mut st);
            Step::Wait
        };
        if !matches!(step, Step::Wait) {
            waited.uncount(&mut st);
            // Served: pass the wake-up on if there is room for the next waiter.
            self.wake(&st);
        }
        Ok(step)
    }

    /// Gives a connection back: `exclusive` is `Some(clean)` for exclusive leases.
    fn release(&self, conn: &Arc<Conn>, weight: usize, exclusive: Option<bool>) {
        let mut st = lock(&self.state);
        let closed = st.closed;
        let mut dead = false;
        if let Some(i) = st.slots.iter().position(|s| s.conn.id == conn.id) {
            let s = &mut st.slots[i];
            let keep = match exclusive {
                Some(clean) => {
                    s.exclusive = false;
                    clean
                }
                None => {
                    s.in_flight = s.in_flight.saturating_sub(weight);
                    true
                }
            };
            if s.in_flight == 0 {
                s.idle_since = Instant::now();
            }
            dead = s.conn.is_dead();
            let idle = s.in_flight == 0 && !s.exclusive;
            if !keep || dead || (idle && (s.retiring || closed)) {
                st.slots.remove(i);
            }
            if dead {
                st.suspect_epoch += 1;
            }
        }
        self.wake(&st);
        let closed = st.closed;
        drop(st);
        if dead {
            self.reconnects.fetch_add(1, Ordering::Relaxed);
        }
        if closed {
            self.drained.notify_waiters();
        }
    }

    /// Wakes one waiter of each kind that can proceed now: a shared caller when
    /// a slot has room for one more request (or a connection can be opened), an
    /// exclusive caller when a slot is idle (or a connection can be opened).
    /// A woken caller that is served calls this again, so a release that makes
    /// room for many wakes them one after the other, never all at once to
    /// find the room gone; one that is not served (the room was taken first)
    /// waits for the next release, which wakes again.
    fn wake(&self, st: &PoolState) {
        if st.shared_waiters == 0 && st.exclusive_waiters == 0 && !st.closed {
            return;
        }
        if st.closed {
            self.shared_ready.notify_waiters();
            self.exclusive_ready.notify_waiters();
            return;
        }
        let can_open = st.slots.len() + st.opening < self.config.max_size;
        let max = self.config.max_in_flight_per_connection;
        let open = || st.slots.iter().filter(|s| !s.exclusive && !s.retiring);
        if st.shared_waiters > 0 && (can_open || open().any(|s| !s.reserved && s.in_flight < max)) {
            self.shared_ready.notify_one();
        }
        if st.exclusive_waiters > 0 && (can_open || open().any(|s| s.in_flight == 0)) {
            self.exclusive_ready.notify_one();
        }
    }

    /// Stops handing out connections, closes the idle ones, and waits (up to the
    /// acquire timeout) for requests in flight; busy connections close when returned.
    pub async fn close(&self) {
        {
            let mut st = lock(&self.state);
            st.closed = true;
            st.slots.retain(|s| s.in_flight > 0 || s.exclusive);
            self.wake(&st);
        }
        let deadline = tokio::time::Instant::now() + self.config.acquire_timeout;
        loop {
            let notified = self.drained.notified();
            let mut notified = pin!(notified);
            notified.as_mut().enable();
            if !lock(&self.state).slots.iter().any(|s| s.in_flight > 0) {
                break;
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                break;
            }
        }
    }

    pub fn stats(&self) -> PoolStats {
        let st = lock(&self.state);
        let idle = st
            .slots
            .iter()
            .filter(|s| s.in_flight == 0 && !s.exclusive)
            .count();
        PoolStats {
            size: st.slots.len(),
            idle,
            in_use: st.slots.len() - idle,
            exclusive: st.slots.iter().filter(|s| s.exclusive).count(),
            opening: st.opening,
            in_flight: st.slots.iter().map(|s| s.in_flight).sum(),
            waiting: self.waiting.load(Ordering::Relaxed),
            timeouts: self.timeouts.load(Ordering::Relaxed),
            reconnects: self.reconnects.load(Ordering::Relaxed),
            opened: self.opened.load(Ordering::Relaxed),
        }
    }
}

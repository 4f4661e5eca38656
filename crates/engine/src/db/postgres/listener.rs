//! LISTEN/NOTIFY: a [`PgListener`] on a dedicated connection.
//!
//! The listener owns one connection of its own (never one of the pool's: a
//! pooled connection is shared and would lose its LISTENs when replaced). A
//! background task drives that connection with `poll_message` (the default
//! poll of a tokio-postgres connection discards notifications) and sends every
//! event, in the order the server sent it, into a bounded tokio mpsc.
//!
//! - **Backpressure, never loss.** Before reading the next message the task
//!   reserves a slot in the queue. When the queue is full it stops reading
//!   until the consumer makes room: the server buffers what it cannot send
//!   (its notification queue is 8 GB by default). A consumer that never reads
//!   stalls only its own listener connection, nothing else. Each time the task
//!   found the queue full is counted ([`ListenerStats::stalls`]). While it is
//!   stalled, `listen`/`unlisten` wait too (their replies are behind the
//!   unread notifications): do not call them from the only task that reads
//!   the queue while it is full.
//! - **Reconnects.** When the connection is lost the task reconnects with
//!   backoff (100 ms doubling to 5 s, forever until closed), issues LISTEN for
//!   every channel again, and then sends [`ListenerEvent::Reconnected`]:
//!   notifications sent while the connection was down are lost (PostgreSQL
//!   keeps none for a session that is gone), so a consumer reloads whatever
//!   state it derives from them. Every notification after that event is
//!   delivered.
//! - **Unlisten** stops delivery at once: a notification for a channel that is
//!   no longer listened to is dropped even if the server had already sent it.

use std::collections::{BTreeSet, VecDeque};
use std::future::poll_fn;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::runtime::Handle;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_postgres::tls::NoTlsStream;
use tokio_postgres::{AsyncMessage, Client, NoTls, Socket};
use tokio_util::sync::CancellationToken;

use super::config::PgConfig;
use super::pool::map_error;
use crate::db::{lock, quote_identifier, DbError, ErrorKind};

type PgConnection = tokio_postgres::Connection<Socket, NoTlsStream>;

/// First pause before a reconnect attempt; doubles up to [`BACKOFF_MAX`].
const BACKOFF_START: Duration = Duration::from_millis(100);
const BACKOFF_MAX: Duration = Duration::from_secs(5);
/// PostgreSQL's limit on a channel name (NAMEDATALEN - 1).
const MAX_CHANNEL_BYTES: usize = 63;
/// PostgreSQL's limit on a payload: it must be shorter than this many bytes.
pub const MAX_PAYLOAD_BYTES: usize = 8000;

/// One notification, as the server sent it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notification {
    pub channel: String,
    pub payload: String,
    /// The backend process id of the session that sent it.
    pub process_id: i32,
}

/// What a listener's queue carries, in order.
#[derive(Debug, Clone, PartialEq)]
pub enum ListenerEvent {
    Notification(Notification),
    /// The connection was lost and is back, LISTENing on every channel again.
    /// Notifications sent in between were missed.
    Reconnected {
        /// Why the connection was lost.
        reason: String,
        /// Failed connection attempts before this one succeeded.
        failed_attempts: u32,
        /// How long the listener was not listening.
        downtime: Duration,
    },
}

/// A snapshot of a listener's counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ListenerStats {
    /// Notifications put in the queue.
    pub delivered: u64,
    /// Times the reader found the queue full and stopped reading until there was room.
    pub stalls: u64,
    /// Times the connection was lost and opened again.
    pub reconnects: u64,
    /// Notifications dropped because their channel was unlistened meanwhile.
    pub dropped_unlistened: u64,
}

struct State {
    channels: BTreeSet<String>,
    /// `None` while reconnecting.
    client: Option<Arc<Client>>,
}

struct Shared {
    config: PgConfig,
    state: Mutex<State>,
    closed: CancellationToken,
    delivered: AtomicU64,
    stalls: AtomicU64,
    reconnects: AtomicU64,
    dropped_unlistened: AtomicU64,
}

impl Shared {
    fn listening(&self, channel: &str) -> bool {
        lock(&self.state).channels.contains(channel)
    }
}

/// A dedicated connection that LISTENs; events arrive on the receiver returned
/// by [`PgListener::connect`]. Dropping the listener (or calling [`close`])
/// closes the connection; the receiver then ends.
///
/// [`close`]: PgListener::close
pub struct PgListener {
    shared: Arc<Shared>,
    task: Mutex<Option<JoinHandle<()>>>,
}

impl std::fmt::Debug for PgListener {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgListener")
            .field("channels", &self.channels())
            .field("stats", &self.stats())
            .finish()
    }
}

/// Checks a channel name before it reaches the server.
pub fn check_channel(channel: &str) -> Result<(), DbError> {
    if channel.is_empty() {
        return Err(DbError::new(
            ErrorKind::Interface,
            "a LISTEN/NOTIFY channel name cannot be empty",
        ));
    }
    if channel.len() > MAX_CHANNEL_BYTES {
        return Err(DbError::new(
            ErrorKind::Interface,
            format!(
                "the channel name {channel:?} is {} bytes long; PostgreSQL allows at most {MAX_CHANNEL_BYTES}",
                channel.len()
            ),
        ));
    }
    if channel.contains('\0') {
        return Err(DbError::new(
            ErrorKind::Interface,
            "a channel name cannot contain NUL",
        ));
    }
    Ok(())
}

async fn open(config: &PgConfig) -> Result<(Client, PgConnection), DbError> {
    config.to_tokio().connect(NoTls).await.map_err(|e| {
        let mut err = map_error(e, None);
        err.kind = ErrorKind::Operational;
        err.message = format!(
            "could not connect the listener to PostgreSQL at {}:{}: {}",
            config.host, config.port, err.message
        );
        err
    })
}

impl PgListener {
    /// Opens the dedicated connection; `capacity` bounds the event queue
    /// (at least 1). Call inside a tokio runtime.
    pub async fn connect(
        config: PgConfig,
        capacity: usize,
    ) -> Result<(PgListener, mpsc::Receiver<ListenerEvent>), DbError> {
        let rt = Handle::try_current().map_err(|_| {
            DbError::new(
                ErrorKind::Interface,
                "PgListener::connect must run inside a tokio runtime",
            )
        })?;
        Self::connect_on(config, capacity, rt).await
    }

    pub(crate) async fn connect_on(
        config: PgConfig,
        capacity: usize,
        rt: Handle,
    ) -> Result<(PgListener, mpsc::Receiver<ListenerEvent>), DbError> {
        let timeout = config.connect_timeout.unwrap_or(config.acquire_timeout);
        let (client, conn) = match tokio::time::timeout(timeout, open(&config)).await {
            Ok(r) => r?,
            Err(_) => {
                return Err(DbError::new(
                    ErrorKind::Operational,
                    format!(
                        "timed out connecting the listener to PostgreSQL at {}:{}",
                        config.host, config.port
                    ),
                ))
            }
        };
        let (tx, rx) = mpsc::channel(capacity.max(1));
        let shared = Arc::new(Shared {
            config,
            state: Mutex::new(State {
                channels: BTreeSet::new(),
                client: Some(Arc::new(client)),
            }),
            closed: CancellationToken::new(),
            delivered: AtomicU64::new(0),
            stalls: AtomicU64::new(0),
            reconnects: AtomicU64::new(0),
            dropped_unlistened: AtomicU64::new(0),
        });
        let task = rt.spawn(run(shared.clone(), tx, conn));
        Ok((
            PgListener {
                shared,
                task: Mutex::new(Some(task)),
            },
            rx,
        ))
    }

    /// Starts listening on `channel` (idempotent). While the connection is
    /// being re-opened the channel is recorded and LISTENed on reconnect.
    pub async fn listen(&self, channel: &str) -> Result<(), DbError> {
        check_channel(channel)?;
        let client = {
            let mut st = lock(&self.shared.state);
            if self.shared.closed.is_cancelled() {
                return Err(closed_error());
            }
            if !st.channels.insert(channel.to_string()) {
                return Ok(());
            }
            st.client.clone()
        };
        let Some(client) = client else { return Ok(()) };
        match client
            .batch_execute(&format!("LISTEN {}", quote_identifier(channel)))
            .await
        {
            Ok(()) => Ok(()),
            Err(e) => {
                let err = map_error(e, None);
                if err.is_connection_loss() && !self.shared.closed.is_cancelled() {
                    // The reconnect LISTENs on every recorded channel.
                    return Ok(());
                }
                lock(&self.shared.state).channels.remove(channel);
                Err(err)
            }
        }
    }

    /// Stops listening on `channel`; nothing more from it is delivered, even a
    /// notification already read from the connection.
    pub async fn unlisten(&self, channel: &str) -> Result<(), DbError> {
        check_channel(channel)?;
        let client = {
            let mut st = lock(&self.shared.state);
            if !st.channels.remove(channel) {
                return Ok(());
            }
            st.client.clone()
        };
        let Some(client) = client else { return Ok(()) };
        match client
            .batch_execute(&format!("UNLISTEN {}", quote_identifier(channel)))
            .await
        {
            Ok(()) => Ok(()),
            Err(e) => {
                let err = map_error(e, None);
                // A lost connection forgets its LISTENs anyway.
                if err.is_connection_loss() || self.shared.closed.is_cancelled() {
                    Ok(())
                } else {
                    Err(err)
                }
            }
        }
    }

    /// The channels listened to, sorted.
    pub fn channels(&self) -> Vec<String> {
        lock(&self.shared.state).channels.iter().cloned().collect()
    }

    /// Whether the connection is up (false while reconnecting or once closed).
    pub fn is_connected(&self) -> bool {
        lock(&self.shared.state)
            .client
            .as_ref()
            .is_some_and(|c| !c.is_closed())
    }

    pub fn stats(&self) -> ListenerStats {
        let s = &self.shared;
        ListenerStats {
            delivered: s.delivered.load(Ordering::Relaxed),
            stalls: s.stalls.load(Ordering::Relaxed),
            reconnects: s.reconnects.load(Ordering::Relaxed),
            dropped_unlistened: s.dropped_unlistened.load(Ordering::Relaxed),
        }
    }

    /// Closes the connection and waits for the reader task to end; the
    /// receiver then yields what is still queued and ends. Idempotent.
    pub async fn close(&self) {
        self.shared.closed.cancel();
        lock(&self.shared.state).client = None;
        let task = lock(&self.task).take();
        if let Some(task) = task {
            let _ = task.await;
        }
    }
}

impl Drop for PgListener {
    fn drop(&mut self) {
        self.shared.closed.cancel();
    }
}

fn closed_error() -> DbError {
    DbError::new(ErrorKind::Interface, "the listener is closed")
}

/// Drives the connection: reserve room, read one message, deliver; reconnect on loss.
async fn run(shared: Arc<Shared>, tx: mpsc::Sender<ListenerEvent>, mut conn: PgConnection) {
    let mut pending: VecDeque<ListenerEvent> = VecDeque::new();
    loop {
        if tx.capacity() == 0 {
            shared.stalls.fetch_add(1, Ordering::Relaxed);
        }
        let permit = tokio::select! {
            biased;
            _ = shared.closed.cancelled() => return,
            p = tx.reserve() => match p {
                Ok(p) => p,
                Err(_) => return, // the receiver is gone
            },
        };
        if let Some(event) = pending.pop_front() {
            if matches!(event, ListenerEvent::Notification(_)) {
                shared.delivered.fetch_add(1, Ordering::Relaxed);
            }
            permit.send(event);
            continue;
        }
        let message = tokio::select! {
            biased;
            _ = shared.closed.cancelled() => return,
            _ = tx.closed() => return,
            m = poll_fn(|cx| conn.poll_message(cx)) => m,
        };
        let reason = match message {
            Some(Ok(AsyncMessage::Notification(n))) => {
                if shared.listening(n.channel()) {
                    shared.delivered.fetch_add(1, Ordering::Relaxed);
                    permit.send(ListenerEvent::Notification(Notification {
                        channel: n.channel().to_string(),
                        payload: n.payload().to_string(),
                        process_id: n.process_id(),
                    }));
                } else {
                    shared.dropped_unlistened.fetch_add(1, Ordering::Relaxed);
                }
                continue;
            }
            Some(Ok(_)) => continue, // notices
            Some(Err(e)) => map_error(e, None).to_string(),
            None => "the server closed the connection".to_string(),
        };
        drop(permit);
        match reconnect(&shared, &mut pending, reason).await {
            Some(c) => conn = c,
            None => return,
        }
    }
}

/// Opens a new connection (with backoff), LISTENs on every channel, and queues
/// `Reconnected` followed by any notification that arrived meanwhile. `None`
/// when the listener was closed.
async fn reconnect(
    shared: &Arc<Shared>,
    pending: &mut VecDeque<ListenerEvent>,
    reason: String,
) -> Option<PgConnection> {
    let lost_at = Instant::now();
    lock(&shared.state).client = None;
    let mut delay = BACKOFF_START;
    let mut failed_attempts = 0u32;
    loop {
        let timeout = shared
            .config
            .connect_timeout
            .unwrap_or(shared.config.acquire_timeout);
        let opened = tokio::select! {
            _ = shared.closed.cancelled() => return None,
            r = tokio::time::timeout(timeout, open(&shared.config)) => r,
        };
        if let Ok(Ok((client, mut conn))) = opened {
            let client = Arc::new(client);
            let channels: Vec<String> = {
                let mut st = lock(&shared.state);
                if shared.closed.is_cancelled() {
                    return None;
                }
                // Published first: a `listen` from now on uses this connection,
                // one before is in the set taken here.
                st.client = Some(client.clone());
                st.channels.iter().cloned().collect()
            };
            let sql: String = channels
                .iter()
                .map(|c| format!("LISTEN {};", quote_identifier(c)))
                .collect();
            let mut buffered = Vec::new();
            let listened = {
                let mut listen = std::pin::pin!(client.batch_execute(&sql));
                loop {
                    tokio::select! {
                        _ = shared.closed.cancelled() => return None,
                        r = &mut listen => break r.map_err(|e| map_error(e, None)),
                        m = poll_fn(|cx| conn.poll_message(cx)) => match m {
                            Some(Ok(AsyncMessage::Notification(n))) => buffered.push(Notification {
                                channel: n.channel().to_string(),
                                payload: n.payload().to_string(),
                                process_id: n.process_id(),
                            }),
                            Some(Ok(_)) => {}
                            Some(Err(e)) => break Err(map_error(e, None)),
                            None => break Err(DbError::new(ErrorKind::Operational, "the server closed the connection")),
                        },
                    }
                }
            };
            match listened {
                Ok(()) => {
                    shared.reconnects.fetch_add(1, Ordering::Relaxed);
                    pending.push_back(ListenerEvent::Reconnected {
                        reason,
                        failed_attempts,
                        downtime: lost_at.elapsed(),
                    });
                    for n in buffered {
                        if shared.listening(&n.channel) {
                            pending.push_back(ListenerEvent::Notification(n));
                        }
                    }
                    return Some(conn);
                }
                Err(_) => {
                    lock(&shared.state).client = None;
                }
            }
        }
        failed_attempts += 1;
        tokio::select! {
            _ = shared.closed.cancelled() => return None,
            _ = tokio::time::sleep(delay) => {}
        }
        delay = (delay * 2).min(BACKOFF_MAX);
    }
}

/// Makes the server's "payload string too long" name the limit.
pub(crate) fn explain_notify_error(mut err: DbError, payload: &str) -> DbError {
    if err.sqlstate.as_deref() == Some("22023") && err.message.contains("payload") {
        err.message = format!(
            "NOTIFY payload too long: {} bytes, PostgreSQL allows fewer than {MAX_PAYLOAD_BYTES} (server said: {})",
            payload.len(),
            err.message
        );
    }
    err
}

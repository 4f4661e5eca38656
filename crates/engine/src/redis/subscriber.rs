//! A pub/sub subscription on a dedicated Redis connection: [`RedisSubscriber`].
//!
//! The connection speaks RESP3, so published messages arrive as push frames on
//! an ordinary `MultiplexedConnection`, which also carries `CLIENT SETNAME`,
//! `SUBSCRIBE` and `UNSUBSCRIBE`. The crate hands each push frame to a
//! synchronous sender on the connection's own task; ours puts it straight into
//! the bounded event queue, in the server's order.
//!
//! - **Bounded, and loud when full.** A full queue does not stop the
//!   connection's reader (the crate offers no way to), and buffering elsewhere
//!   would only move the unbounded memory: the message is dropped and counted
//!   ([`SubscriberStats::dropped`]), and a [`SubscriberEvent::Overflow`] with
//!   the count goes into the queue as soon as there is room, before any later
//!   message, so the consumer sees exactly where the gap is and can reload
//!   what it missed. (Had
//!   the socket been left unread, Redis itself would cut the connection past
//!   its `client-output-buffer-limit pubsub`: a gap as well, found later.)
//! - **Reconnects.** When the connection is lost the subscriber queues
//!   [`SubscriberEvent::Lost`], opens a new one with backoff (100 ms doubling
//!   to 5 s, until closed), subscribes to every channel again and queues
//!   [`SubscriberEvent::Reconnected`] with the time it was without a
//!   subscription. Messages published in between are gone (Redis keeps none).
//!   Messages that arrive on the new connection before that event are held
//!   back, so every message after it is one the subscriber really received.
//! - **Unsubscribe** stops delivery at once, even of messages already read.

use std::collections::{BTreeSet, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use redis::aio::MultiplexedConnection;
use redis::{AsyncConnectionConfig, ProtocolVersion, PushInfo, PushKind, Value};
use tokio::sync::{mpsc, Notify};

use crate::bridge::{loop_queue, LoopReceiver, LoopSender, LoopWaker};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::{client, open, RedisFailure};

const BACKOFF_START: Duration = Duration::from_millis(100);
const BACKOFF_MAX: Duration = Duration::from_secs(5);

/// What the subscriber's queue carries, in order.
#[derive(Debug, Clone, PartialEq)]
pub enum SubscriberEvent {
    /// A message published on a subscribed channel.
    Message { channel: String, payload: Vec<u8> },
    /// This many messages were dropped here because the queue was full.
    Overflow { dropped: u64 },
    /// The connection was lost; reconnecting.
    Lost { reason: String },
    /// Subscribed again on a new connection after `downtime` without one.
    Reconnected {
        downtime: Duration,
        failed_attempts: u32,
    },
}

/// A snapshot of a subscriber's counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SubscriberStats {
    /// Messages put in the queue.
    pub delivered: u64,
    /// Messages dropped because the queue was full.
    pub dropped: u64,
    /// Times the connection was lost and opened again.
    pub reconnects: u64,
    /// Messages dropped because their channel was unsubscribed meanwhile.
    pub dropped_unsubscribed: u64,
}

/// Where events go: the queue, or (while a new connection subscribes) a hold.
struct Gate {
    open: bool,
    held: VecDeque<SubscriberEvent>,
    /// Messages dropped and not yet reported with an `Overflow` event.
    unreported: u64,
}

struct Shared {
    client: redis::Client,
    name: String,
    capacity: usize,
    channels: Mutex<BTreeSet<String>>,
    /// `None` while reconnecting.
    connection: Mutex<Option<MultiplexedConnection>>,
    gate: Mutex<Gate>,
    events: LoopSender<SubscriberEvent>,
    /// Signalled when a message is dropped: the gap is reported as soon as there is room.
    overflowed: Notify,
    /// The generation of the connection in use; a connection's end is news only if it is current.
    generation: AtomicU64,
    closed: CancellationToken,
    delivered: AtomicU64,
    dropped: AtomicU64,
    reconnects: AtomicU64,
    dropped_unsubscribed: AtomicU64,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Shared {
    /// Queues `event` without waiting (a message: called on the connection's task).
    fn offer(&self, event: SubscriberEvent) {
        let mut gate = lock(&self.gate);
        if !gate.open {
            if gate.held.len() < self.capacity {
                gate.held.push_back(event);
            } else {
                self.drop_one(&mut gate);
            }
            return;
        }
        self.offer_open(&mut gate, event);
    }

    fn offer_open(&self, gate: &mut Gate, event: SubscriberEvent) {
        if gate.unreported > 0 {
            let report = SubscriberEvent::Overflow {
                dropped: gate.unreported,
            };
            if self.events.try_send(report).is_err() {
                self.drop_one(gate);
                return;
            }
            gate.unreported = 0;
        }
        // Counted before the send, so a consumer that has read the message also
        // sees it in `stats()`.
        match self.events.try_reserve() {
            Ok(permit) => {
                self.delivered.fetch_add(1, Ordering::Relaxed);
                permit.send(event);
            }
            Err(mpsc::error::TrySendError::Full(())) => self.drop_one(gate),
            Err(mpsc::error::TrySendError::Closed(())) => {} // the consumer is gone
        }
    }

    fn drop_one(&self, gate: &mut Gate) {
        gate.unreported += 1;
        self.dropped.fetch_add(1, Ordering::Relaxed);
        self.overflowed.notify_one();
    }

    /// Reports the messages dropped so far as soon as the queue has room, in their
    /// place: the gate's lock orders it with the messages around it.
    async fn report_overflow(&self) {
        let permit = tokio::select! {
            _ = self.closed.cancelled() => return,
            p = self.events.reserve() => match p { Ok(p) => p, Err(_) => return },
        };
        let mut gate = lock(&self.gate);
        if gate.open && gate.unreported > 0 {
            permit.send(SubscriberEvent::Overflow {
                dropped: gate.unreported,
            });
            gate.unreported = 0;
        }
    }

    /// What the crate's connection task hands over: messages, and its own end.
    fn on_push(&self, generation: u64, info: PushInfo, lost: &mpsc::UnboundedSender<u64>) {
        match info.kind {
            PushKind::Message => {
                let mut data = info.data.into_iter();
                let (Some(channel), Some(payload)) = (data.next(), data.next()) else {
                    return;
                };
                let channel = match channel {
                    Value::BulkString(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
                    Value::SimpleString(text) => text,
                    _ => return,
                };
                if !lock(&self.channels).contains(&channel) {
                    self.dropped_unsubscribed.fetch_add(1, Ordering::Relaxed);
                    return;
                }
                let payload = match payload {
                    Value::BulkString(bytes) => bytes,
                    Value::SimpleString(text) => text.into_bytes(),
                    _ => return,
                };
                self.offer(SubscriberEvent::Message { channel, payload });
            }
            PushKind::Disconnection => {
                let _ = lost.send(generation);
            }
            _ => {} // subscribe confirmations: the crate matches them to the requests
        }
    }
}

/// A dedicated pub/sub connection; events arrive on the [`LoopReceiver`] returned by
/// [`RedisSubscriber::connect`] (the queue is the bound: nothing else buffers them).
/// Dropping it (or [`close`](Self::close)) ends the connection; the receiver then ends.
pub struct RedisSubscriber {
    shared: Arc<Shared>,
    task: Mutex<Option<JoinHandle<()>>>,
}

impl std::fmt::Debug for RedisSubscriber {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisSubscriber")
            .field("name", &self.shared.name)
            .field("channels", &self.channels())
            .field("stats", &self.stats())
            .finish()
    }
}

impl RedisSubscriber {
    /// Connects to `url` as `name` (`CLIENT SETNAME`); `capacity` bounds the
    /// event queue (at least 1), whose consumer `waker` wakes. Call inside a tokio
    /// runtime: the connection and the reconnecting task run on it.
    pub async fn connect(
        url: &str,
        name: &str,
        capacity: usize,
        waker: Arc<LoopWaker>,
    ) -> Result<(RedisSubscriber, LoopReceiver<SubscriberEvent>), RedisFailure> {
        let capacity = capacity.max(1);
        let (events, receiver) = loop_queue(capacity, waker);
        let (lost_tx, lost_rx) = mpsc::unbounded_channel();
        let shared = Arc::new(Shared {
            client: client(url, ProtocolVersion::RESP3)?,
            name: name.to_string(),
            capacity,
            channels: Mutex::new(BTreeSet::new()),
            connection: Mutex::new(None),
            gate: Mutex::new(Gate {
                open: true,
                held: VecDeque::new(),
                unreported: 0,
            }),
            events,
            overflowed: Notify::new(),
            generation: AtomicU64::new(0),
            closed: CancellationToken::new(),
            delivered: AtomicU64::new(0),
            dropped: AtomicU64::new(0),
            reconnects: AtomicU64::new(0),
            dropped_unsubscribed: AtomicU64::new(0),
        });
        let conn = connect_generation(&shared, 0, &lost_tx).await?;
        *lock(&shared.connection) = Some(conn);
        let task = tokio::spawn(supervise(shared.clone(), lost_rx, lost_tx));
        Ok((
            RedisSubscriber {
                shared,
                task: Mutex::new(Some(task)),
            },
            receiver,
        ))
    }

    /// Subscribes to `channel` (idempotent). While reconnecting, the channel is
    /// recorded and subscribed on the new connection.
    pub async fn subscribe(&self, channel: &str) -> Result<(), RedisFailure> {
        if self.shared.closed.is_cancelled() {
            return Err(closed());
        }
        if !lock(&self.shared.channels).insert(channel.to_string()) {
            return Ok(());
        }
        let Some(mut conn) = lock(&self.shared.connection).clone() else {
            return Ok(());
        };
        match conn.subscribe(channel).await {
            Ok(()) => Ok(()),
            Err(e) => {
                let failure = RedisFailure::from_redis(&e);
                if failure.unreachable && !self.shared.closed.is_cancelled() {
                    return Ok(()); // the reconnect subscribes to every recorded channel
                }
                lock(&self.shared.channels).remove(channel);
                Err(failure)
            }
        }
    }

    /// Unsubscribes from `channel`; nothing more from it is delivered.
    pub async fn unsubscribe(&self, channel: &str) -> Result<(), RedisFailure> {
        if !lock(&self.shared.channels).remove(channel) {
            return Ok(());
        }
        let Some(mut conn) = lock(&self.shared.connection).clone() else {
            return Ok(());
        };
        match conn.unsubscribe(channel).await {
            Ok(()) => Ok(()),
            Err(e) => {
                let failure = RedisFailure::from_redis(&e);
                // A lost connection forgets its subscriptions anyway.
                if failure.unreachable || self.shared.closed.is_cancelled() {
                    Ok(())
                } else {
                    Err(failure)
                }
            }
        }
    }

    /// The channels subscribed to, sorted.
    pub fn channels(&self) -> Vec<String> {
        lock(&self.shared.channels).iter().cloned().collect()
    }

    /// Whether the connection is up (false while reconnecting or once closed).
    pub fn is_connected(&self) -> bool {
        lock(&self.shared.connection).is_some()
    }

    pub fn stats(&self) -> SubscriberStats {
        let s = &self.shared;
        SubscriberStats {
            delivered: s.delivered.load(Ordering::Relaxed),
            dropped: s.dropped.load(Ordering::Relaxed),
            reconnects: s.reconnects.load(Ordering::Relaxed),
            dropped_unsubscribed: s.dropped_unsubscribed.load(Ordering::Relaxed),
        }
    }

    /// Closes the connection and waits for the reconnecting task to end. Idempotent.
    pub async fn close(&self) {
        self.shared.closed.cancel();
        lock(&self.shared.connection).take();
        let task = lock(&self.task).take();
        if let Some(task) = task {
            let _ = task.await;
        }
    }
}

impl Drop for RedisSubscriber {
    fn drop(&mut self) {
        self.shared.closed.cancel();
        lock(&self.shared.connection).take();
    }
}

fn closed() -> RedisFailure {
    RedisFailure {
        unreachable: false,
        message: "the Redis subscriber is closed".into(),
    }
}

/// Opens connection number `generation`, its pushes going to `shared`, and
/// subscribes it to every recorded channel.
async fn connect_generation(
    shared: &Arc<Shared>,
    generation: u64,
    lost: &mpsc::UnboundedSender<u64>,
) -> Result<MultiplexedConnection, RedisFailure> {
    let weak = Arc::downgrade(shared);
    let lost = lost.clone();
    let config = AsyncConnectionConfig::new().set_push_sender(move |info: PushInfo| {
        if let Some(shared) = weak.upgrade() {
            shared.on_push(generation, info, &lost);
        }
        Ok::<(), std::convert::Infallible>(())
    });
    let mut conn = open(&shared.client, &shared.name, config).await?;
    shared.generation.store(generation, Ordering::Relaxed);
    let channels: Vec<String> = lock(&shared.channels).iter().cloned().collect();
    if !channels.is_empty() {
        conn.subscribe(&channels)
            .await
            .map_err(|e| RedisFailure::from_redis(&e))?;
    }
    Ok(conn)
}

/// Waits for the current connection to end, then reconnects (until closed).
async fn supervise(
    shared: Arc<Shared>,
    mut lost_rx: mpsc::UnboundedReceiver<u64>,
    lost_tx: mpsc::UnboundedSender<u64>,
) {
    let mut generation = 0;
    loop {
        let ended = tokio::select! {
            _ = shared.closed.cancelled() => return,
            _ = shared.overflowed.notified() => {
                shared.report_overflow().await;
                continue;
            }
            g = lost_rx.recv() => g,
        };
        if ended != Some(shared.generation.load(Ordering::Relaxed)) {
            continue; // a connection that was replaced, or a failed attempt
        }
        let lost_at = Instant::now();
        lock(&shared.connection).take();
        lock(&shared.gate).open = false;
        let lost = SubscriberEvent::Lost {
            reason: "the connection to Redis was closed".into(),
        };
        tokio::select! {
            _ = shared.closed.cancelled() => return,
            sent = shared.events.send(lost) => if sent.is_err() { return },
        }
        let mut delay = BACKOFF_START;
        let mut failed_attempts = 0u32;
        let conn = loop {
            generation += 1;
            let attempt = tokio::select! {
                _ = shared.closed.cancelled() => return,
                c = connect_generation(&shared, generation, &lost_tx) => c,
            };
            if let Ok(conn) = attempt {
                break conn;
            }
            failed_attempts += 1;
            tokio::select! {
                _ = shared.closed.cancelled() => return,
                _ = tokio::time::sleep(delay) => {}
            }
            delay = (delay * 2).min(BACKOFF_MAX);
        };
        *lock(&shared.connection) = Some(conn);
        shared.reconnects.fetch_add(1, Ordering::Relaxed);
        // The gate is closed: nothing else enters the queue until it opens below.
        let reconnected = SubscriberEvent::Reconnected {
            downtime: lost_at.elapsed(),
            failed_attempts,
        };
        tokio::select! {
            _ = shared.closed.cancelled() => return,
            sent = shared.events.send(reconnected) => if sent.is_err() { return },
        }
        let mut gate = lock(&shared.gate);
        gate.open = true;
        let held = std::mem::take(&mut gate.held);
        for event in held {
            shared.offer_open(&mut gate, event);
        }
    }
}

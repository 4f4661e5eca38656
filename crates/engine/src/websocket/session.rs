//! One accepted WebSocket: the handler's [`WsConnection`] and the tokio task
//! that owns the socket.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use http::header::{HeaderValue, CONNECTION, UPGRADE};
use http::StatusCode;
use hyper::upgrade::OnUpgrade;
use hyper_util::rt::TokioIo;
use tokio::io::AsyncWriteExt;
use tokio::sync::watch;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::error::{CapacityError, Error as WsError, ProtocolError};
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, Role, WebSocketConfig};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;
use tokio_util::task::TaskTracker;

use super::deflate::{compress, InflatingStream};
use super::inbox::{Inbox, Receiver, Taken};
use super::Shared;
use super::{accept_key, DeflateOffer, WsConfig};
use crate::http::{Reply, ServerStats};

/// A message from the peer, in order. `Close` is the last one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Incoming {
    Text(String),
    Binary(Bytes),
    /// The peer closed (its code, or 1005 when it sent none), or the
    /// connection ended: 1006 abrupt, 1001 dead peer or shutdown, 1009 a message
    /// over the limit, 1007 invalid UTF-8, 1002 a protocol error, 1013 a slow consumer.
    Close {
        code: u16,
        reason: String,
    },
}

/// Why a message could not be queued.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SendError {
    /// The connection is closed (or closing) with this code.
    Closed(u16),
    /// The send queue was full: the connection is being closed with 1013.
    SlowConsumer,
}

enum Outgoing {
    /// A data frame, encoded by the sender ([`Shared`]).
    Message(Shared),
    Close(u16, String),
}

/// The bounded queue of outgoing messages: the handler's sends push, the
/// session pops. A push does not wake the session itself: it hands back the
/// session's waker when the session is waiting for it, so one send wakes it
/// at once and a fan-out ([`super::broadcast`]) wakes all its members from
/// the network thread in one step instead of one cross-thread wake-up each.
struct SendQueue {
    queue: Mutex<Queue>,
    capacity: usize,
}

struct Queue {
    items: VecDeque<Outgoing>,
    /// The session's waker, left when it found nothing to do: under the queue's
    /// lock, so a push that takes the lock anyway costs no other atomic operation
    /// to learn whether the session waits (an `AtomicWaker` cost two per push).
    waiting: Option<Waker>,
}

impl SendQueue {
    fn new(capacity: usize) -> Self {
        SendQueue {
            queue: Mutex::new(Queue {
                items: VecDeque::new(),
                waiting: None,
            }),
            capacity: capacity.max(1),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Queue> {
        self.queue.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Queues `item` unless the queue is full; `Ok(Some(waker))` when the
    /// session waits for it (the caller wakes it).
    fn push(&self, item: Outgoing) -> Result<Option<Waker>, Outgoing> {
        let mut queue = self.lock();
        if queue.items.len() >= self.capacity {
            return Err(item);
        }
        queue.items.push_back(item);
        Ok(queue.waiting.take())
    }

    fn pop(&self) -> Option<Outgoing> {
        self.lock().items.pop_front()
    }

    fn is_empty(&self) -> bool {
        self.lock().items.is_empty()
    }

    /// The session's waker, if it waits: to wake it for something else than a push.
    fn take_waiting(&self) -> Option<Waker> {
        self.lock().waiting.take()
    }

    /// Leaves the session's waker for the next push (or notice).
    fn register(&self, cx: &mut Context<'_>) {
        register(&mut self.lock().waiting, cx);
    }

    /// The next item, or the session's waker left for the next push.
    fn poll_pop(&self, cx: &mut Context<'_>) -> Poll<Outgoing> {
        let mut queue = self.lock();
        match queue.items.pop_front() {
            Some(item) => Poll::Ready(item),
            None => {
                register(&mut queue.waiting, cx);
                Poll::Pending
            }
        }
    }
}

fn register(waiting: &mut Option<Waker>, cx: &mut Context<'_>) {
    match waiting {
        Some(waker) if waker.will_wake(cx.waker()) => {}
        _ => *waiting = Some(cx.waker().clone()),
    }
}

/// The wake-ups that sends to several connections owe their sessions, given to
/// the network thread in one step: one cross-thread wake-up for all of them;
/// each member's is then a local one on the session's own runtime. A fan-out
/// ([`super::broadcast`]) collects them, and so does a loop of single sends
/// (the bindings keep one per event-loop iteration).
///
/// Dropped without [`wake`](Self::wake), it still wakes them: a session left
/// asleep would hold its queued messages until its next keepalive tick.
#[derive(Default)]
pub struct Wakeups {
    wakers: Vec<Waker>,
    runtime: Option<tokio::runtime::Handle>,
}

impl Wakeups {
    fn add(&mut self, waker: Waker, runtime: &tokio::runtime::Handle) {
        if self.runtime.is_none() {
            self.runtime = Some(runtime.clone());
        }
        self.wakers.push(waker);
    }

    /// Whether no session waits for a wake-up from these.
    pub fn is_empty(&self) -> bool {
        self.wakers.is_empty()
    }

    /// Wakes them: on the runtime's thread when there are several.
    pub fn wake(mut self) {
        self.wake_all();
    }

    fn wake_all(&mut self) {
        let mut wakers = std::mem::take(&mut self.wakers);
        match (wakers.len(), self.runtime.take()) {
            (0, _) => {}
            (1, _) | (_, None) => wakers.drain(..).for_each(Waker::wake),
            (_, Some(runtime)) => {
                runtime.spawn(async move { wakers.into_iter().for_each(Waker::wake) });
            }
        }
    }
}

impl Drop for Wakeups {
    fn drop(&mut self) {
        self.wake_all();
    }
}

/// What the handler side and the session task share.
struct State {
    /// Set when no more sends are taken; `close_code` says why.
    closed: AtomicBool,
    close_code: AtomicU32,
    overflow: AtomicBool,
    queued_bytes: AtomicUsize,
    /// Something for the session to act on (an overflow, a close that found the
    /// queue full), set before the send queue's waker is woken: a flag, not a
    /// `Notify`, which registered and dropped a waiter on every turn of the session.
    notice: AtomicBool,
}

/// Ready (once) when the handler side has set `state.notice`; the session's waker
/// is left with the send queue, where [`WsConnection::notify_session`] takes it.
fn poll_notice(state: &State, out: &SendQueue, cx: &mut Context<'_>) -> Poll<()> {
    if state.notice.swap(false, Ordering::AcqRel) {
        return Poll::Ready(());
    }
    out.register(cx);
    if state.notice.swap(false, Ordering::AcqRel) {
        Poll::Ready(())
    } else {
        Poll::Pending
    }
}

/// An upgrade request not yet answered; [`accept`](Self::accept) it or
/// answer the request with any other reply to refuse it.
pub struct WsUpgrade {
    pub(crate) on_upgrade: OnUpgrade,
    pub(crate) key: String,
    pub(crate) protocols: Vec<String>,
    /// The permessage-deflate offer to accept (None: no compression).
    pub(crate) deflate: Option<DeflateOffer>,
    pub(crate) config: WsConfig,
    pub(crate) stats: Arc<ServerStats>,
    pub(crate) tracker: TaskTracker,
    pub(crate) shutdown: watch::Receiver<bool>,
    pub(crate) runtime: tokio::runtime::Handle,
    /// The connection's slot under `max_connections`, taken over by the session.
    pub(crate) permit: crate::http::PermitSlot,
}

impl std::fmt::Debug for WsUpgrade {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WsUpgrade")
            .field("protocols", &self.protocols)
            .finish()
    }
}

impl WsUpgrade {
    /// The subprotocols the client offered, in its order of preference.
    pub fn protocols(&self) -> &[String] {
        &self.protocols
    }

    /// Accepts: returns the 101 reply to give the client (with the chosen
    /// subprotocol, which must be one it offered) and the connection. The
    /// session starts once the reply is written.
    pub fn accept(self, protocol: Option<&str>) -> Result<(Reply, WsConnection), String> {
        let mut reply = Reply::full(StatusCode::SWITCHING_PROTOCOLS, Bytes::new());
        reply
            .headers
            .insert(UPGRADE, HeaderValue::from_static("websocket"));
        reply
            .headers
            .insert(CONNECTION, HeaderValue::from_static("Upgrade"));
        let accept = HeaderValue::from_str(&accept_key(&self.key)).map_err(|e| e.to_string())?;
        reply.headers.insert("sec-websocket-accept", accept);
        if let Some(p) = protocol {
            if !self.protocols.iter().any(|o| o == p) {
                return Err(format!(
                    "the client did not offer the subprotocol {p:?} (offered: {:?})",
                    self.protocols
                ));
            }
            reply.headers.insert(
                "sec-websocket-protocol",
                HeaderValue::from_str(p).map_err(|e| e.to_string())?,
            );
        }
        if let Some(offer) = &self.deflate {
            reply.headers.insert(
                "sec-websocket-extensions",
                HeaderValue::from_static(offer.response()),
            );
        }
        let out = Arc::new(SendQueue::new(self.config.send_queue));
        let inbox = Arc::new(Inbox::new(self.config.receive_queue));
        let state = Arc::new(State {
            closed: AtomicBool::new(false),
            close_code: AtomicU32::new(0),
            overflow: AtomicBool::new(false),
            queued_bytes: AtomicUsize::new(0),
            notice: AtomicBool::new(false),
        });
        let connection = WsConnection {
            out: out.clone(),
            inbox: inbox.clone(),
            state: state.clone(),
            max_queued_bytes: self.config.send_queue_bytes,
            runtime: self.runtime.clone(),
        };
        let WsUpgrade {
            on_upgrade,
            config,
            stats,
            tracker,
            shutdown,
            runtime,
            permit,
            deflate,
            ..
        } = self;
        stats.ws_connections.fetch_add(1, Ordering::Relaxed);
        let guard = tracker.token();
        // However the task ends, or is dropped with its runtime (even before its
        // first poll), receives stop waiting.
        let end_inbox = EndInbox(inbox.clone());
        runtime.spawn(async move {
            let _guard = guard;
            let _end = end_inbox;
            let _permit = permit.lock().unwrap_or_else(|e| e.into_inner()).take();
            let Ok(upgraded) = on_upgrade.await else {
                state.closed.store(true, Ordering::Release);
                state.close_code.store(1006, Ordering::Release);
                return;
            };
            stats.ws_active.fetch_add(1, Ordering::Relaxed);
            let tungstenite_config = WebSocketConfig::default()
                .read_buffer_size(TUNGSTENITE_READ)
                .write_buffer_size(WRITE_BUFFER)
                .max_message_size(Some(config.max_message_size))
                .max_frame_size(Some(config.max_message_size));
            let socket = InflatingStream::new(
                TokioIo::new(upgraded),
                deflate.is_some(),
                config.max_message_size,
                config.read_buffer_size,
            );
            let ws =
                WebSocketStream::from_raw_socket(socket, Role::Server, Some(tungstenite_config))
                    .await;
            let compressing = deflate.is_some();
            let session = Session {
                ws,
                out,
                inbox,
                state,
                config,
                stats: stats.clone(),
                pending: VecDeque::new(),
                compressing,
            };
            session.run(shutdown).await;
            stats.ws_active.fetch_sub(1, Ordering::Relaxed);
        });
        Ok((reply, connection))
    }
}

/// The handler's side of an accepted WebSocket. Sends never wait: they go
/// into a bounded queue; a full queue closes the connection with 1013.
pub struct WsConnection {
    out: Arc<SendQueue>,
    inbox: Arc<Inbox>,
    state: Arc<State>,
    max_queued_bytes: usize,
    runtime: tokio::runtime::Handle,
}

impl WsConnection {
    fn closed_code(&self) -> u16 {
        match self.state.close_code.load(Ordering::Acquire) {
            0 => 1006,
            c => c as u16,
        }
    }

    /// Queues `message` and wakes the session if it waits.
    fn queue(&self, message: Shared) -> Result<(), SendError> {
        let waker = self.queue_without_wake(message)?;
        if let Some(waker) = waker {
            waker.wake();
        }
        Ok(())
    }

    /// Queues `message` and leaves the session's wake-up, if it waits, to
    /// `wakeups`: sends to many connections in a row wake their sessions
    /// together (see [`Wakeups`]).
    pub fn send_deferred(&self, message: Shared, wakeups: &mut Wakeups) -> Result<(), SendError> {
        if let Some(waker) = self.queue_without_wake(message)? {
            wakeups.add(waker, &self.runtime);
        }
        Ok(())
    }

    fn queue_without_wake(&self, message: Shared) -> Result<Option<Waker>, SendError> {
        if self.state.closed.load(Ordering::Acquire) {
            return Err(SendError::Closed(self.closed_code()));
        }
        let len = message.payload().len();
        let queued = self.state.queued_bytes.fetch_add(len, Ordering::AcqRel) + len;
        if queued > self.max_queued_bytes && queued > len {
            self.state.queued_bytes.fetch_sub(len, Ordering::AcqRel);
            return Err(self.overflow());
        }
        match self.out.push(Outgoing::Message(message)) {
            Ok(waker) => Ok(waker),
            Err(_) => {
                self.state.queued_bytes.fetch_sub(len, Ordering::AcqRel);
                Err(self.overflow())
            }
        }
    }

    fn overflow(&self) -> SendError {
        self.state
            .close_code
            .compare_exchange(0, 1013, Ordering::AcqRel, Ordering::Acquire)
            .ok();
        self.state.closed.store(true, Ordering::Release);
        self.state.overflow.store(true, Ordering::Release);
        self.notify_session();
        SendError::SlowConsumer
    }

    /// Has the session look at `state` (see [`State::notice`]).
    fn notify_session(&self) {
        self.state.notice.store(true, Ordering::Release);
        if let Some(waker) = self.out.take_waiting() {
            waker.wake();
        }
    }

    pub fn send_text(&self, text: &str) -> Result<(), SendError> {
        self.queue(Shared::text(text))
    }

    pub fn send_binary(&self, data: &[u8]) -> Result<(), SendError> {
        self.queue(Shared::binary(data))
    }

    /// Starts the close handshake; later sends fail. Never waits.
    pub fn close(&self, code: u16, reason: String) {
        if self.state.closed.swap(true, Ordering::AcqRel) {
            return;
        }
        self.state
            .close_code
            .compare_exchange(0, code as u32, Ordering::AcqRel, Ordering::Acquire)
            .ok();
        match self.out.push(Outgoing::Close(code, reason)) {
            Ok(Some(waker)) => waker.wake(),
            Ok(None) => {}
            // The queue is full: the session closes on its own notice.
            Err(_) => self.notify_session(),
        }
    }

    /// A message if one is waiting; `Ready(None)` once the session is over
    /// and its `Close` was taken.
    pub fn try_recv(&self) -> Poll<Option<Incoming>> {
        match self.inbox.take() {
            Taken::Message(m) => Poll::Ready(Some(m)),
            Taken::Ended => Poll::Ready(None),
            Taken::Empty => Poll::Pending,
        }
    }

    /// The next message (cancel-safe); `None` once the session is over.
    pub fn recv(&self) -> impl std::future::Future<Output = Option<Incoming>> + Send + 'static {
        Recv {
            inbox: self.inbox.clone(),
            id: None,
        }
    }

    /// Calls `receiver` with the next message (None once the session is over):
    /// now if one is waiting, else from the session when it reads one, on the
    /// session's thread (no task per receive). Returns the id to
    /// [`withdraw`](Self::withdraw) it by while it waits.
    pub fn recv_with(&self, receiver: Receiver) -> Option<u64> {
        self.inbox.take_or_wait(receiver)
    }

    /// Withdraws a waiting [`recv_with`](Self::recv_with) (its receive was
    /// cancelled): false when it was called already.
    pub fn withdraw(&self, id: u64) -> bool {
        self.inbox.withdraw(id)
    }

    /// The close code once the connection is closed or closing.
    pub fn close_code(&self) -> Option<u16> {
        self.state
            .closed
            .load(Ordering::Acquire)
            .then(|| self.closed_code())
    }
}

impl Drop for WsConnection {
    fn drop(&mut self) {
        // The handler is done: close normally if it did not.
        self.close(1000, String::new());
        self.inbox.abandon();
    }
}

/// Ends the inbox when dropped (see `WsUpgrade::accept`).
struct EndInbox(Arc<Inbox>);

impl Drop for EndInbox {
    fn drop(&mut self) {
        self.0.end();
    }
}

/// [`WsConnection::recv`]: cancel-safe; dropped while waiting, it withdraws.
struct Recv {
    inbox: Arc<Inbox>,
    id: Option<u64>,
}

impl std::future::Future for Recv {
    type Output = Option<Incoming>;

    fn poll(self: std::pin::Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Incoming>> {
        let this = self.get_mut();
        this.inbox.poll_take(&mut this.id, cx)
    }
}

impl Drop for Recv {
    fn drop(&mut self) {
        if let Some(id) = self.id {
            if !self.inbox.withdraw(id) {
                self.inbox.pass_on();
            }
        }
    }
}

type Stream = WebSocketStream<InflatingStream<TokioIo<hyper::upgrade::Upgraded>>>;

/// Outgoing messages written per flush at most.
const BATCH: usize = 64;

/// Turns in a row that a session takes outgoing messages before it reads
/// the socket first once (see `Session::run`).
const READ_AFTER_WRITES: u32 = 8;

/// The most tungstenite reads at a time, from the socket's own buffer
/// ([`InflatingStream`]). tungstenite zero-fills this much before every read
/// attempt, and most attempts find nothing: 1 KiB is a few vector stores,
/// where the socket-sized 8 KiB cost ~14k instructions per echo (callgrind,
/// session 8). It is below glibc's threshold for `rep stosb` (2 KiB).
const TUNGSTENITE_READ: usize = 1024;

/// Outgoing data frames gather up to this many bytes before they are written
/// (a flush writes whatever is gathered): a batch of small messages costs one
/// write system call, not one each, while a connection keeps at most this
/// much (plus one message) of buffer. tungstenite's own buffer (control
/// frames) has the same threshold.
const WRITE_BUFFER: usize = 8 * 1024;

struct Session {
    ws: Stream,
    out: Arc<SendQueue>,
    inbox: Arc<Inbox>,
    state: Arc<State>,
    config: WsConfig,
    stats: Arc<ServerStats>,
    /// Read from the socket, not yet taken by the handler's queue.
    pending: VecDeque<Incoming>,
    /// permessage-deflate was negotiated: outgoing messages are compressed.
    compressing: bool,
}

impl Drop for Session {
    /// The session is over (ended, or dropped with its runtime): later sends
    /// fail instead of queueing for nobody.
    fn drop(&mut self) {
        self.state
            .close_code
            .compare_exchange(0, 1006, Ordering::AcqRel, Ordering::Acquire)
            .ok();
        self.state.closed.store(true, Ordering::Release);
    }
}

enum Event {
    Frame(Option<Result<Message, WsError>>),
    Room,
    Out(Outgoing),
    Notice,
    Tick,
    Shutdown,
}

enum Step {
    Continue,
    /// Send this close frame (if any), then wait for the peer's reply.
    Close(u16, String),
    /// The peer is dead: send a close frame if the socket takes it, without waiting for a reply.
    Abandon(u16, String),
    /// The peer closed or vanished: end now.
    End,
}

impl Session {
    async fn run(mut self, mut shutdown: watch::Receiver<bool>) {
        let mut last_heard = Instant::now();
        let mut ping_sent = false;
        let tick = self
            .config
            .ping_interval
            .min(self.config.ping_timeout)
            .max(Duration::from_millis(10))
            / 2;
        let mut ticker = tokio::time::interval(tick);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut shutting_down = *shutdown.borrow();
        // One wait for the whole session, not a new one per turn: each would register
        // with the channel's `Notify` and unregister when dropped, on every turn.
        let shutdown_changed = shutdown.changed();
        tokio::pin!(shutdown_changed);
        let mut writes_in_a_row = 0u32;
        let step = loop {
            if shutting_down {
                break Step::Close(1001, "the server is shutting down".into());
            }
            let room = self.pending.is_empty();
            // Outgoing messages are looked at first: a session woken for them
            // (every delivery of a fan-out) then neither tries to read the
            // socket (tungstenite zeroes its whole read buffer, 8 KiB, before
            // each read attempt) nor polls the other branches. So that a
            // steady stream of sends cannot starve reading, every
            // `READ_AFTER_WRITES`th turn in a row with sends reads first.
            let read_first = writes_in_a_row >= READ_AFTER_WRITES;
            let event = tokio::select! {
                biased;
                out = std::future::poll_fn(|cx| self.out.poll_pop(cx)), if !read_first => Event::Out(out),
                frame = self.ws.next(), if room => Event::Frame(frame),
                // (A disabled branch's expression is still evaluated, so the clone waits for a poll.)
                _ = std::future::poll_fn(|cx| self.inbox.poll_room(cx)), if !room => Event::Room,
                out = std::future::poll_fn(|cx| self.out.poll_pop(cx)), if read_first => Event::Out(out),
                _ = std::future::poll_fn(|cx| poll_notice(&self.state, &self.out, cx)) => Event::Notice,
                _ = ticker.tick() => Event::Tick,
                _ = &mut shutdown_changed, if !shutting_down => Event::Shutdown,
            };
            writes_in_a_row = match event {
                Event::Out(_) if !read_first => writes_in_a_row + 1,
                _ => 0,
            };
            let step = match event {
                Event::Frame(frame) => {
                    last_heard = Instant::now();
                    ping_sent = false;
                    self.on_frame(frame).await
                }
                Event::Room => {
                    let message = self.pending.pop_front().expect("not empty");
                    if let Err(message) = self.inbox.put(message) {
                        self.pending.push_front(message);
                    }
                    Step::Continue
                }
                Event::Out(first) => self.write_batch(first).await,
                Event::Notice => self.noticed(),
                Event::Tick => {
                    if !self.pending.is_empty() {
                        // Not reading (the handler is behind): silence proves nothing.
                        last_heard = Instant::now();
                    }
                    let silent = last_heard.elapsed();
                    if silent >= self.config.ping_interval + self.config.ping_timeout {
                        self.stats.ws_dead_peers.fetch_add(1, Ordering::Relaxed);
                        Step::Abandon(1001, "no answer to ping".into())
                    } else if silent >= self.config.ping_interval && !ping_sent {
                        ping_sent = true;
                        let ping = self.ws.send(Message::Ping(Bytes::new()));
                        match guarded_write(
                            &self.state,
                            &self.out,
                            &self.stats,
                            self.config.ping_timeout,
                            ping,
                        )
                        .await
                        {
                            Ok(()) => Step::Continue,
                            Err(step) => step,
                        }
                    } else {
                        Step::Continue
                    }
                }
                Event::Shutdown => {
                    shutting_down = true;
                    Step::Continue
                }
            };
            match step {
                // The handler closed (or overflowed) while its queue was full:
                // no Close item is coming, so act once the queue is drained.
                Step::Continue if self.state.closed.load(Ordering::Acquire) => match self.noticed()
                {
                    Step::Continue => continue,
                    other => break other,
                },
                Step::Continue => continue,
                other => break other,
            }
        };
        match step {
            Step::Close(code, reason) => self.close(code, reason, true).await,
            Step::Abandon(code, reason) => self.close(code, reason, false).await,
            _ => {}
        }
        // Whatever the handler has not taken yet, it still gets, Close last.
        let pending = std::mem::take(&mut self.pending);
        for message in pending {
            std::future::poll_fn(|cx| self.inbox.poll_room(cx)).await;
            if self.inbox.put(message).is_err() {
                break;
            }
        }
    }

    /// Tells the handler the connection is over (once).
    fn deliver_close(&mut self, code: u16, reason: String) {
        self.state
            .close_code
            .compare_exchange(0, code as u32, Ordering::AcqRel, Ordering::Acquire)
            .ok();
        self.state.closed.store(true, Ordering::Release);
        if !self
            .pending
            .iter()
            .any(|m| matches!(m, Incoming::Close { .. }))
        {
            self.pending.push_back(Incoming::Close { code, reason });
        }
    }

    /// Gives a message to a waiting receive or the handler's queue at once
    /// when it has room and nothing waits before it (the common case: no extra
    /// turn of the loop per message); otherwise it waits in `pending`, which
    /// stops reading.
    fn hand_over(&mut self, message: Incoming) {
        let message = if self.pending.is_empty() {
            match self.inbox.put(message) {
                Ok(()) => return,
                Err(m) => m,
            }
        } else {
            message
        };
        self.pending.push_back(message);
    }

    async fn on_frame(&mut self, frame: Option<Result<Message, WsError>>) -> Step {
        match frame {
            Some(Ok(Message::Text(text))) => {
                self.stats
                    .ws_messages_received
                    .fetch_add(1, Ordering::Relaxed);
                self.hand_over(Incoming::Text(text.as_str().to_owned()));
                Step::Continue
            }
            Some(Ok(Message::Binary(data))) => {
                self.stats
                    .ws_messages_received
                    .fetch_add(1, Ordering::Relaxed);
                self.hand_over(Incoming::Binary(data));
                Step::Continue
            }
            Some(Ok(Message::Close(frame))) => {
                let (code, reason) = frame.map_or((1005, String::new()), |f| {
                    (u16::from(f.code), f.reason.as_str().to_owned())
                });
                self.deliver_close(code, reason);
                // tungstenite queued the reply; send it, then the peer hangs up.
                let _ = tokio::time::timeout(self.config.close_timeout, self.ws.flush()).await;
                Step::End
            }
            Some(Ok(_)) => Step::Continue, // ping (answered by tungstenite), pong, raw frame
            Some(Err(WsError::Capacity(CapacityError::MessageTooLong { .. }))) => {
                self.stats.ws_too_large.fetch_add(1, Ordering::Relaxed);
                let reason = format!(
                    "messages are limited to {} bytes",
                    self.config.max_message_size
                );
                Step::Close(1009, reason)
            }
            Some(Err(WsError::Capacity(_))) => Step::Close(1009, "message too big".into()),
            Some(Err(WsError::Utf8(_))) => {
                Step::Close(1007, "invalid UTF-8 in a text message".into())
            }
            Some(Err(WsError::Protocol(ProtocolError::ResetWithoutClosingHandshake))) => {
                self.deliver_close(1006, String::new());
                Step::End
            }
            Some(Err(WsError::Protocol(e))) => Step::Close(1002, e.to_string()),
            Some(Err(_)) | None => {
                self.deliver_close(1006, String::new());
                Step::End
            }
        }
    }

    /// The handler closed, or overflowed its send queue.
    fn noticed(&mut self) -> Step {
        if self.state.overflow.load(Ordering::Acquire) {
            self.stats.ws_slow_consumers.fetch_add(1, Ordering::Relaxed);
            return Step::Close(1013, "the client reads too slowly".into());
        }
        if self.state.closed.load(Ordering::Acquire) && self.out.is_empty() {
            let code = self.state.close_code.load(Ordering::Acquire) as u16;
            return Step::Close(if code == 0 { 1000 } else { code }, String::new());
        }
        Step::Continue
    }

    /// Writes `first` and whatever else is queued (up to a batch) with one
    /// flush: the frames, encoded by their senders, gather in the socket's
    /// write buffer ([`InflatingStream::queue_frame`]; tungstenite writes
    /// only control frames) and reach the socket in one write, not one per
    /// message. Each message leaves the send queue only when the buffer takes
    /// it, and the buffer is written out once it holds `WRITE_BUFFER` bytes,
    /// so a blocked socket leaves the rest counted against the queue's limits.
    async fn write_batch(&mut self, first: Outgoing) -> Step {
        let Session {
            ws,
            out,
            state,
            stats,
            config,
            compressing,
            ..
        } = self;
        let mut written = 0usize;
        let mut close = None;
        let feeding = async {
            // A frame of tungstenite's (a pong) may be half written: it goes first.
            ws.flush().await?;
            let mut next = Some(first);
            while let Some(item) = next.take() {
                match item {
                    Outgoing::Message(message) => {
                        state
                            .queued_bytes
                            .fetch_sub(message.payload().len(), Ordering::AcqRel);
                        let compressed = if *compressing {
                            compress(&message)
                        } else {
                            None
                        };
                        let socket = ws.get_mut();
                        socket.queue_frame(compressed.as_ref().unwrap_or(&message).frame());
                        written += 1;
                        if socket.queued() >= WRITE_BUFFER {
                            socket.flush().await?;
                        }
                    }
                    Outgoing::Close(code, reason) => {
                        close = Some((code, reason));
                        break;
                    }
                }
                if written < BATCH {
                    next = out.pop();
                }
            }
            ws.flush().await
        };
        let outcome = guarded_write(state, out, stats, config.ping_timeout, feeding).await;
        self.stats
            .ws_messages_sent
            .fetch_add(written as u64, Ordering::Relaxed);
        if let Err(step) = outcome {
            if matches!(step, Step::End) {
                self.deliver_close(1006, String::new());
            }
            return step;
        }
        match close {
            Some((code, reason)) => Step::Close(code, reason),
            None => Step::Continue,
        }
    }

    /// Sends a close frame and waits (bounded) for the peer's, if `wait_reply`.
    async fn close(&mut self, code: u16, reason: String, wait_reply: bool) {
        self.state
            .close_code
            .compare_exchange(0, code as u32, Ordering::AcqRel, Ordering::Acquire)
            .ok();
        self.state.closed.store(true, Ordering::Release);
        let frame = CloseFrame {
            code: CloseCode::from(code),
            reason: reason.clone().into(),
        };
        let limit = if wait_reply {
            self.config.close_timeout
        } else {
            Duration::from_millis(100)
        };
        let ws = &mut self.ws;
        let handshake = async {
            ws.send(Message::Close(Some(frame))).await?;
            while let Some(frame) = ws.next().await {
                if !wait_reply {
                    break;
                }
                if let Message::Close(_) = frame? {
                    break;
                }
            }
            Ok::<(), WsError>(())
        };
        let _ = tokio::time::timeout(limit, handshake).await;
        self.deliver_close(code, reason);
    }
}

/// Runs a write; a peer that takes longer than `limit` (`ping_timeout`) to make
/// room is dead, and a handler that overflows its queue meanwhile ends it with 1013.
async fn guarded_write(
    state: &State,
    out: &SendQueue,
    stats: &ServerStats,
    limit: Duration,
    op: impl std::future::Future<Output = Result<(), WsError>>,
) -> Result<(), Step> {
    let write = tokio::time::timeout(limit, op);
    tokio::pin!(write);
    let mut renotify = false;
    let outcome = loop {
        tokio::select! {
            done = &mut write => break done,
            _ = std::future::poll_fn(|cx| poll_notice(state, out, cx)) => {
                if state.overflow.load(Ordering::Acquire) {
                    stats.ws_slow_consumers.fetch_add(1, Ordering::Relaxed);
                    return Err(Step::Close(1013, "the client reads too slowly".into()));
                }
                renotify = true; // a close request: handled after this write
            }
        }
    };
    if renotify {
        state.notice.store(true, Ordering::Release);
    }
    match outcome {
        Ok(Ok(())) => Ok(()),
        Ok(Err(_)) => Err(Step::End),
        Err(_) => {
            stats.ws_dead_peers.fetch_add(1, Ordering::Relaxed);
            Err(Step::End)
        }
    }
}

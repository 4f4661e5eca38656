//! `hyperdjango._core.Server`: the engine's HTTP server driven from an asyncio loop.
//!
//! Tokio threads never take the GIL. A routed request goes into a bounded
//! [`LoopQueue`](hyperdjango_engine::bridge) and the loop is woken through an
//! eventfd at most once per batch; the loop drains [`PendingRequest`]s and
//! answers each one synchronously with `respond`, which completes a oneshot.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use http::StatusCode;
use hyperdjango_engine::bridge::{loop_queue, LoopReceiver, LoopSender, LoopWaker};
use hyperdjango_engine::http::Server as EngineServer;
use hyperdjango_engine::http::{Handler, HttpRequest, Reply, ServerConfig};
use hyperdjango_engine::websocket::WsConfig;
use pyo3::exceptions::{PyOSError, PyRuntimeError};
use pyo3::prelude::*;
use pyo3::types::PyDict;
use tokio::runtime::Runtime;
use tokio::sync::oneshot;
use tokio_util::sync::CancellationToken;

use crate::completion::runtime;
use crate::request::PendingRequest;
use crate::router::Router;

/// A request on its way to Python and the way back for its reply.
pub(crate) struct Exchange {
    /// Boxed: the request is moved through the queue, the batch and into its
    /// `PendingRequest`; a pointer is copied instead of the whole request.
    pub request: Box<HttpRequest>,
    pub reply: oneshot::Sender<Reply>,
    /// Cancelled when the client goes away before the reply is handed over.
    pub gone: CancellationToken,
}

/// Cancels its token when dropped armed: hyper dropped the request's future
/// because the client went away.
struct DisconnectGuard(Option<CancellationToken>);

impl Drop for DisconnectGuard {
    fn drop(&mut self) {
        if let Some(token) = self.0.take() {
            token.cancel();
        }
    }
}

struct BridgeHandler {
    queue: LoopSender<Exchange>,
}

impl Handler for BridgeHandler {
    async fn handle(&self, request: Box<HttpRequest>) -> Reply {
        let (tx, rx) = oneshot::channel();
        let gone = CancellationToken::new();
        let mut guard = DisconnectGuard(Some(gone.clone()));
        let reply = if self
            .queue
            .send_batched(Exchange {
                request,
                reply: tx,
                gone,
            })
            .await
            .is_err()
        {
            Reply::full(
                StatusCode::SERVICE_UNAVAILABLE,
                "the server is shutting down",
            )
        } else {
            match rx.await {
                Ok(reply) => reply,
                // The Python side dropped the request: a bug there, never a hang here.
                Err(_) => Reply::full(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "the request was dropped without a response",
                ),
            }
        };
        guard.0 = None;
        reply
    }
}

struct Running {
    runtime: Runtime,
    server: Arc<EngineServer>,
}

/// The HTTP server of one worker process.
#[pyclass(module = "hyperdjango._core", frozen)]
pub struct Server {
    config: ServerConfig,
    io_threads: usize,
    router: Arc<hyperdjango_engine::router::Router>,
    waker: Arc<LoopWaker>,
    sender: LoopSender<Exchange>,
    receiver: Mutex<LoopReceiver<Exchange>>,
    running: Mutex<Option<Running>>,
    /// Cancelled by `release_workers`: `next_request` returns None from then on.
    workers_released: CancellationToken,
}

#[pymethods]
impl Server {
    #[new]
    #[pyo3(signature = (
        router, *, host = "127.0.0.1".to_string(), port = 8000, reuse_port = true, backlog = 1024,
        max_body_size = 10 * 1024 * 1024, max_header_size = 64 * 1024, header_timeout = 30.0,
        keepalive_timeout = 5.0, max_connections = 10_000, queue_size = 1024, io_threads = 1,
        server_name = "hyperdjango".to_string(), ws_max_message_size = 1024 * 1024, ws_send_queue = 1024,
        ws_send_queue_bytes = 16 * 1024 * 1024, ws_ping_interval = 20.0, ws_ping_timeout = 20.0, ws_allowed_origins = None,
        ws_compression = false, allowed_hosts = None, redirects_in_python = false,
        stream_bodies = false
    ))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        router: &Router,
        host: String,
        port: u16,
        reuse_port: bool,
        backlog: u32,
        max_body_size: usize,
        max_header_size: usize,
        header_timeout: f64,
        keepalive_timeout: f64,
        max_connections: usize,
        queue_size: usize,
        io_threads: usize,
        server_name: String,
        ws_max_message_size: usize,
        ws_send_queue: usize,
        ws_send_queue_bytes: usize,
        ws_ping_interval: f64,
        ws_ping_timeout: f64,
        ws_allowed_origins: Option<Vec<String>>,
        ws_compression: bool,
        allowed_hosts: Option<Vec<String>>,
        redirects_in_python: bool,
        stream_bodies: bool,
    ) -> PyResult<Self> {
        let waker = Arc::new(LoopWaker::new().map_err(|e| PyOSError::new_err(e.to_string()))?);
        let (sender, receiver) = loop_queue(queue_size, waker.clone());
        Ok(Server {
            config: ServerConfig {
                host,
                port,
                reuse_port,
                backlog,
                max_body_size,
                max_header_size,
                header_timeout: Duration::from_secs_f64(header_timeout),
                keepalive_timeout: Duration::from_secs_f64(keepalive_timeout),
                max_connections,
                server_name,
                websocket: WsConfig {
                    max_message_size: ws_max_message_size,
                    send_queue: ws_send_queue,
                    send_queue_bytes: ws_send_queue_bytes,
                    ping_interval: Duration::from_secs_f64(ws_ping_interval),
                    ping_timeout: Duration::from_secs_f64(ws_ping_timeout),
                    allowed_origins: ws_allowed_origins,
                    compression: ws_compression,
                    ..WsConfig::default()
                },
                allowed_hosts,
                redirects_in_python,
                stream_bodies,
            },
            io_threads: io_threads.max(1),
            router: router.freeze(),
            waker,
            sender,
            receiver: Mutex::new(receiver),
            running: Mutex::new(None),
            workers_released: CancellationToken::new(),
        })
    }

    /// Binds and starts serving on tokio threads; returns (host, port) actually bound.
    fn start(&self, py: Python<'_>) -> PyResult<(String, u16)> {
        let mut running = self.running.lock().unwrap_or_else(|e| e.into_inner());
        if running.is_some() {
            return Err(PyRuntimeError::new_err("the server is already running"));
        }
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(self.io_threads)
            .thread_name("hyperdjango-io")
            .enable_all()
            .build()
            .map_err(|e| PyOSError::new_err(e.to_string()))?;
        let handler = Arc::new(BridgeHandler {
            queue: self.sender.clone(),
        });
        let config = self.config.clone();
        let router = self.router.clone();
        let server = py
            .detach(|| runtime.block_on(EngineServer::start(config, router, handler)))
            .map_err(|e| {
                PyOSError::new_err(format!(
                    "cannot listen on {}:{}: {e}",
                    self.config.host, self.config.port
                ))
            })?;
        let addr: SocketAddr = server.local_addr();
        *running = Some(Running {
            runtime,
            server: Arc::new(server),
        });
        Ok((addr.ip().to_string(), addr.port()))
    }

    /// The descriptor the loop watches; readable when requests are waiting.
    fn fileno(&self) -> i32 {
        self.waker.fd()
    }

    /// Takes up to `max` waiting requests. Fewer than `max` means the queue is
    /// empty and the next request will make `fileno()` readable.
    #[pyo3(signature = (max = 256))]
    fn drain(&self, max: usize) -> Vec<PendingRequest> {
        self.waker.take();
        let batch = self
            .receiver
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .drain(max);
        batch.into_iter().map(PendingRequest::new).collect()
    }

    /// For worker threads that take requests themselves instead of the loop (a
    /// WSGI pool): waits without the GIL for the next request. The engine wakes
    /// the waiting thread directly, with no event loop in between. One thread
    /// waits in the queue at a time, the others wait for their turn. None once
    /// `release_workers()` was called.
    fn next_request(&self, py: Python<'_>) -> Option<PendingRequest> {
        let released = self.workers_released.clone();
        let exchange = py.detach(|| {
            let mut receiver = self.receiver.lock().unwrap_or_else(|e| e.into_inner());
            runtime().block_on(async {
                tokio::select! {
                    biased;
                    _ = released.cancelled() => None,
                    exchange = receiver.recv() => exchange,
                }
            })
        })?;
        Some(PendingRequest::new(exchange))
    }

    /// Makes every `next_request`, waiting now or called later, return None.
    fn release_workers(&self) {
        self.workers_released.cancel();
    }

    /// Stops accepting, waits up to `grace` seconds for in-flight requests and
    /// stops the tokio threads. Blocks: call it from a worker thread while the
    /// loop keeps answering. Returns whether everything finished in time.
    fn shutdown(&self, py: Python<'_>, grace: f64) -> bool {
        let taken = self
            .running
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        let Some(Running { runtime, server }) = taken else {
            return true;
        };
        py.detach(|| {
            let finished = runtime.block_on(server.shutdown(Duration::from_secs_f64(grace)));
            runtime.shutdown_timeout(Duration::from_secs(1));
            finished
        })
    }

    /// Counters: connections, requests, rejections, and the request queue.
    fn stats<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let dict = PyDict::new(py);
        if let Some(running) = &*self.running.lock().unwrap_or_else(|e| e.into_inner()) {
            for (name, value) in running.server.stats().snapshot() {
                dict.set_item(name, value)?;
            }
        }
        // A worker waiting in `next_request` holds the receiver: the queue is empty then.
        let queued = match self.receiver.try_lock() {
            Ok(receiver) => receiver.len(),
            Err(std::sync::TryLockError::Poisoned(e)) => e.into_inner().len(),
            Err(std::sync::TryLockError::WouldBlock) => 0,
        };
        dict.set_item("queued", queued)?;
        Ok(dict)
    }
}

//! The listener, the accept loop and shutdown.

use std::io;
use std::net::{SocketAddr, ToSocketAddrs};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use http::header::HeaderValue;
use socket2::{Domain, Protocol, Socket, Type};
use tokio::net::TcpListener;
use tokio::sync::{watch, Semaphore};
use tokio_util::task::TaskTracker;

use super::connection::serve_connection;
use super::service::Shared;
use super::stats::ServerStats;
use super::{Handler, ServerConfig};
use crate::router::Router;

/// A running server. Dropping it does not stop it: call [`Server::shutdown`].
pub struct Server {
    local_addr: SocketAddr,
    stats: Arc<ServerStats>,
    graceful: watch::Sender<bool>,
    force: watch::Sender<bool>,
    connections: TaskTracker,
}

/// Binds a listening socket as the config says (SO_REUSEPORT for workers).
fn bind(config: &ServerConfig) -> io::Result<std::net::TcpListener> {
    let addr = (config.host.as_str(), config.port)
        .to_socket_addrs()?
        .next()
        .ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("cannot resolve {}", config.host),
            )
        })?;
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
    socket.set_reuse_address(true)?;
    if config.reuse_port {
        socket.set_reuse_port(true)?;
    }
    socket.set_nonblocking(true)?;
    socket.bind(&addr.into())?;
    socket.listen(config.backlog as i32)?;
    Ok(socket.into())
}

impl Server {
    /// Binds and starts accepting on the current tokio runtime.
    pub async fn start<H: Handler>(
        config: ServerConfig,
        router: Arc<Router>,
        handler: Arc<H>,
    ) -> io::Result<Server> {
        let listener = TcpListener::from_std(bind(&config)?)?;
        let local_addr = listener.local_addr()?;
        let stats = Arc::new(ServerStats::default());
        let (graceful, graceful_rx) = watch::channel(false);
        let (force, force_rx) = watch::channel(false);
        let connections = TaskTracker::new();
        let server_header = HeaderValue::from_str(&config.server_name).map_err(|_| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                "server_name is not a valid header value",
            )
        })?;
        let limit = Arc::new(Semaphore::new(config.max_connections.max(1)));
        let shared = Arc::new(Shared {
            config,
            router,
            handler,
            stats: stats.clone(),
            server_header,
            sessions: connections.clone(),
            graceful: graceful_rx.clone(),
        });
        let tracker = connections.clone();
        let mut stop = graceful_rx.clone();
        connections.spawn(async move {
            loop {
                let permit = tokio::select! {
                    p = limit.clone().acquire_owned() => p.expect("the semaphore is never closed"),
                    _ = stop.changed() => break,
                };
                let accepted = tokio::select! {
                    a = listener.accept() => a,
                    _ = stop.changed() => break,
                };
                match accepted {
                    Ok((stream, peer)) => {
                        let _ = stream.set_nodelay(true);
                        shared
                            .stats
                            .connections_accepted
                            .fetch_add(1, Ordering::Relaxed);
                        shared
                            .stats
                            .connections_active
                            .fetch_add(1, Ordering::Relaxed);
                        let shared = shared.clone();
                        let (graceful, force) = (graceful_rx.clone(), force_rx.clone());
                        tracker.spawn(async move {
                            let stats = shared.stats.clone();
                            serve_connection(stream, peer, shared, permit, graceful, force).await;
                            stats.connections_active.fetch_sub(1, Ordering::Relaxed);
                        });
                    }
                    Err(_) => {
                        // Usually EMFILE: back off instead of spinning.
                        shared.stats.accept_errors.fetch_add(1, Ordering::Relaxed);
                        tokio::time::sleep(Duration::from_millis(10)).await;
                    }
                }
            }
            // The listener is dropped here: new clients are refused from now on.
        });
        Ok(Server {
            local_addr,
            stats,
            graceful,
            force,
            connections,
        })
    }

    /// The address the server listens on (the real port when 0 was asked for).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    pub fn stats(&self) -> &Arc<ServerStats> {
        &self.stats
    }

    /// Stops accepting, lets in-flight requests finish for up to `grace`,
    /// then drops what is left. Returns whether everything finished in time.
    pub async fn shutdown(&self, grace: Duration) -> bool {
        let _ = self.graceful.send(true);
        self.connections.close();
        let finished = tokio::time::timeout(grace, self.connections.wait())
            .await
            .is_ok();
        if !finished {
            let _ = self.force.send(true);
            self.connections.wait().await;
        }
        finished
    }
}

//! Server settings and their defaults.

use std::time::Duration;

use crate::websocket::WsConfig;

/// Everything the HTTP server can be told; `Default` gives production defaults.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    pub host: String,
    pub port: u16,
    /// Bind with SO_REUSEPORT so several worker processes share the port.
    pub reuse_port: bool,
    pub backlog: u32,
    /// Largest request body; a larger one is answered 413 without reading it all.
    pub max_body_size: usize,
    /// Largest header section; a larger one is answered 431.
    pub max_header_size: usize,
    /// How long a client may take to send the header section (and the body) of a request: 408.
    pub header_timeout: Duration,
    /// How long an idle keep-alive connection stays open.
    pub keepalive_timeout: Duration,
    /// Connections served at once; further clients wait in the listen backlog.
    pub max_connections: usize,
    /// The value of the `Server` header.
    pub server_name: String,
    /// Limits and timers of WebSocket sessions.
    pub websocket: WsConfig,
    /// Host header patterns answered (Django's `ALLOWED_HOSTS` rules); others get 400
    /// before the request reaches Python. None: any host.
    pub allowed_hosts: Option<Vec<String>>,
    /// Hand trailing-slash redirects to Python (through the middleware) instead of
    /// answering them here.
    pub redirects_in_python: bool,
    /// Hand requests over before their body is read: the handler pulls it
    /// from `HttpRequest::body_stream` (ASGI and WSGI apps), under the same limits.
    pub stream_bodies: bool,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            host: "127.0.0.1".to_string(),
            port: 8000,
            reuse_port: true,
            backlog: 1024,
            max_body_size: 10 * 1024 * 1024,
            max_header_size: 64 * 1024,
            header_timeout: Duration::from_secs(30),
            keepalive_timeout: Duration::from_secs(5),
            max_connections: 10_000,
            server_name: "hyperdjango".to_string(),
            websocket: WsConfig::default(),
            allowed_hosts: None,
            redirects_in_python: false,
            stream_bodies: false,
        }
    }
}

//! WebSocket settings and their defaults.

use std::time::Duration;

/// Limits and timers of every WebSocket session of a server.
#[derive(Debug, Clone)]
pub struct WsConfig {
    /// Largest message (after reassembling fragments); a larger one closes with 1009.
    pub max_message_size: usize,
    /// Outgoing messages a connection may have queued; a sender that finds the
    /// queue full closes the connection with 1013 (a slow consumer).
    pub send_queue: usize,
    /// Outgoing bytes a connection may have queued (same rule as `send_queue`).
    pub send_queue_bytes: usize,
    /// Incoming messages read ahead of the handler; when full the socket is not read.
    pub receive_queue: usize,
    /// A ping goes out after this long without traffic from the peer.
    pub ping_interval: Duration,
    /// A peer silent this long after a ping is dead: the connection closes with 1001.
    pub ping_timeout: Duration,
    /// Bytes read from the socket at once, into a buffer that is not
    /// zero-filled; tungstenite takes them from there a little at a time.
    pub read_buffer_size: usize,
    /// How long the close handshake may take before the socket is dropped.
    pub close_timeout: Duration,
    /// When set, an upgrade whose `Origin` header is not in this list (exact
    /// `scheme://host[:port]`, or `*`) is refused with 403. Requests without
    /// an `Origin` (non-browser clients) are not affected.
    pub allowed_origins: Option<Vec<String>>,
    /// Negotiate permessage-deflate (RFC 7692) with clients that offer it.
    /// Off by default: it costs CPU on the I/O thread for every message of
    /// 128 bytes or more and ~40 KiB of inflater per connection that uses it.
    pub compression: bool,
}

impl Default for WsConfig {
    fn default() -> Self {
        WsConfig {
            max_message_size: 1024 * 1024,
            send_queue: 1024,
            send_queue_bytes: 16 * 1024 * 1024,
            receive_queue: 64,
            ping_interval: Duration::from_secs(20),
            ping_timeout: Duration::from_secs(20),
            read_buffer_size: 8 * 1024,
            close_timeout: Duration::from_secs(5),
            allowed_origins: None,
            compression: false,
        }
    }
}

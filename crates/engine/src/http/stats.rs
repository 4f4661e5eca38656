//! Counters a running server keeps; read them any time, from any thread.

use std::sync::atomic::{AtomicU64, Ordering};

#[derive(Debug, Default)]
pub struct ServerStats {
    pub connections_accepted: AtomicU64,
    pub connections_active: AtomicU64,
    /// Keep-alive connections parked now: idle, with hyper's state and buffers dropped.
    pub connections_parked: AtomicU64,
    pub requests: AtomicU64,
    /// Requests refused with 400 before reaching a handler.
    pub bad_requests: AtomicU64,
    /// Requests refused with 413.
    pub too_large: AtomicU64,
    /// Slow header sections or bodies answered with 408.
    pub timeouts: AtomicU64,
    /// Times `accept` failed (for example out of file descriptors).
    pub accept_errors: AtomicU64,
    /// WebSocket upgrades accepted.
    pub ws_connections: AtomicU64,
    /// WebSocket sessions open now.
    pub ws_active: AtomicU64,
    pub ws_messages_received: AtomicU64,
    pub ws_messages_sent: AtomicU64,
    /// Connections closed with 1013 because their send queue overflowed.
    pub ws_slow_consumers: AtomicU64,
    /// Connections closed with 1009 for a message over `max_message_size`.
    pub ws_too_large: AtomicU64,
    /// Connections closed because the peer stopped answering (1001).
    pub ws_dead_peers: AtomicU64,
}

impl ServerStats {
    /// A snapshot as (name, value) pairs.
    pub fn snapshot(&self) -> Vec<(&'static str, u64)> {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        vec![
            ("connections_accepted", get(&self.connections_accepted)),
            ("connections_active", get(&self.connections_active)),
            ("connections_parked", get(&self.connections_parked)),
            ("requests", get(&self.requests)),
            ("bad_requests", get(&self.bad_requests)),
            ("too_large", get(&self.too_large)),
            ("timeouts", get(&self.timeouts)),
            ("accept_errors", get(&self.accept_errors)),
            ("ws_connections", get(&self.ws_connections)),
            ("ws_active", get(&self.ws_active)),
            ("ws_messages_received", get(&self.ws_messages_received)),
            ("ws_messages_sent", get(&self.ws_messages_sent)),
            ("ws_slow_consumers", get(&self.ws_slow_consumers)),
            ("ws_too_large", get(&self.ws_too_large)),
            ("ws_dead_peers", get(&self.ws_dead_peers)),
        ]
    }
}

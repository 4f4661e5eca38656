//! Counters a running server keeps; read them any time, from any thread.

use std::sync::atomic::{AtomicU64, Ordering};

#[derive(Debug, Default)]
pub struct ServerStats {
    pub connections_accepted: AtomicU64,
    pub connections_active: AtomicU64,
    pub requests: AtomicU64,
    /// Requests refused with 400 before reaching a handler.
    pub bad_requests: AtomicU64,
    /// Requests refused with 413.
    pub too_large: AtomicU64,
    /// Slow header sections or bodies answered with 408.
    pub timeouts: AtomicU64,
    /// Times `accept` failed (for example out of file descriptors).
    pub accept_errors: AtomicU64,
}

impl ServerStats {
    /// A snapshot as (name, value) pairs.
    pub fn snapshot(&self) -> Vec<(&'static str, u64)> {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        vec![
            ("connections_accepted", get(&self.connections_accepted)),
            ("connections_active", get(&self.connections_active)),
            ("requests", get(&self.requests)),
            ("bad_requests", get(&self.bad_requests)),
            ("too_large", get(&self.too_large)),
            ("timeouts", get(&self.timeouts)),
            ("accept_errors", get(&self.accept_errors)),
        ]
    }
}

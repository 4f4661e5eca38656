//! hyperdjango's engine: everything that does not need Python.
//!
//! - [`router`]: route patterns with typed parameters.
//! - [`http`]: the HTTP/1.1 server with its limits and graceful shutdown.
//! - [`websocket`]: WebSocket sessions on the HTTP port.
//! - [`db`]: PostgreSQL and SQLite drivers with one value and error vocabulary.
//! - [`passwords`]: argon2id hashing and the verification of argon2 and bcrypt
//!   hashes (CPU- and memory-heavy: callers run it off their event loop).
//! - [`redis`]: the channel layer's Redis pub/sub subscriber and pipelined commands.
//! - [`bridge`]: bounded queues that hand work to an event-loop thread with
//!   one wake-up per batch.
//! - `fuzzing` (feature `fuzzing`): internals re-exported for the fuzz targets in `fuzz/`.
//!
//! The bindings crate puts a Python face on these; this crate has no PyO3 and
//! is tested and benchmarked with plain `cargo`.

pub mod bridge;
pub mod db;
#[cfg(feature = "fuzzing")]
pub mod fuzzing;
pub mod http;
pub mod passwords;
pub mod redis;
pub mod router;
pub mod websocket;

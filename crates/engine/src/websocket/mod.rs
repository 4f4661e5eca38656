//! WebSockets on the HTTP port (RFC 6455, with tokio-tungstenite).
//!
//! The HTTP service recognises an upgrade request ([`handshake::upgrade_of`]),
//! routes it with the `WEBSOCKET` method and hands it to the handler with a
//! [`WsUpgrade`] attached. The handler either answers with any other reply
//! (a rejection, e.g. 403) or calls [`WsUpgrade::accept`], which gives it the
//! `101 Switching Protocols` reply to return and a [`WsConnection`]: a bounded
//! queue of outgoing messages and a queue of incoming ones. The session itself
//! (frames, ping/pong, keepalive, close handshake, limits) runs in a tokio task
//! of its own ([`session`]).
//!
//! [`broadcast`] queues one message, encoded once, on many connections.
//!
//! permessage-deflate (RFC 7692) is negotiated when `WsConfig::compression`
//! is on ([`deflate`]).

mod broadcast;
mod config;
pub(crate) mod deflate;
mod handshake;
mod inbox;
mod session;

pub use broadcast::{broadcast, Shared};
pub use config::WsConfig;
pub use deflate::{negotiate, DeflateOffer};
pub use handshake::{accept_key, upgrade_of, HandshakeError};
pub use inbox::Receiver;
pub use session::{Incoming, SendError, Wakeups, WsConnection, WsUpgrade};
